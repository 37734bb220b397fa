//! The waitlist (issue 17): patients waiting for a time of a portal-bookable service,
//! and the organisation's settings for offering them freed times.
//!
//! An [`Entry`] says what would suit a patient (a service; optionally practitioners,
//! a clinic, dates, a time of day and weekdays) until it expires. The matcher
//! ([`next_offer`]) finds the earliest open portal slot that suits active entries and
//! proposes it to the first [`Settings::offer_count`] of them in the order they joined;
//! holding the time and sending the offers is `appointment::waitlist`'s job, under the
//! practitioner's lock ([`crate::appointment::hold_for_offers`]).
//!
//! The rules, in one place:
//!
//! - At most [`Settings::max_entries_per_patient`] active entries per patient (5 by
//!   default); an entry expires at
//!   most [`MAX_EXPIRY_DAYS`] days ahead ([`DEFAULT_EXPIRY_DAYS`] when not given).
//! - A patient's entry names only practitioners the patient may book, and only a
//!   service the portal offers; every id is resolved in the organisation.
//! - An entry has at most one open offer (a partial unique index says so too), and is
//!   never offered the same time (practitioner and start) twice; a patient is offered
//!   one time once, whatever number of their entries it suits.
//! - At most [`Settings::max_holds_per_service`] open holds per service, so the waitlist
//!   never holds the whole calendar.

use chrono::{Datelike, NaiveDate, Timelike};
use serde::Serialize;

use crate::audit::Actor;
use crate::db::{Db, Exec, Tx, execute, rows, scalar, scalar_optional, text_enum};
use crate::error::{Error, Result};
use crate::organisation::Organisation;
use crate::time::Clock;
use crate::window::{self, SlotRequest};

/// An entry's expiry when none is given, in days from today.
pub const DEFAULT_EXPIRY_DAYS: i64 = 30;
/// The furthest an entry may expire, in days from today.
pub const MAX_EXPIRY_DAYS: i64 = 183;
/// The longest note, in characters.
pub const NOTE_MAX_CHARS: usize = 500;
/// How far ahead the matcher looks for freed times, in days.
pub const SEARCH_DAYS: i64 = 60;
/// What a hold's blocked time says in the book.
pub const HOLD_LABEL: &str = "Held for a waitlist offer";

text_enum! {
    /// Where an entry stands.
    pub enum EntryStatus for "status" {
        /// Waiting for an offer (until it expires).
        Active = "active",
        /// An offer was accepted: the entry's appointment is booked.
        Booked = "booked",
        /// The patient left the waitlist.
        Left = "left",
        /// Staff removed it.
        Removed = "removed",
    }
}

/// The organisation's waitlist settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Settings {
    /// How many entries one freed time is offered to at once (1–20).
    pub offer_count: i64,
    /// How long a freed time is held for its offers, minutes (5–1440).
    pub hold_minutes: i64,
    /// At most this many open holds per service at once (1–50).
    pub max_holds_per_service: i64,
    /// At most this many active entries per patient (1–50).
    pub max_entries_per_patient: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            offer_count: 3,
            hold_minutes: 15,
            max_holds_per_service: 3,
            max_entries_per_patient: 5,
        }
    }
}

/// The organisation's settings (the defaults until an admin saves them).
pub async fn settings(exec: Exec<'_>, org: i64) -> Result<Settings> {
    Ok(rows!(
        exec,
        fetch_optional,
        Settings,
        "SELECT offer_count, hold_minutes, max_holds_per_service, max_entries_per_patient FROM waitlist_settings WHERE org_id = $1",
        org
    )?
    .unwrap_or_default())
}

/// Saves the settings, refused naming the field out of range, and audits it.
pub async fn set_settings(
    tx: &mut Tx,
    org: i64,
    s: &Settings,
    actor: Actor,
    now_ns: i64,
) -> Result<()> {
    for (field, value, low, high) in [
        ("offer_count", s.offer_count, 1, 20),
        ("hold_minutes", s.hold_minutes, 5, 1440),
        ("max_holds_per_service", s.max_holds_per_service, 1, 50),
        ("max_entries_per_patient", s.max_entries_per_patient, 1, 50),
    ] {
        if !(low..=high).contains(&value) {
            return Err(Error::invalid(
                field,
                format!("must be from {low} to {high}"),
            ));
        }
    }
    execute!(
        tx.exec(),
        "DELETE FROM waitlist_settings WHERE org_id = $1",
        org
    )?;
    execute!(
        tx.exec(),
        "INSERT INTO waitlist_settings (org_id, offer_count, hold_minutes, max_holds_per_service, \
         max_entries_per_patient) VALUES ($1, $2, $3, $4, $5)",
        org,
        s.offer_count,
        s.hold_minutes,
        s.max_holds_per_service,
        s.max_entries_per_patient
    )?;
    crate::audit::record(
        tx,
        org,
        &actor.label(),
        "waitlist.settings_changed",
        "organisation",
        Some(org),
        serde_json::to_value(s).unwrap_or_default(),
        now_ns,
    )
    .await
}

/// An entry of the waitlist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Entry {
    /// Row id.
    pub id: i64,
    /// The patient waiting.
    pub patient_id: i64,
    /// The service they wait for.
    pub service_id: i64,
    /// Only at this clinic, if set.
    pub clinic_id: Option<i64>,
    /// Not before this date (clinic-local), `YYYY-MM-DD`.
    pub from_date: Option<String>,
    /// Not after this date, `YYYY-MM-DD`.
    pub to_date: Option<String>,
    /// The start not before this time of day, minutes after midnight (clinic-local).
    pub from_minute: Option<i64>,
    /// The start before this time of day, minutes after midnight.
    pub to_minute: Option<i64>,
    /// The weekdays that suit: Monday = 1, Tuesday = 2, … Sunday = 64.
    pub weekdays: i64,
    /// The last date it is offered times, `YYYY-MM-DD`.
    pub expires_on: String,
    /// What the patient or staff added.
    pub note: String,
    /// Where it stands.
    pub status: EntryStatus,
    /// The appointment an accepted offer booked.
    pub appointment_id: Option<i64>,
    /// Who added it (`patient:12`, `staff:3`).
    pub created_by: String,
    /// When, ns since the Unix epoch.
    pub created_at_ns: i64,
    /// Only these practitioners, if any (row ids).
    #[sqlx(skip)]
    pub practitioners: Vec<i64>,
}

const ENTRY_COLUMNS: &str = "id, patient_id, service_id, clinic_id, from_date, to_date, from_minute, \
    to_minute, weekdays, expires_on, note, status, appointment_id, created_by, created_at_ns";

impl Entry {
    /// Whether a slot of the entry's service suits it: its practitioner (`allowed`: the
    /// ones the patient may book, `None` for all), its clinic, and its clinic-local
    /// start. Expiry and status are the query's business.
    pub fn suits(
        &self,
        practitioner: i64,
        clinic: i64,
        local_start: chrono::NaiveDateTime,
        allowed: Option<&[i64]>,
    ) -> bool {
        if !self.practitioners.is_empty() && !self.practitioners.contains(&practitioner) {
            return false;
        }
        if allowed.is_some_and(|list| !list.contains(&practitioner)) {
            return false;
        }
        if self.clinic_id.is_some_and(|c| c != clinic) {
            return false;
        }
        let date = local_start.date().format("%Y-%m-%d").to_string();
        if self.from_date.as_ref().is_some_and(|d| &date < d)
            || self.to_date.as_ref().is_some_and(|d| &date > d)
            || date > self.expires_on
        {
            return false;
        }
        let minute = i64::from(local_start.hour() * 60 + local_start.minute());
        if self.from_minute.is_some_and(|m| minute < m)
            || self.to_minute.is_some_and(|m| minute >= m)
        {
            return false;
        }
        let bit = 1_i64 << local_start.weekday().num_days_from_monday();
        self.weekdays & bit != 0
    }
}

/// A request to join the waitlist, as typed: every id still to be resolved.
#[derive(Clone, Debug, Default)]
pub struct NewEntry {
    /// The patient.
    pub patient: i64,
    /// A service the portal offers.
    pub service: i64,
    /// Only these practitioners (empty: any the patient may book).
    pub practitioners: Vec<i64>,
    /// Only this clinic.
    pub clinic: Option<i64>,
    /// Not before this date.
    pub from_date: Option<NaiveDate>,
    /// Not after this date.
    pub to_date: Option<NaiveDate>,
    /// The start from this time of day, minutes.
    pub from_minute: Option<i64>,
    /// The start before this time of day, minutes.
    pub to_minute: Option<i64>,
    /// Weekday bits (0 or absent: every day).
    pub weekdays: Option<i64>,
    /// The last date (default [`DEFAULT_EXPIRY_DAYS`] from today).
    pub expires_on: Option<NaiveDate>,
    /// A note.
    pub note: String,
}

/// Adds an entry, after resolving every id in the organisation (a patient's own entry:
/// only practitioners they may book) and checking each field; refused naming the field,
/// nothing written. `today` is the organisation's date now (the earliest of its
/// clinics'). Audited in the same transaction.
pub async fn join(
    db: &Db,
    org: &Organisation,
    e: &NewEntry,
    actor: Actor,
    today: NaiveDate,
    clock: &dyn Clock,
) -> Result<Entry> {
    let now = clock.now_ns();
    let mut tx = db.begin().await?;
    scalar_optional!(
        tx.exec(),
        i64,
        "SELECT id FROM patients WHERE org_id = $1 AND id = $2",
        org.id,
        e.patient
    )?
    .ok_or_else(|| Error::invalid("patient_id", "unknown patient"))?;
    crate::portal::service(tx.exec(), org.id, e.service)
        .await
        .map_err(|_| Error::invalid("service_id", "not a service patients can book online"))?;
    let allowed = crate::patient::bookable_practitioners(&mut tx.exec(), org.id, e.patient).await?;
    let mut practitioners = e.practitioners.clone();
    practitioners.sort_unstable();
    practitioners.dedup();
    if practitioners.len() > 20 {
        return Err(Error::invalid(
            "practitioner_ids",
            "at most 20 practitioners",
        ));
    }
    for &p in &practitioners {
        let known = scalar_optional!(
            tx.exec(),
            i64,
            "SELECT id FROM practitioners WHERE org_id = $1 AND id = $2",
            org.id,
            p
        )?
        .is_some();
        if !known || allowed.as_ref().is_some_and(|list| !list.contains(&p)) {
            return Err(Error::invalid(
                "practitioner_ids",
                format!("practitioner {p} is not one the patient may book"),
            ));
        }
        // A practitioner who never provides the service (no schedule type in common)
        // would make an entry nothing can ever suit.
        let provides = scalar_optional!(
            tx.exec(),
            i64,
            "SELECT ps.practitioner_id FROM service_schedule_types s JOIN practitioner_schedule_types ps \
             ON ps.org_id = s.org_id AND ps.schedule_type_id = s.schedule_type_id \
             WHERE s.org_id = $1 AND s.service_id = $2 AND ps.practitioner_id = $3 LIMIT 1",
            org.id,
            e.service,
            p
        )?;
        if provides.is_none() {
            return Err(Error::invalid(
                "practitioner_ids",
                format!("practitioner {p} does not provide this service"),
            ));
        }
    }
    if let Some(c) = e.clinic {
        scalar_optional!(
            tx.exec(),
            i64,
            "SELECT id FROM clinics WHERE org_id = $1 AND id = $2",
            org.id,
            c
        )?
        .ok_or_else(|| Error::invalid("clinic_id", "unknown clinic"))?;
        // The service is offered there: one of its schedule types is at that clinic, or
        // has no clinic of its own and a practitioner providing it works there.
        let offered = scalar_optional!(
            tx.exec(),
            i64,
            "SELECT st.id FROM service_schedule_types s \
             JOIN schedule_types st ON st.org_id = s.org_id AND st.id = s.schedule_type_id \
             JOIN practitioner_schedule_types ps ON ps.org_id = s.org_id AND ps.schedule_type_id = s.schedule_type_id \
             JOIN practitioners p ON p.org_id = ps.org_id AND p.id = ps.practitioner_id \
             WHERE s.org_id = $1 AND s.service_id = $2 AND (st.clinic_id = $3 OR (st.clinic_id IS NULL \
             AND (p.home_clinic_id = $3 OR EXISTS (SELECT 1 FROM availability_records r \
             WHERE r.org_id = $1 AND r.practitioner_id = p.id AND r.clinic_id = $3)))) LIMIT 1",
            org.id,
            e.service,
            c
        )?;
        if offered.is_none() {
            return Err(Error::invalid(
                "clinic_id",
                "this service is not offered at that clinic",
            ));
        }
    }
    if let (Some(from), Some(to)) = (e.from_date, e.to_date)
        && to < from
    {
        return Err(Error::invalid("to_date", "must not be before from_date"));
    }
    if e.to_date.is_some_and(|d| d < today) {
        return Err(Error::invalid("to_date", "must not be in the past"));
    }
    // Named for the body's fields (`from_time`, `to_time`): the minutes are their parse.
    for (field, value) in [("from_time", e.from_minute), ("to_time", e.to_minute)] {
        if value.is_some_and(|m| !(0..=1440).contains(&m)) {
            return Err(Error::invalid(field, "must be a time of day"));
        }
    }
    if let (Some(from), Some(to)) = (e.from_minute, e.to_minute)
        && to <= from
    {
        return Err(Error::invalid("to_time", "must be after from_time"));
    }
    let weekdays = match e.weekdays {
        None | Some(0) => 127,
        Some(w) if (1..=127).contains(&w) => w,
        Some(_) => return Err(Error::invalid("weekdays", "must name weekdays")),
    };
    let latest = today + chrono::Days::new(MAX_EXPIRY_DAYS as u64);
    let expires_on = match e.expires_on {
        None => {
            let default = today + chrono::Days::new(DEFAULT_EXPIRY_DAYS as u64);
            // An entry for dates further out lasts until its last date.
            e.to_date.map_or(default, |to| to.max(default).min(latest))
        }
        Some(d) if d < today => {
            return Err(Error::invalid("expires_on", "must not be in the past"));
        }
        Some(d) if d > latest => {
            return Err(Error::invalid(
                "expires_on",
                format!("must be at most {MAX_EXPIRY_DAYS} days ahead"),
            ));
        }
        Some(d) => d,
    };
    let note = e.note.trim();
    if note.chars().count() > NOTE_MAX_CHARS {
        return Err(Error::invalid(
            "note",
            format!("must be at most {NOTE_MAX_CHARS} characters"),
        ));
    }
    let today_text = today.format("%Y-%m-%d").to_string();
    let active = scalar!(
        tx.exec(),
        i64,
        "SELECT COUNT(*) FROM waitlist_entries WHERE org_id = $1 AND patient_id = $2 \
         AND status = 'active' AND expires_on >= $3",
        org.id,
        e.patient,
        &today_text
    )?;
    let most = settings(tx.exec(), org.id).await?.max_entries_per_patient;
    if active >= most {
        return Err(Error::invalid(
            "service_id",
            format!("at most {most} waitlist entries at a time; leave one first"),
        ));
    }
    let date = |d: Option<NaiveDate>| d.map(|d| d.format("%Y-%m-%d").to_string());
    // The waitlist is for when nothing suits: a time that suits the entry and is open
    // now is booked, not held from the portal for it. So whatever the matcher later
    // finds was freed after the entry joined.
    let wanted = Entry {
        id: 0,
        patient_id: e.patient,
        service_id: e.service,
        clinic_id: e.clinic,
        from_date: date(e.from_date),
        to_date: date(e.to_date),
        from_minute: e.from_minute,
        to_minute: e.to_minute,
        weekdays,
        expires_on: expires_on.format("%Y-%m-%d").to_string(),
        note: String::new(),
        status: EntryStatus::Active,
        appointment_id: None,
        created_by: String::new(),
        created_at_ns: now,
        practitioners: practitioners.clone(),
    };
    if let Some(first) = first_open_suiting(
        &mut tx.exec(),
        org,
        &wanted,
        allowed.as_deref(),
        today,
        clock,
    )
    .await?
    {
        return Err(Error::invalid(
            "service_id",
            format!(
                "Times that suit you are open now, the first {}: book one instead.",
                first.format("%a %-d %b %Y, %H:%M")
            ),
        ));
    }
    let id = scalar!(
        tx.exec(),
        i64,
        "INSERT INTO waitlist_entries (org_id, patient_id, service_id, clinic_id, from_date, to_date, \
         from_minute, to_minute, weekdays, expires_on, note, created_by, created_at_ns, updated_by, updated_at_ns) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $12, $13) RETURNING id",
        org.id,
        e.patient,
        e.service,
        e.clinic,
        date(e.from_date),
        date(e.to_date),
        e.from_minute,
        e.to_minute,
        weekdays,
        expires_on.format("%Y-%m-%d").to_string(),
        note,
        actor.label(),
        now
    )?;
    for &p in &practitioners {
        execute!(
            tx.exec(),
            "INSERT INTO waitlist_entry_practitioners (org_id, entry_id, practitioner_id) VALUES ($1, $2, $3)",
            org.id,
            id,
            p
        )?;
    }
    crate::audit::record(
        &mut tx,
        org.id,
        &actor.label(),
        "waitlist.joined",
        "waitlist_entry",
        Some(id),
        serde_json::json!({ "patient_id": e.patient, "service_id": e.service }),
        now,
    )
    .await?;
    let entry = get_in(&mut tx.exec(), org.id, id).await?;
    tx.commit().await?;
    Ok(entry)
}

/// The clinic-local start of the first open portal time (over the matcher's next
/// [`SEARCH_DAYS`] days) that suits `e`, if any.
async fn first_open_suiting(
    exec: &mut Exec<'_>,
    org: &Organisation,
    e: &Entry,
    allowed: Option<&[i64]>,
    today: NaiveDate,
    clock: &dyn Clock,
) -> Result<Option<chrono::NaiveDateTime>> {
    let last = e
        .to_date
        .clone()
        .unwrap_or_else(|| e.expires_on.clone())
        .min(e.expires_on.clone());
    let last = NaiveDate::parse_from_str(&last, "%Y-%m-%d")
        .unwrap_or(today)
        .min(today + chrono::Days::new(SEARCH_DAYS as u64));
    let first = e
        .from_date
        .as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .unwrap_or(today)
        .max(today);
    if first > last {
        return Ok(None);
    }
    let (Ok(from), Ok(to)) = (
        slot_engine::Date::try_from(first),
        slot_engine::Date::try_from(last),
    ) else {
        return Ok(None);
    };
    let Ok((input, slots)) = window::open_slots(
        exec,
        org,
        &SlotRequest {
            service: e.service_id,
            practitioners: None,
            from,
            to,
            now: clock.now(),
            telehealth: false,
        },
    )
    .await
    else {
        return Ok(None);
    };
    Ok(slots.iter().find_map(|slot| {
        let open = input.open_slot(slot);
        let local = open.start.naive_local();
        e.suits(open.practitioner_id, open.clinic_id, local, allowed)
            .then_some(local)
    }))
}

async fn with_practitioners(
    exec: &mut Exec<'_>,
    org: i64,
    mut list: Vec<Entry>,
) -> Result<Vec<Entry>> {
    if list.is_empty() {
        return Ok(list);
    }
    let ids = serde_json::to_string(&list.iter().map(|e| e.id).collect::<Vec<_>>())
        .expect("ids serialize");
    let sql = format!(
        "SELECT entry_id, practitioner_id FROM waitlist_entry_practitioners WHERE org_id = $1 \
         AND {} ORDER BY practitioner_id",
        exec.in_json_list("entry_id", 2)
    );
    let pairs = rows!(exec.reborrow(), fetch_all, (i64, i64), &sql, org, &ids)?;
    for e in &mut list {
        e.practitioners = pairs
            .iter()
            .filter(|(entry, _)| *entry == e.id)
            .map(|(_, p)| *p)
            .collect();
    }
    Ok(list)
}

async fn get_in(exec: &mut Exec<'_>, org: i64, id: i64) -> Result<Entry> {
    let sql = format!("SELECT {ENTRY_COLUMNS} FROM waitlist_entries WHERE org_id = $1 AND id = $2");
    let entry = rows!(exec.reborrow(), fetch_optional, Entry, &sql, org, id)?
        .ok_or(Error::NotFound("waitlist entry"))?;
    Ok(with_practitioners(exec, org, vec![entry]).await?.remove(0))
}

/// One entry of the organisation.
pub async fn get(mut exec: Exec<'_>, org: i64, id: i64) -> Result<Entry> {
    get_in(&mut exec, org, id).await
}

/// A patient's entries, active ones first, newest first.
pub async fn of_patient(mut exec: Exec<'_>, org: i64, patient: i64) -> Result<Vec<Entry>> {
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM waitlist_entries WHERE org_id = $1 AND patient_id = $2 \
         ORDER BY CASE WHEN status = 'active' THEN 0 ELSE 1 END, id DESC LIMIT 100"
    );
    let list = rows!(exec.reborrow(), fetch_all, Entry, &sql, org, patient)?;
    with_practitioners(&mut exec, org, list).await
}

/// The active, unexpired entries of a service in the order they joined; with `day`,
/// only those that could suit a time on that date.
pub async fn of_service(
    mut exec: Exec<'_>,
    org: i64,
    service: i64,
    today: NaiveDate,
    day: Option<NaiveDate>,
) -> Result<Vec<Entry>> {
    let today = today.format("%Y-%m-%d").to_string();
    let day = day.map(|d| d.format("%Y-%m-%d").to_string());
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM waitlist_entries WHERE org_id = $1 AND service_id = $2 \
         AND status = 'active' AND expires_on >= $3 \
         AND ($4 IS NULL OR ((from_date IS NULL OR from_date <= $4) AND (to_date IS NULL OR to_date >= $4) \
         AND expires_on >= $4)) ORDER BY id LIMIT 500"
    );
    let mut list = rows!(
        exec.reborrow(),
        fetch_all,
        Entry,
        &sql,
        org,
        service,
        &today,
        &day
    )?;
    if let Some(day) = &day
        && let Ok(date) = NaiveDate::parse_from_str(day, "%Y-%m-%d")
    {
        let bit = 1_i64 << date.weekday().num_days_from_monday();
        list.retain(|e| e.weekdays & bit != 0);
    }
    with_practitioners(&mut exec, org, list).await
}

/// Takes an active entry off the waitlist: the patient leaving (only their own, else
/// [`Error::NotFound`]) or staff removing it. Its open offer goes with it (a hold left
/// with nobody to accept it is released at the matcher's next pass). Audited.
pub async fn leave(db: &Db, org: i64, id: i64, actor: Actor, clock: &dyn Clock) -> Result<Entry> {
    let now = clock.now_ns();
    let mut tx = db.begin().await?;
    let (status, patient_only) = match actor {
        Actor::Patient(p) => (EntryStatus::Left, Some(p)),
        Actor::Staff(_) | Actor::ApiKey(_) => (EntryStatus::Removed, None),
    };
    let changed = execute!(
        tx.exec(),
        "UPDATE waitlist_entries SET status = $3, updated_by = $4, updated_at_ns = $5 \
         WHERE org_id = $1 AND id = $2 AND status = 'active' AND ($6 IS NULL OR patient_id = $6)",
        org,
        id,
        status.as_str(),
        actor.label(),
        now,
        patient_only
    )?;
    if changed == 0 {
        // Someone else's entry is not found; one already off the list says so.
        let entry = get_in(&mut tx.exec(), org, id).await?;
        if patient_only.is_some_and(|p| p != entry.patient_id) {
            return Err(Error::NotFound("waitlist entry"));
        }
        return Err(Error::invalid(
            "id",
            "this entry is no longer on the waitlist",
        ));
    }
    execute!(
        tx.exec(),
        "UPDATE waitlist_offers SET state = 'gone', answered_at_ns = $3 \
         WHERE org_id = $1 AND entry_id = $2 AND state = 'open'",
        org,
        id,
        now
    )?;
    crate::audit::record(
        &mut tx,
        org,
        &actor.label(),
        if patient_only.is_some() {
            "waitlist.left"
        } else {
            "waitlist.removed"
        },
        "waitlist_entry",
        Some(id),
        serde_json::json!({}),
        now,
    )
    .await?;
    let entry = get_in(&mut tx.exec(), org, id).await?;
    tx.commit().await?;
    Ok(entry)
}

/// A freed time and the entries to offer it to, in the order they joined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    /// The service.
    pub service: i64,
    /// The practitioner.
    pub practitioner: i64,
    /// The slot's start.
    pub start_ns: i64,
    /// The entries (at most [`Settings::offer_count`]).
    pub entries: Vec<Entry>,
}

/// The services with active entries, and how many open holds each has.
async fn waiting_services(exec: &mut Exec<'_>, org: i64, today: &str) -> Result<Vec<(i64, i64)>> {
    Ok(rows!(
        exec.reborrow(),
        fetch_all,
        (i64, i64),
        "SELECT e.service_id, (SELECT COUNT(*) FROM waitlist_holds h WHERE h.org_id = $1 \
         AND h.service_id = e.service_id AND h.state = 'open') \
         FROM waitlist_entries e WHERE e.org_id = $1 AND e.status = 'active' AND e.expires_on >= $2 \
         GROUP BY e.service_id ORDER BY e.service_id",
        org,
        today
    )?)
}

/// The entries of `list` that have no open offer and were never offered this time.
async fn not_offered(
    exec: &mut Exec<'_>,
    org: i64,
    list: &[Entry],
    practitioner: i64,
    start_ns: i64,
) -> Result<Vec<i64>> {
    let busy = rows!(
        exec.reborrow(),
        fetch_all,
        (i64,),
        "SELECT DISTINCT o.entry_id FROM waitlist_offers o JOIN waitlist_holds h ON h.org_id = o.org_id AND h.id = o.hold_id \
         WHERE o.org_id = $1 AND (o.state = 'open' OR (h.practitioner_id = $2 AND h.start_ns = $3))",
        org,
        practitioner,
        start_ns
    )?;
    Ok(list
        .iter()
        .map(|e| e.id)
        .filter(|id| !busy.iter().any(|(b,)| b == id))
        .collect())
}

/// The next freed time to offer, if any: for each service with active entries and
/// fewer open holds than the settings allow, the earliest open portal slot (over the
/// next [`SEARCH_DAYS`] days) that suits entries without an open offer that were never
/// offered that time; the first [`Settings::offer_count`] of them in join order. Read
/// only: [`crate::appointment::hold_for_offers`] holds it under the lock, checking again.
pub async fn next_offer(
    db: &Db,
    org: &Organisation,
    clock: &dyn Clock,
) -> Result<Option<Proposal>> {
    let mut conn = db.conn().await?;
    let mut exec = conn.exec();
    let clinics = crate::clinic::all(exec.reborrow(), org.id).await?;
    let today = crate::clinic::earliest_local_date(&clinics, clock.now());
    let today_text = today.format("%Y-%m-%d").to_string();
    let s = settings(exec.reborrow(), org.id).await?;
    for (service, open_holds) in waiting_services(&mut exec, org.id, &today_text).await? {
        if open_holds >= s.max_holds_per_service {
            continue;
        }
        let entries = of_service(exec.reborrow(), org.id, service, today, None).await?;
        if entries.is_empty() {
            continue;
        }
        let mut allowed = Vec::with_capacity(entries.len());
        for e in &entries {
            allowed.push(
                crate::patient::bookable_practitioners(&mut exec, org.id, e.patient_id).await?,
            );
        }
        let last = entries
            .iter()
            .map(|e| {
                e.to_date
                    .clone()
                    .unwrap_or_else(|| e.expires_on.clone())
                    .min(e.expires_on.clone())
            })
            .max()
            .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
            .unwrap_or(today)
            .min(today + chrono::Days::new(SEARCH_DAYS as u64));
        let (Ok(from), Ok(to)) = (
            slot_engine::Date::try_from(today),
            slot_engine::Date::try_from(last),
        ) else {
            continue;
        };
        let found = window::open_slots(
            &mut exec,
            org,
            &SlotRequest {
                service,
                practitioners: None,
                from,
                to,
                now: clock.now(),
                telehealth: false,
            },
        )
        .await;
        // A service the portal no longer offers has nothing to offer.
        let Ok((input, slots)) = found else { continue };
        for slot in &slots {
            let open = input.open_slot(slot);
            let local = open.start.naive_local();
            let suited: Vec<&Entry> = entries
                .iter()
                .zip(&allowed)
                .filter(|(e, a)| e.suits(open.practitioner_id, open.clinic_id, local, a.as_deref()))
                .map(|(e, _)| e)
                .collect();
            if suited.is_empty() {
                continue;
            }
            let start_ns = slot.start_instant().unix_nanos();
            let free: Vec<Entry> = suited.into_iter().cloned().collect();
            let ids = not_offered(&mut exec, org.id, &free, open.practitioner_id, start_ns).await?;
            let chosen = first_per_patient(
                free.into_iter().filter(|e| ids.contains(&e.id)),
                s.offer_count,
            );
            if !chosen.is_empty() {
                return Ok(Some(Proposal {
                    service,
                    practitioner: open.practitioner_id,
                    start_ns,
                    entries: chosen,
                }));
            }
        }
    }
    Ok(None)
}

/// The entries to offer a time staff chose by hand: `ids` when given (each an active
/// entry of the service in the organisation, else refused naming `entry_ids`), or the
/// first [`Settings::offer_count`] active entries that suit it and have no open offer.
#[allow(clippy::too_many_arguments)]
pub async fn entries_for_time(
    db: &Db,
    org: &Organisation,
    service: i64,
    practitioner: i64,
    clinic: i64,
    local_start: chrono::NaiveDateTime,
    start_ns: i64,
    ids: Option<&[i64]>,
    clock: &dyn Clock,
) -> Result<Vec<Entry>> {
    let mut conn = db.conn().await?;
    let mut exec = conn.exec();
    let clinics = crate::clinic::all(exec.reborrow(), org.id).await?;
    let today = crate::clinic::earliest_local_date(&clinics, clock.now());
    let s = settings(exec.reborrow(), org.id).await?;
    let entries = of_service(exec.reborrow(), org.id, service, today, None).await?;
    if let Some(ids) = ids {
        if ids.is_empty() || ids.len() > 20 {
            return Err(Error::invalid("entry_ids", "name 1 to 20 entries"));
        }
        let mut chosen = Vec::new();
        for id in ids {
            let Some(e) = entries.iter().find(|e| e.id == *id) else {
                return Err(Error::invalid(
                    "entry_ids",
                    format!("entry {id} is not an active waitlist entry of this service"),
                ));
            };
            chosen.push(e.clone());
        }
        return Ok(chosen);
    }
    let mut suited = Vec::new();
    for e in entries {
        let allowed =
            crate::patient::bookable_practitioners(&mut exec, org.id, e.patient_id).await?;
        if e.suits(practitioner, clinic, local_start, allowed.as_deref()) {
            suited.push(e);
        }
    }
    let free = not_offered(&mut exec, org.id, &suited, practitioner, start_ns).await?;
    Ok(first_per_patient(
        suited.into_iter().filter(|e| free.contains(&e.id)),
        s.offer_count,
    ))
}

/// The first `count` entries in order, one per patient: a patient waiting with two
/// entries that suit one time is offered it once.
fn first_per_patient(entries: impl Iterator<Item = Entry>, count: i64) -> Vec<Entry> {
    let mut chosen: Vec<Entry> = Vec::new();
    for e in entries {
        if chosen.len() >= usize::try_from(count).unwrap_or(1) {
            break;
        }
        if !chosen.iter().any(|c| c.patient_id == e.patient_id) {
            chosen.push(e);
        }
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: i64, patient: i64) -> Entry {
        Entry {
            id,
            patient_id: patient,
            service_id: 1,
            clinic_id: None,
            from_date: None,
            to_date: None,
            from_minute: None,
            to_minute: None,
            weekdays: 127,
            expires_on: "2026-03-31".into(),
            note: String::new(),
            status: EntryStatus::Active,
            appointment_id: None,
            created_by: "patient:1".into(),
            created_at_ns: 0,
            practitioners: Vec::new(),
        }
    }

    fn at(text: &str) -> chrono::NaiveDateTime {
        chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn an_entry_suits_the_times_its_preferences_allow() {
        let monday_nine = at("2026-03-02 09:00");
        let any = entry(1, 1);
        assert!(any.suits(7, 3, monday_nine, None));
        // Practitioners: its own list, and those the patient may book.
        let with = Entry {
            practitioners: vec![8],
            ..entry(1, 1)
        };
        assert!(!with.suits(7, 3, monday_nine, None));
        assert!(with.suits(8, 3, monday_nine, None));
        assert!(!any.suits(7, 3, monday_nine, Some(&[8])));
        // The clinic.
        let at_clinic = Entry {
            clinic_id: Some(4),
            ..entry(1, 1)
        };
        assert!(!at_clinic.suits(7, 3, monday_nine, None));
        // Dates, inclusive, and the expiry.
        let dated = Entry {
            from_date: Some("2026-03-02".into()),
            to_date: Some("2026-03-02".into()),
            ..entry(1, 1)
        };
        assert!(dated.suits(7, 3, monday_nine, None));
        assert!(!dated.suits(7, 3, at("2026-03-03 09:00"), None));
        assert!(
            !any.suits(7, 3, at("2026-04-01 09:00"), None),
            "after its expiry"
        );
        // The time of day: from inclusive, to exclusive.
        let morning = Entry {
            from_minute: Some(9 * 60),
            to_minute: Some(9 * 60 + 30),
            ..entry(1, 1)
        };
        assert!(morning.suits(7, 3, monday_nine, None));
        assert!(!morning.suits(7, 3, at("2026-03-02 09:30"), None));
        assert!(!morning.suits(7, 3, at("2026-03-02 08:59"), None));
        // Weekdays: Monday = 1.
        let tuesdays = Entry {
            weekdays: 2,
            ..entry(1, 1)
        };
        assert!(!tuesdays.suits(7, 3, monday_nine, None));
        assert!(tuesdays.suits(7, 3, at("2026-03-03 09:00"), None));
    }

    #[test]
    fn a_time_goes_to_the_first_entries_one_per_patient() {
        let list = vec![entry(1, 10), entry(2, 10), entry(3, 11), entry(4, 12)];
        let chosen: Vec<i64> = first_per_patient(list.clone().into_iter(), 2)
            .iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(chosen, [1, 3]);
        let all: Vec<i64> = first_per_patient(list.into_iter(), 20)
            .iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(all, [1, 3, 4]);
    }
}
