//! Issue 13: a patient created or edited with an address another patient of the
//! organisation has is not saved without a word. The form comes back naming the
//! patients with the address, linking to them, with a "save anyway" box (a parent and
//! a child may share one); the API answers 409 naming `email` and their ids unless
//! `allow_duplicate_email` is sent. Another organisation's patients never count, nor
//! show.

use reqwest::{Method, StatusCode};
use serde_json::json;
use store::Organisation;
use store::keys::Kind;
use store::staff::Role;

use crate::book::{audit, basic};
use crate::both;
use crate::support::{Backend, Client, TestApp};

both!(
    the_new_patient_form_warns_of_a_shared_address_and_saves_when_told,
    the_edit_form_warns_only_of_a_new_shared_address,
    the_api_refuses_a_shared_address_unless_allowed,
    another_organisations_patients_never_count_nor_show,
);

async fn count(app: &TestApp, org: &Organisation) -> usize {
    let mut conn = app.db.conn().await.unwrap();
    store::patient::search(conn.exec(), org.id, "", 500)
        .await
        .unwrap()
        .len()
}

async fn setup(backend: Backend) -> (TestApp, Organisation, Client, i64) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("acme", &basic()).await;
    let desk = app.signed_in(&org, Role::FrontDesk).await;
    let ada = app.id(&org, Kind::Patient, "ada").await;
    (app, org, desk, ada)
}

async fn the_new_patient_form_warns_of_a_shared_address_and_saves_when_told(backend: Backend) {
    let (app, org, desk, ada) = setup(backend).await;
    let before = count(&app, &org).await;
    let fields = [
        ("first_name", "Tom"),
        ("last_name", "Lane"),
        ("email", " ADA@Example.com "),
        ("phone", "555-0101"),
    ];
    let warned = desk.post_form("/o/acme/admin/patients", &fields).await;
    assert_eq!(warned.status, StatusCode::CONFLICT, "{}", warned.body);
    assert!(warned.contains("id=\"duplicate-email\""));
    assert!(warned.contains("another patient already has this email address"));
    assert!(warned.contains(&format!(
        "<a href=\"/o/acme/admin/patients/{ada}\">Ada Lane</a>"
    )));
    assert!(warned.contains("name=\"allow_duplicate_email\""));
    // What was typed stays in the form; nothing was saved.
    assert!(warned.contains("value=\"Tom\"") && warned.contains("value=\"555-0101\""));
    assert_eq!(count(&app, &org).await, before);
    // Ticked: saved, and the audit log says whose address it shares.
    let mut told = fields.to_vec();
    told.push(("allow_duplicate_email", "1"));
    let saved = desk.post_form("/o/acme/admin/patients", &told).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(count(&app, &org).await, before + 1);
    let tom: i64 = saved
        .location()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let entries = audit(&app, &org, "patient", tom).await;
    assert_eq!(entries[0].0, "patient.create");
    assert_eq!(entries[0].1["shares_email_with"], json!([ada]));
    // A third one is warned of both.
    let warned = desk
        .post_form(
            "/o/acme/admin/patients",
            &[
                ("first_name", "Una"),
                ("last_name", "Lane"),
                ("email", "ada@example.com"),
            ],
        )
        .await;
    assert_eq!(warned.status, StatusCode::CONFLICT);
    assert!(warned.contains("other patients already have this email address"));
    assert!(warned.contains(&format!("/o/acme/admin/patients/{tom}\"")));
    // A field error comes first, and no warning with it.
    let bad = desk
        .post_form(
            "/o/acme/admin/patients",
            &[
                ("first_name", ""),
                ("last_name", "Lane"),
                ("email", "ada@example.com"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.contains("id=\"first_name-error\"") && !bad.contains("id=\"duplicate-email\""));
    // A new address: saved at once.
    let fresh = desk
        .post_form(
            "/o/acme/admin/patients",
            &[
                ("first_name", "Vi"),
                ("last_name", "Park"),
                ("email", "vi@example.com"),
            ],
        )
        .await;
    assert_eq!(fresh.status, StatusCode::SEE_OTHER);
    assert_eq!(count(&app, &org).await, before + 2);
    app.stop().await;
}

async fn the_edit_form_warns_only_of_a_new_shared_address(backend: Backend) {
    let (app, org, desk, ada) = setup(backend).await;
    let bo = app.id(&org, Kind::Patient, "bo").await;
    let path = format!("/o/acme/admin/patients/{bo}");
    let to_ada = [
        ("first_name", "Bo"),
        ("last_name", "Reyes"),
        ("email", "ada@example.com"),
        ("phone", ""),
    ];
    let warned = desk.post_form(&path, &to_ada).await;
    assert_eq!(warned.status, StatusCode::CONFLICT, "{}", warned.body);
    assert!(warned.contains(&format!(
        "<a href=\"/o/acme/admin/patients/{ada}\">Ada Lane</a>"
    )));
    // The patient being edited is not among them.
    assert!(!warned.contains(&format!("/o/acme/admin/patients/{bo}\">")));
    let mut conn = app.db.conn().await.unwrap();
    assert_eq!(
        store::patient::get(conn.exec(), org.id, bo)
            .await
            .unwrap()
            .email,
        "bo@example.com"
    );
    drop(conn);
    let mut told = to_ada.to_vec();
    told.push(("allow_duplicate_email", "on"));
    let saved = desk.post_form(&path, &told).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    // Saving again with the same (shared) address asks nothing more.
    let again = desk
        .post_form(
            &path,
            &[
                ("first_name", "Bo"),
                ("last_name", "Reyes"),
                ("email", "Ada@example.com"),
                ("phone", "555-0102"),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    let mut conn = app.db.conn().await.unwrap();
    let saved = store::patient::get(conn.exec(), org.id, bo).await.unwrap();
    assert_eq!(
        (saved.email.as_str(), saved.phone.as_str()),
        ("ada@example.com", "555-0102")
    );
    app.stop().await;
}

async fn the_api_refuses_a_shared_address_unless_allowed(backend: Backend) {
    let (app, org, desk, ada) = setup(backend).await;
    let before = count(&app, &org).await;
    let body = json!({"first_name": "Tom", "last_name": "Lane", "email": "Ada@example.com"});
    let refused = desk
        .api(
            Method::POST,
            "/api/v1/orgs/acme/patients",
            Some(body.clone()),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    let error = &refused.json()["error"];
    assert_eq!(error["code"], "duplicate");
    assert_eq!(error["field"], "email");
    assert_eq!(error["details"]["existing_patient_ids"], json!([ada]));
    assert!(error["message"].as_str().unwrap().contains("Ada Lane"));
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("allow_duplicate_email")
    );
    assert_eq!(count(&app, &org).await, before);
    // `false` is the same as not sending it; a wrong type is refused naming it.
    let mut not_allowed = body.clone();
    not_allowed["allow_duplicate_email"] = json!(false);
    let r = desk
        .api(
            Method::POST,
            "/api/v1/orgs/acme/patients",
            Some(not_allowed),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let mut wrong = body.clone();
    wrong["allow_duplicate_email"] = json!("yes");
    let r = desk
        .api(Method::POST, "/api/v1/orgs/acme/patients", Some(wrong))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["error"]["field"], "allow_duplicate_email");
    let mut allowed = body.clone();
    allowed["allow_duplicate_email"] = json!(true);
    let created = desk
        .api(Method::POST, "/api/v1/orgs/acme/patients", Some(allowed))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.json()["email"], "ada@example.com");
    let tom = created.json()["id"].as_i64().unwrap();
    // Editing: a new shared address is refused; the same address again is not.
    let bo = app.id(&org, Kind::Patient, "bo").await;
    let path = format!("/api/v1/orgs/acme/patients/{bo}");
    let r = desk
        .api(
            Method::PUT,
            &path,
            Some(json!({"first_name": "Bo", "last_name": "Reyes", "email": "ada@example.com"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(
        r.json()["error"]["details"]["existing_patient_ids"],
        json!([ada, tom])
    );
    let r = desk
        .api(
            Method::PUT,
            &format!("/api/v1/orgs/acme/patients/{tom}"),
            Some(json!({"first_name": "Tom", "last_name": "Lane", "email": "ada@example.com", "phone": "1"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    app.stop().await;
}

async fn another_organisations_patients_never_count_nor_show(backend: Backend) {
    let (app, _, desk, _) = setup(backend).await;
    let other = app.import("other", &basic()).await;
    let other_ada = app.id(&other, Kind::Patient, "ada").await;
    let other_desk = app.signed_in(&other, Role::FrontDesk).await;
    // An address only the other organisation has: saved at once.
    let mut tx = app.db.begin().await.unwrap();
    store::patient::create(
        &mut tx,
        other.id,
        &store::patient::PatientInput {
            first_name: "Zed".into(),
            last_name: "Other".into(),
            email: "zed@example.com".into(),
            phone: String::new(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let r = desk
        .api(
            Method::POST,
            "/api/v1/orgs/acme/patients",
            Some(json!({"first_name": "Zed", "last_name": "Acme", "email": "zed@example.com"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // An address both have: only this organisation's patient is named.
    let warned = other_desk
        .post_form(
            "/o/other/admin/patients",
            &[
                ("first_name", "Tom"),
                ("last_name", "Lane"),
                ("email", "ada@example.com"),
            ],
        )
        .await;
    assert_eq!(warned.status, StatusCode::CONFLICT);
    assert!(warned.contains(&format!("/o/other/admin/patients/{other_ada}\"")));
    assert!(!warned.contains("/o/acme/"));
    let r = other_desk
        .api(
            Method::POST,
            "/api/v1/orgs/other/patients",
            Some(json!({"first_name": "Tom", "last_name": "Lane", "email": "ada@example.com"})),
        )
        .await;
    assert_eq!(
        r.json()["error"]["details"]["existing_patient_ids"],
        json!([other_ada])
    );
    app.stop().await;
}
