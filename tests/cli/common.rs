//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use polars::prelude::*;

/// The binary under test.
pub fn auditlens() -> Command {
    let mut c = Command::cargo_bin("auditlens").expect("binary built");
    c.env_remove("AUDITLENS_STORE").env_remove("COLUMNS");
    c
}

/// A fixture file's path.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// Every stored event, read back through the library's scan (sorted by time, then id).
pub fn stored_events(store: &Path) -> DataFrame {
    auditlens::store::Store::open(store)
        .expect("store opens")
        .scan(None)
        .expect("scan")
        .sort(["timestamp_ns", "event_id"], SortMultipleOptions::default())
        .collect()
        .expect("collect")
}

/// Run `auditlens ingest --json` and return the parsed accounting.
pub fn ingest_json(store: &Path, paths: &[&Path], extra: &[&str]) -> (serde_json::Value, i32) {
    let mut cmd = auditlens();
    cmd.arg("ingest")
        .arg("--store")
        .arg(store)
        .arg("--json")
        .args(extra)
        .args(paths);
    let out = cmd.output().expect("runs");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "json output ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (v, out.status.code().unwrap_or(-1))
}

/// Check `read = stored + duplicates + quarantined` for the totals and every file.
pub fn assert_accounting(v: &serde_json::Value) {
    let check = |o: &serde_json::Value| {
        let n = |k: &str| {
            o[k].as_u64()
                .unwrap_or_else(|| panic!("{k} missing in {o}"))
        };
        assert_eq!(
            n("rows_read"),
            n("stored") + n("duplicates") + n("quarantined"),
            "{o}"
        );
    };
    check(v);
    for f in v["files"].as_array().expect("files") {
        check(f);
    }
}

/// The JSON Lines a successful command printed.
pub fn jsonl(out: std::process::Output) -> Vec<serde_json::Value> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `auditlens stats --format json ARGS` on `store`, parsed; fails the test if `stats` fails.
pub fn stats_json(store: &Path, args: &[&str]) -> serde_json::Value {
    let out = auditlens()
        .args(["stats", "--format", "json", "--store"])
        .arg(store)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "auditlens stats failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `auditlens query --format jsonl ARGS` as parsed events.
pub fn query_jsonl(store: &Path, args: &[&str]) -> Vec<serde_json::Value> {
    jsonl(
        auditlens()
            .arg("query")
            .arg("--store")
            .arg(store)
            .args(["--format", "jsonl"])
            .args(args)
            .output()
            .unwrap(),
    )
}

/// `auditlens analyze --no-save --format jsonl ARGS [--config FILE with `config`]` as parsed findings.
pub fn analyze_jsonl(store: &Path, args: &[&str], config: Option<&str>) -> Vec<serde_json::Value> {
    let mut cmd = auditlens();
    cmd.args(["analyze", "--no-save", "--format", "jsonl"])
        .args(args)
        .arg("--store")
        .arg(store);
    let cfg_dir = tempfile::tempdir().unwrap();
    if let Some(text) = config {
        let path = cfg_dir.path().join("auditlens.toml");
        std::fs::write(&path, text).unwrap();
        cmd.arg("--config").arg(path);
    }
    jsonl(cmd.output().unwrap())
}

/// A finding's evidence ids.
pub fn evidence(f: &serde_json::Value) -> Vec<String> {
    f["event_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// Severities in order: info 0, low 1, medium 2, high 3.
pub fn rank(severity: &str) -> u8 {
    match severity {
        "info" => 0,
        "low" => 1,
        "medium" => 2,
        "high" => 3,
        other => panic!("severity {other}"),
    }
}
