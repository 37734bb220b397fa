//! A practitioner's availability records: reading them with their blocks and overlays
//! in a fixed number of queries, and creating, changing and deleting them under the
//! practitioner's lock, with the checks that name the form field at fault.

use std::collections::HashMap;

use slot_engine::{RecordDates, Resolution, WallTime};

use super::blocks::{clear_blocks, clear_portal};
use super::{Block, PractitionerSummary, Record, RecordInput, Span};
use crate::db::{Backend, Exec, Tx, execute, rows, scalar, scalar_optional};
use crate::error::{Error, Problems, Result};
use crate::organisation;
use crate::scenario_rows::days_of;
use crate::time::{check_record_dates, record_dates_in_words, stored_record_dates};

/// One practitioner of the organisation.
pub async fn practitioner(exec: Exec<'_>, org: i64, id: i64) -> Result<PractitionerSummary> {
    rows!(
        exec,
        fetch_optional,
        PractitionerSummary,
        "SELECT p.id, p.key, p.name, p.home_clinic_id, c.name AS home_clinic \
         FROM practitioners p JOIN clinics c ON c.org_id = p.org_id AND c.id = p.home_clinic_id \
         WHERE p.org_id = $1 AND p.id = $2",
        org,
        id
    )?
    .ok_or(Error::NotFound("practitioner"))
}

#[derive(sqlx::FromRow)]
struct RecordRow {
    id: i64,
    practitioner_id: i64,
    start_date: String,
    end_date: Option<String>,
    clinic_id: Option<i64>,
    slot_step_minutes: Option<i64>,
    portal_customised: bool,
}

#[derive(sqlx::FromRow)]
struct BlockRow {
    record_id: i64,
    days: i64,
    start_minute: i64,
    end_minute: i64,
    schedule_type_id: i64,
    schedule_type_key: String,
}

#[derive(sqlx::FromRow)]
struct PortalRow {
    record_id: i64,
    days: i64,
    start_minute: i64,
    end_minute: i64,
}

fn stored_time(value: i64) -> Result<WallTime> {
    u32::try_from(value)
        .ok()
        .and_then(|m| WallTime::from_minutes(m).ok())
        .ok_or_else(|| Error::invalid("stored block time", value.to_string()))
}

/// Loads a practitioner's records (or the one `only`), with their blocks and overlays,
/// in three queries whatever their number.
async fn load(
    mut exec: Exec<'_>,
    org: i64,
    practitioner: i64,
    only: Option<i64>,
) -> Result<Vec<Record>> {
    // `$3` = -1 selects every record of the practitioner.
    let only = only.unwrap_or(-1);
    let record_rows = rows!(
        exec.reborrow(),
        fetch_all,
        RecordRow,
        "SELECT id, practitioner_id, start_date, end_date, clinic_id, slot_step_minutes, \
                portal_customised \
         FROM availability_records \
         WHERE org_id = $1 AND practitioner_id = $2 AND ($3 = -1 OR id = $3) \
         ORDER BY start_date, id",
        org,
        practitioner,
        only
    )?;
    let block_rows = rows!(
        exec.reborrow(),
        fetch_all,
        BlockRow,
        "SELECT b.record_id, b.days, b.start_minute, b.end_minute, b.schedule_type_id, \
                st.key AS schedule_type_key \
         FROM availability_blocks b JOIN availability_records r ON r.org_id = b.org_id AND r.id = b.record_id \
              JOIN schedule_types st ON st.org_id = b.org_id AND st.id = b.schedule_type_id \
         WHERE r.org_id = $1 AND r.practitioner_id = $2 AND ($3 = -1 OR r.id = $3) \
         ORDER BY b.record_id, b.position",
        org,
        practitioner,
        only
    )?;
    let portal_rows = rows!(
        exec.reborrow(),
        fetch_all,
        PortalRow,
        "SELECT b.record_id, b.days, b.start_minute, b.end_minute \
         FROM portal_blocks b JOIN availability_records r ON r.org_id = b.org_id AND r.id = b.record_id \
         WHERE r.org_id = $1 AND r.practitioner_id = $2 AND ($3 = -1 OR r.id = $3) \
         ORDER BY b.record_id, b.position",
        org,
        practitioner,
        only
    )?;
    let mut blocks: HashMap<i64, Vec<Block>> = HashMap::new();
    for b in block_rows {
        blocks.entry(b.record_id).or_default().push(Block {
            days: days_of(b.days),
            start: stored_time(b.start_minute)?,
            end: stored_time(b.end_minute)?,
            schedule_type_id: b.schedule_type_id,
            schedule_type: b.schedule_type_key,
        });
    }
    let mut portal: HashMap<i64, Vec<Span>> = HashMap::new();
    for b in portal_rows {
        portal.entry(b.record_id).or_default().push(Span {
            days: days_of(b.days),
            start: stored_time(b.start_minute)?,
            end: stored_time(b.end_minute)?,
        });
    }
    record_rows
        .into_iter()
        .map(|r| {
            Ok(Record {
                id: r.id,
                practitioner_id: r.practitioner_id,
                dates: stored_record_dates(&r.start_date, r.end_date.as_deref())?,
                clinic_id: r.clinic_id,
                slot_step_minutes: r.slot_step_minutes,
                blocks: blocks.remove(&r.id).unwrap_or_default(),
                portal_blocks: if r.portal_customised {
                    Some(portal.remove(&r.id).unwrap_or_default())
                } else {
                    None
                },
            })
        })
        .collect()
}

/// A practitioner's records, earliest first, with blocks and overlays.
pub async fn list(mut exec: Exec<'_>, org: i64, practitioner_id: i64) -> Result<Vec<Record>> {
    practitioner(exec.reborrow(), org, practitioner_id).await?;
    load(exec, org, practitioner_id, None).await
}

/// One record of a practitioner.
pub async fn get(exec: Exec<'_>, org: i64, practitioner: i64, id: i64) -> Result<Record> {
    load(exec, org, practitioner, Some(id))
        .await?
        .pop()
        .ok_or(Error::NotFound("availability record"))
}

/// Takes the practitioner's lock for the rest of the transaction (PostgreSQL: a row
/// lock; SQLite: the transaction's `BEGIN IMMEDIATE` already excludes other writers),
/// and checks the practitioner belongs to the organisation.
pub(super) async fn lock_practitioner(tx: &mut Tx, org: i64, practitioner: i64) -> Result<()> {
    let sql = match tx.backend() {
        Backend::Sqlite => "SELECT id FROM practitioners WHERE org_id = $1 AND id = $2",
        Backend::Postgres => {
            "SELECT id FROM practitioners WHERE org_id = $1 AND id = $2 FOR UPDATE"
        }
    };
    scalar_optional!(tx.exec(), i64, sql, org, practitioner)?
        .ok_or(Error::NotFound("practitioner"))?;
    Ok(())
}

/// The organisation's grid resolution.
pub(super) async fn resolution(tx: &mut Tx, org: i64) -> Result<Resolution> {
    organisation::resolution(tx.exec(), org).await
}

/// Checks a record's fields, naming each field at fault, all at once.
async fn check(
    tx: &mut Tx,
    org: i64,
    input: &RecordInput,
) -> Result<(RecordDates, Option<i64>, Option<i64>)> {
    let mut problems = Problems::new();
    let dates = check_record_dates(&mut problems, &input.start_date, input.end_date.as_deref());
    if let Some(clinic) = input.clinic_id {
        let known = scalar!(
            tx.exec(),
            i64,
            "SELECT COUNT(*) FROM clinics WHERE org_id = $1 AND id = $2",
            org,
            clinic
        )?;
        if known == 0 {
            problems.add("clinic_id", "Choose one of the organisation's clinics.");
        }
    }
    if let Some(step) = input.slot_step_minutes {
        let r = i64::from(resolution(tx, org).await?.minutes());
        if step <= 0 || step > 1440 || step % r != 0 {
            problems.add(
                "slot_step_minutes",
                format!(
                    "Enter a scheduling interval that is a multiple of the {r}-minute grid, at most 1440 minutes."
                ),
            );
        }
    }
    let dates = problems.done(dates)?;
    Ok((dates, input.clinic_id, input.slot_step_minutes))
}

/// Refuses dates that share a day with another record of the practitioner, naming both
/// records in words and the field to change (the start date when it falls inside the
/// other record, else the end date), and saying what to do instead: a change of hours
/// from a date, or for some dates, is a copy of the record in force
/// ([`new_record_from`](super::new_record_from),
/// [`temporary_change`](super::temporary_change)), not a second record over it.
async fn check_no_overlap(
    tx: &mut Tx,
    org: i64,
    practitioner_id: i64,
    id: Option<i64>,
    dates: RecordDates,
) -> Result<()> {
    let others = rows!(
        tx.exec(),
        fetch_all,
        (String, Option<String>),
        "SELECT start_date, end_date FROM availability_records \
         WHERE org_id = $1 AND practitioner_id = $2 AND id <> $3 ORDER BY start_date",
        org,
        practitioner_id,
        id.unwrap_or(-1)
    )?;
    for (start, end) in others {
        let other = stored_record_dates(&start, end.as_deref())?;
        if other.overlaps(dates) {
            let field = if other.contains(dates.start()) {
                "start_date"
            } else {
                "end_date"
            };
            let name = practitioner(tx.exec(), org, practitioner_id).await?.name;
            return Err(Error::invalid(
                field,
                format!(
                    "these dates, {}, overlap {name}'s record {}; to change hours from a \
                     date, use “New record from…” on that record, or \
                     “Temporary change…” for a date range",
                    record_dates_in_words(dates),
                    record_dates_in_words(other),
                ),
            ));
        }
    }
    Ok(())
}

/// Creates a record without blocks, its overlay not customised.
pub async fn create(
    tx: &mut Tx,
    org: i64,
    practitioner: i64,
    input: &RecordInput,
) -> Result<Record> {
    lock_practitioner(tx, org, practitioner).await?;
    let (dates, clinic, step) = check(tx, org, input).await?;
    check_no_overlap(tx, org, practitioner, None, dates).await?;
    let id = scalar!(
        tx.exec(),
        i64,
        "INSERT INTO availability_records (org_id, practitioner_id, start_date, end_date, \
         clinic_id, slot_step_minutes, portal_customised) \
         VALUES ($1, $2, $3, $4, $5, $6, FALSE) RETURNING id",
        org,
        practitioner,
        dates.start().to_string(),
        dates.end().map(|d| d.to_string()),
        clinic,
        step
    )?;
    get(tx.exec(), org, practitioner, id).await
}

/// Changes a record's dates, clinic and slot step; its blocks stay.
pub async fn update(
    tx: &mut Tx,
    org: i64,
    practitioner: i64,
    id: i64,
    input: &RecordInput,
) -> Result<Record> {
    lock_practitioner(tx, org, practitioner).await?;
    get(tx.exec(), org, practitioner, id).await?;
    let (dates, clinic, step) = check(tx, org, input).await?;
    check_no_overlap(tx, org, practitioner, Some(id), dates).await?;
    execute!(
        tx.exec(),
        "UPDATE availability_records SET start_date = $4, end_date = $5, clinic_id = $6, \
         slot_step_minutes = $7 WHERE org_id = $1 AND practitioner_id = $2 AND id = $3",
        org,
        practitioner,
        id,
        dates.start().to_string(),
        dates.end().map(|d| d.to_string()),
        clinic,
        step
    )?;
    get(tx.exec(), org, practitioner, id).await
}

/// Deletes a record with its blocks and overlay.
pub async fn delete(tx: &mut Tx, org: i64, practitioner: i64, id: i64) -> Result<()> {
    lock_practitioner(tx, org, practitioner).await?;
    get(tx.exec(), org, practitioner, id).await?;
    clear_blocks(tx, org, id).await?;
    clear_portal(tx, org, id).await?;
    execute!(
        tx.exec(),
        "DELETE FROM availability_records WHERE org_id = $1 AND practitioner_id = $2 AND id = $3",
        org,
        practitioner,
        id
    )?;
    Ok(())
}

/// Every (practitioner, clinic) pair of the organisation where a block of an
/// availability record not ended before `from` (`YYYY-MM-DD`) places the practitioner —
/// the block's clinic by the rule of *Which clinic* in `docs/scenario.md`: its
/// schedule type's clinic, else its record's, else the home clinic —, ordered; the
/// FHIR `Schedule`s, in one query whatever the number of practitioners.
pub async fn places(exec: Exec<'_>, org: i64, from: &str) -> Result<Vec<(i64, i64)>> {
    Ok(rows!(
        exec,
        fetch_all,
        (i64, i64),
        "SELECT DISTINCT r.practitioner_id, COALESCE(st.clinic_id, r.clinic_id, p.home_clinic_id) \
         FROM availability_records r \
         JOIN practitioners p ON p.org_id = r.org_id AND p.id = r.practitioner_id \
         JOIN availability_blocks b ON b.org_id = r.org_id AND b.record_id = r.id \
         JOIN schedule_types st ON st.org_id = b.org_id AND st.id = b.schedule_type_id \
         WHERE r.org_id = $1 AND (r.end_date IS NULL OR r.end_date >= $2) \
         ORDER BY 1, 2",
        org,
        from
    )?)
}
