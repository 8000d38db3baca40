/*!
The report as Markdown, with its charts as PNG files in `charts/` beside it, for plain-text review
and for tools that render Markdown. Text from the data is escaped with [`md`] so it can neither break
a table nor turn into links, images or HTML.
*/

use std::fmt::Write as _;
use std::path::Path;

use super::{Report, SECTIONS, Table, chart_specs, charts, findings_of, left_out_note};
use crate::analyses::{Finding, Severity};
use crate::error::{Error, Result};
use crate::time::format_timestamp;

/// Escape text for a Markdown table cell or paragraph.
pub fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '#' | '|' | '!' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Write `report.md` and its PNG charts into `dir`; returns the chart files written.
pub fn write(r: &Report, dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let chart_dir = dir.join("charts");
    std::fs::create_dir_all(&chart_dir).map_err(|e| Error::io(&chart_dir, e))?;
    let mut written = Vec::new();
    for c in chart_specs(r) {
        let p = chart_dir.join(format!("{}.png", c.slug));
        charts::png(&c.chart, &p)?;
        written.push(p);
    }
    let text = render(r);
    let path = dir.join("report.md");
    std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
    Ok(written)
}

/// The Markdown text (charts referenced as `charts/<name>.png`).
pub fn render(r: &Report) -> String {
    let mut m = String::with_capacity(64 << 10);
    let _ = writeln!(m, "# {}\n", md(&r.title));
    let _ = writeln!(
        m,
        "Period {} to {} (UTC, end exclusive). Generated {} by auditlens {}.\n",
        md(&r.period.from),
        md(&r.period.to),
        md(&r.generated_at),
        md(&r.provenance.auditlens_version)
    );
    let counts: Vec<String> = r
        .findings_by_severity
        .iter()
        .rev()
        .map(|(s, n)| format!("{n} {}", s.as_str()))
        .collect();
    let _ = writeln!(
        m,
        "**{} events** (previous period {}); findings: {}.\n",
        r.coverage.events,
        r.coverage.previous_events,
        counts.join(", ")
    );

    // Provenance
    let p = &r.provenance;
    let _ = writeln!(m, "## Provenance\n");
    let _ = writeln!(m, "- Store: `{}`", p.store.replace('`', "'"));
    let _ = writeln!(m, "- auditlens {}", md(&p.auditlens_version));
    let _ = writeln!(m, "- Command: `{}`", p.command.replace('`', "'"));
    let _ = writeln!(
        m,
        "- Configuration: {} (SHA-256 `{}`)\n",
        md(p.config_file.as_deref().unwrap_or("defaults")),
        p.config_sha256
    );
    let mut rows = Vec::new();
    for s in &p.sources {
        rows.push(vec![
            md(&s.path),
            format!("`{}`", s.sha256),
            md(&s.format),
            s.rows_read.to_string(),
            s.stored.to_string(),
            s.duplicates.to_string(),
            s.quarantined.to_string(),
            s.events_in_period.to_string(),
            md(&s.ingested_at),
        ]);
    }
    table(
        &mut m,
        &[
            "File",
            "SHA-256",
            "Format",
            "Read",
            "Stored",
            "Duplicates",
            "Quarantined",
            "Events in period",
            "Ingested",
        ],
        &rows,
    );

    // Coverage
    let c = &r.coverage;
    let _ = writeln!(m, "## Period and data coverage\n");
    let _ = writeln!(
        m,
        "{} events; first {}, last {}; {} source export(s) cover the period.\n",
        c.events,
        md(c.first_event.as_deref().unwrap_or("-")),
        md(c.last_event.as_deref().unwrap_or("-")),
        c.files_ingested
    );
    let _ = writeln!(
        m,
        "![Events per day by category](charts/events-per-day.png)\n"
    );
    let rows: Vec<Vec<String>> = c
        .by_category
        .iter()
        .map(|x| {
            vec![
                md(&x.category),
                x.events.to_string(),
                x.previous.to_string(),
                format!(
                    "{:+} ({})",
                    x.change,
                    x.change_pct
                        .map_or_else(|| "new".into(), |p| format!("{p:+.1}%"))
                ),
            ]
        })
        .collect();
    table(
        &mut m,
        &["Category", "This period", "Previous", "Change"],
        &rows,
    );
    if c.empty_days.is_empty() && c.uncovered.is_empty() {
        let _ = writeln!(m, "Coverage gaps: none.\n");
    } else {
        let _ = writeln!(m, "Coverage gaps:\n");
        for g in &c.empty_days {
            let _ = writeln!(
                m,
                "- no events from {} to {} ({} day(s))",
                g.from, g.to, g.days
            );
        }
        for g in &c.uncovered {
            let _ = writeln!(
                m,
                "- no export covers {} to {} ({} hours)",
                md(&g.from),
                md(&g.to),
                g.hours
            );
        }
        m.push('\n');
    }
    if !c.unknown_event_types.is_empty() {
        let rows: Vec<Vec<String>> = c
            .unknown_event_types
            .iter()
            .map(|t| vec![md(&t.event_type), t.count.to_string()])
            .collect();
        let _ = writeln!(m, "Event types the catalog does not know:\n");
        table(&mut m, &["Event type", "Events"], &rows);
    }

    // Findings
    let _ = writeln!(m, "## Findings by severity\n");
    let mut rows = Vec::new();
    for (analysis, title, _) in SECTIONS {
        let mut row = vec![md(title)];
        for sev in [
            Severity::High,
            Severity::Medium,
            Severity::Low,
            Severity::Info,
        ] {
            row.push(
                findings_of(r, analysis)
                    .filter(|f| f.severity == sev)
                    .count()
                    .to_string(),
            );
        }
        rows.push(row);
    }
    table(
        &mut m,
        &["Analysis", "high", "medium", "low", "info"],
        &rows,
    );
    let serious: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Medium)
        .collect();
    let _ = writeln!(m, "### High and medium findings\n");
    findings(&mut m, &serious);

    for (analysis, title, intro) in SECTIONS.iter().filter(|s| s.0 != "coverage-gaps") {
        let _ = writeln!(m, "## {}\n\n{}\n", md(title), md(intro));
        match *analysis {
            "analyst-case-actions" => {
                if !r.case_actions.rows.is_empty() {
                    let _ = writeln!(m, "![Case actions per analyst](charts/case-actions.png)\n");
                }
                data_table(&mut m, &r.case_actions);
            }
            "file-access" => data_table(&mut m, &r.file_access),
            "privilege-changes" => {
                let _ = writeln!(
                    m,
                    "![Privilege changes per day](charts/privilege-changes.png)\n"
                );
            }
            "unusual-ips" => {
                let _ = writeln!(
                    m,
                    "![New or outside IP addresses per day](charts/unusual-ips.png)\n"
                );
            }
            _ => {}
        }
        let (fs, left_out) = r.listed(analysis);
        findings(&mut m, &fs);
        let note = left_out_note(left_out, "low or info finding");
        if !note.is_empty() {
            let _ = writeln!(m, "{}\n", md(&note));
        }
    }
    let gaps: Vec<&Finding> = findings_of(r, "coverage-gaps").collect();
    if !gaps.is_empty() {
        let _ = writeln!(m, "## Coverage gap findings\n");
        findings(&mut m, &gaps);
    }

    let _ = writeln!(m, "## Appendix: cited events\n");
    let (listed, left_out) = r.listed_appendix();
    let rows: Vec<Vec<String>> = listed
        .into_iter()
        .map(|e| {
            vec![
                format!("`{}`", e.event_id),
                md(&e.timestamp()),
                md(&e.event_type),
                md(e.actor.as_deref().unwrap_or("-")),
                md(&e.source()),
            ]
        })
        .collect();
    table(
        &mut m,
        &["Event id", "Time (UTC)", "Event type", "Actor", "Source"],
        &rows,
    );
    let note = left_out_note(left_out, "cited event");
    if !note.is_empty() {
        let _ = writeln!(m, "{}\n", md(&note));
    }
    if !r.analysis_failures.is_empty() {
        let _ = writeln!(m, "## Analyses that failed\n");
        for (a, e) in &r.analysis_failures {
            let _ = writeln!(m, "- {}: {}", md(a), md(e));
        }
    }
    m
}

fn findings(m: &mut String, fs: &[&Finding]) {
    if fs.is_empty() {
        let _ = writeln!(m, "No findings.\n");
        return;
    }
    let rows: Vec<Vec<String>> = fs
        .iter()
        .map(|f| {
            let ids: Vec<String> = f
                .event_ids
                .iter()
                .take(3)
                .map(|i| format!("`{}`", &i.hex_digits().as_str()[..12]))
                .collect();
            let more = if f.event_ids.len() > 3 {
                format!(" +{}", f.event_ids.len() - 3)
            } else {
                String::new()
            };
            vec![
                format!("**{}**", f.severity.as_str()),
                md(&f.actor),
                md(&f.subject),
                md(&format_timestamp(f.first_seen_ns)),
                f.count.to_string(),
                md(&f.summary),
                format!("{}{more}", ids.join(" ")),
            ]
        })
        .collect();
    table(
        m,
        &[
            "Severity",
            "Actor",
            "Subject",
            "First seen",
            "Count",
            "Summary",
            "Evidence",
        ],
        &rows,
    );
}

fn data_table(m: &mut String, t: &Table) {
    if t.rows.is_empty() {
        let _ = writeln!(m, "No data in this period.\n");
        return;
    }
    let headers: Vec<&str> = t.columns.iter().map(String::as_str).collect();
    let rows: Vec<Vec<String>> = t
        .rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|v| match v {
                    serde_json::Value::String(s) => md(s),
                    serde_json::Value::Null => String::new(),
                    other => md(&other.to_string()),
                })
                .collect()
        })
        .collect();
    table(m, &headers, &rows);
}

fn table(m: &mut String, headers: &[&str], rows: &[Vec<String>]) {
    if rows.is_empty() {
        let _ = writeln!(m, "(none)\n");
        return;
    }
    let _ = writeln!(
        m,
        "| {} |",
        headers
            .iter()
            .map(|h| md(h))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let _ = writeln!(
        m,
        "|{}|",
        headers
            .iter()
            .map(|_| " --- ")
            .collect::<Vec<_>>()
            .join("|")
    );
    for r in rows {
        let _ = writeln!(m, "| {} |", r.join(" | "));
    }
    m.push('\n');
}

#[cfg(test)]
mod tests {
    use super::md;

    #[test]
    fn data_cannot_break_out_of_a_cell() {
        assert_eq!(md("a|b"), "a\\|b");
        assert_eq!(md("<script>x</script>"), "&lt;script&gt;x&lt;/script&gt;");
        assert_eq!(md("[click](javascript:x)"), "\\[click\\]\\(javascript:x\\)");
        assert_eq!(md("line\nbreak"), "line break");
    }
}
