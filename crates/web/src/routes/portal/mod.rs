//! The patient portal, at `/o/{slug}/portal/…`: the home page here, the doors in
//! [`account`], booking and My appointments in [`booking`].

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use tower_sessions::Session;
use utoipa_axum::router::OpenApiRouter;

use crate::auth::patient::{PATIENT_KEY, PatientSession};
use crate::auth::staff::Org;
use crate::error::{AppError, PageError};
use crate::pages::PortalLayout;
use crate::state::AppState;

pub(crate) mod account;
pub(crate) mod booking;

/// The pages.
pub(crate) fn pages() -> Router<AppState> {
    Router::new()
        .route("/o/{slug}/portal", get(home))
        // The organisation's own address leads to its portal.
        .route(
            "/o/{slug}",
            get(|Org(org): Org| async move {
                axum::response::Redirect::to(&format!("/o/{}/portal", org.slug))
            }),
        )
        .merge(account::pages())
        .merge(booking::pages())
}

/// The API.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(account::api())
        .merge(booking::api())
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/home.html")]
struct Home {
    layout: PortalLayout,
    welcome: String,
    services: Vec<store::portal::PortalService>,
    signed_in: bool,
    signup: bool,
    /// Whether visitors may see the open times before signing in.
    public_times: bool,
}

async fn home(
    State(state): State<AppState>,
    Org(org): Org,
    session: Session,
) -> Result<Home, PageError> {
    let who = session
        .get::<PatientSession>(PATIENT_KEY)
        .await
        .map_err(AppError::internal)?;
    let mut conn = state.db.conn().await?;
    let name = match who {
        Some(w) if w.org_id == org.id => store::patient::get(conn.exec(), org.id, w.patient_id)
            .await
            .ok()
            .map(|p| p.first_name),
        _ => None,
    };
    Ok(Home {
        layout: PortalLayout::new(&org, &session, name.as_deref(), "Welcome", "home").await?,
        welcome: org.portal_welcome.clone(),
        services: store::portal::services(conn.exec(), org.id).await?,
        signed_in: name.is_some(),
        signup: org.allow_public_signup,
        public_times: org.portal_public_times,
    })
}
