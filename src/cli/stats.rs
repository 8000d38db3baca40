/*! `auditlens stats`: coverage of the store, per period and category. */

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::error::{Error, Result};
use crate::output::{
    Destination, OutputFormat, WriteOptions, terminal_safe, terminal_width, write_frame, write_text,
};
use crate::stats::{Period, compute, periods_frame};
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: super::StoreArg,
    #[command(flatten)]
    filter: super::filter_args::FilterArgs,
    /// Period of the counts table.
    #[arg(long, value_enum, default_value_t = Period::Week)]
    by: Period,
    /// table and json show everything; csv, jsonl and parquet give the counts table.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
    /// Write to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let store = Store::open(&args.store.store)?;
    let dest = Destination::new(args.out.as_deref(), Some(store.root()))?;
    let filter = args.filter.resolve(&store)?;
    let s = compute(&store, &filter, args.by)?;
    match args.format {
        OutputFormat::Json => {
            let mut out = dest.open()?;
            serde_json::to_writer_pretty(&mut out, &s).map_err(|e| Error::Output(e.into()))?;
            writeln!(out).map_err(Error::Output)?;
            out.flush().map_err(Error::Output)?;
        }
        OutputFormat::Table => {
            let mut out = dest.open()?;
            let w =
                |out: &mut dyn Write, text: String| writeln!(out, "{text}").map_err(Error::Output);
            w(
                &mut out,
                format!(
                    "{} events from {} source file(s); first {}, last {}",
                    s.total_events,
                    s.sources,
                    s.first_event.as_deref().unwrap_or("-"),
                    s.last_event.as_deref().unwrap_or("-")
                ),
            )?;
            w(&mut out, String::new())?;
            let opts = WriteOptions {
                max_width: terminal_width(),
                ..WriteOptions::default()
            };
            write_text(&periods_frame(&s)?, OutputFormat::Table, &mut out, &opts)
                .map_err(Error::Output)?;
            w(&mut out, String::new())?;
            if s.empty_days.is_empty() {
                w(
                    &mut out,
                    "Coverage gaps: none (every day between the first and last event has events)"
                        .into(),
                )?;
            } else {
                w(
                    &mut out,
                    format!(
                        "Coverage gaps: {} stretch(es) of days without any event",
                        s.empty_days.len()
                    ),
                )?;
                for g in &s.empty_days {
                    w(
                        &mut out,
                        format!("  {} .. {}  ({} day(s))", g.from, g.to, g.days),
                    )?;
                }
            }
            if !s.uncovered.is_empty() {
                w(
                    &mut out,
                    "Time no ingested export covers (a missed export?):".into(),
                )?;
                for g in &s.uncovered {
                    w(
                        &mut out,
                        format!("  {} .. {}  ({} h)", g.from, g.to, g.hours),
                    )?;
                }
            }
            if !s.unknown_event_types.is_empty() {
                w(
                    &mut out,
                    "Event types the catalog does not know (kept under \"Other\"):".into(),
                )?;
                for t in &s.unknown_event_types {
                    w(
                        &mut out,
                        format!("  {:>8}  {}", t.count, terminal_safe(&t.event_type)),
                    )?;
                }
            }
            out.flush().map_err(Error::Output)?;
        }
        other => write_frame(&periods_frame(&s)?, other, &dest, &WriteOptions::default())?,
    }
    Ok(ExitCode::SUCCESS)
}
