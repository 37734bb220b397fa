//! A practitioner's availability records: the list, the weekly grid editor with
//! *Customize Portal Availability*, and the API.
//!
//! The editor is one plain form: one checkbox per block of the layer being painted (a
//! schedule type, or the portal overlay), and hidden inputs for every other cell, so it
//! works without JavaScript. `static/grid.js` turns the same table into an ARIA grid
//! (click, shift-click, arrow keys and Space) and keeps the hidden inputs in sync; the
//! server reads the same `cell` fields either way. A cell field is
//! `LAYER/DAY/HH:MM-HH:MM`, where `LAYER` is a schedule type's row id or `p` for the
//! overlay.
//!
//! Schedule-type colours come from a small stylesheet served here
//! (`…/availability/colours.css`), because the Content Security Policy forbids inline
//! styles.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use slot_engine::scenario::{Block as ScenarioBlock, PortalBlock as ScenarioPortalBlock};
use slot_engine::{Color, RecordDates, Resolution, Text, WallTime, Weekday};
use store::availability::{
    self, Layer, Painting, PractitionerSummary, Record, RecordInput, ScheduleTypeSummary, day_name,
};
use store::clinic::{self, Clinic};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::staff::{Staff, StaffApi, StaffPage};
use crate::changes::{self, Change};
use crate::error::{AppError, PageError};
use crate::form::{FieldErrors, FormData, JsonBody, PageQuery};
use crate::pages::Layout;
use crate::state::AppState;

/// The pages.
pub fn pages() -> Router<AppState> {
    Router::new()
        .route(
            "/o/{slug}/admin/practitioners/{id}/availability",
            get(list_page).post(create_page),
        )
        .route(
            "/o/{slug}/admin/practitioners/{id}/availability/colours.css",
            get(colours),
        )
        .route(
            "/o/{slug}/admin/practitioners/{id}/availability/{record}",
            get(edit_page).post(update_page),
        )
        .route(
            "/o/{slug}/admin/practitioners/{id}/availability/{record}/grid",
            post(save_grid_page),
        )
        .route(
            "/o/{slug}/admin/practitioners/{id}/availability/{record}/delete",
            post(delete_page),
        )
        .route(
            "/o/{slug}/admin/practitioners/{id}/availability/{record}/schedule-types",
            post(assign_page),
        )
        .route(
            "/o/{slug}/admin/practitioners/{id}/availability/{record}/schedule-types/{type}/delete",
            post(unassign_page),
        )
}

/// The API.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update, delete))
        .routes(routes!(put_blocks))
        .routes(routes!(put_portal))
}

// The API's documents.

/// An availability record, as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordDto {
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
pub struct BlockDto {
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
pub struct PortalBlockDto {
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
pub struct RecordBody {
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

/// A weekday from its scenario spelling.
fn weekday(text: &str) -> Option<Weekday> {
    Weekday::ALL.into_iter().find(|d| d.short_name() == text)
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
async fn list(
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
async fn create(
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
        let id = r.id;
        Ok((r, Some(id), record_details(practitioner, &input)))
    })
    .await?;
    Ok((StatusCode::CREATED, Json(dto(&staff.org, &record))))
}

/// One availability record.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/practitioners/{id}/availability/{record}", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The practitioner"),
           ("record" = i64, Path, description = "The availability record")),
    responses((status = 200, body = RecordDto), (status = 404, description = "No such record of this practitioner")))]
async fn get_one(
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
async fn update(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64, i64)>,
    JsonBody(body): JsonBody<RecordBody>,
) -> Result<Json<RecordDto>, AppError> {
    let (_, practitioner, id) = path;
    staff.admin()?;
    let input = RecordInput::from(body);
    let record = changes::setup_api(&state, &staff, UPDATE, async |tx| {
        let r = availability::update(tx, staff.org.id, practitioner, id, &input).await?;
        Ok((r, Some(id), record_details(practitioner, &input)))
    })
    .await?;
    Ok(Json(dto(&staff.org, &record)))
}

/// Deletes a record with its blocks and overlay (admins).
#[utoipa::path(delete, path = "/api/v1/orgs/{slug}/practitioners/{id}/availability/{record}", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The practitioner"),
           ("record" = i64, Path, description = "The availability record")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such record")))]
async fn delete(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64, i64)>,
) -> Result<StatusCode, AppError> {
    let (_, practitioner, id) = path;
    staff.admin()?;
    changes::setup_api(&state, &staff, DELETE, async |tx| {
        availability::delete(tx, staff.org.id, practitioner, id).await?;
        Ok(((), Some(id), json!({"practitioner": practitioner})))
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
async fn put_blocks(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64, i64)>,
    JsonBody(body): JsonBody<Vec<BlockDto>>,
) -> Result<Json<RecordDto>, AppError> {
    let (_, practitioner, id) = path;
    staff.admin()?;
    let blocks: Vec<ScenarioBlock> = convert_all("blocks", body)?;
    let record = changes::setup_api(&state, &staff, BLOCKS, async |tx| {
        let r = availability::replace_blocks(tx, staff.org.id, practitioner, id, &blocks).await?;
        Ok((r, Some(id), json!({"blocks": blocks.len()})))
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
async fn put_portal(
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
        let r = availability::replace_portal(tx, staff.org.id, practitioner, id, portal.as_deref())
            .await?;
        Ok((
            r,
            Some(id),
            json!({"portal_blocks": portal.as_ref().map(Vec::len)}),
        ))
    })
    .await?;
    Ok(Json(dto(&staff.org, &record)))
}

const CREATE: Change<'static> = Change {
    action: "availability.create",
    entity: "availability_record",
};
const UPDATE: Change<'static> = Change {
    action: "availability.update",
    entity: "availability_record",
};
const DELETE: Change<'static> = Change {
    action: "availability.delete",
    entity: "availability_record",
};
const BLOCKS: Change<'static> = Change {
    action: "availability.blocks",
    entity: "availability_record",
};
const PORTAL: Change<'static> = Change {
    action: "availability.portal",
    entity: "availability_record",
};
const GRID: Change<'static> = Change {
    action: "availability.grid",
    entity: "availability_record",
};
const ASSIGN: Change<'static> = Change {
    action: "practitioner.assign_schedule_type",
    entity: "practitioner",
};
const UNASSIGN: Change<'static> = Change {
    action: "practitioner.unassign_schedule_type",
    entity: "practitioner",
};

fn record_details(practitioner: i64, input: &RecordInput) -> serde_json::Value {
    json!({
        "practitioner": practitioner,
        "start_date": input.start_date,
        "end_date": input.end_date,
        "clinic_id": input.clinic_id,
        "slot_step_minutes": input.slot_step_minutes,
    })
}

// Pages.

/// What the record form shows: as stored, or as typed when it was refused.
#[derive(Clone, Debug, Default)]
struct RecordValues {
    start_date: String,
    end_date: String,
    clinic_id: String,
    slot_step_minutes: String,
}

impl RecordValues {
    fn of(record: &Record) -> Self {
        RecordValues {
            start_date: record.dates.start().to_string(),
            end_date: record
                .dates
                .end()
                .map(|d| d.to_string())
                .unwrap_or_default(),
            clinic_id: record.clinic_id.map(|c| c.to_string()).unwrap_or_default(),
            slot_step_minutes: record
                .slot_step_minutes
                .map(|s| s.to_string())
                .unwrap_or_default(),
        }
    }

    fn from_form(form: &FormData) -> Self {
        RecordValues {
            start_date: form.get("start_date"),
            end_date: form.get("end_date"),
            clinic_id: form.get("clinic_id"),
            slot_step_minutes: form.get("slot_step_minutes"),
        }
    }

    /// The store's input, or the errors of fields that are not numbers.
    fn input(&self, errors: &mut FieldErrors) -> RecordInput {
        let number = |errors: &mut FieldErrors, field: &str, value: &str, what: &str| {
            if value.is_empty() {
                return None;
            }
            value.parse::<i64>().map_or_else(
                |_| {
                    errors.add(field, format!("{what} must be a whole number"));
                    None
                },
                Some,
            )
        };
        RecordInput {
            start_date: self.start_date.clone(),
            end_date: Some(self.end_date.clone()).filter(|d| !d.is_empty()),
            clinic_id: number(errors, "clinic_id", &self.clinic_id, "the clinic"),
            slot_step_minutes: number(
                errors,
                "slot_step_minutes",
                &self.slot_step_minutes,
                "the scheduling interval",
            ),
        }
    }

    /// Whether `clinic` is the one chosen (for `selected`).
    fn has_clinic(&self, clinic: &i64) -> bool {
        self.clinic_id == clinic.to_string()
    }
}

/// A record in the list.
#[derive(Debug)]
struct RecordItem {
    id: i64,
    dates: String,
    clinic: String,
    step: i64,
    blocks: Vec<String>,
    portal: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/availability.html")]
struct ListPage {
    layout: Layout,
    practitioner: PractitionerSummary,
    records: Vec<RecordItem>,
    clinics: Vec<Clinic>,
    default_step: i64,
    values: RecordValues,
    errors: FieldErrors,
}

/// `2026-01-01 to 2026-04-30`, or `from 2026-04-15 (open-ended)`.
fn dates_text(dates: RecordDates) -> String {
    match dates.end() {
        Some(end) => format!("{} to {end}", dates.start()),
        None => format!("from {} (open-ended)", dates.start()),
    }
}

/// `Mon, Wed 09:00–12:00`.
fn span_text(days: &[Weekday], start: WallTime, end: WallTime) -> String {
    let days: Vec<&str> = days.iter().map(|d| &day_name(*d)[..3]).collect();
    format!("{} {start}–{end}", days.join(", "))
}

fn clinic_name(clinics: &[Clinic], id: Option<i64>, home: &str) -> String {
    match id.and_then(|id| clinics.iter().find(|c| c.id == id)) {
        Some(c) => c.name.clone(),
        None => format!("{home} (home clinic)"),
    }
}

fn portal_text(record: &Record) -> &'static str {
    match &record.portal_blocks {
        None => "Not customised: every available block is online",
        Some(spans) if spans.is_empty() => "Customised: nothing online",
        Some(_) => "Customised",
    }
}

async fn list_view(
    state: &AppState,
    staff: &Staff,
    practitioner_id: i64,
    values: RecordValues,
    errors: FieldErrors,
) -> Result<ListPage, PageError> {
    let org = staff.org.id;
    let mut conn = state.db.conn().await?;
    let practitioner = availability::practitioner(conn.exec(), org, practitioner_id).await?;
    let records = availability::list(conn.exec(), org, practitioner_id).await?;
    let clinics = clinic::all(conn.exec(), org).await?;
    let mut types =
        availability::assigned_schedule_types(conn.exec(), org, practitioner_id).await?;
    types.extend(availability::unassigned_schedule_types(conn.exec(), org, practitioner_id).await?);
    let type_name = |id: i64| {
        types
            .iter()
            .find(|t| t.id == id)
            .map_or_else(String::new, |t| t.name.clone())
    };
    let records = records
        .iter()
        .map(|r| RecordItem {
            id: r.id,
            dates: dates_text(r.dates),
            clinic: clinic_name(&clinics, r.clinic_id, &practitioner.home_clinic),
            step: r.slot_step(&staff.org),
            blocks: r
                .blocks
                .iter()
                .map(|b| {
                    format!(
                        "{} · {}",
                        span_text(&b.days, b.start, b.end),
                        type_name(b.schedule_type_id)
                    )
                })
                .collect(),
            portal: portal_text(r),
        })
        .collect();
    Ok(ListPage {
        layout: Layout::staff(
            staff,
            format!("Availability of {}", practitioner.name),
            "setup",
        )
        .await?,
        practitioner,
        records,
        clinics,
        default_step: staff.org.slot_step_minutes,
        values,
        errors,
    })
}

async fn list_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, practitioner)): Path<(String, i64)>,
) -> Result<ListPage, PageError> {
    staff.admin()?;
    list_view(
        &state,
        &staff,
        practitioner,
        RecordValues::default(),
        FieldErrors::new(),
    )
    .await
}

async fn create_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, practitioner)): Path<(String, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let values = RecordValues::from_form(&form);
    let mut errors = FieldErrors::new();
    let input = values.input(&mut errors);
    if errors.is_empty() {
        let result = changes::setup(&state, &staff, CREATE, async |tx| {
            let r = availability::create(tx, staff.org.id, practitioner, &input).await?;
            let id = r.id;
            Ok((r, Some(id), record_details(practitioner, &input)))
        })
        .await;
        match result {
            Ok(r) => {
                return Ok(Redirect::to(&record_path(&staff, practitioner, r.id)).into_response());
            }
            Err(e) => errors.absorb(e)?,
        }
    }
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        list_view(&state, &staff, practitioner, values, errors).await?,
    )
        .into_response())
}

fn list_path(staff: &Staff, practitioner: i64) -> String {
    format!(
        "/o/{}/admin/practitioners/{practitioner}/availability",
        staff.org.slug
    )
}

fn record_path(staff: &Staff, practitioner: i64, record: i64) -> String {
    format!("{}/{record}", list_path(staff, practitioner))
}

/// The grid editor's page.
#[derive(Template, WebTemplate)]
#[template(path = "admin/availability_record.html")]
struct EditorPage {
    layout: Layout,
    practitioner: PractitionerSummary,
    record_id: i64,
    dates: String,
    clinics: Vec<Clinic>,
    default_step: i64,
    values: RecordValues,
    errors: FieldErrors,
    /// The schedule types the practitioner may paint with.
    assigned: Vec<ScheduleTypeSummary>,
    /// The organisation's other schedule types, to assign from here.
    assignable: Vec<ScheduleTypeSummary>,
    grid: GridView,
    saved: bool,
}

impl EditorPage {
    /// Errors that belong to no field of the page (e.g. the setup check's), shown with
    /// the grid.
    fn other_errors(&self) -> Vec<(&str, &str)> {
        const FIELDS: [&str; 6] = [
            "start_date",
            "end_date",
            "clinic_id",
            "slot_step_minutes",
            "cells",
            "schedule_type",
        ];
        self.errors
            .iter()
            .filter(|(field, _)| !FIELDS.contains(field))
            .collect()
    }
}

/// The grid as the page shows it.
#[derive(Debug)]
struct GridView {
    /// The layer painted: a schedule type's row id, or `portal`.
    layer: String,
    /// Its name, for the status line.
    layer_name: String,
    portal_mode: bool,
    /// What the form posts as `portal_customised`: saving from the portal layer
    /// customises the overlay.
    customised: bool,
    /// Whether the overlay shown is customised (for `grid.js`).
    overlay_customised: bool,
    all_hours: bool,
    resolution: u32,
    step: i64,
    rows: Vec<RowView>,
    /// Cell values of everything the checkboxes do not show.
    hidden: Vec<String>,
}

impl GridView {
    /// The query string that shows the same layer and hours.
    fn query(&self, layer: impl std::fmt::Display) -> String {
        if self.all_hours {
            format!("?layer={layer}&hours=all")
        } else {
            format!("?layer={layer}")
        }
    }

    /// Whether `layer` is the one painted.
    fn is_layer(&self, layer: impl std::fmt::Display) -> bool {
        self.layer == layer.to_string()
    }
}

#[derive(Debug)]
struct RowView {
    time: String,
    /// Whether the row starts a full hour (drawn with a stronger line).
    hour: bool,
    cells: Vec<CellView>,
}

#[derive(Debug)]
struct CellView {
    day: &'static str,
    start: u32,
    end: u32,
    class: String,
    label: String,
    /// The checkbox's value, when the block can be painted in this layer.
    value: Option<String>,
    checked: bool,
}

/// The query of the editor page.
#[derive(Debug, Deserialize)]
struct EditorQuery {
    layer: Option<String>,
    hours: Option<String>,
    saved: Option<String>,
}

/// What to show in the editor besides the stored record.
#[derive(Debug, Default)]
struct EditorState {
    layer: Option<String>,
    all_hours: bool,
    painting: Option<Painting>,
    values: Option<RecordValues>,
    errors: FieldErrors,
    saved: bool,
}

fn resolution_of(org: &store::Organisation) -> Result<Resolution, AppError> {
    u32::try_from(org.resolution_minutes)
        .ok()
        .and_then(|m| Resolution::new(m).ok())
        .ok_or_else(|| AppError::internal("stored resolution is not 1, 5 or 15"))
}

fn parse_layer(text: &str) -> Option<Layer> {
    match text {
        "p" | "portal" => Some(Layer::Portal),
        id => id.parse().ok().map(Layer::ScheduleType),
    }
}

fn layer_token(layer: Layer) -> String {
    match layer {
        Layer::Portal => "p".to_owned(),
        Layer::ScheduleType(id) => id.to_string(),
    }
}

/// `12/mon/09:00-09:15`.
fn cell_value(layer: Layer, day: Weekday, start: u32, end: u32) -> String {
    format!(
        "{}/{}/{}-{}",
        layer_token(layer),
        day.short_name(),
        wall(start),
        wall(end)
    )
}

fn wall(minute: u32) -> WallTime {
    WallTime::from_minutes(minute.min(1440)).unwrap_or(WallTime::END_OF_DAY)
}

fn parse_cell(value: &str) -> Result<(Layer, Weekday, WallTime, WallTime), store::Error> {
    let bad = || store::Error::invalid("cells", format!("{value:?} is not a cell of the grid"));
    let mut parts = value.split('/');
    let (Some(layer), Some(day), Some(range), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let layer = parse_layer(layer).ok_or_else(bad)?;
    let day = weekday(day).ok_or_else(bad)?;
    let (a, b) = range.split_once('-').ok_or_else(bad)?;
    let start: WallTime = a.parse().map_err(|_| bad())?;
    let end: WallTime = b.parse().map_err(|_| bad())?;
    Ok((layer, day, start, end))
}

/// Which cells of one day are in `layer`, at the grid's resolution.
fn layer_cells(painting: &Painting, layer: Layer, day: Weekday) -> Vec<bool> {
    let r = painting.resolution().minutes();
    (0..1440 / r)
        .map(|i| match layer {
            Layer::ScheduleType(t) => painting.type_at(day, i * r) == Some(t),
            Layer::Portal => painting.is_online(day, i * r),
        })
        .collect()
}

/// The runs of set cells as `(start, end)` minutes.
fn runs(cells: &[bool], r: u32) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &set) in cells.iter().chain(std::iter::once(&false)).enumerate() {
        match (set, start) {
            (true, None) => start = Some(i as u32 * r),
            (false, Some(s)) => {
                out.push((s, i as u32 * r));
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// The label and classes of one block of the grid; `grid.js` computes the same.
fn describe(
    painting: &Painting,
    names: &[ScheduleTypeSummary],
    day: Weekday,
    start: u32,
    end: u32,
) -> (String, String) {
    let r = painting.resolution().minutes();
    let cells: Vec<(Option<i64>, bool)> = (start..end)
        .step_by(r as usize)
        .map(|m| (painting.type_at(day, m), painting.is_online(day, m)))
        .collect();
    let mut types: Vec<i64> = Vec::new();
    for (t, _) in &cells {
        if let Some(t) = t
            && !types.contains(t)
        {
            types.push(*t);
        }
    }
    let available = cells.iter().filter(|(t, _)| t.is_some()).count();
    let online = cells.iter().filter(|(_, o)| *o).count();
    let name = |t: &i64| {
        names
            .iter()
            .find(|n| n.id == *t)
            .map_or_else(|| format!("schedule type {t}"), |n| n.name.clone())
    };
    let when = format!("{} {}", day_name(day), wall(start));
    if types.is_empty() {
        return (format!("{when}, empty"), "cell".to_owned());
    }
    let mut class = format!("cell painted t-{}", types[0]);
    let whole = available == cells.len() && types.len() == 1;
    let names: Vec<String> = types.iter().map(name).collect();
    let mut label = if whole {
        format!("{when}, {}", names[0])
    } else {
        class.push_str(" part");
        format!("{when}, partly {}", names.join(" and "))
    };
    if online == available {
        class.push_str(" online");
        label.push_str(", online");
    } else if online > 0 {
        class.push_str(" part-online");
        label.push_str(", partly online");
    } else {
        label.push_str(", in clinic only");
    }
    (label, class)
}

/// The rows shown: at the slot step, from 07:00 to 19:00 or wider to take in every
/// available cell, or the whole day.
fn row_range(painting: &Painting, step: u32, all_hours: bool) -> (u32, u32) {
    if all_hours {
        return (0, 1440);
    }
    let all = painting.availability();
    let (mut first, mut last) = (7 * 60, 19 * 60);
    for day in Weekday::ALL {
        for (a, b) in all.runs(day) {
            first = first.min(a);
            last = last.max(b);
        }
    }
    (
        first / step * step,
        last.div_ceil(step).saturating_mul(step).min(1440),
    )
}

fn grid_view(
    painting: &Painting,
    assigned: &[ScheduleTypeSummary],
    layer: Layer,
    step: i64,
    all_hours: bool,
) -> GridView {
    let r = painting.resolution().minutes();
    let step = u32::try_from(step).unwrap_or(r).clamp(r, 1440);
    let (first, last) = row_range(painting, step, all_hours);
    let portal_mode = layer == Layer::Portal;
    let mut layer_days: Vec<Vec<bool>> = Weekday::ALL
        .iter()
        .map(|&d| layer_cells(painting, layer, d))
        .collect();
    let mut rows = Vec::new();
    let mut start = first;
    while start < last {
        let end = (start + step).min(1440);
        let cells = Weekday::ALL
            .iter()
            .map(|&day| {
                let (label, class) = describe(painting, assigned, day, start, end);
                let cells = &mut layer_days[day.index()];
                let (a, b) = ((start / r) as usize, (end / r) as usize);
                let paintable = !portal_mode
                    || (start..end)
                        .step_by(r as usize)
                        .any(|m| painting.type_at(day, m).is_some());
                let checked = if portal_mode {
                    // Every available cell of the block online.
                    paintable
                        && (a..b).all(|i| cells[i] || painting.type_at(day, i as u32 * r).is_none())
                } else {
                    cells[a..b].iter().all(|&c| c)
                };
                if checked {
                    // The checkbox stands for these cells: no hidden input repeats them.
                    cells[a..b].fill(false);
                }
                CellView {
                    day: day.short_name(),
                    start,
                    end,
                    class,
                    label,
                    value: paintable.then(|| cell_value(layer, day, start, end)),
                    checked,
                }
            })
            .collect();
        rows.push(RowView {
            time: wall(start).to_string(),
            hour: start % 60 == 0,
            cells,
        });
        start = end;
    }
    // Every other cell of the painted layer, and every cell of the other layers, rides
    // along in hidden inputs so that saving one layer keeps the rest.
    let mut hidden = Vec::new();
    for day in Weekday::ALL {
        for (a, b) in runs(&layer_days[day.index()], r) {
            hidden.push(cell_value(layer, day, a, b));
        }
    }
    let mut others: Vec<Layer> = painting.schedule_types().map(Layer::ScheduleType).collect();
    if painting.is_customised() {
        others.push(Layer::Portal);
    }
    for other in others.into_iter().filter(|l| *l != layer) {
        for day in Weekday::ALL {
            for (a, b) in runs(&layer_cells(painting, other, day), r) {
                hidden.push(cell_value(other, day, a, b));
            }
        }
    }
    let layer_name = match layer {
        Layer::Portal => "Customize Portal Availability".to_owned(),
        Layer::ScheduleType(id) => assigned
            .iter()
            .find(|t| t.id == id)
            .map_or_else(String::new, |t| t.name.clone()),
    };
    GridView {
        layer: match layer {
            Layer::Portal => "portal".to_owned(),
            Layer::ScheduleType(id) => id.to_string(),
        },
        layer_name,
        portal_mode,
        // Painting the overlay makes it customised: the portal layer starts from what
        // is online now (everything available, when not customised yet).
        customised: painting.is_customised() || portal_mode,
        overlay_customised: painting.is_customised(),
        all_hours,
        resolution: r,
        step: i64::from(step),
        rows,
        hidden,
    }
}

async fn editor_view(
    state: &AppState,
    staff: &Staff,
    practitioner_id: i64,
    record_id: i64,
    view: EditorState,
) -> Result<EditorPage, PageError> {
    let org = staff.org.id;
    let mut conn = state.db.conn().await?;
    let practitioner = availability::practitioner(conn.exec(), org, practitioner_id).await?;
    let record = availability::get(conn.exec(), org, practitioner_id, record_id).await?;
    let clinics = clinic::all(conn.exec(), org).await?;
    let assigned = availability::assigned_schedule_types(conn.exec(), org, practitioner_id).await?;
    let assignable =
        availability::unassigned_schedule_types(conn.exec(), org, practitioner_id).await?;
    drop(conn);
    let resolution = resolution_of(&staff.org)?;
    let painting = view
        .painting
        .unwrap_or_else(|| Painting::of_record(&record, resolution));
    // The layer asked for, if the practitioner may paint with it; else the first
    // schedule type; else the overlay.
    let layer = view
        .layer
        .as_deref()
        .and_then(parse_layer)
        .filter(|l| match l {
            Layer::Portal => true,
            Layer::ScheduleType(id) => assigned.iter().any(|t| t.id == *id),
        })
        .or_else(|| assigned.first().map(|t| Layer::ScheduleType(t.id)))
        .unwrap_or(Layer::Portal);
    let grid = grid_view(
        &painting,
        &assigned,
        layer,
        record.slot_step(&staff.org),
        view.all_hours,
    );
    let dates = dates_text(record.dates);
    Ok(EditorPage {
        layout: Layout::staff(
            staff,
            format!("Availability of {}, {dates}", practitioner.name),
            "setup",
        )
        .await?,
        practitioner,
        record_id,
        dates,
        clinics,
        default_step: staff.org.slot_step_minutes,
        values: view.values.unwrap_or_else(|| RecordValues::of(&record)),
        errors: view.errors,
        assigned,
        assignable,
        grid,
        saved: view.saved,
    })
}

async fn edit_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, practitioner, record)): Path<(String, i64, i64)>,
    PageQuery(query): PageQuery<EditorQuery>,
) -> Result<EditorPage, PageError> {
    staff.admin()?;
    editor_view(
        &state,
        &staff,
        practitioner,
        record,
        EditorState {
            layer: query.layer,
            all_hours: query.hours.as_deref() == Some("all"),
            saved: query.saved.is_some(),
            ..EditorState::default()
        },
    )
    .await
}

/// The editor again, with what was posted and why it was refused.
async fn refused(
    state: &AppState,
    staff: &Staff,
    practitioner: i64,
    record: i64,
    form: &FormData,
    view: EditorState,
) -> Result<Response, PageError> {
    let view = EditorState {
        layer: view.layer.or_else(|| form.optional("layer")),
        all_hours: view.all_hours || form.get("hours") == "all",
        ..view
    };
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        editor_view(state, staff, practitioner, record, view).await?,
    )
        .into_response())
}

/// The editor's address after a change, keeping the layer and hours shown.
fn back_to_editor(
    staff: &Staff,
    practitioner: i64,
    record: i64,
    form: &FormData,
    layer: Option<String>,
) -> String {
    let mut url = format!("{}?saved=1", record_path(staff, practitioner, record));
    if let Some(layer) = layer.or_else(|| form.optional("layer")) {
        url.push_str(&format!("&layer={}", crate::query::encode(&layer)));
    }
    if form.get("hours") == "all" {
        url.push_str("&hours=all");
    }
    url
}

async fn update_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, practitioner, record)): Path<(String, i64, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let values = RecordValues::from_form(&form);
    let mut errors = FieldErrors::new();
    let input = values.input(&mut errors);
    if errors.is_empty() {
        let result = changes::setup(&state, &staff, UPDATE, async |tx| {
            availability::update(tx, staff.org.id, practitioner, record, &input).await?;
            Ok(((), Some(record), record_details(practitioner, &input)))
        })
        .await;
        match result {
            Ok(()) => {
                let to = back_to_editor(&staff, practitioner, record, &form, None);
                return Ok(Redirect::to(&to).into_response());
            }
            Err(e) => errors.absorb(e)?,
        }
    }
    refused(
        &state,
        &staff,
        practitioner,
        record,
        &form,
        EditorState {
            values: Some(values),
            errors,
            ..EditorState::default()
        },
    )
    .await
}

async fn save_grid_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, practitioner, record)): Path<(String, i64, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let resolution = resolution_of(&staff.org)?;
    let mut conn = state.db.conn().await?;
    let assigned: Vec<i64> =
        availability::assigned_schedule_types(conn.exec(), staff.org.id, practitioner)
            .await?
            .iter()
            .map(|t| t.id)
            .collect();
    drop(conn);
    let mut painting = Painting::new(resolution);
    let mut errors = FieldErrors::new();
    let cells = form.all("cell");
    // Each layer of a week holds at most this many runs; a larger form is not the
    // editor's, and is refused before it costs any work.
    let limit = 7 * resolution.cells_per_day() * (assigned.len() + 2);
    if cells.len() > limit {
        errors.add("cells", "the form holds more cells than a week has");
    }
    let mut stray: Option<i64> = None;
    for value in cells.iter().take(limit) {
        let painted = parse_cell(value).and_then(|(layer, day, a, b)| {
            if let Layer::ScheduleType(t) = layer
                && !assigned.contains(&t)
                && *stray.get_or_insert(t) != t
            {
                // Only the first schedule type the practitioner may not paint with is
                // kept, for the store to refuse by name; more would only make the same
                // refusal slower.
                return Ok(());
            }
            painting.paint(layer, day, a, b)
        });
        if let Err(e) = painted {
            errors.absorb(e)?;
        }
    }
    painting.set_customised(form.get("portal_customised") == "1" && !form.checked("reset_portal"));
    if errors.is_empty() {
        let result = changes::setup(&state, &staff, GRID, async |tx| {
            let saved =
                availability::save_painting(tx, staff.org.id, practitioner, record, &painting)
                    .await?;
            let details = json!({
                "practitioner": practitioner,
                "blocks": saved.blocks.len(),
                "portal_blocks": saved.portal_blocks.as_ref().map(Vec::len),
            });
            Ok(((), Some(record), details))
        })
        .await;
        match result {
            Ok(()) => {
                let to = back_to_editor(&staff, practitioner, record, &form, None);
                return Ok(Redirect::to(&to).into_response());
            }
            Err(e) => errors.absorb(e)?,
        }
    }
    refused(
        &state,
        &staff,
        practitioner,
        record,
        &form,
        EditorState {
            painting: Some(painting),
            errors,
            ..EditorState::default()
        },
    )
    .await
}

async fn delete_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, practitioner, record)): Path<(String, i64, i64)>,
) -> Result<Redirect, PageError> {
    staff.admin()?;
    changes::setup(&state, &staff, DELETE, async |tx| {
        availability::delete(tx, staff.org.id, practitioner, record).await?;
        Ok(((), Some(record), json!({"practitioner": practitioner})))
    })
    .await?;
    Ok(Redirect::to(&list_path(&staff, practitioner)))
}

async fn assign_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, practitioner, record)): Path<(String, i64, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let mut errors = FieldErrors::new();
    match form.get("schedule_type").parse::<i64>() {
        Err(_) => errors.add("schedule_type", "choose a schedule type to assign"),
        Ok(schedule_type) => {
            // The record must be this practitioner's: the page is the record's editor.
            let mut conn = state.db.conn().await?;
            availability::get(conn.exec(), staff.org.id, practitioner, record).await?;
            drop(conn);
            let result = changes::setup(&state, &staff, ASSIGN, async |tx| {
                let t = availability::assign(tx, staff.org.id, practitioner, schedule_type).await?;
                let details = json!({"schedule_type": t.key, "from_record": record});
                Ok(((), Some(practitioner), details))
            })
            .await;
            match result {
                Ok(()) => {
                    let layer = Some(schedule_type.to_string());
                    let to = back_to_editor(&staff, practitioner, record, &form, layer);
                    return Ok(Redirect::to(&to).into_response());
                }
                Err(e) => errors.absorb(e)?,
            }
        }
    }
    refused(
        &state,
        &staff,
        practitioner,
        record,
        &form,
        EditorState {
            errors,
            ..EditorState::default()
        },
    )
    .await
}

async fn unassign_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, practitioner, record, schedule_type)): Path<(String, i64, i64, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let mut conn = state.db.conn().await?;
    availability::get(conn.exec(), staff.org.id, practitioner, record).await?;
    drop(conn);
    let result = changes::setup(&state, &staff, UNASSIGN, async |tx| {
        let t = availability::unassign(tx, staff.org.id, practitioner, schedule_type).await?;
        let details = json!({"schedule_type": t.key, "from_record": record});
        Ok(((), Some(practitioner), details))
    })
    .await;
    let mut errors = FieldErrors::new();
    match result {
        Ok(()) => {
            let to = back_to_editor(&staff, practitioner, record, &form, None);
            Ok(Redirect::to(&to).into_response())
        }
        Err(e) => {
            errors.absorb(e)?;
            refused(
                &state,
                &staff,
                practitioner,
                record,
                &form,
                EditorState {
                    errors,
                    ..EditorState::default()
                },
            )
            .await
        }
    }
}

// Colours.

const WHITE: Color = Color([255, 255, 255]);
const BLACK: Color = Color([0, 0, 0]);

/// `a` moved a fraction `t` of the way towards `b`.
fn mix(a: Color, b: Color, t: f64) -> Color {
    let channel = |i: usize| (f64::from(a.0[i]) * (1.0 - t) + f64::from(b.0[i]) * t).round() as u8;
    Color([channel(0), channel(1), channel(2)])
}

/// The schedule type's font colour when it reads well on `background` (contrast of at
/// least 4.5:1), else black or white, whichever reads better.
fn ink(background: Color, preferred: Color) -> Color {
    if preferred.contrast_ratio(background) >= 4.5 {
        preferred
    } else if BLACK.contrast_ratio(background) >= WHITE.contrast_ratio(background) {
        BLACK
    } else {
        WHITE
    }
}

/// The custom properties of one schedule type's class: a light shade of its background
/// for blocks in the clinic only, a darker one for blocks also bookable online.
fn type_css(t: &ScheduleTypeSummary) -> String {
    let background: Color = t.background_color.parse().unwrap_or(WHITE);
    let font: Color = t.font_color.parse().unwrap_or(BLACK);
    let light = mix(background, WHITE, 0.35);
    let dark = mix(background, BLACK, 0.35);
    format!(
        ".t-{}{{--st-bg:{light};--st-ink:{};--st-bg-online:{dark};--st-ink-online:{}}}\n",
        t.id,
        ink(light, font),
        ink(dark, font)
    )
}

async fn colours(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, practitioner)): Path<(String, i64)>,
) -> Result<Response, PageError> {
    staff.admin()?;
    let org = staff.org.id;
    let mut conn = state.db.conn().await?;
    availability::practitioner(conn.exec(), org, practitioner).await?;
    let mut types = availability::assigned_schedule_types(conn.exec(), org, practitioner).await?;
    types.extend(availability::unassigned_schedule_types(conn.exec(), org, practitioner).await?);
    let css: String = types.iter().map(type_css).collect();
    Ok((
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "private, no-cache"),
        ],
        css,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_values_round_trip() {
        let value = cell_value(Layer::ScheduleType(12), Weekday::Mon, 540, 555);
        assert_eq!(value, "12/mon/09:00-09:15");
        let (layer, day, a, b) = parse_cell(&value).unwrap();
        assert_eq!(
            (layer, day, a.minutes(), b.minutes()),
            (Layer::ScheduleType(12), Weekday::Mon, 540, 555)
        );
        assert_eq!(parse_cell("p/sun/23:45-24:00").unwrap().0, Layer::Portal);
        for bad in [
            "",
            "12/mon",
            "12/mom/09:00-09:15",
            "x/mon/09:00-09:15",
            "12/mon/9:00-09:15",
            "1/mon/09:00-09:15/x",
        ] {
            assert!(parse_cell(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn runs_are_maximal() {
        let cells = [false, true, true, false, true];
        assert_eq!(runs(&cells, 5), [(5, 15), (20, 25)]);
    }

    #[test]
    fn cells_get_the_readable_ink() {
        let dark: Color = "#0b2a4a".parse().unwrap();
        assert_eq!(ink(WHITE, dark), dark);
        assert_eq!(ink(dark, dark), WHITE);
        assert!(
            type_css(&ScheduleTypeSummary {
                id: 3,
                key: "physio".into(),
                name: "Physio".into(),
                code: None,
                clinic_id: None,
                background_color: "#cfe8ff".into(),
                font_color: "#0b2a4a".into(),
            })
            .starts_with(".t-3{--st-bg:#")
        );
    }
}
