/*!
The demo (`auditlens demo`): a realistic sample as an auditor would have it, ingested and
reported, in one directory (default `notebooks-data/demo`):

```text
DIR/.auditlens-demo            marks the directory as the demo's (a re-run replaces what it wrote)
DIR/exports/AuditLog_2026-W14.csv ... W17.csv
                               weekly console exports, each from the Sunday before its week, so
                               consecutive exports overlap by a day (ingest stores those once)
DIR/exports/api-audit-log_2026-W15.jsonl.gz
                               an API export (JSON Lines, newest first, gzip) of a week the console
                               exports also cover: every one of its rows is a duplicate
DIR/auditlens.toml             the organisation's allowlist (its offices and VPN egress)
DIR/store/                     the store the exports were ingested into
DIR/report/                    the weekly report of the last complete week (HTML, Markdown, JSON)
DIR/planted-cases.json         the answer key: the planted cases the report must show
```

The data are 40,000 generated events from Monday 2026-03-30 to Thursday 2026-04-23 (the exports
of an auditor writing last week's report on a Friday) with the planted cases of
[`crate::generate::plant`] in 2026-W16, the last complete week. Everything is deterministic.

A directory that exists, is not empty and is not the demo's is never written into: the demo
refuses instead of mixing its files with someone else's.
*/

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{Datelike, Days, NaiveDate};

use crate::analyses::Severity;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::filter::{iso_week_label, parse_iso_week};
use crate::generate::plant::PlantedCase;
use crate::generate::{CORPORATE_NETWORKS, GenFormat, GenOptions, generate};
use crate::ingest::{IngestOptions, IngestReport, expand_inputs, ingest};
use crate::report::{ReportFormat, ReportRequest, build, write_all};
use crate::store::Store;

/// Where the demo goes unless told otherwise.
pub const DEFAULT_DIR: &str = "notebooks-data/demo";

/// The file that marks a directory as the demo's.
const MARKER: &str = ".auditlens-demo";

/// What the demo writes into its directory (and removes again before a re-run).
const OUTPUTS: &[&str] = &[
    "exports",
    "store",
    "report",
    "auditlens.toml",
    "planted-cases.json",
];

const EVENTS: u64 = 40_000;
const SEED: u64 = 42;
/// Monday of the first week, and the number of days up to and including Thursday of the fourth.
const START: (i32, u32, u32) = (2026, 3, 30);
const DAYS: u32 = 25;
/// The week of the API export (a week the console exports also cover).
const API_WEEK: usize = 1;

/// One export the demo wrote.
#[derive(Debug, Clone)]
pub struct Export {
    pub path: PathBuf,
    pub events: u64,
    /// First and last day it covers.
    pub first: NaiveDate,
    pub last: NaiveDate,
}

/// What the demo did.
#[derive(Debug)]
pub struct Demo {
    /// The demo directory, absolute.
    pub dir: PathBuf,
    pub events: u64,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub exports: Vec<Export>,
    pub config: PathBuf,
    pub store: PathBuf,
    pub ingest: IngestReport,
    /// The week reported on (`2026-W16`).
    pub week: String,
    pub report_dir: PathBuf,
    pub report_files: Vec<PathBuf>,
    pub findings_by_severity: BTreeMap<Severity, u64>,
    pub planted: Vec<PlantedCase>,
    pub planted_file: PathBuf,
}

/// Build the demo in `dir`.
pub fn run(dir: &Path) -> Result<Demo> {
    prepare(dir)?;
    let dir = std::fs::canonicalize(dir).map_err(|e| Error::io(dir, e))?;
    let start = NaiveDate::from_ymd_opt(START.0, START.1, START.2)
        .ok_or_else(|| Error::Usage("the demo's start date is invalid".into()))?;
    let end = day(start, DAYS);
    let base = GenOptions {
        seed: SEED,
        start,
        days: DAYS,
        plant: true,
        ..GenOptions::new(EVENTS, GenFormat::ConsoleCsv)
    };
    base.validate().map_err(Error::Usage)?;

    let exports_dir = dir.join("exports");
    std::fs::create_dir_all(&exports_dir).map_err(|e| Error::io(&exports_dir, e))?;
    let mut exports = Vec::new();
    let mondays: Vec<NaiveDate> = (0..DAYS.div_ceil(7)).map(|w| day(start, w * 7)).collect();
    for &monday in &mondays {
        // The console export of a week, from the Sunday before it.
        let first = monday.pred_opt().unwrap_or(monday).max(start);
        let until = day(monday, 7).min(end);
        let name = format!("AuditLog_{}.csv", iso_week_label(monday));
        exports.push(write_export(
            &exports_dir.join(name),
            &GenOptions {
                window: Some((first, until)),
                ..base.clone()
            },
            false,
        )?);
    }
    let api_week = mondays.get(API_WEEK).copied().unwrap_or(start);
    let name = format!("api-audit-log_{}.jsonl.gz", iso_week_label(api_week));
    exports.push(write_export(
        &exports_dir.join(name),
        &GenOptions {
            format: GenFormat::JsonLines,
            newest_first: GenFormat::JsonLines.default_newest_first(),
            window: Some((api_week, day(api_week, 7))),
            ..base.clone()
        },
        true,
    )?);

    // The answer key: the plant of the whole data set.
    let planted = generate(&base, &mut std::io::sink())
        .map_err(|e| Error::io(&dir, e))?
        .planted;
    let planted_file = dir.join("planted-cases.json");
    let text = serde_json::to_vec_pretty(&planted)
        .map_err(|e| Error::io(&planted_file, std::io::Error::other(e)))?;
    std::fs::write(&planted_file, text).map_err(|e| Error::io(&planted_file, e))?;

    let config_path = dir.join("auditlens.toml");
    write_config(&config_path)?;
    let config = Config::load(Some(&config_path))?;

    let store_dir = dir.join("store");
    let inputs = expand_inputs(&[exports_dir.display().to_string()]);
    let ingested = ingest(&store_dir, &inputs, &IngestOptions::default())?;
    if ingested.failed_files > 0 {
        return Err(Error::store(
            &store_dir,
            format!("{} demo export(s) failed to ingest", ingested.failed_files),
        ));
    }

    // The report of the last complete week.
    let week = iso_week_label(last_complete_monday(start, end));
    let (from_ns, to_ns) = parse_iso_week(&week)?;
    let store = Store::open(&store_dir)?;
    let req = ReportRequest {
        label: week.clone(),
        from_ns,
        to_ns,
        config: &config,
        config_path: Some(&config_path),
        command: format!(
            "auditlens report --store {} --week {week} --config {}",
            store_dir.display(),
            config_path.display()
        ),
        max_listed: Some(crate::report::DEFAULT_MAX_LISTED),
        save_findings: true,
    };
    let report = build(&store, &req)?;
    let report_dir = dir.join("report");
    let (report_files, _) = write_all(
        &report,
        &report_dir,
        &[ReportFormat::Html, ReportFormat::Md, ReportFormat::Json],
    )?;

    Ok(Demo {
        dir,
        events: EVENTS,
        first_day: start,
        last_day: end.pred_opt().unwrap_or(end),
        exports,
        config: config_path,
        store: store_dir,
        ingest: ingested,
        week,
        report_dir,
        report_files,
        findings_by_severity: report.findings_by_severity.clone(),
        planted,
        planted_file,
    })
}

/// `d` plus `n` days.
fn day(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_add_days(Days::new(u64::from(n))).unwrap_or(d)
}

/// The Monday of the last ISO week that lies wholly in `[start, end)`: the week before the one
/// `end` falls in (when `end` is a Monday, the week before it is complete too).
fn last_complete_monday(start: NaiveDate, end: NaiveDate) -> NaiveDate {
    let back = u64::from(end.weekday().num_days_from_monday()) + 7;
    end.checked_sub_days(Days::new(back))
        .unwrap_or(start)
        .max(start)
}

/// Make `dir` ready: create it, or clear the previous demo's outputs from it; refuse a directory
/// that holds anything else.
fn prepare(dir: &Path) -> Result<()> {
    if dir.exists() {
        if !dir.is_dir() {
            return Err(Error::Usage(format!(
                "{} exists and is not a directory; choose another --out",
                dir.display()
            )));
        }
        let marked = dir.join(MARKER).is_file();
        let empty = std::fs::read_dir(dir)
            .map_err(|e| Error::io(dir, e))?
            .next()
            .is_none();
        if !marked && !empty {
            return Err(Error::Usage(format!(
                "{} exists and is not an auditlens demo directory (it has no {MARKER}); the \
                 demo writes only into a new or empty directory or its own: choose another --out",
                dir.display()
            )));
        }
        for name in OUTPUTS {
            let p = dir.join(name);
            let gone = if p.is_dir() {
                std::fs::remove_dir_all(&p)
            } else if p.exists() {
                std::fs::remove_file(&p)
            } else {
                Ok(())
            };
            gone.map_err(|e| Error::io(&p, e))?;
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let marker = dir.join(MARKER);
    std::fs::write(
        &marker,
        "This directory was written by `auditlens demo`; running it again replaces its files.\n",
    )
    .map_err(|e| Error::io(&marker, e))
}

/// Write one export (gzip-compressed when `gz`).
fn write_export(path: &Path, opts: &GenOptions, gz: bool) -> Result<Export> {
    let io_err = |e| Error::io(path, e);
    let file = File::create(path).map_err(io_err)?;
    let summary = if gz {
        let mut enc =
            flate2::write::GzEncoder::new(BufWriter::new(file), flate2::Compression::default());
        let s = generate(opts, &mut enc).map_err(io_err)?;
        enc.finish().map_err(io_err)?.flush().map_err(io_err)?;
        s
    } else {
        let mut w = BufWriter::new(file);
        let s = generate(opts, &mut w).map_err(io_err)?;
        w.flush().map_err(io_err)?;
        s
    };
    let (first, until) = opts
        .window
        .unwrap_or((opts.start, day(opts.start, opts.days)));
    Ok(Export {
        path: path.to_path_buf(),
        events: summary.events,
        first,
        last: until.pred_opt().unwrap_or(until),
    })
}

/// The demo organisation's configuration: its networks; everything else at the defaults.
fn write_config(path: &Path) -> Result<()> {
    let nets: Vec<String> = CORPORATE_NETWORKS
        .iter()
        .map(|n| format!("{n:?}"))
        .collect();
    let text = format!(
        "# auditlens configuration of the demo organisation. Every other setting is at its default\n\
         # (`auditlens config --example` prints them all).\n\
         \n\
         # The offices and the VPN egress: addresses outside them are \"outside\".\n\
         allowlist = [{}]\n",
        nets.join(", ")
    );
    std::fs::write(path, text).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_complete_week_ends_before_the_data_does() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let start = d("2026-03-30");
        // Data up to Thursday 2026-04-23: the week of 2026-04-13 is the last complete one.
        assert_eq!(
            last_complete_monday(start, d("2026-04-24")),
            d("2026-04-13")
        );
        // Data up to Sunday 2026-04-26 (end Monday 2026-04-27): that week is complete.
        assert_eq!(
            last_complete_monday(start, d("2026-04-27")),
            d("2026-04-20")
        );
        assert_eq!(
            last_complete_monday(start, d("2026-04-26")),
            d("2026-04-13")
        );
    }

    #[test]
    fn a_foreign_directory_is_refused_and_the_demos_own_is_cleared() {
        let tmp = tempfile::tempdir().unwrap();
        let foreign = tmp.path().join("mine");
        std::fs::create_dir(&foreign).unwrap();
        std::fs::write(foreign.join("notes.txt"), "keep").unwrap();
        let e = prepare(&foreign).unwrap_err().to_string();
        assert!(e.contains("not an auditlens demo directory"), "{e}");
        assert!(foreign.join("notes.txt").exists());

        let own = tmp.path().join("demo");
        prepare(&own).unwrap();
        std::fs::create_dir(own.join("store")).unwrap();
        std::fs::write(own.join("store").join("x"), "old").unwrap();
        std::fs::write(own.join("extra.txt"), "kept").unwrap();
        prepare(&own).unwrap();
        assert!(!own.join("store").exists());
        assert!(own.join("extra.txt").exists());
        assert!(own.join(MARKER).exists());
    }
}
