//! The portal's doors: sign in and out, sign up (with the proof-of-work CAPTCHA),
//! forgot password, and the emailed links (invitation, sign-up confirmation, reset);
//! and, once in, the patient's own account (details, email address, password).
//!
//! None of them tells whether an email address has an account: sign-in fails with one
//! message, sign-up and forgot-password answer the same page either way and do the same
//! work (a password hash, a lookup), and the owner of an existing address gets an email
//! instead.
//!
//! One module per door: `sign_in`, `sign_up` and a sign-up's link
//! (`signup_link`), `forgot` password, and the invitation and reset `links`; the
//! signed-in patient's "Your account" page and its details form in `profile`, the
//! change of address and its emailed link in `email_change`, and `password_change`;
//! here the routes of all of them and what they share.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use store::Organisation;
use store::portal_access::{PortalAccount, TokenState};
use tower_sessions::Session;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::patient::{PatientSession, start_session};
use crate::auth::{csrf, password};
use crate::error::{AppError, PageError};
use crate::limits::ClientAddress;
use crate::pages::PortalLayout;
use crate::state::AppState;

mod email_change;
mod forgot;
mod links;
mod password_change;
mod profile;
mod sign_in;
mod sign_up;
mod signup_link;

/// The pages.
pub(crate) fn pages() -> Router<AppState> {
    Router::new()
        .route(
            "/o/{slug}/portal/signin",
            get(sign_in::form).post(sign_in::submit),
        )
        .route("/o/{slug}/portal/signout", post(sign_in::sign_out))
        .route(
            "/o/{slug}/portal/signup",
            get(sign_up::form).post(sign_up::submit),
        )
        .route(
            "/o/{slug}/portal/signup/{token}",
            get(signup_link::form).post(signup_link::submit),
        )
        .route("/o/{slug}/portal/captcha", get(sign_up::captcha_page))
        .route(
            "/o/{slug}/portal/forgot",
            get(forgot::form).post(forgot::submit),
        )
        .route(
            "/o/{slug}/portal/reset/{token}",
            get(links::reset_form).post(links::reset_submit),
        )
        .route(
            "/o/{slug}/portal/invitation/{token}",
            get(links::invitation_form).post(links::invitation_submit),
        )
        .route(
            "/o/{slug}/portal/account",
            get(profile::page).post(profile::save_page),
        )
        .route(
            "/o/{slug}/portal/account/email",
            post(email_change::start_page),
        )
        .route(
            "/o/{slug}/portal/account/password",
            post(password_change::submit),
        )
        .route(
            "/o/{slug}/portal/email/{token}",
            get(email_change::link_form).post(email_change::link_submit),
        )
}

/// The API.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(
            sign_in::api_session,
            sign_in::api_signin,
            sign_in::api_signout
        ))
        .routes(routes!(sign_up::api_captcha))
        .routes(routes!(sign_up::api_signup))
        .routes(routes!(
            signup_link::api_signup_state,
            signup_link::api_signup_confirm
        ))
        .routes(routes!(forgot::api_forgot))
        .routes(routes!(links::api_reset))
        .routes(routes!(
            links::api_invitation_state,
            links::api_invitation_accept
        ))
        .routes(routes!(profile::api_account, profile::api_save))
        .routes(routes!(email_change::api_start))
        .routes(routes!(password_change::api_change))
        .routes(routes!(
            email_change::api_link_state,
            email_change::api_link_confirm
        ))
}

/// Whether `secret` is the account's password, counted against the same rate limits as
/// signing in to it (per client address, and per account and address): every form that
/// asks for the current password is a way to guess it. Over the limit, 429.
async fn is_password_of(
    state: &AppState,
    address: ClientAddress,
    org: i64,
    account: &PortalAccount,
    secret: &str,
) -> Result<bool, AppError> {
    if let Err(e) = state.limits.attempt(
        address.0,
        Some(&format!("portal:{org}:{}", account.username)),
    ) {
        state.metrics.rate_limited();
        return Err(e);
    }
    let hash = account.password_hash.clone();
    let secret = secret.to_owned();
    tokio::task::spawn_blocking(move || match hash {
        Some(hash) => password::verify(&secret, &hash),
        None => {
            password::verify_dummy(&secret);
            false
        }
    })
    .await
    .map_err(AppError::internal)
}

/// The signed-in patient's own portal account (the session was opened with it).
async fn own_account(
    state: &AppState,
    p: &crate::auth::patient::Patient,
) -> Result<PortalAccount, AppError> {
    let mut conn = state.db.conn().await?;
    store::portal_access::of_patient(conn.exec(), p.org.id, p.patient.id)
        .await?
        .ok_or_else(|| AppError::NotFound("portal account".into()))
}

/// Public sign-up is off: its pages, its API and its waiting links are not there.
fn signup_closed() -> AppError {
    AppError::NotFound("public sign-up (ask the clinic for an invitation)".into())
}

async fn layout(
    org: &Organisation,
    session: &Session,
    title: &str,
    active: &'static str,
) -> Result<PortalLayout, AppError> {
    PortalLayout::new(org, session, None, title, active).await
}

/// Where to go after signing in or confirming a sign-up (`?next=`).
#[derive(Deserialize)]
pub(super) struct Next {
    next: Option<String>,
}

/// Only paths inside this organisation's portal: never an open redirect.
fn safe_next(slug: &str, next: Option<&str>) -> String {
    crate::auth::redirect_after_sign_in(
        &format!("/o/{slug}/portal/"),
        &format!("/o/{slug}/portal/appointments"),
        next,
    )
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

#[derive(Template, WebTemplate)]
#[template(path = "portal/message.html")]
pub(super) struct Message {
    layout: PortalLayout,
    heading: String,
    paragraphs: Vec<String>,
    link: Option<(String, String)>,
}

/// What a message page says: its heading, its paragraphs, and a link (address, text).
type MessageText = (String, Vec<String>, Option<(String, String)>);

/// A link the server does not know: most often one an email program cut short.
fn unknown_link(slug: &str, ask_again: Option<&str>) -> MessageText {
    (
        "This link is not recognised".into(),
        vec![
            "The link may be incomplete: some email programs cut long links. Open it from the email again, or copy the whole link.".into(),
        ],
        ask_again.map(|page| (format!("/o/{slug}/portal/{page}"), "Ask for a new link".into())),
    )
}

async fn message_page(
    org: &Organisation,
    session: &Session,
    status: StatusCode,
    (heading, paragraphs, link): MessageText,
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

/// A patient, as the portal API shows them. (Named apart from the staff API's
/// `PatientDto`: the OpenAPI document keeps one schema per name.)
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PortalPatientDto)]
pub(crate) struct PatientDto {
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
pub(crate) struct PortalSessionDto {
    /// Send as `X-CSRF-Token` on every call that changes state.
    pub csrf_token: String,
    /// The signed-in patient, if any.
    pub patient: Option<PatientDto>,
}

/// A new password (reset link or invitation), or the password chosen at sign-up (a
/// sign-up's link).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordBody {
    /// The password.
    pub password: Option<String>,
}

/// What an emailed link is.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LinkStateDto {
    /// `valid`, `expired`, `used` or `unknown`.
    pub state: String,
    /// Whether using it needs a password (always, for a valid link: a new one for an
    /// invitation or a reset, the one chosen at sign-up for a sign-up's link).
    pub needs_password: bool,
}

/// A message for the person (the answer of sign-up and forgot-password, the same
/// whether or not the address has an account).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct NoticeDto {
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
