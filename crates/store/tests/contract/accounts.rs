//! A patient's own account: a change of address that waits for its link to the new
//! address (used once, expiring, cancelled by a newer change or a new password, never
//! taking another account's address or one a sign-up waits for, never reaching another
//! organisation), the details a patient may edit, and the patients who share an address.

use serde_json::json;
use slot_engine::Scenario;
use store::portal_access::{self, PortalAccount, Purpose, TokenState};
use store::portal_email_change::{self, Completion, EMAIL_CHANGE_NS, LinkState, Started};
use store::{Error, Organisation};

use crate::{TestDb, both, import};

const NOW: i64 = 1_772_000_000_000_000_000;

/// Patients `ada` (ada@example.com), `bo` (bo@example.com) and `cy` (CY@Example.com,
/// as an import may have it).
fn clinic() -> Scenario {
    Scenario::from_json(
        json!({
            "version": 1,
            "patients": [
                {"id": "ada", "first_name": "Ada", "last_name": "Lane", "email": "ada@example.com"},
                {"id": "bo", "first_name": "Bo", "last_name": "Reyes", "email": "bo@example.com"},
                {"id": "cy", "first_name": "Cy", "last_name": "Park", "email": "CY@Example.com"}
            ]
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap()
}

async fn patient(t: &TestDb, org: &Organisation, key: &str) -> store::patient::Patient {
    let id = crate::id(&t.db, store::keys::Kind::Patient, org, key).await;
    let mut conn = t.db.conn().await.unwrap();
    store::patient::get(conn.exec(), org.id, id).await.unwrap()
}

/// Gives patient `key` an account whose username is their address and password hash
/// `hash`.
async fn account(t: &TestDb, org: &Organisation, key: &str, hash: &str) -> PortalAccount {
    let p = patient(t, org, key).await;
    let mut tx = t.db.begin().await.unwrap();
    let account =
        portal_access::set_credentials(&mut tx, org.id, p.id, &p.email, hash, NOW - 1_000)
            .await
            .unwrap();
    tx.commit().await.unwrap();
    account
}

async fn start(
    t: &TestDb,
    org: &Organisation,
    account: &PortalAccount,
    email: &str,
    token: &str,
    now: i64,
) -> Result<Started, Error> {
    let mut tx = t.db.begin().await.unwrap();
    let started = portal_email_change::start(&mut tx, org.id, account, email, token, now).await?;
    tx.commit().await.unwrap();
    Ok(started)
}

async fn complete(t: &TestDb, org: &Organisation, token: &str, now: i64) -> Completion {
    let mut tx = t.db.begin().await.unwrap();
    let done = portal_email_change::complete(&mut tx, org.id, token, now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    done
}

async fn state(t: &TestDb, org: &Organisation, token: &str, now: i64) -> LinkState {
    let mut conn = t.db.conn().await.unwrap();
    portal_email_change::inspect(conn.exec(), org.id, token, now)
        .await
        .unwrap()
}

async fn account_now(t: &TestDb, org: &Organisation, id: i64) -> PortalAccount {
    let mut conn = t.db.conn().await.unwrap();
    portal_access::get(conn.exec(), org.id, id).await.unwrap()
}

async fn a_change_of_address_waits_for_its_link_and_works_once(t: &TestDb) {
    let org = import(&t.db, "clinic", &clinic()).await;
    let ada = account(t, &org, "ada", "hash-of-ada").await;
    // A reset link sent to the old address before the change.
    let mut tx = t.db.begin().await.unwrap();
    portal_access::issue_token(
        &mut tx,
        org.id,
        ada.id,
        Purpose::PasswordReset,
        "reset",
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let started = start(t, &org, &ada, " Ada.New@Example.COM ", "link", NOW).await;
    assert_eq!(started.unwrap(), Started::Link);
    // Nothing changed yet: the address, the username, the reset link.
    assert_eq!(patient(t, &org, "ada").await.email, "ada@example.com");
    assert_eq!(account_now(t, &org, ada.id).await, ada);
    {
        let mut conn = t.db.conn().await.unwrap();
        let waiting = portal_email_change::waiting(conn.exec(), org.id, ada.id, NOW)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(waiting.new_email, "ada.new@example.com");
        assert_eq!(waiting.expires_at_ns, NOW + EMAIL_CHANGE_NS);
        let reset = portal_access::inspect(
            &mut conn.exec(),
            org.id,
            Purpose::PasswordReset,
            "reset",
            NOW,
        )
        .await
        .unwrap();
        assert!(matches!(reset, TokenState::Valid(_)), "{reset:?}");
    }
    // The link: the address and the username change; the password and sessions stay.
    let Completion::Changed(changed) = complete(t, &org, "link", NOW + 10).await else {
        panic!("not changed");
    };
    assert_eq!(changed.old_email, "ada@example.com");
    assert_eq!(changed.new_email, "ada.new@example.com");
    assert_eq!(changed.account.username, "ada.new@example.com");
    assert_eq!(patient(t, &org, "ada").await.email, "ada.new@example.com");
    let after = account_now(t, &org, ada.id).await;
    assert_eq!(after.username, "ada.new@example.com");
    assert_eq!(after.password_hash.as_deref(), Some("hash-of-ada"));
    assert_eq!(after.session_epoch, ada.session_epoch);
    // The reset link went to the old address: it no longer works.
    let mut conn = t.db.conn().await.unwrap();
    let reset = portal_access::inspect(
        &mut conn.exec(),
        org.id,
        Purpose::PasswordReset,
        "reset",
        NOW + 20,
    )
    .await
    .unwrap();
    assert_eq!(reset, TokenState::Used);
    assert_eq!(
        portal_email_change::waiting(conn.exec(), org.id, ada.id, NOW + 20)
            .await
            .unwrap(),
        None
    );
    drop(conn);
    // Once only.
    assert_eq!(
        complete(t, &org, "link", NOW + 30).await,
        Completion::NotValid(LinkState::Used)
    );
    assert_eq!(state(t, &org, "link", NOW + 30).await, LinkState::Used);
}

async fn a_link_expires_and_a_newer_change_or_a_new_password_cancels_it(t: &TestDb) {
    let org = import(&t.db, "clinic", &clinic()).await;
    let ada = account(t, &org, "ada", "hash-of-ada").await;
    start(t, &org, &ada, "one@example.com", "one", NOW)
        .await
        .unwrap();
    // At its expiry instant the link has expired, and changes nothing.
    let expiry = NOW + EMAIL_CHANGE_NS;
    assert!(matches!(
        state(t, &org, "one", expiry - 1).await,
        LinkState::Valid(_)
    ));
    assert_eq!(state(t, &org, "one", expiry).await, LinkState::Expired);
    assert_eq!(
        complete(t, &org, "one", expiry).await,
        Completion::NotValid(LinkState::Expired)
    );
    assert_eq!(patient(t, &org, "ada").await.email, "ada@example.com");
    // A newer change cancels the one before.
    start(t, &org, &ada, "two@example.com", "two", NOW)
        .await
        .unwrap();
    start(t, &org, &ada, "three@example.com", "three", NOW + 1)
        .await
        .unwrap();
    assert_eq!(state(t, &org, "two", NOW + 2).await, LinkState::Cancelled);
    assert_eq!(
        complete(t, &org, "two", NOW + 2).await,
        Completion::NotValid(LinkState::Cancelled)
    );
    // A new password (the patient's, a reset's, staff's) cancels the one waiting.
    let mut tx = t.db.begin().await.unwrap();
    portal_access::set_password(&mut tx, org.id, ada.id, "new-hash", NOW + 3)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(state(t, &org, "three", NOW + 4).await, LinkState::Cancelled);
    assert_eq!(
        complete(t, &org, "three", NOW + 4).await,
        Completion::NotValid(LinkState::Cancelled)
    );
    // So does staff editing the address.
    start(t, &org, &ada, "four@example.com", "four", NOW + 5)
        .await
        .unwrap();
    let p = patient(t, &org, "ada").await;
    let mut tx = t.db.begin().await.unwrap();
    store::patient::update(
        &mut tx,
        org.id,
        p.id,
        &store::patient::PatientInput {
            first_name: p.first_name.clone(),
            last_name: p.last_name.clone(),
            email: "staff-typed@example.com".into(),
            phone: String::new(),
        },
        NOW + 6,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(state(t, &org, "four", NOW + 7).await, LinkState::Cancelled);
    assert_eq!(
        patient(t, &org, "ada").await.email,
        "staff-typed@example.com"
    );
    assert_eq!(state(t, &org, "never-sent", NOW).await, LinkState::Unknown);
}

async fn a_change_never_takes_another_accounts_address(t: &TestDb) {
    let org = import(&t.db, "clinic", &clinic()).await;
    let ada = account(t, &org, "ada", "hash-of-ada").await;
    let bo = account(t, &org, "bo", "hash-of-bo").await;
    // Bo's username: taken, whatever its case. The change is recorded all the same (the
    // patient's pages look the same either way), but its link is never sent, and even
    // followed it changes nothing.
    assert_eq!(
        start(t, &org, &ada, "BO@example.com", "bo", NOW)
            .await
            .unwrap(),
        Started::Taken
    );
    assert_eq!(
        complete(t, &org, "bo", NOW + 1).await,
        Completion::AddressTaken
    );
    assert_eq!(patient(t, &org, "ada").await.email, "ada@example.com");
    assert_eq!(account_now(t, &org, ada.id).await, ada);
    assert_eq!(account_now(t, &org, bo.id).await, bo);
    // A sign-up waiting for its link: taken too, until it expires.
    let mut tx = t.db.begin().await.unwrap();
    store::portal_signup::record(
        &mut tx,
        org.id,
        &store::portal_signup::NewSignup {
            email: "Dee@Example.com",
            first_name: "Dee",
            last_name: "Ng",
            password_hash: "x",
        },
        "signup",
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        start(t, &org, &ada, "dee@example.com", "dee", NOW)
            .await
            .unwrap(),
        Started::Taken
    );
    let after_signup = NOW + store::portal_access::INVITATION_NS;
    assert_eq!(
        start(t, &org, &ada, "dee@example.com", "dee2", after_signup)
            .await
            .unwrap(),
        Started::Link
    );
    // Taken between the start and the link: nothing changes, and the link is spent.
    start(t, &org, &ada, "eve@example.com", "eve", NOW)
        .await
        .unwrap();
    let cy = patient(t, &org, "cy").await;
    let mut tx = t.db.begin().await.unwrap();
    portal_access::set_credentials(&mut tx, org.id, cy.id, "eve@example.com", "x", NOW)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        complete(t, &org, "eve", NOW + 1).await,
        Completion::AddressTaken
    );
    assert_eq!(state(t, &org, "eve", NOW + 2).await, LinkState::Used);
    assert_eq!(patient(t, &org, "ada").await.email, "ada@example.com");
    // The patient's own address, or no address at all: refused naming the field.
    for (typed, message) in [
        ("ADA@example.com", "already your email address"),
        ("ada at example", "is not an email address"),
    ] {
        match start(t, &org, &ada, typed, "x", NOW).await {
            Err(Error::Invalid { field, message: m }) => {
                assert_eq!(field, "email");
                assert!(m.contains(message), "{m}");
            }
            other => panic!("{typed}: {other:?}"),
        }
    }
}

async fn a_link_works_only_in_its_own_organisation(t: &TestDb) {
    let alpha = import(&t.db, "alpha", &clinic()).await;
    let beta = import(&t.db, "beta", &clinic()).await;
    let ada = account(t, &alpha, "ada", "hash-of-ada").await;
    let beta_ada = account(t, &beta, "ada", "hash-of-beta-ada").await;
    start(t, &alpha, &ada, "ada.new@example.com", "alpha-link", NOW)
        .await
        .unwrap();
    // Beta's patient with the same address is not affected, and alpha's link is
    // unknown at beta's.
    assert_eq!(state(t, &beta, "alpha-link", NOW).await, LinkState::Unknown);
    assert_eq!(
        complete(t, &beta, "alpha-link", NOW).await,
        Completion::NotValid(LinkState::Unknown)
    );
    assert_eq!(account_now(t, &beta, beta_ada.id).await, beta_ada);
    // Another organisation's account is refused by the store's guard and the database's.
    let mut tx = t.db.begin().await.unwrap();
    let refused = portal_email_change::start(
        &mut tx,
        beta.id,
        &ada,
        "elsewhere@example.com",
        "cross",
        NOW,
    )
    .await;
    assert!(
        matches!(refused, Err(Error::NotFound(_) | Error::Invalid { .. })),
        "{refused:?}"
    );
    drop(tx);
    // An address that is a username in beta only is free in alpha.
    let bo_beta = patient(t, &beta, "bo").await;
    let mut tx = t.db.begin().await.unwrap();
    portal_access::set_credentials(&mut tx, beta.id, bo_beta.id, "free@example.com", "x", NOW)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        start(t, &alpha, &ada, "free@example.com", "free", NOW)
            .await
            .unwrap(),
        Started::Link
    );
    assert!(matches!(
        complete(t, &alpha, "free", NOW + 1).await,
        Completion::Changed(_)
    ));
}

async fn a_patient_edits_their_names_and_phone_but_not_their_address(t: &TestDb) {
    let org = import(&t.db, "clinic", &clinic()).await;
    let ada = patient(t, &org, "ada").await;
    let mut tx = t.db.begin().await.unwrap();
    let saved =
        store::patient::update_details(&mut tx, org.id, ada.id, " Adah ", "Lane-Ng", " 555-0100 ")
            .await
            .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        (
            saved.first_name.as_str(),
            saved.last_name.as_str(),
            saved.phone.as_str(),
            saved.email.as_str()
        ),
        ("Adah", "Lane-Ng", "555-0100", "ada@example.com")
    );
    let long_phone = "5".repeat(41);
    for (first, last, phone, field) in [
        ("", "Lane", "", "first_name"),
        ("Ada", "   ", "", "last_name"),
        ("Ada\nX", "Lane", "", "first_name"),
        ("Ada", "Lane", long_phone.as_str(), "phone"),
    ] {
        let mut tx = t.db.begin().await.unwrap();
        match store::patient::update_details(&mut tx, org.id, ada.id, first, last, phone).await {
            Err(Error::Invalid { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    assert_eq!(patient(t, &org, "ada").await, saved);
    // Another organisation's patient is not found.
    let other = import(&t.db, "other", &clinic()).await;
    let mut tx = t.db.begin().await.unwrap();
    assert!(matches!(
        store::patient::update_details(&mut tx, other.id, ada.id, "X", "Y", "").await,
        Err(Error::NotFound(_))
    ));
}

async fn patients_sharing_an_address_are_found_in_normal_form(t: &TestDb) {
    let org = import(&t.db, "clinic", &clinic()).await;
    let other = import(&t.db, "other", &clinic()).await;
    let (ada, cy) = (patient(t, &org, "ada").await, patient(t, &org, "cy").await);
    let mut conn = t.db.conn().await.unwrap();
    let sharing = |email: &'static str, except: Option<i64>| {
        let db = t.db.clone();
        let org = org.id;
        async move {
            let mut conn = db.conn().await.unwrap();
            store::patient::sharing_email(conn.exec(), org, email, except)
                .await
                .unwrap()
                .into_iter()
                .map(|p| p.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(sharing(" ADA@example.com ", None).await, [ada.id]);
    // Compared in normal form, also an address imported as `CY@Example.com`.
    assert_eq!(sharing("cy@example.COM", None).await, [cy.id]);
    // The patient being edited is left out.
    assert!(sharing("ada@example.com", Some(ada.id)).await.is_empty());
    assert!(sharing("nobody@example.com", None).await.is_empty());
    assert!(sharing("not an address", None).await.is_empty());
    // Never another organisation's patients.
    let theirs = store::patient::sharing_email(conn.exec(), other.id, "ada@example.com", None)
        .await
        .unwrap();
    assert_eq!(theirs.len(), 1);
    assert_ne!(theirs[0].id, ada.id);
}

both!(
    a_change_of_address_waits_for_its_link_and_works_once,
    a_link_expires_and_a_newer_change_or_a_new_password_cancels_it,
    a_change_never_takes_another_accounts_address,
    a_link_works_only_in_its_own_organisation,
    a_patient_edits_their_names_and_phone_but_not_their_address,
    patients_sharing_an_address_are_found_in_normal_form,
);
