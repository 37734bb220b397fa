//! Many organisations (`--sessions FILE` from `openslot gen-orgs`): slot queries spread
//! over every organisation, open-loop at a fixed rate, and bookings of distinct slots,
//! both round-robin over the servers given. Capacity is checked afterwards in the
//! database (`scripts/load-many`), since no staff account spans the organisations.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Days, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use super::{Args, Latencies, instant, open_loop};

/// One organisation's open portal session, as `gen-orgs` listed it.
struct Org {
    slug: String,
    cookie: String,
    csrf: String,
    services: Vec<i64>,
    practitioners: Vec<i64>,
}

fn read(path: &Path) -> Vec<Org> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("--sessions {}: {e}", path.display()));
    let ids = |s: &str| -> Vec<i64> {
        s.split(',')
            .filter(|x| !x.is_empty())
            .map(|x| x.parse().expect("an id"))
            .collect()
    };
    let orgs: Vec<Org> = text
        .lines()
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 5, "a sessions line has five fields: {line}");
            Org {
                slug: f[0].to_owned(),
                cookie: format!("openslot_session={}", f[1]),
                csrf: f[2].to_owned(),
                services: ids(f[3]),
                practitioners: ids(f[4]),
            }
        })
        .filter(|o| !o.services.is_empty())
        .collect();
    assert!(!orgs.is_empty(), "no organisation with a portal service");
    orgs
}

/// SplitMix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).expect("below a usize")
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .build()
        .expect("an HTTP client")
}

/// Slot queries at `rate` per second for `seconds`: each to a random organisation, one
/// of its portal services, one of its practitioners half the time (else all), and
/// `span_days` from a random day of the next `ahead_days`.
async fn slot_queries(args: &Args, orgs: &Arc<Vec<Org>>, http: &reqwest::Client) {
    let today = Utc::now().date_naive();
    let mut rng = Rng(args.seed);
    let mut touched = std::collections::BTreeSet::new();
    let run = open_loop(args.rate, args.seconds, |n| {
        let o = rng.below(orgs.len());
        touched.insert(o);
        let org = &orgs[o];
        let service = org.services[rng.below(org.services.len())];
        let from = today + Days::new(rng.next() % args.ahead_days.max(1));
        let to = from + Days::new(args.span_days.clamp(1, 32) - 1);
        let mut url = format!(
            "{}/api/v1/orgs/{}/portal/slots?service={service}&from={from}&to={to}",
            args.bases[n as usize % args.bases.len()],
            org.slug
        );
        if !org.practitioners.is_empty() && rng.next().is_multiple_of(2) {
            let p = org.practitioners[rng.below(org.practitioners.len())];
            url.push_str(&format!("&practitioner={p}"));
        }
        http.get(url).header("cookie", &org.cookie)
    })
    .await;
    println!(
        "slot query ({} days, {} organisations of {} asked, {} servers): {} requests at {} per second for {} s: {:.0} per second achieved, {} failed; {}",
        args.span_days,
        touched.len(),
        orgs.len(),
        args.bases.len(),
        run.total,
        args.rate,
        args.seconds,
        run.per_second,
        run.failed,
        run.latencies.summary()
    );
}

/// The servers' own latency histogram of slot queries (`GET …/portal/slots` in
/// `/metrics`), summed over every server: the count at or below each bucket's bound.
async fn server_slot_histogram(args: &Args, http: &reqwest::Client) -> BTreeMap<String, f64> {
    let mut buckets = BTreeMap::new();
    for base in &args.bases {
        let Ok(r) = http.get(format!("{base}/metrics")).send().await else {
            continue;
        };
        let text = r.text().await.unwrap_or_default();
        for line in text.lines().filter(|l| {
            l.starts_with("openslot_http_request_duration_seconds_bucket{")
                && l.contains("portal/slots\"")
                && l.contains("method=\"GET\"")
        }) {
            let (Some(le), Some(count)) = (
                line.split("le=\"").nth(1).and_then(|r| r.split('"').next()),
                line.rsplit(' ').next().and_then(|c| c.parse::<f64>().ok()),
            ) else {
                continue;
            };
            *buckets.entry(le.to_owned()).or_insert(0.0) += count;
        }
    }
    buckets
}

/// What the servers' histograms say of the slot queries between two readings: how
/// many, and the bucket bound below which half, 90% and 99% of them were answered.
fn server_summary(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>) -> String {
    let mut bounds: Vec<(f64, f64)> = after
        .iter()
        .map(|(le, n)| {
            let bound = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().unwrap_or(f64::INFINITY)
            };
            (bound, n - before.get(le).copied().unwrap_or(0.0))
        })
        .collect();
    bounds.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = bounds.last().map_or(0.0, |b| b.1);
    if total <= 0.0 {
        return "no slot query in the servers' histograms".to_owned();
    }
    let within = |q: f64| {
        bounds
            .iter()
            .find(|(_, n)| *n >= q * total)
            .map_or("?".to_owned(), |(b, _)| {
                if b.is_finite() {
                    format!("≤ {:.1} ms", b * 1e3)
                } else {
                    "> the last bucket".to_owned()
                }
            })
    };
    let ten_ms = bounds
        .iter()
        .find(|(b, _)| (*b - 0.01).abs() < 1e-9)
        .map_or(0.0, |(_, n)| *n);
    format!(
        "{total:.0} slot queries answered, p50 {}, p90 {}, p99 {}, {:.1}% within 10 ms (the servers' own histograms, from the request's arrival in the handler)",
        within(0.5),
        within(0.9),
        within(0.99),
        100.0 * ten_ms / total
    )
}

/// One day of every organisation's slots from each server, 8 requests in flight: each
/// server then has every organisation's setup in its cache (as far as its budget goes).
async fn warm(args: &Args, orgs: &Arc<Vec<Org>>, http: &reqwest::Client) {
    let today = Utc::now().date_naive();
    let start = Instant::now();
    let gate = Arc::new(Semaphore::new(8));
    let mut tasks = tokio::task::JoinSet::new();
    for base in &args.bases {
        for org in orgs.iter() {
            let Some(service) = org.services.first() else {
                continue;
            };
            let permit = gate
                .clone()
                .acquire_owned()
                .await
                .expect("the gate stays open");
            let url = format!(
                "{base}/api/v1/orgs/{}/portal/slots?service={service}&from={today}&to={today}",
                org.slug
            );
            let request = http.get(url).header("cookie", &org.cookie);
            tasks.spawn(async move {
                let ok = matches!(request.send().await, Ok(r) if r.status() == StatusCode::OK);
                drop(permit);
                ok
            });
        }
    }
    let results = tasks.join_all().await;
    let failed = results.iter().filter(|ok| !**ok).count();
    println!(
        "warm-up: {} requests (every organisation on each of {} servers) in {:.1} s, {failed} failed",
        results.len(),
        args.bases.len(),
        start.elapsed().as_secs_f64()
    );
}

/// One booking to try.
struct Attempt {
    org: usize,
    service: i64,
    practitioner: i64,
    start: String,
}

/// Open slots of the booking organisations over the next two months, at most one per
/// practitioner and time (none overlapping another chosen one of the practitioner, so
/// every attempt can succeed), shuffled.
async fn candidates(args: &Args, orgs: &[Org], http: &reqwest::Client) -> Vec<Attempt> {
    let tomorrow = Utc::now().date_naive() + Days::new(1);
    let mut found = Vec::new();
    let mut rng = Rng(args.seed ^ 0xb00c);
    for (o, org) in orgs.iter().enumerate().take(args.booking_orgs) {
        for &service in &org.services {
            let mut busy_until: BTreeMap<i64, DateTime<Utc>> = BTreeMap::new();
            for month in 0..2u64 {
                let from = tomorrow + Days::new(month * 31);
                let to = from + Days::new(30);
                let url = format!(
                    "{}/api/v1/orgs/{}/portal/slots?service={service}&from={from}&to={to}",
                    args.bases[0], org.slug
                );
                let response = http
                    .get(url)
                    .header("cookie", &org.cookie)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), StatusCode::OK, "slots of {}", org.slug);
                let slots: Value = response.json().await.unwrap();
                let mut list: Vec<(i64, DateTime<Utc>, DateTime<Utc>, String)> = slots
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| {
                        let start = s["start"].as_str().unwrap();
                        (
                            s["practitioner_id"].as_i64().unwrap(),
                            instant(start),
                            instant(s["end"].as_str().unwrap()),
                            start.to_owned(),
                        )
                    })
                    .collect();
                list.sort();
                for (practitioner, at, end, start) in list {
                    if busy_until
                        .get(&practitioner)
                        .is_some_and(|until| at < *until)
                    {
                        continue;
                    }
                    busy_until.insert(practitioner, end);
                    found.push(Attempt {
                        org: o,
                        service,
                        practitioner,
                        start,
                    });
                }
            }
        }
    }
    for i in (1..found.len()).rev() {
        found.swap(i, rng.below(i + 1));
    }
    found.truncate(args.bookings);
    found
}

/// Books the candidates, `concurrency` at a time, round-robin over the servers.
async fn bookings(args: &Args, orgs: &Arc<Vec<Org>>, http: &reqwest::Client) {
    let attempts = candidates(args, orgs, http).await;
    let turns = Arc::new(Semaphore::new(args.concurrency));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (n, attempt) in attempts.iter().enumerate() {
        let permit = turns.clone().acquire_owned().await.unwrap();
        let org = &orgs[attempt.org];
        let request = http
            .post(format!(
                "{}/api/v1/orgs/{}/portal/appointments",
                args.bases[n % args.bases.len()],
                org.slug
            ))
            .header("cookie", &org.cookie)
            .header("x-csrf-token", &org.csrf)
            .json(&json!({
                "service": attempt.service,
                "practitioner": attempt.practitioner,
                "start": attempt.start,
            }));
        tasks.spawn(async move {
            let sent = Instant::now();
            let status = match request.send().await {
                Ok(r) => r.status().as_u16(),
                Err(_) => 0,
            };
            drop(permit);
            (status, sent.elapsed())
        });
    }
    let results = tasks.join_all().await;
    let elapsed = start.elapsed().as_secs_f64();
    let mut by_status: BTreeMap<u16, usize> = BTreeMap::new();
    for (status, _) in &results {
        *by_status.entry(*status).or_default() += 1;
    }
    let booked = by_status.get(&201).copied().unwrap_or(0);
    let latencies = Latencies(results.iter().map(|(_, d)| *d).collect());
    println!(
        "bookings ({} organisations, {} servers): {} distinct slots, {} in flight: {:.1} s, {:.0} bookings per second ({:.0} requests per second); answers {by_status:?}; {}",
        args.booking_orgs.min(orgs.len()),
        args.bases.len(),
        results.len(),
        args.concurrency,
        elapsed,
        booked as f64 / elapsed,
        results.len() as f64 / elapsed,
        latencies.summary()
    );
}

/// The many-organisation run: slot queries (unless `--bookings-only`), then bookings.
pub(crate) async fn run(args: &Args, path: &Path) {
    let orgs = Arc::new(read(path));
    let http = client();
    if !args.bookings_only {
        if args.warm {
            warm(args, &orgs, &http).await;
        }
        let before = server_slot_histogram(args, &http).await;
        slot_queries(args, &orgs, &http).await;
        let after = server_slot_histogram(args, &http).await;
        println!("servers: {}", server_summary(&before, &after));
    }
    bookings(args, &orgs, &http).await;
}
