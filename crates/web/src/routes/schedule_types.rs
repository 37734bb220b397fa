//! Schedule types: the admin pages, the API, and a stylesheet with each schedule
//! type's colours.
//!
//! The pages' Content Security Policy allows no inline styles, so a schedule type's
//! colours reach the page as a class (`st-{id}`) from the stylesheet at
//! `/o/{slug}/admin/schedule-types.css`, which any staff page may link; its text is
//! `crate::schedule_type_css`'s.

use crate::auth::staff::Caller;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::clinic::{self, Clinic};
use store::schedule_type::{self, MIN_CONTRAST_RATIO, ScheduleType, ScheduleTypeInput};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::staff::{Staff, StaffApi, StaffPage};
use crate::changes::{self, Change};
use crate::error::{AppError, PageError};
use crate::form::{self, FieldErrors, FormData, JsonBody, PageQuery};
use crate::pages::Layout;
use crate::routes::{refused, saved_or_refused};
use crate::schedule_type_css;
use crate::state::AppState;

/// The pages.
pub(crate) fn pages() -> Router<AppState> {
    Router::new()
        .route(
            "/o/{slug}/admin/schedule-types",
            get(list_page).post(create_page),
        )
        .route("/o/{slug}/admin/schedule-types.css", get(stylesheet))
        .route(
            "/o/{slug}/admin/schedule-types/{id}",
            get(edit_page).post(update_page),
        )
        .route(
            "/o/{slug}/admin/schedule-types/{id}/delete",
            post(delete_page),
        )
}

/// The API.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update, delete))
}

/// A schedule type, as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ScheduleTypeDto {
    /// Row id.
    pub id: i64,
    /// Scenario id.
    pub key: String,
    /// Optional short code, unique in the organisation.
    pub code: Option<String>,
    /// Name.
    pub name: String,
    /// The one clinic it is for; `null`: any clinic (the availability record's, else
    /// the practitioner's home clinic).
    pub clinic_id: Option<i64>,
    /// That clinic's name.
    pub clinic_name: Option<String>,
    /// Length of an appointment booked without a service, minutes.
    pub default_duration_minutes: i64,
    /// Whether several appointments may share a time without an override.
    pub allow_conflicts: bool,
    /// Whether telehealth appointments may be booked in it.
    pub telehealth: bool,
    /// `#rrggbb`.
    pub background_color: String,
    /// `#rrggbb`.
    pub font_color: String,
    /// The WCAG 2 contrast ratio of the font colour on the background, rounded to two
    /// decimals (1 ..= 21).
    pub contrast_ratio: f64,
    /// Whether the contrast ratio is below 4.5:1 (saved anyway; the text may be hard to
    /// read).
    pub contrast_warning: bool,
}

impl From<ScheduleType> for ScheduleTypeDto {
    fn from(t: ScheduleType) -> Self {
        let ratio = t.contrast_ratio();
        ScheduleTypeDto {
            contrast_ratio: (ratio * 100.0).round() / 100.0,
            contrast_warning: ratio < MIN_CONTRAST_RATIO,
            id: t.id,
            key: t.key,
            code: t.code,
            name: t.name,
            clinic_id: t.clinic_id,
            clinic_name: t.clinic_name,
            default_duration_minutes: t.default_duration_minutes,
            allow_conflicts: t.allow_conflicts,
            telehealth: t.telehealth,
            background_color: t.background_color,
            font_color: t.font_color,
        }
    }
}

/// A schedule type to create or save. Fields left out take the scenario format's
/// defaults (any clinic, 30 minutes, no conflicts, no telehealth, black on white).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleTypeBody {
    /// Optional short code, unique in the organisation.
    #[serde(default)]
    pub code: Option<String>,
    /// Name.
    pub name: String,
    /// A clinic of the organisation, or `null` (default) for any clinic.
    #[serde(default)]
    pub clinic_id: Option<i64>,
    /// 1 ..= 1440 minutes (default 30).
    #[serde(default = "default_duration")]
    #[schema(default = 30)]
    pub default_duration_minutes: i64,
    /// Allow conflicts (default false).
    #[serde(default)]
    pub allow_conflicts: bool,
    /// Allow telehealth appointments (default false).
    #[serde(default)]
    pub telehealth: bool,
    /// `#rrggbb` (default white).
    #[serde(default = "default_background")]
    #[schema(default = "#ffffff")]
    pub background_color: String,
    /// `#rrggbb` (default black).
    #[serde(default = "default_font")]
    #[schema(default = "#000000")]
    pub font_color: String,
}

fn default_duration() -> i64 {
    ScheduleTypeInput::default().default_duration_minutes
}

fn default_background() -> String {
    ScheduleTypeInput::default().background_color
}

fn default_font() -> String {
    ScheduleTypeInput::default().font_color
}

impl From<ScheduleTypeBody> for ScheduleTypeInput {
    fn from(b: ScheduleTypeBody) -> Self {
        ScheduleTypeInput {
            code: b.code,
            name: b.name,
            clinic_id: b.clinic_id,
            default_duration_minutes: b.default_duration_minutes,
            allow_conflicts: b.allow_conflicts,
            telehealth: b.telehealth,
            background_color: b.background_color,
            font_color: b.font_color,
        }
    }
}

fn details(t: &ScheduleType) -> serde_json::Value {
    json!({
        "code": t.code,
        "name": t.name,
        "clinic_id": t.clinic_id,
        "default_duration_minutes": t.default_duration_minutes,
        "allow_conflicts": t.allow_conflicts,
        "telehealth": t.telehealth,
        "background_color": t.background_color,
        "font_color": t.font_color,
    })
}

async fn create_type(
    state: &AppState,
    staff: &Caller,
    input: &ScheduleTypeInput,
) -> store::Result<ScheduleType> {
    changes::setup(
        state,
        staff,
        Change {
            action: "schedule_type.create",
            entity: "schedule_type",
        },
        async |tx| {
            let t = schedule_type::create(tx, staff.org.id, input).await?;
            let (id, details) = (t.id, details(&t));
            Ok((t, Some(id), details))
        },
    )
    .await
}

async fn update_type(
    state: &AppState,
    staff: &Caller,
    id: i64,
    input: &ScheduleTypeInput,
) -> store::Result<ScheduleType> {
    changes::setup(
        state,
        staff,
        Change {
            action: "schedule_type.update",
            entity: "schedule_type",
        },
        async |tx| {
            let before = details(&schedule_type::get(tx.exec(), staff.org.id, id).await?);
            let t = schedule_type::update(tx, staff.org.id, id, input).await?;
            let details = changes::update_details(before, details(&t));
            Ok((t, Some(id), details))
        },
    )
    .await
}

async fn delete_type(state: &AppState, staff: &Caller, id: i64) -> store::Result<()> {
    changes::setup(
        state,
        staff,
        Change {
            action: "schedule_type.delete",
            entity: "schedule_type",
        },
        async |tx| {
            let gone = schedule_type::get(tx.exec(), staff.org.id, id).await?;
            schedule_type::delete(tx, staff.org.id, id).await?;
            Ok(((), Some(id), json!({"name": gone.name, "code": gone.code})))
        },
    )
    .await
}

/// Every schedule type (admins and front desk).
#[utoipa::path(get, operation_id = "list_schedule_types", path = "/api/v1/orgs/{slug}/schedule-types", tag = "setup",
    params(("slug" = String, Path, description = "The organisation")),
    responses((status = 200, body = [ScheduleTypeDto]), (status = 401, description = "Not signed in"),
        (status = 403, description = "Neither admin nor front desk")))]
async fn list(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
) -> Result<Json<Vec<ScheduleTypeDto>>, AppError> {
    staff.front_desk()?;
    let mut conn = state.db.conn().await?;
    let all = schedule_type::all(conn.exec(), staff.org.id).await?;
    Ok(Json(all.into_iter().map(Into::into).collect()))
}

/// Creates a schedule type (admins). Colours with a contrast ratio below 4.5:1 are
/// saved, with `contrast_warning` set.
#[utoipa::path(post, operation_id = "create_schedule_type", path = "/api/v1/orgs/{slug}/schedule-types", tag = "setup",
    params(("slug" = String, Path, description = "The organisation")),
    request_body = ScheduleTypeBody,
    responses((status = 201, body = ScheduleTypeDto), (status = 403, description = "Not an admin"),
        (status = 422, description = "Invalid field; nothing saved")))]
async fn create(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    JsonBody(body): JsonBody<ScheduleTypeBody>,
) -> Result<(StatusCode, Json<ScheduleTypeDto>), AppError> {
    staff.admin()?;
    let created = create_type(&state, &staff, &body.into()).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// One schedule type (admins and front desk).
#[utoipa::path(get, operation_id = "get_schedule_type", path = "/api/v1/orgs/{slug}/schedule-types/{id}", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"),
        ("id" = i64, Path, description = "The schedule type")),
    responses((status = 200, body = ScheduleTypeDto),
        (status = 404, description = "No such schedule type in this organisation")))]
async fn get_one(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<Json<ScheduleTypeDto>, AppError> {
    let id = path.1;
    staff.front_desk()?;
    let mut conn = state.db.conn().await?;
    Ok(Json(
        schedule_type::get(conn.exec(), staff.org.id, id)
            .await?
            .into(),
    ))
}

/// Saves a schedule type (admins).
#[utoipa::path(put, operation_id = "update_schedule_type", path = "/api/v1/orgs/{slug}/schedule-types/{id}", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"),
        ("id" = i64, Path, description = "The schedule type")),
    request_body = ScheduleTypeBody,
    responses((status = 200, body = ScheduleTypeDto), (status = 403, description = "Not an admin"),
        (status = 404, description = "No such schedule type"), (status = 422, description = "Invalid field")))]
async fn update(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
    JsonBody(body): JsonBody<ScheduleTypeBody>,
) -> Result<Json<ScheduleTypeDto>, AppError> {
    let id = path.1;
    staff.admin()?;
    Ok(Json(
        update_type(&state, &staff, id, &body.into()).await?.into(),
    ))
}

/// Deletes a schedule type (admins); refused while practitioners, services or
/// appointments use it.
#[utoipa::path(delete, operation_id = "delete_schedule_type", path = "/api/v1/orgs/{slug}/schedule-types/{id}", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"),
        ("id" = i64, Path, description = "The schedule type")),
    responses((status = 204, description = "Deleted"), (status = 403, description = "Not an admin"),
        (status = 404, description = "No such schedule type"), (status = 422, description = "Still in use")))]
async fn delete(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<StatusCode, AppError> {
    let id = path.1;
    staff.admin()?;
    delete_type(&state, &staff, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The schedule-type stylesheet ([`crate::schedule_type_css`]), for any staff page.
async fn stylesheet(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
) -> Result<Response, PageError> {
    schedule_type_css::serve(&state, staff.org.id).await
}

// Pages.

/// The form's values as typed, so that a refused form shows them again.
#[derive(Debug)]
struct Values {
    code: String,
    name: String,
    /// A clinic id, or "" for any clinic.
    clinic_id: String,
    default_duration_minutes: String,
    allow_conflicts: bool,
    telehealth: bool,
    background_color: String,
    font_color: String,
}

impl Values {
    fn of(input: &ScheduleTypeInput) -> Self {
        Values {
            code: input.code.clone().unwrap_or_default(),
            name: input.name.clone(),
            clinic_id: input.clinic_id.map(|c| c.to_string()).unwrap_or_default(),
            default_duration_minutes: input.default_duration_minutes.to_string(),
            allow_conflicts: input.allow_conflicts,
            telehealth: input.telehealth,
            background_color: input.background_color.clone(),
            font_color: input.font_color.clone(),
        }
    }

    fn read(form: &FormData) -> Self {
        Values {
            code: form.get("code"),
            name: form.get("name"),
            clinic_id: form.get("clinic_id"),
            default_duration_minutes: form.get("default_duration_minutes"),
            allow_conflicts: form.checked("allow_conflicts"),
            telehealth: form.checked("telehealth"),
            // The palette's "custom" choice sends the native picker's colour.
            background_color: match form.get("background_color").as_str() {
                "custom" => form.get("background_color_custom"),
                preset => preset.to_owned(),
            },
            font_color: form.get("font_color"),
        }
    }

    /// Whether the background is one of the palette's presets (else "custom" is
    /// ticked, with the native picker holding it).
    fn is_preset(&self, hex: &str) -> bool {
        self.background_color.eq_ignore_ascii_case(hex)
    }

    /// Whether the background is none of the presets.
    fn is_custom(&self) -> bool {
        !PALETTE.iter().any(|p| self.is_preset(p.background))
    }

    /// The contrast warning for these colours, if they are colours and too close.
    fn contrast_warning(&self) -> Option<String> {
        let ratio = schedule_type::contrast_ratio(&self.background_color, &self.font_color)?;
        (ratio < MIN_CONTRAST_RATIO).then(|| contrast_warning(ratio))
    }
}

/// A preset of the colour picker: a background with the ink that reads on it (each
/// pair passes 7:1), named for people choosing it.
#[derive(Debug)]
struct Preset {
    name: &'static str,
    background: &'static str,
    ink: &'static str,
}

impl Preset {
    /// The chip's class suffix: the colour without its `#`.
    fn chip(&self) -> &str {
        self.background.trim_start_matches('#')
    }
}

/// The colour picker's presets: twelve backgrounds that stay distinct from one another
/// in the book and the grid, each with a readable ink; app.css has a `.pc-RRGGBB`
/// class for each chip.
const PALETTE: &[Preset] = &[
    Preset {
        name: "Sky",
        background: "#dbeafe",
        ink: "#1e3a8a",
    },
    Preset {
        name: "Mint",
        background: "#d1fae5",
        ink: "#065f46",
    },
    Preset {
        name: "Lemon",
        background: "#fef9c3",
        ink: "#713f12",
    },
    Preset {
        name: "Peach",
        background: "#ffedd5",
        ink: "#7c2d12",
    },
    Preset {
        name: "Rose",
        background: "#ffe4e6",
        ink: "#881337",
    },
    Preset {
        name: "Lilac",
        background: "#ede9fe",
        ink: "#4c1d95",
    },
    Preset {
        name: "Teal",
        background: "#ccfbf1",
        ink: "#134e4a",
    },
    Preset {
        name: "Slate",
        background: "#e2e8f0",
        ink: "#1e293b",
    },
    Preset {
        name: "Sand",
        background: "#f5f0e1",
        ink: "#4a3b12",
    },
    Preset {
        name: "Blue",
        background: "#1d4ed8",
        ink: "#ffffff",
    },
    Preset {
        name: "Green",
        background: "#166534",
        ink: "#ffffff",
    },
    Preset {
        name: "Red",
        background: "#b91c1c",
        ink: "#ffffff",
    },
];

/// The warning shown for a colour pair below [`MIN_CONTRAST_RATIO`].
fn contrast_warning(ratio: f64) -> String {
    format!(
        "The font colour on this background has a contrast ratio of {ratio:.2}:1, below the \
         {MIN_CONTRAST_RATIO}:1 that keeps text easy to read. It is saved anyway; consider a \
         darker font or a lighter background."
    )
}

/// Reads the form into an input, or records why it cannot: every field's problem at
/// once, the store's checks of the fields that were read included.
fn parse(
    form: &FormData,
    values: &Values,
    errors: &mut FieldErrors,
) -> Result<Option<ScheduleTypeInput>, PageError> {
    let duration = form::number(
        errors,
        form,
        "default_duration_minutes",
        "the default duration in minutes",
        30,
    );
    let clinic_id = match values.clinic_id.as_str() {
        "" => None,
        id => match id.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.add("clinic_id", "Choose a clinic, or any clinic.");
                None
            }
        },
    };
    let input = ScheduleTypeInput {
        code: Some(values.code.clone()),
        name: values.name.clone(),
        clinic_id,
        // An unreadable duration is already reported; a fitting one stands in so the
        // store's check reports only the other fields.
        default_duration_minutes: duration.unwrap_or(30),
        allow_conflicts: values.allow_conflicts,
        telehealth: values.telehealth,
        background_color: values.background_color.clone(),
        font_color: values.font_color.clone(),
    };
    if errors.is_empty() {
        return Ok(Some(input));
    }
    errors.also(schedule_type::check(&input))?;
    Ok(None)
}

/// A row of the list.
#[derive(Debug)]
struct Row {
    t: ScheduleType,
    ratio: String,
    low_contrast: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/schedule_types.html")]
struct ListPage {
    layout: Layout,
    /// The colour picker's presets.
    palette: &'static [Preset],
    /// The preview chip's class: the saved colours, when there are some.
    preview_class: String,
    rows: Vec<Row>,
    clinics: Vec<Clinic>,
    errors: FieldErrors,
    values: Values,
    warning: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/schedule_type.html")]
struct EditPage {
    layout: Layout,
    /// The colour picker's presets.
    palette: &'static [Preset],
    /// The preview chip's class: the saved colours, when there are some.
    preview_class: String,
    t: ScheduleType,
    clinics: Vec<Clinic>,
    errors: FieldErrors,
    values: Values,
    warning: Option<String>,
    saved: bool,
}

#[derive(Debug, Deserialize)]
struct Notice {
    saved: Option<String>,
}

async fn list_view(
    state: &AppState,
    staff: &Staff,
    errors: FieldErrors,
    values: Values,
) -> Result<ListPage, PageError> {
    let mut conn = state.db.conn().await?;
    let rows = schedule_type::all(conn.exec(), staff.org.id)
        .await?
        .into_iter()
        .map(|t| Row {
            ratio: format!("{:.2}:1", t.contrast_ratio()),
            low_contrast: t.low_contrast(),
            t,
        })
        .collect();
    Ok(ListPage {
        palette: PALETTE,
        preview_class: String::new(),
        layout: Layout::staff(staff, "Schedule types", "setup").await?,
        rows,
        clinics: clinic::all(conn.exec(), staff.org.id).await?,
        warning: values.contrast_warning(),
        errors,
        values,
    })
}

async fn edit_view(
    state: &AppState,
    staff: &Staff,
    id: i64,
    errors: FieldErrors,
    values: Option<Values>,
    saved: bool,
) -> Result<EditPage, PageError> {
    let mut conn = state.db.conn().await?;
    let t = schedule_type::get(conn.exec(), staff.org.id, id).await?;
    let values = values.unwrap_or_else(|| Values::of(&ScheduleTypeInput::from(&t)));
    Ok(EditPage {
        palette: PALETTE,
        // Without script the preview shows the colours as saved.
        preview_class: format!("st-{}", t.id),
        layout: Layout::staff(staff, format!("Schedule type {}", t.name), "setup").await?,
        clinics: clinic::all(conn.exec(), staff.org.id).await?,
        warning: values.contrast_warning(),
        t,
        errors,
        values,
        saved,
    })
}

/// A schedule type's page after a change: the saved values, with the contrast warning
/// if any.
fn saved_path(staff: &Staff, id: i64) -> String {
    format!("/o/{}/admin/schedule-types/{id}?saved=1", staff.org.slug)
}

async fn list_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
) -> Result<ListPage, PageError> {
    staff.admin()?;
    let values = Values::of(&ScheduleTypeInput::default());
    list_view(&state, &staff, FieldErrors::new(), values).await
}

async fn create_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let values = Values::read(&form);
    let mut errors = FieldErrors::new();
    if let Some(input) = parse(&form, &values, &mut errors)? {
        match create_type(&state, &staff.caller(), &input).await {
            // The edit page shows the contrast warning, if any, under the saved values.
            Ok(t) => return Ok(Redirect::to(&saved_path(&staff, t.id)).into_response()),
            Err(e) => errors.absorb(e)?,
        }
    }
    Ok(refused(list_view(&state, &staff, errors, values).await?))
}

async fn edit_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
    PageQuery(notice): PageQuery<Notice>,
) -> Result<EditPage, PageError> {
    staff.admin()?;
    edit_view(
        &state,
        &staff,
        id,
        FieldErrors::new(),
        None,
        notice.saved.is_some(),
    )
    .await
}

async fn update_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let values = Values::read(&form);
    let mut errors = FieldErrors::new();
    if let Some(input) = parse(&form, &values, &mut errors)? {
        match update_type(&state, &staff.caller(), id, &input).await {
            Ok(_) => return Ok(Redirect::to(&saved_path(&staff, id)).into_response()),
            Err(e) => errors.absorb(e)?,
        }
    }
    Ok(refused(
        edit_view(&state, &staff, id, errors, Some(values), false).await?,
    ))
}

async fn delete_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
) -> Result<Response, PageError> {
    staff.admin()?;
    let deleted = delete_type(&state, &staff.caller(), id).await;
    let to = deleted.map(|()| format!("/o/{}/admin/schedule-types", staff.org.slug));
    saved_or_refused(&staff, to, async |errors| {
        edit_view(&state, &staff, id, errors, None, false).await
    })
    .await
}
