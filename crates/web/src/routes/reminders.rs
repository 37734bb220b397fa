//! Reminder settings (issue 17, `store::reminder`): when booked appointments are
//! reminded (the organisation's offsets, and a service's own), and the no-show policy
//! (after N no-shows, a patient's portal bookings wait for the clinic). Admins change
//! them; front desk may read them through the API. Every save is audited
//! (`reminders.settings`) in its transaction.

use crate::auth::staff::Caller;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use store::reminder::{self, Offsets, ServiceOffsets, Settings};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::staff::{Staff, StaffApi, StaffPage};
use crate::error::{AppError, PageError};
use crate::form::{FieldErrors, FormData, JsonBody, PageQuery};
use crate::pages::Layout;
use crate::state::AppState;

/// The pages.
pub(crate) fn pages() -> Router<AppState> {
    Router::new().route("/o/{slug}/admin/reminders", get(page).post(save_page))
}

/// The API.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_reminders, put_reminders))
}

/// A service's own reminder offsets.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServiceOffsetsDto {
    /// The service's row id.
    pub service_id: i64,
    /// Minutes before the start, used instead of the organisation's (at most 5, each
    /// 15 ..= 20160); an empty list means the organisation's.
    pub offsets_minutes: Vec<i64>,
}

/// The reminder settings, as the API shows and takes them.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReminderSettingsDto {
    /// Minutes before the start at which booked appointments are reminded by email (at
    /// most 5, each 15 ..= 20160, no repeats); empty: no reminders.
    pub offsets_minutes: Vec<i64>,
    /// After this many no-shows (1 ..= 100) a patient's portal bookings wait for the
    /// clinic to accept them; `null`: no such policy.
    pub no_show_pending_after: Option<i64>,
    /// Services with their own offsets; any service left out uses the organisation's.
    #[serde(default)]
    pub services: Vec<ServiceOffsetsDto>,
}

impl From<Settings> for ReminderSettingsDto {
    fn from(s: Settings) -> Self {
        ReminderSettingsDto {
            offsets_minutes: s.offsets.minutes().to_vec(),
            no_show_pending_after: s.no_show_pending_after,
            services: s
                .services
                .into_iter()
                .map(|s| ServiceOffsetsDto {
                    service_id: s.service_id,
                    offsets_minutes: s.offsets.minutes().to_vec(),
                })
                .collect(),
        }
    }
}

impl TryFrom<ReminderSettingsDto> for Settings {
    type Error = store::Error;

    fn try_from(d: ReminderSettingsDto) -> Result<Self, Self::Error> {
        Ok(Settings {
            offsets: Offsets::new("offsets_minutes", &d.offsets_minutes)?,
            no_show_pending_after: reminder::check_no_show_threshold(d.no_show_pending_after)?,
            services: d
                .services
                .iter()
                .map(|s| {
                    Ok(ServiceOffsets {
                        service_id: s.service_id,
                        offsets: Offsets::new("services", &s.offsets_minutes)?,
                    })
                })
                .collect::<Result<_, store::Error>>()?,
        })
    }
}

async fn load(state: &AppState, org: i64) -> Result<Settings, AppError> {
    let mut conn = state.db.conn().await?;
    Ok(reminder::settings(conn.exec(), org).await?)
}

async fn save(state: &AppState, staff: &Caller, settings: &Settings) -> store::Result<()> {
    let mut tx = state.db.begin().await?;
    reminder::set_settings(
        &mut tx,
        staff.org.id,
        settings,
        &staff.actor(),
        state.clock.now_ns(),
    )
    .await?;
    tx.commit().await
}

/// The reminder settings (admins and front desk).
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/reminder-settings", tag = "setup",
    params(("slug" = String, Path, description = "The organisation")),
    responses((status = 200, body = ReminderSettingsDto), (status = 401, description = "Not signed in"),
        (status = 403, description = "Neither admin nor front desk")))]
async fn get_reminders(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
) -> Result<Json<ReminderSettingsDto>, AppError> {
    staff.front_desk()?;
    Ok(Json(load(&state, staff.org.id).await?.into()))
}

/// Saves the reminder settings (admins): the offsets, the no-show policy, and every
/// service's own offsets (services left out use the organisation's).
#[utoipa::path(put, path = "/api/v1/orgs/{slug}/reminder-settings", tag = "setup",
    params(("slug" = String, Path, description = "The organisation")),
    request_body = ReminderSettingsDto,
    responses((status = 200, body = ReminderSettingsDto), (status = 403, description = "Not an admin"),
        (status = 422, description = "Invalid field; nothing saved")))]
async fn put_reminders(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    JsonBody(body): JsonBody<ReminderSettingsDto>,
) -> Result<Json<ReminderSettingsDto>, AppError> {
    staff.admin()?;
    let settings = Settings::try_from(body)?;
    save(&state, &staff, &settings).await?;
    Ok(Json(load(&state, staff.org.id).await?.into()))
}

// Pages.

/// One service's row of the form.
#[derive(Debug)]
struct ServiceRow {
    id: i64,
    name: String,
    offsets: String,
    error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/reminders.html")]
struct RemindersPage {
    layout: Layout,
    errors: FieldErrors,
    offsets: String,
    no_show_pending_after: String,
    services: Vec<ServiceRow>,
    saved: bool,
}

#[derive(Debug, Deserialize)]
struct Notice {
    saved: Option<String>,
}

async fn service_rows(
    state: &AppState,
    staff: &Staff,
    settings: &Settings,
) -> Result<Vec<ServiceRow>, AppError> {
    let mut conn = state.db.conn().await?;
    let services = store::service::all(conn.exec(), staff.org.id).await?;
    Ok(services
        .into_iter()
        .map(|s| ServiceRow {
            offsets: settings
                .services
                .iter()
                .find(|o| o.service_id == s.id)
                .map(|o| o.offsets.to_text())
                .unwrap_or_default(),
            id: s.id,
            name: s.name,
            error: None,
        })
        .collect())
}

async fn page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    PageQuery(notice): PageQuery<Notice>,
) -> Result<RemindersPage, PageError> {
    staff.admin()?;
    let settings = load(&state, staff.org.id).await?;
    Ok(RemindersPage {
        layout: Layout::staff(&staff, "Reminders", "setup").await?,
        errors: FieldErrors::new(),
        offsets: settings.offsets.to_text(),
        no_show_pending_after: settings
            .no_show_pending_after
            .map(|n| n.to_string())
            .unwrap_or_default(),
        services: service_rows(&state, &staff, &settings).await?,
        saved: notice.saved.is_some(),
    })
}

async fn save_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let mut errors = FieldErrors::new();
    let offsets_text = form.get("offsets");
    let offsets = Offsets::parse("offsets", &offsets_text).map_err(|e| {
        errors.add("offsets", e.to_string());
    });
    let threshold_text = form.get("no_show_pending_after");
    let threshold = match threshold_text.trim() {
        "" => Ok(None),
        t => match t.parse::<i64>() {
            Ok(n) => reminder::check_no_show_threshold(Some(n)),
            Err(_) => Err(store::Error::invalid(
                "no_show_pending_after",
                "must be a whole number (e.g. 3), or empty for no policy",
            )),
        },
    }
    .map_err(|e| errors.add("no_show_pending_after", message_of(e)));
    let mut rows = service_rows(&state, &staff, &Settings::default()).await?;
    let mut services = Vec::new();
    for row in &mut rows {
        row.offsets = form.get(&format!("service_{}", row.id));
        match Offsets::parse(&format!("service_{}", row.id), &row.offsets) {
            Ok(o) => services.push(ServiceOffsets {
                service_id: row.id,
                offsets: o,
            }),
            Err(e) => {
                let message = message_of(e);
                errors.add(format!("service_{}", row.id), message.clone());
                row.error = Some(message);
            }
        }
    }
    if let (Ok(offsets), Ok(threshold), true) = (offsets, threshold, errors.is_empty()) {
        let settings = Settings {
            offsets,
            no_show_pending_after: threshold,
            services,
        };
        match save(&state, &staff.caller(), &settings).await {
            Ok(()) => {
                return Ok(
                    Redirect::to(&format!("/o/{}/admin/reminders?saved=1", staff.org.slug))
                        .into_response(),
                );
            }
            Err(e) => errors.absorb(e)?,
        }
    }
    let page = RemindersPage {
        layout: Layout::staff(&staff, "Reminders", "setup").await?,
        errors,
        offsets: offsets_text,
        no_show_pending_after: threshold_text,
        services: rows,
        saved: false,
    };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// A field error's message alone (the page shows it beside its field).
fn message_of(e: store::Error) -> String {
    match e {
        store::Error::Invalid { message, .. } => message,
        other => other.to_string(),
    }
}
