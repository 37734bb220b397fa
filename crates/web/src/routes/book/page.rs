//! The book page, and the address it links the schedule-type stylesheet at.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::Response;
use chrono::{Duration, NaiveDate};
use serde::Deserialize;
use store::book::{self, Choices, Range};

use crate::auth::staff::StaffPage;
use crate::clinic_time::{local_ns, parse_date, today, when};
use crate::error::{AppError, PageError};
use crate::form::PageQuery;
use crate::pages::Layout;
use crate::schedule_type_css;
use crate::state::AppState;

use super::grid::{Column, DayHeader, Legend, Listed, Row, View, build_grid};
use super::{axis, clinic_zones, own_practitioner, parse_id};

// The book page.

#[derive(Debug, Default, Deserialize)]
pub(super) struct BookParams {
    view: Option<String>,
    date: Option<String>,
    clinic: Option<String>,
    practitioner: Option<String>,
    cancelled: Option<String>,
    notice: Option<String>,
    appointment: Option<String>,
    zone: Option<String>,
    /// `room` for the room view (a day's columns by room); else by practitioner.
    by: Option<String>,
}

/// An option of the axis zone's select: a zone of the organisation's clinics.
#[derive(Debug)]
pub(super) struct ZoneOption {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/book.html")]
pub(super) struct BookPage {
    layout: Layout,
    choices: Choices,
    can_book: bool,
    is_practitioner: bool,
    week: bool,
    date: String,
    clinic: i64,
    practitioner: i64,
    cancelled: bool,
    heading: String,
    /// The rows' length in minutes, for the script that moves appointments.
    step: i64,
    timezone: String,
    /// The axis zone's select, when the organisation's clinics span several zones and
    /// the book is not filtered by one clinic; empty otherwise.
    zones: Vec<ZoneOption>,
    /// The other zones whose appointments or availability the view shows, labelled
    /// with their own times.
    other_zones: Vec<String>,
    notice: Option<String>,
    prev: String,
    next: String,
    today_link: String,
    day_link: String,
    week_link: String,
    new_link: String,
    days: Vec<DayHeader>,
    columns: Vec<Column>,
    rows: Vec<Row>,
    listed: Vec<Listed>,
    legend: Vec<Legend>,
    /// The day's columns are rooms and equipment rather than practitioners.
    by_room: bool,
    /// Whether the organisation has rooms or equipment to show by.
    has_rooms: bool,
    by_practitioner_link: String,
    by_room_link: String,
}

pub(super) async fn book_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    PageQuery(q): PageQuery<BookParams>,
) -> Result<BookPage, PageError> {
    let own = own_practitioner(&staff.caller())?;
    let mut conn = state.db.conn().await?;
    let choices = book::choices(conn.exec(), staff.org.id).await?;
    let clinic = parse_id("clinic", q.clinic.as_deref())?;
    if clinic.is_some_and(|c| choices.clinic(c).is_none()) {
        return Err(AppError::NotFound("clinic".into()).into());
    }
    let week = match q.view.as_deref() {
        None | Some("" | "day") => false,
        Some("week") => true,
        Some(other) => {
            return Err(AppError::invalid("view", format!("{other:?} is not day or week")).into());
        }
    };
    let by_room = match q.by.as_deref().map(str::trim) {
        None | Some("" | "practitioner") => false,
        // Rooms are shown a day at a time.
        Some("room") => !week,
        Some(other) => {
            return Err(
                AppError::invalid("by", format!("{other:?} is not practitioner or room")).into(),
            );
        }
    };
    let all = q.practitioner.as_deref().map(str::trim) == Some("all");
    let mut practitioner = if all {
        None
    } else {
        parse_id("practitioner", q.practitioner.as_deref())?
    };
    if practitioner.is_some_and(|p| choices.practitioner(p).is_none()) {
        return Err(AppError::NotFound("practitioner".into()).into());
    }
    if own.is_some() {
        practitioner = own;
    }
    // A week of every practitioner is seven times as wide as their day: unless asked
    // for, the week is one practitioner's, the first active one.
    if week && practitioner.is_none() && !all {
        practitioner = choices
            .practitioners
            .iter()
            .find(|p| p.active)
            .or_else(|| choices.practitioners.first())
            .map(|p| p.id);
    }
    let axis = axis(&choices, clinic, practitioner, q.zone.as_deref())?;
    let tz = axis.tz;
    let timezone = axis.name().to_owned();
    let now_date = today(&state, tz);
    let date = match q.date.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => parse_date(d).map_err(|m| AppError::invalid("date", m))?,
        None => now_date,
    };
    let view = View {
        slug: staff.org.slug.clone(),
        week,
        date,
        clinic,
        practitioner,
        all,
        cancelled: q
            .cancelled
            .as_deref()
            .is_some_and(|v| !v.is_empty() && v != "0"),
        zone: axis.chosen.clone(),
        by_room,
    };
    let dates = view.dates();
    let (first, last) = (dates[0], dates[dates.len() - 1]);
    let (from_ns, to_ns) = (
        local_ns(tz, first, 0),
        local_ns(tz, last + Duration::days(1), 0),
    );
    let entries = book::in_range(
        conn.exec(),
        &staff.org,
        &Range {
            from_ns,
            to_ns,
            practitioner,
            clinic,
            include_cancelled: view.cancelled,
        },
    )
    .await?;
    let to_engine = |d: NaiveDate| {
        slot_engine::Date::try_from(d).map_err(|e| AppError::invalid("date", e.to_string()))
    };
    let backdrop = book::backdrop(
        &mut conn.exec(),
        &staff.org,
        practitioner.map(|p| vec![p]),
        to_engine(first)?,
        to_engine(last)?,
    )
    .await?;
    // The columns: the practitioner asked for; else everyone active, and anyone with an
    // appointment shown; at one clinic, those who work or have appointments there.
    let practitioners: Vec<i64> = match practitioner {
        Some(p) => vec![p],
        None => choices
            .practitioners
            .iter()
            .filter(|p| {
                let booked = entries.iter().any(|e| e.practitioner_id == p.id);
                let here = match clinic {
                    None => true,
                    Some(c) => {
                        p.home_clinic_id == c
                            || backdrop
                                .blocks
                                .iter()
                                .any(|b| b.practitioner_id == p.id && b.clinic_id == c)
                    }
                };
                booked || (p.active && here)
            })
            .map(|p| p.id)
            .collect(),
    };
    let can_book = own.is_none();
    let highlight = parse_id("appointment", q.appointment.as_deref())?;
    let (days, columns, rows, listed) = if by_room {
        // The room view: the same grid, a column per room, without availability
        // behind it; an appointment opens from it, but time is booked and moved by
        // practitioner.
        let rooms = super::rooms::by_room(&choices, &entries, clinic);
        let (days, mut columns, mut rows, listed) = build_grid(
            &view,
            &staff.org,
            &rooms.choices,
            tz,
            &rooms.columns,
            &rooms.entries,
            &book::Backdrop::default(),
            can_book,
            highlight,
        );
        for c in &mut columns {
            c.new_link.clear();
        }
        // Each appointment keeps its own practitioner, whichever room it is drawn in.
        let whose: std::collections::HashMap<i64, i64> =
            entries.iter().map(|e| (e.id, e.practitioner_id)).collect();
        for cell in rows.iter_mut().flat_map(|r| r.cells.iter_mut()) {
            cell.link.clear();
            cell.link_label.clear();
            for item in &mut cell.items {
                item.practitioner = whose.get(&item.id).copied().unwrap_or(item.practitioner);
            }
        }
        (days, columns, rows, listed)
    } else {
        build_grid(
            &view,
            &staff.org,
            &choices,
            tz,
            &practitioners,
            &entries,
            &backdrop,
            can_book,
            highlight,
        )
    };
    let notice = match (q.notice.as_deref(), highlight) {
        (Some("blocked"), Some(id)) => match book::entry(conn.exec(), staff.org.id, id).await {
            Ok(e) => Some(format!(
                "Time blocked{} for {}, {}.",
                if e.status_note.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", e.status_note)
                },
                e.practitioner_name,
                when(&e)
            )),
            Err(store::Error::NotFound(_)) => None,
            Err(e) => return Err(e.into()),
        },
        (Some(kind @ ("booked" | "moved" | "cancelled")), Some(id)) => {
            match book::entry(conn.exec(), staff.org.id, id).await {
                Ok(e) => Some(format!(
                    "{} {} with {}, {}.",
                    match kind {
                        "booked" => "Booked:",
                        "moved" => "Moved:",
                        _ => "Cancelled:",
                    },
                    e.patient_name().unwrap_or_else(|| "no patient".to_owned()),
                    e.practitioner_name,
                    when(&e)
                )),
                Err(store::Error::NotFound(_)) => None,
                Err(e) => return Err(e.into()),
            }
        }
        _ => None,
    };
    let mut legend: Vec<Legend> = Vec::new();
    for t in &choices.schedule_types {
        let used = backdrop.blocks.iter().any(|b| b.schedule_type_id == t.id)
            || entries.iter().any(|e| e.schedule_type_id == Some(t.id));
        if used {
            legend.push(Legend {
                id: t.id,
                name: t.name.clone(),
            });
        }
    }
    let all_zones = clinic_zones(&choices);
    let zones = if clinic.is_none() && all_zones.len() > 1 {
        all_zones
            .iter()
            .map(|z| ZoneOption {
                selected: z.name == timezone,
                label: format!("{} ({})", z.name, z.clinics.join(", ")),
                value: z.name.clone(),
            })
            .collect()
    } else {
        Vec::new()
    };
    // The zones other than the axis's that the page shows something of.
    let shown_clinics: Vec<i64> = entries
        .iter()
        .map(|e| e.place.clinic_id)
        .chain(
            backdrop
                .blocks
                .iter()
                .filter(|b| practitioners.contains(&b.practitioner_id))
                .filter(|b| b.end_ns > from_ns && b.start_ns < to_ns)
                .filter(|b| clinic.is_none_or(|c| c == b.clinic_id))
                .map(|b| b.clinic_id),
        )
        .collect();
    let other_zones: Vec<String> = all_zones
        .iter()
        .filter(|z| z.name != timezone)
        .filter(|z| {
            choices
                .clinics
                .iter()
                .any(|c| c.timezone == z.name && shown_clinics.contains(&c.id))
        })
        .map(|z| z.name.clone())
        .collect();
    let heading = if week {
        format!("Week of {}", dates[0].format("%A %-d %B %Y"))
    } else {
        date.format("%A %-d %B %Y").to_string()
    };
    let shift = if week { 7 } else { 1 };
    let mut new_link = format!("/o/{}/admin/book/new?date={date}", staff.org.slug);
    if let Some(p) = practitioner {
        new_link.push_str(&format!("&practitioner={p}"));
    }
    if let Some(c) = clinic {
        new_link.push_str(&format!("&clinic={c}"));
    }
    Ok(BookPage {
        layout: Layout::staff(&staff, "Appointment book", "book").await?,
        can_book,
        is_practitioner: own.is_some(),
        week,
        date: date.to_string(),
        clinic: clinic.unwrap_or(0),
        practitioner: practitioner.unwrap_or(0),
        cancelled: view.cancelled,
        step: super::grid::row_minutes(&staff.org),
        heading,
        timezone,
        zones,
        other_zones,
        notice,
        prev: view.link_to(week, Some(date - Duration::days(shift))),
        next: view.link_to(week, Some(date + Duration::days(shift))),
        today_link: view.link_to(week, None),
        day_link: view.link_to(false, Some(date)),
        week_link: view.link_to(true, Some(date)),
        new_link,
        days,
        columns,
        rows,
        listed,
        legend,
        by_room,
        has_rooms: !choices.resources.is_empty(),
        by_practitioner_link: View {
            by_room: false,
            ..view.clone()
        }
        .link_to(false, Some(date)),
        by_room_link: View {
            by_room: true,
            ..view.clone()
        }
        .link_to(false, Some(date)),
        choices,
    })
}

/// The schedule-type stylesheet ([`crate::schedule_type_css`]): appointments take the
/// schedule type's background and font colours; availability a light tint of the
/// background, with a darker edge where patients may book online.
pub(super) async fn colours_css(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
) -> Result<Response, PageError> {
    schedule_type_css::serve(&state, staff.org.id).await
}
