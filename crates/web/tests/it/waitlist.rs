//! The waitlist (issue 17): joining with preferences, a cancellation offered to the
//! first entries that suit it (held, so the portal does not offer it meanwhile), the
//! first acceptance booking it and the others told it has gone, a hold that runs out
//! offered to the next entries, staff's list, removal and offers by hand, and a
//! patient's token or session touching nobody else's entry. Everything through the
//! HTTP API with the fixed clock; the matcher's pass is run by the test.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use slot_engine::Scenario;
use store::Organisation;
use store::keys::Kind;
use store::staff::Role;

use crate::both;
use crate::support::{Backend, Client, TestApp};

/// Toronto; Christine works Monday 2 March 09:00–10:00 (two 30-minute portal visits); four
/// patients. The clock reads Sunday 1 March 2026, 12:00 UTC.
fn clinic() -> Scenario {
    Scenario::from_json(
        json!({
            "version": 1,
            "settings": {"slot_step_minutes": 30, "min_notice_minutes": 60},
            "clinics": [{"id": "main", "name": "Acme Clinic", "timezone": "America/Toronto"},
                        {"id": "annex", "name": "Acme Annex", "timezone": "America/Toronto"}],
            "schedule_types": [{"id": "physio", "name": "Physio", "clinic": "main"},
                               {"id": "massage", "name": "Massage", "clinic": "main"}],
            "practitioners": [
                {"id": "max", "name": "Max Weber", "type": "massage", "home_clinic": "main", "schedule_types": ["massage"],
                 "availability": []},
                {"id": "christine", "name": "Christine Roy", "type": "physio", "home_clinic": "main", "schedule_types": ["physio"],
                 "availability": [{"start_date": "2026-03-02", "end_date": "2026-03-02",
                   "blocks": [{"days": ["mon"], "start": "09:00", "end": "10:00", "schedule_type": "physio"}]}]}],
            "services": [{"id": "visit", "name": "Physio visit", "duration_minutes": 30, "book_from_portal": true,
                          "schedule_types": ["physio"]}],
            "patients": [
                {"id": "ada", "first_name": "Ada", "last_name": "Lane", "email": "ada@example.com"},
                {"id": "ben", "first_name": "Ben", "last_name": "Okafor", "email": "ben@example.com"},
                {"id": "cy", "first_name": "Cy", "last_name": "Moss", "email": "cy@example.com"},
                {"id": "dee", "first_name": "Dee", "last_name": "Park", "email": "dee@example.com"}],
            "appointments": [
                {"practitioner": "christine", "patient": "dee", "start": "2026-02-23T09:30:00-05:00",
                 "end": "2026-02-23T10:00:00-05:00", "status": "no_show"}]
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap()
}

struct World {
    app: TestApp,
    org: Organisation,
    desk: Client,
    admin: Client,
    ada: Client,
    ben: Client,
    cy: Client,
    dee: Client,
    christine: i64,
    service: i64,
}

async fn world(backend: Backend) -> World {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &clinic()).await;
    let desk = app.signed_in(&org, Role::FrontDesk).await;
    let admin = app.signed_in(&org, Role::Admin).await;
    let ada = app.portal_patient(&org, &admin, "ada").await;
    let ben = app.portal_patient(&org, &admin, "ben").await;
    let cy = app.portal_patient(&org, &admin, "cy").await;
    let dee = app.portal_patient(&org, &admin, "dee").await;
    World {
        christine: app.id(&org, Kind::Practitioner, "christine").await,
        service: app.id(&org, Kind::Service, "visit").await,
        app,
        org,
        desk,
        admin,
        ada,
        ben,
        cy,
        dee,
    }
}

const NINE: &str = "2026-03-02T09:00:00-05:00";
const NINE_THIRTY: &str = "2026-03-02T09:30:00-05:00";

async fn book(w: &World, who: &Client, start: &str) -> i64 {
    let booked = who
        .api(
            Method::POST,
            "/api/v1/orgs/acme/portal/appointments",
            Some(json!({"service": w.service, "practitioner": w.christine, "start": start})),
        )
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.body);
    booked.json()["id"].as_i64().unwrap()
}

async fn join(who: &Client, body: Value) -> Value {
    who.created("/api/v1/orgs/acme/portal/waitlist", body).await
}

async fn slots(w: &World) -> Vec<String> {
    let open = w
        .ada
        .api(
            Method::GET,
            &format!(
                "/api/v1/orgs/acme/portal/slots?service={}&from=2026-03-02&to=2026-03-02",
                w.service
            ),
            None,
        )
        .await;
    assert_eq!(open.status, StatusCode::OK, "{}", open.body);
    open.json()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["start"].as_str().unwrap().to_owned())
        .collect()
}

async fn settings(w: &World, offer_count: i64) {
    let saved = w
        .admin
        .api(
            Method::PUT,
            "/api/v1/orgs/acme/waitlist/settings",
            Some(
                json!({"offer_count": offer_count, "hold_minutes": 15, "max_holds_per_service": 3, "max_entries_per_patient": 5}),
            ),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
}

async fn pass(w: &World) -> openslot_web::waitlist::Pass {
    openslot_web::waitlist::pass(&w.app.state).await.unwrap()
}

async fn offers_to(w: &World, to: &str) -> Vec<store::outbox::Message> {
    w.app
        .mail(to)
        .await
        .into_iter()
        .filter(|m| m.subject.starts_with("A time has come free"))
        .collect()
}

/// The token of the latest offer emailed to `to`.
async fn token(w: &World, to: &str) -> String {
    let path = w.app.link(to, "/offers/").await;
    path.rsplit('/').next().unwrap().to_owned()
}

async fn accept(client: &Client, token: &str) -> crate::support::Page {
    client
        .api(
            Method::POST,
            &format!("/api/v1/orgs/acme/waitlist/offers/{token}/accept"),
            None,
        )
        .await
}

/// Ben fills Monday; Ada (only from 09:30), Cy and Dee join in that order; Ben cancels
/// 09:00: it is held (the portal no longer offers it) and offered to Cy and Dee, the
/// first two it suits, Ada's time-of-day window excluding it. Dee accepts first and gets
/// it; Cy is told it has gone and her link then says taken; the entries say so.
async fn cancellation_offered_in_order_and_first_acceptance_wins(backend: Backend) {
    let w = world(backend).await;
    settings(&w, 2).await;
    let nine = book(&w, &w.ben, NINE).await;
    book(&w, &w.ben, NINE_THIRTY).await;
    let ada = join(
        &w.ada,
        json!({"service_id": w.service, "from_time": "09:30"}),
    )
    .await;
    let cy = join(
        &w.cy,
        json!({"service_id": w.service, "practitioner_ids": [w.christine]}),
    )
    .await;
    let dee = join(
        &w.dee,
        json!({"service_id": w.service, "weekdays": ["mon"]}),
    )
    .await;
    assert_eq!(ada["status"], "active");
    // Nothing is free: nothing offered.
    assert_eq!(pass(&w).await.held, 0);
    let cancelled = w
        .ben
        .api(
            Method::POST,
            &format!("/api/v1/orgs/acme/portal/appointments/{nine}/cancel"),
            None,
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    assert_eq!(
        slots(&w).await.len(),
        1,
        "the freed time is open before the matcher runs"
    );
    let done = pass(&w).await;
    assert_eq!((done.held, done.offered), (1, 2), "{done:?}");
    assert!(
        slots(&w).await.is_empty(),
        "a held time is not offered in the portal"
    );
    assert!(
        offers_to(&w, "ada@example.com").await.is_empty(),
        "09:00 does not suit Ada"
    );
    let offer = &offers_to(&w, "cy@example.com").await[0];
    assert!(
        offer.body_text.contains("Acme Clinic"),
        "{}",
        offer.body_text
    );
    assert!(offer.body_text.contains("EST"), "{}", offer.body_text);
    assert!(
        offer.body_text.contains("Physio visit with Christine Roy"),
        "{}",
        offer.body_text
    );
    // A second pass offers nothing more: every suitable entry has an open offer.
    assert_eq!(pass(&w).await.held, 0);
    // The staff's list shows the waiting entries and the hold.
    let list = w
        .desk
        .api(
            Method::GET,
            &format!(
                "/api/v1/orgs/acme/waitlist?service_id={}&date=2026-03-02",
                w.service
            ),
            None,
        )
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let list = list.json();
    assert_eq!(list["entries"].as_array().unwrap().len(), 3);
    assert_eq!(list["entries"][0]["patient_name"], "Ada Lane");
    assert_eq!(list["holds"].as_array().unwrap().len(), 1);

    let cy_token = token(&w, "cy@example.com").await;
    let dee_token = token(&w, "dee@example.com").await;
    // The link's GET changes nothing and shows the offer, to anyone holding the link.
    let anonymous = w.app.client();
    let shown = anonymous
        .api(
            Method::GET,
            &format!("/api/v1/orgs/acme/waitlist/offers/{cy_token}"),
            None,
        )
        .await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert_eq!(shown.json()["state"], "open");
    let page = anonymous
        .get(&format!("/o/acme/portal/offers/{cy_token}"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.contains("Accept this time"), "{}", page.body);

    let won = accept(&anonymous, &dee_token).await;
    assert_eq!(won.status, StatusCode::OK, "{}", won.body);
    assert_eq!(won.json()["state"], "accepted");
    let appointment = won.json()["appointment_id"].as_i64().unwrap();
    // Accepting again is the same booking, not counted again; Cy's link now says taken.
    let counted = || -> f64 {
        w.app
            .state
            .metrics
            .render_recorded()
            .lines()
            .filter(|l| l.starts_with("openslot_bookings_total{"))
            .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
            .sum()
    };
    let before = counted();
    let again = accept(&anonymous, &dee_token).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["appointment_id"], appointment);
    assert_eq!(counted(), before, "a repeat is not a booking");
    let lost = accept(&w.cy, &cy_token).await;
    assert_eq!(lost.status, StatusCode::CONFLICT, "{}", lost.body);
    assert_eq!(lost.json()["error"]["details"]["outcome"], "taken");
    let page =
        w.cy.post_form(&format!("/o/acme/portal/offers/{cy_token}"), &[])
            .await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(page.contains("This time has been taken"), "{}", page.body);
    assert!(
        w.app
            .mail("cy@example.com")
            .await
            .iter()
            .any(|m| m.subject.starts_with("The offered time has gone")),
        "Cy is told"
    );
    assert!(
        w.app
            .mail("dee@example.com")
            .await
            .iter()
            .any(|m| m.subject.starts_with("Appointment confirmed")),
        "Dee gets the booking email"
    );
    // Dee sees it in the portal; it is hers, booked through the portal.
    let mine = w
        .dee
        .api(
            Method::GET,
            &format!("/api/v1/orgs/acme/portal/appointments/{appointment}"),
            None,
        )
        .await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    assert_eq!(
        mine.json()["start"].as_str().unwrap().get(..16),
        Some("2026-03-02T09:00")
    );
    // The token bound the booking to Dee, whoever sent it: nobody else sees it.
    let theirs = w
        .ada
        .api(
            Method::GET,
            &format!("/api/v1/orgs/acme/portal/appointments/{appointment}"),
            None,
        )
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    let entries = w
        .dee
        .api(Method::GET, "/api/v1/orgs/acme/portal/waitlist", None)
        .await
        .json();
    assert_eq!(entries[0]["id"], dee["id"]);
    assert_eq!(entries[0]["status"], "booked");
    assert_eq!(entries[0]["appointment_id"], appointment);
    let cy_entries =
        w.cy.api(Method::GET, "/api/v1/orgs/acme/portal/waitlist", None)
            .await
            .json();
    assert_eq!(cy_entries[0]["id"], cy["id"]);
    assert_eq!(cy_entries[0]["status"], "active", "Cy is still waiting");
    assert!(slots(&w).await.is_empty());
    // Dee cancels: her link says so, no longer that the time is hers.
    let cancelled = w
        .dee
        .api(
            Method::POST,
            &format!("/api/v1/orgs/acme/portal/appointments/{appointment}/cancel"),
            None,
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    let late = accept(&anonymous, &dee_token).await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.body);
    assert_eq!(late.json()["error"]["details"]["outcome"], "cancelled");
    let page = anonymous
        .get(&format!("/o/acme/portal/offers/{dee_token}"))
        .await;
    assert!(
        page.contains("This appointment was cancelled"),
        "{}",
        page.body
    );
    assert!(!page.contains("This time is yours"), "{}", page.body);
    w.app.stop().await;
}

/// A hold nobody accepts runs out: its time is free again and offered to the next entry
/// (never again to those it was offered to); the old link says expired.
async fn expired_hold_is_offered_to_the_next(backend: Backend) {
    let w = world(backend).await;
    settings(&w, 1).await;
    let nine = book(&w, &w.ben, NINE).await;
    book(&w, &w.ben, NINE_THIRTY).await;
    join(&w.ada, json!({"service_id": w.service})).await;
    join(&w.cy, json!({"service_id": w.service})).await;
    let cancelled = w
        .desk
        .api(
            Method::DELETE,
            &format!("/api/v1/orgs/acme/appointments/{nine}"),
            None,
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    assert_eq!(pass(&w).await.offered, 1);
    assert_eq!(
        offers_to(&w, "ada@example.com").await.len(),
        1,
        "Ada joined first"
    );
    assert!(offers_to(&w, "cy@example.com").await.is_empty());
    let ada_token = token(&w, "ada@example.com").await;
    // Sixteen minutes later the hold has run out.
    w.app.clock.set("2026-03-01T12:16:00Z".parse().unwrap());
    let done = pass(&w).await;
    assert_eq!((done.released, done.held), (1, 1), "{done:?}");
    assert_eq!(
        offers_to(&w, "cy@example.com").await.len(),
        1,
        "the next entry"
    );
    assert_eq!(
        offers_to(&w, "ada@example.com").await.len(),
        1,
        "never the same time twice"
    );
    let late = accept(&w.ada, &ada_token).await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.body);
    assert_eq!(late.json()["error"]["details"]["outcome"], "expired");
    // The held time is gone; the offer still reads in the clinic's zone, at the clinic.
    let shown = w
        .ada
        .api(
            Method::GET,
            &format!("/api/v1/orgs/acme/waitlist/offers/{ada_token}"),
            None,
        )
        .await
        .json();
    assert_eq!(shown["place"], "Acme Clinic", "{shown}");
    assert!(shown["when"].as_str().unwrap().contains("EST"), "{shown}");
    assert!(shown["when"].as_str().unwrap().contains("09:00"), "{shown}");
    let cy_token = token(&w, "cy@example.com").await;
    // Cy leaves the waitlist: nobody is left to accept, so the hold is released at the
    // next pass without waiting for it to run out, and the time is open again.
    let cy_entry =
        w.cy.api(Method::GET, "/api/v1/orgs/acme/portal/waitlist", None)
            .await
            .json()[0]["id"]
            .clone();
    let left =
        w.cy.api(
            Method::DELETE,
            &format!("/api/v1/orgs/acme/portal/waitlist/{cy_entry}"),
            None,
        )
        .await;
    assert_eq!(left.status, StatusCode::OK, "{}", left.body);
    // Her link says the offer was withdrawn, not that someone else took it.
    let refused = accept(&w.cy, &cy_token).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert_eq!(refused.json()["error"]["details"]["outcome"], "withdrawn");
    let page = w.cy.get(&format!("/o/acme/portal/offers/{cy_token}")).await;
    assert!(page.contains("This offer was withdrawn"), "{}", page.body);
    assert!(!page.contains("accepted it first"), "{}", page.body);
    assert!(slots(&w).await.is_empty(), "held until the next pass");
    let done = pass(&w).await;
    assert_eq!((done.released, done.held), (1, 0), "{done:?}");
    assert_eq!(slots(&w).await.len(), 1);
    w.app.stop().await;
}

/// Joining: every field checked and named, ids resolved in the organisation and among
/// the practitioners the patient may book, at most five active entries; a patient
/// leaves only their own entry; staff add, remove, and offer a time by hand.
async fn joining_rules_and_staff_actions(backend: Backend) {
    let w = world(backend).await;
    let other = w.app.import("other", &clinic()).await;
    let foreign = w.app.id(&other, Kind::Practitioner, "christine").await;
    let foreign_service = w.app.id(&other, Kind::Service, "visit").await;
    // Times that suit are open: join refused (patient and staff), book one instead.
    let refused = w
        .ada
        .api(
            Method::POST,
            "/api/v1/orgs/acme/portal/waitlist",
            Some(json!({"service_id": w.service})),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(refused.json()["error"]["field"], "service_id");
    assert!(
        refused
            .body
            .contains("the first Mon 2 Mar 2026, 09:00: book one instead"),
        "{}",
        refused.body
    );
    let ben_id = w.app.id(&w.org, Kind::Patient, "ben").await;
    let refused = w
        .desk
        .api(
            Method::POST,
            "/api/v1/orgs/acme/waitlist",
            Some(json!({"patient_id": ben_id, "service_id": w.service, "from_time": "09:30"})),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("Mon 2 Mar 2026, 09:30"),
        "{}",
        refused.body
    );
    let page = w
        .ada
        .post_form(
            "/o/acme/portal/waitlist",
            &[("service_id", &w.service.to_string())],
        )
        .await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.body
    );
    assert!(
        page.contains("/o/acme/portal/book"),
        "a link to book: {}",
        page.body
    );
    // A refused form keeps what was typed and says the error in words.
    let page = w
        .ada
        .post_form(
            "/o/acme/portal/waitlist",
            &[
                ("service_id", &w.service.to_string()),
                ("from_time", "10:00"),
                ("to_time", "09:00"),
                ("weekdays", "tue"),
                ("note", "Mornings please"),
            ],
        )
        .await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.body
    );
    assert!(
        page.contains("Starting before: must be after"),
        "{}",
        page.body
    );
    assert!(!page.contains("to_time:"), "{}", page.body);
    assert!(page.contains("value=\"10:00\""), "{}", page.body);
    assert!(page.contains("Mornings please</textarea>"), "{}", page.body);
    assert!(page.contains("value=\"tue\" checked"), "{}", page.body);
    // Nothing after 10:00 is open: that joins.
    join(
        &w.cy,
        json!({"service_id": w.service, "from_time": "10:00"}),
    )
    .await;
    let nine = book(&w, &w.ben, NINE).await;
    book(&w, &w.ben, NINE_THIRTY).await;
    let max = w.app.id(&w.org, Kind::Practitioner, "max").await;
    let annex = w.app.id(&w.org, Kind::Clinic, "annex").await;
    for (body, field) in [
        (json!({"service_id": foreign_service}), "service_id"),
        (
            json!({"service_id": w.service, "practitioner_ids": [foreign]}),
            "practitioner_ids",
        ),
        (
            json!({"service_id": w.service, "clinic_id": 999_999}),
            "clinic_id",
        ),
        // Max never provides physio visits; the annex never offers them.
        (
            json!({"service_id": w.service, "practitioner_ids": [max]}),
            "practitioner_ids",
        ),
        (
            json!({"service_id": w.service, "clinic_id": annex}),
            "clinic_id",
        ),
        (
            json!({"service_id": w.service, "from_date": "2026-03-10", "to_date": "2026-03-05"}),
            "to_date",
        ),
        (
            json!({"service_id": w.service, "from_time": "25:00"}),
            "from_time",
        ),
        (
            json!({"service_id": w.service, "from_time": "10:00", "to_time": "09:00"}),
            "to_time",
        ),
        (
            json!({"service_id": w.service, "weekdays": ["funday"]}),
            "weekdays",
        ),
        (
            json!({"service_id": w.service, "to_time": "24:30"}),
            "to_time",
        ),
        (
            json!({"service_id": w.service, "note": "x".repeat(501)}),
            "note",
        ),
        (
            json!({"service_id": w.service, "from_date": "2026-03-32"}),
            "from_date",
        ),
        (
            json!({"service_id": w.service, "expires_on": "2027-06-01"}),
            "expires_on",
        ),
        (
            json!({"service_id": w.service, "expires_on": "2026-02-01"}),
            "expires_on",
        ),
        (
            json!({"service_id": w.service, "patient_id": 1}),
            "patient_id",
        ),
    ] {
        let refused = w
            .ada
            .api(
                Method::POST,
                "/api/v1/orgs/acme/portal/waitlist",
                Some(body.clone()),
            )
            .await;
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
    let first = join(&w.ada, json!({"service_id": w.service})).await;
    assert_eq!(first["expires_on"], "2026-03-31", "30 days by default");
    for _ in 0..4 {
        join(&w.ada, json!({"service_id": w.service})).await;
    }
    let sixth = w
        .ada
        .api(
            Method::POST,
            "/api/v1/orgs/acme/portal/waitlist",
            Some(json!({"service_id": w.service})),
        )
        .await;
    assert_eq!(
        sixth.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        sixth.body
    );
    // Ben cannot leave Ada's entry: not found, and it stays.
    let id = first["id"].as_i64().unwrap();
    let path = format!("/api/v1/orgs/acme/portal/waitlist/{id}");
    assert_eq!(
        w.ben.api(Method::DELETE, &path, None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        w.ben
            .post_form(&format!("/o/acme/portal/waitlist/{id}/leave"), &[])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let left = w.ada.api(Method::DELETE, &path, None).await;
    assert_eq!(left.status, StatusCode::OK, "{}", left.body);
    assert_eq!(left.json()["status"], "left");
    // Staff add Ben (audited), another organisation's patient is refused.
    let ben = w.app.id(&w.org, Kind::Patient, "ben").await;
    let foreign_patient = w.app.id(&other, Kind::Patient, "ben").await;
    let refused = w
        .desk
        .api(
            Method::POST,
            "/api/v1/orgs/acme/waitlist",
            Some(json!({"patient_id": foreign_patient, "service_id": w.service})),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(refused.json()["error"]["field"], "patient_id");
    let added = w
        .desk
        .created(
            "/api/v1/orgs/acme/waitlist",
            json!({"patient_id": ben, "service_id": w.service}),
        )
        .await;
    // Offer 09:00 by hand: to the first entries that suit it, one per patient (Ada's
    // four other entries are one patient).
    let first_left = w
        .ada
        .api(Method::GET, "/api/v1/orgs/acme/portal/waitlist", None)
        .await
        .json();
    let ada_first = first_left
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["status"] == "active")
        .map(|e| e["id"].as_i64().unwrap())
        .min()
        .unwrap();
    let cancelled = w
        .ben
        .api(
            Method::POST,
            &format!("/api/v1/orgs/acme/portal/appointments/{nine}/cancel"),
            None,
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    let offered = w
        .desk
        .created(
            "/api/v1/orgs/acme/waitlist/offers",
            json!({"service_id": w.service, "practitioner_id": w.christine, "start": NINE}),
        )
        .await;
    assert_eq!(offered["entry_ids"], json!([ada_first, added["id"]]));
    assert_eq!(offers_to(&w, "ben@example.com").await.len(), 1);
    // Not a time open online: refused naming start.
    let refused = w
        .desk
        .api(
            Method::POST,
            "/api/v1/orgs/acme/waitlist/offers",
            Some(json!({"service_id": w.service, "practitioner_id": w.christine, "start": "2026-03-03T09:00:00-05:00"})),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(refused.json()["error"]["field"], "start");
    // Staff remove Ben's entry; the page lists the service's waitlist.
    let removed = w
        .desk
        .api(
            Method::DELETE,
            &format!("/api/v1/orgs/acme/waitlist/{}", added["id"]),
            None,
        )
        .await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
    assert_eq!(removed.json()["status"], "removed");
    // The page's Remove goes back to the same service and day.
    let ada_entry = w
        .ada
        .api(Method::GET, "/api/v1/orgs/acme/portal/waitlist", None)
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["status"] == "active")
        .map(|e| e["id"].as_i64().unwrap())
        .max()
        .unwrap();
    let shown = w
        .desk
        .get(&format!(
            "/o/acme/admin/waitlist?service_id={}&date=2026-03-02",
            w.service
        ))
        .await;
    let action = format!(
        "/o/acme/admin/waitlist/{ada_entry}/remove?service_id={}&amp;date=2026-03-02",
        w.service
    );
    assert!(shown.contains(&action), "{}", shown.body);
    let removed = w.desk.post_form(&action.replace("&amp;", "&"), &[]).await;
    assert!(removed.status.is_redirection(), "{}", removed.status);
    let location = removed.location();
    assert!(
        location.contains(&format!("service_id={}&date=2026-03-02", w.service)),
        "{location}"
    );
    let added = w
        .desk
        .post_form(
            "/o/acme/admin/waitlist",
            &[
                ("patient_id", &ben.to_string()),
                ("service_id", &w.service.to_string()),
                ("date", "2026-03-02"),
            ],
        )
        .await;
    assert!(
        added.status.is_redirection(),
        "{}: {}",
        added.status,
        added.body
    );
    assert!(
        added
            .location()
            .contains(&format!("service_id={}&date=2026-03-02", w.service)),
        "{}",
        added.location()
    );
    let page = w.desk.get("/o/acme/admin/waitlist?date=2026-03-02").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.contains("Ada Lane"), "{}", page.body);
    let page = w.ada.get("/o/acme/portal/waitlist").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.contains("until Tue 31 Mar 2026"),
        "dates as the pages write them: {}",
        page.body
    );
    assert!(page.contains("Join the waitlist"), "{}", page.body);
    // The settings are the admin's: front desk is refused, out of range names the field.
    let refused = w
        .desk
        .api(
            Method::PUT,
            "/api/v1/orgs/acme/waitlist/settings",
            Some(json!({"offer_count": 2, "hold_minutes": 15, "max_holds_per_service": 3, "max_entries_per_patient": 5})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let refused = w
        .admin
        .api(
            Method::PUT,
            "/api/v1/orgs/acme/waitlist/settings",
            Some(json!({"offer_count": 0, "hold_minutes": 15, "max_holds_per_service": 3, "max_entries_per_patient": 5})),
        )
        .await;
    assert_eq!(refused.json()["error"]["field"], "offer_count");
    // Staff changes are audited.
    let mut conn = w.app.db.conn().await.unwrap();
    let audit = store::audit::page(
        conn.exec(),
        w.org.id,
        &store::audit::Filter::default(),
        None,
        200,
    )
    .await
    .unwrap();
    for action in ["waitlist.joined", "waitlist.removed", "waitlist.offered"] {
        assert!(audit.entries.iter().any(|e| e.action == action), "{action}");
    }
    w.app.stop().await;
}

/// The open hold's blocked time, by the staff's list.
async fn held_appointment(w: &World) -> i64 {
    let list = w
        .desk
        .api(
            Method::GET,
            &format!(
                "/api/v1/orgs/acme/waitlist?service_id={}&date=2026-03-02",
                w.service
            ),
            None,
        )
        .await
        .json();
    list["holds"][0]["appointment_id"].as_i64().unwrap()
}

/// Staff move a held time elsewhere (another start, by override): the offer no longer
/// books it. Accepting is refused as taken and the hold withdrawn, the moved time
/// staying the clinic's; the matcher's pass withdraws such a hold too.
async fn moved_hold_is_not_booked(backend: Backend) {
    let w = world(backend).await;
    settings(&w, 1).await;
    let nine = book(&w, &w.ben, NINE).await;
    let nine_thirty = book(&w, &w.ben, NINE_THIRTY).await;
    join(&w.ada, json!({"service_id": w.service})).await;
    let cancelled = w
        .desk
        .api(
            Method::DELETE,
            &format!("/api/v1/orgs/acme/appointments/{nine}"),
            None,
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    assert_eq!(pass(&w).await.offered, 1);
    let ada_token = token(&w, "ada@example.com").await;
    let held = held_appointment(&w).await;
    let moved = w
        .desk
        .api(
            Method::POST,
            &format!("/api/v1/orgs/acme/appointments/{held}/move"),
            Some(json!({"start": "2026-03-02T11:00:00-05:00", "override_reason": "Staff meeting"})),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    let refused = accept(&w.ada, &ada_token).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert_eq!(refused.json()["error"]["details"]["outcome"], "taken");
    let still = w
        .desk
        .api(
            Method::GET,
            &format!("/api/v1/orgs/acme/appointments/{held}"),
            None,
        )
        .await;
    assert_eq!(still.status, StatusCode::OK, "{}", still.body);
    assert!(still.json()["patient_id"].is_null(), "{}", still.body);
    let list = w
        .desk
        .api(
            Method::GET,
            &format!(
                "/api/v1/orgs/acme/waitlist?service_id={}&date=2026-03-02",
                w.service
            ),
            None,
        )
        .await
        .json();
    assert!(
        list["holds"].as_array().unwrap().is_empty(),
        "withdrawn: {list}"
    );
    // Another freed time, held for Ada and moved: the pass withdraws the hold.
    let cancelled = w
        .desk
        .api(
            Method::DELETE,
            &format!("/api/v1/orgs/acme/appointments/{nine_thirty}"),
            None,
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    assert_eq!(pass(&w).await.offered, 1);
    let held = held_appointment(&w).await;
    let moved = w
        .desk
        .api(
            Method::POST,
            &format!("/api/v1/orgs/acme/appointments/{held}/move"),
            Some(json!({"start": "2026-03-02T12:00:00-05:00", "override_reason": "Staff meeting"})),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    let done = pass(&w).await;
    assert_eq!(done.released, 1, "{done:?}");
    let refused = accept(&w.ada, &token(&w, "ada@example.com").await).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    w.app.stop().await;
}

/// The organisation's no-show policy holds for an accepted offer as for a portal
/// booking: Dee, past the threshold, gets a pending appointment, told it is requested.
async fn accepted_offer_follows_the_no_show_policy(backend: Backend) {
    let w = world(backend).await;
    settings(&w, 1).await;
    let policy = w
        .admin
        .api(
            Method::PUT,
            "/api/v1/orgs/acme/reminder-settings",
            Some(json!({"offsets_minutes": [], "no_show_pending_after": 1})),
        )
        .await;
    assert_eq!(policy.status, StatusCode::OK, "{}", policy.body);
    let nine = book(&w, &w.ben, NINE).await;
    book(&w, &w.ben, NINE_THIRTY).await;
    join(&w.dee, json!({"service_id": w.service})).await;
    let cancelled = w
        .desk
        .api(
            Method::DELETE,
            &format!("/api/v1/orgs/acme/appointments/{nine}"),
            None,
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    assert_eq!(pass(&w).await.offered, 1);
    let dee_token = token(&w, "dee@example.com").await;
    let page = w
        .dee
        .post_form(&format!("/o/acme/portal/offers/{dee_token}"), &[])
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.contains("Requested"), "{}", page.body);
    let shown = accept(&w.dee, &dee_token).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert_eq!(shown.json()["appointment_status"], "pending");
    let id = shown.json()["appointment_id"].as_i64().unwrap();
    let mine = w
        .dee
        .api(
            Method::GET,
            &format!("/api/v1/orgs/acme/portal/appointments/{id}"),
            None,
        )
        .await;
    assert_eq!(mine.json()["status"], "pending", "{}", mine.body);
    w.app.stop().await;
}

both!(
    cancellation_offered_in_order_and_first_acceptance_wins,
    expired_hold_is_offered_to_the_next,
    joining_rules_and_staff_actions,
    moved_hold_is_not_booked,
    accepted_offer_follows_the_no_show_policy,
);
