/*!
Mapping export columns (CSV headers, JSON keys) to canonical fields by name.

Exports disagree on spelling (`Date observed`, `timestamp`; `Username`, `actorName`, `actor_name`)
and code42cli writes its columns in a different order every run, so columns are matched by name,
case-insensitively, with a priority-ordered alias list per field. Columns no alias claims are kept as
event details. `--column-map OLD=NEW` adds spellings nobody has seen yet.

One ambiguity needs a rule: the console's `Username` is the *acting* user, while the API's
`userName` is the *affected* user. When the header uses API naming (any `actor*` column or `type$`),
`username`/`userid` mean the affected user; otherwise `Username` is the actor.
*/

use std::collections::HashMap;

/// A canonical field a column can map to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Timestamp,
    EventType,
    ActorName,
    ActorId,
    ActorType,
    Ip,
    UserAgent,
    AffectedName,
    AffectedId,
    /// A column holding a JSON object of further details (the console's `Details`).
    Details,
    /// A column auditlens derives itself (its own export's event id and category): not kept twice.
    Derived,
}

impl Field {
    pub const ALL: [Field; 11] = [
        Field::Timestamp,
        Field::EventType,
        Field::ActorName,
        Field::ActorId,
        Field::ActorType,
        Field::Ip,
        Field::UserAgent,
        Field::AffectedName,
        Field::AffectedId,
        Field::Details,
        Field::Derived,
    ];

    /// The name used by `--column-map` (and in messages).
    pub fn name(self) -> &'static str {
        match self {
            Field::Timestamp => "timestamp",
            Field::EventType => "event_type",
            Field::ActorName => "actor_name",
            Field::ActorId => "actor_id",
            Field::ActorType => "actor_type",
            Field::Ip => "ip",
            Field::UserAgent => "user_agent",
            Field::AffectedName => "affected_user_name",
            Field::AffectedId => "affected_user_id",
            Field::Details => "details",
            Field::Derived => "ignore",
        }
    }

    /// Accepted spellings in priority order (normalised: lowercase, single spaces).
    fn aliases(self, api_naming: bool) -> &'static [&'static str] {
        match self {
            Field::Timestamp => &[
                "timestamp",
                "date observed",
                "date observed (utc)",
                "dateobserved",
                "date_observed",
                "event timestamp",
                "eventtimestamp",
                "event_timestamp",
                "@timestamp",
                "time",
                "date",
                "event time",
            ],
            Field::EventType => &[
                "type$",
                "type_",
                "event type",
                "eventtype",
                "event_type",
                "event",
                "type",
            ],
            Field::ActorName if api_naming => &["actorname", "actor_name", "actor name", "actor"],
            Field::ActorName => &[
                "username",
                "user name",
                "actorname",
                "actor_name",
                "actor name",
                "actor",
            ],
            Field::ActorId => &["actorid", "actor_id", "actor id"],
            Field::ActorType if api_naming => &["actortype", "actor_type", "actor type"],
            Field::ActorType => &[
                "user type",
                "usertype",
                "actortype",
                "actor_type",
                "actor type",
            ],
            // With API naming `ipAddress` is a detail (the subject of the `ip_address_*` events),
            // not the actor's address.
            Field::Ip if api_naming => &[
                "actoripaddress",
                "actor_ip_addresses",
                "actor_ip_address",
                "actoripaddresses",
            ],
            Field::Ip => &[
                "ip address",
                "ip addresses",
                "ipaddress",
                "ip",
                "client ip",
                "actoripaddress",
                "actor_ip_addresses",
                "actor_ip_address",
            ],
            Field::UserAgent => &[
                "actoragent",
                "actor_agent",
                "user agent",
                "useragent",
                "agent",
            ],
            Field::AffectedName if api_naming => &[
                "username",
                "user_name",
                "affected user",
                "affecteduser",
                "affected_user",
                "affected username",
            ],
            Field::AffectedName => &[
                "affected user",
                "affecteduser",
                "affected_user",
                "affected username",
                "affected user name",
            ],
            Field::AffectedId if api_naming => &[
                "userid",
                "user_id",
                "affected user id",
                "affecteduserid",
                "affected_user_id",
            ],
            Field::AffectedId => &["affected user id", "affecteduserid", "affected_user_id"],
            Field::Details => &["details", "event details"],
            Field::Derived => &["auditlens event id", "category"],
        }
    }
}

/// Spellings that mark API naming (code42cli, incydr and JSON).
const API_MARKERS: &[&str] = &[
    "type$",
    "type_",
    "actorname",
    "actorid",
    "actortype",
    "actoragent",
    "actoripaddress",
    "actor_name",
    "actor_id",
    "actor_type",
    "actor_agent",
    "actor_ip_addresses",
];

/// Normalise a column name for matching: trimmed, BOM removed, lowercase, whitespace runs as one space.
pub fn normalize_header(h: &str) -> String {
    let h = h.trim_start_matches('\u{feff}').trim();
    let mut out = String::with_capacity(h.len());
    for (i, word) in h.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

/// Where one column's values go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Field(Field),
    /// Kept in the event's details under this key (the column name as written).
    Detail(String),
}

/// User-supplied extra spellings (`--column-map OLD=NEW`).
#[derive(Debug, Clone, Default)]
pub struct ColumnMap {
    overrides: HashMap<String, Field>,
}

impl ColumnMap {
    /// Parse `OLD=NEW` pairs. NEW is a canonical field name (see [`Field::name`]) or any spelling
    /// auditlens already knows (`--column-map "When=Date observed"`).
    pub fn parse<S: AsRef<str>>(pairs: &[S]) -> Result<ColumnMap, String> {
        let mut overrides = HashMap::new();
        for pair in pairs {
            let pair = pair.as_ref();
            let (old, new) = pair.split_once('=').ok_or_else(|| {
                format!("--column-map {pair:?}: expected OLD=NEW, for example \"When=timestamp\"")
            })?;
            let new_norm = normalize_header(new);
            let field = Field::ALL
                .into_iter()
                .find(|f| f.name() == new_norm)
                .or_else(|| {
                    Field::ALL.into_iter().find(|f| {
                        f.aliases(false).contains(&new_norm.as_str())
                            || f.aliases(true).contains(&new_norm.as_str())
                    })
                })
                .ok_or_else(|| {
                    let names: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
                    format!(
                        "--column-map {pair:?}: {new:?} is not a field; use one of {}",
                        names.join(", ")
                    )
                })?;
            overrides.insert(normalize_header(old), field);
        }
        Ok(ColumnMap { overrides })
    }
}

/// How the columns of one CSV header map to fields.
#[derive(Debug, Clone)]
pub struct HeaderMapping {
    pub targets: Vec<Target>,
    /// The column each field came from, if any.
    pub field_column: HashMap<Field, usize>,
    pub api_naming: bool,
    pub names: Vec<String>,
}

impl HeaderMapping {
    /// Map a header. Fails (with a message naming what was expected) when there is no column for
    /// the event time or the event type: such a file is not an audit-log export we understand.
    pub fn new(names: &[String], column_map: &ColumnMap) -> Result<HeaderMapping, String> {
        let norm: Vec<String> = names.iter().map(|n| normalize_header(n)).collect();
        let api_naming = norm.iter().any(|n| API_MARKERS.contains(&n.as_str()));
        let mut targets: Vec<Option<Target>> = vec![None; names.len()];
        let mut field_column = HashMap::new();
        // User overrides first: they win over built-in aliases.
        for (i, n) in norm.iter().enumerate() {
            if let Some(&f) = column_map.overrides.get(n)
                && (f == Field::Derived || !field_column.contains_key(&f))
            {
                targets[i] = Some(Target::Field(f));
                field_column.insert(f, i);
            }
        }
        for f in Field::ALL {
            if f != Field::Derived && field_column.contains_key(&f) {
                continue;
            }
            for alias in f.aliases(api_naming) {
                let hit = norm
                    .iter()
                    .enumerate()
                    .find(|(i, n)| targets[*i].is_none() && n.as_str() == *alias);
                if let Some((i, _)) = hit {
                    targets[i] = Some(Target::Field(f));
                    field_column.insert(f, i);
                    if f != Field::Derived {
                        break;
                    }
                }
            }
        }
        let targets: Vec<Target> = targets
            .into_iter()
            .zip(names)
            .map(|(t, name)| {
                t.unwrap_or_else(|| {
                    Target::Detail(name.trim_start_matches('\u{feff}').trim().to_owned())
                })
            })
            .collect();
        let mut missing = Vec::new();
        for f in [Field::Timestamp, Field::EventType] {
            if !field_column.contains_key(&f) {
                missing.push(format!(
                    "no {} column (expected one of: {})",
                    if f == Field::Timestamp {
                        "event time"
                    } else {
                        "event type"
                    },
                    f.aliases(api_naming).join(", ")
                ));
            }
        }
        if !missing.is_empty() {
            let shown: Vec<&str> = names.iter().take(20).map(String::as_str).collect();
            return Err(format!(
                "unrecognised header: {}; the header has: {}{}; add --column-map HEADER=FIELD for a column \
                 auditlens does not know",
                missing.join("; "),
                shown.join(", "),
                if names.len() > 20 {
                    format!(" and {} more", names.len() - 20)
                } else {
                    String::new()
                }
            ));
        }
        Ok(HeaderMapping {
            targets,
            field_column,
            api_naming,
            names: names.to_vec(),
        })
    }

    /// The header name of the column a field came from (for error messages).
    pub fn column_name(&self, f: Field) -> Option<&str> {
        self.field_column.get(&f).map(|&i| self.names[i].as_str())
    }
}

/// Map one JSON key (API naming is implied). Returns `None` for keys kept as details.
/// `type` is ambiguous in JSON: callers use it as the event type only when no `type$` is present.
pub fn json_field(key: &str, column_map: &ColumnMap) -> Option<Field> {
    let n = normalize_header(key);
    if let Some(&f) = column_map.overrides.get(&n) {
        return Some(f);
    }
    Field::ALL
        .into_iter()
        .find(|f| *f != Field::Derived && f.aliases(true).contains(&n.as_str()))
}

/// Priority of an event-type key in JSON (lower wins); `type` is last.
pub fn event_type_priority(key: &str) -> usize {
    let n = normalize_header(key);
    Field::EventType
        .aliases(true)
        .iter()
        .position(|a| *a == n)
        .unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(h: &[&str]) -> HeaderMapping {
        let names: Vec<String> = h.iter().map(|s| s.to_string()).collect();
        HeaderMapping::new(&names, &ColumnMap::default()).unwrap()
    }

    #[test]
    fn console_header() {
        let m = map(&[
            "\u{feff}Date observed",
            "Username",
            "User type",
            "Event type",
            "IP address",
            "Affected user",
            "Details",
        ]);
        assert!(!m.api_naming);
        assert_eq!(m.targets[0], Target::Field(Field::Timestamp));
        assert_eq!(m.targets[1], Target::Field(Field::ActorName));
        assert_eq!(m.targets[5], Target::Field(Field::AffectedName));
        assert_eq!(m.targets[6], Target::Field(Field::Details));
    }

    #[test]
    fn api_header_in_any_order_with_type_and_username() {
        let m = map(&[
            "userName",
            "type",
            "timestamp",
            "actorName",
            "type$",
            "resultCount",
            "userId",
        ]);
        assert!(m.api_naming);
        assert_eq!(m.targets[0], Target::Field(Field::AffectedName));
        assert_eq!(m.targets[1], Target::Detail("type".into()));
        assert_eq!(m.targets[3], Target::Field(Field::ActorName));
        assert_eq!(m.targets[4], Target::Field(Field::EventType));
        assert_eq!(m.targets[5], Target::Detail("resultCount".into()));
        assert_eq!(m.targets[6], Target::Field(Field::AffectedId));
    }

    #[test]
    fn incydr_header() {
        let m = map(&[
            "type",
            "actor_id",
            "actor_name",
            "actor_agent",
            "actor_ip_addresses",
            "timestamp",
        ]);
        assert_eq!(m.targets[0], Target::Field(Field::EventType));
        assert_eq!(m.targets[4], Target::Field(Field::Ip));
    }

    #[test]
    fn unknown_header_names_what_is_missing() {
        let names = vec!["foo".to_string(), "bar".to_string()];
        let e = HeaderMapping::new(&names, &ColumnMap::default()).unwrap_err();
        assert!(
            e.contains("no event time column") && e.contains("foo, bar"),
            "{e}"
        );
    }

    #[test]
    fn column_map_adds_spellings() {
        let cm = ColumnMap::parse(&["When=Date observed", "What=event_type"]).unwrap();
        let names: Vec<String> = ["When", "What", "Who"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let m = HeaderMapping::new(&names, &cm).unwrap();
        assert_eq!(m.targets[0], Target::Field(Field::Timestamp));
        assert_eq!(m.targets[1], Target::Field(Field::EventType));
        assert!(ColumnMap::parse(&["x=nonsense"]).is_err());
        assert!(ColumnMap::parse(&["novalue"]).is_err());
    }
}
