//! The portal's booking API: services, practitioners, slots, and the patient's
//! appointments (list, book, read, cancel, reschedule).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use slot_engine::Date;
use store::appointment::{PortalMoveOutcome, PortalOutcome};
use store::portal::{self, PortalService};
use utoipa::{IntoParams, ToSchema};

use crate::auth::patient::PatientApi;
use crate::error::AppError;
use crate::form::{JsonBody, QueryParams};
use crate::state::AppState;

use super::appointments::{AppointmentDto, appointment_dto, cancel, list, own, reschedule};
use super::month;
use super::slots::{
    SlotAnswer, SlotDto, allowed, book, date, parse_mode, parse_start, practitioners_for, slots,
};

/// The services patients can book online.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/portal/services", tag = "portal",
    params(("slug" = String, Path, description = "The organisation")),
    responses((status = 200, body = [PortalServiceDto]), (status = 401, description = "Not signed in")))]
pub(super) async fn api_services(
    State(state): State<AppState>,
    PatientApi(p): PatientApi,
) -> Result<Json<Vec<PortalServiceDto>>, AppError> {
    let mut conn = state.db.conn().await?;
    Ok(Json(
        portal::services(conn.exec(), p.org.id)
            .await?
            .into_iter()
            .map(PortalServiceDto::from)
            .collect(),
    ))
}

/// A service patients can book online.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct PortalServiceDto {
    /// Row id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// What it is.
    pub description: Option<String>,
    /// Minutes.
    pub duration_minutes: i64,
    /// Whether it may be booked as a video appointment (`mode=video` in the slots).
    pub offers_video: bool,
}

impl From<PortalService> for PortalServiceDto {
    fn from(s: PortalService) -> Self {
        PortalServiceDto {
            id: s.id,
            name: s.name,
            description: s.description,
            duration_minutes: s.duration_minutes,
            offers_video: s.offers_video,
        }
    }
}

/// A practitioner the patient may book.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct PortalPractitionerDto {
    /// Row id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Their type.
    pub type_name: String,
    /// Their home clinic.
    pub clinic_name: String,
    /// The clinics where they have availability for the service, by name.
    pub clinic_names: Vec<String>,
}

/// The practitioners this patient may book for a service.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/portal/services/{service}/practitioners", tag = "portal",
    params(("slug" = String, Path, description = "The organisation"), ("service" = i64, Path, description = "The service")),
    responses((status = 200, body = [PortalPractitionerDto]), (status = 404, description = "No such online service")))]
pub(super) async fn api_practitioners(
    State(state): State<AppState>,
    PatientApi(p): PatientApi,
    Path(path): Path<(String, i64)>,
) -> Result<Json<Vec<PortalPractitionerDto>>, AppError> {
    let allowed = allowed(&state, &p).await?;
    let mut conn = state.db.conn().await?;
    portal::service(conn.exec(), p.org.id, path.1).await?;
    let clinics = store::clinic::all(conn.exec(), p.org.id).await?;
    let today = date(crate::clinic_time::earliest_today(&state, &clinics))?;
    let list =
        portal::practitioners(conn.exec(), p.org.id, path.1, allowed.as_deref(), today).await?;
    Ok(Json(
        list.into_iter()
            .map(|x| PortalPractitionerDto {
                id: x.id,
                name: x.name,
                type_name: x.type_name,
                clinic_name: x.clinic_name,
                clinic_names: x.clinic_names,
            })
            .collect(),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ApiSlotsQuery {
    /// The service's row id.
    service: i64,
    /// The first date, `YYYY-MM-DD`.
    from: String,
    /// The last date, `YYYY-MM-DD` (at most 31 days after `from`).
    to: String,
    /// A practitioner's row id (default: every practitioner the patient may book).
    practitioner: Option<i64>,
    /// Only slots at this clinic (row id; default: every clinic).
    clinic: Option<i64>,
    /// `in_person` (default) or `video`: video slots are those whose schedule type
    /// allows telehealth.
    mode: Option<String>,
}

/// Open slots of a service, for the signed-in patient (403 for a practitioner outside
/// their list).
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/portal/slots", tag = "portal",
    params(("slug" = String, Path, description = "The organisation"), ApiSlotsQuery),
    responses((status = 200, body = [SlotDto]), (status = 403, description = "The practitioner is not available to this patient"),
              (status = 422, description = "Invalid dates")))]
pub(super) async fn api_slots(
    State(state): State<AppState>,
    PatientApi(p): PatientApi,
    QueryParams(q): QueryParams<ApiSlotsQuery>,
) -> Result<Response, AppError> {
    let from: Date = q
        .from
        .parse()
        .map_err(|e: slot_engine::ValueError| AppError::invalid("from", e.to_string()))?;
    let to: Date =
        q.to.parse()
            .map_err(|e: slot_engine::ValueError| AppError::invalid("to", e.to_string()))?;
    if to < from || to.days_since(from) > 31 {
        return Err(AppError::invalid(
            "to",
            "must be on or after from, at most 31 days later",
        ));
    }
    let video = parse_mode(q.mode.as_deref())?;
    let allowed = allowed(&state, &p).await?;
    let covered = practitioners_for(&allowed, q.practitioner)?;
    if let Some(clinic) = q.clinic {
        let mut conn = state.db.conn().await?;
        store::clinic::get(conn.exec(), p.org.id, clinic).await?;
    }
    if let Some(asked) = q.practitioner {
        let mut conn = state.db.conn().await?;
        store::practitioner::get(conn.exec(), p.org.id, asked).await?;
    }
    let (input, found) = slots(&state, &p.org, q.service, covered, (from, to), video).await?;
    let answer = SlotAnswer::new(&input, &found, q.clinic);
    let mut body = Vec::with_capacity(answer.size_hint());
    serde_json::to_writer(&mut body, &answer).map_err(AppError::internal)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ApiDaysQuery {
    /// The service's row id.
    service: i64,
    /// The month, `YYYY-MM`.
    month: String,
    /// A practitioner's row id (default: every practitioner the patient may book).
    practitioner: Option<i64>,
    /// Only slots at this clinic (row id; default: every clinic).
    clinic: Option<i64>,
    /// `in_person` (default) or `video`.
    mode: Option<String>,
}

/// A day with open times, in the clinic's calendar.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct OpenDayDto {
    /// The clinic-local date, `YYYY-MM-DD`.
    pub date: String,
    /// How many open slots it has (over every practitioner and clinic asked for).
    pub slots: usize,
}

/// The days of a month that have open slots of a service, for the signed-in patient:
/// what the portal's calendar marks. One engine query over the month, from today to
/// the end of the booking window; days without open times are left out.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/portal/days", tag = "portal",
    params(("slug" = String, Path, description = "The organisation"), ApiDaysQuery),
    responses((status = 200, body = [OpenDayDto]), (status = 403, description = "The practitioner is not available to this patient"),
              (status = 422, description = "Invalid month or mode")))]
pub(super) async fn api_days(
    State(state): State<AppState>,
    PatientApi(p): PatientApi,
    QueryParams(q): QueryParams<ApiDaysQuery>,
) -> Result<Json<Vec<OpenDayDto>>, AppError> {
    let first = month::parse_month(&q.month)?;
    Date::try_from(month::last_of(first)).map_err(|e| AppError::invalid("month", e.to_string()))?;
    let video = parse_mode(q.mode.as_deref())?;
    let allowed = allowed(&state, &p).await?;
    let covered = practitioners_for(&allowed, q.practitioner)?;
    let clinics = {
        let mut conn = state.db.conn().await?;
        if let Some(clinic) = q.clinic {
            store::clinic::get(conn.exec(), p.org.id, clinic).await?;
        }
        if let Some(asked) = q.practitioner {
            store::practitioner::get(conn.exec(), p.org.id, asked).await?;
        }
        store::clinic::all(conn.exec(), p.org.id).await?
    };
    let today = crate::clinic_time::earliest_today(&state, &clinics);
    let last_bookable = crate::clinic_time::last_bookable(&state, &clinics, p.org.max_days_ahead);
    let (from, to) = (first.max(today), month::last_of(first).min(last_bookable));
    if from > to {
        // No day of the month is bookable: still a service the patient may not see is
        // not found, as it is for any other month.
        let mut conn = state.db.conn().await?;
        portal::service(conn.exec(), p.org.id, q.service).await?;
        return Ok(Json(Vec::new()));
    }
    let (input, found) = slots(
        &state,
        &p.org,
        q.service,
        covered,
        (date(from)?, date(to)?),
        video,
    )
    .await?;
    let mut days: std::collections::BTreeMap<NaiveDate, usize> = std::collections::BTreeMap::new();
    for s in SlotAnswer::new(&input, &found, q.clinic).slots() {
        *days.entry(s.start().date_naive()).or_default() += 1;
    }
    Ok(Json(
        days.into_iter()
            .map(|(date, slots)| OpenDayDto {
                date: date.to_string(),
                slots,
            })
            .collect(),
    ))
}

/// The patient's appointments, upcoming first.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/portal/appointments", tag = "portal",
    params(("slug" = String, Path, description = "The organisation")),
    responses((status = 200, body = [AppointmentDto]), (status = 401, description = "Not signed in")))]
pub(super) async fn api_appointments(
    State(state): State<AppState>,
    PatientApi(p): PatientApi,
) -> Result<Json<Vec<AppointmentDto>>, AppError> {
    let (mut upcoming, past) = list(&state, &p).await?;
    upcoming.extend(past);
    Ok(Json(upcoming))
}

/// A booking request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct BookRequest {
    /// The service's row id.
    pub service: i64,
    /// The practitioner's row id (from the slots).
    pub practitioner: i64,
    /// The slot's start, RFC 3339.
    pub start: String,
    /// A video appointment (default false: in person); the slot must be one that
    /// `mode=video` lists.
    #[serde(default)]
    pub telehealth: bool,
    /// A key of the client's choosing: a retried request with the same key returns the
    /// first booking instead of making a second; the same key with another request is
    /// refused (422).
    pub idempotency_key: Option<String>,
}

/// Books a slot. A taken slot answers 409 with the reason and `details.next_slots`.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/portal/appointments", tag = "portal",
    params(("slug" = String, Path, description = "The organisation")),
    request_body = BookRequest,
    responses((status = 201, body = AppointmentDto), (status = 200, body = AppointmentDto, description = "A retry with a used idempotency key: the first booking"),
              (status = 409, description = "Taken or not offered: reason, rule and next open slots in details"),
              (status = 422, description = "Invalid field, or an idempotency key already used for a different booking"),
              (status = 403, description = "The practitioner is not available to this patient")))]
pub(super) async fn api_book(
    State(state): State<AppState>,
    PatientApi(p): PatientApi,
    JsonBody(body): JsonBody<BookRequest>,
) -> Result<(StatusCode, Json<AppointmentDto>), AppError> {
    let start = parse_start(&body.start)?;
    let booked = match book(
        &state,
        &p,
        body.service,
        body.practitioner,
        start,
        body.telehealth,
        body.idempotency_key,
    )
    .await?
    {
        PortalOutcome::Booked(booked) => booked,
        PortalOutcome::Taken { rule, reason, next } => {
            let reason = patient_reason(rule, reason);
            let next: Vec<SlotDto> = next.into_iter().map(SlotDto::from).collect();
            return Err(AppError::Conflict {
                message: format!("this time can no longer be booked: {reason}"),
                details: serde_json::json!({"rule": rule, "reason": reason, "next_slots": next}),
            });
        }
    };
    let view = own(&state, &p, booked.appointment.id).await?;
    let status = if booked.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(appointment_dto(&p.org, state.clock.now_ns(), view)),
    ))
}

/// One of the patient's appointments (another patient's is 404).
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/portal/appointments/{id}", tag = "portal",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The appointment")),
    responses((status = 200, body = AppointmentDto), (status = 404, description = "Not one of this patient's appointments")))]
pub(super) async fn api_appointment(
    State(state): State<AppState>,
    PatientApi(p): PatientApi,
    Path(path): Path<(String, i64)>,
) -> Result<Json<AppointmentDto>, AppError> {
    let a = own(&state, &p, path.1).await?;
    Ok(Json(appointment_dto(&p.org, state.clock.now_ns(), a)))
}

/// The query of a cancellation.
#[derive(Debug, Default, Deserialize)]
pub(super) struct CancelParams {
    reason: Option<String>,
}

/// Cancels one of the patient's appointments, with an optional reason the clinic sees;
/// refused inside the cancellation notice (409, saying until when it was possible).
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/portal/appointments/{id}/cancel", tag = "portal",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The appointment"),
           ("reason" = Option<String>, Query, description = "Why (at most 500 characters), shown to the clinic")),
    responses((status = 200, body = AppointmentDto), (status = 409, description = "Too late to cancel online"),
              (status = 404, description = "Not one of this patient's appointments"),
              (status = 422, description = "The reason is too long")))]
pub(super) async fn api_cancel(
    State(state): State<AppState>,
    PatientApi(p): PatientApi,
    Path(path): Path<(String, i64)>,
    QueryParams(q): QueryParams<CancelParams>,
) -> Result<Json<AppointmentDto>, AppError> {
    let a = cancel(&state, &p, path.1, q.reason.as_deref().unwrap_or("")).await?;
    Ok(Json(appointment_dto(&p.org, state.clock.now_ns(), a)))
}

/// Where to move one of the patient's appointments.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RescheduleBody {
    /// The new start, RFC 3339 with an offset (a slot's `start`).
    pub start: String,
    /// The practitioner of the new time (default: the same); one the patient may book.
    #[serde(default)]
    pub practitioner: Option<i64>,
}

/// Moves one of the patient's appointments to another open time of the same service,
/// as one change: the new time is booked and the old one freed, or nothing changes.
/// Allowed exactly while cancelling is (409 after, saying until when); a time someone
/// just took is 409 with `details.next_slots`. The moved appointment is booked if the
/// clinic auto-accepts portal bookings, else pending.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/portal/appointments/{id}/reschedule", tag = "portal",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The appointment")),
    request_body = RescheduleBody,
    responses((status = 200, body = AppointmentDto, description = "Moved"),
              (status = 409, description = "Too late to change online, or the time is taken (`details.next_slots`)"),
              (status = 403, description = "A practitioner this patient may not book"),
              (status = 404, description = "Not one of this patient's appointments"),
              (status = 422, description = "Invalid field, or the appointment cannot be moved")))]
pub(super) async fn api_reschedule(
    State(state): State<AppState>,
    PatientApi(p): PatientApi,
    Path(path): Path<(String, i64)>,
    JsonBody(body): JsonBody<RescheduleBody>,
) -> Result<Json<AppointmentDto>, AppError> {
    let id = path.1;
    let start = parse_start(&body.start)?;
    let practitioner = match body.practitioner {
        Some(practitioner) => practitioner,
        None => own(&state, &p, id).await?.practitioner_id,
    };
    match reschedule(&state, &p, id, practitioner, start).await? {
        PortalMoveOutcome::Moved(_) => {
            let a = own(&state, &p, id).await?;
            Ok(Json(appointment_dto(&p.org, state.clock.now_ns(), a)))
        }
        PortalMoveOutcome::Taken { rule, reason, next } => {
            let reason = patient_reason(rule, reason);
            let next: Vec<SlotDto> = next.into_iter().map(SlotDto::from).collect();
            Err(AppError::Conflict {
                message: format!("this time can no longer be booked: {reason}"),
                details: serde_json::json!({"rule": rule, "reason": reason, "next_slots": next}),
            })
        }
    }
}

/// What a patient is told when a time is gone: the engine's reason, except that the
/// clinic's rooms and equipment (rule 13) are not named to patients.
fn patient_reason(rule: u8, reason: String) -> String {
    if rule == slot_engine::Rule::Resources.number() {
        "a room or piece of equipment it needs is taken then".to_owned()
    } else {
        reason
    }
}
