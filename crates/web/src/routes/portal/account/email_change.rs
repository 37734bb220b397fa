//! A patient's change of their own email address, proven through the new address.
//!
//! Starting one needs the current password (rate-limited like signing in). The answer
//! is the same whether or not the new address is free; what differs goes to the new
//! address only, as sign-up does it: a single-use link (24 hours) when it is free, a
//! note that it already has an account (or a sign-up waiting) when it is not. Following
//! the link changes the patient's email and username, never anything else, and only of
//! the account it was sent for: a visitor who is not signed in as that patient gives
//! its password too, so the owner of an address who follows a link they did not ask for
//! attaches nobody's account to it. The old address is told of the change.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use store::Organisation;
use store::appointment::Actor;
use store::portal_email_change::{self, Completion, LinkState, PendingChange, Started};
use tower_sessions::Session;
use utoipa::ToSchema;

use crate::auth::csrf;
use crate::auth::patient::{Patient, PatientApi, PatientPage, patient_in_session};
use crate::auth::staff::Org;
use crate::error::{AppError, PageError};
use crate::form::{FieldErrors, FormData, JsonBody, form_again};
use crate::limits::ClientAddress;
use crate::notices;
use crate::pages::PortalLayout;
use crate::state::AppState;

use super::profile::AccountPage;
use super::{
    LinkStateDto, MessageText, NoticeDto, is_password_of, message_page, own_account, unknown_link,
};

/// A new email address, and the current password that allows the change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct EmailChangeBody {
    /// The new address.
    pub email: String,
    /// The patient's current password.
    pub current_password: String,
}

/// Why a change could not start: field errors (nothing was sent), or an error that
/// names no field (429, or a failure).
enum Refused {
    Fields(FieldErrors),
    Error(AppError),
}

impl From<AppError> for Refused {
    fn from(e: AppError) -> Self {
        Refused::Error(e)
    }
}

impl From<store::Error> for Refused {
    fn from(e: store::Error) -> Self {
        match e {
            store::Error::Invalid { field, message } => {
                let mut errors = FieldErrors::new();
                errors.add(field, message);
                Refused::Fields(errors)
            }
            other => Refused::Error(other.into()),
        }
    }
}

/// Starts a change: checks the address's form and the current password, records the
/// change (cancelling one still waiting) and queues the email to the new address, all
/// in one transaction. The answer does not tell whether the address was free.
async fn start(
    state: &AppState,
    p: &Patient,
    address: ClientAddress,
    body: &EmailChangeBody,
) -> Result<(), Refused> {
    let mut errors = FieldErrors::new();
    if let Err(e) = store::email::normalise_email(&body.email) {
        let _ = errors.absorb(e);
    }
    if body.current_password.is_empty() {
        errors.add("current_password", "is required");
    }
    if !errors.is_empty() {
        return Err(Refused::Fields(errors));
    }
    let account = own_account(state, p).await?;
    if !is_password_of(state, address, p.org.id, &account, &body.current_password).await? {
        errors.add("current_password", "is not your current password");
        return Err(Refused::Fields(errors));
    }
    let now = state.clock.now_ns();
    let token = csrf::random_token();
    let portal_url = format!("{}/o/{}/portal", state.config.public_url, p.org.slug);
    let mut tx = state.db.begin().await?;
    let started =
        portal_email_change::start(&mut tx, p.org.id, &account, &body.email, &token, now).await?;
    let new_email = store::email::normalise_email(&body.email)?;
    let message = match started {
        Started::Link => notices::email_change_confirm(
            &p.org.name,
            &new_email,
            &format!("{portal_url}/email/{token}"),
        ),
        Started::Taken => notices::email_change_taken(&p.org.name, &new_email, &portal_url),
    };
    store::outbox::enqueue(&mut tx, p.org.id, &message, now).await?;
    // The same entry either way; the new address is the patient's to keep private.
    store::audit::record(
        &mut tx,
        p.org.id,
        &Actor::Patient(p.patient.id).label(),
        "portal.start_email_change",
        "patient",
        Some(p.patient.id),
        serde_json::json!({}),
        now,
    )
    .await?;
    tx.commit().await?;
    state.mail.notify();
    Ok(())
}

fn started_notice() -> String {
    "We sent a message to the new address. Your address changes only when you follow the link in it (it works for 24 hours); until then, nothing changes.".to_owned()
}

pub(super) async fn start_page(
    State(state): State<AppState>,
    PatientPage(p): PatientPage,
    address: ClientAddress,
    form: FormData,
) -> Result<Response, PageError> {
    let body = EmailChangeBody {
        email: form.get("email"),
        current_password: form.secret("current_password"),
    };
    let (errors, limited) = match start(&state, &p, address, &body).await {
        Ok(()) => {
            return Ok(
                Redirect::to(&format!("/o/{}/portal/account?done=email", p.org.slug))
                    .into_response(),
            );
        }
        Err(Refused::Fields(errors)) => (errors, None),
        Err(Refused::Error(e @ AppError::TooManyRequests { retry_after })) => {
            let mut errors = FieldErrors::new();
            errors.add("form", e.message());
            (errors, Some(retry_after))
        }
        Err(Refused::Error(e)) => return Err(e.into()),
    };
    let mut page = AccountPage::load(&state, &p, None).await?;
    page.email_errors = errors;
    page.new_email = body.email;
    Ok(form_again(page, limited))
}

/// Starts a change of the signed-in patient's email address: a link goes to the new
/// address, and nothing changes until it is followed. The answer is the same whether or
/// not the new address is free (when it is not, its owner is told by email instead).
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/portal/account/email", tag = "portal",
    params(("slug" = String, Path, description = "The organisation")),
    request_body = EmailChangeBody,
    responses((status = 202, body = NoticeDto), (status = 401, description = "Not signed in"),
              (status = 422, description = "The address is not one, or is already yours, or the current password is wrong"),
              (status = 429, description = "Too many attempts; see Retry-After")))]
pub(super) async fn api_start(
    State(state): State<AppState>,
    PatientApi(p): PatientApi,
    address: ClientAddress,
    JsonBody(body): JsonBody<EmailChangeBody>,
) -> Result<(StatusCode, Json<NoticeDto>), AppError> {
    match start(&state, &p, address, &body).await {
        Ok(()) => Ok((
            StatusCode::ACCEPTED,
            Json(NoticeDto {
                message: started_notice(),
            }),
        )),
        Err(Refused::Fields(errors)) => Err(errors.into_api_error()),
        Err(Refused::Error(e)) => Err(e),
    }
}

// The link.

#[derive(Template, WebTemplate)]
#[template(path = "portal/confirm_email.html")]
struct ConfirmEmail {
    layout: PortalLayout,
    action: String,
    new_email: String,
    /// The visitor is not signed in as the account's patient: they give its password.
    needs_password: bool,
    /// They are signed in, as another patient: the link is not about that account.
    someone_else: bool,
    errors: FieldErrors,
}

/// Who follows a link.
struct Visitor {
    /// Signed in here as the patient whose account the link is for.
    owner: bool,
    /// Signed in here as another patient: the link is not about that account.
    someone_else: bool,
    /// The signed-in patient's first name, for the page's header.
    first_name: Option<String>,
}

async fn visitor(
    state: &AppState,
    org: i64,
    session: &Session,
    change: &PendingChange,
) -> Result<Visitor, AppError> {
    Ok(match patient_in_session(state, org, session).await? {
        Some((p, account)) => Visitor {
            owner: account == change.account_id,
            someone_else: account != change.account_id,
            first_name: Some(p.first_name),
        },
        None => Visitor {
            owner: false,
            someone_else: false,
            first_name: None,
        },
    })
}

/// The page for a link that does not work.
fn dead_link(state: &LinkState, slug: &str) -> (StatusCode, MessageText) {
    let account = Some((
        format!("/o/{slug}/portal/account"),
        "Go to your account".to_owned(),
    ));
    match state {
        LinkState::Expired => (
            StatusCode::GONE,
            (
                "This link has expired".into(),
                vec!["A link to confirm a new email address works for 24 hours. Nothing was changed: start the change again from your account.".into()],
                account,
            ),
        ),
        LinkState::Used => (
            StatusCode::NOT_FOUND,
            (
                "This link was already used".into(),
                vec!["A link to confirm a new email address works once.".into()],
                account,
            ),
        ),
        LinkState::Cancelled => (
            StatusCode::NOT_FOUND,
            (
                "This link is no longer valid".into(),
                vec!["A newer change of address was started, or the password or address of the account changed since. Nothing was changed.".into()],
                account,
            ),
        ),
        LinkState::Unknown | LinkState::Valid(_) => (StatusCode::NOT_FOUND, unknown_link(slug, None)),
    }
}

async fn link_page(
    state: &AppState,
    org: &Organisation,
    session: &Session,
    token: &str,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let found = {
        let mut conn = state.db.conn().await?;
        portal_email_change::inspect(conn.exec(), org.id, token, state.clock.now_ns()).await?
    };
    let change = match found {
        LinkState::Valid(change) => change,
        other => {
            let (status, page) = dead_link(&other, &org.slug);
            return message_page(org, session, status, page).await;
        }
    };
    let who = visitor(state, org.id, session, &change).await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((
        status,
        ConfirmEmail {
            layout: PortalLayout::new(
                org,
                session,
                who.first_name.as_deref(),
                "Confirm your new email address",
                "account",
            )
            .await?,
            action: format!("/o/{}/portal/email/{token}", org.slug),
            new_email: change.new_email,
            needs_password: !who.owner,
            someone_else: who.someone_else,
            errors,
        },
    )
        .into_response())
}

pub(super) async fn link_form(
    State(state): State<AppState>,
    Org(org): Org,
    session: Session,
    Path((_, token)): Path<(String, String)>,
) -> Result<Response, PageError> {
    link_page(&state, &org, &session, &token, FieldErrors::new()).await
}

/// What following a link came to.
enum Followed {
    /// The address changed; `by_owner` when the account's patient was signed in here.
    Changed { email: String, by_owner: bool },
    /// The password given is not the account's.
    WrongPassword,
    /// Another account has come to sign in with the address: the link is spent.
    Taken,
    /// The link does not work.
    Dead(LinkState),
}

/// Follows a link: the account's own patient signed in here, or anyone who gives the
/// account's password (counted against its sign-in limits), changes the account's
/// address; then the old address is told, in the same transaction.
async fn follow(
    state: &AppState,
    org: &Organisation,
    session: &Session,
    address: ClientAddress,
    token: &str,
    password: Option<&str>,
) -> Result<Followed, AppError> {
    let now = state.clock.now_ns();
    let found = {
        let mut conn = state.db.conn().await?;
        portal_email_change::inspect(conn.exec(), org.id, token, now).await?
    };
    let change = match found {
        LinkState::Valid(change) => change,
        other => return Ok(Followed::Dead(other)),
    };
    let owner = visitor(state, org.id, session, &change).await?.owner;
    if !owner {
        let account = {
            let mut conn = state.db.conn().await?;
            store::portal_access::get(conn.exec(), org.id, change.account_id).await?
        };
        let given = password.unwrap_or_default();
        if !is_password_of(state, address, org.id, &account, given).await? {
            return Ok(Followed::WrongPassword);
        }
    }
    let mut tx = state.db.begin().await?;
    let changed = match portal_email_change::complete(&mut tx, org.id, token, now).await? {
        Completion::Changed(changed) => changed,
        Completion::AddressTaken => {
            // The link is spent; nothing else changed.
            tx.commit().await?;
            return Ok(Followed::Taken);
        }
        Completion::NotValid(state) => return Ok(Followed::Dead(state)),
    };
    store::outbox::enqueue(
        &mut tx,
        org.id,
        &notices::email_changed(&org.name, &changed.old_email, &changed.new_email),
        now,
    )
    .await?;
    store::audit::record(
        &mut tx,
        org.id,
        &Actor::Patient(changed.account.patient_id).label(),
        "portal.change_email",
        "patient",
        Some(changed.account.patient_id),
        serde_json::json!({"changed": ["email", "username"]}),
        now,
    )
    .await?;
    tx.commit().await?;
    state.mail.notify();
    Ok(Followed::Changed {
        email: changed.new_email,
        by_owner: owner,
    })
}

fn taken_message() -> MessageText {
    (
        "This address already has an account".into(),
        vec!["Since the change was started, another account has come to use this email address. Nothing was changed.".into()],
        None,
    )
}

pub(super) async fn link_submit(
    State(state): State<AppState>,
    Org(org): Org,
    address: ClientAddress,
    session: Session,
    Path((_, token)): Path<(String, String)>,
    form: FormData,
) -> Result<Response, PageError> {
    let password = form.secret("password");
    let followed = match follow(&state, &org, &session, address, &token, Some(&password)).await {
        Ok(followed) => followed,
        Err(e @ AppError::TooManyRequests { retry_after }) => {
            // The form again, with the status and `Retry-After` of the limit.
            let mut errors = FieldErrors::new();
            errors.add("form", e.message());
            let page = link_page(&state, &org, &session, &token, errors).await?;
            return Ok(form_again(page, Some(retry_after)));
        }
        Err(e) => return Err(e.into()),
    };
    match followed {
        Followed::Changed { by_owner: true, .. } => Ok(Redirect::to(&format!(
            "/o/{}/portal/account?done=email-changed",
            org.slug
        ))
        .into_response()),
        Followed::Changed { email, .. } => {
            message_page(
                &org,
                &session,
                StatusCode::OK,
                (
                    "Your email address is changed".into(),
                    vec![format!(
                        "The account's email address is now {email}: sign in with it from now on."
                    )],
                    Some((format!("/o/{}/portal/signin", org.slug), "Sign in".into())),
                ),
            )
            .await
        }
        Followed::WrongPassword => {
            let mut errors = FieldErrors::new();
            errors.add(
                "password",
                "is not the password of the account this link is for",
            );
            link_page(&state, &org, &session, &token, errors).await
        }
        Followed::Taken => {
            message_page(&org, &session, StatusCode::CONFLICT, taken_message()).await
        }
        Followed::Dead(dead) => {
            let (status, page) = dead_link(&dead, &org.slug);
            message_page(&org, &session, status, page).await
        }
    }
}

/// What a change-of-address link is: `valid`, `expired`, `used`, `cancelled` (a newer
/// change, or a new password, since) or `unknown`. Using a valid one needs the account's
/// password unless the account's patient is signed in.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/portal/email-changes/{token}", tag = "portal",
    params(("slug" = String, Path, description = "The organisation"), ("token" = String, Path, description = "The emailed token")),
    responses((status = 200, body = LinkStateDto)))]
pub(super) async fn api_link_state(
    State(state): State<AppState>,
    Org(org): Org,
    session: Session,
    Path(path): Path<(String, String)>,
) -> Result<Json<LinkStateDto>, AppError> {
    let found = {
        let mut conn = state.db.conn().await?;
        portal_email_change::inspect(conn.exec(), org.id, &path.1, state.clock.now_ns()).await?
    };
    let (word, needs_password) = match &found {
        LinkState::Valid(change) => (
            "valid",
            !visitor(&state, org.id, &session, change).await?.owner,
        ),
        LinkState::Expired => ("expired", false),
        LinkState::Used => ("used", false),
        LinkState::Cancelled => ("cancelled", false),
        LinkState::Unknown => ("unknown", false),
    };
    Ok(Json(LinkStateDto {
        state: word.into(),
        needs_password,
    }))
}

/// The password of the account a change-of-address link is for (not needed when its
/// patient is signed in).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ConfirmEmailBody {
    /// The account's password.
    #[serde(default)]
    pub password: Option<String>,
}

/// The address a change of address took effect with.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct EmailChangedDto {
    /// The account's email address and username now.
    pub email: String,
}

/// Follows a change-of-address link: the account's email address and username become
/// the new address, and the old address is told.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/portal/email-changes/{token}", tag = "portal",
    params(("slug" = String, Path, description = "The organisation"), ("token" = String, Path, description = "The emailed token")),
    request_body = ConfirmEmailBody,
    responses((status = 200, body = EmailChangedDto),
              (status = 404, description = "No such link"),
              (status = 409, description = "The link expired, was used or cancelled (`details.state`), or another account has come to use the address"),
              (status = 422, description = "The password is not the account's"),
              (status = 429, description = "Too many attempts; see Retry-After")))]
pub(super) async fn api_link_confirm(
    State(state): State<AppState>,
    Org(org): Org,
    address: ClientAddress,
    session: Session,
    Path(path): Path<(String, String)>,
    JsonBody(body): JsonBody<ConfirmEmailBody>,
) -> Result<Json<EmailChangedDto>, AppError> {
    match follow(&state, &org, &session, address, &path.1, body.password.as_deref()).await? {
        Followed::Changed { email, .. } => Ok(Json(EmailChangedDto { email })),
        Followed::WrongPassword => Err(AppError::invalid(
            "password",
            "is not the password of the account this link is for",
        )),
        Followed::Taken => Err(AppError::Conflict {
            message: "another account has come to use this address; nothing was changed".into(),
            details: serde_json::json!({"state": "address_taken"}),
        }),
        Followed::Dead(dead) => Err(match dead {
            LinkState::Expired => AppError::Conflict {
                message: "this link has expired".into(),
                details: serde_json::json!({"state": "expired"}),
            },
            LinkState::Used => AppError::Conflict {
                message: "this link was already used".into(),
                details: serde_json::json!({"state": "used"}),
            },
            LinkState::Cancelled => AppError::Conflict {
                message: "this link is no longer valid: a newer change was started, or the password or address changed".into(),
                details: serde_json::json!({"state": "cancelled"}),
            },
            LinkState::Unknown | LinkState::Valid(_) => AppError::NotFound("link".into()),
        }),
    }
}
