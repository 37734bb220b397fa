//! Issue 11's account findings, each reproduced from outside as the review found it:
//! takeover through sign-up, the pre-hijack through an invitation, usernames out of
//! step with emails, sessions that outlived a credentials change, sign-out undone by a
//! concurrent save, and ids of another organisation inside a staff booking.

use reqwest::{Method, StatusCode};
use serde_json::json;
use slot_engine::Scenario;
use store::Organisation;
use store::staff::Role;

use crate::both;
use crate::support::{Backend, Client, PATIENT_PASSWORD, TestApp};

const ATTACKER_PASSWORD: &str = "stranger-danger-kettle-81";
const NEW_PASSWORD: &str = "orchard-pebble-saxophone-3";

both!(
    a_signup_with_a_patients_address_never_takes_their_account,
    a_signup_after_staff_changed_the_email_never_takes_the_account,
    a_signup_before_the_invitation_leaves_no_password_behind,
    the_signup_link_alone_does_not_sign_in,
    invitations_and_resets_name_the_real_username,
    a_username_that_was_the_email_follows_an_email_change,
    changed_credentials_end_every_other_session,
    a_stopped_staff_account_stays_signed_out,
    sign_out_is_not_undone_by_a_concurrent_save,
    a_staff_booking_with_another_organisations_ids_is_refused,
    a_practitioner_named_twice_is_one_choice,
    a_mistyped_practitioners_body_changes_nothing,
    a_next_address_never_climbs_out_of_its_organisation,
    links_sent_before_the_credentials_changed_stop_working,
    correcting_a_mistyped_address_takes_the_record_back,
    a_strangers_wrong_guesses_do_not_lock_the_owner_out,
    signup_names_are_checked_and_kept_out_of_the_email,
    signup_links_stop_when_signup_is_turned_off,
    a_next_with_a_line_break_still_signs_in,
    an_address_with_a_display_name_is_refused,
    the_nul_check_cannot_be_sidestepped,
    a_password_with_spaces_works_on_pages_and_the_api_alike,
);

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
}

async fn world(backend: Backend) -> World {
    let app = TestApp::spawn(backend).await;
    let org = app.import("clinic", &clinic()).await;
    let mut tx = app.db.begin().await.unwrap();
    let mut settings = org.settings();
    settings.allow_public_signup = true;
    store::organisation::update_settings(&mut tx, org.id, &settings)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let staff = app.signed_in(&org, Role::FrontDesk).await;
    World { app, org, staff }
}

impl World {
    async fn patient(&self, key: &str) -> i64 {
        self.app
            .id(&self.org, store::keys::Kind::Patient, key)
            .await
    }

    /// Staff give `patient` a username and password.
    async fn credentials(&self, key: &str, username: &str, password: &str) {
        let id = self.patient(key).await;
        let r = self
            .staff
            .api(
                Method::PUT,
                &format!("/api/v1/orgs/clinic/patients/{id}/portal-access/credentials"),
                Some(json!({"username": username, "password": password})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }

    /// Staff change Ada's email address (the only patient whose name this knows).
    async fn change_email(&self, key: &str, email: &str) {
        let id = self.patient(key).await;
        let r = self
            .staff
            .api(
                Method::PUT,
                &format!("/api/v1/orgs/clinic/patients/{id}"),
                Some(
                    json!({"first_name": "Ada", "last_name": "Lane", "email": email, "phone": ""}),
                ),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }

    async fn invite(&self, key: &str) {
        let id = self.patient(key).await;
        let r = self
            .staff
            .api(
                Method::POST,
                &format!("/api/v1/orgs/clinic/patients/{id}/portal-access/invitation"),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }

    /// A public sign-up with a solved CAPTCHA, as anyone on the internet can send.
    async fn sign_up(&self, email: &str, password: &str) {
        let stranger = self.app.client();
        let challenge: altcha::Challenge =
            serde_json::from_str(&stranger.get("/o/clinic/portal/captcha").await.body).unwrap();
        let captcha = openslot_web::captcha::solve(&challenge);
        let r = stranger
            .api(
                Method::POST,
                "/api/v1/orgs/clinic/portal/signup",
                Some(
                    json!({"first_name": "Mallory", "last_name": "Stone", "email": email,
                            "password": password, "captcha": captcha}),
                ),
            )
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
        self.app.state.jobs.idle().await;
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

    async fn patients(&self) -> i64 {
        let mut conn = self.app.db.conn().await.unwrap();
        store::patient::search(conn.exec(), self.org.id, "", 500)
            .await
            .unwrap()
            .len() as i64
    }
}

async fn signed_in_as(client: &Client) -> Option<i64> {
    let r = client
        .api(Method::GET, "/api/v1/orgs/clinic/portal/session", None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["patient"]["id"].as_i64()
}

/// Finding 1, first way: the account has a staff-made username; a stranger signs up
/// with the patient's email address and a password of their own.
async fn a_signup_with_a_patients_address_never_takes_their_account(backend: Backend) {
    let w = world(backend).await;
    w.credentials("ada", "ada.lane", PATIENT_PASSWORD).await;
    let before = w.patients().await;
    w.sign_up("ada@example.com", ATTACKER_PASSWORD).await;
    // The stranger's password opens nothing, under either name.
    for username in ["ada@example.com", "ada.lane"] {
        assert!(
            !w.sign_in(username, ATTACKER_PASSWORD).await.0,
            "{username}"
        );
    }
    // Ada still signs in, and her mailbox says who tried, with her username.
    let (ok, ada) = w.sign_in("ada.lane", PATIENT_PASSWORD).await;
    assert!(ok);
    assert_eq!(signed_in_as(&ada).await, Some(w.patient("ada").await));
    let mail = w.app.mail("ada@example.com").await;
    assert!(mail[0].subject.contains("Someone tried to register"));
    assert!(mail[0].body_text.contains("Your username: ada.lane"));
    assert!(!mail[0].body_text.contains("/portal/signup/"));
    assert_eq!(w.patients().await, before, "no patient was made");
    w.app.stop().await;
}

/// Finding 1, first way again: the account was made when the patient had another
/// address; staff changed the address since.
async fn a_signup_after_staff_changed_the_email_never_takes_the_account(backend: Backend) {
    let w = world(backend).await;
    w.credentials("ada", "ada.lane", PATIENT_PASSWORD).await;
    w.change_email("ada", "ada.new@example.com").await;
    // The new address must choose the password again: Ada does, by a reset.
    w.app
        .client()
        .post_form("/o/clinic/portal/forgot", &[("email", "ada.lane")])
        .await;
    let reset = w.app.link("ada.new@example.com", "/portal/reset/").await;
    let done = w
        .app
        .client()
        .post_form(
            &reset,
            &[
                ("password", NEW_PASSWORD),
                ("password_confirmation", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    w.sign_up("ada.new@example.com", ATTACKER_PASSWORD).await;
    w.sign_up("ada@example.com", ATTACKER_PASSWORD).await;
    for username in ["ada.new@example.com", "ada@example.com", "ada.lane"] {
        assert!(
            !w.sign_in(username, ATTACKER_PASSWORD).await.0,
            "{username}"
        );
    }
    assert!(w.sign_in("ada.lane", NEW_PASSWORD).await.0);
    w.app.stop().await;
}

/// Finding 1, second way: a stranger signs up with the address of a patient who has no
/// account yet; staff then invite the patient, who follows the invitation.
async fn a_signup_before_the_invitation_leaves_no_password_behind(backend: Backend) {
    let w = world(backend).await;
    let before = w.patients().await;
    w.sign_up("ben@example.com", ATTACKER_PASSWORD).await;
    assert_eq!(w.patients().await, before, "nothing attached before proof");
    w.invite("ben").await;
    let invitation = w.app.link("ben@example.com", "/portal/invitation/").await;
    let ben = w.app.client();
    let page = ben.get(&invitation).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.contains("choose your password") && page.contains("name=\"password\""));
    let set = ben
        .post_form(
            &invitation,
            &[
                ("password", NEW_PASSWORD),
                ("password_confirmation", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
    assert!(!w.sign_in("ben@example.com", ATTACKER_PASSWORD).await.0);
    assert!(w.sign_in("ben@example.com", NEW_PASSWORD).await.0);
    // The sign-up's link, still in Ben's mailbox, can no longer attach to anything.
    let signup = w
        .app
        .mail("ben@example.com")
        .await
        .iter()
        .find_map(|m| {
            m.body_text
                .split_whitespace()
                .find(|word| word.contains("/portal/signup/"))
                .map(|url| url[w.app.base.len()..].to_owned())
        })
        .expect("the sign-up's link");
    let r = ben
        .post_form(&signup, &[("password", ATTACKER_PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(!w.sign_in("ben@example.com", ATTACKER_PASSWORD).await.0);
    w.app.stop().await;
}

/// The owner of an address who follows a sign-up link they did not ask for gets
/// nothing either: the link needs the password chosen at sign-up.
async fn the_signup_link_alone_does_not_sign_in(backend: Backend) {
    let w = world(backend).await;
    w.sign_up("zed@example.com", ATTACKER_PASSWORD).await;
    let link = w.app.link("zed@example.com", "/portal/signup/").await;
    let token = link.rsplit('/').next().unwrap();
    let owner = w.app.client();
    let state = owner
        .api(
            Method::GET,
            &format!("/api/v1/orgs/clinic/portal/signups/{token}"),
            None,
        )
        .await;
    assert_eq!(state.json()["state"], "valid");
    assert_eq!(state.json()["needs_password"], true);
    let refused = owner
        .api(
            Method::POST,
            &format!("/api/v1/orgs/clinic/portal/signups/{token}"),
            Some(json!({"password": NEW_PASSWORD})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.json()["error"]["field"], "password");
    assert_eq!(signed_in_as(&owner).await, None);
    // The person who signed up, with the link and their password: in, once.
    let confirmed = owner
        .api(
            Method::POST,
            &format!("/api/v1/orgs/clinic/portal/signups/{token}"),
            Some(json!({"password": ATTACKER_PASSWORD})),
        )
        .await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    assert!(signed_in_as(&owner).await.is_some());
    let again = w
        .app
        .client()
        .api(
            Method::POST,
            &format!("/api/v1/orgs/clinic/portal/signups/{token}"),
            Some(json!({"password": ATTACKER_PASSWORD})),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    w.app.stop().await;
}

/// Finding 4: the invitation and the reset say the account's real username, and the
/// invitation always lets the patient choose the password.
async fn invitations_and_resets_name_the_real_username(backend: Backend) {
    let w = world(backend).await;
    w.credentials("ada", "ada.lane", PATIENT_PASSWORD).await;
    w.invite("ada").await;
    let mail = w.app.mail("ada@example.com").await;
    assert!(
        mail[0].body_text.contains("Your username: ada.lane"),
        "{}",
        mail[0].body_text
    );
    let invitation = w.app.link("ada@example.com", "/portal/invitation/").await;
    let page = w.app.client().get(&invitation).await;
    assert!(page.contains("ada.lane") && page.contains("name=\"password\""));
    // Forgot-password with the address reaches the account whose username is not it.
    w.app
        .client()
        .post_form("/o/clinic/portal/forgot", &[("email", "ada@example.com")])
        .await;
    let reset = w.app.mail("ada@example.com").await;
    assert!(reset[0].subject.contains("Reset"), "{}", reset[0].subject);
    assert!(reset[0].body_text.contains("Your username: ada.lane"));
    w.app.stop().await;
}

/// Finding 4: staff change a patient's email; a username that was the old address
/// follows, and signing in and resetting work with the new address.
async fn a_username_that_was_the_email_follows_an_email_change(backend: Backend) {
    let w = world(backend).await;
    w.credentials("ada", "ada@example.com", PATIENT_PASSWORD)
        .await;
    let (_, laptop) = w.sign_in("ada@example.com", PATIENT_PASSWORD).await;
    w.change_email("ada", "ada.new@example.com").await;
    let ada = w.patient("ada").await;
    let access = w
        .staff
        .api(
            Method::GET,
            &format!("/api/v1/orgs/clinic/patients/{ada}/portal-access"),
            None,
        )
        .await;
    assert_eq!(access.json()["username"], "ada.new@example.com");
    // What the old address proved no longer holds: the password and the sessions.
    assert_eq!(access.json()["can_sign_in"], false);
    assert_eq!(signed_in_as(&laptop).await, None);
    assert!(!w.sign_in("ada.new@example.com", PATIENT_PASSWORD).await.0);
    assert!(!w.sign_in("ada@example.com", PATIENT_PASSWORD).await.0);
    // The new address gets her back in.
    w.app
        .client()
        .post_form(
            "/o/clinic/portal/forgot",
            &[("email", "ada.new@example.com")],
        )
        .await;
    let reset = w.app.link("ada.new@example.com", "/portal/reset/").await;
    let done = w
        .app
        .client()
        .post_form(
            &reset,
            &[
                ("password", NEW_PASSWORD),
                ("password_confirmation", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(w.sign_in("ada.new@example.com", NEW_PASSWORD).await.0);
    assert!(w.app.mail("ada@example.com").await.is_empty());
    // The staff page says what happened.
    let page = w
        .staff
        .post_form(
            &format!("/o/clinic/admin/patients/{ada}"),
            &[
                ("first_name", "Ada"),
                ("last_name", "Lane"),
                ("email", "ada@example.com"),
                ("phone", ""),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let shown = w.staff.get(&page.location()).await;
    assert!(
        shown.contains("portal password no longer works"),
        "{}",
        shown.body
    );
    w.app.stop().await;
}

/// The outside review's takeover: links sent before an email change, new credentials
/// or a new password (perhaps to a mistyped address) must not set the password after.
async fn links_sent_before_the_credentials_changed_stop_working(backend: Backend) {
    let w = world(backend).await;
    // Staff mistype the address and invite: the stranger at that address has a link.
    w.change_email("ada", "mallory@example.com").await;
    w.invite("ada").await;
    let invitation = w
        .app
        .link("mallory@example.com", "/portal/invitation/")
        .await;
    // Staff correct the address and hand Ada credentials.
    w.change_email("ada", "ada@example.com").await;
    w.credentials("ada", "ada@example.com", PATIENT_PASSWORD)
        .await;
    let stranger = w.app.client();
    let used = stranger
        .post_form(
            &invitation,
            &[
                ("password", ATTACKER_PASSWORD),
                ("password_confirmation", ATTACKER_PASSWORD),
            ],
        )
        .await;
    assert_eq!(used.status, StatusCode::NOT_FOUND, "{}", used.body);
    assert_eq!(signed_in_as(&stranger).await, None);
    assert!(w.sign_in("ada@example.com", PATIENT_PASSWORD).await.0);
    // A reset asked for before new credentials dies with them; two resets do not
    // spoil each other, and the first one used ends the other.
    w.app
        .client()
        .post_form("/o/clinic/portal/forgot", &[("email", "ada@example.com")])
        .await;
    let early = w.app.link("ada@example.com", "/portal/reset/").await;
    w.credentials("ada", "ada@example.com", PATIENT_PASSWORD)
        .await;
    let dead = w
        .app
        .client()
        .post_form(
            &early,
            &[
                ("password", NEW_PASSWORD),
                ("password_confirmation", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(dead.status, StatusCode::NOT_FOUND, "{}", dead.body);
    let forgot = |client: Client| async move {
        client
            .post_form("/o/clinic/portal/forgot", &[("email", "ada@example.com")])
            .await;
    };
    forgot(w.app.client()).await;
    let hers = w.app.link("ada@example.com", "/portal/reset/").await;
    forgot(w.app.client()).await;
    let later = w.app.link("ada@example.com", "/portal/reset/").await;
    assert_ne!(hers, later);
    let set = w
        .app
        .client()
        .post_form(
            &hers,
            &[
                ("password", NEW_PASSWORD),
                ("password_confirmation", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
    let other = w.app.client().get(&later).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    w.app.stop().await;
}

/// The outside review's variant through sign-up: while the record had a mistyped
/// address, its owner signed up and got the record; staff correct the address, and
/// the stranger loses it.
async fn correcting_a_mistyped_address_takes_the_record_back(backend: Backend) {
    let w = world(backend).await;
    w.change_email("ada", "mallory@example.com").await;
    w.sign_up("mallory@example.com", ATTACKER_PASSWORD).await;
    let link = w.app.link("mallory@example.com", "/portal/signup/").await;
    let stranger = w.app.client();
    let confirmed = stranger
        .post_form(&link, &[("password", ATTACKER_PASSWORD)])
        .await;
    assert_eq!(confirmed.status, StatusCode::SEE_OTHER);
    assert_eq!(signed_in_as(&stranger).await, Some(w.patient("ada").await));
    w.change_email("ada", "ada@example.com").await;
    assert_eq!(signed_in_as(&stranger).await, None);
    for name in ["ada@example.com", "mallory@example.com"] {
        assert!(!w.sign_in(name, ATTACKER_PASSWORD).await.0, "{name}");
    }
    w.app.stop().await;
}

/// The outside review: wrong guesses from one client locked the owner out everywhere.
async fn a_strangers_wrong_guesses_do_not_lock_the_owner_out(backend: Backend) {
    let w = world(backend).await;
    w.credentials("ada", "ada@example.com", PATIENT_PASSWORD)
        .await;
    let mut limited = false;
    for n in 0..12 {
        let r = w
            .app
            .client()
            .api(
                Method::POST,
                "/api/v1/orgs/clinic/portal/session",
                Some(
                    json!({"username": "ada@example.com", "password": format!("wrong-guess-{n}")}),
                ),
            )
            .await;
        limited |= r.status == StatusCode::TOO_MANY_REQUESTS;
    }
    assert!(limited, "the stranger's guesses are limited");
    let elsewhere = w.app.client_from("127.0.0.2".parse().unwrap());
    let r = elsewhere
        .api(
            Method::POST,
            "/api/v1/orgs/clinic/portal/session",
            Some(json!({"username": "ada@example.com", "password": PATIENT_PASSWORD})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    w.app.stop().await;
}

/// The outside review: sign-up names are the patient's names (one line, at most 100
/// characters), and the confirmation email does not carry them.
async fn signup_names_are_checked_and_kept_out_of_the_email(backend: Backend) {
    let w = world(backend).await;
    let stranger = w.app.client();
    let long = "x".repeat(101);
    for (first, field) in [
        ("Ada,\nURGENT: pay at http://evil.example", "first_name"),
        (long.as_str(), "first_name"),
    ] {
        let r = stranger
            .api(
                Method::POST,
                "/api/v1/orgs/clinic/portal/signup",
                Some(
                    json!({"first_name": first, "last_name": "Stone", "email": "zed@example.com",
                            "password": ATTACKER_PASSWORD, "captcha": ""}),
                ),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(r.json()["error"]["field"], field);
    }
    w.sign_up("zed@example.com", ATTACKER_PASSWORD).await;
    let mail = w.app.mail("zed@example.com").await;
    assert!(
        !mail[0].body_text.contains("Mallory"),
        "{}",
        mail[0].body_text
    );
    w.app.stop().await;
}

/// The outside review: turning sign-up off stops the sign-ups waiting for their link.
async fn signup_links_stop_when_signup_is_turned_off(backend: Backend) {
    let w = world(backend).await;
    w.sign_up("zed@example.com", ATTACKER_PASSWORD).await;
    let link = w.app.link("zed@example.com", "/portal/signup/").await;
    let mut tx = w.app.db.begin().await.unwrap();
    let mut settings = w.org.settings();
    settings.allow_public_signup = false;
    store::organisation::update_settings(&mut tx, w.org.id, &settings)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let client = w.app.client();
    let r = client
        .post_form(&link, &[("password", ATTACKER_PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(signed_in_as(&client).await, None);
    w.app.stop().await;
}

/// The outside review: a `next` with a line break made sign-in fail with 500.
async fn a_next_with_a_line_break_still_signs_in(backend: Backend) {
    let w = world(backend).await;
    w.credentials("ada", "ada@example.com", PATIENT_PASSWORD)
        .await;
    let client = w.app.client();
    let page = client
        .get("/o/clinic/portal/signin?next=/o/clinic/portal/appointments%0Ax")
        .await;
    let r = client
        .post_raw(
            "/o/clinic/portal/signin",
            &[
                ("_csrf", &page.csrf()),
                ("username", "ada@example.com"),
                ("password", PATIENT_PASSWORD),
                ("next", "/o/clinic/portal/appointments\nx"),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(signed_in_as(&client).await, Some(w.patient("ada").await));
    w.app.stop().await;
}

/// Finding 7: a reset, or staff-made credentials, end every other session of the
/// patient at once; the session that reset stays signed in.
async fn changed_credentials_end_every_other_session(backend: Backend) {
    let w = world(backend).await;
    w.credentials("ada", "ada@example.com", PATIENT_PASSWORD)
        .await;
    let (_, laptop) = w.sign_in("ada@example.com", PATIENT_PASSWORD).await;
    let (_, phone) = w.sign_in("ada@example.com", PATIENT_PASSWORD).await;
    assert!(signed_in_as(&laptop).await.is_some() && signed_in_as(&phone).await.is_some());
    phone
        .post_form("/o/clinic/portal/forgot", &[("email", "ada@example.com")])
        .await;
    let reset = w.app.link("ada@example.com", "/portal/reset/").await;
    let done = phone
        .post_form(
            &reset,
            &[
                ("password", NEW_PASSWORD),
                ("password_confirmation", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(signed_in_as(&laptop).await, None, "the other session ended");
    assert!(
        signed_in_as(&phone).await.is_some(),
        "the resetting one stays"
    );
    let page = laptop.get("/o/clinic/portal/appointments").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    // Staff set new credentials: every session of the patient ends.
    w.credentials("ada", "ada@example.com", PATIENT_PASSWORD)
        .await;
    assert_eq!(signed_in_as(&phone).await, None);
    w.app.stop().await;
}

/// Finding 7: stopping a staff account ends its sessions for good (starting it again
/// does not bring them back).
async fn a_stopped_staff_account_stays_signed_out(backend: Backend) {
    let w = world(backend).await;
    let admin = w.app.signed_in(&w.org, Role::Admin).await;
    let desk = w
        .staff
        .api(Method::GET, "/api/v1/orgs/clinic/session", None)
        .await;
    let desk_id = desk.json()["staff"]["id"].as_i64().expect("the staff user");
    for active in [false, true] {
        let r = admin
            .api(
                Method::PUT,
                &format!("/api/v1/orgs/clinic/staff/{desk_id}/active"),
                Some(json!({"active": active})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    let after = w
        .staff
        .api(Method::GET, "/api/v1/orgs/clinic/patients", None)
        .await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    w.app.stop().await;
}

/// Finding 10: a request that read the session before sign-out cannot save it back.
async fn sign_out_is_not_undone_by_a_concurrent_save(backend: Backend) {
    use tower_sessions::SessionStore;
    use tower_sessions::session::{Id, Record};
    let w = world(backend).await;
    let sessions = openslot_web::auth::sessions::DbSessionStore::new(w.app.state.clone());
    let mut record = Record {
        id: Id::default(),
        data: Default::default(),
        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
    };
    sessions.create(&mut record).await.unwrap();
    let read_before_sign_out = sessions.load(&record.id).await.unwrap().unwrap();
    sessions.delete(&record.id).await.unwrap();
    sessions.save(&read_before_sign_out).await.unwrap();
    assert!(sessions.load(&record.id).await.unwrap().is_none());
    w.app.stop().await;
}

/// Finding 2: a staff booking naming another organisation's schedule type (with a
/// service, and overridden, where no fit is computed), service or patient.
async fn a_staff_booking_with_another_organisations_ids_is_refused(backend: Backend) {
    let w = world(backend).await;
    let other = w.app.import("other", &clinic()).await;
    let foreign_type = w
        .app
        .id(&other, store::keys::Kind::ScheduleType, "physio")
        .await;
    let foreign_service = w.app.id(&other, store::keys::Kind::Service, "visit").await;
    let foreign_patient = w.app.id(&other, store::keys::Kind::Patient, "ada").await;
    let christine = w
        .app
        .id(&w.org, store::keys::Kind::Practitioner, "christine")
        .await;
    let service = w.app.id(&w.org, store::keys::Kind::Service, "visit").await;
    let own_type = w
        .app
        .id(&w.org, store::keys::Kind::ScheduleType, "physio")
        .await;
    let ada = w.patient("ada").await;
    let valid = json!({"practitioner": christine, "patient": ada, "service": service,
                       "schedule_type": own_type, "start": "2026-03-02T09:00:00-05:00"});
    let tries = [
        ("schedule_type", json!(foreign_type), None),
        ("schedule_type", json!(foreign_type), Some("squeeze in")),
        ("service", json!(foreign_service), None),
        ("patient", json!(foreign_patient), Some("squeeze in")),
    ];
    for (field, id, reason) in tries {
        let mut body = valid.clone();
        body[field] = id;
        if let Some(reason) = reason {
            body["override_reason"] = json!(reason);
            body["start"] = json!("2026-03-04T20:00:00-05:00");
        }
        let r = w
            .staff
            .api(Method::POST, "/api/v1/orgs/clinic/appointments", Some(body))
            .await;
        // As documented: an id the organisation does not have is not found.
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{field}: {}", r.body);
        let message = r.json()["error"]["message"].as_str().unwrap().to_owned();
        assert!(message.contains(&field.replace('_', " ")), "{message}");
    }
    let mut conn = w.app.db.conn().await.unwrap();
    assert_eq!(
        store::appointment::count(conn.exec(), w.org.id)
            .await
            .unwrap(),
        0
    );
    drop(conn);
    // The control: the same body with this organisation's own ids books.
    let booked = w
        .staff
        .api(
            Method::POST,
            "/api/v1/orgs/clinic/appointments",
            Some(valid),
        )
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.body);
    w.app.stop().await;
}

/// Finding 5: `{"practitioners": [5, 5]}` was a 500.
async fn a_practitioner_named_twice_is_one_choice(backend: Backend) {
    let w = world(backend).await;
    let ada = w.patient("ada").await;
    let christine = w
        .app
        .id(&w.org, store::keys::Kind::Practitioner, "christine")
        .await;
    let r = w
        .staff
        .api(
            Method::PUT,
            &format!("/api/v1/orgs/clinic/patients/{ada}/portal-access/practitioners"),
            Some(json!({"practitioners": [christine, christine]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["practitioners"], json!([christine]));
    w.app.stop().await;
}

/// The third outside review: `{"practitioner_ids": [5]}` answered 200 and left the
/// patient free to book every practitioner (an unknown field was ignored, and a missing
/// `practitioners` read as "every practitioner").
async fn a_mistyped_practitioners_body_changes_nothing(backend: Backend) {
    let w = world(backend).await;
    let ada = w.patient("ada").await;
    let christine = w
        .app
        .id(&w.org, store::keys::Kind::Practitioner, "christine")
        .await;
    let path = format!("/api/v1/orgs/clinic/patients/{ada}/portal-access/practitioners");
    let set = w
        .staff
        .api(
            Method::PUT,
            &path,
            Some(json!({"practitioners": [christine]})),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    for (body, field) in [
        (json!({"practitioner_ids": [christine]}), "practitioner_ids"),
        (json!({}), "practitioners"),
    ] {
        let r = w.staff.api(Method::PUT, &path, Some(body)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(r.json()["error"]["field"], field, "{}", r.body);
    }
    let now = w
        .staff
        .get(&format!("/api/v1/orgs/clinic/patients/{ada}/portal-access"))
        .await;
    assert_eq!(
        now.json()["practitioners"],
        json!([christine]),
        "{}",
        now.body
    );
    // `null` still says "every practitioner", on purpose.
    let all = w
        .staff
        .api(Method::PUT, &path, Some(json!({"practitioners": null})))
        .await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    assert_eq!(all.json()["practitioners"], json!(null));
    w.app.stop().await;
}

/// The third outside review: `next=/o/clinic/admin/../../other/admin/book` went
/// through the sign-in as it was, and the browser resolved it into another
/// organisation's pages.
async fn a_next_address_never_climbs_out_of_its_organisation(backend: Backend) {
    let w = world(backend).await;
    let admin = w.app.client();
    for next in [
        "/o/clinic/admin/../../other/admin/book",
        "/o/clinic/admin/%2e%2e/%2E%2E/other/admin/book",
    ] {
        let page = admin
            .get(&format!(
                "/o/clinic/admin/signin?next={}",
                next.replace('%', "%25")
            ))
            .await;
        assert!(!page.body.contains("other/admin"), "{next}: {}", page.body);
    }
    w.app.stop().await;
}

/// The second outside review: `"any words"<ada@example.com>` passed as an address, so a
/// stranger's words went into the clinic's email to Ada, and the sign-up missed her
/// account.
async fn an_address_with_a_display_name_is_refused(backend: Backend) {
    let w = world(backend).await;
    w.credentials("ada", "ada@example.com", PATIENT_PASSWORD)
        .await;
    for email in [
        "\"your password is x\"<ada@example.com>",
        "<ada@example.com>",
        "ada@example.com.",
        "ada\u{2800}@example.com",
    ] {
        let r = w
            .app
            .client()
            .api(
                Method::POST,
                "/api/v1/orgs/clinic/portal/signup",
                Some(
                    json!({"first_name": "Ada", "last_name": "Lane", "email": email,
                            "password": ATTACKER_PASSWORD, "captcha": ""}),
                ),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{email}: {}",
            r.body
        );
        assert_eq!(r.json()["error"]["field"], "email");
        let staff = w
            .staff
            .api(
                Method::POST,
                "/api/v1/orgs/clinic/patients",
                Some(json!({"first_name": "Eve", "last_name": "Ill", "email": email, "phone": ""})),
            )
            .await;
        assert_eq!(
            staff.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{email}: {}",
            staff.body
        );
    }
    w.app.stop().await;
}

/// The second outside review: an upper-case `Content-Type`, a number too large for a
/// JSON value beside the NUL, or a form sent as JSON slipped a NUL past the check
/// (PostgreSQL answered 500, SQLite stored it).
async fn the_nul_check_cannot_be_sidestepped(backend: Backend) {
    let w = world(backend).await;
    let client = w.app.client();
    let url = format!("{}/api/v1/orgs/clinic/portal/session", w.app.base);
    let session = client
        .api(Method::GET, "/api/v1/orgs/clinic/portal/session", None)
        .await;
    let csrf = session.json()["csrf_token"].as_str().unwrap().to_owned();
    for (content_type, body) in [
        (
            "Application/JSON",
            r#"{"username":"a\u0000b","password":"x"}"#,
        ),
        (
            "application/json",
            r#"{"username":"c\u0000b","password":"x","z":1e400}"#,
        ),
    ] {
        let r = client
            .http
            .post(&url)
            .header("content-type", content_type)
            .header("x-csrf-token", &csrf)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{content_type} {body}"
        );
    }
    let page = client.get("/o/clinic/portal/signin").await;
    let r = client
        .http
        .post(format!("{}/o/clinic/portal/signin", w.app.base))
        .header("content-type", "application/json")
        .body(format!("_csrf={}&username=a%00b&password=x", page.csrf()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    w.app.stop().await;
}

/// The second outside review: pages trimmed passwords and the API did not, so a
/// password with a space set on a page did not work through the API.
async fn a_password_with_spaces_works_on_pages_and_the_api_alike(backend: Backend) {
    let w = world(backend).await;
    let ada = w.patient("ada").await;
    let spaced = " lilac tractor umbrella 42 ";
    let page = w
        .staff
        .post_form(
            &format!("/o/clinic/admin/patients/{ada}/portal-access/credentials"),
            &[("username", "ada@example.com"), ("password", spaced)],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert!(w.sign_in("ada@example.com", spaced).await.0);
    assert!(!w.sign_in("ada@example.com", spaced.trim()).await.0);
    w.app.stop().await;
}
