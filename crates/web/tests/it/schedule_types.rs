//! Schedule types through the pages and the API: every field, the contrast warning
//! (a warning, never a refusal), the colour stylesheet, codes unique when present,
//! deletes refused while in use, roles, tenant isolation.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use store::staff::Role;

use crate::both;
use crate::support::{Backend, Client, TestApp, basic_scenario};

async fn clinic(client: &Client, slug: &str, name: &str) -> i64 {
    let created = client
        .api(
            Method::POST,
            &format!("/api/v1/orgs/{slug}/clinics"),
            Some(json!({"name": name, "timezone": "America/Toronto"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.json()["id"].as_i64().unwrap()
}

async fn create(client: &Client, slug: &str, body: Value) -> Value {
    client
        .created(&format!("/api/v1/orgs/{slug}/schedule-types"), body)
        .await
}

async fn the_form_saves_every_field_and_warns_about_low_contrast(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("acme").await;
    let client = app.signed_in(&org, Role::Admin).await;
    let toronto = clinic(&client, "acme", "Toronto").await;
    let page = client.get("/o/acme/admin/schedule-types").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.contains("id=\"background_color\" name=\"background_color_custom\" type=\"color\"")
    );
    // The palette's presets are radio buttons of the same field, with their ink.
    assert!(page.contains("name=\"background_color\" value=\"#dbeafe\" data-ink=\"#1e3a8a\""));
    assert!(page.contains("id=\"colour-preview\""));
    assert!(page.contains("id=\"font_color\" name=\"font_color\" type=\"color\""));
    assert!(page.contains("<option value=\"\" selected>Any clinic</option>"));
    // Pale grey on white: saved, with a warning.
    let created = client
        .post_form(
            "/o/acme/admin/schedule-types",
            &[
                ("name", "Massage Toronto"),
                ("code", "MT"),
                ("clinic_id", &toronto.to_string()),
                ("default_duration_minutes", "60"),
                ("allow_conflicts", "on"),
                ("telehealth", "on"),
                ("background_color", "#FFFFFF"),
                ("font_color", "#cccccc"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let edit = client.get(&created.location()).await;
    assert!(edit.contains("Schedule type saved."));
    assert!(edit.contains("id=\"contrast-warning\""), "{}", edit.body);
    assert!(edit.contains("contrast ratio of 1.61:1"));
    assert!(
        edit.contains("value=\"#ffffff\""),
        "colours are stored in lower case"
    );
    assert!(edit.contains("value=\"MT\""));
    assert!(edit.contains(&format!(
        "<option value=\"{toronto}\" selected>Toronto</option>"
    )));
    let list = client
        .api(Method::GET, "/api/v1/orgs/acme/schedule-types", None)
        .await
        .json();
    let t = &list[0];
    assert_eq!(t["name"], "Massage Toronto");
    assert_eq!(t["key"], "massage-toronto");
    assert_eq!(t["code"], "MT");
    assert_eq!(t["clinic_id"], toronto);
    assert_eq!(t["clinic_name"], "Toronto");
    assert_eq!(t["default_duration_minutes"], 60);
    assert_eq!(t["allow_conflicts"], true);
    assert_eq!(t["telehealth"], true);
    assert_eq!(t["background_color"], "#ffffff");
    assert_eq!(t["font_color"], "#cccccc");
    assert_eq!(t["contrast_ratio"], 1.61);
    assert_eq!(t["contrast_warning"], true);
    let id = t["id"].as_i64().unwrap();
    // The list shows a swatch in the type's colours, from the colour stylesheet.
    let list_page = client.get("/o/acme/admin/schedule-types").await;
    assert!(list_page.contains(&format!("class=\"swatch st-{id}\"")));
    assert!(list_page.contains("low contrast"));
    assert!(list_page.contains("/o/acme/admin/schedule-types.css"));
    let css = client.get("/o/acme/admin/schedule-types.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(
        css.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert!(
        css.contains(&format!(
            ".st-{id} {{ background-color: #ffffff; color: #cccccc; }}"
        )),
        "{}",
        css.body
    );
    // Fixing the colours clears the warning; unticked boxes save as false.
    let saved = client
        .post_form(
            &format!("/o/acme/admin/schedule-types/{id}"),
            &[
                ("name", "Massage Toronto"),
                ("code", ""),
                ("clinic_id", ""),
                ("default_duration_minutes", "45"),
                ("background_color", "#cfe8ff"),
                ("font_color", "#0b2a4a"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let edit = client.get(&saved.location()).await;
    assert!(!edit.contains("id=\"contrast-warning\""));
    let one = client
        .api(
            Method::GET,
            &format!("/api/v1/orgs/acme/schedule-types/{id}"),
            None,
        )
        .await
        .json();
    assert_eq!(one["code"], Value::Null, "a blank code is no code");
    assert_eq!(one["clinic_id"], Value::Null, "any clinic");
    assert_eq!(one["allow_conflicts"], false);
    assert_eq!(one["telehealth"], false);
    assert_eq!(one["contrast_warning"], false);
    // A bad duration: shown next to the field, typed values kept, nothing saved.
    let bad = client
        .post_form(
            &format!("/o/acme/admin/schedule-types/{id}"),
            &[
                ("name", "Renamed"),
                ("default_duration_minutes", "0"),
                ("background_color", "#ffffff"),
                ("font_color", "#eeeeee"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.contains("id=\"default_duration_minutes-error\""),
        "{}",
        bad.body
    );
    assert!(bad.contains(
        "aria-describedby=\"default_duration_minutes-hint default_duration_minutes-error\""
    ));
    assert!(bad.contains("value=\"Renamed\""));
    assert!(
        bad.contains("id=\"contrast-warning\""),
        "the typed colours are checked too"
    );
    let after = client
        .api(
            Method::GET,
            &format!("/api/v1/orgs/acme/schedule-types/{id}"),
            None,
        )
        .await
        .json();
    assert_eq!(after["name"], "Massage Toronto");
    app.stop().await;
}

async fn the_api_checks_codes_colours_clinics_and_durations(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("acme").await;
    let other = app.org("other").await;
    let client = app.signed_in(&org, Role::Admin).await;
    let theirs = app.signed_in(&other, Role::Admin).await;
    let their_clinic = clinic(&theirs, "other", "Elsewhere").await;
    // Defaults of the scenario format for what is left out.
    let plain = create(&client, "acme", json!({"name": "Physiotherapy"})).await;
    assert_eq!(plain["default_duration_minutes"], 30);
    assert_eq!(plain["background_color"], "#ffffff");
    assert_eq!(plain["font_color"], "#000000");
    assert_eq!(plain["contrast_ratio"], 21.0);
    assert_eq!(plain["contrast_warning"], false);
    assert_eq!(plain["code"], Value::Null);
    // Codes are optional, so many types have none; a code given is unique.
    create(&client, "acme", json!({"name": "Massage"})).await;
    create(&client, "acme", json!({"name": "Initial", "code": "INIT"})).await;
    for (body, field) in [
        (json!({"name": "Again", "code": "INIT"}), "code"),
        (json!({"name": ""}), "name"),
        (
            json!({"name": "Long", "default_duration_minutes": 1441}),
            "default_duration_minutes",
        ),
        (
            json!({"name": "Blue", "background_color": "blue"}),
            "background_color",
        ),
        (json!({"name": "Short", "font_color": "#abc"}), "font_color"),
        (
            json!({"name": "Theirs", "clinic_id": their_clinic}),
            "clinic_id",
        ),
        (
            json!({"name": "Typo", "alow_conflicts": true}),
            "alow_conflicts",
        ),
        (json!({"name": "Typed", "telehealth": "yes"}), "telehealth"),
    ] {
        let refused = client
            .api(Method::POST, "/api/v1/orgs/acme/schedule-types", Some(body))
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert_eq!(refused.json()["error"]["field"], field, "{}", refused.body);
    }
    let all = client
        .api(Method::GET, "/api/v1/orgs/acme/schedule-types", None)
        .await
        .json();
    assert_eq!(
        all.as_array().unwrap().len(),
        3,
        "nothing refused was saved"
    );
    // The same code on another organisation is fine.
    create(&theirs, "other", json!({"name": "Initial", "code": "INIT"})).await;
    // Saving a type keeps its own code.
    let id = plain["id"].as_i64().unwrap();
    let saved = client
        .api(
            Method::PUT,
            &format!("/api/v1/orgs/acme/schedule-types/{id}"),
            Some(json!({"name": "Physiotherapy", "code": "PT", "background_color": "#123456", "font_color": "#123457"})),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(saved.json()["contrast_warning"], true);
    let again = client
        .api(
            Method::PUT,
            &format!("/api/v1/orgs/acme/schedule-types/{id}"),
            Some(json!({"name": "Physiotherapy", "code": "PT"})),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    let taken = client
        .api(
            Method::PUT,
            &format!("/api/v1/orgs/acme/schedule-types/{id}"),
            Some(json!({"name": "Physiotherapy", "code": "INIT"})),
        )
        .await;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(taken.json()["error"]["field"], "code");
    // Every change is audited.
    let mut conn = app.db.conn().await.unwrap();
    let entries = store::audit::recent(conn.exec(), org.id, Some(("schedule_type", id)), 10)
        .await
        .unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "schedule_type.update",
            "schedule_type.update",
            "schedule_type.create"
        ]
    );
    app.stop().await;
}

async fn a_schedule_type_in_use_cannot_be_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &basic_scenario()).await;
    let client = app.signed_in(&org, Role::Admin).await;
    let list = client
        .api(Method::GET, "/api/v1/orgs/acme/schedule-types", None)
        .await
        .json();
    let physio = list[0]["id"].as_i64().unwrap();
    let message = client
        .refused_delete(&format!("/api/v1/orgs/acme/schedule-types/{physio}"))
        .await;
    assert!(
        message.contains("\"Physiotherapy\" is still used by 1 practitioner, 1 service"),
        "{message}"
    );
    let page = client
        .post_form(
            &format!("/o/acme/admin/schedule-types/{physio}/delete"),
            &[],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("is still used by 1 practitioner"));
    // An unused one goes.
    let spare = create(&client, "acme", json!({"name": "Spare"})).await;
    let deleted = client
        .api(
            Method::DELETE,
            &format!("/api/v1/orgs/acme/schedule-types/{}", spare["id"]),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let after = client
        .api(Method::GET, "/api/v1/orgs/acme/schedule-types", None)
        .await
        .json();
    assert_eq!(after.as_array().unwrap().len(), 1);
    app.stop().await;
}

async fn front_desk_reads_and_only_admins_write(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("acme").await;
    let admin = app.signed_in(&org, Role::Admin).await;
    let t = create(&admin, "acme", json!({"name": "Physiotherapy"})).await;
    let front = app.signed_in(&org, Role::FrontDesk).await;
    assert_eq!(
        front
            .api(Method::GET, "/api/v1/orgs/acme/schedule-types", None)
            .await
            .status,
        StatusCode::OK
    );
    for (method, path, body) in [
        (
            Method::POST,
            "/api/v1/orgs/acme/schedule-types".to_owned(),
            Some(json!({"name": "Mine"})),
        ),
        (
            Method::PUT,
            format!("/api/v1/orgs/acme/schedule-types/{}", t["id"]),
            Some(json!({"name": "Mine"})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/orgs/acme/schedule-types/{}", t["id"]),
            None,
        ),
    ] {
        let page = front.api(method, &path, body).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
    }
    let page = front
        .post_form("/o/acme/admin/schedule-types", &[("name", "Mine")])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let after = admin
        .api(Method::GET, "/api/v1/orgs/acme/schedule-types", None)
        .await
        .json();
    assert_eq!(after.as_array().unwrap().len(), 1);
    assert_eq!(after[0]["name"], "Physiotherapy");
    app.stop().await;
}

async fn another_organisations_schedule_type_is_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.org("acme").await;
    let other = app.org("other").await;
    let acme_admin = app.signed_in(&acme, Role::Admin).await;
    let other_admin = app.signed_in(&other, Role::Admin).await;
    let secret = create(
        &other_admin,
        "other",
        json!({"name": "Secret Therapy", "code": "SECRET"}),
    )
    .await;
    let id = secret["id"].as_i64().unwrap();
    for (method, path, body) in [
        (
            Method::GET,
            format!("/api/v1/orgs/acme/schedule-types/{id}"),
            None,
        ),
        (
            Method::PUT,
            format!("/api/v1/orgs/acme/schedule-types/{id}"),
            Some(json!({"name": "Mine"})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/orgs/acme/schedule-types/{id}"),
            None,
        ),
    ] {
        let page = acme_admin.api(method, &path, body).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!page.contains("Secret") && !page.contains("SECRET"));
    }
    for page in [
        acme_admin
            .get(&format!("/o/acme/admin/schedule-types/{id}"))
            .await,
        acme_admin
            .post_form(
                &format!("/o/acme/admin/schedule-types/{id}"),
                &[
                    ("name", "Mine"),
                    ("default_duration_minutes", "30"),
                    ("background_color", "#ffffff"),
                    ("font_color", "#000000"),
                ],
            )
            .await,
        acme_admin
            .post_form(&format!("/o/acme/admin/schedule-types/{id}/delete"), &[])
            .await,
    ] {
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        assert!(!page.contains("Secret") && !page.contains("SECRET"));
    }
    let css = acme_admin.get("/o/acme/admin/schedule-types.css").await;
    assert!(!css.contains(&format!(".st-{id} ")));
    let theirs = other_admin
        .api(
            Method::GET,
            &format!("/api/v1/orgs/other/schedule-types/{id}"),
            None,
        )
        .await
        .json();
    assert_eq!(theirs["name"], "Secret Therapy", "unchanged");
    app.stop().await;
}

async fn an_empty_form_reports_every_error_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("acme").await;
    let client = app.signed_in(&org, Role::Admin).await;
    let page = client
        .post_form(
            "/o/acme/admin/schedule-types",
            &[
                ("name", ""),
                ("code", "KEEP-ME"),
                ("default_duration_minutes", ""),
                ("background_color", "custom"),
                ("background_color_custom", "blue"),
                ("font_color", "#000000"),
            ],
        )
        .await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.body
    );
    // Every field's error on the first submit, each in a sentence under its field.
    for (field, message) in [
        ("name", "Enter a name (at most 100 characters)."),
        (
            "default_duration_minutes",
            "Enter the default duration in minutes as a whole number, e.g. 30.",
        ),
        (
            "background_color",
            "Choose the background colour as #rrggbb, e.g. #1d4ed8.",
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
    // What was typed is kept.
    assert!(page.contains("value=\"KEEP-ME\""), "{}", page.body);
    // A preset posts its colour; nothing was saved before.
    let saved = client
        .post_form(
            "/o/acme/admin/schedule-types",
            &[
                ("name", "Physio"),
                ("default_duration_minutes", "30"),
                ("background_color", "#dbeafe"),
                ("font_color", "#1e3a8a"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let list = client
        .api(Method::GET, "/api/v1/orgs/acme/schedule-types", None)
        .await
        .json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["background_color"], "#dbeafe");
    // The API answers the first field's error, in the same words.
    let api = client
        .api(
            Method::POST,
            "/api/v1/orgs/acme/schedule-types",
            Some(json!({"name": "", "default_duration_minutes": 0})),
        )
        .await;
    assert_eq!(api.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(api.json()["error"]["field"], "name");
    assert_eq!(
        api.json()["error"]["message"],
        "Enter a name (at most 100 characters)."
    );
    app.stop().await;
}

both!(
    an_empty_form_reports_every_error_at_once,
    the_form_saves_every_field_and_warns_about_low_contrast,
    the_api_checks_codes_colours_clinics_and_durations,
    a_schedule_type_in_use_cannot_be_deleted,
    front_desk_reads_and_only_admins_write,
    another_organisations_schedule_type_is_not_found,
);
