//! Staff book video appointments: the form's "In person / Video" choice where the
//! service or schedule type allows it, the API's `telehealth`, the refusal (with its
//! reason) where the schedule type does not; a move keeps it; the book marks video
//! appointments, and the appointment's page and the API say where and how: the join
//! link (or that none is set), or the clinic's name, address and phone.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use store::Organisation;
use store::keys::Kind;
use store::staff::Role;

use crate::book::{api_with, count, id};
use crate::book_zones::two_zones;
use crate::both;
use crate::support::{Backend, TestApp};

/// Sets the organisation's and Christine's video links (empty: none).
async fn links(app: &TestApp, org: &Organisation, organisation: &str, christine: &str) {
    let mut tx = app.db.begin().await.unwrap();
    let mut settings = org.settings();
    settings.video_link = organisation.to_owned();
    store::organisation::update_settings(&mut tx, org.id, &settings)
        .await
        .unwrap();
    let cid = store::keys::id_of(tx.exec(), Kind::Practitioner, org.id, "christine")
        .await
        .unwrap();
    let mut input = store::practitioner::PractitionerInput::from(
        &store::practitioner::get(tx.exec(), org.id, cid)
            .await
            .unwrap(),
    );
    input.video_link = christine.to_owned();
    store::practitioner::update(&mut tx, org.id, cid, &input)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn the_api_books_video_where_the_schedule_type_allows_it_and_a_move_keeps_it(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &two_zones()).await;
    let client = app.signed_in(&org, Role::FrontDesk).await;
    let christine = id(&app, &org, Kind::Practitioner, "christine").await;
    let ada = id(&app, &org, Kind::Patient, "ada").await;
    let video = id(&app, &org, Kind::ScheduleType, "video").await;
    let physio = id(&app, &org, Kind::ScheduleType, "physio").await;
    let book = |body: Value| {
        let client = client.clone();
        async move {
            client
                .api(Method::POST, "/api/v1/orgs/acme/appointments", Some(body))
                .await
        }
    };

    // Video under a schedule type that allows it; no link set anywhere yet.
    let booked = book(
        json!({"practitioner": christine, "patient": ada, "schedule_type": video,
                             "start": "2026-03-02T14:00:00-05:00", "telehealth": true}),
    )
    .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.body);
    let dto = booked.json();
    assert_eq!(dto["telehealth"], true);
    assert_eq!(dto["video_link"], "");
    assert_eq!(dto["clinic_name"], "Downtown");
    let first = dto["id"].as_i64().unwrap();

    // The link is the practitioner's, else the organisation's.
    links(&app, &org, "https://meet.example.com/acme", "").await;
    let path = format!("/api/v1/orgs/acme/appointments/{first}");
    let read = client.api(Method::GET, &path, None).await.json();
    assert_eq!(read["video_link"], "https://meet.example.com/acme");
    links(
        &app,
        &org,
        "https://meet.example.com/acme",
        "https://meet.example.com/roy",
    )
    .await;
    let read = client.api(Method::GET, &path, None).await.json();
    assert_eq!(read["video_link"], "https://meet.example.com/roy");

    // Video under a schedule type that does not allow it needs an override, which says so.
    let before = count(&app, &org).await;
    let refused = book(
        json!({"practitioner": christine, "patient": ada, "schedule_type": physio,
                              "start": "2026-03-02T10:00:00-05:00", "telehealth": true}),
    )
    .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert_eq!(
        refused.json()["error"]["details"]["needs_override"],
        json!(["Physiotherapy does not allow video appointments"])
    );
    assert_eq!(count(&app, &org).await, before);
    // In person, the same booking goes in; its place is the clinic, with no link.
    let in_person = book(
        json!({"practitioner": christine, "patient": ada, "schedule_type": physio,
                                "start": "2026-03-02T10:00:00-05:00"}),
    )
    .await;
    assert_eq!(in_person.status, StatusCode::CREATED, "{}", in_person.body);
    assert_eq!(in_person.json()["telehealth"], false);
    assert_eq!(in_person.json()["video_link"], "");

    // Bad input names the field and books nothing.
    for (body, field) in [
        (
            json!({"practitioner": christine, "schedule_type": video,
                   "start": "2026-03-02T15:00:00-05:00", "telehealth": "yes"}),
            "telehealth",
        ),
        (
            json!({"practitioner": christine, "schedule_type": video,
                   "start": "2026-03-02T15:00:00-05:00", "video": true}),
            "video",
        ),
    ] {
        let bad = book(body).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
        assert_eq!(bad.json()["error"]["field"], field);
    }
    assert_eq!(count(&app, &org).await, before + 1);

    // A move keeps it a video appointment.
    let moved = api_with(
        &client,
        Method::POST,
        &format!("/api/v1/orgs/acme/appointments/{first}/move"),
        json!({"start": "2026-03-02T15:30:00-05:00"}),
        &[],
    )
    .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    assert_eq!(moved.json()["telehealth"], true);
    assert_eq!(moved.json()["start"], "2026-03-02T15:30:00-05:00");
    // The OpenAPI document describes the new fields.
    let doc = client.get("/api/openapi.json").await.json();
    let schemas = &doc["components"]["schemas"];
    for field in ["telehealth", "video_link", "clinic_address", "clinic_phone"] {
        assert!(
            schemas["AppointmentDto"]["properties"][field].is_object(),
            "{field}"
        );
    }
    assert!(schemas["CreateBody"]["properties"]["telehealth"].is_object());
    app.stop().await;
}

async fn the_form_offers_video_where_allowed_and_explains_a_refusal(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &two_zones()).await;
    let client = app.signed_in(&org, Role::FrontDesk).await;
    let christine = id(&app, &org, Kind::Practitioner, "christine").await;
    let ada = id(&app, &org, Kind::Patient, "ada").await;
    let visit = id(&app, &org, Kind::Service, "visit").await;
    let video_visit = id(&app, &org, Kind::Service, "video-visit").await;
    let video = id(&app, &org, Kind::ScheduleType, "video").await;

    // Nothing chosen yet: the choice is there (the page has no script to follow the
    // service select), in person by default.
    let blank = client
        .get(&format!(
            "/o/acme/admin/book/new?practitioner={christine}&date=2026-03-02"
        ))
        .await;
    assert_eq!(blank.status, StatusCode::OK);
    assert!(blank.contains("<legend>In person or video</legend>"));
    assert!(
        blank.contains("<input type=\"radio\" name=\"telehealth\" value=\"0\" checked> In person")
    );
    assert!(blank.contains(&format!(
        "<option value=\"{video_visit}\">Video check-in (30 min, video possible)</option>"
    )));
    assert!(blank.contains(&format!(
        "<option value=\"{visit}\">Physio visit (30 min)</option>"
    )));
    // A service that allows no video: no choice.
    let in_person_only = client
        .get(&format!(
            "/o/acme/admin/book/new?practitioner={christine}&service={visit}"
        ))
        .await;
    assert!(!in_person_only.contains("In person or video"));
    let videoable = client
        .get(&format!(
            "/o/acme/admin/book/new?practitioner={christine}&service={video_visit}"
        ))
        .await;
    assert!(videoable.contains("In person or video"));

    let form = |service: String, schedule_type: String, time: &str, telehealth: &str| {
        vec![
            ("practitioner".to_owned(), christine.to_string()),
            ("patient".to_owned(), ada.to_string()),
            ("service".to_owned(), service),
            ("schedule_type".to_owned(), schedule_type),
            ("date".to_owned(), "2026-03-02".to_owned()),
            ("time".to_owned(), time.to_owned()),
            ("telehealth".to_owned(), telehealth.to_owned()),
            ("action".to_owned(), "book".to_owned()),
        ]
    };
    let post = |fields: Vec<(String, String)>| {
        let client = client.clone();
        async move {
            let pairs: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            client.post_form("/o/acme/admin/book/new", &pairs).await
        }
    };
    let before = count(&app, &org).await;
    // Video for a service that does not allow it: refused, the reason shown, the
    // choice kept.
    let refused = post(form(visit.to_string(), String::new(), "10:00", "1")).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(refused.contains("This booking needs an override."));
    assert!(refused.contains("<li>Physiotherapy does not allow video appointments</li>"));
    assert!(
        refused.contains("<input type=\"radio\" name=\"telehealth\" value=\"1\" checked> Video")
    );
    // A value that is neither names the field.
    let bad = post(form(String::new(), video.to_string(), "14:00", "2")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(bad.contains("id=\"telehealth-error\""));
    assert_eq!(count(&app, &org).await, before);

    // Video where it is allowed: booked, and marked in the book.
    let booked = post(form(String::new(), video.to_string(), "14:00", "1")).await;
    assert_eq!(booked.status, StatusCode::SEE_OTHER, "{}", booked.body);
    assert_eq!(count(&app, &org).await, before + 1);
    let book = client.get(&booked.location()).await;
    assert!(
        book.contains("<strong>Ada Lane</strong> <span>Video visit</span> <span class=\"mode-video\">Video</span>"),
        "{}",
        book.body
    );
    // The imported in-person one is not marked.
    assert_eq!(
        book.body.matches("class=\"mode-video\"").count(),
        2,
        "grid and list"
    );
    app.stop().await;
}

async fn the_appointment_page_says_where_and_how(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &two_zones()).await;
    let client = app.signed_in(&org, Role::FrontDesk).await;
    let admin = app.signed_in(&org, Role::Admin).await;
    let christine = id(&app, &org, Kind::Practitioner, "christine").await;
    let video = id(&app, &org, Kind::ScheduleType, "video").await;
    let downtown = id(&app, &org, Kind::Clinic, "downtown").await;
    let saved = admin
        .api(
            Method::PUT,
            &format!("/api/v1/orgs/acme/clinics/{downtown}"),
            Some(json!({"name": "Downtown", "timezone": "America/Toronto",
                        "address": "120 King Street West\nToronto ON M5H 1J9",
                        "phone": "+1 416 555 0142"})),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);

    // In person: the clinic's name, address and phone.
    let list = client
        .api(
            Method::GET,
            "/api/v1/orgs/acme/appointments?from=2026-03-02",
            None,
        )
        .await
        .json();
    let ada = list
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["patient_name"] == "Ada Lane")
        .unwrap();
    assert_eq!(
        ada["clinic_address"],
        "120 King Street West\nToronto ON M5H 1J9"
    );
    assert_eq!(ada["clinic_phone"], "+1 416 555 0142");
    assert_eq!(ada["telehealth"], false);
    let page = client
        .get(&format!(
            "/o/acme/admin/book/appointments/{}",
            ada["id"].as_i64().unwrap()
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.contains("<dt>How</dt><dd>In person</dd>"));
    assert!(page.contains(
        "<address class=\"clinic-address\"><strong>Downtown</strong><br>120 King Street West<br>Toronto ON M5H 1J9<br>Phone +1 416 555 0142</address>"
    ), "{}", page.body);

    // By video without a link: says so, and where to add one.
    let booked = client
        .api(
            Method::POST,
            "/api/v1/orgs/acme/appointments",
            Some(json!({"practitioner": christine, "schedule_type": video,
                        "start": "2026-03-02T14:00:00-05:00", "telehealth": true})),
        )
        .await;
    let vid = booked.json()["id"].as_i64().unwrap();
    let page = client
        .get(&format!("/o/acme/admin/book/appointments/{vid}"))
        .await;
    assert!(page.contains("<strong>Video appointment</strong>: no video link is set: add one in <a href=\"/o/acme/admin/settings\">Settings</a> or on <a href=\"/o/acme/admin/practitioners/"));
    assert!(!page.contains("<dt>Where</dt>"));
    // With the organisation's link.
    links(&app, &org, "https://meet.example.com/acme", "").await;
    let page = client
        .get(&format!("/o/acme/admin/book/appointments/{vid}"))
        .await;
    assert!(page.contains("<strong>Video appointment</strong>: the patient joins at <a href=\"https://meet.example.com/acme\" rel=\"noreferrer\">https://meet.example.com/acme</a>"), "{}", page.body);
    // A move from the page keeps it by video.
    let moved = client
        .post_form(
            &format!("/o/acme/admin/book/appointments/{vid}/move"),
            &[
                ("date", "2026-03-02"),
                ("time", "15:00"),
                ("practitioner", &christine.to_string()),
                ("duration_minutes", "30"),
            ],
        )
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    let after = client
        .api(
            Method::GET,
            &format!("/api/v1/orgs/acme/appointments/{vid}"),
            None,
        )
        .await
        .json();
    assert_eq!(after["telehealth"], true);
    assert_eq!(after["start"], "2026-03-02T15:00:00-05:00");

    // Another organisation's appointment is not found, on the page or through the API.
    let other = app.import("other", &two_zones()).await;
    let theirs = {
        let mut conn = app.db.conn().await.unwrap();
        let entries = store::book::in_range(
            conn.exec(),
            &other,
            &store::book::Range {
                from_ns: 0,
                to_ns: i64::MAX,
                practitioner: None,
                clinic: None,
                include_cancelled: true,
            },
        )
        .await
        .unwrap();
        entries[0].id
    };
    assert_eq!(
        client
            .get(&format!("/o/acme/admin/book/appointments/{theirs}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        client
            .api(
                Method::GET,
                &format!("/api/v1/orgs/acme/appointments/{theirs}"),
                None
            )
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    app.stop().await;
}

both!(
    the_api_books_video_where_the_schedule_type_allows_it_and_a_move_keeps_it,
    the_form_offers_video_where_allowed_and_explains_a_refusal,
    the_appointment_page_says_where_and_how,
);
