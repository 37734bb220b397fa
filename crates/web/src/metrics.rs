//! What `/metrics` shows, in the Prometheus text format: request latency by route,
//! the database pools, the outboxes, the setup cache, bookings and conflicts by
//! channel. Recorded through the `metrics` facade into a Prometheus recorder that
//! belongs to one `AppState` (not a process-wide recorder), so several servers in
//! one process (the tests) each count only their own requests; the route renders it.
//!
//! The series (docs/operations.md lists them with their labels):
//!
//! - `openslot_http_request_duration_seconds{route, method, class}` (histogram): the
//!   time from a request reaching the router to its answer, by the route's template
//!   (`/o/{slug}/portal/slots`: never the address itself, so no id or token shows),
//!   `unmatched` when no route took it.
//! - `openslot_http_responses_total{class}`: answers by status class.
//! - `openslot_db_acquire_seconds{pool}` (histogram), `openslot_db_pool_connections{pool,
//!   state}` and `openslot_db_pool_max_connections{pool}`.
//! - `openslot_outbox_waiting{outbox}` and `openslot_outbox_oldest_age_seconds{outbox}`.
//! - `openslot_setup_cache_{hits,misses,evictions}_total`, `…_bytes`, `…_entries`,
//!   `…_budget_bytes`.
//! - `openslot_bookings_total{channel, kind}`, `openslot_booking_conflicts_total{channel,
//!   kind}`, `openslot_slot_queries_total{channel}`, `openslot_rate_limited_total`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use metrics::{
    Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use store::db::{AcquireObserver, PoolName};

/// Buckets of the request latency histogram, in seconds: 0.5 ms to 10 s, finer around
/// the 10 ms a slot query aims at.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05,
    0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Buckets of the wait for a database connection, in seconds: 10 µs (a free connection
/// in the pool) to 10 s.
pub const ACQUIRE_BUCKETS: &[f64] = &[
    0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
    0.5, 1.0, 2.5, 5.0, 10.0,
];

const REQUEST_DURATION: &str = "openslot_http_request_duration_seconds";
const RESPONSES: &str = "openslot_http_responses_total";
const ACQUIRE: &str = "openslot_db_acquire_seconds";
const POOL_CONNECTIONS: &str = "openslot_db_pool_connections";
const POOL_MAX: &str = "openslot_db_pool_max_connections";
const OUTBOX_WAITING: &str = "openslot_outbox_waiting";
const OUTBOX_OLDEST: &str = "openslot_outbox_oldest_age_seconds";
const CACHE_HITS: &str = "openslot_setup_cache_hits_total";
const CACHE_MISSES: &str = "openslot_setup_cache_misses_total";
const CACHE_EVICTIONS: &str = "openslot_setup_cache_evictions_total";
const CACHE_BYTES: &str = "openslot_setup_cache_bytes";
const CACHE_ENTRIES: &str = "openslot_setup_cache_entries";
const CACHE_BUDGET: &str = "openslot_setup_cache_budget_bytes";
const BOOKINGS: &str = "openslot_bookings_total";
const CONFLICTS: &str = "openslot_booking_conflicts_total";
const SLOT_QUERIES: &str = "openslot_slot_queries_total";
const RATE_LIMITED: &str = "openslot_rate_limited_total";

/// Where a booking or a slot search came from (the `channel` label).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// A patient in the portal.
    Portal,
    /// A staff user signed in.
    Staff,
    /// Another system with an API key (the staff API).
    ApiKey,
    /// The FHIR API.
    Fhir,
    /// A waitlist offer accepted.
    Waitlist,
}

impl Channel {
    /// Every channel, in the order declared.
    pub const ALL: [Channel; 5] = [
        Channel::Portal,
        Channel::Staff,
        Channel::ApiKey,
        Channel::Fhir,
        Channel::Waitlist,
    ];

    /// The label's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Portal => "portal",
            Channel::Staff => "staff",
            Channel::ApiKey => "api_key",
            Channel::Fhir => "fhir",
            Channel::Waitlist => "waitlist",
        }
    }

    /// Who booked as the audit log names them: a staff user or an API key (the staff
    /// API serves both), a patient in the portal.
    pub fn of_actor(actor: store::audit::Actor) -> Channel {
        match actor {
            store::audit::Actor::Staff(_) => Channel::Staff,
            store::audit::Actor::ApiKey(_) => Channel::ApiKey,
            store::audit::Actor::Patient(_) => Channel::Portal,
        }
    }
}

/// A booking of one appointment or of a series (the `kind` label).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// One appointment.
    Single,
    /// A weekly series: each appointment counts as a booking, a refusal once.
    Series,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Single => "single",
            Kind::Series => "series",
        }
    }
}

/// This server's recorder; with several instances, each counts its own.
#[derive(Clone)]
pub struct Metrics {
    recorder: Arc<PrometheusRecorder>,
    handle: PrometheusHandle,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A recorder with every series described and the counters at zero, so that a
    /// dashboard finds each one from the first scrape.
    pub fn new() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(REQUEST_DURATION.into()), LATENCY_BUCKETS)
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full(ACQUIRE.into()), ACQUIRE_BUCKETS))
            .expect("the bucket lists are not empty")
            .build_recorder();
        let metrics = Metrics {
            handle: recorder.handle(),
            recorder: Arc::new(recorder),
        };
        metrics.with(|| {
            describe_histogram!(
                REQUEST_DURATION,
                Unit::Seconds,
                "Time to answer a request, by route template, method and status class."
            );
            describe_counter!(RESPONSES, "HTTP responses by status class.");
            describe_histogram!(
                ACQUIRE,
                Unit::Seconds,
                "Wait for a database connection (for a transaction: and its BEGIN)."
            );
            describe_gauge!(
                POOL_CONNECTIONS,
                "Database connections open, idle or in use."
            );
            describe_gauge!(POOL_MAX, "The most connections a pool opens.");
            describe_gauge!(
                OUTBOX_WAITING,
                "Messages waiting to be sent (all organisations)."
            );
            describe_gauge!(
                OUTBOX_OLDEST,
                Unit::Seconds,
                "Age of the oldest message waiting to be sent; 0 when none waits."
            );
            describe_counter!(CACHE_HITS, "Setup lookups answered from memory (process).");
            describe_counter!(
                CACHE_MISSES,
                "Setup lookups that loaded from the database (process)."
            );
            describe_counter!(
                CACHE_EVICTIONS,
                "Setups dropped to stay within the budget (process)."
            );
            describe_gauge!(
                CACHE_BYTES,
                Unit::Bytes,
                "Estimated bytes of the setups kept."
            );
            describe_gauge!(CACHE_ENTRIES, "Setups kept.");
            describe_gauge!(CACHE_BUDGET, Unit::Bytes, "Budget of the setups kept.");
            describe_counter!(BOOKINGS, "Appointments booked, by channel and kind.");
            describe_counter!(
                CONFLICTS,
                "Bookings refused by the slot rules, by channel and kind."
            );
            describe_counter!(SLOT_QUERIES, "Slot searches answered, by channel.");
            describe_counter!(RATE_LIMITED, "Requests refused by a rate limit.");
            for class in ["2xx", "3xx", "4xx", "5xx"] {
                counter!(RESPONSES, "class" => class).absolute(0);
            }
            for channel in Channel::ALL {
                for kind in [Kind::Single, Kind::Series] {
                    counter!(BOOKINGS, "channel" => channel.as_str(), "kind" => kind.as_str())
                        .absolute(0);
                    counter!(CONFLICTS, "channel" => channel.as_str(), "kind" => kind.as_str())
                        .absolute(0);
                }
            }
            for channel in [Channel::Portal, Channel::Fhir] {
                counter!(SLOT_QUERIES, "channel" => channel.as_str()).absolute(0);
            }
            counter!(RATE_LIMITED).absolute(0);
        });
        metrics
    }

    /// Runs `f` with this server's recorder as the one the `metrics` macros use.
    fn with<T>(&self, f: impl FnOnce() -> T) -> T {
        metrics::with_local_recorder(self.recorder.as_ref(), f)
    }

    /// Counts one answer of `status` to a request for `route` (a route's template, or
    /// `None` when no route took it) that took `elapsed`.
    pub fn response(
        &self,
        route: Option<&str>,
        method: &axum::http::Method,
        status: u16,
        elapsed: Duration,
    ) {
        let class = match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        let method: &'static str = match method.as_str() {
            "GET" => "GET",
            "HEAD" => "HEAD",
            "POST" => "POST",
            "PUT" => "PUT",
            "PATCH" => "PATCH",
            "DELETE" => "DELETE",
            "OPTIONS" => "OPTIONS",
            _ => "other",
        };
        let route = route.unwrap_or("unmatched").to_owned();
        self.with(|| {
            counter!(RESPONSES, "class" => class).increment(1);
            histogram!(REQUEST_DURATION, "route" => route, "method" => method, "class" => class)
                .record(elapsed.as_secs_f64());
        });
    }

    /// Counts `n` appointments booked.
    pub fn booked(&self, channel: Channel, kind: Kind, n: u64) {
        self.with(|| {
            counter!(BOOKINGS, "channel" => channel.as_str(), "kind" => kind.as_str()).increment(n)
        });
    }

    /// Counts one booking refused by the slot rules.
    pub fn conflict(&self, channel: Channel, kind: Kind) {
        self.with(|| {
            counter!(CONFLICTS, "channel" => channel.as_str(), "kind" => kind.as_str()).increment(1)
        });
    }

    /// Counts one slot search answered.
    pub fn slot_query(&self, channel: Channel) {
        self.with(|| counter!(SLOT_QUERIES, "channel" => channel.as_str()).increment(1));
    }

    /// Counts one request refused by a rate limit.
    pub fn rate_limited(&self) {
        self.with(|| counter!(RATE_LIMITED).increment(1));
    }

    /// A function recording the wait for database connections here, for
    /// [`store::Db::observed`].
    pub fn acquire_observer(&self) -> AcquireObserver {
        let metrics = self.clone();
        Arc::new(move |pool: PoolName, waited: Duration| {
            metrics
                .with(|| histogram!(ACQUIRE, "pool" => pool.as_str()).record(waited.as_secs_f64()));
        })
    }

    /// Folds the histograms' recent samples into their buckets, so that memory stays
    /// bounded between scrapes (`openslot serve` calls it every few seconds; a scrape
    /// does it too).
    pub fn upkeep(&self) {
        self.handle.run_upkeep();
    }

    /// What was recorded, without sampling the database (tests read counters with it).
    pub fn render_recorded(&self) -> String {
        self.handle.render()
    }

    /// Samples the pools, the outboxes and the setup cache, then renders everything.
    /// The outboxes take one statement; if it fails, their gauges keep their last
    /// values and the failure is logged.
    pub async fn render(&self, db: &store::Db, now_ns: i64) -> String {
        let pools = db.pool_status();
        let depth = store::outbox::depth(db).await;
        let cache = store::setup_cache::stats();
        let age = |oldest: Option<i64>| {
            oldest.map_or(0.0, |ns| (now_ns.saturating_sub(ns)).max(0) as f64 / 1e9)
        };
        self.with(|| {
            for p in &pools {
                let pool = p.pool.as_str();
                gauge!(POOL_CONNECTIONS, "pool" => pool, "state" => "idle").set(p.idle);
                gauge!(POOL_CONNECTIONS, "pool" => pool, "state" => "in_use").set(p.in_use());
                gauge!(POOL_MAX, "pool" => pool).set(p.max);
            }
            match &depth {
                Ok(d) => {
                    gauge!(OUTBOX_WAITING, "outbox" => "email").set(d.emails as f64);
                    gauge!(OUTBOX_WAITING, "outbox" => "webhook").set(d.webhooks as f64);
                    gauge!(OUTBOX_OLDEST, "outbox" => "email").set(age(d.oldest_email_ns));
                    gauge!(OUTBOX_OLDEST, "outbox" => "webhook").set(age(d.oldest_webhook_ns));
                }
                Err(e) => tracing::warn!(error = %e, "metrics: cannot count the outboxes"),
            }
            counter!(CACHE_HITS).absolute(cache.hits);
            counter!(CACHE_MISSES).absolute(cache.misses);
            counter!(CACHE_EVICTIONS).absolute(cache.evictions);
            gauge!(CACHE_BYTES).set(cache.bytes as f64);
            gauge!(CACHE_ENTRIES).set(cache.entries as f64);
            gauge!(CACHE_BUDGET).set(cache.budget as f64);
        });
        self.handle.render()
    }
}
