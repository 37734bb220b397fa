//! Patients: the front desk searches, adds and edits them; a patient's page shows their
//! appointments and their portal access. The pages and the API.
//!
//! A new patient, or a new address for one, that another patient of the organisation
//! already has (compared in normal form) is not saved at once: the form comes back
//! naming the patients with that address and linking to them, and saves only when staff
//! tick "save anyway" (a parent and a child may share an address); the API answers 409
//! naming `email` and the patients' ids unless `allow_duplicate_email` is `true`.

use crate::auth::staff::Caller;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::book;
use store::patient::{self, Patient, PatientInput};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::appointment_dto::AppointmentDto;
use crate::auth::staff::{Staff, StaffApi, StaffPage};
use crate::clinic_time::{local, time_span};
use crate::error::{AppError, PageError};
use crate::form::{FieldErrors, FormData, JsonBody, PageQuery, QueryParams};
use crate::pages::Layout;
use crate::routes::saved_to;
use crate::state::AppState;

/// The pages.
pub(crate) fn pages() -> Router<AppState> {
    Router::new()
        .route("/o/{slug}/admin/patients", get(list_page).post(create_page))
        .route(
            "/o/{slug}/admin/patients/{id}",
            get(patient_page).post(update_page),
        )
}

/// The API.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update))
}

/// A patient, as the API shows them.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PatientDto {
    /// Row id.
    pub id: i64,
    /// Scenario id.
    pub key: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Email: confirmations go there.
    pub email: String,
    /// Phone.
    pub phone: String,
    /// Whether only some practitioners are available to them in the portal.
    pub practitioners_restricted: bool,
    /// How many of their appointments staff marked a no-show; given in the search
    /// results and a patient's record (absent in the answers of a save).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_show_count: Option<i64>,
}

impl From<Patient> for PatientDto {
    fn from(p: Patient) -> Self {
        PatientDto {
            id: p.id,
            key: p.key,
            first_name: p.first_name,
            last_name: p.last_name,
            email: p.email,
            phone: p.phone,
            practitioners_restricted: p.practitioners_restricted,
            no_show_count: None,
        }
    }
}

/// A patient with their appointments.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PatientDetailDto {
    /// The patient.
    pub patient: PatientDto,
    /// The practitioners they may book in the portal (`null`: every practitioner
    /// bookable in the portal).
    pub available_practitioners: Option<Vec<i64>>,
    /// Their appointments, latest first.
    pub appointments: Vec<AppointmentDto>,
}

/// A patient to create or save.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatientBody {
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Email.
    pub email: String,
    /// Phone (optional).
    #[serde(default)]
    pub phone: String,
    /// Save even though other patients of the organisation have this email address
    /// (without it, such a request is refused with 409 naming them). Only a new address
    /// is checked: saving a patient whose address did not change never needs it.
    #[serde(default)]
    pub allow_duplicate_email: bool,
}

impl From<PatientBody> for PatientInput {
    fn from(b: PatientBody) -> Self {
        PatientInput {
            first_name: b.first_name,
            last_name: b.last_name,
            email: b.email,
            phone: b.phone,
        }
    }
}

/// Why a patient was not saved.
enum NotSaved {
    /// A field error, or any other refusal of the store.
    Store(store::Error),
    /// Other patients of the organisation have the address, and staff did not say to
    /// save anyway: these, by id.
    SharedEmail(Vec<Patient>),
}

impl From<store::Error> for NotSaved {
    fn from(e: store::Error) -> Self {
        NotSaved::Store(e)
    }
}

impl NotSaved {
    /// The API's answer: a field error, or 409 naming `email` and the patients.
    fn into_api_error(self) -> AppError {
        match self {
            NotSaved::Store(e) => e.into(),
            NotSaved::SharedEmail(others) => {
                let names: Vec<String> = others
                    .iter()
                    .map(|p| format!("{} (id {})", p.full_name(), p.id))
                    .collect();
                AppError::Duplicate {
                    field: "email".into(),
                    message: format!(
                        "{} already {} this email address; send \"allow_duplicate_email\": true to save anyway",
                        names.join(", "),
                        if others.len() == 1 { "has" } else { "have" }
                    ),
                    details: json!({
                        "existing_patient_ids": others.iter().map(|p| p.id).collect::<Vec<_>>(),
                    }),
                }
            }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct SearchParams {
    q: Option<String>,
    limit: Option<String>,
}

/// What the audit log keeps of a new patient: which fields, not their values, so the
/// log holds no more personal data than it needs (a change keeps which fields changed);
/// and the patients whose address staff chose to share, by id.
fn audit_details(input: &PatientInput, shared_with: &[Patient]) -> serde_json::Value {
    let mut details = json!({ "fields": ["first_name", "last_name", "email", "phone"], "has_phone": !input.phone.trim().is_empty() });
    shares(&mut details, shared_with);
    details
}

/// Adds the patients whose address staff chose to share, by id, to audit `details`.
fn shares(details: &mut serde_json::Value, shared_with: &[Patient]) {
    if !shared_with.is_empty() {
        details["shares_email_with"] = json!(shared_with.iter().map(|p| p.id).collect::<Vec<_>>());
    }
}

/// The other patients with `saved`'s address (none when it is the same address as
/// before), or the refusal to save when there are some and staff did not allow it.
async fn shared_email(
    tx: &mut store::Tx,
    org: i64,
    saved: &Patient,
    before: Option<&str>,
    allow: bool,
) -> Result<Vec<Patient>, NotSaved> {
    let unchanged = before.is_some_and(|b| b.trim().eq_ignore_ascii_case(&saved.email));
    if unchanged {
        return Ok(Vec::new());
    }
    let others = patient::sharing_email(tx.exec(), org, &saved.email, Some(saved.id)).await?;
    if !others.is_empty() && !allow {
        return Err(NotSaved::SharedEmail(others));
    }
    Ok(others)
}

/// Creates a patient and records who did, in one transaction; refused when another
/// patient has the address, unless `allow_shared` (the transaction is dropped then, so
/// nothing is saved). The fields are checked first, so a form with an error says so
/// before it speaks of other patients.
async fn create_patient(
    state: &AppState,
    staff: &Caller,
    input: &PatientInput,
    allow_shared: bool,
) -> Result<Patient, NotSaved> {
    let mut tx = state.db.begin().await?;
    let created = patient::create(&mut tx, staff.org.id, input).await?;
    let shared = shared_email(&mut tx, staff.org.id, &created, None, allow_shared).await?;
    store::audit::record(
        &mut tx,
        staff.org.id,
        &staff.actor(),
        "patient.create",
        "patient",
        Some(created.id),
        audit_details(input, &shared),
        state.clock.now_ns(),
    )
    .await?;
    tx.commit().await?;
    Ok(created)
}

/// Saves a patient and records who did, in one transaction; `true` when a new email
/// address dropped the patient's portal password (it must be chosen again through the
/// new address). A new address another patient has is refused unless `allow_shared`.
async fn update_patient(
    state: &AppState,
    staff: &Caller,
    id: i64,
    input: &PatientInput,
    allow_shared: bool,
) -> Result<(Patient, bool), NotSaved> {
    let mut tx = state.db.begin().await?;
    let before = patient::get(tx.exec(), staff.org.id, id).await?;
    let (saved, account) =
        patient::update(&mut tx, staff.org.id, id, input, state.clock.now_ns()).await?;
    let shared = shared_email(
        &mut tx,
        staff.org.id,
        &saved,
        Some(&before.email),
        allow_shared,
    )
    .await?;
    let changed: Vec<&str> = [
        ("first_name", before.first_name != saved.first_name),
        ("last_name", before.last_name != saved.last_name),
        ("email", before.email != saved.email),
        ("phone", before.phone != saved.phone),
    ]
    .into_iter()
    .filter_map(|(field, changed)| changed.then_some(field))
    .collect();
    let mut details = json!({ "changed": changed });
    shares(&mut details, &shared);
    store::audit::record(
        &mut tx,
        staff.org.id,
        &staff.actor(),
        "patient.update",
        "patient",
        Some(id),
        details,
        state.clock.now_ns(),
    )
    .await?;
    tx.commit().await?;
    Ok((saved, account.is_some_and(|a| a.password_dropped)))
}

/// Patients whose name or email contains `q` (all when empty), by name (front desk).
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/patients", tag = "patients",
    params(("slug" = String, Path, description = "The organisation"),
           ("q" = Option<String>, Query, description = "Part of the name, email or phone"),
           ("limit" = Option<i64>, Query, description = "At most this many, 1-500 (default 100)")),
    responses((status = 200, body = [PatientDto]), (status = 401, description = "Not signed in"),
              (status = 403, description = "Not front desk"), (status = 422, description = "Invalid limit")))]
async fn list(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    QueryParams(q): QueryParams<SearchParams>,
) -> Result<Json<Vec<PatientDto>>, AppError> {
    staff.front_desk()?;
    let limit = match q.limit.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
        None => 100,
        Some(l) => match l.parse::<i64>() {
            Ok(n) if (1..=500).contains(&n) => n,
            _ => {
                return Err(AppError::invalid(
                    "limit",
                    "must be a whole number from 1 to 500",
                ));
            }
        },
    };
    let mut conn = state.db.conn().await?;
    let found = patient::search(
        conn.exec(),
        staff.org.id,
        q.q.as_deref().unwrap_or(""),
        limit,
    )
    .await?;
    let no_shows = patient::no_show_counts(conn.exec(), staff.org.id).await?;
    Ok(Json(
        found
            .into_iter()
            .map(|p| {
                let count = no_shows.get(&p.id).copied().unwrap_or(0);
                PatientDto {
                    no_show_count: Some(count),
                    ..PatientDto::from(p)
                }
            })
            .collect(),
    ))
}

/// Adds a patient (front desk). An address another patient of the organisation has is
/// refused (409, `field` `email`, `details.existing_patient_ids`) unless
/// `allow_duplicate_email` is `true`.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/patients", tag = "patients",
    params(("slug" = String, Path, description = "The organisation")),
    request_body = PatientBody,
    responses((status = 201, body = PatientDto), (status = 422, description = "Invalid field"),
              (status = 409, description = "Other patients have this email address (`details.existing_patient_ids`); nothing was saved"),
              (status = 403, description = "Not front desk, or missing CSRF token")))]
async fn create(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    JsonBody(body): JsonBody<PatientBody>,
) -> Result<(StatusCode, Json<PatientDto>), AppError> {
    staff.front_desk()?;
    let allow = body.allow_duplicate_email;
    let created = create_patient(&state, &staff, &body.into(), allow)
        .await
        .map_err(NotSaved::into_api_error)?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// One patient with their appointments (front desk).
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/patients/{id}", tag = "patients",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The patient")),
    responses((status = 200, body = PatientDetailDto), (status = 404, description = "No such patient in this organisation")))]
async fn get_one(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<Json<PatientDetailDto>, AppError> {
    staff.front_desk()?;
    let id = path.1;
    let mut conn = state.db.conn().await?;
    let p = patient::get(conn.exec(), staff.org.id, id).await?;
    let available =
        store::appointment::patient_practitioners(&mut conn.exec(), staff.org.id, id).await?;
    let appointments = book::of_patient(conn.exec(), staff.org.id, id).await?;
    let no_shows = patient::no_show_count(conn.exec(), staff.org.id, id).await?;
    Ok(Json(PatientDetailDto {
        patient: PatientDto {
            no_show_count: Some(no_shows),
            ..PatientDto::from(p)
        },
        available_practitioners: available,
        appointments: appointments.into_iter().map(AppointmentDto::from).collect(),
    }))
}

/// Saves a patient's details (front desk). A new address another patient of the
/// organisation has is refused (409) unless `allow_duplicate_email` is `true`.
#[utoipa::path(put, path = "/api/v1/orgs/{slug}/patients/{id}", tag = "patients",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The patient")),
    request_body = PatientBody,
    responses((status = 200, body = PatientDto), (status = 404, description = "No such patient in this organisation"),
              (status = 409, description = "Other patients have the new email address (`details.existing_patient_ids`); nothing was saved"),
              (status = 422, description = "Invalid field")))]
async fn update(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
    JsonBody(body): JsonBody<PatientBody>,
) -> Result<Json<PatientDto>, AppError> {
    staff.front_desk()?;
    let allow = body.allow_duplicate_email;
    let (saved, _) = update_patient(&state, &staff, path.1, &body.into(), allow)
        .await
        .map_err(NotSaved::into_api_error)?;
    Ok(Json(saved.into()))
}

// Pages.

fn input_of(form: &FormData) -> PatientInput {
    PatientInput {
        first_name: form.get("first_name"),
        last_name: form.get("last_name"),
        email: form.get("email"),
        phone: form.get("phone"),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/patients.html")]
struct ListPage {
    layout: Layout,
    q: String,
    patients: Vec<Patient>,
    limited: bool,
    errors: FieldErrors,
    values: PatientInput,
    /// The other patients with the address typed, when staff are asked to confirm it.
    duplicates: Vec<Patient>,
}

/// How many patients the list shows at once; a search narrows it.
const PAGE_SIZE: i64 = 100;

async fn list_view(
    state: &AppState,
    staff: &Staff,
    q: String,
    errors: FieldErrors,
    values: PatientInput,
    duplicates: Vec<Patient>,
) -> Result<ListPage, PageError> {
    let mut conn = state.db.conn().await?;
    let patients = patient::search(conn.exec(), staff.org.id, &q, PAGE_SIZE + 1).await?;
    let limited = patients.len() as i64 > PAGE_SIZE;
    Ok(ListPage {
        layout: Layout::staff(staff, "Patients", "patients").await?,
        q,
        patients: patients.into_iter().take(PAGE_SIZE as usize).collect(),
        limited,
        errors,
        values,
        duplicates,
    })
}

async fn list_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    PageQuery(q): PageQuery<SearchParams>,
) -> Result<ListPage, PageError> {
    staff.front_desk()?;
    list_view(
        &state,
        &staff,
        q.q.unwrap_or_default().trim().to_owned(),
        FieldErrors::new(),
        PatientInput::default(),
        Vec::new(),
    )
    .await
}

async fn create_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    form: FormData,
) -> Result<Response, PageError> {
    staff.front_desk()?;
    let input = input_of(&form);
    let allow = form.checked("allow_duplicate_email");
    match create_patient(&state, &staff.caller(), &input, allow).await {
        Ok(p) => {
            saved_to(
                &staff,
                &format!("/o/{}/admin/patients/{}", staff.org.slug, p.id),
            )
            .await
        }
        Err(NotSaved::SharedEmail(others)) => Ok((
            StatusCode::CONFLICT,
            list_view(
                &state,
                &staff,
                String::new(),
                FieldErrors::new(),
                input,
                others,
            )
            .await?,
        )
            .into_response()),
        Err(NotSaved::Store(e)) => {
            let mut errors = FieldErrors::new();
            errors.absorb(e)?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                list_view(&state, &staff, String::new(), errors, input, Vec::new()).await?,
            )
                .into_response())
        }
    }
}

/// An appointment on the patient's page.
#[derive(Debug)]
struct AppointmentLine {
    id: i64,
    date: String,
    time: String,
    practitioner: String,
    what: String,
    status: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/patient.html")]
struct PatientPage {
    layout: Layout,
    patient: Patient,
    values: PatientInput,
    errors: FieldErrors,
    saved: bool,
    /// The email changed and the portal password with it.
    password_dropped: bool,
    /// The other patients with the new address typed, when staff are asked to confirm it.
    duplicates: Vec<Patient>,
    upcoming: Vec<AppointmentLine>,
    past: Vec<AppointmentLine>,
    available_practitioners: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
struct Saved {
    saved: Option<String>,
}

async fn patient_view(
    state: &AppState,
    staff: &Staff,
    id: i64,
    values: Option<PatientInput>,
    errors: FieldErrors,
    saved: Option<&str>,
    duplicates: Vec<Patient>,
) -> Result<PatientPage, PageError> {
    let mut conn = state.db.conn().await?;
    let p = patient::get(conn.exec(), staff.org.id, id).await?;
    let entries = book::of_patient(conn.exec(), staff.org.id, id).await?;
    let available =
        store::appointment::patient_practitioners(&mut conn.exec(), staff.org.id, id).await?;
    let available_practitioners = match available {
        None => None,
        Some(ids) => {
            let choices = book::choices(conn.exec(), staff.org.id).await?;
            Some(
                ids.iter()
                    .filter_map(|&pid| choices.practitioner(pid).map(|c| c.name.clone()))
                    .collect(),
            )
        }
    };
    let now = state.clock.now_ns();
    let (mut upcoming, mut past) = (Vec::new(), Vec::new());
    for e in &entries {
        let line = AppointmentLine {
            id: e.id,
            date: local(e.start_ns, e.zone())
                .format("%a %-d %b %Y")
                .to_string(),
            time: time_span(e),
            practitioner: e.practitioner_name.clone(),
            what: e
                .service_name
                .clone()
                .or_else(|| e.schedule_type_name.clone())
                .unwrap_or_default(),
            status: e.status.as_str().replace('_', " "),
        };
        if e.end_ns > now {
            upcoming.push(line);
        } else {
            past.push(line);
        }
    }
    // Latest first from the store; the coming ones read best soonest first.
    upcoming.reverse();
    let values = values.unwrap_or_else(|| PatientInput {
        first_name: p.first_name.clone(),
        last_name: p.last_name.clone(),
        email: p.email.clone(),
        phone: p.phone.clone(),
    });
    Ok(PatientPage {
        layout: Layout::staff(staff, p.full_name(), "patients").await?,
        patient: p,
        values,
        errors,
        saved: saved.is_some(),
        password_dropped: saved == Some("address"),
        duplicates,
        upcoming,
        past,
        available_practitioners,
    })
}

async fn patient_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
    PageQuery(saved): PageQuery<Saved>,
) -> Result<PatientPage, PageError> {
    staff.front_desk()?;
    patient_view(
        &state,
        &staff,
        id,
        None,
        FieldErrors::new(),
        saved.saved.as_deref(),
        Vec::new(),
    )
    .await
}

async fn update_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    staff.front_desk()?;
    let input = input_of(&form);
    let allow = form.checked("allow_duplicate_email");
    match update_patient(&state, &staff.caller(), id, &input, allow).await {
        Ok((_, password_dropped)) => Ok(Redirect::to(&format!(
            "/o/{}/admin/patients/{id}?saved={}",
            staff.org.slug,
            if password_dropped { "address" } else { "1" }
        ))
        .into_response()),
        Err(NotSaved::SharedEmail(others)) => Ok((
            StatusCode::CONFLICT,
            patient_view(
                &state,
                &staff,
                id,
                Some(input),
                FieldErrors::new(),
                None,
                others,
            )
            .await?,
        )
            .into_response()),
        Err(NotSaved::Store(e)) => {
            let mut errors = FieldErrors::new();
            errors.absorb(e)?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                patient_view(&state, &staff, id, Some(input), errors, None, Vec::new()).await?,
            )
                .into_response())
        }
    }
}
