/*! The filter options shared by `query`, `stats`, `analyze` and `report`, as the console offers them. */

use crate::error::{Error, Result};
use crate::filter::{Filter, FilterSpec};
use crate::model::catalog::OTHER_CATEGORY;
use crate::model::schema::cols;
use crate::store::Store;

/// Time-range options.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TimeArgs {
    /// Only events at or after this date or date-time (UTC unless an offset is given).
    #[arg(long, value_name = "WHEN")]
    pub from: Option<String>,
    /// Only events before this date-time; a bare date includes that whole day.
    #[arg(long, value_name = "WHEN")]
    pub to: Option<String>,
    /// Only the last period before now (or --as-of): 24h, 7d, 30d, 90d, or any Nh/Nd/Nw.
    #[arg(long, value_name = "PERIOD")]
    pub last: Option<String>,
    /// The instant --last counts back from (default: now).
    #[arg(long, value_name = "WHEN")]
    pub as_of: Option<String>,
    /// One ISO week, e.g. 2026-W16 (Monday to Sunday, UTC).
    #[arg(long, value_name = "YYYY-Www")]
    pub week: Option<String>,
}

impl TimeArgs {
    /// The period these options select, `[from, to)` in ns.
    pub fn period(&self) -> Result<(Option<i64>, Option<i64>)> {
        let spec = FilterSpec {
            from: self.from.clone(),
            to: self.to.clone(),
            last: self.last.clone(),
            as_of: self.as_of.clone(),
            week: self.week.clone(),
            ..FilterSpec::default()
        };
        let f = spec.resolve(&[], crate::time::from_datetime(chrono::Utc::now()))?;
        Ok((f.from_ns, f.to_ns))
    }
}

/// Who/what/where options (all repeatable; commas separate several values).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FilterArgs {
    #[command(flatten)]
    pub time: TimeArgs,
    /// Acting usernames (case-insensitive).
    #[arg(long, value_name = "NAME,...")]
    pub username: Vec<String>,
    /// Acting user ids.
    #[arg(long, value_name = "ID,...")]
    pub actor_id: Vec<String>,
    /// user, support (Code42 support user), api-client, system, unknown.
    #[arg(long, value_name = "TYPE,...")]
    pub user_type: Vec<String>,
    /// Event types by console label, API name or audit_log::name/1.
    #[arg(long, value_name = "TYPE,...")]
    pub event_type: Vec<String>,
    /// Every event type of a category (the console's "All events").
    #[arg(long, value_name = "NAME,...")]
    pub category: Vec<String>,
    /// IP addresses or CIDR blocks; matches any address of an event's proxy chain.
    #[arg(long, value_name = "IP|CIDR,...")]
    pub ip: Vec<String>,
    /// The affected user (name or id).
    #[arg(long, value_name = "NAME,...")]
    pub affected_user: Vec<String>,
}

impl FilterArgs {
    pub fn spec(&self) -> FilterSpec {
        FilterSpec {
            usernames: self.username.clone(),
            actor_ids: self.actor_id.clone(),
            user_types: self.user_type.clone(),
            last: self.time.last.clone(),
            as_of: self.time.as_of.clone(),
            from: self.time.from.clone(),
            to: self.time.to.clone(),
            week: self.time.week.clone(),
            event_types: self.event_type.clone(),
            categories: self.category.clone(),
            ips: self.ip.clone(),
            affected_users: self.affected_user.clone(),
        }
    }

    /// Resolve against the catalog and, for event types the catalog lacks, the store's own.
    pub fn resolve(&self, store: &Store) -> Result<Filter> {
        resolve_spec(&self.spec(), store)
    }
}

/// Resolve a spec; unknown event-type names are looked up among the store's uncatalogued types
/// only when needed (it costs a scan).
pub fn resolve_spec(spec: &FilterSpec, store: &Store) -> Result<Filter> {
    let now = crate::time::from_datetime(chrono::Utc::now());
    match spec.resolve(&[], now) {
        Err(Error::Usage(msg))
            if !spec.event_types.is_empty() && msg.starts_with("--event-type") =>
        {
            spec.resolve(&other_event_types(store)?, now)
        }
        other => other,
    }
}

/// Event types in the store that the catalog does not know.
fn other_event_types(store: &Store) -> Result<Vec<String>> {
    use polars::prelude::*;
    let df = store
        .scan(None)?
        .filter(col(cols::CATEGORY).eq(lit(OTHER_CATEGORY)))
        .select([col(cols::EVENT_TYPE)])
        .unique(None, UniqueKeepStrategy::Any)
        .collect()?;
    Ok(df
        .column(cols::EVENT_TYPE)?
        .str()?
        .iter()
        .flatten()
        .map(str::to_owned)
        .collect())
}
