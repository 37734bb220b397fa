//! The rooms and equipment an appointment holds (issue 16): their locks, which every
//! booking takes after its practitioners' and before it reads its window, and the
//! `appointment_resources` rows that say what the engine checked it with.
//!
//! Lock order, in every transaction that may take a place in a resource: the
//! practitioner(s) by id, then every resource the change could take (its service's
//! requirements at any clinic, and those staff named) by id. Two bookings that want
//! the last place in a room therefore decide one after the other, and as every
//! transaction takes its locks in that one order, none waits for another in a cycle.

use std::collections::HashMap;

use serde::Serialize;

use crate::db::{Backend, Exec, Tx, execute, rows};
use crate::error::{Error, Result};

/// A room or piece of equipment an appointment holds a place in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct HeldResource {
    /// The resource's row id.
    pub id: i64,
    /// Its name ("Treatment room 1").
    pub name: String,
    /// `room` or `equipment`.
    pub kind: String,
}

#[derive(sqlx::FromRow)]
struct HeldRow {
    appointment_id: i64,
    id: i64,
    name: String,
    kind: String,
}

/// What the change wants of rooms and equipment: the engine's pick for the service's
/// requirements, or exactly these resource rows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ResourceRequest {
    /// Per requirement of the service, the first free resource by id.
    #[default]
    Auto,
    /// Exactly these resource rows (staff named them, or an undone cancellation holds
    /// them again).
    Chosen(Vec<i64>),
}

impl ResourceRequest {
    /// The resource rows it names (none for `Auto`).
    pub(crate) fn named(&self) -> &[i64] {
        match self {
            ResourceRequest::Auto => &[],
            ResourceRequest::Chosen(list) => list,
        }
    }
}

/// Locks, in ascending id order, every resource a booking of `service` could take
/// (its requirements, at any clinic) and every one of `named`, which must all be
/// resources of the organisation (else nothing is booked and the error names the
/// field `resources`). Called after the practitioners' locks and before the window is
/// read. On SQLite the transaction's `BEGIN IMMEDIATE` already excludes every other
/// writer, so the same query only checks the named resources. Returns the resources
/// locked, for [`check_locked`].
pub(super) async fn lock_resources(
    tx: &mut Tx,
    org: i64,
    service: Option<i64>,
    named: &[i64],
) -> Result<Vec<i64>> {
    let named_list = serde_json::to_string(named).expect("ids serialize");
    let exec = tx.exec();
    let lock = match exec.backend() {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE",
    };
    let sql = format!(
        "SELECT id FROM resources WHERE org_id = $1 AND (id IN (SELECT resource_id FROM \
         service_requirements WHERE org_id = $1 AND service_id = $2) OR {}) ORDER BY id{lock}",
        exec.in_json_list("id", 3)
    );
    let locked: Vec<(i64,)> = rows!(
        exec,
        fetch_all,
        (i64,),
        &sql,
        org,
        service.unwrap_or(-1),
        &named_list
    )?;
    if let Some(missing) = named.iter().find(|id| !locked.iter().any(|(l,)| l == *id)) {
        return Err(Error::invalid(
            "resources",
            format!("no resource {missing} in this organisation"),
        ));
    }
    Ok(locked.into_iter().map(|(id,)| id).collect())
}

/// Checks that the window read after [`lock_resources`] wants no resource that was
/// not locked: an admin may change a service's requirements between the lock and the
/// read (on PostgreSQL each statement sees what committed before it), and a booking
/// that took a room it did not lock could overbook it. Then nothing is booked and the
/// request may simply be sent again.
pub(super) fn check_locked(
    input: &crate::window::EngineInput,
    service: Option<i64>,
    locked: &[i64],
) -> Result<()> {
    let Some(ix) = service.and_then(|s| input.service_ix(s)) else {
        return Ok(());
    };
    let wanted = input.model.service(ix).requires.iter().flatten();
    if wanted
        .map(|&r| input.resource_id(r))
        .all(|r| locked.contains(&r))
    {
        Ok(())
    } else {
        Err(Error::invalid(
            "service",
            "the rooms and equipment this service needs changed while it was being booked; \
             please try again",
        ))
    }
}

/// Records that `appointment` holds exactly `resources` (replacing what it held).
pub(crate) async fn hold(tx: &mut Tx, org: i64, appointment: i64, resources: &[i64]) -> Result<()> {
    execute!(
        tx.exec(),
        "DELETE FROM appointment_resources WHERE org_id = $1 AND appointment_id = $2",
        org,
        appointment
    )?;
    let mut list = resources.to_vec();
    list.sort_unstable();
    list.dedup();
    for r in list {
        execute!(
            tx.exec(),
            "INSERT INTO appointment_resources (org_id, appointment_id, resource_id) \
             VALUES ($1, $2, $3)",
            org,
            appointment,
            r
        )?;
    }
    Ok(())
}

/// The rooms and equipment each of `appointments` holds, by appointment row, each
/// list by name; an appointment that holds none is absent. One query.
pub async fn held(
    exec: Exec<'_>,
    org: i64,
    appointments: &[i64],
) -> Result<HashMap<i64, Vec<HeldResource>>> {
    let list = serde_json::to_string(appointments).expect("ids serialize");
    let sql = format!(
        "SELECT ar.appointment_id, r.id, r.name, r.kind FROM appointment_resources ar \
         JOIN resources r ON r.org_id = ar.org_id AND r.id = ar.resource_id \
         WHERE ar.org_id = $1 AND {} ORDER BY ar.appointment_id, r.name, r.id",
        exec.in_json_list("ar.appointment_id", 2)
    );
    let found = rows!(exec, fetch_all, HeldRow, &sql, org, &list)?;
    let mut by_appointment: HashMap<i64, Vec<HeldResource>> = HashMap::new();
    for h in found {
        by_appointment
            .entry(h.appointment_id)
            .or_default()
            .push(HeldResource {
                id: h.id,
                name: h.name,
                kind: h.kind,
            });
    }
    Ok(by_appointment)
}

/// The resource rows one appointment holds, by id.
pub(crate) async fn held_ids(exec: Exec<'_>, org: i64, appointment: i64) -> Result<Vec<i64>> {
    let found: Vec<(i64,)> = rows!(
        exec,
        fetch_all,
        (i64,),
        "SELECT resource_id FROM appointment_resources WHERE org_id = $1 AND appointment_id = $2 \
         ORDER BY resource_id",
        org,
        appointment
    )?;
    Ok(found.into_iter().map(|(r,)| r).collect())
}
