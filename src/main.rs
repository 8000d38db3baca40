//! The `auditlens` binary: parse the command line, run it, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;

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
