//! The rooms-and-equipment API: resources, their availability records in the scenario
//! format, and their time out of service.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use slot_engine::scenario::PortalBlock;
use slot_engine::{Instant, WallTime, Weekday};
use store::resource::{self, RecordInput, Resource, ResourceInput, ResourceKind, ResourceRecord};
use utoipa::ToSchema;

use super::{NewTimeOff, days_text, weekday};
use crate::auth::staff::StaffApi;
use crate::clinic_time::rfc3339;
use crate::error::AppError;
use crate::form::JsonBody;
use crate::state::AppState;

/// A room or piece of equipment, as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ResourceDto {
    /// Row id (what services' `requires` name).
    pub id: i64,
    /// Scenario id.
    pub key: String,
    /// Name.
    pub name: String,
    /// `room` or `equipment`.
    #[schema(value_type = String)]
    pub kind: ResourceKind,
    /// The clinic it is at (row id): only appointments there use it.
    pub clinic_id: i64,
    /// That clinic's name.
    pub clinic_name: String,
    /// How many appointments it holds at once (1 ..= 10000).
    pub capacity: i64,
    /// `true`: available whenever a practitioner is; `false`: only where its
    /// availability records say.
    pub always_available: bool,
}

impl From<Resource> for ResourceDto {
    fn from(r: Resource) -> Self {
        ResourceDto {
            id: r.id,
            key: r.key,
            name: r.name,
            kind: r.kind,
            clinic_id: r.clinic_id,
            clinic_name: r.clinic_name,
            capacity: r.capacity,
            always_available: r.always_available,
        }
    }
}

fn one() -> i64 {
    1
}

fn yes() -> bool {
    true
}

fn room() -> String {
    "room".to_owned()
}

/// A room or piece of equipment to create or save.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResourceBody {
    /// Name (at most 100 characters).
    pub name: String,
    /// `room` (default) or `equipment`.
    #[serde(default = "room")]
    pub kind: String,
    /// A clinic of the organisation (row id).
    pub clinic_id: i64,
    /// How many appointments it holds at once, 1 ..= 10000 (default 1).
    #[serde(default = "one")]
    pub capacity: i64,
    /// Available whenever a practitioner is (default `true`); `false`: only where its
    /// availability records say.
    #[serde(default = "yes")]
    pub always_available: bool,
}

impl TryFrom<ResourceBody> for ResourceInput {
    type Error = AppError;

    fn try_from(b: ResourceBody) -> Result<Self, AppError> {
        Ok(ResourceInput {
            kind: b
                .kind
                .parse()
                .map_err(|_| AppError::invalid("kind", "Choose room or equipment."))?,
            name: b.name,
            clinic_id: b.clinic_id,
            capacity: b.capacity,
            always_available: b.always_available,
        })
    }
}

/// A weekly block of a resource's availability, in the scenario format.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResourceBlockDto {
    /// Weekdays: `mon` … `sun`, each at most once.
    pub days: Vec<String>,
    /// Start, `HH:MM` on the organisation's grid.
    pub start: String,
    /// End, `HH:MM` (up to `24:00`) on the grid.
    pub end: String,
}

/// A dated availability record of a resource, as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ResourceRecordDto {
    /// Row id.
    pub id: i64,
    /// The resource's row id.
    pub resource_id: i64,
    /// First date, `YYYY-MM-DD`.
    pub start_date: String,
    /// Last date (inclusive), or `null` when open-ended.
    pub end_date: Option<String>,
    /// When it is available each week; `[]`: not at all on these dates.
    pub blocks: Vec<ResourceBlockDto>,
}

impl From<ResourceRecord> for ResourceRecordDto {
    fn from(r: ResourceRecord) -> Self {
        ResourceRecordDto {
            id: r.id,
            resource_id: r.resource_id,
            start_date: r.dates.start().to_string(),
            end_date: r.dates.end().map(|d| d.to_string()),
            blocks: r
                .blocks
                .iter()
                .map(|b| ResourceBlockDto {
                    days: days_text(&b.days),
                    start: b.start.to_string(),
                    end: b.end.to_string(),
                })
                .collect(),
        }
    }
}

/// A resource's availability record to create or replace.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResourceRecordBody {
    /// First date, `YYYY-MM-DD`; records of one resource may not share a date.
    pub start_date: String,
    /// Last date (inclusive), or `null` (default) for an open-ended record.
    #[serde(default)]
    pub end_date: Option<String>,
    /// When it is available each week (default none: not at all on these dates).
    #[serde(default)]
    pub blocks: Vec<ResourceBlockDto>,
}

fn block(n: usize, b: ResourceBlockDto) -> Result<PortalBlock, AppError> {
    let field = |name: &str| format!("blocks[{n}].{name}");
    let days = b
        .days
        .iter()
        .map(|d| {
            weekday(d).ok_or_else(|| {
                AppError::invalid(
                    field("days"),
                    format!("unknown day {d:?}; use mon, tue, wed, thu, fri, sat or sun"),
                )
            })
        })
        .collect::<Result<Vec<Weekday>, AppError>>()?;
    let time = |name: &str, text: &str| -> Result<WallTime, AppError> {
        text.parse()
            .map_err(|e: slot_engine::ValueError| AppError::invalid(field(name), e.to_string()))
    };
    Ok(PortalBlock {
        days,
        start: time("start", &b.start)?,
        end: time("end", &b.end)?,
    })
}

impl TryFrom<ResourceRecordBody> for RecordInput {
    type Error = AppError;

    fn try_from(b: ResourceRecordBody) -> Result<Self, AppError> {
        Ok(RecordInput {
            start_date: b.start_date,
            end_date: b.end_date,
            blocks: b
                .blocks
                .into_iter()
                .enumerate()
                .map(|(n, b)| block(n, b))
                .collect::<Result<_, _>>()?,
        })
    }
}

/// A stretch a resource is out of service, as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ResourceTimeOffDto {
    /// Row id.
    pub id: i64,
    /// The resource's row id.
    pub resource_id: i64,
    /// When it goes out of service, RFC 3339 in its clinic's zone.
    pub start: String,
    /// When it is back, RFC 3339 in its clinic's zone.
    pub end: String,
    /// Why, or `null`.
    pub reason: Option<String>,
}

/// A stretch out of service to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResourceTimeOffBody {
    /// When it goes out of service, RFC 3339 with an offset.
    pub start: String,
    /// When it is back, RFC 3339 with an offset; after `start`.
    pub end: String,
    /// Why (optional, at most 200 characters).
    #[serde(default)]
    pub reason: Option<String>,
}

fn instant(field: &str, text: &str) -> Result<i64, AppError> {
    text.parse::<Instant>()
        .map(Instant::unix_nanos)
        .map_err(|_| {
            AppError::invalid(
                field,
                "Enter a date and time with its offset, e.g. 2026-03-02T08:00:00-05:00.",
            )
        })
}

async fn time_off_dtos(
    state: &AppState,
    org: i64,
    r: &Resource,
    list: Vec<store::resource::ResourceTimeOff>,
) -> Result<Vec<ResourceTimeOffDto>, AppError> {
    let mut conn = state.db.conn().await?;
    let tz = store::clinic::get(conn.exec(), org, r.clinic_id)
        .await?
        .zone();
    Ok(list
        .into_iter()
        .map(|t| ResourceTimeOffDto {
            id: t.id,
            resource_id: t.resource_id,
            start: rfc3339(t.start_ns, tz),
            end: rfc3339(t.end_ns, tz),
            reason: t.reason,
        })
        .collect())
}

async fn get_resource(state: &AppState, org: i64, id: i64) -> Result<Resource, AppError> {
    let mut conn = state.db.conn().await?;
    Ok(resource::get(conn.exec(), org, id).await?)
}

/// Every room and piece of equipment, by clinic and name (admins and front desk).
#[utoipa::path(get, operation_id = "list_resources", path = "/api/v1/orgs/{slug}/resources", tag = "resources",
    params(("slug" = String, Path, description = "The organisation")),
    responses((status = 200, body = [ResourceDto]), (status = 403, description = "Neither admin nor front desk")))]
pub(super) async fn list(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
) -> Result<Json<Vec<ResourceDto>>, AppError> {
    staff.front_desk()?;
    let mut conn = state.db.conn().await?;
    let all = resource::all(conn.exec(), staff.org.id).await?;
    Ok(Json(all.into_iter().map(ResourceDto::from).collect()))
}

/// Adds a room or piece of equipment (admins).
#[utoipa::path(post, operation_id = "create_resource", path = "/api/v1/orgs/{slug}/resources", tag = "resources",
    params(("slug" = String, Path, description = "The organisation")),
    request_body = ResourceBody,
    responses((status = 201, body = ResourceDto), (status = 403, description = "Not an admin"),
        (status = 422, description = "Invalid field; nothing saved")))]
pub(super) async fn create(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    JsonBody(body): JsonBody<ResourceBody>,
) -> Result<(StatusCode, Json<ResourceDto>), AppError> {
    staff.admin()?;
    let input = ResourceInput::try_from(body)?;
    let r = super::create(&state, &staff, &input).await?;
    Ok((StatusCode::CREATED, Json(r.into())))
}

/// One room or piece of equipment (admins and front desk).
#[utoipa::path(get, operation_id = "get_resource", path = "/api/v1/orgs/{slug}/resources/{id}", tag = "resources",
    params(("slug" = String, Path, description = "The organisation"),
        ("id" = i64, Path, description = "The resource")),
    responses((status = 200, body = ResourceDto),
        (status = 404, description = "No such resource in this organisation")))]
pub(super) async fn get_one(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<Json<ResourceDto>, AppError> {
    let id = path.1;
    staff.front_desk()?;
    Ok(Json(get_resource(&state, staff.org.id, id).await?.into()))
}

/// Saves a room or piece of equipment (admins); its key, records and time off stay.
#[utoipa::path(put, operation_id = "update_resource", path = "/api/v1/orgs/{slug}/resources/{id}", tag = "resources",
    params(("slug" = String, Path, description = "The organisation"),
        ("id" = i64, Path, description = "The resource")),
    request_body = ResourceBody,
    responses((status = 200, body = ResourceDto), (status = 403, description = "Not an admin"),
        (status = 404, description = "No such resource"), (status = 422, description = "Invalid field")))]
pub(super) async fn update(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
    JsonBody(body): JsonBody<ResourceBody>,
) -> Result<Json<ResourceDto>, AppError> {
    let id = path.1;
    staff.admin()?;
    let input = ResourceInput::try_from(body)?;
    let r = super::update(&state, &staff, id, &input).await?;
    Ok(Json(r.into()))
}

/// Deletes a room or piece of equipment (admins), taking it out of the services that
/// need it. Refused while appointments hold it, or while it is the only choice of a
/// service's need.
#[utoipa::path(delete, operation_id = "delete_resource", path = "/api/v1/orgs/{slug}/resources/{id}", tag = "resources",
    params(("slug" = String, Path, description = "The organisation"),
        ("id" = i64, Path, description = "The resource")),
    responses((status = 204, description = "Deleted"), (status = 403, description = "Not an admin"),
        (status = 404, description = "No such resource"),
        (status = 422, description = "Appointments hold it, or a service cannot do without it")))]
pub(super) async fn delete(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<StatusCode, AppError> {
    let id = path.1;
    staff.admin()?;
    super::delete(&state, &staff, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A resource's availability records, by start date (admins and front desk). Used only
/// when the resource is not always available.
#[utoipa::path(get, operation_id = "list_resource_records", path = "/api/v1/orgs/{slug}/resources/{id}/availability", tag = "resources",
    params(("slug" = String, Path, description = "The organisation"),
        ("id" = i64, Path, description = "The resource")),
    responses((status = 200, body = [ResourceRecordDto]), (status = 404, description = "No such resource")))]
pub(super) async fn list_records(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<Json<Vec<ResourceRecordDto>>, AppError> {
    let id = path.1;
    staff.front_desk()?;
    let mut conn = state.db.conn().await?;
    let records = resource::records(conn.exec(), staff.org.id, id).await?;
    Ok(Json(records.into_iter().map(Into::into).collect()))
}

/// Adds an availability record to a resource, with its weekly blocks (admins).
#[utoipa::path(post, operation_id = "create_resource_record", path = "/api/v1/orgs/{slug}/resources/{id}/availability", tag = "resources",
    params(("slug" = String, Path, description = "The organisation"),
        ("id" = i64, Path, description = "The resource")),
    request_body = ResourceRecordBody,
    responses((status = 201, body = ResourceRecordDto), (status = 403, description = "Not an admin"),
        (status = 404, description = "No such resource"),
        (status = 422, description = "Invalid field, or dates shared with another record")))]
pub(super) async fn create_record(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
    JsonBody(body): JsonBody<ResourceRecordBody>,
) -> Result<(StatusCode, Json<ResourceRecordDto>), AppError> {
    let id = path.1;
    staff.admin()?;
    let input = RecordInput::try_from(body)?;
    let r = super::create_record(&state, &staff, id, &input).await?;
    Ok((StatusCode::CREATED, Json(r.into())))
}

/// Replaces an availability record's dates and blocks (admins).
#[utoipa::path(put, operation_id = "update_resource_record", path = "/api/v1/orgs/{slug}/resources/{id}/availability/{record}", tag = "resources",
    params(("slug" = String, Path, description = "The organisation"),
        ("id" = i64, Path, description = "The resource"),
        ("record" = i64, Path, description = "The record")),
    request_body = ResourceRecordBody,
    responses((status = 200, body = ResourceRecordDto), (status = 403, description = "Not an admin"),
        (status = 404, description = "No such resource or record"),
        (status = 422, description = "Invalid field, or dates shared with another record")))]
pub(super) async fn update_record(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64, i64)>,
    JsonBody(body): JsonBody<ResourceRecordBody>,
) -> Result<Json<ResourceRecordDto>, AppError> {
    let (id, record) = (path.1, path.2);
    staff.admin()?;
    let input = RecordInput::try_from(body)?;
    let r = super::update_record(&state, &staff, id, record, &input).await?;
    Ok(Json(r.into()))
}

/// Deletes an availability record (admins).
#[utoipa::path(delete, operation_id = "delete_resource_record", path = "/api/v1/orgs/{slug}/resources/{id}/availability/{record}", tag = "resources",
    params(("slug" = String, Path, description = "The organisation"),
        ("id" = i64, Path, description = "The resource"),
        ("record" = i64, Path, description = "The record")),
    responses((status = 204, description = "Deleted"), (status = 403, description = "Not an admin"),
        (status = 404, description = "No such resource or record")))]
pub(super) async fn delete_record(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64, i64)>,
) -> Result<StatusCode, AppError> {
    let (id, record) = (path.1, path.2);
    staff.admin()?;
    super::delete_record(&state, &staff, id, record).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// When a resource is out of service, by start (admins and front desk).
#[utoipa::path(get, operation_id = "list_resource_time_off", path = "/api/v1/orgs/{slug}/resources/{id}/time-off", tag = "resources",
    params(("slug" = String, Path, description = "The organisation"),
        ("id" = i64, Path, description = "The resource")),
    responses((status = 200, body = [ResourceTimeOffDto]), (status = 404, description = "No such resource")))]
pub(super) async fn list_time_off(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<Json<Vec<ResourceTimeOffDto>>, AppError> {
    let id = path.1;
    staff.front_desk()?;
    let r = get_resource(&state, staff.org.id, id).await?;
    let mut conn = state.db.conn().await?;
    let list = resource::time_off(conn.exec(), staff.org.id, id).await?;
    drop(conn);
    Ok(Json(time_off_dtos(&state, staff.org.id, &r, list).await?))
}

/// Records that a resource is out of service for a stretch (admins).
#[utoipa::path(post, operation_id = "add_resource_time_off", path = "/api/v1/orgs/{slug}/resources/{id}/time-off", tag = "resources",
    params(("slug" = String, Path, description = "The organisation"),
        ("id" = i64, Path, description = "The resource")),
    request_body = ResourceTimeOffBody,
    responses((status = 201, body = ResourceTimeOffDto), (status = 403, description = "Not an admin"),
        (status = 404, description = "No such resource"), (status = 422, description = "Invalid field")))]
pub(super) async fn add_time_off(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
    JsonBody(body): JsonBody<ResourceTimeOffBody>,
) -> Result<(StatusCode, Json<ResourceTimeOffDto>), AppError> {
    let id = path.1;
    staff.admin()?;
    let r = get_resource(&state, staff.org.id, id).await?;
    let off = NewTimeOff {
        start_ns: instant("start", &body.start)?,
        end_ns: instant("end", &body.end)?,
        reason: body.reason,
    };
    let t = super::add_time_off(&state, &staff, id, &off).await?;
    let mut dtos = time_off_dtos(&state, staff.org.id, &r, vec![t]).await?;
    let dto = dtos
        .pop()
        .ok_or_else(|| AppError::internal("no time off"))?;
    Ok((StatusCode::CREATED, Json(dto)))
}

/// Removes a stretch out of service (admins).
#[utoipa::path(delete, operation_id = "remove_resource_time_off", path = "/api/v1/orgs/{slug}/resources/{id}/time-off/{off}", tag = "resources",
    params(("slug" = String, Path, description = "The organisation"),
        ("id" = i64, Path, description = "The resource"),
        ("off" = i64, Path, description = "The stretch out of service")),
    responses((status = 204, description = "Removed"), (status = 403, description = "Not an admin"),
        (status = 404, description = "No such resource or stretch")))]
pub(super) async fn remove_time_off(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64, i64)>,
) -> Result<StatusCode, AppError> {
    let (id, off) = (path.1, path.2);
    staff.admin()?;
    super::remove_time_off(&state, &staff, id, off).await?;
    Ok(StatusCode::NO_CONTENT)
}
