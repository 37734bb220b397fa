//! Reminders and confirmations (issue 17, migration 0027, docs/reminders.md).
//!
//! An organisation chooses the *offsets* at which booked appointments are reminded
//! (say 48 hours and 2 hours before the start); a service may have its own. The
//! scheduler ([`due`] then [`send`], or [`run_due`]) finds every booked appointment
//! whose reminder time `start − offset` has come and which has not been reminded for
//! that offset at that start and `sequence`, and queues the email in the same
//! transaction as the row of `appointment_reminders` that records it. That row's
//! UNIQUE key (appointment, offset, start, sequence) is what makes two schedulers on
//! one database, a restart or a re-run never send a reminder twice: the second insert
//! does nothing, and the second scheduler queues nothing. A moved appointment has a
//! new sequence (every move bumps it: a new start, practitioner or clinic, or back to
//! an earlier start), so it gets the reminders of what it now is, and the earlier
//! links stop; a cancelled one is not booked, so it gets none.
//!
//! Only *booked* appointments are reminded: a pending one is a request the clinic has
//! not accepted yet, and a reminder would read as a promise (its acceptance email says
//! the time). When several offsets are due at once (booked late, or the server was
//! down), only the nearest one is sent and the others are recorded as skipped, so a
//! patient gets at most one email per offset and never a burst.
//!
//! Each reminder carries two single-use links ([`LinkAction`]): confirm and cancel,
//! bound to the appointment and the start it was sent for, expiring at that start, and
//! stored only as SHA-256 hashes ([`crate::portal_access::token_hash`]).
//!
//! The organisation's no-show policy lives here too: after `no_show_pending_after`
//! no-shows, a patient's portal bookings wait for the clinic
//! ([`crate::patient::pending_by_no_shows`], which the booking reads under its lock).

use std::collections::HashMap;

use serde::Serialize;

use crate::AppointmentStatus;
use crate::appointment::Appointment;
use crate::audit::Actor;
use crate::db::{Backend, Db, Exec, Tx, execute, rows, scalar, scalar_optional};
use crate::error::{Error, Result};
use crate::outbox::NewMessage;
use crate::portal_access::token_hash;

/// The most offsets an organisation or a service may have.
pub const MAX_OFFSETS: usize = 5;
/// The nearest a reminder may be to the start, minutes.
pub const MIN_OFFSET_MINUTES: i64 = 15;
/// The furthest a reminder may be from the start, minutes (14 days).
pub const MAX_OFFSET_MINUTES: i64 = 14 * 24 * 60;
/// The largest no-show threshold of the policy.
pub const MAX_NO_SHOW_THRESHOLD: i64 = 100;

const MINUTE_NS: i64 = 60_000_000_000;

/// A valid list of reminder offsets, in minutes before the start: at most
/// [`MAX_OFFSETS`], each between [`MIN_OFFSET_MINUTES`] and [`MAX_OFFSET_MINUTES`],
/// without repeats, largest first. Empty means no reminders (for a service: the
/// organisation's).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Offsets(Vec<i64>);

impl Offsets {
    /// Checks a list of minutes, refused naming `field`.
    pub fn new(field: &str, minutes: &[i64]) -> Result<Offsets> {
        if minutes.len() > MAX_OFFSETS {
            return Err(Error::invalid(
                field,
                format!("at most {MAX_OFFSETS} reminders"),
            ));
        }
        let mut list = Vec::with_capacity(minutes.len());
        for &m in minutes {
            if !(MIN_OFFSET_MINUTES..=MAX_OFFSET_MINUTES).contains(&m) {
                return Err(Error::invalid(
                    field,
                    format!(
                        "each reminder must be between {MIN_OFFSET_MINUTES} minutes and 14 days before the appointment ({m} minutes is not)"
                    ),
                ));
            }
            if list.contains(&m) {
                return Err(Error::invalid(
                    field,
                    format!("{m} minutes is listed twice"),
                ));
            }
            list.push(m);
        }
        list.sort_unstable_by(|a, b| b.cmp(a));
        Ok(Offsets(list))
    }

    /// Reads what a person types: offsets separated by commas or spaces, each a number
    /// with an optional unit, `m` (minutes, the default), `h` or `d` — `48h, 2h`,
    /// `2d 90m`. Refused naming `field`.
    pub fn parse(field: &str, text: &str) -> Result<Offsets> {
        let mut minutes = Vec::new();
        for part in text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|p| !p.is_empty())
        {
            let lower = part.to_ascii_lowercase();
            let (number, unit) = match lower.find(|c: char| !c.is_ascii_digit()) {
                Some(i) => lower.split_at(i),
                None => (lower.as_str(), "m"),
            };
            let factor = match unit {
                "m" | "min" | "mins" | "minutes" => 1,
                "h" | "hour" | "hours" => 60,
                "d" | "day" | "days" => 24 * 60,
                _ => {
                    return Err(Error::invalid(
                        field,
                        format!(
                            "{part:?} is not a time before the appointment (write 48h, 2h, 30m or 2d)"
                        ),
                    ));
                }
            };
            let n: i64 = number.parse().map_err(|_| {
                Error::invalid(
                    field,
                    format!(
                        "{part:?} is not a time before the appointment (write 48h, 2h, 30m or 2d)"
                    ),
                )
            })?;
            minutes.push(n.saturating_mul(factor));
        }
        Offsets::new(field, &minutes)
    }

    /// The minutes, largest first.
    pub fn minutes(&self) -> &[i64] {
        &self.0
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The offsets in words as [`Offsets::parse`] reads them: `48h, 2h`.
    pub fn to_text(&self) -> String {
        self.0
            .iter()
            .map(|&m| {
                if m % (24 * 60) == 0 {
                    format!("{}d", m / (24 * 60))
                } else if m % 60 == 0 {
                    format!("{}h", m / 60)
                } else {
                    format!("{m}m")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn stored(&self) -> String {
        self.0
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The stored text read back; anything unreadable is left out (the store writes
    /// only valid lists).
    fn from_stored(text: &str) -> Offsets {
        let mut list: Vec<i64> = text
            .split(',')
            .filter_map(|p| p.trim().parse().ok())
            .filter(|m| (MIN_OFFSET_MINUTES..=MAX_OFFSET_MINUTES).contains(m))
            .collect();
        list.sort_unstable_by(|a, b| b.cmp(a));
        list.dedup();
        Offsets(list)
    }
}

/// An organisation's reminder settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Settings {
    /// When booked appointments are reminded; empty: never.
    pub offsets: Offsets,
    /// After this many no-shows a patient's portal bookings wait for the clinic
    /// (pending); `None`: no such policy.
    pub no_show_pending_after: Option<i64>,
    /// The services with their own offsets, by service id.
    pub services: Vec<ServiceOffsets>,
}

/// A service's own reminder offsets, used instead of the organisation's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServiceOffsets {
    pub service_id: i64,
    pub offsets: Offsets,
}

/// The organisation's reminder settings (none set: no reminders, no policy).
pub async fn settings(exec: Exec<'_>, org: i64) -> Result<Settings> {
    let mut exec = exec;
    let row = rows!(
        exec.reborrow(),
        fetch_optional,
        (String, Option<i64>),
        "SELECT offsets_minutes, no_show_pending_after FROM reminder_settings WHERE org_id = $1",
        org
    )?;
    let services = rows!(
        exec,
        fetch_all,
        (i64, String),
        "SELECT service_id, offsets_minutes FROM service_reminder_offsets WHERE org_id = $1 ORDER BY service_id",
        org
    )?;
    let (offsets, no_show_pending_after) = row.unwrap_or_default();
    Ok(Settings {
        offsets: Offsets::from_stored(&offsets),
        no_show_pending_after,
        services: services
            .into_iter()
            .map(|(service_id, o)| ServiceOffsets {
                service_id,
                offsets: Offsets::from_stored(&o),
            })
            .collect(),
    })
}

/// Checks a no-show threshold, refused naming `no_show_pending_after`.
pub fn check_no_show_threshold(n: Option<i64>) -> Result<Option<i64>> {
    match n {
        Some(n) if !(1..=MAX_NO_SHOW_THRESHOLD).contains(&n) => Err(Error::invalid(
            "no_show_pending_after",
            format!("must be between 1 and {MAX_NO_SHOW_THRESHOLD}, or empty for no policy"),
        )),
        n => Ok(n),
    }
}

/// Replaces the organisation's settings: its offsets, its no-show policy, and every
/// service's own offsets (a service left out, or with an empty list, uses the
/// organisation's). Each service id is resolved inside the organisation first
/// (refused naming `services`). Audited as `reminders.settings` by `actor`.
pub async fn set_settings(
    tx: &mut Tx,
    org: i64,
    settings: &Settings,
    actor: &str,
    now_ns: i64,
) -> Result<()> {
    check_no_show_threshold(settings.no_show_pending_after)?;
    let mut seen = std::collections::HashSet::new();
    for s in &settings.services {
        if !seen.insert(s.service_id) {
            return Err(Error::invalid(
                "services",
                format!("service {} is listed twice", s.service_id),
            ));
        }
        let found = scalar_optional!(
            tx.exec(),
            i64,
            "SELECT id FROM services WHERE org_id = $1 AND id = $2",
            org,
            s.service_id
        )?;
        if found.is_none() {
            return Err(Error::invalid(
                "services",
                format!("there is no service {}", s.service_id),
            ));
        }
    }
    execute!(
        tx.exec(),
        "INSERT INTO reminder_settings (org_id, offsets_minutes, no_show_pending_after, updated_at_ns) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (org_id) DO UPDATE SET \
         offsets_minutes = excluded.offsets_minutes, no_show_pending_after = excluded.no_show_pending_after, \
         updated_at_ns = excluded.updated_at_ns",
        org,
        settings.offsets.stored(),
        settings.no_show_pending_after,
        now_ns
    )?;
    execute!(
        tx.exec(),
        "DELETE FROM service_reminder_offsets WHERE org_id = $1",
        org
    )?;
    // The key is (org_id, service_id) on PostgreSQL (migration 0033); SQLite keeps
    // service_id, its rowid, which it cannot match inside a wider conflict target.
    let key = match tx.backend() {
        Backend::Sqlite => "service_id",
        Backend::Postgres => "org_id, service_id",
    };
    let sql = format!(
        "INSERT INTO service_reminder_offsets (org_id, service_id, offsets_minutes) VALUES ($1, $2, $3) \
         ON CONFLICT ({key}) DO UPDATE SET offsets_minutes = excluded.offsets_minutes"
    );
    for s in settings.services.iter().filter(|s| !s.offsets.is_empty()) {
        execute!(tx.exec(), &sql, org, s.service_id, s.offsets.stored())?;
    }
    crate::audit::record(
        tx,
        org,
        actor,
        "reminders.settings",
        "organisation",
        Some(org),
        serde_json::json!({
            "offsets_minutes": settings.offsets.minutes(),
            "no_show_pending_after": settings.no_show_pending_after,
            "services": settings.services.iter().filter(|s| !s.offsets.is_empty())
                .map(|s| serde_json::json!({ "service_id": s.service_id, "offsets_minutes": s.offsets.minutes() }))
                .collect::<Vec<_>>(),
        }),
        now_ns,
    )
    .await
}

/// One reminder that has come due: the appointment, the start it is for, the offset
/// to send (the nearest due), and the other due offsets to record as skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Due {
    pub org_id: i64,
    pub appointment_id: i64,
    pub patient_id: i64,
    pub practitioner_id: i64,
    pub service_id: Option<i64>,
    pub start_ns: i64,
    /// The appointment's `sequence` (its count of moves) it is for.
    pub sequence: i64,
    /// The offset sent, minutes.
    pub offset_minutes: i64,
    /// Earlier offsets that came due with it and are skipped.
    pub skipped: Vec<i64>,
}

#[derive(sqlx::FromRow)]
struct Candidate {
    id: i64,
    org_id: i64,
    patient_id: i64,
    practitioner_id: i64,
    service_id: Option<i64>,
    start_ns: i64,
    sequence: i64,
    org_offsets: String,
    service_offsets: Option<String>,
}

/// The reminders due at `now_ns`, across every organisation: booked appointments with
/// a patient, starting after `now_ns` and at most [`MAX_OFFSET_MINUTES`] later, whose
/// offsets (the service's, else the organisation's) have come due and are not yet
/// recorded for their current start. Two range scans (appointments and reminders by
/// start, migration 0027's indices), whatever the number of organisations.
pub async fn due(db: &Db, now_ns: i64) -> Result<Vec<Due>> {
    let mut conn = db.conn().await?;
    let until = now_ns + MAX_OFFSET_MINUTES * MINUTE_NS;
    let candidates = rows!(
        conn.exec(),
        fetch_all,
        Candidate,
        "/* fleet: the reminder scheduler scans every organisation's coming appointments by start */ \
         SELECT a.id, a.org_id, a.patient_id, a.practitioner_id, a.service_id, a.start_ns, a.sequence, \
         r.offsets_minutes AS org_offsets, so.offsets_minutes AS service_offsets \
         FROM appointments a \
         JOIN reminder_settings r ON r.org_id = a.org_id \
         LEFT JOIN service_reminder_offsets so ON so.service_id = a.service_id AND so.org_id = a.org_id \
         WHERE a.start_ns > $1 AND a.start_ns <= $2 AND a.status = 'booked' AND a.patient_id IS NOT NULL \
         AND (r.offsets_minutes <> '' OR so.offsets_minutes IS NOT NULL) \
         ORDER BY a.start_ns, a.id",
        now_ns,
        until
    )?;
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let recorded = rows!(
        conn.exec(),
        fetch_all,
        (i64, i64, i64, i64),
        "/* fleet: the reminder scheduler scans every organisation's recorded reminders by start */ \
         SELECT appointment_id, offset_minutes, start_ns, sequence FROM appointment_reminders \
         WHERE start_ns > $1 AND start_ns <= $2",
        now_ns,
        until
    )?;
    let mut done: HashMap<(i64, i64, i64), Vec<i64>> = HashMap::new();
    for (id, offset, start, sequence) in recorded {
        done.entry((id, start, sequence)).or_default().push(offset);
    }
    let mut due = Vec::new();
    for c in candidates {
        let offsets = match &c.service_offsets {
            Some(s) => Offsets::from_stored(s),
            None => Offsets::from_stored(&c.org_offsets),
        };
        let recorded = done.get(&(c.id, c.start_ns, c.sequence));
        let is_done = |m: &i64| recorded.is_some_and(|r| r.contains(m));
        // Due offsets, largest first: the last is the nearest to the start.
        let mut came: Vec<i64> = offsets
            .minutes()
            .iter()
            .copied()
            .filter(|m| c.start_ns - m * MINUTE_NS <= now_ns)
            .collect();
        let Some(nearest) = came.pop() else {
            continue;
        };
        if is_done(&nearest) {
            continue;
        }
        due.push(Due {
            org_id: c.org_id,
            appointment_id: c.id,
            patient_id: c.patient_id,
            practitioner_id: c.practitioner_id,
            service_id: c.service_id,
            start_ns: c.start_ns,
            sequence: c.sequence,
            offset_minutes: nearest,
            skipped: came.into_iter().filter(|m| !is_done(m)).collect(),
        });
    }
    Ok(due)
}

/// What a link does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkAction {
    /// The patient confirms they will come.
    Confirm,
    /// The patient cancels (within the organisation's notice rules).
    Cancel,
}

impl LinkAction {
    /// The stored and JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkAction::Confirm => "confirm",
            LinkAction::Cancel => "cancel",
        }
    }

    fn from_stored(s: &str) -> Option<LinkAction> {
        match s {
            "confirm" => Some(LinkAction::Confirm),
            "cancel" => Some(LinkAction::Cancel),
            _ => None,
        }
    }
}

/// The plain tokens of a reminder's links, to put in its email.
#[derive(Clone, Debug)]
pub struct Links {
    pub confirm: String,
    pub cancel: String,
}

/// 32 random bytes from the operating system, in hex.
fn new_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::invalid("token", format!("no random source: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// What [`send`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sent {
    /// The reminder was queued (its row and links written with it).
    Queued,
    /// The patient has no email address: recorded, nothing queued.
    NoAddress,
    /// Another scheduler (or an earlier run) recorded it first: nothing done.
    AlreadyDone,
    /// The appointment is no longer booked at that start (cancelled, moved, started):
    /// nothing done.
    NotDue,
}

/// Sends one due reminder: in one transaction, re-reads the appointment (locking its
/// row on PostgreSQL, so a concurrent move or cancel either comes first and is seen,
/// or waits for this), records the reminder and the skipped offsets (`ON CONFLICT DO
/// NOTHING`: whoever records it first sends it), writes its two links and queues the
/// email `compose` writes with them (`None`: the patient has no address).
pub async fn send(
    db: &Db,
    due: &Due,
    now_ns: i64,
    compose: &(dyn Fn(&Appointment, &Links) -> Option<NewMessage> + Send + Sync),
) -> Result<Sent> {
    let mut tx = db.begin().await?;
    if tx.backend() == Backend::Postgres {
        execute!(
            tx.exec(),
            "SELECT id FROM appointments WHERE org_id = $1 AND id = $2 FOR UPDATE",
            due.org_id,
            due.appointment_id
        )?;
    }
    let a = crate::appointment::get(tx.exec(), due.org_id, due.appointment_id).await?;
    if a.status != AppointmentStatus::Booked
        || a.start_ns != due.start_ns
        || a.sequence != due.sequence
        || a.start_ns <= now_ns
        || a.patient_id != Some(due.patient_id)
    {
        return Ok(Sent::NotDue);
    }
    let claimed = scalar_optional!(
        tx.exec(),
        i64,
        "INSERT INTO appointment_reminders (org_id, appointment_id, offset_minutes, start_ns, sequence, outcome, created_at_ns) \
         VALUES ($1, $2, $3, $4, $5, 'sent', $6) ON CONFLICT (org_id, appointment_id, offset_minutes, start_ns, sequence) DO NOTHING RETURNING id",
        due.org_id,
        due.appointment_id,
        due.offset_minutes,
        due.start_ns,
        due.sequence,
        now_ns
    )?;
    let Some(claimed) = claimed else {
        return Ok(Sent::AlreadyDone);
    };
    for &skipped in &due.skipped {
        execute!(
            tx.exec(),
            "INSERT INTO appointment_reminders (org_id, appointment_id, offset_minutes, start_ns, sequence, outcome, created_at_ns) \
             VALUES ($1, $2, $3, $4, $5, 'skipped', $6) ON CONFLICT (org_id, appointment_id, offset_minutes, start_ns, sequence) DO NOTHING",
            due.org_id,
            due.appointment_id,
            skipped,
            due.start_ns,
            due.sequence,
            now_ns
        )?;
    }
    let links = Links {
        confirm: new_token()?,
        cancel: new_token()?,
    };
    let outcome = match compose(&a, &links) {
        Some(message) => {
            for (action, token) in [
                (LinkAction::Confirm, &links.confirm),
                (LinkAction::Cancel, &links.cancel),
            ] {
                execute!(
                    tx.exec(),
                    "INSERT INTO reminder_links (org_id, appointment_id, action, start_ns, token_hash, created_at_ns, expires_at_ns, sequence) \
                     VALUES ($1, $2, $3, $4, $5, $6, $4, $7)",
                    due.org_id,
                    due.appointment_id,
                    action.as_str(),
                    due.start_ns,
                    token_hash(token),
                    now_ns,
                    due.sequence
                )?;
            }
            crate::outbox::enqueue(&mut tx, due.org_id, &message, now_ns).await?;
            Sent::Queued
        }
        None => {
            execute!(
                tx.exec(),
                "UPDATE appointment_reminders SET outcome = 'no_email' WHERE org_id = $1 AND id = $2",
                due.org_id,
                claimed
            )?;
            Sent::NoAddress
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

/// What one pass of the scheduler did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pass {
    /// Reminders queued.
    pub queued: usize,
    /// Reminders found due but recorded elsewhere first, or no longer due.
    pub passed: usize,
}

/// One pass of the scheduler with a composer that needs nothing but the appointment
/// and its links: [`due`], then [`send`] for each. (The server loads each
/// appointment's email context between the two.)
pub async fn run_due(
    db: &Db,
    now_ns: i64,
    compose: &(dyn Fn(&Appointment, &Links) -> Option<NewMessage> + Send + Sync),
) -> Result<Pass> {
    let mut pass = Pass::default();
    for d in due(db, now_ns).await? {
        match send(db, &d, now_ns, compose).await? {
            Sent::Queued => pass.queued += 1,
            _ => pass.passed += 1,
        }
    }
    Ok(pass)
}

/// A recorded reminder (what the tests and the appointment's history read).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Reminder {
    pub appointment_id: i64,
    pub offset_minutes: i64,
    pub start_ns: i64,
    /// `sent`, `skipped` or `no_email`.
    pub outcome: String,
    pub created_at_ns: i64,
}

/// Every reminder recorded for an appointment, oldest first.
pub async fn of_appointment(exec: Exec<'_>, org: i64, appointment: i64) -> Result<Vec<Reminder>> {
    Ok(rows!(
        exec,
        fetch_all,
        Reminder,
        "SELECT appointment_id, offset_minutes, start_ns, outcome, created_at_ns FROM appointment_reminders \
         WHERE org_id = $1 AND appointment_id = $2 ORDER BY created_at_ns, id",
        org,
        appointment
    )?)
}

/// Every reminder recorded in the organisation, oldest first (tests and export).
pub async fn all(exec: Exec<'_>, org: i64) -> Result<Vec<Reminder>> {
    Ok(rows!(
        exec,
        fetch_all,
        Reminder,
        "SELECT appointment_id, offset_minutes, start_ns, outcome, created_at_ns FROM appointment_reminders \
         WHERE org_id = $1 ORDER BY created_at_ns, id",
        org
    )?)
}

/// A reminder's link as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub id: i64,
    pub appointment_id: i64,
    pub action: LinkAction,
    /// The start it was sent for.
    pub start_ns: i64,
    /// The appointment's `sequence` it was sent for: every move bumps it, so a move
    /// since the reminder (even back to this start, or to another practitioner or
    /// clinic at the same time) shows.
    pub sequence: i64,
    pub expires_at_ns: i64,
    pub used_at_ns: Option<i64>,
}

/// Where a link stands, seen with its appointment at `now_ns`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    /// It works.
    Valid,
    /// It was used already.
    Used,
    /// The appointment has started (or the link's time is otherwise up).
    Expired,
    /// The appointment has moved since the reminder (its time, practitioner or clinic
    /// changed, even if changed back): its links speak of what the patient was told.
    Moved,
    /// The appointment is cancelled.
    Cancelled,
    /// The patient has arrived: the front desk checked them in.
    Arrived,
    /// The appointment is settled otherwise: it took place (completed), the patient
    /// did not come (no-show), or it waits for the clinic (pending). Never said to be
    /// cancelled.
    Settled,
}

/// The link a token opens in the organisation, if any (a token of another
/// organisation is not found).
pub async fn link(exec: Exec<'_>, org: i64, token: &str) -> Result<Option<Link>> {
    let row = rows!(
        exec,
        fetch_optional,
        (i64, i64, String, i64, i64, i64, Option<i64>),
        "SELECT id, appointment_id, action, start_ns, sequence, expires_at_ns, used_at_ns FROM reminder_links \
         WHERE org_id = $1 AND token_hash = $2",
        org,
        token_hash(token)
    )?;
    Ok(row.and_then(
        |(id, appointment_id, action, start_ns, sequence, expires_at_ns, used_at_ns)| {
            Some(Link {
                id,
                appointment_id,
                action: LinkAction::from_stored(&action)?,
                start_ns,
                sequence,
                expires_at_ns,
                used_at_ns,
            })
        },
    ))
}

/// Where `link` stands with its appointment `a` at `now_ns`: the appointment's status
/// (cancelled, arrived, settled) and a move say more than used or expired, so they
/// come first.
pub fn state(link: &Link, a: &Appointment, now_ns: i64) -> LinkState {
    if a.status == AppointmentStatus::Cancelled {
        LinkState::Cancelled
    } else if a.status == AppointmentStatus::Arrived {
        LinkState::Arrived
    } else if a.status != AppointmentStatus::Booked {
        LinkState::Settled
    } else if a.start_ns != link.start_ns || a.sequence != link.sequence {
        LinkState::Moved
    } else if link.used_at_ns.is_some() {
        LinkState::Used
    } else if now_ns >= link.expires_at_ns || now_ns >= a.start_ns {
        LinkState::Expired
    } else {
        LinkState::Valid
    }
}

/// Opens a link: the link and its appointment, or `None` for a token the
/// organisation does not know.
pub async fn open(exec: Exec<'_>, org: i64, token: &str) -> Result<Option<(Link, Appointment)>> {
    let mut exec = exec;
    let Some(l) = link(exec.reborrow(), org, token).await? else {
        return Ok(None);
    };
    let a = crate::appointment::get(exec, org, l.appointment_id).await?;
    Ok(Some((l, a)))
}

/// Marks a link used, if nobody has: whether this call did.
pub async fn mark_used(tx: &mut Tx, org: i64, link: i64, now_ns: i64) -> Result<bool> {
    let n = execute!(
        tx.exec(),
        "UPDATE reminder_links SET used_at_ns = $3 WHERE org_id = $1 AND id = $2 AND used_at_ns IS NULL",
        org,
        link,
        now_ns
    )?;
    Ok(n == 1)
}

/// Confirms the appointment a confirm link names, in one transaction: the link must
/// be [`LinkState::Valid`] (else that state is the answer and nothing changes), is
/// used up, and the appointment's `confirmed_at_ns` is set, audited as
/// `appointment.confirm` by its patient.
pub async fn confirm(
    db: &Db,
    org: i64,
    token: &str,
    now_ns: i64,
) -> Result<std::result::Result<Appointment, LinkState>> {
    let mut tx = db.begin().await?;
    let Some(l) = link(tx.exec(), org, token).await? else {
        return Err(Error::NotFound("link"));
    };
    if l.action != LinkAction::Confirm {
        return Err(Error::NotFound("link"));
    }
    if tx.backend() == Backend::Postgres {
        execute!(
            tx.exec(),
            "SELECT id FROM appointments WHERE org_id = $1 AND id = $2 FOR UPDATE",
            org,
            l.appointment_id
        )?;
    }
    let a = crate::appointment::get(tx.exec(), org, l.appointment_id).await?;
    let st = state(&l, &a, now_ns);
    if st != LinkState::Valid {
        return Ok(Err(st));
    }
    if !mark_used(&mut tx, org, l.id, now_ns).await? {
        return Ok(Err(LinkState::Used));
    }
    execute!(
        tx.exec(),
        "UPDATE appointments SET confirmed_at_ns = $3 WHERE org_id = $1 AND id = $2",
        org,
        a.id,
        now_ns
    )?;
    let actor = a
        .patient_id
        .map_or_else(|| "system".to_owned(), |p| Actor::Patient(p).label());
    crate::audit::record(
        &mut tx,
        org,
        &actor,
        "appointment.confirm",
        "appointment",
        Some(a.id),
        serde_json::json!({ "start_ns": a.start_ns, "by": "reminder link" }),
        now_ns,
    )
    .await?;
    let a = crate::appointment::get(tx.exec(), org, a.id).await?;
    tx.commit().await?;
    Ok(Ok(a))
}

/// Marks a booked appointment confirmed by the front desk (the patient said so on the
/// phone): audited as `appointment.confirm` by `staff`. Confirming a confirmed one
/// keeps its first confirmation; any other status is refused naming `status`.
pub async fn confirm_by_staff(
    db: &Db,
    org: i64,
    id: i64,
    staff: Actor,
    now_ns: i64,
) -> Result<Appointment> {
    let mut tx = db.begin().await?;
    if tx.backend() == Backend::Postgres {
        execute!(
            tx.exec(),
            "SELECT id FROM appointments WHERE org_id = $1 AND id = $2 FOR UPDATE",
            org,
            id
        )?;
    }
    let a = crate::appointment::get(tx.exec(), org, id).await?;
    if a.status != AppointmentStatus::Booked {
        return Err(Error::invalid(
            "status",
            format!(
                "only a booked appointment can be confirmed, not a {} one",
                a.status
            ),
        ));
    }
    if a.confirmed_at_ns.is_some() {
        return Ok(a);
    }
    execute!(
        tx.exec(),
        "UPDATE appointments SET confirmed_at_ns = $3 WHERE org_id = $1 AND id = $2",
        org,
        id,
        now_ns
    )?;
    crate::audit::record(
        &mut tx,
        org,
        &staff.label(),
        "appointment.confirm",
        "appointment",
        Some(id),
        serde_json::json!({ "start_ns": a.start_ns, "by": "staff" }),
        now_ns,
    )
    .await?;
    let a = crate::appointment::get(tx.exec(), org, id).await?;
    tx.commit().await?;
    Ok(a)
}

/// Counts the reminder rows of an appointment (tests).
pub async fn count(exec: Exec<'_>, org: i64, appointment: i64) -> Result<i64> {
    Ok(scalar!(
        exec,
        i64,
        "SELECT COUNT(*) FROM appointment_reminders WHERE org_id = $1 AND appointment_id = $2",
        org,
        appointment
    )?)
}
