//! Staff sign-in and sign-out pages.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use store::staff::StaffUser;
use tower_sessions::Session;

use crate::auth::staff::{Org, STAFF_KEY, StaffSession};
use crate::auth::{csrf, password};
use crate::error::{AppError, PageError};
use crate::form::{FormData, PageQuery};
use crate::limits::ClientAddress;
use crate::pages::Layout;
use crate::state::AppState;

/// The routes.
pub fn pages() -> Router<AppState> {
    Router::new()
        .route(
            "/o/{slug}/admin",
            get(
                |Org(org): Org| async move { Redirect::to(&format!("/o/{}/admin/book", org.slug)) },
            ),
        )
        .route("/o/{slug}/admin/signin", get(form).post(submit))
        .route("/o/{slug}/admin/signout", post(sign_out))
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/signin.html")]
struct SignIn {
    layout: Layout,
    email: String,
    next: String,
    failed: bool,
}

#[derive(Deserialize)]
struct Next {
    next: Option<String>,
}

/// Only paths inside this organisation's staff pages: never an open redirect.
fn safe_next(slug: &str, next: Option<&str>) -> String {
    crate::auth::redirect_after_sign_in(
        &format!("/o/{slug}/admin/"),
        &format!("/o/{slug}/admin/book"),
        next,
    )
}

async fn page(
    org: &store::Organisation,
    session: &Session,
    email: String,
    next: String,
    failed: bool,
) -> Result<SignIn, PageError> {
    Ok(SignIn {
        layout: Layout {
            title: "Staff sign-in".into(),
            org_slug: org.slug.clone(),
            org_name: org.name.clone(),
            csrf: csrf::token(session).await?,
            ..Layout::default()
        },
        email,
        next,
        failed,
    })
}

async fn form(
    Org(org): Org,
    session: Session,
    PageQuery(q): PageQuery<Next>,
) -> Result<SignIn, PageError> {
    let next = safe_next(&org.slug, q.next.as_deref());
    page(&org, &session, String::new(), next, false).await
}

/// Checks staff credentials, doing the same work whether or not the account exists.
///
/// Every attempt counts against the rate limits of the client's address and of the
/// account.
pub async fn authenticate(
    state: &AppState,
    address: ClientAddress,
    org: i64,
    email: &str,
    password: &str,
) -> Result<Option<StaffUser>, AppError> {
    if let Err(e) = state.limits.attempt(
        address.0,
        Some(&format!("staff:{org}:{}", email.trim().to_lowercase())),
    ) {
        crate::metrics::Metrics::inc(&state.metrics.rate_limited);
        return Err(e);
    }
    let mut conn = state.db.conn().await?;
    let user = store::staff::by_email(conn.exec(), org, email).await?;
    drop(conn);
    let password = password.to_owned();
    let verified = tokio::task::spawn_blocking(move || match user {
        Some(user) if user.active => {
            password::verify(&password, &user.password_hash).then_some(user)
        }
        Some(_) | None => {
            password::verify_dummy(&password);
            None
        }
    })
    .await
    .map_err(AppError::internal)?;
    Ok(verified)
}

/// Signs a staff user in: a new session id (no fixation), then who they are.
pub async fn start_session(session: &Session, user: &StaffUser) -> Result<(), AppError> {
    session.cycle_id().await.map_err(AppError::internal)?;
    session
        .insert(
            STAFF_KEY,
            StaffSession {
                org_id: user.org_id,
                staff_id: user.id,
                epoch: user.session_epoch,
            },
        )
        .await
        .map_err(AppError::internal)?;
    // A fresh CSRF token for the new session.
    session
        .remove::<String>("csrf")
        .await
        .map_err(AppError::internal)?;
    Ok(())
}

async fn submit(
    State(state): State<AppState>,
    Org(org): Org,
    address: ClientAddress,
    session: Session,
    form: FormData,
) -> Result<Response, PageError> {
    let email = form.get("email");
    let next = safe_next(&org.slug, form.optional("next").as_deref());
    match authenticate(&state, address, org.id, &email, &form.secret("password")).await? {
        Some(user) => {
            start_session(&session, &user).await?;
            Ok(Redirect::to(&next).into_response())
        }
        None => Ok((
            axum::http::StatusCode::UNAUTHORIZED,
            page(&org, &session, email, next, true).await?,
        )
            .into_response()),
    }
}

async fn sign_out(Org(org): Org, session: Session) -> Result<Redirect, PageError> {
    session.flush().await.map_err(AppError::internal)?;
    Ok(Redirect::to(&format!("/o/{}/admin/signin", org.slug)))
}
