#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The three readers of a date — SigV4's `X-Amz-Date`, the Query wire's
//! ISO 8601 and the policy language's `Date*` operators — share one
//! calendar (`iamgate_sigv4::time`). This crate depends on all three, so it
//! is where their agreement is pinned: before the calendar had one home,
//! each crate carried its own copy and nothing would have noticed one of
//! them drifting.

use iamgate_policy::condition::parse_date;
use iamgate_sigv4::time::{format_basic, parse_basic};
use iamgate_wire::Timestamp;

/// A small deterministic generator (SplitMix64): the same 10,000 instants
/// on every run, spread over years 0001..=9999.
fn instants() -> impl Iterator<Item = i64> {
    const FIRST: i64 = -62_135_596_800; // 0001-01-01T00:00:00Z
    const LAST: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    let span = u64::try_from(LAST - FIRST + 1).unwrap();
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    std::iter::repeat_with(move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        FIRST + i64::try_from(z % span).unwrap()
    })
    .take(10_000)
}

#[test]
fn sigv4_wire_and_policy_read_the_same_instant_from_10000_random_timestamps() {
    for epoch in instants() {
        let basic = format_basic(epoch);
        let iso = Timestamp::from_epoch_seconds(epoch).to_iso8601();
        // The same civil date and time, in the two notations.
        let expected_iso = format!(
            "{}-{}-{}T{}:{}:{}Z",
            &basic[0..4],
            &basic[4..6],
            &basic[6..8],
            &basic[9..11],
            &basic[11..13],
            &basic[13..15]
        );
        assert_eq!(iso, expected_iso, "{epoch}");
        assert_eq!(parse_basic(&basic), Some(epoch), "{basic}");
        assert_eq!(
            Timestamp::parse_iso8601(&iso).map(Timestamp::epoch_seconds),
            Some(epoch),
            "{iso}"
        );
        assert_eq!(parse_date(&iso), Some(epoch * 1000), "{iso}");
    }
}

#[test]
fn leap_days_are_the_same_days_for_every_reader() {
    for (text, valid) in [
        ("2000-02-29", true),
        ("2024-02-29", true),
        ("1900-02-29", false),
        ("2023-02-29", false),
        ("2100-02-29", false),
    ] {
        let basic = format!("{}T000000Z", text.replace('-', ""));
        let iso = format!("{text}T00:00:00Z");
        assert_eq!(parse_basic(&basic).is_some(), valid, "{basic}");
        assert_eq!(Timestamp::parse_iso8601(&iso).is_some(), valid, "{iso}");
        assert_eq!(parse_date(text).is_some(), valid, "{text}");
    }
}
