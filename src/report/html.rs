/*!
The report as one self-contained HTML file: styles inline, charts as inline SVG, no script, and a
Content-Security-Policy that forbids every request, so opening it never touches the network.
Every piece of text from the data goes through [`esc`].
*/

use std::fmt::Write as _;

use super::{Report, SECTIONS, Table, chart_specs, charts, findings_of, left_out_note};
use crate::analyses::{Finding, Severity};
use crate::error::Result;
use crate::time::format_timestamp;

/// Escape text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
:root { --fg:#1b1f24; --muted:#5b6470; --line:#d8dde3; --bg:#ffffff; --soft:#f5f7f9; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif; color: var(--fg);
       background: var(--bg); margin: 0 auto; max-width: 1180px; padding: 24px 32px 64px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 19px; margin: 36px 0 8px; padding-top: 8px;
     border-top: 2px solid var(--line); } h3 { font-size: 15px; margin: 20px 0 6px; }
p.lead, .muted { color: var(--muted); }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 12.5px; }
th, td { border: 1px solid var(--line); padding: 4px 6px; text-align: left; vertical-align: top;
         overflow-wrap: break-word; }
td.wrap { overflow-wrap: anywhere; min-width: 5.5em; } td.time { min-width: 6.5em; } td.summary { min-width: 18em; }
th { background: var(--soft); font-weight: 600; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code, .id { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 11.5px; word-break: break-all; }
.sev { white-space: nowrap; display: inline-block; padding: 1px 7px; border-radius: 9px; font-size: 11px; font-weight: 700;
       text-transform: uppercase; color: #fff; }
.sev-high { background: #b3261e; } .sev-medium { background: #c25e00; } .sev-low { background: #3b6ea5; }
.sev-info { background: #6b7680; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin: 16px 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; min-width: 140px; background: var(--soft); }
.card b { display: block; font-size: 22px; }
figure { margin: 12px 0; } figure svg { width: 100%; height: auto; border: 1px solid var(--line); }
pre { background: var(--soft); padding: 10px; overflow-x: auto; font-size: 12px; }
nav ol { columns: 2; } a { color: #1f5fa8; }
@media print { body { max-width: none; padding: 0; } h2 { break-before: auto; } nav { display: none; }
  table, figure { break-inside: avoid; } a { color: inherit; text-decoration: none; } }
"#;

/// The whole report as HTML text.
pub fn render(r: &Report) -> Result<String> {
    let mut h = String::with_capacity(256 << 10);
    let charts: Vec<(&str, String)> = chart_specs(r)
        .into_iter()
        .map(|c| charts::svg(&c.chart).map(|s| (c.slug, s)))
        .collect::<Result<_>>()?;
    let chart = |slug: &str| {
        charts
            .iter()
            .find(|(s, _)| *s == slug)
            .map(|(_, svg)| svg.as_str())
    };
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style></head><body>\n",
        esc(&r.title)
    );
    let _ = write!(
        h,
        "<h1>{}</h1>\n<p class=\"lead\">Period {} to {} (UTC, end exclusive). Generated {} by auditlens {}.</p>\n",
        esc(&r.title),
        esc(&r.period.from),
        esc(&r.period.to),
        esc(&r.generated_at),
        esc(&r.provenance.auditlens_version)
    );
    // Headline figures.
    h.push_str("<div class=\"cards\">");
    let _ = write!(
        h,
        "<div class=\"card\"><b>{}</b>events (previous period {})</div>",
        r.coverage.events, r.coverage.previous_events
    );
    for (sev, n) in r.findings_by_severity.iter().rev() {
        let _ = write!(
            h,
            "<div class=\"card\"><b>{n}</b>{} findings</div>",
            sev.as_str()
        );
    }
    let _ = writeln!(
        h,
        "<div class=\"card\"><b>{}</b>source exports</div></div>",
        r.provenance.sources.len()
    );
    h.push_str("<nav><ol><li><a href=\"#provenance\">Provenance</a></li><li><a href=\"#coverage\">Period and data coverage</a></li>\
                <li><a href=\"#findings\">Findings by severity</a></li>");
    for (analysis, title, _) in SECTIONS.iter().filter(|s| s.0 != "coverage-gaps") {
        let _ = write!(h, "<li><a href=\"#{analysis}\">{}</a></li>", esc(title));
    }
    h.push_str("<li><a href=\"#appendix\">Appendix: cited events</a></li></ol></nav>\n");

    provenance(&mut h, r);
    coverage(&mut h, r, chart("events-per-day"));
    findings_summary(&mut h, r);
    for (analysis, title, intro) in SECTIONS.iter().filter(|s| s.0 != "coverage-gaps") {
        let _ = write!(
            h,
            "<h2 id=\"{analysis}\">{}</h2>\n<p class=\"muted\">{}</p>\n",
            esc(title),
            esc(intro)
        );
        match *analysis {
            "analyst-case-actions" => {
                if let Some(svg) = chart("case-actions") {
                    figure(&mut h, svg);
                }
                table(&mut h, &r.case_actions);
            }
            "file-access" => table(&mut h, &r.file_access),
            "privilege-changes" => figure(&mut h, chart("privilege-changes").unwrap_or_default()),
            "unusual-ips" => figure(&mut h, chart("unusual-ips").unwrap_or_default()),
            _ => {}
        }
        let (fs, left_out) = r.listed(analysis);
        findings_table(&mut h, &fs, false);
        let note = left_out_note(left_out, "low or info finding");
        if !note.is_empty() {
            let _ = writeln!(h, "<p class=\"muted\">{}</p>", esc(&note));
        }
    }
    appendix(&mut h, r);
    if !r.analysis_failures.is_empty() {
        h.push_str("<h2>Analyses that failed</h2><ul>");
        for (a, e) in &r.analysis_failures {
            let _ = write!(h, "<li><b>{}</b>: {}</li>", esc(a), esc(e));
        }
        h.push_str("</ul>");
    }
    h.push_str("</body></html>\n");
    Ok(h)
}

fn figure(h: &mut String, svg: &str) {
    if svg.is_empty() {
        return;
    }
    // The SVG comes from plotters, which escapes the text it draws; strip its XML prolog if any.
    let body = svg.find("<svg").map_or(svg, |i| &svg[i..]);
    let _ = writeln!(h, "<figure>{body}</figure>");
}

fn provenance(h: &mut String, r: &Report) {
    let p = &r.provenance;
    h.push_str("<h2 id=\"provenance\">Provenance</h2>\n<p class=\"muted\">Every source export the period's events came from, \
                and what is needed to reproduce this report.</p>\n");
    let _ = writeln!(
        h,
        "<table><tr><th>Store</th><td><code>{}</code></td></tr><tr><th>auditlens version</th><td>{}</td></tr>\
         <tr><th>Command</th><td><code>{}</code></td></tr><tr><th>Configuration</th><td>{} <span class=\"muted\">SHA-256</span> <code>{}</code></td></tr></table>",
        esc(&p.store),
        esc(&p.auditlens_version),
        esc(&p.command),
        esc(p.config_file.as_deref().unwrap_or("defaults (no --config)")),
        esc(&p.config_sha256)
    );
    let cfg = toml::to_string(&p.config).unwrap_or_default();
    let _ = writeln!(
        h,
        "<details><summary>Effective configuration</summary><pre>{}</pre></details>",
        esc(&cfg)
    );
    h.push_str("<h3>Source exports</h3><table><tr><th>File</th><th>SHA-256</th><th>Format</th><th class=\"num\">Read</th>\
                <th class=\"num\">Stored</th><th class=\"num\">Duplicates</th><th class=\"num\">Quarantined</th>\
                <th class=\"num\">Events in period</th><th>Events from .. to</th><th>Ingested</th></tr>\n");
    for s in &p.sources {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"id\">{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{} .. {}</td><td>{}</td></tr>",
            esc(&s.path),
            esc(&s.sha256),
            esc(&s.format),
            s.rows_read,
            s.stored,
            s.duplicates,
            s.quarantined,
            s.events_in_period,
            esc(s.first_event.as_deref().unwrap_or("-")),
            esc(s.last_event.as_deref().unwrap_or("-")),
            esc(&s.ingested_at)
        );
    }
    h.push_str("</table>\n");
}

fn coverage(h: &mut String, r: &Report, chart: Option<&str>) {
    let c = &r.coverage;
    h.push_str("<h2 id=\"coverage\">Period and data coverage</h2>\n");
    let _ = writeln!(
        h,
        "<table><tr><th>Events in the period</th><td class=\"num\">{}</td></tr><tr><th>Previous period ({} .. {})</th><td class=\"num\">{}</td></tr>\
         <tr><th>First event</th><td>{}</td></tr><tr><th>Last event</th><td>{}</td></tr><tr><th>Source exports covering the period</th>\
         <td class=\"num\">{}</td></tr></table>",
        c.events,
        esc(&r.period.previous_from),
        esc(&r.period.previous_to),
        c.previous_events,
        esc(c.first_event.as_deref().unwrap_or("-")),
        esc(c.last_event.as_deref().unwrap_or("-")),
        c.files_ingested
    );
    if let Some(svg) = chart {
        figure(h, svg);
    }
    h.push_str("<h3>Events per category against the previous period</h3><table><tr><th>Category</th><th class=\"num\">This period</th>\
                <th class=\"num\">Previous</th><th class=\"num\">Change</th></tr>\n");
    for cat in &c.by_category {
        let pct = cat
            .change_pct
            .map_or_else(|| "new".to_owned(), |p| format!("{p:+.1}%"));
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{:+} ({})</td></tr>",
            esc(&cat.category),
            cat.events,
            cat.previous,
            cat.change,
            esc(&pct)
        );
    }
    h.push_str("</table>\n<h3>Coverage gaps</h3>\n");
    if c.empty_days.is_empty() && c.uncovered.is_empty() {
        h.push_str("<p>None: every day between the first and the last event has events, and the exports' time ranges meet.</p>\n");
    } else {
        h.push_str("<ul>");
        for g in &c.empty_days {
            let _ = write!(
                h,
                "<li>No events from {} to {} ({} day(s))</li>",
                esc(&g.from),
                esc(&g.to),
                g.days
            );
        }
        for g in &c.uncovered {
            let _ = write!(
                h,
                "<li>No export covers {} to {} ({} hours)</li>",
                esc(&g.from),
                esc(&g.to),
                g.hours
            );
        }
        h.push_str("</ul>\n");
    }
    let gaps: Vec<&Finding> = findings_of(r, "coverage-gaps").collect();
    findings_table(h, &gaps, false);
    if !c.unknown_event_types.is_empty() {
        h.push_str("<h3>Event types the catalog does not know</h3><table><tr><th>Event type</th><th class=\"num\">Events</th></tr>");
        for t in &c.unknown_event_types {
            let _ = write!(
                h,
                "<tr><td>{}</td><td class=\"num\">{}</td></tr>",
                esc(&t.event_type),
                t.count
            );
        }
        h.push_str("</table>\n");
    }
}

fn findings_summary(h: &mut String, r: &Report) {
    h.push_str("<h2 id=\"findings\">Findings by severity</h2>\n<table><tr><th>Analysis</th>");
    for sev in [
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ] {
        let _ = write!(h, "<th class=\"num\">{}</th>", sev.as_str());
    }
    h.push_str("</tr>\n");
    for (analysis, title, _) in SECTIONS {
        let _ = write!(h, "<tr><td><a href=\"#{analysis}\">{}</a></td>", esc(title));
        for sev in [
            Severity::High,
            Severity::Medium,
            Severity::Low,
            Severity::Info,
        ] {
            let n = findings_of(r, analysis)
                .filter(|f| f.severity == sev)
                .count();
            let _ = write!(h, "<td class=\"num\">{n}</td>");
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n<h3>High and medium findings</h3>\n");
    let serious: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Medium)
        .collect();
    findings_table(h, &serious, true);
}

/// A time for a table cell: the ISO-8601 instant with a space for the `T`, so that the date and
/// the time of day can sit on two lines of a narrow column.
fn table_time(ns: i64) -> String {
    format_timestamp(ns).replacen('T', " ", 1)
}

fn findings_table(h: &mut String, fs: &[&Finding], with_analysis: bool) {
    if fs.is_empty() {
        h.push_str("<p class=\"muted\">No findings.</p>\n");
        return;
    }
    h.push_str("<table><tr><th>Severity</th>");
    if with_analysis {
        h.push_str("<th>Analysis</th>");
    }
    h.push_str("<th>Actor</th><th>Subject</th><th>IP</th><th>First seen</th><th>Last seen</th><th class=\"num\">Count</th><th>Summary</th><th>Evidence</th></tr>\n");
    for f in fs {
        let _ = write!(
            h,
            "<tr><td><span class=\"sev sev-{0}\">{0}</span></td>",
            f.severity.as_str()
        );
        if with_analysis {
            let _ = write!(h, "<td class=\"wrap\">{}</td>", esc(f.analysis));
        }
        let ids: Vec<String> = f
            .event_ids
            .iter()
            .take(5)
            .map(|id| {
                let hex = id.hex_digits();
                let hex = hex.as_str();
                format!("<a class=\"id\" href=\"#ev-{hex}\">{}</a>", &hex[..12])
            })
            .collect();
        let more = if f.event_ids.len() > 5 {
            format!(" and {} more", f.event_ids.len() - 5)
        } else {
            String::new()
        };
        let _ = writeln!(
            h,
            "<td class=\"wrap\">{}</td><td class=\"wrap\">{}</td><td class=\"wrap\">{}</td><td class=\"time\">{}</td>\
             <td class=\"time\">{}</td><td class=\"num\">{}</td><td class=\"summary\">{}</td><td class=\"wrap\">{}{}</td></tr>",
            esc(&f.actor),
            esc(&f.subject),
            esc(&f.ip),
            esc(&table_time(f.first_seen_ns)),
            esc(&table_time(f.last_seen_ns)),
            f.count,
            esc(&f.summary),
            ids.join(" "),
            more
        );
    }
    h.push_str("</table>\n");
}

fn table(h: &mut String, t: &Table) {
    if t.rows.is_empty() {
        h.push_str("<p class=\"muted\">No data in this period.</p>\n");
        return;
    }
    h.push_str("<table><tr>");
    for c in &t.columns {
        let _ = write!(h, "<th>{}</th>", esc(c));
    }
    h.push_str("</tr>\n");
    for row in &t.rows {
        h.push_str("<tr>");
        for v in row {
            match v {
                serde_json::Value::Number(n) => {
                    let _ = write!(h, "<td class=\"num\">{n}</td>");
                }
                serde_json::Value::String(s) => {
                    let _ = write!(h, "<td>{}</td>", esc(s));
                }
                serde_json::Value::Null => h.push_str("<td></td>"),
                other => {
                    let _ = write!(h, "<td>{}</td>", esc(&other.to_string()));
                }
            }
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
}

fn appendix(h: &mut String, r: &Report) {
    h.push_str("<h2 id=\"appendix\">Appendix: cited events</h2>\n<p class=\"muted\">Every event a listed finding cites; \
                <code>auditlens show ID</code> prints all of its fields.</p>\n");
    if r.appendix.is_empty() {
        h.push_str("<p class=\"muted\">No events cited.</p>\n");
        return;
    }
    let (listed, left_out) = r.listed_appendix();
    h.push_str("<table><tr><th>Event id</th><th>Time (UTC)</th><th>Event type</th><th>Actor</th><th>Source</th></tr>\n");
    for e in listed {
        let _ = writeln!(
            h,
            "<tr id=\"ev-{0}\"><td class=\"id\">{0}</td><td>{1}</td><td>{2}</td><td>{3}</td><td>{4}</td></tr>",
            e.event_id,
            esc(&e.timestamp()),
            esc(&e.event_type),
            esc(e.actor.as_deref().unwrap_or("-")),
            esc(&e.source())
        );
    }
    h.push_str("</table>\n");
    let note = left_out_note(left_out, "cited event");
    if !note.is_empty() {
        let _ = writeln!(h, "<p class=\"muted\">{}</p>", esc(&note));
    }
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn markup_in_data_is_text() {
        assert_eq!(
            esc("<script>alert(1)</script>@x"),
            "&lt;script&gt;alert(1)&lt;/script&gt;@x"
        );
        assert_eq!(esc("a\"b'c&d"), "a&quot;b&#39;c&amp;d");
        assert_eq!(esc("\u{1b}[31m"), "\u{fffd}[31m");
    }
}
