//! Forgot password: the request answers the same either way; a reset link goes, after
//! the answer, to the address the clinic has for each account the typed address reaches.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use store::Organisation;
use store::portal_access::{self, Purpose};
use tower_sessions::Session;
use utoipa::ToSchema;

use crate::auth::csrf;
use crate::auth::staff::Org;
use crate::error::{AppError, PageError};
use crate::form::{FormData, JsonBody};
use crate::limits::ClientAddress;
use crate::notices;
use crate::pages::PortalLayout;
use crate::state::AppState;

use super::{Message, NoticeDto, layout};

#[derive(Template, WebTemplate)]
#[template(path = "portal/forgot.html")]
pub(super) struct Forgot {
    layout: PortalLayout,
}

pub(super) async fn form(Org(org): Org, session: Session) -> Result<Forgot, PageError> {
    Ok(Forgot {
        layout: layout(&org, &session, "Forgot password", "signin").await?,
    })
}

/// Counts the attempt, then sends a reset link if the address has an account — after
/// the caller has answered, which it does the same either way and in the same time.
async fn forgot(
    state: &AppState,
    org: &Organisation,
    address: ClientAddress,
    email: &str,
) -> Result<(), AppError> {
    let email = email.trim().to_lowercase();
    state
        .limits
        .attempt(address.0, Some(&format!("reset:{}:{email}", org.id)))?;
    let (job_state, org) = (state.clone(), org.clone());
    state.jobs.spawn("password reset", async move {
        send_reset(&job_state, &org, &email).await
    });
    Ok(())
}

/// Issues a reset token and queues its email, if `email` has an account.
async fn send_reset(state: &AppState, org: &Organisation, email: &str) -> Result<(), AppError> {
    let now = state.clock.now_ns();
    let mut tx = state.db.begin().await?;
    // The link goes to the address the clinic has for the patient, never to the one
    // typed (which may be a username).
    for account in portal_access::of_address(&mut tx.exec(), org.id, email).await? {
        let patient = store::patient::get(tx.exec(), org.id, account.patient_id).await?;
        if patient.email.is_empty() {
            continue;
        }
        let token = csrf::random_token();
        portal_access::issue_token(
            &mut tx,
            org.id,
            account.id,
            Purpose::PasswordReset,
            &token,
            now,
        )
        .await?;
        let link = format!(
            "{}/o/{}/portal/reset/{token}",
            state.config.public_url, org.slug
        );
        store::outbox::enqueue(
            &mut tx,
            org.id,
            &notices::reset(&org.name, &patient.email, &account.username, &link),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    state.mail.notify();
    Ok(())
}

fn forgot_done(email: &str) -> Vec<String> {
    vec![
        format!(
            "If an account uses {email}, we sent a link to choose a new password to the address the clinic has for it."
        ),
        "The link works once, for 1 hour.".to_owned(),
    ]
}

pub(super) async fn submit(
    State(state): State<AppState>,
    Org(org): Org,
    address: ClientAddress,
    session: Session,
    form: FormData,
) -> Result<Message, PageError> {
    let email = form.get("email");
    forgot(&state, &org, address, &email).await?;
    Ok(Message {
        layout: layout(&org, &session, "Check your email", "signin").await?,
        heading: "Check your email".into(),
        paragraphs: forgot_done(&email),
        link: Some((
            format!("/o/{}/portal/signin", org.slug),
            "Back to sign in".into(),
        )),
    })
}

/// An email address (forgot password).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct EmailBody {
    /// The address.
    pub email: String,
}

/// Asks for a password-reset link. The answer is the same whether or not the address
/// has an account.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/portal/password-reset", tag = "portal",
    params(("slug" = String, Path, description = "The organisation")),
    request_body = EmailBody,
    responses((status = 202, body = NoticeDto), (status = 429, description = "Too many attempts")))]
pub(super) async fn api_forgot(
    State(state): State<AppState>,
    Org(org): Org,
    address: ClientAddress,
    JsonBody(body): JsonBody<EmailBody>,
) -> Result<(StatusCode, Json<NoticeDto>), AppError> {
    forgot(&state, &org, address, &body.email).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(NoticeDto {
            message: forgot_done(body.email.trim()).join(" "),
        }),
    ))
}
