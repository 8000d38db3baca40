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
        // Ingest parses one per row, mostly as the console spells it: those are compared first.
        // Other short ASCII spellings (all real ones) build their key on the stack; the rule is
        // the same as for any other text below.
        if let Some(t) = ActorType::ALL
            .into_iter()
            .find(|t| t.console_label() == raw)
        {
            return Some(t);
        }
        let mut buf = [0u8; 32];
        if raw.is_ascii() && raw.len() <= buf.len() {
            let mut n = 0;
            for b in raw.bytes().filter(u8::is_ascii_alphanumeric) {
                buf[n] = b.to_ascii_lowercase();
                n += 1;
            }
            return Self::from_key(std::str::from_utf8(&buf[..n]).expect("ASCII"));
        }
        let key: String = raw
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        Self::from_key(&key)
    }

    fn from_key(key: &str) -> Option<ActorType> {
        Some(match key {
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
    /// The id of the event whose [`EventHasher`] input has this BLAKE3 hash: its first 16 bytes.
    pub fn from_hash(hash: &[u8; 32]) -> EventId {
        let mut b = [0u8; 16];
        b.copy_from_slice(&hash[..16]);
        EventId(u128::from_be_bytes(b))
    }

    /// Parse an id as [`EventId::to_hex`] writes it: exactly 32 lowercase hex digits (so an id
    /// read back prints as it was stored).
    ///
    /// Every event id an analysis reads is parsed (millions over a large store): a table lookup
    /// per digit and one check at the end, rather than a branch per digit, take about a fifth of
    /// the time.
    pub fn parse_hex(s: &str) -> Option<EventId> {
        /// The value of each lowercase hex digit; [`NOT_HEX`] for every other byte.
        const DIGITS: [u8; 256] = {
            let mut t = [NOT_HEX; 256];
            let mut i = 0;
            while i < 10 {
                t[b'0' as usize + i] = i as u8;
                i += 1;
            }
            let mut i = 0;
            while i < 6 {
                t[b'a' as usize + i] = 10 + i as u8;
                i += 1;
            }
            t
        };
        const NOT_HEX: u8 = 0x80;
        let digits: &[u8; 32] = s.as_bytes().try_into().ok()?;
        let half = |h: &[u8]| {
            h.iter().fold((0u64, 0u8), |(v, bad), &c| {
                let d = DIGITS[usize::from(c)];
                ((v << 4) | u64::from(d & 0xf), bad | d)
            })
        };
        let (hi, bad_hi) = half(&digits[..16]);
        let (lo, bad_lo) = half(&digits[16..]);
        ((bad_hi | bad_lo) & NOT_HEX == 0).then(|| EventId((u128::from(hi) << 64) | u128::from(lo)))
    }

    pub fn to_hex(self) -> String {
        self.hex_digits().as_str().to_owned()
    }

    /// The 32 lowercase hex digits, without allocating.
    pub fn hex_digits(self) -> HexId {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 32];
        for (i, b) in self.0.to_be_bytes().iter().enumerate() {
            out[2 * i] = HEX[usize::from(b >> 4)];
            out[2 * i + 1] = HEX[usize::from(b & 0xf)];
        }
        HexId(out)
    }
}

/// An event id's hex digits on the stack (see [`EventId::hex_digits`]).
#[derive(Clone, Copy)]
pub struct HexId([u8; 32]);

impl HexId {
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written.
        std::str::from_utf8(&self.0).expect("hex digits are ASCII")
    }
}

/// As its 32 hex digits, the form every output and the store use.
impl Serialize for EventId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.hex_digits().as_str())
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

/// Incremental builder of an [`EventId`]: every canonical field except provenance, each written
/// with its length so that no two different field lists hash the same bytes.
///
/// The fields are gathered in a buffer and hashed with one BLAKE3 call: BLAKE3 is a streaming hash,
/// so this gives the same id as feeding the fields one by one, without the per-call overhead that
/// made a dozen tiny updates per row expensive. [`EventHasher::reset`] keeps the buffer for the
/// next row. Ingest hashes many rows' [`EventHasher::input`]s at once instead
/// ([`super::many_hashes`]): the same ids, three times faster.
#[derive(Default)]
pub struct EventHasher {
    buf: Vec<u8>,
}

/// Domain separation prefix of the id (part of what is hashed).
const ID_PREFIX: &[u8] = b"auditlens-event-v1";

impl EventHasher {
    pub fn new() -> Self {
        let mut h = EventHasher {
            buf: Vec::with_capacity(512),
        };
        h.reset();
        h
    }

    /// Start a new id, keeping the buffer's capacity.
    pub fn reset(&mut self) -> &mut Self {
        self.buf.clear();
        self.buf.extend_from_slice(ID_PREFIX);
        self
    }

    pub fn i64(&mut self, v: i64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }

    pub fn str(&mut self, v: Option<&str>) -> &mut Self {
        match v {
            None => self.buf.push(0),
            Some(s) => {
                self.buf.push(1);
                self.buf.extend_from_slice(&(s.len() as u64).to_le_bytes());
                self.buf.extend_from_slice(s.as_bytes());
            }
        }
        self
    }

    /// The id of the fields written since [`EventHasher::reset`].
    pub fn finish(&self) -> EventId {
        EventId::from_hash(blake3::hash(&self.buf).as_bytes())
    }

    /// What [`EventHasher::finish`] hashes: for hashing many rows' ids at once
    /// ([`super::many_hashes`]).
    pub fn input(&self) -> &[u8] {
        &self.buf
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
        // The console's spellings, compared first, name what the rule makes of them.
        for t in ActorType::ALL {
            assert_eq!(ActorType::parse(t.console_label()), Some(t));
            assert_eq!(ActorType::parse(&t.console_label().to_uppercase()), Some(t));
        }
        // Past the stack buffer and outside ASCII the same rule holds.
        assert_eq!(
            ActorType::parse("  Code42 -- support -- user, as spelled by a very long export  "),
            None
        );
        assert_eq!(
            ActorType::parse("C o d e 4 2 _ s u p p o r t _ u s e r _ _ _ _ _ _ _ _"),
            Some(ActorType::SupportUser)
        );
        assert_eq!(ActorType::parse("Systém"), None);
        assert_eq!(
            ActorType::parse("ＵＳＥＲ"),
            None,
            "full-width letters stay themselves"
        );
        assert_eq!(ActorType::parse("Ｕ-s-e-r"), None);
        assert_eq!(ActorType::parse("Üser"), None);
    }

    #[test]
    fn field_boundaries_matter_to_the_hash() {
        let a = EventHasher::new().str(Some("ab")).str(Some("c")).finish();
        let b = EventHasher::new().str(Some("a")).str(Some("bc")).finish();
        let c = EventHasher::new().str(None).str(Some("abc")).finish();
        let d = EventHasher::new().str(Some("")).str(Some("abc")).finish();
        assert!(a != b && c != d);
        assert_eq!(EventId::parse_hex(&a.to_hex()), Some(a));
        assert_eq!(a.to_hex(), format!("{:032x}", a.0));
    }

    #[test]
    fn only_the_stored_form_of_an_id_parses() {
        let hex = "0123456789abcdef0123456789abcdef";
        let id = EventId::parse_hex(hex).unwrap();
        assert_eq!(id.to_hex(), hex);
        assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{hex}\""));
        for v in [
            0,
            1,
            u128::MAX,
            1 << 64,
            (1 << 64) - 1,
            0xf0e1d2c3b4a5968778695a4b3c2d1e0f,
        ] {
            let id = EventId(v);
            assert_eq!(EventId::parse_hex(&id.to_hex()), Some(id));
        }
        for bad in [
            "0123456789ABCDEF0123456789abcdef",
            "+123456789abcdef0123456789abcdef",
            "0123456789abcdef0123456789abcde",
            "0123456789abcdef0123456789abcdeg",
            "",
        ] {
            assert_eq!(EventId::parse_hex(bad), None, "{bad}");
        }
    }

    #[test]
    fn ids_are_those_of_the_incremental_hash() {
        // The id definition: BLAKE3 over the prefix and the length-prefixed fields, in order.
        let mut h = blake3::Hasher::new();
        h.update(b"auditlens-event-v1");
        h.update(&7i64.to_le_bytes());
        h.update(&[1]);
        h.update(&2u64.to_le_bytes());
        h.update(b"ab");
        h.update(&[0]);
        let mut b = [0u8; 16];
        b.copy_from_slice(&h.finalize().as_bytes()[..16]);
        let mut ours = EventHasher::new();
        ours.str(Some("junk"))
            .reset()
            .i64(7)
            .str(Some("ab"))
            .str(None);
        assert_eq!(ours.finish(), EventId(u128::from_be_bytes(b)));
    }
}
