//! The analyses' acceptance test at scale: a generated month with the planted cases
//! (`auditlens generate --plant`), ingested and analysed with the real binary. Every planted case
//! must be reported by its analysis with at least its severity and with its events as evidence, and
//! nothing else may be reported above low. Per-analyst weekly counts must equal an independent
//! count from the JSON Lines export of the same seed.
//!
//! The size is `AUDITLENS_TEST_EVENTS` (default 20,000; the acceptance runs use 200,000 with
//! `cargo test --release`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use auditlens::time::{format_timestamp, parse_timestamp};
use chrono::Datelike;
use serde_json::Value;

use crate::common::*;

const SEED: &str = "7";

fn events() -> u64 {
    std::env::var("AUDITLENS_TEST_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

/// `auditlens generate --plant` of the test's seed in `format`; returns the file.
fn generate(dir: &Path, format: &str, name: &str, manifest: Option<&Path>) -> PathBuf {
    let out = dir.join(name);
    let mut cmd = auditlens();
    cmd.args(["generate", "--plant", "--seed", SEED, "--format", format])
        .args(["--events", &events().to_string(), "--out"])
        .arg(&out);
    if let Some(m) = manifest {
        cmd.arg("--plant-manifest").arg(m);
    }
    cmd.assert().success();
    out
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or("")
}

fn ns(timestamp: &str) -> i64 {
    parse_timestamp(timestamp).unwrap_or_else(|e| panic!("{timestamp}: {e:?}"))
}

/// The stored ids of a case's planted events, from `auditlens query` with the planted fields
/// (time range, event types, usernames), matched by exact instant, type and actor.
fn planted_ids(store: &Path, case: &Value) -> Vec<String> {
    let planted = case["events"].as_array().expect("events");
    let times: Vec<i64> = planted.iter().map(|e| ns(text(e, "timestamp"))).collect();
    let (first, last) = (times.iter().min().unwrap(), times.iter().max().unwrap());
    let types: BTreeSet<&str> = planted.iter().map(|e| text(e, "event_type")).collect();
    let actors: BTreeSet<&str> = planted.iter().map(|e| text(e, "actor")).collect();
    let found = jsonl(
        auditlens()
            .args(["query", "--format", "jsonl", "--store"])
            .arg(store)
            .args(["--from", &format_timestamp(*first)])
            .args(["--to", &format_timestamp(last + 1_000_000)])
            .args([
                "--event-type",
                &types.into_iter().collect::<Vec<_>>().join(","),
            ])
            .args([
                "--username",
                &actors.into_iter().collect::<Vec<_>>().join(","),
            ])
            .output()
            .unwrap(),
    );
    let by_key: HashMap<(i64, &str, String), &str> = found
        .iter()
        .map(|e| {
            (
                (
                    e["timestamp_ns"].as_i64().unwrap(),
                    text(e, "event_type"),
                    text(e, "actor_name").to_lowercase(),
                ),
                text(e, "event_id"),
            )
        })
        .collect();
    planted
        .iter()
        .zip(&times)
        .map(|(e, t)| {
            let key = (*t, text(e, "event_type"), text(e, "actor").to_lowercase());
            by_key
                .get(&key)
                .unwrap_or_else(|| panic!("{}: planted event {e} not stored", case["name"]))
                .to_string()
        })
        .collect()
}

fn analyze(store: &Path, config: &Path, week: &str) -> Vec<Value> {
    jsonl(
        auditlens()
            .args(["analyze", "--format", "jsonl", "--week", week, "--store"])
            .arg(store)
            .arg("--config")
            .arg(config)
            .output()
            .unwrap(),
    )
}

/// The ISO week label of an instant (`2026-W16`).
fn week_of(ns: i64) -> String {
    let d = auditlens::time::date_of(ns).iso_week();
    format!("{}-W{:02}", d.year(), d.week())
}

/// Case actions and forensic searches per (actor, ISO week), counted from the raw JSON Lines export
/// with the catalog's tags (`auditlens event-types`), the way an auditor would by hand.
fn independent_counts(export: &Path) -> BTreeMap<(String, String), u64> {
    let catalog: Vec<Value> = serde_json::from_slice(
        &auditlens()
            .args(["event-types", "--format", "json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let counted: BTreeSet<String> =
        catalog
            .iter()
            .filter(|e| {
                e["tags"].as_array().unwrap().iter().any(|t| {
                    t.as_str() == Some("case_action") || t.as_str() == Some("forensic_search")
                })
            })
            .map(|e| text(e, "api_name").to_owned())
            .collect();
    let mut out = BTreeMap::new();
    for line in std::fs::read_to_string(export).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let t = text(&v, "type$");
        let api = t
            .trim_start_matches("audit_log::")
            .split('/')
            .next()
            .unwrap_or("");
        let actor = text(&v, "actorName");
        if !counted.contains(api) || actor.is_empty() || actor == "SYSTEM" {
            continue;
        }
        *out.entry((actor.to_owned(), week_of(ns(text(&v, "timestamp")))))
            .or_default() += 1;
    }
    out
}

#[test]
fn planted_cases_are_found_and_the_background_stays_below_medium() {
    let dir = tempfile::tempdir().unwrap();
    let manifest_path = dir.path().join("planted.json");
    let csv = generate(dir.path(), "console-csv", "month.csv", Some(&manifest_path));
    let export = generate(dir.path(), "jsonl", "month.jsonl", None);
    let store = dir.path().join("store");
    let (v, code) = ingest_json(&store, &[&csv], &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["stored"], events(), "{v}");
    let config = dir.path().join("auditlens.toml");
    let allowlist: Vec<String> = auditlens::generate::CORPORATE_NETWORKS
        .iter()
        .map(|n| format!("{n:?}"))
        .collect();
    std::fs::write(&config, format!("allowlist = [{}]\n", allowlist.join(", "))).unwrap();

    let cases: Vec<Value> =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    assert!(cases.len() >= 15, "{} planted cases", cases.len());
    let weeks: BTreeSet<&str> = cases.iter().map(|c| text(c, "week")).collect();
    let independent = independent_counts(&export);

    for week in weeks {
        let findings = analyze(&store, &config, week);
        let mut planted: BTreeSet<String> = BTreeSet::new();

        // Every planted case of the week, by its analysis, severity, actor and evidence.
        for case in cases.iter().filter(|c| text(c, "week") == week) {
            let ids = planted_ids(&store, case);
            planted.extend(ids.iter().cloned());
            let actor = text(case, "actor");
            let hit = findings.iter().find(|f| {
                let evidence: BTreeSet<&str> = f["event_ids"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(Value::as_str)
                    .collect();
                text(f, "analysis") == text(case, "analysis")
                    && rank(text(f, "severity")) >= rank(text(case, "severity"))
                    && (actor.is_empty() || text(f, "actor").eq_ignore_ascii_case(actor))
                    && ids.iter().all(|id| evidence.contains(id.as_str()))
            });
            assert!(
                hit.is_some(),
                "planted case {} ({}, at least {}) not reported with its evidence; {}'s findings: {:#?}",
                case["name"],
                text(case, "analysis"),
                text(case, "severity"),
                text(case, "analysis"),
                findings
                    .iter()
                    .filter(|f| text(f, "analysis") == text(case, "analysis")
                        && rank(text(f, "severity")) > 0)
                    .map(|f| text(f, "summary"))
                    .collect::<Vec<_>>()
            );
        }

        // Nothing else above low.
        for f in findings.iter().filter(|f| rank(text(f, "severity")) > 1) {
            let planted_evidence = f["event_ids"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .any(|id| planted.contains(id));
            assert!(
                planted_evidence,
                "background reported above low in {week}: {f:#}"
            );
        }
        // Every case deletion is still listed: the background's own (a duplicate removed by its
        // author minutes after creating it) as low findings.
        let background_deletions: BTreeSet<String> = jsonl(
            auditlens()
                .args(["query", "--format", "jsonl", "--event-type", "case_deleted"])
                .args(["--week", week, "--store"])
                .arg(&store)
                .output()
                .unwrap(),
        )
        .iter()
        .map(|e| text(e, "event_id").to_owned())
        .filter(|id| !planted.contains(id))
        .collect();
        let listed: BTreeSet<String> = findings
            .iter()
            .filter(|f| {
                text(f, "analysis") == "analyst-case-actions" && text(f, "severity") == "low"
            })
            .filter_map(|f| f["event_ids"][0].as_str().map(str::to_owned))
            .collect();
        assert!(
            background_deletions.is_subset(&listed),
            "{week}: deletions not listed"
        );

        // Per-analyst weekly counts against the raw export.
        let reported: BTreeMap<(String, String), u64> = findings
            .iter()
            .filter(|f| {
                text(f, "analysis") == "analyst-case-actions" && text(f, "severity") == "info"
            })
            .map(|f| {
                (
                    (text(f, "actor").to_owned(), text(f, "subject").to_owned()),
                    f["count"].as_u64().unwrap(),
                )
            })
            .collect();
        let expected: BTreeMap<(String, String), u64> = independent
            .iter()
            .filter(|((_, w), _)| w == week)
            .map(|(k, n)| (k.clone(), *n))
            .collect();
        assert!(expected.len() >= 8, "{expected:?}");
        assert_eq!(reported, expected, "weekly counts in {week}");
    }
}
