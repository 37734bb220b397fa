//! A load generator for a running `openslot serve --demo`: the patient portal's 30-day
//! slot query at a fixed request rate, then bookings as fast as the server takes them,
//! then a check through the staff API that no booking went over its capacity.
//!
//! ```text
//! target/release/openslot serve --demo --database-url sqlite:///tmp/load.db &
//! cargo run --release -p openslot-web --example load -- --base http://127.0.0.1:3000
//! ```
//!
//! `scripts/load` does both and keeps the figures. The slot query is driven open-loop:
//! request `n` is due at `start + n / rate`, and its latency counts from when it was
//! due, so a slow server cannot hide its queue by slowing the generator down.
//! Latencies include the HTTP round trip on loopback; the generator, the server and
//! the database share the machine.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Days, Utc};
use clap::Parser;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

#[path = "load/many.rs"]
mod many;

/// What to load and how hard.
#[derive(Debug, Parser)]
struct Args {
    /// The server; give it more than once to spread the requests over several
    /// instances, round-robin.
    #[arg(long = "base", default_value = "http://127.0.0.1:3000")]
    bases: Vec<String>,
    /// Many organisations: the sessions `openslot gen-orgs --sessions FILE` opened, one
    /// line per organisation. Slot queries then go to a random organisation, service,
    /// practitioner (or all of them) and dates each, and bookings to `--booking-orgs`
    /// of them; the organisation, admin and patient arguments are not used.
    #[arg(long, value_name = "FILE")]
    sessions: Option<std::path::PathBuf>,
    /// With `--sessions`: days each slot query covers.
    #[arg(long, default_value_t = 7)]
    span_days: u64,
    /// With `--sessions`: slot queries start within this many days from today.
    #[arg(long, default_value_t = 56)]
    ahead_days: u64,
    /// With `--sessions`: how many organisations take bookings.
    #[arg(long, default_value_t = 200)]
    booking_orgs: usize,
    /// With `--sessions`: at most this many bookings (distinct slots).
    #[arg(long, default_value_t = 20_000)]
    bookings: usize,
    /// With `--sessions`: the seed of the random choices, so that runs compare.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The organisation.
    #[arg(long, default_value = "demo")]
    slug: String,
    /// A staff admin's email (the demo's by default).
    #[arg(long, default_value = "admin@demo.example")]
    admin_email: String,
    /// Their password.
    #[arg(long, default_value = "open-slot-demo-admin")]
    admin_password: String,
    /// Slot queries per second.
    #[arg(long, default_value_t = 500)]
    rate: u32,
    /// How long to query slots, in seconds.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Bookings in flight at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Skip the slot-query phase.
    #[arg(long)]
    bookings_only: bool,
    /// With `--sessions`: before the timed slot queries, ask each server for one day of
    /// every organisation's slots, 8 at a time, so each has read every setup once (as a
    /// server that has run a while has); without it most timed requests are their
    /// organisation's first on that server.
    #[arg(long)]
    warm: bool,
    /// Book only slots that do not overlap another attempt of the same practitioner,
    /// so that every attempt can succeed (measures bookings, not refusals); without
    /// it every open start is tried, and overlapping ones race for the same places.
    #[arg(long)]
    distinct: bool,
}

/// A password every demo patient gets for the run.
const PATIENT_PASSWORD: &str = "load-test: lemon harbour violet tundra 42";

/// A signed-in person: cookie jar and CSRF token.
#[derive(Clone)]
struct Session {
    http: reqwest::Client,
    api: String,
    csrf: String,
}

impl Session {
    async fn sign_in(base: &str, slug: &str, path: &str, credentials: Value) -> Session {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .pool_max_idle_per_host(256)
            .build()
            .expect("an HTTP client");
        let api = format!("{base}/api/v1/orgs/{slug}");
        let url = format!("{api}/{path}");
        let session: Value = http.get(&url).send().await.unwrap().json().await.unwrap();
        let response = http
            .post(&url)
            .header("x-csrf-token", session["csrf_token"].as_str().unwrap())
            .json(&credentials)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "sign-in at {url}");
        let session: Value = response.json().await.unwrap();
        Session {
            http,
            api,
            csrf: session["csrf_token"].as_str().unwrap().to_owned(),
        }
    }

    async fn get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}/{path}", self.api))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.unwrap()
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .http
            .request(method, format!("{}/{path}", self.api))
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

/// Latency figures of one phase.
struct Latencies(Vec<Duration>);

impl Latencies {
    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.0.clone();
        sorted.sort_unstable();
        if sorted.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1]
    }

    fn summary(&self) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        format!(
            "p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            ms(self.percentile(50.0)),
            ms(self.percentile(90.0)),
            ms(self.percentile(99.0)),
            ms(self.percentile(100.0))
        )
    }
}

/// Gives every patient of the organisation a portal password and signs them all in.
async fn patients(args: &Args, admin: &Session) -> Vec<Session> {
    let mut sessions = Vec::new();
    for (n, p) in admin
        .get("patients")
        .await
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let (id, email) = (p["id"].as_i64().unwrap(), p["email"].as_str().unwrap());
        let (status, body) = admin
            .send(
                reqwest::Method::PUT,
                &format!("patients/{id}/portal-access/credentials"),
                json!({"username": email, "password": PATIENT_PASSWORD}),
            )
            .await;
        assert!(
            status.is_success(),
            "credentials for {email}: {status} {body}"
        );
        sessions.push(
            Session::sign_in(
                &args.bases[n % args.bases.len()],
                &args.slug,
                "portal/session",
                json!({"username": email, "password": PATIENT_PASSWORD}),
            )
            .await,
        );
    }
    assert!(!sessions.is_empty(), "the organisation has no patients");
    sessions
}

/// What an open-loop run of requests gave.
struct OpenLoop {
    /// Requests sent.
    total: u64,
    /// Requests per second achieved, over the whole run.
    per_second: f64,
    /// Requests not answered 200 with a whole body.
    failed: usize,
    /// Each request's latency from the moment it was due.
    latencies: Latencies,
}

/// Sends `request(n)` for n in 0..rate × seconds, each at its due time whatever the
/// earlier ones are doing (open loop: a slow server lengthens the queue, which the
/// latencies then show, rather than slowing the arrivals).
async fn open_loop(
    rate: u32,
    seconds: u64,
    mut request: impl FnMut(u64) -> reqwest::RequestBuilder,
) -> OpenLoop {
    let total = u64::from(rate) * seconds;
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..total {
        let due = start + Duration::from_secs_f64(n as f64 / f64::from(rate));
        tokio::time::sleep_until(due.into()).await;
        let request = request(n);
        tasks.spawn(async move {
            let ok = match request.send().await {
                Ok(r) => r.status() == StatusCode::OK && r.bytes().await.is_ok(),
                Err(_) => false,
            };
            (ok, due.elapsed())
        });
    }
    let results = tasks.join_all().await;
    let per_second = total as f64 / start.elapsed().as_secs_f64();
    OpenLoop {
        total,
        per_second,
        failed: results.iter().filter(|(ok, _)| !ok).count(),
        latencies: Latencies(results.into_iter().map(|(_, d)| d).collect()),
    }
}

/// The 30-day slot query at `rate` per second for `seconds`, round-robin over the
/// patients and the portal's services.
async fn slot_queries(args: &Args, patients: &[Session], services: &[i64]) {
    let today = Utc::now().date_naive();
    let to = today + Days::new(30);
    let run = open_loop(args.rate, args.seconds, |n| {
        let session = &patients[n as usize % patients.len()];
        let service = services[n as usize % services.len()];
        session.http.get(format!(
            "{}/portal/slots?service={service}&from={today}&to={to}",
            session.api
        ))
    })
    .await;
    println!(
        "slot query (30 days): {} requests at {} per second for {} s: {:.0} per second achieved, {} failed; {}",
        run.total,
        args.rate,
        args.seconds,
        run.per_second,
        run.failed,
        run.latencies.summary()
    );
}

/// One booking to try: which patient, for which service, with whom, when.
#[derive(Clone)]
struct Attempt {
    patient: usize,
    service: i64,
    practitioner: i64,
    start: String,
}

/// A slot's practitioner, start and service: in time order per practitioner.
type SlotKey = (i64, DateTime<Utc>, i64);

/// A slot's start as the API wrote it, its end, and the patients who may book it.
type OpenSlot = (String, DateTime<Utc>, Vec<usize>);

/// Every open slot of every portal service in the booking window (with `distinct`,
/// only those that overlap no other chosen slot of the practitioner), each given to
/// one of the patients who may book it (patients may be limited to some
/// practitioners), shuffled.
async fn candidates(patients: &[Session], services: &[i64], distinct: bool) -> Vec<Attempt> {
    let today = Utc::now().date_naive();
    let mut who_may: BTreeMap<SlotKey, OpenSlot> = BTreeMap::new();
    for (patient, session) in patients.iter().enumerate() {
        for &service in services {
            for month in 0..3u64 {
                let from = today + Days::new(month * 31);
                let to = from + Days::new(30);
                let slots = session
                    .get(&format!(
                        "portal/slots?service={service}&from={from}&to={to}"
                    ))
                    .await;
                for s in slots.as_array().unwrap() {
                    let start = s["start"].as_str().unwrap();
                    let key = (
                        s["practitioner_id"].as_i64().unwrap(),
                        instant(start),
                        service,
                    );
                    let end = instant(s["end"].as_str().unwrap());
                    who_may
                        .entry(key)
                        .or_insert_with(|| (start.to_owned(), end, Vec::new()))
                        .2
                        .push(patient);
                }
            }
        }
    }
    let mut busy_until: BTreeMap<i64, DateTime<Utc>> = BTreeMap::new();
    let mut found = Vec::new();
    for (n, ((practitioner, at, service), (start, end, may))) in who_may.into_iter().enumerate() {
        if distinct {
            if busy_until
                .get(&practitioner)
                .is_some_and(|until| at < *until)
            {
                continue;
            }
            busy_until.insert(practitioner, end);
        }
        found.push(Attempt {
            patient: may[n % may.len()],
            service,
            practitioner,
            start,
        });
    }
    // A fixed shuffle (SplitMix64), so that runs compare.
    let mut state = 0x5eed_u64;
    for i in (1..found.len()).rev() {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        found.swap(i, usize::try_from(z % (i as u64 + 1)).unwrap());
    }
    found
}

/// Books every candidate slot, `concurrency` at a time; returns the booked ids.
async fn bookings(args: &Args, patients: &[Session], services: &[i64]) -> Vec<i64> {
    let attempts = candidates(patients, services, args.distinct).await;
    let turns = Arc::new(Semaphore::new(args.concurrency));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for attempt in attempts.iter().cloned() {
        let permit = turns.clone().acquire_owned().await.unwrap();
        let session = patients[attempt.patient].clone();
        tasks.spawn(async move {
            let sent = Instant::now();
            let (status, body) = session
                .send(
                    reqwest::Method::POST,
                    "portal/appointments",
                    json!({
                        "service": attempt.service,
                        "practitioner": attempt.practitioner,
                        "start": attempt.start,
                    }),
                )
                .await;
            drop(permit);
            (status, body["id"].as_i64(), sent.elapsed())
        });
    }
    let results = tasks.join_all().await;
    let elapsed = start.elapsed().as_secs_f64();
    let mut by_status: BTreeMap<u16, usize> = BTreeMap::new();
    for (status, _, _) in &results {
        *by_status.entry(status.as_u16()).or_default() += 1;
    }
    let booked: Vec<i64> = results
        .iter()
        .filter(|(s, _, _)| *s == StatusCode::CREATED)
        .filter_map(|(_, id, _)| *id)
        .collect();
    let latencies = Latencies(results.iter().map(|(_, _, d)| *d).collect());
    println!(
        "bookings: {} requests over {} open slots, {} in flight: {:.1} s, {:.0} bookings per second ({:.0} requests per second); answers {by_status:?}; {}",
        results.len(),
        attempts.len(),
        args.concurrency,
        elapsed,
        booked.len() as f64 / elapsed,
        results.len() as f64 / elapsed,
        latencies.summary()
    );
    booked
}

fn instant(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
}

/// Reads every appointment back through the staff API and checks rule 11 as each
/// booking was admitted: the appointments of the same practitioner that overlap it and
/// were admitted before it (smaller ids: a practitioner's bookings are admitted one
/// at a time, under a lock) and are not cancelled must number fewer than its capacity,
/// its service's portal conflicts when its schedule type allows conflicts, else 1.
async fn check_capacity(admin: &Session, booked: &[i64]) {
    let capacity_of_type: BTreeMap<i64, bool> = admin
        .get("schedule-types")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["id"].as_i64().unwrap(),
                t["allow_conflicts"].as_bool().unwrap(),
            )
        })
        .collect();
    let conflicts_of_service: BTreeMap<i64, usize> = admin
        .get("services")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_i64().unwrap(),
                usize::try_from(s["portal_conflicts"].as_i64().unwrap()).unwrap(),
            )
        })
        .collect();
    // The list API answers at most 92 days per call.
    let today = Utc::now().date_naive();
    let mut all = Vec::new();
    for part in 0..3u64 {
        let from = today + Days::new(part * 61);
        let to = from + Days::new(60);
        let page = admin
            .get(&format!("appointments?from={from}&to={to}"))
            .await;
        all.extend(page.as_array().unwrap().iter().cloned());
    }
    let booked: std::collections::BTreeSet<i64> = booked.iter().copied().collect();
    let mut checked = 0;
    for a in all
        .iter()
        .filter(|a| booked.contains(&a["id"].as_i64().unwrap()))
    {
        let id = a["id"].as_i64().unwrap();
        let (start, end) = (
            instant(a["start"].as_str().unwrap()),
            instant(a["end"].as_str().unwrap()),
        );
        let allows = a["schedule_type_id"]
            .as_i64()
            .and_then(|t| capacity_of_type.get(&t).copied())
            .unwrap_or(false);
        let capacity = if allows {
            conflicts_of_service[&a["service_id"].as_i64().unwrap()]
        } else {
            1
        };
        let before = all
            .iter()
            .filter(|b| {
                b["id"].as_i64().unwrap() < id
                    && b["practitioner_id"] == a["practitioner_id"]
                    && b["status"] != "cancelled"
                    && instant(b["start"].as_str().unwrap()) < end
                    && instant(b["end"].as_str().unwrap()) > start
            })
            .count();
        assert!(
            before < capacity,
            "overbooked: appointment {id} was admitted over {before} others (capacity {capacity})"
        );
        checked += 1;
    }
    assert_eq!(checked, booked.len(), "every booking read back");
    println!("capacity: all {checked} bookings admitted within capacity (0 overbooked)");
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if let Some(path) = &args.sessions {
        many::run(&args, path).await;
        return;
    }
    let admin = Session::sign_in(
        &args.bases[0],
        &args.slug,
        "session",
        json!({"email": args.admin_email, "password": args.admin_password}),
    )
    .await;
    let patients = patients(&args, &admin).await;
    let services: Vec<i64> = patients[0]
        .get("portal/services")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    if !args.bookings_only {
        slot_queries(&args, &patients, &services).await;
    }
    let booked = bookings(&args, &patients, &services).await;
    check_capacity(&admin, &booked).await;
}
