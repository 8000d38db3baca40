//! Hardening: killed ingests, concurrent writers, stale locks, hostile and extreme input.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

const HEADER: &str =
    "Date observed,Username,User type,Event type,IP address,Affected user,Details\n";

/// A console CSV of `n` distinct events on `day` (1-28 of April 2026).
fn export(dir: &Path, name: &str, day: u32, n: usize) -> PathBuf {
    let mut s = String::with_capacity(n * 90);
    s.push_str(HEADER);
    for i in 0..n {
        s.push_str(&format!(
            "2026-04-{day:02}T{:02}:{:02}:{:02}.{:03}Z,user{}@example.com,User,Console login,203.0.113.{},,\n",
            i / 3_600_000 % 24,
            i / 60_000 % 60,
            i / 1000 % 60,
            i % 1000,
            i % 97,
            i % 250
        ));
    }
    let p = dir.join(name);
    std::fs::write(&p, s).unwrap();
    p
}

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("auditlens")
}

/// `auditlens ingest --store STORE FILES...` in the background, quietly.
fn spawn_ingest(store: &Path, files: &[PathBuf]) -> Child {
    Command::new(bin())
        .arg("ingest")
        .arg("--store")
        .arg(store)
        .args(files)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Wait until a writer holds the store's lock (it writes its pid into the lock file).
fn wait_until_locked(store: &Path) {
    let lock = store.join("_auditlens/lock");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::read_to_string(&lock)
        .map(|s| s.is_empty())
        .unwrap_or(true)
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn store_count(store: &Path) -> u64 {
    stats_json(store, &[])["total_events"].as_u64().unwrap()
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn an_ingest_killed_at_any_point_leaves_only_whole_files() {
    let dir = tempfile::tempdir().unwrap();
    let sizes = [6000usize, 7000, 8000];
    let files: Vec<PathBuf> = sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| export(dir.path(), &format!("f{i}.csv"), 3 + i as u32, n))
        .collect();
    // How long an uninterrupted run takes, to spread the kills over it.
    let probe = dir.path().join("probe");
    let t = Instant::now();
    let (v, _) = ingest_json(
        &probe,
        &files.iter().map(|p| p.as_path()).collect::<Vec<_>>(),
        &[],
    );
    assert_eq!(v["stored"], 21000);
    let full = t.elapsed();
    let whole: Vec<u64> = vec![0, 6000, 13000, 21000];
    for k in 0..6u32 {
        let store = dir.path().join(format!("store{k}"));
        let delay = full.mul_f64(f64::from(k) / 6.0 + 0.05);
        let mut child = spawn_ingest(&store, &files);
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        if !store.join("_auditlens/manifest.json").exists() {
            continue; // killed before the store existed
        }
        let n = store_count(&store);
        assert!(
            whole.contains(&n),
            "kill after {delay:?}: {n} events is not a whole number of files"
        );
        // A re-run recovers (sweeps the leftovers) and completes to the exact count.
        let out = auditlens()
            .args(["ingest", "--json", "--store"])
            .arg(&store)
            .args(&files)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(store_count(&store), 21000);
        // Only committed files remain: every file in the dataset is listed in the manifest.
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(store.join("_auditlens/manifest.json")).unwrap())
                .unwrap();
        let listed: Vec<PathBuf> = manifest["parts"]
            .as_array()
            .unwrap()
            .iter()
            .chain(manifest["quarantine"].as_array().unwrap())
            .map(|p| store.join(p["path"].as_str().unwrap()))
            .collect();
        for f in files_under(&store.join("events")) {
            assert!(listed.contains(&f), "{} is not committed", f.display());
        }
    }
}

#[test]
fn two_ingests_at_once_one_waits_or_fails_clearly_and_a_stale_lock_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let big = export(dir.path(), "big.csv", 5, 40_000);
    let small = export(dir.path(), "small.csv", 6, 500);
    let store = dir.path().join("store");
    let mut first = spawn_ingest(&store, std::slice::from_ref(&big));
    wait_until_locked(&store);
    let lock = store.join("_auditlens/lock");
    let second = auditlens()
        .args(["ingest", "--store"])
        .arg(&store)
        .arg(&small)
        .output()
        .unwrap();
    let finished_first = first.try_wait().unwrap().is_some();
    if !finished_first {
        assert_eq!(second.status.code(), Some(2));
        assert!(
            String::from_utf8_lossy(&second.stderr)
                .contains("is locked by another auditlens process (pid ")
        );
    }
    assert!(first.wait().unwrap().success());
    // With --wait the second writer simply queues.
    let (v, code) = ingest_json(&store, &[&small], &["--wait"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(store_count(&store), 40_500);

    // A writer killed while holding the lock leaves a lock file naming it; the next writer sees
    // that the holder is gone (the kernel dropped its lock), cleans up and proceeds.
    let third = export(dir.path(), "third.csv", 7, 40_000);
    let mut killed = spawn_ingest(&store, std::slice::from_ref(&third));
    wait_until_locked(&store);
    let _ = killed.kill();
    let _ = killed.wait();
    let holder = std::fs::read_to_string(&lock).unwrap();
    let out = auditlens()
        .args(["ingest", "--store"])
        .arg(&store)
        .arg(&third)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    if !holder.is_empty() {
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("did not finish"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(store_count(&store), 80_500);
    assert_eq!(
        std::fs::read_to_string(&lock).unwrap(),
        "",
        "a clean exit clears the lock file"
    );
}

#[test]
fn extreme_inputs_are_handled_or_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    // A 10 MB field.
    let big = "x".repeat(10 << 20);
    let ten_mb = dir.path().join("ten-mb.csv");
    std::fs::write(&ten_mb, format!("{HEADER}2026-04-01T10:00:00Z,a@x.com,User,Alert note edited,,,\"{{\"\"note\"\":\"\"{big}\"\"}}\"\n")).unwrap();
    // A 1,000-column header: unknown columns become details.
    let mut wide = String::from("timestamp,type$,actorName");
    let mut row = String::from("2026-04-01T11:00:00Z,audit_log::logged_in/1,b@x.com");
    for i in 0..997 {
        wide.push_str(&format!(",extra{i}"));
        row.push_str(&format!(",v{i}"));
    }
    let wide_file = dir.path().join("wide.csv");
    std::fs::write(&wide_file, format!("{wide}\n{row}\n")).unwrap();
    let (v, code) = ingest_json(&store, &[&ten_mb, &wide_file], &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["stored"], 2);
    let out = auditlens()
        .args([
            "query",
            "--format",
            "jsonl",
            "--username",
            "b@x.com",
            "--store",
        ])
        .arg(&store)
        .output()
        .unwrap();
    let e: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(e["details"].as_object().unwrap().len(), 997);
    assert_eq!(e["details"]["extra996"], "v996");
    let out = auditlens()
        .args([
            "query",
            "--format",
            "jsonl",
            "--username",
            "a@x.com",
            "--store",
        ])
        .arg(&store)
        .output()
        .unwrap();
    let e: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(e["details"]["note"].as_str().unwrap().len(), 10 << 20);

    // A symlink loop in an input directory is reported, not followed for ever.
    let inputs = dir.path().join("inputs");
    std::fs::create_dir_all(inputs.join("sub")).unwrap();
    std::os::unix::fs::symlink(&inputs, inputs.join("sub/loop")).unwrap();
    std::fs::copy(fixture("console.csv"), inputs.join("sub/a.csv")).unwrap();
    let (v, code) = ingest_json(&store, &[&inputs], &[]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["stored"], 14);
    assert!(
        v["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["error"].as_str().unwrap_or("").contains("symlink loop")),
        "{v}"
    );
}

#[test]
fn names_from_data_never_escape_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let nasty_dir = dir.path().join("date=..").join("..");
    std::fs::create_dir_all(&nasty_dir).unwrap();
    let nasty = dir.path().join("date=..").join("..evil.csv");
    std::fs::write(
        &nasty,
        format!("{HEADER}2262-04-11T23:47:16.854775807Z,../../../etc/passwd,User,../../x,\"10.0.0.1, ../..\",../..,\"{{\"\"path\"\":\"\"../../../tmp/x\"\"}}\"\n1900-01-01T00:00:00Z,a,User,Console login,,,\n"),
    )
    .unwrap();
    let store = dir.path().join("store");
    let (v, code) = ingest_json(&store, &[&nasty], &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["stored"], 2);
    let root = std::fs::canonicalize(&store).unwrap();
    for f in files_under(&store) {
        let c = std::fs::canonicalize(&f).unwrap();
        assert!(c.starts_with(&root), "{} escaped the store", c.display());
        let rel = c.strip_prefix(&root).unwrap().to_string_lossy().to_string();
        assert!(
            rel.starts_with("events/date=2262-04-11/")
                || rel.starts_with("events/date=1900-01-01/")
                || rel.starts_with("_auditlens/"),
            "unexpected file {rel}"
        );
    }
    // Nothing was written next to the store.
    let siblings: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(siblings.len(), 2, "{siblings:?}");
}

/// A file that cannot be written is named with its cause, once: the error's message already holds
/// the cause, and printing the chain of sources after it repeated it.
#[test]
fn a_failed_write_names_the_file_and_says_why_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let file = export(dir.path(), "a.csv", 1, 10);
    let (_, code) = ingest_json(&store, &[&file], &[]);
    assert_eq!(code, 0);
    let not_a_dir = dir.path().join("not-a-dir");
    std::fs::write(&not_a_dir, "").unwrap();
    let out = auditlens()
        .args(["query", "--format", "csv", "--store"])
        .arg(&store)
        .arg("--out")
        .arg(not_a_dir.join("events.csv"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.starts_with("auditlens: "), "{err}");
    assert!(err.contains("not-a-dir"), "{err}");
    assert_eq!(err.matches("os error").count(), 1, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}
