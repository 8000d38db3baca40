/*!
Coverage statistics: events per period and category, first and last event, days without events,
stretches of time no ingested export covered, and event types the catalog does not know.

The console keeps 90 days, so a week nobody exported is lost for good; an auditor must be able to
see and explain such gaps. `stats` prints these figures and the weekly report uses this same code.
*/

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;
use serde::Serialize;

use crate::error::Result;
use crate::filter::{Filter, iso_week_label};
use crate::model::catalog::{Catalog, OTHER_CATEGORY};
use crate::model::schema::cols;
use crate::store::Store;
use crate::time::{NANOS_PER_DAY, date_of, format_timestamp};

/// Period granularity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    Day,
    Week,
    Month,
}

impl Period {
    /// The period label of a date and the first day of that period.
    pub fn of(self, d: NaiveDate) -> (String, NaiveDate) {
        match self {
            Period::Day => (d.to_string(), d),
            Period::Week => {
                let monday =
                    d - chrono::Duration::days(i64::from(d.weekday().num_days_from_monday()));
                (iso_week_label(d), monday)
            }
            Period::Month => (
                format!("{:04}-{:02}", d.year(), d.month()),
                d.with_day(1).unwrap_or(d),
            ),
        }
    }

    fn next(self, start: NaiveDate) -> NaiveDate {
        match self {
            Period::Day => start + chrono::Duration::days(1),
            Period::Week => start + chrono::Duration::days(7),
            Period::Month => start
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(NaiveDate::MAX),
        }
    }
}

/// Events of one period.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PeriodCounts {
    pub period: String,
    /// First day of the period.
    pub start: String,
    pub total: u64,
    /// Every category of [`Stats::categories`], zero included.
    pub by_category: BTreeMap<String, u64>,
}

/// A run of consecutive days.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DayRange {
    pub from: String,
    pub to: String,
    pub days: u64,
}

/// A stretch of time between ingested exports that no export covered.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TimeGap {
    pub from: String,
    pub to: String,
    pub hours: f64,
}

/// An event type the catalog does not know, with how often it occurs.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TypeCount {
    pub event_type: String,
    pub label: String,
    pub count: u64,
}

/// Everything `stats` reports.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Stats {
    pub period: Period,
    pub total_events: u64,
    pub first_event: Option<String>,
    pub last_event: Option<String>,
    /// Categories with events, console order, `Other` last.
    pub categories: Vec<String>,
    pub periods: Vec<PeriodCounts>,
    /// Days without a single event between the first and the last event.
    pub empty_days: Vec<DayRange>,
    /// Gaps of more than a day between the time ranges of the ingested exports.
    pub uncovered: Vec<TimeGap>,
    pub unknown_event_types: Vec<TypeCount>,
    pub sources: u64,
}

/// Minimum length of a gap between exports that is worth reporting.
const UNCOVERED_MIN_NS: i64 = NANOS_PER_DAY;

/// Events of one day and category: how many, and the first and last instant.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DayCount {
    /// Days since the epoch (UTC).
    pub day: i64,
    pub category: String,
    pub events: u64,
    pub first_ns: i64,
    pub last_ns: i64,
}

/// Count events of `filter` per day and category (the basis of every figure here), with each
/// group's first and last instant: one scan of two columns gives the counts and the period's
/// first and last event, which used to take a scan each.
pub fn day_category_counts(store: &Store, filter: &Filter) -> Result<Vec<DayCount>> {
    // The instant's day as its first nanosecond: polars' integer `%` is a floored modulo, so this
    // holds for instants before 1970 too (and needs neither the datetime column nor a division,
    // which polars does in floating point or behind its `round_series` feature).
    let ns = || col(cols::TIMESTAMP_NS);
    let by = || {
        [
            (ns() - ns() % lit(NANOS_PER_DAY)).alias("day"),
            col(cols::CATEGORY),
        ]
    };
    let aggs = || {
        [
            len().alias("n"),
            ns().min().alias("first"),
            ns().max().alias("last"),
        ]
    };
    let df = if filter.ips.is_empty() {
        let lf = filter.scan(store)?;
        // Streaming: the in-memory engine held both columns of every file at once (740 MB for
        // 5M events) to produce a few hundred rows.
        lf.group_by(by())
            .agg(aggs())
            .collect_with_engine(Engine::Streaming)?
            .unwrap_single()
    } else {
        filter
            .load(store, Some(&[cols::TIMESTAMP_NS, cols::CATEGORY]))?
            .lazy()
            .group_by(by())
            .agg(aggs())
            .collect()?
    };
    let days = df.column("day")?.i64()?;
    let cats = df.column(cols::CATEGORY)?.str()?;
    let n = df.column("n")?.cast(&DataType::UInt64)?;
    let n = n.u64()?;
    let first = df.column("first")?.i64()?;
    let last = df.column("last")?.i64()?;
    let mut out = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        if let (Some(start), Some(c), Some(events), Some(first_ns), Some(last_ns)) = (
            days.get(i),
            cats.get(i),
            n.get(i),
            first.get(i),
            last.get(i),
        ) {
            out.push(DayCount {
                day: start.div_euclid(NANOS_PER_DAY),
                category: c.to_owned(),
                events,
                first_ns,
                last_ns,
            });
        }
    }
    out.sort();
    Ok(out)
}

/// Compute the statistics of the events `filter` selects.
pub fn compute(store: &Store, filter: &Filter, period: Period) -> Result<Stats> {
    let counts = day_category_counts(store, filter)?;
    let first = counts.iter().map(|c| c.first_ns).min();
    let last = counts.iter().map(|c| c.last_ns).max();
    let catalog = Catalog::get();
    let present: std::collections::HashSet<&str> =
        counts.iter().map(|c| c.category.as_str()).collect();
    let mut categories: Vec<String> = catalog
        .categories()
        .iter()
        .filter(|c| present.contains(**c))
        .map(|c| c.to_string())
        .collect();
    if present.contains(OTHER_CATEGORY) {
        categories.push(OTHER_CATEGORY.to_owned());
    }

    let mut periods: Vec<PeriodCounts> = Vec::new();
    let mut per_day: BTreeMap<i64, u64> = BTreeMap::new();
    for c in &counts {
        *per_day.entry(c.day).or_default() += c.events;
    }
    if let (Some(&first_day), Some(&last_day)) = (per_day.keys().next(), per_day.keys().next_back())
    {
        // Every period from the first to the last event, empty ones included.
        let mut index: HashMap<String, usize> = HashMap::new();
        let (_, mut start) = period.of(date_of(first_day * NANOS_PER_DAY));
        let end = date_of(last_day * NANOS_PER_DAY);
        while start <= end {
            let (label, s) = period.of(start);
            index.insert(label.clone(), periods.len());
            periods.push(PeriodCounts {
                period: label,
                start: s.to_string(),
                total: 0,
                by_category: categories.iter().map(|c| (c.clone(), 0)).collect(),
            });
            start = period.next(s);
        }
        for c in &counts {
            let (label, _) = period.of(date_of(c.day * NANOS_PER_DAY));
            if let Some(&i) = index.get(&label) {
                periods[i].total += c.events;
                *periods[i]
                    .by_category
                    .entry(c.category.clone())
                    .or_default() += c.events;
            }
        }
    }
    let empty_days = empty_runs(per_day.keys().copied());
    Ok(Stats {
        period,
        total_events: counts.iter().map(|c| c.events).sum(),
        first_event: first.map(format_timestamp),
        last_event: last.map(format_timestamp),
        categories,
        periods,
        empty_days,
        uncovered: uncovered(store, filter),
        // Unknown types are counted under `Other`: without such events there is nothing to list.
        unknown_event_types: if present.contains(OTHER_CATEGORY) {
            unknown_types(store, filter)?
        } else {
            Vec::new()
        },
        sources: store.manifest().sources.len() as u64,
    })
}

/// The runs of days without events between the first and the last of `days` (days since the
/// epoch, ascending).
fn empty_runs(days: impl IntoIterator<Item = i64>) -> Vec<DayRange> {
    let mut runs = Vec::new();
    let mut prev: Option<i64> = None;
    for d in days {
        if let Some(p) = prev
            && d > p + 1
        {
            runs.push(day_range(p + 1, d - 1));
        }
        prev = Some(d);
    }
    runs
}

/// [`Stats::empty_days`] of the events in `[from, to)` (`None`: unbounded), from the manifest
/// rather than by counting: each part holds events of one UTC day, and its time range tells
/// whether they lie in the period. Only a day that the period's start or end cuts through is
/// looked for in the store (none for a period of whole days such as a week). The coverage-gaps
/// analysis needs nothing else of [`compute`], whose counts read two columns of every event.
pub fn empty_days(store: &Store, from: Option<i64>, to: Option<i64>) -> Result<Vec<DayRange>> {
    let (lo, hi) = (from.unwrap_or(i64::MIN), to.unwrap_or(i64::MAX));
    let mut days = BTreeSet::new();
    let mut cut = BTreeSet::new();
    for p in &store.manifest().parts {
        if p.rows == 0 || p.max_ns < lo || p.min_ns >= hi {
            continue;
        }
        let day = p.min_ns.div_euclid(NANOS_PER_DAY);
        if lo <= p.min_ns && p.max_ns < hi {
            days.insert(day);
        } else {
            cut.insert(day);
        }
    }
    for day in cut {
        if days.contains(&day) {
            continue;
        }
        let start = day.saturating_mul(NANOS_PER_DAY);
        let (a, b) = (lo.max(start), hi.min(start.saturating_add(NANOS_PER_DAY)));
        let any = store
            .scan(Some((a, b)))?
            .filter(
                col(cols::TIMESTAMP_NS)
                    .gt_eq(lit(a))
                    .and(col(cols::TIMESTAMP_NS).lt(lit(b))),
            )
            .select([col(cols::TIMESTAMP_NS)])
            .limit(1)
            .collect()?;
        if any.height() > 0 {
            days.insert(day);
        }
    }
    Ok(empty_runs(days))
}

fn day_range(a: i64, b: i64) -> DayRange {
    DayRange {
        from: date_of(a * NANOS_PER_DAY).to_string(),
        to: date_of(b * NANOS_PER_DAY).to_string(),
        days: (b - a + 1) as u64,
    }
}

/// Gaps between the merged event-time ranges of every ingested export, within the filter's range.
pub fn uncovered(store: &Store, filter: &Filter) -> Vec<TimeGap> {
    let mut ranges: Vec<(i64, i64)> = store
        .manifest()
        .sources
        .iter()
        .filter_map(|s| Some((s.first_event_ns?, s.last_event_ns?)))
        .collect();
    ranges.sort_unstable();
    let mut merged: Vec<(i64, i64)> = Vec::new();
    for (a, b) in ranges {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    let (lo, hi) = filter.time_range().unwrap_or((i64::MIN, i64::MAX));
    merged
        .windows(2)
        .filter_map(|w| {
            let (from, to) = (w[0].1.max(lo), w[1].0.min(hi));
            (to - from > UNCOVERED_MIN_NS).then(|| TimeGap {
                from: format_timestamp(from),
                to: format_timestamp(to),
                hours: ((to - from) as f64 / 3.6e12 * 10.0).round() / 10.0,
            })
        })
        .collect()
}

fn unknown_types(store: &Store, filter: &Filter) -> Result<Vec<TypeCount>> {
    let other = || col(cols::CATEGORY).eq(lit(OTHER_CATEGORY));
    let count = |lf: LazyFrame| {
        lf.group_by([col(cols::EVENT_TYPE), col(cols::EVENT_LABEL)])
            .agg([len().alias("n")])
            // Most frequent first; ties by name, so the order does not depend on the scan's.
            .sort(
                ["n", cols::EVENT_TYPE, cols::EVENT_LABEL],
                SortMultipleOptions::default().with_order_descending_multi([true, false, false]),
            )
    };
    let df = if filter.ips.is_empty() {
        count(filter.scan(store)?.filter(other()))
            .collect_with_engine(Engine::Streaming)?
            .unwrap_single()
    } else {
        // The address part of the filter applies to loaded rows (as for the counts).
        let rows = filter.load(
            store,
            Some(&[cols::EVENT_TYPE, cols::EVENT_LABEL, cols::CATEGORY]),
        )?;
        count(rows.lazy().filter(other())).collect()?
    };
    let t = df.column(cols::EVENT_TYPE)?.str()?;
    let l = df.column(cols::EVENT_LABEL)?.str()?;
    let n = df.column("n")?.cast(&DataType::UInt64)?;
    let n = n.u64()?;
    Ok((0..df.height())
        .map(|i| TypeCount {
            event_type: t.get(i).unwrap_or_default().to_owned(),
            label: l.get(i).unwrap_or_default().to_owned(),
            count: n.get(i).unwrap_or_default(),
        })
        .collect())
}

/// The per-period table as a frame (period, start, total, one column per category).
pub fn periods_frame(s: &Stats) -> Result<DataFrame> {
    let n = s.periods.len();
    let mut columns = vec![
        Column::new(
            "period".into(),
            s.periods
                .iter()
                .map(|p| p.period.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "start".into(),
            s.periods
                .iter()
                .map(|p| p.start.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "total".into(),
            s.periods.iter().map(|p| p.total).collect::<Vec<_>>(),
        ),
    ];
    for c in &s.categories {
        columns.push(Column::new(
            c.as_str().into(),
            s.periods
                .iter()
                .map(|p| p.by_category.get(c).copied().unwrap_or(0))
                .collect::<Vec<_>>(),
        ));
    }
    Ok(DataFrame::new(n, columns)?)
}
