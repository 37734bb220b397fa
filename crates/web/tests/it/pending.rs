//! Pending portal bookings: listed with patient, practitioner, service and time;
//! accepted or declined with a note, through the page and the API; front desk only;
//! another organisation's are not found.

use reqwest::{Method, StatusCode};
use serde_json::json;
use store::Organisation;
use store::appointment::{PortalBooking, PortalOutcome};
use store::keys::Kind;
use store::staff::Role;

use crate::book::{audit, basic, id};
use crate::both;
use crate::support::{Backend, TestApp};

/// The emails queued for `to`, oldest first.
async fn mail_to(app: &TestApp, to: &str) -> Vec<store::outbox::Message> {
    let mut conn = app.db.conn().await.unwrap();
    let mut messages = store::outbox::to_address(conn.exec(), to, 20)
        .await
        .unwrap();
    messages.sort_by_key(|m| m.id);
    messages
}

/// `basic.json` imported with portal bookings waiting for staff.
async fn clinic_without_auto_accept(app: &TestApp, slug: &str) -> Organisation {
    let org = app.import(slug, &basic()).await;
    let mut settings = org.settings();
    settings.auto_accept_portal_bookings = false;
    let mut tx = app.db.begin().await.unwrap();
    store::organisation::update_settings(&mut tx, org.id, &settings)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut conn = app.db.conn().await.unwrap();
    store::organisation::by_id(conn.exec(), org.id)
        .await
        .unwrap()
}

/// A portal booking by `patient` with Christine for the initial assessment.
async fn portal_booking(app: &TestApp, org: &Organisation, patient: &str, start: &str) -> i64 {
    let booked = store::appointment::book_portal(
        &app.db,
        org,
        &PortalBooking {
            patient: id(app, org, Kind::Patient, patient).await,
            service: id(app, org, Kind::Service, "initial").await,
            practitioner: id(app, org, Kind::Practitioner, "christine").await,
            start: start.parse().unwrap(),
            telehealth: false,
            idempotency_key: None,
        },
        app.clock.as_ref(),
        None,
    )
    .await;
    let Ok(PortalOutcome::Booked(booked)) = booked else {
        panic!("expected a booking, got {booked:?}");
    };
    assert_eq!(booked.appointment.status, store::AppointmentStatus::Pending);
    booked.appointment.id
}

async fn the_front_desk_accepts_and_declines_pending_bookings_with_a_note(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = clinic_without_auto_accept(&app, "acme").await;
    let monday = portal_booking(&app, &org, "ada", "2026-03-02T10:00:00-05:00").await;
    let wednesday = portal_booking(&app, &org, "bo", "2026-03-04T10:00:00-05:00").await;
    let client = app.signed_in(&org, Role::FrontDesk).await;

    let page = client.get("/o/acme/admin/pending").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for text in [
        "Ada Lane",
        "Bo Reyes",
        "christine",
        "Initial assessment",
        "Mon 2 Mar 2026",
        "10:00–10:45",
    ] {
        assert!(page.contains(text), "{text}: {}", page.body);
    }
    let list = client
        .api(Method::GET, "/api/v1/orgs/acme/appointments/pending", None)
        .await;
    assert_eq!(list.status, StatusCode::OK);
    let ids: Vec<i64> = list
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [monday, wednesday]);

    // Accept from the page, with a note for the patient.
    let accepted = client
        .post_form(
            &format!("/o/acme/admin/pending/{monday}"),
            &[("decision", "accept"), ("note", "See you Monday")],
        )
        .await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER);
    let page = client.get(&accepted.location()).await;
    assert!(
        page.contains("Accepted: Ada Lane with christine, Mon 2 Mar 2026, 10:00–10:45."),
        "{}",
        page.body
    );
    assert!(!page.contains(&format!("/admin/pending/{monday}\"")));
    let one = client
        .api(
            Method::GET,
            &format!("/api/v1/orgs/acme/appointments/{monday}"),
            None,
        )
        .await
        .json();
    assert_eq!(one["status"], "booked");
    assert_eq!(one["status_note"], "See you Monday");
    let trail = audit(&app, &org, "appointment", monday).await;
    assert_eq!(trail.last().unwrap().0, "appointment.accept");
    assert_eq!(trail.last().unwrap().1["note"], "See you Monday");
    // Ada is told, with the note and the invitation for her calendar.
    let ada_mail = mail_to(&app, "ada@example.com").await;
    let confirmed = ada_mail.last().expect("an email to Ada");
    assert!(
        confirmed.subject.starts_with("Appointment confirmed"),
        "{}",
        confirmed.subject
    );
    assert!(confirmed.body_text.contains("See you Monday"));
    assert!(
        confirmed
            .ics
            .as_deref()
            .is_some_and(|i| i.contains("METHOD:REQUEST"))
    );

    // Decline through the API: cancelled, the slot freed.
    let declined = client
        .api(
            Method::POST,
            &format!("/api/v1/orgs/acme/appointments/{wednesday}/decline"),
            Some(json!({"note": "Christine is away that day"})),
        )
        .await;
    assert_eq!(declined.status, StatusCode::OK, "{}", declined.body);
    assert_eq!(declined.json()["status"], "cancelled");
    assert_eq!(declined.json()["status_note"], "Christine is away that day");
    let bo_mail = mail_to(&app, "bo@example.com").await;
    let refusal = bo_mail.last().expect("an email to Bo");
    assert!(
        refusal.subject.starts_with("Appointment request declined"),
        "{}",
        refusal.subject
    );
    assert!(refusal.body_text.contains("Christine is away that day"));
    assert!(refusal.ics.is_none(), "nothing was in Bo's calendar");
    assert_eq!(
        client
            .api(Method::GET, "/api/v1/orgs/acme/appointments/pending", None)
            .await
            .json(),
        json!([])
    );
    assert!(
        client
            .get("/o/acme/admin/pending")
            .await
            .contains("No pending bookings.")
    );

    // What is no longer pending cannot be decided again; nothing changes.
    let again = client
        .api(
            Method::POST,
            &format!("/api/v1/orgs/acme/appointments/{monday}/decline"),
            Some(json!({})),
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(again.json()["error"]["field"], "status");
    let page = client
        .post_form(
            &format!("/o/acme/admin/pending/{wednesday}"),
            &[("decision", "accept")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Nothing was changed"));
    assert_eq!(
        mail_to(&app, "bo@example.com").await.len(),
        bo_mail.len(),
        "no email for a refused decision"
    );
    let one = client
        .api(
            Method::GET,
            &format!("/api/v1/orgs/acme/appointments/{monday}"),
            None,
        )
        .await
        .json();
    assert_eq!(one["status"], "booked");
    // A note too long is refused naming the field.
    let third = portal_booking(&app, &org, "ada", "2026-03-09T10:00:00-05:00").await;
    let long = client
        .api(
            Method::POST,
            &format!("/api/v1/orgs/acme/appointments/{third}/accept"),
            Some(json!({"note": "x".repeat(1001)})),
        )
        .await;
    assert_eq!(long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(long.json()["error"]["field"], "note");
    app.stop().await;
}

async fn only_the_front_desk_decides_and_only_in_its_organisation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = clinic_without_auto_accept(&app, "acme").await;
    let other = clinic_without_auto_accept(&app, "other").await;
    let theirs = portal_booking(&app, &other, "ada", "2026-03-02T10:00:00-05:00").await;
    let ours = portal_booking(&app, &acme, "ada", "2026-03-02T10:00:00-05:00").await;
    let practitioner = app.signed_in(&acme, Role::Practitioner).await;
    assert_eq!(
        practitioner
            .api(Method::GET, "/api/v1/orgs/acme/appointments/pending", None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        practitioner
            .api(
                Method::POST,
                &format!("/api/v1/orgs/acme/appointments/{ours}/accept"),
                Some(json!({}))
            )
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        practitioner.get("/o/acme/admin/pending").await.status,
        StatusCode::FORBIDDEN
    );
    let admin = app.signed_in(&acme, Role::Admin).await;
    let list = admin
        .api(Method::GET, "/api/v1/orgs/acme/appointments/pending", None)
        .await
        .json();
    assert_eq!(list.as_array().unwrap().len(), 1, "only acme's");
    let refused = admin
        .api(
            Method::POST,
            &format!("/api/v1/orgs/acme/appointments/{theirs}/accept"),
            Some(json!({})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    let page = admin
        .post_form(
            &format!("/o/acme/admin/pending/{theirs}"),
            &[("decision", "decline")],
        )
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let mut conn = app.db.conn().await.unwrap();
    assert_eq!(
        store::appointment::get(conn.exec(), other.id, theirs)
            .await
            .unwrap()
            .status,
        store::AppointmentStatus::Pending
    );
    app.stop().await;
}

both!(
    the_front_desk_accepts_and_declines_pending_bookings_with_a_note,
    only_the_front_desk_decides_and_only_in_its_organisation,
);
