//! "Your account": the signed-in patient's own page, with their details (names and
//! phone, saved here), their email address and a change of it waiting for its link
//! (`email_change`), their password (`password_change`), and the way to their past
//! appointments (the list on My appointments, not a second copy of it).

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::appointment::Actor;
use store::patient::Patient as PatientRow;
use utoipa::ToSchema;

use crate::auth::patient::{Patient, PatientApi, PatientPage};
use crate::clinic_time::local_datetime;
use crate::error::{AppError, PageError};
use crate::form::{FieldErrors, FormData, JsonBody, PageQuery};
use crate::pages::PortalLayout;
use crate::state::AppState;

use super::own_account;

/// The account page. Each of its three forms keeps what was typed and its own errors
/// when it comes back refused; the others show what is stored.
#[derive(Template, WebTemplate)]
#[template(path = "portal/account.html")]
pub(super) struct AccountPage {
    layout: PortalLayout,
    /// The patient's email address now.
    email: String,
    /// What they sign in with (the address, unless the clinic chose another).
    username: String,
    /// The details form.
    pub(super) first_name: String,
    pub(super) last_name: String,
    pub(super) phone: String,
    pub(super) details_errors: FieldErrors,
    /// The change-of-address form: the new address typed.
    pub(super) new_email: String,
    pub(super) email_errors: FieldErrors,
    pub(super) password_errors: FieldErrors,
    /// A change of address waiting for its link.
    pending: Option<PendingView>,
    /// What the page says after a change it was redirected to from.
    notice: Option<&'static str>,
}

/// A change of address waiting for its link, as the page tells it.
struct PendingView {
    email: String,
    sent: String,
    until: String,
}

/// `?done=…` after a change: one of a fixed set of messages, so nothing typed into the
/// address is ever shown.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Done {
    done: Option<String>,
}

fn notice(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "details" => "Your details are saved.",
        "email" => {
            "Check your email: we sent a message to the new address. Your address changes only when you follow the link in it; until then, nothing changes."
        }
        "email-changed" => "Your email address is changed. Sign in with it from now on.",
        "password" => {
            "Your password is changed. Every other device signed in to your account was signed out."
        }
        _ => return None,
    })
}

/// The first clinic's zone: times on the portal's own pages read in it (a patient sees
/// one organisation's portal, whose clinics are usually in one zone).
async fn zone(state: &AppState, org: i64) -> Result<chrono_tz::Tz, AppError> {
    let mut conn = state.db.conn().await?;
    Ok(store::clinic::all(conn.exec(), org)
        .await?
        .first()
        .map_or(chrono_tz::UTC, store::clinic::Clinic::zone))
}

impl AccountPage {
    /// The page as stored, saying `notice` at the top.
    pub(super) async fn load(
        state: &AppState,
        p: &Patient,
        notice: Option<&'static str>,
    ) -> Result<AccountPage, AppError> {
        let account = own_account(state, p).await?;
        let now = state.clock.now_ns();
        let waiting = {
            let mut conn = state.db.conn().await?;
            store::portal_email_change::waiting(conn.exec(), p.org.id, account.id, now).await?
        };
        let pending = match waiting {
            Some(change) => {
                let tz = zone(state, p.org.id).await?;
                Some(PendingView {
                    email: change.new_email,
                    sent: local_datetime(change.created_at_ns, tz),
                    until: local_datetime(change.expires_at_ns, tz),
                })
            }
            None => None,
        };
        Ok(AccountPage {
            layout: PortalLayout::new(
                &p.org,
                &p.session,
                Some(&p.patient.first_name),
                "Your account",
                "account",
            )
            .await?,
            email: p.patient.email.clone(),
            username: account.username,
            first_name: p.patient.first_name.clone(),
            last_name: p.patient.last_name.clone(),
            phone: p.patient.phone.clone(),
            details_errors: FieldErrors::new(),
            new_email: String::new(),
            email_errors: FieldErrors::new(),
            password_errors: FieldErrors::new(),
            pending,
            notice,
        })
    }
}

pub(super) async fn page(
    State(state): State<AppState>,
    PatientPage(p): PatientPage,
    PageQuery(done): PageQuery<Done>,
) -> Result<AccountPage, PageError> {
    Ok(AccountPage::load(&state, &p, notice(done.done.as_deref())).await?)
}

/// What a patient may change of their own record here: their names and phone.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct DetailsBody {
    /// First name, 1-100 characters.
    pub first_name: String,
    /// Last name, 1-100 characters.
    pub last_name: String,
    /// Phone, at most 40 characters (empty: none).
    #[serde(default)]
    pub phone: String,
}

/// Saves the patient's names and phone and records that they did, in one transaction.
async fn save_details(
    state: &AppState,
    p: &Patient,
    body: &DetailsBody,
) -> store::Result<PatientRow> {
    let now = state.clock.now_ns();
    let mut tx = state.db.begin().await?;
    let saved = store::patient::update_details(
        &mut tx,
        p.org.id,
        p.patient.id,
        &body.first_name,
        &body.last_name,
        &body.phone,
    )
    .await?;
    // Which fields changed, not their values: the log holds no more personal data than
    // it needs (as for staff's changes).
    let before = &p.patient;
    let changed: Vec<&str> = [
        ("first_name", before.first_name != saved.first_name),
        ("last_name", before.last_name != saved.last_name),
        ("phone", before.phone != saved.phone),
    ]
    .into_iter()
    .filter_map(|(field, changed)| changed.then_some(field))
    .collect();
    store::audit::record(
        &mut tx,
        p.org.id,
        &Actor::Patient(p.patient.id).label(),
        "portal.update_details",
        "patient",
        Some(p.patient.id),
        json!({ "changed": changed }),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(saved)
}

pub(super) async fn save_page(
    State(state): State<AppState>,
    PatientPage(p): PatientPage,
    form: FormData,
) -> Result<Response, PageError> {
    let body = DetailsBody {
        first_name: form.get("first_name"),
        last_name: form.get("last_name"),
        phone: form.get("phone"),
    };
    match save_details(&state, &p, &body).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/o/{}/portal/account?done=details", p.org.slug)).into_response(),
        ),
        Err(e) => {
            let mut errors = FieldErrors::new();
            errors.absorb(e)?;
            let mut page = AccountPage::load(&state, &p, None).await?;
            page.details_errors = errors;
            page.first_name = body.first_name;
            page.last_name = body.last_name;
            page.phone = body.phone;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

/// The signed-in patient's own account, as the portal API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct AccountDto {
    /// The patient's row id.
    pub id: i64,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Email: where the clinic's messages go.
    pub email: String,
    /// Phone (empty: none).
    pub phone: String,
    /// What the patient signs in with.
    pub username: String,
    /// A change of address waiting for its emailed link, if any.
    pub pending_email_change: Option<PendingEmailChangeDto>,
}

/// A change of address waiting for the link emailed to the new address.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct PendingEmailChangeDto {
    /// The new address.
    pub email: String,
    /// When the link was sent (RFC 3339, UTC).
    pub sent_at: String,
    /// Until when it works (RFC 3339, UTC).
    pub expires_at: String,
}

fn utc(ns: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(ns).to_rfc3339()
}

async fn account_dto(
    state: &AppState,
    p: &Patient,
    patient: PatientRow,
) -> Result<AccountDto, AppError> {
    let account = own_account(state, p).await?;
    let mut conn = state.db.conn().await?;
    let pending = store::portal_email_change::waiting(
        conn.exec(),
        p.org.id,
        account.id,
        state.clock.now_ns(),
    )
    .await?;
    Ok(AccountDto {
        id: patient.id,
        first_name: patient.first_name,
        last_name: patient.last_name,
        email: patient.email,
        phone: patient.phone,
        username: account.username,
        pending_email_change: pending.map(|c| PendingEmailChangeDto {
            email: c.new_email,
            sent_at: utc(c.created_at_ns),
            expires_at: utc(c.expires_at_ns),
        }),
    })
}

/// The signed-in patient's own account.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/portal/account", tag = "portal",
    params(("slug" = String, Path, description = "The organisation")),
    responses((status = 200, body = AccountDto), (status = 401, description = "Not signed in")))]
pub(super) async fn api_account(
    State(state): State<AppState>,
    PatientApi(p): PatientApi,
) -> Result<Json<AccountDto>, AppError> {
    let patient = p.patient.clone();
    Ok(Json(account_dto(&state, &p, patient).await?))
}

/// Saves the signed-in patient's names and phone. (The email address changes through
/// `POST …/portal/account/email`, the password through `PUT …/portal/account/password`.)
#[utoipa::path(put, path = "/api/v1/orgs/{slug}/portal/account", tag = "portal",
    params(("slug" = String, Path, description = "The organisation")),
    request_body = DetailsBody,
    responses((status = 200, body = AccountDto), (status = 401, description = "Not signed in"),
              (status = 422, description = "A field is invalid; nothing was saved")))]
pub(super) async fn api_save(
    State(state): State<AppState>,
    PatientApi(p): PatientApi,
    JsonBody(body): JsonBody<DetailsBody>,
) -> Result<Json<AccountDto>, AppError> {
    let saved = save_details(&state, &p, &body).await?;
    Ok(Json(account_dto(&state, &p, saved).await?))
}
