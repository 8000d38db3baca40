/*!
Who plays which part in the planted scenes: chosen from the organisation by role and habits, so
that each scene means what it says (an "ordinary user" has never administered anything, the
travellers use the console from phones anyway, ...).
*/

use super::super::org::{CORPORATE_NETWORKS, Org};

/// The people the plant casts, chosen from the organisation by role and habits.
pub(super) struct Cast {
    pub(super) admins: [usize; 4],
    /// Analysts 2-5 (analyst 1 works late and is left to the background).
    pub(super) analysts: [usize; 4],
    /// An ordinary user in the office who never held an admin role and never administered.
    pub(super) user: usize,
    /// Ordinary users who receive the planted role grants.
    pub(super) grantees: [usize; 5],
    /// Six ordinary users who also use the console from their phones.
    pub(super) travellers: [usize; 6],
}

impl Cast {
    pub(super) fn of(org: &Org) -> Cast {
        let at = |v: &[usize], i: usize| v.get(i).or(v.last()).copied().unwrap_or(0);
        let admins = [0, 1, 2, 3].map(|i| at(&org.admins, i));
        let analysts = [1, 2, 3, 4].map(|i| at(&org.analysts, i));
        // Ordinary staff, most active first (they have the longest history to judge against).
        let mut plain: Vec<usize> = org
            .staff
            .iter()
            .copied()
            .filter(|i| !org.admins.contains(i) && !org.analysts.contains(i))
            .collect();
        plain.sort_by(|&a, &b| {
            org.people[b]
                .activity
                .total_cmp(&org.people[a].activity)
                .then(a.cmp(&b))
        });
        let corporate: Vec<ipnet::IpNet> = CORPORATE_NETWORKS
            .iter()
            .filter_map(|n| n.parse().ok())
            .collect();
        let in_office = |i: usize| {
            org.people[i]
                .ips
                .first()
                .and_then(|a| a.parse::<std::net::IpAddr>().ok())
                .is_some_and(|a| corporate.iter().any(|n| n.contains(&a)))
        };
        // Background revocations concern odd staff positions, grants even ones (see the role
        // builder): the user is odd, so no background grant ever made them an administrator.
        let position = |i: usize| org.staff.iter().position(|&s| s == i).unwrap_or(0);
        let user = plain
            .iter()
            .copied()
            .find(|&i| position(i) % 2 == 1 && in_office(i))
            .unwrap_or_else(|| at(&plain, 0));
        let rest: Vec<usize> = plain.iter().copied().filter(|&i| i != user).collect();
        let travellers_pool: Vec<usize> = rest
            .iter()
            .copied()
            .filter(|&i| org.people[i].roam > 0.0)
            .collect();
        let travellers = [0, 1, 2, 3, 4, 5].map(|k| at(&travellers_pool, k));
        let others: Vec<usize> = rest
            .iter()
            .copied()
            .filter(|i| !travellers.contains(i))
            .collect();
        let grantees = [0, 1, 2, 3, 4].map(|k| at(&others, k));
        Cast {
            admins,
            analysts,
            user,
            grantees,
            travellers,
        }
    }
}
