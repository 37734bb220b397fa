//! Signing in and out, on the page and through the API: both check the credentials
//! with [`authenticate`], which does the same work whether or not the account exists.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;
use utoipa::ToSchema;

use crate::auth::patient::authenticate;
use crate::auth::staff::Org;
use crate::error::{AppError, PageError};
use crate::form::{FormData, JsonBody, PageQuery};
use crate::limits::ClientAddress;
use crate::pages::PortalLayout;
use crate::state::AppState;

use super::{Next, PortalSessionDto, layout, safe_next, session_dto, sign_in_account};

#[derive(Template, WebTemplate)]
#[template(path = "portal/signin.html")]
pub(super) struct SignIn {
    layout: PortalLayout,
    username: String,
    next: String,
    failed: bool,
    signup: bool,
}

impl SignIn {
    /// The sign-up page's address, carrying where to come back to.
    fn signup_href(&self) -> String {
        format!(
            "/o/{}/portal/signup?next={}",
            self.layout.org_slug,
            crate::query::encode(&self.next)
        )
    }

    /// Whether the visitor came from a time they chose to book (the confirm page).
    fn booking(&self) -> bool {
        self.next.contains("/confirm?")
    }
}

pub(super) async fn form(
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

pub(super) async fn submit(
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

pub(super) async fn sign_out(Org(org): Org, session: Session) -> Result<Redirect, PageError> {
    session.flush().await.map_err(AppError::internal)?;
    Ok(Redirect::to(&format!("/o/{}/portal", org.slug)))
}

/// Portal credentials.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PortalSignIn {
    /// Username (the email address by default).
    pub username: String,
    /// Password.
    pub password: String,
}

/// The portal session's CSRF token and the signed-in patient.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/portal/session", tag = "portal",
    params(("slug" = String, Path, description = "The organisation")),
    responses((status = 200, body = PortalSessionDto)))]
pub(super) async fn api_session(
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
pub(super) async fn api_signin(
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
pub(super) async fn api_signout(Org(_org): Org, session: Session) -> Result<StatusCode, AppError> {
    session.flush().await.map_err(AppError::internal)?;
    Ok(StatusCode::NO_CONTENT)
}
