//! Organisation settings: the admin page and the API.
//!
//! Saving goes through [`changes::setup`], so a resolution that leaves existing blocks
//! off the grid is refused with the engine's message naming the block. The
//! organisation's own host name is set here too (`clinic_host` serves it).

use crate::auth::staff::Caller;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::json;
use store::Organisation;
use store::organisation::{self, Settings};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::staff::{Staff, StaffApi, StaffPage};
use crate::changes::{self, Change};
use crate::error::{AppError, PageError};
use crate::form::{self, FieldErrors, FormData, JsonBody, PageQuery};
use crate::pages::Layout;
use crate::state::AppState;

/// The pages.
pub(crate) fn pages() -> Router<AppState> {
    Router::new().route("/o/{slug}/admin/settings", get(page).post(save_page))
}

/// The API.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_settings, put_settings))
}

/// The organisation's settings, as the API shows and takes them.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SettingsDto {
    /// The organisation's name, shown in the portal.
    pub name: String,
    /// Grid cell size: 1, 5 or 15 minutes.
    pub resolution_minutes: i64,
    /// Default slot step of availability records: a positive multiple of the
    /// resolution, at most 1440.
    pub slot_step_minutes: i64,
    /// How long before its start a portal booking must be made, 0 ..= 525600 minutes.
    pub min_notice_minutes: i64,
    /// How many days ahead patients may book, 0 ..= 3660.
    pub max_days_ahead: i64,
    /// Whether new patients may sign up in the portal.
    pub allow_public_signup: bool,
    /// Whether visitors who have not signed in may see the services and their open times
    /// in the portal (they sign in or sign up at "Book it"). Left out of a `PUT`, it
    /// stays as it is.
    #[serde(default)]
    #[schema(value_type = bool)]
    pub portal_public_times: Option<bool>,
    /// Whether portal bookings are booked at once (otherwise pending until staff accept).
    pub auto_accept_portal_bookings: bool,
    /// How long before the start patients may still cancel, 0 ..= 525600 minutes.
    pub cancellation_notice_minutes: i64,
    /// The portal's welcome text.
    pub portal_welcome: String,
    /// The join link of video appointments whose practitioner has none (an `https://`
    /// address, at most 500 characters); `""` is none. Left out of a `PUT`, it stays as
    /// it is.
    #[serde(default)]
    #[schema(value_type = String)]
    pub video_link: Option<String>,
    /// The organisation's own host name, e.g. `book.kitsilano-physio.ca`, or `null` for
    /// none: requests for it reach this organisation's portal at `/` and its staff
    /// pages at `/admin`. A lower-case DNS name that no other organisation has and that
    /// is not the server's own; `""` is none. Left out of a `PUT`, it stays as it is.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub host: Option<Option<String>>,
}

/// A field that may be `null`, told apart from one left out (`None`, by `default`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// A host name as typed: trimmed, and none when blank.
fn host_of(typed: &str) -> Option<String> {
    Some(typed.trim().to_owned()).filter(|h| !h.is_empty())
}

impl From<Settings> for SettingsDto {
    fn from(s: Settings) -> Self {
        SettingsDto {
            name: s.name,
            resolution_minutes: s.resolution_minutes,
            slot_step_minutes: s.slot_step_minutes,
            min_notice_minutes: s.min_notice_minutes,
            max_days_ahead: s.max_days_ahead,
            allow_public_signup: s.allow_public_signup,
            portal_public_times: Some(s.portal_public_times),
            auto_accept_portal_bookings: s.auto_accept_portal_bookings,
            cancellation_notice_minutes: s.cancellation_notice_minutes,
            portal_welcome: s.portal_welcome,
            video_link: Some(s.video_link),
            host: Some(s.host),
        }
    }
}

impl SettingsDto {
    /// The settings to save: these, with `org`'s host name, video link and public times
    /// when the body left them out.
    fn into_settings(self, org: &Organisation) -> Settings {
        let s = self;
        Settings {
            name: s.name,
            resolution_minutes: s.resolution_minutes,
            slot_step_minutes: s.slot_step_minutes,
            min_notice_minutes: s.min_notice_minutes,
            max_days_ahead: s.max_days_ahead,
            allow_public_signup: s.allow_public_signup,
            portal_public_times: s.portal_public_times.unwrap_or(org.portal_public_times),
            auto_accept_portal_bookings: s.auto_accept_portal_bookings,
            cancellation_notice_minutes: s.cancellation_notice_minutes,
            portal_welcome: s.portal_welcome,
            video_link: s.video_link.unwrap_or_else(|| org.video_link.clone()),
            host: match s.host {
                Some(host) => host.as_deref().and_then(host_of),
                None => org.host.clone(),
            },
        }
    }
}

/// Saves the settings in one checked, audited transaction. The server's own host name
/// (`--public-url`'s) is no organisation's.
async fn save(
    state: &AppState,
    staff: &Caller,
    settings: &Settings,
    came_in_on: Option<String>,
) -> store::Result<Settings> {
    let own = crate::clinic_host::public_host(&state.config.public_url);
    if settings.host.is_some() && settings.host == own {
        return Err(store::Error::invalid(
            "host",
            "is this server's own address (its public URL): give the organisation a host name of its own",
        ));
    }
    // The name this request came in on serves every organisation (unless it is already
    // this one's): claiming it would take it from all the others.
    if settings.host.is_some() && settings.host == came_in_on && settings.host != staff.org.host {
        return Err(store::Error::invalid(
            "host",
            "is the address this page was reached on, which serves every organisation: \
             point a host name of the organisation's own at the server and give that",
        ));
    }
    changes::setup(
        state,
        staff,
        Change {
            action: "organisation.update_settings",
            entity: "organisation",
        },
        async |tx| {
            let before = organisation::by_id(tx.exec(), staff.org.id).await?;
            organisation::update_settings(tx, staff.org.id, settings).await?;
            let saved = organisation::by_id(tx.exec(), staff.org.id).await?;
            let details =
                changes::update_details(json!(before.settings()), json!(saved.settings()));
            Ok((saved.settings(), Some(staff.org.id), details))
        },
    )
    .await
}

/// The settings (admins and front desk).
#[utoipa::path(get, operation_id = "get_settings", path = "/api/v1/orgs/{slug}/settings", tag = "setup",
    params(("slug" = String, Path, description = "The organisation")),
    responses((status = 200, body = SettingsDto), (status = 401, description = "Not signed in"),
        (status = 403, description = "Neither admin nor front desk")))]
async fn get_settings(StaffApi(staff): StaffApi) -> Result<Json<SettingsDto>, AppError> {
    staff.front_desk()?;
    Ok(Json(staff.org.settings().into()))
}

/// Saves every setting (admins). A resolution that leaves existing availability blocks
/// off its grid is refused, naming the block.
#[utoipa::path(put, operation_id = "put_settings", path = "/api/v1/orgs/{slug}/settings", tag = "setup",
    params(("slug" = String, Path, description = "The organisation")),
    request_body = SettingsDto,
    responses((status = 200, body = SettingsDto), (status = 403, description = "Not an admin"),
        (status = 422, description = "Invalid field, or the setup would become invalid; nothing saved")))]
async fn put_settings(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    uri: Uri,
    headers: HeaderMap,
    JsonBody(body): JsonBody<SettingsDto>,
) -> Result<Json<SettingsDto>, AppError> {
    staff.admin()?;
    let settings = body.into_settings(&staff.org);
    let came_in_on = crate::clinic_host::host_named(&uri, &headers);
    let saved = save(&state, &staff, &settings, came_in_on).await?;
    Ok(Json(saved.into()))
}

// Pages.

/// The form's values as typed, so that a refused form shows them again.
#[derive(Debug)]
struct Values {
    name: String,
    resolution_minutes: String,
    slot_step_minutes: String,
    min_notice_minutes: String,
    max_days_ahead: String,
    allow_public_signup: bool,
    portal_public_times: bool,
    auto_accept_portal_bookings: bool,
    cancellation_notice_minutes: String,
    portal_welcome: String,
    video_link: String,
    host: String,
}

impl From<&Settings> for Values {
    fn from(s: &Settings) -> Self {
        Values {
            name: s.name.clone(),
            resolution_minutes: s.resolution_minutes.to_string(),
            slot_step_minutes: s.slot_step_minutes.to_string(),
            min_notice_minutes: s.min_notice_minutes.to_string(),
            max_days_ahead: s.max_days_ahead.to_string(),
            allow_public_signup: s.allow_public_signup,
            portal_public_times: s.portal_public_times,
            auto_accept_portal_bookings: s.auto_accept_portal_bookings,
            cancellation_notice_minutes: s.cancellation_notice_minutes.to_string(),
            portal_welcome: s.portal_welcome.clone(),
            video_link: s.video_link.clone(),
            host: s.host.clone().unwrap_or_default(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/settings.html")]
struct SettingsPage {
    layout: Layout,
    errors: FieldErrors,
    values: Values,
    saved: bool,
    resolutions: Vec<Resolution>,
    /// The server's own address, which the host name must not be.
    public_url: String,
}

/// One choice of the resolution list.
#[derive(Debug)]
struct Resolution {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

#[derive(Debug, Deserialize)]
struct Notice {
    saved: Option<String>,
}

async fn view(
    state: &AppState,
    staff: &Staff,
    errors: FieldErrors,
    values: Values,
    saved: bool,
) -> Result<SettingsPage, PageError> {
    let resolutions = [("1", "1 minute"), ("5", "5 minutes"), ("15", "15 minutes")]
        .into_iter()
        .map(|(value, label)| Resolution {
            value,
            label,
            selected: values.resolution_minutes == value,
        })
        .collect();
    Ok(SettingsPage {
        layout: Layout::staff(staff, "Organisation settings", "setup").await?,
        errors,
        values,
        saved,
        resolutions,
        public_url: state.config.public_url.clone(),
    })
}

async fn page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    PageQuery(notice): PageQuery<Notice>,
) -> Result<SettingsPage, PageError> {
    staff.admin()?;
    let values = Values::from(&staff.org.settings());
    view(
        &state,
        &staff,
        FieldErrors::new(),
        values,
        notice.saved.is_some(),
    )
    .await
}

async fn save_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    uri: Uri,
    headers: HeaderMap,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let values = Values {
        name: form.get("name"),
        resolution_minutes: form.get("resolution_minutes"),
        slot_step_minutes: form.get("slot_step_minutes"),
        min_notice_minutes: form.get("min_notice_minutes"),
        max_days_ahead: form.get("max_days_ahead"),
        allow_public_signup: form.checked("allow_public_signup"),
        portal_public_times: form.checked("portal_public_times"),
        auto_accept_portal_bookings: form.checked("auto_accept_portal_bookings"),
        cancellation_notice_minutes: form.get("cancellation_notice_minutes"),
        portal_welcome: form.get("portal_welcome"),
        video_link: form.get("video_link"),
        host: form.get("host"),
    };
    let mut errors = FieldErrors::new();
    let mut number = |name: &str, what: &str, example: i64| {
        form::number(&mut errors, &form, name, what, example)
    };
    let resolution_minutes = number("resolution_minutes", "the resolution in minutes", 5);
    let slot_step_minutes = number("slot_step_minutes", "the slot step in minutes", 15);
    let min_notice_minutes = number("min_notice_minutes", "the minimum notice in minutes", 60);
    let max_days_ahead = number(
        "max_days_ahead",
        "how many days ahead patients may book",
        60,
    );
    let cancellation_notice_minutes = number(
        "cancellation_notice_minutes",
        "the cancellation notice in minutes",
        1440,
    );
    // Unreadable numbers are already reported; fitting ones stand in so the store's
    // check reports only the other fields.
    let settings = Settings {
        name: values.name.clone(),
        resolution_minutes: resolution_minutes.unwrap_or(1),
        slot_step_minutes: slot_step_minutes.unwrap_or(60),
        min_notice_minutes: min_notice_minutes.unwrap_or(0),
        max_days_ahead: max_days_ahead.unwrap_or(0),
        allow_public_signup: values.allow_public_signup,
        portal_public_times: values.portal_public_times,
        auto_accept_portal_bookings: values.auto_accept_portal_bookings,
        cancellation_notice_minutes: cancellation_notice_minutes.unwrap_or(0),
        portal_welcome: values.portal_welcome.clone(),
        video_link: values.video_link.clone(),
        host: host_of(&values.host),
    };
    if !errors.is_empty() {
        errors.also(organisation::check_settings(&settings))?;
        return refused(&state, &staff, errors, values).await;
    }
    match save(
        &state,
        &staff.caller(),
        &settings,
        crate::clinic_host::host_named(&uri, &headers),
    )
    .await
    {
        Ok(_) => Ok(
            Redirect::to(&format!("/o/{}/admin/settings?saved=1", staff.org.slug)).into_response(),
        ),
        Err(e) => {
            errors.absorb(e)?;
            refused(&state, &staff, errors, values).await
        }
    }
}

/// The form again with its errors and what was typed: 422, nothing saved.
async fn refused(
    state: &AppState,
    staff: &Staff,
    errors: FieldErrors,
    values: Values,
) -> Result<Response, PageError> {
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        view(state, staff, errors, values, false).await?,
    )
        .into_response())
}
