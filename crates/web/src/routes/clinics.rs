//! Clinics and their holidays: the admin pages and the API.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::clinic::{self, Clinic, ClinicInput};
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
        .route("/o/{slug}/admin/clinics", get(list_page).post(create_page))
        .route(
            "/o/{slug}/admin/clinics/{id}",
            get(edit_page).post(update_page),
        )
        .route("/o/{slug}/admin/clinics/{id}/delete", post(delete_page))
        .route(
            "/o/{slug}/admin/clinics/{id}/holidays",
            post(add_holiday_page),
        )
        .route(
            "/o/{slug}/admin/clinics/{id}/holidays/{day}/delete",
            post(remove_holiday_page),
        )
}

/// The API.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update, delete))
        .routes(routes!(add_holiday))
        .routes(routes!(remove_holiday))
}

/// A clinic, as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ClinicDto {
    /// Row id.
    pub id: i64,
    /// Scenario id.
    pub key: String,
    /// Name.
    pub name: String,
    /// IANA timezone.
    pub timezone: String,
    /// Dates the clinic takes no bookings (`YYYY-MM-DD`).
    pub holidays: Vec<String>,
}

/// A clinic to create or save.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClinicBody {
    /// Name.
    pub name: String,
    /// IANA timezone, e.g. `America/Toronto`.
    pub timezone: String,
    /// Street address patients are told, possibly several lines (at most 300
    /// characters); blank or absent: none.
    #[serde(default)]
    pub address: String,
    /// Phone number (digits, spaces and `+ ( ) - .`, at most 40 characters); blank or
    /// absent: none.
    #[serde(default)]
    pub phone: String,
}

/// A holiday to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct HolidayBody {
    /// `YYYY-MM-DD`.
    pub date: String,
}

async fn dto(state: &AppState, org: i64, c: Clinic) -> Result<ClinicDto, AppError> {
    let mut conn = state.db.conn().await?;
    let holidays = clinic::holidays(conn.exec(), org, c.id).await?;
    Ok(ClinicDto {
        id: c.id,
        key: c.key,
        name: c.name,
        timezone: c.timezone,
        holidays: holidays.iter().map(ToString::to_string).collect(),
    })
}

/// What the audit log keeps of a clinic's fields, as saved.
fn details(c: &Clinic) -> serde_json::Value {
    json!({"name": c.name, "timezone": c.timezone})
}

async fn create_clinic(
    state: &AppState,
    staff: &Staff,
    input: &ClinicInput,
) -> store::Result<Clinic> {
    changes::setup(
        state,
        staff,
        Change {
            action: "clinic.create",
            entity: "clinic",
        },
        async |tx| {
            let c = clinic::create(tx, staff.org.id, input).await?;
            let (id, details) = (c.id, details(&c));
            Ok((c, Some(id), details))
        },
    )
    .await
}

async fn update_clinic(
    state: &AppState,
    staff: &Staff,
    id: i64,
    input: &ClinicInput,
) -> store::Result<Clinic> {
    changes::setup(
        state,
        staff,
        Change {
            action: "clinic.update",
            entity: "clinic",
        },
        async |tx| {
            let before = details(&clinic::get(tx.exec(), staff.org.id, id).await?);
            let c = clinic::update(tx, staff.org.id, id, input).await?;
            let details = changes::update_details(before, details(&c));
            Ok((c, Some(id), details))
        },
    )
    .await
}

async fn delete_clinic(state: &AppState, staff: &Staff, id: i64) -> store::Result<()> {
    changes::setup(
        state,
        staff,
        Change {
            action: "clinic.delete",
            entity: "clinic",
        },
        async |tx| {
            let gone = details(&clinic::get(tx.exec(), staff.org.id, id).await?);
            clinic::delete(tx, staff.org.id, id).await?;
            Ok(((), Some(id), gone))
        },
    )
    .await
}

async fn add_clinic_holiday(
    state: &AppState,
    staff: &Staff,
    id: i64,
    date: &str,
) -> store::Result<()> {
    changes::setup(
        state,
        staff,
        Change {
            action: "clinic.add_holiday",
            entity: "clinic",
        },
        async |tx| {
            let day = clinic::add_holiday(tx, staff.org.id, id, date).await?;
            Ok(((), Some(id), json!({"date": day.to_string()})))
        },
    )
    .await
}

async fn remove_clinic_holiday(
    state: &AppState,
    staff: &Staff,
    id: i64,
    date: &str,
) -> store::Result<()> {
    changes::setup(
        state,
        staff,
        Change {
            action: "clinic.remove_holiday",
            entity: "clinic",
        },
        async |tx| {
            clinic::remove_holiday(tx, staff.org.id, id, date).await?;
            Ok(((), Some(id), json!({"date": date})))
        },
    )
    .await
}

/// Every clinic.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/clinics", tag = "setup",
    params(("slug" = String, Path, description = "The organisation")),
    responses((status = 200, body = [ClinicDto]), (status = 401, description = "Not signed in")))]
async fn list(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
) -> Result<Json<Vec<ClinicDto>>, AppError> {
    let mut conn = state.db.conn().await?;
    let clinics = clinic::all(conn.exec(), staff.org.id).await?;
    drop(conn);
    let mut out = Vec::with_capacity(clinics.len());
    for c in clinics {
        out.push(dto(&state, staff.org.id, c).await?);
    }
    Ok(Json(out))
}

/// Creates a clinic (admins).
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/clinics", tag = "setup",
    params(("slug" = String, Path, description = "The organisation")),
    request_body = ClinicBody,
    responses((status = 201, body = ClinicDto), (status = 422, description = "Invalid field"), (status = 403, description = "Not an admin")))]
async fn create(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    JsonBody(body): JsonBody<ClinicBody>,
) -> Result<(StatusCode, Json<ClinicDto>), AppError> {
    staff.admin()?;
    let input = ClinicInput {
        name: body.name,
        timezone: body.timezone,
        address: body.address,
        phone: body.phone,
    };
    let created = create_clinic(&state, &staff, &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(dto(&state, staff.org.id, created).await?),
    ))
}

/// One clinic.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/clinics/{id}", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The clinic")),
    responses((status = 200, body = ClinicDto), (status = 404, description = "No such clinic in this organisation")))]
async fn get_one(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<Json<ClinicDto>, AppError> {
    let id = path.1;
    let mut conn = state.db.conn().await?;
    let c = clinic::get(conn.exec(), staff.org.id, id).await?;
    drop(conn);
    Ok(Json(dto(&state, staff.org.id, c).await?))
}

/// Saves a clinic (admins).
#[utoipa::path(put, path = "/api/v1/orgs/{slug}/clinics/{id}", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The clinic")),
    request_body = ClinicBody,
    responses((status = 200, body = ClinicDto), (status = 404, description = "No such clinic"), (status = 422, description = "Invalid field")))]
async fn update(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
    JsonBody(body): JsonBody<ClinicBody>,
) -> Result<Json<ClinicDto>, AppError> {
    let id = path.1;
    staff.admin()?;
    let input = ClinicInput {
        name: body.name,
        timezone: body.timezone,
        address: body.address,
        phone: body.phone,
    };
    let saved = update_clinic(&state, &staff, id, &input).await?;
    Ok(Json(dto(&state, staff.org.id, saved).await?))
}

/// Deletes a clinic nothing refers to (admins).
#[utoipa::path(delete, path = "/api/v1/orgs/{slug}/clinics/{id}", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The clinic")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such clinic"), (status = 422, description = "Still in use")))]
async fn delete(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<StatusCode, AppError> {
    let id = path.1;
    staff.admin()?;
    delete_clinic(&state, &staff, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds a holiday (admins).
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/clinics/{id}/holidays", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The clinic")),
    request_body = HolidayBody,
    responses((status = 200, body = ClinicDto), (status = 422, description = "Invalid date")))]
async fn add_holiday(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
    JsonBody(body): JsonBody<HolidayBody>,
) -> Result<Json<ClinicDto>, AppError> {
    let id = path.1;
    staff.admin()?;
    add_clinic_holiday(&state, &staff, id, &body.date).await?;
    get_one(State(state), StaffApi(staff), Path((String::new(), id))).await
}

/// Removes a holiday (admins).
#[utoipa::path(delete, path = "/api/v1/orgs/{slug}/clinics/{id}/holidays/{date}", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The clinic"),
           ("date" = String, Path, description = "YYYY-MM-DD")),
    responses((status = 200, body = ClinicDto)))]
async fn remove_holiday(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64, String)>,
) -> Result<Json<ClinicDto>, AppError> {
    let (_, id, date) = path;
    staff.admin()?;
    remove_clinic_holiday(&state, &staff, id, &date).await?;
    get_one(State(state), StaffApi(staff), Path((String::new(), id))).await
}

// Pages.

#[derive(Template, WebTemplate)]
#[template(path = "admin/clinics.html")]
struct ListPage {
    layout: Layout,
    clinics: Vec<Clinic>,
    errors: FieldErrors,
    name: String,
    timezone: String,
    address: String,
    phone: String,
    zones: &'static [&'static str],
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/clinic.html")]
struct EditPage {
    layout: Layout,
    clinic: Clinic,
    holidays: Vec<String>,
    errors: FieldErrors,
    name: String,
    timezone: String,
    address: String,
    phone: String,
    zones: &'static [&'static str],
}

/// Common IANA zones offered in a list (any valid name may be typed).
const ZONES: &[&str] = &[
    "America/St_Johns",
    "America/Halifax",
    "America/Toronto",
    "America/Winnipeg",
    "America/Regina",
    "America/Edmonton",
    "America/Vancouver",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Auckland",
    "UTC",
];

async fn list_view(
    state: &AppState,
    staff: &Staff,
    errors: FieldErrors,
    values: ClinicInput,
) -> Result<ListPage, PageError> {
    let mut conn = state.db.conn().await?;
    Ok(ListPage {
        layout: Layout::staff(staff, "Clinics", "setup").await?,
        clinics: clinic::all(conn.exec(), staff.org.id).await?,
        errors,
        name: values.name,
        timezone: values.timezone,
        address: values.address,
        phone: values.phone,
        zones: ZONES,
    })
}

async fn list_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
) -> Result<ListPage, PageError> {
    staff.admin()?;
    list_view(
        &state,
        &staff,
        FieldErrors::new(),
        ClinicInput {
            timezone: "America/Toronto".into(),
            ..ClinicInput::default()
        },
    )
    .await
}

async fn create_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let input = ClinicInput {
        name: form.get("name"),
        timezone: form.get("timezone"),
        address: form.get("address"),
        phone: form.get("phone"),
    };
    let result = create_clinic(&state, &staff, &input).await;
    saved_or_refused(result.map(|c| clinic_path(&staff, c.id)), async |errors| {
        list_view(&state, &staff, errors, input).await
    })
    .await
}

/// The clinics' list page.
fn list_path(staff: &Staff) -> String {
    format!("/o/{}/admin/clinics", staff.org.slug)
}

/// A clinic's page.
fn clinic_path(staff: &Staff, id: i64) -> String {
    format!("/o/{}/admin/clinics/{id}", staff.org.slug)
}

async fn edit_view(
    state: &AppState,
    staff: &Staff,
    id: i64,
    errors: FieldErrors,
    values: Option<ClinicInput>,
) -> Result<EditPage, PageError> {
    let mut conn = state.db.conn().await?;
    let c = clinic::get(conn.exec(), staff.org.id, id).await?;
    let holidays = clinic::holidays(conn.exec(), staff.org.id, id).await?;
    let values = values.unwrap_or(ClinicInput {
        name: c.name.clone(),
        timezone: c.timezone.clone(),
        address: c.address.clone(),
        phone: c.phone.clone(),
    });
    Ok(EditPage {
        layout: Layout::staff(staff, format!("Clinic {}", c.name), "setup").await?,
        clinic: c,
        holidays: holidays.iter().map(ToString::to_string).collect(),
        errors,
        name: values.name,
        timezone: values.timezone,
        address: values.address,
        phone: values.phone,
        zones: ZONES,
    })
}

async fn edit_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
) -> Result<EditPage, PageError> {
    staff.admin()?;
    edit_view(&state, &staff, id, FieldErrors::new(), None).await
}

async fn update_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let input = ClinicInput {
        name: form.get("name"),
        timezone: form.get("timezone"),
        address: form.get("address"),
        phone: form.get("phone"),
    };
    let result = update_clinic(&state, &staff, id, &input).await;
    saved_or_refused(result.map(|_| list_path(&staff)), async |errors| {
        edit_view(&state, &staff, id, errors, Some(input)).await
    })
    .await
}

async fn delete_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
) -> Result<Response, PageError> {
    staff.admin()?;
    let result = delete_clinic(&state, &staff, id).await;
    saved_or_refused(result.map(|()| list_path(&staff)), async |errors| {
        edit_view(&state, &staff, id, errors, None).await
    })
    .await
}

async fn add_holiday_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let date = form.get("date");
    let result = add_clinic_holiday(&state, &staff, id, &date).await;
    saved_or_refused(result.map(|()| clinic_path(&staff, id)), async |errors| {
        edit_view(&state, &staff, id, errors, None).await
    })
    .await
}

async fn remove_holiday_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id, day)): Path<(String, i64, String)>,
) -> Result<Redirect, PageError> {
    staff.admin()?;
    remove_clinic_holiday(&state, &staff, id, &day).await?;
    Ok(Redirect::to(&clinic_path(&staff, id)))
}
