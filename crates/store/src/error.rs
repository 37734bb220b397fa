//! The store's errors.

use std::fmt;

/// Why a booking was refused: the engine's answer, for the caller to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Conflict {
    /// A portal booking that the slot rules reject (scenario spec, *Check*).
    Portal {
        /// The rule's number in the spec.
        rule: u8,
        /// Why, in words a clinic admin understands.
        reason: String,
    },
    /// A staff booking that needs an explicit override, with every reason.
    NeedsOverride {
        /// Each reason, in words.
        reasons: Vec<String>,
    },
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Conflict::Portal { reason, .. } => f.write_str(reason),
            Conflict::NeedsOverride { reasons } => {
                write!(f, "needs an override: {}", reasons.join("; "))
            }
        }
    }
}

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No such row in this organisation (or it belongs to another one).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Bad input, naming the field; nothing was changed.
    #[error("{field}: {message}")]
    Invalid {
        /// The offending field or item.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// Not allowed for this user (e.g. a practitioner outside the patient's list).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// Too late: the organisation's notice period has passed; it was possible until
    /// `until_ns` (ns since the Unix epoch).
    #[error("too late: it was possible until {until_ns} ns")]
    TooLate {
        /// The last moment it was possible.
        until_ns: i64,
    },
    /// A booking that does not fit; nothing was changed.
    #[error("{0}")]
    Conflict(Conflict),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl Error {
    /// Bad input naming `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<slot_engine::Error> for Error {
    fn from(e: slot_engine::Error) -> Self {
        match e {
            slot_engine::Error::Invalid { item, message } => Error::Invalid {
                field: item,
                message,
            },
            slot_engine::Error::Json { path, message } => Error::Invalid {
                field: path,
                message,
            },
            other => Error::invalid("scenario", other.to_string()),
        }
    }
}

/// The store's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Maps a unique-constraint violation to a field error; anything else stays a
/// database error.
pub(crate) fn unique_as(field: &str, message: &str) -> impl FnOnce(sqlx::Error) -> Error {
    let (field, message) = (field.to_owned(), message.to_owned());
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => Error::Invalid { field, message },
        _ => Error::Database(e),
    }
}
