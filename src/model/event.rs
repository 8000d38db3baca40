/*!
One audit event in canonical form, and its small value types.

[`Event`] is the owned row form, used where a handful of events are handled one by one (`show`, JSON
output, tests). Bulk paths stay columnar: see [`super::schema`], which defines the same fields as
polars columns. The event id is a content hash, so the same event exported twice (or in overlapping
exports) gets the same id and is stored once.
*/

use std::fmt;

use serde::Serialize;

/// Who performed an action, normalised from the exports' many spellings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorType {
    User,
    SupportUser,
    ApiClient,
    System,
    Unknown,
}

impl ActorType {
    pub const ALL: [ActorType; 5] = [
        ActorType::User,
        ActorType::SupportUser,
        ActorType::ApiClient,
        ActorType::System,
        ActorType::Unknown,
    ];

    /// The stored value (`user`, `support_user`, `api_client`, `system`, `unknown`).
    pub fn as_str(self) -> &'static str {
        match self {
            ActorType::User => "user",
            ActorType::SupportUser => "support_user",
            ActorType::ApiClient => "api_client",
            ActorType::System => "system",
            ActorType::Unknown => "unknown",
        }
    }

    /// How the console shows it.
    pub fn console_label(self) -> &'static str {
        match self {
            ActorType::User => "User",
            ActorType::SupportUser => "Code42 support user",
            ActorType::ApiClient => "API client",
            ActorType::System => "System",
            ActorType::Unknown => "Unknown",
        }
    }

    /// Parse any known spelling: API (`SUPPORT_USER`), export request (`Support_User`), console
    /// (`Code42 support user`), CLI (`support`, `api-client`). Case and punctuation are ignored.
    pub fn parse(raw: &str) -> Option<ActorType> {
        let key: String = raw
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        Some(match key.as_str() {
            "user" => ActorType::User,
            "supportuser" | "code42supportuser" | "support" => ActorType::SupportUser,
            "apiclient" | "api" => ActorType::ApiClient,
            "system" => ActorType::System,
            "unknown" | "" => ActorType::Unknown,
            _ => return None,
        })
    }
}

impl fmt::Display for ActorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A 128-bit content hash identifying an event; printed as 32 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(pub u128);

impl EventId {
    /// Parse 32 hex digits.
    pub fn parse_hex(s: &str) -> Option<EventId> {
        if s.len() != 32 {
            return None;
        }
        u128::from_str_radix(s, 16).ok().map(EventId)
    }

    pub fn to_hex(self) -> String {
        format!("{:032x}", self.0)
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

/// Incremental builder of an [`EventId`]: every canonical field except provenance, each written
/// with its length so that no two different field lists hash the same bytes.
pub struct EventHasher(blake3::Hasher);

impl Default for EventHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl EventHasher {
    pub fn new() -> Self {
        let mut h = blake3::Hasher::new();
        h.update(b"auditlens-event-v1");
        EventHasher(h)
    }

    pub fn i64(&mut self, v: i64) -> &mut Self {
        self.0.update(&v.to_le_bytes());
        self
    }

    pub fn str(&mut self, v: Option<&str>) -> &mut Self {
        match v {
            None => {
                self.0.update(&[0]);
            }
            Some(s) => {
                self.0.update(&[1]);
                self.0.update(&(s.len() as u64).to_le_bytes());
                self.0.update(s.as_bytes());
            }
        }
        self
    }

    pub fn finish(&self) -> EventId {
        let out = self.0.finalize();
        let mut b = [0u8; 16];
        b.copy_from_slice(&out.as_bytes()[..16]);
        EventId(u128::from_be_bytes(b))
    }
}

/// One canonical event (owned).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub event_id: String,
    /// ISO-8601 UTC with full precision.
    pub timestamp: String,
    pub timestamp_ns: i64,
    pub event_type: String,
    pub event_label: String,
    pub category: String,
    pub deprecated: bool,
    pub actor_name: Option<String>,
    pub actor_id: Option<String>,
    pub actor_type: String,
    pub client_ip: Option<String>,
    pub ip_addresses: Vec<String>,
    pub user_agent: Option<String>,
    pub affected_user_name: Option<String>,
    pub affected_user_id: Option<String>,
    /// Every field without a canonical column, as a JSON object.
    pub details: serde_json::Value,
    pub source_file: String,
    pub source_line: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_type_spellings() {
        for (raw, want) in [
            ("SUPPORT_USER", ActorType::SupportUser),
            ("Support_User", ActorType::SupportUser),
            ("Code42 support user", ActorType::SupportUser),
            ("api-client", ActorType::ApiClient),
            ("API client", ActorType::ApiClient),
            ("USER", ActorType::User),
            ("SYSTEM", ActorType::System),
            ("", ActorType::Unknown),
        ] {
            assert_eq!(ActorType::parse(raw), Some(want), "{raw}");
        }
        assert_eq!(ActorType::parse("robot"), None);
    }

    #[test]
    fn field_boundaries_matter_to_the_hash() {
        let a = EventHasher::new().str(Some("ab")).str(Some("c")).finish();
        let b = EventHasher::new().str(Some("a")).str(Some("bc")).finish();
        let c = EventHasher::new().str(None).str(Some("abc")).finish();
        let d = EventHasher::new().str(Some("")).str(Some("abc")).finish();
        assert!(a != b && c != d);
        assert_eq!(EventId::parse_hex(&a.to_hex()), Some(a));
    }
}
