//! What an appointment row says about itself in words, its status and the channel it
//! came through: enums decoded once from the row's text, and written back with
//! `as_str`. A leaf module (it imports only `db` and `error`), so that the loader
//! below `appointment` reads rows into the same enums.

use slot_engine::scenario::Status;

use crate::db::text_enum;

text_enum! {
    /// Where an appointment stands, spelt as the scenario format spells it.
    pub enum AppointmentStatus for "status" {
        /// Holds its time; the patient was told it is booked.
        Booked = "booked",
        /// Asked for in the portal of an organisation that does not auto-accept: it
        /// holds its time until staff accept it (booked) or decline it (cancelled).
        Pending = "pending",
        /// The patient is at the clinic (marked by the front desk on the day): it
        /// holds its time like booked, and is no longer moved or cancelled online.
        Arrived = "arrived",
        /// Cancelled or declined: it no longer holds time.
        Cancelled = "cancelled",
        /// Took place (marked by staff afterwards).
        Completed = "completed",
        /// The patient did not come (marked by staff afterwards).
        NoShow = "no_show",
    }
}

impl AppointmentStatus {
    /// Booked or pending: still to come as far as the book knows, so it may be
    /// cancelled or moved; the other statuses are settled.
    pub fn is_changeable(self) -> bool {
        matches!(self, AppointmentStatus::Booked | AppointmentStatus::Pending)
    }

    /// Whether it takes up the practitioner's time: every status but cancelled, as the
    /// engine counts it.
    pub fn occupies_time(self) -> bool {
        Status::from(self).occupies_time()
    }
}

/// The scenario's status of a stored appointment (export, and the engine's input).
impl From<AppointmentStatus> for Status {
    fn from(status: AppointmentStatus) -> Status {
        match status {
            AppointmentStatus::Booked => Status::Booked,
            AppointmentStatus::Pending => Status::Pending,
            AppointmentStatus::Arrived => Status::Arrived,
            AppointmentStatus::Cancelled => Status::Cancelled,
            AppointmentStatus::Completed => Status::Completed,
            AppointmentStatus::NoShow => Status::NoShow,
        }
    }
}

/// The stored status of a scenario's appointment (import).
impl From<Status> for AppointmentStatus {
    fn from(status: Status) -> AppointmentStatus {
        match status {
            Status::Booked => AppointmentStatus::Booked,
            Status::Pending => AppointmentStatus::Pending,
            Status::Arrived => AppointmentStatus::Arrived,
            Status::Cancelled => AppointmentStatus::Cancelled,
            Status::Completed => AppointmentStatus::Completed,
            Status::NoShow => AppointmentStatus::NoShow,
        }
    }
}

text_enum! {
    /// How an appointment was made.
    pub enum Channel for "channel" {
        /// Booked by the patient in the portal, under the portal's slot rules.
        Portal = "portal",
        /// Booked by staff, who may override the engine's reasons.
        Staff = "staff",
        /// Came in with a scenario through `openslot import`.
        Import = "import",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_reads_back_what_it_writes_in_the_scenarios_spelling() {
        for &status in AppointmentStatus::ALL {
            assert_eq!(
                status.as_str().parse::<AppointmentStatus>().unwrap(),
                status
            );
            assert_eq!(Status::from(status).as_str(), status.as_str());
            assert_eq!(AppointmentStatus::from(Status::from(status)), status);
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(status.as_str())
            );
        }
        assert!("Booked".parse::<AppointmentStatus>().is_err());
    }

    #[test]
    fn every_channel_reads_back_what_it_writes() {
        for &channel in Channel::ALL {
            assert_eq!(channel.as_str().parse::<Channel>().unwrap(), channel);
            assert_eq!(
                serde_json::to_value(channel).unwrap(),
                serde_json::json!(channel.as_str())
            );
        }
        assert!("phone".parse::<Channel>().is_err());
    }
}
