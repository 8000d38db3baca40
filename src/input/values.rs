/*!
Value-level parsing shared by every reader: null spellings, IP proxy chains, the Python literals that
code42cli writes into its CSV, and canonical JSON for event details.
*/

use std::net::IpAddr;

use serde_json::{Map, Number, Value};

use crate::model::schema::StrList;

/// `s.trim()`, answered from the first and last bytes when neither can start or end white space.
///
/// Ingest trims every field of every row, and nearly all of them start and end with a printable
/// ASCII character: `str::trim` decodes characters at both ends and asks for each whether it is
/// Unicode white space (1.2% of ingest's samples). Only ASCII white space (`\t` to `\r`, space) is
/// one byte long; every other white space character starts and ends with a byte of 0x80 or more.
pub fn trim(s: &str) -> &str {
    let plain = |b: u8| b < 0x80 && !matches!(b, b'\t'..=b'\r' | b' ');
    match s.as_bytes() {
        [first, .., last] if plain(*first) && plain(*last) => s,
        [only] if plain(*only) => s,
        _ => s.trim(),
    }
}

/// True for the spellings exports use for "no value": empty, `null` (any case) and Python's `None`.
pub fn is_null_text(s: &str) -> bool {
    is_null_trimmed(trim(s))
}

/// [`is_null_text`] of text already trimmed.
fn is_null_trimmed(t: &str) -> bool {
    t.is_empty() || t.eq_ignore_ascii_case("null") || t == "None"
}

/// `Some(trimmed)` unless the text is one of the null spellings. (Ingest calls it for every field
/// of every row: the text is trimmed once.)
pub fn non_null(s: &str) -> Option<&str> {
    let t = trim(s);
    (!is_null_trimmed(t)).then_some(t)
}

/// Split an `actorIpAddress` value into addresses: a comma-separated proxy chain whose first entry is
/// the client. Null entries are dropped, a `:port` suffix is removed and valid addresses are written
/// in their canonical form (so `::FFFF:1.2.3.4` and `::ffff:1.2.3.4` compare equal); anything that
/// is not an address is kept as given rather than dropped.
pub fn split_ip_chain(raw: &str) -> Vec<String> {
    let mut list = StrList::default();
    split_ip_chain_into(raw, &mut list);
    list.iter().map(str::to_owned).collect()
}

/// [`split_ip_chain`] into a reused buffer (ingest calls it once per row).
pub fn split_ip_chain_into(raw: &str, out: &mut StrList) {
    out.clear();
    // `raw.split([',', ' ', ';'])`, found with one vectorised search instead of decoding and
    // comparing every character (the separators are ASCII, so every piece is text).
    let ends = memchr::memchr3_iter(b',', b' ', b';', raw.as_bytes()).chain([raw.len()]);
    let mut start = 0;
    for end in ends {
        if let Some(s) = raw.get(start..end).map(trim)
            && !is_null_trimmed(s)
        {
            out.push_with(|buf| write_ip(s, buf));
        }
        start = end + 1;
    }
}

/// Write the canonical form of one address (see [`split_ip_chain`]).
fn write_ip(s: &str, out: &mut String) {
    use std::fmt::Write;
    if is_canonical_ipv4(s) {
        // The common case: already canonical, nothing to format.
        out.push_str(s);
        return;
    }
    let _ = write!(out, "{}", normalize_ip(s));
}

/// Dotted-quad IPv4 text whose canonical form is itself (no leading zeros, each octet <= 255).
/// One pass over the bytes: ingest asks this of every address of every row.
fn is_canonical_ipv4(s: &str) -> bool {
    let (mut dots, mut digits, mut octet) = (0, 0, 0u32);
    for &b in s.as_bytes() {
        match b {
            b'0'..=b'9' => {
                if digits == 1 && octet == 0 {
                    return false; // a leading zero
                }
                octet = octet * 10 + u32::from(b - b'0');
                digits += 1;
                if octet > 255 {
                    return false;
                }
            }
            b'.' if digits > 0 && dots < 3 => {
                dots += 1;
                digits = 0;
                octet = 0;
            }
            _ => return false,
        }
    }
    dots == 3 && digits > 0
}

fn normalize_ip(s: &str) -> String {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return ip.to_string();
    }
    // [v6]:port and v4:port
    if let Some(rest) = s.strip_prefix('[')
        && let Some((addr, _port)) = rest.split_once(']')
        && let Ok(ip) = addr.parse::<IpAddr>()
    {
        return ip.to_string();
    }
    if let Some((addr, port)) = s.rsplit_once(':')
        && port.bytes().all(|b| b.is_ascii_digit())
        && !port.is_empty()
        && let Ok(ip @ IpAddr::V4(_)) = addr.parse::<IpAddr>()
    {
        return ip.to_string();
    }
    s.to_owned()
}

/// Interpret a CSV cell as code42cli wrote it: `True`/`False`/`None`, Python `dict`/`list`/`tuple`
/// reprs and JSON become structured values; anything else stays text. Numbers stay text because a CSV
/// cell does not say whether `00123` was a number.
pub fn python_cell(s: &str) -> Value {
    match s {
        "True" => return Value::Bool(true),
        "False" => return Value::Bool(false),
        "None" => return Value::Null,
        _ => {}
    }
    let t = s.trim();
    if t.starts_with(['{', '[', '(']) {
        // Python's repr quotes strings with ' (unless they contain one), so text that is valid JSON
        // with double-quoted strings was a string holding JSON (like `requestJson`): keep it text.
        if t.contains('"') && serde_json::from_str::<Value>(t).is_ok() {
            return Value::String(s.to_owned());
        }
        let mut p = PyParser {
            s: t.as_bytes(),
            i: 0,
        };
        if let Some(v) = p.value() {
            p.ws();
            if p.i == p.s.len() {
                return v;
            }
        }
    }
    Value::String(s.to_owned())
}

/// A small recursive-descent parser for Python literal reprs (what `str(dict)` prints).
struct PyParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl PyParser<'_> {
    const MAX_DEPTH: usize = 64;

    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn value(&mut self) -> Option<Value> {
        self.value_at(0)
    }

    fn value_at(&mut self, depth: usize) -> Option<Value> {
        if depth > Self::MAX_DEPTH {
            return None;
        }
        self.ws();
        match *self.s.get(self.i)? {
            b'{' => {
                self.i += 1;
                let mut map = Map::new();
                loop {
                    self.ws();
                    if self.eat(b'}') {
                        return Some(Value::Object(map));
                    }
                    let key = match self.value_at(depth + 1)? {
                        Value::String(k) => k,
                        other => other.to_string(),
                    };
                    self.ws();
                    if !self.eat(b':') {
                        return None;
                    }
                    let v = self.value_at(depth + 1)?;
                    map.insert(key, v);
                    self.ws();
                    if !self.eat(b',') {
                        self.ws();
                        return self.eat(b'}').then_some(Value::Object(map));
                    }
                }
            }
            open @ (b'[' | b'(') => {
                let close = if open == b'[' { b']' } else { b')' };
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    self.ws();
                    if self.eat(close) {
                        return Some(Value::Array(items));
                    }
                    items.push(self.value_at(depth + 1)?);
                    self.ws();
                    if !self.eat(b',') {
                        self.ws();
                        return self.eat(close).then_some(Value::Array(items));
                    }
                }
            }
            q @ (b'\'' | b'"') => self.string(q).map(Value::String),
            _ => {
                let start = self.i;
                while self.i < self.s.len()
                    && !b",:}])".contains(&self.s[self.i])
                    && !self.s[self.i].is_ascii_whitespace()
                {
                    self.i += 1;
                }
                let word = std::str::from_utf8(&self.s[start..self.i]).ok()?;
                Some(match word {
                    "True" => Value::Bool(true),
                    "False" => Value::Bool(false),
                    "None" => Value::Null,
                    _ => {
                        if let Ok(n) = word.parse::<i64>() {
                            Value::Number(n.into())
                        } else if let Ok(n) = word.parse::<u64>() {
                            Value::Number(n.into())
                        } else {
                            let f = word.parse::<f64>().ok()?;
                            Value::Number(Number::from_f64(f)?)
                        }
                    }
                })
            }
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.s.get(self.i) == Some(&b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn string(&mut self, quote: u8) -> Option<String> {
        self.i += 1;
        let mut out = Vec::new();
        while let Some(&c) = self.s.get(self.i) {
            self.i += 1;
            if c == quote {
                return String::from_utf8(out).ok();
            }
            if c != b'\\' {
                out.push(c);
                continue;
            }
            let e = *self.s.get(self.i)?;
            self.i += 1;
            match e {
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'r' => out.push(b'\r'),
                b'0' => out.push(0),
                b'x' | b'u' | b'U' => {
                    let n = match e {
                        b'x' => 2,
                        b'u' => 4,
                        _ => 8,
                    };
                    let hex = std::str::from_utf8(self.s.get(self.i..self.i + n)?).ok()?;
                    self.i += n;
                    let ch = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
                    let mut buf = [0; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                other => out.push(other),
            }
        }
        None
    }
}

/// Write `v` as canonical JSON: object keys sorted (by bytes), no insignificant whitespace. Two
/// spellings of the same details produce the same text, which the event id depends on.
pub fn canonical_json(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_json_string(k, out);
                out.push(':');
                canonical_json(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(item, out);
            }
            out.push(']');
        }
        Value::String(s) => push_json_string(s, out),
        other => out.push_str(&other.to_string()),
    }
}

fn push_json_string(s: &str, out: &mut String) {
    // serde_json's string escaping is canonical already (minimal escapes, \u00XX for controls).
    out.push_str(&Value::String(s.to_owned()).to_string());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nulls() {
        for s in ["", "  ", "null", "NULL", "None"] {
            assert!(is_null_text(s), "{s:?}");
        }
        assert!(!is_null_text("nullable"));
        assert_eq!(non_null("  a b\t"), Some("a b"));
        assert_eq!(non_null(" None "), None);
        assert_eq!(non_null("nullable "), Some("nullable"));
    }

    #[test]
    fn proxy_chains() {
        assert_eq!(
            split_ip_chain("50.93.255.223, 64.252.71.111"),
            ["50.93.255.223", "64.252.71.111"]
        );
        assert_eq!(split_ip_chain("null"), Vec::<String>::new());
        assert_eq!(split_ip_chain("2001:DB8::1"), ["2001:db8::1"]);
        assert_eq!(split_ip_chain("10.0.0.1:443"), ["10.0.0.1"]);
        assert_eq!(
            split_ip_chain("[2001:db8::2]:8443,10.1.1.1"),
            ["2001:db8::2", "10.1.1.1"]
        );
        assert_eq!(split_ip_chain("not-an-ip"), ["not-an-ip"]);
        assert_eq!(split_ip_chain("010.1.1.1"), ["010.1.1.1"]);
    }

    proptest::proptest! {
        /// The fast path trims as `str::trim` does: ASCII white space (vertical tab and form
        /// feed included), Unicode white space (no-break, ideographic and line separator spaces,
        /// next line), other non-ASCII text, control characters that are not white space.
        #[test]
        fn trim_is_str_trim(s in "[ \t\n\x0b\x0c\ra-z0-9\x00\x1f\x7f\u{85}\u{a0}\u{3000}\u{2028}é€]{0,6}") {
            proptest::prop_assert_eq!(trim(&s), s.trim());
        }

        /// The search for separators splits as `str::split` on them does.
        #[test]
        fn proxy_chains_split_as_str_split_does(
            raw in "[0-9a-f.:,; \t\u{a0}é\\[\\]]{0,24}|(null|None|[0-9.]{1,15})([,; ]{1,2}(null|None|[0-9.]{1,15})){0,3}"
        ) {
            let want: Vec<String> = raw
                .split([',', ' ', ';'])
                .map(str::trim)
                .filter(|s| !is_null_trimmed(s))
                .map(|s| {
                    let mut buf = String::new();
                    write_ip(s, &mut buf);
                    buf
                })
                .collect();
            proptest::prop_assert_eq!(split_ip_chain(&raw), want);
        }
    }

    #[test]
    fn the_ipv4_shortcut_agrees_with_formatting() {
        for s in [
            "1.2.3.4",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.5",
            "1..3.4",
            "+1.2.3.4",
            "1.2.3.4 ",
            "1.2.3.00",
            "1.2.3.04",
            "1.2.3.4.",
            ".1.2.3",
            "1.2.3.",
            "10.0.100.9",
            "192.168.0.255",
            "999.1.1.1",
            "1.2.3.2555",
            "",
        ] {
            if is_canonical_ipv4(s) {
                assert_eq!(normalize_ip(s), s, "{s}");
                assert!(s.parse::<std::net::Ipv4Addr>().is_ok(), "{s}");
            } else {
                assert!(
                    s.parse::<IpAddr>().map_or(true, |ip| ip.to_string() != s),
                    "{s} is canonical but not taken by the shortcut"
                );
            }
        }
    }

    #[test]
    fn python_literals() {
        assert_eq!(python_cell("True"), json!(true));
        assert_eq!(
            python_cell("{'a': 1, 'b': [1, 2], 'c': None, 'd': 'it\\'s'}"),
            json!({"a": 1, "b": [1, 2], "c": null, "d": "it's"})
        );
        assert_eq!(
            python_cell("{\"a\": 1}"),
            json!("{\"a\": 1}"),
            "a string holding JSON"
        );
        assert_eq!(python_cell("[1, 2]"), json!([1, 2]));
        assert_eq!(python_cell("{'a': 1"), json!("{'a': 1"));
        assert_eq!(python_cell("00123"), json!("00123"));
        assert_eq!(python_cell("('x', 2.5)"), json!(["x", 2.5]));
    }

    #[test]
    fn canonical_json_sorts_keys_recursively() {
        let v: Value =
            serde_json::from_str(r#"{ "b": {"z": 1, "a": [ {"y": 2, "x": 1} ]}, "a": "é\n" }"#)
                .unwrap();
        let mut s = String::new();
        canonical_json(&v, &mut s);
        assert_eq!(s, r#"{"a":"é\n","b":{"a":[{"x":1,"y":2}],"z":1}}"#);
    }
}
