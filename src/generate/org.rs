/*!
The synthetic organisation behind a generated data set: employees with stable ids, usual client
addresses and browsers; the admins, security analysts, API clients, the Code42 support user, SYSTEM
and the SCIM provisioning actor; and the objects they act on (alert rules, watchlists, roles, ...).

Everything is derived from the seed and the data set's volume alone, so every day of the data set
(generated independently) sees the same people. A larger volume comes from a proportionally larger
organisation, not from the same people clicking more: per-person activity (logins a day, an
analyst's searches a week, an administrator's changes a day) stays realistic at any size, and so
do the analyses' per-person thresholds. Nothing here knows about event types or output formats.

Where people connect from is modelled on purpose, because the unusual-IP analysis judges it:
- administrators and analysts work through the VPN, so all their addresses are corporate
  ([`CORPORATE_NETWORKS`]);
- other staff work from the office (a corporate address), remotely (a home address, IPv4 or IPv6,
  outside the corporate networks) or, when they use the console often, both (hybrid);
- most staff also use the console from a phone now and then: mobile networks give an address used
  once and never again (`roam`), the routine single-use addresses the unusual-IP analysis expects.
*/

use std::collections::HashSet;
use std::net::Ipv6Addr;

use super::rng::{Rng, Weighted, derive};

/// How an actor is spelled in the API's `actorType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    User,
    Support,
    ApiClient,
    System,
}

impl Kind {
    /// The API spelling (`USER`, ...).
    pub fn api(self) -> &'static str {
        match self {
            Kind::User => "USER",
            Kind::Support => "SUPPORT_USER",
            Kind::ApiClient => "API_CLIENT",
            Kind::System => "SYSTEM",
        }
    }

    /// The console spelling (`User`, `Code42 support user`, ...).
    pub fn console(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Support => "Code42 support user",
            Kind::ApiClient => "API client",
            Kind::System => "System",
        }
    }
}

/// Someone (or something) that appears in events, as actor or as affected user.
#[derive(Debug, Clone)]
pub struct Person {
    /// `actorName` / `userName`: an email, `SYSTEM`, or an API key name.
    pub name: String,
    /// `actorId` / `userId`.
    pub id: String,
    pub kind: Kind,
    /// "First Last" (empty for non-humans).
    pub display: String,
    /// Usual client addresses, most used first (empty for SYSTEM).
    pub ips: Vec<String>,
    /// Usual user agents, most used first.
    pub agents: Vec<&'static str>,
    /// Probability that an action of a weekday falls outside business hours (09:00-17:00 UTC).
    pub off_hours: f64,
    /// Relative activity (heavy users log in more).
    pub activity: f64,
    /// Probability that an action comes from a one-off address (a phone on a mobile network).
    pub roam: f64,
    /// Share of the other actions made from an address after the first of `ips`.
    pub second_share: f64,
}

/// An alert rule of the organisation.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub name: &'static str,
}

/// A watchlist of the organisation.
#[derive(Debug, Clone)]
pub struct Watchlist {
    pub id: String,
    pub kind: &'static str,
}

/// The organisation: people by role (indices into `people`) and the objects they act on.
#[derive(Debug)]
pub struct Org {
    pub people: Vec<Person>,
    /// Everyone with a console account who logs in (employees, admins, analysts).
    pub staff: Vec<usize>,
    pub staff_weights: Weighted,
    pub admins: Vec<usize>,
    pub analysts: Vec<usize>,
    pub analyst_weights: Weighted,
    pub api_clients: Vec<usize>,
    /// Accounts created during the range (affected users of `user_registered`).
    pub new_hires: Vec<usize>,
    pub support: usize,
    pub system: usize,
    pub scim: usize,
    pub rules: Vec<Rule>,
    pub watchlists: Vec<Watchlist>,
    /// Cases that exist before the range starts (case numbers `1..=existing_cases`).
    pub existing_cases: u64,
    /// Proxies that appear as the second address of a chain.
    pub proxies: Vec<String>,
}

const FIRST: &[&str] = &[
    "james",
    "mary",
    "robert",
    "patricia",
    "john",
    "jennifer",
    "michael",
    "linda",
    "david",
    "elizabeth",
    "william",
    "barbara",
    "richard",
    "susan",
    "joseph",
    "jessica",
    "thomas",
    "sarah",
    "charles",
    "karen",
    "christopher",
    "lisa",
    "daniel",
    "nancy",
    "matthew",
    "betty",
    "anthony",
    "sandra",
    "mark",
    "margaret",
    "donald",
    "ashley",
    "steven",
    "kimberly",
    "andrew",
    "emily",
    "paul",
    "donna",
    "joshua",
    "michelle",
    "kenneth",
    "carol",
    "kevin",
    "amanda",
    "brian",
    "melissa",
    "george",
    "deborah",
    "timothy",
    "stephanie",
    "ronald",
    "rebecca",
    "jason",
    "sharon",
    "ryan",
    "laura",
    "jacob",
    "cynthia",
    "gary",
    "amy",
    "nicholas",
    "kathleen",
    "eric",
    "angela",
    "jonathan",
    "shirley",
    "priya",
    "wei",
    "fatima",
    "mohammed",
    "olga",
    "kenji",
    "aisha",
    "luis",
    "sofia",
    "mateo",
    "chloe",
    "noah",
];

const LAST: &[&str] = &[
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "garcia",
    "miller",
    "davis",
    "rodriguez",
    "martinez",
    "hernandez",
    "lopez",
    "gonzalez",
    "wilson",
    "anderson",
    "thomas",
    "taylor",
    "moore",
    "jackson",
    "martin",
    "lee",
    "perez",
    "thompson",
    "white",
    "harris",
    "sanchez",
    "clark",
    "ramirez",
    "lewis",
    "robinson",
    "walker",
    "young",
    "allen",
    "king",
    "wright",
    "scott",
    "torres",
    "nguyen",
    "hill",
    "flores",
    "green",
    "adams",
    "nelson",
    "baker",
    "hall",
    "rivera",
    "campbell",
    "mitchell",
    "carter",
    "roberts",
    "patel",
    "kim",
    "chen",
    "schmidt",
    "muller",
    "kowalski",
    "ivanova",
    "tanaka",
    "okafor",
    "haddad",
    "obrien",
    "lindqvist",
    "rossi",
    "dubois",
    "silva",
];

/// Browser user agents for console users. Several contain commas, as real ones do.
pub const BROWSERS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:124.0) Gecko/20100101 Firefox/124.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36 Edg/123.0.2420.65",
    "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0",
];

/// User agents of API clients.
pub const API_AGENTS: &[&str] = &[
    "py42 1.17.0 python 3.7.10",
    "Apache-HttpAsyncClient/4.1.4 (Java/11.0.3)",
    "incydr/2.1.0 python/3.11.4",
];

const SCIM_AGENT: &str = "Azure AD SCIM provisioning (Microsoft.Online.Provisioning)";

/// First octets of public ranges used for home and travel addresses.
const HOME_OCTETS: &[u8] = &[
    24, 50, 67, 68, 71, 73, 75, 76, 96, 97, 98, 99, 107, 108, 173, 174, 184, 207,
];

pub const RULE_NAMES: &[&str] = &[
    "Departing employee exfiltration",
    "Source code to personal cloud",
    "Removable media - high volume",
    "Sensitive files to webmail",
    "Executive data movement",
    "New employee uploads",
    "Contractor file activity",
    "Salesforce export to USB",
    "Zip files to untrusted domains",
    "Flight risk - cloud sync",
    "Off-hours bulk download",
    "PCI data, external share",
];

const WATCHLIST_TYPES: &[&str] = &[
    "DEPARTING_EMPLOYEE",
    "HIGH_IMPACT_EMPLOYEE",
    "NEW_EMPLOYEE",
    "FLIGHT_RISK",
    "PERFORMANCE_CONCERNS",
    "ELEVATED_ACCESS_PRIVILEGES",
    "POOR_SECURITY_PRACTICES",
    "SUSPICIOUS_SYSTEM_ACTIVITY",
    "CONTRACT_EMPLOYEE",
];

/// Stream ids for [`derive`], one per independent use of the seed.
const ORG_STREAM: u64 = 0x006f_7267;

/// The networks of the organisation's offices and VPN egress: the allowlist its auditor configures.
pub const CORPORATE_NETWORKS: &[&str] = &["203.0.113.0/24", "198.51.100.0/24"];

/// Events per day for which the organisation has its base size (150-300 staff, 7-14 analysts,
/// 4-7 administrators); `Org::new` scales it by the data set's events per day over this.
pub const REFERENCE_EVENTS_PER_DAY: f64 = 50_000.0 / 28.0;

/// The smallest organisation generated, whatever the volume: enough analysts for peer comparisons.
const MIN_STAFF: usize = 60;
const MIN_ANALYSTS: usize = 8;
const MIN_ADMINS: usize = 4;
/// The largest: keeps very large volumes (billions of events) from allocating absurd populations.
const MAX_STAFF: usize = 2_000_000;
/// Staff per security analyst and per administrator.
const STAFF_PER_ANALYST: f64 = 20.0;
const STAFF_PER_ADMIN: f64 = 45.0;

/// Lowercase hex digits from `rng`.
pub fn hex(rng: &mut Rng, n: usize) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    (0..n)
        .map(|_| DIGITS[rng.below(16) as usize] as char)
        .collect()
}

/// A random UUID-like identifier (version 4 layout).
pub fn uuid(rng: &mut Rng) -> String {
    format!(
        "{}-{}-4{}-{}{}-{}",
        hex(rng, 8),
        hex(rng, 4),
        hex(rng, 3),
        rng.pick(&["8", "9", "a", "b"]),
        hex(rng, 3),
        hex(rng, 12)
    )
}

/// An 18-digit numeric-looking id, as Code42 gives users.
pub fn numeric_id(rng: &mut Rng) -> String {
    rng.range(800_000_000_000_000_000, 999_999_999_999_999_999)
        .to_string()
}

fn corporate_ip(rng: &mut Rng) -> String {
    let net = if rng.chance(0.7) {
        "203.0.113"
    } else {
        "198.51.100"
    };
    format!("{net}.{}", rng.range(2, 254))
}

/// An address in a public consumer range (home office, hotel, phone).
pub fn public_ip(rng: &mut Rng) -> String {
    format!(
        "{}.{}.{}.{}",
        rng.pick(HOME_OCTETS),
        rng.range(1, 254),
        rng.range(0, 255),
        rng.range(2, 254)
    )
}

/// An IPv6 address in the documentation range, in canonical text form.
fn ipv6(rng: &mut Rng) -> String {
    let seg = |r: &mut Rng| r.below(0x1_0000) as u16;
    Ipv6Addr::new(0x2001, 0xdb8, seg(rng), seg(rng), 0, 0, seg(rng), seg(rng)).to_string()
}

impl Org {
    /// The organisation of `seed` for a data set with `scale` times [`REFERENCE_EVENTS_PER_DAY`]
    /// events a day.
    pub fn new(seed: u64, scale: f64) -> Org {
        let scale = if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            1.0
        };
        let scaled = |n: u64, min: usize| ((n as f64 * scale).round() as usize).max(min);
        let mut rng = Rng::new(derive(seed, ORG_STREAM, 0));
        let mut ids = HashSet::new();
        let mut unique_id = |rng: &mut Rng| loop {
            let id = numeric_id(rng);
            if ids.insert(id.clone()) {
                return id;
            }
        };
        let mut pairs = HashSet::new();
        let mut names: HashSet<String> = HashSet::new();
        let mut people = Vec::new();

        let n_staff = scaled(rng.range(150, 300), MIN_STAFF).min(MAX_STAFF);
        let n_new = scaled(rng.range(12, 30), 5).min(MAX_STAFF);
        for i in 0..n_staff + n_new {
            let (first, last) = loop {
                let f = *rng.pick(FIRST);
                let l = *rng.pick(LAST);
                if pairs.insert((f, l)) || pairs.len() > FIRST.len() * LAST.len() / 2 {
                    break (f, l);
                }
            };
            let mut name = format!("{first}.{last}@example.com");
            if !names.insert(name.clone()) {
                name = format!("{first}.{last}{i}@example.com");
                names.insert(name.clone());
            }
            let display = format!("{} {}", capitalise(first), capitalise(last));
            // A long-tailed activity level: a few people do most of the clicking.
            let activity = 0.2 + rng.exp(1.0);
            let corporate = corporate_ip(&mut rng);
            let home = if rng.chance(0.2) {
                ipv6(&mut rng)
            } else {
                public_ip(&mut rng)
            };
            // Office, remote, or (for people in the console often enough that both addresses
            // show within their first two weeks) hybrid.
            let ips = match rng.below(100) {
                0..25 => vec![home],
                25..60 if activity >= 1.0 => vec![corporate, home],
                _ => vec![corporate],
            };
            let roam = if rng.chance(0.8) {
                0.12 + 0.2 * rng.f64()
            } else {
                0.0
            };
            let mut agents = vec![*rng.pick(BROWSERS)];
            if rng.chance(0.3) {
                agents.push(*rng.pick(BROWSERS));
            }
            people.push(Person {
                name,
                id: unique_id(&mut rng),
                kind: Kind::User,
                display,
                second_share: if ips.len() > 1 { 0.35 } else { 0.0 },
                ips,
                agents,
                off_hours: 0.01 + 0.03 * rng.f64(),
                activity,
                roam,
            });
        }
        let staff: Vec<usize> = (0..n_staff).collect();
        let new_hires: Vec<usize> = (n_staff..n_staff + n_new).collect();

        // Admins and analysts are distinct members of staff.
        let mut pool = staff.clone();
        for i in (1..pool.len()).rev() {
            pool.swap(i, rng.index(i + 1));
        }
        let n_admins = ((n_staff as f64 / STAFF_PER_ADMIN).round() as usize).max(MIN_ADMINS);
        let n_analysts = ((n_staff as f64 / STAFF_PER_ANALYST).round() as usize).max(MIN_ANALYSTS);
        let admins: Vec<usize> = pool[..n_admins].to_vec();
        let analysts: Vec<usize> = pool[n_admins..n_admins + n_analysts].to_vec();
        // Privileged staff work through the VPN: their addresses are corporate.
        let vpn = |rng: &mut Rng, p: &mut Person| {
            p.ips = vec![corporate_ip(rng)];
            if rng.chance(0.4) {
                p.ips.push(corporate_ip(rng));
            }
            p.second_share = 0.25;
            p.roam = 0.0;
        };
        for &a in &admins {
            people[a].activity += 1.0;
            vpn(&mut rng, &mut people[a]);
        }
        for (k, &a) in analysts.iter().enumerate() {
            let p = &mut people[a];
            // A team working one queue: similar workloads, so no analyst's ordinary week stands
            // out against the peers'.
            p.activity = 0.9 + 0.2 * rng.f64();
            p.off_hours = 0.02 + 0.03 * rng.f64();
            if k == 0 {
                // One analyst works late: something the off-hours analyses should notice.
                p.activity = 0.8;
                p.off_hours = 0.25;
            }
            vpn(&mut rng, p);
        }

        let mut api_clients = Vec::new();
        for _ in 0..rng.range(2, 3) as usize + n_staff / 500 {
            let key = format!("key-{}", uuid(&mut rng));
            api_clients.push(people.len());
            let ip = if rng.chance(0.5) {
                corporate_ip(&mut rng)
            } else {
                public_ip(&mut rng)
            };
            people.push(Person {
                name: key.clone(),
                id: key,
                kind: Kind::ApiClient,
                display: String::new(),
                ips: vec![ip],
                agents: vec![*rng.pick(API_AGENTS)],
                off_hours: 0.35,
                activity: 1.0,
                roam: 0.0,
                second_share: 0.0,
            });
        }

        let support = people.len();
        people.push(Person {
            name: "customer.champion@code42.com".into(),
            id: unique_id(&mut rng),
            kind: Kind::Support,
            display: "Customer Champion".into(),
            ips: vec![format!(
                "52.{}.{}.{}",
                rng.range(0, 95),
                rng.range(0, 255),
                rng.range(2, 254)
            )],
            agents: vec![BROWSERS[0]],
            off_hours: 0.0,
            activity: 1.0,
            roam: 0.0,
            second_share: 0.0,
        });

        let system = people.len();
        let system_id: String = {
            const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
            (0..27)
                .map(|i| {
                    let c = ALNUM[rng.below(ALNUM.len() as u64) as usize] as char;
                    if i == 10 { c.to_ascii_uppercase() } else { c }
                })
                .collect()
        };
        people.push(Person {
            name: "SYSTEM".into(),
            id: system_id,
            kind: Kind::System,
            display: String::new(),
            ips: Vec::new(),
            agents: Vec::new(),
            off_hours: 0.58,
            activity: 1.0,
            roam: 0.0,
            second_share: 0.0,
        });

        let scim = people.len();
        people.push(Person {
            name: format!("azure_{}@cloud.code42.com", rng.range(1000, 9999)),
            id: unique_id(&mut rng),
            kind: Kind::User,
            display: String::new(),
            ips: vec![format!(
                "20.{}.{}.{}",
                rng.range(36, 127),
                rng.range(0, 255),
                rng.range(2, 254)
            )],
            agents: vec![SCIM_AGENT],
            off_hours: 0.58,
            activity: 1.0,
            roam: 0.0,
            second_share: 0.0,
        });

        let mut rule_names: Vec<&'static str> = RULE_NAMES.to_vec();
        for i in (1..rule_names.len()).rev() {
            rule_names.swap(i, rng.index(i + 1));
        }
        let rules = rule_names[..rng.range(8, RULE_NAMES.len() as u64) as usize]
            .iter()
            .map(|&name| Rule {
                id: uuid(&mut rng),
                name,
            })
            .collect();
        let mut watchlists = Vec::new();
        for &kind in WATCHLIST_TYPES {
            if rng.chance(0.8) {
                watchlists.push(Watchlist {
                    id: uuid(&mut rng),
                    kind,
                });
            }
        }
        watchlists.push(Watchlist {
            id: uuid(&mut rng),
            kind: "CUSTOM",
        });
        let proxies = (0..4)
            .map(|_| format!("64.252.{}.{}", rng.range(64, 127), rng.range(2, 254)))
            .collect();

        let staff_weights = Weighted::new(staff.iter().map(|&i| people[i].activity));
        let analyst_weights = Weighted::new(analysts.iter().map(|&i| people[i].activity));
        Org {
            people,
            staff,
            staff_weights,
            admins,
            analysts,
            analyst_weights,
            api_clients,
            new_hires,
            support,
            system,
            scim,
            rules,
            watchlists,
            existing_cases: rng.range(40, 400),
            proxies,
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_organisation_has_the_documented_shape() {
        let org = Org::new(42, 1.0);
        assert!((150..=300).contains(&org.staff.len()));
        assert!((4..=7).contains(&org.admins.len()));
        assert!((7..=15).contains(&org.analysts.len()));
        assert!((2..=3).contains(&org.api_clients.len()));
        assert!(org.admins.iter().all(|a| !org.analysts.contains(a)));
        let ids: HashSet<&str> = org.people.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids.len(), org.people.len(), "ids are unique");
        let names: HashSet<&str> = org.people.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names.len(), org.people.len(), "names are unique");
        for &i in &org.staff {
            let p = &org.people[i];
            assert_eq!(p.id.len(), 18);
            assert!(p.name.ends_with("@example.com") && p.name.contains('.'));
            assert!((1..=2).contains(&p.ips.len()));
        }
        // Administrators and analysts connect through the VPN only.
        let corporate: Vec<ipnet::IpNet> = CORPORATE_NETWORKS
            .iter()
            .map(|n| n.parse().unwrap())
            .collect();
        for &i in org.admins.iter().chain(&org.analysts) {
            let p = &org.people[i];
            assert_eq!(p.roam, 0.0);
            for ip in &p.ips {
                let a: std::net::IpAddr = ip.parse().unwrap();
                assert!(corporate.iter().any(|n| n.contains(&a)), "{ip}");
            }
        }
        assert_eq!(org.people[org.system].name, "SYSTEM");
        assert!(org.people[org.system].ips.is_empty());
        assert_eq!(org.people[org.support].kind, Kind::Support);
        assert!(org.people[org.scim].name.starts_with("azure_"));
        assert!(org.people[org.api_clients[0]].name.starts_with("key-"));
    }

    #[test]
    fn a_larger_volume_comes_from_a_larger_organisation() {
        let base = Org::new(42, 1.0);
        let big = Org::new(42, 4.0);
        let ratio = big.staff.len() as f64 / base.staff.len() as f64;
        assert!((3.9..4.1).contains(&ratio), "{ratio}");
        // The same staff per analyst and per administrator: per-person activity is the same.
        let per = |o: &Org, n: usize| o.staff.len() as f64 / n as f64;
        assert!((per(&big, big.analysts.len()) - STAFF_PER_ANALYST).abs() < 1.0);
        assert!((per(&big, big.admins.len()) - STAFF_PER_ADMIN).abs() < 2.0);
        // A tiny volume still has a team of analysts to compare.
        let tiny = Org::new(42, 0.01);
        assert_eq!(tiny.staff.len(), MIN_STAFF);
        assert_eq!(tiny.analysts.len(), MIN_ANALYSTS);
        let names: HashSet<&str> = big.people.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names.len(), big.people.len(), "names are unique");
    }
}
