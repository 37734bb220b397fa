//! The engine's errors: why a scenario (or a query against a model) was refused.

use std::fmt;

/// Why a scenario, or a query against a model, was refused.
///
/// Every message names the offending item, so it can be shown to the person who wrote
/// the input as it is: `practitioner "christine": availability records
/// 2026-01-01..2026-04-30 and 2026-04-15.. overlap`.
///
/// ```
/// let err = slot_engine::Model::from_json(br#"{"version": 4}"#).unwrap_err();
/// assert_eq!(err.to_string(), "version: unsupported version 4, expected 1, 2 or 3");
/// let err = slot_engine::Model::from_json(br#"{"version": 1, "clinics": [{"id": "a"}]}"#).unwrap_err();
/// assert!(err.to_string().starts_with("clinics[0]: missing field `timezone`"), "{err}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The text is not JSON of the scenario's shape: a syntax error, an unknown or
    /// duplicate field, a missing required field, or a value of the wrong type or form.
    /// `path` is where in the document, e.g. `practitioners[0].availability[1].end_date`.
    #[error("{path}: {message}")]
    Json {
        /// Where in the document the problem is (`.` for the document itself).
        path: String,
        /// What is wrong there, as the JSON parser says it, with line and column.
        message: String,
    },
    /// The document is larger than the format allows.
    #[error("document is {bytes} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// The document's size in bytes; it was refused before any of it was parsed.
        bytes: usize,
        /// The largest document accepted, in bytes:
        /// [`MAX_DOCUMENT_BYTES`](crate::scenario::MAX_DOCUMENT_BYTES).
        limit: usize,
    },
    /// The document is well-formed but breaks a rule of the format: a value out of
    /// range, a duplicate id, a dangling reference, overlapping records…
    #[error("{item}: {message}")]
    Invalid {
        /// The item at fault, e.g. `practitioner "christine"` or `query`.
        item: String,
        /// What is wrong with it, in lower case, naming the values involved.
        message: String,
    },
}

impl Error {
    pub(crate) fn invalid(item: impl fmt::Display, message: impl Into<String>) -> Self {
        Error::Invalid {
            item: item.to_string(),
            message: message.into(),
        }
    }
}

/// A value that could not be parsed or is out of range (a date, a time, an instant…),
/// with a message that quotes it.
///
/// ```
/// let err = "2026-02-30".parse::<slot_engine::Date>().unwrap_err();
/// assert_eq!(err.to_string(), r#"invalid date "2026-02-30": no such day"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValueError(String);

impl ValueError {
    pub(crate) fn new(message: String) -> Self {
        Self(message)
    }
}
