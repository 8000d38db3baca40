//! `analyze --only support-user-activity`: support actions inside and outside support-access
//! windows, and the accounts the support user created, among ordinary background.

use crate::planted::*;

#[test]
fn support_actions_are_judged_against_support_access_windows() {
    let mut rows = background();
    let s = |when: &str, event: &str, ip: &str, affected: &str, details: &str| {
        row(when, SUPPORT, SUPPORT_TYPE, event, ip, affected, details)
    };
    let dana = |when: &str, event: &str| {
        row(
            when,
            "dana.admin@example.com",
            "User",
            event,
            OFFICE,
            "",
            "",
        )
    };
    rows.extend([
        // History week: a window and an action inside it (not reported: before the period).
        dana("2026-04-08T10:00:00Z", "Code42 support user access enabled"),
        s(
            "2026-04-08T10:30:00Z",
            "Console login",
            "52.14.10.9",
            "",
            "",
        ),
        dana(
            "2026-04-08T15:00:00Z",
            "Code42 support user access disabled",
        ),
        // Monday: access enabled, the support user works and creates an account, access disabled.
        dana("2026-04-13T10:30:00Z", "Code42 support user access enabled"),
        s(
            "2026-04-13T11:00:00Z",
            "Console login",
            "52.14.10.9",
            "",
            "",
        ),
        s(
            "2026-04-13T11:10:00Z",
            "Alert rule edited",
            "52.14.10.9",
            "",
            r#"{"ruleId":"r-17"}"#,
        ),
        s(
            "2026-04-13T11:30:00Z",
            "Add user",
            "52.14.10.9",
            "temp.helper@example.com",
            "",
        ),
        dana(
            "2026-04-13T13:00:00Z",
            "Code42 support user access disabled",
        ),
        // Tuesday: the created account signs in and hands out an admin role.
        row(
            "2026-04-14T09:00:00Z",
            "temp.helper@example.com",
            "User",
            "Console login",
            "52.14.10.9",
            "",
            "",
        ),
        row(
            "2026-04-14T09:30:00Z",
            "temp.helper@example.com",
            "User",
            "User roles assigned",
            "52.14.10.9",
            "carol@example.com",
            r#"{"role":"Customer Cloud Admin"}"#,
        ),
        // Wednesday: the support user is back although access is off.
        s(
            "2026-04-15T09:00:00Z",
            "Console login",
            "52.14.10.10",
            "",
            "",
        ),
        s(
            "2026-04-15T09:20:00Z",
            "File download",
            "52.14.10.10",
            "",
            r#"{"fileName":"payroll.xlsx"}"#,
        ),
        // Friday: enabled again and never disabled; a Saturday login falls inside.
        dana("2026-04-17T09:30:00Z", "Code42 support user access enabled"),
        s(
            "2026-04-18T10:00:00Z",
            "Console login",
            "52.14.10.9",
            "",
            "",
        ),
    ]);
    let (_d, store) = store_of(&rows);
    let id = ids_by_time(&store);
    let t = |s: &str| &id[s];
    let found = analyze(&store, "support-user-activity", None);

    let inside = with_evidence(
        &found,
        &[
            t("2026-04-13T11:00:00Z"),
            t("2026-04-13T11:10:00Z"),
            t("2026-04-13T11:30:00Z"),
        ],
    );
    // Inside the window: not high; low because it includes creating an account.
    assert_eq!(severity(inside), "low", "{inside}");
    assert_eq!(inside["actor"], SUPPORT);
    assert!(
        summary(inside).contains("inside the support-access window"),
        "{inside}"
    );
    assert!(summary(inside).contains("Add user"), "{inside}");

    let outside = with_evidence(
        &found,
        &[t("2026-04-15T09:00:00Z"), t("2026-04-15T09:20:00Z")],
    );
    assert_eq!(severity(outside), "high", "{outside}");
    assert_eq!(outside["count"], 2);
    assert!(
        summary(outside).contains("support access was off"),
        "{outside}"
    );

    let open = with_evidence(&found, &[t("2026-04-18T10:00:00Z")]);
    assert_eq!(severity(open), "info", "{open}");
    assert!(summary(open).contains("still open"), "{open}");

    let created = found
        .iter()
        .find(|f| f["subject"] == "temp.helper@example.com" && f["actor"] == SUPPORT)
        .expect("creation finding");
    assert_eq!(severity(created), "medium", "{created}");
    assert_eq!(
        created["event_ids"],
        serde_json::json!([t("2026-04-13T11:30:00Z")])
    );

    let later = with_evidence(
        &found,
        &[t("2026-04-14T09:00:00Z"), t("2026-04-14T09:30:00Z")],
    );
    assert_eq!(severity(later), "high", "{later}");
    assert_eq!(later["actor"], "temp.helper@example.com");
    assert!(summary(later).contains("privilege changes"), "{later}");

    // Exactly these five: the background and the history week produce nothing.
    assert_eq!(found.len(), 5, "{found:#?}");

    // Following created accounts is bounded by support.follow_created_users.
    let short = analyze(
        &store,
        "support-user-activity",
        Some("[support]\nfollow_created_users = \"12h\"\n"),
    );
    assert_eq!(short.len(), 4, "{short:#?}");
    assert!(short.iter().all(|f| f["actor"] == SUPPORT), "{short:#?}");
}

#[test]
fn a_disable_without_an_enable_leaves_earlier_support_actions_undecided() {
    let mut rows = background();
    rows.extend([
        row(
            "2026-04-13T09:00:00Z",
            SUPPORT,
            SUPPORT_TYPE,
            "Console login",
            "52.14.10.9",
            "",
            "",
        ),
        row(
            "2026-04-13T10:00:00Z",
            SUPPORT,
            SUPPORT_TYPE,
            "Alert rule edited",
            "52.14.10.9",
            "",
            r#"{"ruleId":"r-17"}"#,
        ),
        row(
            "2026-04-13T12:00:00Z",
            "dana.admin@example.com",
            "User",
            "Code42 support user access disabled",
            OFFICE,
            "",
            "",
        ),
        row(
            "2026-04-13T14:00:00Z",
            SUPPORT,
            SUPPORT_TYPE,
            "Console login",
            "52.14.10.9",
            "",
            "",
        ),
    ]);
    let (_d, store) = store_of(&rows);
    let id = ids_by_time(&store);
    let found = analyze(&store, "support-user-activity", None);
    let before = with_evidence(
        &found,
        &[&id["2026-04-13T09:00:00Z"], &id["2026-04-13T10:00:00Z"]],
    );
    assert_eq!(severity(before), "medium", "{before}");
    assert!(
        summary(before).contains("began before the data"),
        "{before}"
    );
    let after = with_evidence(&found, &[&id["2026-04-13T14:00:00Z"]]);
    assert_eq!(severity(after), "high", "{after}");
    assert_eq!(found.len(), 2, "{found:#?}");
}
