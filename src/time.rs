/*!
UTC instants as nanoseconds since the Unix epoch: parsing every spelling the exports use, and printing
ISO-8601 without losing precision.

Exports carry 0 to 9 fractional digits (`...:00Z`, `.000Z`, `.000111Z`, `.093616500Z`), sometimes an
offset instead of `Z`, and sometimes `YYYY-MM-DD HH:MM:SS` meaning UTC. Strings of mixed precision do not
sort correctly as text, so everything is parsed to one integer first. The parser is hand-written
because it runs once per ingested row.
*/

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// Nanoseconds in one second.
pub const NANOS_PER_SEC: i64 = 1_000_000_000;
/// Nanoseconds in one day.
pub const NANOS_PER_DAY: i64 = 86_400 * NANOS_PER_SEC;

/// Why a timestamp did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TimestampError(&'static str);

/// Parse an export timestamp to nanoseconds since the epoch (UTC).
///
/// Accepted: `YYYY-MM-DD[T| ]HH:MM[:SS[.fffffffff]]` followed by nothing (UTC), `Z`, `UTC`, or an
/// offset `+HH:MM`, `+HHMM`, `+HH`. Years 1900 to 2262 (the range of nanoseconds in an i64), and
/// the instant itself from 1900-01-01T00:00:00Z on, so that what [`format_timestamp`] prints for
/// any parsed value parses again.
pub fn parse_timestamp(text: &str) -> Result<i64, TimestampError> {
    let s = text.trim().as_bytes();
    let mut p = Cursor { s, i: 0 };
    let year = p.digits(4).ok_or(TimestampError("expected a year YYYY"))?;
    p.expect(b'-')
        .ok_or(TimestampError("expected '-' after the year"))?;
    let month = p.digits(2).ok_or(TimestampError("expected a month MM"))?;
    p.expect(b'-')
        .ok_or(TimestampError("expected '-' after the month"))?;
    let day = p.digits(2).ok_or(TimestampError("expected a day DD"))?;
    match p.peek() {
        Some(b'T' | b't' | b' ') => p.i += 1,
        _ => {
            return Err(TimestampError(
                "expected 'T' or a space between date and time",
            ));
        }
    }
    let hour = p.digits(2).ok_or(TimestampError("expected an hour HH"))?;
    p.expect(b':')
        .ok_or(TimestampError("expected ':' after the hour"))?;
    let minute = p.digits(2).ok_or(TimestampError("expected minutes MM"))?;
    let mut second = 0;
    let mut nanos: i64 = 0;
    if p.peek() == Some(b':') {
        p.i += 1;
        second = p.digits(2).ok_or(TimestampError("expected seconds SS"))?;
        if matches!(p.peek(), Some(b'.' | b',')) {
            p.i += 1;
            let start = p.i;
            while let Some(d @ b'0'..=b'9') = p.peek() {
                if p.i - start == 9 {
                    return Err(TimestampError("more than 9 fractional digits"));
                }
                nanos = nanos * 10 + i64::from(d - b'0');
                p.i += 1;
            }
            let n = p.i - start;
            if n == 0 {
                return Err(TimestampError("expected digits after the decimal point"));
            }
            nanos *= 10_i64.pow(9 - n as u32);
        }
    }
    // Zone: nothing, Z, UTC or an offset.
    let rest = &s[p.i..];
    let rest = rest.strip_prefix(b" ").unwrap_or(rest);
    let offset_secs: i64 = match rest {
        b"" | b"Z" | b"z" | b"UTC" | b"utc" | b"+00:00" => 0,
        [sign @ (b'+' | b'-'), tail @ ..] => {
            let mut q = Cursor { s: tail, i: 0 };
            let h = q
                .digits(2)
                .ok_or(TimestampError("expected an offset +HH:MM"))?;
            let m = match q.peek() {
                None => 0,
                Some(b':') => {
                    q.i += 1;
                    q.digits(2)
                        .ok_or(TimestampError("expected offset minutes"))?
                }
                Some(_) => q
                    .digits(2)
                    .ok_or(TimestampError("expected offset minutes"))?,
            };
            if q.i != tail.len() || h > 23 || m > 59 {
                return Err(TimestampError("invalid UTC offset"));
            }
            let v = i64::from(h) * 3600 + i64::from(m) * 60;
            if *sign == b'-' { -v } else { v }
        }
        _ => return Err(TimestampError("unexpected text after the time")),
    };
    if !(1900..=2262).contains(&year) {
        return Err(TimestampError("year outside the range 1900 to 2262"));
    }
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)
        .ok_or(TimestampError("no such calendar date"))?;
    if hour > 23 || minute > 59 || second > 60 {
        return Err(TimestampError("time of day out of range"));
    }
    // A leap second (:60) is folded into the next second, as chrono and the exports' producers do.
    let days = i64::from(date.num_days_from_ce()) - UNIX_EPOCH_DAYS_FROM_CE;
    let secs = days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second)
        - offset_secs;
    // `1900-01-01T00:30:00+01:00` is 1899 in UTC: it would be stored, exported as 1899 and then
    // refused when the export is read back, so the range applies to the instant too.
    if secs < MIN_SECS {
        return Err(TimestampError("before 1900-01-01T00:00:00Z"));
    }
    // Nanoseconds in an i64 reach from 1677 to 2262; later instants cannot be stored exactly.
    secs.checked_mul(NANOS_PER_SEC)
        .and_then(|n| n.checked_add(nanos))
        .ok_or(TimestampError(
            "outside the range that can be stored to the nanosecond (up to 2262-04-11)",
        ))
}

/// 1900-01-01T00:00:00Z in seconds since the epoch: the earliest instant accepted.
const MIN_SECS: i64 = -2_208_988_800;

/// `NaiveDate::from_ymd(1970, 1, 1).num_days_from_ce()`.
const UNIX_EPOCH_DAYS_FROM_CE: i64 = 719_163;

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn expect(&mut self, b: u8) -> Option<()> {
        (self.peek() == Some(b)).then(|| self.i += 1)
    }
    fn digits(&mut self, n: usize) -> Option<u32> {
        let d = self.s.get(self.i..self.i + n)?;
        if !d.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.i += n;
        Some(d.iter().fold(0, |acc, &b| acc * 10 + u32::from(b - b'0')))
    }
}

/// Format as ISO-8601 UTC with the fewest of 0, 3, 6 or 9 fractional digits that keep the value.
///
/// Digits are written straight into one buffer (the calendar date by the civil-from-days
/// algorithm, H. Hinnant, "chrono-Compatible Low-Level Date Algorithms"): queries, findings and
/// reports format hundreds of thousands of instants, and `format!` with chrono's fields cost a
/// microsecond and three allocations each. Nanoseconds in an i64 span the years 1677 to 2262, so
/// four digits always hold the year. A unit test compares it with chrono across that range.
pub fn format_timestamp(ns: i64) -> String {
    let mut out = Vec::with_capacity(30);
    write_timestamp(ns, &mut out);
    // Only ASCII digits and separators were written: the conversion takes the buffer as it is.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// [`format_timestamp`]'s text appended to `out` (for writers of long JSON arrays, without a
/// `String` per instant).
pub fn write_timestamp(ns: i64, out: &mut Vec<u8>) {
    let secs = ns.div_euclid(NANOS_PER_SEC);
    let frac = ns.rem_euclid(NANOS_PER_SEC);
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let of_day = secs.rem_euclid(86_400);
    let mut buf = [0u8; 30];
    let mut put = |at: usize, width: usize, mut v: i64| {
        for k in (at..at + width).rev() {
            buf[k] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, month);
    put(8, 2, day);
    put(11, 2, of_day / 3600);
    put(14, 2, of_day / 60 % 60);
    put(17, 2, of_day % 60);
    let (digits, value) = if frac == 0 {
        (0, 0)
    } else if frac % 1_000_000 == 0 {
        (3, frac / 1_000_000)
    } else if frac % 1_000 == 0 {
        (6, frac / 1_000)
    } else {
        (9, frac)
    };
    if digits > 0 {
        put(20, digits, value);
    }
    for (at, sep) in [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')] {
        buf[at] = sep;
    }
    let mut len = 19;
    if digits > 0 {
        buf[19] = b'.';
        len = 20 + digits;
    }
    buf[len] = b'Z';
    out.extend_from_slice(&buf[..=len]);
}

/// (year, month, day) of the proleptic Gregorian calendar for days since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], from March
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The UTC calendar date of an instant.
pub fn date_of(ns: i64) -> NaiveDate {
    let days = ns.div_euclid(NANOS_PER_DAY);
    NaiveDate::from_num_days_from_ce_opt((days + UNIX_EPOCH_DAYS_FROM_CE) as i32)
        .unwrap_or(NaiveDate::MIN)
}

/// Nanoseconds at midnight UTC starting `date`.
pub fn start_of_day(date: NaiveDate) -> i64 {
    (i64::from(date.num_days_from_ce()) - UNIX_EPOCH_DAYS_FROM_CE) * NANOS_PER_DAY
}

/// The instant as a chrono value (for calendar arithmetic and time zones).
pub fn to_datetime(ns: i64) -> DateTime<Utc> {
    Utc.timestamp_nanos(ns)
}

/// Nanoseconds of a chrono UTC instant (saturating outside the representable range).
pub fn from_datetime(dt: DateTime<Utc>) -> i64 {
    dt.timestamp_nanos_opt()
        .unwrap_or(if dt.year() < 1970 { i64::MIN } else { i64::MAX })
}

/// Nanoseconds of a naive date-time taken as UTC.
pub fn from_naive(dt: NaiveDateTime) -> i64 {
    from_datetime(dt.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_documented_precisions_parse() {
        let base = parse_timestamp("2020-01-01T12:00:00Z").unwrap();
        assert_eq!(base, 1_577_880_000 * NANOS_PER_SEC);
        assert_eq!(parse_timestamp("2020-01-01T12:00:00.000Z").unwrap(), base);
        assert_eq!(
            parse_timestamp("2020-01-01T12:00:00.000111Z").unwrap(),
            base + 111_000
        );
        assert_eq!(
            parse_timestamp("2020-01-01T12:00:13.093616500Z").unwrap(),
            base + 13 * NANOS_PER_SEC + 93_616_500
        );
        assert_eq!(parse_timestamp("2020-01-01 12:00:00").unwrap(), base);
        assert_eq!(parse_timestamp("2020-01-01T14:00:00+02:00").unwrap(), base);
        assert_eq!(parse_timestamp("2020-01-01T07:00:00-0500").unwrap(), base);
        assert_eq!(
            parse_timestamp("2020-01-01T12:00:00.5Z").unwrap(),
            base + 500_000_000
        );
    }

    #[test]
    fn garbage_is_rejected_with_a_reason() {
        for bad in [
            "",
            "yesterday",
            "2020-13-01T00:00:00Z",
            "2020-02-30T00:00:00Z",
            "2020-01-01T25:00:00Z",
            "2020-01-01T12:00:00.Z",
            "2020-01-01T12:00:00.0000000001Z",
            "2020-01-01T12:00:00Zjunk",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "2262-12-31T23:59:59Z",
            "1900-01-01T00:00:00+00:01",
            "1900-01-01 00:59:59.999999999 +01:00",
        ] {
            assert!(parse_timestamp(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_range_edges_parse_and_print_back() {
        for s in [
            "1900-01-01T00:00:00Z",
            "1900-01-01T01:00:00+01:00",
            "2262-04-11T23:47:16.854775807Z",
        ] {
            let ns = parse_timestamp(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(parse_timestamp(&format_timestamp(ns)), Ok(ns), "{s}");
        }
        assert!(parse_timestamp("2262-04-11T23:47:16.854775808Z").is_err());
    }

    #[test]
    fn formatting_agrees_with_chrono_across_the_range() {
        // Instants spread over 1677..2262 (xorshift), every day boundary near leap days and
        // century years, and each precision.
        let reference = |ns: i64| {
            let dt = DateTime::from_timestamp(ns.div_euclid(NANOS_PER_SEC), 0).unwrap();
            let frac = ns.rem_euclid(NANOS_PER_SEC);
            let head = dt.format("%Y-%m-%dT%H:%M:%S").to_string();
            match frac {
                0 => format!("{head}Z"),
                f if f % 1_000_000 == 0 => format!("{head}.{:03}Z", f / 1_000_000),
                f if f % 1_000 == 0 => format!("{head}.{:06}Z", f / 1_000),
                f => format!("{head}.{f:09}Z"),
            }
        };
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut instants = vec![i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX - 1, i64::MAX];
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let ns = x as i64;
            // The same instant at each precision.
            instants.extend([
                ns,
                ns - ns % 1_000,
                ns - ns % 1_000_000,
                ns - ns % NANOS_PER_SEC,
            ]);
        }
        for (y, m, d) in [
            (1700, 3, 1),
            (1800, 2, 28),
            (1900, 3, 1),
            (2000, 2, 29),
            (2100, 3, 1),
        ] {
            let day = start_of_day(NaiveDate::from_ymd_opt(y, m, d).unwrap());
            instants.extend([day - 1, day, day + 1, day + NANOS_PER_DAY - 1]);
        }
        for ns in instants {
            assert_eq!(format_timestamp(ns), reference(ns), "{ns}");
        }
    }

    #[test]
    fn formatting_keeps_precision_and_round_trips() {
        for s in [
            "2020-01-01T12:00:00Z",
            "2020-01-01T12:00:00.123Z",
            "2020-01-01T12:00:00.000111Z",
            "2020-01-01T12:00:13.093616500Z",
            "1969-12-31T23:59:59.999Z",
        ] {
            let ns = parse_timestamp(s).unwrap();
            assert_eq!(format_timestamp(ns), s);
        }
        // The whole i64 range of instants (1677 to 2262) prints as chrono's own pattern would.
        for ns in [i64::MIN, -1, 0, 1, 1_000_000, i64::MAX] {
            let chrono = DateTime::from_timestamp(ns.div_euclid(NANOS_PER_SEC), 0)
                .unwrap()
                .format("%Y-%m-%dT%H:%M:%S")
                .to_string();
            assert!(format_timestamp(ns).starts_with(&chrono), "{ns}");
        }
        assert_eq!(
            date_of(parse_timestamp("1969-12-31T23:59:59Z").unwrap()).to_string(),
            "1969-12-31"
        );
        assert_eq!(
            start_of_day(NaiveDate::from_ymd_opt(1970, 1, 2).unwrap()),
            NANOS_PER_DAY
        );
    }
}
