/*!
The synthetic organisation behind a generated data set: employees with stable ids, usual client
addresses and browsers; the admins, security analysts, API clients, the Code42 support user, SYSTEM
and the SCIM provisioning actor; and the objects they act on (alert rules, watchlists, roles, ...).

Everything is derived from the seed alone, so every day of the data set (generated independently)
sees the same people. Nothing here knows about event types or output formats.
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
    /// Probability that an action of a weekday falls outside 08:00-18:00 UTC.
    pub off_hours: f64,
    /// Relative activity (heavy users log in more).
    pub activity: f64,
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
    /// The organisation of `seed`.
    pub fn new(seed: u64) -> Org {
        let mut rng = Rng::new(derive(seed, ORG_STREAM, 0));
        let mut ids = HashSet::new();
        let mut unique_id = |rng: &mut Rng| loop {
            let id = numeric_id(rng);
            if ids.insert(id.clone()) {
                return id;
            }
        };
        let mut names = HashSet::new();
        let mut people = Vec::new();

        let n_staff = rng.range(150, 300) as usize;
        let n_new = rng.range(12, 30) as usize;
        for i in 0..n_staff + n_new {
            let (first, last) = loop {
                let f = *rng.pick(FIRST);
                let l = *rng.pick(LAST);
                if names.insert((f, l)) || names.len() > FIRST.len() * LAST.len() / 2 {
                    break (f, l);
                }
            };
            let mut name = format!("{first}.{last}@example.com");
            if people.iter().any(|p: &Person| p.name == name) {
                name = format!("{first}.{last}{}@example.com", i);
            }
            let display = format!("{} {}", capitalise(first), capitalise(last));
            let mut ips = vec![corporate_ip(&mut rng)];
            if rng.chance(0.6) {
                ips.push(public_ip(&mut rng));
            }
            if rng.chance(0.12) {
                ips.push(ipv6(&mut rng));
            }
            let mut agents = vec![*rng.pick(BROWSERS)];
            if rng.chance(0.3) {
                agents.push(*rng.pick(BROWSERS));
            }
            // A long-tailed activity level: a few people do most of the clicking.
            let activity = 0.2 + rng.exp(1.0);
            people.push(Person {
                name,
                id: unique_id(&mut rng),
                kind: Kind::User,
                display,
                ips,
                agents,
                off_hours: 0.01 + 0.03 * rng.f64(),
                activity,
            });
        }
        let staff: Vec<usize> = (0..n_staff).collect();
        let new_hires: Vec<usize> = (n_staff..n_staff + n_new).collect();

        // Admins and analysts are distinct members of staff.
        let mut pool = staff.clone();
        for i in (1..pool.len()).rev() {
            pool.swap(i, rng.index(i + 1));
        }
        let n_admins = rng.range(4, 6) as usize;
        let n_analysts = rng.range(5, 8) as usize;
        let admins: Vec<usize> = pool[..n_admins].to_vec();
        let analysts: Vec<usize> = pool[n_admins..n_admins + n_analysts].to_vec();
        for &a in &admins {
            people[a].activity += 1.0;
        }
        for (k, &a) in analysts.iter().enumerate() {
            let p = &mut people[a];
            p.activity = 0.5 + rng.exp(1.0);
            p.off_hours = 0.02 + 0.03 * rng.f64();
            if k == 0 {
                // One analyst works late: something the off-hours analyses should notice.
                p.activity = 0.8;
                p.off_hours = 0.25;
            }
        }

        let mut api_clients = Vec::new();
        for _ in 0..rng.range(2, 3) {
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
        let org = Org::new(42);
        assert!((150..=300).contains(&org.staff.len()));
        assert!((4..=6).contains(&org.admins.len()));
        assert!((5..=8).contains(&org.analysts.len()));
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
            assert!((1..=3).contains(&p.ips.len()));
        }
        assert_eq!(org.people[org.system].name, "SYSTEM");
        assert!(org.people[org.system].ips.is_empty());
        assert_eq!(org.people[org.support].kind, Kind::Support);
        assert!(org.people[org.scim].name.starts_with("azure_"));
        assert!(org.people[org.api_clients[0]].name.starts_with("key-"));
    }
}
