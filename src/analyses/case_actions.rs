/*!
analyst-case-actions: what each security analyst did with cases and forensic searches, per ISO
week, so an auditor can spot-check the work of people with privileged access to investigations.

Counted per analyst and ISO week (Monday to Sunday, UTC, like `--week`): every case-action event
type of the catalog ([`Tag::CaseAction`]: created, closed, exported, deleted, assignee changed,
subject changed, file event added / removed, archived) and forensic searches
([`Tag::ForensicSearch`]). Analysts are the configured `analysts`, or, when that list is empty,
every actor with a case action or a forensic search. Weeks are whole: a week partly inside the
period is counted whole (up to the period end), so reports over `--week` and over a longer period
agree on it. The run returns these counts as a table too: the weekly report's, and the one
`Weekly::frame` describes.

Findings:
- **info**, one per analyst and week in the period: the week's counts ("bob@x, 2026-W16:
  3 created, 2 closed, 1 exported, 12 forensic searches").
- **burst** (medium; high when exports and deletions drive it): a week whose total is unusually
  high against the analyst's own other active weeks (when there are at least 3) and against the
  peers' totals in the same week (when there are at least 3 peers; a peer is another analyst with
  at least `case_actions.min_weekly_actions` that week, so someone who closed one case or ran one
  search does not pull the median down); with only one of the two
  references available, that one decides. Requiring both keeps a consistently busy analyst (high
  against peers, ordinary for them) and an incident week (busy for everyone) out. Weeks with
  fewer than `case_actions.min_weekly_actions` actions are never bursts. "Drive it" means the week
  would not be a burst against any reference had its exports and deletions stayed at that
  reference's median.
- **case deletion**, each one: deleting a case removes an investigation record, so every deletion
  is listed, with the case's creation as further evidence when the store has it. Medium, except
  that an analyst deleting a case they created themselves less than an hour earlier (a duplicate or
  a mistake cleaned up by its author) is low.


The statistic is the robust z-score `0.6745 * (x - median) / MAD` over the reference totals, above
`case_actions.burst_threshold`. Only active weeks (at least one action) are the analyst's own
reference: a week off is not a working week and would make every ordinary week look busy. The MAD
is floored at `0.6745 * sqrt(max(median, 1))`, about the MAD of a Poisson count with that median.
This handles MAD = 0 (an analyst who does exactly the same every week, or identical peers)
without flagging every small wobble, and at the floor the score is the familiar Poisson
`(x - median) / sqrt(median)`.
*/

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use polars::prelude::*;

use super::common::{evidence, i64s, plural, strs, subject};
use super::{Analysis, Context, Finding, MAX_EVIDENCE, Memory, Ordered, Output, Select, Severity};
use crate::error::Result;
use crate::filter::iso_week_label;
use crate::model::EventId;
use crate::model::catalog::{Catalog, Tag};
use crate::model::schema::cols;
use crate::time::{NANOS_PER_DAY, date_of, format_timestamp};

pub struct AnalystCaseActions;

/// The case-action event types the burst and deletion rules are about.
const EXPORTED: &str = "case_exported";
const DELETED: &str = "case_deleted";

/// The frame column of forensic searches.
pub const SEARCHES: &str = "searches";

/// A case its author deletes within this time of creating it is a cleaned-up duplicate (low).
const OWN_FRESH_CASE_NS: i64 = 3600 * 1_000_000_000;

/// The constant of the robust z-score: the MAD of a standard normal distribution.
const MAD_CONSISTENCY: f64 = 0.6745;

/// The fewest own weeks, or peers, a week is judged against.
const MIN_REFERENCE: usize = 3;

impl Analysis for AnalystCaseActions {
    /// Case actions and forensic searches: every analyst's weeks counted up to the period end,
    /// and the ids of the period's weeks.
    fn memory(&self) -> Memory {
        Memory::Large
    }

    fn name(&self) -> &'static str {
        "analyst-case-actions"
    }

    fn description(&self) -> &'static str {
        "case actions and forensic searches per analyst and ISO week; bursts and case deletions"
    }

    fn run(&self, ctx: &Context<'_>) -> Result<Output> {
        let mut weekly = Weekly::count(ctx)?;
        let evidence = weekly.read_evidence(ctx)?;
        let ids = evidence.event_ids(ctx.store)?;
        let mut out: Vec<Finding> = weekly
            .rows
            .iter()
            .filter(|(_, r)| r.in_period)
            .map(|((analyst, week), r)| weekly.info_finding(analyst, *week, r, &ids))
            .collect();
        let references = References::new(&weekly, ctx.config.case_actions.min_weekly_actions);
        for ((analyst, week), r) in weekly.rows.iter().filter(|(_, r)| r.in_period) {
            if let Some(b) = weekly.burst(ctx, &references, (analyst, *week, r), &ids) {
                out.push(b);
            }
        }
        out.extend(Deletion::load(ctx)?.iter().map(Deletion::finding));
        Ok(Output {
            findings: out,
            table: Some(weekly.frame()?),
        })
    }
}

/// What is counted: the catalog's case-action types in catalog order, then forensic searches.
struct Kinds {
    /// Column name per kind.
    columns: Vec<String>,
    /// Word(s) for summaries, singular and plural.
    words: Vec<(String, String)>,
    /// Event type -> kind index.
    by_type: HashMap<&'static str, usize>,
}

impl Kinds {
    fn from_catalog() -> Kinds {
        let mut k = Kinds {
            columns: Vec::new(),
            words: Vec::new(),
            by_type: HashMap::new(),
        };
        for e in Catalog::get().entries() {
            if !e.has(Tag::CaseAction) {
                continue;
            }
            // "Case assignee changed" -> "assignee changed"
            let word = e
                .label
                .strip_prefix("Case ")
                .unwrap_or(e.label)
                .to_lowercase();
            k.by_type.insert(e.api_name, k.columns.len());
            k.columns.push(word.replace(' ', "_"));
            k.words.push((word.clone(), word));
        }
        let searches = k.columns.len();
        for name in Catalog::get().names_with(Tag::ForensicSearch) {
            k.by_type.entry(name).or_insert(searches);
        }
        k.columns.push(SEARCHES.to_owned());
        k.words
            .push(("forensic search".into(), "forensic searches".into()));
        k
    }

    fn index(&self, api_name: &str) -> Option<usize> {
        self.by_type.get(api_name).copied()
    }

    /// Every event type counted.
    fn types(&self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = self.by_type.keys().copied().collect();
        v.sort_unstable();
        v
    }
}

/// One analyst's week.
#[derive(Debug, Clone, Default)]
struct WeekRow {
    counts: Vec<u64>,
    total: u64,
    /// Exports and deletions.
    risky: u64,
    first_ns: i64,
    last_ns: i64,
    /// Evidence: rows of the frame [`Weekly::read_evidence`] returns, exports and deletions
    /// first (they matter most when the list is capped), at most [`MAX_EVIDENCE`].
    evidence: Vec<u32>,
    /// True when at least one of the week's events lies in the period.
    in_period: bool,
}

impl WeekRow {
    /// The evidence's event ids, given the evidence frame's id column.
    fn ids(&self, ids: &[Option<EventId>]) -> Vec<EventId> {
        evidence(
            self.evidence
                .iter()
                .filter_map(|&i| ids.get(i as usize).copied().flatten()),
        )
    }
}

/// One case deletion in the period.
struct Deletion {
    actor: String,
    case: String,
    ns: i64,
    id: EventId,
    /// The case's creation: (event id, actor, instant).
    created: Option<(EventId, String, i64)>,
}

impl Deletion {
    /// Case deletions in the period, each with the case's creation when the store has it.
    fn load(ctx: &Context<'_>) -> Result<Vec<Deletion>> {
        // Details (the case number) are the costly column: read them for the period's deletions
        // first, and for creations only when there is a deletion to explain.
        let deleted = CaseEvents::load(ctx, DELETED, Some(0))?;
        if deleted.0.is_empty() {
            return Ok(Vec::new());
        }
        let created = match Catalog::get().by_api_name(DELETED).and_then(|e| e.inverse) {
            Some(t) => CaseEvents::load(ctx, t, None)?,
            None => CaseEvents(Vec::new()),
        };
        // case number -> its creations, in time order
        let mut creations: HashMap<&str, Vec<&CaseEvent>> = HashMap::new();
        for c in created.0.iter().filter(|c| !c.case.is_empty()) {
            creations.entry(&c.case).or_default().push(c);
        }
        Ok(deleted
            .0
            .iter()
            .map(|d| Deletion {
                actor: d.actor.clone(),
                case: d.case.clone(),
                ns: d.ns,
                id: d.id,
                // The latest creation of that case number before the deletion.
                created: creations
                    .get(d.case.as_str())
                    .and_then(|v| v.iter().rev().find(|c| c.ns <= d.ns))
                    .map(|c| (c.id, c.actor.clone(), c.ns)),
            })
            .collect())
    }

    fn finding(&self) -> Finding {
        let created = match &self.created {
            Some((_, who, ns)) => format!(", created by {who} on {}", format_timestamp(*ns)),
            None => String::new(),
        };
        let own_fresh = self.created.as_ref().is_some_and(|(_, who, ns)| {
            who.eq_ignore_ascii_case(&self.actor) && self.ns - ns < OWN_FRESH_CASE_NS
        });
        let case = if self.case.is_empty() {
            "a case (no case number recorded)".to_owned()
        } else {
            format!("case {}", self.case)
        };
        Finding {
            analysis: "analyst-case-actions",
            severity: if own_fresh {
                Severity::Low
            } else {
                Severity::Medium
            },
            actor: self.actor.clone(),
            subject: self.case.clone(),
            ip: String::new(),
            first_seen_ns: self.ns,
            last_seen_ns: self.ns,
            count: 1,
            summary: format!(
                "{} deleted {case} on {}{created}; a deletion removes an investigation record, so \
                 every one is listed{}",
                self.actor,
                format_timestamp(self.ns),
                if own_fresh {
                    " (deleted by its author within an hour of creating it)"
                } else {
                    ""
                }
            ),
            event_ids: std::iter::once(self.id)
                .chain(self.created.iter().map(|c| c.0))
                .collect(),
        }
    }
}

/// One case event with its case number.
struct CaseEvent {
    id: EventId,
    actor: String,
    case: String,
    ns: i64,
}

/// Case events of one type, in time order.
struct CaseEvents(Vec<CaseEvent>);

impl CaseEvents {
    fn load(ctx: &Context<'_>, event_type: &str, lookback_ns: Option<i64>) -> Result<CaseEvents> {
        let df = ctx.events(
            Select::Types(&[event_type]),
            &[
                cols::EVENT_ID,
                cols::ACTOR_NAME,
                cols::AFFECTED_USER_ID,
                cols::AFFECTED_USER_NAME,
                cols::DETAILS,
            ],
            lookback_ns,
        )?;
        let ids = df.event_ids(ctx.store)?;
        let actors = df.strs(cols::ACTOR_NAME)?;
        let aff_id = df.strs(cols::AFFECTED_USER_ID)?;
        let aff_name = df.strs(cols::AFFECTED_USER_NAME)?;
        let details = df.strs(cols::DETAILS)?;
        let ts = df.i64s(cols::TIMESTAMP_NS)?;
        Ok(CaseEvents(
            (0..df.height())
                .filter_map(|i| {
                    Some(CaseEvent {
                        id: ids[i]?,
                        actor: actors[i].unwrap_or("(unknown actor)").to_owned(),
                        case: subject(event_type, aff_id[i], aff_name[i], details[i]),
                        ns: ts[i],
                    })
                })
                .collect(),
        ))
    }
}

/// Column names of the aggregation.
const WEEK: &str = "week";
const N: &str = "n";
const FIRST_NS: &str = "first_ns";
const LAST_NS: &str = "last_ns";

/// Days from 1970-01-01 (a Thursday) back to the Monday that starts its ISO week.
const EPOCH_TO_MONDAY_DAYS: i64 = 3;

/// The week of an instant, counted in whole weeks from Monday 1969-12-29 (the floor division
/// matches polars' integer `/`, see [`weekly_type_counts`]).
fn week_index(ns: i64) -> i64 {
    (ns.div_euclid(NANOS_PER_DAY) + EPOCH_TO_MONDAY_DAYS).div_euclid(7)
}

/// The Monday starting week `index`.
fn monday(index: i64) -> NaiveDate {
    date_of((index * 7 - EPOCH_TO_MONDAY_DAYS) * NANOS_PER_DAY)
}

/// Counts per actor, week ([`week_index`]) and event type of `types`, up to the period end,
/// with each group's first and last instant.
fn weekly_type_counts(ctx: &Context<'_>, types: &[&str]) -> Result<DataFrame> {
    let ts = || col(cols::TIMESTAMP_NS);
    let names: Vec<String> = types.iter().map(|t| (*t).to_owned()).collect();
    let mut keep = col(cols::EVENT_TYPE).is_in(crate::filter::list_lit(&names), false);
    if let Some(to) = ctx.to_ns {
        keep = keep.and(ts().lt(lit(to)));
    }
    // Polars' integer `/` floors, like `div_euclid` for a positive divisor.
    let week = (ts() / lit(NANOS_PER_DAY) + lit(EPOCH_TO_MONDAY_DAYS)) / lit(7i64);
    Ok(ctx
        .store
        .scan(ctx.to_ns.map(|to| (i64::MIN, to)))?
        .select([ts(), col(cols::EVENT_TYPE), col(cols::ACTOR_NAME)])
        .filter(keep)
        .group_by([
            col(cols::ACTOR_NAME),
            week.alias(WEEK),
            col(cols::EVENT_TYPE),
        ])
        .agg([
            len().cast(DataType::Int64).alias(N),
            ts().min().alias(FIRST_NS),
            ts().max().alias(LAST_NS),
        ])
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single())
}

/// The weekly table: every analyst's weeks up to the period end (history included: it is the
/// baseline), each marked whether it lies in the period.
struct Weekly {
    kinds: Kinds,
    /// (analyst, Monday of the ISO week) -> counts.
    rows: BTreeMap<(String, NaiveDate), WeekRow>,
}

impl Weekly {
    /// Counts come from a polars aggregation over the whole history (one row per actor, week
    /// and event type); [`Weekly::read_evidence`] reads event ids for the period's weeks only.
    fn count(ctx: &Context<'_>) -> Result<Weekly> {
        let kinds = Kinds::from_catalog();
        let counts = weekly_type_counts(ctx, &kinds.types())?;
        let actors = strs(&counts, cols::ACTOR_NAME)?;
        let etypes = strs(&counts, cols::EVENT_TYPE)?;
        let weeks = i64s(&counts, WEEK)?;
        let n = i64s(&counts, N)?;
        let first = i64s(&counts, FIRST_NS)?;
        let last = i64s(&counts, LAST_NS)?;
        let configured: HashSet<String> = ctx
            .config
            .analysts
            .iter()
            .map(|a| a.to_lowercase())
            .collect();
        let n_kinds = kinds.columns.len();
        let mut rows: BTreeMap<(String, NaiveDate), WeekRow> = BTreeMap::new();
        for i in 0..counts.height() {
            let (Some(actor), Some(kind)) = (actors[i], etypes[i].and_then(|t| kinds.index(t)))
            else {
                continue;
            };
            if actor == "SYSTEM"
                || (!configured.is_empty() && !configured.contains(&actor.to_lowercase()))
            {
                continue;
            }
            let n = u64::try_from(n[i]).unwrap_or_default();
            let row = rows
                .entry((actor.to_owned(), monday(weeks[i])))
                .or_insert_with(|| WeekRow {
                    counts: vec![0; n_kinds],
                    first_ns: i64::MAX,
                    last_ns: i64::MIN,
                    ..WeekRow::default()
                });
            row.counts[kind] += n;
            row.total += n;
            if etypes[i].is_some_and(|t| t == EXPORTED || t == DELETED) {
                row.risky += n;
            }
            row.first_ns = row.first_ns.min(first[i]);
            row.last_ns = row.last_ns.max(last[i]);
            // Events before the period end are all there is, so the last one decides.
            row.in_period = ctx.in_period(row.last_ns);
        }
        Ok(Weekly { kinds, rows })
    }

    /// Event ids of the period's weeks (whole weeks, so reading from the Monday of the period's
    /// first week), exports and deletions first: each row of the period gets the rows of its
    /// evidence in the frame returned. The ids stay in the frame until the findings copy them:
    /// copying each into a string of its own here cost as much again, one cache miss per id.
    fn read_evidence(&mut self, ctx: &Context<'_>) -> Result<Ordered> {
        let types = self.kinds.types();
        let lookback = ctx
            .from_ns
            .map(|from| from - crate::time::start_of_day(monday(week_index(from))));
        let df = ctx.events(
            Select::Types(&types),
            &[cols::EVENT_ID, cols::EVENT_TYPE, cols::ACTOR_NAME],
            lookback,
        )?;
        // The period's rows in order, each looked up by borrowed name (this loop sees every case
        // event of the period, and an owned key per event was most of its time).
        let mut lists: Vec<(Vec<u32>, Vec<u32>)> = Vec::new();
        {
            let ids = df.strs(cols::EVENT_ID)?;
            let etypes = df.strs(cols::EVENT_TYPE)?;
            let actors = df.strs(cols::ACTOR_NAME)?;
            let ts = df.i64s(cols::TIMESTAMP_NS)?;
            let wanted: PlHashMap<(&str, NaiveDate), usize> = self
                .rows
                .iter()
                .filter(|(_, r)| r.in_period)
                .enumerate()
                .map(|(k, ((actor, week), _))| ((actor.as_str(), *week), k))
                .collect();
            lists.resize_with(wanted.len(), Default::default);
            for i in 0..df.height() {
                let (Some(_), Some(actor), Some(etype)) = (ids[i], actors[i], etypes[i]) else {
                    continue;
                };
                let Some(&k) = wanted.get(&(actor, monday(week_index(ts[i])))) else {
                    continue;
                };
                // Evidence is capped anyway; keeping more rows would only cost memory.
                let list = if etype == EXPORTED || etype == DELETED {
                    &mut lists[k].0
                } else {
                    &mut lists[k].1
                };
                if list.len() < MAX_EVIDENCE {
                    list.push(u32::try_from(i).unwrap_or(u32::MAX));
                }
            }
        }
        let period_rows = self.rows.values_mut().filter(|r| r.in_period);
        for (row, (mut risky, other)) in period_rows.zip(lists) {
            risky.extend(other);
            risky.truncate(MAX_EVIDENCE);
            row.evidence = risky;
        }
        Ok(df)
    }

    /// The per-analyst, per-ISO-week counts for the period's weeks, as a frame with the columns
    /// `analyst`, `week` (`2026-W16`), one per case-action type (catalog order; the label without
    /// its `Case ` prefix, snake_case: `created`, `assignee_changed`, ...), [`SEARCHES`] and
    /// `total`: the table the analysis returns with its findings, built from the same counts.
    fn frame(&self) -> Result<DataFrame> {
        let rows: Vec<(&(String, NaiveDate), &WeekRow)> =
            self.rows.iter().filter(|(_, r)| r.in_period).collect();
        let mut columns = vec![
            Column::new(
                "analyst".into(),
                rows.iter()
                    .map(|((a, _), _)| a.as_str())
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "week".into(),
                rows.iter()
                    .map(|((_, w), _)| iso_week_label(*w))
                    .collect::<Vec<_>>(),
            ),
        ];
        for (k, name) in self.kinds.columns.iter().enumerate() {
            columns.push(Column::new(
                name.as_str().into(),
                rows.iter().map(|(_, r)| r.counts[k]).collect::<Vec<u64>>(),
            ));
        }
        columns.push(Column::new(
            "total".into(),
            rows.iter().map(|(_, r)| r.total).collect::<Vec<u64>>(),
        ));
        Ok(DataFrame::new(rows.len(), columns)?)
    }

    /// "3 created, 2 closed, 12 forensic searches" (kinds with a count only).
    fn breakdown(&self, r: &WeekRow) -> String {
        let parts: Vec<String> = r
            .counts
            .iter()
            .zip(&self.kinds.words)
            .filter(|(n, _)| **n > 0)
            .map(|(n, (one, many))| plural(*n, one, many))
            .collect();
        parts.join(", ")
    }

    fn info_finding(
        &self,
        analyst: &str,
        week: NaiveDate,
        r: &WeekRow,
        ids: &[Option<EventId>],
    ) -> Finding {
        let label = iso_week_label(week);
        Finding {
            analysis: "analyst-case-actions",
            severity: Severity::Info,
            actor: analyst.to_owned(),
            subject: label.clone(),
            ip: String::new(),
            first_seen_ns: r.first_ns,
            last_seen_ns: r.last_ns,
            count: r.total,
            summary: format!("{analyst}, {label}: {}", self.breakdown(r)),
            event_ids: r.ids(ids),
        }
    }

    /// A burst finding for the analyst's week, if it is one.
    fn burst(
        &self,
        ctx: &Context<'_>,
        references: &References<'_>,
        (analyst, week, r): (&str, NaiveDate, &WeekRow),
        ids: &[Option<EventId>],
    ) -> Option<Finding> {
        let cfg = &ctx.config.case_actions;
        if r.total < u64::from(cfg.min_weekly_actions) {
            return None;
        }
        let own: Vec<&WeekRow> = references
            .own
            .get(analyst)
            .into_iter()
            .flatten()
            .filter(|(w, _)| *w != week)
            .map(|(_, r)| *r)
            .collect();
        let peers: Vec<&WeekRow> = references
            .peers
            .get(&week)
            .into_iter()
            .flatten()
            .filter(|(a, _)| *a != analyst)
            .map(|(_, r)| *r)
            .collect();
        // Every available reference must agree: a consistently busy analyst is not bursting,
        // and a week busy for everyone (an incident) is not one analyst's burst.
        let hits: Vec<Comparison> = [
            ("their own other weeks", "weeks", own),
            ("peers that week", "peers", peers),
        ]
        .into_iter()
        .filter_map(|(what, unit, reference)| {
            Comparison::judge(what, unit, r, &reference, cfg.burst_threshold)
        })
        .collect();
        if hits.is_empty() || hits.iter().any(|c| !c.burst) {
            return None;
        }
        let driven = r.risky > 0 && hits.iter().all(|c| c.driven_by_risky);
        let label = iso_week_label(week);
        let against: Vec<String> = hits.iter().map(Comparison::describe).collect();
        Some(Finding {
            analysis: "analyst-case-actions",
            severity: if driven {
                Severity::High
            } else {
                Severity::Medium
            },
            actor: analyst.to_owned(),
            subject: label.clone(),
            ip: String::new(),
            first_seen_ns: r.first_ns,
            last_seen_ns: r.last_ns,
            count: r.total,
            summary: format!(
                "{analyst}, {label}: a burst of {} against {} (threshold {}){}: {}",
                plural(
                    r.total,
                    "case action or search",
                    "case actions and searches"
                ),
                against.join(" and "),
                cfg.burst_threshold,
                if driven {
                    format!("; driven by exports and deletions ({} this week)", r.risky)
                } else {
                    String::new()
                },
                self.breakdown(r)
            ),
            event_ids: r.ids(ids),
        })
    }
}

/// What each week is judged against, indexed once: every analyst's weeks (their own reference)
/// and every week's analysts with at least `min_weekly_actions` (the peers). Collecting them by a
/// scan of all rows for each week judged grew with the square of the analysts: a thousand
/// analysts over four weeks spent a third of the analysis there.
struct References<'w> {
    own: HashMap<&'w str, Vec<(NaiveDate, &'w WeekRow)>>,
    peers: HashMap<NaiveDate, Vec<(&'w str, &'w WeekRow)>>,
}

impl<'w> References<'w> {
    fn new(weekly: &'w Weekly, min_weekly_actions: u32) -> References<'w> {
        let mut refs = References {
            own: HashMap::new(),
            peers: HashMap::new(),
        };
        for ((analyst, week), r) in &weekly.rows {
            refs.own
                .entry(analyst.as_str())
                .or_default()
                .push((*week, r));
            if r.total >= u64::from(min_weekly_actions) {
                refs.peers
                    .entry(*week)
                    .or_default()
                    .push((analyst.as_str(), r));
            }
        }
        refs
    }
}

/// A week's total judged against one reference (own weeks or peers).
struct Comparison {
    what: &'static str,
    /// What the reference consists of ("weeks", "peers").
    unit: &'static str,
    n: usize,
    median: f64,
    z: f64,
    burst: bool,
    /// The week is not a burst once its exports and deletions are set to the reference's median.
    driven_by_risky: bool,
}

impl Comparison {
    /// `None` when the reference is too small to judge by.
    fn judge(
        what: &'static str,
        unit: &'static str,
        week: &WeekRow,
        reference: &[&WeekRow],
        threshold: f64,
    ) -> Option<Comparison> {
        if reference.len() < MIN_REFERENCE {
            return None;
        }
        let totals: Vec<f64> = reference.iter().map(|r| r.total as f64).collect();
        let robust = Robust::of(&totals);
        let x = week.total as f64;
        let z = robust.z(x);
        let risky: Vec<f64> = reference.iter().map(|r| r.risky as f64).collect();
        let usual_risky = median(&risky);
        let without = (x - week.risky as f64 + usual_risky).max(0.0);
        Some(Comparison {
            what,
            unit,
            n: reference.len(),
            median: robust.median,
            z,
            burst: z > threshold,
            driven_by_risky: robust.z(without) <= threshold,
        })
    }

    fn describe(&self) -> String {
        format!(
            "{} (median {} over {} {}, robust z {:.1})",
            self.what, self.median, self.n, self.unit, self.z
        )
    }
}

/// Median and MAD-based scale of a reference sample (see the module doc for the floor).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Robust {
    median: f64,
    scale: f64,
}

impl Robust {
    fn of(values: &[f64]) -> Robust {
        let m = median(values);
        let deviations: Vec<f64> = values.iter().map(|v| (v - m).abs()).collect();
        let mad = median(&deviations);
        Robust {
            median: m,
            scale: mad.max(MAD_CONSISTENCY * m.max(1.0).sqrt()),
        }
    }

    /// `0.6745 * (x - median) / scale`.
    fn z(&self, x: f64) -> f64 {
        MAD_CONSISTENCY * (x - self.median) / self.scale
    }
}

/// The median (0 for no values): the middle value, or the mean of the two middle values, in
/// `total_cmp` order. Found by selection rather than a sort: it runs three times for each week
/// judged, over a thousand peers on a large store.
fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    let n = v.len();
    if n == 0 {
        return 0.0;
    }
    let (below, &mut mid, _) = v.select_nth_unstable_by(n / 2, f64::total_cmp);
    if n % 2 == 1 {
        return mid;
    }
    // The other middle value is the largest of those below.
    let low = below.iter().copied().max_by(f64::total_cmp).unwrap_or(mid);
    (low + mid) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_types_are_in_the_catalog() {
        let c = Catalog::get();
        for t in [EXPORTED, DELETED] {
            assert!(
                c.by_api_name(t).is_some_and(|e| e.has(Tag::CaseAction)),
                "{t}"
            );
        }
        assert!(c.by_api_name(DELETED).and_then(|e| e.inverse).is_some());
        let k = Kinds::from_catalog();
        assert!(k.columns.iter().any(|c| c == "assignee_changed"));
        assert_eq!(k.columns.last().map(String::as_str), Some(SEARCHES));
        assert_eq!(k.index("search_issued"), Some(k.columns.len() - 1));
    }

    #[test]
    fn weeks_agree_with_chrono_and_polars() {
        use chrono::Datelike;
        let instants: Vec<i64> = [
            "2026-04-13T00:00:00Z",
            "2026-04-12T23:59:59.999999999Z",
            "2026-04-19T23:59:59Z",
            "2026-01-01T12:00:00Z",
            "1969-12-31T23:00:00Z",
            "1969-12-28T10:00:00Z",
        ]
        .iter()
        .map(|t| crate::time::parse_timestamp(t).unwrap())
        .collect();
        for &ns in &instants {
            let d = date_of(ns);
            let m = monday(week_index(ns));
            assert_eq!(m.weekday(), chrono::Weekday::Mon, "{d}");
            assert_eq!(m.iso_week(), d.iso_week(), "{d}");
        }
        let df = df!("ts" => instants.clone()).unwrap();
        let out = df
            .lazy()
            .select([
                ((col("ts") / lit(NANOS_PER_DAY) + lit(EPOCH_TO_MONDAY_DAYS)) / lit(7i64))
                    .alias("w"),
            ])
            .collect()
            .unwrap();
        let expected: Vec<i64> = instants.iter().map(|&ns| week_index(ns)).collect();
        assert_eq!(i64s(&out, "w").unwrap(), expected);
    }

    #[test]
    fn robust_z_and_its_floor() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        // MAD = 2 is below the floor 0.6745 * sqrt(10) = 2.13, so the floor applies.
        let r = Robust::of(&[8.0, 10.0, 12.0, 10.0, 14.0, 6.0]);
        assert_eq!(r.median, 10.0);
        assert!((r.scale - MAD_CONSISTENCY * 10f64.sqrt()).abs() < 1e-9);
        // At the floor the score is the Poisson one: (x - m) / sqrt(m).
        assert!((r.z(20.0) - 10.0 / 10f64.sqrt()).abs() < 1e-9);
        // A wide spread keeps its own MAD.
        let r = Robust::of(&[10.0, 30.0, 50.0, 70.0, 90.0]);
        assert_eq!(r.scale, 20.0);
        // MAD = 0: identical weeks do not make every wobble a burst.
        let r = Robust::of(&[20.0, 20.0, 20.0, 20.0]);
        assert!(r.z(22.0) < 3.5);
        assert!(r.z(60.0) > 3.5);
    }

    #[test]
    fn median_by_selection_equals_median_of_the_sorted_values() {
        // Small counts with many ties, odd and even lengths, in scrambled orders.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for n in 0..60 {
            let values: Vec<f64> = (0..n)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x % 9) as f64
                })
                .collect();
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let want = match n {
                0 => 0.0,
                n if n % 2 == 1 => sorted[n / 2],
                n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
            };
            assert_eq!(median(&values), want, "{values:?}");
        }
    }

    #[test]
    fn bursts_and_what_drives_them() {
        let week = |total: u64, risky: u64| WeekRow {
            total,
            risky,
            ..WeekRow::default()
        };
        let reference = [week(20, 1), week(22, 1), week(18, 0), week(21, 2)];
        let refs: Vec<&WeekRow> = reference.iter().collect();
        let judge =
            |w: WeekRow, refs: &[&WeekRow]| Comparison::judge("own", "weeks", &w, refs, 3.5);
        // Too small a reference: no judgement.
        assert!(judge(week(100, 0), &refs[..2]).is_none());
        // An ordinary week.
        assert!(!judge(week(24, 1), &refs).unwrap().burst);
        // Exports drive it.
        let c = judge(week(70, 50), &refs).unwrap();
        assert!(c.burst && c.driven_by_risky);
        // A burst of searches is not driven by exports.
        let c = judge(week(70, 1), &refs).unwrap();
        assert!(c.burst && !c.driven_by_risky);
    }
}
