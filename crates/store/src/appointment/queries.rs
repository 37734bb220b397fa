//! Reading appointments: one, a range, a patient's, the pending ones, how many; and
//! which practitioners a patient may book.

use crate::db::{Exec, rows, scalar};
use crate::error::{Error, Result};
use crate::organisation::Organisation;

use super::{Appointment, COLUMNS};

/// One appointment of the organisation.
pub async fn get(exec: Exec<'_>, org: i64, id: i64) -> Result<Appointment> {
    let sql = format!("SELECT {COLUMNS} FROM appointments WHERE org_id = $1 AND id = $2");
    rows!(exec, fetch_optional, Appointment, &sql, org, id)?.ok_or(Error::NotFound("appointment"))
}

/// Appointments overlapping `[from_ns, to_ns)`, optionally of one practitioner, by start.
pub async fn in_range(
    exec: Exec<'_>,
    org: &Organisation,
    from_ns: i64,
    to_ns: i64,
    practitioner: Option<i64>,
) -> Result<Vec<Appointment>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM appointments WHERE org_id = $1 AND start_ns >= $2 AND start_ns < $3 \
         AND end_ns > $4 AND ($5 = -1 OR practitioner_id = $5) ORDER BY start_ns, practitioner_id, id"
    );
    Ok(rows!(
        exec,
        fetch_all,
        Appointment,
        &sql,
        org.id,
        from_ns.saturating_sub(org.max_appointment_ns),
        to_ns,
        from_ns,
        practitioner.unwrap_or(-1)
    )?)
}

/// A patient's appointments, latest first.
pub async fn of_patient(exec: Exec<'_>, org: i64, patient: i64) -> Result<Vec<Appointment>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM appointments WHERE org_id = $1 AND patient_id = $2 ORDER BY start_ns DESC, id DESC"
    );
    Ok(rows!(exec, fetch_all, Appointment, &sql, org, patient)?)
}

/// Pending portal bookings waiting for staff, earliest first.
pub async fn pending(exec: Exec<'_>, org: i64) -> Result<Vec<Appointment>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM appointments WHERE org_id = $1 AND status = 'pending' ORDER BY start_ns, id"
    );
    Ok(rows!(exec, fetch_all, Appointment, &sql, org)?)
}

/// The practitioners a patient may book in the portal: `None` for all (kept with the
/// patient, below `appointment` and `waitlist`, which both read it).
pub use crate::patient::bookable_practitioners as patient_practitioners;

/// How many appointments the organisation has (for tests and the status page).
pub async fn count(exec: Exec<'_>, org: i64) -> Result<i64> {
    Ok(scalar!(
        exec,
        i64,
        "SELECT COUNT(*) FROM appointments WHERE org_id = $1",
        org
    )?)
}
