/*!
unusual-ips: where actors connect from. Four questions, answered once per actor and address (or
per address for shared use), so a habit is reported once rather than once per event:

- **new address**: an address an actor first used after their baseline, i.e. later than
  `unusual_ips.baseline_days` after the actor's first event in the store. Earlier addresses are the
  actor's habits. An address stays new for another `baseline_days` after its first use (by then
  it has become a habit too).
- **outside address**: an address outside the configured `allowlist`.
- **privileged action from a new outside address**: a [`Tag::Privilege`] event performed from an
  address that is new and outside, while it is still new.
- **shared address**: one address used by at least `unusual_ips.shared_ip_actors` distinct actors
  within `unusual_ips.shared_ip_window` (one finding per address and uninterrupted stretch of such
  windows).

The address of an event is its client address, the first address of the proxy chain. Events
without an address or by SYSTEM are ignored: they say nothing about where a person was.

Severity (one finding per actor and address; the highest rule wins):

| case | allowlist configured | no allowlist |
|---|---|---|
| privileged action from a new outside address | high | medium (any new address) |
| new address outside the allowlist | medium | low (any new address) |
| new address inside the allowlist | low | - |
| new single-use addresses where they are routine (below) | low, one per actor | low, one per actor |
| known (not new) address outside the allowlist, used in the period | info | not reported |
| shared address outside the allowlist | medium | low (any shared address) |
| shared address inside the allowlist | low | - |

Why the exceptions:
- A known outside address is only info: the actor used it in their baseline (home office, VPN
  egress) or it was reported as new in an earlier period. It is listed once per actor and address
  so the auditor can extend the allowlist or question it.
- A shared address inside the allowlist is low: offices share NAT addresses.
- Without an allowlist "outside" cannot be judged: every summary says so, and only a privileged
  action from a new address goes above low.
- **Single-use addresses.** Mobile networks, carrier-grade NAT and rotating proxies give many
  users an address they use for one event and never again. Where that is routine, judging each
  such address on its own would bury the real cases under hundreds of medium findings. Single-use
  (exactly one event by the actor up to the period end) new addresses outside the allowlist (or
  any, without one) are therefore routine for an actor who already used one in their baseline, and for everyone when at
  least half of the actors whose baseline is complete did. Routine ones are summarised in one low
  finding per actor and period that lists any privileged actions done from them. A new address
  used for more than one event (a session: sign-in and actions) is always judged on its own,
  and so is a single-use address where single-use addresses are not routine.

A finding is reported when its evidence is in the period: the first use for a new address, the
privileged events, the period's events from a known outside address, the end of a shared stretch.
Evidence: for an address, its first and last event in the period (every event from it:
`auditlens query --username ACTOR --ip ADDRESS`); for a privileged action, the address's first use
and the privileged events; for routine single-use addresses, the privileged events among them,
then each address's event; for a shared stretch, each actor's first event in it.

Performance: this analysis reads every event, once: the instant, actor and client address of
each (three columns). Actors and addresses are numbered (each distinct string hashed about once
per row group, [`number_strings`](super::common::number_strings)); a counting sort on the actor
numbers, then a sort of each actor's events by address number and instant, group the events by
actor and address, so each pair's first and last instant and counts (340,000 pairs for 5M events)
and its sorted instants come out of one pass without a hash map over five million rows. Only
addresses used by at least `shared_ip_actors` distinct actors can be shared, so only their pairs
are cut into `shared_ip_window`-long time buckets (earliest and latest instant; buckets are
aligned to the period start, so none straddles it). The event ids of the evidence are looked up at
the end by their instants, and the details of privileged events only for those that can be cited.
Keeping only the earliest and latest event of each bucket loses nothing for the shared-address
windows: a window as long as a bucket that contains any event of the bucket contains its earliest
or its latest event.
*/

use std::collections::{BTreeMap, HashMap, HashSet};

use polars::prelude::*;
use rayon::prelude::*;

use super::common::{
    NULL_STR, event_ids, evidence, for_each_i64, i64s, number_strings, parse_stored_id, plural,
    strs, subject,
};
use super::{Analysis, Context, Finding, Memory, Output, Select, Severity};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::catalog::Tag;
use crate::model::event::{ActorType, EventId};
use crate::model::schema::cols;
use crate::time::{NANOS_PER_DAY, format_timestamp};

pub struct UnusualIps;

const NAME: &str = "unusual-ips";

/// How many names or addresses a summary spells out.
const NAMES_IN_SUMMARY: usize = 10;

/// The first [`NAMES_IN_SUMMARY`] items joined with `sep`, then "and N more".
fn listing<'s>(items: impl ExactSizeIterator<Item = &'s str>, sep: &str) -> String {
    let n = items.len();
    let shown: Vec<&str> = items.take(NAMES_IN_SUMMARY).collect();
    let mut text = shown.join(sep);
    if n > shown.len() {
        text.push_str(&format!(" and {} more", n - shown.len()));
    }
    text
}

/// Single-use addresses are routine for everyone when at least this share of the actors with a
/// complete baseline used one in it.
const ROUTINE_SHARE: f64 = 0.5;

impl Analysis for UnusualIps {
    /// Every actor's address history up to the period end (see the module doc).
    fn memory(&self) -> Memory {
        Memory::Heavy
    }

    fn name(&self) -> &'static str {
        NAME
    }

    fn description(&self) -> &'static str {
        "new addresses per actor, addresses outside the allowlist, privileged actions from new \
         outside addresses, addresses shared by many actors"
    }

    fn run(&self, ctx: &Context<'_>) -> Result<Output> {
        let window = Config::duration_ns(&ctx.config.unusual_ips.shared_ip_window).max(1);
        let numbered = Numbered::read(read_uses(ctx)?, ctx.from_ns)?.ok_or_else(|| {
            Error::store(
                ctx.store.root(),
                "more than 4 billion distinct actors or addresses",
            )
        })?;
        let table = Table::new(&numbered);
        let min_actors = usize::try_from(ctx.config.unusual_ips.shared_ip_actors)
            .unwrap_or(usize::MAX)
            .max(2);
        let shared = Shared::new(&numbered, &table, ctx.from_ns, window, min_actors);
        let baseline = i64::from(ctx.config.unusual_ips.baseline_days) * NANOS_PER_DAY;
        let privileged = Privileged::load(ctx, &table, baseline)?;
        // The rest is plain Rust over a few hundred thousand pairs: side by side, since by now
        // the other analyses have mostly finished and this one would keep one core busy alone.
        let (mut drafts, shared_drafts) = rayon::join(
            || address_drafts(ctx, &table, &privileged),
            || shared_drafts(ctx, &table, &shared, window, min_actors),
        );
        drafts.extend(shared_drafts);
        let id_frame = evidence_frame(ctx, &drafts)?;
        let ids = EventIds::read(&id_frame, ctx.store.root())?.resolve(&table, &drafts);
        let findings: Vec<Finding> = drafts
            .into_par_iter()
            .zip(ids)
            .map(|(d, ids)| d.finish(&ids))
            .collect();
        Ok(findings.into())
    }
}

/// The events this analysis looks at, up to the end of the period: actor, client address and
/// instant of every event by a person or API client (SYSTEM says nothing about where anyone was).
fn scan_uses(ctx: &Context<'_>) -> Result<LazyFrame> {
    let ts = || col(cols::TIMESTAMP_NS);
    let mut keep = col(cols::ACTOR_NAME)
        .is_not_null()
        .and(col(cols::ACTOR_TYPE).neq(lit(ActorType::System.as_str())))
        .and(col(cols::ACTOR_NAME).neq(lit("SYSTEM")));
    if let Some(to) = ctx.to_ns {
        keep = keep.and(ts().lt(lit(to)));
    }
    Ok(ctx
        .store
        .scan(ctx.to_ns.map(|to| (i64::MIN, to)))?
        .select([
            ts(),
            col(cols::ACTOR_NAME),
            col(cols::ACTOR_TYPE),
            col(cols::CLIENT_IP),
        ])
        .filter(keep))
}

/// Actor, client address and instant of every use up to the period end, read once: both the
/// per-pair table and the shared-address buckets are built from it in Rust.
fn read_uses(ctx: &Context<'_>) -> Result<DataFrame> {
    Ok(scan_uses(ctx)?
        .select([
            col(cols::TIMESTAMP_NS),
            col(cols::ACTOR_NAME),
            col(cols::CLIENT_IP),
        ])
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single())
}

/// One actor's earliest and latest event from an address within one bucket.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    actor: usize,
    min_ns: i64,
    max_ns: i64,
}

/// What one actor did from one address.
#[derive(Debug, Clone, Copy)]
struct Use {
    first_ns: i64,
    /// Events from it up to the period end.
    count: u64,
    /// First and last event in the period, and how many there were.
    period: Option<(i64, i64)>,
    period_count: u64,
}

/// The address number of events without an address: they still start an actor's history.
const NO_IP: u32 = NULL_STR;

/// One (actor, address) pair as the uses are numbered.
#[derive(Debug, Clone, Copy)]
struct Pair {
    actor: u32,
    ip: u32,
    last_ns: i64,
    usage: Use,
}

/// Every use numbered: actors and addresses by first appearance, and the uses grouped by (actor,
/// address) pair. Grouping on the two strings in polars (once for the pair table, then again for
/// the buckets of the shared-address candidates) took most of this analysis; here each string is
/// hashed about once per row group, and the uses are grouped by sorting on the numbers.
struct Numbered {
    actors: Vec<String>,
    ips: Vec<String>,
    /// Sorted by actor and address number.
    pairs: Vec<Pair>,
    /// The instants of the uses, pair by pair in the order of `pairs`, each pair's sorted.
    times: Vec<i64>,
}

impl Numbered {
    /// The uses of [`read_uses`]; `None` when there are more than `u32::MAX - 1` actors or
    /// addresses.
    ///
    /// Takes the frame by value: its strings (views and pages, about 200 MB for 5M uses) are let
    /// go as soon as they are numbered and the distinct names copied out, so that grouping the
    /// uses reuses their memory rather than faulting in fresh pages beside them.
    fn read(uses: DataFrame, from_ns: Option<i64>) -> Result<Option<Numbered>> {
        let owned = |(names, rows): (Vec<&str>, Vec<u32>)| {
            (
                names.into_iter().map(str::to_owned).collect::<Vec<_>>(),
                rows,
            )
        };
        let (actors, ips) = {
            let actor_col = uses.column(cols::ACTOR_NAME)?.str()?;
            let ip_col = uses.column(cols::CLIENT_IP)?.str()?;
            rayon::join(
                || number_strings(actor_col).map(owned),
                || number_strings(ip_col).map(owned),
            )
        };
        let ts = uses.column(cols::TIMESTAMP_NS)?.i64()?.clone();
        drop(uses);
        let (Some((actors, actor_of)), Some((ips, ip_of))) = (actors, ips) else {
            return Ok(None);
        };
        // Events without an address sort after the actor's addresses.
        let Ok(no_ip) = u32::try_from(ips.len()) else {
            return Ok(None);
        };
        // Uses with an actor and an instant (the scan excludes the others), grouped by actor (a
        // counting sort), then each actor's sorted by address and instant, actors side by side:
        // grouped by pair, each pair's instants in order. The uses themselves are moved rather
        // than their row numbers, so that only the counting sort's writes land in random places;
        // an actor's few hundred uses sort in the cache. Two counting sorts (by address, then by
        // actor) and then a sort of each pair's instants, single-threaded but for the last, took
        // 0.48-0.56 s against 0.46-0.49 s on a 5M store (bench/NOTES.md).
        // Where each actor's uses start, and (`next`) where the next one goes.
        let mut starts = vec![0usize; actors.len() + 1];
        // Uses without an instant are left out.
        for_each_i64(&ts, |row, ns| {
            let actor = actor_of[row];
            if ns.is_some() && actor != NULL_STR {
                starts[actor as usize + 1] += 1;
            }
        });
        for a in 1..starts.len() {
            starts[a] += starts[a - 1];
        }
        let mut next = starts.clone();
        let mut uses = vec![Row::default(); starts[actors.len()]];
        for_each_i64(&ts, |row, ns| {
            let actor = actor_of[row];
            if let Some(ns) = ns
                && actor != NULL_STR
            {
                let ip = ip_of[row];
                let ip = if ip == NULL_STR { no_ip } else { ip };
                let at = &mut next[actor as usize];
                uses[*at] = Row { actor, ip, ns };
                *at += 1;
            }
        });
        drop((ts, actor_of, ip_of, next));
        let mut by_actor: Vec<&mut [Row]> = Vec::with_capacity(actors.len());
        let mut rest = uses.as_mut_slice();
        for w in starts.windows(2) {
            let (mine, after) = std::mem::take(&mut rest).split_at_mut(w[1] - w[0]);
            by_actor.push(mine);
            rest = after;
        }
        by_actor
            .into_par_iter()
            .for_each(|mine| mine.sort_unstable_by_key(|r| (r.ip, r.ns)));
        let mut pairs: Vec<Pair> = Vec::new();
        for run in uses.chunk_by(|x, y| (x.actor, x.ip) == (y.actor, y.ip)) {
            let (Some(first), Some(last)) = (run.first(), run.last()) else {
                continue;
            };
            let from = from_ns.map_or(0, |f| run.partition_point(|r| r.ns < f));
            pairs.push(Pair {
                actor: first.actor,
                ip: if first.ip == no_ip { NO_IP } else { first.ip },
                last_ns: last.ns,
                usage: Use {
                    first_ns: first.ns,
                    count: run.len() as u64,
                    period: run.get(from).map(|r| (r.ns, last.ns)),
                    period_count: (run.len() - from) as u64,
                },
            });
        }
        let times: Vec<i64> = uses.iter().map(|r| r.ns).collect();
        drop(uses);
        Ok(Some(Numbered {
            actors,
            ips,
            pairs,
            times,
        }))
    }
}

/// One use while the uses are grouped: actor and address numbers, instant.
#[derive(Debug, Clone, Copy, Default)]
struct Row {
    actor: u32,
    ip: u32,
    ns: i64,
}

/// The numbered uses as the rules read them: actors in name order, per-pair use.
struct Table<'a> {
    actors: Vec<&'a str>,
    index: PlHashMap<&'a str, usize>,
    /// Each numbered actor's place in `actors`.
    rank: Vec<usize>,
    /// The actor's first event in the store (with or without an address).
    actor_first: Vec<i64>,
    /// (actor, address) and its use, sorted by actor and address.
    uses: Vec<((usize, &'a str), Use)>,
    /// The last instant in the table.
    latest: i64,
}

impl<'a> Table<'a> {
    fn new(n: &'a Numbered) -> Table<'a> {
        // Actors in name order, and uses sorted by actor and address: the order events are read
        // in changes from run to run, the findings' order must not.
        let mut order: Vec<usize> = (0..n.actors.len()).collect();
        order.sort_unstable_by_key(|&a| n.actors[a].as_str());
        let mut rank = vec![0; order.len()];
        for (new, &old) in order.iter().enumerate() {
            rank[old] = new;
        }
        let actors: Vec<&'a str> = order.iter().map(|&a| n.actors[a].as_str()).collect();
        let mut t = Table {
            index: actors
                .iter()
                .enumerate()
                .map(|(a, &name)| (name, a))
                .collect(),
            actors,
            rank,
            actor_first: vec![i64::MAX; order.len()],
            uses: Vec::with_capacity(n.pairs.len()),
            latest: i64::MIN,
        };
        // `pairs` come grouped by actor number: the groups are laid out in name order and each
        // sorted by address on its own. Sorting all the pairs by actor and address string (340,000
        // over a 5M store) compared strings four times as often, all over memory.
        let mut groups: Vec<&[Pair]> = n.pairs.chunk_by(|x, y| x.actor == y.actor).collect();
        groups.sort_unstable_by_key(|g| g.first().map(|p| t.rank[p.actor as usize]));
        for group in groups {
            let start = t.uses.len();
            for p in group {
                let a = t.rank[p.actor as usize];
                t.actor_first[a] = t.actor_first[a].min(p.usage.first_ns);
                t.latest = t.latest.max(p.last_ns);
                if let Some(ip) = n.ips.get(p.ip as usize) {
                    t.uses.push(((a, ip.as_str()), p.usage));
                }
            }
            t.uses[start..].sort_unstable_by_key(|&(key, _)| key);
        }
        debug_assert!(t.uses.is_sorted_by_key(|&(key, _)| key));
        t
    }

    /// An actor's use of an address, with the actor's index.
    fn get(&self, actor: &str, ip: &str) -> Option<(usize, &Use)> {
        let &a = self.index.get(actor)?;
        let k = self
            .uses
            .binary_search_by_key(&(a, ip), |&(key, _)| key)
            .ok()?;
        Some((a, &self.uses[k].1))
    }
}

/// The candidate addresses' buckets, per address in address order.
struct Shared<'a>(Vec<(&'a str, Vec<Bucket>)>);

impl<'a> Shared<'a> {
    /// For the addresses used by at least `min_actors` actors only (the others cannot be shared):
    /// each actor's earliest and latest event from it in each `window`-long bucket up to the end
    /// of the period. Each pair's buckets are runs of its sorted instants.
    fn new(
        n: &'a Numbered,
        t: &Table<'a>,
        from_ns: Option<i64>,
        window: i64,
        min_actors: usize,
    ) -> Shared<'a> {
        let mut actors_per_ip = vec![0usize; n.ips.len()];
        for p in &n.pairs {
            if let Some(count) = actors_per_ip.get_mut(p.ip as usize) {
                *count += 1;
            }
        }
        let mut candidates: Vec<usize> = (0..n.ips.len())
            .filter(|&i| actors_per_ip[i] >= min_actors)
            .collect();
        candidates.sort_unstable_by_key(|&i| n.ips[i].as_str());
        let mut slot = vec![usize::MAX; n.ips.len()];
        for (s, &i) in candidates.iter().enumerate() {
            slot[i] = s;
        }
        // Buckets are aligned to the period start, so none straddles it; `div_euclid` floors, so
        // buckets before the period start are as long as the others.
        let origin = from_ns.unwrap_or(0);
        let bucket_of = |ns: i64| ns.saturating_sub(origin).div_euclid(window);
        let mut out: Vec<(&'a str, Vec<Bucket>)> = candidates
            .iter()
            .map(|&i| (n.ips[i].as_str(), Vec::new()))
            .collect();
        let mut start = 0;
        for pair in &n.pairs {
            let mine = &n.times[start..start + pair.usage.count as usize];
            start += mine.len();
            let s = slot.get(pair.ip as usize).copied().unwrap_or(usize::MAX);
            let Some((_, buckets)) = out.get_mut(s) else {
                continue;
            };
            let actor = t.rank[pair.actor as usize];
            for run in mine.chunk_by(|x, y| bucket_of(*x) == bucket_of(*y)) {
                if let (Some(&min_ns), Some(&max_ns)) = (run.first(), run.last()) {
                    buckets.push(Bucket {
                        actor,
                        min_ns,
                        max_ns,
                    });
                }
            }
        }
        out.retain(|(_, buckets)| !buckets.is_empty());
        Shared(out)
    }
}

/// A privileged event in the period, with what it changed.
struct PrivilegedEvent {
    ns: i64,
    id: EventId,
    what: String,
}

/// Privileged events in the period by actor and client address.
struct Privileged(HashMap<String, HashMap<String, Vec<PrivilegedEvent>>>);

impl Privileged {
    /// Only events that can be cited are kept: those done from an address outside the allowlist
    /// (or any, without one) while it was new for the actor. Their `details` (the subject of the
    /// change) are read in a second, narrow scan: reading that column for every privileged event
    /// of a large store cost more than the rest of the analysis.
    fn load(ctx: &Context<'_>, t: &Table<'_>, baseline: i64) -> Result<Privileged> {
        let df = ctx.events(
            Select::Tagged(Tag::Privilege),
            &[
                cols::EVENT_ID,
                cols::EVENT_TYPE,
                cols::EVENT_LABEL,
                cols::ACTOR_NAME,
                cols::CLIENT_IP,
                cols::AFFECTED_USER_ID,
                cols::AFFECTED_USER_NAME,
            ],
            Some(0),
        )?;
        let ids = df.strs(cols::EVENT_ID)?;
        let actors = df.strs(cols::ACTOR_NAME)?;
        let ips = df.strs(cols::CLIENT_IP)?;
        let ts = df.i64s(cols::TIMESTAMP_NS)?;
        let citable: Vec<usize> = (0..df.height())
            .filter(|&i| {
                let (Some(actor), Some(ip), Some(_)) = (actors[i], ips[i], ids[i]) else {
                    return false;
                };
                ctx.in_period(ts[i])
                    && Place::of(ctx.config, ip) != Place::Inside
                    && t.get(actor, ip).is_some_and(|(a, u)| {
                        u.first_ns >= t.actor_first[a].saturating_add(baseline)
                            && (ts[i] < u.first_ns.saturating_add(baseline) || u.count == 1)
                    })
            })
            .collect();
        let details = Details::read(ctx, citable.iter().filter_map(|&i| ids[i]))?;
        let types = df.strs(cols::EVENT_TYPE)?;
        let labels = df.strs(cols::EVENT_LABEL)?;
        let aff_id = df.strs(cols::AFFECTED_USER_ID)?;
        let aff_name = df.strs(cols::AFFECTED_USER_NAME)?;
        let mut map: HashMap<String, HashMap<String, Vec<PrivilegedEvent>>> = HashMap::new();
        for i in citable {
            let (Some(actor), Some(ip), Some(id)) = (actors[i], ips[i], ids[i]) else {
                continue;
            };
            let label = labels[i].unwrap_or("?");
            let obj = subject(
                types[i].unwrap_or(""),
                aff_id[i],
                aff_name[i],
                details.get(id),
            );
            let what = if obj.is_empty() {
                format!("{label} at {}", format_timestamp(ts[i]))
            } else {
                format!("{label} {obj} at {}", format_timestamp(ts[i]))
            };
            map.entry(actor.to_owned())
                .or_default()
                .entry(ip.to_owned())
                .or_default()
                .push(PrivilegedEvent {
                    ns: ts[i],
                    id: parse_stored_id(id, ctx.store.root())?,
                    what,
                });
        }
        Ok(Privileged(map))
    }

    fn get(&self, actor: &str, ip: &str) -> &[PrivilegedEvent] {
        self.0
            .get(actor)
            .and_then(|m| m.get(ip))
            .map_or(&[], Vec::as_slice)
    }
}

/// The `details` of a few events, by id.
struct Details(HashMap<String, String>);

impl Details {
    /// Reads only the privileged events' row groups of the period, and of them only these rows.
    fn read<'s>(ctx: &Context<'_>, ids: impl Iterator<Item = &'s str>) -> Result<Details> {
        let ids: Vec<String> = ids.map(str::to_owned).collect();
        if ids.is_empty() {
            return Ok(Details(HashMap::new()));
        }
        let df = ctx.events_where(
            Select::Tagged(Tag::Privilege),
            Some(col(cols::EVENT_ID).is_in(crate::filter::list_lit(&ids), false)),
            &[cols::EVENT_ID, cols::DETAILS],
            Some(0),
        )?;
        let found = df.strs(cols::EVENT_ID)?;
        let details = df.strs(cols::DETAILS)?;
        Ok(Details(
            found
                .into_iter()
                .zip(details)
                .filter_map(|(id, d)| Some((id?.to_owned(), d?.to_owned())))
                .collect(),
        ))
    }

    fn get(&self, id: &str) -> Option<&str> {
        self.0.get(id).map(String::as_str)
    }
}

/// Where an address stands relative to the allowlist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Inside,
    Outside,
    /// No allowlist is configured.
    Unknown,
}

impl Place {
    fn of(config: &Config, ip: &str) -> Place {
        if config.allowlist.is_empty() {
            Place::Unknown
        } else if config.allowed(ip) {
            Place::Inside
        } else {
            Place::Outside
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Place::Inside => "inside the allowlist",
            Place::Outside => "outside the allowlist",
            Place::Unknown => {
                "no allowlist is configured, so whether it is outside the corporate network cannot be judged"
            }
        }
    }
}

/// What the rules make of one actor's use of one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Privileged events from a new address that is outside (or cannot be judged).
    PrivilegedFromNew,
    /// First used in the period, after the baseline.
    New,
    /// Outside the allowlist, used in the period, not new in it.
    KnownOutside,
    Nothing,
}

/// The severity ladder of the module doc (routine single-use addresses are always low).
fn severity(verdict: Verdict, place: Place) -> Option<Severity> {
    Some(match (verdict, place) {
        (Verdict::PrivilegedFromNew, Place::Outside) => Severity::High,
        (Verdict::PrivilegedFromNew, _) => Severity::Medium,
        (Verdict::New, Place::Outside) => Severity::Medium,
        (Verdict::New, _) => Severity::Low,
        (Verdict::KnownOutside, Place::Outside) => Severity::Info,
        _ => return None,
    })
}

/// Evidence before the event ids are known: an event by its actor, address and instant, or an id.
#[derive(Debug, Clone)]
enum Evidence<'a> {
    At(usize, &'a str, i64),
    Id(EventId),
}

/// A finding whose evidence still has to be looked up.
struct Draft<'a> {
    finding: Finding,
    evidence: Vec<Evidence<'a>>,
}

impl Draft<'_> {
    /// The finding with its evidence: `found` holds the id of each [`Evidence::At`], by position.
    fn finish(mut self, found: &[Option<EventId>]) -> Finding {
        let mut seen = HashSet::new();
        let resolved = self
            .evidence
            .iter()
            .zip(found)
            .filter_map(|(e, found)| match e {
                Evidence::Id(id) => Some(*id),
                Evidence::At(..) => *found,
            });
        self.finding.event_ids = evidence(resolved.filter(|id| seen.insert(*id)));
        self.finding
    }
}

/// The events at the instants the drafts' evidence names, with their ids.
fn evidence_frame(ctx: &Context<'_>, drafts: &[Draft<'_>]) -> Result<DataFrame> {
    let mut wanted: Vec<i64> = drafts
        .iter()
        .flat_map(|d| &d.evidence)
        .filter_map(|e| match e {
            Evidence::At(_, _, ns) => Some(*ns),
            Evidence::Id(_) => None,
        })
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let (Some(&lo), Some(&hi)) = (wanted.first(), wanted.last()) else {
        return Ok(DataFrame::empty());
    };
    // Read by the instant alone (an integer key); [`EventIds`] keys by actor and address too, so
    // other events at the same instant are harmless.
    super::events_at(
        ctx.store,
        Some((lo, hi.saturating_add(1))),
        wanted,
        &[
            cols::EVENT_ID,
            cols::TIMESTAMP_NS,
            cols::ACTOR_NAME,
            cols::CLIENT_IP,
        ],
    )
}

/// Event ids by instant, actor and address, read from [`evidence_frame`], sorted.
struct EventIds<'d>(Vec<(i64, &'d str, &'d str, EventId)>);

impl<'d> EventIds<'d> {
    fn read(df: &'d DataFrame, store: &std::path::Path) -> Result<EventIds<'d>> {
        if df.height() == 0 {
            return Ok(EventIds(Vec::new()));
        }
        let ids = event_ids(df, store)?;
        let ts = i64s(df, cols::TIMESTAMP_NS)?;
        let actors = strs(df, cols::ACTOR_NAME)?;
        let ips = strs(df, cols::CLIENT_IP)?;
        let mut events: Vec<(i64, &str, &str, EventId)> = (0..df.height())
            .filter_map(|i| Some((ts[i], actors[i]?, ips[i]?, ids[i]?)))
            .collect();
        events.par_sort_unstable();
        Ok(EventIds(events))
    }

    /// The id of each draft's [`Evidence::At`], by draft and evidence position (`None` for an
    /// [`Evidence::Id`], or an event not found). Two events of one actor from one address at the
    /// same instant: the smaller id, so the choice does not depend on file order.
    ///
    /// The wanted events are put in instant order and found in one pass along the sorted events:
    /// looking each up on its own (a map from instant to position, then the strings compared)
    /// missed the cache at every step: 5.5% of this analysis' CPU over a whole 5M store.
    fn resolve(&self, t: &Table<'_>, drafts: &[Draft<'_>]) -> Vec<Vec<Option<EventId>>> {
        let mut found: Vec<Vec<Option<EventId>>> = drafts
            .iter()
            .map(|d| vec![None; d.evidence.len()])
            .collect();
        // (instant, actor, address, draft, position)
        let mut wanted: Vec<(i64, usize, &str, usize, usize)> = drafts
            .iter()
            .enumerate()
            .flat_map(|(d, draft)| {
                draft
                    .evidence
                    .iter()
                    .enumerate()
                    .filter_map(move |(p, e)| match e {
                        Evidence::At(a, ip, ns) => Some((*ns, *a, *ip, d, p)),
                        Evidence::Id(_) => None,
                    })
            })
            .collect();
        wanted.par_sort_unstable_by_key(|w| w.0);
        let events = &self.0;
        let mut k = 0;
        for (ns, a, ip, d, p) in wanted {
            while events.get(k).is_some_and(|e| e.0 < ns) {
                k += 1;
            }
            let actor = t.actors[a];
            found[d][p] = events[k..]
                .iter()
                .take_while(|e| e.0 == ns)
                .find(|e| e.1 == actor && e.2 == ip)
                .map(|e| e.3);
        }
        found
    }
}

/// When single-use addresses are routine (see the module doc).
struct Routine {
    /// Per actor: single-use outside (or unjudgeable) addresses first used in the baseline.
    in_baseline: Vec<u64>,
    /// Actors with a complete baseline, and how many of them used a single-use address in it.
    complete: usize,
    with_single_use: usize,
}

impl Routine {
    fn of(ctx: &Context<'_>, t: &Table<'_>, baseline: i64) -> Routine {
        let mut in_baseline = vec![0; t.actors.len()];
        for &((a, ip), ref u) in &t.uses {
            if u.count == 1
                && u.first_ns < t.actor_first[a].saturating_add(baseline)
                && Place::of(ctx.config, ip) != Place::Inside
            {
                in_baseline[a] += 1;
            }
        }
        let complete: Vec<usize> = (0..t.actors.len())
            .filter(|&a| t.actor_first[a].saturating_add(baseline) <= t.latest)
            .collect();
        Routine {
            with_single_use: complete.iter().filter(|&&a| in_baseline[a] > 0).count(),
            complete: complete.len(),
            in_baseline,
        }
    }

    fn for_everyone(&self) -> bool {
        self.complete > 0 && self.with_single_use as f64 >= ROUTINE_SHARE * self.complete as f64
    }

    fn for_actor(&self, a: usize) -> bool {
        self.in_baseline[a] > 0 || self.for_everyone()
    }

    fn why(&self, a: usize) -> String {
        if self.in_baseline[a] > 0 {
            format!(
                "the actor used {} in their baseline",
                plural(self.in_baseline[a], "one", "such addresses")
            )
        } else {
            format!(
                "{} of {} actors with a complete baseline used them in it",
                self.with_single_use, self.complete
            )
        }
    }
}

/// New, outside and privileged-from-new findings, one per actor and address, plus one per actor
/// for routine single-use addresses.
fn address_drafts<'a>(ctx: &Context<'_>, t: &Table<'a>, privileged: &Privileged) -> Vec<Draft<'a>> {
    let days = ctx.config.unusual_ips.baseline_days;
    let baseline = i64::from(days) * NANOS_PER_DAY;
    let routine = Routine::of(ctx, t, baseline);
    // actor -> routine single-use addresses first used in the period
    let mut single_use: BTreeMap<usize, Vec<(&'a str, i64)>> = BTreeMap::new();
    let mut out = Vec::new();
    for &((a, ip), ref u) in &t.uses {
        let actor = t.actors[a];
        let place = Place::of(ctx.config, ip);
        let baseline_end = t.actor_first[a].saturating_add(baseline);
        let is_new = u.first_ns >= baseline_end;
        if is_new
            && u.count == 1
            && place != Place::Inside
            && routine.for_actor(a)
            && ctx.in_period(u.first_ns)
        {
            single_use.entry(a).or_default().push((ip, u.first_ns));
            continue;
        }
        let still_new_until = u.first_ns.saturating_add(baseline);
        let priv_events: Vec<&PrivilegedEvent> = if is_new && place != Place::Inside {
            privileged
                .get(actor, ip)
                .iter()
                .filter(|e| e.ns < still_new_until)
                .collect()
        } else {
            Vec::new()
        };
        let verdict = if !priv_events.is_empty() {
            Verdict::PrivilegedFromNew
        } else if is_new && ctx.in_period(u.first_ns) {
            Verdict::New
        } else if u.period_count > 0 {
            Verdict::KnownOutside
        } else {
            Verdict::Nothing
        };
        let Some(sev) = severity(verdict, place) else {
            continue;
        };
        let first_use = format_timestamp(u.first_ns);
        let baseline_text = format!(
            "after the {days}-day baseline that began with the actor's first event on {}",
            format_timestamp(t.actor_first[a])
        );
        let draft = |first_seen_ns, last_seen_ns, count, summary, evidence| Draft {
            finding: Finding {
                analysis: NAME,
                severity: sev,
                actor: actor.to_owned(),
                subject: ip.to_owned(),
                ip: ip.to_owned(),
                first_seen_ns,
                last_seen_ns,
                count,
                summary,
                event_ids: Vec::new(),
            },
            evidence,
        };
        match verdict {
            Verdict::PrivilegedFromNew => {
                let n = priv_events.len() as u64;
                let whats = listing(priv_events.iter().map(|e| e.what.as_str()), "; ");
                let mut ev = vec![Evidence::At(a, ip, u.first_ns)];
                ev.extend(priv_events.iter().map(|e| Evidence::Id(e.id)));
                out.push(draft(
                    priv_events[0].ns,
                    priv_events[priv_events.len() - 1].ns,
                    n,
                    format!(
                        "{actor} performed {} from {ip}, an address first used on {first_use} \
                         ({baseline_text}); {}: {whats}",
                        plural(n, "privileged action", "privileged actions"),
                        place.describe(),
                    ),
                    ev,
                ));
            }
            Verdict::New | Verdict::KnownOutside => {
                let Some((pf, pl)) = u.period else { continue };
                let uses = plural(u.period_count, "event", "events");
                let summary = if verdict == Verdict::New {
                    format!(
                        "{actor} used {ip} for the first time on {first_use} ({baseline_text}); \
                         {}; {uses} from it in the period",
                        place.describe()
                    )
                } else {
                    let why = if u.first_ns < baseline_end {
                        "within the actor's baseline"
                    } else {
                        "before the period, when it was new"
                    };
                    format!(
                        "{actor} used {ip}, {}, in {uses} in the period; a known address, first \
                         used on {first_use} ({why})",
                        place.describe()
                    )
                };
                out.push(draft(
                    pf,
                    pl,
                    u.period_count,
                    summary,
                    vec![Evidence::At(a, ip, pf), Evidence::At(a, ip, pl)],
                ));
            }
            Verdict::Nothing => {}
        }
    }
    for (a, addrs) in single_use {
        out.extend(single_use_draft(ctx, t, a, &addrs, privileged, &routine));
    }
    out
}

/// One low finding for an actor's routine single-use addresses (`None` for none).
fn single_use_draft<'a>(
    ctx: &Context<'_>,
    t: &Table<'a>,
    a: usize,
    addrs: &[(&'a str, i64)],
    privileged: &Privileged,
    routine: &Routine,
) -> Option<Draft<'a>> {
    let actor = t.actors[a];
    let n = addrs.len() as u64;
    let mut by_time = addrs.to_vec();
    by_time.sort_by_key(|&(_, ns)| ns);
    let (&(first_ip, first_ns), &(_, last_ns)) = (by_time.first()?, by_time.last()?);
    let priv_events: Vec<&PrivilegedEvent> = by_time
        .iter()
        .flat_map(|&(ip, _)| privileged.get(actor, ip))
        .collect();
    let names = listing(by_time.iter().map(|&(ip, _)| ip), ", ");
    let place = Place::of(ctx.config, first_ip);
    let privileged_text = if priv_events.is_empty() {
        String::new()
    } else {
        let whats = listing(priv_events.iter().map(|e| e.what.as_str()), "; ");
        format!(
            "; {} done from them: {whats}",
            plural(
                priv_events.len() as u64,
                "privileged action was",
                "privileged actions were"
            ),
        )
    };
    // Privileged events lead the evidence, so the cap never hides them.
    let mut ev: Vec<Evidence<'a>> = priv_events.iter().map(|e| Evidence::Id(e.id)).collect();
    ev.extend(by_time.iter().map(|&(ip, ns)| Evidence::At(a, ip, ns)));
    Some(Draft {
        finding: Finding {
            analysis: NAME,
            severity: Severity::Low,
            actor: actor.to_owned(),
            subject: "single-use addresses".to_owned(),
            ip: if n == 1 {
                first_ip.to_owned()
            } else {
                String::new()
            },
            first_seen_ns: first_ns,
            last_seen_ns: last_ns,
            count: n,
            summary: format!(
                "{actor} used {} for a single event each in the period ({}): {names}; single-use \
                 addresses are routine here ({}), so they are not judged one by one{privileged_text}",
                plural(n, "new address", "new addresses"),
                place.describe(),
                routine.why(a),
            ),
            event_ids: Vec::new(),
        },
        evidence: ev,
    })
}

/// One point of a shared-address sweep: an actor's earliest or latest event in a bucket.
#[derive(Debug, Clone, Copy)]
struct Point {
    ns: i64,
    actor: usize,
}

/// A stretch of time during which an address stayed shared: points `start..=end`, and the most
/// distinct actors seen within one window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stretch {
    start: usize,
    end: usize,
    peak: usize,
}

/// Stretches of sorted `points` in which some `window` held at least `min_actors` distinct actors;
/// overlapping qualifying windows merge into one stretch.
fn shared_stretches(points: &[Point], window: i64, min_actors: usize) -> Vec<Stretch> {
    let mut out: Vec<Stretch> = Vec::new();
    // Events per actor in the window, indexed by actor (a vector: this loop sees every point of
    // every busy address).
    let mut in_window = vec![0u32; points.iter().map(|p| p.actor + 1).max().unwrap_or(0)];
    let mut distinct = 0;
    let mut left = 0;
    for (right, p) in points.iter().enumerate() {
        if in_window[p.actor] == 0 {
            distinct += 1;
        }
        in_window[p.actor] += 1;
        while p.ns - points[left].ns >= window {
            let a = points[left].actor;
            in_window[a] -= 1;
            if in_window[a] == 0 {
                distinct -= 1;
            }
            left += 1;
        }
        if distinct < min_actors {
            continue;
        }
        match out.last_mut() {
            Some(s) if left <= s.end => {
                s.end = right;
                s.peak = s.peak.max(distinct);
            }
            _ => out.push(Stretch {
                start: left,
                end: right,
                peak: distinct,
            }),
        }
    }
    out
}

/// Shared-address findings: one per address and stretch ending in the period.
fn shared_drafts<'a>(
    ctx: &Context<'_>,
    t: &Table<'a>,
    shared: &Shared<'a>,
    window: i64,
    min_actors: usize,
) -> Vec<Draft<'a>> {
    let cfg = &ctx.config.unusual_ips;
    let mut out = Vec::new();
    for (ip, buckets) in &shared.0 {
        let ip = *ip;
        let mut points: Vec<Point> = buckets
            .iter()
            .flat_map(|b| {
                [
                    Point {
                        ns: b.min_ns,
                        actor: b.actor,
                    },
                    Point {
                        ns: b.max_ns,
                        actor: b.actor,
                    },
                ]
            })
            .collect();
        points.sort_by_key(|p| (p.ns, p.actor));
        points.dedup_by_key(|p| (p.ns, p.actor));
        let place = Place::of(ctx.config, ip);
        let sev = if place == Place::Outside {
            Severity::Medium
        } else {
            Severity::Low
        };
        for s in shared_stretches(&points, window, min_actors) {
            let (first, last) = (points[s.start].ns, points[s.end].ns);
            if !ctx.in_period(last) {
                continue;
            }
            // Each actor's first event in the stretch is the evidence.
            let mut seen = HashSet::new();
            let firsts: Vec<&Point> = points[s.start..=s.end]
                .iter()
                .filter(|p| seen.insert(p.actor))
                .collect();
            let names = listing(firsts.iter().map(|p| t.actors[p.actor]), ", ");
            let n = firsts.len() as u64;
            out.push(Draft {
                finding: Finding {
                    analysis: NAME,
                    severity: sev,
                    actor: String::new(),
                    subject: ip.to_owned(),
                    ip: ip.to_owned(),
                    first_seen_ns: first,
                    last_seen_ns: last,
                    count: n,
                    summary: format!(
                        "{ip} was used by up to {} distinct actors within {} (threshold {} within \
                         {}), {} between {} and {}: {names}; {}{}",
                        s.peak,
                        cfg.shared_ip_window,
                        cfg.shared_ip_actors,
                        cfg.shared_ip_window,
                        plural(n, "actor", "actors"),
                        format_timestamp(first),
                        format_timestamp(last),
                        place.describe(),
                        if place == Place::Inside {
                            " (offices share NAT addresses)"
                        } else {
                            ""
                        }
                    ),
                    event_ids: Vec::new(),
                },
                evidence: firsts
                    .iter()
                    .map(|p| Evidence::At(p.actor, ip, p.ns))
                    .collect(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyses::common::tests::strings;

    fn pts(v: &[(i64, usize)]) -> Vec<Point> {
        v.iter().map(|&(ns, actor)| Point { ns, actor }).collect()
    }

    #[test]
    fn sliding_window_counts_distinct_actors() {
        // Three actors within 10 ns, then one actor repeating, then three again much later.
        let p = pts(&[
            (0, 0),
            (5, 1),
            (9, 2),
            (12, 2),
            (13, 2),
            (100, 0),
            (101, 1),
            (150, 2),
        ]);
        assert_eq!(
            shared_stretches(&p, 10, 3),
            vec![Stretch {
                start: 0,
                end: 2,
                peak: 3
            }]
        );
        // Exactly the window apart is outside it: [t, t + window).
        assert!(shared_stretches(&pts(&[(0, 0), (5, 1), (10, 2)]), 10, 3).is_empty());
        // Overlapping qualifying windows merge.
        let p = pts(&[(0, 0), (4, 1), (8, 2), (11, 3), (15, 0), (40, 1)]);
        assert_eq!(
            shared_stretches(&p, 10, 3),
            vec![Stretch {
                start: 0,
                end: 4,
                peak: 3
            }]
        );
    }

    #[test]
    fn severity_ladder() {
        use Place::*;
        use Verdict::*;
        assert_eq!(severity(PrivilegedFromNew, Outside), Some(Severity::High));
        assert_eq!(severity(PrivilegedFromNew, Unknown), Some(Severity::Medium));
        assert_eq!(severity(New, Outside), Some(Severity::Medium));
        assert_eq!(severity(New, Inside), Some(Severity::Low));
        assert_eq!(severity(New, Unknown), Some(Severity::Low));
        assert_eq!(severity(KnownOutside, Outside), Some(Severity::Info));
        assert_eq!(severity(KnownOutside, Unknown), None);
        assert_eq!(severity(KnownOutside, Inside), None);
    }

    #[test]
    fn uses_are_grouped_by_actor_and_address_with_floored_buckets() {
        // The period starts at 100; buckets are 10 ns long and aligned to it.
        let ts = Int64Chunked::new(
            cols::TIMESTAMP_NS.into(),
            &[89, 100, 95, 90, 120, 99, 105, 50],
        );
        let actors = strings(&[
            &[Some("bob"), Some("bob"), Some("bob"), Some("bob")],
            &[Some("ann"), Some("bob"), Some("ann"), None],
        ]);
        let ips = strings(&[
            &[Some("1.1.1.1"), Some("1.1.1.1"), None, Some("1.1.1.1")],
            &[
                Some("1.1.1.1"),
                Some("1.1.1.1"),
                Some("2.2.2.2"),
                Some("1.1.1.1"),
            ],
        ]);
        let uses = DataFrame::new(
            ts.len(),
            vec![
                ts.into_column(),
                actors.with_name(cols::ACTOR_NAME.into()).into_column(),
                ips.with_name(cols::CLIENT_IP.into()).into_column(),
            ],
        )
        .unwrap();
        let n = Numbered::read(uses, Some(100)).unwrap().unwrap();
        let t = Table::new(&n);
        assert_eq!(t.actors, ["ann", "bob"]);
        assert_eq!(t.actor_first, [105, 89]);
        assert_eq!(t.latest, 120);
        let (a, bob) = t.get("bob", "1.1.1.1").unwrap();
        assert_eq!(a, 1);
        assert_eq!((bob.first_ns, bob.count), (89, 4));
        assert_eq!((bob.period, bob.period_count), (Some((100, 100)), 1));
        let (_, ann) = t.get("ann", "1.1.1.1").unwrap();
        assert_eq!(
            (ann.first_ns, ann.count, ann.period),
            (120, 1, Some((120, 120)))
        );
        assert!(t.get("bob", "2.2.2.2").is_none());
        // bob's event without an address counts for his history only.
        assert_eq!(t.uses.len(), 3);

        let shared = Shared::new(&n, &t, Some(100), 10, 2);
        assert_eq!(shared.0.len(), 1);
        let (ip, buckets) = &shared.0[0];
        assert_eq!(*ip, "1.1.1.1");
        let mut got: Vec<(usize, i64, i64)> = buckets
            .iter()
            .map(|b| (b.actor, b.min_ns, b.max_ns))
            .collect();
        got.sort_unstable();
        // 89 lies in [80, 90) (floored, not truncated towards the period start); 90 and 99 in
        // [90, 100); 100 in [100, 110).
        assert_eq!(
            got,
            [(0, 120, 120), (1, 89, 89), (1, 90, 99), (1, 100, 100)]
        );
    }
}
