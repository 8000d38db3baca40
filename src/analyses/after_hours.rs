/*!
after-hours-admin: administrative changes made outside business hours or on a weekend (in the
configured time zone), one finding per actor and local day. Privilege changes make it medium,
other administrative changes low: unusual timing alone is a question, not an incident. Changes by
SYSTEM are left out: scheduled automation runs at night by design (its privilege changes are still
in the privilege-change ledger).
*/

use std::collections::BTreeMap;

use chrono::Datelike;

use super::common::{evidence, label_counts, plural};
use super::{Analysis, Context, Finding, Output, Select, Severity};
use crate::error::Result;
use crate::model::ActorType;
use crate::model::catalog::{Catalog, Tag};
use crate::model::schema::cols;

pub struct AfterHoursAdmin;

impl Analysis for AfterHoursAdmin {
    fn name(&self) -> &'static str {
        "after-hours-admin"
    }

    fn description(&self) -> &'static str {
        "administrative changes outside business hours or on weekends, per actor and day"
    }

    fn run(&self, ctx: &Context<'_>) -> Result<Output> {
        let df = ctx.events(
            Select::Tagged(Tag::Admin),
            &[
                cols::EVENT_ID,
                cols::EVENT_TYPE,
                cols::EVENT_LABEL,
                cols::ACTOR_NAME,
                cols::ACTOR_TYPE,
                cols::CLIENT_IP,
            ],
            Some(0),
        )?;
        let ids = df.event_ids(ctx.store)?;
        let types = df.strs(cols::EVENT_TYPE)?;
        let labels = df.strs(cols::EVENT_LABEL)?;
        let actors = df.strs(cols::ACTOR_NAME)?;
        let actor_types = df.strs(cols::ACTOR_TYPE)?;
        let ips = df.strs(cols::CLIENT_IP)?;
        let ts = df.i64s(cols::TIMESTAMP_NS)?;
        let catalog = Catalog::get();
        let cfg = ctx.config;
        // (actor, local date) -> row indexes
        let mut groups: BTreeMap<(String, chrono::NaiveDate), Vec<usize>> = BTreeMap::new();
        for i in 0..df.height() {
            if !ctx.in_period(ts[i]) || !cfg.after_hours(ts[i]) {
                continue;
            }
            let Some(actor) = actors[i] else { continue };
            if actor_types[i] == Some(ActorType::System.as_str()) {
                continue;
            }
            let local = crate::time::to_datetime(ts[i])
                .with_timezone(&cfg.timezone)
                .date_naive();
            groups.entry((actor.to_owned(), local)).or_default().push(i);
        }
        let hours = format!(
            "{}-{} {}",
            cfg.business_hours.0.format("%H:%M"),
            cfg.business_hours.1.format("%H:%M"),
            cfg.timezone.name()
        );
        let mut out = Vec::new();
        for ((actor, day), rows) in groups {
            let privileged = rows.iter().any(|&i| {
                types[i]
                    .and_then(|t| catalog.by_api_name(t))
                    .is_some_and(|e| e.has(Tag::Privilege))
            });
            let what = label_counts(rows.iter().map(|&i| labels[i].unwrap_or("?")));
            let weekend = cfg.weekend.contains(&day.weekday());
            let n = rows.len() as u64;
            out.push(Finding {
                analysis: self.name(),
                severity: if privileged {
                    Severity::Medium
                } else {
                    Severity::Low
                },
                actor: actor.clone(),
                subject: String::new(),
                ip: rows
                    .iter()
                    .find_map(|&i| ips[i])
                    .unwrap_or_default()
                    .to_owned(),
                first_seen_ns: ts[rows[0]],
                last_seen_ns: ts[rows[rows.len() - 1]],
                count: n,
                summary: format!(
                    "{actor} made {} {} on {} {day} ({}): {}",
                    plural(n, "administrative change", "administrative changes"),
                    if weekend {
                        "on a weekend day"
                    } else {
                        "outside business hours"
                    },
                    day.weekday(),
                    if weekend {
                        "weekend".to_owned()
                    } else {
                        format!("business hours {hours}")
                    },
                    what
                ),
                event_ids: evidence(rows.iter().filter_map(|&i| ids[i])),
            });
        }
        Ok(out.into())
    }
}
