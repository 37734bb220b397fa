//! `spawn_app()`: the real server on `127.0.0.1:0` over a fresh database (SQLite file,
//! or a fresh PostgreSQL database), with a fixed clock; and a client with a cookie jar
//! that knows how to sign in and send CSRF tokens.

use std::sync::Arc;

use openslot_web::config::Config;
use openslot_web::state::AppState;
use reqwest::StatusCode;
use serde_json::Value;
use slot_engine::Scenario;
use store::staff::{NewStaff, Role};
use store::transfer::{self, ImportMode};
use store::{Db, FixedClock, Organisation};

use crate::database::TestDatabase;

/// `basic.json`, the slot engine's smallest scenario: one clinic, practitioner type,
/// practitioner, schedule type and service, and an appointment.
pub(crate) fn basic_scenario() -> Scenario {
    Scenario::from_json(include_bytes!(
        "../../../slot-engine/tests/data/scenarios/basic.json"
    ))
    .unwrap()
}

/// The backend a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

/// A running server for one test.
pub(crate) struct TestApp {
    pub(crate) base: String,
    pub(crate) db: Db,
    pub(crate) clock: Arc<FixedClock>,
    /// The server's state (to wait for its background jobs).
    pub(crate) state: AppState,
    database: TestDatabase,
    server: tokio::task::JoinHandle<()>,
}

pub(crate) const PASSWORD: &str = "correct horse battery staple";

/// The password patients get in tests (strong enough for the portal's checks).
pub(crate) const PATIENT_PASSWORD: &str = "lilac-tractor-umbrella-42";

impl TestApp {
    pub(crate) async fn spawn(backend: Backend) -> TestApp {
        TestApp::spawn_with_limits(backend, openslot_web::limits::Limits::default()).await
    }

    /// A server whose rate limits are `limits` (a model test makes more attempts from
    /// one address than a person could).
    pub(crate) async fn spawn_with_limits(
        backend: Backend,
        limits: openslot_web::limits::Limits,
    ) -> TestApp {
        TestApp::spawn_configured(backend, limits, None, true).await
    }

    /// A server that refuses webhooks to plain http and private addresses, as
    /// production does (every other test server allows them, for loopback receivers).
    pub(crate) async fn spawn_strict_webhooks(backend: Backend) -> TestApp {
        TestApp::spawn_configured(
            backend,
            openslot_web::limits::Limits::default(),
            None,
            false,
        )
        .await
    }

    /// A server told that people reach it at `public_url` (its links in emails, and
    /// its own host name), while it listens on `127.0.0.1` as every test server does.
    pub(crate) async fn spawn_public(backend: Backend, public_url: &str) -> TestApp {
        TestApp::spawn_configured(
            backend,
            openslot_web::limits::Limits::default(),
            Some(public_url),
            true,
        )
        .await
    }

    async fn spawn_configured(
        backend: Backend,
        limits: openslot_web::limits::Limits,
        public_url: Option<&str>,
        webhooks_allow_private: bool,
    ) -> TestApp {
        let database = TestDatabase::fresh(backend, "web");
        let url = database.url.clone();
        let db = Db::connect(&url).await.unwrap();
        let clock = Arc::new(FixedClock::new("2026-03-01T12:00:00Z".parse().unwrap()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = AppState::with_limits(
            db.clone(),
            clock.clone(),
            Config::local(public_url.unwrap_or(&base))
                .with_webhooks_allow_private(webhooks_allow_private),
            limits,
        );
        let server_state = state.clone();
        let server = tokio::spawn(async move {
            let state = server_state;
            openslot_web::app::serve(listener, state, std::future::pending())
                .await
                .unwrap();
        });
        TestApp {
            base,
            db,
            clock,
            state,
            database,
            server,
        }
    }

    /// The URL of the server's database (for a command run beside it).
    pub(crate) fn database_url(&self) -> &str {
        &self.database.url
    }

    /// Stops the server and closes the pool; the database goes when the value does
    /// (also when a test fails before calling this).
    pub(crate) async fn stop(self) {
        self.server.abort();
        self.db.close().await;
        drop(self.database);
    }

    /// Imports a scenario as organisation `slug`.
    pub(crate) async fn import(&self, slug: &str, scenario: &Scenario) -> Organisation {
        let mut tx = self.db.begin().await.unwrap();
        let org = transfer::import(
            &mut tx,
            slug,
            scenario,
            ImportMode::IntoEmpty,
            self.clock.as_ref(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        org
    }

    /// A new API key of `org` with `scopes` (`schedule:read`, …): its bearer token.
    pub(crate) async fn api_key(&self, org: &Organisation, scopes: &[&str]) -> String {
        static MADE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let n = MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let token = format!("osk_test{}x{n}xLongEnoughToBeATokenOfItsOwn", org.id);
        let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
        let mut tx = self.db.begin().await.unwrap();
        store::api_key::create(
            &mut tx,
            org.id,
            &store::api_key::NewKey {
                name: &format!("test key {n}"),
                scopes: &scopes,
                token: &token,
                prefix_len: 12,
            },
            "import",
            store::Clock::now_ns(self.clock.as_ref()),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        token
    }

    /// An empty organisation.
    pub(crate) async fn org(&self, slug: &str) -> Organisation {
        let mut tx = self.db.begin().await.unwrap();
        let org = store::organisation::create(
            &mut tx,
            slug,
            &format!("{slug} clinic"),
            self.clock.as_ref(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        org
    }

    /// A staff account in `org` with [`PASSWORD`].
    pub(crate) async fn staff(&self, org: &Organisation, email: &str, role: Role) -> i64 {
        let hash = openslot_web::auth::password::hash(PASSWORD);
        let mut tx = self.db.begin().await.unwrap();
        let user = store::staff::create(
            &mut tx,
            org.id,
            &NewStaff {
                email,
                name: email.split('@').next().unwrap(),
                role,
                practitioner_id: None,
                password_hash: &hash,
            },
            0,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        user.id
    }

    /// The database id of the entity `key` of `kind` in `org`.
    pub(crate) async fn id(&self, org: &Organisation, kind: store::keys::Kind, key: &str) -> i64 {
        let mut conn = self.db.conn().await.unwrap();
        store::keys::id_of(conn.exec(), kind, org.id, key)
            .await
            .unwrap()
    }

    /// An organisation's whole export (setup, patients, appointments), audit log
    /// length, staff accounts and settings, to compare byte for byte before and after.
    pub(crate) async fn snapshot(&self, org: &Organisation) -> String {
        let mut conn = self.db.conn().await.unwrap();
        let mut exec = conn.exec();
        let scenario = transfer::export(&mut exec, org).await.unwrap();
        let audit = store::audit::recent(conn.exec(), org.id, None, 10_000)
            .await
            .unwrap();
        let staff = store::staff::all(conn.exec(), org.id).await.unwrap();
        let org_now = store::organisation::by_slug(conn.exec(), &org.slug)
            .await
            .unwrap()
            .unwrap();
        format!(
            "{}\n{}\n{:?}\n{:?}\n{:?}",
            serde_json::to_string(&scenario).unwrap(),
            audit.len(),
            staff
                .iter()
                .map(|s| (s.id, s.active, &s.email, s.practitioner_id, &s.role))
                .collect::<Vec<_>>(),
            org_now.settings(),
            org_now.name,
        )
    }

    /// The latest emails to `to`, newest first, once the server's background jobs (the
    /// emails of sign-up and forgot-password) are done.
    pub(crate) async fn mail(&self, to: &str) -> Vec<store::outbox::Message> {
        self.state.jobs.idle().await;
        let mut conn = self.db.conn().await.unwrap();
        store::outbox::to_address(conn.exec(), to, 20)
            .await
            .unwrap()
    }

    /// The first link in the latest email to `to` containing `part`, as a path.
    pub(crate) async fn link(&self, to: &str, part: &str) -> String {
        let messages = self.mail(to).await;
        let body = &messages
            .first()
            .unwrap_or_else(|| panic!("no email to {to}"))
            .body_text;
        let start = body
            .find(&self.base)
            .unwrap_or_else(|| panic!("no link in {body}"));
        let url: String = body[start..]
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect();
        assert!(url.contains(part), "{url}");
        url[self.base.len()..].to_owned()
    }

    /// A client signed in to `org`'s portal as patient `key` (email `KEY@example.com`),
    /// with credentials that `staff` (front desk or admin of `org`) creates.
    pub(crate) async fn portal_patient(
        &self,
        org: &Organisation,
        staff: &Client,
        key: &str,
    ) -> Client {
        let pid = self.id(org, store::keys::Kind::Patient, key).await;
        let email = format!("{key}@example.com");
        let page = staff
            .post_form(
                &format!(
                    "/o/{}/admin/patients/{pid}/portal-access/credentials",
                    org.slug
                ),
                &[("username", &email), ("password", PATIENT_PASSWORD)],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert!(page.location().ends_with("/portal-access?done=credentials"));
        let client = self.client();
        let response = client
            .portal_sign_in(&org.slug, &email, PATIENT_PASSWORD)
            .await;
        assert_eq!(response.status, StatusCode::SEE_OTHER);
        client
    }

    /// A client with its own cookie jar.
    pub(crate) fn client(&self) -> Client {
        Client {
            base: self.base.clone(),
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    /// A client with its own cookie jar that reaches this server by the host name
    /// `host` (as a browser does once the name's DNS points at the server): its
    /// requests carry `Host: {host}:{port}`.
    pub(crate) fn client_at(&self, host: &str) -> Client {
        let address: std::net::SocketAddr = self
            .base
            .trim_start_matches("http://")
            .parse()
            .expect("the server's address");
        Client {
            base: format!("http://{host}:{}", address.port()),
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .resolve(host, address)
                .build()
                .unwrap(),
        }
    }

    /// A client with its own cookie jar, connecting from `address` (another client
    /// address on the loopback network).
    pub(crate) fn client_from(&self, address: std::net::IpAddr) -> Client {
        Client {
            base: self.base.clone(),
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .local_address(address)
                .build()
                .unwrap(),
        }
    }

    /// A client signed in as a new staff user of `org` with `role`.
    pub(crate) async fn signed_in(&self, org: &Organisation, role: Role) -> Client {
        let email = format!("{}-{}@example.com", role.as_str(), org.slug);
        self.staff(org, &email, role).await;
        let client = self.client();
        let response = client.sign_in(&org.slug, &email, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "sign-in failed");
        client
    }
}

/// An HTTP client with a cookie jar.
#[derive(Clone)]
pub(crate) struct Client {
    pub(crate) base: String,
    pub(crate) http: reqwest::Client,
}

/// A response, read.
#[derive(Debug)]
pub(crate) struct Page {
    pub(crate) status: StatusCode,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: String,
}

impl Page {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub(crate) fn location(&self) -> String {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    /// The first form's CSRF token on the page.
    pub(crate) fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"_csrf\" value=\"")
            .expect("a form with a CSRF token");
        let rest = &self.body[at + 20..];
        rest[..rest.find('"').unwrap()].to_owned()
    }

    /// Asserts the security headers every response carries: a CSP that forbids framing,
    /// `nosniff`, `same-origin` referrers and `X-Frame-Options: DENY`.
    pub(crate) fn assert_security_headers(&self, what: &str) {
        let header = |name: &str| {
            self.headers
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default()
        };
        assert!(
            header("content-security-policy").contains("frame-ancestors 'none'"),
            "{what}: CSP"
        );
        assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
        assert_eq!(header("referrer-policy"), "same-origin", "{what}");
        assert_eq!(header("x-frame-options"), "DENY", "{what}");
    }

    pub(crate) fn contains(&self, text: &str) -> bool {
        self.body.contains(text)
    }
}

impl Client {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(crate) async fn read(response: reqwest::Response) -> Page {
        Page {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    pub(crate) async fn get(&self, path: &str) -> Page {
        Self::read(self.http.get(self.url(path)).send().await.unwrap()).await
    }

    /// Posts a form with the session's CSRF token (taken from the API session).
    pub(crate) async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.csrf_token(path).await;
        let mut all: Vec<(&str, &str)> = vec![("_csrf", token.as_str())];
        all.extend_from_slice(fields);
        Self::read(
            self.http
                .post(self.url(path))
                .form(&all)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Posts a `multipart/form-data` form (a file upload): the text `fields` as given
    /// (no token added), then the file `name` with `bytes`. The body is written here by
    /// hand, as a browser sends it.
    pub(crate) async fn post_multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file: (&str, &str, &[u8]),
    ) -> Page {
        let boundary = "----openslot-test-boundary-7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        let (name, file_name, bytes) = file;
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        Self::read(
            self.http
                .post(self.url(path))
                .header(
                    "content-type",
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Posts a form exactly as given (no token added).
    pub(crate) async fn post_raw(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Page {
        let mut request = self.http.post(self.url(path)).form(fields);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        Self::read(request.send().await.unwrap()).await
    }

    /// The session's CSRF token, for the organisation in `path` (`/o/SLUG/…` or
    /// `/api/v1/orgs/SLUG/…`).
    pub(crate) async fn csrf_token(&self, path: &str) -> String {
        let slug = path
            .strip_prefix("/o/")
            .or_else(|| path.strip_prefix("/api/v1/orgs/"))
            .and_then(|rest| rest.split('/').next())
            .expect("an organisation path");
        self.get(&format!("/api/v1/orgs/{slug}/session"))
            .await
            .json()["csrf_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub(crate) async fn sign_in(
        &self,
        slug: &str,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        let page = self.get(&format!("/o/{slug}/admin/signin")).await;
        self.http
            .post(self.url(&format!("/o/{slug}/admin/signin")))
            .form(&[
                ("_csrf", page.csrf().as_str()),
                ("email", email),
                ("password", password),
            ])
            .send()
            .await
            .unwrap()
    }

    /// Signs in to `slug`'s portal through its sign-in page.
    pub(crate) async fn portal_sign_in(&self, slug: &str, username: &str, password: &str) -> Page {
        let page = self.get(&format!("/o/{slug}/portal/signin")).await;
        self.post_raw(
            &format!("/o/{slug}/portal/signin"),
            &[
                ("_csrf", page.csrf().as_str()),
                ("username", username),
                ("password", password),
            ],
            &[],
        )
        .await
    }

    /// The session cookie (`name=value`) the response set, if it set one.
    pub(crate) fn session_cookie(headers: &reqwest::header::HeaderMap) -> Option<String> {
        headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("openslot_session="))
            .map(|v| v.split(';').next().unwrap_or_default().to_owned())
    }

    /// `POST path` through the API, which must create (201): the created object.
    pub(crate) async fn created(&self, path: &str, body: Value) -> Value {
        let created = self.api(reqwest::Method::POST, path, Some(body)).await;
        assert_eq!(
            created.status,
            StatusCode::CREATED,
            "{path}: {}",
            created.body
        );
        created.json()
    }

    /// `DELETE path` through the API, which must be refused (422): the error's message.
    pub(crate) async fn refused_delete(&self, path: &str) -> String {
        let refused = self.api(reqwest::Method::DELETE, path, None).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        refused.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Asserts that `GET path` through the API still finds what it names.
    pub(crate) async fn assert_found(&self, path: &str) {
        let found = self.api(reqwest::Method::GET, path, None).await;
        assert_eq!(found.status, StatusCode::OK, "{path}");
    }

    /// A call with an API key (`Authorization: Bearer token`), and no CSRF token.
    pub(crate) async fn keyed(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Page {
        let mut request = self.http.request(method, self.url(path)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        Self::read(request.send().await.unwrap()).await
    }

    /// A JSON API call; state-changing methods send the CSRF token.
    pub(crate) async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Page {
        let mut request = self.http.request(method.clone(), self.url(path));
        if method != reqwest::Method::GET {
            request = request.header("x-csrf-token", self.csrf_token(path).await);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        Self::read(request.send().await.unwrap()).await
    }
}

/// Generates `sqlite::$name` and `postgres::$name` tests from `async fn $name(Backend)`.
#[macro_export]
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "needs PostgreSQL: set OPENSLOT_TEST_POSTGRES_URL"]
                async fn $name() {
                    super::$name($crate::support::Backend::Postgres).await;
                }
            )*
        }
    };
}
