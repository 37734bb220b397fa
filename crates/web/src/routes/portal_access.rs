//! Portal access, on the patient's page (front desk): send an invitation, create the
//! credentials directly, and choose the practitioners the patient may book.

use crate::auth::staff::Caller;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use store::portal_access::{self, Purpose};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::staff::{Staff, StaffApi, StaffPage};
use crate::auth::{csrf, password};
use crate::clinic_time::local_datetime;
use crate::error::{AppError, PageError};
use crate::form::{FieldErrors, FormData, JsonBody, PageQuery};
use crate::notices;
use crate::pages::Layout;
use crate::state::AppState;

/// The pages.
pub(crate) fn pages() -> Router<AppState> {
    Router::new()
        .route("/o/{slug}/admin/patients/{id}/portal-access", get(page))
        .route(
            "/o/{slug}/admin/patients/{id}/portal-access/invitation",
            post(invite_page),
        )
        .route(
            "/o/{slug}/admin/patients/{id}/portal-access/credentials",
            post(credentials_page),
        )
        .route(
            "/o/{slug}/admin/patients/{id}/portal-access/practitioners",
            post(practitioners_page),
        )
}

/// The API.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_get))
        .routes(routes!(api_invite))
        .routes(routes!(api_credentials))
        .routes(routes!(api_practitioners))
}

/// A patient's portal access.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PortalAccessDto {
    /// The patient's row id.
    pub patient_id: i64,
    /// The account's username, if there is an account.
    pub username: Option<String>,
    /// Whether the account can sign in (confirmed, with a password).
    pub can_sign_in: bool,
    /// When the latest invitation was sent (RFC 3339, UTC).
    pub invitation_sent_at: Option<String>,
    /// Until when it works.
    pub invitation_expires_at: Option<String>,
    /// Whether it was used (or replaced).
    pub invitation_used: bool,
    /// The practitioners the patient may book (`null` = every practitioner bookable in
    /// the portal).
    pub practitioners: Option<Vec<i64>>,
}

fn utc(ns: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(ns).to_rfc3339()
}

async fn access(state: &AppState, org: i64, patient: i64) -> Result<PortalAccessDto, AppError> {
    let mut conn = state.db.conn().await?;
    store::patient::get(conn.exec(), org, patient).await?;
    let account = portal_access::of_patient(conn.exec(), org, patient).await?;
    let invitation = match &account {
        Some(a) => portal_access::latest_invitation(conn.exec(), org, a.id).await?,
        None => None,
    };
    let practitioners =
        store::appointment::patient_practitioners(&mut conn.exec(), org, patient).await?;
    Ok(PortalAccessDto {
        patient_id: patient,
        username: account.as_ref().map(|a| a.username.clone()),
        can_sign_in: account
            .as_ref()
            .is_some_and(portal_access::PortalAccount::can_sign_in),
        invitation_sent_at: invitation.map(|i| utc(i.0)),
        invitation_expires_at: invitation.map(|i| utc(i.1)),
        invitation_used: invitation.is_some_and(|i| i.2),
        practitioners,
    })
}

/// Sends (or sends again) the invitation: a link to set a password, valid for three
/// days; the previous link stops working.
async fn invite(state: &AppState, staff: &Caller, patient: i64) -> Result<(), AppError> {
    staff.front_desk()?;
    let now = state.clock.now_ns();
    let mut tx = state.db.begin().await?;
    let p = store::patient::get(tx.exec(), staff.org.id, patient).await?;
    if p.email.is_empty() {
        return Err(AppError::invalid(
            "email",
            "the patient has no email address to send the invitation to",
        ));
    }
    let account =
        portal_access::prepare_invitation(&mut tx, staff.org.id, patient, &p.email, now).await?;
    let token = csrf::random_token();
    portal_access::issue_token(
        &mut tx,
        staff.org.id,
        account.id,
        Purpose::Invitation,
        &token,
        now,
    )
    .await?;
    let link = format!(
        "{}/o/{}/portal/invitation/{token}",
        state.config.public_url, staff.org.slug
    );
    store::outbox::enqueue(
        &mut tx,
        staff.org.id,
        &notices::invitation(
            &staff.org.name,
            &p.email,
            &p.first_name,
            &account.username,
            &link,
        ),
        now,
    )
    .await?;
    store::audit::record(
        &mut tx,
        staff.org.id,
        &staff.actor(),
        "portal.invite",
        "patient",
        Some(patient),
        serde_json::json!({"email": p.email, "username": account.username}),
        now,
    )
    .await?;
    tx.commit().await?;
    state.mail.notify();
    Ok(())
}

/// Creates the account directly with a username and an initial password.
async fn credentials(
    state: &AppState,
    staff: &Caller,
    patient: i64,
    username: &str,
    secret: &str,
) -> Result<(), AppError> {
    staff.front_desk()?;
    let mut conn = state.db.conn().await?;
    let p = store::patient::get(conn.exec(), staff.org.id, patient).await?;
    drop(conn);
    if username.trim().is_empty() {
        return Err(AppError::invalid(
            "username",
            "is required (the email address works well)",
        ));
    }
    password::check_new(secret, &[username, &p.email, &p.first_name, &p.last_name])
        .map_err(|m| AppError::invalid("password", m))?;
    let secret = secret.to_owned();
    let hash = tokio::task::spawn_blocking(move || password::hash(&secret))
        .await
        .map_err(AppError::internal)?;
    let now = state.clock.now_ns();
    let mut tx = state.db.begin().await?;
    let account =
        portal_access::set_credentials(&mut tx, staff.org.id, patient, username, &hash, now)
            .await?;
    store::audit::record(
        &mut tx,
        staff.org.id,
        &staff.actor(),
        "portal.credentials",
        "patient",
        Some(patient),
        serde_json::json!({"username": account.username}),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Sets the practitioners the patient may see and book (`None` or an empty choice in
/// the page = all).
async fn set_practitioners(
    state: &AppState,
    staff: &Caller,
    patient: i64,
    list: Option<Vec<i64>>,
) -> Result<(), AppError> {
    staff.front_desk()?;
    let now = state.clock.now_ns();
    let mut tx = state.db.begin().await?;
    let before =
        store::appointment::patient_practitioners(&mut tx.exec(), staff.org.id, patient).await?;
    store::patient::set_available_practitioners(&mut tx, staff.org.id, patient, list.as_deref())
        .await?;
    let after =
        store::appointment::patient_practitioners(&mut tx.exec(), staff.org.id, patient).await?;
    store::audit::record(
        &mut tx,
        staff.org.id,
        &staff.actor(),
        "portal.practitioners",
        "patient",
        Some(patient),
        crate::changes::update_details(
            serde_json::json!({"practitioners": before}),
            serde_json::json!({"practitioners": after}),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// Pages.

struct Choice {
    id: i64,
    name: String,
    bookable: bool,
    chosen: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/portal_access.html")]
struct AccessPage {
    layout: Layout,
    patient: store::patient::Patient,
    username: String,
    /// The username field's value.
    typed_username: String,
    can_sign_in: bool,
    has_account: bool,
    invitation: Option<Invitation>,
    choices: Vec<Choice>,
    all_practitioners: bool,
    errors: FieldErrors,
    notice: Option<String>,
}

/// The latest invitation, as the page tells it.
struct Invitation {
    sent: String,
    expires: String,
    state: InvitationState,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum InvitationState {
    /// Its link works until `expires`.
    Works,
    /// Its three days are over and nobody used it.
    Expired,
    /// It was used, or a newer invitation (or new credentials) replaced it.
    Used,
}

/// What the page says after a change it redirected from (`?done=…`): a fixed set of
/// messages, so nothing typed into the address is ever shown.
#[derive(Deserialize)]
struct Done {
    done: Option<String>,
}

fn done_notice(done: Option<&str>) -> Option<String> {
    Some(
        match done? {
            "invited" => "Invitation sent. It works for 3 days.",
            "reinvited" => {
                "Invitation sent. It works for 3 days; the previous link no longer works."
            }
            "credentials" => "The account is ready: give the patient the username and password.",
            _ => return None,
        }
        .to_owned(),
    )
}

async fn view(
    state: &AppState,
    staff: &Staff,
    patient: i64,
    errors: FieldErrors,
    notice: Option<String>,
) -> Result<AccessPage, AppError> {
    view_with(state, staff, patient, errors, notice, None).await
}

/// The page; `typed_username` keeps what staff typed when the form comes back with an
/// error.
async fn view_with(
    state: &AppState,
    staff: &Staff,
    patient: i64,
    errors: FieldErrors,
    notice: Option<String>,
    typed_username: Option<String>,
) -> Result<AccessPage, AppError> {
    let a = access(state, staff.org.id, patient).await?;
    let mut conn = state.db.conn().await?;
    let p = store::patient::get(conn.exec(), staff.org.id, patient).await?;
    let choices = portal_access::practitioner_choices(conn.exec(), staff.org.id).await?;
    let clinics = store::clinic::all(conn.exec(), staff.org.id).await?;
    let tz = clinics
        .first()
        .map_or(chrono_tz::UTC, store::clinic::Clinic::zone);
    let account = portal_access::of_patient(conn.exec(), staff.org.id, patient).await?;
    let invitation = match &account {
        Some(acc) => portal_access::latest_invitation(conn.exec(), staff.org.id, acc.id)
            .await?
            .map(|(sent, expires, used)| Invitation {
                sent: local_datetime(sent, tz),
                expires: local_datetime(expires, tz),
                state: if used {
                    InvitationState::Used
                } else if expires <= state.clock.now_ns() {
                    InvitationState::Expired
                } else {
                    InvitationState::Works
                },
            }),
        None => None,
    };
    let chosen = a.practitioners.clone();
    Ok(AccessPage {
        layout: Layout::staff(
            staff,
            format!("Portal access: {}", p.full_name()),
            "patients",
        )
        .await?,
        typed_username: typed_username
            .unwrap_or_else(|| a.username.clone().unwrap_or_else(|| p.email.clone())),
        username: a.username.clone().unwrap_or_else(|| p.email.clone()),
        has_account: a.username.is_some(),
        can_sign_in: a.can_sign_in,
        invitation,
        all_practitioners: chosen.is_none(),
        choices: choices
            .into_iter()
            .map(|(id, name, bookable)| Choice {
                id,
                name,
                bookable,
                chosen: chosen.as_ref().is_some_and(|c| c.contains(&id)),
            })
            .collect(),
        patient: p,
        errors,
        notice,
    })
}

async fn page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
    PageQuery(q): PageQuery<Done>,
) -> Result<AccessPage, PageError> {
    staff.front_desk()?;
    let notice = done_notice(q.done.as_deref());
    Ok(view(&state, &staff, id, FieldErrors::new(), notice).await?)
}

/// Back to the page after a change (redirect-after-post: reloading it sends nothing
/// again), saying what was `done`.
fn back(staff: &Staff, id: i64, done: Option<&str>) -> Response {
    let query = done.map(|d| format!("?done={d}")).unwrap_or_default();
    Redirect::to(&format!(
        "/o/{}/admin/patients/{id}/portal-access{query}",
        staff.org.slug
    ))
    .into_response()
}

async fn invite_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
) -> Result<Response, PageError> {
    let again = {
        let mut conn = state.db.conn().await?;
        match portal_access::of_patient(conn.exec(), staff.org.id, id).await? {
            Some(a) => portal_access::latest_invitation(conn.exec(), staff.org.id, a.id)
                .await?
                .is_some(),
            None => false,
        }
    };
    invite(&state, &staff.caller(), id).await?;
    Ok(back(
        &staff,
        id,
        Some(if again { "reinvited" } else { "invited" }),
    ))
}

async fn credentials_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    let typed = form.get("username");
    match credentials(
        &state,
        &staff.caller(),
        id,
        &typed,
        &form.secret("password"),
    )
    .await
    {
        Ok(()) => Ok(back(&staff, id, Some("credentials"))),
        Err(AppError::Invalid { field, message }) => {
            let mut errors = FieldErrors::new();
            errors.add(field, message);
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                view_with(&state, &staff, id, errors, None, Some(typed)).await?,
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn practitioners_page(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    Path((_, id)): Path<(String, i64)>,
    form: FormData,
) -> Result<Response, PageError> {
    let mut list = Vec::new();
    for value in form.all("practitioners") {
        list.push(
            value
                .parse::<i64>()
                .map_err(|_| AppError::invalid("practitioners", "unknown practitioner"))?,
        );
    }
    // No practitioner chosen means every practitioner bookable in the portal.
    let list = if list.is_empty() { None } else { Some(list) };
    set_practitioners(&state, &staff.caller(), id, list).await?;
    Ok(back(&staff, id, None))
}

// The API.

/// A patient's portal access.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/patients/{id}/portal-access", tag = "patients",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The patient")),
    responses((status = 200, body = PortalAccessDto), (status = 404, description = "No such patient")))]
async fn api_get(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<Json<PortalAccessDto>, AppError> {
    staff.front_desk()?;
    Ok(Json(access(&state, staff.org.id, path.1).await?))
}

/// Sends (again) the portal invitation: a single-use link, valid for three days.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/patients/{id}/portal-access/invitation", tag = "patients",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The patient")),
    responses((status = 200, body = PortalAccessDto), (status = 404, description = "No such patient")))]
async fn api_invite(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
) -> Result<Json<PortalAccessDto>, AppError> {
    invite(&state, &staff, path.1).await?;
    Ok(Json(access(&state, staff.org.id, path.1).await?))
}

/// Credentials staff create for a patient.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CredentialsBody {
    /// Username (suggested: the email address, so "forgot password" works).
    pub username: String,
    /// The initial password.
    pub password: String,
}

/// Creates (or replaces) the patient's credentials.
#[utoipa::path(put, path = "/api/v1/orgs/{slug}/patients/{id}/portal-access/credentials", tag = "patients",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The patient")),
    request_body = CredentialsBody,
    responses((status = 200, body = PortalAccessDto), (status = 422, description = "Invalid username or weak password")))]
async fn api_credentials(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
    JsonBody(body): JsonBody<CredentialsBody>,
) -> Result<Json<PortalAccessDto>, AppError> {
    credentials(&state, &staff, path.1, &body.username, &body.password).await?;
    Ok(Json(access(&state, staff.org.id, path.1).await?))
}

/// The practitioners a patient may book.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PractitionersBody {
    /// Practitioner row ids; `null` = every practitioner bookable in the portal. Required:
    /// a body without it is refused rather than read as "every practitioner".
    #[serde(deserialize_with = "present")]
    #[schema(required = true)]
    pub practitioners: Option<Vec<i64>>,
}

/// Reads `practitioners` as it is, `null` included; unlike a plain `Option` field, a
/// missing one is an error naming it.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Vec<i64>>, D::Error> {
    Option::deserialize(d)
}

/// Sets the practitioners the patient may see and book in the portal.
#[utoipa::path(put, path = "/api/v1/orgs/{slug}/patients/{id}/portal-access/practitioners", tag = "patients",
    params(("slug" = String, Path, description = "The organisation"), ("id" = i64, Path, description = "The patient")),
    request_body = PractitionersBody,
    responses((status = 200, body = PortalAccessDto), (status = 422, description = "Unknown practitioner")))]
async fn api_practitioners(
    State(state): State<AppState>,
    StaffApi(staff): StaffApi,
    Path(path): Path<(String, i64)>,
    JsonBody(body): JsonBody<PractitionersBody>,
) -> Result<Json<PortalAccessDto>, AppError> {
    set_practitioners(&state, &staff, path.1, body.practitioners).await?;
    Ok(Json(access(&state, staff.org.id, path.1).await?))
}
