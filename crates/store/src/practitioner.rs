//! Practitioners, and the schedule types assigned to each (the practitioner's
//! *Schedule Types* list: a schedule type must be assigned before an availability
//! record may use it).

use serde::Serialize;

use crate::db::{Exec, Tx, execute, rows, scalar};
use crate::email::normalise_email;
use crate::error::{Error, Problems, Result};
use crate::keys::{self, Kind};
use crate::schedule_type::{self, ScheduleType, check_clinic};
use crate::time::{record_dates_in_words, stored_record_dates};

/// A practitioner, with the names of their type and home clinic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Practitioner {
    pub id: i64,
    /// Scenario key, derived from the name when an admin creates the practitioner, and
    /// kept when they are renamed.
    pub key: String,
    pub name: String,
    /// Their practitioner type: a service limited to a type is offered only by
    /// practitioners of that type.
    pub type_id: i64,
    pub type_name: String,
    /// The clinic of schedule types usable at any clinic, when the availability
    /// record names none.
    pub home_clinic_id: i64,
    pub home_clinic_name: String,
    /// A contact address in normal form, `None` when not given; Openslot sends it no
    /// mail.
    pub email: Option<String>,
    /// An inactive practitioner has no slots and takes no bookings.
    pub active: bool,
    /// False: no portal slots (staff may still book).
    pub bookable_in_portal: bool,
    /// The join link of their video appointments; empty: the organisation's.
    pub video_link: String,
}

/// What an admin enters for a practitioner: the fields of [`Practitioner`] that are
/// not derived.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct PractitionerInput {
    /// Required, at most 100 characters once trimmed.
    pub name: String,
    /// A practitioner type of the organisation.
    pub type_id: i64,
    /// A clinic of the organisation.
    pub home_clinic_id: i64,
    /// Email (blank = none).
    pub email: Option<String>,
    pub active: bool,
    pub bookable_in_portal: bool,
    /// The join link of their video appointments (an `https://` address); blank: the
    /// organisation's.
    #[serde(default)]
    pub video_link: String,
}

impl From<&Practitioner> for PractitionerInput {
    fn from(p: &Practitioner) -> Self {
        PractitionerInput {
            name: p.name.clone(),
            type_id: p.type_id,
            home_clinic_id: p.home_clinic_id,
            email: p.email.clone(),
            active: p.active,
            bookable_in_portal: p.bookable_in_portal,
            video_link: p.video_link.clone(),
        }
    }
}

/// The columns of [`Practitioner`] over `practitioners p` with its type `t` and home
/// clinic `c`.
const SELECT: &str = "SELECT p.id, p.key, p.name, p.type_id, t.name AS type_name, \
    p.home_clinic_id, c.name AS home_clinic_name, p.email, p.active, p.bookable_in_portal, \
    p.video_link FROM practitioners p JOIN practitioner_types t ON t.org_id = p.org_id AND t.id = p.type_id \
    JOIN clinics c ON c.org_id = p.org_id AND c.id = p.home_clinic_id";

/// Checks the fields that need no database: the trimmed name, the normalised email and
/// the video link as saved; every field's problem at once.
fn check(input: &PractitionerInput) -> Result<(String, Option<String>, String)> {
    let mut problems = Problems::new();
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        problems.add("name", "Enter a name (at most 100 characters).");
    }
    let email = match input.email.as_deref().map(str::trim) {
        None | Some("") => Some(None),
        Some(email) => problems
            .check(normalise_email(email).map_err(|_| {
                Error::invalid(
                    "email",
                    "Enter an email address, e.g. name@example.com, or none.",
                )
            }))
            .map(Some),
    };
    let video_link = problems.check(crate::organisation::check_video_link(
        "video_link",
        &input.video_link,
    ));
    let (email, video_link) = problems.done(email.zip(video_link))?;
    Ok((name.to_owned(), email, video_link))
}

/// Checks the fields that need no database without saving anything, reporting every
/// field's problem at once.
pub fn validate(input: &PractitionerInput) -> Result<()> {
    check(input).map(|_| ())
}

/// Checks the fields that refer to other rows: they must be the organisation's own.
async fn check_references(tx: &mut Tx, org: i64, input: &PractitionerInput) -> Result<()> {
    let types = scalar!(
        tx.exec(),
        i64,
        "SELECT COUNT(*) FROM practitioner_types WHERE org_id = $1 AND id = $2",
        org,
        input.type_id
    )?;
    if types == 0 {
        return Err(Error::invalid(
            "type_id",
            "Choose one of the organisation's practitioner types.",
        ));
    }
    check_clinic(tx.exec(), org, "home_clinic_id", input.home_clinic_id).await
}

/// Every practitioner, by name.
pub async fn all(exec: Exec<'_>, org: i64) -> Result<Vec<Practitioner>> {
    let sql = format!("{SELECT} WHERE p.org_id = $1 ORDER BY p.name, p.id");
    Ok(rows!(exec, fetch_all, Practitioner, &sql, org)?)
}

/// The organisation's practitioner `id`, or [`Error::NotFound`] (also for another
/// organisation's practitioner).
pub async fn get(exec: Exec<'_>, org: i64, id: i64) -> Result<Practitioner> {
    let sql = format!("{SELECT} WHERE p.org_id = $1 AND p.id = $2");
    rows!(exec, fetch_optional, Practitioner, &sql, org, id)?.ok_or(Error::NotFound("practitioner"))
}

/// Creates a practitioner (with no schedule types yet).
pub async fn create(tx: &mut Tx, org: i64, input: &PractitionerInput) -> Result<Practitioner> {
    let (name, email, video_link) = check(input)?;
    check_references(tx, org, input).await?;
    let key = keys::unique(tx.exec(), Kind::Practitioner, org, &name).await?;
    let id = scalar!(
        tx.exec(),
        i64,
        "INSERT INTO practitioners (org_id, key, name, type_id, home_clinic_id, email, active, \
         bookable_in_portal, video_link) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        org,
        &key,
        &name,
        input.type_id,
        input.home_clinic_id,
        email.as_deref(),
        input.active,
        input.bookable_in_portal,
        &video_link
    )?;
    get(tx.exec(), org, id).await
}

/// Saves a practitioner's details.
pub async fn update(
    tx: &mut Tx,
    org: i64,
    id: i64,
    input: &PractitionerInput,
) -> Result<Practitioner> {
    get(tx.exec(), org, id).await?;
    let (name, email, video_link) = check(input)?;
    check_references(tx, org, input).await?;
    execute!(
        tx.exec(),
        "UPDATE practitioners SET name = $3, type_id = $4, home_clinic_id = $5, email = $6, \
         active = $7, bookable_in_portal = $8, video_link = $9 WHERE org_id = $1 AND id = $2",
        org,
        id,
        &name,
        input.type_id,
        input.home_clinic_id,
        email.as_deref(),
        input.active,
        input.bookable_in_portal,
        &video_link
    )?;
    get(tx.exec(), org, id).await
}

/// Activates or deactivates a practitioner. A practitioner is deactivated rather than
/// deleted, so that their appointments and the audit trail keep naming them.
pub async fn set_active(tx: &mut Tx, org: i64, id: i64, active: bool) -> Result<Practitioner> {
    let n = execute!(
        tx.exec(),
        "UPDATE practitioners SET active = $3 WHERE org_id = $1 AND id = $2",
        org,
        id,
        active
    )?;
    if n == 0 {
        return Err(Error::NotFound("practitioner"));
    }
    get(tx.exec(), org, id).await
}

/// The schedule types assigned to a practitioner, by name.
pub async fn schedule_types(exec: Exec<'_>, org: i64, id: i64) -> Result<Vec<ScheduleType>> {
    let sql = format!(
        "{} WHERE st.org_id = $1 AND st.id IN \
         (SELECT schedule_type_id FROM practitioner_schedule_types WHERE org_id = $1 AND practitioner_id = $2) \
         ORDER BY st.name, st.id",
        schedule_type::SELECT
    );
    Ok(rows!(exec, fetch_all, ScheduleType, &sql, org, id)?)
}

/// Every (practitioner, schedule type) assignment of the organisation, for lists that
/// show each practitioner's schedule types without a query per practitioner.
pub async fn schedule_type_links(exec: Exec<'_>, org: i64) -> Result<Vec<(i64, i64)>> {
    Ok(rows!(
        exec,
        fetch_all,
        (i64, i64),
        "SELECT practitioner_id, schedule_type_id FROM practitioner_schedule_types \
         WHERE org_id = $1 ORDER BY practitioner_id, schedule_type_id",
        org
    )?)
}

/// Assigns a schedule type to a practitioner (nothing happens if it already is).
pub async fn add_schedule_type(
    tx: &mut Tx,
    org: i64,
    practitioner: i64,
    schedule_type: i64,
) -> Result<()> {
    get(tx.exec(), org, practitioner).await?;
    schedule_type::get(tx.exec(), org, schedule_type).await?;
    execute!(
        tx.exec(),
        "INSERT INTO practitioner_schedule_types (org_id, practitioner_id, schedule_type_id) \
         VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        org,
        practitioner,
        schedule_type
    )?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct RecordDates {
    start_date: String,
    end_date: Option<String>,
}

/// Takes a schedule type off a practitioner's list. Refused while one of the
/// practitioner's availability records has blocks of it: the message names the
/// schedule type and each such record, so the admin knows which grid to change. (The
/// setup check refuses such a state too; this says it in the admin's terms.)
pub async fn remove_schedule_type(
    tx: &mut Tx,
    org: i64,
    practitioner: i64,
    schedule_type: i64,
) -> Result<()> {
    get(tx.exec(), org, practitioner).await?;
    let t = schedule_type::get(tx.exec(), org, schedule_type).await?;
    let records = rows!(
        tx.exec(),
        fetch_all,
        RecordDates,
        "SELECT r.start_date, r.end_date FROM availability_records r \
         WHERE r.org_id = $1 AND r.practitioner_id = $2 AND EXISTS \
         (SELECT 1 FROM availability_blocks b WHERE b.org_id = $1 AND b.record_id = r.id AND b.schedule_type_id = $3) \
         ORDER BY r.start_date",
        org,
        practitioner,
        schedule_type
    )?;
    let dates = records
        .iter()
        .map(|r| {
            stored_record_dates(&r.start_date, r.end_date.as_deref()).map(record_dates_in_words)
        })
        .collect::<Result<Vec<String>>>()?;
    if let Some((last, init)) = dates.split_last() {
        let (noun, list) = if init.is_empty() {
            ("availability record", last.clone())
        } else {
            (
                "availability records",
                format!("{} and {last}", init.join(", ")),
            )
        };
        return Err(Error::invalid(
            "schedule_type",
            format!(
                "schedule type {:?} is still used by the {noun} {list}: take its blocks off the grid first",
                t.name
            ),
        ));
    }
    execute!(
        tx.exec(),
        "DELETE FROM practitioner_schedule_types \
         WHERE org_id = $1 AND practitioner_id = $2 AND schedule_type_id = $3",
        org,
        practitioner,
        schedule_type
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, email: Option<&str>) -> PractitionerInput {
        PractitionerInput {
            name: name.into(),
            type_id: 1,
            home_clinic_id: 1,
            email: email.map(Into::into),
            active: true,
            bookable_in_portal: true,
            video_link: String::new(),
        }
    }

    #[test]
    fn video_links_are_https_addresses_or_blank() {
        let with_link = |link: &str| PractitionerInput {
            video_link: link.into(),
            ..input("Christine Roy", None)
        };
        assert!(check(&with_link("")).is_ok());
        assert!(check(&with_link(" https://meet.example.com/roy ")).is_ok());
        let (_, _, saved) = check(&with_link(" https://MEET.example.com/Roy ")).unwrap();
        assert_eq!(saved, "https://meet.example.com/Roy", "saved as parsed");
        for bad in [
            "http://meet.example.com/roy",
            "javascript:alert(1)",
            "meet.example.com/roy",
            "https://",
            "https:meet.example.com",
            "HTTPS://meet.example.com",
            "https://user:pass@meet.example.com/roy",
            "https://meet.example.com/x\"\r\nBcc: victim@example.com",
            "https://meet.example.com/a b",
            "https://meet.example.com/\u{202e}gpj.exe",
        ] {
            let err = check(&with_link(bad)).err().unwrap();
            assert_eq!(err.field(), Some("video_link"), "{bad:?}");
        }
    }

    #[test]
    fn names_are_required_and_emails_optional_but_valid() {
        assert_eq!(
            check(&input(" Christine Roy ", Some(" Christine@Example.com "))).unwrap(),
            (
                "Christine Roy".into(),
                Some("christine@example.com".into()),
                String::new()
            )
        );
        assert_eq!(check(&input("Ana", Some("  "))).unwrap().1, None);
        assert!(
            matches!(check(&input("", None)), Err(Error::Invalid { field, .. }) if field == "name")
        );
        assert!(
            matches!(check(&input("Ana", Some("not an email"))), Err(Error::Invalid { field, .. }) if field == "email")
        );
    }
}
