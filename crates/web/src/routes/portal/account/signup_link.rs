//! A sign-up's emailed link: the link proves the address, the password chosen at
//! sign-up proves the person; with both the account is made and signed in.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use store::Organisation;
use store::portal_access::{self, PortalAccount, TokenState};
use store::portal_signup::{self, Completed, LinkState};
use tower_sessions::Session;

use crate::auth::password;
use crate::auth::staff::Org;
use crate::error::{AppError, PageError};
use crate::form::{FieldErrors, FormData, JsonBody, PageQuery};
use crate::limits::ClientAddress;
use crate::pages::PortalLayout;
use crate::state::AppState;

use super::{
    LinkStateDto, Next, PasswordBody, PortalSessionDto, layout, link_error, message_page,
    safe_next, session_dto, sign_in_account, signup_closed, unknown_link,
};

#[derive(Template, WebTemplate)]
#[template(path = "portal/confirm_signup.html")]
struct ConfirmSignUp {
    layout: PortalLayout,
    action: String,
    username: String,
    errors: FieldErrors,
    /// Where confirming leads (a checked portal path, carried by the emailed link).
    next: String,
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
        &store::appointment::Actor::Patient(account.patient_id).label(),
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
    next: String,
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
                    next,
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

pub(super) async fn form(
    State(state): State<AppState>,
    Org(org): Org,
    session: Session,
    Path((_, token)): Path<(String, String)>,
    PageQuery(q): PageQuery<Next>,
) -> Result<Response, PageError> {
    if !org.allow_public_signup {
        return Err(signup_closed().into());
    }
    let next = safe_next(&org.slug, q.next.as_deref());
    signup_link_page(&state, &org, &session, &token, FieldErrors::new(), next).await
}

pub(super) async fn submit(
    State(state): State<AppState>,
    Org(org): Org,
    address: ClientAddress,
    session: Session,
    Path((_, token)): Path<(String, String)>,
    form: FormData,
) -> Result<Response, PageError> {
    let next = safe_next(&org.slug, form.optional("next").as_deref());
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
        Ok(_) => Ok(Redirect::to(&next).into_response()),
        Err(SignUpRefused::WrongPassword) => {
            signup_link_page(
                &state,
                &org,
                &session,
                &token,
                wrong_signup_password(),
                next,
            )
            .await
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
            signup_link_page(&state, &org, &session, &token, FieldErrors::new(), next).await
        }
    }
}

/// What a sign-up's link is.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/portal/signups/{token}", tag = "portal",
    params(("slug" = String, Path, description = "The organisation"), ("token" = String, Path, description = "The emailed token")),
    responses((status = 200, body = LinkStateDto)))]
pub(super) async fn api_signup_state(
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
pub(super) async fn api_signup_confirm(
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
