//! The appointment as staff see it through the API: the book's, the pending list's and
//! a patient's record answer with the same `AppointmentDto`.

use serde::Serialize;
use store::book::Entry;
use utoipa::ToSchema;

use crate::clinic_time::rfc3339;

/// An appointment, as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AppointmentDto {
    /// Row id.
    pub id: i64,
    /// The practitioner.
    pub practitioner_id: i64,
    /// Their name.
    pub practitioner_name: String,
    /// The patient, if any.
    pub patient_id: Option<i64>,
    /// Their name.
    pub patient_name: Option<String>,
    /// The service, if any.
    pub service_id: Option<i64>,
    /// Its name.
    pub service_name: Option<String>,
    /// The schedule type holding it, when known.
    pub schedule_type_id: Option<i64>,
    /// Its name.
    pub schedule_type_name: Option<String>,
    /// The schedule type's background colour (`#rrggbb`).
    pub background_color: Option<String>,
    /// The schedule type's font colour.
    pub font_color: Option<String>,
    /// The clinic.
    pub clinic_id: i64,
    /// Its name.
    pub clinic_name: String,
    /// Its IANA timezone: `start` and `end` are written in its offset.
    pub timezone: String,
    /// The clinic's street address, lines separated by `\n`; empty when it has none.
    pub clinic_address: String,
    /// The clinic's phone number; empty when it has none.
    pub clinic_phone: String,
    /// A video appointment (else in person at the clinic).
    pub telehealth: bool,
    /// A video appointment's join link: the practitioner's, else the organisation's;
    /// empty in person, or when neither is set.
    pub video_link: String,
    /// Start, RFC 3339 in the clinic's offset.
    pub start: String,
    /// End.
    pub end: String,
    /// Length in minutes.
    pub duration_minutes: i64,
    /// `booked`, `pending`, `arrived`, `cancelled`, `completed` or `no_show`.
    pub status: String,
    /// `portal`, `staff` or `import`.
    pub channel: String,
    /// Why staff overrode a conflict, if they did.
    pub override_reason: Option<String>,
    /// The note given when accepting or declining.
    pub status_note: String,
    /// Who created it (`staff:3`, `patient:12`, `import`).
    pub created_by: String,
    /// Who changed it last.
    pub updated_by: String,
    /// Minutes kept free before it, as it was booked (its service's buffers then).
    pub buffer_before_minutes: i64,
    /// Minutes kept free after it, as it was booked.
    pub buffer_after_minutes: i64,
    /// Whether the patient confirmed it from a reminder's link (cleared when it moves).
    pub confirmed: bool,
    /// When they confirmed it, RFC 3339 in the clinic's zone.
    pub confirmed_at: Option<String>,
    /// The rooms and equipment it holds a place in, by name.
    pub resources: Vec<HeldResourceDto>,
}

/// A room or piece of equipment an appointment holds.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct HeldResourceDto {
    /// The resource's id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// `room` or `equipment`.
    pub kind: String,
}

impl From<Entry> for AppointmentDto {
    fn from(e: Entry) -> Self {
        let tz = e.zone();
        AppointmentDto {
            id: e.id,
            practitioner_id: e.practitioner_id,
            practitioner_name: e.practitioner_name.clone(),
            patient_id: e.patient_id,
            patient_name: e.patient_name(),
            service_id: e.service_id,
            service_name: e.service_name.clone(),
            schedule_type_id: e.schedule_type_id,
            schedule_type_name: e.schedule_type_name.clone(),
            background_color: e.background_color.clone(),
            font_color: e.font_color.clone(),
            clinic_id: e.place.clinic_id,
            clinic_name: e.place.clinic_name.clone(),
            timezone: e.place.clinic_timezone.clone(),
            clinic_address: e.place.clinic_address.clone(),
            clinic_phone: e.place.clinic_phone.clone(),
            telehealth: e.place.telehealth,
            video_link: e.place.video_link.clone(),
            start: rfc3339(e.start_ns, tz),
            end: rfc3339(e.end_ns, tz),
            duration_minutes: e.duration_minutes(),
            status: e.status.as_str().to_owned(),
            channel: e.channel.as_str().to_owned(),
            override_reason: e.override_reason,
            status_note: e.status_note,
            created_by: e.created_by,
            updated_by: e.updated_by,
            buffer_before_minutes: e.buffer_before_minutes,
            buffer_after_minutes: e.buffer_after_minutes,
            confirmed: e.confirmed_at_ns.is_some(),
            confirmed_at: e.confirmed_at_ns.map(|ns| rfc3339(ns, tz)),
            resources: e
                .resources
                .into_iter()
                .map(|r| HeldResourceDto {
                    id: r.id,
                    name: r.name,
                    kind: r.kind,
                })
                .collect(),
        }
    }
}
