//! Scenario ids ("keys") for rows created in the admin pages: readable, unique in the
//! organisation, derived from the name.

use crate::db::{Exec, scalar, scalar_optional};
use crate::error::{Error, Result};

/// The kinds of rows that always have a key, one per table (`Clinic` is `clinics`,
/// `PractitionerType` is `practitioner_types`, …). Appointments are not among them:
/// only an imported appointment can have one, the `id` its document gave it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Clinic,
    PractitionerType,
    Practitioner,
    ScheduleType,
    Service,
    Patient,
    Resource,
}

impl Kind {
    fn table(self) -> &'static str {
        match self {
            Kind::Clinic => "clinics",
            Kind::PractitionerType => "practitioner_types",
            Kind::Practitioner => "practitioners",
            Kind::ScheduleType => "schedule_types",
            Kind::Service => "services",
            Kind::Patient => "patients",
            Kind::Resource => "resources",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Kind::Clinic => "clinic",
            Kind::PractitionerType => "practitioner type",
            Kind::Practitioner => "practitioner",
            Kind::ScheduleType => "schedule type",
            Kind::Service => "service",
            Kind::Patient => "patient",
            Kind::Resource => "resource",
        }
    }
}

/// The row id of the `kind` with this key in the organisation.
pub async fn id_of(exec: Exec<'_>, kind: Kind, org: i64, key: &str) -> Result<i64> {
    let sql = format!(
        "SELECT id FROM {} WHERE org_id = $1 AND key = $2",
        kind.table()
    );
    scalar_optional!(exec, i64, &sql, org, key)?
        .ok_or_else(|| Error::invalid(kind.noun(), format!("unknown {} {key:?}", kind.noun())))
}

/// `Christine Roy (Toronto)` → `christine-roy-toronto`.
pub fn slugify(name: &str) -> String {
    let mut key = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            key.push(c);
        } else if !key.ends_with('-') && !key.is_empty() {
            key.push('-');
        }
    }
    while key.ends_with('-') {
        key.pop();
    }
    key.truncate(48);
    if key.is_empty() {
        "item".to_owned()
    } else {
        key
    }
}

/// `physiotherapist` → `Physiotherapist`, `massage-therapist` → `Massage therapist`.
pub fn title_from_key(key: &str) -> String {
    let words = key.replace(['-', '_'], " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A key for `name` not yet used in `table` of the organisation: the slug, or the slug
/// with `-2`, `-3`, … appended.
///
/// Call it in the transaction that inserts the row. On PostgreSQL it first takes a
/// transaction lock on (table, organisation), so two creations racing for the same key
/// take turns and the second sees the first's row (SQLite has one writer at a time).
pub async fn unique(mut exec: Exec<'_>, kind: Kind, org: i64, name: &str) -> Result<String> {
    if exec.backend() == crate::db::Backend::Postgres {
        scalar!(
            exec.reborrow(),
            i32,
            "SELECT 1 FROM pg_advisory_xact_lock(hashtextextended($1, $2)) AS locked",
            kind.table(),
            org
        )?;
    }
    let base = slugify(name);
    let sql = format!(
        "SELECT COUNT(*) FROM {} WHERE org_id = $1 AND key = $2",
        kind.table()
    );
    let mut candidate = base.clone();
    for n in 2.. {
        let taken = scalar!(exec.reborrow(), i64, &sql, org, &candidate)?;
        if taken == 0 {
            break;
        }
        candidate = format!("{base}-{n}");
    }
    Ok(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lower_case_words_joined_by_single_hyphens() {
        assert_eq!(slugify("Christine Roy (Toronto)"), "christine-roy-toronto");
        assert_eq!(slugify("  Éva  Nagy "), "va-nagy");
        assert_eq!(slugify("!!!"), "item");
        assert_eq!(title_from_key("massage-therapist"), "Massage therapist");
    }
}
