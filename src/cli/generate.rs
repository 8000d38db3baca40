/*!
`auditlens generate`: write a synthetic Code42 Audit Log export (for tests, benchmarks and demos).
A thin wrapper over [`crate::generate`]: it parses options, opens the output (stdout, a file, or a
gzip file for a `.gz` name), writes the planted cases' manifest when asked, and reports what was
written on stderr.
*/

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use chrono::NaiveDate;

use crate::error::{Error, Result};
use crate::generate::{GenFormat, GenOptions, GenSummary, generate};

/// Write a synthetic audit-log export.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Number of events to write (exactly).
    #[arg(long, value_name = "N")]
    pub events: u64,

    /// Random seed: the same seed and options give the same file.
    #[arg(long, value_name = "S", default_value_t = 42)]
    pub seed: u64,

    /// Export format to write.
    #[arg(long, value_enum, default_value_t = GenFormat::ConsoleCsv)]
    pub format: GenFormat,

    /// First day of the range (UTC).
    #[arg(long, value_name = "YYYY-MM-DD", default_value = "2026-03-30")]
    pub start: NaiveDate,

    /// Number of days the events spread over.
    #[arg(long, value_name = "N", default_value_t = 28)]
    pub days: u32,

    /// Write the newest event first (the default for every format but console-csv, as the API
    /// returns newest first).
    #[arg(long, conflicts_with = "oldest_first")]
    pub newest_first: bool,

    /// Write the oldest event first (the default for console-csv).
    #[arg(long)]
    pub oldest_first: bool,

    /// Output file; `-` writes to stdout; a name ending in `.gz` is gzip-compressed.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,

    /// Add the planted cases: a fixed set of scenes every analysis must report above low, in the
    /// first week starting 14 days or more after --start (2026-W16 by default).
    #[arg(long)]
    pub plant: bool,

    /// Write the planted cases as JSON to FILE: name, analysis, least severity, actor, week and
    /// the events (timestamp as written, event type, actor) that must be among the evidence.
    #[arg(long, value_name = "FILE", requires = "plant")]
    pub plant_manifest: Option<PathBuf>,
}

impl Args {
    /// The library options these arguments stand for.
    pub fn options(&self) -> GenOptions {
        let newest_first = if self.newest_first {
            true
        } else if self.oldest_first {
            false
        } else {
            self.format.default_newest_first()
        };
        GenOptions {
            events: self.events,
            seed: self.seed,
            start: self.start,
            days: self.days,
            format: self.format,
            newest_first,
            plant: self.plant,
            window: None,
        }
    }
}

/// Run `auditlens generate`.
pub fn run(args: &Args) -> Result<()> {
    let opts = args.options();
    opts.validate().map_err(Error::Usage)?;
    let summary = if args.out.as_os_str() == "-" {
        let stdout = io::stdout();
        let mut w = BufWriter::with_capacity(1 << 16, stdout.lock());
        let s = generate(&opts, &mut w).map_err(Error::Output)?;
        w.flush().map_err(Error::Output)?;
        s
    } else {
        let path = &args.out;
        let io_err = |e| Error::io(path, e);
        let file = File::create(path).map_err(io_err)?;
        let gz = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
        if gz {
            let mut enc =
                flate2::write::GzEncoder::new(BufWriter::new(file), flate2::Compression::fast());
            let s = generate(&opts, &mut enc).map_err(io_err)?;
            let mut inner = enc.finish().map_err(io_err)?;
            inner.flush().map_err(io_err)?;
            s
        } else {
            let mut w = BufWriter::with_capacity(1 << 16, file);
            let s = generate(&opts, &mut w).map_err(io_err)?;
            w.flush().map_err(io_err)?;
            s
        }
    };
    if let Some(path) = &args.plant_manifest {
        write_manifest(path, &summary)?;
    }
    report(&opts, &summary, args);
    Ok(())
}

/// Write the planted cases as pretty JSON.
fn write_manifest(path: &std::path::Path, summary: &GenSummary) -> Result<()> {
    let mut text = serde_json::to_vec_pretty(&summary.planted)
        .map_err(|e| Error::io(path, io::Error::other(e)))?;
    text.push(b'\n');
    std::fs::write(path, text).map_err(|e| Error::io(path, e))
}

fn report(opts: &GenOptions, s: &GenSummary, args: &Args) {
    let range = match (&s.first_timestamp, &s.last_timestamp) {
        (Some(a), Some(b)) => format!(", {a} .. {b}"),
        _ => String::new(),
    };
    let target = if args.out.as_os_str() == "-" {
        "stdout".to_string()
    } else {
        args.out.display().to_string()
    };
    let planted = if s.planted.is_empty() {
        String::new()
    } else {
        format!(
            ", {} planted cases with {} events",
            s.planted.len(),
            s.planted.iter().map(|c| c.events.len()).sum::<usize>()
        )
    };
    eprintln!(
        "wrote {} {} events ({} order{range}{planted}) to {target}",
        s.events,
        opts.format.name(),
        if opts.newest_first {
            "newest-first"
        } else {
            "oldest-first"
        },
    );
}
