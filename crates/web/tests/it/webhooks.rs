//! Webhooks (issue 18): a loopback receiver records what the server's sender posts.
//! Every event fires from every channel that makes its change (the security matrix's
//! routes, staff and patients alike), in the change's transaction; bodies carry ids and
//! times and no health details unless the endpoint opts in, and keep what they said
//! when the appointment changes later; signatures are Standard Webhooks' (checked here
//! against our signer and the specification's example, and in an ignored test against
//! the official Python and Node libraries); failed attempts are retried with growing
//! waits, and an appointment's messages never overtake one another; endpoints are the
//! admins' own, audited, and another organisation's ids are not found.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use store::Clock;
use store::webhook_event::Event;

use crate::both;
use crate::security::{Who, World, all_routes, world};
use crate::support::{Backend, Client, PASSWORD, TestApp};

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

#[derive(Clone, Default)]
struct Inbox {
    got: Arc<Mutex<Vec<Received>>>,
    /// The statuses to answer, in turn; 200 once they run out.
    answers: Arc<Mutex<VecDeque<u16>>>,
}

/// A receiver on 127.0.0.1 that records every request and answers as told.
struct Receiver {
    url: String,
    inbox: Inbox,
}

impl Receiver {
    async fn start() -> Receiver {
        let inbox = Inbox::default();
        let app = axum::Router::new()
            .fallback(
                |State(inbox): State<Inbox>, headers: HeaderMap, body: Bytes| async move {
                    let header = |name: &str| {
                        headers
                            .get(name)
                            .map(|v| v.to_str().unwrap().to_owned())
                            .unwrap_or_default()
                    };
                    inbox.got.lock().unwrap().push(Received {
                        id: header("webhook-id"),
                        timestamp: header("webhook-timestamp"),
                        signature: header("webhook-signature"),
                        body: String::from_utf8(body.to_vec()).unwrap(),
                    });
                    let status = inbox.answers.lock().unwrap().pop_front().unwrap_or(200);
                    (AxumStatus::from_u16(status).unwrap(), "thanks")
                },
            )
            .with_state(inbox.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { url, inbox }
    }

    fn answer(&self, statuses: &[u16]) {
        self.inbox.answers.lock().unwrap().extend(statuses);
    }

    fn got(&self) -> Vec<Received> {
        self.inbox.got.lock().unwrap().clone()
    }
}

/// Runs the sender once, as a server's would, over the test's database and clock.
async fn deliver(app: &TestApp) -> openslot_web::webhooks::sender::Pass {
    let client = openslot_web::webhooks::client(true).unwrap();
    openslot_web::webhooks::sender::deliver_due(&app.db, app.clock.as_ref(), &client)
        .await
        .unwrap()
}

/// Registers an endpoint through the API; answers its id and secret.
async fn register(admin: &Client, url: &str, events: &[Event], health: bool) -> (i64, String) {
    let made = admin
        .created(
            "/api/v1/orgs/alpha/webhooks",
            json!({"name": "Receiver", "url": url, "include_health_details": health,
                   "events": events.iter().map(|e| e.as_str()).collect::<Vec<_>>()}),
        )
        .await;
    (
        made["endpoint"]["id"].as_i64().unwrap(),
        made["secret"].as_str().unwrap().to_owned(),
    )
}

/// The endpoint's deliveries through the API, newest first.
async fn deliveries(admin: &Client, endpoint: i64) -> Vec<Value> {
    let page = admin
        .api(
            Method::GET,
            &format!("/api/v1/orgs/alpha/webhooks/{endpoint}/deliveries?limit=100"),
            None,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.json()["deliveries"].as_array().unwrap().clone()
}

fn number(id: &str) -> i64 {
    id.parse().unwrap()
}

/// Books for A's patient through the staff API; answers the appointment's id.
async fn book(w: &World, start: &str) -> i64 {
    let booked = w
        .alpha_staff
        .api(
            Method::POST,
            "/api/v1/orgs/alpha/appointments",
            Some(json!({"practitioner": number(&w.ids.practitioner),
                        "patient": number(&w.ids.patient),
                        "service": number(&w.ids.service), "start": start})),
        )
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.body);
    booked.json()["id"].as_i64().unwrap()
}

/// An API call that must succeed; its answer.
async fn ok(client: &Client, method: Method, path: &str, body: Option<Value>) -> Value {
    let page = client.api(method.clone(), path, body).await;
    assert!(page.status.is_success(), "{method} {path}: {}", page.body);
    if page.body.is_empty() {
        Value::Null
    } else {
        page.json()
    }
}

/// Moves an appointment through the staff API, then cancels it.
async fn move_then_cancel(w: &World, id: i64, to: &str) {
    let path = format!("/api/v1/orgs/alpha/appointments/{id}");
    ok(
        &w.alpha_staff,
        Method::POST,
        &format!("{path}/move"),
        Some(json!({"start": to})),
    )
    .await;
    ok(&w.alpha_staff, Method::DELETE, &path, None).await;
}

async fn every_event_fires_from_every_channel_that_makes_it(backend: Backend) {
    let w = world(backend).await;
    let receiver = Receiver::start().await;
    let (endpoint, secret) = register(&w.alpha_staff, &receiver.url, Event::ALL, false).await;
    let audit_before = {
        let mut conn = w.app.db.conn().await.unwrap();
        store::audit::recent(conn.exec(), w.alpha.id, None, 1)
            .await
            .unwrap()[0]
            .id
    };

    // A no-show, which the matrix does not make: of an appointment that has started.
    let late = book(&w, "2026-02-24T09:00:00-05:00").await;
    let status = format!("/api/v1/orgs/alpha/appointments/{late}/status");
    ok(
        &w.alpha_staff,
        Method::POST,
        &status,
        Some(json!({"status": "no_show"})),
    )
    .await;

    // Each appointment event from each channel that makes it: the patient in the
    // portal books, moves and cancels; staff book, move, cancel, accept and decline.
    let portal_booking = json!({"service": number(&w.ids.service),
        "practitioner": number(&w.ids.practitioner), "start": "2026-03-02T10:00:00-05:00"});
    let mine = ok(
        &w.owner,
        Method::POST,
        "/api/v1/orgs/alpha/portal/appointments",
        Some(portal_booking.clone()),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    ok(
        &w.owner,
        Method::POST,
        &format!("/api/v1/orgs/alpha/portal/appointments/{mine}/reschedule"),
        Some(json!({"start": "2026-03-02T10:30:00-05:00"})),
    )
    .await;
    ok(
        &w.owner,
        Method::POST,
        &format!("/api/v1/orgs/alpha/portal/appointments/{mine}/cancel"),
        None,
    )
    .await;
    let theirs = book(&w, "2026-03-03T09:00:00-05:00").await;
    move_then_cancel(&w, theirs, "2026-03-03T09:30:00-05:00").await;
    ok(
        &w.alpha_staff,
        Method::POST,
        &format!("/api/v1/orgs/alpha/appointments/{}/accept", w.ids.pending),
        Some(json!({})),
    )
    .await;
    let mut settings = ok(
        &w.alpha_staff,
        Method::GET,
        "/api/v1/orgs/alpha/settings",
        None,
    )
    .await;
    settings["auto_accept_portal_bookings"] = json!(false);
    ok(
        &w.alpha_staff,
        Method::PUT,
        "/api/v1/orgs/alpha/settings",
        Some(settings.clone()),
    )
    .await;
    let request = ok(
        &w.owner,
        Method::POST,
        "/api/v1/orgs/alpha/portal/appointments",
        Some(portal_booking),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    ok(
        &w.alpha_staff,
        Method::POST,
        &format!("/api/v1/orgs/alpha/appointments/{request}/decline"),
        Some(json!({})),
    )
    .await;
    settings["auto_accept_portal_bookings"] = json!(true);
    ok(
        &w.alpha_staff,
        Method::PUT,
        "/api/v1/orgs/alpha/settings",
        Some(settings),
    )
    .await;

    // Then every state-changing route of the security matrix, by A's admin and A's
    // patient: whatever they change, every audit entry that is an event is a message.
    for route in all_routes(&w.ids).iter().filter(|r| {
        r.method != Method::GET
            && !r.template.ends_with("/signout")
            && !r.template.contains("/webhooks")
    }) {
        let who = match route.who {
            Who::Staff => &w.alpha_staff,
            Who::Patient => &w.owner,
            _ => continue,
        };
        let page = route.call(who, "alpha").await;
        assert!(
            page.status.as_u16() < 500,
            "{}: {}",
            route.template,
            page.body
        );
    }
    let pass = deliver(&w.app).await;
    assert_eq!((pass.retrying, pass.failed), (0, 0), "{pass:?}");

    // Every audit entry that is an event is one message, queued with it.
    let mut conn = w.app.db.conn().await.unwrap();
    let entries: Vec<_> = store::audit::recent(conn.exec(), w.alpha.id, None, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.id > audit_before)
        .rev()
        .collect();
    drop(conn);
    let expected: Vec<(String, Option<i64>, String)> = entries
        .iter()
        .filter_map(|e| {
            let details: Value = serde_json::from_str(&e.details).unwrap();
            Event::from_audit(&e.action, &e.entity, &details)
                .map(|ev| (ev.as_str().to_owned(), e.entity_id, e.actor.clone()))
        })
        .collect();
    let got = receiver.got();
    assert_eq!(got.len(), expected.len(), "{expected:?}");
    let mut channels: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (r, (event, entity_id, actor)) in got.iter().zip(&expected) {
        let body = r.json();
        assert_eq!(&body["type"], event, "{body}");
        let data = &body["data"];
        assert_eq!(data["organisation"], "alpha");
        if event.starts_with("appointment.") {
            assert_eq!(data["appointment_id"].as_i64(), *entity_id, "{body}");
            for key in [
                "status",
                "start",
                "end",
                "practitioner_id",
                "clinic_id",
                "service_id",
            ] {
                assert!(data.get(key).is_some(), "{key} in {body}");
            }
        }
        if event == "patient.created" {
            assert_eq!(data["patient_id"].as_i64(), *entity_id, "{body}");
        }
        // No health details by default.
        for private in [
            "service_name",
            "patient",
            "note",
            "cancel_reason",
            "first_name",
            "email",
        ] {
            assert!(data.get(private).is_none(), "{private} in {body}");
        }
        for marker in ["Ysolde", "Farquhar", "Yodel", "Portal visit"] {
            assert!(!r.body.contains(marker), "{marker} in {}", r.body);
        }
        // Signed with the endpoint's secret over id, timestamp and body.
        assert!(r.id.starts_with("msg_"), "{}", r.id);
        let ts: i64 = r.timestamp.parse().unwrap();
        assert_eq!(
            r.signature,
            openslot_web::webhooks::sign(std::slice::from_ref(&secret), &r.id, ts, &r.body)
        );
        let kind = actor.split(':').next().unwrap().to_owned();
        channels.entry(event.clone()).or_default().insert(kind);
    }
    // Every event fired, and those both staff and patients make fired from both.
    let fired: BTreeSet<&str> = channels.keys().map(String::as_str).collect();
    let all: BTreeSet<&str> = Event::ALL.iter().map(|e| e.as_str()).collect();
    assert_eq!(fired, all, "{channels:?}");
    for event in [
        "appointment.booked",
        "appointment.moved",
        "appointment.cancelled",
    ] {
        assert_eq!(
            channels[event],
            BTreeSet::from(["patient".to_owned(), "staff".to_owned()]),
            "{event}: {channels:?}"
        );
    }
    // The log says so too.
    let log = deliveries(&w.alpha_staff, endpoint).await;
    assert_eq!(log.len(), expected.len());
    assert!(
        log.iter()
            .all(|d| d["status"] == "delivered" && d["attempts"] == 1)
    );
    println!(
        "figures: {} events from {} audit entries, all delivered on the first attempt",
        expected.len(),
        entries.len()
    );
    w.app.stop().await;
}

async fn a_reminders_cancel_link_fires_the_cancellation(backend: Backend) {
    let w = world(backend).await;
    let saved = w
        .alpha_staff
        .api(
            Method::PUT,
            "/api/v1/orgs/alpha/reminder-settings",
            Some(json!({"offsets_minutes": [2880], "no_show_pending_after": null})),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let receiver = Receiver::start().await;
    register(
        &w.alpha_staff,
        &receiver.url,
        &[Event::AppointmentCancelled],
        false,
    )
    .await;
    book(&w, "2026-03-02T10:00:00-05:00").await;
    openslot_web::reminders::run_once(&w.app.state)
        .await
        .unwrap();
    let mail = w.app.mail("ysolde@example.com").await;
    let reminder = mail
        .iter()
        .find(|m| m.subject.starts_with("Reminder: "))
        .expect("a reminder");
    let cancel = reminder
        .body_text
        .split_whitespace()
        .filter(|w| w.contains("/reminder/"))
        .nth(1)
        .unwrap()
        .trim_start_matches(&w.app.base)
        .to_owned();
    // Nobody signed in: the link alone.
    let done = w.app.client().post_form(&cancel, &[]).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    deliver(&w.app).await;
    let got = receiver.got();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].json()["type"], "appointment.cancelled");
    assert_eq!(got[0].json()["data"]["patient_id"], number(&w.ids.patient));
    assert_eq!(got[0].json()["data"]["status"], "cancelled");
    w.app.stop().await;
}

async fn retries_back_off_and_keep_each_appointments_order(backend: Backend) {
    let w = world(backend).await;
    let receiver = Receiver::start().await;
    let events = [
        Event::AppointmentBooked,
        Event::AppointmentMoved,
        Event::AppointmentCancelled,
    ];
    let (endpoint, _) = register(&w.alpha_staff, &receiver.url, &events, false).await;
    let first = book(&w, "2026-03-02T10:00:00-05:00").await;
    move_then_cancel(&w, first, "2026-03-03T09:00:00-05:00").await;
    let second = book(&w, "2026-03-02T10:00:00-05:00").await;

    // The receiver fails twice. The first appointment's booking waits 30 s, then 60 s;
    // its move and cancellation wait behind it; the other appointment goes on.
    receiver.answer(&[500]);
    let pass = deliver(&w.app).await;
    assert_eq!((pass.delivered, pass.retrying), (1, 1), "{pass:?}");
    let got = receiver.got();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].json()["data"]["appointment_id"], first);
    assert_eq!(got[1].json()["data"]["appointment_id"], second);
    let log = deliveries(&w.alpha_staff, endpoint).await;
    let booking = log
        .iter()
        .find(|d| d["appointment_id"] == first && d["event_type"] == "appointment.booked")
        .unwrap();
    assert_eq!(booking["status"], "pending");
    assert_eq!(booking["attempts"], 1);
    assert_eq!(booking["response_status"], 500);
    assert_eq!(booking["response_excerpt"], "thanks");
    assert_eq!(booking["next_attempt_at"], "2026-03-01T12:00:30Z");

    // Not yet due: nothing is sent, the move does not overtake.
    assert_eq!(deliver(&w.app).await.delivered, 0);
    assert_eq!(receiver.got().len(), 2);
    w.app.clock.advance(30);
    receiver.answer(&[503]);
    let pass = deliver(&w.app).await;
    assert_eq!((pass.delivered, pass.retrying), (0, 1), "{pass:?}");
    let log = deliveries(&w.alpha_staff, endpoint).await;
    let booking = log.iter().find(|d| d["id"] == booking["id"]).unwrap();
    assert_eq!(booking["attempts"], 2);
    assert_eq!(booking["response_status"], 503);
    assert_eq!(booking["next_attempt_at"], "2026-03-01T12:01:30Z");
    w.app.clock.advance(60);
    let pass = deliver(&w.app).await;
    assert_eq!((pass.delivered, pass.retrying), (3, 0), "{pass:?}");

    // In order, each message with one id across its attempts.
    let got = receiver.got();
    let of_first: Vec<(String, String)> = got
        .iter()
        .filter(|r| r.json()["data"]["appointment_id"] == first)
        .map(|r| (r.json()["type"].as_str().unwrap().to_owned(), r.id.clone()))
        .collect();
    let types: Vec<&str> = of_first.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        types,
        [
            "appointment.booked",
            "appointment.booked",
            "appointment.booked",
            "appointment.moved",
            "appointment.cancelled"
        ]
    );
    assert!(of_first[0].1 == of_first[1].1 && of_first[1].1 == of_first[2].1);
    // The booking's body still says where it was booked, not where it moved.
    let booked_body = got
        .iter()
        .find(|r| {
            r.json()["type"] == "appointment.booked" && r.json()["data"]["appointment_id"] == first
        })
        .unwrap()
        .json();
    assert_eq!(booked_body["data"]["start"], "2026-03-02T15:00:00Z");
    let moved_body = got
        .iter()
        .find(|r| r.json()["type"] == "appointment.moved")
        .unwrap()
        .json();
    assert_eq!(moved_body["data"]["start"], "2026-03-03T14:00:00Z");
    let cancelled_body = got
        .iter()
        .find(|r| r.json()["type"] == "appointment.cancelled")
        .unwrap()
        .json();
    assert_eq!(cancelled_body["data"]["status"], "cancelled");

    // Replay: the same message again, with the same id, through the page.
    let log = deliveries(&w.alpha_staff, endpoint).await;
    let moved_delivery = log
        .iter()
        .find(|d| d["event_type"] == "appointment.moved")
        .unwrap();
    let page = w
        .alpha_staff
        .post_form(
            &format!(
                "/o/alpha/admin/webhooks/{endpoint}/deliveries/{}/replay",
                moved_delivery["id"]
            ),
            &[],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(deliver(&w.app).await.delivered, 1);
    let last = receiver.got().pop().unwrap();
    assert_eq!(last.id, moved_delivery["message_id"].as_str().unwrap());
    assert_eq!(last.body, moved_delivery["payload"].as_str().unwrap());
    // The log page says the same, newest first, with a Replay button per delivery.
    let page = w
        .alpha_staff
        .get(&format!("/o/alpha/admin/webhooks/{endpoint}/deliveries"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    for text in [
        "appointment.moved",
        "delivered",
        "200",
        "Replay",
        "Send test event",
    ] {
        assert!(page.contains(text), "{text} in {}", page.body);
    }

    // An endpoint that keeps failing is given up after the last attempt.
    receiver.answer(&[500; 8]);
    let test = w
        .alpha_staff
        .api(
            Method::POST,
            &format!("/api/v1/orgs/alpha/webhooks/{endpoint}/test"),
            None,
        )
        .await;
    assert_eq!(test.status, StatusCode::ACCEPTED);
    let mut waits = Vec::new();
    for _ in 0..store::webhook::MAX_ATTEMPTS {
        deliver(&w.app).await;
        let log = deliveries(&w.alpha_staff, endpoint).await;
        let d = &log[0];
        if d["status"] == "failed" {
            break;
        }
        let next = chrono::DateTime::parse_from_rfc3339(d["next_attempt_at"].as_str().unwrap())
            .unwrap()
            .timestamp();
        let now = w.app.clock.now_ns() / 1_000_000_000;
        waits.push(next - now);
        w.app.clock.advance(next - now);
    }
    let log = deliveries(&w.alpha_staff, endpoint).await;
    assert_eq!(log[0]["status"], "failed");
    assert_eq!(log[0]["attempts"], store::webhook::MAX_ATTEMPTS);
    assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920]);
    println!(
        "figures: backoff waits {waits:?} s, then failed after {} attempts",
        store::webhook::MAX_ATTEMPTS
    );
    w.app.stop().await;
}

async fn health_details_only_when_the_endpoint_opts_in(backend: Backend) {
    let w = world(backend).await;
    let plain = Receiver::start().await;
    let detailed = Receiver::start().await;
    register(
        &w.alpha_staff,
        &plain.url,
        &[Event::AppointmentBooked, Event::PatientCreated],
        false,
    )
    .await;
    register(
        &w.alpha_staff,
        &detailed.url,
        &[Event::AppointmentBooked, Event::PatientCreated],
        true,
    )
    .await;
    book(&w, "2026-03-02T10:00:00-05:00").await;
    w.alpha_staff
        .created(
            "/api/v1/orgs/alpha/patients",
            json!({"first_name": "Hepzibah", "last_name": "Quill", "email": "hq@example.com"}),
        )
        .await;
    deliver(&w.app).await;
    let plain_receiver = &plain;
    let (plain, detailed) = (plain.got(), detailed.got());
    assert_eq!((plain.len(), detailed.len()), (2, 2));
    for r in &plain {
        for word in [
            "Ysolde",
            "Farquhar",
            "Portal visit",
            "Hepzibah",
            "hq@example.com",
        ] {
            assert!(!r.body.contains(word), "{word} in {}", r.body);
        }
    }
    let booked = detailed[0].json();
    assert_eq!(booked["data"]["patient"]["first_name"], "Ysolde");
    assert_eq!(booked["data"]["service_name"], "Portal visit");
    let patient = detailed[1].json();
    assert_eq!(patient["type"], "patient.created");
    assert_eq!(patient["data"]["first_name"], "Hepzibah");
    // The same event, the same ids and times either way.
    assert_eq!(plain[0].json()["data"]["start"], booked["data"]["start"]);
    assert_ne!(plain[0].id, detailed[0].id, "one message per endpoint");
    // Who made the change: the staff member here, an API key below.
    assert!(
        plain[0].json()["data"]["by"]
            .as_str()
            .unwrap()
            .starts_with("staff:"),
        "{}",
        plain[0].body
    );
    let alpha = {
        let mut conn = w.app.db.conn().await.unwrap();
        store::organisation::by_slug(conn.exec(), "alpha")
            .await
            .unwrap()
            .unwrap()
    };
    let key = w.app.api_key(&alpha, &["appointments:write"]).await;
    let by_key = w
        .app
        .client()
        .keyed(
            &key,
            Method::POST,
            "/api/v1/orgs/alpha/appointments",
            Some(json!({"practitioner": number(&w.ids.practitioner),
                        "patient": number(&w.ids.patient),
                        "service": number(&w.ids.service), "start": "2026-03-03T09:00:00-05:00"})),
        )
        .await;
    assert_eq!(by_key.status, StatusCode::CREATED, "{}", by_key.body);
    deliver(&w.app).await;
    let got = plain_receiver.got();
    let last = got.last().unwrap().json();
    assert_eq!(last["type"], "appointment.booked");
    assert_eq!(
        last["data"]["by"].as_str().unwrap(),
        format!("key:{}", {
            let mut conn = w.app.db.conn().await.unwrap();
            store::api_key::by_token(conn.exec(), alpha.id, &key)
                .await
                .unwrap()
                .unwrap()
                .id
        })
    );
    w.app.stop().await;
}

async fn endpoints_are_the_admins_own_and_audited(backend: Backend) {
    let w = world(backend).await;
    let admin = &w.alpha_staff;
    let made = admin
        .created(
            "/api/v1/orgs/alpha/webhooks",
            json!({"name": "CRM", "url": "https://crm.example.com/hooks", "events": ["patient.created"]}),
        )
        .await;
    let id = made["endpoint"]["id"].as_i64().unwrap();
    // The secret: whsec_ and 32 random bytes in base64, shown once.
    let secret = made["secret"].as_str().unwrap();
    let bytes = secret.strip_prefix("whsec_").unwrap();
    use base64::Engine;
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(bytes)
            .unwrap()
            .len(),
        32
    );
    assert_eq!(made["endpoint"]["include_health_details"], false);
    assert_eq!(made["endpoint"]["enabled"], true);
    let shown = admin
        .api(
            Method::GET,
            &format!("/api/v1/orgs/alpha/webhooks/{id}"),
            None,
        )
        .await;
    assert!(!shown.body.contains(secret));
    let page = admin.get(&format!("/o/alpha/admin/webhooks/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains(secret));
    assert!(
        admin
            .get("/o/alpha/admin/setup")
            .await
            .contains("/o/alpha/admin/webhooks")
    );

    // Rotation: a new secret, and both sign for 24 hours.
    let rotated = admin
        .api(
            Method::POST,
            &format!("/api/v1/orgs/alpha/webhooks/{id}/rotate-secret"),
            None,
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    let new_secret = rotated.json()["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    assert_eq!(
        rotated.json()["previous_secret_until"],
        "2026-03-02T12:00:00Z"
    );
    let receiver = Receiver::start().await;
    let saved = admin
        .api(
            Method::PUT,
            &format!("/api/v1/orgs/alpha/webhooks/{id}"),
            Some(json!({"name": "CRM", "url": receiver.url, "events": ["patient.created", "setup.changed"]})),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    admin
        .api(
            Method::POST,
            &format!("/api/v1/orgs/alpha/webhooks/{id}/test"),
            None,
        )
        .await;
    deliver(&w.app).await;
    let got = receiver.got();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json()["type"], "webhook.test");
    let ts: i64 = got[0].timestamp.parse().unwrap();
    assert_eq!(
        got[0].signature,
        openslot_web::webhooks::sign(
            &[new_secret.clone(), secret.to_owned()],
            &got[0].id,
            ts,
            &got[0].body
        )
    );
    // A day later (the store queues the test: the admin's session has run out by then).
    w.app.clock.advance(24 * 3600 + 1);
    let mut tx = w.app.db.begin().await.unwrap();
    store::webhook::send_test(&mut tx, w.alpha.id, id, "system", w.app.clock.now_ns())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(deliver(&w.app).await.delivered, 1);
    w.app.clock.advance(-(24 * 3600 + 1));
    let last = receiver.got().pop().unwrap();
    assert!(
        !last.signature.contains(' '),
        "one signature after 24 h: {}",
        last.signature
    );

    // Bad input: 422 naming the field, nothing saved.
    for (body, field) in [
        (
            json!({"name": "", "url": "https://a.example.com", "events": ["patient.created"]}),
            "name",
        ),
        (
            json!({"name": "X", "url": "ftp://a.example.com", "events": ["patient.created"]}),
            "url",
        ),
        (
            json!({"name": "X", "url": "not a url", "events": ["patient.created"]}),
            "url",
        ),
        (
            json!({"name": "X", "url": "https://u:p@a.example.com", "events": ["patient.created"]}),
            "url",
        ),
        (
            json!({"name": "X", "url": "https://a.example.com", "events": []}),
            "events",
        ),
        (
            json!({"name": "X", "url": "https://a.example.com", "events": ["appointment.exploded"]}),
            "events",
        ),
    ] {
        let refused = admin
            .api(
                Method::POST,
                "/api/v1/orgs/alpha/webhooks",
                Some(body.clone()),
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            refused.body
        );
        assert_eq!(refused.json()["error"]["field"], field, "{body}");
    }
    let listed = admin
        .api(Method::GET, "/api/v1/orgs/alpha/webhooks", None)
        .await
        .json();
    assert_eq!(
        listed.as_array().unwrap().len(),
        2,
        "the world's and CRM: {listed}"
    );

    // Another organisation's admin: not found, whatever the route; front desk: refused.
    for (method, path) in [
        (Method::GET, format!("/api/v1/orgs/beta/webhooks/{id}")),
        (Method::PUT, format!("/api/v1/orgs/beta/webhooks/{id}")),
        (Method::DELETE, format!("/api/v1/orgs/beta/webhooks/{id}")),
        (
            Method::POST,
            format!("/api/v1/orgs/beta/webhooks/{id}/rotate-secret"),
        ),
        (
            Method::POST,
            format!("/api/v1/orgs/beta/webhooks/{id}/test"),
        ),
        (
            Method::GET,
            format!("/api/v1/orgs/beta/webhooks/{id}/deliveries"),
        ),
    ] {
        let body = (method == Method::PUT).then(
            || json!({"name": "X", "url": "https://a.example.com", "events": ["patient.created"]}),
        );
        let answer = w.beta_staff.api(method.clone(), &path, body).await;
        assert_eq!(
            answer.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {}",
            answer.body
        );
    }
    let desk = w.app.client();
    desk.sign_in("alpha", "front_desk-alpha@example.com", PASSWORD)
        .await;
    let refused = desk
        .api(Method::GET, "/api/v1/orgs/alpha/webhooks", None)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    // The page: add (secret shown once), edit, delete.
    let added = admin
        .post_form(
            "/o/alpha/admin/webhooks",
            &[
                ("name", "Page hook"),
                ("url", "https://page.example.com/in"),
                ("events", "appointment.booked"),
                ("events", "appointment.no_show"),
                ("enabled", "on"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    assert!(added.contains("whsec_"), "{}", added.body);
    let refused = admin
        .post_form(
            "/o/alpha/admin/webhooks",
            &[("name", "Page hook"), ("url", "https://p.example.com")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.contains("choose at least one event"),
        "{}",
        refused.body
    );
    let deleted = admin
        .post_form(&format!("/o/alpha/admin/webhooks/{id}/delete"), &[])
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    let gone = admin
        .api(
            Method::GET,
            &format!("/api/v1/orgs/alpha/webhooks/{id}"),
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);

    // Every change is in the audit log, without the secret.
    let log = admin
        .api(
            Method::GET,
            "/api/v1/orgs/alpha/audit?entity=webhook_endpoint&limit=100",
            None,
        )
        .await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.body);
    let actions: BTreeSet<String> = log.json()["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    for action in [
        "webhook.create",
        "webhook.update",
        "webhook.rotate_secret",
        "webhook.test",
        "webhook.delete",
    ] {
        assert!(actions.contains(action), "{action} in {actions:?}");
    }
    assert!(!log.body.contains("whsec_"));
    w.app.stop().await;
}

async fn a_production_server_refuses_plain_http_and_private_addresses(backend: Backend) {
    let app = TestApp::spawn_strict_webhooks(backend).await;
    let org = app.org("acme").await;
    let admin = app.signed_in(&org, store::staff::Role::Admin).await;
    for url in [
        "http://hooks.example.com/in",
        "https://127.0.0.1/in",
        "https://10.0.0.5/in",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/in",
        "https://localhost/in",
    ] {
        let refused = admin
            .api(
                Method::POST,
                "/api/v1/orgs/acme/webhooks",
                Some(json!({"name": "X", "url": url, "events": ["setup.changed"]})),
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        assert_eq!(refused.json()["error"]["field"], "url", "{url}");
    }
    // A public name is saved; at delivery the resolver refuses private addresses
    // (here: a name that resolves to loopback).
    let made = admin
        .created(
            "/api/v1/orgs/acme/webhooks",
            json!({"name": "X", "url": "https://localhost.example.com/in", "events": ["setup.changed"]}),
        )
        .await;
    assert_eq!(made["endpoint"]["url"], "https://localhost.example.com/in");
    let receiver = Receiver::start().await;
    let client = openslot_web::webhooks::client(false).unwrap();
    let refused = openslot_web::webhooks::resolve(&url::Host::Domain("localhost"), 443, false)
        .await
        .unwrap_err();
    assert!(refused.contains("private"), "{refused}");
    assert!(
        openslot_web::webhooks::resolve(&url::Host::Domain("localhost"), 443, true)
            .await
            .is_ok()
    );
    // An endpoint saved under another policy (here: straight into the store) to an IP
    // literal, which no resolver sees, is refused at delivery too.
    let mut tx = app.db.begin().await.unwrap();
    let input = store::webhook::EndpointInput::new(
        "Old",
        &receiver.url,
        vec![Event::SetupChanged],
        true,
        false,
    )
    .unwrap();
    let (old, _) = store::webhook::create(&mut tx, org.id, &input, "system", app.clock.now_ns())
        .await
        .unwrap();
    store::webhook::send_test(&mut tx, org.id, old.id, "system", app.clock.now_ns())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let pass = openslot_web::webhooks::sender::deliver_due(&app.db, app.clock.as_ref(), &client)
        .await
        .unwrap();
    assert_eq!(pass.retrying, 1, "{pass:?}");
    let log = admin
        .api(
            Method::GET,
            &format!("/api/v1/orgs/acme/webhooks/{}/deliveries", old.id),
            None,
        )
        .await
        .json();
    let error = log["deliveries"][0]["last_error"].as_str().unwrap();
    assert!(error.starts_with("refused: url:"), "{error}");
    assert!(receiver.got().is_empty());
    app.stop().await;
}

async fn several_senders_deliver_each_message_once_and_in_order(backend: Backend) {
    let w = world(backend).await;
    let receiver = Receiver::start().await;
    let events = [
        Event::AppointmentBooked,
        Event::AppointmentMoved,
        Event::AppointmentCancelled,
    ];
    register(&w.alpha_staff, &receiver.url, &events, false).await;
    let moves = [
        ("2026-03-02T09:30:00-05:00", "2026-03-03T09:00:00-05:00"),
        ("2026-03-02T10:00:00-05:00", "2026-03-03T09:30:00-05:00"),
        ("2026-03-02T10:30:00-05:00", "2026-03-03T10:30:00-05:00"),
    ];
    let mut ids = Vec::new();
    for (from, to) in moves {
        let id = book(&w, from).await;
        move_then_cancel(&w, id, to).await;
        ids.push(id);
    }
    // Four senders at once, as four servers on one database would run.
    let (a, b, c, d) = tokio::join!(
        deliver(&w.app),
        deliver(&w.app),
        deliver(&w.app),
        deliver(&w.app)
    );
    let sent = a.delivered + b.delivered + c.delivered + d.delivered;
    assert_eq!(sent, 9, "{a:?} {b:?} {c:?} {d:?}");
    let got = receiver.got();
    let unique: BTreeSet<&str> = got.iter().map(|r| r.id.as_str()).collect();
    assert_eq!((got.len(), unique.len()), (9, 9), "each message once");
    for id in ids {
        let types: Vec<String> = got
            .iter()
            .map(Received::json)
            .filter(|m| m["data"]["appointment_id"] == id)
            .map(|m| m["type"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            types,
            [
                "appointment.booked",
                "appointment.moved",
                "appointment.cancelled"
            ],
            "appointment {id}"
        );
    }
    println!(
        "figures: 4 concurrent senders delivered {sent} messages: {} / {} / {} / {}",
        a.delivered, b.delivered, c.delivered, d.delivered
    );
    w.app.stop().await;
}

/// The directory `scripts/webhook-tools` prints.
fn webhook_tools() -> String {
    std::env::var("WEBHOOK_TOOLS").expect(
        "WEBHOOK_TOOLS: run scripts/webhook-tools and set WEBHOOK_TOOLS to the directory it prints",
    )
}

const PYTHON_VERIFY: &str = r#"
import json, sys
from standardwebhooks.webhooks import Webhook
messages = json.load(open(sys.argv[1]))
for m in messages:
    for secret in m["secrets"]:
        headers = {"webhook-id": m["id"], "webhook-timestamp": m["timestamp"],
                   "webhook-signature": m["signature"]}
        event = Webhook(secret).verify(m["body"], headers)
        assert event["type"] == json.loads(m["body"])["type"]
    try:
        Webhook(m["secrets"][0]).verify(m["body"] + " ", headers)
        sys.exit("a changed body verified")
    except Exception:
        pass
print("python standardwebhooks verified", len(messages))
"#;

const NODE_VERIFY: &str = r#"
const fs = require("fs");
const { Webhook } = require(process.argv[2] + "/node_modules/standardwebhooks");
const messages = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
for (const m of messages) {
  const headers = { "webhook-id": m.id, "webhook-timestamp": m.timestamp, "webhook-signature": m.signature };
  for (const secret of m.secrets) {
    const event = new Webhook(secret).verify(m.body, headers);
    if (event.type !== JSON.parse(m.body).type) throw new Error("wrong type");
  }
  let refused = false;
  try { new Webhook(m.secrets[0]).verify(m.body + " ", headers); } catch (e) { refused = true; }
  if (!refused) throw new Error("a changed body verified");
}
console.log("node standardwebhooks verified", messages.length);
"#;

async fn signatures_verify_with_the_standardwebhooks_libraries(backend: Backend) {
    let tools = webhook_tools();
    let w = world(backend).await;
    let receiver = Receiver::start().await;
    let (endpoint, first) = register(&w.alpha_staff, &receiver.url, Event::ALL, true).await;
    w.alpha_staff
        .created(
            "/api/v1/orgs/alpha/patients",
            json!({"first_name": "Ünïcode", "last_name": "Ölsen", "email": "uo@example.com"}),
        )
        .await;
    let test = format!("/api/v1/orgs/alpha/webhooks/{endpoint}/test");
    w.alpha_staff.api(Method::POST, &test, None).await;
    // The libraries check the timestamp against their own clock: the server's is now
    // (which ends the admin's session: the rest goes through the store).
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    w.app.clock.set(now.parse().unwrap());
    assert_eq!(deliver(&w.app).await.delivered, 2);
    let mut tx = w.app.db.begin().await.unwrap();
    let now_ns = w.app.clock.now_ns();
    let second = store::webhook::rotate_secret(&mut tx, w.alpha.id, endpoint, "system", now_ns)
        .await
        .unwrap();
    store::webhook::send_test(&mut tx, w.alpha.id, endpoint, "system", now_ns)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(deliver(&w.app).await.delivered, 1);
    let got = receiver.got();
    assert_eq!(got.len(), 3);
    let messages: Vec<Value> = got
        .iter()
        .enumerate()
        .map(|(i, r)| {
            // After the rotation both secrets verify the message.
            let secrets = if i < 2 {
                vec![first.clone()]
            } else {
                vec![second.clone(), first.clone()]
            };
            json!({"id": r.id, "timestamp": r.timestamp, "signature": r.signature,
                   "body": r.body, "secrets": secrets})
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("messages.json");
    std::fs::write(&file, serde_json::to_string(&messages).unwrap()).unwrap();
    let python = std::process::Command::new(format!("{tools}/venv/bin/python3"))
        .arg("-c")
        .arg(PYTHON_VERIFY)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        python.status.success(),
        "{}",
        String::from_utf8_lossy(&python.stderr)
    );
    println!("{}", String::from_utf8_lossy(&python.stdout).trim());
    let node = std::process::Command::new("node")
        .arg("-e")
        .arg(NODE_VERIFY)
        .arg(&file)
        .arg(&tools)
        .output()
        .unwrap();
    assert!(
        node.status.success(),
        "{}",
        String::from_utf8_lossy(&node.stderr)
    );
    println!("{}", String::from_utf8_lossy(&node.stdout).trim());
    w.app.stop().await;
}

/// Several posts at once, fairly (outside review): while one delivery of an endpoint is
/// being sent, no other of that endpoint is claimed (a slow receiver holds up only
/// itself), and an organisation has at most `PER_ORGANISATION` posts in flight, so its
/// many slow endpoints cannot take every sender from the others.
async fn a_slow_endpoint_holds_up_only_itself(backend: Backend) {
    let w = world(backend).await;
    let receiver = Receiver::start().await;
    let mut endpoints = Vec::new();
    for _ in 0..6 {
        endpoints.push(
            register(
                &w.alpha_staff,
                &receiver.url,
                &[Event::AppointmentBooked],
                false,
            )
            .await
            .0,
        );
    }
    book(&w, "2026-03-03T09:00:00-05:00").await;
    book(&w, "2026-03-02T10:00:00-05:00").await;
    let now = w.app.clock.now_ns();
    let mut claimed = Vec::new();
    while let Some(c) = store::webhook::claim_next(&w.app.db, now).await.unwrap() {
        claimed.push(c.delivery.endpoint_id);
    }
    // Twelve deliveries wait (six endpoints, two bookings): one each of the first
    // endpoints, never two of one endpoint, and no more than the organisation's share.
    assert_eq!(
        claimed.len() as i64,
        store::webhook::PER_ORGANISATION,
        "{claimed:?}"
    );
    let distinct: BTreeSet<i64> = claimed.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        claimed.len(),
        "one endpoint claimed twice: {claimed:?}"
    );
    assert!(claimed.iter().all(|e| endpoints.contains(e)));
    // And an organisation has at most MAX_ENDPOINTS endpoints.
    let existing = w
        .alpha_staff
        .api(Method::GET, "/api/v1/orgs/alpha/webhooks", None)
        .await
        .json()
        .as_array()
        .unwrap()
        .len() as i64;
    for _ in existing..store::webhook::MAX_ENDPOINTS {
        register(
            &w.alpha_staff,
            &receiver.url,
            &[Event::AppointmentBooked],
            false,
        )
        .await;
    }
    let one_more = w
        .alpha_staff
        .api(
            Method::POST,
            "/api/v1/orgs/alpha/webhooks",
            Some(
                json!({"name": "One too many", "url": receiver.url, "include_health_details": false,
                        "events": ["appointment.booked"]}),
            ),
        )
        .await;
    assert_eq!(
        one_more.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        one_more.body
    );
    assert_eq!(one_more.json()["error"]["field"], "url");
    w.app.stop().await;
}

mod tools {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs python and npm standardwebhooks: set WEBHOOK_TOOLS (scripts/webhook-tools)"]
    async fn signatures_verify_with_the_standardwebhooks_libraries_on_sqlite() {
        super::signatures_verify_with_the_standardwebhooks_libraries(
            crate::support::Backend::Sqlite,
        )
        .await;
    }
}

both!(
    every_event_fires_from_every_channel_that_makes_it,
    retries_back_off_and_keep_each_appointments_order,
    health_details_only_when_the_endpoint_opts_in,
    endpoints_are_the_admins_own_and_audited,
    a_production_server_refuses_plain_http_and_private_addresses,
    a_reminders_cancel_link_fires_the_cancellation,
    several_senders_deliver_each_message_once_and_in_order,
    a_slow_endpoint_holds_up_only_itself,
);
