//! The portal's series API: what the confirm page's "Book this time weekly" does, for a
//! service that allows series: preview every date, book them all or none, read one's
//! own series.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use store::appointment::series::{self as store_series, PortalSeries, SeriesOutcome};
use utoipa::ToSchema;

use crate::auth::patient::PatientApi;
use crate::error::AppError;
use crate::form::JsonBody;
use crate::series_dto::SeriesPreviewDto;
use crate::state::AppState;

use super::appointments::{AppointmentDto, appointment_dto, own};
use super::series_pages::{MAX_WEEKS, book_series, own_series, weekly};
use super::slots::parse_start;

/// A weekly series: a time the slots offer, then the same time every week.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SeriesRequest {
    /// The service's row id; it must allow series.
    pub service: i64,
    /// The practitioner's row id (from the slots).
    pub practitioner: i64,
    /// The first occurrence's start, RFC 3339: a slot's start.
    pub start: String,
    /// How many weeks, the first included (2 to 12, within the booking window).
    pub weeks: u32,
    /// Video appointments (default false: in person).
    #[serde(default)]
    pub telehealth: bool,
    /// A key of the client's choosing: a retry with the same key returns the first
    /// series instead of booking a second (booking only).
    pub idempotency_key: Option<String>,
}

/// A patient's weekly series and its appointments.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct PortalSeriesDto {
    /// The series' row id.
    pub id: i64,
    /// Its appointments, by start.
    pub appointments: Vec<AppointmentDto>,
}

/// Every date of a weekly series and whether it can be booked, without booking.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/portal/series/preview", tag = "portal",
    params(("slug" = String, Path, description = "The organisation")),
    request_body = SeriesRequest,
    responses((status = 200, body = SeriesPreviewDto),
              (status = 422, description = "Invalid field; or the service does not allow series (`field` `service`)"),
              (status = 403, description = "The practitioner is not available to this patient")))]
pub(super) async fn api_series_preview(
    State(state): State<AppState>,
    PatientApi(p): PatientApi,
    JsonBody(body): JsonBody<SeriesRequest>,
) -> Result<Json<SeriesPreviewDto>, AppError> {
    if !(2..=MAX_WEEKS).contains(&body.weeks) {
        return Err(AppError::invalid(
            "weeks",
            format!("choose 2 to {MAX_WEEKS} weeks"),
        ));
    }
    let check = store_series::preview_portal(
        &state.db,
        &p.org,
        &PortalSeries {
            patient: p.patient.id,
            service: body.service,
            practitioner: body.practitioner,
            start: parse_start(&body.start)?,
            telehealth: body.telehealth,
            rule: weekly(body.weeks)?,
            idempotency_key: None,
        },
        state.clock.as_ref(),
    )
    .await?;
    Ok(Json(SeriesPreviewDto::from(&check)))
}

/// Books a weekly series, all or none: when any date cannot be booked, 409 with every
/// date in `details.occurrences` and nothing booked. The patient is emailed once, with
/// every appointment.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/portal/series", tag = "portal",
    params(("slug" = String, Path, description = "The organisation")),
    request_body = SeriesRequest,
    responses((status = 201, body = PortalSeriesDto), (status = 200, body = PortalSeriesDto, description = "A retry with a used idempotency key: the first series"),
              (status = 409, description = "Some date cannot be booked: `details.occurrences` says which and why; nothing was booked"),
              (status = 422, description = "Invalid field; the service does not allow series; or an idempotency key already used for another request"),
              (status = 403, description = "The practitioner is not available to this patient")))]
pub(super) async fn api_series_book(
    State(state): State<AppState>,
    PatientApi(p): PatientApi,
    JsonBody(body): JsonBody<SeriesRequest>,
) -> Result<(StatusCode, Json<PortalSeriesDto>), AppError> {
    let start = parse_start(&body.start)?;
    let outcome = book_series(
        &state,
        &p,
        body.service,
        body.practitioner,
        start,
        body.telehealth,
        body.weeks,
        body.idempotency_key,
    )
    .await?;
    match outcome {
        SeriesOutcome::Booked(b) => {
            let status = if b.replayed {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            let now = state.clock.now_ns();
            let mut appointments = Vec::with_capacity(b.appointments.len());
            for a in &b.appointments {
                appointments.push(appointment_dto(&p.org, now, own(&state, &p, a.id).await?));
            }
            Ok((
                status,
                Json(PortalSeriesDto {
                    id: b.series.id,
                    appointments,
                }),
            ))
        }
        SeriesOutcome::Refused(check) => Err(AppError::Conflict {
            message: "not every date can be booked, so nothing was booked".to_owned(),
            details: serde_json::json!({ "occurrences": SeriesPreviewDto::from(&check).occurrences }),
        }),
    }
}

/// One of the patient's own series (another patient's is 404).
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/portal/series/{id}", tag = "portal",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The series")),
    responses((status = 200, body = PortalSeriesDto), (status = 404, description = "Not one of this patient's series")))]
pub(super) async fn api_series(
    State(state): State<AppState>,
    PatientApi(p): PatientApi,
    Path(path): Path<(String, i64)>,
) -> Result<Json<PortalSeriesDto>, AppError> {
    let (series, list) = own_series(&state, &p, path.1).await?;
    let now = state.clock.now_ns();
    let mut appointments = Vec::with_capacity(list.len());
    for a in &list {
        appointments.push(appointment_dto(&p.org, now, own(&state, &p, a.id).await?));
    }
    Ok(Json(PortalSeriesDto {
        id: series.id,
        appointments,
    }))
}
