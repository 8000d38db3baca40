/*!
Synthetic Code42 Audit Log exports for tests and benchmarks: a seeded, realistic organisation whose
console users, analysts, admins, API clients, SYSTEM, SCIM and Code42 support user produce a month
of audit events, written in any of the export formats auditlens reads.

The same seed and options give the same events in every format (only the encoding differs), so one
data set can be ingested as console CSV, code42cli CSV and JSON and the results compared. Output is
deterministic byte for byte. Every generated event is unique (timestamps are strictly increasing at
their written precision), so ingesting N generated rows stores exactly N events.

How it works: a plan splits the events over the days of the range (weekdays busier than weekends)
and places the scripted scenes (Code42 support access windows, the odd duplicate case deleted
again, and with [`GenOptions::plant`] the planted cases of [`plant`]); each day is then generated
on its own from seeds derived from the run seed, in time order, and written oldest or newest first.
Memory is bounded by one day of events. This module never reads exports and never touches a store.

The background is calibrated to be ordinary: analysed with [`CORPORATE_NETWORKS`] as the allowlist
and otherwise default settings, it yields no finding above low except the rare case deletion (each
one is listed as medium by design). Privilege changes happen on weekdays in business hours
(09:00-17:00 UTC, the default setting); grants are not undone by chance; administrators and
analysts connect through the VPN; the organisation grows with the volume (see the `org` module).
*/

pub mod encode;
mod kinds;
mod org;
pub mod plant;
mod rng;

use std::io::{self, Write};

use chrono::{Datelike, Days, NaiveDate, Weekday};

use encode::Encoder;
use kinds::{Body, CaseState, Cx, Event, Ip, SPECS, Who};
pub use org::{CORPORATE_NETWORKS, REFERENCE_EVENTS_PER_DAY};
use org::{Kind, Org, Person};
use plant::{Planted, PlantedCase};
use rng::{Rng, Weighted, derive};

use crate::model::catalog::{Catalog, Tag};

/// The export format to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum GenFormat {
    /// The console's Audit Log export: console labels, CRLF, a JSON `Details` column.
    #[value(name = "console-csv")]
    ConsoleCsv,
    /// code42cli `audit-logs search -f CSV`: API keys as columns in a shuffled order, Python literals.
    #[value(name = "api-csv")]
    ApiCsv,
    /// incydr CLI `audit-log search -f csv`: six columns only.
    #[value(name = "incydr-csv")]
    IncydrCsv,
    /// JSON Lines (code42cli `-f RAW-JSON`, incydr `json-lines`).
    #[value(name = "jsonl")]
    JsonLines,
    /// code42cli `-f JSON`: pretty-printed objects one after another (not an array).
    #[value(name = "json")]
    JsonConcatenated,
    /// A JSON array of objects.
    #[value(name = "json-array")]
    JsonArray,
    /// The API's search response: `{"events":[...],"paginationRangeStartIndex":0,...}`.
    #[value(name = "envelope")]
    JsonEnvelope,
}

impl GenFormat {
    pub const ALL: [GenFormat; 7] = [
        GenFormat::ConsoleCsv,
        GenFormat::ApiCsv,
        GenFormat::IncydrCsv,
        GenFormat::JsonLines,
        GenFormat::JsonConcatenated,
        GenFormat::JsonArray,
        GenFormat::JsonEnvelope,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            GenFormat::ConsoleCsv => "console-csv",
            GenFormat::ApiCsv => "api-csv",
            GenFormat::IncydrCsv => "incydr-csv",
            GenFormat::JsonLines => "jsonl",
            GenFormat::JsonConcatenated => "json",
            GenFormat::JsonArray => "json-array",
            GenFormat::JsonEnvelope => "envelope",
        }
    }

    /// The order real files of this format come in: the API (and every tool built on it) returns
    /// newest first; the console export is oldest first.
    pub fn default_newest_first(self) -> bool {
        self != GenFormat::ConsoleCsv
    }
}

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenOptions {
    /// Exactly this many events are written.
    pub events: u64,
    pub seed: u64,
    /// First day of the range (UTC).
    pub start: NaiveDate,
    /// Number of days in the range.
    pub days: u32,
    pub format: GenFormat,
    /// Write the newest event first (the API's order) instead of the oldest.
    pub newest_first: bool,
    /// Add the planted cases of [`plant`] (they replace background events: the total stays
    /// `events`).
    pub plant: bool,
    /// Write only the events of these days, `[first, end)`: a slice of the data set the whole
    /// range describes (the same events as in a full run), e.g. one weekly export of it.
    pub window: Option<(NaiveDate, NaiveDate)>,
}

/// The most events per day of the range: timestamps are unique at millisecond resolution.
pub const MAX_EVENTS_PER_DAY: u64 = 20_000_000;

impl GenOptions {
    /// The defaults: seed 42, 28 days from 2026-03-30, the format's usual order.
    pub fn new(events: u64, format: GenFormat) -> GenOptions {
        GenOptions {
            events,
            seed: 42,
            start: NaiveDate::from_ymd_opt(2026, 3, 30).unwrap_or_default(),
            days: 28,
            format,
            newest_first: format.default_newest_first(),
            plant: false,
            window: None,
        }
    }

    /// The data set's events per day over [`REFERENCE_EVENTS_PER_DAY`]: the organisation's size.
    fn scale(&self) -> f64 {
        self.events as f64 / f64::from(self.days.max(1)) / REFERENCE_EVENTS_PER_DAY
    }

    /// Check the options; the message says what to change.
    pub fn validate(&self) -> Result<(), String> {
        if self.days == 0 || self.days > 3660 {
            return Err(format!(
                "--days must be between 1 and 3660, not {}",
                self.days
            ));
        }
        if self.start.year() < 1970
            || self
                .start
                .checked_add_days(Days::new(u64::from(self.days)))
                .is_none_or(|d| d.year() > 9999)
        {
            return Err(format!(
                "--start {} with --days {} is outside the years 1970-9999",
                self.start, self.days
            ));
        }
        if self.events > MAX_EVENTS_PER_DAY * u64::from(self.days) {
            return Err(format!(
                "{} events over {} days is more than {} a day; use more --days",
                self.events, self.days, MAX_EVENTS_PER_DAY
            ));
        }
        if let Some((first, end)) = self.window
            && first >= end
        {
            return Err(format!("the window {first} .. {end} is empty"));
        }
        if self.plant {
            plant::check(self)?;
        }
        Ok(())
    }
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenSummary {
    pub events: u64,
    /// Timestamp of the first event written (the newest when writing newest first).
    pub first_timestamp: Option<String>,
    /// Timestamp of the last event written.
    pub last_timestamp: Option<String>,
    /// Bytes written (before any compression the caller applies).
    pub bytes: u64,
    /// The planted cases (with [`GenOptions::plant`]), each with the planted events written.
    pub planted: Vec<PlantedCase>,
}

/// Write `opts.events` events in `opts.format` to `out`. Errors: invalid options
/// (`ErrorKind::InvalidInput`) and write errors.
pub fn generate(opts: &GenOptions, out: &mut dyn Write) -> io::Result<GenSummary> {
    opts.validate()
        .map_err(|m| io::Error::new(io::ErrorKind::InvalidInput, m))?;
    let org = Org::new(opts.seed, opts.scale());
    let planted = if opts.plant {
        Some(Planted::new(opts, &org))
    } else {
        None
    };
    let generator = Generator::new(opts, &org, planted.as_ref());
    let plan = generator
        .plan()
        .map_err(|m| io::Error::new(io::ErrorKind::InvalidInput, m))?;
    let plan: Vec<DayPlan> = match opts.window {
        Some((first, end)) => plan
            .into_iter()
            .filter(|d| d.date >= first && d.date < end)
            .collect(),
        None => plan,
    };
    let mut enc = Encoder::new(opts.format, opts.seed);
    // Written planted events: (index into the plant's events, timestamp as written).
    let mut written_plants: Vec<(u32, String)> = Vec::new();
    let mut note_plant = |ev: &Event<'_>| {
        if let Some(i) = ev.planted {
            let mut b = Vec::new();
            encode::timestamp(ev.ns, ev.prec, &mut b);
            written_plants.push((i, String::from_utf8_lossy(&b).into_owned()));
        }
    };

    const FLUSH_AT: usize = 1 << 20;
    let mut buf = Vec::with_capacity(FLUSH_AT + (64 << 10));
    let mut bytes = 0u64;
    let mut count = 0u64;
    let mut first: Option<(i64, u8)> = None;
    let mut last: Option<(i64, u8)> = None;
    enc.prefix(&mut buf);

    let flush = |buf: &mut Vec<u8>, out: &mut dyn Write, bytes: &mut u64| -> io::Result<()> {
        out.write_all(buf)?;
        *bytes += buf.len() as u64;
        buf.clear();
        Ok(())
    };

    if opts.newest_first {
        // A day is generated in time order, then its records are written back to front.
        let mut records = Vec::new();
        let mut ends = Vec::new();
        let mut stamps = Vec::new();
        for day in plan.iter().rev() {
            records.clear();
            ends.clear();
            stamps.clear();
            generator.day(day, &mut |ev| {
                enc.record(ev, &mut records);
                ends.push(records.len());
                stamps.push((ev.ns, ev.prec));
                note_plant(ev);
                Ok(())
            })?;
            for i in (0..ends.len()).rev() {
                let start = if i == 0 { 0 } else { ends[i - 1] };
                enc.separator(count == 0, &mut buf);
                buf.extend_from_slice(&records[start..ends[i]]);
                count += 1;
                first.get_or_insert(stamps[i]);
                last = Some(stamps[i]);
                if buf.len() >= FLUSH_AT {
                    flush(&mut buf, out, &mut bytes)?;
                }
            }
        }
    } else {
        for day in &plan {
            generator.day(day, &mut |ev| {
                enc.separator(count == 0, &mut buf);
                enc.record(ev, &mut buf);
                note_plant(ev);
                count += 1;
                first.get_or_insert((ev.ns, ev.prec));
                last = Some((ev.ns, ev.prec));
                if buf.len() >= FLUSH_AT {
                    flush(&mut buf, out, &mut bytes)?;
                }
                Ok(())
            })?;
        }
    }
    enc.suffix(count, &mut buf);
    flush(&mut buf, out, &mut bytes)?;
    out.flush()?;
    let expected: u64 = plan.iter().map(|d| d.total).sum();
    if count != expected || (opts.window.is_none() && count != opts.events) {
        return Err(io::Error::other(format!(
            "generator bug: wrote {count} events, not {expected} of {}",
            opts.events
        )));
    }
    let text = |t: Option<(i64, u8)>| {
        t.map(|(ns, prec)| {
            let mut b = Vec::new();
            encode::timestamp(ns, prec, &mut b);
            String::from_utf8_lossy(&b).into_owned()
        })
    };
    Ok(GenSummary {
        events: count,
        first_timestamp: text(first),
        last_timestamp: text(last),
        bytes,
        planted: planted.map_or_else(Vec::new, |p| p.manifest(&written_plants)),
    })
}

const PLAN_STREAM: u64 = 0x706c_616e;
const KIND_STREAM: u64 = 0x6b69_6e64;
const SLOT_STREAM: u64 = 0x736c_6f74;
const DETAIL_STREAM: u64 = 0x6465_7461;
const CLEANUP_STREAM: u64 = 0x636c_6e70;

const MS_PER_HOUR: i64 = 3_600_000;
const MS_PER_DAY: i64 = 24 * MS_PER_HOUR;

/// The organisation's business hours, UTC: 09:00-17:00 (the analyses' default `business_hours`).
const BUSINESS_START: i64 = 9 * MS_PER_HOUR;
const BUSINESS_LENGTH: i64 = 8 * MS_PER_HOUR;

/// One day of the plan.
#[derive(Debug, Clone)]
struct DayPlan {
    index: u32,
    date: NaiveDate,
    /// Milliseconds since the epoch at 00:00 UTC.
    start_ms: i64,
    /// Events of the day, scripted ones included.
    total: u64,
    scripted: Vec<Slot>,
    /// Cases that exist when the day starts.
    cases_before: u64,
}

/// One event of a day before its details are drawn.
#[derive(Debug, Clone, Copy)]
struct Slot {
    /// Milliseconds since the epoch.
    ms: i64,
    kind: u16,
    /// The event this one follows (its own kind when it follows none): decides the subject.
    subject_kind: u16,
    actor: u32,
    subj: u64,
    /// The planted event this slot is (index into the plant's events).
    planted: Option<u32>,
}

/// One event type drawn for a day.
#[derive(Debug, Clone, Copy)]
struct Draw {
    kind: u16,
    /// Follows the previous draw (same actor and subject, a little later).
    follows: bool,
}

struct Generator<'a> {
    opts: &'a GenOptions,
    org: &'a Org,
    plant: Option<&'a Planted>,
    deprecated: Vec<bool>,
    /// Privilege changes (catalog tag `privilege`) go through change management: made on weekdays
    /// in business hours only. One made at night or on a weekend is what the privilege and
    /// after-hours analyses look for, so the background has none.
    managed: Vec<bool>,
    index: std::collections::HashMap<&'static str, u16>,
}

impl<'a> Generator<'a> {
    fn new(opts: &'a GenOptions, org: &'a Org, plant: Option<&'a Planted>) -> Generator<'a> {
        let catalog = Catalog::get();
        let deprecated = SPECS
            .iter()
            .map(|s| catalog.by_api_name(s.api).is_some_and(|e| e.deprecated))
            .collect();
        let managed = SPECS
            .iter()
            .map(|s| {
                catalog
                    .by_api_name(s.api)
                    .is_some_and(|e| e.has(Tag::Privilege))
            })
            .collect();
        let index = SPECS
            .iter()
            .enumerate()
            .map(|(i, s)| (s.api, i as u16))
            .collect();
        Generator {
            opts,
            org,
            plant,
            deprecated,
            managed,
            index,
        }
    }

    fn kind(&self, api: &str) -> u16 {
        self.index.get(api).copied().unwrap_or(0)
    }

    /// The date of day `day` of the range.
    fn date(&self, day: u32) -> NaiveDate {
        self.opts
            .start
            .checked_add_days(Days::new(u64::from(day)))
            .unwrap_or(self.opts.start)
    }

    /// Event types of the random (unscripted) events of a day, in draw order. The plan and the day
    /// generator both call this, so case numbers can be counted ahead.
    fn draw_kinds(&self, day: u32, n: u64) -> Vec<Draw> {
        let factor = kinds::deprecated_factor(day);
        let weekend = is_weekend(self.date(day));
        let weights = Weighted::new(
            SPECS
                .iter()
                .zip(self.deprecated.iter().zip(&self.managed))
                .map(|(s, (&dep, &managed))| {
                    if weekend && managed {
                        0.0
                    } else if dep {
                        s.weight * factor
                    } else {
                        s.weight
                    }
                }),
        );
        let mut rng = Rng::new(derive(self.opts.seed, KIND_STREAM, u64::from(day)));
        let n = n as usize;
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let k = weights.sample(&mut rng);
            out.push(Draw {
                kind: k as u16,
                follows: false,
            });
            if let Some((follow, p)) = SPECS[k].follow
                && out.len() < n
                && rng.chance(p)
            {
                out.push(Draw {
                    kind: self.kind(follow),
                    follows: true,
                });
            }
        }
        out
    }

    fn plan(&self) -> Result<Vec<DayPlan>, String> {
        let opts = self.opts;
        let mut rng = Rng::new(derive(opts.seed, PLAN_STREAM, 0));
        let dates: Vec<NaiveDate> = (0..opts.days).map(|i| self.date(i)).collect();
        let weights: Vec<f64> = dates
            .iter()
            .map(|d| {
                let base = if is_weekend(*d) { 0.1 } else { 1.0 };
                base * (0.85 + 0.3 * rng.f64())
            })
            .collect();
        let total_w: f64 = weights.iter().sum();
        let mut totals: Vec<u64> = weights
            .iter()
            .map(|w| (opts.events as f64 * w / total_w).floor() as u64)
            .collect();
        let assigned: u64 = totals.iter().sum();
        let mut by_fraction: Vec<usize> = (0..totals.len()).collect();
        let frac = |i: usize| opts.events as f64 * weights[i] / total_w - totals[i] as f64;
        by_fraction.sort_by(|&a, &b| frac(b).total_cmp(&frac(a)).then(a.cmp(&b)));
        // Rounding can leave the sum a little off either way; fix it one event per day.
        let mut i = 0;
        let mut sum = assigned;
        let n_days = totals.len();
        while sum < opts.events {
            totals[by_fraction[i % n_days]] += 1;
            sum += 1;
            i += 1;
        }
        while sum > opts.events {
            let d = by_fraction[n_days - 1 - (i % n_days)];
            if totals[d] > 0 {
                totals[d] -= 1;
                sum -= 1;
            }
            i += 1;
        }

        let mut days: Vec<DayPlan> = dates
            .iter()
            .zip(&totals)
            .enumerate()
            .map(|(i, (date, &total))| DayPlan {
                index: i as u32,
                date: *date,
                start_ms: crate::time::start_of_day(*date) / 1_000_000,
                total,
                scripted: Vec::new(),
                cases_before: 0,
            })
            .collect();

        self.place_support_windows(&mut days, &mut rng);
        self.place_case_cleanups(&mut days);
        if let Some(p) = self.plant {
            p.place(&mut days)?;
        }

        let case_created = self.kind("case_created");
        let mut cases = self.org.existing_cases;
        for day in &mut days {
            day.cases_before = cases;
            let n = day.total - day.scripted.len() as u64;
            cases += self
                .draw_kinds(day.index, n)
                .iter()
                .filter(|d| d.kind == case_created && !d.follows)
                .count() as u64;
            cases += day
                .scripted
                .iter()
                .filter(|s| s.kind == case_created && s.subject_kind == case_created)
                .count() as u64;
        }
        Ok(days)
    }

    /// Code42 support access: an admin enables it, the support user works inside the window, and
    /// an admin (or SYSTEM, when it expires) disables it, all in business hours. The support user
    /// acts nowhere else (the plant's support scenes excepted: their days get no window here).
    fn place_support_windows(&self, days: &mut [DayPlan], rng: &mut Rng) {
        let opts = self.opts;
        if opts.events < 60 {
            return;
        }
        let reserved = self.plant.map(|p| p.support_days()).unwrap_or_default();
        let wanted = (opts.days / 7).max(1) as usize;
        let mut candidates: Vec<usize> = (0..days.len())
            .filter(|&i| !is_weekend(days[i].date) && !reserved.contains(&days[i].index))
            .collect();
        if candidates.is_empty() {
            candidates = (0..days.len())
                .filter(|&i| !reserved.contains(&days[i].index))
                .collect();
        }
        for i in (1..candidates.len()).rev() {
            candidates.swap(i, rng.index(i + 1));
        }
        // What the support user does while access is on: looking around, and changing settings
        // the customer asked about. Creating accounts or restoring files is not routine support
        // work (the plant has both).
        let support_kinds: Vec<(u16, f64)> = [
            ("search_issued", 4.0),
            ("logged_in", 1.0),
            ("risk_setting_changed", 1.0),
            ("alert_rule_edited", 1.0),
            ("file_download", 1.0),
        ]
        .iter()
        .map(|&(k, w)| (self.kind(k), w))
        .collect();
        let support_weights = Weighted::new(support_kinds.iter().map(|k| k.1));
        let per_window = (opts.events / 3000).clamp(2, 12);
        for &d in candidates.iter().take(wanted) {
            let day = &mut days[d];
            let mut k = per_window + rng.below(3);
            if day.total < k + 3 {
                if day.total < 4 {
                    continue;
                }
                k = day.total - 3;
            }
            let admin = self.org.admins[rng.index(self.org.admins.len())] as u32;
            // Opened between 09:00 and 12:00, closed 1-4 hours later: before 17:00.
            let t0 = day.start_ms + BUSINESS_START + rng.below(3 * MS_PER_HOUR as u64) as i64;
            let t1 = t0 + MS_PER_HOUR + rng.below(3 * MS_PER_HOUR as u64) as i64;
            let slot = |ms, kind, actor| Slot {
                ms,
                kind,
                subject_kind: kind,
                actor,
                subj: 0,
                planted: None,
            };
            day.scripted.push(Slot {
                subj: rng.next_u64(),
                ..slot(t0, self.kind("code42_support_user_access_enabled"), admin)
            });
            let mut times: Vec<i64> = (0..k)
                .map(|_| t0 + 60_000 + rng.below((t1 - t0 - 120_000) as u64) as i64)
                .collect();
            times.sort_unstable();
            let support = self.org.support as u32;
            for (j, t) in times.into_iter().enumerate() {
                let kind = if j == 0 {
                    self.kind("logged_in")
                } else {
                    support_kinds[support_weights.sample(rng)].0
                };
                day.scripted.push(Slot {
                    subj: rng.next_u64(),
                    ..slot(t, kind, support)
                });
            }
            let closer = if rng.chance(0.3) {
                self.org.system as u32
            } else {
                admin
            };
            day.scripted.push(Slot {
                subj: rng.next_u64(),
                ..slot(t1, self.kind("support_user_access_disabled"), closer)
            });
        }
    }

    /// The background's only case deletions, a few a month: an analyst opens a case twice by
    /// mistake and deletes the duplicate minutes later. (Each deletion is a medium finding by
    /// design: a deleted case is a lost investigation record.)
    fn place_case_cleanups(&self, days: &mut [DayPlan]) {
        let opts = self.opts;
        if opts.events < 1000 {
            return;
        }
        let mut rng = Rng::new(derive(opts.seed, CLEANUP_STREAM, 0));
        let weekdays: Vec<usize> = (0..days.len())
            .filter(|&i| !is_weekend(days[i].date) && days[i].total >= 50)
            .collect();
        if weekdays.is_empty() {
            return;
        }
        let wanted = (f64::from(opts.days) / 10.0).round().max(1.0) as usize;
        let created = self.kind("case_created");
        let deleted = self.kind("case_deleted");
        for _ in 0..wanted {
            let day = &mut days[weekdays[rng.index(weekdays.len())]];
            let analyst = self.org.analysts[rng.index(self.org.analysts.len())] as u32;
            let t0 = day.start_ms
                + BUSINESS_START
                + rng.below(BUSINESS_LENGTH as u64 - 3_600_000) as i64;
            let t1 = t0 + rng.range(300_000, 3_600_000) as i64;
            let subj = rng.next_u64();
            for (ms, kind) in [(t0, created), (t1, deleted)] {
                day.scripted.push(Slot {
                    ms,
                    kind,
                    subject_kind: created,
                    actor: analyst,
                    subj,
                    planted: None,
                });
            }
        }
    }

    fn pick_actor(&self, who: Who, rng: &mut Rng) -> usize {
        let org = self.org;
        let analyst = |rng: &mut Rng| org.analysts[org.analyst_weights.sample(rng)];
        let admin = |rng: &mut Rng| org.admins[rng.index(org.admins.len())];
        match who {
            Who::Staff => org.staff[org.staff_weights.sample(rng)],
            // Case work and searches are the analysts' (administrators administer): the weekly
            // per-analyst comparison then compares like with like.
            Who::Analyst => analyst(rng),
            Who::Admin | Who::Scripted => admin(rng),
            Who::AnalystOrApi => {
                if rng.chance(0.85) {
                    analyst(rng)
                } else {
                    org.api_clients[rng.index(org.api_clients.len())]
                }
            }
            Who::Scim => {
                if rng.chance(0.8) {
                    org.scim
                } else {
                    admin(rng)
                }
            }
        }
    }

    /// Milliseconds into the day at which `actor` does something; `managed` changes are made in
    /// business hours only.
    fn time_of_day(&self, actor: &Person, weekend: bool, managed: bool, rng: &mut Rng) -> i64 {
        let business = |rng: &mut Rng| {
            // 09:00-17:00, busiest around 13:00.
            let span = BUSINESS_LENGTH as u64;
            BUSINESS_START + ((rng.below(span) + rng.below(span)) / 2) as i64
        };
        let off = |rng: &mut Rng| {
            (BUSINESS_START
                + BUSINESS_LENGTH
                + rng.below((MS_PER_DAY - BUSINESS_LENGTH) as u64) as i64)
                % MS_PER_DAY
        };
        let p_off = if weekend {
            actor.off_hours.max(0.4)
        } else {
            actor.off_hours
        };
        if !managed && rng.chance(p_off) {
            off(rng)
        } else {
            business(rng)
        }
    }

    /// Generate one day in time order, handing each event to `sink`.
    fn day(
        &self,
        plan: &DayPlan,
        sink: &mut dyn FnMut(&Event<'a>) -> io::Result<()>,
    ) -> io::Result<()> {
        let org = self.org;
        let seed = self.opts.seed;
        let day = u64::from(plan.index);
        let weekend = is_weekend(plan.date);
        let day_end = plan.start_ms + MS_PER_DAY;

        // Phase 1: who does what when.
        let draws = self.draw_kinds(plan.index, plan.total - plan.scripted.len() as u64);
        let mut rng = Rng::new(derive(seed, SLOT_STREAM, day));
        let mut slots: Vec<Slot> = Vec::with_capacity(plan.total as usize);
        for draw in draws {
            let slot = match (draw.follows, slots.last()) {
                (true, Some(prev)) => Slot {
                    ms: (prev.ms + rng.range(30_000, 1_800_000) as i64).min(day_end - 1),
                    kind: draw.kind,
                    ..*prev
                },
                _ => {
                    let spec = &SPECS[usize::from(draw.kind)];
                    let mut actor = self.pick_actor(spec.who, &mut rng);
                    if spec.system > 0.0 && rng.chance(spec.system) {
                        actor = org.system;
                    }
                    let managed = self.managed[usize::from(draw.kind)];
                    let ms = plan.start_ms
                        + self.time_of_day(&org.people[actor], weekend, managed, &mut rng);
                    Slot {
                        ms,
                        kind: draw.kind,
                        subject_kind: draw.kind,
                        actor: actor as u32,
                        subj: rng.next_u64(),
                        planted: None,
                    }
                }
            };
            slots.push(slot);
        }
        slots.extend_from_slice(&plan.scripted);
        slots.sort_by_key(|s| s.ms);
        // Strictly increasing milliseconds, inside the day.
        for i in 1..slots.len() {
            if slots[i].ms <= slots[i - 1].ms {
                slots[i].ms = slots[i - 1].ms + 1;
            }
        }
        if let Some(last) = slots.last_mut() {
            last.ms = last.ms.min(day_end - 1);
        }
        for i in (0..slots.len().saturating_sub(1)).rev() {
            slots[i].ms = slots[i].ms.min(slots[i + 1].ms - 1);
        }

        // Phase 2: details, in time order.
        let mut rng = Rng::new(derive(seed, DETAIL_STREAM, day));
        let mut cases = CaseState {
            count: plan.cases_before,
            by_subject: Default::default(),
        };
        let mut last_ns = i64::MIN;
        let mut ev = Event {
            ns: 0,
            prec: 3,
            kind: 0,
            actor: None,
            ip: Ip::Null,
            agent: None,
            affected: None,
            details: Vec::with_capacity(8),
            planted: None,
        };
        for slot in &slots {
            let ms_ns = slot.ms * 1_000_000;
            let (mut ns, mut prec) = match rng.below(100) {
                0..3 => ((slot.ms - slot.ms.rem_euclid(1000)) * 1_000_000, 0),
                3..90 => (ms_ns, 3),
                90..97 => (ms_ns + rng.below(1000) as i64 * 1000, 6),
                _ => (ms_ns + rng.below(1_000_000) as i64, 9),
            };
            // Planted events have plain millisecond timestamps, as most events do.
            if ns <= last_ns || slot.planted.is_some() {
                (ns, prec) = (ms_ns, 3);
            }
            last_ns = ns;
            let planted = self
                .plant
                .zip(slot.planted)
                .and_then(|(p, i)| p.actor(org, i).map(|a| (p, i, a)));
            let actor = match planted {
                Some((_, _, a)) => a,
                None => &org.people[slot.actor as usize],
            };
            let (ip, agent) = client(actor, org, &mut rng);
            ev.ns = ns;
            ev.prec = prec;
            ev.kind = slot.kind;
            ev.actor = Some(actor);
            ev.ip = ip;
            ev.agent = agent;
            ev.affected = None;
            ev.details.clear();
            ev.planted = None;
            let mut cx = Cx {
                org,
                cases: &mut cases,
                date: plan.date,
            };
            let body: Body = SPECS[usize::from(slot.kind)].body;
            let subject_body = SPECS[usize::from(slot.subject_kind)].body;
            kinds::build(body, subject_body, &mut cx, slot.subj, &mut rng, &mut ev);
            if let Some((p, i, _)) = planted {
                p.apply(org, i, &mut ev);
            }
            sink(&ev)?;
        }
        Ok(())
    }
}

/// The client address and user agent of one action by `actor`.
fn client<'a>(actor: &'a Person, org: &'a Org, rng: &mut Rng) -> (Ip<'a>, Option<&'a str>) {
    if actor.kind == Kind::System {
        return (Ip::Null, None);
    }
    let r = rng.below(1000);
    let ip = if r < 5 {
        Ip::Null
    } else if r < 8 {
        Ip::NullText
    } else {
        let proxy = rng
            .chance(0.1)
            .then(|| org.proxies[rng.index(org.proxies.len())].as_str());
        if actor.roam > 0.0 && rng.chance(actor.roam) {
            // A phone on a mobile network: an address used once and never again.
            let ip = org::public_ip(rng);
            Ip::Owned(match proxy {
                Some(p) => format!("{ip}, {p}"),
                None => ip,
            })
        } else if actor.ips.is_empty() {
            Ip::Null
        } else {
            let ips = &actor.ips;
            let i = if ips.len() > 1 && rng.chance(actor.second_share) {
                1 + rng.index(ips.len() - 1)
            } else {
                0
            };
            match proxy {
                Some(p) => Ip::Chain(&ips[i], p),
                None => Ip::One(&ips[i]),
            }
        }
    };
    let p_null = if actor.kind == Kind::ApiClient {
        0.02
    } else {
        0.01
    };
    let agent = if rng.chance(p_null) || actor.agents.is_empty() {
        None
    } else if actor.agents.len() == 1 || rng.chance(0.8) {
        Some(actor.agents[0])
    } else {
        Some(actor.agents[1 + rng.index(actor.agents.len() - 1)])
    };
    (ip, agent)
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

#[cfg(test)]
mod tests;
