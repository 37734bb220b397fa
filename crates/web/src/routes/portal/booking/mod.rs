//! Booking in the portal: choose a service, a practitioner (or the first available),
//! a day in a month calendar and one of its open times, confirm, and land on the
//! booking's ticket — and My appointments, with cancelling. The services and their
//! open times are shown before signing in when the organisation chooses
//! (`portal_public_times`); confirming asks to sign in (or sign up) and comes back.
//!
//! The patient's available practitioners are enforced on every slot query here and on
//! every booking by the store (403 for any other practitioner). The store decides a
//! booking under the practitioner's lock; if someone else took the slot it answers with
//! the rule, the reason and the next open times, which the page and the API each show
//! their way.
//!
//! By job: `slots` finds open slots and books one, `month` lays out the month calendar,
//! `appointments` reads, cancels and moves the patient's own appointments (both shared
//! by the pages and the API), `pages` and `api` answer HTML and JSON, and
//! `change_pages` are the pages that cancel (with a confirmation step) and reschedule
//! one appointment.

use axum::Router;
use axum::routing::get;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

mod api;
mod appointments;
mod change_pages;
mod month;
mod pages;
mod series_api;
mod series_pages;
mod slots;

/// The pages.
pub(crate) fn pages() -> Router<AppState> {
    Router::new()
        .route("/o/{slug}/portal/book", get(pages::services_page))
        .route(
            "/o/{slug}/portal/book/{service}",
            get(pages::slots_page).post(pages::book_page),
        )
        .route(
            "/o/{slug}/portal/book/{service}/confirm",
            get(pages::confirm_page),
        )
        .route(
            "/o/{slug}/portal/book/{service}/series",
            axum::routing::post(series_pages::book_series_page),
        )
        .route(
            "/o/{slug}/portal/series/{id}",
            get(series_pages::series_page),
        )
        .route(
            "/o/{slug}/portal/series/{id}/calendar.ics",
            get(series_pages::series_calendar),
        )
        .route(
            "/o/{slug}/portal/appointments",
            get(pages::appointments_page),
        )
        .route(
            "/o/{slug}/portal/appointments/{id}",
            get(pages::appointment_page),
        )
        .route(
            "/o/{slug}/portal/appointments/{id}/booked",
            get(pages::booked_page),
        )
        .route(
            "/o/{slug}/portal/appointments/{id}/cancel",
            get(change_pages::cancel_confirm).post(change_pages::cancel_submit),
        )
        .route(
            "/o/{slug}/portal/appointments/{id}/reschedule",
            get(change_pages::reschedule_page).post(change_pages::reschedule_submit),
        )
        .route(
            "/o/{slug}/portal/appointments/{id}/reschedule/confirm",
            get(change_pages::reschedule_confirm),
        )
        .route(
            "/o/{slug}/portal/appointments/{id}/calendar.ics",
            get(pages::calendar_file),
        )
}

/// The API.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::api_services))
        .routes(routes!(api::api_practitioners))
        .routes(routes!(api::api_slots))
        .routes(routes!(api::api_days))
        .routes(routes!(api::api_appointments, api::api_book))
        .routes(routes!(api::api_appointment))
        .routes(routes!(api::api_cancel))
        .routes(routes!(api::api_reschedule))
        .routes(routes!(series_api::api_series_preview))
        .routes(routes!(series_api::api_series_book))
        .routes(routes!(series_api::api_series))
}
