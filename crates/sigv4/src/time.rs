//! The ISO-8601 "basic format" timestamps SigV4 uses (`20150830T123600Z`),
//! and the workspace's one proleptic-Gregorian calendar.
//!
//! Only UTC with whole seconds is valid in `X-Amz-Date`; anything else is
//! rejected before any arithmetic, so the conversions here can be exact and
//! allocation-free.
//!
//! # Why the calendar lives here
//!
//! Three crates turn dates into day counts: this one (`X-Amz-Date`),
//! `wire` (ISO 8601 on the Query wire) and `policy` (`Date*` condition
//! operators). Each had its own copy, and a copy that drifts makes a
//! signature's clock, a response's timestamp and a policy's date disagree
//! about the same instant. This crate is at the top of
//! `docs/architecture.md`'s table and has no workspace dependency, so
//! `wire` and `policy` can depend on it without any arrow pointing up the
//! table; [`days_from_civil`], [`civil_from_days`] and [`days_in_month`]
//! are the only implementation.

/// Seconds since the Unix epoch (UTC).
pub type EpochSeconds = i64;

/// Parses `YYYYMMDDTHHMMSSZ`; `None` for anything else, including impossible
/// calendar dates such as month 13 or February 30.
pub fn parse_basic(text: &str) -> Option<EpochSeconds> {
    let bytes = text.as_bytes();
    if bytes.len() != 16 || bytes.get(8) != Some(&b'T') || bytes.get(15) != Some(&b'Z') {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = bytes.get(range)?;
        digits.iter().try_fold(0i64, |acc, &b| {
            b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
        })
    };
    let (year, month, day) = (number(0..4)?, number(4..6)?, number(6..8)?);
    let (hour, minute, second) = (number(9..11)?, number(11..13)?, number(13..15)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second)
}

/// Formats epoch seconds as `YYYYMMDDTHHMMSSZ`.
pub fn format_basic(epoch: EpochSeconds) -> String {
    let days = epoch.div_euclid(86_400);
    let secs = epoch.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        secs / 3_600,
        secs % 3_600 / 60,
        secs % 60
    )
}

/// Whether `year` of the proleptic Gregorian calendar has a 29 February.
pub fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in `month` (1..=12) of `year`; months outside 1..=12 count 31, so
/// callers check the month first.
pub fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (negative before).
///
/// Day counts use a calendar whose year starts on 1 March, so the leap day
/// is the last day of the year and every other month has a fixed offset.
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let shifted_year = if month <= 2 { year - 1 } else { year };
    let era = shifted_year.div_euclid(400);
    let year_of_era = shifted_year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The `(year, month, day)` of a day count from 1970-01-01: the inverse of
/// [`days_from_civil`].
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_timestamps_convert_both_ways() {
        assert_eq!(parse_basic("19700101T000000Z"), Some(0));
        assert_eq!(parse_basic("20150830T123600Z"), Some(1_440_938_160));
        assert_eq!(format_basic(1_440_938_160), "20150830T123600Z");
        assert_eq!(parse_basic("20240229T235959Z"), Some(1_709_251_199));
    }

    #[test]
    fn malformed_or_impossible_dates_are_rejected() {
        for bad in [
            "20150830T123600",
            "2015-08-30T12:36:00Z",
            "20150830t123600Z",
            "20151330T123600Z",
            "20230229T000000Z",
            "20150830T243600Z",
            "20150830T123660Z",
            "2015083OT123600Z",
            "Sun, 30 Aug 2015 12:36:00 GMT",
            "",
        ] {
            assert_eq!(parse_basic(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn format_then_parse_is_identity(epoch in 0i64..253_402_300_799) {
            prop_assert_eq!(parse_basic(&format_basic(epoch)), Some(epoch));
        }
    }
}
