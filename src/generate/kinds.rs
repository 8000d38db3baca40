/*!
What each event type of the catalog looks like when generated: how often it happens, who does it,
which event usually follows it (an undo, a restore's end), and the event-specific detail fields it
carries. The detail field names follow the catalog's `subject_keys`; `@user` becomes the event's
affected user (`userId` / `userName`).

Event types, labels and categories come from the catalog only; this table just refers to them by API
name, and a unit test checks that it covers the catalog exactly. Nothing here writes output.
*/

use std::collections::HashMap;

use chrono::{Days, NaiveDate};

use super::org::{Org, Person, hex, numeric_id, public_ip, uuid};
use super::rng::Rng;

/// A detail value: JSON's types, borrowed from the organisation where possible.
#[derive(Debug, Clone, PartialEq)]
pub enum Val<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Str(&'a str),
    Owned(String),
    List(Vec<Val<'a>>),
    Obj(Vec<(&'static str, Val<'a>)>),
}

/// The `actorIpAddress` of an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Ip<'a> {
    /// JSON null (and no IP for SYSTEM).
    Null,
    /// The literal string `"null"`, as some real events carry.
    NullText,
    One(&'a str),
    /// A client address followed by a proxy: `"client, proxy"`.
    Chain(&'a str, &'a str),
    Owned(String),
}

/// One generated event, independent of any output format.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    /// Nanoseconds since the epoch (UTC), already truncated to `prec` fractional digits.
    pub ns: i64,
    /// Fractional digits written: 0, 3, 6 or 9.
    pub prec: u8,
    /// Index into [`SPECS`].
    pub kind: u16,
    /// `None`: the event has no actor fields at all.
    pub actor: Option<&'a Person>,
    pub ip: Ip<'a>,
    pub agent: Option<&'a str>,
    pub affected: Option<&'a Person>,
    pub details: Vec<(&'static str, Val<'a>)>,
    /// The planted event this is (index into the plant's events), `None` for the background.
    pub planted: Option<u32>,
}

/// Who performs an event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// Any console user, weighted by activity.
    Staff,
    Analyst,
    Admin,
    /// Analysts mostly, sometimes an API client (a SOAR integration).
    AnalystOrApi,
    /// The SCIM provisioning actor mostly, sometimes an admin.
    Scim,
    /// Only inside scripted scenes (support access windows, case clean-ups, planted cases); never
    /// drawn at random.
    Scripted,
}

/// How one event type is generated.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub api: &'static str,
    /// Relative frequency (per mille of all events, roughly).
    pub weight: f64,
    pub who: Who,
    /// Probability that SYSTEM is the actor instead.
    pub system: f64,
    /// An event type that follows this one shortly, by the same actor on the same subject, with the
    /// given probability (an undo, or the end of a restore).
    pub follow: Option<(&'static str, f64)>,
    pub body: Body,
}

/// The event-specific fields of a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    None,
    Search,
    FileDownload,
    Zip,
    IoError,
    PathPurged,
    RestoreStarted,
    RestoreEnded,
    AlertState,
    AlertNote,
    Rule(RuleOp),
    ApiClient(ApiOp),
    Case(CaseOp),
    DataPref(&'static str, Change),
    Federation(Change),
    Idp(Change),
    Scim(Change),
    User(UserOp),
    Role(Grant),
    CloudAlias,
    Departing(WatchOp),
    HighRisk(WatchOp),
    RiskFactor,
    RiskDate(&'static str),
    RiskNotes,
    WatchDef(&'static str),
    WatchUser,
    Watchlist(Change),
    RiskSetting(Change),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleOp {
    Created,
    Edited,
    Toggled,
    Deleted,
    AllUsersRemoved,
    Users,
    Watchlist,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiOp {
    Created,
    Deleted,
    Description,
    Name,
    PermissionAssigned,
    PermissionRevoked,
    SecretReset,
}

/// Whether a role or permission change gives access or takes it away.
///
/// Background grants and revocations act on disjoint subjects (see [`build`]): an undo within a
/// day is a temporary escalation to the privilege analysis, which the background must not contain
/// by chance; the scripted and planted scenes that want one make it explicitly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    Given,
    Taken,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseOp {
    Created,
    Assignee,
    Closed,
    Deleted,
    Exported,
    FileEvent,
    Subject,
    Archived,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Added,
    Changed,
    Deleted,
    /// Assigned to or removed from the organisation (identity providers).
    Assigned,
    /// Metadata or credentials updated.
    Metadata,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserOp {
    Activated,
    Registered,
    Deactivated,
    Email,
    Attributes,
    Reference,
    LocalAuth,
    Name,
    Username,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchOp {
    Added,
    Settings,
    DepartureDate,
    Removed,
}

const fn spec(api: &'static str, weight: f64, who: Who, body: Body) -> Spec {
    Spec {
        api,
        weight,
        who,
        system: 0.0,
        follow: None,
        body,
    }
}

const fn then(mut s: Spec, follow: &'static str, p: f64) -> Spec {
    s.follow = Some((follow, p));
    s
}

const fn sys(mut s: Spec, p: f64) -> Spec {
    s.system = p;
    s
}

use Body as B;
use Who::*;

/// Every event type of the catalog, in catalog order.
pub static SPECS: &[Spec] = &[
    spec("support_user_access_disabled", 0.0, Scripted, B::None),
    spec("code42_support_user_access_enabled", 0.0, Scripted, B::None),
    spec(
        "risk_setting_changed",
        0.5,
        Admin,
        B::RiskSetting(Change::Changed),
    ),
    spec(
        "risk_setting_created",
        0.1,
        Admin,
        B::RiskSetting(Change::Added),
    ),
    spec("alert_note_edited", 30.0, Analyst, B::AlertNote),
    then(
        spec("alert_rule_created", 0.8, Admin, B::Rule(RuleOp::Created)),
        "alert_rule_deleted",
        0.02,
    ),
    spec("alert_rule_deleted", 0.3, Admin, B::Rule(RuleOp::Deleted)),
    then(
        spec("alert_rule_disabled", 0.3, Admin, B::Rule(RuleOp::Toggled)),
        "alert_rule_enabled",
        0.1,
    ),
    spec("alert_rule_edited", 2.5, Admin, B::Rule(RuleOp::Edited)),
    spec("alert_rule_enabled", 0.2, Admin, B::Rule(RuleOp::Toggled)),
    sys(
        spec("alert_state_changed", 130.0, AnalystOrApi, B::AlertState),
        0.04,
    ),
    spec(
        "all_users_removed_from_alert_rule",
        0.1,
        Admin,
        B::Rule(RuleOp::AllUsersRemoved),
    ),
    then(
        spec(
            "users_added_to_alert_rule",
            1.5,
            Admin,
            B::Rule(RuleOp::Users),
        ),
        "users_removed_from_alert_rule",
        0.02,
    ),
    spec(
        "users_removed_from_alert_rule",
        0.8,
        Admin,
        B::Rule(RuleOp::Users),
    ),
    spec(
        "watchlist_removed_from_alert_rule",
        0.2,
        Admin,
        B::Rule(RuleOp::Watchlist),
    ),
    spec(
        "api_client_created",
        0.2,
        Admin,
        B::ApiClient(ApiOp::Created),
    ),
    spec(
        "api_client_deleted",
        0.1,
        Admin,
        B::ApiClient(ApiOp::Deleted),
    ),
    spec(
        "api_client_description_changed",
        0.1,
        Admin,
        B::ApiClient(ApiOp::Description),
    ),
    spec(
        "api_client_name_changed",
        0.1,
        Admin,
        B::ApiClient(ApiOp::Name),
    ),
    spec(
        "api_client_permissions_assigned",
        0.3,
        Admin,
        B::ApiClient(ApiOp::PermissionAssigned),
    ),
    spec(
        "api_client_permissions_revoked",
        0.2,
        Admin,
        B::ApiClient(ApiOp::PermissionRevoked),
    ),
    spec(
        "api_client_secret_reset",
        0.3,
        Admin,
        B::ApiClient(ApiOp::SecretReset),
    ),
    spec("logged_in", 300.0, Staff, B::None),
    spec(
        "case_assignee_changed",
        8.0,
        Analyst,
        B::Case(CaseOp::Assignee),
    ),
    spec("case_closed", 7.0, Analyst, B::Case(CaseOp::Closed)),
    spec("case_created", 10.0, Analyst, B::Case(CaseOp::Created)),
    spec("case_deleted", 0.0, Scripted, B::Case(CaseOp::Deleted)),
    spec("case_exported", 5.0, Analyst, B::Case(CaseOp::Exported)),
    then(
        spec(
            "case_file_event_added",
            40.0,
            Analyst,
            B::Case(CaseOp::FileEvent),
        ),
        "case_file_event_removed",
        0.004,
    ),
    spec(
        "case_file_event_removed",
        4.0,
        Analyst,
        B::Case(CaseOp::FileEvent),
    ),
    spec(
        "case_subject_changed",
        1.5,
        Analyst,
        B::Case(CaseOp::Subject),
    ),
    spec("case_archived", 2.0, Analyst, B::Case(CaseOp::Archived)),
    then(
        spec(
            "account_name_added",
            0.3,
            Admin,
            B::DataPref("accountName", Change::Added),
        ),
        "account_name_deleted",
        0.02,
    ),
    spec(
        "account_name_changed",
        0.15,
        Admin,
        B::DataPref("accountName", Change::Changed),
    ),
    spec(
        "account_name_deleted",
        0.1,
        Admin,
        B::DataPref("accountName", Change::Deleted),
    ),
    then(
        spec(
            "domain_added",
            0.4,
            Admin,
            B::DataPref("domain", Change::Added),
        ),
        "domain_deleted",
        0.02,
    ),
    spec(
        "domain_changed",
        0.15,
        Admin,
        B::DataPref("domain", Change::Changed),
    ),
    spec(
        "domain_deleted",
        0.1,
        Admin,
        B::DataPref("domain", Change::Deleted),
    ),
    then(
        spec(
            "ip_address_added",
            0.3,
            Admin,
            B::DataPref("ipAddress", Change::Added),
        ),
        "ip_address_deleted",
        0.02,
    ),
    spec(
        "ip_address_changed",
        0.15,
        Admin,
        B::DataPref("ipAddress", Change::Changed),
    ),
    spec(
        "ip_address_deleted",
        0.1,
        Admin,
        B::DataPref("ipAddress", Change::Deleted),
    ),
    then(
        spec(
            "slack_workspace_added",
            0.2,
            Admin,
            B::DataPref("workspaceName", Change::Added),
        ),
        "slack_workspace_deleted",
        0.02,
    ),
    spec(
        "slack_workspace_changed",
        0.1,
        Admin,
        B::DataPref("workspaceName", Change::Changed),
    ),
    spec(
        "slack_workspace_deleted",
        0.1,
        Admin,
        B::DataPref("workspaceName", Change::Deleted),
    ),
    then(
        spec("url_added", 0.3, Admin, B::DataPref("url", Change::Added)),
        "url_deleted",
        0.05,
    ),
    spec(
        "url_changed",
        0.15,
        Admin,
        B::DataPref("url", Change::Changed),
    ),
    spec(
        "url_deleted",
        0.1,
        Admin,
        B::DataPref("url", Change::Deleted),
    ),
    spec("file_download", 45.0, Analyst, B::FileDownload),
    spec("file_download_io_error", 1.5, Analyst, B::IoError),
    sys(spec("path_purged", 0.8, Admin, B::PathPurged), 0.3),
    spec("restore_ended", 0.3, Analyst, B::RestoreEnded),
    then(
        spec("restore_started", 8.0, Analyst, B::RestoreStarted),
        "restore_ended",
        0.95,
    ),
    spec("zip_file_downloaded", 12.0, Analyst, B::Zip),
    spec("search_issued", 90.0, Analyst, B::Search),
    spec(
        "federation_created",
        0.04,
        Admin,
        B::Federation(Change::Added),
    ),
    spec(
        "federation_deleted",
        0.02,
        Admin,
        B::Federation(Change::Deleted),
    ),
    spec(
        "federation_metadata_updated",
        0.06,
        Admin,
        B::Federation(Change::Metadata),
    ),
    spec(
        "federation_updated",
        0.04,
        Admin,
        B::Federation(Change::Changed),
    ),
    spec(
        "identity_provider_assigned_to_org",
        0.03,
        Admin,
        B::Idp(Change::Assigned),
    ),
    spec(
        "identity_provider_created",
        0.03,
        Admin,
        B::Idp(Change::Added),
    ),
    spec(
        "identity_provider_deleted",
        0.02,
        Admin,
        B::Idp(Change::Deleted),
    ),
    spec(
        "identity_provider_metadata_updated",
        0.04,
        Admin,
        B::Idp(Change::Metadata),
    ),
    spec(
        "identity_provider_removed_from_org",
        0.02,
        Admin,
        B::Idp(Change::Assigned),
    ),
    spec(
        "identity_provider_updated",
        0.03,
        Admin,
        B::Idp(Change::Changed),
    ),
    spec(
        "scim_provisioner_configuration_updated",
        0.04,
        Admin,
        B::Scim(Change::Changed),
    ),
    spec(
        "scim_provisioner_created",
        0.02,
        Admin,
        B::Scim(Change::Added),
    ),
    spec(
        "scim_provisioner_credentials_changed",
        0.04,
        Admin,
        B::Scim(Change::Metadata),
    ),
    spec(
        "scim_provisioner_deleted",
        0.01,
        Admin,
        B::Scim(Change::Deleted),
    ),
    spec("user_activated", 0.8, Scim, B::User(UserOp::Activated)),
    spec("user_registered", 3.0, Scim, B::User(UserOp::Registered)),
    sys(
        then(
            spec("user_deactivated", 2.0, Scim, B::User(UserOp::Deactivated)),
            "user_activated",
            0.005,
        ),
        0.1,
    ),
    spec("email_change", 0.5, Scim, B::User(UserOp::Email)),
    sys(
        spec(
            "external_attributes_change",
            5.0,
            Scim,
            B::User(UserOp::Attributes),
        ),
        0.1,
    ),
    spec(
        "external_reference_change",
        0.4,
        Scim,
        B::User(UserOp::Reference),
    ),
    spec(
        "local_auth_only_changed",
        0.3,
        Admin,
        B::User(UserOp::LocalAuth),
    ),
    spec("name_change", 0.5, Scim, B::User(UserOp::Name)),
    spec("user_roles_assigned", 3.0, Admin, B::Role(Grant::Given)),
    spec("user_roles_revoked", 1.5, Admin, B::Role(Grant::Taken)),
    spec("username_change", 0.3, Admin, B::User(UserOp::Username)),
    then(
        spec(
            "risk_profile_cloud_alias_added",
            4.0,
            AnalystOrApi,
            B::CloudAlias,
        ),
        "risk_profile_cloud_alias_removed",
        0.005,
    ),
    spec(
        "risk_profile_cloud_alias_removed",
        1.0,
        AnalystOrApi,
        B::CloudAlias,
    ),
    spec(
        "departing_employee_added",
        3.0,
        AnalystOrApi,
        B::Departing(WatchOp::Added),
    ),
    spec(
        "departing_employee_alert_settings_changed",
        1.0,
        Analyst,
        B::Departing(WatchOp::Settings),
    ),
    spec(
        "departing_employee_departure_date_changed",
        1.0,
        AnalystOrApi,
        B::Departing(WatchOp::DepartureDate),
    ),
    spec(
        "departing_employee_removed",
        2.0,
        AnalystOrApi,
        B::Departing(WatchOp::Removed),
    ),
    then(
        spec(
            "department_added_to_watchlist_definition",
            0.4,
            Admin,
            B::WatchDef("department"),
        ),
        "department_removed_from_watchlist_definition",
        0.02,
    ),
    spec(
        "department_removed_from_watchlist_definition",
        0.2,
        Admin,
        B::WatchDef("department"),
    ),
    spec(
        "excluded_users_added_to_watchlist_definition",
        0.8,
        Analyst,
        B::WatchUser,
    ),
    spec(
        "excluded_users_removed_from_watchlist_definition",
        0.4,
        Analyst,
        B::WatchUser,
    ),
    spec(
        "groups_added_to_watchlist_definition",
        0.4,
        Admin,
        B::WatchDef("group"),
    ),
    spec(
        "groups_removed_from_watchlist_definition",
        0.2,
        Admin,
        B::WatchDef("group"),
    ),
    spec(
        "high_risk_employee_added",
        2.0,
        AnalystOrApi,
        B::HighRisk(WatchOp::Added),
    ),
    spec(
        "high_risk_employee_alert_settings_changed",
        0.5,
        Analyst,
        B::HighRisk(WatchOp::Settings),
    ),
    spec(
        "high_risk_employee_removed",
        1.0,
        AnalystOrApi,
        B::HighRisk(WatchOp::Removed),
    ),
    spec(
        "included_users_added_to_watchlist_definition",
        1.2,
        Analyst,
        B::WatchUser,
    ),
    spec(
        "included_users_removed_from_watchlist_definition",
        0.6,
        Analyst,
        B::WatchUser,
    ),
    spec("risk_factor_added", 1.2, AnalystOrApi, B::RiskFactor),
    spec("risk_factor_removed", 0.5, AnalystOrApi, B::RiskFactor),
    spec(
        "risk_profile_end_date_changed",
        3.0,
        AnalystOrApi,
        B::RiskDate("endDate"),
    ),
    spec("risk_profile_notes_changed", 5.0, Analyst, B::RiskNotes),
    spec(
        "risk_profile_start_date_changed",
        3.0,
        AnalystOrApi,
        B::RiskDate("startDate"),
    ),
    then(
        spec(
            "user_added_to_watchlist_membership",
            20.0,
            AnalystOrApi,
            B::WatchUser,
        ),
        "user_removed_from_watchlist_membership",
        0.005,
    ),
    spec(
        "user_removed_from_watchlist_membership",
        12.0,
        AnalystOrApi,
        B::WatchUser,
    ),
    spec("watchlist_created", 0.3, Admin, B::Watchlist(Change::Added)),
    spec(
        "watchlist_definition_changed",
        0.6,
        Admin,
        B::Watchlist(Change::Changed),
    ),
    spec(
        "watchlist_deleted",
        0.1,
        Admin,
        B::Watchlist(Change::Deleted),
    ),
];

/// Every detail key any event type can carry (besides the canonical fields). The api-csv header is
/// built from it; a unit test checks that generated events use no other key.
pub const DETAIL_KEYS: &[&str] = &[
    "type",
    "success",
    "requestJson",
    "resultCount",
    "fileName",
    "filePath",
    "fileSize",
    "fileCount",
    "errorMessage",
    "path",
    "deviceId",
    "restoreId",
    "bytes",
    "alertId",
    "previousState",
    "newState",
    "note",
    "ruleId",
    "ruleName",
    "severity",
    "changes",
    "watchlistId",
    "apiClientId",
    "apiClientName",
    "description",
    "permission",
    "permissions",
    "previousName",
    "caseNumber",
    "caseName",
    "assignee",
    "previousAssignee",
    "fileEventId",
    "subject",
    "previousSubject",
    "accountName",
    "domain",
    "ipAddress",
    "workspaceName",
    "url",
    "previousValue",
    "federationId",
    "metadataUrl",
    "displayName",
    "metadataMd5sum",
    "identityProviderId",
    "identityProviderName",
    "orgId",
    "scimProvisionerId",
    "scimProvisionerName",
    "config",
    "newEmail",
    "previousEmail",
    "attributes",
    "externalReference",
    "newValue",
    "newName",
    "newUsername",
    "role",
    "cloudAlias",
    "departureDate",
    "previousDepartureDate",
    "alertsEnabled",
    "riskFactors",
    "riskFactor",
    "startDate",
    "endDate",
    "notes",
    "department",
    "group",
    "watchlistType",
    "settingName",
];

/// Deprecated event types fade out over the range: they were replaced by watchlist events.
pub fn deprecated_factor(day: u32) -> f64 {
    3.0 * (-f64::from(day) / 4.0).exp() + 0.05
}

/// State carried through a day in time order: case numbers and follow-up subjects.
#[derive(Debug, Default)]
pub struct CaseState {
    /// Cases that exist so far (the next case created gets `count + 1`).
    pub count: u64,
    /// Case numbers of events that may be followed by an event on the same case, by subject seed.
    pub by_subject: HashMap<u64, u64>,
}

/// What a builder needs besides the random streams.
pub struct Cx<'a, 'c> {
    pub org: &'a Org,
    pub cases: &'c mut CaseState,
    /// The event's calendar date (for dates inside details).
    pub date: NaiveDate,
}

const NOTES: &[&str] = &[
    "Reviewed with manager, no further action.",
    "User says \"personal files only\"; confirmed with HR.",
    "Escalated to legal.\nSee the case for details.",
    "Résumé upload to personal Dropbox - benign.",
    "False positive: sync client re-uploading after laptop refresh",
    "Contacted user's manager (Sales, EMEA), awaiting reply",
    "Matches ticket SEC-4471. Closing.",
    "Large zip to USB, 2.3 GB; reviewing file list",
];

const FILES: &[&str] = &[
    "Q3 forecast.xlsx",
    "customer_list_2026.csv",
    "Board deck, final.pptx",
    "design \"v2\".pdf",
    "payroll-march.xlsx",
    "source.tar.gz",
    "roadmap_2026.docx",
    "contacts.vcf",
    "Zürich office plan.pdf",
    "id_rsa",
    "notes.txt",
    "salesforce_export.csv",
];

const DEPARTMENTS: &[&str] = &[
    "Sales",
    "Engineering",
    "R&D",
    "Finance, Planning & Analysis",
    "Marketing",
    "Legal",
    "Customer Success",
];
const GROUPS: &[&str] = &[
    "Contractors",
    "VIP",
    "Engineering-All",
    "M&A project team",
    "Interns 2026",
];
pub const ROLES: &[&str] = &[
    "Customer Cloud Admin",
    "Security Administrator",
    "Insider Risk Analyst",
    "Insider Risk Investigator",
    "Security Center User",
    "Alert Emails",
    "Desktop User",
    "Audit Log Viewer",
];
/// The permissions background grants give (read scopes) and revocations take (write scopes).
const GRANTED_PERMISSIONS: &[&str] = &[
    "Alerts Read",
    "Audit Log Read",
    "File Events Read",
    "Users Read",
];
const REVOKED_PERMISSIONS: &[&str] = &[
    "Alerts Read/Write",
    "Cases Read/Write",
    "Watchlists Read/Write",
];
const PERMISSIONS: &[&str] = &[
    "Alerts Read",
    "Alerts Read/Write",
    "Audit Log Read",
    "Cases Read/Write",
    "File Events Read",
    "Watchlists Read/Write",
    "Users Read",
];
const RISK_FACTORS: &[&str] = &[
    "FLIGHT_RISK",
    "CONTRACT_EMPLOYEE",
    "ELEVATED_ACCESS_PRIVILEGES",
    "HIGH_IMPACT_EMPLOYEE",
    "PERFORMANCE_CONCERNS",
    "POOR_SECURITY_PRACTICES",
    "SUSPICIOUS_SYSTEM_ACTIVITY",
];
const SETTINGS: &[&str] = &[
    "fileCategory.sourceCode.riskScore",
    "fileCategory.document.riskScore",
    "trustedActivity.slack",
    "riskIndicator.removableMedia",
    "riskIndicator.personalCloud",
    "retentionDays",
];
const ALERT_STATES: &[&str] = &["OPEN", "PENDING", "IN_PROGRESS", "RESOLVED"];
const SEVERITIES: &[&str] = &["LOW", "MEDIUM", "HIGH", "CRITICAL"];
const EXPOSURES: &[&str] = &[
    "RemovableMedia",
    "ApplicationRead",
    "CloudStorage",
    "IsPublic",
    "SharedViaLink",
];
const DOMAINS: &[&str] = &[
    "example-partner.com",
    "contoso.net",
    "vendor-portal.io",
    "acme-legal.co.uk",
    "example.org",
];
const WORKSPACES: &[&str] = &[
    "example-eng",
    "example-corp",
    "example-sales",
    "partners-shared",
];
const URLS: &[&str] = &[
    "https://drive.example-partner.com/",
    "https://github.com/example-corp",
    "https://example.sharepoint.com/sites/legal",
    "https://upload.vendor-portal.io/in?token=x&v=2",
];
const IDPS: &[&str] = &["Okta", "Azure AD", "Ping Identity", "Google Workspace"];

/// Build the event-specific part of an event: the affected user and the detail fields.
///
/// `subj_seed` decides what the event acts on; a follow-up event (an undo) gets the seed of the
/// event it follows, and `subject_body` = that event's body, so both act on the same thing. `rng`
/// decides everything else.
pub fn build<'a>(
    body: Body,
    subject_body: Body,
    cx: &mut Cx<'a, '_>,
    subj_seed: u64,
    rng: &mut Rng,
    ev: &mut Event<'a>,
) {
    let org = cx.org;
    let mut subj = Rng::new(subj_seed);
    let s = &mut subj;
    let d = &mut ev.details;
    let staff = |r: &mut Rng| &org.people[*r.pick(&org.staff)];
    match body {
        Body::None => {}
        Body::Search => {
            let ok = rng.chance(0.96);
            d.push(("type", Val::Str("query")));
            d.push(("success", Val::Bool(ok)));
            d.push(("requestJson", Val::Owned(search_request(org, rng, cx.date))));
            let count = if ok {
                (rng.exp(400.0) as i64).min(10_000)
            } else {
                0
            };
            d.push(("resultCount", Val::Int(count)));
        }
        Body::FileDownload | Body::IoError => {
            let owner = staff(s);
            d.push(("fileName", Val::Str(rng.choose(FILES))));
            d.push(("filePath", Val::Owned(user_dir(owner, rng))));
            if body == Body::IoError {
                d.push((
                    "errorMessage",
                    Val::Str("IO error: connection reset by peer, retry later"),
                ));
            } else {
                d.push(("fileSize", Val::Int(rng.range(200, 80_000_000) as i64)));
            }
        }
        Body::Zip => {
            let owner = staff(s);
            let stem = owner.name.split('@').next().unwrap_or("files");
            d.push((
                "fileName",
                Val::Owned(format!("{stem}-files-{}.zip", rng.range(1, 999))),
            ));
            d.push(("fileCount", Val::Int(rng.range(2, 400) as i64)));
        }
        Body::PathPurged => {
            let owner = staff(s);
            d.push(("path", Val::Owned(user_dir(owner, rng))));
            d.push(("deviceId", Val::Owned(numeric_id(rng))));
        }
        Body::RestoreStarted | Body::RestoreEnded => {
            let restore = format!("{}", s.range(10_000_000, 99_999_999));
            let device = numeric_id(s);
            let files = s.range(1, 5_000) as i64;
            d.push(("restoreId", Val::Owned(restore)));
            d.push(("deviceId", Val::Owned(device)));
            d.push(("fileCount", Val::Int(files)));
            if body == Body::RestoreEnded {
                d.push(("success", Val::Bool(rng.chance(0.97))));
                d.push((
                    "bytes",
                    Val::Int(files * rng.range(2_000, 3_000_000) as i64),
                ));
            }
        }
        Body::AlertState => {
            d.push(("alertId", Val::Owned(uuid(s))));
            let i = rng.index(ALERT_STATES.len() - 1);
            d.push(("previousState", Val::Str(ALERT_STATES[i])));
            d.push(("newState", Val::Str(ALERT_STATES[i + 1])));
        }
        Body::AlertNote => {
            d.push(("alertId", Val::Owned(uuid(s))));
            d.push(("note", Val::Str(rng.choose(NOTES))));
        }
        Body::Rule(op) => {
            let fresh = subject_body == Body::Rule(RuleOp::Created) || s.chance(0.1);
            let (id, name) = if fresh {
                (Val::Owned(uuid(s)), s.choose(super::org::RULE_NAMES))
            } else {
                let r = s.pick(&org.rules);
                (Val::Str(r.id.as_str()), r.name)
            };
            if op == RuleOp::Users {
                ev.affected = Some(staff(s));
            }
            d.push(("ruleId", id));
            d.push(("ruleName", Val::Str(name)));
            match op {
                RuleOp::Created => d.push(("severity", Val::Str(rng.choose(SEVERITIES)))),
                RuleOp::Edited => {
                    let from = rng.index(SEVERITIES.len() - 1);
                    let mut changes = vec![(
                        "severity",
                        Val::Obj(vec![
                            ("from", Val::Str(SEVERITIES[from])),
                            ("to", Val::Str(SEVERITIES[from + 1])),
                        ]),
                    )];
                    if rng.chance(0.5) {
                        changes.push((
                            "riskIndicators",
                            Val::List(vec![
                                Val::Str("Removable media"),
                                Val::Str("Personal cloud, sync"),
                            ]),
                        ));
                    }
                    if rng.chance(0.3) {
                        changes.push(("notificationsEnabled", Val::Bool(rng.chance(0.5))));
                    }
                    d.push(("changes", Val::Obj(changes)));
                }
                RuleOp::Watchlist => {
                    d.push(("watchlistId", Val::Str(s.pick(&org.watchlists).id.as_str())))
                }
                _ => {}
            }
        }
        Body::ApiClient(op) => {
            let fresh = subject_body == Body::ApiClient(ApiOp::Created) || s.chance(0.3);
            let id = if fresh {
                Val::Owned(format!("key-{}", uuid(s)))
            } else {
                Val::Str(org.people[*s.pick(&org.api_clients)].name.as_str())
            };
            d.push(("apiClientId", id));
            match op {
                ApiOp::Created => {
                    d.push((
                        "apiClientName",
                        Val::Str(rng.choose(&["SIEM export", "SOAR playbooks", "HR connector"])),
                    ));
                    let n = rng.range(1, 3) as usize;
                    let perms = (0..n)
                        .map(|i| Val::Str(PERMISSIONS[(i * 3 + rng.index(3)) % PERMISSIONS.len()]));
                    d.push(("permissions", Val::List(perms.collect())));
                }
                ApiOp::Description => d.push((
                    "description",
                    Val::Str("Nightly export to the SIEM, owned by SecOps"),
                )),
                ApiOp::Name => {
                    d.push(("previousName", Val::Str("SIEM export")));
                    d.push(("newName", Val::Str("SIEM export (prod)")));
                }
                ApiOp::PermissionAssigned | ApiOp::PermissionRevoked => {
                    // Integrations gain read scopes and lose write scopes (least privilege): the
                    // two never meet on one client and permission, so no grant is undone by chance.
                    let pool = match subject_body {
                        Body::ApiClient(ApiOp::PermissionRevoked) => REVOKED_PERMISSIONS,
                        _ => GRANTED_PERMISSIONS,
                    };
                    d.push(("permission", Val::Str(s.choose(pool))));
                }
                ApiOp::Deleted | ApiOp::SecretReset => {}
            }
        }
        Body::Case(op) => {
            let number = match (op, cx.cases.by_subject.get(&subj_seed)) {
                (_, Some(&n)) => n,
                (CaseOp::Created, None) => {
                    cx.cases.count += 1;
                    cx.cases.count
                }
                _ => existing_case(cx.cases.count, rng),
            };
            cx.cases.by_subject.insert(subj_seed, number);
            d.push(("caseNumber", Val::Int(number as i64)));
            let analyst = |r: &mut Rng| Val::Str(org.people[*r.pick(&org.analysts)].name.as_str());
            match op {
                CaseOp::Created => {
                    let who = staff(rng);
                    d.push((
                        "caseName",
                        Val::Owned(format!("Investigation - {}", who.display)),
                    ));
                    d.push(("subject", Val::Str(who.name.as_str())));
                    d.push(("assignee", analyst(rng)));
                }
                CaseOp::Assignee => {
                    d.push(("assignee", analyst(rng)));
                    d.push((
                        "previousAssignee",
                        if rng.chance(0.3) {
                            Val::Null
                        } else {
                            analyst(rng)
                        },
                    ));
                }
                CaseOp::FileEvent => {
                    let id = format!(
                        "0_{}_{}_{}_0",
                        uuid(s),
                        s.range(10u64.pow(17), 10u64.pow(18) - 1),
                        s.below(1 << 40)
                    );
                    d.push(("fileEventId", Val::Owned(id)));
                }
                CaseOp::Subject => {
                    d.push(("subject", Val::Str(staff(rng).name.as_str())));
                    d.push(("previousSubject", Val::Str(staff(rng).name.as_str())));
                }
                CaseOp::Closed | CaseOp::Deleted | CaseOp::Exported | CaseOp::Archived => {}
            }
        }
        Body::DataPref(key, change) => {
            let value = data_pref_value(key, s);
            d.push((key, Val::Owned(value)));
            if change == Change::Changed {
                d.push(("previousValue", Val::Owned(data_pref_value(key, rng))));
            }
        }
        Body::Federation(change) => {
            d.push(("federationId", Val::Owned(format!("fed-{}", hex(s, 12)))));
            let name = s.choose(IDPS);
            d.push(("displayName", Val::Str(name)));
            if change != Change::Deleted {
                let tenant = uuid(s);
                d.push((
                    "metadataUrl",
                    Val::Owned(format!(
                        "https://login.microsoftonline.com/{tenant}/federationmetadata/2007-06/federationmetadata.xml"
                    )),
                ));
                d.push(("metadataMd5sum", Val::Owned(hex(rng, 32))));
            }
        }
        Body::Idp(change) => {
            d.push(("identityProviderId", Val::Owned(uuid(s))));
            d.push(("identityProviderName", Val::Str(s.choose(IDPS))));
            if change == Change::Assigned {
                d.push(("orgId", Val::Owned(numeric_id(s))));
            }
        }
        Body::Scim(change) => {
            d.push(("scimProvisionerId", Val::Owned(uuid(s))));
            d.push(("scimProvisionerName", Val::Str("Azure AD provisioning")));
            if change == Change::Changed {
                d.push((
                    "config",
                    Val::Obj(vec![
                        ("syncUsers", Val::Bool(true)),
                        ("syncGroups", Val::Bool(rng.chance(0.5))),
                        (
                            "attributeMappings",
                            Val::List(vec![Val::Str("department"), Val::Str("title")]),
                        ),
                    ]),
                ));
            }
        }
        Body::User(op) => {
            let who = if op == UserOp::Registered {
                &org.people[*s.pick(&org.new_hires)]
            } else {
                staff(s)
            };
            ev.affected = Some(who);
            let local = who.name.split('@').next().unwrap_or_default();
            match op {
                UserOp::Email => {
                    d.push(("previousEmail", Val::Str(who.name.as_str())));
                    d.push(("newEmail", Val::Owned(format!("{local}@corp.example.com"))));
                }
                UserOp::Attributes => {
                    let mut attrs = vec![
                        ("department", Val::Str(rng.choose(DEPARTMENTS))),
                        (
                            "title",
                            Val::Str(rng.choose(&[
                                "Account Executive",
                                "Engineer II",
                                "Director, Finance",
                            ])),
                        ),
                    ];
                    if rng.chance(0.5) {
                        attrs.push(("managerEmail", Val::Str(staff(rng).name.as_str())));
                    }
                    if rng.chance(0.2) {
                        attrs.push(("employeeNumber", Val::Int(rng.range(1000, 99_999) as i64)));
                    }
                    d.push(("attributes", Val::Obj(attrs)));
                }
                UserOp::Reference => d.push((
                    "externalReference",
                    Val::Owned(format!("EMP-{:06}", rng.below(1_000_000))),
                )),
                UserOp::LocalAuth => {
                    d.push(("newValue", Val::Bool(rng.chance(0.3))));
                    if rng.chance(0.5) {
                        // As a real event does: no actor fields at all.
                        ev.actor = None;
                    }
                }
                UserOp::Name => d.push((
                    "newName",
                    Val::Owned(format!("{} Smith-Jones", who.display)),
                )),
                UserOp::Username => {
                    d.push(("newUsername", Val::Owned(format!("{local}@example.io"))))
                }
                UserOp::Activated | UserOp::Registered | UserOp::Deactivated => {}
            }
        }
        Body::Role(_) => {
            // Roles are granted to people joining a team and revoked from people leaving one:
            // two disjoint halves of the staff, so a revocation never undoes a recent grant by
            // chance (an undo is a follow-up on the same subject). Nobody changes their own roles.
            let half = usize::from(subject_body == Body::Role(Grant::Taken));
            let slots = (org.staff.len() + 1 - half) / 2;
            let mut k = s.index(slots);
            let actor = ev.actor.map(|a| a.id.as_str());
            if actor == Some(org.people[org.staff[2 * k + half]].id.as_str()) {
                k = (k + 1) % slots;
            }
            ev.affected = Some(&org.people[org.staff[2 * k + half]]);
            d.push(("role", Val::Str(s.choose(ROLES))));
        }
        Body::CloudAlias => {
            let who = staff(s);
            ev.affected = Some(who);
            let local = who
                .name
                .split('@')
                .next()
                .unwrap_or_default()
                .replace('.', "");
            let alias = match s.below(3) {
                0 => format!("{local}{}@gmail.com", s.below(100)),
                1 => format!("{local}@outlook.com"),
                _ => format!("{local}@example-corp.onmicrosoft.com"),
            };
            d.push(("cloudAlias", Val::Owned(alias)));
        }
        Body::Departing(op) | Body::HighRisk(op) => {
            ev.affected = Some(staff(s));
            let departing = matches!(body, Body::Departing(_));
            match op {
                WatchOp::Added if departing => {
                    d.push(("departureDate", Val::Owned(date_after(cx.date, rng))))
                }
                WatchOp::Added => {
                    let a = rng.index(RISK_FACTORS.len());
                    let b = (a + 1 + rng.index(RISK_FACTORS.len() - 1)) % RISK_FACTORS.len();
                    d.push((
                        "riskFactors",
                        Val::List(vec![Val::Str(RISK_FACTORS[a]), Val::Str(RISK_FACTORS[b])]),
                    ));
                }
                WatchOp::Settings => d.push(("alertsEnabled", Val::Bool(rng.chance(0.7)))),
                WatchOp::DepartureDate => {
                    d.push(("departureDate", Val::Owned(date_after(cx.date, rng))));
                    d.push((
                        "previousDepartureDate",
                        Val::Owned(date_after(cx.date, rng)),
                    ));
                }
                WatchOp::Removed => {}
            }
        }
        Body::RiskFactor => {
            ev.affected = Some(staff(s));
            d.push(("riskFactor", Val::Str(s.choose(RISK_FACTORS))));
        }
        Body::RiskDate(key) => {
            ev.affected = Some(staff(s));
            d.push((key, Val::Owned(date_after(cx.date, rng))));
        }
        Body::RiskNotes => {
            ev.affected = Some(staff(s));
            d.push(("notes", Val::Str(rng.choose(NOTES))));
        }
        Body::WatchDef(key) => {
            let w = s.pick(&org.watchlists);
            d.push(("watchlistId", Val::Str(w.id.as_str())));
            d.push((
                key,
                Val::Str(if key == "group" {
                    s.choose(GROUPS)
                } else {
                    s.choose(DEPARTMENTS)
                }),
            ));
        }
        Body::WatchUser => {
            let w = s.pick(&org.watchlists);
            ev.affected = Some(staff(s));
            d.push(("watchlistId", Val::Str(w.id.as_str())));
            d.push(("watchlistType", Val::Str(w.kind)));
        }
        Body::Watchlist(change) => {
            let w = s.pick(&org.watchlists);
            let id = if change == Change::Changed {
                Val::Str(w.id.as_str())
            } else {
                Val::Owned(uuid(s))
            };
            d.push(("watchlistId", id));
            d.push(("watchlistType", Val::Str(w.kind)));
        }
        Body::RiskSetting(change) => {
            d.push(("settingName", Val::Str(s.choose(SETTINGS))));
            if change == Change::Changed {
                let old = rng.range(1, 9) as i64;
                d.push(("previousValue", Val::Int(old)));
                d.push(("newValue", Val::Int(old + 1)));
            } else {
                d.push(("newValue", Val::Int(rng.range(1, 10) as i64)));
            }
        }
    }
}

/// A case that exists: usually a recent one.
fn existing_case(count: u64, rng: &mut Rng) -> u64 {
    let back = rng.exp(15.0) as u64;
    count.saturating_sub(back).max(1)
}

fn user_dir(owner: &Person, rng: &mut Rng) -> String {
    let local = owner.name.split('@').next().unwrap_or_default();
    match rng.below(4) {
        0 => format!("C:/Users/{local}/Documents/"),
        1 => format!("C:\\Users\\{local}\\Desktop\\"),
        2 => format!("/Users/{local}/Downloads/"),
        _ => format!("/home/{local}/projects/"),
    }
}

fn date_after(date: NaiveDate, rng: &mut Rng) -> String {
    date.checked_add_days(Days::new(rng.range(3, 60)))
        .unwrap_or(date)
        .format("%Y-%m-%d")
        .to_string()
}

fn data_pref_value(key: &str, rng: &mut Rng) -> String {
    match key {
        "accountName" => format!("svc-{}", rng.pick(&["backup", "ci", "payroll", "sync"])),
        "domain" => rng.pick(DOMAINS).to_string(),
        "ipAddress" => format!("{}/{}", public_ip(rng), rng.pick(&[32, 24])),
        "workspaceName" => rng.pick(WORKSPACES).to_string(),
        _ => rng.pick(URLS).to_string(),
    }
}

/// A forensic search request, as the JSON text the API records (a document inside a string).
fn search_request(org: &Org, rng: &mut Rng, date: NaiveDate) -> String {
    let mut filters = Vec::new();
    let groups = rng.range(1, 3);
    for _ in 0..groups {
        let (op, term, value) = match rng.below(7) {
            0 | 1 => (
                "IS",
                "deviceUserName",
                org.people[*rng.pick(&org.staff)].name.clone(),
            ),
            2 => ("IS", "md5Checksum", hex(rng, 32)),
            3 => ("IS", "sha256Checksum", hex(rng, 64)),
            4 => ("IS", "exposure", rng.pick(EXPOSURES).to_string()),
            5 => (
                "CONTAINS",
                "filePath",
                format!("C:\\Users\\{}\\", rng.pick(&["jdoe", "Public", "admin"])),
            ),
            _ => ("IS", "fileName", rng.pick(FILES).to_string()),
        };
        let mut v = String::new();
        super::encode::json_string(&value, &mut v);
        filters.push(format!(
            "{{\"filterClause\":\"AND\",\"filters\":[{{\"operator\":\"{op}\",\"term\":\"{term}\",\"value\":{v}}}]}}"
        ));
    }
    let since = date
        .checked_sub_days(Days::new(rng.range(1, 30)))
        .unwrap_or(date);
    format!(
        "{{\"groups\":[{},{{\"filterClause\":\"AND\",\"filters\":[{{\"operator\":\"ON_OR_AFTER\",\"term\":\"eventTimestamp\",\"value\":\"{}T00:00:00.000Z\"}}]}}],\"groupClause\":\"AND\",\"pgNum\":1,\"pgSize\":{},\"srtDir\":\"desc\",\"srtKey\":\"eventTimestamp\"}}",
        filters.join(","),
        since.format("%Y-%m-%d"),
        rng.pick(&[100, 500, 10000])
    )
}
