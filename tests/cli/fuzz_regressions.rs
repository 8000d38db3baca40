//! Every input a fuzz target crashed, hung or ran out of memory on (kept by `fuzz/run.sh` under
//! `fixtures/fuzz/<target>/`), replayed through the real binary: `auditlens ingest` must finish
//! with exit status 0 or 1 and a message for a refused file, never a panic (101) or a signal,
//! account for every row, and whatever it stored must come back unchanged from its own CSV export.
//!
//! The `csv` and `json` inputs are ingested as they are; a `timestamp` input becomes the time of a
//! console CSV row and of a JSON event, a `python_literal` input a cell of a code42cli CSV.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::*;

/// (target, file) for every kept input.
fn kept_inputs() -> Vec<(String, PathBuf)> {
    let root = fixture("fuzz");
    let mut out = Vec::new();
    for target in std::fs::read_dir(&root)
        .expect("fixtures/fuzz exists")
        .flatten()
    {
        if !target.path().is_dir() {
            continue;
        }
        let name = target.file_name().to_string_lossy().into_owned();
        for f in std::fs::read_dir(target.path()).unwrap().flatten() {
            out.push((name.clone(), f.path()));
        }
    }
    out.sort();
    out
}

/// `bytes` as one CSV cell (quoted, so separators and line breaks stay inside).
fn cell(bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![b'"'];
    for &b in bytes {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
    out
}

/// The files to ingest for one kept input.
fn inputs_for(target: &str, input: &Path, dir: &Path) -> Vec<PathBuf> {
    let bytes = std::fs::read(input).unwrap();
    let write = |name: &str, data: Vec<u8>| {
        let p = dir.join(name);
        std::fs::write(&p, data).unwrap();
        p
    };
    match target {
        "csv" | "json" => vec![write("input", bytes)],
        "timestamp" => {
            let mut csv = b"Date observed,Event type\n".to_vec();
            csv.extend(cell(&bytes));
            csv.extend(b",Console login\n");
            let text = String::from_utf8_lossy(&bytes);
            let json = serde_json::json!({"timestamp": text, "type$": "audit_log::logged_in/1"});
            vec![
                write("timestamp.csv", csv),
                write("timestamp.jsonl", format!("{json}\n").into_bytes()),
            ]
        }
        "python_literal" => {
            let mut csv = b"timestamp,type$,actorName,extra\n".to_vec();
            csv.extend(b"2026-04-13T10:00:00Z,audit_log::logged_in/1,a@example.com,");
            csv.extend(cell(&bytes));
            csv.push(b'\n');
            vec![write("literal.csv", csv)]
        }
        other => panic!("fixtures/fuzz/{other}: no fuzz target of that name"),
    }
}

/// `auditlens ingest --json` that must end normally; returns the accounting and the exit code.
fn ingest_checked(store: &Path, files: &[PathBuf], what: &str) -> (serde_json::Value, i32) {
    let out = auditlens()
        .args(["ingest", "--json", "--quiet", "--store"])
        .arg(store)
        .args(files)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code();
    assert!(
        matches!(code, Some(0 | 1)),
        "{what}: ingest ended with {:?} (101 is a panic, none a signal or the timeout)\n{stderr}",
        out.status
    );
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{what}: accounting is not JSON ({e}): {stderr}"));
    assert_accounting(&v);
    for f in v["files"].as_array().unwrap() {
        if code == Some(1) && f["error"].is_string() {
            assert!(
                !f["error"].as_str().unwrap().trim().is_empty(),
                "{what}: a refused file needs a message: {f}"
            );
        }
    }
    (v, code.unwrap_or(-1))
}

#[test]
fn kept_fuzz_inputs_ingest_without_panicking_and_round_trip() {
    let kept = kept_inputs();
    assert!(
        !kept.is_empty(),
        "fixtures/fuzz/ holds no inputs; the regression inputs were lost"
    );
    for (target, input) in kept {
        let what = format!("{target}/{}", input.file_name().unwrap().to_string_lossy());
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        let files = inputs_for(&target, &input, dir.path());
        let (v, _) = ingest_checked(&store, &files, &what);
        let stored = v["stored"].as_u64().unwrap();
        if stored == 0 {
            continue;
        }
        // What was stored comes back from auditlens' own CSV export as the same events: the
        // export re-ingests as duplicates only.
        let export = dir.path().join("export.csv");
        let out = auditlens()
            .args(["query", "--format", "csv", "--out"])
            .arg(&export)
            .arg("--store")
            .arg(&store)
            .timeout(Duration::from_secs(120))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{what}: query: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (again, code) = ingest_checked(&store, &[export], &format!("{what} (export)"));
        assert_eq!(code, 0, "{what}: the export must read: {again}");
        assert_eq!(
            (
                again["stored"].as_u64(),
                again["duplicates"].as_u64(),
                again["quarantined"].as_u64()
            ),
            (Some(0), Some(stored), Some(0)),
            "{what}: the export of {stored} stored event(s) must re-ingest as duplicates: {again}"
        );
    }
}

/// Found by review, out of the fuzzers' reach (it takes a large input): an object broken at the
/// end of the file with an object on every line before that made line numbering start counting
/// from the top of the file again for every later line, which is quadratic (a few MB took
/// minutes). Linear, this takes milliseconds; quadratic, tens of seconds even at this size.
#[test]
fn a_json_error_found_far_ahead_costs_linear_time() {
    use auditlens::input::json::{Item, split_items};
    let n = 20_000;
    let mut s = String::from("{\"a\": [\n");
    for i in 0..n {
        s.push_str(&format!("{{\"b\": {i}}},\n"));
    }
    s.push_str("oops\n");
    let start = std::time::Instant::now();
    let (_, items) = split_items(s.as_bytes()).unwrap();
    let took = start.elapsed();
    // The broken outer object, then per line its object and the stray ',' (the last one up to
    // the end of the file, as no object follows `oops`).
    assert_eq!(items.len(), 1 + 2 * n);
    let line = |i: &Item| match i {
        Item::Object { line, .. } | Item::Broken { line, .. } => *line,
    };
    assert_eq!(line(&items[0]), 1);
    assert_eq!(line(&items[1]), 2);
    assert_eq!(line(&items[2 * n - 1]), n as u64 + 1);
    assert_eq!(line(&items[2 * n]), n as u64 + 1);
    assert!(
        took < Duration::from_secs(5),
        "splitting {} KB took {took:?}",
        s.len() / 1000
    );
}
