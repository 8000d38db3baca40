/*!
The one event filter, used alike by `query`, `stats`, `analyze` and `report`: the console's filters
(usernames, user type, date range, event type or whole category, IP addresses) plus actor id and
affected user, which the console lacks.

As in the console, several values of one filter are alternatives (OR) and different filters must all
hold (AND). Names are resolved against the catalog before any data is read, so a misspelt event type
or category is an error listing the closest valid names, never a silently empty result.

A filter becomes a polars predicate for the lazy scan (so Parquet statistics and projection can
skip data) plus, for IP addresses and CIDR blocks, a check applied to the collected rows, since an
event matches when *any* address of its proxy chain does.
*/

use std::net::IpAddr;

use chrono::{Datelike, Duration, NaiveDate, Utc, Weekday};
use ipnet::IpNet;
use polars::prelude::*;

use crate::error::{Error, Result};
use crate::model::catalog::{Catalog, OTHER_CATEGORY, normalize_name};
use crate::model::event::ActorType;
use crate::model::schema::cols;
use crate::store::Store;
use crate::time::{from_naive, parse_timestamp, start_of_day};

/// A resolved filter. Empty lists mean "any".
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Actor usernames, lowercase.
    pub usernames: Vec<String>,
    pub actor_ids: Vec<String>,
    pub user_types: Vec<ActorType>,
    /// Half-open time range `[from, to)` in ns.
    pub from_ns: Option<i64>,
    pub to_ns: Option<i64>,
    /// Canonical event type names.
    pub event_types: Vec<String>,
    /// Catalog category names.
    pub categories: Vec<String>,
    /// Addresses and blocks; an event matches if any address in its chain is inside one.
    pub ips: Vec<IpNet>,
    /// Affected user names (lowercase) or ids.
    pub affected_users: Vec<String>,
}

impl Filter {
    /// The time range for partition pruning.
    pub fn time_range(&self) -> Option<(i64, i64)> {
        match (self.from_ns, self.to_ns) {
            (None, None) => None,
            (f, t) => Some((f.unwrap_or(i64::MIN), t.unwrap_or(i64::MAX))),
        }
    }

    /// The predicate on stored columns, without the IP part (see [`Filter::ip_mask`]).
    pub fn predicate(&self) -> Option<Expr> {
        let mut parts: Vec<Expr> = Vec::new();
        if !self.usernames.is_empty() {
            parts.push(
                col(cols::ACTOR_NAME)
                    .str()
                    .to_lowercase()
                    .is_in(list_lit(&self.usernames), false),
            );
        }
        if !self.actor_ids.is_empty() {
            parts.push(col(cols::ACTOR_ID).is_in(list_lit(&self.actor_ids), false));
        }
        if !self.user_types.is_empty() {
            let v: Vec<String> = self
                .user_types
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect();
            parts.push(col(cols::ACTOR_TYPE).is_in(list_lit(&v), false));
        }
        if let Some(f) = self.from_ns {
            parts.push(col(cols::TIMESTAMP_NS).gt_eq(lit(f)));
        }
        if let Some(t) = self.to_ns {
            parts.push(col(cols::TIMESTAMP_NS).lt(lit(t)));
        }
        // Event types and categories: an event matching either list passes (the console's
        // "All events" of a category combined with single types of other categories).
        let mut kinds: Vec<Expr> = Vec::new();
        if !self.event_types.is_empty() {
            kinds.push(col(cols::EVENT_TYPE).is_in(list_lit(&self.event_types), false));
        }
        if !self.categories.is_empty() {
            kinds.push(col(cols::CATEGORY).is_in(list_lit(&self.categories), false));
        }
        if let Some(k) = kinds.into_iter().reduce(|a, b| a.or(b)) {
            parts.push(k);
        }
        if !self.affected_users.is_empty() {
            let l = list_lit(&self.affected_users);
            parts.push(
                col(cols::AFFECTED_USER_NAME)
                    .str()
                    .to_lowercase()
                    .is_in(l.clone(), false)
                    .fill_null(lit(false))
                    .or(col(cols::AFFECTED_USER_ID)
                        .is_in(l, false)
                        .fill_null(lit(false))),
            );
        }
        parts.into_iter().reduce(|a, b| a.and(b))
    }

    /// Rows of `df` whose proxy chain has an address inside one of [`Filter::ips`].
    pub fn ip_mask(&self, df: &DataFrame) -> Result<Option<BooleanChunked>> {
        if self.ips.is_empty() {
            return Ok(None);
        }
        let lists = df.column(cols::IP_ADDRESSES)?.list()?;
        let mask: BooleanChunked = lists
            .amortized_iter()
            .map(|opt| {
                Some(opt.is_some_and(|s| {
                    s.as_ref().str().is_ok_and(|ca| {
                        ca.iter().flatten().any(|a| {
                            a.parse::<IpAddr>()
                                .is_ok_and(|ip| self.ips.iter().any(|net| net.contains(&ip)))
                        })
                    })
                }))
            })
            .collect();
        Ok(Some(mask))
    }

    /// A lazy scan of the store pruned by time, with the predicate pushed down: everything but
    /// the IP check ([`Filter::ip_mask`]), which runs on loaded rows.
    pub fn scan(&self, store: &Store) -> Result<LazyFrame> {
        let lf = store.scan(self.time_range())?;
        Ok(match self.predicate() {
            Some(p) => lf.filter(p),
            None => lf,
        })
    }

    /// Apply the filter to the store: [`Filter::scan`], then the IP check. `select` limits the
    /// columns read (the IP column is added when needed).
    pub fn load(&self, store: &Store, select: Option<&[&str]>) -> Result<DataFrame> {
        let mut lf = self.scan(store)?;
        if let Some(cols_wanted) = select {
            let mut names: Vec<&str> = cols_wanted.to_vec();
            if !self.ips.is_empty() && !names.contains(&cols::IP_ADDRESSES) {
                names.push(cols::IP_ADDRESSES);
            }
            lf = lf.select(names.iter().map(|n| col(*n)).collect::<Vec<_>>());
        }
        let df = lf.collect()?;
        match self.ip_mask(&df)? {
            Some(mask) => {
                let mut out = df.filter(&mask)?;
                if let Some(cols_wanted) = select
                    && !cols_wanted.contains(&cols::IP_ADDRESSES)
                {
                    out = out.drop(cols::IP_ADDRESSES)?;
                }
                Ok(out)
            }
            None => Ok(df),
        }
    }
}

/// A list literal for `is_in`.
pub fn list_lit(values: &[String]) -> Expr {
    lit(Series::new("values".into(), values)).implode(false)
}

/// Unresolved filter values as the user typed them (the CLI fills this).
#[derive(Debug, Clone, Default)]
pub struct FilterSpec {
    pub usernames: Vec<String>,
    pub actor_ids: Vec<String>,
    pub user_types: Vec<String>,
    pub last: Option<String>,
    pub as_of: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub week: Option<String>,
    pub event_types: Vec<String>,
    pub categories: Vec<String>,
    pub ips: Vec<String>,
    pub affected_users: Vec<String>,
}

/// Split repeatable, comma-separated values (`--username a,b --username c`).
fn split_values(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl FilterSpec {
    /// Resolve names and times. `other_types` are event types present in the store that the
    /// catalog does not know (accepted as `--event-type` values too); `now` anchors `--last`.
    pub fn resolve(&self, other_types: &[String], now: i64) -> Result<Filter> {
        let catalog = Catalog::get();
        let mut f = Filter {
            usernames: split_values(&self.usernames)
                .into_iter()
                .map(|u| u.to_lowercase())
                .collect(),
            actor_ids: split_values(&self.actor_ids),
            affected_users: split_values(&self.affected_users)
                .into_iter()
                .map(|u| u.to_lowercase())
                .collect(),
            ..Filter::default()
        };
        for t in split_values(&self.user_types) {
            let at = ActorType::parse(&t).ok_or_else(|| {
                Error::Usage(format!(
                    "--user-type {t:?}: use one of user, support, api-client, system, unknown"
                ))
            })?;
            f.user_types.push(at);
        }
        for t in split_values(&self.event_types) {
            if let Some(e) = catalog.lookup(&t) {
                f.event_types.push(e.api_name.to_owned());
                continue;
            }
            let n = normalize_name(&t);
            if let Some(o) = other_types.iter().find(|o| normalize_name(o) == n) {
                f.event_types.push(o.clone());
                continue;
            }
            let candidates: Vec<&str> = catalog
                .spellings()
                .chain(other_types.iter().map(String::as_str))
                .collect();
            return Err(Error::Usage(format!(
                "--event-type {t:?} is not a known event type; closest: {} (see `auditlens event-types`)",
                closest(&t, &candidates, 5).join(", ")
            )));
        }
        for c in split_values(&self.categories) {
            match catalog.category(&c) {
                Some(name) => f.categories.push(name.to_owned()),
                None => {
                    let mut all: Vec<&str> = catalog.categories().to_vec();
                    all.push(OTHER_CATEGORY);
                    return Err(Error::Usage(format!(
                        "--category {c:?} is not a category; closest: {} (all: {})",
                        closest(&c, &all, 3).join(", "),
                        all.join(", ")
                    )));
                }
            }
        }
        for ip in split_values(&self.ips) {
            let net = ip
                .parse::<IpNet>()
                .or_else(|_| ip.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    Error::Usage(format!(
                        "--ip {ip:?} is neither an IP address nor a CIDR block"
                    ))
                })?;
            f.ips.push(net);
        }
        let (from, to) = self.time_bounds(now)?;
        f.from_ns = from;
        f.to_ns = to;
        Ok(f)
    }

    fn time_bounds(&self, now: i64) -> Result<(Option<i64>, Option<i64>)> {
        if let Some(w) = &self.week {
            if self.from.is_some() || self.to.is_some() || self.last.is_some() {
                return Err(Error::Usage(
                    "--week cannot be combined with --from, --to or --last".into(),
                ));
            }
            let (start, end) = parse_iso_week(w)?;
            return Ok((Some(start), Some(end)));
        }
        if let Some(last) = &self.last {
            if self.from.is_some() || self.to.is_some() {
                return Err(Error::Usage(
                    "--last cannot be combined with --from or --to".into(),
                ));
            }
            let anchor = match &self.as_of {
                Some(a) => parse_instant(a, "--as-of", false)?,
                None => now,
            };
            let d = parse_duration(last)?;
            return Ok((Some(anchor - d), Some(anchor)));
        }
        if self.as_of.is_some() {
            return Err(Error::Usage("--as-of only anchors --last".into()));
        }
        let from = self
            .from
            .as_deref()
            .map(|s| parse_instant(s, "--from", false))
            .transpose()?;
        let to = self
            .to
            .as_deref()
            .map(|s| parse_instant(s, "--to", true))
            .transpose()?;
        if let (Some(f), Some(t)) = (from, to)
            && f >= t
        {
            return Err(Error::Usage("--from must be before --to".into()));
        }
        Ok((from, to))
    }
}

/// A date (`2026-04-13`) or a date-time (UTC unless an offset is given). A bare date used as an
/// end (`end_of_day`) means the end of that day, so `--to 2026-04-13` includes all of it.
pub fn parse_instant(s: &str, what: &str, end_of_day: bool) -> Result<i64> {
    let t = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        let start = start_of_day(d);
        return Ok(if end_of_day {
            start + crate::time::NANOS_PER_DAY
        } else {
            start
        });
    }
    if t.eq_ignore_ascii_case("now") {
        return Ok(crate::time::from_datetime(Utc::now()));
    }
    parse_timestamp(t).map_err(|e| {
        Error::Usage(format!(
            "{what} {s:?}: {e}; use a date (2026-04-13) or a date-time (2026-04-13T09:30:00Z)"
        ))
    })
}

/// `24h`, `7d`, `30d`, `90d`, `2w`, `45m`.
pub fn parse_duration(s: &str) -> Result<i64> {
    let t = s.trim();
    let bad = || {
        Error::Usage(format!(
            "--last {s:?}: use a number and a unit, such as 24h, 7d, 30d, 90d or 2w"
        ))
    };
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?);
    let n: i64 = num.parse().map_err(|_| bad())?;
    let d = match unit {
        "m" | "min" => Duration::minutes(n),
        "h" => Duration::hours(n),
        "d" => Duration::days(n),
        "w" => Duration::weeks(n),
        _ => return Err(bad()),
    };
    d.num_nanoseconds().filter(|&x| x > 0).ok_or_else(bad)
}

/// `2026-W16` -> `[Monday 00:00, next Monday 00:00)` in UTC.
pub fn parse_iso_week(s: &str) -> Result<(i64, i64)> {
    let bad = || Error::Usage(format!("--week {s:?}: use an ISO week such as 2026-W16"));
    let (y, w) = s.trim().split_once(['W', 'w']).ok_or_else(bad)?;
    let year: i32 = y.trim_end_matches('-').parse().map_err(|_| bad())?;
    let week: u32 = w.parse().map_err(|_| bad())?;
    let monday = NaiveDate::from_isoywd_opt(year, week, Weekday::Mon).ok_or_else(bad)?;
    let start = from_naive(monday.and_hms_opt(0, 0, 0).ok_or_else(bad)?);
    Ok((start, start + 7 * crate::time::NANOS_PER_DAY))
}

/// The ISO week label (`2026-W16`) of a date.
pub fn iso_week_label(d: NaiveDate) -> String {
    let w = d.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

/// The `n` candidates closest to `input` (edit distance on normalised names; substrings first).
pub fn closest<'a>(input: &str, candidates: &[&'a str], n: usize) -> Vec<&'a str> {
    let key = normalize_name(input);
    let mut scored: Vec<(usize, &str)> = candidates
        .iter()
        .map(|c| {
            let ck = normalize_name(c);
            let d = if !key.is_empty() && (ck.contains(&key) || key.contains(&ck)) {
                0
            } else {
                levenshtein(&key, &ck)
            };
            (d, *c)
        })
        .collect();
    scored.sort();
    let mut out: Vec<&str> = Vec::new();
    for (_, c) in scored {
        if !out.iter().any(|o| normalize_name(o) == normalize_name(c)) {
            out.push(c);
        }
        if out.len() == n {
            break;
        }
    }
    out
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        let d = parse_instant("2026-04-13", "--to", true).unwrap();
        assert_eq!(d, parse_timestamp("2026-04-14T00:00:00Z").unwrap());
        assert_eq!(
            parse_duration("7d").unwrap(),
            7 * crate::time::NANOS_PER_DAY
        );
        assert!(
            parse_duration("7").is_err()
                && parse_duration("d").is_err()
                && parse_duration("0d").is_err()
        );
        let (s, e) = parse_iso_week("2026-W16").unwrap();
        assert_eq!(s, parse_timestamp("2026-04-13T00:00:00Z").unwrap());
        assert_eq!(e - s, 7 * crate::time::NANOS_PER_DAY);
        assert!(parse_iso_week("2026-W54").is_err());
        assert_eq!(
            iso_week_label(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()),
            "2026-W01"
        );
    }

    #[test]
    fn unknown_names_suggest_close_ones() {
        let spec = FilterSpec {
            event_types: vec!["Console logn".into()],
            ..FilterSpec::default()
        };
        let e = spec.resolve(&[], 0).unwrap_err().to_string();
        assert!(e.contains("Console login"), "{e}");
        let spec = FilterSpec {
            categories: vec!["case".into()],
            ..FilterSpec::default()
        };
        let e = spec.resolve(&[], 0).unwrap_err().to_string();
        assert!(e.contains("Cases"), "{e}");
        let spec = FilterSpec {
            event_types: vec!["brand_new_event".into()],
            ..FilterSpec::default()
        };
        assert_eq!(
            spec.resolve(&["brand_new_event".into()], 0)
                .unwrap()
                .event_types,
            ["brand_new_event"]
        );
    }

    #[test]
    fn values_split_and_resolve() {
        let spec = FilterSpec {
            usernames: vec!["Alice@X.com, bob@x.com".into()],
            user_types: vec!["support".into(), "api-client".into()],
            event_types: vec!["audit_log::logged_in/1".into(), "Add user".into()],
            categories: vec!["file ACCESS".into()],
            ips: vec!["203.0.113.0/24,2001:db8::7".into()],
            ..FilterSpec::default()
        };
        let f = spec.resolve(&[], 0).unwrap();
        assert_eq!(f.usernames, ["alice@x.com", "bob@x.com"]);
        assert_eq!(f.user_types, [ActorType::SupportUser, ActorType::ApiClient]);
        assert_eq!(f.event_types, ["logged_in", "user_registered"]);
        assert_eq!(f.categories, ["File access"]);
        assert_eq!(f.ips.len(), 2);
    }
}
