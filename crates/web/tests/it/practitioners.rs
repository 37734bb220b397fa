//! Practitioner types and practitioners through the pages and the API: the
//! practitioner's *Schedule Types* lists (available ↔ added), removal refused while
//! availability blocks use a schedule type, deactivation, roles, tenant isolation.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use store::staff::Role;

use crate::both;
use crate::support::{Backend, Client, TestApp, basic_scenario};

/// A clinic, a practitioner type and a schedule type in `slug`: their ids.
async fn basics(client: &Client, slug: &str) -> (i64, i64, i64) {
    let clinic = client
        .created(
            &format!("/api/v1/orgs/{slug}/clinics"),
            json!({"name": "Toronto", "timezone": "America/Toronto"}),
        )
        .await;
    let kind = client
        .created(
            &format!("/api/v1/orgs/{slug}/practitioner-types"),
            json!({"name": "Physiotherapist"}),
        )
        .await;
    let schedule_type = client.created(
        &format!("/api/v1/orgs/{slug}/schedule-types"),
        json!({"name": "Physiotherapy", "background_color": "#cfe8ff", "font_color": "#0b2a4a"}),
    )
    .await;
    (
        clinic["id"].as_i64().unwrap(),
        kind["id"].as_i64().unwrap(),
        schedule_type["id"].as_i64().unwrap(),
    )
}

async fn practitioner_types_are_listed_created_renamed_and_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("acme").await;
    let client = app.signed_in(&org, Role::Admin).await;
    let created = client
        .post_form(
            "/o/acme/admin/practitioner-types",
            &[("name", "Registered Massage Therapist")],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let list = client.get("/o/acme/admin/practitioner-types").await;
    assert!(list.contains("Registered Massage Therapist"));
    assert!(list.contains("<code>registered-massage-therapist</code>"));
    // One name, one type: a second one with the same name is refused at the field.
    let twice = client
        .post_form(
            "/o/acme/admin/practitioner-types",
            &[("name", "registered massage therapist")],
        )
        .await;
    assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(twice.contains("id=\"name-error\""), "{}", twice.body);
    assert!(twice.contains("value=\"registered massage therapist\""));
    let types = client
        .api(Method::GET, "/api/v1/orgs/acme/practitioner-types", None)
        .await
        .json();
    assert_eq!(types.as_array().unwrap().len(), 1);
    let id = types[0]["id"].as_i64().unwrap();
    // Renaming keeps the key, which exports name practitioners' types by.
    let renamed = client
        .api(
            Method::PUT,
            &format!("/api/v1/orgs/acme/practitioner-types/{id}"),
            Some(json!({"name": "Massage Therapist"})),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    assert_eq!(renamed.json()["name"], "Massage Therapist");
    assert_eq!(renamed.json()["key"], "registered-massage-therapist");
    let blank = client
        .api(
            Method::PUT,
            &format!("/api/v1/orgs/acme/practitioner-types/{id}"),
            Some(json!({"name": " "})),
        )
        .await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(blank.json()["error"]["field"], "name");
    // The page renames too.
    let page = client
        .post_form(
            &format!("/o/acme/admin/practitioner-types/{id}"),
            &[("name", "RMT")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        client
            .api(
                Method::DELETE,
                &format!("/api/v1/orgs/acme/practitioner-types/{id}"),
                None
            )
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let mut conn = app.db.conn().await.unwrap();
    let entries = store::audit::recent(conn.exec(), org.id, Some(("practitioner_type", id)), 10)
        .await
        .unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "practitioner_type.delete",
            "practitioner_type.rename",
            "practitioner_type.rename",
            "practitioner_type.create"
        ]
    );
    app.stop().await;
}

async fn a_practitioner_type_in_use_cannot_be_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &basic_scenario()).await;
    let client = app.signed_in(&org, Role::Admin).await;
    let types = client
        .api(Method::GET, "/api/v1/orgs/acme/practitioner-types", None)
        .await
        .json();
    assert_eq!(types[0]["name"], "Physiotherapist");
    assert_eq!(types[0]["practitioners"], 1);
    assert_eq!(types[0]["services"], 1);
    let id = types[0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/orgs/acme/practitioner-types/{id}");
    assert_eq!(
        client.refused_delete(&path).await,
        "\"Physiotherapist\" is still used by 1 practitioner and 1 service: give them another type first"
    );
    let page = client
        .post_form(
            &format!("/o/acme/admin/practitioner-types/{id}/delete"),
            &[],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("is still used by 1 practitioner and 1 service"));
    client.assert_found(&path).await;
    app.stop().await;
}

async fn admins_set_practitioners_up_through_the_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("acme").await;
    let client = app.signed_in(&org, Role::Admin).await;
    let (clinic, kind, physio) = basics(&client, "acme").await;
    let created = client
        .post_form(
            "/o/acme/admin/practitioners",
            &[
                ("name", "Christine Roy"),
                ("type_id", &kind.to_string()),
                ("home_clinic_id", &clinic.to_string()),
                ("email", "Christine@Example.com"),
                ("active", "on"),
                ("bookable_in_portal", "on"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let at = created.location();
    let page = client.get(&at).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.contains("<h1>Christine Roy</h1>"));
    assert!(page.contains("value=\"christine@example.com\""));
    // Schedule Types: the one schedule type is available, none added.
    let available = section(&page.body, "available-heading", "added-heading");
    assert!(available.contains("Physiotherapy"), "{available}");
    assert!(available.contains(&format!("/schedule-types/{physio}/add")));
    assert!(page.contains("/o/acme/admin/schedule-types.css"));
    // The place for the availability records, with its link.
    assert!(page.contains("id=\"availability\""));
    let id: i64 = at.rsplit('/').next().unwrap().parse().unwrap();
    assert!(page.contains(&format!(
        "href=\"/o/acme/admin/practitioners/{id}/availability\""
    )));
    let added = client
        .post_form(
            &format!("/o/acme/admin/practitioners/{id}/schedule-types/{physio}/add"),
            &[],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER);
    let page = client.get(&at).await;
    let added_list = section(&page.body, "added-heading", "id=\"availability\"");
    assert!(added_list.contains("Physiotherapy"), "{added_list}");
    assert!(added_list.contains(&format!("/schedule-types/{physio}/remove")));
    assert!(!section(&page.body, "available-heading", "added-heading").contains("/add\""));
    // A bad email: next to the field, typed values kept, nothing saved.
    let bad = client
        .post_form(
            &at,
            &[
                ("name", "Christine Roy-Lane"),
                ("type_id", &kind.to_string()),
                ("home_clinic_id", &clinic.to_string()),
                ("email", "christine at example"),
                ("active", "on"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.contains("id=\"email-error\""), "{}", bad.body);
    assert!(bad.contains("value=\"Christine Roy-Lane\""));
    // No type chosen: named too.
    let no_type = client
        .post_form(
            "/o/acme/admin/practitioners",
            &[
                ("name", "Ana"),
                ("type_id", ""),
                ("home_clinic_id", &clinic.to_string()),
            ],
        )
        .await;
    assert_eq!(no_type.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_type.contains("id=\"type_id-error\""));
    // Deactivate, then the list says so.
    let off = client
        .post_form(
            &format!("/o/acme/admin/practitioners/{id}/active"),
            &[("active", "false")],
        )
        .await;
    assert_eq!(off.status, StatusCode::SEE_OTHER);
    let list = client.get("/o/acme/admin/practitioners").await;
    assert!(list.contains("<strong>No</strong>"));
    let api = client
        .api(
            Method::GET,
            &format!("/api/v1/orgs/acme/practitioners/{id}"),
            None,
        )
        .await
        .json();
    assert_eq!(api["name"], "Christine Roy");
    assert_eq!(api["email"], "christine@example.com");
    assert_eq!(api["active"], false);
    assert_eq!(api["bookable_in_portal"], true);
    assert_eq!(api["schedule_type_ids"], json!([physio]));
    let mut conn = app.db.conn().await.unwrap();
    let entries = store::audit::recent(conn.exec(), org.id, Some(("practitioner", id)), 10)
        .await
        .unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "practitioner.deactivate",
            "practitioner.add_schedule_type",
            "practitioner.create"
        ]
    );
    app.stop().await;
}

/// The text of `body` from `from` up to `to`.
fn section<'a>(body: &'a str, from: &str, to: &str) -> &'a str {
    let start = body
        .find(from)
        .unwrap_or_else(|| panic!("{from} in {body}"));
    let end = body[start..].find(to).map_or(body.len(), |n| start + n);
    &body[start..end]
}

async fn the_api_creates_updates_and_assigns_schedule_types(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("acme").await;
    let other = app.org("other").await;
    let client = app.signed_in(&org, Role::Admin).await;
    let theirs = app.signed_in(&other, Role::Admin).await;
    let (clinic, kind, physio) = basics(&client, "acme").await;
    let (their_clinic, their_kind, _) = basics(&theirs, "other").await;
    let created = client
        .created(
            "/api/v1/orgs/acme/practitioners",
            json!({"name": "Christine Roy", "type_id": kind, "home_clinic_id": clinic}),
        )
        .await;
    assert_eq!(created["key"], "christine-roy");
    assert_eq!(created["type_name"], "Physiotherapist");
    assert_eq!(created["home_clinic_name"], "Toronto");
    assert_eq!(created["active"], true, "active unless told otherwise");
    assert_eq!(created["bookable_in_portal"], true);
    assert_eq!(created["email"], Value::Null);
    assert_eq!(created["schedule_type_ids"], json!([]));
    let id = created["id"].as_i64().unwrap();
    for (body, field) in [
        (json!({"name": "Ana", "home_clinic_id": clinic}), "type_id"),
        (
            json!({"name": "Ana", "type_id": their_kind, "home_clinic_id": clinic}),
            "type_id",
        ),
        (
            json!({"name": "Ana", "type_id": kind, "home_clinic_id": their_clinic}),
            "home_clinic_id",
        ),
        (
            json!({"name": "", "type_id": kind, "home_clinic_id": clinic}),
            "name",
        ),
        (
            json!({"name": "Ana", "type_id": kind, "home_clinic_id": clinic, "email": "nope"}),
            "email",
        ),
        (
            json!({"name": "Ana", "type_id": "physio", "home_clinic_id": clinic}),
            "type_id",
        ),
    ] {
        let refused = client
            .api(Method::POST, "/api/v1/orgs/acme/practitioners", Some(body))
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert_eq!(refused.json()["error"]["field"], field, "{}", refused.body);
    }
    let updated = client
        .api(
            Method::PUT,
            &format!("/api/v1/orgs/acme/practitioners/{id}"),
            Some(
                json!({"name": "Christine Roy", "type_id": kind, "home_clinic_id": clinic,
                        "email": "christine@example.com", "bookable_in_portal": false}),
            ),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.json()["bookable_in_portal"], false);
    assert_eq!(updated.json()["email"], "christine@example.com");
    // Assigning is idempotent; the list shows it.
    for _ in 0..2 {
        let assigned = client
            .api(
                Method::PUT,
                &format!("/api/v1/orgs/acme/practitioners/{id}/schedule-types/{physio}"),
                None,
            )
            .await;
        assert_eq!(assigned.status, StatusCode::OK, "{}", assigned.body);
        assert_eq!(assigned.json()["schedule_type_ids"], json!([physio]));
    }
    let list = client
        .api(Method::GET, "/api/v1/orgs/acme/practitioners", None)
        .await
        .json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["schedule_type_ids"], json!([physio]));
    let removed = client
        .api(
            Method::DELETE,
            &format!("/api/v1/orgs/acme/practitioners/{id}/schedule-types/{physio}"),
            None,
        )
        .await;
    assert_eq!(removed.status, StatusCode::OK);
    assert_eq!(removed.json()["schedule_type_ids"], json!([]));
    // Deactivating through the API is saving with active false.
    let off = client
        .api(
            Method::PUT,
            &format!("/api/v1/orgs/acme/practitioners/{id}"),
            Some(json!({"name": "Christine Roy", "type_id": kind, "home_clinic_id": clinic, "active": false})),
        )
        .await;
    assert_eq!(off.json()["active"], false);
    app.stop().await;
}

async fn a_schedule_type_used_by_blocks_cannot_be_removed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &basic_scenario()).await;
    let client = app.signed_in(&org, Role::Admin).await;
    let list = client
        .api(Method::GET, "/api/v1/orgs/acme/practitioners", None)
        .await
        .json();
    let christine = list[0]["id"].as_i64().unwrap();
    let physio = list[0]["schedule_type_ids"][0].as_i64().unwrap();
    let refused = client
        .api(
            Method::DELETE,
            &format!("/api/v1/orgs/acme/practitioners/{christine}/schedule-types/{physio}"),
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let error = &refused.json()["error"];
    assert_eq!(error["field"], "schedule_type");
    assert_eq!(
        error["message"],
        "schedule type \"Physiotherapy\" is still used by the availability record from \
         Sun 1 Mar 2026 (open-ended): take its blocks off the grid first"
    );
    let page = client
        .post_form(
            &format!("/o/acme/admin/practitioners/{christine}/schedule-types/{physio}/remove"),
            &[],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("role=\"alert\""));
    assert!(
        page.contains("schedule type &#34;Physiotherapy&#34; is still used by the availability record from Sun 1 Mar 2026 (open-ended)")
            || page.contains("schedule type &quot;Physiotherapy&quot; is still used by the availability record from Sun 1 Mar 2026 (open-ended)"),
        "{}",
        page.body
    );
    let after = client
        .api(
            Method::GET,
            &format!("/api/v1/orgs/acme/practitioners/{christine}"),
            None,
        )
        .await
        .json();
    assert_eq!(
        after["schedule_type_ids"],
        json!([physio]),
        "nothing changed"
    );
    app.stop().await;
}

async fn front_desk_reads_practitioners_and_only_admins_write(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &basic_scenario()).await;
    let front = app.signed_in(&org, Role::FrontDesk).await;
    let list = front
        .api(Method::GET, "/api/v1/orgs/acme/practitioners", None)
        .await;
    assert_eq!(list.status, StatusCode::OK);
    let practitioner = list.json()[0].clone();
    let id = practitioner["id"].as_i64().unwrap();
    let types = front
        .api(Method::GET, "/api/v1/orgs/acme/practitioner-types", None)
        .await;
    assert_eq!(types.status, StatusCode::OK);
    let kind = types.json()[0]["id"].as_i64().unwrap();
    let physio = practitioner["schedule_type_ids"][0].as_i64().unwrap();
    for (method, path, body) in [
        (
            Method::POST,
            "/api/v1/orgs/acme/practitioners".to_owned(),
            Some(
                json!({"name": "Mine", "type_id": kind, "home_clinic_id": practitioner["home_clinic_id"]}),
            ),
        ),
        (
            Method::PUT,
            format!("/api/v1/orgs/acme/practitioners/{id}"),
            Some(
                json!({"name": "Mine", "type_id": kind, "home_clinic_id": practitioner["home_clinic_id"]}),
            ),
        ),
        (
            Method::DELETE,
            format!("/api/v1/orgs/acme/practitioners/{id}/schedule-types/{physio}"),
            None,
        ),
        (
            Method::PUT,
            format!("/api/v1/orgs/acme/practitioners/{id}/schedule-types/{physio}"),
            None,
        ),
        (
            Method::POST,
            "/api/v1/orgs/acme/practitioner-types".to_owned(),
            Some(json!({"name": "Mine"})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/orgs/acme/practitioner-types/{kind}"),
            None,
        ),
    ] {
        let page = front.api(method, &path, body).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
    }
    let page = front
        .post_form(
            &format!("/o/acme/admin/practitioners/{id}/active"),
            &[("active", "false")],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let after = front
        .api(
            Method::GET,
            &format!("/api/v1/orgs/acme/practitioners/{id}"),
            None,
        )
        .await
        .json();
    assert_eq!(after, practitioner, "nothing changed");
    let own = app.signed_in(&org, Role::Practitioner).await;
    assert_eq!(
        own.api(Method::GET, "/api/v1/orgs/acme/practitioners", None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    app.stop().await;
}

async fn another_organisations_practitioners_and_types_are_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.org("acme").await;
    let other = app.org("other").await;
    let acme_admin = app.signed_in(&acme, Role::Admin).await;
    let other_admin = app.signed_in(&other, Role::Admin).await;
    let (clinic, kind, physio) = basics(&acme_admin, "acme").await;
    let (their_clinic, their_kind, their_type) = basics(&other_admin, "other").await;
    let secret = other_admin
        .created(
            "/api/v1/orgs/other/practitioners",
            json!({"name": "Secret Person", "type_id": their_kind, "home_clinic_id": their_clinic,
               "email": "secret@example.com"}),
        )
        .await;
    let theirs = secret["id"].as_i64().unwrap();
    let mine = acme_admin
        .created(
            "/api/v1/orgs/acme/practitioners",
            json!({"name": "Ana", "type_id": kind, "home_clinic_id": clinic}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let body = json!({"name": "Mine", "type_id": kind, "home_clinic_id": clinic});
    for (method, path, body) in [
        (
            Method::GET,
            format!("/api/v1/orgs/acme/practitioners/{theirs}"),
            None,
        ),
        (
            Method::PUT,
            format!("/api/v1/orgs/acme/practitioners/{theirs}"),
            Some(body),
        ),
        (
            Method::PUT,
            format!("/api/v1/orgs/acme/practitioners/{theirs}/schedule-types/{physio}"),
            None,
        ),
        (
            Method::DELETE,
            format!("/api/v1/orgs/acme/practitioners/{theirs}/schedule-types/{physio}"),
            None,
        ),
        // Their schedule type on my practitioner.
        (
            Method::PUT,
            format!("/api/v1/orgs/acme/practitioners/{mine}/schedule-types/{their_type}"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/orgs/acme/practitioner-types/{their_kind}"),
            None,
        ),
        (
            Method::PUT,
            format!("/api/v1/orgs/acme/practitioner-types/{their_kind}"),
            Some(json!({"name": "Mine"})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/orgs/acme/practitioner-types/{their_kind}"),
            None,
        ),
    ] {
        let page = acme_admin.api(method, &path, body).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}: {}", page.body);
        assert!(
            !page.contains("Secret") && !page.contains("secret@"),
            "{path}"
        );
    }
    for page in [
        acme_admin
            .get(&format!("/o/acme/admin/practitioners/{theirs}"))
            .await,
        acme_admin
            .post_form(
                &format!("/o/acme/admin/practitioners/{theirs}/active"),
                &[("active", "false")],
            )
            .await,
        acme_admin
            .post_form(
                &format!("/o/acme/admin/practitioners/{theirs}/schedule-types/{physio}/add"),
                &[],
            )
            .await,
        acme_admin
            .get(&format!("/o/acme/admin/practitioner-types/{their_kind}"))
            .await,
    ] {
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        assert!(!page.contains("Secret") && !page.contains("secret@"));
    }
    let list = acme_admin
        .api(Method::GET, "/api/v1/orgs/acme/practitioners", None)
        .await;
    assert!(!list.contains("Secret"));
    let still = other_admin
        .api(
            Method::GET,
            &format!("/api/v1/orgs/other/practitioners/{theirs}"),
            None,
        )
        .await
        .json();
    assert_eq!(still, secret, "unchanged");
    app.stop().await;
}

both!(
    practitioner_types_are_listed_created_renamed_and_deleted,
    a_practitioner_type_in_use_cannot_be_deleted,
    admins_set_practitioners_up_through_the_pages,
    the_api_creates_updates_and_assigns_schedule_types,
    a_schedule_type_used_by_blocks_cannot_be_removed,
    front_desk_reads_practitioners_and_only_admins_write,
    another_organisations_practitioners_and_types_are_not_found,
);
