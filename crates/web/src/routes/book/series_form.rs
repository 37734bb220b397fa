//! The booking form's "Repeat": a weekly series is previewed first — every occurrence
//! with its date and time in the clinic's zone and whether it can be booked, needs an
//! override (with a checkbox and a reason for each) or does not exist that day — and
//! then booked as one.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono_tz::Tz;
use slot_engine::{Date, Instant};
use store::appointment::series::{
    self as store_series, SeriesCheck, SeriesOutcome, StaffSeries, Unfit, Verdict,
};
use store::book::Choices;

use crate::auth::staff::Staff;
use crate::clinic_time::local;
use crate::error::{AppError, PageError};
use crate::form::{FieldErrors, FormData};
use crate::state::AppState;

use super::form::{BookingValues, booking_form};
use super::series::{book, rule};

/// The first occurrence, as the form gave it (`None` where a field was refused).
#[derive(Debug)]
pub(super) struct First {
    pub(super) practitioner: Option<i64>,
    pub(super) patient: Option<i64>,
    pub(super) service: Option<i64>,
    pub(super) schedule_type: Option<i64>,
    pub(super) start: Option<Instant>,
    pub(super) duration_minutes: Option<u32>,
    pub(super) telehealth: bool,
}

/// One occurrence in the preview.
#[derive(Debug)]
pub(super) struct Row {
    /// `YYYY-MM-DD`: the name of its override fields.
    pub(super) date: String,
    /// `Tue 3 Mar 2026`.
    pub(super) day: String,
    /// `17:00 GMT`; empty when the time does not exist that day.
    pub(super) time: String,
    /// `open`, `override` or `missing`.
    pub(super) state: &'static str,
    pub(super) reasons: Vec<String>,
    pub(super) override_checked: bool,
    pub(super) override_reason: String,
}

/// The series previewed.
#[derive(Debug)]
pub(super) struct Preview {
    pub(super) rows: Vec<Row>,
    pub(super) all_open: bool,
    /// The clinic's zone the times are in.
    pub(super) timezone: String,
    /// How many occurrences can be booked without an override.
    pub(super) open: usize,
}

impl Preview {
    fn of(check: &SeriesCheck, form: &FormData) -> Preview {
        let tz = check
            .clinic_timezone
            .parse::<Tz>()
            .unwrap_or(chrono_tz::UTC);
        let chosen = form.all("override_date");
        let rows: Vec<Row> = check
            .occurrences
            .iter()
            .map(|o| {
                let date = o.date.to_string();
                let (state, reasons) = match &o.verdict {
                    Verdict::Open => ("open", Vec::new()),
                    Verdict::NeedsOverride { reasons } => ("override", reasons.clone()),
                    Verdict::Refused { reason, .. } => ("override", vec![reason.clone()]),
                    Verdict::DoesNotExist { reason } => ("missing", vec![reason.clone()]),
                };
                Row {
                    day: o.date.naive().format("%a %-d %b %Y").to_string(),
                    time: o
                        .start
                        .map(|s| local(s.unix_nanos(), tz).format("%H:%M %Z").to_string())
                        .unwrap_or_default(),
                    state,
                    reasons,
                    override_checked: chosen.contains(&date),
                    override_reason: form.get(&format!("override_reason_{date}")),
                    date,
                }
            })
            .collect();
        Preview {
            open: rows.iter().filter(|r| r.state == "open").count(),
            all_open: check.all_open(),
            timezone: check.clinic_timezone.clone(),
            rows,
        }
    }
}

/// The override reasons the preview's ticked occurrences give, by date.
fn overrides(form: &FormData, errors: &mut FieldErrors) -> BTreeMap<Date, String> {
    let mut out = BTreeMap::new();
    for date in form.all("override_date") {
        match date.parse::<Date>() {
            Ok(d) => {
                out.insert(d, form.get(&format!("override_reason_{date}")));
            }
            Err(_) => errors.add("overrides", format!("{date:?} is not a date")),
        }
    }
    out
}

/// The repeat rule of the form; errors name the form's fields.
fn form_rule(values: &BookingValues, errors: &mut FieldErrors) -> Option<slot_engine::SeriesRule> {
    let every = match values.repeat.parse::<u32>() {
        Ok(n) => n,
        Err(_) => {
            errors.add("repeat", "choose every 1, 2, 3 or 4 weeks");
            return None;
        }
    };
    let by_date = values.repeat_end == "until";
    let count = if by_date {
        None
    } else {
        match values.repeat_count.trim().parse::<u32>() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.add("repeat_count", "must be a whole number from 2 to 52");
                return None;
            }
        }
    };
    let until = by_date.then_some(values.repeat_until.as_str());
    match rule(every, count, until) {
        Ok(r) => Some(r),
        Err(e) => {
            let (field, message) = match e {
                AppError::Invalid { field, message } => (field, message),
                _ => (String::new(), "is not a rule a series can have".to_owned()),
            };
            let field = match field.as_str() {
                "every_weeks" => "repeat",
                "until" => "repeat_until",
                _ if by_date => "repeat_until",
                _ => "repeat_count",
            };
            errors.add(field, message);
            None
        }
    }
}

/// The store's refusal of a series, on the form: the rule's fields, an override, or
/// any other field.
fn absorb(errors: &mut FieldErrors, e: store::Error) -> Result<(), PageError> {
    match e {
        store::Error::Invalid { field, message } => {
            let field = match field.as_str() {
                "count" => "repeat_count".to_owned(),
                "until" => "repeat_until".to_owned(),
                _ => field,
            };
            errors.add(field, message);
            Ok(())
        }
        store::Error::NotFound(
            what @ ("practitioner" | "patient" | "service" | "schedule type"),
        ) => {
            errors.add(what.replace(' ', "_"), format!("no such {what} here"));
            Ok(())
        }
        other => errors.absorb(other),
    }
}

/// The booking form with a repeat: previews the series (the "Preview" and "Book"
/// buttons), or books it ("Book the series", from the preview).
pub(super) async fn submit(
    state: &AppState,
    staff: &Staff,
    choices: &Choices,
    form: &FormData,
    values: BookingValues,
    mut errors: FieldErrors,
    first: First,
) -> Result<Response, PageError> {
    let rule = form_rule(&values, &mut errors);
    let overrides = overrides(form, &mut errors);
    let series = match (first.practitioner, first.start, rule) {
        (Some(practitioner), Some(start), Some(rule)) if errors.is_empty() => StaffSeries {
            staff: store::audit::Actor::Staff(staff.user.id),
            practitioner,
            patient: first.patient,
            service: first.service,
            schedule_type: first.schedule_type,
            start,
            duration_minutes: first.duration_minutes,
            telehealth: first.telehealth,
            rule,
            unfit: if values.unfit == "skip" {
                Unfit::Skip
            } else {
                Unfit::Refuse
            },
            overrides,
            idempotency_key: Some(values.idempotency_key.clone()).filter(|k| !k.is_empty()),
        },
        _ => {
            let page = booking_form(state, staff, choices, values, errors, Vec::new()).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let (status, check) = if form.get("action") == "book_series" {
        match book(state, &staff.org, &series).await {
            Ok(SeriesOutcome::Booked(b)) => {
                let first = b.appointments.first().map_or(0, |a| a.id);
                // Say so when occurrences were left out, as the desk chose.
                let notice = if b.skipped.is_empty() {
                    "series_booked"
                } else {
                    "series_booked_partly"
                };
                return Ok(Redirect::to(&format!(
                    "/o/{}/admin/book/appointments/{first}?notice={notice}",
                    staff.org.slug
                ))
                .into_response());
            }
            Ok(SeriesOutcome::Refused(check)) => (StatusCode::CONFLICT, Some(check)),
            Err(e) => {
                absorb(&mut errors, e)?;
                // The occurrences again, so that staff see what they correct.
                let check = store_series::preview_staff(&state.db, &staff.org, &series)
                    .await
                    .ok();
                (StatusCode::UNPROCESSABLE_ENTITY, check)
            }
        }
    } else {
        match store_series::preview_staff(&state.db, &staff.org, &series).await {
            Ok(check) => (StatusCode::OK, Some(check)),
            Err(e) => {
                absorb(&mut errors, e)?;
                (StatusCode::UNPROCESSABLE_ENTITY, None)
            }
        }
    };
    let mut page = booking_form(state, staff, choices, values, errors, Vec::new()).await?;
    page.series = check.as_ref().map(|c| Preview::of(c, form));
    Ok((status, page).into_response())
}
