//! Calendar feeds (issue 18, `store::calendar_feed`): a private `webcal://` address per
//! practitioner or clinic that a person subscribes to in Apple Calendar, Google
//! Calendar or Outlook.
//!
//! - The feed itself, `GET /o/{slug}/calendar/{token}.ics`, needs no session: the
//!   token is the secret. An unknown or revoked token, or one of another organisation
//!   than the path's, is 404. It shows the window [`BACK_DAYS`] before today to
//!   [`AHEAD_DAYS`] after, read by one bounded store query.
//! - Admins, and a practitioner-role user for their own practitioner, turn a feed on,
//!   give it a new address (the old one stops at once) or turn it off, on the page
//!   `/o/{slug}/admin/{practitioners|clinics}/{id}/calendar-feed` or through the JSON
//!   API. These manage a secret, so API keys cannot reach them (they are not in
//!   `auth::api_key`'s route table). The address is shown once, when it is made: only
//!   its hash is kept.
//! - What events say is the organisation's choice (admins): by default "Booked
//!   appointment" with neither the patient's name nor the service (which can say what
//!   the visit is for), because a feed lands on phones and in shared calendars.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use store::Organisation;
use store::calendar_feed::{self, Event, EventKind, Feed, Given, Owner, Settings};
use store::staff::Role;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::staff::{Org, Staff, StaffApi, StaffPage};
use crate::error::{AppError, PageError};
use crate::form::{FormData, JsonBody};
use crate::ics::{self, FeedEvent};
use crate::pages::Layout;
use crate::state::AppState;

/// How far back a feed reaches: a month, so last week's appointments stay in the
/// calendar for looking back, without sending a practice's whole history every hour.
pub(crate) const BACK_DAYS: i64 = 30;
/// How far ahead a feed reaches: six months, further than clinics book routinely.
pub(crate) const AHEAD_DAYS: i64 = 180;

const DAY_NS: i64 = 86_400_000_000_000;

/// The feed and the pages.
pub(crate) fn pages() -> Router<AppState> {
    Router::new()
        .route("/o/{slug}/calendar/{file}", get(feed))
        .route(
            "/o/{slug}/admin/practitioners/{id}/calendar-feed",
            get(practitioner_page).post(practitioner_post),
        )
        .route(
            "/o/{slug}/admin/clinics/{id}/calendar-feed",
            get(clinic_page).post(clinic_post),
        )
        .route(
            "/o/{slug}/admin/calendar-feed-settings",
            axum::routing::post(settings_post),
        )
}

/// The API.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(
            get_practitioner_feed,
            post_practitioner_feed,
            delete_practitioner_feed
        ))
        .routes(routes!(
            get_clinic_feed,
            post_clinic_feed,
            delete_clinic_feed
        ))
        .routes(routes!(get_settings, put_settings))
}

// The feed.

async fn feed(
    State(state): State<AppState>,
    Org(org): Org,
    Path((_, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let not_found = || AppError::NotFound("calendar feed".into());
    let token = file.strip_suffix(".ics").ok_or_else(not_found)?;
    let mut conn = state.db.conn().await?;
    let feed = calendar_feed::by_token(conn.exec(), org.id, token)
        .await?
        .ok_or_else(not_found)?;
    // The window moves once a day, so the text (and its ETag) stays the same between
    // changes within a day.
    let today = state.clock.now_ns().div_euclid(DAY_NS) * DAY_NS;
    let (from, to) = (today - BACK_DAYS * DAY_NS, today + AHEAD_DAYS * DAY_NS);
    let events = calendar_feed::events(conn.exec(), org.id, feed.owner, from, to).await?;
    let settings = calendar_feed::settings(conn.exec(), org.id).await?;
    let name = owner_name(&state, &org, feed.owner).await?;
    let text = calendar_text(&state, &org, &feed, &name, &events, settings);
    let etag = format!("\"{}\"", hex(&Sha256::digest(text.as_bytes())));
    let cache = [
        (header::CACHE_CONTROL, "private, max-age=300".to_owned()),
        (header::ETAG, etag.clone()),
    ];
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if matches {
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    Ok((
        [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
        cache,
        text,
    )
        .into_response())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The practitioner's or clinic's name, which names the calendar.
async fn owner_name(
    state: &AppState,
    org: &Organisation,
    owner: Owner,
) -> Result<String, AppError> {
    let mut conn = state.db.conn().await?;
    Ok(match owner {
        Owner::Practitioner(id) => {
            store::practitioner::get(conn.exec(), org.id, id)
                .await?
                .name
        }
        Owner::Clinic(id) => store::clinic::get(conn.exec(), org.id, id).await?.name,
    })
}

/// The feed's text: each event as the organisation's settings allow it to be told.
fn calendar_text(
    state: &AppState,
    org: &Organisation,
    feed: &Feed,
    name: &str,
    events: &[Event],
    settings: Settings,
) -> String {
    let public_url = &state.config.public_url;
    // The latest change is the calendar's DTSTAMP, so the same data gives the same
    // text (and ETag).
    let stamp = events
        .iter()
        .map(|e| e.updated_at_ns)
        .chain([feed.created_at_ns, feed.rotated_at_ns.unwrap_or(0)])
        .max()
        .unwrap_or(0);
    let clinic_feed = matches!(feed.owner, Owner::Clinic(_));
    let list: Vec<FeedEvent> = events
        .iter()
        .map(|e| feed_event(e, settings, clinic_feed, public_url))
        .collect();
    ics::feed(&format!("{name} ({})", org.name), &list, stamp)
}

/// One event as the feed tells it. An appointment says "Booked appointment" unless
/// the organisation allows the patient's name or the service; a clinic's feed adds
/// whose appointment it is. Blocked time and time off say so plainly.
fn feed_event(e: &Event, settings: Settings, clinic_feed: bool, public_url: &str) -> FeedEvent {
    let zone = e.timezone.as_deref().and_then(|z| z.parse::<Tz>().ok());
    let mut summary = match e.kind {
        EventKind::TimeOff => "Time off".to_owned(),
        EventKind::Blocked if e.note.trim().is_empty() => "Blocked time".to_owned(),
        EventKind::Blocked => format!("Blocked: {}", e.note.trim()),
        EventKind::Appointment => {
            let patient = e.patient_name.as_deref().filter(|_| settings.patient_names);
            let service = e.service_name.as_deref().filter(|_| settings.service_names);
            match (patient, service) {
                (Some(p), Some(s)) => format!("{p}: {s}"),
                (Some(p), None) => p.to_owned(),
                (None, Some(s)) => s.to_owned(),
                (None, None) => "Booked appointment".to_owned(),
            }
        }
    };
    if e.status == Some(store::appointment::AppointmentStatus::Pending) {
        summary.push_str(" (request)");
    }
    if clinic_feed {
        summary.push_str(&format!(" · {}", e.practitioner_name));
    }
    let location = match (e.kind, e.telehealth) {
        (EventKind::TimeOff, _) => None,
        (_, true) => Some("Video appointment".to_owned()),
        (_, false) => e.clinic_name.clone(),
    };
    let sequence = u32::try_from(e.sequence).unwrap_or(0);
    FeedEvent {
        uid: match e.kind {
            EventKind::TimeOff => format!("time-off-{}@{}", e.id, uid_host(public_url)),
            _ => ics::uid(e.id, public_url),
        },
        start_ns: e.start_ns,
        end_ns: e.end_ns,
        zone,
        summary,
        description: None,
        location,
        // A cancelled event carries one more than its last version, as the
        // cancellation email's invitation does, so calendars take it as newer.
        sequence: if e.cancelled() {
            sequence.saturating_add(1)
        } else {
            sequence
        },
        cancelled: e.cancelled(),
        modified_ns: Some(e.updated_at_ns),
    }
}

/// The host [`ics::uid`] puts after `@`.
fn uid_host(public_url: &str) -> String {
    ics::uid(0, public_url)
        .split_once('@')
        .map(|(_, host)| host.to_owned())
        .unwrap_or_default()
}

// Who may manage which feed.

/// Refuses unless `user` is an admin, or the practitioner-role user of this practitioner.
fn may_manage(user: &store::staff::StaffUser, owner: Owner) -> Result<(), AppError> {
    match (user.role(), owner) {
        (Role::Admin, _) => Ok(()),
        (Role::Practitioner, Owner::Practitioner(id)) if user.practitioner_id == Some(id) => Ok(()),
        _ => Err(AppError::Forbidden(
            "this needs the admin role, or the practitioner's own account".into(),
        )),
    }
}

/// The owner, resolved inside the organisation (404 when it is not the organisation's).
async fn resolve(state: &AppState, org: &Organisation, owner: Owner) -> Result<String, AppError> {
    owner_name(state, org, owner).await
}

/// The feed's address, `https://…/o/{slug}/calendar/{token}.ics`, and its `webcal://`
/// twin (which calendars open as a subscription).
fn addresses(state: &AppState, org: &Organisation, token: &str) -> (String, String) {
    let https = format!(
        "{}/o/{}/calendar/{token}.ics",
        state.config.public_url, org.slug
    );
    let webcal = match https.split_once("://") {
        Some((_, rest)) => format!("webcal://{rest}"),
        None => https.clone(),
    };
    (https, webcal)
}

async fn give(
    state: &AppState,
    org: &Organisation,
    owner: Owner,
    actor: &str,
) -> Result<(Feed, Given, String), AppError> {
    let token = crate::auth::csrf::random_token();
    let mut tx = state.db.begin().await?;
    let (feed, given) =
        calendar_feed::give_address(&mut tx, org.id, owner, &token, actor, state.clock.now_ns())
            .await?;
    tx.commit().await?;
    Ok((feed, given, token))
}

async fn revoke(
    state: &AppState,
    org: &Organisation,
    owner: Owner,
    actor: &str,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    calendar_feed::revoke(&mut tx, org.id, owner, actor, state.clock.now_ns()).await?;
    tx.commit().await?;
    Ok(())
}

async fn current(
    state: &AppState,
    org: &Organisation,
    owner: Owner,
) -> Result<Option<Feed>, AppError> {
    let mut conn = state.db.conn().await?;
    Ok(calendar_feed::get(conn.exec(), org.id, owner).await?)
}

// API.

/// A practitioner's or clinic's calendar feed, as the API shows it (never its address,
/// which is shown once, when it is made).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CalendarFeedDto {
    /// Whether the feed is on.
    pub enabled: bool,
    /// When it was turned on, ns since the Unix epoch.
    pub created_at_ns: Option<i64>,
    /// When its address was last replaced, ns since the Unix epoch.
    pub rotated_at_ns: Option<i64>,
}

impl From<Option<Feed>> for CalendarFeedDto {
    fn from(feed: Option<Feed>) -> Self {
        CalendarFeedDto {
            enabled: feed.is_some(),
            created_at_ns: feed.as_ref().map(|f| f.created_at_ns),
            rotated_at_ns: feed.and_then(|f| f.rotated_at_ns),
        }
    }
}

/// A feed's new address, shown once: any earlier address has stopped.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CalendarFeedAddressDto {
    /// The address over HTTPS (Google Calendar's "From URL").
    pub https_url: String,
    /// The same as `webcal://`, which Apple Calendar and Outlook open as a subscription.
    pub webcal_url: String,
    /// Whether the feed was off before (else its old address stopped).
    pub created: bool,
}

/// What the organisation's feeds may say about an appointment.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CalendarFeedSettingsDto {
    /// Events name the patient (default false).
    pub patient_names: bool,
    /// Events name the service booked (default false: it can say what the visit is for).
    pub service_names: bool,
}

async fn api_get(
    state: &AppState,
    staff: &StaffApi,
    owner: Owner,
) -> Result<Json<CalendarFeedDto>, AppError> {
    let StaffApi(caller) = staff;
    may_manage(caller.user().ok_or_else(session_only)?, owner)?;
    resolve(state, &caller.org, owner).await?;
    Ok(Json(current(state, &caller.org, owner).await?.into()))
}

async fn api_post(state: &AppState, staff: &StaffApi, owner: Owner) -> Result<Response, AppError> {
    let StaffApi(caller) = staff;
    may_manage(caller.user().ok_or_else(session_only)?, owner)?;
    resolve(state, &caller.org, owner).await?;
    let (_, given, token) = give(state, &caller.org, owner, &caller.actor()).await?;
    let (https_url, webcal_url) = addresses(state, &caller.org, &token);
    let created = given == Given::Created;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(CalendarFeedAddressDto {
            https_url,
            webcal_url,
            created,
        }),
    )
        .into_response())
}

async fn api_delete(
    state: &AppState,
    staff: &StaffApi,
    owner: Owner,
) -> Result<StatusCode, AppError> {
    let StaffApi(caller) = staff;
    may_manage(caller.user().ok_or_else(session_only)?, owner)?;
    resolve(state, &caller.org, owner).await?;
    revoke(state, &caller.org, owner, &caller.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn session_only() -> AppError {
    AppError::Forbidden("calendar feeds need a staff member signed in".into())
}

/// A practitioner's calendar feed: whether it is on (admins, and the practitioner's
/// own account).
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/practitioners/{id}/calendar-feed", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The practitioner")),
    responses((status = 200, body = CalendarFeedDto), (status = 403, description = "Neither admin nor this practitioner"),
        (status = 404, description = "No such practitioner")))]
async fn get_practitioner_feed(
    State(state): State<AppState>,
    staff: StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<Json<CalendarFeedDto>, AppError> {
    api_get(&state, &staff, Owner::Practitioner(path.1)).await
}

/// Turns a practitioner's feed on (201), or gives it a new address (200; the old one
/// stops at once). The address is in this answer only.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/practitioners/{id}/calendar-feed", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The practitioner")),
    responses((status = 201, body = CalendarFeedAddressDto, description = "Turned on"),
        (status = 200, body = CalendarFeedAddressDto, description = "New address; the old one stopped"),
        (status = 403, description = "Neither admin nor this practitioner"), (status = 404, description = "No such practitioner")))]
async fn post_practitioner_feed(
    State(state): State<AppState>,
    staff: StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<Response, AppError> {
    api_post(&state, &staff, Owner::Practitioner(path.1)).await
}

/// Turns a practitioner's feed off: its address answers 404 from now on.
#[utoipa::path(delete, path = "/api/v1/orgs/{slug}/practitioners/{id}/calendar-feed", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The practitioner")),
    responses((status = 204, description = "Turned off"), (status = 403, description = "Neither admin nor this practitioner"),
        (status = 404, description = "No such practitioner, or its feed is off")))]
async fn delete_practitioner_feed(
    State(state): State<AppState>,
    staff: StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<StatusCode, AppError> {
    api_delete(&state, &staff, Owner::Practitioner(path.1)).await
}

/// A clinic's calendar feed: whether it is on (admins).
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/clinics/{id}/calendar-feed", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The clinic")),
    responses((status = 200, body = CalendarFeedDto), (status = 403, description = "Not an admin"),
        (status = 404, description = "No such clinic")))]
async fn get_clinic_feed(
    State(state): State<AppState>,
    staff: StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<Json<CalendarFeedDto>, AppError> {
    api_get(&state, &staff, Owner::Clinic(path.1)).await
}

/// Turns a clinic's feed on (201), or gives it a new address (200; the old one stops
/// at once). The address is in this answer only.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/clinics/{id}/calendar-feed", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The clinic")),
    responses((status = 201, body = CalendarFeedAddressDto, description = "Turned on"),
        (status = 200, body = CalendarFeedAddressDto, description = "New address; the old one stopped"),
        (status = 403, description = "Not an admin"), (status = 404, description = "No such clinic")))]
async fn post_clinic_feed(
    State(state): State<AppState>,
    staff: StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<Response, AppError> {
    api_post(&state, &staff, Owner::Clinic(path.1)).await
}

/// Turns a clinic's feed off: its address answers 404 from now on.
#[utoipa::path(delete, path = "/api/v1/orgs/{slug}/clinics/{id}/calendar-feed", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The clinic")),
    responses((status = 204, description = "Turned off"), (status = 403, description = "Not an admin"),
        (status = 404, description = "No such clinic, or its feed is off")))]
async fn delete_clinic_feed(
    State(state): State<AppState>,
    staff: StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<StatusCode, AppError> {
    api_delete(&state, &staff, Owner::Clinic(path.1)).await
}

/// What the organisation's calendar feeds may say (admins).
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/calendar-feed-settings", tag = "setup",
    params(("slug" = String, Path, description = "The organisation")),
    responses((status = 200, body = CalendarFeedSettingsDto), (status = 403, description = "Not an admin")))]
async fn get_settings(
    State(state): State<AppState>,
    StaffApi(caller): StaffApi,
) -> Result<Json<CalendarFeedSettingsDto>, AppError> {
    caller.user().ok_or_else(session_only)?;
    caller.admin()?;
    let mut conn = state.db.conn().await?;
    let s = calendar_feed::settings(conn.exec(), caller.org.id).await?;
    Ok(Json(CalendarFeedSettingsDto {
        patient_names: s.patient_names,
        service_names: s.service_names,
    }))
}

/// Saves what the organisation's calendar feeds may say (admins); audited.
#[utoipa::path(put, path = "/api/v1/orgs/{slug}/calendar-feed-settings", tag = "setup",
    params(("slug" = String, Path, description = "The organisation")),
    request_body = CalendarFeedSettingsDto,
    responses((status = 200, body = CalendarFeedSettingsDto), (status = 403, description = "Not an admin"),
        (status = 422, description = "Invalid field; nothing saved")))]
async fn put_settings(
    State(state): State<AppState>,
    StaffApi(caller): StaffApi,
    JsonBody(body): JsonBody<CalendarFeedSettingsDto>,
) -> Result<Json<CalendarFeedSettingsDto>, AppError> {
    caller.user().ok_or_else(session_only)?;
    caller.admin()?;
    save_settings(
        &state,
        &caller.org,
        Settings {
            patient_names: body.patient_names,
            service_names: body.service_names,
        },
        &caller.actor(),
    )
    .await?;
    Ok(Json(body))
}

async fn save_settings(
    state: &AppState,
    org: &Organisation,
    settings: Settings,
    actor: &str,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    calendar_feed::set_settings(&mut tx, org.id, settings, actor, state.clock.now_ns()).await?;
    tx.commit().await?;
    Ok(())
}

// Pages.

#[derive(Template, WebTemplate)]
#[template(path = "admin/calendar_feed.html")]
struct FeedPage {
    layout: Layout,
    /// Whose feed: "Christine Chan" or the clinic's name.
    name: String,
    /// `practitioner` or `clinic`, in words.
    kind: &'static str,
    /// Where the owner's own page is (admins), and this page's address.
    back: Option<String>,
    here: String,
    feed: Option<Feed>,
    /// The new address, on the answer that made it: (https, webcal).
    address: Option<(String, String)>,
    /// What was done, in words.
    done: Option<&'static str>,
    settings: Settings,
    is_admin: bool,
    back_days: i64,
    ahead_days: i64,
}

fn paths(org: &Organisation, owner: Owner) -> (String, String) {
    let (kind, id) = match owner {
        Owner::Practitioner(id) => ("practitioners", id),
        Owner::Clinic(id) => ("clinics", id),
    };
    let back = format!("/o/{}/admin/{kind}/{id}", org.slug);
    (format!("{back}/calendar-feed"), back)
}

async fn render(
    state: &AppState,
    staff: &Staff,
    owner: Owner,
    address: Option<(String, String)>,
    done: Option<&'static str>,
) -> Result<FeedPage, PageError> {
    may_manage(&staff.user, owner)?;
    let name = resolve(state, &staff.org, owner).await?;
    let feed = current(state, &staff.org, owner).await?;
    let mut conn = state.db.conn().await?;
    let settings = calendar_feed::settings(conn.exec(), staff.org.id).await?;
    let (here, back) = paths(&staff.org, owner);
    let is_admin = staff.user.role() == Role::Admin;
    Ok(FeedPage {
        layout: Layout::staff(staff, format!("Calendar feed: {name}"), "setup").await?,
        name,
        kind: match owner {
            Owner::Practitioner(_) => "practitioner",
            Owner::Clinic(_) => "clinic",
        },
        back: is_admin.then_some(back),
        here,
        feed,
        address,
        done,
        settings,
        is_admin,
        back_days: BACK_DAYS,
        ahead_days: AHEAD_DAYS,
    })
}

async fn practitioner_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
) -> Result<FeedPage, PageError> {
    render(&state, &staff, Owner::Practitioner(id), None, None).await
}

async fn clinic_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
) -> Result<FeedPage, PageError> {
    render(&state, &staff, Owner::Clinic(id), None, None).await
}

async fn practitioner_post(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    act(&state, &staff, Owner::Practitioner(id), &form).await
}

async fn clinic_post(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    act(&state, &staff, Owner::Clinic(id), &form).await
}

/// The page's buttons: `action=address` turns the feed on or gives it a new address
/// (the answer shows it: it is never shown again), `action=off` turns it off.
async fn act(
    state: &AppState,
    staff: &Staff,
    owner: Owner,
    form: &FormData,
) -> Result<Response, PageError> {
    may_manage(&staff.user, owner)?;
    resolve(state, &staff.org, owner).await?;
    match form.get("action").as_str() {
        "address" => {
            let (_, given, token) = give(state, &staff.org, owner, &staff.actor()).await?;
            let done = match given {
                Given::Created => "The feed is on.",
                Given::Rotated => "The feed has a new address; the old one no longer works.",
            };
            let address = addresses(state, &staff.org, &token);
            // Shown on this answer rather than after a redirect, so that the secret
            // never sits in a URL, the session or a log.
            let mut page = render(state, staff, owner, Some(address), Some(done))
                .await?
                .into_response();
            page.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            Ok(page)
        }
        "off" => {
            revoke(state, &staff.org, owner, &staff.actor()).await?;
            crate::flash::set(
                &staff.session,
                "The feed is off; its address no longer works.",
            )
            .await?;
            Ok(Redirect::to(&paths(&staff.org, owner).0).into_response())
        }
        _ => Err(AppError::Invalid {
            field: "action".into(),
            message: "choose to make an address or to turn the feed off".into(),
        }
        .into()),
    }
}

/// Saves the organisation's feed settings from a feed page (admins), back to that page.
async fn settings_post(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let settings = Settings {
        patient_names: form.get("patient_names") == "on",
        service_names: form.get("service_names") == "on",
    };
    save_settings(&state, &staff.org, settings, &staff.actor()).await?;
    let from = form.get("from");
    let prefix = format!("/o/{}/admin/", staff.org.slug);
    let to = if from.starts_with(&prefix)
        && from.ends_with("/calendar-feed")
        && from[prefix.len()..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '/' || c == '-')
    {
        from
    } else {
        format!("/o/{}/admin/setup", staff.org.slug)
    };
    crate::flash::set(&staff.session, "Calendar feed settings saved.").await?;
    Ok(Redirect::to(&to).into_response())
}
