//! API keys as an admin manages them (issue 18, `store::api_key`): the list with each
//! key's scopes and last use, a new key (its token shown once, on the page that made
//! it, never in an address), and revoking. Admins only, and only with a session: a key
//! never makes or revokes keys. Every change is audited (`api_key.create`,
//! `api_key.revoke`) in its transaction.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::api_key::{ApiKey, NewKey, Scope};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::api_key::{SHOWN_PREFIX, new_token};
use crate::auth::staff::{Caller, StaffApi, StaffPage};
use crate::clinic_time::OrgZone;
use crate::error::{AppError, PageError};
use crate::form::{FieldErrors, FormData, JsonBody};
use crate::pages::Layout;
use crate::routes::saved_to;
use crate::state::AppState;

/// The pages.
pub(crate) fn pages() -> Router<AppState> {
    Router::new()
        .route("/o/{slug}/admin/api-keys", get(page).post(create_page))
        .route("/o/{slug}/admin/api-keys/{id}/revoke", post(revoke_page))
}

/// The API.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(revoke))
}

/// A key as the API shows it (never its token).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ApiKeyDto {
    pub id: i64,
    /// What the admin called it.
    pub name: String,
    /// The token's first characters (`osk_AbCd1234`), to tell keys apart.
    pub token_prefix: String,
    /// What it may do: `schedule:read`, `appointments:write`, `setup:write`,
    /// `patients:read`, `patients:write`.
    pub scopes: Vec<String>,
    /// Who made it (`staff:3`).
    pub created_by: String,
    /// When it was made (RFC 3339, UTC).
    pub created_at: String,
    /// When it last authenticated a request, to the minute (RFC 3339, UTC).
    pub last_used_at: Option<String>,
    /// When it was revoked (RFC 3339, UTC); `null` while it works.
    pub revoked_at: Option<String>,
}

fn utc(ns: i64) -> String {
    crate::clinic_time::rfc3339(ns, chrono_tz::UTC)
}

impl From<ApiKey> for ApiKeyDto {
    fn from(k: ApiKey) -> Self {
        ApiKeyDto {
            id: k.id,
            name: k.name,
            token_prefix: k.token_prefix,
            scopes: k.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            created_by: k.created_by,
            created_at: utc(k.created_at_ns),
            last_used_at: k.last_used_at_ns.map(utc),
            revoked_at: k.revoked_at_ns.map(utc),
        }
    }
}

/// A new key.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewApiKeyDto {
    /// What to call it (1–80 characters), unique among the live keys.
    pub name: String,
    /// What it may do (at least one): `schedule:read`, `appointments:write`,
    /// `setup:write`, `patients:read`, `patients:write`.
    pub scopes: Vec<String>,
}

/// A key just made, with its token: the only time the token is shown.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CreatedApiKeyDto {
    /// The key.
    pub key: ApiKeyDto,
    /// The bearer token (`osk_…`): send it as `Authorization: Bearer <token>`. It is
    /// not stored and cannot be shown again.
    pub token: String,
}

/// Makes a key in one audited transaction; returns it with its token.
async fn make(
    state: &AppState,
    staff: &Caller,
    name: &str,
    scopes: &[String],
) -> Result<(ApiKey, String), store::Error> {
    let token = new_token();
    let mut tx = state.db.begin().await?;
    let now = state.clock.now_ns();
    let key = store::api_key::create(
        &mut tx,
        staff.org.id,
        &NewKey {
            name,
            scopes,
            token: &token,
            prefix_len: SHOWN_PREFIX,
        },
        &staff.actor(),
        now,
    )
    .await?;
    store::audit::record(
        &mut tx,
        staff.org.id,
        &staff.actor(),
        "api_key.create",
        "api_key",
        Some(key.id),
        json!({"name": key.name, "scopes": key.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(), "token_prefix": key.token_prefix}),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok((key, token))
}

/// Revokes a key in one audited transaction.
async fn unmake(state: &AppState, staff: &Caller, id: i64) -> Result<ApiKey, store::Error> {
    let mut tx = state.db.begin().await?;
    let now = state.clock.now_ns();
    let key = store::api_key::revoke(&mut tx, staff.org.id, id, &staff.actor(), now).await?;
    store::audit::record(
        &mut tx,
        staff.org.id,
        &staff.actor(),
        "api_key.revoke",
        "api_key",
        Some(key.id),
        json!({"name": key.name, "token_prefix": key.token_prefix}),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(key)
}

/// Only a person who is an admin manages keys.
fn admin_in_person(staff: &Caller) -> Result<(), AppError> {
    if staff.user().is_none() {
        return Err(AppError::Forbidden(
            "API keys are managed by an admin signed in, not by another key".into(),
        ));
    }
    staff.admin()
}

/// The organisation's API keys, live ones first (admins).
#[utoipa::path(get, operation_id = "list_api_keys", path = "/api/v1/orgs/{slug}/api-keys", tag = "integrations",
    params(("slug" = String, Path, description = "The organisation")),
    responses((status = 200, body = Vec<ApiKeyDto>), (status = 401, description = "Not signed in"),
        (status = 403, description = "Not an admin")))]
async fn list(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
) -> Result<Json<Vec<ApiKeyDto>>, AppError> {
    admin_in_person(&staff)?;
    let mut conn = state.db.conn().await?;
    let keys = store::api_key::all(conn.exec(), staff.org.id).await?;
    Ok(Json(keys.into_iter().map(ApiKeyDto::from).collect()))
}

/// Makes a key (admins); the answer holds its token, shown this once.
#[utoipa::path(post, operation_id = "create_api_key", path = "/api/v1/orgs/{slug}/api-keys", tag = "integrations",
    params(("slug" = String, Path, description = "The organisation")),
    request_body = NewApiKeyDto,
    responses((status = 201, body = CreatedApiKeyDto), (status = 403, description = "Not an admin"),
        (status = 422, description = "Invalid field; nothing saved")))]
async fn create(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    JsonBody(body): JsonBody<NewApiKeyDto>,
) -> Result<(StatusCode, Json<CreatedApiKeyDto>), AppError> {
    admin_in_person(&staff)?;
    let (key, token) = make(&state, &staff, &body.name, &body.scopes).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedApiKeyDto {
            key: key.into(),
            token,
        }),
    ))
}

/// Revokes a key (admins): it never authenticates again.
#[utoipa::path(delete, operation_id = "revoke_api_key", path = "/api/v1/orgs/{slug}/api-keys/{id}", tag = "integrations",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The key")),
    responses((status = 200, body = ApiKeyDto), (status = 403, description = "Not an admin"),
        (status = 404, description = "No live key of this organisation has this id")))]
async fn revoke(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<Json<ApiKeyDto>, AppError> {
    admin_in_person(&staff)?;
    Ok(Json(unmake(&state, &staff, path.1).await?.into()))
}

// Pages.

/// A key's row on the page.
#[derive(Debug)]
struct KeyRow {
    id: i64,
    name: String,
    prefix: String,
    scopes: String,
    created: String,
    last_used: String,
    revoked: Option<String>,
}

/// A scope's checkbox.
#[derive(Debug)]
struct ScopeBox {
    name: &'static str,
    describe: &'static str,
    checked: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/api_keys.html")]
struct ApiKeysPage {
    layout: Layout,
    keys: Vec<KeyRow>,
    errors: FieldErrors,
    name: String,
    scopes: Vec<ScopeBox>,
    /// A key just made: its name and token, shown once.
    made: Option<(String, String)>,
    api_base: String,
}

async fn render(
    state: &AppState,
    staff: &crate::auth::staff::Staff,
    errors: FieldErrors,
    name: String,
    chosen: &[String],
    made: Option<(String, String)>,
) -> Result<ApiKeysPage, AppError> {
    let mut conn = state.db.conn().await?;
    let keys = store::api_key::all(conn.exec(), staff.org.id).await?;
    let clinics = store::clinic::all(conn.exec(), staff.org.id).await?;
    drop(conn);
    let zone = OrgZone::of(&clinics);
    let keys = keys
        .into_iter()
        .map(|k| KeyRow {
            id: k.id,
            prefix: k.token_prefix.clone(),
            scopes: k
                .scopes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            created: zone.datetime(k.created_at_ns),
            last_used: k
                .last_used_at_ns
                .map_or_else(|| "never".to_owned(), |ns| zone.datetime(ns)),
            revoked: k.revoked_at_ns.map(|ns| zone.datetime(ns)),
            name: k.name,
        })
        .collect();
    Ok(ApiKeysPage {
        layout: Layout::staff(staff, "API keys", "setup").await?,
        keys,
        errors,
        name,
        scopes: Scope::ALL
            .into_iter()
            .map(|s| ScopeBox {
                name: s.as_str(),
                describe: s.describe(),
                checked: chosen.iter().any(|c| c == s.as_str()),
            })
            .collect(),
        made,
        api_base: format!(
            "{}/api/v1/orgs/{}",
            state.config.public_url.trim_end_matches('/'),
            staff.org.slug
        ),
    })
}

async fn page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
) -> Result<ApiKeysPage, PageError> {
    staff.admin()?;
    Ok(render(&state, &staff, FieldErrors::new(), String::new(), &[], None).await?)
}

async fn create_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let name = form.get("name");
    let scopes = form.all("scopes");
    let mut errors = FieldErrors::new();
    match make(&state, &staff.caller(), &name, &scopes).await {
        Ok((key, token)) => {
            // The token is on this page only: not in an address, not in the session.
            let page = render(
                &state,
                &staff,
                errors,
                String::new(),
                &[],
                Some((key.name, token)),
            )
            .await?;
            let mut response = (StatusCode::CREATED, page).into_response();
            response.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            Ok(response)
        }
        Err(e) => {
            errors.absorb(e)?;
            let page = render(&state, &staff, errors, name, &scopes, None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

async fn revoke_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((slug, id)): Path<(String, i64)>,
    _form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    unmake(&state, &staff.caller(), id).await?;
    saved_to(&staff, &format!("/o/{slug}/admin/api-keys")).await
}
