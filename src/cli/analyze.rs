/*! `auditlens analyze`, `auditlens analyses`, `auditlens config`: run audit analyses, list them, configure them. */

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::analyses::{self, Finding, Severity, findings_frame, save_findings};
use crate::config::{Config, EXAMPLE};
use crate::error::{Error, Result};
use crate::output::{Destination, OutputFormat, WriteOptions, json, terminal_width, write_frame};
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: super::StoreArg,
    #[command(flatten)]
    time: super::filter_args::TimeArgs,
    /// Only these analyses (see `auditlens analyses`).
    #[arg(long, value_name = "NAME,...")]
    only: Vec<String>,
    /// Thresholds, allowlist, business hours (see `auditlens config --example`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Only findings at or above this severity.
    #[arg(long, value_enum, default_value_t = Severity::Info)]
    min_severity: Severity,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
    /// Write to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Do not save the findings as STORE/findings/findings.parquet.
    #[arg(long)]
    no_save: bool,
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let store = Store::open(&args.store.store)?;
    let dest = Destination::new(args.out.as_deref(), Some(store.root()))?;
    let config = Config::load(args.config.as_deref())?;
    let (from_ns, to_ns) = args.time.period()?;
    let selected = analyses::select(&args.only)?;
    let run = analyses::run_period(&store, &config, from_ns, to_ns, &selected);
    for t in &run.timings {
        super::note(&format!(
            "{}: {} finding(s) in {:.2} s",
            t.name, t.findings, t.seconds
        ));
    }
    for (name, err) in &run.failures {
        eprintln!("auditlens: analysis {name} failed: {err}");
    }
    // Findings are sorted highest severity first: those at or above the minimum are a prefix.
    let shown = run
        .findings
        .partition_point(|f| f.severity >= args.min_severity);
    // Saving and printing are independent, and each takes about a second for a whole 5M store.
    let (saved, written) = rayon::join(
        || {
            if args.no_save {
                Ok(())
            } else {
                save_findings(&store, &run.findings).map(drop)
            }
        },
        || write_findings(&run.findings[..shown], args.format, &dest),
    );
    saved?;
    written?;
    let code = if run.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    super::leave_to_exit(run);
    Ok(code)
}

/// Print findings in `format`.
pub fn write_findings(
    findings: &[Finding],
    format: OutputFormat,
    dest: &Destination,
) -> Result<()> {
    match format {
        OutputFormat::Json | OutputFormat::Jsonl => {
            let mut out = dest.open()?;
            if format == OutputFormat::Json {
                json::write_pretty_array(&mut out, findings, 0, Finding::record)
                    .and_then(|()| writeln!(out))
            } else {
                json::write_lines(&mut out, findings, Finding::record)
            }
            .map_err(Error::Output)?;
            out.flush().map_err(Error::Output)
        }
        OutputFormat::Table => {
            use polars::prelude::*;
            let df = findings_frame(findings)?
                .lazy()
                .select([
                    col("severity"),
                    col("analysis"),
                    col("actor"),
                    col("subject"),
                    col("first_seen"),
                    col("count"),
                    col("summary"),
                ])
                .collect()?;
            let width = if dest.is_stdout() {
                terminal_width()
            } else {
                None
            };
            write_frame(
                &df,
                format,
                dest,
                &WriteOptions {
                    max_width: width,
                    ..WriteOptions::default()
                },
            )
        }
        _ => write_frame(
            &findings_frame(findings)?,
            format,
            dest,
            &WriteOptions::default(),
        ),
    }
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {}

pub fn list(_: &ListArgs) -> Result<ExitCode> {
    let mut out = super::stdout();
    let w = analyses::REGISTRY
        .iter()
        .map(|a| a.name().len())
        .max()
        .unwrap_or(0);
    for a in analyses::REGISTRY {
        writeln!(out, "{:<w$}  {}", a.name(), a.description()).map_err(Error::Output)?;
    }
    super::finish_output(out)?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    /// Print a commented example with every key at its default.
    #[arg(long, conflicts_with = "check")]
    example: bool,
    /// Check a config file and print the effective configuration.
    #[arg(long, value_name = "FILE")]
    check: Option<PathBuf>,
}

pub fn config(args: &ConfigArgs) -> Result<ExitCode> {
    let mut out = super::stdout();
    if let Some(path) = &args.check {
        let c = Config::load(Some(path))?;
        let text = toml::to_string(&c).map_err(|e| Error::Usage(e.to_string()))?;
        write!(out, "{text}").map_err(Error::Output)?;
    } else if args.example {
        write!(out, "{EXAMPLE}").map_err(Error::Output)?;
    } else {
        return Err(Error::Usage(
            "auditlens config: use --example or --check FILE".into(),
        ));
    }
    super::finish_output(out)?;
    Ok(ExitCode::SUCCESS)
}
