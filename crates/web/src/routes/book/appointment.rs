//! One appointment's page: details, history, move and cancel.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use store::Channel;
use store::appointment::Move;
use store::book::{self, Entry};

use crate::auth::staff::{Staff, StaffPage};
use crate::clinic_time::{local, when};
use crate::error::PageError;
use crate::form::{FieldErrors, FormData};
use crate::pages::Layout;
use crate::state::AppState;

use super::form::{
    Choice, absorb_booking_error, form_duration, form_id, form_override, form_start, options,
};
use super::{cancel_telling_patient, entry_of, move_telling_patient};

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
    Ok(AppointmentPage {
        layout: Layout::staff(staff, "Appointment", "book").await?,
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

pub(super) async fn cancel_submit(
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
