//! Calendar feeds (issue 18, migration 0032): a private, revocable ICS address per
//! practitioner or clinic, which a person subscribes to in their own calendar.
//!
//! The web crate makes the address's token (32 random bytes) and shows it when the
//! feed is turned on or given a new address; the store keeps only its SHA-256
//! ([`crate::portal_access::token_hash`]). A new address replaces the hash, so the old
//! one stops at once; turning the feed off deletes the row. Each change is audited in
//! its transaction (`calendar_feed.create`, `.rotate`, `.revoke`, and
//! `calendar_feed.settings` for what the organisation's feeds may say).
//!
//! What a feed shows is read by [`events`], one query bounded by the owner and a window
//! of start times, through the indexes the book already uses
//! (`appointments_practitioner_start`, `appointments_start`, `time_off_practitioner`).

use serde::Serialize;

use crate::appointment::AppointmentStatus;
use crate::db::{Exec, Tx, execute, rows, scalar_optional};
use crate::error::{Error, Result};

/// Whose appointments a feed shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Owner {
    /// One practitioner's appointments, blocked time and time off.
    Practitioner(i64),
    /// One clinic's appointments and blocked time, whoever's.
    Clinic(i64),
}

impl Owner {
    /// What the owner is (`practitioner`, `clinic`: the key of the audit entry's
    /// details) and its id.
    pub fn entity(self) -> (&'static str, i64) {
        match self {
            Owner::Practitioner(id) => ("practitioner", id),
            Owner::Clinic(id) => ("clinic", id),
        }
    }

    fn columns(self) -> (Option<i64>, Option<i64>) {
        match self {
            Owner::Practitioner(id) => (Some(id), None),
            Owner::Clinic(id) => (None, Some(id)),
        }
    }
}

/// A feed that is on (never its token).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Feed {
    pub id: i64,
    pub org_id: i64,
    pub owner: Owner,
    /// Who turned it on (`staff:3`).
    pub created_by: String,
    pub created_at_ns: i64,
    /// When its address was last replaced; `None` if never.
    pub rotated_at_ns: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct FeedRow {
    id: i64,
    org_id: i64,
    practitioner_id: Option<i64>,
    clinic_id: Option<i64>,
    created_by: String,
    created_at_ns: i64,
    rotated_at_ns: Option<i64>,
}

impl From<FeedRow> for Feed {
    fn from(r: FeedRow) -> Self {
        let owner = match (r.practitioner_id, r.clinic_id) {
            (Some(p), _) => Owner::Practitioner(p),
            (None, Some(c)) => Owner::Clinic(c),
            // The table's CHECK allows no other row.
            (None, None) => Owner::Clinic(0),
        };
        Feed {
            id: r.id,
            org_id: r.org_id,
            owner,
            created_by: r.created_by,
            created_at_ns: r.created_at_ns,
            rotated_at_ns: r.rotated_at_ns,
        }
    }
}

const COLUMNS: &str =
    "id, org_id, practitioner_id, clinic_id, created_by, created_at_ns, rotated_at_ns";

/// The owner's feed, if it is on. The owner must be the organisation's (the caller
/// resolved it there).
pub async fn get(exec: Exec<'_>, org: i64, owner: Owner) -> Result<Option<Feed>> {
    let (p, c) = owner.columns();
    let sql = format!(
        "SELECT {COLUMNS} FROM calendar_feeds WHERE org_id = $1 \
         AND (practitioner_id = $2 OR clinic_id = $3)"
    );
    Ok(rows!(
        exec,
        fetch_optional,
        FeedRow,
        &sql,
        org,
        p.unwrap_or(-1),
        c.unwrap_or(-1)
    )?
    .map(Feed::from))
}

/// The organisation's feed whose token this is: the organisation is the one the
/// feed's address names, so a feed of another never matches.
pub async fn by_token(exec: Exec<'_>, org: i64, token: &str) -> Result<Option<Feed>> {
    let sql = format!("SELECT {COLUMNS} FROM calendar_feeds WHERE org_id = $1 AND token_hash = $2");
    Ok(rows!(
        exec,
        fetch_optional,
        FeedRow,
        &sql,
        org,
        crate::portal_access::token_hash(token)
    )?
    .map(Feed::from))
}

/// What [`give_address`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Given {
    /// The feed was off and is now on.
    Created,
    /// The feed was on; its old address stopped.
    Rotated,
}

/// Turns the owner's feed on with `token`, or, when it is on, replaces its address
/// with `token` (the old one stops at once); audited as `calendar_feed.create` or
/// `calendar_feed.rotate`.
pub async fn give_address(
    tx: &mut Tx,
    org: i64,
    owner: Owner,
    token: &str,
    actor: &str,
    now_ns: i64,
) -> Result<(Feed, Given)> {
    let (p, c) = owner.columns();
    let hash = crate::portal_access::token_hash(token);
    let (given, id) = match get(tx.exec(), org, owner).await? {
        Some(feed) => {
            execute!(
                tx.exec(),
                "UPDATE calendar_feeds SET token_hash = $3, rotated_at_ns = $4 \
                 WHERE org_id = $1 AND id = $2",
                org,
                feed.id,
                &hash,
                now_ns
            )?;
            (Given::Rotated, feed.id)
        }
        None => {
            let id = scalar_optional!(
                tx.exec(),
                i64,
                "INSERT INTO calendar_feeds (org_id, practitioner_id, clinic_id, token_hash, created_by, created_at_ns) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                org,
                p,
                c,
                &hash,
                actor,
                now_ns
            )?
            .ok_or(Error::NotFound("calendar feed"))?;
            (Given::Created, id)
        }
    };
    let (kind, owner_id) = owner.entity();
    let action = match given {
        Given::Created => "calendar_feed.create",
        Given::Rotated => "calendar_feed.rotate",
    };
    crate::audit::record(
        tx,
        org,
        actor,
        action,
        "calendar_feed",
        Some(id),
        serde_json::json!({ kind: owner_id }),
        now_ns,
    )
    .await?;
    let feed = get(tx.exec(), org, owner)
        .await?
        .ok_or(Error::NotFound("calendar feed"))?;
    Ok((feed, given))
}

/// Turns the owner's feed off: its address answers 404 from now on. A feed that is
/// off is refused as not found. Audited as `calendar_feed.revoke`.
pub async fn revoke(tx: &mut Tx, org: i64, owner: Owner, actor: &str, now_ns: i64) -> Result<()> {
    let feed = get(tx.exec(), org, owner)
        .await?
        .ok_or(Error::NotFound("calendar feed"))?;
    execute!(
        tx.exec(),
        "DELETE FROM calendar_feeds WHERE org_id = $1 AND id = $2",
        org,
        feed.id
    )?;
    let (kind, owner_id) = owner.entity();
    crate::audit::record(
        tx,
        org,
        actor,
        "calendar_feed.revoke",
        "calendar_feed",
        Some(feed.id),
        serde_json::json!({ kind: owner_id }),
        now_ns,
    )
    .await
}

/// What the organisation's feeds may say about an appointment. Both off by default:
/// a feed then says "Booked appointment" and nothing about who or what for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Settings {
    /// Whether events name the patient.
    pub patient_names: bool,
    /// Whether events name the service booked (which can say what the visit is for).
    pub service_names: bool,
}

/// The organisation's feed settings.
pub async fn settings(exec: Exec<'_>, org: i64) -> Result<Settings> {
    Ok(rows!(
        exec,
        fetch_optional,
        Settings,
        "SELECT patient_names, service_names FROM calendar_feed_settings WHERE org_id = $1",
        org
    )?
    .unwrap_or_default())
}

/// Saves the organisation's feed settings, audited as `calendar_feed.settings`.
pub async fn set_settings(
    tx: &mut Tx,
    org: i64,
    settings: Settings,
    actor: &str,
    now_ns: i64,
) -> Result<()> {
    execute!(
        tx.exec(),
        "INSERT INTO calendar_feed_settings (org_id, patient_names, service_names) VALUES ($1, $2, $3) \
         ON CONFLICT (org_id) DO UPDATE SET patient_names = excluded.patient_names, \
         service_names = excluded.service_names",
        org,
        settings.patient_names,
        settings.service_names
    )?;
    crate::audit::record(
        tx,
        org,
        actor,
        "calendar_feed.settings",
        "organisation",
        Some(org),
        serde_json::json!({
            "patient_names": settings.patient_names,
            "service_names": settings.service_names,
        }),
        now_ns,
    )
    .await
}

/// What kind of time an [`Event`] is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// An appointment with a patient.
    #[default]
    Appointment,
    /// Time blocked in the book (a staff booking without a patient, with its label).
    Blocked,
    /// The practitioner's time off.
    TimeOff,
}

/// One entry of a feed: an appointment, blocked time or time off, with what the feed
/// may need to write about it. Names are filled whatever the settings say; the web
/// crate leaves out what they do not allow.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Event {
    /// The appointment's id, or the time off's.
    pub id: i64,
    #[sqlx(skip)]
    pub kind: EventKind,
    /// `a` (appointment or blocked time) or `t` (time off), as the query says.
    kind_code: String,
    pub start_ns: i64,
    pub end_ns: i64,
    /// Whether the appointment was cancelled (never for time off).
    pub status: Option<AppointmentStatus>,
    /// How many times it moved (the event's `SEQUENCE`).
    pub sequence: i64,
    /// When it last changed (`LAST-MODIFIED`); time off keeps no such time and gives 0.
    pub updated_at_ns: i64,
    pub telehealth: bool,
    /// The practitioner's name.
    pub practitioner_name: String,
    /// The clinic's name, if known (time off: the practitioner's home clinic).
    pub clinic_name: Option<String>,
    /// The clinic's zone (IANA name); time off: the home clinic's, if any.
    pub timezone: Option<String>,
    /// The service's name, if any.
    pub service_name: Option<String>,
    /// The patient's name, for an appointment with a patient.
    pub patient_name: Option<String>,
    /// Blocked time's label (the appointment's note).
    pub note: String,
}

impl Event {
    /// Whether a subscribed calendar should drop it.
    pub fn cancelled(&self) -> bool {
        self.status == Some(AppointmentStatus::Cancelled)
    }
}

/// The owner's appointments, blocked time and (for a practitioner) time off that
/// start in `[from_ns, to_ns)`, by start: one query, bounded by the window, through
/// `appointments_practitioner_start` (a practitioner), `appointments_start` (a clinic)
/// and `time_off_practitioner`. Cancelled appointments are included, so that the feed
/// can tell calendars to remove them.
pub async fn events(
    exec: Exec<'_>,
    org: i64,
    owner: Owner,
    from_ns: i64,
    to_ns: i64,
) -> Result<Vec<Event>> {
    // The owner's condition is chosen here rather than with an OR in SQL, so that each
    // backend's planner sees one index's range.
    let (owner_id, whose, time_off) = match owner {
        Owner::Practitioner(id) => (id, "a.practitioner_id = $2", "t.practitioner_id = $2"),
        Owner::Clinic(id) => (id, "a.clinic_id = $2", "FALSE"),
    };
    let sql = format!(
        "SELECT a.id AS id, 'a' AS kind_code, a.start_ns AS start_ns, a.end_ns AS end_ns, \
            a.status AS status, a.sequence AS sequence, a.updated_at_ns AS updated_at_ns, \
            a.telehealth AS telehealth, p.name AS practitioner_name, c.name AS clinic_name, \
            c.timezone AS timezone, s.name AS service_name, \
            CASE WHEN pt.id IS NULL THEN NULL ELSE pt.first_name || ' ' || pt.last_name END AS patient_name, \
            a.status_note AS note \
        FROM appointments a \
        JOIN practitioners p ON p.org_id = a.org_id AND p.id = a.practitioner_id \
        LEFT JOIN clinics c ON c.org_id = a.org_id AND c.id = a.clinic_id \
        LEFT JOIN services s ON s.org_id = a.org_id AND s.id = a.service_id \
        LEFT JOIN patients pt ON pt.org_id = a.org_id AND pt.id = a.patient_id \
        WHERE a.org_id = $1 AND a.start_ns >= $3 AND a.start_ns < $4 \
          AND {whose} \
        UNION ALL \
        SELECT t.id, 't', t.start_ns, t.end_ns, NULL, 0, 0, FALSE, p.name, c.name, c.timezone, \
            NULL, NULL, '' \
        FROM time_off t \
        JOIN practitioners p ON p.org_id = t.org_id AND p.id = t.practitioner_id \
        LEFT JOIN clinics c ON c.org_id = p.org_id AND c.id = p.home_clinic_id \
        WHERE t.org_id = $1 AND {time_off} AND t.start_ns >= $3 AND t.start_ns < $4 \
        ORDER BY start_ns, id"
    );
    let mut found = rows!(exec, fetch_all, Event, &sql, org, owner_id, from_ns, to_ns)?;
    for e in &mut found {
        e.kind = if e.kind_code == "t" {
            EventKind::TimeOff
        } else if e.patient_name.is_none() {
            EventKind::Blocked
        } else {
            EventKind::Appointment
        };
    }
    Ok(found)
}
