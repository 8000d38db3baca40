/*!
`ingest`: read exports into the store, deduplicated, with every row accounted for.

Each source file is committed on its own (its parts and its manifest entry in one manifest
replacement), so a multi-file ingest killed half-way keeps the files it finished and a re-run picks
up the rest. For every file `rows_read = stored + duplicates + quarantined` holds, and is checked.

Deduplication is by event id (a content hash that includes the event time), so a duplicate can only
live on the same UTC day as the original: ids are loaded lazily, one already-stored day at a time,
never the whole store.
*/

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use polars::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::input::{self, ReadOptions};
use crate::model::event::EventId;
use crate::model::schema::cols;
use crate::store::manifest::SourceFile;
use crate::store::writer::{FileWriter, gather};
use crate::store::{Recovery, Store};
use crate::time::date_of;

/// Options for an ingest run.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    pub read: ReadOptions,
    /// Wait for another writer's lock instead of failing at once.
    pub wait: bool,
    /// Show a progress bar (only drawn when stderr is a terminal).
    pub progress: bool,
}

/// What happened to one input file.
#[derive(Debug, Clone, Serialize)]
pub struct FileOutcome {
    pub path: String,
    pub sha256: Option<String>,
    pub format: Option<String>,
    pub rows_read: u64,
    pub stored: u64,
    pub duplicates: u64,
    pub quarantined: u64,
    /// The same content was ingested before: nothing was read again.
    pub already_ingested: bool,
    /// Why the file could not be ingested (then nothing of it was stored).
    pub error: Option<String>,
    /// Why a file found in a directory was not read (not an export's extension).
    pub skipped: Option<String>,
}

/// The result of an ingest run.
#[derive(Debug, Clone, Serialize)]
pub struct IngestReport {
    pub store: String,
    pub files: Vec<FileOutcome>,
    pub rows_read: u64,
    pub stored: u64,
    pub duplicates: u64,
    pub quarantined: u64,
    pub failed_files: u64,
    pub skipped_files: u64,
    /// Uncommitted files of an interrupted earlier ingest that were removed first.
    pub recovered_files: u64,
    pub store_events: u64,
}

/// Ingest `inputs` (already expanded to files) into the store at `root`.
pub fn ingest(root: &Path, inputs: &[Input], opts: &IngestOptions) -> Result<IngestReport> {
    let (mut store, _lock, recovery) = Store::open_for_write(root, opts.wait)?;
    report_recovery(&recovery);
    let total_bytes: u64 = inputs
        .iter()
        .filter_map(|i| i.path.metadata().ok())
        .map(|m| m.len())
        .sum();
    let bar = progress_bar(opts.progress, total_bytes);
    let mut seen = SeenIds::default();
    let mut files = Vec::with_capacity(inputs.len());
    let mut done_bytes = 0;
    for input in inputs {
        if let Some(err) = &input.error {
            files.push(failed(&input.display, None, err.clone()));
            continue;
        }
        if let Some(why) = &input.skipped {
            files.push(FileOutcome {
                error: None,
                skipped: Some(why.clone()),
                ..failed(&input.display, None, String::new())
            });
            continue;
        }
        let outcome = match ingest_file(&mut store, &mut seen, input, opts, &bar, done_bytes) {
            Ok(o) => o,
            Err(e) => failed(
                &input.display,
                None,
                strip_path(&e.to_string(), &input.display),
            ),
        };
        done_bytes += input.path.metadata().map(|m| m.len()).unwrap_or(0);
        bar.set_position(done_bytes);
        files.push(outcome);
    }
    bar.finish_and_clear();
    let sum = |f: fn(&FileOutcome) -> u64| files.iter().map(f).sum::<u64>();
    Ok(IngestReport {
        store: root.display().to_string(),
        rows_read: sum(|f| f.rows_read),
        stored: sum(|f| f.stored),
        duplicates: sum(|f| f.duplicates),
        quarantined: sum(|f| f.quarantined),
        failed_files: files.iter().filter(|f| f.error.is_some()).count() as u64,
        skipped_files: files.iter().filter(|f| f.skipped.is_some()).count() as u64,
        recovered_files: recovery.removed.len() as u64,
        store_events: store.manifest().event_count(),
        files,
    })
}

fn report_recovery(r: &Recovery) {
    if let Some(holder) = &r.interrupted_holder {
        eprintln!(
            "auditlens: an earlier ingest ({holder}) did not finish; its uncommitted files were removed ({}) and the \
             store is as it was before it",
            r.removed.len()
        );
    } else if !r.removed.is_empty() {
        eprintln!(
            "auditlens: removed {} uncommitted file(s) left by an interrupted ingest",
            r.removed.len()
        );
    }
}

/// Error messages already name the path; the per-file outcome shows it separately.
fn strip_path(msg: &str, path: &str) -> String {
    msg.strip_prefix(path)
        .and_then(|m| m.strip_prefix(": "))
        .unwrap_or(msg)
        .to_owned()
}

fn failed(path: &str, sha256: Option<String>, error: String) -> FileOutcome {
    FileOutcome {
        path: path.to_owned(),
        sha256,
        format: None,
        rows_read: 0,
        stored: 0,
        duplicates: 0,
        quarantined: 0,
        already_ingested: false,
        error: Some(error),
        skipped: None,
    }
}

fn progress_bar(enabled: bool, total: u64) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !enabled || !std::io::stderr().is_terminal() || total < (8 << 20) {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} ingest [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta} {msg}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

fn ingest_file(
    store: &mut Store,
    seen: &mut SeenIds,
    input: &Input,
    opts: &IngestOptions,
    bar: &indicatif::ProgressBar,
    done_bytes: u64,
) -> Result<FileOutcome> {
    let path = &input.path;
    // A file of the same size may be one already ingested: hashing is much cheaper than parsing.
    let size = path.metadata().map_err(|e| Error::io(path, e))?.len();
    if store.manifest().sources.iter().any(|s| s.bytes == size) {
        let sha = input::sha256_file(path)?;
        if let Some(prev) = store.manifest().source_by_sha(&sha) {
            return Ok(FileOutcome {
                path: input.display.clone(),
                sha256: Some(sha),
                format: Some(prev.format.clone()),
                rows_read: prev.rows_read,
                stored: 0,
                duplicates: prev.rows_read - prev.quarantined,
                quarantined: prev.quarantined,
                already_ingested: true,
                error: None,
                skipped: None,
            });
        }
    }

    let progress = AtomicU64::new(0);
    let mut writer = FileWriter::new(store, &input.display)?;
    let mut pending = DayIds::default();
    let (mut rows_read, mut stored, mut duplicates, mut quarantined) = (0u64, 0u64, 0u64, 0u64);
    let (mut first_ns, mut last_ns) = (i64::MAX, i64::MIN);
    let facts = {
        let mut sink = |chunk: input::ParsedChunk| -> Result<()> {
            rows_read += chunk.rows_read;
            quarantined += chunk.quarantined.len() as u64;
            writer.quarantine(chunk.quarantined)?;
            if chunk.events.is_empty() {
                return Ok(());
            }
            // Decide per row: new, or a duplicate of a stored / earlier row; group new rows by day.
            // Input is usually in time order, so a chunk is mostly one day: `day_rows` holds the
            // current run and is only split into per-day lists when the day changes.
            let mut by_date: Vec<(i64, Vec<IdxSize>)> = Vec::new();
            let ids = chunk.events.ids();
            let ts = chunk.events.timestamps();
            for (i, (id, &t)) in ids.iter().zip(ts).enumerate() {
                first_ns = first_ns.min(t);
                last_ns = last_ns.max(t);
                let day = t.div_euclid(crate::time::NANOS_PER_DAY);
                seen.ensure_day(store, day)?;
                if seen.contains(day, id) || !pending.insert(day, *id) {
                    duplicates += 1;
                    continue;
                }
                match by_date.iter_mut().find(|(d, _)| *d == day) {
                    Some((_, rows)) => rows.push(i as IdxSize),
                    None => by_date.push((day, vec![i as IdxSize])),
                }
            }
            let df = chunk.events.finish(&input.display)?;
            by_date.sort_unstable_by_key(|(d, _)| *d);
            for (day, idx) in by_date {
                stored += idx.len() as u64;
                // A run of rows, ascending as they were collected (every row of the chunk new
                // and of one day, the usual case) is a zero-copy slice. Other rows are gathered:
                // a chunk across midnight holds both days' rows of each type (its records are
                // parsed grouped by type), and duplicates leave gaps.
                let first = idx.first().map_or(0, |&i| i as usize);
                let part = if idx
                    .last()
                    .is_some_and(|&i| i as usize == first + idx.len() - 1)
                {
                    df.slice(first as i64, idx.len())
                } else {
                    gather(&df, &IdxCa::from_vec("idx".into(), idx))?
                };
                let date = date_of(day * crate::time::NANOS_PER_DAY)
                    .format("%Y-%m-%d")
                    .to_string();
                writer.append(&date, part)?;
            }
            bar.set_position(done_bytes + progress.load(Ordering::Relaxed));
            Ok(())
        };
        input::read_export(path, &opts.read, &progress, &mut sink)?
    };
    if store.manifest().source_by_sha(&facts.sha256).is_some() {
        // Same content under another size cannot happen; but stay safe: never commit twice.
        drop(writer);
        return Err(Error::Input {
            path: path.clone(),
            message: "was ingested already (same SHA-256)".into(),
        });
    }
    if rows_read != stored + duplicates + quarantined {
        return Err(Error::Input {
            path: path.clone(),
            message: format!(
                "internal accounting error: read {rows_read} != stored {stored} + duplicates {duplicates} + \
                 quarantined {quarantined}; nothing was stored"
            ),
        });
    }
    let (parts, quarantine_part) = writer.finish(&facts.sha256)?;
    let generation = store.manifest().generation + 1;
    let mut manifest = store.manifest().clone();
    manifest.generation = generation;
    manifest.parts.extend(parts);
    manifest.quarantine.extend(quarantine_part);
    manifest.sources.push(SourceFile {
        path: input.display.clone(),
        sha256: facts.sha256.clone(),
        bytes: facts.bytes,
        format: facts.format.name().to_owned(),
        gzip: facts.gzip,
        ingested_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        auditlens_version: env!("CARGO_PKG_VERSION").to_owned(),
        generation,
        rows_read,
        stored,
        duplicates,
        quarantined,
        first_event_ns: (first_ns != i64::MAX).then_some(first_ns),
        last_event_ns: (last_ns != i64::MIN).then_some(last_ns),
    });
    store.commit(manifest)?;
    seen.extend(pending);
    Ok(FileOutcome {
        path: input.display.clone(),
        sha256: Some(facts.sha256),
        format: Some(facts.format.name().to_owned()),
        rows_read,
        stored,
        duplicates,
        quarantined,
        already_ingested: false,
        error: None,
        skipped: None,
    })
}

/// A set of event ids. Ids are BLAKE3 output, uniformly distributed and not chosen by an attacker
/// (finding colliding inputs would mean breaking BLAKE3), so their low bits serve as the hash: no
/// SipHash per lookup, which showed up in profiles of ingest.
type IdSet = HashSet<EventId, BuildHasherDefault<IdHasher>>;

/// Event ids by the day of their events. An id is a hash of the event's content, instant
/// included, so equal ids are always of the same day: one set per day is as exact as one set, and
/// the day being read (a few hundred thousand ids at most) stays in the cache where one table of
/// millions missed it on most lookups (hashbrown's insert was 2.3% of a 5M ingest).
#[derive(Default)]
struct DayIds {
    days: PlHashMap<i64, IdSet>,
}

impl DayIds {
    fn contains(&self, day: i64, id: &EventId) -> bool {
        self.days.get(&day).is_some_and(|ids| ids.contains(id))
    }

    /// `false` if the id was there already.
    fn insert(&mut self, day: i64, id: EventId) -> bool {
        self.days.entry(day).or_default().insert(id)
    }

    fn extend(&mut self, other: DayIds) {
        for (day, ids) in other.days {
            match self.days.get_mut(&day) {
                Some(mine) => mine.extend(ids),
                // The usual case, a first file: no need to rehash the ids.
                None => {
                    self.days.insert(day, ids);
                }
            }
        }
    }
}

/// The pass-through hasher behind [`IdSet`].
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Not used by `EventId` (it hashes one u128); kept correct for any other caller.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u128(&mut self, v: u128) {
        self.0 = v as u64 ^ (v >> 64) as u64;
    }
}

/// Event ids already committed to the store, loaded one day at a time as input reaches that day.
#[derive(Default)]
struct SeenIds {
    ids: DayIds,
    loaded_days: HashSet<i64>,
    /// The day checked last: consecutive rows are almost always of the same day.
    last_day: Option<i64>,
}

impl SeenIds {
    fn contains(&self, day: i64, id: &EventId) -> bool {
        self.ids.contains(day, id)
    }

    fn extend(&mut self, ids: DayIds) {
        self.ids.extend(ids);
    }

    fn ensure_day(&mut self, store: &Store, day: i64) -> Result<()> {
        if self.last_day == Some(day) {
            return Ok(());
        }
        self.last_day = Some(day);
        if !self.loaded_days.insert(day) {
            return Ok(());
        }
        let date = date_of(day * crate::time::NANOS_PER_DAY)
            .format("%Y-%m-%d")
            .to_string();
        let paths: Vec<PathBuf> = store
            .manifest()
            .parts_on(&date)
            .map(|p| store.root().join(&p.path))
            .collect();
        for p in paths {
            let file = std::fs::File::open(&p).map_err(|e| Error::io(&p, e))?;
            let df = ParquetReader::new(file)
                .with_columns(Some(vec![cols::EVENT_ID.into()]))
                .finish()?;
            for id in df.column(cols::EVENT_ID)?.str()?.iter().flatten() {
                match EventId::parse_hex(id) {
                    Some(id) => {
                        self.ids.insert(day, id);
                    }
                    None => {
                        return Err(Error::store(
                            &p,
                            format!("event id {id:?} is not 32 hex digits"),
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

/// One input path after expansion, or the reason it cannot be read.
#[derive(Debug, Clone)]
pub struct Input {
    pub path: PathBuf,
    /// As the user wrote it (or as found under a directory they named).
    pub display: String,
    pub error: Option<String>,
    /// Found in a directory but not taken (reported, not read).
    pub skipped: Option<String>,
}

/// File extensions taken from directories (files named explicitly are always taken).
const EXPORT_EXTENSIONS: &[&str] = &["csv", "json", "jsonl", "ndjson", "gz", "txt"];

/// Expand paths, directories (recursively, in name order, skipping hidden entries and symlink
/// loops) and glob patterns into input files. Problems become inputs with an error, so they are
/// reported in the per-file outcome instead of stopping the run.
pub fn expand_inputs(args: &[String]) -> Vec<Input> {
    let mut out = Vec::new();
    let mut seen_files = HashSet::new();
    for arg in args {
        let p = Path::new(arg);
        if p.exists() || p.symlink_metadata().is_ok() {
            collect(
                p,
                arg.clone(),
                true,
                &mut HashSet::new(),
                &mut seen_files,
                &mut out,
            );
            continue;
        }
        if arg.contains(['*', '?', '[']) {
            match glob::glob(arg) {
                Ok(paths) => {
                    let mut any = false;
                    for entry in paths {
                        any = true;
                        match entry {
                            Ok(path) => {
                                let display = path.display().to_string();
                                collect(
                                    &path,
                                    display,
                                    true,
                                    &mut HashSet::new(),
                                    &mut seen_files,
                                    &mut out,
                                );
                            }
                            Err(e) => out.push(Input {
                                path: e.path().to_path_buf(),
                                display: e.path().display().to_string(),
                                error: Some(e.error().to_string()),
                                skipped: None,
                            }),
                        }
                    }
                    if !any {
                        out.push(Input {
                            path: p.into(),
                            display: arg.clone(),
                            error: Some("no file matches this pattern".into()),
                            skipped: None,
                        });
                    }
                }
                Err(e) => out.push(Input {
                    path: p.into(),
                    display: arg.clone(),
                    error: Some(format!("bad pattern: {e}")),
                    skipped: None,
                }),
            }
            continue;
        }
        out.push(Input {
            path: p.into(),
            display: arg.clone(),
            error: Some("no such file or directory".into()),
            skipped: None,
        });
    }
    out
}

fn collect(
    path: &Path,
    display: String,
    explicit: bool,
    visiting: &mut HashSet<PathBuf>,
    seen_files: &mut HashSet<PathBuf>,
    out: &mut Vec<Input>,
) {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            let msg = if e.raw_os_error() == Some(40) {
                "symlink loop".to_string()
            } else {
                e.to_string()
            };
            out.push(Input {
                path: path.into(),
                display,
                error: Some(msg),
                skipped: None,
            });
            return;
        }
    };
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if meta.is_dir() {
        if !visiting.insert(canonical.clone()) {
            out.push(Input {
                path: path.into(),
                display,
                error: Some("symlink loop: directory already being read".into()),
                skipped: None,
            });
            return;
        }
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(path) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) => {
                out.push(Input {
                    path: path.into(),
                    display,
                    error: Some(e.to_string()),
                    skipped: None,
                });
                visiting.remove(&canonical);
                return;
            }
        };
        entries.sort();
        for entry in entries {
            let name = entry
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned();
            if name.starts_with('.') {
                continue;
            }
            let is_dir = std::fs::metadata(&entry)
                .map(|m| m.is_dir())
                .unwrap_or(false);
            let ext_ok = entry
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| EXPORT_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
            let d = entry.display().to_string();
            if is_dir || ext_ok || std::fs::metadata(&entry).is_err() {
                collect(&entry, d, false, visiting, seen_files, out);
            } else {
                out.push(Input {
                    path: entry.clone(),
                    display: d,
                    error: None,
                    skipped: Some(format!(
                        "not read: only {} files are taken from directories (name it explicitly to read it)",
                        EXPORT_EXTENSIONS.iter().map(|e| format!(".{e}")).collect::<Vec<_>>().join("/")
                    )),
                });
            }
        }
        visiting.remove(&canonical);
        return;
    }
    if !explicit && !meta.is_file() {
        return;
    }
    if seen_files.insert(canonical) {
        out.push(Input {
            path: path.into(),
            display,
            error: None,
            skipped: None,
        });
    }
}
