//! Weekly series in the portal: where the service allows it, the confirm page offers
//! "Book this time weekly for N weeks" (2 to 12, within the booking window), shows
//! every date with whether it is free, and books them all or none; the series' page
//! lists every occurrence, and its calendar file holds one event for each.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono_tz::Tz;
use slot_engine::{Instant, SeriesEnd, SeriesRule};
use store::AppointmentStatus;
use store::appointment::Appointment;
use store::appointment::series::{
    self as store_series, PortalSeries, SeriesCheck, SeriesOutcome, Verdict,
};

use crate::auth::patient::{Patient, PatientPage};
use crate::clinic_time::local;
use crate::error::{AppError, PageError};
use crate::form::FormData;
use crate::metrics::{Channel, Kind};
use crate::notices::AppointmentContext;
use crate::pages::PortalLayout;
use crate::state::AppState;

use super::pages::{capitalise, refusal_in_words};
use super::slots::{parse_mode, parse_start};

/// The most weeks the portal offers.
pub(super) const MAX_WEEKS: u32 = 12;

/// One date of a series, in words for a patient.
#[derive(Debug)]
pub(super) struct SeriesRow {
    /// `Tuesday 3 March 2026`.
    pub(super) day: String,
    /// `17:00`; empty when that time does not exist that day.
    pub(super) time: String,
    /// Empty when the time is free; else why not, in words.
    pub(super) problem: String,
}

/// What the confirm page offers about a series.
#[derive(Debug)]
pub(super) struct SeriesOffer {
    /// The numbers of weeks offered (2 up to 12 or the booking window).
    pub(super) weeks: Vec<u32>,
    /// The number of weeks asked for, and its dates, once asked.
    pub(super) chosen: Option<u32>,
    pub(super) rows: Vec<SeriesRow>,
    /// Whether every date is free: only then can it be booked.
    pub(super) all_open: bool,
}

impl SeriesOffer {
    /// Whether `weeks` is the number asked for.
    pub(super) fn is_chosen(&self, weeks: &u32) -> bool {
        self.chosen == Some(*weeks)
    }
}

pub(super) fn weekly(weeks: u32) -> Result<SeriesRule, AppError> {
    SeriesRule::new(1, SeriesEnd::Count(weeks))
        .map_err(|e| AppError::invalid("weeks", e.to_string()))
}

fn rows(check: &SeriesCheck) -> Vec<SeriesRow> {
    let tz = check
        .clinic_timezone
        .parse::<Tz>()
        .unwrap_or(chrono_tz::UTC);
    check
        .occurrences
        .iter()
        .map(|o| SeriesRow {
            day: o.date.naive().format("%A %-d %B %Y").to_string(),
            time: o
                .start
                .map(|s| local(s.unix_nanos(), tz).format("%H:%M").to_string())
                .unwrap_or_default(),
            problem: match &o.verdict {
                Verdict::Open => String::new(),
                Verdict::Refused { rule, reason } => refusal_in_words(*rule, reason),
                Verdict::NeedsOverride { reasons } => reasons.join("; "),
                Verdict::DoesNotExist { reason } => {
                    format!("{}: the clocks change that night.", capitalise(reason))
                }
            },
        })
        .collect()
}

/// The weeks the confirm page offers for a first occurrence at `start` in `tz`: 2 up
/// to 12, as long as the last one is within the organisation's booking window (none
/// when the service does not allow series).
#[allow(clippy::too_many_arguments)]
pub(super) async fn offer(
    state: &AppState,
    p: &Patient,
    service: i64,
    practitioner: i64,
    start: Instant,
    video: bool,
    tz: Tz,
    weeks: Option<u32>,
) -> Result<Option<SeriesOffer>, AppError> {
    let now = state.clock.now();
    if !store_series::portal_allows_series(&state.db, &p.org, service, now).await? {
        return Ok(None);
    }
    let today = crate::clinic_time::today(state, tz);
    let first = local(start.unix_nanos(), tz).date_naive();
    let days_left = p.org.max_days_ahead - (first - today).num_days();
    let most = u32::try_from(days_left / 7 + 1).unwrap_or(0).min(MAX_WEEKS);
    let offered: Vec<u32> = (2..=most).collect();
    if offered.is_empty() {
        return Ok(None);
    }
    let Some(chosen) = weeks else {
        return Ok(Some(SeriesOffer {
            weeks: offered,
            chosen: None,
            rows: Vec::new(),
            all_open: false,
        }));
    };
    if !offered.contains(&chosen) {
        return Err(AppError::invalid(
            "weeks",
            format!("choose 2 to {most} weeks"),
        ));
    }
    let check = store_series::preview_portal(
        &state.db,
        &p.org,
        &PortalSeries {
            patient: p.patient.id,
            service,
            practitioner,
            start,
            telehealth: video,
            rule: weekly(chosen)?,
            idempotency_key: None,
        },
        state.clock.as_ref(),
    )
    .await?;
    Ok(Some(SeriesOffer {
        weeks: offered,
        chosen: Some(chosen),
        all_open: check.all_open(),
        rows: rows(&check),
    }))
}

/// The series' page: booked (every occurrence), or refused (which dates, and why).
#[derive(Template, WebTemplate)]
#[template(path = "portal/series.html")]
pub(super) struct SeriesPage {
    layout: PortalLayout,
    /// The series booked, when it is.
    id: Option<i64>,
    what: String,
    practitioner_name: String,
    /// The clinic's zone, in words.
    zone: String,
    pending: bool,
    rows: Vec<SeriesRow>,
    /// Each occurrence's appointment, beside its row (booked series only).
    links: Vec<i64>,
    /// The confirm page to go back to (refused series only).
    back: String,
}

/// Books the weekly series the confirm page showed, all or none.
pub(super) async fn book_series_page(
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
    let video = parse_mode(form.optional("mode").as_deref())?;
    let weeks: u32 = form
        .get("weeks")
        .parse()
        .map_err(|_| AppError::invalid("weeks", format!("choose 2 to {MAX_WEEKS} weeks")))?;
    let outcome = book_series(
        &state,
        &p,
        service,
        practitioner,
        start,
        video,
        weeks,
        form.optional("idempotency_key"),
    )
    .await?;
    match outcome {
        SeriesOutcome::Booked(b) => Ok(Redirect::to(&format!(
            "/o/{}/portal/series/{}",
            p.org.slug, b.series.id
        ))
        .into_response()),
        SeriesOutcome::Refused(check) => {
            let tz = check
                .clinic_timezone
                .parse::<Tz>()
                .unwrap_or(chrono_tz::UTC);
            let (what, practitioner_name) = names(&state, &p, practitioner, service).await?;
            let page = SeriesPage {
                layout: PortalLayout::new(
                    &p.org,
                    &p.session,
                    Some(&p.patient.first_name),
                    "Not booked",
                    "book",
                )
                .await?,
                id: None,
                what,
                practitioner_name,
                zone: crate::clinic_time::zone_label_with_offset(tz, start.unix_nanos()),
                pending: false,
                rows: rows(&check),
                links: Vec::new(),
                back: format!(
                    "/o/{}/portal/book/{service}/confirm?practitioner={practitioner}&start={}&mode={}",
                    p.org.slug,
                    crate::query::encode(&form.get("start")),
                    if video { "video" } else { "in_person" }
                ),
            };
            Ok((StatusCode::CONFLICT, page).into_response())
        }
    }
}

async fn names(
    state: &AppState,
    p: &Patient,
    practitioner: i64,
    service: i64,
) -> Result<(String, String), AppError> {
    let mut conn = state.db.conn().await?;
    let what = store::portal::service_name(conn.exec(), p.org.id, service).await?;
    let who = store::practitioner::get(conn.exec(), p.org.id, practitioner)
        .await?
        .name;
    Ok((what, who))
}

/// Books a weekly portal series for the signed-in patient, all or none, emailing them
/// once for every occurrence; counts the bookings or the refusal for `/metrics`. The
/// pages and the API answer the outcome their way.
#[allow(clippy::too_many_arguments)]
pub(super) async fn book_series(
    state: &AppState,
    p: &Patient,
    service: i64,
    practitioner: i64,
    start: Instant,
    video: bool,
    weeks: u32,
    idempotency_key: Option<String>,
) -> Result<SeriesOutcome, AppError> {
    if !(2..=MAX_WEEKS).contains(&weeks) {
        return Err(AppError::invalid(
            "weeks",
            format!("choose 2 to {MAX_WEEKS} weeks"),
        ));
    }
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
    let notify = move |list: &[Appointment]| {
        context
            .iter()
            .flat_map(|c| {
                c.series_booked(list)
                    .into_iter()
                    .chain(c.tell_staff_series(list))
            })
            .collect()
    };
    let outcome = store_series::book_portal(
        &state.db,
        &p.org,
        &PortalSeries {
            patient: p.patient.id,
            service,
            practitioner,
            start,
            telehealth: video,
            rule: weekly(weeks)?,
            idempotency_key,
        },
        state.clock.as_ref(),
        Some(&notify),
    )
    .await?;
    match &outcome {
        SeriesOutcome::Booked(b) if !b.replayed => {
            state
                .metrics
                .booked(Channel::Portal, Kind::Series, b.appointments.len() as u64);
            state.mail.notify();
        }
        SeriesOutcome::Refused(_) => state.metrics.conflict(Channel::Portal, Kind::Series),
        SeriesOutcome::Booked(_) => {}
    }
    Ok(outcome)
}

/// The patient's own series and its appointments; another's is not found.
pub(super) async fn own_series(
    state: &AppState,
    p: &Patient,
    id: i64,
) -> Result<(store_series::Series, Vec<Appointment>), AppError> {
    let mut conn = state.db.conn().await?;
    let series = store_series::get(conn.exec(), p.org.id, id).await?;
    if series.patient_id != Some(p.patient.id) {
        return Err(AppError::NotFound("series".into()));
    }
    let list = store_series::appointments(conn.exec(), p.org.id, id).await?;
    Ok((series, list))
}

/// The series' page: every occurrence, with its own page, and "Add all to calendar".
pub(super) async fn series_page(
    State(state): State<AppState>,
    PatientPage(p): PatientPage,
    Path((_, id)): Path<(String, i64)>,
) -> Result<SeriesPage, PageError> {
    let (series, list) = own_series(&state, &p, id).await?;
    let clinics = {
        let mut conn = state.db.conn().await?;
        store::clinic::all(conn.exec(), p.org.id).await?
    };
    let tz = list
        .first()
        .and_then(|a| clinics.iter().find(|c| Some(c.id) == a.clinic_id))
        .map_or(chrono_tz::UTC, |c| c.zone());
    let service = series.service_id.unwrap_or_default();
    let (what, practitioner_name) = names(&state, &p, series.practitioner_id, service)
        .await
        .unwrap_or_else(|_| ("Appointment".to_owned(), String::new()));
    let pending = list.iter().any(|a| a.status == AppointmentStatus::Pending);
    Ok(SeriesPage {
        layout: PortalLayout::new(
            &p.org,
            &p.session,
            Some(&p.patient.first_name),
            if pending {
                "Appointments requested"
            } else {
                "Your weekly appointments"
            },
            "appointments",
        )
        .await?,
        id: Some(series.id),
        what,
        practitioner_name,
        zone: crate::clinic_time::zone_label_with_offset(
            tz,
            list.first().map_or(0, |a| a.start_ns),
        ),
        pending,
        rows: list
            .iter()
            .map(|a| SeriesRow {
                day: local(a.start_ns, tz).format("%A %-d %B %Y").to_string(),
                time: local(a.start_ns, tz).format("%H:%M").to_string(),
                problem: match a.status {
                    AppointmentStatus::Cancelled => "cancelled".to_owned(),
                    AppointmentStatus::Pending => "waiting for the clinic".to_owned(),
                    _ => String::new(),
                },
            })
            .collect(),
        links: list.iter().map(|a| a.id).collect(),
        back: String::new(),
    })
}

/// "Add all to calendar": every booked occurrence as one calendar file, one event each,
/// with the same event ids as the emails' invitations.
pub(super) async fn series_calendar(
    State(state): State<AppState>,
    PatientPage(p): PatientPage,
    Path((_, id)): Path<(String, i64)>,
) -> Result<Response, PageError> {
    let (series, list) = own_series(&state, &p, id).await?;
    let booked: Vec<&Appointment> = list
        .iter()
        .filter(|a| a.status == AppointmentStatus::Booked)
        .collect();
    if booked.is_empty() {
        return Err(AppError::NotFound("series".into()).into());
    }
    let context = AppointmentContext::of_patient(
        &state,
        &p.org,
        &p.patient,
        series.practitioner_id,
        series.service_id,
    )
    .await
    .map_err(AppError::from)?;
    let events: Vec<_> = booked.iter().map(|a| context.calendar_event(a)).collect();
    let text = crate::ics::appointments(&events, crate::ics::IcsMethod::Request);
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/calendar; charset=utf-8".to_owned(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"series-{}.ics\"", series.id),
            ),
        ],
        text,
    )
        .into_response())
}
