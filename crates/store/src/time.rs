//! The clock, and conversions between instants and stored nanoseconds.
//!
//! Instants are stored as BIGINT nanoseconds since the Unix epoch (UTC): exact to the
//! nanosecond on both backends, and compared as integers.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};

use slot_engine::{Date, Instant};

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
