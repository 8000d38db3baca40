//! Realistic-scale checks on generated exports: the same events in three layouts store the same
//! way, and query counts equal an independent computation from the raw export.
//!
//! The size is `AUDITLENS_TEST_EVENTS` (default 20,000; the acceptance runs use 200,000 with
//! `cargo test --release`).

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use crate::common::*;
use polars::prelude::*;

fn events() -> u64 {
    std::env::var("AUDITLENS_TEST_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

fn generate(dir: &Path, format: &str, name: &str) -> PathBuf {
    let out = dir.join(name);
    auditlens()
        .args([
            "generate",
            "--seed",
            "11",
            "--events",
            &events().to_string(),
            "--format",
            format,
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    out
}

#[test]
fn the_same_events_in_three_layouts_store_identically() {
    let dir = tempfile::tempdir().unwrap();
    let n = events();
    let mut per_store = Vec::new();
    for (format, name) in [
        ("console-csv", "console.csv"),
        ("api-csv", "api.csv"),
        ("jsonl", "events.jsonl"),
    ] {
        let file = generate(dir.path(), format, name);
        let store = dir.path().join(format!("store-{format}"));
        let (v, code) = ingest_json(&store, &[&file], &[]);
        assert_eq!(code, 0, "{v}");
        assert_accounting(&v);
        assert_eq!(v["stored"], n, "{format}: {v}");
        assert_eq!(v["quarantined"], 0, "{format}");
        let s = stats_json(&store, &["--by", "week"]);
        assert_eq!(s["total_events"], n);
        per_store.push((format, s["periods"].clone()));
    }
    // Console CSV is CRLF, oldest first; the API CSV newest first in another column order.
    let console = std::fs::read(dir.path().join("console.csv")).unwrap();
    assert!(console.windows(2).any(|w| w == b"\r\n"));
    for (format, periods) in &per_store[1..] {
        assert_eq!(
            periods, &per_store[0].1,
            "per-week, per-category counts of {format} differ from console-csv"
        );
    }
}

/// A raw event from the JSON Lines export, reduced to what the filters look at.
struct Raw {
    ts: String,
    actor: Option<String>,
    actor_type: String,
    event_type: String,
    ips: Vec<String>,
    affected: Option<String>,
}

fn load_raw(path: &Path) -> Vec<Raw> {
    let text = std::fs::read_to_string(path).unwrap();
    let str_of = |v: &serde_json::Value, k: &str| {
        v.get(k)
            .and_then(|x| x.as_str())
            .filter(|s| !s.is_empty() && *s != "null")
            .map(str::to_owned)
    };
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let t = str_of(&v, "type$").unwrap();
            let event_type = t
                .trim_start_matches("audit_log::")
                .rsplit_once('/')
                .map_or(t.clone(), |(n, _)| n.to_owned());
            let actor = str_of(&v, "actorName");
            let actor_type = match str_of(&v, "actorType").as_deref() {
                Some("USER") => "user",
                Some("SUPPORT_USER") => "support",
                Some("API_CLIENT") => "api",
                Some("SYSTEM") => "system",
                None if actor.as_deref() == Some("SYSTEM") => "system",
                _ => "unknown",
            }
            .to_owned();
            let ips = str_of(&v, "actorIpAddress")
                .map(|s| {
                    s.split(',')
                        .map(|p| p.trim().to_owned())
                        .filter(|p| !p.is_empty() && p != "null")
                        .collect()
                })
                .unwrap_or_default();
            Raw {
                ts: str_of(&v, "timestamp").unwrap(),
                actor,
                actor_type,
                event_type,
                ips,
                affected: str_of(&v, "userName"),
            }
        })
        .collect()
}

/// The catalog's category of each API name, read from the data file (not through the code under test).
fn categories() -> HashMap<String, String> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/model/catalog.csv"),
    )
    .unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("api_name"))
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f.len() > 2).then(|| (f[0].to_owned(), f[2].to_owned()))
        })
        .collect()
}

/// The standard output of a successful `auditlens query OUTPUT_ARGS ARGS`.
fn query_stdout(store: &Path, output_args: &[&str], args: &[&str]) -> Vec<u8> {
    let out = auditlens()
        .arg("query")
        .arg("--store")
        .arg(store)
        .args(output_args)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// How many events `query --format jsonl` writes for the filter `args`.
fn count(store: &Path, args: &[&str]) -> usize {
    let out = query_stdout(store, &["--format", "jsonl"], args);
    out.iter().filter(|b| **b == b'\n').count()
}

/// Seconds since the epoch of an ISO timestamp, for range checks without the code under test.
fn secs(ts: &str) -> i64 {
    let d = |a: usize, b: usize| ts[a..b].parse::<i64>().unwrap();
    let (y, m, day) = (d(0, 4), d(5, 7), d(8, 10));
    // Days from civil (Howard Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + d(11, 13) * 3600 + d(14, 16) * 60 + d(17, 19)
}

fn in_v4_block(ip: &str, net: [u8; 3]) -> bool {
    ip.parse::<Ipv4Addr>().is_ok_and(|a| a.octets()[..3] == net)
}

#[test]
fn query_counts_equal_an_independent_count_of_the_export() {
    let dir = tempfile::tempdir().unwrap();
    let file = generate(dir.path(), "jsonl", "events.jsonl");
    let store = dir.path().join("store");
    let (v, _) = ingest_json(&store, &[&file], &[]);
    assert_eq!(v["stored"], events());
    let raw = load_raw(&file);
    let cats = categories();
    let cat = |r: &Raw| {
        cats.get(&r.event_type)
            .cloned()
            .unwrap_or_else(|| "Other".into())
    };

    // Two real usernames (one upper-cased: matching is case-insensitive), a real affected user.
    let mut by_actor: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &raw {
        if let Some(a) = &r.actor {
            *by_actor.entry(a.as_str()).or_default() += 1;
        }
    }
    let mut actors: Vec<(&str, usize)> = by_actor
        .into_iter()
        .filter(|(a, _)| a.contains('@'))
        .collect();
    actors.sort_by_key(|(a, n)| (std::cmp::Reverse(*n), a.to_string()));
    let (u1, u2) = (actors[0].0.to_owned(), actors[3].0.to_owned());
    let affected = raw.iter().find_map(|r| r.affected.clone()).unwrap();
    // A proxy address that only ever appears second in a chain.
    let proxy = raw
        .iter()
        .find_map(|r| (r.ips.len() > 1).then(|| r.ips[1].clone()))
        .unwrap();
    let from = "2026-04-06";
    let to = "2026-04-12"; // a bare --to date includes the whole day
    let (lo, hi) = (secs("2026-04-06T00:00:00Z"), secs("2026-04-13T00:00:00Z"));
    let as_of = "2026-04-20T12:00:00Z";
    let last_lo = secs(as_of) - 7 * 86_400;

    type Check<'a> = (Vec<String>, Box<dyn Fn(&Raw) -> bool + 'a>);
    let checks: Vec<Check<'_>> = vec![
        (
            vec!["--username".into(), format!("{},{}", u1.to_uppercase(), u2)],
            Box::new(|r: &Raw| {
                r.actor
                    .as_deref()
                    .is_some_and(|a| a.eq_ignore_ascii_case(&u1) || a.eq_ignore_ascii_case(&u2))
            }),
        ),
        (
            vec!["--user-type".into(), "support".into()],
            Box::new(|r: &Raw| r.actor_type == "support"),
        ),
        (
            vec![
                "--user-type".into(),
                "api-client".into(),
                "--user-type".into(),
                "system".into(),
            ],
            Box::new(|r: &Raw| r.actor_type == "api" || r.actor_type == "system"),
        ),
        (
            vec!["--from".into(), from.into(), "--to".into(), to.into()],
            Box::new(|r: &Raw| (lo..hi).contains(&secs(&r.ts))),
        ),
        (
            vec!["--last".into(), "7d".into(), "--as-of".into(), as_of.into()],
            Box::new(|r: &Raw| (last_lo..secs(as_of)).contains(&secs(&r.ts))),
        ),
        (
            vec!["--event-type".into(), "Console login".into()],
            Box::new(|r: &Raw| r.event_type == "logged_in"),
        ),
        (
            vec![
                "--event-type".into(),
                "search_issued,audit_log::case_created/1".into(),
            ],
            Box::new(|r: &Raw| r.event_type == "search_issued" || r.event_type == "case_created"),
        ),
        (
            vec!["--category".into(), "User updates".into()],
            Box::new(|r: &Raw| cat(r) == "User updates"),
        ),
        (
            vec!["--ip".into(), "203.0.113.0/24".into()],
            Box::new(|r: &Raw| r.ips.iter().any(|i| in_v4_block(i, [203, 0, 113]))),
        ),
        (
            vec!["--ip".into(), proxy.clone()],
            Box::new(|r: &Raw| r.ips.contains(&proxy)),
        ),
        (
            vec!["--affected-user".into(), affected.to_uppercase()],
            Box::new(|r: &Raw| {
                r.affected
                    .as_deref()
                    .is_some_and(|a| a.eq_ignore_ascii_case(&affected))
            }),
        ),
        (
            vec![
                "--category".into(),
                "Cases".into(),
                "--user-type".into(),
                "user".into(),
                "--from".into(),
                from.into(),
                "--to".into(),
                to.into(),
            ],
            Box::new(|r: &Raw| {
                cat(r) == "Cases" && r.actor_type == "user" && (lo..hi).contains(&secs(&r.ts))
            }),
        ),
    ];
    for (args, pred) in &checks {
        let want = raw.iter().filter(|r| pred(r)).count();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        assert!(
            want > 0,
            "{args:?} selects nothing: a test that cannot fail"
        );
        assert_eq!(count(&store, &refs), want, "{args:?}");
        assert_eq!(count_only(&store, &refs), want, "--count {args:?}");
    }
}

/// What `query --count` prints for the filter `args`.
fn count_only(store: &Path, args: &[&str]) -> usize {
    let text = String::from_utf8(query_stdout(store, &["--count"], args)).unwrap();
    text.trim_end()
        .parse()
        .unwrap_or_else(|_| panic!("--count printed {text:?}"))
}

/// Parts are ordered by event type, then time, so scans for a few types skip row groups by their
/// statistics (README, "The store"). A day this small is written at once, so each part is sorted
/// as a whole. (The 16,384-row groups show only on days larger than these; bench/NOTES.md has
/// the benchmark store's.)
#[test]
fn parts_are_sorted_by_type_then_time() {
    let dir = tempfile::tempdir().unwrap();
    let file = generate(dir.path(), "console-csv", "console.csv");
    let store = dir.path().join("store");
    auditlens()
        .args(["ingest", "--quiet", "--store"])
        .arg(&store)
        .arg(&file)
        .assert()
        .success();
    let parts: Vec<PathBuf> = glob::glob(&format!("{}/events/*/*.parquet", store.display()))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(parts.len() > 10, "{} parts", parts.len());
    for part in parts {
        let df = ParquetReader::new(std::fs::File::open(&part).unwrap())
            .finish()
            .unwrap();
        let types = df.column("event_type").unwrap().str().unwrap();
        let ts = df.column("timestamp_ns").unwrap().i64().unwrap();
        let keys: Vec<(Option<&str>, Option<i64>)> = types.iter().zip(ts.iter()).collect();
        assert!(
            keys.is_sorted(),
            "{} is not sorted by type and time",
            part.display()
        );
    }
}
