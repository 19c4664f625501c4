//! Timestamps as AWS puts them on the wire.
//!
//! Query requests carry ISO 8601 (`2015-01-25T08:00:00Z`, offsets and
//! fractions allowed); Query responses use ISO 8601 UTC with a `Z`
//! (`2026-11-21T16:12:15Z`, or `…15.359Z` when there are milliseconds, as in
//! STS `Expiration`); some shapes use epoch seconds or RFC 822 dates. The
//! crate stays free of a date library: the civil-calendar arithmetic is a few
//! lines and only UTC is ever produced.

use iamgate_sigv4::time::{civil_from_days, days_from_civil, days_in_month};

/// An instant with millisecond precision, counted from the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    millis: i64,
}

const MILLIS_PER_DAY: i64 = 86_400_000;

/// `Jan` … `Dec` for months 1 to 12.
fn month_name(month: u32) -> &'static str {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    MONTHS
        .get(usize::try_from(month).unwrap_or(1).saturating_sub(1))
        .copied()
        .unwrap_or("Jan")
}

/// Appends the last `width` decimal digits of `value`, zero-padded.
fn push_digits(out: &mut String, value: u32, width: u32) {
    for place in (0..width).rev() {
        let digit = value / 10u32.pow(place) % 10;
        out.push(char::from(b'0' + u8::try_from(digit).unwrap_or(0)));
    }
}

impl Timestamp {
    /// The instant `seconds` after the epoch.
    pub fn from_epoch_seconds(seconds: i64) -> Self {
        Self {
            millis: seconds.saturating_mul(1000),
        }
    }

    /// The instant `millis` milliseconds after the epoch.
    pub fn from_epoch_millis(millis: i64) -> Self {
        Self { millis }
    }

    /// Whole seconds since the epoch (rounded towards negative infinity).
    pub fn epoch_seconds(self) -> i64 {
        self.millis.div_euclid(1000)
    }

    /// Milliseconds since the epoch.
    pub fn epoch_millis(self) -> i64 {
        self.millis
    }

    fn parts(self) -> (i64, u32, u32, u32, u32, u32, u32) {
        let days = self.millis.div_euclid(MILLIS_PER_DAY);
        let in_day = self.millis.rem_euclid(MILLIS_PER_DAY);
        let (y, m, d) = civil_from_days(days);
        let (m, d) = (u32::try_from(m).unwrap_or(1), u32::try_from(d).unwrap_or(1));
        let secs = in_day / 1000;
        // All of these are bounded by the rem_euclid above.
        let hour = u32::try_from(secs / 3600).unwrap_or(0);
        let minute = u32::try_from(secs / 60 % 60).unwrap_or(0);
        let second = u32::try_from(secs % 60).unwrap_or(0);
        let milli = u32::try_from(in_day % 1000).unwrap_or(0);
        (y, m, d, hour, minute, second, milli)
    }

    /// ISO 8601 in UTC: `2026-11-21T16:12:15Z`, with `.mmm` only when the
    /// instant has a sub-second part.
    ///
    /// Written digit by digit rather than through `format!`: every policy
    /// evaluation on the request path carries `aws:CurrentTime`.
    pub fn to_iso8601(self) -> String {
        let (y, mo, d, h, mi, s, ms) = self.parts();
        let Ok(year @ 0..=9999) = u32::try_from(y) else {
            return self.to_iso8601_wide_year();
        };
        let mut out = String::with_capacity(24);
        push_digits(&mut out, year, 4);
        out.push('-');
        push_digits(&mut out, mo, 2);
        out.push('-');
        push_digits(&mut out, d, 2);
        out.push('T');
        push_digits(&mut out, h, 2);
        out.push(':');
        push_digits(&mut out, mi, 2);
        out.push(':');
        push_digits(&mut out, s, 2);
        if ms != 0 {
            out.push('.');
            push_digits(&mut out, ms, 3);
        }
        out.push('Z');
        out
    }

    /// [`Self::to_iso8601`] for years outside 0000–9999.
    fn to_iso8601_wide_year(self) -> String {
        let (y, mo, d, h, mi, s, ms) = self.parts();
        if ms == 0 {
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
        } else {
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
        }
    }

    /// RFC 822 / HTTP date: `Tue, 29 Apr 2014 18:30:38 GMT`.
    pub fn to_http_date(self) -> String {
        const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
        let (y, mo, d, h, mi, s, _) = self.parts();
        let weekday =
            usize::try_from(self.millis.div_euclid(MILLIS_PER_DAY).rem_euclid(7)).unwrap_or(0);
        let day_name = DAYS.get(weekday).copied().unwrap_or("Thu");
        let month_name = month_name(mo);
        format!("{day_name}, {d:02} {month_name} {y:04} {h:02}:{mi:02}:{s:02} GMT")
    }

    /// Common Log Format, API Gateway's `$context.requestTime`:
    /// `29/Apr/2014:18:30:38 +0000`.
    pub fn to_clf(self) -> String {
        let (y, mo, d, h, mi, s, _) = self.parts();
        let month_name = month_name(mo);
        format!("{d:02}/{month_name}/{y:04}:{h:02}:{mi:02}:{s:02} +0000")
    }

    /// A certificate's validity as API Gateway gives it in
    /// `$context.identity.clientCert.validity` (OpenSSL's form, the day
    /// padded with a space): `May 28 12:30:02 2019 GMT`.
    pub fn to_certificate_date(self) -> String {
        let (y, mo, d, h, mi, s, _) = self.parts();
        let month_name = month_name(mo);
        format!("{month_name} {d:>2} {h:02}:{mi:02}:{s:02} {y:04} GMT")
    }

    /// Parses ISO 8601 / RFC 3339 date-times: `YYYY-MM-DDTHH:MM:SS`, an
    /// optional fraction (kept to milliseconds, extra digits truncated) and
    /// `Z` or a `±HH:MM` offset. `t`/`z` are accepted in lower case.
    pub fn parse_iso8601(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        let year = digits(b, 0, 4)?;
        expect(b, 4, b'-')?;
        let month = digits(b, 5, 2)?;
        expect(b, 7, b'-')?;
        let day = digits(b, 8, 2)?;
        if !matches!(b.get(10), Some(b'T' | b't')) {
            return None;
        }
        let hour = digits(b, 11, 2)?;
        expect(b, 13, b':')?;
        let minute = digits(b, 14, 2)?;
        expect(b, 16, b':')?;
        let second = digits(b, 17, 2)?;
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        // 60 is a leap second; AWS never emits one, treat it as invalid.
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        let mut pos = 19;
        let mut millis = 0i64;
        if b.get(pos) == Some(&b'.') {
            pos += 1;
            let start = pos;
            while let Some(d) = b.get(pos).filter(|d| d.is_ascii_digit()) {
                if pos - start < 3 {
                    millis = millis * 10 + i64::from(d - b'0');
                }
                pos += 1;
            }
            let len = pos - start;
            if len == 0 {
                return None;
            }
            for _ in len..3 {
                millis *= 10;
            }
        }
        let offset_minutes = match b.get(pos) {
            Some(b'Z' | b'z') => {
                pos += 1;
                0
            }
            Some(sign @ (b'+' | b'-')) => {
                let oh = digits(b, pos + 1, 2)?;
                expect(b, pos + 3, b':')?;
                let om = digits(b, pos + 4, 2)?;
                if oh > 23 || om > 59 {
                    return None;
                }
                let total = oh * 60 + om;
                pos += 6;
                if *sign == b'-' { -total } else { total }
            }
            _ => return None,
        };
        if pos != b.len() {
            return None;
        }
        let days = days_from_civil(year, month, day);
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
        Some(Self::from_epoch_millis(seconds * 1000 + millis))
    }
}

fn digits(b: &[u8], at: usize, len: usize) -> Option<i64> {
    let slice = b.get(at..at + len)?;
    let mut n = 0i64;
    for &d in slice {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n * 10 + i64::from(d - b'0');
    }
    Some(n)
}

fn expect(b: &[u8], at: usize, c: u8) -> Option<()> {
    (b.get(at) == Some(&c)).then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_seconds_without_fraction() {
        assert_eq!(
            Timestamp::from_epoch_seconds(1_398_796_238).to_iso8601(),
            "2014-04-29T18:30:38Z"
        );
        assert_eq!(
            Timestamp::from_epoch_seconds(0).to_iso8601(),
            "1970-01-01T00:00:00Z"
        );
        assert_eq!(
            Timestamp::from_epoch_seconds(951_782_400).to_iso8601(),
            "2000-02-29T00:00:00Z"
        );
    }

    #[test]
    fn formats_milliseconds_when_present() {
        assert_eq!(
            Timestamp::from_epoch_millis(946_845_296_123).to_iso8601(),
            "2000-01-02T20:34:56.123Z"
        );
        assert_eq!(
            Timestamp::from_epoch_millis(-1).to_iso8601(),
            "1969-12-31T23:59:59.999Z"
        );
        assert_eq!(
            Timestamp::from_epoch_millis(1_000_000_000_007).to_iso8601(),
            "2001-09-09T01:46:40.007Z"
        );
    }

    #[test]
    fn years_beyond_four_digits_are_written_whole() {
        let far = Timestamp::from_epoch_seconds(253_402_300_800); // 10000-01-01
        assert_eq!(far.to_iso8601(), "10000-01-01T00:00:00Z");
        let before = Timestamp::from_epoch_seconds(-62_167_219_201); // -0001-12-31T23:59:59
        assert_eq!(before.to_iso8601(), "-001-12-31T23:59:59Z");
    }

    #[test]
    fn http_date_has_weekday_and_gmt() {
        assert_eq!(
            Timestamp::from_epoch_seconds(1_398_796_238).to_http_date(),
            "Tue, 29 Apr 2014 18:30:38 GMT"
        );
    }

    #[test]
    fn request_time_is_common_log_format_in_utc() {
        assert_eq!(
            Timestamp::from_epoch_seconds(1_398_796_238).to_clf(),
            "29/Apr/2014:18:30:38 +0000"
        );
        assert_eq!(
            Timestamp::from_epoch_seconds(1_796_515_200).to_clf(),
            "06/Dec/2026:00:00:00 +0000"
        );
    }

    #[test]
    fn certificate_dates_pad_the_day_with_a_space() {
        assert_eq!(
            Timestamp::from_epoch_seconds(1_796_515_200).to_certificate_date(),
            "Dec  6 00:00:00 2026 GMT"
        );
        assert_eq!(
            Timestamp::from_epoch_seconds(1_398_796_238).to_certificate_date(),
            "Apr 29 18:30:38 2014 GMT"
        );
    }

    #[test]
    fn parses_zulu_fraction_and_offsets() {
        let p = |s| Timestamp::parse_iso8601(s).map(Timestamp::epoch_millis);
        assert_eq!(p("2015-01-25T08:00:00Z"), Some(1_422_172_800_000));
        assert_eq!(p("2000-01-02T20:34:56.123Z"), Some(946_845_296_123));
        assert_eq!(p("2000-01-02T20:34:56.1234567Z"), Some(946_845_296_123));
        assert_eq!(p("2000-01-02T20:34:56.1Z"), Some(946_845_296_100));
        assert_eq!(p("2019-12-16T22:48:18-01:00"), Some(1_576_540_098_000));
        assert_eq!(p("2019-12-17T00:48:18+01:00"), Some(1_576_540_098_000));
    }

    #[test]
    fn rejects_malformed_dates() {
        for bad in [
            "2015-01-25",
            "2015-01-25T08:00:00",
            "2015-13-01T00:00:00Z",
            "2015-02-29T00:00:00Z",
            "2015-01-25T24:00:00Z",
            "2015-01-25T08:00:00.Z",
            "2015-01-25T08:00:00Zjunk",
            "2015-01-25 08:00:00Z",
            "１０15-01-25T08:00:00Z",
        ] {
            assert_eq!(Timestamp::parse_iso8601(bad), None, "{bad}");
        }
    }

    #[test]
    fn civil_round_trip_over_four_centuries() {
        for days in (-146_097..146_097).step_by(97) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
