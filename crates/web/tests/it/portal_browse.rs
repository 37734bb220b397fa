//! Finding and booking in the portal (issue 14): services and open times before signing
//! in when the organisation shows them (`portal_public_times`), a month calendar whose
//! marks are the engine's answer for the month (clinic-local days, also for a clinic in
//! another zone), a day's times by clinic, the clinic filter, the return to the chosen
//! time after signing in or after a sign-up's emailed link (and no open redirect), the
//! booking's ticket page and email, its calendar file for its own patient only, the
//! setting's audit entry, and the rate limit on anonymous browsing.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::NaiveDate;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use slot_engine::{Date, Scenario};
use store::Organisation;
use store::keys::Kind;
use store::staff::Role;
use store::time::Clock;

use crate::both;
use crate::support::{Backend, Client, PATIENT_PASSWORD, TestApp};

/// Two clinics in two zones. Christine sees patients in Toronto on Mondays; Marco in
/// Vancouver on Sunday evenings, which are already Monday in Toronto (and in UTC): the
/// calendar marks the clinic's own day, Sunday.
fn two_zones() -> Scenario {
    Scenario::from_json(
        json!({
            "version": 1,
            "settings": {"slot_step_minutes": 30, "max_days_ahead": 60},
            "clinics": [{"id": "toronto", "name": "Toronto Midtown", "timezone": "America/Toronto"},
                        {"id": "vancouver", "name": "Vancouver Kitsilano", "timezone": "America/Vancouver"}],
            "schedule_types": [
                {"id": "physio-to", "name": "Physio Toronto", "clinic": "toronto"},
                {"id": "physio-va", "name": "Physio Vancouver", "clinic": "vancouver"}],
            "practitioners": [
                {"id": "christine", "name": "Christine Roy", "type": "physio", "home_clinic": "toronto", "schedule_types": ["physio-to"],
                 "availability": [{"start_date": "2026-01-01",
                   "blocks": [{"days": ["mon"], "start": "11:00", "end": "12:00", "schedule_type": "physio-to"}]}]},
                {"id": "marco", "name": "Marco Silva", "type": "physio", "home_clinic": "vancouver", "schedule_types": ["physio-va"],
                 "availability": [{"start_date": "2026-01-01",
                   "blocks": [{"days": ["sun"], "start": "22:00", "end": "23:00", "schedule_type": "physio-va"}]}]}],
            "services": [
                {"id": "visit", "name": "Physio visit", "duration_minutes": 30, "book_from_portal": true,
                 "schedule_types": ["physio-to", "physio-va"]}],
            "patients": [
                {"id": "ada", "first_name": "Ada", "last_name": "Lane", "email": "ada@example.com"},
                {"id": "ben", "first_name": "Ben", "last_name": "Okafor", "email": "ben@example.com"}]
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap()
}

/// The organisation `two` (times shown before signing in: the default), its clinics
/// with addresses, a front-desk client and the service's id.
async fn setup(app: &TestApp) -> (Organisation, Client, i64) {
    let org = app.import("two", &two_zones()).await;
    let mut tx = app.db.begin().await.unwrap();
    for (key, address, phone) in [
        ("toronto", "100 Yonge St\nToronto ON", "416 555 0100"),
        ("vancouver", "2400 W 4th Ave\nVancouver BC", "604 555 0199"),
    ] {
        let id = store::keys::id_of(tx.exec(), Kind::Clinic, org.id, key)
            .await
            .unwrap();
        let clinic = store::clinic::get(tx.exec(), org.id, id).await.unwrap();
        store::clinic::update(
            &mut tx,
            org.id,
            id,
            &store::clinic::ClinicInput {
                name: clinic.name,
                timezone: clinic.timezone,
                address: address.into(),
                phone: phone.into(),
            },
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    set(app, &org, |s| s.cancellation_notice_minutes = 24 * 60).await;
    let org = saved(app, "two").await;
    let staff = app.signed_in(&org, Role::FrontDesk).await;
    let visit = app.id(&org, Kind::Service, "visit").await;
    (org, staff, visit)
}

/// The organisation `slug` as saved now.
async fn saved(app: &TestApp, slug: &str) -> Organisation {
    let mut conn = app.db.conn().await.unwrap();
    store::organisation::by_slug(conn.exec(), slug)
        .await
        .unwrap()
        .unwrap()
}

async fn set(
    app: &TestApp,
    org: &Organisation,
    change: impl FnOnce(&mut store::organisation::Settings),
) {
    let mut tx = app.db.begin().await.unwrap();
    let mut settings = saved(app, &org.slug).await.settings();
    change(&mut settings);
    store::organisation::update_settings(&mut tx, org.id, &settings)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// The days of March 2026 the engine has open times on, in each clinic's own calendar
/// (optionally at one clinic): what the calendar must mark.
async fn engine_days(
    app: &TestApp,
    org: &Organisation,
    visit: i64,
    clinic: Option<i64>,
) -> BTreeSet<String> {
    let mut conn = app.db.conn().await.unwrap();
    let org = saved(app, &org.slug).await;
    let (input, found) = store::window::open_slots(
        &mut conn.exec(),
        &org,
        &store::window::SlotRequest {
            service: visit,
            practitioners: None,
            from: Date::new(2026, 3, 1).unwrap(),
            to: Date::new(2026, 3, 31).unwrap(),
            now: app.clock.now(),
            telehealth: false,
        },
    )
    .await
    .unwrap();
    found
        .iter()
        .map(|s| input.open_slot(s))
        .filter(|s| clinic.is_none_or(|c| c == s.clinic_id))
        .map(|s| s.start.date_naive().to_string())
        .collect()
}

/// The days the page's calendar marks as open.
fn marked(body: &str) -> BTreeSet<String> {
    body.split("data-day=\"")
        .skip(1)
        .map(|rest| rest[..10].to_owned())
        .collect()
}

/// The first time's confirm-page address on a slots page.
fn first_time(body: &str) -> String {
    let start = body.find("/portal/book/").unwrap();
    let at = body[start..].find("/confirm?").unwrap() + start;
    let from = body[..at].rfind('"').unwrap() + 1;
    let to = body[at..].find('"').unwrap() + at;
    unescape(&body[from..to])
}

/// Text as written in an HTML attribute, read back.
fn unescape(text: &str) -> String {
    text.replace("&#38;", "&")
        .replace("&amp;", "&")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
}

/// The value of the first form field `name` on a page.
fn field(body: &str, name: &str) -> String {
    unescape(
        body.split(&format!("name=\"{name}\" value=\""))
            .nth(1)
            .unwrap_or_else(|| panic!("no field {name}: {body}"))
            .split('"')
            .next()
            .unwrap(),
    )
}

async fn visitors_see_a_month_of_times_marked_as_the_engine_answers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (org, staff, visit) = setup(&app).await;
    // Ada has an appointment: nothing of it may show to a visitor.
    let ada = app.portal_patient(&org, &staff, "ada").await;
    let booked = ada
        .api(
            Method::POST,
            "/api/v1/orgs/two/portal/appointments",
            Some(json!({"service": visit, "practitioner": app.id(&org, Kind::Practitioner, "christine").await,
                        "start": "2026-03-02T11:00:00-05:00"})),
        )
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.body);
    let visitor = app.client();
    let home = visitor.get("/o/two/portal").await;
    assert!(home.contains("See open times and book"), "{}", home.body);
    let services = visitor.get("/o/two/portal/book").await;
    assert_eq!(services.status, StatusCode::OK, "{}", services.body);
    assert!(services.contains("Physio visit"));
    let page = visitor.get(&format!("/o/two/portal/book/{visit}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.contains("March 2026"), "{}", page.body);
    // Every day the engine has times on is a link, and no other day is.
    let expected = engine_days(&app, &org, visit, None).await;
    assert!(
        expected.contains("2026-03-08"),
        "Vancouver's Sunday evening: {expected:?}"
    );
    assert!(
        expected.contains("2026-03-09"),
        "Toronto's Monday: {expected:?}"
    );
    assert_eq!(marked(&page.body), expected);
    assert!(
        page.contains("no open times"),
        "closed days are said to be closed"
    );
    // The first open day is chosen; its times are by clinic, with the zone said.
    assert!(page.contains("aria-current=\"date\""));
    assert!(page.contains("Times in"), "{}", page.body);
    for private in ["Ada", "Lane", "ada@example.com", "My appointments"] {
        assert!(!page.contains(private), "{private} shows to a visitor");
    }
    // A day of Vancouver's: its times, labelled with Vancouver's zone and address.
    let sunday = visitor
        .get(&format!(
            "/o/two/portal/book/{visit}?month=2026-03&day=2026-03-01"
        ))
        .await;
    assert!(sunday.contains("Sunday 1 March"), "{}", sunday.body);
    assert!(
        sunday.contains("Times in Vancouver time (PST)"),
        "{}",
        sunday.body
    );
    assert!(sunday.contains("2400 W 4th Ave, Vancouver BC"));
    assert!(sunday.contains(">22:00"));
    // The time taken by Ada is not offered.
    let monday = visitor
        .get(&format!("/o/two/portal/book/{visit}?day=2026-03-02"))
        .await;
    assert!(
        !monday.contains(">11:00") && monday.contains(">11:30"),
        "{}",
        monday.body
    );
    // Picking a time and booking it asks to sign in first, and comes back.
    let confirm = first_time(&sunday.body);
    let asked = visitor.get(&confirm).await;
    assert_eq!(asked.status, StatusCode::SEE_OTHER);
    assert!(
        asked.location().starts_with("/o/two/portal/signin?next="),
        "{}",
        asked.location()
    );
    let signin = visitor.get(&asked.location()).await;
    assert!(
        signin.contains("To book the time you chose"),
        "{}",
        signin.body
    );
    // The month after, and one past the booking window: the window's last month.
    let april = visitor
        .get(&format!("/o/two/portal/book/{visit}?month=2026-04"))
        .await;
    assert!(april.contains("April 2026") && april.contains("data-day=\"2026-04-05\""));
    let far = visitor
        .get(&format!("/o/two/portal/book/{visit}?month=2031-01"))
        .await;
    assert!(
        far.contains("April 2026") && !far.contains("January 2031"),
        "{}",
        far.body
    );
    let bad = visitor
        .get(&format!("/o/two/portal/book/{visit}?month=2026-3"))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.contains("month"), "{}", bad.body);
    app.stop().await;
}

async fn the_clinic_filter_marks_only_its_days(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (org, staff, visit) = setup(&app).await;
    let vancouver = app.id(&org, Kind::Clinic, "vancouver").await;
    let visitor = app.client();
    let page = visitor
        .get(&format!(
            "/o/two/portal/book/{visit}?clinic={vancouver}&month=2026-03"
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let expected = engine_days(&app, &org, visit, Some(vancouver)).await;
    assert_eq!(marked(&page.body), expected);
    assert!(marked(&page.body).iter().all(|d| {
        NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .unwrap()
            .format("%a")
            .to_string()
            == "Sun"
    }));
    assert!(!page.contains("Toronto Midtown</h3>"));
    // The calendar's links keep the clinic.
    assert!(unescape(&page.body).contains(&format!(
        "clinic={vancouver}&mode=in_person&month=2026-03&day="
    )));
    // The API marks the same days, for a signed-in patient.
    let ada = app.portal_patient(&org, &staff, "ada").await;
    let days = ada
        .api(
            Method::GET,
            &format!(
                "/api/v1/orgs/two/portal/days?service={visit}&month=2026-03&clinic={vancouver}"
            ),
            None,
        )
        .await;
    assert_eq!(days.status, StatusCode::OK, "{}", days.body);
    let listed: BTreeSet<String> = days
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["date"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, expected);
    let bad = ada
        .api(
            Method::GET,
            &format!("/api/v1/orgs/two/portal/days?service={visit}&month=March"),
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["error"]["field"], "month");
    app.stop().await;
}

async fn times_stay_for_patients_when_the_clinic_keeps_them(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (org, staff, visit) = setup(&app).await;
    set(&app, &org, |s| s.portal_public_times = false).await;
    let visitor = app.client();
    for path in [
        "/o/two/portal/book".to_owned(),
        format!("/o/two/portal/book/{visit}"),
    ] {
        let page = visitor.get(&path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert!(
            page.location().starts_with("/o/two/portal/signin?next="),
            "{path}"
        );
    }
    let ada = app.portal_patient(&org, &staff, "ada").await;
    let page = ada.get(&format!("/o/two/portal/book/{visit}")).await;
    assert_eq!(page.status, StatusCode::OK);
    app.stop().await;
}

async fn signing_in_returns_to_the_chosen_time_and_nowhere_else(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (org, staff, visit) = setup(&app).await;
    app.portal_patient(&org, &staff, "ada").await;
    let visitor = app.client();
    let page = visitor
        .get(&format!("/o/two/portal/book/{visit}?day=2026-03-01"))
        .await;
    let confirm = first_time(&page.body);
    let signin = visitor.get(&visitor.get(&confirm).await.location()).await;
    assert_eq!(field(&signin.body, "next"), confirm);
    let done = visitor
        .post_form(
            "/o/two/portal/signin",
            &[
                ("username", "ada@example.com"),
                ("password", PATIENT_PASSWORD),
                ("next", confirm.as_str()),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), confirm);
    let back = visitor.get(&confirm).await;
    assert!(
        back.contains("Book it") && back.contains("Vancouver time (PST, UTC"),
        "{}",
        back.body
    );
    assert!(back.contains("You can change or cancel it online up to 24 hours before it starts"));
    // Anywhere else is refused: My appointments instead.
    for evil in [
        "https://evil.example/o/two/portal/book",
        "//evil.example",
        "/o/other-org/portal/book",
        "\\\\evil.example",
        "/o/two/portal//evil.example",
        "/o/two/portal/../../other-org/portal",
    ] {
        let client = app.client();
        let done = client
            .post_form(
                "/o/two/portal/signin",
                &[
                    ("username", "ada@example.com"),
                    ("password", PATIENT_PASSWORD),
                    ("next", evil),
                ],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{evil}");
        assert_eq!(done.location(), "/o/two/portal/appointments", "{evil}");
    }
    app.stop().await;
}

async fn a_sign_up_link_returns_to_the_chosen_time(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (org, _staff, visit) = setup(&app).await;
    set(&app, &org, |s| s.allow_public_signup = true).await;
    let visitor = app.client();
    let page = visitor
        .get(&format!("/o/two/portal/book/{visit}?day=2026-03-01"))
        .await;
    let confirm = first_time(&page.body);
    let signin = visitor.get(&visitor.get(&confirm).await.location()).await;
    // The sign-in page's "Create an account" carries the chosen time on.
    let signup_href = format!("/o/two/portal/signup?next={}", encode(&confirm));
    assert!(
        unescape(&signin.body).contains(&signup_href),
        "{}",
        signin.body
    );
    let form = visitor.get(&signup_href).await;
    assert_eq!(field(&form.body, "next"), confirm);
    // Signing up (here through the API, with the same field) emails a link that carries it.
    let challenge: altcha::Challenge =
        serde_json::from_str(&visitor.get("/o/two/portal/captcha").await.body).unwrap();
    let signed_up = visitor
        .api(
            Method::POST,
            "/api/v1/orgs/two/portal/signup",
            Some(json!({"first_name": "Nora", "last_name": "New", "email": "nora@example.com",
                        "password": PATIENT_PASSWORD, "captcha": openslot_web::captcha::solve(&challenge),
                        "next": confirm})),
        )
        .await;
    assert_eq!(signed_up.status, StatusCode::ACCEPTED, "{}", signed_up.body);
    let link = app.link("nora@example.com", "/signup/").await;
    assert!(
        link.contains(&format!("?next={}", encode(&confirm))),
        "{link}"
    );
    let shown = visitor.get(&link).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    let path = link.split('?').next().unwrap();
    let next = field(&shown.body, "next");
    assert_eq!(next, confirm);
    let done = visitor
        .post_form(
            path,
            &[("password", PATIENT_PASSWORD), ("next", next.as_str())],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), confirm);
    assert!(visitor.get(&confirm).await.contains("Book it"));
    // A link that names another site leads to My appointments instead.
    let other = app.client();
    let challenge: altcha::Challenge =
        serde_json::from_str(&other.get("/o/two/portal/captcha").await.body).unwrap();
    other
        .api(
            Method::POST,
            "/api/v1/orgs/two/portal/signup",
            Some(json!({"first_name": "Eve", "last_name": "Il", "email": "eve@example.com",
                        "password": PATIENT_PASSWORD, "captcha": openslot_web::captcha::solve(&challenge),
                        "next": "https://evil.example/"})),
        )
        .await;
    let link = app.link("eve@example.com", "/signup/").await;
    assert!(!link.contains("next="), "{link}");
    let shown = other.get(&format!("{link}?next=//evil.example")).await;
    assert!(
        shown.contains("name=\"next\" value=\"/o/two/portal/appointments\""),
        "{}",
        shown.body
    );
    let done = other
        .post_form(
            &link,
            &[("password", PATIENT_PASSWORD), ("next", "//evil.example")],
        )
        .await;
    assert_eq!(done.location(), "/o/two/portal/appointments");
    // An address that already has an account is told to sign in, on the way back to
    // the chosen time.
    let again = app.client();
    let challenge: altcha::Challenge =
        serde_json::from_str(&again.get("/o/two/portal/captcha").await.body).unwrap();
    again
        .api(
            Method::POST,
            "/api/v1/orgs/two/portal/signup",
            Some(json!({"first_name": "Nora", "last_name": "New", "email": "nora@example.com",
                        "password": PATIENT_PASSWORD, "captcha": openslot_web::captcha::solve(&challenge),
                        "next": confirm})),
        )
        .await;
    let link = app.link("nora@example.com", "/signin").await;
    assert_eq!(
        link,
        format!("/o/two/portal/signin?next={}", encode(&confirm))
    );
    app.stop().await;
}

/// `text` as the server puts a path into `next=`: letters, digits and `-_.~/` kept,
/// every other byte `%XX`.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn the_booking_reads_like_a_ticket_and_its_calendar_file_is_the_patients(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (org, staff, visit) = setup(&app).await;
    let ada = app.portal_patient(&org, &staff, "ada").await;
    let ben = app.portal_patient(&org, &staff, "ben").await;
    let page = ada
        .get(&format!("/o/two/portal/book/{visit}?day=2026-03-02"))
        .await;
    let confirm = ada.get(&first_time(&page.body)).await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    let field = |name: &str| field(&confirm.body, name);
    let booked = ada
        .post_form(
            &format!("/o/two/portal/book/{visit}"),
            &[
                ("practitioner", &field("practitioner")),
                ("start", &field("start")),
                ("mode", "in_person"),
                ("idempotency_key", &field("idempotency_key")),
            ],
        )
        .await;
    assert_eq!(booked.status, StatusCode::SEE_OTHER, "{}", booked.body);
    let ticket_path = booked.location();
    assert!(ticket_path.ends_with("/booked"), "{ticket_path}");
    let ticket = ada.get(&ticket_path).await;
    assert_eq!(ticket.status, StatusCode::OK, "{}", ticket.body);
    for said in [
        "You are booked",
        "Physio visit",
        "Christine Roy",
        "Monday 2 March 2026, 11:00",
        "Toronto time (EST, UTC",
        "Toronto Midtown",
        "100 Yonge St",
        "Phone 416 555 0100",
        "24 hours before it starts",
        "Add to calendar",
    ] {
        assert!(ticket.contains(said), "{said}: {}", ticket.body);
    }
    let id = ticket_path
        .trim_end_matches("/booked")
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    // The email says the same, as a ticket.
    let email = &app.mail("ada@example.com").await[0];
    for said in [
        "What:  Physio visit",
        "Who:   Christine Roy",
        "When:  Mon 2 Mar 2026, 11:00 EST (UTC-05:00)",
        "Toronto time (EST)",
        "Where: Toronto Midtown",
        "100 Yonge St",
        "Phone 416 555 0100",
        "Change or cancel: ",
        "up to 24 hours before it starts",
        "Add to calendar",
    ] {
        assert!(
            email.body_text.contains(said),
            "{said}: {}",
            email.body_text
        );
    }
    // Its calendar file: the owner's only.
    let ics_path = format!("/o/two/portal/appointments/{id}/calendar.ics");
    let ics = ada.http.get(ada.url(&ics_path)).send().await.unwrap();
    assert_eq!(ics.status(), StatusCode::OK);
    assert!(
        ics.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    let text = ics.text().await.unwrap();
    assert!(
        text.contains("DTSTART;TZID=America/Toronto:20260302T110000"),
        "{text}"
    );
    assert_eq!(ben.get(&ics_path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(ben.get(&ticket_path).await.status, StatusCode::NOT_FOUND);
    let anonymous = app.client().get(&ics_path).await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    // Another organisation's patient: not found at their own address either.
    let other = app.import("other", &two_zones()).await;
    let other_staff = app.signed_in(&other, Role::FrontDesk).await;
    let stranger = app.portal_patient(&other, &other_staff, "ada").await;
    assert_eq!(
        stranger
            .get(&format!("/o/other/portal/appointments/{id}/calendar.ics"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    app.stop().await;
}

async fn the_setting_is_saved_and_audited(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (org, _staff, _visit) = setup(&app).await;
    assert!(
        org.portal_public_times,
        "a new organisation shows its times"
    );
    let admin = app.signed_in(&org, Role::Admin).await;
    let mut body: Value = admin
        .api(Method::GET, "/api/v1/orgs/two/settings", None)
        .await
        .json();
    assert_eq!(body["portal_public_times"], true);
    body["portal_public_times"] = json!(false);
    let put = admin
        .api(Method::PUT, "/api/v1/orgs/two/settings", Some(body.clone()))
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert!(!saved(&app, "two").await.portal_public_times);
    // Left out of a PUT, it stays as it is.
    body.as_object_mut().unwrap().remove("portal_public_times");
    admin
        .api(Method::PUT, "/api/v1/orgs/two/settings", Some(body))
        .await;
    assert!(!saved(&app, "two").await.portal_public_times);
    // The page shows it unticked; ticking it turns it back on.
    let page = admin.get("/o/two/admin/settings").await;
    assert!(
        page.contains("name=\"portal_public_times\" value=\"on\">"),
        "{}",
        page.body
    );
    let mut conn = app.db.conn().await.unwrap();
    let entries = store::audit::recent(conn.exec(), org.id, Some(("organisation", org.id)), 10)
        .await
        .unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e.action == "organisation.update_settings"
                && e.details.contains("portal_public_times")),
        "{entries:?}"
    );
    app.stop().await;
}

async fn anonymous_browsing_is_rate_limited_per_address(backend: Backend) {
    let limits =
        openslot_web::limits::Limits::default().with_browsing(2, Duration::from_secs(3600));
    let app = TestApp::spawn_with_limits(backend, limits).await;
    let (org, staff, visit) = setup(&app).await;
    let visitor = app.client();
    let path = format!("/o/two/portal/book/{visit}");
    assert_eq!(visitor.get(&path).await.status, StatusCode::OK);
    assert_eq!(visitor.get(&path).await.status, StatusCode::OK);
    let refused = visitor.get(&path).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    // A signed-in patient is known, and not counted.
    let ada = app.portal_patient(&org, &staff, "ada").await;
    for _ in 0..3 {
        assert_eq!(ada.get(&path).await.status, StatusCode::OK);
    }
    app.stop().await;
}

both!(
    visitors_see_a_month_of_times_marked_as_the_engine_answers,
    the_clinic_filter_marks_only_its_days,
    times_stay_for_patients_when_the_clinic_keeps_them,
    signing_in_returns_to_the_chosen_time_and_nowhere_else,
    a_sign_up_link_returns_to_the_chosen_time,
    the_booking_reads_like_a_ticket_and_its_calendar_file_is_the_patients,
    the_setting_is_saved_and_audited,
    anonymous_browsing_is_rate_limited_per_address,
);
