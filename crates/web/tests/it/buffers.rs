//! Buffers around appointments (docs/scenario.md, *Buffers (v2)*) through the pages and
//! the API: a service's buffers and "weekly series online" on the admin form and in the
//! API, a staff booking that keeps its service's buffers, the bands the appointment
//! book draws for them, and the setup check's buffer reasons.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use slot_engine::{Model, Scenario};
use store::keys::Kind;
use store::staff::Role;

use crate::both;
use crate::support::{Backend, TestApp};

/// buffers.json: Mo Chen works 09:00–12:00 on Monday 2 March 2026 in Toronto, with
/// time off from 12:00; the 30-minute deep tissue massage keeps 5 minutes before and 15
/// after; an earlier booking from 10:00 to 10:30 keeps 10 minutes after. With a
/// patient, Pat.
fn scenario() -> Scenario {
    let mut doc: Value = serde_json::from_slice(include_bytes!(
        "../../../slot-engine/tests/data/scenarios/buffers.json"
    ))
    .unwrap();
    doc["patients"] = json!([
        {"id": "pat", "first_name": "Pat", "last_name": "Lee", "email": "pat@example.com"}
    ]);
    Scenario::from_json(doc.to_string().as_bytes()).unwrap()
}

async fn admins_set_buffers_and_series_on_the_form(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &scenario()).await;
    let client = app.signed_in(&org, Role::Admin).await;
    let massage = app
        .id(&org, Kind::ScheduleType, "massage")
        .await
        .to_string();
    let page = client.get("/o/acme/admin/services").await;
    assert!(page.contains("<label for=\"buffer_before_minutes\">Buffer before (minutes)</label>"));
    assert!(page.contains("<label for=\"buffer_after_minutes\">Buffer after (minutes)</label>"));
    assert!(page.contains("Patients may book it online as a weekly series"));
    // The imported massage's buffers are in the list.
    assert!(page.contains("5 min before, 15 min after"), "{}", page.body);

    // Out of range and not a number: each said next to its field, nothing saved, the
    // values typed kept.
    let refused = client
        .post_form(
            "/o/acme/admin/services",
            &[
                ("name", "Hot stone massage"),
                ("duration_minutes", "60"),
                ("portal_conflicts", "1"),
                ("buffer_before_minutes", "ten"),
                ("buffer_after_minutes", "1441"),
                ("schedule_type_ids", &massage),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.contains("id=\"buffer_before_minutes-error\""),
        "{}",
        refused.body
    );
    assert!(refused.contains("Enter the buffer before in minutes as a whole number"));
    assert!(
        refused.contains("id=\"buffer_after_minutes-error\""),
        "{}",
        refused.body
    );
    assert!(refused.contains("Enter the buffer after in minutes, from 0 to 1440."));
    assert!(refused.contains("value=\"ten\"") && refused.contains("value=\"1441\""));
    let listed = client
        .api(Method::GET, "/api/v1/orgs/acme/services", None)
        .await
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 1, "nothing saved");

    // Saved: the API answers with the three fields.
    let created = client
        .post_form(
            "/o/acme/admin/services",
            &[
                ("name", "Hot stone massage"),
                ("duration_minutes", "60"),
                ("book_from_portal", "on"),
                ("portal_conflicts", "1"),
                ("buffer_before_minutes", "0"),
                ("buffer_after_minutes", "20"),
                ("allow_series", "on"),
                ("schedule_type_ids", &massage),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let id = app.id(&org, Kind::Service, "hot-stone-massage").await;
    let path = format!("/api/v1/orgs/acme/services/{id}");
    let saved = client.api(Method::GET, &path, None).await.json();
    assert_eq!(saved["buffer_before_minutes"], 0);
    assert_eq!(saved["buffer_after_minutes"], 20);
    assert_eq!(saved["allow_series"], true);
    let edit = client.get(&format!("/o/acme/admin/services/{id}")).await;
    assert!(edit.contains(
        "name=\"buffer_after_minutes\" type=\"number\" min=\"0\" max=\"1440\" value=\"20\""
    ));
    assert!(edit.contains("name=\"allow_series\" value=\"on\" checked"));
    // Blank buffers are none; an unticked box is false.
    let cleared = client
        .post_form(
            &format!("/o/acme/admin/services/{id}"),
            &[
                ("name", "Hot stone massage"),
                ("duration_minutes", "60"),
                ("portal_conflicts", "1"),
                ("buffer_before_minutes", ""),
                ("buffer_after_minutes", ""),
                ("schedule_type_ids", &massage),
            ],
        )
        .await;
    assert_eq!(cleared.status, StatusCode::SEE_OTHER, "{}", cleared.body);
    let saved = client.api(Method::GET, &path, None).await.json();
    assert_eq!(
        (
            &saved["buffer_before_minutes"],
            &saved["buffer_after_minutes"],
            &saved["allow_series"]
        ),
        (&json!(0), &json!(0), &json!(false))
    );
    app.stop().await;
}

async fn the_api_carries_buffers_and_refuses_them_out_of_range_by_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("acme").await;
    let client = app.signed_in(&org, Role::Admin).await;
    let minimal = client
        .created(
            "/api/v1/orgs/acme/services",
            json!({"name": "Follow-up", "duration_minutes": 30}),
        )
        .await;
    assert_eq!(minimal["buffer_before_minutes"], 0);
    assert_eq!(minimal["buffer_after_minutes"], 0);
    assert_eq!(minimal["allow_series"], false);
    let made = client
        .created(
            "/api/v1/orgs/acme/services",
            json!({"name": "Massage", "duration_minutes": 60, "buffer_before_minutes": 5,
                   "buffer_after_minutes": 1440, "allow_series": true}),
        )
        .await;
    assert_eq!(made["buffer_before_minutes"], 5);
    assert_eq!(made["buffer_after_minutes"], 1440);
    assert_eq!(made["allow_series"], true);
    for (body, field) in [
        (
            json!({"name": "X", "duration_minutes": 30, "buffer_before_minutes": -1}),
            "buffer_before_minutes",
        ),
        (
            json!({"name": "X", "duration_minutes": 30, "buffer_after_minutes": 1441}),
            "buffer_after_minutes",
        ),
        (
            json!({"name": "X", "duration_minutes": 30, "buffer_after_minutes": "ten"}),
            "buffer_after_minutes",
        ),
        (
            json!({"name": "X", "duration_minutes": 30, "allow_series": "yes"}),
            "allow_series",
        ),
    ] {
        let refused = client
            .api(Method::POST, "/api/v1/orgs/acme/services", Some(body))
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert_eq!(refused.json()["error"]["field"], field, "{}", refused.body);
    }
    let id = made["id"].as_i64().unwrap();
    let updated = client
        .api(
            Method::PUT,
            &format!("/api/v1/orgs/acme/services/{id}"),
            Some(json!({"name": "Massage", "duration_minutes": 60, "buffer_after_minutes": 10})),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    let updated = updated.json();
    assert_eq!(
        (
            &updated["buffer_before_minutes"],
            &updated["buffer_after_minutes"],
            &updated["allow_series"]
        ),
        (&json!(0), &json!(10), &json!(false))
    );
    // The OpenAPI document describes the three fields, in the answer and the body.
    let doc = client.get("/api/openapi.json").await.json();
    for schema in ["ServiceDto", "ServiceBody"] {
        let properties = &doc["components"]["schemas"][schema]["properties"];
        for field in [
            "buffer_before_minutes",
            "buffer_after_minutes",
            "allow_series",
        ] {
            assert!(properties.get(field).is_some(), "{schema}.{field}");
        }
    }
    app.stop().await;
}

async fn the_book_draws_buffers_and_a_staff_booking_keeps_its_services(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &scenario()).await;
    let client = app.signed_in(&org, Role::FrontDesk).await;
    let mo = app.id(&org, Kind::Practitioner, "mo").await;
    let deep = app.id(&org, Kind::Service, "deep").await;
    let pat = app.id(&org, Kind::Patient, "pat").await;
    // 09:30 with the massage: its 15 minutes after reach the 10:00 booking, as
    // staff-checks.json says; the desk is told so.
    let refused = client
        .api(
            Method::POST,
            "/api/v1/orgs/acme/appointments",
            Some(json!({"practitioner": mo, "patient": pat, "service": deep,
                        "start": "2026-03-02T09:30:00-05:00"})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(
        refused.body.contains("(in the buffer kept free around it)"),
        "{}",
        refused.body
    );
    let made = client
        .created(
            "/api/v1/orgs/acme/appointments",
            json!({"practitioner": mo, "patient": pat, "service": deep,
                   "start": "2026-03-02T09:00:00-05:00"}),
        )
        .await;
    assert_eq!(made["buffer_before_minutes"], 5, "{made}");
    assert_eq!(made["buffer_after_minutes"], 15);
    let listed = client
        .api(
            Method::GET,
            "/api/v1/orgs/acme/appointments?from=2026-03-02&to=2026-03-02",
            None,
        )
        .await
        .json();
    let kept: Vec<(Value, Value)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["buffer_before_minutes"].clone(),
                a["buffer_after_minutes"].clone(),
            )
        })
        .collect();
    assert_eq!(kept, [(json!(5), json!(15)), (json!(0), json!(10))]);

    let book = client
        .get("/o/acme/admin/book?view=day&date=2026-03-02")
        .await;
    assert_eq!(book.status, StatusCode::OK);
    // The 09:00 massage: a band for its 5 minutes before (the 08:45 row) and for its
    // 15 after (09:30), in its lane, placed by classes like the appointment itself.
    assert!(
        book.contains("<div class=\"buffer-band before r-1 s-1 l-1\" title=\"5 min buffer before\"><span class=\"visually-hidden\">5 min buffer before</span></div>"),
        "{}",
        book.body
    );
    assert!(
        book.contains(
            "<div class=\"buffer-band after r-4 s-1 l-1\" title=\"15 min buffer after\">"
        )
    );
    assert!(
        book.contains("title=\"10 min buffer after\""),
        "the earlier booking's"
    );
    // No style attribute anywhere: the page's policy forbids them.
    assert!(!book.body.contains(" style="));
    // The list under the grid says them in words.
    assert!(book.contains("(5 min buffer before, 15 min buffer after)"));
    assert!(book.contains("(10 min buffer after)"));
    app.stop().await;
}

async fn the_setup_check_says_when_a_buffer_refuses_a_time(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let scenario = scenario();
    let org = app.import("acme", &scenario).await;
    let client = app.signed_in(&org, Role::FrontDesk).await;
    let mo = app.id(&org, Kind::Practitioner, "mo").await;
    let deep = app.id(&org, Kind::Service, "deep").await;
    let model = Model::new(&scenario).unwrap();
    let query = &model.query().unwrap().portal;
    let mo_ix = model.practitioner_ix("mo").unwrap();
    for time in ["09:30", "09:45", "10:15", "10:30", "10:45", "11:30"] {
        let answer = client
            .api(
                Method::POST,
                "/api/v1/orgs/acme/setup-check/explain",
                Some(json!({"service": deep, "practitioner": mo, "date": "2026-03-02", "time": time})),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let answer = answer.json();
        let start = format!("2026-03-02T{time}:00-05:00").parse().unwrap();
        match model.check(query, mo_ix, start) {
            Ok(_) => assert_eq!(answer["bookable"], true, "{time}: {answer}"),
            Err(rejection) => {
                assert_eq!(answer["rule"], rejection.rule.number(), "{time}");
                assert_eq!(answer["reason"], rejection.reason, "{time}");
            }
        }
    }
    let noon = client
        .api(
            Method::POST,
            "/api/v1/orgs/acme/setup-check/explain",
            Some(
                json!({"service": deep, "practitioner": mo, "date": "2026-03-02", "time": "11:30"}),
            ),
        )
        .await
        .json();
    assert_eq!(noon["rule"], 10);
    assert_eq!(
        noon["reason"],
        "the 15-minute buffer after 11:30–12:00 meets time off: Mo Chen has time off from \
         2026-03-02 12:00 to 2026-03-02 13:00"
    );
    // The page's form says the same, in its words for dates.
    let page = client
        .get(&format!(
            "/o/acme/admin/setup-check?service={deep}&practitioner={mo}&date=2026-03-02&time=11:30"
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.contains(
            "Mon 2 Mar 2026, 11:30 EST: The 15-minute buffer after 11:30–12:00 meets time off: \
             Mo Chen has time off from Mon 2 Mar 2026 12:00 to Mon 2 Mar 2026 13:00."
        ),
        "{}",
        page.body
    );
    app.stop().await;
}

both!(
    admins_set_buffers_and_series_on_the_form,
    the_api_carries_buffers_and_refuses_them_out_of_range_by_field,
    the_book_draws_buffers_and_a_staff_booking_keeps_its_services,
    the_setup_check_says_when_a_buffer_refuses_a_time,
);
