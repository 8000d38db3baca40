/*!
The planted scenes themselves, one function each, in the order of the table in the module doc
above: who does what at which minute of the plant week, and which finding each scene must cause.
The builder only records events; [`super::Planted`] turns them into slots and manifest entries.
*/

use chrono::{Days, NaiveDate};

use super::super::kinds::{SPECS, Val, Who};
use super::super::org::{BROWSERS, Kind, Org, Person, numeric_id};
use super::super::rng::{Rng, derive};
use super::super::{GenOptions, MS_PER_HOUR, is_weekend};
use super::cast::Cast;
use super::{Actor, Addr, Case, PlantEvent, Planted, kind, plant_week};
use crate::analyses::Severity;
use crate::config::Config;
use crate::model::catalog::{Catalog, Tag};

/// Seed stream of the plant's own choices (milliseconds, addresses).
const PLANT_STREAM: u64 = 0x706c_6e74;

/// Days of the plant week.
const TUE: u32 = 1;
const WED: u32 = 2;
const THU: u32 = 3;
const FRI: u32 = 4;
const SAT: u32 = 5;

/// The cast as actors of events.
#[derive(Debug, Clone, Copy)]
struct Roles {
    support: Actor,
    /// The account the support user creates.
    created: Actor,
    a0: Actor,
    a1: Actor,
    a2: Actor,
    a3: Actor,
    n1: Actor,
    n2: Actor,
    n3: Actor,
    n4: Actor,
    g: [Actor; 5],
    user: Actor,
    travellers: [usize; 6],
}

/// Every scene of the plant for `opts` in `org`.
pub(super) fn build(opts: &GenOptions, org: &Org) -> Planted {
    let week = plant_week(opts.start);
    let day0 = u32::try_from((week - opts.start).num_days()).unwrap_or(0);
    let mut rng = Rng::new(derive(opts.seed, PLANT_STREAM, 0));
    let temp = Person {
        name: "support.temp@example.com".into(),
        id: numeric_id(&mut rng),
        kind: Kind::User,
        display: "Support Temp".into(),
        ips: vec![format!(
            "52.{}.{}.{}",
            rng.range(96, 127),
            rng.range(0, 255),
            rng.range(2, 254)
        )],
        agents: vec![BROWSERS[0]],
        off_hours: 0.0,
        activity: 0.0,
        roam: 0.0,
        second_share: 0.0,
    };
    let mut b = Builder {
        org,
        people: vec![temp],
        day0,
        monday_ms: crate::time::start_of_day(week) / 1_000_000,
        events: Vec::new(),
        cases: Vec::new(),
        rng,
    };
    let cast = Cast::of(org);
    let [a0, a1, a2, a3] = cast.admins.map(Actor::Org);
    let [n1, n2, n3, n4] = cast.analysts.map(Actor::Org);
    let r = Roles {
        support: Actor::Org(org.support),
        created: Actor::Extra(0),
        a0,
        a1,
        a2,
        a3,
        n1,
        n2,
        n3,
        n4,
        g: cast.grantees.map(Actor::Org),
        user: Actor::Org(cast.user),
        travellers: cast.travellers,
    };
    support_window(&mut b, &r);
    temporary_escalation(&mut b, &r);
    export_burst(&mut b, &r, opts);
    non_admin_change(&mut b, &r);
    self_grant(&mut b, &r);
    secret_resets(&mut b, &r);
    case_deletion(&mut b, &r);
    new_outside_address(&mut b, &r);
    shared_address(&mut b, &r);
    bulk_download(&mut b, &r);
    training(&mut b, &r);
    support_outside(&mut b, &r);
    weekend_night(&mut b, &r);
    Planted {
        people: b.people,
        events: b.events,
        cases: b.cases,
        week,
    }
}

/// Average analyst's case actions and searches in the plant week, as the generator will produce
/// them: the plant week's expected share of events, times the share of counted types, over the
/// analysts.
fn analyst_week(opts: &GenOptions, org: &Org) -> f64 {
    let catalog = Catalog::get();
    let counted = |api: &str| {
        catalog
            .by_api_name(api)
            .is_some_and(|e| e.has(Tag::CaseAction) || e.has(Tag::ForensicSearch))
    };
    let by_analysts = |w: Who| match w {
        Who::Analyst => 1.0,
        Who::AnalystOrApi => 0.85,
        _ => 0.0,
    };
    let total: f64 = SPECS.iter().map(|s| s.weight).sum();
    let share: f64 = SPECS
        .iter()
        .filter(|s| counted(s.api))
        .map(|s| s.weight * by_analysts(s.who))
        .sum::<f64>()
        / total.max(1.0);
    let weight = |d: NaiveDate| if is_weekend(d) { 0.1 } else { 1.0 };
    let all: f64 = (0..opts.days)
        .filter_map(|i| opts.start.checked_add_days(Days::new(u64::from(i))))
        .map(weight)
        .sum();
    let week_share = 5.2 / all.max(1.0);
    opts.events as f64 * week_share * share / org.analysts.len().max(1) as f64
}

/// Builds the plant's events and cases.
struct Builder<'o> {
    org: &'o Org,
    /// People who exist only in the plant.
    people: Vec<Person>,
    /// Day index and midnight (ms) of the plant week's Monday.
    day0: u32,
    monday_ms: i64,
    events: Vec<PlantEvent>,
    cases: Vec<Case>,
    rng: Rng,
}

impl Builder<'_> {
    /// The name of `a`.
    fn name(&self, a: Actor) -> String {
        match a {
            Actor::Org(i) => self.org.people[i].name.clone(),
            Actor::Extra(i) => self.people[i].name.clone(),
        }
    }

    /// Add an event at `hh:mm:ss` (plus a few random milliseconds) of day `day` of the plant week.
    fn add(&mut self, day: u32, hms: (i64, i64, i64), api: &str, actor: Actor) -> usize {
        let (h, m, s) = hms;
        let ms = self.monday_ms
            + i64::from(day) * 24 * MS_PER_HOUR
            + h * MS_PER_HOUR
            + m * 60_000
            + s * 1000
            + self.rng.below(1000) as i64;
        let k = kind(api);
        let actor_name = self.name(actor);
        self.events.push(PlantEvent {
            day: self.day0 + day,
            ms,
            kind: k,
            subject_kind: k,
            subj: self.rng.next_u64(),
            actor,
            actor_name,
            addr: Addr::Usual,
            affected: None,
            details: Vec::new(),
        });
        self.events.len() - 1
    }

    /// Event `i` acts on the same object as event `of` (an undo, a restore's end).
    fn follows(&mut self, i: usize, of: usize) {
        self.events[i].subject_kind = self.events[of].kind;
        self.events[i].subj = self.events[of].subj;
    }

    fn from(&mut self, i: usize, ip: &str) {
        self.events[i].addr = Addr::Fixed(ip.to_owned());
    }

    fn affects(&mut self, i: usize, who: Actor) {
        self.events[i].affected = Some(who);
    }

    fn detail(&mut self, i: usize, key: &'static str, v: Val<'static>) {
        self.events[i].details.push((key, v));
    }

    /// A role grant (or revocation) by `actor` to `to`.
    fn role(
        &mut self,
        day: u32,
        hms: (i64, i64, i64),
        api: &str,
        actor: Actor,
        to: Actor,
        role: &str,
    ) -> usize {
        let i = self.add(day, hms, api, actor);
        self.affects(i, to);
        self.detail(i, "role", Val::Owned(role.to_owned()));
        i
    }

    fn case(
        &mut self,
        name: &'static str,
        analysis: &'static str,
        severity: Severity,
        actor: String,
        description: String,
        events: Vec<usize>,
    ) {
        self.cases.push(Case {
            name,
            analysis,
            severity,
            actor,
            description,
            events,
        });
    }

    /// An address in a block the organisation never uses.
    fn foreign_ip(&mut self, first: &str) -> String {
        format!(
            "{first}.{}.{}",
            self.rng.range(1, 254),
            self.rng.range(2, 254)
        )
    }
}

/// Tuesday: a support-access window with an account created and a restore.
fn support_window(b: &mut Builder<'_>, r: &Roles) {
    let Roles {
        support,
        created,
        a0,
        g,
        ..
    } = *r;
    b.add(TUE, (9, 38, 11), "code42_support_user_access_enabled", a0);
    let login = b.add(TUE, (9, 52, 40), "logged_in", support);
    let add = b.add(TUE, (10, 4, 7), "user_registered", support);
    b.affects(add, created);
    let restore = b.add(TUE, (10, 21, 30), "restore_started", support);
    let restore_end = b.add(TUE, (10, 58, 2), "restore_ended", support);
    b.follows(restore_end, restore);
    b.detail(restore_end, "success", Val::Bool(true));
    let temp_login = b.add(TUE, (10, 31, 15), "logged_in", created);
    let temp_other = b.role(
        TUE,
        (10, 34, 2),
        "user_roles_assigned",
        created,
        g[0],
        "Security Administrator",
    );
    let temp_self = b.role(
        TUE,
        (10, 36, 45),
        "user_roles_assigned",
        created,
        created,
        "Customer Cloud Admin",
    );
    b.add(TUE, (13, 6, 50), "support_user_access_disabled", a0);
    let support_name = b.name(support);
    let temp_name = b.name(created);
    b.case(
        "support-window",
        "support-user-activity",
        Severity::Low,
        support_name.clone(),
        format!(
            "{} opened support access at Tue 09:38 and closed it at 13:06; inside it the \
             support user signed in, created an account and ran a restore",
            b.name(a0)
        ),
        vec![login, add, restore, restore_end],
    );
    b.case(
        "support-created-account",
        "support-user-activity",
        Severity::Medium,
        support_name.clone(),
        format!("the Code42 support user created the account {temp_name}"),
        vec![add],
    );
    b.case(
        "support-created-account-acts",
        "support-user-activity",
        Severity::High,
        temp_name.clone(),
        format!(
            "{temp_name}, created by the support user 27 minutes earlier, signed in and \
             granted admin roles to a colleague and to itself"
        ),
        vec![temp_login, temp_other, temp_self],
    );
    b.case(
        "created-account-grants-role",
        "privilege-changes",
        Severity::Medium,
        temp_name.clone(),
        format!(
            "{temp_name} (no administrative history, no admin role) granted Security \
             Administrator to {}",
            b.name(g[0])
        ),
        vec![temp_other],
    );
    b.case(
        "created-account-self-grant",
        "privilege-changes",
        Severity::High,
        temp_name.clone(),
        format!("{temp_name} granted itself Customer Cloud Admin"),
        vec![temp_self],
    );
    b.case(
        "support-restore",
        "file-access",
        Severity::Medium,
        support_name.clone(),
        "the Code42 support user ran a restore (inside its access window)".into(),
        vec![restore, restore_end],
    );
}

/// Tuesday: a role granted and revoked two hours later.
fn temporary_escalation(b: &mut Builder<'_>, r: &Roles) {
    let Roles { a0, g, .. } = *r;
    let grant = b.role(
        TUE,
        (11, 14, 20),
        "user_roles_assigned",
        a0,
        g[1],
        "Customer Cloud Admin",
    );
    let revoke = b.role(
        TUE,
        (13, 16, 5),
        "user_roles_revoked",
        a0,
        g[1],
        "Customer Cloud Admin",
    );
    b.follows(revoke, grant);
    b.case(
        "temporary-escalation",
        "privilege-changes",
        Severity::Medium,
        b.name(a0),
        format!(
            "Customer Cloud Admin granted to {} at Tue 11:14 and revoked at 13:16",
            b.name(g[1])
        ),
        vec![grant, revoke],
    );
}

/// Tuesday afternoon and Wednesday morning: an analyst's burst of case exports, about
/// their usual week's total again (kept under the 200 ids of evidence a finding carries).
fn export_burst(b: &mut Builder<'_>, r: &Roles, opts: &GenOptions) {
    let Roles { n1, .. } = *r;
    let org = b.org;
    let usual = analyst_week(opts, org);
    let exports = (usual + 20.0).round().clamp(40.0, 170.0) as usize;
    let mut burst = Vec::with_capacity(exports);
    let first_day = exports * 3 / 5;
    for k in 0..exports {
        let (day, start, span) = if k < first_day {
            (TUE, 13 * 60, 230)
        } else {
            (WED, 9 * 60 + 10, 170)
        };
        let (j, n) = if k < first_day {
            (k, first_day)
        } else {
            (k - first_day, exports - first_day)
        };
        let minute = start + (j * span / n.max(1)) as i64;
        burst.push(b.add(day, (minute / 60, minute % 60, 5), "case_exported", n1));
    }
    b.case(
        "analyst-export-burst",
        "analyst-case-actions",
        Severity::High,
        b.name(n1),
        format!(
            "{} exported {exports} cases on Tuesday afternoon and Wednesday morning, on top \
             of a usual week of about {} case actions and searches",
            b.name(n1),
            usual.round()
        ),
        burst,
    );
}

/// Wednesday: an ordinary user changes a role.
fn non_admin_change(b: &mut Builder<'_>, r: &Roles) {
    let Roles { g, user, .. } = *r;
    let by_user = b.role(
        WED,
        (11, 41, 33),
        "user_roles_assigned",
        user,
        g[2],
        "Insider Risk Analyst",
    );
    b.case(
        "non-admin-role-change",
        "privilege-changes",
        Severity::Medium,
        b.name(user),
        format!(
            "{}, an ordinary user, granted Insider Risk Analyst to {}",
            b.name(user),
            b.name(g[2])
        ),
        vec![by_user],
    );
}

/// Wednesday: a self-grant.
fn self_grant(b: &mut Builder<'_>, r: &Roles) {
    let Roles { a1, .. } = *r;
    let own = b.role(
        WED,
        (14, 22, 9),
        "user_roles_assigned",
        a1,
        a1,
        "Security Administrator",
    );
    b.case(
        "self-grant",
        "privilege-changes",
        Severity::High,
        b.name(a1),
        format!("{} granted themself Security Administrator", b.name(a1)),
        vec![own],
    );
}

/// Wednesday: four API client secret resets in 17 minutes.
fn secret_resets(b: &mut Builder<'_>, r: &Roles) {
    let Roles { a2, .. } = *r;
    let org = b.org;
    let clients: Vec<String> = org
        .api_clients
        .iter()
        .map(|&i| org.people[i].name.clone())
        .collect();
    let mut resets = Vec::new();
    for (k, m) in [(0, 2), (1, 7), (2, 13), (3, 19)] {
        let i = b.add(WED, (15, m, 40), "api_client_secret_reset", a2);
        let client = clients
            .get(k % clients.len().max(1))
            .cloned()
            .unwrap_or_default();
        b.detail(i, "apiClientId", Val::Owned(client));
        resets.push(i);
    }
    b.case(
        "secret-reset-burst",
        "privilege-changes",
        Severity::High,
        b.name(a2),
        format!(
            "{} reset API client secrets four times within 17 minutes",
            b.name(a2)
        ),
        resets,
    );
}

/// Thursday: a case opened by one analyst and deleted by another.
fn case_deletion(b: &mut Builder<'_>, r: &Roles) {
    let Roles { n3, n4, .. } = *r;
    let opened = b.add(THU, (9, 12, 44), "case_created", n3);
    let deleted = b.add(THU, (16, 41, 19), "case_deleted", n4);
    b.follows(deleted, opened);
    b.case(
        "case-deletion",
        "analyst-case-actions",
        Severity::Medium,
        b.name(n4),
        format!(
            "{} deleted a case {} had opened that morning",
            b.name(n4),
            b.name(n3)
        ),
        vec![deleted, opened],
    );
}

/// Thursday: a privileged action from a brand-new outside address.
fn new_outside_address(b: &mut Builder<'_>, r: &Roles) {
    let Roles { a3, g, .. } = *r;
    let new_ip = b.foreign_ip("185.220");
    let signin = b.add(THU, (10, 2, 31), "logged_in", a3);
    b.from(signin, &new_ip);
    let remote_grant = b.role(
        THU,
        (10, 6, 12),
        "user_roles_assigned",
        a3,
        g[3],
        "Customer Cloud Admin",
    );
    b.from(remote_grant, &new_ip);
    b.case(
        "privileged-from-new-outside-address",
        "unusual-ips",
        Severity::High,
        b.name(a3),
        format!(
            "{} signed in from {new_ip}, never seen before and outside the corporate \
             networks, and granted Customer Cloud Admin to {}",
            b.name(a3),
            b.name(g[3])
        ),
        vec![signin, remote_grant],
    );
}

/// Thursday: six users behind one outside address (a hotel, a conference network).
fn shared_address(b: &mut Builder<'_>, r: &Roles) {
    let shared_ip = b.foreign_ip("81.2");
    let mut logins = Vec::new();
    for (k, &who) in r.travellers.iter().enumerate() {
        let i = b.add(
            THU,
            (12, 31 + 4 * k as i64, 17),
            "logged_in",
            Actor::Org(who),
        );
        b.from(i, &shared_ip);
        logins.push(i);
    }
    b.case(
        "shared-outside-address",
        "unusual-ips",
        Severity::Medium,
        String::new(),
        format!("six users signed in from {shared_ip} within 20 minutes"),
        logins,
    );
}

/// Thursday afternoon: a bulk download, 40 above the default daily threshold.
fn bulk_download(b: &mut Builder<'_>, r: &Roles) {
    let Roles { n2, .. } = *r;
    let files = Config::default().file_access.bulk_per_day as usize + 40;
    let mut downloads = Vec::with_capacity(files);
    for k in 0..files {
        let second = (13 * 60 + 30) * 60 + k as i64 * 60;
        downloads.push(b.add(
            THU,
            (second / 3600, second / 60 % 60, second % 60),
            "file_download",
            n2,
        ));
    }
    b.case(
        "bulk-download",
        "file-access",
        Severity::Medium,
        b.name(n2),
        format!("{} downloaded {files} files in one afternoon", b.name(n2)),
        downloads,
    );
}

/// Friday: one admin's undone changes.
fn training(b: &mut Builder<'_>, r: &Roles) {
    let Roles { a3, .. } = *r;
    let org = b.org;
    let mut undone = Vec::new();
    for (start, end) in [
        ((10, 2, 5), (10, 9, 41)),
        ((10, 17, 2), (10, 24, 30)),
        ((10, 33, 8), (10, 41, 55)),
    ] {
        let c = b.add(FRI, start, "alert_rule_created", a3);
        b.detail(c, "ruleName", Val::Str("USB exfiltration (test)"));
        let d = b.add(FRI, end, "alert_rule_deleted", a3);
        b.follows(d, c);
        b.detail(d, "ruleName", Val::Str("USB exfiltration (test)"));
        undone.extend([c, d]);
    }
    let rule = org.rules.first();
    for (off_at, on_at) in [((11, 2, 14), (11, 5, 50)), ((11, 20, 3), (11, 26, 37))] {
        let d = b.add(FRI, off_at, "alert_rule_disabled", a3);
        let e = b.add(FRI, on_at, "alert_rule_enabled", a3);
        for i in [d, e] {
            if let Some(r) = rule {
                b.detail(i, "ruleId", Val::Owned(r.id.clone()));
                b.detail(i, "ruleName", Val::Str(r.name));
            }
        }
        b.follows(e, d);
        undone.extend([d, e]);
    }
    b.case(
        "training-reversals",
        "training-needs",
        Severity::Medium,
        b.name(a3),
        format!(
            "{} created and deleted an alert rule three times, then disabled and re-enabled \
             another twice: five changes undone",
            b.name(a3)
        ),
        undone,
    );
}

/// Friday evening: the support user with access switched off.
fn support_outside(b: &mut Builder<'_>, r: &Roles) {
    let Roles { support, .. } = *r;
    let mut outside = vec![b.add(FRI, (19, 42, 3), "logged_in", support)];
    for m in [44, 51, 58] {
        outside.push(b.add(FRI, (19, m, 26), "search_issued", support));
    }
    outside.push(b.add(FRI, (20, 6, 12), "file_download", support));
    b.case(
        "support-outside-window",
        "support-user-activity",
        Severity::High,
        b.name(support),
        "the Code42 support user signed in, searched and downloaded a file on Friday \
         evening with support access off"
            .into(),
        outside,
    );
}

/// Saturday night: a privilege change.
fn weekend_night(b: &mut Builder<'_>, r: &Roles) {
    let Roles { a2, g, .. } = *r;
    let night = b.role(
        SAT,
        (2, 4, 37),
        "user_roles_assigned",
        a2,
        g[4],
        "Customer Cloud Admin",
    );
    b.case(
        "weekend-night-privilege-change",
        "after-hours-admin",
        Severity::Medium,
        b.name(a2),
        format!(
            "{} granted Customer Cloud Admin to {} at 02:04 on Saturday",
            b.name(a2),
            b.name(g[4])
        ),
        vec![night],
    );
}
