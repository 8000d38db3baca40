//! The `auditlens` binary: parse the command line, run it, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;

/// Polars allocates and frees column buffers constantly, and the analyses many small strings:
/// with mimalloc they run 10-25% faster than with glibc's malloc (see bench/NOTES.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = auditlens::cli::Cli::parse();
    match auditlens::cli::run(cli) {
        Ok(code) => code,
        // `auditlens query | head`: the reader went away; that is not an error worth a word.
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            let err = anyhow::Error::new(e);
            eprintln!("auditlens: {err:#}");
            ExitCode::from(2)
        }
    }
}
