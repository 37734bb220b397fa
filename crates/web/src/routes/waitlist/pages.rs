//! The waitlist's pages: the portal's (join, my entries, leave) and staff's (a
//! service's waitlist for a day with its open times to offer by hand, removing
//! entries, adding a patient, and the settings).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use store::audit::Actor;
use store::portal::PortalService;
use store::waitlist;

use crate::auth::patient::{Patient, PatientPage};
use crate::auth::staff::{Staff, StaffPage};
use crate::error::{AppError, PageError};
use crate::form::{FieldErrors, FormData, PageQuery};
use crate::pages::{Layout, PortalLayout};
use crate::state::AppState;

use super::api::{OfferBody, WaitlistSettingsDto, list, offer_by_hand, save_settings};
use super::{JoinBody, hhmm, today, weekday_names};

/// An entry as a page lists it.
#[derive(Debug)]
pub(super) struct Line {
    id: i64,
    who: String,
    service: String,
    wishes: String,
    expires_on: String,
    status: String,
    active: bool,
}

fn wishes(e: &waitlist::Entry, names: &[(i64, String)]) -> String {
    let mut parts = Vec::new();
    if !e.practitioners.is_empty() {
        let who: Vec<String> = e
            .practitioners
            .iter()
            .map(|p| {
                names
                    .iter()
                    .find(|(id, _)| id == p)
                    .map_or_else(|| format!("practitioner {p}"), |(_, n)| n.clone())
            })
            .collect();
        parts.push(format!("with {}", who.join(" or ")));
    }
    match (&e.from_date, &e.to_date) {
        (Some(f), Some(t)) => parts.push(format!("from {f} to {t}")),
        (Some(f), None) => parts.push(format!("from {f}")),
        (None, Some(t)) => parts.push(format!("until {t}")),
        (None, None) => {}
    }
    match (e.from_minute, e.to_minute) {
        (Some(f), Some(t)) => parts.push(format!("{}–{}", hhmm(f), hhmm(t))),
        (Some(f), None) => parts.push(format!("from {}", hhmm(f))),
        (None, Some(t)) => parts.push(format!("before {}", hhmm(t))),
        (None, None) => {}
    }
    if e.weekdays != 127 {
        parts.push(weekday_names(e.weekdays).join(", "));
    }
    if parts.is_empty() {
        "Any time".to_owned()
    } else {
        parts.join("; ")
    }
}

async fn practitioner_names(state: &AppState, org: i64) -> Result<Vec<(i64, String)>, AppError> {
    let mut conn = state.db.conn().await?;
    Ok(store::practitioner::all(conn.exec(), org)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect())
}

/// The join form's fields, as typed.
fn join_body(form: &FormData, patient: Option<i64>) -> Result<JoinBody, AppError> {
    let id = |name: &str| -> Result<Option<i64>, AppError> {
        match form.get(name).trim() {
            "" | "any" => Ok(None),
            v => v
                .parse()
                .map(Some)
                .map_err(|_| AppError::invalid(name, "choose one from the list")),
        }
    };
    let text = |name: &str| Some(form.get(name)).filter(|v| !v.trim().is_empty());
    Ok(JoinBody {
        patient_id: patient,
        service_id: id("service_id")?
            .ok_or_else(|| AppError::invalid("service_id", "choose a service"))?,
        practitioner_ids: id("practitioner_id")?.into_iter().collect(),
        clinic_id: id("clinic_id")?,
        from_date: text("from_date"),
        to_date: text("to_date"),
        from_time: text("from_time"),
        to_time: text("to_time"),
        weekdays: form.all("weekdays"),
        expires_on: text("expires_on"),
        note: form.get("note"),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/waitlist.html")]
pub(super) struct PortalWaitlist {
    layout: PortalLayout,
    lines: Vec<Line>,
    services: Vec<PortalService>,
    practitioners: Vec<(i64, String)>,
    clinics: Vec<(i64, String)>,
    chosen_service: i64,
    errors: FieldErrors,
    notice: Option<String>,
    weekdays: [&'static str; 7],
    /// Refused because times that suit are open: link to the booking page.
    book_link: bool,
    /// What was typed, shown again after a refusal.
    typed: Typed,
    /// The errors in words, each with its field's label.
    error_lines: Vec<String>,
}

/// The join form as typed (empty for a fresh form).
#[derive(Debug, Default)]
pub(super) struct Typed {
    practitioner: i64,
    clinic: i64,
    from_date: String,
    to_date: String,
    from_time: String,
    to_time: String,
    weekdays: Vec<String>,
    expires_on: String,
    note: String,
}

impl Typed {
    fn from_form(form: &FormData) -> Self {
        Typed {
            practitioner: form.get("practitioner_id").parse().unwrap_or(0),
            clinic: form.get("clinic_id").parse().unwrap_or(0),
            from_date: form.get("from_date"),
            to_date: form.get("to_date"),
            from_time: form.get("from_time"),
            to_time: form.get("to_time"),
            weekdays: form.all("weekdays"),
            expires_on: form.get("expires_on"),
            note: form.get("note"),
        }
    }

    fn has_day(&self, day: &str) -> bool {
        self.weekdays.iter().any(|d| d == day)
    }
}

/// A `YYYY-MM-DD` date as the pages write dates: `Tue 15 Dec 2026`.
fn page_date(iso: &str) -> String {
    chrono::NaiveDate::parse_from_str(iso, "%Y-%m-%d")
        .map_or_else(|_| iso.to_owned(), |d| d.format("%a %-d %b %Y").to_string())
}

/// A field's error in words: its label, and the message with field names as words.
fn in_words(field: &str, message: &str) -> String {
    let label = match field {
        "service_id" => "Service",
        "practitioner_ids" | "practitioner_id" => "Practitioner",
        "clinic_id" => "Clinic",
        "from_date" => "From date",
        "to_date" => "To date",
        "from_time" => "Not before",
        "to_time" => "Starting before",
        "weekdays" => "Days",
        "expires_on" => "Keep me on the list until",
        "note" => "Note",
        _ => "",
    };
    let message = message
        .replace("from_date", "the from date")
        .replace("from_time", "the not-before time");
    if label.is_empty() {
        message
    } else {
        format!("{label}: {message}")
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct PortalQuery {
    service: Option<i64>,
    done: Option<String>,
}

async fn portal_view(
    state: &AppState,
    p: &Patient,
    chosen_service: i64,
    errors: FieldErrors,
    notice: Option<String>,
    typed: Typed,
) -> Result<PortalWaitlist, PageError> {
    let mut conn = state.db.conn().await?;
    let services = store::portal::services(conn.exec(), p.org.id).await?;
    let allowed =
        store::appointment::patient_practitioners(&mut conn.exec(), p.org.id, p.patient.id).await?;
    let names = store::practitioner::all(conn.exec(), p.org.id).await?;
    let practitioners: Vec<(i64, String)> = names
        .iter()
        .filter(|x| allowed.as_ref().is_none_or(|a| a.contains(&x.id)))
        .map(|x| (x.id, x.name.clone()))
        .collect();
    let clinics = store::clinic::all(conn.exec(), p.org.id)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let entries = waitlist::of_patient(conn.exec(), p.org.id, p.patient.id).await?;
    let all_names: Vec<(i64, String)> = names.into_iter().map(|x| (x.id, x.name)).collect();
    let lines = entries
        .iter()
        .map(|e| Line {
            id: e.id,
            who: String::new(),
            service: services.iter().find(|s| s.id == e.service_id).map_or_else(
                || "A service no longer online".to_owned(),
                |s| s.name.clone(),
            ),
            wishes: wishes(e, &all_names),
            expires_on: page_date(&e.expires_on),
            status: match e.status {
                waitlist::EntryStatus::Active => "Waiting",
                waitlist::EntryStatus::Booked => "Booked",
                waitlist::EntryStatus::Left => "Left",
                waitlist::EntryStatus::Removed => "Removed by the clinic",
            }
            .to_owned(),
            active: e.status == waitlist::EntryStatus::Active,
        })
        .collect();
    Ok(PortalWaitlist {
        layout: PortalLayout::new(
            &p.org,
            &p.session,
            Some(&p.patient.first_name),
            "Waitlist",
            "waitlist",
        )
        .await?,
        lines,
        services,
        practitioners,
        clinics,
        chosen_service,
        book_link: errors
            .get("service_id")
            .is_some_and(|m| m.starts_with("Times that suit you are open now")),
        error_lines: errors.iter().map(|(f, m)| in_words(f, m)).collect(),
        typed,
        errors,
        notice,
        weekdays: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
    })
}

/// The patient's waitlist: their entries and the form to join.
pub(super) async fn portal_page(
    State(state): State<AppState>,
    PatientPage(p): PatientPage,
    PageQuery(q): PageQuery<PortalQuery>,
) -> Result<PortalWaitlist, PageError> {
    let notice = match q.done.as_deref() {
        Some("joined") => Some(
            "You are on the waitlist. We will email you when a time that suits you comes free."
                .to_owned(),
        ),
        Some("left") => Some("You have left the waitlist for that service.".to_owned()),
        _ => None,
    };
    portal_view(
        &state,
        &p,
        q.service.unwrap_or(0),
        FieldErrors::new(),
        notice,
        Typed::default(),
    )
    .await
}

/// Joins from the form; refused with the message under its field.
pub(super) async fn portal_join(
    State(state): State<AppState>,
    PatientPage(p): PatientPage,
    form: FormData,
) -> Result<Response, PageError> {
    let chosen = form.get("service_id").parse().unwrap_or(0);
    let joined = async {
        let entry = join_body(&form, None)?.entry(p.patient.id)?;
        let day = today(&state, p.org.id).await?;
        waitlist::join(
            &state.db,
            &p.org,
            &entry,
            Actor::Patient(p.patient.id),
            day,
            state.clock.as_ref(),
        )
        .await
        .map_err(AppError::from)
    }
    .await;
    match joined {
        Ok(_) => {
            state.mail.notify();
            Ok(
                Redirect::to(&format!("/o/{}/portal/waitlist?done=joined", p.org.slug))
                    .into_response(),
            )
        }
        Err(AppError::Invalid { field, message }) => {
            let mut errors = FieldErrors::new();
            errors.add(field, message);
            Ok(crate::routes::refused(
                portal_view(&state, &p, chosen, errors, None, Typed::from_form(&form)).await?,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// Leaves: only the patient's own entry (another's is not found).
pub(super) async fn portal_leave(
    State(state): State<AppState>,
    PatientPage(p): PatientPage,
    Path((_, id)): Path<(String, i64)>,
) -> Result<Response, PageError> {
    waitlist::leave(
        &state.db,
        p.org.id,
        id,
        Actor::Patient(p.patient.id),
        state.clock.as_ref(),
    )
    .await?;
    state.mail.wake_waitlist();
    Ok(Redirect::to(&format!("/o/{}/portal/waitlist?done=left", p.org.slug)).into_response())
}

/// An open time staff may offer by hand.
#[derive(Debug)]
pub(super) struct OpenTime {
    practitioner_id: i64,
    practitioner: String,
    clinic: String,
    time: String,
    start: String,
}

/// A held time as staff see it.
#[derive(Debug)]
pub(super) struct HeldLine {
    practitioner: String,
    time: String,
    until: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/waitlist.html")]
pub(super) struct StaffWaitlist {
    layout: Layout,
    services: Vec<(i64, String)>,
    service: i64,
    date: String,
    lines: Vec<Line>,
    held: Vec<HeldLine>,
    times: Vec<OpenTime>,
    settings: WaitlistSettingsDto,
    errors: FieldErrors,
    notice: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct StaffQuery {
    service_id: Option<i64>,
    date: Option<String>,
    done: Option<String>,
}

async fn staff_view(
    state: &AppState,
    staff: &Staff,
    service: Option<i64>,
    date: Option<String>,
    errors: FieldErrors,
    notice: Option<String>,
) -> Result<StaffWaitlist, PageError> {
    let services: Vec<(i64, String)> = {
        let mut conn = state.db.conn().await?;
        store::portal::services(conn.exec(), staff.org.id)
            .await?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect()
    };
    let service = service
        .filter(|s| *s != 0)
        .or_else(|| services.first().map(|s| s.0))
        .unwrap_or(0);
    let day = match date.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => crate::clinic_time::parse_date(d).map_err(|m| AppError::invalid("date", m))?,
        None => today(state, staff.org.id).await?,
    };
    let names = practitioner_names(state, staff.org.id).await?;
    let name = |id: i64| {
        names
            .iter()
            .find(|(p, _)| *p == id)
            .map_or_else(String::new, |(_, n)| n.clone())
    };
    let (mut lines, mut held, mut times) = (Vec::new(), Vec::new(), Vec::new());
    let clinics = {
        let mut conn = state.db.conn().await?;
        store::clinic::all(conn.exec(), staff.org.id).await?
    };
    let zone = crate::clinic_time::OrgZone::of(&clinics);
    if service != 0 {
        let (entries, holds) = list(state, &staff.caller(), service, Some(day)).await?;
        lines = entries
            .iter()
            .map(|(e, who)| Line {
                id: e.id,
                who: who.clone(),
                service: String::new(),
                wishes: wishes(e, &names),
                expires_on: page_date(&e.expires_on),
                status: String::new(),
                active: true,
            })
            .collect();
        held = holds
            .iter()
            .map(|h| HeldLine {
                practitioner: name(h.practitioner_id),
                time: zone.datetime(h.start_ns),
                until: zone.datetime(h.expires_at_ns),
            })
            .collect();
        if let Ok(d) = slot_engine::Date::try_from(day) {
            let mut conn = state.db.conn().await?;
            if let Ok((input, slots)) = store::window::open_slots(
                &mut conn.exec(),
                &staff.org,
                &store::window::SlotRequest {
                    service,
                    practitioners: None,
                    from: d,
                    to: d,
                    now: state.clock.now(),
                    telehealth: false,
                },
            )
            .await
            {
                times = slots
                    .iter()
                    .take(200)
                    .map(|s| {
                        let o = input.open_slot(s);
                        OpenTime {
                            practitioner_id: o.practitioner_id,
                            practitioner: o.practitioner_name.clone(),
                            clinic: o.clinic_name.clone(),
                            time: o.start.format("%H:%M").to_string(),
                            start: o.start.to_rfc3339(),
                        }
                    })
                    .collect();
            }
        }
    }
    let settings = {
        let mut conn = state.db.conn().await?;
        waitlist::settings(conn.exec(), staff.org.id).await?.into()
    };
    Ok(StaffWaitlist {
        layout: Layout::staff(staff, "Waitlist", "waitlist").await?,
        services,
        service,
        date: day.format("%Y-%m-%d").to_string(),
        lines,
        held,
        times,
        settings,
        errors,
        notice,
    })
}

/// A service's waitlist for a day (front desk).
pub(super) async fn staff_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    PageQuery(q): PageQuery<StaffQuery>,
) -> Result<StaffWaitlist, PageError> {
    staff.front_desk()?;
    let notice = match q.done.as_deref() {
        Some("offered") => {
            Some("Offered: the time is held and the patients are emailed.".to_owned())
        }
        Some("removed") => Some("Removed from the waitlist.".to_owned()),
        Some("added") => Some("Added to the waitlist.".to_owned()),
        Some("settings") => Some("Settings saved.".to_owned()),
        _ => None,
    };
    staff_view(
        &state,
        &staff,
        q.service_id,
        q.date,
        FieldErrors::new(),
        notice,
    )
    .await
}

/// Where a form goes back to: the service it named, and the day of the time it
/// offered or of the page it came from (Add carries it as `date`; Remove in its
/// action's query).
fn back(staff: &Staff, form: &FormData, q: &BackQuery, done: &str) -> Response {
    let (service, date) = back_to(form, q);
    Redirect::to(&format!(
        "/o/{}/admin/waitlist?service_id={service}&date={}&done={done}",
        staff.org.slug,
        urlencoding(&date)
    ))
    .into_response()
}

/// The page a form came from, in its action's query (the service and day shown), so
/// Remove and Add go back there.
#[derive(Debug, Default, Deserialize)]
pub(super) struct BackQuery {
    service_id: Option<i64>,
    date: Option<String>,
}

/// The service and day to go back to: the form's, else the page's it came from.
fn back_to(form: &FormData, q: &BackQuery) -> (i64, String) {
    let service = form
        .get("service_id")
        .parse::<i64>()
        .ok()
        .or(q.service_id)
        .unwrap_or(0);
    let start: String = form.get("start").chars().take(10).collect();
    let date = [start, form.get("date"), q.date.clone().unwrap_or_default()]
        .into_iter()
        .find(|d| !d.is_empty())
        .unwrap_or_default();
    (service, date)
}

fn urlencoding(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

async fn refused_or(
    state: &AppState,
    staff: &Staff,
    form: &FormData,
    q: &BackQuery,
    result: Result<(), AppError>,
    done: &str,
) -> Result<Response, PageError> {
    match result {
        Ok(()) => Ok(back(staff, form, q, done)),
        Err(AppError::Invalid { field, message }) => {
            let mut errors = FieldErrors::new();
            errors.add(field, message);
            let (service, date) = back_to(form, q);
            let page = staff_view(
                state,
                staff,
                Some(service).filter(|s| *s != 0),
                Some(date).filter(|d| !d.is_empty()),
                errors,
                None,
            )
            .await?;
            Ok(crate::routes::refused(page))
        }
        Err(e) => Err(e.into()),
    }
}

/// Adds a patient to the waitlist (front desk).
pub(super) async fn staff_join(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    PageQuery(q): PageQuery<BackQuery>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.front_desk()?;
    let result = async {
        let patient = form
            .get("patient_id")
            .trim()
            .parse()
            .map_err(|_| AppError::invalid("patient_id", "give the patient's number"))?;
        let entry = join_body(&form, Some(patient))?.entry(patient)?;
        let day = today(&state, staff.org.id).await?;
        waitlist::join(
            &state.db,
            &staff.org,
            &entry,
            staff.audit_actor(),
            day,
            state.clock.as_ref(),
        )
        .await?;
        state.mail.notify();
        Ok(())
    }
    .await;
    refused_or(&state, &staff, &form, &q, result, "added").await
}

/// Removes an entry (front desk).
pub(super) async fn staff_remove(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
    PageQuery(q): PageQuery<BackQuery>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.front_desk()?;
    let result = waitlist::leave(
        &state.db,
        staff.org.id,
        id,
        staff.audit_actor(),
        state.clock.as_ref(),
    )
    .await
    .map(|_| state.mail.wake_waitlist())
    .map_err(AppError::from);
    refused_or(&state, &staff, &form, &q, result, "removed").await
}

/// Offers an open time by hand (front desk).
pub(super) async fn staff_offer(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    form: FormData,
) -> Result<Response, PageError> {
    staff.front_desk()?;
    let result = async {
        let body = OfferBody {
            service_id: form
                .get("service_id")
                .parse()
                .map_err(|_| AppError::invalid("service_id", "choose a service"))?,
            practitioner_id: form
                .get("practitioner_id")
                .parse()
                .map_err(|_| AppError::invalid("practitioner_id", "choose a practitioner"))?,
            start: form.get("start"),
        };
        offer_by_hand(&state, &staff.caller(), &body)
            .await
            .map(|_| ())
    }
    .await;
    let result = match result {
        // Shown on the page like a field error: the time cannot be held now.
        Err(AppError::Conflict { message, .. }) => Err(AppError::invalid("start", message)),
        other => other,
    };
    refused_or(
        &state,
        &staff,
        &form,
        &BackQuery::default(),
        result,
        "offered",
    )
    .await
}

/// Saves the settings (admin).
pub(super) async fn staff_settings(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let number = |name: &str| -> Result<i64, AppError> {
        form.get(name)
            .trim()
            .parse()
            .map_err(|_| AppError::invalid(name, "enter a whole number"))
    };
    let result = async {
        let s = WaitlistSettingsDto {
            offer_count: number("offer_count")?,
            hold_minutes: number("hold_minutes")?,
            max_holds_per_service: number("max_holds_per_service")?,
            max_entries_per_patient: number("max_entries_per_patient")?,
        };
        save_settings(&state, &staff.caller(), &s).await?;
        Ok(())
    }
    .await;
    refused_or(
        &state,
        &staff,
        &form,
        &BackQuery::default(),
        result,
        "settings",
    )
    .await
}
