/*!
file-access: who read data through the console (file downloads, ZIP downloads, restores) and how
much, from the events the catalog tags `file_access`.

# What is counted
- *downloads* (File download) and *zips* (ZIP file downloaded): one per event;
- *restores*: one per restore, however many of its events (Restore started, Restore ended) the log
  holds; events are matched by the restore's id (the catalog's subject key), and a restore belongs
  to whoever started it (else to the actor of its first event);
- *other*: download IO errors, path purges and any file-access type added to the catalog later;
- *events*: every file-access event, so a restore's start and end count twice here;
- *bytes*: the size recorded in the details (`fileSize`, `bytes` or `size`, the first present, as a
  number or numeric text) of downloads and ZIPs, plus each restore's size once (the largest its
  events record). Failed downloads and purges move no data to anyone and are not counted.

The run returns these per-actor totals as a table too (the weekly report's file-access table,
described at `frame`); the findings below are computed from the very same totals.

# Findings and severity
- **info**, one per actor: counts per event type, restores and bytes. Ordinary work, listed so the
  auditor sees who reads data and how much.
- **medium**, bulk access: an actor with more than `file_access.bulk_per_day` accesses (downloads,
  ZIPs, restores) in one day of the configured time zone.
- **medium**, one per restore started by a Code42 support user or, when an allowlist is
  configured, with an event from an address outside it (an event without an address is not taken
  as outside).
- **info**, download IO error bursts: at least `file_access.io_error_burst` `File download: IO
  error` events by one actor, each within `file_access.io_error_window` of the previous one. Failed
  downloads are not data leaving, but a burst is context (repeated attempts, a flaky network).
*/

use std::collections::{BTreeMap, BTreeSet};

use chrono::Datelike;
use polars::prelude::*;
use serde_json::Value;

use super::common::{detail_fields, evidence, most_common, plural, subject};
use super::{Analysis, Context, Finding, Memory, Ordered, Output, Select, Severity};
use crate::config::Config;
use crate::error::Result;
use crate::model::catalog::Tag;
use crate::model::schema::cols;
use crate::model::{ActorType, EventId};
use crate::store::Store;
use crate::time::format_timestamp;

/// Detail fields that may carry a size in bytes, in order of preference.
const SIZE_KEYS: [&str; 3] = ["fileSize", "bytes", "size"];
/// The same keys as they appear in JSON text, to skip parsing details that mention none.
const SIZE_NEEDLES: [&str; 3] = ["\"fileSize\"", "\"bytes\"", "\"size\""];

/// Shown for events without an actor name.
const NO_ACTOR: &str = "(no actor)";

pub struct FileAccess;

impl Analysis for FileAccess {
    /// Every download, ZIP file and restore of the period, with its details.
    fn memory(&self) -> Memory {
        Memory::Large
    }

    fn name(&self) -> &'static str {
        "file-access"
    }

    fn description(&self) -> &'static str {
        "file downloads, ZIP downloads and restores by actor and size; bulk access, support-user or outside restores"
    }

    fn run(&self, ctx: &Context<'_>) -> Result<Output> {
        let df = load(ctx)?;
        let a = Accesses::new(&df, ctx.store)?;
        let totals = totals(&a);
        let mut out = Vec::new();
        for t in &totals {
            out.push(self.actor_summary(&a, t));
        }
        out.extend(self.bulk(ctx.config, &a, &totals));
        out.extend(self.restores(ctx.config, &a));
        out.extend(self.io_error_bursts(ctx.config, &a));
        Ok(Output {
            findings: out,
            table: Some(frame(&totals)?),
        })
    }
}

/// What a file-access event type stands for in the counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Download,
    Zip,
    RestoreStart,
    RestoreEnd,
    IoError,
    Purge,
    Other,
}

/// The kind of a file-access event type. These rules are about particular event types, so they
/// name them; a unit test checks that every `file_access` type of the catalog is named here, so a
/// type added to the catalog forces a decision instead of silently landing in "other".
fn kind(api_name: &str) -> Kind {
    match api_name {
        "file_download" => Kind::Download,
        "zip_file_downloaded" => Kind::Zip,
        "restore_started" => Kind::RestoreStart,
        "restore_ended" => Kind::RestoreEnd,
        "file_download_io_error" => Kind::IoError,
        "path_purged" => Kind::Purge,
        _ => Kind::Other,
    }
}

/// The period's file-access events, in time order.
fn load(ctx: &Context<'_>) -> Result<Ordered> {
    ctx.events(
        Select::Tagged(Tag::FileAccess),
        &[
            cols::EVENT_ID,
            cols::EVENT_TYPE,
            cols::EVENT_LABEL,
            cols::ACTOR_NAME,
            cols::ACTOR_TYPE,
            cols::CLIENT_IP,
            cols::AFFECTED_USER_NAME,
            cols::AFFECTED_USER_ID,
            cols::DETAILS,
        ],
        // Only the period: totals are about it, and a restore begun before it is matched by its
        // end event alone.
        Some(0),
    )
}

/// One restore: its events (rows) and its owner's row.
struct Restore {
    owner: usize,
    rows: Vec<usize>,
    bytes: Option<u64>,
}

/// The loaded events as columns, with each event's kind and recorded size, and the restores.
struct Accesses<'a> {
    ids: Vec<Option<EventId>>,
    ts: Vec<i64>,
    labels: Vec<Option<&'a str>>,
    actors: Vec<&'a str>,
    actor_types: Vec<Option<&'a str>>,
    ips: Vec<Option<&'a str>>,
    affected: Vec<Option<&'a str>>,
    types: Vec<Option<&'a str>>,
    aff_ids: Vec<Option<&'a str>>,
    details: Vec<Option<&'a str>>,
    kinds: Vec<Kind>,
    sizes: Vec<Option<u64>>,
    restores: Vec<Restore>,
}

impl<'a> Accesses<'a> {
    fn new(df: &'a Ordered, store: &Store) -> Result<Self> {
        let types = df.strs(cols::EVENT_TYPE)?;
        let details = df.strs(cols::DETAILS)?;
        let kinds: Vec<Kind> = types.iter().map(|t| kind(t.unwrap_or_default())).collect();
        let sizes = kinds
            .iter()
            .zip(&details)
            .map(|(k, d)| match k {
                Kind::Download | Kind::Zip | Kind::RestoreStart | Kind::RestoreEnd => {
                    d.and_then(size_of)
                }
                _ => None,
            })
            .collect();
        let mut a = Accesses {
            ids: df.event_ids(store)?,
            ts: df.i64s(cols::TIMESTAMP_NS)?,
            labels: df.strs(cols::EVENT_LABEL)?,
            actors: df
                .strs(cols::ACTOR_NAME)?
                .into_iter()
                .map(|a| a.filter(|s| !s.is_empty()).unwrap_or(NO_ACTOR))
                .collect(),
            actor_types: df.strs(cols::ACTOR_TYPE)?,
            ips: df.strs(cols::CLIENT_IP)?,
            affected: df.strs(cols::AFFECTED_USER_NAME)?,
            aff_ids: df.strs(cols::AFFECTED_USER_ID)?,
            types,
            details,
            kinds,
            sizes,
            restores: Vec::new(),
        };
        a.restores = a.group_restores();
        Ok(a)
    }

    fn len(&self) -> usize {
        self.ts.len()
    }

    /// The event's object from the catalog's subject keys (parses its details).
    fn object(&self, i: usize) -> String {
        subject(
            self.types[i].unwrap_or_default(),
            self.aff_ids[i],
            self.affected[i],
            self.details[i],
        )
    }

    /// Restore events grouped by restore id (an event without one is a restore of its own).
    fn group_restores(&self) -> Vec<Restore> {
        let mut by_id: PlHashMap<String, usize> = PlHashMap::default();
        let mut out: Vec<Restore> = Vec::new();
        for i in 0..self.len() {
            let k = self.kinds[i];
            if !matches!(k, Kind::RestoreStart | Kind::RestoreEnd) {
                continue;
            }
            let id = self.object(i);
            let slot = if id.is_empty() {
                None
            } else {
                by_id.get(&id).copied()
            };
            let r = match slot {
                Some(r) => r,
                None => {
                    out.push(Restore {
                        owner: i,
                        rows: Vec::new(),
                        bytes: None,
                    });
                    if !id.is_empty() {
                        by_id.insert(id, out.len() - 1);
                    }
                    out.len() - 1
                }
            };
            let restore = &mut out[r];
            // Whoever started the restore owns it, even when its end was logged first.
            if k == Kind::RestoreStart && self.kinds[restore.owner] != Kind::RestoreStart {
                restore.owner = i;
            }
            restore.rows.push(i);
            restore.bytes = restore.bytes.max(self.sizes[i]);
        }
        out
    }
}

/// The size recorded in an event's details, if any. Parses only details that mention a size key.
fn size_of(details: &str) -> Option<u64> {
    if !SIZE_NEEDLES.iter().any(|k| details.contains(k)) {
        return None;
    }
    let fields = detail_fields(details, &SIZE_KEYS)?;
    SIZE_KEYS
        .iter()
        .find_map(|k| match &fields.iter().find(|(f, _)| f == k)?.1 {
            Value::Number(n) => n
                .as_u64()
                .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
            Value::String(s) => s.trim().parse::<u64>().ok(),
            _ => None,
        })
}

/// One actor's file access in the period.
#[derive(Debug, Clone, Default, PartialEq)]
struct ActorTotals {
    actor: String,
    downloads: u64,
    zips: u64,
    restores: u64,
    other: u64,
    events: u64,
    bytes: u64,
    /// Accesses whose size is recorded (of downloads + zips + restores).
    sized: u64,
    /// Events per console label.
    by_label: BTreeMap<String, u64>,
    /// Every event of the actor, in time order.
    rows: Vec<usize>,
    /// The access events (downloads, ZIPs, each restore's owning event) as (row, restore index).
    accesses: Vec<(usize, Option<usize>)>,
}

/// Totals per actor (by actor name), ordered by number of events, most first.
fn totals(a: &Accesses<'_>) -> Vec<ActorTotals> {
    // Actors numbered through a hash map (an ordered map compared names at every event); the
    // order comes from the sort at the end.
    let mut index: PlHashMap<&str, usize> = PlHashMap::default();
    let mut by: Vec<ActorTotals> = Vec::new();
    fn slot<'t, 'n>(
        index: &mut PlHashMap<&'n str, usize>,
        by: &'t mut Vec<ActorTotals>,
        actor: &'n str,
    ) -> &'t mut ActorTotals {
        let k = *index.entry(actor).or_insert_with(|| {
            by.push(ActorTotals {
                actor: actor.to_owned(),
                ..ActorTotals::default()
            });
            by.len() - 1
        });
        &mut by[k]
    }
    for i in 0..a.len() {
        let t = slot(&mut index, &mut by, a.actors[i]);
        t.events += 1;
        t.rows.push(i);
        let label = a.labels[i].unwrap_or("?");
        match t.by_label.get_mut(label) {
            Some(n) => *n += 1,
            None => {
                t.by_label.insert(label.to_owned(), 1);
            }
        }
        match a.kinds[i] {
            Kind::Download | Kind::Zip => {
                if a.kinds[i] == Kind::Download {
                    t.downloads += 1;
                } else {
                    t.zips += 1;
                }
                t.accesses.push((i, None));
                if let Some(b) = a.sizes[i] {
                    t.bytes = t.bytes.saturating_add(b);
                    t.sized += 1;
                }
            }
            // Counted per restore below.
            Kind::RestoreStart | Kind::RestoreEnd => {}
            Kind::IoError | Kind::Purge | Kind::Other => t.other += 1,
        }
    }
    for (r, restore) in a.restores.iter().enumerate() {
        let t = slot(&mut index, &mut by, a.actors[restore.owner]);
        t.restores += 1;
        t.accesses.push((restore.owner, Some(r)));
        if let Some(b) = restore.bytes {
            t.bytes = t.bytes.saturating_add(b);
            t.sized += 1;
        }
    }
    let mut out = by;
    for t in &mut out {
        t.accesses.sort_by_key(|&(i, _)| a.ts[i]);
    }
    out.sort_by(|x, y| y.events.cmp(&x.events).then(x.actor.cmp(&y.actor)));
    out
}

/// Per-actor file access in the context's period, as a table with the columns `actor`,
/// `downloads`, `zips`, `restores`, `other`, `events` and `bytes` (see the module documentation
/// for what each counts), most events first: the table the analysis returns with its findings.
fn frame(totals: &[ActorTotals]) -> Result<DataFrame> {
    let n = |f: fn(&ActorTotals) -> u64| totals.iter().map(f).collect::<Vec<u64>>();
    let columns = vec![
        Column::new(
            "actor".into(),
            totals
                .iter()
                .map(|t| t.actor.as_str())
                .collect::<Vec<&str>>(),
        ),
        Column::new("downloads".into(), n(|t| t.downloads)),
        Column::new("zips".into(), n(|t| t.zips)),
        Column::new("restores".into(), n(|t| t.restores)),
        Column::new("other".into(), n(|t| t.other)),
        Column::new("events".into(), n(|t| t.events)),
        Column::new("bytes".into(), n(|t| t.bytes)),
    ];
    Ok(DataFrame::new(totals.len(), columns)?)
}

impl FileAccess {
    /// The info finding summarising one actor's file access.
    fn actor_summary(&self, a: &Accesses<'_>, t: &ActorTotals) -> Finding {
        let per_label: Vec<String> = t
            .by_label
            .iter()
            .map(|(l, c)| format!("{l} ({c})"))
            .collect();
        let accessed = t.downloads + t.zips + t.restores;
        let size = if t.sized == 0 {
            "no size recorded".to_owned()
        } else if t.sized == accessed {
            format!("{} in total", human_bytes(t.bytes))
        } else {
            format!(
                "{} in the {} of {accessed} accesses that record a size",
                human_bytes(t.bytes),
                t.sized
            )
        };
        let owners: BTreeSet<&str> = t
            .accesses
            .iter()
            .filter_map(|&(i, _)| a.affected[i])
            .filter(|u| !u.eq_ignore_ascii_case(&t.actor))
            .collect();
        let of_others = if owners.is_empty() {
            String::new()
        } else {
            format!(
                "; data of {}",
                owners.iter().copied().collect::<Vec<_>>().join(", ")
            )
        };
        Finding {
            analysis: self.name(),
            severity: Severity::Info,
            actor: t.actor.clone(),
            subject: owners.iter().copied().collect::<Vec<_>>().join(", "),
            ip: most_common(t.rows.iter().filter_map(|&i| a.ips[i])),
            first_seen_ns: t.rows.first().map(|&i| a.ts[i]).unwrap_or_default(),
            last_seen_ns: t.rows.last().map(|&i| a.ts[i]).unwrap_or_default(),
            count: t.events,
            summary: format!(
                "{} had {} in the period: {}; {}; {size}{of_others}",
                t.actor,
                plural(t.events, "file-access event", "file-access events"),
                per_label.join(", "),
                access_counts(t.downloads, t.zips, t.restores),
            ),
            event_ids: evidence(t.rows.iter().filter_map(|&i| a.ids[i])),
        }
    }

    /// Medium findings for actor-days above `file_access.bulk_per_day`.
    fn bulk(&self, cfg: &Config, a: &Accesses<'_>, totals: &[ActorTotals]) -> Vec<Finding> {
        let limit = u64::from(cfg.file_access.bulk_per_day);
        let mut out = Vec::new();
        for t in totals {
            let mut days: BTreeMap<chrono::NaiveDate, Vec<(usize, Option<usize>)>> =
                BTreeMap::new();
            for &(i, r) in &t.accesses {
                let day = crate::time::to_datetime(a.ts[i])
                    .with_timezone(&cfg.timezone)
                    .date_naive();
                days.entry(day).or_default().push((i, r));
            }
            for (day, accesses) in days {
                let n = accesses.len() as u64;
                if n <= limit {
                    continue;
                }
                let mut rows: Vec<usize> = accesses
                    .iter()
                    .flat_map(|&(i, r)| match r {
                        Some(r) => a.restores[r].rows.clone(),
                        None => vec![i],
                    })
                    .collect();
                rows.sort_by_key(|&i| a.ts[i]);
                let bytes: u64 = accesses
                    .iter()
                    .filter_map(|&(i, r)| match r {
                        Some(r) => a.restores[r].bytes,
                        None => a.sizes[i],
                    })
                    .fold(0u64, u64::saturating_add);
                let (mut downloads, mut zips, mut restores) = (0, 0, 0);
                for &(i, r) in &accesses {
                    match (r, a.kinds[i]) {
                        (Some(_), _) => restores += 1,
                        (None, Kind::Zip) => zips += 1,
                        _ => downloads += 1,
                    }
                }
                let kinds = access_counts(downloads, zips, restores);
                out.push(Finding {
                    analysis: self.name(),
                    severity: Severity::Medium,
                    actor: t.actor.clone(),
                    subject: format!("{day}"),
                    ip: most_common(rows.iter().filter_map(|&i| a.ips[i])),
                    first_seen_ns: rows.first().map(|&i| a.ts[i]).unwrap_or_default(),
                    last_seen_ns: rows.last().map(|&i| a.ts[i]).unwrap_or_default(),
                    count: n,
                    summary: format!(
                        "{} made {n} file accesses on {} {day} ({}), more than the {limit} per \
                         day allowed by file_access.bulk_per_day ({}): {}",
                        t.actor,
                        day.weekday(),
                        cfg.timezone.name(),
                        if bytes == 0 {
                            "no size recorded".to_owned()
                        } else {
                            human_bytes(bytes)
                        },
                        kinds,
                    ),
                    event_ids: evidence(rows.iter().filter_map(|&i| a.ids[i])),
                });
            }
        }
        out
    }

    /// Medium findings for restores by a support user or from outside the allowlist.
    fn restores(&self, cfg: &Config, a: &Accesses<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for r in &a.restores {
            let o = r.owner;
            let support =
                a.actor_types[o].and_then(ActorType::parse) == Some(ActorType::SupportUser);
            let outside: Vec<&str> = if cfg.allowlist.is_empty() {
                Vec::new()
            } else {
                let mut v: Vec<&str> = Vec::new();
                for ip in r.rows.iter().filter_map(|&i| a.ips[i]) {
                    if !ip.is_empty() && !cfg.allowed(ip) && !v.contains(&ip) {
                        v.push(ip);
                    }
                }
                v
            };
            if !support && outside.is_empty() {
                continue;
            }
            let mut why = Vec::new();
            if support {
                why.push("as a Code42 support user".to_owned());
            }
            if !outside.is_empty() {
                why.push(format!(
                    "from {}, outside the allowlist",
                    outside.join(", ")
                ));
            }
            let id = a.object(o);
            let whose = r.rows.iter().find_map(|&i| a.affected[i]);
            let mut facts = Vec::new();
            if !id.is_empty() {
                facts.push(format!("restore {id}"));
            }
            facts.push(r.bytes.map_or("no size recorded".to_owned(), human_bytes));
            facts.push(plural(r.rows.len() as u64, "event", "events"));
            let what = match whose {
                Some(u) => format!("restored {u}'s files"),
                None => "ran a restore".to_owned(),
            };
            let first = r.rows.iter().map(|&i| a.ts[i]).min().unwrap_or_default();
            let last = r.rows.iter().map(|&i| a.ts[i]).max().unwrap_or_default();
            out.push(Finding {
                analysis: self.name(),
                severity: Severity::Medium,
                actor: a.actors[o].to_owned(),
                subject: whose.map(str::to_owned).unwrap_or(id),
                ip: outside
                    .first()
                    .copied()
                    .or(a.ips[o])
                    .unwrap_or_default()
                    .to_owned(),
                first_seen_ns: first,
                last_seen_ns: last,
                count: r.rows.len() as u64,
                summary: format!(
                    "{} {what} ({}) at {} {}: check that the restore was requested",
                    a.actors[o],
                    facts.join(", "),
                    format_timestamp(a.ts[o]),
                    why.join(" and "),
                ),
                event_ids: evidence(r.rows.iter().filter_map(|&i| a.ids[i])),
            });
        }
        out
    }

    /// Info findings for bursts of download IO errors by one actor.
    fn io_error_bursts(&self, cfg: &Config, a: &Accesses<'_>) -> Vec<Finding> {
        let window = Config::duration_ns(&cfg.file_access.io_error_window);
        let min = cfg.file_access.io_error_burst.max(1) as usize;
        let mut by_actor: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for i in (0..a.len()).filter(|&i| a.kinds[i] == Kind::IoError) {
            by_actor.entry(a.actors[i]).or_default().push(i);
        }
        let mut out = Vec::new();
        for (actor, rows) in by_actor {
            for burst in bursts(&rows.iter().map(|&i| a.ts[i]).collect::<Vec<_>>(), window) {
                if burst.len() < min {
                    continue;
                }
                let rows: Vec<usize> = burst.map(|k| rows[k]).collect();
                let files: BTreeSet<String> = rows
                    .iter()
                    .map(|&i| a.object(i))
                    .filter(|f| !f.is_empty())
                    .collect();
                let (first, last) = (a.ts[rows[0]], a.ts[rows[rows.len() - 1]]);
                out.push(Finding {
                    analysis: self.name(),
                    severity: Severity::Info,
                    actor: actor.to_owned(),
                    subject: name_some(&files),
                    ip: most_common(rows.iter().filter_map(|&i| a.ips[i])),
                    first_seen_ns: first,
                    last_seen_ns: last,
                    count: rows.len() as u64,
                    summary: format!(
                        "{actor} had {} from {} to {} (a burst: each within {} of the previous, \
                         at least {min}){}: repeated failed downloads; see what followed",
                        plural(rows.len() as u64, "download IO error", "download IO errors"),
                        format_timestamp(first),
                        format_timestamp(last),
                        cfg.file_access.io_error_window,
                        if files.is_empty() {
                            String::new()
                        } else {
                            format!(" on {}", name_some(&files))
                        },
                    ),
                    event_ids: evidence(rows.iter().filter_map(|&i| a.ids[i])),
                });
            }
        }
        out
    }
}

/// "10 downloads, 1 ZIP download", leaving out kinds that did not occur.
fn access_counts(downloads: u64, zips: u64, restores: u64) -> String {
    let parts: Vec<String> = [
        (downloads, "download", "downloads"),
        (zips, "ZIP download", "ZIP downloads"),
        (restores, "restore", "restores"),
    ]
    .iter()
    .filter(|(c, _, _)| *c > 0)
    .map(|&(c, one, many)| plural(c, one, many))
    .collect();
    if parts.is_empty() {
        "no downloads or restores".to_owned()
    } else {
        parts.join(", ")
    }
}

/// Split sorted times into runs whose consecutive gaps are at most `window`, as index ranges.
fn bursts(times: &[i64], window: i64) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for k in 1..=times.len() {
        if k == times.len() || times[k] - times[k - 1] > window {
            if k > start {
                out.push(start..k);
            }
            start = k;
        }
    }
    out
}

/// Up to three names, then how many more.
fn name_some(names: &BTreeSet<String>) -> String {
    let shown: Vec<&str> = names.iter().take(3).map(String::as_str).collect();
    if names.len() > 3 {
        format!("{}, +{} more", shown.join(", "), names.len() - 3)
    } else {
        shown.join(", ")
    }
}

/// "48.2 kB (48,213 bytes)": decimal units for reading, the exact figure for checking.
fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    let mut exact = String::new();
    let digits = n.to_string();
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k).is_multiple_of(3) {
            exact.push(',');
        }
        exact.push(c);
    }
    if n < 1000 {
        return format!("{exact} bytes");
    }
    let mut v = n as f64 / 1000.0;
    let mut unit = UNITS[0];
    for u in &UNITS[1..] {
        if v < 1000.0 {
            break;
        }
        v /= 1000.0;
        unit = u;
    }
    format!("{v:.1} {unit} ({exact} bytes)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::catalog::Catalog;

    #[test]
    fn every_catalog_file_access_type_has_a_deliberate_kind() {
        for name in Catalog::get().names_with(Tag::FileAccess) {
            assert_ne!(kind(name), Kind::Other, "{name}: decide how to count it");
        }
    }

    #[test]
    fn sizes_come_from_the_documented_keys() {
        assert_eq!(size_of(r#"{"fileName":"a","fileSize":48213}"#), Some(48213));
        assert_eq!(size_of(r#"{"bytes":"1200"}"#), Some(1200));
        assert_eq!(size_of(r#"{"size":12.0,"bytes":7}"#), Some(7));
        assert_eq!(size_of(r#"{"size":-3}"#), None);
        assert_eq!(size_of(r#"{"fileName":"size.txt"}"#), None);
        assert_eq!(size_of(r#"{"nested":{"size":5}}"#), None);
        assert_eq!(size_of("not json \"size\""), None);
    }

    #[test]
    fn bursts_split_on_gaps_longer_than_the_window() {
        assert_eq!(bursts(&[0, 5, 10, 30, 31], 10), [0..3, 3..5]);
        assert_eq!(bursts(&[0, 20], 10), [0..1, 1..2]);
        assert!(bursts(&[], 10).is_empty());
    }

    #[test]
    fn bytes_read_in_decimal_units_and_exactly() {
        assert_eq!(human_bytes(999), "999 bytes");
        assert_eq!(human_bytes(48213), "48.2 kB (48,213 bytes)");
        assert_eq!(human_bytes(1_234_567_890), "1.2 GB (1,234,567,890 bytes)");
    }
}
