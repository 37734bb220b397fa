//! Practitioners and their *Schedule Types* list: the admin pages and the API.
//!
//! The practitioner's page shows the schedule types in two lists, available and
//! added, each with a button to move it to the other. Removing one that availability
//! blocks still use is refused with a message naming the schedule type and the record.
//! The availability records themselves are edited on their own page
//! (`routes/availability.rs`), which this page links to.

use crate::auth::staff::Caller;
use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::clinic::{self, Clinic};
use store::practitioner::{self, Practitioner, PractitionerInput};
use store::practitioner_type::{self, PractitionerType};
use store::schedule_type::{self, ScheduleType};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::staff::{Staff, StaffApi, StaffPage};
use crate::changes::{self, Change};
use crate::error::{AppError, PageError};
use crate::form::{FieldErrors, FormData, JsonBody};
use crate::pages::Layout;
use crate::routes::{refused, saved_or_refused, saved_to};
use crate::state::AppState;

/// The pages.
pub(crate) fn pages() -> Router<AppState> {
    Router::new()
        .route(
            "/o/{slug}/admin/practitioners",
            get(list_page).post(create_page),
        )
        .route(
            "/o/{slug}/admin/practitioners/{id}",
            get(edit_page).post(update_page),
        )
        .route(
            "/o/{slug}/admin/practitioners/{id}/active",
            post(set_active_page),
        )
        .route(
            "/o/{slug}/admin/practitioners/{id}/schedule-types/{schedule_type}/add",
            post(add_schedule_type_page),
        )
        .route(
            "/o/{slug}/admin/practitioners/{id}/schedule-types/{schedule_type}/remove",
            post(remove_schedule_type_page),
        )
}

/// The API.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update))
        .routes(routes!(add_schedule_type, remove_schedule_type))
}

/// A practitioner, as the API shows them.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PractitionerDto {
    /// Row id.
    pub id: i64,
    /// Scenario id.
    pub key: String,
    /// Name.
    pub name: String,
    /// Their practitioner type.
    pub type_id: i64,
    /// That type's name.
    pub type_name: String,
    /// Their home clinic.
    pub home_clinic_id: i64,
    /// That clinic's name.
    pub home_clinic_name: String,
    /// Email, if known.
    pub email: Option<String>,
    /// An inactive practitioner has no slots and takes no bookings.
    pub active: bool,
    /// False: no portal slots (staff may still book).
    pub bookable_in_portal: bool,
    /// The join link of their video appointments; empty: the organisation's.
    pub video_link: String,
    /// The schedule types assigned to them (their *Schedule Types* list).
    pub schedule_type_ids: Vec<i64>,
}

impl PractitionerDto {
    fn new(p: Practitioner, schedule_type_ids: Vec<i64>) -> Self {
        PractitionerDto {
            id: p.id,
            key: p.key,
            name: p.name,
            type_id: p.type_id,
            type_name: p.type_name,
            home_clinic_id: p.home_clinic_id,
            home_clinic_name: p.home_clinic_name,
            email: p.email,
            active: p.active,
            bookable_in_portal: p.bookable_in_portal,
            video_link: p.video_link,
            schedule_type_ids,
        }
    }
}

fn yes() -> bool {
    true
}

/// A practitioner to create or save.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PractitionerBody {
    /// Name.
    pub name: String,
    /// A practitioner type of the organisation.
    pub type_id: i64,
    /// A clinic of the organisation.
    pub home_clinic_id: i64,
    /// Email (optional).
    #[serde(default)]
    pub email: Option<String>,
    /// Active (default true); false deactivates the practitioner.
    #[serde(default = "yes")]
    pub active: bool,
    /// Bookable in the portal (default true).
    #[serde(default = "yes")]
    pub bookable_in_portal: bool,
    /// The join link of their video appointments (an `https://` address); blank: the
    /// organisation's. Left out, a new practitioner has none and a saved one keeps theirs.
    #[serde(default)]
    pub video_link: Option<String>,
}

impl From<PractitionerBody> for PractitionerInput {
    fn from(b: PractitionerBody) -> Self {
        PractitionerInput {
            name: b.name,
            type_id: b.type_id,
            home_clinic_id: b.home_clinic_id,
            email: b.email,
            active: b.active,
            bookable_in_portal: b.bookable_in_portal,
            video_link: b.video_link.unwrap_or_default(),
        }
    }
}

fn details(p: &Practitioner) -> serde_json::Value {
    json!({
        "name": p.name,
        "type_id": p.type_id,
        "home_clinic_id": p.home_clinic_id,
        "email": p.email,
        "active": p.active,
        "bookable_in_portal": p.bookable_in_portal,
        "video_link": p.video_link,
    })
}

async fn create_practitioner(
    state: &AppState,
    staff: &Caller,
    input: &PractitionerInput,
) -> store::Result<Practitioner> {
    changes::setup(
        state,
        staff,
        Change {
            action: "practitioner.create",
            entity: "practitioner",
        },
        async |tx| {
            let p = practitioner::create(tx, staff.org.id, input).await?;
            let (id, details) = (p.id, details(&p));
            Ok((p, Some(id), details))
        },
    )
    .await
}

async fn update_practitioner(
    state: &AppState,
    staff: &Caller,
    id: i64,
    input: &PractitionerInput,
) -> store::Result<Practitioner> {
    changes::setup(
        state,
        staff,
        Change {
            action: "practitioner.update",
            entity: "practitioner",
        },
        async |tx| {
            let before = details(&practitioner::get(tx.exec(), staff.org.id, id).await?);
            let p = practitioner::update(tx, staff.org.id, id, input).await?;
            let details = changes::update_details(before, details(&p));
            Ok((p, Some(id), details))
        },
    )
    .await
}

async fn set_active(state: &AppState, staff: &Staff, id: i64, active: bool) -> store::Result<()> {
    let action = if active {
        "practitioner.activate"
    } else {
        "practitioner.deactivate"
    };
    changes::setup(
        state,
        staff,
        Change {
            action,
            entity: "practitioner",
        },
        async |tx| {
            let before = practitioner::get(tx.exec(), staff.org.id, id).await?;
            practitioner::set_active(tx, staff.org.id, id, active).await?;
            let details = changes::update_details(
                json!({"active": before.active}),
                json!({"active": active}),
            );
            Ok(((), Some(id), details))
        },
    )
    .await
}

/// Adds (`add`) or removes a schedule type from the practitioner's list.
async fn assign(
    state: &AppState,
    staff: &Caller,
    id: i64,
    schedule_type: i64,
    add: bool,
) -> store::Result<()> {
    let action = if add {
        "practitioner.add_schedule_type"
    } else {
        "practitioner.remove_schedule_type"
    };
    changes::setup(
        state,
        staff,
        Change {
            action,
            entity: "practitioner",
        },
        async |tx| {
            if add {
                practitioner::add_schedule_type(tx, staff.org.id, id, schedule_type).await?;
            } else {
                practitioner::remove_schedule_type(tx, staff.org.id, id, schedule_type).await?;
            }
            Ok(((), Some(id), json!({"schedule_type_id": schedule_type})))
        },
    )
    .await
}

async fn dto(state: &AppState, org: i64, id: i64) -> Result<PractitionerDto, AppError> {
    let mut conn = state.db.conn().await?;
    let p = practitioner::get(conn.exec(), org, id).await?;
    let types = practitioner::schedule_types(conn.exec(), org, id).await?;
    Ok(PractitionerDto::new(
        p,
        types.into_iter().map(|t| t.id).collect(),
    ))
}

/// Every practitioner (admins and front desk).
#[utoipa::path(get, operation_id = "list_practitioners", path = "/api/v1/orgs/{slug}/practitioners", tag = "setup",
    params(("slug" = String, Path, description = "The organisation")),
    responses((status = 200, body = [PractitionerDto]), (status = 401, description = "Not signed in"),
        (status = 403, description = "Neither admin nor front desk")))]
async fn list(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
) -> Result<Json<Vec<PractitionerDto>>, AppError> {
    staff.front_desk()?;
    let mut conn = state.db.conn().await?;
    let all = practitioner::all(conn.exec(), staff.org.id).await?;
    let mut assigned: HashMap<i64, Vec<i64>> = HashMap::new();
    for (p, t) in practitioner::schedule_type_links(conn.exec(), staff.org.id).await? {
        assigned.entry(p).or_default().push(t);
    }
    Ok(Json(
        all.into_iter()
            .map(|p| {
                let types = assigned.remove(&p.id).unwrap_or_default();
                PractitionerDto::new(p, types)
            })
            .collect(),
    ))
}

/// Creates a practitioner (admins), with no schedule types yet.
#[utoipa::path(post, operation_id = "create_practitioner", path = "/api/v1/orgs/{slug}/practitioners", tag = "setup",
    params(("slug" = String, Path, description = "The organisation")),
    request_body = PractitionerBody,
    responses((status = 201, body = PractitionerDto), (status = 403, description = "Not an admin"),
        (status = 422, description = "Invalid field; nothing saved")))]
async fn create(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    JsonBody(body): JsonBody<PractitionerBody>,
) -> Result<(StatusCode, Json<PractitionerDto>), AppError> {
    staff.admin()?;
    let p = create_practitioner(&state, &staff, &body.into()).await?;
    Ok((
        StatusCode::CREATED,
        Json(PractitionerDto::new(p, Vec::new())),
    ))
}

/// One practitioner (admins and front desk).
#[utoipa::path(get, operation_id = "get_practitioner", path = "/api/v1/orgs/{slug}/practitioners/{id}", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"),
        ("id" = i64, Path, description = "The practitioner")),
    responses((status = 200, body = PractitionerDto),
        (status = 404, description = "No such practitioner in this organisation")))]
async fn get_one(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<Json<PractitionerDto>, AppError> {
    let id = path.1;
    staff.front_desk()?;
    Ok(Json(dto(&state, staff.org.id, id).await?))
}

/// Saves a practitioner (admins); `"active": false` deactivates them.
#[utoipa::path(put, operation_id = "update_practitioner", path = "/api/v1/orgs/{slug}/practitioners/{id}", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"),
        ("id" = i64, Path, description = "The practitioner")),
    request_body = PractitionerBody,
    responses((status = 200, body = PractitionerDto), (status = 403, description = "Not an admin"),
        (status = 404, description = "No such practitioner"), (status = 422, description = "Invalid field")))]
async fn update(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
    JsonBody(body): JsonBody<PractitionerBody>,
) -> Result<Json<PractitionerDto>, AppError> {
    let id = path.1;
    staff.admin()?;
    let kept = match &body.video_link {
        Some(_) => None,
        None => {
            let mut conn = state.db.conn().await?;
            Some(
                store::practitioner::get(conn.exec(), staff.org.id, id)
                    .await?
                    .video_link,
            )
        }
    };
    let mut input: PractitionerInput = body.into();
    if let Some(link) = kept {
        input.video_link = link;
    }
    update_practitioner(&state, &staff, id, &input).await?;
    Ok(Json(dto(&state, staff.org.id, id).await?))
}

/// Adds a schedule type to the practitioner's list (admins); adding one already
/// there changes nothing.
#[utoipa::path(put, operation_id = "add_practitioner_schedule_type", path = "/api/v1/orgs/{slug}/practitioners/{id}/schedule-types/{schedule_type_id}",
    tag = "setup",
    params(("slug" = String, Path, description = "The organisation"),
        ("id" = i64, Path, description = "The practitioner"),
        ("schedule_type_id" = i64, Path, description = "The schedule type")),
    responses((status = 200, body = PractitionerDto), (status = 403, description = "Not an admin"),
        (status = 404, description = "No such practitioner or schedule type in this organisation")))]
async fn add_schedule_type(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64, i64)>,
) -> Result<Json<PractitionerDto>, AppError> {
    let (_, id, schedule_type) = path;
    staff.admin()?;
    assign(&state, &staff, id, schedule_type, true).await?;
    Ok(Json(dto(&state, staff.org.id, id).await?))
}

/// Removes a schedule type from the practitioner's list (admins). Refused (422) while
/// blocks of the practitioner's availability records use it; the message names the
/// schedule type and the records.
#[utoipa::path(delete, operation_id = "remove_practitioner_schedule_type", path = "/api/v1/orgs/{slug}/practitioners/{id}/schedule-types/{schedule_type_id}",
    tag = "setup",
    params(("slug" = String, Path, description = "The organisation"),
        ("id" = i64, Path, description = "The practitioner"),
        ("schedule_type_id" = i64, Path, description = "The schedule type")),
    responses((status = 200, body = PractitionerDto), (status = 403, description = "Not an admin"),
        (status = 404, description = "No such practitioner or schedule type in this organisation"),
        (status = 422, description = "Still used by availability blocks")))]
async fn remove_schedule_type(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64, i64)>,
) -> Result<Json<PractitionerDto>, AppError> {
    let (_, id, schedule_type) = path;
    staff.admin()?;
    assign(&state, &staff, id, schedule_type, false).await?;
    Ok(Json(dto(&state, staff.org.id, id).await?))
}

// Pages.

/// The form's values as typed, so that a refused form shows them again.
#[derive(Debug)]
struct Values {
    name: String,
    /// A practitioner type id, as typed.
    type_id: String,
    /// A clinic id, as typed.
    home_clinic_id: String,
    email: String,
    active: bool,
    bookable_in_portal: bool,
    video_link: String,
}

impl Values {
    fn new_practitioner() -> Self {
        Values {
            name: String::new(),
            type_id: String::new(),
            home_clinic_id: String::new(),
            email: String::new(),
            active: true,
            bookable_in_portal: true,
            video_link: String::new(),
        }
    }

    fn of(p: &Practitioner) -> Self {
        Values {
            name: p.name.clone(),
            type_id: p.type_id.to_string(),
            home_clinic_id: p.home_clinic_id.to_string(),
            email: p.email.clone().unwrap_or_default(),
            active: p.active,
            bookable_in_portal: p.bookable_in_portal,
            video_link: p.video_link.clone(),
        }
    }

    fn read(form: &FormData) -> Self {
        Values {
            name: form.get("name"),
            type_id: form.get("type_id"),
            home_clinic_id: form.get("home_clinic_id"),
            email: form.get("email"),
            active: form.checked("active"),
            bookable_in_portal: form.checked("bookable_in_portal"),
            video_link: form.get("video_link"),
        }
    }

    /// The input, or `None` with the reasons recorded: every field's at once, the
    /// store's checks of the fields that were read included.
    fn parse(&self, errors: &mut FieldErrors) -> Result<Option<PractitionerInput>, PageError> {
        let mut id = |field: &str, value: &str, what: &str| match value.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.add(field, format!("Choose {what}."));
                None
            }
        };
        let type_id = id("type_id", &self.type_id, "a practitioner type");
        let home_clinic_id = id("home_clinic_id", &self.home_clinic_id, "a home clinic");
        let input = PractitionerInput {
            name: self.name.clone(),
            // Unchosen ids are already reported; the store's check does not read them.
            type_id: type_id.unwrap_or_default(),
            home_clinic_id: home_clinic_id.unwrap_or_default(),
            email: Some(self.email.clone()),
            active: self.active,
            bookable_in_portal: self.bookable_in_portal,
            video_link: self.video_link.clone(),
        };
        if errors.is_empty() {
            return Ok(Some(input));
        }
        errors.also(practitioner::validate(&input))?;
        Ok(None)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/practitioners.html")]
struct ListPage {
    layout: Layout,
    practitioners: Vec<Practitioner>,
    types: Vec<PractitionerType>,
    clinics: Vec<Clinic>,
    errors: FieldErrors,
    values: Values,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/practitioner.html")]
struct EditPage {
    layout: Layout,
    p: Practitioner,
    types: Vec<PractitionerType>,
    clinics: Vec<Clinic>,
    errors: FieldErrors,
    values: Values,
    /// Schedule types not on the practitioner's list.
    available: Vec<ScheduleType>,
    /// Schedule types on the practitioner's list.
    added: Vec<ScheduleType>,
}

async fn list_view(
    state: &AppState,
    staff: &Staff,
    errors: FieldErrors,
    values: Values,
) -> Result<ListPage, PageError> {
    let mut conn = state.db.conn().await?;
    Ok(ListPage {
        layout: Layout::staff(staff, "Practitioners", "setup").await?,
        practitioners: practitioner::all(conn.exec(), staff.org.id).await?,
        types: practitioner_type::all(conn.exec(), staff.org.id).await?,
        clinics: clinic::all(conn.exec(), staff.org.id).await?,
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
) -> Result<EditPage, PageError> {
    let mut conn = state.db.conn().await?;
    let p = practitioner::get(conn.exec(), staff.org.id, id).await?;
    let added = practitioner::schedule_types(conn.exec(), staff.org.id, id).await?;
    let available = schedule_type::all(conn.exec(), staff.org.id)
        .await?
        .into_iter()
        .filter(|t| !added.iter().any(|a| a.id == t.id))
        .collect();
    Ok(EditPage {
        layout: Layout::staff(staff, format!("Practitioner {}", p.name), "setup").await?,
        types: practitioner_type::all(conn.exec(), staff.org.id).await?,
        clinics: clinic::all(conn.exec(), staff.org.id).await?,
        values: values.unwrap_or_else(|| Values::of(&p)),
        p,
        errors,
        available,
        added,
    })
}

/// The practitioner's page again with `errors` (422, nothing saved).
async fn refused_edit(
    state: &AppState,
    staff: &Staff,
    id: i64,
    errors: FieldErrors,
    values: Option<Values>,
) -> Result<Response, PageError> {
    Ok(refused(edit_view(state, staff, id, errors, values).await?))
}

/// A practitioner's page.
fn path_of(staff: &Staff, id: i64) -> String {
    format!("/o/{}/admin/practitioners/{id}", staff.org.slug)
}

async fn list_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
) -> Result<ListPage, PageError> {
    staff.admin()?;
    list_view(
        &state,
        &staff,
        FieldErrors::new(),
        Values::new_practitioner(),
    )
    .await
}

async fn create_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let values = Values::read(&form);
    let mut errors = FieldErrors::new();
    if let Some(input) = values.parse(&mut errors)? {
        match create_practitioner(&state, &staff.caller(), &input).await {
            // Next the admin adds schedule types, on the practitioner's page.
            Ok(p) => return saved_to(&staff, &path_of(&staff, p.id)).await,
            Err(e) => errors.absorb(e)?,
        }
    }
    Ok(refused(list_view(&state, &staff, errors, values).await?))
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
    let values = Values::read(&form);
    let mut errors = FieldErrors::new();
    if let Some(input) = values.parse(&mut errors)? {
        match update_practitioner(&state, &staff.caller(), id, &input).await {
            Ok(_) => {
                let to = format!("/o/{}/admin/practitioners", staff.org.slug);
                return saved_to(&staff, &to).await;
            }
            Err(e) => errors.absorb(e)?,
        }
    }
    refused_edit(&state, &staff, id, errors, Some(values)).await
}

async fn set_active_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let active = match form.get("active").as_str() {
        "true" => true,
        "false" => false,
        _ => {
            let mut errors = FieldErrors::new();
            errors.add("active", "must be true or false");
            return refused_edit(&state, &staff, id, errors, None).await;
        }
    };
    let saved = set_active(&state, &staff, id, active).await;
    saved_or_refused(
        &staff,
        saved.map(|()| path_of(&staff, id)),
        async |errors| edit_view(&state, &staff, id, errors, None).await,
    )
    .await
}

async fn add_schedule_type_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id, schedule_type)): Path<(String, i64, i64)>,
) -> Result<Response, PageError> {
    staff.admin()?;
    let saved = assign(&state, &staff.caller(), id, schedule_type, true).await;
    saved_or_refused(
        &staff,
        saved.map(|()| path_of(&staff, id)),
        async |errors| edit_view(&state, &staff, id, errors, None).await,
    )
    .await
}

async fn remove_schedule_type_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id, schedule_type)): Path<(String, i64, i64)>,
) -> Result<Response, PageError> {
    staff.admin()?;
    let saved = assign(&state, &staff.caller(), id, schedule_type, false).await;
    saved_or_refused(
        &staff,
        saved.map(|()| path_of(&staff, id)),
        async |errors| edit_view(&state, &staff, id, errors, None).await,
    )
    .await
}
