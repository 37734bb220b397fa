//! Changing an appointment in the portal, as pages: cancel with a confirmation step and
//! an optional reason, and reschedule — a short list of open times of the same service
//! grouped by day (same practitioner by default, or any the patient may book), a
//! confirm step ("Move from X to Y"), then one move. Both are offered exactly while
//! the clinic's cancellation notice allows (`store::appointment::cancellable_until`).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Duration, NaiveDate};
use chrono_tz::Tz;
use serde::Deserialize;
use store::appointment::{self, PortalMoveOutcome};
use store::portal::AppointmentView;

use crate::auth::patient::{Patient, PatientPage};
use crate::clinic_time::{local, local_datetime, parse_date, today};
use crate::error::{AppError, PageError};
use crate::form::{FormData, PageQuery};
use crate::pages::PortalLayout;
use crate::state::AppState;

use super::appointments::{cancel, own, reschedule};
use super::pages::capitalise;
use super::slots::{SlotDto, allowed, date, parse_start, practitioners_for, slot_dto, slots};

/// How many days with open times one page of the reschedule list shows: short enough
/// for a phone, with "Later" for more.
const DAYS_SHOWN: usize = 4;

/// How many days one page searches for those days.
const SEARCH_DAYS: i64 = 21;

/// An appointment's time in words with its zone's abbreviation, as the portal shows it.
fn when(ns: i64, tz: Tz) -> String {
    format!("{} {}", local_datetime(ns, tz), local(ns, tz).format("%Z"))
}

/// The appointment if the patient may still change it online; else the notice rule's
/// refusal in words, as a conflict.
async fn changeable(state: &AppState, p: &Patient, id: i64) -> Result<AppointmentView, AppError> {
    let a = own(state, p, id).await?;
    if appointment::cancellable_until(&p.org, a.status, a.start_ns, state.clock.now_ns()).is_none()
    {
        return Err(AppError::Conflict {
            message: if a.status.is_changeable() {
                "this appointment can no longer be changed online: the clinic's notice for changes has passed. Please call the clinic.".to_owned()
            } else {
                format!(
                    "a {} appointment cannot be changed",
                    a.status.as_str().replace('_', "-")
                )
            },
            details: serde_json::json!({}),
        });
    }
    Ok(a)
}

async fn layout(p: &Patient, title: &str) -> Result<PortalLayout, AppError> {
    PortalLayout::new(
        &p.org,
        &p.session,
        Some(&p.patient.first_name),
        title,
        "appointments",
    )
    .await
}

/// The cancel confirmation: what is cancelled, an optional reason, and a way back.
#[derive(Template, WebTemplate)]
#[template(path = "portal/cancel.html")]
pub(super) struct CancelPage {
    layout: PortalLayout,
    id: i64,
    what: String,
    when: String,
    reason: String,
    error: Option<String>,
}

async fn cancel_view(
    p: &Patient,
    a: &AppointmentView,
    reason: String,
    error: Option<String>,
) -> Result<CancelPage, AppError> {
    Ok(CancelPage {
        layout: layout(p, "Cancel your appointment").await?,
        id: a.id,
        what: format!(
            "{} with {}",
            a.service_name.as_deref().unwrap_or("Appointment"),
            a.practitioner_name
        ),
        when: when(a.start_ns, a.place.zone()),
        reason,
        error,
    })
}

pub(super) async fn cancel_confirm(
    State(state): State<AppState>,
    PatientPage(p): PatientPage,
    Path((_, id)): Path<(String, i64)>,
) -> Result<Response, PageError> {
    let a = match changeable(&state, &p, id).await {
        Ok(a) => a,
        Err(AppError::Conflict { message, .. }) => {
            let a = own(&state, &p, id).await?;
            let page = cancel_view(&p, &a, String::new(), Some(message)).await?;
            return Ok((StatusCode::CONFLICT, page).into_response());
        }
        Err(e) => return Err(e.into()),
    };
    Ok(cancel_view(&p, &a, String::new(), None)
        .await?
        .into_response())
}

pub(super) async fn cancel_submit(
    State(state): State<AppState>,
    PatientPage(p): PatientPage,
    Path((_, id)): Path<(String, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    let reason = form.get("reason");
    match cancel(&state, &p, id, &reason).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/o/{}/portal/appointments/{id}?notice=cancelled",
            p.org.slug
        ))
        .into_response()),
        Err(AppError::Conflict { message, .. }) => {
            let a = own(&state, &p, id).await?;
            let page = cancel_view(&p, &a, reason, Some(capitalise(&message))).await?;
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(AppError::Invalid { message, .. }) => {
            let a = own(&state, &p, id).await?;
            let page = cancel_view(
                &p,
                &a,
                reason,
                Some(format!("Reason: {message}. Nothing was changed.")),
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// One open time in the reschedule list.
#[derive(Debug)]
struct TimeLink {
    time: String,
    /// Who and where, when it is not the appointment's own practitioner and clinic.
    note: String,
    href: String,
}

/// A day of open times.
#[derive(Debug)]
struct DayTimes {
    date: NaiveDate,
    label: String,
    times: Vec<TimeLink>,
}

/// The query of the reschedule list.
#[derive(Debug, Default, Deserialize)]
pub(super) struct RescheduleQuery {
    /// `any` for any practitioner the patient may book; else the same one.
    with: Option<String>,
    /// The first date searched (`YYYY-MM-DD`, in the appointment's clinic's zone).
    from: Option<String>,
}

/// The reschedule list.
#[derive(Template, WebTemplate)]
#[template(path = "portal/reschedule.html")]
pub(super) struct ReschedulePage {
    layout: PortalLayout,
    id: i64,
    what: String,
    practitioner_name: String,
    when: String,
    any: bool,
    days: Vec<DayTimes>,
    later: Option<String>,
    first: bool,
    notice: Option<String>,
}

/// Groups open times by their local date, keeping at most [`DAYS_SHOWN`] days.
fn group_days(
    org_slug: &str,
    a: &AppointmentView,
    slots: Vec<SlotDto>,
    any: bool,
) -> Vec<DayTimes> {
    let mut days: Vec<DayTimes> = Vec::new();
    let mut last_date = String::new();
    for s in slots {
        if s.practitioner_id == a.practitioner_id
            && s.start
                .parse::<slot_engine::Instant>()
                .map(|i| i.unix_nanos())
                == Ok(a.start_ns)
        {
            continue;
        }
        if s.date != last_date {
            if days.len() == DAYS_SHOWN {
                break;
            }
            let Ok(day) = NaiveDate::parse_from_str(&s.date, "%Y-%m-%d") else {
                continue;
            };
            days.push(DayTimes {
                date: day,
                label: day.format("%A %-d %B").to_string(),
                times: Vec::new(),
            });
            last_date = s.date.clone();
        }
        let mut notes = Vec::new();
        if any || s.practitioner_id != a.practitioner_id {
            notes.push(s.practitioner_name.clone());
        }
        if !a.place.telehealth && s.clinic_id != a.place.clinic_id {
            notes.push(s.clinic_name.clone());
        }
        let href = format!(
            "/o/{org_slug}/portal/appointments/{}/reschedule/confirm?practitioner={}&start={}",
            a.id,
            s.practitioner_id,
            form_urlencoded::byte_serialize(s.start.as_bytes()).collect::<String>()
        );
        if let Some(day) = days.last_mut() {
            day.times.push(TimeLink {
                time: s.time,
                note: notes.join(", "),
                href,
            });
        }
    }
    days
}

#[allow(clippy::too_many_arguments)]
/// The reschedule page when the appointment can no longer be moved online (409): the
/// notice rule in words, and no times to offer.
async fn too_late(
    state: &AppState,
    p: &Patient,
    a: &AppointmentView,
    any: bool,
    from: Option<NaiveDate>,
    message: &str,
) -> Result<Response, PageError> {
    let page = reschedule_view(
        state,
        p,
        a,
        any,
        from,
        Some(capitalise(message)),
        Some(Vec::new()),
    )
    .await?;
    Ok((StatusCode::CONFLICT, page).into_response())
}

async fn reschedule_view(
    state: &AppState,
    p: &Patient,
    a: &AppointmentView,
    any: bool,
    from: Option<NaiveDate>,
    notice: Option<String>,
    offered: Option<Vec<SlotDto>>,
) -> Result<ReschedulePage, AppError> {
    let tz = a.place.zone();
    let first_day = today(state, tz);
    let from = from.unwrap_or(first_day).max(first_day);
    let (days, later) = match (offered, a.service_id) {
        (Some(next), _) => (group_days(&p.org.slug, a, next, any), None),
        (None, None) => (Vec::new(), None),
        (None, Some(service)) => {
            let allowed = allowed(state, p).await?;
            let practitioners = if any {
                allowed.clone()
            } else {
                practitioners_for(&allowed, Some(a.practitioner_id)).unwrap_or(allowed)
            };
            let to = from + Duration::days(SEARCH_DAYS - 1);
            let (input, found) = slots(
                state,
                &p.org,
                service,
                practitioners,
                (date(from)?, date(to)?),
                a.place.telehealth,
            )
            .await?;
            let all: Vec<SlotDto> = found.iter().map(|s| slot_dto(&input, s)).collect();
            let days = group_days(&p.org.slug, a, all, any);
            // "Later" starts the day after the last day shown when the page is full,
            // else after the days searched.
            let next_from = match days.last() {
                Some(last) if days.len() == DAYS_SHOWN => last.date + Duration::days(1),
                _ => to + Duration::days(1),
            };
            let horizon = first_day + Duration::days(p.org.max_days_ahead.max(1));
            let later = (next_from <= horizon).then(|| {
                format!(
                    "/o/{}/portal/appointments/{}/reschedule?with={}&from={next_from}",
                    p.org.slug,
                    a.id,
                    if any { "any" } else { "same" }
                )
            });
            (days, later)
        }
    };
    Ok(ReschedulePage {
        layout: layout(p, "Change the time").await?,
        id: a.id,
        what: a
            .service_name
            .clone()
            .unwrap_or_else(|| "Appointment".to_owned()),
        practitioner_name: a.practitioner_name.clone(),
        when: when(a.start_ns, tz),
        any,
        days,
        later,
        first: from == first_day,
        notice,
    })
}

pub(super) async fn reschedule_page(
    State(state): State<AppState>,
    PatientPage(p): PatientPage,
    Path((_, id)): Path<(String, i64)>,
    PageQuery(q): PageQuery<RescheduleQuery>,
) -> Result<Response, PageError> {
    let any = match q.with.as_deref().map(str::trim) {
        None | Some("") | Some("same") => false,
        Some("any") => true,
        Some(_) => return Err(AppError::invalid("with", "must be same or any").into()),
    };
    let from = match q.from.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(parse_date(text).map_err(|m| AppError::invalid("from", m))?),
    };
    match changeable(&state, &p, id).await {
        Ok(a) => Ok(reschedule_view(&state, &p, &a, any, from, None, None)
            .await?
            .into_response()),
        Err(AppError::Conflict { message, .. }) => {
            let a = own(&state, &p, id).await?;
            too_late(&state, &p, &a, any, from, &message).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The query (and form) of a chosen new time.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ChosenTime {
    practitioner: Option<String>,
    start: Option<String>,
}

/// The chosen practitioner and start, refused naming the field.
fn chosen(practitioner: &str, start: &str) -> Result<(i64, slot_engine::Instant), AppError> {
    let practitioner = practitioner
        .trim()
        .parse::<i64>()
        .map_err(|_| AppError::invalid("practitioner", "must be a practitioner's id"))?;
    Ok((practitioner, parse_start(start)?))
}

/// The confirm step: "Move from X to Y".
#[derive(Template, WebTemplate)]
#[template(path = "portal/reschedule_confirm.html")]
pub(super) struct RescheduleConfirmPage {
    layout: PortalLayout,
    id: i64,
    what: String,
    from_when: String,
    from_with: String,
    /// Where the appointment is now: its clinic, or "Video appointment".
    from_where: String,
    slot: Option<NewTime>,
    practitioner: i64,
    start: String,
}

/// The new time, as the slot search found it open.
#[derive(Debug)]
struct NewTime {
    when: String,
    with: String,
    clinic: String,
    video: bool,
}

pub(super) async fn reschedule_confirm(
    State(state): State<AppState>,
    PatientPage(p): PatientPage,
    Path((_, id)): Path<(String, i64)>,
    PageQuery(q): PageQuery<ChosenTime>,
) -> Result<Response, PageError> {
    let (practitioner, start) = chosen(
        q.practitioner.as_deref().unwrap_or(""),
        q.start.as_deref().unwrap_or(""),
    )?;
    let a = own(&state, &p, id).await?;
    {
        // Another organisation's practitioner is not found, before anything reads it.
        let mut conn = state.db.conn().await?;
        store::practitioner::get(conn.exec(), p.org.id, practitioner).await?;
    }
    let allowed = allowed(&state, &p).await?;
    practitioners_for(&allowed, Some(practitioner))?;
    if let Err(AppError::Conflict { message, .. }) = changeable(&state, &p, id).await {
        return too_late(&state, &p, &a, false, None, &message).await;
    }
    // The time as the slot search sees it now: its clinic, zone and practitioner's
    // name, or nothing when it is no longer open.
    let slot = match a.service_id {
        None => None,
        Some(service) => {
            let day = local(start.unix_nanos(), chrono_tz::UTC).date_naive();
            let (input, found) = slots(
                &state,
                &p.org,
                service,
                Some(vec![practitioner]),
                (
                    date(day - Duration::days(1))?,
                    date(day + Duration::days(1))?,
                ),
                a.place.telehealth,
            )
            .await?;
            found
                .iter()
                .find(|s| s.start_instant() == start)
                .map(|s| slot_dto(&input, s))
                .map(|s| {
                    let tz: Tz = s.timezone.parse().unwrap_or(chrono_tz::UTC);
                    NewTime {
                        when: when(start.unix_nanos(), tz),
                        with: s.practitioner_name,
                        clinic: s.clinic_name,
                        video: a.place.telehealth,
                    }
                })
        }
    };
    Ok(RescheduleConfirmPage {
        layout: layout(&p, "Confirm the new time").await?,
        id,
        what: a
            .service_name
            .clone()
            .unwrap_or_else(|| "Appointment".to_owned()),
        from_when: when(a.start_ns, a.place.zone()),
        from_with: a.practitioner_name.clone(),
        from_where: if a.place.telehealth {
            "Video appointment".to_owned()
        } else {
            a.place.clinic_name.clone()
        },
        slot,
        practitioner,
        start: start.to_string(),
    }
    .into_response())
}

pub(super) async fn reschedule_submit(
    State(state): State<AppState>,
    PatientPage(p): PatientPage,
    Path((_, id)): Path<(String, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    let (practitioner, start) = chosen(&form.get("practitioner"), &form.get("start"))?;
    match reschedule(&state, &p, id, practitioner, start).await {
        Ok(PortalMoveOutcome::Moved(_)) => Ok(Redirect::to(&format!(
            "/o/{}/portal/appointments/{id}?notice=moved",
            p.org.slug
        ))
        .into_response()),
        Ok(PortalMoveOutcome::Taken { rule, reason, next }) => {
            let a = own(&state, &p, id).await?;
            let notice = match rule {
                11 => "Sorry — someone else just took that time. Your appointment has not changed; here are the next open times.".to_owned(),
                _ => format!("That time cannot be booked online ({reason}). Your appointment has not changed; here are the next open times."),
            };
            let next = next.into_iter().map(SlotDto::from).collect();
            let page =
                reschedule_view(&state, &p, &a, true, None, Some(notice), Some(next)).await?;
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(AppError::Conflict { message, .. }) => {
            let a = own(&state, &p, id).await?;
            too_late(&state, &p, &a, false, None, &message).await
        }
        Err(e) => Err(e.into()),
    }
}
