//! Weekly series over HTTP: the desk's API (preview, all or none, what fits, an
//! override per occurrence, this and following), the booking form's Repeat with its
//! preview, the appointment page's "this and following", the portal's weekly offer (and
//! its refusal for a service that does not allow series), and the calendar file with one
//! event per occurrence, read by python `icalendar` and npm `ical.js` (installed by
//! `scripts/ical-tools`, which the test command runs with the ignored tests).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use slot_engine::Scenario;
use store::Organisation;
use store::keys::Kind;
use store::staff::Role;

use crate::both;
use crate::support::{Backend, Client, TestApp};

/// London: Ana works Tuesdays 16:00–19:00 (the clocks go forward on 29 March 2026); 10
/// March is taken from 17:15 and 17 March is a holiday. "rehab" allows series online,
/// "single" does not.
fn london() -> Scenario {
    Scenario::from_json(
        json!({
            "version": 2,
            "settings": {"slot_step_minutes": 15, "max_days_ahead": 60},
            "clinics": [{"id": "london", "name": "London Bridge", "timezone": "Europe/London", "holidays": ["2026-03-17"]}],
            "schedule_types": [{"id": "physio", "name": "Physiotherapy", "clinic": "london"}],
            "practitioners": [
                {"id": "ana", "name": "Ana Silva", "type": "physio", "home_clinic": "london", "schedule_types": ["physio"],
                 "availability": [{"start_date": "2026-01-01",
                   "blocks": [{"days": ["tue"], "start": "16:00", "end": "19:00", "schedule_type": "physio"}]}]}
            ],
            "services": [
                {"id": "rehab", "name": "Rehabilitation session", "duration_minutes": 45, "book_from_portal": true,
                 "schedule_types": ["physio"], "allow_series": true},
                {"id": "single", "name": "Assessment", "duration_minutes": 45, "book_from_portal": true,
                 "schedule_types": ["physio"]}
            ],
            "patients": [
                {"id": "ada", "first_name": "Ada", "last_name": "Lane", "email": "ada@example.com"},
                {"id": "ben", "first_name": "Ben", "last_name": "Cho", "email": "ben@example.com"}
            ],
            "appointments": [{"id": "taken", "practitioner": "ana", "start": "2026-03-10T17:15:00Z", "end": "2026-03-10T18:00:00Z"}]
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap()
}

struct Ids {
    ana: i64,
    ada: i64,
    rehab: i64,
    single: i64,
}

async fn ids(app: &TestApp, org: &Organisation) -> Ids {
    Ids {
        ana: app.id(org, Kind::Practitioner, "ana").await,
        ada: app.id(org, Kind::Patient, "ada").await,
        rehab: app.id(org, Kind::Service, "rehab").await,
        single: app.id(org, Kind::Service, "single").await,
    }
}

async fn count(app: &TestApp, org: &Organisation) -> i64 {
    let mut conn = app.db.conn().await.unwrap();
    store::appointment::count(conn.exec(), org.id)
        .await
        .unwrap()
}

/// Five Tuesdays at 17:00 London from 3 March 2026.
fn five_tuesdays(i: &Ids) -> Value {
    json!({
        "practitioner": i.ana, "patient": i.ada, "service": i.rehab,
        "start": "2026-03-03T17:00:00+00:00", "every_weeks": 1, "count": 5
    })
}

async fn the_desk_api_previews_and_books_a_series(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("london", &london()).await;
    let desk = app.signed_in(&org, Role::FrontDesk).await;
    let i = ids(&app, &org).await;
    let preview = desk
        .api(
            Method::POST,
            "/api/v1/orgs/london/series/preview",
            Some(five_tuesdays(&i)),
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    let p = preview.json();
    assert_eq!(p["timezone"], "Europe/London");
    assert_eq!(p["bookable"], false);
    let seen: Vec<(String, String)> = p["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["start"].as_str().unwrap().to_owned(),
                o["verdict"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("2026-03-03T17:00:00+00:00".to_owned(), "open".to_owned()),
            (
                "2026-03-10T17:00:00+00:00".to_owned(),
                "needs_override".to_owned()
            ),
            (
                "2026-03-17T17:00:00+00:00".to_owned(),
                "needs_override".to_owned()
            ),
            ("2026-03-24T17:00:00+00:00".to_owned(), "open".to_owned()),
            ("2026-03-31T17:00:00+01:00".to_owned(), "open".to_owned()),
        ]
    );
    // All or none (the default): 409 listing every occurrence, nothing booked.
    let refused = desk
        .api(
            Method::POST,
            "/api/v1/orgs/london/series",
            Some(five_tuesdays(&i)),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert_eq!(
        refused.json()["error"]["details"]["occurrences"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(count(&app, &org).await, 1);
    // An override for the 10th, the holiday left out.
    let mut body = five_tuesdays(&i);
    body["unfit"] = json!("skip");
    body["overrides"] = json!([{"date": "2026-03-10", "reason": "squeezed in before the next"}]);
    let created = desk.created("/api/v1/orgs/london/series", body).await;
    let starts: Vec<&str> = created["appointments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["start"].as_str().unwrap())
        .collect();
    assert_eq!(
        starts,
        [
            "2026-03-03T17:00:00+00:00",
            "2026-03-10T17:00:00+00:00",
            "2026-03-24T17:00:00+00:00",
            "2026-03-31T17:00:00+01:00"
        ]
    );
    assert_eq!(
        created["appointments"][1]["override_reason"],
        "squeezed in before the next"
    );
    assert_eq!(created["skipped"][0]["date"], "2026-03-17");
    assert_eq!(created["every_weeks"], 1);
    // The patient gets one email listing every occurrence, with one event each.
    let mail = app.mail("ada@example.com").await;
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert!(mail[0].subject.starts_with("4 appointments confirmed"));
    assert!(
        mail[0].body_text.contains("Tue 31 Mar 2026, 17:00 BST"),
        "{}",
        mail[0].body_text
    );
    let ics = mail[0].ics.as_deref().unwrap();
    assert_eq!(ics.matches("BEGIN:VEVENT\r\n").count(), 4);
    // The series, read back.
    let id = created["id"].as_i64().unwrap();
    let got = desk
        .api(
            Method::GET,
            &format!("/api/v1/orgs/london/series/{id}"),
            None,
        )
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.json()["appointments"].as_array().unwrap().len(), 4);
    // This and following, from the third: two cancelled, one email.
    let third = created["appointments"][2]["id"].as_i64().unwrap();
    let cancelled = desk
        .api(
            Method::POST,
            &format!(
                "/api/v1/orgs/london/appointments/{third}/cancel-following?reason=moving%20away"
            ),
            None,
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    let statuses: Vec<String> = cancelled
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(statuses, ["cancelled", "cancelled"]);
    let mail = app.mail("ada@example.com").await;
    assert_eq!(mail.len(), 2);
    assert!(mail[0].subject.starts_with("2 appointments cancelled"));
    assert!(mail[0].ics.as_deref().unwrap().contains("METHOD:CANCEL"));
    // Move this and following, from the first: 30 minutes later each.
    let first = created["appointments"][0]["id"].as_i64().unwrap();
    let moved = desk
        .api(
            Method::POST,
            &format!("/api/v1/orgs/london/appointments/{first}/move-following"),
            Some(json!({"start": "2026-03-03T16:00:00+00:00"})),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    let starts: Vec<String> = moved
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["start"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        starts,
        ["2026-03-03T16:00:00+00:00", "2026-03-10T16:00:00+00:00"]
    );
    app.stop().await;
}

async fn the_desk_api_finds_nothing_of_another_organisation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("london", &london()).await;
    let other = app.import("other", &london()).await;
    let desk = app.signed_in(&org, Role::FrontDesk).await;
    let theirs = app.signed_in(&other, Role::FrontDesk).await;
    let i = ids(&app, &org).await;
    let o = ids(&app, &other).await;
    let mut body = five_tuesdays(&o);
    body["unfit"] = json!("skip");
    let created = theirs.created("/api/v1/orgs/other/series", body).await;
    let before = (count(&app, &org).await, count(&app, &other).await);
    // Their practitioner (or patient, or service) in our request: not found.
    for (field, value) in [
        ("practitioner", o.ana),
        ("patient", o.ada),
        ("service", o.rehab),
    ] {
        let mut body = five_tuesdays(&i);
        body[field] = json!(value);
        for path in [
            "/api/v1/orgs/london/series/preview",
            "/api/v1/orgs/london/series",
        ] {
            let refused = desk.api(Method::POST, path, Some(body.clone())).await;
            assert_eq!(
                refused.status,
                StatusCode::NOT_FOUND,
                "{field} {path}: {}",
                refused.body
            );
        }
    }
    // Their series and occurrences through our organisation.
    let id = created["id"].as_i64().unwrap();
    let first = created["appointments"][0]["id"].as_i64().unwrap();
    assert_eq!(
        desk.api(
            Method::GET,
            &format!("/api/v1/orgs/london/series/{id}"),
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    for path in [
        format!("/api/v1/orgs/london/appointments/{first}/cancel-following"),
        format!("/api/v1/orgs/london/appointments/{first}/move-following"),
    ] {
        let body = path
            .ends_with("move-following")
            .then(|| json!({"start": "2026-03-03T16:00:00+00:00"}));
        let refused = desk.api(Method::POST, &path, body).await;
        assert_eq!(
            refused.status,
            StatusCode::NOT_FOUND,
            "{path}: {}",
            refused.body
        );
    }
    assert_eq!((count(&app, &org).await, count(&app, &other).await), before);
    // Without the CSRF token nothing is booked.
    let no_token = desk
        .http
        .post(desk.url("/api/v1/orgs/london/series"))
        .json(&five_tuesdays(&i))
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), StatusCode::FORBIDDEN);
    assert_eq!(count(&app, &org).await, before.0);
    app.stop().await;
}

fn form<'a>(i: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
    i.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

async fn the_booking_form_previews_then_books_a_series(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("london", &london()).await;
    let desk = app.signed_in(&org, Role::FrontDesk).await;
    let i = ids(&app, &org).await;
    let mut fields = vec![
        ("practitioner", i.ana.to_string()),
        ("patient", i.ada.to_string()),
        ("service", i.rehab.to_string()),
        ("date", "2026-03-03".to_owned()),
        ("time", "17:00".to_owned()),
        ("telehealth", "0".to_owned()),
        ("idempotency_key", "form-series-1".to_owned()),
        ("repeat", "1".to_owned()),
        ("repeat_end", "count".to_owned()),
        ("repeat_count", "5".to_owned()),
        ("action", "book".to_owned()),
    ];
    // "Book" with a repeat previews: nothing is booked yet.
    let preview = desk
        .post_form("/o/london/admin/book/new", &form(&fields))
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    for text in [
        "The series: 5 occurrences",
        "Tue 3 Mar 2026",
        "Tue 31 Mar 2026",
        "17:00 BST",
        "Needs an override",
        "3 of 5 can be booked as they are",
        "Book the series",
    ] {
        assert!(preview.contains(text), "{text}: {}", preview.body);
    }
    assert_eq!(count(&app, &org).await, 1);
    // Book: all or nothing refuses, and says so again.
    fields.retain(|(k, _)| *k != "action");
    fields.push(("action", "book_series".to_owned()));
    let refused = desk
        .post_form("/o/london/admin/book/new", &form(&fields))
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert_eq!(count(&app, &org).await, 1);
    // Ticked without a reason: refused naming the date.
    fields.push(("unfit", "skip".to_owned()));
    fields.push(("override_date", "2026-03-10".to_owned()));
    let no_reason = desk
        .post_form("/o/london/admin/book/new", &form(&fields))
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_reason.contains("2026-03-10"), "{}", no_reason.body);
    assert_eq!(count(&app, &org).await, 1);
    fields.push(("override_reason_2026-03-10", "agreed with Ana".to_owned()));
    let booked = desk
        .post_form("/o/london/admin/book/new", &form(&fields))
        .await;
    assert_eq!(booked.status, StatusCode::SEE_OTHER, "{}", booked.body);
    // One occurrence was left out, as chosen, and the page says so.
    assert!(booked.location().ends_with("?notice=series_booked_partly"));
    assert_eq!(count(&app, &org).await, 5);
    // The appointment's page lists the series and offers this and following.
    let page = desk.get(&booked.location()).await;
    for text in [
        "Series booked without the occurrences left out",
        "booked every week: 4 appointments",
        "Move this and following",
        "Cancel the 4 still to come from this one",
    ] {
        assert!(page.contains(text), "{text}: {}", page.body);
    }
    let first = booked
        .location()
        .trim_end_matches("?notice=series_booked_partly")
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    // Move this and following to 16:00: the override booked on the 10th moves too.
    let moved = desk
        .post_form(
            &format!("/o/london/admin/book/appointments/{first}/move-following"),
            &[("date", "2026-03-03"), ("time", "16:00")],
        )
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    let page = desk.get(&moved.location()).await;
    assert!(page.contains("are moved"), "{}", page.body);
    assert!(page.contains("Tue 31 Mar 2026, 16:00"), "{}", page.body);
    // Cancel this and following.
    let cancelled = desk
        .post_form(
            &format!("/o/london/admin/book/appointments/{first}/cancel-following"),
            &[("reason", "")],
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::SEE_OTHER);
    let mut conn = app.db.conn().await.unwrap();
    let left = store::appointment::in_range(conn.exec(), &org, 0, i64::MAX, None)
        .await
        .unwrap()
        .iter()
        .filter(|a| a.status != store::AppointmentStatus::Cancelled)
        .count();
    assert_eq!(left, 1, "only the taken one");
    app.stop().await;
}

/// Whether the store keeps `services.allow_series` (its column lands with the buffers
/// of issue 15): the portal books series only for a service that allows them.
async fn store_keeps_allow_series(app: &TestApp, org: &Organisation) -> bool {
    let mut conn = app.db.conn().await.unwrap();
    store::transfer::export(&mut conn.exec(), org)
        .await
        .unwrap()
        .services
        .iter()
        .any(|s| s.allow_series)
}

async fn portal_patient(app: &TestApp, org: &Organisation) -> Client {
    let desk = app.signed_in(org, Role::FrontDesk).await;
    app.portal_patient(org, &desk, "ada").await
}

fn confirm(service: i64, ana: i64, start: &str, weeks: Option<u32>) -> String {
    format!(
        "/o/london/portal/book/{service}/confirm?practitioner={ana}&start={}{}",
        start.replace('+', "%2B"),
        weeks.map(|w| format!("&weeks={w}")).unwrap_or_default()
    )
}

async fn the_portal_offers_series_only_where_the_service_allows_them(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("london", &london()).await;
    let ada = portal_patient(&app, &org).await;
    let i = ids(&app, &org).await;
    let start = "2026-03-24T17:00:00+00:00";
    // "Assessment" does not allow series: no offer, and a series is refused.
    let page = ada.get(&confirm(i.single, i.ana, start, None)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.contains("Book this time weekly"), "{}", page.body);
    let refused = ada
        .post_form(
            &format!("/o/london/portal/book/{}/series", i.single),
            &[
                ("practitioner", &i.ana.to_string()),
                ("start", start),
                ("weeks", "3"),
            ],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.contains("cannot be booked online as a series"),
        "{}",
        refused.body
    );
    // The API says the same.
    let refused = ada
        .api(
            Method::POST,
            "/api/v1/orgs/london/portal/series",
            Some(json!({"service": i.single, "practitioner": i.ana, "start": start, "weeks": 3})),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(refused.json()["error"]["field"], "service");
    assert_eq!(count(&app, &org).await, 1);
    if !store_keeps_allow_series(&app, &org).await {
        eprintln!("the rest waits for services.allow_series to be stored (migration 0022)");
        app.stop().await;
        return;
    }
    // "Rehabilitation session" does: 2 to 5 weeks fit in the 60 days ahead? From 24
    // March, the last may be on 30 April: 6 weeks.
    let page = ada.get(&confirm(i.rehab, i.ana, start, None)).await;
    assert!(page.contains("Book this time weekly for"), "{}", page.body);
    assert!(
        page.contains(">6 weeks<") && !page.contains(">7 weeks<"),
        "{}",
        page.body
    );
    // Three weeks from the 3rd: the 10th is taken, the 17th a holiday: nothing can be
    // booked, and the page says which and why.
    let early = "2026-03-03T17:00:00+00:00";
    let page = ada.get(&confirm(i.rehab, i.ana, early, Some(3))).await;
    assert!(page.contains("Not every week is free"), "{}", page.body);
    assert!(!page.contains("Book all 3"));
    let refused = ada
        .post_form(
            &format!("/o/london/portal/book/{}/series", i.rehab),
            &[
                ("practitioner", &i.ana.to_string()),
                ("start", early),
                ("weeks", "3"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(
        refused.contains("Tuesday 10 March 2026"),
        "{}",
        refused.body
    );
    assert_eq!(count(&app, &org).await, 1);
    // From the 24th for 3 weeks, across the clocks going forward: all free.
    let page = ada.get(&confirm(i.rehab, i.ana, start, Some(3))).await;
    assert!(page.contains("Book all 3"), "{}", page.body);
    let booked = ada
        .post_form(
            &format!("/o/london/portal/book/{}/series", i.rehab),
            &[
                ("practitioner", &i.ana.to_string()),
                ("start", start),
                ("weeks", "3"),
                ("idempotency_key", "portal-series"),
            ],
        )
        .await;
    assert_eq!(booked.status, StatusCode::SEE_OTHER, "{}", booked.body);
    assert_eq!(count(&app, &org).await, 4);
    let page = ada.get(&booked.location()).await;
    for text in [
        "Tuesday 24 March 2026, 17:00",
        "Tuesday 31 March 2026, 17:00",
        "Tuesday 7 April 2026, 17:00",
        "Add all to calendar",
    ] {
        assert!(page.contains(text), "{text}: {}", page.body);
    }
    let mail = app.mail("ada@example.com").await;
    let confirmation = &mail[0];
    assert!(confirmation.subject.starts_with("3 appointments"));
    assert_eq!(
        confirmation
            .ics
            .as_deref()
            .unwrap()
            .matches("BEGIN:VEVENT")
            .count(),
        3
    );
    let calendar = ada
        .get(&format!("{}/calendar.ics", booked.location()))
        .await;
    assert_eq!(calendar.status, StatusCode::OK);
    assert_eq!(calendar.body.matches("BEGIN:VEVENT").count(), 3);
    // The API books all or none too, and reads one's own series.
    let body = |start: &str| json!({"service": i.rehab, "practitioner": i.ana, "start": start, "weeks": 2});
    let preview = ada
        .api(
            Method::POST,
            "/api/v1/orgs/london/portal/series/preview",
            Some(body(early)),
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert_eq!(preview.json()["occurrences"][1]["verdict"], "refused");
    let refused = ada
        .api(
            Method::POST,
            "/api/v1/orgs/london/portal/series",
            Some(body(early)),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert_eq!(count(&app, &org).await, 4);
    let later = "2026-04-14T16:00:00+00:00";
    let created = ada
        .created("/api/v1/orgs/london/portal/series", body(later))
        .await;
    assert_eq!(created["appointments"].as_array().unwrap().len(), 2);
    let id = created["id"].as_i64().unwrap();
    let mine = ada
        .api(
            Method::GET,
            &format!("/api/v1/orgs/london/portal/series/{id}"),
            None,
        )
        .await;
    assert_eq!(mine.status, StatusCode::OK);
    // Another patient cannot see either.
    let desk = app.signed_in(&org, Role::Admin).await;
    let ben = app.portal_patient(&org, &desk, "ben").await;
    assert_eq!(
        ben.get(&booked.location()).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        ben.api(
            Method::GET,
            &format!("/api/v1/orgs/london/portal/series/{id}"),
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    app.stop().await;
}

/// A calendar of a series, as the emails and the portal send it.
fn series_calendar() -> String {
    use openslot_web::ics::{IcsAppointment, IcsMethod, appointments};
    let week = 7 * 86_400_000_000_000_i64;
    // Tuesdays at 17:00 London from 17 March 2026, across the clocks going forward.
    let first_ns = 1_773_766_800_000_000_000; // 2026-03-17T17:00:00Z
    let events: Vec<IcsAppointment> = (0..4)
        .map(|k| {
            // After 29 March, 17:00 London is 16:00 UTC.
            let start = first_ns + k * week - if k >= 2 { 3_600_000_000_000 } else { 0 };
            IcsAppointment {
                appointment_id: 100 + k,
                start_ns: start,
                end_ns: start + 45 * 60_000_000_000,
                zone: chrono_tz::Europe::London,
                location: "London Bridge, 1 Tooley St".into(),
                video_link: None,
                practitioner_name: "Ana Silva".into(),
                service_name: "Rehabilitation session".into(),
                patient_name: "Ada Lane".into(),
                patient_email: "ada@example.com".into(),
                organiser_name: "London Physio".into(),
                organiser_email: "no-reply@book.example.com".into(),
                public_url: "https://book.example.com".into(),
                sequence: 0,
                stamp_ns: 1_772_366_400_000_000_000,
            }
        })
        .collect();
    appointments(&events, IcsMethod::Request)
}

/// What a parser should read: each event's UID and its start in UTC.
const EXPECTED: [(&str, &str); 4] = [
    ("appointment-100@book.example.com", "2026-03-17T17:00:00Z"),
    ("appointment-101@book.example.com", "2026-03-24T17:00:00Z"),
    ("appointment-102@book.example.com", "2026-03-31T16:00:00Z"),
    ("appointment-103@book.example.com", "2026-04-07T16:00:00Z"),
];

#[test]
fn a_series_calendar_has_one_event_per_occurrence_and_one_zone() {
    let text = series_calendar();
    assert_eq!(text.matches("BEGIN:VEVENT\r\n").count(), 4);
    assert_eq!(text.matches("BEGIN:VTIMEZONE\r\n").count(), 1);
    assert!(text.find("BEGIN:VTIMEZONE").unwrap() < text.find("BEGIN:VEVENT").unwrap());
    for (uid, _) in EXPECTED {
        assert!(text.contains(&format!("UID:{uid}\r\n")), "{uid}");
    }
    // 17:00 London every time, in both offsets.
    assert_eq!(
        text.matches("DTSTART;TZID=Europe/London:").count(),
        4,
        "{text}"
    );
    assert!(text.contains("DTSTART;TZID=Europe/London:20260331T170000\r\n"));
    // The zone's observances cover the change of the clocks between them.
    assert!(text.contains("BEGIN:DAYLIGHT\r\n") && text.contains("BEGIN:STANDARD\r\n"));
}

/// Runs a program on the calendar (on standard input) if it is installed; its output is
/// one `UID START` line per event, in UTC.
fn parsed_by(program: &str, args: &[&str], text: &str) -> Option<String> {
    use std::io::Write;
    let mut child = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(text.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        // A missing library is "not installed"; anything else is a failure.
        if err.contains("No module named") || err.contains("Cannot find module") {
            return None;
        }
        panic!("{program} failed: {err}");
    }
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn expected_lines() -> String {
    EXPECTED
        .iter()
        .map(|(uid, start)| format!("{uid} {start}\n"))
        .collect()
}

/// The directory `scripts/ical-tools` installed the two calendar readers in.
fn ical_tools() -> String {
    std::env::var("ICAL_TOOLS")
        .expect("ICAL_TOOLS: run scripts/ical-tools and set ICAL_TOOLS to the directory it prints")
}

/// Each event's UID and start in UTC, one a line, as python `icalendar` reads `text`.
pub(crate) fn python_starts(text: &str) -> String {
    let script = "import sys, datetime\n\
        from icalendar import Calendar\n\
        cal = Calendar.from_ical(sys.stdin.read())\n\
        for e in cal.walk('VEVENT'):\n\
        \x20   s = e.decoded('DTSTART').astimezone(datetime.timezone.utc)\n\
        \x20   print(str(e['UID']), s.strftime('%Y-%m-%dT%H:%M:%SZ'))\n";
    let python = format!("{}/venv/bin/python3", ical_tools());
    parsed_by(&python, &["-c", script], text).expect("python icalendar is installed in ICAL_TOOLS")
}

/// Each event's UID and start in UTC, one a line, as npm `ical.js` reads `text`.
pub(crate) fn ical_js_starts(text: &str) -> String {
    let dir = ical_tools();
    let script = format!(
        "const loaded = require({:?}); const ICAL = loaded.default || loaded;\n\
         let text = ''; process.stdin.on('data', d => text += d);\n\
         process.stdin.on('end', () => {{\n\
           const comp = new ICAL.Component(ICAL.parse(text));\n\
           for (const tz of comp.getAllSubcomponents('vtimezone')) ICAL.TimezoneService.register(tz);\n\
           for (const v of comp.getAllSubcomponents('vevent')) {{\n\
             const e = new ICAL.Event(v);\n\
             const s = e.startDate.toJSDate().toISOString().replace('.000Z', 'Z');\n\
             console.log(e.uid + ' ' + s);\n\
           }}\n\
         }});\n",
        format!("{dir}/node_modules/ical.js")
    );
    parsed_by("node", &["-e", &script], text).expect("node and ical.js are installed in ICAL_TOOLS")
}

#[test]
#[ignore = "needs python icalendar and npm ical.js: set ICAL_TOOLS (scripts/ical-tools)"]
fn python_icalendar_reads_every_occurrence() {
    assert_eq!(python_starts(&series_calendar()), expected_lines());
}

#[test]
#[ignore = "needs python icalendar and npm ical.js: set ICAL_TOOLS (scripts/ical-tools)"]
fn ical_js_reads_every_occurrence() {
    assert_eq!(ical_js_starts(&series_calendar()), expected_lines());
}

both!(
    the_desk_api_previews_and_books_a_series,
    the_desk_api_finds_nothing_of_another_organisation,
    the_booking_form_previews_then_books_a_series,
    the_portal_offers_series_only_where_the_service_allows_them,
);
