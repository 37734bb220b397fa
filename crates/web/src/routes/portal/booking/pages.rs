//! The portal's booking pages: services, a month of days and one day's times (open to
//! visitors who have not signed in when the clinic chooses), confirm, book; My
//! appointments, one appointment, and its calendar file.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate};
use serde::Deserialize;
use slot_engine::Date;
use store::AppointmentStatus;
use store::appointment::{self, PortalBooking, PortalCheck, PortalOutcome};
use store::clinic::Clinic;
use store::portal::{self, AppointmentView, PortalPractitioner, PortalService};
use utoipa::IntoParams;

use crate::auth::patient::{Patient, PatientPage, Visitor, VisitorPage};
use crate::clinic_time::local_datetime;
use crate::error::{AppError, PageError};
use crate::form::{FormData, PageQuery};
use crate::limits::ClientAddress;
use crate::notices::AppointmentContext;
use crate::pages::PortalLayout;
use crate::state::AppState;

use super::appointments::{AppointmentDto, appointment_dto, list, own};
use super::month::{self, Week};
use super::slots::{
    SlotDto, allowed_to_visitor, book, date, parse_mode, parse_start, practitioners_for, slot_dto,
    slots,
};

#[derive(Template, WebTemplate)]
#[template(path = "portal/services.html")]
pub(super) struct ServicesPage {
    layout: PortalLayout,
    services: Vec<PortalService>,
}

pub(super) async fn services_page(
    State(state): State<AppState>,
    VisitorPage(v): VisitorPage,
) -> Result<ServicesPage, PageError> {
    let mut conn = state.db.conn().await?;
    Ok(ServicesPage {
        layout: PortalLayout::new(
            &v.org,
            &v.session,
            v.patient.as_ref().map(|p| p.first_name.as_str()),
            "Book an appointment",
            "book",
        )
        .await?,
        services: portal::services(conn.exec(), v.org.id).await?,
    })
}

#[derive(Deserialize, IntoParams)]
pub(super) struct SlotsQuery {
    /// A practitioner's row id, or absent/`any` for the first available.
    practitioner: Option<String>,
    /// A clinic's row id, or absent/`any` for every clinic.
    clinic: Option<String>,
    /// `in_person` (default) or `video`.
    mode: Option<String>,
    /// The month shown, `YYYY-MM` (default: the chosen day's, else this month).
    month: Option<String>,
    /// The day whose times are shown, `YYYY-MM-DD` (default: the month's first day
    /// with open times).
    day: Option<String>,
    /// The day, as older links name it.
    from: Option<String>,
}

/// A row id in a query, or `None` for absent/`any`.
fn parse_choice(field: &str, value: Option<&str>) -> Result<Option<i64>, AppError> {
    match value.map(str::trim) {
        None | Some("") | Some("any") => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| AppError::invalid(field, format!("must be a {field} id or \"any\""))),
    }
}

/// What the patient asked the slots page for.
#[derive(Clone, Debug, Default)]
struct Choice {
    practitioner: Option<i64>,
    clinic: Option<i64>,
    video: bool,
}

impl Choice {
    /// The query string that asks for it again (with `&month=` and `&day=` to follow).
    fn query(&self) -> String {
        format!(
            "practitioner={}&clinic={}&mode={}",
            self.practitioner
                .map_or_else(|| "any".to_owned(), |p| p.to_string()),
            self.clinic
                .map_or_else(|| "any".to_owned(), |c| c.to_string()),
            if self.video { "video" } else { "in_person" }
        )
    }
}

/// An open time as the page lists it.
struct SlotLink {
    /// The confirm page's address for it.
    href: String,
    /// `08:15`, in the clinic's zone.
    time: String,
    /// `Mon 2 Mar, 08:15 PST`: for the "next open times" card, which spans days.
    when: String,
    practitioner_name: String,
}

/// One clinic's open times of one day, in start order.
struct ClinicTimes {
    clinic_name: String,
    /// The clinic's address on one line; empty when it has none (or for video).
    address: String,
    /// `Vancouver time (PST)`, when the organisation's clinics are in several zones.
    zone: Option<String>,
    slots: Vec<SlotLink>,
}

/// A day to jump to: its month (`YYYY-MM`), its date (`YYYY-MM-DD`) and its label.
struct DayLink {
    month: String,
    day: String,
    label: String,
}

/// The day and month the page shows.
#[derive(Clone, Copy, Debug, Default)]
struct Wanted {
    month: Option<NaiveDate>,
    day: Option<NaiveDate>,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/slots.html")]
pub(super) struct SlotsPage {
    layout: PortalLayout,
    service: PortalService,
    practitioners: Vec<PortalPractitioner>,
    clinics: Vec<Clinic>,
    chosen: String,
    chosen_clinic: String,
    video: bool,
    /// The query string of the choice, for the calendar's links.
    query: String,
    /// `December 2026`.
    month_label: String,
    /// `2026-12`: the month shown, kept by the filter form.
    month: String,
    weeks: Vec<Week>,
    /// The months either side, `YYYY-MM`, when they can have open times.
    previous_month: Option<String>,
    next_month: Option<String>,
    /// The chosen day (`YYYY-MM-DD`) and its label, and its times by clinic.
    day: Option<String>,
    day_label: String,
    clinic_times: Vec<ClinicTimes>,
    /// The first day with open times from today, when there is one.
    next_available: Option<DayLink>,
    /// The next open times after a refused time.
    first: Vec<SlotLink>,
    notice: Option<String>,
    /// Whether nobody is signed in (the page says booking asks them to).
    anonymous: bool,
}

impl SlotsPage {
    /// The address of this page for another month or day, with the same choice.
    fn href(&self, month: &str, day: Option<&str>) -> String {
        let mut href = format!(
            "/o/{}/portal/book/{}?{}&month={month}",
            self.layout.org_slug, self.service.id, self.query
        );
        if let Some(day) = day {
            href.push_str("&day=");
            href.push_str(day);
        }
        href
    }
}

/// The confirm page's address for a slot.
fn confirm_href(org_slug: &str, service: i64, s: &SlotDto, video: bool) -> String {
    format!(
        "/o/{org_slug}/portal/book/{service}/confirm?practitioner={}&start={}{}",
        s.practitioner_id,
        crate::query::encode(&s.start),
        if video { "&mode=video" } else { "" }
    )
}

fn slot_link(org_slug: &str, service: i64, s: &SlotDto, video: bool, zones: bool) -> SlotLink {
    let start = DateTime::parse_from_rfc3339(&s.start).ok();
    let tz: Option<chrono_tz::Tz> = s.timezone.parse().ok();
    let when = match (start, tz) {
        (Some(t), Some(tz)) => {
            let local = t.with_timezone(&tz);
            if zones {
                local.format("%a %-d %b, %H:%M %Z").to_string()
            } else {
                local.format("%a %-d %b, %H:%M").to_string()
            }
        }
        _ => format!("{} {}", s.date, s.time),
    };
    SlotLink {
        href: confirm_href(org_slug, service, s, video),
        time: s.time.clone(),
        when,
        practitioner_name: s.practitioner_name.clone(),
    }
}

/// One day's open times grouped by clinic, in time order, each group with its address
/// and, when the clinics span zones, its zone. With `first_available`, a time several
/// practitioners have is listed once, with the first of them: the patient chose no one.
fn by_clinic(
    day: &[&SlotDto],
    clinics: &[Clinic],
    link: impl Fn(&SlotDto) -> SlotLink,
    (video, zones, first_available): (bool, bool, bool),
) -> Vec<ClinicTimes> {
    let mut groups: Vec<(i64, ClinicTimes)> = Vec::new();
    for s in day {
        match groups.iter_mut().find(|(id, _)| *id == s.clinic_id) {
            Some((_, g)) => g.slots.push(link(s)),
            None => {
                let clinic = clinics.iter().find(|c| c.id == s.clinic_id);
                groups.push((
                    s.clinic_id,
                    ClinicTimes {
                        clinic_name: s.clinic_name.clone(),
                        address: match clinic {
                            Some(c) if !video => c.address.replace('\n', ", "),
                            _ => String::new(),
                        },
                        zone: match (zones, clinic) {
                            (true, Some(c)) => DateTime::parse_from_rfc3339(&s.start)
                                .ok()
                                .and_then(|t| t.timestamp_nanos_opt())
                                .map(|ns| crate::clinic_time::zone_label(c.zone(), ns)),
                            _ => None,
                        },
                        slots: vec![link(s)],
                    },
                ));
            }
        }
    }
    groups
        .into_iter()
        .map(|(_, mut g)| {
            g.slots.sort_by(|a, b| a.time.cmp(&b.time));
            if first_available {
                g.slots.dedup_by(|a, b| a.time == b.time);
            }
            g
        })
        .collect()
}

/// How far past today "Next available" looks when the month shown has no open time.
const NEXT_AVAILABLE_DAYS: i64 = 62;

#[allow(clippy::too_many_arguments)]
async fn slots_view(
    state: &AppState,
    v: &Visitor,
    service_id: i64,
    choice: Choice,
    wanted: Wanted,
    notice: Option<String>,
    next_offered: Vec<SlotDto>,
) -> Result<SlotsPage, AppError> {
    let allowed = allowed_to_visitor(state, v).await?;
    let covered = practitioners_for(&allowed, choice.practitioner)?;
    let mut conn = state.db.conn().await?;
    let service = portal::service(conn.exec(), v.org.id, service_id).await?;
    let clinics = store::clinic::all(conn.exec(), v.org.id).await?;
    if let Some(c) = choice.clinic {
        store::clinic::get(conn.exec(), v.org.id, c).await?;
    }
    let today = crate::clinic_time::earliest_today(state, &clinics);
    let practitioners = portal::practitioners(
        conn.exec(),
        v.org.id,
        service_id,
        allowed.as_deref(),
        date(today)?,
    )
    .await?;
    drop(conn);
    // Another organisation's practitioner, or one who does not give this service, is
    // not found (not an empty month).
    if let Some(asked) = choice.practitioner
        && !practitioners.iter().any(|p| p.id == asked)
    {
        return Err(AppError::NotFound("practitioner".into()));
    }
    let video = choice.video && service.offers_video;
    // A video appointment is at no clinic the patient goes to: the clinic choice, which
    // the page hides in video mode, must not hide video times either.
    let choice = Choice {
        clinic: if video { None } else { choice.clinic },
        ..choice
    };
    let zones = crate::clinic_time::OrgZone::of(&clinics).labelled;
    // The months that can have open times: from this one to the booking window's last.
    // A month outside them shows the nearest one, so one page asks the engine for at
    // most one month (and "Next available" for at most two more).
    let last_bookable = crate::clinic_time::last_bookable(state, &clinics, v.org.max_days_ahead);
    let this_month = month::first_of(today);
    let shown = wanted
        .month
        .or(wanted.day.map(month::first_of))
        .unwrap_or(this_month)
        .clamp(this_month, month::first_of(last_bookable));
    let (from, to) = (shown.max(today), month::last_of(shown).min(last_bookable));
    let in_clinic = |s: &SlotDto| choice.clinic.is_none_or(|c| c == s.clinic_id);
    let found: Vec<SlotDto> = if from <= to {
        let (input, found) = slots(
            state,
            &v.org,
            service_id,
            covered.clone(),
            (date(from)?, date(to)?),
            video,
        )
        .await?;
        found
            .iter()
            .map(|s| slot_dto(&input, s))
            .filter(|s| in_clinic(s))
            .collect()
    } else {
        Vec::new()
    };
    let open: BTreeSet<NaiveDate> = found.iter().filter_map(|s| s.date.parse().ok()).collect();
    let day = match wanted.day {
        Some(d) if month::first_of(d) == shown => Some(d),
        _ => open.first().copied(),
    };
    // "Next available": the first open day from today — this month's first when the
    // month shown is this one and has any, else one more engine query ahead.
    let next_available = match open.first() {
        Some(first) if shown == this_month => Some(*first),
        _ => {
            let ahead = (today + Duration::days(NEXT_AVAILABLE_DAYS)).min(last_bookable);
            if today <= ahead {
                let (input, later) = slots(
                    state,
                    &v.org,
                    service_id,
                    covered,
                    (date(today)?, date(ahead)?),
                    video,
                )
                .await?;
                later
                    .iter()
                    .map(|s| slot_dto(&input, s))
                    .find(|s| in_clinic(s))
                    .and_then(|s| s.date.parse::<NaiveDate>().ok())
            } else {
                None
            }
        }
    };
    let slug = v.org.slug.as_str();
    let link = |s: &SlotDto| slot_link(slug, service_id, s, video, zones);
    let day_text = day.map(|d| d.to_string());
    let of_day: Vec<&SlotDto> = found
        .iter()
        .filter(|s| day_text.as_deref() == Some(s.date.as_str()))
        .collect();
    Ok(SlotsPage {
        layout: PortalLayout::new(
            &v.org,
            &v.session,
            v.patient.as_ref().map(|p| p.first_name.as_str()),
            format!("Book: {}", service.name),
            "book",
        )
        .await?,
        first: next_offered.iter().map(link).collect(),
        clinic_times: by_clinic(
            &of_day,
            &clinics,
            link,
            (video, zones, choice.practitioner.is_none()),
        ),
        practitioners,
        clinics: if video { Vec::new() } else { clinics },
        chosen: choice
            .practitioner
            .map_or_else(|| "any".to_owned(), |p| p.to_string()),
        chosen_clinic: choice
            .clinic
            .map_or_else(|| "any".to_owned(), |c| c.to_string()),
        video,
        query: Choice { video, ..choice }.query(),
        service,
        month_label: shown.format("%B %Y").to_string(),
        month: shown.format("%Y-%m").to_string(),
        weeks: month::weeks(shown, &open, day, today),
        previous_month: (shown > this_month)
            .then(|| month::previous_month(shown).format("%Y-%m").to_string()),
        next_month: (month::next_month(shown) <= last_bookable)
            .then(|| month::next_month(shown).format("%Y-%m").to_string()),
        day: day_text,
        day_label: day.map_or_else(String::new, |d| d.format("%A %-d %B").to_string()),
        next_available: next_available.map(|d| DayLink {
            month: d.format("%Y-%m").to_string(),
            day: d.to_string(),
            label: d.format("%A %-d %B").to_string(),
        }),
        notice,
        anonymous: v.patient.is_none(),
    })
}

/// A date parameter, checked against the calendar's years before any arithmetic on it:
/// a far-off date (`+262142-12-31`) parses, but the end of its month may not exist.
fn parse_day(field: &str, value: Option<&str>) -> Result<Option<NaiveDate>, AppError> {
    match value.map(str::trim).filter(|f| !f.is_empty()) {
        Some(f) => {
            let naive = f
                .parse::<NaiveDate>()
                .map_err(|_| AppError::invalid(field, "must be a date YYYY-MM-DD"))?;
            in_calendar(field, naive)?;
            Ok(Some(naive))
        }
        None => Ok(None),
    }
}

/// Refuses, naming `field`, a date whose month does not lie wholly in the engine's
/// calendar (so the page's month after it can be asked for too).
fn in_calendar(field: &str, naive: NaiveDate) -> Result<(), AppError> {
    let end = month::next_month(month::first_of(naive));
    Date::try_from(naive).map_err(|e| AppError::invalid(field, e.to_string()))?;
    match end.checked_add_days(chrono::Days::new(31)) {
        Some(after) if after > end => Date::try_from(after)
            .map(|_| ())
            .map_err(|e| AppError::invalid(field, e.to_string())),
        _ => Err(AppError::invalid(field, "is too far off")),
    }
}

pub(super) async fn slots_page(
    State(state): State<AppState>,
    VisitorPage(v): VisitorPage,
    address: ClientAddress,
    Path((_, service)): Path<(String, i64)>,
    PageQuery(q): PageQuery<SlotsQuery>,
) -> Result<SlotsPage, PageError> {
    let choice = Choice {
        practitioner: parse_choice("practitioner", q.practitioner.as_deref())?,
        clinic: parse_choice("clinic", q.clinic.as_deref())?,
        video: parse_mode(q.mode.as_deref())?,
    };
    let wanted = Wanted {
        month: match q.month.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
            Some(m) => {
                let first = month::parse_month(m)?;
                in_calendar("month", first)?;
                Some(first)
            }
            None => None,
        },
        day: match parse_day("day", q.day.as_deref())? {
            Some(d) => Some(d),
            None => parse_day("from", q.from.as_deref())?,
        },
    };
    // A visitor who has not signed in is counted per address: each page asks the engine
    // for a month.
    if v.patient.is_none()
        && let Err(e) = state.limits.browse(address.0)
    {
        state.metrics.rate_limited();
        return Err(e.into());
    }
    Ok(slots_view(&state, &v, service, choice, wanted, None, Vec::new()).await?)
}

#[derive(Deserialize)]
pub(super) struct ConfirmQuery {
    practitioner: i64,
    start: String,
    mode: Option<String>,
    /// Weeks of a weekly series to show (where the service allows series).
    weeks: Option<u32>,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/confirm.html")]
pub(super) struct ConfirmPage {
    layout: PortalLayout,
    service: PortalService,
    practitioner_name: String,
    /// `Tuesday 3 March 2026, 09:00`, in the clinic's zone.
    when: String,
    /// `Vancouver time (PST, UTC−08:00)`: always said on the page that commits.
    zone: String,
    video: bool,
    clinic: Clinic,
    practitioner: i64,
    start: String,
    idempotency_key: String,
    /// The clinic's cancellation notice in words, none when there is none.
    notice: Option<String>,
    /// "Book this time weekly", where the service allows series.
    series: Option<super::series_pages::SeriesOffer>,
}

/// The page that commits: it asks the slot rules first, and offers "Book it" only for
/// a time they would book now; otherwise it says why, with the next open times.
pub(super) async fn confirm_page(
    State(state): State<AppState>,
    PatientPage(p): PatientPage,
    Path((_, service_id)): Path<(String, i64)>,
    PageQuery(q): PageQuery<ConfirmQuery>,
) -> Result<Response, PageError> {
    let start = parse_start(&q.start)?;
    let video = parse_mode(q.mode.as_deref())?;
    let check = appointment::check_portal(
        &state.db,
        &p.org,
        &PortalBooking {
            patient: p.patient.id,
            service: service_id,
            practitioner: q.practitioner,
            start,
            telehealth: video,
            idempotency_key: None,
        },
        state.clock.as_ref(),
    )
    .await
    .map_err(AppError::from)?;
    let slot = match check {
        PortalCheck::Open(slot) => slot,
        PortalCheck::Refused { rule, reason, next } => {
            let page = refused_view(
                &state,
                &p,
                service_id,
                q.practitioner,
                start,
                video,
                rule,
                &reason,
                next,
            )
            .await?;
            return Ok(page.into_response());
        }
    };
    let mut conn = state.db.conn().await?;
    let service = portal::service(conn.exec(), p.org.id, service_id).await?;
    let clinic = store::clinic::get(conn.exec(), p.org.id, slot.clinic_id).await?;
    drop(conn);
    let tz = clinic.zone();
    let start_ns = start.unix_nanos();
    let series = super::series_pages::offer(
        &state,
        &p,
        service_id,
        q.practitioner,
        start,
        video,
        tz,
        q.weeks,
    )
    .await?;
    Ok(ConfirmPage {
        series,
        layout: PortalLayout::new(
            &p.org,
            &p.session,
            Some(&p.patient.first_name),
            "Confirm your appointment",
            "book",
        )
        .await?,
        service,
        practitioner_name: slot.practitioner_name,
        when: crate::clinic_time::local(start_ns, tz)
            .format("%A %-d %B %Y, %H:%M")
            .to_string(),
        zone: crate::clinic_time::zone_label_with_offset(tz, start_ns),
        video,
        clinic,
        practitioner: q.practitioner,
        start: q.start,
        idempotency_key: crate::auth::csrf::random_token(),
        notice: crate::notices::notice_in_words(p.org.cancellation_notice_minutes),
    }
    .into_response())
}

/// The slots page that answers a time the rules refuse, at the day of that time, with
/// the reason in plain words and the next open times.
#[allow(clippy::too_many_arguments)]
async fn refused_view(
    state: &AppState,
    p: &Patient,
    service: i64,
    practitioner: i64,
    start: slot_engine::Instant,
    video: bool,
    rule: u8,
    reason: &str,
    next: Vec<store::window::OpenSlot>,
) -> Result<SlotsPage, AppError> {
    let next: Vec<SlotDto> = next.into_iter().map(SlotDto::from).collect();
    let own = rule == 11 && holds(state, p, practitioner, start).await?;
    let notice = format!(
        "{} {}",
        if own {
            "You already have this time booked: it is under My appointments.".to_owned()
        } else {
            refusal_in_words(rule, reason)
        },
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
    let day = store::clinic::earliest_local_date(&clinics, start);
    slots_view(
        state,
        &Visitor::from(p.clone()),
        service,
        Choice {
            practitioner: Some(practitioner),
            clinic: None,
            video,
        },
        Wanted {
            month: None,
            day: Some(day),
        },
        Some(notice),
        next,
    )
    .await
}

/// Whether the patient's own appointment with `practitioner` already holds `start`.
async fn holds(
    state: &AppState,
    p: &Patient,
    practitioner: i64,
    start: slot_engine::Instant,
) -> Result<bool, AppError> {
    let mut conn = state.db.conn().await?;
    let at = start.unix_nanos();
    Ok(portal::appointments_of(conn.exec(), p.org.id, p.patient.id)
        .await?
        .iter()
        .any(|a| {
            a.practitioner_id == practitioner
                && a.status.occupies_time()
                && a.start_ns <= at
                && at < a.end_ns
        }))
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
    let video = parse_mode(form.optional("mode").as_deref())?;
    match book(
        &state,
        &p,
        service,
        practitioner,
        start,
        video,
        form.optional("idempotency_key"),
    )
    .await?
    {
        PortalOutcome::Booked(booked) => Ok(Redirect::to(&format!(
            "/o/{}/portal/appointments/{}/booked",
            p.org.slug, booked.appointment.id
        ))
        .into_response()),
        PortalOutcome::Taken { rule, reason, next } => {
            let page = refused_view(
                &state,
                &p,
                service,
                practitioner,
                start,
                video,
                rule,
                &reason,
                next,
            )
            .await?;
            Ok((StatusCode::CONFLICT, page).into_response())
        }
    }
}

/// The page a booking lands on: the appointment as a ticket — what, who, when (with
/// the zone and its offset), where (or how a video appointment is joined), how to
/// change it, and "Add to calendar".
#[derive(Template, WebTemplate)]
#[template(path = "portal/booked.html")]
pub(super) struct BookedPage {
    layout: PortalLayout,
    a: AppointmentDto,
    status: AppointmentStatus,
    /// `Tuesday 15 December 2026, 09:00`, in the clinic's zone.
    when: String,
    /// `Toronto time (EST, UTC−05:00)`.
    zone: String,
    /// Until when it can be cancelled online, in the clinic's time (none once past).
    cancellable_until: Option<String>,
    /// The clinic's cancellation notice in words (`24 hours`), none when there is none.
    notice: Option<String>,
}

pub(super) async fn booked_page(
    State(state): State<AppState>,
    PatientPage(p): PatientPage,
    Path((_, id)): Path<(String, i64)>,
) -> Result<BookedPage, PageError> {
    let a = own(&state, &p, id).await?;
    let now_ns = state.clock.now_ns();
    let tz = a.place.zone();
    Ok(BookedPage {
        layout: PortalLayout::new(
            &p.org,
            &p.session,
            Some(&p.patient.first_name),
            if a.status == AppointmentStatus::Pending {
                "Appointment requested"
            } else {
                "You are booked"
            },
            "appointments",
        )
        .await?,
        status: a.status,
        when: crate::clinic_time::local(a.start_ns, tz)
            .format("%A %-d %B %Y, %H:%M")
            .to_string(),
        zone: crate::clinic_time::zone_label_with_offset(tz, a.start_ns),
        cancellable_until: appointment::cancellable_until(&p.org, a.status, a.start_ns, now_ns)
            .map(|until| local_datetime(until, tz)),
        notice: crate::notices::notice_in_words(p.org.cancellation_notice_minutes),
        a: appointment_dto(&p.org, now_ns, a),
    })
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
    /// What the page was sent back to say after a change (moved, cancelled).
    changed: Option<&'static str>,
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
            changed: None,
        })
    }
}

/// What the appointment's page says after a change it was sent back from.
#[derive(Debug, Default, Deserialize)]
pub(super) struct AppointmentQuery {
    notice: Option<String>,
}

pub(super) async fn appointment_page(
    State(state): State<AppState>,
    PatientPage(p): PatientPage,
    Path((_, id)): Path<(String, i64)>,
    PageQuery(q): PageQuery<AppointmentQuery>,
) -> Result<AppointmentPage, PageError> {
    let a = own(&state, &p, id).await?;
    let mut page = AppointmentPage::new(&state, &p, a, None).await?;
    page.changed = match q.notice.as_deref() {
        Some("moved") => Some("Moved. An email with the new time is on its way."),
        Some("cancelled") => Some("Cancelled. An email confirming it is on its way."),
        _ => None,
    };
    Ok(page)
}

pub(super) fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// Why a time could not be booked, in the patient's words: only a place taken in the
/// meantime (rule 11) is "someone else"; a time past the booking window or one the
/// clinic does not offer online says so, with the engine's reason.
pub(super) fn refusal_in_words(rule: u8, reason: &str) -> String {
    match rule {
        11 => "Sorry — someone else just took that time.".to_owned(),
        12 => format!("That time can no longer be booked online: {reason}."),
        _ => format!("That time is not offered online: {reason}."),
    }
}
