//! Staff sign-in and sign-out pages.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tower_sessions::Session;

use crate::auth::csrf;
use crate::auth::staff::{Org, authenticate, start_session};
use crate::error::{AppError, PageError};
use crate::form::{FormData, PageQuery};
use crate::limits::ClientAddress;
use crate::pages::Layout;
use crate::state::AppState;

/// The routes.
pub(crate) fn pages() -> Router<AppState> {
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
