//! The clock, conversions between instants and stored nanoseconds, and dates in words.
//!
//! Instants are stored as BIGINT nanoseconds since the Unix epoch (UTC): exact to the
//! nanosecond on both backends, and compared as integers.
//!
//! Dates are stored as `YYYY-MM-DD`, but people read them in words: a message or a page
//! says `Mon 5 Jan 2026`, the way the appointment book does, and a record's dates
//! `from Mon 5 Jan 2026 (open-ended)` rather than the scenario format's `2026-01-05..`.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};

use slot_engine::{Date, Instant, RecordDates};

/// Where "now" comes from: the system clock in production, a fixed one in tests.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Nanoseconds since the Unix epoch.
    fn now_ns(&self) -> i64;

    /// The current instant. Panics if the clock reads outside the engine's years, 2000
    /// to 2199.
    fn now(&self) -> Instant {
        Instant::from_unix_nanos(self.now_ns()).expect("the clock is within 2000..=2199")
    }
}

/// The operating system's clock, which `openslot serve` and the command line read.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ns(&self) -> i64 {
        chrono::Utc::now()
            .timestamp_nanos_opt()
            .expect("the system clock is within the i64 nanosecond range")
    }
}

/// A clock that stands still until told to move (tests).
#[derive(Debug)]
pub struct FixedClock(AtomicI64);

impl FixedClock {
    /// A clock reading `at`.
    pub fn new(at: Instant) -> Self {
        FixedClock(AtomicI64::new(at.unix_nanos()))
    }

    /// Sets the clock to `at`, which may be earlier than it reads.
    pub fn set(&self, at: Instant) {
        self.0.store(at.unix_nanos(), Ordering::SeqCst);
    }

    /// Moves the time forward by `seconds`.
    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds * 1_000_000_000, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now_ns(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A stored instant, checked to be in range.
pub(crate) fn instant(ns: i64) -> crate::Result<Instant> {
    Instant::from_unix_nanos(ns).map_err(|e| crate::Error::invalid("stored instant", e.to_string()))
}

/// Nanoseconds in a day.
pub(crate) const DAY_NS: i64 = 86_400_000_000_000;

/// Nanoseconds from the Unix epoch to `date`'s midnight, read as UTC.
pub(crate) fn day_start_ns(date: Date) -> i64 {
    date.naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
        .timestamp()
        * 1_000_000_000
}

/// A stored date, checked.
pub(crate) fn stored_date(value: &str) -> crate::Result<Date> {
    value.parse().map_err(|e: slot_engine::ValueError| {
        crate::Error::invalid("stored record date", e.to_string())
    })
}

/// A stored availability record's dates, checked.
pub(crate) fn stored_record_dates(start: &str, end: Option<&str>) -> crate::Result<RecordDates> {
    let start = stored_date(start)?;
    let end = end.map(stored_date).transpose()?;
    RecordDates::new(start, end)
        .map_err(|e| crate::Error::invalid("stored record dates", e.to_string()))
}

/// A date as people read it: `Mon 5 Jan 2026`.
pub fn date_in_words(date: Date) -> String {
    date.naive().format("%a %-d %b %Y").to_string()
}

/// An availability record's dates as people read them: `from Mon 5 Jan 2026 to Fri 30
/// Jan 2026`, `from Mon 5 Jan 2026 (open-ended)`, or `on Mon 5 Jan 2026 only`.
pub fn record_dates_in_words(dates: RecordDates) -> String {
    let start = date_in_words(dates.start());
    match dates.end() {
        None => format!("from {start} (open-ended)"),
        Some(end) if end == dates.start() => format!("on {start} only"),
        Some(end) => format!("from {start} to {}", date_in_words(end)),
    }
}

/// A dated record's `start_date` and `end_date` as a form gives them (an empty end: open
/// ended), each problem added to `problems` under its field; `None` when they are not
/// a record's dates. Practitioners' and resources' records read their dates by it.
pub(crate) fn check_record_dates(
    problems: &mut crate::error::Problems,
    start_date: &str,
    end_date: Option<&str>,
) -> Option<RecordDates> {
    use crate::error::Error;
    let parse = |field: &str, what: &str, value: &str| -> crate::Result<Date> {
        value.parse().map_err(|_: slot_engine::ValueError| {
            Error::invalid(
                field,
                format!("Enter the {what} as a date, e.g. 2026-12-15."),
            )
        })
    };
    let start_text = start_date.trim();
    let start = if start_text.is_empty() {
        problems.add("start_date", "Enter the start date, e.g. 2026-12-15.");
        None
    } else {
        problems.check(parse("start_date", "start date", start_text))
    };
    let end = match end_date.map(str::trim) {
        None | Some("") => Some(None),
        Some(text) => problems
            .check(parse("end_date", "end date", text))
            .map(Some),
    };
    match (start, end) {
        (Some(start), Some(end)) => problems.check(RecordDates::new(start, end).map_err(|_| {
            Error::invalid(
                "end_date",
                format!(
                    "Enter an end date on or after the start date, {}, or leave it empty for an open-ended record.",
                    date_in_words(start)
                ),
            )
        })),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Date {
        text.parse().unwrap()
    }

    #[test]
    fn dates_read_in_words() {
        assert_eq!(date_in_words(date("2026-01-05")), "Mon 5 Jan 2026");
        let open = RecordDates::new(date("2026-01-05"), None).unwrap();
        assert_eq!(
            record_dates_in_words(open),
            "from Mon 5 Jan 2026 (open-ended)"
        );
        let bounded = RecordDates::new(date("2026-01-05"), Some(date("2026-12-31"))).unwrap();
        assert_eq!(
            record_dates_in_words(bounded),
            "from Mon 5 Jan 2026 to Thu 31 Dec 2026"
        );
        let day = RecordDates::new(date("2026-02-28"), Some(date("2026-02-28"))).unwrap();
        assert_eq!(record_dates_in_words(day), "on Sat 28 Feb 2026 only");
    }
}
