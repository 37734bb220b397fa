//! (to be written)

use axum::Router;
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// The pages.
pub fn pages() -> Router<AppState> {
    Router::new()
}

/// The API.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
}
