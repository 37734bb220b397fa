//! Patients and the practitioners each may book in the portal.

use serde::Serialize;

use crate::db::{Exec, Tx, execute, rows, scalar, scalar_optional};
use crate::email::normalise_email;
use crate::error::{Error, Problems, Result};
use crate::keys::{self, Kind};

/// A patient of the organisation. Their portal account, if they have one, is a row of
/// its own ([`crate::portal_access`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Patient {
    pub id: i64,
    /// Scenario key, derived from the full name when the patient is created here.
    pub key: String,
    pub first_name: String,
    pub last_name: String,
    /// Email: confirmations go there; the portal username by default.
    pub email: String,
    /// As typed, at most 40 characters; empty when not given.
    pub phone: String,
    /// False: every practitioner bookable in the portal; true: only the chosen ones.
    pub practitioners_restricted: bool,
}

impl Patient {
    /// First and last name joined by a space, as pages and emails address the patient.
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

const COLUMNS: &str = "id, key, first_name, last_name, email, phone, practitioners_restricted";

/// What staff (or sign-up) enter for a patient. Both names are required ([`check_names`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
pub struct PatientInput {
    pub first_name: String,
    pub last_name: String,
    /// Saved in its normal form ([`normalise_email`]); patients may share an address.
    pub email: String,
    /// Optional, at most 40 characters.
    #[serde(default)]
    pub phone: String,
}

/// Checks a patient's names: each 1-100 characters, on one line; both names'
/// problems at once.
pub fn check_names(first: &str, last: &str) -> Result<()> {
    let mut problems = Problems::new();
    for (field, what, name) in [
        ("first_name", "first name", first.trim()),
        ("last_name", "last name", last.trim()),
    ] {
        if name.is_empty() || name.chars().count() > 100 {
            problems.add(field, format!("Enter the {what} (at most 100 characters)."));
        } else if name.chars().any(char::is_control) {
            problems.add(
                field,
                format!("Write the {what} on one line, without control characters."),
            );
        }
    }
    problems.finish()
}

/// Checks every field, reporting all their problems at once.
fn check(input: &PatientInput) -> Result<(String, String, String, String)> {
    let first = input.first_name.trim();
    let last = input.last_name.trim();
    let mut problems = Problems::new();
    problems.check(check_names(first, last));
    let email = problems
        .check(normalise_email(&input.email).map_err(|_| {
            Error::invalid("email", "Enter an email address, e.g. name@example.com.")
        }));
    let phone = problems.check(check_phone(&input.phone));
    let value = email.zip(phone);
    let (email, phone) = problems.done(value)?;
    Ok((first.to_owned(), last.to_owned(), email, phone))
}

/// Checks a phone number: optional, at most 40 characters; trimmed.
fn check_phone(phone: &str) -> Result<String> {
    let phone = phone.trim();
    if phone.len() > 40 {
        return Err(Error::invalid(
            "phone",
            "Enter the phone number in at most 40 characters.",
        ));
    }
    Ok(phone.to_owned())
}

/// Creates a patient, with no portal account and free to book every practitioner
/// bookable in the portal.
pub async fn create(tx: &mut Tx, org: i64, input: &PatientInput) -> Result<Patient> {
    let (first, last, email, phone) = check(input)?;
    let key = keys::unique(tx.exec(), Kind::Patient, org, &format!("{first} {last}")).await?;
    let sql = format!(
        "INSERT INTO patients (org_id, key, first_name, last_name, email, phone) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
    );
    Ok(rows!(
        tx.exec(),
        fetch_one,
        Patient,
        &sql,
        org,
        &key,
        &first,
        &last,
        &email,
        &phone
    )?)
}

/// Updates a patient's details.
///
/// A new email address changes the patient's portal account too
/// ([`crate::portal_access::follow_email_change`]): its password must be chosen again
/// through the new address, and a username that was the old address follows.
pub async fn update(
    tx: &mut Tx,
    org: i64,
    id: i64,
    input: &PatientInput,
    now_ns: i64,
) -> Result<(Patient, Option<crate::portal_access::AddressChanged>)> {
    let (first, last, email, phone) = check(input)?;
    let before = get(tx.exec(), org, id).await?;
    let sql = format!(
        "UPDATE patients SET first_name = $3, last_name = $4, email = $5, phone = $6 \
         WHERE org_id = $1 AND id = $2 RETURNING {COLUMNS}"
    );
    let saved = rows!(
        tx.exec(),
        fetch_optional,
        Patient,
        &sql,
        org,
        id,
        &first,
        &last,
        &email,
        &phone
    )?
    .ok_or(Error::NotFound("patient"))?;
    let account =
        crate::portal_access::follow_email_change(tx, org, id, &before.email, &saved.email, now_ns)
            .await?;
    Ok((saved, account))
}

/// Saves what a patient may change of their own record in the portal: their names and
/// phone (checked like staff's input). Their email address changes only through a link
/// to the new address ([`crate::portal_email_change`]).
pub async fn update_details(
    tx: &mut Tx,
    org: i64,
    id: i64,
    first_name: &str,
    last_name: &str,
    phone: &str,
) -> Result<Patient> {
    let (first, last) = (first_name.trim(), last_name.trim());
    check_names(first, last)?;
    let phone = check_phone(phone)?;
    let sql = format!(
        "UPDATE patients SET first_name = $3, last_name = $4, phone = $5 \
         WHERE org_id = $1 AND id = $2 RETURNING {COLUMNS}"
    );
    rows!(
        tx.exec(),
        fetch_optional,
        Patient,
        &sql,
        org,
        id,
        first,
        last,
        &phone
    )?
    .ok_or(Error::NotFound("patient"))
}

/// The organisation's patient `id`, or [`Error::NotFound`] (also for another
/// organisation's patient).
pub async fn get(exec: Exec<'_>, org: i64, id: i64) -> Result<Patient> {
    let sql = format!("SELECT {COLUMNS} FROM patients WHERE org_id = $1 AND id = $2");
    rows!(exec, fetch_optional, Patient, &sql, org, id)?.ok_or(Error::NotFound("patient"))
}

/// The longest search, in characters: longer than any name or address worth finding,
/// and well inside what SQLite's LIKE accepts (a pattern over 50,000 bytes is an error
/// there, while PostgreSQL takes it), so that both backends answer alike.
pub const SEARCH_MAX_CHARS: usize = 200;

/// Patients whose name, email or phone contains `search` (all when empty), by name; a search
/// longer than [`SEARCH_MAX_CHARS`] is refused naming `q`.
pub async fn search(exec: Exec<'_>, org: i64, search: &str, limit: i64) -> Result<Vec<Patient>> {
    if search.trim().chars().count() > SEARCH_MAX_CHARS {
        return Err(Error::invalid(
            "q",
            format!("a search is at most {SEARCH_MAX_CHARS} characters"),
        ));
    }
    let pattern = format!("%{}%", search.trim().to_lowercase().replace(['%', '_'], ""));
    let sql = format!(
        "SELECT {COLUMNS} FROM patients WHERE org_id = $1 AND \
         (LOWER(first_name || ' ' || last_name) LIKE $2 OR LOWER(email) LIKE $2 \
         OR (phone <> '' AND phone LIKE $2)) \
         ORDER BY last_name, first_name, id LIMIT $3"
    );
    Ok(rows!(exec, fetch_all, Patient, &sql, org, &pattern, limit)?)
}

/// Patients with this email address.
pub async fn by_email(exec: Exec<'_>, org: i64, email: &str) -> Result<Vec<Patient>> {
    let sql =
        format!("SELECT {COLUMNS} FROM patients WHERE org_id = $1 AND email = $2 ORDER BY id");
    Ok(rows!(
        exec,
        fetch_all,
        Patient,
        &sql,
        org,
        email.trim().to_lowercase()
    )?)
}

/// The organisation's other patients whose address is `email` once both are in their
/// normal form ([`normalise_email`]; addresses imported from a scenario are compared the
/// same way), by id, leaving out patient `except` (the one being edited): what staff are
/// warned of before a second record gets an address already on file. An address that
/// is not one matches nobody (its own check refuses it).
pub async fn sharing_email(
    exec: Exec<'_>,
    org: i64,
    email: &str,
    except: Option<i64>,
) -> Result<Vec<Patient>> {
    let Ok(email) = normalise_email(email) else {
        return Ok(Vec::new());
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM patients WHERE org_id = $1 AND LOWER(TRIM(email)) = $2 AND id <> $3 \
         ORDER BY id"
    );
    Ok(rows!(
        exec,
        fetch_all,
        Patient,
        &sql,
        org,
        &email,
        except.unwrap_or(-1)
    )?)
}

/// Sets which practitioners the patient may see and book in the portal: `None` (or an
/// empty choice in the page) = every practitioner bookable in the portal.
pub async fn set_available_practitioners(
    tx: &mut Tx,
    org: i64,
    patient: i64,
    list: Option<&[i64]>,
) -> Result<()> {
    get(tx.exec(), org, patient).await?;
    execute!(
        tx.exec(),
        "DELETE FROM patient_practitioners WHERE org_id = $1 AND patient_id = $2",
        org,
        patient
    )?;
    if let Some(list) = list {
        // A practitioner named twice is still one choice.
        let mut list = list.to_vec();
        list.sort_unstable();
        list.dedup();
        for practitioner in list {
            let n = execute!(
                tx.exec(),
                "INSERT INTO patient_practitioners (org_id, patient_id, practitioner_id) \
                 SELECT $1, $2, id FROM practitioners WHERE org_id = $1 AND id = $3",
                org,
                patient,
                practitioner
            )?;
            if n == 0 {
                return Err(Error::invalid("practitioners", "unknown practitioner"));
            }
        }
    }
    execute!(
        tx.exec(),
        "UPDATE patients SET practitioners_restricted = $3 WHERE org_id = $1 AND id = $2",
        org,
        patient,
        list.is_some()
    )?;
    Ok(())
}

/// How many of the patient's appointments in the organisation staff marked a no-show:
/// the desk sees it on the appointment's page and when booking the patient.
pub async fn no_show_count(exec: Exec<'_>, org: i64, patient: i64) -> Result<i64> {
    Ok(scalar!(
        exec,
        i64,
        "SELECT COUNT(*) FROM appointments WHERE org_id = $1 AND patient_id = $2 \
         AND status = 'no_show'",
        org,
        patient
    )?)
}

/// Whether the organisation's no-show policy (migration 0027, set with
/// [`crate::reminder::set_settings`]) makes `patient`'s portal bookings wait
/// for the clinic: they have at least `no_show_pending_after` no-shows. The portal's
/// booking reads it under the practitioner's lock, in its transaction.
pub async fn pending_by_no_shows(exec: Exec<'_>, org: i64, patient: i64) -> Result<bool> {
    let mut exec = exec;
    let threshold = scalar_optional!(
        exec.reborrow(),
        Option<i64>,
        "SELECT no_show_pending_after FROM reminder_settings WHERE org_id = $1",
        org
    )?
    .flatten();
    let Some(threshold) = threshold else {
        return Ok(false);
    };
    let count = no_show_count(exec, org, patient).await?;
    Ok(count >= threshold)
}

/// The organisation's patients with at least one no-show, and how many each: the
/// patient search shows the count beside each patient found, from one query.
pub async fn no_show_counts(
    exec: Exec<'_>,
    org: i64,
) -> Result<std::collections::HashMap<i64, i64>> {
    let rows = rows!(
        exec,
        fetch_all,
        (i64, i64),
        "SELECT patient_id, COUNT(*) FROM appointments WHERE org_id = $1 \
         AND status = 'no_show' AND patient_id IS NOT NULL GROUP BY patient_id",
        org
    )?;
    Ok(rows.into_iter().collect())
}

/// The practitioners a patient may book in the portal: `None` for all.
pub async fn bookable_practitioners(
    exec: &mut Exec<'_>,
    org: i64,
    patient: i64,
) -> Result<Option<Vec<i64>>> {
    let restricted = scalar_optional!(
        exec.reborrow(),
        bool,
        "SELECT practitioners_restricted FROM patients WHERE org_id = $1 AND id = $2",
        org,
        patient
    )?
    .ok_or(Error::NotFound("patient"))?;
    if !restricted {
        return Ok(None);
    }
    Ok(Some(
        rows!(
            exec.reborrow(),
            fetch_all,
            (i64,),
            "SELECT practitioner_id FROM patient_practitioners WHERE org_id = $1 AND patient_id = $2 \
             ORDER BY practitioner_id",
            org,
            patient
        )?
        .into_iter()
        .map(|(id,)| id)
        .collect(),
    ))
}
