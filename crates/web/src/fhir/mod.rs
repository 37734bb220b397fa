//! FHIR R4 scheduling under `/o/{slug}/fhir/`: what other systems (an EHR, a booking
//! aggregator, a clinic's website) read and book through the standard they speak.
//!
//! Every resource is computed from the store on each request; nothing is kept in a
//! FHIR shape. Ids are the rows' ids, but for `Schedule` (`{practitioner}-{clinic}`)
//! and `Slot` (an opaque, self-verifying encoding of practitioner, clinic, service and
//! start, [`slot::SlotId`]), which have no rows.
//!
//! Callers use API keys (`Authorization: Bearer osk_…`, [`crate::auth::api_key`]):
//! no cookie, so no CSRF token. `metadata` and `$bulk-publish` (SMART Scheduling
//! Links) need none: they say what is served and publish the portal's open times.
//!
//! By job: `resource` (the FHIR JSON answer, `Bundle`s, references and search
//! parameters), `outcome` (every error as an `OperationOutcome`), one module per
//! resource type (`location`, `practitioner_role`, `healthcare_service`, `schedule`,
//! `slot`, `appointment`), `booking` (create, `$book` and cancel, through the store's
//! portal booking), `metadata` (the `CapabilityStatement`) and `bulk_publish`.
//!
//! Which rules book: a FHIR client books for a patient what the patient could book
//! in the portal ([`store::appointment::book_portal_as`]): the slots offered as
//! free are the portal's (overlay, booking window, minimum notice, online services),
//! so booking one must follow the same rules or a free slot could be refused, or a
//! slot the portal never offers could be booked; the patient's allowed practitioners
//! apply, and the organisation's auto-accept decides booked or pending. Staff rules
//! (overrides) stay with people signed in as staff.

use axum::Router;
use axum::routing::get;

use crate::state::AppState;

mod appointment;
mod booking;
mod bulk_publish;
mod healthcare_service;
mod location;
mod metadata;
pub(crate) mod outcome;
mod practitioner_role;
mod resource;
mod schedule;
mod slot;

/// Every FHIR route, with its errors answered as `OperationOutcome`s.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/o/{slug}/fhir/metadata",
            get(metadata::capability_statement),
        )
        .route("/o/{slug}/fhir/Location", get(location::search))
        .route("/o/{slug}/fhir/Location/{id}", get(location::read))
        .route(
            "/o/{slug}/fhir/PractitionerRole",
            get(practitioner_role::search),
        )
        .route(
            "/o/{slug}/fhir/PractitionerRole/{id}",
            get(practitioner_role::read),
        )
        .route(
            "/o/{slug}/fhir/HealthcareService",
            get(healthcare_service::search),
        )
        .route(
            "/o/{slug}/fhir/HealthcareService/{id}",
            get(healthcare_service::read),
        )
        .route("/o/{slug}/fhir/Schedule", get(schedule::search))
        .route("/o/{slug}/fhir/Schedule/{id}", get(schedule::read))
        .route("/o/{slug}/fhir/Slot", get(slot::search))
        .route("/o/{slug}/fhir/Slot/{id}", get(slot::read))
        .route(
            "/o/{slug}/fhir/Appointment",
            get(appointment::search).post(booking::create),
        )
        .route(
            "/o/{slug}/fhir/Appointment/$book",
            axum::routing::post(booking::book),
        )
        .route(
            "/o/{slug}/fhir/Appointment/{id}",
            get(appointment::read)
                .put(booking::update)
                .patch(booking::patch),
        )
        .route("/o/{slug}/fhir/$bulk-publish", get(bulk_publish::manifest))
        .route(
            "/o/{slug}/fhir/$bulk-publish/{file}",
            get(bulk_publish::file),
        )
        .route(
            "/o/{slug}/fhir/{*rest}",
            axum::routing::any(outcome::no_such_resource),
        )
        .layer(axum::middleware::from_fn(outcome::outcomes_for_fhir_errors))
}
