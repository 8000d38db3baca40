/*!
CSV exports: splitting the byte stream into records, splitting records into fields, and mapping
fields to canonical events through the header.

Records are split by quote parity (a newline ends a record only outside quotes), which is RFC 4180
for well-formed files and lets a quoted field span lines. A broken file needs a resynchronisation
rule, because one unterminated quote would otherwise swallow the rest of the file: when a record
that spans several physical lines does not have the header's number of fields (or runs into the end
of the file inside quotes), only its first physical line is quarantined as an unterminated quote and
splitting restarts on the next line. Every physical line therefore ends up in a stored record, a
quarantined record, or is blank.
*/

use std::borrow::Cow;
use std::io::Read;

use memchr::memchr;
use polars::prelude::PlHashMap;

use super::columns::{ColumnMap, Field, HeaderMapping, Target};
use super::row::{RawEvent, RequiredNames, RowError, RowScratch, convert};
use super::values::python_cell;
use super::{ParsedChunk, Quarantined, truncate_raw};
use crate::model::schema::EventColumns;

/// A record that spans more than this is treated as runaway quoting.
const MAX_RECORD_BYTES: usize = 64 << 20;
/// Bytes read from the source at a time.
const READ_CHUNK: usize = 8 << 20;
/// Capacity a read buffer keeps past a read for the part of a record carried over to the next
/// one (a record is usually well under a kilobyte). Without it a recycled buffer was a few bytes
/// short for its next read, so the first batches' buffers each grew by doubling, copied into new
/// memory: four 8 MiB copies at the start of a file and a peak 20 MB higher at 1M rows. First
/// touches of memory are dear (the kernel zeroes each page: 0.6-1.5 ms a megabyte on the
/// benchmark's virtual machine, 12 to 30 times a `memset` of memory already touched).
const TAIL_SLACK: usize = 64 << 10;

/// One record's position in a batch's bytes.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    pub start: usize,
    /// Exclusive, without the line terminator.
    pub end: usize,
    /// 1-based physical line of the record's first byte.
    pub line: u64,
}

/// Records split from the input, owning their bytes so they can be parsed on another thread.
#[derive(Debug, Default)]
pub struct Batch {
    pub data: Vec<u8>,
    pub records: Vec<Span>,
    /// Lines quarantined while splitting (unterminated quotes, runaway records).
    pub broken: Vec<Quarantined>,
}

enum Scan {
    /// A record ends at `end` (exclusive of the newline); the next starts at `next`.
    Record {
        end: usize,
        next: usize,
        newlines: u64,
    },
    /// The buffer ends before the record does.
    NeedMore,
    /// End of input inside quotes.
    Unterminated,
}

/// Find where the record starting at `start` ends: at the first newline with an even number of
/// quotes before it in the record. A doubled quote (`""`) inside a quoted field adds two, so the
/// parity is exactly "outside quotes" (a `Details` cell has dozens of doubled quotes: counting them
/// with one vectorised pass per line is far cheaper than stepping from quote to quote).
fn scan_record(buf: &[u8], start: usize, eof: bool) -> Scan {
    let mut i = start;
    let mut quotes = 0usize;
    let mut newlines = 0u64;
    loop {
        match memchr(b'\n', &buf[i..]) {
            Some(k) => {
                quotes += memchr::memchr_iter(b'"', &buf[i..i + k]).count();
                if quotes.is_multiple_of(2) {
                    return Scan::Record {
                        end: i + k,
                        next: i + k + 1,
                        newlines,
                    };
                }
                // The newline is inside quotes: part of the record.
                newlines += 1;
                i += k + 1;
            }
            None if !eof => return Scan::NeedMore,
            None => {
                quotes += memchr::memchr_iter(b'"', &buf[i..]).count();
                if !quotes.is_multiple_of(2) {
                    return Scan::Unterminated;
                }
                return Scan::Record {
                    end: buf.len(),
                    next: buf.len(),
                    newlines,
                };
            }
        }
    }
}

/// Count the fields of a record (for the resynchronisation rule).
fn count_fields(rec: &[u8]) -> usize {
    let mut fields = Vec::new();
    split_fields(rec, &mut fields);
    fields.len()
}

/// Split one record (without its line terminator) into fields, unquoting as RFC 4180 says.
/// Lenient where files are sloppy: text after a closing quote is kept, a quote inside an unquoted
/// field is literal.
pub fn split_fields<'a>(rec: &'a [u8], out: &mut Vec<Cow<'a, [u8]>>) {
    split_fields_until(rec, out, usize::MAX);
}

/// [`split_fields`], except that field number `last` (0-based), when it is quoted and the record
/// ends with a quote, is not split: its body as written (between the outer quotes, inner quotes
/// still doubled) is returned instead, and the fields before it are in `out`. The body is that one
/// last field only if all its quotes are doubled, which the caller must check: a console export's
/// `Details` cell is read this way by [`crate::input::canonical::csv_quoted_object_text_with`],
/// which checks it while it rewrites the JSON, so the cell is not unquoted into a copy first.
fn split_fields_until<'a>(
    rec: &'a [u8],
    out: &mut Vec<Cow<'a, [u8]>>,
    last: usize,
) -> Option<&'a [u8]> {
    out.clear();
    let rec = rec.strip_suffix(b"\r").unwrap_or(rec);
    let mut i = 0;
    loop {
        if out.len() == last
            && rec.get(i) == Some(&b'"')
            && rec.len() >= i + 2
            && rec.last() == Some(&b'"')
        {
            return rec.get(i + 1..rec.len() - 1);
        }
        if rec.get(i) == Some(&b'"') {
            i += 1;
            let mut owned: Option<Vec<u8>> = None;
            let mut seg_start = i;
            loop {
                match memchr(b'"', &rec[i..]) {
                    None => {
                        // Unbalanced: the rest of the record is the field.
                        let tail = &rec[seg_start..];
                        let v = match owned.take() {
                            Some(mut o) => {
                                o.extend_from_slice(tail);
                                Cow::Owned(o)
                            }
                            None => Cow::Borrowed(tail),
                        };
                        out.push(v);
                        return None;
                    }
                    Some(k) if rec.get(i + k + 1) == Some(&b'"') => {
                        // The field is at most the rest of the record: one allocation, no regrowth.
                        let o =
                            owned.get_or_insert_with(|| Vec::with_capacity(rec.len() - seg_start));
                        o.extend_from_slice(&rec[seg_start..=i + k]);
                        i += k + 2;
                        seg_start = i;
                    }
                    Some(k) => {
                        let close = i + k;
                        let after =
                            memchr(b',', &rec[close + 1..]).map_or(rec.len(), |c| close + 1 + c);
                        let extra = &rec[close + 1..after];
                        let v = match owned.take() {
                            Some(mut o) => {
                                o.extend_from_slice(&rec[seg_start..close]);
                                o.extend_from_slice(extra);
                                Cow::Owned(o)
                            }
                            None if extra.is_empty() => Cow::Borrowed(&rec[seg_start..close]),
                            None => {
                                let mut o = rec[seg_start..close].to_vec();
                                o.extend_from_slice(extra);
                                Cow::Owned(o)
                            }
                        };
                        out.push(v);
                        if after >= rec.len() {
                            return None;
                        }
                        i = after + 1;
                        break;
                    }
                }
            }
        } else {
            let end = memchr(b',', &rec[i..]).map_or(rec.len(), |c| i + c);
            out.push(Cow::Borrowed(&rec[i..end]));
            if end >= rec.len() {
                return None;
            }
            i = end + 1;
        }
        if i == rec.len() {
            out.push(Cow::Borrowed(&rec[i..]));
            return None;
        }
    }
}

/// Bytes read from the input and not yet handed over, in storage that stays initialised past them.
///
/// `Read::read_to_end` zeroes the spare capacity it reads into on every call (the reader's buffer
/// is read into eight megabytes at a time), because only the unstable `Read::read_buf` may be
/// handed memory that was never written. Here the storage's length (its initialised part) is
/// kept apart from the bytes it holds, so a buffer is zeroed only where it grows past its
/// earlier length, and a recycled batch buffer not at all. It reads as the bytes it holds.
#[derive(Debug, Default)]
struct ReadBuf {
    /// Initialised storage; its first `filled` bytes are the input's.
    storage: Vec<u8>,
    filled: usize,
}

impl std::ops::Deref for ReadBuf {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.storage[..self.filled]
    }
}

impl ReadBuf {
    /// Bytes to start from (as read past the header).
    fn holding(bytes: Vec<u8>) -> ReadBuf {
        ReadBuf {
            filled: bytes.len(),
            storage: bytes,
        }
    }

    /// Empty, reusing `storage`: all of its length is initialised, to be read into unzeroed.
    fn reusing(storage: Vec<u8>) -> ReadBuf {
        ReadBuf { storage, filled: 0 }
    }

    /// Forget the first `n` bytes, moving the rest to the front.
    fn consume(&mut self, n: usize) {
        self.storage.copy_within(n..self.filled, 0);
        self.filled -= n;
    }

    /// Append `bytes`.
    fn extend_from_slice(&mut self, bytes: &[u8]) {
        let end = self.filled + bytes.len();
        if self.storage.len() < end {
            self.storage.resize(end, 0);
        }
        self.storage[self.filled..end].copy_from_slice(bytes);
        self.filled = end;
    }

    /// Append up to `want` bytes from `reader`, stopping early only at the end of its input; the
    /// number of bytes appended.
    fn read_from(&mut self, reader: &mut impl Read, want: usize) -> std::io::Result<usize> {
        let end = self.filled + want;
        if self.storage.len() < end {
            // Room for the next read's carried-over tail as well, so that a recycled buffer
            // takes the next read without growing (see `TAIL_SLACK`).
            if self.storage.capacity() < end {
                self.storage
                    .reserve_exact(end + TAIL_SLACK - self.storage.len());
            }
            // Zeroed once: the storage keeps this length from batch to batch.
            self.storage.resize(end, 0);
        }
        let start = self.filled;
        while self.filled < end {
            match reader.read(&mut self.storage[self.filled..end]) {
                Ok(0) => break,
                Ok(n) => self.filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self.filled - start)
    }

    /// The storage, cut to the bytes held.
    fn into_bytes(self) -> Vec<u8> {
        let mut bytes = self.storage;
        bytes.truncate(self.filled);
        bytes
    }
}

/// Streams records out of a reader in batches.
pub struct Splitter<R> {
    reader: R,
    buf: ReadBuf,
    pos: usize,
    eof: bool,
    /// Physical line number of `buf[pos]`.
    line: u64,
    expected_fields: usize,
    /// Bytes consumed from the (decompressed) input so far, for progress.
    pub consumed: u64,
    /// A buffer of an earlier batch, handed back for reuse (see [`Splitter::recycle`]).
    spare: Option<Vec<u8>>,
    /// Bytes read at a time ([`READ_CHUNK`]; smaller in tests, so records straddle reads).
    read_chunk: usize,
}

impl<R: Read> Splitter<R> {
    /// Start after the header: `rest` holds the bytes already read past it, `line` is the line
    /// number the first record starts on.
    pub fn new(reader: R, rest: Vec<u8>, line: u64, expected_fields: usize, eof: bool) -> Self {
        Splitter {
            reader,
            buf: ReadBuf::holding(rest),
            pos: 0,
            eof,
            line,
            expected_fields,
            consumed: 0,
            spare: None,
            read_chunk: READ_CHUNK,
        }
    }

    /// Hand back the bytes of a batch that has been parsed: the next batch reads into them.
    /// Fresh buffers cost a page fault per 4 KiB touched, which profiles showed in the reader.
    /// Its bytes are kept: they are read over without being zeroed first (see [`ReadBuf`]).
    pub fn recycle(&mut self, buf: Vec<u8>) {
        if self.spare.is_none() {
            self.spare = Some(buf);
        }
    }

    fn fill(&mut self) -> std::io::Result<()> {
        if self.eof {
            return Ok(());
        }
        if self.pos > 0 {
            self.buf.consume(self.pos);
            self.pos = 0;
        }
        // Read until the chunk is full or the input ends, so small reads (gzip) batch up.
        let got = self.buf.read_from(&mut self.reader, self.read_chunk)?;
        if got < self.read_chunk {
            self.eof = true;
        }
        Ok(())
    }

    /// The next batch of about `target` bytes of records, or `None` at the end of input.
    pub fn next_batch(&mut self, target: usize) -> std::io::Result<Option<Batch>> {
        let mut records = Vec::new();
        let mut broken = Vec::new();
        let mut batch_start = self.pos;
        loop {
            let nothing_yet = records.is_empty() && broken.is_empty();
            let scan = if self.pos >= self.buf.len() {
                if self.eof || !nothing_yet {
                    break;
                }
                Scan::NeedMore
            } else {
                scan_record(&self.buf, self.pos, self.eof)
            };
            match scan {
                Scan::NeedMore => {
                    if !nothing_yet {
                        break;
                    }
                    if self.buf.len() - self.pos > MAX_RECORD_BYTES {
                        // May read on past the buffer: return this on its own.
                        let q = self.quarantine_first_line(
                            "record longer than 64 MiB: an unterminated quoted field?",
                        )?;
                        return Ok(Some(Batch {
                            data: Vec::new(),
                            records: Vec::new(),
                            broken: vec![q],
                        }));
                    }
                    // Nothing collected yet, so the buffer may be compacted under us.
                    self.fill()?;
                    batch_start = self.pos;
                }
                Scan::Unterminated => {
                    broken.push(self.quarantine_first_line("unterminated quoted field")?);
                }
                Scan::Record {
                    end,
                    next,
                    newlines,
                } => {
                    let rec = &self.buf[self.pos..end];
                    let blank = rec.is_empty() || rec == b"\r";
                    if newlines > 0 && !blank && count_fields(rec) != self.expected_fields {
                        broken.push(self.quarantine_first_line(
                            "unterminated quoted field: the quote opened here runs into later lines",
                        )?);
                        continue;
                    }
                    if !blank {
                        records.push(Span {
                            start: self.pos - batch_start,
                            end: end - batch_start,
                            line: self.line,
                        });
                    }
                    self.line += newlines + u64::from(next > end);
                    self.consumed += (next - self.pos) as u64;
                    self.pos = next;
                    // `None` means the end of the input, so a batch ends at `target` bytes only
                    // once it holds something: a long run of blank lines must not end the file.
                    if self.pos - batch_start >= target
                        && !(records.is_empty() && broken.is_empty())
                    {
                        break;
                    }
                }
            }
        }
        if records.is_empty() && broken.is_empty() {
            return Ok(None);
        }
        // Own the batch's bytes; the rest stays for the next call. Spans are relative to batch_start.
        let data = if batch_start == 0 {
            // Hand over the buffer itself and keep only the unread tail (usually part of one
            // record): no copy of the batch.
            let mut tail = ReadBuf::reusing(self.spare.take().unwrap_or_default());
            tail.extend_from_slice(&self.buf[self.pos..]);
            let mut data = std::mem::replace(&mut self.buf, tail).into_bytes();
            data.truncate(self.pos);
            self.pos = 0;
            data
        } else {
            self.buf[batch_start..self.pos].to_vec()
        };
        Ok(Some(Batch {
            data,
            records,
            broken,
        }))
    }

    /// The header record (the first non-blank record), or `None` for an input with no records.
    pub fn next_header(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        loop {
            let scan = if self.pos >= self.buf.len() {
                if self.eof {
                    return Ok(None);
                }
                Scan::NeedMore
            } else {
                scan_record(&self.buf, self.pos, self.eof)
            };
            match scan {
                Scan::NeedMore if self.buf.len() - self.pos > MAX_RECORD_BYTES => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "line 1: header longer than 64 MiB",
                    ));
                }
                Scan::NeedMore => self.fill()?,
                Scan::Unterminated => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "line 1: the header has an unterminated quote",
                    ));
                }
                Scan::Record {
                    end,
                    next,
                    newlines,
                } => {
                    let rec = &self.buf[self.pos..end];
                    let blank = rec.is_empty() || rec == b"\r";
                    let header = (!blank).then(|| rec.to_vec());
                    self.line += newlines + u64::from(next > end);
                    self.consumed += (next - self.pos) as u64;
                    self.pos = next;
                    if header.is_some() {
                        return Ok(header);
                    }
                }
            }
        }
    }

    /// After the header: split records expecting the header's number of fields.
    pub fn into_records(mut self, expected_fields: usize) -> Self {
        self.expected_fields = expected_fields;
        self
    }

    /// Quarantine the physical line at `pos` and move past it (reading on if it is longer than the
    /// buffer, without keeping more than a preview of it).
    fn quarantine_first_line(&mut self, reason: &str) -> std::io::Result<Quarantined> {
        let line = self.line;
        loop {
            if let Some(k) = memchr(b'\n', &self.buf[self.pos..]) {
                let raw = truncate_raw(&self.buf[self.pos..self.pos + k]);
                self.consumed += (k + 1) as u64;
                self.pos += k + 1;
                self.line += 1;
                return Ok(Quarantined {
                    line,
                    column: None,
                    reason: reason.to_owned(),
                    raw,
                });
            }
            if self.eof {
                let raw = truncate_raw(&self.buf[self.pos..]);
                self.consumed += (self.buf.len() - self.pos) as u64;
                self.pos = self.buf.len();
                return Ok(Quarantined {
                    line,
                    column: None,
                    reason: reason.to_owned(),
                    raw,
                });
            }
            if self.buf.len() - self.pos > MAX_RECORD_BYTES {
                // Keep a preview and drop the rest of this enormous line as it streams past.
                let preview = truncate_raw(&self.buf[self.pos..]);
                self.consumed += (self.buf.len() - self.pos) as u64;
                self.pos = self.buf.len();
                self.fill()?;
                let q = self.quarantine_first_line(reason)?;
                return Ok(Quarantined {
                    line,
                    raw: preview,
                    ..q
                });
            }
            self.fill()?;
        }
    }
}

/// How fields of one CSV file become events.
pub struct CsvMapping {
    pub header: HeaderMapping,
    pub names: RequiredNames,
    /// Unknown columns hold Python literals (code42cli) rather than plain text.
    pub python_values: bool,
    /// The file is an auditlens export whose formula-neutralised cells are restored on input.
    pub unneutralise: bool,
    /// `Details` is the last column (as the console writes it), so its quoted cells can be read
    /// in place (see [`split_fields_until`]).
    pub details_last: bool,
    /// The position of the event type's column, by which a chunk's records are grouped before
    /// they are parsed (see [`parse_order`]).
    pub type_column: Option<usize>,
}

impl CsvMapping {
    pub fn new(header: &[String], column_map: &ColumnMap) -> Result<CsvMapping, String> {
        let header = HeaderMapping::new(header, column_map)?;
        let names = RequiredNames {
            timestamp: header.column_name(Field::Timestamp).map(str::to_owned),
            event_type: header.column_name(Field::EventType).map(str::to_owned),
        };
        let python_values = header.api_naming;
        let unneutralise = header
            .names
            .iter()
            .any(|n| super::columns::normalize_header(n) == crate::output::EVENT_ID_HEADER);
        let details_last =
            !unneutralise && header.targets.last() == Some(&Target::Field(Field::Details));
        let type_column = header
            .targets
            .iter()
            .position(|t| *t == Target::Field(Field::EventType));
        Ok(CsvMapping {
            header,
            names,
            python_values,
            unneutralise,
            details_last,
            type_column,
        })
    }
}

/// Parse the records of a batch into canonical rows (one call per parallel slice).
pub fn parse_records(batch: &Batch, spans: &[Span], map: &CsvMapping) -> ParsedChunk {
    let mut cols = EventColumns::with_capacity(spans.len());
    let mut quarantined = Vec::new();
    let mut fields = Vec::with_capacity(map.header.targets.len());
    let mut scratch = RowScratch::default();
    // The chunk's bytes are checked for UTF-8 once, which is cheaper than checking each of a
    // row's dozen fields on its own (most are short); a field is then taken from the checked text
    // by its position. A chunk with invalid bytes is checked field by field, which names them.
    // (`simdutf8` checks 32 bytes at a time; the standard library's check was 1.7% of ingest.)
    let text = spans.first().zip(spans.last()).and_then(|(first, last)| {
        let checked = simdutf8::basic::from_utf8(batch.data.get(first.start..last.end)?).ok()?;
        Some((first.start, checked))
    });
    let order = parse_order(batch, spans, map.type_column);
    for span in order.iter().map(|&i| &spans[i as usize]) {
        let rec = &batch.data[span.start..span.end];
        let rec_text = text.and_then(|(base, t)| {
            t.get(span.start.checked_sub(base)?..span.end.checked_sub(base)?)
        });
        let row = Record {
            bytes: rec,
            text: rec_text,
            line: span.line,
        };
        match record_to_event(row, map, &mut fields, &mut scratch, &mut cols) {
            Ok(()) => {}
            Err(e) => quarantined.push(Quarantined {
                line: span.line,
                column: e.column,
                reason: e.reason,
                raw: truncate_raw(rec),
            }),
        }
    }
    // Quarantined records are reported in the order of their lines, as they were read.
    quarantined.sort_by_key(|q| q.line);
    ParsedChunk::new(cols, quarantined, spans.len() as u64)
}

/// The order in which a chunk's records are parsed: grouped by the raw bytes of their event type
/// field, the groups in order of their first record, each group's records in input order.
///
/// The store's writer sorts each day by event type (src/store/writer.rs). Parsed in input order,
/// a chunk's rows of one type are scattered over its column buffers, and the writer reads each
/// type's strings from all over a day's memory: at 5M rows a day (about 100 MB of columns)
/// outgrows the cache, and each row's strings were a cache miss. Grouped here, while the records
/// are in the cache, each type's rows are contiguous in each chunk's buffers, and consecutive
/// rows of one type are also cheaper to parse (the same fields, the same `Details` keys: fewer
/// mispredicted branches). Rows keep their input order within a type, and the writer orders a
/// day by type, then time, then input position: the stored parts are the same.
///
/// A type field that cannot be found (a short or malformed record, left for the parser to
/// quarantine) is grouped with the others like it; the grouping only decides the order.
fn parse_order(batch: &Batch, spans: &[Span], type_column: Option<usize>) -> Vec<u32> {
    let Some(column) = type_column.filter(|_| spans.len() > 1) else {
        return (0..spans.len() as u32).collect();
    };
    let mut groups: PlHashMap<&[u8], u32> = PlHashMap::default();
    let group_of: Vec<u32> = spans
        .iter()
        .map(|span| {
            let key = nth_field(&batch.data[span.start..span.end], column);
            let next = groups.len() as u32;
            *groups.entry(key).or_insert(next)
        })
        .collect();
    crate::order::by_key(&group_of, groups.len()).0
}

/// The raw bytes of field `n` of a record (quotes and all), or an empty slice when the record
/// has fewer fields. A quoted field ends at a quote not doubled.
fn nth_field(rec: &[u8], n: usize) -> &[u8] {
    let mut start = 0;
    for field in 0..=n {
        let end = if rec.get(start) == Some(&b'"') {
            let mut at = start + 1;
            loop {
                match rec.get(at..).and_then(|rest| memchr(b'"', rest)) {
                    Some(k) if rec.get(at + k + 1) == Some(&b'"') => at += k + 2,
                    Some(k) => break at + k + 1,
                    None => return &[],
                }
            }
        } else {
            rec.get(start..)
                .and_then(|rest| memchr(b',', rest))
                .map_or(rec.len(), |k| start + k)
        };
        if field == n {
            return rec.get(start..end).unwrap_or_default();
        }
        if end >= rec.len() {
            return &[];
        }
        start = end + 1;
    }
    &[]
}

/// One record of a batch: its bytes, the same bytes as text when they were checked to be UTF-8,
/// and its line.
#[derive(Clone, Copy)]
struct Record<'a> {
    bytes: &'a [u8],
    text: Option<&'a str>,
    line: u64,
}

impl<'a> Record<'a> {
    /// `field` (a slice of the record's bytes) as text, if the record's text was checked.
    fn checked(&self, field: &[u8]) -> Option<&'a str> {
        let start = (field.as_ptr() as usize).checked_sub(self.bytes.as_ptr() as usize)?;
        self.text?.get(start..start.checked_add(field.len())?)
    }
}

fn record_to_event<'a>(
    rec: Record<'a>,
    map: &CsvMapping,
    fields: &mut Vec<Cow<'a, [u8]>>,
    scratch: &mut RowScratch,
    out: &mut EventColumns,
) -> Result<(), RowError> {
    let line = rec.line;
    let want = map.header.targets.len();
    // A quoted `Details` cell at the end of the record is rewritten straight from the file's text;
    // should it turn out not to be one whole JSON object field, the record is split as usual.
    let details_in_place = if map.details_last {
        match split_fields_until(rec.bytes, fields, want - 1) {
            Some(body) => {
                let rewritten = rec
                    .checked(body)
                    .filter(|body| scratch.csv_quoted_details(body));
                if rewritten.is_none() {
                    split_fields(rec.bytes, fields);
                }
                rewritten
            }
            None => None,
        }
    } else {
        split_fields(rec.bytes, fields);
        None
    };
    if fields.len() + usize::from(details_in_place.is_some()) != want {
        return Err(RowError::new(
            None,
            format!(
                "expected {want} fields as in the header, found {}",
                fields.len()
            ),
        ));
    }
    let mut raw = RawEvent {
        line,
        details_quoted: details_in_place,
        ..RawEvent::default()
    };
    // Fields are moved out so that unquoted (owned) text becomes a String without another copy.
    for (i, (bytes, target)) in fields.drain(..).zip(&map.header.targets).enumerate() {
        let text: Cow<'_, str> = match bytes {
            Cow::Borrowed(b) => Cow::Borrowed(match rec.checked(b) {
                Some(text) => text,
                None => std::str::from_utf8(b).map_err(|e| utf8_error(map, i, e))?,
            }),
            Cow::Owned(b) => {
                Cow::Owned(String::from_utf8(b).map_err(|e| utf8_error(map, i, e.utf8_error()))?)
            }
        };
        let text = if map.unneutralise {
            crate::output::unneutralise(text)
        } else {
            text
        };
        match target {
            Target::Field(f) => {
                let slot = match f {
                    Field::Timestamp => &mut raw.timestamp,
                    Field::EventType => &mut raw.event_type,
                    Field::ActorName => &mut raw.actor_name,
                    Field::ActorId => &mut raw.actor_id,
                    Field::ActorType => &mut raw.actor_type,
                    Field::Ip => &mut raw.ip,
                    Field::UserAgent => &mut raw.user_agent,
                    Field::AffectedName => &mut raw.affected_name,
                    Field::AffectedId => &mut raw.affected_id,
                    Field::Details => &mut raw.details_text,
                    Field::Derived => continue,
                };
                *slot = Some(text);
            }
            Target::Detail(key) => {
                // An empty cell is an absent key: code42cli writes the union of all events' keys.
                if text.is_empty() {
                    continue;
                }
                let v = if map.python_values {
                    python_cell(&text)
                } else {
                    serde_json::Value::String(text.into_owned())
                };
                raw.details.insert(key.clone(), v);
            }
        }
    }
    convert(raw, &map.names, scratch, out)
}

fn utf8_error(map: &CsvMapping, i: usize, e: std::str::Utf8Error) -> RowError {
    RowError::new(
        map.header.names.get(i).map(String::as_str),
        format!(
            "invalid UTF-8 in field {} at byte {}",
            i + 1,
            e.valid_up_to()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::schema::cols;
    use proptest::prelude::*;

    /// What [`scan_record`] must answer, byte by byte: a quote opens or closes quoting (a doubled
    /// quote closes and reopens it), a newline outside quotes ends the record.
    fn scan_reference(buf: &[u8], start: usize, eof: bool) -> (Option<usize>, bool, u64) {
        let (mut inside, mut newlines) = (false, 0);
        for (i, &b) in buf.iter().enumerate().skip(start) {
            match b {
                b'"' => inside = !inside,
                b'\n' if !inside => return (Some(i), false, newlines),
                b'\n' => newlines += 1,
                _ => {}
            }
        }
        match (eof, inside) {
            (false, _) => (None, false, 0),
            (true, true) => (None, true, 0),
            (true, false) => (Some(buf.len()), false, newlines),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        #[test]
        fn records_end_at_the_first_newline_outside_quotes(
            bytes in proptest::collection::vec(prop_oneof![Just(b'"'), Just(b'\n'), Just(b','), Just(b'a')], 0..40),
            start in 0usize..40,
            eof: bool,
        ) {
            let start = start.min(bytes.len());
            let got = match scan_record(&bytes, start, eof) {
                Scan::Record { end, next, newlines } => {
                    prop_assert_eq!(next, (end + 1).min(bytes.len()));
                    (Some(end), false, newlines)
                }
                Scan::NeedMore => (None, false, 0),
                Scan::Unterminated => (None, true, 0),
            };
            prop_assert_eq!(got, scan_reference(&bytes, start, eof));
        }
    }

    fn fields(s: &str) -> Vec<String> {
        let mut out = Vec::new();
        split_fields(s.as_bytes(), &mut out);
        out.iter()
            .map(|f| String::from_utf8(f.to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn field_splitting() {
        assert_eq!(fields("a,b,c"), ["a", "b", "c"]);
        assert_eq!(fields("a,,"), ["a", "", ""]);
        assert_eq!(fields(""), [""]);
        assert_eq!(
            fields("\"a,b\",\"say \"\"hi\"\"\",c\r"),
            ["a,b", "say \"hi\"", "c"]
        );
        assert_eq!(fields("\"multi\nline\",x"), ["multi\nline", "x"]);
        assert_eq!(fields("\"\""), [""]);
        assert_eq!(fields("\"a\"b,c"), ["ab", "c"]);
    }

    /// The mapping of the console's CSV header.
    fn console_mapping() -> CsvMapping {
        let header: Vec<String> = "Date observed,Username,User type,Event type,IP address,\
            Affected user,Affected user ID,Actor ID,User agent,Details"
            .split(',')
            .map(str::to_owned)
            .collect();
        CsvMapping::new(&header, &ColumnMap::default()).expect("console header")
    }

    /// A console export's `Details` cells read in place give the same events and the same
    /// quarantine as the cells unquoted first, for well-formed cells and for cells that only look
    /// like one quoted field.
    #[test]
    fn details_read_in_place_agree_with_unquoted_cells() {
        let mut map = console_mapping();
        assert!(map.details_last);
        // An actor type nobody documented is kept among the details, which takes the general
        // path with the cell's unquoted text.
        let prefixes = ["User", "Robot"].map(|actor_type| {
            format!(
                "2026-03-30T00:01:48.022Z,a@example.com,{actor_type},Alert state changed,\
                 \"203.0.113.11, 64.252.92.248\",b@example.com,7,42,\"Mozilla/5.0 (X11, Linux)\","
            )
        });
        let cells = [
            r#""{""alertId"":""7acf"",""newState"":""OPEN""}""#,
            r#"" { ""b"" : ""say \""hi\"""" , ""a"":[1,""\u0041"",{""z"":null,""y"":true}]} ""#,
            r#""{""requestJson"":""{\""groups\"":[{\""a\"":\""\\\""}]}"",""n"":1.50}""#,
            r#""{""k"":""\/ \"" \\ \n é""}""#,
            r#""{""a"":""x""}"trailing"#,
            r#""{""a"":""x"",""b"":"y"}""#,
            r#""{""a"":""x\"y""}""#,
            r#""{""a"":1}","extra""#,
            r#""{""a"":1}"""#,
            r#""{""a"":1}"#,
            r#"{"a":1}"#,
            r#""""#,
            r#""""""#,
            r#""not json""#,
            r#""[1,2]""#,
            "\"{\"\"a\"\":\"\"line\nbreak\"\"}\"",
            r#""{""a"":1}""#,
        ];
        let mut data = Vec::new();
        let mut records = Vec::new();
        for (prefix, cell) in prefixes
            .iter()
            .flat_map(|p| cells.iter().map(move |c| (p, c)))
        {
            for ending in ["\n", "\r\n"] {
                let start = data.len();
                data.extend_from_slice(format!("{prefix}{cell}").as_bytes());
                let end = data.len() + usize::from(ending == "\r\n");
                data.extend_from_slice(ending.as_bytes());
                records.push(Span {
                    start,
                    end,
                    line: records.len() as u64 + 2,
                });
            }
        }
        let batch = Batch {
            data,
            records,
            broken: Vec::new(),
        };
        let in_place = parse_records(&batch, &batch.records, &map);
        map.details_last = false;
        let unquoted = parse_records(&batch, &batch.records, &map);
        assert_eq!(in_place.events.ids(), unquoted.events.ids());
        assert_eq!(in_place.quarantined, unquoted.quarantined);
        assert_eq!(in_place.events.len() + in_place.quarantined.len(), 68);
        assert_eq!(in_place.quarantined.len(), 4, "{:?}", in_place.quarantined);
        let frames = [in_place, unquoted].map(|p| p.events.finish("x.csv").expect("frame"));
        assert!(frames[0].equals_missing(&frames[1]));
    }

    /// `text`'s lines as a batch of records, numbered from line 2.
    fn batch_of(text: &str) -> Batch {
        let mut records = Vec::new();
        let mut start = 0;
        for (i, line) in text.split_inclusive('\n').enumerate() {
            let end = start + line.trim_end_matches('\n').len();
            records.push(Span {
                start,
                end,
                line: i as u64 + 2,
            });
            start += line.len();
        }
        Batch {
            data: text.as_bytes().to_vec(),
            records,
            broken: Vec::new(),
        }
    }

    fn well_formed_cell() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-c ]{0,4}",
            "[a-c,\"]{0,4}".prop_map(|v| format!("\"{}\"", v.replace('"', "\"\""))),
        ]
    }

    proptest! {
        /// A well-formed record's field, found without splitting the others, is the one
        /// `split_fields` gives (quotes removed).
        #[test]
        fn nth_field_is_the_field_split_fields_gives(
            cells in proptest::collection::vec(well_formed_cell(), 1..6),
            n in 0usize..7,
        ) {
            let rec = cells.join(",");
            let raw = nth_field(rec.as_bytes(), n);
            match cells.get(n) {
                Some(cell) => {
                    prop_assert_eq!(raw, cell.as_bytes());
                    prop_assert_eq!(&fields(cell)[0], &fields(&rec)[n]);
                }
                None => prop_assert!(raw.is_empty()),
            }
        }

        /// The parse order is a permutation that puts the records of one type field together,
        /// each type's in input order, the types in order of their first record.
        #[test]
        fn records_are_parsed_grouped_by_type_in_input_order(
            types in proptest::collection::vec(proptest::sample::select(vec!["A", "\"B,b\"", "C", "", "\"open"]), 0..40),
            short in proptest::collection::vec(proptest::bool::ANY, 40),
        ) {
            let text: String = types
                .iter()
                .zip(&short)
                .map(|(t, &short)| if short { "only,one\n".to_string() } else { format!("x,{t},y\n") })
                .collect();
            let batch = batch_of(&text);
            let order = parse_order(&batch, &batch.records, Some(1));
            let key = |i: u32| {
                let span = &batch.records[i as usize];
                nth_field(&batch.data[span.start..span.end], 1)
            };
            let mut sorted = order.clone();
            sorted.sort_unstable();
            prop_assert_eq!(sorted, (0..types.len() as u32).collect::<Vec<_>>());
            let mut firsts: Vec<&[u8]> = Vec::new();
            for (at, pair) in order.windows(2).enumerate() {
                if key(pair[0]) == key(pair[1]) {
                    prop_assert!(pair[0] < pair[1], "type out of input order at {}", at);
                }
            }
            for &i in &order {
                if firsts.last() != Some(&key(i)) {
                    prop_assert!(!firsts.contains(&key(i)), "type split in two at {}", i);
                    firsts.push(key(i));
                }
            }
            let first_seen: Vec<&[u8]> = (0..types.len() as u32).map(key).fold(Vec::new(), |mut seen, k| {
                if !seen.contains(&k) {
                    seen.push(k);
                }
                seen
            });
            prop_assert_eq!(firsts, first_seen);
        }
    }

    /// Records parsed grouped by type give the rows they give parsed in input order, and the
    /// quarantine in the order of its lines.
    #[test]
    fn grouped_parsing_gives_the_rows_and_quarantine_of_input_order() {
        let map = console_mapping();
        assert_eq!(map.type_column, Some(3));
        let mut text = String::new();
        let types = [
            "Alert state changed",
            "Login",
            "Alert state changed",
            "Not a known type",
            "Login",
        ];
        for i in 0..40 {
            let t = types[i % types.len()];
            if i % 7 == 3 {
                // Bad records among the good, of either type.
                text.push_str(&format!(
                    "not a date,a@example.com,User,{t},203.0.113.1,,,,ua,\"{{}}\"\n"
                ));
            } else {
                text.push_str(&format!(
                    "2026-03-30T00:{:02}:00Z,a{i}@example.com,User,{t},203.0.113.{i},,,,ua {i},\"{{\"\"n\"\":{i}}}\"\n",
                    i % 60
                ));
            }
        }
        let batch = batch_of(&text);
        let grouped = parse_records(&batch, &batch.records, &map);
        let in_order = parse_records(
            &batch,
            &batch.records,
            &CsvMapping {
                type_column: None,
                ..console_mapping()
            },
        );
        let lines: Vec<u64> = grouped.quarantined.iter().map(|q| q.line).collect();
        assert_eq!(lines, [5, 12, 19, 26, 33, 40]);
        assert_eq!(grouped.quarantined, in_order.quarantined);
        assert_ne!(
            grouped.events.ids(),
            in_order.events.ids(),
            "the rows were not regrouped"
        );
        let frames = [grouped, in_order].map(|p| {
            p.events
                .finish("x.csv")
                .expect("frame")
                .sort([cols::SOURCE_LINE], Default::default())
                .expect("sorted")
        });
        assert_eq!(frames[0].height(), 34);
        assert!(frames[0].equals_missing(&frames[1]));
    }

    /// (line, text) of each record and of each quarantined line.
    type Lines = Vec<(u64, String)>;

    fn split_all(input: &str, expected_fields: usize) -> (Lines, Lines) {
        split_with(input.as_bytes(), expected_fields, READ_CHUNK, 7)
    }

    /// The records and quarantined lines of `input`, read `read_chunk` bytes at a time in batches
    /// of about `target` bytes, each batch's buffer handed back as the ingest pipeline does.
    fn split_with(
        input: impl Read,
        fields: usize,
        read_chunk: usize,
        target: usize,
    ) -> (Lines, Lines) {
        let mut s = Splitter::new(input, Vec::new(), 2, fields, false);
        s.read_chunk = read_chunk;
        let (mut good, mut bad) = (Vec::new(), Vec::new());
        while let Some(b) = s.next_batch(target).unwrap() {
            for r in &b.records {
                good.push((
                    r.line,
                    String::from_utf8(b.data[r.start..r.end].to_vec()).unwrap(),
                ));
            }
            for q in b.broken {
                bad.push((q.line, q.raw));
            }
            s.recycle(b.data);
        }
        (good, bad)
    }

    /// Hands out at most `step` bytes a read, as a decompressor may.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.bytes.len());
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    proptest::proptest! {
        /// Records straddling reads and batches, read into recycled buffers that still hold an
        /// earlier batch's bytes, come out as from one read of the whole input.
        #[test]
        fn small_reads_and_reused_buffers_split_as_one_read(
            cells in proptest::collection::vec(
                proptest::sample::select(vec!["a", "", "\"q\"\"x\"", "\"multi\nline\"", "\r", "\"open", "zz"]),
                0..40,
            ),
            ends in proptest::collection::vec(proptest::bool::ANY, 40),
            read_chunk in 1usize..24,
            step in 1usize..9,
            target in 1usize..40,
        ) {
            let mut input = String::new();
            for (cell, end) in cells.iter().zip(&ends) {
                input.push_str(cell);
                input.push(if *end { '\n' } else { ',' });
            }
            let whole = split_with(input.as_bytes(), 2, input.len() + 1, 1 << 20);
            let bytes = input.as_bytes();
            let pieces = split_with(Trickle { bytes, step }, 2, read_chunk, target);
            proptest::prop_assert_eq!(pieces, whole);
        }
    }

    #[test]
    fn recycled_buffers_take_the_next_read_without_growing() {
        // Records of different lengths, so the part of a record carried over from one read to the
        // next differs from read to read.
        let mut input = String::new();
        for i in 0..2000 {
            input.push_str(&"x".repeat(i % 50));
            input.push_str(",y\n");
        }
        let mut s = Splitter::new(input.as_bytes(), Vec::new(), 2, 2, false);
        s.read_chunk = 1000;
        let (mut records, mut capacities) = (0, Vec::new());
        // Batches as large as a read, so each hands over its whole buffer.
        while let Some(b) = s.next_batch(1 << 20).unwrap() {
            records += b.records.len();
            capacities.push(b.data.capacity());
            s.recycle(b.data);
        }
        assert_eq!(records, 2000);
        assert!(capacities.len() > 50, "{} batches", capacities.len());
        // Two buffers take turns (the one being read into and the one handed back), each sized
        // once; one that grew when it was reused would show a third capacity.
        capacities.sort_unstable();
        capacities.dedup();
        assert!(capacities.len() <= 2, "capacities {capacities:?}");
    }

    #[test]
    fn records_with_quoted_newlines_keep_physical_line_numbers() {
        let (good, bad) = split_all("a,b\r\n\"x\ny\",z\r\n\r\nc,d", 2);
        assert!(bad.is_empty());
        assert_eq!(
            good,
            [
                (2, "a,b\r".to_string()),
                (3, "\"x\ny\",z\r".to_string()),
                (6, "c,d".to_string())
            ]
        );
    }

    #[test]
    fn blank_lines_longer_than_a_batch_do_not_end_the_file() {
        // Found by fuzzing (with one-record batches): a batch of only blank lines was returned as
        // the end of the input, silently dropping every record after it.
        let input = format!("a,b\n{}c,d\n", "\n".repeat(20));
        let (good, bad) = split_all(&input, 2);
        assert!(bad.is_empty());
        assert_eq!(good, [(2, "a,b".to_string()), (23, "c,d".to_string())]);
    }

    #[test]
    fn an_unterminated_quote_costs_one_line() {
        let (good, bad) = split_all("a,b\n\"broken,x\nc,d\ne,\"f\"\"g\"\n", 2);
        assert_eq!(bad, [(3, "\"broken,x".to_string())]);
        assert_eq!(good.iter().map(|g| g.0).collect::<Vec<_>>(), [2, 4, 5]);
        let (good, bad) = split_all("a,b\nc,\"d\n", 2);
        assert_eq!(bad, [(3, "c,\"d".to_string())]);
        assert_eq!(good.len(), 1);
    }
}
