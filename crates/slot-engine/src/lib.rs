//! Openslot's scheduling engine: which slots can a patient book, and may this booking
//! go in?
//!
//! The engine is pure: no I/O, no clock, no randomness, no async. "Now" is an argument.
//! It answers exactly as the scenario spec says: `docs/scenario.md` in the repository
//! (format v1), which is normative.
//!
//! # A tour, in reading order
//!
//! - [`calendar`]: dates, wall-clock times, weekdays and instants, each valid once held.
//! - [`zone`]: timezones and the daylight-saving rules; every local-to-UTC conversion.
//! - [`grid`]: [`WeekGrid`], one bit per cell of a Monday-to-Sunday week.
//! - [`availability`]: dated availability records with their grids, overlay and runs.
//! - [`occupancy`]: appointment counts per UTC cell, and time off.
//! - [`scenario`]: the JSON document, strictly parsed ([`Scenario`]).
//! - [`model`]: the validated, indexed [`Model`] built from a scenario.
//! - [`search`]: open slots over dates and the first available ones.
//! - [`check`]: one portal booking (bookable, or which rule says no) and one staff
//!   booking (fits, or every reason it needs an override).
//! - [`series`]: weekly series of bookings, each occurrence checked (format v2).
//! - [`answer`]: the answer document `openslot slots` prints.
//! - [`synthetic`]: deterministic synthetic clinics for benchmarks.
//!
//! # End to end
//!
//! ```
//! use slot_engine::{Answer, Model, PortalQuery, Scenario, DateRange, SlotQuery};
//!
//! let scenario = Scenario::from_json(br#"{
//!   "version": 1,
//!   "settings": {"slot_step_minutes": 30},
//!   "clinics": [{"id": "toronto", "timezone": "America/Toronto", "holidays": ["2026-03-04"]}],
//!   "schedule_types": [{"id": "physio", "name": "Physiotherapy", "clinic": "toronto"}],
//!   "practitioners": [{"id": "christine", "type": "physiotherapist", "home_clinic": "toronto",
//!     "schedule_types": ["physio"],
//!     "availability": [{"start_date": "2026-03-01",
//!       "blocks": [{"days": ["mon", "wed"], "start": "09:00", "end": "11:00", "schedule_type": "physio"}],
//!       "portal_blocks": [{"days": ["mon", "wed"], "start": "09:00", "end": "10:00"}]}]}],
//!   "services": [{"id": "follow-up", "duration_minutes": 30, "book_from_portal": true,
//!                 "schedule_types": ["physio"]}],
//!   "appointments": [{"practitioner": "christine",
//!                     "start": "2026-03-02T09:00:00-05:00", "end": "2026-03-02T09:30:00-05:00"}]
//! }"#)?;
//! let model = Model::new(&scenario)?;
//!
//! // Which slots are open in the first week of March?
//! let now = "2026-03-01T00:00:00Z".parse().unwrap();
//! let portal = PortalQuery::new(&model, "follow-up", now)?;
//! let dates = DateRange::new("2026-03-02".parse().unwrap(), "2026-03-08".parse().unwrap()).unwrap();
//! let slots = model.open_slots(&SlotQuery { portal: portal.clone(), dates });
//! let answer = Answer::new(&model, &slots);
//! let starts: Vec<&str> = answer.slots.iter().map(|s| s.start.as_str()).collect();
//! // 09:00 is taken, 10:00 is outside the portal overlay, Wednesday is a holiday.
//! assert_eq!(starts, ["2026-03-02T09:30:00-05:00"]);
//!
//! // And why not 10:00 on Monday?
//! let christine = model.practitioner_ix("christine").unwrap();
//! let why = model.check(&portal, christine, "2026-03-02T10:00:00-05:00".parse().unwrap()).unwrap_err();
//! assert_eq!(why.rule.number(), 7);
//! assert_eq!(why.reason, "10:00–10:30 is outside Customize Portal Availability on Mondays");
//! # Ok::<(), slot_engine::Error>(())
//! ```

#![deny(missing_docs)]

pub mod answer;
pub mod availability;
pub mod calendar;
pub mod check;
mod error;
pub mod grid;
mod index;
pub mod model;
pub mod occupancy;
pub mod resource;
pub mod scenario;
pub mod search;
pub mod series;
pub mod synthetic;
pub mod zone;

pub use answer::{Answer, AnswerSlot, write_answer_json};
pub use availability::{AvailabilityRecord, RecordDates, Run, TypeGrid};
pub use calendar::{Date, Instant, WallTime, Weekday};
pub use check::{
    OverrideKind, OverrideReason, Purpose, Rejection, ResourceChoice, Rule, StaffBooking, StaffFit,
};
pub use error::{Error, ValueError};
pub use grid::{Resolution, WeekGrid};
pub use model::{
    Appointment, Buffers, BuildStage, Clinic, ClinicIx, Model, Patient, PatientIx, Practitioner,
    PractitionerIx, Resource, ResourceIx, ResourceRecord, ScheduleType, ScheduleTypeIx, Service,
    ServiceIx, Settings,
};
pub use occupancy::{CellSpan, Occupancy};
pub use scenario::{Color, Scenario, Text};
pub use search::{DateRange, PortalQuery, Slot, SlotQuery};
pub use series::{Occurrence, PortalOccurrence, SeriesEnd, SeriesRule, StaffOccurrence};
pub use zone::{LocalTime, Zone};
