//! `report`: the weekly compliance report in HTML, Markdown and JSON; its figures equal `analyze`
//! and `stats` for the same week; data from the export is text, never markup; the JSON is guarded
//! by a golden file.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::common::*;

const WEEK: &str = "2026-W16";

/// A realistic store: a generated month of events plus a hostile username in the report week.
fn realistic_store(dir: &Path) -> PathBuf {
    let month = dir.join("month.csv");
    auditlens()
        .args(["generate", "--events", "6000", "--seed", "5", "--out"])
        .arg(&month)
        .assert()
        .success();
    let hostile = dir.join("hostile.csv");
    std::fs::write(
        &hostile,
        "Date observed,Username,User type,Event type,IP address,Affected user,Details\n\
         2026-04-15T22:30:00Z,<script>alert(1)</script>@x.com,User,User roles assigned,192.0.2.9,\"<img src=x onerror=alert(2)>\",\"{\"\"role\"\":\"\"<b>Admin</b>\"\"}\"\n",
    )
    .unwrap();
    let store = dir.join("store");
    let (v, code) = ingest_json(&store, &[&month, &hostile], &[]);
    assert_eq!(code, 0, "{v}");
    store
}

/// Every event id the findings of a report.json cite.
fn cited_ids(r: &serde_json::Value) -> BTreeSet<&str> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["event_ids"].as_array().unwrap().iter())
        .map(|i| i.as_str().unwrap())
        .collect()
}

/// The event ids listed in a report.json's appendix.
fn appendix_ids(r: &serde_json::Value) -> BTreeSet<&str> {
    r["appendix"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_id"].as_str().unwrap())
        .collect()
}

fn report(store: &Path, out: &Path, extra: &[&str]) -> serde_json::Value {
    auditlens()
        .args(["report", "--week", WEEK, "--store"])
        .arg(store)
        .arg("--out")
        .arg(out)
        .args(extra)
        .assert()
        .success()
        .stdout(predicates::str::contains("wrote "));
    std::fs::read(out.join("report.json"))
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap_or(serde_json::Value::Null)
}

#[test]
fn report_figures_equal_analyze_and_stats_and_data_is_never_markup() {
    let dir = tempfile::tempdir().unwrap();
    let store = realistic_store(dir.path());
    let out = dir.path().join("report");
    let r = report(&store, &out, &[]);

    // Findings: the same as `analyze` for the week.
    let a = auditlens()
        .args(["analyze", "--week", WEEK, "--format", "json", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    assert!(a.status.success());
    let analyzed: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
    let key = |f: &serde_json::Value| {
        format!(
            "{}|{}|{}|{}|{}",
            f["analysis"], f["severity"], f["actor"], f["first_seen"], f["summary"]
        )
    };
    let mut x: Vec<String> = analyzed.as_array().unwrap().iter().map(key).collect();
    let mut y: Vec<String> = r["findings"].as_array().unwrap().iter().map(key).collect();
    x.sort();
    y.sort();
    assert!(!x.is_empty());
    assert_eq!(x, y, "report findings differ from analyze");
    for (sev, n) in r["findings_by_severity"].as_object().unwrap() {
        let count = analyzed
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] == sev.as_str())
            .count();
        assert_eq!(n.as_u64().unwrap() as usize, count, "{sev}");
    }

    // Coverage: the same as `stats` for the week.
    let s = auditlens()
        .args([
            "stats", "--week", WEEK, "--by", "day", "--format", "json", "--store",
        ])
        .arg(&store)
        .output()
        .unwrap();
    let stats: serde_json::Value = serde_json::from_slice(&s.stdout).unwrap();
    assert_eq!(r["coverage"]["events"], stats["total_events"]);
    assert_eq!(r["coverage"]["first_event"], stats["first_event"]);
    for c in r["coverage"]["by_category"].as_array().unwrap() {
        let name = c["category"].as_str().unwrap();
        let from_stats: u64 = stats["periods"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["by_category"][name].as_u64().unwrap_or(0))
            .sum();
        assert_eq!(c["events"].as_u64().unwrap(), from_stats, "{name}");
    }
    // The previous week's figures are the previous week's stats.
    let s = auditlens()
        .args(["stats", "--week", "2026-W15", "--format", "json", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    let prev: serde_json::Value = serde_json::from_slice(&s.stdout).unwrap();
    assert_eq!(r["coverage"]["previous_events"], prev["total_events"]);

    // Provenance names the exports with their SHA-256 and the config.
    let sources = r["provenance"]["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 2);
    assert!(
        sources
            .iter()
            .all(|s| s["sha256"].as_str().unwrap().len() == 64)
    );
    assert!(
        r["provenance"]["command"]
            .as_str()
            .unwrap()
            .contains("--week 2026-W16")
    );

    // Every cited event is in the appendix.
    assert_eq!(cited_ids(&r), appendix_ids(&r));

    // HTML: self-contained, every chart inline, the hostile username as text.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("Content-Security-Policy"));
    assert_eq!(html.matches("<svg").count(), 4, "four inline charts");
    assert!(!html.contains("<script"), "no script element at all");
    assert!(!html.contains("<img"), "no markup from the data");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;@x.com"));
    assert!(html.contains("&lt;img src=x onerror=alert(2)&gt;"));
    for attr in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(!html.contains(attr), "external reference {attr}");
    }
    // Markdown: charts as PNG files beside it, the payload escaped.
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    for chart in [
        "events-per-day",
        "case-actions",
        "privilege-changes",
        "unusual-ips",
    ] {
        assert!(md.contains(&format!("](charts/{chart}.png)")), "{chart}");
        let png = std::fs::read(out.join("charts").join(format!("{chart}.png"))).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{chart}");
    }
    assert!(
        md.contains("&lt;script&gt;alert\\(1\\)&lt;/script&gt;@x.com"),
        "the payload is escaped text"
    );
    assert!(!md.contains("<script"));
    // Findings are saved for notebooks.
    assert!(store.join("findings/findings.parquet").exists());
}

/// Low and info findings listed per section, as `--max-listed` limits them in the HTML and
/// Markdown: every high and medium one, then at most `max` others.
#[test]
fn the_same_store_gives_the_same_report_every_run() {
    // An auditor files the report and may regenerate it: the files must not change but for the
    // time they were generated (the charts once drew their bars in a random order).
    let dir = tempfile::tempdir().unwrap();
    let store = realistic_store(dir.path());
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    report(&store, &a, &[]);
    report(&store, &b, &[]);
    let text = |dir: &Path, name: &str| -> String {
        std::fs::read_to_string(dir.join(name))
            .unwrap()
            .lines()
            .filter(|l| !l.contains("Generated ") && !l.contains("\"generated_at\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    for name in ["report.html", "report.md", "report.json"] {
        let first = text(&a, name);
        assert!(first.len() > 1000, "{name} is too short");
        assert!(first == text(&b, name), "{name} differs between two runs");
    }
    let charts: Vec<_> = std::fs::read_dir(a.join("charts"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(!charts.is_empty());
    for c in charts {
        let read = |dir: &Path| std::fs::read(dir.join("charts").join(&c)).unwrap();
        assert!(read(&a) == read(&b), "{c:?} differs between two runs");
    }
}

#[test]
fn max_listed_shortens_html_and_markdown_but_json_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let store = realistic_store(dir.path());
    let full = report(&store, &dir.path().join("full"), &["--max-listed", "0"]);
    let out = dir.path().join("short");
    let short = report(&store, &out, &["--max-listed", "1"]);
    // The JSON is the same whatever the listing.
    assert_eq!(short["findings"], full["findings"]);
    assert_eq!(short["appendix"], full["appendix"]);

    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    let findings = short["findings"].as_array().unwrap();
    let mut cut = 0;
    for analysis in [
        "unusual-ips",
        "file-access",
        "training-needs",
        "after-hours-admin",
    ] {
        let minor = findings
            .iter()
            .filter(|f| f["analysis"] == analysis)
            .filter(|f| f["severity"] == "low" || f["severity"] == "info")
            .count();
        if minor > 1 {
            cut += 1;
            let note = format!("{} more low or info finding", minor - 1);
            assert!(html.contains(&note), "{analysis}: no '{note}' in the HTML");
            assert!(
                md.contains(&note),
                "{analysis}: no '{note}' in the Markdown"
            );
        }
    }
    assert!(
        cut >= 2,
        "the fixture has too few low or info findings to cut"
    );
    // Cited events of unlisted findings stay out of the appendix, and the note counts them.
    let listed_rows = html.matches("<tr id=\"ev-").count();
    let all = short["appendix"].as_array().unwrap().len();
    assert!(listed_rows < all, "{listed_rows} of {all}");
    assert!(html.contains(&format!("{} more cited events", all - listed_rows)));
    // The privilege-change ledger is listed in full: every event it cites has its appendix row.
    let ledger: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| f["analysis"] == "privilege-changes")
        .collect();
    assert!(ledger.len() > 2, "too small a ledger to tell");
    for f in ledger {
        for id in f["event_ids"].as_array().unwrap() {
            let row = format!("<tr id=\"ev-{}\"", id.as_str().unwrap());
            assert!(
                html.contains(&row),
                "ledger entry {} not listed",
                f["summary"]
            );
        }
    }
    // Without a limit every cited event is listed.
    let html_full = std::fs::read_to_string(dir.path().join("full/report.html")).unwrap();
    assert_eq!(html_full.matches("<tr id=\"ev-").count(), all);
    assert!(!html_full.contains("not listed here"));
}

#[test]
fn report_opens_in_headless_chromium_without_network_requests() {
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    let Some(chromium) = chromium else {
        // .ci/run installs Chromium; a developer machine without it skips this one check.
        eprintln!("SKIPPED: no Chromium at /usr/bin/chromium (apt-get install chromium)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let store = realistic_store(dir.path());
    let out = dir.path().join("report");
    report(&store, &out, &["--format", "html"]);
    let netlog = dir.path().join("netlog.json");
    let page = format!("file://{}", out.join("report.html").display());
    let result = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-extensions",
            "--enable-logging=stderr",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg(format!("--log-net-log={}", netlog.display()))
        .args(["--dump-dom", &page])
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let dom = String::from_utf8_lossy(&result.stdout);
    assert_eq!(
        dom.matches("<svg").count(),
        4,
        "the charts render in the page"
    );
    assert!(dom.contains("Findings by severity"));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        !stderr.contains("Refused to"),
        "the page broke its own Content-Security-Policy: {stderr}"
    );
    // The net log records every request the browser made. Chromium's own housekeeping requests
    // have no initiating origin ("not an origin"); anything the page asked for would name its
    // origin (the opaque "null" of a file:// page).
    let log: serde_json::Value = serde_json::from_slice(&std::fs::read(&netlog).unwrap()).unwrap();
    let urls: Vec<String> = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| {
            let p = &e["params"];
            let url = p["url"].as_str()?;
            let initiator = p["initiator"].as_str()?;
            (initiator != "not an origin" && !url.starts_with("file:") && !url.starts_with("data:"))
                .then(|| url.to_owned())
        })
        .collect();
    assert!(urls.is_empty(), "network requests: {urls:?}");
}

/// Masks what changes between runs (times of generation and ingest, temporary paths).
fn normalise(mut v: serde_json::Value, root: &str) -> serde_json::Value {
    let repo = env!("CARGO_MANIFEST_DIR");
    let clean = |s: &str| s.replace(root, "<dir>").replace(repo, "<repo>");
    v["generated_at"] = "<generated>".into();
    let cfg = clean(v["provenance"]["config_file"].as_str().unwrap_or_default());
    v["provenance"]["config_file"] = cfg.into();
    v["provenance"]["store"] = "<store>".into();
    v["provenance"]["auditlens_version"] = "<version>".into();
    let cmd = v["provenance"]["command"]
        .as_str()
        .unwrap()
        .replace(root, "<dir>");
    v["provenance"]["command"] = cmd.into();
    for s in v["provenance"]["sources"].as_array_mut().unwrap() {
        s["ingested_at"] = "<ingested>".into();
        let p = clean(s["path"].as_str().unwrap());
        s["path"] = p.into();
    }
    for e in v["appendix"].as_array_mut().unwrap() {
        let p = clean(e["source"].as_str().unwrap());
        e["source"] = p.into();
    }
    v
}

#[test]
fn report_json_matches_the_golden_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let (_, code) = ingest_json(&store, &[&fixture("console.csv"), &fixture("api.csv")], &[]);
    assert_eq!(code, 0);
    let cfg = dir.path().join("auditlens.toml");
    std::fs::write(
        &cfg,
        "allowlist = [\"203.0.113.0/24\", \"198.51.100.0/24\"]\n",
    )
    .unwrap();
    let out = dir.path().join("report");
    let r = report(
        &store,
        &out,
        &["--config", cfg.to_str().unwrap(), "--format", "json"],
    );
    let root = dir.path().to_str().unwrap();
    let got = normalise(r, root);
    let golden =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/report-fixtures-2026-W16.json");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
        std::fs::write(&golden, serde_json::to_string_pretty(&got).unwrap() + "\n").unwrap();
    }
    let want: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&golden).unwrap_or_default()).unwrap_or_else(|_| {
            panic!(
                "missing {}; run with UPDATE_GOLDEN=1 once and review it",
                golden.display()
            )
        });
    assert_eq!(
        got, want,
        "report JSON changed; if intended, rerun with UPDATE_GOLDEN=1 and review the diff"
    );
}

#[test]
fn events_cited_from_days_around_the_week_are_in_the_appendix() {
    // Two exports with nothing in between: the week is a coverage gap whose evidence is the last
    // event 8 days before it and the first event 5 days after it (the appendix searches outward
    // from the week in widening spans, so this takes several of them on each side).
    let dir = tempfile::tempdir().unwrap();
    let export = |name: &str, days: &[&str]| {
        let mut csv = String::from(
            "Date observed,Username,User type,Event type,IP address,Affected user,Details\n",
        );
        for d in days {
            csv.push_str(&format!(
                "{d},admin@example.com,User,User roles assigned,203.0.113.7,ana@example.com,\"{{\"\"role\"\":\"\"Desktop User\"\"}}\"\n"
            ));
        }
        let p = dir.path().join(name);
        std::fs::write(&p, csv).unwrap();
        p
    };
    let early = export(
        "early.csv",
        &["2026-04-01T09:00:00Z", "2026-04-05T10:00:00Z"],
    );
    let late = export(
        "late.csv",
        &["2026-04-25T11:00:00Z", "2026-04-28T12:00:00Z"],
    );
    let store = dir.path().join("store");
    let (v, code) = ingest_json(&store, &[&early, &late], &[]);
    assert_eq!(code, 0, "{v}");

    let r = report(&store, &dir.path().join("report"), &[]);
    let gap = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["analysis"] == "coverage-gaps" && f["count"] == 0)
        .expect("the week no export covers is a finding");
    assert_eq!(gap["event_ids"].as_array().unwrap().len(), 2, "{gap}");
    let mut times: Vec<&str> = r["appendix"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["timestamp"].as_str().unwrap())
        .collect();
    times.sort_unstable();
    assert_eq!(
        times.first().map(|t| &t[..10]),
        Some("2026-04-05"),
        "{times:?}"
    );
    assert_eq!(
        times.last().map(|t| &t[..10]),
        Some("2026-04-25"),
        "{times:?}"
    );
    // Every cited event has its appendix row, and only those.
    assert_eq!(cited_ids(&r), appendix_ids(&r));
}

#[test]
fn report_times_its_steps_on_a_terminal_and_writes_each_format_once() {
    // On a terminal `report` says how long each step took (as `analyze` does for each analysis);
    // piped, its standard error stays empty. `script` (util-linux) gives it a terminal.
    let dir = tempfile::tempdir().unwrap();
    let store = realistic_store(dir.path());
    let piped = dir.path().join("piped");
    auditlens()
        .args([
            "report",
            "--week",
            WEEK,
            "--format",
            "md,json,md",
            "--store",
        ])
        .arg(&store)
        .arg("--out")
        .arg(&piped)
        .assert()
        .success()
        .stderr("");
    let on_tty = dir.path().join("tty");
    let bin = assert_cmd::cargo::cargo_bin("auditlens");
    let command = format!(
        "{} report --week {WEEK} --format md,json,md --store {} --out {}",
        bin.display(),
        store.display(),
        on_tty.display()
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_remove("AUDITLENS_STORE")
        .output()
        .expect("script (util-linux) runs");
    let text = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    assert!(out.status.success(), "{text}");
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(on_tty.join("report.json")).unwrap()).unwrap();
    let cited = r["appendix"].as_array().unwrap().len();
    let unusual = r["findings_by_analysis"]["unusual-ips"].as_u64().unwrap();
    for step in [
        format!("unusual-ips ({unusual} findings): "),
        "all analyses, side by side: ".to_owned(),
        "findings.parquet: ".to_owned(),
        format!("appendix: {cited} cited event(s)"),
        "json written (beside the other formats): ".to_owned(),
        "md written (beside the other formats): ".to_owned(),
        "report built in ".to_owned(),
    ] {
        assert!(text.contains(&step), "no '{step}' in:\n{text}");
    }
    assert!(!text.contains("html written"), "{text}");
    // The files in the order asked for, each once, HTML not written.
    let wrote: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("wrote "))
        .filter(|p| !p.contains("charts"))
        .collect();
    assert_eq!(
        wrote,
        [
            on_tty.join("report.md").display().to_string(),
            on_tty.join("report.json").display().to_string()
        ]
    );
    assert!(!on_tty.join("report.html").exists());
}
