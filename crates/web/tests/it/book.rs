//! The appointment book: staff bookings from the form and the API (with and without an
//! override, whose reason lands in the audit log), moving and cancelling, the day and
//! week pages in the schedule types' colours, the practitioner's own view, tenant
//! isolation and CSRF refusals.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use slot_engine::Scenario;
use store::Organisation;
use store::keys::Kind;
use store::staff::{NewStaff, Role};

use crate::both;
use crate::support::{Backend, Client, PASSWORD, Page, TestApp};

/// A worked scenario, changed by `patch` (as JSON) before it is parsed.
pub(crate) fn scenario(json: &[u8], patch: impl FnOnce(&mut Value)) -> Scenario {
    let mut value: Value = serde_json::from_slice(json).unwrap();
    patch(&mut value);
    Scenario::from_json(value.to_string().as_bytes()).unwrap()
}

/// `basic.json` with colours on its schedule type and two patients.
pub(crate) fn basic() -> Scenario {
    scenario(
        include_bytes!("../../../slot-engine/tests/data/scenarios/basic.json"),
        |s| {
            s["schedule_types"][0]["background_color"] = json!("#cfe8ff");
            s["schedule_types"][0]["font_color"] = json!("#0b2a4a");
            s["patients"] = json!([
                {"id": "ada", "first_name": "Ada", "last_name": "Lane", "email": "ada@example.com"},
                {"id": "bo", "first_name": "Bo", "last_name": "Reyes", "email": "bo@example.com"}
            ]);
        },
    )
}

/// The row id of the `kind` with scenario id `key`.
pub(crate) async fn id(app: &TestApp, org: &Organisation, kind: Kind, key: &str) -> i64 {
    let mut conn = app.db.conn().await.unwrap();
    store::keys::id_of(conn.exec(), kind, org.id, key)
        .await
        .unwrap()
}

/// A JSON API call with extra headers (and the CSRF token).
pub(crate) async fn api_with(
    client: &Client,
    method: Method,
    path: &str,
    body: Value,
    headers: &[(&str, &str)],
) -> Page {
    let mut request = client
        .http
        .request(method, client.url(path))
        .header("x-csrf-token", client.csrf_token(path).await)
        .json(&body);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().await.unwrap();
    Page {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    }
}

/// How many appointments the organisation has.
pub(crate) async fn count(app: &TestApp, org: &Organisation) -> i64 {
    let mut conn = app.db.conn().await.unwrap();
    store::appointment::count(conn.exec(), org.id)
        .await
        .unwrap()
}

/// Audit actions about one appointment, oldest first, with their details.
pub(crate) async fn audit(
    app: &TestApp,
    org: &Organisation,
    entity: &str,
    id: i64,
) -> Vec<(String, Value)> {
    let mut conn = app.db.conn().await.unwrap();
    let mut entries = store::audit::recent(conn.exec(), org.id, Some((entity, id)), 50)
        .await
        .unwrap();
    entries.reverse();
    entries
        .into_iter()
        .map(|e| (e.action, serde_json::from_str(&e.details).unwrap()))
        .collect()
}

const CONFLICT_REASON: &str =
    "1 appointment already at 09:30 on 2026-03-02 (Physiotherapy does not allow conflicts)";

async fn the_form_books_and_an_override_needs_a_reason_recorded_in_the_audit_log(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &basic()).await;
    let client = app.signed_in(&org, Role::FrontDesk).await;
    let christine = id(&app, &org, Kind::Practitioner, "christine").await;
    let physio = id(&app, &org, Kind::ScheduleType, "physio").await;
    let initial = id(&app, &org, Kind::Service, "initial").await;
    let ada = id(&app, &org, Kind::Patient, "ada").await;

    // The form opens prefilled: the service's duration, the clinic's timezone.
    let form = client
        .get(&format!(
            "/o/acme/admin/book/new?practitioner={christine}&date=2026-03-02&service={initial}&patient={ada}"
        ))
        .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(
        form.contains(
            "name=\"duration_minutes\" type=\"number\" min=\"1\" max=\"1440\" value=\"45\""
        )
    );
    assert!(form.contains("America/Toronto"));
    assert!(form.contains("Ada Lane"));
    // Searching patients books nothing and lists the matches.
    let found = client
        .post_form(
            "/o/acme/admin/book/new",
            &[
                ("action", "find"),
                ("patient_q", "reyes"),
                ("date", "2026-03-02"),
            ],
        )
        .await;
    assert_eq!(found.status, StatusCode::OK);
    assert!(found.contains("Bo Reyes"));
    assert_eq!(count(&app, &org).await, 1);

    // A booking that fits goes in at once.
    let christine_s = christine.to_string();
    let ada_s = ada.to_string();
    let initial_s = initial.to_string();
    let physio_s = physio.to_string();
    let booked = client
        .post_form(
            "/o/acme/admin/book/new",
            &[
                ("action", "book"),
                ("practitioner", &christine_s),
                ("patient", &ada_s),
                ("service", &initial_s),
                ("date", "2026-03-02"),
                ("time", "10:00"),
                ("duration_minutes", "45"),
                ("duration_default", "45"),
                ("idempotency_key", "form-1"),
            ],
        )
        .await;
    assert_eq!(booked.status, StatusCode::SEE_OTHER, "{}", booked.body);
    assert!(booked.location().contains("notice=booked"));
    let book = client.get(&booked.location()).await;
    assert!(
        book.contains("Booked: Ada Lane with christine, Mon 2 Mar 2026, 10:00–10:45."),
        "{}",
        book.body
    );
    assert_eq!(count(&app, &org).await, 2);

    // One that double-books: every reason, and an explicit override with a reason.
    let conflict_fields = [
        ("action", "book"),
        ("practitioner", christine_s.as_str()),
        ("patient", ada_s.as_str()),
        ("schedule_type", physio_s.as_str()),
        ("date", "2026-03-02"),
        ("time", "09:30"),
        ("duration_minutes", "30"),
        ("idempotency_key", "form-2"),
    ];
    let refused = client
        .post_form("/o/acme/admin/book/new", &conflict_fields)
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(refused.contains("This booking needs an override."));
    assert!(
        refused.contains(&format!("<li>{CONFLICT_REASON}</li>")),
        "{}",
        refused.body
    );
    assert!(refused.contains("name=\"override\""));
    assert!(refused.contains("name=\"override_reason\""));
    assert_eq!(count(&app, &org).await, 2);

    // Ticking the override without saying why changes nothing, and the reasons stay.
    let mut no_reason = conflict_fields.to_vec();
    no_reason.extend([
        ("override", "1"),
        ("override_reason", " "),
        ("reason", CONFLICT_REASON),
    ]);
    let refused = client.post_form("/o/acme/admin/book/new", &no_reason).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.contains("id=\"override_reason-error\""));
    assert!(refused.contains(CONFLICT_REASON));
    assert_eq!(count(&app, &org).await, 2);

    let mut with_reason = conflict_fields.to_vec();
    with_reason.extend([
        ("override", "1"),
        (
            "override_reason",
            "Acute pain; Christine agreed to double-book",
        ),
    ]);
    let overridden = client
        .post_form("/o/acme/admin/book/new", &with_reason)
        .await;
    assert_eq!(
        overridden.status,
        StatusCode::SEE_OTHER,
        "{}",
        overridden.body
    );
    assert_eq!(count(&app, &org).await, 3);
    let appointment: i64 = overridden
        .location()
        .rsplit("appointment=")
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let trail = audit(&app, &org, "appointment", appointment).await;
    assert_eq!(trail[0].0, "appointment.book_override");
    assert_eq!(
        trail[0].1["override_reason"],
        "Acute pain; Christine agreed to double-book"
    );
    assert_eq!(trail[0].1["overridden"], json!([CONFLICT_REASON]));
    // The appointment's page says who overrode and why.
    let page = client
        .get(&format!("/o/acme/admin/book/appointments/{appointment}"))
        .await;
    assert!(page.contains("Booked with an override"));
    assert!(page.contains("Acute pain; Christine agreed to double-book"));
    assert!(page.contains("front_desk-acme"), "who: {}", page.body);
    // Its schedule-type swatch has the book's colours.
    assert!(page.contains("href=\"/o/acme/admin/book/colours.css\""));

    // A bad date or time is named next to its field, and nothing is booked.
    let bad = client
        .post_form(
            "/o/acme/admin/book/new",
            &[
                ("action", "book"),
                ("practitioner", &christine_s),
                ("schedule_type", &physio_s),
                ("date", "2026-02-30"),
                ("time", "25:00"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.contains("id=\"date-error\"") && bad.contains("id=\"time-error\""));
    assert_eq!(count(&app, &org).await, 3);
    // Resubmitting the first form (same key) books nothing new.
    let again = client
        .post_form(
            "/o/acme/admin/book/new",
            &[
                ("action", "book"),
                ("practitioner", &christine_s),
                ("patient", &ada_s),
                ("service", &initial_s),
                ("date", "2026-03-02"),
                ("time", "10:00"),
                ("duration_minutes", "45"),
                ("duration_default", "45"),
                ("idempotency_key", "form-1"),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(count(&app, &org).await, 3);
    app.stop().await;
}

async fn the_api_books_answers_409_with_every_reason_and_honours_idempotency_keys(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &basic()).await;
    let client = app.signed_in(&org, Role::FrontDesk).await;
    let christine = id(&app, &org, Kind::Practitioner, "christine").await;
    let physio = id(&app, &org, Kind::ScheduleType, "physio").await;
    let initial = id(&app, &org, Kind::Service, "initial").await;
    let ada = id(&app, &org, Kind::Patient, "ada").await;
    let path = "/api/v1/orgs/acme/appointments";

    let body = json!({"practitioner": christine, "patient": ada, "service": initial,
                      "start": "2026-03-02T10:00:00-05:00"});
    let first = api_with(
        &client,
        Method::POST,
        path,
        body.clone(),
        &[("Idempotency-Key", "k-1")],
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let a = first.json();
    assert_eq!(a["start"], "2026-03-02T10:00:00-05:00");
    assert_eq!(a["end"], "2026-03-02T10:45:00-05:00");
    assert_eq!(a["duration_minutes"], 45);
    assert_eq!(a["patient_name"], "Ada Lane");
    assert_eq!(a["service_name"], "Initial assessment");
    assert_eq!(a["schedule_type_name"], "Physiotherapy");
    assert_eq!(a["background_color"], "#cfe8ff");
    assert_eq!(a["channel"], "staff");
    assert_eq!(a["timezone"], "America/Toronto");
    // The same key again: the first booking, not a second.
    let replay = api_with(
        &client,
        Method::POST,
        path,
        body,
        &[("Idempotency-Key", "k-1")],
    )
    .await;
    assert_eq!(replay.status, StatusCode::OK);
    assert_eq!(replay.json()["id"], a["id"]);
    assert_eq!(count(&app, &org).await, 2);
    // The same key with another body: refused naming the key, nothing booked.
    let changed = api_with(
        &client,
        Method::POST,
        path,
        json!({"practitioner": christine, "patient": ada, "service": initial,
               "start": "2026-03-02T11:00:00-05:00"}),
        &[("Idempotency-Key", "k-1")],
    )
    .await;
    assert_eq!(
        changed.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        changed.body
    );
    assert_eq!(changed.json()["error"]["field"], "idempotency_key");
    assert_eq!(count(&app, &org).await, 2);

    // A double-booking: 409 listing the reasons, nothing booked.
    let conflict = json!({"practitioner": christine, "schedule_type": physio,
                          "start": "2026-03-02T09:30:00-05:00", "duration_minutes": 30});
    let refused = client.api(Method::POST, path, Some(conflict.clone())).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    let error = &refused.json()["error"];
    assert_eq!(error["code"], "conflict");
    assert_eq!(error["details"]["needs_override"], json!([CONFLICT_REASON]));
    // Outside availability and on a day without blocks: every reason at once.
    let tuesday = client
        .api(
            Method::POST,
            path,
            Some(json!({"practitioner": christine, "schedule_type": physio,
                        "start": "2026-03-03T09:00:00-05:00", "duration_minutes": 30})),
        )
        .await;
    assert_eq!(tuesday.status, StatusCode::CONFLICT);
    assert!(
        !tuesday.json()["error"]["details"]["needs_override"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(count(&app, &org).await, 2);
    // An empty reason is refused naming the field.
    let mut empty = conflict.clone();
    empty["override_reason"] = json!("");
    let refused = client.api(Method::POST, path, Some(empty)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.json()["error"]["field"], "override_reason");
    // With a reason it goes in, and says so.
    let mut with_reason = conflict;
    with_reason["override_reason"] = json!("Family booked together");
    let overridden = client.api(Method::POST, path, Some(with_reason)).await;
    assert_eq!(
        overridden.status,
        StatusCode::CREATED,
        "{}",
        overridden.body
    );
    assert_eq!(
        overridden.json()["override_reason"],
        "Family booked together"
    );
    let trail = audit(
        &app,
        &org,
        "appointment",
        overridden.json()["id"].as_i64().unwrap(),
    )
    .await;
    assert_eq!(trail[0].0, "appointment.book_override");
    assert_eq!(trail[0].1["override_reason"], "Family booked together");
    // Bad input names its field.
    let bad = client
        .api(
            Method::POST,
            path,
            Some(json!({"practitioner": christine, "schedule_type": physio, "start": "monday"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["error"]["field"], "start");
    let long = client
        .api(
            Method::POST,
            path,
            Some(json!({"practitioner": christine, "schedule_type": physio,
                        "start": "2026-03-02T09:00:00-05:00", "duration_minutes": 2000})),
        )
        .await;
    assert_eq!(long.json()["error"]["field"], "duration_minutes");
    assert_eq!(count(&app, &org).await, 3);

    // The list: by date in the clinic's timezone, one practitioner, cancelled or not.
    let list = client
        .api(
            Method::GET,
            &format!("{path}?from=2026-03-02&to=2026-03-02&practitioner={christine}"),
            None,
        )
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let all = list.json();
    let starts: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["start"].as_str().unwrap())
        .collect();
    assert_eq!(
        starts,
        [
            "2026-03-02T09:30:00-05:00",
            "2026-03-02T09:30:00-05:00",
            "2026-03-02T10:00:00-05:00"
        ]
    );
    let none = client
        .api(Method::GET, &format!("{path}?from=2026-03-03"), None)
        .await;
    assert_eq!(none.json(), json!([]));
    let bad = client
        .api(Method::GET, &format!("{path}?from=yesterday"), None)
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["error"]["field"], "from");
    app.stop().await;
}

async fn staff_move_and_cancel_with_overrides_when_needed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &basic()).await;
    let client = app.signed_in(&org, Role::FrontDesk).await;
    let christine = id(&app, &org, Kind::Practitioner, "christine").await;
    let physio = id(&app, &org, Kind::ScheduleType, "physio").await;
    let ada = id(&app, &org, Kind::Patient, "ada").await;
    let created = client
        .api(
            Method::POST,
            "/api/v1/orgs/acme/appointments",
            Some(
                json!({"practitioner": christine, "schedule_type": physio, "patient": ada,
                        "start": "2026-03-02T09:00:00-05:00", "duration_minutes": 30}),
            ),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let a = created.json()["id"].as_i64().unwrap();
    let move_path = format!("/api/v1/orgs/acme/appointments/{a}/move");
    // Ada hears of each change, with the invitation that keeps her calendar right.
    let ada_mail = || async {
        let mut conn = app.db.conn().await.unwrap();
        let mut m = store::outbox::to_address(conn.exec(), "ada@example.com", 50)
            .await
            .unwrap();
        m.sort_by_key(|m| m.id);
        m
    };
    let booked = ada_mail().await;
    assert_eq!(booked.len(), 1);
    assert!(booked[0].subject.starts_with("Appointment confirmed"));
    assert!(booked[0].ics.as_deref().unwrap().contains("SEQUENCE:0\r\n"));

    // The API: a free time moves; onto another appointment needs an override.
    let moved = client
        .api(
            Method::POST,
            &move_path,
            Some(json!({"start": "2026-03-02T11:00:00-05:00"})),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    assert_eq!(moved.json()["start"], "2026-03-02T11:00:00-05:00");
    assert_eq!(moved.json()["duration_minutes"], 30);
    let mail = ada_mail().await;
    let notice = mail.last().unwrap();
    assert!(
        notice.subject.starts_with("Appointment moved"),
        "{}",
        notice.subject
    );
    let invitation = notice.ics.as_deref().unwrap();
    assert!(
        invitation.contains("SEQUENCE:1\r\n")
            && invitation.contains("DTSTART;TZID=America/Toronto:20260302T110000\r\n"),
        "{invitation}"
    );
    let refused = client
        .api(
            Method::POST,
            &move_path,
            Some(json!({"start": "2026-03-02T09:30:00-05:00"})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(
        refused.json()["error"]["details"]["needs_override"],
        json!([CONFLICT_REASON])
    );
    let forced = client
        .api(
            Method::POST,
            &move_path,
            Some(json!({"start": "2026-03-02T09:30:00-05:00", "override_reason": "Same family"})),
        )
        .await;
    assert_eq!(forced.status, StatusCode::OK, "{}", forced.body);
    assert_eq!(forced.json()["override_reason"], "Same family");

    // The page: back to 10:00 for 45 minutes; then into the other appointment.
    let page_path = format!("/o/acme/admin/book/appointments/{a}/move");
    let christine_s = christine.to_string();
    let page = client
        .post_form(
            &page_path,
            &[
                ("date", "2026-03-02"),
                ("time", "10:00"),
                ("duration_minutes", "45"),
                ("practitioner", &christine_s),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert!(page.location().contains("notice=moved"));
    let one = client
        .api(
            Method::GET,
            &format!("/api/v1/orgs/acme/appointments/{a}"),
            None,
        )
        .await;
    assert_eq!(one.json()["start"], "2026-03-02T10:00:00-05:00");
    assert_eq!(one.json()["end"], "2026-03-02T10:45:00-05:00");
    let refused = client
        .post_form(
            &page_path,
            &[
                ("date", "2026-03-02"),
                ("time", "09:15"),
                ("duration_minutes", "30"),
                ("practitioner", &christine_s),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.contains("This move needs an override."));
    assert!(refused.contains("1 appointment already at 09:30 on 2026-03-02"));
    let forced = client
        .post_form(
            &page_path,
            &[
                ("date", "2026-03-02"),
                ("time", "09:15"),
                ("duration_minutes", "30"),
                ("practitioner", &christine_s),
                ("override", "1"),
                ("override_reason", "Running late anyway"),
            ],
        )
        .await;
    assert_eq!(forced.status, StatusCode::SEE_OTHER, "{}", forced.body);
    let actions: Vec<String> = audit(&app, &org, "appointment", a)
        .await
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    assert_eq!(
        actions,
        [
            "appointment.book",
            "appointment.reschedule",
            "appointment.reschedule_override",
            "appointment.reschedule",
            "appointment.reschedule_override"
        ]
    );

    // Cancel from the page, then again through the API: refused, nothing changes.
    let cancelled = client
        .post_form(&format!("/o/acme/admin/book/appointments/{a}/cancel"), &[])
        .await;
    assert_eq!(cancelled.status, StatusCode::SEE_OTHER);
    let one = client
        .api(
            Method::GET,
            &format!("/api/v1/orgs/acme/appointments/{a}"),
            None,
        )
        .await;
    assert_eq!(one.json()["status"], "cancelled");
    let mail = ada_mail().await;
    assert_eq!(mail.len(), 6, "booked, four moves, cancelled");
    let cancellation = mail.last().unwrap();
    assert!(cancellation.subject.starts_with("Appointment cancelled"));
    let removal = cancellation.ics.as_deref().unwrap();
    assert!(
        removal.contains("METHOD:CANCEL\r\n") && removal.contains("SEQUENCE:5\r\n"),
        "{removal}"
    );
    let again = client
        .api(
            Method::DELETE,
            &format!("/api/v1/orgs/acme/appointments/{a}"),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The API cancels too, and a cancelled appointment no longer blocks the slot.
    let imported = client
        .api(
            Method::GET,
            "/api/v1/orgs/acme/appointments?from=2026-03-02",
            None,
        )
        .await
        .json()[0]["id"]
        .as_i64()
        .unwrap();
    let deleted = client
        .api(
            Method::DELETE,
            &format!("/api/v1/orgs/acme/appointments/{imported}"),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(deleted.json()["status"], "cancelled");
    let free = client
        .api(
            Method::POST,
            "/api/v1/orgs/acme/appointments",
            Some(json!({"practitioner": christine, "schedule_type": physio,
                        "start": "2026-03-02T09:30:00-05:00", "duration_minutes": 30})),
        )
        .await;
    assert_eq!(free.status, StatusCode::CREATED, "{}", free.body);
    app.stop().await;
}

async fn day_and_week_pages_draw_appointments_in_their_colours_over_availability(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &basic()).await;
    let client = app.signed_in(&org, Role::FrontDesk).await;
    let christine = id(&app, &org, Kind::Practitioner, "christine").await;
    let physio = id(&app, &org, Kind::ScheduleType, "physio").await;
    let initial = id(&app, &org, Kind::Service, "initial").await;
    let ada = id(&app, &org, Kind::Patient, "ada").await;
    let booked = client
        .api(
            Method::POST,
            "/api/v1/orgs/acme/appointments",
            Some(
                json!({"practitioner": christine, "patient": ada, "service": initial,
                        "start": "2026-03-02T10:00:00-05:00"}),
            ),
        )
        .await;
    assert_eq!(booked.status, StatusCode::CREATED);

    let day = client.get("/o/acme/admin/book?date=2026-03-02").await;
    assert_eq!(day.status, StatusCode::OK, "{}", day.body);
    assert!(day.contains("<h2>Monday 2 March 2026</h2>"));
    assert!(day.contains("Times in America/Toronto."));
    assert!(day.contains("href=\"/o/acme/admin/book/colours.css\""));
    // The booked appointment in its schedule type's class, with patient, service, time.
    let appointment = booked.json()["id"].as_i64().unwrap();
    // It carries what the calendar's script needs to move it, and its place in its
    // cell: first row, rows spanned, lane.
    let item = format!(
        "<a href=\"/o/acme/admin/book/appointments/{appointment}\" data-id=\"{appointment}\" data-practitioner=\"{christine}\" data-start=\"2026-03-02T10:00:00-05:00\" data-minutes=\"45\" class=\"appt st-{physio} r-1 s-3 l-1 status-booked\"><span class=\"time\">10:00–10:45</span> <strong>Ada Lane</strong> <span>Initial assessment</span><span class=\"visually-hidden\"> (booked)</span></a>"
    );
    assert!(day.contains(&item), "{}", day.body);
    // The imported one has no schedule type: it takes the colour of the block it is in.
    // Without a patient it is blocked time.
    assert!(day.contains(&format!("class=\"appt st-{physio} r-1 s-2 l-1 status-booked block\"><span class=\"time\">09:30–10:00</span> <strong>Blocked time</strong>")));
    // Availability behind them: Christine's Physiotherapy block, bookable online.
    assert!(day.contains(&format!(
        "<td class=\"av av-{physio} online\" title=\"Physiotherapy (online)\"><a class=\"free\" href="
    )));
    assert!(day.contains("<th scope=\"row\">09:00</th>"));
    // Navigation by day, and the stylesheet with the colours.
    assert!(
        day.contains("href=\"/o/acme/admin/book?view=day&#38;date=2026-03-01\""),
        "{}",
        day.body
    );
    assert!(day.contains("href=\"/o/acme/admin/book?view=day&#38;date=2026-03-03\""));
    assert!(day.contains("href=\"/o/acme/admin/book?view=day\">Today</a>"));
    let css = client.get("/o/acme/admin/book/colours.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(
        css.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert!(css.contains(&format!(
        ".st-{physio}{{background-color:#cfe8ff;color:#0b2a4a;border-color:#0b2a4a}}"
    )));
    assert!(css.contains(&format!("td.av-{physio}{{background-color:#e7f4ff}}")));

    // The week: Monday to Sunday, with the same appointment.
    let week = client
        .get("/o/acme/admin/book?view=week&date=2026-03-04")
        .await;
    assert_eq!(week.status, StatusCode::OK);
    assert!(week.contains("<h2>Week of Monday 2 March 2026</h2>"));
    assert!(week.contains("Sun 8 Mar"));
    assert!(week.contains(&item));
    // A week is one practitioner's (here the only one), and its links say whose.
    assert!(week.contains(&format!(
        "href=\"/o/acme/admin/book?view=week&#38;date=2026-02-25&#38;practitioner={christine}\""
    )));
    assert!(week.contains(&format!(
        "href=\"/o/acme/admin/book?view=week&#38;date=2026-03-11&#38;practitioner={christine}\""
    )));

    // "Today" is read in the clinic's timezone: 03:00 UTC on the 3rd is still the 2nd
    // in Toronto.
    app.clock.set("2026-03-03T03:00:00Z".parse().unwrap());
    // A day and a half on: sign in again (a session ends after 12 idle hours).
    let again = client
        .sign_in(
            "acme",
            "front_desk-acme@example.com",
            crate::support::PASSWORD,
        )
        .await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    let today = client.get("/o/acme/admin/book").await;
    assert!(
        today.contains("<h2>Monday 2 March 2026</h2>"),
        "{}",
        today.body
    );
    // Cancelled appointments show only when asked, struck through.
    client
        .api(
            Method::DELETE,
            &format!("/api/v1/orgs/acme/appointments/{appointment}"),
            None,
        )
        .await;
    let hidden = client.get("/o/acme/admin/book?date=2026-03-02").await;
    assert!(!hidden.contains("Ada Lane"));
    let shown = client
        .get("/o/acme/admin/book?date=2026-03-02&cancelled=1")
        .await;
    assert!(shown.contains("status-cancelled cancelled"));
    // Bad parameters are named.
    let bad = client.get("/o/acme/admin/book?date=2026-13-01").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.contains("date"));
    app.stop().await;
}

async fn a_practitioner_reads_only_their_own_schedule(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let scenario = scenario(
        include_bytes!("../../../slot-engine/tests/data/scenarios/two-clinics.json"),
        |s| {
            s["patients"] = json!([
                {"id": "ada", "first_name": "Ada", "last_name": "Lane", "email": "ada@example.com"},
                {"id": "bo", "first_name": "Bo", "last_name": "Reyes", "email": "bo@example.com"}
            ]);
            s["appointments"] = json!([
                {"practitioner": "christine", "patient": "ada", "start": "2026-05-11T09:00:00-04:00", "end": "2026-05-11T10:00:00-04:00"},
                {"practitioner": "omar", "patient": "bo", "start": "2026-05-11T10:00:00-04:00", "end": "2026-05-11T11:00:00-04:00"}
            ]);
        },
    );
    let org = app.import("acme", &scenario).await;
    let omar = id(&app, &org, Kind::Practitioner, "omar").await;
    let christine = id(&app, &org, Kind::Practitioner, "christine").await;
    let mut tx = app.db.begin().await.unwrap();
    store::staff::create(
        &mut tx,
        org.id,
        &NewStaff {
            email: "omar@example.com",
            name: "Omar",
            role: Role::Practitioner,
            practitioner_id: Some(omar),
            password_hash: &openslot_web::auth::password::hash(PASSWORD),
        },
        0,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let client = app.client();
    client.sign_in("acme", "omar@example.com", PASSWORD).await;

    let page = client
        .get(&format!(
            "/o/acme/admin/book?date=2026-05-11&practitioner={christine}"
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.contains("Bo Reyes") && page.contains("Your own schedule."));
    assert!(
        !page.contains("Ada Lane"),
        "another practitioner's patient shown"
    );
    assert!(
        !page.contains("/admin/book/new"),
        "practitioners do not book"
    );
    let list = client
        .api(
            Method::GET,
            "/api/v1/orgs/acme/appointments?from=2026-05-11",
            None,
        )
        .await;
    assert_eq!(list.status, StatusCode::OK);
    let all = list.json();
    assert_eq!(all.as_array().unwrap().len(), 1);
    assert_eq!(all[0]["patient_name"], "Bo Reyes");
    let theirs = client
        .api(
            Method::GET,
            &format!("/api/v1/orgs/acme/appointments?from=2026-05-11&practitioner={christine}"),
            None,
        )
        .await;
    assert_eq!(theirs.status, StatusCode::FORBIDDEN);
    // Christine's appointment, by id: not found for Omar.
    let front = app.signed_in(&org, Role::FrontDesk).await;
    let everyone = front
        .api(
            Method::GET,
            "/api/v1/orgs/acme/appointments?from=2026-05-11",
            None,
        )
        .await
        .json();
    let hers = everyone
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["practitioner_id"] == christine)
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let one = client
        .api(
            Method::GET,
            &format!("/api/v1/orgs/acme/appointments/{hers}"),
            None,
        )
        .await;
    assert_eq!(one.status, StatusCode::NOT_FOUND);
    assert!(!one.body.contains("Ada"));
    // And nothing that changes the book.
    for (method, path, body) in [
        (
            Method::POST,
            "/api/v1/orgs/acme/appointments".to_owned(),
            Some(
                json!({"practitioner": omar, "start": "2026-05-11T10:00:00-04:00", "duration_minutes": 30}),
            ),
        ),
        (
            Method::DELETE,
            format!("/api/v1/orgs/acme/appointments/{hers}"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/orgs/acme/appointments/{hers}/move"),
            Some(json!({"start": "2026-05-11T11:00:00-04:00"})),
        ),
    ] {
        assert_eq!(
            client.api(method, &path, body).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    assert_eq!(
        client.get("/o/acme/admin/book/new").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        client
            .get(&format!("/o/acme/admin/book/appointments/{hers}"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    app.stop().await;
}

async fn another_organisations_appointments_and_patients_are_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.import("acme", &basic()).await;
    let other = app.import("other", &scenario(
        include_bytes!("../../../slot-engine/tests/data/scenarios/basic.json"),
        |s| {
            s["patients"] = json!([{"id": "zed", "first_name": "Zed", "last_name": "Secret", "email": "zed@example.com"}]);
            s["appointments"][0]["patient"] = json!("zed");
        },
    )).await;
    let client = app.signed_in(&acme, Role::FrontDesk).await;
    let zed = id(&app, &other, Kind::Patient, "zed").await;
    let their_christine = id(&app, &other, Kind::Practitioner, "christine").await;
    let theirs = {
        let mut conn = app.db.conn().await.unwrap();
        store::appointment::of_patient(conn.exec(), other.id, zed)
            .await
            .unwrap()[0]
            .id
    };
    let christine = id(&app, &acme, Kind::Practitioner, "christine").await;
    for (method, path, body) in [
        (
            Method::GET,
            format!("/api/v1/orgs/acme/appointments/{theirs}"),
            None,
        ),
        (
            Method::DELETE,
            format!("/api/v1/orgs/acme/appointments/{theirs}"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/orgs/acme/appointments/{theirs}/move"),
            Some(json!({"start": "2026-03-02T11:00:00-05:00"})),
        ),
        (
            Method::POST,
            format!("/api/v1/orgs/acme/appointments/{theirs}/accept"),
            Some(json!({})),
        ),
        (
            Method::GET,
            format!("/api/v1/orgs/acme/patients/{zed}"),
            None,
        ),
        (
            Method::PUT,
            format!("/api/v1/orgs/acme/patients/{zed}"),
            Some(json!({"first_name": "Mine", "last_name": "Now", "email": "mine@example.com"})),
        ),
        (
            Method::POST,
            "/api/v1/orgs/acme/appointments".to_owned(),
            Some(
                json!({"practitioner": christine, "patient": zed, "start": "2026-03-02T10:00:00-05:00", "duration_minutes": 30}),
            ),
        ),
        (
            Method::POST,
            "/api/v1/orgs/acme/appointments".to_owned(),
            Some(
                json!({"practitioner": their_christine, "start": "2026-03-02T10:00:00-05:00", "duration_minutes": 30}),
            ),
        ),
    ] {
        let page = client.api(method, &path, body).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}: {}", page.body);
        assert!(
            !page.body.contains("Zed") && !page.body.contains("Secret"),
            "{path}"
        );
    }
    for path in [
        format!("/o/acme/admin/book/appointments/{theirs}"),
        format!("/o/acme/admin/patients/{zed}"),
    ] {
        let page = client.get(&path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!page.contains("Zed") && !page.contains("Secret"));
    }
    let cancel = client
        .post_form(
            &format!("/o/acme/admin/book/appointments/{theirs}/cancel"),
            &[],
        )
        .await;
    assert_eq!(cancel.status, StatusCode::NOT_FOUND);
    // Nothing of theirs changed.
    let mut conn = app.db.conn().await.unwrap();
    let still = store::appointment::get(conn.exec(), other.id, theirs)
        .await
        .unwrap();
    assert_eq!(still.status, store::AppointmentStatus::Booked);
    assert_eq!(
        store::patient::get(conn.exec(), other.id, zed)
            .await
            .unwrap()
            .first_name,
        "Zed"
    );
    drop(conn);
    assert_eq!(count(&app, &acme).await, 1);
    app.stop().await;
}

async fn bookings_without_the_csrf_token_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &basic()).await;
    let client = app.signed_in(&org, Role::FrontDesk).await;
    let christine = id(&app, &org, Kind::Practitioner, "christine")
        .await
        .to_string();
    let physio = id(&app, &org, Kind::ScheduleType, "physio")
        .await
        .to_string();
    let fields = [
        ("action", "book"),
        ("practitioner", christine.as_str()),
        ("schedule_type", physio.as_str()),
        ("date", "2026-03-02"),
        ("time", "09:00"),
        ("duration_minutes", "30"),
    ];
    let page = client
        .post_raw("/o/acme/admin/book/new", &fields, &[])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let mut wrong = fields.to_vec();
    wrong.push(("_csrf", "not-the-token"));
    let page = client.post_raw("/o/acme/admin/book/new", &wrong, &[]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // The API without its header.
    let response = client
        .http
        .post(client.url("/api/v1/orgs/acme/appointments"))
        .json(&json!({"practitioner": christine.parse::<i64>().unwrap(), "schedule_type": physio.parse::<i64>().unwrap(),
                      "start": "2026-03-02T09:00:00-05:00", "duration_minutes": 30}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // Nor cancel, move, pending decisions or patients.
    let imported = client
        .api(
            Method::GET,
            "/api/v1/orgs/acme/appointments?from=2026-03-02",
            None,
        )
        .await
        .json()[0]["id"]
        .as_i64()
        .unwrap();
    for path in [
        format!("/o/acme/admin/book/appointments/{imported}/cancel"),
        format!("/o/acme/admin/book/appointments/{imported}/move"),
        format!("/o/acme/admin/pending/{imported}"),
        "/o/acme/admin/patients".to_owned(),
    ] {
        let page = client
            .post_raw(&path, &[("decision", "accept"), ("first_name", "X")], &[])
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
    }
    let deleted = client
        .http
        .delete(client.url(&format!("/api/v1/orgs/acme/appointments/{imported}")))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::FORBIDDEN);
    assert_eq!(count(&app, &org).await, 1);
    let one = client
        .api(
            Method::GET,
            &format!("/api/v1/orgs/acme/appointments/{imported}"),
            None,
        )
        .await;
    assert_eq!(one.json()["status"], "booked");
    app.stop().await;
}

async fn the_openapi_document_describes_the_appointments_api(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let doc = app.client().get("/api/openapi.json").await.json();
    let paths = &doc["paths"];
    for (path, method) in [
        ("/api/v1/orgs/{slug}/appointments", "get"),
        ("/api/v1/orgs/{slug}/appointments", "post"),
        ("/api/v1/orgs/{slug}/appointments/{id}", "get"),
        ("/api/v1/orgs/{slug}/appointments/{id}", "delete"),
        ("/api/v1/orgs/{slug}/appointments/{id}/move", "post"),
        ("/api/v1/orgs/{slug}/appointments/pending", "get"),
        ("/api/v1/orgs/{slug}/appointments/{id}/accept", "post"),
        ("/api/v1/orgs/{slug}/appointments/{id}/decline", "post"),
        ("/api/v1/orgs/{slug}/patients", "get"),
        ("/api/v1/orgs/{slug}/patients", "post"),
        ("/api/v1/orgs/{slug}/patients/{id}", "get"),
        ("/api/v1/orgs/{slug}/patients/{id}", "put"),
        ("/api/v1/orgs/{slug}/setup-check", "get"),
        ("/api/v1/orgs/{slug}/setup-check/explain", "post"),
    ] {
        assert!(
            paths[path][method].is_object(),
            "{method} {path} is not documented"
        );
    }
    assert_eq!(
        paths["/api/v1/orgs/{slug}/appointments"]["post"]["tags"],
        json!(["appointments"])
    );
    assert!(doc["components"]["schemas"]["AppointmentDto"].is_object());
    app.stop().await;
}

both!(
    the_openapi_document_describes_the_appointments_api,
    the_form_books_and_an_override_needs_a_reason_recorded_in_the_audit_log,
    the_api_books_answers_409_with_every_reason_and_honours_idempotency_keys,
    staff_move_and_cancel_with_overrides_when_needed,
    day_and_week_pages_draw_appointments_in_their_colours_over_availability,
    a_practitioner_reads_only_their_own_schedule,
    another_organisations_appointments_and_patients_are_not_found,
    bookings_without_the_csrf_token_are_refused,
);
