//! Changing hours over time without repainting, over HTTP: *New record from…* and
//! *Temporary change…* through the API and the admin pages (the list's links, the
//! editor's forms, the forms' own pages), each copying the record and changing nothing
//! bookable; bad input named and nothing changed; another organisation's record not
//! found; CSRF; and the same roles as the rest of availability editing (admins write,
//! the front desk reads through the API, practitioners neither).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use slot_engine::{Date, Scenario};
use store::Organisation;
use store::keys::Kind;
use store::staff::Role;
use store::window::{SlotRequest, open_slots};

use crate::both;
use crate::support::{Backend, Client, TestApp};

/// Christine's record from Mon 5 Jan 2026 (open-ended) at Ottawa (not her home
/// clinic), every 30 minutes (the organisation's step is 15), Monday and Wednesday
/// mornings and Friday afternoons, with part of them online.
fn scenario(name: &str) -> Scenario {
    let doc = json!({
        "version": 1,
        "settings": {"slot_step_minutes": 15, "min_notice_minutes": 0, "max_days_ahead": 400},
        "clinics": [{"id": "toronto", "name": "Toronto", "timezone": "America/Toronto"},
                    {"id": "ottawa", "name": "Ottawa", "timezone": "America/Toronto"}],
        "schedule_types": [{"id": "physio", "name": "Physiotherapy", "clinic": null}],
        "practitioners": [{"id": "christine", "name": name, "type": "physio",
            "home_clinic": "toronto", "schedule_types": ["physio"],
            "availability": [{"start_date": "2026-01-05", "clinic": "ottawa", "slot_step_minutes": 30,
                "blocks": [{"days": ["mon", "wed"], "start": "09:00", "end": "12:00", "schedule_type": "physio"},
                           {"days": ["fri"], "start": "13:00", "end": "17:00", "schedule_type": "physio"}],
                "portal_blocks": [{"days": ["mon"], "start": "09:00", "end": "11:00"},
                                  {"days": ["fri"], "start": "13:00", "end": "15:00"}]}]}],
        "services": [{"id": "visit", "name": "Visit", "duration_minutes": 30,
                      "book_from_portal": true, "schedule_types": ["physio"]}]
    });
    Scenario::from_json(doc.to_string().as_bytes()).unwrap()
}

struct Setup {
    org: Organisation,
    christine: i64,
    service: i64,
    record: i64,
}

async fn setup(app: &TestApp, slug: &str, name: &str) -> Setup {
    let org = app.import(slug, &scenario(name)).await;
    let christine = app.id(&org, Kind::Practitioner, "christine").await;
    let service = app.id(&org, Kind::Service, "visit").await;
    let record = {
        let mut conn = app.db.conn().await.unwrap();
        store::availability::list(conn.exec(), org.id, christine)
            .await
            .unwrap()[0]
            .id
    };
    Setup {
        org,
        christine,
        service,
        record,
    }
}

fn api(s: &Setup) -> String {
    format!(
        "/api/v1/orgs/{}/practitioners/{}/availability",
        s.org.slug, s.christine
    )
}

fn pages(s: &Setup) -> String {
    format!(
        "/o/{}/admin/practitioners/{}/availability",
        s.org.slug, s.christine
    )
}

/// The portal's open slots of the service from Mon 2 Feb to Sun 29 Mar 2026.
async fn slots(app: &TestApp, s: &Setup) -> Vec<String> {
    let mut conn = app.db.conn().await.unwrap();
    let (_, slots) = open_slots(
        &mut conn.exec(),
        &s.org,
        &SlotRequest {
            service: s.service,
            practitioners: None,
            from: Date::new(2026, 2, 2).unwrap(),
            to: Date::new(2026, 3, 29).unwrap(),
            now: "2026-02-01T12:00:00Z".parse().unwrap(),
            telehealth: false,
        },
    )
    .await
    .unwrap();
    slots.iter().map(|slot| slot.start_text()).collect()
}

/// The practitioner's records as the API lists them.
async fn listed(client: &Client, s: &Setup) -> Value {
    let list = client.api(Method::GET, &api(s), None).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    list.json()
}

/// A record's dates as the API shows them.
fn dates(record: &Value) -> (Value, Value) {
    (record["start_date"].clone(), record["end_date"].clone())
}

/// What a copy must keep of its record.
fn contents(record: &Value) -> Value {
    json!([
        record["blocks"],
        record["portal_blocks"],
        record["clinic_id"],
        record["slot_step_minutes"],
        record["practitioner_id"]
    ])
}

async fn the_api_splits_a_record_and_changes_nothing_bookable(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = setup(&app, "acme", "Christine Roy").await;
    let admin = app.signed_in(&s.org, Role::Admin).await;
    let bookable = slots(&app, &s).await;
    assert!(bookable.len() > 40, "{bookable:?}");
    let original = listed(&admin, &s).await[0].clone();
    assert!(
        original["portal_blocks"]
            .as_array()
            .is_some_and(|p| p.len() == 2)
    );

    // New record from Wed 18 Feb 2026.
    let made = admin
        .api(
            Method::POST,
            &format!("{}/{}/new-record-from", api(&s), s.record),
            Some(json!({"start_date": "2026-02-18"})),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let made = made.json();
    assert_eq!(made["ended"]["id"], s.record);
    assert_eq!(
        dates(&made["ended"]),
        (json!("2026-01-05"), json!("2026-02-17"))
    );
    assert_eq!(dates(&made["new"]), (json!("2026-02-18"), Value::Null));
    assert_eq!(contents(&made["new"]), contents(&original));
    assert_eq!(made["new"]["effective_slot_step_minutes"], 30);
    let list = listed(&admin, &s).await;
    assert_eq!(list, json!([made["ended"], made["new"]]));
    assert_eq!(
        slots(&app, &s).await,
        bookable,
        "the split changes nothing bookable"
    );

    // A temporary change inside the new record: before (the record), temporary, after.
    let new = made["new"]["id"].as_i64().unwrap();
    let made = admin
        .api(
            Method::POST,
            &format!("{}/{new}/temporary-change", api(&s)),
            Some(json!({"start_date": "2026-03-02", "end_date": "2026-03-06"})),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let made = made.json();
    assert_eq!(made["before"]["id"], new);
    assert_eq!(
        dates(&made["before"]),
        (json!("2026-02-18"), json!("2026-03-01"))
    );
    assert_eq!(
        dates(&made["temporary"]),
        (json!("2026-03-02"), json!("2026-03-06"))
    );
    assert_eq!(dates(&made["after"]), (json!("2026-03-07"), Value::Null));
    for piece in ["before", "temporary", "after"] {
        assert_eq!(contents(&made[piece]), contents(&original), "{piece}");
    }
    assert_eq!(listed(&admin, &s).await.as_array().unwrap().len(), 4);
    assert_eq!(slots(&app, &s).await, bookable);

    // From the temporary record's first date to its last: the whole record, refused.
    let temporary = made["temporary"]["id"].as_i64().unwrap();
    let refused = admin
        .api(
            Method::POST,
            &format!("{}/{temporary}/temporary-change", api(&s)),
            Some(json!({"start_date": "2026-03-02", "end_date": "2026-03-06"})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.json()["error"]["field"], "end_date");
    // At the start of the temporary record: no empty piece before it.
    let made = admin
        .api(
            Method::POST,
            &format!("{}/{temporary}/temporary-change", api(&s)),
            Some(json!({"start_date": "2026-03-02", "end_date": "2026-03-03"})),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert_eq!(made.json()["before"], Value::Null);
    assert_eq!(made.json()["after"]["id"], temporary);
    assert_eq!(
        dates(&made.json()["after"]),
        (json!("2026-03-04"), json!("2026-03-06"))
    );

    // Who did what is in the audit log, under the record split.
    let mut conn = app.db.conn().await.unwrap();
    let audit = store::audit::recent(
        conn.exec(),
        s.org.id,
        Some(("availability_record", s.record)),
        10,
    )
    .await
    .unwrap();
    assert_eq!(audit[0].action, "availability.new_record_from");
    let details: Value = serde_json::from_str(&audit[0].details).unwrap();
    assert_eq!(details["new"], new);
    assert_eq!(details["start_date"], "2026-02-18");
    let audit = store::audit::recent(
        conn.exec(),
        s.org.id,
        Some(("availability_record", new)),
        10,
    )
    .await
    .unwrap();
    assert_eq!(audit[0].action, "availability.temporary_change");
    drop(conn);

    // Described in the OpenAPI document, bodies closed to unknown fields.
    let openapi = admin.get("/api/openapi.json").await.json();
    for (route, body) in [
        ("new-record-from", "NewRecordFromBody"),
        ("temporary-change", "TemporaryChangeBody"),
    ] {
        let key =
            format!("/api/v1/orgs/{{slug}}/practitioners/{{id}}/availability/{{record}}/{route}");
        assert!(openapi["paths"][&key]["post"].is_object(), "{key}");
        assert!(openapi["components"]["schemas"][body].is_object(), "{body}");
    }
    app.stop().await;
}

async fn bad_input_through_the_api_is_named_and_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = setup(&app, "acme", "Christine Roy").await;
    let admin = app.signed_in(&s.org, Role::Admin).await;
    let before = app.snapshot(&s.org).await;
    let split = format!("{}/{}/new-record-from", api(&s), s.record);
    let temporary = format!("{}/{}/temporary-change", api(&s), s.record);
    for (path, body, field, says) in [
        (&split, json!({}), "start_date", "is required"),
        (
            &split,
            json!({"start_date": ""}),
            "start_date",
            "is required",
        ),
        (
            &split,
            json!({"start_date": "2026-02-30"}),
            "start_date",
            "",
        ),
        (
            &split,
            json!({"start_date": 20260218}),
            "start_date",
            "must be a string",
        ),
        (
            &split,
            json!({"start_date": "2026-02-18", "end_date": "2026-02-20"}),
            "end_date",
            "is not a field of this request",
        ),
        (
            &split,
            json!({"start_date": "2026-01-05"}),
            "start_date",
            "is this record's first day, Mon 5 Jan 2026",
        ),
        (
            &split,
            json!({"start_date": "2025-12-01"}),
            "start_date",
            "is before this record starts, on Mon 5 Jan 2026",
        ),
        (
            &temporary,
            json!({"start_date": "2026-03-02"}),
            "end_date",
            "is required",
        ),
        (
            &temporary,
            json!({"start_date": "2026-03-02", "end_date": "2026-03-01"}),
            "end_date",
            "is before the start date, Mon 2 Mar 2026",
        ),
        (
            &temporary,
            json!({"start_date": "2025-12-29", "end_date": "2026-01-09"}),
            "start_date",
            "is before this record starts, on Mon 5 Jan 2026: a temporary change must lie inside one record",
        ),
        (
            &temporary,
            json!({"start_date": "2026-03-02", "end_date": "2026-03-06", "clinic_id": 1}),
            "clinic_id",
            "is not a field of this request",
        ),
    ] {
        let refused = admin.api(Method::POST, path, Some(body.clone())).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            refused.body
        );
        let error = &refused.json()["error"];
        assert_eq!(error["field"], field, "{body}: {}", refused.body);
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(says), "{body}: {message}");
    }
    assert_eq!(app.snapshot(&s.org).await, before, "nothing changed");
    app.stop().await;
}

async fn only_admins_split_records_and_other_organisations_find_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = setup(&app, "acme", "Christine Roy").await;
    let other = setup(&app, "other", "Secret Practitioner").await;
    let admin = app.signed_in(&s.org, Role::Admin).await;
    let desk = app.signed_in(&s.org, Role::FrontDesk).await;
    let practitioner = app.signed_in(&s.org, Role::Practitioner).await;
    let before = app.snapshot(&s.org).await;
    let other_before = app.snapshot(&other.org).await;
    let calls = |s: &Setup, record: i64| {
        [
            (
                format!("{}/{record}/new-record-from", api(s)),
                json!({"start_date": "2026-02-18"}),
                format!("{}/{record}/new-record-from", pages(s)),
                vec![("start_date", "2026-02-18")],
            ),
            (
                format!("{}/{record}/temporary-change", api(s)),
                json!({"start_date": "2026-03-02", "end_date": "2026-03-06"}),
                format!("{}/{record}/temporary-change", pages(s)),
                vec![("start_date", "2026-03-02"), ("end_date", "2026-03-06")],
            ),
        ]
    };
    // The front desk and practitioners: refused, as for the rest of availability
    // editing (the front desk may still read the records through the API).
    for (role, client) in [("front desk", &desk), ("practitioner", &practitioner)] {
        for (api_path, body, page_path, fields) in calls(&s, s.record) {
            let refused = client.api(Method::POST, &api_path, Some(body)).await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{role} {api_path}");
            let refused = client.post_form(&page_path, &fields).await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{role} {page_path}");
            let refused = client.get(&page_path).await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{role} {page_path}");
        }
    }
    assert_eq!(
        desk.api(Method::GET, &api(&s), None).await.status,
        StatusCode::OK
    );

    // Acme's admin with the other organisation's record: under the other
    // practitioner, and under acme's own. Not found, and nothing changes.
    let theirs = Setup {
        org: s.org.clone(),
        christine: other.christine,
        service: other.service,
        record: other.record,
    };
    for under in [&theirs, &s] {
        for (api_path, body, page_path, fields) in calls(under, other.record) {
            let refused = admin.api(Method::POST, &api_path, Some(body)).await;
            assert_eq!(
                refused.status,
                StatusCode::NOT_FOUND,
                "{api_path}: {}",
                refused.body
            );
            assert!(!refused.contains("Secret"));
            let refused = admin.post_form(&page_path, &fields).await;
            assert_eq!(
                refused.status,
                StatusCode::NOT_FOUND,
                "{page_path}: {}",
                refused.body
            );
            assert!(!refused.contains("Secret"));
            let refused = admin.get(&page_path).await;
            assert_eq!(refused.status, StatusCode::NOT_FOUND, "{page_path}");
            assert!(!refused.contains("Secret"));
        }
    }
    assert_eq!(app.snapshot(&s.org).await, before, "acme changed");
    assert_eq!(
        app.snapshot(&other.org).await,
        other_before,
        "the other organisation changed"
    );
    app.stop().await;
}

async fn the_pages_split_a_record_and_open_the_copy_to_paint(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = setup(&app, "acme", "Christine Roy").await;
    let admin = app.signed_in(&s.org, Role::Admin).await;
    let bookable = slots(&app, &s).await;
    let record = s.record;

    // The list links both, per record, and reads the dates in words.
    let list = admin.get(&pages(&s)).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.contains("from Mon 5 Jan 2026 (open-ended)"),
        "{}",
        list.body
    );
    assert!(list.contains(&format!("href=\"{}/{record}/new-record-from\"", pages(&s))));
    assert!(list.contains(&format!("href=\"{}/{record}/temporary-change\"", pages(&s))));
    // The editor has both forms, without JavaScript.
    let editor = admin.get(&format!("{}/{record}", pages(&s))).await;
    assert!(editor.contains("<h1>Christine Roy, from Mon 5 Jan 2026 (open-ended)</h1>"));
    assert!(editor.contains(&format!(
        "action=\"{}/{record}/new-record-from\"",
        pages(&s)
    )));
    assert!(editor.contains(&format!(
        "action=\"{}/{record}/temporary-change\"",
        pages(&s)
    )));
    assert!(
        editor.contains("min=\"2026-01-06\""),
        "a new record starts after the first day"
    );

    // A bad date: the form again, the message under its field, nothing changed.
    let before = app.snapshot(&s.org).await;
    let split = format!("{}/{record}/new-record-from", pages(&s));
    let form = admin.get(&split).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.contains("New record from a date, for Christine Roy"));
    let refused = admin
        .post_form(&split, &[("start_date", "2026-01-05")])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.contains(
            "<p class=\"field-error\" id=\"start_date-error\">is this record&#39;s first day, \
             Mon 5 Jan 2026"
        ),
        "{}",
        refused.body
    );
    assert!(
        refused.contains("value=\"2026-01-05\""),
        "keeps what was typed"
    );
    let temporary = format!("{}/{record}/temporary-change", pages(&s));
    let refused = admin
        .post_form(
            &temporary,
            &[("start_date", "2026-03-02"), ("end_date", "")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.contains("id=\"end_date-error\">is required"),
        "{}",
        refused.body
    );
    assert!(refused.contains("value=\"2026-03-02\""));
    // Without the CSRF token, or from another site: refused.
    let refused = admin
        .post_raw(&split, &[("start_date", "2026-02-18")], &[])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let token = admin.csrf_token(&split).await;
    let refused = admin
        .post_raw(
            &split,
            &[("_csrf", token.as_str()), ("start_date", "2026-02-18")],
            &[("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(app.snapshot(&s.org).await, before, "nothing changed");

    // New record from Wed 18 Feb: the copy opens in the editor.
    let made = admin
        .post_form(&split, &[("start_date", "2026-02-18")])
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let list = listed(&admin, &s).await;
    let new = list[1]["id"].as_i64().unwrap();
    assert_eq!(made.location(), format!("{}/{new}?made=new", pages(&s)));
    let editor = admin.get(&made.location()).await;
    assert!(editor.contains("<h1>Christine Roy, from Wed 18 Feb 2026 (open-ended)</h1>"));
    assert!(editor.contains("New record: a copy of the previous record"));
    assert_eq!(dates(&list[0]), (json!("2026-01-05"), json!("2026-02-17")));
    assert_eq!(contents(&list[0]), contents(&list[1]));
    assert_eq!(slots(&app, &s).await, bookable);

    // A temporary change from the editor's form: the temporary record opens.
    let made = admin
        .post_form(
            &format!("{}/{new}/temporary-change", pages(&s)),
            &[("start_date", "2026-03-02"), ("end_date", "2026-03-06")],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let list = listed(&admin, &s).await;
    let dated: Vec<(Value, Value)> = list.as_array().unwrap().iter().map(dates).collect();
    assert_eq!(
        dated,
        [
            (json!("2026-01-05"), json!("2026-02-17")),
            (json!("2026-02-18"), json!("2026-03-01")),
            (json!("2026-03-02"), json!("2026-03-06")),
            (json!("2026-03-07"), Value::Null),
        ]
    );
    let temporary = list[2]["id"].as_i64().unwrap();
    assert_eq!(
        made.location(),
        format!("{}/{temporary}?made=temporary", pages(&s))
    );
    let editor = admin.get(&made.location()).await;
    assert!(editor.contains("<h1>Christine Roy, from Mon 2 Mar 2026 to Fri 6 Mar 2026</h1>"));
    assert!(editor.contains("Temporary change: a copy of the record"));
    assert!(editor.contains("role=\"grid\""), "open for painting");
    assert_eq!(slots(&app, &s).await, bookable);

    // Painting the temporary record (here, clearing its grid) changes its dates only.
    let saved = admin
        .post_form(&format!("{}/{temporary}/grid", pages(&s)), &[])
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let now = slots(&app, &s).await;
    let gone: Vec<&String> = bookable.iter().filter(|t| !now.contains(t)).collect();
    assert!(!gone.is_empty());
    assert!(
        gone.iter()
            .all(|t| ("2026-03-02".."2026-03-07").contains(&&t[..10])),
        "{gone:?}"
    );
    assert!(now.iter().all(|t| bookable.contains(t)));
    app.stop().await;
}

both!(
    the_api_splits_a_record_and_changes_nothing_bookable,
    bad_input_through_the_api_is_named_and_changes_nothing,
    only_admins_split_records_and_other_organisations_find_nothing,
    the_pages_split_a_record_and_open_the_copy_to_paint,
);
