//! `analyze --only privilege-changes`: the ledger, and planted self-grants, temporary escalations,
//! weekend, outside-address and non-administrator changes and a secret-reset burst among ordinary
//! background.

use crate::planted::*;

/// The planted privilege cases of the analysed week.
fn privilege_cases() -> Vec<String> {
    let mut rows = background();
    let dana = |when: &str, event: &str, ip: &str, affected: &str, details: &str| {
        row(
            when,
            "dana.admin@example.com",
            "User",
            event,
            ip,
            affected,
            details,
        )
    };
    let frank = |when: &str, event: &str, details: &str| {
        row(
            when,
            "frank.admin@example.com",
            "User",
            event,
            "203.0.113.41",
            "frank.admin@example.com",
            details,
        )
    };
    let admin_role = r#"{"role":"Customer Cloud Admin"}"#;
    let security_admin = r#"{"role":"Security Administrator"}"#;
    let reset = |when: &str, key: &str| {
        dana(
            when,
            "API client secret reset",
            OFFICE,
            "",
            &format!(r#"{{"apiClientId":"{key}"}}"#),
        )
    };
    rows.extend([
        // Routine: one secret reset in business hours.
        reset("2026-04-13T11:45:00Z", "key-0a"),
        // Self-grant, revoked two hours later.
        frank("2026-04-14T11:00:00Z", "User roles assigned", admin_role),
        frank("2026-04-14T13:00:00Z", "User roles revoked", admin_role),
        // Temporary escalation by an administrator in business hours.
        dana(
            "2026-04-15T10:00:00Z",
            "User roles assigned",
            OFFICE,
            "carol@example.com",
            security_admin,
        ),
        dana(
            "2026-04-15T12:00:00Z",
            "User roles revoked",
            OFFICE,
            "carol@example.com",
            security_admin,
        ),
        // From outside the office network.
        dana(
            "2026-04-16T14:00:00Z",
            "User roles assigned",
            "198.51.100.77",
            "leo@example.com",
            r#"{"role":"Desktop User"}"#,
        ),
        // A normal user hands out a role.
        row(
            "2026-04-16T15:00:00Z",
            "erin@example.com",
            "User",
            "User roles assigned",
            "203.0.113.77",
            "harry@example.com",
            r#"{"role":"Alert Emails"}"#,
        ),
        // Three secret resets in twenty minutes.
        reset("2026-04-17T10:00:00Z", "key-1a"),
        reset("2026-04-17T10:10:00Z", "key-2b"),
        reset("2026-04-17T10:20:00Z", "key-3c"),
        // A Saturday change.
        dana(
            "2026-04-18T11:00:00Z",
            "User roles assigned",
            OFFICE,
            "kim@example.com",
            r#"{"role":"Desktop User"}"#,
        ),
    ]);
    rows
}

#[test]
fn privilege_changes_form_a_ledger_with_raised_severities() {
    let (_d, store) = store_of(&privilege_cases());
    let id = ids_by_time(&store);
    let t = |s: &str| &id[s];
    let config = "allowlist = [\"203.0.113.0/24\"]\n";
    let found = analyze(&store, "privilege-changes", Some(config));
    let one = |when: &str| with_evidence(&found, &[t(when)]);

    // Ledger lines read as sentences.
    let routine = one("2026-04-13T10:02:00Z");
    assert_eq!(severity(routine), "info", "{routine}");
    assert_eq!(routine["subject"], "new.hire13@example.com/Desktop User");
    assert_eq!(
        summary(routine),
        "dana.admin@example.com assigned user roles (role Desktop User) to new.hire13@example.com"
    );
    // The background is info: the administrator's daily routine, the single reset.
    for day in 13..=17 {
        let f = one(&format!("2026-04-{day}T10:02:00Z"));
        assert_eq!(severity(f), "info", "{f}");
    }
    assert_eq!(severity(one("2026-04-13T11:45:00Z")), "info");

    let self_grant = one("2026-04-14T11:00:00Z");
    assert_eq!(severity(self_grant), "high", "{self_grant}");
    assert!(summary(self_grant).contains("self-grant"), "{self_grant}");
    // Revoking one's own role is no escalation.
    assert_eq!(severity(one("2026-04-14T13:00:00Z")), "info");
    let self_temp = with_evidence(
        &found,
        &[t("2026-04-14T11:00:00Z"), t("2026-04-14T13:00:00Z")],
    );
    assert_eq!(severity(self_temp), "high", "{self_temp}");

    let temp = with_evidence(
        &found,
        &[t("2026-04-15T10:00:00Z"), t("2026-04-15T12:00:00Z")],
    );
    assert_eq!(severity(temp), "medium", "{temp}");
    assert!(summary(temp).contains("2 hours later"), "{temp}");
    assert_eq!(temp["subject"], "carol@example.com/Security Administrator");
    assert_eq!(severity(one("2026-04-15T10:00:00Z")), "info");

    let outside = one("2026-04-16T14:00:00Z");
    assert_eq!(severity(outside), "low", "{outside}");
    assert!(
        summary(outside).contains("198.51.100.77, outside the allowlist"),
        "{outside}"
    );

    let normal = one("2026-04-16T15:00:00Z");
    assert_eq!(severity(normal), "medium", "{normal}");
    assert!(summary(normal).contains("not an administrator"), "{normal}");

    let weekend = one("2026-04-18T11:00:00Z");
    assert_eq!(severity(weekend), "low", "{weekend}");
    assert!(
        summary(weekend).contains("Sat 2026-04-18 11:00"),
        "{weekend}"
    );

    let burst = with_evidence(
        &found,
        &[
            t("2026-04-17T10:00:00Z"),
            t("2026-04-17T10:10:00Z"),
            t("2026-04-17T10:20:00Z"),
        ],
    );
    assert_eq!(severity(burst), "high", "{burst}");
    assert_eq!(burst["count"], 3);
    assert_eq!(burst["subject"], "key-1a, key-2b, key-3c");
    for when in [
        "2026-04-17T10:00:00Z",
        "2026-04-17T10:10:00Z",
        "2026-04-17T10:20:00Z",
    ] {
        assert_eq!(severity(one(when)), "info");
    }

    // Nothing else is above info: 5 routine + 1 reset + 2 + 2 + 1 + 1 + 3 + 1 ledger lines, plus
    // two escalations and the burst.
    assert_eq!(found.len(), 19, "{found:#?}");
    let raised = found.iter().filter(|f| severity(f) != "info").count();
    assert_eq!(raised, 7, "{found:#?}");

    // Without an allowlist no address is "outside".
    let plain = analyze(&store, "privilege-changes", None);
    let f = with_evidence(&plain, &[t("2026-04-16T14:00:00Z")]);
    assert_eq!(severity(f), "info", "{f}");
}

#[test]
fn administrators_come_from_config_or_enough_history() {
    // Only the analysed week in the store: too little history to tell who administers, so
    // erin's change is a ledger line that says so, not a finding.
    let week: Vec<String> = privilege_cases()
        .into_iter()
        .filter(|r| r[..10] >= *"2026-04-13")
        .collect();
    let (_d, store) = store_of(&week);
    let id = ids_by_time(&store);
    let found = analyze(&store, "privilege-changes", None);
    let erin = with_evidence(&found, &[&id["2026-04-16T15:00:00Z"]]);
    assert_eq!(severity(erin), "info", "{erin}");
    assert!(summary(erin).contains("not judged"), "{erin}");

    // With admins configured the question is answered by the list.
    let found = analyze(
        &store,
        "privilege-changes",
        Some("admins = [\"dana.admin@example.com\", \"frank.admin@example.com\"]\n"),
    );
    let erin = with_evidence(&found, &[&id["2026-04-16T15:00:00Z"]]);
    assert_eq!(severity(erin), "medium", "{erin}");
    assert!(
        summary(erin).contains("not in the configured admins"),
        "{erin}"
    );
    let dana = with_evidence(&found, &[&id["2026-04-13T10:02:00Z"]]);
    assert_eq!(severity(dana), "info", "{dana}");
}
