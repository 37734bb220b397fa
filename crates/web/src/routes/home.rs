//! `/`: what Openslot is, and where to go.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::routing::get;

use crate::pages::Layout;
use crate::state::AppState;

/// The routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/", get(home))
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct Home {
    layout: Layout,
}

async fn home() -> Home {
    Home {
        layout: Layout {
            title: "Welcome".into(),
            ..Layout::default()
        },
    }
}
