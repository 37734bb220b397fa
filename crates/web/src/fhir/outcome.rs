//! Errors as FHIR `OperationOutcome`s, with their HTTP status: the handlers' own
//! ([`Outcome`]), and every error answer under `/o/{slug}/fhir/` that something else
//! wrote — the API key's 401/403/429, axum's 405 or unparsable path, a body over the
//! limit — rewritten by [`outcomes_for_fhir_errors`], keeping status and headers, and
//! marked [`OwnFormat`] so that the pages' error layer leaves them be.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::error::{AppError, OwnFormat};

use super::resource::FHIR_JSON;

/// One FHIR error: the status, the issue's code (from the R4 `issue-type` value set)
/// and what to tell a person, with the search parameter or element at fault.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) diagnostics: String,
    pub(crate) expression: Option<String>,
}

impl Outcome {
    /// A bad or missing search parameter or element (422 `invalid`), naming it.
    pub(crate) fn invalid(expression: &str, diagnostics: impl Into<String>) -> Outcome {
        Outcome {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid",
            diagnostics: diagnostics.into(),
            expression: Some(expression.to_owned()),
        }
    }

    /// A search that would cost too much to answer (422 `too-costly`), naming the
    /// parameter to narrow.
    pub(crate) fn too_costly(expression: &str, diagnostics: impl Into<String>) -> Outcome {
        Outcome {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "too-costly",
            diagnostics: diagnostics.into(),
            expression: Some(expression.to_owned()),
        }
    }

    /// No such resource here (404 `not-found`); another organisation's is not here.
    pub(crate) fn not_found(what: impl Into<String>) -> Outcome {
        Outcome {
            status: StatusCode::NOT_FOUND,
            code: "not-found",
            diagnostics: format!("{} not found", what.into()),
            expression: None,
        }
    }

    /// The state does not allow it (409 `conflict`): the slot was taken, or it is too
    /// late to cancel.
    pub(crate) fn conflict(diagnostics: impl Into<String>) -> Outcome {
        Outcome {
            status: StatusCode::CONFLICT,
            code: "conflict",
            diagnostics: diagnostics.into(),
            expression: None,
        }
    }

    /// The resource as FHIR JSON.
    pub(crate) fn resource(&self) -> Value {
        let mut issue = json!({
            "severity": "error",
            "code": self.code,
            "diagnostics": self.diagnostics,
        });
        if let Some(expression) = &self.expression {
            issue["expression"] = json!([expression]);
        }
        json!({"resourceType": "OperationOutcome", "issue": [issue]})
    }
}

impl From<AppError> for Outcome {
    fn from(e: AppError) -> Self {
        let code = match &e {
            AppError::NotFound(_) => "not-found",
            AppError::Unauthorized => "login",
            AppError::Forbidden(_) => "forbidden",
            AppError::Invalid { .. } | AppError::Duplicate { .. } => "invalid",
            AppError::Conflict { .. } => "conflict",
            AppError::TooLarge => "too-long",
            AppError::UnsupportedMediaType => "not-supported",
            AppError::TooManyRequests { .. } => "throttled",
            AppError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                "exception"
            }
        };
        let expression = match &e {
            AppError::Invalid { field, .. } | AppError::Duplicate { field, .. } => {
                Some(field.clone())
            }
            _ => None,
        };
        Outcome {
            status: e.status(),
            code,
            diagnostics: e.message(),
            expression,
        }
    }
}

impl From<store::Error> for Outcome {
    fn from(e: store::Error) -> Self {
        Outcome::from(AppError::from(e))
    }
}

impl IntoResponse for Outcome {
    fn into_response(self) -> Response {
        (
            self.status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON))],
            self.resource().to_string(),
        )
            .into_response()
    }
}

/// A path under the FHIR base that names no resource type or operation served here.
pub(super) async fn no_such_resource() -> Outcome {
    Outcome {
        status: StatusCode::NOT_FOUND,
        code: "not-supported",
        diagnostics: "this server does not serve that resource type or operation here; \
            GET metadata says what it serves"
            .to_owned(),
        expression: None,
    }
}

/// Rewrites every error answer under the FHIR base that is not FHIR JSON already into
/// an `OperationOutcome` with the same status and headers: the JSON API's error body
/// (an extractor's refusal) keeps its message and field, anything else says what its
/// status means.
pub(crate) async fn outcomes_for_fhir_errors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let fhir = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(FHIR_JSON));
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    if fhir {
        let mut response = response;
        response.extensions_mut().insert(OwnFormat);
        return response;
    }
    let (parts, body) = response.into_parts();
    let plain = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let said: Option<Value> = serde_json::from_slice(&bytes).ok();
    let error = said.as_ref().and_then(|v| v.get("error"));
    let message = error
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let field = error
        .and_then(|e| e.get("field"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let (code, default) = match status {
        StatusCode::BAD_REQUEST => ("structure", "the request does not parse"),
        StatusCode::UNAUTHORIZED => (
            "login",
            "send an API key of this organisation: Authorization: Bearer osk_…",
        ),
        StatusCode::FORBIDDEN => ("forbidden", "this API key may not do this"),
        StatusCode::NOT_FOUND => ("not-found", "not found"),
        StatusCode::METHOD_NOT_ALLOWED => {
            ("not-supported", "this resource does not take this method")
        }
        StatusCode::PAYLOAD_TOO_LARGE => ("too-long", "the request is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("not-supported", "send the body as application/fhir+json")
        }
        StatusCode::TOO_MANY_REQUESTS => ("throttled", "too many requests"),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long"),
        StatusCode::UNPROCESSABLE_ENTITY => ("invalid", "the request is not valid"),
        s if s.is_server_error() => (
            "exception",
            "something went wrong on our side; please try again",
        ),
        _ => ("processing", "the request was refused"),
    };
    // A plain-text 4xx says what did not parse; a 5xx's text never goes out.
    let text = String::from_utf8_lossy(&bytes).trim().to_owned();
    let diagnostics = match message {
        // The JSON API's 401 asks a person to sign in; FHIR callers send a key.
        Some(_) if status == StatusCode::UNAUTHORIZED => default.to_owned(),
        Some(m) if !status.is_server_error() => m,
        _ if plain && !status.is_server_error() && !text.is_empty() && text.len() < 500 => text,
        _ => default.to_owned(),
    };
    let outcome = Outcome {
        status,
        code,
        diagnostics,
        expression: field,
    };
    let mut rewritten = crate::error::with_headers_of(outcome.into_response(), &parts.headers);
    rewritten.extensions_mut().insert(OwnFormat);
    rewritten
}
