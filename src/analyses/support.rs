/*!
support-user-activity: everything the Code42 support user did, and whether support access was
switched on at the time; plus the accounts the support user created and what those did.

Support access is switched on and off in the console ("Code42 support user access enabled" /
"... disabled": catalog tag `support_access` with `grant` / `revoke`). Those switches cut time into
windows `[enabled, next disabled)`, built from all history in the store. Every action by an actor of
type Code42 support user inside the period is placed against them:

| where the action fell | finding | severity |
|---|---|---|
| inside a window | one per support user and window, with counts per event type | info; low when it includes privilege changes, file access or user creation |
| before the data's first `disabled`, with no `enabled` before it | one per support user: the window began before the data, so whether access was granted cannot be told from it | medium |
| outside every window (access was off) | one per support user and stretch between two windows | high |

Window rules: an `enabled` without a later `disabled` stays open to the end of the data (the
summary says so); a second `enabled` while a window is open does not restart it; a `disabled` while
access is already off changes nothing. A support user switching support access itself always counts
as outside: a window cannot authorise its own opening.

Accounts created by a support user (catalog tag `user_created` - "Add user" - with a support actor;
the console help page's own recipe for finding them) are followed:
- one finding per created account: medium, an account made by the vendor;
- one finding for what that account then did within `support.follow_created_users` of its
  creation: medium, high when it includes privilege changes or file access.
*/

use std::collections::BTreeMap;

use polars::prelude::*;

use super::common::{evidence, label_counts, plural};
use super::{Analysis, Context, Finding, Ordered, Output, Select, Severity};
use crate::config::Config;
use crate::error::Result;
use crate::filter::list_lit;
use crate::model::catalog::{Catalog, Tag};
use crate::model::event::{ActorType, EventId};
use crate::model::schema::cols;
use crate::store::Store;
use crate::time::format_timestamp;

pub struct SupportUserActivity;

/// Support access switched on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Switch {
    On,
    Off,
}

/// A stretch of time during which support access was on.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Window {
    /// `None`: began before the data (the data's first switch is an `Off`).
    start: Option<i64>,
    /// `None`: still open at the end of the data.
    end: Option<i64>,
    /// Indexes (into the switch list) of the switches that opened and closed it.
    opened_by: Option<usize>,
    closed_by: Option<usize>,
}

impl Window {
    fn contains(&self, t: i64) -> bool {
        self.start.is_none_or(|s| t >= s) && self.end.is_none_or(|e| t < e)
    }
}

/// Where an action fell relative to the windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    /// Inside window `i`.
    Inside(usize),
    /// Inside window `i`, which began before the data.
    Unknown(usize),
    /// Outside every window, after `n` windows had ended (which gap between windows).
    Outside(usize),
}

/// The windows a time-ordered list of switches describes.
fn windows(switches: &[(i64, Switch)]) -> Vec<Window> {
    let mut out = Vec::new();
    let mut open: Option<(i64, usize)> = None;
    for (i, &(t, s)) in switches.iter().enumerate() {
        match (s, open) {
            (Switch::On, None) => open = Some((t, i)),
            // Already on: the earlier `enabled` is when access began.
            (Switch::On, Some(_)) => {}
            (Switch::Off, Some((start, o))) => {
                out.push(Window {
                    start: Some(start),
                    end: Some(t),
                    opened_by: Some(o),
                    closed_by: Some(i),
                });
                open = None;
            }
            // The first switch in the data turns access off: it was on since before the data.
            (Switch::Off, None) if i == 0 => out.push(Window {
                start: None,
                end: Some(t),
                opened_by: None,
                closed_by: Some(i),
            }),
            // Already off: nothing changes.
            (Switch::Off, None) => {}
        }
    }
    if let Some((start, o)) = open {
        out.push(Window {
            start: Some(start),
            end: None,
            opened_by: Some(o),
            closed_by: None,
        });
    }
    out
}

/// Where an action at `t` fell (windows are in time order and do not overlap).
fn place(windows: &[Window], t: i64) -> Place {
    match windows.iter().position(|w| w.contains(t)) {
        Some(i) if windows[i].start.is_none() => Place::Unknown(i),
        Some(i) => Place::Inside(i),
        None => gap(windows, t),
    }
}

/// The stretch between windows an instant outside all of them falls in.
fn gap(windows: &[Window], t: i64) -> Place {
    Place::Outside(
        windows
            .iter()
            .filter(|w| w.end.is_some_and(|e| e <= t))
            .count(),
    )
}

/// The support-access switches of the whole history and the windows they make, for placing
/// actions and describing windows in summaries.
struct Switches {
    list: Vec<(i64, Switch)>,
    actors: Vec<Option<String>>,
    windows: Vec<Window>,
}

impl Switches {
    /// Every switch in the store up to the period end: a window may have opened long before.
    fn load(ctx: &Context<'_>) -> Result<Switches> {
        let df = ctx.events(
            Select::Tagged(Tag::SupportAccess),
            &[cols::EVENT_TYPE, cols::ACTOR_NAME],
            None,
        )?;
        let types = df.strs(cols::EVENT_TYPE)?;
        let actors = df.strs(cols::ACTOR_NAME)?;
        let ts = df.i64s(cols::TIMESTAMP_NS)?;
        let mut sw = Switches {
            list: Vec::new(),
            actors: Vec::new(),
            windows: Vec::new(),
        };
        for i in 0..df.height() {
            let s = if tagged(types[i], Tag::Grant) {
                Switch::On
            } else if tagged(types[i], Tag::Revoke) {
                Switch::Off
            } else {
                continue;
            };
            sw.list.push((ts[i], s));
            sw.actors.push(actors[i].map(str::to_owned));
        }
        sw.windows = windows(&sw.list);
        Ok(sw)
    }

    /// Where an action of event type `event_type` at `t` fell.
    fn place(&self, event_type: Option<&str>, t: i64) -> Place {
        if tagged(event_type, Tag::SupportAccess) {
            // The support user switching its own access: never authorised by the window it opens.
            gap(&self.windows, t)
        } else {
            place(&self.windows, t)
        }
    }

    /// "by X at T" for switch `i`.
    fn by(&self, i: usize) -> String {
        let actor = self.actors[i].as_deref().unwrap_or("an unrecorded actor");
        format!("by {actor} at {}", format_timestamp(self.list[i].0))
    }

    /// "the support-access window enabled by X at T and disabled by Y at T2".
    fn describe(&self, w: &Window) -> String {
        let opened = match w.opened_by {
            Some(o) => format!("enabled {}", self.by(o)),
            None => "enabled before the data begins".to_owned(),
        };
        let closed = match w.closed_by {
            Some(c) => format!("disabled {}", self.by(c)),
            None => "not disabled again in the data (still open at its end)".to_owned(),
        };
        format!("the support-access window {opened} and {closed}")
    }

    /// Why an action's place is what it is, as a phrase.
    fn explain(&self, place: Place) -> String {
        let w = &self.windows;
        match place {
            Place::Inside(i) => format!("inside {}", self.describe(&w[i])),
            Place::Unknown(i) => format!(
                "before support access was disabled {}, with no matching `enabled` in the data: \
                 the window began before the data, so whether access was granted then cannot be \
                 told from it",
                w[i].closed_by.map(|c| self.by(c)).unwrap_or_default()
            ),
            Place::Outside(0) if w.is_empty() => {
                "while support access was off (it is never enabled in the data)".to_owned()
            }
            Place::Outside(0) => format!(
                "while support access was off (before it was first enabled {})",
                w[0].opened_by.map(|o| self.by(o)).unwrap_or_default()
            ),
            Place::Outside(n) => {
                let next = w
                    .get(n)
                    .and_then(|x| x.opened_by)
                    .map(|o| format!(" and before it was enabled again {}", self.by(o)))
                    .unwrap_or_default();
                format!(
                    "while support access was off (after it was disabled {}{next})",
                    w[n - 1].closed_by.map(|c| self.by(c)).unwrap_or_default()
                )
            }
        }
    }
}

/// True when the catalog gives event type `t` tag `tag`.
fn tagged(t: Option<&str>, tag: Tag) -> bool {
    t.and_then(|t| Catalog::get().by_api_name(t))
        .is_some_and(|e| e.has(tag))
}

impl Analysis for SupportUserActivity {
    fn name(&self) -> &'static str {
        "support-user-activity"
    }

    fn description(&self) -> &'static str {
        "Code42 support user actions inside and outside support-access windows, accounts it created and what they did"
    }

    fn run(&self, ctx: &Context<'_>) -> Result<Output> {
        let switches = Switches::load(ctx)?;
        // Support actions reach back far enough to see accounts created before the period whose
        // follow-up still runs into it.
        let df = ctx.events_where(
            Select::All,
            Some(col(cols::ACTOR_TYPE).eq(lit(ActorType::SupportUser.as_str()))),
            &[
                cols::EVENT_ID,
                cols::EVENT_TYPE,
                cols::EVENT_LABEL,
                cols::ACTOR_NAME,
                cols::ACTOR_ID,
                cols::CLIENT_IP,
                cols::AFFECTED_USER_NAME,
                cols::AFFECTED_USER_ID,
            ],
            Some(Config::duration_ns(
                &ctx.config.support.follow_created_users,
            )),
        )?;
        let actions = Rows::read(&df, ctx.store)?;
        let mut out = self.action_sets(ctx, &switches, &actions);
        let created = Created::read(&df)?;
        out.extend(self.created_accounts(ctx, &switches, &actions, &created)?);
        Ok(out.into())
    }
}

impl SupportUserActivity {
    /// One finding per support user and place (window, or stretch between windows).
    fn action_sets(&self, ctx: &Context<'_>, switches: &Switches, a: &Rows<'_>) -> Vec<Finding> {
        let mut groups: BTreeMap<(String, Place), Vec<usize>> = BTreeMap::new();
        for i in (0..a.ts.len()).filter(|&i| ctx.in_period(a.ts[i])) {
            let p = switches.place(a.types[i], a.ts[i]);
            groups.entry((a.actor(i), p)).or_default().push(i);
        }
        let mut out = Vec::new();
        for ((actor, p), rows) in groups {
            let sensitive = rows.iter().any(|&i| {
                tagged(a.types[i], Tag::Privilege)
                    || tagged(a.types[i], Tag::FileAccess)
                    || tagged(a.types[i], Tag::UserCreated)
            });
            let severity = match p {
                Place::Inside(_) if sensitive => Severity::Low,
                Place::Inside(_) => Severity::Info,
                Place::Unknown(_) => Severity::Medium,
                Place::Outside(_) => Severity::High,
            };
            out.push(a.finding(
                self.name(),
                severity,
                &actor,
                String::new(),
                &rows,
                format!(
                    "Code42 support user {actor} performed {} {}: {}",
                    plural(rows.len() as u64, "action", "actions"),
                    switches.explain(p),
                    label_counts(rows.iter().map(|&i| a.label(i)))
                ),
            ));
        }
        out
    }

    /// For each account a support user created: the creation, and what the account did within
    /// `support.follow_created_users`.
    fn created_accounts(
        &self,
        ctx: &Context<'_>,
        switches: &Switches,
        a: &Rows<'_>,
        created: &Created<'_>,
    ) -> Result<Vec<Finding>> {
        let rows: Vec<usize> = (0..a.ts.len())
            .filter(|&i| tagged(a.types[i], Tag::UserCreated))
            .filter(|&i| created.names[i].is_some() || created.ids[i].is_some())
            .collect();
        let Some(df) = created.later_actions(ctx, &rows)? else {
            return Ok(Vec::new());
        };
        let f = Rows::read(&df, ctx.store)?;
        let follow = &ctx.config.support.follow_created_users;
        let follow_ns = Config::duration_ns(follow);
        let mut out = Vec::new();
        for c in rows {
            let at = a.ts[c];
            let account = created.names[c]
                .or(created.ids[c])
                .unwrap_or_default()
                .to_owned();
            let later: Vec<usize> = (0..f.ts.len())
                .filter(|&j| f.ts[j] >= at && f.ts[j] - at < follow_ns)
                .filter(|&j| created.is(c, f.actor_names[j], f.actor_ids[j]))
                .collect();
            let creator = a.actor(c);
            if ctx.in_period(at) {
                let then = if later.is_empty() {
                    format!("it has no recorded actions within {follow} of its creation")
                } else {
                    format!(
                        "it then performed {} within {follow} (see the follow-up finding)",
                        plural(later.len() as u64, "action", "actions")
                    )
                };
                out.push(a.finding(
                    self.name(),
                    Severity::Medium,
                    &creator,
                    account.clone(),
                    &[c],
                    format!(
                        "Code42 support user {creator} created the account {account} at {} ({}); \
                         an account made by the vendor needs an owner and a reason; {then}",
                        format_timestamp(at),
                        switches.explain(switches.place(a.types[c], at)),
                    ),
                ));
            }
            let later: Vec<usize> = later
                .into_iter()
                .filter(|&j| ctx.in_period(f.ts[j]))
                .collect();
            let Some(&first) = later.first() else {
                continue;
            };
            let privileged = later.iter().any(|&j| tagged(f.types[j], Tag::Privilege));
            let files = later.iter().any(|&j| tagged(f.types[j], Tag::FileAccess));
            let why = match (privileged, files) {
                (true, true) => ", including privilege changes and file access",
                (true, false) => ", including privilege changes",
                (false, true) => ", including file access",
                (false, false) => "",
            };
            out.push(f.finding(
                self.name(),
                if privileged || files {
                    Severity::High
                } else {
                    Severity::Medium
                },
                &f.actor(first),
                account.clone(),
                &later,
                format!(
                    "{account}, created by Code42 support user {creator} at {}, performed {} \
                     within {follow} of its creation{why}: {}",
                    format_timestamp(at),
                    plural(later.len() as u64, "action", "actions"),
                    label_counts(later.iter().map(|&j| f.label(j)))
                ),
            ));
        }
        Ok(out)
    }
}

/// The affected-user columns of the support actions: for `Add user`, the account created.
struct Created<'a> {
    names: Vec<Option<&'a str>>,
    ids: Vec<Option<&'a str>>,
}

impl<'a> Created<'a> {
    fn read(df: &'a Ordered) -> Result<Self> {
        Ok(Created {
            names: df.strs(cols::AFFECTED_USER_NAME)?,
            ids: df.strs(cols::AFFECTED_USER_ID)?,
        })
    }

    /// True when an actor is the account created by row `c` (usernames are case-insensitive).
    fn is(&self, c: usize, actor_name: Option<&str>, actor_id: Option<&str>) -> bool {
        let by_name =
            matches!((actor_name, self.names[c]), (Some(x), Some(y)) if x.eq_ignore_ascii_case(y));
        let by_id = matches!((actor_id, self.ids[c]), (Some(x), Some(y)) if x == y);
        by_name || by_id
    }

    /// Everything the accounts of `rows` did, from the first creation's follow window on (`None`
    /// when there is nothing to look for). Matches exact and lowercased names in the scan; the
    /// caller compares case-insensitively.
    fn later_actions(&self, ctx: &Context<'_>, rows: &[usize]) -> Result<Option<Ordered>> {
        let mut names: Vec<String> = Vec::new();
        let mut ids: Vec<String> = Vec::new();
        for &c in rows {
            if let Some(n) = self.names[c] {
                names.extend([n.to_owned(), n.to_lowercase()]);
            }
            ids.extend(self.ids[c].map(str::to_owned));
        }
        let by_name =
            (!names.is_empty()).then(|| col(cols::ACTOR_NAME).is_in(list_lit(&names), false));
        let by_id = (!ids.is_empty()).then(|| col(cols::ACTOR_ID).is_in(list_lit(&ids), false));
        let Some(pred) = by_name.into_iter().chain(by_id).reduce(|x, y| x.or(y)) else {
            return Ok(None);
        };
        let df = ctx.events_where(
            Select::All,
            Some(pred),
            &[
                cols::EVENT_ID,
                cols::EVENT_TYPE,
                cols::EVENT_LABEL,
                cols::ACTOR_NAME,
                cols::ACTOR_ID,
                cols::CLIENT_IP,
            ],
            Some(Config::duration_ns(
                &ctx.config.support.follow_created_users,
            )),
        )?;
        Ok(Some(df))
    }
}

/// The columns findings are built from, read once per frame.
struct Rows<'a> {
    event_ids: Vec<Option<EventId>>,
    types: Vec<Option<&'a str>>,
    labels: Vec<Option<&'a str>>,
    actor_names: Vec<Option<&'a str>>,
    actor_ids: Vec<Option<&'a str>>,
    ips: Vec<Option<&'a str>>,
    ts: Vec<i64>,
}

impl<'a> Rows<'a> {
    fn read(df: &'a Ordered, store: &Store) -> Result<Self> {
        Ok(Rows {
            event_ids: df.event_ids(store)?,
            types: df.strs(cols::EVENT_TYPE)?,
            labels: df.strs(cols::EVENT_LABEL)?,
            actor_names: df.strs(cols::ACTOR_NAME)?,
            actor_ids: df.strs(cols::ACTOR_ID)?,
            ips: df.strs(cols::CLIENT_IP)?,
            ts: df.i64s(cols::TIMESTAMP_NS)?,
        })
    }

    fn actor(&self, i: usize) -> String {
        self.actor_names[i]
            .or(self.actor_ids[i])
            .unwrap_or("(unnamed)")
            .to_owned()
    }

    fn label(&self, i: usize) -> &'a str {
        self.labels[i].or(self.types[i]).unwrap_or("?")
    }

    /// A finding over `rows` (time-ordered, non-empty).
    fn finding(
        &self,
        analysis: &'static str,
        severity: Severity,
        actor: &str,
        subject: String,
        rows: &[usize],
        summary: String,
    ) -> Finding {
        Finding {
            analysis,
            severity,
            actor: actor.to_owned(),
            subject,
            ip: rows
                .iter()
                .find_map(|&i| self.ips[i])
                .unwrap_or_default()
                .to_owned(),
            first_seen_ns: rows.first().map(|&i| self.ts[i]).unwrap_or_default(),
            last_seen_ns: rows.last().map(|&i| self.ts[i]).unwrap_or_default(),
            count: rows.len() as u64,
            summary,
            event_ids: evidence(rows.iter().filter_map(|&i| self.event_ids[i])),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(start: Option<i64>, end: Option<i64>, o: Option<usize>, c: Option<usize>) -> Window {
        Window {
            start,
            end,
            opened_by: o,
            closed_by: c,
        }
    }

    #[test]
    fn windows_pair_enables_with_the_next_disable() {
        use Switch::*;
        let got = windows(&[(10, On), (20, On), (30, Off), (40, Off), (50, On)]);
        assert_eq!(
            got,
            [
                w(Some(10), Some(30), Some(0), Some(2)),
                w(Some(50), None, Some(4), None)
            ]
        );
        assert_eq!(place(&got, 9), Place::Outside(0));
        assert_eq!(place(&got, 10), Place::Inside(0));
        assert_eq!(place(&got, 29), Place::Inside(0));
        // [enabled, disabled): the instant of the disable is already outside.
        assert_eq!(place(&got, 30), Place::Outside(1));
        assert_eq!(place(&got, 45), Place::Outside(1));
        assert_eq!(place(&got, 1_000), Place::Inside(1));
    }

    #[test]
    fn a_leading_disable_closes_a_window_from_before_the_data() {
        use Switch::*;
        let got = windows(&[(30, Off), (40, On), (50, Off)]);
        assert_eq!(
            got,
            [
                w(None, Some(30), None, Some(0)),
                w(Some(40), Some(50), Some(1), Some(2))
            ]
        );
        assert_eq!(place(&got, -5), Place::Unknown(0));
        assert_eq!(place(&got, 35), Place::Outside(1));
        assert_eq!(place(&got, 45), Place::Inside(1));
        assert_eq!(place(&got, 55), Place::Outside(2));
        // Only the data's first switch can stand for an earlier enable.
        let got = windows(&[(10, On), (20, Off), (30, Off)]);
        assert_eq!(got, [w(Some(10), Some(20), Some(0), Some(1))]);
        assert!(windows(&[]).is_empty());
        assert_eq!(place(&[], 5), Place::Outside(0));
    }
}
