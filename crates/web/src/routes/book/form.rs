//! The staff booking form, with its explicit override.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use serde::Deserialize;
use slot_engine::Instant;
use store::Conflict;
use store::appointment::{ResourceRequest, StaffBooking};
use store::book::{self, Choices};

use crate::auth::staff::{Staff, StaffPage};
use crate::clinic_time::{parse_date, parse_time, resolve_local, today};
use crate::error::{AppError, PageError};
use crate::form::{FieldErrors, FormData, PageQuery};
use crate::pages::Layout;
use crate::state::AppState;

use super::book_counted;

/// An option of a select.
#[derive(Debug)]
pub(super) struct Choice {
    pub(super) value: String,
    pub(super) label: String,
    pub(super) selected: bool,
}

/// What the booking form holds, as typed.
#[derive(Clone, Debug, Default)]
pub(super) struct BookingValues {
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
    /// `1` for a video appointment; `0` or empty for in person.
    telehealth: String,
    override_checked: bool,
    override_reason: String,
    pub(super) idempotency_key: String,
    /// Blocking time for the practitioner (no patient) rather than booking a patient.
    block: bool,
    /// What the blocked time is for (`Lunch`); optional.
    block_label: String,
    /// The series' repeat, every how many weeks (`1` to `4`); empty: does not repeat.
    pub(super) repeat: String,
    /// `count` or `until`: how the series ends.
    pub(super) repeat_end: String,
    /// How many occurrences, with `repeat_end` `count`.
    pub(super) repeat_count: String,
    /// The last date, with `repeat_end` `until`.
    pub(super) repeat_until: String,
    /// `skip` to book only what can be booked; else all or nothing.
    pub(super) unfit: String,
    /// The rooms and equipment staff named (resource ids); none: the engine picks per
    /// the service's requirements.
    resources: Vec<String>,
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
            telehealth: form.get("telehealth"),
            override_checked: form.checked("override"),
            override_reason: form.get("override_reason"),
            idempotency_key: form.get("idempotency_key"),
            block: form.get("block") == "yes",
            block_label: form.get("block_label"),
            repeat: form.get("repeat"),
            repeat_end: form.get("repeat_end"),
            repeat_count: form.get("repeat_count"),
            repeat_until: form.get("repeat_until"),
            unfit: form.get("unfit"),
            resources: form.all("resource"),
        }
    }
}

impl BookingValues {
    /// Whether the form asks for a video appointment.
    fn video(&self) -> bool {
        self.telehealth == "1"
    }
}

/// Whether the service (else the schedule type) chosen may be booked by video: `None`
/// when neither is chosen, or the choice is not one of the organisation's.
fn chosen_allows_video(choices: &Choices, values: &BookingValues) -> Option<bool> {
    let id = |v: &str| v.parse::<i64>().ok();
    match id(&values.service) {
        Some(s) => choices.service(s).map(|s| s.telehealth),
        None => id(&values.schedule_type)
            .and_then(|t| choices.schedule_type(t))
            .map(|t| t.telehealth),
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
pub(super) fn form_clinic<'c>(
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
pub(super) struct BookingForm {
    layout: Layout,
    pub(super) values: BookingValues,
    practitioners: Vec<Choice>,
    patients: Vec<Choice>,
    services: Vec<Choice>,
    schedule_types: Vec<Choice>,
    searched: bool,
    timezone: String,
    /// Whether the form offers "In person / Video": unless the service or schedule type
    /// chosen allows no video (the page has no script to follow a changed choice, so
    /// without a choice it is always offered, and the store explains a refusal).
    offer_video: bool,
    /// What the choice means for the service or schedule type chosen.
    video_hint: String,
    errors: FieldErrors,
    reasons: Vec<String>,
    /// The chosen patient's no-shows (`store::patient::no_show_counts`), shown beside
    /// the patient so the desk sees them as it books.
    no_shows: Option<i64>,
    /// The occurrences of the series asked for, checked, once previewed.
    pub(super) series: Option<super::series_form::Preview>,
    /// The rooms and equipment staff may name, ticked as sent.
    resources: Vec<Choice>,
}

/// What a service's or schedule type's option says when it may be booked by video.
fn video_label(telehealth: bool) -> &'static str {
    if telehealth { ", video possible" } else { "" }
}

pub(super) fn options(items: impl Iterator<Item = (i64, String)>, selected: &str) -> Vec<Choice> {
    items
        .map(|(id, label)| Choice {
            selected: id.to_string() == selected,
            value: id.to_string(),
            label,
        })
        .collect()
}

pub(super) async fn booking_form(
    state: &AppState,
    staff: &Staff,
    choices: &Choices,
    mut values: BookingValues,
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
        // One patient found is the one meant: chosen, so "Book" books them.
        if let [only] = found.as_slice()
            && values.patient.is_empty()
        {
            values.patient = only.id.to_string();
        }
        for p in found {
            if !patients.iter().any(|q| q.id == p.id) {
                patients.push(p);
            }
        }
    }
    // Each patient's missed appointments, beside their name: the desk sees them as it books.
    let no_show_counts = if patients.is_empty() {
        Default::default()
    } else {
        store::patient::no_show_counts(conn.exec(), staff.org.id).await?
    };
    let no_shows = values
        .patient
        .parse::<i64>()
        .ok()
        .filter(|id| patients.iter().any(|p| p.id == *id))
        .map(|id| no_show_counts.get(&id).copied().unwrap_or(0));
    let timezone = form_clinic(choices, &values).map_or_else(
        || "UTC".to_owned(),
        |c| format!("{} ({})", c.name, c.timezone),
    );
    let allows = chosen_allows_video(choices, &values);
    let offer_video = allows != Some(false) || values.video() || errors.has("telehealth");
    let video_hint = match allows {
        Some(true) => "The service or schedule type chosen may be booked by video: the patient joins with the practitioner's video link, else the organisation's.",
        Some(false) => "The service or schedule type chosen does not allow video: a video booking needs an override.",
        None => "Video only where the service's or schedule type's schedule types allow telehealth; otherwise the booking needs an override.",
    }
    .to_owned();
    let resources = choices
        .resources
        .iter()
        .map(|r| {
            let clinic = choices.clinic(r.clinic_id).map_or("", |c| c.name.as_str());
            let value = r.id.to_string();
            Choice {
                selected: values.resources.contains(&value),
                label: format!("{} ({}, {clinic})", r.name, r.kind),
                value,
            }
        })
        .collect();
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
            patients.iter().map(|p| {
                let label = format!("{} · {}", p.full_name(), p.email);
                match no_show_counts.get(&p.id).copied().unwrap_or(0) {
                    0 => (p.id, label),
                    1 => (p.id, format!("{label} · 1 no-show")),
                    n => (p.id, format!("{label} · {n} no-shows")),
                }
            }),
            &values.patient,
        ),
        services: options(
            choices.services.iter().map(|s| {
                (
                    s.id,
                    format!(
                        "{} ({} min{})",
                        s.name,
                        s.duration_minutes,
                        video_label(s.telehealth)
                    ),
                )
            }),
            &values.service,
        ),
        schedule_types: options(
            choices.schedule_types.iter().map(|t| {
                (
                    t.id,
                    format!(
                        "{} ({} min{})",
                        t.name,
                        t.default_duration_minutes,
                        video_label(t.telehealth)
                    ),
                )
            }),
            &values.schedule_type,
        ),
        searched,
        timezone,
        offer_video,
        video_hint,
        values,
        errors,
        reasons,
        no_shows,
        series: None,
        resources,
    })
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct NewParams {
    practitioner: Option<String>,
    patient: Option<String>,
    service: Option<String>,
    schedule_type: Option<String>,
    date: Option<String>,
    time: Option<String>,
    clinic: Option<String>,
    block: Option<String>,
}

pub(super) async fn new_page(
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
        block: q.block.as_deref() == Some("yes"),
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
pub(super) fn form_id(errors: &mut FieldErrors, value: &str, field: &str) -> Option<i64> {
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
pub(super) fn form_start(
    errors: &mut FieldErrors,
    date: &str,
    time: &str,
    timezone: &str,
) -> Option<Instant> {
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
pub(super) fn form_duration(errors: &mut FieldErrors, value: &str) -> Option<u32> {
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
pub(super) fn form_override(form: &FormData) -> Option<String> {
    form.checked("override")
        .then(|| form.get("override_reason"))
}

/// Maps a store error to the form: a field message, the reasons that need an override,
/// or the error page. When the override itself is refused (no reason given), the
/// reasons shown before come back from the form, so staff still read what they
/// override.
pub(super) fn absorb_booking_error(
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

pub(super) async fn new_submit(
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
    // A booking is for a patient; time without one is blocked explicitly.
    let patient = if values.block {
        None
    } else {
        let patient = form_id(&mut errors, &values.patient, "patient");
        if patient.is_none() && !errors.has("patient") {
            errors.add(
                "patient",
                "choose a patient (search by name, email or phone); to keep time free without a patient, use Block time",
            );
        }
        patient
    };
    if values.block_label.trim().chars().count() > store::appointment::BLOCK_LABEL_MAX_CHARS {
        errors.add(
            "block_label",
            format!(
                "must be at most {} characters",
                store::appointment::BLOCK_LABEL_MAX_CHARS
            ),
        );
    }
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
    let telehealth = match values.telehealth.as_str() {
        "" | "0" => false,
        "1" => true,
        _ => {
            errors.add("telehealth", "choose in person or video");
            false
        }
    };
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
    if !values.repeat.is_empty() && !values.block {
        // A series is previewed before it is booked.
        let first = super::series_form::First {
            practitioner,
            patient,
            service,
            schedule_type,
            start,
            duration_minutes: duration,
            telehealth,
        };
        return super::series_form::submit(&state, &staff, &choices, &form, values, errors, first)
            .await;
    }
    let mut named = Vec::with_capacity(values.resources.len());
    for value in &values.resources {
        match value
            .parse::<i64>()
            .ok()
            .filter(|&r| choices.resource(r).is_some())
        {
            Some(r) => named.push(r),
            None => errors.add("resources", "choose rooms and equipment from the list"),
        }
    }
    let mut reasons = Vec::new();
    let status = match (practitioner, start) {
        (Some(practitioner), Some(start)) if errors.is_empty() => {
            let booking = StaffBooking {
                staff: store::audit::Actor::Staff(staff.user.id),
                practitioner,
                patient,
                service,
                schedule_type,
                start,
                duration_minutes: duration,
                override_reason: form_override(&form),
                telehealth,
                idempotency_key: Some(values.idempotency_key.clone()).filter(|k| !k.is_empty()),
                resources: if named.is_empty() {
                    ResourceRequest::Auto
                } else {
                    ResourceRequest::Chosen(named)
                },
            };
            match book_counted(&state, &staff.org, &booking).await {
                Ok(booked) => {
                    let label = values.block_label.trim();
                    if values.block && !label.is_empty() && !booked.replayed {
                        store::appointment::label_block(
                            &state.db,
                            staff.org.id,
                            booked.appointment.id,
                            label,
                            store::audit::Actor::Staff(staff.user.id),
                            state.clock.as_ref(),
                        )
                        .await?;
                    }
                    let mut to = format!(
                        "/o/{}/admin/book?date={}&notice={}&appointment={}",
                        staff.org.slug,
                        values.date,
                        if values.block { "blocked" } else { "booked" },
                        booked.appointment.id
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
