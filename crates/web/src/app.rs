//! The HTTP application: routes and middleware ([`app`]), and serving it ([`serve`]).

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::csrf::CsrfLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

use crate::auth::sessions::DbSessionStore;
use crate::error::{AppError, PageError};
use crate::state::AppState;

/// The largest request body accepted (an imported scenario can be large).
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// Content Security Policy: everything from this server, nothing inline, no framing.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; worker-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The whole application.
pub fn app(state: AppState) -> Router {
    let (api, openapi) = crate::routes::api_document();
    let openapi_json =
        serde_json::to_string_pretty(&openapi).expect("the OpenAPI document serializes");
    let api = api
        .route(
            "/api/openapi.json",
            axum::routing::get(move || async move {
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    openapi_json.clone(),
                )
            }),
        )
        .layer(middleware::from_fn_with_state(state.clone(), api_csrf))
        .layer(middleware::from_fn(crate::error::json_rejections));
    let pages = crate::routes::page_router()
        .layer(middleware::from_fn_with_state(state.clone(), form_csrf));

    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.clone()))
        .with_name("openslot_session")
        .with_same_site(SameSite::Lax)
        .with_http_only(true)
        .with_secure(state.config.secure_cookies)
        .with_expiry(Expiry::OnInactivity(crate::auth::sessions::IDLE_LIFETIME));

    Router::new()
        .merge(pages)
        .merge(api)
        .merge(crate::routes::public_router())
        .fallback(|| async { PageError(AppError::NotFound("page".into())) })
        .layer(sessions)
        .layer(CsrfLayer::new())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(CatchPanicLayer::custom(|_| {
            PageError(AppError::internal("a handler panicked")).into_response()
        }))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_responses,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves the application on `listener` until `shutdown` completes, then finishes the
/// requests in flight.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

async fn count_responses(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    state.metrics.response(response.status().as_u16());
    response
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Every form post must carry the session's `_csrf` token.
async fn form_csrf(session: Session, request: Request, next: Next) -> Response {
    if !changes_state(request.method()) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes: Bytes = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return PageError(AppError::invalid("form", "the form is too large")).into_response();
        }
    };
    let token = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == "_csrf")
        .map(|(_, v)| v.into_owned());
    if let Err(e) = crate::auth::csrf::verify(&session, token.as_deref()).await {
        return PageError(e).into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Every API call that changes state must send the session's token as
/// `X-CSRF-Token` (from `GET /api/v1/orgs/{slug}/session`).
async fn api_csrf(session: Session, request: Request, next: Next) -> Response {
    if changes_state(request.method()) {
        let token = request
            .headers()
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if let Err(e) = crate::auth::csrf::verify(&session, token.as_deref()).await {
            return e.into_response();
        }
    }
    next.run(request).await
}
