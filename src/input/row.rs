/*!
Turning one parsed input record (CSV row or JSON object) into a canonical row: required fields
checked, values normalised, details made canonical JSON, and the content-hash event id computed.
Every reader ends here, so the rules (what is null, what is required, what the id covers) hold for
every format alike.
*/

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::canonical;
use super::values::{canonical_json, non_null, split_ip_chain_into};
use crate::model::catalog::Catalog;
use crate::model::event::{ActorType, EventHasher};
use crate::model::schema::{EventColumns, EventRow, StrList};
use crate::time::parse_timestamp;

/// One input record before validation. Text fields are borrowed from the input where possible.
#[derive(Debug, Default)]
pub struct RawEvent<'a> {
    pub timestamp: Option<Cow<'a, str>>,
    pub event_type: Option<Cow<'a, str>>,
    pub actor_name: Option<Cow<'a, str>>,
    pub actor_id: Option<Cow<'a, str>>,
    pub actor_type: Option<Cow<'a, str>>,
    pub ip: Option<Cow<'a, str>>,
    pub user_agent: Option<Cow<'a, str>>,
    pub affected_name: Option<Cow<'a, str>>,
    pub affected_id: Option<Cow<'a, str>>,
    /// The console's `Details` column: a JSON object as text.
    pub details_text: Option<Cow<'a, str>>,
    /// Instead of `details_text`: a CSV `Details` cell's body as written in the file (every quote
    /// doubled), already rewritten canonically by [`RowScratch::csv_quoted_details`].
    pub details_quoted: Option<&'a str>,
    /// Every other column or key.
    pub details: Map<String, Value>,
    /// 1-based physical line where the record starts.
    pub line: u64,
}

/// Why a record was quarantined, and which column (header name or JSON key) it was about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub column: Option<String>,
    pub reason: String,
}

impl RowError {
    pub fn new(column: Option<&str>, reason: impl Into<String>) -> Self {
        RowError {
            column: column.map(str::to_owned),
            reason: reason.into(),
        }
    }
}

/// Column names to mention in errors about the two required fields.
#[derive(Debug, Clone, Default)]
pub struct RequiredNames {
    pub timestamp: Option<String>,
    pub event_type: Option<String>,
}

/// Parse a `Details` cell. Spreadsheets and hand edits leave raw line breaks and tabs inside JSON
/// strings, which JSON forbids; such text is retried with them escaped before it is kept as text.
fn parse_details(text: &str) -> serde_json::Result<Value> {
    serde_json::from_str::<Value>(text).or_else(|e| {
        if !text.contains(['\n', '\r', '\t']) {
            return Err(e);
        }
        let escaped = text
            .replace('\r', "\\r")
            .replace('\n', "\\n")
            .replace('\t', "\\t");
        serde_json::from_str::<Value>(&escaped).map_err(|_| e)
    })
}

/// Buffers reused from row to row by one parsing task, so that converting a row allocates nothing
/// in the common case.
#[derive(Default)]
pub struct RowScratch {
    details: String,
    ips: StrList,
    hasher: EventHasher,
    canon: canonical::Scratch,
}

impl RowScratch {
    /// Rewrite a quoted CSV `Details` cell's body canonically, in place of the row's details (see
    /// [`canonical::csv_quoted_object_text_with`]); `false` if the fast path cannot vouch for it
    /// or it is not one whole field. The row's [`RawEvent::details_quoted`] then names the body.
    pub fn csv_quoted_details(&mut self, body: &str) -> bool {
        self.details.clear();
        canonical::csv_quoted_object_text_with(body, &mut self.details, &mut self.canon)
    }
}

/// Validate `raw` and append it to `out`. On error nothing is appended.
pub fn convert(
    raw: RawEvent<'_>,
    names: &RequiredNames,
    scratch: &mut RowScratch,
    out: &mut EventColumns,
) -> Result<(), RowError> {
    let ts_col = names.timestamp.as_deref().or(Some("timestamp"));
    let type_col = names.event_type.as_deref().or(Some("event type"));

    let ts_text = raw
        .timestamp
        .as_deref()
        .and_then(non_null)
        .ok_or_else(|| RowError::new(ts_col, "missing timestamp"))?;
    let timestamp_ns = parse_timestamp(ts_text)
        .map_err(|e| RowError::new(ts_col, format!("bad timestamp {ts_text:?}: {e}")))?;

    let type_text = raw
        .event_type
        .as_deref()
        .and_then(non_null)
        .ok_or_else(|| RowError::new(type_col, "empty event type"))?;
    let resolved = Catalog::get()
        .resolve(type_text)
        .ok_or_else(|| RowError::new(type_col, format!("empty event type {type_text:?}")))?;

    fn opt<'b>(v: &'b Option<Cow<'_, str>>) -> Option<&'b str> {
        v.as_deref().and_then(non_null)
    }
    let actor_name = opt(&raw.actor_name);
    let actor_id = opt(&raw.actor_id);
    let user_agent = opt(&raw.user_agent);
    let affected_name = opt(&raw.affected_name);
    let affected_id = opt(&raw.affected_id);

    let actor_text = opt(&raw.actor_type);
    let actor_type = match actor_text {
        None if actor_name == Some("SYSTEM") => Some(ActorType::System),
        None => Some(ActorType::Unknown),
        Some(t) => ActorType::parse(t),
    };
    let details_text = opt(&raw.details_text);

    let details_json = &mut scratch.details;
    // Fast path: the details are exactly the `Details` object's text (no other detail columns, no
    // undocumented actor type to record), rewritten canonically without a serde_json tree.
    let fast = raw.details.is_empty()
        && actor_type.is_some()
        && match (raw.details_quoted, details_text) {
            // Rewritten already, from the CSV text.
            (Some(_), _) => true,
            (None, None) => {
                details_json.clear();
                details_json.push_str("{}");
                true
            }
            (None, Some(text)) => {
                details_json.clear();
                canonical::object_text_with(text, details_json, &mut scratch.canon)
            }
        };
    if !fast {
        // The quoted cell's JSON is its body undoubled: it was found to be one whole field.
        let unquoted;
        let details_text = match raw.details_quoted {
            Some(body) => {
                unquoted = body.replace("\"\"", "\"");
                non_null(&unquoted)
            }
            None => details_text,
        };
        let mut details = raw.details;
        if let Some(text) = details_text {
            match parse_details(text) {
                Ok(Value::Object(obj)) => {
                    // Fields from their own columns win over the same key inside Details.
                    for (k, v) in obj {
                        details.entry(k).or_insert(v);
                    }
                }
                Ok(other) => {
                    details.entry("details").or_insert(other);
                }
                Err(_) => {
                    details
                        .entry("details")
                        .or_insert_with(|| Value::String(text.to_owned()));
                }
            }
        }
        if let (None, Some(t)) = (actor_type, actor_text) {
            // An actor type nobody has documented: keep the spelling rather than lose it.
            details
                .entry("actorTypeRaw")
                .or_insert_with(|| Value::String(t.to_owned()));
        }
        details_json.clear();
        canonical_json(&Value::Object(details), details_json);
    }
    let actor_type = actor_type.unwrap_or(ActorType::Unknown);

    let ips = &mut scratch.ips;
    ips.clear();
    if let Some(ip) = raw.ip.as_deref() {
        split_ip_chain_into(ip, ips);
    }

    let h = scratch.hasher.reset();
    h.i64(timestamp_ns)
        .str(Some(&resolved.api_name))
        .str(actor_name)
        .str(actor_id)
        .str(Some(actor_type.as_str()));
    for ip in ips.iter() {
        h.str(Some(ip));
    }
    h.str(None)
        .str(user_agent)
        .str(affected_name)
        .str(affected_id)
        .str(Some(details_json));

    out.push(
        &EventRow {
            timestamp_ns,
            event_type: &resolved,
            actor_name,
            actor_id,
            actor_type: actor_type.as_str(),
            ip_addresses: ips,
            user_agent,
            affected_user_name: affected_name,
            affected_user_id: affected_id,
            details: details_json,
            source_line: raw.line,
        },
        &scratch.hasher,
    );
    Ok(())
}
