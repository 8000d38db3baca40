/*!
The command line: clap definitions, one file per subcommand, and [`run`], which dispatches.
Each subcommand file turns its arguments into a call of the library and prints the result; none of
them holds domain logic.
*/

mod analyze;
mod demo;
mod event_types;
mod filter_args;
mod generate;
mod ingest;
mod quarantine;
mod query;
mod report;
mod show;
mod stats;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::{Error, Result};

/// Code42 Audit Log exports -> deduplicated Parquet store, audit analyses, compliance reports.
#[derive(Debug, Parser)]
#[command(name = "auditlens", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read exports (CSV, JSON, JSON Lines, .gz; files, directories, globs) into the store.
    Ingest(ingest::Args),
    /// Filter events as the console does and print or export them (table, CSV, JSON, Parquet).
    Query(query::Args),
    /// Show every field of one event (a unique prefix of its id is enough).
    Show(show::Args),
    /// Events per period and category, first and last event, coverage gaps, unknown event types.
    Stats(stats::Args),
    /// Write the weekly compliance report: HTML, Markdown with PNG charts, JSON.
    Report(report::Args),
    /// Run audit analyses in parallel and print their findings.
    Analyze(analyze::Args),
    /// List the analyses with one line each.
    Analyses(analyze::ListArgs),
    /// Print an example analysis config (--example) or check one (--check FILE).
    Config(analyze::ConfigArgs),
    /// List the records ingest quarantined, with source file, line, column and reason.
    Quarantine(quarantine::Args),
    /// List the event catalog: every event type with its category and tags.
    EventTypes(event_types::Args),
    /// Write a realistic synthetic export (any layout) for trials and benchmarks.
    Generate(generate::Args),
    /// Generate a realistic sample with planted cases, ingest it and write its report; prints
    /// where to open it.
    Demo(demo::Args),
}

/// The store location option every store-reading command shares.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArg {
    /// The store directory.
    #[arg(long, value_name = "DIR", default_value = crate::store::DEFAULT_STORE, env = "AUDITLENS_STORE")]
    pub store: PathBuf,
}

/// Run a parsed command line. The exit code is 0 on success and 1 when the command completed but
/// something in it failed (a file that could not be ingested); errors are returned.
///
/// Meant to be called once per process, just before it exits: `analyze` and `report` leave their
/// results for the exit to reclaim (see `leave_to_exit`).
pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Ingest(args) => ingest::run(&args),
        Command::Query(args) => query::run(&args),
        Command::Show(args) => show::run(&args),
        Command::Stats(args) => stats::run(&args),
        Command::Analyze(args) => analyze::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Analyses(args) => analyze::list(&args),
        Command::Config(args) => analyze::config(&args),
        Command::Quarantine(args) => quarantine::run(&args),
        Command::EventTypes(args) => event_types::run(&args),
        Command::Generate(args) => generate::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Demo(args) => demo::run(&args),
    }
}

/// Let the process exit reclaim `value` instead of freeing it: a subcommand's last step, for a
/// result it has finished writing. Freeing the findings of a whole 5M store one allocation at a
/// time (millions of event-id strings) took 0.3 s after all output was written; the exit hands
/// the pages back at once.
fn leave_to_exit<T>(value: T) {
    std::mem::forget(value);
}

/// Progress notes go to stderr only when it is a terminal, so pipelines and tests stay clean.
pub(crate) fn note(s: &str) {
    use std::io::IsTerminal;
    if std::io::stderr().is_terminal() {
        eprintln!("{s}");
    }
}

/// Standard output, buffered; write errors become [`Error::Output`] (a closed pipe is quiet).
pub(crate) fn stdout() -> std::io::BufWriter<std::io::StdoutLock<'static>> {
    std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock())
}

/// Flush standard output, mapping the error.
pub(crate) fn finish_output(mut out: impl Write) -> Result<()> {
    out.flush().map_err(Error::Output)
}
