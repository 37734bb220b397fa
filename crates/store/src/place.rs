//! Where and how an appointment takes place, read the same way by every listing (the
//! book, the portal, the emails' context): its clinic, with the clinic's zone, address
//! and phone, and whether it is a video appointment, with its join link.

use serde::Serialize;
use slot_engine::Zone;

/// Where and how an appointment takes place.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Place {
    /// The appointment's clinic: every appointment names one (see
    /// [`slot_engine::Model::appointment_clinic`]).
    pub clinic_id: i64,
    pub clinic_name: String,
    /// The clinic's IANA timezone: the appointment's times are read there.
    pub clinic_timezone: String,
    /// The clinic's street address; empty when the clinic has none.
    pub clinic_address: String,
    /// The clinic's phone number; empty when the clinic has none.
    pub clinic_phone: String,
    /// A video appointment (else in person at the clinic).
    pub telehealth: bool,
    /// A video appointment's join link: the practitioner's, else the organisation's;
    /// empty in person, or when neither is set.
    pub video_link: String,
}

impl Place {
    /// The clinic's zone (stored names are valid).
    pub fn zone(&self) -> chrono_tz::Tz {
        self.clinic_timezone
            .parse::<Zone>()
            .map(Zone::tz)
            .unwrap_or(chrono_tz::UTC)
    }
}

/// The columns of [`Place`] over `appointments a` joined by [`place_joins`], as a
/// literal for `concat!`.
macro_rules! place_columns {
    () => {
        "c.id AS clinic_id, c.name AS clinic_name, c.timezone AS clinic_timezone, \
         c.address AS clinic_address, c.phone AS clinic_phone, a.telehealth, \
         CASE WHEN a.telehealth THEN COALESCE(NULLIF(p.video_link, ''), o.video_link) \
         ELSE '' END AS video_link"
    };
}

/// The joins [`place_columns`] reads: the practitioner `p`, the schedule type `st`, the
/// clinic `c` and the organisation `o` of `appointments a`. The clinic is the
/// appointment's own; the fallback (its schedule type's, else the practitioner's home
/// clinic) is the rule migration 0016 filled older rows by, so no row reads differently.
macro_rules! place_joins {
    () => {
        "JOIN practitioners p ON p.org_id = a.org_id AND p.id = a.practitioner_id \
         LEFT JOIN schedule_types st ON st.org_id = a.org_id AND st.id = a.schedule_type_id \
         JOIN clinics c ON c.org_id = a.org_id AND c.id = COALESCE(a.clinic_id, st.clinic_id, p.home_clinic_id) \
         JOIN organisations o ON o.id = a.org_id"
    };
}

pub(crate) use {place_columns, place_joins};
