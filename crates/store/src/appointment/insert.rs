//! Writing a new booking once: its row, its idempotency key (a retried request gets
//! the first booking back, another request with a used key is refused), its audit
//! entry and emails, and the commit. Imports write their rows here too.

use crate::db::{Db, Exec, Tx, rows, scalar};
use crate::error::{Error, Result};
use crate::organisation;
use crate::time::Clock;

use super::{Actor, Appointment, AppointmentStatus, COLUMNS, Channel, Notify, queue_notices};

/// A row to insert.
#[derive(Clone, Debug)]
pub(crate) struct NewRow {
    pub(crate) key: Option<String>,
    pub(crate) practitioner_id: i64,
    pub(crate) patient_id: Option<i64>,
    pub(crate) service_id: Option<i64>,
    pub(crate) schedule_type_id: Option<i64>,
    pub(crate) clinic_id: Option<i64>,
    pub(crate) telehealth: bool,
    pub(crate) start_ns: i64,
    pub(crate) end_ns: i64,
    pub(crate) status: AppointmentStatus,
    pub(crate) channel: Channel,
    pub(crate) override_reason: Option<String>,
    pub(crate) override_by: Option<i64>,
    pub(crate) idempotency_key: Option<String>,
    pub(crate) actor: String,
    /// The buffers it is booked with: its service's for a new booking, the scenario's
    /// on import.
    pub(crate) buffers: slot_engine::Buffers,
    /// The resource rows it holds a place in: what the engine checked it with.
    pub(crate) resources: Vec<i64>,
}

const INSERT_COLUMNS: &str = "org_id, key, practitioner_id, patient_id, service_id, schedule_type_id, \
    clinic_id, telehealth, start_ns, end_ns, status, channel, override_reason, override_by, \
    idempotency_key, created_by, created_at_ns, updated_by, updated_at_ns, buffer_before_minutes, \
    buffer_after_minutes";

macro_rules! insert_chunk {
    ($conn:expr, $db:ty, $org:expr, $chunk:expr, $now:expr) => {{
        let mut builder =
            sqlx::QueryBuilder::<$db>::new(format!("INSERT INTO appointments ({INSERT_COLUMNS}) "));
        builder.push_values($chunk, |mut b, r: &NewRow| {
            b.push_bind($org)
                .push_bind(r.key.clone())
                .push_bind(r.practitioner_id)
                .push_bind(r.patient_id)
                .push_bind(r.service_id)
                .push_bind(r.schedule_type_id)
                .push_bind(r.clinic_id)
                .push_bind(r.telehealth)
                .push_bind(r.start_ns)
                .push_bind(r.end_ns)
                .push_bind(r.status.as_str())
                .push_bind(r.channel.as_str())
                .push_bind(r.override_reason.clone())
                .push_bind(r.override_by)
                .push_bind(r.idempotency_key.clone())
                .push_bind(r.actor.clone())
                .push_bind($now)
                .push_bind(r.actor.clone())
                .push_bind($now)
                .push_bind(i64::from(r.buffers.before_minutes))
                .push_bind(i64::from(r.buffers.after_minutes));
        });
        if <$db as sqlx::Database>::NAME == "PostgreSQL" {
            $crate::statement_log::record(builder.sql());
        }
        builder.build().execute(&mut *$conn).await?;
    }};
}

/// Inserts many rows in few statements (imports).
pub(crate) async fn insert_many(tx: &mut Tx, org: i64, rows: &[NewRow], now: i64) -> Result<()> {
    for chunk in rows.chunks(500) {
        match tx.exec() {
            Exec::Sqlite(c) => insert_chunk!(c, sqlx::Sqlite, org, chunk, now),
            Exec::Postgres(c) => insert_chunk!(c, sqlx::Postgres, org, chunk, now),
        }
    }
    Ok(())
}

/// Inserts one booking, with the hash of the request its idempotency key came with.
pub(super) async fn insert_one(
    tx: &mut Tx,
    org: i64,
    r: &NewRow,
    request: &str,
    now: i64,
) -> Result<Appointment> {
    let insert = format!(
        "INSERT INTO appointments ({INSERT_COLUMNS}, idempotency_request) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $16, $17, \
         $18, $19, $20) \
         RETURNING {COLUMNS}"
    );
    // On PostgreSQL the organisation's longest appointment moves in the same round
    // trip (a statement of its own on SQLite, below).
    let postgres = tx.backend() == crate::Backend::Postgres;
    let sql = if postgres {
        format!(
            "WITH booked AS ({insert}), longest AS (UPDATE organisations SET max_appointment_ns = \
             $10 - $9 WHERE id = $1 AND max_appointment_ns < $10 - $9) SELECT {COLUMNS} FROM booked"
        )
    } else {
        insert
    };
    let appointment = rows!(
        tx.exec(),
        fetch_one,
        Appointment,
        &sql,
        org,
        &r.key,
        r.practitioner_id,
        r.patient_id,
        r.service_id,
        r.schedule_type_id,
        r.clinic_id,
        r.telehealth,
        r.start_ns,
        r.end_ns,
        r.status.as_str(),
        r.channel.as_str(),
        &r.override_reason,
        r.override_by,
        &r.idempotency_key,
        &r.actor,
        now,
        i64::from(r.buffers.before_minutes),
        i64::from(r.buffers.after_minutes),
        r.idempotency_key.as_ref().map(|_| request)
    )?;
    if !postgres {
        organisation::note_appointment_length(tx, org, r.end_ns - r.start_ns).await?;
    }
    if !r.resources.is_empty() {
        super::resources::hold(tx, org, appointment.id, &r.resources).await?;
    }
    Ok(appointment)
}

/// The booking `actor` made with this idempotency key, and the hash of the request
/// it came with (none for bookings made before hashes were kept). A key is the
/// sender's own: another person's identical key is another booking.
pub(super) async fn by_idempotency_key(
    tx: &mut Tx,
    org: i64,
    actor: Actor,
    key: &str,
) -> Result<Option<(Appointment, Option<String>)>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM appointments WHERE org_id = $1 AND created_by = $2 AND idempotency_key = $3"
    );
    let Some(appointment) = rows!(
        tx.exec(),
        fetch_optional,
        Appointment,
        &sql,
        org,
        actor.label(),
        key
    )?
    else {
        return Ok(None);
    };
    let request = scalar!(
        tx.exec(),
        Option<String>,
        "SELECT idempotency_request FROM appointments WHERE org_id = $1 AND id = $2",
        org,
        appointment.id
    )?;
    Ok(Some((appointment, request)))
}

/// What identifies a booking request, hashed (SHA-256, hex): kept with its idempotency
/// key, so that the key sent again with another request is refused rather than
/// answered with the first booking, as payment APIs do.
pub(super) fn request_hash(fields: &[(&str, Option<i64>)]) -> String {
    use sha2::{Digest, Sha256};
    use std::fmt::Write;
    let mut text = String::new();
    for (name, value) in fields {
        let _ = writeln!(text, "{name}={value:?}");
    }
    Sha256::digest(text.as_bytes())
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

pub(super) fn check_idempotency_key(key: &Option<String>) -> Result<()> {
    match key {
        Some(k) if k.is_empty() || k.len() > 200 => Err(Error::invalid(
            "idempotency_key",
            "must be 1-200 characters",
        )),
        _ => Ok(()),
    }
}

/// The result of a booking request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Booked {
    /// The appointment.
    pub appointment: Appointment,
    /// True when the idempotency key had been used: this is the first request's
    /// appointment, and nothing new was booked.
    pub replayed: bool,
}

/// The first booking made with a key, when the request is the same as the one the key
/// first came with; a different request with a used key is refused, naming the key.
pub(super) fn replay(
    (existing, first): (Appointment, Option<String>),
    request: &str,
) -> Result<Booked> {
    // Bookings made before requests were hashed have none, and are replayed.
    if first.as_deref().is_some_and(|first| first != request) {
        return Err(Error::invalid(
            "idempotency_key",
            "this key was already used for a different booking request",
        ));
    }
    Ok(Booked {
        appointment: existing,
        replayed: true,
    })
}

/// Inserts, audits and commits; a concurrent request that used the same idempotency
/// key first wins, and this one returns its appointment.
#[allow(clippy::too_many_arguments)]
pub(super) async fn finish_insert(
    db: &Db,
    mut tx: Tx,
    org: i64,
    row: NewRow,
    request: &str,
    actor: Actor,
    clock: &dyn Clock,
    details: serde_json::Value,
    notify: Option<Notify<'_>>,
) -> Result<Booked> {
    let now = clock.now_ns();
    let appointment = match insert_one(&mut tx, org, &row, request, now).await {
        Ok(a) => a,
        Err(Error::Database(sqlx::Error::Database(e)))
            if e.is_unique_violation() && row.idempotency_key.is_some() =>
        {
            drop(tx);
            let mut tx = db.begin().await?;
            let key = row.idempotency_key.as_deref().unwrap_or_default();
            let existing = by_idempotency_key(&mut tx, org, actor, key)
                .await?
                .ok_or(Error::NotFound("appointment"))?;
            return replay(existing, request);
        }
        Err(e) => return Err(e),
    };
    let action = if row.override_reason.is_some() {
        "appointment.book_override"
    } else {
        "appointment.book"
    };
    let mut details = details;
    details["start_ns"] = appointment.start_ns.into();
    details["end_ns"] = appointment.end_ns.into();
    details["practitioner_id"] = appointment.practitioner_id.into();
    details["status"] = appointment.status.as_str().into();
    details["channel"] = appointment.channel.as_str().into();
    crate::audit::record(
        &mut tx,
        org,
        &actor.label(),
        action,
        "appointment",
        Some(appointment.id),
        details,
        now,
    )
    .await?;
    queue_notices(&mut tx, org, notify, &appointment, now).await?;
    tx.commit().await?;
    Ok(Booked {
        appointment,
        replayed: false,
    })
}
