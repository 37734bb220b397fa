//! `/metrics` over HTTP: latency by route template, the pools, the outboxes, the setup
//! cache (a hit, then a miss after a setup change), bookings and conflicts by channel;
//! and `docs/grafana-dashboard.json`, whose every metric a scrape must show.
//!
//! A test binary of its own: the setup cache is one per process, so its counters move
//! only with the test holding [`ONE_AT_A_TIME`] here, not with the hundreds of servers of
//! the `it` binary.

#[allow(dead_code, unused_imports)]
#[path = "it/database.rs"]
mod database;
#[allow(dead_code, unused_imports, unused_macros)]
#[path = "it/support.rs"]
mod support;

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use slot_engine::Scenario;
use store::staff::Role;

use support::{Client, TestApp};

/// Held by each test for its whole run (see the module's documentation).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn clinic() -> Scenario {
    Scenario::from_json(
        json!({
            "version": 1,
            "settings": {"slot_step_minutes": 30, "min_notice_minutes": 60},
            "clinics": [{"id": "toronto", "name": "Toronto", "timezone": "America/Toronto"}],
            "schedule_types": [{"id": "physio", "name": "Physio", "clinic": "toronto"}],
            "practitioners": [
                {"id": "christine", "name": "Christine Roy", "type": "physio", "home_clinic": "toronto", "schedule_types": ["physio"],
                 "availability": [{"start_date": "2026-01-01",
                   "blocks": [{"days": ["mon", "tue"], "start": "09:00", "end": "11:00", "schedule_type": "physio"}]}]}],
            "services": [{"id": "visit", "name": "Physio visit", "duration_minutes": 30,
                          "book_from_portal": true, "schedule_types": ["physio"]}],
            "patients": [
                {"id": "ada", "first_name": "Ada", "last_name": "Lane", "email": "ada@example.com"},
                {"id": "ben", "first_name": "Ben", "last_name": "Cho", "email": "ben@example.com"}]
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap()
}

/// A scrape: each sample's name and labels as written, and its value.
struct Scrape(Vec<(String, f64)>);

impl Scrape {
    async fn of(client: &Client) -> Scrape {
        let page = client.get("/metrics").await;
        assert_eq!(page.status, StatusCode::OK);
        Scrape(
            page.body
                .lines()
                .filter(|l| !l.starts_with('#') && !l.is_empty())
                .map(|l| {
                    let (series, value) = l.rsplit_once(' ').expect("a sample line");
                    (series.to_owned(), value.parse().expect("a number"))
                })
                .collect(),
        )
    }

    /// The sum of the samples of `name` whose labels include every one of `labels`
    /// (`key="value"`); `None` when there is no such sample.
    fn sum(&self, name: &str, labels: &[&str]) -> Option<f64> {
        let found: Vec<f64> = self
            .0
            .iter()
            .filter(|(series, _)| {
                let (n, rest) = series.split_once('{').unwrap_or((series.as_str(), ""));
                n == name && labels.iter().all(|l| rest.contains(l))
            })
            .map(|(_, v)| *v)
            .collect();
        (!found.is_empty()).then(|| found.iter().sum())
    }

    fn value(&self, name: &str, labels: &[&str]) -> f64 {
        self.sum(name, labels)
            .unwrap_or_else(|| panic!("no sample {name} {labels:?}"))
    }

    /// Every metric name sampled.
    fn names(&self) -> BTreeSet<&str> {
        self.0
            .iter()
            .map(|(s, _)| s.split_once('{').map_or(s.as_str(), |(n, _)| n))
            .collect()
    }
}

const SLOTS: &str = "/api/v1/orgs/clinic/portal/slots";

/// A slot query for Monday 2 March 2026 (the clock reads 1 March, noon UTC).
async fn slot_query(patient: &Client, visit: i64) {
    let page = patient
        .api(
            Method::GET,
            &format!("{SLOTS}?service={visit}&from=2026-03-02&to=2026-03-02"),
            None,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(!page.json().as_array().unwrap().is_empty(), "{}", page.body);
}

async fn series_after_a_slot_query_a_setup_change_and_a_booking(backend: support::Backend) {
    let _only = ONE_AT_A_TIME.lock().await;
    let app = TestApp::spawn(backend).await;
    let org = app.import("clinic", &clinic()).await;
    let admin = app.signed_in(&org, Role::Admin).await;
    let ada = app.portal_patient(&org, &admin, "ada").await;
    let ben = app.portal_patient(&org, &admin, "ben").await;
    let visit = app.id(&org, store::keys::Kind::Service, "visit").await;
    let christine = app
        .id(&org, store::keys::Kind::Practitioner, "christine")
        .await;
    let anyone = app.client();

    // The first query keeps the setup; the same query again finds it.
    slot_query(&ada, visit).await;
    let before = Scrape::of(&anyone).await;
    slot_query(&ada, visit).await;
    let hit = Scrape::of(&anyone).await;
    let delta = |a: &Scrape, b: &Scrape, name: &str| b.value(name, &[]) - a.value(name, &[]);
    assert_eq!(delta(&before, &hit, "openslot_setup_cache_hits_total"), 1.0);
    assert_eq!(
        delta(&before, &hit, "openslot_setup_cache_misses_total"),
        0.0
    );
    assert!(hit.value("openslot_setup_cache_entries", &[]) >= 1.0);
    // The estimate of a one-clinic, one-practitioner setup: a few KiB, not nothing.
    let bytes = hit.value("openslot_setup_cache_bytes", &[]);
    assert!((1_000.0..100_000.0).contains(&bytes), "{bytes}");
    assert_eq!(
        hit.value("openslot_setup_cache_budget_bytes", &[]),
        store::setup_cache::DEFAULT_BUDGET_BYTES as f64
    );

    // A setup change (a new clinic) makes the kept setup stale: the next query loads.
    admin
        .created(
            "/api/v1/orgs/clinic/clinics",
            json!({"name": "Annex", "timezone": "America/Toronto"}),
        )
        .await;
    slot_query(&ada, visit).await;
    let miss = Scrape::of(&anyone).await;
    assert_eq!(delta(&hit, &miss, "openslot_setup_cache_hits_total"), 0.0);
    assert_eq!(delta(&hit, &miss, "openslot_setup_cache_misses_total"), 1.0);
    assert_eq!(
        miss.value("openslot_slot_queries_total", &["channel=\"portal\""]),
        3.0
    );

    // Latency by route template and method: the slug and ids never show.
    let route = "route=\"/api/v1/orgs/{slug}/portal/slots\"";
    assert_eq!(
        miss.value(
            "openslot_http_request_duration_seconds_count",
            &[route, "method=\"GET\"", "class=\"2xx\""]
        ),
        3.0
    );
    assert_eq!(
        miss.value(
            "openslot_http_request_duration_seconds_bucket",
            &[route, "le=\"+Inf\""]
        ),
        3.0
    );
    assert!(miss.value("openslot_http_request_duration_seconds_sum", &[route]) > 0.0);
    assert!(
        miss.0
            .iter()
            .all(|(s, _)| !s.contains("orgs/clinic") && !s.contains(&format!("={visit}"))),
        "no address in a label"
    );
    assert!(miss.value("openslot_http_responses_total", &["class=\"2xx\""]) >= 3.0);

    // The pools: connections counted, and waits recorded.
    let pool = match backend {
        support::Backend::Sqlite => "pool=\"sqlite_read\"",
        support::Backend::Postgres => "pool=\"postgres\"",
    };
    assert!(miss.value("openslot_db_acquire_seconds_count", &[pool]) >= 3.0);
    assert!(miss.value("openslot_db_pool_connections", &[pool]) >= 1.0);
    assert!(miss.value("openslot_db_pool_max_connections", &[pool]) >= 1.0);
    assert_eq!(
        miss.value("openslot_outbox_waiting", &["outbox=\"email\""]),
        0.0
    );

    // A booking from the portal, and the same time again: a conflict. The booking's
    // confirmation waits in the outbox (no sender runs here) and ages with the clock.
    let body =
        json!({"service": visit, "practitioner": christine, "start": "2026-03-02T09:00:00-05:00"});
    let booked = ada
        .api(
            Method::POST,
            "/api/v1/orgs/clinic/portal/appointments",
            Some(body.clone()),
        )
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.body);
    let lost = ben
        .api(
            Method::POST,
            "/api/v1/orgs/clinic/portal/appointments",
            Some(body),
        )
        .await;
    assert_eq!(lost.status, StatusCode::CONFLICT, "{}", lost.body);
    app.clock.advance(90);
    let after = Scrape::of(&anyone).await;
    let portal = ["channel=\"portal\"", "kind=\"single\""];
    assert_eq!(after.value("openslot_bookings_total", &portal), 1.0);
    assert_eq!(
        after.value("openslot_booking_conflicts_total", &portal),
        1.0
    );
    assert_eq!(
        after.value("openslot_bookings_total", &["channel=\"staff\""]),
        0.0
    );
    assert!(after.value("openslot_outbox_waiting", &["outbox=\"email\""]) >= 1.0);
    assert!(after.value("openslot_outbox_oldest_age_seconds", &["outbox=\"email\""]) >= 90.0);
    assert_eq!(
        after.value("openslot_outbox_waiting", &["outbox=\"webhook\""]),
        0.0
    );
    assert_eq!(
        after.value(
            "openslot_outbox_oldest_age_seconds",
            &["outbox=\"webhook\""]
        ),
        0.0
    );
    app.stop().await;
}

/// The metric names in a PromQL expression: `openslot_…` identifiers.
fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expr;
    while let Some(at) = rest.find("openslot_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        names.push(tail[..end].to_owned());
        rest = &tail[end..];
    }
    names
}

/// Every `expr` of the dashboard's panels, with the panel's title.
fn exprs(value: &Value, title: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            let title = map.get("title").and_then(Value::as_str).unwrap_or(title);
            if let Some(Value::String(expr)) = map.get("expr") {
                out.push((title.to_owned(), expr.clone()));
            }
            for v in map.values() {
                exprs(v, title, out);
            }
        }
        Value::Array(list) => list.iter().for_each(|v| exprs(v, title, out)),
        _ => {}
    }
}

async fn the_dashboard_names_only_series_the_server_exports(backend: support::Backend) {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/grafana-dashboard.json"),
    )
    .unwrap();
    let dashboard: Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    // Importable: the data source is an input, and every panel uses it.
    assert_eq!(dashboard["__inputs"][0]["name"], "DS_PROMETHEUS");
    assert_eq!(dashboard["__inputs"][0]["pluginId"], "prometheus");
    let panels = dashboard["panels"].as_array().unwrap();
    for panel in panels.iter().filter(|p| p["type"] != "row") {
        assert_eq!(
            panel["datasource"]["uid"], "${DS_PROMETHEUS}",
            "{}",
            panel["title"]
        );
    }
    let mut found = Vec::new();
    exprs(&dashboard, "", &mut found);
    assert!(found.len() >= 10, "{} expressions", found.len());

    let _only = ONE_AT_A_TIME.lock().await;
    let app = TestApp::spawn(backend).await;
    let org = app.import("clinic", &clinic()).await;
    let admin = app.signed_in(&org, Role::Admin).await;
    let ada = app.portal_patient(&org, &admin, "ada").await;
    let visit = app.id(&org, store::keys::Kind::Service, "visit").await;
    slot_query(&ada, visit).await;
    let scrape = Scrape::of(&app.client()).await;
    let exported = scrape.names();
    for (title, expr) in &found {
        let names = metric_names(expr);
        assert!(!names.is_empty(), "{title}: no metric in {expr}");
        for name in names {
            assert!(
                exported.contains(name.as_str()),
                "{title}: {name} is not in a scrape ({exported:?})"
            );
        }
    }
    app.stop().await;
}

/// The demo organisation's setup, as the cache estimates it: docs/operations.md quotes
/// the figure this prints (run with `--nocapture`).
async fn the_demo_setup_is_estimated_and_kept_once(backend: support::Backend) {
    let _only = ONE_AT_A_TIME.lock().await;
    let app = TestApp::spawn(backend).await;
    // Empty the cache (organisation ids repeat across the tests' databases, and each
    // organisation has one entry), then give the budget back.
    store::setup_cache::set_budget(0);
    store::setup_cache::set_budget(store::setup_cache::DEFAULT_BUDGET_BYTES);
    let before = store::setup_cache::stats();
    assert_eq!((before.entries, before.bytes), (0, 0));
    let org = openslot_web::demo::ensure(&app.db, app.clock.as_ref())
        .await
        .unwrap();
    let mut conn = app.db.conn().await.unwrap();
    store::setup_check::report(
        &mut conn.exec(),
        &org,
        store::Clock::now(app.clock.as_ref()),
    )
    .await
    .unwrap();
    let after = store::setup_cache::stats();
    // Loaded (while importing the demo, or for the report) and kept, once: one entry
    // per organisation.
    assert!(after.misses > before.misses, "loaded");
    assert_eq!(after.entries, 1, "kept once");
    let bytes = after.bytes;
    eprintln!("the demo organisation's setup: {bytes} estimated bytes");
    assert!((4_000..1_000_000).contains(&bytes), "{bytes}");
    drop(conn);
    app.stop().await;
}

both!(
    series_after_a_slot_query_a_setup_change_and_a_booking,
    the_dashboard_names_only_series_the_server_exports,
    the_demo_setup_is_estimated_and_kept_once,
);
