//! The HTTP application: routes and middleware ([`app`]), and serving it ([`serve`]).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{DefaultBodyLimit, FromRequest, MatchedPath, Request, State};
use axum::http::request::Parts;
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
use crate::auth::staff::{STAFF_KEY, StaffSession};
use crate::error::{AppError, PageError};
use crate::state::AppState;

/// The largest request body accepted from a signed-in staff member (a whole week's
/// availability grid, a large setup change).
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// The largest request body accepted from anyone else: sign-in, sign-up, a forgotten
/// password, a patient's booking need a few hundred bytes, and a stranger's request is
/// not read further than this before it is refused.
const SMALL_BODY_LIMIT: usize = 64 * 1024;

/// The longest address (path and query) accepted. No page or call needs more than a
/// few hundred bytes; past 64 KiB the HTTP library refuses the request itself, with
/// an empty 414 that no layer of ours sees.
const URI_LIMIT: usize = 8 * 1024;

/// Content Security Policy: everything from this server, nothing inline, no framing.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; worker-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The whole application: the staff and portal pages, the API with
/// `/api/openapi.json`, and the layers every request passes (sessions, CSRF, size and
/// time limits, security headers, response counts, tracing), behind the rewriting of
/// organisations' own host names (`clinic_host`).
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
        .layer(middleware::from_fn_with_state(state.clone(), api_input))
        .layer(middleware::from_fn_with_state(state.clone(), api_csrf))
        .merge(api_reference());
    let pages = crate::routes::page_router().layer(middleware::from_fn(page_input));

    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.clone()))
        .with_name("openslot_session")
        .with_same_site(SameSite::Lax)
        .with_http_only(true)
        .with_secure(state.config.secure_cookies)
        .with_expiry(Expiry::OnInactivity(crate::auth::sessions::IDLE_LIFETIME));

    let app = Router::new()
        .merge(pages)
        .merge(api)
        .merge(crate::routes::public_router())
        .fallback(no_such_route)
        // On an organisation's own host name, nothing of another organisation.
        .layer(middleware::from_fn(
            crate::clinic_host::only_its_organisation,
        ))
        // The handlers' own limit; `read_body` applies the caller's.
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            no_session_with_authorization,
        ))
        .layer(sessions)
        .layer(CsrfLayer::new())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(middleware::from_fn(uri_length))
        // What the layers inside refuse under a FHIR base (too large, too long, cross
        // site, too slow) is an OperationOutcome there too.
        .layer(middleware::from_fn(fhir_errors_outside))
        // Inside the security headers, which its pages get like any other.
        .layer(middleware::from_fn(crate::error::page_errors_are_html))
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
        .layer(middleware::from_fn(crate::error::api_errors_are_json))
        .layer(middleware::from_fn(close_after_unread_body))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_responses,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), wake_webhooks))
        .layer(TraceLayer::new_for_http())
        .with_state(state.clone());
    // Outside the router: a clinic's host name changes the path before routing.
    crate::clinic_host::serve_clinic_hosts(state, app)
}

/// The API reference at `/api/docs`: Swagger UI (its files vendored into the binary by
/// `utoipa-swagger-ui`, nothing from another site, so it works under the strict CSP
/// and offline) reading `/api/openapi.json`. "Authorize" takes an API key; calls made
/// from it with the browser's own session would also need the CSRF token, so the page
/// is for reading and for trying things with a key.
fn api_reference() -> Router<AppState> {
    use utoipa_swagger_ui::{Config, SwaggerUi};
    let router: Router<AppState> = Router::from(
        SwaggerUi::new("/api/docs").config(
            Config::new(["/api/openapi.json"])
                .try_it_out_enabled(false)
                .persist_authorization(false)
                .display_operation_id(false),
        ),
    );
    // The same policy as every page, but for the one `<style>` element Swagger UI's
    // bundle writes (its logo's colours), allowed by its hash: nothing else inline.
    router.layer(SetResponseHeaderLayer::overriding(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(API_REFERENCE_CSP),
    ))
}

/// [`CSP`] with the hash of Swagger UI's one inline style element.
const API_REFERENCE_CSP: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='; img-src 'self' data:; \
    connect-src 'self'; worker-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// [`crate::fhir::outcome::outcomes_for_fhir_errors`] for requests under an
/// organisation's FHIR base (`/o/{slug}/fhir/…`), around the layers that answer before
/// any route does.
async fn fhir_errors_outside(request: Request, next: Next) -> Response {
    let fhir = request
        .uri()
        .path()
        .strip_prefix("/o/")
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(_, rest)| rest == "fhir" || rest.starts_with("fhir/"));
    if fhir {
        crate::fhir::outcome::outcomes_for_fhir_errors(request, next).await
    } else {
        next.run(request).await
    }
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

/// Times the request and counts its answer by route template (never the address
/// itself: no ids or tokens in labels), method and status class. Layered on the router,
/// so it runs once the route is matched and sees its [`MatchedPath`].
async fn count_responses(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let method = request.method().clone();
    let response = next.run(request).await;
    state.metrics.response(
        route.as_ref().map(MatchedPath::as_str),
        &method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// No route has this address. One that differs from a page's only by a slash at its end
/// (`/o/demo/portal/`) is sent there; anything else is the 404 page.
async fn no_such_route(method: Method, uri: axum::http::Uri) -> Response {
    let path = uri.path();
    let trimmed = path.trim_end_matches('/');
    // Never `//host…` or a backslash: the answer must stay on this site.
    // The API answers what it is asked, slash or not.
    let on_this_site = trimmed.starts_with('/')
        && !trimmed.starts_with("//")
        && !trimmed.contains('\\')
        && !path.starts_with("/api/");
    if (method == Method::GET || method == Method::HEAD) && on_this_site && trimmed != path {
        let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
        return axum::response::Redirect::permanent(&format!("{trimmed}{query}")).into_response();
    }
    PageError(AppError::NotFound("page".into())).into_response()
}

/// Refuses an address longer than [`URI_LIMIT`] (414) before anything reads it.
async fn uri_length(request: Request, next: Next) -> Response {
    let length = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    if length <= URI_LIMIT {
        return next.run(request).await;
    }
    let page = crate::error::ErrorPage::for_path(
        StatusCode::URI_TOO_LONG,
        format!("the address is too long (at most {URI_LIMIT} bytes)"),
        "/",
        false,
    );
    (StatusCode::URI_TOO_LONG, page).into_response()
}

/// Answers a request whose body was not read to its end (refused before reading it, or
/// past its limit) with `Connection: close`. hyper closes such a connection after the
/// answer anyway, since the unread bytes stand where the next request would begin;
/// saying so keeps a client from sending its next request down a connection that is
/// closing (which it would see fail half-way).
async fn close_after_unread_body(request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let finished = Arc::new(AtomicBool::new(body.is_end_stream()));
    let body = Body::new(WatchedBody {
        inner: body,
        finished: finished.clone(),
    });
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if !finished.load(Ordering::Acquire) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// A request body that records when it has been read to its end.
struct WatchedBody {
    inner: Body,
    finished: Arc<AtomicBool>,
}

impl HttpBody for WatchedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.finished.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Reads a body that changes state, up to what the caller may send: [`BODY_LIMIT`]
/// for a signed-in staff member or an authenticated API key, [`SMALL_BODY_LIMIT`] for
/// anyone else (413 past it).
async fn read_body(session: &Session, key: bool, body: Body) -> Result<Bytes, AppError> {
    let staff = key
        || session
            .get::<StaffSession>(STAFF_KEY)
            .await
            .map_err(AppError::internal)?
            .is_some();
    let limit = if staff { BODY_LIMIT } else { SMALL_BODY_LIMIT };
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        if e.into_inner().is::<http_body_util::LengthLimitError>() {
            AppError::TooLarge
        } else {
            AppError::invalid("body", "the body could not be read")
        }
    })
}

/// Refuses a NUL character anywhere in a request, before any handler sees it: in the
/// path (nothing is named so: 404), in a query parameter or a field of the body (422
/// naming it). PostgreSQL cannot store NUL in text while SQLite can, so without this the
/// same request would be stored on one backend and fail with a 500 on the other; here
/// every field of every route is covered, including ones added later.
fn refuse_nul(parts: &Parts, body: Option<&Bytes>) -> Result<(), AppError> {
    let path = parts.uri.path();
    if path.contains("%00") || path.contains('\0') {
        return Err(AppError::NotFound("page".into()));
    }
    let query = parts.uri.query().unwrap_or_default();
    if let Some(field) = crate::form::nul_in_pairs(query.as_bytes()) {
        return Err(crate::form::nul_refused(field));
    }
    let Some(body) = body else {
        return Ok(());
    };
    if body.contains(&0) {
        return Err(crate::form::nul_refused("body".to_owned()));
    }
    // What the handler parses decides the scanner, not the Content-Type the client
    // claims: the API reads JSON bodies, the pages read forms (whatever the header says).
    let field = if path.starts_with("/api/") {
        crate::form::nul_in_json(body)
    } else {
        crate::form::nul_in_pairs(body)
    };
    field.map_or(Ok(()), |field| Err(crate::form::nul_refused(field)))
}

/// Every form post must carry the session's `_csrf` token. A session that holds no
/// token cannot send a right one, so its post is refused before its body is read; the
/// body of any other is read only up to what the session may send ([`read_body`]).
/// Then no NUL anywhere ([`refuse_nul`]).
async fn page_input(session: Session, request: Request, next: Next) -> Response {
    match page_checked(&session, request).await {
        Ok(request) => next.run(request).await,
        Err(e) => PageError(e).into_response(),
    }
}

async fn page_checked(session: &Session, request: Request) -> Result<Request, AppError> {
    if !changes_state(request.method()) {
        let (parts, body) = request.into_parts();
        refuse_nul(&parts, None)?;
        return Ok(Request::from_parts(parts, body));
    }
    if !crate::auth::csrf::issued(session).await? {
        return Err(crate::auth::csrf::refused());
    }
    let (parts, body) = request.into_parts();
    let bytes = read_body(session, false, body).await?;
    if is_multipart(&parts) {
        // A file upload (the clinic's logo): its token is a text field of the multipart
        // body, and only the path and query are scanned for NUL, since an image holds
        // NUL bytes; the handler reads the parts it expects and nothing else.
        let token = multipart_text(&parts, &bytes, "_csrf").await;
        crate::auth::csrf::verify(session, token.as_deref()).await?;
        refuse_nul(&parts, None)?;
        return Ok(Request::from_parts(parts, Body::from(bytes)));
    }
    let token = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == "_csrf")
        .map(|(_, v)| v.into_owned());
    crate::auth::csrf::verify(session, token.as_deref()).await?;
    refuse_nul(&parts, Some(&bytes))?;
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// Whether a request's body is `multipart/form-data` (a form with a file).
fn is_multipart(parts: &Parts) -> bool {
    parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// The text field `name` of a multipart body (not a file), if it has one.
async fn multipart_text(parts: &Parts, bytes: &Bytes, name: &str) -> Option<String> {
    let request = Request::from_parts(parts.clone(), Body::from(bytes.clone()));
    let mut multipart = axum::extract::Multipart::from_request(request, &())
        .await
        .ok()?;
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some(name) && field.file_name().is_none() {
            return field.text().await.ok();
        }
    }
    None
}

/// A request that sends an `Authorization` header (an API key) is never also the
/// browser's session: its handlers get an empty session of their own, which is never
/// saved, so no cookie can lend a key's request a person's identity or the other way.
async fn no_session_with_authorization(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    if crate::auth::api_key::has_authorization(request.headers()) {
        let store = Arc::new(DbSessionStore::new(state));
        request
            .extensions_mut()
            .insert(Session::new(None, store, None));
    }
    next.run(request).await
}

/// Every API call that changes state must send the session's token as
/// `X-CSRF-Token` (from `GET /api/v1/orgs/{slug}/session`), checked before its body is
/// read. A call with an API key needs none: no cookie is involved, so no other site can
/// make a browser send it.
async fn api_csrf(session: Session, request: Request, next: Next) -> Response {
    if changes_state(request.method())
        && !crate::auth::api_key::has_authorization(request.headers())
    {
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

/// An API call's body, read only up to what the caller may send ([`read_body`]), and
/// no NUL anywhere ([`refuse_nul`]). A call to an organisation's API with an API key is
/// authenticated, and its key's scope checked against the route, before its body is
/// read (the OpenAPI document, which names no organisation, is public either way).
async fn api_input(
    State(state): State<AppState>,
    session: Session,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let checked = async {
        let organisations = parts
            .extensions
            .get::<axum::extract::MatchedPath>()
            .is_some_and(|m| m.as_str().starts_with(crate::auth::api_key::API_BASE));
        let key = if organisations && crate::auth::api_key::has_authorization(&parts.headers) {
            Some(crate::auth::api_key::for_route(&mut parts, &state).await?)
        } else {
            None
        };
        if changes_state(&parts.method) {
            let bytes = read_body(&session, key.is_some(), body).await?;
            refuse_nul(&parts, Some(&bytes))?;
            Ok::<_, AppError>(Body::from(bytes))
        } else {
            refuse_nul(&parts, None)?;
            Ok(body)
        }
    };
    match checked.await {
        Ok(body) => next.run(Request::from_parts(parts, body)).await,
        Err(e) => e.into_response(),
    }
}

/// Wakes the webhook sender after a request that may have changed something: whatever
/// changed was audited, and its webhook event queued, in the request's transaction,
/// which has committed by the time the answer is made.
async fn wake_webhooks(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let changes = !request.method().is_safe();
    let response = next.run(request).await;
    if changes {
        state.webhooks.notify();
    }
    response
}
