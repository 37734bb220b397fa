use super::*;

use chrono::{DateTime, Datelike, NaiveDate};
use proptest::prelude::*;

fn date(s: &str) -> Date {
    s.parse()
        .unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
}

fn instant(s: &str) -> Instant {
    s.parse()
        .unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
}

/// The last nanosecond of 2199-12-31 in UTC, the largest instant the format allows.
const LAST_NANO: i64 = (LAST_DAY as i64 + 1) * SECONDS_PER_DAY * NANOS_PER_SECOND - 1;
/// 2000-01-01T00:00:00Z, the smallest instant the format allows.
const FIRST_NANO: i64 = FIRST_DAY as i64 * SECONDS_PER_DAY * NANOS_PER_SECOND;

// Dates.

#[test]
fn date_accepts_the_range_and_leap_days() {
    for (text, (y, m, d)) in [
        ("2000-01-01", (2000, 1, 1)),
        ("2199-12-31", (2199, 12, 31)),
        // 2000 is a leap year (divisible by 400), 2028 an ordinary one.
        ("2000-02-29", (2000, 2, 29)),
        ("2028-02-29", (2028, 2, 29)),
        ("2026-12-31", (2026, 12, 31)),
    ] {
        let parsed = date(text);
        assert_eq!(parsed.naive(), NaiveDate::from_ymd_opt(y, m, d).unwrap());
        assert_eq!(parsed.to_string(), text);
        assert_eq!(Date::new(y, m, d).unwrap(), parsed);
    }
    assert_eq!(date("2000-01-01"), Date::MIN);
    assert_eq!(date("2199-12-31"), Date::MAX);
}

#[test]
fn date_refuses_days_that_do_not_exist_or_lie_outside_the_range() {
    for (text, why) in [
        ("2026-02-29", "no such day"),
        // 2100 is not a leap year (divisible by 100, not by 400).
        ("2100-02-29", "no such day"),
        ("2026-04-31", "no such day"),
        ("2026-00-10", "no such day"),
        ("2026-13-01", "no such day"),
        ("2026-01-00", "no such day"),
        ("2026-01-32", "no such day"),
        ("1999-12-31", "outside 2000-01-01..=2199-12-31"),
        ("2200-01-01", "outside 2000-01-01..=2199-12-31"),
        ("0000-01-01", "outside 2000-01-01..=2199-12-31"),
    ] {
        let err = text.parse::<Date>().expect_err(text).to_string();
        assert!(err.contains(why), "{text:?}: {err}");
    }
}

#[test]
fn date_refuses_other_shapes() {
    for text in [
        "",
        "2026-1-01",
        "2026-01-1",
        "26-01-01",
        "+2026-01-01",
        "-2026-01-01",
        "02026-01-01",
        "2026/01/01",
        "2026-01-01 ",
        " 2026-01-01",
        "2026-01-01T00:00",
        "2026-0a-01",
        // Non-ASCII digits: Arabic-Indic, fullwidth, and a multi-byte letter that
        // keeps the byte length at ten.
        "2026-0\u{661}-01",
        "\u{ff12}\u{ff10}\u{ff12}\u{ff16}-01-01",
        "2026-\u{e9}-01",
    ] {
        let err = text.parse::<Date>().expect_err(text).to_string();
        assert!(err.contains("expected YYYY-MM-DD"), "{text:?}: {err}");
    }
}

#[test]
fn date_new_checks_existence_and_range() {
    assert!(Date::new(2026, 2, 29).is_err());
    assert!(Date::new(1999, 12, 31).is_err());
    assert!(Date::new(2200, 1, 1).is_err());
    assert!(Date::new(2026, 0, 1).is_err());
    assert!(Date::try_from(NaiveDate::from_ymd_opt(2200, 1, 1).unwrap()).is_err());
    assert_eq!(
        Date::try_from(NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()).unwrap(),
        date("2026-03-02")
    );
}

#[test]
fn date_display_parse_and_weekday_agree_with_chrono_on_every_day() {
    // Every day of the range: the format is small enough to check exhaustively.
    let mut count = 0;
    for days in FIRST_DAY..=LAST_DAY {
        let d = Date::from_days(days).unwrap();
        let naive = d.naive();
        let text = d.to_string();
        assert_eq!(text, naive.format("%Y-%m-%d").to_string());
        assert_eq!(date(&text), d);
        assert_eq!(
            d.weekday().index(),
            naive.weekday().num_days_from_monday() as usize,
            "{text}"
        );
        assert_eq!(NaiveDate::from(d), naive);
        count += 1;
    }
    assert_eq!(count, 73_049);
}

#[test]
fn weekday_of_known_dates() {
    for (text, weekday) in [
        ("2000-01-01", Weekday::Sat),
        ("2026-03-02", Weekday::Mon),
        ("2026-03-08", Weekday::Sun),
        ("2028-02-29", Weekday::Tue),
        ("2199-12-31", Weekday::Tue),
    ] {
        assert_eq!(date(text).weekday(), weekday, "{text}");
    }
}

#[test]
fn weekday_names() {
    let names: Vec<String> = Weekday::ALL.iter().map(ToString::to_string).collect();
    assert_eq!(names, ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]);
    assert_eq!(Weekday::Mon.plural(), "Mondays");
    assert_eq!(Weekday::Sun.plural(), "Sundays");
    for (i, day) in Weekday::ALL.into_iter().enumerate() {
        assert_eq!(day.index(), i);
        assert_eq!(day.short_name(), names[i]);
    }
}

#[test]
fn add_days_stays_in_range() {
    assert_eq!(Date::MAX.add_days(1), None);
    assert_eq!(Date::MIN.add_days(-1), None);
    assert_eq!(Date::MAX.add_days(0), Some(Date::MAX));
    assert_eq!(
        Date::MIN.add_days(Date::MAX.days_since(Date::MIN)),
        Some(Date::MAX)
    );
    assert_eq!(
        Date::MAX.add_days(-Date::MAX.days_since(Date::MIN)),
        Some(Date::MIN)
    );
    // Huge steps must not overflow or wrap into range.
    assert_eq!(Date::MIN.add_days(i64::MAX), None);
    assert_eq!(Date::MAX.add_days(i64::MIN), None);
    assert_eq!(Date::MIN.add_days(1 << 32), None);
    assert_eq!(date("2028-02-28").add_days(1), Some(date("2028-02-29")));
    assert_eq!(date("2026-02-28").add_days(1), Some(date("2026-03-01")));
    assert_eq!(date("2026-12-31").add_days(1), Some(date("2027-01-01")));
    assert_eq!(date("2026-03-01").add_days(-1), Some(date("2026-02-28")));
}

#[test]
fn days_since_counts_whole_days() {
    assert_eq!(date("2026-03-08").days_since(date("2026-03-01")), 7);
    assert_eq!(date("2026-03-01").days_since(date("2026-03-08")), -7);
    assert_eq!(date("2029-01-01").days_since(date("2028-01-01")), 366);
    assert_eq!(Date::MAX.days_since(Date::MIN), 73_048);
}

// Wall-clock times.

#[test]
fn wall_time_accepts_hh_mm_up_to_24_00() {
    for (text, minutes) in [
        ("00:00", 0),
        ("09:30", 570),
        ("23:59", 1439),
        ("24:00", 1440),
    ] {
        let t: WallTime = text.parse().unwrap();
        assert_eq!(t.minutes(), minutes, "{text}");
        assert_eq!(t.to_string(), text);
    }
    assert_eq!(WallTime::MIDNIGHT.minutes(), 0);
    assert_eq!(WallTime::END_OF_DAY.to_string(), "24:00");
}

#[test]
fn wall_time_refuses_out_of_range_and_bad_shapes() {
    for (text, why) in [
        ("24:01", "out of range"),
        ("23:60", "out of range"),
        ("25:00", "out of range"),
        ("99:99", "out of range"),
        ("9:30", "expected HH:MM"),
        ("09:3", "expected HH:MM"),
        ("0930", "expected HH:MM"),
        ("09-30", "expected HH:MM"),
        ("09:30:00", "expected HH:MM"),
        (" 9:30", "expected HH:MM"),
        ("+9:30", "expected HH:MM"),
        ("", "expected HH:MM"),
        ("0\u{669}:30", "expected HH:MM"),
    ] {
        let err = text.parse::<WallTime>().expect_err(text).to_string();
        assert!(err.contains(why), "{text:?}: {err}");
    }
}

#[test]
fn wall_time_display_round_trips_every_minute() {
    for minutes in 0..=MINUTES_PER_DAY {
        let t = WallTime::from_minutes(minutes).unwrap();
        assert_eq!(t.minutes(), minutes);
        assert_eq!(t.to_string().parse::<WallTime>().unwrap(), t);
    }
    assert!(WallTime::from_minutes(MINUTES_PER_DAY + 1).is_err());
    assert!(WallTime::from_minutes(u32::MAX).is_err());
}

// Instants.

/// Valid RFC 3339 texts that chrono also reads: both must give the same instant.
const VALID_INSTANTS: &[&str] = &[
    "2026-03-02T09:00:00-05:00",
    "2026-03-02T14:00:00Z",
    "2026-03-02t14:00:00z",
    "2026-03-02T14:00:00+00:00",
    "2026-03-02T14:00:00-00:00",
    "2026-03-02T14:00:00.5Z",
    "2026-03-02T14:00:00.000000001Z",
    "2026-03-02T14:00:00.123456789+01:00",
    "2026-03-02T14:00:00.999999999-01:00",
    "2026-06-15T12:00:00+05:45",
    "2026-06-15T12:00:00+23:59",
    "2026-06-15T12:00:00-23:59",
    "2026-04-05T01:45:00+10:30",
    "2028-02-29T23:59:59Z",
    "2000-01-01T00:00:00Z",
    "2199-12-31T23:59:59.999999999Z",
    "1999-12-31T23:00:00-05:00",
    "2200-01-01T01:00:00+02:00",
];

#[test]
fn instant_agrees_with_chrono_on_valid_inputs() {
    for text in VALID_INSTANTS {
        let ours = instant(text);
        let chrono = DateTime::parse_from_rfc3339(text)
            .unwrap_or_else(|e| panic!("chrono refuses {text:?}: {e}"));
        assert_eq!(
            ours.unix_nanos(),
            chrono.timestamp_nanos_opt().unwrap(),
            "{text}"
        );
        assert_eq!(ours.to_utc(), chrono.to_utc(), "{text}");
    }
}

#[test]
fn instant_reads_offsets() {
    let utc = instant("2026-03-02T14:00:00Z");
    assert_eq!(instant("2026-03-02T09:00:00-05:00"), utc);
    assert_eq!(instant("2026-03-02T19:45:00+05:45"), utc);
    assert_eq!(instant("2026-03-02t14:00:00z"), utc);
    assert_eq!(
        instant("2026-03-02T14:00:00+23:59").unix_seconds(),
        utc.unix_seconds() - (23 * 3600 + 59 * 60)
    );
}

#[test]
fn instant_counts_fractions_to_the_nanosecond_and_ignores_the_rest() {
    let base = instant("2026-03-02T14:00:00Z").unix_nanos();
    for (fraction, nanos) in [
        ("", 0),
        (".0", 0),
        (".5", 500_000_000),
        (".05", 50_000_000),
        (".000000001", 1),
        (".123456789", 123_456_789),
        // Digits past the ninth are ignored, not rounded.
        (".1234567899", 123_456_789),
        (".9999999999999", 999_999_999),
        (".0000000009", 0),
    ] {
        let text = format!("2026-03-02T14:00:00{fraction}Z");
        assert_eq!(instant(&text).unix_nanos() - base, nanos, "{text}");
    }
}

#[test]
fn instant_checks_the_utc_date_not_the_local_one() {
    // 2000-01-01 02:00 at +05:00 is 1999-12-31 21:00 in UTC.
    assert!("2000-01-01T02:00:00+05:00".parse::<Instant>().is_err());
    // 1999-12-31 23:00 at -05:00 is 2000-01-01 04:00 in UTC.
    assert_eq!(
        instant("1999-12-31T23:00:00-05:00").to_string(),
        "2000-01-01T04:00:00Z"
    );
    assert_eq!(
        instant("2200-01-01T01:00:00+02:00").to_string(),
        "2199-12-31T23:00:00Z"
    );
    for text in [
        "2199-12-31T23:00:00-01:00",
        "2200-01-01T00:00:00Z",
        "1999-12-31T23:59:59.999999999Z",
        "1970-01-01T00:00:00Z",
    ] {
        let err = text.parse::<Instant>().expect_err(text).to_string();
        assert!(
            err.contains("outside the years 2000..=2199"),
            "{text}: {err}"
        );
    }
    assert_eq!(instant("2000-01-01T00:00:00Z").unix_nanos(), FIRST_NANO);
    assert_eq!(
        instant("2199-12-31T23:59:59.999999999Z").unix_nanos(),
        LAST_NANO
    );
}

#[test]
fn instant_refuses_other_shapes() {
    for text in [
        "",
        "2026-03-02",
        "2026-03-02T09:00:00",
        "2026-03-02T09:00Z",
        "2026-03-02T09:00:00ZZ",
        "2026-03-02T09:00:00Z ",
        " 2026-03-02T09:00:00Z",
        "2026-03-02T09:00:00.Z",
        "2026-03-02T09:00:00,5Z",
        "2026-03-02T09:00:00+0500",
        "2026-03-02T09:00:00+05",
        "2026-03-02T09:00:00+5:00",
        "2026-03-02T09:00:00 +05:00",
        "2026-03-02T9:00:00Z",
        "2026-3-02T09:00:00Z",
        "+2026-03-02T09:00:00Z",
        "2026-03-02X09:00:00Z",
        // Out-of-range fields are refused outright rather than normalised.
        "2026-03-02T24:00:00Z",
        "2026-03-02T09:60:00Z",
        "2026-03-02T23:59:60Z",
        "2026-03-02T09:00:00+24:00",
        "2026-03-02T09:00:00-24:00",
        "2026-03-02T09:00:00+05:60",
        "2026-02-30T09:00:00Z",
        "2026-13-02T09:00:00Z",
        // Non-ASCII digits in the time, the fraction and the offset.
        "2026-03-02T0\u{669}:00:00Z",
        "2026-03-02T09:00:00.\u{665}Z",
        "2026-03-02T09:00:00+0\u{665}:00",
    ] {
        let err = text.parse::<Instant>().expect_err(text).to_string();
        assert!(err.contains("expected RFC 3339"), "{text:?}: {err}");
    }
}

#[test]
fn instant_display_is_utc_with_only_the_needed_fraction() {
    for (text, shown) in [
        ("2026-03-02T09:00:00-05:00", "2026-03-02T14:00:00Z"),
        ("2026-03-02T14:00:00.500Z", "2026-03-02T14:00:00.5Z"),
        (
            "2026-03-02T14:00:00.000000001Z",
            "2026-03-02T14:00:00.000000001Z",
        ),
        ("2026-03-02T14:00:00.120000000Z", "2026-03-02T14:00:00.12Z"),
        ("1999-12-31T23:00:00-05:00", "2000-01-01T04:00:00Z"),
        (
            "2199-12-31T23:59:59.999999999Z",
            "2199-12-31T23:59:59.999999999Z",
        ),
    ] {
        assert_eq!(instant(text).to_string(), shown, "{text}");
        assert_eq!(format!("{:?}", instant(text)), shown);
    }
}

#[test]
fn instant_from_unix_checks_the_range() {
    assert!(Instant::from_unix_nanos(FIRST_NANO).is_ok());
    assert!(Instant::from_unix_nanos(FIRST_NANO - 1).is_err());
    assert!(Instant::from_unix_nanos(LAST_NANO).is_ok());
    assert!(Instant::from_unix_nanos(LAST_NANO + 1).is_err());
    assert!(Instant::from_unix_nanos(i64::MIN).is_err());
    assert!(Instant::from_unix_nanos(i64::MAX).is_err());
    assert!(Instant::from_unix_seconds(i64::MAX).is_err());
    assert!(Instant::from_unix_seconds(i64::MIN).is_err());
    let i = Instant::from_unix_seconds(1_772_460_000).unwrap();
    assert_eq!(i.unix_seconds(), 1_772_460_000);
    assert_eq!(i.to_string(), "2026-03-02T14:00:00Z");
}

#[test]
fn instant_converts_to_and_from_chrono() {
    let i = instant("2026-03-02T14:00:00.25Z");
    let utc: DateTime<Utc> = i.into();
    assert_eq!(utc.to_rfc3339(), "2026-03-02T14:00:00.250+00:00");
    assert_eq!(Instant::try_from(utc).unwrap(), i);
    let too_late = NaiveDate::from_ymd_opt(2200, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    assert!(Instant::try_from(too_late).is_err());
}

#[test]
fn write_local_and_format_with_offset() {
    let seconds = instant("2026-03-02T14:00:00Z").unix_seconds();
    assert_eq!(
        format_with_offset(seconds, -5 * 3600),
        "2026-03-02T09:00:00-05:00"
    );
    assert_eq!(
        format_with_offset(seconds, 5 * 3600 + 45 * 60),
        "2026-03-02T19:45:00+05:45"
    );
    assert_eq!(format_with_offset(seconds, 0), "2026-03-02T14:00:00+00:00");
    // A negative offset under an hour must keep its sign.
    assert_eq!(
        format_with_offset(seconds, -30 * 60),
        "2026-03-02T13:30:00-00:30"
    );
    // Crossing midnight backwards into the previous day.
    assert_eq!(
        format_with_offset(instant("2026-03-02T02:00:00Z").unix_seconds(), -5 * 3600),
        "2026-03-01T21:00:00-05:00"
    );
}

#[test]
fn civil_from_days_agrees_with_chrono() {
    for days in (FIRST_DAY - 400..=LAST_DAY + 400).step_by(7) {
        let naive = NaiveDate::from_num_days_from_ce_opt(days + 719_163).unwrap();
        let (y, m, d) = civil_from_days(i64::from(days));
        assert_eq!(
            (y, m, d),
            (i64::from(naive.year()), naive.month(), naive.day())
        );
    }
}

#[test]
fn serde_reads_and_writes_text() {
    let d: Date = serde_json::from_str(r#""2026-03-02""#).unwrap();
    assert_eq!(d, date("2026-03-02"));
    assert_eq!(serde_json::to_string(&d).unwrap(), r#""2026-03-02""#);
    let t: WallTime = serde_json::from_str(r#""24:00""#).unwrap();
    assert_eq!(serde_json::to_string(&t).unwrap(), r#""24:00""#);
    let i: Instant = serde_json::from_str(r#""2026-03-02T09:00:00-05:00""#).unwrap();
    assert_eq!(
        serde_json::to_string(&i).unwrap(),
        r#""2026-03-02T14:00:00Z""#
    );
    // Only strings: a number is not a date.
    assert!(serde_json::from_str::<Date>("20260302").is_err());
    assert!(serde_json::from_str::<WallTime>("930").is_err());
    let err = serde_json::from_str::<Date>(r#""2026-02-30""#).unwrap_err();
    assert!(err.to_string().contains("no such day"), "{err}");
}

proptest! {
    #[test]
    fn prop_instant_display_round_trips(nanos in FIRST_NANO..=LAST_NANO) {
        let i = Instant::from_unix_nanos(nanos).unwrap();
        let text = i.to_string();
        prop_assert_eq!(text.parse::<Instant>().unwrap(), i);
        let chrono = DateTime::parse_from_rfc3339(&text).unwrap();
        prop_assert_eq!(chrono.timestamp_nanos_opt().unwrap(), nanos);
    }

    #[test]
    fn prop_instant_agrees_with_chrono_at_any_offset(
        nanos in FIRST_NANO + 86_400_000_000_000..=LAST_NANO - 86_400_000_000_000,
        offset_minutes in -(23 * 60 + 59)..=(23 * 60 + 59i32),
    ) {
        // Write the instant at an arbitrary offset with chrono, then read it back.
        let offset = chrono::FixedOffset::east_opt(offset_minutes * 60).unwrap();
        let text = DateTime::from_timestamp_nanos(nanos)
            .with_timezone(&offset)
            .to_rfc3339_opts(chrono::SecondsFormat::Nanos, false);
        prop_assert_eq!(instant(&text).unix_nanos(), nanos, "{}", text);
    }
}
