/*!
Writing one source file's events and quarantined records as Parquet parts, ready to commit.

Events arrive in input order, already deduplicated, grouped by UTC date. Each date gets its own part
file, written as its buffer fills, so memory stays bounded for any input size. Each buffer is sorted
by event type, then time, and written in small row groups: the row-group statistics of `event_type`
then let a scan for a few types (an analysis reading privilege changes, case actions or file access)
skip most of a part, together with its `details` and `event_id` pages, which are the costly columns
to decompress. Time ranges are pruned by the date partitions and the parts' ranges in the manifest;
every reader that shows events sorts them by time. Parts are written
under hidden temporary names and renamed only in [`FileWriter::finish`]; the caller then commits
them to the manifest. Dropping an unfinished writer deletes its temporary files.

Sorting and encoding a day take about a second at 200,000 events a day, so they run on an encoder
thread of their own: the caller goes on deduplicating while parsing goes on, instead of every
stage waiting for each flush (ingest kept both cores about three quarters busy before). Flushes
reach it through a `Handoff` (a rendezvous for a day, a short queue for the small ones: weekends),
and it encodes a flush's row groups side by side on rayon's pool, so the end of a file, when only
the last days are left to write, keeps both cores busy too. A [`Syncer`] thread writes each flush
to disk behind it, so that the fsyncs before the commit do not wait for every part's bytes.
*/

use std::collections::BTreeMap;
use std::collections::VecDeque;
use std::fs::{self, File};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use polars::prelude::*;
use rayon::prelude::*;

use super::Store;
use super::manifest::{Part, QuarantinePart, sync_dir};
use super::parquet::{EncodedRowGroup, Layout, ParquetFile};
use super::syncer::Syncer;
use crate::error::{Error, Result};
use crate::input::Quarantined;
use crate::model::schema::{cols, event_schema};

/// Rows buffered for one date before they are written. Each write is sorted on its own, so a
/// day that fits in one keeps each event type in as few row groups as possible.
const FLUSH_ROWS: usize = 256 * 1024;
/// Rows per Parquet row group. Small enough that a day of a few hundred thousand events spreads
/// its event types over dozens of row groups (what lets type-selective scans skip), large enough
/// that whole-store scans do not notice the extra row groups (bench/NOTES.md has the figures; the
/// sort costs ingest about 15%).
const ROW_GROUP_ROWS: usize = 16 * 1024;
/// A date whose buffer got no rows in this many appends (parsed chunks of a few thousand rows)
/// is written out.
const IDLE_APPENDS: u64 = 8;
/// Rows buffered across all dates before the largest buffer is written out.
const MAX_BUFFERED_ROWS: usize = 512 * 1024;
/// How the parts' columns are encoded where polars' writer would choose otherwise.
///
/// - `event_id` (distinct on every row) and `details` (long JSON texts, which zstd shrinks eightfold
///   without a dictionary) get no dictionary: polars' writer hashed every value to find that one
///   did not pay (src/store/parquet.rs). Their pages are DELTA_LENGTH_BYTE_ARRAY, the lengths
///   apart from the texts: zstd takes a third less time on them than on PLAIN's interleaving, and
///   the store is 5% smaller (src/store/pages/delta_length.rs).
/// - The instants and line numbers mostly increase within a row group (its rows are sorted by type,
///   then time), so they are written as differences (DELTA_BINARY_PACKED) and not compressed: 30%
///   smaller than zstd over plain values, and read 2.4 times faster by polars (1M events).
/// - The type, label, category, actor type and file name are a few kilobytes per row group once
///   dictionary-encoded (runs of one value), which zstd does not shrink: uncompressed, readers skip
///   a decompression context for each of them in every row group (a `cpuid` each, slow on virtual
///   machines).
/// - `event_id` and `details` are written in small pages
///   ([`SMALL_PAGE`](super::parquet::SMALL_PAGE)): analyses read them for the few events of the
///   types they select, and polars skips the pages none of those are in. The other columns' pages
///   are a few kilobytes per row group already (dictionary keys, runs, differences), or are not
///   skipped anyway (`ip_addresses`: polars decodes nested columns whole).
/// - `event_id` is hex digits of a hash, which zstd shrinks twofold by entropy coding alone: its
///   match finder is kept from chasing chance matches
///   ([`RANDOM_TEXT_MIN_MATCH`](super::parquet::RANDOM_TEXT_MIN_MATCH)).
const LAYOUT: Layout<'static> = Layout {
    plain: &[],
    delta_length: &[cols::EVENT_ID, cols::DETAILS],
    delta: &[cols::TIMESTAMP, cols::TIMESTAMP_NS, cols::SOURCE_LINE],
    uncompressed: &[
        cols::TIMESTAMP,
        cols::TIMESTAMP_NS,
        cols::SOURCE_LINE,
        cols::EVENT_TYPE,
        cols::EVENT_LABEL,
        cols::CATEGORY,
        cols::ACTOR_TYPE,
        cols::SOURCE_FILE,
    ],
    small_pages: &[cols::EVENT_ID, cols::DETAILS],
    random_text: &[cols::EVENT_ID],
};
/// zstd level of the parts. Level 1 compresses at about twice the speed of the default (3) and
/// the files come out only slightly larger (measured on generated exports: see bench/RESULTS.md).
const ZSTD_LEVEL: i32 = 1;
/// Rows of flushes that may wait for a busy encoder (see [`Handoff`]).
const QUEUED_ROWS: usize = 64 * 1024;
/// Quarantined records buffered before they are written out.
const QUARANTINE_BATCH: usize = 64 * 1024;

/// The schema of quarantine parts.
pub fn quarantine_schema() -> Schema {
    Schema::from_iter([
        Field::new("source_file".into(), DataType::String),
        Field::new("line".into(), DataType::UInt64),
        Field::new("column".into(), DataType::String),
        Field::new("reason".into(), DataType::String),
        Field::new("raw".into(), DataType::String),
    ])
}

struct OpenPart {
    writer: ParquetFile,
    file: File,
    tmp: PathBuf,
    dest: PathBuf,
    rel: String,
    rows: u64,
    min_ns: i64,
    max_ns: i64,
}

#[derive(Default)]
struct DateBuffer {
    frames: Vec<DataFrame>,
    rows: usize,
    /// The date's part was opened by an earlier flush.
    opened: bool,
    /// The number of the append that last added rows (see [`IDLE_APPENDS`]).
    last_append: u64,
}

/// Where a date's part goes; sent with the date's first rows.
struct PartNames {
    tmp: PathBuf,
    dest: PathBuf,
    rel: String,
}

/// One flush of a date's buffered rows, for the encoder thread.
struct Job {
    date: String,
    /// The date's partition directory.
    dir: PathBuf,
    frames: Vec<DataFrame>,
    /// Set on the date's first flush: the part to open.
    open: Option<PartNames>,
}

impl Job {
    fn rows(&self) -> usize {
        self.frames.iter().map(DataFrame::height).sum()
    }
}

/// The open parts by date, once the encoder thread has written every job.
type Encoded = Result<BTreeMap<String, OpenPart>>;

/// Flushes on their way to the encoder thread.
///
/// A flush is handed over when the encoder is free, as through a rendezvous channel, so at most
/// one day is being encoded besides the buffers. A small flush is also queued while the encoder is
/// busy, as long as the queued flushes hold at most [`QUEUED_ROWS`] rows. Weekends are why: a
/// Friday of 250,000 events is written out while Saturday's 25,000 are read, and Saturday's and
/// Sunday's flushes follow within a fraction of a second. Behind a rendezvous, the caller (and so
/// the parsing behind it) waited for Friday's encoding each time: half a second with one core
/// idle, every week of a 5M-event export.
#[derive(Default)]
struct Handoff {
    state: Mutex<HandoffState>,
    changed: Condvar,
}

#[derive(Default)]
struct HandoffState {
    queued: VecDeque<Job>,
    rows: usize,
    /// The encoder is waiting for a flush.
    idle: bool,
    /// No more flushes will come.
    closed: bool,
    /// The encoder has stopped (finished, or failed): nothing more is taken.
    stopped: bool,
}

impl Handoff {
    fn lock(&self) -> MutexGuard<'_, HandoffState> {
        // The state stays consistent whatever a thread was doing when it panicked.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'a>(&self, guard: MutexGuard<'a, HandoffState>) -> MutexGuard<'a, HandoffState> {
        self.changed
            .wait(guard)
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Queue `job`, waiting while the encoder is busy and the job does not fit beside the queued
    /// ones. `false` if the encoder has stopped.
    fn send(&self, job: Job) -> bool {
        let rows = job.rows();
        let mut s = self.lock();
        let admitted = |s: &HandoffState| {
            s.stopped || (s.idle && s.queued.is_empty()) || s.rows + rows <= QUEUED_ROWS
        };
        while !admitted(&s) {
            s = self.wait(s);
        }
        if s.stopped {
            return false;
        }
        s.rows += rows;
        s.queued.push_back(job);
        self.changed.notify_all();
        true
    }

    /// The next flush, or `None` once the writer is done and every flush was taken (or it gave
    /// up).
    fn recv(&self) -> Option<Job> {
        let mut s = self.lock();
        loop {
            if s.stopped {
                return None;
            }
            if let Some(job) = s.queued.pop_front() {
                s.rows -= job.rows();
                s.idle = false;
                self.changed.notify_all();
                return Some(job);
            }
            if s.closed {
                return None;
            }
            s.idle = true;
            self.changed.notify_all();
            s = self.wait(s);
        }
    }

    /// No more flushes will be sent.
    fn close(&self) {
        self.lock().closed = true;
        self.changed.notify_all();
    }

    /// Nothing more is encoded: flushes still queued are dropped, the encoder ends after the one
    /// it is writing, and senders return.
    fn stop(&self) {
        let mut s = self.lock();
        s.stopped = true;
        s.queued.clear();
        s.rows = 0;
        self.changed.notify_all();
    }
}

/// Stops the hand-off when the encoder thread ends, however it ends.
struct StopOnDrop(Arc<Handoff>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// Parts of one source file being written.
pub struct FileWriter<'a> {
    store: &'a Store,
    generation: u64,
    source_file: String,
    seq: usize,
    dates: BTreeMap<String, DateBuffer>,
    buffered: usize,
    /// Appends so far.
    appends: u64,
    /// Flushes to the encoder thread; `None` once it was told to finish.
    jobs: Option<Arc<Handoff>>,
    encoder: Option<JoinHandle<Encoded>>,
    quarantine_rows: Vec<Quarantined>,
    quarantine_part: Option<OpenPart>,
    finished: bool,
}

/// The compression of every Parquet file auditlens writes (store parts and `--format parquet`).
pub fn zstd() -> ParquetCompression {
    let level = polars::polars_utils::compression::ZstdLevel::try_new(ZSTD_LEVEL)
        .expect("ZSTD_LEVEL is a valid zstd level");
    ParquetCompression::Zstd(Some(level))
}

/// The order that sorts `df` by event type, then time, then input position (so the result does
/// not depend on the sort algorithm); `None` when it is already in that order.
///
/// The rows are bucketed by type rank (a counting sort, stable, so each bucket is in input order)
/// and a bucket is sorted by time only when it is not in time order already: an export is in time
/// order, so its rows of one type usually are too. A general sort of the rows on (rank, time,
/// position) was about 275 instructions a row. Types are ranked by their 16-byte views: the type
/// column is gathered from the catalog's (src/model/schema.rs), so equal types are mostly equal
/// views, and a view is hashed where a string was (twice a row) before.
fn type_time_order(df: &DataFrame) -> Result<Option<IdxCa>> {
    let ts = df.column(cols::TIMESTAMP_NS)?.i64()?;
    let (ranks, rank) = type_ranks(df.column(cols::EVENT_TYPE)?.str()?);
    // A counting sort by rank: stable, so each rank's rows stay in input order.
    let buckets = rank as usize + 1;
    let (mut order, starts) = crate::order::by_key(&ranks, buckets);
    let owned: Vec<i64>;
    let time: &[i64] = match ts.cont_slice() {
        Ok(values) => values,
        Err(_) => {
            owned = ts.iter().map(|t| t.unwrap_or(i64::MIN)).collect();
            &owned
        }
    };
    for b in 0..buckets {
        let bucket = &mut order[starts[b]..starts[b + 1]];
        let in_time_order = bucket
            .windows(2)
            .all(|w| time[w[0] as usize] <= time[w[1] as usize]);
        if !in_time_order {
            bucket.sort_unstable_by_key(|&row| (time[row as usize], row));
        }
    }
    if order.iter().enumerate().all(|(k, &row)| row as usize == k) {
        return Ok(None);
    }
    Ok(Some(IdxCa::from_vec("order".into(), order)))
}

/// Each row's rank of its type among the types of `types` (missing first, then by name, as
/// `Option<&str>` orders), and the highest rank.
fn type_ranks(types: &StringChunked) -> (Vec<u32>, u32) {
    /// A row without a type, among the numbers of the rows' views.
    const MISSING: u32 = u32::MAX;
    // Each row's distinct view, numbered in order of first sight, and each number's first row:
    // one hash a row.
    let mut number_of: PlHashMap<u128, u32> = PlHashMap::default();
    let mut first_rows: Vec<usize> = Vec::new();
    let mut numbers: Vec<u32> = Vec::with_capacity(types.len());
    let mut missing = false;
    for arr in types.downcast_iter() {
        let validity = polars_arrow::array::Array::validity(arr).filter(|v| v.unset_bits() > 0);
        for (i, view) in arr.views().iter().enumerate() {
            if validity.is_some_and(|v| !v.get_bit(i)) {
                missing = true;
                numbers.push(MISSING);
                continue;
            }
            let next = first_rows.len() as u32;
            let number = *number_of.entry(view.as_u128()).or_insert(next);
            if number == next {
                first_rows.push(numbers.len());
            }
            numbers.push(number);
        }
    }
    // Rank the distinct texts (views of one text in different buffers get the same rank).
    let mut names: Vec<(&str, u32)> = (0..)
        .zip(&first_rows)
        .map(|(number, &row)| (types.get(row).unwrap_or_default(), number))
        .collect();
    names.sort_unstable();
    let mut rank_of = vec![0u32; first_rows.len()];
    let mut rank = u32::from(missing);
    for (k, &(name, number)) in names.iter().enumerate() {
        if k > 0 && names[k - 1].0 != name {
            rank += 1;
        }
        rank_of[number as usize] = rank;
    }
    let ranks = numbers
        .into_iter()
        .map(|n| if n == MISSING { 0 } else { rank_of[n as usize] })
        .collect();
    (ranks, rank)
}

/// `df.take(order)`, except that list columns are gathered by [`gather_list`]: polars' gather of
/// a list column took a sixth of ingest's encoder thread, about 1,300 instructions a row.
pub fn gather(df: &DataFrame, order: &IdxCa) -> Result<DataFrame> {
    let columns = df
        .columns()
        .iter()
        .map(|c| match c.dtype() {
            DataType::List(_) => Ok(gather_list(c.list()?, order)?.into_column()),
            _ => c.take(order),
        })
        .collect::<PolarsResult<Vec<_>>>()?;
    Ok(DataFrame::new(order.len(), columns)?)
}

/// Gather a list column's rows in `order`: each row's range of the inner values is gathered with
/// one gather of the inner (string) array and the offsets are rebuilt, instead of polars' row by
/// row growable.
fn gather_list(ca: &ListChunked, order: &IdxCa) -> PolarsResult<ListChunked> {
    let ca = ca.rechunk();
    let order = order.rechunk();
    let (Some(arr), Some(order)) = (ca.downcast_iter().next(), order.cont_slice().ok()) else {
        return ca.take(order.as_ref());
    };
    let offsets = arr.offsets().as_slice();
    let mut new_offsets = Vec::with_capacity(order.len() + 1);
    new_offsets.push(0i64);
    let mut inner: Vec<IdxSize> = Vec::with_capacity(arr.values().len());
    for &row in order {
        let row = row as usize;
        let (Some(&start), Some(&end)) = (offsets.get(row), offsets.get(row + 1)) else {
            polars_bail!(OutOfBounds: "gather index {row} is out of bounds");
        };
        inner.extend((start..end).map(|i| i as IdxSize));
        new_offsets.push(inner.len() as i64);
    }
    let values = Series::from_arrow(PlSmallStr::EMPTY, arr.values().clone())?;
    let values = values
        .take(&IdxCa::from_vec(PlSmallStr::EMPTY, inner))?
        .rechunk();
    let validity = arr.validity().map(|bits| {
        order
            .iter()
            .map(|&row| bits.get(row as usize).unwrap_or(false))
            .collect()
    });
    let gathered = LargeListArray::try_new(
        polars_arrow::array::Array::dtype(arr).clone(),
        polars_arrow::offset::OffsetsBuffer::try_from(new_offsets)?,
        values.to_arrow(0, CompatLevel::newest()),
        validity,
    )?;
    Ok(ListChunked::with_chunk(ca.name().clone(), gathered))
}

fn writer_for(path: &std::path::Path, schema: &Schema) -> Result<(ParquetFile, File)> {
    let file = File::create(path).map_err(|e| Error::io(path, e))?;
    let keep = file.try_clone().map_err(|e| Error::io(path, e))?;
    let writer = ParquetFile::new(file, schema, zstd().into(), &LAYOUT)?;
    Ok((writer, keep))
}

impl<'a> FileWriter<'a> {
    pub fn new(store: &'a Store, source_file: &str) -> Result<FileWriter<'a>> {
        let jobs = Arc::new(Handoff::default());
        let rx = StopOnDrop(Arc::clone(&jobs));
        let syncer = Syncer::start().map_err(|e| Error::io(store.root(), e))?;
        let encoder = std::thread::Builder::new()
            .name("auditlens-encoder".into())
            .spawn(move || encode_jobs(rx, syncer))
            .map_err(|e| Error::io(store.root(), e))?;
        Ok(FileWriter {
            store,
            generation: store.manifest().generation + 1,
            source_file: source_file.to_owned(),
            seq: 0,
            dates: BTreeMap::new(),
            buffered: 0,
            appends: 0,
            jobs: Some(jobs),
            encoder: Some(encoder),
            quarantine_rows: Vec::new(),
            quarantine_part: None,
            finished: false,
        })
    }

    fn next_names(&mut self, dir: &std::path::Path, rel_dir: &str) -> (PathBuf, PathBuf, String) {
        let seq = self.seq;
        self.seq += 1;
        let name = format!("part-{:06}-{seq:04}.parquet", self.generation);
        let tmp = dir.join(format!(".part-{:06}-{seq:04}.partial", self.generation));
        (tmp, dir.join(&name), format!("{rel_dir}/{name}"))
    }

    /// Add events, all of `date` (`YYYY-MM-DD`).
    pub fn append(&mut self, date: &str, df: DataFrame) -> Result<()> {
        let n = df.height();
        if n == 0 {
            return Ok(());
        }
        self.appends += 1;
        let buf = self.dates.entry(date.to_owned()).or_default();
        buf.frames.push(df);
        buf.rows += n;
        buf.last_append = self.appends;
        self.buffered += n;
        if buf.rows >= FLUSH_ROWS {
            self.flush(date)?;
        }
        // Exports are in time order (either way), so a date that stopped receiving rows is
        // complete: write it now, while parsing goes on, instead of holding it until the size
        // limits below or the end of the file (which left a long serial flush at the end).
        let idle: Vec<String> = self
            .dates
            .iter()
            .filter(|(_, b)| b.rows > 0 && b.last_append + IDLE_APPENDS < self.appends)
            .map(|(d, _)| d.clone())
            .collect();
        for d in idle {
            self.flush(&d)?;
        }
        while self.buffered > MAX_BUFFERED_ROWS {
            let largest = self
                .dates
                .iter()
                .max_by_key(|(_, b)| b.rows)
                .map(|(d, _)| d.clone());
            match largest {
                Some(d) => self.flush(&d)?,
                None => break,
            }
        }
        Ok(())
    }

    /// Hand `date`'s buffered rows to the encoder thread.
    fn flush(&mut self, date: &str) -> Result<()> {
        let Some(buf) = self.dates.get_mut(date) else {
            return Ok(());
        };
        if buf.rows == 0 {
            return Ok(());
        }
        let frames = std::mem::take(&mut buf.frames);
        self.buffered -= buf.rows;
        buf.rows = 0;
        let first = !buf.opened;
        buf.opened = true;
        let dir = self.store.partition_dir(date);
        let open = first.then(|| {
            let (tmp, dest, rel) = self.next_names(&dir, &format!("events/date={date}"));
            PartNames { tmp, dest, rel }
        });
        let job = Job {
            date: date.to_owned(),
            dir,
            frames,
            open,
        };
        let sent = match &self.jobs {
            Some(jobs) => jobs.send(job),
            None => false,
        };
        if sent {
            return Ok(());
        }
        // The encoder stopped, which it only does on an error: report that error.
        match self.join_encoder() {
            Err(e) => Err(e),
            Ok(_) => Err(Error::store(
                self.store.root(),
                "the Parquet encoder stopped early",
            )),
        }
    }

    /// Tell the encoder there is no more work and wait for it: the open parts by date.
    fn join_encoder(&mut self) -> Encoded {
        if let Some(jobs) = self.jobs.take() {
            jobs.close();
        }
        match self.encoder.take() {
            Some(handle) => match handle.join() {
                Ok(encoded) => encoded,
                Err(panic) => std::panic::resume_unwind(panic),
            },
            None => Ok(BTreeMap::new()),
        }
    }

    /// Add quarantined records.
    pub fn quarantine(&mut self, rows: Vec<Quarantined>) -> Result<()> {
        self.quarantine_rows.extend(rows);
        if self.quarantine_rows.len() >= QUARANTINE_BATCH {
            self.flush_quarantine()?;
        }
        Ok(())
    }

    fn flush_quarantine(&mut self) -> Result<()> {
        if self.quarantine_rows.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.quarantine_rows);
        let n = rows.len();
        let df = DataFrame::new(
            n,
            vec![
                Column::new_scalar(
                    "source_file".into(),
                    Scalar::from(PlSmallStr::from(self.source_file.as_str())),
                    n,
                ),
                Column::new(
                    "line".into(),
                    rows.iter().map(|r| r.line).collect::<Vec<u64>>(),
                ),
                Column::new(
                    "column".into(),
                    rows.iter()
                        .map(|r| r.column.as_deref())
                        .collect::<Vec<Option<&str>>>(),
                ),
                Column::new(
                    "reason".into(),
                    rows.iter()
                        .map(|r| r.reason.as_str())
                        .collect::<Vec<&str>>(),
                ),
                Column::new(
                    "raw".into(),
                    rows.iter().map(|r| r.raw.as_str()).collect::<Vec<&str>>(),
                ),
            ],
        )?;
        if self.quarantine_part.is_none() {
            let dir = self.store.quarantine_dir();
            fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
            let (tmp, dest, rel) = self.next_names(&dir, "quarantine");
            let (writer, file) = writer_for(&tmp, &quarantine_schema())?;
            self.quarantine_part = Some(OpenPart {
                writer,
                file,
                tmp,
                dest,
                rel,
                rows: 0,
                min_ns: 0,
                max_ns: 0,
            });
        }
        let part = self
            .quarantine_part
            .as_mut()
            .expect("quarantine part is open");
        part.writer.write(&df)?;
        part.rows += n as u64;
        Ok(())
    }

    /// Write everything out, sync it and move the parts to their final names. The caller commits
    /// the returned parts to the manifest; until then they are invisible and swept on recovery.
    pub fn finish(mut self, source_sha256: &str) -> Result<(Vec<Part>, Option<QuarantinePart>)> {
        let dates: Vec<String> = self.dates.keys().cloned().collect();
        for d in &dates {
            self.flush(d)?;
        }
        self.flush_quarantine()?;
        let mut open = self.join_encoder()?;
        let mut parts = Vec::new();
        let mut dirs = Vec::new();
        // Footers and fsyncs of all parts at once: the disk merges the flushes. Their rows were
        // synced as they were written (src/store/syncer.rs), so little is left to write.
        open.par_iter_mut().try_for_each(|(_, p)| close(p))?;
        for (date, p) in open {
            parts.push(Part {
                path: p.rel.clone(),
                date,
                rows: p.rows,
                min_ns: p.min_ns,
                max_ns: p.max_ns,
                source_sha256: source_sha256.to_owned(),
                generation: self.generation,
            });
            dirs.push(p.dest.parent().map(PathBuf::from));
            // Renamed only after the data is synced, so a listed part is always complete.
            fs::rename(&p.tmp, &p.dest).map_err(|e| Error::io(&p.dest, e))?;
        }
        let quarantine = match self.quarantine_part.take() {
            Some(mut p) => {
                close(&mut p)?;
                fs::rename(&p.tmp, &p.dest).map_err(|e| Error::io(&p.dest, e))?;
                dirs.push(p.dest.parent().map(PathBuf::from));
                Some(QuarantinePart {
                    path: p.rel.clone(),
                    rows: p.rows,
                    source_sha256: source_sha256.to_owned(),
                    generation: self.generation,
                })
            }
            None => None,
        };
        dirs.sort();
        dirs.dedup();
        for d in dirs.into_iter().flatten() {
            sync_dir(&d);
        }
        self.finished = true;
        Ok((parts, quarantine))
    }
}

/// The encoder thread: write each job's rows into its date's part until the writer is done. On an
/// error it deletes the parts it opened and stops, which the caller sees on its next send.
fn encode_jobs(jobs: StopOnDrop, syncer: Syncer) -> Encoded {
    let mut open: BTreeMap<String, OpenPart> = BTreeMap::new();
    let mut encode_all = || -> Result<()> {
        while let Some(job) = jobs.0.recv() {
            encode(&mut open, job, &syncer)?;
        }
        Ok(())
    };
    // Every flush's sync is awaited, and its error reported, before the parts are closed.
    if let Err(e) = encode_all().and_then(|()| syncer.finish()) {
        for p in open.values() {
            let _ = fs::remove_file(&p.tmp);
        }
        return Err(e);
    }
    Ok(open)
}

/// Write one flush as row groups, sorted by event type and time, and have `syncer` write them
/// to disk while the next flushes are encoded.
fn encode(open: &mut BTreeMap<String, OpenPart>, job: Job, syncer: &Syncer) -> Result<()> {
    let mut frames = job.frames.into_iter();
    let mut df = frames.next().unwrap_or_default();
    for f in frames {
        df.vstack_mut_owned(f)?;
    }
    // Rechunk first: concatenating string columns shares their buffers, and a gather from a
    // single chunk then moves only the 16-byte views. Gathering from many chunks makes polars
    // copy every string into a new buffer in the new (random) order.
    // On this thread rather than polars' pool: the day's rechunked columns are then allocated and
    // freed by one thread, and mimalloc hands the memory one day frees to the next. Rechunked on
    // the pool, they went back to the pool's threads when the encoder freed them, to be reused
    // only when those allocated the same sizes again, so every day took fresh pages: a 5M-row
    // ingest peaked 170-220 MB higher (bench/NOTES.md, twenty-seventh session).
    df.rechunk_mut();
    let df = match type_time_order(&df)? {
        Some(order) => gather(&df, &order)?,
        None => df,
    };
    count_list_items(&df)?;
    let ts = df.column(cols::TIMESTAMP_NS)?.i64()?;
    let (min, max) = (ts.min().unwrap_or(0), ts.max().unwrap_or(0));
    if let Some(names) = job.open {
        fs::create_dir_all(&job.dir).map_err(|e| Error::io(&job.dir, e))?;
        let (writer, file) = writer_for(&names.tmp, &event_schema())?;
        let part = OpenPart {
            writer,
            file,
            tmp: names.tmp,
            dest: names.dest,
            rel: names.rel,
            rows: 0,
            min_ns: i64::MAX,
            max_ns: i64::MIN,
        };
        open.insert(job.date.clone(), part);
    }
    let Some(part) = open.get_mut(&job.date) else {
        return Err(Error::store(
            &job.dir,
            "rows arrived before the day's part was opened",
        ));
    };
    // The writer makes one row group of each chunk it is given: row-group-sized slices of the
    // (single-chunk) columns, encoded side by side on rayon's pool and written in order.
    let slices: Vec<DataFrame> = (0..df.height())
        .step_by(ROW_GROUP_ROWS)
        .map(|offset| df.slice(offset as i64, ROW_GROUP_ROWS))
        .collect();
    let writer = &part.writer;
    let groups: Vec<Vec<EncodedRowGroup>> = slices
        .par_iter()
        .map(|slice| writer.encode(slice))
        .collect::<Result<_>>()?;
    for group in &groups {
        part.writer.write_encoded(group)?;
    }
    syncer.request(&part.file, &part.tmp)?;
    part.rows += df.height() as u64;
    part.min_ns = part.min_ns.min(min);
    part.max_ns = part.max_ns.max(max);
    Ok(())
}

/// Count the bytes of the addresses' list items once for a flush, where the list writer counted
/// them again for each row group (src/store/pages/string_list.rs sizes its pages as polars does,
/// from the bytes of all the items a list holds, which a row group's slice shares with the
/// flush). The count is cached in the array, and a slice's copy of the items keeps it.
fn count_list_items(df: &DataFrame) -> Result<()> {
    for chunk in df.column(cols::IP_ADDRESSES)?.list()?.downcast_iter() {
        if let Some(items) = chunk
            .values()
            .as_any()
            .downcast_ref::<polars_arrow::array::Utf8ViewArray>()
        {
            items.total_bytes_len();
        }
    }
    Ok(())
}

fn close(p: &mut OpenPart) -> Result<()> {
    p.writer.finish()?;
    p.file.sync_all().map_err(|e| Error::io(&p.tmp, e))
}

impl Drop for FileWriter<'_> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        // An abandoned file (read error, corrupt gzip): its temporary parts must not linger.
        // (An encoder that failed removed its own.)
        if let Some(jobs) = self.jobs.take() {
            jobs.stop();
        }
        let open = match self.encoder.take().map(JoinHandle::join) {
            Some(Ok(Ok(open))) => open,
            _ => BTreeMap::new(),
        };
        let tmps = open.values().chain(self.quarantine_part.as_ref());
        for p in tmps {
            let _ = fs::remove_file(&p.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order_of(types: &[Option<&str>], ts: &[i64]) -> Option<Vec<IdxSize>> {
        let df = df!(
            cols::EVENT_TYPE => types.to_vec(),
            cols::TIMESTAMP_NS => ts.to_vec(),
        )
        .unwrap();
        type_time_order(&df)
            .unwrap()
            .map(|o| o.into_no_null_iter().collect())
    }

    #[test]
    fn list_columns_are_gathered_as_polars_gathers_them() {
        let lists: Vec<Option<Series>> = vec![
            Some(Series::new("".into(), ["10.0.0.1", "10.0.0.2"])),
            Some(Series::new_empty("".into(), &DataType::String)),
            None,
            Some(Series::new("".into(), ["203.0.113.7"])),
            Some(Series::new("".into(), ["a", "b", "c"])),
        ];
        let ips = ListChunked::from_iter(lists).with_name("ip_addresses".into());
        let df = DataFrame::new(
            5,
            vec![
                Column::new("n".into(), [0i64, 1, 2, 3, 4]),
                ips.into_column(),
            ],
        )
        .unwrap();
        // Reordered, repeated and in part, across chunks too.
        let two_chunks = df.slice(0, 2).vstack(&df.slice(2, 3)).unwrap();
        for frame in [&df, &two_chunks] {
            for order in [vec![4, 2, 0, 3, 1], vec![1, 1, 4], vec![2], vec![]] {
                let order = IdxCa::from_vec("order".into(), order);
                let want = frame.take(&order).unwrap();
                let got = gather(frame, &order).unwrap();
                assert!(got.equals_missing(&want), "{got}\n{want}");
            }
        }
    }

    fn job(rows: usize) -> Job {
        Job {
            date: "2026-04-18".into(),
            dir: PathBuf::new(),
            frames: vec![df!("x" => vec![0i64; rows]).unwrap()],
            open: None,
        }
    }

    /// Small flushes queue while the encoder is busy; a large one waits until the encoder is free,
    /// then goes through; the queue drains before the encoder is told it is done.
    #[test]
    fn small_flushes_queue_while_a_large_one_waits_for_the_encoder() {
        let handoff = Arc::new(Handoff::default());
        // The encoder is busy (it has not asked for a flush yet): a weekend day queues.
        assert!(handoff.send(job(20_000)));
        assert!(handoff.send(job(20_000)));
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let sender = {
            let handoff = Arc::clone(&handoff);
            std::thread::spawn(move || {
                let sent = handoff.send(job(QUEUED_ROWS));
                done_tx.send(sent).unwrap();
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(done_rx.try_recv().is_err(), "a large flush did not wait");
        let rows = |j: Option<Job>| j.map(|j| j.rows());
        assert_eq!(rows(handoff.recv()), Some(20_000));
        assert_eq!(rows(handoff.recv()), Some(20_000));
        // The encoder asks for more with nothing queued: the large flush goes through.
        assert_eq!(rows(handoff.recv()), Some(QUEUED_ROWS));
        assert!(done_rx.recv().unwrap());
        sender.join().unwrap();
        assert!(handoff.send(job(10)));
        handoff.close();
        assert_eq!(rows(handoff.recv()), Some(10));
        assert_eq!(rows(handoff.recv()), None);
    }

    /// Once the encoder has stopped (an error), a waiting sender returns `false` and nothing
    /// queued is taken.
    #[test]
    fn a_stopped_encoder_releases_a_waiting_sender() {
        let handoff = Arc::new(Handoff::default());
        assert!(handoff.send(job(QUEUED_ROWS)));
        let sender = {
            let handoff = Arc::clone(&handoff);
            std::thread::spawn(move || handoff.send(job(QUEUED_ROWS)))
        };
        std::thread::sleep(std::time::Duration::from_millis(50));
        drop(StopOnDrop(Arc::clone(&handoff)));
        assert!(!sender.join().unwrap());
        assert!(handoff.recv().is_none());
        assert!(!handoff.send(job(1)));
    }

    /// The order as a general sort on (type, time, position) gives it.
    fn reference_order(types: &[Option<&str>], ts: &[i64]) -> Vec<IdxSize> {
        let mut rows: Vec<IdxSize> = (0..types.len() as IdxSize).collect();
        rows.sort_by_key(|&i| (types[i as usize], ts[i as usize], i));
        rows
    }

    proptest::proptest! {
        /// Any mix of types (missing and empty ones too), times in or out of order with ties,
        /// in one chunk or several (whose views of one type point into different buffers).
        #[test]
        fn the_order_is_a_sort_on_type_time_and_position(
            rows in proptest::collection::vec(
                (
                    proptest::option::weighted(
                        0.9,
                        proptest::sample::select(vec![
                            "", "a", "b", "user_removed", "a_type_name_longer_than_twelve",
                            "a_type_name_longer_than_twelve_2",
                        ]),
                    ),
                    0i64..6,
                ),
                0..60,
            ),
            descending in proptest::bool::ANY,
            cut in 0usize..60,
        ) {
            let types: Vec<Option<&str>> = rows.iter().map(|r| r.0).collect();
            let ts: Vec<i64> = rows
                .iter()
                .enumerate()
                .map(|(i, r)| if descending { 100 - i as i64 / 3 } else { r.1 })
                .collect();
            let df = df!(
                cols::EVENT_TYPE => types.clone(),
                cols::TIMESTAMP_NS => ts.clone(),
            )
            .unwrap();
            let cut = cut.min(df.height());
            let two_chunks = df.slice(0, cut).vstack(&df.slice(cut as i64, df.height())).unwrap();
            let want = reference_order(&types, &ts);
            let identity = want.iter().enumerate().all(|(k, &i)| i as usize == k);
            for frame in [&df, &two_chunks] {
                let got = type_time_order(frame)
                    .unwrap()
                    .map(|o| o.into_no_null_iter().collect::<Vec<_>>());
                match got {
                    Some(order) => proptest::prop_assert_eq!(&order, &want),
                    None => proptest::prop_assert!(identity),
                }
            }
        }
    }

    #[test]
    fn rows_are_ordered_by_type_then_time_then_input_position() {
        let types = [
            Some("user_removed"),
            Some("logged_in"),
            None,
            Some("logged_in"),
            Some("user_removed"),
            Some("logged_in"),
        ];
        let ts = [5, 9, 7, 3, 1, 3];
        // Missing types first, then by name; equal instants keep their input order.
        assert_eq!(order_of(&types, &ts), Some(vec![2, 3, 5, 1, 4, 0]));
        // Already in order: nothing to gather.
        assert_eq!(
            order_of(&[Some("a"), Some("a"), Some("b")], &[1, 2, 0]),
            None
        );
    }
}
