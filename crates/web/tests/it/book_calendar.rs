//! The appointment book as a calendar: free times link to the booking form filled in,
//! a booking needs a patient and blocked time is its own audited action, the patient
//! search answers for the caller's organisation only and a single match is chosen,
//! moving (the drag's API call) changes start, practitioner and length through the
//! engine, and the week shows one practitioner unless all are asked for.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use store::keys::Kind;
use store::staff::Role;

use crate::book::{audit, basic, count, id, scenario};
use crate::both;
use crate::support::{Backend, TestApp};

/// `basic()` with a second physiotherapist, Omar, free on the same days.
fn two_practitioners() -> slot_engine::Scenario {
    scenario(
        include_bytes!("../../../slot-engine/tests/data/scenarios/basic.json"),
        |s| {
            s["patients"] = json!([
                {"id": "ada", "first_name": "Ada", "last_name": "Lane", "email": "ada@example.com"}
            ]);
            let mut omar = s["practitioners"][0].clone();
            omar["id"] = json!("omar");
            s["practitioners"].as_array_mut().unwrap().push(omar);
        },
    )
}

/// Posts the booking form at 11:00 on Monday with `extra` fields.
async fn post_booking(
    client: &crate::support::Client,
    practitioner: i64,
    schedule_type: i64,
    extra: &[(&str, &str)],
) -> crate::support::Page {
    let (p, t) = (practitioner.to_string(), schedule_type.to_string());
    let mut fields: Vec<(&str, &str)> = vec![
        ("action", "book"),
        ("practitioner", &p),
        ("schedule_type", &t),
        ("date", "2026-03-02"),
        ("time", "11:00"),
        ("duration_minutes", "30"),
    ];
    fields.extend_from_slice(extra);
    client.post_form("/o/acme/admin/book/new", &fields).await
}

async fn free_times_link_to_the_booking_form_filled_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &basic()).await;
    let client = app.signed_in(&org, Role::FrontDesk).await;
    let christine = id(&app, &org, Kind::Practitioner, "christine").await;
    let toronto = id(&app, &org, Kind::Clinic, "toronto").await;

    let day = client.get("/o/acme/admin/book?date=2026-03-02").await;
    assert_eq!(day.status, StatusCode::OK, "{}", day.body);
    // A free row at 11:00 links to the form with practitioner, date, time and the
    // clinic whose zone reads the time; a screen reader hears what it does.
    let link = format!(
        "/o/acme/admin/book/new?practitioner={christine}&date=2026-03-02&time=11:00&clinic={toronto}"
    );
    assert!(
        day.contains(&format!(
            "<a class=\"free\" href=\"{}\">",
            link.replace('&', "&#38;")
        )),
        "{}",
        day.body
    );
    assert!(
        day.contains(">Book christine, Mon 2 Mar, 11:00</span>")
            || day.contains(", Mon 2 Mar, 11:00</span>")
    );
    // The row the appointment covers has no free link.
    assert!(!day.contains("time=09:30&#38;"));
    // The appointment without a patient is shown as blocked time, in its lane.
    assert!(day.contains("<strong>Blocked time</strong>"));
    assert!(day.contains(" r-1 s-2 l-1 status-booked block\""));
    assert!(day.contains("<div class=\"stack lanes-1\">"));
    // The calendar's script and stylesheet.
    assert!(day.contains("<script src=\"/static/book.js\" defer></script>"));
    assert!(day.contains("href=\"/static/book.css\""));
    assert_eq!(client.get("/static/book.js").await.status, StatusCode::OK);
    assert!(client.get("/static/book.css").await.contains(".s-288{"));

    let form = client.get(&link).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.contains(&format!("<option value=\"{christine}\" selected>")));
    assert!(form.contains("name=\"date\" type=\"date\" required value=\"2026-03-02\""));
    assert!(form.contains("name=\"time\" type=\"time\" required value=\"11:00\""));
    assert!(form.contains("America/Toronto"));
    app.stop().await;
}

async fn a_booking_needs_a_patient_and_blocked_time_is_explicit_and_audited(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &basic()).await;
    let client = app.signed_in(&org, Role::FrontDesk).await;
    let christine = id(&app, &org, Kind::Practitioner, "christine").await;
    let physio = id(&app, &org, Kind::ScheduleType, "physio").await;
    let before = count(&app, &org).await;

    // "Book" without a patient books nothing and names the field.
    let refused = post_booking(&client, christine, physio, &[]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.contains("id=\"patient-error\">choose a patient"),
        "{}",
        refused.body
    );
    assert_eq!(count(&app, &org).await, before);

    // Blocking time is its own form: no patient, a label, audited.
    let form = client
        .get(&format!(
            "/o/acme/admin/book/new?practitioner={christine}&date=2026-03-02&time=11:00&block=yes"
        ))
        .await;
    assert!(form.contains("<h1>Block time</h1>"));
    assert!(form.contains("name=\"block\" value=\"yes\""));
    assert!(!form.contains("id=\"patient_q\""));
    let blocked = post_booking(
        &client,
        christine,
        physio,
        &[("block", "yes"), ("block_label", "Lunch")],
    )
    .await;
    assert_eq!(blocked.status, StatusCode::SEE_OTHER, "{}", blocked.body);
    let to = blocked.location();
    assert!(to.contains("notice=blocked"), "{to}");
    assert_eq!(count(&app, &org).await, before + 1);
    let block_id: i64 = to.rsplit("appointment=").next().unwrap().parse().unwrap();
    let actions: Vec<(String, Value)> = audit(&app, &org, "appointment", block_id).await;
    let names: Vec<&str> = actions.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(names, ["appointment.book", "appointment.block_labelled"]);
    assert_eq!(actions[1].1["label"], "Lunch");
    let page = client.get(&to).await;
    assert!(page.contains("Time blocked (Lunch) for"), "{}", page.body);
    assert!(page.contains("<strong>Blocked: Lunch</strong>"));
    // Blocked time has nobody to mark arrived, completed or no-show.
    for status in ["arrived", "completed", "no_show"] {
        let refused = client
            .api(
                Method::POST,
                &format!("/api/v1/orgs/acme/appointments/{block_id}/status"),
                Some(json!({"status": status})),
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{status}");
        assert_eq!(refused.json()["error"]["field"], "status");
    }
    let after: Vec<(String, Value)> = audit(&app, &org, "appointment", block_id).await;
    assert_eq!(after.len(), 2, "nothing more was written: {after:?}");

    app.stop().await;
}

async fn the_patient_search_answers_for_the_callers_organisation_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.import("acme", &basic()).await;
    let _other = app.import("other", &basic()).await;
    let client = app.signed_in(&acme, Role::FrontDesk).await;
    let hugo = client
        .created(
            "/api/v1/orgs/acme/patients",
            json!({"first_name": "Hugo", "last_name": "Blanc", "email": "hugo@example.com",
                   "phone": "416-555-0199"}),
        )
        .await;
    for n in 0..12 {
        client
            .created(
                "/api/v1/orgs/acme/patients",
                json!({"first_name": format!("Many{n}"), "last_name": "Smith",
                       "email": format!("many{n}@example.com")}),
            )
            .await;
    }

    // By name, email or phone; at most the ten asked for.
    for q in ["hugo", "HUGO@EXAMPLE", "555-0199"] {
        let found = client
            .api(
                Method::GET,
                &format!("/api/v1/orgs/acme/patients?limit=10&q={q}"),
                None,
            )
            .await;
        assert_eq!(found.status, StatusCode::OK, "{q}");
        let ids: Vec<i64> = found
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, [hugo["id"].as_i64().unwrap()], "{q}");
    }
    let many = client
        .api(
            Method::GET,
            "/api/v1/orgs/acme/patients?limit=10&q=smith",
            None,
        )
        .await;
    assert_eq!(many.json().as_array().unwrap().len(), 10);
    // The other organisation's patients (it has an Ada Lane too) are not found from
    // here, and its own search refuses this session.
    let ada = client
        .api(
            Method::GET,
            "/api/v1/orgs/acme/patients?limit=10&q=ada",
            None,
        )
        .await;
    assert_eq!(ada.json().as_array().unwrap().len(), 1);
    let theirs = client
        .api(
            Method::GET,
            "/api/v1/orgs/other/patients?limit=10&q=ada",
            None,
        )
        .await;
    assert_ne!(theirs.status, StatusCode::OK);
    assert!(!theirs.contains("ada@example.com"));
    app.stop().await;
}

async fn a_single_search_result_is_chosen(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &basic()).await;
    let client = app.signed_in(&org, Role::FrontDesk).await;
    let bo = id(&app, &org, Kind::Patient, "bo").await;
    let one = client
        .post_form(
            "/o/acme/admin/book/new",
            &[
                ("action", "find"),
                ("patient_q", "reyes"),
                ("date", "2026-03-02"),
            ],
        )
        .await;
    assert_eq!(one.status, StatusCode::OK);
    assert!(
        one.contains(&format!("<option value=\"{bo}\" selected>Bo Reyes")),
        "{}",
        one.body
    );
    // Two matches: none chosen for staff.
    let two = client
        .post_form(
            "/o/acme/admin/book/new",
            &[
                ("action", "find"),
                ("patient_q", "example.com"),
                ("date", "2026-03-02"),
            ],
        )
        .await;
    assert!(two.contains("Bo Reyes") && two.contains("Ada Lane"));
    assert!(!two.contains("\" selected>Bo Reyes") && !two.contains("\" selected>Ada Lane"));
    app.stop().await;
}

async fn moving_changes_start_practitioner_and_length_through_the_engine(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &two_practitioners()).await;
    let client = app.signed_in(&org, Role::FrontDesk).await;
    let christine = id(&app, &org, Kind::Practitioner, "christine").await;
    let omar = id(&app, &org, Kind::Practitioner, "omar").await;
    let physio = id(&app, &org, Kind::ScheduleType, "physio").await;
    let ada = id(&app, &org, Kind::Patient, "ada").await;
    let booked = client
        .created(
            "/api/v1/orgs/acme/appointments",
            json!({"practitioner": christine, "patient": ada, "schedule_type": physio,
                   "start": "2026-03-02T10:00:00-05:00", "duration_minutes": 30}),
        )
        .await;
    let path = format!("/api/v1/orgs/acme/appointments/{}/move", booked["id"]);
    let get = format!("/api/v1/orgs/acme/appointments/{}", booked["id"]);

    // The drag's call: to Omar at 10:30, an hour long.
    let moved = client
        .api(
            Method::POST,
            &path,
            Some(
                json!({"start": "2026-03-02T10:30:00-05:00", "practitioner": omar,
                        "duration_minutes": 60}),
            ),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    let now = client.api(Method::GET, &get, None).await.json();
    assert_eq!(now["practitioner_id"], omar);
    assert!(
        now["start"]
            .as_str()
            .unwrap()
            .starts_with("2026-03-02T10:30:00"),
        "{now}"
    );
    assert!(
        now["end"]
            .as_str()
            .unwrap()
            .starts_with("2026-03-02T11:30:00"),
        "{now}"
    );

    // Its lower edge dragged past the end of the availability (12:00): the engine
    // refuses with its reasons and nothing changes.
    let longer = client
        .api(
            Method::POST,
            &path,
            Some(json!({"start": "2026-03-02T10:30:00-05:00", "duration_minutes": 120})),
        )
        .await;
    assert_eq!(longer.status, StatusCode::CONFLICT, "{}", longer.body);
    assert!(
        !longer.json()["error"]["details"]["needs_override"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let still = client.api(Method::GET, &get, None).await.json();
    assert_eq!(still["end"], now["end"]);
    // The appointment's history says from when to when it moved, and nothing about a
    // status for the booking itself.
    let page = client
        .get(&format!("/o/acme/admin/book/appointments/{}", booked["id"]))
        .await;
    let history = &page.body[page.body.find("History").expect("a history")..];
    assert!(
        history.contains("Mon 2 Mar, 10:00 → Mon 2 Mar, 10:30"),
        "{history}"
    );
    assert!(!history.contains("cancelled → booked"), "{history}");
    app.stop().await;
}

async fn the_week_is_one_practitioners_unless_all_are_asked_for(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &two_practitioners()).await;
    let client = app.signed_in(&org, Role::FrontDesk).await;
    let christine = id(&app, &org, Kind::Practitioner, "christine").await;
    let omar = id(&app, &org, Kind::Practitioner, "omar").await;
    let columns = |body: &str, p: i64| {
        body.matches(&format!("data-practitioner=\"{p}\" data-date="))
            .count()
    };

    let week = client
        .get("/o/acme/admin/book?view=week&date=2026-03-04")
        .await;
    assert_eq!(week.status, StatusCode::OK, "{}", week.body);
    let (c, o) = (columns(&week.body, christine), columns(&week.body, omar));
    assert!((c, o) == (7, 0) || (c, o) == (0, 7), "{c} {o}");
    // One way to switch: the day and week links, the week current.
    assert!(week.contains("class=\"segmented\""));
    assert!(week.contains("aria-current=\"page\">Week</a>"));

    let all = client
        .get("/o/acme/admin/book?view=week&date=2026-03-04&practitioner=all")
        .await;
    assert_eq!(
        (columns(&all.body, christine), columns(&all.body, omar)),
        (7, 7)
    );
    // Its links keep every practitioner.
    assert!(all.contains(
        "href=\"/o/acme/admin/book?view=week&#38;date=2026-03-11&#38;practitioner=all\""
    ));
    // The day view shows everyone by default.
    let day = client.get("/o/acme/admin/book?date=2026-03-04").await;
    assert_eq!(
        (columns(&day.body, christine), columns(&day.body, omar)),
        (1, 1)
    );
    app.stop().await;
}

/// The desk sees a patient's missed appointments as it books them: beside the patient's
/// name in the form's list, and under the list once the patient is chosen.
async fn the_booking_form_shows_the_patients_no_shows(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let setup = scenario(
        include_bytes!("../../../slot-engine/tests/data/scenarios/basic.json"),
        |s| {
            s["patients"] = json!([
                {"id": "ada", "first_name": "Ada", "last_name": "Lane", "email": "ada@example.com"},
                {"id": "bo", "first_name": "Bo", "last_name": "Reyes", "email": "bo@example.com"}
            ]);
            s["appointments"] = json!([
                {"practitioner": "christine", "patient": "bo", "start": "2026-02-23T09:30:00-05:00",
                 "end": "2026-02-23T10:00:00-05:00", "status": "no_show"},
                {"practitioner": "christine", "patient": "bo", "start": "2026-02-24T09:30:00-05:00",
                 "end": "2026-02-24T10:00:00-05:00", "status": "no_show"},
                {"practitioner": "christine", "patient": "ada", "start": "2026-02-25T09:30:00-05:00",
                 "end": "2026-02-25T10:00:00-05:00", "status": "completed"}
            ]);
        },
    );
    let org = app.import("acme", &setup).await;
    let client = app.signed_in(&org, Role::FrontDesk).await;
    let bo = id(&app, &org, Kind::Patient, "bo").await;
    let ada = id(&app, &org, Kind::Patient, "ada").await;
    let found = client
        .post_form(
            "/o/acme/admin/book/new",
            &[
                ("action", "find"),
                ("patient_q", "example.com"),
                ("date", "2026-03-02"),
            ],
        )
        .await;
    assert_eq!(found.status, StatusCode::OK);
    assert!(
        found.contains(&format!(
            "<option value=\"{bo}\">Bo Reyes · bo@example.com · 2 no-shows</option>"
        )),
        "{}",
        found.body
    );
    assert!(found.contains(&format!(
        "<option value=\"{ada}\">Ada Lane · ada@example.com</option>"
    )));
    // Bo chosen: the count is said under the list.
    let chosen = client
        .post_form(
            "/o/acme/admin/book/new",
            &[
                ("action", "find"),
                ("patient_q", "reyes"),
                ("date", "2026-03-02"),
            ],
        )
        .await;
    assert!(
        chosen.contains("<strong>2 missed appointments</strong> (marked no-show)."),
        "{}",
        chosen.body
    );
    // The search API gives the same count, for the combobox.
    let api = client
        .api(Method::GET, "/api/v1/orgs/acme/patients?q=reyes", None)
        .await
        .json();
    assert_eq!(api[0]["no_show_count"], 2, "{api}");
    app.stop().await;
}

both!(
    free_times_link_to_the_booking_form_filled_in,
    a_booking_needs_a_patient_and_blocked_time_is_explicit_and_audited,
    the_patient_search_answers_for_the_callers_organisation_only,
    a_single_search_result_is_chosen,
    the_booking_form_shows_the_patients_no_shows,
    moving_changes_start_practitioner_and_length_through_the_engine,
    the_week_is_one_practitioners_unless_all_are_asked_for,
);
