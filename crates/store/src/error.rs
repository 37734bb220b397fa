//! The store's errors: one [`Error`] for every function here, into which the engine's
//! refusals and the database's same-organisation and unique guards are turned, so that
//! no caller matches on sqlx.

use std::fmt;

/// Why a staff booking or move was refused: the engine's answer, for the caller to
/// show. (A portal booking the slot rules refuse is an answer, not an error:
/// [`PortalOutcome::Taken`](crate::appointment::PortalOutcome::Taken).)
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Conflict {
    /// A staff booking that needs an explicit override, with every reason.
    NeedsOverride {
        /// Each reason, in words.
        reasons: Vec<String>,
    },
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
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
    /// Bad input in several fields at once, each named with what is wrong, in field
    /// order; nothing was changed. A form shows every one next to its field, so a
    /// person corrects them in one go (the API answers the first, as [`Error::Invalid`]).
    #[error("{}", .0.iter().map(|(f, m)| format!("{f}: {m}")).collect::<Vec<_>>().join("; "))]
    InvalidFields(Vec<(String, String)>),
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
    /// The database failed (unreachable, a lost connection, a constraint no field error
    /// was mapped from): not something the caller can correct.
    #[error("database: {0}")]
    Database(#[source] sqlx::Error),
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

    /// The field bad input names (the first, when several are); `None` for any other
    /// error.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::Invalid { field, .. } => Some(field),
            Error::InvalidFields(all) => all.first().map(|(f, _)| f.as_str()),
            _ => None,
        }
    }
}

/// Every field problem of one input, collected so that a check reports them all at
/// once instead of stopping at the first: a person filling a form corrects every field
/// in one go.
#[derive(Debug, Default)]
pub struct Problems {
    fields: Vec<(String, String)>,
    /// An error that is not about a field (the database failed): returned first.
    other: Option<Error>,
}

impl Problems {
    /// No problem yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a problem of `field` (the first one per field is kept).
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        let field = field.into();
        if !self.fields.iter().any(|(f, _)| *f == field) {
            self.fields.push((field, message.into()));
        }
    }

    /// The value of a check, or `None` with its problems recorded (an error that is
    /// not about a field is kept for [`Problems::finish`] to return first).
    pub fn check<T>(&mut self, result: Result<T>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(Error::Invalid { field, message }) => {
                self.add(field, message);
                None
            }
            Err(Error::InvalidFields(all)) => {
                for (field, message) in all {
                    self.add(field, message);
                }
                None
            }
            Err(other) => {
                self.other.get_or_insert(other);
                None
            }
        }
    }

    /// Whether there is no problem.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.other.is_none()
    }

    /// `Ok` when there is no problem; one problem as [`Error::Invalid`]; several as
    /// [`Error::InvalidFields`].
    pub fn finish(self) -> Result<()> {
        if let Some(other) = self.other {
            return Err(other);
        }
        let mut all = self.fields;
        match all.len() {
            0 => Ok(()),
            1 => {
                let (field, message) = all.remove(0);
                Err(Error::Invalid { field, message })
            }
            _ => Err(Error::InvalidFields(all)),
        }
    }

    /// Like [`Problems::finish`], with the checked value when there is no problem.
    pub fn done<T>(self, value: Option<T>) -> Result<T> {
        self.finish()?;
        value.ok_or_else(|| Error::invalid("body", "is not valid"))
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

/// Every reference from one of an organisation's rows to another, as `(table, column,
/// referenced table)`: the database refuses any that would cross organisations
/// (migration 0015: a foreign key that also names `org_id` on PostgreSQL, since 0033
/// the only one, a trigger on SQLite), so no code path can store another organisation's id. The contract suite
/// checks that this list covers every foreign key of the schema.
pub const SAME_ORG_REFERENCES: &[(&str, &str, &str)] = &[
    ("clinic_holidays", "clinic_id", "clinics"),
    ("practitioners", "type_id", "practitioner_types"),
    ("practitioners", "home_clinic_id", "clinics"),
    ("schedule_types", "clinic_id", "clinics"),
    (
        "practitioner_schedule_types",
        "practitioner_id",
        "practitioners",
    ),
    (
        "practitioner_schedule_types",
        "schedule_type_id",
        "schedule_types",
    ),
    ("availability_records", "practitioner_id", "practitioners"),
    ("availability_records", "clinic_id", "clinics"),
    ("availability_blocks", "record_id", "availability_records"),
    ("availability_blocks", "schedule_type_id", "schedule_types"),
    ("portal_blocks", "record_id", "availability_records"),
    ("time_off", "practitioner_id", "practitioners"),
    ("services", "practitioner_type_id", "practitioner_types"),
    ("service_schedule_types", "service_id", "services"),
    (
        "service_schedule_types",
        "schedule_type_id",
        "schedule_types",
    ),
    ("patient_practitioners", "patient_id", "patients"),
    ("patient_practitioners", "practitioner_id", "practitioners"),
    ("staff_users", "practitioner_id", "practitioners"),
    ("portal_accounts", "patient_id", "patients"),
    ("portal_email_changes", "account_id", "portal_accounts"),
    ("appointments", "practitioner_id", "practitioners"),
    ("appointments", "patient_id", "patients"),
    ("appointments", "service_id", "services"),
    ("appointments", "schedule_type_id", "schedule_types"),
    ("appointments", "clinic_id", "clinics"),
    ("appointments", "override_by", "staff_users"),
    ("appointment_series", "practitioner_id", "practitioners"),
    ("appointment_series", "patient_id", "patients"),
    ("appointment_series", "service_id", "services"),
    ("appointments", "series_id", "appointment_series"),
    ("resources", "clinic_id", "clinics"),
    ("resource_availability_records", "resource_id", "resources"),
    (
        "resource_availability_blocks",
        "record_id",
        "resource_availability_records",
    ),
    ("resource_time_off", "resource_id", "resources"),
    ("service_requirements", "service_id", "services"),
    ("service_requirements", "resource_id", "resources"),
    ("appointment_resources", "appointment_id", "appointments"),
    ("appointment_resources", "resource_id", "resources"),
    ("calendar_feeds", "practitioner_id", "practitioners"),
    ("calendar_feeds", "clinic_id", "clinics"),
    ("service_reminder_offsets", "service_id", "services"),
    ("appointment_reminders", "appointment_id", "appointments"),
    ("reminder_links", "appointment_id", "appointments"),
    ("waitlist_entries", "patient_id", "patients"),
    ("waitlist_entries", "service_id", "services"),
    ("waitlist_entries", "clinic_id", "clinics"),
    ("waitlist_entries", "appointment_id", "appointments"),
    (
        "waitlist_entry_practitioners",
        "entry_id",
        "waitlist_entries",
    ),
    (
        "waitlist_entry_practitioners",
        "practitioner_id",
        "practitioners",
    ),
    ("waitlist_holds", "service_id", "services"),
    ("waitlist_holds", "practitioner_id", "practitioners"),
    ("waitlist_holds", "clinic_id", "clinics"),
    ("waitlist_holds", "appointment_id", "appointments"),
    ("waitlist_offers", "hold_id", "waitlist_holds"),
    ("waitlist_offers", "entry_id", "waitlist_entries"),
    ("webhook_deliveries", "endpoint_id", "webhook_endpoints"),
];

impl From<sqlx::Error> for Error {
    /// A write naming another organisation's row (refused by the database's same-
    /// organisation guards) becomes a field error; anything else stays a database error.
    fn from(e: sqlx::Error) -> Self {
        match cross_org_reference(&e) {
            Some((table, column)) => Error::invalid(
                column.trim_end_matches("_id"),
                format!(
                    "unknown {} (not one of this organisation's)",
                    referenced_noun(table, column)
                ),
            ),
            None => Error::Database(e),
        }
    }
}

/// The `(table, column)` of a same-organisation guard that refused a write.
fn cross_org_reference(e: &sqlx::Error) -> Option<(&'static str, &'static str)> {
    let sqlx::Error::Database(db) = e else {
        return None;
    };
    // PostgreSQL names the violated constraint; SQLite's trigger says it in the message.
    // Since migration 0033 the same-organisation key is PostgreSQL's only key between
    // two of an organisation's tables, so it also refuses deleting a row still referenced
    // ("update or delete on table ..."): that is not a reference to another organisation.
    let deleting = db.message().starts_with("update or delete on table");
    let named = |table: &str, column: &str| {
        db.constraint()
            .is_some_and(|c| !deleting && c == format!("{table}_{column}_same_org"))
            || db
                .message()
                .contains(&format!("cross-organisation reference: {table}.{column}"))
    };
    SAME_ORG_REFERENCES
        .iter()
        .find(|(table, column, _)| named(table, column))
        .map(|(table, column, _)| (*table, *column))
}

fn referenced_noun(table: &str, column: &str) -> String {
    SAME_ORG_REFERENCES
        .iter()
        .find(|(t, c, _)| *t == table && *c == column)
        .map(|(_, _, referenced)| match *referenced {
            "appointment_series" => "series".to_owned(),
            other => other.trim_end_matches('s').replace('_', " "),
        })
        .unwrap_or_else(|| "row".to_owned())
}

/// The store's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Maps a unique-constraint violation to a field error; anything else stays a
/// database error.
pub(crate) fn unique_as(field: &str, message: &str) -> impl FnOnce(sqlx::Error) -> Error {
    let (field, message) = (field.to_owned(), message.to_owned());
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => Error::Invalid { field, message },
        _ => Error::from(e),
    }
}
