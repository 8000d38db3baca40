//! Helpers for the analysis tests: console-CSV rows with realistic ids and agents, a store
//! holding them, the findings of one analysis for the week 2026-W16, and the evidence lookups.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::*;

pub const HEADER: &str = "Date observed,Username,User type,Event type,IP address,Affected user,Affected user ID,Actor ID,User agent,Details\r\n";

/// A CSV cell, quoted when it needs to be.
pub fn cell(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// A stable numeric id for a username, as the console exports them.
pub fn id_of(user: &str) -> String {
    if user.is_empty() {
        return String::new();
    }
    let h = user
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    format!("8982091759{:08}", h % 100_000_000)
}

/// One console-CSV row; `details` is a JSON object (or empty).
pub fn row(
    when: &str,
    user: &str,
    kind: &str,
    event: &str,
    ip: &str,
    affected: &str,
    details: &str,
) -> String {
    let agent = if kind == "User" {
        "Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0"
    } else {
        ""
    };
    [
        when,
        user,
        kind,
        event,
        ip,
        affected,
        &id_of(affected),
        &id_of(user),
        agent,
        details,
    ]
    .iter()
    .map(|c| cell(c))
    .collect::<Vec<_>>()
    .join(",")
        + "\r\n"
}

/// Ingest `rows` into a fresh store.
pub fn store_of(rows: &[String]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("AuditLog_SearchResults.csv");
    std::fs::write(&csv, format!("{HEADER}{}", rows.concat())).unwrap();
    let store = dir.path().join("store");
    let (v, code) = ingest_json(&store, &[&csv], &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["stored"].as_u64(), Some(rows.len() as u64), "{v}");
    (dir, store)
}

/// Event ids by timestamp (every test row has its own), from `auditlens query`.
pub fn ids_by_time(store: &Path) -> HashMap<String, String> {
    let out = auditlens()
        .args(["query", "--format", "jsonl", "--store"])
        .arg(store)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["timestamp"].as_str().unwrap().to_owned(),
                v["event_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Findings of one analysis for ISO week 2026-W16, with an optional config file's text.
pub fn analyze(store: &Path, only: &str, config: Option<&str>) -> Vec<Value> {
    let found = analyze_jsonl(store, &["--week", "2026-W16", "--only", only], config);
    for f in &found {
        assert_eq!(f["analysis"], only, "{f}");
        // Nothing from the history before the week is reported.
        assert!(f["last_seen"].as_str().unwrap() >= "2026-04-13", "{f}");
    }
    found
}

/// The one finding whose evidence is exactly `ids` (in time order).
pub fn with_evidence<'a>(found: &'a [Value], ids: &[&String]) -> &'a Value {
    let hits: Vec<&Value> = found
        .iter()
        .filter(|f| {
            let got: Vec<&str> = f["event_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            got == ids.iter().map(|s| s.as_str()).collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(hits.len(), 1, "evidence {ids:?} in {found:#?}");
    hits[0]
}

pub fn severity(f: &Value) -> &str {
    f["severity"].as_str().unwrap()
}

pub fn summary(f: &Value) -> &str {
    f["summary"].as_str().unwrap()
}

pub const SUPPORT: &str = "customer.champion@code42.com";
pub const SUPPORT_TYPE: &str = "Code42 support user";
pub const OFFICE: &str = "203.0.113.40";

/// Logins, searches, downloads and an administrator's routine changes on every weekday of the
/// history week (W15) and the analysed week (W16).
pub fn background() -> Vec<String> {
    let mut rows = Vec::new();
    for day in [6, 7, 8, 9, 10, 13, 14, 15, 16, 17] {
        let d = format!("2026-04-{day:02}");
        rows.push(row(
            &format!("{d}T08:55:00Z"),
            "alice@example.com",
            "User",
            "Console login",
            "203.0.113.5",
            "",
            "",
        ));
        rows.push(row(
            &format!("{d}T09:05:00Z"),
            "erin@example.com",
            "User",
            "Console login",
            "203.0.113.77",
            "",
            "",
        ));
        rows.push(row(
            &format!("{d}T09:15:00Z"),
            "bob.analyst@example.com",
            "User",
            "Forensic Search query",
            "198.51.100.23",
            "",
            r#"{"type":"query","success":true,"resultCount":12}"#,
        ));
        rows.push(row(
            &format!("{d}T13:40:00Z"),
            "erin@example.com",
            "User",
            "File download",
            "203.0.113.77",
            "",
            &format!(r#"{{"fileName":"report-{day}.xlsx"}}"#),
        ));
        rows.push(row(
            &format!("{d}T10:02:00Z"),
            "dana.admin@example.com",
            "User",
            "User roles assigned",
            OFFICE,
            &format!("new.hire{day}@example.com"),
            r#"{"role":"Desktop User"}"#,
        ));
        rows.push(row(
            &format!("{d}T14:20:00Z"),
            "frank.admin@example.com",
            "User",
            "Alert rule edited",
            "203.0.113.41",
            "",
            r#"{"ruleId":"r-17"}"#,
        ));
    }
    rows
}
