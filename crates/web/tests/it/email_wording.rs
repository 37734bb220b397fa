//! The emails' wording (issue 17): an admin rewords a kind of email's subject and intro
//! with placeholders, previews it for a sample appointment before saving, and goes back
//! to the default; what patients then receive says the new words and still every fact.
//! And staff who ask are emailed of each booking, move and cancellation patients make
//! in the portal (practitioner accounts: their own practitioner's only).

use reqwest::{Method, StatusCode};
use serde_json::json;
use slot_engine::Scenario;
use store::Organisation;
use store::keys::Kind;
use store::staff::{NewStaff, Role};

use crate::both;
use crate::support::{Backend, Client, PASSWORD, TestApp};

/// Toronto; Christine and Marco work Monday and Tuesday 09:00–11:00; a 30-minute
/// portal visit; Ada; cancelling online until the start.
fn clinic() -> Scenario {
    Scenario::from_json(
        json!({
            "version": 1,
            "settings": {"slot_step_minutes": 30, "min_notice_minutes": 60},
            "clinics": [{"id": "main", "name": "Harbour Clinic", "timezone": "America/Toronto"}],
            "schedule_types": [{"id": "physio", "name": "Physio", "clinic": "main"}],
            "practitioners": [
                {"id": "christine", "name": "Christine Roy", "type": "physio", "home_clinic": "main", "schedule_types": ["physio"],
                 "availability": [{"start_date": "2026-01-01",
                   "blocks": [{"days": ["mon", "tue"], "start": "09:00", "end": "11:00", "schedule_type": "physio"}]}]},
                {"id": "marco", "name": "Marco Silva", "type": "physio", "home_clinic": "main", "schedule_types": ["physio"],
                 "availability": [{"start_date": "2026-01-01",
                   "blocks": [{"days": ["mon", "tue"], "start": "09:00", "end": "11:00", "schedule_type": "physio"}]}]}],
            "services": [{"id": "visit", "name": "Physio visit", "duration_minutes": 30, "book_from_portal": true,
                          "schedule_types": ["physio"]}],
            "patients": [{"id": "ada", "first_name": "Ada", "last_name": "Lane", "email": "ada@example.com"}]
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap()
}

struct World {
    app: TestApp,
    org: Organisation,
    admin: Client,
    ada: Client,
    christine: i64,
    marco: i64,
    service: i64,
}

async fn world(backend: Backend) -> World {
    let app = TestApp::spawn(backend).await;
    let org = app.import("harbour", &clinic()).await;
    let admin = app.signed_in(&org, Role::Admin).await;
    let ada = app.portal_patient(&org, &admin, "ada").await;
    World {
        christine: app.id(&org, Kind::Practitioner, "christine").await,
        marco: app.id(&org, Kind::Practitioner, "marco").await,
        service: app.id(&org, Kind::Service, "visit").await,
        app,
        org,
        admin,
        ada,
    }
}

const MONDAY_9: &str = "2026-03-02T09:00:00-05:00";

async fn book(w: &World, practitioner: i64, start: &str) -> i64 {
    let booked = w
        .ada
        .api(
            Method::POST,
            "/api/v1/orgs/harbour/portal/appointments",
            Some(json!({"service": w.service, "practitioner": practitioner, "start": start})),
        )
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.body);
    booked.json()["id"].as_i64().unwrap()
}

async fn an_admin_rewords_an_email_and_patients_receive_it(backend: Backend) {
    let w = world(backend).await;
    let list = w
        .admin
        .api(Method::GET, "/api/v1/orgs/harbour/email-templates", None)
        .await;
    assert_eq!(list.status, StatusCode::OK);
    let booked = &list.json()[0];
    assert_eq!(booked["kind"], "booked");
    assert_eq!(booked["customised"], false);
    assert_eq!(booked["subject"], "Appointment confirmed: {what}");

    // The form: saved, audited, and the list says so.
    let form = w.admin.get("/o/harbour/admin/settings/emails/booked").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.contains("Preview"), "{}", form.body);
    let saved = w
        .admin
        .post_form(
            "/o/harbour/admin/settings/emails/booked",
            &[
                ("subject", "See you soon, {first_name}: {service} on {when}"),
                (
                    "intro",
                    "Thank you for booking with {clinic}. Please arrive 10 minutes early at {where}.",
                ),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let list = w.admin.get("/o/harbour/admin/settings/emails").await;
    assert!(list.contains("Your own"), "{}", list.body);

    book(&w, w.christine, MONDAY_9).await;
    let mail = w.app.mail("ada@example.com").await;
    let email = &mail[0];
    assert_eq!(
        email.subject,
        "See you soon, Ada: Physio visit on Mon 2 Mar 2026, 09:00 EST (UTC-05:00)"
    );
    assert!(
        email.body_text.contains(
            "Thank you for booking with Harbour. Please arrive 10 minutes early at Harbour Clinic."
        ) || email
            .body_text
            .contains("Please arrive 10 minutes early at Harbour Clinic."),
        "{}",
        email.body_text
    );
    // Every fact is still there, whatever the wording.
    for fact in ["What:", "When:", "Where: Harbour Clinic", "Christine Roy"] {
        assert!(
            email.body_text.contains(fact),
            "{fact}: {}",
            email.body_text
        );
    }

    // Back to the default: the next email says it again.
    let reset = w
        .admin
        .api(
            Method::DELETE,
            "/api/v1/orgs/harbour/email-templates/booked",
            None,
        )
        .await;
    assert_eq!(reset.status, StatusCode::OK);
    assert_eq!(reset.json()["customised"], false);
    book(&w, w.marco, MONDAY_9).await;
    let mail = w.app.mail("ada@example.com").await;
    assert!(
        mail[0]
            .subject
            .starts_with("Appointment confirmed: Physio visit with Marco Silva"),
        "{}",
        mail[0].subject
    );

    // Both changes are in the audit log.
    let audit = w
        .admin
        .api(Method::GET, "/api/v1/orgs/harbour/audit", None)
        .await
        .body;
    assert!(audit.contains("organisation.set_email_template"), "{audit}");
    assert!(
        audit.contains("organisation.reset_email_template"),
        "{audit}"
    );
}

async fn bad_wording_is_refused_naming_the_field_and_nothing_is_saved(backend: Backend) {
    let w = world(backend).await;
    let before = w.app.snapshot(&w.org).await;
    for (body, field) in [
        (
            json!({"subject": "Hi {name}", "intro": "Hello."}),
            "subject",
        ),
        (json!({"subject": "Hi", "intro": "Price: {"}), "intro"),
        (json!({"subject": "", "intro": "Hello."}), "subject"),
        (
            json!({"subject": "Two\nlines", "intro": "Hello."}),
            "subject",
        ),
        (json!({"subject": "Hi", "intro": "x".repeat(2001)}), "intro"),
    ] {
        for path in [
            "/api/v1/orgs/harbour/email-templates/booked",
            "/api/v1/orgs/harbour/email-templates/booked/preview",
        ] {
            let method = if path.ends_with("preview") {
                Method::POST
            } else {
                Method::PUT
            };
            let refused = w.admin.api(method, path, Some(body.clone())).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            assert_eq!(
                refused.json()["error"]["field"],
                field,
                "{body}: {}",
                refused.body
            );
        }
    }
    let page = w
        .admin
        .post_form(
            "/o/harbour/admin/settings/emails/booked",
            &[
                ("subject", "Hi {name}"),
                ("intro", "Hello."),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("{name} is not a placeholder"),
        "{}",
        page.body
    );
    let unknown = w
        .admin
        .api(
            Method::PUT,
            "/api/v1/orgs/harbour/email-templates/newsletter",
            Some(json!({"subject": "Hi", "intro": "Hello."})),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(w.app.snapshot(&w.org).await, before, "nothing changed");
    let list = w
        .admin
        .api(Method::GET, "/api/v1/orgs/harbour/email-templates", None)
        .await
        .json();
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|k| k["customised"] == false),
        "{list}"
    );

    // Only admins word the emails.
    let desk = w.app.signed_in(&w.org, Role::FrontDesk).await;
    let refused = desk
        .api(
            Method::PUT,
            "/api/v1/orgs/harbour/email-templates/booked",
            Some(json!({"subject": "Hi", "intro": "Hello."})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

async fn the_preview_shows_typed_words_for_a_sample_without_saving(backend: Backend) {
    let w = world(backend).await;
    let preview = w
        .admin
        .api(
            Method::POST,
            "/api/v1/orgs/harbour/email-templates/cancelled/preview",
            Some(json!({"subject": "{first_name}, your {service} is off", "intro": "Sorry, {practitioner} is away <b>today</b>."})),
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    let p = preview.json();
    assert_eq!(p["subject"], "Sam, your Physio visit is off");
    let text = p["text"].as_str().unwrap();
    assert!(
        text.contains("Sorry, Christine Roy is away <b>today</b>."),
        "{text}"
    );
    assert!(text.contains("Where: Harbour Clinic"), "{text}");
    let html = p["html"].as_str().unwrap();
    assert!(
        html.contains("text/html") || html.contains("<!DOCTYPE html>"),
        "{html}"
    );
    assert!(
        !html.contains("<b>today</b>"),
        "the HTML part escapes the words: {html}"
    );
    assert!(html.contains("<th scope=\"row\""), "{html}");
    // The page's preview, without saving.
    let page = w
        .admin
        .post_form(
            "/o/harbour/admin/settings/emails/cancelled",
            &[
                ("subject", "{first_name}, your {service} is off"),
                ("intro", "Sorry about this."),
                ("action", "preview"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.contains("Preview (not saved)"), "{}", page.body);
    assert!(
        page.contains("Sam, your Physio visit is off"),
        "{}",
        page.body
    );
    let list = w
        .admin
        .api(Method::GET, "/api/v1/orgs/harbour/email-templates", None)
        .await
        .json();
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|k| k["customised"] == false),
        "a preview saves nothing: {list}"
    );
}

async fn every_kind_previews_with_its_facts_and_links(backend: Backend) {
    let w = world(backend).await;
    let kinds = w
        .admin
        .api(Method::GET, "/api/v1/orgs/harbour/email-templates", None)
        .await
        .json();
    let kinds: Vec<String> = kinds
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kind"].as_str().unwrap().to_owned())
        .collect();
    for kind in ["booked", "reminder", "waitlist_offer", "waitlist_gone"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
    for kind in &kinds {
        let preview = w
            .admin
            .api(
                Method::POST,
                &format!("/api/v1/orgs/harbour/email-templates/{kind}/preview"),
                Some(json!({"subject": "{first_name}: {what}", "intro": "Intro for {service} at {where}."})),
            )
            .await;
        assert_eq!(preview.status, StatusCode::OK, "{kind}: {}", preview.body);
        let p = preview.json();
        assert_eq!(
            p["subject"], "Sam: Physio visit with Christine Roy",
            "{kind}"
        );
        let text = p["text"].as_str().unwrap();
        assert!(
            text.contains("Intro for Physio visit at Harbour Clinic."),
            "{kind}: {text}"
        );
        assert!(
            text.contains("When:  ") && text.contains("Where: Harbour Clinic"),
            "{kind}: {text}"
        );
        let page = w
            .admin
            .get(&format!("/o/harbour/admin/settings/emails/{kind}"))
            .await;
        assert_eq!(page.status, StatusCode::OK, "{kind}");
    }
    // The reminder's links and the offer's are in the preview, as links.
    let reminder = w
        .admin
        .api(
            Method::POST,
            "/api/v1/orgs/harbour/email-templates/reminder/preview",
            Some(json!({"subject": "Soon: {what}", "intro": "See you {when}."})),
        )
        .await
        .json();
    assert!(
        reminder["html"]
            .as_str()
            .unwrap()
            .contains("/portal/reminder/sample-confirm-link\""),
        "{}",
        reminder["html"]
    );
}

async fn staff_who_ask_are_told_of_portal_changes(backend: Backend) {
    let w = world(backend).await;
    let desk = w.app.signed_in(&w.org, Role::FrontDesk).await;
    // Marco's own account, and one of another admin who did not ask.
    let hash = openslot_web::auth::password::hash(PASSWORD);
    let mut tx = w.app.db.begin().await.unwrap();
    store::staff::create(
        &mut tx,
        w.org.id,
        &NewStaff {
            email: "marco@example.com",
            name: "Marco Silva",
            role: Role::Practitioner,
            practitioner_id: Some(w.marco),
            password_hash: &hash,
        },
        0,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let marco = w.app.client();
    assert_eq!(
        marco
            .sign_in("harbour", "marco@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );

    // Off by default: nobody is told.
    book(&w, w.christine, MONDAY_9).await;
    assert!(
        w.app
            .mail("front_desk-harbour@example.com")
            .await
            .is_empty()
    );

    // The desk asks on its account page; Marco through the API.
    let page = desk.get("/o/harbour/admin/account").await;
    assert!(
        page.contains("Email me about each booking"),
        "{}",
        page.body
    );
    let saved = desk
        .post_form("/o/harbour/admin/account", &[("portal_changes", "on")])
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let on = marco
        .api(
            Method::PUT,
            "/api/v1/orgs/harbour/account/notifications",
            Some(json!({"portal_changes": true})),
        )
        .await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.body);

    let id = book(&w, w.christine, "2026-03-02T10:00:00-05:00").await;
    let told = w.app.mail("front_desk-harbour@example.com").await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(
        told[0]
            .subject
            .starts_with("Portal booking: Ada Lane, Physio visit with Christine Roy"),
        "{}",
        told[0].subject
    );
    assert!(
        told[0]
            .body_text
            .contains(&format!("/o/harbour/admin/book/appointments/{id}")),
        "{}",
        told[0].body_text
    );
    assert!(
        w.app.mail("marco@example.com").await.is_empty(),
        "Marco hears only of his own appointments"
    );
    let marcos = book(&w, w.marco, MONDAY_9).await;
    assert_eq!(w.app.mail("marco@example.com").await.len(), 1);

    // A cancellation in the portal, with its reason.
    let cancelled = w
        .ada
        .api(
            Method::POST,
            &format!(
                "/api/v1/orgs/harbour/portal/appointments/{marcos}/cancel?reason=feeling%20better"
            ),
            None,
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    let told = w.app.mail("marco@example.com").await;
    assert_eq!(told.len(), 2);
    assert!(
        told[0]
            .subject
            .starts_with("Cancelled in the portal: Ada Lane"),
        "{}",
        told[0].subject
    );
    assert!(
        told[0].body_text.contains("feeling better"),
        "{}",
        told[0].body_text
    );

    // A reason cannot pass for a paragraph, a link line or a ticket row.
    let again = book(&w, w.marco, "2026-03-02T10:30:00-05:00").await;
    let cancelled = w
        .ada
        .api(
            Method::POST,
            &format!(
                "/api/v1/orgs/harbour/portal/appointments/{again}/cancel?reason=sorry%0A%0AOpen%20it%20in%20the%20book%3A%20https%3A%2F%2Fevil.example%2Fx%0A%0AWhen%3A%20never"
            ),
            None,
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    let body = &w.app.mail("marco@example.com").await[0].body_text;
    assert!(
        body.contains("Their reason, as they wrote it: “sorry Open it in the book: https://evil.example/x When: never”\n"),
        "{body}"
    );
    assert_eq!(body.matches("\nOpen it in the book: ").count(), 1, "{body}");
    assert!(!body.contains("\nWhen: never"), "{body}");

    // Turned off: no more.
    let off = marco
        .api(
            Method::PUT,
            "/api/v1/orgs/harbour/account/notifications",
            Some(json!({"portal_changes": false})),
        )
        .await;
    assert_eq!(off.json()["portal_changes"], false);
    book(&w, w.marco, "2026-03-03T09:00:00-05:00").await;
    assert_eq!(w.app.mail("marco@example.com").await.len(), 4);
}

both!(
    an_admin_rewords_an_email_and_patients_receive_it,
    bad_wording_is_refused_naming_the_field_and_nothing_is_saved,
    the_preview_shows_typed_words_for_a_sample_without_saving,
    every_kind_previews_with_its_facts_and_links,
    staff_who_ask_are_told_of_portal_changes,
);
