//! `auditlens demo`: the README's first command. It writes overlapping exports, ingests them (the
//! accounting shows the overlap as duplicates), writes the report of the last complete week with
//! the planted cases among its high findings, says where to open everything, and never writes
//! into a directory that is not its own.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::common::*;

#[test]
fn the_demo_writes_exports_store_and_report_and_the_plants_show() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let out = auditlens()
        .args(["demo", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The files, where the output says they are.
    let dir = dir.canonicalize().unwrap();
    for f in [
        "report/report.html",
        "report/report.md",
        "report/report.json",
        "store/_auditlens/manifest.json",
        "store/findings/findings.parquet",
        "auditlens.toml",
        "planted-cases.json",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    for f in ["report/report.html", "report/report.md", "store"] {
        assert!(
            stdout.contains(&dir.join(f).display().to_string()),
            "{f} not named in:\n{stdout}"
        );
    }
    assert!(stdout.contains("AUDITLENS_STORE=") && stdout.contains("example.ipynb"));
    let exports: Vec<String> = std::fs::read_dir(dir.join("exports"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        exports.iter().filter(|n| n.ends_with(".csv")).count(),
        4,
        "{exports:?}"
    );
    assert_eq!(
        exports.iter().filter(|n| n.ends_with(".jsonl.gz")).count(),
        1,
        "{exports:?}"
    );

    // The accounting: overlapping weekly exports and the API export show up as duplicates.
    let overlapping: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("console-csv") && !l.contains("duplicates 0 "))
        .collect();
    assert_eq!(overlapping.len(), 3, "{stdout}");
    let api = stdout
        .lines()
        .find(|l| l.contains(".jsonl.gz") && l.contains("json-lines"))
        .expect("the API export's accounting");
    assert!(api.contains("stored 0 +"), "{api}");
    let total = stdout.lines().find(|l| l.starts_with("total:")).unwrap();
    assert!(total.contains("stored 40000 +"), "{total}");
    assert!(!total.contains("duplicates 0 "), "{total}");

    // The report: the last complete week, with every high planted case among its findings.
    let report: Value =
        serde_json::from_slice(&std::fs::read(dir.join("report/report.json")).unwrap()).unwrap();
    assert_eq!(report["period"]["label"], "2026-W16");
    let planted: Vec<Value> =
        serde_json::from_slice(&std::fs::read(dir.join("planted-cases.json")).unwrap()).unwrap();
    let findings = report["findings"].as_array().unwrap();
    let highs: BTreeSet<(&str, &str)> = findings
        .iter()
        .filter(|f| f["severity"] == "high")
        .map(|f| {
            (
                f["analysis"].as_str().unwrap(),
                f["actor"].as_str().unwrap(),
            )
        })
        .collect();
    let planted_highs: Vec<&Value> = planted.iter().filter(|c| c["severity"] == "high").collect();
    assert!(planted_highs.len() >= 5);
    for c in planted_highs {
        let key = (
            c["analysis"].as_str().unwrap(),
            c["actor"].as_str().unwrap(),
        );
        assert!(
            highs.contains(&key),
            "{} not a high finding: {highs:?}",
            c["name"]
        );
    }
}

#[test]
fn the_demo_never_writes_into_someone_elses_directory() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("thesis.tex"), "mine").unwrap();
    let out = auditlens()
        .args(["demo", "--out"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not an auditlens demo directory"), "{err}");
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "the directory was written into");
}
