//! `unusual-ips` and `analyst-case-actions`: planted cases among ordinary background, ingested and
//! analysed with the real binary; evidence checked against `auditlens query`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Weekday};

use crate::common::*;

const HEADER: &str = "Date observed,Username,User type,Event type,IP address,Affected user,Affected user ID,Actor ID,User agent,Details";

/// One generated export row.
#[derive(Debug, Clone)]
struct Row {
    at: NaiveDateTime,
    user: String,
    event: String,
    ip: String,
    affected: String,
    details: String,
}

fn row(at: NaiveDateTime, user: &str, event: &str, ip: &str) -> Row {
    Row {
        at,
        user: user.into(),
        event: event.into(),
        ip: ip.into(),
        affected: String::new(),
        details: String::new(),
    }
}

/// A CSV field, quoted when it needs to be.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn write_csv(path: &Path, rows: &[Row]) {
    let mut text = format!("{HEADER}\n");
    for r in rows {
        let system = r.user == "SYSTEM";
        text.push_str(
            &[
                r.at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
                field(&r.user),
                (if system { "System" } else { "User" }).to_owned(),
                field(&r.event),
                field(&r.ip),
                field(&r.affected),
                String::new(),
                String::new(),
                "Mozilla/5.0".to_owned(),
                field(&r.details),
            ]
            .join(","),
        );
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

/// Ingest `rows` into a fresh store.
fn store_with(rows: &[Row]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("AuditLog_SearchResults.csv");
    write_csv(&csv, rows);
    let store = dir.path().join("store");
    let (v, code) = ingest_json(&store, &[&csv], &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["stored"].as_u64(), Some(rows.len() as u64), "{v}");
    (dir, store)
}

fn analyze(
    store: &Path,
    only: &str,
    config: Option<&Path>,
    extra: &[&str],
) -> Vec<serde_json::Value> {
    let mut cmd = auditlens();
    cmd.arg("analyze")
        .arg("--store")
        .arg(store)
        .args(["--only", only, "--format", "jsonl", "--no-save"])
        .args(extra);
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    jsonl(cmd.output().unwrap())
}

/// Event ids `auditlens query` returns for these filters, in time order.
fn ids(store: &Path, args: &[&str]) -> Vec<String> {
    query_jsonl(store, args)
        .iter()
        .map(|r| r["event_id"].as_str().unwrap().to_owned())
        .collect()
}

fn s<'a>(f: &'a serde_json::Value, key: &str) -> &'a str {
    f[key].as_str().unwrap_or_default()
}

fn at(date: NaiveDate, h: u32, m: u32) -> NaiveDateTime {
    date.and_hms_opt(h, m, 0).unwrap()
}

/// Weekdays from `from` to `to` inclusive.
fn weekdays(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    from.iter_days()
        .take_while(|d| *d <= to)
        .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
        .collect()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

// ---------------------------------------------------------------------------------------------
// unusual-ips

const DANA: &str = "dana.admin@example.com";
const ERIN: &str = "erin@example.com";
const ATTACKER_IP: &str = "45.33.12.7";
const DANA_HOME: &str = "198.51.100.40";
const ERIN_NEW_OFFICE: &str = "203.0.113.77";
const SHARED_IP: &str = "192.0.2.200";
const DANA_MOBILE: &str = "100.64.200.2";

/// Seven weeks (2026-W10 to W16) of ordinary logins and admin work, plus the planted cases in W16.
fn ip_rows() -> Vec<Row> {
    let days = weekdays(date(2026, 3, 2), date(2026, 4, 17));
    let mut rows = Vec::new();
    for (di, d) in days.iter().enumerate() {
        // Eight users, two per office NAT address; four also work from home in the evening.
        for i in 0..8u32 {
            let user = format!("user{i}@example.com");
            let office = format!("203.0.113.{}", 10 + i / 2);
            rows.push(row(at(*d, 8, i * 5), &user, "Console login", &office));
            if i < 4 {
                let home = format!("198.51.100.{}", i + 1);
                rows.push(row(at(*d, 19, i), &user, "Console login", &home));
            }
        }
        rows.push(row(at(*d, 8, 45), ERIN, "Console login", "203.0.113.20"));
        // Six contractors share one office address, logging in hours apart.
        for i in 0..6u32 {
            let user = format!("contractor{i}@example.com");
            rows.push(row(
                at(*d, 9 + i, 15),
                &user,
                "Console login",
                "203.0.113.30",
            ));
        }
        // The administrator: office logins and role work, sometimes from home.
        rows.push(row(at(*d, 8, 50), DANA, "Console login", "203.0.113.40"));
        if d.weekday() == Weekday::Tue {
            let mut r = row(at(*d, 10, 0), DANA, "User roles assigned", "203.0.113.40");
            r.affected = format!("user{}@example.com", di % 8);
            r.details = r#"{"role":"Customer Cloud Admin"}"#.into();
            rows.push(r);
            let mut r = row(at(*d, 20, 0), DANA, "User roles revoked", DANA_HOME);
            r.affected = format!("user{}@example.com", di % 8);
            r.details = r#"{"role":"Customer Cloud Admin"}"#.into();
            rows.push(r);
        }
        // dana and user7 roam: every week one sign-in from a mobile address never used again.
        if d.weekday() == Weekday::Fri {
            let mobile = format!("100.64.{di}.1");
            rows.push(row(at(*d, 7, 30), DANA, "Console login", &mobile));
        }
        if d.weekday() == Weekday::Wed {
            let mobile = format!("100.65.{di}.7");
            rows.push(row(
                at(*d, 18, 0),
                "user7@example.com",
                "Console login",
                &mobile,
            ));
        }
        // SYSTEM events carry no address.
        let mut r = row(at(*d, 3, 0), "SYSTEM", "Risk setting changed", "");
        r.details = r#"{"settingName":"nightly"}"#.into();
        rows.push(r);
    }
    // Planted (all in 2026-W16): a role grant from a new outside address,
    let wed = date(2026, 4, 15);
    rows.push(row(at(wed, 22, 0), DANA, "Console login", ATTACKER_IP));
    let mut r = row(at(wed, 22, 5), DANA, "User roles assigned", ATTACKER_IP);
    r.affected = "mallory@example.com".into();
    r.details = r#"{"role":"Security Administrator"}"#.into();
    rows.push(r);
    // a privileged action from one more of dana's single-use mobile addresses (her habit),
    let mut r = row(
        at(date(2026, 4, 16), 10, 0),
        DANA,
        "User roles revoked",
        DANA_MOBILE,
    );
    r.affected = "user3@example.com".into();
    r.details = r#"{"role":"Customer Cloud Admin"}"#.into();
    rows.push(r);
    // a new address inside the allowlist,
    rows.push(row(
        at(date(2026, 4, 16), 9, 0),
        ERIN,
        "Console login",
        ERIN_NEW_OFFICE,
    ));
    rows.push(row(
        at(date(2026, 4, 17), 9, 0),
        ERIN,
        "Console login",
        ERIN_NEW_OFFICE,
    ));
    // and one outside address used by six contractors within half an hour.
    for i in 0..6u32 {
        let user = format!("contractor{i}@example.com");
        rows.push(row(
            at(date(2026, 4, 16), 12, i * 5),
            &user,
            "Console login",
            SHARED_IP,
        ));
    }
    rows
}

fn ip_config(dir: &Path) -> PathBuf {
    let path = dir.join("auditlens.toml");
    std::fs::write(
        &path,
        "allowlist = [\"203.0.113.0/24\"]\n\n[unusual_ips]\nbaseline_days = 14\nshared_ip_actors = 5\nshared_ip_window = \"30m\"\n",
    )
    .unwrap();
    path
}

fn find<'a>(
    findings: &'a [serde_json::Value],
    actor: &str,
    ip: &str,
) -> Vec<&'a serde_json::Value> {
    findings
        .iter()
        .filter(|f| s(f, "actor") == actor && s(f, "ip") == ip)
        .collect()
}

#[test]
fn unusual_ips_with_an_allowlist() {
    let (dir, store) = store_with(&ip_rows());
    let cfg = ip_config(dir.path());
    let f = analyze(&store, "unusual-ips", Some(&cfg), &["--week", "2026-W16"]);
    assert!(f.iter().all(|x| s(x, "analysis") == "unusual-ips"));

    // The role grant from a new outside address: high, the first use and the grant as evidence.
    let hits = find(&f, DANA, ATTACKER_IP);
    assert_eq!(hits.len(), 1, "{f:#?}");
    let h = hits[0];
    assert_eq!(s(h, "severity"), "high", "{h}");
    assert_eq!(h["count"], 1);
    let expected = ids(&store, &["--username", DANA, "--ip", ATTACKER_IP]);
    assert_eq!(expected.len(), 2);
    assert_eq!(evidence(h), expected);
    assert!(s(h, "summary").contains("Security Administrator"), "{h}");
    assert!(s(h, "summary").contains("mallory@example.com"), "{h}");

    // A new address inside the allowlist: low, first and last use as evidence.
    let hits = find(&f, ERIN, ERIN_NEW_OFFICE);
    assert_eq!(hits.len(), 1, "{f:#?}");
    assert_eq!(s(hits[0], "severity"), "low");
    assert_eq!(hits[0]["count"], 2);
    assert_eq!(
        evidence(hits[0]),
        ids(&store, &["--username", ERIN, "--ip", ERIN_NEW_OFFICE])
    );
    assert!(s(hits[0], "summary").contains("inside the allowlist"));

    // One outside address, six contractors within 30 minutes: medium, one event per contractor.
    let hits = find(&f, "", SHARED_IP);
    assert_eq!(hits.len(), 1, "{f:#?}");
    assert_eq!(s(hits[0], "severity"), "medium");
    assert_eq!(hits[0]["count"], 6);
    assert_eq!(evidence(hits[0]), ids(&store, &["--ip", SHARED_IP]));
    assert!(
        s(hits[0], "summary").contains("6 distinct actors within 30m"),
        "{}",
        hits[0]
    );
    // Each contractor's first use of it is also a new outside address.
    for i in 0..6 {
        let user = format!("contractor{i}@example.com");
        let hits = find(&f, &user, SHARED_IP);
        assert_eq!(hits.len(), 1);
        assert_eq!(s(hits[0], "severity"), "medium");
    }

    // A privileged action from a known home address is not a new-address case: info only.
    let hits = find(&f, DANA, DANA_HOME);
    assert_eq!(hits.len(), 1, "{f:#?}");
    assert_eq!(s(hits[0], "severity"), "info");
    assert!(s(hits[0], "summary").contains("within the actor's baseline"));

    // Single-use mobile addresses are dana's and user7's habit: one low finding each, with the
    // privileged action from one of them listed and leading the evidence. (The contractors never
    // used one, so theirs above are judged one by one.)
    let single: Vec<_> = f
        .iter()
        .filter(|x| s(x, "subject") == "single-use addresses")
        .collect();
    assert_eq!(single.len(), 2, "{f:#?}");
    let d = single.iter().find(|x| s(x, "actor") == DANA).unwrap();
    assert_eq!(s(d, "severity"), "low");
    assert_eq!(d["count"], 2);
    assert!(
        s(d, "summary").contains("1 privileged action was done from them: User roles revoked"),
        "{d}"
    );
    let revoke = ids(&store, &["--ip", DANA_MOBILE]);
    let friday = ids(&store, &["--username", DANA, "--ip", "100.64.34.1"]);
    assert_eq!(revoke.len(), 1);
    assert_eq!(friday.len(), 1, "the W16 Friday is the 35th weekday");
    assert_eq!(evidence(d), [revoke, friday].concat());
    let u7 = single
        .iter()
        .find(|x| s(x, "actor") == "user7@example.com")
        .unwrap();
    assert_eq!(s(u7, "severity"), "low");
    assert_eq!(u7["count"], 1);
    assert_eq!(
        evidence(u7),
        ids(
            &store,
            &["--username", "user7@example.com", "--ip", s(u7, "ip")]
        )
    );

    // Background: home addresses used since the baseline are info; nothing else above low, and
    // office addresses two users share are no finding at all.
    for x in &f {
        let planted = [
            (DANA, ATTACKER_IP),
            (ERIN, ERIN_NEW_OFFICE),
            ("", SHARED_IP),
        ]
        .contains(&(s(x, "actor"), s(x, "ip")))
            || (s(x, "actor").starts_with("contractor") && s(x, "ip") == SHARED_IP);
        if !planted {
            assert!(rank(s(x, "severity")) <= 1, "background above low: {x}");
            assert!(
                !s(x, "ip").starts_with("203.0.113."),
                "office reported: {x}"
            );
        }
    }
    for i in 0..4 {
        let hits = find(
            &f,
            &format!("user{i}@example.com"),
            &format!("198.51.100.{}", i + 1),
        );
        assert_eq!(hits.len(), 1);
        assert_eq!(s(hits[0], "severity"), "info");
        assert_eq!(hits[0]["count"], 5, "five evenings in the week");
    }
    assert!(f.iter().all(|x| s(x, "actor") != "SYSTEM"));
    // The evidence lies in the period.
    let week: BTreeSet<String> = ids(&store, &["--week", "2026-W16"]).into_iter().collect();
    for x in &f {
        for id in evidence(x) {
            assert!(week.contains(&id), "{x}");
        }
    }
}

#[test]
fn unusual_ips_without_an_allowlist_and_outside_the_period() {
    let (_dir, store) = store_with(&ip_rows());
    let f = analyze(&store, "unusual-ips", None, &["--week", "2026-W16"]);
    // Without an allowlist only the privileged action from a new address goes above low, and
    // only to medium.
    for x in &f {
        if (s(x, "actor"), s(x, "ip")) == (DANA, ATTACKER_IP) {
            assert_eq!(s(x, "severity"), "medium", "{x}");
            assert!(
                s(x, "summary").contains("no allowlist is configured"),
                "{x}"
            );
        } else {
            assert!(rank(s(x, "severity")) <= 1, "{x}");
        }
    }
    assert_eq!(find(&f, DANA, ATTACKER_IP).len(), 1);
    // Known home addresses cannot be judged outside: not reported.
    assert!(find(&f, DANA, DANA_HOME).is_empty());
    // The default window (1h) and threshold (5) still see the shared address, capped at low.
    let shared = find(&f, "", SHARED_IP);
    assert_eq!(shared.len(), 1);
    assert_eq!(s(shared[0], "severity"), "low");

    // The week before: the planted cases have not happened and the baseline is over; only the
    // weekly single-use addresses of the two roaming users.
    let f = analyze(&store, "unusual-ips", None, &["--week", "2026-W15"]);
    let who: BTreeSet<(&str, &str, &str)> = f
        .iter()
        .map(|x| (s(x, "severity"), s(x, "actor"), s(x, "subject")))
        .collect();
    assert_eq!(
        who,
        [
            ("low", DANA, "single-use addresses"),
            ("low", "user7@example.com", "single-use addresses")
        ]
        .into_iter()
        .collect(),
        "{f:#?}"
    );
}

// ---------------------------------------------------------------------------------------------
// analyst-case-actions

const ANALYSTS: [&str; 5] = [
    "bob.analyst@example.com",
    "carol.analyst@example.com",
    "dave.analyst@example.com",
    "frank.analyst@example.com",
    GRACE,
];
const CAROL: &str = "carol.analyst@example.com";
const DAVE: &str = "dave.analyst@example.com";
const GRACE: &str = "grace.analyst@example.com";

/// Six weeks (2026-W11 to W16) of steady case work by five analysts, grace always doing three
/// times as much as the others; in W16 carol exports 40 cases and dave deletes case 1234, which
/// he created in W12.
fn case_rows() -> Vec<Row> {
    let mut rows = Vec::new();
    let mut next_case = 1000;
    for wi in 0..6u32 {
        let monday = date(2026, 3, 9) + Duration::weeks(i64::from(wi));
        for (ai, analyst) in ANALYSTS.iter().enumerate() {
            let ai = ai as u32;
            let ip = format!("203.0.113.{}", 50 + ai);
            let mut week: Vec<(&str, u32)> = vec![
                ("Case created", 2 + (ai + wi) % 2),
                ("Case closed", 2 + (ai * 2 + wi) % 2),
                ("Case exported", 1),
                ("Case assignee changed", 1 + wi % 2),
                ("Case subject changed", wi % 2),
                ("Case file event added", 4 + (ai + 2 * wi) % 3),
                ("Case file event removed", (ai + wi) % 2),
                ("Forensic Search query", 8 + (ai * 3 + wi) % 4),
            ];
            if *analyst == GRACE {
                for (_, n) in &mut week {
                    *n *= 3;
                }
            }
            if *analyst == CAROL && wi == 5 {
                week.push(("Case exported", 40));
            }
            let mut minute = 0;
            for (event, n) in week {
                for _ in 0..n {
                    // Spread over the working week, five minutes apart.
                    let day = monday + Duration::days(i64::from(minute / 480 % 5));
                    let t = at(day, 9, 0) + Duration::minutes(i64::from(minute % 480));
                    minute += 5;
                    let mut r = row(t, analyst, event, &ip);
                    r.details = if event == "Forensic Search query" {
                        r#"{"type":"query","success":true,"resultCount":3}"#.into()
                    } else {
                        let case = if event == "Case created" {
                            next_case += 1;
                            next_case
                        } else {
                            1000 + (minute % 50)
                        };
                        format!(r#"{{"caseNumber":{case}}}"#)
                    };
                    rows.push(r);
                }
            }
        }
    }
    // dave creates case 1234 in W12 and deletes it in W16.
    let mut r = row(
        at(date(2026, 3, 20), 16, 0),
        DAVE,
        "Case created",
        "203.0.113.52",
    );
    r.details = r#"{"caseNumber":1234,"caseName":"Departing engineer"}"#.into();
    rows.push(r);
    let mut r = row(
        at(date(2026, 4, 17), 16, 30),
        DAVE,
        "Case deleted",
        "203.0.113.52",
    );
    r.details = r#"{"caseNumber":1234}"#.into();
    rows.push(r);
    // Ordinary users sign in; they are no analysts.
    for d in weekdays(date(2026, 3, 9), date(2026, 4, 17)) {
        rows.push(row(
            at(d, 8, 0),
            "user0@example.com",
            "Console login",
            "203.0.113.10",
        ));
    }
    rows
}

/// The frame column an event is counted in (written out independently of the analysis).
fn column_of(event: &str) -> Option<&'static str> {
    Some(match event {
        "Case created" => "created",
        "Case closed" => "closed",
        "Case exported" => "exported",
        "Case deleted" => "deleted",
        "Case assignee changed" => "assignee_changed",
        "Case subject changed" => "subject_changed",
        "Case file event added" => "file_event_added",
        "Case file event removed" => "file_event_removed",
        "Forensic Search query" => "searches",
        _ => return None,
    })
}

/// (analyst, ISO week) -> column -> count, counted from the generated rows.
fn expected_counts(rows: &[Row]) -> BTreeMap<(String, String), BTreeMap<&'static str, u64>> {
    let mut m: BTreeMap<(String, String), BTreeMap<&'static str, u64>> = BTreeMap::new();
    for r in rows {
        let Some(c) = column_of(&r.event) else {
            continue;
        };
        let w = r.at.date().iso_week();
        let key = (r.user.clone(), format!("{}-W{:02}", w.year(), w.week()));
        let e = m.entry(key).or_default();
        *e.entry(c).or_default() += 1;
        *e.entry("total").or_default() += 1;
    }
    m
}

#[test]
fn weekly_counts_equal_an_independent_count() {
    use polars::prelude::*;
    let rows = case_rows();
    let (_dir, store) = store_with(&rows);
    let expected = expected_counts(&rows);
    let opened = auditlens::store::Store::open(&store).unwrap();
    let config = auditlens::config::Config::default();
    // The table the run returns beside the findings (the one the weekly report shows).
    let only = auditlens::analyses::select(&["analyst-case-actions".to_owned()]).unwrap();
    let run = auditlens::analyses::run_period(&opened, &config, None, None, &only);
    let df = &run.tables["analyst-case-actions"];
    assert_eq!(df.height(), expected.len(), "{df}");
    let analyst = df.column("analyst").unwrap().str().unwrap();
    let week = df.column("week").unwrap().str().unwrap();
    let mut columns: Vec<&str> = vec![
        "created",
        "closed",
        "exported",
        "deleted",
        "assignee_changed",
        "subject_changed",
        "file_event_added",
        "file_event_removed",
        "searches",
        "total",
    ];
    columns.sort_unstable();
    let mut seen = BTreeMap::new();
    for i in 0..df.height() {
        let key = (
            analyst.get(i).unwrap().to_owned(),
            week.get(i).unwrap().to_owned(),
        );
        let want = &expected[&key];
        let mut got = BTreeMap::new();
        for c in &columns {
            let v = df.column(c).unwrap().cast(&DataType::UInt64).unwrap();
            let n = v.u64().unwrap().get(i).unwrap();
            if n > 0 {
                got.insert(*c, n);
            }
        }
        // Case archived is counted too but never generated here.
        assert_eq!(
            df.column("archived")
                .unwrap()
                .cast(&DataType::UInt64)
                .unwrap()
                .u64()
                .unwrap()
                .get(i),
            Some(0)
        );
        assert_eq!(&got, want, "{key:?}");
        seen.insert(key, ());
    }
    assert_eq!(seen.len(), expected.len());

    // The info findings carry the same totals, per analyst, for the period's week only.
    let f = analyze(
        &store,
        "analyst-case-actions",
        None,
        &["--week", "2026-W16"],
    );
    let infos: Vec<_> = f.iter().filter(|x| s(x, "severity") == "info").collect();
    assert_eq!(infos.len(), ANALYSTS.len(), "{f:#?}");
    for x in infos {
        let key = (s(x, "actor").to_owned(), "2026-W16".to_owned());
        assert_eq!(s(x, "subject"), "2026-W16");
        assert_eq!(x["count"].as_u64(), Some(expected[&key]["total"]), "{x}");
    }
}

#[test]
fn case_bursts_and_deletions() {
    let rows = case_rows();
    let (_dir, store) = store_with(&rows);
    let f = analyze(
        &store,
        "analyst-case-actions",
        None,
        &["--week", "2026-W16"],
    );
    let expected = expected_counts(&rows);

    // One info finding per analyst, with the week's counts spelled out.
    for a in ANALYSTS {
        let info: Vec<_> = f
            .iter()
            .filter(|x| s(x, "actor") == a && s(x, "severity") == "info")
            .collect();
        assert_eq!(info.len(), 1, "{a}: {f:#?}");
        let want = &expected[&(a.to_owned(), "2026-W16".to_owned())];
        let summary = s(info[0], "summary");
        assert!(
            summary.starts_with(&format!("{a}, 2026-W16: ")),
            "{summary}"
        );
        let searches = want["searches"];
        assert!(
            summary.ends_with(&format!("{searches} forensic searches")),
            "{summary}"
        );
        assert!(
            summary.contains(&format!("{} created", want["created"])),
            "{summary}"
        );
        let all = ids(
            &store,
            &[
                "--username",
                a,
                "--week",
                "2026-W16",
                "--category",
                "Cases,Forensic Searches",
            ],
        );
        let got: BTreeSet<String> = evidence(info[0]).into_iter().collect();
        assert_eq!(got, all.into_iter().collect::<BTreeSet<_>>(), "{a}");
    }

    // carol's burst of exports: high, against her own weeks and her peers.
    let bursts: Vec<_> = f
        .iter()
        .filter(|x| rank(s(x, "severity")) >= 2 && s(x, "subject") == "2026-W16")
        .collect();
    assert_eq!(bursts.len(), 1, "{f:#?}");
    let b = bursts[0];
    assert_eq!(s(b, "actor"), CAROL);
    assert_eq!(s(b, "severity"), "high", "{b}");
    let summary = s(b, "summary");
    assert!(summary.contains("their own other weeks"), "{summary}");
    assert!(summary.contains("peers that week"), "{summary}");
    assert!(
        summary.contains("driven by exports and deletions (41 this week)"),
        "{summary}"
    );
    let exports = ids(
        &store,
        &[
            "--username",
            CAROL,
            "--week",
            "2026-W16",
            "--event-type",
            "Case exported",
        ],
    );
    assert_eq!(exports.len(), 41);
    // Exports lead the evidence.
    assert_eq!(evidence(b)[..41], exports[..]);

    // dave's deletion: medium, the deletion and the case's creation as evidence.
    let del: Vec<_> = f.iter().filter(|x| s(x, "subject") == "1234").collect();
    assert_eq!(del.len(), 1, "{f:#?}");
    assert_eq!(s(del[0], "severity"), "medium");
    assert_eq!(s(del[0], "actor"), DAVE);
    let deleted = ids(&store, &["--event-type", "Case deleted"]);
    let created = ids(
        &store,
        &[
            "--event-type",
            "Case created",
            "--from",
            "2026-03-20T16:00:00Z",
            "--to",
            "2026-03-20T16:00:01Z",
        ],
    );
    assert_eq!(evidence(del[0]), [deleted, created].concat());
    assert!(s(del[0], "summary").contains("created by dave.analyst@example.com"));

    // Nothing else is above info: steady weeks are no bursts, and neither is grace's steady
    // workload, high as it is against her peers.
    assert_eq!(
        f.iter().filter(|x| rank(s(x, "severity")) >= 1).count(),
        2,
        "{f:#?}"
    );

    // The weeks before: no burst, no deletion, only the weekly counts.
    let f = analyze(
        &store,
        "analyst-case-actions",
        None,
        &["--from", "2026-03-09", "--to", "2026-04-12"],
    );
    assert_eq!(f.len(), ANALYSTS.len() * 5, "{f:#?}");
    assert!(f.iter().all(|x| s(x, "severity") == "info"), "{f:#?}");
}
