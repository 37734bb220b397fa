//! The availability API: a practitioner's records as JSON, with their blocks and portal
//! overlay in the scenario format, and the documents the OpenAPI description shows.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use slot_engine::scenario::{Block as ScenarioBlock, PortalBlock as ScenarioPortalBlock};
use slot_engine::{Text, WallTime, Weekday};
use store::availability::{self, Record, RecordInput};
use utoipa::ToSchema;

use crate::auth::staff::StaffApi;
use crate::changes;
use crate::error::AppError;
use crate::form::JsonBody;
use crate::state::AppState;

use super::{
    BLOCKS, CREATE, DELETE, NEW_RECORD_FROM, PORTAL, TEMPORARY_CHANGE, UPDATE, block_details,
    new_record_from_details, record_details, temporary_change_details, weekday,
};

// The API's documents.

/// An availability record, as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RecordDto {
    /// Row id.
    pub id: i64,
    /// The practitioner's row id.
    pub practitioner_id: i64,
    /// First date, `YYYY-MM-DD`.
    pub start_date: String,
    /// Last date (inclusive), or `null` when open-ended.
    pub end_date: Option<String>,
    /// The clinic of blocks whose schedule type is usable at any clinic (`null`: the
    /// practitioner's home clinic).
    pub clinic_id: Option<i64>,
    /// The record's own scheduling interval in minutes (`null`: the organisation's).
    pub slot_step_minutes: Option<i64>,
    /// The scheduling interval in force.
    pub effective_slot_step_minutes: i64,
    /// The weekly blocks, in the scenario format.
    pub blocks: Vec<BlockDto>,
    /// Customize Portal Availability: `null` when not customised (every available block
    /// is online), `[]` when nothing is online.
    pub portal_blocks: Option<Vec<PortalBlockDto>>,
}

/// A block of one schedule type on some weekdays, in the scenario format.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BlockDto {
    /// Weekdays: `mon` … `sun`, each at most once.
    pub days: Vec<String>,
    /// Start, `HH:MM` on the organisation's grid.
    pub start: String,
    /// End, `HH:MM` (up to `24:00`) on the grid.
    pub end: String,
    /// The schedule type's id (its key), assigned to the practitioner.
    pub schedule_type: String,
}

/// A block of the portal overlay, in the scenario format.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PortalBlockDto {
    /// Weekdays: `mon` … `sun`, each at most once.
    pub days: Vec<String>,
    /// Start, `HH:MM` on the organisation's grid.
    pub start: String,
    /// End, `HH:MM` (up to `24:00`) on the grid.
    pub end: String,
}

/// A record's dates, clinic and scheduling interval, to create or save.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecordBody {
    /// First date, `YYYY-MM-DD`.
    pub start_date: String,
    /// Last date (inclusive), or `null` for an open-ended record.
    #[serde(default)]
    pub end_date: Option<String>,
    /// A clinic's row id for schedule types usable at any clinic, or `null`.
    #[serde(default)]
    pub clinic_id: Option<i64>,
    /// Minutes between slot starts, a multiple of the grid resolution; `null`: the
    /// organisation's default.
    #[serde(default)]
    pub slot_step_minutes: Option<i64>,
}

/// *New record from…*: the date the new record starts.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewRecordFromBody {
    /// The new record's first date, `YYYY-MM-DD`: after the record's first date, and not
    /// after its last. The record ends the day before.
    pub start_date: String,
}

/// *Temporary change…*: the dates of the change, inside the record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TemporaryChangeBody {
    /// The first date of the change, `YYYY-MM-DD`, not before the record's first.
    pub start_date: String,
    /// The last date of the change (inclusive), `YYYY-MM-DD`, not after the record's
    /// last.
    pub end_date: String,
}

/// What *New record from…* made of a record.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct NewRecordFromDto {
    /// The record, now ending the day before the new one starts.
    pub ended: RecordDto,
    /// The copy (blocks, portal overlay, interval, clinic), from the date given to the
    /// record's old end.
    pub new: RecordDto,
}

/// What *Temporary change…* made of a record: the copy to paint, and the record's
/// dates before and after it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TemporaryChangeDto {
    /// The record's dates before the change (the record itself), or `null` when the
    /// change starts on the record's first date.
    pub before: Option<RecordDto>,
    /// The copy for the dates of the change, to paint.
    pub temporary: RecordDto,
    /// The record's dates after the change, or `null` when the change ends on the
    /// record's last date. When there is no `before`, this is the record itself.
    pub after: Option<RecordDto>,
}

impl From<RecordBody> for RecordInput {
    fn from(body: RecordBody) -> Self {
        RecordInput {
            start_date: body.start_date,
            end_date: body.end_date,
            clinic_id: body.clinic_id,
            slot_step_minutes: body.slot_step_minutes,
        }
    }
}

fn days_text(days: &[Weekday]) -> Vec<String> {
    days.iter().map(|d| d.short_name().to_owned()).collect()
}

fn dto(org: &store::Organisation, r: &Record) -> RecordDto {
    RecordDto {
        id: r.id,
        practitioner_id: r.practitioner_id,
        start_date: r.dates.start().to_string(),
        end_date: r.dates.end().map(|d| d.to_string()),
        clinic_id: r.clinic_id,
        slot_step_minutes: r.slot_step_minutes,
        effective_slot_step_minutes: r.slot_step(org),
        blocks: r
            .blocks
            .iter()
            .map(|b| BlockDto {
                days: days_text(&b.days),
                start: b.start.to_string(),
                end: b.end.to_string(),
                schedule_type: b.schedule_type.clone(),
            })
            .collect(),
        portal_blocks: r.portal_blocks.as_ref().map(|spans| {
            spans
                .iter()
                .map(|s| PortalBlockDto {
                    days: days_text(&s.days),
                    start: s.start.to_string(),
                    end: s.end.to_string(),
                })
                .collect()
        }),
    }
}

fn parse_days(days: &[String]) -> Result<Vec<Weekday>, AppError> {
    days.iter()
        .map(|d| {
            weekday(d).ok_or_else(|| {
                AppError::invalid(
                    "days",
                    format!("unknown day {d:?}; use mon, tue, wed, thu, fri, sat or sun"),
                )
            })
        })
        .collect()
}

fn parse_time(field: &str, text: &str) -> Result<WallTime, AppError> {
    text.parse()
        .map_err(|e: slot_engine::ValueError| AppError::invalid(field, e.to_string()))
}

impl TryFrom<BlockDto> for ScenarioBlock {
    type Error = AppError;

    fn try_from(b: BlockDto) -> Result<Self, AppError> {
        Ok(ScenarioBlock {
            days: parse_days(&b.days)?,
            start: parse_time("start", &b.start)?,
            end: parse_time("end", &b.end)?,
            schedule_type: Text::new(b.schedule_type)
                .map_err(|e| AppError::invalid("schedule_type", e.to_string()))?,
        })
    }
}

impl TryFrom<PortalBlockDto> for ScenarioPortalBlock {
    type Error = AppError;

    fn try_from(b: PortalBlockDto) -> Result<Self, AppError> {
        Ok(ScenarioPortalBlock {
            days: parse_days(&b.days)?,
            start: parse_time("start", &b.start)?,
            end: parse_time("end", &b.end)?,
        })
    }
}

/// Converts a list of documents, naming the item at fault as `list[n].field`.
fn convert_all<D, T: TryFrom<D, Error = AppError>>(
    list: &str,
    items: Vec<D>,
) -> Result<Vec<T>, AppError> {
    items
        .into_iter()
        .enumerate()
        .map(|(n, item)| {
            T::try_from(item).map_err(|e| match e {
                AppError::Invalid { field, message } => {
                    AppError::invalid(format!("{list}[{n}].{field}"), message)
                }
                other => other,
            })
        })
        .collect()
}

// The API's handlers.

/// A practitioner's availability records, earliest first.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/practitioners/{id}/availability", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The practitioner")),
    responses((status = 200, body = [RecordDto]), (status = 401, description = "Not signed in"),
              (status = 404, description = "No such practitioner in this organisation")))]
pub(super) async fn list(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<Json<Vec<RecordDto>>, AppError> {
    let (_, practitioner) = path;
    let mut conn = state.db.conn().await?;
    let records = availability::list(conn.exec(), staff.org.id, practitioner).await?;
    Ok(Json(records.iter().map(|r| dto(&staff.org, r)).collect()))
}

/// Creates an availability record without blocks (admins). Refused, naming both
/// records, when its dates overlap another record of the practitioner.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/practitioners/{id}/availability", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The practitioner")),
    request_body = RecordBody,
    responses((status = 201, body = RecordDto), (status = 422, description = "Invalid field, or overlapping records"),
              (status = 403, description = "Not an admin"), (status = 404, description = "No such practitioner")))]
pub(super) async fn create(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
    JsonBody(body): JsonBody<RecordBody>,
) -> Result<(StatusCode, Json<RecordDto>), AppError> {
    let (_, practitioner) = path;
    staff.admin()?;
    let input = RecordInput::from(body);
    let record = changes::setup_api(&state, &staff, CREATE, async |tx| {
        let r = availability::create(tx, staff.org.id, practitioner, &input).await?;
        let (id, details) = (r.id, record_details(&r));
        Ok((r, Some(id), details))
    })
    .await?;
    Ok((StatusCode::CREATED, Json(dto(&staff.org, &record))))
}

/// One availability record.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/practitioners/{id}/availability/{record}", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The practitioner"),
           ("record" = i64, Path, description = "The availability record")),
    responses((status = 200, body = RecordDto), (status = 404, description = "No such record of this practitioner")))]
pub(super) async fn get_one(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64, i64)>,
) -> Result<Json<RecordDto>, AppError> {
    let (_, practitioner, id) = path;
    let mut conn = state.db.conn().await?;
    let record = availability::get(conn.exec(), staff.org.id, practitioner, id).await?;
    Ok(Json(dto(&staff.org, &record)))
}

/// Saves a record's dates, clinic and scheduling interval (admins); its blocks stay.
#[utoipa::path(put, path = "/api/v1/orgs/{slug}/practitioners/{id}/availability/{record}", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The practitioner"),
           ("record" = i64, Path, description = "The availability record")),
    request_body = RecordBody,
    responses((status = 200, body = RecordDto), (status = 404, description = "No such record"),
              (status = 422, description = "Invalid field, or overlapping records")))]
pub(super) async fn update(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64, i64)>,
    JsonBody(body): JsonBody<RecordBody>,
) -> Result<Json<RecordDto>, AppError> {
    let (_, practitioner, id) = path;
    staff.admin()?;
    let input = RecordInput::from(body);
    let record = changes::setup_api(&state, &staff, UPDATE, async |tx| {
        let before = availability::get(tx.exec(), staff.org.id, practitioner, id).await?;
        let r = availability::update(tx, staff.org.id, practitioner, id, &input).await?;
        let details = changes::update_details(record_details(&before), record_details(&r));
        Ok((r, Some(id), details))
    })
    .await?;
    Ok(Json(dto(&staff.org, &record)))
}

/// Deletes a record with its blocks and overlay (admins).
#[utoipa::path(delete, path = "/api/v1/orgs/{slug}/practitioners/{id}/availability/{record}", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The practitioner"),
           ("record" = i64, Path, description = "The availability record")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such record")))]
pub(super) async fn delete(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64, i64)>,
) -> Result<StatusCode, AppError> {
    let (_, practitioner, id) = path;
    staff.admin()?;
    changes::setup_api(&state, &staff, DELETE, async |tx| {
        let gone = availability::get(tx.exec(), staff.org.id, practitioner, id).await?;
        availability::delete(tx, staff.org.id, practitioner, id).await?;
        Ok(((), Some(id), record_details(&gone)))
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replaces a record's blocks, stored as given (admins). Refused, naming the block, when
/// a time is off the grid, a schedule type is not assigned to the practitioner, or two
/// blocks cover one cell on the same day.
#[utoipa::path(put, path = "/api/v1/orgs/{slug}/practitioners/{id}/availability/{record}/blocks", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The practitioner"),
           ("record" = i64, Path, description = "The availability record")),
    request_body = [BlockDto],
    responses((status = 200, body = RecordDto), (status = 404, description = "No such record"),
              (status = 422, description = "Invalid block, naming it")))]
pub(super) async fn put_blocks(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64, i64)>,
    JsonBody(body): JsonBody<Vec<BlockDto>>,
) -> Result<Json<RecordDto>, AppError> {
    let (_, practitioner, id) = path;
    staff.admin()?;
    let blocks: Vec<ScenarioBlock> = convert_all("blocks", body)?;
    let record = changes::setup_api(&state, &staff, BLOCKS, async |tx| {
        let before = availability::get(tx.exec(), staff.org.id, practitioner, id).await?;
        let r = availability::replace_blocks(tx, staff.org.id, practitioner, id, &blocks).await?;
        let details = changes::update_details(block_details(&before), block_details(&r));
        Ok((r, Some(id), details))
    })
    .await?;
    Ok(Json(dto(&staff.org, &record)))
}

/// Replaces a record's portal overlay (admins): portal blocks (their union counts;
/// `[]` puts nothing online), or `null` for not customised (every available block
/// online).
#[utoipa::path(put, path = "/api/v1/orgs/{slug}/practitioners/{id}/availability/{record}/portal", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The practitioner"),
           ("record" = i64, Path, description = "The availability record")),
    request_body = Option<[PortalBlockDto]>,
    responses((status = 200, body = RecordDto), (status = 404, description = "No such record"),
              (status = 422, description = "Invalid portal block, naming it")))]
pub(super) async fn put_portal(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64, i64)>,
    JsonBody(body): JsonBody<Option<Vec<PortalBlockDto>>>,
) -> Result<Json<RecordDto>, AppError> {
    let (_, practitioner, id) = path;
    staff.admin()?;
    let portal: Option<Vec<ScenarioPortalBlock>> = body
        .map(|list| convert_all("portal_blocks", list))
        .transpose()?;
    let record = changes::setup_api(&state, &staff, PORTAL, async |tx| {
        let before = availability::get(tx.exec(), staff.org.id, practitioner, id).await?;
        let r = availability::replace_portal(tx, staff.org.id, practitioner, id, portal.as_deref())
            .await?;
        let details = changes::update_details(block_details(&before), block_details(&r));
        Ok((r, Some(id), details))
    })
    .await?;
    Ok(Json(dto(&staff.org, &record)))
}

/// *New record from…* (admins): ends the record the day before `start_date` and starts
/// a copy of it (blocks, portal overlay, interval, clinic) on that date, to the
/// record's old end, in one transaction. The practitioner's records stay apart, and
/// nothing bookable changes until the new record is painted. Refused, naming
/// `start_date`, when the date is not after the record's first date or is after its
/// last; nothing is changed.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/practitioners/{id}/availability/{record}/new-record-from", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The practitioner"),
           ("record" = i64, Path, description = "The availability record")),
    request_body = NewRecordFromBody,
    responses((status = 201, body = NewRecordFromDto), (status = 403, description = "Not an admin"),
              (status = 404, description = "No such record"),
              (status = 422, description = "Invalid date, naming the field")))]
pub(super) async fn new_record_from(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64, i64)>,
    JsonBody(body): JsonBody<NewRecordFromBody>,
) -> Result<(StatusCode, Json<NewRecordFromDto>), AppError> {
    let (_, practitioner, id) = path;
    staff.admin()?;
    let made = changes::setup_api(&state, &staff, NEW_RECORD_FROM, async |tx| {
        let made =
            availability::new_record_from(tx, staff.org.id, practitioner, id, &body.start_date)
                .await?;
        let details = new_record_from_details(practitioner, &made);
        Ok((made, Some(id), details))
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(NewRecordFromDto {
            ended: dto(&staff.org, &made.ended),
            new: dto(&staff.org, &made.new),
        }),
    ))
}

/// *Temporary change…* (admins): cuts `start_date` to `end_date` out of the record into
/// a copy of its own (blocks, portal overlay, interval, clinic), to paint; the record
/// keeps its hours on the dates before and after, as itself and a copy. One
/// transaction; no piece is empty, the practitioner's records stay apart, and nothing
/// bookable changes until the temporary record is painted. Refused, naming the field,
/// when the dates are not inside this one record, the end is before the start, or they
/// are the whole record; nothing is changed.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/practitioners/{id}/availability/{record}/temporary-change", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The practitioner"),
           ("record" = i64, Path, description = "The availability record")),
    request_body = TemporaryChangeBody,
    responses((status = 201, body = TemporaryChangeDto), (status = 403, description = "Not an admin"),
              (status = 404, description = "No such record"),
              (status = 422, description = "Invalid dates, naming the field")))]
pub(super) async fn temporary_change(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64, i64)>,
    JsonBody(body): JsonBody<TemporaryChangeBody>,
) -> Result<(StatusCode, Json<TemporaryChangeDto>), AppError> {
    let (_, practitioner, id) = path;
    staff.admin()?;
    let made = changes::setup_api(&state, &staff, TEMPORARY_CHANGE, async |tx| {
        let made = availability::temporary_change(
            tx,
            staff.org.id,
            practitioner,
            id,
            &body.start_date,
            &body.end_date,
        )
        .await?;
        let details = temporary_change_details(practitioner, &made);
        Ok((made, Some(id), details))
    })
    .await?;
    let org = &staff.org;
    Ok((
        StatusCode::CREATED,
        Json(TemporaryChangeDto {
            before: made.before.as_ref().map(|r| dto(org, r)),
            temporary: dto(org, &made.temporary),
            after: made.after.as_ref().map(|r| dto(org, r)),
        }),
    ))
}
