//! Calendar values: dates, wall-clock times, weekdays and instants.
//!
//! Each type has one fallible constructor (a parser for its scenario text, and a
//! range-checked `new`), so a value you hold is always in range: dates lie in
//! 2000-01-01 ..= 2199-12-31, wall-clock times in 00:00 ..= 24:00, and instants have
//! a UTC date in the same years.
//!
//! ```
//! use slot_engine::{Date, Instant, WallTime, Weekday};
//! let date: Date = "2026-11-01".parse()?;
//! assert_eq!(date.weekday(), Weekday::Sun);
//! let end: WallTime = "24:00".parse()?; // only ever the end of a block
//! assert_eq!(end, WallTime::END_OF_DAY);
//! // The same instant written in two offsets; fractions are exact to the nanosecond.
//! let a: Instant = "2026-11-01T01:30:00.25-04:00".parse()?;
//! let b: Instant = "2026-11-01T05:30:00.25Z".parse()?;
//! assert_eq!(a, b);
//! assert_eq!(a.unix_nanos() % 1_000_000_000, 250_000_000);
//! # Ok::<(), slot_engine::ValueError>(())
//! ```

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::ValueError;

/// Days from 1970-01-01 to 2000-01-01.
const FIRST_DAY: i32 = 10_957;
/// Days from 1970-01-01 to 2199-12-31.
const LAST_DAY: i32 = 84_005;
const NANOS_PER_SECOND: i64 = 1_000_000_000;
pub(crate) const SECONDS_PER_DAY: i64 = 86_400;
/// Minutes in a day: the largest wall-clock time (24:00, a block's end).
pub const MINUTES_PER_DAY: u32 = 1_440;

/// A calendar date between 2000-01-01 and 2199-12-31, the range the scenario format
/// allows.
///
/// ```
/// use slot_engine::Date;
/// let d: Date = "2026-03-02".parse().unwrap();
/// assert_eq!(d.to_string(), "2026-03-02");
/// assert_eq!(d.weekday(), slot_engine::Weekday::Mon);
/// assert!("1999-12-31".parse::<Date>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(i32);

impl Date {
    /// The first date the format allows, 2000-01-01.
    pub const MIN: Date = Date(FIRST_DAY);
    /// The last date the format allows, 2199-12-31.
    pub const MAX: Date = Date(LAST_DAY);

    /// The date `year-month-day`, or an error when it does not exist or lies outside
    /// 2000..=2199.
    ///
    /// ```
    /// assert!(slot_engine::Date::new(2028, 2, 29).is_ok());
    /// assert!(slot_engine::Date::new(2026, 2, 29).is_err());
    /// ```
    pub fn new(year: i32, month: u32, day: u32) -> Result<Self, ValueError> {
        let naive = NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| {
            ValueError::new(format!("{year:04}-{month:02}-{day:02} is not a date"))
        })?;
        Self::try_from(naive)
    }

    /// Days since 1970-01-01, the count a `Date` holds: 10 957 for 2000-01-01.
    pub(crate) fn days(self) -> i32 {
        self.0
    }

    /// The date `n` days later, if it is still in range.
    ///
    /// ```
    /// let d = slot_engine::Date::new(2026, 12, 31).unwrap();
    /// assert_eq!(d.add_days(1).unwrap().to_string(), "2027-01-01");
    /// ```
    pub fn add_days(self, n: i64) -> Option<Self> {
        let days = i64::from(self.0).checked_add(n)?;
        (i64::from(FIRST_DAY)..=i64::from(LAST_DAY))
            .contains(&days)
            .then_some(Self(days as i32))
    }

    /// Whole days from `earlier` to `self` (negative when `self` is earlier).
    ///
    /// ```
    /// use slot_engine::Date;
    /// let a = Date::new(2026, 3, 1).unwrap();
    /// assert_eq!(Date::new(2026, 3, 8).unwrap().days_since(a), 7);
    /// ```
    pub fn days_since(self, earlier: Date) -> i64 {
        i64::from(self.0) - i64::from(earlier.0)
    }

    /// The day of the week.
    ///
    /// ```
    /// let d = slot_engine::Date::new(2030, 1, 7).unwrap();
    /// assert_eq!(d.weekday(), slot_engine::Weekday::Mon);
    /// ```
    pub fn weekday(self) -> Weekday {
        // 1970-01-01 was a Thursday (index 3 counting from Monday = 0).
        Weekday::ALL[(self.0 + 3).rem_euclid(7) as usize]
    }

    /// The same date as a chrono value.
    ///
    /// ```
    /// let d = slot_engine::Date::new(2026, 3, 2).unwrap();
    /// assert_eq!(d.naive(), chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap());
    /// ```
    pub fn naive(self) -> NaiveDate {
        NaiveDate::from_num_days_from_ce_opt(self.0 + 719_163).expect("in range by construction")
    }

    pub(crate) fn from_days(days: i32) -> Option<Self> {
        (FIRST_DAY..=LAST_DAY).contains(&days).then_some(Self(days))
    }

    /// Seconds from the Unix epoch to this date's midnight, read as if it were UTC.
    pub(crate) fn midnight_seconds(self) -> i64 {
        i64::from(self.0) * SECONDS_PER_DAY
    }
}

impl TryFrom<NaiveDate> for Date {
    type Error = ValueError;

    fn try_from(naive: NaiveDate) -> Result<Self, ValueError> {
        let days = naive.num_days_from_ce() - 719_163;
        Self::from_days(days).ok_or_else(|| {
            ValueError::new(format!("date {naive} is outside 2000-01-01..=2199-12-31"))
        })
    }
}

impl From<Date> for NaiveDate {
    fn from(date: Date) -> Self {
        date.naive()
    }
}

impl FromStr for Date {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, ValueError> {
        let b = s.as_bytes();
        let shape_ok = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        if !shape_ok {
            return Err(ValueError::new(format!(
                "invalid date {s:?}: expected YYYY-MM-DD"
            )));
        }
        let year = digits(&b[0..4]) as i32;
        let month = digits(&b[5..7]);
        let day = digits(&b[8..10]);
        let naive = NaiveDate::from_ymd_opt(year, month, day)
            .ok_or_else(|| ValueError::new(format!("invalid date {s:?}: no such day")))?;
        Self::try_from(naive)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.naive();
        write!(f, "{:04}-{:02}-{:02}", n.year(), n.month(), n.day())
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A day of the week, Monday first, written `mon` … `sun` in scenarios.
///
/// ```
/// use slot_engine::Weekday;
/// assert_eq!(Weekday::Wed.index(), 2);
/// assert_eq!(Weekday::Sun.to_string(), "sun");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    /// Monday, `mon`: the first day of a [`WeekGrid`](crate::WeekGrid) and index 0.
    Mon,
    /// Tuesday, `tue`, index 1.
    Tue,
    /// Wednesday, `wed`, index 2.
    Wed,
    /// Thursday, `thu`, index 3.
    Thu,
    /// Friday, `fri`, index 4.
    Fri,
    /// Saturday, `sat`, index 5.
    Sat,
    /// Sunday, `sun`: the last day of a week grid, index 6.
    Sun,
}

impl Weekday {
    /// Monday to Sunday, in order.
    pub const ALL: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];

    /// 0 for Monday up to 6 for Sunday: the position in [`Weekday::ALL`], and how
    /// per-weekday tables are indexed.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The scenario spelling, `mon` … `sun`, which is also how a weekday serializes and
    /// displays.
    ///
    /// ```
    /// use slot_engine::Weekday;
    /// assert_eq!(Weekday::Thu.short_name(), "thu");
    /// assert_eq!(serde_json::to_string(&Weekday::Thu).unwrap(), r#""thu""#);
    /// assert_eq!(serde_json::from_str::<Weekday>(r#""thu""#).unwrap(), Weekday::Thu);
    /// ```
    pub fn short_name(self) -> &'static str {
        ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][self.index()]
    }

    /// The English plural used in explanations ("Mondays").
    ///
    /// ```
    /// assert_eq!(slot_engine::Weekday::Fri.plural(), "Fridays");
    /// ```
    pub fn plural(self) -> &'static str {
        [
            "Mondays",
            "Tuesdays",
            "Wednesdays",
            "Thursdays",
            "Fridays",
            "Saturdays",
            "Sundays",
        ][self.index()]
    }
}

impl fmt::Display for Weekday {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.short_name())
    }
}

/// A wall-clock time of day in whole minutes, `00:00` ..= `24:00` (24:00 is only
/// meaningful as the end of a block).
///
/// ```
/// use slot_engine::WallTime;
/// let t: WallTime = "09:30".parse().unwrap();
/// assert_eq!(t.minutes(), 570);
/// assert_eq!(t.to_string(), "09:30");
/// assert!("9:30".parse::<WallTime>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WallTime(u16);

impl WallTime {
    /// Midnight at the start of the day.
    pub const MIDNIGHT: WallTime = WallTime(0);
    /// 24:00, the end of the day.
    pub const END_OF_DAY: WallTime = WallTime(MINUTES_PER_DAY as u16);

    /// The time `minutes` after midnight, up to 1440 (24:00).
    ///
    /// ```
    /// assert_eq!(slot_engine::WallTime::from_minutes(1440).unwrap().to_string(), "24:00");
    /// assert!(slot_engine::WallTime::from_minutes(1441).is_err());
    /// ```
    pub fn from_minutes(minutes: u32) -> Result<Self, ValueError> {
        if minutes > MINUTES_PER_DAY {
            return Err(ValueError::new(format!("{minutes} minutes is past 24:00")));
        }
        Ok(Self(minutes as u16))
    }

    /// Minutes after midnight, 0 ..= 1440: how grids and slot steps count time of
    /// day.
    ///
    /// ```
    /// use slot_engine::WallTime;
    /// assert_eq!("00:00".parse::<WallTime>().unwrap().minutes(), 0);
    /// assert_eq!(WallTime::END_OF_DAY.minutes(), 1440);
    /// ```
    pub fn minutes(self) -> u32 {
        u32::from(self.0)
    }
}

impl FromStr for WallTime {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, ValueError> {
        let b = s.as_bytes();
        let shape_ok = b.len() == 5
            && b[2] == b':'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 2 || c.is_ascii_digit());
        if !shape_ok {
            return Err(ValueError::new(format!(
                "invalid time {s:?}: expected HH:MM"
            )));
        }
        let hours = digits(&b[0..2]);
        let minutes = digits(&b[3..5]);
        if minutes > 59 || hours > 24 || (hours == 24 && minutes != 0) {
            return Err(ValueError::new(format!(
                "invalid time {s:?}: out of range 00:00..=24:00"
            )));
        }
        Ok(Self((hours * 60 + minutes) as u16))
    }
}

impl fmt::Display for WallTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl fmt::Debug for WallTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A point in time with nanosecond precision whose UTC date lies between 2000-01-01
/// and 2199-12-31 (instants the engine computes from those, such as the end of a slot
/// on 2199-12-31, may reach a day further).
///
/// Scenario text is RFC 3339 with an explicit offset; digits past the ninth
/// fractional digit are ignored.
///
/// ```
/// use slot_engine::Instant;
/// let a: Instant = "2026-03-02T09:00:00-05:00".parse().unwrap();
/// let b: Instant = "2026-03-02T14:00:00Z".parse().unwrap();
/// assert_eq!(a, b);
/// assert_eq!(a.to_string(), "2026-03-02T14:00:00Z");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(i64);

impl Instant {
    /// The instant `nanos` nanoseconds after the Unix epoch, if its UTC date is in
    /// range.
    ///
    /// ```
    /// assert!(slot_engine::Instant::from_unix_nanos(0).is_err()); // 1970
    /// ```
    pub fn from_unix_nanos(nanos: i64) -> Result<Self, ValueError> {
        let day = nanos.div_euclid(NANOS_PER_SECOND * SECONDS_PER_DAY);
        if (i64::from(FIRST_DAY)..=i64::from(LAST_DAY)).contains(&day) {
            Ok(Self(nanos))
        } else {
            Err(ValueError::new(
                "instant is outside the years 2000..=2199 (UTC)".to_owned(),
            ))
        }
    }

    /// An instant the engine computed from valid input — a slot's start or end, a staff
    /// booking's end, a buffered interval — which may lie up to three days past the
    /// input range (a slot on 2199-12-31 in the Americas ends on 2200-01-01 in UTC, and
    /// a buffer adds at most a day).
    pub(crate) fn computed(nanos: i64) -> Self {
        let day = nanos.div_euclid(NANOS_PER_SECOND * SECONDS_PER_DAY);
        debug_assert!((i64::from(FIRST_DAY) - 3..=i64::from(LAST_DAY) + 3).contains(&day));
        Self(nanos)
    }

    /// The instant `seconds` after the Unix epoch, if in range.
    ///
    /// ```
    /// let i = slot_engine::Instant::from_unix_seconds(1_893_456_000).unwrap();
    /// assert_eq!(i.to_string(), "2030-01-01T00:00:00Z");
    /// ```
    pub fn from_unix_seconds(seconds: i64) -> Result<Self, ValueError> {
        seconds
            .checked_mul(NANOS_PER_SECOND)
            .ok_or_else(|| ValueError::new("instant is out of range".to_owned()))
            .and_then(Self::from_unix_nanos)
    }

    /// Nanoseconds since the Unix epoch: the exact value, as the store keeps it in its
    /// `*_ns` columns.
    ///
    /// ```
    /// let i: slot_engine::Instant = "2030-01-01T00:00:00.000000001Z".parse().unwrap();
    /// assert_eq!(i.unix_nanos(), 1_893_456_000_000_000_001);
    /// assert_eq!(slot_engine::Instant::from_unix_nanos(i.unix_nanos()), Ok(i));
    /// ```
    pub fn unix_nanos(self) -> i64 {
        self.0
    }

    /// Whole seconds since the Unix epoch, rounded down (towards the past, so a
    /// fraction never moves an instant into the next second).
    ///
    /// ```
    /// let i: slot_engine::Instant = "2030-01-01T00:00:59.999Z".parse().unwrap();
    /// assert_eq!(i.unix_seconds(), 1_893_456_059);
    /// ```
    pub fn unix_seconds(self) -> i64 {
        self.0.div_euclid(NANOS_PER_SECOND)
    }

    /// The same instant as a chrono value.
    ///
    /// ```
    /// let i: slot_engine::Instant = "2026-03-02T14:00:00.5Z".parse().unwrap();
    /// assert_eq!(i.to_utc().to_rfc3339(), "2026-03-02T14:00:00.500+00:00");
    /// ```
    pub fn to_utc(self) -> DateTime<Utc> {
        DateTime::from_timestamp_nanos(self.0)
    }
}

impl TryFrom<DateTime<Utc>> for Instant {
    type Error = ValueError;

    fn try_from(value: DateTime<Utc>) -> Result<Self, ValueError> {
        let nanos = value
            .timestamp_nanos_opt()
            .ok_or_else(|| ValueError::new(format!("instant {value} is out of range")))?;
        Self::from_unix_nanos(nanos)
    }
}

impl From<Instant> for DateTime<Utc> {
    fn from(value: Instant) -> Self {
        value.to_utc()
    }
}

impl FromStr for Instant {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, ValueError> {
        parse_rfc3339(s).ok_or_else(|| {
            ValueError::new(format!(
                "invalid instant {s:?}: expected RFC 3339 with an offset, e.g. 2026-03-02T09:00:00-05:00"
            ))
        })?
    }
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; `None` means the text is not of
/// that shape, `Some(Err)` that it is but the instant is out of range.
fn parse_rfc3339(s: &str) -> Option<Result<Instant, ValueError>> {
    let b = s.as_bytes();
    if b.len() < 20 || !matches!(b[10], b'T' | b't') || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    if ![0, 1, 2, 3, 5, 6, 8, 9]
        .iter()
        .all(|&i| b[i].is_ascii_digit())
    {
        return None;
    }
    // The local date may lie just outside 2000..=2199 while the UTC date does not
    // (2000-01-01T02:00:00+05:00 is 1999-12-31 in UTC, and vice versa), so only the
    // UTC result is range-checked.
    let naive =
        NaiveDate::from_ymd_opt(digits(&b[0..4]) as i32, digits(&b[5..7]), digits(&b[8..10]))?;
    parse_time_and_offset(&b[11..], i64::from(naive.num_days_from_ce() - 719_163))
}

fn parse_time_and_offset(b: &[u8], days: i64) -> Option<Result<Instant, ValueError>> {
    // HH:MM:SS
    if b.len() < 9 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    if ![0, 1, 3, 4, 6, 7].iter().all(|&i| b[i].is_ascii_digit()) {
        return None;
    }
    let (hours, minutes, seconds) = (digits(&b[0..2]), digits(&b[3..5]), digits(&b[6..8]));
    if hours > 23 || minutes > 59 || seconds > 59 {
        return None;
    }
    let mut rest = &b[8..];
    let mut nanos: i64 = 0;
    if rest.first() == Some(&b'.') {
        let count = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if count == 0 {
            return None;
        }
        for i in 0..9 {
            let digit = if i < count {
                i64::from(rest[1 + i] - b'0')
            } else {
                0
            };
            nanos = nanos * 10 + digit;
        }
        rest = &rest[1 + count..];
    }
    let offset_seconds: i64 = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            if ![h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let (oh, om) = (digits(&[*h1, *h2]), digits(&[*m1, *m2]));
            if oh > 23 || om > 59 {
                return None;
            }
            let magnitude = i64::from(oh * 3600 + om * 60);
            if *sign == b'-' { -magnitude } else { magnitude }
        }
        _ => return None,
    };
    let local_seconds = days * SECONDS_PER_DAY + i64::from(hours * 3600 + minutes * 60 + seconds);
    let utc_seconds = local_seconds - offset_seconds;
    Some(
        utc_seconds
            .checked_mul(NANOS_PER_SECOND)
            .and_then(|n| n.checked_add(nanos))
            .ok_or_else(|| ValueError::new("instant is out of range".to_owned()))
            .and_then(Instant::from_unix_nanos),
    )
}

impl fmt::Display for Instant {
    /// RFC 3339 in UTC, with as many fractional digits as needed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.unix_seconds();
        let nanos = self.0.rem_euclid(NANOS_PER_SECOND);
        write_local(f, seconds, 0, false)?;
        if nanos != 0 {
            let text = format!("{nanos:09}");
            write!(f, ".{}", text.trim_end_matches('0'))?;
        }
        f.write_str("Z")
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Writes `YYYY-MM-DDTHH:MM:SS` for the UTC `seconds` read at `offset_seconds`, followed
/// by the offset as `±HH:MM` when `with_offset` is set.
pub(crate) fn write_local(
    out: &mut impl fmt::Write,
    seconds: i64,
    offset_seconds: i32,
    with_offset: bool,
) -> fmt::Result {
    let local = seconds + i64::from(offset_seconds);
    let days = local.div_euclid(SECONDS_PER_DAY);
    let second_of_day = local.rem_euclid(SECONDS_PER_DAY) as u32;
    let (year, month, day) = civil_from_days(days);
    // Written digit by digit: answers hold hundreds of thousands of these.
    let mut text = *b"0000-00-00T00:00:00+00:00";
    let put = |text: &mut [u8; 25], at: usize, value: u32, width: usize| {
        let mut v = value;
        for i in (at..at + width).rev() {
            text[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(&mut text, 0, year.clamp(0, 9999) as u32, 4);
    put(&mut text, 5, month, 2);
    put(&mut text, 8, day, 2);
    put(&mut text, 11, second_of_day / 3600, 2);
    put(&mut text, 14, second_of_day / 60 % 60, 2);
    put(&mut text, 17, second_of_day % 60, 2);
    let len = if with_offset {
        text[19] = if offset_seconds < 0 { b'-' } else { b'+' };
        let magnitude = offset_seconds.unsigned_abs();
        put(&mut text, 20, magnitude / 3600, 2);
        put(&mut text, 23, magnitude / 60 % 60, 2);
        25
    } else {
        19
    };
    out.write_str(std::str::from_utf8(&text[..len]).expect("ASCII digits"))
}

/// Formats a UTC instant (whole seconds) in a fixed offset as
/// `YYYY-MM-DDTHH:MM:SS±HH:MM`, the answer format.
pub(crate) fn format_with_offset(seconds: i64, offset_seconds: i32) -> String {
    let mut out = String::with_capacity(25);
    write_local(&mut out, seconds, offset_seconds, true).expect("writing to a String");
    out
}

/// `YYYY-MM-DD` of the `days`-th day after 1970-01-01, in or out of the `Date` range.
/// `HH:MM` for a minute of the day (`24:00` and beyond read on: 1500 is `25:00`).
pub(crate) fn hhmm(minute: u32) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

pub(crate) fn day_text(days: i64) -> String {
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Year, month, day of the `days`-th day after 1970-01-01 (Howard Hinnant's algorithm).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn digits(b: &[u8]) -> u32 {
    b.iter().fold(0, |n, c| n * 10 + u32::from(c - b'0'))
}

macro_rules! serde_via_str {
    ($ty:ty, $what:literal) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Visitor;
                impl serde::de::Visitor<'_> for Visitor {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($what)
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$ty, E> {
                        v.parse().map_err(E::custom)
                    }
                }
                deserializer.deserialize_str(Visitor)
            }
        }
    };
}

serde_via_str!(Date, "a date YYYY-MM-DD");
serde_via_str!(WallTime, "a time HH:MM");
serde_via_str!(Instant, "an RFC 3339 instant with an offset");

#[cfg(test)]
mod tests;
