/*!
A fast path for canonical JSON: rewrite the text of a JSON object straight into the canonical form
that [`super::values::canonical_json`] produces from a parsed `serde_json::Value`, without building
the `Value` tree.

Ingest canonicalises one `Details` object per row, and the tree (a `BTreeMap` node and a `String`
per key and value, then a second serialisation) was the largest share of per-row allocation. This
module scans the text once, sorts each object's members by key and copies the members' text. It
also reads the JSON as a quoted CSV field holds it (every quote doubled), so a console export's
`Details` cell is rewritten straight from the file's bytes rather than unquoted into a copy first.

It must never disagree with the reference: it returns `false` for anything whose canonical form it
cannot produce with certainty (numbers other than plain integers are handed to serde_json token by
token; any syntax error, raw control character or deep nesting gives up), and the caller then takes
the reference path. A property test compares both on generated and hand-written inputs.
*/

use serde_json::Value;

/// Objects and arrays nested deeper than this go to the reference path (serde_json stops at 128).
const MAX_DEPTH: usize = 100;

/// Write the canonical form of `text`, which must be one JSON object (surrounding whitespace
/// allowed), to `out`. Returns `false`, with `out` restored to its length on entry, when the fast
/// path cannot vouch for the result: the caller must then use the reference path.
pub fn object_text(text: &str, out: &mut String) -> bool {
    object_text_with(text, out, &mut Scratch::default())
}

/// Buffers [`object_text_with`] reuses from call to call.
#[derive(Default)]
pub struct Scratch {
    members: Vec<Member>,
}

/// [`object_text`] with reused buffers (ingest calls it once per row).
pub fn object_text_with(text: &str, out: &mut String, scratch: &mut Scratch) -> bool {
    rewrite(text, false, out, scratch)
}

/// [`object_text_with`] for the body of a quoted CSV field as it is written in the file, between
/// its outer quotes, with every `"` of the JSON doubled. It answers what [`object_text_with`]
/// answers for the unquoted text, and refuses any body with a quote that is not doubled: so when it
/// answers, the body is one whole CSV field and the file's unquoting would give exactly that JSON.
/// Ingest reads a console export's `Details` cell (its last column) this way, without unquoting it
/// into a copy first.
pub fn csv_quoted_object_text_with(body: &str, out: &mut String, scratch: &mut Scratch) -> bool {
    rewrite(body, true, out, scratch)
}

fn rewrite(text: &str, quoted: bool, out: &mut String, scratch: &mut Scratch) -> bool {
    let start = out.len();
    scratch.members.clear();
    let mut p = Canon {
        s: text.as_bytes(),
        text,
        quoted,
        i: 0,
        out,
        members: std::mem::take(&mut scratch.members),
    };
    p.ws();
    let ok = p.peek() == Some(b'{') && p.value(0).is_some() && {
        p.ws();
        p.i == p.s.len()
    };
    if !ok {
        p.out.truncate(start);
    }
    scratch.members = p.members;
    ok
}

/// One object member while its object is being rewritten: the key (unescaped) and where the
/// member's canonical text (`"key":value`) sits in the output buffer.
struct Member {
    key: Key,
    text: std::ops::Range<usize>,
}

/// What a string token's escapes require.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escapes {
    None,
    /// Only escapes that serde_json writes the same way.
    Verbatim,
    /// `\/` or `\u`: decode and write again.
    Decode,
}

/// A key borrowed from the input when it had no escapes.
enum Key {
    Text(std::ops::Range<usize>),
    Owned(String),
}

struct Canon<'a, 'o> {
    s: &'a [u8],
    text: &'a str,
    /// The text is a quoted CSV field's body: each of the JSON's quotes is written `""`.
    quoted: bool,
    i: usize,
    out: &'o mut String,
    /// Members of the objects being rewritten, innermost object last (reused across objects).
    members: Vec<Member>,
}

impl Canon<'_, '_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// Rewrite one value (after whitespace) onto the end of `out`.
    fn value(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.ws();
        match self.peek()? {
            b'{' => self.object(depth),
            b'[' => self.array(depth),
            b'"' => {
                let mark = self.out.len();
                let (body, escapes) = self.string(true)?;
                if escapes == Escapes::Decode {
                    self.out.truncate(mark);
                    let s = unescape(&self.token(body))?;
                    push_escaped(&s, self.out);
                }
                Some(())
            }
            b't' => self.literal("true"),
            b'f' => self.literal("false"),
            b'n' => self.literal("null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn literal(&mut self, word: &str) -> Option<()> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            self.out.push_str(word);
            Some(())
        } else {
            None
        }
    }

    /// Step over one of the JSON's quotes at `i`: `"`, or `""` in a quoted CSV field's body
    /// (where a single quote would end the field, so the text is not what it seems: give up).
    fn quote(&mut self) -> Option<()> {
        let width = if self.quoted { 2 } else { 1 };
        let all_quotes = self
            .s
            .get(self.i..self.i + width)?
            .iter()
            .all(|&b| b == b'"');
        all_quotes.then(|| self.i += width)
    }

    /// The text of the string token whose body is `body`, with its quotes, as JSON (undoubled in
    /// a quoted CSV field's body).
    fn token(&self, body: std::ops::Range<usize>) -> std::borrow::Cow<'_, str> {
        if self.quoted {
            format!("\"{}\"", self.text[body].replace("\"\"", "\"")).into()
        } else {
            self.text[body.start - 1..body.end + 1].into()
        }
    }

    /// A string token: the range of its body (between the quotes) and which escapes it has.
    /// Raw control characters and unknown escapes are invalid JSON: give up on them. With `copy`,
    /// the token is also appended to `out` as it is (with single quotes), which is its canonical
    /// form unless it has escapes to decode.
    fn string(&mut self, copy: bool) -> Option<(std::ops::Range<usize>, Escapes)> {
        self.quote()?;
        let start = self.i;
        // Where the text still to be copied starts.
        let mut from = start;
        if copy {
            self.out.push('"');
        }
        let mut escapes = Escapes::None;
        loop {
            self.i += special(&self.s[self.i..]);
            // The end of the text (an unterminated string) or a raw control character: give up.
            let b = *self.s.get(self.i)?;
            if b < 0x20 {
                return None;
            }
            if b == b'"' {
                let body = start..self.i;
                if copy {
                    self.out.push_str(&self.text[from..self.i]);
                    self.out.push('"');
                }
                self.quote()?;
                return Some((body, escapes));
            }
            match self.s.get(self.i + 1)? {
                // An escaped quote in a quoted CSV field's body is `\""`: its second quote is
                // left out of the copy (and a token to decode is undoubled, see `token`).
                b'"' if self.quoted => {
                    if copy {
                        self.out.push_str(&self.text[from..self.i + 2]);
                    }
                    self.i += 1;
                    self.quote()?;
                    from = self.i;
                    if escapes == Escapes::None {
                        escapes = Escapes::Verbatim;
                    }
                    continue;
                }
                // serde_json writes these back exactly so: the token can be copied as it is.
                b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => {
                    if escapes == Escapes::None {
                        escapes = Escapes::Verbatim;
                    }
                }
                // `\/` and `\uXXXX` come out differently (or are invalid): decode them.
                b'/' | b'u' => escapes = Escapes::Decode,
                _ => return None,
            }
            self.i += 2;
        }
    }

    /// Plain integers that fit serde_json's `u64`/`i64` are written as they are; anything else
    /// (fractions, exponents, `-0`, big integers) is printed by serde_json itself.
    fn number(&mut self) -> Option<()> {
        let start = self.i;
        self.eat(b'-');
        let int_start = self.i;
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                while let Some(b'0'..=b'9') = self.peek() {
                    self.i += 1;
                }
            }
            _ => return None,
        }
        let int_digits = self.i - int_start;
        let mut plain = true;
        if self.eat(b'.') {
            plain = false;
            self.digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            plain = false;
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            self.digits()?;
        }
        let token = &self.text[start..self.i];
        if plain && int_digits <= 18 && token != "-0" {
            self.out.push_str(token);
        } else {
            let v: Value = serde_json::from_str(token).ok()?;
            if !v.is_number() {
                return None;
            }
            self.out.push_str(&v.to_string());
        }
        Some(())
    }

    fn digits(&mut self) -> Option<()> {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        (self.i > start).then_some(())
    }

    fn array(&mut self, depth: usize) -> Option<()> {
        self.i += 1;
        self.out.push('[');
        self.ws();
        if self.eat(b']') {
            self.out.push(']');
            return Some(());
        }
        loop {
            self.value(depth + 1)?;
            self.ws();
            if self.eat(b']') {
                self.out.push(']');
                return Some(());
            }
            if !self.eat(b',') {
                return None;
            }
            self.out.push(',');
        }
    }

    /// Members are rewritten into `out` in input order, `"key":value` as their canonical text, and
    /// when their keys already increase (two thirds of the `Details` objects of generated
    /// exports) that is the object's canonical text. Otherwise the object's text is rebuilt in
    /// key order after it (the last of duplicate keys wins, as in serde_json's map) and the first
    /// writing is cut out.
    fn object(&mut self, depth: usize) -> Option<()> {
        self.i += 1;
        let first_member = self.members.len();
        let object_start = self.out.len();
        self.out.push('{');
        let mut in_order = true;
        self.ws();
        if !self.eat(b'}') {
            loop {
                self.ws();
                if self.peek() != Some(b'"') {
                    return None;
                }
                let (body, escapes) = self.string(false)?;
                // Keys sort by their decoded text, so any escape means decoding.
                let key = if escapes != Escapes::None {
                    Key::Owned(unescape(&self.token(body))?)
                } else {
                    Key::Text(body)
                };
                // Nested objects leave `members` as they found it: the last one is this
                // object's previous member.
                if in_order && self.members.len() > first_member {
                    let previous = &self.members[self.members.len() - 1];
                    in_order = key_of(self.text, &previous.key) < key_of(self.text, &key);
                }
                self.ws();
                if !self.eat(b':') {
                    return None;
                }
                if self.members.len() > first_member {
                    self.out.push(',');
                }
                let member_start = self.out.len();
                match &key {
                    // A key read without escapes has nothing to escape: no quote or backslash
                    // (it would have ended the string or been an escape) and no control
                    // character (the scan refused those).
                    Key::Text(r) => {
                        self.out.push('"');
                        self.out.push_str(&self.text[r.clone()]);
                        self.out.push('"');
                    }
                    Key::Owned(s) => push_escaped(s, self.out),
                }
                self.out.push(':');
                self.value(depth + 1)?;
                self.members.push(Member {
                    key,
                    text: member_start..self.out.len(),
                });
                self.ws();
                if self.eat(b'}') {
                    break;
                }
                if !self.eat(b',') {
                    return None;
                }
            }
        }
        if in_order {
            self.out.push('}');
            self.members.truncate(first_member);
            return Some(());
        }
        let text = self.text;
        let members = &mut self.members[first_member..];
        // Stable, so among equal keys the last one read is last.
        members.sort_by(|a, b| key_of(text, &a.key).cmp(key_of(text, &b.key)));
        // The sorted object is written after the first writing, which is then cut out: the
        // buffer is reused, nothing is allocated.
        let sorted_start = self.out.len();
        self.out.push('{');
        for (n, m) in members.iter().enumerate() {
            if members
                .get(n + 1)
                .is_some_and(|next| key_of(text, &next.key) == key_of(text, &m.key))
            {
                continue;
            }
            if self.out.len() > sorted_start + 1 {
                self.out.push(',');
            }
            self.out.extend_from_within(m.text.clone());
        }
        self.out.push('}');
        self.members.truncate(first_member);
        self.out.replace_range(object_start..sorted_start, "");
        Some(())
    }
}

/// A member's key as text: its slice of the input, or its unescaped copy.
fn key_of<'k>(text: &'k str, key: &'k Key) -> &'k str {
    match key {
        Key::Text(r) => &text[r.clone()],
        Key::Owned(s) => s,
    }
}

/// The position of the first byte of `s` that a JSON string's scan must stop at: a quote, a
/// backslash, or a raw control character (below 0x20, invalid in a JSON string); `s.len()` when
/// there is none.
///
/// Eight bytes at a time, in one pass: every byte of every `Details` string goes through here, in
/// segments of a few to a few dozen bytes, where `memchr2` for the quote and backslash and then a
/// second pass for control characters spent more on setting up than on scanning. (With objects
/// already in key order kept as written, the 1M file's `Details` cells are rewritten 2.6 times
/// faster: bench/NOTES.md, twenty-third session.) Each test flags the bytes it looks for with
/// their high bit; a borrow can also flag bytes above a flagged one, never below, so the lowest
/// flagged byte of the three tests together is the first byte that any of them looks for.
fn special(s: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    /// Bytes equal to zero get their high bit set (and maybe bytes above them).
    fn zeros(x: u64) -> u64 {
        x.wrapping_sub(ONES) & !x & HIGH
    }
    let mut words = s.chunks_exact(8);
    let mut at = 0;
    for word in words.by_ref() {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        let x = u64::from_le_bytes(bytes);
        let found = zeros(x ^ (ONES * u64::from(b'"')))
            | zeros(x ^ (ONES * u64::from(b'\\')))
            // Below 0x20: the subtraction borrows and the byte's high bit was clear.
            | (x.wrapping_sub(ONES * 0x20) & !x & HIGH);
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    let rest = words.remainder();
    at + rest
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .unwrap_or(rest.len())
}

/// Decode a string token (with its quotes) exactly as serde_json does, rejecting what it rejects.
fn unescape(token: &str) -> Option<String> {
    serde_json::from_str::<String>(token).ok()
}

/// serde_json's string escaping: `"` and `\` escaped, the short escapes for \b \f \n \r \t,
/// `\u00xx` (lowercase hex) for the other control characters, everything else as it is.
pub fn push_escaped(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let bytes = s.as_bytes();
    let mut from = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x0c => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[from..i]);
        if short.is_empty() {
            out.push_str("\\u00");
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0xf)] as char);
        } else {
            out.push_str(short);
        }
        from = i + 1;
    }
    out.push_str(&s[from..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::values::canonical_json;
    use proptest::prelude::*;

    /// The reference result: `None` when serde_json rejects the text or it is not an object.
    fn reference(text: &str) -> Option<String> {
        match serde_json::from_str::<Value>(text) {
            Ok(v @ Value::Object(_)) => {
                let mut s = String::new();
                canonical_json(&v, &mut s);
                Some(s)
            }
            _ => None,
        }
    }

    /// The fast path never disagrees: when it answers, the answer is the reference's.
    fn check(text: &str) -> bool {
        let mut out = String::from("prefix");
        let fast = object_text(text, &mut out);
        let want = reference(text);
        if fast {
            assert_eq!(
                Some(&out["prefix".len()..]),
                want.as_deref(),
                "input {text:?}"
            );
        } else {
            assert_eq!(out, "prefix", "a refusal leaves the buffer as it was");
        }
        // Written as a quoted CSV field's body, the text gets the same answer.
        let mut quoted = String::from("prefix");
        let body = text.replace('"', "\"\"");
        let answered = csv_quoted_object_text_with(&body, &mut quoted, &mut Scratch::default());
        assert_eq!((answered, &quoted), (fast, &out), "body {body:?}");
        fast
    }

    /// A quoted CSV field's body that the quoted reading answers for is one whole field, and the
    /// answer is the unquoted field's.
    fn check_body(body: &str) {
        let mut out = String::new();
        if !csv_quoted_object_text_with(body, &mut out, &mut Scratch::default()) {
            return;
        }
        let record = format!("\"{body}\"");
        let mut fields = Vec::new();
        crate::input::csv::split_fields(record.as_bytes(), &mut fields);
        assert_eq!(fields.len(), 1, "body {body:?}");
        let field = std::str::from_utf8(&fields[0]).expect("the body is text");
        assert_eq!(Some(out), reference(field), "body {body:?}");
    }

    #[test]
    fn hand_written_cases() {
        let handled = [
            r#"{}"#,
            r#" { "b" : 1 , "a" : [ 1 , 2 ] } "#,
            r#"{"a":1.0,"b":1e2,"c":-0,"d":-0.0,"e":1E+2,"f":0.1,"g":123456789012345678901234}"#,
            r#"{"n":18446744073709551615,"m":-9223372036854775808,"o":18446744073709551616}"#,
            r#"{"k":"\u00e9\/\"\\\b\f\n\r\t\u0001\u001f\u007f"}"#,
            r#"{"emoji":"\ud83d\ude00","raw":"é😀"}"#,
            r#"{"dup":1,"dup":2,"a":{"z":{"y":[{"b":null,"a":true}]},"x":false}}"#,
            r#"{"\u0062":1,"a":2,"b":3}"#,
            r#"{"b":1,"\u0062":2}"#,
            r#"{"requestJson":"{\"groups\":[{\"filterClause\":\"AND\"}]}","resultCount":742}"#,
            "{\"del\":\"\u{7f}\",\"nbsp\":\"\u{a0}\"}",
            r#"{"":1,"a":[],"b":{},"c":[[[]]],"d":""}"#,
            r#"{"big":-123456789012345678,"bigger":-1234567890123456789}"#,
        ];
        for t in handled {
            assert!(check(t), "fast path should handle {t:?}");
        }
        let refused = [
            "",
            "[]",
            "1",
            "\"x\"",
            "{",
            "{\"a\":1,}",
            "{\"a\":01}",
            "{\"a\":1.}",
            "{\"a\":.5}",
            "{\"a\":+1}",
            "{\"a\":\"x\ny\"}",
            "{\"a\":\"\\x\"}",
            "{\"a\":\"\\ud800\"}",
            "{\"a\":tru}",
            "{\"a\":1} x",
            "{\"a\" 1}",
            "{a:1}",
            "{\"a\":NaN}",
        ];
        for t in refused {
            assert!(!check(t), "fast path should refuse {t:?}");
        }
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(150), "]".repeat(150));
        assert!(!check(&deep));
    }

    #[test]
    fn quoted_bodies_with_single_quotes_are_refused() {
        for body in [
            r#"{"a":1}"#,
            r#"{""a"":1}""#,
            r#"{""a"":1}"""#,
            r#"{""a"":""x"",""b"":"y"}"#,
            r#"{""a"":""x\"y""}"#,
            r#"{""a"":""x"},x,{""b"":""y""}"#,
            r#"{""a"":""x""}",x,"{""b"":""y""}"#,
        ] {
            let mut out = String::new();
            let answered = csv_quoted_object_text_with(body, &mut out, &mut Scratch::default());
            assert!(!answered && out.is_empty(), "body {body:?}");
            check_body(body);
        }
        let mut out = String::new();
        assert!(csv_quoted_object_text_with(
            r#" {""b"":""say \""hi\"""",""a"":[""\u0041"",1]} "#,
            &mut out,
            &mut Scratch::default()
        ));
        assert_eq!(out, r#"{"a":["A",1],"b":"say \"hi\""}"#);
    }

    /// Arbitrary JSON values, written with random whitespace and escape choices.
    fn json_text() -> impl Strategy<Value = String> {
        let string = prop::collection::vec(
            prop_oneof![
                Just("a".to_string()),
                Just("b".to_string()),
                Just("é".to_string()),
                Just("😀".to_string()),
                Just("\\\"".to_string()),
                Just("\\\\".to_string()),
                Just("\\/".to_string()),
                Just("\\n".to_string()),
                Just("\\u0041".to_string()),
                Just("\\u00e9".to_string()),
                Just("\\u0007".to_string()),
                Just("\\ud83d\\ude00".to_string()),
                Just("\u{7f}".to_string()),
                Just(" ".to_string()),
            ],
            0..5,
        )
        .prop_map(|parts| format!("\"{}\"", parts.concat()));
        let number = prop_oneof![
            any::<i64>().prop_map(|n| n.to_string()),
            any::<u64>().prop_map(|n| n.to_string()),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| format!("{f:e}")),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| format!("{f:?}")),
            Just("-0".to_string()),
            Just("1.0".to_string()),
            Just("1e2".to_string()),
            Just("1E-2".to_string()),
            Just("123456789012345678901".to_string()),
        ];
        let leaf = prop_oneof![
            string.clone(),
            number,
            Just("true".to_string()),
            Just("false".to_string()),
            Just("null".to_string()),
        ];
        let ws = prop_oneof![Just(""), Just(" "), Just("\n\t "), Just("\r\n")];
        leaf.prop_recursive(4, 32, 5, move |inner| {
            prop_oneof![
                (prop::collection::vec(inner.clone(), 0..5), ws.clone())
                    .prop_map(|(items, w)| format!("[{w}{}{w}]", items.join(&format!("{w},")))),
                (
                    prop::collection::vec((string.clone(), inner), 0..5),
                    ws.clone()
                )
                    .prop_map(|(members, w)| {
                        let m: Vec<String> = members
                            .into_iter()
                            .map(|(k, v)| format!("{k}{w}:{w}{v}"))
                            .collect();
                        format!("{{{w}{}{w}}}", m.join(","))
                    }),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn special_finds_the_first_quote_backslash_or_control(
            bytes in prop::collection::vec(
                prop_oneof![
                    Just(b'"'), Just(b'\\'), Just(0u8), Just(0x1f), Just(0x20), Just(0x21),
                    Just(0x5b), Just(0x7f), Just(0x80), Just(0xff), 0x20u8..0x7f, any::<u8>(),
                ],
                0..40,
            ),
            plain in 0usize..24,
        ) {
            // Runs of ordinary bytes before, so the special byte falls at every place of a word.
            let mut s = vec![b'a'; plain];
            s.extend(bytes);
            let naive = s
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .unwrap_or(s.len());
            prop_assert_eq!(special(&s), naive);
        }

        #[test]
        fn agrees_with_the_reference(v in json_text(), key in "[a-c]{0,2}") {
            // Wrap every value in an object (with a possible duplicate key) so all are objects.
            let text = format!("{{\"{key}\":{v},\"b\":{v}}}");
            check(&text);
            check(&v);
        }

        #[test]
        fn agrees_on_mangled_text(v in json_text(), cut in 0usize..64, byte in any::<u8>()) {
            // Damage valid text: a refusal or the reference's answer, never anything else.
            let text = format!("{{\"k\":{v}}}");
            let mut bytes = text.into_bytes();
            let at = cut % bytes.len();
            bytes[at] = byte;
            if let Ok(s) = String::from_utf8(bytes) {
                check(&s);
            }
        }

        #[test]
        fn quoted_bodies_are_whole_fields(v in json_text(), cut in 0usize..128, byte in prop_oneof![Just(b'"'), Just(b'\\'), Just(b','), any::<u8>()]) {
            // Damage a valid body, often with a quote: a refusal, or one whole field whose
            // unquoted text has the reference's answer.
            let body = format!("{{\"k\":{v}}}").replace('"', "\"\"");
            let mut bytes = body.into_bytes();
            let at = cut % bytes.len();
            bytes[at] = byte;
            if let Ok(s) = String::from_utf8(bytes) {
                check_body(&s);
            }
        }
    }
}
