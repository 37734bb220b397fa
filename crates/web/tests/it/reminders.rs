//! Reminders (issue 17): the scheduler's email and its links — confirm, cancel, and
//! every refused state (used, moved, too late, another organisation, a forged token)
//! — the book and the API showing confirmed, and the settings page and API with their
//! field errors and audit.

use reqwest::{Method, StatusCode};
use serde_json::json;
use store::appointment::{Move, PortalBooking, PortalOutcome};
use store::keys::Kind;
use store::staff::Role;
use store::{AppointmentStatus, Organisation};

use crate::book::{audit, basic, id};
use crate::both;
use crate::support::{Backend, TestApp};

/// `basic.json` with Ada booked by the portal on Monday 2 March 10:00 Toronto (27
/// hours after the test clock), and reminders at 48 h and 2 h saved through the API:
/// the 48 h one is due at once.
async fn reminded(app: &TestApp, slug: &str) -> (Organisation, i64) {
    let org = app.import(slug, &basic()).await;
    let admin = app.signed_in(&org, Role::Admin).await;
    let saved = admin
        .api(
            Method::PUT,
            &format!("/api/v1/orgs/{slug}/reminder-settings"),
            Some(json!({"offsets_minutes": [120, 2880], "no_show_pending_after": null})),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(saved.json()["offsets_minutes"], json!([2880, 120]));
    let booked = store::appointment::book_portal(
        &app.db,
        &org,
        &PortalBooking {
            patient: id(app, &org, Kind::Patient, "ada").await,
            service: id(app, &org, Kind::Service, "initial").await,
            practitioner: id(app, &org, Kind::Practitioner, "christine").await,
            start: "2026-03-02T10:00:00-05:00".parse().unwrap(),
            telehealth: false,
            idempotency_key: None,
        },
        app.clock.as_ref(),
        None,
    )
    .await
    .unwrap();
    let PortalOutcome::Booked(booked) = booked else {
        panic!("{booked:?}")
    };
    let pass = openslot_web::reminders::run_once(&app.state).await.unwrap();
    assert_eq!(pass.queued, 1);
    // A second pass (or a second server) sends nothing more.
    let again = openslot_web::reminders::run_once(&app.state).await.unwrap();
    assert_eq!(again.queued, 0);
    (org, booked.appointment.id)
}

/// The reminder's links, as paths: (confirm, cancel).
async fn links(app: &TestApp) -> (String, String) {
    let mail = app.mail("ada@example.com").await;
    let reminder = mail
        .iter()
        .find(|m| m.subject.starts_with("Reminder: "))
        .expect("a reminder");
    let found: Vec<String> = reminder
        .body_text
        .split_whitespace()
        .filter(|w| w.contains("/reminder/"))
        .map(|w| w.trim_start_matches(&app.base).to_owned())
        .collect();
    assert_eq!(found.len(), 2, "{}", reminder.body_text);
    (found[0].clone(), found[1].clone())
}

async fn confirm_link_confirms_once_and_the_book_shows_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (org, appointment) = reminded(&app, "clinic").await;
    let mail = app.mail("ada@example.com").await;
    let body = &mail[0].body_text;
    assert!(
        mail[0].subject.starts_with("Reminder: Initial"),
        "{}",
        mail[0].subject
    );
    assert!(body.contains("Hello Ada"), "{body}");
    assert!(body.contains("EST"), "the time with its zone: {body}");
    assert!(body.contains("/reschedule"), "{body}");
    let (confirm, _) = links(&app).await;
    assert!(
        confirm.starts_with("/o/clinic/portal/reminder/"),
        "{confirm}"
    );

    // GET shows the appointment and a button, and changes nothing.
    let visitor = app.client();
    let page = visitor.get(&confirm).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Confirm your appointment"));
    assert!(page.body.contains("Initial"));
    assert!(page.body.contains("Yes, I will come"));
    let api = visitor
        .get(&format!(
            "/api/v1/orgs/clinic/portal/reminder-links/{}",
            confirm.rsplit('/').next().unwrap()
        ))
        .await;
    assert_eq!(api.json()["state"], "valid");
    assert_eq!(api.json()["appointment"]["confirmed"], false);

    // POST confirms, once.
    let done = visitor.post_form(&confirm, &[]).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(
        done.body.contains("your appointment is confirmed"),
        "{}",
        done.body
    );
    let again = visitor.post_form(&confirm, &[]).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("already used"));
    assert!(
        audit(&app, &org, "appointment", appointment)
            .await
            .iter()
            .any(|(action, _)| action == "appointment.confirm")
    );

    // The staff see it: the API, the appointment page, the book.
    let desk = app.signed_in(&org, Role::FrontDesk).await;
    let dto = desk
        .api(
            Method::GET,
            &format!("/api/v1/orgs/clinic/appointments/{appointment}"),
            None,
        )
        .await;
    assert_eq!(dto.json()["confirmed"], true, "{}", dto.body);
    let page = desk
        .get(&format!("/o/clinic/admin/book/appointments/{appointment}"))
        .await;
    assert!(
        page.body.contains("✓</span> Confirmed</span>"),
        "{}",
        page.body
    );
    let book = desk.get("/o/clinic/admin/book?date=2026-03-02").await;
    assert!(book.body.contains("✓</span> confirmed"), "{}", book.body);

    // Moving clears the confirmation and the old links say it moved.
    let staff = app.staff(&org, "mover@example.com", Role::Admin).await;
    store::appointment::reschedule(
        &app.db,
        &org,
        &Move {
            staff: store::audit::Actor::Staff(staff),
            appointment,
            start: "2026-03-02T11:00:00-05:00".parse().unwrap(),
            practitioner: None,
            duration_minutes: None,
            override_reason: None,
            resources: None,
        },
        app.clock.as_ref(),
        None,
    )
    .await
    .unwrap();
    let dto = desk
        .api(
            Method::GET,
            &format!("/api/v1/orgs/clinic/appointments/{appointment}"),
            None,
        )
        .await;
    assert_eq!(dto.json()["confirmed"], false);
    let moved = visitor.get(&confirm).await;
    assert_eq!(moved.status, StatusCode::CONFLICT);
    assert!(
        moved.body.contains("This appointment has moved"),
        "{}",
        moved.body
    );
    app.stop().await;
}

async fn cancel_link_cancels_within_the_notice_and_refuses_after(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (org, appointment) = reminded(&app, "clinic").await;
    let (_, cancel) = links(&app).await;
    let visitor = app.client();

    // Past the notice (48 h now): the page says to call, and POST changes nothing.
    let mut settings = org.settings();
    settings.cancellation_notice_minutes = 48 * 60;
    let mut tx = app.db.begin().await.unwrap();
    store::organisation::update_settings(&mut tx, org.id, &settings)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let late = visitor.post_form(&cancel, &[]).await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    assert!(
        late.body.contains("too late to cancel online"),
        "{}",
        late.body
    );
    let mut conn = app.db.conn().await.unwrap();
    let a = store::appointment::get(conn.exec(), org.id, appointment)
        .await
        .unwrap();
    assert_eq!(a.status, store::AppointmentStatus::Booked);
    drop(conn);

    // Within the notice: GET shows, POST cancels and emails.
    settings.cancellation_notice_minutes = 60;
    let mut tx = app.db.begin().await.unwrap();
    store::organisation::update_settings(&mut tx, org.id, &settings)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let page = visitor.get(&cancel).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Cancel this appointment"));
    let done = visitor.post_form(&cancel, &[]).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("Your appointment is cancelled"));
    let mut conn = app.db.conn().await.unwrap();
    let a = store::appointment::get(conn.exec(), org.id, appointment)
        .await
        .unwrap();
    assert_eq!(a.status, store::AppointmentStatus::Cancelled);
    assert_eq!(
        a.cancelled_by.as_deref(),
        Some(format!("patient:{}", a.patient_id.unwrap()).as_str())
    );
    drop(conn);
    assert!(
        app.mail("ada@example.com")
            .await
            .iter()
            .any(|m| m.subject.starts_with("Appointment cancelled"))
    );
    // Used and cancelled: refused with a page that says so.
    let again = visitor.post_form(&cancel, &[]).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("This appointment is cancelled"));
    app.stop().await;
}

/// A token reaches only its own appointment: not through another organisation's
/// path, not as a forgery, and a form field naming another appointment is ignored.
async fn a_link_grants_nothing_else(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (org, appointment) = reminded(&app, "clinic").await;
    let other = app.import("other", &basic()).await;
    let (confirm, cancel) = links(&app).await;
    let token = confirm.rsplit('/').next().unwrap().to_owned();
    let visitor = app.client();
    // Another organisation's path with the token: not found, nothing confirmed.
    for path in [
        format!("/o/{}/portal/reminder/{token}", other.slug),
        format!("/api/v1/orgs/{}/portal/reminder-links/{token}", other.slug),
    ] {
        assert_eq!(
            visitor.get(&path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let refused = visitor
        .post_form(&format!("/o/{}/portal/reminder/{token}", other.slug), &[])
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    // A forged or cut token: not found.
    for forged in [&token[..20], "0000", &format!("{token}0")] {
        let page = visitor
            .post_form(&format!("/o/clinic/portal/reminder/{forged}"), &[])
            .await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{forged}");
    }
    // Bo's appointment named in the form is ignored: only Ada's is confirmed.
    let bo = store::appointment::book_portal(
        &app.db,
        &org,
        &PortalBooking {
            patient: id(&app, &org, Kind::Patient, "bo").await,
            service: id(&app, &org, Kind::Service, "initial").await,
            practitioner: id(&app, &org, Kind::Practitioner, "christine").await,
            start: "2026-03-02T11:00:00-05:00".parse().unwrap(),
            telehealth: false,
            idempotency_key: None,
        },
        app.clock.as_ref(),
        None,
    )
    .await
    .unwrap();
    let PortalOutcome::Booked(bo) = bo else {
        panic!("{bo:?}")
    };
    let bo_id = bo.appointment.id.to_string();
    let done = visitor
        .post_form(&confirm, &[("id", &bo_id), ("appointment", &bo_id)])
        .await;
    assert_eq!(done.status, StatusCode::OK);
    let mut conn = app.db.conn().await.unwrap();
    let ada = store::appointment::get(conn.exec(), org.id, appointment)
        .await
        .unwrap();
    let bo = store::appointment::get(conn.exec(), org.id, bo.appointment.id)
        .await
        .unwrap();
    assert!(ada.confirmed_at_ns.is_some());
    assert_eq!(bo.confirmed_at_ns, None);
    assert_eq!(bo.status, store::AppointmentStatus::Booked);
    drop(conn);
    // The cancel link is not a confirm link through the API either: it cancels only
    // when used as itself, and the confirm token does not cancel.
    let api = visitor
        .api(
            Method::POST,
            &format!("/api/v1/orgs/clinic/portal/reminder-links/{token}"),
            None,
        )
        .await;
    assert_eq!(api.status, StatusCode::CONFLICT, "{}", api.body);
    assert!(!cancel.is_empty());
    app.stop().await;
}

async fn settings_are_checked_naming_the_field_and_audited(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("clinic", &basic()).await;
    let admin = app.signed_in(&org, Role::Admin).await;
    let desk = app.signed_in(&org, Role::FrontDesk).await;
    let path = "/api/v1/orgs/clinic/reminder-settings";
    for (body, field) in [
        (
            json!({"offsets_minutes": [10], "no_show_pending_after": null}),
            "offsets_minutes",
        ),
        (
            json!({"offsets_minutes": [60, 60], "no_show_pending_after": null}),
            "offsets_minutes",
        ),
        (
            json!({"offsets_minutes": [1, 2, 3, 4, 5, 6], "no_show_pending_after": null}),
            "offsets_minutes",
        ),
        (
            json!({"offsets_minutes": [], "no_show_pending_after": 0}),
            "no_show_pending_after",
        ),
        (
            json!({"offsets_minutes": [], "no_show_pending_after": null,
                "services": [{"service_id": 999_999, "offsets_minutes": [60]}]}),
            "services",
        ),
    ] {
        let refused = admin.api(Method::PUT, path, Some(body.clone())).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            refused.body
        );
        assert_eq!(
            refused.json()["error"]["field"],
            field,
            "{body}: {}",
            refused.body
        );
    }
    // Another organisation's service is refused as unknown.
    let other = app.import("other", &basic()).await;
    let theirs = id(&app, &other, Kind::Service, "initial").await;
    let refused = admin
        .api(
            Method::PUT,
            path,
            Some(json!({"offsets_minutes": [], "no_show_pending_after": null,
                        "services": [{"service_id": theirs, "offsets_minutes": [60]}]})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The front desk may read, not write.
    assert_eq!(
        desk.api(Method::GET, path, None).await.status,
        StatusCode::OK
    );
    let forbidden = desk
        .api(
            Method::PUT,
            path,
            Some(json!({"offsets_minutes": [], "no_show_pending_after": null})),
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);

    // The page: words in, field errors out, nothing saved.
    let page = admin.get("/o/clinic/admin/reminders").await;
    assert_eq!(page.status, StatusCode::OK);
    let initial = id(&app, &org, Kind::Service, "initial").await;
    let service_field = format!("service_{initial}");
    let refused = admin
        .post_form(
            "/o/clinic/admin/reminders",
            &[
                ("offsets", "10m"),
                ("no_show_pending_after", "x"),
                (&service_field, ""),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("id=\"offsets-error\""),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("id=\"no_show_pending_after-error\""));
    assert_eq!(
        admin.api(Method::GET, path, None).await.json()["offsets_minutes"],
        json!([])
    );
    let saved = admin
        .post_form(
            "/o/clinic/admin/reminders",
            &[
                ("offsets", "48h, 2h"),
                ("no_show_pending_after", "3"),
                (&service_field, "1d"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let now = admin.api(Method::GET, path, None).await.json();
    assert_eq!(now["offsets_minutes"], json!([2880, 120]));
    assert_eq!(now["no_show_pending_after"], 3);
    assert_eq!(
        now["services"],
        json!([{"service_id": initial, "offsets_minutes": [1440]}])
    );
    // A service listed twice is refused naming `services`, and nothing changes.
    let twice = admin
        .api(
            Method::PUT,
            path,
            Some(
                json!({"offsets_minutes": [120], "no_show_pending_after": null,
                "services": [{"service_id": initial, "offsets_minutes": [60]},
                             {"service_id": initial, "offsets_minutes": [30]}]}),
            ),
        )
        .await;
    assert_eq!(
        twice.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        twice.body
    );
    assert_eq!(twice.json()["error"]["field"], "services", "{}", twice.body);
    assert_eq!(admin.api(Method::GET, path, None).await.json(), now);
    let page = admin.get("/o/clinic/admin/reminders").await;
    assert!(page.body.contains("value=\"2d, 2h\""), "{}", page.body);
    assert!(
        audit(&app, &org, "organisation", org.id)
            .await
            .iter()
            .any(|(action, _)| action == "reminders.settings")
    );
    app.stop().await;
}

/// With "after 1 no-show the portal books only pending", a patient with a no-show
/// gets a request (the "requested" ticket and email), another patient a booking, in
/// an organisation that accepts portal bookings at once; the patient's appointment
/// page shows whether they confirmed.
async fn the_no_show_policy_makes_portal_bookings_requests(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("clinic", &basic()).await;
    let mut settings = org.settings();
    settings.auto_accept_portal_bookings = true;
    let mut tx = app.db.begin().await.unwrap();
    store::organisation::update_settings(&mut tx, org.id, &settings)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let admin = app.signed_in(&org, Role::Admin).await;
    let saved = admin
        .api(
            Method::PUT,
            "/api/v1/orgs/clinic/reminder-settings",
            Some(json!({"offsets_minutes": [], "no_show_pending_after": 1})),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    // Ada missed an appointment last week.
    let staff = app.staff(&org, "desk2@example.com", Role::FrontDesk).await;
    let missed = store::appointment::book_staff(
        &app.db,
        &org,
        &store::appointment::StaffBooking {
            staff: store::audit::Actor::Staff(staff),
            practitioner: id(&app, &org, Kind::Practitioner, "christine").await,
            patient: Some(id(&app, &org, Kind::Patient, "ada").await),
            service: Some(id(&app, &org, Kind::Service, "initial").await),
            schedule_type: None,
            start: "2026-02-25T09:00:00-05:00".parse().unwrap(),
            duration_minutes: None,
            override_reason: Some("catch-up".to_owned()),
            telehealth: false,
            idempotency_key: None,
            resources: Default::default(),
        },
        app.clock.as_ref(),
        None,
    )
    .await
    .unwrap()
    .appointment;
    store::appointment::mark(
        &app.db,
        &org,
        missed.id,
        store::AppointmentStatus::NoShow,
        store::audit::Actor::Staff(staff),
        app.clock.as_ref(),
    )
    .await
    .unwrap();
    let ada = app.portal_patient(&org, &admin, "ada").await;
    let bo = app.portal_patient(&org, &admin, "bo").await;
    let service = id(&app, &org, Kind::Service, "initial").await;
    let christine = id(&app, &org, Kind::Practitioner, "christine").await;
    let book = |client: crate::support::Client, start: &'static str| async move {
        client
            .api(
                Method::POST,
                "/api/v1/orgs/clinic/portal/appointments",
                Some(json!({"service": service, "practitioner": christine, "start": start})),
            )
            .await
    };
    let requested = book(ada.clone(), "2026-03-02T10:00:00-05:00").await;
    assert_eq!(requested.status, StatusCode::CREATED, "{}", requested.body);
    assert_eq!(requested.json()["status"], "pending");
    let booked = book(bo.clone(), "2026-03-02T11:00:00-05:00").await;
    assert_eq!(booked.json()["status"], "booked", "{}", booked.body);
    assert!(
        app.mail("ada@example.com")
            .await
            .iter()
            .any(|m| m.subject.starts_with("Appointment requested"))
    );
    let page = bo
        .get(&format!(
            "/o/clinic/portal/appointments/{}",
            booked.json()["id"]
        ))
        .await;
    assert!(
        page.body
            .contains("<dt>Attendance</dt><dd>You have not confirmed that you will come yet</dd>"),
        "{}",
        page.body
    );
    // The desk marks Bo's confirmed by hand (a phone call): page and API, audited.
    let bo_id = booked.json()["id"].as_i64().unwrap();
    let desk = app.signed_in(&org, Role::FrontDesk).await;
    let page = desk
        .get(&format!("/o/clinic/admin/book/appointments/{bo_id}"))
        .await;
    assert!(page.body.contains("Not confirmed"), "{}", page.body);
    let done = desk
        .post_form(
            &format!("/o/clinic/admin/book/appointments/{bo_id}/confirm"),
            &[],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = desk.get(&done.location()).await;
    assert!(page.body.contains("Marked confirmed."), "{}", page.body);
    assert!(page.body.contains("✓</span> Confirmed</span>"));
    let api = desk
        .api(
            Method::POST,
            &format!("/api/v1/orgs/clinic/appointments/{bo_id}/confirm"),
            None,
        )
        .await;
    assert_eq!(api.status, StatusCode::OK);
    assert_eq!(api.json()["confirmed"], true);
    // Ada's request is not booked: refused naming the status.
    let ada_id = requested.json()["id"].as_i64().unwrap();
    let refused = desk
        .api(
            Method::POST,
            &format!("/api/v1/orgs/clinic/appointments/{ada_id}/confirm"),
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.json()["error"]["field"], "status");
    assert_eq!(
        audit(&app, &org, "appointment", bo_id)
            .await
            .iter()
            .filter(|(action, _)| action == "appointment.confirm")
            .count(),
        1,
        "confirming twice keeps the first"
    );
    let page = bo
        .get(&format!("/o/clinic/portal/appointments/{bo_id}"))
        .await;
    assert!(page.body.contains("Yes, you confirmed you will come"));
    app.stop().await;
}

/// A link of an appointment the desk checked in, completed or marked missed says so,
/// never "cancelled", on the page and in the API, and changes nothing.
async fn a_link_of_a_settled_appointment_says_what_became_of_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (org, appointment) = reminded(&app, "clinic").await;
    let (confirm, cancel) = links(&app).await;
    let staff = app.staff(&org, "desk2@example.com", Role::Admin).await;
    let visitor = app.client();
    let api = |path: &str| {
        format!(
            "/api/v1/orgs/clinic/portal/reminder-links/{}",
            path.rsplit('/').next().unwrap()
        )
    };
    let mark = |status: AppointmentStatus| {
        let app = &app;
        let org = &org;
        async move {
            store::appointment::mark(
                &app.db,
                org,
                appointment,
                status,
                store::audit::Actor::Staff(staff),
                app.clock.as_ref(),
            )
            .await
            .unwrap();
        }
    };
    // An hour before the start the patient arrives.
    app.clock.set("2026-03-02T14:00:00Z".parse().unwrap());
    mark(AppointmentStatus::Arrived).await;
    for link in [&confirm, &cancel] {
        let page = visitor.get(link).await;
        assert_eq!(page.status, StatusCode::CONFLICT, "{}", page.body);
        assert!(page.body.contains("You are checked in"), "{}", page.body);
        assert!(!page.body.contains("is cancelled"), "{}", page.body);
        assert!(!page.body.contains("Yes, I will come"), "{}", page.body);
        assert_eq!(visitor.get(&api(link)).await.json()["state"], "arrived");
        let used = visitor.post_form(link, &[]).await;
        assert_eq!(used.status, StatusCode::CONFLICT, "{}", used.body);
        assert!(used.body.contains("You are checked in"), "{}", used.body);
    }
    // After the start: completed, then (undone) missed.
    app.clock.set("2026-03-02T15:30:00Z".parse().unwrap());
    mark(AppointmentStatus::Completed).await;
    let page = visitor.get(&confirm).await;
    assert!(page.body.contains("already taken place"), "{}", page.body);
    assert!(!page.body.contains("is cancelled"), "{}", page.body);
    assert_eq!(visitor.get(&api(&confirm)).await.json()["state"], "settled");
    mark(AppointmentStatus::Booked).await;
    mark(AppointmentStatus::NoShow).await;
    let page = visitor.get(&cancel).await;
    assert!(page.body.contains("already taken place"), "{}", page.body);
    assert!(page.body.contains("marked it as missed"), "{}", page.body);
    assert!(!page.body.contains("is cancelled"), "{}", page.body);
    let used = visitor.api(Method::POST, &api(&cancel), None).await;
    assert_eq!(used.status, StatusCode::CONFLICT, "{}", used.body);
    assert_eq!(
        used.json()["error"]["details"]["state"],
        "settled",
        "{}",
        used.body
    );
    let mut conn = app.db.conn().await.unwrap();
    let a = store::appointment::get(conn.exec(), org.id, appointment)
        .await
        .unwrap();
    assert_eq!(a.status, AppointmentStatus::NoShow);
    assert_eq!(a.confirmed_at_ns, None);
    drop(conn);
    app.stop().await;
}

/// The reminder sent says the catalogue's default intro, the one Setup › Emails shows
/// and previews, filled in, and no "in about …" that an offset would say wrongly.
async fn the_reminder_sent_says_the_catalogue_default(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (org, _) = reminded(&app, "clinic").await;
    let admin = app.client();
    admin
        .sign_in(
            "clinic",
            "admin-clinic@example.com",
            crate::support::PASSWORD,
        )
        .await;
    let list = admin
        .api(Method::GET, "/api/v1/orgs/clinic/email-templates", None)
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let templates = list.json();
    let reminder = templates
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == "reminder")
        .expect("the reminder in the catalogue")
        .clone();
    assert_eq!(reminder["customised"], false);
    let expected = reminder["intro"]
        .as_str()
        .unwrap()
        .replace("{clinic}", &org.name)
        .replace("{when}", "Mon 2 Mar 2026, 10:00 EST (UTC-05:00)");
    let mail = app.mail("ada@example.com").await;
    let body = &mail[0].body_text;
    let intro = body
        .split("\n\n")
        .nth(1)
        .unwrap_or_else(|| panic!("{body}"));
    assert_eq!(intro, expected, "{body}");
    assert!(!body.contains("in about"), "{body}");
    app.stop().await;
}

/// A booked appointment's status reads as words with a capital on the patient's page,
/// and the book's hidden "booked" follows the clinic's name without a stray
/// space before a comma.
async fn a_booked_appointment_reads_well(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (org, appointment) = reminded(&app, "clinic").await;
    let desk = app.signed_in(&org, Role::FrontDesk).await;
    let ada = app.portal_patient(&org, &desk, "ada").await;
    let page = ada
        .get(&format!("/o/clinic/portal/appointments/{appointment}"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("<dt>Status</dt><dd>Booked</dd>"),
        "{}",
        page.body
    );
    let book = desk.get("/o/clinic/admin/book?date=2026-03-02").await;
    assert!(
        book.body
            .contains("<span class=\"visually-hidden\"> (booked)</span>"),
        "{}",
        book.body
    );
    assert!(!book.body.contains(", booked</span>"), "{}", book.body);
    app.stop().await;
}

both!(
    a_booked_appointment_reads_well,
    the_reminder_sent_says_the_catalogue_default,
    a_link_of_a_settled_appointment_says_what_became_of_it,
    the_no_show_policy_makes_portal_bookings_requests,
    confirm_link_confirms_once_and_the_book_shows_it,
    cancel_link_cancels_within_the_notice_and_refuses_after,
    a_link_grants_nothing_else,
    settings_are_checked_naming_the_field_and_audited,
);
