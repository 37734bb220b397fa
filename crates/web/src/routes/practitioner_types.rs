//! Practitioner types: the admin pages and the API.

use crate::auth::staff::Caller;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::practitioner_type::{self, PractitionerType, PractitionerTypeInput};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::staff::{Staff, StaffApi, StaffPage};
use crate::changes::{self, Change};
use crate::error::{AppError, PageError};
use crate::form::{FieldErrors, FormData, JsonBody};
use crate::pages::Layout;
use crate::routes::saved_or_refused;
use crate::state::AppState;

/// The pages.
pub(crate) fn pages() -> Router<AppState> {
    Router::new()
        .route(
            "/o/{slug}/admin/practitioner-types",
            get(list_page).post(create_page),
        )
        .route(
            "/o/{slug}/admin/practitioner-types/{id}",
            get(edit_page).post(rename_page),
        )
        .route(
            "/o/{slug}/admin/practitioner-types/{id}/delete",
            post(delete_page),
        )
}

/// The API.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, rename, delete))
}

/// A practitioner type, as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PractitionerTypeDto {
    /// Row id.
    pub id: i64,
    /// Scenario id: the `type` of practitioners in an export. It stays when the type
    /// is renamed.
    pub key: String,
    /// Name.
    pub name: String,
    /// How many practitioners have this type.
    pub practitioners: i64,
    /// How many services ask for this type.
    pub services: i64,
}

impl From<PractitionerType> for PractitionerTypeDto {
    fn from(t: PractitionerType) -> Self {
        PractitionerTypeDto {
            id: t.id,
            key: t.key,
            name: t.name,
            practitioners: t.practitioners,
            services: t.services,
        }
    }
}

/// A practitioner type to create or rename.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PractitionerTypeBody {
    /// Name, e.g. `Registered Massage Therapist`.
    pub name: String,
}

async fn create_type(
    state: &AppState,
    staff: &Caller,
    input: &PractitionerTypeInput,
) -> store::Result<PractitionerType> {
    changes::setup(
        state,
        staff,
        Change {
            action: "practitioner_type.create",
            entity: "practitioner_type",
        },
        async |tx| {
            let t = practitioner_type::create(tx, staff.org.id, input).await?;
            let id = t.id;
            Ok((t, Some(id), json!({"name": input.name})))
        },
    )
    .await
}

async fn rename_type(
    state: &AppState,
    staff: &Caller,
    id: i64,
    input: &PractitionerTypeInput,
) -> store::Result<PractitionerType> {
    changes::setup(
        state,
        staff,
        Change {
            action: "practitioner_type.rename",
            entity: "practitioner_type",
        },
        async |tx| {
            let before = practitioner_type::get(tx.exec(), staff.org.id, id).await?;
            let t = practitioner_type::rename(tx, staff.org.id, id, input).await?;
            let details =
                changes::update_details(json!({"name": before.name}), json!({"name": t.name}));
            Ok((t, Some(id), details))
        },
    )
    .await
}

async fn delete_type(state: &AppState, staff: &Caller, id: i64) -> store::Result<()> {
    changes::setup(
        state,
        staff,
        Change {
            action: "practitioner_type.delete",
            entity: "practitioner_type",
        },
        async |tx| {
            let gone = practitioner_type::get(tx.exec(), staff.org.id, id).await?;
            practitioner_type::delete(tx, staff.org.id, id).await?;
            Ok(((), Some(id), json!({"name": gone.name})))
        },
    )
    .await
}

/// Every practitioner type (admins and front desk).
#[utoipa::path(get, operation_id = "list_practitioner_types", path = "/api/v1/orgs/{slug}/practitioner-types", tag = "setup",
    params(("slug" = String, Path, description = "The organisation")),
    responses((status = 200, body = [PractitionerTypeDto]), (status = 401, description = "Not signed in"),
        (status = 403, description = "Neither admin nor front desk")))]
async fn list(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
) -> Result<Json<Vec<PractitionerTypeDto>>, AppError> {
    staff.front_desk()?;
    let mut conn = state.db.conn().await?;
    let all = practitioner_type::all(conn.exec(), staff.org.id).await?;
    Ok(Json(all.into_iter().map(Into::into).collect()))
}

/// Creates a practitioner type (admins).
#[utoipa::path(post, operation_id = "create_practitioner_type", path = "/api/v1/orgs/{slug}/practitioner-types", tag = "setup",
    params(("slug" = String, Path, description = "The organisation")),
    request_body = PractitionerTypeBody,
    responses((status = 201, body = PractitionerTypeDto), (status = 403, description = "Not an admin"),
        (status = 422, description = "Invalid field; nothing saved")))]
async fn create(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    JsonBody(body): JsonBody<PractitionerTypeBody>,
) -> Result<(StatusCode, Json<PractitionerTypeDto>), AppError> {
    staff.admin()?;
    let input = PractitionerTypeInput { name: body.name };
    let created = create_type(&state, &staff, &input).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// One practitioner type (admins and front desk).
#[utoipa::path(get, operation_id = "get_practitioner_type", path = "/api/v1/orgs/{slug}/practitioner-types/{id}", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"),
        ("id" = i64, Path, description = "The practitioner type")),
    responses((status = 200, body = PractitionerTypeDto),
        (status = 404, description = "No such practitioner type in this organisation")))]
async fn get_one(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<Json<PractitionerTypeDto>, AppError> {
    let id = path.1;
    staff.front_desk()?;
    let mut conn = state.db.conn().await?;
    let t = practitioner_type::get(conn.exec(), staff.org.id, id).await?;
    Ok(Json(t.into()))
}

/// Renames a practitioner type (admins); its key stays.
#[utoipa::path(put, operation_id = "rename_practitioner_type", path = "/api/v1/orgs/{slug}/practitioner-types/{id}", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"),
        ("id" = i64, Path, description = "The practitioner type")),
    request_body = PractitionerTypeBody,
    responses((status = 200, body = PractitionerTypeDto), (status = 403, description = "Not an admin"),
        (status = 404, description = "No such practitioner type"), (status = 422, description = "Invalid field")))]
async fn rename(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
    JsonBody(body): JsonBody<PractitionerTypeBody>,
) -> Result<Json<PractitionerTypeDto>, AppError> {
    let id = path.1;
    staff.admin()?;
    let input = PractitionerTypeInput { name: body.name };
    Ok(Json(rename_type(&state, &staff, id, &input).await?.into()))
}

/// Deletes a practitioner type (admins); refused while practitioners or services use it.
#[utoipa::path(delete, operation_id = "delete_practitioner_type", path = "/api/v1/orgs/{slug}/practitioner-types/{id}", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"),
        ("id" = i64, Path, description = "The practitioner type")),
    responses((status = 204, description = "Deleted"), (status = 403, description = "Not an admin"),
        (status = 404, description = "No such practitioner type"), (status = 422, description = "Still in use")))]
async fn delete(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<StatusCode, AppError> {
    let id = path.1;
    staff.admin()?;
    delete_type(&state, &staff, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// Pages.

#[derive(Template, WebTemplate)]
#[template(path = "admin/practitioner_types.html")]
struct ListPage {
    layout: Layout,
    types: Vec<PractitionerType>,
    errors: FieldErrors,
    name: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/practitioner_type.html")]
struct EditPage {
    layout: Layout,
    kind: PractitionerType,
    errors: FieldErrors,
    name: String,
}

async fn list_view(
    state: &AppState,
    staff: &Staff,
    errors: FieldErrors,
    name: String,
) -> Result<ListPage, PageError> {
    let mut conn = state.db.conn().await?;
    Ok(ListPage {
        layout: Layout::staff(staff, "Practitioner types", "setup").await?,
        types: practitioner_type::all(conn.exec(), staff.org.id).await?,
        errors,
        name,
    })
}

async fn edit_view(
    state: &AppState,
    staff: &Staff,
    id: i64,
    errors: FieldErrors,
    name: Option<String>,
) -> Result<EditPage, PageError> {
    let mut conn = state.db.conn().await?;
    let kind = practitioner_type::get(conn.exec(), staff.org.id, id).await?;
    Ok(EditPage {
        layout: Layout::staff(staff, format!("Practitioner type {}", kind.name), "setup").await?,
        name: name.unwrap_or_else(|| kind.name.clone()),
        kind,
        errors,
    })
}

async fn list_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
) -> Result<ListPage, PageError> {
    staff.admin()?;
    list_view(&state, &staff, FieldErrors::new(), String::new()).await
}

/// Where the pages go after a change: the list.
fn list_path(staff: &Staff) -> String {
    format!("/o/{}/admin/practitioner-types", staff.org.slug)
}

async fn create_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let input = PractitionerTypeInput {
        name: form.get("name"),
    };
    let saved = create_type(&state, &staff.caller(), &input).await;
    saved_or_refused(&staff, saved.map(|_| list_path(&staff)), async |errors| {
        list_view(&state, &staff, errors, input.name).await
    })
    .await
}

async fn edit_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
) -> Result<EditPage, PageError> {
    staff.admin()?;
    edit_view(&state, &staff, id, FieldErrors::new(), None).await
}

async fn rename_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let input = PractitionerTypeInput {
        name: form.get("name"),
    };
    let saved = rename_type(&state, &staff.caller(), id, &input).await;
    saved_or_refused(&staff, saved.map(|_| list_path(&staff)), async |errors| {
        edit_view(&state, &staff, id, errors, Some(input.name)).await
    })
    .await
}

async fn delete_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
) -> Result<Response, PageError> {
    staff.admin()?;
    let deleted = delete_type(&state, &staff.caller(), id).await;
    saved_or_refused(
        &staff,
        deleted.map(|()| list_path(&staff)),
        async |errors| edit_view(&state, &staff, id, errors, None).await,
    )
    .await
}
