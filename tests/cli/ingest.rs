//! `auditlens ingest`: formats, deduplication, accounting, quarantine, file-level errors, locking.

use std::io::Write;

use polars::prelude::*;

use crate::common::*;

const CONSOLE_HEADER: &str =
    "Date observed,Username,User type,Event type,IP address,Affected user,Details\r\n";

/// A valid console CSV row, unique per `i`.
fn good_row(i: usize) -> String {
    let (day, rest) = (1 + i / 1000 % 28, i % 1000);
    format!(
        "2026-04-{day:02}T{:02}:{:02}:{:02}.{:03}Z,user{}@example.com,User,Console login,203.0.113.{},,\r\n",
        8 + rest / 120,
        rest / 2 % 60,
        rest % 60,
        i % 1000,
        i % 37,
        i % 250
    )
}

#[test]
fn every_fixture_format_maps_the_same_events() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    // The console CSV and the JSON layouts carry the same typed fields, so they are the same
    // events: stored once, then duplicates.
    let files = [
        "console.csv",
        "events.jsonl",
        "events.json",
        "events-array.json",
        "envelope.json",
        "console.csv.gz",
    ];
    let paths: Vec<_> = files.iter().map(|f| fixture(f)).collect();
    let refs: Vec<&std::path::Path> = paths.iter().map(|p| p.as_path()).collect();
    let (v, code) = ingest_json(&store, &refs, &[]);
    assert_eq!(code, 0, "{v}");
    assert_accounting(&v);
    let formats: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["format"].as_str().unwrap())
        .collect();
    assert_eq!(
        formats,
        [
            "console-csv",
            "json-lines",
            "json-concatenated",
            "json-array",
            "json-api-envelope",
            "console-csv"
        ]
    );
    assert_eq!(v["stored"], 14);
    assert_eq!(v["duplicates"], 14 * 5);
    assert_eq!(
        v["files"][5]["already_ingested"], false,
        "the .gz is a different file with the same rows"
    );

    let df = stored_events(&store);
    let s = |c: &str, i: usize| {
        df.column(c)
            .unwrap()
            .get(i)
            .unwrap()
            .to_string()
            .trim_matches('"')
            .to_string()
    };
    // Row 0: a console login behind a proxy chain; the client is the first address.
    assert_eq!(s("event_type", 0), "logged_in");
    assert_eq!(s("category", 0), "Authorization");
    assert_eq!(s("client_ip", 0), "203.0.113.5");
    assert_eq!(
        df.column("ip_addresses")
            .unwrap()
            .get(0)
            .unwrap()
            .to_string(),
        "[\"203.0.113.5\", \"64.252.71.111\"]"
    );
    // Row 1: six fractional digits are kept; the search event's own `type` field is a detail.
    assert_eq!(s("timestamp_ns", 1), "1776071701000111000");
    assert_eq!(s("event_type", 1), "search_issued");
    let d1 = df.column("details").unwrap().str().unwrap().get(1).unwrap();
    let d1: serde_json::Value = serde_json::from_str(d1).unwrap();
    assert_eq!(d1["type"], "query");
    assert_eq!(d1["resultCount"], 12);
    assert_eq!(d1["success"], true);
    // Row 2: the affected user of a role change.
    assert_eq!(s("affected_user_name", 2), "carol@example.com");
    assert_eq!(s("affected_user_id", 2), "898209175991065680");
    // Row 4: a user added by the Code42 support user.
    assert_eq!(s("actor_type", 4), "support_user");
    assert_eq!(s("event_type", 4), "user_registered");
    // Row 5: an event with no actor fields at all.
    assert_eq!(s("actor_type", 5), "unknown");
    assert_eq!(
        df.column("actor_name").unwrap().get(5).unwrap(),
        AnyValue::Null
    );
    // Row 6: nine fractional digits survive.
    assert!(s("timestamp_ns", 6).ends_with("093616500"));
    // Row 7: IPv6 client.
    assert_eq!(s("client_ip", 7), "2001:db8::7");
    // Row 9: an event type the catalog does not know is kept under Other.
    assert_eq!(s("event_type", 9), "brand_new_event");
    assert_eq!(s("category", 9), "Other");
    assert_eq!(s("actor_type", 9), "system");
    // Row 10: deprecated type; the literal "null" address is no address.
    assert_eq!(s("deprecated", 10), "true");
    assert_eq!(
        df.column("client_ip").unwrap().get(10).unwrap(),
        AnyValue::Null
    );
}

#[test]
fn api_and_incydr_csv_map_by_header_name_in_any_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let (v, code) = ingest_json(&store, &[&fixture("api.csv")], &[]);
    assert_eq!(code, 0);
    assert_eq!(v["files"][0]["format"], "api-csv");
    assert_eq!(v["stored"], 14);
    let df = stored_events(&store);
    let types: Vec<&str> = df
        .column("event_type")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    assert_eq!(types[0], "logged_in");
    assert_eq!(types[1], "search_issued");
    let d1: serde_json::Value =
        serde_json::from_str(df.column("details").unwrap().str().unwrap().get(1).unwrap()).unwrap();
    // Python True becomes a boolean; the JSON document inside a string stays a string.
    assert_eq!(d1["success"], true);
    assert!(
        d1["requestJson"]
            .as_str()
            .unwrap()
            .starts_with("{\"groups\"")
    );
    let d9: serde_json::Value =
        serde_json::from_str(df.column("details").unwrap().str().unwrap().get(9).unwrap()).unwrap();
    assert_eq!(
        d9["detail"],
        serde_json::json!({"nested": [1, 2, {"k": "v"}]}),
        "Python repr of a dict"
    );
    // The multi-line note (a quoted CSV field spanning lines) is intact.
    let d11: serde_json::Value = serde_json::from_str(
        df.column("details")
            .unwrap()
            .str()
            .unwrap()
            .get(11)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(d11["note"], "line one\nline two, with a comma");
    // userName in API naming is the affected user, not the actor.
    assert_eq!(
        df.column("affected_user_name")
            .unwrap()
            .str()
            .unwrap()
            .get(2),
        Some("carol@example.com")
    );
    assert_eq!(
        df.column("actor_name").unwrap().str().unwrap().get(2),
        Some("dana.admin@example.com")
    );

    let store2 = dir.path().join("store2");
    let (v, _) = ingest_json(&store2, &[&fixture("incydr.csv")], &[]);
    assert_eq!(v["files"][0]["format"], "incydr-csv");
    assert_eq!(v["stored"], 14);
    let df = stored_events(&store2);
    assert_eq!(
        df.column("client_ip").unwrap().str().unwrap().get(0),
        Some("203.0.113.5")
    );
}

#[test]
fn the_same_file_twice_and_overlapping_exports_store_each_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let rows: Vec<String> = (0..900).map(good_row).collect();
    let a = dir.path().join("week1.csv");
    let b = dir.path().join("week2.csv");
    std::fs::write(&a, format!("{CONSOLE_HEADER}{}", rows[..600].concat())).unwrap();
    // The second export overlaps the first by half and lists events newest first.
    let mut second: Vec<&String> = rows[300..].iter().collect();
    second.reverse();
    std::fs::write(
        &b,
        format!(
            "{CONSOLE_HEADER}{}",
            second.iter().map(|s| s.as_str()).collect::<String>()
        ),
    )
    .unwrap();

    let (v, _) = ingest_json(&store, &[&a], &[]);
    assert_eq!(
        (v["stored"].as_u64(), v["duplicates"].as_u64()),
        (Some(600), Some(0))
    );
    let (v, _) = ingest_json(&store, &[&a, &b], &[]);
    assert_accounting(&v);
    assert_eq!(v["files"][0]["already_ingested"], true);
    assert_eq!(v["files"][0]["duplicates"], 600);
    assert_eq!(v["files"][1]["stored"], 300);
    assert_eq!(v["files"][1]["duplicates"], 300);
    assert_eq!(stored_events(&store).height(), 900);

    // The text summary states the accounting per file and in total.
    auditlens()
        .args(["ingest", "--store"])
        .arg(&store)
        .arg(&b)
        .assert()
        .success()
        .stdout(predicates::str::contains("already ingested"))
        .stdout(predicates::str::contains(
            "total: read 600 = stored 0 + duplicates 600 + quarantined 0",
        ));
}

#[test]
fn a_thousand_and_seven_records_account_for_every_line() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let mut data: Vec<u8> = CONSOLE_HEADER.as_bytes().to_vec();
    let mut line = 2u64; // physical line of the next record
    let mut expected_bad: Vec<(u64, &str)> = Vec::new();
    let mut good = 0;
    let mut multi_line_at = 0;
    for i in 0..1000 {
        // Six broken records and one duplicate interleaved with the good ones.
        match i {
            100 => {
                data.extend_from_slice(
                    b"2026-04-02T10:00:00Z,short@example.com,User,Console login\r\n",
                );
                expected_bad.push((line, "expected 7 fields"));
                line += 1;
            }
            200 => {
                data.extend_from_slice(
                    b"2026-13-45T99:00:00Z,late@example.com,User,Console login,203.0.113.1,,\r\n",
                );
                expected_bad.push((line, "bad timestamp"));
                line += 1;
            }
            300 => {
                data.extend_from_slice(
                    b"2026-04-03T10:00:00Z,notype@example.com,User,,203.0.113.1,,\r\n",
                );
                expected_bad.push((line, "empty event type"));
                line += 1;
            }
            400 => {
                data.extend_from_slice(b"2026-04-03T11:00:00Z,bad\xff\xfeutf8@example.com,User,Console login,203.0.113.1,,\r\n");
                expected_bad.push((line, "invalid UTF-8"));
                line += 1;
            }
            500 => {
                data.extend_from_slice(
                    b"2026-04-03T12:00:00Z,\"open@example.com,User,Console login,203.0.113.1,,\r\n",
                );
                expected_bad.push((line, "unterminated quoted field"));
                line += 1;
            }
            600 => {
                data.extend_from_slice(b"2026-04-03T13:00:00Z,long@example.com,User,Console login,203.0.113.1,,,extra\r\n");
                expected_bad.push((line, "expected 7 fields"));
                line += 1;
            }
            700 => {
                // An exact duplicate of the previous good record.
                let dup = good_row(699);
                data.extend_from_slice(dup.as_bytes());
                line += 1;
            }
            _ => {}
        }
        if i == 800 {
            // A good record whose Details spans two physical lines.
            data.extend_from_slice(
                b"2026-04-05T10:00:00.5Z,multi@example.com,User,Alert note edited,198.51.100.7,,\"{\"\"note\"\":\"\"first\nsecond\"\"}\"\r\n",
            );
            multi_line_at = line;
            line += 2;
        } else {
            data.extend_from_slice(good_row(i).as_bytes());
            line += 1;
        }
        good += 1;
    }
    assert_eq!(good, 1000);
    let file = dir.path().join("export.csv");
    std::fs::write(&file, &data).unwrap();

    let (v, code) = ingest_json(&store, &[&file], &[]);
    assert_eq!(code, 0, "{v}");
    assert_accounting(&v);
    assert_eq!(v["rows_read"], 1007);
    assert_eq!(v["stored"], 1000);
    assert_eq!(v["duplicates"], 1);
    assert_eq!(v["quarantined"], 6);

    // The quarantine names each broken record's physical line and why.
    let out = auditlens()
        .args(["quarantine", "--format", "json", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    assert!(out.status.success());
    let q: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let got: Vec<(u64, String)> = q
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().unwrap(),
                r["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(got.len(), 6, "{got:?}");
    for ((gl, reason), (el, want)) in got.iter().zip(&expected_bad) {
        assert_eq!(gl, el, "{got:?}");
        assert!(
            reason.contains(want),
            "line {gl}: {reason:?} should say {want:?}"
        );
    }
    // The invalid UTF-8 is reported against its column.
    assert_eq!(q[3]["column"], "Username");

    // The two-line record is stored whole, at its first physical line.
    let df = stored_events(&store);
    let mask = df
        .column("actor_name")
        .unwrap()
        .str()
        .unwrap()
        .equal("multi@example.com");
    let multi = df.filter(&mask).unwrap();
    assert_eq!(multi.height(), 1);
    assert_eq!(
        multi.column("source_line").unwrap().u64().unwrap().get(0),
        Some(multi_line_at)
    );
    let d: serde_json::Value = serde_json::from_str(
        multi
            .column("details")
            .unwrap()
            .str()
            .unwrap()
            .get(0)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(d["note"], "first\nsecond");
}

#[test]
fn unreadable_files_fail_alone_and_name_what_was_expected() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let (v, code) = ingest_json(
        &store,
        &[
            &fixture("broken/binary.bin"),
            &fixture("broken/truncated.csv.gz"),
            &fixture("broken/unknown-header.csv"),
            &fixture("broken/empty.csv"),
            &fixture("broken/header-only.csv"),
            &fixture("console.csv"),
        ],
        &[],
    );
    assert_eq!(code, 1, "a failed file makes the run exit 1");
    assert_accounting(&v);
    let err = |i: usize| {
        v["files"][i]["error"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert!(err(0).contains("binary data"), "{}", err(0));
    assert!(err(1).contains("gzip"), "{}", err(1));
    assert!(
        err(2).contains("line 1")
            && err(2).contains("no event time column")
            && err(2).contains("when, who, what"),
        "{}",
        err(2)
    );
    assert!(err(3).contains("empty"), "{}", err(3));
    assert!(
        v["files"][4]["error"].is_null(),
        "a header-only file is valid and empty"
    );
    assert_eq!(v["failed_files"], 4);
    assert_eq!(v["stored"], 14, "the good file still ingests");
    // Nothing of the failed files was left in the store.
    let parts = walk(&store.join("events"));
    assert!(
        parts
            .iter()
            .all(|p| p.extension().is_some_and(|e| e == "parquet")),
        "{parts:?}"
    );
    assert_eq!(stored_events(&store).height(), 14);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn directories_globs_and_gzip_are_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("exports");
    std::fs::create_dir_all(input.join("april")).unwrap();
    std::fs::copy(fixture("console.csv.gz"), input.join("april/a.csv.gz")).unwrap();
    std::fs::copy(fixture("incydr.csv"), input.join("b.csv")).unwrap();
    std::fs::write(input.join("notes.md"), "not an export").unwrap();
    let store = dir.path().join("store");
    let (v, code) = ingest_json(&store, &[&input], &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["stored"], 28);
    assert_eq!(v["skipped_files"], 1);

    let store2 = dir.path().join("store2");
    let pattern = format!("{}/april/*.gz", input.display());
    let (v, _) = ingest_json(&store2, &[std::path::Path::new(&pattern)], &[]);
    assert_eq!(v["stored"], 14);
}

#[test]
fn column_map_covers_a_header_nobody_has_seen() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("odd.csv");
    std::fs::write(
        &file,
        "When,Who,What,Where\n2026-04-01 09:00:00,alice@example.com,Console login,203.0.113.9\n",
    )
    .unwrap();
    let store = dir.path().join("store");
    let (v, code) = ingest_json(&store, &[&file], &[]);
    assert_eq!(code, 1);
    assert!(
        v["files"][0]["error"]
            .as_str()
            .unwrap()
            .contains("--column-map")
    );
    let (v, code) = ingest_json(
        &store,
        &[&file],
        &[
            "--column-map",
            "When=timestamp",
            "--column-map",
            "What=Event type",
            "--column-map",
            "Who=actor_name",
        ],
    );
    assert_eq!(code, 0, "{v}");
    let df = stored_events(&store);
    assert_eq!(
        df.column("actor_name").unwrap().str().unwrap().get(0),
        Some("alice@example.com")
    );
    // Unmapped columns are kept as details, not dropped.
    let d: serde_json::Value =
        serde_json::from_str(df.column("details").unwrap().str().unwrap().get(0).unwrap()).unwrap();
    assert_eq!(d["Where"], "203.0.113.9");
    // A bad mapping is a usage error.
    auditlens()
        .args(["ingest", "--column-map", "When=nonsense", "--store"])
        .arg(&store)
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("is not a field"));
}

#[test]
fn a_second_writer_gets_a_clear_error_or_waits() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let (_, code) = ingest_json(&store, &[&fixture("console.csv")], &[]);
    assert_eq!(code, 0);
    // Hold the store's lock as another ingest would.
    let lock = std::fs::OpenOptions::new()
        .write(true)
        .open(store.join("_auditlens/lock"))
        .unwrap();
    lock.lock().unwrap();
    (&lock)
        .write_all(b"pid 4242 since 2026-04-01T00:00:00Z")
        .unwrap();
    auditlens()
        .args(["ingest", "--store"])
        .arg(&store)
        .arg(fixture("incydr.csv"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "is locked by another auditlens process (pid 4242",
        ));
    // With --wait it proceeds once the lock is released.
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(700));
        drop(lock);
    });
    let (v, code) = ingest_json(&store, &[&fixture("incydr.csv")], &["--wait"]);
    releaser.join().unwrap();
    assert_eq!(code, 0);
    assert_eq!(v["stored"], 14);
    assert_eq!(stored_events(&store).height(), 28);
}

/// Text outside ASCII is stored as written, in unquoted and quoted fields and inside `Details`,
/// both in an export that is valid UTF-8 throughout and in one where a row has invalid bytes
/// (which alone is quarantined, against its column).
#[test]
fn non_ascii_text_is_stored_as_written_beside_invalid_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        "2026-04-06T09:00:00Z,josé@example.com,User,Console login,203.0.113.9,,\r\n",
        concat!(
            r#"2026-04-06T09:01:00Z,"Zoë, Ops",User,Alert note edited,203.0.113.9,,"#,
            r#""{""note"":""受信 ✓ \""ok\"" 🚀""}""#,
            "\r\n"
        ),
        "2026-04-06T09:02:00Z,ünal@example.com,User,User added,203.0.113.9,Åsa Öberg,\r\n",
    ];
    let mut valid = CONSOLE_HEADER.as_bytes().to_vec();
    let mut broken = CONSOLE_HEADER.as_bytes().to_vec();
    for row in rows {
        valid.extend_from_slice(row.as_bytes());
        broken.extend_from_slice(row.replace("09:0", "10:0").as_bytes());
    }
    broken.extend_from_slice(
        b"2026-04-06T10:03:00Z,caf\xe9@example.com,User,Console login,203.0.113.9,,\r\n",
    );
    let (a, b) = (dir.path().join("valid.csv"), dir.path().join("broken.csv"));
    std::fs::write(&a, &valid).unwrap();
    std::fs::write(&b, &broken).unwrap();
    let store = dir.path().join("store");
    let (v, code) = ingest_json(&store, &[&a, &b], &[]);
    assert_eq!(code, 0, "{v}");
    assert_accounting(&v);
    assert_eq!(
        (&v["stored"], &v["quarantined"]),
        (&6.into(), &1.into()),
        "{v}"
    );

    let df = stored_events(&store)
        .sort(["timestamp_ns"], SortMultipleOptions::default())
        .unwrap();
    let col = |name: &str| -> Vec<Option<String>> {
        let c = df.column(name).unwrap().str().unwrap().clone();
        c.iter().map(|v| v.map(str::to_owned)).collect()
    };
    let names: Vec<Option<String>> = ["josé@example.com", "Zoë, Ops", "ünal@example.com"]
        .repeat(2)
        .into_iter()
        .map(|s| Some(s.to_owned()))
        .collect();
    assert_eq!(col("actor_name"), names);
    let affected = col("affected_user_name");
    assert_eq!(
        (affected[2].as_deref(), affected[5].as_deref()),
        (Some("Åsa Öberg"), Some("Åsa Öberg"))
    );
    let details = col("details");
    for i in [1, 4] {
        let d: serde_json::Value = serde_json::from_str(details[i].as_deref().unwrap()).unwrap();
        assert_eq!(d["note"], "受信 ✓ \"ok\" 🚀", "{d}");
    }

    let out = auditlens()
        .args(["quarantine", "--format", "json", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    let q: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(q[0]["line"], 5, "{q}");
    assert_eq!(q[0]["column"], "Username", "{q}");
    assert!(
        q[0]["reason"].as_str().unwrap().contains("invalid UTF-8"),
        "{q}"
    );
}
