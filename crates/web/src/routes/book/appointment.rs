//! One appointment's page: details, history, move, the desk's statuses (arrived,
//! completed, no-show, each with an undo), and cancel with a reason and an undo.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use store::appointment::Move;
use store::appointment::desk_transition;
use store::book::{self, Entry};
use store::{AppointmentStatus, Channel};

use crate::auth::staff::{Staff, StaffPage};
use crate::clinic_time::{local, when};
use crate::error::PageError;
use crate::form::{FieldErrors, FormData, PageQuery};
use crate::pages::Layout;
use crate::state::AppState;

use super::form::{
    Choice, absorb_booking_error, form_duration, form_id, form_override, form_start, options,
};
use super::{
    cancel_telling_patient, desk_status, entry_of, move_telling_patient, restore_telling_patient,
};

/// A button of the desk's statuses: the status it sets, and its words.
#[derive(Debug)]
struct DeskAction {
    status: &'static str,
    label: &'static str,
}

/// The desk's status buttons allowed now for an appointment in `status` starting at
/// `start_ns`: the store's [`desk_transition`] decides, so a button is shown exactly
/// when pressing it would work.
fn desk_actions(status: AppointmentStatus, start_ns: i64, now_ns: i64) -> Vec<DeskAction> {
    [
        (AppointmentStatus::Arrived, "Arrived"),
        (AppointmentStatus::Completed, "Completed"),
        (AppointmentStatus::NoShow, "No-show"),
        (AppointmentStatus::Booked, "Undo: back to booked"),
    ]
    .into_iter()
    .filter(|(to, _)| desk_transition(status, *to, start_ns, now_ns).is_ok())
    .map(|(to, label)| DeskAction {
        status: to.as_str(),
        label,
    })
    .collect()
}

/// What the page says after a change it redirected from.
#[derive(Debug, Default, Deserialize)]
pub(super) struct NoticeQuery {
    notice: Option<String>,
}

/// The words of a `notice` the page was sent back with; an unknown one says nothing.
fn notice_text(notice: Option<&str>) -> Option<&'static str> {
    match notice? {
        "cancelled" => Some("Cancelled. While its time is still free, you can undo it below."),
        "restored" => Some("Cancellation undone: the appointment is back in the book."),
        "marked" => Some("Status saved."),
        "confirmed" => Some("Marked confirmed."),
        "series_booked" => Some("Series booked: every occurrence is listed below."),
        "series_booked_partly" => Some(
            "Series booked without the occurrences left out: only those listed below are in the book.",
        ),
        "following_cancelled" => Some("This occurrence and the following ones are cancelled."),
        "following_moved" => Some("This occurrence and the following ones are moved."),
        _ => None,
    }
}

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
pub(super) struct AppointmentPage {
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
    notice: Option<&'static str>,
    desk: Vec<DeskAction>,
    cancelled_by: Option<String>,
    no_shows: Option<i64>,
    /// When the patient confirmed it from a reminder (issue 17), in the clinic's time.
    confirmed_at: Option<String>,
    /// The series it is an occurrence of, if any.
    series: Option<SeriesPart>,
}

/// An appointment's series on its page: every occurrence, and whether "this and
/// following" can change anything.
#[derive(Debug)]
struct SeriesPart {
    /// `every week`, `every 2 weeks`, or empty for an imported series.
    rule: String,
    occurrences: Vec<SeriesLine>,
    /// How many occurrences from this one on are still to come (booked or pending).
    following: usize,
}

#[derive(Debug)]
struct SeriesLine {
    id: i64,
    when: String,
    status: String,
    this: bool,
}

/// The series part of an appointment's page, read in the appointment's clinic's zone.
async fn series_part(
    state: &AppState,
    org: i64,
    id: i64,
    tz: chrono_tz::Tz,
) -> Result<Option<SeriesPart>, PageError> {
    let mut conn = state.db.conn().await?;
    let this = store::appointment::get(conn.exec(), org, id).await?;
    let Some(series) = this.series_id else {
        return Ok(None);
    };
    let row = store::appointment::series::get(conn.exec(), org, series).await?;
    let all = store::appointment::series::appointments(conn.exec(), org, series).await?;
    let following = all
        .iter()
        .filter(|a| a.start_ns >= this.start_ns && a.status.is_changeable())
        .count();
    Ok(Some(SeriesPart {
        rule: match row.every_weeks {
            Some(1) => "every week".to_owned(),
            Some(n) => format!("every {n} weeks"),
            None => String::new(),
        },
        occurrences: all
            .iter()
            .map(|a| SeriesLine {
                id: a.id,
                when: crate::clinic_time::local_datetime(a.start_ns, tz),
                status: a.status.as_str().replace('_', "-"),
                this: a.id == id,
            })
            .collect(),
        following,
    }))
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
    let no_shows = match entry.patient_id {
        Some(p) => Some(store::patient::no_show_count(conn.exec(), staff.org.id, p).await?),
        None => None,
    };
    let tz = entry.zone();
    let who = |actor: &str| {
        staff_names.get(actor).cloned().unwrap_or_else(|| {
            if actor.starts_with("patient:") {
                "The patient (portal)".to_owned()
            } else {
                actor.to_owned()
            }
        })
    };
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
                .or_else(|| {
                    details["reason"]
                        .as_str()
                        .filter(|n| !n.is_empty())
                        .map(|n| format!("Reason: {n}"))
                })
                .or_else(|| {
                    // A move: from when to when, on this page's clock.
                    let at = |ns: i64| local(ns, tz).format("%a %-d %b, %H:%M").to_string();
                    match (
                        details["from"]["start_ns"].as_i64(),
                        details["to"]["start_ns"].as_i64(),
                    ) {
                        (Some(from), Some(to)) => Some(format!("{} → {}", at(from), at(to))),
                        _ => None,
                    }
                })
                .or_else(|| {
                    // A change of status says from which; a booking's own status is not one.
                    let from = details["previous_status"]
                        .as_str()
                        .or((e.action == "appointment.restore").then_some("cancelled"))?;
                    let to = details["status"].as_str()?;
                    Some(format!(
                        "{} → {}",
                        from.replace('_', "-"),
                        to.replace('_', "-")
                    ))
                })
                .unwrap_or_default();
            HistoryLine {
                at: local(e.at_ns, tz).format("%a %-d %b %Y, %H:%M").to_string(),
                who: who(&e.actor),
                what: crate::audit_text::action_label(&e.action).to_owned(),
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
    let desk = desk_actions(entry.status, entry.start_ns, state.clock.now_ns());
    let cancelled_by = entry.cancelled_by.as_deref().map(who);
    drop(conn);
    let series = series_part(state, staff.org.id, id, tz).await?;
    Ok(AppointmentPage {
        series,
        layout: Layout::staff(staff, "Appointment", "book").await?,
        notice: None,
        desk,
        cancelled_by,
        no_shows,
        confirmed_at: entry
            .confirmed_at_ns
            .map(|ns| crate::clinic_time::local_datetime(ns, tz)),
        when: when(&entry),
        patient: entry
            .patient_name()
            .unwrap_or_else(|| "No patient".to_owned()),
        back,
        movable: entry.status.is_changeable(),
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

pub(super) async fn appointment_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
    PageQuery(q): PageQuery<NoticeQuery>,
) -> Result<AppointmentPage, PageError> {
    staff.front_desk()?;
    let mut page = appointment_view(
        &state,
        &staff,
        id,
        None,
        FieldErrors::new(),
        Vec::new(),
        None,
    )
    .await?;
    page.notice = notice_text(q.notice.as_deref());
    Ok(page)
}

/// The page again with an error after a refused change: nothing changed.
async fn refused(
    state: &AppState,
    staff: &Staff,
    id: i64,
    message: String,
) -> Result<Response, PageError> {
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        appointment_view(
            state,
            staff,
            id,
            None,
            FieldErrors::new(),
            Vec::new(),
            Some(message),
        )
        .await?,
    )
        .into_response())
}

/// Back to the appointment's page after a change, saying what happened.
fn back_to(staff: &Staff, id: i64, notice: &str) -> Response {
    Redirect::to(&format!(
        "/o/{}/admin/book/appointments/{id}?notice={notice}",
        staff.org.slug
    ))
    .into_response()
}

/// Undoes a cancellation, only while its time is still free.
pub(super) async fn restore_submit(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
) -> Result<Response, PageError> {
    staff.front_desk()?;
    entry_of(&state, staff.org.id, id).await?;
    match restore_telling_patient(&state, &staff.caller(), id).await {
        Ok(_) => Ok(back_to(&staff, id, "restored")),
        Err(store::Error::Conflict(store::Conflict::NeedsOverride { reasons })) => {
            refused(
                &state,
                &staff,
                id,
                format!(
                    "The cancellation cannot be undone: this time is no longer free without an override ({}). Nothing was changed; to book the patient here anyway, book again with an override.",
                    reasons.join("; ")
                ),
            )
            .await
        }
        Err(store::Error::Invalid { message, .. }) => refused(&state, &staff, id, message).await,
        Err(e) => Err(e.into()),
    }
}

/// Sets a desk status (arrived, completed, no-show) or undoes it back to booked.
pub(super) async fn status_submit(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.front_desk()?;
    entry_of(&state, staff.org.id, id).await?;
    let result = match desk_status(&form.get("status")) {
        Ok(status) => {
            store::appointment::mark(
                &state.db,
                &staff.org,
                id,
                status,
                store::audit::Actor::Staff(staff.user.id),
                state.clock.as_ref(),
            )
            .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(back_to(&staff, id, "marked")),
        Err(store::Error::Invalid { message, .. }) => refused(&state, &staff, id, message).await,
        Err(e) => Err(e.into()),
    }
}

/// Marks the appointment confirmed by hand (the patient said so on the phone).
pub(super) async fn confirm_submit(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
    _form: FormData,
) -> Result<Response, PageError> {
    staff.front_desk()?;
    entry_of(&state, staff.org.id, id).await?;
    match store::reminder::confirm_by_staff(
        &state.db,
        staff.org.id,
        id,
        staff.audit_actor(),
        state.clock.now_ns(),
    )
    .await
    {
        Ok(_) => Ok(back_to(&staff, id, "confirmed")),
        Err(store::Error::Invalid { message, .. }) => refused(&state, &staff, id, message).await,
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn move_submit(
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
        &entry.place.clinic_timezone,
    );
    let mut reasons = Vec::new();
    let status = match start {
        Some(start) if errors.is_empty() => {
            let m = Move {
                staff: store::audit::Actor::Staff(staff.user.id),
                appointment: id,
                start,
                practitioner,
                duration_minutes: duration,
                override_reason: form_override(&form),
                // The engine picks the rooms and equipment again at the new time.
                resources: None,
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

/// Cancels with an optional reason, then shows the appointment with its undo.
pub(super) async fn cancel_submit(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.front_desk()?;
    entry_of(&state, staff.org.id, id).await?;
    match cancel_telling_patient(&state, &staff.caller(), id, &form.get("reason")).await {
        Ok(_) => Ok(back_to(&staff, id, "cancelled")),
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

/// Cancels this occurrence and the following ones still to come, telling the patient
/// once.
pub(super) async fn cancel_following_submit(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.front_desk()?;
    entry_of(&state, staff.org.id, id).await?;
    match super::series::cancel_following(&state, &staff.caller(), id, &form.get("reason")).await {
        Ok(_) => Ok(back_to(&staff, id, "following_cancelled")),
        Err(store::Error::Invalid { message, .. }) => refused(&state, &staff, id, message).await,
        Err(e) => Err(e.into()),
    }
}

/// Moves this occurrence to the date and time given and the following ones by the same
/// change of the clock, all or none; a refusal lists every occurrence that cannot move.
pub(super) async fn move_following_submit(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.front_desk()?;
    let entry = entry_of(&state, staff.org.id, id).await?;
    let mut errors = FieldErrors::new();
    let start = form_start(
        &mut errors,
        &form.get("date"),
        &form.get("time"),
        &entry.place.clinic_timezone,
    );
    let Some(start) = start.filter(|_| errors.is_empty()) else {
        let message = errors
            .iter()
            .map(|(f, m)| format!("{f}: {m}"))
            .collect::<Vec<_>>()
            .join("; ");
        return refused(&state, &staff, id, format!("Nothing moved: {message}")).await;
    };
    let reason = form.get("override_reason");
    let m = store::appointment::series::MoveFollowing {
        staff: store::audit::Actor::Staff(staff.user.id),
        appointment: id,
        start,
        override_reason: (!reason.trim().is_empty()).then_some(reason),
    };
    match super::series::move_following(&state, &staff.caller(), &m).await {
        Ok(store::appointment::series::MoveFollowingOutcome::Moved(_)) => {
            Ok(back_to(&staff, id, "following_moved"))
        }
        Ok(store::appointment::series::MoveFollowingOutcome::Refused(checks)) => {
            let tz = entry.zone();
            let lines: Vec<String> = checks
                .iter()
                .filter(|c| !c.reasons.is_empty())
                .map(|c| {
                    format!(
                        "{} → {}: {}",
                        crate::clinic_time::local_datetime(c.from_ns, tz),
                        c.to_ns
                            .map(|ns| crate::clinic_time::local_datetime(ns, tz))
                            .unwrap_or_else(|| "no such time".to_owned()),
                        c.reasons.join("; ")
                    )
                })
                .collect();
            Ok((
                StatusCode::CONFLICT,
                appointment_view(
                    &state,
                    &staff,
                    id,
                    None,
                    FieldErrors::new(),
                    Vec::new(),
                    Some(format!(
                        "Nothing moved: {}. To move them anyway, give a reason for the override.",
                        lines.join(" · ")
                    )),
                )
                .await?,
            )
                .into_response())
        }
        Err(store::Error::Invalid { message, .. }) => refused(&state, &staff, id, message).await,
        Err(e) => Err(e.into()),
    }
}
