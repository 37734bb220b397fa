//! FHIR R4 scheduling over HTTP with a fixed clock (Sunday 1 March 2026, noon UTC):
//! slots found by the engine and booked through FHIR show in the portal, portal
//! bookings show through FHIR, a taken slot is a 409 `OperationOutcome`,
//! `If-None-Exist` makes a create idempotent, another organisation's ids and forged
//! slot ids change nothing, scopes are enforced, long ranges are too costly, and the
//! SMART Scheduling Links' deep links open the portal's confirm page. The ignored
//! test validates every resource served with the R4 JSON schema and fhir.resources.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use slot_engine::Scenario;
use store::Organisation;
use store::staff::Role;

use crate::both;
use crate::support::{Backend, Client, Page, TestApp};

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
                   "blocks": [{"days": ["mon", "tue"], "start": "09:00", "end": "11:00", "schedule_type": "physio"}]}]},
                {"id": "omar", "name": "Omar Haddad", "type": "physio", "home_clinic": "toronto", "schedule_types": ["physio"],
                 "availability": [{"start_date": "2026-01-01",
                   "blocks": [{"days": ["mon"], "start": "09:00", "end": "10:00", "schedule_type": "physio"}]}]}],
            "services": [{"id": "visit", "name": "Physio visit", "description": "Thirty minutes of treatment.",
                          "duration_minutes": 30, "book_from_portal": true, "schedule_types": ["physio"]},
                         {"id": "report", "name": "Report", "duration_minutes": 30, "book_from_portal": false, "schedule_types": ["physio"]}],
            "patients": [
                {"id": "ada", "first_name": "Ada", "last_name": "Lane", "email": "ada@example.com"},
                {"id": "ben", "first_name": "Ben", "last_name": "Cho", "email": "ben@example.com", "available_practitioners": ["omar"]},
                {"id": "cy", "first_name": "Cy", "last_name": "Moss", "email": "cy@example.com"}]
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap()
}

/// A bearer token of `org` with `scopes`.
async fn key(app: &TestApp, org: &Organisation, scopes: &[&str]) -> String {
    app.api_key(org, scopes).await
}

/// A FHIR request with a key (or none), and an optional body and extra headers.
async fn fhir(
    client: &Client,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Page {
    let mut request = client.http.request(method, client.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/fhir+json")
            .body(body.to_string());
    }
    Client::read(request.send().await.unwrap()).await
}

async fn get(client: &Client, path: &str, token: &str) -> Page {
    fhir(client, Method::GET, path, Some(token), None, &[]).await
}

/// Asserts a FHIR answer: the status, `application/fhir+json`, and the resource type.
fn resource(page: &Page, status: StatusCode, kind: &str) -> Value {
    assert_eq!(page.status, status, "{}", page.body);
    let media = page.headers["content-type"].to_str().unwrap();
    assert!(media.starts_with("application/fhir+json"), "{media}");
    let value = page.json();
    assert_eq!(value["resourceType"], kind, "{}", page.body);
    value
}

/// Asserts an `OperationOutcome` with the status and issue code, naming `expression`
/// when given.
fn outcome(page: &Page, status: StatusCode, code: &str, expression: Option<&str>) -> Value {
    let value = resource(page, status, "OperationOutcome");
    assert_eq!(value["issue"][0]["code"], code, "{}", page.body);
    if let Some(expression) = expression {
        assert_eq!(
            value["issue"][0]["expression"][0], expression,
            "{}",
            page.body
        );
    }
    value
}

fn entries(bundle: &Value) -> Vec<Value> {
    assert_eq!(bundle["type"], "searchset");
    bundle["entry"]
        .as_array()
        .map(|e| e.iter().map(|e| e["resource"].clone()).collect())
        .unwrap_or_default()
}

async fn patient_id(app: &TestApp, org: &Organisation, key: &str) -> i64 {
    app.id(org, store::keys::Kind::Patient, key).await
}

async fn practitioner_id(app: &TestApp, org: &Organisation, key: &str) -> i64 {
    app.id(org, store::keys::Kind::Practitioner, key).await
}

async fn clinic_id(app: &TestApp, org: &Organisation) -> i64 {
    app.id(org, store::keys::Kind::Clinic, "toronto").await
}

/// Christine's free slots on Monday 2 March.
async fn monday_slots(
    app: &TestApp,
    org: &Organisation,
    client: &Client,
    token: &str,
) -> Vec<Value> {
    let schedule = format!(
        "{}-{}",
        practitioner_id(app, org, "christine").await,
        clinic_id(app, org).await
    );
    let page = get(
        client,
        &format!(
            "/o/{}/fhir/Slot?schedule=Schedule/{schedule}&start=ge2026-03-02&start=lt2026-03-03&status=free",
            org.slug
        ),
        token,
    )
    .await;
    entries(&resource(&page, StatusCode::OK, "Bundle"))
}

fn appointment_for(slot: &Value, patient: i64) -> Value {
    json!({
        "resourceType": "Appointment",
        "status": "booked",
        "slot": [{"reference": format!("Slot/{}", slot["id"].as_str().unwrap())}],
        "participant": [{"actor": {"reference": format!("Patient/{patient}")}, "status": "accepted"}],
    })
}

async fn count(app: &TestApp, org: &Organisation) -> i64 {
    let mut conn = app.db.conn().await.unwrap();
    store::appointment::count(conn.exec(), org.id)
        .await
        .unwrap()
}

/// Gives the clinic an address of two lines and a phone number.
async fn give_address(app: &TestApp, org: &Organisation) {
    let id = clinic_id(app, org).await;
    let mut tx = app.db.begin().await.unwrap();
    store::clinic::update(
        &mut tx,
        org.id,
        id,
        &store::clinic::ClinicInput {
            name: "Toronto".to_owned(),
            timezone: "America/Toronto".to_owned(),
            address: "1 King St W\nToronto".to_owned(),
            phone: "+1 416 555 0100".to_owned(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

async fn publish_times(app: &TestApp, org: &Organisation, public: bool) {
    let mut settings = org.settings();
    settings.portal_public_times = public;
    let mut tx = app.db.begin().await.unwrap();
    store::organisation::update_settings(&mut tx, org.id, &settings)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn slots_found_and_booked_through_fhir_show_in_the_portal(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("clinic", &clinic()).await;
    let staff = app.signed_in(&org, Role::FrontDesk).await;
    let ada_portal = app.portal_patient(&org, &staff, "ada").await;
    let client = app.client();
    let token = key(
        &app,
        &org,
        &["schedule:read", "appointments:write", "patients:read"],
    )
    .await;
    let ada = patient_id(&app, &org, "ada").await;

    // Christine works Monday 09:00-11:00 Toronto: four half-hour slots of the one
    // service patients book online (the staff-only report has none).
    let slots = monday_slots(&app, &org, &client, &token).await;
    let starts: Vec<&str> = slots.iter().map(|s| s["start"].as_str().unwrap()).collect();
    assert_eq!(
        starts,
        [
            "2026-03-02T09:00:00-05:00",
            "2026-03-02T09:30:00-05:00",
            "2026-03-02T10:00:00-05:00",
            "2026-03-02T10:30:00-05:00"
        ]
    );
    assert!(
        slots
            .iter()
            .all(|s| s["serviceType"][0]["coding"][0]["code"] == "visit")
    );
    // A slot reads back while it is free.
    let first = &slots[0];
    let read = get(
        &client,
        &format!("/o/clinic/fhir/Slot/{}", first["id"].as_str().unwrap()),
        &token,
    )
    .await;
    assert_eq!(
        resource(&read, StatusCode::OK, "Slot")["start"],
        first["start"]
    );

    // Booked through FHIR…
    let made = fhir(
        &client,
        Method::POST,
        "/o/clinic/fhir/Appointment",
        Some(&token),
        Some(appointment_for(first, ada)),
        &[],
    )
    .await;
    let made = resource(&made, StatusCode::CREATED, "Appointment");
    let id: i64 = made["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(made["start"], "2026-03-02T09:00:00-05:00");
    assert_eq!(made["status"], "booked");
    assert!(
        made["participant"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["actor"]["reference"] == format!("Patient/{ada}")
                && p["actor"]["display"] == "Ada Lane")
    );
    // …it is the patient's in the portal, and audited with the key.
    let mine = ada_portal
        .api(Method::GET, "/api/v1/orgs/clinic/portal/appointments", None)
        .await;
    assert_eq!(mine.status, StatusCode::OK);
    assert!(mine.body.contains(&format!("\"id\":{id}")), "{}", mine.body);
    let page = ada_portal
        .get(&format!("/o/clinic/portal/appointments/{id}"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.contains("Christine Roy"));
    let row = {
        let mut conn = app.db.conn().await.unwrap();
        store::appointment::get(conn.exec(), org.id, id)
            .await
            .unwrap()
    };
    assert!(row.created_by.starts_with("key:"), "{}", row.created_by);
    // The slot is no longer offered, nor readable.
    let left = monday_slots(&app, &org, &client, &token).await;
    assert_eq!(left.len(), 3);
    let gone = get(
        &client,
        &format!("/o/clinic/fhir/Slot/{}", first["id"].as_str().unwrap()),
        &token,
    )
    .await;
    outcome(&gone, StatusCode::NOT_FOUND, "not-found", None);

    // Taken: 409, and nothing booked.
    let cy = patient_id(&app, &org, "cy").await;
    let before = count(&app, &org).await;
    let taken = fhir(
        &client,
        Method::POST,
        "/o/clinic/fhir/Appointment",
        Some(&token),
        Some(appointment_for(first, cy)),
        &[],
    )
    .await;
    outcome(&taken, StatusCode::CONFLICT, "conflict", None);
    assert_eq!(count(&app, &org).await, before);
    // The patient's allowed practitioners apply: Ben may book only Omar.
    let ben = patient_id(&app, &org, "ben").await;
    let not_his = fhir(
        &client,
        Method::POST,
        "/o/clinic/fhir/Appointment",
        Some(&token),
        Some(appointment_for(&left[0], ben)),
        &[],
    )
    .await;
    outcome(
        &not_his,
        StatusCode::UNPROCESSABLE_ENTITY,
        "business-rule",
        Some("participant"),
    );
    assert_eq!(count(&app, &org).await, before);

    // If-None-Exist: the same conditional create answers the first appointment.
    let once = [(
        "if-none-exist",
        "identifier=https://ehr.example/booking|b-42",
    )];
    let first_try = fhir(
        &client,
        Method::POST,
        "/o/clinic/fhir/Appointment",
        Some(&token),
        Some(appointment_for(&left[0], cy)),
        &once,
    )
    .await;
    let first_try = resource(&first_try, StatusCode::CREATED, "Appointment");
    let again = fhir(
        &client,
        Method::POST,
        "/o/clinic/fhir/Appointment",
        Some(&token),
        Some(appointment_for(&left[0], cy)),
        &once,
    )
    .await;
    assert_eq!(
        resource(&again, StatusCode::OK, "Appointment")["id"],
        first_try["id"]
    );
    assert_eq!(count(&app, &org).await, before + 1);
    // The same key with another request is refused.
    let other = fhir(
        &client,
        Method::POST,
        "/o/clinic/fhir/Appointment",
        Some(&token),
        Some(appointment_for(&left[1], cy)),
        &once,
    )
    .await;
    outcome(
        &other,
        StatusCode::PRECONDITION_FAILED,
        "duplicate",
        Some("If-None-Exist"),
    );
    assert_eq!(count(&app, &org).await, before + 1);

    // $book takes a Parameters and answers one.
    let booked = fhir(
        &client,
        Method::POST,
        "/o/clinic/fhir/Appointment/$book",
        Some(&token),
        Some(json!({"resourceType": "Parameters", "parameter": [{"name": "appointment", "resource": appointment_for(&left[1], cy)}]})),
        &[],
    )
    .await;
    let booked = resource(&booked, StatusCode::CREATED, "Parameters");
    assert_eq!(booked["parameter"][0]["name"], "return");
    assert_eq!(
        booked["parameter"][0]["resource"]["start"],
        "2026-03-02T10:00:00-05:00"
    );

    // Cancelled by PATCH: the portal sees it cancelled, and the slot is free again.
    let cancelled = fhir(
        &client,
        Method::PATCH,
        &format!("/o/clinic/fhir/Appointment/{id}"),
        Some(&token),
        Some(json!([{"op": "replace", "path": "/status", "value": "cancelled"}])),
        &[],
    )
    .await;
    assert_eq!(
        resource(&cancelled, StatusCode::OK, "Appointment")["status"],
        "cancelled"
    );
    let mine = ada_portal
        .api(
            Method::GET,
            &format!("/api/v1/orgs/clinic/portal/appointments/{id}"),
            None,
        )
        .await;
    assert_eq!(mine.json()["status"], "cancelled", "{}", mine.body);
    let row = {
        let mut conn = app.db.conn().await.unwrap();
        store::appointment::get(conn.exec(), org.id, id)
            .await
            .unwrap()
    };
    assert!(
        row.cancelled_by
            .as_deref()
            .is_some_and(|by| by.starts_with("key:"))
    );
    let free_again = monday_slots(&app, &org, &client, &token).await;
    assert!(
        free_again
            .iter()
            .any(|s| s["start"] == "2026-03-02T09:00:00-05:00")
    );
    // PUT of the same status changes nothing; another status is refused.
    let mut same = cancelled.json();
    same["status"] = json!("cancelled");
    let put = fhir(
        &client,
        Method::PUT,
        &format!("/o/clinic/fhir/Appointment/{id}"),
        Some(&token),
        Some(same.clone()),
        &[],
    )
    .await;
    resource(&put, StatusCode::OK, "Appointment");
    same["status"] = json!("booked");
    let put = fhir(
        &client,
        Method::PUT,
        &format!("/o/clinic/fhir/Appointment/{id}"),
        Some(&token),
        Some(same),
        &[],
    )
    .await;
    outcome(
        &put,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("status"),
    );
    app.stop().await;
}

async fn portal_bookings_show_through_fhir(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("clinic", &clinic()).await;
    let staff = app.signed_in(&org, Role::FrontDesk).await;
    let ada_portal = app.portal_patient(&org, &staff, "ada").await;
    let christine = practitioner_id(&app, &org, "christine").await;
    let visit = app.id(&org, store::keys::Kind::Service, "visit").await;
    let made = ada_portal
        .api(Method::POST, "/api/v1/orgs/clinic/portal/appointments", Some(json!({"service": visit, "practitioner": christine, "start": "2026-03-02T10:00:00-05:00"})))
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let id = made.json()["id"].as_i64().unwrap();
    let ada = patient_id(&app, &org, "ada").await;
    let client = app.client();

    let full = key(&app, &org, &["schedule:read", "patients:read"]).await;
    let search = get(
        &client,
        &format!("/o/clinic/fhir/Appointment?patient=Patient/{ada}"),
        &full,
    )
    .await;
    let found = entries(&resource(&search, StatusCode::OK, "Bundle"));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["id"], id.to_string());
    assert_eq!(found[0]["start"], "2026-03-02T10:00:00-05:00");
    assert!(
        found[0]["participant"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["actor"]["display"] == "Ada Lane")
    );
    let by_date = get(
        &client,
        &format!("/o/clinic/fhir/Appointment?date=ge2026-03-02&date=lt2026-03-03&practitioner=PractitionerRole/{christine}&status=booked,pending"),
        &full,
    )
    .await;
    assert_eq!(
        entries(&resource(&by_date, StatusCode::OK, "Bundle")).len(),
        1
    );
    let none = get(
        &client,
        "/o/clinic/fhir/Appointment?date=ge2026-03-03&date=lt2026-03-04",
        &full,
    )
    .await;
    assert!(entries(&resource(&none, StatusCode::OK, "Bundle")).is_empty());

    // Without patients:read: no patient's name, and no search by patient.
    let schedule_only = key(&app, &org, &["schedule:read"]).await;
    let read = get(
        &client,
        &format!("/o/clinic/fhir/Appointment/{id}"),
        &schedule_only,
    )
    .await;
    let read = resource(&read, StatusCode::OK, "Appointment");
    assert!(!read.to_string().contains("Ada"), "{read}");
    let refused = get(
        &client,
        &format!("/o/clinic/fhir/Appointment?patient=Patient/{ada}"),
        &schedule_only,
    )
    .await;
    outcome(&refused, StatusCode::FORBIDDEN, "forbidden", None);
    app.stop().await;
}

async fn foreign_ids_forged_slots_scopes_and_costly_ranges_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("clinic", &clinic()).await;
    let other = app.import("other", &clinic()).await;
    let client = app.client();
    let token = key(
        &app,
        &org,
        &["schedule:read", "appointments:write", "patients:read"],
    )
    .await;
    let other_token = key(
        &app,
        &other,
        &["schedule:read", "appointments:write", "patients:read"],
    )
    .await;
    let ada = patient_id(&app, &org, "ada").await;
    let other_ada = patient_id(&app, &other, "ada").await;
    let slots = monday_slots(&app, &org, &client, &token).await;
    let other_slots = monday_slots(&app, &other, &client, &other_token).await;
    let before = (count(&app, &org).await, count(&app, &other).await);

    // Another organisation's patient, slot and appointment.
    let foreign_patient = fhir(
        &client,
        Method::POST,
        "/o/clinic/fhir/Appointment",
        Some(&token),
        Some(appointment_for(&slots[0], other_ada)),
        &[],
    )
    .await;
    outcome(
        &foreign_patient,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("participant"),
    );
    let foreign_slot = fhir(
        &client,
        Method::POST,
        "/o/clinic/fhir/Appointment",
        Some(&token),
        Some(appointment_for(&other_slots[0], ada)),
        &[],
    )
    .await;
    outcome(
        &foreign_slot,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("slot"),
    );
    let read_foreign_slot = get(
        &client,
        &format!(
            "/o/clinic/fhir/Slot/{}",
            other_slots[0]["id"].as_str().unwrap()
        ),
        &token,
    )
    .await;
    outcome(&read_foreign_slot, StatusCode::NOT_FOUND, "not-found", None);
    let theirs = fhir(
        &client,
        Method::POST,
        "/o/other/fhir/Appointment",
        Some(&other_token),
        Some(appointment_for(&other_slots[0], other_ada)),
        &[],
    )
    .await;
    let theirs = resource(&theirs, StatusCode::CREATED, "Appointment")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let read_theirs = get(
        &client,
        &format!("/o/clinic/fhir/Appointment/{theirs}"),
        &token,
    )
    .await;
    outcome(&read_theirs, StatusCode::NOT_FOUND, "not-found", None);
    let cancel_theirs = fhir(
        &client,
        Method::PATCH,
        &format!("/o/clinic/fhir/Appointment/{theirs}"),
        Some(&token),
        Some(json!({"status": "cancelled"})),
        &[],
    )
    .await;
    outcome(&cancel_theirs, StatusCode::NOT_FOUND, "not-found", None);
    // A key of one organisation on the other's address.
    let wrong_org = get(&client, "/o/other/fhir/Location", &token).await;
    outcome(&wrong_org, StatusCode::UNAUTHORIZED, "login", None);
    assert_eq!(count(&app, &org).await, before.0);
    assert_eq!(count(&app, &other).await, before.1 + 1);

    // Forged slot ids: made up, tampered with, or naming a time no slot has.
    let real = slots[0]["id"].as_str().unwrap();
    let mut tampered = real.to_owned();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    for forged in ["AAAA", "not-a-slot", tampered.as_str(), "AQEBAQE"] {
        let read = get(&client, &format!("/o/clinic/fhir/Slot/{forged}"), &token).await;
        outcome(&read, StatusCode::NOT_FOUND, "not-found", None);
        let mut asked = appointment_for(&slots[0], ada);
        asked["slot"][0]["reference"] = json!(format!("Slot/{forged}"));
        let book = fhir(
            &client,
            Method::POST,
            "/o/clinic/fhir/Appointment",
            Some(&token),
            Some(asked),
            &[],
        )
        .await;
        assert!(
            [StatusCode::UNPROCESSABLE_ENTITY, StatusCode::CONFLICT].contains(&book.status),
            "{forged}: {}",
            book.body
        );
    }
    assert_eq!(count(&app, &org).await, before.0);

    // Scopes: none, reading only, booking only.
    let nobody = fhir(
        &client,
        Method::GET,
        "/o/clinic/fhir/Location",
        None,
        None,
        &[],
    )
    .await;
    outcome(&nobody, StatusCode::UNAUTHORIZED, "login", None);
    assert!(nobody.headers.get("www-authenticate").is_some());
    let reader = key(&app, &org, &["schedule:read"]).await;
    let cannot_book = fhir(
        &client,
        Method::POST,
        "/o/clinic/fhir/Appointment",
        Some(&reader),
        Some(appointment_for(&slots[0], ada)),
        &[],
    )
    .await;
    outcome(&cannot_book, StatusCode::FORBIDDEN, "forbidden", None);
    let booker = key(&app, &org, &["appointments:write"]).await;
    let cannot_read = get(&client, "/o/clinic/fhir/Schedule", &booker).await;
    outcome(&cannot_read, StatusCode::FORBIDDEN, "forbidden", None);
    assert_eq!(count(&app, &org).await, before.0);

    // Ranges and parameters.
    let schedule = slots[0]["schedule"]["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    let costly = get(
        &client,
        &format!("/o/clinic/fhir/Slot?schedule={schedule}&start=ge2026-03-02&start=lt2026-06-10"),
        &token,
    )
    .await;
    outcome(
        &costly,
        StatusCode::UNPROCESSABLE_ENTITY,
        "too-costly",
        Some("start"),
    );
    let no_schedule = get(
        &client,
        "/o/clinic/fhir/Slot?start=ge2026-03-02&start=lt2026-03-03",
        &token,
    )
    .await;
    outcome(
        &no_schedule,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("schedule"),
    );
    let bad_start = get(
        &client,
        &format!("/o/clinic/fhir/Slot?schedule={schedule}&start=ge2026-02-30&start=lt2026-03-03"),
        &token,
    )
    .await;
    outcome(
        &bad_start,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("start"),
    );
    let open_ended = get(
        &client,
        &format!("/o/clinic/fhir/Slot?schedule={schedule}&start=ge2026-03-02"),
        &token,
    )
    .await;
    outcome(
        &open_ended,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("start"),
    );
    let misspelt = get(
        &client,
        &format!("/o/clinic/fhir/Slot?schedule={schedule}&strat=ge2026-03-02"),
        &token,
    )
    .await;
    outcome(
        &misspelt,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("strat"),
    );
    let their_schedule = other_slots[0]["schedule"]["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    let ours = format!(
        "{}-{}",
        practitioner_id(&app, &other, "christine").await,
        clinic_id(&app, &other).await
    );
    assert!(their_schedule.ends_with(&ours));
    let foreign_schedule = get(
        &client,
        &format!(
            "/o/clinic/fhir/Slot?schedule={their_schedule}&start=ge2026-03-02&start=lt2026-03-03"
        ),
        &token,
    )
    .await;
    outcome(
        &foreign_schedule,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("schedule"),
    );
    let costly_appointments = get(
        &client,
        "/o/clinic/fhir/Appointment?date=ge2026-01-01&date=lt2027-06-01",
        &token,
    )
    .await;
    outcome(
        &costly_appointments,
        StatusCode::UNPROCESSABLE_ENTITY,
        "too-costly",
        Some("date"),
    );
    let unknown_type = get(&client, "/o/clinic/fhir/Observation", &token).await;
    outcome(&unknown_type, StatusCode::NOT_FOUND, "not-supported", None);
    app.stop().await;
}

async fn metadata_and_bulk_publish_are_public_and_deep_links_open_the_confirm_page(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("clinic", &clinic()).await;
    let client = app.client();
    let statement = fhir(
        &client,
        Method::GET,
        "/o/clinic/fhir/metadata",
        None,
        None,
        &[],
    )
    .await;
    let statement = resource(&statement, StatusCode::OK, "CapabilityStatement");
    assert_eq!(statement["fhirVersion"], "4.0.1");
    let served: Vec<&str> = statement["rest"][0]["resource"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        served,
        [
            "Location",
            "PractitionerRole",
            "HealthcareService",
            "Schedule",
            "Slot",
            "Appointment"
        ]
    );

    // Only an organisation that shows its times before signing in publishes them.
    publish_times(&app, &org, false).await;
    let hidden = fhir(
        &client,
        Method::GET,
        "/o/clinic/fhir/$bulk-publish",
        None,
        None,
        &[],
    )
    .await;
    outcome(&hidden, StatusCode::NOT_FOUND, "not-found", None);
    publish_times(&app, &org, true).await;
    let manifest = fhir(
        &client,
        Method::GET,
        "/o/clinic/fhir/$bulk-publish",
        None,
        None,
        &[],
    )
    .await;
    assert_eq!(manifest.status, StatusCode::OK, "{}", manifest.body);
    let manifest = manifest.json();
    let files: Vec<(&str, &str)> = manifest["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["type"].as_str().unwrap(), o["url"].as_str().unwrap()))
        .collect();
    assert_eq!(
        files.iter().map(|f| f.0).collect::<Vec<_>>(),
        ["Location", "Schedule", "Slot"]
    );
    let mut lines = Vec::new();
    for (kind, url) in &files {
        let path = &url[url.find("/o/").unwrap()..];
        let file = fhir(&client, Method::GET, path, None, None, &[]).await;
        assert_eq!(file.status, StatusCode::OK, "{}", file.body);
        assert!(
            file.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/fhir+ndjson")
        );
        for line in file.body.lines() {
            let value: Value = serde_json::from_str(line).unwrap();
            assert_eq!(value["resourceType"], *kind);
            lines.push(value);
        }
    }
    let slots: Vec<&Value> = lines
        .iter()
        .filter(|l| l["resourceType"] == "Slot")
        .collect();
    // Four weeks of Christine's (Mondays and Tuesdays, 4 a day) and Omar's (Mondays, 2).
    assert_eq!(slots.len(), 4 * (8 + 2), "{}", slots.len());
    let link = slots[0]["extension"][0]["valueUrl"].as_str().unwrap();
    assert_eq!(
        slots[0]["extension"][0]["url"],
        "http://fhir-registry.smarthealthit.org/StructureDefinition/booking-deep-link"
    );
    // Following the link: a visitor is asked to sign in and comes back to it; signed
    // in, it is the confirm page of that very time with that practitioner.
    let path = &link[link.find("/o/").unwrap()..];
    assert!(path.starts_with("/o/clinic/portal/book/"), "{path}");
    let staff = app.signed_in(&org, Role::FrontDesk).await;
    let ada = app.portal_patient(&org, &staff, "ada").await;
    let page = ada.get(path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.contains("Book it"), "{}", page.body);
    assert!(page.contains("Christine Roy") || page.contains("Omar Haddad"));
    assert!(page.contains("Monday 2 March 2026, 09:00"), "{}", page.body);
    app.stop().await;
}

/// The directory `scripts/fhir-tools` installed the two FHIR checkers in.
fn fhir_tools() -> String {
    std::env::var("FHIR_TOOLS")
        .expect("FHIR_TOOLS: run scripts/fhir-tools and set FHIR_TOOLS to the directory it prints")
}

/// Every kind of resource and answer this server emits, gathered from one run: each
/// read, each search Bundle, the CapabilityStatement, OperationOutcomes, the NDJSON
/// lines of `$bulk-publish` and the `$book` Parameters.
async fn everything_served(app: &TestApp) -> Vec<Value> {
    let org = app.import("clinic", &clinic()).await;
    publish_times(app, &org, true).await;
    give_address(app, &org).await;
    let client = app.client();
    let token = key(
        app,
        &org,
        &["schedule:read", "appointments:write", "patients:read"],
    )
    .await;
    let mut served = Vec::new();
    let mut keep = |page: &Page| {
        assert!(
            page.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/fhir+json"),
            "{}",
            page.body
        );
        served.push(page.json());
    };
    keep(
        &fhir(
            &client,
            Method::GET,
            "/o/clinic/fhir/metadata",
            None,
            None,
            &[],
        )
        .await,
    );
    let christine = practitioner_id(app, &org, "christine").await;
    let toronto = clinic_id(app, &org).await;
    let visit = app.id(&org, store::keys::Kind::Service, "visit").await;
    for path in [
        "Location".to_owned(),
        format!("Location/{toronto}"),
        "PractitionerRole".to_owned(),
        format!("PractitionerRole/{christine}"),
        "HealthcareService".to_owned(),
        format!("HealthcareService/{visit}"),
        "Schedule".to_owned(),
        format!("Schedule/{christine}-{toronto}"),
        format!("Schedule?actor=Location/{toronto}&service-type=visit"),
    ] {
        keep(&get(&client, &format!("/o/clinic/fhir/{path}"), &token).await);
    }
    let slots = monday_slots(app, &org, &client, &token).await;
    keep(&get(&client, &format!("/o/clinic/fhir/Slot?schedule=Schedule/{christine}-{toronto}&start=ge2026-03-02&start=lt2026-03-03&status=free"), &token).await);
    keep(
        &get(
            &client,
            &format!("/o/clinic/fhir/Slot/{}", slots[0]["id"].as_str().unwrap()),
            &token,
        )
        .await,
    );
    let ada = patient_id(app, &org, "ada").await;
    let cy = patient_id(app, &org, "cy").await;
    let made = fhir(
        &client,
        Method::POST,
        "/o/clinic/fhir/Appointment",
        Some(&token),
        Some(appointment_for(&slots[0], ada)),
        &[],
    )
    .await;
    let id = made.json()["id"].as_str().unwrap().to_owned();
    keep(&made);
    keep(
        &fhir(
            &client,
            Method::POST,
            "/o/clinic/fhir/Appointment",
            Some(&token),
            Some(appointment_for(&slots[0], cy)),
            &[],
        )
        .await,
    );
    keep(&fhir(
        &client,
        Method::POST,
        "/o/clinic/fhir/Appointment/$book",
        Some(&token),
        Some(json!({"resourceType": "Parameters", "parameter": [{"name": "appointment", "resource": appointment_for(&slots[1], cy)}]})),
        &[],
    )
    .await);
    keep(&get(&client, &format!("/o/clinic/fhir/Appointment/{id}"), &token).await);
    keep(
        &get(
            &client,
            &format!("/o/clinic/fhir/Appointment?patient=Patient/{ada}"),
            &token,
        )
        .await,
    );
    keep(
        &get(
            &client,
            "/o/clinic/fhir/Appointment?date=ge2026-03-02&date=lt2026-03-03",
            &token,
        )
        .await,
    );
    let reader = key(app, &org, &["schedule:read"]).await;
    keep(
        &get(
            &client,
            "/o/clinic/fhir/Appointment?date=ge2026-03-02&date=lt2026-03-03",
            &reader,
        )
        .await,
    );
    keep(
        &fhir(
            &client,
            Method::PATCH,
            &format!("/o/clinic/fhir/Appointment/{id}"),
            Some(&token),
            Some(json!({"status": "cancelled"})),
            &[],
        )
        .await,
    );
    keep(&get(&client, &format!("/o/clinic/fhir/Slot?schedule=Schedule/{christine}-{toronto}&start=ge2026-03-02&start=lt2026-07-02"), &token).await);
    keep(&get(&client, "/o/clinic/fhir/Slot/AAAA", &token).await);
    keep(
        &fhir(
            &client,
            Method::GET,
            "/o/clinic/fhir/Location",
            None,
            None,
            &[],
        )
        .await,
    );
    keep(&get(&client, "/o/clinic/fhir/Observation", &token).await);
    for kind in ["Location", "Schedule", "Slot"] {
        let file = fhir(
            &client,
            Method::GET,
            &format!("/o/clinic/fhir/$bulk-publish/{kind}.ndjson"),
            None,
            None,
            &[],
        )
        .await;
        served.extend(
            file.body
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap()),
        );
    }
    served
}

/// Runs a checker over the resources, which must accept every one.
fn checked_by(program: &str, args: &[&str], resources: &[Value]) {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), serde_json::to_vec(resources).unwrap()).unwrap();
    let mut all: Vec<&str> = args.to_vec();
    let path = file.path().to_str().unwrap().to_owned();
    all.push(&path);
    let out = std::process::Command::new(program)
        .args(&all)
        .output()
        .expect("the checker runs");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{program} {args:?}:\n{said}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the R4 JSON schema with ajv and fhir.resources: set FHIR_TOOLS (scripts/fhir-tools)"]
async fn every_resource_served_validates_with_the_r4_schema_and_fhir_resources() {
    let tools = fhir_tools();
    let app = TestApp::spawn(Backend::Sqlite).await;
    let served = everything_served(&app).await;
    let kinds: std::collections::BTreeSet<&str> = served
        .iter()
        .map(|r| r["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        [
            "Appointment",
            "Bundle",
            "CapabilityStatement",
            "HealthcareService",
            "Location",
            "OperationOutcome",
            "Parameters",
            "PractitionerRole",
            "Schedule",
            "Slot"
        ]
    );
    let scripts = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/fhir");
    checked_by(
        "node",
        &[&format!("{scripts}/validate-schema.cjs"), &tools],
        &served,
    );
    checked_by(
        &format!("{tools}/venv/bin/python3"),
        &[&format!("{scripts}/validate-models.py")],
        &served,
    );
    app.stop().await;
}

/// A slot id is bound to its clinic: the time of one clinic's slot, sent with another
/// clinic of the same practitioner in its id (a forged id), is no slot at all, and
/// nothing is booked (outside review, issue 18).
async fn a_slot_id_with_another_clinic_books_nothing(backend: Backend) {
    use base64::Engine;
    let app = TestApp::spawn(backend).await;
    let scenario = Scenario::from_json(
        json!({
            "version": 1,
            "settings": {"slot_step_minutes": 30, "min_notice_minutes": 60},
            "clinics": [{"id": "toronto", "name": "Toronto", "timezone": "America/Toronto"},
                        {"id": "whitby", "name": "Whitby", "timezone": "America/Toronto"}],
            "schedule_types": [{"id": "physio", "name": "Physio", "clinic": "toronto"},
                               {"id": "physio-w", "name": "Physio Whitby", "clinic": "whitby"}],
            "practitioners": [
                {"id": "christine", "name": "Christine Roy", "type": "physio", "home_clinic": "toronto", "schedule_types": ["physio", "physio-w"],
                 "availability": [{"start_date": "2026-01-01",
                   "blocks": [{"days": ["mon"], "start": "09:00", "end": "11:00", "schedule_type": "physio"},
                              {"days": ["tue"], "start": "09:00", "end": "11:00", "schedule_type": "physio-w"}]}]}],
            "services": [{"id": "visit", "name": "Physio visit", "duration_minutes": 30, "book_from_portal": true,
                          "schedule_types": ["physio", "physio-w"]}],
            "patients": [{"id": "ada", "first_name": "Ada", "last_name": "Lane", "email": "ada@example.com"}]
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    let org = app.import("clinic", &scenario).await;
    let token = key(&app, &org, &["schedule:read", "appointments:write"]).await;
    let client = app.client();
    let christine = practitioner_id(&app, &org, "christine").await;
    let toronto = app.id(&org, store::keys::Kind::Clinic, "toronto").await;
    let whitby = app.id(&org, store::keys::Kind::Clinic, "whitby").await;
    let page = get(
        &client,
        &format!("/o/clinic/fhir/Slot?schedule=Schedule/{christine}-{whitby}&start=ge2026-03-03&start=lt2026-03-04&status=free"),
        &token,
    )
    .await;
    let slots = entries(&resource(&page, StatusCode::OK, "Bundle"));
    assert!(!slots.is_empty(), "Tuesday's slots at Whitby");
    // The same id with Toronto for Whitby: the version byte, then the varints.
    let codec = base64::engine::GeneralPurpose::new(
        &base64::alphabet::Alphabet::new(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.",
        )
        .unwrap(),
        base64::engine::GeneralPurposeConfig::new()
            .with_encode_padding(false)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone),
    );
    let mut bytes = codec.decode(slots[0]["id"].as_str().unwrap()).unwrap();
    assert!(christine < 128 && toronto < 128 && whitby < 128);
    assert_eq!(
        bytes[2], whitby as u8,
        "the clinic follows the practitioner"
    );
    bytes[2] = toronto as u8;
    let forged = codec.encode(&bytes);
    let mut asked = appointment_for(&slots[0], patient_id(&app, &org, "ada").await);
    asked["slot"][0]["reference"] = json!(format!("Slot/{forged}"));
    let before = count(&app, &org).await;
    let book = fhir(
        &client,
        Method::POST,
        "/o/clinic/fhir/Appointment",
        Some(&token),
        Some(asked),
        &[],
    )
    .await;
    assert!(
        [
            StatusCode::UNPROCESSABLE_ENTITY,
            StatusCode::NOT_FOUND,
            StatusCode::CONFLICT
        ]
        .contains(&book.status),
        "{}",
        book.body
    );
    assert_eq!(count(&app, &org).await, before, "nothing was booked");
    // The real id books, at Whitby.
    let real = appointment_for(&slots[0], patient_id(&app, &org, "ada").await);
    let booked = fhir(
        &client,
        Method::POST,
        "/o/clinic/fhir/Appointment",
        Some(&token),
        Some(real),
        &[],
    )
    .await;
    resource(&booked, StatusCode::CREATED, "Appointment");
    app.stop().await;
}

/// What the server refuses before any route answers (an address too long, a cross-site
/// change; a body too large takes the same way, but a client still sending 16 MiB may
/// see the connection close before it reads the answer, so it is not tried here) is an
/// OperationOutcome under the FHIR base too (outside review, issue 18).
async fn refusals_before_any_route_are_operation_outcomes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("clinic", &clinic()).await;
    let token = key(&app, &org, &["schedule:read", "appointments:write"]).await;
    let client = app.client();
    let long = get(
        &client,
        &format!("/o/clinic/fhir/Schedule?x={}", "a".repeat(9000)),
        &token,
    )
    .await;
    assert_eq!(long.status, StatusCode::URI_TOO_LONG, "{}", long.body);
    resource(&long, StatusCode::URI_TOO_LONG, "OperationOutcome");
    let cross_site = fhir(
        &client,
        Method::POST,
        "/o/clinic/fhir/Appointment",
        Some(&token),
        Some(json!({"resourceType": "Appointment"})),
        &[
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://ehr.example"),
        ],
    )
    .await;
    resource(&cross_site, StatusCode::FORBIDDEN, "OperationOutcome");
    app.stop().await;
}

both!(
    slots_found_and_booked_through_fhir_show_in_the_portal,
    portal_bookings_show_through_fhir,
    foreign_ids_forged_slots_scopes_and_costly_ranges_change_nothing,
    a_slot_id_with_another_clinic_books_nothing,
    refusals_before_any_route_are_operation_outcomes,
    metadata_and_bulk_publish_are_public_and_deep_links_open_the_confirm_page,
);
