/*!
Reading audit-log exports: finding the files (paths, directories, globs), undoing gzip, telling CSV
from the JSON layouts, and turning records into canonical event columns in parallel.

A file either yields every record (as an event or a quarantine entry) or fails as a whole with an
error naming the file and what was expected; it never drops a record silently. This module does not
know about the store.

A CSV file goes through three stages running side by side (see `pipeline`): a reader thread reads,
hashes (SHA-256 of the file) and splits the bytes into batches of records; a parser thread hands each
batch to rayon's pool, which turns records into event columns (the canonical JSON of the details and
the BLAKE3 event id are computed there); the calling thread gets the parsed chunks in file order and
deduplicates them, and the store's writer sorts each day on a thread of its own, which encodes the
day's row groups on rayon's pool (`store::writer`), and a sync thread writes each day's part to
disk behind it (`store::syncer`). Bounded channels between the stages keep memory flat for any file
size.
Profiles of ingest spread its CPU thin: splitting and converting records (the canonical details
most), zstd and polars' Parquet encoding, the file hash, then the event ids (hashed many rows at a
time, see `model::many_hashes`); the per-row work of this module allocates nothing in the common
case.
*/

pub mod canonical;
pub mod columns;
pub mod csv;
pub mod json;
pub mod row;
pub mod values;

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use sha2::{Digest, Sha256};

pub use columns::ColumnMap;

use crate::error::{Error, Result};
use crate::model::schema::EventColumns;

/// A record that could not become an event, with where it was and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    /// 1-based physical line in the (decompressed) file.
    pub line: u64,
    /// Header name or JSON key the problem is in, when it is one column's fault.
    pub column: Option<String>,
    pub reason: String,
    /// The record's text (lossy UTF-8, cut at [`MAX_RAW_BYTES`]).
    pub raw: String,
}

/// Records parsed from one slice of a file. Its events are in input order within each event type
/// (a CSV slice's records are parsed grouped by type: see `csv::parse_records`), its quarantined
/// records in line order.
pub struct ParsedChunk {
    pub events: EventColumns,
    pub quarantined: Vec<Quarantined>,
    pub rows_read: u64,
}

impl ParsedChunk {
    /// A parsed slice, its events' ids computed (here, in the parallel parsing task: the
    /// deduplication after it needs them).
    pub fn new(mut events: EventColumns, quarantined: Vec<Quarantined>, rows_read: u64) -> Self {
        events.hash_ids();
        ParsedChunk {
            events,
            quarantined,
            rows_read,
        }
    }
}

/// Longest record text kept in quarantine; the file and line lead to the rest.
pub const MAX_RAW_BYTES: usize = 1 << 20;

/// Record bytes as text for the quarantine: lossy UTF-8 and at most [`MAX_RAW_BYTES`].
pub fn truncate_raw(bytes: &[u8]) -> String {
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    if bytes.len() <= MAX_RAW_BYTES {
        return String::from_utf8_lossy(bytes).into_owned();
    }
    let mut s = String::from_utf8_lossy(&bytes[..MAX_RAW_BYTES]).into_owned();
    s.push_str(&format!("... [{} more bytes]", bytes.len() - MAX_RAW_BYTES));
    s
}

/// What kind of export a file was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Console-style labels (`Date observed`, `Username`, ...).
    ConsoleCsv,
    /// API naming (`type$`, `actorName`, ...), as code42cli writes.
    ApiCsv,
    /// The incydr CLI's snake_case columns (`actor_name`, `actor_ip_addresses`, ...).
    IncydrCsv,
    Json(json::JsonShape),
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::ConsoleCsv => "console-csv",
            Format::ApiCsv => "api-csv",
            Format::IncydrCsv => "incydr-csv",
            Format::Json(s) => s.name(),
        }
    }
}

/// Facts about one file read.
#[derive(Debug, Clone)]
pub struct FileFacts {
    pub format: Format,
    pub gzip: bool,
    /// SHA-256 of the file as stored on disk (compressed bytes for `.gz`).
    pub sha256: String,
    pub bytes: u64,
}

/// Options for reading exports.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    pub column_map: ColumnMap,
}

/// Records per parallel work item: large enough to amortise scheduling, small enough to balance.
const RECORDS_PER_TASK: usize = 4096;
/// Bytes of CSV split per batch (bounds memory for any file size).
const CSV_BATCH_BYTES: usize = 32 << 20;

/// Reads a file while hashing its raw bytes and counting them for progress.
struct HashingReader<'a, R> {
    inner: R,
    hasher: &'a mut Sha256,
    count: &'a std::sync::atomic::AtomicU64,
}

impl<R: Read> Read for HashingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// Compute a file's SHA-256 without parsing it (for the already-ingested check).
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut h = Sha256::new();
    io::copy(&mut f, &mut h).map_err(|e| Error::io(path, e))?;
    Ok(hex(&h.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Read one export, handing parsed chunks to `sink` in file order. `progress` receives the raw
/// bytes read so far. Returns what the file was, or an error if it cannot be read as an export.
pub fn read_export(
    path: &Path,
    opts: &ReadOptions,
    progress: &std::sync::atomic::AtomicU64,
    sink: &mut dyn FnMut(ParsedChunk) -> Result<()>,
) -> Result<FileFacts> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        return Err(Error::Input {
            path: path.into(),
            message: "is a directory".into(),
        });
    }
    let mut hasher = Sha256::new();
    let input_err = |message: String| Error::Input {
        path: path.into(),
        message,
    };
    let facts = {
        let raw = HashingReader {
            inner: BufReader::with_capacity(1 << 20, file),
            hasher: &mut hasher,
            count: progress,
        };
        let mut raw = io::BufReader::with_capacity(1 << 16, raw);
        let gzip = {
            use io::BufRead;
            let head = raw.fill_buf().map_err(|e| Error::io(path, e))?;
            head.starts_with(&[0x1f, 0x8b])
        };
        let mut reader: Box<dyn Read + Send + '_> = if gzip {
            Box::new(flate2::read::MultiGzDecoder::new(raw))
        } else {
            Box::new(raw)
        };
        let gz_ctx = |e: io::Error| {
            if gzip {
                input_err(format!("corrupt or truncated gzip data: {e}"))
            } else {
                Error::io(path, e)
            }
        };
        // Sniff the first bytes: JSON starts with '{' or '['; binary data has NUL bytes.
        let mut head = Vec::with_capacity(64 << 10);
        (&mut reader)
            .take(64 << 10)
            .read_to_end(&mut head)
            .map_err(gz_ctx)?;
        let body = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&head);
        let first = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
        let format = match first {
            None if head.len() < (64 << 10) => {
                return Err(input_err(
                    "is empty: expected a CSV header line or JSON".into(),
                ));
            }
            _ if looks_binary(&head) => {
                return Err(input_err(
                    "is binary data, not a CSV or JSON export (gzip is recognised; other archives are not)".into(),
                ));
            }
            Some(b'{' | b'[') => {
                let mut data = head;
                reader.read_to_end(&mut data).map_err(gz_ctx)?;
                read_json(&data, opts, sink).map_err(|e| match e {
                    Error::Usage(m) => input_err(m),
                    other => other,
                })?
            }
            _ => read_csv(head, reader, opts, sink).map_err(|e| match e {
                Error::Usage(m) => input_err(m),
                Error::Io { source, .. } => gz_ctx(source),
                other => other,
            })?,
        };
        (format, gzip)
    };
    // Hash any trailing bytes the decoder did not need, so the digest covers the whole file.
    let read_so_far = progress.load(std::sync::atomic::Ordering::Relaxed);
    if read_so_far < meta.len() {
        use io::Seek;
        let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
        f.seek(io::SeekFrom::Start(read_so_far))
            .map_err(|e| Error::io(path, e))?;
        io::copy(&mut f, &mut hasher).map_err(|e| Error::io(path, e))?;
    }
    Ok(FileFacts {
        format: facts.0,
        gzip: facts.1,
        sha256: hex(&hasher.finalize()),
        bytes: meta.len(),
    })
}

/// Binary data rather than text: a NUL byte in the first line (UTF-16 text, archives, databases) or
/// anywhere in bytes that are not UTF-8 (images). A NUL in a later line of UTF-8 text is data (a
/// JSON `\u0000` in a user name, which auditlens' own CSV export writes as it is), so such a file
/// is read like any other rather than refused whole.
fn looks_binary(head: &[u8]) -> bool {
    let Some(nul) = memchr::memchr(0, head) else {
        return false;
    };
    let first_line = memchr::memchr(b'\n', head).unwrap_or(head.len());
    // `error_len() == None` is a character cut off by the end of the sniffed bytes.
    nul < first_line || std::str::from_utf8(head).is_err_and(|e| e.error_len().is_some())
}

fn read_json(
    data: &[u8],
    opts: &ReadOptions,
    sink: &mut dyn FnMut(ParsedChunk) -> Result<()>,
) -> Result<Format> {
    let (shape, items) = json::split_items(data).map_err(Error::Usage)?;
    // Batches keep the pipeline's memory per step bounded even for a large JSON file.
    for batch in items.chunks(RECORDS_PER_TASK * 16) {
        let chunks: Vec<ParsedChunk> = batch
            .par_chunks(RECORDS_PER_TASK)
            .map(|part| json::parse_items(data, part, &opts.column_map))
            .collect();
        for c in chunks {
            sink(c)?;
        }
    }
    Ok(Format::Json(shape))
}

fn read_csv(
    head: Vec<u8>,
    reader: Box<dyn Read + Send + '_>,
    opts: &ReadOptions,
    sink: &mut dyn FnMut(ParsedChunk) -> Result<()>,
) -> Result<Format> {
    // The header is the first record; it may itself contain quoted newlines.
    let mut pre = csv::Splitter::new(reader, head, 1, usize::MAX, false);
    let first = pre
        .next_header()
        .map_err(|e| Error::io(PathBuf::new(), e))?;
    let Some(header_bytes) = first else {
        return Err(Error::Usage("is empty: expected a CSV header line".into()));
    };
    let mut fields = Vec::new();
    csv::split_fields(&header_bytes, &mut fields);
    let header: Vec<String> = fields
        .iter()
        .map(|f| String::from_utf8(f.to_vec()))
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| {
            Error::Usage("line 1: the header is not valid UTF-8 text; expected a CSV header".into())
        })?;
    let mapping = csv::CsvMapping::new(&header, &opts.column_map)
        .map_err(|m| Error::Usage(format!("line 1: {m}")))?;
    let snake = header.iter().any(|h| h.trim().starts_with("actor_"));
    let format = match (mapping.header.api_naming, snake) {
        (false, _) => Format::ConsoleCsv,
        (true, true) => Format::IncydrCsv,
        (true, false) => Format::ApiCsv,
    };
    let splitter = pre.into_records(header.len());
    pipeline(splitter, &mapping, sink)?;
    Ok(format)
}

/// Run the three stages of reading a CSV file side by side, so that both cores stay busy:
///
/// 1. a reader thread reads (and hashes, and decompresses) the file and splits it into batches;
/// 2. a parser thread turns each batch into event columns on rayon's pool;
/// 3. the calling thread hands the parsed chunks, in file order, to `sink` (deduplication, then
///    the store's writer, which encodes on a thread of its own).
///
/// Channels of depth one between the stages bound the memory to a few batches whatever the file
/// size. When the sink fails, dropping its receiver stops the parser and then the reader.
fn pipeline<R: Read + Send>(
    mut splitter: csv::Splitter<R>,
    mapping: &csv::CsvMapping,
    sink: &mut dyn FnMut(ParsedChunk) -> Result<()>,
) -> Result<()> {
    std::thread::scope(|scope| {
        let (batch_tx, batch_rx) = std::sync::mpsc::sync_channel::<csv::Batch>(1);
        let (parsed_tx, parsed_rx) = std::sync::mpsc::sync_channel::<Vec<ParsedChunk>>(1);
        // Parsed batches' byte buffers go back to the reader to be filled again.
        let (spare_tx, spare_rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(2);
        let reader = scope.spawn(move || -> io::Result<()> {
            loop {
                if let Ok(buf) = spare_rx.try_recv() {
                    splitter.recycle(buf);
                }
                let Some(batch) = splitter.next_batch(CSV_BATCH_BYTES)? else {
                    return Ok(());
                };
                if batch_tx.send(batch).is_err() {
                    return Ok(()); // the consumer stopped on an error of its own
                }
            }
        });
        scope.spawn(move || {
            for batch in batch_rx {
                let (chunks, data) = parse_batch(batch, mapping);
                let _ = spare_tx.try_send(data);
                if parsed_tx.send(chunks).is_err() {
                    break;
                }
            }
        });
        let mut sunk = Ok(());
        'outer: for chunks in parsed_rx.iter() {
            for c in chunks {
                sunk = sink(c);
                if sunk.is_err() {
                    break 'outer;
                }
            }
        }
        drop(parsed_rx);
        let read = reader.join().expect("the CSV reader thread panicked");
        sunk?;
        read.map_err(|e| Error::io(PathBuf::new(), e))
    })
}

/// Parse one batch on rayon's pool; chunks come back in file order, with the batch's bytes.
fn parse_batch(batch: csv::Batch, mapping: &csv::CsvMapping) -> (Vec<ParsedChunk>, Vec<u8>) {
    let mut chunks: Vec<ParsedChunk> = batch
        .records
        .par_chunks(RECORDS_PER_TASK)
        .map(|spans| csv::parse_records(&batch, spans, mapping))
        .collect();
    if !batch.broken.is_empty() {
        // Lines lost to broken quoting are counted as read and quarantined like any bad record.
        let rows = batch.broken.len() as u64;
        chunks.push(ParsedChunk::new(
            EventColumns::with_capacity(0),
            batch.broken,
            rows,
        ));
    }
    (chunks, batch.data)
}
