//! Webhooks (issue 18, `store::webhook`): admins register endpoints, see each one's
//! deliveries, replay one, and send a test event; on the Setup page (Setup →
//! Webhooks) and through the API. An endpoint's signing secret is answered once, when
//! it is made and when it is rotated, and never shown again. Every change is audited
//! (`webhook.*`) in its transaction.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use store::webhook::{self, Delivery, Endpoint, EndpointInput};
use store::webhook_event::Event;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::staff::{Acting, Staff, StaffApi, StaffPage};
use crate::clinic_time::OrgZone;
use crate::error::{AppError, PageError};
use crate::form::{FieldErrors, FormData, JsonBody, PageQuery, QueryParams};
use crate::pages::Layout;
use crate::routes::saved_or_refused;
use crate::state::AppState;

/// The pages.
pub(crate) fn pages() -> Router<AppState> {
    Router::new()
        .route("/o/{slug}/admin/webhooks", get(list_page).post(create_page))
        .route(
            "/o/{slug}/admin/webhooks/{id}",
            get(edit_page).post(update_page),
        )
        .route("/o/{slug}/admin/webhooks/{id}/delete", post(delete_page))
        .route("/o/{slug}/admin/webhooks/{id}/rotate", post(rotate_page))
        .route("/o/{slug}/admin/webhooks/{id}/test", post(test_page))
        .route("/o/{slug}/admin/webhooks/{id}/deliveries", get(log_page))
        .route(
            "/o/{slug}/admin/webhooks/{id}/deliveries/{delivery}/replay",
            post(replay_page),
        )
}

/// The API.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update, delete))
        .routes(routes!(rotate))
        .routes(routes!(send_test))
        .routes(routes!(deliveries))
        .routes(routes!(replay))
}

/// An endpoint as the API shows it (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WebhookEndpointDto {
    pub id: i64,
    /// What the admin calls it.
    pub name: String,
    /// Where deliveries are posted.
    pub url: String,
    /// The events it is sent: `appointment.booked`, `appointment.moved`,
    /// `appointment.cancelled`, `appointment.accepted`, `appointment.declined`,
    /// `appointment.no_show`, `patient.created`, `setup.changed`.
    pub events: Vec<String>,
    /// Whether it is sent anything.
    pub enabled: bool,
    /// Whether bodies carry health details (service and patient names, notes,
    /// cancellation reasons).
    pub include_health_details: bool,
    /// Until when (RFC 3339) the secret before the last rotation still signs beside the
    /// current one, if it does.
    pub previous_secret_until: Option<String>,
}

impl From<Endpoint> for WebhookEndpointDto {
    fn from(e: Endpoint) -> Self {
        WebhookEndpointDto {
            id: e.id,
            name: e.name,
            url: e.url,
            events: e.events.iter().map(|e| e.as_str().to_owned()).collect(),
            enabled: e.enabled,
            include_health_details: e.include_health_details,
            previous_secret_until: e
                .previous_secret_until_ns
                .map(store::webhook_event::rfc3339),
        }
    }
}

/// An endpoint as the API takes it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookEndpointBody {
    /// 1 to 100 characters.
    pub name: String,
    /// `https://` to a public host (plain http and private addresses only on a server
    /// run with `--webhooks-allow-private`).
    pub url: String,
    /// At least one event (see [`WebhookEndpointDto::events`]).
    pub events: Vec<String>,
    /// Default true.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Default false.
    #[serde(default)]
    pub include_health_details: bool,
}

fn yes() -> bool {
    true
}

/// A new endpoint, with its signing secret: shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WebhookCreatedDto {
    pub endpoint: WebhookEndpointDto,
    /// `whsec_` and base64 of 32 random bytes (Standard Webhooks); keep it, it is not
    /// shown again.
    pub secret: String,
}

/// A rotated secret: shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WebhookSecretDto {
    /// The new secret, which signs from now on.
    pub secret: String,
    /// Until when (RFC 3339) the previous secret signs too.
    pub previous_secret_until: String,
}

/// A queued delivery.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WebhookQueuedDto {
    /// The delivery's id (in the endpoint's deliveries).
    pub delivery_id: i64,
}

/// One delivery of a message to an endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WebhookDeliveryDto {
    pub id: i64,
    /// The `webhook-id` header: the same on retries and replays.
    pub message_id: String,
    /// The event type.
    pub event_type: String,
    pub appointment_id: Option<i64>,
    /// `pending`, `sending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i64,
    /// When it is next attempted (RFC 3339), while pending.
    pub next_attempt_at: Option<String>,
    /// The HTTP status of the last answer.
    pub response_status: Option<i64>,
    /// The first bytes of the last answer.
    pub response_excerpt: Option<String>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was queued (RFC 3339).
    pub created_at: String,
    /// When the endpoint took it (RFC 3339).
    pub delivered_at: Option<String>,
    /// The body as sent.
    pub payload: String,
}

impl From<Delivery> for WebhookDeliveryDto {
    fn from(d: Delivery) -> Self {
        let rfc = store::webhook_event::rfc3339;
        WebhookDeliveryDto {
            id: d.id,
            message_id: d.message_id,
            event_type: d.event_type,
            appointment_id: d.appointment_id,
            status: d.status.as_str().to_owned(),
            attempts: d.attempts,
            next_attempt_at: (d.status == webhook::DeliveryStatus::Pending)
                .then(|| rfc(d.next_attempt_at_ns)),
            response_status: d.response_status,
            response_excerpt: d.response_excerpt,
            last_error: d.last_error,
            created_at: rfc(d.created_at_ns),
            delivered_at: d.delivered_at_ns.map(rfc),
            payload: d.payload,
        }
    }
}

/// A page of deliveries, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WebhookDeliveryPageDto {
    pub deliveries: Vec<WebhookDeliveryDto>,
    /// The `before` that reads the next, older page; null on the last.
    pub next_before: Option<i64>,
}

/// Which page of deliveries.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct WebhookDeliveryQuery {
    /// The `next_before` of the page before.
    pub before: Option<i64>,
    /// 1 ..= 100, default 50.
    pub limit: Option<i64>,
}

/// The events by name, refused naming `events` if one is not an event.
fn events_of(names: &[String]) -> store::Result<Vec<Event>> {
    names
        .iter()
        .map(|n| {
            n.parse::<Event>().map_err(|_| {
                store::Error::invalid(
                    "events",
                    format!(
                        "{n:?} is not an event; the events are {}",
                        Event::ALL
                            .iter()
                            .map(|e| e.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })
        })
        .collect()
}

/// An endpoint as saved, checked by the store and by the server's address policy.
fn input_of(
    state: &AppState,
    name: &str,
    url: &str,
    events: &[String],
    enabled: bool,
    include_health_details: bool,
) -> store::Result<EndpointInput> {
    let url = webhook::parse_url(url)?;
    crate::webhooks::check_url(&url, state.config.webhooks_allow_private)?;
    EndpointInput::new(
        name,
        url.as_str(),
        events_of(events)?,
        enabled,
        include_health_details,
    )
}

async fn create_endpoint(
    state: &AppState,
    staff: &impl Acting,
    input: &EndpointInput,
) -> store::Result<(Endpoint, String)> {
    let mut tx = state.db.begin().await?;
    let made = webhook::create(
        &mut tx,
        staff.org().id,
        input,
        &staff.actor(),
        state.clock.now_ns(),
    )
    .await?;
    tx.commit().await?;
    Ok(made)
}

async fn update_endpoint(
    state: &AppState,
    staff: &impl Acting,
    id: i64,
    input: &EndpointInput,
) -> store::Result<Endpoint> {
    let mut tx = state.db.begin().await?;
    let saved = webhook::update(
        &mut tx,
        staff.org().id,
        id,
        input,
        &staff.actor(),
        state.clock.now_ns(),
    )
    .await?;
    tx.commit().await?;
    Ok(saved)
}

async fn delete_endpoint(state: &AppState, staff: &impl Acting, id: i64) -> store::Result<()> {
    let mut tx = state.db.begin().await?;
    webhook::delete(
        &mut tx,
        staff.org().id,
        id,
        &staff.actor(),
        state.clock.now_ns(),
    )
    .await?;
    tx.commit().await
}

async fn rotate_endpoint(state: &AppState, staff: &impl Acting, id: i64) -> store::Result<String> {
    let mut tx = state.db.begin().await?;
    let secret = webhook::rotate_secret(
        &mut tx,
        staff.org().id,
        id,
        &staff.actor(),
        state.clock.now_ns(),
    )
    .await?;
    tx.commit().await?;
    Ok(secret)
}

async fn queue_test(state: &AppState, staff: &impl Acting, id: i64) -> store::Result<i64> {
    let mut tx = state.db.begin().await?;
    let delivery = webhook::send_test(
        &mut tx,
        staff.org().id,
        id,
        &staff.actor(),
        state.clock.now_ns(),
    )
    .await?;
    tx.commit().await?;
    state.webhooks.notify();
    Ok(delivery)
}

async fn queue_replay(
    state: &AppState,
    staff: &impl Acting,
    id: i64,
    delivery: i64,
) -> store::Result<i64> {
    let mut tx = state.db.begin().await?;
    let new = webhook::replay(
        &mut tx,
        staff.org().id,
        id,
        delivery,
        &staff.actor(),
        state.clock.now_ns(),
    )
    .await?;
    tx.commit().await?;
    state.webhooks.notify();
    Ok(new)
}

// API.

/// The organisation's webhook endpoints (admins).
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/webhooks", tag = "webhooks",
    params(("slug" = String, Path, description = "The organisation")),
    responses((status = 200, body = [WebhookEndpointDto]), (status = 403, description = "Not an admin")))]
async fn list(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
) -> Result<Json<Vec<WebhookEndpointDto>>, AppError> {
    staff.admin()?;
    let mut conn = state.db.conn().await?;
    let endpoints = webhook::list(conn.exec(), staff.org.id).await?;
    Ok(Json(endpoints.into_iter().map(Into::into).collect()))
}

/// Registers an endpoint (admins); answers its signing secret, this once.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/webhooks", tag = "webhooks",
    params(("slug" = String, Path, description = "The organisation")),
    request_body = WebhookEndpointBody,
    responses((status = 201, body = WebhookCreatedDto), (status = 403, description = "Not an admin"),
        (status = 422, description = "Invalid field; nothing saved")))]
async fn create(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    JsonBody(body): JsonBody<WebhookEndpointBody>,
) -> Result<(StatusCode, Json<WebhookCreatedDto>), AppError> {
    staff.admin()?;
    let input = input_of(
        &state,
        &body.name,
        &body.url,
        &body.events,
        body.enabled,
        body.include_health_details,
    )?;
    let (endpoint, secret) = create_endpoint(&state, &staff, &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(WebhookCreatedDto {
            endpoint: endpoint.into(),
            secret,
        }),
    ))
}

/// One endpoint (admins).
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/webhooks/{id}", tag = "webhooks",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The endpoint")),
    responses((status = 200, body = WebhookEndpointDto), (status = 404, description = "No such endpoint in this organisation")))]
async fn get_one(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<Json<WebhookEndpointDto>, AppError> {
    let id = path.1;
    staff.admin()?;
    let mut conn = state.db.conn().await?;
    Ok(Json(
        webhook::get(conn.exec(), staff.org.id, id).await?.into(),
    ))
}

/// Saves an endpoint (admins); its secret stays.
#[utoipa::path(put, path = "/api/v1/orgs/{slug}/webhooks/{id}", tag = "webhooks",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The endpoint")),
    request_body = WebhookEndpointBody,
    responses((status = 200, body = WebhookEndpointDto), (status = 404, description = "No such endpoint"),
        (status = 422, description = "Invalid field; nothing saved")))]
async fn update(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
    JsonBody(body): JsonBody<WebhookEndpointBody>,
) -> Result<Json<WebhookEndpointDto>, AppError> {
    let id = path.1;
    staff.admin()?;
    let input = input_of(
        &state,
        &body.name,
        &body.url,
        &body.events,
        body.enabled,
        body.include_health_details,
    )?;
    Ok(Json(
        update_endpoint(&state, &staff, id, &input).await?.into(),
    ))
}

/// Deletes an endpoint and its deliveries (admins).
#[utoipa::path(delete, path = "/api/v1/orgs/{slug}/webhooks/{id}", tag = "webhooks",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The endpoint")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such endpoint")))]
async fn delete(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<StatusCode, AppError> {
    let id = path.1;
    staff.admin()?;
    delete_endpoint(&state, &staff, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Gives an endpoint a new signing secret, answered this once (admins). The previous
/// secret signs beside it for 24 hours (two `v1,` signatures), so the receiver can
/// switch without losing a message.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/webhooks/{id}/rotate-secret", tag = "webhooks",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The endpoint")),
    responses((status = 200, body = WebhookSecretDto), (status = 404, description = "No such endpoint")))]
async fn rotate(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<Json<WebhookSecretDto>, AppError> {
    let id = path.1;
    staff.admin()?;
    let secret = rotate_endpoint(&state, &staff, id).await?;
    Ok(Json(WebhookSecretDto {
        secret,
        previous_secret_until: store::webhook_event::rfc3339(
            state.clock.now_ns() + webhook::ROTATION_OVERLAP_NS,
        ),
    }))
}

/// Queues a `webhook.test` message to the endpoint (admins).
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/webhooks/{id}/test", tag = "webhooks",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The endpoint")),
    responses((status = 202, body = WebhookQueuedDto), (status = 404, description = "No such endpoint")))]
async fn send_test(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<(StatusCode, Json<WebhookQueuedDto>), AppError> {
    let id = path.1;
    staff.admin()?;
    let delivery_id = queue_test(&state, &staff, id).await?;
    Ok((StatusCode::ACCEPTED, Json(WebhookQueuedDto { delivery_id })))
}

/// The endpoint's deliveries, newest first (admins).
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/webhooks/{id}/deliveries", tag = "webhooks",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The endpoint"), WebhookDeliveryQuery),
    responses((status = 200, body = WebhookDeliveryPageDto), (status = 404, description = "No such endpoint")))]
async fn deliveries(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
    QueryParams(query): QueryParams<WebhookDeliveryQuery>,
) -> Result<Json<WebhookDeliveryPageDto>, AppError> {
    let id = path.1;
    staff.admin()?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=webhook::MAX_PAGE).contains(&limit) {
        return Err(store::Error::invalid("limit", "must be 1 to 100").into());
    }
    let mut conn = state.db.conn().await?;
    webhook::get(conn.exec(), staff.org.id, id).await?;
    let page = webhook::deliveries(conn.exec(), staff.org.id, id, query.before, limit).await?;
    Ok(Json(WebhookDeliveryPageDto {
        deliveries: page.deliveries.into_iter().map(Into::into).collect(),
        next_before: page.next_before,
    }))
}

/// Queues a delivery's message again, with the same body and the same `webhook-id`
/// (admins): a receiver that de-duplicates by id takes it once.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/webhooks/{id}/deliveries/{delivery}/replay", tag = "webhooks",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The endpoint"),
        ("delivery" = i64, Path, description = "The delivery")),
    responses((status = 202, body = WebhookQueuedDto), (status = 404, description = "No such delivery of this endpoint")))]
async fn replay(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64, i64)>,
) -> Result<(StatusCode, Json<WebhookQueuedDto>), AppError> {
    let (id, delivery) = (path.1, path.2);
    staff.admin()?;
    let delivery_id = queue_replay(&state, &staff, id, delivery).await?;
    Ok((StatusCode::ACCEPTED, Json(WebhookQueuedDto { delivery_id })))
}

// Pages.

/// An event's checkbox.
#[derive(Debug)]
struct EventChoice {
    name: &'static str,
    checked: bool,
}

/// The form's values.
#[derive(Debug)]
struct Values {
    name: String,
    url: String,
    events: Vec<EventChoice>,
    enabled: bool,
    include_health_details: bool,
}

impl Values {
    fn from_form(form: &FormData) -> Values {
        let chosen = form.all("events");
        Values {
            name: form.get("name"),
            url: form.get("url"),
            events: choices(|e| chosen.iter().any(|c| c == e.as_str())),
            enabled: form.checked("enabled"),
            include_health_details: form.checked("include_health_details"),
        }
    }

    fn of(e: &Endpoint) -> Values {
        Values {
            name: e.name.clone(),
            url: e.url.clone(),
            events: choices(|ev| e.events.contains(&ev)),
            enabled: e.enabled,
            include_health_details: e.include_health_details,
        }
    }

    fn empty() -> Values {
        Values {
            name: String::new(),
            url: String::new(),
            events: choices(|_| false),
            enabled: true,
            include_health_details: false,
        }
    }

    fn chosen(&self) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| e.checked)
            .map(|e| e.name.to_owned())
            .collect()
    }

    fn input(&self, state: &AppState) -> store::Result<EndpointInput> {
        input_of(
            state,
            &self.name,
            &self.url,
            &self.chosen(),
            self.enabled,
            self.include_health_details,
        )
    }
}

fn choices(checked: impl Fn(Event) -> bool) -> Vec<EventChoice> {
    Event::ALL
        .iter()
        .map(|&e| EventChoice {
            name: e.as_str(),
            checked: checked(e),
        })
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/webhooks.html")]
struct ListPage {
    layout: Layout,
    endpoints: Vec<Endpoint>,
    errors: FieldErrors,
    values: Values,
    allow_private: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/webhook_edit.html")]
struct EditPage {
    layout: Layout,
    endpoint: Endpoint,
    errors: FieldErrors,
    values: Values,
    previous_until: Option<String>,
    allow_private: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/webhook_secret.html")]
struct SecretPage {
    layout: Layout,
    endpoint: Endpoint,
    secret: String,
    rotated: bool,
    previous_until: Option<String>,
}

/// One row of the delivery log.
#[derive(Debug)]
struct LogRow {
    d: Delivery,
    created: String,
    next: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/webhook_deliveries.html")]
struct LogPage {
    layout: Layout,
    endpoint: Endpoint,
    rows: Vec<LogRow>,
    next_before: Option<i64>,
    first_page: bool,
    zone: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogQuery {
    before: Option<i64>,
}

fn list_path(staff: &Staff) -> String {
    format!("/o/{}/admin/webhooks", staff.org.slug)
}

fn log_path(staff: &Staff, id: i64) -> String {
    format!("/o/{}/admin/webhooks/{id}/deliveries", staff.org.slug)
}

async fn zone(state: &AppState, staff: &Staff) -> Result<OrgZone, AppError> {
    let mut conn = state.db.conn().await?;
    let clinics = store::clinic::all(conn.exec(), staff.org.id).await?;
    Ok(OrgZone::of(&clinics))
}

async fn list_view(
    state: &AppState,
    staff: &Staff,
    errors: FieldErrors,
    values: Values,
) -> Result<ListPage, PageError> {
    let mut conn = state.db.conn().await?;
    let endpoints = webhook::list(conn.exec(), staff.org.id).await?;
    Ok(ListPage {
        layout: Layout::staff(staff, "Webhooks", "setup").await?,
        endpoints,
        errors,
        values,
        allow_private: state.config.webhooks_allow_private,
    })
}

async fn list_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
) -> Result<ListPage, PageError> {
    staff.admin()?;
    list_view(&state, &staff, FieldErrors::new(), Values::empty()).await
}

async fn secret_view(
    state: &AppState,
    staff: &Staff,
    endpoint: Endpoint,
    secret: String,
    rotated: bool,
) -> Result<Response, PageError> {
    let zone = zone(state, staff).await?;
    let mut response = SecretPage {
        layout: Layout::staff(staff, format!("Webhook {}", endpoint.name), "setup").await?,
        previous_until: endpoint
            .previous_secret_until_ns
            .map(|ns| zone.datetime(ns)),
        endpoint,
        secret,
        rotated,
    }
    .into_response();
    // The secret is on this page only: no copy of it may be kept.
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

async fn create_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let values = Values::from_form(&form);
    let made = match values.input(&state) {
        Ok(input) => create_endpoint(&state, &staff, &input).await,
        Err(e) => Err(e),
    };
    match made {
        // The secret is shown on the answer to the post itself, never again.
        Ok((endpoint, secret)) => secret_view(&state, &staff, endpoint, secret, false).await,
        Err(e) => {
            let mut errors = FieldErrors::new();
            errors.absorb(e)?;
            Ok(crate::routes::refused(
                list_view(&state, &staff, errors, values).await?,
            ))
        }
    }
}

async fn edit_view(
    state: &AppState,
    staff: &Staff,
    id: i64,
    errors: FieldErrors,
    values: Option<Values>,
) -> Result<EditPage, PageError> {
    let mut conn = state.db.conn().await?;
    let endpoint = webhook::get(conn.exec(), staff.org.id, id).await?;
    drop(conn);
    let zone = zone(state, staff).await?;
    Ok(EditPage {
        layout: Layout::staff(staff, format!("Webhook {}", endpoint.name), "setup").await?,
        errors,
        values: values.unwrap_or_else(|| Values::of(&endpoint)),
        previous_until: endpoint
            .previous_secret_until_ns
            .filter(|&ns| ns > state.clock.now_ns())
            .map(|ns| zone.datetime(ns)),
        endpoint,
        allow_private: state.config.webhooks_allow_private,
    })
}

async fn edit_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
) -> Result<EditPage, PageError> {
    staff.admin()?;
    edit_view(&state, &staff, id, FieldErrors::new(), None).await
}

async fn update_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let values = Values::from_form(&form);
    let saved = match values.input(&state) {
        Ok(input) => update_endpoint(&state, &staff, id, &input).await,
        Err(e) => Err(e),
    };
    saved_or_refused(&staff, saved.map(|_| list_path(&staff)), async |errors| {
        edit_view(&state, &staff, id, errors, Some(values)).await
    })
    .await
}

async fn delete_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
) -> Result<Response, PageError> {
    staff.admin()?;
    let result = delete_endpoint(&state, &staff, id).await;
    saved_or_refused(&staff, result.map(|()| list_path(&staff)), async |errors| {
        edit_view(&state, &staff, id, errors, None).await
    })
    .await
}

async fn rotate_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
) -> Result<Response, PageError> {
    staff.admin()?;
    let secret = rotate_endpoint(&state, &staff, id).await?;
    let mut conn = state.db.conn().await?;
    let endpoint = webhook::get(conn.exec(), staff.org.id, id).await?;
    drop(conn);
    secret_view(&state, &staff, endpoint, secret, true).await
}

async fn test_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
) -> Result<Response, PageError> {
    staff.admin()?;
    queue_test(&state, &staff, id).await?;
    crate::flash::set(&staff.session, "Test event queued.").await?;
    Ok(Redirect::to(&log_path(&staff, id)).into_response())
}

async fn replay_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id, delivery)): Path<(String, i64, i64)>,
) -> Result<Response, PageError> {
    staff.admin()?;
    queue_replay(&state, &staff, id, delivery).await?;
    crate::flash::set(&staff.session, "Message queued again.").await?;
    Ok(Redirect::to(&log_path(&staff, id)).into_response())
}

/// How many deliveries the log page shows at a time.
const LOG_PAGE: i64 = 50;

async fn log_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
    PageQuery(query): PageQuery<LogQuery>,
) -> Result<LogPage, PageError> {
    staff.admin()?;
    let mut conn = state.db.conn().await?;
    let endpoint = webhook::get(conn.exec(), staff.org.id, id).await?;
    let page = webhook::deliveries(conn.exec(), staff.org.id, id, query.before, LOG_PAGE).await?;
    drop(conn);
    let zone = zone(&state, &staff).await?;
    Ok(LogPage {
        layout: Layout::staff(&staff, format!("Deliveries to {}", endpoint.name), "setup").await?,
        rows: page
            .deliveries
            .into_iter()
            .map(|d| LogRow {
                created: zone.datetime(d.created_at_ns),
                next: if d.status == webhook::DeliveryStatus::Pending {
                    zone.datetime(d.next_attempt_at_ns)
                } else {
                    String::new()
                },
                d,
            })
            .collect(),
        next_before: page.next_before,
        first_page: query.before.is_none(),
        zone: zone.tz.name().to_owned(),
        endpoint,
    })
}
