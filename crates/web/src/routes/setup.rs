//! The setup index: every admin page, in the order a new clinic needs them.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::routing::get;

use crate::auth::staff::StaffPage;
use crate::error::PageError;
use crate::pages::Layout;
use crate::state::AppState;

/// The routes.
pub(crate) fn pages() -> Router<AppState> {
    Router::new().route("/o/{slug}/admin/setup", get(index))
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/setup.html")]
struct Setup {
    layout: Layout,
}

async fn index(StaffPage(staff): StaffPage) -> Result<Setup, PageError> {
    staff.admin()?;
    Ok(Setup {
        layout: Layout::staff(&staff, "Setup", "setup").await?,
    })
}
