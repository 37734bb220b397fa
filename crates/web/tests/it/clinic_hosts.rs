//! Organisations' own host names (issue 13): a request for `book.alpha-physio.ca`
//! reaches organisation alpha's portal at `/` and its staff pages at `/admin`, without
//! `/o/alpha`; on that host nothing of another organisation is served; any other host
//! is routed as before; the name is set on the settings page and API, checked, and
//! audited; and no email ever links to the host a request named.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use store::Organisation;
use store::staff::Role;

use crate::both;
use crate::support::{Backend, Client, PASSWORD, Page, TestApp, basic_scenario};

/// The server's own address in these tests.
const PUBLIC_URL: &str = "http://openslot.example.com";

/// Alpha's own host name.
const ALPHA_HOST: &str = "book.alpha-physio.ca";

/// A server with organisations alpha and beta (alpha with its own host name, set by
/// its admin through the API), and alpha's admin on the server's own address.
async fn two_clinics(backend: Backend) -> (TestApp, Organisation, Organisation, Client) {
    let app = TestApp::spawn_public(backend, PUBLIC_URL).await;
    let alpha = app.import("alpha", &basic_scenario()).await;
    let beta = app.import("beta", &basic_scenario()).await;
    let admin = app.signed_in(&alpha, Role::Admin).await;
    let saved = put_host(&admin, "alpha", json!(ALPHA_HOST)).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(saved.json()["host"], ALPHA_HOST);
    (app, alpha, beta, admin)
}

/// Saves `slug`'s settings as they are but for `host` (left out when `Value::Null`
/// is not meant: pass `json!(null)` to clear it).
async fn put_host(admin: &Client, slug: &str, host: Value) -> Page {
    let path = format!("/api/v1/orgs/{slug}/settings");
    let mut settings = admin.api(Method::GET, &path, None).await.json();
    settings["host"] = host;
    admin.api(Method::PUT, &path, Some(settings)).await
}

fn is_html(page: &Page) -> bool {
    page.headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

async fn a_clinic_host_serves_its_organisation_without_the_prefix(backend: Backend) {
    let (app, alpha, _, _) = two_clinics(backend).await;
    let clinic = app.client_at(ALPHA_HOST);
    // The portal at the root.
    let home = clinic.get("/").await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    assert!(home.contains("<h1>alpha</h1>"), "{}", home.body);
    assert!(home.contains(r#"href="/o/alpha/portal"#), "{}", home.body);
    home.assert_security_headers("/ on a clinic host");
    for path in [
        "/portal",
        "/portal/signin",
        "/portal/forgot",
        "/o/alpha/portal",
    ] {
        let page = clinic.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
    }
    // The staff pages at /admin: signing in there, without the prefix.
    let admin = clinic.get("/admin").await;
    assert_eq!(admin.status, StatusCode::SEE_OTHER);
    assert!(
        admin.location().starts_with("/o/alpha/admin/"),
        "{}",
        admin.location()
    );
    let setup = clinic.get("/admin/setup").await;
    assert_eq!(setup.status, StatusCode::SEE_OTHER);
    assert!(
        setup
            .location()
            .starts_with("/o/alpha/admin/signin?next=%2Fo%2Falpha%2Fadmin%2Fsetup")
            || setup
                .location()
                .starts_with("/o/alpha/admin/signin?next=/o/alpha/admin/setup"),
        "{}",
        setup.location()
    );
    let signin = clinic.get("/admin/signin").await;
    assert_eq!(signin.status, StatusCode::OK);
    app.staff(&alpha, "desk@alpha.example", Role::Admin).await;
    let signed = clinic
        .post_raw(
            "/admin/signin",
            &[
                ("_csrf", signin.csrf().as_str()),
                ("email", "desk@alpha.example"),
                ("password", PASSWORD),
            ],
            &[],
        )
        .await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    for path in ["/admin/setup", "/admin/clinics", "/o/alpha/admin/settings"] {
        let page = clinic.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
    }
    // A form posted on the clinic's host, unprefixed.
    let page = clinic.get("/admin/clinics").await;
    let added = clinic
        .post_raw(
            "/admin/clinics",
            &[
                ("_csrf", page.csrf().as_str()),
                ("name", "Kitsilano"),
                ("timezone", "America/Vancouver"),
            ],
            &[],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    // The API, the static files and the probes are where they always are.
    let clinics = clinic
        .api(Method::GET, "/api/v1/orgs/alpha/clinics", None)
        .await;
    assert_eq!(clinics.status, StatusCode::OK);
    assert!(clinics.contains("Kitsilano"));
    for path in ["/static/app.css", "/healthz", "/api/openapi.json"] {
        assert_eq!(clinic.get(path).await.status, StatusCode::OK, "{path}");
    }
    // A page that is not there is the organisation's 404 page.
    let missing = clinic.get("/nowhere").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(is_html(&missing));
    app.stop().await;
}

async fn a_clinic_host_serves_no_other_organisation(backend: Backend) {
    let (app, _, beta, _) = two_clinics(backend).await;
    let beta_admin = app.signed_in(&beta, Role::Admin).await;
    let clinic = app.client_at(ALPHA_HOST);
    for path in [
        "/o/beta",
        "/o/beta/portal",
        "/o/beta/admin",
        "/o/beta/admin/signin",
        "/o/%62eta/portal",
        "/o/",
    ] {
        let page = clinic.get(path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}: {}", page.body);
        assert!(is_html(&page), "{path}");
        assert!(!page.contains("<h1>beta</h1>"), "{path}");
        page.assert_security_headers(path);
    }
    for path in [
        "/api/v1/orgs/beta/session",
        "/api/v1/orgs/beta/portal/services",
    ] {
        let page = clinic.get(path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}: {}", page.body);
        assert_eq!(page.json()["error"]["code"], "not_found", "{path}");
    }
    // Nor does a post reach it: beta's sign-in, with a token of the clinic's host.
    let token = clinic.csrf_token("/o/alpha/portal").await;
    let posted = clinic
        .post_raw(
            "/o/beta/admin/signin",
            &[
                ("_csrf", token.as_str()),
                ("email", "admin-beta@example.com"),
                ("password", PASSWORD),
            ],
            &[],
        )
        .await;
    assert_eq!(posted.status, StatusCode::NOT_FOUND, "{}", posted.body);
    // On the server's own address both organisations are there as ever.
    for path in ["/o/alpha/portal", "/o/beta/portal"] {
        assert_eq!(beta_admin.get(path).await.status, StatusCode::OK, "{path}");
    }
    assert_eq!(
        beta_admin.get("/o/beta/admin/setup").await.status,
        StatusCode::OK
    );
    app.stop().await;
}

async fn any_other_host_is_routed_as_before(backend: Backend) {
    let (app, _, _, _) = two_clinics(backend).await;
    for host in ["unknown.example.org", "openslot.example.com"] {
        let client = app.client_at(host);
        let home = client.get("/").await;
        assert_eq!(home.status, StatusCode::OK, "{host}");
        assert!(home.contains("Welcome"), "{host}: {}", home.body);
        for path in ["/o/alpha/portal", "/o/beta/portal"] {
            assert_eq!(
                client.get(path).await.status,
                StatusCode::OK,
                "{host}{path}"
            );
        }
        // Unprefixed, the organisations' pages are nowhere.
        assert_eq!(
            client.get("/admin").await.status,
            StatusCode::NOT_FOUND,
            "{host}"
        );
    }
    app.stop().await;
}

async fn the_host_name_is_checked_saved_and_audited(backend: Backend) {
    let (app, _, beta, admin) = two_clinics(backend).await;
    let beta_admin = app.signed_in(&beta, Role::Admin).await;
    for (host, says) in [
        (json!("Book.Beta.ca"), "lower case"),
        (json!("https://book.beta.ca/"), "host name only"),
        (json!("book.beta.ca:8443"), "host name only"),
        (json!("localhost"), "two or more labels"),
        (json!("10.0.0.1"), "two or more labels"),
        (json!(ALPHA_HOST), "another organisation"),
        (json!("openslot.example.com"), "server's own"),
        (json!(7), "must be"),
    ] {
        let refused = put_host(&beta_admin, "beta", host.clone()).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{host}: {}",
            refused.body
        );
        assert_eq!(refused.json()["error"]["field"], "host", "{host}");
        let message = refused.json()["error"]["message"].to_string();
        assert!(message.contains(says), "{host}: {message}");
    }
    let beta_now = beta_admin
        .api(Method::GET, "/api/v1/orgs/beta/settings", None)
        .await
        .json();
    assert_eq!(beta_now["host"], Value::Null);
    // Left out of a PUT, the host name stays; null clears it, "" too.
    let mut settings = admin
        .api(Method::GET, "/api/v1/orgs/alpha/settings", None)
        .await
        .json();
    settings.as_object_mut().unwrap().remove("host");
    settings["portal_welcome"] = json!("Hello");
    let kept = admin
        .api(Method::PUT, "/api/v1/orgs/alpha/settings", Some(settings))
        .await;
    assert_eq!(kept.status, StatusCode::OK, "{}", kept.body);
    assert_eq!(kept.json()["host"], ALPHA_HOST);
    let cleared = put_host(&admin, "alpha", json!("")).await;
    assert_eq!(cleared.json()["host"], Value::Null);
    assert_eq!(
        app.client_at(ALPHA_HOST).get("/").await.status,
        StatusCode::OK,
        "the root of an unknown host is the start page"
    );
    assert!(app.client_at(ALPHA_HOST).get("/").await.contains("Welcome"));
    // Through the page: refused under its field, then saved and shown again.
    let refused = admin
        .post_form(
            "/o/alpha/admin/settings",
            &fields(&settings_form(&admin, "book alpha").await),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.contains(r#"id="host-error""#), "{}", refused.body);
    assert!(refused.contains(r#"value="book alpha""#));
    let saved = admin
        .post_form(
            "/o/alpha/admin/settings",
            &fields(&settings_form(&admin, "book.alpha.example").await),
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let page = admin.get("/o/alpha/admin/settings").await;
    assert!(page.contains(r#"value="book.alpha.example""#));
    assert_eq!(
        app.client_at("book.alpha.example").get("/").await.status,
        StatusCode::OK
    );
    assert!(
        app.client_at("book.alpha.example")
            .get("/")
            .await
            .contains("<h1>alpha</h1>")
    );
    // Each change is in the audit log, from what to what.
    let log = admin
        .api(
            Method::GET,
            "/api/v1/orgs/alpha/audit?action=organisation.update_settings",
            None,
        )
        .await
        .json();
    let summaries: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["summary"].as_str().unwrap())
        .collect();
    assert!(
        summaries.contains(&"Host name: none → book.alpha.example"),
        "{summaries:?}"
    );
    assert!(
        summaries.contains(&format!("Host name: none → {ALPHA_HOST}").as_str()),
        "{summaries:?}"
    );
    assert!(
        summaries.contains(&format!("Host name: {ALPHA_HOST} → none").as_str()),
        "{summaries:?}"
    );
    assert!(
        summaries.contains(&"Portal welcome: (empty) → Hello"),
        "{summaries:?}"
    );
    app.stop().await;
}

/// The settings form as it stands, with `host` typed in.
async fn settings_form(admin: &Client, host: &str) -> Vec<(&'static str, String)> {
    let settings = admin
        .api(Method::GET, "/api/v1/orgs/alpha/settings", None)
        .await
        .json();
    let text = |k: &str| match &settings[k] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let ticked = |k: &str| if settings[k] == true { "on" } else { "" }.to_owned();
    vec![
        ("allow_public_signup", ticked("allow_public_signup")),
        ("portal_public_times", ticked("portal_public_times")),
        (
            "auto_accept_portal_bookings",
            ticked("auto_accept_portal_bookings"),
        ),
        ("name", text("name")),
        ("resolution_minutes", text("resolution_minutes")),
        ("slot_step_minutes", text("slot_step_minutes")),
        ("min_notice_minutes", text("min_notice_minutes")),
        ("max_days_ahead", text("max_days_ahead")),
        (
            "cancellation_notice_minutes",
            text("cancellation_notice_minutes"),
        ),
        ("portal_welcome", text("portal_welcome")),
        ("host", host.to_owned()),
    ]
}

/// Borrowed pairs, for a form.
fn fields<'a>(owned: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    owned.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Every `http…` link in `text`.
fn links(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
        .map(str::to_owned)
        .collect()
}

async fn emails_link_to_the_public_address_whatever_host_a_request_names(backend: Backend) {
    let (app, alpha, _, admin) = two_clinics(backend).await;
    let mut tx = app.db.begin().await.unwrap();
    let ada = store::patient::create(
        &mut tx,
        alpha.id,
        &store::patient::PatientInput {
            first_name: "Ada".into(),
            last_name: "Lane".into(),
            email: "ada@example.com".into(),
            phone: String::new(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    // An invitation sent by staff on the clinic's host.
    let clinic = app.client_at(ALPHA_HOST);
    let signin = clinic.get("/admin/signin").await;
    let signed = clinic
        .post_raw(
            "/admin/signin",
            &[
                ("_csrf", signin.csrf().as_str()),
                ("email", "admin-alpha@example.com"),
                ("password", PASSWORD),
            ],
            &[],
        )
        .await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    let invited = clinic
        .api(
            Method::POST,
            &format!(
                "/api/v1/orgs/alpha/patients/{}/portal-access/invitation",
                ada.id
            ),
            None,
        )
        .await;
    assert!(invited.status.is_success(), "{}", invited.body);
    // Forgotten passwords asked on the clinic's host, and on a host a stranger chose.
    app.portal_patient(&alpha, &admin, &ada.key).await;
    for host in [ALPHA_HOST, "evil.example"] {
        let client = app.client_at(host);
        let path = if host == ALPHA_HOST {
            "/portal/forgot"
        } else {
            "/o/alpha/portal/forgot"
        };
        let form = client.get(path).await;
        assert_eq!(form.status, StatusCode::OK, "{host}");
        let asked = client
            .post_raw(
                path,
                &[
                    ("_csrf", form.csrf().as_str()),
                    ("email", "ada@example.com"),
                ],
                &[],
            )
            .await;
        assert!(
            asked.status.is_success() || asked.status == StatusCode::SEE_OTHER,
            "{host}: {}",
            asked.status
        );
    }
    let mails = app.mail("ada@example.com").await;
    assert!(mails.len() >= 3, "{mails:?}");
    let all: Vec<String> = mails.iter().flat_map(|m| links(&m.body_text)).collect();
    assert!(
        all.iter().any(|l| l.contains("/portal/invitation/")),
        "{all:?}"
    );
    assert!(
        all.iter().filter(|l| l.contains("/portal/reset/")).count() >= 2,
        "{all:?}"
    );
    for link in &all {
        assert!(
            link.starts_with(&format!("{PUBLIC_URL}/o/alpha/")),
            "{link} is not on the public address"
        );
    }
    app.stop().await;
}

both!(
    a_clinic_host_serves_its_organisation_without_the_prefix,
    a_clinic_host_serves_no_other_organisation,
    any_other_host_is_routed_as_before,
    the_host_name_is_checked_saved_and_audited,
    emails_link_to_the_public_address_whatever_host_a_request_names,
);
