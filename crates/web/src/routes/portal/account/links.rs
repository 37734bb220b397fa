//! The emailed invitation and password-reset links: both set a new password, confirm
//! the account, end the patient's other sessions and sign them in here.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use store::Organisation;
use store::portal_access::{self, PortalAccount, Purpose, TokenState};
use tower_sessions::Session;

use crate::auth::password;
use crate::auth::staff::Org;
use crate::error::{AppError, PageError};
use crate::form::{FieldErrors, FormData, JsonBody};
use crate::pages::PortalLayout;
use crate::state::AppState;

use super::{
    LinkStateDto, PasswordBody, PortalSessionDto, layout, link_error, message_page, session_dto,
    sign_in_account, unknown_link,
};

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
        &store::appointment::Actor::Patient(account.patient_id).label(),
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

pub(super) async fn invitation_form(
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

pub(super) async fn invitation_submit(
    State(state): State<AppState>,
    Org(org): Org,
    session: Session,
    Path((_, token)): Path<(String, String)>,
    form: FormData,
) -> Result<Response, PageError> {
    link_submit(state, org, session, Purpose::Invitation, token, form).await
}

pub(super) async fn reset_form(
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

pub(super) async fn reset_submit(
    State(state): State<AppState>,
    Org(org): Org,
    session: Session,
    Path((_, token)): Path<(String, String)>,
    form: FormData,
) -> Result<Response, PageError> {
    link_submit(state, org, session, Purpose::PasswordReset, token, form).await
}

pub(super) async fn api_use_link(
    state: AppState,
    org: Organisation,
    session: Session,
    purpose: Purpose,
    token: &str,
    password: Option<&str>,
) -> Result<Json<PortalSessionDto>, AppError> {
    match use_link(&state, &org, &session, purpose, token, password).await? {
        Ok(_) => Ok(Json(session_dto(&state, org.id, &session).await?)),
        Err(Ok(errors)) => Err(errors.into_api_error()),
        Err(Err(dead)) => Err(link_error(dead)),
    }
}

/// Sets a new password with a reset link, and signs in.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/portal/password-reset/{token}", tag = "portal",
    params(("slug" = String, Path, description = "The organisation"), ("token" = String, Path, description = "The emailed token")),
    request_body = PasswordBody,
    responses((status = 200, body = PortalSessionDto), (status = 409, description = "The link expired or was used"),
              (status = 404, description = "No such link"), (status = 422, description = "The password is too weak")))]
pub(super) async fn api_reset(
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
pub(super) async fn api_invitation_state(
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
pub(super) async fn api_invitation_accept(
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
