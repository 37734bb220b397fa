//! One module per resource, each with its pages and its JSON API.
//!
//! - [`public_router`]: what needs no organisation (`/`, `/healthz`, `/metrics`,
//!   `/static/…`).
//! - [`page_router`]: server-rendered pages under `/o/{slug}/…`.
//! - [`api_router`]: the JSON API under `/api/v1/orgs/{slug}/…`, described by the
//!   OpenAPI document at `/api/openapi.json`.

use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub mod assets;
pub mod availability;
pub mod book;
pub mod clinics;
pub mod health;
pub mod home;
pub mod patients;
pub mod pending;
pub mod portal;
pub mod portal_access;
pub mod practitioner_types;
pub mod practitioners;
pub mod schedule_types;
pub mod services;
pub mod session;
pub mod settings;
pub mod setup;
pub mod setup_check;
pub mod staff_auth;
pub mod staff_users;

/// The OpenAPI document's fixed parts.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Openslot API",
        version = "1",
        description = "Clinic setup, appointments and the patient portal. Sign in with \
            `POST /api/v1/orgs/{slug}/session` (staff) after `GET /api/v1/orgs/{slug}/session` \
            gave you a CSRF token; send it as `X-CSRF-Token` on every call that changes state. \
            Errors are `{\"error\": {\"code\", \"message\", \"field\"}}`."
    ),
    tags(
        (name = "session", description = "Signing in and out"),
        (name = "setup", description = "Organisation, clinics, practitioners, schedule types, availability, services"),
        (name = "appointments", description = "The appointment book, staff bookings, pending portal bookings"),
        (name = "patients", description = "Patients and their portal access"),
        (name = "portal", description = "The patient portal"),
    )
)]
pub struct ApiDoc;

/// Routes that need no organisation.
pub fn public_router() -> Router<AppState> {
    Router::new()
        .merge(home::router())
        .merge(health::router())
        .merge(assets::router())
}

/// The staff and patient pages.
pub fn page_router() -> Router<AppState> {
    Router::new()
        .merge(staff_auth::pages())
        .merge(setup::pages())
        .merge(settings::pages())
        .merge(clinics::pages())
        .merge(practitioner_types::pages())
        .merge(practitioners::pages())
        .merge(schedule_types::pages())
        .merge(availability::pages())
        .merge(services::pages())
        .merge(staff_users::pages())
        .merge(book::pages())
        .merge(pending::pages())
        .merge(patients::pages())
        .merge(setup_check::pages())
        .merge(portal::pages())
        .merge(portal_access::pages())
}

/// The JSON API with its OpenAPI description.
pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(session::api())
        .merge(settings::api())
        .merge(clinics::api())
        .merge(practitioner_types::api())
        .merge(practitioners::api())
        .merge(schedule_types::api())
        .merge(availability::api())
        .merge(services::api())
        .merge(staff_users::api())
        .merge(book::api())
        .merge(pending::api())
        .merge(patients::api())
        .merge(setup_check::api())
        .merge(portal::api())
        .merge(portal_access::api())
}
