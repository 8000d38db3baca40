/*!
The analysis configuration (`--config auditlens.toml`): corporate networks, business hours, known
administrators and analysts, and every threshold and window the analyses use.

Every key is optional and has a default an auditor would choose; an unknown key or a value of the
wrong type is an error that names the key (and line), so a typo never silently falls back to a
default. [`EXAMPLE`] is the commented file `auditlens config --example` prints; a unit test checks
that it parses to exactly the defaults, so the two cannot drift apart.
*/

use std::path::Path;

use chrono::{NaiveTime, Weekday};
use chrono_tz::Tz;
use ipnet::IpNet;
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Corporate networks; an address outside all of them is "outside".
    #[serde(deserialize_with = "nets", serialize_with = "nets_out")]
    pub allowlist: Vec<IpNet>,
    /// IANA time zone in which business hours and weekends are judged.
    #[serde(deserialize_with = "tz", serialize_with = "tz_out")]
    pub timezone: Tz,
    /// `HH:MM-HH:MM` in `timezone`.
    #[serde(deserialize_with = "hours", serialize_with = "hours_out")]
    pub business_hours: (NaiveTime, NaiveTime),
    #[serde(deserialize_with = "weekdays", serialize_with = "weekdays_out")]
    pub weekend: Vec<Weekday>,
    /// Known administrators (usernames). Empty: derived from the data; see
    /// `privilege.admin_min_days` (an actor with administrative changes on that many distinct days
    /// before the period, or who was granted a role whose name contains "admin", counts as one).
    pub admins: Vec<String>,
    /// Known security analysts (usernames). Empty: anyone with case actions or forensic searches.
    pub analysts: Vec<String>,
    pub support: SupportConfig,
    pub privilege: PrivilegeConfig,
    pub unusual_ips: UnusualIpConfig,
    pub case_actions: CaseActionConfig,
    pub training: TrainingConfig,
    pub file_access: FileAccessConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SupportConfig {
    /// Follow users created by a support user for this long after their creation.
    pub follow_created_users: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrivilegeConfig {
    /// A grant revoked again within this window is a temporary escalation.
    pub temporary_grant_window: String,
    /// This many API client secret resets ...
    pub secret_reset_burst: u32,
    /// ... within this window by one actor is a finding.
    pub secret_reset_window: String,
    /// With `admins` empty, an actor with administrative changes on at least this many distinct
    /// days before the period (before the change's day when no period start is given) counts as
    /// an administrator.
    pub admin_min_days: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UnusualIpConfig {
    /// Addresses seen in the first days of an actor's history form the baseline, not findings.
    pub baseline_days: u32,
    /// One address used by at least this many distinct actors ...
    pub shared_ip_actors: u32,
    /// ... within this window is a finding.
    pub shared_ip_window: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CaseActionConfig {
    /// A week's count whose robust z-score (0.6745 * (x - median) / MAD) exceeds this is a burst.
    pub burst_threshold: f64,
    /// Weeks with fewer actions than this are never bursts.
    pub min_weekly_actions: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainingConfig {
    /// A change undone by its inverse within this window counts as a reversal.
    pub reversal_window: String,
    /// An actor with at least this many reversals in the period is ranked medium (else low).
    pub min_reversals_medium: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileAccessConfig {
    /// More file accesses (downloads, ZIP downloads, restores) than this by one actor in one
    /// local day is a bulk access finding.
    pub bulk_per_day: u32,
    /// At least this many `File download: IO error` events by one actor ...
    pub io_error_burst: u32,
    /// ... none further apart than this from the previous one form a burst.
    pub io_error_window: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            allowlist: Vec::new(),
            timezone: Tz::UTC,
            business_hours: (
                NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default(),
                NaiveTime::from_hms_opt(17, 0, 0).unwrap_or_default(),
            ),
            weekend: vec![Weekday::Sat, Weekday::Sun],
            admins: Vec::new(),
            analysts: Vec::new(),
            support: SupportConfig::default(),
            privilege: PrivilegeConfig::default(),
            unusual_ips: UnusualIpConfig::default(),
            case_actions: CaseActionConfig::default(),
            training: TrainingConfig::default(),
            file_access: FileAccessConfig::default(),
        }
    }
}

impl Default for SupportConfig {
    fn default() -> Self {
        SupportConfig {
            follow_created_users: "30d".into(),
        }
    }
}

impl Default for PrivilegeConfig {
    fn default() -> Self {
        PrivilegeConfig {
            temporary_grant_window: "24h".into(),
            secret_reset_burst: 3,
            secret_reset_window: "1h".into(),
            admin_min_days: 3,
        }
    }
}

impl Default for UnusualIpConfig {
    fn default() -> Self {
        UnusualIpConfig {
            baseline_days: 14,
            shared_ip_actors: 5,
            shared_ip_window: "1h".into(),
        }
    }
}

impl Default for CaseActionConfig {
    fn default() -> Self {
        CaseActionConfig {
            burst_threshold: 3.5,
            min_weekly_actions: 10,
        }
    }
}

impl Default for TrainingConfig {
    fn default() -> Self {
        TrainingConfig {
            reversal_window: "24h".into(),
            min_reversals_medium: 5,
        }
    }
}

impl Default for FileAccessConfig {
    fn default() -> Self {
        FileAccessConfig {
            bulk_per_day: 100,
            io_error_burst: 5,
            io_error_window: "1h".into(),
        }
    }
}

/// The commented example printed by `auditlens config --example` (every key, at its default).
pub const EXAMPLE: &str = r#"# auditlens analysis configuration. Every key is optional; the values shown are the defaults.

# Corporate networks (CIDR). Addresses outside all of them are "outside"; empty = none is trusted.
allowlist = []                 # e.g. ["203.0.113.0/24", "198.51.100.0/24"]
# IANA time zone in which business hours and weekends are judged.
timezone = "UTC"
business_hours = "09:00-17:00"
weekend = ["Saturday", "Sunday"]
# Known administrators and security analysts (usernames). Empty = derived from the data:
# administrators are actors of administrative changes (see privilege.admin_min_days) or holders of
# a role whose name contains "admin"; analysts actors of case actions or searches.
admins = []
analysts = []

[support]
# Follow users created by the Code42 support user for this long after their creation.
follow_created_users = "30d"

[privilege]
# A grant revoked again within this window is a temporary escalation.
temporary_grant_window = "24h"
# This many API client secret resets by one actor within the window is a finding.
secret_reset_burst = 3
secret_reset_window = "1h"
# With admins = [], an actor with administrative changes on this many distinct days before the
# period counts as an administrator (changes by other users are raised to medium).
admin_min_days = 3

[unusual_ips]
# Addresses an actor used in their first days in the data are their baseline, not findings.
baseline_days = 14
# One address used by this many distinct actors within the window is a finding.
shared_ip_actors = 5
shared_ip_window = "1h"

[case_actions]
# A week is a burst when its robust z-score, 0.6745 * (count - median) / MAD, exceeds this
# (against the analyst's own weeks and against the peers' weeks).
burst_threshold = 3.5
# Weeks with fewer case actions than this are never bursts.
min_weekly_actions = 10

[training]
# A change undone by its inverse event on the same object within this window is a reversal.
reversal_window = "24h"
# An actor with at least this many reversals in the period is ranked medium (fewer: low).
min_reversals_medium = 5

[file_access]
# More file accesses (downloads, ZIP downloads, restores) than this by one actor in one day
# (in `timezone`) is bulk access.
bulk_per_day = 100
# This many "File download: IO error" events by one actor, each within the window of the
# previous one, is a burst (reported as info).
io_error_burst = 5
io_error_window = "1h"
"#;

impl Config {
    /// Load a config file; a missing `path` means the defaults.
    pub fn load(path: Option<&Path>) -> Result<Config> {
        let Some(path) = path else {
            return Ok(Config::default());
        };
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Config::parse(&text).map_err(|message| Error::Config {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parse TOML text (errors name the key and line).
    pub fn parse(text: &str) -> std::result::Result<Config, String> {
        let c: Config = toml::from_str(text).map_err(|e| e.to_string().trim().to_owned())?;
        c.validate()?;
        Ok(c)
    }

    fn validate(&self) -> std::result::Result<(), String> {
        for (key, v) in [
            (
                "support.follow_created_users",
                &self.support.follow_created_users,
            ),
            (
                "privilege.temporary_grant_window",
                &self.privilege.temporary_grant_window,
            ),
            (
                "privilege.secret_reset_window",
                &self.privilege.secret_reset_window,
            ),
            (
                "unusual_ips.shared_ip_window",
                &self.unusual_ips.shared_ip_window,
            ),
            ("training.reversal_window", &self.training.reversal_window),
            (
                "file_access.io_error_window",
                &self.file_access.io_error_window,
            ),
        ] {
            crate::filter::parse_duration(v)
                .map_err(|_| format!("{key} = {v:?}: use a duration such as 30m, 24h, 7d or 2w"))?;
        }
        if self.business_hours.0 >= self.business_hours.1 {
            return Err("business_hours: the start must be before the end (HH:MM-HH:MM)".into());
        }
        if self.privilege.secret_reset_burst < 2 {
            return Err("privilege.secret_reset_burst must be at least 2".into());
        }
        if self.privilege.admin_min_days == 0 {
            return Err("privilege.admin_min_days must be at least 1".into());
        }
        if self.case_actions.burst_threshold.is_nan() || self.case_actions.burst_threshold <= 0.0 {
            return Err("case_actions.burst_threshold must be a positive number".into());
        }
        Ok(())
    }

    /// A duration key, in ns (validated at load time).
    pub fn duration_ns(value: &str) -> i64 {
        crate::filter::parse_duration(value).unwrap_or(crate::time::NANOS_PER_DAY)
    }

    /// True when `ip` is inside the allowlist.
    pub fn allowed(&self, ip: &str) -> bool {
        ip.parse::<std::net::IpAddr>()
            .is_ok_and(|a| self.allowlist.iter().any(|n| n.contains(&a)))
    }

    /// True when the instant falls outside business hours or on a weekend, in the configured zone.
    pub fn after_hours(&self, ns: i64) -> bool {
        use chrono::{Datelike, Timelike};
        let local = crate::time::to_datetime(ns).with_timezone(&self.timezone);
        let t = local.time().with_nanosecond(0).unwrap_or_default();
        self.weekend.contains(&local.weekday())
            || t < self.business_hours.0
            || t >= self.business_hours.1
    }
}

fn nets<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<IpNet>, D::Error> {
    let v: Vec<String> = Vec::deserialize(d)?;
    v.iter()
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    serde::de::Error::custom(format!(
                        "{s:?} is not a CIDR block such as 203.0.113.0/24"
                    ))
                })
        })
        .collect()
}

fn nets_out<S: serde::Serializer>(v: &[IpNet], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|n| n.to_string()))
}

fn tz<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Tz, D::Error> {
    let s = String::deserialize(d)?;
    s.parse::<Tz>().map_err(|_| {
        serde::de::Error::custom(format!(
            "{s:?} is not an IANA time zone such as Europe/Berlin"
        ))
    })
}

fn tz_out<S: serde::Serializer>(v: &Tz, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(v.name())
}

fn hours<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<(NaiveTime, NaiveTime), D::Error> {
    let s = String::deserialize(d)?;
    let bad = || serde::de::Error::custom(format!("{s:?}: use HH:MM-HH:MM, such as 09:00-17:00"));
    let (a, b) = s.split_once('-').ok_or_else(bad)?;
    let p = |x: &str| NaiveTime::parse_from_str(x.trim(), "%H:%M").map_err(|_| bad());
    Ok((p(a)?, p(b)?))
}

fn hours_out<S: serde::Serializer>(
    v: &(NaiveTime, NaiveTime),
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{}-{}", v.0.format("%H:%M"), v.1.format("%H:%M")))
}

fn weekdays<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<Weekday>, D::Error> {
    let v: Vec<String> = Vec::deserialize(d)?;
    v.iter()
        .map(|s| {
            s.parse::<Weekday>()
                .map_err(|_| serde::de::Error::custom(format!("{s:?} is not a weekday")))
        })
        .collect()
}

fn weekdays_out<S: serde::Serializer>(v: &[Weekday], s: S) -> std::result::Result<S::Ok, S::Error> {
    const NAMES: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    s.collect_seq(v.iter().map(|d| NAMES[d.num_days_from_monday() as usize]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_is_the_defaults() {
        assert_eq!(Config::parse(EXAMPLE).unwrap(), Config::default());
        assert_eq!(Config::parse("").unwrap(), Config::default());
    }

    #[test]
    fn errors_name_the_key() {
        let e = Config::parse("allowlist = [\"nonsense\"]").unwrap_err();
        assert!(e.contains("allowlist") && e.contains("CIDR"), "{e}");
        let e = Config::parse("timezon = \"UTC\"").unwrap_err();
        assert!(e.contains("timezon"), "{e}");
        let e = Config::parse("[privilege]\nsecret_reset_burst = \"three\"").unwrap_err();
        assert!(e.contains("secret_reset_burst"), "{e}");
        let e = Config::parse("[training]\nreversal_window = \"soon\"").unwrap_err();
        assert!(e.contains("training.reversal_window"), "{e}");
        assert!(Config::parse("business_hours = \"17:00-09:00\"").is_err());
    }

    #[test]
    fn business_hours_in_a_time_zone() {
        let c = Config::parse("timezone = \"Europe/Berlin\"\nbusiness_hours = \"09:00-17:00\"")
            .unwrap();
        // 2026-04-15 (Wednesday) 07:30 UTC = 09:30 in Berlin (CEST).
        let ns = crate::time::parse_timestamp("2026-04-15T07:30:00Z").unwrap();
        assert!(!c.after_hours(ns));
        assert!(Config::default().after_hours(ns));
        let sat = crate::time::parse_timestamp("2026-04-18T12:00:00Z").unwrap();
        assert!(c.after_hours(sat));
    }
}
