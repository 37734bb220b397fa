//! One module per resource, each with its pages and its JSON API.
//!
//! - [`public_router`]: what needs no organisation (`/`, `/healthz`, `/metrics`,
//!   `/static/…`).
//! - [`page_router`]: server-rendered pages under `/o/{slug}/…`.
//! - [`api_router`]: the JSON API under `/api/v1/orgs/{slug}/…`, described by the
//!   OpenAPI document at `/api/openapi.json`.

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::auth::staff::Staff;
use crate::error::PageError;
use crate::form::FieldErrors;
use crate::state::AppState;

pub(crate) mod api_keys;
pub(crate) mod assets;
pub(crate) mod audit;
pub(crate) mod availability;
pub(crate) mod book;
pub(crate) mod calendar_feeds;
pub(crate) mod clinics;
pub(crate) mod email_templates;
pub(crate) mod health;
pub(crate) mod home;
pub(crate) mod logo;
pub(crate) mod patients;
pub(crate) mod pending;
pub(crate) mod portal;
pub(crate) mod portal_access;
pub(crate) mod practitioner_types;
pub(crate) mod practitioners;
pub(crate) mod reminder_links;
pub(crate) mod reminders;
pub(crate) mod resources;
pub(crate) mod schedule_types;
pub(crate) mod services;
pub(crate) mod session;
pub(crate) mod settings;
pub(crate) mod setup;
pub(crate) mod setup_check;
pub(crate) mod staff_account;
pub(crate) mod staff_auth;
pub(crate) mod staff_users;
pub(crate) mod waitlist;
pub(crate) mod webhooks;

/// A form's page shown again with status 422: nothing was saved.
pub(crate) fn refused(page: impl IntoResponse) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
}

/// Answers a form post whose change the store made or refused: a redirect to the
/// address `saved` holds, with "Saved." kept for that page ([`crate::flash`]) unless the
/// address asks for its own notice (`saved=` or `made=`), or else the form's `page`
/// again (422, [`refused`]) with the store's error under its field. An error that names
/// no field is the error page instead ([`FieldErrors::absorb`]).
pub(crate) async fn saved_or_refused<P: IntoResponse>(
    staff: &Staff,
    saved: store::Result<String>,
    page: impl AsyncFnOnce(FieldErrors) -> Result<P, PageError>,
) -> Result<Response, PageError> {
    match saved {
        Ok(to) => saved_to(staff, &to).await,
        Err(e) => {
            let mut errors = FieldErrors::new();
            errors.absorb(e)?;
            Ok(refused(page(errors).await?))
        }
    }
}

/// The redirect after a change was saved, with "Saved." kept for the page it goes to
/// unless the address asks for its own notice (`saved=` or `made=`).
pub(crate) async fn saved_to(staff: &Staff, to: &str) -> Result<Response, PageError> {
    if !to.contains("saved=") && !to.contains("made=") {
        crate::flash::set(&staff.session, "Saved.").await?;
    }
    Ok(Redirect::to(to).into_response())
}

/// The OpenAPI document's fixed parts.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Openslot API",
        version = "1",
        description = "Clinic setup, appointments and the patient portal. Sign in with \
            `POST /api/v1/orgs/{slug}/session` (staff) after `GET /api/v1/orgs/{slug}/session` \
            gave you a CSRF token; send it as `X-CSRF-Token` on every call that changes state. \
            Another system sends an API key instead (`Authorization: Bearer osk_…`, made by an \
            admin on Setup → API keys): no session and no CSRF token, and only the operations \
            whose security names the key's scope. \
            Errors are `{\"error\": {\"code\", \"message\", \"field\"}}`."
    ),
    tags(
        (name = "session", description = "Signing in and out"),
        (name = "setup", description = "Organisation, clinics, practitioners, schedule types, availability, services"),
        (name = "appointments", description = "The appointment book, staff bookings, pending portal bookings"),
        (name = "patients", description = "Patients and their portal access"),
        (name = "portal", description = "The patient portal"),
        (name = "resources", description = "Rooms and equipment: their availability records and time out of service; a service's `requires` names them"),
        (name = "series", description = "Weekly series of staff bookings: preview, book, this and following"),
        (name = "waitlist", description = "The waitlist: entries, offers of freed times (accepted by a single-use link), settings"),
        (name = "webhooks", description = "Webhook endpoints (Standard Webhooks signatures), their delivery log, replay and test events"),
        (name = "integrations", description = "What other systems use: API keys"),
    ),
    components(schemas(crate::error::ErrorDto, crate::error::ErrorDetailDto))
)]
pub(crate) struct ApiDoc;

/// Documents how each operation is authenticated: the security schemes `session` (the
/// staff or patient session cookie, with `X-CSRF-Token` on calls that change state)
/// and `api_key` (`Authorization: Bearer osk_…`), and on every operation the session,
/// and the API key with its scope where [`crate::auth::api_key::ROUTES`] lets a key
/// call it.
#[derive(Debug)]
pub(crate) struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "openslot_session",
                "The session of a staff member or patient signed in; calls that change state also send X-CSRF-Token",
            ))),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("osk_…")
                    .description(Some(
                        "An API key made on Setup → API keys; each operation names the scope it needs",
                    ))
                    .build(),
            ),
        );
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [
                ("GET", item.get.as_mut()),
                ("POST", item.post.as_mut()),
                ("PUT", item.put.as_mut()),
                ("DELETE", item.delete.as_mut()),
                ("PATCH", item.patch.as_mut()),
            ];
            for (method, operation) in operations {
                let Some(operation) = operation else { continue };
                let method = method.parse().expect("a method");
                let mut security = vec![SecurityRequirement::new::<_, _, &str>("session", [])];
                if let Some(scope) = crate::auth::api_key::scope_for(&method, path) {
                    security.push(SecurityRequirement::new("api_key", [scope.as_str()]));
                }
                operation.security = Some(security);
            }
        }
    }
}

/// Documents the errors every operation can answer, each with the error body: 400 (a
/// path, query or body that does not parse), 401, 403 (not allowed, or no CSRF token),
/// 404 (also: no such organisation), 422 and 429; with a request body also 413 and 415.
/// Error responses an operation already describes get the error body too. Applied to
/// the whole document once the routes are in ([`api_document`]).
#[derive(Debug)]
pub(crate) struct ErrorResponses;

impl utoipa::Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let content = || {
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorDto")))
                .build()
        };
        let common = [
            ("400", "The path, query or body does not parse"),
            ("401", "Not signed in"),
            ("403", "Not allowed, or no valid CSRF token"),
            ("404", "No such organisation or resource"),
            ("422", "Invalid input, naming the field"),
            ("429", "Too many attempts; see Retry-After"),
        ];
        let with_body = [
            ("413", "The body is too large"),
            ("415", "The body is not JSON"),
        ];
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                let extra: &[(&str, &str)] = if operation.request_body.is_some() {
                    &with_body
                } else {
                    &[]
                };
                let responses = &mut operation.responses.responses;
                for (status, description) in common.iter().chain(extra) {
                    responses.entry((*status).to_owned()).or_insert_with(|| {
                        RefOr::T(ResponseBuilder::new().description(*description).build())
                    });
                }
                for (status, response) in responses.iter_mut() {
                    if let (true, RefOr::T(response)) = (status.starts_with('4'), response)
                        && response.content.is_empty()
                    {
                        response
                            .content
                            .insert("application/json".to_owned(), RefOr::T(content()));
                    }
                }
            }
        }
    }
}

/// Routes that need no organisation.
pub(crate) fn public_router() -> Router<AppState> {
    Router::new()
        .merge(home::router())
        .merge(health::router())
        .merge(assets::router())
        .merge(crate::fhir::router())
}

/// The staff and patient pages.
pub(crate) fn page_router() -> Router<AppState> {
    Router::new()
        .merge(staff_auth::pages())
        .merge(setup::pages())
        .merge(settings::pages())
        .merge(logo::pages())
        .merge(email_templates::pages())
        .merge(clinics::pages())
        .merge(practitioner_types::pages())
        .merge(practitioners::pages())
        .merge(schedule_types::pages())
        .merge(availability::pages())
        .merge(services::pages())
        .merge(resources::pages())
        .merge(staff_users::pages())
        .merge(api_keys::pages())
        .merge(staff_account::pages())
        .merge(book::pages())
        .merge(pending::pages())
        .merge(patients::pages())
        .merge(setup_check::pages())
        .merge(portal::pages())
        .merge(portal_access::pages())
        .merge(reminder_links::pages())
        .merge(reminders::pages())
        .merge(audit::pages())
        .merge(waitlist::pages())
        .merge(webhooks::pages())
        .merge(calendar_feeds::pages())
}

/// The JSON API's routes and its finished OpenAPI document.
pub(crate) fn api_document() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (api, mut openapi) = api_router().split_for_parts();
    utoipa::Modify::modify(&ErrorResponses, &mut openapi);
    utoipa::Modify::modify(&Security, &mut openapi);
    (api, openapi)
}

/// The JSON API with its OpenAPI description.
pub(crate) fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(session::api())
        .merge(settings::api())
        .merge(email_templates::api())
        .merge(clinics::api())
        .merge(practitioner_types::api())
        .merge(practitioners::api())
        .merge(schedule_types::api())
        .merge(availability::api())
        .merge(services::api())
        .merge(resources::api())
        .merge(staff_users::api())
        .merge(api_keys::api())
        .merge(staff_account::api())
        .merge(book::api())
        .merge(pending::api())
        .merge(patients::api())
        .merge(setup_check::api())
        .merge(portal::api())
        .merge(portal_access::api())
        .merge(reminder_links::api())
        .merge(reminders::api())
        .merge(audit::api())
        .merge(waitlist::api())
        .merge(webhooks::api())
        .merge(calendar_feeds::api())
}
