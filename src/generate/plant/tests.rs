/*! Tests of the plant: every analysis covered, every planted event written in every format,
positions relative to the range, and options without room for it refused. */

use std::collections::{BTreeSet, HashSet};

use super::super::{GenFormat, generate};
use super::*;
use crate::analyses::Severity;

fn planted(opts: &GenOptions) -> (Vec<PlantedCase>, String) {
    let mut out = Vec::new();
    let s = generate(opts, &mut out).unwrap();
    assert_eq!(s.events, opts.events);
    (s.planted, String::from_utf8(out).unwrap())
}

fn with_plant(events: u64, format: GenFormat) -> GenOptions {
    GenOptions {
        plant: true,
        ..GenOptions::new(events, format)
    }
}

#[test]
fn every_analysis_has_planted_cases_and_every_case_its_events() {
    let (cases, text) = planted(&with_plant(20_000, GenFormat::JsonLines));
    let registered: BTreeSet<&str> = crate::analyses::REGISTRY.iter().map(|a| a.name()).collect();
    let covered: BTreeSet<&str> = cases.iter().map(|c| c.analysis.as_str()).collect();
    let mut expected = registered.clone();
    // Coverage gaps are about missing data, which a plant of events cannot add.
    expected.remove("coverage-gaps");
    assert_eq!(covered, expected);
    let names: HashSet<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names.len(), cases.len(), "names are unique");
    let written: HashSet<(String, String, String)> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let s = |k: &str| v[k].as_str().unwrap_or("").to_owned();
            (s("timestamp"), s("type$"), s("actorName"))
        })
        .collect();
    for c in &cases {
        assert_eq!(c.week, "2026-W16", "{}", c.name);
        assert!(
            c.severity > Severity::Info && !c.events.is_empty(),
            "{}",
            c.name
        );
        for e in &c.events {
            let key = (
                e.timestamp.clone(),
                format!("audit_log::{}/1", e.event_type),
                e.actor.clone(),
            );
            assert!(written.contains(&key), "{}: {e:?} not written", c.name);
            assert!(e.timestamp.starts_with("2026-04-1"), "{e:?}");
        }
    }
    for (analysis, severity) in [
        ("support-user-activity", Severity::High),
        ("privilege-changes", Severity::High),
        ("unusual-ips", Severity::High),
        ("analyst-case-actions", Severity::High),
    ] {
        assert!(
            cases
                .iter()
                .any(|c| c.analysis == analysis && c.severity == severity),
            "{analysis}"
        );
    }
}

#[test]
fn the_plant_is_the_same_in_every_format() {
    let (reference, _) = planted(&with_plant(12_000, GenFormat::ConsoleCsv));
    for format in GenFormat::ALL {
        let (cases, text) = planted(&with_plant(12_000, format));
        assert_eq!(cases, reference, "{}", format.name());
        if format != GenFormat::IncydrCsv {
            assert!(
                text.contains("support.temp@example.com"),
                "{}",
                format.name()
            );
        }
    }
}

#[test]
fn positions_follow_the_range() {
    let opts = GenOptions {
        start: NaiveDate::from_ymd_opt(2026, 6, 3).unwrap(),
        days: 30,
        ..with_plant(15_000, GenFormat::JsonLines)
    };
    let (cases, _) = planted(&opts);
    // 2026-06-17 is a Wednesday: the plant week is the one from Monday 2026-06-22.
    assert!(cases.iter().all(|c| c.week == "2026-W26"));
    let first = cases
        .iter()
        .flat_map(|c| &c.events)
        .map(|e| &e.timestamp)
        .min()
        .unwrap();
    assert!(first.starts_with("2026-06-23"), "{first}");
}

#[test]
fn too_little_room_for_the_plant_is_refused() {
    let short = GenOptions {
        days: 20,
        ..with_plant(20_000, GenFormat::JsonLines)
    };
    assert!(short.validate().unwrap_err().contains("--days"));
    let sparse = with_plant(5_000, GenFormat::JsonLines);
    assert!(sparse.validate().unwrap_err().contains("at least"));
    assert!(with_plant(12_000, GenFormat::JsonLines).validate().is_ok());
}

#[test]
fn every_planted_event_type_is_in_the_catalog() {
    for api in [
        "code42_support_user_access_enabled",
        "support_user_access_disabled",
        "logged_in",
        "user_registered",
        "restore_started",
        "restore_ended",
        "user_roles_assigned",
        "user_roles_revoked",
        "case_exported",
        "api_client_secret_reset",
        "case_created",
        "case_deleted",
        "file_download",
        "alert_rule_created",
        "alert_rule_deleted",
        "alert_rule_disabled",
        "alert_rule_enabled",
        "search_issued",
    ] {
        assert_eq!(SPECS[usize::from(kind(api))].api, api);
    }
}

#[test]
fn the_plant_week_leaves_two_weeks_of_history() {
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    assert_eq!(plant_week(d("2026-03-30")), d("2026-04-13"));
    assert_eq!(plant_week(d("2026-03-31")), d("2026-04-20"));
    assert_eq!(plant_week(d("2026-03-29")), d("2026-04-13"));
}
