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

/// mimalloc's `purge_delay` option: `mi_option_purge_delay` in the `mi_option_t` enum of the
/// bundled mimalloc.h (v2), which libmimalloc-sys does not name. Its default is 10 (ms).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Tell mimalloc to keep the memory that is freed rather than return it to the operating system
/// 10 ms later (the default purge delay), for ingest only. Ingest frees and allocates its batches'
/// buffers all the time: with the default, the kernel unmapped them, then faulted and zeroed them
/// in again (a 5M-row ingest took 375,000 page faults and 1.8-2.0 s of system time; 2,400 and
/// 0.6 s without purging). Four alternating rounds of 1M-row ingests: 4.54 s of CPU against 5.09 s on
/// average; the 5M ingest's peak rose from 0.85-0.90 to 1.11-1.13 GB, within its 1.5 GB target
/// (bench/NOTES.md, twenty-third session). The analyses and the report gained nothing measurable
/// and peaked 200 MB higher, so they keep the default.
fn keep_freed_memory() {
    // SAFETY: `mi_option_set` stores a value in mimalloc's table of options, which its allocation
    // paths read; the option number is checked against mimalloc's default in the test below. It is
    // called before any thread that allocates is started.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}

fn main() -> ExitCode {
    let cli = auditlens::cli::Cli::parse();
    // A purge delay given in the environment (README) is the user's choice and stays.
    if matches!(cli.command, auditlens::cli::Command::Ingest(_))
        && std::env::var_os("MIMALLOC_PURGE_DELAY").is_none()
    {
        keep_freed_memory();
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The number given to `mi_option_set` is the purge delay's: the option whose default is 10 ms
    /// (or what `MIMALLOC_PURGE_DELAY` says, which mimalloc reads at start), which the setting
    /// then replaces.
    #[test]
    fn the_purge_delay_is_set_in_mimallocs_own_option() {
        let start: std::ffi::c_long = std::env::var("MIMALLOC_PURGE_DELAY")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(10);
        // SAFETY: reading and setting an option of mimalloc's table; no other test of this binary
        // touches it.
        assert_eq!(
            unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) },
            start
        );
        keep_freed_memory();
        assert_eq!(
            unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) },
            -1
        );
    }
}
