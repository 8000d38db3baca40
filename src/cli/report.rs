/*! `auditlens report`: write the weekly compliance report (HTML, Markdown with PNG charts, JSON). */

use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::filter::parse_iso_week;
use crate::output::is_inside;
use crate::report::{
    DEFAULT_MAX_LISTED, ReportFormat, ReportRequest, build, default_week, write_all,
};
use crate::store::Store;
use crate::time::format_timestamp;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: super::StoreArg,
    #[command(flatten)]
    time: super::filter_args::TimeArgs,
    /// Thresholds, allowlist, business hours (see `auditlens config --example`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Directory to write into (default: reports/<period>).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Formats to write.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [ReportFormat::Html, ReportFormat::Md, ReportFormat::Json])]
    format: Vec<ReportFormat>,
    /// Low and info findings listed per section of the HTML and Markdown reports (high and medium
    /// ones and the privilege-change ledger are always listed in full, report.json always has
    /// every finding); 0 lists them all.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_LISTED)]
    max_listed: usize,
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let store = Store::open(&args.store.store)?;
    let config = Config::load(args.config.as_deref())?;
    let t = &args.time;
    let explicit = t.from.is_some() || t.to.is_some() || t.last.is_some() || t.week.is_some();
    let (label, from, to, period_args) = if !explicit {
        let week = default_week(&store)
            .ok_or_else(|| Error::Usage("the store holds no events to report on".into()))?;
        let (f, to) = parse_iso_week(&week)?;
        (week.clone(), f, to, format!("--week {week}"))
    } else if let Some(week) = &t.week {
        let (f, to) = t.period()?;
        (
            week.clone(),
            f.unwrap_or(0),
            to.unwrap_or(0),
            format!("--week {week}"),
        )
    } else {
        let (f, to) = t.period()?;
        let (Some(f), Some(to)) = (f, to) else {
            return Err(Error::Usage(
                "a report needs a bounded period: give --week, --last, or both --from and --to"
                    .into(),
            ));
        };
        let label = format!("{} .. {}", format_timestamp(f), format_timestamp(to));
        (
            label,
            f,
            to,
            format!(
                "--from {} --to {}",
                format_timestamp(f),
                format_timestamp(to)
            ),
        )
    };
    let dir = args.out.clone().unwrap_or_else(|| {
        let safe: String = label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        PathBuf::from("reports").join(safe)
    });
    if is_inside(&dir, store.root()) {
        return Err(Error::Usage(format!(
            "--out {}: refusing to write inside the store",
            dir.display()
        )));
    }
    let mut command = format!(
        "auditlens report --store {} {period_args}",
        store.root().display()
    );
    if let Some(c) = &args.config {
        command.push_str(&format!(" --config {}", c.display()));
    }
    if args.max_listed != DEFAULT_MAX_LISTED {
        command.push_str(&format!(" --max-listed {}", args.max_listed));
    }
    let req = ReportRequest {
        label,
        from_ns: from,
        to_ns: to,
        config: &config,
        config_path: args.config.as_deref(),
        command,
        max_listed: (args.max_listed > 0).then_some(args.max_listed),
        // Like `analyze`, keep the findings next to the store for notebooks.
        save_findings: true,
    };
    let started = std::time::Instant::now();
    let report = build(&store, &req)?;
    let built = started.elapsed().as_secs_f64();
    let (written, writing) = write_all(&report, &dir, &args.format)?;
    for step in report.steps.iter().chain(&writing) {
        super::note(&format!("{}: {:.2} s", step.what, step.seconds));
    }
    super::note(&format!(
        "report built in {built:.2} s, its files written in {:.2} s",
        started.elapsed().as_secs_f64() - built
    ));
    let mut out = super::stdout();
    use std::io::Write;
    for p in &written {
        writeln!(out, "wrote {}", p.display()).map_err(Error::Output)?;
    }
    for (a, e) in &report.analysis_failures {
        eprintln!("auditlens: analysis {a} failed: {e}");
    }
    super::finish_output(out)?;
    let code = if report.analysis_failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    super::leave_to_exit(report);
    Ok(code)
}
