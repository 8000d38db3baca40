/*!
Synthetic Code42 Audit Log exports for tests and benchmarks: a seeded, realistic organisation whose
console users, analysts, admins, API clients, SYSTEM, SCIM and Code42 support user produce a month
of audit events, written in any of the export formats auditlens reads.

The same seed and options give the same events in every format (only the encoding differs), so one
data set can be ingested as console CSV, code42cli CSV and JSON and the results compared. Output is
deterministic byte for byte. Every generated event is unique (timestamps are strictly increasing at
their written precision), so ingesting N generated rows stores exactly N events.

How it works: a plan splits the events over the days of the range (weekdays busier than weekends)
and places the scripted scenes (Code42 support access windows); each day is then generated on its
own from seeds derived from the run seed, in time order, and written oldest or newest first. Memory
is bounded by one day of events. This module never reads exports and never touches a store.
*/

pub mod encode;
mod kinds;
mod org;
mod rng;

use std::io::{self, Write};

use chrono::{Datelike, Days, NaiveDate, Weekday};

use encode::Encoder;
use kinds::{Body, CaseState, Cx, Event, Ip, SPECS, Who};
use org::{Kind, Org, Person};
use rng::{Rng, Weighted, derive};

use crate::model::catalog::Catalog;

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
        }
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
}

/// Write `opts.events` events in `opts.format` to `out`. Errors: invalid options
/// (`ErrorKind::InvalidInput`) and write errors.
pub fn generate(opts: &GenOptions, out: &mut dyn Write) -> io::Result<GenSummary> {
    opts.validate()
        .map_err(|m| io::Error::new(io::ErrorKind::InvalidInput, m))?;
    let org = Org::new(opts.seed);
    let generator = Generator::new(opts, &org);
    let plan = generator.plan();
    let mut enc = Encoder::new(opts.format, opts.seed);

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
    if count != opts.events {
        return Err(io::Error::other(format!(
            "generator bug: wrote {count} events, not {}",
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
    })
}

const PLAN_STREAM: u64 = 0x706c_616e;
const KIND_STREAM: u64 = 0x6b69_6e64;
const SLOT_STREAM: u64 = 0x736c_6f74;
const DETAIL_STREAM: u64 = 0x6465_7461;

const MS_PER_HOUR: i64 = 3_600_000;
const MS_PER_DAY: i64 = 24 * MS_PER_HOUR;

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
    deprecated: Vec<bool>,
    index: std::collections::HashMap<&'static str, u16>,
}

impl<'a> Generator<'a> {
    fn new(opts: &'a GenOptions, org: &'a Org) -> Generator<'a> {
        let catalog = Catalog::get();
        let deprecated = SPECS
            .iter()
            .map(|s| catalog.by_api_name(s.api).is_some_and(|e| e.deprecated))
            .collect();
        let index = SPECS
            .iter()
            .enumerate()
            .map(|(i, s)| (s.api, i as u16))
            .collect();
        Generator {
            opts,
            org,
            deprecated,
            index,
        }
    }

    fn kind(&self, api: &str) -> u16 {
        self.index.get(api).copied().unwrap_or(0)
    }

    /// Event types of the random (unscripted) events of a day, in draw order. The plan and the day
    /// generator both call this, so case numbers can be counted ahead.
    fn draw_kinds(&self, day: u32, n: u64) -> Vec<Draw> {
        let factor = kinds::deprecated_factor(day);
        let weights = Weighted::new(
            SPECS
                .iter()
                .zip(&self.deprecated)
                .map(|(s, &dep)| if dep { s.weight * factor } else { s.weight }),
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

    fn plan(&self) -> Vec<DayPlan> {
        let opts = self.opts;
        let mut rng = Rng::new(derive(opts.seed, PLAN_STREAM, 0));
        let dates: Vec<NaiveDate> = (0..opts.days)
            .map(|i| {
                opts.start
                    .checked_add_days(Days::new(u64::from(i)))
                    .unwrap_or(opts.start)
            })
            .collect();
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
        }
        days
    }

    /// Code42 support access: an admin enables it, the support user works inside the window, and
    /// an admin (or SYSTEM, when it expires) disables it. The support user acts nowhere else.
    fn place_support_windows(&self, days: &mut [DayPlan], rng: &mut Rng) {
        let opts = self.opts;
        if opts.events < 60 {
            return;
        }
        let wanted = (opts.days / 7).max(1) as usize;
        let mut candidates: Vec<usize> = (0..days.len())
            .filter(|&i| !is_weekend(days[i].date))
            .collect();
        if candidates.is_empty() {
            candidates = (0..days.len()).collect();
        }
        for i in (1..candidates.len()).rev() {
            candidates.swap(i, rng.index(i + 1));
        }
        let support_kinds: Vec<(u16, f64)> = [
            ("search_issued", 4.0),
            ("logged_in", 1.0),
            ("risk_setting_changed", 1.0),
            ("alert_rule_edited", 1.0),
            ("file_download", 1.0),
            ("user_registered", 0.5),
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
            let t0 = day.start_ms + 9 * MS_PER_HOUR + rng.below(5 * MS_PER_HOUR as u64) as i64;
            let t1 = t0 + MS_PER_HOUR + rng.below(3 * MS_PER_HOUR as u64) as i64;
            let slot = |ms, kind, actor| Slot {
                ms,
                kind,
                subject_kind: kind,
                actor,
                subj: 0,
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

    fn pick_actor(&self, who: Who, rng: &mut Rng) -> usize {
        let org = self.org;
        let analyst = |rng: &mut Rng| org.analysts[org.analyst_weights.sample(rng)];
        let admin = |rng: &mut Rng| org.admins[rng.index(org.admins.len())];
        match who {
            Who::Staff => org.staff[org.staff_weights.sample(rng)],
            Who::Analyst => {
                if rng.chance(0.85) {
                    analyst(rng)
                } else {
                    admin(rng)
                }
            }
            Who::Admin | Who::Scripted => admin(rng),
            Who::AnalystOrApi => match rng.below(100) {
                0..80 => analyst(rng),
                80..88 => admin(rng),
                _ => org.api_clients[rng.index(org.api_clients.len())],
            },
            Who::Scim => {
                if rng.chance(0.8) {
                    org.scim
                } else {
                    admin(rng)
                }
            }
        }
    }

    /// Milliseconds into the day at which `actor` does something.
    fn time_of_day(&self, actor: &Person, weekend: bool, rng: &mut Rng) -> i64 {
        let business = |rng: &mut Rng| {
            // 08:00-18:00, busiest around 13:00.
            let span = 10 * MS_PER_HOUR as u64;
            8 * MS_PER_HOUR + ((rng.below(span) + rng.below(span)) / 2) as i64
        };
        let off = |rng: &mut Rng| {
            (18 * MS_PER_HOUR + rng.below(14 * MS_PER_HOUR as u64) as i64) % MS_PER_DAY
        };
        let p_off = if weekend {
            actor.off_hours.max(0.4)
        } else {
            actor.off_hours
        };
        if rng.chance(p_off) {
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
                    let ms =
                        plan.start_ms + self.time_of_day(&org.people[actor], weekend, &mut rng);
                    Slot {
                        ms,
                        kind: draw.kind,
                        subject_kind: draw.kind,
                        actor: actor as u32,
                        subj: rng.next_u64(),
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
        };
        for slot in &slots {
            let ms_ns = slot.ms * 1_000_000;
            let (mut ns, mut prec) = match rng.below(100) {
                0..3 => ((slot.ms - slot.ms.rem_euclid(1000)) * 1_000_000, 0),
                3..90 => (ms_ns, 3),
                90..97 => (ms_ns + rng.below(1000) as i64 * 1000, 6),
                _ => (ms_ns + rng.below(1_000_000) as i64, 9),
            };
            if ns <= last_ns {
                (ns, prec) = (ms_ns, 3);
            }
            last_ns = ns;
            let actor = &org.people[slot.actor as usize];
            let (ip, agent) = client(actor, org, &mut rng);
            ev.ns = ns;
            ev.prec = prec;
            ev.kind = slot.kind;
            ev.actor = Some(actor);
            ev.ip = ip;
            ev.agent = agent;
            ev.affected = None;
            ev.details.clear();
            let mut cx = Cx {
                org,
                cases: &mut cases,
                date: plan.date,
            };
            let body: Body = SPECS[usize::from(slot.kind)].body;
            let subject_body = SPECS[usize::from(slot.subject_kind)].body;
            kinds::build(body, subject_body, &mut cx, slot.subj, &mut rng, &mut ev);
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
        if actor.kind == Kind::User && rng.chance(0.02) {
            // Travelling: an address never seen before.
            let ip = org::public_ip(rng);
            Ip::Owned(match proxy {
                Some(p) => format!("{ip}, {p}"),
                None => ip,
            })
        } else {
            let ips = &actor.ips;
            let i = if ips.len() == 1 || rng.chance(0.75) {
                0
            } else {
                1 + rng.index(ips.len() - 1)
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
