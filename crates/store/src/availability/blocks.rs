//! Replacing a record's blocks and portal overlay: from scenario-format blocks (the
//! API) or from what the grid editor painted, each checked against the grid, the
//! practitioner's schedule types and each other before it is written.

use std::collections::HashSet;

use slot_engine::scenario::{Block as ScenarioBlock, PortalBlock as ScenarioPortalBlock};
use slot_engine::{Resolution, WallTime, WeekGrid, Weekday};

use super::assignment::schedule_type;
use super::painting::minute;
use super::records::{lock_practitioner, resolution};
use super::{
    Painting, Record, ScheduleTypeSummary, Span, assigned_schedule_types, day_name, get,
    practitioner,
};
use crate::db::{Tx, execute, scalar};
use crate::error::{Error, Result};
use crate::scenario_rows::mask_of;

pub(super) async fn clear_blocks(tx: &mut Tx, org: i64, record: i64) -> Result<()> {
    execute!(
        tx.exec(),
        "DELETE FROM availability_blocks WHERE org_id = $1 AND record_id = $2",
        org,
        record
    )?;
    Ok(())
}

pub(super) async fn clear_portal(tx: &mut Tx, org: i64, record: i64) -> Result<()> {
    execute!(
        tx.exec(),
        "DELETE FROM portal_blocks WHERE org_id = $1 AND record_id = $2",
        org,
        record
    )?;
    Ok(())
}

/// Replaces a record's blocks, in the given order.
async fn write_blocks(tx: &mut Tx, org: i64, record: i64, blocks: &[(i64, Span)]) -> Result<()> {
    clear_blocks(tx, org, record).await?;
    for (n, (schedule_type, s)) in blocks.iter().enumerate() {
        execute!(
            tx.exec(),
            "INSERT INTO availability_blocks (org_id, record_id, position, days, start_minute, \
             end_minute, schedule_type_id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            org,
            record,
            n as i64,
            mask_of(&s.days),
            i64::from(s.start.minutes()),
            i64::from(s.end.minutes()),
            schedule_type
        )?;
    }
    Ok(())
}

/// Replaces a record's overlay: `None` makes it not customised.
async fn write_portal(tx: &mut Tx, org: i64, record: i64, portal: Option<&[Span]>) -> Result<()> {
    clear_portal(tx, org, record).await?;
    execute!(
        tx.exec(),
        "UPDATE availability_records SET portal_customised = $3 WHERE org_id = $1 AND id = $2",
        org,
        record,
        portal.is_some()
    )?;
    for (n, s) in portal.into_iter().flatten().enumerate() {
        execute!(
            tx.exec(),
            "INSERT INTO portal_blocks (org_id, record_id, position, days, start_minute, end_minute) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            org,
            record,
            n as i64,
            mask_of(&s.days),
            i64::from(s.start.minutes()),
            i64::from(s.end.minutes())
        )?;
    }
    Ok(())
}

/// Checks one block's or portal block's times (the scenario's rules), naming `item`.
fn check_span(
    item: &str,
    days: &[Weekday],
    start: WallTime,
    end: WallTime,
    r: Resolution,
) -> Result<()> {
    if start >= end {
        return Err(Error::invalid(
            item,
            format!("start {start} is not before end {end}"),
        ));
    }
    for t in [start, end] {
        if !r.is_on_grid(t) {
            return Err(Error::invalid(
                item,
                format!("{t} is not on the {}-minute grid", r.minutes()),
            ));
        }
    }
    let mut seen = HashSet::new();
    for d in days {
        if !seen.insert(*d) {
            return Err(Error::invalid(item, format!("day {d} is named twice")));
        }
    }
    Ok(())
}

/// Replaces a record's blocks with scenario-format blocks, stored as given. Refused,
/// naming the block, when a time is off the grid, a schedule type is unknown or not
/// assigned to the practitioner, or two blocks cover one cell on the same day.
pub async fn replace_blocks(
    tx: &mut Tx,
    org: i64,
    practitioner: i64,
    id: i64,
    blocks: &[ScenarioBlock],
) -> Result<Record> {
    lock_practitioner(tx, org, practitioner).await?;
    get(tx.exec(), org, practitioner, id).await?;
    let r = resolution(tx, org).await?;
    let assigned = assigned_schedule_types(tx.exec(), org, practitioner).await?;
    let mut covered = WeekGrid::new(r);
    let mut owners: Vec<(usize, Span)> = Vec::new();
    let mut rows: Vec<(i64, Span)> = Vec::with_capacity(blocks.len());
    for (n, b) in blocks.iter().enumerate() {
        let item = format!("blocks[{n}]");
        check_span(&item, &b.days, b.start, b.end, r)?;
        let key = b.schedule_type.as_str();
        let t = match assigned.iter().find(|t| t.key == key) {
            Some(t) => t.id,
            None => {
                let known = scalar!(
                    tx.exec(),
                    i64,
                    "SELECT COUNT(*) FROM schedule_types WHERE org_id = $1 AND key = $2",
                    org,
                    key
                )?;
                let message = if known == 0 {
                    format!("unknown schedule type {key:?}")
                } else {
                    format!(
                        "schedule type {key:?} is not assigned to the practitioner; assign it first"
                    )
                };
                return Err(Error::invalid(format!("{item}.schedule_type"), message));
            }
        };
        for &day in &b.days {
            if covered.any_in(day, b.start, b.end) {
                let other = owners
                    .iter()
                    .find(|(_, s)| s.days.contains(&day) && s.start < b.end && b.start < s.end)
                    .map_or(0, |(m, _)| *m);
                return Err(Error::invalid(
                    item,
                    format!(
                        "covers {} {}-{}, which blocks[{other}] already covers",
                        day_name(day),
                        b.start,
                        b.end
                    ),
                ));
            }
            covered.fill(day, b.start, b.end);
        }
        let span = Span {
            days: b.days.clone(),
            start: b.start,
            end: b.end,
        };
        owners.push((n, span.clone()));
        rows.push((t, span));
    }
    write_blocks(tx, org, id, &rows).await?;
    get(tx.exec(), org, practitioner, id).await
}

/// Replaces a record's portal overlay with scenario-format portal blocks, stored as
/// given (they may overlap: their union counts); `None` makes it not customised and
/// `Some(&[])` puts nothing online.
pub async fn replace_portal(
    tx: &mut Tx,
    org: i64,
    practitioner: i64,
    id: i64,
    portal: Option<&[ScenarioPortalBlock]>,
) -> Result<Record> {
    lock_practitioner(tx, org, practitioner).await?;
    get(tx.exec(), org, practitioner, id).await?;
    let r = resolution(tx, org).await?;
    let spans = match portal {
        None => None,
        Some(blocks) => {
            let mut spans = Vec::with_capacity(blocks.len());
            for (n, b) in blocks.iter().enumerate() {
                check_span(&format!("portal_blocks[{n}]"), &b.days, b.start, b.end, r)?;
                spans.push(Span {
                    days: b.days.clone(),
                    start: b.start,
                    end: b.end,
                });
            }
            Some(spans)
        }
    };
    write_portal(tx, org, id, spans.as_deref()).await?;
    get(tx.exec(), org, practitioner, id).await
}

/// Saves what the grid editor painted: the blocks and the overlay of the record, as
/// compact blocks. Refused, naming both, when two schedule types claim one cell, and
/// when a schedule type is not assigned to the practitioner.
pub async fn save_painting(
    tx: &mut Tx,
    org: i64,
    practitioner: i64,
    id: i64,
    painting: &Painting,
) -> Result<Record> {
    lock_practitioner(tx, org, practitioner).await?;
    get(tx.exec(), org, practitioner, id).await?;
    let r = resolution(tx, org).await?;
    if painting.resolution() != r {
        return Err(Error::invalid(
            "cells",
            "the organisation's grid resolution changed while the page was open; reload it",
        ));
    }
    let assigned = assigned_schedule_types(tx.exec(), org, practitioner).await?;
    if let Some(c) = painting.clash {
        let first = type_name(tx, org, &assigned, c.first).await?;
        let second = type_name(tx, org, &assigned, c.second).await?;
        return Err(Error::invalid(
            "cells",
            format!(
                "{} {} is marked for both {first} and {second}: a block takes one schedule type",
                day_name(c.day),
                minute(c.minute)
            ),
        ));
    }
    for t in painting.schedule_types() {
        if !assigned.iter().any(|a| a.id == t) {
            let name = type_name(tx, org, &assigned, t).await?;
            let who = practitioner_name(tx, org, practitioner).await?;
            return Err(Error::invalid(
                "cells",
                format!("{name} is not assigned to {who}: assign it before painting with it"),
            ));
        }
    }
    write_blocks(tx, org, id, &painting.blocks()).await?;
    write_portal(tx, org, id, painting.portal_blocks().as_deref()).await?;
    get(tx.exec(), org, practitioner, id).await
}

/// The name of a schedule type of the organisation, for a message about the grid.
async fn type_name(
    tx: &mut Tx,
    org: i64,
    assigned: &[ScheduleTypeSummary],
    id: i64,
) -> Result<String> {
    Ok(match assigned.iter().find(|t| t.id == id) {
        Some(t) => t.name.clone(),
        None => schedule_type(tx.exec(), org, id, "cells").await?.name,
    })
}

async fn practitioner_name(tx: &mut Tx, org: i64, id: i64) -> Result<String> {
    Ok(practitioner(tx.exec(), org, id).await?.name)
}
