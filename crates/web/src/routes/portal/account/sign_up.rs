//! Public sign-up with its proof-of-work CAPTCHA. The answer is the same whether or
//! not the address has an account; the work that tells them apart runs after it
//! ([`register`]), and nothing of the clinic's patients changes until the emailed link
//! is used.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use store::Organisation;
use store::portal_access::{self};
use store::portal_signup::{self, NewSignup};
use tower_sessions::Session;
use utoipa::ToSchema;

use crate::auth::staff::Org;
use crate::auth::{csrf, password};
use crate::error::{AppError, PageError};
use crate::form::{FieldErrors, FormData, JsonBody, PageQuery, form_again};
use crate::limits::ClientAddress;
use crate::notices;
use crate::pages::PortalLayout;
use crate::state::AppState;

use super::{Message, Next, NoticeDto, layout, safe_next, signup_closed};

#[derive(Template, WebTemplate)]
#[template(path = "portal/signup.html")]
pub(super) struct SignUp {
    layout: PortalLayout,
    errors: FieldErrors,
    first_name: String,
    last_name: String,
    email: String,
    /// Where the emailed link leads after confirming (a path in this portal).
    next: String,
}

impl SignUp {
    /// The sign-in page's address, carrying where to come back to.
    fn signin_href(&self) -> String {
        format!(
            "/o/{}/portal/signin?next={}",
            self.layout.org_slug,
            crate::query::encode(&self.next)
        )
    }
}

pub(super) async fn form(
    Org(org): Org,
    session: Session,
    PageQuery(q): PageQuery<Next>,
) -> Result<SignUp, PageError> {
    if !org.allow_public_signup {
        return Err(signup_closed().into());
    }
    Ok(SignUp {
        layout: layout(&org, &session, "Create an account", "signin").await?,
        errors: FieldErrors::new(),
        first_name: String::new(),
        last_name: String::new(),
        email: String::new(),
        next: safe_next(&org.slug, q.next.as_deref()),
    })
}

pub(super) async fn captcha_page(
    State(state): State<AppState>,
    Org(_org): Org,
) -> Result<Json<altcha::Challenge>, AppError> {
    Ok(Json(crate::captcha::issue(&state).await?))
}

/// What a sign-up request carries.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SignUpRequest {
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Email: the username and the address for confirmations.
    pub email: String,
    /// At least 10 characters, not easy to guess.
    pub password: String,
    /// The solved proof-of-work challenge (see `GET …/portal/captcha` and docs/api.md).
    pub captcha: String,
    /// Where the emailed link leads once the account is confirmed: a path in this
    /// organisation's portal (such as a chosen time's confirm page,
    /// `/o/{slug}/portal/book/{service}/confirm?…`). Anything else, or none, leads to
    /// My appointments.
    #[serde(default)]
    pub next: Option<String>,
}

/// Registers a patient, answering the same whether or not the address has an account.
/// Field errors (names, email form, password strength, CAPTCHA) come back before
/// anything is looked up, so they say nothing about existing accounts. The caller has
/// counted the attempt against the address's rate limit ([`sign_up_allowed`]).
async fn sign_up(
    state: &AppState,
    org: &Organisation,
    req: &SignUpRequest,
) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::new();
    let email = match store::email::normalise_email(&req.email) {
        Ok(e) => e,
        Err(e) => {
            let _ = errors.absorb(e);
            String::new()
        }
    };
    if let Err(e) = store::patient::check_names(&req.first_name, &req.last_name) {
        let _ = errors.absorb(e);
    }
    if let Err(message) = password::check_new(
        &req.password,
        &[&email, req.first_name.trim(), req.last_name.trim()],
    ) {
        errors.add("password", message);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if let Err(e) = crate::captcha::verify(state, &req.captcha).await {
        errors.add(
            "captcha",
            e.message().trim_start_matches("captcha: ").to_owned(),
        );
        return Err(errors);
    }
    // The password is hashed whether or not the address has an account: the same work.
    let secret = req.password.clone();
    let hash = match tokio::task::spawn_blocking(move || password::hash(&secret)).await {
        Ok(hash) => hash,
        Err(e) => return Err(internal(e)),
    };
    // Whether the address has an account decides what happens next; the answer must
    // not wait for it (nor take longer either way).
    let (job_state, org) = (state.clone(), org.clone());
    let (first_name, last_name) = (
        req.first_name.trim().to_owned(),
        req.last_name.trim().to_owned(),
    );
    let next = safe_next(&org.slug, req.next.as_deref());
    state.jobs.spawn("sign-up", async move {
        let signup = NewSignup {
            email: &email,
            first_name: &first_name,
            last_name: &last_name,
            password_hash: &hash,
        };
        register(&job_state, &org, &signup, &next).await
    });
    Ok(())
}

/// Counts a sign-up attempt against the client address's rate limit: over it, the
/// seconds to wait (answered as 429 with `Retry-After`).
fn sign_up_allowed(state: &AppState, address: ClientAddress) -> Result<(), AppError> {
    state.limits.attempt(address.0, None).inspect_err(|_| {
        state.metrics.rate_limited();
    })
}

fn internal(e: impl std::fmt::Display) -> FieldErrors {
    tracing::error!(error = %e, "sign-up failed");
    let mut errors = FieldErrors::new();
    errors.add("form", "something went wrong on our side; please try again");
    errors
}

/// Records a sign-up and emails its link, or, when the address already reaches an
/// account, tells the address's owner instead. Nothing of the clinic's patients or
/// accounts changes until the link is followed with the password chosen here
/// ([`store::portal_signup`]). The link carries `next` (a checked portal path), so
/// the new patient lands where they were going — the time they chose — once confirmed.
async fn register(
    state: &AppState,
    org: &Organisation,
    signup: &NewSignup<'_>,
    next: &str,
) -> store::Result<()> {
    let now = state.clock.now_ns();
    let portal_url = format!("{}/o/{}/portal", state.config.public_url, org.slug);
    let mut tx = state.db.begin().await?;
    let accounts = portal_access::of_address(&mut tx.exec(), org.id, signup.email).await?;
    // The links carry `next` (a checked portal path) unless it is where they lead
    // anyway, so the person lands on the time they chose.
    let back = if next == format!("/o/{}/portal/appointments", org.slug) {
        String::new()
    } else {
        format!("?next={}", crate::query::encode(next))
    };
    let message = if accounts.is_empty() {
        let token = csrf::random_token();
        portal_signup::record(&mut tx, org.id, signup, &token, now).await?;
        notices::signup_confirm(
            &org.name,
            signup.email,
            &format!("{portal_url}/signup/{token}{back}"),
        )
    } else {
        let usernames: Vec<String> = accounts.into_iter().map(|a| a.username).collect();
        notices::signup_exists(
            &org.name,
            signup.email,
            &usernames,
            &portal_url,
            &format!("{portal_url}/signin{back}"),
        )
    };
    store::outbox::enqueue(&mut tx, org.id, &message, now).await?;
    tx.commit().await?;
    state.mail.notify();
    Ok(())
}

fn signup_done(email: &str) -> Vec<String> {
    vec![
        format!("We sent a message to {email}."),
        "Follow the link in it and give the password you just chose to confirm your address; that signs you in. The link works for 3 days.".to_owned(),
        "If you do not see it, check your spam folder.".to_owned(),
    ]
}

pub(super) async fn submit(
    State(state): State<AppState>,
    Org(org): Org,
    address: ClientAddress,
    session: Session,
    form: FormData,
) -> Result<Response, PageError> {
    if !org.allow_public_signup {
        return Err(signup_closed().into());
    }
    let req = SignUpRequest {
        first_name: form.get("first_name"),
        last_name: form.get("last_name"),
        email: form.get("email"),
        password: form.secret("password"),
        captcha: form.get("captcha"),
        next: form.optional("next"),
    };
    let (result, limited) = match sign_up_allowed(&state, address) {
        Ok(()) => (sign_up(&state, &org, &req).await, None),
        Err(e) => {
            let mut errors = FieldErrors::new();
            errors.add("form", e.message());
            (Err(errors), Some(e))
        }
    };
    match result {
        Ok(()) => Ok(Message {
            layout: layout(&org, &session, "Check your email", "signin").await?,
            heading: "Check your email".into(),
            paragraphs: signup_done(req.email.trim()),
            link: None,
        }
        .into_response()),
        Err(errors) => {
            let page = SignUp {
                layout: layout(&org, &session, "Create an account", "signin").await?,
                errors,
                first_name: req.first_name,
                last_name: req.last_name,
                email: req.email,
                next: safe_next(&org.slug, req.next.as_deref()),
            };
            Ok(match limited {
                // The form again, with the status and `Retry-After` of the limit.
                Some(AppError::TooManyRequests { retry_after }) => {
                    form_again(page, Some(retry_after))
                }
                Some(e) => return Err(e.into()),
                None => form_again(page, None),
            })
        }
    }
}

/// A proof-of-work challenge for sign-up (see docs/api.md for how to solve it).
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/portal/captcha", tag = "portal",
    params(("slug" = String, Path, description = "The organisation")),
    responses((status = 200, description = "An ALTCHA v2 challenge: {parameters: {algorithm, cost, keyLength, keyPrefix, nonce, salt, data}, signature}")))]
pub(super) async fn api_captcha(
    State(state): State<AppState>,
    Org(_org): Org,
) -> Result<Json<altcha::Challenge>, AppError> {
    Ok(Json(crate::captcha::issue(&state).await?))
}

/// Signs up as a new patient (when the organisation allows it). The answer is the same
/// whether or not the address already has an account; the emailed link confirms it.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/portal/signup", tag = "portal",
    params(("slug" = String, Path, description = "The organisation")),
    request_body = SignUpRequest,
    responses((status = 202, body = NoticeDto), (status = 422, description = "A field is invalid (names, email, password, captcha)"),
              (status = 404, description = "Public sign-up is not offered"), (status = 429, description = "Too many attempts")))]
pub(super) async fn api_signup(
    State(state): State<AppState>,
    Org(org): Org,
    address: ClientAddress,
    JsonBody(body): JsonBody<SignUpRequest>,
) -> Result<(StatusCode, Json<NoticeDto>), AppError> {
    if !org.allow_public_signup {
        return Err(signup_closed());
    }
    sign_up_allowed(&state, address)?;
    match sign_up(&state, &org, &body).await {
        Ok(()) => Ok((
            StatusCode::ACCEPTED,
            Json(NoticeDto {
                message: signup_done(body.email.trim()).join(" "),
            }),
        )),
        Err(errors) => Err(errors.into_api_error()),
    }
}
