//! `analyze --only training-needs` and `--only file-access` on planted cases among ordinary
//! background, through the real binary.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::*;

const HEADER: &str = "Date observed,Username,User type,Event type,IP address,Affected user,\
                      Affected user ID,Actor ID,User agent,Details";

/// Console-export rows from a table, one event per line:
/// `time | username | user type | event type | ip | affected user | details JSON`.
fn rows(table: &str) -> Vec<String> {
    let q = |s: &str| {
        if s.contains([',', '"']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    };
    table
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//"))
        .map(|l| {
            let f: Vec<&str> = l.split('|').map(str::trim).collect();
            assert_eq!(f.len(), 7, "{l}");
            let (ts, user, ut, event, ip, affected, details) =
                (f[0], f[1], f[2], f[3], f[4], f[5], f[6]);
            [
                ts,
                user,
                ut,
                event,
                ip,
                affected,
                "",
                "",
                "Mozilla/5.0",
                details,
            ]
            .map(q)
            .join(",")
        })
        .collect()
}

/// Write the rows as a console export, ingest it, and return the store and `timestamp -> id`.
fn store_with(rows: &[String]) -> (tempfile::TempDir, PathBuf, HashMap<String, String>) {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("AuditLog_SearchResults.csv");
    std::fs::write(&csv, format!("{HEADER}\n{}\n", rows.join("\n"))).unwrap();
    let store = dir.path().join("store");
    let (v, code) = ingest_json(&store, &[&csv], &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["stored"].as_u64(), Some(rows.len() as u64), "{v}");
    let out = auditlens()
        .args(["query", "--format", "jsonl", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut ids = HashMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        let ts = e["timestamp"].as_str().unwrap().to_owned();
        let id = e["event_id"].as_str().unwrap().to_owned();
        assert!(
            ids.insert(ts.clone(), id).is_none(),
            "{ts}: times must be unique"
        );
    }
    (dir, store, ids)
}

/// `analyze --only NAME --week 2026-W16 [--config]` as parsed findings.
fn analyze(store: &Path, name: &str, config: Option<&str>) -> Vec<Value> {
    analyze_jsonl(store, &["--week", "2026-W16", "--only", name], config)
}

/// The ids of the events at these times.
fn ids_at<S: AsRef<str>>(ids: &HashMap<String, String>, times: &[S]) -> Vec<String> {
    times
        .iter()
        .map(|t| {
            let t = t.as_ref();
            ids.get(t)
                .unwrap_or_else(|| panic!("no event at {t}"))
                .clone()
        })
        .collect()
}

fn summary(f: &Value) -> &str {
    f["summary"].as_str().unwrap()
}

/// Ordinary week: logins, rule edits, one-way changes, case work, by several people.
const BACKGROUND: &str = r#"
2026-04-13T08:30:00Z | alice@example.com     | User | Console login       | 203.0.113.5 |  |
2026-04-13T09:00:00Z | bob.admin@example.com | User | Alert rule created  | 203.0.113.6 |  | {"ruleId": "r-2"}
2026-04-13T15:00:00Z | alice@example.com     | User | Alert rule edited   | 203.0.113.5 |  | {"ruleId": "r-1"}
2026-04-14T08:30:00Z | bob.admin@example.com | User | Console login       | 203.0.113.6 |  |
2026-04-14T09:00:00Z | dana@example.com      | User | Case created        | 203.0.113.7 |  | {"caseNumber": 12}
2026-04-14T15:00:00Z | bob.admin@example.com | User | Alert rule edited   | 203.0.113.6 |  | {"ruleId": "r-1"}
2026-04-15T08:30:00Z | dana@example.com      | User | Console login       | 203.0.113.7 |  |
2026-04-15T09:00:00Z | bob.admin@example.com | User | User roles assigned | 203.0.113.6 | carol@example.com | {"role": "Alert Manager"}
2026-04-16T08:30:00Z | erin@example.com      | User | Console login       | 203.0.113.20 |  |
2026-04-17T08:30:00Z | alice@example.com     | User | Console login       | 203.0.113.5 |  |
2026-04-17T15:00:00Z | dana@example.com      | User | Case closed         | 203.0.113.7 |  | {"caseNumber": 12}
"#;

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob.admin@example.com";

const TRAINING: &str = r#"
// Alice creates and deletes the same rule three times within minutes...
2026-04-14T10:00:00Z | alice@example.com | User | Alert rule created  | 203.0.113.9 |  | {"ruleId": "r-17"}
2026-04-14T10:04:00Z | alice@example.com | User | Alert rule deleted  | 203.0.113.9 |  | {"ruleId": "r-17"}
2026-04-14T10:06:00Z | alice@example.com | User | Alert rule created  | 203.0.113.9 |  | {"ruleId": "r-17"}
2026-04-14T10:09:00Z | alice@example.com | User | Alert rule deleted  | 203.0.113.9 |  | {"ruleId": "r-17"}
2026-04-14T10:12:00Z | alice@example.com | User | Alert rule created  | 203.0.113.9 |  | {"ruleId": "r-17"}
2026-04-14T10:20:00Z | alice@example.com | User | Alert rule deleted  | 203.0.113.9 |  | {"ruleId": "r-17"}
// ...and enables, disables and re-enables rule r-5: one reversal, not two.
2026-04-14T11:00:00Z | alice@example.com | User | Alert rule enabled  | 203.0.113.9 |  | {"ruleId": "r-5"}
2026-04-14T11:03:00Z | alice@example.com | User | Alert rule disabled | 203.0.113.9 |  | {"ruleId": "r-5"}
2026-04-14T11:07:00Z | alice@example.com | User | Alert rule enabled  | 203.0.113.9 |  | {"ruleId": "r-5"}
// Bob: a role assigned and revoked, a URL added and deleted (2 reversals)...
2026-04-15T13:00:00Z | bob.admin@example.com | User | User roles assigned | 203.0.113.6 | carol@example.com | {"role": "Auditor"}
2026-04-15T13:30:00Z | bob.admin@example.com | User | User roles revoked  | 203.0.113.6 | carol@example.com | {"role": "Auditor"}
2026-04-15T14:00:00Z | bob.admin@example.com | User | URL added           | 203.0.113.6 |  | {"url": "https://files.example.net/x"}
2026-04-15T14:10:00Z | bob.admin@example.com | User | URL deleted         | 203.0.113.6 |  | {"url": "https://files.example.net/x"}
// ...and a rule he deletes 27 hours after creating it: after the window, not a reversal.
2026-04-15T09:05:00Z | bob.admin@example.com | User | Alert rule created  | 203.0.113.6 |  | {"ruleId": "r-30"}
2026-04-16T12:05:00Z | bob.admin@example.com | User | Alert rule deleted  | 203.0.113.6 |  | {"ruleId": "r-30"}
// Erin: one reversal (reported, but no ranking finding).
2026-04-16T10:00:00Z | erin@example.com | User | Domain added   | 203.0.113.20 |  | {"domain": "example.org"}
2026-04-16T10:02:30Z | erin@example.com | User | Domain deleted | 203.0.113.20 |  | {"domain": "example.org"}
// Dana deletes a rule Alice created: review, not a training need.
2026-04-16T09:00:00Z | alice@example.com | User | Alert rule created  | 203.0.113.5 |  | {"ruleId": "r-40"}
2026-04-16T09:30:00Z | dana@example.com  | User | Alert rule deleted  | 203.0.113.7 |  | {"ruleId": "r-40"}
// SYSTEM syncing a user in and out of a rule: automation.
2026-04-17T02:00:00Z | SYSTEM | System | Users added to alert rule     |  | erin@example.com | {"ruleId": "r-2"}
2026-04-17T02:01:00Z | SYSTEM | System | Users removed from alert rule |  | erin@example.com | {"ruleId": "r-2"}
// An integration doing the same under a name of its own: automation by its user type alone.
2026-04-17T03:00:00Z | sync-bot@example.com | API client | Users added to alert rule     |  | erin@example.com | {"ruleId": "r-3"}
2026-04-17T03:01:00Z | sync-bot@example.com | API client | Users removed from alert rule |  | erin@example.com | {"ruleId": "r-3"}
// Details without the rule id: no telling it is the same rule.
2026-04-17T11:00:00Z | frank@example.com | User | Alert rule created | 203.0.113.8 |  | {"ruleName": "x"}
2026-04-17T11:01:00Z | frank@example.com | User | Alert rule deleted | 203.0.113.8 |  | {"ruleName": "x"}
// Alice's reversal of the week before is history, not part of this week's ranking.
2026-04-08T10:00:00Z | alice@example.com | User | Alert rule created | 203.0.113.9 |  | {"ruleId": "r-9"}
2026-04-08T10:01:00Z | alice@example.com | User | Alert rule deleted | 203.0.113.9 |  | {"ruleId": "r-9"}
"#;

#[test]
fn training_needs_ranks_own_reversals_and_ignores_review_and_late_undos() {
    let (_d, store, ids) = store_with(&[rows(BACKGROUND), rows(TRAINING)].concat());
    let findings = analyze(&store, "training-needs", None);
    for f in &findings {
        assert_eq!(f["analysis"], "training-needs");
        assert_eq!(f["severity"], "low", "{f}");
        for who in [
            "dana@example.com",
            "SYSTEM",
            "sync-bot@example.com",
            "frank@example.com",
        ] {
            assert_ne!(f["actor"], who, "{f}");
        }
        let subject = f["subject"].as_str().unwrap();
        for object in ["r-30", "r-40", "r-9", "r-2", "r-3"] {
            assert!(!subject.split(", ").any(|x| x == object), "{f}");
        }
    }
    let (ranking, pairs): (Vec<&Value>, Vec<&Value>) = findings
        .iter()
        .partition(|f| summary(f).contains("most reversals"));

    // One finding per reversal, with the pair as evidence.
    let mut got: Vec<(&str, &str, Vec<String>)> = pairs
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap();
            (s("actor"), s("subject"), evidence(f))
        })
        .collect();
    got.sort();
    let pair = |actor, subject, a: &str, b: &str| (actor, subject, ids_at(&ids, &[a, b]));
    let mut want = vec![
        pair(
            ALICE,
            "r-17",
            "2026-04-14T10:00:00Z",
            "2026-04-14T10:04:00Z",
        ),
        pair(
            ALICE,
            "r-17",
            "2026-04-14T10:06:00Z",
            "2026-04-14T10:09:00Z",
        ),
        pair(
            ALICE,
            "r-17",
            "2026-04-14T10:12:00Z",
            "2026-04-14T10:20:00Z",
        ),
        pair(ALICE, "r-5", "2026-04-14T11:00:00Z", "2026-04-14T11:03:00Z"),
        pair(
            BOB,
            "carol@example.com/Auditor",
            "2026-04-15T13:00:00Z",
            "2026-04-15T13:30:00Z",
        ),
        pair(
            BOB,
            "https://files.example.net/x",
            "2026-04-15T14:00:00Z",
            "2026-04-15T14:10:00Z",
        ),
        pair(
            "erin@example.com",
            "example.org",
            "2026-04-16T10:00:00Z",
            "2026-04-16T10:02:30Z",
        ),
    ];
    want.sort();
    assert_eq!(got, want);
    let quick = pairs
        .iter()
        .find(|f| evidence(f)[0] == ids["2026-04-14T10:06:00Z"])
        .unwrap();
    assert!(
        summary(quick).contains("created and deleted alert rule r-17 within 3 minutes"),
        "{quick}"
    );

    // Ranking: Alice first with 4, Bob second with 2; Erin's single reversal counts among peers.
    assert_eq!(ranking.len(), 2, "{ranking:#?}");
    let alice = ranking.iter().find(|f| f["actor"] == ALICE).unwrap();
    let bob = ranking.iter().find(|f| f["actor"] == BOB).unwrap();
    assert_eq!(
        (alice["count"].as_u64(), bob["count"].as_u64()),
        (Some(4), Some(2))
    );
    let s = summary(alice);
    for part in [
        "has the most reversals",
        "4 reversals",
        "3 actors had any",
        "created and deleted alert rule (3), enabled and disabled alert rule (1)",
        "e.g. created and deleted alert rule r-17 within 3 minutes",
    ] {
        assert!(s.contains(part), "{part:?} not in {s}");
    }
    assert!(summary(bob).contains("has the 2nd most reversals"), "{bob}");
    let alice_events = [
        "2026-04-14T10:00:00Z",
        "2026-04-14T10:04:00Z",
        "2026-04-14T10:06:00Z",
        "2026-04-14T10:09:00Z",
        "2026-04-14T10:12:00Z",
        "2026-04-14T10:20:00Z",
        "2026-04-14T11:00:00Z",
        "2026-04-14T11:03:00Z",
    ];
    assert_eq!(evidence(alice), ids_at(&ids, &alice_events));
    assert_eq!(alice["first_seen"], "2026-04-14T10:00:00Z");
    assert_eq!(alice["last_seen"], "2026-04-14T11:03:00Z");
    assert_eq!(alice["subject"], "r-17, r-5");

    // The medium threshold is configurable: from 4 reversals Alice is medium, Bob stays low.
    let cfg = "[training]\nmin_reversals_medium = 4\n";
    let findings = analyze(&store, "training-needs", Some(cfg));
    let medium: Vec<&Value> = findings
        .iter()
        .filter(|f| f["severity"] == "medium")
        .collect();
    assert_eq!(medium.len(), 1, "{medium:#?}");
    assert_eq!(medium[0]["actor"], ALICE);
    assert_eq!(evidence(medium[0]), ids_at(&ids, &alice_events));

    // A longer window makes Bob's late delete a reversal.
    let cfg = "[training]\nreversal_window = \"2d\"\n";
    let findings = analyze(&store, "training-needs", Some(cfg));
    assert!(
        findings
            .iter()
            .any(|f| f["subject"] == "r-30" && f["actor"] == BOB)
    );
}

/// `n` downloads by `user` at `day`T`hour`:00, :01, ... of `size` bytes each.
fn downloads(user: &str, ip: &str, day: &str, hour: u32, n: u32, size: u64) -> String {
    (0..n)
        .map(|m| {
            format!(
                "{day}T{hour:02}:{m:02}:00Z | {user} | User | File download | {ip} |  | \
                 {{\"fileName\": \"f{m}.bin\", \"fileSize\": {size}}}\n"
            )
        })
        .collect()
}

const FILES: &str = r#"
2026-04-14T10:15:00Z | erin@example.com | User | File download | 203.0.113.20 |  | {"fileName": "q1.xlsx", "fileSize": 1000}
2026-04-14T11:15:00Z | erin@example.com | User | File download | 203.0.113.20 |  | {"fileName": "q2.xlsx", "fileSize": 2500}
2026-04-14T12:15:00Z | erin@example.com | User | File download | 203.0.113.20 |  | {"fileName": "q3.xlsx", "fileSize": 40000}
2026-04-15T10:00:00Z | george@example.com | User | File download       | 203.0.113.21 |  | {"fileName": "plan.pdf", "fileSize": 700}
2026-04-15T10:05:00Z | george@example.com | User | ZIP file downloaded | 203.0.113.21 |  | {"fileName": "all.zip", "bytes": "5000"}
// Two IO errors for Erin (no burst), a burst of five for George.
2026-04-14T16:00:00Z | erin@example.com | User | File download: IO error | 203.0.113.20 |  | {"fileName": "q9.xlsx"}
2026-04-14T18:00:00Z | erin@example.com | User | File download: IO error | 203.0.113.20 |  | {"fileName": "q9.xlsx"}
2026-04-16T11:00:00Z | george@example.com | User | File download: IO error | 203.0.113.21 |  | {"fileName": "big.iso"}
2026-04-16T11:01:00Z | george@example.com | User | File download: IO error | 203.0.113.21 |  | {"fileName": "big.iso"}
2026-04-16T11:02:00Z | george@example.com | User | File download: IO error | 203.0.113.21 |  | {"fileName": "big.iso"}
2026-04-16T11:03:00Z | george@example.com | User | File download: IO error | 203.0.113.21 |  | {"fileName": "big.iso"}
2026-04-16T11:04:00Z | george@example.com | User | File download: IO error | 203.0.113.21 |  | {"fileName": "big.iso"}
// Henry's eleventh access on Wednesday (ten downloads are added in the test).
2026-04-15T14:30:00Z | henry@example.com | User | ZIP file downloaded | 203.0.113.22 |  | {"fileName": "src.zip"}
// A restore by the Code42 support user (start and end), and one by Ivan inside the network.
2026-04-17T10:00:00Z | customer.champion@code42.com | Code42 support user | Restore started | 52.14.10.9 | carol@example.com | {"restoreId": "rs-9"}
2026-04-17T10:30:00Z | customer.champion@code42.com | Code42 support user | Restore ended   | 52.14.10.9 | carol@example.com | {"restoreId": "rs-9", "bytes": 123456}
2026-04-17T12:00:00Z | ivan@example.com | User | Restore started | 203.0.113.30 | ivan@example.com | {"restoreId": "rs-10"}
2026-04-17T12:20:00Z | ivan@example.com | User | Restore ended   | 203.0.113.30 | ivan@example.com | {"restoreId": "rs-10", "bytes": 999}
// Before the week: not in this week's totals.
2026-04-10T10:00:00Z | henry@example.com | User | File download | 203.0.113.22 |  | {"fileName": "old.txt", "fileSize": 5}
"#;

/// Gina enables and disables rule r-60 every 20 hours for two weeks: each undo is within the
/// 24-hour window of the change before it, so how the week's events pair depends on where the
/// chain starts. A read starting 4 days before the week would begin with a disable and pair
/// "disabled and enabled"; the analysis must find the pairs of the whole history.
const CHAIN: &str = r#"
2026-04-01T20:00:00Z | gina@example.com | User | Alert rule enabled  | 203.0.113.9 |  | {"ruleId": "r-60"}
2026-04-02T16:00:00Z | gina@example.com | User | Alert rule disabled | 203.0.113.9 |  | {"ruleId": "r-60"}
2026-04-03T12:00:00Z | gina@example.com | User | Alert rule enabled  | 203.0.113.9 |  | {"ruleId": "r-60"}
2026-04-04T08:00:00Z | gina@example.com | User | Alert rule disabled | 203.0.113.9 |  | {"ruleId": "r-60"}
2026-04-05T04:00:00Z | gina@example.com | User | Alert rule enabled  | 203.0.113.9 |  | {"ruleId": "r-60"}
2026-04-06T00:00:00Z | gina@example.com | User | Alert rule disabled | 203.0.113.9 |  | {"ruleId": "r-60"}
2026-04-06T20:00:00Z | gina@example.com | User | Alert rule enabled  | 203.0.113.9 |  | {"ruleId": "r-60"}
2026-04-07T16:00:00Z | gina@example.com | User | Alert rule disabled | 203.0.113.9 |  | {"ruleId": "r-60"}
2026-04-08T12:00:00Z | gina@example.com | User | Alert rule enabled  | 203.0.113.9 |  | {"ruleId": "r-60"}
2026-04-09T08:00:00Z | gina@example.com | User | Alert rule disabled | 203.0.113.9 |  | {"ruleId": "r-60"}
2026-04-10T04:00:00Z | gina@example.com | User | Alert rule enabled  | 203.0.113.9 |  | {"ruleId": "r-60"}
2026-04-11T00:00:00Z | gina@example.com | User | Alert rule disabled | 203.0.113.9 |  | {"ruleId": "r-60"}
2026-04-11T20:00:00Z | gina@example.com | User | Alert rule enabled  | 203.0.113.9 |  | {"ruleId": "r-60"}
2026-04-12T16:00:00Z | gina@example.com | User | Alert rule disabled | 203.0.113.9 |  | {"ruleId": "r-60"}
2026-04-13T12:00:00Z | gina@example.com | User | Alert rule enabled  | 203.0.113.9 |  | {"ruleId": "r-60"}
2026-04-14T08:00:00Z | gina@example.com | User | Alert rule disabled | 203.0.113.9 |  | {"ruleId": "r-60"}
"#;

#[test]
fn training_needs_pairs_a_long_chain_as_the_whole_history_does() {
    let (_d, store, ids) = store_with(&rows(CHAIN));
    let findings = analyze(&store, "training-needs", None);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(
        evidence(f),
        ids_at(&ids, &["2026-04-13T12:00:00Z", "2026-04-14T08:00:00Z"])
    );
    assert!(
        summary(f).contains("enabled and disabled alert rule r-60 within 20 hours"),
        "{f}"
    );
    // The week before: five undos, from Monday 00:00 (the enable of Sunday 04:00 undone).
    let before = analyze_jsonl(
        &store,
        &["--week", "2026-W15", "--only", "training-needs"],
        None,
    );
    let (ranking, pairs): (Vec<&Value>, Vec<&Value>) = before
        .iter()
        .partition(|f| summary(f).contains("most reversals"));
    let mut got: Vec<Vec<String>> = pairs.iter().map(|f| evidence(f)).collect();
    got.sort_by_key(|e| times_of(&ids, &e[0]));
    let want: Vec<Vec<String>> = [
        ["2026-04-05T04:00:00Z", "2026-04-06T00:00:00Z"],
        ["2026-04-06T20:00:00Z", "2026-04-07T16:00:00Z"],
        ["2026-04-08T12:00:00Z", "2026-04-09T08:00:00Z"],
        ["2026-04-10T04:00:00Z", "2026-04-11T00:00:00Z"],
        ["2026-04-11T20:00:00Z", "2026-04-12T16:00:00Z"],
    ]
    .iter()
    .map(|p| ids_at(&ids, p))
    .collect();
    assert_eq!(got, want);
    assert_eq!(ranking.len(), 1, "{ranking:#?}");
    assert_eq!(ranking[0]["count"].as_u64(), Some(5));
}

/// The time of the event with this id.
fn times_of(ids: &HashMap<String, String>, id: &str) -> String {
    ids.iter()
        .find(|(_, v)| v.as_str() == id)
        .map(|(t, _)| t.clone())
        .unwrap_or_default()
}

#[test]
fn file_access_summarises_by_actor_and_flags_bulk_and_support_restores() {
    let henry = "henry@example.com";
    let generated = [
        // Henry: ten downloads and a ZIP on Wednesday (over a limit of 10), five on Thursday.
        downloads(henry, "203.0.113.22", "2026-04-15", 14, 10, 1_000_000),
        downloads(henry, "203.0.113.22", "2026-04-16", 14, 5, 10),
        // Erin: exactly ten on Friday, not more than the limit.
        downloads("erin@example.com", "203.0.113.20", "2026-04-17", 9, 10, 1),
    ]
    .concat();
    let all = [rows(BACKGROUND), rows(FILES), rows(&generated)].concat();
    let (_d, store, ids) = store_with(&all);
    let cfg = "allowlist = [\"203.0.113.0/24\"]\n[file_access]\nbulk_per_day = 10\n";
    let findings = analyze(&store, "file-access", Some(cfg));
    let by =
        |sev: &str| -> Vec<&Value> { findings.iter().filter(|f| f["severity"] == sev).collect() };
    assert!(
        by("high").is_empty() && by("low").is_empty(),
        "{findings:#?}"
    );

    // Medium: Henry's Wednesday and the support user's restore, nothing else.
    let medium = by("medium");
    assert_eq!(medium.len(), 2, "{medium:#?}");
    let bulk = medium.iter().find(|f| f["actor"] == henry).unwrap();
    assert_eq!(bulk["count"], 11);
    assert_eq!(bulk["subject"], "2026-04-15");
    let mut wednesday: Vec<String> = (0..10)
        .map(|m| format!("2026-04-15T14:{m:02}:00Z"))
        .collect();
    wednesday.push("2026-04-15T14:30:00Z".into());
    assert_eq!(evidence(bulk), ids_at(&ids, &wednesday));
    let s = summary(bulk);
    assert!(
        s.contains("11 file accesses")
            && s.contains("10 per day")
            && s.contains("10 downloads, 1 ZIP download"),
        "{s}"
    );
    let restore = medium
        .iter()
        .find(|f| f["actor"] == "customer.champion@code42.com")
        .unwrap();
    assert_eq!(
        evidence(restore),
        ids_at(&ids, &["2026-04-17T10:00:00Z", "2026-04-17T10:30:00Z"])
    );
    assert_eq!(restore["subject"], "carol@example.com");
    assert_eq!(restore["ip"], "52.14.10.9");
    let s = summary(restore);
    for part in [
        "restored carol@example.com's files (restore rs-9",
        "as a Code42 support user",
        "from 52.14.10.9, outside the allowlist",
    ] {
        assert!(s.contains(part), "{part:?} not in {s}");
    }

    // Info: one summary per actor, with counts and bytes; George's IO error burst.
    let info = by("info");
    let (totals, bursts): (Vec<&Value>, Vec<&Value>) = info
        .iter()
        .partition(|f| summary(f).contains("file-access event"));
    let mut actors: Vec<&str> = totals
        .iter()
        .map(|f| f["actor"].as_str().unwrap())
        .collect();
    actors.sort();
    assert_eq!(
        actors,
        [
            "customer.champion@code42.com",
            "erin@example.com",
            "george@example.com",
            henry,
            "ivan@example.com"
        ]
    );
    let of = |actor: &str| *totals.iter().find(|f| f["actor"] == actor).unwrap();
    let erin = of("erin@example.com");
    assert_eq!(erin["count"], 15);
    let s = summary(erin);
    for part in [
        "File download (13), File download: IO error (2)",
        "13 downloads;",
        "43.5 kB (43,510 bytes) in total",
    ] {
        assert!(s.contains(part), "{part:?} not in {s}");
    }
    assert!(summary(of("george@example.com")).contains("5.7 kB (5,700 bytes)"));
    assert!(summary(of(henry)).contains("in the 15 of 16 accesses that record a size"));
    let ivan = of("ivan@example.com");
    assert!(summary(ivan).contains("1 restore; 999 bytes"), "{ivan}");
    assert_eq!(
        evidence(ivan),
        ids_at(&ids, &["2026-04-17T12:00:00Z", "2026-04-17T12:20:00Z"])
    );
    assert_eq!(bursts.len(), 1, "{bursts:#?}");
    assert_eq!(bursts[0]["actor"], "george@example.com");
    assert_eq!(bursts[0]["subject"], "big.iso");
    let times: Vec<String> = (0..5).map(|m| format!("2026-04-16T11:0{m}:00Z")).collect();
    assert_eq!(evidence(bursts[0]), ids_at(&ids, &times));

    // Without an allowlist and with the default limit only the support user's restore is medium.
    let findings = analyze(&store, "file-access", None);
    let medium: Vec<&Value> = findings
        .iter()
        .filter(|f| f["severity"] != "info")
        .collect();
    assert_eq!(medium.len(), 1, "{medium:#?}");
    assert_eq!(medium[0]["actor"], "customer.champion@code42.com");
    assert_eq!(medium[0]["severity"], "medium");
    assert!(!summary(medium[0]).contains("allowlist"));
}

const TOTALS: &str = r#"
2026-04-14T10:00:00Z | erin@example.com | User | File download       | 203.0.113.20 |  | {"fileName": "a", "fileSize": 100}
2026-04-14T10:01:00Z | erin@example.com | User | File download       | 203.0.113.20 |  | {"fileName": "b", "fileSize": 50}
2026-04-14T10:02:00Z | erin@example.com | User | ZIP file downloaded | 203.0.113.20 |  | {"fileName": "c.zip"}
2026-04-14T10:03:00Z | erin@example.com | User | Path purged         | 203.0.113.20 |  | {"path": "/x"}
// A restore begun before the week: its end alone makes it one of this week's restores.
2026-04-12T23:50:00Z | ivan@example.com | User | Restore started | 203.0.113.30 |  | {"restoreId": "rs-1"}
2026-04-13T00:10:00Z | ivan@example.com | User | Restore ended   | 203.0.113.30 |  | {"restoreId": "rs-1", "size": 4000}
// A restore whose events record different sizes counts once, with the larger.
2026-04-13T01:00:00Z | ivan@example.com | User | Restore started | 203.0.113.30 |  | {"restoreId": "rs-2", "size": 10}
2026-04-13T01:30:00Z | ivan@example.com | User | Restore ended   | 203.0.113.30 |  | {"restoreId": "rs-2", "size": 20}
"#;

#[test]
fn file_access_table_matches_the_findings() {
    let (_d, store_dir, _) = store_with(&[rows(BACKGROUND), rows(TOTALS)].concat());
    let store = auditlens::store::Store::open(&store_dir).unwrap();
    let config = auditlens::config::Config::default();
    let (from, to) = auditlens::filter::parse_iso_week("2026-W16").unwrap();
    // The table the run returns beside the findings (the one the weekly report shows).
    let only = auditlens::analyses::select(&["file-access".to_owned()]).unwrap();
    let run = auditlens::analyses::run_period(&store, &config, Some(from), Some(to), &only);
    let df = &run.tables["file-access"];
    let names: Vec<&str> = df.get_column_names().iter().map(|c| c.as_str()).collect();
    assert_eq!(
        names,
        [
            "actor",
            "downloads",
            "zips",
            "restores",
            "other",
            "events",
            "bytes"
        ]
    );
    let actors: Vec<&str> = df
        .column("actor")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    assert_eq!(actors, ["erin@example.com", "ivan@example.com"]);
    let n = |c: &str| -> Vec<u64> {
        let col = df.column(c).unwrap().u64().unwrap();
        col.iter().flatten().collect()
    };
    assert_eq!(n("downloads"), [2, 0]);
    assert_eq!(n("zips"), [1, 0]);
    assert_eq!(n("restores"), [0, 2]);
    assert_eq!(n("other"), [1, 0]);
    assert_eq!(n("events"), [4, 3]);
    assert_eq!(n("bytes"), [150, 4020]);
    // The findings report the same numbers.
    let findings = analyze(&store_dir, "file-access", None);
    let ivan = findings
        .iter()
        .find(|f| f["actor"] == "ivan@example.com")
        .unwrap();
    assert_eq!(ivan["count"], 3);
    assert!(
        summary(ivan).contains("2 restores; 4.0 kB (4,020 bytes) in total"),
        "{ivan}"
    );
}
