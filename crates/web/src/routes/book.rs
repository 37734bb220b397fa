//! The appointment book: day and week views per practitioner with availability drawn
//! behind the appointments, the staff booking form with its explicit override, moving
//! and cancelling; and the appointments API.
//!
//! Dates and times on these pages are read in a clinic's timezone: the clinic the book
//! is filtered by, else the practitioner's home clinic, else the organisation's first
//! clinic. Appointments are labelled in their own clinic's local time.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{Datelike, Duration, NaiveDate, SecondsFormat, TimeZone, Timelike};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use slot_engine::{Color, Instant, LocalTime, Zone};
use store::appointment::{self, Actor, Move, StaffBooking};
use store::book::{self, Backdrop, Choices, Entry, Range};
use store::staff::Role;
use store::{Conflict, Organisation};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::staff::{Staff, StaffApi, StaffPage};
use crate::error::{AppError, PageError};
use crate::form::{FieldErrors, FormData, JsonBody, PageQuery, QueryParams};
use crate::metrics::Metrics;
use crate::notices::AppointmentContext;
use crate::pages::Layout;
use crate::state::AppState;

/// The pages.
pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/o/{slug}/admin/book", get(book_page))
        .route("/o/{slug}/admin/book/colours.css", get(colours_css))
        .route("/o/{slug}/admin/book/new", get(new_page).post(new_submit))
        .route(
            "/o/{slug}/admin/book/appointments/{id}",
            get(appointment_page),
        )
        .route(
            "/o/{slug}/admin/book/appointments/{id}/move",
            post(move_submit),
        )
        .route(
            "/o/{slug}/admin/book/appointments/{id}/cancel",
            post(cancel_submit),
        )
}

/// The API.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, cancel))
        .routes(routes!(move_one))
}

// Time, read in clinics' timezones.

/// An instant in a zone.
pub(crate) fn local(ns: i64, tz: Tz) -> chrono::DateTime<Tz> {
    tz.from_utc_datetime(&chrono::DateTime::from_timestamp_nanos(ns).naive_utc())
}

/// `2026-03-02T09:00:00-05:00`: the instant in the clinic's offset, as the scenario
/// format writes slots.
pub(crate) fn rfc3339(ns: i64, tz: Tz) -> String {
    local(ns, tz).to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// `09:00–09:45`.
pub(crate) fn time_span(entry: &Entry) -> String {
    let tz = entry.zone();
    format!(
        "{}–{}",
        local(entry.start_ns, tz).format("%H:%M"),
        local(entry.end_ns, tz).format("%H:%M")
    )
}

/// `Mon 2 Mar 2026, 09:00–09:45`.
pub(crate) fn when(entry: &Entry) -> String {
    format!(
        "{}, {}",
        local(entry.start_ns, entry.zone()).format("%a %-d %b %Y"),
        time_span(entry)
    )
}

/// Today's date in a zone, by the organisation's clock.
pub(crate) fn today(state: &AppState, tz: Tz) -> NaiveDate {
    local(state.clock.now_ns(), tz).date_naive()
}

/// The first instant at or after the wall-clock `minute` of `date` in `tz` (midnight
/// does not exist on some spring-forward days).
fn local_ns(tz: Tz, date: NaiveDate, minute: u32) -> i64 {
    let midnight = date.and_hms_opt(0, 0, 0).expect("midnight is a time");
    (0..=16)
        .find_map(|k| {
            let at = midnight + Duration::minutes(i64::from(minute + 15 * k));
            tz.from_local_datetime(&at).earliest()
        })
        .and_then(|t| t.timestamp_nanos_opt())
        .unwrap_or_else(|| midnight.and_utc().timestamp_nanos_opt().unwrap_or_default())
}

/// A date field, `YYYY-MM-DD`, within the years the scenario format allows.
pub(crate) fn parse_date(value: &str) -> Result<NaiveDate, String> {
    let date = NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
        .map_err(|_| format!("{:?} is not a date (YYYY-MM-DD)", value.trim()))?;
    slot_engine::Date::try_from(date).map_err(|e| e.to_string())?;
    Ok(date)
}

/// A time field, `HH:MM` (browsers may add `:00` seconds): minutes after midnight.
pub(crate) fn parse_time(value: &str) -> Result<u32, String> {
    let value = value.trim();
    let hhmm = value
        .strip_suffix(":00")
        .filter(|v| v.len() == 5)
        .unwrap_or(value);
    let time: slot_engine::WallTime = hhmm
        .parse()
        .map_err(|_| format!("{value:?} is not a time (HH:MM)"))?;
    if time.minutes() >= 24 * 60 {
        return Err("must be before 24:00".to_owned());
    }
    Ok(time.minutes())
}

/// The instant a clinic's wall-clock `minute` of `date` reads as (the earlier one when
/// the clocks go back); an error naming the time when the clocks skip it.
pub(crate) fn resolve_local(
    timezone: &str,
    date: NaiveDate,
    minute: u32,
) -> Result<Instant, String> {
    let zone: Zone = timezone
        .parse()
        .map_err(|_| format!("unknown timezone {timezone:?}"))?;
    let day = slot_engine::Date::try_from(date).map_err(|e| e.to_string())?;
    match zone.resolve(day, minute) {
        LocalTime::Missing => Err(format!(
            "{:02}:{:02} does not exist on {date} in {timezone}: the clocks go forward then",
            minute / 60,
            minute % 60
        )),
        other => {
            let (seconds, _) = other.earliest().unwrap_or_default();
            Instant::from_unix_seconds(seconds).map_err(|e| e.to_string())
        }
    }
}

/// The timezone the book reads dates in: the clinic filtered by, else the
/// practitioner's home clinic, else the first clinic.
fn view_clinic(
    choices: &Choices,
    clinic: Option<i64>,
    practitioner: Option<i64>,
) -> Option<&store::clinic::Clinic> {
    clinic
        .and_then(|c| choices.clinic(c))
        .or_else(|| {
            practitioner
                .and_then(|p| choices.practitioner(p))
                .and_then(|p| choices.clinic(p.home_clinic_id))
        })
        .or_else(|| choices.clinics.first())
}

// The API's appointment.

/// An appointment, as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppointmentDto {
    /// Row id.
    pub id: i64,
    /// The practitioner.
    pub practitioner_id: i64,
    /// Their name.
    pub practitioner_name: String,
    /// The patient, if any.
    pub patient_id: Option<i64>,
    /// Their name.
    pub patient_name: Option<String>,
    /// The service, if any.
    pub service_id: Option<i64>,
    /// Its name.
    pub service_name: Option<String>,
    /// The schedule type holding it, when known.
    pub schedule_type_id: Option<i64>,
    /// Its name.
    pub schedule_type_name: Option<String>,
    /// The schedule type's background colour (`#rrggbb`).
    pub background_color: Option<String>,
    /// The schedule type's font colour.
    pub font_color: Option<String>,
    /// The clinic.
    pub clinic_id: i64,
    /// Its name.
    pub clinic_name: String,
    /// Its IANA timezone: `start` and `end` are written in its offset.
    pub timezone: String,
    /// Start, RFC 3339 in the clinic's offset.
    pub start: String,
    /// End.
    pub end: String,
    /// Length in minutes.
    pub duration_minutes: i64,
    /// `booked`, `pending`, `cancelled`, `completed` or `no_show`.
    pub status: String,
    /// `portal`, `staff` or `import`.
    pub channel: String,
    /// Why staff overrode a conflict, if they did.
    pub override_reason: Option<String>,
    /// The note given when accepting or declining.
    pub status_note: String,
    /// Who created it (`staff:3`, `patient:12`, `import`).
    pub created_by: String,
    /// Who changed it last.
    pub updated_by: String,
}

impl From<Entry> for AppointmentDto {
    fn from(e: Entry) -> Self {
        let tz = e.zone();
        AppointmentDto {
            id: e.id,
            practitioner_id: e.practitioner_id,
            practitioner_name: e.practitioner_name.clone(),
            patient_id: e.patient_id,
            patient_name: e.patient_name(),
            service_id: e.service_id,
            service_name: e.service_name.clone(),
            schedule_type_id: e.schedule_type_id,
            schedule_type_name: e.schedule_type_name.clone(),
            background_color: e.background_color.clone(),
            font_color: e.font_color.clone(),
            clinic_id: e.clinic_id,
            clinic_name: e.clinic_name.clone(),
            timezone: e.clinic_timezone.clone(),
            start: rfc3339(e.start_ns, tz),
            end: rfc3339(e.end_ns, tz),
            duration_minutes: e.duration_minutes(),
            status: e.status,
            channel: e.channel,
            override_reason: e.override_reason,
            status_note: e.status_note,
            created_by: e.created_by,
            updated_by: e.updated_by,
        }
    }
}

/// A staff booking.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateBody {
    /// The practitioner.
    pub practitioner: i64,
    /// The patient, if any.
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
}

/// Where to move an appointment.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MoveBody {
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
}

/// The query of the appointment list.
#[derive(Debug, Default, Deserialize)]
struct ListParams {
    from: Option<String>,
    to: Option<String>,
    practitioner: Option<String>,
    clinic: Option<String>,
    include_cancelled: Option<String>,
}

fn parse_id(field: &str, value: Option<&str>) -> Result<Option<i64>, AppError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .map(Some)
            .map_err(|_| AppError::invalid(field, format!("{v:?} is not an id"))),
    }
}

/// The practitioner a practitioner-role user may see; `None` for the front desk and
/// admins, who see everyone.
fn own_practitioner(staff: &Staff) -> Result<Option<i64>, AppError> {
    match staff.user.role() {
        Role::Practitioner => staff.user.practitioner_id.map(Some).ok_or_else(|| {
            AppError::Forbidden(
                "this account is not linked to a practitioner; ask an admin to link it".into(),
            )
        }),
        Role::Admin | Role::FrontDesk => Ok(None),
    }
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
           ("include_cancelled" = Option<bool>, Query, description = "Cancelled ones too")),
    responses((status = 200, body = [AppointmentDto]), (status = 401, description = "Not signed in"),
              (status = 403, description = "A practitioner asking for someone else's schedule"),
              (status = 422, description = "Invalid parameter")))]
async fn list(
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
    let tz = view_clinic(&choices, clinic, practitioner).map_or(chrono_tz::UTC, |c| c.zone());
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

async fn entry_of(state: &AppState, org: i64, id: i64) -> Result<Entry, store::Error> {
    let mut conn = state.db.conn().await?;
    book::entry(conn.exec(), org, id).await
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
async fn create(
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
        staff: staff.user.id,
        practitioner: body.practitioner,
        patient: body.patient,
        service: body.service,
        schedule_type: body.schedule_type,
        start: parse_instant("start", &body.start)?,
        duration_minutes: body.duration_minutes,
        override_reason: body.override_reason,
        idempotency_key,
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

/// Books through the store and counts the booking or the refusal for `/metrics`.
async fn book_counted(
    state: &AppState,
    org: &Organisation,
    booking: &StaffBooking,
) -> Result<appointment::Booked, store::Error> {
    let context = AppointmentContext::for_patient(
        state,
        org,
        booking.patient,
        booking.practitioner,
        booking.service,
    )
    .await?;
    let notify = |a: &appointment::Appointment| context.iter().map(|c| c.booked(a)).collect();
    let result = appointment::book_staff_notify(
        &state.db,
        org,
        booking,
        state.clock.as_ref(),
        Some(&notify),
    )
    .await;
    match &result {
        Ok(b) if !b.replayed => {
            Metrics::inc(&state.metrics.bookings);
            state.mail.notify();
        }
        Err(store::Error::Conflict(_)) => Metrics::inc(&state.metrics.booking_conflicts),
        _ => {}
    }
    result
}

/// Cancels for staff, telling the patient (with the calendar cancellation).
async fn cancel_telling_patient(
    state: &AppState,
    staff: &Staff,
    id: i64,
) -> Result<appointment::Appointment, store::Error> {
    let context = AppointmentContext::for_appointment(state, &staff.org, id, None).await?;
    let notify = |a: &appointment::Appointment| context.iter().map(|c| c.cancelled(a)).collect();
    let cancelled = appointment::cancel_notify(
        &state.db,
        &staff.org,
        id,
        Actor::Staff(staff.user.id),
        state.clock.as_ref(),
        Some(&notify),
    )
    .await?;
    state.mail.notify();
    Ok(cancelled)
}

/// Moves for staff, telling the patient (with the updated calendar invitation).
async fn move_telling_patient(
    state: &AppState,
    org: &Organisation,
    m: &Move,
) -> Result<appointment::Appointment, store::Error> {
    let context =
        AppointmentContext::for_appointment(state, org, m.appointment, m.practitioner).await?;
    let notify = |a: &appointment::Appointment| context.iter().map(|c| c.moved(a)).collect();
    let moved =
        appointment::reschedule_notify(&state.db, org, m, state.clock.as_ref(), Some(&notify))
            .await?;
    state.mail.notify();
    Ok(moved)
}

/// One appointment (a practitioner sees only their own).
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/appointments/{id}", tag = "appointments",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The appointment")),
    responses((status = 200, body = AppointmentDto), (status = 404, description = "No such appointment in this organisation")))]
async fn get_one(
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

/// Cancels an appointment (front desk); the audit log records who.
#[utoipa::path(delete, path = "/api/v1/orgs/{slug}/appointments/{id}", tag = "appointments",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The appointment")),
    responses((status = 200, body = AppointmentDto, description = "Cancelled"),
              (status = 404, description = "No such appointment in this organisation"),
              (status = 422, description = "Already cancelled, completed or a no-show")))]
async fn cancel(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<Json<AppointmentDto>, AppError> {
    let id = path.1;
    staff.front_desk()?;
    cancel_telling_patient(&state, &staff, id).await?;
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
async fn move_one(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
    JsonBody(body): JsonBody<MoveBody>,
) -> Result<Json<AppointmentDto>, AppError> {
    let id = path.1;
    staff.front_desk()?;
    let m = Move {
        staff: staff.user.id,
        appointment: id,
        start: parse_instant("start", &body.start)?,
        practitioner: body.practitioner,
        duration_minutes: body.duration_minutes,
        override_reason: body.override_reason,
    };
    move_telling_patient(&state, &staff.org, &m).await?;
    Ok(Json(entry_of(&state, staff.org.id, id).await?.into()))
}

// The book page.

#[derive(Debug, Default, Deserialize)]
struct BookParams {
    view: Option<String>,
    date: Option<String>,
    clinic: Option<String>,
    practitioner: Option<String>,
    cancelled: Option<String>,
    notice: Option<String>,
    appointment: Option<String>,
}

/// What the book shows and how: the filters, carried by every link.
#[derive(Clone, Debug)]
struct View {
    slug: String,
    week: bool,
    date: NaiveDate,
    clinic: Option<i64>,
    practitioner: Option<i64>,
    cancelled: bool,
}

impl View {
    fn link_to(&self, week: bool, date: Option<NaiveDate>) -> String {
        let mut url = format!(
            "/o/{}/admin/book?view={}",
            self.slug,
            if week { "week" } else { "day" }
        );
        if let Some(d) = date {
            url.push_str(&format!("&date={d}"));
        }
        if let Some(c) = self.clinic {
            url.push_str(&format!("&clinic={c}"));
        }
        if let Some(p) = self.practitioner {
            url.push_str(&format!("&practitioner={p}"));
        }
        if self.cancelled {
            url.push_str("&cancelled=1");
        }
        url
    }

    /// The dates shown: the day, or Monday to Sunday of its week.
    fn dates(&self) -> Vec<NaiveDate> {
        if self.week {
            let monday =
                self.date - Duration::days(i64::from(self.date.weekday().num_days_from_monday()));
            (0..7).map(|n| monday + Duration::days(n)).collect()
        } else {
            vec![self.date]
        }
    }
}

/// A date heading of the week view.
#[derive(Debug)]
struct DayHeader {
    label: String,
    span: usize,
    notes: Vec<String>,
}

/// A column: one practitioner on one date.
#[derive(Debug)]
struct Column {
    date: NaiveDate,
    date_label: String,
    practitioner_id: i64,
    name: String,
    new_link: String,
    notes: Vec<String>,
}

/// One appointment in the grid.
#[derive(Debug, Clone)]
struct Item {
    link: String,
    class: String,
    time: String,
    patient: String,
    what: String,
    clinic: String,
    status: String,
    cancelled: bool,
    highlight: bool,
}

/// A cell of the grid: free time (its class tells availability), or appointments
/// spanning `rowspan` rows.
#[derive(Debug)]
struct Cell {
    class: String,
    title: String,
    rowspan: usize,
    items: Vec<Item>,
}

/// A row of the grid.
#[derive(Debug)]
struct Row {
    label: String,
    hour: bool,
    cells: Vec<Cell>,
}

/// A link in the list under the grid.
#[derive(Debug)]
struct Listed {
    date: String,
    practitioner: String,
    item: Item,
}

/// A legend entry.
#[derive(Debug)]
struct Legend {
    id: i64,
    name: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/book.html")]
struct BookPage {
    layout: Layout,
    choices: Choices,
    can_book: bool,
    is_practitioner: bool,
    week: bool,
    date: String,
    clinic: i64,
    practitioner: i64,
    cancelled: bool,
    heading: String,
    timezone: String,
    notice: Option<String>,
    prev: String,
    next: String,
    today_link: String,
    day_link: String,
    week_link: String,
    new_link: String,
    days: Vec<DayHeader>,
    columns: Vec<Column>,
    rows: Vec<Row>,
    listed: Vec<Listed>,
    legend: Vec<Legend>,
}

/// Minutes of wall-clock time on `date` in `tz` at which an instant reads (may be
/// negative or past 1440 for instants on other dates); rounded up for ends.
fn wall_minutes(ns: i64, tz: Tz, date: NaiveDate, round_up: bool) -> i64 {
    let t = local(ns, tz);
    let days = (t.date_naive() - date).num_days();
    let mut minutes = days * 1440 + i64::from(t.hour()) * 60 + i64::from(t.minute());
    if round_up && (t.second() > 0 || t.nanosecond() > 0) {
        minutes += 1;
    }
    minutes
}

/// A stretch of wall-clock minutes of one column, clipped to its date.
fn clip(start_ns: i64, end_ns: i64, tz: Tz, date: NaiveDate) -> Option<(i64, i64)> {
    let a = wall_minutes(start_ns, tz, date, false).max(0);
    let b = wall_minutes(end_ns, tz, date, true).min(1440);
    (b > a).then_some((a, b))
}

/// The rows' length: a quarter hour, or finer when the organisation's slot step needs it.
fn row_minutes(org: &Organisation) -> i64 {
    match org.slot_step_minutes {
        s if s % 15 == 0 => 15,
        s if s % 10 == 0 => 10,
        _ => 5,
    }
}

fn item_of(
    entry: &Entry,
    class: String,
    can_open: bool,
    slug: &str,
    highlight: Option<i64>,
    clinics: usize,
) -> Item {
    Item {
        link: if can_open {
            format!("/o/{slug}/admin/book/appointments/{}", entry.id)
        } else {
            String::new()
        },
        class,
        time: time_span(entry),
        patient: entry
            .patient_name()
            .unwrap_or_else(|| "No patient".to_owned()),
        what: entry
            .service_name
            .clone()
            .or_else(|| entry.schedule_type_name.clone())
            .unwrap_or_default(),
        clinic: if clinics > 1 {
            entry.clinic_name.clone()
        } else {
            String::new()
        },
        status: entry.status.replace('_', "-"),
        cancelled: !entry.is_active(),
        highlight: highlight == Some(entry.id),
    }
}

#[allow(clippy::too_many_arguments)]
fn build_grid(
    view: &View,
    org: &Organisation,
    choices: &Choices,
    tz: Tz,
    practitioners: &[i64],
    entries: &[Entry],
    backdrop: &Backdrop,
    can_book: bool,
    highlight: Option<i64>,
) -> (Vec<DayHeader>, Vec<Column>, Vec<Row>, Vec<Listed>) {
    let names: HashMap<i64, &str> = choices
        .schedule_types
        .iter()
        .map(|t| (t.id, t.name.as_str()))
        .collect();
    let clinic_names: HashMap<i64, &str> = choices
        .clinics
        .iter()
        .map(|c| (c.id, c.name.as_str()))
        .collect();
    let dates = view.dates();
    let mut columns = Vec::new();
    let mut days = Vec::new();
    for &date in &dates {
        let date_text = date.to_string();
        let holidays: Vec<String> = backdrop
            .holidays
            .iter()
            .filter(|h| h.date.to_string() == date_text)
            .filter(|h| view.clinic.is_none_or(|c| c == h.clinic_id))
            .map(|h| {
                format!(
                    "{} closed (holiday)",
                    clinic_names
                        .get(&h.clinic_id)
                        .copied()
                        .unwrap_or("A clinic")
                )
            })
            .collect();
        days.push(DayHeader {
            label: date.format("%a %-d %b").to_string(),
            span: practitioners.len(),
            notes: holidays,
        });
        for &p in practitioners {
            let name = choices
                .practitioner(p)
                .map_or_else(String::new, |c| c.name.clone());
            let mut new_link = String::new();
            if can_book {
                new_link = format!(
                    "/o/{}/admin/book/new?practitioner={p}&date={date}",
                    view.slug
                );
                if let Some(c) = view.clinic {
                    new_link.push_str(&format!("&clinic={c}"));
                }
            }
            columns.push(Column {
                date,
                date_label: date.format("%a %-d %b").to_string(),
                practitioner_id: p,
                name,
                new_link,
                notes: Vec::new(),
            });
        }
    }

    // Each column's availability, time off and appointments in wall-clock minutes.
    struct Stretch {
        a: i64,
        b: i64,
        schedule_type: i64,
        clinic: i64,
        online: bool,
    }
    struct Placed<'e> {
        a: i64,
        b: i64,
        entry: &'e Entry,
    }
    let mut stretches: Vec<Vec<Stretch>> = Vec::with_capacity(columns.len());
    let mut offs: Vec<Vec<(i64, i64)>> = Vec::with_capacity(columns.len());
    let mut placed: Vec<Vec<Placed<'_>>> = Vec::with_capacity(columns.len());
    for c in &columns {
        stretches.push(
            backdrop
                .blocks
                .iter()
                .filter(|b| b.practitioner_id == c.practitioner_id)
                .filter(|b| view.clinic.is_none_or(|clinic| clinic == b.clinic_id))
                .filter_map(|b| {
                    clip(b.start_ns, b.end_ns, tz, c.date).map(|(a, e)| Stretch {
                        a,
                        b: e,
                        schedule_type: b.schedule_type_id,
                        clinic: b.clinic_id,
                        online: b.online,
                    })
                })
                .collect(),
        );
        offs.push(
            backdrop
                .time_off
                .iter()
                .filter(|t| t.practitioner_id == c.practitioner_id)
                .filter_map(|t| clip(t.start_ns, t.end_ns, tz, c.date))
                .collect(),
        );
        placed.push(
            entries
                .iter()
                .filter(|e| e.practitioner_id == c.practitioner_id)
                .filter_map(|e| {
                    clip(e.start_ns, e.end_ns, tz, c.date).map(|(a, b)| Placed { a, b, entry: e })
                })
                .collect(),
        );
    }

    // The hours shown: every block and appointment, at least 08:00 to 18:00 when there
    // is nothing to show, in whole hours.
    let step = row_minutes(org);
    let mut first = i64::MAX;
    let mut last = i64::MIN;
    for (s, p) in stretches.iter().zip(&placed) {
        for x in s {
            first = first.min(x.a);
            last = last.max(x.b);
        }
        for x in p {
            first = first.min(x.a);
            last = last.max(x.b);
        }
    }
    if first > last {
        (first, last) = (8 * 60, 18 * 60);
    }
    let first = first - first % 60;
    let last = (last + 59) / 60 * 60;
    let rows_count = usize::try_from((last - first) / step).unwrap_or(0);
    let row_of = |minute: i64| -> usize {
        usize::try_from((minute - first).div_euclid(step))
            .unwrap_or(0)
            .min(rows_count)
    };
    let row_end = |minute: i64| -> usize {
        usize::try_from((minute - first + step - 1).div_euclid(step))
            .unwrap_or(0)
            .min(rows_count)
    };

    let mut grid: Vec<Vec<Option<Cell>>> = Vec::with_capacity(columns.len());
    let mut listed = Vec::new();
    for (ci, c) in columns.iter_mut().enumerate() {
        let mut cells: Vec<Option<Cell>> = Vec::with_capacity(rows_count);
        // Appointments that share a row are drawn in one cell, stacked, so a
        // double-booking is visible rather than hidden behind another.
        let mut items: Vec<(usize, usize, &Entry)> = placed[ci]
            .iter()
            .map(|p| {
                let start = row_of(p.a);
                (start, row_end(p.b).max(start + 1).min(rows_count), p.entry)
            })
            .collect();
        items.sort_by_key(|(start, _, e)| (*start, e.start_ns, e.id));
        let mut groups: Vec<(usize, usize, Vec<&Entry>)> = Vec::new();
        for (start, end, entry) in items {
            match groups.last_mut() {
                Some((_, group_end, members)) if start < *group_end => {
                    *group_end = (*group_end).max(end);
                    members.push(entry);
                }
                _ => groups.push((start, end, vec![entry])),
            }
        }
        let mut holidays_here: Vec<i64> = Vec::new();
        let date_text = c.date.to_string();
        for s in &stretches[ci] {
            let closed = backdrop
                .holidays
                .iter()
                .any(|h| h.clinic_id == s.clinic && h.date.to_string() == date_text);
            if closed && !holidays_here.contains(&s.clinic) {
                holidays_here.push(s.clinic);
            }
        }
        for clinic in &holidays_here {
            c.notes.push(format!(
                "{} closed (holiday)",
                clinic_names.get(clinic).copied().unwrap_or("The clinic")
            ));
        }
        let mut next_group = 0;
        let mut row = 0;
        while row < rows_count {
            if let Some((start, end, members)) = groups.get(next_group)
                && *start == row
            {
                let mut cell_items = Vec::with_capacity(members.len());
                for entry in members {
                    let schedule_type = entry.schedule_type_id.or_else(|| {
                        // An appointment booked without a schedule type takes the colour
                        // of the availability it sits in.
                        let at = wall_minutes(entry.start_ns, tz, c.date, false);
                        stretches[ci]
                            .iter()
                            .find(|s| !s.online && s.a <= at && at < s.b)
                            .map(|s| s.schedule_type)
                    });
                    let class =
                        schedule_type.map_or_else(|| "st-none".to_owned(), |t| format!("st-{t}"));
                    let item = item_of(
                        entry,
                        class,
                        can_book,
                        &view.slug,
                        highlight,
                        choices.clinics.len(),
                    );
                    listed.push(Listed {
                        date: c.date_label.clone(),
                        practitioner: c.name.clone(),
                        item: item.clone(),
                    });
                    cell_items.push(item);
                }
                cells.push(Some(Cell {
                    class: String::new(),
                    title: String::new(),
                    rowspan: end - start,
                    items: cell_items,
                }));
                for _ in row + 1..*end {
                    cells.push(None);
                }
                row = *end;
                next_group += 1;
                continue;
            }
            let minute = first + i64::try_from(row).unwrap_or(0) * step;
            let covering = stretches[ci]
                .iter()
                .find(|s| !s.online && s.a <= minute && minute < s.b);
            let online = stretches[ci]
                .iter()
                .any(|s| s.online && s.a <= minute && minute < s.b);
            let off = offs[ci].iter().any(|&(a, b)| a <= minute && minute < b);
            let (class, title) = if off {
                ("off".to_owned(), "Time off".to_owned())
            } else if let Some(s) = covering {
                let name = names.get(&s.schedule_type).copied().unwrap_or("");
                if holidays_here.contains(&s.clinic) {
                    (
                        format!("av av-{} holiday", s.schedule_type),
                        format!("{name} (holiday)"),
                    )
                } else if online {
                    (
                        format!("av av-{} online", s.schedule_type),
                        format!("{name} (online)"),
                    )
                } else {
                    (format!("av av-{}", s.schedule_type), name.to_owned())
                }
            } else {
                (String::new(), String::new())
            };
            cells.push(Some(Cell {
                class,
                title,
                rowspan: 1,
                items: Vec::new(),
            }));
            row += 1;
        }
        grid.push(cells);
    }
    let rows = (0..rows_count)
        .map(|r| {
            let minute = first + i64::try_from(r).unwrap_or(0) * step;
            Row {
                label: format!("{:02}:{:02}", minute / 60, minute % 60),
                hour: minute % 60 == 0,
                cells: grid
                    .iter_mut()
                    .filter_map(|column| column.get_mut(r).and_then(Option::take))
                    .collect(),
            }
        })
        .collect();
    (days, columns, rows, listed)
}

async fn book_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    PageQuery(q): PageQuery<BookParams>,
) -> Result<BookPage, PageError> {
    let own = own_practitioner(&staff)?;
    let mut conn = state.db.conn().await?;
    let choices = book::choices(conn.exec(), staff.org.id).await?;
    let clinic = parse_id("clinic", q.clinic.as_deref())?;
    if clinic.is_some_and(|c| choices.clinic(c).is_none()) {
        return Err(AppError::NotFound("clinic".into()).into());
    }
    let mut practitioner = parse_id("practitioner", q.practitioner.as_deref())?;
    if practitioner.is_some_and(|p| choices.practitioner(p).is_none()) {
        return Err(AppError::NotFound("practitioner".into()).into());
    }
    if own.is_some() {
        practitioner = own;
    }
    let clinic_row = view_clinic(&choices, clinic, practitioner);
    let tz = clinic_row.map_or(chrono_tz::UTC, |c| c.zone());
    let timezone = clinic_row.map_or_else(|| "UTC".to_owned(), |c| c.timezone.clone());
    let now_date = today(&state, tz);
    let date = match q.date.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => parse_date(d).map_err(|m| AppError::invalid("date", m))?,
        None => now_date,
    };
    let week = match q.view.as_deref() {
        None | Some("" | "day") => false,
        Some("week") => true,
        Some(other) => {
            return Err(AppError::invalid("view", format!("{other:?} is not day or week")).into());
        }
    };
    let view = View {
        slug: staff.org.slug.clone(),
        week,
        date,
        clinic,
        practitioner,
        cancelled: q
            .cancelled
            .as_deref()
            .is_some_and(|v| !v.is_empty() && v != "0"),
    };
    let dates = view.dates();
    let (first, last) = (dates[0], dates[dates.len() - 1]);
    let entries = book::in_range(
        conn.exec(),
        &staff.org,
        &Range {
            from_ns: local_ns(tz, first, 0),
            to_ns: local_ns(tz, last + Duration::days(1), 0),
            practitioner,
            clinic,
            include_cancelled: view.cancelled,
        },
    )
    .await?;
    let to_engine = |d: NaiveDate| {
        slot_engine::Date::try_from(d).map_err(|e| AppError::invalid("date", e.to_string()))
    };
    let backdrop = book::backdrop(
        &mut conn.exec(),
        &staff.org,
        practitioner.map(|p| vec![p]),
        to_engine(first)?,
        to_engine(last)?,
    )
    .await?;
    // The columns: the practitioner asked for; else everyone active, and anyone with an
    // appointment shown; at one clinic, those who work or have appointments there.
    let practitioners: Vec<i64> = match practitioner {
        Some(p) => vec![p],
        None => choices
            .practitioners
            .iter()
            .filter(|p| {
                let booked = entries.iter().any(|e| e.practitioner_id == p.id);
                let here = match clinic {
                    None => true,
                    Some(c) => {
                        p.home_clinic_id == c
                            || backdrop
                                .blocks
                                .iter()
                                .any(|b| b.practitioner_id == p.id && b.clinic_id == c)
                    }
                };
                booked || (p.active && here)
            })
            .map(|p| p.id)
            .collect(),
    };
    let can_book = own.is_none();
    let highlight = parse_id("appointment", q.appointment.as_deref())?;
    let (days, columns, rows, listed) = build_grid(
        &view,
        &staff.org,
        &choices,
        tz,
        &practitioners,
        &entries,
        &backdrop,
        can_book,
        highlight,
    );
    let notice = match (q.notice.as_deref(), highlight) {
        (Some(kind @ ("booked" | "moved" | "cancelled")), Some(id)) => {
            match book::entry(conn.exec(), staff.org.id, id).await {
                Ok(e) => Some(format!(
                    "{} {} with {}, {}.",
                    match kind {
                        "booked" => "Booked:",
                        "moved" => "Moved:",
                        _ => "Cancelled:",
                    },
                    e.patient_name().unwrap_or_else(|| "no patient".to_owned()),
                    e.practitioner_name,
                    when(&e)
                )),
                Err(store::Error::NotFound(_)) => None,
                Err(e) => return Err(e.into()),
            }
        }
        _ => None,
    };
    let mut legend: Vec<Legend> = Vec::new();
    for t in &choices.schedule_types {
        let used = backdrop.blocks.iter().any(|b| b.schedule_type_id == t.id)
            || entries.iter().any(|e| e.schedule_type_id == Some(t.id));
        if used {
            legend.push(Legend {
                id: t.id,
                name: t.name.clone(),
            });
        }
    }
    let heading = if week {
        format!("Week of {}", dates[0].format("%A %-d %B %Y"))
    } else {
        date.format("%A %-d %B %Y").to_string()
    };
    let shift = if week { 7 } else { 1 };
    let mut new_link = format!("/o/{}/admin/book/new?date={date}", staff.org.slug);
    if let Some(p) = practitioner {
        new_link.push_str(&format!("&practitioner={p}"));
    }
    if let Some(c) = clinic {
        new_link.push_str(&format!("&clinic={c}"));
    }
    Ok(BookPage {
        layout: Layout::staff(&staff, "Appointment book", "book").await?,
        can_book,
        is_practitioner: own.is_some(),
        week,
        date: date.to_string(),
        clinic: clinic.unwrap_or(0),
        practitioner: practitioner.unwrap_or(0),
        cancelled: view.cancelled,
        heading,
        timezone,
        notice,
        prev: view.link_to(week, Some(date - Duration::days(shift))),
        next: view.link_to(week, Some(date + Duration::days(shift))),
        today_link: view.link_to(week, None),
        day_link: view.link_to(false, Some(date)),
        week_link: view.link_to(true, Some(date)),
        new_link,
        days,
        columns,
        rows,
        listed,
        legend,
        choices,
    })
}

/// `#rrggbb` mixed toward white (`toward` 255) or black (0) by `amount` (0..=1).
fn mix(color: Color, toward: u8, amount: f64) -> String {
    let [r, g, b] = color.0.map(|c| {
        let c = f64::from(c);
        (c + (f64::from(toward) - c) * amount)
            .round()
            .clamp(0.0, 255.0) as u8
    });
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// The schedule types' colours as classes: the page's content security policy allows
/// no inline styles, so the book links this stylesheet. Appointments take the schedule
/// type's background and font colours; availability a light tint of the background,
/// with a darker edge where patients may book online.
async fn colours_css(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
) -> Result<Response, PageError> {
    let mut conn = state.db.conn().await?;
    let choices = book::choices(conn.exec(), staff.org.id).await?;
    let mut css = String::from("/* Schedule type colours of this organisation. */\n");
    for t in &choices.schedule_types {
        // Stored colours are validated, but a stylesheet is no place to trust them.
        let (Ok(bg), Ok(fg)) = (
            t.background_color.parse::<Color>(),
            t.font_color.parse::<Color>(),
        ) else {
            continue;
        };
        css.push_str(&format!(
            ".st-{id}{{background-color:{bg};color:{fg};border-color:{fg}}}\n\
             td.av-{id}{{background-color:{tint}}}\n\
             td.av-{id}.online{{box-shadow:inset .35rem 0 0 {dark}}}\n",
            id = t.id,
            tint = mix(bg, 255, 0.5),
            dark = mix(bg, 0, 0.35),
        ));
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "private, no-cache"),
        ],
        css,
    )
        .into_response())
}

// The staff booking form.

/// An option of a select.
#[derive(Debug)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

/// What the booking form holds, as typed.
#[derive(Clone, Debug, Default)]
struct BookingValues {
    practitioner: String,
    patient: String,
    patient_q: String,
    service: String,
    schedule_type: String,
    date: String,
    time: String,
    duration_minutes: String,
    duration_default: String,
    clinic: String,
    override_checked: bool,
    override_reason: String,
    idempotency_key: String,
}

impl BookingValues {
    fn from_form(form: &FormData) -> Self {
        BookingValues {
            practitioner: form.get("practitioner"),
            patient: form.get("patient"),
            patient_q: form.get("patient_q"),
            service: form.get("service"),
            schedule_type: form.get("schedule_type"),
            date: form.get("date"),
            time: form.get("time"),
            duration_minutes: form.get("duration_minutes"),
            duration_default: form.get("duration_default"),
            clinic: form.get("clinic"),
            override_checked: form.checked("override"),
            override_reason: form.get("override_reason"),
            idempotency_key: form.get("idempotency_key"),
        }
    }
}

/// The default length for the service or schedule type chosen, as the store would
/// take it.
fn default_duration(choices: &Choices, values: &BookingValues) -> Option<i64> {
    let id = |v: &str| v.parse::<i64>().ok();
    id(&values.service)
        .and_then(|s| choices.service(s))
        .map(|s| s.duration_minutes)
        .or_else(|| {
            id(&values.schedule_type)
                .and_then(|t| choices.schedule_type(t))
                .map(|t| t.default_duration_minutes)
        })
}

/// Prefills the length with the default unless staff changed it: the form has no
/// script, so the default shown last time travels in a hidden field.
fn refresh_duration(choices: &Choices, values: &mut BookingValues) {
    let untouched =
        values.duration_minutes.is_empty() || values.duration_minutes == values.duration_default;
    if let Some(d) = default_duration(choices, values) {
        if untouched {
            values.duration_minutes = d.to_string();
        }
        values.duration_default = d.to_string();
    } else {
        values.duration_default.clear();
    }
}

/// The clinic whose timezone reads the booking form's date and time: the schedule
/// type's, else the book's clinic filter, else the practitioner's home clinic.
fn form_clinic<'c>(
    choices: &'c Choices,
    values: &BookingValues,
) -> Option<&'c store::clinic::Clinic> {
    let id = |v: &str| v.parse::<i64>().ok();
    id(&values.schedule_type)
        .and_then(|t| choices.schedule_type(t))
        .and_then(|t| t.clinic_id)
        .or_else(|| id(&values.clinic))
        .or_else(|| {
            id(&values.practitioner)
                .and_then(|p| choices.practitioner(p))
                .map(|p| p.home_clinic_id)
        })
        .and_then(|c| choices.clinic(c))
        .or_else(|| choices.clinics.first())
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/book_form.html")]
struct BookingForm {
    layout: Layout,
    values: BookingValues,
    practitioners: Vec<Choice>,
    patients: Vec<Choice>,
    services: Vec<Choice>,
    schedule_types: Vec<Choice>,
    searched: bool,
    timezone: String,
    errors: FieldErrors,
    reasons: Vec<String>,
}

fn options(items: impl Iterator<Item = (i64, String)>, selected: &str) -> Vec<Choice> {
    items
        .map(|(id, label)| Choice {
            selected: id.to_string() == selected,
            value: id.to_string(),
            label,
        })
        .collect()
}

async fn booking_form(
    state: &AppState,
    staff: &Staff,
    choices: &Choices,
    values: BookingValues,
    errors: FieldErrors,
    reasons: Vec<String>,
) -> Result<BookingForm, PageError> {
    let mut conn = state.db.conn().await?;
    let mut patients: Vec<store::patient::Patient> = Vec::new();
    if let Ok(id) = values.patient.parse::<i64>() {
        match store::patient::get(conn.exec(), staff.org.id, id).await {
            Ok(p) => patients.push(p),
            Err(store::Error::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let searched = !values.patient_q.is_empty();
    if searched {
        let found = store::patient::search(conn.exec(), staff.org.id, &values.patient_q, 50)
            .await
            .map_err(|e| match e {
                store::Error::Invalid { message, .. } => AppError::invalid("patient_q", message),
                other => other.into(),
            })?;
        for p in found {
            if !patients.iter().any(|q| q.id == p.id) {
                patients.push(p);
            }
        }
    }
    let timezone = form_clinic(choices, &values).map_or_else(
        || "UTC".to_owned(),
        |c| format!("{} ({})", c.name, c.timezone),
    );
    Ok(BookingForm {
        layout: Layout::staff(staff, "New booking", "book").await?,
        practitioners: options(
            choices.practitioners.iter().map(|p| {
                (
                    p.id,
                    if p.active {
                        p.name.clone()
                    } else {
                        format!("{} (inactive)", p.name)
                    },
                )
            }),
            &values.practitioner,
        ),
        patients: options(
            patients
                .iter()
                .map(|p| (p.id, format!("{} · {}", p.full_name(), p.email))),
            &values.patient,
        ),
        services: options(
            choices
                .services
                .iter()
                .map(|s| (s.id, format!("{} ({} min)", s.name, s.duration_minutes))),
            &values.service,
        ),
        schedule_types: options(
            choices.schedule_types.iter().map(|t| {
                (
                    t.id,
                    format!("{} ({} min)", t.name, t.default_duration_minutes),
                )
            }),
            &values.schedule_type,
        ),
        searched,
        timezone,
        values,
        errors,
        reasons,
    })
}

#[derive(Debug, Default, Deserialize)]
struct NewParams {
    practitioner: Option<String>,
    patient: Option<String>,
    service: Option<String>,
    schedule_type: Option<String>,
    date: Option<String>,
    time: Option<String>,
    clinic: Option<String>,
}

async fn new_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    PageQuery(q): PageQuery<NewParams>,
) -> Result<BookingForm, PageError> {
    staff.front_desk()?;
    let mut conn = state.db.conn().await?;
    let choices = book::choices(conn.exec(), staff.org.id).await?;
    drop(conn);
    let mut values = BookingValues {
        practitioner: q.practitioner.unwrap_or_default(),
        patient: q.patient.unwrap_or_default(),
        service: q.service.unwrap_or_default(),
        schedule_type: q.schedule_type.unwrap_or_default(),
        date: q.date.unwrap_or_default(),
        time: q.time.unwrap_or_default(),
        clinic: q.clinic.unwrap_or_default(),
        // One key per form shown: a second click or a resubmitted page books once.
        idempotency_key: crate::auth::csrf::random_token(),
        ..BookingValues::default()
    };
    if values.date.is_empty() {
        let tz = form_clinic(&choices, &values).map_or(chrono_tz::UTC, |c| c.zone());
        values.date = today(&state, tz).to_string();
    }
    refresh_duration(&choices, &mut values);
    booking_form(
        &state,
        &staff,
        &choices,
        values,
        FieldErrors::new(),
        Vec::new(),
    )
    .await
}

/// An optional id field of a form; an error names the field when it is not an id.
fn form_id(errors: &mut FieldErrors, value: &str, field: &str) -> Option<i64> {
    if value.is_empty() {
        return None;
    }
    match value.parse::<i64>() {
        Ok(id) => Some(id),
        Err(_) => {
            errors.add(field, "choose one from the list");
            None
        }
    }
}

/// The date and time fields, read in `timezone`.
fn form_start(errors: &mut FieldErrors, date: &str, time: &str, timezone: &str) -> Option<Instant> {
    let date = match parse_date(date) {
        Ok(d) => Some(d),
        Err(m) => {
            errors.add("date", m);
            None
        }
    };
    let minute = match parse_time(time) {
        Ok(m) => Some(m),
        Err(m) => {
            errors.add("time", m);
            None
        }
    };
    let (date, minute) = (date?, minute?);
    match resolve_local(timezone, date, minute) {
        Ok(i) => Some(i),
        Err(m) => {
            errors.add("time", m);
            None
        }
    }
}

/// The length field: `None` when empty.
fn form_duration(errors: &mut FieldErrors, value: &str) -> Option<u32> {
    if value.is_empty() {
        return None;
    }
    match value.parse::<u32>() {
        Ok(d) if (1..=1440).contains(&d) => Some(d),
        _ => {
            errors.add(
                "duration_minutes",
                "must be a whole number of minutes from 1 to 1440",
            );
            None
        }
    }
}

/// The override fields: a reason (possibly empty, which the store refuses naming the
/// field) only when staff ticked the override.
fn form_override(form: &FormData) -> Option<String> {
    form.checked("override")
        .then(|| form.get("override_reason"))
}

/// Maps a store error to the form: a field message, the reasons that need an override,
/// or the error page. When the override itself is refused (no reason given), the
/// reasons shown before come back from the form, so staff still read what they
/// override.
fn absorb_booking_error(
    errors: &mut FieldErrors,
    reasons: &mut Vec<String>,
    form: &FormData,
    e: store::Error,
) -> Result<StatusCode, PageError> {
    if matches!(&e, store::Error::Invalid { field, .. } if field == "override_reason") {
        *reasons = form.all("reason");
    }
    match e {
        store::Error::Conflict(Conflict::NeedsOverride { reasons: r }) => {
            *reasons = r;
            Ok(StatusCode::CONFLICT)
        }
        store::Error::NotFound(
            what @ ("practitioner" | "patient" | "service" | "schedule type"),
        ) => {
            errors.add(what.replace(' ', "_"), format!("no such {what} here"));
            Ok(StatusCode::UNPROCESSABLE_ENTITY)
        }
        other => {
            errors.absorb(other)?;
            Ok(StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

async fn new_submit(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    form: FormData,
) -> Result<Response, PageError> {
    staff.front_desk()?;
    let mut conn = state.db.conn().await?;
    let choices = book::choices(conn.exec(), staff.org.id).await?;
    drop(conn);
    let mut values = BookingValues::from_form(&form);
    if form.get("action") == "find" {
        // Searching patients (or updating the default length) books nothing.
        refresh_duration(&choices, &mut values);
        return Ok(booking_form(
            &state,
            &staff,
            &choices,
            values,
            FieldErrors::new(),
            Vec::new(),
        )
        .await?
        .into_response());
    }
    let mut errors = FieldErrors::new();
    let practitioner = match form_id(&mut errors, &values.practitioner, "practitioner") {
        Some(p) => Some(p),
        None => {
            errors.add("practitioner", "choose a practitioner");
            None
        }
    };
    let patient = form_id(&mut errors, &values.patient, "patient");
    let service = form_id(&mut errors, &values.service, "service");
    let schedule_type = form_id(&mut errors, &values.schedule_type, "schedule_type");
    // The hidden clinic only chooses the timezone the date and time are read in; one
    // of another organisation would silently fall back to another zone, so it is
    // refused like any other id of the form. The form shown again drops it (staff
    // cannot edit a hidden field), so sending it again reads the default zone.
    if form_id(&mut errors, &values.clinic, "clinic").is_some_and(|c| choices.clinic(c).is_none()) {
        errors.add("clinic", "choose one of this organisation's clinics");
        values.clinic.clear();
    }
    let mut duration = form_duration(&mut errors, &values.duration_minutes);
    // A length still equal to the default shown is the default: the store takes the
    // service's (or schedule type's) current one, even if staff changed the service.
    if (service.is_some() || schedule_type.is_some())
        && values.duration_minutes == values.duration_default
    {
        duration = None;
    }
    let timezone =
        form_clinic(&choices, &values).map_or_else(|| "UTC".to_owned(), |c| c.timezone.clone());
    let start = form_start(&mut errors, &values.date, &values.time, &timezone);
    let mut reasons = Vec::new();
    let status = match (practitioner, start) {
        (Some(practitioner), Some(start)) if errors.is_empty() => {
            let booking = StaffBooking {
                staff: staff.user.id,
                practitioner,
                patient,
                service,
                schedule_type,
                start,
                duration_minutes: duration,
                override_reason: form_override(&form),
                idempotency_key: Some(values.idempotency_key.clone()).filter(|k| !k.is_empty()),
            };
            match book_counted(&state, &staff.org, &booking).await {
                Ok(booked) => {
                    let mut to = format!(
                        "/o/{}/admin/book?date={}&notice=booked&appointment={}",
                        staff.org.slug, values.date, booked.appointment.id
                    );
                    if !values.clinic.is_empty() {
                        to.push_str(&format!("&clinic={}", values.clinic));
                    }
                    return Ok(Redirect::to(&to).into_response());
                }
                Err(e) => absorb_booking_error(&mut errors, &mut reasons, &form, e)?,
            }
        }
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    Ok((
        status,
        booking_form(&state, &staff, &choices, values, errors, reasons).await?,
    )
        .into_response())
}

// One appointment: details, history, move and cancel.

/// A line of the appointment's history.
#[derive(Debug)]
struct HistoryLine {
    at: String,
    who: String,
    what: String,
    why: String,
}

/// What the move form holds, as typed.
#[derive(Debug, Default)]
struct MoveValues {
    date: String,
    time: String,
    practitioner: String,
    duration_minutes: String,
    override_reason: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/book_appointment.html")]
struct AppointmentPage {
    layout: Layout,
    entry: Entry,
    when: String,
    patient: String,
    back: String,
    movable: bool,
    values: MoveValues,
    practitioners: Vec<Choice>,
    history: Vec<HistoryLine>,
    errors: FieldErrors,
    reasons: Vec<String>,
    error: Option<String>,
}

fn action_label(action: &str) -> &'static str {
    match action {
        "appointment.book" => "Booked",
        "appointment.book_override" => "Booked with an override",
        "appointment.reschedule" => "Moved",
        "appointment.reschedule_override" => "Moved with an override",
        "appointment.cancel" => "Cancelled",
        "appointment.accept" => "Accepted",
        "appointment.decline" => "Declined",
        "appointment.mark" => "Marked",
        _ => "Changed",
    }
}

async fn appointment_view(
    state: &AppState,
    staff: &Staff,
    id: i64,
    values: Option<MoveValues>,
    errors: FieldErrors,
    reasons: Vec<String>,
    error: Option<String>,
) -> Result<AppointmentPage, PageError> {
    let mut conn = state.db.conn().await?;
    let entry = book::entry(conn.exec(), staff.org.id, id).await?;
    let choices = book::choices(conn.exec(), staff.org.id).await?;
    let staff_names: HashMap<String, String> = store::staff::all(conn.exec(), staff.org.id)
        .await?
        .into_iter()
        .map(|u| (format!("staff:{}", u.id), u.name))
        .collect();
    let tz = entry.zone();
    let history = store::audit::recent(conn.exec(), staff.org.id, Some(("appointment", id)), 50)
        .await?
        .into_iter()
        .rev()
        .map(|e| {
            let details: serde_json::Value =
                serde_json::from_str(&e.details).unwrap_or(serde_json::Value::Null);
            let why = details["override_reason"]
                .as_str()
                .map(|r| {
                    let overridden: Vec<&str> = details["overridden"]
                        .as_array()
                        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
                        .unwrap_or_default();
                    format!("{r} (overrode: {})", overridden.join("; "))
                })
                .or_else(|| {
                    details["note"]
                        .as_str()
                        .filter(|n| !n.is_empty())
                        .map(|n| format!("Note: {n}"))
                })
                .unwrap_or_default();
            HistoryLine {
                at: local(e.at_ns, tz).format("%a %-d %b %Y, %H:%M").to_string(),
                who: staff_names.get(&e.actor).cloned().unwrap_or_else(|| {
                    if e.actor.starts_with("patient:") {
                        "The patient (portal)".to_owned()
                    } else {
                        e.actor.clone()
                    }
                }),
                what: action_label(&e.action).to_owned(),
                why,
            }
        })
        .collect();
    let values = values.unwrap_or_else(|| MoveValues {
        date: local(entry.start_ns, tz).date_naive().to_string(),
        time: local(entry.start_ns, tz).format("%H:%M").to_string(),
        practitioner: entry.practitioner_id.to_string(),
        duration_minutes: entry.duration_minutes().to_string(),
        override_reason: String::new(),
    });
    let back = format!(
        "/o/{}/admin/book?date={}&practitioner={}",
        staff.org.slug,
        local(entry.start_ns, tz).date_naive(),
        entry.practitioner_id
    );
    Ok(AppointmentPage {
        layout: Layout::staff(staff, "Appointment", "book").await?,
        when: when(&entry),
        patient: entry
            .patient_name()
            .unwrap_or_else(|| "No patient".to_owned()),
        back,
        movable: matches!(entry.status.as_str(), "booked" | "pending"),
        practitioners: options(
            choices.practitioners.iter().map(|p| (p.id, p.name.clone())),
            &values.practitioner,
        ),
        values,
        history,
        entry,
        errors,
        reasons,
        error,
    })
}

async fn appointment_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
) -> Result<AppointmentPage, PageError> {
    staff.front_desk()?;
    appointment_view(
        &state,
        &staff,
        id,
        None,
        FieldErrors::new(),
        Vec::new(),
        None,
    )
    .await
}

async fn move_submit(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.front_desk()?;
    let entry = entry_of(&state, staff.org.id, id).await?;
    let values = MoveValues {
        date: form.get("date"),
        time: form.get("time"),
        practitioner: form.get("practitioner"),
        duration_minutes: form.get("duration_minutes"),
        override_reason: form.get("override_reason"),
    };
    let mut errors = FieldErrors::new();
    let practitioner = form_id(&mut errors, &values.practitioner, "practitioner");
    let duration = form_duration(&mut errors, &values.duration_minutes);
    // The new time is read in the appointment's clinic's timezone, as the form shows it.
    let start = form_start(
        &mut errors,
        &values.date,
        &values.time,
        &entry.clinic_timezone,
    );
    let mut reasons = Vec::new();
    let status = match start {
        Some(start) if errors.is_empty() => {
            let m = Move {
                staff: staff.user.id,
                appointment: id,
                start,
                practitioner,
                duration_minutes: duration,
                override_reason: form_override(&form),
            };
            match move_telling_patient(&state, &staff.org, &m).await {
                Ok(_) => {
                    return Ok(Redirect::to(&format!(
                        "/o/{}/admin/book?date={}&notice=moved&appointment={id}",
                        staff.org.slug, values.date
                    ))
                    .into_response());
                }
                Err(e) => absorb_booking_error(&mut errors, &mut reasons, &form, e)?,
            }
        }
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    Ok((
        status,
        appointment_view(&state, &staff, id, Some(values), errors, reasons, None).await?,
    )
        .into_response())
}

async fn cancel_submit(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
) -> Result<Response, PageError> {
    staff.front_desk()?;
    let entry = entry_of(&state, staff.org.id, id).await?;
    match cancel_telling_patient(&state, &staff, id).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/o/{}/admin/book?date={}&cancelled=1&notice=cancelled&appointment={id}",
            staff.org.slug,
            local(entry.start_ns, entry.zone()).date_naive()
        ))
        .into_response()),
        Err(store::Error::Invalid { message, .. }) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            appointment_view(
                &state,
                &staff,
                id,
                None,
                FieldErrors::new(),
                Vec::new(),
                Some(message),
            )
            .await?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}
