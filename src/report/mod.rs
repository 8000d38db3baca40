/*!
The weekly compliance report: what an auditor attaches to the audit file.

[`build`] assembles a [`Report`] from the code the other commands run (stats from [`crate::stats`],
findings and the analyses' tables from [`crate::analyses::run_period`]), so every figure equals
what `stats` and `analyze` print for the same period. The writers only lay the report out:
[`html`] (one self-contained file, charts as inline SVG), [`markdown`] (charts as PNG files beside
it) and JSON ([`write_json`]: the [`Report`] itself, its long lists last).

Everything that comes from the data is attacker-controlled text (usernames, details); the writers
escape it for their format and the HTML forbids every network request with a Content-Security-Policy.
*/

pub mod charts;
pub mod html;
pub mod markdown;
mod tables;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use polars::prelude::*;
use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::analyses::common::{event_ids, number_strings, opt_i64s};
use crate::analyses::{self, Finding, Severity};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::model::EventId;
use crate::model::schema::cols;
use crate::output::{cell_json, json};
use crate::stats::{self, DayRange, Period, TimeGap, TypeCount};
use crate::store::Store;
use crate::time::{NANOS_PER_DAY, date_of, format_timestamp};

/// What to report on.
#[derive(Debug, Clone)]
pub struct ReportRequest<'a> {
    /// Label of the period (`2026-W16`, or `2026-04-01 .. 2026-04-30`).
    pub label: String,
    pub from_ns: i64,
    pub to_ns: i64,
    pub config: &'a Config,
    /// The config file used, if any (named and hashed in the provenance).
    pub config_path: Option<&'a Path>,
    /// The command that reproduces the report.
    pub command: String,
    /// Low and info findings listed per section of the HTML and Markdown reports (see
    /// [`Report::listed`]); `None`: all of them.
    pub max_listed: Option<usize>,
    /// Also save the findings next to the store for notebooks
    /// ([`analyses::save_findings`]), while the appendix is looked up: the two are independent,
    /// and saving beside the outputs instead (as the report did) raised its peak by 30-40 MB.
    pub save_findings: bool,
}

/// Sections that are ledgers, listed in full whatever `--max-listed` says: the privilege-change
/// ledger promises every change of the period, and an auditor reconciles it line by line; the
/// coverage table lists every gap (one per day at most, so it stays short).
pub const LEDGERS: &[&str] = &["privilege-changes", "coverage-gaps"];

/// The default of `report --max-listed`: enough for a reviewer to see what kind of low and info
/// findings a section has, without turning a large organisation's week into a 100 MB page.
pub const DEFAULT_MAX_LISTED: usize = 100;

/// A table for the report: column names and JSON cells.
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<serde_json::Value>>,
}

impl Table {
    /// A table from a frame (times as ISO text, lists as arrays).
    pub fn from_frame(df: &DataFrame) -> Result<Table> {
        let columns = df
            .get_column_names()
            .iter()
            .map(|c| c.to_string())
            .collect();
        let mut rows = Vec::with_capacity(df.height());
        for i in 0..df.height() {
            let mut row = Vec::with_capacity(df.width());
            for c in df.columns() {
                let v = c.get(i)?;
                row.push(match v {
                    AnyValue::Datetime(..) | AnyValue::Date(..) => crate::output::cell_text(&v)
                        .map_or(serde_json::Value::Null, serde_json::Value::String),
                    other => cell_json(&other, false),
                });
            }
            rows.push(row);
        }
        Ok(Table { columns, rows })
    }
}

/// The report period.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PeriodInfo {
    pub label: String,
    pub from: String,
    pub to: String,
    pub previous_from: String,
    pub previous_to: String,
}

/// One source export that contributed to the period.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SourceRow {
    pub path: String,
    pub sha256: String,
    pub format: String,
    pub bytes: u64,
    pub rows_read: u64,
    pub stored: u64,
    pub duplicates: u64,
    pub quarantined: u64,
    pub ingested_at: String,
    pub first_event: Option<String>,
    pub last_event: Option<String>,
    /// Events of this file stored in the period.
    pub events_in_period: u64,
}

/// Where the report's data came from, so a reviewer can reproduce it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Provenance {
    pub store: String,
    pub auditlens_version: String,
    pub command: String,
    pub config_file: Option<String>,
    /// SHA-256 of the config file's bytes (of the defaults' text when no file was given).
    pub config_sha256: String,
    /// The effective configuration.
    pub config: Config,
    pub sources: Vec<SourceRow>,
}

/// Events of one category this period against the previous one.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CategoryChange {
    pub category: String,
    pub events: u64,
    pub previous: u64,
    pub change: i64,
    /// `None` when the previous period had none.
    pub change_pct: Option<f64>,
}

/// Data coverage of the period.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Coverage {
    pub events: u64,
    pub previous_events: u64,
    pub first_event: Option<String>,
    pub last_event: Option<String>,
    pub files_ingested: u64,
    pub empty_days: Vec<DayRange>,
    pub uncovered: Vec<TimeGap>,
    pub unknown_event_types: Vec<TypeCount>,
    pub by_category: Vec<CategoryChange>,
    /// Events per day and category (every day of the period).
    pub per_day: Vec<stats::PeriodCounts>,
}

/// An event cited as evidence.
///
/// A week of a large store cites half a million events of a few thousand actors and types, from a
/// handful of files: those names are shared rather than copied into each event, and the time and
/// source are spelt out as they are written.
#[derive(Debug, Clone, PartialEq)]
pub struct CitedEvent {
    pub event_id: EventId,
    pub timestamp_ns: Option<i64>,
    /// The event type's label ("" when the store has none).
    pub event_type: Arc<str>,
    pub actor: Option<Arc<str>>,
    pub source_file: Arc<str>,
    pub source_line: u64,
}

impl CitedEvent {
    /// ISO-8601 UTC, empty when the time is unknown.
    pub fn timestamp(&self) -> String {
        self.timestamp_ns.map(format_timestamp).unwrap_or_default()
    }

    /// `FILE:LINE`, where the event was read from.
    pub fn source(&self) -> String {
        format!("{}:{}", self.source_file, self.source_line)
    }
}

/// `{"event_id", "timestamp", "event_type", "actor", "source"}`, as in `report.json`.
impl Serialize for CitedEvent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut m = s.serialize_struct("CitedEvent", 5)?;
        m.serialize_field("event_id", &self.event_id)?;
        m.serialize_field("timestamp", &self.timestamp())?;
        m.serialize_field("event_type", &*self.event_type)?;
        m.serialize_field("actor", &self.actor.as_deref())?;
        m.serialize_field(
            "source",
            &format_args!("{}:{}", self.source_file, self.source_line),
        )?;
        m.end()
    }
}

impl CitedEvent {
    /// The event as [`Serialize`] writes it with `serde_json`'s pretty printer, its first line
    /// already indented and `indent` that line's indent. The appendix of a week of a large store
    /// is half a million of these; serde's machinery (a formatter call for every key and value, a
    /// `String` for the time and one for the source) was 2.6% of a report's instructions, and
    /// `report.json` is the last of the three files to be written (bench/NOTES.md).
    pub fn write_pretty(&self, indent: &[u8], buf: &mut Vec<u8>) {
        let field = |buf: &mut Vec<u8>, key: &[u8]| {
            buf.extend_from_slice(indent);
            buf.extend_from_slice(b"  \"");
            buf.extend_from_slice(key);
            buf.extend_from_slice(b"\": ");
        };
        buf.extend_from_slice(b"{\n");
        field(buf, b"event_id");
        buf.push(b'"');
        buf.extend_from_slice(self.event_id.hex_digits().as_str().as_bytes());
        buf.extend_from_slice(b"\",\n");
        field(buf, b"timestamp");
        buf.push(b'"');
        if let Some(ns) = self.timestamp_ns {
            crate::time::write_timestamp(ns, buf);
        }
        buf.extend_from_slice(b"\",\n");
        field(buf, b"event_type");
        json::push_str(buf, &self.event_type);
        buf.extend_from_slice(b",\n");
        field(buf, b"actor");
        match &self.actor {
            Some(actor) => json::push_str(buf, actor),
            None => buf.extend_from_slice(b"null"),
        }
        buf.extend_from_slice(b",\n");
        field(buf, b"source");
        // `"FILE:LINE"`: the file name escaped, then the line's digits inside the same quotes.
        json::push_str(buf, &self.source_file);
        buf.pop();
        buf.push(b':');
        // Writing into a Vec cannot fail.
        let _ = writeln!(buf, "{}\"", self.source_line);
        buf.extend_from_slice(indent);
        buf.push(b'}');
    }
}

/// The whole report. `report.json` is [`write_json`]'s rendering of it: serialising it with serde
/// alone leaves out `findings` and `appendix`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub title: String,
    pub generated_at: String,
    pub period: PeriodInfo,
    pub provenance: Provenance,
    pub coverage: Coverage,
    /// Findings per severity (every severity present, zero included).
    pub findings_by_severity: BTreeMap<Severity, u64>,
    pub findings_by_analysis: BTreeMap<String, u64>,
    /// Written last by [`write_json`], as `findings` and then `appendix`, each side by side.
    #[serde(skip)]
    pub findings: Vec<Finding>,
    pub case_actions: Table,
    pub file_access: Table,
    #[serde(skip)]
    pub appendix: Vec<CitedEvent>,
    pub analysis_failures: Vec<(String, String)>,
    /// How many low and info findings per section the HTML and Markdown list (`report.json`
    /// always holds every finding and every cited event).
    #[serde(skip)]
    pub max_listed: Option<usize>,
    /// [`Report::listed_appendix`] as positions in `appendix`, worked out once for the HTML and
    /// the Markdown, which are written side by side.
    #[serde(skip)]
    pub listed_appendix: OnceLock<Vec<usize>>,
    /// How long each step of [`build`] took, in order (not part of the report itself).
    #[serde(skip)]
    pub steps: Vec<Step>,
}

/// One step of building the report and how long it took: `report` prints them when its standard
/// error is a terminal, as `analyze` prints each analysis' time.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub what: String,
    pub seconds: f64,
}

/// `f()` and the seconds it took.
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let t = std::time::Instant::now();
    let out = f();
    (out, t.elapsed().as_secs_f64())
}

impl Report {
    /// The findings of one analysis as the HTML and Markdown reports list them: every high and
    /// medium one, then low and info ones up to `max_listed` (all of them for a ledger); and how
    /// many were left out.
    pub fn listed<'a>(&'a self, analysis: &'a str) -> (Vec<&'a Finding>, usize) {
        let max_listed = if LEDGERS.contains(&analysis) {
            None
        } else {
            self.max_listed
        };
        let mut listed = Vec::new();
        let (mut minor, mut left_out) = (0, 0);
        for f in findings_of(self, analysis) {
            if matches!(f.severity, Severity::High | Severity::Medium) {
                listed.push(f);
            } else if max_listed.is_none_or(|max| minor < max) {
                minor += 1;
                listed.push(f);
            } else {
                left_out += 1;
            }
        }
        (listed, left_out)
    }

    /// The cited events of the findings the HTML and Markdown list, and how many others
    /// `report.json` has.
    pub fn listed_appendix(&self) -> (Vec<&CitedEvent>, usize) {
        if self.max_listed.is_none() {
            return (self.appendix.iter().collect(), 0);
        }
        let positions = self.listed_appendix.get_or_init(|| {
            // foldhash: every one of the half a million cited events of a large week is looked
            // up.
            let mut cited: PlHashSet<EventId> = PlHashSet::default();
            for (analysis, _, _) in SECTIONS {
                for f in self.listed(analysis).0 {
                    cited.extend(f.event_ids.iter().copied());
                }
            }
            (0..self.appendix.len())
                .filter(|&k| cited.contains(&self.appendix[k].event_id))
                .collect()
        });
        let listed: Vec<&CitedEvent> = positions.iter().map(|&k| &self.appendix[k]).collect();
        (listed, self.appendix.len() - positions.len())
    }
}

/// The note under a section whose listing was cut short (empty when nothing was left out);
/// `what` is singular ("cited event").
pub fn left_out_note(left_out: usize, what: &str) -> String {
    match left_out {
        0 => String::new(),
        1 => format!(
            "1 more {what} is not listed here: report.json holds them all \
             (report --max-listed 0 lists everything)."
        ),
        n => format!(
            "{n} more {what}s are not listed here: report.json holds them all \
             (report --max-listed 0 lists everything)."
        ),
    }
}

/// `report.json`: the report's fields, then its two long arrays, `findings` (as `analyze` writes
/// them) and `appendix`, whose items are serialised side by side (a week of a large store cites
/// half a million events).
pub fn write_json(r: &Report, out: &mut impl Write) -> std::io::Result<()> {
    let head = serde_json::to_vec_pretty(r)?;
    // The object without its closing brace, then the two fields.
    match head.strip_suffix(b"\n}") {
        Some(fields) => {
            out.write_all(fields)?;
            out.write_all(b",")?;
        }
        None => out.write_all(b"{")?,
    }
    out.write_all(b"\n  \"findings\": ")?;
    json::write_pretty_array(out, &r.findings, 1, Finding::record)?;
    out.write_all(b",\n  \"appendix\": ")?;
    json::write_pretty_array_by(out, &r.appendix, 1, CitedEvent::write_pretty)?;
    out.write_all(b"\n}")
}

/// Report sections fed by one analysis each, in reading order: (analysis, title, what it answers).
pub const SECTIONS: &[(&str, &str, &str)] = &[
    (
        "support-user-activity",
        "Code42 support user activity",
        "What the vendor's support user did, inside or outside the access windows administrators opened, and the accounts it created.",
    ),
    (
        "privilege-changes",
        "Privilege-change ledger",
        "Every change of roles, permissions, API-client credentials, identity providers, federation, SCIM, local authentication and support access, actor to subject.",
    ),
    (
        "unusual-ips",
        "Unusual IP addresses",
        "Addresses new for an actor, outside the corporate networks, or shared by many actors.",
    ),
    (
        "analyst-case-actions",
        "Per-analyst case actions",
        "What each security analyst did with cases and forensic searches, and bursts against their own and their peers' usual weeks.",
    ),
    (
        "training-needs",
        "Training needs",
        "Changes undone by their own author soon after: a sign of inadvertent changes.",
    ),
    (
        "file-access",
        "File access",
        "Downloads, ZIP files and restores: who, and how much.",
    ),
    (
        "after-hours-admin",
        "After-hours administration",
        "Administrative changes outside business hours or on weekends.",
    ),
    (
        "coverage-gaps",
        "Coverage gaps",
        "Days without events and time no export covered.",
    ),
];

/// Assemble the report for a period.
pub fn build(store: &Store, req: &ReportRequest<'_>) -> Result<Report> {
    let len = req.to_ns - req.from_ns;
    let (prev_from, prev_to) = (req.from_ns - len, req.from_ns);
    let period_filter = Filter {
        from_ns: Some(req.from_ns),
        to_ns: Some(req.to_ns),
        ..Filter::default()
    };
    let prev_filter = Filter {
        from_ns: Some(prev_from),
        to_ns: Some(prev_to),
        ..Filter::default()
    };
    // The two weeks' counts beside the analyses: one grouped scan each, done while the analyses'
    // memory-heavy tail leaves a core to spare (bench/NOTES.md). Its time on a terminal includes
    // waiting for polars' pool, which the analyses' queries keep busy.
    let ((counts, counts_s), (run, run_s)) = rayon::join(
        || {
            timed(|| -> Result<_> {
                Ok((
                    stats::compute(store, &period_filter, Period::Day)?,
                    stats::compute(store, &prev_filter, Period::Day)?,
                ))
            })
        },
        || {
            timed(|| {
                analyses::run_period(
                    store,
                    req.config,
                    Some(req.from_ns),
                    Some(req.to_ns),
                    analyses::REGISTRY,
                )
            })
        },
    );
    let (current, previous) = counts?;
    let mut steps: Vec<Step> = run
        .timings
        .iter()
        .map(|t| Step {
            what: format!("{} ({} findings)", t.name, t.findings),
            seconds: t.seconds,
        })
        .collect();
    steps.push(Step {
        what: "all analyses, side by side".into(),
        seconds: run_s,
    });
    steps.push(Step {
        what: "event counts of the period and the one before (beside the analyses)".into(),
        seconds: counts_s,
    });
    let mut by_sev: BTreeMap<Severity, u64> = [
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ]
    .into_iter()
    .map(|s| (s, 0))
    .collect();
    let mut by_analysis: BTreeMap<String, u64> = BTreeMap::new();
    for f in &run.findings {
        *by_sev.entry(f.severity).or_default() += 1;
        *by_analysis.entry(f.analysis.to_owned()).or_default() += 1;
    }

    let coverage = coverage(store, req, &current, &previous)?;
    let provenance = provenance(store, req)?;
    let ((saved, saved_s), (appendix, appendix_s)) = rayon::join(
        || {
            timed(|| {
                if req.save_findings {
                    analyses::save_findings(store, &run.findings).map(drop)
                } else {
                    Ok(())
                }
            })
        },
        || timed(|| appendix(store, &run.findings, (req.from_ns, req.to_ns))),
    );
    saved?;
    let appendix = appendix?;
    if req.save_findings {
        steps.push(Step {
            what: "findings.parquet".into(),
            seconds: saved_s,
        });
    }
    steps.push(Step {
        what: format!(
            "appendix: {} cited event(s) (beside findings.parquet)",
            appendix.len()
        ),
        seconds: appendix_s,
    });
    let case_actions = tables::case_actions(&run)?;
    let file_access = tables::file_access(&run)?;
    Ok(Report {
        title: format!("Code42 Audit Log compliance report, {}", req.label),
        generated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        period: PeriodInfo {
            label: req.label.clone(),
            from: format_timestamp(req.from_ns),
            to: format_timestamp(req.to_ns),
            previous_from: format_timestamp(prev_from),
            previous_to: format_timestamp(prev_to),
        },
        provenance,
        coverage,
        findings_by_severity: by_sev,
        findings_by_analysis: by_analysis,
        findings: run.findings,
        case_actions,
        file_access,
        appendix,
        analysis_failures: run
            .failures
            .into_iter()
            .map(|(a, e)| (a.to_owned(), e))
            .collect(),
        max_listed: req.max_listed,
        listed_appendix: OnceLock::new(),
        steps,
    })
}

fn coverage(
    store: &Store,
    req: &ReportRequest<'_>,
    cur: &stats::Stats,
    prev: &stats::Stats,
) -> Result<Coverage> {
    let total = |s: &stats::Stats, c: &str| {
        s.periods
            .iter()
            .map(|p| p.by_category.get(c).copied().unwrap_or(0))
            .sum::<u64>()
    };
    let mut categories: Vec<String> = cur.categories.clone();
    for c in &prev.categories {
        if !categories.contains(c) {
            categories.push(c.clone());
        }
    }
    let by_category = categories
        .iter()
        .map(|c| {
            let (now, before) = (total(cur, c), total(prev, c));
            CategoryChange {
                category: c.clone(),
                events: now,
                previous: before,
                change: now as i64 - before as i64,
                change_pct: (before > 0).then(|| {
                    ((now as f64 - before as f64) / before as f64 * 1000.0).round() / 10.0
                }),
            }
        })
        .collect();
    // Every day of the period, including days without events (they are the gaps).
    let mut per_day = Vec::new();
    let mut day = req.from_ns.div_euclid(NANOS_PER_DAY);
    while day * NANOS_PER_DAY < req.to_ns {
        let label = date_of(day * NANOS_PER_DAY).to_string();
        let found = cur.periods.iter().find(|p| p.period == label).cloned();
        per_day.push(found.unwrap_or_else(|| stats::PeriodCounts {
            period: label.clone(),
            start: label,
            total: 0,
            by_category: cur.categories.iter().map(|c| (c.clone(), 0)).collect(),
        }));
        day += 1;
    }
    let files_ingested = sources_in_period(store, req).len() as u64;
    Ok(Coverage {
        events: cur.total_events,
        previous_events: prev.total_events,
        first_event: cur.first_event.clone(),
        last_event: cur.last_event.clone(),
        files_ingested,
        empty_days: cur.empty_days.clone(),
        uncovered: cur.uncovered.clone(),
        unknown_event_types: cur.unknown_event_types.clone(),
        by_category,
        per_day,
    })
}

/// Sources with events in the period: their stored parts fall in it, or their time range overlaps it.
fn sources_in_period<'a>(
    store: &'a Store,
    req: &ReportRequest<'_>,
) -> Vec<(&'a crate::store::SourceFile, u64)> {
    let m = store.manifest();
    m.sources
        .iter()
        .filter_map(|s| {
            let stored: u64 = m
                .parts
                .iter()
                .filter(|p| p.source_sha256 == s.sha256 && p.max_ns >= req.from_ns && p.min_ns < req.to_ns)
                .map(|p| p.rows)
                .sum();
            let overlaps = matches!((s.first_event_ns, s.last_event_ns), (Some(a), Some(b)) if b >= req.from_ns && a < req.to_ns);
            (stored > 0 || overlaps).then_some((s, stored))
        })
        .collect()
}

fn provenance(store: &Store, req: &ReportRequest<'_>) -> Result<Provenance> {
    let config_bytes = match req.config_path {
        Some(p) => std::fs::read(p).map_err(|e| Error::io(p, e))?,
        None => crate::config::EXAMPLE.as_bytes().to_vec(),
    };
    let sha = Sha256::digest(&config_bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let sources = sources_in_period(store, req)
        .into_iter()
        .map(|(s, n)| SourceRow {
            path: s.path.clone(),
            sha256: s.sha256.clone(),
            format: s.format.clone(),
            bytes: s.bytes,
            rows_read: s.rows_read,
            stored: s.stored,
            duplicates: s.duplicates,
            quarantined: s.quarantined,
            ingested_at: s.ingested_at.clone(),
            first_event: s.first_event_ns.map(format_timestamp),
            last_event: s.last_event_ns.map(format_timestamp),
            events_in_period: n,
        })
        .collect();
    Ok(Provenance {
        store: store.root().display().to_string(),
        auditlens_version: env!("CARGO_PKG_VERSION").to_owned(),
        command: req.command.clone(),
        config_file: req.config_path.map(|p| p.display().to_string()),
        config_sha256: sha,
        config: req.config.clone(),
        sources,
    })
}

/// Every event id cited by a finding, with what it was.
///
/// A week of a large store cites hundreds of thousands of events. Most evidence lies in the period,
/// so it is searched first and the rest of the store only for what was not found there.
fn appendix(store: &Store, findings: &[Finding], period: (i64, i64)) -> Result<Vec<CitedEvent>> {
    // Sized for every citation up front: half a million ids for a week of a large store, and a
    // set grown one doubling at a time is rehashed and faulted in afresh at each.
    let cited: usize = findings.iter().map(|f| f.event_ids.len()).sum();
    let mut ids: PlHashSet<EventId> =
        PlHashSet::with_capacity_and_hasher(cited, Default::default());
    ids.extend(findings.iter().flat_map(|f| f.event_ids.iter().copied()));
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // Shared with each lookup's filter, which is dropped when its scan ends: taking found ids
    // out afterwards (`Arc::make_mut`) then changes the set in place rather than a copy.
    let mut ids = Arc::new(ids);
    // One lookup: the events of `range` that `missing` still holds, their ids parsed once, row for
    // row, and taken out of `missing`. (Half a million found ids taken out of a set of their
    // strings one by one took a quarter of a second on one thread, an anti-join of the two string
    // columns 0.11 s; taking the parsed ids out of the set of 16-byte ids takes a few hundredths.)
    let lookup = |range: (i64, i64), missing: &mut Arc<PlHashSet<EventId>>| -> Result<_> {
        let found = analyses::events_with_ids(
            store,
            Some(range),
            Arc::clone(missing),
            &[
                cols::EVENT_ID,
                cols::TIMESTAMP_NS,
                cols::EVENT_LABEL,
                cols::ACTOR_NAME,
                cols::SOURCE_FILE,
                cols::SOURCE_LINE,
            ],
        )?;
        let found_ids = event_ids(&found, store.root())?;
        let missing = Arc::make_mut(missing);
        for id in found_ids.iter().flatten() {
            missing.remove(id);
        }
        Ok((found, found_ids))
    };
    let (mut df, mut id) = lookup(period, &mut ids)?;
    // The rest lie before the period (baselines, access windows or shared-address stretches
    // opened earlier) or after it (a coverage gap cites the first event after its end), almost
    // always close to it: search outward from the period in spans doubling from one day,
    // rather than reading the event ids of the whole store around it.
    let parts = &store.manifest().parts;
    let first = parts.iter().map(|p| p.min_ns).min().unwrap_or(i64::MAX);
    let last = parts.iter().map(|p| p.max_ns).max().unwrap_or(i64::MIN);
    let (mut before, mut after, mut span) = (period.0, period.1, NANOS_PER_DAY);
    while !ids.is_empty() && (before > first || after <= last) {
        let earlier = (before.saturating_sub(span), before);
        let later = (after, after.saturating_add(span));
        for (range, any) in [(earlier, before > first), (later, after <= last)] {
            if any && !ids.is_empty() {
                let (found, found_ids) = lookup(range, &mut ids)?;
                id.extend(found_ids);
                df.vstack_mut_owned(found)?;
            }
        }
        (before, after, span) = (earlier.0, later.1, span.saturating_mul(2));
    }
    // Columns as plain vectors (iterated once: `get(i)` would locate the row's chunk, of the many
    // the streaming scans return, for every row). Labels, actors and files are numbered
    // ([`number_strings`]) and each shared by all its events.
    let ts = opt_i64s(&df, cols::TIMESTAMP_NS)?;
    let shared = |name: &str| -> Result<(Vec<Arc<str>>, Vec<u32>)> {
        let (names, rows) = number_strings(df.column(name)?.str()?)
            .ok_or_else(|| Error::store(store.root(), "more than 4 billion distinct values"))?;
        Ok((names.into_iter().map(Arc::from).collect(), rows))
    };
    let of =
        |(names, rows): &(Vec<Arc<str>>, Vec<u32>), i: usize| names.get(rows[i] as usize).cloned();
    let (label, actor, file) = (
        shared(cols::EVENT_LABEL)?,
        shared(cols::ACTOR_NAME)?,
        shared(cols::SOURCE_FILE)?,
    );
    // The rows by time, then id (the ids' order is their hex digits' order).
    let mut order: Vec<usize> = (0..df.height()).collect();
    order.par_sort_by_key(|&i| (ts[i], id[i]));
    let empty: Arc<str> = Arc::from("");
    let line: Vec<Option<u64>> = df.column(cols::SOURCE_LINE)?.u64()?.iter().collect();
    Ok((0..order.len())
        .filter_map(|k| {
            let i = order[k];
            let event_id = id[i]?;
            // In order of time and id, so an event found twice is on adjacent rows.
            if k > 0 && id[order[k - 1]] == Some(event_id) {
                return None;
            }
            Some(CitedEvent {
                event_id,
                timestamp_ns: ts[i],
                event_type: of(&label, i).unwrap_or_else(|| empty.clone()),
                actor: of(&actor, i),
                source_file: of(&file, i).unwrap_or_else(|| empty.clone()),
                source_line: line[i].unwrap_or_default(),
            })
        })
        .collect())
}

/// The findings of one analysis.
pub fn findings_of<'a>(r: &'a Report, analysis: &'a str) -> impl Iterator<Item = &'a Finding> + 'a {
    r.findings.iter().filter(move |f| f.analysis == analysis)
}

/// A chart of the report with the file stem it is saved under.
pub struct NamedChart {
    pub slug: &'static str,
    pub chart: charts::BarChart,
}

/// The report's charts, from the report's own figures.
pub fn chart_specs(r: &Report) -> Vec<NamedChart> {
    let days: Vec<String> = r
        .coverage
        .per_day
        .iter()
        .map(|d| d.period.get(5..).unwrap_or(&d.period).to_owned())
        .collect();
    let per_day = charts::BarChart {
        title: format!("Events per day by category, {}", r.period.label),
        x_desc: "day (UTC)".into(),
        y_desc: "events".into(),
        x_labels: days.clone(),
        series: r
            .coverage
            .by_category
            .iter()
            .filter(|c| c.events > 0)
            .map(|c| {
                let v = r
                    .coverage
                    .per_day
                    .iter()
                    .map(|d| d.by_category.get(&c.category).copied().unwrap_or(0) as f64)
                    .collect();
                (c.category.clone(), v)
            })
            .collect(),
    };
    let findings_per_day = |analysis: &str, title: String, y: &str| {
        let mut series = Vec::new();
        for sev in [
            Severity::High,
            Severity::Medium,
            Severity::Low,
            Severity::Info,
        ] {
            let v: Vec<f64> = r
                .coverage
                .per_day
                .iter()
                .map(|d| {
                    findings_of(r, analysis)
                        .filter(|f| {
                            f.severity == sev && date_of(f.last_seen_ns).to_string() == d.period
                        })
                        .count() as f64
                })
                .collect();
            if v.iter().any(|x| *x > 0.0) {
                series.push((sev.as_str().to_owned(), v));
            }
        }
        charts::BarChart {
            title,
            x_desc: "day (UTC)".into(),
            y_desc: y.into(),
            x_labels: days.clone(),
            series,
        }
    };
    let mut out = vec![NamedChart {
        slug: "events-per-day",
        chart: per_day,
    }];
    if let Some(c) = tables::case_actions_chart(&r.case_actions) {
        out.push(NamedChart {
            slug: "case-actions",
            chart: c,
        });
    }
    out.push(NamedChart {
        slug: "privilege-changes",
        chart: findings_per_day(
            "privilege-changes",
            "Privilege changes per day, by severity".into(),
            "changes",
        ),
    });
    out.push(NamedChart {
        slug: "unusual-ips",
        chart: findings_per_day(
            "unusual-ips",
            "New or outside IP addresses per day, by severity".into(),
            "findings",
        ),
    });
    out
}

/// Output formats of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Html,
    Md,
    Json,
}

/// Write the report into `dir` in each format; returns the files written, and how long each
/// format took.
pub fn write_all(
    r: &Report,
    dir: &Path,
    formats: &[ReportFormat],
) -> Result<(Vec<std::path::PathBuf>, Vec<Step>)> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    // Each format once (`--format json,json` would write one file twice at the same time); the
    // files are listed in the order asked for.
    let mut asked: Vec<ReportFormat> = Vec::with_capacity(formats.len());
    for f in formats {
        if !asked.contains(f) {
            asked.push(*f);
        }
    }
    // Each format is rendered and written on its own (they share no file), side by side, and
    // report.json first: it takes longest, and with it last rayon's split left it waiting for
    // one of the others to finish (bench/NOTES.md). Its items are serialised side by side, so a
    // thread done with the others joins in.
    let mut order: Vec<usize> = (0..asked.len()).collect();
    order.sort_by_key(|&i| asked[i] != ReportFormat::Json);
    let mut written = order
        .par_iter()
        .map(|&i| {
            let f = asked[i];
            let (files, seconds) = timed(|| write_one(r, dir, f));
            let step = Step {
                what: format!("{f:?} written (beside the other formats)").to_lowercase(),
                seconds,
            };
            files.map(|files| (i, files, step))
        })
        .collect::<Result<Vec<_>>>()?;
    written.sort_by_key(|(i, _, _)| *i);
    let (files, steps): (Vec<_>, Vec<_>) = written
        .into_iter()
        .map(|(_, files, step)| (files, step))
        .unzip();
    Ok((files.into_iter().flatten().collect(), steps))
}

/// Render and write one format.
fn write_one(r: &Report, dir: &Path, format: ReportFormat) -> Result<Vec<std::path::PathBuf>> {
    match format {
        ReportFormat::Html => {
            let p = dir.join("report.html");
            std::fs::write(&p, html::render(r)?).map_err(|e| Error::io(&p, e))?;
            Ok(vec![p])
        }
        ReportFormat::Md => {
            let mut written = markdown::write(r, dir)?;
            written.push(dir.join("report.md"));
            Ok(written)
        }
        ReportFormat::Json => {
            // Streamed: a large week's report.json is well over 100 MB.
            let p = dir.join("report.json");
            let file = std::fs::File::create(&p).map_err(|e| Error::io(&p, e))?;
            let mut out = std::io::BufWriter::new(file);
            write_json(r, &mut out).map_err(|e| Error::io(&p, e))?;
            out.flush().map_err(|e| Error::io(&p, e))?;
            Ok(vec![p])
        }
    }
}

/// The default period: the ISO week of the newest stored event.
pub fn default_week(store: &Store) -> Option<String> {
    let last = store.manifest().parts.iter().map(|p| p.max_ns).max()?;
    Some(crate::filter::iso_week_label(date_of(last)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The appendix as `report.json` writes it, by [`CitedEvent::write_pretty`], is byte for byte
    /// what serde writes from [`CitedEvent`]'s `Serialize`: names with quotes, backslashes,
    /// control characters and non-ASCII text, no actor, no time, instants with 0 to 9 fractional
    /// digits, and lines of any length.
    #[test]
    fn cited_events_write_themselves_as_serde_writes_them() {
        let names: Vec<Arc<str>> = [
            "",
            "Console login",
            "a \"quoted\" \\ name",
            "tab\tnew\nline\r\u{1}\u{1f}\u{7f}",
            "zoë@example.com ✓ 𝄞",
            "</script><b>",
        ]
        .into_iter()
        .map(Arc::from)
        .collect();
        let instants = [
            None,
            Some(0),
            Some(1_776_000_000_123_000_000),
            Some(1_776_000_000_123_456_000),
            Some(1_776_000_000_123_456_789),
            Some(-1),
        ];
        let events: Vec<CitedEvent> = (0..200u64)
            .map(|i| {
                let k = i as usize;
                CitedEvent {
                    event_id: EventId(
                        u128::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835),
                    ),
                    timestamp_ns: instants[k % instants.len()],
                    event_type: names[k % names.len()].clone(),
                    actor: (!k.is_multiple_of(7)).then(|| names[(k / 2) % names.len()].clone()),
                    source_file: names[(k / 3) % names.len()].clone(),
                    source_line: [0, 1, 9, 10, 1_000_000, u64::MAX - 1000][k % 6] + i,
                }
            })
            .collect();
        for depth in [0, 1, 3] {
            let (mut got, mut want) = (Vec::new(), Vec::new());
            json::write_pretty_array_by(&mut got, &events, depth, CitedEvent::write_pretty)
                .unwrap();
            json::write_pretty_array(&mut want, &events, depth, |e| e).unwrap();
            assert_eq!(
                String::from_utf8(got).unwrap(),
                String::from_utf8(want).unwrap()
            );
        }
    }
}
