//! Booking rooms and equipment through the pages and the API (issue 16): a staff
//! booking names resources or lets the engine pick, a taken room is an override
//! reason, the appointment shows what it holds, and the book's room view draws each
//! appointment in every room it holds.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use slot_engine::Scenario;
use store::keys::Kind;
use store::staff::Role;

use crate::both;
use crate::support::{Backend, TestApp};

/// rooms.json (London, Monday 2 March 2026: Ana holds Room 1 from 09:00 to 09:30, Ben
/// Room 2 and the shockwave machine) with a patient, Pat.
fn scenario() -> Scenario {
    let mut doc: Value = serde_json::from_slice(include_bytes!(
        "../../../slot-engine/tests/data/scenarios/rooms.json"
    ))
    .unwrap();
    doc["patients"] = json!([
        {"id": "pat", "first_name": "Pat", "last_name": "Lee", "email": "pat@example.com"}
    ]);
    Scenario::from_json(doc.to_string().as_bytes()).unwrap()
}

fn names(appointment: &Value) -> Vec<String> {
    appointment["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect()
}

fn resource_id(appointment: &Value, name: &str) -> i64 {
    appointment["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .and_then(|r| r["id"].as_i64())
        .unwrap()
}

async fn staff_name_rooms_and_the_book_shows_them_by_room(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &scenario()).await;
    let client = app.signed_in(&org, Role::FrontDesk).await;
    let cy = app.id(&org, Kind::Practitioner, "cy").await;
    let ben = app.id(&org, Kind::Practitioner, "ben").await;
    let pat = app.id(&org, Kind::Patient, "pat").await;
    let shockwave = app.id(&org, Kind::Service, "shockwave-therapy").await;

    // Ben's imported appointment holds Room 2 and the machine, and says so.
    let list = client
        .api(
            Method::GET,
            &format!("/api/v1/orgs/acme/appointments?from=2026-03-02&practitioner={ben}"),
            None,
        )
        .await
        .json();
    let bens = list
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["start"].as_str().unwrap().starts_with("2026-03-02T09:00"))
        .unwrap()
        .clone();
    assert_eq!(names(&bens), ["Room 2", "Shockwave machine"]);
    let room_2 = resource_id(&bens, "Room 2");
    let machine = resource_id(&bens, "Shockwave machine");

    // Automatic: at 10:00 the first free room by id, and the machine.
    let auto = client
        .created(
            "/api/v1/orgs/acme/appointments",
            json!({"practitioner": cy, "patient": pat, "service": shockwave,
                   "start": "2026-03-02T10:00:00Z"}),
        )
        .await;
    assert_eq!(names(&auto), ["Room 1", "Shockwave machine"]);
    // Named: Room 2 and the machine at 09:00 are Ben's; a reason like a conflict.
    let body = json!({"practitioner": cy, "patient": pat, "service": shockwave,
                      "start": "2026-03-02T09:00:00Z", "resources": [room_2, machine]});
    let refused = client
        .api(
            Method::POST,
            "/api/v1/orgs/acme/appointments",
            Some(body.clone()),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    let reasons = refused.json()["error"]["details"]["needs_override"].to_string();
    assert!(reasons.contains("Room 2"), "{reasons}");
    // An id that is no resource of the organisation names the field.
    let unknown = client
        .api(
            Method::POST,
            "/api/v1/orgs/acme/appointments",
            Some(
                json!({"practitioner": cy, "patient": pat, "service": shockwave,
                        "start": "2026-03-03T09:00:00Z", "resources": [999_999]}),
            ),
        )
        .await;
    assert_eq!(
        unknown.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        unknown.body
    );
    assert!(unknown.body.contains("resources"), "{}", unknown.body);
    // With an override reason it goes in holding what was named.
    let mut overridden = body;
    overridden["override_reason"] = json!("Ben's patient shares the session");
    let taken = client
        .created("/api/v1/orgs/acme/appointments", overridden)
        .await;
    assert_eq!(names(&taken), ["Room 2", "Shockwave machine"]);

    // The appointment page says what it holds.
    let page = client
        .get(&format!("/o/acme/admin/book/appointments/{}", auto["id"]))
        .await;
    assert!(
        page.contains("<dt>Rooms and equipment</dt>"),
        "{}",
        page.body
    );
    assert!(page.contains("Room 1"));

    // The booking form offers the resources and books a named one.
    let form = client
        .get(&format!(
            "/o/acme/admin/book/new?practitioner={cy}&date=2026-03-04"
        ))
        .await;
    assert!(
        form.contains("<legend>Rooms and equipment</legend>"),
        "{}",
        form.body
    );
    let booked = client
        .post_form(
            "/o/acme/admin/book/new",
            &[
                ("action", "book"),
                ("practitioner", &cy.to_string()),
                ("patient", &pat.to_string()),
                ("service", &shockwave.to_string()),
                ("date", "2026-03-05"),
                ("time", "09:00"),
                ("resource", &room_2.to_string()),
                ("resource", &machine.to_string()),
            ],
        )
        .await;
    assert_eq!(booked.status, StatusCode::SEE_OTHER, "{}", booked.body);
    let id: i64 = booked
        .location()
        .rsplit("appointment=")
        .next()
        .and_then(|s| s.split('&').next())
        .unwrap()
        .parse()
        .unwrap();
    let held = client
        .api(
            Method::GET,
            &format!("/api/v1/orgs/acme/appointments/{id}"),
            None,
        )
        .await
        .json();
    assert_eq!(names(&held), ["Room 2", "Shockwave machine"]);

    // The room view: a column per room, Ben's appointment in both of its columns.
    let by_room = client
        .get("/o/acme/admin/book?date=2026-03-02&by=room")
        .await;
    assert_eq!(by_room.status, StatusCode::OK, "{}", by_room.body);
    assert!(
        by_room.contains("aria-current=\"page\">By room</a>"),
        "{}",
        by_room.body
    );
    for room in ["Gym", "Room 1", "Room 2", "Shockwave machine"] {
        assert!(by_room.contains(&format!(">{room}")), "{room}");
    }
    // Its columns are rooms, which the script that moves appointments leaves alone.
    assert!(!by_room.body.contains("<th scope=\"col\" data-practitioner"));
    assert!(by_room.body.contains("<th scope=\"col\" data-resource"));
    let link = format!("/o/acme/admin/book/appointments/{}\"", bens["id"]);
    let table = by_room.body.split("</table>").next().unwrap();
    assert_eq!(table.matches(&link).count(), 2, "{table}");
    // By practitioner it is drawn once, in Ben's column.
    let by_practitioner = client.get("/o/acme/admin/book?date=2026-03-02").await;
    let table = by_practitioner.body.split("</table>").next().unwrap();
    assert_eq!(table.matches(&link).count(), 1);
    assert!(by_practitioner.contains(">By room</a>"));
    // Anything else is refused naming the parameter.
    let bad = client
        .get("/o/acme/admin/book?date=2026-03-02&by=chair")
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    app.stop().await;
}

/// A patient whose time is gone because its rooms are taken is told so without the
/// clinic's room names (the portal shows nothing of rooms and equipment).
async fn a_patient_is_not_told_room_names(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &scenario()).await;
    let desk = app.signed_in(&org, Role::FrontDesk).await;
    let patient = app.portal_patient(&org, &desk, "pat").await;
    let cy = app.id(&org, Kind::Practitioner, "cy").await;
    let shockwave = app.id(&org, Kind::Service, "shockwave-therapy").await;
    // Monday 09:00: Ana holds Room 1, Ben Room 2 and the machine; Cy is free.
    let taken = patient
        .api(
            Method::POST,
            "/api/v1/orgs/acme/portal/appointments",
            Some(
                json!({"service": shockwave, "practitioner": cy, "start": "2026-03-02T09:00:00Z"}),
            ),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.body);
    let body = taken.json();
    assert_eq!(body["error"]["details"]["rule"], 13, "{body}");
    assert_eq!(
        body["error"]["details"]["reason"],
        "a room or piece of equipment it needs is taken then"
    );
    assert!(!taken.body.contains("Room 1") && !taken.body.contains("Shockwave machine"));
    // 09:30 has a room and the machine: booked.
    let booked = patient
        .api(
            Method::POST,
            "/api/v1/orgs/acme/portal/appointments",
            Some(
                json!({"service": shockwave, "practitioner": cy, "start": "2026-03-02T09:30:00Z"}),
            ),
        )
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.body);
}

both!(
    staff_name_rooms_and_the_book_shows_them_by_room,
    a_patient_is_not_told_room_names,
);
