//! Organisation settings through the page and the API: every field, errors next to
//! the field with nothing saved, a resolution refused while blocks are off its grid,
//! roles, the audit trail.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use store::staff::Role;

use crate::both;
use crate::support::{Backend, TestApp};

fn settings(name: &str, resolution: i64, step: i64) -> Value {
    json!({
        "name": name,
        "resolution_minutes": resolution,
        "slot_step_minutes": step,
        "min_notice_minutes": 120,
        "max_days_ahead": 90,
        "allow_public_signup": true,
        "portal_public_times": true,
        "auto_accept_portal_bookings": false,
        "cancellation_notice_minutes": 1440,
        "portal_welcome": "Welcome to Acme Physio.",
        "video_link": "https://meet.example.com/acme",
        "host": null,
    })
}

async fn admins_edit_every_setting_through_the_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("acme").await;
    let client = app.signed_in(&org, Role::Admin).await;
    let page = client.get("/o/acme/admin/settings").await;
    assert_eq!(page.status, StatusCode::OK);
    for field in [
        "name=\"name\"",
        "name=\"resolution_minutes\"",
        "name=\"slot_step_minutes\"",
        "name=\"min_notice_minutes\"",
        "name=\"max_days_ahead\"",
        "name=\"allow_public_signup\"",
        "name=\"portal_public_times\"",
        "name=\"auto_accept_portal_bookings\"",
        "name=\"cancellation_notice_minutes\"",
        "name=\"portal_welcome\"",
        "name=\"video_link\"",
    ] {
        assert!(page.contains(field), "the form has {field}");
    }
    let saved = client
        .post_form(
            "/o/acme/admin/settings",
            &[
                ("name", "Acme Physio"),
                ("resolution_minutes", "15"),
                ("slot_step_minutes", "30"),
                ("min_notice_minutes", "60"),
                ("max_days_ahead", "30"),
                ("allow_public_signup", "on"),
                ("cancellation_notice_minutes", "720"),
                ("portal_welcome", "Book your visit below."),
                ("video_link", " https://meet.example.com/acme "),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(saved.location(), "/o/acme/admin/settings?saved=1");
    let shown = client.get(&saved.location()).await;
    assert!(shown.contains("Settings saved."));
    assert!(shown.contains("value=\"15\" selected"));
    let api = client
        .api(Method::GET, "/api/v1/orgs/acme/settings", None)
        .await
        .json();
    assert_eq!(
        api,
        json!({
            "name": "Acme Physio",
            "resolution_minutes": 15,
            "slot_step_minutes": 30,
            "min_notice_minutes": 60,
            "max_days_ahead": 30,
            "allow_public_signup": true,
            // An unticked checkbox is not sent: it means false.
            "portal_public_times": false,
            "auto_accept_portal_bookings": false,
            "cancellation_notice_minutes": 720,
            "portal_welcome": "Book your visit below.",
            "video_link": "https://meet.example.com/acme",
            // No host name of its own (clinic_hosts.rs sets one).
            "host": null,
        })
    );
    // A bad number: shown next to its field, the typed values kept, nothing saved.
    let bad = client
        .post_form(
            "/o/acme/admin/settings",
            &[
                ("name", "Renamed"),
                ("resolution_minutes", "15"),
                ("slot_step_minutes", "ten"),
                ("min_notice_minutes", "60"),
                ("max_days_ahead", "30"),
                ("cancellation_notice_minutes", "720"),
                ("portal_welcome", ""),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.contains("id=\"slot_step_minutes-error\""),
        "{}",
        bad.body
    );
    assert!(bad.contains("aria-invalid=\"true\""));
    assert!(bad.contains("value=\"ten\"") && bad.contains("value=\"Renamed\""));
    // A step that is not a multiple of the resolution: the store's rule, same place.
    let off_grid = client
        .post_form(
            "/o/acme/admin/settings",
            &[
                ("name", "Renamed"),
                ("resolution_minutes", "15"),
                ("slot_step_minutes", "20"),
                ("min_notice_minutes", "60"),
                ("max_days_ahead", "30"),
                ("cancellation_notice_minutes", "720"),
            ],
        )
        .await;
    assert_eq!(off_grid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(off_grid.contains("multiple of the 15-minute resolution"));
    let after = client
        .api(Method::GET, "/api/v1/orgs/acme/settings", None)
        .await
        .json();
    assert_eq!(after["name"], "Acme Physio", "nothing was saved");
    app.stop().await;
}

async fn the_api_saves_settings_and_names_the_bad_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("acme").await;
    let client = app.signed_in(&org, Role::Admin).await;
    let defaults = client
        .api(Method::GET, "/api/v1/orgs/acme/settings", None)
        .await
        .json();
    assert_eq!(defaults["resolution_minutes"], 5);
    assert_eq!(defaults["slot_step_minutes"], 15);
    let body = settings("Acme Physio", 5, 10);
    let saved = client
        .api(
            Method::PUT,
            "/api/v1/orgs/acme/settings",
            Some(body.clone()),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(saved.json(), body);
    for (bad, field) in [
        (settings("Acme", 5, 12), "slot_step_minutes"),
        (settings("Acme", 10, 10), "resolution_minutes"),
        (settings("  ", 5, 10), "name"),
        (
            {
                let mut b = settings("Acme", 5, 10);
                b["video_link"] = json!("javascript:alert(1)");
                b
            },
            "video_link",
        ),
        (
            {
                let mut b = settings("Acme", 5, 10);
                b["video_link"] = json!("http://meet.example.com/plain");
                b
            },
            "video_link",
        ),
        (
            {
                let mut b = settings("Acme", 5, 10);
                b["max_days_ahead"] = json!(4000);
                b
            },
            "max_days_ahead",
        ),
        (
            {
                let mut b = settings("Acme", 5, 10);
                b["min_notice_minutes"] = json!("soon");
                b
            },
            "min_notice_minutes",
        ),
        (
            {
                let mut b = settings("Acme", 5, 10);
                b.as_object_mut().unwrap().remove("portal_welcome");
                b
            },
            "portal_welcome",
        ),
        (
            {
                let mut b = settings("Acme", 5, 10);
                b["allow_signup"] = json!(true);
                b
            },
            "allow_signup",
        ),
    ] {
        let refused = client
            .api(Method::PUT, "/api/v1/orgs/acme/settings", Some(bad))
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let error = &refused.json()["error"];
        assert_eq!(error["code"], "invalid", "{field}");
        assert_eq!(error["field"], field, "{}", refused.body);
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // A body that is not JSON at all is refused the same way.
    let token = client.csrf_token("/api/v1/orgs/acme/settings").await;
    let garbage = client
        .http
        .put(client.url("/api/v1/orgs/acme/settings"))
        .header("x-csrf-token", token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let garbage: Value = garbage.json().await.unwrap();
    assert_eq!(garbage["error"]["field"], "body");
    let after = client
        .api(Method::GET, "/api/v1/orgs/acme/settings", None)
        .await
        .json();
    assert_eq!(after, body, "no refused change was saved");
    let mut conn = app.db.conn().await.unwrap();
    let entries = store::audit::recent(conn.exec(), org.id, Some(("organisation", org.id)), 10)
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].action, "organisation.update_settings");
    assert!(entries[0].actor.starts_with("staff:"));
    app.stop().await;
}

/// Blocks from 09:00 to 12:10: on the 5-minute grid, off the 15-minute one.
const OFF_A_15_MINUTE_GRID: &str = r#"{
  "version": 1,
  "settings": {"resolution_minutes": 5, "slot_step_minutes": 15},
  "clinics": [{"id": "toronto", "timezone": "America/Toronto"}],
  "schedule_types": [{"id": "physio", "name": "Physiotherapy"}],
  "practitioners": [{
    "id": "christine", "type": "physiotherapist", "home_clinic": "toronto", "schedule_types": ["physio"],
    "availability": [{"start_date": "2026-03-01", "end_date": "2026-06-30",
      "blocks": [{"days": ["mon"], "start": "09:00", "end": "12:10", "schedule_type": "physio"}]}]
  }]
}"#;

async fn a_resolution_that_leaves_blocks_off_its_grid_is_refused_naming_the_block(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let scenario = slot_engine::Scenario::from_json(OFF_A_15_MINUTE_GRID.as_bytes()).unwrap();
    let org = app.import("acme", &scenario).await;
    let client = app.signed_in(&org, Role::Admin).await;
    let refused = client
        .api(
            Method::PUT,
            "/api/v1/orgs/acme/settings",
            Some(settings("Acme", 15, 15)),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let error = &refused.json()["error"];
    let field = error["field"].as_str().unwrap();
    assert!(
        field.contains("practitioner \"christine\"")
            && field.contains("availability record 2026-03-01..2026-06-30")
            && field.contains("block 1"),
        "{field}"
    );
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("12:10 is not on the 15-minute grid")
    );
    // The page shows the same reason, and nothing changed.
    let page = client
        .post_form(
            "/o/acme/admin/settings",
            &[
                ("name", "Acme"),
                ("resolution_minutes", "15"),
                ("slot_step_minutes", "15"),
                ("min_notice_minutes", "0"),
                ("max_days_ahead", "365"),
                ("cancellation_notice_minutes", "0"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("12:10 is not on the 15-minute grid"),
        "{}",
        page.body
    );
    let after = client
        .api(Method::GET, "/api/v1/orgs/acme/settings", None)
        .await
        .json();
    assert_eq!(after["resolution_minutes"], 5);
    assert_eq!(after["name"], "acme");
    // A resolution the blocks fit is fine.
    let ok = client
        .api(
            Method::PUT,
            "/api/v1/orgs/acme/settings",
            Some(settings("Acme", 1, 15)),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    app.stop().await;
}

async fn only_admins_change_settings_and_front_desk_reads_them(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("acme").await;
    let other = app.org("other").await;
    let front = app.signed_in(&org, Role::FrontDesk).await;
    let read = front
        .api(Method::GET, "/api/v1/orgs/acme/settings", None)
        .await;
    assert_eq!(read.status, StatusCode::OK);
    let put = front
        .api(
            Method::PUT,
            "/api/v1/orgs/acme/settings",
            Some(settings("Taken over", 5, 15)),
        )
        .await;
    assert_eq!(put.status, StatusCode::FORBIDDEN);
    assert_eq!(put.json()["error"]["code"], "forbidden");
    let page = front
        .post_form(
            "/o/acme/admin/settings",
            &[("name", "Taken over"), ("resolution_minutes", "5")],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let practitioner = app.signed_in(&org, Role::Practitioner).await;
    assert_eq!(
        practitioner
            .api(Method::GET, "/api/v1/orgs/acme/settings", None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // Another organisation's settings are not open to acme's staff.
    let admin = app.signed_in(&org, Role::Admin).await;
    let theirs = admin
        .api(Method::GET, "/api/v1/orgs/other/settings", None)
        .await;
    assert_eq!(theirs.status, StatusCode::UNAUTHORIZED);
    assert!(!theirs.contains(&other.name));
    let after = admin
        .api(Method::GET, "/api/v1/orgs/acme/settings", None)
        .await
        .json();
    assert_eq!(after["name"], "acme clinic");
    app.stop().await;
}

async fn the_openapi_document_describes_the_setup_api(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let doc = app.client().get("/api/openapi.json").await.json();
    let paths = &doc["paths"];
    let mut ids = Vec::new();
    for (path, methods) in [
        ("/api/v1/orgs/{slug}/settings", &["get", "put"][..]),
        ("/api/v1/orgs/{slug}/practitioner-types", &["get", "post"]),
        (
            "/api/v1/orgs/{slug}/practitioner-types/{id}",
            &["get", "put", "delete"],
        ),
        ("/api/v1/orgs/{slug}/practitioners", &["get", "post"]),
        ("/api/v1/orgs/{slug}/practitioners/{id}", &["get", "put"]),
        (
            "/api/v1/orgs/{slug}/practitioners/{id}/schedule-types/{schedule_type_id}",
            &["put", "delete"],
        ),
        ("/api/v1/orgs/{slug}/schedule-types", &["get", "post"]),
        (
            "/api/v1/orgs/{slug}/schedule-types/{id}",
            &["get", "put", "delete"],
        ),
        ("/api/v1/orgs/{slug}/services", &["get", "post"]),
        (
            "/api/v1/orgs/{slug}/services/{id}",
            &["get", "put", "delete"],
        ),
        ("/api/v1/orgs/{slug}/staff", &["get", "post"]),
        ("/api/v1/orgs/{slug}/staff/{id}", &["get"]),
        ("/api/v1/orgs/{slug}/staff/{id}/active", &["put"]),
    ] {
        for method in methods {
            let operation = &paths[path][method];
            assert_eq!(operation["tags"], json!(["setup"]), "{method} {path}");
            ids.push(operation["operationId"].as_str().unwrap().to_owned());
        }
    }
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "operation ids are unique: {ids:?}");
    let schemas = &doc["components"]["schemas"];
    assert!(schemas["ScheduleTypeDto"]["properties"]["contrast_warning"].is_object());
    assert_eq!(
        schemas["PractitionerBody"]["required"],
        json!(["name", "type_id", "home_clinic_id"])
    );
    app.stop().await;
}

async fn the_settings_form_reports_every_error_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("acme").await;
    let client = app.signed_in(&org, Role::Admin).await;
    let page = client
        .post_form(
            "/o/acme/admin/settings",
            &[
                ("name", ""),
                ("resolution_minutes", "5"),
                ("slot_step_minutes", "soon"),
                ("min_notice_minutes", "-1"),
                ("max_days_ahead", "60"),
                ("cancellation_notice_minutes", "0"),
                ("portal_welcome", "Welcome, kept as typed"),
                ("video_link", ""),
                ("host", ""),
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
        ("name", "Enter the organisation"),
        (
            "slot_step_minutes",
            "Enter the slot step in minutes as a whole number, e.g. 15.",
        ),
        (
            "min_notice_minutes",
            "Enter the minimum notice in minutes from 0 to 525600.",
        ),
    ] {
        assert!(
            page.contains(&format!(
                "<p class=\"field-error\" id=\"{field}-error\">{message}"
            )),
            "{field}: {}",
            page.body
        );
    }
    assert!(page.contains("Welcome, kept as typed"));
    app.stop().await;
}

both!(
    the_settings_form_reports_every_error_at_once,
    the_openapi_document_describes_the_setup_api,
    admins_edit_every_setting_through_the_page,
    the_api_saves_settings_and_names_the_bad_field,
    a_resolution_that_leaves_blocks_off_its_grid_is_refused_naming_the_block,
    only_admins_change_settings_and_front_desk_reads_them,
);
