/*!
Writing generated events in each export format: the console CSV, code42cli's CSV (Python literals,
shuffled columns), the incydr CLI's CSV, JSON Lines, pretty concatenated JSON, a JSON array and the
API's envelope. Records are formatted by hand into a reused byte buffer (no `serde_json::Value` per
event); framing (file header, separators, trailer) is left to the caller so records can be emitted
in either time order.

Escaping rules live here and only here: RFC 4180 quoting for CSV, JSON string escapes, Python `repr`.
*/

use std::collections::HashMap;

use super::GenFormat;
use super::kinds::{DETAIL_KEYS, Event, Ip, SPECS, Val};
use super::rng::{Rng, derive};
use crate::model::catalog::Catalog;

/// The console export's header, in its column order.
pub const CONSOLE_HEADER: &str = "Date observed,Username,User type,Event type,IP address,Affected user,Affected user ID,Actor ID,User agent,Details";

/// The incydr CLI's header.
pub const INCYDR_HEADER: &str = "type,actor_id,actor_name,actor_agent,actor_ip_addresses,timestamp";

/// The API's top-level keys (before the event-specific ones).
pub const API_TOP_KEYS: &[&str] = &[
    "type$",
    "actorId",
    "actorName",
    "actorAgent",
    "actorIpAddress",
    "timestamp",
    "actorType",
    "userId",
    "userName",
];

const HEADER_STREAM: u64 = 0x6865_6164;

/// Anything text can be appended to.
pub trait Out {
    fn put(&mut self, s: &str);
}

impl Out for String {
    fn put(&mut self, s: &str) {
        self.push_str(s);
    }
}

impl Out for Vec<u8> {
    fn put(&mut self, s: &str) {
        self.extend_from_slice(s.as_bytes());
    }
}

/// Append `s` as a JSON string literal (quotes included), escaping only what JSON requires.
pub fn json_string<O: Out>(s: &str, out: &mut O) {
    out.put("\"");
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.put(&s[start..i]);
        if esc.is_empty() {
            out.put(&format!("\\u{:04x}", b));
        } else {
            out.put(esc);
        }
        start = i + 1;
    }
    out.put(&s[start..]);
    out.put("\"");
}

/// Append `s` the way Python's `repr(str)` prints it: single quotes unless the text contains a
/// single quote and no double quote; backslash, the quote and control characters escaped.
pub fn python_string<O: Out>(s: &str, out: &mut O) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let q = if quote == '"' { "\"" } else { "'" };
    out.put(q);
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let esc: Option<String> = match c {
            '\\' => Some("\\\\".into()),
            '\n' => Some("\\n".into()),
            '\r' => Some("\\r".into()),
            '\t' => Some("\\t".into()),
            c if c == quote => Some(format!("\\{c}")),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => Some(format!("\\x{:02x}", c as u32)),
            _ => None,
        };
        if let Some(e) = esc {
            out.put(&s[start..i]);
            out.put(&e);
            start = i + c.len_utf8();
        }
    }
    out.put(&s[start..]);
    out.put(q);
}

/// Append a value as Python's `repr` prints it inside a dict or list.
pub fn python_repr<O: Out>(v: &Val<'_>, out: &mut O) {
    match v {
        Val::Null => out.put("None"),
        Val::Bool(true) => out.put("True"),
        Val::Bool(false) => out.put("False"),
        Val::Int(n) => out.put(&n.to_string()),
        Val::Str(s) => python_string(s, out),
        Val::Owned(s) => python_string(s, out),
        Val::List(items) => {
            out.put("[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.put(", ");
                }
                python_repr(item, out);
            }
            out.put("]");
        }
        Val::Obj(fields) => {
            out.put("{");
            for (i, (k, item)) in fields.iter().enumerate() {
                if i > 0 {
                    out.put(", ");
                }
                python_string(k, out);
                out.put(": ");
                python_repr(item, out);
            }
            out.put("}");
        }
    }
}

/// A CSV cell as code42cli writes a top-level value: strings as they are, `True`/`False`, numbers
/// as digits, null as an empty cell, dicts and lists as Python text.
pub fn python_cell<O: Out>(v: &Val<'_>, out: &mut O) {
    match v {
        Val::Null => {}
        Val::Str(s) => out.put(s),
        Val::Owned(s) => out.put(s),
        other => python_repr(other, out),
    }
}

/// Append one CSV field with RFC 4180 quoting: quoted when it holds a comma, quote, CR or LF, with
/// inner quotes doubled.
pub fn csv_field(field: &[u8], out: &mut Vec<u8>) {
    if !field
        .iter()
        .any(|&b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
    {
        out.extend_from_slice(field);
        return;
    }
    out.push(b'"');
    let mut start = 0;
    for (i, &b) in field.iter().enumerate() {
        if b == b'"' {
            out.extend_from_slice(&field[start..=i]);
            out.push(b'"');
            start = i + 1;
        }
    }
    out.extend_from_slice(&field[start..]);
    out.push(b'"');
}

fn push_digits(out: &mut Vec<u8>, mut v: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    while v > 0 || buf.len() - i < width {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    out.extend_from_slice(&buf[i..]);
}

/// Calendar date of a day number since 1970-01-01 (proleptic Gregorian).
fn civil_from_days(days: i64) -> (i64, u64, u64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u64;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u64;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Append an ISO-8601 UTC timestamp with exactly `prec` (0, 3, 6 or 9) fractional digits.
pub fn timestamp(ns: i64, prec: u8, out: &mut Vec<u8>) {
    let secs = ns.div_euclid(1_000_000_000);
    let frac = ns.rem_euclid(1_000_000_000) as u64;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400) as u64;
    push_digits(out, y.max(0) as u64, 4);
    out.push(b'-');
    push_digits(out, m, 2);
    out.push(b'-');
    push_digits(out, d, 2);
    out.push(b'T');
    push_digits(out, sod / 3600, 2);
    out.push(b':');
    push_digits(out, sod / 60 % 60, 2);
    out.push(b':');
    push_digits(out, sod % 60, 2);
    match prec {
        0 => {}
        3 => {
            out.push(b'.');
            push_digits(out, frac / 1_000_000, 3);
        }
        6 => {
            out.push(b'.');
            push_digits(out, frac / 1_000, 6);
        }
        _ => {
            out.push(b'.');
            push_digits(out, frac, 9);
        }
    }
    out.push(b'Z');
}

/// The text of an `actorIpAddress` value (`None` for JSON null).
fn ip_text<'e>(ip: &'e Ip<'_>, scratch: &'e mut String) -> Option<&'e str> {
    match ip {
        Ip::Null => None,
        Ip::NullText => Some("null"),
        Ip::One(a) => Some(a),
        Ip::Chain(a, b) => {
            scratch.clear();
            scratch.push_str(a);
            scratch.push_str(", ");
            scratch.push_str(b);
            Some(scratch.as_str())
        }
        Ip::Owned(s) => Some(s),
    }
}

fn indent(out: &mut Vec<u8>, n: usize) {
    out.push(b'\n');
    out.extend(std::iter::repeat_n(b' ', n));
}

/// A JSON object being written, compact (`pretty: None`) or with 2-space indentation starting at
/// the given depth.
struct Obj {
    pretty: Option<usize>,
    first: bool,
}

impl Obj {
    fn begin(out: &mut Vec<u8>, pretty: Option<usize>) -> Obj {
        out.push(b'{');
        Obj {
            pretty,
            first: true,
        }
    }

    fn key(&mut self, k: &str, out: &mut Vec<u8>) {
        if !self.first {
            out.push(b',');
        }
        self.first = false;
        if let Some(n) = self.pretty {
            indent(out, n + 2);
        }
        json_string(k, out);
        out.extend_from_slice(if self.pretty.is_some() { b": " } else { b":" });
    }

    fn str(&mut self, k: &str, v: Option<&str>, out: &mut Vec<u8>) {
        self.key(k, out);
        match v {
            Some(s) => json_string(s, out),
            None => out.extend_from_slice(b"null"),
        }
    }

    fn end(self, out: &mut Vec<u8>) {
        if let (Some(n), false) = (self.pretty, self.first) {
            indent(out, n);
        }
        out.push(b'}');
    }
}

/// Append a detail value as JSON.
fn json_val(v: &Val<'_>, pretty: Option<usize>, out: &mut Vec<u8>) {
    match v {
        Val::Null => out.extend_from_slice(b"null"),
        Val::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Val::Int(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Val::Str(s) => json_string(s, out),
        Val::Owned(s) => json_string(s, out),
        Val::List(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                if let Some(n) = pretty {
                    indent(out, n + 2);
                }
                json_val(item, pretty.map(|n| n + 2), out);
            }
            if let (Some(n), false) = (pretty, items.is_empty()) {
                indent(out, n);
            }
            out.push(b']');
        }
        Val::Obj(fields) => {
            let mut o = Obj::begin(out, pretty);
            for (k, item) in fields {
                o.key(k, out);
                json_val(item, pretty.map(|n| n + 2), out);
            }
            o.end(out);
        }
    }
}

/// Per-format encoder state: texts resolved once from the catalog and reused buffers.
pub struct Encoder {
    format: GenFormat,
    /// `audit_log::<api_name>/1` by spec index.
    type_names: Vec<String>,
    /// Console labels by spec index.
    labels: Vec<&'static str>,
    /// api-csv column order and the column of each key.
    api_columns: Vec<&'static str>,
    api_index: HashMap<&'static str, usize>,
    cells: Vec<Vec<u8>>,
    scratch: Vec<u8>,
    ip_scratch: String,
}

impl Encoder {
    pub fn new(format: GenFormat, seed: u64) -> Encoder {
        let catalog = Catalog::get();
        let type_names = SPECS
            .iter()
            .map(|s| format!("audit_log::{}/1", s.api))
            .collect();
        let labels = SPECS
            .iter()
            .map(|s| catalog.by_api_name(s.api).map_or(s.api, |e| e.label))
            .collect();
        // code42cli writes the union of keys in an order that changes from run to run.
        let mut api_columns: Vec<&'static str> =
            API_TOP_KEYS.iter().chain(DETAIL_KEYS).copied().collect();
        let mut rng = Rng::new(derive(seed, HEADER_STREAM, 0));
        for i in (1..api_columns.len()).rev() {
            api_columns.swap(i, rng.index(i + 1));
        }
        let api_index = api_columns
            .iter()
            .enumerate()
            .map(|(i, k)| (*k, i))
            .collect();
        let cells = vec![Vec::new(); api_columns.len()];
        Encoder {
            format,
            type_names,
            labels,
            api_columns,
            api_index,
            cells,
            scratch: Vec::new(),
            ip_scratch: String::new(),
        }
    }

    /// What goes before the first record.
    pub fn prefix(&self, out: &mut Vec<u8>) {
        match self.format {
            GenFormat::ConsoleCsv => {
                out.extend_from_slice(CONSOLE_HEADER.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            GenFormat::ApiCsv => {
                for (i, k) in self.api_columns.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    csv_field(k.as_bytes(), out);
                }
                out.push(b'\n');
            }
            GenFormat::IncydrCsv => {
                out.extend_from_slice(INCYDR_HEADER.as_bytes());
                out.push(b'\n');
            }
            GenFormat::JsonLines | GenFormat::JsonConcatenated => {}
            GenFormat::JsonArray => out.push(b'['),
            GenFormat::JsonEnvelope => out.extend_from_slice(b"{\"events\":["),
        }
    }

    /// What goes before each record (`first`: before the first one).
    pub fn separator(&self, first: bool, out: &mut Vec<u8>) {
        match self.format {
            GenFormat::JsonArray | GenFormat::JsonEnvelope => {
                if !first {
                    out.push(b',');
                }
                out.push(b'\n');
                if self.format == GenFormat::JsonArray {
                    out.extend_from_slice(b"  ");
                }
            }
            _ => {}
        }
    }

    /// What goes after the last record.
    pub fn suffix(&self, count: u64, out: &mut Vec<u8>) {
        match self.format {
            GenFormat::JsonArray => {
                out.extend_from_slice(if count > 0 { b"\n]\n" } else { b"]\n" })
            }
            GenFormat::JsonEnvelope => {
                if count > 0 {
                    out.push(b'\n');
                }
                out.extend_from_slice(
                    b"],\"paginationRangeStartIndex\":0,\"paginationRangeEndIndex\":",
                );
                out.extend_from_slice(count.to_string().as_bytes());
                out.extend_from_slice(b"}\n");
            }
            _ => {}
        }
    }

    /// Append one record (with its line terminator where the format has one).
    pub fn record(&mut self, ev: &Event<'_>, out: &mut Vec<u8>) {
        match self.format {
            GenFormat::ConsoleCsv => self.console(ev, out),
            GenFormat::ApiCsv => self.api_csv(ev, out),
            GenFormat::IncydrCsv => self.incydr(ev, out),
            GenFormat::JsonLines => {
                self.api_json(ev, None, out);
                out.push(b'\n');
            }
            GenFormat::JsonConcatenated => {
                self.api_json(ev, Some(0), out);
                out.push(b'\n');
            }
            GenFormat::JsonArray => self.api_json(ev, Some(2), out),
            GenFormat::JsonEnvelope => self.api_json(ev, None, out),
        }
    }

    fn api_json(&mut self, ev: &Event<'_>, pretty: Option<usize>, out: &mut Vec<u8>) {
        let mut o = Obj::begin(out, pretty);
        o.str("type$", Some(&self.type_names[usize::from(ev.kind)]), out);
        if let Some(a) = ev.actor {
            o.str("actorId", Some(&a.id), out);
            o.str("actorName", Some(&a.name), out);
            o.str("actorAgent", ev.agent, out);
            o.str("actorIpAddress", ip_text(&ev.ip, &mut self.ip_scratch), out);
        }
        o.key("timestamp", out);
        out.push(b'"');
        timestamp(ev.ns, ev.prec, out);
        out.push(b'"');
        if let Some(a) = ev.actor {
            o.str("actorType", Some(a.kind.api()), out);
        }
        if let Some(u) = ev.affected {
            o.str("userId", Some(&u.id), out);
            o.str("userName", Some(&u.name), out);
        }
        for (k, v) in &ev.details {
            o.key(k, out);
            json_val(v, pretty.map(|n| n + 2), out);
        }
        o.end(out);
    }

    fn console(&mut self, ev: &Event<'_>, out: &mut Vec<u8>) {
        timestamp(ev.ns, ev.prec, out);
        out.push(b',');
        let actor = ev.actor;
        csv_field(actor.map_or("", |a| a.name.as_str()).as_bytes(), out);
        out.push(b',');
        out.extend_from_slice(actor.map_or("Unknown", |a| a.kind.console()).as_bytes());
        out.push(b',');
        csv_field(self.labels[usize::from(ev.kind)].as_bytes(), out);
        out.push(b',');
        if actor.is_some() {
            csv_field(
                ip_text(&ev.ip, &mut self.ip_scratch)
                    .unwrap_or("")
                    .as_bytes(),
                out,
            );
        }
        out.push(b',');
        if let Some(u) = ev.affected {
            csv_field(u.name.as_bytes(), out);
            out.push(b',');
            csv_field(u.id.as_bytes(), out);
        } else {
            out.push(b',');
        }
        out.push(b',');
        csv_field(actor.map_or("", |a| a.id.as_str()).as_bytes(), out);
        out.push(b',');
        if actor.is_some() {
            csv_field(ev.agent.unwrap_or("").as_bytes(), out);
        }
        out.push(b',');
        self.scratch.clear();
        let mut o = Obj::begin(&mut self.scratch, None);
        for (k, v) in &ev.details {
            o.key(k, &mut self.scratch);
            json_val(v, None, &mut self.scratch);
        }
        o.end(&mut self.scratch);
        csv_field(&self.scratch, out);
        out.extend_from_slice(b"\r\n");
    }

    fn api_csv(&mut self, ev: &Event<'_>, out: &mut Vec<u8>) {
        for c in &mut self.cells {
            c.clear();
        }
        let idx = &self.api_index;
        let cells = &mut self.cells;
        let mut set = |key: &str, text: &str| {
            if let Some(&i) = idx.get(key) {
                cells[i].extend_from_slice(text.as_bytes());
            }
        };
        set("type$", &self.type_names[usize::from(ev.kind)]);
        if let Some(a) = ev.actor {
            set("actorId", &a.id);
            set("actorName", &a.name);
            set("actorAgent", ev.agent.unwrap_or(""));
            set(
                "actorIpAddress",
                ip_text(&ev.ip, &mut self.ip_scratch).unwrap_or(""),
            );
            set("actorType", a.kind.api());
        }
        if let Some(u) = ev.affected {
            set("userId", &u.id);
            set("userName", &u.name);
        }
        if let Some(&i) = idx.get("timestamp") {
            timestamp(ev.ns, ev.prec, &mut cells[i]);
        }
        for (k, v) in &ev.details {
            // Every key is in the header (DETAIL_KEYS, checked by a test); an unknown one is dropped
            // rather than shifting the columns.
            if let Some(&i) = idx.get(k) {
                python_cell(v, &mut cells[i]);
            }
        }
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            csv_field(c, out);
        }
        out.push(b'\n');
    }

    fn incydr(&mut self, ev: &Event<'_>, out: &mut Vec<u8>) {
        csv_field(self.type_names[usize::from(ev.kind)].as_bytes(), out);
        out.push(b',');
        if let Some(a) = ev.actor {
            csv_field(a.id.as_bytes(), out);
            out.push(b',');
            csv_field(a.name.as_bytes(), out);
            out.push(b',');
            csv_field(ev.agent.unwrap_or("").as_bytes(), out);
            out.push(b',');
            csv_field(
                ip_text(&ev.ip, &mut self.ip_scratch)
                    .unwrap_or("")
                    .as_bytes(),
                out,
            );
        } else {
            out.extend_from_slice(b",,,");
        }
        out.push(b',');
        timestamp(ev.ns, ev.prec, out);
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(s: &str) -> String {
        let mut out = Vec::new();
        csv_field(s.as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn csv_quoting_follows_rfc_4180() {
        assert_eq!(csv("plain"), "plain");
        assert_eq!(csv(""), "");
        assert_eq!(csv("a,b"), "\"a,b\"");
        assert_eq!(csv("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv("cr\rhere"), "\"cr\rhere\"");
        assert_eq!(csv("\"a\", b\r\n"), "\"\"\"a\"\", b\r\n\"");
        // And the project's own CSV splitter reads it back.
        let line = format!("{},{},{}", csv("a,\"b\"\nc"), csv("x"), csv(""));
        let mut fields = Vec::new();
        crate::input::csv::split_fields(line.as_bytes(), &mut fields);
        let fields: Vec<&[u8]> = fields.iter().map(|f| f.as_ref()).collect();
        assert_eq!(fields, [b"a,\"b\"\nc".as_slice(), b"x", b""]);
    }

    #[test]
    fn python_repr_of_nested_values() {
        let v = Val::Obj(vec![
            ("a", Val::Int(1)),
            ("b", Val::List(vec![Val::Int(1), Val::Int(2)])),
            ("c", Val::Null),
            ("d", Val::Bool(true)),
            ("e", Val::Str("it's")),
            ("f", Val::Str("say \"x\" it's\\n")),
            ("g", Val::Obj(vec![])),
            ("h", Val::List(vec![])),
            ("i", Val::Str("tab\there\nnl")),
        ]);
        let mut s = String::new();
        python_repr(&v, &mut s);
        assert_eq!(
            s,
            r#"{'a': 1, 'b': [1, 2], 'c': None, 'd': True, 'e': "it's", 'f': 'say "x" it\'s\\n', 'g': {}, 'h': [], 'i': 'tab\there\nnl'}"#
        );
        // The reader's Python-literal parser gives back the same structure.
        let back = crate::input::values::python_cell(&s);
        let want = serde_json::json!({"a": 1, "b": [1, 2], "c": null, "d": true, "e": "it's",
            "f": "say \"x\" it's\\n", "g": {}, "h": [], "i": "tab\there\nnl"});
        assert_eq!(back, want);
        let mut cell = String::new();
        python_cell(&Val::Bool(false), &mut cell);
        python_cell(&Val::Null, &mut cell);
        python_cell(&Val::Str("raw 'text'"), &mut cell);
        assert_eq!(cell, "Falseraw 'text'");
    }

    #[test]
    fn json_strings_escape_what_json_requires() {
        let mut s = String::new();
        json_string("a\"b\\c\nd\u{1}é", &mut s);
        assert_eq!(s, "\"a\\\"b\\\\c\\nd\\u0001é\"");
        let back: String = serde_json::from_str(&s).unwrap();
        assert_eq!(back, "a\"b\\c\nd\u{1}é");
    }

    #[test]
    fn timestamps_have_the_requested_precision() {
        let ns = crate::time::parse_timestamp("2026-04-01T09:12:33.123456789Z").unwrap();
        let text = |prec| {
            let mut out = Vec::new();
            timestamp(ns, prec, &mut out);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(text(0), "2026-04-01T09:12:33Z");
        assert_eq!(text(3), "2026-04-01T09:12:33.123Z");
        assert_eq!(text(6), "2026-04-01T09:12:33.123456Z");
        assert_eq!(text(9), "2026-04-01T09:12:33.123456789Z");
        for day in [0i64, 59, 60, 365, 10_957, 20_543, 20_544, 47_482] {
            let ns = day * 86_400 * 1_000_000_000;
            let mut out = Vec::new();
            timestamp(ns, 0, &mut out);
            let s = String::from_utf8(out).unwrap();
            assert_eq!(crate::time::format_timestamp(ns), s);
        }
    }

    #[test]
    fn pretty_json_matches_python_indent_2() {
        let v = Val::Obj(vec![
            ("a", Val::List(vec![Val::Int(1), Val::Str("x")])),
            ("b", Val::Obj(vec![])),
            ("c", Val::List(vec![])),
        ]);
        let mut out = Vec::new();
        json_val(&v, Some(0), &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\n  \"a\": [\n    1,\n    \"x\"\n  ],\n  \"b\": {},\n  \"c\": []\n}"
        );
    }
}
