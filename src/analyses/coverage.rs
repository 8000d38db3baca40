/*!
coverage-gaps: days without a single event inside the period, and stretches no ingested export
covered. The console keeps only 90 days, so an auditor must explain each gap before it becomes
permanent. The figures come from [`crate::stats`], the code `auditlens stats` uses: the empty days
from the manifest ([`crate::stats::empty_days`]), without counting the period's events.
*/

use polars::prelude::*;

use super::{Analysis, Context, Finding, Output, Severity, common};
use crate::error::Result;
use crate::filter::Filter;
use crate::model::EventId;
use crate::model::schema::cols;
use crate::stats::{empty_days, uncovered};
use crate::time::{NANOS_PER_DAY, parse_timestamp};

pub struct CoverageGaps;

impl Analysis for CoverageGaps {
    fn name(&self) -> &'static str {
        "coverage-gaps"
    }

    fn description(&self) -> &'static str {
        "days without any event and time no ingested export covers (data the console will delete)"
    }

    fn run(&self, ctx: &Context<'_>) -> Result<Output> {
        let filter = Filter {
            from_ns: ctx.from_ns,
            to_ns: ctx.to_ns,
            ..Filter::default()
        };
        let mut out = Vec::new();
        for gap in &empty_days(ctx.store, ctx.from_ns, ctx.to_ns)? {
            let (Ok(from), Ok(to)) = (
                parse_timestamp(&format!("{}T00:00:00Z", gap.from)),
                parse_timestamp(&format!("{}T00:00:00Z", gap.to)),
            ) else {
                continue;
            };
            let to = to + NANOS_PER_DAY;
            let ids = bounding_events(ctx, from, to)?;
            out.push(Finding {
                analysis: self.name(),
                severity: Severity::Info,
                actor: String::new(),
                subject: format!("{} .. {}", gap.from, gap.to),
                ip: String::new(),
                first_seen_ns: from,
                last_seen_ns: to - 1,
                count: gap.days,
                summary: format!(
                    "No events at all from {} to {} ({} day(s)); the events before and after the gap are the evidence. \
                     Check that no export is missing before the console's 90-day window closes.",
                    gap.from, gap.to, gap.days
                ),
                event_ids: ids,
            });
        }
        for gap in &uncovered(ctx.store, &filter) {
            let (Ok(from), Ok(to)) = (parse_timestamp(&gap.from), parse_timestamp(&gap.to)) else {
                continue;
            };
            out.push(Finding {
                analysis: self.name(),
                severity: Severity::Info,
                actor: String::new(),
                subject: format!("{} .. {}", gap.from, gap.to),
                ip: String::new(),
                first_seen_ns: from,
                last_seen_ns: to,
                count: 0,
                summary: format!(
                    "No ingested export covers {} to {} ({} hours): the last export before ends and the next begins \
                     there; ingest the missing export if one exists.",
                    gap.from, gap.to, gap.hours
                ),
                event_ids: bounding_events(ctx, from, to)?,
            });
        }
        Ok(out.into())
    }
}

/// The last event before `from` and the first at or after `to`.
fn bounding_events(ctx: &Context<'_>, from: i64, to: i64) -> Result<Vec<EventId>> {
    let one = |pred: Expr, desc: bool| -> Result<Option<EventId>> {
        let df = ctx
            .store
            .scan(None)?
            .filter(pred)
            .select([col(cols::EVENT_ID), col(cols::TIMESTAMP_NS)])
            .sort(
                [cols::TIMESTAMP_NS],
                SortMultipleOptions::default().with_order_descending(desc),
            )
            .limit(1)
            .collect()?;
        Ok(common::event_ids(&df, ctx.store.root())?
            .first()
            .copied()
            .flatten())
    };
    Ok([
        one(col(cols::TIMESTAMP_NS).lt(lit(from)), true)?,
        one(col(cols::TIMESTAMP_NS).gt_eq(lit(to)), false)?,
    ]
    .into_iter()
    .flatten()
    .collect())
}
