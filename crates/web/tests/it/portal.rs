//! The patient portal end to end over HTTP with a fixed clock: invitations (3 days to
//! the nanosecond), credentials, sign-up with the CAPTCHA, sign-in, forgot password,
//! booking (and losing a race), the patient's list of practitioners, My appointments and
//! cancelling within the notice, and the emails each step sends.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use slot_engine::Scenario;
use store::Organisation;
use store::staff::Role;

use crate::both;
use crate::support::{Backend, Client, TestApp};

const STRONG: &str = crate::support::PATIENT_PASSWORD;

fn clinic() -> Scenario {
    Scenario::from_json(
        json!({
            "version": 1,
            "settings": {"slot_step_minutes": 30, "min_notice_minutes": 60},
            "clinics": [{"id": "toronto", "name": "Toronto", "timezone": "America/Toronto"}],
            "schedule_types": [{"id": "physio", "name": "Physio", "clinic": "toronto"},
                               {"id": "massage", "name": "Massage", "clinic": "toronto"}],
            "practitioners": [
                {"id": "christine", "name": "Christine Roy", "type": "physio", "home_clinic": "toronto", "schedule_types": ["physio"],
                 "availability": [{"start_date": "2026-01-01",
                   "blocks": [{"days": ["mon", "tue"], "start": "09:00", "end": "11:00", "schedule_type": "physio"}]}]},
                {"id": "omar", "name": "Omar Haddad", "type": "physio", "home_clinic": "toronto", "schedule_types": ["physio"],
                 "availability": [{"start_date": "2026-01-01",
                   "blocks": [{"days": ["mon", "tue"], "start": "09:00", "end": "11:00", "schedule_type": "physio"}]}]}],
            "services": [{"id": "visit", "name": "Physio visit", "description": "Thirty minutes of treatment.",
                          "duration_minutes": 30, "book_from_portal": true, "schedule_types": ["physio"]},
                         {"id": "report", "name": "Report", "duration_minutes": 30, "book_from_portal": false, "schedule_types": ["physio"]}],
            "patients": [
                {"id": "ada", "first_name": "Ada", "last_name": "Lane", "email": "ada@example.com"},
                {"id": "ben", "first_name": "Ben", "last_name": "Cho", "email": "ben@example.com", "available_practitioners": ["omar"]}]
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap()
}

async fn id(app: &TestApp, org: &Organisation, kind: store::keys::Kind, key: &str) -> i64 {
    app.id(org, kind, key).await
}

async fn mail(app: &TestApp, to: &str) -> Vec<store::outbox::Message> {
    app.mail(to).await
}

async fn link(app: &TestApp, to: &str, part: &str) -> String {
    app.link(to, part).await
}

/// Changes the organisation's settings.
async fn change_settings(
    app: &TestApp,
    org: &Organisation,
    change: impl FnOnce(&mut store::organisation::Settings),
) {
    let mut settings = org.settings();
    change(&mut settings);
    let mut tx = app.db.begin().await.unwrap();
    store::organisation::update_settings(&mut tx, org.id, &settings)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn setup(app: &TestApp) -> (Organisation, Client) {
    let org = app.import("clinic", &clinic()).await;
    let staff = app.signed_in(&org, Role::FrontDesk).await;
    (org, staff)
}

/// A patient signed in with credentials staff created.
async fn patient(app: &TestApp, org: &Organisation, staff: &Client, key: &str) -> Client {
    app.portal_patient(org, staff, key).await
}

async fn invitations_work_for_exactly_three_days_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (org, staff) = setup(&app).await;
    let ada = id(&app, &org, store::keys::Kind::Patient, "ada").await;
    app.clock.set("2026-03-01T12:00:00Z".parse().unwrap());
    let sent = staff
        .post_form(
            &format!("/o/clinic/admin/patients/{ada}/portal-access/invitation"),
            &[],
        )
        .await;
    // Redirect-after-post: reloading the page it lands on sends nothing again.
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    assert_eq!(
        sent.location(),
        format!("/o/clinic/admin/patients/{ada}/portal-access?done=invited")
    );
    let shown = staff.get(&sent.location()).await;
    assert!(shown.contains("Invitation sent. It works for 3 days."));
    assert!(
        shown.contains("its link works until Wed 4 Mar 2026, 07:00"),
        "{}",
        shown.body
    );
    let first = link(&app, "ada@example.com", "/portal/invitation/").await;
    // Sending again invalidates the first link, and says so.
    let again = staff
        .post_form(
            &format!("/o/clinic/admin/patients/{ada}/portal-access/invitation"),
            &[],
        )
        .await;
    assert!(
        staff
            .get(&again.location())
            .await
            .contains("the previous link no longer works")
    );
    let second = link(&app, "ada@example.com", "/portal/invitation/").await;
    assert_ne!(first, second);
    let patient = app.client();
    let old = patient.get(&first).await;
    assert_eq!(old.status, StatusCode::NOT_FOUND);
    assert!(old.contains("no longer valid"));
    // 71 h 59 min after sending: it works.
    app.clock.set("2026-03-04T11:59:00Z".parse().unwrap());
    let page = patient.get(&second).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.contains("choose your password"));
    // 72 h 00 min: expired, with the clinic's instruction.
    app.clock.set("2026-03-04T12:00:00Z".parse().unwrap());
    let expired = patient.get(&second).await;
    assert_eq!(expired.status, StatusCode::GONE);
    assert!(
        expired
            .body
            .to_lowercase()
            .contains("this invitation has expired — ask the clinic to send a new one"),
        "{}",
        expired.body
    );
    let post = patient
        .post_form(
            &second,
            &[("password", STRONG), ("password_confirmation", STRONG)],
        )
        .await;
    assert_eq!(
        post.status,
        StatusCode::GONE,
        "an expired link sets nothing"
    );
    // A fresh one, used at once: a weak password is refused next to the field, a good
    // one signs in.
    app.clock.set("2026-03-04T13:00:00Z".parse().unwrap());
    // Three days on, the front desk signs in again (a session ends after 12 idle hours).
    let signed_in = staff
        .sign_in(
            "clinic",
            "front_desk-clinic@example.com",
            crate::support::PASSWORD,
        )
        .await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    // The staff page says the invitation expired, not "works until" a past time.
    let lapsed = staff
        .get(&format!("/o/clinic/admin/patients/{ada}/portal-access"))
        .await;
    assert!(
        lapsed.contains("expired on Wed 4 Mar 2026, 07:00 without being used"),
        "{}",
        lapsed.body
    );
    assert!(!lapsed.contains("works until"));
    staff
        .post_form(
            &format!("/o/clinic/admin/patients/{ada}/portal-access/invitation"),
            &[],
        )
        .await;
    let third = link(&app, "ada@example.com", "/portal/invitation/").await;
    let weak = patient
        .post_form(
            &third,
            &[
                ("password", "password12"),
                ("password_confirmation", "password12"),
            ],
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak.contains("id=\"password-error\""));
    let ok = patient
        .post_form(
            &third,
            &[("password", STRONG), ("password_confirmation", STRONG)],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.location(), "/o/clinic/portal/appointments");
    assert_eq!(
        patient.get("/o/clinic/portal/appointments").await.status,
        StatusCode::OK
    );
    // Used: it works once.
    let reused = app.client().get(&third).await;
    assert_eq!(reused.status, StatusCode::NOT_FOUND);
    assert!(reused.contains("already used"));
    app.stop().await;
}

async fn sign_in_is_generic_and_rotates_the_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (org, staff) = setup(&app).await;
    let ada = patient(&app, &org, &staff, "ada").await;
    assert_eq!(
        ada.get("/o/clinic/portal/appointments").await.status,
        StatusCode::OK
    );
    let other = app.client();
    let page = other.get("/o/clinic/portal/signin").await;
    let wrong = other
        .post_raw(
            "/o/clinic/portal/signin",
            &[
                ("_csrf", &page.csrf()),
                ("username", "ada@example.com"),
                ("password", "wrong password"),
            ],
            &[],
        )
        .await;
    let unknown = other
        .post_raw(
            "/o/clinic/portal/signin",
            &[
                ("_csrf", &page.csrf()),
                ("username", "zed@example.com"),
                ("password", "wrong password"),
            ],
            &[],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert!(
        wrong.contains("The username or password is not right.")
            && unknown.contains("The username or password is not right.")
    );
    // The API answers the same for both.
    let a = other
        .api(
            Method::POST,
            "/api/v1/orgs/clinic/portal/session",
            Some(json!({"username": "ada@example.com", "password": "nope"})),
        )
        .await;
    let b = other
        .api(
            Method::POST,
            "/api/v1/orgs/clinic/portal/session",
            Some(json!({"username": "zed@example.com", "password": "nope"})),
        )
        .await;
    assert_eq!((a.status, a.body.clone()), (b.status, b.body.clone()));
    // Pages need a patient.
    let anonymous = app.client().get("/o/clinic/portal/appointments").await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert!(
        anonymous
            .location()
            .starts_with("/o/clinic/portal/signin?next=")
    );
    app.stop().await;
}

async fn signing_up_says_the_same_for_new_and_known_addresses(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (org, staff) = setup(&app).await;
    patient(&app, &org, &staff, "ada").await;
    change_settings(&app, &org, |s| {
        s.allow_public_signup = true;
    })
    .await;
    let sign_up = |email: &'static str| {
        let app_client = app.client();
        async move {
            let challenge: altcha::Challenge =
                serde_json::from_str(&app_client.get("/o/clinic/portal/captcha").await.body)
                    .unwrap();
            let captcha = openslot_web::captcha::solve(&challenge);
            app_client
                .post_form(
                    "/o/clinic/portal/signup",
                    &[
                        ("first_name", "Zoe"),
                        ("last_name", "Quinn"),
                        ("email", email),
                        ("password", STRONG),
                        ("captcha", &captcha),
                    ],
                )
                .await
        }
    };
    let new = sign_up("zoe@example.com").await;
    let known = sign_up("ada@example.com").await;
    assert_eq!(new.status, StatusCode::OK);
    assert_eq!(known.status, StatusCode::OK);
    let strip = |body: &str, email: &str| {
        body.replace(email, "EMAIL")
            .split("name=\"_csrf\"")
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        strip(&new.body, "zoe@example.com"),
        strip(&known.body, "ada@example.com"),
        "identical pages"
    );
    // The known address's owner is told; the new address gets its confirmation link.
    assert!(
        mail(&app, "ada@example.com").await[0]
            .subject
            .contains("Someone tried to register")
    );
    let confirm = link(&app, "zoe@example.com", "/portal/signup/").await;
    // Before confirming, the password does not sign in.
    let zoe = app.client();
    let page = zoe.get("/o/clinic/portal/signin").await;
    let early = zoe
        .post_raw(
            "/o/clinic/portal/signin",
            &[
                ("_csrf", &page.csrf()),
                ("username", "zoe@example.com"),
                ("password", STRONG),
            ],
            &[],
        )
        .await;
    assert_eq!(early.status, StatusCode::UNAUTHORIZED);
    // The link alone (without the password chosen at sign-up) changes nothing.
    let bare = zoe.post_form(&confirm, &[("password", "")]).await;
    assert_eq!(bare.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bare.contains("not the password chosen"), "{}", bare.body);
    let confirmed = zoe.post_form(&confirm, &[("password", STRONG)]).await;
    assert_eq!(confirmed.status, StatusCode::SEE_OTHER);
    assert_eq!(
        zoe.get("/o/clinic/portal/appointments").await.status,
        StatusCode::OK
    );
    // Without a solved CAPTCHA: refused next to the field.
    let robot = app
        .client()
        .post_form(
            "/o/clinic/portal/signup",
            &[
                ("first_name", "Rob"),
                ("last_name", "Ot"),
                ("email", "rob@example.com"),
                ("password", STRONG),
                ("captcha", ""),
            ],
        )
        .await;
    assert_eq!(robot.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(robot.contains("id=\"captcha-error\""));
    app.stop().await;
}

/// The sign-up page's proof-of-work scripts are served by this server, so a browser can
/// solve the CAPTCHA at all, off the page's main thread.
async fn the_sign_up_pages_script_is_served(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (org, _) = setup(&app).await;
    change_settings(&app, &org, |s| {
        s.allow_public_signup = true;
    })
    .await;
    let client = app.client();
    let page = client.get("/o/clinic/portal/signup").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.contains("<script src=\"/static/pow.js\" defer></script>"));
    // The page's script hands the work to a Web Worker, which loads the solver.
    for (path, needle) in [
        ("/static/pow.js", "new Worker(\"/static/pow-worker.js\")"),
        (
            "/static/pow-worker.js",
            "importScripts(\"/static/pow-solver.js\")",
        ),
        ("/static/pow-solver.js", "crypto.subtle.digest"),
    ] {
        let script = client.get(path).await;
        assert_eq!(script.status, StatusCode::OK, "{path}");
        assert_eq!(
            script.headers["content-type"],
            "text/javascript; charset=utf-8"
        );
        assert!(script.body.contains(needle), "{path} has {needle}");
    }
    app.stop().await;
}

async fn a_forgotten_password_is_reset_once_within_the_hour(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (org, staff) = setup(&app).await;
    patient(&app, &org, &staff, "ada").await;
    let anyone = app.client();
    let known = anyone
        .post_form("/o/clinic/portal/forgot", &[("email", "ada@example.com")])
        .await;
    let unknown = anyone
        .post_form(
            "/o/clinic/portal/forgot",
            &[("email", "nobody@example.com")],
        )
        .await;
    assert_eq!(known.status, unknown.status);
    assert!(mail(&app, "nobody@example.com").await.is_empty());
    let reset = link(&app, "ada@example.com", "/portal/reset/").await;
    app.clock.advance(3_599);
    assert_eq!(anyone.get(&reset).await.status, StatusCode::OK);
    app.clock.advance(1);
    assert_eq!(anyone.get(&reset).await.status, StatusCode::GONE);
    // A new link, used once.
    anyone
        .post_form("/o/clinic/portal/forgot", &[("email", "ada@example.com")])
        .await;
    let again = link(&app, "ada@example.com", "/portal/reset/").await;
    let new_password = "meadow-lantern-violin-7";
    let used = anyone
        .post_form(
            &again,
            &[
                ("password", new_password),
                ("password_confirmation", new_password),
            ],
        )
        .await;
    assert_eq!(used.status, StatusCode::SEE_OTHER);
    assert_eq!(
        anyone
            .post_form(
                &again,
                &[
                    ("password", new_password),
                    ("password_confirmation", new_password)
                ]
            )
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let fresh = app.client();
    let ok = fresh
        .api(
            Method::POST,
            "/api/v1/orgs/clinic/portal/session",
            Some(json!({"username": "ada@example.com", "password": new_password})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    app.stop().await;
}

async fn booking_confirms_emails_and_loses_races_politely(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (org, staff) = setup(&app).await;
    let ada = patient(&app, &org, &staff, "ada").await;
    let ben = patient(&app, &org, &staff, "ben").await;
    let visit = id(&app, &org, store::keys::Kind::Service, "visit").await;
    let christine = id(&app, &org, store::keys::Kind::Practitioner, "christine").await;
    let omar = id(&app, &org, store::keys::Kind::Practitioner, "omar").await;
    // Services: only the online one, with its description.
    let services = ada.get("/o/clinic/portal/book").await;
    assert!(
        services.contains("Physio visit")
            && services.contains("Thirty minutes of treatment.")
            && !services.contains("Report")
    );
    // Slots by day for the week.
    let slots = ada
        .get(&format!(
            "/o/clinic/portal/book/{visit}?practitioner={christine}&from=2026-03-02"
        ))
        .await;
    assert_eq!(slots.status, StatusCode::OK);
    assert!(
        slots.contains("Monday 2 March") && slots.contains(">09:00"),
        "{}",
        slots.body
    );
    // Confirm, then book.
    let start = "2026-03-02T09:00:00-05:00";
    let confirm = ada
        .get(&format!(
            "/o/clinic/portal/book/{visit}/confirm?practitioner={christine}&start={}",
            start.replace('+', "%2B")
        ))
        .await;
    assert!(confirm.contains("Christine Roy"));
    let booked = ada
        .post_form(
            &format!("/o/clinic/portal/book/{visit}"),
            &[
                ("practitioner", &christine.to_string()),
                ("start", start),
                ("idempotency_key", "k1"),
            ],
        )
        .await;
    assert_eq!(booked.status, StatusCode::SEE_OTHER);
    // The booking lands on its ticket; the appointment's own page is its address less
    // `/booked`.
    let appointment = booked.location().trim_end_matches("/booked").to_owned();
    let page = ada.get(&booked.location()).await;
    assert!(
        page.contains("You are booked") && page.contains("Monday 2 March 2026, 09:00"),
        "{}",
        page.body
    );
    let confirmation = &mail(&app, "ada@example.com").await[0];
    assert!(
        confirmation
            .subject
            .starts_with("Appointment confirmed: Physio visit with Christine Roy")
    );
    // The confirmation carries the calendar invitation, in the clinic's local time; the
    // page offers the same event as a file.
    let invitation = confirmation.ics.as_deref().expect("an invitation");
    assert!(
        invitation.contains("METHOD:REQUEST\r\n")
            && invitation.contains("DTSTART;TZID=America/Toronto:20260302T090000\r\n")
            && invitation.contains("BEGIN:VTIMEZONE\r\n"),
        "{invitation}"
    );
    assert!(page.contains("calendar.ics"));
    let file = ada.get(&format!("{appointment}/calendar.ics")).await;
    assert_eq!(file.status, StatusCode::OK);
    assert!(file.contains("DTSTART;TZID=America/Toronto:20260302T090000"));
    let uid_line = |text: &str| {
        text.lines()
            .find(|l| l.starts_with("UID:"))
            .map(str::to_owned)
    };
    assert_eq!(
        uid_line(&file.body),
        uid_line(invitation),
        "one event, not two"
    );
    // The same request again (a double click): the same appointment, not a second.
    let again = ada
        .post_form(
            &format!("/o/clinic/portal/book/{visit}"),
            &[
                ("practitioner", &christine.to_string()),
                ("start", start),
                ("idempotency_key", "k1"),
            ],
        )
        .await;
    assert_eq!(again.location(), booked.location());
    // Someone else takes the next slot first: the loser is told and shown the next times.
    let api = ada.api(Method::POST, "/api/v1/orgs/clinic/portal/appointments", Some(json!({"service": visit, "practitioner": christine, "start": "2026-03-02T10:00:00-05:00"}))).await;
    assert_eq!(api.status, StatusCode::CREATED, "{}", api.body);
    // Ada's second device (staff resetting her credentials would end her sessions).
    let carla_lost = app.client();
    carla_lost
        .portal_sign_in("clinic", "ada@example.com", STRONG)
        .await;
    let lost = carla_lost
        .post_form(
            &format!("/o/clinic/portal/book/{visit}"),
            &[
                ("practitioner", &christine.to_string()),
                ("start", "2026-03-02T10:00:00-05:00"),
            ],
        )
        .await;
    assert_eq!(lost.status, StatusCode::CONFLICT);
    // Ada herself holds it (booked from her other device): she is told it is hers.
    assert!(
        lost.contains("You already have this time booked") && lost.contains("Next open times"),
        "{}",
        lost.body
    );
    // Ben, whom the time was never his, is told someone else took it.
    let ben_lost = ben
        .post_form(
            &format!("/o/clinic/portal/book/{visit}"),
            &[
                ("practitioner", &omar.to_string()),
                ("start", "2026-03-02T09:00:00-05:00"),
            ],
        )
        .await;
    assert_eq!(ben_lost.status, StatusCode::SEE_OTHER, "{}", ben_lost.body);
    let ada_late = ada
        .post_form(
            &format!("/o/clinic/portal/book/{visit}"),
            &[
                ("practitioner", &omar.to_string()),
                ("start", "2026-03-02T09:00:00-05:00"),
            ],
        )
        .await;
    assert_eq!(ada_late.status, StatusCode::CONFLICT);
    assert!(
        ada_late.contains("someone else just took that time"),
        "{}",
        ada_late.body
    );
    // A time that was never offered is not blamed on anyone (issue 13).
    let off_grid = carla_lost
        .post_form(
            &format!("/o/clinic/portal/book/{visit}"),
            &[
                ("practitioner", &christine.to_string()),
                ("start", "2026-03-02T10:07:00-05:00"),
            ],
        )
        .await;
    assert_eq!(off_grid.status, StatusCode::CONFLICT);
    assert!(
        off_grid.contains("That time is not offered online:") && !off_grid.contains("someone else"),
        "{}",
        off_grid.body
    );
    let lost_api = carla_lost.api(Method::POST, "/api/v1/orgs/clinic/portal/appointments", Some(json!({"service": visit, "practitioner": christine, "start": "2026-03-02T10:00:00-05:00"}))).await;
    assert_eq!(lost_api.status, StatusCode::CONFLICT);
    assert_eq!(lost_api.json()["error"]["details"]["rule"], 11);
    assert!(
        lost_api.json()["error"]["details"]["next_slots"]
            .as_array()
            .is_some_and(|n| !n.is_empty())
    );
    // Ben may book only Omar: slots and booking with Christine are forbidden.
    assert_eq!(ben.api(Method::GET, &format!("/api/v1/orgs/clinic/portal/slots?service={visit}&from=2026-03-02&to=2026-03-03&practitioner={christine}"), None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        ben.get(&format!(
            "/o/clinic/portal/book/{visit}?practitioner={christine}"
        ))
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let forbidden = ben.api(Method::POST, "/api/v1/orgs/clinic/portal/appointments", Some(json!({"service": visit, "practitioner": christine, "start": "2026-03-03T09:00:00-05:00"}))).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    let open: Value = ben
        .api(
            Method::GET,
            &format!(
                "/api/v1/orgs/clinic/portal/slots?service={visit}&from=2026-03-02&to=2026-03-03"
            ),
            None,
        )
        .await
        .json();
    assert!(
        open.as_array()
            .unwrap()
            .iter()
            .all(|s| s["practitioner_id"] == omar),
        "only Omar for Ben"
    );
    // Another patient's appointment is not found.
    let appointment_id = appointment.rsplit('/').next().unwrap().to_owned();
    assert_eq!(
        ben.get(&format!("/o/clinic/portal/appointments/{appointment_id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        ben.api(
            Method::GET,
            &format!("/api/v1/orgs/clinic/portal/appointments/{appointment_id}"),
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        ben.api(
            Method::POST,
            &format!("/api/v1/orgs/clinic/portal/appointments/{appointment_id}/cancel"),
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        ben.get(&format!(
            "/o/clinic/portal/appointments/{appointment_id}/calendar.ics"
        ))
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    // Ada cancels: the email takes the event out of her calendar.
    let cancelled = ada
        .api(
            Method::POST,
            &format!("/api/v1/orgs/clinic/portal/appointments/{appointment_id}/cancel"),
            None,
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    let emails = mail(&app, "ada@example.com").await;
    let cancellation = emails
        .iter()
        .find(|m| m.subject.starts_with("Appointment cancelled"))
        .expect("a cancellation email");
    let cancel_ics = cancellation
        .ics
        .as_deref()
        .expect("a cancellation invitation");
    assert!(
        cancel_ics.contains("METHOD:CANCEL\r\n") && cancel_ics.contains("STATUS:CANCELLED\r\n")
    );
    assert_eq!(uid_line(cancel_ics), uid_line(invitation));
    app.stop().await;
}

async fn cancelling_is_refused_inside_the_notice_saying_until_when(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (org, staff) = setup(&app).await;
    change_settings(&app, &org, |s| {
        s.cancellation_notice_minutes = 24 * 60;
    })
    .await;
    let ada = patient(&app, &org, &staff, "ada").await;
    let visit = id(&app, &org, store::keys::Kind::Service, "visit").await;
    let christine = id(&app, &org, store::keys::Kind::Practitioner, "christine").await;
    let made = ada.api(Method::POST, "/api/v1/orgs/clinic/portal/appointments", Some(json!({"service": visit, "practitioner": christine, "start": "2026-03-03T09:00:00-05:00"}))).await.json();
    let id = made["id"].as_i64().unwrap();
    assert_eq!(made["cancellable_until"], "2026-03-02T09:00:00-05:00");
    // The page says it in words, in the clinic's time.
    let page = ada
        .get(&format!("/o/clinic/portal/appointments/{id}"))
        .await;
    assert!(
        page.contains("You can cancel online until Mon 2 Mar 2026, 09:00."),
        "{}",
        page.body
    );
    // Inside the notice: refused, saying until when.
    app.clock.set("2026-03-02T15:00:00Z".parse().unwrap());
    // A day on, Ada signs in again (a session ends after 12 idle hours).
    let again = ada
        .portal_sign_in("clinic", "ada@example.com", STRONG)
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    let refused = ada
        .post_form(&format!("/o/clinic/portal/appointments/{id}/cancel"), &[])
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(
        refused.contains("cancelling was possible until Mon 2 Mar 2026, 09:00"),
        "{}",
        refused.body
    );
    // Earlier it works, and the patient is emailed.
    app.clock.set("2026-03-01T12:00:00Z".parse().unwrap());
    let done = ada
        .api(
            Method::POST,
            &format!("/api/v1/orgs/clinic/portal/appointments/{id}/cancel"),
            None,
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.json()["status"], "cancelled");
    let cancelled = &mail(&app, "ada@example.com").await[0];
    assert!(cancelled.subject.starts_with("Appointment cancelled"));
    // The time in words, with its zone's abbreviation and offset: never ambiguous.
    assert!(
        cancelled
            .body_text
            .contains("Tue 3 Mar 2026, 09:00 EST (UTC-05:00) is cancelled")
            && cancelled.body_text.contains("\nWhere: "),
        "{}",
        cancelled.body_text
    );
    let list = ada.get("/o/clinic/portal/appointments").await;
    assert!(list.contains("cancelled"));
    // Cancelled, it is no longer upcoming, though its day is still ahead.
    let (upcoming, past) = list
        .body
        .split_once("<h2>Past and cancelled</h2>")
        .expect("the past section");
    assert!(upcoming.contains("No upcoming appointments."), "{upcoming}");
    assert!(
        past.contains(&format!("/portal/appointments/{id}\"")),
        "{past}"
    );
    app.stop().await;
}

async fn without_auto_accept_a_booking_is_pending_and_holds_its_slot(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (org, staff) = setup(&app).await;
    change_settings(&app, &org, |s| {
        s.auto_accept_portal_bookings = false;
    })
    .await;
    let ada = patient(&app, &org, &staff, "ada").await;
    let visit = id(&app, &org, store::keys::Kind::Service, "visit").await;
    let christine = id(&app, &org, store::keys::Kind::Practitioner, "christine").await;
    let made = ada.api(Method::POST, "/api/v1/orgs/clinic/portal/appointments", Some(json!({"service": visit, "practitioner": christine, "start": "2026-03-03T09:00:00-05:00"}))).await;
    assert_eq!(made.json()["status"], "pending");
    assert!(
        mail(&app, "ada@example.com").await[0]
            .subject
            .starts_with("Appointment requested")
    );
    let slots: Value = ada.api(Method::GET, &format!("/api/v1/orgs/clinic/portal/slots?service={visit}&from=2026-03-03&to=2026-03-03&practitioner={christine}"), None).await.json();
    assert!(
        slots
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["start"] != "2026-03-03T09:00:00-05:00"),
        "a pending booking holds its slot"
    );
    app.stop().await;
}

both!(
    invitations_work_for_exactly_three_days_once,
    sign_in_is_generic_and_rotates_the_session,
    signing_up_says_the_same_for_new_and_known_addresses,
    the_sign_up_pages_script_is_served,
    a_forgotten_password_is_reset_once_within_the_hour,
    booking_confirms_emails_and_loses_races_politely,
    cancelling_is_refused_inside_the_notice_saying_until_when,
    without_auto_accept_a_booking_is_pending_and_holds_its_slot,
);
