//! The series API (front desk): preview and book a weekly series, read one, and
//! cancel or move an occurrence with the following ones.

use crate::auth::staff::Caller;
use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use slot_engine::{Date, Instant};
use store::appointment::series::{
    self as store_series, MoveCheck, MoveFollowing, MoveFollowingOutcome, SeriesOutcome,
    StaffSeries, Unfit,
};
use utoipa::ToSchema;

use crate::appointment_dto::AppointmentDto;
use crate::auth::staff::StaffApi;
use crate::error::AppError;
use crate::form::{JsonBody, QueryParams};
use crate::state::AppState;

use super::series::{book, cancel_following, move_following, rule};
use super::{entry_of, own_practitioner};
use crate::series_dto::{OccurrenceDto, SeriesPreviewDto};

/// An occurrence to book despite the engine's reasons.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OverrideBody {
    /// The occurrence's date (`YYYY-MM-DD`, in the series' clinic's zone).
    pub date: String,
    /// Why it is booked anyway; recorded with who.
    pub reason: String,
}

/// A weekly series booked by staff: a staff booking (as `POST …/appointments`) and its
/// rule.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SeriesBody {
    /// The practitioner.
    pub practitioner: i64,
    /// The patient; without one the time is blocked.
    #[serde(default)]
    pub patient: Option<i64>,
    /// The service, if any.
    #[serde(default)]
    pub service: Option<i64>,
    /// The schedule type, when booking without a service.
    #[serde(default)]
    pub schedule_type: Option<i64>,
    /// The first occurrence's start, RFC 3339 with an offset; every occurrence is at the
    /// same wall-clock time in the series' clinic.
    pub start: String,
    /// Length; default the service's duration, else the schedule type's default.
    #[serde(default)]
    pub duration_minutes: Option<u32>,
    /// Video appointments.
    #[serde(default)]
    pub telehealth: bool,
    /// Every how many weeks (1 to 4).
    pub every_weeks: u32,
    /// How many occurrences, the first included (2 to 52); or give `until`.
    #[serde(default)]
    pub count: Option<u32>,
    /// The last date an occurrence may fall on (`YYYY-MM-DD`); or give `count`.
    #[serde(default)]
    pub until: Option<String>,
    /// What to do with an occurrence that needs an override and has none in
    /// `overrides`: `refuse` (default: nothing is booked, 409) or `skip` (book the
    /// others). An occurrence that does not exist (clocks go forward) is never booked.
    #[serde(default)]
    pub unfit: Option<String>,
    /// Occurrences to book despite the engine's reasons, each with why.
    #[serde(default)]
    pub overrides: Vec<OverrideBody>,
}

impl SeriesBody {
    fn to_series(
        &self,
        staff: &Caller,
        idempotency_key: Option<String>,
    ) -> Result<StaffSeries, AppError> {
        let start: Instant = self
            .start
            .trim()
            .parse()
            .map_err(|e: slot_engine::ValueError| {
                AppError::invalid(
                    "start",
                    format!("{e}; write e.g. 2026-03-03T17:00:00+00:00"),
                )
            })?;
        let unfit = match self.unfit.as_deref().map(str::trim) {
            None | Some("" | "refuse") => Unfit::Refuse,
            Some("skip") => Unfit::Skip,
            Some(other) => {
                return Err(AppError::invalid(
                    "unfit",
                    format!("{other:?} is not refuse or skip"),
                ));
            }
        };
        let mut overrides = BTreeMap::new();
        for o in &self.overrides {
            let date =
                o.date.trim().parse::<Date>().map_err(|e| {
                    AppError::invalid("overrides", format!("{e}; write YYYY-MM-DD"))
                })?;
            if overrides.insert(date, o.reason.clone()).is_some() {
                return Err(AppError::invalid(
                    "overrides",
                    format!("{date} is given twice"),
                ));
            }
        }
        Ok(StaffSeries {
            staff: staff.audit_actor(),
            practitioner: self.practitioner,
            patient: self.patient,
            service: self.service,
            schedule_type: self.schedule_type,
            start,
            duration_minutes: self.duration_minutes,
            telehealth: self.telehealth,
            rule: rule(self.every_weeks, self.count, self.until.as_deref())?,
            unfit,
            overrides,
            idempotency_key,
        })
    }
}

/// A series and its appointments.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SeriesDto {
    /// Row id.
    pub id: i64,
    /// The practitioner of its first occurrence.
    pub practitioner_id: i64,
    /// The patient, if any.
    pub patient_id: Option<i64>,
    /// The service, if any.
    pub service_id: Option<i64>,
    /// Weeks between occurrences; `null` for an imported series.
    pub every_weeks: Option<i64>,
    /// The number of occurrences the rule made, when it ends by count.
    pub count: Option<i64>,
    /// The rule's last date, when it ends by date.
    pub until: Option<String>,
    /// `staff`, `portal` or `import`.
    pub channel: String,
    /// Who booked it.
    pub created_by: String,
    /// Its appointments, by start, cancelled ones included.
    pub appointments: Vec<AppointmentDto>,
    /// The occurrences left out when it was booked (in the booking's answer only).
    pub skipped: Vec<OccurrenceDto>,
}

async fn series_dto(
    state: &AppState,
    org: i64,
    series: store_series::Series,
    skipped: Vec<OccurrenceDto>,
) -> Result<SeriesDto, AppError> {
    let ids: Vec<i64> = {
        let mut conn = state.db.conn().await?;
        store_series::appointments(conn.exec(), org, series.id)
            .await?
            .iter()
            .map(|a| a.id)
            .collect()
    };
    let mut appointments = Vec::with_capacity(ids.len());
    for id in ids {
        appointments.push(entry_of(state, org, id).await?.into());
    }
    Ok(SeriesDto {
        id: series.id,
        practitioner_id: series.practitioner_id,
        patient_id: series.patient_id,
        service_id: series.service_id,
        every_weeks: series.every_weeks,
        count: series.planned_count,
        until: series.until_date,
        channel: series.channel.as_str().to_owned(),
        created_by: series.created_by,
        appointments,
        skipped,
    })
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, AppError> {
    headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str()
                .map(str::to_owned)
                .map_err(|_| AppError::invalid("Idempotency-Key", "must be visible ASCII"))
        })
        .transpose()
}

/// Checks a series without booking it: every occurrence's date, start (in the
/// clinic's zone) and whether it can be booked, needs an override (with every reason)
/// or does not exist (its wall-clock time falls in a change of the clocks).
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/series/preview", tag = "series",
    params(("slug" = String, Path, description = "The organisation")),
    request_body = SeriesBody,
    responses((status = 200, body = SeriesPreviewDto),
              (status = 404, description = "No such practitioner, patient, service or schedule type in this organisation"),
              (status = 422, description = "Invalid field (the rule, the start, an override)"),
              (status = 403, description = "Not front desk, or missing CSRF token")))]
pub(super) async fn preview(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    JsonBody(body): JsonBody<SeriesBody>,
) -> Result<Json<SeriesPreviewDto>, AppError> {
    staff.front_desk()?;
    let s = body.to_series(&staff, None)?;
    let check = store_series::preview_staff(&state.db, &staff.org, &s).await?;
    Ok(Json(SeriesPreviewDto::from(&check)))
}

/// Books a weekly series (front desk), in one transaction: all or none (`unfit:
/// "refuse"`, 409 with every occurrence in `details.occurrences` when one cannot be
/// booked), or only what fits (`"skip"`), with an override for each occurrence listed in
/// `overrides`. Each occurrence is an appointment; the patient gets one email listing
/// them all. A retried request with the same `Idempotency-Key` returns the first
/// series (200).
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/series", tag = "series",
    params(("slug" = String, Path, description = "The organisation"),
           ("Idempotency-Key" = Option<String>, Header, description = "1-200 characters; a retry with the same key returns the first series")),
    request_body = SeriesBody,
    responses((status = 201, body = SeriesDto, description = "Booked"),
              (status = 200, body = SeriesDto, description = "Already booked with this Idempotency-Key"),
              (status = 409, description = "Some occurrence cannot be booked and `unfit` is `refuse`: `details.occurrences` lists every occurrence with its verdict; nothing was booked"),
              (status = 404, description = "No such practitioner, patient, service or schedule type in this organisation"),
              (status = 422, description = "Invalid field, no occurrence left to book, or an Idempotency-Key already used for a different request"),
              (status = 403, description = "Not front desk, or missing CSRF token")))]
pub(super) async fn create(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    headers: HeaderMap,
    JsonBody(body): JsonBody<SeriesBody>,
) -> Result<(StatusCode, Json<SeriesDto>), AppError> {
    staff.front_desk()?;
    let s = body.to_series(&staff, idempotency_key(&headers)?)?;
    match book(&state, &staff.org, &s).await? {
        SeriesOutcome::Booked(b) => {
            let status = if b.replayed {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            let preview_tz = store_zone(&state, &staff, &b).await?;
            let skipped = b
                .skipped
                .iter()
                .map(|o| OccurrenceDto::of(o, preview_tz))
                .collect();
            let dto = series_dto(&state, staff.org.id, b.series, skipped).await?;
            Ok((status, Json(dto)))
        }
        SeriesOutcome::Refused(check) => Err(AppError::Conflict {
            message: "some occurrences cannot be booked; nothing was booked".to_owned(),
            details: serde_json::json!({ "occurrences": SeriesPreviewDto::from(&check).occurrences }),
        }),
    }
}

/// The zone of a booked series' first appointment's clinic (where its occurrences'
/// dates are read).
async fn store_zone(
    state: &AppState,
    staff: &Caller,
    b: &store_series::BookedSeries,
) -> Result<chrono_tz::Tz, AppError> {
    let Some(clinic) = b.appointments.first().and_then(|a| a.clinic_id) else {
        return Ok(chrono_tz::UTC);
    };
    let mut conn = state.db.conn().await?;
    Ok(store::clinic::get(conn.exec(), staff.org.id, clinic)
        .await?
        .zone())
}

/// One series with its appointments (a practitioner sees only their own).
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/series/{id}", tag = "series",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The series")),
    responses((status = 200, body = SeriesDto), (status = 404, description = "No such series in this organisation")))]
pub(super) async fn get_one(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<Json<SeriesDto>, AppError> {
    let series = {
        let mut conn = state.db.conn().await?;
        store_series::get(conn.exec(), staff.org.id, path.1).await?
    };
    if own_practitioner(&staff)?.is_some_and(|p| p != series.practitioner_id) {
        return Err(AppError::NotFound("series".into()));
    }
    Ok(Json(
        series_dto(&state, staff.org.id, series, Vec::new()).await?,
    ))
}

/// The query of a "this and following" cancellation.
#[derive(Debug, Default, Deserialize)]
pub(super) struct CancelParams {
    reason: Option<String>,
}

/// Cancels an occurrence of a series and every later one still to come (front desk),
/// in one change, with an optional reason; the patient gets one email.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/appointments/{id}/cancel-following", tag = "series",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The occurrence the cancellation starts from"),
           ("reason" = Option<String>, Query, description = "Why (at most 500 characters), shown to staff")),
    responses((status = 200, body = [AppointmentDto], description = "The appointments cancelled, by start"),
              (status = 404, description = "No such appointment in this organisation"),
              (status = 422, description = "Not part of a series, nothing left to cancel, or the reason is too long")))]
pub(super) async fn cancel_following_api(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
    QueryParams(q): QueryParams<CancelParams>,
) -> Result<Json<Vec<AppointmentDto>>, AppError> {
    staff.front_desk()?;
    let cancelled =
        cancel_following(&state, &staff, path.1, q.reason.as_deref().unwrap_or("")).await?;
    let mut out = Vec::with_capacity(cancelled.len());
    for a in cancelled {
        out.push(entry_of(&state, staff.org.id, a.id).await?.into());
    }
    Ok(Json(out))
}

/// Where to move an occurrence; the following ones move by the same wall-clock change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MoveFollowingBody {
    /// The occurrence's new start, RFC 3339 with an offset.
    pub start: String,
    /// Move despite the reasons of a 409, for every occurrence that needs it: why.
    #[serde(default)]
    pub override_reason: Option<String>,
}

/// One occurrence of a refused "this and following" move.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MoveCheckDto {
    /// The appointment.
    pub appointment: i64,
    /// Its start now, nanoseconds since the Unix epoch.
    pub from_ns: i64,
    /// Where it would go; `null` when that wall-clock time does not exist.
    pub to_ns: Option<i64>,
    /// Why it cannot (empty: it could).
    pub reasons: Vec<String>,
}

impl From<MoveCheck> for MoveCheckDto {
    fn from(c: MoveCheck) -> Self {
        MoveCheckDto {
            appointment: c.appointment,
            from_ns: c.from_ns,
            to_ns: c.to_ns,
            reasons: c.reasons,
        }
    }
}

/// Moves an occurrence of a series to a new start and every later one still to come by
/// the same wall-clock change (front desk), all or none: 409 with every occurrence in
/// `details.occurrences` when one cannot move (send `override_reason` to move anyway;
/// a time that does not exist cannot be overridden).
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/appointments/{id}/move-following", tag = "series",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The occurrence the move starts from")),
    request_body = MoveFollowingBody,
    responses((status = 200, body = [AppointmentDto], description = "The appointments moved, by start"),
              (status = 409, description = "Some occurrence cannot move: `details.occurrences` says which and why; nothing moved"),
              (status = 404, description = "No such appointment in this organisation"),
              (status = 422, description = "Invalid field, or not part of a series")))]
pub(super) async fn move_following_api(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
    JsonBody(body): JsonBody<MoveFollowingBody>,
) -> Result<Json<Vec<AppointmentDto>>, AppError> {
    staff.front_desk()?;
    let start: Instant = body
        .start
        .trim()
        .parse()
        .map_err(|e: slot_engine::ValueError| {
            AppError::invalid(
                "start",
                format!("{e}; write e.g. 2026-03-03T17:30:00+00:00"),
            )
        })?;
    let m = MoveFollowing {
        staff: staff.audit_actor(),
        appointment: path.1,
        start,
        override_reason: body.override_reason,
    };
    match move_following(&state, &staff, &m).await? {
        MoveFollowingOutcome::Moved(moved) => {
            let mut out = Vec::with_capacity(moved.len());
            for a in moved {
                out.push(entry_of(&state, staff.org.id, a.id).await?.into());
            }
            Ok(Json(out))
        }
        MoveFollowingOutcome::Refused(checks) => Err(AppError::Conflict {
            message: "some occurrences cannot move; nothing moved".to_owned(),
            details: serde_json::json!({
                "occurrences": checks.into_iter().map(MoveCheckDto::from).collect::<Vec<_>>()
            }),
        }),
    }
}
