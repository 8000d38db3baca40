/*! `auditlens ingest`: read exports into the store and account for every row. */

use std::io::Write;
use std::process::ExitCode;

use crate::error::{Error, Result};
use crate::ingest::{IngestOptions, IngestReport, expand_inputs, ingest};
use crate::input::{ColumnMap, ReadOptions};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: super::StoreArg,
    /// Export files, directories (read recursively) or glob patterns.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<String>,
    /// Map a column or key nobody has seen yet to a field, e.g. `--column-map "When=timestamp"`.
    /// Fields: timestamp, event_type, actor_name, actor_id, actor_type, ip, user_agent,
    /// affected_user_name, affected_user_id, details, ignore (or any known header spelling).
    #[arg(long = "column-map", value_name = "OLD=NEW")]
    column_map: Vec<String>,
    /// Print the accounting as JSON.
    #[arg(long)]
    json: bool,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
    /// Wait for another ingest into the same store to finish instead of failing.
    #[arg(long)]
    wait: bool,
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let column_map = ColumnMap::parse(&args.column_map).map_err(Error::Usage)?;
    let inputs = expand_inputs(&args.paths);
    let opts = IngestOptions {
        read: ReadOptions { column_map },
        wait: args.wait,
        progress: !args.quiet && !args.json,
    };
    let report = ingest(&args.store.store, &inputs, &opts)?;
    let mut out = super::stdout();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report).map_err(|e| Error::Output(e.into()))?;
        writeln!(out).map_err(Error::Output)?;
    } else {
        print_text(&mut out, &report).map_err(Error::Output)?;
    }
    super::finish_output(out)?;
    Ok(if report.failed_files > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The accounting as `auditlens ingest` prints it (the demo prints it too).
pub(super) fn print_text(out: &mut impl Write, r: &IngestReport) -> std::io::Result<()> {
    let w = r.files.iter().map(|f| f.path.len()).max().unwrap_or(0);
    for f in &r.files {
        let counts = format!(
            "read {} = stored {} + duplicates {} + quarantined {}",
            f.rows_read, f.stored, f.duplicates, f.quarantined
        );
        if let Some(why) = &f.skipped {
            writeln!(out, "{:<w$}  skipped: {why}", f.path)?;
            continue;
        }
        match (&f.error, f.already_ingested) {
            (Some(e), _) => writeln!(out, "{:<w$}  FAILED: {e}", f.path)?,
            (None, true) => writeln!(
                out,
                "{:<w$}  already ingested (same SHA-256): {counts}",
                f.path
            )?,
            (None, false) => writeln!(
                out,
                "{:<w$}  {:<17} {counts}",
                f.path,
                f.format.as_deref().unwrap_or("")
            )?,
        }
    }
    writeln!(
        out,
        "total: read {} = stored {} + duplicates {} + quarantined {}{}",
        r.rows_read,
        r.stored,
        r.duplicates,
        r.quarantined,
        if r.failed_files > 0 {
            format!("; {} file(s) FAILED", r.failed_files)
        } else {
            String::new()
        }
    )?;
    writeln!(out, "store {} now holds {} events", r.store, r.store_events)?;
    if r.quarantined > 0 {
        writeln!(
            out,
            "quarantined rows (file, line, reason): auditlens quarantine --store {}",
            r.store
        )?;
    }
    Ok(())
}
