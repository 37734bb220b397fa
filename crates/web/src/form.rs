//! HTML form bodies, read as name/value pairs, and errors shown next to their fields;
//! JSON bodies and query strings of the API, whose errors name their field too; and the
//! NUL character, refused in every field of every request before any handler sees it.
//!
//! Form fields are strings, checked by the handler, so a bad value gets a message that
//! names its field instead of a generic 400.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::error::{AppError, PageError};

/// A submitted `application/x-www-form-urlencoded` body.
#[derive(Clone, Debug, Default)]
pub(crate) struct FormData {
    fields: Vec<(String, String)>,
}

impl FormData {
    /// Parses a body. It never fails: bytes that are not UTF-8 become U+FFFD, and the
    /// handler's checks refuse what makes no sense.
    pub(crate) fn parse(body: &[u8]) -> Self {
        FormData {
            fields: form_urlencoded::parse(body).into_owned().collect(),
        }
    }

    /// The first value of `name`, trimmed ("" when absent).
    pub(crate) fn get(&self, name: &str) -> String {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    }

    /// The first value of `name` exactly as sent ("" when absent): passwords, whose
    /// spaces count, the same as through the API.
    pub(crate) fn secret(&self, name: &str) -> String {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// The first value of `name`, or `None` when absent or blank.
    pub(crate) fn optional(&self, name: &str) -> Option<String> {
        Some(self.get(name)).filter(|v| !v.is_empty())
    }

    /// Every value of `name` (checkbox lists, multi-selects).
    pub(crate) fn all(&self, name: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }

    /// Whether a checkbox was ticked.
    pub(crate) fn checked(&self, name: &str) -> bool {
        self.fields
            .iter()
            .any(|(k, v)| k == name && !v.is_empty() && v != "off" && v != "false")
    }

    /// Every pair, in order.
    pub(crate) fn pairs(&self) -> &[(String, String)] {
        &self.fields
    }
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, PageError> {
        // Only the logo's upload is multipart, and it reads its parts itself. A form
        // wrapped as multipart would pass the page middleware's checks for an upload
        // (its CSRF token among the parts, no NUL scan of a file's bytes) and then be
        // read here as a plain form: it is refused instead.
        let multipart = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("multipart/")
            });
        if multipart {
            return Err(PageError(AppError::invalid(
                "form",
                "this form is sent as application/x-www-form-urlencoded, not multipart",
            )));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| PageError(AppError::invalid("form", e.body_text())))?;
        Ok(FormData::parse(&bytes))
    }
}

/// Messages to show next to form fields, by field name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct FieldErrors(BTreeMap<String, String>);

impl FieldErrors {
    /// No errors yet: a form shown for the first time.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Records an error for `field` (the first one per field is kept).
    pub(crate) fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.entry(field.into()).or_insert_with(|| message.into());
    }

    /// The error of `field`, if any (templates show it next to the field).
    pub(crate) fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    /// Whether `field` has an error (templates set `aria-invalid`).
    pub(crate) fn has(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }

    /// Whether there is no error.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every error, in field order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The API's answer for these errors: the first field's, as a 422 naming it (the
    /// API reports one field at a time, the pages all of them).
    pub(crate) fn into_api_error(self) -> AppError {
        let (field, message) = self.0.into_iter().next().unwrap_or_default();
        AppError::invalid(field, message)
    }

    /// Records a store error against its field, or returns it when it is not about a
    /// field.
    pub(crate) fn absorb(&mut self, e: store::Error) -> Result<(), PageError> {
        match e {
            store::Error::Invalid { field, message } => {
                self.add(field, message);
                Ok(())
            }
            store::Error::InvalidFields(all) => {
                for (field, message) in all {
                    self.add(field, message);
                }
                Ok(())
            }
            other => Err(other.into()),
        }
    }

    /// Records the problems a store check finds in an input the form could not
    /// wholly read, so that the page shows every field's error at once, not the
    /// unreadable field's first and the others on the next submit. Nothing is saved:
    /// the check only reads its input.
    pub(crate) fn also<T>(&mut self, check: store::Result<T>) -> Result<(), PageError> {
        match check {
            Ok(_) => Ok(()),
            Err(e) => self.absorb(e),
        }
    }
}

/// A number from a form field, or an error naming the field in a sentence ("Enter
/// the default duration as a whole number, e.g. 30."): `what` is the field in words,
/// lower case, and `example` a value that fits.
pub(crate) fn number(
    errors: &mut FieldErrors,
    form: &FormData,
    name: &str,
    what: &str,
    example: i64,
) -> Option<i64> {
    let value = form.get(name);
    match value.parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.add(
                name,
                format!("Enter {what} as a whole number, e.g. {example}."),
            );
            None
        }
    }
}

/// A JSON request body of the API. Unlike axum's `Json`, whose rejections are plain
/// text, a body that is not JSON or does not fit `T` is refused like any other bad
/// input: 422 with `{"error": {"code", "message", "field"}}`, naming the field (its
/// path, e.g. `schedule_type_ids[1]`) and saying in words what it must be, and nothing
/// is changed. A body sent as something else than JSON is 415, one over the limit 413.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .is_some_and(|v| v == "application/json" || v.ends_with("+json"));
        if !json {
            return Err(AppError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::TooLarge
            } else {
                AppError::invalid("body", e.body_text())
            }
        })?;
        let mut json = serde_json::Deserializer::from_slice(&bytes);
        let value: T = serde_path_to_error::deserialize(&mut json).map_err(json_error)?;
        json.end()
            .map_err(|e| AppError::invalid("body", not_json(&e)))?;
        Ok(JsonBody(value))
    }
}

/// The query string of an API call, read into `T`: a parameter that is missing or does
/// not fit is refused with 422 naming it and saying in words what it must be (axum's
/// `Query` answers a plain-text 400 in serde's words).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        query(parts).map(QueryParams)
    }
}

/// The query string of a page, read into `T`, like [`QueryParams`] but refused with
/// the error page.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PageQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for PageQuery<T> {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, PageError> {
        Ok(PageQuery(query(parts)?))
    }
}

fn query<T: DeserializeOwned>(parts: &Parts) -> Result<T, AppError> {
    let text = parts.uri.query().unwrap_or_default();
    let pairs = serde_urlencoded::Deserializer::new(form_urlencoded::parse(text.as_bytes()));
    serde_path_to_error::deserialize(pairs)
        .map_err(|e| field_error(&e.path().to_string(), &e.inner().to_string()))
}

/// The field a JSON error is about, and what is wrong, in the API's error shape.
fn json_error(e: serde_path_to_error::Error<serde_json::Error>) -> AppError {
    use serde_json::error::Category;
    match e.inner().classify() {
        Category::Data => field_error(&e.path().to_string(), &without_position(e.inner())),
        Category::Io | Category::Syntax | Category::Eof => {
            AppError::invalid("body", not_json(e.inner()))
        }
    }
}

/// A deserializer's complaint about the value at `path`, as an error naming the field
/// and saying in words what it must be.
fn field_error(path: &str, message: &str) -> AppError {
    // A missing or unknown field is reported at the object that holds it, so its name
    // is taken from serde's message ("missing field `name`").
    let named = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
    };
    let under = |name: String| match path {
        "." | "" | "?" => name,
        parent => format!("{parent}.{name}"),
    };
    if let Some(name) = named("missing field `") {
        return AppError::invalid(under(name), "is required");
    }
    if let Some(name) = named("duplicate field `") {
        return AppError::invalid(under(name), "is given more than once");
    }
    // An unknown field's path already ends with its name.
    if let Some(name) = named("unknown field `") {
        let field = match path {
            "." | "" | "?" => name,
            _ => path.to_owned(),
        };
        return AppError::invalid(field, "is not a field of this request");
    }
    let field = match path {
        "." | "" | "?" => "body".to_owned(),
        _ => path.to_owned(),
    };
    AppError::invalid(field, in_words(message))
}

/// serde's wording of a wrong value ("invalid type: integer `123`, expected a string",
/// "invalid value: integer `-1`, expected u32", "invalid digit found in string"), said
/// as what the value must be ("must be a string").
fn in_words(message: &str) -> String {
    if let Some((_, expected)) = message.split_once(", expected ") {
        return format!("must be {}", expected_in_words(expected));
    }
    match message {
        "invalid digit found in string"
        | "cannot parse integer from empty string"
        | "number too large to fit in target type"
        | "number too small to fit in target type" => "must be a whole number".to_owned(),
        "invalid float literal" => "must be a number".to_owned(),
        "provided string was not `true` or `false`" => "must be true or false".to_owned(),
        other => other.to_owned(),
    }
}

fn expected_in_words(expected: &str) -> String {
    match expected {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "a whole number".to_owned(),
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a whole number, 0 or more".to_owned(),
        "f32" | "f64" => "a number".to_owned(),
        "a boolean" => "true or false".to_owned(),
        "a sequence" => "a list".to_owned(),
        "a map" => "an object".to_owned(),
        "a borrowed string" => "a string".to_owned(),
        other if other.starts_with("struct ") => "an object".to_owned(),
        other => other.replace('`', "\""),
    }
}

/// A body that does not parse as JSON, saying where (a person cannot see which field a
/// syntax error is in, but the line and column help).
fn not_json(e: &serde_json::Error) -> String {
    format!(
        "is not valid JSON ({} at line {} column {})",
        without_position(e),
        e.line(),
        e.column()
    )
}

/// serde_json's message without its " at line 1 column 7", which means nothing to a
/// person reading the error of one field.
fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rsplit_once(" at line ") {
        Some((message, _)) => message.to_owned(),
        None => text,
    }
}

/// What a NUL character in a field is told: PostgreSQL cannot store it in text, and no
/// name, note or key needs one, so it is refused on every backend alike.
pub(crate) fn nul_refused(field: impl Into<String>) -> AppError {
    AppError::invalid(field, "must not contain the NUL character (\\u0000)")
}

/// The first field of a query string or form body (`application/x-www-form-urlencoded`)
/// whose name or value holds a NUL character, by name.
pub(crate) fn nul_in_pairs(encoded: &[u8]) -> Option<String> {
    form_urlencoded::parse(encoded)
        .find(|(name, value)| name.contains('\0') || value.contains('\0'))
        .map(|(name, _)| printable(&name))
}

/// The first field of a JSON body holding a NUL character in a string or a key, by
/// path (`patients[0].name`), or `body` for a string at the top. A body that is not
/// JSON has no fields: its handler refuses it.
pub(crate) fn nul_in_json(body: &[u8]) -> Option<String> {
    // In JSON a NUL can only be the escape `\u0000` (a raw one is a syntax error), so a
    // body without that text is not parsed twice.
    if !body.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
        return None;
    }
    // A body with the escape that does not parse as a value (a number too large for
    // one, say, in a field the handler ignores) is refused whole: the handler's own
    // parser might still read the string with its NUL.
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value) => nul_at(&value, ""),
        Err(_) => Some("body".to_owned()),
    }
}

fn nul_at(value: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value;
    let here = |path: &str| {
        if path.is_empty() {
            "body".to_owned()
        } else {
            printable(path)
        }
    };
    match value {
        Value::String(text) => text.contains('\0').then(|| here(path)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_at(item, &format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(key, item)| {
            let inner = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            if key.contains('\0') {
                Some(here(&inner))
            } else {
                nul_at(item, &inner)
            }
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => None,
    }
}

/// A field name as an error may show it: its NUL characters written as `\u0000`.
fn printable(name: &str) -> String {
    name.replace('\0', "\\u0000")
}

/// A refused form shown again: 429 with `Retry-After` when a rate limit refused it
/// (`limited`: the seconds to wait), else 422.
pub(crate) fn form_again(page: impl IntoResponse, limited: Option<u64>) -> Response {
    match limited {
        Some(retry_after) => (
            StatusCode::TOO_MANY_REQUESTS,
            [(axum::http::header::RETRY_AFTER, retry_after.to_string())],
            page,
        )
            .into_response(),
        None => (StatusCode::UNPROCESSABLE_ENTITY, page).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused<T: DeserializeOwned + std::fmt::Debug>(json: &str) -> (String, String) {
        let mut de = serde_json::Deserializer::from_str(json);
        match serde_path_to_error::deserialize::<_, T>(&mut de).map_err(json_error) {
            Err(AppError::Invalid { field, message }) => (field, message),
            other => panic!("not refused as invalid: {other:?}"),
        }
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)] // Read through Debug only: the tests are about its errors.
    struct Body {
        name: String,
        count: u32,
        ids: Vec<i64>,
        inner: Option<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)] // As above.
    struct Inner {
        on: bool,
    }

    #[test]
    fn type_errors_name_the_field_in_words() {
        let cases = [
            (
                r#"{"name": 123, "count": 1, "ids": []}"#,
                ("name", "must be a string"),
            ),
            (
                r#"{"name": "a", "count": -1, "ids": []}"#,
                ("count", "must be a whole number, 0 or more"),
            ),
            (
                r#"{"name": "a", "count": 1, "ids": [1, "x"]}"#,
                ("ids[1]", "must be a whole number"),
            ),
            (
                r#"{"name": "a", "count": 1, "ids": [99999999999999999999]}"#,
                ("ids[0]", "must be a whole number"),
            ),
            (
                r#"{"name": "a", "count": 1, "ids": {}}"#,
                ("ids", "must be a list"),
            ),
            (
                r#"{"name": "a", "count": 1, "ids": [], "inner": {"on": "yes"}}"#,
                ("inner.on", "must be true or false"),
            ),
            (
                r#"{"name": "a", "count": 1, "ids": [], "inner": {}}"#,
                ("inner.on", "is required"),
            ),
            (r#"{"count": 1, "ids": []}"#, ("name", "is required")),
            (
                r#"{"name": "a", "count": 1, "ids": [], "nme": 1}"#,
                ("nme", "is not a field of this request"),
            ),
            (r#""x""#, ("body", "must be an object")),
        ];
        for (json, (field, message)) in cases {
            assert_eq!(
                refused::<Body>(json),
                (field.to_owned(), message.to_owned()),
                "{json}"
            );
        }
        let (field, message) = refused::<Body>(r#"{"name": "a", "#);
        assert_eq!(field, "body");
        assert!(message.starts_with("is not valid JSON"), "{message}");
    }

    #[test]
    fn query_errors_name_the_parameter_in_words() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)] // As above.
        struct Params {
            service: i64,
            practitioner: Option<i64>,
        }
        let parts = |query: &str| {
            axum::http::Request::get(format!("/x?{query}"))
                .body(())
                .unwrap()
                .into_parts()
                .0
        };
        let cases = [
            ("service=x", ("service", "must be a whole number")),
            (
                "service=99999999999999999999",
                ("service", "must be a whole number"),
            ),
            (
                "service=1&practitioner=-",
                ("practitioner", "must be a whole number"),
            ),
            ("practitioner=1", ("service", "is required")),
        ];
        for (q, (field, message)) in cases {
            match query::<Params>(&parts(q)) {
                Err(AppError::Invalid {
                    field: f,
                    message: m,
                }) => {
                    assert_eq!((f.as_str(), m.as_str()), (field, message), "{q}");
                }
                other => panic!("{q}: {other:?}"),
            }
        }
        assert_eq!(query::<Params>(&parts("service=7")).unwrap().service, 7);
    }

    #[test]
    fn nul_is_found_in_every_field() {
        assert_eq!(nul_in_pairs(b"a=1&b=x%00y"), Some("b".to_owned()));
        assert_eq!(nul_in_pairs(b"a%00=1"), Some("a\\u0000".to_owned()));
        assert_eq!(
            nul_in_pairs(b"a=1&b=%2500"),
            None,
            "an escaped percent sign"
        );
        assert_eq!(
            nul_in_json(br#"{"a": [{"b": "ok"}, {"b": "x\u0000"}]}"#),
            Some("a[1].b".to_owned())
        );
        assert_eq!(nul_in_json(br#""\u0000""#), Some("body".to_owned()));
        assert_eq!(
            nul_in_json(br#"{"k\u0000": 1}"#),
            Some("k\\u0000".to_owned())
        );
        assert_eq!(
            nul_in_json(br#"{"a": "\\u0000"}"#),
            None,
            "an escaped backslash"
        );
        // Not JSON (or not a JSON value: `1e400`) but with the escape: refused whole,
        // since a handler's own parser might still read the string with its NUL.
        assert_eq!(nul_in_json(br#"{"a": "\u0000"#), Some("body".to_owned()));
        assert_eq!(
            nul_in_json(br#"{"a": "\u0000", "z": 1e400}"#),
            Some("body".to_owned())
        );
    }

    #[test]
    fn a_field_given_twice_is_named() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Q {
            zone: Option<String>,
        }
        let parts = axum::http::Request::get("/x?zone=America/Toronto&zone=Europe/London")
            .body(())
            .unwrap()
            .into_parts()
            .0;
        let err = query::<Q>(&parts).unwrap_err();
        match err {
            AppError::Invalid { field, message } => {
                assert_eq!(field, "zone");
                assert_eq!(message, "is given more than once");
            }
            other => panic!("{other:?}"),
        }
    }
}
