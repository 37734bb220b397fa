//! Practitioner types (Physiotherapist, Registered Massage Therapist, …): the label a
//! practitioner carries and a service may ask for.
//!
//! A type's key is the `type` of practitioners and the `practitioner_type` of services
//! in the scenario format, so renaming a type changes its name only: exports and the
//! services that name it keep working.

use serde::Serialize;

use crate::db::{Exec, Tx, execute, rows, scalar};
use crate::error::{Error, Result};
use crate::keys::{self, Kind};

/// A practitioner type, with how many practitioners and services use it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PractitionerType {
    pub id: i64,
    /// Scenario key (the practitioners' `type`).
    pub key: String,
    /// Unique in the organisation, ignoring case.
    pub name: String,
    /// How many practitioners have this type.
    pub practitioners: i64,
    /// How many services ask for this type.
    pub services: i64,
}

impl PractitionerType {
    /// Whether practitioners or services use it (then it cannot be deleted).
    pub fn in_use(&self) -> bool {
        self.practitioners > 0 || self.services > 0
    }
}

/// What an admin enters for a practitioner type.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
pub struct PractitionerTypeInput {
    /// Required, at most 100 characters once trimmed, and not another type's name
    /// (ignoring case).
    pub name: String,
}

/// The columns of [`PractitionerType`], with the usage counts, over `practitioner_types t`.
const SELECT: &str = "SELECT t.id, t.key, t.name, \
    (SELECT COUNT(*) FROM practitioners p WHERE p.org_id = t.org_id AND p.type_id = t.id) AS practitioners, \
    (SELECT COUNT(*) FROM services s WHERE s.org_id = t.org_id AND s.practitioner_type_id = t.id) AS services \
    FROM practitioner_types t";

/// Checks a name: required, at most 100 characters.
pub fn check(input: &PractitionerTypeInput) -> Result<String> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::invalid(
            "name",
            "Enter a name (at most 100 characters).",
        ));
    }
    Ok(name.to_owned())
}

/// Two types with one name could not be told apart in a list, so names are unique in
/// the organisation, ignoring case.
async fn check_name_free(exec: Exec<'_>, org: i64, name: &str, except: i64) -> Result<()> {
    let taken = scalar!(
        exec,
        i64,
        "SELECT COUNT(*) FROM practitioner_types WHERE org_id = $1 AND LOWER(name) = LOWER($2) AND id <> $3",
        org,
        name,
        except
    )?;
    if taken > 0 {
        return Err(Error::invalid(
            "name",
            format!("another practitioner type is called {name:?}"),
        ));
    }
    Ok(())
}

/// Every practitioner type, by name.
pub async fn all(exec: Exec<'_>, org: i64) -> Result<Vec<PractitionerType>> {
    let sql = format!("{SELECT} WHERE t.org_id = $1 ORDER BY t.name, t.id");
    Ok(rows!(exec, fetch_all, PractitionerType, &sql, org)?)
}

/// The organisation's practitioner type `id`, or [`Error::NotFound`] (also for
/// another organisation's).
pub async fn get(exec: Exec<'_>, org: i64, id: i64) -> Result<PractitionerType> {
    let sql = format!("{SELECT} WHERE t.org_id = $1 AND t.id = $2");
    rows!(exec, fetch_optional, PractitionerType, &sql, org, id)?
        .ok_or(Error::NotFound("practitioner type"))
}

/// Creates a practitioner type under a new key derived from its name.
pub async fn create(
    tx: &mut Tx,
    org: i64,
    input: &PractitionerTypeInput,
) -> Result<PractitionerType> {
    let name = check(input)?;
    check_name_free(tx.exec(), org, &name, -1).await?;
    let key = keys::unique(tx.exec(), Kind::PractitionerType, org, &name).await?;
    let id = scalar!(
        tx.exec(),
        i64,
        "INSERT INTO practitioner_types (org_id, key, name) VALUES ($1, $2, $3) RETURNING id",
        org,
        &key,
        &name
    )?;
    get(tx.exec(), org, id).await
}

/// Renames a practitioner type (its key stays).
pub async fn rename(
    tx: &mut Tx,
    org: i64,
    id: i64,
    input: &PractitionerTypeInput,
) -> Result<PractitionerType> {
    get(tx.exec(), org, id).await?;
    let name = check(input)?;
    check_name_free(tx.exec(), org, &name, id).await?;
    execute!(
        tx.exec(),
        "UPDATE practitioner_types SET name = $3 WHERE org_id = $1 AND id = $2",
        org,
        id,
        &name
    )?;
    get(tx.exec(), org, id).await
}

/// Deletes a practitioner type that no practitioner has and no service asks for.
pub async fn delete(tx: &mut Tx, org: i64, id: i64) -> Result<()> {
    let t = get(tx.exec(), org, id).await?;
    if t.in_use() {
        let users = [(t.practitioners, "practitioner"), (t.services, "service")]
            .into_iter()
            .filter(|&(n, _)| n > 0)
            .map(|(n, noun)| count(n, noun))
            .collect::<Vec<_>>()
            .join(" and ");
        return Err(Error::invalid(
            "practitioner_type",
            format!(
                "{:?} is still used by {users}: give them another type first",
                t.name
            ),
        ));
    }
    execute!(
        tx.exec(),
        "DELETE FROM practitioner_types WHERE org_id = $1 AND id = $2",
        org,
        id
    )?;
    Ok(())
}

/// `1 practitioner`, `2 services`.
pub(crate) fn count(n: i64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_required_and_trimmed() {
        let input = |name: &str| PractitionerTypeInput { name: name.into() };
        assert_eq!(check(&input("  Osteopath ")).unwrap(), "Osteopath");
        assert!(
            matches!(check(&input("   ")), Err(Error::Invalid { field, .. }) if field == "name")
        );
        assert!(check(&input(&"x".repeat(101))).is_err());
        assert_eq!(count(1, "service"), "1 service");
        assert_eq!(count(0, "service"), "0 services");
    }
}
