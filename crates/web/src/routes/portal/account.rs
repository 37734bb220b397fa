//! The portal's doors: sign in and out, sign up (with the proof-of-work CAPTCHA),
//! forgot password, and the emailed links (invitation, sign-up confirmation, reset).
//!
//! None of them tells whether an email address has an account: sign-in fails with one
//! message, sign-up and forgot-password answer the same page either way and do the same
//! work (a password hash, a lookup), and the owner of an existing address gets an email
//! instead.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use store::Organisation;
use store::portal_access::{self, PortalAccount, Purpose, TokenState};
use store::portal_signup::{self, Completed, LinkState, NewSignup};
use tower_sessions::Session;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::patient::{PatientSession, start_session};
use crate::auth::staff::Org;
use crate::auth::{csrf, password};
use crate::error::{AppError, PageError};
use crate::form::{FieldErrors, FormData, JsonBody, PageQuery};
use crate::limits::ClientAddress;
use crate::notices;
use crate::pages::PortalLayout;
use crate::state::AppState;

/// The pages.
pub fn pages() -> Router<AppState> {
    Router::new()
        .route(
            "/o/{slug}/portal/signin",
            get(signin_form).post(signin_submit),
        )
        .route("/o/{slug}/portal/signout", post(signout))
        .route(
            "/o/{slug}/portal/signup",
            get(signup_form).post(signup_submit),
        )
        .route(
            "/o/{slug}/portal/signup/{token}",
            get(signup_link_form).post(signup_link_submit),
        )
        .route("/o/{slug}/portal/captcha", get(captcha_page))
        .route(
            "/o/{slug}/portal/forgot",
            get(forgot_form).post(forgot_submit),
        )
        .route(
            "/o/{slug}/portal/reset/{token}",
            get(reset_form).post(reset_submit),
        )
        .route(
            "/o/{slug}/portal/invitation/{token}",
            get(invitation_form).post(invitation_submit),
        )
}

/// The API.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_session, api_signin, api_signout))
        .routes(routes!(api_captcha))
        .routes(routes!(api_signup))
        .routes(routes!(api_signup_state, api_signup_confirm))
        .routes(routes!(api_forgot))
        .routes(routes!(api_reset))
        .routes(routes!(api_invitation_state, api_invitation_accept))
}

async fn layout(
    org: &Organisation,
    session: &Session,
    title: &str,
    active: &'static str,
) -> Result<PortalLayout, AppError> {
    PortalLayout::new(org, session, None, title, active).await
}

/// Only paths inside this organisation's portal: never an open redirect.
fn safe_next(slug: &str, next: Option<&str>) -> String {
    crate::auth::redirect_after_sign_in(
        &format!("/o/{slug}/portal/"),
        &format!("/o/{slug}/portal/appointments"),
        next,
    )
}

/// Checks portal credentials, doing the same work whether or not the account exists
/// or can sign in, within the rate limits of the client's address and the account.
pub async fn authenticate(
    state: &AppState,
    address: ClientAddress,
    org: i64,
    username: &str,
    secret: &str,
) -> Result<Option<PortalAccount>, AppError> {
    let username = username.trim().to_lowercase();
    if let Err(e) = state
        .limits
        .attempt(address.0, Some(&format!("portal:{org}:{username}")))
    {
        crate::metrics::Metrics::inc(&state.metrics.rate_limited);
        return Err(e);
    }
    let mut conn = state.db.conn().await?;
    let account = portal_access::by_username(conn.exec(), org, &username).await?;
    drop(conn);
    let secret = secret.to_owned();
    tokio::task::spawn_blocking(move || match account {
        Some(a) if a.can_sign_in() => {
            let hash = a.password_hash.clone().unwrap_or_default();
            password::verify(&secret, &hash).then_some(a)
        }
        _ => {
            password::verify_dummy(&secret);
            None
        }
    })
    .await
    .map_err(AppError::internal)
}

async fn sign_in_account(
    session: &Session,
    org: i64,
    account: &PortalAccount,
) -> Result<(), AppError> {
    start_session(
        session,
        PatientSession {
            org_id: org,
            patient_id: account.patient_id,
            account_id: account.id,
            epoch: account.session_epoch,
        },
    )
    .await
}

// Sign in and out.

#[derive(Template, WebTemplate)]
#[template(path = "portal/signin.html")]
struct SignIn {
    layout: PortalLayout,
    username: String,
    next: String,
    failed: bool,
    signup: bool,
}

#[derive(Deserialize)]
struct Next {
    next: Option<String>,
}

async fn signin_form(
    Org(org): Org,
    session: Session,
    PageQuery(q): PageQuery<Next>,
) -> Result<SignIn, PageError> {
    Ok(SignIn {
        layout: layout(&org, &session, "Sign in", "signin").await?,
        username: String::new(),
        next: safe_next(&org.slug, q.next.as_deref()),
        failed: false,
        signup: org.allow_public_signup,
    })
}

async fn signin_submit(
    State(state): State<AppState>,
    Org(org): Org,
    address: ClientAddress,
    session: Session,
    form: FormData,
) -> Result<Response, PageError> {
    let username = form.get("username");
    let next = safe_next(&org.slug, form.optional("next").as_deref());
    match authenticate(&state, address, org.id, &username, &form.secret("password")).await? {
        Some(account) => {
            sign_in_account(&session, org.id, &account).await?;
            Ok(Redirect::to(&next).into_response())
        }
        None => {
            let page = SignIn {
                layout: layout(&org, &session, "Sign in", "signin").await?,
                username,
                next,
                failed: true,
                signup: org.allow_public_signup,
            };
            Ok((StatusCode::UNAUTHORIZED, page).into_response())
        }
    }
}

async fn signout(Org(org): Org, session: Session) -> Result<Redirect, PageError> {
    session.flush().await.map_err(AppError::internal)?;
    Ok(Redirect::to(&format!("/o/{}/portal", org.slug)))
}

// Sign up.

#[derive(Template, WebTemplate)]
#[template(path = "portal/signup.html")]
struct SignUp {
    layout: PortalLayout,
    errors: FieldErrors,
    first_name: String,
    last_name: String,
    email: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/message.html")]
struct Message {
    layout: PortalLayout,
    heading: String,
    paragraphs: Vec<String>,
    link: Option<(String, String)>,
}

fn signup_closed() -> AppError {
    AppError::NotFound("public sign-up (ask the clinic for an invitation)".into())
}

async fn signup_form(Org(org): Org, session: Session) -> Result<SignUp, PageError> {
    if !org.allow_public_signup {
        return Err(signup_closed().into());
    }
    Ok(SignUp {
        layout: layout(&org, &session, "Create an account", "signin").await?,
        errors: FieldErrors::new(),
        first_name: String::new(),
        last_name: String::new(),
        email: String::new(),
    })
}

async fn captcha_page(
    State(state): State<AppState>,
    Org(_org): Org,
) -> Result<Json<altcha::Challenge>, AppError> {
    Ok(Json(crate::captcha::issue(&state).await?))
}

/// What a sign-up request carries.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SignUpRequest {
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Email: the username and the address for confirmations.
    pub email: String,
    /// At least 10 characters, not easy to guess.
    pub password: String,
    /// The solved proof-of-work challenge (see `GET …/portal/captcha` and docs/api.md).
    pub captcha: String,
}

/// Registers a patient, answering the same whether or not the address has an account.
/// Field errors (names, email form, password strength, CAPTCHA) come back before
/// anything is looked up, so they say nothing about existing accounts. The caller has
/// counted the attempt against the address's rate limit ([`sign_up_allowed`]).
async fn sign_up(
    state: &AppState,
    org: &Organisation,
    req: &SignUpRequest,
) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::new();
    let email = match store::staff::normalise_email(&req.email) {
        Ok(e) => e,
        Err(e) => {
            let _ = errors.absorb(e);
            String::new()
        }
    };
    if let Err(e) = store::patient::check_names(&req.first_name, &req.last_name) {
        let _ = errors.absorb(e);
    }
    if let Err(message) = password::check_new(
        &req.password,
        &[&email, req.first_name.trim(), req.last_name.trim()],
    ) {
        errors.add("password", message);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if let Err(e) = crate::captcha::verify(state, &req.captcha).await {
        errors.add(
            "captcha",
            e.message().trim_start_matches("captcha: ").to_owned(),
        );
        return Err(errors);
    }
    // The password is hashed whether or not the address has an account: the same work.
    let secret = req.password.clone();
    let hash = match tokio::task::spawn_blocking(move || password::hash(&secret)).await {
        Ok(hash) => hash,
        Err(e) => return Err(internal(e)),
    };
    // Whether the address has an account decides what happens next; the answer must
    // not wait for it (nor take longer either way).
    let (job_state, org) = (state.clone(), org.clone());
    let (first_name, last_name) = (
        req.first_name.trim().to_owned(),
        req.last_name.trim().to_owned(),
    );
    state.jobs.spawn("sign-up", async move {
        let signup = NewSignup {
            email: &email,
            first_name: &first_name,
            last_name: &last_name,
            password_hash: &hash,
        };
        register(&job_state, &org, &signup).await
    });
    Ok(())
}

/// Counts a sign-up attempt against the client address's rate limit: over it, the
/// seconds to wait (answered as 429 with `Retry-After`).
fn sign_up_allowed(state: &AppState, address: ClientAddress) -> Result<(), AppError> {
    state.limits.attempt(address.0, None).inspect_err(|_| {
        crate::metrics::Metrics::inc(&state.metrics.rate_limited);
    })
}

fn internal(e: impl std::fmt::Display) -> FieldErrors {
    tracing::error!(error = %e, "sign-up failed");
    let mut errors = FieldErrors::new();
    errors.add("form", "something went wrong on our side; please try again");
    errors
}

/// Records a sign-up and emails its link, or, when the address already reaches an
/// account, tells the address's owner instead. Nothing of the clinic's patients or
/// accounts changes until the link is followed with the password chosen here
/// ([`store::portal_signup`]).
async fn register(
    state: &AppState,
    org: &Organisation,
    signup: &NewSignup<'_>,
) -> store::Result<()> {
    let now = state.clock.now_ns();
    let portal_url = format!("{}/o/{}/portal", state.config.public_url, org.slug);
    let mut tx = state.db.begin().await?;
    let accounts = portal_access::of_address(&mut tx.exec(), org.id, signup.email).await?;
    let message = if accounts.is_empty() {
        let token = csrf::random_token();
        portal_signup::record(&mut tx, org.id, signup, &token, now).await?;
        notices::signup_confirm(
            &org.name,
            signup.email,
            &format!("{portal_url}/signup/{token}"),
        )
    } else {
        let usernames: Vec<String> = accounts.into_iter().map(|a| a.username).collect();
        notices::signup_exists(&org.name, signup.email, &usernames, &portal_url)
    };
    store::outbox::enqueue(&mut tx, Some(org.id), &message, now).await?;
    tx.commit().await?;
    state.mail.notify();
    Ok(())
}

fn signup_done(email: &str) -> Vec<String> {
    vec![
        format!("We sent a message to {email}."),
        "Follow the link in it and give the password you just chose to confirm your address; that signs you in. The link works for 3 days.".to_owned(),
        "If you do not see it, check your spam folder.".to_owned(),
    ]
}

async fn signup_submit(
    State(state): State<AppState>,
    Org(org): Org,
    address: ClientAddress,
    session: Session,
    form: FormData,
) -> Result<Response, PageError> {
    if !org.allow_public_signup {
        return Err(signup_closed().into());
    }
    let req = SignUpRequest {
        first_name: form.get("first_name"),
        last_name: form.get("last_name"),
        email: form.get("email"),
        password: form.secret("password"),
        captcha: form.get("captcha"),
    };
    let (result, limited) = match sign_up_allowed(&state, address) {
        Ok(()) => (sign_up(&state, &org, &req).await, None),
        Err(e) => {
            let mut errors = FieldErrors::new();
            errors.add("form", e.message());
            (Err(errors), Some(e))
        }
    };
    match result {
        Ok(()) => Ok(Message {
            layout: layout(&org, &session, "Check your email", "signin").await?,
            heading: "Check your email".into(),
            paragraphs: signup_done(req.email.trim()),
            link: None,
        }
        .into_response()),
        Err(errors) => {
            let page = SignUp {
                layout: layout(&org, &session, "Create an account", "signin").await?,
                errors,
                first_name: req.first_name,
                last_name: req.last_name,
                email: req.email,
            };
            Ok(match limited {
                // The form again, with the status and `Retry-After` of the limit.
                Some(AppError::TooManyRequests { retry_after }) => (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(axum::http::header::RETRY_AFTER, retry_after.to_string())],
                    page,
                )
                    .into_response(),
                Some(e) => return Err(e.into()),
                None => (StatusCode::UNPROCESSABLE_ENTITY, page).into_response(),
            })
        }
    }
}

// Forgot password.

#[derive(Template, WebTemplate)]
#[template(path = "portal/forgot.html")]
struct Forgot {
    layout: PortalLayout,
}

async fn forgot_form(Org(org): Org, session: Session) -> Result<Forgot, PageError> {
    Ok(Forgot {
        layout: layout(&org, &session, "Forgot password", "signin").await?,
    })
}

/// Counts the attempt, then sends a reset link if the address has an account — after
/// the caller has answered, which it does the same either way and in the same time.
async fn forgot(
    state: &AppState,
    org: &Organisation,
    address: ClientAddress,
    email: &str,
) -> Result<(), AppError> {
    let email = email.trim().to_lowercase();
    state
        .limits
        .attempt(address.0, Some(&format!("reset:{}:{email}", org.id)))?;
    let (job_state, org) = (state.clone(), org.clone());
    state.jobs.spawn("password reset", async move {
        send_reset(&job_state, &org, &email).await
    });
    Ok(())
}

/// Issues a reset token and queues its email, if `email` has an account.
async fn send_reset(state: &AppState, org: &Organisation, email: &str) -> Result<(), AppError> {
    let now = state.clock.now_ns();
    let mut tx = state.db.begin().await?;
    // The link goes to the address the clinic has for the patient, never to the one
    // typed (which may be a username).
    for account in portal_access::of_address(&mut tx.exec(), org.id, email).await? {
        let patient = store::patient::get(tx.exec(), org.id, account.patient_id).await?;
        if patient.email.is_empty() {
            continue;
        }
        let token = csrf::random_token();
        portal_access::issue_token(
            &mut tx,
            org.id,
            account.id,
            Purpose::PasswordReset,
            &token,
            now,
        )
        .await?;
        let link = format!(
            "{}/o/{}/portal/reset/{token}",
            state.config.public_url, org.slug
        );
        store::outbox::enqueue(
            &mut tx,
            Some(org.id),
            &notices::reset(&org.name, &patient.email, &account.username, &link),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    state.mail.notify();
    Ok(())
}

fn forgot_done(email: &str) -> Vec<String> {
    vec![
        format!(
            "If an account uses {email}, we sent a link to choose a new password to the address the clinic has for it."
        ),
        "The link works once, for 1 hour.".to_owned(),
    ]
}

async fn forgot_submit(
    State(state): State<AppState>,
    Org(org): Org,
    address: ClientAddress,
    session: Session,
    form: FormData,
) -> Result<Message, PageError> {
    let email = form.get("email");
    forgot(&state, &org, address, &email).await?;
    Ok(Message {
        layout: layout(&org, &session, "Check your email", "signin").await?,
        heading: "Check your email".into(),
        paragraphs: forgot_done(&email),
        link: Some((
            format!("/o/{}/portal/signin", org.slug),
            "Back to sign in".into(),
        )),
    })
}

// Emailed links.

#[derive(Template, WebTemplate)]
#[template(path = "portal/set_password.html")]
struct SetPassword {
    layout: PortalLayout,
    action: String,
    heading: String,
    username: String,
    errors: FieldErrors,
}

/// The page for a link that does not work.
fn dead_link(
    state: &TokenState,
    purpose: Purpose,
    slug: &str,
) -> (String, Vec<String>, Option<(String, String)>) {
    match (purpose, state) {
        (_, TokenState::Unknown) => unknown_link(
            slug,
            match purpose {
                Purpose::Invitation => None,
                Purpose::PasswordReset => Some("forgot"),
            },
        ),
        (Purpose::Invitation, TokenState::Expired) => (
            "This invitation has expired".into(),
            vec!["This invitation has expired — ask the clinic to send a new one.".into()],
            None,
        ),
        (Purpose::Invitation, _) => (
            "This invitation is no longer valid".into(),
            vec![
                "This invitation link was already used, or a newer one was sent.".into(),
                "Sign in if you have set your password, or ask the clinic to send a new invitation.".into(),
            ],
            Some((format!("/o/{slug}/portal/signin"), "Sign in".into())),
        ),
        (Purpose::PasswordReset, TokenState::Expired) => (
            "This link has expired".into(),
            vec!["Password-reset links work for 1 hour. Ask for a new one.".into()],
            Some((format!("/o/{slug}/portal/forgot"), "Ask for a new link".into())),
        ),
        (Purpose::PasswordReset, _) => (
            "This link is no longer valid".into(),
            vec!["This password-reset link was already used, or the password or address changed since.".into()],
            Some((format!("/o/{slug}/portal/forgot"), "Ask for a new link".into())),
        ),
    }
}

async fn link_page(
    state: &AppState,
    org: &Organisation,
    session: &Session,
    purpose: Purpose,
    token: &str,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let now = state.clock.now_ns();
    let mut conn = state.db.conn().await?;
    let found = portal_access::inspect(&mut conn.exec(), org.id, purpose, token, now).await?;
    drop(conn);
    let (path, title) = match purpose {
        Purpose::Invitation => ("invitation", "Welcome"),
        Purpose::PasswordReset => ("reset", "Choose a new password"),
    };
    match found {
        TokenState::Valid(account) => {
            // Both kinds of link always ask for a new password: whoever follows one has
            // proven the address, and no password chosen before that proof counts.
            let heading = match purpose {
                Purpose::PasswordReset => "Choose a new password".to_owned(),
                Purpose::Invitation => format!("Welcome to {}: choose your password", org.name),
            };
            let status = if errors.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            Ok((
                status,
                SetPassword {
                    layout: layout(org, session, title, "signin").await?,
                    action: format!("/o/{}/portal/{path}/{token}", org.slug),
                    heading,
                    username: account.username,
                    errors,
                },
            )
                .into_response())
        }
        other => {
            let status = if other == TokenState::Expired {
                StatusCode::GONE
            } else {
                StatusCode::NOT_FOUND
            };
            message_page(org, session, status, dead_link(&other, purpose, &org.slug)).await
        }
    }
}

/// Uses a link: sets the new password (an invitation and a reset alike), confirms the
/// account, ends the patient's other sessions, and signs them in here. `Err` carries field errors or the dead link's
/// state, and nothing is changed then.
async fn use_link(
    state: &AppState,
    org: &Organisation,
    session: &Session,
    purpose: Purpose,
    token: &str,
    new_password: Option<&str>,
) -> Result<Result<PortalAccount, Result<FieldErrors, TokenState>>, AppError> {
    let now = state.clock.now_ns();
    let mut conn = state.db.conn().await?;
    let found = portal_access::inspect(&mut conn.exec(), org.id, purpose, token, now).await?;
    drop(conn);
    let account = match found {
        TokenState::Valid(account) => account,
        other => return Ok(Err(Err(other))),
    };
    let secret = new_password.unwrap_or_default().to_owned();
    let patient = {
        let mut conn = state.db.conn().await?;
        store::patient::get(conn.exec(), org.id, account.patient_id).await?
    };
    if let Err(message) = password::check_new(
        &secret,
        &[&account.username, &patient.first_name, &patient.last_name],
    ) {
        let mut errors = FieldErrors::new();
        errors.add("password", message);
        return Ok(Err(Ok(errors)));
    }
    let hash = tokio::task::spawn_blocking(move || password::hash(&secret))
        .await
        .map_err(AppError::internal)?;
    let mut tx = state.db.begin().await?;
    let account = match portal_access::redeem(&mut tx, org.id, purpose, token, now).await? {
        TokenState::Valid(account) => account,
        other => return Ok(Err(Err(other))),
    };
    let account = portal_access::set_password(&mut tx, org.id, account.id, &hash, now).await?;
    let action = match purpose {
        Purpose::Invitation => "portal.accept_invitation",
        Purpose::PasswordReset => "portal.reset_password",
    };
    store::audit::record(
        &mut tx,
        org.id,
        &format!("patient:{}", account.patient_id),
        action,
        "patient",
        Some(account.patient_id),
        serde_json::json!({}),
        now,
    )
    .await?;
    tx.commit().await?;
    sign_in_account(session, org.id, &account).await?;
    Ok(Ok(account))
}

async fn link_submit(
    state: AppState,
    org: Organisation,
    session: Session,
    purpose: Purpose,
    token: String,
    form: FormData,
) -> Result<Response, PageError> {
    let password = form.secret("password");
    let confirm = form.secret("password_confirmation");
    if password != confirm {
        let mut errors = FieldErrors::new();
        errors.add("password_confirmation", "the two passwords differ");
        return link_page(&state, &org, &session, purpose, &token, errors).await;
    }
    match use_link(&state, &org, &session, purpose, &token, Some(&password)).await? {
        Ok(_) => Ok(Redirect::to(&format!("/o/{}/portal/appointments", org.slug)).into_response()),
        Err(Ok(errors)) => link_page(&state, &org, &session, purpose, &token, errors).await,
        Err(Err(_)) => link_page(&state, &org, &session, purpose, &token, FieldErrors::new()).await,
    }
}

async fn invitation_form(
    State(state): State<AppState>,
    Org(org): Org,
    session: Session,
    Path((_, token)): Path<(String, String)>,
) -> Result<Response, PageError> {
    link_page(
        &state,
        &org,
        &session,
        Purpose::Invitation,
        &token,
        FieldErrors::new(),
    )
    .await
}

async fn invitation_submit(
    State(state): State<AppState>,
    Org(org): Org,
    session: Session,
    Path((_, token)): Path<(String, String)>,
    form: FormData,
) -> Result<Response, PageError> {
    link_submit(state, org, session, Purpose::Invitation, token, form).await
}

async fn reset_form(
    State(state): State<AppState>,
    Org(org): Org,
    session: Session,
    Path((_, token)): Path<(String, String)>,
) -> Result<Response, PageError> {
    link_page(
        &state,
        &org,
        &session,
        Purpose::PasswordReset,
        &token,
        FieldErrors::new(),
    )
    .await
}

async fn reset_submit(
    State(state): State<AppState>,
    Org(org): Org,
    session: Session,
    Path((_, token)): Path<(String, String)>,
    form: FormData,
) -> Result<Response, PageError> {
    link_submit(state, org, session, Purpose::PasswordReset, token, form).await
}

// A sign-up's link.

#[derive(Template, WebTemplate)]
#[template(path = "portal/confirm_signup.html")]
struct ConfirmSignUp {
    layout: PortalLayout,
    action: String,
    username: String,
    errors: FieldErrors,
}

/// Why a sign-up's link did not sign anyone in; nothing changed.
enum SignUpRefused {
    /// The password is not the one chosen at sign-up (or is missing).
    WrongPassword,
    /// The address has had an account since (the clinic's, or another sign-up's).
    AddressHasAccount,
    /// The link does not work.
    Dead(LinkState),
}

/// Confirms a sign-up: the link proves the address, the password proves the person
/// who signed up. Both are needed; the first refusal changes nothing.
async fn confirm_signup(
    state: &AppState,
    org: &Organisation,
    address: ClientAddress,
    session: &Session,
    token: &str,
    password: &str,
) -> Result<Result<PortalAccount, SignUpRefused>, AppError> {
    // Turning public sign-up off also stops the sign-ups still waiting for their link.
    if !org.allow_public_signup {
        return Err(signup_closed());
    }
    let now = state.clock.now_ns();
    let found = {
        let mut conn = state.db.conn().await?;
        portal_signup::inspect(conn.exec(), org.id, token, now).await?
    };
    let signup = match found {
        LinkState::Valid(signup) => signup,
        other => return Ok(Err(SignUpRefused::Dead(other))),
    };
    // Guessing the password chosen at sign-up is limited like signing in.
    state.limits.attempt(
        address.0,
        Some(&format!("portal:{}:{}", org.id, signup.email)),
    )?;
    let (secret, hash) = (password.to_owned(), signup.password_hash.clone());
    let matches = tokio::task::spawn_blocking(move || password::verify(&secret, &hash))
        .await
        .map_err(AppError::internal)?;
    if !matches {
        return Ok(Err(SignUpRefused::WrongPassword));
    }
    let mut tx = state.db.begin().await?;
    let account = match portal_signup::complete(&mut tx, org.id, token, now).await? {
        None => return Ok(Err(SignUpRefused::Dead(LinkState::Used))),
        Some(Completed::AddressHasAccount) => {
            // The link is spent either way: it can never attach to the account.
            tx.commit().await?;
            return Ok(Err(SignUpRefused::AddressHasAccount));
        }
        Some(Completed::Account(account)) => account,
    };
    store::audit::record(
        &mut tx,
        org.id,
        &format!("patient:{}", account.patient_id),
        "portal.signup",
        "patient",
        Some(account.patient_id),
        serde_json::json!({}),
        now,
    )
    .await?;
    tx.commit().await?;
    sign_in_account(session, org.id, &account).await?;
    Ok(Ok(account))
}

fn wrong_signup_password() -> FieldErrors {
    let mut errors = FieldErrors::new();
    errors.add(
        "password",
        "this is not the password chosen when signing up with this address",
    );
    errors
}

fn address_has_account(slug: &str) -> (String, Vec<String>, Option<(String, String)>) {
    (
        "This address already has an account".into(),
        vec![
            "Nothing was changed. Sign in with that account, or ask for a password-reset link if you forgot its password.".into(),
        ],
        Some((format!("/o/{slug}/portal/forgot"), "Reset the password".into())),
    )
}

/// A link the server does not know: most often one an email program cut short.
fn unknown_link(
    slug: &str,
    ask_again: Option<&str>,
) -> (String, Vec<String>, Option<(String, String)>) {
    (
        "This link is not recognised".into(),
        vec![
            "The link may be incomplete: some email programs cut long links. Open it from the email again, or copy the whole link.".into(),
        ],
        ask_again.map(|page| (format!("/o/{slug}/portal/{page}"), "Ask for a new link".into())),
    )
}

fn dead_signup_link(
    state: &LinkState,
    slug: &str,
) -> (String, Vec<String>, Option<(String, String)>) {
    match state {
        LinkState::Unknown => unknown_link(slug, Some("signup")),
        LinkState::Expired => (
            "This link has expired".into(),
            vec!["Sign-up links work for 3 days. Sign up again to get a new one.".into()],
            Some((format!("/o/{slug}/portal/signup"), "Sign up again".into())),
        ),
        _ => (
            "This link is no longer valid".into(),
            vec!["This sign-up link was already used. Sign in, or sign up again.".into()],
            Some((format!("/o/{slug}/portal/signin"), "Sign in".into())),
        ),
    }
}

async fn signup_link_page(
    state: &AppState,
    org: &Organisation,
    session: &Session,
    token: &str,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let found = {
        let mut conn = state.db.conn().await?;
        portal_signup::inspect(conn.exec(), org.id, token, state.clock.now_ns()).await?
    };
    match found {
        LinkState::Valid(signup)
            if !portal_access::of_address(
                &mut state.db.conn().await?.exec(),
                org.id,
                &signup.email,
            )
            .await?
            .is_empty() =>
        {
            message_page(
                org,
                session,
                StatusCode::CONFLICT,
                address_has_account(&org.slug),
            )
            .await
        }
        LinkState::Valid(signup) => {
            let status = if errors.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            Ok((
                status,
                ConfirmSignUp {
                    layout: layout(org, session, "Confirm your account", "signin").await?,
                    action: format!("/o/{}/portal/signup/{token}", org.slug),
                    username: signup.email,
                    errors,
                },
            )
                .into_response())
        }
        other => {
            let status = if other == LinkState::Expired {
                StatusCode::GONE
            } else {
                StatusCode::NOT_FOUND
            };
            message_page(org, session, status, dead_signup_link(&other, &org.slug)).await
        }
    }
}

async fn message_page(
    org: &Organisation,
    session: &Session,
    status: StatusCode,
    (heading, paragraphs, link): (String, Vec<String>, Option<(String, String)>),
) -> Result<Response, PageError> {
    Ok((
        status,
        Message {
            layout: layout(org, session, &heading, "signin").await?,
            heading,
            paragraphs,
            link,
        },
    )
        .into_response())
}

async fn signup_link_form(
    State(state): State<AppState>,
    Org(org): Org,
    session: Session,
    Path((_, token)): Path<(String, String)>,
) -> Result<Response, PageError> {
    if !org.allow_public_signup {
        return Err(signup_closed().into());
    }
    signup_link_page(&state, &org, &session, &token, FieldErrors::new()).await
}

async fn signup_link_submit(
    State(state): State<AppState>,
    Org(org): Org,
    address: ClientAddress,
    session: Session,
    Path((_, token)): Path<(String, String)>,
    form: FormData,
) -> Result<Response, PageError> {
    match confirm_signup(
        &state,
        &org,
        address,
        &session,
        &token,
        &form.secret("password"),
    )
    .await?
    {
        Ok(_) => Ok(Redirect::to(&format!("/o/{}/portal/appointments", org.slug)).into_response()),
        Err(SignUpRefused::WrongPassword) => {
            signup_link_page(&state, &org, &session, &token, wrong_signup_password()).await
        }
        Err(SignUpRefused::AddressHasAccount) => {
            message_page(
                &org,
                &session,
                StatusCode::CONFLICT,
                address_has_account(&org.slug),
            )
            .await
        }
        Err(SignUpRefused::Dead(_)) => {
            signup_link_page(&state, &org, &session, &token, FieldErrors::new()).await
        }
    }
}

// The API.

/// A patient, as the portal API shows them. (Named apart from the staff API's
/// `PatientDto`: the OpenAPI document keeps one schema per name.)
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PortalPatientDto)]
pub struct PatientDto {
    /// Row id.
    pub id: i64,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Email.
    pub email: String,
}

/// The portal session: its CSRF token and the signed-in patient.
#[derive(Debug, Serialize, ToSchema)]
pub struct PortalSessionDto {
    /// Send as `X-CSRF-Token` on every call that changes state.
    pub csrf_token: String,
    /// The signed-in patient, if any.
    pub patient: Option<PatientDto>,
}

/// Portal credentials.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PortalSignIn {
    /// Username (the email address by default).
    pub username: String,
    /// Password.
    pub password: String,
}

/// An email address (forgot password).
#[derive(Debug, Deserialize, ToSchema)]
pub struct EmailBody {
    /// The address.
    pub email: String,
}

/// A new password (reset link or invitation), or the password chosen at sign-up (a
/// sign-up's link).
#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordBody {
    /// The password.
    pub password: Option<String>,
}

/// What an emailed link is.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkStateDto {
    /// `valid`, `expired`, `used` or `unknown`.
    pub state: String,
    /// Whether using it needs a password (always, for a valid link: a new one for an
    /// invitation or a reset, the one chosen at sign-up for a sign-up's link).
    pub needs_password: bool,
}

/// A message for the person (the answer of sign-up and forgot-password, the same
/// whether or not the address has an account).
#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeDto {
    /// What to tell the person.
    pub message: String,
}

async fn session_dto(
    state: &AppState,
    org: i64,
    session: &Session,
) -> Result<PortalSessionDto, AppError> {
    let patient = crate::auth::patient::patient_in_session(state, org, session)
        .await?
        .map(|(p, _)| PatientDto {
            id: p.id,
            first_name: p.first_name,
            last_name: p.last_name,
            email: p.email,
        });
    Ok(PortalSessionDto {
        csrf_token: csrf::token(session).await?,
        patient,
    })
}

/// The portal session's CSRF token and the signed-in patient.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/portal/session", tag = "portal",
    params(("slug" = String, Path, description = "The organisation")),
    responses((status = 200, body = PortalSessionDto)))]
async fn api_session(
    State(state): State<AppState>,
    Org(org): Org,
    session: Session,
) -> Result<Json<PortalSessionDto>, AppError> {
    Ok(Json(session_dto(&state, org.id, &session).await?))
}

/// Signs a patient in (a new session id).
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/portal/session", tag = "portal",
    params(("slug" = String, Path, description = "The organisation")),
    request_body = PortalSignIn,
    responses((status = 200, body = PortalSessionDto), (status = 401, description = "The username or password is not right"),
              (status = 429, description = "Too many attempts; see Retry-After")))]
async fn api_signin(
    State(state): State<AppState>,
    Org(org): Org,
    address: ClientAddress,
    session: Session,
    JsonBody(body): JsonBody<PortalSignIn>,
) -> Result<Json<PortalSessionDto>, AppError> {
    let account = authenticate(&state, address, org.id, &body.username, &body.password)
        .await?
        .ok_or(AppError::Unauthorized)?;
    sign_in_account(&session, org.id, &account).await?;
    Ok(Json(session_dto(&state, org.id, &session).await?))
}

/// Signs out.
#[utoipa::path(delete, path = "/api/v1/orgs/{slug}/portal/session", tag = "portal",
    params(("slug" = String, Path, description = "The organisation")),
    responses((status = 204, description = "Signed out")))]
async fn api_signout(Org(_org): Org, session: Session) -> Result<StatusCode, AppError> {
    session.flush().await.map_err(AppError::internal)?;
    Ok(StatusCode::NO_CONTENT)
}

/// A proof-of-work challenge for sign-up (see docs/api.md for how to solve it).
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/portal/captcha", tag = "portal",
    params(("slug" = String, Path, description = "The organisation")),
    responses((status = 200, description = "An ALTCHA v2 challenge: {parameters: {algorithm, cost, keyLength, keyPrefix, nonce, salt, data}, signature}")))]
async fn api_captcha(
    State(state): State<AppState>,
    Org(_org): Org,
) -> Result<Json<altcha::Challenge>, AppError> {
    Ok(Json(crate::captcha::issue(&state).await?))
}

/// Signs up as a new patient (when the organisation allows it). The answer is the same
/// whether or not the address already has an account; the emailed link confirms it.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/portal/signup", tag = "portal",
    params(("slug" = String, Path, description = "The organisation")),
    request_body = SignUpRequest,
    responses((status = 202, body = NoticeDto), (status = 422, description = "A field is invalid (names, email, password, captcha)"),
              (status = 404, description = "Public sign-up is not offered"), (status = 429, description = "Too many attempts")))]
async fn api_signup(
    State(state): State<AppState>,
    Org(org): Org,
    address: ClientAddress,
    JsonBody(body): JsonBody<SignUpRequest>,
) -> Result<(StatusCode, Json<NoticeDto>), AppError> {
    if !org.allow_public_signup {
        return Err(signup_closed());
    }
    sign_up_allowed(&state, address)?;
    match sign_up(&state, &org, &body).await {
        Ok(()) => Ok((
            StatusCode::ACCEPTED,
            Json(NoticeDto {
                message: signup_done(body.email.trim()).join(" "),
            }),
        )),
        Err(errors) => {
            let (field, message) = errors
                .iter()
                .next()
                .map(|(f, m)| (f.to_owned(), m.to_owned()))
                .unwrap_or_default();
            Err(AppError::invalid(field, message))
        }
    }
}

/// Asks for a password-reset link. The answer is the same whether or not the address
/// has an account.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/portal/password-reset", tag = "portal",
    params(("slug" = String, Path, description = "The organisation")),
    request_body = EmailBody,
    responses((status = 202, body = NoticeDto), (status = 429, description = "Too many attempts")))]
async fn api_forgot(
    State(state): State<AppState>,
    Org(org): Org,
    address: ClientAddress,
    JsonBody(body): JsonBody<EmailBody>,
) -> Result<(StatusCode, Json<NoticeDto>), AppError> {
    forgot(&state, &org, address, &body.email).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(NoticeDto {
            message: forgot_done(body.email.trim()).join(" "),
        }),
    ))
}

fn link_error(state: TokenState) -> AppError {
    match state {
        TokenState::Expired => AppError::Conflict {
            message: "this link has expired".into(),
            details: serde_json::json!({"state": "expired"}),
        },
        TokenState::Used => AppError::Conflict {
            message: "this link was already used".into(),
            details: serde_json::json!({"state": "used"}),
        },
        _ => AppError::NotFound("link".into()),
    }
}

async fn api_use_link(
    state: AppState,
    org: Organisation,
    session: Session,
    purpose: Purpose,
    token: &str,
    password: Option<&str>,
) -> Result<Json<PortalSessionDto>, AppError> {
    match use_link(&state, &org, &session, purpose, token, password).await? {
        Ok(_) => Ok(Json(session_dto(&state, org.id, &session).await?)),
        Err(Ok(errors)) => {
            let (field, message) = errors
                .iter()
                .next()
                .map(|(f, m)| (f.to_owned(), m.to_owned()))
                .unwrap_or_default();
            Err(AppError::invalid(field, message))
        }
        Err(Err(dead)) => Err(link_error(dead)),
    }
}

/// Sets a new password with a reset link, and signs in.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/portal/password-reset/{token}", tag = "portal",
    params(("slug" = String, Path, description = "The organisation"), ("token" = String, Path, description = "The emailed token")),
    request_body = PasswordBody,
    responses((status = 200, body = PortalSessionDto), (status = 409, description = "The link expired or was used"),
              (status = 404, description = "No such link"), (status = 422, description = "The password is too weak")))]
async fn api_reset(
    State(state): State<AppState>,
    Org(org): Org,
    session: Session,
    Path(path): Path<(String, String)>,
    JsonBody(body): JsonBody<PasswordBody>,
) -> Result<Json<PortalSessionDto>, AppError> {
    api_use_link(
        state,
        org,
        session,
        Purpose::PasswordReset,
        &path.1,
        Some(body.password.as_deref().unwrap_or_default()),
    )
    .await
}

/// What an invitation link is.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/portal/invitations/{token}", tag = "portal",
    params(("slug" = String, Path, description = "The organisation"), ("token" = String, Path, description = "The emailed token")),
    responses((status = 200, body = LinkStateDto)))]
async fn api_invitation_state(
    State(state): State<AppState>,
    Org(org): Org,
    Path(path): Path<(String, String)>,
) -> Result<Json<LinkStateDto>, AppError> {
    let mut conn = state.db.conn().await?;
    let found = portal_access::inspect(
        &mut conn.exec(),
        org.id,
        Purpose::Invitation,
        &path.1,
        state.clock.now_ns(),
    )
    .await?;
    Ok(Json(match found {
        TokenState::Valid(_) => LinkStateDto {
            state: "valid".into(),
            needs_password: true,
        },
        TokenState::Expired => LinkStateDto {
            state: "expired".into(),
            needs_password: false,
        },
        TokenState::Used => LinkStateDto {
            state: "used".into(),
            needs_password: false,
        },
        TokenState::Unknown => LinkStateDto {
            state: "unknown".into(),
            needs_password: false,
        },
    }))
}

/// Accepts an invitation (setting the password), and signs in.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/portal/invitations/{token}", tag = "portal",
    params(("slug" = String, Path, description = "The organisation"), ("token" = String, Path, description = "The emailed token")),
    request_body = PasswordBody,
    responses((status = 200, body = PortalSessionDto), (status = 409, description = "The link expired or was used"),
              (status = 404, description = "No such link"), (status = 422, description = "The password is too weak")))]
async fn api_invitation_accept(
    State(state): State<AppState>,
    Org(org): Org,
    session: Session,
    Path(path): Path<(String, String)>,
    JsonBody(body): JsonBody<PasswordBody>,
) -> Result<Json<PortalSessionDto>, AppError> {
    api_use_link(
        state,
        org,
        session,
        Purpose::Invitation,
        &path.1,
        body.password.as_deref(),
    )
    .await
}

/// What a sign-up's link is.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/portal/signups/{token}", tag = "portal",
    params(("slug" = String, Path, description = "The organisation"), ("token" = String, Path, description = "The emailed token")),
    responses((status = 200, body = LinkStateDto)))]
async fn api_signup_state(
    State(state): State<AppState>,
    Org(org): Org,
    Path(path): Path<(String, String)>,
) -> Result<Json<LinkStateDto>, AppError> {
    let mut conn = state.db.conn().await?;
    let found = portal_signup::inspect(conn.exec(), org.id, &path.1, state.clock.now_ns()).await?;
    let (state, needs_password) = match found {
        LinkState::Valid(_) => ("valid", true),
        LinkState::Expired => ("expired", false),
        LinkState::Used => ("used", false),
        LinkState::Unknown => ("unknown", false),
    };
    Ok(Json(LinkStateDto {
        state: state.into(),
        needs_password,
    }))
}

/// Confirms a sign-up with its emailed link and the password chosen at sign-up, and
/// signs in. Without that password nothing happens: the link alone proves only the
/// address.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/portal/signups/{token}", tag = "portal",
    params(("slug" = String, Path, description = "The organisation"), ("token" = String, Path, description = "The emailed token")),
    request_body = PasswordBody,
    responses((status = 200, body = PortalSessionDto), (status = 409, description = "The link expired or was used, or the address has an account already"),
              (status = 404, description = "No such link"), (status = 422, description = "Not the password chosen at sign-up"),
              (status = 429, description = "Too many attempts; see Retry-After")))]
async fn api_signup_confirm(
    State(state): State<AppState>,
    Org(org): Org,
    address: ClientAddress,
    session: Session,
    Path(path): Path<(String, String)>,
    JsonBody(body): JsonBody<PasswordBody>,
) -> Result<Json<PortalSessionDto>, AppError> {
    let password = body.password.unwrap_or_default();
    match confirm_signup(&state, &org, address, &session, &path.1, &password).await? {
        Ok(_) => Ok(Json(session_dto(&state, org.id, &session).await?)),
        Err(SignUpRefused::WrongPassword) => Err(AppError::invalid(
            "password",
            "this is not the password chosen when signing up with this address",
        )),
        Err(SignUpRefused::AddressHasAccount) => Err(AppError::Conflict {
            message: "this address already has an account: sign in, or reset its password".into(),
            details: serde_json::json!({"state": "address_has_account"}),
        }),
        Err(SignUpRefused::Dead(LinkState::Expired)) => Err(link_error(TokenState::Expired)),
        Err(SignUpRefused::Dead(LinkState::Used)) => Err(link_error(TokenState::Used)),
        Err(SignUpRefused::Dead(_)) => Err(link_error(TokenState::Unknown)),
    }
}
