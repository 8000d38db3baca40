/*!
privilege-changes: the ledger of who changed whose access, and the changes that deserve a second
look.

Every event the catalog tags `privilege` - roles, API client permissions and secrets, identity
providers, federations, SCIM provisioners, local-auth-only and support access - becomes one ledger
finding in the period: actor -> subject (the affected user, API client, identity provider,
federation or provisioner from the catalog's subject keys, with the role or permission where the
event names one), read as a sentence: "dana.admin@example.com assigned user roles (role Security
Administrator) to carol@example.com".

Severity of a ledger line, applied in this order:
1. info;
2. medium when the actor is a user who is not an administrator (see below);
3. high when it is a self-grant: any change that is not a revocation, made by the account it
   changes (the affected user, or the API client whose id it names);
4. one step up when made outside business hours or on a weekend (`business_hours`, `weekend`,
   `timezone`);
5. one step up when made from an address outside the allowlist (only when `allowlist` is set).

So an administrator's routine change in business hours from the office is info, the same change on
a Saturday low, on a Saturday from outside medium; a non-administrator's change medium, or high
after hours or from outside; a self-grant always high.

Two findings look at several changes together:
- temporary escalation: a grant undone by its catalog inverse on the same subject within
  `privilege.temporary_grant_window` (role assigned then revoked, API client created then deleted,
  ...): medium, high when the grant was a self-grant or either change was after hours. Support
  access is left out: switching it on for a few hours is exactly how it should be used
  (support-user-activity judges it);
- secret-reset burst: at least `privilege.secret_reset_burst` credential resets (catalog tag
  `credential_reset`: API client secrets, SCIM credentials) by one actor within
  `privilege.secret_reset_window`: high, all resets of the burst as evidence.

Who is an administrator: the configured `admins` when that list is not empty. Otherwise it is
derived from the data, because a rule that calls everyone (or no one) a non-administrator says
nothing. An actor counts as an administrator for a change when, before it,
- they made administrative changes (catalog tag `admin`) on at least `privilege.admin_min_days`
  distinct UTC days before the period (before the change's own day when no period start is given),
  or
- they held a role whose name contains "admin" (granted to them in the data and not revoked since).

A first-time actor is therefore a non-administrator - the case the rule is for - but only once the
data holds enough history to know the administrators: when the history before the period has
administrative changes by anyone on fewer than `admin_min_days` days, the question is left open
(the ledger line says so) instead of flagging everyone. API clients, SYSTEM, SCIM and support
actors and actors of unknown type are not users, so the rule does not apply to them.
*/

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;

use super::common::{duration, evidence, label_counts, plural, subject_parts};
use super::{Analysis, Context, Finding, Ordered, Output, Select, Severity};
use crate::config::Config;
use crate::error::Result;
use crate::model::catalog::{Catalog, EventType, Tag};
use crate::model::event::{ActorType, EventId};
use crate::model::schema::cols;
use crate::store::Store;
use crate::time::{date_of, format_timestamp};

pub struct PrivilegeChanges;

/// One privilege change, with what the rules need.
struct Change<'a> {
    id: EventId,
    ts: i64,
    kind: &'static EventType,
    actor_name: Option<&'a str>,
    actor_id: Option<&'a str>,
    /// The actor is a person's console account (not an API client, SYSTEM, support, unknown).
    by_user: bool,
    ip: Option<&'a str>,
    affected_name: Option<&'a str>,
    affected_id: Option<&'a str>,
    /// The catalog's subject parts (`@user` and detail fields such as the role).
    parts: Vec<(&'static str, String)>,
}

impl Change<'_> {
    /// The actor for sentences.
    fn actor(&self) -> &str {
        self.actor_name
            .or(self.actor_id)
            .unwrap_or("(no actor recorded)")
    }

    /// The actor for a finding's `actor` field (empty when none is recorded).
    fn actor_field(&self) -> String {
        self.actor_name
            .or(self.actor_id)
            .unwrap_or_default()
            .to_owned()
    }

    /// The actor's identity for grouping and comparing (lowercased name, else id).
    fn actor_key(&self) -> Option<String> {
        self.actor_name
            .map(str::to_lowercase)
            .or(self.actor_id.map(str::to_owned))
    }

    fn subject(&self) -> String {
        self.parts
            .iter()
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The account this change acts on is the actor's own.
    fn is_self(&self) -> bool {
        let same = |a: Option<&str>, b: &str| a.is_some_and(|a| a.eq_ignore_ascii_case(b));
        let own = |v: &str| same(self.actor_name, v) || same(self.actor_id, v);
        self.affected_name.is_some_and(own)
            || self.affected_id.is_some_and(own)
            || self.parts.iter().any(|(k, v)| *k != "@user" && own(v))
    }

    fn is_self_grant(&self) -> bool {
        !self.kind.has(Tag::Revoke) && self.is_self()
    }

    /// Keys naming the affected user, for the role holdings.
    fn affected_keys(&self) -> Vec<String> {
        self.affected_name
            .map(str::to_lowercase)
            .into_iter()
            .chain(self.affected_id.map(str::to_owned))
            .collect()
    }

    /// The change as a ledger sentence: "X assigned user roles (role R) to Y".
    fn sentence(&self) -> String {
        let (verb, noun, rest) = split_label(self.kind.label);
        let mut s = format!("{} {verb} {noun}", self.actor());
        let details: Vec<String> = self
            .parts
            .iter()
            .filter(|(k, _)| *k != "@user")
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        if !details.is_empty() {
            s.push_str(&format!(" ({})", details.join(", ")));
        }
        if !rest.is_empty() {
            s.push(' ');
            s.push_str(&rest);
        }
        if let Some(u) = self.affected_name.or(self.affected_id) {
            let prep = if self.kind.has(Tag::Grant) {
                "to"
            } else if self.kind.has(Tag::Revoke) {
                "from"
            } else {
                "for"
            };
            s.push_str(&format!(" {prep} {u}"));
        }
        s
    }
}

/// A console label as verb, object and remainder: "Identity provider assigned to org" ->
/// ("assigned", "identity provider", "to org"). The verb is the last word ending in "ed" (or
/// "reset"); a label without one ("Local auth only change") becomes ("made a", label, "").
fn split_label(label: &str) -> (String, String, String) {
    let words: Vec<&str> = label.split_whitespace().collect();
    let verb_at = words.iter().rposition(|w| {
        let w = w.to_lowercase();
        w.ends_with("ed") || w == "reset"
    });
    let (verb, noun, rest) = match verb_at {
        Some(k) if k > 0 => (
            words[k].to_lowercase(),
            &words[..k],
            words[k + 1..].join(" "),
        ),
        _ => ("made a".to_owned(), &words[..], String::new()),
    };
    let noun = noun
        .iter()
        .enumerate()
        .map(|(i, w)| {
            // "User roles" -> "user roles", but "API client" and "Code42 ..." keep their case.
            let plain_word = w.chars().skip(1).all(|c| c.is_ascii_lowercase());
            if i == 0 && plain_word {
                w.to_lowercase()
            } else {
                (*w).to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    (verb, noun, rest)
}

/// Whether the actor of a change counts as an administrator.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Standing {
    Admin,
    /// A user who is not an administrator, and why.
    NotAdmin(String),
    /// Too little history to tell; why.
    Unknown(String),
    /// Not a person's account: the rule does not apply.
    NotAUser,
}

/// Administrative history for deriving administrators when none are configured.
#[derive(Debug, Default)]
struct AdminHistory {
    /// Distinct UTC days with administrative changes, per actor key.
    days: HashMap<String, BTreeSet<NaiveDate>>,
    /// Distinct UTC days with administrative changes by anyone.
    all_days: BTreeSet<NaiveDate>,
}

impl AdminHistory {
    fn add(&mut self, actor_key: String, day: NaiveDate) {
        self.days.entry(actor_key).or_default().insert(day);
        self.all_days.insert(day);
    }

    /// The standing of `actor_key` for a change judged against history before `cutoff`.
    fn standing(
        &self,
        actor_key: &str,
        holds_admin_role: bool,
        cutoff: NaiveDate,
        min_days: u32,
    ) -> Standing {
        if holds_admin_role {
            return Standing::Admin;
        }
        let min = min_days as usize;
        let own = self
            .days
            .get(actor_key)
            .map_or(0, |d| d.range(..cutoff).count());
        if own >= min {
            return Standing::Admin;
        }
        let known = self.all_days.range(..cutoff).count();
        if known < min {
            return Standing::Unknown(format!(
                "administrator status not judged (administrative changes on only {} before {cutoff} in the data; privilege.admin_min_days = {min_days})",
                plural(known as u64, "day", "days")
            ));
        }
        Standing::NotAdmin(format!(
            "administrative changes on {} before {cutoff} (an administrator has at least {min_days}) and no admin role",
            plural(own as u64, "day", "days")
        ))
    }
}

/// Index ranges (inclusive) of bursts: at least `n` times within `window` of each other, with
/// overlapping qualifying runs merged. `ts` must be sorted.
fn bursts(ts: &[i64], n: usize, window: i64) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    if n == 0 {
        return out;
    }
    for i in 0..ts.len().saturating_sub(n - 1) {
        let end = i + n - 1;
        if ts[end] - ts[i] > window {
            continue;
        }
        match out.last_mut() {
            Some(r) if r.1 >= i => r.1 = r.1.max(end),
            _ => out.push((i, end)),
        }
    }
    out
}

impl Analysis for PrivilegeChanges {
    fn name(&self) -> &'static str {
        "privilege-changes"
    }

    fn description(&self) -> &'static str {
        "ledger of role, permission, credential, identity-provider and support-access changes; self-grants, temporary escalations, non-admin actors, secret-reset bursts"
    }

    fn run(&self, ctx: &Context<'_>) -> Result<Output> {
        // All history: a grant before the period can be revoked inside it, and roles held at the
        // period start were granted before it.
        let df = ctx.events(
            Select::Tagged(Tag::Privilege),
            &[
                cols::EVENT_ID,
                cols::EVENT_TYPE,
                cols::ACTOR_NAME,
                cols::ACTOR_ID,
                cols::ACTOR_TYPE,
                cols::CLIENT_IP,
                cols::AFFECTED_USER_NAME,
                cols::AFFECTED_USER_ID,
                cols::DETAILS,
            ],
            None,
        )?;
        let changes = read_changes(&df, ctx.store)?;
        let admins = Administrators::new(ctx)?;
        let mut roles = AdminRoles::default();
        let mut out = Vec::new();
        for c in &changes {
            if ctx.in_period(c.ts) {
                let standing = admins.standing(c, roles.holds(c));
                out.push(ledger_line(self.name(), ctx.config, c, &standing));
            }
            roles.apply(c);
        }
        out.extend(temporary_escalations(self.name(), ctx, &changes));
        out.extend(reset_bursts(self.name(), ctx, &changes));
        Ok(out.into())
    }
}

/// The privilege changes of a frame, in its (time) order; rows of types the catalog does not know
/// cannot occur (the frame was selected by catalog tag) and are skipped.
fn read_changes<'a>(df: &'a Ordered, store: &Store) -> Result<Vec<Change<'a>>> {
    let ids = df.event_ids(store)?;
    let types = df.strs(cols::EVENT_TYPE)?;
    let actor_names = df.strs(cols::ACTOR_NAME)?;
    let actor_ids = df.strs(cols::ACTOR_ID)?;
    let actor_types = df.strs(cols::ACTOR_TYPE)?;
    let ips = df.strs(cols::CLIENT_IP)?;
    let user_names = df.strs(cols::AFFECTED_USER_NAME)?;
    let user_ids = df.strs(cols::AFFECTED_USER_ID)?;
    let details = df.strs(cols::DETAILS)?;
    let ts = df.i64s(cols::TIMESTAMP_NS)?;
    let catalog = Catalog::get();
    Ok((0..df.height())
        .filter_map(|i| {
            let kind = catalog.by_api_name(types[i]?)?;
            Some(Change {
                id: ids[i]?,
                ts: ts[i],
                kind,
                actor_name: actor_names[i],
                actor_id: actor_ids[i],
                by_user: actor_types[i] == Some(ActorType::User.as_str()),
                ip: ips[i],
                affected_name: user_names[i],
                affected_id: user_ids[i],
                parts: subject_parts(kind.api_name, user_ids[i], user_names[i], details[i]),
            })
        })
        .collect())
}

/// Who holds a role whose name contains "admin", as the changes go by.
#[derive(Debug, Default)]
struct AdminRoles {
    /// Affected-user key (lowercased name, and id) -> admin roles held.
    held: HashMap<String, BTreeSet<String>>,
}

impl AdminRoles {
    /// The actor of `c` holds an admin role (granted by an earlier change).
    fn holds(&self, c: &Change<'_>) -> bool {
        let has = |k: &str| self.held.get(k).is_some_and(|r| !r.is_empty());
        c.actor_key().is_some_and(|k| has(&k)) || c.actor_id.is_some_and(has)
    }

    /// Record the admin roles `c` grants or revokes.
    fn apply(&mut self, c: &Change<'_>) {
        let roles: Vec<&String> = c
            .parts
            .iter()
            .filter(|(k, v)| *k != "@user" && v.to_lowercase().contains("admin"))
            .map(|(_, v)| v)
            .collect();
        if roles.is_empty() {
            return;
        }
        for key in c.affected_keys() {
            let held = self.held.entry(key).or_default();
            for &r in &roles {
                if c.kind.has(Tag::Grant) {
                    held.insert(r.clone());
                } else if c.kind.has(Tag::Revoke) {
                    held.remove(r);
                }
            }
        }
    }
}

/// The configured administrators, or the history they are derived from.
struct Administrators {
    /// `admins` from the config, lowercased (empty: derive).
    configured: BTreeSet<String>,
    history: AdminHistory,
    min_days: u32,
    /// The period start, before which history counts (`None`: before each change's day).
    from_ns: Option<i64>,
}

impl Administrators {
    fn new(ctx: &Context<'_>) -> Result<Self> {
        let cfg = ctx.config;
        Ok(Administrators {
            configured: cfg.admins.iter().map(|a| a.to_lowercase()).collect(),
            history: if cfg.admins.is_empty() {
                admin_history(ctx)?
            } else {
                AdminHistory::default()
            },
            min_days: cfg.privilege.admin_min_days,
            from_ns: ctx.from_ns,
        })
    }

    fn standing(&self, c: &Change<'_>, holds_admin_role: bool) -> Standing {
        let Some(key) = c.actor_key().filter(|_| c.by_user) else {
            return Standing::NotAUser;
        };
        if !self.configured.is_empty() {
            return if self.configured.contains(&key) {
                Standing::Admin
            } else {
                Standing::NotAdmin("not in the configured admins".into())
            };
        }
        let cutoff = date_of(self.from_ns.unwrap_or(c.ts));
        self.history
            .standing(&key, holds_admin_role, cutoff, self.min_days)
    }
}

/// Administrative days per actor, from all administrative changes in the store up to the period.
fn admin_history(ctx: &Context<'_>) -> Result<AdminHistory> {
    let df = ctx.events(
        Select::Tagged(Tag::Admin),
        &[cols::ACTOR_NAME, cols::ACTOR_ID],
        None,
    )?;
    let names = df.strs(cols::ACTOR_NAME)?;
    let ids = df.strs(cols::ACTOR_ID)?;
    let ts = df.i64s(cols::TIMESTAMP_NS)?;
    let mut h = AdminHistory::default();
    for i in 0..df.height() {
        if let Some(key) = names[i]
            .map(str::to_lowercase)
            .or(ids[i].map(str::to_owned))
        {
            h.add(key, date_of(ts[i]));
        }
    }
    Ok(h)
}

/// "after hours (Sat 2026-04-18 11:00 UTC; business hours 09:00-17:00 UTC, weekend Sat, Sun)".
fn after_hours_reason(cfg: &Config, ns: i64) -> String {
    let local = crate::time::to_datetime(ns).with_timezone(&cfg.timezone);
    let weekend: Vec<String> = cfg.weekend.iter().map(|d| d.to_string()).collect();
    format!(
        "outside business hours ({}; business hours {}-{} {}, weekend {})",
        local.format("%a %Y-%m-%d %H:%M %Z"),
        cfg.business_hours.0.format("%H:%M"),
        cfg.business_hours.1.format("%H:%M"),
        cfg.timezone.name(),
        weekend.join(", ")
    )
}

/// The ledger finding for one change, with its severity ladder applied.
fn ledger_line(
    analysis: &'static str,
    cfg: &Config,
    c: &Change<'_>,
    standing: &Standing,
) -> Finding {
    let mut severity = Severity::Info;
    let mut reasons: Vec<String> = Vec::new();
    if c.is_self_grant() {
        severity = Severity::High;
        reasons.push("a self-grant: the actor changed their own access".into());
    }
    match standing {
        Standing::NotAdmin(why) => {
            severity = severity.max(Severity::Medium);
            reasons.push(format!(
                "made by a user who is not an administrator ({why})"
            ));
        }
        Standing::Unknown(why) => reasons.push(why.clone()),
        Standing::Admin | Standing::NotAUser => {}
    }
    if cfg.after_hours(c.ts) {
        severity = severity.raise();
        reasons.push(after_hours_reason(cfg, c.ts));
    }
    if let Some(ip) = c.ip
        && !cfg.allowlist.is_empty()
        && !cfg.allowed(ip)
    {
        severity = severity.raise();
        reasons.push(format!("from {ip}, outside the allowlist"));
    }
    let mut summary = c.sentence();
    if !reasons.is_empty() {
        summary.push_str("; ");
        summary.push_str(&reasons.join("; "));
    }
    Finding {
        analysis,
        severity,
        actor: c.actor_field(),
        subject: c.subject(),
        ip: c.ip.unwrap_or_default().to_owned(),
        first_seen_ns: c.ts,
        last_seen_ns: c.ts,
        count: 1,
        summary,
        event_ids: vec![c.id],
    }
}

/// Grants undone by their inverse on the same subject within the configured window.
fn temporary_escalations(
    analysis: &'static str,
    ctx: &Context<'_>,
    changes: &[Change<'_>],
) -> Vec<Finding> {
    let cfg = ctx.config;
    let window = Config::duration_ns(&cfg.privilege.temporary_grant_window);
    // (grant type, lowercased subject) -> the latest grant not yet revoked.
    let mut open: HashMap<(&str, String), &Change<'_>> = HashMap::new();
    let mut out = Vec::new();
    for c in changes {
        let subject = c.subject().to_lowercase();
        if subject.is_empty() || c.kind.has(Tag::SupportAccess) {
            continue;
        }
        if c.kind.has(Tag::Grant) {
            open.insert((c.kind.api_name, subject), c);
            continue;
        }
        let Some(inverse) = c.kind.inverse.filter(|_| c.kind.has(Tag::Revoke)) else {
            continue;
        };
        let Some(g) = open.remove(&(inverse, subject)) else {
            continue;
        };
        if c.ts - g.ts > window || !ctx.in_period(c.ts) {
            continue;
        }
        let mut reasons = Vec::new();
        if g.is_self_grant() {
            reasons.push("the grant was a self-grant".to_owned());
        }
        for (what, x) in [("granted", g), ("revoked", c)] {
            if cfg.after_hours(x.ts) {
                reasons.push(format!("{what} {}", after_hours_reason(cfg, x.ts)));
            }
        }
        let mut summary = format!(
            "Temporary escalation: {} at {}, and {} revoked it at {}, {} later (within privilege.temporary_grant_window = {})",
            g.sentence(),
            format_timestamp(g.ts),
            c.actor(),
            format_timestamp(c.ts),
            duration(c.ts - g.ts),
            cfg.privilege.temporary_grant_window
        );
        if !reasons.is_empty() {
            summary.push_str("; ");
            summary.push_str(&reasons.join("; "));
        }
        out.push(Finding {
            analysis,
            severity: if reasons.is_empty() {
                Severity::Medium
            } else {
                Severity::High
            },
            actor: g.actor_field(),
            subject: g.subject(),
            ip: g.ip.or(c.ip).unwrap_or_default().to_owned(),
            first_seen_ns: g.ts,
            last_seen_ns: c.ts,
            count: 2,
            summary,
            event_ids: vec![g.id, c.id],
        });
    }
    out
}

/// Bursts of credential resets by one actor.
fn reset_bursts(analysis: &'static str, ctx: &Context<'_>, changes: &[Change<'_>]) -> Vec<Finding> {
    let cfg = &ctx.config.privilege;
    let window = Config::duration_ns(&cfg.secret_reset_window);
    let mut by_actor: BTreeMap<String, Vec<&Change<'_>>> = BTreeMap::new();
    for c in changes.iter().filter(|c| c.kind.has(Tag::CredentialReset)) {
        if let Some(k) = c.actor_key() {
            by_actor.entry(k).or_default().push(c);
        }
    }
    let mut out = Vec::new();
    for resets in by_actor.values() {
        let times: Vec<i64> = resets.iter().map(|c| c.ts).collect();
        for (a, b) in bursts(&times, cfg.secret_reset_burst as usize, window) {
            let group = &resets[a..=b];
            let (Some(&first), Some(&last)) = (group.first(), group.last()) else {
                continue;
            };
            if !ctx.in_period(last.ts) {
                continue;
            }
            let subjects: BTreeSet<String> = group.iter().map(|c| c.subject()).collect();
            let subjects: Vec<String> = subjects.into_iter().filter(|s| !s.is_empty()).collect();
            let n = group.len() as u64;
            out.push(Finding {
                analysis,
                severity: Severity::High,
                actor: first.actor_field(),
                subject: subjects.join(", "),
                ip: group.iter().find_map(|c| c.ip).unwrap_or_default().to_owned(),
                first_seen_ns: first.ts,
                last_seen_ns: last.ts,
                count: n,
                summary: format!(
                    "{} made {} within {} ({} to {}): {} of {}; threshold: privilege.secret_reset_burst = {} within secret_reset_window = {}",
                    first.actor(),
                    plural(n, "credential reset", "credential resets"),
                    duration(last.ts - first.ts),
                    format_timestamp(first.ts),
                    format_timestamp(last.ts),
                    label_counts(group.iter().map(|c| c.kind.label)),
                    if subjects.is_empty() {
                        "unrecorded credentials".to_owned()
                    } else {
                        subjects.join(", ")
                    },
                    cfg.secret_reset_burst,
                    cfg.secret_reset_window
                ),
                event_ids: evidence(group.iter().map(|c| c.id)),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::NANOS_PER_SEC;

    #[test]
    fn labels_read_as_sentences() {
        let s = |l: &str| split_label(l);
        assert_eq!(
            s("User roles assigned"),
            ("assigned".into(), "user roles".into(), String::new())
        );
        assert_eq!(
            s("Identity provider assigned to org"),
            (
                "assigned".into(),
                "identity provider".into(),
                "to org".into()
            )
        );
        assert_eq!(
            s("API client secret reset"),
            ("reset".into(), "API client secret".into(), String::new())
        );
        assert_eq!(
            s("Code42 support user access enabled"),
            (
                "enabled".into(),
                "Code42 support user access".into(),
                String::new()
            )
        );
        assert_eq!(
            s("Local auth only change"),
            (
                "made a".into(),
                "local auth only change".into(),
                String::new()
            )
        );
        // Every privilege label yields a verb and an object.
        for e in Catalog::get()
            .entries()
            .iter()
            .filter(|e| e.has(Tag::Privilege))
        {
            let (v, n, _) = split_label(e.label);
            assert!(!v.is_empty() && !n.is_empty(), "{}", e.label);
        }
    }

    fn change<'a>(
        event_type: &str,
        actor: &'a str,
        affected: Option<&'a str>,
        details: &str,
    ) -> Change<'a> {
        let kind = Catalog::get().by_api_name(event_type).unwrap();
        Change {
            id: EventId(0),
            ts: 0,
            kind,
            actor_name: Some(actor),
            actor_id: Some("42"),
            by_user: true,
            ip: None,
            affected_name: affected,
            affected_id: None,
            parts: subject_parts(event_type, None, affected, Some(details)),
        }
    }

    #[test]
    fn self_grants_are_changes_to_ones_own_access() {
        let role = r#"{"role":"Customer Cloud Admin"}"#;
        let own = change(
            "user_roles_assigned",
            "Frank@Example.com",
            Some("frank@example.com"),
            role,
        );
        assert!(own.is_self_grant());
        assert_eq!(
            own.sentence(),
            "Frank@Example.com assigned user roles (role Customer Cloud Admin) to frank@example.com"
        );
        // Giving up one's own role is not a grant.
        assert!(
            !change(
                "user_roles_revoked",
                "frank@example.com",
                Some("frank@example.com"),
                role
            )
            .is_self_grant()
        );
        assert!(
            !change(
                "user_roles_assigned",
                "dana@example.com",
                Some("frank@example.com"),
                role
            )
            .is_self_grant()
        );
        // An API client widening its own permissions (its id is the actor id).
        let api = change(
            "api_client_permissions_assigned",
            "42",
            None,
            r#"{"apiClientId":"42","permission":"admin"}"#,
        );
        assert!(api.is_self_grant());
        assert_eq!(api.subject(), "42/admin");
    }

    #[test]
    fn admin_roles_follow_grants_and_revocations() {
        let admin = r#"{"role":"Security Administrator"}"#;
        let mut roles = AdminRoles::default();
        let carol_acts = change("federation_updated", "carol@example.com", None, "{}");
        assert!(!roles.holds(&carol_acts));
        roles.apply(&change(
            "user_roles_assigned",
            "dana@example.com",
            Some("Carol@example.com"),
            admin,
        ));
        assert!(roles.holds(&carol_acts));
        // A role without "admin" in its name does not count.
        roles.apply(&change(
            "user_roles_assigned",
            "dana@example.com",
            Some("erin@example.com"),
            r#"{"role":"Desktop User"}"#,
        ));
        assert!(!roles.holds(&change(
            "federation_updated",
            "erin@example.com",
            None,
            "{}"
        )));
        roles.apply(&change(
            "user_roles_revoked",
            "dana@example.com",
            Some("carol@example.com"),
            admin,
        ));
        assert!(!roles.holds(&carol_acts));
    }

    #[test]
    fn bursts_merge_overlapping_runs() {
        let m = 60 * NANOS_PER_SEC;
        // 3 within 20 minutes, a lone one later, then 4 within 30 minutes.
        let ts = [
            0,
            10 * m,
            20 * m,
            200 * m,
            400 * m,
            410 * m,
            420 * m,
            430 * m,
        ];
        assert_eq!(bursts(&ts, 3, 60 * m), [(0, 2), (4, 7)]);
        // The window is inclusive of its end; one minute less and the first run is no burst.
        assert_eq!(bursts(&ts, 3, 20 * m), [(0, 2), (4, 7)]);
        assert_eq!(bursts(&ts, 3, 19 * m), Vec::<(usize, usize)>::new());
        assert!(bursts(&ts[..2], 3, 60 * m).is_empty());
        assert!(bursts(&[], 3, 60 * m).is_empty());
    }

    #[test]
    fn administrators_need_history_before_the_cutoff() {
        let d = |n: u32| NaiveDate::from_ymd_opt(2026, 4, n).unwrap();
        let mut h = AdminHistory::default();
        for day in [6, 7, 8] {
            h.add("dana".into(), d(day));
        }
        h.add("erin".into(), d(8));
        // Too little history by anyone: left open, not flagged.
        assert!(matches!(
            h.standing("erin", false, d(8), 3),
            Standing::Unknown(_)
        ));
        assert!(matches!(
            h.standing("dana", false, d(8), 3),
            Standing::Unknown(_)
        ));
        // Enough history: dana is an administrator, erin and a newcomer are not.
        assert_eq!(h.standing("dana", false, d(13), 3), Standing::Admin);
        assert!(matches!(
            h.standing("erin", false, d(13), 3),
            Standing::NotAdmin(_)
        ));
        assert!(matches!(
            h.standing("new", false, d(13), 3),
            Standing::NotAdmin(_)
        ));
        // An admin role is enough on its own.
        assert_eq!(h.standing("new", true, d(13), 3), Standing::Admin);
    }
}
