//! Staff sign-in, sessions, CSRF refusals, security headers, health and metrics.

use reqwest::{Method, StatusCode};
use store::staff::Role;

use crate::both;
use crate::support::{Backend, PASSWORD, TestApp};

async fn sign_in_redirects_and_a_wrong_password_gets_a_generic_message(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("acme").await;
    app.staff(&org, "amy@example.com", Role::Admin).await;
    let client = app.client();
    // Pages need a signed-in user: redirect to the sign-in page with `next`.
    let page = client.get("/o/acme/admin/clinics").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        page.location(),
        "/o/acme/admin/signin?next=/o/acme/admin/clinics"
    );
    // Wrong password and unknown account: the same status and message.
    let wrong = client
        .sign_in("acme", "amy@example.com", "not the password")
        .await;
    let wrong_status = wrong.status();
    let wrong_body = wrong.text().await.unwrap();
    let unknown = client
        .sign_in("acme", "nobody@example.com", "not the password")
        .await;
    assert_eq!(wrong_status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let unknown_body = unknown.text().await.unwrap();
    assert!(wrong_body.contains("The email or password is not right."));
    assert!(unknown_body.contains("The email or password is not right."));
    // The right one: a new session id, then the page.
    let ok = client.sign_in("acme", "amy@example.com", PASSWORD).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let cookie = ok
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let page = client.get("/o/acme/admin/clinics").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.contains("<h1>Clinics</h1>"));
    app.stop().await;
}

async fn the_session_id_changes_at_sign_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("acme").await;
    app.staff(&org, "amy@example.com", Role::Admin).await;
    let client = app.client();
    let page = client.get("/o/acme/admin/signin").await;
    let first = page
        .headers
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let ok = client.sign_in("acme", "amy@example.com", PASSWORD).await;
    let second = ok
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert_ne!(
        first, second,
        "no session fixation: sign-in issues a new id"
    );
    // The old id is no longer signed in.
    let attacker = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = attacker
        .get(client.url("/o/acme/admin/clinics"))
        .header("cookie", first)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    app.stop().await;
}

async fn forms_without_a_token_or_from_another_site_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("acme").await;
    let client = app.signed_in(&org, Role::Admin).await;
    let fields = [("name", "Uptown"), ("timezone", "America/Toronto")];
    // No token.
    let page = client.post_raw("/o/acme/admin/clinics", &fields, &[]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // A wrong token.
    let page = client
        .post_raw(
            "/o/acme/admin/clinics",
            &[("_csrf", "forged"), fields[0], fields[1]],
            &[],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // The right token, but sent cross-site.
    let token = client.csrf_token("/o/acme").await;
    let page = client
        .post_raw(
            "/o/acme/admin/clinics",
            &[("_csrf", token.as_str()), fields[0], fields[1]],
            &[("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let page = client
        .post_raw(
            "/o/acme/admin/clinics",
            &[("_csrf", token.as_str()), fields[0], fields[1]],
            &[("origin", "https://evil.example")],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // Nothing was created.
    assert_eq!(
        client
            .api(Method::GET, "/api/v1/orgs/acme/clinics", None)
            .await
            .json(),
        serde_json::json!([])
    );
    // API calls that change state need the header token.
    let response = client
        .http
        .post(client.url("/api/v1/orgs/acme/clinics"))
        .json(&serde_json::json!({"name": "Uptown", "timezone": "America/Toronto"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    app.stop().await;
}

async fn every_page_carries_the_security_headers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("acme").await;
    let client = app.signed_in(&org, Role::Admin).await;
    for path in [
        "/",
        "/o/acme/admin/signin",
        "/o/acme/admin/clinics",
        "/api/openapi.json",
        "/no/such/page",
        "/healthz",
    ] {
        client.get(path).await.assert_security_headers(path);
    }
    app.stop().await;
}

async fn health_metrics_and_the_openapi_document(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client();
    let health = client.get("/healthz").await;
    assert_eq!(
        (health.status, health.body.as_str()),
        (StatusCode::OK, "ok\n")
    );
    let metrics = client.get("/metrics").await;
    assert!(metrics.contains("# TYPE openslot_http_responses_total counter"));
    assert!(metrics.contains("openslot_http_responses_total{class=\"2xx\"}"));
    let doc = client.get("/api/openapi.json").await.json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/api/v1/orgs/{slug}/clinics"]["post"].is_object());
    assert!(doc["paths"]["/api/v1/orgs/{slug}/session"]["get"].is_object());
    let missing = client.get("/o/nope/admin/clinics").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    // Every operation documents its errors with the error body (schemathesis holds the
    // server to this).
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for status in ["400", "401", "403", "404", "422", "429"] {
                assert_eq!(
                    operation["responses"][status]["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorDto",
                    "{method} {path} {status}"
                );
            }
        }
    }
    // The portal's appointments and patient are their own schemas, not the staff API's
    // of the same Rust name.
    let ok = |path: &str| {
        doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
            .to_string()
    };
    assert!(ok("/api/v1/orgs/{slug}/portal/appointments/{id}").contains("PortalAppointmentDto"));
    assert!(
        doc["components"]["schemas"]["PortalSessionDto"]["properties"]["patient"]
            .to_string()
            .contains("PortalPatientDto")
    );
    // What axum refuses before a handler runs answers the error body too.
    let org = app.org("acme").await;
    let signed_in = app.signed_in(&org, Role::Admin).await;
    let bad = signed_in
        .get("/api/v1/orgs/acme/clinics/not-a-number")
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    assert_eq!(bad.json()["error"]["code"], "bad_request", "{}", bad.body);
    assert!(
        bad.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    app.stop().await;
}

async fn api_sign_in_and_roles(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("acme").await;
    app.staff(&org, "desk@example.com", Role::FrontDesk).await;
    let client = app.client();
    let unauthorized = client
        .api(Method::GET, "/api/v1/orgs/acme/clinics", None)
        .await;
    assert_eq!(unauthorized.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unauthorized.json()["error"]["code"], "unauthorized");
    let wrong = client
        .api(
            Method::POST,
            "/api/v1/orgs/acme/session",
            Some(serde_json::json!({"email": "desk@example.com", "password": "nope"})),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let ok = client
        .api(
            Method::POST,
            "/api/v1/orgs/acme/session",
            Some(serde_json::json!({"email": "desk@example.com", "password": PASSWORD})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.json()["staff"]["role"], "front_desk");
    // Front desk may read the setup but not change it.
    assert_eq!(
        client
            .api(Method::GET, "/api/v1/orgs/acme/clinics", None)
            .await
            .status,
        StatusCode::OK
    );
    let refused = client
        .api(
            Method::POST,
            "/api/v1/orgs/acme/clinics",
            Some(serde_json::json!({"name": "Uptown", "timezone": "UTC"})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // Signed in to one organisation is not signed in to another.
    app.org("other").await;
    assert_eq!(
        client
            .api(Method::GET, "/api/v1/orgs/other/clinics", None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let out = client
        .api(Method::DELETE, "/api/v1/orgs/acme/session", None)
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert_eq!(
        client
            .api(Method::GET, "/api/v1/orgs/acme/clinics", None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    app.stop().await;
}

async fn sign_in_attempts_are_rate_limited_per_account(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("acme").await;
    app.staff(&org, "amy@example.com", Role::Admin).await;
    let client = app.client();
    for _ in 0..8 {
        assert_eq!(
            client
                .sign_in("acme", "amy@example.com", "wrong")
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let limited = client.sign_in("acme", "amy@example.com", PASSWORD).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = limited
        .headers()
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry), "{retry}");
    // The same through the API, which answers JSON.
    let api = client
        .api(
            Method::POST,
            "/api/v1/orgs/acme/session",
            Some(serde_json::json!({"email": "AMY@example.com", "password": PASSWORD})),
        )
        .await;
    assert_eq!(api.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(api.json()["error"]["code"], "too_many_requests");
    assert!(api.headers.get("retry-after").is_some());
    // Another account is not affected.
    app.staff(&org, "bob@example.com", Role::Admin).await;
    assert_eq!(
        client
            .sign_in("acme", "bob@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    app.stop().await;
}

/// A session ends 12 hours after its last request, not 12 hours after sign-in.
async fn a_session_in_use_lives_on_and_an_idle_one_ends(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("acme").await;
    app.staff(&org, "amy@example.com", Role::Admin).await;
    let client = app.client();
    client.sign_in("acme", "amy@example.com", PASSWORD).await;
    let signed_in = |page: &crate::support::Page| page.status == StatusCode::OK;
    // A working day and a half of requests, each under 12 hours after the last.
    for _ in 0..4 {
        app.clock.advance(5 * 3600);
        let page = client.get("/o/acme/admin/clinics").await;
        assert!(signed_in(&page), "a session in use is kept");
    }
    // 11 hours idle: still there.
    app.clock.advance(11 * 3600);
    assert!(signed_in(&client.get("/o/acme/admin/clinics").await));
    // 12 hours idle after that: gone.
    app.clock.advance(12 * 3600 + 1);
    let page = client.get("/o/acme/admin/clinics").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "an idle session ends");
    assert!(page.location().contains("/o/acme/admin/signin"));
    app.stop().await;
}

both!(
    a_session_in_use_lives_on_and_an_idle_one_ends,
    sign_in_attempts_are_rate_limited_per_account,
    sign_in_redirects_and_a_wrong_password_gets_a_generic_message,
    the_session_id_changes_at_sign_in,
    forms_without_a_token_or_from_another_site_are_refused,
    every_page_carries_the_security_headers,
    health_metrics_and_the_openapi_document,
    api_sign_in_and_roles,
);
