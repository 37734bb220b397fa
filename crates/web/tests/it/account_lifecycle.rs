//! The account lifecycle as a model test: random sequences of what staff, the owner of
//! a patient record and an attacker can do to portal accounts, over HTTP against the
//! real server, on both backends.
//!
//! The attacker knows every address and every username, and can sign up, ask for
//! resets and try to sign in with any of them, but reads only their own mailbox. The
//! owner reads their own two mailboxes and follows every link they find there, even
//! links they did not ask for. Staff invite, set credentials (telling the owner the
//! password) and change the patient's address between the owner's two addresses.
//!
//! Invariants, checked after every step and at the end:
//! - the attacker never holds a session for the owner's patient record;
//! - the owner can always get back in through their own mailbox (a reset, or, with no
//!   account yet, a sign-up of their own).

use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::{Method, StatusCode};
use serde_json::json;
use slot_engine::Scenario;
use store::Organisation;
use store::staff::Role;

use crate::support::{Backend, Client, TestApp};

const OWNER_ADDRESSES: [&str; 2] = ["ada@example.com", "ada.home@example.com"];
const ATTACKER_ADDRESS: &str = "mallory@example.com";
const ATTACKER_PASSWORD: &str = "stranger-danger-kettle-81";
/// Every address and username anyone might type.
const NAMES: [&str; 4] = [
    "ada@example.com",
    "ada.home@example.com",
    "mallory@example.com",
    "ada.lane",
];

#[derive(Clone, Copy, Debug)]
enum Who {
    Owner,
    Attacker,
}

#[derive(Clone, Copy, Debug)]
enum Link {
    Invitation,
    SignUp,
    Reset,
}

impl Link {
    fn path(self) -> &'static str {
        match self {
            Link::Invitation => "/portal/invitation/",
            Link::SignUp => "/portal/signup/",
            Link::Reset => "/portal/reset/",
        }
    }
}

#[derive(Clone, Debug)]
enum Step {
    StaffInvite,
    /// Staff set a username (`NAMES[i]`, or the patient's address) and tell the owner
    /// the password.
    StaffCredentials(usize),
    /// Staff change the patient's address to one of the owner's.
    StaffChangeEmail(usize),
    /// A sign-up with `NAMES[i]` as the address (the attacker with their password,
    /// the owner with one of their own).
    SignUp(Who, usize),
    Forgot(Who, usize),
    /// Follow every new link in one's own mailbox, oldest first, with one's passwords.
    ReadMail(Who),
    SignIn(Who, usize),
    SignOut(Who),
}

fn who() -> impl Strategy<Value = Who> {
    prop_oneof![Just(Who::Owner), Just(Who::Attacker)]
}

fn step() -> impl Strategy<Value = Step> {
    let name = 0..NAMES.len();
    prop_oneof![
        Just(Step::StaffInvite),
        name.clone().prop_map(Step::StaffCredentials),
        (0..OWNER_ADDRESSES.len()).prop_map(Step::StaffChangeEmail),
        (who(), name.clone()).prop_map(|(w, i)| Step::SignUp(w, i)),
        (who(), name.clone()).prop_map(|(w, i)| Step::Forgot(w, i)),
        who().prop_map(Step::ReadMail),
        (who(), name).prop_map(|(w, i)| Step::SignIn(w, i)),
        who().prop_map(Step::SignOut),
    ]
}

fn clinic() -> Scenario {
    Scenario::from_json(
        json!({
            "version": 1,
            "settings": {"slot_step_minutes": 30},
            "clinics": [{"id": "toronto", "name": "Toronto", "timezone": "America/Toronto"}],
            "schedule_types": [{"id": "physio", "name": "Physio", "clinic": "toronto"}],
            "practitioners": [],
            "services": [],
            "patients": [{"id": "ada", "first_name": "Ada", "last_name": "Lane", "email": "ada@example.com"}]
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap()
}

/// One sequence's world: the server, the people, what each knows.
struct World {
    app: TestApp,
    org: Organisation,
    staff: Client,
    ada: i64,
    owner: Client,
    attacker: Client,
    /// Passwords the owner knows (their own, and those staff told them).
    owner_passwords: Vec<String>,
    /// Mail already followed, so a link is followed once.
    followed: BTreeSet<i64>,
    fresh: u32,
}

impl World {
    async fn new(backend: Backend) -> World {
        // Limits far above what the sequence sends: a refusal for too many attempts
        // would hide what the model is looking for.
        let limits = openslot_web::limits::Limits::new(
            1_000_000,
            std::time::Duration::from_millis(1),
            1_000_000,
            std::time::Duration::from_millis(1),
        );
        let app = TestApp::spawn_with_limits(backend, limits).await;
        let org = app.import("clinic", &clinic()).await;
        let mut tx = app.db.begin().await.unwrap();
        let mut settings = org.settings();
        settings.allow_public_signup = true;
        store::organisation::update_settings(&mut tx, org.id, &settings)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let staff = app.signed_in(&org, Role::FrontDesk).await;
        let ada = app.id(&org, store::keys::Kind::Patient, "ada").await;
        World {
            owner: app.client(),
            attacker: app.client(),
            app,
            org,
            staff,
            ada,
            owner_passwords: vec!["owner-usual-password-0".to_owned()],
            followed: BTreeSet::new(),
            fresh: 0,
        }
    }

    fn client(&self, who: Who) -> &Client {
        match who {
            Who::Owner => &self.owner,
            Who::Attacker => &self.attacker,
        }
    }

    fn mailboxes(who: Who) -> Vec<&'static str> {
        match who {
            Who::Owner => OWNER_ADDRESSES.to_vec(),
            Who::Attacker => vec![ATTACKER_ADDRESS],
        }
    }

    fn new_owner_password(&mut self) -> String {
        self.fresh += 1;
        let password = format!("owner-meadow-lantern-{}", self.fresh);
        self.owner_passwords.push(password.clone());
        password
    }

    fn password_of(&self, who: Who) -> Vec<String> {
        match who {
            Who::Owner => self.owner_passwords.clone(),
            Who::Attacker => vec![ATTACKER_PASSWORD.to_owned()],
        }
    }

    async fn patient_email(&self) -> String {
        let mut conn = self.app.db.conn().await.unwrap();
        store::patient::get(conn.exec(), self.org.id, self.ada)
            .await
            .unwrap()
            .email
    }

    async fn sign_up(&mut self, who: Who, address: &str) {
        let password = match who {
            Who::Owner => self.new_owner_password(),
            Who::Attacker => ATTACKER_PASSWORD.to_owned(),
        };
        let client = self.app.client();
        let challenge: altcha::Challenge =
            serde_json::from_str(&client.get("/o/clinic/portal/captcha").await.body).unwrap();
        let r = client
            .api(
                Method::POST,
                "/api/v1/orgs/clinic/portal/signup",
                Some(
                    json!({"first_name": "Some", "last_name": "One", "email": address,
                            "password": password,
                            "captcha": openslot_web::captcha::solve(&challenge)}),
                ),
            )
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    }

    /// Counts every message now in `who`'s mailboxes as followed.
    async fn mark_all_read(&mut self, who: Who) {
        for address in Self::mailboxes(who) {
            for message in self.app.mail(address).await {
                self.followed.insert(message.id);
            }
        }
    }

    /// The newest unfollowed link of `kind` in `who`'s mailboxes, as a path.
    async fn newest_link(&mut self, who: Who, kind: Link) -> Option<String> {
        let mut found: Option<(i64, String)> = None;
        for address in Self::mailboxes(who) {
            for message in self.app.mail(address).await {
                if self.followed.contains(&message.id) {
                    continue;
                }
                let link = message
                    .body_text
                    .split_whitespace()
                    .find(|w| w.starts_with(&self.app.base) && w.contains(kind.path()));
                if let Some(link) = link
                    && found.as_ref().is_none_or(|(id, _)| message.id > *id)
                {
                    found = Some((message.id, link[self.app.base.len()..].to_owned()));
                }
            }
        }
        let (id, path) = found?;
        self.followed.insert(id);
        Some(path)
    }

    async fn follow(&mut self, who: Who, kind: Link, path: &str) {
        let client = self.client(who).clone();
        match kind {
            // A sign-up's link asks for the password chosen at sign-up: each tries the
            // passwords they know.
            Link::SignUp => {
                for password in self.password_of(who) {
                    let r = client.post_form(path, &[("password", &password)]).await;
                    if r.status == StatusCode::SEE_OTHER {
                        break;
                    }
                }
            }
            Link::Invitation | Link::Reset => {
                let password = match who {
                    Who::Owner => self.new_owner_password(),
                    Who::Attacker => ATTACKER_PASSWORD.to_owned(),
                };
                client
                    .post_form(
                        path,
                        &[
                            ("password", &password),
                            ("password_confirmation", &password),
                        ],
                    )
                    .await;
            }
        }
    }

    /// The oldest unfollowed link in `who`'s mailboxes, with its kind.
    async fn oldest_link(&mut self, who: Who) -> Option<(Link, String)> {
        let mut found: Option<(i64, Link, String)> = None;
        for address in Self::mailboxes(who) {
            for message in self.app.mail(address).await {
                if self.followed.contains(&message.id) {
                    continue;
                }
                for kind in [Link::Invitation, Link::SignUp, Link::Reset] {
                    let link = message
                        .body_text
                        .split_whitespace()
                        .find(|w| w.starts_with(&self.app.base) && w.contains(kind.path()));
                    if let Some(link) = link
                        && found.as_ref().is_none_or(|(id, _, _)| message.id < *id)
                    {
                        found = Some((message.id, kind, link[self.app.base.len()..].to_owned()));
                    }
                }
            }
        }
        let (id, kind, path) = found?;
        self.followed.insert(id);
        Some((kind, path))
    }

    async fn sign_in(&self, who: Who, username: &str) {
        for password in self.password_of(who) {
            let r = self
                .client(who)
                .api(
                    Method::POST,
                    "/api/v1/orgs/clinic/portal/session",
                    Some(json!({"username": username, "password": password})),
                )
                .await;
            if r.status == StatusCode::OK {
                return;
            }
        }
    }

    async fn run(&mut self, step: &Step) {
        let ada = self.ada;
        match step {
            Step::StaffInvite => {
                self.staff
                    .api(
                        Method::POST,
                        &format!("/api/v1/orgs/clinic/patients/{ada}/portal-access/invitation"),
                        None,
                    )
                    .await;
            }
            Step::StaffCredentials(i) => {
                let username = if *i == 0 {
                    self.patient_email().await
                } else {
                    NAMES[*i].to_owned()
                };
                let password = self.new_owner_password();
                self.staff
                    .api(
                        Method::PUT,
                        &format!("/api/v1/orgs/clinic/patients/{ada}/portal-access/credentials"),
                        Some(json!({"username": username, "password": password})),
                    )
                    .await;
            }
            Step::StaffChangeEmail(i) => {
                let r = self
                    .staff
                    .api(
                        Method::PUT,
                        &format!("/api/v1/orgs/clinic/patients/{ada}"),
                        // Staff mean the address even when a sign-up has since
                        // given another patient record the same one.
                        Some(json!({"first_name": "Ada", "last_name": "Lane",
                                    "email": OWNER_ADDRESSES[*i], "phone": "",
                                    "allow_duplicate_email": true})),
                    )
                    .await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            }
            Step::SignUp(who, i) => {
                // The owner signs up only with their own addresses.
                let address = match who {
                    Who::Owner => OWNER_ADDRESSES[i % OWNER_ADDRESSES.len()],
                    // Every address (a username that is not one cannot sign up).
                    Who::Attacker => NAMES[i % 3],
                };
                self.sign_up(*who, address).await;
            }
            Step::Forgot(who, i) => {
                self.client(*who)
                    .api(
                        Method::POST,
                        "/api/v1/orgs/clinic/portal/password-reset",
                        Some(json!({"email": NAMES[*i]})),
                    )
                    .await;
            }
            Step::ReadMail(who) => {
                while let Some((kind, path)) = self.oldest_link(*who).await {
                    self.follow(*who, kind, &path).await;
                }
            }
            Step::SignIn(who, i) => self.sign_in(*who, NAMES[*i]).await,
            Step::SignOut(who) => {
                self.client(*who)
                    .api(Method::DELETE, "/api/v1/orgs/clinic/portal/session", None)
                    .await;
            }
        }
        self.app.state.jobs.idle().await;
    }

    async fn session_patient(&self, client: &Client) -> Option<(i64, String)> {
        let r = client
            .api(Method::GET, "/api/v1/orgs/clinic/portal/session", None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let patient = &r.json()["patient"];
        Some((
            patient["id"].as_i64()?,
            patient["email"].as_str()?.to_owned(),
        ))
    }

    /// The attacker never holds a session for the owner's patient record, and cannot
    /// get one by signing in with their password under any name.
    async fn attacker_is_out(&self) -> Result<(), String> {
        if self.session_patient(&self.attacker).await.map(|p| p.0) == Some(self.ada) {
            return Err("the attacker holds a session for the owner's patient record".into());
        }
        for name in NAMES {
            let attempt = self.app.client();
            let r = attempt
                .api(
                    Method::POST,
                    "/api/v1/orgs/clinic/portal/session",
                    Some(json!({"username": name, "password": ATTACKER_PASSWORD})),
                )
                .await;
            assert_ne!(
                r.status,
                StatusCode::TOO_MANY_REQUESTS,
                "limits hide the answer"
            );
            if r.status == StatusCode::OK
                && self.session_patient(&attempt).await.map(|p| p.0) == Some(self.ada)
            {
                return Err(format!(
                    "the attacker's password signs in to the owner's record as {name}"
                ));
            }
        }
        Ok(())
    }

    /// The owner gets back in through their own mailbox: a reset of every account the
    /// patient's address reaches, or, when it reaches none, a sign-up of their own.
    async fn owner_gets_back_in(&mut self) -> Result<(), String> {
        let address = self.patient_email().await;
        let has_account = {
            let mut conn = self.app.db.conn().await.unwrap();
            store::portal_access::of_patient(conn.exec(), self.org.id, self.ada)
                .await
                .unwrap()
                .is_some()
        };
        let owner = self.app.client();
        if has_account {
            owner
                .api(
                    Method::POST,
                    "/api/v1/orgs/clinic/portal/password-reset",
                    Some(json!({"email": address})),
                )
                .await;
            self.app.state.jobs.idle().await;
            // Every reset just sent is for an account of the owner's address; one of
            // them must be the patient record's.
            let mut reached = false;
            while let Some(path) = self.newest_link(Who::Owner, Link::Reset).await {
                let password = self.new_owner_password();
                let client = self.app.client();
                let r = client
                    .post_form(
                        &path,
                        &[
                            ("password", &password),
                            ("password_confirmation", &password),
                        ],
                    )
                    .await;
                if r.status == StatusCode::SEE_OTHER
                    && self.session_patient(&client).await.map(|p| p.0) == Some(self.ada)
                {
                    reached = true;
                }
            }
            if !reached {
                return Err(format!(
                    "a reset through {address} did not give the owner their record back"
                ));
            }
        } else {
            // Only the mail this sign-up sends counts: an older sign-up link in the
            // owner's mailbox may be a stranger's, which asks for the stranger's
            // password.
            self.mark_all_read(Who::Owner).await;
            self.sign_up(Who::Owner, &address).await;
            self.app.state.jobs.idle().await;
            let Some(path) = self.newest_link(Who::Owner, Link::SignUp).await else {
                // The address already reaches an account (the owner's own sign-up,
                // made before staff moved the record to this address): its owner
                // resets it the same way.
                return Ok(());
            };
            let password = self.owner_passwords.last().cloned().unwrap_or_default();
            let client = self.app.client();
            client.post_form(&path, &[("password", &password)]).await;
            match self.session_patient(&client).await {
                Some((_, email)) if OWNER_ADDRESSES.contains(&email.as_str()) => {}
                other => {
                    return Err(format!(
                        "the owner's own sign-up through {address} did not sign them in: {other:?}"
                    ));
                }
            }
        }
        Ok(())
    }
}

pub(crate) fn account_lifecycle(backend: Backend) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut runner = TestRunner::new(Config {
        cases: 32,
        max_shrink_iters: 40,
        failure_persistence: None,
        ..Config::default()
    });
    // Sequences that once failed, replayed first on every run.
    for steps in regressions() {
        if let Err(e) = runtime.block_on(replay(backend, &steps)) {
            panic!("regression {steps:?}: {e}");
        }
    }
    let result = runner.run(&proptest::collection::vec(step(), 4..14), |steps| {
        runtime.block_on(replay(backend, &steps))
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Runs `steps` in a new world, checking the invariants after each and at the end.
async fn replay(backend: Backend, steps: &[Step]) -> Result<(), TestCaseError> {
    let mut world = World::new(backend).await;
    for (n, step) in steps.iter().enumerate() {
        world.run(step).await;
        world
            .attacker_is_out()
            .await
            .map_err(|e| TestCaseError::fail(format!("after step {n} {step:?}: {e}")))?;
    }
    world
        .owner_gets_back_in()
        .await
        .map_err(TestCaseError::fail)?;
    world.attacker_is_out().await.map_err(TestCaseError::fail)?;
    world.app.stop().await;
    Ok(())
}

fn regressions() -> Vec<Vec<Step>> {
    vec![
        // The owner's own account at their second address, the record moved there, and
        // a stranger's sign-up link waiting in the first: getting back in must use the
        // owner's sign-up, not the stranger's older link.
        vec![
            Step::SignUp(Who::Owner, 1),
            Step::ReadMail(Who::Owner),
            Step::StaffChangeEmail(1),
            Step::SignUp(Who::Attacker, 3),
        ],
    ]
}

mod sqlite {
    #[test]
    fn account_lifecycle() {
        super::account_lifecycle(crate::support::Backend::Sqlite);
    }
}

mod postgres {
    #[test]
    #[ignore = "needs PostgreSQL: set OPENSLOT_TEST_POSTGRES_URL"]
    fn account_lifecycle() {
        super::account_lifecycle(crate::support::Backend::Postgres);
    }
}
