//! What the patient portal reads: the services offered online, the practitioners a
//! patient may book for one, and a patient's appointments with their names and places.

use serde::Serialize;

use crate::appointment_status::AppointmentStatus;
use crate::db::{Exec, rows};
use crate::error::{Error, Result};
use crate::place::{Place, place_columns, place_joins};

/// A service patients can book online.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PortalService {
    pub id: i64,
    pub key: String,
    pub name: String,
    /// What it is, shown to patients.
    pub description: Option<String>,
    /// The length of every slot offered for it, 1 to 1440 minutes.
    pub duration_minutes: i64,
    /// Whether it may be booked as a video appointment: one of its schedule types
    /// allows telehealth.
    pub offers_video: bool,
}

/// The columns of [`PortalService`] over `services`.
const SERVICE_COLUMNS: &str = "id, key, name, description, duration_minutes, \
    EXISTS (SELECT 1 FROM service_schedule_types sst JOIN schedule_types st ON st.org_id = sst.org_id AND st.id = sst.schedule_type_id \
            WHERE sst.org_id = services.org_id AND sst.service_id = services.id AND st.telehealth) AS offers_video";

/// The services with "book from portal" on, by name.
pub async fn services(exec: Exec<'_>, org: i64) -> Result<Vec<PortalService>> {
    Ok(rows!(
        exec,
        fetch_all,
        PortalService,
        &format!(
            "SELECT {SERVICE_COLUMNS} FROM services \
             WHERE org_id = $1 AND book_from_portal ORDER BY name, id"
        ),
        org
    )?)
}

/// One service patients can book online.
pub async fn service(exec: Exec<'_>, org: i64, id: i64) -> Result<PortalService> {
    rows!(
        exec,
        fetch_optional,
        PortalService,
        &format!("SELECT {SERVICE_COLUMNS} FROM services WHERE org_id = $1 AND id = $2 AND book_from_portal"),
        org,
        id
    )?
    .ok_or(Error::NotFound("service"))
}

/// A practitioner a patient may choose for a service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PortalPractitioner {
    pub id: i64,
    pub name: String,
    /// Their type's name (e.g. Physiotherapist).
    pub type_name: String,
    /// Their home clinic's name.
    pub clinic_name: String,
    /// The names of the clinics where they have availability for the service (from
    /// records that have not ended), by name; their home clinic when they have none.
    #[sqlx(skip)]
    pub clinic_names: Vec<String>,
}

/// The practitioners offered for `service`: active, bookable in the portal, of the
/// service's type, assigned one of its schedule types, and — when `allowed` is given
/// (the patient's available practitioners) — among those; with the clinics where
/// their availability records for the service, in force on `from` or later, place them.
pub async fn practitioners(
    mut exec: Exec<'_>,
    org: i64,
    service: i64,
    allowed: Option<&[i64]>,
    from: slot_engine::Date,
) -> Result<Vec<PortalPractitioner>> {
    let list = rows!(
        exec.reborrow(),
        fetch_all,
        PortalPractitioner,
        "SELECT p.id, p.name, t.name AS type_name, c.name AS clinic_name \
         FROM practitioners p JOIN practitioner_types t ON t.org_id = p.org_id AND t.id = p.type_id \
              JOIN clinics c ON c.org_id = p.org_id AND c.id = p.home_clinic_id \
              JOIN services s ON s.org_id = p.org_id AND s.id = $2 \
         WHERE p.org_id = $1 AND p.active AND p.bookable_in_portal \
           AND (s.practitioner_type_id IS NULL OR s.practitioner_type_id = p.type_id) \
           AND EXISTS (SELECT 1 FROM practitioner_schedule_types pst \
                       JOIN service_schedule_types sst ON sst.org_id = pst.org_id AND sst.schedule_type_id = pst.schedule_type_id \
                       WHERE pst.org_id = p.org_id AND pst.practitioner_id = p.id AND sst.service_id = s.id) \
         ORDER BY p.name, p.id",
        org,
        service
    )?;
    let mut list: Vec<PortalPractitioner> = match allowed {
        None => list,
        Some(allowed) => list
            .into_iter()
            .filter(|p| allowed.contains(&p.id))
            .collect(),
    };
    let places = rows!(
        exec,
        fetch_all,
        (i64, String),
        "SELECT DISTINCT r.practitioner_id, c.name FROM availability_records r \
         JOIN availability_blocks b ON b.org_id = r.org_id AND b.record_id = r.id \
         JOIN service_schedule_types sst ON sst.org_id = b.org_id AND sst.schedule_type_id = b.schedule_type_id AND sst.service_id = $2 \
         JOIN schedule_types st ON st.org_id = b.org_id AND st.id = b.schedule_type_id \
         JOIN practitioners p ON p.org_id = r.org_id AND p.id = r.practitioner_id \
         JOIN clinics c ON c.org_id = st.org_id AND c.id = COALESCE(st.clinic_id, r.clinic_id, p.home_clinic_id) \
         WHERE r.org_id = $1 AND (r.end_date IS NULL OR r.end_date >= $3) \
         ORDER BY c.name",
        org,
        service,
        from.to_string()
    )?;
    for p in &mut list {
        p.clinic_names = places
            .iter()
            .filter(|(id, _)| *id == p.id)
            .map(|(_, name)| name.clone())
            .collect();
        if p.clinic_names.is_empty() {
            p.clinic_names.push(p.clinic_name.clone());
        }
    }
    Ok(list)
}

/// An appointment as a patient (or staff) reads it: with names, and where and how.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AppointmentView {
    pub id: i64,
    pub practitioner_id: i64,
    pub practitioner_name: String,
    /// The patient it is for, which the portal checks against the signed-in one;
    /// `None` for a staff booking made without a patient.
    pub patient_id: Option<i64>,
    /// The service, which a reschedule keeps; `None` for a staff booking without one.
    pub service_id: Option<i64>,
    /// The service's name; `None` when the appointment has no service.
    pub service_name: Option<String>,
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
    /// The note staff gave when accepting or declining.
    pub status_note: String,
    /// Why it was cancelled, when the canceller said.
    pub cancel_reason: Option<String>,
    /// When the patient confirmed it from a reminder's link (migration 0027).
    pub confirmed_at_ns: Option<i64>,
}

const VIEW: &str = concat!(
    "SELECT a.id, a.practitioner_id, p.name AS practitioner_name, a.patient_id, \
     a.service_id, s.name AS service_name, ",
    place_columns!(),
    ", a.start_ns, a.end_ns, a.status, a.status_note, a.cancel_reason, a.confirmed_at_ns \
     FROM appointments a ",
    place_joins!(),
    " LEFT JOIN services s ON s.org_id = a.org_id AND s.id = a.service_id"
);

/// A patient's appointments, latest first.
pub async fn appointments_of(
    exec: Exec<'_>,
    org: i64,
    patient: i64,
) -> Result<Vec<AppointmentView>> {
    let sql = format!(
        "{VIEW} WHERE a.org_id = $1 AND a.patient_id = $2 ORDER BY a.start_ns DESC, a.id DESC"
    );
    Ok(rows!(exec, fetch_all, AppointmentView, &sql, org, patient)?)
}

/// One appointment, with names.
pub async fn appointment(exec: Exec<'_>, org: i64, id: i64) -> Result<AppointmentView> {
    let sql = format!("{VIEW} WHERE a.org_id = $1 AND a.id = $2");
    rows!(exec, fetch_optional, AppointmentView, &sql, org, id)?
        .ok_or(Error::NotFound("appointment"))
}

/// The name of the organisation's service `id`, whether or not it is bookable online
/// (unlike [`service`]).
pub async fn service_name(exec: Exec<'_>, org: i64, id: i64) -> Result<String> {
    Ok(rows!(
        exec,
        fetch_optional,
        (String,),
        "SELECT name FROM services WHERE org_id = $1 AND id = $2",
        org,
        id
    )?
    .ok_or(Error::NotFound("service"))?
    .0)
}
