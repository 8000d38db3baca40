/*!
The event catalog: every Code42 Audit Log event type with its console label, canonical API-style
name, console category, deprecated flag and the tags analyses select on.

The catalog is data (`catalog.csv`, embedded at compile time), not code: event names and categories
live there and nowhere else. Lookups accept the console label, the API name, the
`audit_log::<name>/<version>` spelling and any listed alias, all normalised the same way, so the three
export flavours map to one entry. An unknown type is never an error: [`Catalog::resolve`] returns a
[`Resolved`] with category [`OTHER_CATEGORY`] and the raw name kept.
*/

use std::borrow::Cow;
use std::sync::OnceLock;

use polars::prelude::PlHashMap;
use serde::Serialize;

/// The category given to event types the catalog does not know.
pub const OTHER_CATEGORY: &str = "Other";

const CATALOG_CSV: &str = include_str!("catalog.csv");

/// A tag analyses select events by. Kept as a small closed set so a typo is a compile error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tag {
    /// Changes what someone may do: roles, permissions, credentials, identity providers, support access.
    Privilege,
    /// A privilege change that widens access (its inverse is tagged `Revoke`).
    Grant,
    /// A privilege change that narrows access.
    Revoke,
    /// Code42 support user access switched on or off.
    SupportAccess,
    /// An analyst's action on a case.
    CaseAction,
    /// A forensic search query.
    ForensicSearch,
    /// Reading data: downloads, ZIPs, restores.
    FileAccess,
    /// An administrative configuration change.
    Admin,
    /// A console sign-in.
    Login,
    /// A user account was created.
    UserCreated,
    /// A secret or credential was reset.
    CredentialReset,
    /// An alert rule change.
    AlertRule,
    /// A watchlist change.
    Watchlist,
    /// A data-preference change.
    DataPref,
}

impl Tag {
    fn parse(s: &str) -> Option<Tag> {
        Some(match s {
            "privilege" => Tag::Privilege,
            "grant" => Tag::Grant,
            "revoke" => Tag::Revoke,
            "support_access" => Tag::SupportAccess,
            "case_action" => Tag::CaseAction,
            "forensic_search" => Tag::ForensicSearch,
            "file_access" => Tag::FileAccess,
            "admin" => Tag::Admin,
            "login" => Tag::Login,
            "user_created" => Tag::UserCreated,
            "credential_reset" => Tag::CredentialReset,
            "alert_rule" => Tag::AlertRule,
            "watchlist" => Tag::Watchlist,
            "data_pref" => Tag::DataPref,
            _ => return None,
        })
    }

    /// The tag's name as written in the catalog.
    pub fn name(self) -> &'static str {
        match self {
            Tag::Privilege => "privilege",
            Tag::Grant => "grant",
            Tag::Revoke => "revoke",
            Tag::SupportAccess => "support_access",
            Tag::CaseAction => "case_action",
            Tag::ForensicSearch => "forensic_search",
            Tag::FileAccess => "file_access",
            Tag::Admin => "admin",
            Tag::Login => "login",
            Tag::UserCreated => "user_created",
            Tag::CredentialReset => "credential_reset",
            Tag::AlertRule => "alert_rule",
            Tag::Watchlist => "watchlist",
            Tag::DataPref => "data_pref",
        }
    }
}

/// One event type of the catalog.
#[derive(Debug, Clone, Serialize)]
pub struct EventType {
    pub api_name: &'static str,
    pub label: &'static str,
    pub category: &'static str,
    pub deprecated: bool,
    pub tags: Vec<Tag>,
    /// The event type that undoes this one, if any (created/deleted, enabled/disabled, ...).
    pub inverse: Option<&'static str>,
    /// Fields naming the object acted on; `@user` is the affected user.
    pub subject_keys: Vec<&'static str>,
    pub aliases: Vec<&'static str>,
}

impl EventType {
    pub fn has(&self, tag: Tag) -> bool {
        self.tags.contains(&tag)
    }
}

/// What an input's event-type text resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved<'a> {
    /// Canonical API-style name (for an unknown type: its name normalised to snake_case).
    pub api_name: Cow<'a, str>,
    pub label: &'a str,
    pub category: &'a str,
    pub deprecated: bool,
    /// The position of the type in [`Catalog::entries`]; `None` when the catalog does not know it.
    pub entry: Option<usize>,
}

/// The catalog: entries in catalog order plus a lookup index by every accepted spelling.
#[derive(Debug)]
pub struct Catalog {
    entries: Vec<EventType>,
    /// (A fast, non-cryptographic hash: every row's type is looked up, and the tables hold only
    /// the catalog's own names, so input cannot crowd them.)
    index: PlHashMap<String, usize>,
    /// Every spelling exactly as the catalog writes it: a row's text usually matches one, which
    /// saves normalising it (an allocation per row). Same answers as `index`, which decides.
    exact: PlHashMap<&'static str, usize>,
    categories: Vec<&'static str>,
}

/// An error in the embedded catalog file; only a broken build can cause it (a unit test loads it).
#[derive(Debug, thiserror::Error)]
#[error("src/model/catalog.csv line {line}: {message}")]
pub struct CatalogError {
    line: usize,
    message: String,
}

impl Catalog {
    /// The catalog embedded in the binary.
    pub fn get() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| {
            // The file is compiled in and checked by a unit test, so failing here means the
            // binary itself is broken: there is nothing a user could do about it.
            Catalog::parse(CATALOG_CSV).expect("embedded event catalog is valid")
        })
    }

    fn parse(text: &'static str) -> Result<Catalog, CatalogError> {
        let mut entries = Vec::new();
        let mut header_seen = false;
        for (i, line) in text.lines().enumerate() {
            let err = |message: String| CatalogError {
                line: i + 1,
                message,
            };
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            if !header_seen {
                header_seen = true;
                continue;
            }
            // The catalog never needs quoting: no field holds a comma.
            let f: Vec<&'static str> = line.split(',').collect();
            if f.len() != 8 {
                return Err(err(format!("expected 8 fields, found {}", f.len())));
            }
            let list = |s: &'static str| -> Vec<&'static str> {
                s.split(';').filter(|x| !x.is_empty()).collect()
            };
            let tags = list(f[4])
                .into_iter()
                .map(|t| Tag::parse(t).ok_or_else(|| err(format!("unknown tag {t:?}"))))
                .collect::<Result<Vec<_>, _>>()?;
            let deprecated = match f[3] {
                "true" => true,
                "false" => false,
                other => {
                    return Err(err(format!(
                        "deprecated must be true or false, not {other:?}"
                    )));
                }
            };
            entries.push(EventType {
                api_name: f[0],
                label: f[1],
                category: f[2],
                deprecated,
                tags,
                inverse: (!f[5].is_empty()).then_some(f[5]),
                subject_keys: list(f[6]),
                aliases: list(f[7]),
            });
        }
        let mut index = PlHashMap::default();
        let mut exact = PlHashMap::default();
        let mut categories: Vec<&'static str> = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            if !categories.contains(&e.category) {
                categories.push(e.category);
            }
            let spellings = [e.api_name, e.label]
                .into_iter()
                .chain(e.aliases.iter().copied());
            for s in spellings {
                exact.insert(s, i);
                if let Some(prev) = index.insert(normalize_name(s), i)
                    && prev != i
                {
                    return Err(CatalogError {
                        line: 0,
                        message: format!(
                            "{s:?} names both {} and {}",
                            entries[prev].api_name, e.api_name
                        ),
                    });
                }
            }
        }
        for e in &entries {
            if let Some(inv) = e.inverse
                && !index.contains_key(inv)
            {
                return Err(CatalogError {
                    line: 0,
                    message: format!("inverse {inv:?} of {} is not in the catalog", e.api_name),
                });
            }
        }
        Ok(Catalog {
            entries,
            index,
            exact,
            categories,
        })
    }

    /// Every event type, in catalog (console) order.
    pub fn entries(&self) -> &[EventType] {
        &self.entries
    }

    /// The console's categories in console order (without [`OTHER_CATEGORY`]).
    pub fn categories(&self) -> &[&'static str] {
        &self.categories
    }

    /// The entry for any accepted spelling of a known event type.
    pub fn lookup(&self, raw: &str) -> Option<&EventType> {
        self.lookup_index(raw).map(|i| &self.entries[i])
    }

    /// [`Catalog::lookup`], as a position in [`Catalog::entries`].
    fn lookup_index(&self, raw: &str) -> Option<usize> {
        if let Some(&i) = self.exact.get(raw) {
            return Some(i);
        }
        self.index.get(&normalize_name(raw)).copied()
    }

    /// A known type as resolved.
    fn resolved(&self, i: usize) -> Resolved<'_> {
        let e = &self.entries[i];
        Resolved {
            api_name: Cow::Borrowed(e.api_name),
            label: e.label,
            category: e.category,
            deprecated: e.deprecated,
            entry: Some(i),
        }
    }

    /// The entry with exactly this canonical API name.
    pub fn by_api_name(&self, api_name: &str) -> Option<&EventType> {
        self.index
            .get(api_name)
            .map(|&i| &self.entries[i])
            .filter(|e| e.api_name == api_name)
    }

    /// Resolve an input's event-type text; unknown types are kept under [`OTHER_CATEGORY`].
    /// Returns `None` only for text that is empty once normalised.
    pub fn resolve<'a>(&'a self, raw: &'a str) -> Option<Resolved<'a>> {
        if let Some(i) = self.lookup_index(raw) {
            return Some(self.resolved(i));
        }
        // The label is stored and exported (CSV `Event type`), so it must resolve to itself when
        // read back: unwrap and trim until nothing changes (`x /1` and
        // `audit_log::audit_log::x/1/1` would otherwise come back as another label or type).
        let mut label = raw.trim();
        loop {
            let next = strip_api_wrapping(label).trim();
            if next == label {
                break;
            }
            label = next;
        }
        if let Some(i) = self.lookup_index(label) {
            return Some(self.resolved(i));
        }
        let api_name = normalize_name(label);
        if api_name.is_empty() {
            return None;
        }
        Some(Resolved {
            api_name: Cow::Owned(api_name),
            label,
            category: OTHER_CATEGORY,
            deprecated: false,
            entry: None,
        })
    }

    /// Every event type carrying `tag`, as canonical API names.
    pub fn names_with(&self, tag: Tag) -> Vec<&'static str> {
        self.entries
            .iter()
            .filter(|e| e.has(tag))
            .map(|e| e.api_name)
            .collect()
    }

    /// The catalog's category whose name matches `name` case-insensitively (or `Other`).
    pub fn category(&self, name: &str) -> Option<&'static str> {
        let n = normalize_name(name);
        self.categories
            .iter()
            .copied()
            .chain(std::iter::once(OTHER_CATEGORY))
            .find(|c| normalize_name(c) == n)
    }

    /// All spellings users could have meant, for "did you mean" hints.
    pub fn spellings(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().flat_map(|e| [e.label, e.api_name])
    }
}

/// Strip `audit_log::` and a trailing `/<version>` from an API type name.
fn strip_api_wrapping(raw: &str) -> &str {
    let s = raw.strip_prefix("audit_log::").unwrap_or(raw);
    match s.rsplit_once('/') {
        Some((name, version))
            if !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit()) =>
        {
            name
        }
        _ => s,
    }
}

/// Normalise an event-type spelling: drop the API wrapping and a deprecated marker `*`, lowercase,
/// and turn every run of characters other than letters and digits into one `_`, trimmed at both ends.
/// `File download: IO error`, `file_download_io_error` and `audit_log::file_download_io_error/1`
/// all normalise to `file_download_io_error`.
pub fn normalize_name(raw: &str) -> String {
    let s = strip_api_wrapping(raw.trim());
    let mut out = String::with_capacity(s.len());
    let mut pending_sep = false;
    for c in s.chars() {
        if c.is_alphanumeric() {
            if pending_sep && !out.is_empty() {
                out.push('_');
            }
            pending_sep = false;
            out.extend(c.to_lowercase());
        } else {
            pending_sep = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalog_parses_and_covers_the_console_list() {
        let c = Catalog::parse(CATALOG_CSV).unwrap();
        // 105 console event types plus case_archived from the API documentation.
        assert_eq!(c.entries().len(), 106);
        assert_eq!(c.categories().len(), 11);
    }

    #[test]
    fn every_spelling_resolves_to_one_entry() {
        let c = Catalog::get();
        for raw in [
            "Console login",
            "logged_in",
            "audit_log::logged_in/1",
            "CONSOLE LOGIN",
            "console_login",
        ] {
            assert_eq!(c.resolve(raw).unwrap().api_name, "logged_in", "{raw}");
        }
        assert_eq!(
            c.resolve("File download: IO error").unwrap().api_name,
            "file_download_io_error"
        );
        assert_eq!(
            c.resolve("Departing employee added*").unwrap().api_name,
            "departing_employee_added"
        );
        assert!(c.resolve("Departing employee added*").unwrap().deprecated);
        assert_eq!(c.resolve("Add user").unwrap().api_name, "user_registered");
    }

    #[test]
    fn exact_spellings_agree_with_normalised_lookup() {
        let c = Catalog::get();
        for (s, &i) in &c.exact {
            assert_eq!(c.index.get(&normalize_name(s)), Some(&i), "{s}");
        }
    }

    #[test]
    fn unknown_types_are_kept_under_other() {
        let r = Catalog::get()
            .resolve("audit_log::brand_new_thing/2")
            .unwrap();
        assert!(r.entry.is_none());
        assert_eq!(r.api_name, "brand_new_thing");
        assert_eq!(r.category, OTHER_CATEGORY);
        assert!(Catalog::get().resolve("  ").is_none());
        assert!(Catalog::get().resolve("***").is_none());
    }

    #[test]
    fn a_resolved_label_resolves_to_itself() {
        // The label is what a CSV export writes; reading it back must give the same type.
        let c = Catalog::get();
        for raw in [
            "x\t/1",
            " audit_log::brand_new_thing /2 ",
            "audit_log::audit_log::zzz/1/2",
            "audit_log::audit_log::logged_in/1/1",
            "Console login",
        ] {
            let r = c.resolve(raw).unwrap();
            let again = c.resolve(r.label).unwrap();
            assert_eq!(
                (&again.api_name, again.label, again.category, again.entry),
                (&r.api_name, r.label, r.category, r.entry),
                "{raw:?}"
            );
        }
        assert_eq!(c.resolve("x\t/1").unwrap().label, "x");
        assert!(
            c.resolve("audit_log::audit_log::logged_in/1/1")
                .unwrap()
                .entry
                .is_some()
        );
    }

    #[test]
    fn inverses_are_symmetric() {
        let c = Catalog::get();
        for e in c.entries() {
            if let Some(inv) = e.inverse {
                assert_eq!(
                    c.by_api_name(inv).unwrap().inverse,
                    Some(e.api_name),
                    "{}",
                    e.api_name
                );
            }
        }
    }

    #[test]
    fn normalize_follows_the_documented_rule() {
        assert_eq!(
            normalize_name("File download: IO error"),
            "file_download_io_error"
        );
        assert_eq!(
            normalize_name("  Code42 support user access enabled "),
            "code42_support_user_access_enabled"
        );
        assert_eq!(normalize_name("audit_log::logged_in/1"), "logged_in");
    }
}
