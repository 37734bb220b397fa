//! Patients: search, create and edit through the pages and the API, with field errors
//! and nothing saved; the patient's page with their appointments and the Portal access
//! section; the audit trail; front desk only.

use reqwest::{Method, StatusCode};
use serde_json::json;
use store::keys::Kind;
use store::staff::Role;

use crate::book::{audit, basic, id, scenario};
use crate::both;
use crate::support::{Backend, TestApp};

async fn the_front_desk_adds_finds_and_edits_patients_through_the_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &basic()).await;
    let client = app.signed_in(&org, Role::FrontDesk).await;
    let list = client.get("/o/acme/admin/patients").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.contains("Lane, Ada") && list.contains("Reyes, Bo"));
    // A bad email: named next to the field, what was typed kept, nothing saved.
    let bad = client
        .post_form(
            "/o/acme/admin/patients",
            &[
                ("first_name", "Cleo"),
                ("last_name", "Park"),
                ("email", "cleo at example"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.contains("id=\"email-error\"") && bad.contains("value=\"Cleo\""));
    let created = client
        .post_form(
            "/o/acme/admin/patients",
            &[
                ("first_name", "Cleo"),
                ("last_name", "Park"),
                ("email", "Cleo@Example.com"),
                ("phone", "555-0100"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let page = client.get(&created.location()).await;
    assert!(page.contains("<h1>Cleo Park</h1>"));
    assert!(page.contains("value=\"cleo@example.com\""));
    assert!(page.contains("id=\"portal-access\""));
    assert!(page.contains("Every practitioner bookable in the portal."));
    // The section leads to the portal access page, which answers.
    let access = format!("{}/portal-access", created.location());
    assert!(
        page.contains(&format!("href=\"{access}\"")),
        "{}",
        page.body
    );
    assert_eq!(client.get(&access).await.status, StatusCode::OK);
    assert!(page.contains("No appointments yet."));
    // Search.
    let found = client.get("/o/acme/admin/patients?q=park").await;
    assert!(found.contains("Park, Cleo") && !found.contains("Lane, Ada"));
    let none = client.get("/o/acme/admin/patients?q=nobody").await;
    assert!(none.contains("No patient matches"));
    // Edit.
    let saved = client
        .post_form(
            &created.location(),
            &[
                ("first_name", "Cleo"),
                ("last_name", "Park-Lee"),
                ("email", "cleo@example.com"),
                ("phone", ""),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let page = client.get(&saved.location()).await;
    assert!(page.contains("Saved.") && page.contains("<h1>Cleo Park-Lee</h1>"));
    let refused = client
        .post_form(
            &created.location(),
            &[
                ("first_name", ""),
                ("last_name", "Park"),
                ("email", "cleo@example.com"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.contains("id=\"first_name-error\""));
    let patient: i64 = created
        .location()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let mut conn = app.db.conn().await.unwrap();
    assert_eq!(
        store::patient::get(conn.exec(), org.id, patient)
            .await
            .unwrap()
            .last_name,
        "Park-Lee"
    );
    drop(conn);
    let actions: Vec<String> = audit(&app, &org, "patient", patient)
        .await
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    assert_eq!(actions, ["patient.create", "patient.update"]);
    app.stop().await;
}

async fn the_patients_page_lists_appointments_and_portal_access(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app
        .import(
            "acme",
            &scenario(
                include_bytes!("../../../slot-engine/tests/data/scenarios/window-and-filters.json"),
                |_| {},
            ),
        )
        .await;
    let client = app.signed_in(&org, Role::FrontDesk).await;
    let pat = id(&app, &org, Kind::Patient, "pat").await;
    let ann = id(&app, &org, Kind::Practitioner, "ann").await;
    let session = id(&app, &org, Kind::Service, "session").await;
    // One appointment before the clock (past), one after (coming).
    app.clock.set("2026-02-02T12:00:00Z".parse().unwrap());
    for start in ["2026-02-02T09:00:00-08:00", "2026-02-03T09:00:00-08:00"] {
        let booked = client
            .api(
                Method::POST,
                "/api/v1/orgs/acme/appointments",
                Some(json!({"practitioner": ann, "patient": pat, "service": session, "start": start})),
            )
            .await;
        assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.body);
    }
    app.clock.set("2026-02-02T18:00:00Z".parse().unwrap());
    let page = client.get(&format!("/o/acme/admin/patients/{pat}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let coming = page.body.find("<h3>Coming</h3>").unwrap();
    let past = page.body.find("<h3>Past</h3>").unwrap();
    let tue = page.body.find("Tue 3 Feb 2026").unwrap();
    let mon = page.body.find("Mon 2 Feb 2026").unwrap();
    assert!(coming < tue && tue < past && past < mon, "{}", page.body);
    assert!(page.contains("Counselling session") && page.contains("09:00–09:50"));
    assert!(page.contains(&format!("/o/acme/admin/book/new?patient={pat}")));
    // Portal access: the practitioners this patient may book.
    let section = &page.body[page.body.find("id=\"portal-access\"").unwrap()..];
    for name in ["<li>Ann</li>", "<li>Bo</li>", "<li>Cy</li>", "<li>Di</li>"] {
        assert!(section.contains(name), "{name}");
    }
    assert!(!section.contains("<li>Ed</li>"));
    // The API: the same patient with their appointments and practitioners.
    let one = client
        .api(
            Method::GET,
            &format!("/api/v1/orgs/acme/patients/{pat}"),
            None,
        )
        .await;
    assert_eq!(one.status, StatusCode::OK);
    let one = one.json();
    assert_eq!(one["patient"]["email"], "pat@example.com");
    assert_eq!(one["appointments"].as_array().unwrap().len(), 2);
    assert_eq!(one["appointments"][0]["start"], "2026-02-03T09:00:00-08:00");
    assert_eq!(one["available_practitioners"].as_array().unwrap().len(), 4);
    app.stop().await;
}

async fn the_patients_api_creates_searches_and_saves_with_field_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &basic()).await;
    let client = app.signed_in(&org, Role::FrontDesk).await;
    let created = client
        .api(
            Method::POST,
            "/api/v1/orgs/acme/patients",
            Some(json!({"first_name": "Dee", "last_name": "Ng", "email": "dee@example.com"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let dee = created.json()["id"].as_i64().unwrap();
    assert_eq!(created.json()["key"], "dee-ng");
    let bad = client
        .api(
            Method::PUT,
            &format!("/api/v1/orgs/acme/patients/{dee}"),
            Some(json!({"first_name": "Dee", "last_name": "", "email": "dee@example.com"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["error"]["field"], "last_name");
    let saved = client
        .api(Method::PUT, &format!("/api/v1/orgs/acme/patients/{dee}"), Some(json!({"first_name": "Dee", "last_name": "Ng", "email": "dee@example.com", "phone": "555-0199"})))
        .await;
    assert_eq!(saved.json()["phone"], "555-0199");
    let found = client
        .api(Method::GET, "/api/v1/orgs/acme/patients?q=ng", None)
        .await
        .json();
    assert_eq!(found.as_array().unwrap().len(), 1);
    let all = client
        .api(Method::GET, "/api/v1/orgs/acme/patients", None)
        .await
        .json();
    assert_eq!(all.as_array().unwrap().len(), 3);
    let limited = client
        .api(Method::GET, "/api/v1/orgs/acme/patients?limit=0", None)
        .await;
    assert_eq!(limited.json()["error"]["field"], "limit");
    // Practitioners do not handle patients.
    let practitioner = app.signed_in(&org, Role::Practitioner).await;
    assert_eq!(
        practitioner
            .api(Method::GET, "/api/v1/orgs/acme/patients", None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        practitioner.get("/o/acme/admin/patients").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        practitioner
            .get(&format!("/o/acme/admin/patients/{dee}"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    app.stop().await;
}

both!(
    the_front_desk_adds_finds_and_edits_patients_through_the_pages,
    the_patients_page_lists_appointments_and_portal_access,
    the_patients_api_creates_searches_and_saves_with_field_errors,
);
