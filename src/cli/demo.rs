/*!
`auditlens demo`: build the demo (a realistic sample with planted cases, written as weekly console
exports and an API export, ingested, and reported; see [`crate::demo`]) and say where to open it.
*/

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::analyses::Severity;
use crate::error::{Error, Result};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory to write the demo into: new, empty, or an earlier demo (whose files are replaced).
    #[arg(long, value_name = "DIR", default_value = crate::demo::DEFAULT_DIR)]
    out: PathBuf,
}

pub fn run(args: &Args) -> Result<ExitCode> {
    eprintln!(
        "auditlens demo: generating, ingesting and reporting into {} ...",
        args.out.display()
    );
    let demo = crate::demo::run(&args.out)?;
    let mut out = super::stdout();
    print(&mut out, &demo).map_err(Error::Output)?;
    super::finish_output(out)?;
    Ok(ExitCode::SUCCESS)
}

fn print(out: &mut impl Write, d: &crate::demo::Demo) -> std::io::Result<()> {
    let planted_events: usize = d.planted.iter().map(|c| c.events.len()).sum();
    writeln!(
        out,
        "Generated {} events of a synthetic organisation, {} .. {}, with {} planted cases \
         ({planted_events} events) in {}.",
        d.events,
        d.first_day,
        d.last_day,
        d.planted.len(),
        d.week
    )?;
    writeln!(
        out,
        "\nExports, as an auditor saves them (weekly console exports overlap by a day; the API \
         export repeats a week):"
    )?;
    for e in &d.exports {
        writeln!(
            out,
            "  {}  {} .. {}  {} events",
            e.path.display(),
            e.first,
            e.last,
            e.events
        )?;
    }
    writeln!(out, "\nIngest (read = stored + duplicates + quarantined):")?;
    super::ingest::print_text(out, &d.ingest)?;
    let by = |s: Severity| d.findings_by_severity.get(&s).copied().unwrap_or(0);
    writeln!(
        out,
        "\nReport for {}: {} high, {} medium, {} low, {} info findings (config {}).",
        d.week,
        by(Severity::High),
        by(Severity::Medium),
        by(Severity::Low),
        by(Severity::Info),
        d.config.display()
    )?;
    writeln!(out, "\nOpen:")?;
    for f in d
        .report_files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "html" || e == "md"))
    {
        writeln!(out, "  {}", f.display())?;
    }
    writeln!(out, "  store:  {}", d.store.display())?;
    writeln!(
        out,
        "          auditlens query --store {} --week {} --user-type support",
        d.store.display(),
        d.week
    )?;
    writeln!(
        out,
        "  planted cases (what the report should show): {}",
        d.planted_file.display()
    )?;
    writeln!(
        out,
        "  notebook: AUDITLENS_STORE={} AUDITLENS_REPORT={} jupyter lab notebooks-data/example.ipynb",
        d.store.display(),
        d.report_dir.join("report.json").display()
    )
}
