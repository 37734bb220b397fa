//! Appointments: booking that never overbooks, cancelling, moving, accepting.
//!
//! Every change runs in one transaction that first takes the practitioner's lock
//! (PostgreSQL: a row lock on the practitioner; SQLite: the write lock of `BEGIN
//! IMMEDIATE`), then reloads that practitioner's window from the database, asks the
//! engine, and writes or refuses. Two bookings of one practitioner therefore never
//! decide on the same state, however many requests race on however many servers.

use serde::Serialize;
use slot_engine::{Date, Instant, Purpose, StaffBooking as EngineStaffBooking};

use crate::db::{Backend, Db, Exec, Tx, execute, rows, scalar, scalar_optional};
use crate::error::{Conflict, Error, Result};
use crate::organisation::{self, Organisation};
use crate::time::Clock;
use crate::window::{self, OpenSlot, SlotRequest, Window};

pub use crate::appointment_status::{AppointmentStatus, Channel};

/// An appointment row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Appointment {
    /// Row id.
    pub id: i64,
    /// Scenario id, when it has one.
    pub key: Option<String>,
    /// The practitioner.
    pub practitioner_id: i64,
    /// The patient.
    pub patient_id: Option<i64>,
    /// The service.
    pub service_id: Option<i64>,
    /// The schedule type whose blocks hold it.
    pub schedule_type_id: Option<i64>,
    /// The clinic.
    pub clinic_id: Option<i64>,
    /// Start, ns since the Unix epoch.
    pub start_ns: i64,
    /// End, ns since the Unix epoch.
    pub end_ns: i64,
    /// Where it stands.
    pub status: AppointmentStatus,
    /// How it was made.
    pub channel: Channel,
    /// Why staff overrode a conflict, if they did.
    pub override_reason: Option<String>,
    /// Which staff user overrode.
    pub override_by: Option<i64>,
    /// The note given when accepting or declining.
    pub status_note: String,
    /// Who created it (`staff:3`, `patient:12`, `import`).
    pub created_by: String,
    /// When.
    pub created_at_ns: i64,
    /// Who changed it last.
    pub updated_by: String,
    /// When.
    pub updated_at_ns: i64,
    /// How many times it has moved since it was booked (the calendar invitations'
    /// `SEQUENCE`).
    pub sequence: i64,
}

const COLUMNS: &str = "id, key, practitioner_id, patient_id, service_id, schedule_type_id, clinic_id, \
    start_ns, end_ns, status, channel, override_reason, override_by, status_note, created_by, \
    created_at_ns, updated_by, updated_at_ns, sequence";

/// Who is acting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    /// A staff user.
    Staff(i64),
    /// A patient in the portal.
    Patient(i64),
}

impl Actor {
    /// `staff:3`, `patient:12`.
    pub fn label(self) -> String {
        match self {
            Actor::Staff(id) => format!("staff:{id}"),
            Actor::Patient(id) => format!("patient:{id}"),
        }
    }
}

/// A row to insert.
#[derive(Clone, Debug)]
pub(crate) struct NewRow {
    pub(crate) key: Option<String>,
    pub(crate) practitioner_id: i64,
    pub(crate) patient_id: Option<i64>,
    pub(crate) service_id: Option<i64>,
    pub(crate) schedule_type_id: Option<i64>,
    pub(crate) clinic_id: Option<i64>,
    pub(crate) start_ns: i64,
    pub(crate) end_ns: i64,
    pub(crate) status: AppointmentStatus,
    pub(crate) channel: Channel,
    pub(crate) override_reason: Option<String>,
    pub(crate) override_by: Option<i64>,
    pub(crate) idempotency_key: Option<String>,
    pub(crate) actor: String,
}

const INSERT_COLUMNS: &str = "org_id, key, practitioner_id, patient_id, service_id, schedule_type_id, \
    clinic_id, start_ns, end_ns, status, channel, override_reason, override_by, idempotency_key, \
    created_by, created_at_ns, updated_by, updated_at_ns";

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
                .push_bind($now);
        });
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
async fn insert_one(
    tx: &mut Tx,
    org: i64,
    r: &NewRow,
    request: &str,
    now: i64,
) -> Result<Appointment> {
    let sql = format!(
        "INSERT INTO appointments ({INSERT_COLUMNS}, idempotency_request) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $15, $16, $17) \
         RETURNING {COLUMNS}"
    );
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
        r.start_ns,
        r.end_ns,
        r.status.as_str(),
        r.channel.as_str(),
        &r.override_reason,
        r.override_by,
        &r.idempotency_key,
        &r.actor,
        now,
        r.idempotency_key.as_ref().map(|_| request)
    )?;
    organisation::note_appointment_length(tx, org, r.end_ns - r.start_ns).await?;
    Ok(appointment)
}

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

/// Takes the practitioner's booking lock for the rest of the transaction, and checks
/// the practitioner belongs to the organisation.
async fn lock_practitioner(tx: &mut Tx, org: i64, practitioner: i64) -> Result<()> {
    let sql = match tx.backend() {
        // The transaction began with BEGIN IMMEDIATE and so already excludes every
        // other writer.
        Backend::Sqlite => "SELECT id FROM practitioners WHERE org_id = $1 AND id = $2",
        Backend::Postgres => {
            "SELECT id FROM practitioners WHERE org_id = $1 AND id = $2 FOR UPDATE"
        }
    };
    scalar_optional!(tx.exec(), i64, sql, org, practitioner)?
        .ok_or(Error::NotFound("practitioner"))?;
    Ok(())
}

/// Locks several practitioners in id order (no deadlocks between two movers).
async fn lock_practitioners(tx: &mut Tx, org: i64, mut practitioners: Vec<i64>) -> Result<()> {
    practitioners.sort_unstable();
    practitioners.dedup();
    for p in practitioners {
        lock_practitioner(tx, org, p).await?;
    }
    Ok(())
}

/// The organisation as it is now, read under the lock: the caller's copy was read
/// before the transaction began, and a setting changed since (auto-accept, minimum
/// notice, days ahead, cancellation notice) must decide this change.
async fn settings_now(tx: &mut Tx, org: i64) -> Result<Organisation> {
    organisation::by_id(tx.exec(), org).await
}

/// The booking `actor` made with this idempotency key, and the hash of the request
/// it came with (none for bookings made before hashes were kept). A key is the
/// sender's own: another person's identical key is another booking.
async fn by_idempotency_key(
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
fn request_hash(fields: &[(&str, Option<i64>)]) -> String {
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

fn check_idempotency_key(key: &Option<String>) -> Result<()> {
    match key {
        Some(k) if k.is_empty() || k.len() > 200 => Err(Error::invalid(
            "idempotency_key",
            "must be 1-200 characters",
        )),
        _ => Ok(()),
    }
}

/// Composes the emails announcing a change, from the changed appointment. The web
/// crate knows the words and calendars; the store queues what it returns in the same
/// transaction as the change, so the change and its emails commit together.
pub type Notify<'a> = &'a (dyn Fn(&Appointment) -> Vec<crate::outbox::NewMessage> + Send + Sync);

async fn queue_notices(
    tx: &mut Tx,
    org: i64,
    notify: Option<Notify<'_>>,
    appointment: &Appointment,
    now: i64,
) -> Result<()> {
    if let Some(notify) = notify {
        for message in notify(appointment) {
            crate::outbox::enqueue(tx, Some(org), &message, now).await?;
        }
    }
    Ok(())
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

/// A booking made by a patient in the portal.
#[derive(Clone, Debug)]
pub struct PortalBooking {
    /// The patient booking.
    pub patient: i64,
    /// The service.
    pub service: i64,
    /// The practitioner.
    pub practitioner: i64,
    /// The start the patient chose.
    pub start: Instant,
    /// A client-chosen key that makes a retried request return the first result.
    pub idempotency_key: Option<String>,
}

/// The dates around an instant that any clinic could read it as.
fn dates_around(at: Instant) -> (Date, Date) {
    let day = Date::try_from(at.to_utc().date_naive()).unwrap_or(Date::MIN);
    (
        day.add_days(-1).unwrap_or(day),
        day.add_days(1).unwrap_or(day),
    )
}

/// The practitioners a patient may book in the portal: `None` for all.
pub async fn patient_practitioners(
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

/// What a portal booking request comes to. A time the slot rules refuse is an answer,
/// not an error: the patient is told why and offered the next open times.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortalOutcome {
    /// Booked (or pending, when the organisation does not auto-accept), or the first
    /// booking of a retried request.
    Booked(Booked),
    /// The time cannot be booked: someone took it, or the slot rules do not offer it.
    Taken {
        /// The number of the slot rule that refuses it, in `docs/scenario.md`
        /// (*Checking one portal booking*).
        rule: u8,
        /// Why, in words a patient can read.
        reason: String,
        /// The next open times from the one asked for on, with any practitioner
        /// the patient may book (at most [`NEXT_SLOTS`]).
        next: Vec<OpenSlot>,
    },
}

/// How many next open times a refused portal booking offers.
pub const NEXT_SLOTS: usize = 5;

/// Books a portal appointment: the patient's practitioners (refused with
/// [`Error::Forbidden`]), the service's being online ([`Error::NotFound`]) and the slot
/// rules (overlay, capacity by `portal_conflicts`, booking window) decide, under the
/// practitioner's lock. Pending (when the organisation does not auto-accept) holds the
/// slot like booked. A time the rules refuse comes back as [`PortalOutcome::Taken`]
/// with the next open times, looked up after the lock is let go.
pub async fn book_portal(
    db: &Db,
    org: &Organisation,
    b: &PortalBooking,
    clock: &dyn Clock,
    notify: Option<Notify<'_>>,
) -> Result<PortalOutcome> {
    let mut tx = db.begin().await?;
    let allowed = patient_practitioners(&mut tx.exec(), org.id, b.patient).await?;
    if allowed
        .as_ref()
        .is_some_and(|list| !list.contains(&b.practitioner))
    {
        return Err(Error::Forbidden(
            "this practitioner is not available to you",
        ));
    }
    crate::portal::service(tx.exec(), org.id, b.service).await?;
    lock_practitioner(&mut tx, org.id, b.practitioner).await?;
    check_idempotency_key(&b.idempotency_key)?;
    let org = &settings_now(&mut tx, org.id).await?;
    let request = request_hash(&[
        ("portal.patient", Some(b.patient)),
        ("service", Some(b.service)),
        ("practitioner", Some(b.practitioner)),
        ("start", Some(b.start.unix_nanos())),
    ]);
    if let Some(key) = &b.idempotency_key
        && let Some(existing) =
            by_idempotency_key(&mut tx, org.id, Actor::Patient(b.patient), key).await?
    {
        return replay(existing, &request).map(PortalOutcome::Booked);
    }
    let (from, to) = dates_around(b.start);
    let input = window::load(
        &mut tx.exec(),
        org,
        &Window {
            service: Some(b.service),
            practitioners: Some(vec![b.practitioner]),
            from,
            to,
            skip_appointment: None,
        },
    )
    .await?;
    let now = clock.now();
    let query = window::portal_query(&input, b.service, allowed.as_deref(), now, false)?;
    let practitioner = input
        .practitioner_ix(b.practitioner)
        .ok_or(Error::NotFound("practitioner"))?;
    let slot = match input.model.check(&query, practitioner, b.start) {
        Ok(slot) => slot,
        Err(rejection) => {
            drop(tx);
            let next = next_open(db, org, b.service, allowed, b.start, clock).await?;
            return Ok(PortalOutcome::Taken {
                rule: rejection.rule.number(),
                reason: rejection.reason,
                next,
            });
        }
    };
    let row = NewRow {
        key: None,
        practitioner_id: b.practitioner,
        patient_id: Some(b.patient),
        service_id: Some(b.service),
        schedule_type_id: Some(input.schedule_type_id(slot.schedule_type)),
        clinic_id: Some(input.clinic_id(slot.clinic)),
        start_ns: slot.start_instant().unix_nanos(),
        end_ns: slot.end_instant().unix_nanos(),
        status: if org.auto_accept_portal_bookings {
            AppointmentStatus::Booked
        } else {
            AppointmentStatus::Pending
        },
        channel: Channel::Portal,
        override_reason: None,
        override_by: None,
        idempotency_key: b.idempotency_key.clone(),
        actor: Actor::Patient(b.patient).label(),
    };
    finish_insert(
        db,
        tx,
        org.id,
        row,
        &request,
        Actor::Patient(b.patient),
        clock,
        serde_json::json!({}),
        notify,
    )
    .await
    .map(PortalOutcome::Booked)
}

/// The next open times of `service` from `at` on, over two weeks, with any of
/// `practitioners` (`None`: all). The search reads dates in each clinic's zone, and
/// `at` may still be the day before in one of them (a Vancouver evening is the next
/// day in UTC), so it starts from the earliest of the clinics' dates.
async fn next_open(
    db: &Db,
    org: &Organisation,
    service: i64,
    practitioners: Option<Vec<i64>>,
    at: Instant,
    clock: &dyn Clock,
) -> Result<Vec<OpenSlot>> {
    let mut conn = db.conn().await?;
    let clinics = crate::clinic::all(conn.exec(), org.id).await?;
    let from = Date::try_from(crate::clinic::earliest_local_date(&clinics, at))
        .map_err(|e| Error::invalid("from", e.to_string()))?;
    let to = from.add_days(14).unwrap_or(from);
    let (input, found) = window::open_slots(
        &mut conn.exec(),
        org,
        &SlotRequest {
            service,
            practitioners,
            from,
            to,
            now: clock.now(),
            telehealth: false,
        },
    )
    .await?;
    Ok(found
        .iter()
        .filter(|s| s.start_instant() >= at)
        .take(NEXT_SLOTS)
        .map(|s| input.open_slot(s))
        .collect())
}

/// The first booking made with a key, when the request is the same as the one the key
/// first came with; a different request with a used key is refused, naming the key.
fn replay((existing, first): (Appointment, Option<String>), request: &str) -> Result<Booked> {
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
async fn finish_insert(
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

/// A booking made by front-desk staff.
#[derive(Clone, Debug)]
pub struct StaffBooking {
    /// The staff user booking.
    pub staff: i64,
    /// The practitioner.
    pub practitioner: i64,
    /// The patient, if any.
    pub patient: Option<i64>,
    /// The service, if any.
    pub service: Option<i64>,
    /// The schedule type, if booking without a service.
    pub schedule_type: Option<i64>,
    /// The start.
    pub start: Instant,
    /// The length staff chose; default the service's duration, else the schedule
    /// type's default duration.
    pub duration_minutes: Option<u32>,
    /// Set to book despite the engine's reasons (double-booking, outside
    /// availability…): why, recorded with who.
    pub override_reason: Option<String>,
    /// A client-chosen key that makes a retried request return the first result.
    pub idempotency_key: Option<String>,
}

async fn default_duration(tx: &mut Tx, org: i64, b: &StaffBooking) -> Result<u32> {
    if let Some(d) = b.duration_minutes {
        return Ok(d);
    }
    let minutes = if let Some(service) = b.service {
        scalar_optional!(
            tx.exec(),
            i64,
            "SELECT duration_minutes FROM services WHERE org_id = $1 AND id = $2",
            org,
            service
        )?
        .ok_or(Error::NotFound("service"))?
    } else if let Some(t) = b.schedule_type {
        scalar_optional!(
            tx.exec(),
            i64,
            "SELECT default_duration_minutes FROM schedule_types WHERE org_id = $1 AND id = $2",
            org,
            t
        )?
        .ok_or(Error::NotFound("schedule type"))?
    } else {
        return Err(Error::invalid(
            "duration_minutes",
            "choose a service, a schedule type or a duration",
        ));
    };
    Ok(u32::try_from(minutes).unwrap_or(30))
}

/// Checks and books a staff appointment: it goes in when it fits the schedule type's
/// blocks and allowed-conflicts rule, or with an explicit override reason; otherwise
/// [`Conflict::NeedsOverride`] lists every reason. The emails `notify` composes are
/// queued with the booking (not on a replay).
pub async fn book_staff(
    db: &Db,
    org: &Organisation,
    b: &StaffBooking,
    clock: &dyn Clock,
    notify: Option<Notify<'_>>,
) -> Result<Booked> {
    check_idempotency_key(&b.idempotency_key)?;
    let reason = override_reason(&b.override_reason)?;
    let mut tx = db.begin().await?;
    lock_practitioner(&mut tx, org.id, b.practitioner).await?;
    let org = &settings_now(&mut tx, org.id).await?;
    let request = request_hash(&[
        ("staff.practitioner", Some(b.practitioner)),
        ("patient", b.patient),
        ("service", b.service),
        ("schedule_type", b.schedule_type),
        ("start", Some(b.start.unix_nanos())),
        ("duration_minutes", b.duration_minutes.map(i64::from)),
    ]);
    if let Some(key) = &b.idempotency_key
        && let Some(existing) =
            by_idempotency_key(&mut tx, org.id, Actor::Staff(b.staff), key).await?
    {
        return replay(existing, &request);
    }
    // Every id of the request names a row of this organisation, whether or not the
    // engine looks at it (with a service, or overridden, the schedule type is stored
    // as given); the database refuses any other too (migration 0015).
    for (noun, table, id) in [
        ("patient", "patients", b.patient),
        ("service", "services", b.service),
        ("schedule type", "schedule_types", b.schedule_type),
    ] {
        if let Some(id) = id {
            let sql = format!("SELECT id FROM {table} WHERE org_id = $1 AND id = $2");
            scalar_optional!(tx.exec(), i64, &sql, org.id, id)?.ok_or(Error::NotFound(noun))?;
        }
    }
    let duration = default_duration(&mut tx, org.id, b).await?;
    if !(1..=1440).contains(&duration) {
        return Err(Error::invalid(
            "duration_minutes",
            "must be between 1 and 1440",
        ));
    }
    let (fit, reasons) = staff_fit(
        &mut tx,
        org,
        b.practitioner,
        b.service,
        b.schedule_type,
        b.start,
        duration,
        None,
    )
    .await?;
    if !reasons.is_empty() && reason.is_none() {
        return Err(Error::Conflict(Conflict::NeedsOverride { reasons }));
    }
    let row = NewRow {
        key: None,
        practitioner_id: b.practitioner,
        patient_id: b.patient,
        service_id: b.service,
        schedule_type_id: fit.map(|f| f.0).or(b.schedule_type),
        clinic_id: fit.map(|f| f.1),
        start_ns: b.start.unix_nanos(),
        end_ns: b.start.unix_nanos() + i64::from(duration) * 60_000_000_000,
        status: AppointmentStatus::Booked,
        channel: Channel::Staff,
        override_reason: if reasons.is_empty() {
            None
        } else {
            reason.clone()
        },
        override_by: if reasons.is_empty() {
            None
        } else {
            Some(b.staff)
        },
        idempotency_key: b.idempotency_key.clone(),
        actor: Actor::Staff(b.staff).label(),
    };
    let details = if reasons.is_empty() {
        serde_json::json!({})
    } else {
        serde_json::json!({ "override_reason": reason, "overridden": reasons })
    };
    finish_insert(
        db,
        tx,
        org.id,
        row,
        &request,
        Actor::Staff(b.staff),
        clock,
        details,
        notify,
    )
    .await
}

fn override_reason(reason: &Option<String>) -> Result<Option<String>> {
    match reason.as_deref().map(str::trim) {
        None => Ok(None),
        Some("") => Err(Error::invalid(
            "override_reason",
            "say why the conflict is overridden",
        )),
        Some(r) if r.len() > 500 => Err(Error::invalid(
            "override_reason",
            "must be at most 500 characters",
        )),
        Some(r) => Ok(Some(r.to_owned())),
    }
}

/// Where a staff booking fits (schedule type, clinic), and the reasons it needs an
/// override (empty when it fits).
#[allow(clippy::too_many_arguments)]
async fn staff_fit(
    tx: &mut Tx,
    org: &Organisation,
    practitioner: i64,
    service: Option<i64>,
    schedule_type: Option<i64>,
    start: Instant,
    duration: u32,
    skip: Option<i64>,
) -> Result<(Option<(i64, i64)>, Vec<String>)> {
    let (from, to) = dates_around(start);
    let input = window::load(
        &mut tx.exec(),
        org,
        &Window {
            service,
            practitioners: Some(vec![practitioner]),
            from,
            to,
            skip_appointment: skip,
        },
    )
    .await?;
    let purpose = match (service, schedule_type) {
        (Some(s), _) => Purpose::Service(input.service_ix(s).ok_or(Error::NotFound("service"))?),
        (None, Some(t)) => Purpose::ScheduleType(
            input
                .schedule_type_ix(t)
                .ok_or(Error::NotFound("schedule type"))?,
        ),
        (None, None) => Purpose::Unspecified,
    };
    let booking = EngineStaffBooking {
        practitioner: input
            .practitioner_ix(practitioner)
            .ok_or(Error::NotFound("practitioner"))?,
        start,
        duration_minutes: duration,
        purpose,
    };
    Ok(match input.model.check_staff(&booking) {
        Ok(fit) => (
            Some((
                input.schedule_type_id(fit.schedule_type),
                input.clinic_id(fit.clinic),
            )),
            Vec::new(),
        ),
        Err(reasons) => (None, reasons.into_iter().map(|r| r.message).collect()),
    })
}

async fn set_status(
    tx: &mut Tx,
    org: i64,
    id: i64,
    status: AppointmentStatus,
    note: &str,
    actor: Actor,
    now: i64,
) -> Result<()> {
    execute!(
        tx.exec(),
        "UPDATE appointments SET status = $3, status_note = $4, updated_by = $5, updated_at_ns = $6 \
         WHERE org_id = $1 AND id = $2",
        org,
        id,
        status.as_str(),
        note,
        actor.label(),
        now
    )?;
    Ok(())
}

/// The last instant a patient may cancel an appointment starting at `start_ns`
/// online: the organisation's cancellation notice before the start.
fn cancel_deadline(org: &Organisation, start_ns: i64) -> i64 {
    start_ns - org.cancellation_notice_minutes * 60_000_000_000
}

/// Until when a patient may still cancel an appointment online, seen at `now_ns`: the
/// deadline, for a booked or pending appointment whose deadline has not passed; `None`
/// otherwise. [`cancel`] refuses a patient by this rule, and the portal shows it.
pub fn cancellable_until(
    org: &Organisation,
    status: AppointmentStatus,
    start_ns: i64,
    now_ns: i64,
) -> Option<i64> {
    let until = cancel_deadline(org, start_ns);
    (status.is_changeable() && now_ns <= until).then_some(until)
}

/// Cancels an appointment. A patient may cancel only their own, and only until the
/// organisation's cancellation notice before the start ([`Error::TooLate`]; see
/// [`cancellable_until`]). The emails `notify` composes are queued with the change.
pub async fn cancel(
    db: &Db,
    org: &Organisation,
    id: i64,
    actor: Actor,
    clock: &dyn Clock,
    notify: Option<Notify<'_>>,
) -> Result<Appointment> {
    let mut tx = db.begin().await?;
    let appointment = get(tx.exec(), org.id, id).await?;
    if let Actor::Patient(p) = actor
        && appointment.patient_id != Some(p)
    {
        return Err(Error::NotFound("appointment"));
    }
    lock_practitioner(&mut tx, org.id, appointment.practitioner_id).await?;
    let org = &settings_now(&mut tx, org.id).await?;
    let appointment = get(tx.exec(), org.id, id).await?;
    if !appointment.status.is_changeable() {
        return Err(Error::invalid(
            "status",
            format!("a {} appointment cannot be cancelled", appointment.status),
        ));
    }
    let now = clock.now_ns();
    if let Actor::Patient(_) = actor
        && cancellable_until(org, appointment.status, appointment.start_ns, now).is_none()
    {
        return Err(Error::TooLate {
            until_ns: cancel_deadline(org, appointment.start_ns),
        });
    }
    set_status(
        &mut tx,
        org.id,
        id,
        AppointmentStatus::Cancelled,
        "",
        actor,
        now,
    )
    .await?;
    crate::audit::record(
        &mut tx,
        org.id,
        &actor.label(),
        "appointment.cancel",
        "appointment",
        Some(id),
        serde_json::json!({ "previous_status": appointment.status }),
        now,
    )
    .await?;
    let updated = get(tx.exec(), org.id, id).await?;
    queue_notices(&mut tx, org.id, notify, &updated, now).await?;
    tx.commit().await?;
    Ok(updated)
}

/// Staff's answer to a pending portal booking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Book it.
    Accept,
    /// Decline it (cancels it), with a note for the patient.
    Decline,
}

/// Accepts or declines a pending booking, queueing the emails `notify` composes with
/// the change.
#[allow(clippy::too_many_arguments)]
pub async fn decide(
    db: &Db,
    org: &Organisation,
    id: i64,
    decision: Decision,
    note: &str,
    staff: i64,
    clock: &dyn Clock,
    notify: Option<Notify<'_>>,
) -> Result<Appointment> {
    if note.len() > 1000 {
        return Err(Error::invalid("note", "must be at most 1000 characters"));
    }
    let mut tx = db.begin().await?;
    let appointment = get(tx.exec(), org.id, id).await?;
    lock_practitioner(&mut tx, org.id, appointment.practitioner_id).await?;
    let org = &settings_now(&mut tx, org.id).await?;
    let appointment = get(tx.exec(), org.id, id).await?;
    if appointment.status != AppointmentStatus::Pending {
        return Err(Error::invalid(
            "status",
            format!("this appointment is {}, not pending", appointment.status),
        ));
    }
    let (status, action) = match decision {
        Decision::Accept => (AppointmentStatus::Booked, "appointment.accept"),
        Decision::Decline => (AppointmentStatus::Cancelled, "appointment.decline"),
    };
    let now = clock.now_ns();
    set_status(
        &mut tx,
        org.id,
        id,
        status,
        note.trim(),
        Actor::Staff(staff),
        now,
    )
    .await?;
    crate::audit::record(
        &mut tx,
        org.id,
        &Actor::Staff(staff).label(),
        action,
        "appointment",
        Some(id),
        serde_json::json!({ "note": note.trim() }),
        now,
    )
    .await?;
    let updated = get(tx.exec(), org.id, id).await?;
    queue_notices(&mut tx, org.id, notify, &updated, now).await?;
    tx.commit().await?;
    Ok(updated)
}

/// Moving an appointment (staff).
#[derive(Clone, Debug)]
pub struct Move {
    /// The staff user moving it.
    pub staff: i64,
    /// The appointment.
    pub appointment: i64,
    /// Its new start.
    pub start: Instant,
    /// Its new practitioner (default: the same).
    pub practitioner: Option<i64>,
    /// Its new length (default: the same).
    pub duration_minutes: Option<u32>,
    /// Set to move despite the engine's reasons.
    pub override_reason: Option<String>,
}

/// Moves an appointment as one atomic change: checked at its new place as if it were
/// not at its old one, under both practitioners' locks. The emails `notify` composes
/// are queued with the move.
pub async fn reschedule(
    db: &Db,
    org: &Organisation,
    m: &Move,
    clock: &dyn Clock,
    notify: Option<Notify<'_>>,
) -> Result<Appointment> {
    let reason = override_reason(&m.override_reason)?;
    let (mut tx, old) = lock_for_move(db, org.id, m).await?;
    let practitioner = m.practitioner.unwrap_or(old.practitioner_id);
    let org = &settings_now(&mut tx, org.id).await?;
    if !old.status.is_changeable() {
        return Err(Error::invalid(
            "status",
            format!("a {} appointment cannot be moved", old.status),
        ));
    }
    let duration = match m.duration_minutes {
        Some(d) => d,
        None => u32::try_from((old.end_ns - old.start_ns).div_euclid(60_000_000_000)).unwrap_or(0),
    };
    if !(1..=1440).contains(&duration) {
        return Err(Error::invalid(
            "duration_minutes",
            "must be between 1 and 1440",
        ));
    }
    let (fit, reasons) = staff_fit(
        &mut tx,
        org,
        practitioner,
        old.service_id,
        if old.service_id.is_none() {
            old.schedule_type_id
        } else {
            None
        },
        m.start,
        duration,
        Some(old.id),
    )
    .await?;
    if !reasons.is_empty() && reason.is_none() {
        return Err(Error::Conflict(Conflict::NeedsOverride { reasons }));
    }
    let now = clock.now_ns();
    let start_ns = m.start.unix_nanos();
    let end_ns = start_ns + i64::from(duration) * 60_000_000_000;
    let overridden = !reasons.is_empty();
    execute!(
        tx.exec(),
        "UPDATE appointments SET practitioner_id = $3, start_ns = $4, end_ns = $5, \
         schedule_type_id = COALESCE($6, schedule_type_id), clinic_id = COALESCE($7, clinic_id), \
         override_reason = $8, override_by = $9, updated_by = $10, updated_at_ns = $11, \
         sequence = sequence + 1 \
         WHERE org_id = $1 AND id = $2",
        org.id,
        old.id,
        practitioner,
        start_ns,
        end_ns,
        fit.map(|f| f.0),
        fit.map(|f| f.1),
        if overridden { reason.clone() } else { None },
        if overridden { Some(m.staff) } else { None },
        Actor::Staff(m.staff).label(),
        now
    )?;
    organisation::note_appointment_length(&mut tx, org.id, end_ns - start_ns).await?;
    crate::audit::record(
        &mut tx,
        org.id,
        &Actor::Staff(m.staff).label(),
        if overridden { "appointment.reschedule_override" } else { "appointment.reschedule" },
        "appointment",
        Some(old.id),
        serde_json::json!({
            "from": { "practitioner_id": old.practitioner_id, "start_ns": old.start_ns, "end_ns": old.end_ns },
            "to": { "practitioner_id": practitioner, "start_ns": start_ns, "end_ns": end_ns },
            "override_reason": if overridden { reason } else { None },
            "overridden": reasons,
        }),
        now,
    )
    .await?;
    let updated = get(tx.exec(), org.id, old.id).await?;
    queue_notices(&mut tx, org.id, notify, &updated, now).await?;
    tx.commit().await?;
    Ok(updated)
}

/// How many times a move starts again when the appointment changed practitioner
/// between its first read and the locks.
const MOVE_ATTEMPTS: usize = 3;

/// Begins a move's transaction holding the locks of both practitioners it touches,
/// the appointment's and the target, and returns the appointment as read under them.
/// Which practitioner is the appointment's is known only from a read before the
/// locks; if another move changed it meanwhile, the locks held may not cover it, so
/// the transaction rolls back and starts again, always locking in id order.
async fn lock_for_move(db: &Db, org: i64, m: &Move) -> Result<(Tx, Appointment)> {
    for _ in 0..MOVE_ATTEMPTS {
        let mut tx = db.begin().await?;
        let seen = get(tx.exec(), org, m.appointment).await?;
        let locked = vec![
            seen.practitioner_id,
            m.practitioner.unwrap_or(seen.practitioner_id),
        ];
        lock_practitioners(&mut tx, org, locked.clone()).await?;
        let old = get(tx.exec(), org, m.appointment).await?;
        if locked.contains(&old.practitioner_id) {
            return Ok((tx, old));
        }
    }
    Err(Error::invalid(
        "appointment",
        "it was being moved by someone else at the same time; please try again",
    ))
}

/// Marks a past appointment completed or a no-show (staff).
pub async fn mark(
    db: &Db,
    org: &Organisation,
    id: i64,
    status: AppointmentStatus,
    staff: i64,
    clock: &dyn Clock,
) -> Result<Appointment> {
    if !matches!(
        status,
        AppointmentStatus::Completed | AppointmentStatus::NoShow | AppointmentStatus::Booked
    ) {
        return Err(Error::invalid(
            "status",
            "must be completed, no_show or booked",
        ));
    }
    let mut tx = db.begin().await?;
    let appointment = get(tx.exec(), org.id, id).await?;
    if matches!(
        appointment.status,
        AppointmentStatus::Cancelled | AppointmentStatus::Pending
    ) {
        return Err(Error::invalid(
            "status",
            format!(
                "a {} appointment cannot be marked {status}",
                appointment.status
            ),
        ));
    }
    let now = clock.now_ns();
    set_status(&mut tx, org.id, id, status, "", Actor::Staff(staff), now).await?;
    crate::audit::record(
        &mut tx,
        org.id,
        &Actor::Staff(staff).label(),
        "appointment.mark",
        "appointment",
        Some(id),
        serde_json::json!({ "status": status, "previous_status": appointment.status }),
        now,
    )
    .await?;
    let updated = get(tx.exec(), org.id, id).await?;
    tx.commit().await?;
    Ok(updated)
}

/// How many appointments the organisation has (for tests and the status page).
pub async fn count(exec: Exec<'_>, org: i64) -> Result<i64> {
    Ok(scalar!(
        exec,
        i64,
        "SELECT COUNT(*) FROM appointments WHERE org_id = $1",
        org
    )?)
}
