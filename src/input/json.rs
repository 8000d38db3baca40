/*!
JSON exports: JSON Lines (code42cli RAW-JSON, incydr json-lines), a JSON array, pretty-printed
objects one after another (code42cli JSON), and the API's `{"events": [...]}` envelope, all told apart
by looking at the text rather than the file name.

The input is first cut into one byte span per event by a structural scanner that checks JSON's
grammar but not its values, so a broken object is caught where it breaks and costs only itself:
ingest resumes at the next line (JSON Lines) or the next object start. Each span is then parsed with
serde_json; its errors become quarantine entries with the physical line and column.
*/

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::columns::{ColumnMap, Field, event_type_priority, json_field};
use super::row::{RawEvent, RequiredNames, RowError, RowScratch, convert};
use super::{ParsedChunk, Quarantined, truncate_raw};
use crate::model::schema::EventColumns;

/// The JSON layouts auditlens recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonShape {
    Lines,
    Array,
    Concatenated,
    Envelope,
}

impl JsonShape {
    pub fn name(self) -> &'static str {
        match self {
            JsonShape::Lines => "json-lines",
            JsonShape::Array => "json-array",
            JsonShape::Concatenated => "json-concatenated",
            JsonShape::Envelope => "json-api-envelope",
        }
    }
}

/// One event's bytes, or a broken stretch of input.
#[derive(Debug, Clone)]
pub enum Item {
    Object {
        start: usize,
        end: usize,
        line: u64,
    },
    Broken {
        start: usize,
        end: usize,
        line: u64,
        reason: String,
    },
}

const MAX_DEPTH: usize = 256;

struct Scanner<'a> {
    s: &'a [u8],
    i: usize,
}

type ScanResult<T> = Result<T, (usize, String)>;

impl<'a> Scanner<'a> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.i) {
            self.i += 1;
        }
    }

    fn err<T>(&self, what: &str) -> ScanResult<T> {
        let found = match self.s.get(self.i) {
            None => "end of input".to_string(),
            Some(b) if b.is_ascii_graphic() => format!("'{}'", *b as char),
            Some(b) => format!("byte 0x{b:02x}"),
        };
        Err((self.i, format!("expected {what}, found {found}")))
    }

    fn string(&mut self) -> ScanResult<(usize, usize)> {
        if self.s.get(self.i) != Some(&b'"') {
            return self.err("a string");
        }
        self.i += 1;
        let start = self.i;
        loop {
            match memchr::memchr3(b'"', b'\\', b'\n', &self.s[self.i..]) {
                None => {
                    self.i = self.s.len();
                    return self.err("the end of a string");
                }
                Some(k) => {
                    let at = self.i + k;
                    match self.s[at] {
                        b'"' => {
                            self.i = at + 1;
                            return Ok((start, at));
                        }
                        // An escape skips the next byte, but never past the end: a file may end
                        // right after the backslash.
                        b'\\' => self.i = (at + 2).min(self.s.len()),
                        _ => {
                            self.i = at;
                            return self.err("the end of a string before the line ends");
                        }
                    }
                }
            }
        }
    }

    fn value(&mut self, depth: usize) -> ScanResult<()> {
        if depth > MAX_DEPTH {
            return self.err("less deeply nested data");
        }
        self.ws();
        match self.s.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                self.ws();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    self.ws();
                    self.string()?;
                    self.ws();
                    if self.s.get(self.i) != Some(&b':') {
                        return self.err("':'");
                    }
                    self.i += 1;
                    self.value(depth + 1)?;
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(());
                        }
                        _ => return self.err("',' or '}'"),
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                self.ws();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    self.value(depth + 1)?;
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(());
                        }
                        _ => return self.err("',' or ']'"),
                    }
                }
            }
            Some(b'"') => self.string().map(|_| ()),
            Some(b'-' | b'0'..=b'9' | b't' | b'f' | b'n') => {
                let start = self.i;
                while let Some(c) = self.s.get(self.i) {
                    if matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                        break;
                    }
                    self.i += 1;
                }
                if self.i == start {
                    self.err("a value")
                } else {
                    Ok(())
                }
            }
            _ => self.err("a value"),
        }
    }
}

/// Cut `data` into event spans. Fails only when the text is not JSON at all.
pub fn split_items(data: &[u8]) -> Result<(JsonShape, Vec<Item>), String> {
    let mut sc = Scanner { s: data, i: 0 };
    if data.starts_with(b"\xEF\xBB\xBF") {
        sc.i = 3;
    }
    sc.ws();
    let mut items = Vec::new();
    let mut lines = LineCounter::default();
    let mut shape: Option<JsonShape> = None;
    let mut all_single_line = true;
    loop {
        sc.ws();
        let Some(&c) = data.get(sc.i) else { break };
        let start = sc.i;
        match c {
            b'[' => {
                shape.get_or_insert(JsonShape::Array);
                sc.i += 1;
                array_items(&mut sc, &mut lines, &mut items, data);
            }
            b'{' => {
                let line = lines.line_at(data, start);
                let first_item = items.len();
                match envelope_or_object(&mut sc, &mut lines, &mut items, data) {
                    Ok(true) => shape = Some(JsonShape::Envelope),
                    Ok(false) => {
                        if memchr::memchr(b'\n', &data[start..sc.i]).is_some() {
                            all_single_line = false;
                        }
                        items.push(Item::Object {
                            start,
                            end: sc.i,
                            line,
                        });
                    }
                    Err((at, reason)) => {
                        // An envelope that breaks after some of its events were read (a truncated
                        // API response) costs only what follows them: the events are neither read
                        // a second time after resynchronising nor quarantined with the break.
                        let from = match items[first_item..].last() {
                            Some(Item::Object { end, .. } | Item::Broken { end, .. }) => *end,
                            None => start,
                        };
                        let end = resync(data, from);
                        let line_of_error = lines.line_at(data, at.min(data.len()));
                        let line = if from == start {
                            line
                        } else {
                            lines.line_at(data, from)
                        };
                        items.push(Item::Broken {
                            start: from,
                            end,
                            line,
                            reason: format!("invalid JSON at line {line_of_error}: {reason}"),
                        });
                        sc.i = end;
                    }
                }
            }
            _ => {
                if items.is_empty() && shape.is_none() {
                    return Err("not JSON: expected '{' or '[' at the start".into());
                }
                let line = lines.line_at(data, start);
                let end = resync(data, start);
                items.push(Item::Broken {
                    start,
                    end,
                    line,
                    reason: "expected a JSON object".into(),
                });
                sc.i = end;
            }
        }
    }
    let shape = shape.unwrap_or(if all_single_line {
        JsonShape::Lines
    } else {
        JsonShape::Concatenated
    });
    Ok((shape, items))
}

/// Elements of an array (the top level or the envelope's `events`). Returns at its `]`.
fn array_items(sc: &mut Scanner<'_>, lines: &mut LineCounter, items: &mut Vec<Item>, data: &[u8]) {
    loop {
        sc.ws();
        match data.get(sc.i) {
            None => return,
            Some(b']') => {
                sc.i += 1;
                return;
            }
            Some(b',') => sc.i += 1,
            Some(_) => {
                let start = sc.i;
                let line = lines.line_at(data, start);
                let is_object = data[start] == b'{';
                match sc.value(1) {
                    Ok(()) if is_object => items.push(Item::Object {
                        start,
                        end: sc.i,
                        line,
                    }),
                    Ok(()) => items.push(Item::Broken {
                        start,
                        end: sc.i,
                        line,
                        reason: "array element is not an object".into(),
                    }),
                    Err((at, reason)) => {
                        let end = resync(data, start);
                        let line_of_error = lines.line_at(data, at.min(data.len()));
                        items.push(Item::Broken {
                            start,
                            end,
                            line,
                            reason: format!("invalid JSON at line {line_of_error}: {reason}"),
                        });
                        sc.i = end;
                    }
                }
            }
        }
    }
}

/// Scan a top-level object. If it has an `events` array it is the API envelope: its elements are
/// pushed as items and `true` returned. Otherwise the object is one event and `false` is returned.
fn envelope_or_object(
    sc: &mut Scanner<'_>,
    lines: &mut LineCounter,
    items: &mut Vec<Item>,
    data: &[u8],
) -> ScanResult<bool> {
    sc.i += 1;
    let mut envelope = false;
    sc.ws();
    if data.get(sc.i) == Some(&b'}') {
        sc.i += 1;
        return Ok(false);
    }
    loop {
        sc.ws();
        let (ks, ke) = sc.string()?;
        sc.ws();
        if data.get(sc.i) != Some(&b':') {
            return sc.err("':'");
        }
        sc.i += 1;
        sc.ws();
        if &data[ks..ke] == b"events" && data.get(sc.i) == Some(&b'[') {
            envelope = true;
            sc.i += 1;
            array_items(sc, lines, items, data);
        } else {
            sc.value(1)?;
        }
        sc.ws();
        match data.get(sc.i) {
            Some(b',') => sc.i += 1,
            Some(b'}') => {
                sc.i += 1;
                return Ok(envelope);
            }
            _ => return sc.err("',' or '}'"),
        }
    }
}

/// Where to resume after a broken object that started at `start`: the next line that starts an
/// object no more indented than the broken one (column 0 for JSON Lines and concatenated objects, an
/// array's element indentation inside an array), so nested objects of the broken one are skipped.
fn resync(data: &[u8], start: usize) -> usize {
    let line_start = data[..start]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let col = start - line_start;
    let mut i = memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |k| start + k);
    while i < data.len() {
        let ls = i + 1;
        let mut j = ls;
        while let Some(b' ' | b'\t') = data.get(j) {
            j += 1;
        }
        if data.get(j) == Some(&b'{') && j - ls <= col {
            return ls;
        }
        i = memchr::memchr(b'\n', &data[ls..]).map_or(data.len(), |k| ls + k);
    }
    data.len()
}

/// Physical line numbers of byte offsets, counted from the previous offset asked about.
#[derive(Default)]
struct LineCounter {
    pos: usize,
    line: u64,
}

impl LineCounter {
    fn line_at(&mut self, data: &[u8], at: usize) -> u64 {
        if self.line == 0 {
            self.line = 1;
        }
        // Offsets go back after an error found far ahead of the point where scanning resumes;
        // counting back from there (not again from the start of the input) keeps a file of many
        // such errors linear rather than quadratic.
        if at < self.pos {
            self.line -= memchr::memchr_iter(b'\n', &data[at..self.pos]).count() as u64;
        } else {
            self.line += memchr::memchr_iter(b'\n', &data[self.pos..at]).count() as u64;
        }
        self.pos = at;
        self.line
    }
}

/// Parse the items of one parallel slice.
pub fn parse_items(data: &[u8], items: &[Item], column_map: &ColumnMap) -> ParsedChunk {
    let mut cols = EventColumns::with_capacity(items.len());
    let mut quarantined = Vec::new();
    let mut scratch = RowScratch::default();
    for item in items {
        match item {
            Item::Broken {
                start,
                end,
                line,
                reason,
            } => quarantined.push(Quarantined {
                line: *line,
                column: None,
                reason: reason.clone(),
                raw: truncate_raw(&data[*start..*end]),
            }),
            Item::Object { start, end, line } => {
                let bytes = &data[*start..*end];
                if let Err(e) = object_to_event(bytes, *line, column_map, &mut scratch, &mut cols) {
                    quarantined.push(Quarantined {
                        line: *line,
                        column: e.column,
                        reason: e.reason,
                        raw: truncate_raw(bytes),
                    });
                }
            }
        }
    }
    ParsedChunk::new(cols, quarantined, items.len() as u64)
}

fn object_to_event(
    bytes: &[u8],
    line: u64,
    column_map: &ColumnMap,
    scratch: &mut RowScratch,
    out: &mut EventColumns,
) -> Result<(), RowError> {
    let obj: Map<String, Value> = serde_json::from_slice(bytes).map_err(|e| {
        let at_line = line + e.line() as u64 - 1;
        RowError::new(
            None,
            format!("invalid JSON at line {at_line}, column {}: {e}", e.column()),
        )
    })?;
    let mut raw = RawEvent {
        line,
        ..RawEvent::default()
    };
    let mut type_key: Option<(usize, String)> = None;
    let mut names = RequiredNames::default();
    // Decide which key holds the event type first: `type$` beats `type` (search events have both).
    for k in obj.keys() {
        if json_field(k, column_map) == Some(Field::EventType) {
            let p = event_type_priority(k);
            if type_key.as_ref().is_none_or(|(best, _)| p < *best) {
                type_key = Some((p, k.clone()));
            }
        }
    }
    for (k, v) in obj {
        let field = json_field(&k, column_map);
        let field = match field {
            Some(Field::EventType) if type_key.as_ref().map(|t| &t.1) != Some(&k) => None,
            other => other,
        };
        let slot = match field {
            None => {
                raw.details.insert(k, v);
                continue;
            }
            Some(Field::Derived) => continue,
            Some(Field::Timestamp) => {
                names.timestamp = Some(k.clone());
                &mut raw.timestamp
            }
            Some(Field::EventType) => {
                names.event_type = Some(k.clone());
                &mut raw.event_type
            }
            Some(Field::ActorName) => &mut raw.actor_name,
            Some(Field::ActorId) => &mut raw.actor_id,
            Some(Field::ActorType) => &mut raw.actor_type,
            Some(Field::Ip) => &mut raw.ip,
            Some(Field::UserAgent) => &mut raw.user_agent,
            Some(Field::AffectedName) => &mut raw.affected_name,
            Some(Field::AffectedId) => &mut raw.affected_id,
            Some(Field::Details) => {
                match v {
                    Value::Object(m) => {
                        for (dk, dv) in m {
                            raw.details.entry(dk).or_insert(dv);
                        }
                    }
                    Value::Null => {}
                    other => {
                        raw.details.insert(k, other);
                    }
                }
                continue;
            }
        };
        if slot.is_some() {
            // A second spelling of a field already set: keep it as a detail rather than drop it.
            raw.details.insert(k, v);
            continue;
        }
        *slot = match v {
            Value::Null => None,
            Value::String(s) => Some(Cow::Owned(s)),
            Value::Array(items) => Some(Cow::Owned(
                items
                    .iter()
                    .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join(", "),
            )),
            other => Some(Cow::Owned(other.to_string())),
        };
    }
    convert(raw, &names, scratch, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape_and_lines(s: &str) -> (JsonShape, Vec<(u64, bool)>) {
        let (shape, items) = split_items(s.as_bytes()).unwrap();
        let v = items
            .iter()
            .map(|i| match i {
                Item::Object { line, .. } => (*line, true),
                Item::Broken { line, .. } => (*line, false),
            })
            .collect();
        (shape, v)
    }

    #[test]
    fn shapes() {
        assert_eq!(
            shape_and_lines("{\"a\":1}\n{\"a\":2}\n").0,
            JsonShape::Lines
        );
        assert_eq!(
            shape_and_lines("[{\"a\":1},\n {\"a\":2}]").1,
            [(1, true), (2, true)]
        );
        assert_eq!(
            shape_and_lines("{\n  \"a\": 1\n}\n{\n  \"a\": 2\n}\n"),
            (JsonShape::Concatenated, vec![(1, true), (4, true)])
        );
        let env = "{\"events\": [\n{\"a\":1},\n{\"a\":2}\n], \"paginationRangeStartIndex\": 0}";
        assert_eq!(
            shape_and_lines(env),
            (JsonShape::Envelope, vec![(2, true), (3, true)])
        );
        let env2 = "{\"total\": 2, \"events\": []}";
        assert_eq!(shape_and_lines(env2), (JsonShape::Envelope, vec![]));
        assert!(split_items(b"hello").is_err());
    }

    #[test]
    fn a_broken_line_costs_only_itself() {
        let s = "{\"a\":1}\n{\"a\": \n{\"a\":3}\n{\"a\":\"x}\n{\"a\":5}\n";
        assert_eq!(
            shape_and_lines(s).1,
            [(1, true), (2, false), (3, true), (4, false), (5, true)]
        );
    }

    #[test]
    fn a_broken_envelope_costs_only_what_follows_its_events() {
        // Found by fuzzing: the whole envelope was quarantined on top of its events, and with
        // events at column 0 the resynchronisation read every event a second time.
        let s = "{\"events\": [\n{\"a\":1},\n{\"a\":2},\n{\"a\": 3,\n";
        let (_, items) = split_items(s.as_bytes()).unwrap();
        let v: Vec<_> = items
            .iter()
            .map(|i| match i {
                Item::Object { start, line, .. } => (*line, true, *start),
                Item::Broken { start, line, .. } => (*line, false, *start),
            })
            .collect();
        // The truncated event on its own line, then the envelope's missing end.
        assert_eq!(
            v,
            [
                (2, true, 13),
                (3, true, 22),
                (4, false, 31),
                (5, false, s.len())
            ]
        );
        let s = "{\"events\": [{\"a\":1}, {\"a\":2}], \"total\" 2}";
        let (_, items) = split_items(s.as_bytes()).unwrap();
        assert_eq!(items.len(), 3);
        assert!(
            matches!(
                items[2],
                Item::Broken {
                    start: 28,
                    line: 1,
                    ..
                }
            ),
            "{items:?}"
        );
    }

    #[test]
    fn input_ending_in_an_escape_is_broken_not_a_panic() {
        // Found by fuzzing (in seconds): the escape skipped past the end of the input and the next scan
        // sliced out of bounds.
        for s in [
            "{\"a\\",
            "{\"a\":\"\\",
            "[{\"a\":\"\\",
            "{\"events\":[{\"\\",
        ] {
            let (_, items) = split_items(s.as_bytes()).unwrap();
            assert!(
                matches!(items.last(), Some(Item::Broken { .. })),
                "{s:?}: {items:?}"
            );
        }
    }

    #[test]
    fn a_broken_pretty_object_resyncs_at_the_next_object() {
        let s = "{\n  \"a\": 1\n}\n{\n  \"a\": ,\n  \"b\": 2\n}\n{\n  \"a\": 3\n}\n";
        assert_eq!(shape_and_lines(s).1, [(1, true), (4, false), (8, true)]);
    }
}
