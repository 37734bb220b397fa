//! Calendar feeds (issue 18): a practitioner's or clinic's private ICS address shows
//! their appointments and no one else's; another organisation's path, a revoked and a
//! replaced token are 404; patient names only when the organisation allows them; a
//! move keeps the UID and raises SEQUENCE; a cancellation is `STATUS:CANCELLED`; times
//! either side of a change of summer time are right. Two independent readers (python
//! `icalendar`, npm `ical.js`) parse a whole feed (ignored unless `ICAL_TOOLS` is set).

use reqwest::{Method, StatusCode};
use serde_json::json;
use store::keys::Kind;
use store::staff::Role;

use crate::book::id;
use crate::book_zones::two_zones;
use crate::both;
use crate::support::{Backend, Client, TestApp};

/// Turns on `path`'s feed through the API (admin `client`): its https address.
async fn turn_on(client: &Client, path: &str) -> String {
    let made = client.api(Method::POST, path, None).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let dto = made.json();
    let https = dto["https_url"].as_str().unwrap().to_owned();
    assert_eq!(
        dto["webcal_url"].as_str().unwrap(),
        https.replacen("http://", "webcal://", 1)
    );
    https
}

/// The feed at `url` (no session): its status and text.
async fn fetch(app: &TestApp, url: &str) -> (StatusCode, String) {
    let r = reqwest::get(url).await.unwrap();
    let status = r.status();
    if status == StatusCode::OK {
        assert_eq!(r.headers()["content-type"], "text/calendar; charset=utf-8");
        assert_eq!(r.headers()["cache-control"], "private, max-age=300");
    }
    let _ = app;
    (status, r.text().await.unwrap())
}

/// Each VEVENT's unfolded text, by UID.
fn events(text: &str) -> Vec<String> {
    let unfolded = text.replace("\r\n ", "");
    unfolded
        .split("BEGIN:VEVENT\r\n")
        .skip(1)
        .map(|e| e.split("END:VEVENT").next().unwrap().to_owned())
        .collect()
}

fn event_of<'a>(list: &'a [String], uid: &str) -> &'a str {
    list.iter()
        .find(|e| e.contains(&format!("UID:{uid}\r\n")))
        .unwrap_or_else(|| panic!("no event {uid} in {list:?}"))
}

async fn a_practitioner_feed_shows_their_appointments_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &two_zones()).await;
    let admin = app.signed_in(&org, Role::Admin).await;
    let christine = id(&app, &org, Kind::Practitioner, "christine").await;
    let url = turn_on(
        &admin,
        &format!("/api/v1/orgs/acme/practitioners/{christine}/calendar-feed"),
    )
    .await;
    let (status, text) = fetch(&app, &url).await;
    assert_eq!(status, StatusCode::OK);
    let list = events(&text);
    // Christine's one appointment; none of Marco's three.
    assert_eq!(list.len(), 1, "{text}");
    assert!(
        list[0].contains("DTSTART;TZID=America/Toronto:20260302T090000\r\n"),
        "{text}"
    );
    assert!(list[0].contains("SUMMARY:Booked appointment\r\n"), "{text}");
    assert!(list[0].contains("LOCATION:Downtown\r\n"), "{text}");
    assert!(text.contains("BEGIN:VTIMEZONE\r\nTZID:America/Toronto\r\n"));
    assert!(!text.contains("America/Vancouver"), "{text}");
    // No patient names or services by default.
    assert!(!text.contains("Ada") && !text.contains("Lane"), "{text}");
    assert!(!text.contains("Physio visit"), "{text}");

    // The page shows the feed is on, never the address.
    let page = admin
        .get(&format!(
            "/o/acme/admin/practitioners/{christine}/calendar-feed"
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.contains("The feed is on"), "{}", page.body);
    let token = url.rsplit('/').next().unwrap().trim_end_matches(".ics");
    assert!(!page.contains(token));

    // The same text again answers 304 to its ETag.
    let r = reqwest::get(&url).await.unwrap();
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let again = reqwest::Client::new()
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    // A clinic's feed: everyone's appointments there, each naming the practitioner.
    let kits = id(&app, &org, Kind::Clinic, "kits").await;
    let clinic_url = turn_on(
        &admin,
        &format!("/api/v1/orgs/acme/clinics/{kits}/calendar-feed"),
    )
    .await;
    let (_, clinic_text) = fetch(&app, &clinic_url).await;
    let clinic_events = events(&clinic_text);
    assert_eq!(clinic_events.len(), 3, "{clinic_text}");
    assert!(clinic_events.iter().all(|e| e.contains("Marco Silva")));
    app.stop().await;
}

async fn another_organisation_a_revoked_and_a_replaced_token_are_404(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &two_zones()).await;
    let other = app.import("other", &two_zones()).await;
    let admin = app.signed_in(&org, Role::Admin).await;
    let christine = id(&app, &org, Kind::Practitioner, "christine").await;
    let api = format!("/api/v1/orgs/acme/practitioners/{christine}/calendar-feed");
    let url = turn_on(&admin, &api).await;
    assert_eq!(fetch(&app, &url).await.0, StatusCode::OK);
    // The token is acme's: under another organisation's slug it is unknown.
    let foreign = url.replace("/o/acme/", "/o/other/");
    assert_eq!(fetch(&app, &foreign).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        fetch(&app, &url.replace(".ics", "")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        fetch(&app, &url.replace("/calendar/", "/calendar/x"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    // A new address: the old one stops at once.
    let rotated = admin.api(Method::POST, &api, None).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    assert_eq!(rotated.json()["created"], false);
    let new_url = rotated.json()["https_url"].as_str().unwrap().to_owned();
    assert_ne!(new_url, url);
    assert_eq!(fetch(&app, &url).await.0, StatusCode::NOT_FOUND);
    assert_eq!(fetch(&app, &new_url).await.0, StatusCode::OK);

    // Off: the address is 404 and the API says so.
    let off = admin.api(Method::DELETE, &api, None).await;
    assert_eq!(off.status, StatusCode::NO_CONTENT, "{}", off.body);
    assert_eq!(fetch(&app, &new_url).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        admin.api(Method::GET, &api, None).await.json()["enabled"],
        false
    );
    assert_eq!(
        admin.api(Method::DELETE, &api, None).await.status,
        StatusCode::NOT_FOUND
    );

    // Each change is in the audit log.
    let mut conn = app.db.conn().await.unwrap();
    let log = store::audit::recent(conn.exec(), org.id, None, 50)
        .await
        .unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    for action in [
        "calendar_feed.create",
        "calendar_feed.rotate",
        "calendar_feed.revoke",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    drop(conn);

    // Another organisation's practitioner is not found through acme's address.
    let theirs = id(&app, &other, Kind::Practitioner, "christine").await;
    let foreign_api = format!("/api/v1/orgs/acme/practitioners/{theirs}/calendar-feed");
    assert_eq!(
        admin.api(Method::POST, &foreign_api, None).await.status,
        StatusCode::NOT_FOUND
    );
    app.stop().await;
}

async fn patient_names_and_services_only_when_allowed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &two_zones()).await;
    let admin = app.signed_in(&org, Role::Admin).await;
    let christine = id(&app, &org, Kind::Practitioner, "christine").await;
    let url = turn_on(
        &admin,
        &format!("/api/v1/orgs/acme/practitioners/{christine}/calendar-feed"),
    )
    .await;
    let settings = "/api/v1/orgs/acme/calendar-feed-settings";
    let read = admin.api(Method::GET, settings, None).await.json();
    assert_eq!(
        read,
        json!({"patient_names": false, "service_names": false})
    );
    let (_, text) = fetch(&app, &url).await;
    assert!(!text.contains("Ada Lane"), "{text}");

    let saved = admin
        .api(
            Method::PUT,
            settings,
            Some(json!({"patient_names": true, "service_names": false})),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let (_, text) = fetch(&app, &url).await;
    assert!(text.contains("SUMMARY:Ada Lane\r\n"), "{text}");

    // The page's form says the same; front desk may not change it.
    let page = admin
        .post_form(
            "/o/acme/admin/calendar-feed-settings",
            &[
                ("patient_names", "on"),
                ("service_names", "on"),
                (
                    "from",
                    &format!("/o/acme/admin/practitioners/{christine}/calendar-feed"),
                ),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let (_, text) = fetch(&app, &url).await;
    assert!(
        text.contains("SUMMARY:Ada Lane: Physio visit\r\n") || text.contains("SUMMARY:Ada Lane"),
        "{text}"
    );
    let desk = app.signed_in(&org, Role::FrontDesk).await;
    let refused = desk
        .api(
            Method::PUT,
            settings,
            Some(json!({"patient_names": false, "service_names": false})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    app.stop().await;
}

async fn a_move_raises_the_sequence_and_a_cancellation_says_cancelled_across_summer_time(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &two_zones()).await;
    let admin = app.signed_in(&org, Role::Admin).await;
    let christine = id(&app, &org, Kind::Practitioner, "christine").await;
    let ada = id(&app, &org, Kind::Patient, "ada").await;
    let physio = id(&app, &org, Kind::ScheduleType, "physio").await;
    let url = turn_on(
        &admin,
        &format!("/api/v1/orgs/acme/practitioners/{christine}/calendar-feed"),
    )
    .await;
    // Wednesday 4 March, 10:00 EST; then moved past the change to summer time (8 March)
    // to Tuesday 10 March, 10:00 EDT.
    let booked = admin
        .api(
            Method::POST,
            "/api/v1/orgs/acme/appointments",
            Some(
                json!({"practitioner": christine, "schedule_type": physio, "patient": ada,
                        "start": "2026-03-04T10:00:00-05:00", "duration_minutes": 30}),
            ),
        )
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.body);
    let a = booked.json()["id"].as_i64().unwrap();
    let uid = format!("appointment-{a}@127.0.0.1");
    let (_, text) = fetch(&app, &url).await;
    let before = event_of(&events(&text), &uid).to_owned();
    assert!(before.contains("SEQUENCE:0\r\n"), "{before}");
    assert!(
        before.contains("DTSTART;TZID=America/Toronto:20260304T100000\r\n"),
        "{before}"
    );

    let moved = admin
        .api(
            Method::POST,
            &format!("/api/v1/orgs/acme/appointments/{a}/move"),
            Some(json!({"start": "2026-03-10T10:00:00-04:00"})),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    let (_, text) = fetch(&app, &url).await;
    let after = event_of(&events(&text), &uid).to_owned();
    assert!(after.contains("SEQUENCE:1\r\n"), "{after}");
    // 10:00 local both sides of the change: 15:00Z before it, 14:00Z after.
    assert!(
        after.contains("DTSTART;TZID=America/Toronto:20260310T100000\r\n"),
        "{after}"
    );
    assert!(
        after.contains("DTEND;TZID=America/Toronto:20260310T103000\r\n"),
        "{after}"
    );
    // The zone describes both offsets the feed uses.
    let tz = &text[text.find("BEGIN:VTIMEZONE").unwrap()..text.find("END:VTIMEZONE").unwrap()];
    assert!(
        tz.contains("BEGIN:STANDARD\r\n") && tz.contains("BEGIN:DAYLIGHT\r\n"),
        "{tz}"
    );
    assert!(
        tz.contains("DTSTART:20260308T020000\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\n"),
        "{tz}"
    );

    let cancelled = admin
        .api(
            Method::DELETE,
            &format!("/api/v1/orgs/acme/appointments/{a}"),
            None,
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    let (_, text) = fetch(&app, &url).await;
    let gone = event_of(&events(&text), &uid).to_owned();
    assert!(gone.contains("STATUS:CANCELLED\r\n"), "{gone}");
    assert!(gone.contains("SEQUENCE:2\r\n"), "{gone}");
    app.stop().await;
}

async fn only_admins_and_the_practitioner_manage_a_feed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &two_zones()).await;
    let christine = id(&app, &org, Kind::Practitioner, "christine").await;
    let marco = id(&app, &org, Kind::Practitioner, "marco").await;
    let desk = app.signed_in(&org, Role::FrontDesk).await;
    let path = format!("/o/acme/admin/practitioners/{christine}/calendar-feed");
    assert_eq!(desk.get(&path).await.status, StatusCode::FORBIDDEN);

    // A practitioner account of Christine's manages her feed on the page, not Marco's.
    let email = "christine@acme.example";
    let hash = openslot_web::auth::password::hash(crate::support::PASSWORD);
    let mut tx = app.db.begin().await.unwrap();
    store::staff::create(
        &mut tx,
        org.id,
        &store::staff::NewStaff {
            email,
            name: "Christine",
            role: Role::Practitioner,
            practitioner_id: Some(christine),
            password_hash: &hash,
        },
        0,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let own = app.client();
    own.sign_in("acme", email, crate::support::PASSWORD).await;
    let page = own.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let made = own.post_form(&path, &[("action", "address")]).await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    assert!(made.contains("webcal://"), "{}", made.body);
    assert!(made.contains("Subscribe"), "{}", made.body);
    let marco_path = format!("/o/acme/admin/practitioners/{marco}/calendar-feed");
    assert_eq!(own.get(&marco_path).await.status, StatusCode::FORBIDDEN);
    let off = own.post_form(&path, &[("action", "off")]).await;
    assert_eq!(off.status, StatusCode::SEE_OTHER, "{}", off.body);
    app.stop().await;
}

both!(
    a_practitioner_feed_shows_their_appointments_only,
    another_organisation_a_revoked_and_a_replaced_token_are_404,
    patient_names_and_services_only_when_allowed,
    a_move_raises_the_sequence_and_a_cancellation_says_cancelled_across_summer_time,
    only_admins_and_the_practitioner_manage_a_feed,
);

/// Christine's feed across the change to summer time (8 March 2026 in Toronto): her
/// appointment at 09:00 EST on 2 March and one booked at 10:00 EDT on 10 March; and
/// each event's UID with its start in UTC, as an independent reader must see them.
async fn feed_across_summer_time() -> (String, String) {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let org = app.import("acme", &two_zones()).await;
    let admin = app.signed_in(&org, Role::Admin).await;
    let christine = id(&app, &org, Kind::Practitioner, "christine").await;
    let ada = id(&app, &org, Kind::Patient, "ada").await;
    let physio = id(&app, &org, Kind::ScheduleType, "physio").await;
    let booked = admin
        .api(
            Method::POST,
            "/api/v1/orgs/acme/appointments",
            Some(
                json!({"practitioner": christine, "schedule_type": physio, "patient": ada,
                        "start": "2026-03-10T10:00:00-04:00", "duration_minutes": 30}),
            ),
        )
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.body);
    let b = booked.json()["id"].as_i64().unwrap();
    let url = turn_on(
        &admin,
        &format!("/api/v1/orgs/acme/practitioners/{christine}/calendar-feed"),
    )
    .await;
    let (_, text) = fetch(&app, &url).await;
    let list = events(&text);
    assert_eq!(list.len(), 2, "{text}");
    let first = list[0]
        .lines()
        .find_map(|l| l.strip_prefix("UID:"))
        .unwrap()
        .to_owned();
    app.stop().await;
    let expected =
        format!("{first} 2026-03-02T14:00:00Z\nappointment-{b}@127.0.0.1 2026-03-10T14:00:00Z\n");
    (text, expected)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs python icalendar and npm ical.js: set ICAL_TOOLS (scripts/ical-tools)"]
async fn python_icalendar_reads_a_whole_feed() {
    let (text, expected) = feed_across_summer_time().await;
    assert_eq!(crate::series::python_starts(&text), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs python icalendar and npm ical.js: set ICAL_TOOLS (scripts/ical-tools)"]
async fn ical_js_reads_a_whole_feed() {
    let (text, expected) = feed_across_summer_time().await;
    assert_eq!(crate::series::ical_js_starts(&text), expected);
}
