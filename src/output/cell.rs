/*!
Spreadsheet-safe CSV cells. A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return
is a formula to Excel and LibreOffice, and export data is attacker-controlled (a username such as
`=HYPERLINK(...)@corp.com`), so such cells get a leading `'`, the convention spreadsheets display as
plain text. To keep auditlens' own exports lossless, a cell that already starts with quotes before
such a character gets one more, and reading an auditlens export removes exactly one (see
[`unneutralise`]); `--raw` writes cells untouched.
*/

use std::borrow::Cow;

/// The header of the event-id column in auditlens' CSV exports; its presence marks such a file.
pub const EVENT_ID_HEADER: &str = "auditlens event id";

fn is_trigger(b: u8) -> bool {
    matches!(b, b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
}

/// True if `s` is `'*` followed by a formula trigger.
fn needs_guard(s: &str) -> bool {
    let rest = s.trim_start_matches('\'');
    rest.as_bytes().first().is_some_and(|&b| is_trigger(b))
}

/// Make a cell safe to open in a spreadsheet.
pub fn neutralise(s: &str) -> Cow<'_, str> {
    if needs_guard(s) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// Undo [`neutralise`] (only applied to files auditlens wrote).
pub fn unneutralise(s: Cow<'_, str>) -> Cow<'_, str> {
    if s.starts_with('\'') && needs_guard(&s) {
        match s {
            Cow::Borrowed(b) => Cow::Borrowed(&b[1..]),
            Cow::Owned(o) => Cow::Owned(o[1..].to_owned()),
        }
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_cells_are_guarded_and_restored() {
        for s in [
            "=1+1", "+x", "-2", "@SUM(A1)", "\tx", "\rx", "'=x", "''-y", "plain", "'quoted", "",
            "a=b",
        ] {
            let n = neutralise(s);
            assert!(
                !n.as_bytes().first().is_some_and(|&b| is_trigger(b)),
                "{s:?} -> {n:?}"
            );
            assert_eq!(unneutralise(Cow::Borrowed(&n)), s, "{s:?}");
        }
        assert_eq!(neutralise("=cmd"), "'=cmd");
        assert_eq!(neutralise("plain"), "plain");
    }
}
