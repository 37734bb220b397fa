//! Errors of the web layer. API handlers return [`AppError`], which answers JSON
//! (`{"error": {"code", "message", "field"}}`); page handlers return [`PageError`],
//! which answers an HTML page. 5xx bodies are generic; the cause is logged.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An error an API handler returns.
#[derive(Debug)]
pub enum AppError {
    /// No such thing here (also: another organisation's or patient's).
    NotFound(String),
    /// Not signed in.
    Unauthorized,
    /// Signed in, but not allowed.
    Forbidden(String),
    /// Bad input, naming the field; nothing changed.
    Invalid {
        /// The field.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The booking does not fit (the engine's reason), or the state changed.
    Conflict {
        /// Why.
        message: String,
        /// Machine-readable details (rule, reasons, next slots…).
        details: serde_json::Value,
    },
    /// The input repeats what another record already holds (a patient's email address),
    /// naming the field; nothing changed. `details` names the records; sending the
    /// request again with the confirmation it asks for saves it anyway.
    Duplicate {
        /// The field.
        field: String,
        /// What it repeats, and how to save anyway.
        message: String,
        /// Machine-readable: the records it repeats.
        details: serde_json::Value,
    },
    /// The request's body is larger than this server accepts from this caller.
    TooLarge,
    /// The request's body is not JSON (by its `Content-Type`).
    UnsupportedMediaType,
    /// Too many attempts; try again after this many seconds.
    TooManyRequests {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// Anything else: logged, answered with a generic 500.
    Internal(String),
}

impl AppError {
    /// An internal error from anything displayable (logged, never shown).
    pub fn internal(e: impl std::fmt::Display) -> Self {
        AppError::Internal(e.to_string())
    }

    /// Bad input naming `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict { .. } | AppError::Duplicate { .. } => StatusCode::CONFLICT,
            AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A short machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound(_) => "not_found",
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::Invalid { .. } => "invalid",
            AppError::Conflict { .. } => "conflict",
            AppError::Duplicate { .. } => "duplicate",
            AppError::TooLarge => "too_large",
            AppError::UnsupportedMediaType => "unsupported_media_type",
            AppError::TooManyRequests { .. } => "too_many_requests",
            AppError::Internal(_) => "internal",
        }
    }

    /// The message shown to people.
    pub fn message(&self) -> String {
        match self {
            AppError::NotFound(what) => format!("{what} not found"),
            AppError::Unauthorized => {
                "sign in first, or send a live API key of this organisation as Authorization: Bearer"
                    .to_owned()
            }
            AppError::Forbidden(why) => why.clone(),
            AppError::Invalid { field, message } => format!("{field}: {message}"),
            AppError::Conflict { message, .. } => message.clone(),
            AppError::Duplicate { field, message, .. } => format!("{field}: {message}"),
            AppError::TooLarge => "the request is too large".to_owned(),
            AppError::UnsupportedMediaType => {
                "send the body as JSON, with Content-Type: application/json".to_owned()
            }
            AppError::TooManyRequests { retry_after } => {
                format!("too many attempts; try again in {retry_after} seconds")
            }
            AppError::Internal(_) => {
                "something went wrong on our side; please try again".to_owned()
            }
        }
    }

    fn log(&self) {
        if let AppError::Internal(cause) = self {
            tracing::error!(%cause, "internal error");
        }
    }

    fn retry_after(&self, response: &mut Response) {
        if let AppError::TooManyRequests { retry_after } = self
            && let Ok(value) = HeaderValue::from_str(&retry_after.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
}

impl From<store::Error> for AppError {
    fn from(e: store::Error) -> Self {
        match e {
            store::Error::NotFound(what) => AppError::NotFound(what.to_owned()),
            store::Error::Invalid { field, message } => AppError::Invalid { field, message },
            // The API reports one field at a time: the first, in field order.
            store::Error::InvalidFields(all) => {
                let (field, message) = all.into_iter().next().unwrap_or_default();
                AppError::Invalid { field, message }
            }
            store::Error::Forbidden(why) => AppError::Forbidden(why.to_owned()),
            store::Error::Conflict(c) => {
                let details = match &c {
                    store::Conflict::NeedsOverride { reasons } => {
                        serde_json::json!({"needs_override": reasons})
                    }
                };
                AppError::Conflict {
                    message: c.to_string(),
                    details,
                }
            }
            store::Error::TooLate { until_ns } => AppError::Conflict {
                message: "it is too late to do this online; please call the clinic".to_owned(),
                details: serde_json::json!({"until_ns": until_ns}),
            },
            e @ (store::Error::Database(_) | store::Error::Migrate(_)) => {
                AppError::Internal(e.to_string())
            }
        }
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: String,
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a serde_json::Value>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let field = match &self {
            AppError::Invalid { field, .. } | AppError::Duplicate { field, .. } => {
                Some(field.as_str())
            }
            _ => None,
        };
        let details = match &self {
            AppError::Conflict { details, .. } | AppError::Duplicate { details, .. } => {
                Some(details)
            }
            _ => None,
        };
        let body = Body {
            error: Inner {
                code: self.code(),
                message: match &self {
                    AppError::Invalid { message, .. } | AppError::Duplicate { message, .. } => {
                        message.clone()
                    }
                    other => other.message(),
                },
                field,
                details,
            },
        };
        let mut response = (self.status(), Json(body)).into_response();
        self.retry_after(&mut response);
        if matches!(self, AppError::Unauthorized) {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"openslot\""),
            );
        }
        // A page route that answered with an `AppError` (an extractor's rejection) still
        // gets the HTML page, from this ([`page_errors_are_html`]).
        response.extensions_mut().insert(self.said());
        response
    }
}

/// The body of every API error, as the OpenAPI document describes it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorDto {
    /// What went wrong.
    pub error: ErrorDetailDto,
}

/// One API error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorDetailDto {
    /// A short machine-readable code (`not_found`, `invalid`, `bad_request`…).
    pub code: String,
    /// What to tell a person.
    pub message: String,
    /// The offending field, when there is one.
    pub field: Option<String>,
    /// Machine-readable details of a conflict (rule, reasons, next slots…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

/// Gives every error answer under `/api/` the API's error body, keeping its status:
/// the answers axum and tower-http write themselves — a path id that is not a number,
/// a method the route does not have (405), a body over the limit announced by its
/// `Content-Length` (413), a cross-site request refused by its `Origin` or
/// `Sec-Fetch-Site` (403), a path no route has (the HTML 404 page) — whose bodies are
/// plain text, HTML or empty. Applied outside every other layer, so nothing escapes it.
pub(crate) async fn api_errors_are_json(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    let status = response.status();
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !api || json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let plain = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    let text = if plain {
        axum::body::to_bytes(body, 64 * 1024)
            .await
            .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
            .unwrap_or_default()
    } else {
        String::new()
    };
    let (code, said) = match status {
        StatusCode::BAD_REQUEST => ("bad_request", "the request does not parse"),
        StatusCode::UNAUTHORIZED => ("unauthorized", "sign in first"),
        StatusCode::FORBIDDEN => (
            "forbidden",
            "requests that change state must come from this site (the Origin and Sec-Fetch-Site headers say they do not)",
        ),
        StatusCode::NOT_FOUND => ("not_found", "no such API endpoint"),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this endpoint does not take this method",
        ),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long"),
        StatusCode::PAYLOAD_TOO_LARGE => ("too_large", "the request is too large"),
        StatusCode::URI_TOO_LONG => ("uri_too_long", "the address is too long"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "send the body as JSON, with Content-Type: application/json",
        ),
        StatusCode::UNPROCESSABLE_ENTITY => ("invalid", "the request is not valid"),
        StatusCode::TOO_MANY_REQUESTS => ("too_many_requests", "too many attempts"),
        s if s.is_server_error() => (
            "internal",
            "something went wrong on our side; please try again",
        ),
        _ => ("bad_request", "the request was refused"),
    };
    // The text of a 4xx plain answer says what did not parse; a 5xx's never goes out.
    let message = if text.is_empty() || status.is_server_error() {
        said.to_owned()
    } else {
        text
    };
    let body = ErrorDto {
        error: ErrorDetailDto {
            code: code.to_owned(),
            message,
            field: None,
            details: None,
        },
    };
    with_headers_of((status, Json(body)).into_response(), &parts.headers)
}

/// What an error said, kept on its response so that [`page_errors_are_html`] can
/// render the page for the address it answered.
#[derive(Clone, Debug)]
pub(crate) struct Said {
    message: String,
    /// The organisation in the address does not exist: no way back into it.
    unknown_organisation: bool,
}

impl AppError {
    fn said(&self) -> Said {
        Said {
            message: self.message(),
            unknown_organisation: matches!(self, AppError::NotFound(what) if what == "organisation"),
        }
    }
}

/// Gives every error answer of a page (any address outside `/api/`, `/static/` and the
/// probes) the HTML error page, keeping its status: a page whose extractor answered
/// with JSON (an unknown organisation), the plain text axum writes for a path id that
/// is not a number (a 404 here: there is no such page), the empty 403 of a cross-site
/// post, a 405. And every error page links back to where its reader came from: the
/// staff pages or the portal of the organisation in the address.
pub(crate) async fn page_errors_are_html(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let page = !["/api/", "/static/"].iter().any(|p| path.starts_with(p))
        && !["/healthz", "/metrics"].contains(&path.as_str());
    let response = next.run(request).await;
    let status = response.status();
    if !page || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let said = response.extensions().get::<Said>().cloned();
    if html && said.is_none() {
        return response;
    }
    let (parts, body) = response.into_parts();
    let (status, said) = match said {
        Some(said) => (status, said),
        None => {
            let text = axum::body::to_bytes(body, 64 * 1024)
                .await
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            let no_such_page = status == StatusCode::BAD_REQUEST && text.starts_with("Invalid URL");
            let status = if no_such_page {
                StatusCode::NOT_FOUND
            } else {
                status
            };
            let message = match status {
                StatusCode::NOT_FOUND => "page not found",
                StatusCode::FORBIDDEN => {
                    "a change must be sent from this site's own pages: go back, reload the page and try again"
                }
                StatusCode::METHOD_NOT_ALLOWED => "this page cannot be used that way",
                StatusCode::PAYLOAD_TOO_LARGE => "what was sent is too large",
                StatusCode::REQUEST_TIMEOUT => "the request took too long: try again",
                _ => "something went wrong",
            };
            let said = Said {
                message: message.to_owned(),
                unknown_organisation: false,
            };
            (status, said)
        }
    };
    let page = ErrorPage::for_path(status, said.message, &path, said.unknown_organisation);
    with_headers_of((status, page).into_response(), &parts.headers)
}

/// `response` (a new error body) with every header of the answer it replaces but that
/// body's own: a session's cookie, `Retry-After`, `Allow`, `Connection`.
fn with_headers_of(mut response: Response, original: &HeaderMap) -> Response {
    for (name, value) in original {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            response.headers_mut().append(name.clone(), value.clone());
        }
    }
    response
}

/// An error a page handler returns: the same errors, answered as an HTML page.
#[derive(Debug)]
pub(crate) struct PageError(pub AppError);

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        PageError(e)
    }
}

impl From<store::Error> for PageError {
    fn from(e: store::Error) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let error = self.0;
        error.log();
        let page = ErrorPage::for_path(error.status(), error.message(), "/", false);
        let mut response = (error.status(), page).into_response();
        error.retry_after(&mut response);
        // [`page_errors_are_html`] renders it again with the way back the address gives.
        response.extensions_mut().insert(error.said());
        response
    }
}

/// The page a [`PageError`] renders (and the 414 the router answers before any
/// handler runs): the status's reason as its heading, then the message. The status
/// itself goes with the page in the response.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "error.html")]
pub(crate) struct ErrorPage {
    /// The status's reason phrase ("Not Found"): the page's title and heading.
    pub title: String,
    /// What went wrong, for the person reading ([`AppError::message`]).
    pub message: String,
    /// Where the page's one link goes, and what it says.
    pub back: (String, String),
}

impl ErrorPage {
    /// The page for `status` at `path`: its link goes back to the staff pages or the
    /// portal of the organisation in the path (the start page when there is none, or
    /// it does not exist).
    pub(crate) fn for_path(
        status: StatusCode,
        message: String,
        path: &str,
        unknown_organisation: bool,
    ) -> Self {
        let mut segments = path.trim_start_matches('/').split('/');
        let back = match (segments.next(), segments.next(), segments.next()) {
            (Some("o"), Some(slug), area) if !slug.is_empty() && !unknown_organisation => {
                if area == Some("admin") {
                    (
                        format!("/o/{slug}/admin"),
                        "Back to the staff pages".to_owned(),
                    )
                } else {
                    (format!("/o/{slug}/portal"), "Back to the portal".to_owned())
                }
            }
            _ => ("/".to_owned(), "Back to the start page".to_owned()),
        };
        ErrorPage {
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            message,
            back,
        }
    }
}
