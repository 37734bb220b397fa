//! Booking in the portal: choose a service, a practitioner (or the first available),
//! see open slots day by day, confirm — and My appointments, with cancelling.
//!
//! The patient's available practitioners are enforced on every slot query here and on
//! every booking by the store (403 for any other practitioner). The store decides a
//! booking under the practitioner's lock; if someone else took the slot it answers with
//! the rule, the reason and the next open times, which the page and the API each show
//! their way.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use slot_engine::{Date, Instant, Slot};
use store::AppointmentStatus;
use store::appointment::{self, Actor, PortalBooking, PortalOutcome};
use store::portal::{self, AppointmentView, PortalPractitioner, PortalService};
use store::window::{self, EngineInput, OpenSlot, SlotRequest};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::patient::{Patient, PatientApi, PatientPage};
use crate::clinic_time::{local_datetime, rfc3339};
use crate::error::{AppError, PageError};
use crate::form::{FormData, JsonBody, PageQuery, QueryParams};
use crate::notices::AppointmentContext;
use crate::pages::PortalLayout;
use crate::state::AppState;

/// The pages.
pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/o/{slug}/portal/book", get(services_page))
        .route(
            "/o/{slug}/portal/book/{service}",
            get(slots_page).post(book_page),
        )
        .route("/o/{slug}/portal/book/{service}/confirm", get(confirm_page))
        .route("/o/{slug}/portal/appointments", get(appointments_page))
        .route("/o/{slug}/portal/appointments/{id}", get(appointment_page))
        .route(
            "/o/{slug}/portal/appointments/{id}/cancel",
            post(cancel_page),
        )
        .route(
            "/o/{slug}/portal/appointments/{id}/calendar.ics",
            get(calendar_file),
        )
}

/// The API.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_services))
        .routes(routes!(api_practitioners))
        .routes(routes!(api_slots))
        .routes(routes!(api_appointments, api_book))
        .routes(routes!(api_appointment))
        .routes(routes!(api_cancel))
}

/// How many days one page of slots shows.
const DAYS_PER_PAGE: i64 = 7;

/// The practitioners this patient may book, or `None` for all.
async fn allowed(state: &AppState, p: &Patient) -> Result<Option<Vec<i64>>, AppError> {
    let mut conn = state.db.conn().await?;
    Ok(appointment::patient_practitioners(&mut conn.exec(), p.org.id, p.patient.id).await?)
}

/// Which practitioners a slot query covers: the one asked for (403 when the patient
/// may not book them), or every one the patient may book.
fn practitioners_for(
    allowed: &Option<Vec<i64>>,
    asked: Option<i64>,
) -> Result<Option<Vec<i64>>, AppError> {
    match asked {
        Some(p) => {
            if allowed.as_ref().is_some_and(|list| !list.contains(&p)) {
                return Err(AppError::Forbidden(
                    "this practitioner is not available to you".into(),
                ));
            }
            Ok(Some(vec![p]))
        }
        None => Ok(allowed.clone()),
    }
}

/// Today, as the earliest local date over the organisation's clinics (the default first
/// date): the slots of a service may be in any of them, and no clinic's evening may be
/// cut off because another clinic's day has already turned.
fn today(state: &AppState, clinics: &[store::clinic::Clinic]) -> NaiveDate {
    store::clinic::earliest_local_date(clinics, state.clock.now())
}

fn date(naive: NaiveDate) -> Result<Date, AppError> {
    Date::try_from(naive).map_err(|e| AppError::invalid("from", e.to_string()))
}

/// An open slot as the portal shows it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SlotDto {
    /// The practitioner's row id.
    pub practitioner_id: i64,
    /// Their name.
    pub practitioner_name: String,
    /// The clinic's name.
    pub clinic_name: String,
    /// Start, RFC 3339 in the clinic's offset.
    pub start: String,
    /// End, RFC 3339 in the clinic's offset.
    pub end: String,
    /// The local date, `YYYY-MM-DD`.
    pub date: String,
    /// The local time, `HH:MM`.
    pub time: String,
}

impl From<OpenSlot> for SlotDto {
    fn from(slot: OpenSlot) -> Self {
        SlotDto {
            practitioner_id: slot.practitioner_id,
            practitioner_name: slot.practitioner_name,
            clinic_name: slot.clinic_name,
            start: slot.start.to_rfc3339(),
            end: slot.end.to_rfc3339(),
            date: slot.start.date_naive().to_string(),
            time: slot.start.format("%H:%M").to_string(),
        }
    }
}

fn slot_dto(input: &EngineInput, slot: &Slot) -> SlotDto {
    SlotDto::from(input.open_slot(slot))
}

/// Open slots of a service for a patient over `[from, to]`.
async fn slots(
    state: &AppState,
    p: &Patient,
    service: i64,
    practitioners: Option<Vec<i64>>,
    from: Date,
    to: Date,
) -> Result<(EngineInput, Vec<Slot>), AppError> {
    let mut conn = state.db.conn().await?;
    portal::service(conn.exec(), p.org.id, service).await?;
    let (input, found) = window::open_slots(
        &mut conn.exec(),
        &p.org,
        &SlotRequest {
            service,
            practitioners,
            from,
            to,
            now: state.clock.now(),
            telehealth: false,
        },
    )
    .await?;
    crate::metrics::Metrics::inc(&state.metrics.slot_queries);
    Ok((input, found))
}

/// Books for a patient. The store decides, and answers with the appointment or, for
/// a time the slot rules refuse, why and the next open times.
async fn book(
    state: &AppState,
    p: &Patient,
    service: i64,
    practitioner: i64,
    start: Instant,
    key: Option<String>,
) -> Result<PortalOutcome, AppError> {
    // The email's names are read first. A practitioner or service that is not there
    // leaves nothing to say, and the store refuses the booking (in its own order of
    // refusals), so the emails are simply none.
    let context = match AppointmentContext::of_patient(
        state,
        &p.org,
        &p.patient,
        practitioner,
        Some(service),
    )
    .await
    {
        Ok(context) => Some(context),
        Err(store::Error::NotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let notify =
        move |a: &store::appointment::Appointment| context.iter().map(|c| c.booked(a)).collect();
    let outcome = appointment::book_portal(
        &state.db,
        &p.org,
        &PortalBooking {
            patient: p.patient.id,
            service,
            practitioner,
            start,
            idempotency_key: key,
        },
        state.clock.as_ref(),
        Some(&notify),
    )
    .await?;
    match &outcome {
        PortalOutcome::Booked(booked) => {
            if !booked.replayed {
                crate::metrics::Metrics::inc(&state.metrics.bookings);
                state.mail.notify();
            }
        }
        PortalOutcome::Taken { .. } => {
            crate::metrics::Metrics::inc(&state.metrics.booking_conflicts);
            // The next open times came from a slot search.
            crate::metrics::Metrics::inc(&state.metrics.slot_queries);
        }
    }
    Ok(outcome)
}

// Pages.

#[derive(Template, WebTemplate)]
#[template(path = "portal/services.html")]
struct ServicesPage {
    layout: PortalLayout,
    services: Vec<PortalService>,
}

async fn services_page(
    State(state): State<AppState>,
    PatientPage(p): PatientPage,
) -> Result<ServicesPage, PageError> {
    let mut conn = state.db.conn().await?;
    Ok(ServicesPage {
        layout: PortalLayout::new(
            &p.org,
            &p.session,
            Some(&p.patient.first_name),
            "Book an appointment",
            "book",
        )
        .await?,
        services: portal::services(conn.exec(), p.org.id).await?,
    })
}

#[derive(Deserialize, IntoParams)]
struct SlotsQuery {
    /// A practitioner's row id, or absent/`any` for the first available.
    practitioner: Option<String>,
    /// The first date, `YYYY-MM-DD` (default: today).
    from: Option<String>,
}

fn parse_practitioner(value: Option<&str>) -> Result<Option<i64>, AppError> {
    match value.map(str::trim) {
        None | Some("") | Some("any") => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| AppError::invalid("practitioner", "must be a practitioner id or \"any\"")),
    }
}

/// One day of slots on the page.
struct Day {
    label: String,
    slots: Vec<SlotDto>,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/slots.html")]
struct SlotsPage {
    layout: PortalLayout,
    service: PortalService,
    practitioners: Vec<PortalPractitioner>,
    chosen: String,
    days: Vec<Day>,
    first: Vec<SlotDto>,
    previous: Option<String>,
    next: String,
    notice: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn slots_view(
    state: &AppState,
    p: &Patient,
    service_id: i64,
    practitioner: Option<i64>,
    from: Option<NaiveDate>,
    notice: Option<String>,
    next_offered: Vec<SlotDto>,
) -> Result<SlotsPage, AppError> {
    let allowed = allowed(state, p).await?;
    let covered = practitioners_for(&allowed, practitioner)?;
    let mut conn = state.db.conn().await?;
    let service = portal::service(conn.exec(), p.org.id, service_id).await?;
    let practitioners =
        portal::practitioners(conn.exec(), p.org.id, service_id, allowed.as_deref()).await?;
    let clinics = store::clinic::all(conn.exec(), p.org.id).await?;
    drop(conn);
    let today = today(state, &clinics);
    let from = from.unwrap_or(today).max(today);
    let to = from + Duration::days(DAYS_PER_PAGE - 1);
    let (input, found) = slots(
        state,
        p,
        service_id,
        covered.clone(),
        date(from)?,
        date(to)?,
    )
    .await?;
    let mut by_day: BTreeMap<String, Vec<SlotDto>> = BTreeMap::new();
    for s in &found {
        let dto = slot_dto(&input, s);
        by_day.entry(dto.date.clone()).or_default().push(dto);
    }
    let days = (0..DAYS_PER_PAGE)
        .map(|n| {
            let d = from + Duration::days(n);
            Day {
                label: d.format("%A %-d %B").to_string(),
                slots: by_day.remove(&d.to_string()).unwrap_or_default(),
            }
        })
        .collect();
    // "First available": the earliest open slots, looking past this page if need be.
    let first = if next_offered.is_empty() && practitioner.is_none() && found.is_empty() {
        let later_from = to + Duration::days(1);
        let later_to = later_from + Duration::days(28);
        match (date(later_from), date(later_to)) {
            (Ok(a), Ok(b)) => {
                let (input, later) = slots(state, p, service_id, covered, a, b).await?;
                later.iter().take(3).map(|s| slot_dto(&input, s)).collect()
            }
            _ => Vec::new(),
        }
    } else if next_offered.is_empty() {
        found.iter().take(3).map(|s| slot_dto(&input, s)).collect()
    } else {
        next_offered
    };
    Ok(SlotsPage {
        layout: PortalLayout::new(
            &p.org,
            &p.session,
            Some(&p.patient.first_name),
            format!("Book: {}", service.name),
            "book",
        )
        .await?,
        service,
        practitioners,
        chosen: practitioner.map_or_else(|| "any".to_owned(), |p| p.to_string()),
        days,
        first,
        previous: (from > today).then(|| {
            (from - Duration::days(DAYS_PER_PAGE))
                .max(today)
                .to_string()
        }),
        next: (to + Duration::days(1)).to_string(),
        notice,
    })
}

async fn slots_page(
    State(state): State<AppState>,
    PatientPage(p): PatientPage,
    Path((_, service)): Path<(String, i64)>,
    PageQuery(q): PageQuery<SlotsQuery>,
) -> Result<SlotsPage, PageError> {
    let practitioner = parse_practitioner(q.practitioner.as_deref())?;
    // The date is checked against the calendar's years before any arithmetic on it:
    // a far-off date (`+262142-12-31`) parses, but a week after it does not exist.
    let from = match q.from.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
        Some(f) => {
            let naive = f
                .parse::<NaiveDate>()
                .map_err(|_| AppError::invalid("from", "must be a date YYYY-MM-DD"))?;
            Some(date(naive)?.naive())
        }
        None => None,
    };
    Ok(slots_view(&state, &p, service, practitioner, from, None, Vec::new()).await?)
}

#[derive(Deserialize)]
struct ConfirmQuery {
    practitioner: i64,
    start: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/confirm.html")]
struct ConfirmPage {
    layout: PortalLayout,
    service: PortalService,
    practitioner_name: String,
    when: String,
    practitioner: i64,
    start: String,
    idempotency_key: String,
}

fn parse_start(text: &str) -> Result<Instant, AppError> {
    text.trim()
        .parse::<Instant>()
        .map_err(|e| AppError::invalid("start", e.to_string()))
}

async fn confirm_page(
    State(state): State<AppState>,
    PatientPage(p): PatientPage,
    Path((_, service_id)): Path<(String, i64)>,
    PageQuery(q): PageQuery<ConfirmQuery>,
) -> Result<ConfirmPage, PageError> {
    let start = parse_start(&q.start)?;
    let allowed = allowed(&state, &p).await?;
    practitioners_for(&allowed, Some(q.practitioner))?;
    let mut conn = state.db.conn().await?;
    let service = portal::service(conn.exec(), p.org.id, service_id).await?;
    let (name, home) = portal::practitioner_brief(conn.exec(), p.org.id, q.practitioner).await?;
    let clinic = store::clinic::get(conn.exec(), p.org.id, home).await?;
    let when = match DateTime::parse_from_rfc3339(q.start.trim()) {
        Ok(t) => t.format("%A %-d %B %Y at %H:%M").to_string(),
        Err(_) => local_datetime(start.unix_nanos(), clinic.zone()),
    };
    Ok(ConfirmPage {
        layout: PortalLayout::new(
            &p.org,
            &p.session,
            Some(&p.patient.first_name),
            "Confirm your appointment",
            "book",
        )
        .await?,
        service,
        practitioner_name: name,
        when,
        practitioner: q.practitioner,
        start: q.start,
        idempotency_key: crate::auth::csrf::random_token(),
    })
}

async fn book_page(
    State(state): State<AppState>,
    PatientPage(p): PatientPage,
    Path((_, service)): Path<(String, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    let practitioner: i64 = form
        .get("practitioner")
        .parse()
        .map_err(|_| AppError::invalid("practitioner", "choose a practitioner"))?;
    let start = parse_start(&form.get("start"))?;
    match book(
        &state,
        &p,
        service,
        practitioner,
        start,
        form.optional("idempotency_key"),
    )
    .await?
    {
        PortalOutcome::Booked(booked) => Ok(Redirect::to(&format!(
            "/o/{}/portal/appointments/{}",
            p.org.slug, booked.appointment.id
        ))
        .into_response()),
        PortalOutcome::Taken { reason, next, .. } => {
            let next: Vec<SlotDto> = next.into_iter().map(SlotDto::from).collect();
            let notice = format!(
                "Sorry — someone else just took that time ({reason}). {}",
                if next.is_empty() {
                    "Please choose another day."
                } else {
                    "Here are the next open times:"
                }
            );
            let clinics = {
                let mut conn = state.db.conn().await?;
                store::clinic::all(conn.exec(), p.org.id).await?
            };
            let page = slots_view(
                &state,
                &p,
                service,
                Some(practitioner),
                Some(store::clinic::earliest_local_date(&clinics, start)),
                Some(notice),
                next,
            )
            .await?;
            Ok((StatusCode::CONFLICT, page).into_response())
        }
    }
}

/// An appointment as the portal shows it. (Named apart from the staff API's
/// `AppointmentDto`: the OpenAPI document keeps one schema per name.)
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = PortalAppointmentDto)]
pub struct AppointmentDto {
    /// Row id.
    pub id: i64,
    /// The practitioner's name.
    pub practitioner_name: String,
    /// The service's name.
    pub service_name: Option<String>,
    /// The clinic's name.
    pub clinic_name: Option<String>,
    /// The clinic's timezone.
    pub timezone: String,
    /// Start, RFC 3339 in the clinic's offset.
    pub start: String,
    /// End, RFC 3339 in the clinic's offset.
    pub end: String,
    /// When, in words, in the clinic's time.
    pub when: String,
    /// `booked`, `pending`, `cancelled`, `completed` or `no_show`.
    pub status: String,
    /// A note from the clinic (accept/decline).
    pub status_note: String,
    /// Until when the patient may cancel online (RFC 3339), when they still may.
    pub cancellable_until: Option<String>,
}

fn appointment_dto(org: &store::Organisation, now_ns: i64, a: AppointmentView) -> AppointmentDto {
    let tz: chrono_tz::Tz = a.timezone.parse().unwrap_or(chrono_tz::UTC);
    let deadline = appointment::cancellable_until(org, a.status, a.start_ns, now_ns);
    AppointmentDto {
        id: a.id,
        practitioner_name: a.practitioner_name,
        service_name: a.service_name,
        clinic_name: a.clinic_name,
        start: rfc3339(a.start_ns, tz),
        end: rfc3339(a.end_ns, tz),
        when: local_datetime(a.start_ns, tz),
        status: a.status.as_str().to_owned(),
        status_note: a.status_note,
        cancellable_until: deadline.map(|until| rfc3339(until, tz)),
        timezone: a.timezone,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/appointments.html")]
struct AppointmentsPage {
    layout: PortalLayout,
    upcoming: Vec<AppointmentDto>,
    past: Vec<AppointmentDto>,
}

async fn list(
    state: &AppState,
    p: &Patient,
) -> Result<(Vec<AppointmentDto>, Vec<AppointmentDto>), AppError> {
    let mut conn = state.db.conn().await?;
    let all = portal::appointments_of(conn.exec(), p.org.id, p.patient.id).await?;
    let now = state.clock.now_ns();
    let (mut upcoming, past): (Vec<_>, Vec<_>) = all.into_iter().partition(|a| a.end_ns > now);
    upcoming.reverse();
    Ok((
        upcoming
            .into_iter()
            .map(|a| appointment_dto(&p.org, now, a))
            .collect(),
        past.into_iter()
            .map(|a| appointment_dto(&p.org, now, a))
            .collect(),
    ))
}

async fn appointments_page(
    State(state): State<AppState>,
    PatientPage(p): PatientPage,
) -> Result<AppointmentsPage, PageError> {
    let (upcoming, past) = list(&state, &p).await?;
    Ok(AppointmentsPage {
        layout: PortalLayout::new(
            &p.org,
            &p.session,
            Some(&p.patient.first_name),
            "My appointments",
            "appointments",
        )
        .await?,
        upcoming,
        past,
    })
}

/// One of the patient's own appointments; another patient's is not found.
async fn own(state: &AppState, p: &Patient, id: i64) -> Result<AppointmentView, AppError> {
    let mut conn = state.db.conn().await?;
    let a = portal::appointment(conn.exec(), p.org.id, id).await?;
    if a.patient_id != Some(p.patient.id) {
        return Err(AppError::NotFound("appointment".into()));
    }
    Ok(a)
}

/// "Add to calendar": a booked appointment as an iCalendar file, the same event the
/// confirmation email carries (so importing both leaves one event).
async fn calendar_file(
    State(state): State<AppState>,
    PatientPage(p): PatientPage,
    Path((_, id)): Path<(String, i64)>,
) -> Result<Response, PageError> {
    let a = {
        let mut conn = state.db.conn().await?;
        appointment::get(conn.exec(), p.org.id, id).await?
    };
    if a.patient_id != Some(p.patient.id) || a.status != AppointmentStatus::Booked {
        return Err(AppError::NotFound("appointment".into()).into());
    }
    let context =
        AppointmentContext::of_patient(&state, &p.org, &p.patient, a.practitioner_id, a.service_id)
            .await?;
    let text = crate::ics::appointment(&context.calendar_event(&a), crate::ics::IcsMethod::Request);
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/calendar; charset=utf-8".to_owned(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"appointment-{}.ics\"", a.id),
            ),
        ],
        text,
    )
        .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/appointment.html")]
struct AppointmentPage {
    layout: PortalLayout,
    a: AppointmentDto,
    /// What the page says depends on it (requested, booked, cancelled).
    status: AppointmentStatus,
    /// Until when the patient may cancel online, in words, in the clinic's time.
    cancellable_until: Option<String>,
    notice: Option<String>,
}

impl AppointmentPage {
    async fn new(
        state: &AppState,
        p: &Patient,
        a: AppointmentView,
        notice: Option<String>,
    ) -> Result<Self, PageError> {
        let now_ns = state.clock.now_ns();
        let tz: chrono_tz::Tz = a.timezone.parse().unwrap_or(chrono_tz::UTC);
        Ok(AppointmentPage {
            layout: PortalLayout::new(
                &p.org,
                &p.session,
                Some(&p.patient.first_name),
                "Your appointment",
                "appointments",
            )
            .await?,
            status: a.status,
            cancellable_until: appointment::cancellable_until(&p.org, a.status, a.start_ns, now_ns)
                .map(|until| local_datetime(until, tz)),
            a: appointment_dto(&p.org, now_ns, a),
            notice,
        })
    }
}

async fn appointment_page(
    State(state): State<AppState>,
    PatientPage(p): PatientPage,
    Path((_, id)): Path<(String, i64)>,
) -> Result<AppointmentPage, PageError> {
    let a = own(&state, &p, id).await?;
    AppointmentPage::new(&state, &p, a, None).await
}

/// Cancels one of the patient's own appointments, within the cancellation notice.
async fn cancel(state: &AppState, p: &Patient, id: i64) -> Result<AppointmentView, AppError> {
    let before = own(state, p, id).await?;
    let context = AppointmentContext::for_appointment(state, &p.org, id, None).await?;
    let notify =
        |a: &store::appointment::Appointment| context.iter().map(|c| c.cancelled(a)).collect();
    match appointment::cancel(
        &state.db,
        &p.org,
        id,
        Actor::Patient(p.patient.id),
        state.clock.as_ref(),
        Some(&notify),
    )
    .await
    {
        Ok(_) => {
            state.mail.notify();
            own(state, p, id).await
        }
        Err(store::Error::TooLate { until_ns }) => {
            let tz: chrono_tz::Tz = before.timezone.parse().unwrap_or(chrono_tz::UTC);
            Err(AppError::Conflict {
                message: format!(
                    "this appointment can no longer be cancelled online: cancelling was possible until {}. Please call the clinic.",
                    local_datetime(until_ns, tz)
                ),
                details: serde_json::json!({"cancellable_until": rfc3339(until_ns, tz)}),
            })
        }
        Err(e) => Err(e.into()),
    }
}

async fn cancel_page(
    State(state): State<AppState>,
    PatientPage(p): PatientPage,
    Path((_, id)): Path<(String, i64)>,
) -> Result<Response, PageError> {
    match cancel(&state, &p, id).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/o/{}/portal/appointments/{id}", p.org.slug)).into_response(),
        ),
        Err(AppError::Conflict { message, .. }) => {
            let a = own(&state, &p, id).await?;
            let page = AppointmentPage::new(&state, &p, a, Some(capitalise(&message))).await?;
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

// The API.

/// The services patients can book online.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/portal/services", tag = "portal",
    params(("slug" = String, Path, description = "The organisation")),
    responses((status = 200, body = [PortalServiceDto]), (status = 401, description = "Not signed in")))]
async fn api_services(
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
pub struct PortalServiceDto {
    /// Row id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// What it is.
    pub description: Option<String>,
    /// Minutes.
    pub duration_minutes: i64,
}

impl From<PortalService> for PortalServiceDto {
    fn from(s: PortalService) -> Self {
        PortalServiceDto {
            id: s.id,
            name: s.name,
            description: s.description,
            duration_minutes: s.duration_minutes,
        }
    }
}

/// A practitioner the patient may book.
#[derive(Debug, Serialize, ToSchema)]
pub struct PortalPractitionerDto {
    /// Row id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Their type.
    pub type_name: String,
    /// Their home clinic.
    pub clinic_name: String,
}

/// The practitioners this patient may book for a service.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/portal/services/{service}/practitioners", tag = "portal",
    params(("slug" = String, Path, description = "The organisation"), ("service" = i64, Path, description = "The service")),
    responses((status = 200, body = [PortalPractitionerDto]), (status = 404, description = "No such online service")))]
async fn api_practitioners(
    State(state): State<AppState>,
    PatientApi(p): PatientApi,
    Path(path): Path<(String, i64)>,
) -> Result<Json<Vec<PortalPractitionerDto>>, AppError> {
    let allowed = allowed(&state, &p).await?;
    let mut conn = state.db.conn().await?;
    portal::service(conn.exec(), p.org.id, path.1).await?;
    let list = portal::practitioners(conn.exec(), p.org.id, path.1, allowed.as_deref()).await?;
    Ok(Json(
        list.into_iter()
            .map(|x| PortalPractitionerDto {
                id: x.id,
                name: x.name,
                type_name: x.type_name,
                clinic_name: x.clinic_name,
            })
            .collect(),
    ))
}

#[derive(Deserialize, IntoParams)]
struct ApiSlotsQuery {
    /// The service's row id.
    service: i64,
    /// The first date, `YYYY-MM-DD`.
    from: String,
    /// The last date, `YYYY-MM-DD` (at most 31 days after `from`).
    to: String,
    /// A practitioner's row id (default: every practitioner the patient may book).
    practitioner: Option<i64>,
}

/// Open slots of a service, for the signed-in patient (403 for a practitioner outside
/// their list).
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/portal/slots", tag = "portal",
    params(("slug" = String, Path, description = "The organisation"), ApiSlotsQuery),
    responses((status = 200, body = [SlotDto]), (status = 403, description = "The practitioner is not available to this patient"),
              (status = 422, description = "Invalid dates")))]
async fn api_slots(
    State(state): State<AppState>,
    PatientApi(p): PatientApi,
    QueryParams(q): QueryParams<ApiSlotsQuery>,
) -> Result<Json<Vec<SlotDto>>, AppError> {
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
    let allowed = allowed(&state, &p).await?;
    let covered = practitioners_for(&allowed, q.practitioner)?;
    let (input, found) = slots(&state, &p, q.service, covered, from, to).await?;
    Ok(Json(found.iter().map(|s| slot_dto(&input, s)).collect()))
}

/// The patient's appointments, upcoming first.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/portal/appointments", tag = "portal",
    params(("slug" = String, Path, description = "The organisation")),
    responses((status = 200, body = [AppointmentDto]), (status = 401, description = "Not signed in")))]
async fn api_appointments(
    State(state): State<AppState>,
    PatientApi(p): PatientApi,
) -> Result<Json<Vec<AppointmentDto>>, AppError> {
    let (mut upcoming, past) = list(&state, &p).await?;
    upcoming.extend(past);
    Ok(Json(upcoming))
}

/// A booking request.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BookRequest {
    /// The service's row id.
    pub service: i64,
    /// The practitioner's row id (from the slots).
    pub practitioner: i64,
    /// The slot's start, RFC 3339.
    pub start: String,
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
async fn api_book(
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
        body.idempotency_key,
    )
    .await?
    {
        PortalOutcome::Booked(booked) => booked,
        PortalOutcome::Taken { rule, reason, next } => {
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
async fn api_appointment(
    State(state): State<AppState>,
    PatientApi(p): PatientApi,
    Path(path): Path<(String, i64)>,
) -> Result<Json<AppointmentDto>, AppError> {
    let a = own(&state, &p, path.1).await?;
    Ok(Json(appointment_dto(&p.org, state.clock.now_ns(), a)))
}

/// Cancels one of the patient's appointments; refused inside the cancellation notice
/// (409, saying until when it was possible).
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/portal/appointments/{id}/cancel", tag = "portal",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The appointment")),
    responses((status = 200, body = AppointmentDto), (status = 409, description = "Too late to cancel online"),
              (status = 404, description = "Not one of this patient's appointments")))]
async fn api_cancel(
    State(state): State<AppState>,
    PatientApi(p): PatientApi,
    Path(path): Path<(String, i64)>,
) -> Result<Json<AppointmentDto>, AppError> {
    let a = cancel(&state, &p, path.1).await?;
    Ok(Json(appointment_dto(&p.org, state.clock.now_ns(), a)))
}
