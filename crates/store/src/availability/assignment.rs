//! Which schedule types a practitioner may paint with: the assigned and unassigned ones,
//! and assigning and taking them away.

use super::ScheduleTypeSummary;
use super::records::lock_practitioner;
use crate::db::{Exec, Tx, execute, rows};
use crate::error::{Error, Result};
use crate::time::{record_dates_in_words, stored_record_dates};

const TYPE_COLUMNS: &str =
    "st.id, st.key, st.name, st.code, st.clinic_id, st.background_color, st.font_color";

/// The schedule types assigned to a practitioner, by name.
pub async fn assigned_schedule_types(
    exec: Exec<'_>,
    org: i64,
    practitioner: i64,
) -> Result<Vec<ScheduleTypeSummary>> {
    let sql = format!(
        "SELECT {TYPE_COLUMNS} FROM practitioner_schedule_types pst \
         JOIN schedule_types st ON st.org_id = pst.org_id AND st.id = pst.schedule_type_id \
         WHERE pst.org_id = $1 AND pst.practitioner_id = $2 ORDER BY st.name, st.id"
    );
    Ok(rows!(
        exec,
        fetch_all,
        ScheduleTypeSummary,
        &sql,
        org,
        practitioner
    )?)
}

/// The organisation's schedule types not assigned to a practitioner, by name.
pub async fn unassigned_schedule_types(
    exec: Exec<'_>,
    org: i64,
    practitioner: i64,
) -> Result<Vec<ScheduleTypeSummary>> {
    let sql = format!(
        "SELECT {TYPE_COLUMNS} FROM schedule_types st \
         WHERE st.org_id = $1 AND NOT EXISTS (SELECT 1 FROM practitioner_schedule_types pst \
               WHERE pst.org_id = $1 AND pst.practitioner_id = $2 AND pst.schedule_type_id = st.id) \
         ORDER BY st.name, st.id"
    );
    Ok(rows!(
        exec,
        fetch_all,
        ScheduleTypeSummary,
        &sql,
        org,
        practitioner
    )?)
}

/// Assigns a schedule type to a practitioner (nothing changes when it already is).
pub async fn assign(
    tx: &mut Tx,
    org: i64,
    practitioner: i64,
    schedule_type_id: i64,
) -> Result<ScheduleTypeSummary> {
    lock_practitioner(tx, org, practitioner).await?;
    let t = schedule_type(tx.exec(), org, schedule_type_id, "schedule_type").await?;
    execute!(
        tx.exec(),
        "INSERT INTO practitioner_schedule_types (org_id, practitioner_id, schedule_type_id) \
         VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        org,
        practitioner,
        schedule_type_id
    )?;
    Ok(t)
}

/// Takes a schedule type away from a practitioner; refused, naming the records, while
/// blocks of the practitioner's records still use it.
pub async fn unassign(
    tx: &mut Tx,
    org: i64,
    practitioner: i64,
    schedule_type_id: i64,
) -> Result<ScheduleTypeSummary> {
    lock_practitioner(tx, org, practitioner).await?;
    let t = schedule_type(tx.exec(), org, schedule_type_id, "schedule_type").await?;
    let used = rows!(
        tx.exec(),
        fetch_all,
        (String, Option<String>),
        "SELECT DISTINCT r.start_date, r.end_date FROM availability_blocks b \
         JOIN availability_records r ON r.org_id = b.org_id AND r.id = b.record_id \
         WHERE b.org_id = $1 AND r.practitioner_id = $2 AND b.schedule_type_id = $3 \
         ORDER BY r.start_date",
        org,
        practitioner,
        schedule_type_id
    )?;
    if !used.is_empty() {
        let records = used
            .iter()
            .map(|(start, end)| {
                stored_record_dates(start, end.as_deref()).map(record_dates_in_words)
            })
            .collect::<Result<Vec<String>>>()?;
        return Err(Error::invalid(
            "schedule_type",
            format!(
                "{} is still used by blocks of the availability record{} {}; clear those blocks first",
                t.name,
                if records.len() == 1 { "" } else { "s" },
                records.join(", ")
            ),
        ));
    }
    execute!(
        tx.exec(),
        "DELETE FROM practitioner_schedule_types \
         WHERE org_id = $1 AND practitioner_id = $2 AND schedule_type_id = $3",
        org,
        practitioner,
        schedule_type_id
    )?;
    Ok(t)
}

/// One schedule type of the organisation, or a field error naming `field`.
pub(super) async fn schedule_type(
    exec: Exec<'_>,
    org: i64,
    id: i64,
    field: &str,
) -> Result<ScheduleTypeSummary> {
    let sql =
        format!("SELECT {TYPE_COLUMNS} FROM schedule_types st WHERE st.org_id = $1 AND st.id = $2");
    rows!(exec, fetch_optional, ScheduleTypeSummary, &sql, org, id)?
        .ok_or_else(|| Error::invalid(field, "no such schedule type"))
}
