/*! `auditlens quarantine`: list the records ingest could not parse, with file, line and reason. */

use std::path::PathBuf;
use std::process::ExitCode;

use polars::prelude::*;

use crate::error::Result;
use crate::output::{Destination, OutputFormat, WriteOptions, terminal_width, write_frame};
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: super::StoreArg,
    /// Only records from source files whose path contains this text.
    #[arg(long)]
    file: Option<String>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
    /// Write to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// CSV: write cells exactly as stored (no spreadsheet formula neutralisation).
    #[arg(long)]
    raw: bool,
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let store = Store::open(&args.store.store)?;
    let dest = Destination::new(args.out.as_deref(), Some(store.root()))?;
    let mut lf = store.scan_quarantine()?;
    if let Some(f) = &args.file {
        lf = lf.filter(col("source_file").str().contains_literal(lit(f.as_str())));
    }
    let df = lf
        .select([
            col("source_file"),
            col("line"),
            col("column"),
            col("reason"),
            col("raw"),
        ])
        .sort(["source_file", "line"], SortMultipleOptions::default())
        .collect()?;
    let opts = WriteOptions {
        raw: args.raw,
        max_width: terminal_width(),
        ..WriteOptions::default()
    };
    write_frame(&df, args.format, &dest, &opts)?;
    Ok(ExitCode::SUCCESS)
}
