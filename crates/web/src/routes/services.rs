//! Products and services: the admin pages and the API.

use crate::auth::staff::Caller;
use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::practitioner_type::{self, PractitionerType};
use store::resource::{self, Resource};
use store::schedule_type::{self, ScheduleType};
use store::service::{self, Service, ServiceInput};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::staff::{Staff, StaffApi, StaffPage};
use crate::changes::{self, Change};
use crate::error::{AppError, PageError};
use crate::form::{self, FieldErrors, FormData, JsonBody};
use crate::pages::Layout;
use crate::routes::{refused, saved_or_refused, saved_to};
use crate::state::AppState;

/// The pages.
pub(crate) fn pages() -> Router<AppState> {
    Router::new()
        .route("/o/{slug}/admin/services", get(list_page).post(create_page))
        .route(
            "/o/{slug}/admin/services/{id}",
            get(edit_page).post(update_page),
        )
        .route("/o/{slug}/admin/services/{id}/delete", post(delete_page))
}

/// The API.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update, delete))
}

/// A product or service, as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ServiceDto {
    /// Row id.
    pub id: i64,
    /// Scenario id.
    pub key: String,
    /// Optional short code, unique in the organisation.
    pub code: Option<String>,
    /// Name.
    pub name: String,
    /// Shown to patients in the portal.
    pub description: Option<String>,
    /// Default length in minutes (staff may change it when booking, patients may not).
    pub duration_minutes: i64,
    /// Whether patients may book it in the portal.
    pub book_from_portal: bool,
    /// How many appointments may share a slot when patients book it online, in a
    /// schedule type that allows conflicts (1 ..= 10000).
    pub portal_conflicts: i64,
    /// The practitioner type that gives it; `null`: any type.
    pub practitioner_type_id: Option<i64>,
    /// That type's name.
    pub practitioner_type_name: Option<String>,
    /// The schedule types it applies to.
    pub schedule_type_ids: Vec<i64>,
    /// Minutes kept free before each of its appointments (0 ..= 1440). A new booking
    /// keeps the buffers its service has then; changing them later moves no
    /// appointment already made.
    pub buffer_before_minutes: i64,
    /// Minutes kept free after each of its appointments (0 ..= 1440).
    pub buffer_after_minutes: i64,
    /// Whether patients may book it online as a weekly series.
    pub allow_series: bool,
    /// What each appointment needs besides a practitioner: a list of needs, each a list
    /// of resource row ids of which the appointment takes one place in any one
    /// (`[[1, 2], [3]]`: room 1 or room 2, and resource 3). Empty: nothing.
    pub requires: Vec<Vec<i64>>,
}

impl ServiceDto {
    fn new(s: Service, schedule_type_ids: Vec<i64>, requires: Vec<Vec<i64>>) -> Self {
        ServiceDto {
            id: s.id,
            key: s.key,
            code: s.code,
            name: s.name,
            description: s.description,
            duration_minutes: s.duration_minutes,
            book_from_portal: s.book_from_portal,
            portal_conflicts: s.portal_conflicts,
            practitioner_type_id: s.practitioner_type_id,
            practitioner_type_name: s.practitioner_type_name,
            schedule_type_ids,
            buffer_before_minutes: s.buffer_before_minutes,
            buffer_after_minutes: s.buffer_after_minutes,
            allow_series: s.allow_series,
            requires,
        }
    }
}

fn one() -> i64 {
    1
}

/// A product or service to create or save. Optional fields left out take the
/// scenario format's defaults.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceBody {
    /// Optional short code, unique in the organisation.
    #[serde(default)]
    pub code: Option<String>,
    /// Name.
    pub name: String,
    /// Shown to patients in the portal (optional).
    #[serde(default)]
    pub description: Option<String>,
    /// 1 ..= 1440 minutes.
    pub duration_minutes: i64,
    /// Book from portal (default false).
    #[serde(default)]
    pub book_from_portal: bool,
    /// Portal conflicts, 1 ..= 10000 (default 1).
    #[serde(default = "one")]
    pub portal_conflicts: i64,
    /// A practitioner type of the organisation; `null` (default): any type.
    #[serde(default)]
    pub practitioner_type_id: Option<i64>,
    /// Schedule types of the organisation it applies to (default none).
    #[serde(default)]
    pub schedule_type_ids: Vec<i64>,
    /// Minutes kept free before each appointment, 0 ..= 1440 (default 0).
    #[serde(default)]
    pub buffer_before_minutes: i64,
    /// Minutes kept free after each appointment, 0 ..= 1440 (default 0).
    #[serde(default)]
    pub buffer_after_minutes: i64,
    /// Whether patients may book it online as a weekly series (default false).
    #[serde(default)]
    pub allow_series: bool,
    /// What each appointment needs besides a practitioner: a list of at most 16 needs,
    /// each a non-empty list of resource row ids of the organisation (one place in any
    /// one of them), a resource in at most one need. Left out: none when creating,
    /// unchanged when saving.
    #[serde(default)]
    pub requires: Option<Vec<Vec<i64>>>,
}

/// The service's own fields; its needs (`requires`) are saved beside it.
impl From<ServiceBody> for ServiceInput {
    fn from(b: ServiceBody) -> Self {
        ServiceInput {
            code: b.code,
            name: b.name,
            description: b.description,
            duration_minutes: b.duration_minutes,
            book_from_portal: b.book_from_portal,
            portal_conflicts: b.portal_conflicts,
            practitioner_type_id: b.practitioner_type_id,
            schedule_type_ids: b.schedule_type_ids,
            buffer_before_minutes: b.buffer_before_minutes,
            buffer_after_minutes: b.buffer_after_minutes,
            allow_series: b.allow_series,
        }
    }
}

/// What the audit log keeps of a service's fields, as saved with its schedule types
/// and its needs.
fn saved_details(s: &Service, types: &[ScheduleType], requires: &[Vec<i64>]) -> serde_json::Value {
    let mut ids: Vec<i64> = types.iter().map(|t| t.id).collect();
    ids.sort_unstable();
    json!({
        "code": s.code,
        "name": s.name,
        "description": s.description,
        "duration_minutes": s.duration_minutes,
        "book_from_portal": s.book_from_portal,
        "portal_conflicts": s.portal_conflicts,
        "practitioner_type_id": s.practitioner_type_id,
        "schedule_type_ids": ids,
        "buffer_before_minutes": s.buffer_before_minutes,
        "buffer_after_minutes": s.buffer_after_minutes,
        "allow_series": s.allow_series,
        "requires": requires,
    })
}

async fn create_service(
    state: &AppState,
    staff: &Caller,
    input: &ServiceInput,
    requires: &[Vec<i64>],
) -> store::Result<Service> {
    changes::setup(
        state,
        staff,
        Change {
            action: "service.create",
            entity: "service",
        },
        async |tx| {
            let s = service::create(tx, staff.org.id, input).await?;
            let requires = resource::set_requirements(tx, staff.org.id, s.id, requires).await?;
            let types = service::schedule_types(tx.exec(), staff.org.id, s.id).await?;
            let (id, details) = (s.id, saved_details(&s, &types, &requires));
            Ok((s, Some(id), details))
        },
    )
    .await
}

/// Saves a service, and its needs when `requires` is given (else they stay).
async fn update_service(
    state: &AppState,
    staff: &Caller,
    id: i64,
    input: &ServiceInput,
    requires: Option<&[Vec<i64>]>,
) -> store::Result<Service> {
    changes::setup(
        state,
        staff,
        Change {
            action: "service.update",
            entity: "service",
        },
        async |tx| {
            let before = service::get(tx.exec(), staff.org.id, id).await?;
            let before_types = service::schedule_types(tx.exec(), staff.org.id, id).await?;
            let before_requires = resource::requirements(tx.exec(), staff.org.id, id).await?;
            let s = service::update(tx, staff.org.id, id, input).await?;
            let after_requires = match requires {
                Some(requires) => {
                    resource::set_requirements(tx, staff.org.id, id, requires).await?
                }
                None => before_requires.clone(),
            };
            let after_types = service::schedule_types(tx.exec(), staff.org.id, id).await?;
            let details = changes::update_details(
                saved_details(&before, &before_types, &before_requires),
                saved_details(&s, &after_types, &after_requires),
            );
            Ok((s, Some(id), details))
        },
    )
    .await
}

async fn delete_service(state: &AppState, staff: &Caller, id: i64) -> store::Result<()> {
    changes::setup(
        state,
        staff,
        Change {
            action: "service.delete",
            entity: "service",
        },
        async |tx| {
            let gone = service::get(tx.exec(), staff.org.id, id).await?;
            service::delete(tx, staff.org.id, id).await?;
            Ok(((), Some(id), json!({"name": gone.name, "code": gone.code})))
        },
    )
    .await
}

async fn dto(state: &AppState, org: i64, id: i64) -> Result<ServiceDto, AppError> {
    let mut conn = state.db.conn().await?;
    let s = service::get(conn.exec(), org, id).await?;
    let types = service::schedule_types(conn.exec(), org, id).await?;
    let requires = resource::requirements(conn.exec(), org, id).await?;
    Ok(ServiceDto::new(
        s,
        types.into_iter().map(|t| t.id).collect(),
        requires,
    ))
}

/// Every product and service (admins and front desk).
#[utoipa::path(get, operation_id = "list_services", path = "/api/v1/orgs/{slug}/services", tag = "setup",
    params(("slug" = String, Path, description = "The organisation")),
    responses((status = 200, body = [ServiceDto]), (status = 401, description = "Not signed in"),
        (status = 403, description = "Neither admin nor front desk")))]
async fn list(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
) -> Result<Json<Vec<ServiceDto>>, AppError> {
    staff.front_desk()?;
    let mut conn = state.db.conn().await?;
    let all = service::all(conn.exec(), staff.org.id).await?;
    let mut links =
        links_by_service(service::schedule_type_links(conn.exec(), staff.org.id).await?);
    let mut requires = resource::requirements_by_service(
        &resource::requirement_links(conn.exec(), staff.org.id).await?,
    );
    Ok(Json(
        all.into_iter()
            .map(|s| {
                let types = links.remove(&s.id).unwrap_or_default();
                let needs = requires.remove(&s.id).unwrap_or_default();
                ServiceDto::new(s, types, needs)
            })
            .collect(),
    ))
}

fn links_by_service(links: Vec<(i64, i64)>) -> HashMap<i64, Vec<i64>> {
    let mut by_service: HashMap<i64, Vec<i64>> = HashMap::new();
    for (s, t) in links {
        by_service.entry(s).or_default().push(t);
    }
    by_service
}

/// Creates a product or service (admins).
#[utoipa::path(post, operation_id = "create_service", path = "/api/v1/orgs/{slug}/services", tag = "setup",
    params(("slug" = String, Path, description = "The organisation")),
    request_body = ServiceBody,
    responses((status = 201, body = ServiceDto), (status = 403, description = "Not an admin"),
        (status = 422, description = "Invalid field; nothing saved")))]
async fn create(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    JsonBody(mut body): JsonBody<ServiceBody>,
) -> Result<(StatusCode, Json<ServiceDto>), AppError> {
    staff.admin()?;
    let requires = body.requires.take().unwrap_or_default();
    let s = create_service(&state, &staff, &body.into(), &requires).await?;
    Ok((
        StatusCode::CREATED,
        Json(dto(&state, staff.org.id, s.id).await?),
    ))
}

/// One product or service (admins and front desk).
#[utoipa::path(get, operation_id = "get_service", path = "/api/v1/orgs/{slug}/services/{id}", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"),
        ("id" = i64, Path, description = "The service")),
    responses((status = 200, body = ServiceDto),
        (status = 404, description = "No such service in this organisation")))]
async fn get_one(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<Json<ServiceDto>, AppError> {
    let id = path.1;
    staff.front_desk()?;
    Ok(Json(dto(&state, staff.org.id, id).await?))
}

/// Saves a product or service, with the schedule types it applies to (admins).
#[utoipa::path(put, operation_id = "update_service", path = "/api/v1/orgs/{slug}/services/{id}", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"),
        ("id" = i64, Path, description = "The service")),
    request_body = ServiceBody,
    responses((status = 200, body = ServiceDto), (status = 403, description = "Not an admin"),
        (status = 404, description = "No such service"), (status = 422, description = "Invalid field")))]
async fn update(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
    JsonBody(mut body): JsonBody<ServiceBody>,
) -> Result<Json<ServiceDto>, AppError> {
    let id = path.1;
    staff.admin()?;
    let requires = body.requires.take();
    update_service(&state, &staff, id, &body.into(), requires.as_deref()).await?;
    Ok(Json(dto(&state, staff.org.id, id).await?))
}

/// Deletes a product or service no appointment names (admins).
#[utoipa::path(delete, operation_id = "delete_service", path = "/api/v1/orgs/{slug}/services/{id}", tag = "setup",
    params(("slug" = String, Path, description = "The organisation"),
        ("id" = i64, Path, description = "The service")),
    responses((status = 204, description = "Deleted"), (status = 403, description = "Not an admin"),
        (status = 404, description = "No such service"), (status = 422, description = "Appointments name it")))]
async fn delete(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<StatusCode, AppError> {
    let id = path.1;
    staff.admin()?;
    delete_service(&state, &staff, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// Pages.

/// The form's values as typed, so that a refused form shows them again.
#[derive(Debug)]
struct Values {
    code: String,
    name: String,
    description: String,
    duration_minutes: String,
    book_from_portal: bool,
    portal_conflicts: String,
    /// A practitioner type id, or "" for any type.
    practitioner_type_id: String,
    schedule_type_ids: Vec<String>,
    buffer_before_minutes: String,
    buffer_after_minutes: String,
    allow_series: bool,
    /// Each need's ticked resource ids as typed, blank needs included.
    needs: Vec<Vec<String>>,
}

/// The most need rows a form is read for (more than a service may have, so that one
/// too many is refused by name rather than dropped).
const MAX_NEED_ROWS: usize = 32;

impl Values {
    fn of(input: &ServiceInput) -> Self {
        Values {
            code: input.code.clone().unwrap_or_default(),
            name: input.name.clone(),
            description: input.description.clone().unwrap_or_default(),
            duration_minutes: input.duration_minutes.to_string(),
            book_from_portal: input.book_from_portal,
            portal_conflicts: input.portal_conflicts.to_string(),
            practitioner_type_id: input
                .practitioner_type_id
                .map(|t| t.to_string())
                .unwrap_or_default(),
            schedule_type_ids: input
                .schedule_type_ids
                .iter()
                .map(ToString::to_string)
                .collect(),
            buffer_before_minutes: input.buffer_before_minutes.to_string(),
            buffer_after_minutes: input.buffer_after_minutes.to_string(),
            allow_series: input.allow_series,
            needs: Vec::new(),
        }
    }

    /// These values with the needs as stored.
    fn with_needs(mut self, requires: &[Vec<i64>]) -> Self {
        self.needs = requires
            .iter()
            .map(|need| need.iter().map(ToString::to_string).collect())
            .collect();
        self
    }

    fn read(form: &FormData) -> Self {
        Values {
            code: form.get("code"),
            name: form.get("name"),
            description: form.get("description"),
            duration_minutes: form.get("duration_minutes"),
            book_from_portal: form.checked("book_from_portal"),
            portal_conflicts: form.get("portal_conflicts"),
            practitioner_type_id: form.get("practitioner_type_id"),
            schedule_type_ids: form.all("schedule_type_ids"),
            buffer_before_minutes: form.get("buffer_before_minutes"),
            buffer_after_minutes: form.get("buffer_after_minutes"),
            allow_series: form.checked("allow_series"),
            needs: needs_of(form),
        }
    }
}

/// The needs a form ticked: each tick box is `ID/n`, resource `ID` in need `n` (the
/// form shows `need_rows` of them). A tick that does not read so is kept as a need of
/// its own, for [`parse_needs`] to refuse.
fn needs_of(form: &FormData) -> Vec<Vec<String>> {
    let rows = form
        .get("need_rows")
        .parse::<usize>()
        .unwrap_or(0)
        .min(MAX_NEED_ROWS);
    let mut needs: Vec<Vec<String>> = vec![Vec::new(); rows];
    let mut unreadable = Vec::new();
    for tick in form.all("need") {
        let placed = tick
            .split_once('/')
            .and_then(|(id, n)| Some((id, n.parse::<usize>().ok()?)))
            .filter(|(_, n)| *n < MAX_NEED_ROWS);
        match placed {
            Some((id, n)) => {
                if needs.len() <= n {
                    needs.resize(n + 1, Vec::new());
                }
                needs[n].push(id.to_owned());
            }
            None => unreadable.push(vec![tick]),
        }
    }
    needs.extend(unreadable);
    needs
}

/// The needs as typed: blank needs left out, each id read; an unreadable id or a shape
/// the store refuses is recorded under `requires`.
fn parse_needs(values: &Values, errors: &mut FieldErrors) -> Result<Vec<Vec<i64>>, PageError> {
    let needs: Result<Vec<Vec<i64>>, _> = values
        .needs
        .iter()
        .filter(|need| !need.is_empty())
        .map(|need| need.iter().map(|id| id.parse::<i64>()).collect())
        .collect();
    match needs {
        Ok(needs) => {
            errors.also(resource::check_requirements(&needs))?;
            Ok(needs)
        }
        Err(_) => {
            errors.add("requires", "Choose from the rooms and equipment listed.");
            Ok(Vec::new())
        }
    }
}

/// A resource of a need row, ticked or not.
#[derive(Debug)]
struct NeedOption {
    id: i64,
    name: String,
    checked: bool,
}

/// A clinic's resources in a need row.
#[derive(Debug)]
struct NeedGroup {
    clinic: String,
    options: Vec<NeedOption>,
}

/// One need of the form: "one of" the resources ticked, grouped by clinic.
#[derive(Debug)]
struct NeedRow {
    groups: Vec<NeedGroup>,
}

/// The form's need rows: the needs typed (blank ones left out) and `blank` empty rows
/// to add needs without script.
fn need_rows(resources: &[Resource], values: &Values, blank: usize) -> Vec<NeedRow> {
    let typed = values.needs.iter().filter(|need| !need.is_empty());
    let none: Vec<String> = Vec::new();
    let empty = std::iter::repeat_n(&none, blank);
    typed
        .chain(empty)
        .map(|ticked| {
            let mut groups: Vec<NeedGroup> = Vec::new();
            for r in resources {
                let option = NeedOption {
                    id: r.id,
                    name: r.name.clone(),
                    checked: ticked.contains(&r.id.to_string()),
                };
                match groups.last_mut() {
                    Some(g) if g.clinic == r.clinic_name => g.options.push(option),
                    _ => groups.push(NeedGroup {
                        clinic: r.clinic_name.clone(),
                        options: vec![option],
                    }),
                }
            }
            NeedRow { groups }
        })
        .collect()
}

/// A buffer field: blank is no buffer, anything else a whole number of minutes.
fn buffer(errors: &mut FieldErrors, form: &FormData, name: &str, side: &str) -> Option<i64> {
    if form.get(name).trim().is_empty() {
        return Some(0);
    }
    form::number(
        errors,
        form,
        name,
        &format!("the buffer {side} in minutes"),
        10,
    )
}

/// Reads the form into an input, or records why it cannot: every field's problem at
/// once, the store's checks of the fields that were read included.
fn parse(
    form: &FormData,
    values: &Values,
    errors: &mut FieldErrors,
) -> Result<Option<ServiceInput>, PageError> {
    let duration = form::number(
        errors,
        form,
        "duration_minutes",
        "the duration in minutes",
        30,
    );
    let conflicts = form::number(
        errors,
        form,
        "portal_conflicts",
        "how many portal bookings may overlap",
        1,
    );
    let buffer_before = buffer(errors, form, "buffer_before_minutes", "before");
    let buffer_after = buffer(errors, form, "buffer_after_minutes", "after");
    let practitioner_type_id = match values.practitioner_type_id.as_str() {
        "" => None,
        id => match id.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.add(
                    "practitioner_type_id",
                    "Choose a practitioner type, or any type.",
                );
                None
            }
        },
    };
    let schedule_type_ids: Result<Vec<i64>, _> = values
        .schedule_type_ids
        .iter()
        .map(|id| id.parse::<i64>())
        .collect();
    if schedule_type_ids.is_err() {
        errors.add(
            "schedule_type_ids",
            "Choose from the schedule types listed.",
        );
    }
    // Unreadable numbers are already reported; fitting ones stand in so the store's
    // check reports only the other fields.
    let input = ServiceInput {
        code: Some(values.code.clone()),
        name: values.name.clone(),
        description: Some(values.description.clone()),
        duration_minutes: duration.unwrap_or(30),
        book_from_portal: values.book_from_portal,
        portal_conflicts: conflicts.unwrap_or(1),
        practitioner_type_id,
        schedule_type_ids: schedule_type_ids.unwrap_or_default(),
        buffer_before_minutes: buffer_before.unwrap_or(0),
        buffer_after_minutes: buffer_after.unwrap_or(0),
        allow_series: values.allow_series,
    };
    if errors.is_empty() {
        return Ok(Some(input));
    }
    errors.also(service::validate(&input))?;
    Ok(None)
}

/// A schedule type of the form's checkbox list.
#[derive(Debug)]
struct TypeOption {
    t: ScheduleType,
    checked: bool,
}

fn options(types: Vec<ScheduleType>, values: &Values) -> Vec<TypeOption> {
    types
        .into_iter()
        .map(|t| TypeOption {
            checked: values.schedule_type_ids.contains(&t.id.to_string()),
            t,
        })
        .collect()
}

/// A row of the list: the service and the names of its schedule types.
#[derive(Debug)]
struct Row {
    s: Service,
    types: Vec<ScheduleType>,
    /// Its needs in words: `one of Room 1, Room 2; Shockwave`.
    needs: String,
}

/// A service's needs in words, by the names of their resources.
fn needs_text(requires: &[Vec<i64>], resources: &[Resource]) -> String {
    requires
        .iter()
        .map(|need| {
            let names: Vec<&str> = need
                .iter()
                .filter_map(|id| resources.iter().find(|r| r.id == *id))
                .map(|r| r.name.as_str())
                .collect();
            if names.len() > 1 {
                format!("one of {}", names.join(", "))
            } else {
                names.join(", ")
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/services.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
    kinds: Vec<PractitionerType>,
    type_options: Vec<TypeOption>,
    need_rows: Vec<NeedRow>,
    errors: FieldErrors,
    values: Values,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/service.html")]
struct EditPage {
    layout: Layout,
    s: Service,
    kinds: Vec<PractitionerType>,
    type_options: Vec<TypeOption>,
    need_rows: Vec<NeedRow>,
    errors: FieldErrors,
    values: Values,
}

async fn list_view(
    state: &AppState,
    staff: &Staff,
    errors: FieldErrors,
    values: Values,
    blank_needs: usize,
) -> Result<ListPage, PageError> {
    let mut conn = state.db.conn().await?;
    let types = schedule_type::all(conn.exec(), staff.org.id).await?;
    let resources = resource::all(conn.exec(), staff.org.id).await?;
    let mut links =
        links_by_service(service::schedule_type_links(conn.exec(), staff.org.id).await?);
    let mut requires = resource::requirements_by_service(
        &resource::requirement_links(conn.exec(), staff.org.id).await?,
    );
    let rows = service::all(conn.exec(), staff.org.id)
        .await?
        .into_iter()
        .map(|s| {
            let ids = links.remove(&s.id).unwrap_or_default();
            let needs = requires.remove(&s.id).unwrap_or_default();
            Row {
                needs: needs_text(&needs, &resources),
                types: types
                    .iter()
                    .filter(|t| ids.contains(&t.id))
                    .cloned()
                    .collect(),
                s,
            }
        })
        .collect();
    Ok(ListPage {
        layout: Layout::staff(staff, "Products & services", "setup").await?,
        rows,
        kinds: practitioner_type::all(conn.exec(), staff.org.id).await?,
        type_options: options(types, &values),
        need_rows: need_rows(&resources, &values, blank_needs),
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
    blank_needs: usize,
) -> Result<EditPage, PageError> {
    let mut conn = state.db.conn().await?;
    let s = service::get(conn.exec(), staff.org.id, id).await?;
    let values = match values {
        Some(values) => values,
        None => {
            let applied = service::schedule_types(conn.exec(), staff.org.id, id).await?;
            let requires = resource::requirements(conn.exec(), staff.org.id, id).await?;
            Values::of(&ServiceInput {
                code: s.code.clone(),
                name: s.name.clone(),
                description: s.description.clone(),
                duration_minutes: s.duration_minutes,
                book_from_portal: s.book_from_portal,
                portal_conflicts: s.portal_conflicts,
                practitioner_type_id: s.practitioner_type_id,
                schedule_type_ids: applied.iter().map(|t| t.id).collect(),
                buffer_before_minutes: s.buffer_before_minutes,
                buffer_after_minutes: s.buffer_after_minutes,
                allow_series: s.allow_series,
            })
            .with_needs(&requires)
        }
    };
    let types = schedule_type::all(conn.exec(), staff.org.id).await?;
    let resources = resource::all(conn.exec(), staff.org.id).await?;
    Ok(EditPage {
        layout: Layout::staff(staff, format!("Service {}", s.name), "setup").await?,
        kinds: practitioner_type::all(conn.exec(), staff.org.id).await?,
        type_options: options(types, &values),
        need_rows: need_rows(&resources, &values, blank_needs),
        s,
        errors,
        values,
    })
}

/// Where the pages go after a change: the list.
fn list_path(staff: &Staff) -> String {
    format!("/o/{}/admin/services", staff.org.slug)
}

async fn list_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
) -> Result<ListPage, PageError> {
    staff.admin()?;
    let values = Values::of(&ServiceInput::default());
    list_view(&state, &staff, FieldErrors::new(), values, 1).await
}

async fn create_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let values = Values::read(&form);
    if form.checked("add_need") {
        // Another need row, nothing saved.
        let page = list_view(&state, &staff, FieldErrors::new(), values, 2).await?;
        return Ok(page.into_response());
    }
    let mut errors = FieldErrors::new();
    let requires = parse_needs(&values, &mut errors)?;
    if let Some(input) = parse(&form, &values, &mut errors)? {
        match create_service(&state, &staff.caller(), &input, &requires).await {
            Ok(_) => return saved_to(&staff, &list_path(&staff)).await,
            Err(e) => errors.absorb(e)?,
        }
    }
    Ok(refused(list_view(&state, &staff, errors, values, 1).await?))
}

async fn edit_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
) -> Result<EditPage, PageError> {
    staff.admin()?;
    edit_view(&state, &staff, id, FieldErrors::new(), None, 1).await
}

async fn update_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let values = Values::read(&form);
    if form.checked("add_need") {
        // Another need row, nothing saved.
        let page = edit_view(&state, &staff, id, FieldErrors::new(), Some(values), 2).await?;
        return Ok(page.into_response());
    }
    let mut errors = FieldErrors::new();
    let requires = parse_needs(&values, &mut errors)?;
    if let Some(input) = parse(&form, &values, &mut errors)? {
        match update_service(&state, &staff.caller(), id, &input, Some(&requires)).await {
            Ok(_) => return saved_to(&staff, &list_path(&staff)).await,
            Err(e) => errors.absorb(e)?,
        }
    }
    Ok(refused(
        edit_view(&state, &staff, id, errors, Some(values), 1).await?,
    ))
}

async fn delete_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
) -> Result<Response, PageError> {
    staff.admin()?;
    let deleted = delete_service(&state, &staff.caller(), id).await;
    saved_or_refused(
        &staff,
        deleted.map(|()| list_path(&staff)),
        async |errors| edit_view(&state, &staff, id, errors, None, 1).await,
    )
    .await
}
