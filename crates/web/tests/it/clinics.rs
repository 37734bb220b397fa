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

async fn clinics_have_an_address_a_phone_and_a_zone_chosen_from_a_list(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("acme").await;
    let client = app.signed_in(&org, Role::Admin).await;
    // The new clinic form: the zone is chosen from the IANA zones, grouped by region.
    let list = client.get("/o/acme/admin/clinics").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.contains("<select id=\"timezone\" name=\"timezone\" required"));
    assert!(list.contains("<optgroup label=\"America\">"));
    assert!(list.contains("<optgroup label=\"Europe\">"));
    assert!(list.contains("<option value=\"America/Toronto\" selected>Toronto</option>"));
    assert!(list.contains("<option value=\"Asia/Kathmandu\">Kathmandu</option>"));
    assert!(!list.contains("list=\"zones\""), "no typed field");
    assert!(list.contains("<textarea id=\"address\" name=\"address\""));
    assert!(list.contains("<input id=\"phone\" name=\"phone\" type=\"tel\""));

    let created = client
        .post_form(
            "/o/acme/admin/clinics",
            &[
                ("name", "Kitsilano"),
                ("timezone", "America/Vancouver"),
                (
                    "address",
                    " 2400 West 4th Avenue \r\n\r\n Vancouver BC V6K 1P2 ",
                ),
                ("phone", "+1 (604) 555-0199"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let edit = client.get(&created.location()).await;
    assert!(edit.contains("<option value=\"America/Vancouver\" selected>Vancouver</option>"));
    assert!(
        edit.contains(">2400 West 4th Avenue\nVancouver BC V6K 1P2</textarea>"),
        "{}",
        edit.body
    );
    assert!(edit.contains("value=\"+1 (604) 555-0199\""));
    let list = client.get("/o/acme/admin/clinics").await;
    assert!(
        list.contains(
            "<td>2400 West 4th Avenue<br>Vancouver BC V6K 1P2</td><td>+1 (604) 555-0199</td>"
        ),
        "{}",
        list.body
    );
    // A new clinic starts in the first clinic's zone.
    assert!(list.contains("<option value=\"America/Vancouver\" selected>Vancouver</option>"));

    // The API returns them; bad input names the field and changes nothing.
    let clinics = client
        .api(Method::GET, "/api/v1/orgs/acme/clinics", None)
        .await
        .json();
    assert_eq!(
        clinics[0]["address"],
        "2400 West 4th Avenue\nVancouver BC V6K 1P2"
    );
    assert_eq!(clinics[0]["phone"], "+1 (604) 555-0199");
    let id = clinics[0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/orgs/acme/clinics/{id}");
    for (body, field) in [
        (
            json!({"name": "Kitsilano", "timezone": "America/Vancouver", "phone": "call us"}),
            "phone",
        ),
        (
            json!({"name": "Kitsilano", "timezone": "America/Vancouver", "address": "x".repeat(301)}),
            "address",
        ),
        (
            json!({"name": "Kitsilano", "timezone": "Vancouver"}),
            "timezone",
        ),
        (
            json!({"name": "Kitsilano", "timezone": "America/Vancouver", "phone": 6045550199_i64}),
            "phone",
        ),
    ] {
        let bad = client.api(Method::PUT, &path, Some(body)).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
        assert_eq!(bad.json()["error"]["field"], field);
    }
    let page = client
        .post_form(
            &format!("/o/acme/admin/clinics/{id}"),
            &[
                ("name", "Kitsilano"),
                ("timezone", "America/Vancouver"),
                ("phone", "call us"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"phone-error\""));
    assert!(
        page.contains("value=\"call us\""),
        "the form keeps what was typed"
    );
    let unchanged = client.api(Method::GET, &path, None).await.json();
    assert_eq!(unchanged["phone"], "+1 (604) 555-0199");
    assert_eq!(
        unchanged["address"],
        "2400 West 4th Avenue\nVancouver BC V6K 1P2"
    );
    // The API still takes the zone by name; a zone outside the regions stays chosen.
    let saved = client
        .api(
            Method::PUT,
            &path,
            Some(
                json!({"name": "Kitsilano", "timezone": "US/Pacific", "address": "", "phone": ""}),
            ),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(saved.json()["address"], "");
    let edit = client.get(&format!("/o/acme/admin/clinics/{id}")).await;
    assert!(edit.contains("<optgroup label=\"Other\"><option value=\"UTC\">UTC</option><option value=\"US/Pacific\" selected>US/Pacific</option></optgroup>"), "{}", edit.body);
    // The audit log keeps the address and phone.
    let mut conn = app.db.conn().await.unwrap();
    let entries = store::audit::recent(conn.exec(), org.id, Some(("clinic", id)), 10)
        .await
        .unwrap();
    let created: serde_json::Value =
        serde_json::from_str(&entries.last().unwrap().details).unwrap();
    assert_eq!(created["phone"], "+1 (604) 555-0199");
    app.stop().await;
}

async fn the_clinic_form_reports_every_error_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("acme").await;
    let client = app.signed_in(&org, Role::Admin).await;
    let page = client
        .post_form(
            "/o/acme/admin/clinics",
            &[
                ("name", ""),
                ("timezone", "Mars/Olympus"),
                ("address", "1 Main St"),
                ("phone", "call us"),
            ],
        )
        .await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.body
    );
    for (field, message) in [
        ("name", "Enter a name (at most 100 characters)."),
        (
            "timezone",
            "Choose the time zone from the list, e.g. America/Toronto.",
        ),
        (
            "phone",
            "Enter the phone number in digits, spaces and + ( ) - . (at most 40 characters).",
        ),
    ] {
        assert!(
            page.contains(&format!(
                "<p class=\"field-error\" id=\"{field}-error\">{message}</p>"
            )),
            "{field}: {}",
            page.body
        );
    }
    assert!(page.contains("1 Main St"), "the address typed is kept");
    let clinics = client
        .api(Method::GET, "/api/v1/orgs/acme/clinics", None)
        .await
        .json();
    assert_eq!(clinics.as_array().unwrap().len(), 0, "nothing was saved");
    // Corrected, it is saved, and the next page says so once, announced as a status.
    let saved = client
        .post_form(
            "/o/acme/admin/clinics",
            &[
                ("name", "Main St"),
                ("timezone", "America/Toronto"),
                ("address", "1 Main St"),
                ("phone", ""),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let next = client.get(&saved.location()).await;
    assert!(
        next.contains("<p class=\"ok flash\" role=\"status\">Saved.</p>"),
        "{}",
        next.body
    );
    let again = client.get(&saved.location()).await;
    assert!(!again.contains("Saved."), "shown once");
    app.stop().await;
}

both!(
    the_clinic_form_reports_every_error_at_once,
    clinics_have_an_address_a_phone_and_a_zone_chosen_from_a_list,
    admins_create_and_edit_clinics_through_the_pages,
    the_api_creates_updates_and_deletes_with_field_errors,
    a_clinic_in_use_cannot_be_deleted_and_stays,
    another_organisations_clinic_is_not_found,
);
