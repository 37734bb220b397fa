//! The appointment book: day and week views per practitioner with availability drawn
//! behind the appointments, the staff booking form with its explicit override, moving
//! and cancelling; and the appointments API.
//!
//! The day and week views have one time axis, in one zone ([`Axis`]): the clinic the
//! book is filtered by; else, when the organisation's clinics are in several zones, the
//! zone staff choose among theirs; else the practitioner's home clinic's, else the
//! first clinic's. Every appointment and availability block sits at its instant read in
//! that zone; one whose clinic is in another zone also says its own local time
//! ("13:00–13:30 Vancouver time"). The booking and move forms read times in the
//! clinic's zone they name.

use crate::auth::staff::Caller;
use axum::Router;
use axum::routing::{get, post};
use chrono_tz::Tz;
use store::Organisation;
use store::appointment::{Move, StaffBooking};
use store::book::{self, Choices, Entry};
use store::staff::Role;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::AppError;
use crate::metrics::{Channel, Kind};
use crate::notices::AppointmentContext;
use crate::state::AppState;

mod api;
mod appointment;
mod form;
mod grid;
mod page;
mod rooms;
mod series;
mod series_api;
mod series_form;

/// The pages.
pub(crate) fn pages() -> Router<AppState> {
    Router::new()
        .route("/o/{slug}/admin/book", get(page::book_page))
        .route("/o/{slug}/admin/book/colours.css", get(page::colours_css))
        .route(
            "/o/{slug}/admin/book/new",
            get(form::new_page).post(form::new_submit),
        )
        .route(
            "/o/{slug}/admin/book/appointments/{id}",
            get(appointment::appointment_page),
        )
        .route(
            "/o/{slug}/admin/book/appointments/{id}/move",
            post(appointment::move_submit),
        )
        .route(
            "/o/{slug}/admin/book/appointments/{id}/cancel",
            post(appointment::cancel_submit),
        )
        .route(
            "/o/{slug}/admin/book/appointments/{id}/restore",
            post(appointment::restore_submit),
        )
        .route(
            "/o/{slug}/admin/book/appointments/{id}/confirm",
            post(appointment::confirm_submit),
        )
        .route(
            "/o/{slug}/admin/book/appointments/{id}/status",
            post(appointment::status_submit),
        )
        .route(
            "/o/{slug}/admin/book/appointments/{id}/cancel-following",
            post(appointment::cancel_following_submit),
        )
        .route(
            "/o/{slug}/admin/book/appointments/{id}/move-following",
            post(appointment::move_following_submit),
        )
}

/// The API.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::list, api::create))
        .routes(routes!(api::get_one, api::cancel))
        .routes(routes!(api::move_one))
        .routes(routes!(api::set_status))
        .routes(routes!(api::confirm))
        .routes(routes!(api::restore))
        .routes(routes!(series_api::preview))
        .routes(routes!(series_api::create))
        .routes(routes!(series_api::get_one))
        .routes(routes!(series_api::cancel_following_api))
        .routes(routes!(series_api::move_following_api))
}

/// One zone of the organisation's clinics, and the clinics in it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ClinicZone {
    name: String,
    clinics: Vec<String>,
}

/// The zones of the organisation's clinics, each once, in the order of the clinics (by
/// name): the first is the first clinic's.
fn clinic_zones(choices: &Choices) -> Vec<ClinicZone> {
    let mut zones: Vec<ClinicZone> = Vec::new();
    for c in &choices.clinics {
        match zones.iter_mut().find(|z| z.name == c.timezone) {
            Some(z) => z.clinics.push(c.name.clone()),
            None => zones.push(ClinicZone {
                name: c.timezone.clone(),
                clinics: vec![c.name.clone()],
            }),
        }
    }
    zones
}

/// The book's time axis: the zone its rows, dates and "today" are read in.
#[derive(Clone, Debug, PartialEq)]
struct Axis {
    tz: Tz,
    /// The zone's name, as staff chose it; `None` when the axis is the default one
    /// (links then carry no zone).
    chosen: Option<String>,
}

impl Axis {
    fn name(&self) -> &'static str {
        self.tz.name()
    }
}

/// The book's axis: the clinic filtered by, whose zone every appointment shown is in
/// (a zone asked for with it is ignored); else `zone`, which must be one of the
/// organisation's clinics' zones (bad input names the field `zone`); else the
/// practitioner's home clinic's zone; else the first clinic's; UTC without clinics.
fn axis(
    choices: &Choices,
    clinic: Option<i64>,
    practitioner: Option<i64>,
    zone: Option<&str>,
) -> Result<Axis, AppError> {
    if let Some(c) = clinic.and_then(|c| choices.clinic(c)) {
        return Ok(Axis {
            tz: c.zone(),
            chosen: None,
        });
    }
    if let Some(name) = zone.map(str::trim).filter(|z| !z.is_empty()) {
        let known = clinic_zones(choices).into_iter().find(|z| z.name == name);
        let tz = known
            .and_then(|z| z.name.parse::<Tz>().ok())
            .ok_or_else(|| {
                AppError::invalid(
                    "zone",
                    format!("{name:?} is not the timezone of one of this organisation's clinics"),
                )
            })?;
        return Ok(Axis {
            tz,
            chosen: Some(name.to_owned()),
        });
    }
    let default = practitioner
        .and_then(|p| choices.practitioner(p))
        .and_then(|p| choices.clinic(p.home_clinic_id))
        .or_else(|| choices.clinics.first());
    Ok(Axis {
        tz: default.map_or(chrono_tz::UTC, |c| c.zone()),
        chosen: None,
    })
}

fn parse_id(field: &str, value: Option<&str>) -> Result<Option<i64>, AppError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .map(Some)
            .map_err(|_| AppError::invalid(field, format!("{v:?} is not an id"))),
    }
}

/// The practitioner a practitioner-role user may see; `None` for the front desk and
/// admins, who see everyone.
fn own_practitioner(staff: &Caller) -> Result<Option<i64>, AppError> {
    let Some(user) = staff.user() else {
        return Ok(None);
    };
    match user.role() {
        Role::Practitioner => user.practitioner_id.map(Some).ok_or_else(|| {
            AppError::Forbidden(
                "this account is not linked to a practitioner; ask an admin to link it".into(),
            )
        }),
        Role::Admin | Role::FrontDesk => Ok(None),
    }
}

async fn entry_of(state: &AppState, org: i64, id: i64) -> Result<Entry, store::Error> {
    let mut conn = state.db.conn().await?;
    book::entry(conn.exec(), org, id).await
}

/// Books through the store and counts the booking or the refusal for `/metrics`.
async fn book_counted(
    state: &AppState,
    org: &Organisation,
    booking: &StaffBooking,
) -> Result<store::appointment::Booked, store::Error> {
    let context = AppointmentContext::for_patient(
        state,
        org,
        booking.patient,
        booking.practitioner,
        booking.service,
    )
    .await?;
    let notify =
        |a: &store::appointment::Appointment| context.iter().map(|c| c.booked(a)).collect();
    let result = store::appointment::book_staff(
        &state.db,
        org,
        booking,
        state.clock.as_ref(),
        Some(&notify),
    )
    .await;
    match &result {
        Ok(b) if !b.replayed => {
            state
                .metrics
                .booked(Channel::of_actor(booking.staff), Kind::Single, 1);
            state.mail.notify();
        }
        Err(store::Error::Conflict(_)) => state
            .metrics
            .conflict(Channel::of_actor(booking.staff), Kind::Single),
        _ => {}
    }
    result
}

/// Cancels for staff with an optional reason, telling the patient (with the calendar
/// cancellation).
async fn cancel_telling_patient(
    state: &AppState,
    staff: &Caller,
    id: i64,
    reason: &str,
) -> Result<store::appointment::Appointment, store::Error> {
    let context = AppointmentContext::for_appointment(state, &staff.org, id, None).await?;
    let notify =
        |a: &store::appointment::Appointment| context.iter().map(|c| c.cancelled(a)).collect();
    let cancelled = store::appointment::cancel(
        &state.db,
        &staff.org,
        id,
        staff.audit_actor(),
        reason,
        state.clock.as_ref(),
        Some(&notify),
    )
    .await?;
    state.mail.notify();
    Ok(cancelled)
}

/// Undoes a cancellation for staff, telling the patient it is booked again (with the
/// calendar invitation).
async fn restore_telling_patient(
    state: &AppState,
    staff: &Caller,
    id: i64,
) -> Result<store::appointment::Appointment, store::Error> {
    let context = AppointmentContext::for_appointment(state, &staff.org, id, None).await?;
    let notify =
        |a: &store::appointment::Appointment| context.iter().map(|c| c.booked(a)).collect();
    let restored = store::appointment::restore(
        &state.db,
        &staff.org,
        id,
        staff.audit_actor(),
        state.clock.as_ref(),
        Some(&notify),
    )
    .await?;
    state.mail.notify();
    Ok(restored)
}

/// The desk statuses a form or the API may ask for, by their stored spelling:
/// `booked` undoes a mark.
fn desk_status(value: &str) -> Result<store::AppointmentStatus, store::Error> {
    match value.trim().parse::<store::AppointmentStatus>() {
        Ok(
            s @ (store::AppointmentStatus::Arrived
            | store::AppointmentStatus::Completed
            | store::AppointmentStatus::NoShow
            | store::AppointmentStatus::Booked),
        ) => Ok(s),
        _ => Err(store::Error::invalid(
            "status",
            "must be arrived, completed, no_show or booked",
        )),
    }
}

/// Moves for staff, telling the patient (with the updated calendar invitation).
async fn move_telling_patient(
    state: &AppState,
    org: &Organisation,
    m: &Move,
) -> Result<store::appointment::Appointment, store::Error> {
    let context =
        AppointmentContext::for_appointment(state, org, m.appointment, m.practitioner).await?;
    let notify = |a: &store::appointment::Appointment| context.iter().map(|c| c.moved(a)).collect();
    let moved =
        store::appointment::reschedule(&state.db, org, m, state.clock.as_ref(), Some(&notify))
            .await?;
    state.mail.notify();
    Ok(moved)
}

#[cfg(test)]
mod tests {
    use store::book::PractitionerChoice;
    use store::clinic::Clinic;

    use super::*;

    fn choices() -> Choices {
        let clinic = |id: i64, name: &str, timezone: &str| Clinic {
            id,
            key: format!("c{id}"),
            name: name.to_owned(),
            timezone: timezone.to_owned(),
            address: String::new(),
            phone: String::new(),
        };
        Choices {
            // By name, as the store lists them.
            clinics: vec![
                clinic(3, "Kitsilano", "America/Vancouver"),
                clinic(1, "Toronto Downtown", "America/Toronto"),
                clinic(2, "Whitby", "America/Toronto"),
            ],
            practitioners: vec![PractitionerChoice {
                id: 9,
                name: "Dr Ada".to_owned(),
                home_clinic_id: 2,
                active: true,
            }],
            services: Vec::new(),
            schedule_types: Vec::new(),
            resources: Vec::new(),
        }
    }

    #[test]
    fn the_zones_are_the_clinics_each_once_with_their_clinics() {
        let zones = clinic_zones(&choices());
        let names: Vec<(&str, Vec<&str>)> = zones
            .iter()
            .map(|z| {
                (
                    z.name.as_str(),
                    z.clinics.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                ("America/Vancouver", vec!["Kitsilano"]),
                ("America/Toronto", vec!["Toronto Downtown", "Whitby"]),
            ]
        );
    }

    #[test]
    fn the_axis_is_the_clinic_shown_else_the_zone_chosen_else_a_default() {
        let c = choices();
        let name = |a: Result<Axis, AppError>| {
            let a = a.unwrap();
            (a.name(), a.chosen)
        };
        // No choice: the first clinic's zone; a practitioner's home clinic's.
        assert_eq!(
            name(axis(&c, None, None, None)),
            ("America/Vancouver", None)
        );
        assert_eq!(
            name(axis(&c, None, Some(9), Some(" "))),
            ("America/Toronto", None)
        );
        // A zone of the organisation's clinics, chosen.
        assert_eq!(
            name(axis(&c, None, Some(9), Some("America/Vancouver"))),
            ("America/Vancouver", Some("America/Vancouver".to_owned()))
        );
        // One clinic shown: its zone, whatever was chosen.
        assert_eq!(
            name(axis(&c, Some(1), None, Some("America/Vancouver"))),
            ("America/Toronto", None)
        );
        // Any other zone names the field.
        for bad in ["Europe/London", "Mars/Olympus", "america/toronto"] {
            match axis(&c, None, None, Some(bad)) {
                Err(AppError::Invalid { field, .. }) => assert_eq!(field, "zone", "{bad}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        // Without clinics, UTC.
        let empty = Choices {
            clinics: Vec::new(),
            ..c
        };
        assert_eq!(name(axis(&empty, None, None, None)), ("UTC", None));
    }
}
