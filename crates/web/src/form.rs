//! HTML form bodies, read as name/value pairs, and errors shown next to their fields;
//! and JSON bodies of the API, whose errors name their field too.
//!
//! Form fields are strings, checked by the handler, so a bad value gets a message that
//! names its field instead of a generic 400.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::{AppError, PageError};

/// A submitted `application/x-www-form-urlencoded` body.
#[derive(Clone, Debug, Default)]
pub struct FormData {
    fields: Vec<(String, String)>,
}

impl FormData {
    /// Parses a body.
    pub fn parse(body: &[u8]) -> Self {
        FormData {
            fields: form_urlencoded::parse(body).into_owned().collect(),
        }
    }

    /// The first value of `name`, trimmed ("" when absent).
    pub fn get(&self, name: &str) -> String {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    }

    /// The first value of `name`, or `None` when absent or blank.
    pub fn optional(&self, name: &str) -> Option<String> {
        Some(self.get(name)).filter(|v| !v.is_empty())
    }

    /// Every value of `name` (checkbox lists, multi-selects).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }

    /// Whether a checkbox was ticked.
    pub fn checked(&self, name: &str) -> bool {
        self.fields
            .iter()
            .any(|(k, v)| k == name && !v.is_empty() && v != "off" && v != "false")
    }

    /// Every pair, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.fields
    }
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, PageError> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| PageError(AppError::invalid("form", e.body_text())))?;
        Ok(FormData::parse(&bytes))
    }
}

/// Messages to show next to form fields, by field name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldErrors(BTreeMap<String, String>);

impl FieldErrors {
    /// No errors.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an error for `field` (the first one per field is kept).
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.entry(field.into()).or_insert_with(|| message.into());
    }

    /// The error of `field`, if any (templates show it next to the field).
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    /// Whether `field` has an error (templates set `aria-invalid`).
    pub fn has(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }

    /// Whether there is no error.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every error, in field order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Records a store error against its field, or returns it when it is not about a
    /// field.
    pub fn absorb(&mut self, e: store::Error) -> Result<(), PageError> {
        match e {
            store::Error::Invalid { field, message } => {
                self.add(field, message);
                Ok(())
            }
            other => Err(other.into()),
        }
    }
}

/// A number from a form field, or an error naming the field.
pub fn number(errors: &mut FieldErrors, form: &FormData, name: &str, label: &str) -> Option<i64> {
    let value = form.get(name);
    match value.parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.add(name, format!("{label} must be a whole number"));
            None
        }
    }
}

/// A JSON request body of the API. Unlike axum's `Json`, whose rejections are plain
/// text, a body that is not JSON or does not fit `T` is refused like any other bad
/// input: 422 with `{"error": {"code", "message", "field"}}`, naming the field (its
/// path, e.g. `schedule_type_ids[1]`), and nothing is changed.
#[derive(Clone, Copy, Debug, Default)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| AppError::invalid("body", e.body_text()))?;
        let mut json = serde_json::Deserializer::from_slice(&bytes);
        let value: T = serde_path_to_error::deserialize(&mut json).map_err(json_error)?;
        json.end()
            .map_err(|e| AppError::invalid("body", without_position(&e)))?;
        Ok(JsonBody(value))
    }
}

/// The field a JSON error is about, and what is wrong, in the API's error shape.
fn json_error(e: serde_path_to_error::Error<serde_json::Error>) -> AppError {
    let path = e.path().to_string();
    let message = without_position(e.inner());
    // A missing field is reported at the object that lacks it, so its name is taken
    // from serde's message ("missing field `name`").
    let named = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    // The path is "." at the top of the body, and "?" where the JSON itself is broken.
    let field = match (named, path.as_str()) {
        (Some(name), ".") => name.to_owned(),
        (Some(name), parent) => format!("{parent}.{name}"),
        (None, "." | "?") => "body".to_owned(),
        (None, _) => path,
    };
    AppError::invalid(field, message)
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
