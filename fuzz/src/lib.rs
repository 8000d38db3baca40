/*!
The checks each fuzz target runs on one input (the targets in `fuzz_targets/` only call these).

libFuzzer reports a panic as a crash, an input slower than `-timeout` as a hang and a process
beyond `-rss_limit_mb` / `-malloc_limit_mb` as an out-of-memory, so "no input may panic, hang or
allocate without bound" is what running them checks. Each target also asserts an invariant the rest
of auditlens relies on, because a reader that quietly miscounts or misplaces rows is worse than one
that crashes:

* `csv`: the real entry point (`input::read_export` on a file) accounts for every record
  (`rows_read = events + quarantined`), gives lines that exist, and agrees exactly with the same
  bytes split in one-record batches (batch and task boundaries must not change any result) and
  with the same bytes gzip-compressed;
* `json`: every item `split_items` cuts is inside the input, after the previous one, and carries
  the physical line it starts on; `parse_items` accounts for every item; a document that is valid
  JSON (an array of objects, or one object) is cut into exactly its objects;
* `timestamp`: an accepted timestamp formats to text that parses back to the same instant and the
  same UTC date, and agrees with chrono wherever chrono also accepts it;
* `python_literal`: the value `python_cell` makes is written by `canonical_json` as JSON that
  parses back to the same value (the event id hashes that text), and a cell that is not a literal
  stays the cell's text.
*/

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;

use auditlens::input::csv::{CsvMapping, Splitter, parse_records, split_fields};
use auditlens::input::json::{Item, parse_items, split_items};
use auditlens::input::values::{canonical_json, python_cell};
use auditlens::input::{ColumnMap, Format, ParsedChunk, ReadOptions, read_export};
use auditlens::time::{date_of, format_timestamp, parse_timestamp};
use serde_json::Value;

/// What one read of a file produced, comparable across ways of reading it.
#[derive(Debug, Default, PartialEq, Eq)]
struct Outcome {
    rows_read: u64,
    /// Event ids in file order.
    events: Vec<String>,
    /// (line, reason) of every quarantined record, sorted (the splitter's entries come after each
    /// batch's parsed records, so their order depends on batch boundaries).
    quarantined: Vec<(u64, String)>,
}

impl Outcome {
    fn add(&mut self, c: ParsedChunk, max_line: u64) {
        let n = c.events.len() as u64 + c.quarantined.len() as u64;
        assert_eq!(
            c.rows_read, n,
            "a chunk's rows_read must equal its events plus its quarantined records"
        );
        self.rows_read += c.rows_read;
        self.events
            .extend(c.events.ids().iter().map(|id| id.to_hex()));
        for q in &c.quarantined {
            assert!(
                (1..=max_line).contains(&q.line),
                "quarantined line {} outside 1..={max_line}: {q:?}",
                q.line
            );
            self.quarantined.push((q.line, q.reason.clone()));
        }
        let rows = c.events.len();
        let frame = c.events.finish("fuzz").expect("event columns make a frame");
        assert_eq!(frame.height(), rows);
        let lines = frame
            .column("source_line")
            .and_then(|c| c.u64().cloned())
            .expect("source_line column");
        for line in (0..lines.len()).filter_map(|i| lines.get(i)) {
            assert!(
                (1..=max_line).contains(&line),
                "event line {line} outside 1..={max_line}"
            );
        }
    }

    fn finish(mut self) -> Self {
        self.quarantined.sort();
        self
    }
}

/// Physical lines in `data` (a final line without a newline counts).
fn line_count(data: &[u8]) -> u64 {
    data.iter().filter(|&&b| b == b'\n').count() as u64 + 1
}

/// A scratch file per process (libFuzzer's `-fork`/`-jobs` run several), in memory where possible.
fn scratch(name: &str) -> PathBuf {
    let dir = std::path::Path::new("/dev/shm");
    let dir = if dir.is_dir() {
        dir.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    dir.join(format!("auditlens-fuzz-{}-{name}", std::process::id()))
}

/// `read_export` on `bytes` written to a file: the format, or the error, and what was read.
fn via_file(bytes: &[u8], name: &str, max_line: u64) -> Result<(Format, bool, Outcome), String> {
    let path = scratch(name);
    std::fs::write(&path, bytes).expect("scratch file writable");
    let mut out = Outcome::default();
    let progress = AtomicU64::new(0);
    let res = read_export(&path, &ReadOptions::default(), &progress, &mut |c| {
        out.add(c, max_line);
        Ok(())
    });
    let _ = std::fs::remove_file(&path);
    res.map(|facts| (facts.format, facts.gzip, out.finish()))
        .map_err(|e| e.to_string())
}

/// The CSV pipeline of `read_export`, single-threaded, one record per batch and two per task.
fn csv_in_small_batches(data: &[u8], max_line: u64) -> Result<Outcome, String> {
    let mut pre = Splitter::new(std::io::empty(), data.to_vec(), 1, usize::MAX, true);
    let header = pre
        .next_header()
        .map_err(|e| e.to_string())?
        .ok_or("no header")?;
    let mut fields = Vec::new();
    split_fields(&header, &mut fields);
    let names: Vec<String> = fields
        .iter()
        .map(|f| String::from_utf8(f.to_vec()))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let mapping = CsvMapping::new(&names, &ColumnMap::default())?;
    let mut splitter = pre.into_records(names.len());
    let mut out = Outcome::default();
    while let Some(batch) = splitter.next_batch(1).map_err(|e| e.to_string())? {
        for spans in batch.records.chunks(2) {
            out.add(parse_records(&batch, spans, &mapping), max_line);
        }
        let broken = batch.broken.len() as u64;
        out.add(
            ParsedChunk {
                events: auditlens::model::schema::EventColumns::with_capacity(0),
                quarantined: batch.broken,
                rows_read: broken,
            },
            max_line,
        );
    }
    Ok(out.finish())
}

/// Lines of the text `read_export` reads: a gzip input's lines are those of its contents.
fn text_line_count(data: &[u8]) -> u64 {
    if !data.starts_with(&[0x1f, 0x8b]) {
        return line_count(data);
    }
    use std::io::Read;
    let mut text = Vec::new();
    let mut gz = flate2::read::MultiGzDecoder::new(data).take(256 << 20);
    match gz.read_to_end(&mut text) {
        Ok(_) => line_count(&text),
        // Corrupt: read_export refuses it, or reads a prefix of at most this many lines.
        Err(_) => line_count(&text).max(1) + 1,
    }
}

/// CSV with header mapping, through the real entry point and two other ways of reading it.
pub fn csv(data: &[u8]) {
    let max_line = text_line_count(data);
    let plain = via_file(data, "plain", max_line);
    if let Ok((Format::Json(_), ..)) = plain {
        return; // sniffed as JSON: the json target's business
    }
    let small = csv_in_small_batches(data, max_line);
    if let Ok((_, gzip, whole)) = &plain {
        assert!(!gzip || data.starts_with(&[0x1f, 0x8b]));
        if !gzip {
            let small = small
                .as_ref()
                .unwrap_or_else(|e| panic!("read_export read it, small batches failed: {e}"));
            assert_eq!(whole, small, "batch boundaries changed the result");
        }
    }
    // Compressing the same bytes must not change anything (a third of inputs, to keep speed).
    if data.len() % 3 == 0 && !data.starts_with(&[0x1f, 0x8b]) {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(data).expect("in-memory gzip");
        let packed = gz.finish().expect("in-memory gzip");
        let zipped = via_file(&packed, "gz", max_line);
        match (&plain, &zipped) {
            (Ok((f1, _, a)), Ok((f2, true, b))) => {
                assert_eq!(f1, f2);
                assert_eq!(a, b, "gzip changed the result");
            }
            (Err(_), Err(_)) => {}
            (a, b) => panic!("plain and gzip disagree: {a:?} vs {b:?}"),
        }
    }
}

/// JSON layouts: the structural splitter and the per-item parser.
pub fn json(data: &[u8]) {
    let Ok((shape, items)) = split_items(data) else {
        return;
    };
    let mut prev_end = 0;
    let mut line = 1u64;
    let mut counted_to = 0;
    for item in &items {
        let (start, end, at_line) = match item {
            Item::Object { start, end, line }
            | Item::Broken {
                start, end, line, ..
            } => (*start, *end, *line),
        };
        assert!(
            prev_end <= start && start <= end && end <= data.len(),
            "item {start}..{end} out of order or outside the input (previous end {prev_end})"
        );
        line += data[counted_to..start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        counted_to = start;
        assert_eq!(at_line, line, "item at byte {start} has the wrong line");
        prev_end = end;
    }
    let chunk = parse_items(data, &items, &ColumnMap::default());
    let mut out = Outcome::default();
    assert_eq!(chunk.rows_read, items.len() as u64);
    out.add(chunk, line_count(data));

    // A valid JSON document is cut into exactly its objects.
    if let Ok(v) = serde_json::from_slice::<Value>(data) {
        match v {
            Value::Array(elems) if elems.iter().all(Value::is_object) => {
                assert_eq!(items.len(), elems.len(), "array elements lost or invented");
                assert!(items.iter().all(|i| matches!(i, Item::Object { .. })));
            }
            Value::Object(_) if !data.windows(8).any(|w| w == b"\"events\"") => {
                assert_eq!(
                    items.len(),
                    1,
                    "one object, {} items ({shape:?})",
                    items.len()
                );
                assert!(matches!(items[0], Item::Object { .. }));
            }
            _ => {}
        }
    }
}

/// The timestamp parser and formatter.
pub fn timestamp(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(ns) = parse_timestamp(&text) else {
        return;
    };
    let printed = format_timestamp(ns);
    assert_eq!(
        parse_timestamp(&printed),
        Ok(ns),
        "{text:?} parsed to {ns}, printed as {printed:?}, which does not parse back"
    );
    assert_eq!(date_of(ns).to_string(), printed[..10], "date of {printed}");
    // Where chrono accepts the same text it must mean the same instant (leap seconds aside).
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(text.trim())
        && dt.timestamp_subsec_nanos() < 1_000_000_000
        && let Some(c) = dt.timestamp_nanos_opt()
    {
        assert_eq!(ns, c, "{text:?}: auditlens {ns}, chrono {c}");
    }
}

/// Python literal cells (code42cli CSV).
pub fn python_literal(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let v = python_cell(&text);
    if let Value::String(s) = &v {
        assert_eq!(
            *s, *text,
            "a cell that is not a literal is kept as its text"
        );
    }
    let mut canon = String::new();
    canonical_json(&v, &mut canon);
    let back: Value = serde_json::from_str(&canon)
        .unwrap_or_else(|e| panic!("canonical JSON {canon:?} does not parse: {e}"));
    assert_eq!(back, v, "canonical JSON {canon:?} reads back differently");
    let mut again = String::new();
    canonical_json(&back, &mut again);
    assert_eq!(canon, again, "canonical JSON is not stable");
}
