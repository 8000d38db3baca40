/*!
Planted cases: a fixed, documented set of scenes that every analysis must report above `low`,
added to a generated data set with `auditlens generate --plant` (and listed, with the events that
make them, by `--plant-manifest`). They are what an acceptance test and the demo look for among
ordinary background.

All of them fall in the **plant week**: the first ISO week (Monday to Sunday) that begins at least
14 days after the range's first day, so the analyses have two weeks of history to judge it
against (the unusual-IP baseline is 14 days; administrators are recognised after 3 days of
administrative work). For the default range (28 days from Monday 2026-03-30) that is 2026-W16.
Times are UTC. In the plant week:

| day, time | scene | analysis: finding |
|---|---|---|
| Tue 09:38-13:06 | admin A0 opens a support-access window; the support user signs in, creates the account `support.temp@example.com` and runs a restore | support-user-activity: the window (low), the account it created (medium); file-access: a restore by the support user (medium) |
| Tue 10:31-10:36 | `support.temp` signs in, grants a colleague *Security Administrator*, then itself *Customer Cloud Admin* | support-user-activity: what the created account did (high); privilege-changes: a change by a non-administrator (medium), a self-grant (high) |
| Tue 11:14, 13:16 | A0 grants *Customer Cloud Admin*, revokes it two hours later | privilege-changes: temporary escalation (medium) |
| Tue 13:00 - Wed 12:00 | analyst N1 exports cases: their usual weekly total of case actions and searches plus 20 (at least 40, at most 170, so all fit in the 200 ids of evidence) | analyst-case-actions: a burst driven by exports (high) |
| Wed 11:41 | an ordinary user (no admin history, no admin role) grants a role | privilege-changes: a change by a non-administrator (medium) |
| Wed 14:22 | admin A1 grants themself *Security Administrator* | privilege-changes: self-grant (high) |
| Wed 15:02-15:19 | admin A2 resets four API client secrets | privilege-changes: secret-reset burst (high) |
| Thu 09:12, 16:41 | analyst N3 opens a case; analyst N4 deletes it | analyst-case-actions: case deletion (medium) |
| Thu 10:02-10:06 | admin A3 signs in from an address never seen before, outside the corporate networks, and grants a role | unusual-ips: privileged action from a new outside address (high) |
| Thu 12:31-12:51 | six users sign in from one outside address within 20 minutes | unusual-ips: shared outside address (medium) |
| Thu 13:30-15:50 | analyst N2 downloads 140 files (`file_access.bulk_per_day` is 100) | file-access: bulk access (medium) |
| Fri 10:02-11:26 | admin A3 creates and deletes an alert rule three times and disables / re-enables another twice | training-needs: 5 reversals (medium) |
| Fri 19:42-20:06 | the support user signs in, searches and downloads with support access off | support-user-activity: outside every window (high) |
| Sat 02:04 | admin A2 grants a role | after-hours-admin: a privilege change on a weekend night (medium) |

A0-A3 are the organisation's first four administrators, N1-N4 analysts 2-5 (analyst 1 is the
one who works late); users are ordinary staff. Planted events take the place of background events
(the total stays as requested) and go through the same encoders as every other event.
*/

mod cast;
mod scenes;
#[cfg(test)]
mod tests;

use chrono::{Datelike, Days, NaiveDate};
use serde::Serialize;

use super::GenOptions;
use super::kinds::{Event, Ip, SPECS, Val};
use super::org::{Org, Person};
use super::{DayPlan, Slot, is_weekend};
use crate::analyses::Severity;

/// Days of history before the plant week at least (the unusual-IP baseline's default).
const HISTORY_DAYS: u64 = 14;

/// The largest share of a day's events the scripted and planted ones may take: the rest is the
/// ordinary traffic they hide among.
const MAX_SCRIPTED_SHARE: f64 = 2.0 / 3.0;

/// Events the plan gives an average weekday, at least, for `--plant`: room for the biggest planted
/// day (about 160 events) among ordinary traffic.
const MIN_WEEKDAY_EVENTS: f64 = 400.0;

/// One planted case as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlantedCase {
    /// Short stable name (`secret-reset-burst`).
    pub name: String,
    /// The analysis that must report it.
    pub analysis: String,
    /// The least severity it must be reported with.
    pub severity: Severity,
    /// The finding's actor (empty for a finding about an address rather than an actor).
    pub actor: String,
    /// The ISO week it falls in (`2026-W16`): analyse that week to see it.
    pub week: String,
    pub description: String,
    /// The planted events that must be among the finding's evidence, in time order.
    pub events: Vec<PlantedEvent>,
}

/// One planted event, by the fields that identify it in any export and in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlantedEvent {
    /// The timestamp exactly as written.
    pub timestamp: String,
    /// The API name of the event type.
    pub event_type: String,
    /// The acting user's name.
    pub actor: String,
}

/// The first day of the plant week for a range starting on `start`.
pub fn plant_week(start: NaiveDate) -> NaiveDate {
    let earliest = start
        .checked_add_days(Days::new(HISTORY_DAYS))
        .unwrap_or(start);
    let to_monday = (7 - earliest.weekday().num_days_from_monday()) % 7;
    earliest
        .checked_add_days(Days::new(u64::from(to_monday)))
        .unwrap_or(earliest)
}

/// Whether `opts` leave room for the plant: the plant week inside the range, enough events a day.
pub(super) fn check(opts: &GenOptions) -> Result<(), String> {
    let week = plant_week(opts.start);
    let end = opts
        .start
        .checked_add_days(Days::new(u64::from(opts.days)))
        .unwrap_or(opts.start);
    if week.checked_add_days(Days::new(7)).is_none_or(|e| e > end) {
        return Err(format!(
            "--plant needs the week from {week} (the first Monday at least {HISTORY_DAYS} days \
             after --start {}) inside the range; use at least {} --days",
            opts.start,
            (week - opts.start).num_days() + 7
        ));
    }
    // The plan weighs weekdays 0.85-1.15 and weekend days a tenth of that.
    let (weekdays, weekend) = (0..opts.days).fold((0.0, 0.0), |(wd, we), i| {
        match opts.start.checked_add_days(Days::new(u64::from(i))) {
            Some(d) if is_weekend(d) => (wd, we + 1.0),
            _ => (wd + 1.0, we),
        }
    });
    let needed = MIN_WEEKDAY_EVENTS * (1.15 * weekdays + 0.115 * weekend) / 0.85;
    if (opts.events as f64) < needed {
        return Err(format!(
            "--plant needs at least {} events over {} days (about {MIN_WEEKDAY_EVENTS} on each \
             weekday), not {}",
            needed.ceil(),
            opts.days,
            opts.events
        ));
    }
    Ok(())
}

/// Who acts in (or is affected by) a planted event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Actor {
    /// A member of the organisation (index into `Org::people`).
    Org(usize),
    /// Someone who exists only in the plant (index into `Planted::people`).
    Extra(usize),
}

/// The client address of a planted event.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Addr {
    /// The actor's first usual address.
    Usual,
    Fixed(String),
}

/// One planted event before its details are built.
#[derive(Debug, Clone)]
pub(super) struct PlantEvent {
    /// Day of the range and instant (ms since the epoch).
    pub(super) day: u32,
    pub(super) ms: i64,
    pub(super) kind: u16,
    /// As for a background slot: the event this one follows (its own kind otherwise).
    pub(super) subject_kind: u16,
    pub(super) subj: u64,
    actor: Actor,
    /// The actor's name (for the manifest).
    actor_name: String,
    addr: Addr,
    affected: Option<Actor>,
    /// Detail fields set after the ordinary builder ran (replacing a field of the same name).
    details: Vec<(&'static str, Val<'static>)>,
}

/// A planted case before its events have timestamps.
#[derive(Debug, Clone)]
struct Case {
    name: &'static str,
    analysis: &'static str,
    severity: Severity,
    actor: String,
    description: String,
    events: Vec<usize>,
}

/// The plant of one data set.
#[derive(Debug)]
pub struct Planted {
    /// People who exist only in the plant: the account the support user creates.
    people: Vec<Person>,
    pub(super) events: Vec<PlantEvent>,
    cases: Vec<Case>,
    week: NaiveDate,
}

/// The API name's index into [`SPECS`] (every name used here is in the catalog; a unit test checks
/// it).
fn kind(api: &str) -> u16 {
    SPECS
        .iter()
        .position(|s| s.api == api)
        .map_or(0, |i| i as u16)
}

impl Planted {
    /// The plant for `opts` (which [`check`] accepted) in `org`.
    pub(super) fn new(opts: &GenOptions, org: &Org) -> Planted {
        scenes::build(opts, org)
    }

    /// Days (of the range) whose support access the plant scripts: background support windows
    /// stay off them.
    pub(super) fn support_days(&self) -> Vec<u32> {
        let on = kind("code42_support_user_access_enabled");
        self.events
            .iter()
            .filter(|e| e.kind == on)
            .map(|e| e.day)
            .collect()
    }

    /// Add the planted events to the plan's days; errors when a day has too few events for them.
    pub(super) fn place(&self, days: &mut [DayPlan]) -> Result<(), String> {
        for (i, e) in self.events.iter().enumerate() {
            let Some(day) = days.get_mut(e.day as usize) else {
                return Err(format!("the plant week {} is outside the range", self.week));
            };
            day.scripted.push(Slot {
                ms: e.ms,
                kind: e.kind,
                subject_kind: e.subject_kind,
                actor: 0,
                subj: e.subj,
                planted: Some(i as u32),
            });
        }
        for day in days
            .iter()
            .filter(|d| d.scripted.iter().any(|s| s.planted.is_some()))
        {
            if day.scripted.len() as f64 > MAX_SCRIPTED_SHARE * day.total as f64 {
                return Err(format!(
                    "{} has {} events, too few for the {} scripted and planted ones; use more \
                     --events or fewer --days",
                    day.date,
                    day.total,
                    day.scripted.len()
                ));
            }
        }
        Ok(())
    }

    /// The person `a` stands for.
    fn person<'s>(&'s self, org: &'s Org, a: Actor) -> &'s Person {
        match a {
            Actor::Org(i) => &org.people[i],
            Actor::Extra(i) => &self.people[i],
        }
    }

    /// The actor of planted event `i`.
    pub(super) fn actor<'s>(&'s self, org: &'s Org, i: u32) -> Option<&'s Person> {
        let e = self.events.get(i as usize)?;
        Some(self.person(org, e.actor))
    }

    /// Make `ev` (built by the ordinary builder for planted event `i`) the planted event: its
    /// address, browser, affected user and detail overrides.
    pub(super) fn apply<'s>(&'s self, org: &'s Org, i: u32, ev: &mut Event<'s>) {
        let Some(e) = self.events.get(i as usize) else {
            return;
        };
        let actor = self.person(org, e.actor);
        ev.actor = Some(actor);
        ev.ip = match &e.addr {
            Addr::Usual => actor.ips.first().map_or(Ip::Null, |a| Ip::One(a)),
            Addr::Fixed(a) => Ip::One(a),
        };
        ev.agent = actor.agents.first().copied();
        if let Some(a) = e.affected {
            ev.affected = Some(self.person(org, a));
        }
        for (k, v) in &e.details {
            match ev.details.iter_mut().find(|(key, _)| key == k) {
                Some(slot) => slot.1 = v.clone(),
                None => ev.details.push((k, v.clone())),
            }
        }
        ev.planted = Some(i);
    }

    /// The manifest: every case with its planted events that were written (`written`: event index
    /// and timestamp as written); a case none of whose events was written is left out.
    pub fn manifest(&self, written: &[(u32, String)]) -> Vec<PlantedCase> {
        let when: std::collections::HashMap<u32, &str> =
            written.iter().map(|(i, t)| (*i, t.as_str())).collect();
        let week = crate::filter::iso_week_label(self.week);
        let mut out = Vec::new();
        for c in &self.cases {
            let mut events: Vec<(i64, PlantedEvent)> = c
                .events
                .iter()
                .filter_map(|&i| {
                    let t = when.get(&(i as u32))?;
                    let e = &self.events[i];
                    let api = SPECS.get(usize::from(e.kind)).map_or("", |s| s.api);
                    Some((
                        e.ms,
                        PlantedEvent {
                            timestamp: (*t).to_owned(),
                            event_type: api.to_owned(),
                            actor: e.actor_name.clone(),
                        },
                    ))
                })
                .collect();
            if events.is_empty() {
                continue;
            }
            events.sort_by_key(|e| e.0);
            out.push(PlantedCase {
                name: c.name.to_owned(),
                analysis: c.analysis.to_owned(),
                severity: c.severity,
                actor: c.actor.clone(),
                week: week.clone(),
                description: c.description.clone(),
                events: events.into_iter().map(|(_, e)| e).collect(),
            });
        }
        out
    }
}
