//! Rooms and equipment (issue 16): what an admin sets up about the resources a booking
//! uses besides a practitioner.
//!
//! A resource is at one clinic of the organisation and holds up to `capacity`
//! appointments at once. It is either *always available* (whenever a practitioner is),
//! or available only where its dated records' weekly blocks say, records of one
//! resource never sharing a date. Its *time off* is when it is out of service. A
//! service's *requirements* are a list of needs, each met by one place in any one of
//! its resources (`[[room 1, room 2], [shockwave]]`: a room and the shockwave machine).
//!
//! Every id read from a request is resolved inside the organisation here, before it
//! reaches a write; every write is refused with an [`Error::Invalid`] naming the field
//! at fault and changes nothing. Writes take the caller's [`Tx`]: the web's setup change
//! then re-validates the whole setup with the engine and audits it in the same
//! transaction, and the database's triggers (migration 0025) give the organisation a new
//! setup etag, so every server's setup cache sees the change.
//!
//! Deleting a resource that appointments hold is refused (their history keeps it; take
//! it out of the services that need it instead). Deleting one that services need takes
//! it out of their needs, unless it is the only choice left of a need: then the delete is
//! refused, since dropping the need would let that service be booked without the room or
//! machine it cannot do without.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;
use slot_engine::scenario::PortalBlock;
use slot_engine::{RecordDates, Resolution, WallTime};

use crate::db::{Backend, Exec, Tx, execute, rows, scalar, scalar_optional, text_enum};
use crate::error::{Error, Problems, Result, unique_as};
use crate::keys::{self, Kind};
use crate::organisation;
use crate::practitioner_type::count;
use crate::scenario_rows::{days_of, mask_of};
use crate::time::{check_record_dates, record_dates_in_words, stored_record_dates};

/// The most requirements a service may have (the scenario format's limit).
pub const MAX_REQUIREMENTS: usize = 16;

/// The most appointments a resource may hold at once.
pub const MAX_CAPACITY: i64 = 10_000;

text_enum! {
    /// Whether a resource is a room or a piece of equipment, spelt as the scenario
    /// format spells it. The engine reads it only for words.
    pub enum ResourceKind for "kind" {
        /// A treatment room, a gym, a pool.
        Room = "room",
        /// A machine or device that goes with the appointment.
        Equipment = "equipment",
    }
}

impl ResourceKind {
    /// What people call it: `Room`, `Equipment`.
    pub fn label(self) -> &'static str {
        match self {
            ResourceKind::Room => "Room",
            ResourceKind::Equipment => "Equipment",
        }
    }
}

/// A room or piece of equipment, with the name of its clinic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Resource {
    pub id: i64,
    /// Scenario key, derived from the name when an admin creates the resource, and kept
    /// when it is renamed.
    pub key: String,
    pub name: String,
    pub kind: ResourceKind,
    /// The clinic it is at: only appointments at that clinic use it.
    pub clinic_id: i64,
    /// That clinic's name.
    pub clinic_name: String,
    /// How many appointments it holds at once, 1 ..= 10000.
    pub capacity: i64,
    /// Available whenever a practitioner is; `false`: only where its records say.
    pub always_available: bool,
}

/// What an admin enters for a resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceInput {
    /// Required, at most 100 characters once trimmed.
    pub name: String,
    pub kind: ResourceKind,
    /// A clinic of the organisation.
    pub clinic_id: i64,
    /// 1 ..= 10000.
    pub capacity: i64,
    pub always_available: bool,
}

/// One dated availability record of a resource, with its weekly blocks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceRecord {
    pub id: i64,
    pub resource_id: i64,
    pub dates: RecordDates,
    /// When the resource is available each week, in the order saved; empty: not at all.
    pub blocks: Vec<PortalBlock>,
}

/// What an admin enters for a resource's availability record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordInput {
    /// `YYYY-MM-DD`.
    pub start_date: String,
    /// `YYYY-MM-DD`, or `None` (or blank) for an open-ended record.
    pub end_date: Option<String>,
    /// Each block's days (each at most once, at least one), and start and end on the
    /// organisation's grid, start before end. Blocks may overlap: their union counts.
    pub blocks: Vec<PortalBlock>,
}

/// A stretch a resource is out of service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ResourceTimeOff {
    pub id: i64,
    pub resource_id: i64,
    pub start_ns: i64,
    pub end_ns: i64,
    /// Why, for staff ("annual service").
    pub reason: Option<String>,
}

/// A service's requirement, as stored: the service, the requirement's position (from
/// 0) and one of its resources.
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct RequirementLink {
    pub service_id: i64,
    pub requirement: i64,
    pub resource_id: i64,
}

/// What deleting a resource did besides deleting it: the services whose needs it was
/// taken out of, by name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Deleted {
    pub removed_from_services: Vec<String>,
}

const SELECT: &str = "SELECT r.id, r.key, r.name, r.kind, r.clinic_id, c.name AS clinic_name, \
    r.capacity, r.always_available FROM resources r JOIN clinics c ON c.org_id = r.org_id AND c.id = r.clinic_id";

/// Checks an input's own fields without saving it, reporting every field's problem at
/// once.
pub fn validate(input: &ResourceInput) -> Result<()> {
    check(input).map(|_| ())
}

fn check(input: &ResourceInput) -> Result<String> {
    let mut problems = Problems::new();
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        problems.add("name", "Enter a name (at most 100 characters).");
    }
    if !(1..=MAX_CAPACITY).contains(&input.capacity) {
        problems.add(
            "capacity",
            "Enter how many appointments it holds at once, from 1 to 10000.",
        );
    }
    problems.finish()?;
    Ok(name.to_owned())
}

async fn check_clinic(tx: &mut Tx, org: i64, clinic: i64) -> Result<()> {
    let found = scalar!(
        tx.exec(),
        i64,
        "SELECT COUNT(*) FROM clinics WHERE org_id = $1 AND id = $2",
        org,
        clinic
    )?;
    if found == 0 {
        return Err(Error::invalid(
            "clinic_id",
            "Choose one of the organisation's clinics.",
        ));
    }
    Ok(())
}

/// Every resource of the organisation, by clinic name, then name.
pub async fn all(exec: Exec<'_>, org: i64) -> Result<Vec<Resource>> {
    let sql = format!("{SELECT} WHERE r.org_id = $1 ORDER BY c.name, r.name, r.id");
    Ok(rows!(exec, fetch_all, Resource, &sql, org)?)
}

/// The organisation's resource `id`, or [`Error::NotFound`] (also for another
/// organisation's).
pub async fn get(exec: Exec<'_>, org: i64, id: i64) -> Result<Resource> {
    let sql = format!("{SELECT} WHERE r.org_id = $1 AND r.id = $2");
    rows!(exec, fetch_optional, Resource, &sql, org, id)?.ok_or(Error::NotFound("resource"))
}

/// The organisation's resource `id` for the rest of the transaction: on PostgreSQL a
/// row lock, so two admins changing one resource's records cannot both pass the check
/// that its records stay apart (SQLite's `BEGIN IMMEDIATE` already excludes them).
async fn lock(tx: &mut Tx, org: i64, id: i64) -> Result<Resource> {
    if tx.backend() == Backend::Postgres {
        scalar_optional!(
            tx.exec(),
            i64,
            "SELECT id FROM resources WHERE org_id = $1 AND id = $2 FOR UPDATE",
            org,
            id
        )?
        .ok_or(Error::NotFound("resource"))?;
    }
    get(tx.exec(), org, id).await
}

/// Creates a resource under a new key derived from its name.
pub async fn create(tx: &mut Tx, org: i64, input: &ResourceInput) -> Result<Resource> {
    let name = check(input)?;
    check_clinic(tx, org, input.clinic_id).await?;
    let key = keys::unique(tx.exec(), Kind::Resource, org, &name).await?;
    let id = scalar!(
        tx.exec(),
        i64,
        "INSERT INTO resources (org_id, key, name, kind, clinic_id, capacity, always_available) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        org,
        &key,
        &name,
        input.kind.as_str(),
        input.clinic_id,
        input.capacity,
        input.always_available
    )
    .map_err(unique_as("name", "another resource has this key"))?;
    get(tx.exec(), org, id).await
}

/// Saves a resource's name, kind, clinic, capacity and whether it is always available;
/// its key, records and time off stay. Refused, changing nothing, when it would leave
/// upcoming appointments (ending after `now_ns`) that hold it over its capacity or at
/// another clinic than the resource: those are moved first.
pub async fn update(
    tx: &mut Tx,
    org: i64,
    id: i64,
    input: &ResourceInput,
    now_ns: i64,
) -> Result<Resource> {
    let before = lock(tx, org, id).await?;
    let name = check(input)?;
    check_clinic(tx, org, input.clinic_id).await?;
    let holds = upcoming_holds(tx.exec(), org, id, now_ns, (i64::MIN, i64::MAX)).await?;
    let moved = input.clinic_id != before.clinic_id;
    let elsewhere = holds
        .iter()
        .filter(|h| moved && h.2 != input.clinic_id)
        .count();
    if elsewhere > 0 {
        return Err(Error::invalid(
            "clinic_id",
            format!(
                "{} upcoming appointment{} at {} hold{} {}: move {} to another room or \
                 piece of equipment first, or keep it at {}.",
                elsewhere,
                plural(elsewhere),
                before.clinic_name,
                if elsewhere == 1 { "s" } else { "" },
                before.name,
                if elsewhere == 1 { "it" } else { "them" },
                before.clinic_name
            ),
        ));
    }
    let at_once = most_at_once(&holds);
    if input.capacity < before.capacity && input.capacity < at_once as i64 {
        return Err(Error::invalid(
            "capacity",
            format!(
                "Up to {at_once} upcoming appointments hold {} at once: a capacity of {} \
                 would overbook it. Move some to another room first, or keep the capacity at \
                 {at_once} or more.",
                before.name, input.capacity
            ),
        ));
    }
    execute!(
        tx.exec(),
        "UPDATE resources SET name = $3, kind = $4, clinic_id = $5, capacity = $6, \
         always_available = $7 WHERE org_id = $1 AND id = $2",
        org,
        id,
        &name,
        input.kind.as_str(),
        input.clinic_id,
        input.capacity,
        input.always_available
    )?;
    get(tx.exec(), org, id).await
}

/// Deletes a resource with its records and time off, taking it out of the services that
/// need it. Refused, naming them, when appointments hold it or when it is the only
/// choice left of a service's need.
pub async fn delete(tx: &mut Tx, org: i64, id: i64) -> Result<Deleted> {
    let r = lock(tx, org, id).await?;
    let held = scalar!(
        tx.exec(),
        i64,
        "SELECT COUNT(*) FROM appointment_resources WHERE org_id = $1 AND resource_id = $2",
        org,
        id
    )?;
    if held > 0 {
        return Err(Error::invalid(
            "resource",
            format!(
                "{:?} is held by {}, whose history keeps it: take it out of the services \
                 that need it instead, so that no new booking uses it",
                r.name,
                count(held, "appointment")
            ),
        ));
    }
    // The services whose need would be left without a choice, by name.
    let only_choice = rows!(
        tx.exec(),
        fetch_all,
        (String,),
        "SELECT DISTINCT s.name FROM service_requirements q JOIN services s ON s.org_id = q.org_id AND s.id = q.service_id \
         WHERE q.org_id = $1 AND q.resource_id = $2 AND NOT EXISTS (SELECT 1 FROM \
         service_requirements o WHERE o.org_id = q.org_id AND o.service_id = q.service_id \
         AND o.requirement = q.requirement AND o.resource_id <> q.resource_id) ORDER BY s.name",
        org,
        id
    )?;
    if !only_choice.is_empty() {
        let names: Vec<String> = only_choice.into_iter().map(|(n,)| n).collect();
        return Err(Error::invalid(
            "resource",
            format!(
                "{:?} is the only choice of a need of {}: change what {} first",
                r.name,
                names.join(", "),
                if names.len() == 1 {
                    "that service needs"
                } else {
                    "those services need"
                }
            ),
        ));
    }
    let removed = rows!(
        tx.exec(),
        fetch_all,
        (String,),
        "SELECT DISTINCT s.name FROM service_requirements q JOIN services s ON s.org_id = q.org_id AND s.id = q.service_id \
         WHERE q.org_id = $1 AND q.resource_id = $2 ORDER BY s.name",
        org,
        id
    )?;
    for sql in [
        "DELETE FROM service_requirements WHERE org_id = $1 AND resource_id = $2",
        "DELETE FROM resource_availability_blocks WHERE org_id = $1 AND record_id IN \
         (SELECT id FROM resource_availability_records WHERE org_id = $1 AND resource_id = $2)",
        "DELETE FROM resource_availability_records WHERE org_id = $1 AND resource_id = $2",
        "DELETE FROM resource_time_off WHERE org_id = $1 AND resource_id = $2",
        "DELETE FROM resources WHERE org_id = $1 AND id = $2",
    ] {
        execute!(tx.exec(), sql, org, id)?;
    }
    Ok(Deleted {
        removed_from_services: removed.into_iter().map(|(n,)| n).collect(),
    })
}

// Availability records.

#[derive(sqlx::FromRow)]
struct RecordRow {
    id: i64,
    resource_id: i64,
    start_date: String,
    end_date: Option<String>,
}

#[derive(sqlx::FromRow)]
struct BlockRow {
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

/// Loads records (of one resource, or of every resource when `resource` is `None`)
/// with their blocks, in two queries whatever their number.
async fn load_records(
    mut exec: Exec<'_>,
    org: i64,
    resource: Option<i64>,
) -> Result<Vec<ResourceRecord>> {
    let resource = resource.unwrap_or(-1);
    let records = rows!(
        exec.reborrow(),
        fetch_all,
        RecordRow,
        "SELECT id, resource_id, start_date, end_date FROM resource_availability_records \
         WHERE org_id = $1 AND ($2 = -1 OR resource_id = $2) ORDER BY resource_id, start_date, id",
        org,
        resource
    )?;
    let blocks = rows!(
        exec,
        fetch_all,
        BlockRow,
        "SELECT b.record_id, b.days, b.start_minute, b.end_minute FROM resource_availability_blocks b \
         JOIN resource_availability_records r ON r.org_id = b.org_id AND r.id = b.record_id \
         WHERE b.org_id = $1 AND ($2 = -1 OR r.resource_id = $2) ORDER BY b.record_id, b.position",
        org,
        resource
    )?;
    let mut by_record: BTreeMap<i64, Vec<PortalBlock>> = BTreeMap::new();
    for b in blocks {
        by_record.entry(b.record_id).or_default().push(PortalBlock {
            days: days_of(b.days),
            start: stored_time(b.start_minute)?,
            end: stored_time(b.end_minute)?,
        });
    }
    records
        .into_iter()
        .map(|r| {
            Ok(ResourceRecord {
                id: r.id,
                resource_id: r.resource_id,
                dates: stored_record_dates(&r.start_date, r.end_date.as_deref())?,
                blocks: by_record.remove(&r.id).unwrap_or_default(),
            })
        })
        .collect()
}

/// A resource's availability records, by start date.
pub async fn records(mut exec: Exec<'_>, org: i64, resource: i64) -> Result<Vec<ResourceRecord>> {
    get(exec.reborrow(), org, resource).await?;
    load_records(exec, org, Some(resource)).await
}

/// Every resource's availability records, by resource, then start date.
pub async fn all_records(exec: Exec<'_>, org: i64) -> Result<Vec<ResourceRecord>> {
    load_records(exec, org, None).await
}

/// One record of a resource, or [`Error::NotFound`].
pub async fn record(
    mut exec: Exec<'_>,
    org: i64,
    resource: i64,
    id: i64,
) -> Result<ResourceRecord> {
    get(exec.reborrow(), org, resource).await?;
    load_records(exec, org, Some(resource))
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or(Error::NotFound("availability record"))
}

/// Checks a record's dates and blocks, naming each field at fault, all at once.
fn check_record(input: &RecordInput, r: Resolution) -> Result<RecordDates> {
    let mut problems = Problems::new();
    let dates = check_record_dates(&mut problems, &input.start_date, input.end_date.as_deref());
    for (n, b) in input.blocks.iter().enumerate() {
        let which = format!("Block {}", n + 1);
        if b.days.is_empty() {
            problems.add("blocks", format!("{which}: choose at least one day."));
        }
        let mut seen = HashSet::new();
        if b.days.iter().any(|d| !seen.insert(*d)) {
            problems.add("blocks", format!("{which}: a day is named twice."));
        }
        if b.start >= b.end {
            problems.add(
                "blocks",
                format!("{which}: start {} is not before end {}.", b.start, b.end),
            );
        }
        for t in [b.start, b.end] {
            if !r.is_on_grid(t) {
                problems.add(
                    "blocks",
                    format!(
                        "{which}: {t} is not on the organisation's {}-minute grid.",
                        r.minutes()
                    ),
                );
            }
        }
    }
    problems.done(dates)
}

/// Refuses dates that share a day with another record of the resource, naming the
/// other record in words and the field to change (the start date when it falls inside
/// the other record, else the end date).
async fn check_no_overlap(
    tx: &mut Tx,
    org: i64,
    resource: &Resource,
    id: Option<i64>,
    dates: RecordDates,
) -> Result<()> {
    let others = rows!(
        tx.exec(),
        fetch_all,
        (String, Option<String>),
        "SELECT start_date, end_date FROM resource_availability_records \
         WHERE org_id = $1 AND resource_id = $2 AND id <> $3 ORDER BY start_date",
        org,
        resource.id,
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
            return Err(Error::invalid(
                field,
                format!(
                    "These dates, {}, share days with {}'s record {}: records of one \
                     resource may not share a date; end that record first, or change it instead.",
                    record_dates_in_words(dates),
                    resource.name,
                    record_dates_in_words(other),
                ),
            ));
        }
    }
    Ok(())
}

async fn write_blocks(tx: &mut Tx, org: i64, record: i64, blocks: &[PortalBlock]) -> Result<()> {
    execute!(
        tx.exec(),
        "DELETE FROM resource_availability_blocks WHERE org_id = $1 AND record_id = $2",
        org,
        record
    )?;
    for (n, b) in blocks.iter().enumerate() {
        execute!(
            tx.exec(),
            "INSERT INTO resource_availability_blocks (org_id, record_id, position, days, \
             start_minute, end_minute) VALUES ($1, $2, $3, $4, $5, $6)",
            org,
            record,
            n as i64,
            mask_of(&b.days),
            i64::from(b.start.minutes()),
            i64::from(b.end.minutes())
        )?;
    }
    Ok(())
}

/// Adds an availability record to a resource, with its blocks.
pub async fn create_record(
    tx: &mut Tx,
    org: i64,
    resource: i64,
    input: &RecordInput,
) -> Result<ResourceRecord> {
    let res = lock(tx, org, resource).await?;
    let dates = check_record(input, organisation::resolution(tx.exec(), org).await?)?;
    check_no_overlap(tx, org, &res, None, dates).await?;
    let id = scalar!(
        tx.exec(),
        i64,
        "INSERT INTO resource_availability_records (org_id, resource_id, start_date, end_date) \
         VALUES ($1, $2, $3, $4) RETURNING id",
        org,
        resource,
        dates.start().to_string(),
        dates.end().map(|d| d.to_string())
    )?;
    write_blocks(tx, org, id, &input.blocks).await?;
    record(tx.exec(), org, resource, id).await
}

/// Replaces a record's dates and blocks.
pub async fn update_record(
    tx: &mut Tx,
    org: i64,
    resource: i64,
    id: i64,
    input: &RecordInput,
) -> Result<ResourceRecord> {
    let res = lock(tx, org, resource).await?;
    record(tx.exec(), org, resource, id).await?;
    let dates = check_record(input, organisation::resolution(tx.exec(), org).await?)?;
    check_no_overlap(tx, org, &res, Some(id), dates).await?;
    execute!(
        tx.exec(),
        "UPDATE resource_availability_records SET start_date = $4, end_date = $5 \
         WHERE org_id = $1 AND resource_id = $2 AND id = $3",
        org,
        resource,
        id,
        dates.start().to_string(),
        dates.end().map(|d| d.to_string())
    )?;
    write_blocks(tx, org, id, &input.blocks).await?;
    record(tx.exec(), org, resource, id).await
}

/// Deletes a record with its blocks.
pub async fn delete_record(tx: &mut Tx, org: i64, resource: i64, id: i64) -> Result<()> {
    lock(tx, org, resource).await?;
    record(tx.exec(), org, resource, id).await?;
    execute!(
        tx.exec(),
        "DELETE FROM resource_availability_blocks WHERE org_id = $1 AND record_id = $2",
        org,
        id
    )?;
    execute!(
        tx.exec(),
        "DELETE FROM resource_availability_records WHERE org_id = $1 AND resource_id = $2 AND id = $3",
        org,
        resource,
        id
    )?;
    Ok(())
}

// Out of service.

/// A resource's out-of-service stretches, by start.
pub async fn time_off(mut exec: Exec<'_>, org: i64, resource: i64) -> Result<Vec<ResourceTimeOff>> {
    get(exec.reborrow(), org, resource).await?;
    Ok(rows!(
        exec,
        fetch_all,
        ResourceTimeOff,
        "SELECT id, resource_id, start_ns, end_ns, reason FROM resource_time_off \
         WHERE org_id = $1 AND resource_id = $2 ORDER BY start_ns, id",
        org,
        resource
    )?)
}

/// Every resource's out-of-service stretches, by resource, then start.
pub async fn all_time_off(exec: Exec<'_>, org: i64) -> Result<Vec<ResourceTimeOff>> {
    Ok(rows!(
        exec,
        fetch_all,
        ResourceTimeOff,
        "SELECT id, resource_id, start_ns, end_ns, reason FROM resource_time_off \
         WHERE org_id = $1 ORDER BY resource_id, start_ns, id",
        org
    )?)
}

/// Records that a resource is out of service from `start_ns` until `end_ns`, with an
/// optional reason (blank = none, at most 200 characters). Refused, changing nothing,
/// while upcoming appointments (ending after `now_ns`) hold it during that time,
/// buffers included: they are moved first.
pub async fn add_time_off(
    tx: &mut Tx,
    org: i64,
    resource: i64,
    (start_ns, end_ns): (i64, i64),
    reason: Option<&str>,
    now_ns: i64,
) -> Result<ResourceTimeOff> {
    let r = lock(tx, org, resource).await?;
    if end_ns > start_ns {
        let holds = upcoming_holds(tx.exec(), org, resource, now_ns, (start_ns, end_ns)).await?;
        if !holds.is_empty() {
            let n = holds.len();
            return Err(Error::invalid(
                "start",
                format!(
                    "{n} upcoming appointment{} hold{} {} during this time: move {} to another \
                     room or piece of equipment first, or record a shorter stretch.",
                    plural(n),
                    if n == 1 { "s" } else { "" },
                    r.name,
                    if n == 1 { "it" } else { "them" }
                ),
            ));
        }
    }
    let mut problems = Problems::new();
    let start = problems.check(
        crate::time::instant(start_ns)
            .map_err(|_| Error::invalid("start", "Enter when it goes out of service.")),
    );
    let end = problems.check(
        crate::time::instant(end_ns)
            .map_err(|_| Error::invalid("end", "Enter when it is back in service.")),
    );
    if start.is_some() && end.is_some() && end_ns <= start_ns {
        problems.add(
            "end",
            "Enter an end after the start: when it is back in service.",
        );
    }
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > 200) {
        problems.add("reason", "Shorten the reason to at most 200 characters.");
    }
    problems.finish()?;
    let id = scalar!(
        tx.exec(),
        i64,
        "INSERT INTO resource_time_off (org_id, resource_id, start_ns, end_ns, reason) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
        org,
        resource,
        start_ns,
        end_ns,
        reason
    )?;
    Ok(ResourceTimeOff {
        id,
        resource_id: resource,
        start_ns,
        end_ns,
        reason: reason.map(str::to_owned),
    })
}

/// The upcoming appointments holding `resource`: not cancelled, ending after `now_ns`,
/// whose buffered interval meets `[from, to)`; each as its buffered interval and
/// clinic, earliest first.
async fn upcoming_holds(
    exec: Exec<'_>,
    org: i64,
    resource: i64,
    now_ns: i64,
    (from, to): (i64, i64),
) -> Result<Vec<(i64, i64, i64)>> {
    let found: Vec<(i64, i64, i64)> = rows!(
        exec,
        fetch_all,
        (i64, i64, i64),
        "SELECT a.start_ns - a.buffer_before_minutes * 60000000000, \
                a.end_ns + a.buffer_after_minutes * 60000000000, COALESCE(a.clinic_id, -1) \
         FROM appointment_resources ar JOIN appointments a \
           ON a.org_id = ar.org_id AND a.id = ar.appointment_id \
         WHERE ar.org_id = $1 AND ar.resource_id = $2 AND a.status <> 'cancelled' \
           AND a.end_ns > $3 \
           AND a.start_ns - a.buffer_before_minutes * 60000000000 < $5 \
           AND a.end_ns + a.buffer_after_minutes * 60000000000 > $4 \
         ORDER BY 1, 2",
        org,
        resource,
        now_ns,
        from,
        to
    )?;
    Ok(found)
}

/// The most of `holds` (buffered intervals) that overlap at one instant.
fn most_at_once(holds: &[(i64, i64, i64)]) -> usize {
    let mut events: Vec<(i64, i32)> = holds
        .iter()
        .flat_map(|&(a, b, _)| [(a, 1), (b, -1)])
        .collect();
    // Ends before starts at the same instant: intervals that only meet do not overlap.
    events.sort_unstable();
    let (mut now, mut most) = (0i32, 0i32);
    for (_, step) in events {
        now += step;
        most = most.max(now);
    }
    most as usize
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Ends a stretch out of service (deletes it); answers what it was.
pub async fn remove_time_off(
    tx: &mut Tx,
    org: i64,
    resource: i64,
    id: i64,
) -> Result<ResourceTimeOff> {
    lock(tx, org, resource).await?;
    let gone = rows!(
        tx.exec(),
        fetch_optional,
        ResourceTimeOff,
        "SELECT id, resource_id, start_ns, end_ns, reason FROM resource_time_off \
         WHERE org_id = $1 AND resource_id = $2 AND id = $3",
        org,
        resource,
        id
    )?
    .ok_or(Error::NotFound("time off"))?;
    execute!(
        tx.exec(),
        "DELETE FROM resource_time_off WHERE org_id = $1 AND resource_id = $2 AND id = $3",
        org,
        resource,
        id
    )?;
    Ok(gone)
}

// Service requirements.

/// Every requirement of every service of the organisation, by service, requirement and
/// resource, for lists that show them without a query per service.
pub async fn requirement_links(exec: Exec<'_>, org: i64) -> Result<Vec<RequirementLink>> {
    Ok(rows!(
        exec,
        fetch_all,
        RequirementLink,
        "SELECT service_id, requirement, resource_id FROM service_requirements \
         WHERE org_id = $1 ORDER BY service_id, requirement, resource_id",
        org
    )?)
}

/// Groups links by service: each service's requirements, in order, each a list of
/// resource ids.
pub fn requirements_by_service(links: &[RequirementLink]) -> BTreeMap<i64, Vec<Vec<i64>>> {
    let mut by_service: BTreeMap<i64, BTreeMap<i64, Vec<i64>>> = BTreeMap::new();
    for l in links {
        by_service
            .entry(l.service_id)
            .or_default()
            .entry(l.requirement)
            .or_default()
            .push(l.resource_id);
    }
    by_service
        .into_iter()
        .map(|(s, reqs)| (s, reqs.into_values().collect()))
        .collect()
}

/// A service's requirements, in order, each a list of resource ids (by id).
pub async fn requirements(exec: Exec<'_>, org: i64, service: i64) -> Result<Vec<Vec<i64>>> {
    let links = rows!(
        exec,
        fetch_all,
        RequirementLink,
        "SELECT service_id, requirement, resource_id FROM service_requirements \
         WHERE org_id = $1 AND service_id = $2 ORDER BY requirement, resource_id",
        org,
        service
    )?;
    Ok(requirements_by_service(&links)
        .remove(&service)
        .unwrap_or_default())
}

/// Checks requirements' shape (before their ids are resolved), field `requires`:
/// at most [`MAX_REQUIREMENTS`], none empty, a resource in at most one. Ids named twice
/// in one requirement count once; the answer is sorted and deduplicated.
pub fn check_requirements(requires: &[Vec<i64>]) -> Result<Vec<Vec<i64>>> {
    if requires.len() > MAX_REQUIREMENTS {
        return Err(Error::invalid(
            "requires",
            format!(
                "A service may need at most {MAX_REQUIREMENTS} things at once; it names {}.",
                requires.len()
            ),
        ));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(requires.len());
    for (n, need) in requires.iter().enumerate() {
        let mut need = need.clone();
        need.sort_unstable();
        need.dedup();
        if need.is_empty() {
            return Err(Error::invalid(
                "requires",
                format!(
                    "Need {} names no room or equipment: choose at least one.",
                    n + 1
                ),
            ));
        }
        if let Some(twice) = need.iter().find(|id| !seen.insert(**id)) {
            return Err(Error::invalid(
                "requires",
                format!(
                    "Resource #{twice} is in two needs of the service: a room or machine can \
                     meet only one need."
                ),
            ));
        }
        out.push(need);
    }
    Ok(out)
}

/// Replaces a service's requirements: each a non-empty list of the organisation's
/// resource ids, a resource in at most one, at most [`MAX_REQUIREMENTS`]. Answers them
/// as saved.
pub async fn set_requirements(
    tx: &mut Tx,
    org: i64,
    service: i64,
    requires: &[Vec<i64>],
) -> Result<Vec<Vec<i64>>> {
    let found = scalar!(
        tx.exec(),
        i64,
        "SELECT COUNT(*) FROM services WHERE org_id = $1 AND id = $2",
        org,
        service
    )?;
    if found == 0 {
        return Err(Error::NotFound("service"));
    }
    let requires = check_requirements(requires)?;
    // Resolve every id inside the organisation before anything is written.
    let known: HashSet<i64> = rows!(
        tx.exec(),
        fetch_all,
        (i64,),
        "SELECT id FROM resources WHERE org_id = $1",
        org
    )?
    .into_iter()
    .map(|(id,)| id)
    .collect();
    if let Some(unknown) = requires.iter().flatten().find(|id| !known.contains(id)) {
        return Err(Error::invalid(
            "requires",
            format!("{unknown} is not one of the organisation's rooms or equipment."),
        ));
    }
    execute!(
        tx.exec(),
        "DELETE FROM service_requirements WHERE org_id = $1 AND service_id = $2",
        org,
        service
    )?;
    for (n, need) in requires.iter().enumerate() {
        for &resource in need {
            execute!(
                tx.exec(),
                "INSERT INTO service_requirements (org_id, service_id, requirement, resource_id) \
                 SELECT $1, $2, $3, id FROM resources WHERE org_id = $1 AND id = $4",
                org,
                service,
                n as i64,
                resource
            )?;
        }
    }
    Ok(requires)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of<T: std::fmt::Debug>(r: Result<T>) -> String {
        match r {
            Err(Error::Invalid { field, .. }) => field,
            Err(Error::InvalidFields(list)) => list[0].0.clone(),
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn requirements_are_at_most_sixteen_non_empty_and_apart() {
        assert_eq!(
            check_requirements(&[vec![3, 1, 3], vec![2]]).unwrap(),
            [vec![1, 3], vec![2]]
        );
        assert_eq!(field_of(check_requirements(&[vec![]])), "requires");
        assert_eq!(
            field_of(check_requirements(&[vec![1], vec![2, 1]])),
            "requires"
        );
        let seventeen: Vec<Vec<i64>> = (0..17).map(|n| vec![n]).collect();
        assert_eq!(field_of(check_requirements(&seventeen)), "requires");
        assert!(check_requirements(&seventeen[..16]).is_ok());
        assert!(check_requirements(&[]).unwrap().is_empty());
    }

    #[test]
    fn a_record_names_the_field_at_fault() {
        let r = Resolution::new(15).unwrap();
        let block = |days: &[&str], start: &str, end: &str| PortalBlock {
            days: days
                .iter()
                .map(|d| serde_json::from_str(&format!("\"{d}\"")).unwrap())
                .collect(),
            start: start.parse().unwrap(),
            end: end.parse().unwrap(),
        };
        let input = |start: &str, end: Option<&str>, blocks| RecordInput {
            start_date: start.into(),
            end_date: end.map(str::to_owned),
            blocks,
        };
        let ok = input("2026-01-05", None, vec![block(&["mon"], "08:00", "12:00")]);
        assert!(check_record(&ok, r).is_ok());
        assert_eq!(
            field_of(check_record(&input("", None, vec![]), r)),
            "start_date"
        );
        assert_eq!(
            field_of(check_record(
                &input("2026-01-05", Some("2026-01-01"), vec![]),
                r
            )),
            "end_date"
        );
        for bad in [
            block(&[], "08:00", "12:00"),
            block(&["mon", "mon"], "08:00", "12:00"),
            block(&["mon"], "12:00", "08:00"),
            block(&["mon"], "08:05", "12:00"),
        ] {
            assert_eq!(
                field_of(check_record(&input("2026-01-05", None, vec![bad]), r)),
                "blocks"
            );
        }
    }

    #[test]
    fn a_resource_needs_a_name_and_a_capacity_in_range() {
        let input = |name: &str, capacity| ResourceInput {
            name: name.into(),
            kind: ResourceKind::Room,
            clinic_id: 1,
            capacity,
            always_available: true,
        };
        assert_eq!(check(&input(" Room 1 ", 1)).unwrap(), "Room 1");
        assert_eq!(field_of(check(&input("  ", 1))), "name");
        for (capacity, ok) in [(0, false), (1, true), (10_000, true), (10_001, false)] {
            assert_eq!(check(&input("Room", capacity)).is_ok(), ok, "{capacity}");
        }
    }
}
