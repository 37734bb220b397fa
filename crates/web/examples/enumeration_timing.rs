//! Account enumeration by timing: do sign-in, sign-up and forgot-password take as long
//! for an address that has an account as for one that has none?
//!
//! Serves the demo organisation in this process (a fresh SQLite file, the real clock,
//! rate limits lifted so that the attempts are not refused), gives one demo patient a
//! portal account, then makes ATTEMPTS (default 200) attempts of each case through the
//! JSON API, known and unknown address interleaved (their order alternating), and
//! prints the median and 90th percentile of each and the difference of the medians.
//! Nothing is asserted: the figures go to `docs/reliability.md`.
//!
//! ```sh
//! cargo run --release -p openslot-web --example enumeration_timing [-- ATTEMPTS]
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use openslot_web::config::Config;
use openslot_web::limits::Limits;
use openslot_web::state::AppState;
use serde_json::{Value, json};
use store::patient::PatientInput;
use store::{Db, SystemClock};

const SLUG: &str = "demo";
const PATIENT: &str = "timing-patient@demo.example";
const STRONG: &str = "lilac-tractor-umbrella-42";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    StaffSignIn,
    PortalSignIn,
    ForgotPassword,
    SignUp,
}

impl Form {
    fn name(self) -> &'static str {
        match self {
            Form::StaffSignIn => "staff sign-in",
            Form::PortalSignIn => "portal sign-in",
            Form::ForgotPassword => "forgot password",
            Form::SignUp => "sign-up",
        }
    }

    fn known(self) -> &'static str {
        match self {
            Form::StaffSignIn => openslot_web::demo::ADMIN.0,
            _ => PATIENT,
        }
    }
}

struct Client {
    base: String,
    http: reqwest::Client,
    csrf: String,
}

impl Client {
    async fn new(base: &str) -> Client {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .expect("a client");
        let session: Value = http
            .get(format!("{base}/api/v1/orgs/{SLUG}/session"))
            .send()
            .await
            .expect("the session")
            .json()
            .await
            .expect("JSON");
        Client {
            base: base.to_owned(),
            http,
            csrf: session["csrf_token"].as_str().expect("a token").to_owned(),
        }
    }

    /// The body of one attempt (sign-up solves its CAPTCHA first, untimed).
    async fn prepare(&self, form: Form, email: &str) -> (String, Value) {
        let path = |p: &str| format!("{}/api/v1/orgs/{SLUG}/{p}", self.base);
        match form {
            Form::StaffSignIn => (
                path("session"),
                json!({"email": email, "password": "not the password"}),
            ),
            Form::PortalSignIn => (
                path("portal/session"),
                json!({"username": email, "password": "not the password"}),
            ),
            Form::ForgotPassword => (path("portal/password-reset"), json!({"email": email})),
            Form::SignUp => {
                let challenge: altcha::Challenge = self
                    .http
                    .get(path("portal/captcha"))
                    .send()
                    .await
                    .expect("a challenge")
                    .json()
                    .await
                    .expect("JSON");
                let captcha = openslot_web::captcha::solve(&challenge);
                (
                    path("portal/signup"),
                    json!({"first_name": "Tim", "last_name": "Ing", "email": email,
                           "password": STRONG, "captcha": captcha}),
                )
            }
        }
    }

    /// One timed POST; the status is checked so that a refused attempt does not pass
    /// for a fast one.
    async fn attempt(&self, url: &str, body: &Value, expected: u16) -> Duration {
        let start = Instant::now();
        let response = self
            .http
            .post(url)
            .header("x-csrf-token", &self.csrf)
            .json(body)
            .send()
            .await
            .expect("an answer");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        let elapsed = start.elapsed();
        assert_eq!(status, expected, "{url}: {text}");
        elapsed
    }
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let at = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[at]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let attempts: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("ATTEMPTS is a number"))
        .unwrap_or(200);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let db = Db::connect(&format!("sqlite://{}", dir.path().join("db").display()))
        .await
        .expect("the database");
    let clock = Arc::new(SystemClock);
    let org = openslot_web::demo::ensure(&db, clock.as_ref())
        .await
        .expect("the demo organisation");
    // Public sign-up on, and a patient with a portal account.
    let mut tx = db.begin().await.expect("a transaction");
    let mut settings = org.settings();
    settings.allow_public_signup = true;
    store::organisation::update_settings(&mut tx, org.id, &settings)
        .await
        .expect("settings");
    let patient = store::patient::create(
        &mut tx,
        org.id,
        &PatientInput {
            first_name: "Tim".into(),
            last_name: "Ing".into(),
            email: PATIENT.into(),
            phone: String::new(),
        },
    )
    .await
    .expect("a patient");
    let hash = openslot_web::auth::password::hash(STRONG);
    store::portal_access::set_credentials(&mut tx, org.id, patient.id, PATIENT, &hash, 0)
        .await
        .expect("a portal account");
    tx.commit().await.expect("commit");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    let unlimited = Limits::new(
        u32::MAX,
        Duration::from_nanos(1),
        u32::MAX,
        Duration::from_nanos(1),
    );
    let state = AppState::with_limits(db, clock, Config::local(base.clone()), unlimited);
    tokio::spawn(async move {
        openslot_web::app::serve(listener, state, std::future::pending())
            .await
            .expect("the server");
    });
    let client = Client::new(&base).await;

    let forms = [
        Form::StaffSignIn,
        Form::PortalSignIn,
        Form::ForgotPassword,
        Form::SignUp,
    ];
    println!(
        "{attempts} attempts per case, known and unknown interleaved; {} CPUs",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "{:<16} {:>14} {:>14} {:>16} {:>16} {:>18}",
        "form", "known median", "known p90", "unknown median", "unknown p90", "median difference"
    );
    for form in forms {
        let expected = match form {
            Form::StaffSignIn | Form::PortalSignIn => 401,
            Form::ForgotPassword | Form::SignUp => 202,
        };
        // Warm up both paths (the dummy hash, caches, connections).
        for email in [form.known(), "warm-up@example.com"] {
            let (url, body) = client.prepare(form, email).await;
            client.attempt(&url, &body, expected).await;
        }
        let mut known = Vec::with_capacity(attempts);
        let mut unknown = Vec::with_capacity(attempts);
        for i in 0..attempts {
            // A sign-up makes an unknown address known: each gets a fresh one.
            let stranger = format!("nobody-{i}@example.com");
            let order = if i % 2 == 0 {
                [true, false]
            } else {
                [false, true]
            };
            for is_known in order {
                let email = if is_known { form.known() } else { &stranger };
                let (url, body) = client.prepare(form, email).await;
                let took = client.attempt(&url, &body, expected).await;
                if is_known {
                    known.push(took);
                } else {
                    unknown.push(took);
                }
            }
        }
        known.sort();
        unknown.sort();
        let (km, um) = (quantile(&known, 0.5), quantile(&unknown, 0.5));
        println!(
            "{:<16} {:>11.2} ms {:>11.2} ms {:>13.2} ms {:>13.2} ms {:>+15.2} ms",
            form.name(),
            ms(km),
            ms(quantile(&known, 0.9)),
            ms(um),
            ms(quantile(&unknown, 0.9)),
            ms(km) - ms(um),
        );
    }
}
