//! Rooms and equipment as an admin sets them up, through the API and the pages: roles,
//! another organisation's ids, errors next to their fields with nothing saved, a
//! service's needs, and the audit log telling them by name.

use reqwest::{Method, StatusCode};
use serde_json::json;
use store::keys::Kind;
use store::staff::Role;

use crate::both;
use crate::support::{Backend, Client, TestApp, basic_scenario};

/// A room at `clinic` through the API: its id.
async fn room(client: &Client, slug: &str, name: &str, clinic: i64) -> i64 {
    client
        .created(
            &format!("/api/v1/orgs/{slug}/resources"),
            json!({"name": name, "clinic_id": clinic}),
        )
        .await["id"]
        .as_i64()
        .unwrap()
}

async fn the_api_keeps_rooms_their_records_and_time_off(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.import("acme", &basic_scenario()).await;
    let admin = app.signed_in(&acme, Role::Admin).await;
    let toronto = app.id(&acme, Kind::Clinic, "toronto").await;
    let made = admin
        .created(
            "/api/v1/orgs/acme/resources",
            json!({"name": "Shockwave machine", "kind": "equipment", "clinic_id": toronto,
                   "capacity": 1, "always_available": false}),
        )
        .await;
    assert_eq!(made["key"], "shockwave-machine");
    assert_eq!(made["kind"], "equipment");
    assert_eq!(made["clinic_name"], "toronto");
    let id = made["id"].as_i64().unwrap();
    let record = admin
        .created(
            &format!("/api/v1/orgs/acme/resources/{id}/availability"),
            json!({"start_date": "2026-01-01",
                   "blocks": [{"days": ["mon", "wed"], "start": "08:00", "end": "12:00"}]}),
        )
        .await;
    assert_eq!(record["blocks"][0]["days"], json!(["mon", "wed"]));
    // A second record sharing a date: refused naming the start date, nothing saved.
    let overlap = admin
        .api(
            Method::POST,
            &format!("/api/v1/orgs/acme/resources/{id}/availability"),
            Some(json!({"start_date": "2026-06-01"})),
        )
        .await;
    assert_eq!(overlap.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(overlap.json()["error"]["field"], "start_date");
    let bad_day = admin
        .api(
            Method::POST,
            &format!("/api/v1/orgs/acme/resources/{id}/availability"),
            Some(json!({"start_date": "2025-01-01", "end_date": "2025-12-31",
                        "blocks": [{"days": ["funday"], "start": "08:00", "end": "12:00"}]})),
        )
        .await;
    assert_eq!(bad_day.json()["error"]["field"], "blocks[0].days");
    let listed = admin
        .api(
            Method::GET,
            &format!("/api/v1/orgs/acme/resources/{id}/availability"),
            None,
        )
        .await
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    // Out of service, read back in the clinic's zone.
    let off = admin
        .created(
            &format!("/api/v1/orgs/acme/resources/{id}/time-off"),
            json!({"start": "2026-03-02T13:00:00Z", "end": "2026-03-02T17:00:00Z",
                   "reason": "Annual service"}),
        )
        .await;
    assert_eq!(off["start"], "2026-03-02T08:00:00-05:00");
    let backwards = admin
        .api(
            Method::POST,
            &format!("/api/v1/orgs/acme/resources/{id}/time-off"),
            Some(json!({"start": "2026-03-02T17:00:00Z", "end": "2026-03-02T13:00:00Z"})),
        )
        .await;
    assert_eq!(backwards.json()["error"]["field"], "end");
    // The OpenAPI document names the operations under their own tag.
    let doc = admin.get("/api/openapi.json").await.json();
    assert_eq!(
        doc["paths"]["/api/v1/orgs/{slug}/resources"]["post"]["tags"],
        json!(["resources"])
    );
    assert!(
        doc["components"]["schemas"]["ServiceDto"]["properties"]
            .get("requires")
            .is_some()
    );
    app.stop().await;
}

async fn only_admins_change_rooms_and_other_organisations_ids_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.import("acme", &basic_scenario()).await;
    let other = app.import("other", &basic_scenario()).await;
    let admin = app.signed_in(&acme, Role::Admin).await;
    let other_admin = app.signed_in(&other, Role::Admin).await;
    let toronto = app.id(&acme, Kind::Clinic, "toronto").await;
    let their_clinic = app.id(&other, Kind::Clinic, "toronto").await;
    let mine = room(&admin, "acme", "Room 1", toronto).await;
    let theirs = room(&other_admin, "other", "Their room", their_clinic).await;
    let front_desk = app.signed_in(&acme, Role::FrontDesk).await;
    let practitioner = app.signed_in(&acme, Role::Practitioner).await;
    let rooms = async || {
        admin
            .api(Method::GET, "/api/v1/orgs/acme/resources", None)
            .await
            .body
    };
    let before = (app.snapshot(&acme).await, rooms().await);
    // Another organisation's clinic in the body, its room in the path or in a need.
    let foreign_clinic = admin
        .api(
            Method::POST,
            "/api/v1/orgs/acme/resources",
            Some(json!({"name": "Sneaky", "clinic_id": their_clinic})),
        )
        .await;
    assert_eq!(foreign_clinic.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(foreign_clinic.json()["error"]["field"], "clinic_id");
    for (method, path) in [
        (Method::GET, format!("/api/v1/orgs/acme/resources/{theirs}")),
        (
            Method::DELETE,
            format!("/api/v1/orgs/acme/resources/{theirs}"),
        ),
        (
            Method::GET,
            format!("/api/v1/orgs/acme/resources/{theirs}/availability"),
        ),
    ] {
        let page = admin.api(method.clone(), &path, None).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    let service = app.id(&acme, Kind::Service, "initial").await;
    let foreign_need = admin
        .api(
            Method::PUT,
            &format!("/api/v1/orgs/acme/services/{service}"),
            Some(
                json!({"name": "Initial", "duration_minutes": 30, "requires": [[mine], [theirs]]}),
            ),
        )
        .await;
    assert_eq!(foreign_need.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(foreign_need.json()["error"]["field"], "requires");
    assert_eq!(
        (app.snapshot(&acme).await, rooms().await),
        before,
        "nothing changed"
    );
    // The front desk reads; neither it nor a practitioner changes the setup.
    for (role, staff) in [
        (Role::FrontDesk, &front_desk),
        (Role::Practitioner, &practitioner),
    ] {
        let read = staff
            .api(Method::GET, "/api/v1/orgs/acme/resources", None)
            .await;
        let expected = if role == Role::FrontDesk {
            StatusCode::OK
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(read.status, expected, "{role:?} reads");
        for (method, path, body) in [
            (
                Method::POST,
                "/api/v1/orgs/acme/resources".to_owned(),
                Some(json!({"name": "Mine", "clinic_id": toronto})),
            ),
            (
                Method::PUT,
                format!("/api/v1/orgs/acme/resources/{mine}"),
                Some(json!({"name": "Mine", "clinic_id": toronto})),
            ),
            (
                Method::POST,
                format!("/api/v1/orgs/acme/resources/{mine}/time-off"),
                Some(json!({"start": "2026-03-02T13:00:00Z", "end": "2026-03-02T17:00:00Z"})),
            ),
            (
                Method::DELETE,
                format!("/api/v1/orgs/acme/resources/{mine}"),
                None,
            ),
        ] {
            let page = staff.api(method.clone(), &path, body).await;
            assert_eq!(
                page.status,
                StatusCode::FORBIDDEN,
                "{role:?} {method} {path}"
            );
        }
        let form = staff.get("/o/acme/admin/resources").await;
        assert_eq!(form.status, StatusCode::FORBIDDEN, "{role:?} page");
    }
    assert_eq!(
        (app.snapshot(&acme).await, rooms().await),
        before,
        "nothing changed"
    );
    app.stop().await;
}

async fn a_services_needs_round_trip_and_are_audited_by_name(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.import("acme", &basic_scenario()).await;
    let admin = app.signed_in(&acme, Role::Admin).await;
    let toronto = app.id(&acme, Kind::Clinic, "toronto").await;
    let room1 = room(&admin, "acme", "Treatment room 1", toronto).await;
    let room2 = room(&admin, "acme", "Treatment room 2", toronto).await;
    let machine = room(&admin, "acme", "Shockwave", toronto).await;
    let made = admin
        .created(
            "/api/v1/orgs/acme/services",
            json!({"name": "Shockwave therapy", "duration_minutes": 30,
                   "requires": [[room2, room1], [machine]]}),
        )
        .await;
    assert_eq!(made["requires"], json!([[room1, room2], [machine]]));
    let id = made["id"].as_i64().unwrap();
    // Saved without `requires`: the needs stay.
    let saved = admin
        .api(
            Method::PUT,
            &format!("/api/v1/orgs/acme/services/{id}"),
            Some(json!({"name": "Shockwave therapy", "duration_minutes": 45})),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(saved.json()["requires"], json!([[room1, room2], [machine]]));
    // A resource in two needs, or an empty need: refused naming `requires`.
    for requires in [json!([[room1], [room1, room2]]), json!([[]])] {
        let page = admin
            .api(
                Method::PUT,
                &format!("/api/v1/orgs/acme/services/{id}"),
                Some(json!({"name": "Shockwave therapy", "duration_minutes": 45,
                            "requires": requires})),
            )
            .await;
        assert_eq!(page.json()["error"]["field"], "requires", "{requires}");
    }
    let listed = admin
        .api(Method::GET, "/api/v1/orgs/acme/services", None)
        .await
        .json();
    let listed = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(listed["requires"], json!([[room1, room2], [machine]]));
    // The audit page tells the needs by the resources' names.
    let audit = admin.get("/o/acme/admin/audit").await;
    assert!(
        audit.contains("Needs: one of Treatment room 1, Treatment room 2; Shockwave"),
        "{}",
        audit.body
    );
    // The machine is the only choice of a need: it cannot be deleted.
    let refused = admin
        .refused_delete(&format!("/api/v1/orgs/acme/resources/{machine}"))
        .await;
    assert!(refused.contains("Shockwave therapy"), "{refused}");
    // Room 2 can: the need keeps room 1.
    let gone = admin
        .api(
            Method::DELETE,
            &format!("/api/v1/orgs/acme/resources/{room2}"),
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let after = admin
        .api(
            Method::GET,
            &format!("/api/v1/orgs/acme/services/{id}"),
            None,
        )
        .await
        .json();
    assert_eq!(after["requires"], json!([[room1], [machine]]));
    let audit = admin.get("/o/acme/admin/audit").await;
    assert!(
        audit.contains("Room or equipment deleted"),
        "{}",
        audit.body
    );
    assert!(
        audit.contains("Taken out of the needs of: Shockwave therapy"),
        "{}",
        audit.body
    );
    app.stop().await;
}

async fn admins_set_rooms_up_through_the_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.import("acme", &basic_scenario()).await;
    let admin = app.signed_in(&acme, Role::Admin).await;
    let toronto = app.id(&acme, Kind::Clinic, "toronto").await.to_string();
    let setup = admin.get("/o/acme/admin/setup").await;
    assert!(setup.contains("href=\"/o/acme/admin/resources\""));
    // A capacity out of range: shown next to the field, nothing saved.
    let refused = admin
        .post_form(
            "/o/acme/admin/resources",
            &[
                ("name", "Treatment room 1"),
                ("kind", "room"),
                ("clinic_id", &toronto),
                ("capacity", "0"),
                ("always_available", "on"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.contains("id=\"capacity-error\""),
        "{}",
        refused.body
    );
    assert!(refused.contains("value=\"Treatment room 1\""));
    let made = admin
        .post_form(
            "/o/acme/admin/resources",
            &[
                ("name", "Treatment room 1"),
                ("kind", "room"),
                ("clinic_id", &toronto),
                ("capacity", "1"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let list = admin.get("/o/acme/admin/resources").await;
    assert!(list.contains("Treatment room 1"));
    assert!(
        list.contains("Never: no availability record yet"),
        "{}",
        list.body
    );
    let id = admin
        .api(Method::GET, "/api/v1/orgs/acme/resources", None)
        .await
        .json()[0]["id"]
        .as_i64()
        .unwrap();
    // Mornings only, Monday to Friday; an unreadable row is refused by its number.
    let path = format!("/o/acme/admin/resources/{id}/records");
    let mut fields = vec![
        ("start_date", "2026-01-01"),
        ("block_rows", "2"),
        ("block0_start", "08:00"),
        ("block0_end", "12:00"),
        ("block1_day", "sat"),
        ("block1_start", "later"),
    ];
    for day in ["mon", "tue", "wed", "thu", "fri"] {
        fields.push(("block0_day", day));
    }
    let bad = admin.post_form(&path, &fields).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.contains("Block 2: enter its start and end"),
        "{}",
        bad.body
    );
    fields.retain(|(k, _)| !k.starts_with("block1"));
    let saved = admin.post_form(&path, &fields).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let page = admin.get(&format!("/o/acme/admin/resources/{id}")).await;
    assert!(
        page.contains("Mon Tue Wed Thu Fri 08:00–12:00"),
        "{}",
        page.body
    );
    // The service form: a need of room 1, and a button for one more need row.
    let service = app.id(&acme, Kind::Service, "initial").await;
    let service_path = format!("/o/acme/admin/services/{service}");
    let form = admin.get(&service_path).await;
    assert!(
        form.contains(&format!("name=\"need\" value=\"{id}/0\"")),
        "{}",
        form.body
    );
    let need = format!("{id}/0");
    let base = [
        ("name", "Initial assessment"),
        ("duration_minutes", "45"),
        ("portal_conflicts", "1"),
        ("need_rows", "1"),
        ("need", need.as_str()),
    ];
    let more = admin
        .post_form(&service_path, &[&base[..], &[("add_need", "1")]].concat())
        .await;
    assert_eq!(more.status, StatusCode::OK);
    assert!(more.contains(&format!("value=\"{id}/1\"")), "{}", more.body);
    let saved = admin.post_form(&service_path, &base).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let services = admin.get("/o/acme/admin/services").await;
    assert!(
        services.contains("<td>Treatment room 1</td>"),
        "{}",
        services.body
    );
    app.stop().await;
}

async fn the_setup_check_says_what_keeps_rooms_from_being_used(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.import("acme", &basic_scenario()).await;
    let admin = app.signed_in(&acme, Role::Admin).await;
    let toronto = app.id(&acme, Kind::Clinic, "toronto").await;
    let uptown = admin
        .created(
            "/api/v1/orgs/acme/clinics",
            json!({"name": "Uptown", "timezone": "America/Toronto"}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let far = room(&admin, "acme", "Uptown pool", uptown).await;
    let near = room(&admin, "acme", "Treatment room 1", toronto).await;
    // A machine with no availability record at all.
    admin
        .created(
            "/api/v1/orgs/acme/resources",
            json!({"name": "Shockwave", "kind": "equipment", "clinic_id": toronto,
                   "always_available": false}),
        )
        .await;
    let service = app.id(&acme, Kind::Service, "initial").await;
    let saved = admin
        .api(
            Method::PUT,
            &format!("/api/v1/orgs/acme/services/{service}"),
            Some(json!({"name": "Initial assessment", "duration_minutes": 45,
                        "book_from_portal": true, "portal_conflicts": 3,
                        "schedule_type_ids": [app.id(&acme, Kind::ScheduleType, "physio").await],
                        "requires": [[far], [near]]})),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let report = admin
        .api(Method::GET, "/api/v1/orgs/acme/setup-check", None)
        .await
        .json();
    let initial = report["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == service)
        .unwrap()
        .clone();
    let kinds: Vec<&str> = initial["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"need_not_where_hours"), "{initial}");
    assert!(kinds.contains(&"need_smaller_than_conflicts"), "{initial}");
    let messages = initial["problems"].to_string();
    assert!(messages.contains("Uptown pool (at Uptown)"), "{messages}");
    assert!(messages.contains("only at toronto"), "{messages}");
    assert!(
        messages.contains("Treatment room 1 holds only 1 appointment"),
        "{messages}"
    );
    let resources = report["resources"].as_array().unwrap();
    assert_eq!(resources.len(), 1, "{resources:?}");
    assert_eq!(resources[0]["kind"], "resource_no_record");
    assert!(
        resources[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Shockwave ")
    );
    assert!(
        resources[0]["fix_url"]
            .as_str()
            .unwrap()
            .starts_with("/o/acme/admin/resources/")
    );
    let page = admin.get("/o/acme/admin/setup-check").await;
    assert!(page.contains("Rooms &amp; equipment"), "{}", page.body);
    assert!(page.contains("Edit the room or equipment"));
    app.stop().await;
}

both!(
    the_setup_check_says_what_keeps_rooms_from_being_used,
    the_api_keeps_rooms_their_records_and_time_off,
    only_admins_change_rooms_and_other_organisations_ids_are_refused,
    a_services_needs_round_trip_and_are_audited_by_name,
    admins_set_rooms_up_through_the_pages,
);
