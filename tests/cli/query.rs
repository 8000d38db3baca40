//! `query`, `show`, `stats`: console-parity filters, exports that re-ingest, coverage gaps.

use std::path::{Path, PathBuf};

use crate::common::*;

/// A store holding the fixture events (console CSV) plus the incydr copy of them.
fn fixture_store() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let (_, code) = ingest_json(&store, &[&fixture("console.csv")], &[]);
    assert_eq!(code, 0);
    (dir, store)
}

fn query(store: &Path, args: &[&str]) -> Vec<serde_json::Value> {
    query_jsonl(store, args)
}

fn types(rows: &[serde_json::Value]) -> Vec<String> {
    rows.iter()
        .map(|r| r["event_type"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn console_filters_combine_like_the_console() {
    let (_d, store) = fixture_store();
    // Usernames are case-insensitive; several values are alternatives.
    let r = query(
        &store,
        &["--username", "ALICE@example.com,erin@example.com"],
    );
    assert_eq!(types(&r), ["logged_in", "file_download"]);
    // User type: the Code42 support user.
    let r = query(&store, &["--user-type", "support"]);
    assert_eq!(types(&r), ["user_registered"]);
    // Event type by console label, API name and audit_log:: name all select the same events.
    for spelling in ["Console login", "logged_in", "audit_log::logged_in/1"] {
        assert_eq!(
            query(&store, &["--event-type", spelling]).len(),
            2,
            "{spelling}"
        );
    }
    // A whole category (the console's "All events").
    let r = query(&store, &["--category", "User updates"]);
    assert_eq!(
        types(&r),
        [
            "user_roles_assigned",
            "user_registered",
            "local_auth_only_changed"
        ]
    );
    // Different filters must all hold.
    let r = query(
        &store,
        &[
            "--category",
            "User updates",
            "--username",
            "dana.admin@example.com",
        ],
    );
    assert_eq!(types(&r), ["user_roles_assigned"]);
    // IP: any address of the proxy chain matches, CIDR blocks too, IPv6 as well.
    assert_eq!(
        types(&query(&store, &["--ip", "64.252.71.0/24"])),
        ["logged_in"]
    );
    assert_eq!(
        types(&query(&store, &["--ip", "2001:db8::/32"])),
        ["file_download"]
    );
    assert_eq!(query(&store, &["--ip", "203.0.113.0/24"]).len(), 5);
    // Affected user, by name or id.
    assert_eq!(
        query(&store, &["--affected-user", "temp.helper@example.com"]).len(),
        2
    );
    assert_eq!(
        query(&store, &["--affected-user", "898209175991065680"]).len(),
        1
    );
    // Dates: a bare --to date includes that whole day.
    assert_eq!(
        query(&store, &["--from", "2026-04-14", "--to", "2026-04-14"]).len(),
        4
    );
    assert_eq!(
        query(
            &store,
            &[
                "--from",
                "2026-04-14T13:00:00Z",
                "--to",
                "2026-04-14T14:00:00Z"
            ]
        )
        .len(),
        1
    );
    // Relative ranges count back from --as-of.
    assert_eq!(
        query(
            &store,
            &["--last", "24h", "--as-of", "2026-04-16T03:00:01Z"]
        )
        .len(),
        4
    );
    assert_eq!(
        query(&store, &["--last", "1h", "--as-of", "2026-04-16T03:00:01Z"]).len(),
        1
    );
    // Order and limit.
    let r = query(&store, &["--newest-first", "--limit", "2"]);
    assert_eq!(types(&r), ["logged_in", "api_client_secret_reset"]);
}

#[test]
fn unknown_names_are_errors_with_suggestions() {
    let (_d, store) = fixture_store();
    auditlens()
        .args(["query", "--event-type", "Consol login", "--store"])
        .arg(&store)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("closest: Console login"));
    auditlens()
        .args(["query", "--category", "Alert", "--store"])
        .arg(&store)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("Alerts"));
    // A type the catalog lacks but the store holds is accepted.
    assert_eq!(query(&store, &["--event-type", "brand_new_event"]).len(), 1);
}

#[test]
fn csv_export_is_spreadsheet_safe_and_reingests_to_the_same_events() {
    let (dir, store) = fixture_store();
    let csv = dir.path().join("export.csv");
    auditlens()
        .args(["query", "--format", "csv", "--out"])
        .arg(&csv)
        .arg("--store")
        .arg(&store)
        .assert()
        .success();
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(
        text.starts_with("Date observed,Username,User type,Event type,IP address,Affected user")
    );
    // The formula-shaped username is neutralised in CSV...
    assert!(
        text.contains("\"'=HYPERLINK(\"\"http://x\"\")@example.com\""),
        "{text}"
    );
    // ...and intact in JSON.
    let r = query(
        &store,
        &["--username", "=HYPERLINK(\"http://x\")@example.com"],
    );
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["actor_name"], "=HYPERLINK(\"http://x\")@example.com");
    // --raw writes it as is.
    let raw = auditlens()
        .args(["query", "--format", "csv", "--raw", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    assert!(
        String::from_utf8(raw.stdout)
            .unwrap()
            .contains("\"=HYPERLINK(")
    );
    // The export re-ingests to nothing new: every row is a duplicate of what is stored.
    let (v, code) = ingest_json(&store, &[&csv], &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["stored"], 0, "{v}");
    assert_eq!(v["duplicates"], 14);
}

#[test]
fn show_prints_every_field_of_one_event() {
    let (_d, store) = fixture_store();
    let r = query(&store, &["--event-type", "federation_created"]);
    let id = r[0]["event_id"].as_str().unwrap().to_string();
    auditlens()
        .args(["show", &id[..8], "--store"])
        .arg(&store)
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "Federation created (federation_created), category Identity and access management",
        ))
        .stdout(predicates::str::contains("2026-04-14T12:00:13.093616500Z"))
        .stdout(predicates::str::contains(
            "\"metadataUrl\": \"https://idp.example.com/metadata\"",
        ))
        .stdout(predicates::str::contains("console.csv line 8"));
    let out = auditlens()
        .args(["show", &id, "--json", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["details"]["federationId"], "fed-3d2c");
    auditlens()
        .args(["show", "ffffffffff", "--store"])
        .arg(&store)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no event id"));
    auditlens()
        .args(["show", "xyz", "--store"])
        .arg(&store)
        .assert()
        .code(2);
}

#[test]
fn stats_reports_periods_gaps_and_unknown_types() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let header = "Date observed,Username,User type,Event type,IP address,Affected user,Details\n";
    let a = dir.path().join("a.csv");
    let b = dir.path().join("b.csv");
    std::fs::write(&a, format!("{header}2026-04-01T10:00:00Z,a@x.com,User,Console login,,,\n2026-04-02T10:00:00Z,a@x.com,User,Case created,,,\n")).unwrap();
    // Nothing exported for 2026-04-03 .. 2026-04-06.
    std::fs::write(&b, format!("{header}2026-04-07T10:00:00Z,a@x.com,User,Console login,,,\n2026-04-07T11:00:00Z,a@x.com,User,Mystery thing,203.0.113.9,,\n2026-04-07T12:30:00Z,a@x.com,User,Odd thing,198.51.100.7,,\n")).unwrap();
    ingest_json(&store, &[&a, &b], &[]);
    let s = stats_json(&store, &["--by", "day"]);
    assert_eq!(s["total_events"], 5);
    assert_eq!(s["first_event"], "2026-04-01T10:00:00Z");
    assert_eq!(s["last_event"], "2026-04-07T12:30:00Z");
    assert_eq!(s["periods"].as_array().unwrap().len(), 7);
    assert_eq!(s["periods"][6]["by_category"]["Other"], 2);
    assert_eq!(s["periods"][0]["by_category"]["Authorization"], 1);
    assert_eq!(s["periods"][3]["total"], 0);
    assert_eq!(
        s["empty_days"],
        serde_json::json!([{"from": "2026-04-03", "to": "2026-04-06", "days": 4}])
    );
    assert_eq!(s["uncovered"][0]["from"], "2026-04-02T10:00:00Z");
    let unknown: Vec<&str> = s["unknown_event_types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(unknown, ["mystery_thing", "odd_thing"]);
    // The address filter narrows every figure, the unknown types included.
    let s = stats_json(&store, &["--ip", "203.0.113.0/24"]);
    assert_eq!(s["total_events"], 1);
    assert_eq!(s["first_event"], "2026-04-07T11:00:00Z");
    assert_eq!(s["last_event"], "2026-04-07T11:00:00Z");
    assert_eq!(s["unknown_event_types"][0]["event_type"], "mystery_thing");
    assert_eq!(s["unknown_event_types"].as_array().unwrap().len(), 1);
    // Without unknown events in the period there are none to list.
    let s = stats_json(&store, &["--to", "2026-04-06"]);
    assert_eq!(s["total_events"], 2);
    assert_eq!(s["last_event"], "2026-04-02T10:00:00Z");
    assert_eq!(s["unknown_event_types"], serde_json::json!([]));
    auditlens()
        .args(["stats", "--store"])
        .arg(&store)
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "2026-04-03 .. 2026-04-06  (4 day(s))",
        ))
        .stdout(predicates::str::contains("mystery_thing"));
}

#[test]
fn coverage_gaps_find_the_empty_days_stats_counts_when_the_period_cuts_days() {
    // coverage-gaps reads the empty days off the manifest (each part holds one day and knows its
    // time range) and looks in the store only for the days the period's ends cut through.
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let mut csv = String::from(
        "Date observed,Username,User type,Event type,IP address,Affected user,Details\n",
    );
    for t in [
        "2026-04-01T08:00:00Z",
        "2026-04-01T20:00:00Z",
        "2026-04-03T10:00:00Z",
        "2026-04-06T10:00:00Z",
        "2026-04-06T22:00:00Z",
        "2026-04-09T10:00:00Z",
    ] {
        csv.push_str(&format!("{t},a@x.com,User,Console login,,,\n"));
    }
    let file = dir.path().join("one.csv");
    std::fs::write(&file, csv).unwrap();
    ingest_json(&store, &[&file], &[]);
    let cases: [(&[&str], &[&str]); 3] = [
        (
            &[],
            &[
                "2026-04-02 .. 2026-04-02",
                "2026-04-04 .. 2026-04-05",
                "2026-04-07 .. 2026-04-08",
            ],
        ),
        // Both ends cut a day that keeps an event inside the period.
        (
            &[
                "--from",
                "2026-04-01T12:00:00Z",
                "--to",
                "2026-04-06T12:00:00Z",
            ],
            &["2026-04-02 .. 2026-04-02", "2026-04-04 .. 2026-04-05"],
        ),
        // Both ends cut a day whose events all lie outside: only 04-03 has events.
        (
            &[
                "--from",
                "2026-04-01T21:00:00Z",
                "--to",
                "2026-04-06T09:00:00Z",
            ],
            &[],
        ),
    ];
    for (period, want) in cases {
        let gaps: Vec<String> = analyze_jsonl(
            &store,
            &[&["--only", "coverage-gaps"], period].concat(),
            None,
        )
        .iter()
        .filter(|f| f["count"].as_u64() > Some(0))
        .map(|f| f["subject"].as_str().unwrap().to_owned())
        .collect();
        assert_eq!(gaps, want, "{period:?}");
        // The same days as `stats`, which counts the period's events per day.
        let s = stats_json(&store, period);
        let counted: Vec<String> = s["empty_days"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                format!(
                    "{} .. {}",
                    d["from"].as_str().unwrap(),
                    d["to"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(gaps, counted, "{period:?}");
    }
}

#[test]
fn a_closed_pipe_ends_quietly() {
    // Enough rows that the output outgrows the pipe's buffer after `head` has gone.
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from(
        "Date observed,Username,User type,Event type,IP address,Affected user,Details\n",
    );
    for i in 0..3000 {
        csv.push_str(&format!("2026-04-01T10:{:02}:{:02}.{:03}Z,user{i}@example.com,User,Console login,203.0.113.9,,\n", i / 3600, i / 60 % 60, i % 1000));
    }
    let file = dir.path().join("many.csv");
    std::fs::write(&file, csv).unwrap();
    let store = dir.path().join("store");
    ingest_json(&store, &[&file], &[]);
    let bin = assert_cmd::cargo::cargo_bin("auditlens");
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "set -o pipefail; '{}' query --format csv --store '{}' | head -n 1",
            bin.display(),
            store.display()
        ))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Date observed,"));
}

#[test]
fn output_inside_the_store_is_refused() {
    let (_d, store) = fixture_store();
    auditlens()
        .args(["query", "--format", "csv", "--out"])
        .arg(store.join("events/evil.csv"))
        .arg("--store")
        .arg(&store)
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "refusing to write inside the store",
        ));
}
