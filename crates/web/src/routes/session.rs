//! The API's session: get a CSRF token, sign in, see who is signed in, sign out.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::csrf;
use crate::auth::staff::{Org, authenticate, start_session};
use crate::error::AppError;
use crate::form::JsonBody;
use crate::limits::ClientAddress;
use crate::state::AppState;

/// The routes.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_session, sign_in, sign_out))
}

/// A staff user, as the API shows them.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StaffDto {
    /// Row id.
    pub id: i64,
    /// Sign-in email.
    pub email: String,
    /// Name.
    pub name: String,
    /// `admin`, `front_desk` or `practitioner`.
    pub role: String,
}

/// The session: its CSRF token, and who is signed in.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SessionDto {
    /// Send as `X-CSRF-Token` on every call that changes state.
    pub csrf_token: String,
    /// The signed-in staff user of this organisation, if any.
    pub staff: Option<StaffDto>,
}

/// Staff credentials.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignInRequest {
    /// Email.
    pub email: String,
    /// Password.
    pub password: String,
}

async fn staff_of(
    state: &AppState,
    org: i64,
    session: &Session,
) -> Result<Option<StaffDto>, AppError> {
    Ok(crate::auth::staff::staff_in_session(state, org, session)
        .await?
        .map(|u| StaffDto {
            id: u.id,
            email: u.email,
            name: u.name,
            role: u.role,
        }))
}

/// The session's CSRF token and the signed-in staff user.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/session", tag = "session",
    params(("slug" = String, Path, description = "The organisation")),
    responses((status = 200, body = SessionDto), (status = 404, description = "No such organisation")))]
async fn get_session(
    State(state): State<AppState>,
    Org(org): Org,
    session: Session,
) -> Result<Json<SessionDto>, AppError> {
    Ok(Json(SessionDto {
        csrf_token: csrf::token(&session).await?,
        staff: staff_of(&state, org.id, &session).await?,
    }))
}

/// Signs a staff user in (a new session id; a new CSRF token in the answer).
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/session", tag = "session",
    params(("slug" = String, Path, description = "The organisation")),
    request_body = SignInRequest,
    responses((status = 200, body = SessionDto), (status = 401, description = "The email or password is not right"),
              (status = 403, description = "Missing or wrong CSRF token"),
              (status = 429, description = "Too many attempts; see Retry-After")))]
async fn sign_in(
    State(state): State<AppState>,
    Org(org): Org,
    address: ClientAddress,
    session: Session,
    JsonBody(body): JsonBody<SignInRequest>,
) -> Result<Json<SessionDto>, AppError> {
    let user = authenticate(&state, address, org.id, &body.email, &body.password)
        .await?
        .ok_or(AppError::Unauthorized)?;
    start_session(&session, &user).await?;
    Ok(Json(SessionDto {
        csrf_token: csrf::token(&session).await?,
        staff: Some(StaffDto {
            id: user.id,
            email: user.email,
            name: user.name,
            role: user.role,
        }),
    }))
}

/// Signs out.
#[utoipa::path(delete, path = "/api/v1/orgs/{slug}/session", tag = "session",
    params(("slug" = String, Path, description = "The organisation")),
    responses((status = 204, description = "Signed out")))]
async fn sign_out(Org(_org): Org, session: Session) -> Result<StatusCode, AppError> {
    session.flush().await.map_err(AppError::internal)?;
    Ok(StatusCode::NO_CONTENT)
}
