use super::*;

use crate::calendar::Instant;

const HOUR: i32 = 3600;

fn zone(name: &str) -> Zone {
    name.parse().unwrap()
}

fn date(text: &str) -> Date {
    text.parse().unwrap()
}

/// Seconds since the Unix epoch of an RFC 3339 instant.
fn secs(text: &str) -> i64 {
    text.parse::<Instant>().unwrap().unix_seconds()
}

fn hm(hours: u32, minutes: u32) -> u32 {
    hours * 60 + minutes
}

fn unique(at: &str, offset: i32) -> LocalTime {
    LocalTime::Unique {
        seconds: secs(at),
        offset,
    }
}

fn ambiguous(earlier: (&str, i32), later: (&str, i32)) -> LocalTime {
    LocalTime::Ambiguous {
        earlier: (secs(earlier.0), earlier.1),
        later: (secs(later.0), later.1),
    }
}

/// Checks `resolve` for each `(minute, expected)` on one date.
#[track_caller]
fn check_resolve(zone_name: &str, day: &str, cases: &[(u32, LocalTime)]) {
    let z = zone(zone_name);
    for (minute, expect) in cases {
        assert_eq!(
            z.resolve(date(day), *minute),
            *expect,
            "{zone_name} {day} minute {minute}"
        );
    }
}

#[test]
fn toronto_spring_forward_drops_the_gap() {
    const EST: i32 = -5 * HOUR;
    const EDT: i32 = -4 * HOUR;
    check_resolve(
        "America/Toronto",
        "2026-03-08",
        &[
            (hm(0, 0), unique("2026-03-08T05:00:00Z", EST)),
            (hm(1, 59), unique("2026-03-08T06:59:00Z", EST)),
            (hm(2, 0), LocalTime::Missing),
            (hm(2, 30), LocalTime::Missing),
            (hm(2, 59), LocalTime::Missing),
            (hm(3, 0), unique("2026-03-08T07:00:00Z", EDT)),
            (hm(24, 0), unique("2026-03-09T04:00:00Z", EDT)),
        ],
    );
}

#[test]
fn toronto_fall_back_reads_twice_earlier_first() {
    const EST: i32 = -5 * HOUR;
    const EDT: i32 = -4 * HOUR;
    check_resolve(
        "America/Toronto",
        "2026-11-01",
        &[
            (hm(0, 59), unique("2026-11-01T04:59:00Z", EDT)),
            (
                hm(1, 0),
                ambiguous(("2026-11-01T05:00:00Z", EDT), ("2026-11-01T06:00:00Z", EST)),
            ),
            (
                hm(1, 30),
                ambiguous(("2026-11-01T05:30:00Z", EDT), ("2026-11-01T06:30:00Z", EST)),
            ),
            (hm(2, 0), unique("2026-11-01T07:00:00Z", EST)),
        ],
    );
    let t = zone("America/Toronto").resolve(date("2026-11-01"), hm(1, 30));
    assert_eq!(t.earliest(), Some((secs("2026-11-01T05:30:00Z"), EDT)));
}

#[test]
fn lord_howe_falls_back_thirty_minutes() {
    // Lord Howe Island keeps +10:30 in winter and +11:00 in summer; on 2026-04-05 the
    // clock goes from 02:00 back to 01:30.
    const SUMMER: i32 = 11 * HOUR;
    const WINTER: i32 = 10 * HOUR + 1800;
    check_resolve(
        "Australia/Lord_Howe",
        "2026-04-05",
        &[
            (hm(1, 29), unique("2026-04-04T14:29:00Z", SUMMER)),
            (
                hm(1, 30),
                ambiguous(
                    ("2026-04-04T14:30:00Z", SUMMER),
                    ("2026-04-04T15:00:00Z", WINTER),
                ),
            ),
            (
                hm(1, 59),
                ambiguous(
                    ("2026-04-04T14:59:00Z", SUMMER),
                    ("2026-04-04T15:29:00Z", WINTER),
                ),
            ),
            (hm(2, 0), unique("2026-04-04T15:30:00Z", WINTER)),
        ],
    );
}

#[test]
fn lord_howe_springs_forward_thirty_minutes() {
    // On 2026-10-04 the clock goes from 02:00 to 02:30.
    const SUMMER: i32 = 11 * HOUR;
    const WINTER: i32 = 10 * HOUR + 1800;
    check_resolve(
        "Australia/Lord_Howe",
        "2026-10-04",
        &[
            (hm(1, 59), unique("2026-10-03T15:29:00Z", WINTER)),
            (hm(2, 0), LocalTime::Missing),
            (hm(2, 15), LocalTime::Missing),
            (hm(2, 29), LocalTime::Missing),
            (hm(2, 30), unique("2026-10-03T15:30:00Z", SUMMER)),
        ],
    );
}

#[test]
fn kathmandu_is_five_forty_five_ahead() {
    const NPT: i32 = 5 * HOUR + 45 * 60;
    check_resolve(
        "Asia/Kathmandu",
        "2026-06-15",
        &[
            (hm(0, 0), unique("2026-06-14T18:15:00Z", NPT)),
            (hm(14, 40), unique("2026-06-15T08:55:00Z", NPT)),
        ],
    );
    assert_eq!(
        zone("Asia/Kathmandu").offset_at(secs("2026-01-01T00:00:00Z")),
        NPT
    );
}

#[test]
fn london_changes_at_one_utc() {
    const BST: i32 = HOUR;
    check_resolve(
        "Europe/London",
        "2026-03-29",
        &[
            (hm(0, 59), unique("2026-03-29T00:59:00Z", 0)),
            (hm(1, 0), LocalTime::Missing),
            (hm(1, 30), LocalTime::Missing),
            (hm(2, 0), unique("2026-03-29T01:00:00Z", BST)),
        ],
    );
    check_resolve(
        "Europe/London",
        "2026-10-25",
        &[
            (
                hm(1, 0),
                ambiguous(("2026-10-25T00:00:00Z", BST), ("2026-10-25T01:00:00Z", 0)),
            ),
            (hm(2, 0), unique("2026-10-25T02:00:00Z", 0)),
        ],
    );
}

#[test]
fn resolve_24_00_is_the_next_midnight() {
    let z = zone("Europe/London");
    assert_eq!(
        z.resolve(date("2026-07-01"), 1440),
        z.resolve(date("2026-07-02"), 0)
    );
    // 24:00 on the last date is 2200-01-01 00:00, which exists.
    assert!(matches!(
        z.resolve(Date::MAX, 1440),
        LocalTime::Unique { .. }
    ));
    assert!(matches!(
        z.resolve(Date::MAX, 1439),
        LocalTime::Unique { .. }
    ));
}

#[test]
fn earliest_picks_the_only_or_first_reading() {
    assert_eq!(LocalTime::Missing.earliest(), None);
    assert_eq!(
        LocalTime::Unique {
            seconds: 7,
            offset: 60
        }
        .earliest(),
        Some((7, 60))
    );
    assert_eq!(
        LocalTime::Ambiguous {
            earlier: (1, 2),
            later: (3, 4)
        }
        .earliest(),
        Some((1, 2))
    );
}

/// Checks `day()` of an ordinary date: one offset all day, 24 hours to next midnight.
#[track_caller]
fn check_ordinary_day(zone_name: &str, day: &str, midnight: &str, offset: i32) {
    let d = zone(zone_name).day(date(day));
    let midnight = secs(midnight);
    assert_eq!(
        d,
        DayZone {
            uniform: true,
            midnight,
            offset,
            next_midnight: Some((midnight + 86_400, offset)),
        },
        "{zone_name} {day}"
    );
}

/// Checks `day()` of a transition date: not uniform, with `hours` to the next midnight.
#[track_caller]
fn check_transition_day(zone_name: &str, day: &str, hours: f64) {
    let d = zone(zone_name).day(date(day));
    assert!(!d.uniform, "{zone_name} {day}");
    let (next, _) = d.next_midnight.unwrap();
    assert_eq!(
        (next - d.midnight) as f64 / 3600.0,
        hours,
        "{zone_name} {day}"
    );
}

#[test]
fn day_is_uniform_on_ordinary_days() {
    check_ordinary_day(
        "America/Toronto",
        "2026-03-02",
        "2026-03-02T05:00:00Z",
        -5 * HOUR,
    );
    // The days either side of a transition are ordinary.
    check_ordinary_day(
        "America/Toronto",
        "2026-03-07",
        "2026-03-07T05:00:00Z",
        -5 * HOUR,
    );
    check_ordinary_day(
        "America/Toronto",
        "2026-03-09",
        "2026-03-09T04:00:00Z",
        -4 * HOUR,
    );
    check_ordinary_day(
        "Asia/Kathmandu",
        "2026-06-15",
        "2026-06-14T18:15:00Z",
        5 * HOUR + 45 * 60,
    );
    check_ordinary_day("Europe/London", "2026-07-01", "2026-06-30T23:00:00Z", HOUR);
    check_ordinary_day(
        "Australia/Lord_Howe",
        "2026-07-01",
        "2026-06-30T13:30:00Z",
        10 * HOUR + 1800,
    );
}

#[test]
fn day_is_not_uniform_on_transition_days() {
    check_transition_day("America/Toronto", "2026-03-08", 23.0);
    check_transition_day("America/Toronto", "2026-11-01", 25.0);
    check_transition_day("Australia/Lord_Howe", "2026-04-05", 24.5);
    check_transition_day("Australia/Lord_Howe", "2026-10-04", 23.5);
    check_transition_day("Europe/London", "2026-03-29", 23.0);
    check_transition_day("Europe/London", "2026-10-25", 25.0);
    let d = zone("America/Toronto").day(date("2026-03-08"));
    assert_eq!(d.midnight, secs("2026-03-08T05:00:00Z"));
    assert_eq!(d.offset, -5 * HOUR);
    assert_eq!(
        d.next_midnight,
        Some((secs("2026-03-09T04:00:00Z"), -4 * HOUR))
    );
}

#[test]
fn next_midnight_is_none_when_it_falls_in_a_gap() {
    // Havana moves its clocks from 00:00 to 01:00 on 2026-03-08: the day before has no
    // 24:00, and the day itself has no 00:00.
    let havana = zone("America/Havana");
    assert_eq!(havana.resolve(date("2026-03-08"), 0), LocalTime::Missing);
    assert_eq!(havana.day(date("2026-03-07")).next_midnight, None);
    assert!(!havana.day(date("2026-03-08")).uniform);
    // It falls back from 01:00 to 00:00 on 2026-11-01, so that day's 00:00 happens twice:
    // the day before still ends at the first reading.
    let before = havana.day(date("2026-10-31"));
    assert!(before.uniform);
    assert_eq!(
        before.next_midnight,
        Some((secs("2026-11-01T04:00:00Z"), -4 * HOUR))
    );
    assert!(!havana.day(date("2026-11-01")).uniform);
}

#[test]
fn reading_gives_the_local_date_and_time() {
    let z = zone("America/Toronto");
    let r = z.reading(secs("2026-03-02T14:00:00Z"));
    assert_eq!(r.date(), Some(date("2026-03-02")));
    assert_eq!(r.second_of_day, 9 * 3600);
    assert_eq!(r.offset, -5 * HOUR);
    // Early in the UTC day it is still the evening before in Toronto.
    let r = z.reading(secs("2026-03-02T03:00:00Z"));
    assert_eq!(r.date(), Some(date("2026-03-01")));
    assert_eq!(r.second_of_day, 22 * 3600);
    // The later 01:30 of a fall-back reads as 01:30 at the standard offset.
    let r = z.reading(secs("2026-11-01T06:30:00Z"));
    assert_eq!(
        (r.date(), r.second_of_day, r.offset),
        (Some(date("2026-11-01")), 5400, -5 * HOUR)
    );
    // A local date before 2000 has no Date.
    assert_eq!(z.reading(secs("2000-01-01T02:00:00Z")).date(), None);
}

#[test]
fn offset_at_follows_transitions() {
    let z = zone("America/Toronto");
    assert_eq!(z.offset_at(secs("2026-03-08T06:59:59Z")), -5 * HOUR);
    assert_eq!(z.offset_at(secs("2026-03-08T07:00:00Z")), -4 * HOUR);
    assert_eq!(z.offset_at(secs("2026-11-01T05:59:59Z")), -4 * HOUR);
    assert_eq!(z.offset_at(secs("2026-11-01T06:00:00Z")), -5 * HOUR);
}

#[test]
fn names_parse_and_print() {
    let z = zone("America/Toronto");
    assert_eq!(z.name(), "America/Toronto");
    assert_eq!(z.to_string(), "America/Toronto");
    assert_eq!(format!("{z:?}"), "Zone(America/Toronto)");
    assert_eq!(z.tz(), chrono_tz::America::Toronto);
    for bad in ["Mars/Olympus", "", "America/Toronto ", "EST+5"] {
        let err = bad.parse::<Zone>().unwrap_err().to_string();
        assert_eq!(err, format!("unknown timezone {bad:?}"));
    }
    assert!("UTC".parse::<Zone>().is_ok());
    assert!("Australia/Lord_Howe".parse::<Zone>().is_ok());
}

#[test]
fn serde_uses_the_name() {
    let z: Zone = serde_json::from_str(r#""Asia/Kathmandu""#).unwrap();
    assert_eq!(z, zone("Asia/Kathmandu"));
    assert_eq!(serde_json::to_string(&z).unwrap(), r#""Asia/Kathmandu""#);
    let err = serde_json::from_str::<Zone>(r#""Mars/Olympus""#).unwrap_err();
    assert!(err.to_string().contains("unknown timezone"), "{err}");
    assert!(serde_json::from_str::<Zone>("5").is_err());
}
