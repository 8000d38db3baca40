/*!
training-needs: changes their own author undid soon after, the Audit Log's "areas of training for
users that caused inadvertent changes".

# What counts as a reversal
A *reversal* is a change followed by its inverse (the catalog's `inverse` column: created/deleted,
enabled/disabled, added/removed, assigned/revoked) on the **same object** by the **same actor**
within `training.reversal_window` (default 24h, inclusive). The object is the event's subject from
the catalog's `subject_keys` ([`common::subject`](super::common::subject)): the rule id, the
affected user and role, the case and file event, ...

Pairing runs in time order per actor, object and inverse pair, with one open event at a time: an
event closes the open event when that is of the inverse type and within the window; otherwise it
becomes the open event itself (so an undo pairs with the latest change before it, and a change
out of reach is forgotten). Every event is in at most one pair, so:
- created, deleted, created, deleted, created, deleted: **three** reversals;
- enabled, disabled, enabled: **one** reversal (enabled undone by disabled); the final enable
  restores the state and is a fresh change that a later disable could undo in turn. Counting it as
  a second reversal would count the disable twice and double the rank of anyone who flip-flops.
  If the first enable lies outside the window, the disable/enable pair is the one reversal.

Actors are matched by username, ignoring case. Events pair as they would over the whole history
in the store, whatever period is analysed; a reversal is reported (and ranked) in the period its
undoing event falls in. A period is read from a few windows before it, and further back only
while some object's chain of changes (each within the window of the one before) runs back past
that: where a chain starts can change how it pairs, a gap longer than the window cannot (`Reach`).
To keep that cheap, details are parsed only for events with an inverse-type event by the same
actor within the window (and on the same affected user, for the types whose object includes one:
memberships, roles, ...).

# What is not counted (on purpose)
- Events whose type has subject keys but whose details lack one of them: without the object there
  is no telling whether the inverse event touched the same thing, so they are skipped rather than
  guessed. Types without subject keys (Code42 support user access enabled/disabled) act on the one
  organisation-wide setting, which is their object.
- SYSTEM and API-client actors: automation that creates and removes things is not a person to
  train, and integrations that sync watchlists would flood the ranking.
- An inverse by a *different* actor: undoing someone else's change is review or correction, not an
  inadvertent change of one's own, and it is ordinary team work; it is not reported here (the
  change history itself is in `auditlens query`).
- An inverse on another affected user whose object reads the same (the object's parts are joined
  with `/`, so a name containing `/` could make two users' objects alike): another user's
  membership or role is another object.

# Findings and severity
- One finding per reversal: **low** (a single undo is usually harmless, but worth a look).
- One ranking finding per actor with at least 2 reversals in the period, ranked against every actor
  with a reversal (ties share a rank): **low**, **medium** from `training.min_reversals_medium`
  (default 5) reversals. Its evidence is every event of the actor's reversals, pair by pair.
*/

use std::collections::BTreeMap;

use polars::prelude::{ChunkZip, DataFrame, PlHashMap, StringChunked};
use rayon::prelude::*;

use super::common::{
    NULL_STR, StrColumn, duration, event_ids, evidence, i64s, join_subject, most_common,
    number_strings, plural, subject_parts,
};
use super::{Analysis, Context, Finding, Memory, Output, Select, Severity};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::catalog::{Catalog, EventType};
use crate::model::schema::cols;
use crate::model::{ActorType, EventId};
use crate::time::{NANOS_PER_DAY, format_timestamp};

/// Fewest reversals in the period that earn an actor a ranking finding.
const MIN_RANKED: usize = 2;

pub struct TrainingNeeds;

impl Analysis for TrainingNeeds {
    /// Every reversible change in the store, with its details.
    fn memory(&self) -> Memory {
        Memory::Heavy
    }

    fn name(&self) -> &'static str {
        "training-needs"
    }

    fn description(&self) -> &'static str {
        "changes undone by their own author soon after (reversals), and actors ranked by them"
    }

    fn run(&self, ctx: &Context<'_>) -> Result<Output> {
        let catalog = Catalog::get();
        let reversible: Vec<&str> = catalog
            .entries()
            .iter()
            .filter(|e| e.inverse.is_some())
            .map(|e| e.api_name)
            .collect();
        let window = Config::duration_ns(&ctx.config.training.reversal_window);
        let first_ns = ctx.store.manifest().parts.iter().map(|p| p.min_ns).min();
        // Back from the period only as far as the pairing needs (see [`Reach`]): a few windows,
        // doubled while some chain of changes runs back further. A weekly report on a year of
        // exports would otherwise read the whole year's reversible events.
        let mut lookback = ctx
            .from_ns
            .map(|_| window.saturating_mul(4).max(NANOS_PER_DAY));
        loop {
            let reach = match (ctx.from_ns, lookback) {
                (Some(from), Some(back))
                    if first_ns.is_some_and(|first| from.saturating_sub(back) > first) =>
                {
                    Some(Reach {
                        relevant_from: from.saturating_sub(window),
                        horizon: from
                            .saturating_sub(back)
                            .saturating_add(window.saturating_mul(2)),
                    })
                }
                // Everything from the store's first event on.
                _ => None,
            };
            // In the order read: the candidates are put in time order below, and a frame sorted
            // by time here would be a second copy of every column at the analysis' peak.
            let df = ctx.events_as_read(
                Select::Types(&reversible),
                None,
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
                reach.and(lookback),
            )?;
            let mut ev = Events::new(&df, ctx.store.root())?.ok_or_else(|| {
                Error::store(
                    ctx.store.root(),
                    "more than 4 billion distinct actors, event types, actor types or affected \
                     users",
                )
            })?;
            let Some(reversals) = ev.reversals(window, reach) else {
                lookback = lookback.map(|b| b.saturating_mul(2));
                continue;
            };
            let reversals: Vec<Reversal> = reversals
                .into_iter()
                .filter(|r| ctx.in_period(ev.ts[r.undo]))
                .collect();
            let mut out: Vec<Finding> = reversals
                .iter()
                .map(|r| self.reversal_finding(&ev, r))
                .collect();
            out.extend(self.ranking(&ev, &reversals, ctx.config.training.min_reversals_medium));
            return Ok(out.into());
        }
    }
}

/// How far back a period's pairing read, when it did not read from the store's first event.
///
/// Pairing is a chain per object (an event closes the open change or becomes the open change
/// itself), so where it starts can change how later events pair: with a change and its undo
/// every 20 hours, starting one event later pairs each undo with the next change instead. But
/// an event with no change of its object (by the same actor, in the same inverse family, on the
/// same affected user) within the window before it starts afresh whatever came earlier. So a period's reversals are those of
/// the whole history when every object's chain of changes reaching into the period (changes
/// from `relevant_from`, a window before the period) starts at or after `horizon`: two windows
/// after the first instant read. One window, because an earlier change in reach would have been
/// read; the second, because whether a change is kept for pairing at all ([`could_pair`]) looks
/// a window back too, so from there on the same changes are kept as over the whole history.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Reach {
    relevant_from: i64,
    horizon: i64,
}

/// The loaded events' columns.
struct Events<'a> {
    ids: Vec<Option<EventId>>,
    ts: Vec<i64>,
    // Read in place: only the rows that may pair (details) or do (the rest) are looked at.
    labels: StrColumn<'a>,
    actors: StrColumn<'a>,
    ips: StrColumn<'a>,
    aff_names: StrColumn<'a>,
    aff_ids: StrColumn<'a>,
    details: StrColumn<'a>,
    /// People's events of reversible types, in load order.
    candidates: Vec<Candidate>,
}

/// A person's event of a reversible type.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    /// Row in the loaded frame.
    row: usize,
    entry: &'static EventType,
    /// One number per lowercased name.
    actor: u32,
    /// The affected user (name, else id) numbered, when the type's object includes it;
    /// [`NO_USER`] otherwise.
    user: u32,
}

/// [`Candidate::user`] of an event whose object does not include the affected user, or lacks it.
const NO_USER: u32 = NULL_STR;

impl<'a> Events<'a> {
    /// `None` past `u32::MAX - 1` distinct actors, types, actor types or affected users.
    ///
    /// The candidates and the event ids are gathered side by side; the text columns are read in
    /// place ([`StrColumn`]).
    fn new(df: &'a DataFrame, store: &std::path::Path) -> Result<Option<Self>> {
        let (candidates, ids) = rayon::join(
            || -> Result<_> {
                Ok(candidates(
                    df.column(cols::ACTOR_NAME)?.str()?,
                    df.column(cols::EVENT_TYPE)?.str()?,
                    df.column(cols::ACTOR_TYPE)?.str()?,
                    &affected_users(df)?,
                ))
            },
            || event_ids(df, store),
        );
        let Some(candidates) = candidates? else {
            return Ok(None);
        };
        Ok(Some(Events {
            ids: ids?,
            ts: i64s(df, cols::TIMESTAMP_NS)?,
            labels: StrColumn::new(df, cols::EVENT_LABEL)?,
            actors: StrColumn::new(df, cols::ACTOR_NAME)?,
            ips: StrColumn::new(df, cols::CLIENT_IP)?,
            aff_names: StrColumn::new(df, cols::AFFECTED_USER_NAME)?,
            aff_ids: StrColumn::new(df, cols::AFFECTED_USER_ID)?,
            details: StrColumn::new(df, cols::DETAILS)?,
            candidates,
        }))
    }

    fn actor(&self, i: usize) -> &'a str {
        self.actors.get(i).unwrap_or_default()
    }

    /// Every reversal in the loaded history, in the order they were undone (takes the
    /// candidates); `None` when `reach` is given and some chain runs back past it (see [`Reach`]).
    fn reversals(&mut self, window: i64, reach: Option<Reach>) -> Option<Vec<Reversal>> {
        // Candidates in (time, id) order for determinism.
        let mut rows = std::mem::take(&mut self.candidates);
        // The row breaks ties of equal (time, id) (events without an id), so the order is total
        // and an unstable parallel sort gives the same result every run.
        rows.par_sort_unstable_by(|a, b| {
            self.ts[a.row]
                .cmp(&self.ts[b.row])
                .then(self.ids[a.row].cmp(&self.ids[b.row]))
                .then(a.row.cmp(&b.row))
        });
        let times: Vec<i64> = rows.iter().map(|r| self.ts[r.row]).collect();
        // Inverse pairs numbered too, looked up by catalog entry (its address) rather than by
        // hashing the pair's name for every event.
        let mut by_entry: PlHashMap<*const EventType, (u32, bool)> = PlHashMap::default();
        let mut by_family: PlHashMap<&str, u32> = PlHashMap::default();
        // The affected user goes with the family: an undo on another user's membership or role
        // is no undo, and most reversible events are such memberships.
        let coarse: Vec<(u32, (u32, u32), bool)> = rows
            .iter()
            .map(|c| {
                let &mut (family, forward) = by_entry
                    .entry(std::ptr::from_ref(c.entry))
                    .or_insert_with(|| {
                        let (name, forward) = family(c.entry);
                        let next = u32::try_from(by_family.len()).unwrap_or(u32::MAX);
                        (*by_family.entry(name).or_insert(next), forward)
                    });
                (c.actor, (family, c.user), forward)
            })
            .collect();
        let maybe = could_pair(&coarse, &times, window);

        // Only now parse details, for the events that have an inverse nearby: still a third of a
        // large store's reversible events (cases' file events added and removed all day; grouping
        // by the affected user too halved it, bench/NOTES.md), so side by side on rayon's workers.
        let changes: Vec<Change> = rows
            .par_iter()
            .zip(maybe.par_iter())
            .filter(|(_, m)| **m)
            .filter_map(|(c, _)| {
                let i = c.row;
                let object = object_of(
                    c.entry,
                    self.aff_ids.get(i),
                    self.aff_names.get(i),
                    self.details.get(i),
                )?;
                Some(Change {
                    row: i,
                    ts: self.ts[i],
                    actor: c.actor,
                    user: c.user,
                    event_type: c.entry.api_name,
                    inverse: c.entry.inverse.unwrap_or_default(),
                    object,
                })
            })
            .collect();
        let pairs = pair_reversals(&changes, window, reach)?;
        let reversals = pairs
            .into_iter()
            .map(|(a, b)| {
                let (change, undo) = (changes[a].row, changes[b].row);
                Reversal {
                    change,
                    undo,
                    object: changes[a].object.clone(),
                    phrase: undo_phrase(
                        self.labels.get(change).unwrap_or(changes[a].event_type),
                        self.labels.get(undo).unwrap_or(changes[b].event_type),
                    ),
                    gap_ns: changes[b].ts - changes[a].ts,
                }
            })
            .collect();
        Some(reversals)
    }
}

impl TrainingNeeds {
    /// The low finding for one reversal.
    fn reversal_finding(&self, ev: &Events<'_>, r: &Reversal) -> Finding {
        let (a, b) = (r.change, r.undo);
        Finding {
            analysis: self.name(),
            severity: Severity::Low,
            actor: ev.actor(a).to_owned(),
            subject: if r.object.is_empty() {
                r.phrase.noun.clone()
            } else {
                r.object.clone()
            },
            ip: ev
                .ips
                .get(b)
                .or(ev.ips.get(a))
                .unwrap_or_default()
                .to_owned(),
            first_seen_ns: ev.ts[a],
            last_seen_ns: ev.ts[b],
            count: 2,
            summary: format!(
                "{} {} within {} ({} at {}, undone at {}); an own change undone this soon \
                 suggests it was inadvertent",
                ev.actor(a),
                r.describe(),
                duration(r.gap_ns),
                ev.labels.get(a).unwrap_or_default(),
                format_timestamp(ev.ts[a]),
                format_timestamp(ev.ts[b]),
            ),
            event_ids: evidence([ev.ids[a], ev.ids[b]].into_iter().flatten()),
        }
    }

    /// One finding per actor with at least [`MIN_RANKED`] reversals, ranked against every actor
    /// with one.
    fn ranking(&self, ev: &Events<'_>, reversals: &[Reversal], medium_from: u32) -> Vec<Finding> {
        let mut by_actor: BTreeMap<String, Vec<&Reversal>> = BTreeMap::new();
        for r in reversals {
            by_actor
                .entry(ev.actor(r.change).to_lowercase())
                .or_default()
                .push(r);
        }
        let counts: Vec<usize> = by_actor.values().map(Vec::len).collect();
        let mut out = Vec::new();
        for mine in by_actor.values() {
            let n = mine.len();
            let Some(example) = mine.iter().min_by_key(|r| r.gap_ns) else {
                continue;
            };
            if n < MIN_RANKED {
                continue;
            }
            let rank = 1 + counts.iter().filter(|&&c| c > n).count();
            let tied = counts.iter().filter(|&&c| c == n).count() > 1;
            let place = match (rank, tied) {
                (1, false) => "the most".to_owned(),
                (1, true) => "jointly the most".to_owned(),
                (r, false) => format!("the {} most", ordinal(r)),
                (r, true) => format!("jointly the {} most", ordinal(r)),
            };
            let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
            for r in mine {
                *kinds.entry(r.phrase.text.as_str()).or_default() += 1;
            }
            let mut kinds: Vec<(&str, usize)> = kinds.into_iter().collect();
            kinds.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            let kinds: Vec<String> = kinds.iter().map(|(k, c)| format!("{k} ({c})")).collect();
            let rows: Vec<usize> = mine.iter().flat_map(|r| [r.change, r.undo]).collect();
            let actor = ev.actor(mine[0].change);
            out.push(Finding {
                analysis: self.name(),
                severity: if n >= medium_from as usize {
                    Severity::Medium
                } else {
                    Severity::Low
                },
                actor: actor.to_owned(),
                subject: objects_list(mine),
                ip: most_common(rows.iter().filter_map(|&i| ev.ips.get(i))),
                first_seen_ns: rows.iter().map(|&i| ev.ts[i]).min().unwrap_or_default(),
                last_seen_ns: rows.iter().map(|&i| ev.ts[i]).max().unwrap_or_default(),
                count: n as u64,
                summary: format!(
                    "{actor} has {place} reversals of own changes in the period: {} ({} had any; \
                     medium from {medium_from}): {}; e.g. {} within {}",
                    plural(n as u64, "reversal", "reversals"),
                    plural(counts.len() as u64, "actor", "actors"),
                    kinds.join(", "),
                    example.describe(),
                    duration(example.gap_ns),
                ),
                event_ids: evidence(rows.iter().filter_map(|&i| ev.ids[i])),
            });
        }
        out
    }
}

/// SYSTEM and API clients act for automation, not for a person who could be trained: by their
/// actor type, or by the name SYSTEM whatever the type.
fn automation_type(actor_type: &str) -> bool {
    matches!(
        ActorType::parse(actor_type),
        Some(ActorType::System | ActorType::ApiClient)
    )
}

/// See [`automation_type`].
fn automation_name(actor: &str) -> bool {
    actor.eq_ignore_ascii_case("SYSTEM")
}

/// The affected user as objects name it ([`subject_parts`]): the name, else the id.
fn affected_users(df: &DataFrame) -> Result<StringChunked> {
    let names = df.column(cols::AFFECTED_USER_NAME)?.str()?;
    let ids = df.column(cols::AFFECTED_USER_ID)?.str()?;
    Ok(names.zip_with(&names.is_not_null(), ids)?)
}

/// People's events of reversible types (see [`Events::candidates`]); `users` is the affected
/// user as objects name it. Actors, types, actor types and users are numbered first
/// ([`number_strings`]) and each distinct value judged once: trimming, looking up and hashing
/// every event's strings (cache misses on the bytes of each) took about a tenth of this analysis.
fn candidates(
    actors: &StringChunked,
    types: &StringChunked,
    actor_types: &StringChunked,
    users: &StringChunked,
) -> Option<Vec<Candidate>> {
    let catalog = Catalog::get();
    let (actor_names, actor_of) = number_strings(actors)?;
    let (type_names, type_of) = number_strings(types)?;
    let (actor_type_names, actor_type_of) = number_strings(actor_types)?;
    let (_, user_of) = number_strings(users)?;
    let entries: Vec<Option<&'static EventType>> =
        type_names.iter().map(|t| catalog.by_api_name(t)).collect();
    // Per actor type: whether it is automation whatever the name (a null type never is).
    let automated: Vec<bool> = actor_type_names
        .iter()
        .map(|t| automation_type(t))
        .collect();
    // Per distinct name: its number by lowercased name, or `None` for no person (blank, SYSTEM).
    let mut by_lower: PlHashMap<String, u32> = PlHashMap::default();
    let people: Vec<Option<u32>> = actor_names
        .iter()
        .map(|name| {
            if name.trim().is_empty() || automation_name(name) {
                return None;
            }
            let next = u32::try_from(by_lower.len()).unwrap_or(u32::MAX);
            Some(*by_lower.entry(name.to_lowercase()).or_insert(next))
        })
        .collect();
    let number = |of: &[u32], k: usize| of.get(k).copied().filter(|&n| n != NULL_STR);
    Some(
        (0..actor_of.len())
            .filter_map(|i| {
                let person = people[number(&actor_of, i)? as usize]?;
                let entry = entries[number(&type_of, i)? as usize]?;
                if number(&actor_type_of, i).is_some_and(|t| automated[t as usize]) {
                    return None;
                }
                let user = if entry.subject_keys.contains(&"@user") {
                    user_of[i]
                } else {
                    NO_USER
                };
                Some(Candidate {
                    row: i,
                    entry,
                    actor: person,
                    user,
                })
            })
            .collect(),
    )
}

/// The inverse pair an event type belongs to (named by the smaller api name of the two), and
/// whether the type is the pair's first member.
fn family(e: &EventType) -> (&'static str, bool) {
    match e.inverse {
        Some(inv) if inv < e.api_name => (inv, false),
        _ => (e.api_name, true),
    }
}

/// Cheap pre-pass on columns only: `true` for each event with an event of the inverse type by the
/// same actor within `window` (before or after), in the same group `F` (the inverse family, and
/// the affected user where the object includes one), whatever the rest of the object. Only those
/// can pair, and dropping the others cannot change the pairing (an event with no inverse in reach
/// never closes anything, and an open event it would replace could no longer be closed either),
/// so the details of the rest are never parsed. `rows` are `(actor, group, forward)` in time
/// order.
///
/// The rows are sorted (on both cores) by actor, group, direction and time, so each group's
/// times are contiguous and sorted, and one merge-like pass per actor and group answers every
/// row. A map of groups built row by row on one thread was a tenth of this analysis on a large
/// store, at its end, while the other core was idle.
fn could_pair<A: Ord + Copy + Send + Sync, F: Ord + Copy + Send + Sync>(
    rows: &[(A, F, bool)],
    times: &[i64],
    window: i64,
) -> Vec<bool> {
    let mut sorted: Vec<(A, F, bool, i64, usize)> = rows
        .par_iter()
        .zip(times.par_iter())
        .enumerate()
        .map(|(k, (&(actor, fam, fwd), &t))| (actor, fam, fwd, t, k))
        .collect();
    sorted.par_sort_unstable();
    let mut out = vec![false; rows.len()];
    let mut start = 0;
    while start < sorted.len() {
        let (actor, fam) = (sorted[start].0, sorted[start].1);
        let end = start + sorted[start..].partition_point(|r| (r.0, r.1) == (actor, fam));
        // Backward (false) sorts before forward (true): the two directions split the group.
        let group = &sorted[start..end];
        let split = group.partition_point(|r| !r.2);
        let (back, fwd) = group.split_at(split);
        for (mine, other) in [(back, fwd), (fwd, back)] {
            // `lo`: the first of `other` at or after `t - window`, moving forward as `t` does.
            let mut lo = 0;
            for r in mine {
                while lo < other.len() && other[lo].3 < r.3.saturating_sub(window) {
                    lo += 1;
                }
                out[r.4] = other
                    .get(lo)
                    .is_some_and(|o| o.3 <= r.3.saturating_add(window));
            }
        }
        start = end;
    }
    out
}

/// The object an event acts on, or `None` when the details lack one of the type's subject keys.
/// Types without subject keys act on one organisation-wide setting: the object is `""`.
fn object_of(
    e: &EventType,
    affected_id: Option<&str>,
    affected_name: Option<&str>,
    details: Option<&str>,
) -> Option<String> {
    if e.subject_keys.is_empty() {
        return Some(String::new());
    }
    // One parse of the details for both questions (this runs for most reversible events).
    let parts = subject_parts(e.api_name, affected_id, affected_name, details);
    // Every key present, and none empty ([`subject_parts`] leaves out nulls, keeps "").
    let complete = e
        .subject_keys
        .iter()
        .all(|k| parts.iter().any(|(key, v)| key == k && !v.is_empty()));
    complete.then(|| join_subject(parts))
}

/// One event that may take part in a reversal.
#[derive(Debug, Clone)]
struct Change {
    /// Row in the loaded frame.
    row: usize,
    ts: i64,
    /// The actor: one number per lowercased name.
    actor: u32,
    /// [`Candidate::user`]: compared as well as the object, whose parts are joined with `/` (so
    /// that a name containing `/` cannot make two objects read alike), and so that the
    /// prefilter ([`could_pair`]) never drops an event that could pair.
    user: u32,
    event_type: &'static str,
    inverse: &'static str,
    object: String,
}

/// Pair changes (in time order) into reversals: `(change, undo)` indexes into `changes`, in the
/// order the undos happened. See the module documentation for the rules. `None` when `reach` is
/// given and a chain of changes reaching into the period starts before its horizon ([`Reach`]).
///
/// A change pairs only with a change of the same actor, so each actor's changes are paired on
/// their own, actors side by side on rayon's workers (on one thread this was a sixth of the
/// analysis on a large store, at its end).
fn pair_reversals(
    changes: &[Change],
    window: i64,
    reach: Option<Reach>,
) -> Option<Vec<(usize, usize)>> {
    let actors = changes
        .iter()
        .map(|c| c.actor as usize + 1)
        .max()
        .unwrap_or(0);
    let mut by_actor: Vec<Vec<usize>> = vec![Vec::new(); actors];
    for (k, c) in changes.iter().enumerate() {
        by_actor[c.actor as usize].push(k);
    }
    let mut pairs: Vec<(usize, usize)> = by_actor
        .par_iter()
        .map(|mine| pair_actor(changes, mine, window, reach))
        .collect::<Option<Vec<_>>>()?
        .into_iter()
        .flatten()
        .collect();
    pairs.sort_unstable_by_key(|&(_, undo)| undo);
    Some(pairs)
}

/// One object's chain of changes while pairing ([`pair_actor`]).
struct Chain {
    /// The open change, if any.
    open: Option<usize>,
    /// The time of the object's latest change.
    last: i64,
    /// The time of the change that started the chain: the first with no change of the object
    /// within the window before it.
    start: i64,
}

/// [`pair_reversals`] for the changes `mine` (indexes into `changes`, in time order) of one actor.
fn pair_actor(
    changes: &[Change],
    mine: &[usize],
    window: i64,
    reach: Option<Reach>,
) -> Option<Vec<(usize, usize)>> {
    // (family, user, object) -> its chain
    let mut chains: PlHashMap<(&str, u32, &str), Chain> =
        PlHashMap::with_capacity_and_hasher(mine.len(), Default::default());
    let mut pairs = Vec::new();
    for &k in mine {
        let c = &changes[k];
        let fam = if c.inverse < c.event_type {
            c.inverse
        } else {
            c.event_type
        };
        let chain = chains
            .entry((fam, c.user, c.object.as_str()))
            .or_insert(Chain {
                open: None,
                last: c.ts,
                start: c.ts,
            });
        if c.ts.saturating_sub(chain.last) > window {
            chain.start = c.ts;
        }
        chain.last = c.ts;
        if reach.is_some_and(|r| c.ts >= r.relevant_from && chain.start < r.horizon) {
            return None;
        }
        match chain.open {
            Some(o) if changes[o].event_type == c.inverse && c.ts - changes[o].ts <= window => {
                chain.open = None;
                pairs.push((o, k));
            }
            _ => chain.open = Some(k),
        }
    }
    Some(pairs)
}

/// One reversal, as rows of the loaded frame.
struct Reversal {
    change: usize,
    undo: usize,
    object: String,
    phrase: Phrase,
    gap_ns: i64,
}

impl Reversal {
    /// "created and deleted alert rule r-17".
    fn describe(&self) -> String {
        self.phrase.with_object(&self.object)
    }
}

/// How a reversal reads: `text` "created and deleted alert rule", `noun` "alert rule"; the generic
/// form `did "Activate user" then "Deactivate user"` needs "on" before its object.
#[derive(Debug, Clone, PartialEq)]
struct Phrase {
    text: String,
    noun: String,
    needs_on: bool,
}

impl Phrase {
    fn with_object(&self, object: &str) -> String {
        match (object.is_empty(), self.needs_on) {
            (true, _) => self.text.clone(),
            (false, true) => format!("{} on {object}", self.text),
            (false, false) => format!("{} {object}", self.text),
        }
    }
}

/// Two labels sharing everything but their last word ("Alert rule created", "Alert rule deleted")
/// read "created and deleted alert rule"; other pairs read `did "Activate user" then "Deactivate
/// user"`.
fn undo_phrase(change: &str, undo: &str) -> Phrase {
    let a: Vec<&str> = change.split_whitespace().collect();
    let b: Vec<&str> = undo.split_whitespace().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if common > 0 && a.len() == common + 1 && b.len() == common + 1 {
        let mut noun: Vec<String> = a[..common].iter().map(|w| (*w).to_owned()).collect();
        // "Alert" -> "alert", but keep "API", "URL", "Code42".
        if let Some(first) = noun.first_mut() {
            let mut chars = first.chars();
            if chars.next().is_some_and(char::is_uppercase)
                && chars.clone().count() > 0
                && chars.all(char::is_lowercase)
            {
                *first = first.to_lowercase();
            }
        }
        let noun = noun.join(" ");
        return Phrase {
            text: format!("{} and {} {noun}", a[common], b[common]),
            noun,
            needs_on: false,
        };
    }
    Phrase {
        text: format!("did \"{change}\" then \"{undo}\""),
        noun: change.to_owned(),
        needs_on: true,
    }
}

/// Distinct objects of the reversals, at most three named.
fn objects_list(reversals: &[&Reversal]) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for r in reversals {
        let o = if r.object.is_empty() {
            r.phrase.noun.as_str()
        } else {
            r.object.as_str()
        };
        if !seen.contains(&o) {
            seen.push(o);
        }
    }
    if seen.len() <= 3 {
        seen.join(", ")
    } else {
        format!("{}, +{} more", seen[..3].join(", "), seen.len() - 3)
    }
}

/// 1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, ...
fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000_000_000;

    fn change(ts_min: i64, actor: &str, event_type: &'static str, object: &str) -> Change {
        let e = Catalog::get().by_api_name(event_type).unwrap();
        Change {
            row: 0,
            ts: ts_min * MIN,
            actor: u32::from(actor.as_bytes()[0]),
            user: 0,
            event_type,
            inverse: e.inverse.unwrap(),
            object: object.into(),
        }
    }

    #[test]
    fn three_creates_and_deletes_are_three_reversals() {
        let c: Vec<Change> = (0..6)
            .map(|i| {
                let t = if i % 2 == 0 {
                    "alert_rule_created"
                } else {
                    "alert_rule_deleted"
                };
                change(i, "a", t, "r-1")
            })
            .collect();
        assert_eq!(
            pair_reversals(&c, 60 * MIN, None).unwrap(),
            [(0, 1), (2, 3), (4, 5)]
        );
    }

    #[test]
    fn a_flip_flop_is_one_reversal_and_each_event_pairs_once() {
        let c = [
            change(0, "a", "alert_rule_enabled", "r-1"),
            change(1, "a", "alert_rule_disabled", "r-1"),
            change(2, "a", "alert_rule_enabled", "r-1"),
        ];
        assert_eq!(pair_reversals(&c, 60 * MIN, None).unwrap(), [(0, 1)]);
        // With the first enable out of reach, the disable/enable pair is the reversal.
        let c = [
            change(0, "a", "alert_rule_enabled", "r-1"),
            change(100, "a", "alert_rule_disabled", "r-1"),
            change(101, "a", "alert_rule_enabled", "r-1"),
        ];
        assert_eq!(pair_reversals(&c, 60 * MIN, None).unwrap(), [(1, 2)]);
    }

    /// A chain reaching into the period must start at or after the horizon; a gap longer than
    /// the window starts a new chain, and other objects' chains do not count.
    #[test]
    fn a_partial_read_pairs_only_when_every_chain_into_the_period_starts_after_its_horizon() {
        let w = 60 * MIN;
        let reach = Some(Reach {
            relevant_from: 500 * MIN,
            horizon: 200 * MIN,
        });
        // Every 50 minutes from minute 100: the chain reaching the period starts at 100.
        let flip = |from: i64, object: &str| -> Vec<Change> {
            (0..10)
                .map(|i| {
                    let t = if i % 2 == 0 {
                        "alert_rule_enabled"
                    } else {
                        "alert_rule_disabled"
                    };
                    change(from + 50 * i, "a", t, object)
                })
                .collect()
        };
        assert_eq!(pair_reversals(&flip(100, "r-1"), w, reach), None);
        assert_eq!(
            pair_reversals(&flip(100, "r-1"), w, None).unwrap(),
            [(0, 1), (2, 3), (4, 5), (6, 7), (8, 9)]
        );
        // Starting at the horizon is enough.
        assert_eq!(
            pair_reversals(&flip(200, "r-1"), w, reach).unwrap(),
            [(0, 1), (2, 3), (4, 5), (6, 7), (8, 9)]
        );
        // A gap of more than the window restarts the chain: the early pair does not matter.
        let mut c = vec![
            change(100, "a", "alert_rule_enabled", "r-1"),
            change(150, "a", "alert_rule_disabled", "r-1"),
        ];
        c.extend(flip(211, "r-1"));
        assert_eq!(
            pair_reversals(&c, w, reach).unwrap(),
            [(0, 1), (2, 3), (4, 5), (6, 7), (8, 9), (10, 11)]
        );
        // An early chain of another object, or one ending before the period's reach, is fine.
        let mut c = flip(0, "r-2");
        c.extend(flip(600, "r-1"));
        c.sort_by_key(|c| c.ts);
        assert!(pair_reversals(&c, w, reach).is_some());
        let mut c = flip(0, "r-1");
        c.push(change(700, "a", "alert_rule_enabled", "r-1"));
        assert!(pair_reversals(&c, w, reach).is_some());
    }

    #[test]
    fn an_undo_closes_the_latest_open_change() {
        let c = [
            change(0, "a", "alert_rule_created", "r-1"),
            change(1, "a", "alert_rule_created", "r-1"),
            change(2, "a", "alert_rule_deleted", "r-1"),
            change(3, "a", "alert_rule_deleted", "r-1"),
        ];
        assert_eq!(pair_reversals(&c, 60 * MIN, None).unwrap(), [(1, 2)]);
    }

    #[test]
    fn other_actors_objects_and_late_undos_do_not_pair() {
        let c = [
            change(0, "a", "alert_rule_created", "r-1"),
            change(1, "b", "alert_rule_deleted", "r-1"),
            change(2, "a", "alert_rule_deleted", "r-2"),
            change(2000, "a", "alert_rule_deleted", "r-1"),
            // a different inverse family on the same object
            change(3, "a", "alert_rule_disabled", "r-1"),
        ];
        assert!(pair_reversals(&c, 24 * 60 * MIN, None).unwrap().is_empty());
        // The window is inclusive.
        let c = [
            change(0, "a", "user_roles_assigned", "carol/Admin"),
            change(60, "a", "user_roles_revoked", "carol/Admin"),
        ];
        assert_eq!(pair_reversals(&c, 60 * MIN, None).unwrap(), [(0, 1)]);
    }

    #[test]
    fn actors_pair_on_their_own_and_pairs_come_in_undo_order() {
        let c = [
            change(0, "a", "alert_rule_created", "r-1"),
            change(1, "b", "alert_rule_created", "r-1"),
            change(2, "b", "alert_rule_deleted", "r-1"),
            change(3, "c", "alert_rule_enabled", "r-9"),
            change(4, "a", "alert_rule_deleted", "r-1"),
            change(5, "c", "alert_rule_disabled", "r-9"),
        ];
        assert_eq!(
            pair_reversals(&c, 60 * MIN, None).unwrap(),
            [(1, 2), (0, 4), (3, 5)]
        );
    }

    /// Objects are joined with `/`, so two users' objects can read alike; the users still differ.
    #[test]
    fn objects_that_read_alike_for_different_users_do_not_pair() {
        let add = Change {
            user: 1,
            ..change(0, "a", "user_added_to_watchlist_membership", "w/1/carol")
        };
        let remove = Change {
            user: 2,
            ..change(
                1,
                "a",
                "user_removed_from_watchlist_membership",
                "w/1/carol",
            )
        };
        assert!(
            pair_reversals(&[add.clone(), remove.clone()], 60 * MIN, None)
                .unwrap()
                .is_empty()
        );
        let remove = Change { user: 1, ..remove };
        assert_eq!(
            pair_reversals(&[add, remove], 60 * MIN, None).unwrap(),
            [(0, 1)]
        );
    }

    /// The affected user (name, else id) is numbered for the types whose object includes it, so
    /// the prefilter groups memberships by user; other types share one group.
    #[test]
    fn candidates_carry_the_affected_user_where_the_object_has_one() {
        use polars::prelude::{IntoColumn, NamedFrom};
        let col = |v: &[Option<&str>]| StringChunked::new("c".into(), v);
        let actors = col(&[
            Some("ann"),
            Some("ANN"),
            Some("ann"),
            Some("ann"),
            Some("SYSTEM"),
        ]);
        let types = col(&[
            Some("user_added_to_watchlist_membership"),
            Some("user_removed_from_watchlist_membership"),
            Some("user_removed_from_watchlist_membership"),
            Some("alert_rule_created"),
            Some("alert_rule_deleted"),
        ]);
        let actor_types = col(&[Some("USER"); 5]);
        // Row 1 names carol by id only, with the string row 0 has as a name: the same object.
        let df = DataFrame::new(
            5,
            vec![
                col(&[Some("carol@x"), None, Some("dave@x"), Some("carol@x"), None])
                    .with_name(cols::AFFECTED_USER_NAME.into())
                    .into_column(),
                col(&[Some("7"), Some("carol@x"), Some("8"), Some("7"), None])
                    .with_name(cols::AFFECTED_USER_ID.into())
                    .into_column(),
            ],
        )
        .unwrap();
        let users = affected_users(&df).unwrap();
        let c = candidates(&actors, &types, &actor_types, &users).unwrap();
        // SYSTEM is automation: not a candidate.
        assert_eq!(c.len(), 4);
        assert_eq!(c[0].actor, c[1].actor);
        assert_eq!(c[0].user, c[1].user);
        assert_ne!(c[0].user, c[2].user);
        assert_ne!(c[0].user, NO_USER);
        assert_eq!(c[3].user, NO_USER);
        // Only the add and the remove of carol's membership can pair.
        let rows: Vec<(u32, (&str, u32), bool)> = c
            .iter()
            .map(|c| {
                let (fam, fwd) = family(c.entry);
                (c.actor, (fam, c.user), fwd)
            })
            .collect();
        assert_eq!(
            could_pair(&rows, &[0, 1, 2, 3], 10 * MIN),
            [true, true, false, false]
        );
    }

    /// Groups of several actors and families, both directions, the window's edges on each side.
    #[test]
    fn the_prefilter_looks_both_ways_within_each_group() {
        let rows = [
            ("a", "rule", true),
            ("b", "rule", false),
            ("a", "watch", false),
            ("a", "rule", false),
            ("a", "rule", true),
            ("a", "watch", true),
            ("b", "rule", true),
        ];
        let times = [0, 1, 2, 10 * MIN, 20 * MIN + 1, 30 * MIN, 40 * MIN];
        assert_eq!(
            could_pair(&rows, &times, 10 * MIN),
            [true, false, false, true, false, false, false]
        );
    }

    #[test]
    fn the_prefilter_keeps_exactly_events_with_an_inverse_in_reach() {
        let rows = [
            ("a", "alert_rule_created", true),
            ("a", "alert_rule_created", false),
            ("b", "alert_rule_created", false),
            ("a", "alert_rule_created", true),
        ];
        let times = [0, 10 * MIN, 11 * MIN, 100 * MIN];
        assert_eq!(
            could_pair(&rows, &times, 10 * MIN),
            [true, true, false, false]
        );
    }

    #[test]
    fn objects_need_every_subject_key() {
        let c = Catalog::get();
        let roles = c.by_api_name("user_roles_assigned").unwrap();
        assert_eq!(
            object_of(
                roles,
                Some("7"),
                Some("carol@x"),
                Some(r#"{"role":"Admin"}"#)
            ),
            Some("carol@x/Admin".into())
        );
        assert_eq!(
            object_of(roles, Some("7"), Some("carol@x"), Some("{}")),
            None
        );
        assert_eq!(
            object_of(roles, None, None, Some(r#"{"role":"Admin"}"#)),
            None
        );
        let rule = c.by_api_name("alert_rule_created").unwrap();
        assert_eq!(object_of(rule, None, None, Some(r#"{"ruleId":""}"#)), None);
        assert_eq!(object_of(rule, None, None, None), None);
        let support = c.by_api_name("support_user_access_disabled").unwrap();
        assert_eq!(object_of(support, None, None, None), Some(String::new()));
    }

    #[test]
    fn phrases_ordinals_and_durations_read_well() {
        let p = undo_phrase("Alert rule created", "Alert rule deleted");
        assert_eq!(p.text, "created and deleted alert rule");
        assert_eq!(
            undo_phrase(
                "API client permissions assigned",
                "API client permissions revoked"
            )
            .text,
            "assigned and revoked API client permissions"
        );
        assert_eq!(
            undo_phrase("Activate user", "Deactivate user").text,
            "did \"Activate user\" then \"Deactivate user\""
        );
        assert_eq!(
            undo_phrase("Activate user", "Deactivate user").with_object("bob@x"),
            "did \"Activate user\" then \"Deactivate user\" on bob@x"
        );
        assert_eq!(p.with_object("r-1"), "created and deleted alert rule r-1");
        let ords: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 101].map(ordinal).into();
        assert_eq!(
            ords,
            [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st"
            ]
        );
        assert_eq!(duration(40 * 1_000_000_000), "40 seconds");
        assert_eq!(duration(11 * MIN + 30 * 1_000_000_000), "12 minutes");
        assert_eq!(duration(185 * MIN), "3 hours 5 minutes");
        assert_eq!(duration(120 * MIN), "2 hours");
    }
}
