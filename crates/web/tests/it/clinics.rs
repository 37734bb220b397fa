//! Clinics and holidays through the pages and the API; validation errors next to the
//! field with nothing saved; tenant isolation; the audit trail.

use reqwest::{Method, StatusCode};
use serde_json::json;
use store::staff::Role;

use crate::both;
use crate::support::{Backend, TestApp, basic_scenario};

async fn admins_create_and_edit_clinics_through_the_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("acme").await;
    let client = app.signed_in(&org, Role::Admin).await;
    let created = client
        .post_form(
            "/o/acme/admin/clinics",
            &[("name", "Uptown Clinic"), ("timezone", "America/Toronto")],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER);
    let edit = client.get(&created.location()).await;
    assert!(edit.contains("<h1>Uptown Clinic</h1>") && edit.contains("<code>uptown-clinic</code>"));
    // An unknown timezone: shown next to the field, nothing saved.
    let bad = client
        .post_form(
            "/o/acme/admin/clinics",
            &[("name", "Nowhere"), ("timezone", "Mars/Olympus")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.contains("id=\"timezone-error\""), "{}", bad.body);
    assert!(bad.contains("aria-invalid=\"true\""));
    assert!(
        bad.contains("value=\"Nowhere\""),
        "the form keeps what was typed"
    );
    let list = client
        .api(Method::GET, "/api/v1/orgs/acme/clinics", None)
        .await
        .json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    // Holidays.
    let id = list[0]["id"].as_i64().unwrap();
    let added = client
        .post_form(
            &format!("/o/acme/admin/clinics/{id}/holidays"),
            &[("date", "2026-12-25")],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER);
    let bad_date = client
        .post_form(
            &format!("/o/acme/admin/clinics/{id}/holidays"),
            &[("date", "2026-02-30")],
        )
        .await;
    assert_eq!(bad_date.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_date.contains("id=\"date-error\""));
    let one = client
        .api(
            Method::GET,
            &format!("/api/v1/orgs/acme/clinics/{id}"),
            None,
        )
        .await
        .json();
    assert_eq!(one["holidays"], json!(["2026-12-25"]));
    app.stop().await;
}

async fn the_api_creates_updates_and_deletes_with_field_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("acme").await;
    let client = app.signed_in(&org, Role::Admin).await;
    let created = client
        .api(
            Method::POST,
            "/api/v1/orgs/acme/clinics",
            Some(json!({"name": "Harbour", "timezone": "America/Halifax"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.json()["id"].as_i64().unwrap();
    let bad = client
        .api(
            Method::PUT,
            &format!("/api/v1/orgs/acme/clinics/{id}"),
            Some(json!({"name": "", "timezone": "UTC"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["error"]["field"], "name");
    assert_eq!(bad.json()["error"]["code"], "invalid");
    let updated = client
        .api(
            Method::PUT,
            &format!("/api/v1/orgs/acme/clinics/{id}"),
            Some(json!({"name": "Harbour Front", "timezone": "America/Halifax"})),
        )
        .await;
    assert_eq!(updated.json()["name"], "Harbour Front");
    let holiday = client
        .api(
            Method::POST,
            &format!("/api/v1/orgs/acme/clinics/{id}/holidays"),
            Some(json!({"date": "2026-07-01"})),
        )
        .await;
    assert_eq!(holiday.json()["holidays"], json!(["2026-07-01"]));
    let removed = client
        .api(
            Method::DELETE,
            &format!("/api/v1/orgs/acme/clinics/{id}/holidays/2026-07-01"),
            None,
        )
        .await;
    assert_eq!(removed.json()["holidays"], json!([]));
    assert_eq!(
        client
            .api(
                Method::DELETE,
                &format!("/api/v1/orgs/acme/clinics/{id}"),
                None
            )
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        client
            .api(
                Method::GET,
                &format!("/api/v1/orgs/acme/clinics/{id}"),
                None
            )
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Every change is in the audit log with who did it.
    let mut conn = app.db.conn().await.unwrap();
    let entries = store::audit::recent(conn.exec(), org.id, Some(("clinic", id)), 10)
        .await
        .unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "clinic.delete",
            "clinic.remove_holiday",
            "clinic.add_holiday",
            "clinic.update",
            "clinic.create"
        ]
    );
    assert!(entries.iter().all(|e| e.actor.starts_with("staff:")));
    app.stop().await;
}

async fn a_clinic_in_use_cannot_be_deleted_and_stays(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &basic_scenario()).await;
    let client = app.signed_in(&org, Role::Admin).await;
    let list = client
        .api(Method::GET, "/api/v1/orgs/acme/clinics", None)
        .await
        .json();
    let id = list[0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/orgs/acme/clinics/{id}");
    let message = client.refused_delete(&path).await;
    assert!(message.contains("still used"), "{message}");
    client.assert_found(&path).await;
    app.stop().await;
}

async fn another_organisations_clinic_is_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.org("acme").await;
    let other = app.org("other").await;
    let acme_admin = app.signed_in(&acme, Role::Admin).await;
    let other_admin = app.signed_in(&other, Role::Admin).await;
    let created = other_admin
        .api(
            Method::POST,
            "/api/v1/orgs/other/clinics",
            Some(json!({"name": "Secret", "timezone": "UTC"})),
        )
        .await;
    let id = created.json()["id"].as_i64().unwrap();
    for (method, path, body) in [
        (Method::GET, format!("/api/v1/orgs/acme/clinics/{id}"), None),
        (
            Method::PUT,
            format!("/api/v1/orgs/acme/clinics/{id}"),
            Some(json!({"name": "Mine", "timezone": "UTC"})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/orgs/acme/clinics/{id}"),
            None,
        ),
    ] {
        let page = acme_admin.api(method, &path, body).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!page.body.contains("Secret"));
    }
    let page = acme_admin.get(&format!("/o/acme/admin/clinics/{id}")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(!page.contains("Secret"));
    // And the other organisation's pages are not open to acme's admin.
    assert_eq!(
        acme_admin.get("/o/other/admin/clinics").await.status,
        StatusCode::SEE_OTHER
    );
    app.stop().await;
}

both!(
    admins_create_and_edit_clinics_through_the_pages,
    the_api_creates_updates_and_deletes_with_field_errors,
    a_clinic_in_use_cannot_be_deleted_and_stays,
    another_organisations_clinic_is_not_found,
);
