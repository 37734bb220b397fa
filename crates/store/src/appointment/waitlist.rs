//! Waitlist offers (issue 17): a freed time held for the entries it is offered to, and
//! the first acceptance that turns the hold into the patient's appointment.
//!
//! A hold is blocked time (an appointment without a patient, labelled
//! [`crate::waitlist::HOLD_LABEL`]) written under the practitioner's lock after the
//! engine found the time open in the portal, with the rooms and equipment the slot
//! takes; the portal never offers it meanwhile. Accepting takes the same lock, finds
//! the hold still open, unexpired and its blocked time still there, and gives that
//! appointment to the patient: an offer is granted at most once because every
//! acceptance of one hold decides in turn under one lock, and the hold's state moves
//! from `open` only once (a conditional update). A hold that runs out is released:
//! its blocked time is deleted, and the time is free again.

use serde::Serialize;
use slot_engine::Instant;

use crate::db::{Db, Exec, Tx, execute, rows, scalar, scalar_optional};
use crate::error::{Error, Result};
use crate::organisation::Organisation;
use crate::outbox::NewMessage;
use crate::time::Clock;
use crate::waitlist::{Entry, HOLD_LABEL, Proposal};
use crate::window::{self, Window};

use super::insert::{NewRow, insert_one};
use super::locking::{lock_practitioner, settings_now};
use super::resources::{check_locked, lock_resources};
use super::{Actor, Appointment, AppointmentStatus, COLUMNS, Channel, dates_around};

/// A held time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Hold {
    /// Row id.
    pub id: i64,
    /// The service offered.
    pub service_id: i64,
    /// The practitioner.
    pub practitioner_id: i64,
    /// The clinic the time is at (its zone shows the time after the hold ends).
    pub clinic_id: i64,
    /// The blocked time holding it (none once released).
    pub appointment_id: Option<i64>,
    /// Start, ns since the Unix epoch.
    pub start_ns: i64,
    /// End.
    pub end_ns: i64,
    /// When the hold runs out.
    pub expires_at_ns: i64,
    /// `open`, `accepted`, `expired` or `withdrawn`.
    pub state: String,
    /// Who made it (`waitlist` for the matcher, `staff:3` by hand).
    pub created_by: String,
}

const HOLD_COLUMNS: &str = "id, service_id, practitioner_id, clinic_id, appointment_id, start_ns, end_ns, \
    expires_at_ns, state, created_by";

/// An offer of a held time to one entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Offer {
    /// Row id.
    pub id: i64,
    /// The hold.
    pub hold_id: i64,
    /// The entry.
    pub entry_id: i64,
    /// The entry's patient.
    pub patient_id: i64,
    /// `open`, `accepted`, `gone` or `expired`.
    pub state: String,
}

const OFFER_COLUMNS: &str = "o.id, o.hold_id, o.entry_id, e.patient_id, o.state";

/// What an email about an offer is for.
#[derive(Clone, Copy, Debug)]
pub enum OfferMail<'a> {
    /// The time is offered: the link carries `token`.
    Offered {
        /// The entry offered.
        entry: &'a Entry,
        /// The link's token (stored only hashed).
        token: &'a str,
        /// The hold's blocked time (its time and place).
        appointment: &'a Appointment,
        /// When the hold runs out.
        expires_at_ns: i64,
    },
    /// Another recipient took it.
    Gone {
        /// The patient told.
        patient: i64,
        /// The time that went.
        appointment: &'a Appointment,
    },
    /// Accepted: the patient's booking.
    Booked {
        /// The patient's appointment.
        appointment: &'a Appointment,
    },
}

/// Composes the email for an offer event; the web knows the words.
pub type OfferNotify<'a> = &'a (dyn Fn(OfferMail<'_>) -> Vec<NewMessage> + Send + Sync);

/// Holds the proposed time and offers it to its entries, each with its token (plain,
/// for the email; stored hashed). Under the practitioner's lock and the resources'
/// locks, the engine must still find the time open in the portal, the service must
/// have fewer open holds than the settings allow, and each entry must still be active
/// without an open offer; entries that no longer qualify are skipped, and `None` says
/// nothing was held. `actor` is `None` for the matcher. Audited, emails queued, one
/// transaction.
pub async fn hold_for_offers(
    db: &Db,
    org: &Organisation,
    p: &Proposal,
    tokens: &[String],
    actor: Option<Actor>,
    clock: &dyn Clock,
    notify: OfferNotify<'_>,
) -> Result<Option<(Hold, Vec<i64>)>> {
    let now = clock.now_ns();
    let start =
        Instant::from_unix_nanos(p.start_ns).map_err(|e| Error::invalid("start", e.to_string()))?;
    let mut tx = db.begin().await?;
    lock_practitioner(&mut tx, org.id, p.practitioner).await?;
    let locked = lock_resources(&mut tx, org.id, Some(p.service), &[]).await?;
    let org = &settings_now(&mut tx, org.id).await?;
    let s = crate::waitlist::settings(tx.exec(), org.id).await?;
    let open_holds = scalar!(
        tx.exec(),
        i64,
        "SELECT COUNT(*) FROM waitlist_holds WHERE org_id = $1 AND service_id = $2 AND state = 'open'",
        org.id,
        p.service
    )?;
    if open_holds >= s.max_holds_per_service {
        return Ok(None);
    }
    let (from, to) = dates_around(start);
    let input = window::load(
        &mut tx.exec(),
        org,
        &Window {
            service: Some(p.service),
            practitioners: Some(vec![p.practitioner]),
            from,
            to,
            skip_appointment: None,
            resources: Vec::new(),
        },
    )
    .await?;
    check_locked(&input, Some(p.service), &locked)?;
    let query = window::portal_query(&input, p.service, None, clock.now(), false)?;
    let practitioner = input
        .practitioner_ix(p.practitioner)
        .ok_or(Error::NotFound("practitioner"))?;
    let Ok(slot) = input.model.check(&query, practitioner, start) else {
        return Ok(None);
    };
    let mut entries = Vec::new();
    for e in &p.entries {
        let busy = scalar_optional!(
            tx.exec(),
            i64,
            "SELECT e.id FROM waitlist_entries e WHERE e.org_id = $1 AND e.id = $2 AND \
             (e.status <> 'active' OR EXISTS (SELECT 1 FROM waitlist_offers o WHERE o.org_id = $1 \
             AND o.entry_id = e.id AND o.state = 'open'))",
            org.id,
            e.id
        )?;
        if busy.is_none() && e.service_id == p.service {
            entries.push(e);
        }
    }
    if entries.is_empty() {
        return Ok(None);
    }
    let row = NewRow {
        key: None,
        practitioner_id: p.practitioner,
        patient_id: None,
        service_id: Some(p.service),
        schedule_type_id: Some(input.schedule_type_id(slot.schedule_type)),
        clinic_id: Some(input.clinic_id(slot.clinic)),
        telehealth: false,
        start_ns: slot.start_instant().unix_nanos(),
        end_ns: slot.end_instant().unix_nanos(),
        status: AppointmentStatus::Booked,
        channel: Channel::Staff,
        override_reason: None,
        override_by: None,
        idempotency_key: None,
        actor: actor.map_or_else(|| "waitlist".to_owned(), Actor::label),
        buffers: input.service_buffers(p.service),
        resources: input.resource_ids(&input.model.slot_resources(&slot)),
    };
    let mut blocked = insert_one(&mut tx, org.id, &row, "", now).await?;
    execute!(
        tx.exec(),
        "UPDATE appointments SET status_note = $3 WHERE org_id = $1 AND id = $2",
        org.id,
        blocked.id,
        HOLD_LABEL
    )?;
    blocked.status_note = HOLD_LABEL.to_owned();
    let expires_at_ns = now + s.hold_minutes * 60 * 1_000_000_000;
    let hold = rows!(
        tx.exec(),
        fetch_one,
        Hold,
        &format!(
            "INSERT INTO waitlist_holds (org_id, service_id, practitioner_id, appointment_id, start_ns, \
             end_ns, expires_at_ns, created_by, created_at_ns, clinic_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             RETURNING {HOLD_COLUMNS}"
        ),
        org.id,
        p.service,
        p.practitioner,
        blocked.id,
        blocked.start_ns,
        blocked.end_ns,
        expires_at_ns,
        &row.actor,
        now,
        input.clinic_id(slot.clinic)
    )?;
    let mut offered = Vec::new();
    for (e, token) in entries.into_iter().zip(tokens) {
        execute!(
            tx.exec(),
            "INSERT INTO waitlist_offers (org_id, hold_id, entry_id, token_hash, created_at_ns) \
             VALUES ($1, $2, $3, $4, $5)",
            org.id,
            hold.id,
            e.id,
            crate::portal_access::token_hash(token),
            now
        )?;
        offered.push(e.id);
        for message in notify(OfferMail::Offered {
            entry: e,
            token,
            appointment: &blocked,
            expires_at_ns,
        }) {
            crate::outbox::enqueue(&mut tx, org.id, &message, now).await?;
        }
    }
    crate::audit::record(
        &mut tx,
        org.id,
        &row.actor,
        "waitlist.offered",
        "appointment",
        Some(blocked.id),
        serde_json::json!({ "hold_id": hold.id, "entry_ids": offered, "start_ns": blocked.start_ns,
            "practitioner_id": p.practitioner, "expires_at_ns": expires_at_ns }),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Some((hold, offered)))
}

/// An offer found by its link's token, with its hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfferByToken {
    /// The offer.
    pub offer: Offer,
    /// Its hold.
    pub hold: Hold,
    /// The hold's blocked time, or once accepted the patient's appointment; none once
    /// released.
    pub appointment: Option<Appointment>,
}

async fn offer_in(exec: &mut Exec<'_>, org: i64, token: &str) -> Result<Option<OfferByToken>> {
    let sql = format!(
        "SELECT {OFFER_COLUMNS} FROM waitlist_offers o JOIN waitlist_entries e ON e.org_id = o.org_id AND e.id = o.entry_id \
         WHERE o.org_id = $1 AND o.token_hash = $2"
    );
    let Some(offer) = rows!(
        exec.reborrow(),
        fetch_optional,
        Offer,
        &sql,
        org,
        crate::portal_access::token_hash(token)
    )?
    else {
        return Ok(None);
    };
    let sql = format!("SELECT {HOLD_COLUMNS} FROM waitlist_holds WHERE org_id = $1 AND id = $2");
    let hold = rows!(exec.reborrow(), fetch_one, Hold, &sql, org, offer.hold_id)?;
    let appointment = match hold.appointment_id {
        Some(id) => {
            let sql = format!("SELECT {COLUMNS} FROM appointments WHERE org_id = $1 AND id = $2");
            rows!(exec.reborrow(), fetch_optional, Appointment, &sql, org, id)?
        }
        None => None,
    };
    Ok(Some(OfferByToken {
        offer,
        hold,
        appointment,
    }))
}

/// The offer a link's token names in the organisation, if any (a read: the page's GET).
pub async fn offer_by_token(db: &Db, org: i64, token: &str) -> Result<Option<OfferByToken>> {
    let mut conn = db.conn().await?;
    offer_in(&mut conn.exec(), org, token).await
}

/// What accepting an offer came to.
// One value per request, returned once: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AcceptOutcome {
    /// Booked: the patient's appointment.
    Booked(Appointment),
    /// This offer was already accepted and its appointment still stands: the same
    /// appointment (a repeated click), nothing changed.
    AlreadyBooked(Appointment),
    /// This offer was accepted, but its appointment has since been cancelled.
    Cancelled,
    /// The patient left the waitlist (or staff removed the entry): the offer went
    /// with the entry.
    Withdrawn,
    /// Someone else accepted it first, or the clinic took the time back.
    Taken,
    /// The hold ran out.
    Expired,
    /// No offer has this token in the organisation.
    Unknown,
}

/// Accepts the offer a link's token names: under the practitioner's lock, the hold must
/// be open and unexpired and its blocked time still there; then the blocked time
/// becomes the patient's appointment (booked, channel portal), the entry is marked
/// booked, the other offers of the hold are gone and their patients told. Anything
/// else is [`AcceptOutcome::Taken`] or [`AcceptOutcome::Expired`], nothing changed.
pub async fn accept_offer(
    db: &Db,
    org: &Organisation,
    token: &str,
    clock: &dyn Clock,
    notify: OfferNotify<'_>,
) -> Result<AcceptOutcome> {
    let Some(found) = offer_by_token(db, org.id, token).await? else {
        return Ok(AcceptOutcome::Unknown);
    };
    let now = clock.now_ns();
    let mut tx = db.begin().await?;
    lock_practitioner(&mut tx, org.id, found.hold.practitioner_id).await?;
    // Read again under the lock: every acceptance of this hold decides in turn.
    let Some(found) = offer_in(&mut tx.exec(), org.id, token).await? else {
        return Ok(AcceptOutcome::Unknown);
    };
    let OfferByToken {
        offer,
        hold,
        appointment,
    } = found;
    match offer.state.as_str() {
        "accepted" => {
            return Ok(match appointment {
                Some(a)
                    if a.status != AppointmentStatus::Cancelled
                        && a.patient_id == Some(offer.patient_id) =>
                {
                    AcceptOutcome::AlreadyBooked(a)
                }
                _ => AcceptOutcome::Cancelled,
            });
        }
        "expired" => return Ok(AcceptOutcome::Expired),
        _ => {}
    }
    let entry_open = scalar_optional!(
        tx.exec(),
        i64,
        "SELECT id FROM waitlist_entries WHERE org_id = $1 AND id = $2 AND status = 'active'",
        org.id,
        offer.entry_id
    )?;
    if entry_open.is_none() {
        // The patient left the waitlist since: the offer went with the entry.
        return Ok(AcceptOutcome::Withdrawn);
    }
    if offer.state == "gone" {
        return Ok(AcceptOutcome::Taken);
    }
    if hold.state == "expired" || (hold.state == "open" && hold.expires_at_ns <= now) {
        return Ok(AcceptOutcome::Expired);
    }
    let blocked = match appointment {
        Some(a) if hold.state == "open" && still_held(&hold, &a) => a,
        Some(_) if hold.state == "open" => {
            // Staff moved, gave away or cancelled the blocked time: it is not the time
            // offered (nor perhaps one the patient may book). Withdraw the hold.
            release_one(&mut tx, org.id, &hold, now).await?;
            tx.commit().await?;
            return Ok(AcceptOutcome::Taken);
        }
        _ => return Ok(AcceptOutcome::Taken),
    };
    let won = execute!(
        tx.exec(),
        "UPDATE waitlist_holds SET state = 'accepted', closed_at_ns = $3 \
         WHERE org_id = $1 AND id = $2 AND state = 'open'",
        org.id,
        hold.id,
        now
    )?;
    if won != 1 {
        return Ok(AcceptOutcome::Taken);
    }
    let patient = Actor::Patient(offer.patient_id);
    // The organisation's policy for portal bookings, read under the lock like the
    // portal's booking: a patient past the no-show threshold asks, the clinic accepts.
    let settings = settings_now(&mut tx, org.id).await?;
    let status = if settings.auto_accept_portal_bookings
        && !crate::patient::pending_by_no_shows(tx.exec(), org.id, offer.patient_id).await?
    {
        AppointmentStatus::Booked
    } else {
        AppointmentStatus::Pending
    };
    let sql = format!(
        "UPDATE appointments SET patient_id = $3, channel = 'portal', status = $6, status_note = '', \
         created_by = $4, updated_by = $4, updated_at_ns = $5 \
         WHERE org_id = $1 AND id = $2 AND patient_id IS NULL RETURNING {COLUMNS}"
    );
    let booked = rows!(
        tx.exec(),
        fetch_one,
        Appointment,
        &sql,
        org.id,
        blocked.id,
        offer.patient_id,
        patient.label(),
        now,
        status.as_str()
    )?;
    execute!(
        tx.exec(),
        "UPDATE waitlist_offers SET state = 'accepted', answered_at_ns = $3 WHERE org_id = $1 AND id = $2",
        org.id,
        offer.id,
        now
    )?;
    execute!(
        tx.exec(),
        "UPDATE waitlist_entries SET status = 'booked', appointment_id = $3, updated_by = $4, updated_at_ns = $5 \
         WHERE org_id = $1 AND id = $2",
        org.id,
        offer.entry_id,
        booked.id,
        patient.label(),
        now
    )?;
    let others = rows!(
        tx.exec(),
        fetch_all,
        Offer,
        &format!(
            "SELECT {OFFER_COLUMNS} FROM waitlist_offers o JOIN waitlist_entries e ON e.org_id = o.org_id AND e.id = o.entry_id \
             WHERE o.org_id = $1 AND o.hold_id = $2 AND o.state = 'open'"
        ),
        org.id,
        hold.id
    )?;
    execute!(
        tx.exec(),
        "UPDATE waitlist_offers SET state = 'gone', answered_at_ns = $3 \
         WHERE org_id = $1 AND hold_id = $2 AND state = 'open'",
        org.id,
        hold.id,
        now
    )?;
    for other in &others {
        for message in notify(OfferMail::Gone {
            patient: other.patient_id,
            appointment: &booked,
        }) {
            crate::outbox::enqueue(&mut tx, org.id, &message, now).await?;
        }
    }
    for message in notify(OfferMail::Booked {
        appointment: &booked,
    }) {
        crate::outbox::enqueue(&mut tx, org.id, &message, now).await?;
    }
    crate::audit::record(
        &mut tx,
        org.id,
        &patient.label(),
        "appointment.book",
        "appointment",
        Some(booked.id),
        serde_json::json!({ "start_ns": booked.start_ns, "end_ns": booked.end_ns,
            "practitioner_id": booked.practitioner_id, "status": booked.status.as_str(),
            "channel": booked.channel.as_str(), "waitlist_hold_id": hold.id, "waitlist_entry_id": offer.entry_id }),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(AcceptOutcome::Booked(booked))
}

/// Whether the hold's blocked time is still exactly the time offered: same start, end,
/// practitioner and clinic, without a patient, not cancelled.
fn still_held(hold: &Hold, a: &Appointment) -> bool {
    a.patient_id.is_none()
        && a.status != AppointmentStatus::Cancelled
        && a.start_ns == hold.start_ns
        && a.end_ns == hold.end_ns
        && a.practitioner_id == hold.practitioner_id
        && a.clinic_id == Some(hold.clinic_id)
}

/// The open offers' patients of a hold (whom an acceptance tells the time has gone).
pub async fn open_offer_patients(exec: Exec<'_>, org: i64, hold: i64) -> Result<Vec<i64>> {
    Ok(rows!(
        exec,
        fetch_all,
        (i64,),
        "SELECT e.patient_id FROM waitlist_offers o JOIN waitlist_entries e ON e.org_id = o.org_id AND e.id = o.entry_id \
         WHERE o.org_id = $1 AND o.hold_id = $2 AND o.state = 'open'",
        org,
        hold
    )?
    .into_iter()
    .map(|(p,)| p)
    .collect())
}

/// The open holds of the organisation, earliest start first (staff's waitlist page).
pub async fn open_holds(exec: Exec<'_>, org: i64) -> Result<Vec<Hold>> {
    Ok(rows!(
        exec,
        fetch_all,
        Hold,
        &format!(
            "SELECT {HOLD_COLUMNS} FROM waitlist_holds WHERE org_id = $1 AND state = 'open' ORDER BY start_ns, id"
        ),
        org
    )?)
}

/// Releases every open hold that ran out by now (its blocked time deleted, the time
/// free again; its open offers expired), whose blocked time staff cancelled or gave a
/// patient, or that nobody is left to accept (every recipient left the waitlist):
/// withdrawn. Each under its practitioner's lock. Answers how many.
pub async fn release_due(db: &Db, org: i64, clock: &dyn Clock) -> Result<usize> {
    let now = clock.now_ns();
    let due = {
        let mut conn = db.conn().await?;
        rows!(
            conn.exec(),
            fetch_all,
            Hold,
            &format!(
                "SELECT {HOLD_COLUMNS} FROM waitlist_holds h WHERE org_id = $1 AND state = 'open' AND \
                 (expires_at_ns <= $2 OR NOT EXISTS (SELECT 1 FROM appointments a WHERE a.org_id = $1 \
                 AND a.id = h.appointment_id AND a.patient_id IS NULL AND a.status <> 'cancelled' \
                 AND a.start_ns = h.start_ns AND a.end_ns = h.end_ns AND a.practitioner_id = h.practitioner_id \
                 AND a.clinic_id = h.clinic_id) \
                 OR NOT EXISTS (SELECT 1 FROM waitlist_offers o WHERE o.org_id = $1 AND o.hold_id = h.id \
                 AND o.state = 'open')) ORDER BY id"
            ),
            org,
            now
        )?
    };
    let mut released = 0;
    for hold in due {
        let mut tx = db.begin().await?;
        lock_practitioner(&mut tx, org, hold.practitioner_id).await?;
        if release_one(&mut tx, org, &hold, now).await? {
            released += 1;
        }
        tx.commit().await?;
    }
    Ok(released)
}

async fn release_one(tx: &mut Tx, org: i64, hold: &Hold, now: i64) -> Result<bool> {
    let blocked = scalar_optional!(
        tx.exec(),
        i64,
        "SELECT a.id FROM waitlist_holds h JOIN appointments a ON a.org_id = h.org_id AND a.id = h.appointment_id \
         WHERE h.org_id = $1 AND h.id = $2 AND a.patient_id IS NULL AND a.status <> 'cancelled' \
         AND a.start_ns = h.start_ns AND a.end_ns = h.end_ns AND a.practitioner_id = h.practitioner_id \
         AND a.clinic_id = h.clinic_id",
        org,
        hold.id
    )?;
    let waiting = scalar!(
        tx.exec(),
        i64,
        "SELECT COUNT(*) FROM waitlist_offers WHERE org_id = $1 AND hold_id = $2 AND state = 'open'",
        org,
        hold.id
    )?;
    let expired = hold.expires_at_ns <= now;
    if blocked.is_some() && waiting > 0 && !expired {
        return Ok(false);
    }
    let state = if blocked.is_some() && expired {
        "expired"
    } else {
        "withdrawn"
    };
    let changed = execute!(
        tx.exec(),
        "UPDATE waitlist_holds SET state = $3, closed_at_ns = $4, appointment_id = NULL \
         WHERE org_id = $1 AND id = $2 AND state = 'open'",
        org,
        hold.id,
        state,
        now
    )?;
    if changed == 0 {
        return Ok(false);
    }
    execute!(
        tx.exec(),
        "UPDATE waitlist_offers SET state = $3, answered_at_ns = $4 WHERE org_id = $1 AND hold_id = $2 AND state = 'open'",
        org,
        hold.id,
        if state == "expired" {
            "expired"
        } else {
            "gone"
        },
        now
    )?;
    if let Some(id) = blocked {
        execute!(
            tx.exec(),
            "DELETE FROM appointments WHERE org_id = $1 AND id = $2 AND patient_id IS NULL",
            org,
            id
        )?;
    }
    crate::audit::record(
        tx,
        org,
        "waitlist",
        "waitlist.released",
        "appointment",
        hold.appointment_id,
        serde_json::json!({ "hold_id": hold.id, "state": state }),
        now,
    )
    .await?;
    Ok(true)
}

/// The organisations with active waitlist entries or open holds (the matcher's rounds).
pub async fn organisations_waiting(db: &Db) -> Result<Vec<i64>> {
    let mut conn = db.conn().await?;
    Ok(rows!(
        conn.exec(),
        fetch_all,
        (i64,),
        "/* fleet: the waitlist worker finds the organisations with someone waiting */ \
         SELECT DISTINCT org_id FROM waitlist_entries WHERE status = 'active' \
         UNION SELECT DISTINCT org_id FROM waitlist_holds WHERE state = 'open'"
    )?
    .into_iter()
    .map(|(o,)| o)
    .collect())
}
