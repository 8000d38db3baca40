/*!
Small helpers the analyses share: reading columns of a collected frame as plain Rust values, the
object an event acts on (from the catalog's subject keys), and evidence lists.
*/

use polars::prelude::*;
use polars_arrow::array::Utf8ViewArray;
use serde_json::Value;

use super::MAX_EVIDENCE;
use crate::error::{Error, Result};
use crate::model::EventId;
use crate::model::catalog::Catalog;
use crate::model::schema::cols;
use crate::time::NANOS_PER_SEC;

/// A string column as `Option<&str>` per row.
pub fn strs<'a>(df: &'a DataFrame, name: &str) -> Result<Vec<Option<&'a str>>> {
    Ok(df.column(name)?.str()?.iter().collect())
}

/// A string column read in place, row by row: for a column an analysis needs at a few of its rows,
/// where a vector of every row's value (16 bytes a row) would be a large part of its memory.
pub struct StrColumn<'a> {
    chunks: Vec<&'a Utf8ViewArray>,
    /// The first row of each chunk.
    starts: Vec<usize>,
}

impl<'a> StrColumn<'a> {
    pub fn new(df: &'a DataFrame, name: &str) -> Result<StrColumn<'a>> {
        let ca = df.column(name)?.str()?;
        let chunks: Vec<&Utf8ViewArray> = ca.downcast_iter().collect();
        let starts = chunks
            .iter()
            .scan(0, |row, arr| {
                let start = *row;
                *row += arr.len();
                Some(start)
            })
            .collect();
        Ok(StrColumn { chunks, starts })
    }

    /// The value at `row` (`None` for null, or past the end).
    pub fn get(&self, row: usize) -> Option<&'a str> {
        // The last chunk starting at or before `row` (a scan returns dozens of chunks).
        let k = self.starts.partition_point(|&s| s <= row).checked_sub(1)?;
        let arr = self.chunks[k];
        let i = row - self.starts[k];
        if i < arr.len() { arr.get(i) } else { None }
    }
}

/// `f(row, value)` for every row of an i64 column, in row order.
///
/// Chunks without nulls (the store's instants never are) are read as slices: the chunked
/// array's own iterator checks every value's validity and chunk, several times slower over the
/// millions of instants the analyses read (half of unusual-ips' counting sort, bench/NOTES.md).
pub fn for_each_i64(ca: &Int64Chunked, mut f: impl FnMut(usize, Option<i64>)) {
    let mut row = 0;
    for arr in ca.downcast_iter() {
        if arr.validity().is_none_or(|v| v.unset_bits() == 0) {
            for (k, &v) in arr.values().iter().enumerate() {
                f(row + k, Some(v));
            }
        } else {
            for (k, v) in arr.iter().enumerate() {
                f(row + k, v.copied());
            }
        }
        row += arr.len();
    }
}

/// An i64 column (nulls as 0).
pub fn i64s(df: &DataFrame, name: &str) -> Result<Vec<i64>> {
    let ca = df.column(name)?.i64()?;
    let mut out = Vec::with_capacity(ca.len());
    for_each_i64(ca, |_, v| out.push(v.unwrap_or_default()));
    Ok(out)
}

/// An i64 column with its nulls.
pub fn opt_i64s(df: &DataFrame, name: &str) -> Result<Vec<Option<i64>>> {
    let ca = df.column(name)?.i64()?;
    let mut out = Vec::with_capacity(ca.len());
    for_each_i64(ca, |_, v| out.push(v));
    Ok(out)
}

/// The object an event acts on, from the catalog's subject keys: `@user` is the affected user
/// (name, else id: names are what a reader recognises), other keys are detail fields. Present keys are joined with `/`; empty when the
/// event type has no subject keys or none is present.
pub fn subject(
    event_type: &str,
    affected_id: Option<&str>,
    affected_name: Option<&str>,
    details: Option<&str>,
) -> String {
    join_subject(subject_parts(
        event_type,
        affected_id,
        affected_name,
        details,
    ))
}

/// The parts of [`subject_parts`] as [`subject`] writes them.
pub fn join_subject(parts: Vec<(&'static str, String)>) -> String {
    parts
        .into_iter()
        .map(|(_, v)| v)
        .collect::<Vec<_>>()
        .join("/")
}

/// The parts [`subject`] joins, each with its catalog key (`@user` for the affected user), in the
/// catalog's key order; keys absent from the event are left out.
pub fn subject_parts(
    event_type: &str,
    affected_id: Option<&str>,
    affected_name: Option<&str>,
    details: Option<&str>,
) -> Vec<(&'static str, String)> {
    let Some(e) = Catalog::get().by_api_name(event_type) else {
        return Vec::new();
    };
    let fields = if e.subject_keys.iter().any(|k| *k != "@user") {
        details
            .and_then(|d| detail_fields(d, &e.subject_keys))
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let mut parts = Vec::new();
    for key in &e.subject_keys {
        if *key == "@user" {
            if let Some(u) = affected_name.or(affected_id) {
                parts.push((*key, u.to_owned()));
            }
            continue;
        }
        match fields.iter().find(|(k, _)| k == key).map(|(_, v)| v) {
            Some(Value::String(s)) => parts.push((*key, s.clone())),
            Some(Value::Null) | None => {}
            Some(other) => parts.push((*key, other.to_string())),
        }
    }
    parts
}

/// The values of `keys` in the JSON object `details` (the last of duplicated keys, as
/// `serde_json::Value` keeps it); `None` when `details` is not one JSON object.
///
/// The other fields are checked for syntax and skipped, not built (so an invalid `\u` escape in
/// one of them is let pass): parsing whole objects into `Value`s (a map of owned strings per
/// event) to read one or two keys was a sixth of training-needs, which asks this of half a
/// million events.
pub fn detail_fields(details: &str, keys: &[&'static str]) -> Option<Vec<(&'static str, Value)>> {
    use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
    use std::borrow::Cow;

    /// An object key, borrowed from the input unless it holds escapes.
    struct Key<'de>(Cow<'de, str>);
    impl<'de> serde::Deserialize<'de> for Key<'de> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
            struct KeyVisitor;
            impl<'de> Visitor<'de> for KeyVisitor {
                type Value = Key<'de>;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("an object key")
                }
                fn visit_borrowed_str<E>(self, v: &'de str) -> std::result::Result<Key<'de>, E> {
                    Ok(Key(Cow::Borrowed(v)))
                }
                fn visit_str<E>(self, v: &str) -> std::result::Result<Key<'de>, E> {
                    Ok(Key(Cow::Owned(v.to_owned())))
                }
            }
            d.deserialize_str(KeyVisitor)
        }
    }

    struct Wanted<'k>(&'k [&'static str]);
    impl<'de> DeserializeSeed<'de> for Wanted<'_> {
        type Value = Vec<(&'static str, Value)>;
        fn deserialize<D: Deserializer<'de>>(
            self,
            d: D,
        ) -> std::result::Result<Self::Value, D::Error> {
            d.deserialize_map(self)
        }
    }
    impl<'de> Visitor<'de> for Wanted<'_> {
        type Value = Vec<(&'static str, Value)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(
            self,
            mut map: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            let mut found: Vec<(&'static str, Value)> = Vec::new();
            while let Some(Key(key)) = map.next_key()? {
                let Some(&wanted) = self.0.iter().find(|k| **k == key) else {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                };
                let value: Value = map.next_value()?;
                match found.iter_mut().find(|(k, _)| *k == wanted) {
                    Some(slot) => slot.1 = value,
                    None => found.push((wanted, value)),
                }
            }
            Ok(found)
        }
    }

    let mut de = serde_json::Deserializer::from_str(details);
    let found = Wanted(keys).deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(found)
}

/// Event ids as evidence, capped at [`MAX_EVIDENCE`].
pub fn evidence(ids: impl IntoIterator<Item = EventId>) -> Vec<EventId> {
    ids.into_iter().take(MAX_EVIDENCE).collect()
}

/// The `event_id` column of `df` (read from the store at `store`), parsed.
///
/// Findings carry ids as numbers (16 bytes each, no allocation): a whole-store run cites about
/// 1.5 million events, and as owned strings their copies, allocations and frees cost up to a
/// twelfth of its CPU time (measured by leaving the ids out). An id that is not what ingest
/// writes (32 lowercase hex digits) means a damaged store, and is an error naming it, as ingest's
/// own check of stored ids is.
pub fn event_ids(df: &DataFrame, store: &std::path::Path) -> Result<Vec<Option<EventId>>> {
    let column = df.column(cols::EVENT_ID)?.str()?;
    // Sized up front: collecting `Result`s gives the vector no length hint, and growing it by
    // doublings copied it again and again (about 0.4% of a whole-store run).
    let mut ids = Vec::with_capacity(column.len());
    for id in column.iter() {
        ids.push(id.map(|s| parse_stored_id(s, store)).transpose()?);
    }
    Ok(ids)
}

/// One stored event id, parsed (see [`event_ids`]).
pub fn parse_stored_id(id: &str, store: &std::path::Path) -> Result<EventId> {
    EventId::parse_hex(id).ok_or_else(|| {
        Error::store(
            store,
            format!("stored event id {id:?} is not 32 lowercase hex digits"),
        )
    })
}

/// `n` with a singular or plural noun: "1 event", "3 events".
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A gap as an upper bound a reader takes in at a glance: "40 seconds", "12 minutes", "3 hours 5
/// minutes" (rounded up, so "within" stays true).
pub fn duration(ns: i64) -> String {
    let secs = (ns.max(0) + NANOS_PER_SEC - 1) / NANOS_PER_SEC;
    if secs < 60 {
        return plural(secs as u64, "second", "seconds");
    }
    let mins = (secs + 59) / 60;
    if mins < 60 {
        return plural(mins as u64, "minute", "minutes");
    }
    let (h, m) = (mins / 60, mins % 60);
    let hours = plural(h as u64, "hour", "hours");
    if m == 0 {
        hours
    } else {
        format!("{hours} {}", plural(m as u64, "minute", "minutes"))
    }
}

/// The most frequent value (ties: the first seen), or "" when there is none.
pub fn most_common<'a>(values: impl Iterator<Item = &'a str>) -> String {
    // foldhash rather than SipHash: this counts every event of an actor (file access, rankings).
    let mut counts: PlHashMap<&str, (usize, usize)> = PlHashMap::default();
    for (k, v) in values.enumerate() {
        counts.entry(v).or_insert((0, k)).0 += 1;
    }
    counts
        .into_iter()
        .max_by(|x, y| x.1.0.cmp(&y.1.0).then(y.1.1.cmp(&x.1.1)))
        .map(|(v, _)| v.to_owned())
        .unwrap_or_default()
}

/// Event labels with their counts, most frequent first: "Console login (3), File download".
pub fn label_counts<'a>(labels: impl IntoIterator<Item = &'a str>) -> String {
    let mut counts: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for l in labels {
        *counts.entry(l).or_default() += 1;
    }
    let mut v: Vec<(&str, u64)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    v.iter()
        .map(|(l, n)| {
            if *n > 1 {
                format!("{l} ({n})")
            } else {
                (*l).to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The number of a null string in [`number_strings`].
pub const NULL_STR: u32 = u32::MAX;

/// `n` as a number below [`NULL_STR`].
fn number(n: usize) -> Option<u32> {
    u32::try_from(n).ok().filter(|&n| n != NULL_STR)
}

/// The distinct strings of `ca` in order of first appearance, and each row's number in that list
/// ([`NULL_STR`] for null); `None` past `u32::MAX - 1` distinct strings.
///
/// Within one array, equal views (length and inline bytes, or length, prefix, buffer and offset)
/// are equal strings, and the Parquet reader gives every row of a dictionary-encoded page the
/// view of its dictionary entry. So each chunk first looks its 16-byte views up in a small map
/// of its own, and only a view it has not met is looked up by its string (`Interner`, below):
/// looking every row up by its string missed the cache twice (the table, then the key's bytes in
/// some other page) and took most of unusual-ips.
pub fn number_strings(ca: &StringChunked) -> Option<(Vec<&str>, Vec<u32>)> {
    let mut interner = Interner::new();
    let mut rows: Vec<u32> = Vec::with_capacity(ca.len());
    let mut by_view: PlHashMap<u128, u32> = PlHashMap::default();
    for arr in ca.downcast_iter() {
        by_view.clear();
        // The iterator yields each value's slice without reading its bytes.
        for (view, value) in arr.views().iter().zip(arr.iter()) {
            let Some(name) = value else {
                rows.push(NULL_STR);
                continue;
            };
            let id = match by_view.get(&view.as_u128()) {
                Some(&id) => id,
                None => {
                    let id = interner.number(name)?;
                    by_view.insert(view.as_u128(), id);
                    id
                }
            };
            rows.push(id);
        }
    }
    Some((interner.names, rows))
}

/// The distinct strings [`number_strings`] has met, numbered in order of first appearance.
///
/// An open-addressing table of 8-byte slots (the upper half of the string's hash, and its number)
/// over copies of the strings' bytes, one after another in one buffer. Each of a large store's
/// hundreds of row groups meets its names afresh: millions of lookups, each of which missed the
/// cache on a map keyed by the borrowed strings (24-byte entries, then the key's bytes in
/// whichever page buffer it was first read from, anywhere in hundreds of megabytes). These arrays
/// are a few megabytes for 300,000 addresses, and mostly stay in the cache (1.3-1.5 times
/// quicker on a 5M store's actors and addresses, bench/NOTES.md).
struct Interner<'a> {
    names: Vec<&'a str>,
    /// `bytes[starts[n]..starts[n + 1]]` are the bytes of name `n`.
    starts: Vec<usize>,
    bytes: Vec<u8>,
    /// 0 when empty, else the upper half of the name's hash and the name's number plus one.
    slots: Vec<u64>,
    /// Each name's hash, to grow the table without hashing the names again.
    hashes: Vec<u64>,
    state: PlRandomState,
}

impl<'a> Interner<'a> {
    const TAG: u64 = !0xFFFF_FFFF;

    fn new() -> Interner<'a> {
        Interner {
            names: Vec::new(),
            starts: vec![0],
            bytes: Vec::new(),
            slots: vec![0; 1024],
            hashes: Vec::new(),
            state: PlRandomState::default(),
        }
    }

    /// The slot of name `n` with hash `hash` (never 0: the number is stored plus one).
    fn slot(hash: u64, n: usize) -> u64 {
        (hash & Self::TAG) | (n as u64 + 1)
    }

    /// The number of `name`, given a new one if it has none; `None` past `u32::MAX - 1` names.
    fn number(&mut self, name: &'a str) -> Option<u32> {
        use std::hash::BuildHasher;
        let hash = self.state.hash_one(name);
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        while self.slots[i] != 0 {
            let slot = self.slots[i];
            if slot & Self::TAG == hash & Self::TAG {
                let n = (slot & !Self::TAG) as usize - 1;
                if &self.bytes[self.starts[n]..self.starts[n + 1]] == name.as_bytes() {
                    return u32::try_from(n).ok();
                }
            }
            i = (i + 1) & mask;
        }
        let n = number(self.names.len())?;
        self.slots[i] = Self::slot(hash, n as usize);
        self.names.push(name);
        self.hashes.push(hash);
        self.bytes.extend_from_slice(name.as_bytes());
        self.starts.push(self.bytes.len());
        // At most three quarters full, so that a probe ends within a few slots.
        if self.names.len() * 4 > self.slots.len() * 3 {
            let mut slots = vec![0u64; self.slots.len() * 2];
            let mask = slots.len() - 1;
            for (n, &hash) in self.hashes.iter().enumerate() {
                let mut i = hash as usize & mask;
                while slots[i] != 0 {
                    i = (i + 1) & mask;
                }
                slots[i] = Self::slot(hash, n);
            }
            self.slots = slots;
        }
        Some(n)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A string column of several chunks, one per slice.
    pub(crate) fn strings(chunks: &[&[Option<&str>]]) -> StringChunked {
        let mut ca = StringChunked::new("s".into(), chunks[0]);
        for c in &chunks[1..] {
            ca.append(&StringChunked::new("s".into(), *c)).unwrap();
        }
        ca
    }

    #[test]
    fn a_column_read_in_place_gives_each_rows_value_across_chunks() {
        let ca = strings(&[
            &[Some("a"), None],
            &[],
            &[Some("a string longer than twelve bytes")],
            &[None, Some("d")],
        ]);
        let df = DataFrame::new(ca.len(), vec![ca.into_column()]).unwrap();
        let col = StrColumn::new(&df, "s").unwrap();
        let got: Vec<Option<&str>> = (0..6).map(|i| col.get(i)).collect();
        assert_eq!(
            got,
            [
                Some("a"),
                None,
                Some("a string longer than twelve bytes"),
                None,
                Some("d"),
                None
            ]
        );
    }

    #[test]
    fn integer_columns_read_alike_with_and_without_nulls_across_chunks() {
        let mut ca = Int64Chunked::new("n".into(), &[Some(-3i64), Some(5)]);
        ca.append(&Int64Chunked::new(
            "n".into(),
            &[Some(7i64), None, Some(i64::MIN)],
        ))
        .unwrap();
        ca.append(&Int64Chunked::new("n".into(), &[Some(1i64)]))
            .unwrap();
        assert_eq!(ca.chunks().len(), 3);
        let df = DataFrame::new(ca.len(), vec![ca.into_column()]).unwrap();
        assert_eq!(i64s(&df, "n").unwrap(), [-3, 5, 7, 0, i64::MIN, 1]);
        assert_eq!(
            opt_i64s(&df, "n").unwrap(),
            [Some(-3), Some(5), Some(7), None, Some(i64::MIN), Some(1)]
        );
        // Row numbers run on across chunks, the null included.
        let mut seen = Vec::new();
        for_each_i64(df.column("n").unwrap().i64().unwrap(), |row, v| {
            seen.push((row, v))
        });
        assert_eq!(
            seen,
            [
                (0, Some(-3)),
                (1, Some(5)),
                (2, Some(7)),
                (3, None),
                (4, Some(i64::MIN)),
                (5, Some(1))
            ]
        );
    }

    #[test]
    fn strings_are_numbered_across_chunks() {
        // Longer than a view holds inline, as long as each other, with the same first four bytes
        // and each first in its chunk's buffer: their views are the same, so a view stands for
        // a string only within its chunk.
        let long = "alice.long-name@example.com";
        let other = "alice.wide-name@example.com";
        let ca = strings(&[
            &[Some("10.0.0.1"), None, Some(long), Some("10.0.0.1")],
            &[Some(other), Some("b"), Some(long), None],
        ]);
        assert_eq!(ca.chunks().len(), 2);
        let (names, rows) = number_strings(&ca).unwrap();
        assert_eq!(names, ["10.0.0.1", long, other, "b"]);
        assert_eq!(rows, [0, NULL_STR, 1, 0, 2, 3, 1, NULL_STR]);
    }

    #[test]
    fn names_keep_their_numbers_as_the_table_grows() {
        let names: Vec<String> = (0..5000)
            .map(|i| format!("10.0.{}.{}", i / 256, i % 256))
            .collect();
        let mut interner = Interner::new();
        for (k, name) in names.iter().enumerate() {
            assert_eq!(interner.number(name), Some(k as u32));
        }
        // The table grew several times; every name is still found under its number.
        assert!(interner.slots.len() > 4 * 1024);
        for (k, name) in names.iter().enumerate().rev() {
            assert_eq!(interner.number(name), Some(k as u32));
        }
        assert_eq!(interner.number(""), Some(5000));
        assert_eq!(interner.number("10.0.0.0 "), Some(5001));
        assert_eq!(interner.number(""), Some(5000));
        assert_eq!(interner.names.len(), 5002);
        assert_eq!(interner.names[4999], "10.0.19.135");
    }

    #[test]
    fn stored_ids_parse_and_a_damaged_one_names_the_store() {
        let good = "0123456789abcdef0123456789abcdef";
        let df = df!(cols::EVENT_ID => [Some(good), None]).unwrap();
        let store = std::path::Path::new("/data/store");
        let ids = event_ids(&df, store).unwrap();
        assert_eq!(ids, [EventId::parse_hex(good), None]);
        assert_eq!(ids[0].map(EventId::to_hex).as_deref(), Some(good));

        let df = df!(cols::EVENT_ID => [good, "0123456789ABCDEF0123456789abcdef"]).unwrap();
        let err = event_ids(&df, store).unwrap_err().to_string();
        assert!(err.contains("/data/store"), "{err}");
        assert!(err.contains("0123456789ABCDEF"), "{err}");
    }

    /// The selective parse finds what a whole parse into `Value` finds.
    #[test]
    fn detail_fields_agree_with_a_full_parse() {
        let keys = ["ruleId", "name"];
        let inputs = [
            r#"{"ruleId":"r-1","name":"x"}"#,
            r#"{"name":"a","ruleId":"r-1","ruleId":"r-2"}"#,
            r#"{"rule\u0049d":"escaped key","other":"\"quoted\""}"#,
            r#"{"ruleId":12.5e3,"other":{"deep":[1,2,{"x":null}]},"name":[1,"a"]}"#,
            r#"{"ruleId":null,"name":true}"#,
            r#" {"name":"spaces"} "#,
            r#"{"ruleId":"a"} trailing"#,
            r#"{"ruleId":"a",}"#,
            r#"{"other":[1,2}"#,
            r#"[1,2]"#,
            r#""ruleId""#,
            "",
            "{}",
        ];
        for d in inputs {
            let whole: Option<Value> = serde_json::from_str(d).ok();
            let mine = detail_fields(d, &keys).unwrap_or_default();
            for key in keys {
                let expected = whole.as_ref().and_then(|v| v.get(key));
                let got = mine.iter().find(|(k, _)| *k == key).map(|(_, v)| v);
                assert_eq!(got, expected, "{key} in {d}");
            }
        }
    }

    #[test]
    fn label_counts_most_frequent_first() {
        assert_eq!(
            label_counts(["File download", "Console login", "Console login"]),
            "Console login (2), File download"
        );
        assert_eq!(label_counts([]), "");
    }

    #[test]
    fn subjects_follow_the_catalog() {
        assert_eq!(
            subject(
                "alert_rule_created",
                None,
                None,
                Some(r#"{"ruleId":"r-1","x":2}"#)
            ),
            "r-1"
        );
        assert_eq!(
            subject(
                "user_roles_assigned",
                Some("42"),
                Some("carol@x"),
                Some(r#"{"role":"Admin"}"#)
            ),
            "carol@x/Admin"
        );
        assert_eq!(
            subject(
                "case_file_event_added",
                None,
                None,
                Some(r#"{"caseNumber":7,"fileEventId":"f"}"#)
            ),
            "7/f"
        );
        assert_eq!(subject("logged_in", None, None, None), "");
        assert_eq!(subject("unknown_type", None, None, None), "");
    }

    #[test]
    fn the_most_common_value_wins_ties_by_first_seen() {
        assert_eq!(most_common(["b", "a", "a", "b"].into_iter()), "b");
        assert_eq!(most_common(["b", "a", "a"].into_iter()), "a");
        assert_eq!(most_common(std::iter::empty()), "");
    }
}
