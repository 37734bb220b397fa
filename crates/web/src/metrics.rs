//! Counters exposed at `/metrics` in the Prometheus text format.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// The counters of this server process since it started; with several instances,
/// each counts its own.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Requests answered, by class of status (`openslot_http_responses_total{class="2xx"}`
    /// and its three siblings below).
    pub responses_2xx: AtomicU64,
    pub responses_3xx: AtomicU64,
    pub responses_4xx: AtomicU64,
    pub responses_5xx: AtomicU64,
    /// Appointments booked (portal and staff).
    pub bookings: AtomicU64,
    /// Bookings refused because the slot was taken or not offered.
    pub booking_conflicts: AtomicU64,
    /// Searches for open slots the portal answered (`openslot_slot_queries_total`).
    pub slot_queries: AtomicU64,
    /// Sign-in and sign-up attempts refused by a rate limit.
    pub rate_limited: AtomicU64,
}

impl Metrics {
    /// Counts one response of `status`.
    pub fn response(&self, status: u16) {
        let counter = match status {
            200..=299 => &self.responses_2xx,
            300..=399 => &self.responses_3xx,
            400..=499 => &self.responses_4xx,
            _ => &self.responses_5xx,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds one to a counter.
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "# HELP openslot_http_responses_total HTTP responses by status class."
        );
        let _ = writeln!(out, "# TYPE openslot_http_responses_total counter");
        for (class, c) in [
            ("2xx", &self.responses_2xx),
            ("3xx", &self.responses_3xx),
            ("4xx", &self.responses_4xx),
            ("5xx", &self.responses_5xx),
        ] {
            let _ = writeln!(
                out,
                "openslot_http_responses_total{{class=\"{class}\"}} {}",
                get(c)
            );
        }
        for (name, help, c) in [
            (
                "openslot_bookings_total",
                "Appointments booked.",
                &self.bookings,
            ),
            (
                "openslot_booking_conflicts_total",
                "Bookings refused by the slot rules.",
                &self.booking_conflicts,
            ),
            (
                "openslot_slot_queries_total",
                "Slot searches answered.",
                &self.slot_queries,
            ),
            (
                "openslot_rate_limited_total",
                "Requests refused by a rate limit.",
                &self.rate_limited,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", get(c));
        }
        out
    }
}
