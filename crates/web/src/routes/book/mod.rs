//! The appointment book: day and week views per practitioner with availability drawn
//! behind the appointments, the staff booking form with its explicit override, moving
//! and cancelling; and the appointments API.
//!
//! Dates and times on these pages are read in a clinic's timezone: the clinic the book
//! is filtered by, else the practitioner's home clinic, else the organisation's first
//! clinic. Appointments are labelled in their own clinic's local time.

use axum::Router;
use axum::routing::{get, post};
use store::Organisation;
use store::appointment::{Actor, Move, StaffBooking};
use store::book::{self, Choices, Entry};
use store::staff::Role;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::staff::Staff;
use crate::error::AppError;
use crate::metrics::Metrics;
use crate::notices::AppointmentContext;
use crate::state::AppState;

mod api;
mod appointment;
mod form;
mod grid;
mod page;

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
}

/// The API.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::list, api::create))
        .routes(routes!(api::get_one, api::cancel))
        .routes(routes!(api::move_one))
}

/// The timezone the book reads dates in: the clinic filtered by, else the
/// practitioner's home clinic, else the first clinic.
fn view_clinic(
    choices: &Choices,
    clinic: Option<i64>,
    practitioner: Option<i64>,
) -> Option<&store::clinic::Clinic> {
    clinic
        .and_then(|c| choices.clinic(c))
        .or_else(|| {
            practitioner
                .and_then(|p| choices.practitioner(p))
                .and_then(|p| choices.clinic(p.home_clinic_id))
        })
        .or_else(|| choices.clinics.first())
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
fn own_practitioner(staff: &Staff) -> Result<Option<i64>, AppError> {
    match staff.user.role() {
        Role::Practitioner => staff.user.practitioner_id.map(Some).ok_or_else(|| {
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
            Metrics::inc(&state.metrics.bookings);
            state.mail.notify();
        }
        Err(store::Error::Conflict(_)) => Metrics::inc(&state.metrics.booking_conflicts),
        _ => {}
    }
    result
}

/// Cancels for staff, telling the patient (with the calendar cancellation).
async fn cancel_telling_patient(
    state: &AppState,
    staff: &Staff,
    id: i64,
) -> Result<store::appointment::Appointment, store::Error> {
    let context = AppointmentContext::for_appointment(state, &staff.org, id, None).await?;
    let notify =
        |a: &store::appointment::Appointment| context.iter().map(|c| c.cancelled(a)).collect();
    let cancelled = store::appointment::cancel(
        &state.db,
        &staff.org,
        id,
        Actor::Staff(staff.user.id),
        state.clock.as_ref(),
        Some(&notify),
    )
    .await?;
    state.mail.notify();
    Ok(cancelled)
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
