//! The portal's booking pages: services, a week of slots, confirm, book; My
//! appointments, one appointment, cancel, and its calendar file.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, NaiveDate};
use serde::Deserialize;
use store::AppointmentStatus;
use store::appointment::{self, PortalOutcome};
use store::portal::{self, AppointmentView, PortalPractitioner, PortalService};
use utoipa::IntoParams;

use crate::auth::patient::{Patient, PatientPage};
use crate::clinic_time::local_datetime;
use crate::error::{AppError, PageError};
use crate::form::{FormData, PageQuery};
use crate::notices::AppointmentContext;
use crate::pages::PortalLayout;
use crate::state::AppState;

use super::appointments::{AppointmentDto, appointment_dto, cancel, list, own};
use super::slots::{SlotDto, allowed, book, date, parse_start, practitioners_for, slot_dto, slots};

/// How many days one page of slots shows.
const DAYS_PER_PAGE: i64 = 7;

#[derive(Template, WebTemplate)]
#[template(path = "portal/services.html")]
pub(super) struct ServicesPage {
    layout: PortalLayout,
    services: Vec<PortalService>,
}

pub(super) async fn services_page(
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
pub(super) struct SlotsQuery {
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
pub(super) struct SlotsPage {
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
    let today = crate::clinic_time::earliest_today(state, &clinics);
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

pub(super) async fn slots_page(
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
pub(super) struct ConfirmQuery {
    practitioner: i64,
    start: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/confirm.html")]
pub(super) struct ConfirmPage {
    layout: PortalLayout,
    service: PortalService,
    practitioner_name: String,
    when: String,
    practitioner: i64,
    start: String,
    idempotency_key: String,
}

pub(super) async fn confirm_page(
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

pub(super) async fn book_page(
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
        PortalOutcome::Taken { rule, reason, next } => {
            let next: Vec<SlotDto> = next.into_iter().map(SlotDto::from).collect();
            let notice = format!(
                "{} {}",
                refusal_in_words(rule, &reason),
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

#[derive(Template, WebTemplate)]
#[template(path = "portal/appointments.html")]
pub(super) struct AppointmentsPage {
    layout: PortalLayout,
    upcoming: Vec<AppointmentDto>,
    past: Vec<AppointmentDto>,
}

pub(super) async fn appointments_page(
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

/// "Add to calendar": a booked appointment as an iCalendar file, the same event the
/// confirmation email carries (so importing both leaves one event).
pub(super) async fn calendar_file(
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
pub(super) struct AppointmentPage {
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
        let tz = a.place.zone();
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

pub(super) async fn appointment_page(
    State(state): State<AppState>,
    PatientPage(p): PatientPage,
    Path((_, id)): Path<(String, i64)>,
) -> Result<AppointmentPage, PageError> {
    let a = own(&state, &p, id).await?;
    AppointmentPage::new(&state, &p, a, None).await
}

pub(super) async fn cancel_page(
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

/// Why a time could not be booked, in the patient's words: only a place taken in the
/// meantime (rule 11) is "someone else"; a time past the booking window or one the
/// clinic does not offer online says so, with the engine's reason.
fn refusal_in_words(rule: u8, reason: &str) -> String {
    match rule {
        11 => "Sorry — someone else just took that time.".to_owned(),
        12 => format!("That time can no longer be booked online: {reason}."),
        _ => format!("That time is not offered online: {reason}."),
    }
}
