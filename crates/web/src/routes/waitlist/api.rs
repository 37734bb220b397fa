//! The waitlist's JSON API: the portal's own entries, staff's list per service and day,
//! joining for a patient, removing, offering a time by hand, and the settings.

use crate::auth::staff::Caller;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use store::audit::Actor;
use store::waitlist::{self, Proposal, Settings};
use utoipa::{IntoParams, ToSchema};

use crate::auth::patient::PatientApi;
use crate::auth::staff::StaffApi;
use crate::error::AppError;
use crate::form::{JsonBody, QueryParams};
use crate::state::AppState;

use super::{EntryDto, JoinBody, today};

/// The signed-in patient's waitlist entries, active first.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/portal/waitlist", tag = "waitlist",
    params(("slug" = String, Path, description = "The organisation")),
    responses((status = 200, body = [EntryDto]), (status = 401, description = "Not signed in")))]
pub(super) async fn portal_list(
    State(state): State<AppState>,
    PatientApi(p): PatientApi,
) -> Result<Json<Vec<EntryDto>>, AppError> {
    let mut conn = state.db.conn().await?;
    let list = waitlist::of_patient(conn.exec(), p.org.id, p.patient.id).await?;
    Ok(Json(list.iter().map(EntryDto::from).collect()))
}

/// Joins the waitlist for a service (`patient_id` is not accepted here: the entry is
/// the signed-in patient's).
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/portal/waitlist", tag = "waitlist",
    params(("slug" = String, Path, description = "The organisation")),
    request_body = JoinBody,
    responses((status = 201, body = EntryDto), (status = 422, description = "Invalid, naming the field")))]
pub(super) async fn portal_join(
    State(state): State<AppState>,
    PatientApi(p): PatientApi,
    JsonBody(body): JsonBody<JoinBody>,
) -> Result<(StatusCode, Json<EntryDto>), AppError> {
    if body.patient_id.is_some() {
        return Err(AppError::invalid(
            "patient_id",
            "the portal adds entries for the signed-in patient only",
        ));
    }
    let entry = body.entry(p.patient.id)?;
    let day = today(&state, p.org.id).await?;
    let joined = waitlist::join(
        &state.db,
        &p.org,
        &entry,
        Actor::Patient(p.patient.id),
        day,
        state.clock.as_ref(),
    )
    .await?;
    state.mail.notify();
    Ok((StatusCode::CREATED, Json(EntryDto::from(&joined))))
}

/// Leaves the waitlist: the entry is the signed-in patient's (another's is not found).
#[utoipa::path(delete, path = "/api/v1/orgs/{slug}/portal/waitlist/{id}", tag = "waitlist",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The entry")),
    responses((status = 200, body = EntryDto), (status = 404, description = "Not one of the patient's entries")))]
pub(super) async fn portal_leave(
    State(state): State<AppState>,
    PatientApi(p): PatientApi,
    Path(path): Path<(String, i64)>,
) -> Result<Json<EntryDto>, AppError> {
    let left = waitlist::leave(
        &state.db,
        p.org.id,
        path.1,
        Actor::Patient(p.patient.id),
        state.clock.as_ref(),
    )
    .await?;
    state.mail.wake_waitlist();
    Ok(Json(EntryDto::from(&left)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ListQuery {
    /// The service.
    service_id: i64,
    /// Only entries that could suit a time on this date, `YYYY-MM-DD`.
    date: Option<String>,
}

/// A service's waitlist and its open holds.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct WaitlistDto {
    /// Active, unexpired entries in the order they joined.
    pub entries: Vec<StaffEntryDto>,
    /// Times held for offers now.
    pub holds: Vec<HoldDto>,
}

/// An entry as staff see it.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct StaffEntryDto {
    /// The entry.
    #[serde(flatten)]
    pub entry: EntryDto,
    /// The patient's name.
    pub patient_name: String,
}

/// A time held for waitlist offers.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct HoldDto {
    /// Row id.
    pub id: i64,
    /// The blocked time that holds it.
    pub appointment_id: Option<i64>,
    /// The practitioner.
    pub practitioner_id: i64,
    /// Start, RFC 3339 UTC.
    pub start: String,
    /// When the hold runs out, RFC 3339 UTC.
    pub expires_at: String,
    /// `open`, `accepted`, `expired` or `withdrawn`.
    pub state: String,
}

fn utc(ns: i64) -> String {
    crate::clinic_time::rfc3339(ns, chrono_tz::UTC)
}

impl From<&store::appointment::Hold> for HoldDto {
    fn from(h: &store::appointment::Hold) -> Self {
        HoldDto {
            id: h.id,
            appointment_id: h.appointment_id,
            practitioner_id: h.practitioner_id,
            start: utc(h.start_ns),
            expires_at: utc(h.expires_at_ns),
            state: h.state.clone(),
        }
    }
}

/// A service's waitlist (front desk): the active entries, optionally those that could
/// suit a date, and the times held for offers.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/waitlist", tag = "waitlist",
    params(("slug" = String, Path, description = "The organisation"), ListQuery),
    responses((status = 200, body = WaitlistDto), (status = 403, description = "Not front desk")))]
pub(super) async fn staff_list(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<Json<WaitlistDto>, AppError> {
    staff.front_desk()?;
    let day = super::date_field("date", q.date.as_deref())?;
    let (entries, holds) = list(&state, &staff, q.service_id, day).await?;
    Ok(Json(WaitlistDto {
        entries: entries
            .iter()
            .map(|(e, name)| StaffEntryDto {
                entry: EntryDto::from(e),
                patient_name: name.clone(),
            })
            .collect(),
        holds: holds.iter().map(HoldDto::from).collect(),
    }))
}

/// A service's entries with their patients' names, and its open holds.
pub(super) async fn list(
    state: &AppState,
    staff: &Caller,
    service: i64,
    day: Option<chrono::NaiveDate>,
) -> Result<
    (
        Vec<(waitlist::Entry, String)>,
        Vec<store::appointment::Hold>,
    ),
    AppError,
> {
    let today = today(state, staff.org.id).await?;
    let mut conn = state.db.conn().await?;
    store::service::get(conn.exec(), staff.org.id, service)
        .await
        .map_err(|_| AppError::invalid("service_id", "unknown service"))?;
    let entries = waitlist::of_service(conn.exec(), staff.org.id, service, today, day).await?;
    let mut named = Vec::with_capacity(entries.len());
    for e in entries {
        let name = store::patient::get(conn.exec(), staff.org.id, e.patient_id)
            .await?
            .full_name();
        named.push((e, name));
    }
    let holds = store::appointment::open_holds(conn.exec(), staff.org.id)
        .await?
        .into_iter()
        .filter(|h| h.service_id == service)
        .collect();
    Ok((named, holds))
}

/// Adds a patient to the waitlist (front desk): `patient_id` is required; the entry
/// may name any of the organisation's practitioners the patient may book.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/waitlist", tag = "waitlist",
    params(("slug" = String, Path, description = "The organisation")),
    request_body = JoinBody,
    responses((status = 201, body = EntryDto), (status = 422, description = "Invalid, naming the field")))]
pub(super) async fn staff_join(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    JsonBody(body): JsonBody<JoinBody>,
) -> Result<(StatusCode, Json<EntryDto>), AppError> {
    staff.front_desk()?;
    let patient = body
        .patient_id
        .ok_or_else(|| AppError::invalid("patient_id", "choose the patient"))?;
    let entry = body.entry(patient)?;
    let day = today(&state, staff.org.id).await?;
    let joined = waitlist::join(
        &state.db,
        &staff.org,
        &entry,
        staff.audit_actor(),
        day,
        state.clock.as_ref(),
    )
    .await?;
    state.mail.notify();
    Ok((StatusCode::CREATED, Json(EntryDto::from(&joined))))
}

/// Removes an entry from the waitlist (front desk).
#[utoipa::path(delete, path = "/api/v1/orgs/{slug}/waitlist/{id}", tag = "waitlist",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The entry")),
    responses((status = 200, body = EntryDto), (status = 404, description = "No such entry in this organisation"),
              (status = 422, description = "No longer on the waitlist")))]
pub(super) async fn staff_remove(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<Json<EntryDto>, AppError> {
    staff.front_desk()?;
    let removed = waitlist::leave(
        &state.db,
        staff.org.id,
        path.1,
        staff.audit_actor(),
        state.clock.as_ref(),
    )
    .await?;
    state.mail.wake_waitlist();
    Ok(Json(EntryDto::from(&removed)))
}

/// A time offered by hand.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OfferBody {
    /// The service.
    pub service_id: i64,
    /// The practitioner.
    pub practitioner_id: i64,
    /// The start, RFC 3339: an open portal time of the service. It is offered to the
    /// first entries that suit it, as the matcher would.
    pub start: String,
}

/// The offers made.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct OfferedDto {
    /// The hold.
    pub hold: HoldDto,
    /// The entries offered the time.
    pub entry_ids: Vec<i64>,
}

/// Offers a time by hand (front desk): the time must be open in the portal; it is held
/// and offered like a freed time.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/waitlist/offers", tag = "waitlist",
    params(("slug" = String, Path, description = "The organisation")),
    request_body = OfferBody,
    responses((status = 201, body = OfferedDto),
              (status = 409, description = "The time is no longer open, or the service holds as many times as the settings allow"),
              (status = 422, description = "Invalid, naming the field")))]
pub(super) async fn staff_offer(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    JsonBody(body): JsonBody<OfferBody>,
) -> Result<(StatusCode, Json<OfferedDto>), AppError> {
    staff.front_desk()?;
    let (hold, ids) = offer_by_hand(&state, &staff, &body).await?;
    Ok((
        StatusCode::CREATED,
        Json(OfferedDto {
            hold: HoldDto::from(&hold),
            entry_ids: ids,
        }),
    ))
}

/// Holds and offers a time staff chose (the page and the API).
pub(super) async fn offer_by_hand(
    state: &AppState,
    staff: &Caller,
    body: &OfferBody,
) -> Result<(store::appointment::Hold, Vec<i64>), AppError> {
    let org = &staff.org;
    let start = chrono::DateTime::parse_from_rfc3339(body.start.trim())
        .ok()
        .and_then(|t| slot_engine::Instant::from_unix_nanos(t.timestamp_nanos_opt()?).ok())
        .ok_or_else(|| AppError::invalid("start", "give the start as RFC 3339"))?;
    let (input, slots) = {
        let mut conn = state.db.conn().await?;
        store::portal::service(conn.exec(), org.id, body.service_id)
            .await
            .map_err(|_| {
                AppError::invalid("service_id", "not a service patients can book online")
            })?;
        store::practitioner::get(conn.exec(), org.id, body.practitioner_id)
            .await
            .map_err(|_| AppError::invalid("practitioner_id", "unknown practitioner"))?;
        let day = slot_engine::Date::try_from(start.to_utc().date_naive())
            .map_err(|e| AppError::invalid("start", e.to_string()))?;
        store::window::open_slots(
            &mut conn.exec(),
            org,
            &store::window::SlotRequest {
                service: body.service_id,
                practitioners: Some(vec![body.practitioner_id]),
                from: day.add_days(-1).unwrap_or(day),
                to: day.add_days(1).unwrap_or(day),
                now: state.clock.now(),
                telehealth: false,
            },
        )
        .await?
    };
    let open = slots
        .iter()
        .find(|s| s.start_instant() == start)
        .map(|s| input.open_slot(s))
        .ok_or_else(|| AppError::invalid("start", "this time is not open for online booking"))?;
    let entries = waitlist::entries_for_time(
        &state.db,
        org,
        body.service_id,
        body.practitioner_id,
        open.clinic_id,
        open.start.naive_local(),
        start.unix_nanos(),
        None,
        state.clock.as_ref(),
    )
    .await?;
    if entries.is_empty() {
        return Err(AppError::invalid(
            "entry_ids",
            "no waitlist entry without an open offer suits this time",
        ));
    }
    let proposal = Proposal {
        service: body.service_id,
        practitioner: body.practitioner_id,
        start_ns: start.unix_nanos(),
        entries,
    };
    crate::waitlist::hold(state, org, &proposal, Some(staff.audit_actor()))
        .await?
        .ok_or_else(|| AppError::Conflict {
            message: "this time cannot be held now: it was taken, its entries have open offers, or the service holds as many times as the settings allow".to_owned(),
            details: serde_json::json!({ "outcome": "not_held" }),
        })
}

/// The organisation's waitlist settings (front desk reads, admin changes).
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/waitlist/settings", tag = "waitlist",
    params(("slug" = String, Path, description = "The organisation")),
    responses((status = 200, body = WaitlistSettingsDto)))]
pub(super) async fn settings_get(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
) -> Result<Json<WaitlistSettingsDto>, AppError> {
    staff.front_desk()?;
    let mut conn = state.db.conn().await?;
    Ok(Json(
        waitlist::settings(conn.exec(), staff.org.id).await?.into(),
    ))
}

/// How freed times are offered.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WaitlistSettingsDto {
    /// How many entries one freed time is offered to at once (1–20).
    pub offer_count: i64,
    /// How long a freed time is held for its offers, minutes (5–1440).
    pub hold_minutes: i64,
    /// At most this many times held at once per service (1–50).
    pub max_holds_per_service: i64,
    /// At most this many active entries per patient (1–50).
    pub max_entries_per_patient: i64,
}

impl From<Settings> for WaitlistSettingsDto {
    fn from(s: Settings) -> Self {
        WaitlistSettingsDto {
            offer_count: s.offer_count,
            hold_minutes: s.hold_minutes,
            max_holds_per_service: s.max_holds_per_service,
            max_entries_per_patient: s.max_entries_per_patient,
        }
    }
}

/// Saves the settings (admin), audited.
pub(super) async fn save_settings(
    state: &AppState,
    staff: &Caller,
    s: &WaitlistSettingsDto,
) -> Result<(), store::Error> {
    let mut tx = state.db.begin().await?;
    waitlist::set_settings(
        &mut tx,
        staff.org.id,
        &Settings {
            offer_count: s.offer_count,
            hold_minutes: s.hold_minutes,
            max_holds_per_service: s.max_holds_per_service,
            max_entries_per_patient: s.max_entries_per_patient,
        },
        staff.audit_actor(),
        state.clock.now_ns(),
    )
    .await?;
    tx.commit().await
}

/// Changes the settings (admin).
#[utoipa::path(put, path = "/api/v1/orgs/{slug}/waitlist/settings", tag = "waitlist",
    params(("slug" = String, Path, description = "The organisation")),
    request_body = WaitlistSettingsDto,
    responses((status = 200, body = WaitlistSettingsDto), (status = 403, description = "Not an admin")))]
pub(super) async fn settings_put(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    JsonBody(body): JsonBody<WaitlistSettingsDto>,
) -> Result<Json<WaitlistSettingsDto>, AppError> {
    staff.admin()?;
    save_settings(&state, &staff, &body).await?;
    state.mail.notify();
    Ok(Json(body))
}
