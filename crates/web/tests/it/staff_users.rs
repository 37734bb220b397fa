//! Staff accounts through the page and the API: creating with a role and a first
//! password, the practitioner link, stopping and restoring an account, roles, tenant
//! isolation, and no password anywhere in what comes back.

use reqwest::{Method, StatusCode};
use serde_json::json;
use store::staff::Role;

use crate::both;
use crate::support::{Backend, TestApp, basic_scenario};

/// A password zxcvbn rates hard to guess.
const GOOD: &str = "violet tractor sunrise harbour";

async fn admins_create_accounts_that_can_sign_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("acme").await;
    let admin = app.signed_in(&org, Role::Admin).await;
    let page = admin.get("/o/acme/admin/staff").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.contains("admin-acme@example.com"));
    let created = admin
        .post_form(
            "/o/acme/admin/staff",
            &[
                ("name", "Fran Desk"),
                ("email", "Fran@Example.com"),
                ("role", "front_desk"),
                ("practitioner_id", ""),
                ("password", GOOD),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let list = admin.get("/o/acme/admin/staff").await;
    assert!(list.contains("fran@example.com") && list.contains("Front desk"));
    let fran = app.client();
    let signed_in = fran.sign_in("acme", "fran@example.com", GOOD).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let session = fran
        .api(Method::GET, "/api/v1/orgs/acme/session", None)
        .await
        .json();
    assert_eq!(session["staff"]["role"], "front_desk");
    // A weak password: next to the field, never echoed back, nothing saved.
    let weak = admin
        .post_form(
            "/o/acme/admin/staff",
            &[
                ("name", "Pat Weak"),
                ("email", "pat@example.com"),
                ("role", "front_desk"),
                ("password", "password123"),
            ],
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak.contains("id=\"password-error\""), "{}", weak.body);
    assert!(weak.contains("aria-invalid=\"true\""));
    assert!(
        weak.contains("value=\"pat@example.com\""),
        "the email is kept"
    );
    assert!(!weak.contains("password123"), "the password is not echoed");
    // The same email twice.
    let twice = admin
        .post_form(
            "/o/acme/admin/staff",
            &[
                ("name", "Fran Again"),
                ("email", "fran@example.com"),
                ("role", "admin"),
                ("password", GOOD),
            ],
        )
        .await;
    assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(twice.contains("id=\"email-error\""));
    let accounts = admin
        .api(Method::GET, "/api/v1/orgs/acme/staff", None)
        .await;
    assert_eq!(accounts.json().as_array().unwrap().len(), 2);
    assert!(!accounts.contains("argon2") && !accounts.contains("password"));
    // The audit log has who created whom, without the password.
    let mut conn = app.db.conn().await.unwrap();
    let entries = store::audit::recent(conn.exec(), org.id, None, 10)
        .await
        .unwrap();
    let create = entries.iter().find(|e| e.action == "staff.create").unwrap();
    assert!(create.details.contains("fran@example.com"));
    assert!(!create.details.contains(GOOD) && !create.details.contains("argon2"));
    app.stop().await;
}

async fn practitioner_accounts_name_a_practitioner_of_the_organisation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let scenario = basic_scenario();
    let org = app.import("acme", &scenario).await;
    let other = app.import("other", &scenario).await;
    let admin = app.signed_in(&org, Role::Admin).await;
    let theirs = app.signed_in(&other, Role::Admin).await;
    let christine = admin
        .api(Method::GET, "/api/v1/orgs/acme/practitioners", None)
        .await
        .json()[0]["id"]
        .as_i64()
        .unwrap();
    let their_christine = theirs
        .api(Method::GET, "/api/v1/orgs/other/practitioners", None)
        .await
        .json()[0]["id"]
        .as_i64()
        .unwrap();
    let account = |role: &str, practitioner: Option<i64>| {
        json!({"name": "Christine Roy", "email": "christine@example.com", "role": role,
               "practitioner_id": practitioner, "password": GOOD})
    };
    for (body, field) in [
        (account("practitioner", None), "practitioner_id"),
        (
            account("practitioner", Some(their_christine)),
            "practitioner_id",
        ),
        (account("admin", Some(christine)), "practitioner_id"),
        (account("owner", None), "role"),
        (
            json!({"name": "", "email": "x@example.com", "role": "admin", "password": GOOD}),
            "name",
        ),
        (
            json!({"name": "X", "email": "not-an-email", "role": "admin", "password": GOOD}),
            "email",
        ),
        (
            json!({"name": "X", "email": "x@example.com", "role": "admin", "password": "short"}),
            "password",
        ),
        (
            json!({"name": "X", "email": "x@example.com", "role": "admin"}),
            "password",
        ),
    ] {
        let refused = admin
            .api(Method::POST, "/api/v1/orgs/acme/staff", Some(body))
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert_eq!(refused.json()["error"]["field"], field, "{}", refused.body);
    }
    let created = admin
        .api(
            Method::POST,
            "/api/v1/orgs/acme/staff",
            Some(account("practitioner", Some(christine))),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let created = created.json();
    assert_eq!(created["role"], "practitioner");
    assert_eq!(created["practitioner_id"], christine);
    assert_eq!(created["active"], true);
    assert!(created.get("password_hash").is_none());
    let page = admin.get("/o/acme/admin/staff").await;
    assert!(page.contains("Practitioner (christine)"), "{}", page.body);
    app.stop().await;
}

async fn an_account_stopped_cannot_sign_in_until_restored(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("acme").await;
    let admin = app.signed_in(&org, Role::Admin).await;
    let created = admin
        .api(
            Method::POST,
            "/api/v1/orgs/acme/staff",
            Some(json!({"name": "Fran Desk", "email": "fran@example.com",
                        "role": "front_desk", "password": GOOD})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.json()["id"].as_i64().unwrap();
    let fran = app.client();
    assert_eq!(
        fran.sign_in("acme", "fran@example.com", GOOD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        fran.api(Method::GET, "/api/v1/orgs/acme/staff", None)
            .await
            .status,
        StatusCode::OK
    );
    let stopped = admin
        .api(
            Method::PUT,
            &format!("/api/v1/orgs/acme/staff/{id}/active"),
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(stopped.status, StatusCode::OK, "{}", stopped.body);
    assert_eq!(stopped.json()["active"], false);
    // The open session stops working, and signing in again is refused.
    assert_eq!(
        fran.api(Method::GET, "/api/v1/orgs/acme/staff", None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.client()
            .sign_in("acme", "fran@example.com", GOOD)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    // Restored through the page.
    let restored = admin
        .post_form(
            &format!("/o/acme/admin/staff/{id}/active"),
            &[("active", "true")],
        )
        .await;
    assert_eq!(restored.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.client()
            .sign_in("acme", "fran@example.com", GOOD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    // An admin cannot stop their own account.
    let me = admin
        .api(Method::GET, "/api/v1/orgs/acme/session", None)
        .await
        .json()["staff"]["id"]
        .as_i64()
        .unwrap();
    let own = admin
        .api(
            Method::PUT,
            &format!("/api/v1/orgs/acme/staff/{me}/active"),
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(own.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(own.json()["error"]["field"], "active");
    let own_page = admin
        .post_form(
            &format!("/o/acme/admin/staff/{me}/active"),
            &[("active", "false")],
        )
        .await;
    assert_eq!(own_page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(own_page.contains("you cannot deactivate your own account"));
    assert_eq!(
        admin
            .api(Method::GET, "/api/v1/orgs/acme/staff", None)
            .await
            .status,
        StatusCode::OK,
        "still signed in"
    );
    let mut conn = app.db.conn().await.unwrap();
    let entries = store::audit::recent(conn.exec(), org.id, Some(("staff", id)), 10)
        .await
        .unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["staff.activate", "staff.deactivate", "staff.create"]
    );
    app.stop().await;
}

async fn front_desk_reads_accounts_and_only_admins_change_them(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("acme").await;
    let admin = app.signed_in(&org, Role::Admin).await;
    let front = app.signed_in(&org, Role::FrontDesk).await;
    let list = front
        .api(Method::GET, "/api/v1/orgs/acme/staff", None)
        .await;
    assert_eq!(list.status, StatusCode::OK);
    let admin_id = list
        .json()
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["role"] == "admin")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let create = front
        .api(
            Method::POST,
            "/api/v1/orgs/acme/staff",
            Some(json!({"name": "Me Too", "email": "me@example.com", "role": "admin", "password": GOOD})),
        )
        .await;
    assert_eq!(create.status, StatusCode::FORBIDDEN);
    let stop = front
        .api(
            Method::PUT,
            &format!("/api/v1/orgs/acme/staff/{admin_id}/active"),
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(stop.status, StatusCode::FORBIDDEN);
    let page = front
        .post_form(
            "/o/acme/admin/staff",
            &[
                ("name", "Me Too"),
                ("email", "me@example.com"),
                ("role", "admin"),
                ("password", GOOD),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let practitioner = app.signed_in(&org, Role::Practitioner).await;
    assert_eq!(
        practitioner
            .api(Method::GET, "/api/v1/orgs/acme/staff", None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let accounts = admin
        .api(Method::GET, "/api/v1/orgs/acme/staff", None)
        .await
        .json();
    assert_eq!(accounts.as_array().unwrap().len(), 3);
    assert!(
        accounts
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["active"] == true)
    );
    app.stop().await;
}

async fn another_organisations_account_is_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.org("acme").await;
    let other = app.org("other").await;
    let acme_admin = app.signed_in(&acme, Role::Admin).await;
    let secret = app
        .staff(&other, "secret.agent@example.com", Role::FrontDesk)
        .await;
    for (method, path, body) in [
        (
            Method::GET,
            format!("/api/v1/orgs/acme/staff/{secret}"),
            None,
        ),
        (
            Method::PUT,
            format!("/api/v1/orgs/acme/staff/{secret}/active"),
            Some(json!({"active": false})),
        ),
    ] {
        let page = acme_admin.api(method, &path, body).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!page.contains("secret.agent"));
    }
    let page = acme_admin
        .post_form(
            &format!("/o/acme/admin/staff/{secret}/active"),
            &[("active", "false")],
        )
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(!page.contains("secret.agent"));
    let list = acme_admin.get("/o/acme/admin/staff").await;
    assert!(!list.contains("secret.agent"));
    // Still able to sign in to their own organisation.
    assert_eq!(
        app.client()
            .sign_in(
                "other",
                "secret.agent@example.com",
                crate::support::PASSWORD
            )
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    app.stop().await;
}

both!(
    admins_create_accounts_that_can_sign_in,
    practitioner_accounts_name_a_practitioner_of_the_organisation,
    an_account_stopped_cannot_sign_in_until_restored,
    front_desk_reads_accounts_and_only_admins_change_them,
    another_organisations_account_is_not_found,
);
