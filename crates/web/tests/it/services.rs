//! Products and services through the pages and the API: every field, the schedule
//! type checkboxes, ranges of the scenario format, roles, tenant isolation.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use store::staff::Role;

use crate::both;
use crate::support::{Backend, Client, TestApp, basic_scenario};

/// A practitioner type and two schedule types in `slug`: their ids.
async fn basics(client: &Client, slug: &str) -> (i64, i64, i64) {
    let kind = client
        .created(
            &format!("/api/v1/orgs/{slug}/practitioner-types"),
            json!({"name": "Physiotherapist"}),
        )
        .await;
    let physio = client
        .created(
            &format!("/api/v1/orgs/{slug}/schedule-types"),
            json!({"name": "Physiotherapy"}),
        )
        .await;
    let group = client
        .created(
            &format!("/api/v1/orgs/{slug}/schedule-types"),
            json!({"name": "Group class", "allow_conflicts": true}),
        )
        .await;
    (
        kind["id"].as_i64().unwrap(),
        physio["id"].as_i64().unwrap(),
        group["id"].as_i64().unwrap(),
    )
}

async fn admins_create_and_edit_services_through_the_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("acme").await;
    let client = app.signed_in(&org, Role::Admin).await;
    let (kind, physio, group) = basics(&client, "acme").await;
    let page = client.get("/o/acme/admin/services").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.contains(&format!("name=\"schedule_type_ids\" value=\"{physio}\"")));
    let created = client
        .post_form(
            "/o/acme/admin/services",
            &[
                ("name", "Initial assessment"),
                ("code", "IA"),
                ("description", "A first visit: history, tests and a plan."),
                ("duration_minutes", "45"),
                ("book_from_portal", "on"),
                ("portal_conflicts", "1"),
                ("practitioner_type_id", &kind.to_string()),
                ("schedule_type_ids", &physio.to_string()),
                ("schedule_type_ids", &group.to_string()),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let list = client.get("/o/acme/admin/services").await;
    assert!(list.contains("Initial assessment") && list.contains("<code>IA</code>"));
    assert!(list.contains(&format!("class=\"swatch st-{physio}\">Physiotherapy")));
    let services = client
        .api(Method::GET, "/api/v1/orgs/acme/services", None)
        .await
        .json();
    let s = &services[0];
    assert_eq!(s["key"], "initial-assessment");
    assert_eq!(s["code"], "IA");
    assert_eq!(
        s["description"],
        "A first visit: history, tests and a plan."
    );
    assert_eq!(s["duration_minutes"], 45);
    assert_eq!(s["book_from_portal"], true);
    assert_eq!(s["portal_conflicts"], 1);
    assert_eq!(s["practitioner_type_id"], kind);
    assert_eq!(s["practitioner_type_name"], "Physiotherapist");
    let mut ids = [physio, group];
    ids.sort_unstable();
    assert_eq!(s["schedule_type_ids"], json!(ids));
    let id = s["id"].as_i64().unwrap();
    // The edit page shows what was saved, boxes ticked.
    let edit = client.get(&format!("/o/acme/admin/services/{id}")).await;
    assert!(edit.contains(&format!(
        "name=\"schedule_type_ids\" value=\"{group}\" checked"
    )));
    assert!(edit.contains(&format!("<option value=\"{kind}\" selected>")));
    // Portal conflicts out of range: next to the field, typed values kept, nothing saved.
    let bad = client
        .post_form(
            &format!("/o/acme/admin/services/{id}"),
            &[
                ("name", "Renamed"),
                ("duration_minutes", "45"),
                ("portal_conflicts", "10001"),
                ("practitioner_type_id", ""),
                ("schedule_type_ids", &physio.to_string()),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.contains("id=\"portal_conflicts-error\""),
        "{}",
        bad.body
    );
    assert!(bad.contains("value=\"Renamed\"") && bad.contains("value=\"10001\""));
    assert!(!bad.contains(&format!(
        "name=\"schedule_type_ids\" value=\"{group}\" checked"
    )));
    // Saving with fewer boxes and any type; unticked "book from portal" is false.
    let saved = client
        .post_form(
            &format!("/o/acme/admin/services/{id}"),
            &[
                ("name", "Initial assessment"),
                ("duration_minutes", "60"),
                ("portal_conflicts", "3"),
                ("practitioner_type_id", ""),
                ("schedule_type_ids", &group.to_string()),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let one = client
        .api(
            Method::GET,
            &format!("/api/v1/orgs/acme/services/{id}"),
            None,
        )
        .await
        .json();
    assert_eq!(one["code"], Value::Null);
    assert_eq!(one["description"], Value::Null);
    assert_eq!(one["duration_minutes"], 60);
    assert_eq!(one["book_from_portal"], false);
    assert_eq!(one["portal_conflicts"], 3);
    assert_eq!(one["practitioner_type_id"], Value::Null);
    assert_eq!(one["schedule_type_ids"], json!([group]));
    let deleted = client
        .post_form(&format!("/o/acme/admin/services/{id}/delete"), &[])
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    let mut conn = app.db.conn().await.unwrap();
    let entries = store::audit::recent(conn.exec(), org.id, Some(("service", id)), 10)
        .await
        .unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["service.delete", "service.update", "service.create"]
    );
    app.stop().await;
}

async fn the_api_checks_every_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("acme").await;
    let other = app.org("other").await;
    let client = app.signed_in(&org, Role::Admin).await;
    let theirs = app.signed_in(&other, Role::Admin).await;
    let (kind, physio, _) = basics(&client, "acme").await;
    let (their_kind, their_type, _) = basics(&theirs, "other").await;
    let minimal = client
        .created(
            "/api/v1/orgs/acme/services",
            json!({"name": "Follow-up", "duration_minutes": 30}),
        )
        .await;
    assert_eq!(minimal["book_from_portal"], false);
    assert_eq!(minimal["portal_conflicts"], 1);
    assert_eq!(minimal["practitioner_type_id"], Value::Null);
    assert_eq!(minimal["schedule_type_ids"], json!([]));
    client
        .created(
            "/api/v1/orgs/acme/services",
            json!({"name": "Class", "code": "CL", "duration_minutes": 60, "book_from_portal": true,
               "portal_conflicts": 10000, "practitioner_type_id": kind,
               "schedule_type_ids": [physio, physio]}),
        )
        .await;
    for (body, field) in [
        (
            json!({"name": "X", "duration_minutes": 0}),
            "duration_minutes",
        ),
        (
            json!({"name": "X", "duration_minutes": 1441}),
            "duration_minutes",
        ),
        (json!({"name": "X"}), "duration_minutes"),
        (
            json!({"name": "X", "duration_minutes": 30, "portal_conflicts": 0}),
            "portal_conflicts",
        ),
        (
            json!({"name": "X", "duration_minutes": 30, "portal_conflicts": 10001}),
            "portal_conflicts",
        ),
        (json!({"name": " ", "duration_minutes": 30}), "name"),
        (
            json!({"name": "X", "duration_minutes": 30, "code": "CL"}),
            "code",
        ),
        (
            json!({"name": "X", "duration_minutes": 30, "practitioner_type_id": their_kind}),
            "practitioner_type_id",
        ),
        (
            json!({"name": "X", "duration_minutes": 30, "schedule_type_ids": [physio, their_type]}),
            "schedule_type_ids",
        ),
        (
            json!({"name": "X", "duration_minutes": 30, "schedule_type_ids": [physio, "x"]}),
            "schedule_type_ids[1]",
        ),
        (
            json!({"name": "X", "duration_minutes": 30, "description": "x".repeat(2001)}),
            "description",
        ),
    ] {
        let refused = client
            .api(Method::POST, "/api/v1/orgs/acme/services", Some(body))
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert_eq!(refused.json()["error"]["field"], field, "{}", refused.body);
    }
    let all = client
        .api(Method::GET, "/api/v1/orgs/acme/services", None)
        .await
        .json();
    assert_eq!(
        all.as_array().unwrap().len(),
        2,
        "nothing refused was saved"
    );
    // A failed update leaves the schedule types as they were.
    let id = minimal["id"].as_i64().unwrap();
    let refused = client
        .api(
            Method::PUT,
            &format!("/api/v1/orgs/acme/services/{id}"),
            Some(json!({"name": "Follow-up", "duration_minutes": 30, "schedule_type_ids": [physio, their_type]})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let updated = client
        .api(
            Method::PUT,
            &format!("/api/v1/orgs/acme/services/{id}"),
            Some(
                json!({"name": "Follow-up", "duration_minutes": 20, "schedule_type_ids": [physio]}),
            ),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.json()["schedule_type_ids"], json!([physio]));
    assert_eq!(updated.json()["duration_minutes"], 20);
    app.stop().await;
}

async fn a_service_appointments_name_cannot_be_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut scenario = basic_scenario();
    scenario.appointments[0].service = Some(slot_engine::Text::new("initial").unwrap());
    let org = app.import("acme", &scenario).await;
    let client = app.signed_in(&org, Role::Admin).await;
    let services = client
        .api(Method::GET, "/api/v1/orgs/acme/services", None)
        .await
        .json();
    let id = services[0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/orgs/acme/services/{id}");
    let message = client.refused_delete(&path).await;
    assert!(
        message.contains("\"Initial assessment\" is named by 1 appointment"),
        "{message}"
    );
    let page = client
        .post_form(&format!("/o/acme/admin/services/{id}/delete"), &[])
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("is named by 1 appointment"));
    client.assert_found(&path).await;
    app.stop().await;
}

async fn front_desk_reads_services_and_only_admins_write(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("acme").await;
    let admin = app.signed_in(&org, Role::Admin).await;
    let service = admin
        .created(
            "/api/v1/orgs/acme/services",
            json!({"name": "Follow-up", "duration_minutes": 30}),
        )
        .await;
    let id = service["id"].as_i64().unwrap();
    let front = app.signed_in(&org, Role::FrontDesk).await;
    let read = front
        .api(
            Method::GET,
            &format!("/api/v1/orgs/acme/services/{id}"),
            None,
        )
        .await;
    assert_eq!(read.status, StatusCode::OK);
    for (method, path, body) in [
        (
            Method::POST,
            "/api/v1/orgs/acme/services".to_owned(),
            Some(json!({"name": "Mine", "duration_minutes": 30})),
        ),
        (
            Method::PUT,
            format!("/api/v1/orgs/acme/services/{id}"),
            Some(json!({"name": "Mine", "duration_minutes": 30})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/orgs/acme/services/{id}"),
            None,
        ),
    ] {
        assert_eq!(
            front.api(method, &path, body).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let page = front
        .post_form(&format!("/o/acme/admin/services/{id}/delete"), &[])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let after = admin
        .api(
            Method::GET,
            &format!("/api/v1/orgs/acme/services/{id}"),
            None,
        )
        .await
        .json();
    assert_eq!(after, service);
    app.stop().await;
}

async fn another_organisations_service_is_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.org("acme").await;
    let other = app.org("other").await;
    let acme_admin = app.signed_in(&acme, Role::Admin).await;
    let other_admin = app.signed_in(&other, Role::Admin).await;
    let secret = other_admin
        .created(
            "/api/v1/orgs/other/services",
            json!({"name": "Secret Service", "description": "classified", "duration_minutes": 30}),
        )
        .await;
    let id = secret["id"].as_i64().unwrap();
    for (method, path, body) in [
        (
            Method::GET,
            format!("/api/v1/orgs/acme/services/{id}"),
            None,
        ),
        (
            Method::PUT,
            format!("/api/v1/orgs/acme/services/{id}"),
            Some(json!({"name": "Mine", "duration_minutes": 30})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/orgs/acme/services/{id}"),
            None,
        ),
    ] {
        let page = acme_admin.api(method, &path, body).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!page.contains("Secret") && !page.contains("classified"));
    }
    for page in [
        acme_admin
            .get(&format!("/o/acme/admin/services/{id}"))
            .await,
        acme_admin
            .post_form(
                &format!("/o/acme/admin/services/{id}"),
                &[
                    ("name", "Mine"),
                    ("duration_minutes", "30"),
                    ("portal_conflicts", "1"),
                ],
            )
            .await,
        acme_admin
            .post_form(&format!("/o/acme/admin/services/{id}/delete"), &[])
            .await,
    ] {
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        assert!(!page.contains("Secret") && !page.contains("classified"));
    }
    let still = other_admin
        .api(
            Method::GET,
            &format!("/api/v1/orgs/other/services/{id}"),
            None,
        )
        .await
        .json();
    assert_eq!(still, secret, "unchanged");
    app.stop().await;
}

both!(
    admins_create_and_edit_services_through_the_pages,
    the_api_checks_every_field,
    a_service_appointments_name_cannot_be_deleted,
    front_desk_reads_services_and_only_admins_write,
    another_organisations_service_is_not_found,
);
