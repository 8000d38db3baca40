/*!
Audit analyses: each answers one question an auditor asks of the Audit Log and returns findings of
one shape ([`Finding`]).

An analysis is a type implementing [`Analysis`] in its own file, listed once in [`REGISTRY`];
nothing else needs to know it exists. [`run`] executes the selected analyses in two chains side by
side (the memory-heavy ones one after another, beside the rest); each builds its own lazy,
predicate- and projection-pushed scan through [`Context`], so it reads only the event types and
columns it needs.

Analyses see the whole store, not just the period: a baseline (addresses seen before, who usually
administers) needs history. They report only findings whose evidence ends inside the period.
*/

mod after_hours;
pub mod case_actions;
pub mod common;
mod coverage;
pub mod file_access;
mod privilege;
mod support;
mod training;
mod unusual_ips;

use std::collections::BTreeMap;
use std::time::Instant;

use polars::prelude::*;
use polars_arrow::array::BooleanArray;
use rayon::prelude::*;
use serde::Serialize;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::filter::closest;
use crate::model::EventId;
use crate::model::catalog::{Catalog, Tag};
use crate::model::schema::cols;
use crate::store::Store;
use crate::store::parquet::{Layout, ParquetFile};
use crate::time::format_timestamp;

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }

    /// One step up (capped at high).
    pub fn raise(self) -> Severity {
        match self {
            Severity::Info => Severity::Low,
            Severity::Low => Severity::Medium,
            Severity::Medium | Severity::High => Severity::High,
        }
    }
}

/// The most event ids a finding carries; `count` always holds the full number.
pub const MAX_EVIDENCE: usize = 200;

/// One finding. Every analysis emits exactly this shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub analysis: &'static str,
    pub severity: Severity,
    /// Who acted (empty when not about one actor).
    pub actor: String,
    /// What it is about: the affected user, rule, case, API client or address (may be empty).
    pub subject: String,
    /// The address involved, if one is.
    pub ip: String,
    pub first_seen_ns: i64,
    pub last_seen_ns: i64,
    pub count: u64,
    /// One readable sentence with the concrete values.
    pub summary: String,
    /// The evidence (at most [`MAX_EVIDENCE`] ids), for `auditlens show`.
    pub event_ids: Vec<EventId>,
}

/// The serialised form: exactly these keys, times as ISO-8601 UTC.
#[derive(Debug, Clone, Serialize)]
pub struct FindingRecord<'a> {
    pub analysis: &'a str,
    pub severity: Severity,
    pub actor: &'a str,
    pub subject: &'a str,
    pub ip: &'a str,
    pub first_seen: String,
    pub last_seen: String,
    pub count: u64,
    pub summary: &'a str,
    /// Serialised as their 32 hex digits.
    pub event_ids: &'a [EventId],
}

impl Finding {
    pub fn record(&self) -> FindingRecord<'_> {
        FindingRecord {
            analysis: self.analysis,
            severity: self.severity,
            actor: &self.actor,
            subject: &self.subject,
            ip: &self.ip,
            first_seen: format_timestamp(self.first_seen_ns),
            last_seen: format_timestamp(self.last_seen_ns),
            count: self.count,
            summary: &self.summary,
            event_ids: &self.event_ids,
        }
    }
}

/// What an analysis gets to work with.
pub struct Context<'a> {
    pub store: &'a Store,
    pub config: &'a Config,
    /// The period findings must fall in, `[from, to)` in ns (`None`: unbounded).
    pub from_ns: Option<i64>,
    pub to_ns: Option<i64>,
}

/// Which event types to read.
#[derive(Debug, Clone, Copy)]
pub enum Select<'a> {
    All,
    Tagged(Tag),
    Types(&'a [&'a str]),
}

impl Context<'_> {
    /// True when `ns` lies in the period.
    pub fn in_period(&self, ns: i64) -> bool {
        self.from_ns.is_none_or(|f| ns >= f) && self.to_ns.is_none_or(|t| ns < t)
    }

    /// Events of the selected types up to the end of the period (all history before it: baselines
    /// need it), with only `columns` read, in time order. `lookback_ns` limits how far before the
    /// period start to read (`None`: everything).
    pub fn events(
        &self,
        select: Select<'_>,
        columns: &[&str],
        lookback_ns: Option<i64>,
    ) -> Result<Ordered> {
        self.events_where(select, None, columns, lookback_ns)
    }

    /// [`Context::events`] with one more row predicate, pushed down with the others (e.g. one
    /// actor type across all event types, which an event-type selection cannot express).
    pub fn events_where(
        &self,
        select: Select<'_>,
        filter: Option<Expr>,
        columns: &[&str],
        lookback_ns: Option<i64>,
    ) -> Result<Ordered> {
        Ordered::new(self.events_as_read(select, filter, columns, lookback_ns)?)
    }

    /// [`Context::events_where`] in the order the scan read them (files in store order, each
    /// sorted by event type, then time), for an analysis that orders the rows it keeps itself.
    pub fn events_as_read(
        &self,
        select: Select<'_>,
        filter: Option<Expr>,
        columns: &[&str],
        lookback_ns: Option<i64>,
    ) -> Result<DataFrame> {
        let from = match (self.from_ns, lookback_ns) {
            (Some(f), Some(back)) => Some(f.saturating_sub(back)),
            _ => None,
        };
        let range = match (from, self.to_ns) {
            (None, None) => None,
            (f, t) => Some((f.unwrap_or(i64::MIN), t.unwrap_or(i64::MAX))),
        };
        let mut lf = self.store.scan(range)?;
        let mut preds: Vec<Expr> = Vec::new();
        if let Some(f) = from {
            preds.push(col(cols::TIMESTAMP_NS).gt_eq(lit(f)));
        }
        if let Some(t) = self.to_ns {
            preds.push(col(cols::TIMESTAMP_NS).lt(lit(t)));
        }
        let names: Vec<String> = match select {
            Select::All => Vec::new(),
            Select::Tagged(tag) => Catalog::get()
                .names_with(tag)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            Select::Types(t) => t.iter().map(|s| s.to_string()).collect(),
        };
        if !matches!(select, Select::All) {
            preds.push(col(cols::EVENT_TYPE).is_in(crate::filter::list_lit(&names), false));
        }
        preds.extend(filter);
        if let Some(p) = preds.into_iter().reduce(|a, b| a.and(b)) {
            lf = lf.filter(p);
        }
        let mut wanted: Vec<&str> = columns.to_vec();
        if !wanted.contains(&cols::TIMESTAMP_NS) {
            wanted.push(cols::TIMESTAMP_NS);
        }
        lf = lf.select(wanted.iter().map(|c| column(c)).collect::<Vec<_>>());
        // Streaming, so the copies [`column`] makes happen morsel by morsel as the files are read.
        Ok(lf.collect_with_engine(Engine::Streaming)?.unwrap_single())
    }
}

/// Events read for an analysis ([`Context::events`]), in time order.
///
/// The frame stays in the order the scan read it and the order by time is kept beside it as row
/// numbers: each column comes out in time order as the analysis takes it ([`Ordered::strs`],
/// [`Ordered::i64s`]). Sorting the frame itself first concatenated every column it had read and
/// then gathered each into a second copy while the first was alive; a whole-store run peaked
/// 170 MB higher for it (bench/NOTES.md).
pub struct Ordered {
    df: DataFrame,
    /// The rows of `df` by time.
    order: Vec<IdxSize>,
}

impl Ordered {
    fn new(df: DataFrame) -> Result<Ordered> {
        // The permutation `DataFrame::sort` applies for one key with the default options, so
        // rows with equal instants keep the order they had when the frame itself was sorted.
        let order = df
            .column(cols::TIMESTAMP_NS)?
            .as_materialized_series()
            .arg_sort(SortOptions::default())
            .into_no_null_iter()
            .collect();
        Ok(Ordered { df, order })
    }

    pub fn height(&self) -> usize {
        self.order.len()
    }

    /// A string column, in time order.
    pub fn strs(&self, name: &str) -> Result<Vec<Option<&str>>> {
        Ok(self.in_order(&common::strs(&self.df, name)?))
    }

    /// The `event_id` column, parsed ([`common::event_ids`]), in time order.
    pub fn event_ids(&self, store: &Store) -> Result<Vec<Option<EventId>>> {
        Ok(self.in_order(&common::event_ids(&self.df, store.root())?))
    }

    /// An i64 column (nulls as 0), in time order.
    pub fn i64s(&self, name: &str) -> Result<Vec<i64>> {
        Ok(self.in_order(&common::i64s(&self.df, name)?))
    }

    /// One value per row as read, in time order.
    fn in_order<T: Copy>(&self, read: &[T]) -> Vec<T> {
        self.order.iter().map(|&i| read[i as usize]).collect()
    }
}

/// `name` as read from the store; `details` and `event_id` copied into buffers of their own.
///
/// A decoded string is a view into the buffer of its Parquet page or dictionary page, and a
/// filtered scan keeps those views, so a few kept rows pin every page they came from (hundreds of
/// megabytes of `details` dictionaries and `event_id` pages on large stores; bench/NOTES.md).
/// Concatenating with `""` makes polars write each kept value into a fresh buffer as the scan
/// goes, so the page buffers are freed once their row group is done.
pub fn column(name: &str) -> Expr {
    if name == cols::DETAILS || name == cols::EVENT_ID {
        (col(name) + lit("")).alias(name)
    } else {
        col(name)
    }
}

/// The events of `range` at one of `instants` (sorted, without repeats), with `columns`, read
/// through [`column()`].
///
/// The instants are a filter the Parquet reader applies as it reads: it decodes the other columns
/// with the filter's mask, copying out only the rows kept. A semi-join on the instants, as before,
/// decoded every column of every row in the range and then joined: unusual-ips' 461,000 evidence
/// instants over a 5M store took 0.54-0.57 s that way, and 0.44-0.46 s with a hash set of them as
/// the filter (bench/NOTES.md, twentieth session). (An `is_in` list in the filter was slower still:
/// polars copies the list into every file's predicate and hashes it batch by batch.)
pub fn events_at(
    store: &Store,
    range: Option<(i64, i64)>,
    instants: Vec<i64>,
    columns: &[&str],
) -> Result<DataFrame> {
    debug_assert!(
        instants.is_sorted_by(|a, b| a < b),
        "instants sorted, without repeats"
    );
    let instants = std::sync::Arc::new(instants);
    let keep = row_filter(cols::TIMESTAMP_NS, move |c| {
        // A null instant is kept by no filter (the mask's null is false).
        let chunks = c.i64()?.downcast_iter().map(|arr| {
            BooleanArray::from_slice(at_instants(&instants, arr.values()))
                .with_validity(arr.validity().cloned())
        });
        Ok(BooleanChunked::from_chunk_iter(c.name().clone(), chunks))
    });
    events_where(store, range, keep, columns)
}

/// The events of `range` whose id is one of `ids`, with `columns`, read through [`column()`]: as
/// in [`events_at`], the ids are a filter the Parquet reader applies as it reads. For the weekly
/// report's appendix (482,736 of the week's 1.25M events on a 5M store) this took as long as the
/// semi-join on id strings it replaced (0.59-0.63 s against 0.64-0.67 s) and peaked 10-60 MB
/// lower, without building the ids' strings.
pub fn events_with_ids(
    store: &Store,
    range: Option<(i64, i64)>,
    ids: std::sync::Arc<PlHashSet<EventId>>,
    columns: &[&str],
) -> Result<DataFrame> {
    let keep = row_filter(cols::EVENT_ID, move |c| {
        let cited = c.str()?.iter().map(|id| {
            id.and_then(EventId::parse_hex)
                .is_some_and(|id| ids.contains(&id))
        });
        Ok(BooleanChunked::from_iter_values(c.name().clone(), cited))
    });
    events_where(store, range, keep, columns)
}

/// A filter on the column `name` that `mask` computes batch by batch in Rust (polars takes it as
/// a user function and still pushes it into the Parquet reader).
fn row_filter(
    name: &str,
    mask: impl Fn(&Column) -> PolarsResult<BooleanChunked> + Send + Sync + 'static,
) -> Expr {
    col(name).map(
        move |c: Column| Ok(mask(&c)?.into_column()),
        |_, f| Ok(Field::new(f.name().clone(), DataType::Boolean)),
    )
}

/// The events of `range` that `keep` keeps, with `columns`, read through [`column()`].
fn events_where(
    store: &Store,
    range: Option<(i64, i64)>,
    mut keep: Expr,
    columns: &[&str],
) -> Result<DataFrame> {
    if let Some((from, to)) = range {
        // Files are chosen by their time span; this also skips row groups outside the range.
        keep = col(cols::TIMESTAMP_NS)
            .gt_eq(lit(from))
            .and(col(cols::TIMESTAMP_NS).lt(lit(to)))
            .and(keep);
    }
    Ok(store
        .scan(range)?
        .filter(keep)
        .select(columns.iter().map(|c| column(c)).collect::<Vec<_>>())
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single())
}

/// For each of `values`, whether it is one of `wanted` (sorted, without repeats).
///
/// A store part's rows are sorted by event type, then time, so the instants of a batch mostly
/// ascend: each is looked for a few steps on from the last one, and searched for only when the
/// instants went back (the next event type) or far ahead. A hash set of the instants (8 MB for
/// unusual-ips' whole-store evidence) is probed at a random place for every row.
fn at_instants(wanted: &[i64], values: &[i64]) -> Vec<bool> {
    // Invariant after each value `v`: `pos` is where `v` is or would be (`wanted[..pos] < v`).
    let mut pos = 0;
    values
        .iter()
        .map(|&v| {
            let back = pos > 0 && wanted[pos - 1] >= v;
            let far = wanted.get(pos + 8).is_some_and(|&w| w < v);
            if back || far {
                pos = wanted.partition_point(|&w| w < v);
            } else {
                while wanted.get(pos).is_some_and(|&w| w < v) {
                    pos += 1;
                }
            }
            wanted.get(pos) == Some(&v)
        })
        .collect()
}

/// What one run of an analysis produced.
pub struct Output {
    pub findings: Vec<Finding>,
    /// The figures the findings were built from, for analyses whose figures the weekly report
    /// shows as a table (per-analyst case actions, per-actor file access). The report takes the
    /// table from the run instead of counting the same events a second time.
    pub table: Option<DataFrame>,
}

impl From<Vec<Finding>> for Output {
    fn from(findings: Vec<Finding>) -> Output {
        Output {
            findings,
            table: None,
        }
    }
}

/// An audit analysis.
pub trait Analysis: Sync {
    /// Name used by `--only` and in findings (kebab-case).
    fn name(&self) -> &'static str;
    /// One line for `auditlens analyses`.
    fn description(&self) -> &'static str;
    /// Findings for the context's period (and the analysis' table, if it has one).
    fn run(&self, ctx: &Context<'_>) -> Result<Output>;
    /// How much of the store the analysis holds while it runs, which decides when [`run`] runs
    /// it.
    fn memory(&self) -> Memory {
        Memory::Small
    }
}

/// How much of the store an analysis holds in memory while it runs ([`Analysis::memory`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Memory {
    /// The events of a few types.
    Small,
    /// Every event of a large family of types (file events, case actions and searches): run
    /// first among the light ones, so that only small ones run beside the second heavy one.
    Large,
    /// A large share of the store (every actor's address history, every reversible change): run
    /// one after another, beside the others, so that two of them never add up.
    Heavy,
}

/// Every analysis, in report order.
pub static REGISTRY: &[&dyn Analysis] = &[
    &support::SupportUserActivity,
    &privilege::PrivilegeChanges,
    &unusual_ips::UnusualIps,
    &case_actions::AnalystCaseActions,
    &training::TrainingNeeds,
    &file_access::FileAccess,
    &after_hours::AfterHoursAdmin,
    &coverage::CoverageGaps,
];

/// Look analyses up by name (`None`: all of them), with suggestions for a misspelt name.
pub fn select(only: &[String]) -> Result<Vec<&'static dyn Analysis>> {
    if only.is_empty() {
        return Ok(REGISTRY.to_vec());
    }
    let names: Vec<&str> = REGISTRY.iter().map(|a| a.name()).collect();
    only.iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|n| {
            REGISTRY
                .iter()
                .copied()
                .find(|a| a.name() == n)
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "--only {n:?}: no such analysis; closest: {} (see `auditlens analyses`)",
                        closest(n, &names, 3).join(", ")
                    ))
                })
        })
        .collect()
}

/// The result of one analysis.
pub struct Outcome {
    pub name: &'static str,
    pub output: Result<Output>,
    pub seconds: f64,
}

/// Run `analyses` in two chains side by side: the memory-heavy ones (see [`Analysis::memory`])
/// one after another, and the rest one after another, large before small. Findings of each are
/// sorted by severity (highest first), then time.
///
/// Two pools share the cores: rayon's runs the analyses' parallel steps, polars'
/// (`POLARS_MAX_THREADS`, all cores unless the user sets it) runs their queries. They do not
/// oversubscribe in practice: a chain waits while polars runs its query, and giving polars fewer
/// cores queued every analysis' queries on the remaining ones (bench/NOTES.md has the figures).
pub fn run(ctx: &Context<'_>, analyses: &[&'static dyn Analysis]) -> Vec<Outcome> {
    let one = |&(i, a): &(usize, &&'static dyn Analysis)| {
        let t = Instant::now();
        let output = a.run(ctx).map(|mut o| {
            o.findings.sort_by(|x, y| {
                y.severity
                    .cmp(&x.severity)
                    .then(x.first_seen_ns.cmp(&y.first_seen_ns))
            });
            o
        });
        let outcome = Outcome {
            name: a.name(),
            output,
            seconds: t.elapsed().as_secs_f64(),
        };
        (i, outcome)
    };
    let (heavy, mut light): (Vec<_>, Vec<_>) = analyses
        .iter()
        .enumerate()
        .partition(|(_, a)| a.memory() == Memory::Heavy);
    // Large before small (a stable sort: registry order otherwise). The light chain's last
    // analyses run beside the heavy chain's second, which starts with a large read of its own:
    // with file-access there, a whole-store run peaked at 940-950 MB, with the small ones at
    // 830-850 MB (means of four rounds in a fast and a slow phase), in the same time
    // (bench/NOTES.md).
    light.sort_by_key(|(_, a)| std::cmp::Reverse(a.memory()));
    // Two chains, each running its analyses one after another: the heavy ones (two at once set
    // the peak memory of a whole-store run) and the rest, on a pool of two threads of their own.
    // Not on rayon's global pool: a worker there waiting for a polars query steals other jobs,
    // so every light analysis was soon in flight at once, stacked on the two workers with its
    // read in memory, and the first started finished last. A waiting chain thread finds nothing
    // but the other chain's parallel steps to steal. (Whole store: a peak 0.85-0.95 GB against
    // 0.95-0.99 GB in the same time; a week 0.42-0.46 GB against 0.56 GB; bench/NOTES.md.)
    let chains = || {
        rayon::join(
            || heavy.iter().map(one).collect::<Vec<_>>(),
            || light.iter().map(one).collect::<Vec<_>>(),
        )
    };
    let (mut heavy, light) = match rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .thread_name(|i| format!("auditlens-chain-{i}"))
        .build()
    {
        Ok(pool) => pool.install(chains),
        // No thread to be had: the chains on the global pool, as they ran before.
        Err(_) => chains(),
    };
    heavy.extend(light);
    // In the order asked for, whatever order they ran in.
    heavy.sort_by_key(|&(i, _)| i);
    heavy.into_iter().map(|(_, o)| o).collect()
}

/// Time spent and findings produced by one analysis.
#[derive(Debug, Clone)]
pub struct Timing {
    pub name: &'static str,
    pub seconds: f64,
    pub findings: usize,
}

/// All findings of a run over one period, highest severity first.
#[derive(Debug, Default)]
pub struct RunResult {
    pub findings: Vec<Finding>,
    /// Analyses that failed, with their error; the others' findings are still reported.
    pub failures: Vec<(&'static str, String)>,
    pub timings: Vec<Timing>,
    /// The tables of the analyses that return one ([`Output::table`]), by analysis name.
    pub tables: BTreeMap<&'static str, DataFrame>,
}

/// Run `analyses` over the period `[from_ns, to_ns)`.
pub fn run_period(
    store: &Store,
    config: &Config,
    from_ns: Option<i64>,
    to_ns: Option<i64>,
    analyses: &[&'static dyn Analysis],
) -> RunResult {
    let ctx = Context {
        store,
        config,
        from_ns,
        to_ns,
    };
    let mut result = RunResult::default();
    for outcome in run(&ctx, analyses) {
        match outcome.output {
            Ok(o) => {
                result.timings.push(Timing {
                    name: outcome.name,
                    seconds: outcome.seconds,
                    findings: o.findings.len(),
                });
                result.findings.extend(o.findings);
                if let Some(t) = o.table {
                    result.tables.insert(outcome.name, t);
                }
            }
            Err(e) => result.failures.push((outcome.name, e.to_string())),
        }
    }
    result.findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.first_seen_ns.cmp(&b.first_seen_ns))
            .then(a.analysis.cmp(b.analysis))
    });
    result
}

/// Findings as a frame with the finding shape's columns (times as UTC timestamps).
pub fn findings_frame(findings: &[Finding]) -> Result<DataFrame> {
    let n = findings.len();
    let s = |f: fn(&Finding) -> &str| findings.iter().map(f).collect::<Vec<&str>>();
    let ts = |f: fn(&Finding) -> i64, name: &str| {
        // Floor, as the events' `timestamp` does: `/` would round instants before 1970 up.
        Int64Chunked::from_vec(
            name.into(),
            findings.iter().map(|x| f(x).div_euclid(1000)).collect(),
        )
        .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
        .into_column()
    };
    let mut ids = ListStringChunkedBuilder::new("event_ids".into(), n, n * 4);
    // One buffer for every finding's hex digits (a whole-store run cites 1.5M events).
    let mut digits = Vec::with_capacity(MAX_EVIDENCE);
    for f in findings {
        digits.clear();
        digits.extend(f.event_ids.iter().map(|id| id.hex_digits()));
        ids.append_values_iter(digits.iter().map(|d| d.as_str()));
    }
    let columns = vec![
        Column::new("analysis".into(), s(|f| f.analysis)),
        Column::new("severity".into(), s(|f| f.severity.as_str())),
        Column::new("actor".into(), s(|f| &f.actor)),
        Column::new("subject".into(), s(|f| &f.subject)),
        Column::new("ip".into(), s(|f| &f.ip)),
        ts(|f| f.first_seen_ns, "first_seen"),
        ts(|f| f.last_seen_ns, "last_seen"),
        Column::new(
            "count".into(),
            findings.iter().map(|f| f.count).collect::<Vec<u64>>(),
        ),
        Column::new("summary".into(), s(|f| &f.summary)),
        ids.finish().into_column(),
    ];
    Ok(DataFrame::new(n, columns)?)
}

/// Findings per row group of `findings.parquet`.
const FINDINGS_PER_ROW_GROUP: usize = 8 * 1024;

/// Save findings next to the store for notebooks (`STORE/findings/findings.parquet`), atomically.
///
/// A whole-store run of a large store has about 80,000 findings citing 1.5 million events: built
/// and compressed as one frame on one thread, the file took longer than the JSON printed beside
/// it (bench/NOTES.md). Row groups of `FINDINGS_PER_ROW_GROUP` findings are built and encoded
/// side by side, then written in order. The cited ids and the summaries, distinct on almost
/// every row, are written without polars' dictionary attempt.
pub fn save_findings(store: &Store, findings: &[Finding]) -> Result<std::path::PathBuf> {
    let dir = store.findings_dir();
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let path = dir.join("findings.parquet");
    let tmp = dir.join(".findings.parquet.partial");
    let f = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    let mut out = ParquetFile::new(
        f,
        findings_frame(&[])?.schema(),
        crate::store::writer::zstd().into(),
        &Layout {
            plain: &["summary", "event_ids"],
            ..Layout::default()
        },
    )?;
    let groups = findings
        .par_chunks(FINDINGS_PER_ROW_GROUP)
        .map(|chunk| out.encode(&findings_frame(chunk)?))
        .collect::<Result<Vec<_>>>()?;
    for group in &groups {
        out.write_encoded(group)?;
    }
    out.finish()?;
    std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_columns_come_out_in_time_order() {
        let df = df!(
            cols::TIMESTAMP_NS => [30i64, 10, 20, 10],
            cols::EVENT_ID => [Some("c"), Some("a"), None, Some("b")],
        )
        .unwrap();
        let o = Ordered::new(df).unwrap();
        assert_eq!(o.height(), 4);
        assert_eq!(o.i64s(cols::TIMESTAMP_NS).unwrap(), [10, 10, 20, 30]);
        let ids = o.strs(cols::EVENT_ID).unwrap();
        // The two events at 10 in either order, each with its own id.
        assert!(ids[..2] == [Some("a"), Some("b")] || ids[..2] == [Some("b"), Some("a")]);
        assert_eq!(ids[2..], [None, Some("c")]);
        assert!(o.strs("no such column").is_err());
    }

    proptest::proptest! {
        /// The stepping search answers as a lookup would, whatever the order of the values:
        /// ascending runs, steps back, jumps far ahead, repeats, the ends of `wanted` and beyond.
        #[test]
        fn instants_are_found_as_a_lookup_finds_them(
            mut wanted in proptest::collection::vec(-40i64..40, 0..30),
            runs in proptest::collection::vec((-50i64..50, 0usize..12, 0i64..4), 0..12),
        ) {
            wanted.sort_unstable();
            wanted.dedup();
            let values: Vec<i64> = runs
                .iter()
                .flat_map(|&(start, len, step)| (0..len as i64).map(move |i| start + i * step))
                .collect();
            let want: Vec<bool> = values.iter().map(|v| wanted.binary_search(v).is_ok()).collect();
            proptest::prop_assert_eq!(at_instants(&wanted, &values), want);
        }
    }

    #[test]
    fn findings_times_floor_to_microseconds_like_event_times() {
        let f = Finding {
            analysis: "coverage-gaps",
            severity: Severity::Info,
            actor: String::new(),
            subject: String::new(),
            ip: String::new(),
            first_seen_ns: -1,
            last_seen_ns: 1_999,
            count: 1,
            summary: String::new(),
            event_ids: Vec::new(),
        };
        let df = findings_frame(&[f]).unwrap();
        let us = |name: &str| {
            df.column(name)
                .unwrap()
                .cast(&DataType::Int64)
                .unwrap()
                .i64()
                .unwrap()
                .get(0)
        };
        assert_eq!(us("first_seen"), Some(-1));
        assert_eq!(us("last_seen"), Some(1));
    }
}
