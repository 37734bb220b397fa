//! Timezones and the daylight-saving rules (rule 9 of `docs/scenario.md`).
//!
//! Every local-to-UTC conversion of the engine goes through [`Zone::resolve`], which
//! says explicitly whether a wall-clock time exists once, twice (fall-back) or not at
//! all (spring-forward). The search precomputes a `DayZone` per clinic and date so
//! that the ordinary day, with one offset from midnight to midnight, needs no timezone
//! lookup per candidate.
//!
//! ```
//! use slot_engine::{Date, Zone};
//! let toronto: Zone = "America/Toronto".parse()?;
//! // On 8 March 2026 Toronto's clocks jump from 02:00 to 03:00.
//! let at = |minute| toronto.resolve(Date::new(2026, 3, 8).unwrap(), minute).earliest();
//! assert_eq!(at(150), None); // 02:30 never happens
//! // 01:00 to 03:00 on the wall is one real hour, so a two-hour slot there is dropped
//! // (rule 9), and a one-hour slot at 01:30 would end in the gap.
//! let ((one, _), (three, _)) = (at(60).unwrap(), at(180).unwrap());
//! assert_eq!(three - one, 3600);
//! # Ok::<(), slot_engine::ValueError>(())
//! ```

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, LocalResult, NaiveTime, Offset, TimeZone};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::calendar::{Date, MINUTES_PER_DAY, SECONDS_PER_DAY};
use crate::error::ValueError;

/// An IANA timezone from the database chrono-tz bundles.
///
/// ```
/// use slot_engine::Zone;
/// let z: Zone = "America/Toronto".parse().unwrap();
/// assert_eq!(z.name(), "America/Toronto");
/// assert!("Mars/Olympus".parse::<Zone>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Zone(Tz);

/// How a wall-clock time on a date reads in a zone: the answer of [`Zone::resolve`].
///
/// ```
/// use slot_engine::{Date, LocalTime, Zone};
/// let toronto: Zone = "America/Toronto".parse().unwrap();
/// // Clocks go back from 02:00 EDT to 01:00 EST on 1 November 2026: 01:30 happens twice.
/// let LocalTime::Ambiguous { earlier, later } = toronto.resolve(Date::new(2026, 11, 1).unwrap(), 90) else {
///     panic!("01:30 is ambiguous that night");
/// };
/// assert_eq!(later.0 - earlier.0, 3600);
/// assert_eq!((earlier.1, later.1), (-4 * 3600, -5 * 3600));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalTime {
    /// The time exists once: at `seconds` after the Unix epoch, at `offset` seconds
    /// east of UTC.
    Unique {
        /// Seconds since the Unix epoch.
        seconds: i64,
        /// The zone's offset from UTC then, in seconds.
        offset: i32,
    },
    /// The time happens twice (clocks went back); the earlier reading comes first.
    Ambiguous {
        /// The first instant with this reading, and its offset.
        earlier: (i64, i32),
        /// The second instant with this reading, and its offset.
        later: (i64, i32),
    },
    /// The time does not exist (clocks went forward past it).
    Missing,
}

impl LocalTime {
    /// The instant the scenario rules use: the only one, or the earlier of two.
    ///
    /// ```
    /// use slot_engine::{Date, Zone};
    /// let toronto: Zone = "America/Toronto".parse().unwrap();
    /// let fall_back = Date::new(2026, 11, 1).unwrap();
    /// let t = toronto.resolve(fall_back, 90); // 01:30 happens twice
    /// assert_eq!(t.earliest().unwrap().1, -4 * 3600); // the EDT reading
    /// let gap = toronto.resolve(Date::new(2026, 3, 8).unwrap(), 150); // 02:30
    /// assert_eq!(gap.earliest(), None);
    /// ```
    pub fn earliest(self) -> Option<(i64, i32)> {
        match self {
            LocalTime::Unique { seconds, offset } => Some((seconds, offset)),
            LocalTime::Ambiguous { earlier, .. } => Some(earlier),
            LocalTime::Missing => None,
        }
    }
}

impl Zone {
    /// The IANA name, as scenarios spell it: how a zone serializes and displays.
    ///
    /// ```
    /// let zone: slot_engine::Zone = "Europe/London".parse().unwrap();
    /// assert_eq!(zone.name(), "Europe/London");
    /// assert_eq!(zone.to_string(), "Europe/London");
    /// ```
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The chrono-tz value, for callers that format local times with chrono. Turning a
    /// wall-clock time into an instant should still go through [`Zone::resolve`],
    /// which does not guess at gaps and overlaps.
    ///
    /// ```
    /// use chrono::TimeZone;
    /// let zone: slot_engine::Zone = "America/Toronto".parse().unwrap();
    /// let slot_start: slot_engine::Instant = "2026-03-02T14:00:00Z".parse().unwrap();
    /// let local = zone.tz().from_utc_datetime(&slot_start.to_utc().naive_utc());
    /// assert_eq!(local.format("%H:%M %Z").to_string(), "09:00 EST");
    /// ```
    pub fn tz(self) -> Tz {
        self.0
    }

    /// Reads `minute` minutes after midnight (up to 1440, meaning 00:00 the next day)
    /// on `date` in this zone.
    ///
    /// This is the engine's only way from a wall-clock time to an instant, and it never
    /// guesses: a time in a spring-forward gap is [`LocalTime::Missing`], a time in a
    /// fall-back overlap is [`LocalTime::Ambiguous`] with both readings.
    ///
    /// ```
    /// use slot_engine::{Date, LocalTime, Zone};
    /// let toronto: Zone = "America/Toronto".parse().unwrap();
    /// let day = |d| Date::new(2026, 3, d).unwrap();
    ///
    /// // An ordinary Monday: 09:00 EST is 14:00 UTC.
    /// let nine = toronto.resolve(day(2), 9 * 60);
    /// assert_eq!(nine, LocalTime::Unique { seconds: 1_772_460_000, offset: -5 * 3600 });
    ///
    /// // Clocks go from 02:00 to 03:00 on 8 March 2026: 02:30 never happens.
    /// assert_eq!(toronto.resolve(day(8), 150), LocalTime::Missing);
    ///
    /// // 24:00 is the next day's midnight.
    /// assert_eq!(toronto.resolve(day(2), 1440), toronto.resolve(day(3), 0));
    /// ```
    pub fn resolve(self, date: Date, minute: u32) -> LocalTime {
        // 24:00 is the next day's 00:00, which may be 2200-01-01: step with chrono.
        let mut day = date.naive();
        let mut minute = minute;
        while minute >= MINUTES_PER_DAY {
            match day.succ_opt() {
                Some(next) => day = next,
                None => return LocalTime::Missing,
            }
            minute -= MINUTES_PER_DAY;
        }
        let time =
            NaiveTime::from_num_seconds_from_midnight_opt(minute * 60, 0).expect("minute < 1440");
        let read = |dt: DateTime<Tz>| (dt.timestamp(), dt.offset().fix().local_minus_utc());
        match self.0.from_local_datetime(&day.and_time(time)) {
            LocalResult::Single(dt) => {
                let (seconds, offset) = read(dt);
                LocalTime::Unique { seconds, offset }
            }
            LocalResult::Ambiguous(a, b) => {
                let (a, b) = (read(a), read(b));
                let (earlier, later) = if a.0 <= b.0 { (a, b) } else { (b, a) };
                LocalTime::Ambiguous { earlier, later }
            }
            LocalResult::None => LocalTime::Missing,
        }
    }

    /// The zone's offset from UTC, in seconds, at `seconds` after the Unix epoch.
    ///
    /// ```
    /// let kathmandu: slot_engine::Zone = "Asia/Kathmandu".parse().unwrap();
    /// assert_eq!(kathmandu.offset_at(1_772_460_000), 5 * 3600 + 45 * 60);
    /// ```
    pub fn offset_at(self, seconds: i64) -> i32 {
        let utc = DateTime::from_timestamp(seconds, 0)
            .unwrap_or_default()
            .naive_utc();
        self.0
            .offset_from_utc_datetime(&utc)
            .fix()
            .local_minus_utc()
    }

    /// The local reading of an instant: days since 1970-01-01, seconds since local
    /// midnight, and the offset.
    pub(crate) fn reading(self, seconds: i64) -> LocalReading {
        let offset = self.offset_at(seconds);
        let local = seconds + i64::from(offset);
        LocalReading {
            days: local.div_euclid(SECONDS_PER_DAY),
            second_of_day: local.rem_euclid(SECONDS_PER_DAY) as u32,
            offset,
        }
    }

    /// The facts about `date` in this zone that the search needs.
    pub(crate) fn day(self, date: Date) -> DayZone {
        let next_midnight = self.resolve(date, MINUTES_PER_DAY).earliest();
        let uniform = match self.resolve(date, 0) {
            LocalTime::Unique { seconds, offset } => {
                self.offset_at(seconds + SECONDS_PER_DAY / 2) == offset
                    && self.offset_at(seconds + SECONDS_PER_DAY - 1) == offset
            }
            _ => false,
        };
        let (midnight, offset) = self.resolve(date, 0).earliest().unwrap_or((0, 0));
        DayZone {
            uniform,
            midnight,
            offset,
            next_midnight,
        }
    }
}

/// How one instant reads on the wall clock of a zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LocalReading {
    pub(crate) days: i64,
    pub(crate) second_of_day: u32,
    pub(crate) offset: i32,
}

impl LocalReading {
    pub(crate) fn date(self) -> Option<Date> {
        i32::try_from(self.days).ok().and_then(Date::from_days)
    }
}

/// One date in one zone, as the search needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DayZone {
    /// Every wall-clock time from 00:00 up to 24:00 exists exactly once with `offset`
    /// (later readings of the same time, after a fall-back at midnight, come after the
    /// first and so are never used): `midnight + 60·t` is the instant of minute `t`.
    pub(crate) uniform: bool,
    /// The instant of 00:00 (meaningful when `uniform`).
    pub(crate) midnight: i64,
    /// The offset all day (meaningful when `uniform`).
    pub(crate) offset: i32,
    /// The instant and offset of 24:00 (the next day's 00:00, earlier reading), or
    /// `None` when it falls in a spring-forward gap.
    pub(crate) next_midnight: Option<(i64, i32)>,
}

/// Every chrono-tz zone is a [`Zone`], so code that already holds a `Tz` reaches
/// [`Zone::resolve`] without parsing a name again.
///
/// ```
/// let zone = slot_engine::Zone::from(chrono_tz::America::Vancouver);
/// assert_eq!(zone.to_string(), "America/Vancouver");
/// ```
impl From<Tz> for Zone {
    fn from(tz: Tz) -> Self {
        Zone(tz)
    }
}

impl FromStr for Zone {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, ValueError> {
        s.parse::<Tz>()
            .map(Zone)
            .map_err(|_| ValueError::new(format!("unknown timezone {s:?}")))
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Zone({})", self.name())
    }
}

impl Serialize for Zone {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Zone {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Zone;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an IANA timezone name")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Zone, E> {
                v.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests;
