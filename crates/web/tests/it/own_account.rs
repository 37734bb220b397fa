//! A patient's own account (issue 13): the "Your account" page and its API, where a
//! signed-in patient edits their names and phone, changes their email address through
//! a link to the new address, and changes their password; tried as an attacker would:
//! a reused, expired or superseded link, another patient's session following the link,
//! a taken address, a wrong current password, another organisation, and the limits.

use reqwest::{Method, StatusCode};
use serde_json::json;
use slot_engine::Scenario;
use store::staff::Role;
use store::{Clock, Organisation};

use crate::both;
use crate::support::{Backend, Client, PATIENT_PASSWORD, Page, TestApp};

const NEW_PASSWORD: &str = "orchard-pebble-saxophone-3";

both!(
    the_account_page_edits_names_and_phone_with_field_errors,
    the_account_api_reads_and_saves_the_details,
    a_new_address_changes_nothing_until_its_link_is_followed,
    the_api_changes_the_address_through_the_link_too,
    a_taken_address_is_answered_the_same_and_never_given,
    a_reused_expired_or_superseded_link_changes_nothing,
    a_link_followed_in_another_patients_session_changes_only_its_own_account,
    a_wrong_current_password_changes_nothing,
    changing_the_password_ends_every_other_session,
    another_organisations_link_and_account_are_not_found,
    password_guesses_on_the_account_forms_are_limited,
);

/// Ada and Ben, with the same addresses in a second organisation too.
fn clinic() -> Scenario {
    Scenario::from_json(
        json!({
            "version": 1,
            "settings": {"slot_step_minutes": 30, "min_notice_minutes": 0},
            "clinics": [{"id": "toronto", "name": "Toronto", "timezone": "America/Toronto"}],
            "schedule_types": [{"id": "physio", "name": "Physio", "clinic": "toronto"}],
            "practitioners": [
                {"id": "christine", "name": "Christine Roy", "type": "physio", "home_clinic": "toronto", "schedule_types": ["physio"],
                 "availability": [{"start_date": "2026-01-01",
                   "blocks": [{"days": ["mon", "tue"], "start": "09:00", "end": "11:00", "schedule_type": "physio"}]}]}],
            "services": [{"id": "visit", "name": "Physio visit", "duration_minutes": 30, "book_from_portal": true, "schedule_types": ["physio"]}],
            "patients": [
                {"id": "ada", "first_name": "Ada", "last_name": "Lane", "email": "ada@example.com"},
                {"id": "ben", "first_name": "Ben", "last_name": "Cho", "email": "ben@example.com"}]
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap()
}

struct World {
    app: TestApp,
    org: Organisation,
    staff: Client,
    /// Ada, signed in to the portal (username ada@example.com).
    ada: Client,
}

/// A world whose rate limits stay out of the way of the tests' many sign-ins (the last
/// test tries the limits themselves).
async fn world(backend: Backend) -> World {
    let generous = openslot_web::limits::Limits::new(
        10_000,
        std::time::Duration::from_millis(1),
        10_000,
        std::time::Duration::from_millis(1),
    );
    world_with(TestApp::spawn_with_limits(backend, generous).await).await
}

async fn world_with(app: TestApp) -> World {
    let org = app.import("clinic", &clinic()).await;
    let staff = app.signed_in(&org, Role::FrontDesk).await;
    let ada = app.portal_patient(&org, &staff, "ada").await;
    World {
        app,
        org,
        staff,
        ada,
    }
}

impl World {
    async fn patient(&self, key: &str) -> store::patient::Patient {
        let id = self
            .app
            .id(&self.org, store::keys::Kind::Patient, key)
            .await;
        let mut conn = self.app.db.conn().await.unwrap();
        store::patient::get(conn.exec(), self.org.id, id)
            .await
            .unwrap()
    }

    async fn username(&self, key: &str) -> String {
        let id = self.patient(key).await.id;
        let mut conn = self.app.db.conn().await.unwrap();
        store::portal_access::of_patient(conn.exec(), self.org.id, id)
            .await
            .unwrap()
            .unwrap()
            .username
    }

    /// Signs in through the API: whether it worked, and the client.
    async fn sign_in(&self, username: &str, password: &str) -> (bool, Client) {
        let client = self.app.client();
        let r = client
            .api(
                Method::POST,
                "/api/v1/orgs/clinic/portal/session",
                Some(json!({"username": username, "password": password})),
            )
            .await;
        (r.status == StatusCode::OK, client)
    }

    /// The audit log's `(actor, action)` about patient `key`, oldest first.
    async fn audit(&self, key: &str) -> Vec<(String, String)> {
        let id = self.patient(key).await.id;
        let mut conn = self.app.db.conn().await.unwrap();
        let mut entries = store::audit::recent(conn.exec(), self.org.id, Some(("patient", id)), 50)
            .await
            .unwrap();
        entries.reverse();
        entries.into_iter().map(|e| (e.actor, e.action)).collect()
    }

    /// `client` starts a change of its patient's address through the page.
    async fn start_change(client: &Client, email: &str, password: &str) -> Page {
        client
            .post_form(
                "/o/clinic/portal/account/email",
                &[("email", email), ("current_password", password)],
            )
            .await
    }
}

async fn signed_in_as(client: &Client) -> Option<i64> {
    let r = client
        .api(Method::GET, "/api/v1/orgs/clinic/portal/session", None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["patient"]["id"].as_i64()
}

async fn the_account_page_edits_names_and_phone_with_field_errors(backend: Backend) {
    let w = world(backend).await;
    // Linked from the portal's navigation once signed in, and not before.
    let appointments = w.ada.get("/o/clinic/portal/appointments").await;
    assert!(appointments.contains("href=\"/o/clinic/portal/account\""));
    assert!(appointments.contains("<section id=\"past\">\n<h2>Past and cancelled</h2>"));
    let stranger = w.app.client();
    assert!(
        !stranger
            .get("/o/clinic/portal")
            .await
            .contains("/portal/account")
    );
    let away = stranger.get("/o/clinic/portal/account").await;
    assert_eq!(away.status, StatusCode::SEE_OTHER);
    assert!(away.location().starts_with("/o/clinic/portal/signin?next="));
    let page = w.ada.get("/o/clinic/portal/account").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.assert_security_headers("account page");
    assert!(page.contains("<h1>Your account</h1>"));
    assert!(page.contains(
        "aria-current=\"page\"><svg class=\"icon\" aria-hidden=\"true\"><use href=\"/static/icons.svg#user\"></use></svg>Your account</a>"
    ));
    assert!(page.contains("value=\"Ada\"") && page.contains("value=\"Lane\""));
    assert!(page.contains("<strong>ada@example.com</strong>"));
    // The past appointments are the appointments page's list, linked, not a copy.
    assert!(page.contains("href=\"/o/clinic/portal/appointments#past\""));
    // A bad field: named next to it, what was typed kept, nothing saved.
    let refused = w
        .ada
        .post_form(
            "/o/clinic/portal/account",
            &[("first_name", "Adah"), ("last_name", ""), ("phone", "555")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.contains("id=\"last_name-error\"") && refused.contains("value=\"Adah\""));
    let long = "5".repeat(41);
    let refused = w
        .ada
        .post_form(
            "/o/clinic/portal/account",
            &[
                ("first_name", "Ada"),
                ("last_name", "Lane"),
                ("phone", &long),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.contains("id=\"phone-error\""));
    assert_eq!(w.patient("ada").await.first_name, "Ada");
    // Saved; an email field sent along is not read (the address changes only by link).
    let saved = w
        .ada
        .post_form(
            "/o/clinic/portal/account",
            &[
                ("first_name", " Adah "),
                ("last_name", "Lane-Ng"),
                ("phone", "555-0100"),
                ("email", "elsewhere@example.com"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(saved.location(), "/o/clinic/portal/account?done=details");
    let page = w.ada.get(&saved.location()).await;
    assert!(page.contains("Your details are saved."));
    assert!(page.contains("value=\"Adah\"") && page.contains("value=\"555-0100\""));
    let ada = w.patient("ada").await;
    assert_eq!(
        (ada.first_name.as_str(), ada.last_name.as_str()),
        ("Adah", "Lane-Ng")
    );
    assert_eq!(ada.email, "ada@example.com");
    assert_eq!(w.username("ada").await, "ada@example.com");
    assert_eq!(
        w.audit("ada").await.last().unwrap(),
        &(
            format!("patient:{}", ada.id),
            "portal.update_details".to_owned()
        )
    );
    // Staff see the new name.
    let staff_page = w
        .staff
        .get(&format!("/o/clinic/admin/patients/{}", ada.id))
        .await;
    assert!(staff_page.contains("<h1>Adah Lane-Ng</h1>"));
    w.app.stop().await;
}

async fn the_account_api_reads_and_saves_the_details(backend: Backend) {
    let w = world(backend).await;
    let nobody = w.app.client();
    let r = nobody
        .api(Method::GET, "/api/v1/orgs/clinic/portal/account", None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = w
        .ada
        .api(Method::GET, "/api/v1/orgs/clinic/portal/account", None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let ada = w.patient("ada").await;
    assert_eq!(
        r.json(),
        json!({"id": ada.id, "first_name": "Ada", "last_name": "Lane", "email": "ada@example.com",
               "phone": "", "username": "ada@example.com", "pending_email_change": null})
    );
    // Unknown fields are refused by name: the address is not a field here.
    for (body, field) in [
        (
            json!({"first_name": "A", "last_name": "L", "email": "x@example.com"}),
            "email",
        ),
        (
            json!({"first_name": "A", "last_name": "", "phone": ""}),
            "last_name",
        ),
        (json!({"first_name": "A"}), "last_name"),
    ] {
        let r = w
            .ada
            .api(
                Method::PUT,
                "/api/v1/orgs/clinic/portal/account",
                Some(body),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(r.json()["error"]["field"], field);
    }
    assert_eq!(w.patient("ada").await, ada);
    let r = w
        .ada
        .api(
            Method::PUT,
            "/api/v1/orgs/clinic/portal/account",
            Some(json!({"first_name": "Ada", "last_name": "Lane", "phone": "555-0199"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["phone"], "555-0199");
    assert_eq!(w.patient("ada").await.phone, "555-0199");
    w.app.stop().await;
}

async fn a_new_address_changes_nothing_until_its_link_is_followed(backend: Backend) {
    let w = world(backend).await;
    let started = World::start_change(&w.ada, "Ada.New@Example.com", PATIENT_PASSWORD).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    assert_eq!(started.location(), "/o/clinic/portal/account?done=email");
    // Nothing changed yet: the address, the username, the old sign-in.
    assert_eq!(w.patient("ada").await.email, "ada@example.com");
    assert_eq!(w.username("ada").await, "ada@example.com");
    assert!(w.sign_in("ada@example.com", PATIENT_PASSWORD).await.0);
    assert!(!w.sign_in("ada.new@example.com", PATIENT_PASSWORD).await.0);
    let page = w.ada.get(&started.location()).await;
    assert!(page.contains("Check your email"));
    assert!(page.contains("Waiting for confirmation"));
    assert!(page.contains("<strong>ada.new@example.com</strong>"));
    // The link went to the new address only; the old one has heard nothing yet.
    let sent = w.app.mail("ada.new@example.com").await;
    assert_eq!(sent.len(), 1);
    assert!(sent[0].subject.contains("Confirm your new email address"));
    assert!(!sent[0].body_text.contains("Ada"), "names nobody");
    assert!(w.app.mail("ada@example.com").await.is_empty());
    let link = w.app.link("ada.new@example.com", "/portal/email/").await;
    // The patient, signed in, follows it: one click, no password.
    let confirm = w.ada.get(&link).await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    assert!(confirm.contains("ada.new@example.com"));
    assert!(!confirm.contains("name=\"password\""));
    let done = w.ada.post_form(&link, &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(
        done.location(),
        "/o/clinic/portal/account?done=email-changed"
    );
    assert_eq!(w.patient("ada").await.email, "ada.new@example.com");
    assert_eq!(w.username("ada").await, "ada.new@example.com");
    // Still signed in; the new address signs in, the old one no longer does.
    assert!(signed_in_as(&w.ada).await.is_some());
    assert!(w.sign_in("ada.new@example.com", PATIENT_PASSWORD).await.0);
    assert!(!w.sign_in("ada@example.com", PATIENT_PASSWORD).await.0);
    // The old address is told.
    let told = w.app.mail("ada@example.com").await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].subject.contains("email address was changed"));
    assert!(told[0].body_text.contains("ada.new@example.com"));
    // The page no longer shows a change waiting; the link works once.
    let page = w.ada.get("/o/clinic/portal/account").await;
    assert!(!page.contains("Waiting for confirmation"));
    assert!(page.contains("<strong>ada.new@example.com</strong>"));
    let again = w.ada.post_form(&link, &[]).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert!(again.contains("already used"));
    let ada = w.patient("ada").await;
    let actor = format!("patient:{}", ada.id);
    let actions: Vec<(String, String)> = w
        .audit("ada")
        .await
        .into_iter()
        .filter(|(_, action)| action.contains("email"))
        .collect();
    assert_eq!(
        actions,
        [
            (actor.clone(), "portal.start_email_change".to_owned()),
            (actor, "portal.change_email".to_owned())
        ]
    );
    // Staff see the new address.
    let staff_view = w
        .staff
        .api(
            Method::GET,
            &format!("/api/v1/orgs/clinic/patients/{}", ada.id),
            None,
        )
        .await;
    assert_eq!(staff_view.json()["patient"]["email"], "ada.new@example.com");
    w.app.stop().await;
}

async fn the_api_changes_the_address_through_the_link_too(backend: Backend) {
    let w = world(backend).await;
    let started = w
        .ada
        .api(
            Method::POST,
            "/api/v1/orgs/clinic/portal/account/email",
            Some(json!({"email": "ada.api@example.com", "current_password": PATIENT_PASSWORD})),
        )
        .await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.body);
    let account = w
        .ada
        .api(Method::GET, "/api/v1/orgs/clinic/portal/account", None)
        .await
        .json();
    assert_eq!(account["email"], "ada@example.com");
    assert_eq!(
        account["pending_email_change"]["email"],
        "ada.api@example.com"
    );
    assert_eq!(
        account["pending_email_change"]["expires_at"],
        "2026-03-02T12:00:00+00:00"
    );
    let link = w.app.link("ada.api@example.com", "/portal/email/").await;
    let token = link.rsplit('/').next().unwrap();
    let path = format!("/api/v1/orgs/clinic/portal/email-changes/{token}");
    let state = w.ada.api(Method::GET, &path, None).await.json();
    assert_eq!(state, json!({"state": "valid", "needs_password": false}));
    // Unknown fields are refused by name.
    let r = w
        .ada
        .api(Method::POST, &path, Some(json!({"username": "x"})))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["error"]["field"], "username");
    let r = w.ada.api(Method::POST, &path, Some(json!({}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json(), json!({"email": "ada.api@example.com"}));
    assert_eq!(w.username("ada").await, "ada.api@example.com");
    let state = w.ada.api(Method::GET, &path, None).await.json();
    assert_eq!(state["state"], "used");
    let r = w.ada.api(Method::POST, &path, Some(json!({}))).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.json()["error"]["details"]["state"], "used");
    let r = w
        .ada
        .api(
            Method::POST,
            "/api/v1/orgs/clinic/portal/email-changes/not-a-token",
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    w.app.stop().await;
}

async fn a_taken_address_is_answered_the_same_and_never_given(backend: Backend) {
    let w = world(backend).await;
    let _ben = w.app.portal_patient(&w.org, &w.staff, "ben").await;
    // A sign-up waiting for its link holds its address too.
    let mut tx = w.app.db.begin().await.unwrap();
    store::portal_signup::record(
        &mut tx,
        w.org.id,
        &store::portal_signup::NewSignup {
            email: "dee@example.com",
            first_name: "Dee",
            last_name: "Ng",
            password_hash: "x",
        },
        "a-signup-token",
        w.app.clock.now_ns(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let answer = |address: &'static str| {
        let ada = w.ada.clone();
        async move {
            let r = ada
                .api(
                    Method::POST,
                    "/api/v1/orgs/clinic/portal/account/email",
                    Some(json!({"email": address, "current_password": PATIENT_PASSWORD})),
                )
                .await;
            (r.status, r.body)
        }
    };
    let free = answer("free@example.com").await;
    assert_eq!(free.0, StatusCode::ACCEPTED);
    for taken in ["BEN@example.com", "dee@example.com"] {
        assert_eq!(answer(taken).await, free, "{taken}");
        // The page answers alike, and shows the change waiting alike.
        let page = World::start_change(&w.ada, taken, PATIENT_PASSWORD).await;
        assert_eq!(page.location(), "/o/clinic/portal/account?done=email");
        let shown = w.ada.get(&page.location()).await;
        assert!(shown.contains("Waiting for confirmation"));
    }
    // What differs goes to the taken address only: a note, and no link.
    for taken in ["ben@example.com", "dee@example.com"] {
        let mail = w.app.mail(taken).await;
        assert!(!mail.is_empty(), "{taken}");
        for m in &mail {
            assert!(!m.body_text.contains("/portal/email/"), "{taken}: {m:?}");
            assert!(m.body_text.contains("already has an account"), "{m:?}");
        }
    }
    assert!(
        w.app.mail("free@example.com").await[0]
            .body_text
            .contains("/portal/email/")
    );
    assert_eq!(w.patient("ada").await.email, "ada@example.com");
    assert_eq!(w.username("ben").await, "ben@example.com");
    w.app.stop().await;
}

async fn a_reused_expired_or_superseded_link_changes_nothing(backend: Backend) {
    let w = world(backend).await;
    World::start_change(&w.ada, "one@example.com", PATIENT_PASSWORD).await;
    let one = w.app.link("one@example.com", "/portal/email/").await;
    World::start_change(&w.ada, "two@example.com", PATIENT_PASSWORD).await;
    let two = w.app.link("two@example.com", "/portal/email/").await;
    // A newer change: the first link stops working.
    let page = w.ada.get(&one).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.contains("no longer valid"));
    assert_eq!(
        w.ada.post_form(&one, &[]).await.status,
        StatusCode::NOT_FOUND
    );
    let token = one.rsplit('/').next().unwrap();
    let api = w
        .ada
        .api(
            Method::POST,
            &format!("/api/v1/orgs/clinic/portal/email-changes/{token}"),
            Some(json!({})),
        )
        .await;
    assert_eq!(api.status, StatusCode::CONFLICT);
    assert_eq!(api.json()["error"]["details"]["state"], "cancelled");
    // After 24 hours the second one has expired.
    w.app.clock.advance(24 * 3600);
    let page = w.ada.get(&two).await;
    assert_eq!(page.status, StatusCode::GONE);
    assert!(page.contains("expired"));
    assert_eq!(w.ada.post_form(&two, &[]).await.status, StatusCode::GONE);
    // A password change cancels the link waiting. (A day on, Ada signs in again.)
    let ada = w.sign_in("ada@example.com", PATIENT_PASSWORD).await.1;
    World::start_change(&ada, "three@example.com", PATIENT_PASSWORD).await;
    let three = w.app.link("three@example.com", "/portal/email/").await;
    let changed = ada
        .post_form(
            "/o/clinic/portal/account/password",
            &[
                ("current_password", PATIENT_PASSWORD),
                ("new_password", NEW_PASSWORD),
                ("new_password_confirmation", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    let page = ada.post_form(&three, &[]).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.contains("no longer valid"));
    // So does staff changing the address.
    World::start_change(&ada, "four@example.com", NEW_PASSWORD).await;
    let four = w.app.link("four@example.com", "/portal/email/").await;
    let ada = w.patient("ada").await;
    let staff = w.app.client();
    let signed = staff
        .sign_in(
            "clinic",
            "front_desk-clinic@example.com",
            crate::support::PASSWORD,
        )
        .await;
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    let r = staff
        .api(
            Method::PUT,
            &format!("/api/v1/orgs/clinic/patients/{}", ada.id),
            Some(json!({"first_name": "Ada", "last_name": "Lane", "email": "staff@example.com"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let stranger = w.app.client();
    let page = stranger.get(&four).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    // None of them changed the address.
    assert_eq!(w.patient("ada").await.email, "staff@example.com");
    for address in [
        "one@example.com",
        "two@example.com",
        "three@example.com",
        "four@example.com",
    ] {
        assert!(!w.sign_in(address, NEW_PASSWORD).await.0, "{address}");
    }
    w.app.stop().await;
}

async fn a_link_followed_in_another_patients_session_changes_only_its_own_account(
    backend: Backend,
) {
    let w = world(backend).await;
    let ben = w.app.portal_patient(&w.org, &w.staff, "ben").await;
    let ben_id = signed_in_as(&ben).await.unwrap();
    World::start_change(&w.ada, "ada.new@example.com", PATIENT_PASSWORD).await;
    let link = w.app.link("ada.new@example.com", "/portal/email/").await;
    // Ben, signed in, is told the link is not about his account, and asked for the
    // password of the account it is about.
    let page = ben.get(&link).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.contains("You are signed in as another patient"));
    assert!(page.contains("name=\"password\""));
    for password in ["", "wrong password", "lilac-tractor-umbrella-43"] {
        let refused = ben.post_form(&link, &[("password", password)]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.contains("id=\"password-error\""));
    }
    assert_eq!(w.patient("ada").await.email, "ada@example.com");
    assert_eq!(w.patient("ben").await.email, "ben@example.com");
    // A stranger without the password gets nowhere through the API either.
    let stranger = w.app.client();
    let token = link.rsplit('/').next().unwrap();
    let path = format!("/api/v1/orgs/clinic/portal/email-changes/{token}");
    let state = stranger.api(Method::GET, &path, None).await.json();
    assert_eq!(state, json!({"state": "valid", "needs_password": true}));
    let r = stranger.api(Method::POST, &path, Some(json!({}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["error"]["field"], "password");
    // With the password of the account the link is for, that account changes; Ben's
    // account and session stay as they were.
    let done = ben
        .post_form(&link, &[("password", PATIENT_PASSWORD)])
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.contains("sign in with it from now on"));
    assert_eq!(w.patient("ada").await.email, "ada.new@example.com");
    assert_eq!(w.username("ada").await, "ada.new@example.com");
    assert_eq!(w.patient("ben").await.email, "ben@example.com");
    assert_eq!(w.username("ben").await, "ben@example.com");
    assert_eq!(signed_in_as(&ben).await, Some(ben_id));
    assert!(w.sign_in("ben@example.com", PATIENT_PASSWORD).await.0);
    w.app.stop().await;
}

async fn a_wrong_current_password_changes_nothing(backend: Backend) {
    let w = world(backend).await;
    let page = World::start_change(&w.ada, "ada.new@example.com", "not my password").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"email-current-password-error\""));
    assert!(page.contains("value=\"ada.new@example.com\""));
    let r = w
        .ada
        .api(
            Method::POST,
            "/api/v1/orgs/clinic/portal/account/email",
            Some(json!({"email": "ada.new@example.com", "current_password": ""})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["error"]["field"], "current_password");
    // Its own address, or none: refused naming the field.
    for (email, field) in [("ADA@example.com", "email"), ("ada at example", "email")] {
        let r = w
            .ada
            .api(
                Method::POST,
                "/api/v1/orgs/clinic/portal/account/email",
                Some(json!({"email": email, "current_password": PATIENT_PASSWORD})),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{email}");
        assert_eq!(r.json()["error"]["field"], field);
    }
    assert!(w.app.mail("ada.new@example.com").await.is_empty());
    let account = w
        .ada
        .api(Method::GET, "/api/v1/orgs/clinic/portal/account", None)
        .await
        .json();
    assert_eq!(account["pending_email_change"], json!(null));
    // The password form: a wrong current password, a weak or mismatched new one.
    for (fields, error) in [
        (
            [
                ("current_password", "not my password"),
                ("new_password", NEW_PASSWORD),
                ("new_password_confirmation", NEW_PASSWORD),
            ],
            "password-current-password-error",
        ),
        (
            [
                ("current_password", PATIENT_PASSWORD),
                ("new_password", "password123"),
                ("new_password_confirmation", "password123"),
            ],
            "new-password-error",
        ),
        (
            [
                ("current_password", PATIENT_PASSWORD),
                ("new_password", NEW_PASSWORD),
                ("new_password_confirmation", "something else"),
            ],
            "new-password-confirmation-error",
        ),
    ] {
        let page = w
            .ada
            .post_form("/o/clinic/portal/account/password", &fields)
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
        assert!(page.contains(&format!("id=\"{error}\"")), "{error}");
    }
    let r = w
        .ada
        .api(
            Method::PUT,
            "/api/v1/orgs/clinic/portal/account/password",
            Some(json!({"current_password": "not my password", "new_password": NEW_PASSWORD})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["error"]["field"], "current_password");
    // Nothing changed: the old password works, the new one does not, the session lives.
    assert!(w.sign_in("ada@example.com", PATIENT_PASSWORD).await.0);
    assert!(!w.sign_in("ada@example.com", NEW_PASSWORD).await.0);
    assert!(signed_in_as(&w.ada).await.is_some());
    assert!(
        !w.audit("ada")
            .await
            .iter()
            .any(|(actor, _)| actor.starts_with("patient:")),
        "the patient changed nothing"
    );
    w.app.stop().await;
}

async fn changing_the_password_ends_every_other_session(backend: Backend) {
    let w = world(backend).await;
    let (_, laptop) = w.sign_in("ada@example.com", PATIENT_PASSWORD).await;
    assert!(signed_in_as(&laptop).await.is_some());
    let changed = w
        .ada
        .post_form(
            "/o/clinic/portal/account/password",
            &[
                ("current_password", PATIENT_PASSWORD),
                ("new_password", NEW_PASSWORD),
                ("new_password_confirmation", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    assert_eq!(changed.location(), "/o/clinic/portal/account?done=password");
    assert!(
        Client::session_cookie(&changed.headers).is_some(),
        "a new session id"
    );
    // This session goes on; the other has ended.
    let page = w.ada.get(&changed.location()).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.contains("Your password is changed"));
    assert_eq!(signed_in_as(&laptop).await, None);
    assert_eq!(
        laptop.get("/o/clinic/portal/account").await.status,
        StatusCode::SEE_OTHER
    );
    assert!(!w.sign_in("ada@example.com", PATIENT_PASSWORD).await.0);
    let (ok, phone) = w.sign_in("ada@example.com", NEW_PASSWORD).await;
    assert!(ok);
    // Through the API: the answer carries the session's new CSRF token.
    let r = phone
        .api(
            Method::PUT,
            "/api/v1/orgs/clinic/portal/account/password",
            Some(json!({"current_password": NEW_PASSWORD, "new_password": PATIENT_PASSWORD})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.json()["csrf_token"].is_string());
    assert!(r.json()["patient"]["id"].is_i64());
    assert!(signed_in_as(&phone).await.is_some());
    assert_eq!(signed_in_as(&w.ada).await, None, "the page's session ended");
    assert!(w.sign_in("ada@example.com", PATIENT_PASSWORD).await.0);
    let ada = w.patient("ada").await.id;
    let changes = w
        .audit("ada")
        .await
        .into_iter()
        .filter(|(_, action)| action == "portal.change_password")
        .count();
    assert_eq!(changes, 2, "patient {ada}");
    w.app.stop().await;
}

async fn another_organisations_link_and_account_are_not_found(backend: Backend) {
    let w = world(backend).await;
    let other = w.app.import("other", &clinic()).await;
    let other_staff = w.app.signed_in(&other, Role::FrontDesk).await;
    let other_ada = w.app.portal_patient(&other, &other_staff, "ada").await;
    World::start_change(&w.ada, "ada.new@example.com", PATIENT_PASSWORD).await;
    let link = w.app.link("ada.new@example.com", "/portal/email/").await;
    let elsewhere = link.replace("/o/clinic/", "/o/other/");
    // At the other organisation the link is unknown, whoever follows it.
    for client in [&other_ada, &w.ada] {
        assert_eq!(client.get(&elsewhere).await.status, StatusCode::NOT_FOUND);
        let r = client
            .post_form(&elsewhere, &[("password", PATIENT_PASSWORD)])
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
    // Ada's session is nobody at the other organisation's account page and API.
    let page = w.ada.get("/o/other/portal/account").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let r = w
        .ada
        .api(
            Method::PUT,
            "/api/v1/orgs/other/portal/account",
            Some(json!({"first_name": "X", "last_name": "Y", "phone": ""})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Nothing changed at the other organisation, whose Ada has the same address.
    let mut conn = w.app.db.conn().await.unwrap();
    let theirs = store::patient::by_email(conn.exec(), other.id, "ada@example.com")
        .await
        .unwrap();
    drop(conn);
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].first_name, "Ada");
    // The link still works at its own organisation.
    assert_eq!(
        w.ada.post_form(&link, &[]).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(w.patient("ada").await.email, "ada.new@example.com");
    let mut conn = w.app.db.conn().await.unwrap();
    let theirs = store::patient::by_email(conn.exec(), other.id, "ada@example.com")
        .await
        .unwrap();
    assert_eq!(
        theirs.len(),
        1,
        "the other organisation's Ada kept her address"
    );
    drop(conn);
    w.app.stop().await;
}

async fn password_guesses_on_the_account_forms_are_limited(backend: Backend) {
    let app = TestApp::spawn_with_limits(
        backend,
        openslot_web::limits::Limits::new(
            100,
            std::time::Duration::from_secs(2),
            3,
            std::time::Duration::from_secs(3600),
        ),
    )
    .await;
    let w = world_with(app).await;
    // Signing in spent one attempt of the account's three.
    for _ in 0..2 {
        let page = World::start_change(&w.ada, "ada.new@example.com", "guess").await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // Over the limit: 429 with Retry-After, and even the right password waits.
    let page = World::start_change(&w.ada, "ada.new@example.com", PATIENT_PASSWORD).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "{}", page.body);
    assert!(page.headers.get("retry-after").is_some());
    assert!(page.contains("too many attempts"));
    let r = w
        .ada
        .api(
            Method::PUT,
            "/api/v1/orgs/clinic/portal/account/password",
            Some(json!({"current_password": PATIENT_PASSWORD, "new_password": NEW_PASSWORD})),
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(w.app.mail("ada.new@example.com").await.is_empty());
    assert_eq!(w.patient("ada").await.email, "ada@example.com");
    w.app.stop().await;
}
