//! The `auditlens` binary: parse the command line, run it, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than glibc's malloc: polars and the analyses allocate and free millions of
/// small buffers across threads. On a 5M-event store the whole-store analyses took 12% less time,
/// the weekly report 12% less and a 5M ingest 6% less. The peaks: 869 against 722 MB for the
/// ingest, about 5% higher for the whole store, lower for the report (bench/NOTES.md, nineteenth
/// session).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = auditlens::cli::Cli::parse();
    match auditlens::cli::run(cli) {
        Ok(code) => code,
        // `auditlens query | head`: the reader went away; that is not an error worth a word.
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            // Plain `{}`: every library error already says its cause (`FILE: No such file or
            // directory (os error 2)`), so anyhow's `{:#}`, which appends each source in the chain,
            // said the cause twice.
            let err = anyhow::Error::new(e);
            eprintln!("auditlens: {err}");
            ExitCode::from(2)
        }
    }
}
