//! Static files, compiled into the binary so a release is one file.

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::state::AppState;

/// `(name, content type, bytes)` of every static file.
const FILES: &[(&str, &str, &[u8])] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/app.css"),
    ),
    (
        "grid.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/grid.js"),
    ),
    (
        "alert.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/alert.js"),
    ),
    (
        "copy.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/copy.js"),
    ),
    (
        "icons.svg",
        "image/svg+xml",
        include_bytes!("../../static/icons.svg"),
    ),
    (
        "colour.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/colour.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../../static/favicon.svg"),
    ),
    (
        "book.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/book.js"),
    ),
    (
        "book.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/book.css"),
    ),
    (
        "pow.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/pow.js"),
    ),
    (
        "pow-worker.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/pow-worker.js"),
    ),
    (
        "pow-solver.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/pow-solver.js"),
    ),
    (
        "day-picker.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/day-picker.js"),
    ),
];

/// The routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/static/{file}", get(file))
        // What browsers ask for on their own, for a page that names no icon.
        .route(
            "/favicon.ico",
            get(|| async { Redirect::permanent("/static/favicon.svg") }),
        )
}

async fn file(Path(name): Path<String>) -> Response {
    match FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
