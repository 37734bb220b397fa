//! Changing a practitioner's hours over time without repainting: *New record from* a
//! date ends a record the day before and starts a copy of it on that date; a *temporary
//! change* cuts a range of dates out of a record into a copy of its own, which the admin
//! then paints, the record keeping its hours before and after it.
//!
//! Every piece is a copy of the record: its blocks (stored rows, in their order), its
//! portal overlay and whether it is customised, its slot step and its clinic. The pieces
//! share no date and together cover exactly the record's dates, so the practitioner's
//! records stay apart and nothing bookable changes until a piece is painted.
//!
//! The record's own row stays the practitioner's regular hours: it keeps the dates
//! before the new record or the temporary change (or, for a change from the record's
//! first day, the dates after it), so the pages and audit entries that name it still
//! name the regular schedule.

use slot_engine::{Date, RecordDates};

use super::records::lock_practitioner;
use super::{Record, get};
use crate::db::{Tx, execute, scalar};
use crate::error::{Error, Result};
use crate::time::{date_in_words, record_dates_in_words};

/// What [`new_record_from`] made of a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRecordFrom {
    /// The record, now ending the day before the new one starts.
    pub ended: Record,
    /// The copy, from the date given to the record's old end.
    pub new: Record,
}

/// What [`temporary_change`] made of a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemporaryChange {
    /// The record's dates before the change, when there are any.
    pub before: Option<Record>,
    /// The copy for the dates of the change, to paint.
    pub temporary: Record,
    /// The record's dates after the change, when there are any.
    pub after: Option<Record>,
}

/// A date typed in `field`, which must not be empty.
fn required_date(field: &str, text: &str, empty: &str) -> Result<Date> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::invalid(field, empty));
    }
    text.parse()
        .map_err(|e: slot_engine::ValueError| Error::invalid(field, e.to_string()))
}

/// Dates from `start` to `end`, which the callers have put in order.
fn dates(start: Date, end: Option<Date>) -> Result<RecordDates> {
    RecordDates::new(start, end).map_err(|e| Error::invalid("dates", e.to_string()))
}

/// Ends the record `id` the day before `start_date` and starts a copy of it on that
/// date, running to the record's old end (open-ended if it was). Refused, naming
/// `start_date`, when the date is missing, not a date, on or before the record's first
/// day (the copy would leave the record no dates) or after its last.
pub async fn new_record_from(
    tx: &mut Tx,
    org: i64,
    practitioner: i64,
    id: i64,
    start_date: &str,
) -> Result<NewRecordFrom> {
    lock_practitioner(tx, org, practitioner).await?;
    let record = get(tx.exec(), org, practitioner, id).await?;
    let from = required_date(
        "start_date",
        start_date,
        "is required: the date the new record starts",
    )?;
    let (start, end) = (record.dates.start(), record.dates.end());
    if from < start {
        return Err(Error::invalid(
            "start_date",
            format!(
                "is before this record starts, on {}: choose a date the record covers",
                date_in_words(start)
            ),
        ));
    }
    if from == start {
        return Err(Error::invalid(
            "start_date",
            format!(
                "is this record's first day, {}: a new record from it would leave this one \
                 no dates; to change the hours from its first day, paint this record's grid",
                date_in_words(start)
            ),
        ));
    }
    if let Some(end) = end
        && from > end
    {
        return Err(Error::invalid(
            "start_date",
            format!(
                "is after this record ends, on {}: choose a date the record covers",
                date_in_words(end)
            ),
        ));
    }
    let day_before = from
        .add_days(-1)
        .expect("a date after the record's start has a day before it");
    set_dates(tx, org, practitioner, id, dates(start, Some(day_before))?).await?;
    let new = copy(tx, org, practitioner, &record, dates(from, end)?).await?;
    Ok(NewRecordFrom {
        ended: get(tx.exec(), org, practitioner, id).await?,
        new: get(tx.exec(), org, practitioner, new).await?,
    })
}

/// Cuts `start_date` to `end_date` (both included) out of the record `id` into a copy
/// of its own, the temporary record to paint; the record keeps its hours on the dates
/// before and after, as itself and a copy. No piece is empty: a change from the
/// record's first day leaves no *before*, one to its last day no *after*. Refused,
/// naming the field, when a date is missing or not a date, the end is before the
/// start, the range is not inside this one record, or it is the whole record (whose
/// grid is then the one to paint).
pub async fn temporary_change(
    tx: &mut Tx,
    org: i64,
    practitioner: i64,
    id: i64,
    start_date: &str,
    end_date: &str,
) -> Result<TemporaryChange> {
    lock_practitioner(tx, org, practitioner).await?;
    let record = get(tx.exec(), org, practitioner, id).await?;
    let from = required_date(
        "start_date",
        start_date,
        "is required: the first date of the temporary change",
    )?;
    let to = required_date(
        "end_date",
        end_date,
        "is required: the last date of the temporary change; for a change with no end, \
         use “New record from…”",
    )?;
    if to < from {
        return Err(Error::invalid(
            "end_date",
            format!("is before the start date, {}", date_in_words(from)),
        ));
    }
    let (start, end) = (record.dates.start(), record.dates.end());
    let outside = "a temporary change must lie inside one record: make one change per record";
    if from < start {
        return Err(Error::invalid(
            "start_date",
            format!(
                "is before this record starts, on {}: {outside}",
                date_in_words(start)
            ),
        ));
    }
    if let Some(end) = end {
        if from > end {
            return Err(Error::invalid(
                "start_date",
                format!(
                    "is after this record ends, on {}: {outside}",
                    date_in_words(end)
                ),
            ));
        }
        if to > end {
            return Err(Error::invalid(
                "end_date",
                format!(
                    "is after this record ends, on {}: {outside}",
                    date_in_words(end)
                ),
            ));
        }
    }
    // The dates before and after the change that the record keeps. The day after the
    // change does not exist when it ends on the last date the engine knows, and then
    // an open-ended record has nothing after it either.
    let before = (from > start).then(|| {
        from.add_days(-1)
            .expect("a date after the record's start has a day before it")
    });
    let after_start = to
        .add_days(1)
        .filter(|next| end.is_none_or(|end| *next <= end));
    let temporary = dates(from, Some(to))?;
    let (before, temporary, after) = match (before, after_start) {
        (None, None) => {
            return Err(Error::invalid(
                "end_date",
                format!(
                    "these dates are the whole record, {}: paint this record's grid instead",
                    record_dates_in_words(record.dates)
                ),
            ));
        }
        (Some(last_before), after_start) => {
            set_dates(tx, org, practitioner, id, dates(start, Some(last_before))?).await?;
            let temporary = copy(tx, org, practitioner, &record, temporary).await?;
            let after = match after_start {
                Some(next) => Some(copy(tx, org, practitioner, &record, dates(next, end)?).await?),
                None => None,
            };
            (Some(id), temporary, after)
        }
        (None, Some(next)) => {
            set_dates(tx, org, practitioner, id, dates(next, end)?).await?;
            let temporary = copy(tx, org, practitioner, &record, temporary).await?;
            (None, temporary, Some(id))
        }
    };
    Ok(TemporaryChange {
        before: piece(tx, org, practitioner, before).await?,
        temporary: get(tx.exec(), org, practitioner, temporary).await?,
        after: piece(tx, org, practitioner, after).await?,
    })
}

/// The record `id`, if there is one.
async fn piece(
    tx: &mut Tx,
    org: i64,
    practitioner: i64,
    id: Option<i64>,
) -> Result<Option<Record>> {
    match id {
        Some(id) => Ok(Some(get(tx.exec(), org, practitioner, id).await?)),
        None => Ok(None),
    }
}

/// Moves a record's dates; its blocks and overlay stay.
async fn set_dates(
    tx: &mut Tx,
    org: i64,
    practitioner: i64,
    id: i64,
    dates: RecordDates,
) -> Result<()> {
    execute!(
        tx.exec(),
        "UPDATE availability_records SET start_date = $4, end_date = $5 \
         WHERE org_id = $1 AND practitioner_id = $2 AND id = $3",
        org,
        practitioner,
        id,
        dates.start().to_string(),
        dates.end().map(|d| d.to_string())
    )?;
    Ok(())
}

/// A new record of the practitioner on `dates`, a copy of `record`: its clinic, slot
/// step, whether its overlay is customised, and its block and overlay rows as stored.
async fn copy(
    tx: &mut Tx,
    org: i64,
    practitioner: i64,
    record: &Record,
    dates: RecordDates,
) -> Result<i64> {
    let id = scalar!(
        tx.exec(),
        i64,
        "INSERT INTO availability_records (org_id, practitioner_id, start_date, end_date, \
         clinic_id, slot_step_minutes, portal_customised) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        org,
        practitioner,
        dates.start().to_string(),
        dates.end().map(|d| d.to_string()),
        record.clinic_id,
        record.slot_step_minutes,
        record.portal_blocks.is_some()
    )?;
    execute!(
        tx.exec(),
        "INSERT INTO availability_blocks (org_id, record_id, position, days, start_minute, \
         end_minute, schedule_type_id) \
         SELECT org_id, $3, position, days, start_minute, end_minute, schedule_type_id \
         FROM availability_blocks WHERE org_id = $1 AND record_id = $2",
        org,
        record.id,
        id
    )?;
    execute!(
        tx.exec(),
        "INSERT INTO portal_blocks (org_id, record_id, position, days, start_minute, end_minute) \
         SELECT org_id, $3, position, days, start_minute, end_minute \
         FROM portal_blocks WHERE org_id = $1 AND record_id = $2",
        org,
        record.id,
        id
    )?;
    Ok(id)
}
