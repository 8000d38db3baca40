/*! `auditlens query`: filter the store as the console does and print or export the events. */

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use polars::prelude::*;

use crate::error::Result;
use crate::model::schema::cols;
use crate::output::{Destination, OutputFormat, WriteOptions, events, terminal_width, write_frame};
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: super::StoreArg,
    #[command(flatten)]
    filter: super::filter_args::FilterArgs,
    /// Output format. CSV has the console's columns and is safe to open in a spreadsheet.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
    /// Write to this file instead of standard output (required for parquet).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// At most this many events.
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// Newest events first (default: oldest first).
    #[arg(long)]
    newest_first: bool,
    /// CSV: write cells exactly as stored. By default a cell starting with = + - @ tab or CR gets
    /// a leading ' so that spreadsheets do not run it as a formula.
    #[arg(long)]
    raw: bool,
    /// Print only the number of matching events (what the console shows above its results).
    #[arg(long, conflicts_with_all = ["format", "out", "limit", "newest_first", "raw"])]
    count: bool,
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let store = Store::open(&args.store.store)?;
    let dest = Destination::new(args.out.as_deref(), Some(store.root()))?;
    let filter = args.filter.resolve(&store)?;
    if args.count {
        // Without an address filter polars counts as it scans (partitions and row groups outside
        // the range skipped, no column kept); address filters match in Rust, on loaded rows.
        let n = if filter.ips.is_empty() {
            let counted = filter
                .scan(&store)?
                .select([len().cast(DataType::UInt64).alias("n")])
                .collect_with_engine(Engine::Streaming)?
                .unwrap_single();
            let n = counted.column("n")?.u64()?.get(0).unwrap_or(0);
            usize::try_from(n).unwrap_or(usize::MAX)
        } else {
            filter.load(&store, Some(&[cols::TIMESTAMP_NS]))?.height()
        };
        let mut out = std::io::stdout().lock();
        writeln!(out, "{n}")
            .and_then(|()| out.flush())
            .map_err(crate::error::Error::Output)?;
        return Ok(ExitCode::SUCCESS);
    }
    let sort = SortMultipleOptions::default().with_order_descending(args.newest_first);
    // Only the columns the output format shows are read.
    let wanted = events::columns_for(args.format);
    let df = if filter.ips.is_empty() {
        // Everything pushes down: the sort with a limit becomes a top-k.
        let mut lf = filter.scan(&store)?;
        if let Some(names) = wanted {
            lf = lf.select(names.iter().map(|n| col(*n)).collect::<Vec<_>>());
        }
        match args.limit {
            Some(n) => lf
                .sort([cols::TIMESTAMP_NS, cols::EVENT_ID], sort)
                .limit(n as IdxSize)
                .collect()?,
            None => events::in_time_order(lf.collect()?, args.newest_first)?,
        }
    } else {
        let df = events::in_time_order(filter.load(&store, wanted)?, args.newest_first)?;
        match args.limit {
            Some(n) => df.slice(0, n),
            None => df,
        }
    };
    let (shaped, headers, json_cols) = events::shape(&df, args.format)?;
    let opts = WriteOptions {
        raw: args.raw,
        json_columns: &json_cols,
        headers: Some(&headers),
        max_width: if dest.is_stdout() {
            terminal_width()
        } else {
            None
        },
    };
    write_frame(&shaped, args.format, &dest, &opts)?;
    if args.format == OutputFormat::Table && dest.is_stdout() {
        eprintln!("{} event(s)", df.height());
    }
    Ok(ExitCode::SUCCESS)
}
