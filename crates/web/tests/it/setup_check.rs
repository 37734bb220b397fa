//! The setup check on a deliberately broken setup: every reason a service or
//! practitioner is kept from the portal, with the page that fixes it; and "why is this
//! time not offered?" naming the engine's rule, through the page and the API.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use store::keys::Kind;
use store::staff::Role;

use crate::book::{id, scenario};
use crate::both;
use crate::support::{Backend, TestApp};

/// A clinic set up wrong in every way the setup check knows. Today (by the test clock)
/// is Sunday 2026-03-01 in Toronto.
fn broken() -> slot_engine::Scenario {
    scenario(
        br#"{
      "version": 1,
      "settings": {"slot_step_minutes": 30},
      "clinics": [{"id": "toronto", "name": "Toronto", "timezone": "America/Toronto", "holidays": ["2026-03-09"]}],
      "schedule_types": [
        {"id": "physio", "name": "Physiotherapy", "clinic": "toronto"},
        {"id": "massage", "name": "Massage", "clinic": "toronto"},
        {"id": "orphan", "name": "Orphan", "clinic": "toronto"}],
      "practitioners": [
        {"id": "ana", "name": "Ana", "type": "physiotherapist", "home_clinic": "toronto", "schedule_types": ["physio"],
         "availability": [{"start_date": "2026-01-01",
           "blocks": [{"days": ["mon"], "start": "09:00", "end": "12:00", "schedule_type": "physio"}],
           "portal_blocks": []}]},
        {"id": "ben", "name": "Ben", "type": "physiotherapist", "home_clinic": "toronto", "schedule_types": ["physio"],
         "availability": [{"start_date": "2026-01-01",
           "blocks": [{"days": ["mon"], "start": "09:00", "end": "12:00", "schedule_type": "physio"}]}]},
        {"id": "cy", "name": "Cy", "type": "massage-therapist", "home_clinic": "toronto", "schedule_types": ["physio", "massage"],
         "availability": [{"start_date": "2025-01-01", "end_date": "2025-12-31",
           "blocks": [{"days": ["tue"], "start": "09:00", "end": "12:00", "schedule_type": "massage"}]}]},
        {"id": "di", "name": "Di", "type": "physiotherapist", "home_clinic": "toronto", "schedule_types": ["physio"], "active": false,
         "availability": [{"start_date": "2026-01-01",
           "blocks": [{"days": ["wed"], "start": "09:00", "end": "12:00", "schedule_type": "physio"}]}]},
        {"id": "ed", "name": "Ed", "type": "physiotherapist", "home_clinic": "toronto", "schedule_types": ["physio"],
         "availability": [{"start_date": "2026-03-01", "end_date": "2026-03-07",
           "blocks": [{"days": ["mon"], "start": "09:00", "end": "09:30", "schedule_type": "physio"}]}]}],
      "services": [
        {"id": "assess", "name": "Assessment", "duration_minutes": 30, "book_from_portal": true,
         "practitioner_type": "physiotherapist", "schedule_types": ["physio"]},
        {"id": "phone", "name": "Phone call", "duration_minutes": 15, "book_from_portal": false, "schedule_types": ["physio"]},
        {"id": "orphaned", "name": "Orphaned", "duration_minutes": 30, "book_from_portal": true, "schedule_types": ["orphan"]}],
      "patients": [{"id": "pat", "first_name": "Pat", "last_name": "Doe", "email": "pat@example.com",
                    "available_practitioners": ["ana"]}],
      "appointments": [{"practitioner": "ed", "start": "2026-03-02T09:00:00-05:00", "end": "2026-03-02T09:30:00-05:00"}]
    }"#,
        |_| {},
    )
}

/// The problems of the named service or practitioner: `(kind, message, fix_url)`.
fn problems(report: &Value, list: &str, name: &str) -> Vec<(String, String, String)> {
    report[list]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in {list}"))["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["kind"].as_str().unwrap().to_owned(),
                p["message"].as_str().unwrap().to_owned(),
                p["fix_url"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn kinds(problems: &[(String, String, String)]) -> Vec<&str> {
    problems.iter().map(|p| p.0.as_str()).collect()
}

async fn the_setup_check_names_what_keeps_each_service_and_practitioner_from_the_portal(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &broken()).await;
    let client = app.signed_in(&org, Role::Admin).await;
    let ids = |kind, key: &'static str| {
        let (app, org) = (&app, &org);
        async move { id(app, org, kind, key).await }
    };
    let (ana, ben, cy, di, ed) = (
        ids(Kind::Practitioner, "ana").await,
        ids(Kind::Practitioner, "ben").await,
        ids(Kind::Practitioner, "cy").await,
        ids(Kind::Practitioner, "di").await,
        ids(Kind::Practitioner, "ed").await,
    );
    let phone = ids(Kind::Service, "phone").await;
    let orphaned = ids(Kind::Service, "orphaned").await;
    let toronto = ids(Kind::Clinic, "toronto").await;
    let pat = ids(Kind::Patient, "pat").await;

    let response = client
        .api(Method::GET, "/api/v1/orgs/acme/setup-check", None)
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let report = response.json();
    assert_eq!(report["from"], "2026-03-01");
    assert_eq!(report["to"], "2026-03-28");

    let assessment = problems(&report, "services", "Assessment");
    assert_eq!(
        assessment,
        [
            (
                "type_mismatch".to_owned(),
                "Cy has its schedule types but is a massage-therapist; Assessment is for physiotherapist practitioners".to_owned(),
                format!("/o/acme/admin/practitioners/{cy}")
            ),
            (
                "overlay_empty".to_owned(),
                "Customize Portal Availability leaves out every Physiotherapy block of Ana".to_owned(),
                format!("/o/acme/admin/practitioners/{ana}/availability")
            ),
            (
                "inactive".to_owned(),
                "Di is not active".to_owned(),
                format!("/o/acme/admin/practitioners/{di}")
            ),
            (
                "fully_booked".to_owned(),
                "Ed is fully booked for Assessment from 2026-03-01 to 2026-03-28".to_owned(),
                format!("/o/acme/admin/practitioners/{ed}/availability")
            ),
        ]
    );
    let open = report["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Assessment")
        .unwrap()["open_slots"]
        .as_u64()
        .unwrap();
    assert_eq!(
        open, 18,
        "Ben's three Mondays (the 9th is a holiday), six slots each"
    );
    assert_eq!(
        problems(&report, "services", "Phone call"),
        [(
            "not_bookable_online".to_owned(),
            "Phone call is not bookable online: Book from portal is off".to_owned(),
            format!("/o/acme/admin/services/{phone}")
        )]
    );
    assert_eq!(
        problems(&report, "services", "Orphaned"),
        [(
            "no_practitioner".to_owned(),
            "no practitioner is assigned any of its schedule types (Orphan)".to_owned(),
            format!("/o/acme/admin/services/{orphaned}")
        )]
    );

    assert_eq!(
        kinds(&problems(&report, "practitioners", "Ana")),
        ["overlay_empty", "holiday"]
    );
    let ben_problems = problems(&report, "practitioners", "Ben");
    assert_eq!(
        ben_problems,
        [
            (
                "holiday".to_owned(),
                "Toronto is closed on 2026-03-09 (holiday), when Ben works there".to_owned(),
                format!("/o/acme/admin/clinics/{toronto}")
            ),
            (
                "hidden_from_patients".to_owned(),
                "hidden from 1 patient whose available practitioners leave Ben out: Pat Doe"
                    .to_owned(),
                format!("/o/acme/admin/patients/{pat}")
            ),
        ]
    );
    let cy_problems = problems(&report, "practitioners", "Cy");
    assert_eq!(
        kinds(&cy_problems),
        ["no_record", "hidden_from_patients", "no_online_service"]
    );
    assert_eq!(
        cy_problems[0].1,
        "no availability record covers 2026-03-01 to 2026-03-28"
    );
    assert_eq!(
        cy_problems[0].2,
        format!("/o/acme/admin/practitioners/{cy}/availability")
    );
    assert_eq!(
        kinds(&problems(&report, "practitioners", "Di")),
        ["inactive", "hidden_from_patients"]
    );
    let ed_problems = problems(&report, "practitioners", "Ed");
    assert_eq!(
        kinds(&ed_problems),
        ["no_record", "hidden_from_patients", "fully_booked"]
    );
    assert_eq!(
        ed_problems[0].1,
        "no availability record covers 2026-03-08 to 2026-03-28"
    );
    let _ = ben;

    // The page shows the same, with links to the pages that fix each.
    let page = client.get("/o/acme/admin/setup-check").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.contains("Customize Portal Availability leaves out every Physiotherapy block of Ana.")
    );
    assert!(page.contains(&format!(
        "<a href=\"/o/acme/admin/practitioners/{ana}/availability\">Edit availability</a>"
    )));
    assert!(page.contains(&format!(
        "<a href=\"/o/acme/admin/services/{phone}\">Edit the service</a>"
    )));
    assert!(
        page.contains(&format!(
            "<a href=\"/o/acme/admin/clinics/{toronto}\">Edit the clinic&#39;s holidays</a>"
        )) || page.contains(&format!(
            "<a href=\"/o/acme/admin/clinics/{toronto}\">Edit the clinic&#x27;s holidays</a>"
        )),
        "{}",
        page.body
    );
    assert!(page.contains("18 open slots in the coming weeks"));
    // The holiday is planned time off, told apart from what needs attention, with its
    // date in the pages' format (not ISO).
    assert!(
        page.contains("Planned time off (not a problem):"),
        "{}",
        page.body
    );
    assert!(
        page.contains(
            "<ul class=\"planned\"><li>Toronto is closed on Mon 9 Mar 2026 (holiday), when Ben works there."
        ),
        "{}",
        page.body
    );
    assert!(page.contains("Needs attention:"), "{}", page.body);
    assert!(!page.contains("closed on 2026-03-09"), "{}", page.body);
    app.stop().await;
}

async fn why_not_offered_names_the_engines_rule(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &broken()).await;
    let other = app.import("other", &broken()).await;
    let client = app.signed_in(&org, Role::FrontDesk).await;
    let assess = id(&app, &org, Kind::Service, "assess").await;
    let phone = id(&app, &org, Kind::Service, "phone").await;
    let ana = id(&app, &org, Kind::Practitioner, "ana").await;
    let ben = id(&app, &org, Kind::Practitioner, "ben").await;
    let ed = id(&app, &org, Kind::Practitioner, "ed").await;
    let pat = id(&app, &org, Kind::Patient, "pat").await;
    let path = "/api/v1/orgs/acme/setup-check/explain";
    let ask = |service: i64, practitioner: i64, date: &str, time: &str| json!({"service": service, "practitioner": practitioner, "date": date, "time": time});
    let cases = [
        (
            ask(assess, ana, "2026-03-02", "09:00"),
            Some(7),
            "09:00–09:30 is outside Customize Portal Availability on Mondays",
        ),
        (
            ask(assess, ed, "2026-03-02", "09:00"),
            Some(11),
            "1 of 1 places taken at 09:00 on 2026-03-02",
        ),
        (
            ask(assess, ben, "2026-03-09", "09:00"),
            Some(6),
            "Toronto is closed on 2026-03-09",
        ),
        (ask(assess, ben, "2026-03-02", "09:15"), Some(2), ""),
        (
            ask(phone, ben, "2026-03-02", "09:00"),
            None,
            "Phone call is not bookable online: Book from portal is off",
        ),
    ];
    for (body, rule, reason) in cases {
        let answer = client.api(Method::POST, path, Some(body.clone())).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let answer = answer.json();
        assert_eq!(answer["bookable"], false, "{body}");
        assert_eq!(answer["rule"], json!(rule), "{body}: {answer}");
        if !reason.is_empty() {
            assert_eq!(answer["reason"], reason);
        }
        assert_eq!(answer["timezone"], "America/Toronto");
    }
    let offered = client
        .api(
            Method::POST,
            path,
            Some(ask(assess, ben, "2026-03-02", "09:00")),
        )
        .await
        .json();
    assert_eq!(offered["bookable"], true);
    assert_eq!(offered["start"], "2026-03-02T09:00:00-05:00");
    assert_eq!(offered["end"], "2026-03-02T09:30:00-05:00");
    // As a patient who may book only Ana: rule 3.
    let mut as_pat = ask(assess, ben, "2026-03-02", "09:00");
    as_pat["patient"] = json!(pat);
    let hidden = client.api(Method::POST, path, Some(as_pat)).await.json();
    assert_eq!(hidden["rule"], 3);
    assert_eq!(
        hidden["reason"],
        "Ben is not among the practitioners this patient may book"
    );
    // Bad input names its field; another organisation's ids are not found.
    let bad = client
        .api(
            Method::POST,
            path,
            Some(ask(assess, ben, "2026-02-30", "09:00")),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["error"]["field"], "date");
    let bad = client
        .api(
            Method::POST,
            path,
            Some(ask(assess, ben, "2026-03-02", "9am")),
        )
        .await;
    assert_eq!(bad.json()["error"]["field"], "time");
    let their_ben = id(&app, &other, Kind::Practitioner, "ben").await;
    let their_assess = id(&app, &other, Kind::Service, "assess").await;
    assert_eq!(
        client
            .api(
                Method::POST,
                path,
                Some(ask(assess, their_ben, "2026-03-02", "09:00"))
            )
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        client
            .api(
                Method::POST,
                path,
                Some(ask(their_assess, ben, "2026-03-02", "09:00"))
            )
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Without the CSRF token: refused.
    let response = client
        .http
        .post(client.url(path))
        .json(&ask(assess, ben, "2026-03-02", "09:00"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // The page's form answers the same question.
    let page = client
        .get(&format!(
            "/o/acme/admin/setup-check?service={assess}&practitioner={ana}&date=2026-03-02&time=09:00"
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    // In a sentence that opens with the time asked about, readable and with its zone,
    // under "Needs attention"; the rule's number is the API's, not the page's.
    assert!(page.contains("<h3>Needs attention</h3>"), "{}", page.body);
    assert!(
        page.contains("Mon 2 Mar 2026, 09:00 EST: "),
        "{}",
        page.body
    );
    assert!(page.contains("09:00–09:30 is outside Customize Portal Availability on Mondays."));
    assert!(!page.contains("rule 7"), "{}", page.body);
    let page = client
        .get(&format!(
            "/o/acme/admin/setup-check?service={assess}&practitioner={ben}&date=2026-03-02&time=09:00"
        ))
        .await;
    assert!(page.contains("Offered in the portal."));
    let page = client
        .get(&format!(
            "/o/acme/admin/setup-check?service={assess}&practitioner={ben}&date=someday&time=09:00"
        ))
        .await;
    assert!(page.contains("id=\"date-error\""));
    // Practitioners do not run the setup check.
    let practitioner = app.signed_in(&org, Role::Practitioner).await;
    assert_eq!(
        practitioner
            .api(Method::GET, "/api/v1/orgs/acme/setup-check", None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    app.stop().await;
}

/// The video notes of the named service or practitioner (`list`), or of the whole
/// organisation (`name` empty): `(kind, message, fix_url)`.
fn video_notes(report: &Value, list: &str, name: &str) -> Vec<(String, String, String)> {
    let notes = if name.is_empty() {
        &report["video"]
    } else {
        &report[list]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == name)
            .unwrap_or_else(|| panic!("{name} not in {list}"))["video"]
    };
    notes
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["kind"].as_str().unwrap().to_owned(),
                p["message"].as_str().unwrap().to_owned(),
                p["fix_url"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// One note.
fn note(kind: &str, message: &str, fix_url: String) -> (String, String, String) {
    (kind.to_owned(), message.to_owned(), fix_url)
}

async fn the_setup_check_explains_why_video_is_not_offered(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Two zones; Christine works by video in the afternoons, but only her mornings are
    // online; Marco has no video schedule type; a check-up may be booked under either.
    let setup = scenario(
        serde_json::to_string(&crate::book_zones::two_zones())
            .unwrap()
            .as_bytes(),
        |s| {
            s["practitioners"][0]["availability"][0]["portal_blocks"] = json!([
                {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "12:00"}]);
            s["services"].as_array_mut().unwrap().push(json!(
                {"id": "check", "name": "Check-up", "duration_minutes": 30, "book_from_portal": true,
                 "schedule_types": ["physio", "physio-van", "video"]}));
        },
    );
    let org = app.import("acme", &setup).await;
    let client = app.signed_in(&org, Role::Admin).await;
    let christine = id(&app, &org, Kind::Practitioner, "christine").await;
    let marco = id(&app, &org, Kind::Practitioner, "marco").await;
    let visit = id(&app, &org, Kind::Service, "visit").await;
    let report = client
        .api(Method::GET, "/api/v1/orgs/acme/setup-check", None)
        .await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    let report = report.json();
    // The organisation offers video: no note of its own.
    assert_eq!(video_notes(&report, "", ""), []);
    assert_eq!(
        video_notes(&report, "services", "Physio visit"),
        [note(
            "no_video",
            "Video is not offered for Physio visit: none of its schedule types allows telehealth",
            format!("/o/acme/admin/services/{visit}"),
        )]
    );
    let check = video_notes(&report, "services", "Check-up");
    assert_eq!(check.len(), 2, "{check:?}");
    // Christine is offered for it in the mornings, but no video slot is online.
    assert_eq!(
        check[0],
        note(
            "no_open_slots",
            "no open video slot for Check-up with Christine Roy from 2026-03-01 to 2026-03-28: 13:00–13:30 is outside Customize Portal Availability on Mondays (rule 7)",
            format!("/o/acme/admin/practitioners/{christine}/availability"),
        )
    );
    assert_eq!(
        check[1],
        note(
            "no_video",
            "Video is not offered for Check-up with Marco Silva: Marco Silva has no schedule type that allows telehealth among its schedule types (Video visit)",
            format!("/o/acme/admin/practitioners/{marco}"),
        )
    );
    let services = report["services"].as_array().unwrap();
    let of = |name: &str| services.iter().find(|s| s["name"] == name).unwrap();
    assert!(of("Check-up")["open_slots"].as_u64().unwrap() > 0);
    assert_eq!(of("Check-up")["video_slots"], 0);
    assert_eq!(
        video_notes(&report, "practitioners", "Marco Silva"),
        [note(
            "no_video",
            "Video is not offered with Marco Silva: Marco Silva has no schedule type that allows telehealth",
            format!("/o/acme/admin/practitioners/{marco}"),
        )]
    );
    // Video schedule types, but no link to send patients.
    assert_eq!(
        video_notes(&report, "practitioners", "Christine Roy"),
        [note(
            "no_video_link",
            "Christine Roy's video appointments have no join link: neither Christine Roy nor the organisation has a video link (add one on the practitioner's page or in Settings)",
            format!("/o/acme/admin/practitioners/{christine}"),
        )]
    );
    let page = client.get("/o/acme/admin/setup-check").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.contains("<p class=\"video-heading\">Video appointments:</p>"));
    assert!(
        page.contains("Christine Roy&#39;s video appointments have no join link")
            || page.contains("Christine Roy&#x27;s video appointments have no join link"),
        "{}",
        page.body
    );
    assert!(page.contains("(0 by video) in the coming weeks"));

    // With the organisation's link, Christine's note goes.
    let mut tx = app.db.begin().await.unwrap();
    let mut settings = org.settings();
    settings.video_link = "https://meet.example.com/acme".to_owned();
    store::organisation::update_settings(&mut tx, org.id, &settings)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let report = client
        .api(Method::GET, "/api/v1/orgs/acme/setup-check", None)
        .await
        .json();
    assert_eq!(video_notes(&report, "practitioners", "Christine Roy"), []);
    let video_visit = report["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Video check-in")
        .unwrap()
        .clone();
    assert_eq!(video_visit["video"], json!([]));
    app.stop().await;
}

async fn without_a_telehealth_schedule_type_the_organisation_offers_no_video(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &crate::book::basic()).await;
    let client = app.signed_in(&org, Role::FrontDesk).await;
    let report = client
        .api(Method::GET, "/api/v1/orgs/acme/setup-check", None)
        .await
        .json();
    assert_eq!(
        video_notes(&report, "", ""),
        [note(
            "no_video",
            "Video appointments are not offered: no schedule type allows telehealth",
            "/o/acme/admin/schedule-types".to_owned(),
        )]
    );
    // Said once, not again for every service and practitioner.
    for list in ["services", "practitioners"] {
        for x in report[list].as_array().unwrap() {
            assert_eq!(x["video"], json!([]), "{x}");
        }
    }
    let page = client.get("/o/acme/admin/setup-check").await;
    assert!(page.contains("<h2>Video appointments</h2>"));
    assert!(!page.contains("by video)"));

    // A telehealth schedule type nobody is assigned.
    let app2 = TestApp::spawn(backend).await;
    let setup = scenario(
        serde_json::to_string(&crate::book::basic())
            .unwrap()
            .as_bytes(),
        |s| {
            s["schedule_types"].as_array_mut().unwrap().push(json!(
                {"id": "phone", "name": "Phone", "telehealth": true}));
        },
    );
    let org2 = app2.import("acme", &setup).await;
    let client2 = app2.signed_in(&org2, Role::FrontDesk).await;
    let report = client2
        .api(Method::GET, "/api/v1/orgs/acme/setup-check", None)
        .await
        .json();
    assert_eq!(
        video_notes(&report, "", ""),
        [note(
            "no_video",
            "Video appointments are not offered: no practitioner is assigned a schedule type that allows telehealth (Phone)",
            "/o/acme/admin/schedule-types".to_owned(),
        )]
    );
    app2.stop().await;
    app.stop().await;
}

both!(
    the_setup_check_explains_why_video_is_not_offered,
    without_a_telehealth_schedule_type_the_organisation_offers_no_video,
    the_setup_check_names_what_keeps_each_service_and_practitioner_from_the_portal,
    why_not_offered_names_the_engines_rule,
);
