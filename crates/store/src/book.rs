//! The appointment book: appointments over a range of time joined with the names and
//! colours the front desk reads, the choices of the staff booking form, and the
//! availability, time off and holidays drawn behind the appointments.
//!
//! Every listing of appointments is one query: the book of a busy week is read in one
//! round trip, whatever the number of practitioners.

use serde::Serialize;
use slot_engine::{Date, LocalTime, Zone};

use crate::appointment_status::{AppointmentStatus, Channel};
use crate::clinic::{self, Clinic};
use crate::db::{Exec, rows};
use crate::error::{Error, Result};
use crate::organisation::Organisation;
use crate::place::{Place, place_columns, place_joins};
use crate::window::{self, Window};

/// An appointment as the book shows it: with its practitioner's, patient's, service's
/// and schedule type's names, the schedule type's colours, and the clinic it is at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Entry {
    pub id: i64,
    /// The practitioner whose time it takes.
    pub practitioner_id: i64,
    pub practitioner_name: String,
    /// The patient, if any.
    pub patient_id: Option<i64>,
    /// The patient's first name.
    pub patient_first_name: Option<String>,
    /// The patient's last name.
    pub patient_last_name: Option<String>,
    /// The service, if any.
    pub service_id: Option<i64>,
    /// The service's name; `None` when there is no service.
    pub service_name: Option<String>,
    /// The schedule type whose blocks hold it, when known.
    pub schedule_type_id: Option<i64>,
    /// The schedule type's name; `None` when there is no schedule type.
    pub schedule_type_name: Option<String>,
    /// Its background colour (`#rrggbb`).
    pub background_color: Option<String>,
    /// Its font colour (`#rrggbb`).
    pub font_color: Option<String>,
    /// Where and how: its clinic (whose zone its times are read in), or video.
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub place: Place,
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
    /// When it was created, ns since the Unix epoch.
    pub created_at_ns: i64,
    /// Who changed it last.
    pub updated_by: String,
    /// When it last changed, ns since the Unix epoch (`created_at_ns` until then).
    pub updated_at_ns: i64,
    /// Why it was cancelled, when the canceller said.
    pub cancel_reason: Option<String>,
    /// Who cancelled it (`staff:3`, `patient:12`), while it is cancelled.
    pub cancelled_by: Option<String>,
    /// Minutes kept free before it, as it was booked.
    pub buffer_before_minutes: i64,
    /// Minutes kept free after it, as it was booked.
    pub buffer_after_minutes: i64,
    /// When the patient confirmed it from a reminder's link (migration 0027); cleared
    /// whenever it moves.
    pub confirmed_at_ns: Option<i64>,
    /// The rooms and equipment it holds a place in, by name.
    #[sqlx(skip)]
    pub resources: Vec<crate::appointment::HeldResource>,
}

impl Entry {
    /// `First Last`, when there is a patient.
    pub fn patient_name(&self) -> Option<String> {
        match (&self.patient_first_name, &self.patient_last_name) {
            (Some(first), Some(last)) => Some(format!("{first} {last}")),
            _ => None,
        }
    }

    /// The clinic's zone (stored names are valid).
    pub fn zone(&self) -> chrono_tz::Tz {
        self.place.zone()
    }

    /// Its length in whole minutes.
    pub fn duration_minutes(&self) -> i64 {
        (self.end_ns - self.start_ns).div_euclid(60_000_000_000)
    }

    /// Whether it still occupies time (everything but cancelled).
    pub fn is_active(&self) -> bool {
        self.status.occupies_time()
    }
}

/// The `SELECT … FROM … JOIN …` every listing shares; callers add `WHERE` and
/// `ORDER BY`. The clinic and video link are read as [`Place`] reads them everywhere.
const SELECT: &str = concat!(
    "SELECT a.id, a.practitioner_id, p.name AS practitioner_name, a.patient_id, \
     pa.first_name AS patient_first_name, pa.last_name AS patient_last_name, \
     a.service_id, s.name AS service_name, a.schedule_type_id, st.name AS schedule_type_name, \
     st.background_color, st.font_color, ",
    place_columns!(),
    ", a.start_ns, a.end_ns, a.status, a.channel, a.override_reason, a.override_by, \
     a.status_note, a.created_by, a.created_at_ns, a.updated_by, a.updated_at_ns, \
     a.cancel_reason, a.cancelled_by, a.buffer_before_minutes, a.buffer_after_minutes, \
     a.confirmed_at_ns \
     FROM appointments a ",
    place_joins!(),
    " LEFT JOIN patients pa ON pa.org_id = a.org_id AND pa.id = a.patient_id \
     LEFT JOIN services s ON s.org_id = a.org_id AND s.id = a.service_id"
);

/// Which appointments to list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Range {
    /// Appointments ending after this instant (ns since the Unix epoch)…
    pub from_ns: i64,
    /// …and starting before this one.
    pub to_ns: i64,
    /// Only this practitioner's (`None`: everyone's).
    pub practitioner: Option<i64>,
    /// Only those at this clinic.
    pub clinic: Option<i64>,
    /// Whether to list cancelled appointments too, which no longer take any time.
    pub include_cancelled: bool,
}

/// The appointments overlapping a range, by start, then practitioner.
pub async fn in_range(exec: Exec<'_>, org: &Organisation, range: &Range) -> Result<Vec<Entry>> {
    // The lower bound on the start lets the (org, practitioner, start) index bound the
    // scan: nothing starts earlier than the longest appointment before `from`.
    let sql = format!(
        "{SELECT} WHERE a.org_id = $1 AND a.start_ns >= $2 AND a.start_ns < $3 AND a.end_ns > $4 \
         AND ($5 = -1 OR a.practitioner_id = $5) AND ($6 = -1 OR c.id = $6) \
         AND ($7 OR a.status <> 'cancelled') \
         ORDER BY a.start_ns, a.practitioner_id, a.id"
    );
    let mut exec = exec;
    let entries = rows!(
        exec.reborrow(),
        fetch_all,
        Entry,
        &sql,
        org.id,
        range.from_ns.saturating_sub(org.max_appointment_ns),
        range.to_ns,
        range.from_ns,
        range.practitioner.unwrap_or(-1),
        range.clinic.unwrap_or(-1),
        range.include_cancelled
    )?;
    with_resources(exec, org.id, entries).await
}

/// The entries with the rooms and equipment each holds (one more query).
async fn with_resources(exec: Exec<'_>, org: i64, mut entries: Vec<Entry>) -> Result<Vec<Entry>> {
    if entries.is_empty() {
        return Ok(entries);
    }
    let ids: Vec<i64> = entries.iter().map(|e| e.id).collect();
    let mut held = crate::appointment::held(exec, org, &ids).await?;
    for e in &mut entries {
        e.resources = held.remove(&e.id).unwrap_or_default();
    }
    Ok(entries)
}

/// One appointment of the organisation.
pub async fn entry(exec: Exec<'_>, org: i64, id: i64) -> Result<Entry> {
    let sql = format!("{SELECT} WHERE a.org_id = $1 AND a.id = $2");
    let mut exec = exec;
    let found = rows!(exec.reborrow(), fetch_optional, Entry, &sql, org, id)?
        .ok_or(Error::NotFound("appointment"))?;
    let mut entries = with_resources(exec, org, vec![found]).await?;
    entries.pop().ok_or(Error::NotFound("appointment"))
}

/// A patient's appointments, latest first.
pub async fn of_patient(exec: Exec<'_>, org: i64, patient: i64) -> Result<Vec<Entry>> {
    let sql = format!(
        "{SELECT} WHERE a.org_id = $1 AND a.patient_id = $2 ORDER BY a.start_ns DESC, a.id DESC"
    );
    let mut exec = exec;
    let entries = rows!(exec.reborrow(), fetch_all, Entry, &sql, org, patient)?;
    with_resources(exec, org, entries).await
}

/// Pending portal bookings waiting for staff, earliest first.
pub async fn pending(exec: Exec<'_>, org: i64) -> Result<Vec<Entry>> {
    let sql =
        format!("{SELECT} WHERE a.org_id = $1 AND a.status = 'pending' ORDER BY a.start_ns, a.id");
    let mut exec = exec;
    let entries = rows!(exec.reborrow(), fetch_all, Entry, &sql, org)?;
    with_resources(exec, org, entries).await
}

/// A practitioner in the booking form's list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PractitionerChoice {
    pub id: i64,
    pub name: String,
    /// Home clinic: booking times are read in its timezone unless the schedule type
    /// names another clinic.
    pub home_clinic_id: i64,
    /// Whether active (staff may still book an inactive one, with an override).
    pub active: bool,
}

/// A service in the booking form's list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ServiceChoice {
    pub id: i64,
    pub name: String,
    /// Default length of a booking.
    pub duration_minutes: i64,
    /// Whether one of its schedule types allows telehealth, so that it may be booked as
    /// a video appointment.
    pub telehealth: bool,
}

/// A schedule type in the booking form's list and the book's legend.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ScheduleTypeChoice {
    pub id: i64,
    pub name: String,
    /// Its clinic (`None`: usable at any clinic).
    pub clinic_id: Option<i64>,
    /// Length of a booking made without a service.
    pub default_duration_minutes: i64,
    /// The colour the book fills its appointments with, `#rrggbb`.
    pub background_color: String,
    /// The colour of their text on that fill, `#rrggbb`.
    pub font_color: String,
    /// Whether it allows telehealth (video) appointments.
    pub telehealth: bool,
}

/// Everything the book's filters and the booking form offer: all of the organisation's
/// clinics, practitioners (inactive ones too), services and schedule types, each list
/// sorted by name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Choices {
    pub clinics: Vec<Clinic>,
    pub practitioners: Vec<PractitionerChoice>,
    pub services: Vec<ServiceChoice>,
    pub schedule_types: Vec<ScheduleTypeChoice>,
    /// The rooms and equipment a booking may name, and the book's room view shows.
    pub resources: Vec<ResourceOption>,
}

/// A room or piece of equipment in the booking form's list and the room view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ResourceOption {
    pub id: i64,
    pub name: String,
    /// `room` or `equipment`.
    pub kind: String,
    /// The clinic it is at.
    pub clinic_id: i64,
    /// How many appointments it holds at once.
    pub capacity: i64,
}

impl Choices {
    /// The practitioner with this id, if it is one of the organisation's.
    pub fn practitioner(&self, id: i64) -> Option<&PractitionerChoice> {
        self.practitioners.iter().find(|p| p.id == id)
    }

    /// The service with this id.
    pub fn service(&self, id: i64) -> Option<&ServiceChoice> {
        self.services.iter().find(|s| s.id == id)
    }

    /// The schedule type with this id.
    pub fn schedule_type(&self, id: i64) -> Option<&ScheduleTypeChoice> {
        self.schedule_types.iter().find(|t| t.id == id)
    }

    /// The clinic with this id.
    pub fn clinic(&self, id: i64) -> Option<&Clinic> {
        self.clinics.iter().find(|c| c.id == id)
    }

    /// The resource with this id.
    pub fn resource(&self, id: i64) -> Option<&ResourceOption> {
        self.resources.iter().find(|r| r.id == id)
    }
}

/// The organisation's clinics, practitioners, services and schedule types for the book.
pub async fn choices(mut exec: Exec<'_>, org: i64) -> Result<Choices> {
    Ok(Choices {
        clinics: clinic::all(exec.reborrow(), org).await?,
        practitioners: rows!(
            exec.reborrow(),
            fetch_all,
            PractitionerChoice,
            "SELECT id, name, home_clinic_id, active FROM practitioners WHERE org_id = $1 \
             ORDER BY name, id",
            org
        )?,
        services: rows!(
            exec.reborrow(),
            fetch_all,
            ServiceChoice,
            "SELECT s.id, s.name, s.duration_minutes, EXISTS (SELECT 1 FROM service_schedule_types x \
             JOIN schedule_types t ON t.org_id = x.org_id AND t.id = x.schedule_type_id \
             WHERE x.org_id = s.org_id AND x.service_id = s.id AND t.telehealth) AS telehealth \
             FROM services s WHERE s.org_id = $1 ORDER BY s.name, s.id",
            org
        )?,
        schedule_types: rows!(
            exec.reborrow(),
            fetch_all,
            ScheduleTypeChoice,
            "SELECT id, name, clinic_id, default_duration_minutes, background_color, font_color, \
             telehealth FROM schedule_types WHERE org_id = $1 ORDER BY name, id",
            org
        )?,
        resources: rows!(
            exec.reborrow(),
            fetch_all,
            ResourceOption,
            "SELECT id, name, kind, clinic_id, capacity FROM resources WHERE org_id = $1 \
             ORDER BY name, id",
            org
        )?,
    })
}

/// A stretch of one practitioner's availability of one schedule type, as instants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Block {
    pub practitioner_id: i64,
    /// The clinic the blocks place slots at.
    pub clinic_id: i64,
    pub schedule_type_id: i64,
    /// Start, ns since the Unix epoch.
    pub start_ns: i64,
    /// End, ns since the Unix epoch.
    pub end_ns: i64,
    /// True for the part patients may book online (inside Customize Portal Availability,
    /// of a practitioner active and bookable in the portal).
    pub online: bool,
}

/// A practitioner's time off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct TimeOff {
    pub practitioner_id: i64,
    /// Start, ns since the Unix epoch.
    pub start_ns: i64,
    /// End, ns since the Unix epoch.
    pub end_ns: i64,
}

/// A date a clinic takes no bookings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Holiday {
    pub clinic_id: i64,
    /// The closed date, read in the clinic's own zone.
    pub date: Date,
}

/// What the book draws behind the appointments.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Backdrop {
    /// Availability: every stretch in the clinic, and again the stretches bookable online.
    pub blocks: Vec<Block>,
    /// Each stretch of time off that meets the dates, whole (not cut at their ends).
    pub time_off: Vec<TimeOff>,
    /// The clinics' holidays on the dates.
    pub holidays: Vec<Holiday>,
}

/// The instant a wall-clock minute of `date` reads as in `zone`: the earlier one when it
/// happens twice, and the first existing minute after it when clocks skip it.
fn wall_ns(zone: Zone, date: Date, minute: u32) -> Option<i64> {
    // A spring-forward gap is at most a few hours wide; a quarter-hour stride finds the
    // end of any gap the IANA database holds.
    (0..=16)
        .map(|k| minute + 15 * k)
        .find_map(|m| match zone.resolve(date, m) {
            LocalTime::Missing => None,
            other => other.earliest(),
        })
        .map(|(seconds, _)| seconds * 1_000_000_000)
}

/// The availability, time off and holidays of the practitioners (`None`: all) on the
/// dates `from..=to`, with a day's margin either side for clinics in other zones.
pub async fn backdrop(
    exec: &mut Exec<'_>,
    org: &Organisation,
    practitioners: Option<Vec<i64>>,
    from: Date,
    to: Date,
) -> Result<Backdrop> {
    let first = from.add_days(-1).unwrap_or(from);
    let last = to.add_days(1).unwrap_or(to);
    // The engine's model already knows, per record, the stretches of each schedule type
    // with and without the portal overlay: the book draws exactly what the search uses.
    let input = window::load(
        exec,
        org,
        &Window {
            service: None,
            practitioners,
            from: first,
            to: last,
            skip_appointment: None,
            resources: Vec::new(),
        },
    )
    .await?;
    let model = &input.model;
    let mut out = Backdrop::default();
    for ix in model.practitioner_indices() {
        let p = model.practitioner(ix);
        let practitioner_id = input.practitioner_id(ix);
        let mut date = first;
        while date <= last {
            if let Some(record) = p.record_on(date) {
                for online in [false, true] {
                    if online && !(p.active && p.bookable_in_portal) {
                        continue;
                    }
                    for run in record.runs(date.weekday(), online) {
                        let zone = model.clinic(run.clinic).zone;
                        let start = wall_ns(zone, date, u32::from(run.start));
                        let end = wall_ns(zone, date, u32::from(run.end));
                        if let (Some(start_ns), Some(end_ns)) = (start, end)
                            && end_ns > start_ns
                        {
                            out.blocks.push(Block {
                                practitioner_id,
                                clinic_id: input.clinic_id(run.clinic),
                                schedule_type_id: input.schedule_type_id(run.schedule_type),
                                start_ns,
                                end_ns,
                                online,
                            });
                        }
                    }
                }
            }
            match date.add_days(1) {
                Some(next) => date = next,
                None => break,
            }
        }
        for (start, end) in p.time_off() {
            out.time_off.push(TimeOff {
                practitioner_id,
                start_ns: start.unix_nanos(),
                end_ns: end.unix_nanos(),
            });
        }
    }
    for c in model.clinics() {
        let Some(ix) = model.clinic_ix(c.id.as_str()) else {
            continue;
        };
        for &date in c.holidays.iter().filter(|d| (first..=last).contains(d)) {
            out.holidays.push(Holiday {
                clinic_id: input.clinic_id(ix),
                date,
            });
        }
    }
    Ok(out)
}
