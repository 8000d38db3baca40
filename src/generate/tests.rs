/*!
Tests of the generator: determinism, exact counts, realism properties of the data set, coverage of
the catalog, and a round trip of every format through the project's own readers.
*/

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::AtomicU64;

use serde_json::Value;

use super::kinds::{self, Body, CaseState, Cx, DETAIL_KEYS, Event, Ip, SPECS};
use super::org::Org;
use super::rng::Rng;
use super::*;
use crate::input::{ReadOptions, read_export};
use crate::model::Event as Canonical;
use crate::model::catalog::Catalog;
use crate::model::schema::events_from_frame;
use crate::time::parse_timestamp;

fn bytes(opts: &GenOptions) -> Vec<u8> {
    let mut out = Vec::new();
    let summary = generate(opts, &mut out).unwrap();
    assert_eq!(summary.events, opts.events);
    assert_eq!(summary.bytes, out.len() as u64);
    out
}

fn opts(events: u64, format: GenFormat) -> GenOptions {
    GenOptions::new(events, format)
}

/// JSON Lines, oldest first.
fn oldest(events: u64) -> GenOptions {
    GenOptions {
        newest_first: false,
        ..opts(events, GenFormat::JsonLines)
    }
}

/// The generated events as API-shaped JSON objects, in output order.
fn objects(o: &GenOptions) -> Vec<serde_json::Map<String, Value>> {
    let o = GenOptions {
        format: GenFormat::JsonLines,
        ..o.clone()
    };
    let text = String::from_utf8(bytes(&o)).unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn ts(obj: &serde_json::Map<String, Value>) -> i64 {
    parse_timestamp(obj["timestamp"].as_str().unwrap()).unwrap()
}

fn api_name(obj: &serde_json::Map<String, Value>) -> &str {
    let t = obj["type$"].as_str().unwrap();
    t.strip_prefix("audit_log::")
        .unwrap()
        .strip_suffix("/1")
        .unwrap()
}

#[test]
fn same_seed_same_bytes_different_seed_different_bytes() {
    for format in GenFormat::ALL {
        let a = bytes(&opts(300, format));
        let b = bytes(&opts(300, format));
        assert!(a == b, "{}: two runs differ", format.name());
        let c = bytes(&GenOptions {
            seed: 43,
            ..opts(300, format)
        });
        assert!(
            a != c,
            "{}: seeds 42 and 43 give the same output",
            format.name()
        );
    }
}

#[test]
fn exactly_the_requested_number_of_events_in_every_format() {
    for n in [0u64, 1, 2, 7, 59, 60, 1234] {
        for format in GenFormat::ALL {
            let o = GenOptions {
                days: if n == 7 { 1 } else { 28 },
                ..opts(n, format)
            };
            let text = String::from_utf8(bytes(&o)).unwrap();
            let records = match format {
                GenFormat::ConsoleCsv | GenFormat::ApiCsv | GenFormat::IncydrCsv => {
                    // Quoted fields may hold newlines: count records with the reader's splitter.
                    let mut s = crate::input::csv::Splitter::new(
                        text.as_bytes(),
                        Vec::new(),
                        1,
                        usize::MAX,
                        false,
                    );
                    let header = s.next_header().unwrap().unwrap();
                    let mut fields = Vec::new();
                    crate::input::csv::split_fields(&header, &mut fields);
                    let mut s = s.into_records(fields.len());
                    let mut count = 0;
                    while let Some(b) = s.next_batch(1 << 20).unwrap() {
                        assert!(b.broken.is_empty());
                        count += b.records.len();
                    }
                    count
                }
                GenFormat::JsonLines => text.lines().count(),
                GenFormat::JsonConcatenated => text.lines().filter(|l| *l == "{").count(),
                GenFormat::JsonArray => serde_json::from_str::<Vec<Value>>(&text).unwrap().len(),
                GenFormat::JsonEnvelope => {
                    let v: Value = serde_json::from_str(&text).unwrap();
                    assert_eq!(v["paginationRangeEndIndex"], Value::from(n));
                    v["events"].as_array().unwrap().len()
                }
            };
            assert_eq!(records as u64, n, "{} with {n} events", format.name());
        }
    }
}

#[test]
fn invalid_options_are_refused() {
    let mut out = Vec::new();
    let e = generate(
        &GenOptions {
            days: 0,
            ..opts(10, GenFormat::JsonLines)
        },
        &mut out,
    )
    .unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    let e = generate(
        &GenOptions {
            days: 1,
            ..opts(MAX_EVENTS_PER_DAY + 1, GenFormat::JsonLines)
        },
        &mut out,
    );
    assert!(e.is_err());
}

#[test]
fn timestamps_are_unique_ordered_and_of_mixed_precision() {
    for newest_first in [false, true] {
        let o = GenOptions {
            newest_first,
            ..opts(5000, GenFormat::JsonLines)
        };
        let objs = objects(&o);
        let times: Vec<i64> = objs.iter().map(ts).collect();
        let ordered = times.windows(2).all(|w| {
            if newest_first {
                w[0] > w[1]
            } else {
                w[0] < w[1]
            }
        });
        assert!(ordered, "strictly ordered, newest_first={newest_first}");
        let start = crate::time::start_of_day(o.start);
        let end = start + i64::from(o.days) * crate::time::NANOS_PER_DAY;
        assert!(times.iter().all(|t| (start..end).contains(t)));
        let mut precisions: BTreeMap<usize, usize> = BTreeMap::new();
        for obj in &objs {
            let t = obj["timestamp"].as_str().unwrap();
            assert!(t.ends_with('Z') && t.len() >= 20, "{t}");
            let digits = t.split_once('.').map_or(0, |(_, f)| f.len() - 1);
            *precisions.entry(digits).or_default() += 1;
        }
        assert_eq!(
            precisions.keys().copied().collect::<Vec<_>>(),
            [0, 3, 6, 9],
            "{precisions:?}"
        );
        assert!(precisions[&3] > objs.len() * 8 / 10, "{precisions:?}");
    }
}

#[test]
fn the_mix_looks_like_an_organisation() {
    let objs = objects(&oldest(20_000));
    let mut types: HashMap<&str, usize> = HashMap::new();
    let mut business = 0;
    let mut chains = 0;
    let mut v6 = 0;
    let mut null_ip = 0;
    let mut no_actor = 0;
    let mut actor_types: HashMap<&str, usize> = HashMap::new();
    for obj in &objs {
        *types.entry(api_name(obj)).or_default() += 1;
        let t = crate::time::to_datetime(ts(obj));
        use chrono::Timelike;
        if !matches!(t.weekday(), Weekday::Sat | Weekday::Sun) && (8..18).contains(&t.hour()) {
            business += 1;
        }
        match obj.get("actorIpAddress") {
            Some(Value::String(s)) if s == "null" => null_ip += 1,
            Some(Value::String(s)) if s.contains(", ") => chains += 1,
            Some(Value::String(s)) if s.contains(':') => v6 += 1,
            Some(Value::Null) => null_ip += 1,
            None => no_actor += 1,
            _ => {}
        }
        if let Some(Value::String(a)) = obj.get("actorType") {
            *actor_types.entry(a.as_str()).or_default() += 1;
        }
    }
    let n = objs.len() as f64;
    let share = |c: usize| c as f64 / n;
    assert!(
        (0.86..0.94).contains(&share(business)),
        "business hours share {}",
        share(business)
    );
    assert!(
        (0.07..0.13).contains(&share(chains)),
        "proxy chains {}",
        share(chains)
    );
    assert!(
        v6 > 0 && null_ip > 0 && no_actor > 0,
        "v6 {v6} null {null_ip} no actor {no_actor}"
    );
    let most = types.iter().max_by_key(|(_, c)| **c).unwrap();
    assert_eq!(*most.0, "logged_in");
    assert!(types["search_issued"] > types["file_download"]);
    for k in ["USER", "SYSTEM", "API_CLIENT", "SUPPORT_USER"] {
        assert!(
            actor_types.get(k).copied().unwrap_or(0) > 0,
            "{k}: {actor_types:?}"
        );
    }
    // Search events carry a JSON document inside a string.
    let search = objs
        .iter()
        .find(|o| api_name(o) == "search_issued")
        .unwrap();
    assert_eq!(search["type"], "query");
    assert!(search["success"].is_boolean() && search["resultCount"].is_i64());
    let inner: Value = serde_json::from_str(search["requestJson"].as_str().unwrap()).unwrap();
    assert!(inner["groups"].is_array());
}

#[test]
fn support_user_acts_only_inside_access_windows() {
    let objs = objects(&oldest(20_000));
    let mut open = false;
    let (mut windows, mut inside) = (0, 0);
    for obj in &objs {
        match api_name(obj) {
            "code42_support_user_access_enabled" => {
                assert!(!open);
                open = true;
                windows += 1;
            }
            "support_user_access_disabled" => {
                assert!(open);
                open = false;
            }
            _ => {}
        }
        if obj.get("actorType").and_then(Value::as_str) == Some("SUPPORT_USER") {
            assert!(
                open,
                "support user outside a window at {}",
                obj["timestamp"]
            );
            assert_eq!(obj["actorName"], "customer.champion@code42.com");
            inside += 1;
        }
    }
    assert!(
        !open && windows == 4 && inside >= 8,
        "windows {windows}, support events {inside}"
    );
}

#[test]
fn case_numbers_progress_and_deprecated_types_fade() {
    let objs = objects(&oldest(30_000));
    let created: Vec<i64> = objs
        .iter()
        .filter(|o| api_name(o) == "case_created")
        .map(|o| o["caseNumber"].as_i64().unwrap())
        .collect();
    assert!(created.len() > 100);
    assert!(
        created.windows(2).all(|w| w[1] == w[0] + 1),
        "consecutive case numbers"
    );
    let max_created = *created.last().unwrap();
    for o in &objs {
        if let Some(n) = o.get("caseNumber") {
            let n = n.as_i64().unwrap();
            assert!((1..=max_created).contains(&n));
        }
    }
    let catalog = Catalog::get();
    let start = ts(&objs[0]);
    let mut early = 0;
    let mut late = 0;
    for o in &objs {
        if catalog.by_api_name(api_name(o)).unwrap().deprecated {
            if ts(o) - start < 7 * crate::time::NANOS_PER_DAY {
                early += 1;
            } else {
                late += 1;
            }
        }
    }
    assert!(
        early > 2 * late && late > 0,
        "deprecated early {early}, later {late}"
    );
}

/// Build one event of every kind directly, as the day generator does.
fn build_every_kind(org: &Org, seed: u64) -> Vec<Event<'_>> {
    let mut rng = Rng::new(seed);
    let mut cases = CaseState {
        count: 10,
        by_subject: Default::default(),
    };
    let mut out = Vec::new();
    for (i, spec) in SPECS.iter().enumerate() {
        let mut ev = Event {
            ns: 0,
            prec: 3,
            kind: i as u16,
            actor: Some(&org.people[org.admins[0]]),
            ip: Ip::One("203.0.113.9"),
            agent: None,
            affected: None,
            details: Vec::new(),
            planted: None,
        };
        let mut cx = Cx {
            org,
            cases: &mut cases,
            date: NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
        };
        kinds::build(
            spec.body,
            spec.body,
            &mut cx,
            rng.next_u64(),
            &mut rng,
            &mut ev,
        );
        out.push(ev);
    }
    out
}

#[test]
fn every_catalog_type_is_generated_with_its_subject_fields() {
    let catalog = Catalog::get();
    let spec_names: BTreeSet<&str> = SPECS.iter().map(|s| s.api).collect();
    let catalog_names: BTreeSet<&str> = catalog.entries().iter().map(|e| e.api_name).collect();
    assert_eq!(spec_names, catalog_names);
    assert_eq!(spec_names.len(), SPECS.len(), "one spec per type");
    for s in SPECS {
        if let Some((f, p)) = s.follow {
            assert!(spec_names.contains(f) && p > 0.0 && p <= 1.0, "{}", s.api);
        }
        assert!(
            s.weight > 0.0
                || s.who == Who::Scripted
                || s.api == "restore_ended"
                || SPECS.iter().any(|o| o.follow.is_some_and(|f| f.0 == s.api)),
            "{} can never happen",
            s.api
        );
    }
    let org = Org::new(1, 1.0);
    for seed in 0..20 {
        for ev in build_every_kind(&org, seed) {
            let spec = &SPECS[usize::from(ev.kind)];
            let entry = catalog.by_api_name(spec.api).unwrap();
            for key in &entry.subject_keys {
                if *key == "@user" {
                    assert!(ev.affected.is_some(), "{} needs an affected user", spec.api);
                } else {
                    assert!(
                        ev.details.iter().any(|(k, _)| k == key),
                        "{} lacks {key}",
                        spec.api
                    );
                }
            }
            let mut keys = BTreeSet::new();
            for (k, _) in &ev.details {
                assert!(
                    DETAIL_KEYS.contains(k),
                    "{}: {k} is missing from DETAIL_KEYS",
                    spec.api
                );
                assert!(keys.insert(*k), "{}: {k} twice", spec.api);
            }
        }
    }
}

#[test]
fn an_undo_acts_on_the_same_subject() {
    let org = Org::new(5, 1.0);
    let date = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
    // (event, its undo, whether the background follows the one with the other; scripted and
    // planted scenes make the others follow explicitly)
    for (api, undo, follows) in [
        ("alert_rule_created", "alert_rule_deleted", true),
        ("api_client_created", "api_client_deleted", false),
        ("user_roles_assigned", "user_roles_revoked", false),
        (
            "api_client_permissions_assigned",
            "api_client_permissions_revoked",
            false,
        ),
        ("case_created", "case_deleted", false),
        ("restore_started", "restore_ended", true),
    ] {
        let k = |name: &str| SPECS.iter().position(|s| s.api == name).unwrap();
        let (a, b) = (&SPECS[k(api)], &SPECS[k(undo)]);
        assert_eq!(a.follow.map(|f| f.0) == Some(undo), follows, "{api}");
        let mut cases = CaseState {
            count: 3,
            by_subject: Default::default(),
        };
        let mut rng = Rng::new(9);
        let make = |body: Body, kind: usize, cases: &mut CaseState, rng: &mut Rng| {
            let mut ev = Event {
                ns: 0,
                prec: 3,
                kind: kind as u16,
                actor: None,
                ip: Ip::Null,
                agent: None,
                affected: None,
                details: Vec::new(),
                planted: None,
            };
            let mut cx = Cx {
                org: &org,
                cases,
                date,
            };
            kinds::build(body, a.body, &mut cx, 77, rng, &mut ev);
            ev
        };
        let first = make(a.body, k(api), &mut cases, &mut rng);
        let second = make(b.body, k(undo), &mut cases, &mut rng);
        let subject = |ev: &Event<'_>| {
            let keys = &Catalog::get().by_api_name(api).unwrap().subject_keys;
            let vals: Vec<String> = ev
                .details
                .iter()
                .filter(|(k, _)| keys.contains(k) || *k == "restoreId")
                .map(|(k, v)| format!("{k}={v:?}"))
                .collect();
            (vals, ev.affected.map(|p| p.name.clone()))
        };
        assert_eq!(subject(&first), subject(&second), "{api} / {undo}");
        assert!(!subject(&first).0.is_empty() || subject(&first).1.is_some());
    }
}

/// Read a generated file with the project's reader: (canonical events, quarantined count, format).
fn read_back(
    o: &GenOptions,
    dir: &std::path::Path,
) -> (Vec<Canonical>, usize, crate::input::Format) {
    let path = dir.join(format!("gen.{}", o.format.name()));
    let mut file = std::fs::File::create(&path).unwrap();
    generate(o, &mut file).unwrap();
    drop(file);
    let mut events = Vec::new();
    let mut quarantined = Vec::new();
    let facts = read_export(
        &path,
        &ReadOptions::default(),
        &AtomicU64::new(0),
        &mut |chunk| {
            quarantined.extend(chunk.quarantined);
            let df = chunk.events.finish("gen")?;
            events.extend(events_from_frame(&df)?);
            Ok(())
        },
    )
    .unwrap();
    for q in quarantined.iter().take(5) {
        eprintln!(
            "{}: quarantined line {}: {} ({:?}): {}",
            o.format.name(),
            q.line,
            q.reason,
            q.column,
            q.raw
        );
    }
    (events, quarantined.len(), facts.format)
}

/// The canonical fields every format carries (the incydr CSV has no more than these).
fn core(
    e: &Canonical,
) -> (
    i64,
    String,
    Option<String>,
    Option<String>,
    Vec<String>,
    Option<String>,
) {
    (
        e.timestamp_ns,
        e.event_type.clone(),
        e.actor_name.clone(),
        e.actor_id.clone(),
        e.ip_addresses.clone(),
        e.user_agent.clone(),
    )
}

/// Everything but the details' values, whose types code42cli's CSV cannot keep (nor a null value,
/// which it writes as an empty cell, read back as an absent key).
fn canonical(
    e: &Canonical,
) -> (
    String,
    String,
    Option<String>,
    Option<String>,
    BTreeSet<String>,
) {
    let keys = e
        .details
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default();
    (
        format!("{:?}", core(e)),
        e.actor_type.clone(),
        e.affected_user_name.clone(),
        e.affected_user_id.clone(),
        keys,
    )
}

#[test]
fn every_format_reads_back_through_the_project_readers() {
    round_trip(2000, 42);
}

/// The same round trip on a larger data set with another seed (slow in a debug build):
/// `cargo test --lib generate -- --ignored`.
#[test]
#[ignore]
fn every_format_reads_back_through_the_project_readers_large() {
    round_trip(100_000, 7);
}

fn round_trip(n: u64, seed: u64) {
    let dir = tempfile::tempdir().unwrap();
    let mut per_format = Vec::new();
    for format in GenFormat::ALL {
        let o = GenOptions {
            seed,
            ..opts(n, format)
        };
        let (events, quarantined, read_as) = read_back(&o, dir.path());
        assert_eq!(quarantined, 0, "{}: rows were quarantined", format.name());
        assert_eq!(
            events.len() as u64,
            n,
            "{}: every row is an event",
            format.name()
        );
        let ids: BTreeSet<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
        assert_eq!(ids.len() as u64, n, "{}: events are unique", format.name());
        let expected_reader = match format {
            GenFormat::ConsoleCsv => "console-csv",
            GenFormat::ApiCsv => "api-csv",
            GenFormat::IncydrCsv => "incydr-csv",
            GenFormat::JsonLines => "json-lines",
            GenFormat::JsonConcatenated => "json-concatenated",
            GenFormat::JsonArray => "json-array",
            GenFormat::JsonEnvelope => "json-api-envelope",
        };
        assert_eq!(
            read_as.name(),
            expected_reader,
            "{} detected as",
            format.name()
        );
        assert!(
            events
                .iter()
                .all(|e| e.category != crate::model::catalog::OTHER_CATEGORY),
            "{}",
            format.name()
        );
        per_format.push((format, events));
    }

    let categories = |events: &[Canonical]| {
        let mut m: BTreeMap<String, usize> = BTreeMap::new();
        for e in events {
            *m.entry(e.category.clone()).or_default() += 1;
        }
        m
    };
    let (_, reference) = &per_format[0];
    let ref_categories = categories(reference);
    assert!(ref_categories.len() >= 8, "{ref_categories:?}");
    let sorted = |events: &[Canonical]| {
        let mut v: Vec<Canonical> = events.to_vec();
        v.sort_by_key(|e| e.timestamp_ns);
        v
    };
    let reference = sorted(reference);
    let ref_ids: BTreeSet<&str> = reference.iter().map(|e| e.event_id.as_str()).collect();
    for (format, events) in &per_format {
        assert_eq!(
            categories(events),
            ref_categories,
            "{}: category counts",
            format.name()
        );
        let events = sorted(events);
        for (a, b) in reference.iter().zip(&events) {
            assert_eq!(
                core(a),
                core(b),
                "{}: event at line {} differs",
                format.name(),
                b.source_line
            );
            if *format != GenFormat::IncydrCsv {
                assert_eq!(
                    canonical(a),
                    canonical(b),
                    "{}: event at line {} differs",
                    format.name(),
                    b.source_line
                );
            }
        }
        // Console CSV and the JSON layouts keep value types, so they give the very same events.
        if !matches!(format, GenFormat::ApiCsv | GenFormat::IncydrCsv) {
            let ids: BTreeSet<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
            assert!(
                ids == ref_ids,
                "{}: event ids differ from console-csv",
                format.name()
            );
        }
    }
}

fn read_file(path: &std::path::Path) -> Vec<Canonical> {
    let mut events = Vec::new();
    read_export(
        path,
        &ReadOptions::default(),
        &AtomicU64::new(0),
        &mut |chunk| {
            assert!(chunk.quarantined.is_empty(), "{:?}", chunk.quarantined);
            let df = chunk.events.finish("gen")?;
            events.extend(events_from_frame(&df)?);
            Ok(())
        },
    )
    .unwrap();
    events
}

#[test]
fn gzip_output_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gen.csv.gz");
    let file = std::fs::File::create(&path).unwrap();
    let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    generate(&opts(500, GenFormat::ConsoleCsv), &mut gz).unwrap();
    gz.finish().unwrap();
    assert_eq!(read_file(&path).len(), 500);
}

/// Reader bug found by the generator (not fixed here): in JSON input the `ipAddress` detail of the
/// `ip_address_*` events (the catalog's subject key) is an alias of the actor IP, so when
/// `actorIpAddress` is null it becomes the client address and leaves the details. The console CSV
/// of the same event keeps it as a detail, so the two exports give different events.
#[test]
fn ip_address_detail_is_not_the_actor_ip() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("x.jsonl");
    std::fs::write(
        &json,
        "{\"type$\":\"audit_log::ip_address_added/1\",\"actorName\":\"a@example.com\",\"actorIpAddress\":null,\
         \"timestamp\":\"2026-04-01T10:00:00.000Z\",\"actorType\":\"USER\",\"ipAddress\":\"198.51.100.0/24\"}\n",
    )
    .unwrap();
    let csv = dir.path().join("x.csv");
    std::fs::write(
        &csv,
        "Date observed,Username,User type,Event type,IP address,Details\r\n\
         2026-04-01T10:00:00.000Z,a@example.com,User,IP address added,,\"{\"\"ipAddress\"\":\"\"198.51.100.0/24\"\"}\"\r\n",
    )
    .unwrap();
    let (from_json, from_csv) = (&read_file(&json)[0], &read_file(&csv)[0]);
    assert_eq!(from_json.ip_addresses, Vec::<String>::new());
    assert_eq!(
        from_json.details,
        serde_json::json!({"ipAddress": "198.51.100.0/24"})
    );
    assert_eq!(from_json.event_id, from_csv.event_id);
}

/// The background is ordinary for the analyses (see the module doc): privilege changes only on
/// weekdays in business hours, never on the actor's own account and never undone by chance within a
/// day; administrators and analysts only at corporate addresses; a few case deletions a month.
#[test]
fn the_background_is_ordinary() {
    use chrono::Timelike;
    let o = oldest(30_000);
    let objs = objects(&o);
    let org = Org::new(o.seed, o.scale());
    let catalog = Catalog::get();
    let corporate: Vec<ipnet::IpNet> = CORPORATE_NETWORKS
        .iter()
        .map(|n| n.parse().unwrap())
        .collect();
    let vpn: HashSet<&str> = org
        .admins
        .iter()
        .chain(&org.analysts)
        .map(|&i| org.people[i].name.as_str())
        .collect();
    let text = |o: &serde_json::Map<String, Value>, k: &str| {
        o.get(k).and_then(Value::as_str).unwrap_or("").to_owned()
    };
    // (grant type, subject) -> instant of the latest grant
    let mut granted: HashMap<(String, String, String), i64> = HashMap::new();
    let mut deletions = 0;
    for obj in &objs {
        let api = api_name(obj);
        let e = catalog.by_api_name(api).unwrap();
        let t = ts(obj);
        let at = crate::time::to_datetime(t);
        let actor = text(obj, "actorName");
        if e.has(Tag::Privilege) {
            assert!(
                !matches!(at.weekday(), Weekday::Sat | Weekday::Sun)
                    && (9..17).contains(&at.hour()),
                "{api} by {actor} at {at}"
            );
        }
        let subject = (
            text(obj, "userName"),
            text(obj, "role") + &text(obj, "permission"),
        );
        match api {
            "user_roles_assigned" | "api_client_permissions_assigned" => {
                assert_ne!(subject.0, actor, "a self-grant");
                let key = if api == "user_roles_assigned" {
                    subject.0.clone()
                } else {
                    text(obj, "apiClientId")
                };
                granted.insert((api.to_owned(), key, subject.1.clone()), t);
            }
            "user_roles_revoked" | "api_client_permissions_revoked" => {
                let (grant, key) = if api == "user_roles_revoked" {
                    ("user_roles_assigned", subject.0.clone())
                } else {
                    ("api_client_permissions_assigned", text(obj, "apiClientId"))
                };
                if let Some(g) = granted.get(&(grant.to_owned(), key, subject.1.clone())) {
                    assert!(t - g > crate::time::NANOS_PER_DAY, "{api} undoes a grant");
                }
            }
            "case_deleted" => deletions += 1,
            _ => {}
        }
        if vpn.contains(actor.as_str()) {
            let ip = text(obj, "actorIpAddress");
            if let Ok(a) = ip
                .split(", ")
                .next()
                .unwrap_or("")
                .parse::<std::net::IpAddr>()
            {
                assert!(corporate.iter().any(|n| n.contains(&a)), "{actor} at {ip}");
            }
        }
    }
    assert!(
        (1..=4).contains(&deletions),
        "{deletions} case deletions in 28 days"
    );
}

/// Windows of one run are slices of the same data set: together they are the whole of it.
#[test]
fn windows_are_slices_of_the_whole_data_set() {
    let whole = GenOptions {
        plant: true,
        ..opts(15_000, GenFormat::ConsoleCsv)
    };
    let full = String::from_utf8(bytes(&whole)).unwrap();
    let start = whole.start;
    let day = |n: u64| start.checked_add_days(Days::new(n)).unwrap();
    let mut joined = String::new();
    let mut planted = Vec::new();
    for (first, end) in [(day(0), day(14)), (day(14), day(21)), (day(21), day(28))] {
        let mut out = Vec::new();
        let s = generate(
            &GenOptions {
                window: Some((first, end)),
                ..whole.clone()
            },
            &mut out,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        let body = text.split_once("\r\n").unwrap().1;
        assert_eq!(body.lines().count() as u64, s.events);
        joined.push_str(body);
        planted.extend(s.planted);
    }
    assert_eq!(full.split_once("\r\n").unwrap().1, joined);
    // The plant week lies in the middle window, so its manifest is the whole run's.
    let mut sink = Vec::new();
    assert_eq!(planted, generate(&whole, &mut sink).unwrap().planted);
}
