//! A signed-in patient changes their password: the current one first (rate-limited like
//! signing in), a new one as strong as anywhere else. The account's session epoch moves,
//! which ends every other session of the patient; this one goes on under a new session
//! id. Every emailed link of the account and a change of address still waiting stop
//! working too ([`store::portal_access::set_password`]).

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use store::appointment::Actor;
use utoipa::ToSchema;

use crate::auth::password;
use crate::auth::patient::{Patient, PatientApi, PatientPage};
use crate::error::{AppError, PageError};
use crate::form::{FieldErrors, FormData, JsonBody, form_again};
use crate::limits::ClientAddress;
use crate::state::AppState;

use super::profile::AccountPage;
use super::{PortalSessionDto, is_password_of, own_account, session_dto, sign_in_account};

/// The current password and the new one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PasswordChangeBody {
    /// The patient's current password.
    pub current_password: String,
    /// The new password: at least 10 characters, not easy to guess.
    pub new_password: String,
}

/// Changes the password, or says why not: field errors (nothing changed) in `Ok(Err)`,
/// 429 and failures in `Err`.
async fn change(
    state: &AppState,
    p: &Patient,
    address: ClientAddress,
    body: &PasswordChangeBody,
) -> Result<Result<(), FieldErrors>, AppError> {
    let mut errors = FieldErrors::new();
    if body.current_password.is_empty() {
        errors.add("current_password", "is required");
        return Ok(Err(errors));
    }
    let account = own_account(state, p).await?;
    if !is_password_of(state, address, p.org.id, &account, &body.current_password).await? {
        errors.add("current_password", "is not your current password");
        return Ok(Err(errors));
    }
    if let Err(message) = password::check_new(
        &body.new_password,
        &[
            account.username.as_str(),
            p.patient.email.as_str(),
            p.patient.first_name.as_str(),
            p.patient.last_name.as_str(),
        ],
    ) {
        errors.add("new_password", message);
        return Ok(Err(errors));
    }
    let secret = body.new_password.clone();
    let hash = tokio::task::spawn_blocking(move || password::hash(&secret))
        .await
        .map_err(AppError::internal)?;
    let now = state.clock.now_ns();
    let mut tx = state.db.begin().await?;
    let account =
        store::portal_access::set_password(&mut tx, p.org.id, account.id, &hash, now).await?;
    store::audit::record(
        &mut tx,
        p.org.id,
        &Actor::Patient(p.patient.id).label(),
        "portal.change_password",
        "patient",
        Some(p.patient.id),
        serde_json::json!({}),
        now,
    )
    .await?;
    tx.commit().await?;
    // This session goes on, under the new epoch and a new id; every other one has ended.
    sign_in_account(&p.session, p.org.id, &account).await?;
    Ok(Ok(()))
}

pub(super) async fn submit(
    State(state): State<AppState>,
    PatientPage(p): PatientPage,
    address: ClientAddress,
    form: FormData,
) -> Result<Response, PageError> {
    let body = PasswordChangeBody {
        current_password: form.secret("current_password"),
        new_password: form.secret("new_password"),
    };
    let (errors, limited) = if body.new_password != form.secret("new_password_confirmation") {
        let mut errors = FieldErrors::new();
        errors.add("new_password_confirmation", "the two passwords differ");
        (errors, None)
    } else {
        match change(&state, &p, address, &body).await {
            Ok(Ok(())) => {
                return Ok(Redirect::to(&format!(
                    "/o/{}/portal/account?done=password",
                    p.org.slug
                ))
                .into_response());
            }
            Ok(Err(errors)) => (errors, None),
            Err(AppError::TooManyRequests { retry_after }) => {
                let mut errors = FieldErrors::new();
                errors.add("form", AppError::TooManyRequests { retry_after }.message());
                (errors, Some(retry_after))
            }
            Err(e) => return Err(e.into()),
        }
    };
    let mut page = AccountPage::load(&state, &p, None).await?;
    page.password_errors = errors;
    Ok(form_again(page, limited))
}

/// Changes the signed-in patient's password. Every other session of the patient ends;
/// this one goes on with a new session id and CSRF token (in the answer).
#[utoipa::path(put, path = "/api/v1/orgs/{slug}/portal/account/password", tag = "portal",
    params(("slug" = String, Path, description = "The organisation")),
    request_body = PasswordChangeBody,
    responses((status = 200, body = PortalSessionDto), (status = 401, description = "Not signed in"),
              (status = 422, description = "The current password is wrong, or the new one too weak; nothing changed"),
              (status = 429, description = "Too many attempts; see Retry-After")))]
pub(super) async fn api_change(
    State(state): State<AppState>,
    PatientApi(p): PatientApi,
    address: ClientAddress,
    JsonBody(body): JsonBody<PasswordChangeBody>,
) -> Result<Json<PortalSessionDto>, AppError> {
    match change(&state, &p, address, &body).await? {
        Ok(()) => Ok(Json(session_dto(&state, p.org.id, &p.session).await?)),
        Err(errors) => Err(errors.into_api_error()),
    }
}
