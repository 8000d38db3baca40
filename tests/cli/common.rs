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
