//! The appointments API.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::Duration;
use chrono_tz::Tz;
use serde::Deserialize;
use slot_engine::Instant;
use store::appointment::{Move, ResourceRequest, StaffBooking};
use store::book::{self, Range};
use utoipa::ToSchema;

use crate::appointment_dto::AppointmentDto;
use crate::auth::staff::StaffApi;
use crate::clinic_time::{local_ns, parse_date, today};
use crate::error::AppError;
use crate::form::{JsonBody, QueryParams};
use crate::state::AppState;

use super::{
    axis, book_counted, cancel_telling_patient, desk_status, entry_of, move_telling_patient,
    own_practitioner, parse_id, restore_telling_patient,
};

/// A staff booking.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBody {
    /// The practitioner.
    pub practitioner: i64,
    /// The patient; without one the time is blocked for the practitioner (the book
    /// shows it as blocked time).
    #[serde(default)]
    pub patient: Option<i64>,
    /// The service, if any: its schedule types may hold the booking, and its duration is
    /// the default.
    #[serde(default)]
    pub service: Option<i64>,
    /// The schedule type, when booking without a service.
    #[serde(default)]
    pub schedule_type: Option<i64>,
    /// Start, RFC 3339 with an offset.
    pub start: String,
    /// Length; default the service's duration, else the schedule type's default.
    #[serde(default)]
    pub duration_minutes: Option<u32>,
    /// Book despite the reasons of a 409 (`details.needs_override`): why. Recorded with
    /// who.
    #[serde(default)]
    pub override_reason: Option<String>,
    /// A video appointment (default `false`: in person). The schedule type holding it
    /// must allow telehealth, or the answer is 409 with that reason among
    /// `details.needs_override`.
    #[serde(default)]
    pub telehealth: bool,
    /// The rooms and equipment it holds, by resource id; omitted: the engine picks, per
    /// requirement of the service, the first free one. A named resource that is taken,
    /// unavailable or at another clinic (or a requirement left unmet) is a reason of the
    /// 409 like a conflict, and books only with `override_reason`.
    #[serde(default)]
    pub resources: Option<Vec<i64>>,
}

/// Where to move an appointment; it stays in person or by video as it was.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MoveBody {
    /// New start, RFC 3339 with an offset.
    pub start: String,
    /// New practitioner (default: the same).
    #[serde(default)]
    pub practitioner: Option<i64>,
    /// New length (default: the same).
    #[serde(default)]
    pub duration_minutes: Option<u32>,
    /// Move despite the reasons of a 409: why.
    #[serde(default)]
    pub override_reason: Option<String>,
    /// The rooms and equipment it holds at its new time, by resource id; omitted: the
    /// engine picks again for its service at the new time.
    #[serde(default)]
    pub resources: Option<Vec<i64>>,
}

/// The query of the appointment list.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ListParams {
    from: Option<String>,
    to: Option<String>,
    practitioner: Option<String>,
    clinic: Option<String>,
    zone: Option<String>,
    include_cancelled: Option<String>,
}

/// One end of the list's range: a date (read in the book's timezone) or an instant.
fn range_end(field: &str, value: &str, tz: Tz, end: bool) -> Result<i64, AppError> {
    if let Ok(instant) = value.trim().parse::<Instant>() {
        return Ok(instant.unix_nanos());
    }
    let date = parse_date(value)
        .map_err(|m| AppError::invalid(field, format!("{m}, or an instant in RFC 3339")))?;
    let date = if end { date + Duration::days(1) } else { date };
    Ok(local_ns(tz, date, 0))
}

/// The longest range one list call may ask for.
const MAX_LIST_DAYS: i64 = 92;

/// Appointments in a range.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/appointments", tag = "appointments",
    params(("slug" = String, Path, description = "The organisation"),
           ("from" = Option<String>, Query, description = "First date (YYYY-MM-DD, in the clinic's timezone) or instant (RFC 3339); default today"),
           ("to" = Option<String>, Query, description = "Last date, inclusive, or an instant, exclusive; default `from`'s date"),
           ("practitioner" = Option<i64>, Query, description = "Only this practitioner's"),
           ("clinic" = Option<i64>, Query, description = "Only this clinic's; dates are read in its timezone"),
           ("zone" = Option<String>, Query, description = "Without `clinic`: the timezone dates are read in, one of the organisation's clinics' (default the practitioner's home clinic's, else the first clinic's)"),
           ("include_cancelled" = Option<bool>, Query, description = "Cancelled ones too")),
    responses((status = 200, body = [AppointmentDto]), (status = 401, description = "Not signed in"),
              (status = 403, description = "A practitioner asking for someone else's schedule"),
              (status = 422, description = "Invalid parameter")))]
pub(super) async fn list(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    QueryParams(q): QueryParams<ListParams>,
) -> Result<Json<Vec<AppointmentDto>>, AppError> {
    let mut practitioner = parse_id("practitioner", q.practitioner.as_deref())?;
    let clinic = parse_id("clinic", q.clinic.as_deref())?;
    if let Some(own) = own_practitioner(&staff)? {
        if practitioner.is_some_and(|p| p != own) {
            return Err(AppError::Forbidden(
                "practitioners see only their own schedule".into(),
            ));
        }
        practitioner = Some(own);
    }
    let mut conn = state.db.conn().await?;
    let choices = book::choices(conn.exec(), staff.org.id).await?;
    // Another organisation's clinic or practitioner is not found, not an empty list.
    if clinic.is_some_and(|c| !choices.clinics.iter().any(|x| x.id == c)) {
        return Err(AppError::NotFound("clinic".into()));
    }
    if practitioner.is_some_and(|p| !choices.practitioners.iter().any(|x| x.id == p)) {
        return Err(AppError::NotFound("practitioner".into()));
    }
    let tz = axis(&choices, clinic, practitioner, q.zone.as_deref())?.tz;
    let from_text = q.from.unwrap_or_else(|| today(&state, tz).to_string());
    let from_ns = range_end("from", &from_text, tz, false)?;
    let to_ns = match q.to.as_deref() {
        Some(to) => range_end("to", to, tz, true)?,
        None => range_end("to", &from_text, tz, true)?,
    };
    if to_ns <= from_ns {
        return Err(AppError::invalid("to", "must be after from"));
    }
    if to_ns - from_ns > MAX_LIST_DAYS * 86_400_000_000_000 {
        return Err(AppError::invalid(
            "to",
            format!("ask for at most {MAX_LIST_DAYS} days at a time"),
        ));
    }
    let include_cancelled = match q.include_cancelled.as_deref() {
        None | Some("" | "false" | "0") => false,
        Some("true" | "1") => true,
        Some(other) => {
            return Err(AppError::invalid(
                "include_cancelled",
                format!("{other:?} is not true or false"),
            ));
        }
    };
    let entries = book::in_range(
        conn.exec(),
        &staff.org,
        &Range {
            from_ns,
            to_ns,
            practitioner,
            clinic,
            include_cancelled,
        },
    )
    .await?;
    Ok(Json(
        entries.into_iter().map(AppointmentDto::from).collect(),
    ))
}

fn parse_instant(field: &str, value: &str) -> Result<Instant, AppError> {
    value.trim().parse().map_err(|e: slot_engine::ValueError| {
        AppError::invalid(field, format!("{e}; write e.g. 2026-03-02T09:00:00-05:00"))
    })
}

/// Books an appointment for a patient (front desk). When it does not fit the
/// practitioner's availability or would double-book, the answer is 409 with every
/// reason in `details.needs_override`; send them again with `override_reason` to book
/// anyway. A retried request with the same `Idempotency-Key` header returns the first
/// booking (200) instead of booking twice.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/appointments", tag = "appointments",
    params(("slug" = String, Path, description = "The organisation"),
           ("Idempotency-Key" = Option<String>, Header, description = "1-200 characters; a retry with the same key returns the first booking")),
    request_body = CreateBody,
    responses((status = 201, body = AppointmentDto, description = "Booked"),
              (status = 200, body = AppointmentDto, description = "Already booked with this Idempotency-Key"),
              (status = 409, description = "Needs an override: `details.needs_override` lists every reason"),
              (status = 404, description = "No such practitioner, patient, service or schedule type in this organisation"),
              (status = 422, description = "Invalid field, or an Idempotency-Key already used for a different booking"),
              (status = 403, description = "Not front desk, or missing CSRF token")))]
pub(super) async fn create(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    headers: HeaderMap,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<(StatusCode, Json<AppointmentDto>), AppError> {
    staff.front_desk()?;
    let idempotency_key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .map_err(|_| AppError::invalid("Idempotency-Key", "must be visible ASCII"))?
                .to_owned(),
        ),
    };
    let booking = StaffBooking {
        staff: staff.audit_actor(),
        practitioner: body.practitioner,
        patient: body.patient,
        service: body.service,
        schedule_type: body.schedule_type,
        start: parse_instant("start", &body.start)?,
        duration_minutes: body.duration_minutes,
        override_reason: body.override_reason,
        telehealth: body.telehealth,
        idempotency_key,
        resources: match body.resources {
            None => ResourceRequest::Auto,
            Some(list) => ResourceRequest::Chosen(list),
        },
    };
    let booked = book_counted(&state, &staff.org, &booking).await?;
    let status = if booked.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let entry = entry_of(&state, staff.org.id, booked.appointment.id).await?;
    Ok((status, Json(entry.into())))
}

/// One appointment (a practitioner sees only their own).
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/appointments/{id}", tag = "appointments",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The appointment")),
    responses((status = 200, body = AppointmentDto), (status = 404, description = "No such appointment in this organisation")))]
pub(super) async fn get_one(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<Json<AppointmentDto>, AppError> {
    let id = path.1;
    let own = own_practitioner(&staff)?;
    let entry = entry_of(&state, staff.org.id, id).await?;
    if own.is_some_and(|p| p != entry.practitioner_id) {
        return Err(AppError::NotFound("appointment".into()));
    }
    Ok(Json(entry.into()))
}

/// The query of a cancellation.
#[derive(Debug, Default, Deserialize)]
pub(super) struct CancelParams {
    reason: Option<String>,
}

/// Cancels an appointment (front desk), with an optional reason; the audit log records
/// who. `POST …/restore` undoes it while the time is still free.
#[utoipa::path(delete, path = "/api/v1/orgs/{slug}/appointments/{id}", tag = "appointments",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The appointment"),
           ("reason" = Option<String>, Query, description = "Why it is cancelled (at most 500 characters), shown to staff")),
    responses((status = 200, body = AppointmentDto, description = "Cancelled"),
              (status = 404, description = "No such appointment in this organisation"),
              (status = 422, description = "Already cancelled, arrived, completed or a no-show; or the reason is too long")))]
pub(super) async fn cancel(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
    QueryParams(q): QueryParams<CancelParams>,
) -> Result<Json<AppointmentDto>, AppError> {
    let id = path.1;
    staff.front_desk()?;
    cancel_telling_patient(&state, &staff, id, q.reason.as_deref().unwrap_or("")).await?;
    Ok(Json(entry_of(&state, staff.org.id, id).await?.into()))
}

/// A desk status to set.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatusBody {
    /// `arrived` (from 2 hours before the start), `completed` or `no_show` (once it
    /// has started), or `booked` to undo one of them.
    pub status: String,
}

/// Marks the patient arrived, the appointment completed or a no-show, or undoes the
/// mark back to booked (front desk); audited.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/appointments/{id}/status", tag = "appointments",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The appointment")),
    request_body = StatusBody,
    responses((status = 200, body = AppointmentDto, description = "Marked"),
              (status = 404, description = "No such appointment in this organisation"),
              (status = 422, description = "`status` is not one of the four, or not allowed now (`message` says why)")))]
pub(super) async fn set_status(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
    JsonBody(body): JsonBody<StatusBody>,
) -> Result<Json<AppointmentDto>, AppError> {
    let id = path.1;
    staff.front_desk()?;
    let status = desk_status(&body.status)?;
    store::appointment::mark(
        &state.db,
        &staff.org,
        id,
        status,
        staff.audit_actor(),
        state.clock.as_ref(),
    )
    .await?;
    Ok(Json(entry_of(&state, staff.org.id, id).await?.into()))
}

/// Undoes a cancellation (front desk): the appointment gets back the status it had,
/// only if its time is still free for a staff booking without an override; audited.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/appointments/{id}/restore", tag = "appointments",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The appointment")),
    responses((status = 200, body = AppointmentDto, description = "Restored"),
              (status = 404, description = "No such appointment in this organisation"),
              (status = 409, description = "The time is no longer free: `details.needs_override` says why; nothing changed"),
              (status = 422, description = "The appointment is not cancelled")))]
pub(super) async fn restore(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<Json<AppointmentDto>, AppError> {
    let id = path.1;
    staff.front_desk()?;
    restore_telling_patient(&state, &staff, id).await?;
    Ok(Json(entry_of(&state, staff.org.id, id).await?.into()))
}

/// Moves an appointment to a new start, practitioner or length (front desk), checked
/// as a staff booking at its new place; 409 with `details.needs_override` when it needs
/// an override.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/appointments/{id}/move", tag = "appointments",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The appointment")),
    request_body = MoveBody,
    responses((status = 200, body = AppointmentDto, description = "Moved"),
              (status = 409, description = "Needs an override: `details.needs_override` lists every reason"),
              (status = 404, description = "No such appointment or practitioner in this organisation"),
              (status = 422, description = "Invalid field, or the appointment cannot be moved")))]
pub(super) async fn move_one(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
    JsonBody(body): JsonBody<MoveBody>,
) -> Result<Json<AppointmentDto>, AppError> {
    let id = path.1;
    staff.front_desk()?;
    let m = Move {
        staff: staff.audit_actor(),
        appointment: id,
        start: parse_instant("start", &body.start)?,
        practitioner: body.practitioner,
        duration_minutes: body.duration_minutes,
        override_reason: body.override_reason,
        resources: body.resources,
    };
    move_telling_patient(&state, &staff.org, &m).await?;
    Ok(Json(entry_of(&state, staff.org.id, id).await?.into()))
}

/// Marks a booked appointment confirmed (front desk: the patient said so on the
/// phone); audited as `appointment.confirm`. Patients confirm from their reminder's
/// link (docs/reminders.md).
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/appointments/{id}/confirm", tag = "appointments",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The appointment")),
    responses((status = 200, body = AppointmentDto, description = "Confirmed"),
              (status = 404, description = "No such appointment in this organisation"),
              (status = 422, description = "The appointment is not booked")))]
pub(super) async fn confirm(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<Json<AppointmentDto>, AppError> {
    let id = path.1;
    staff.front_desk()?;
    store::reminder::confirm_by_staff(
        &state.db,
        staff.org.id,
        id,
        staff.audit_actor(),
        state.clock.now_ns(),
    )
    .await?;
    Ok(Json(entry_of(&state, staff.org.id, id).await?.into()))
}
