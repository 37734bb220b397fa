//! The clinic's logo: the admin page that sets or removes it, and the image itself,
//! served to everyone (the portal's header shows it before anyone signs in).
//!
//! The upload is the one form with a file, so it is the one `multipart/form-data` post;
//! the page middleware finds its CSRF token among the parts (`app::page_checked`). The
//! store takes only PNG, JPEG and WebP, told by their bytes (`store::organisation_logo`).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Multipart, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use store::organisation_logo;

use crate::auth::staff::{Org, Staff, StaffPage};
use crate::error::{AppError, PageError};
use crate::form::{FieldErrors, FormData};
use crate::pages::Layout;
use crate::state::AppState;

/// The pages, and the image.
pub(crate) fn pages() -> Router<AppState> {
    Router::new()
        .route("/o/{slug}/logo", get(image))
        .route("/o/{slug}/admin/settings/logo", get(page).post(upload))
        .route("/o/{slug}/admin/settings/logo/remove", post(remove))
}

/// `?v=` of the image's address: the version the page linked, which lets a browser
/// keep the image for good (a new logo has a new version, so a new address).
#[derive(Debug, Deserialize)]
struct ImageQuery {
    v: Option<String>,
}

/// The organisation's logo, or 404 when it has none.
async fn image(
    State(state): State<AppState>,
    Org(org): Org,
    Query(query): Query<ImageQuery>,
) -> Result<Response, AppError> {
    let mut conn = state.db.conn().await?;
    let logo = organisation_logo::get(conn.exec(), org.id)
        .await?
        .ok_or_else(|| AppError::NotFound("logo".into()))?;
    let cache = if query.v.is_some() && query.v == org.logo_version {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    Ok((
        [
            (header::CONTENT_TYPE, logo.content_type),
            (header::CACHE_CONTROL, cache),
            (header::CONTENT_DISPOSITION, "inline"),
        ],
        logo.bytes,
    )
        .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/logo.html")]
struct LogoPage {
    layout: Layout,
    logo_url: Option<String>,
    max_kib: usize,
    saved: Option<&'static str>,
    errors: FieldErrors,
}

/// `?saved=` after a change: what the page says was done.
#[derive(Debug, Deserialize)]
struct PageQuery {
    saved: Option<String>,
}

async fn render(
    staff: &Staff,
    saved: Option<&'static str>,
    errors: FieldErrors,
) -> Result<LogoPage, PageError> {
    Ok(LogoPage {
        layout: Layout::staff(staff, "Logo", "setup").await?,
        logo_url: crate::pages::logo_url(&staff.org),
        max_kib: organisation_logo::MAX_BYTES / 1024,
        saved,
        errors,
    })
}

async fn page(
    StaffPage(staff): StaffPage,
    Query(query): Query<PageQuery>,
) -> Result<Response, PageError> {
    staff.admin()?;
    let saved = match query.saved.as_deref() {
        Some("set") => Some("Logo saved: it is in the header of every page."),
        Some("removed") => Some("Logo removed: the header shows the name only."),
        _ => None,
    };
    Ok(render(&staff, saved, FieldErrors::new())
        .await?
        .into_response())
}

/// The bytes of the part named `logo`, ignoring any other part; `None` when the
/// form had no such part or it could not be read.
async fn logo_part(mut multipart: Multipart) -> Option<Vec<u8>> {
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some("logo") {
            return field.bytes().await.ok().map(|b| b.to_vec());
        }
    }
    None
}

async fn upload(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    multipart: Multipart,
) -> Result<Response, PageError> {
    staff.admin()?;
    let bytes = logo_part(multipart).await.unwrap_or_default();
    let now = state.clock.now_ns();
    let saved: store::Result<()> = async {
        let mut tx = state.db.begin().await?;
        let version = organisation_logo::set(&mut tx, staff.org.id, &bytes, now).await?;
        store::audit::record(
            &mut tx,
            staff.org.id,
            &staff.actor(),
            "organisation.set_logo",
            "organisation",
            Some(staff.org.id),
            serde_json::json!({"bytes": bytes.len(), "version": version}),
            now,
        )
        .await?;
        tx.commit().await
    }
    .await;
    match saved {
        Ok(()) => Ok(Redirect::to(&format!(
            "/o/{}/admin/settings/logo?saved=set",
            staff.org.slug
        ))
        .into_response()),
        Err(e) => {
            let mut errors = FieldErrors::new();
            errors.absorb(e)?;
            let page = render(&staff, None, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

async fn remove(
    State(state): State<AppState>,
    StaffPage(staff): StaffPage,
    _form: FormData,
) -> Result<Response, PageError> {
    staff.admin()?;
    let now = state.clock.now_ns();
    let mut tx = state.db.begin().await?;
    if organisation_logo::remove(&mut tx, staff.org.id).await? {
        store::audit::record(
            &mut tx,
            staff.org.id,
            &staff.actor(),
            "organisation.remove_logo",
            "organisation",
            Some(staff.org.id),
            serde_json::json!({}),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/o/{}/admin/settings/logo?saved=removed",
        staff.org.slug
    ))
    .into_response())
}
