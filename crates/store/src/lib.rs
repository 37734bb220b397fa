//! Openslot's persistence: an SQLite file by default, PostgreSQL when a clinic group
//! runs several server instances, with the same behaviour on both. This is the only
//! crate that names sqlx.
//!
//! # A tour, in reading order
//!
//! - [`db`]: [`Db`] (pools, migrations), [`Tx`], and the macros that run one SQL text
//!   on either backend.
//! - [`error`]: [`Error`], with [`Conflict`] for staff bookings the engine refuses.
//! - [`time`]: the [`Clock`], instants stored as nanoseconds, and dates in words.
//! - [`organisation`]: tenants and their settings.
//! - [`organisation_logo`]: the clinic's logo shown in every page's header (PNG, JPEG or WebP, checked by its bytes).
//! - `scenario_rows` (crate-private): the loader behind every slot query, which
//!   rebuilds a scenario from rows in a fixed number of queries (`fetch`, then
//!   `assemble`).
//! - [`transfer`]: the scenario document as import/export format, over the loader.
//! - [`window`]: engine input for a window of dates, in a fixed number of queries.
//! - [`clinic`]: clinics and holidays.
//! - [`practitioner_type`], [`practitioner`], [`schedule_type`], [`service`]: the
//!   rest of the setup; [`availability`]: dated availability records and their grids.
//! - [`resource`]: rooms and equipment, their availability and time out of service,
//!   and what each service needs of them.
//! - [`appointment`]: booking (never overbooking), cancelling, moving, accepting;
//!   an appointment's [`AppointmentStatus`] and [`Channel`], read from rows once.
//! - [`book`]: the appointment book: appointments with their names and colours, and
//!   the availability drawn behind them.
//! - [`setup_check`]: what keeps each service and practitioner from the portal, and
//!   which rule rejects one time.
//! - [`audit`]: the append-only audit log.
//! - [`keys`]: readable scenario ids for rows created in the admin pages.
//! - [`staff`]: staff accounts and roles.
//! - [`patient`]: patients and the practitioners each may book.
//! - [`session`]: server-side sessions, keyed by the hash of their id.
//! - [`portal_access`]: patients' portal accounts, invitation and reset links.
//! - [`reminder`]: reminders before appointments, their confirm and cancel links, and
//!   the no-show policy.
//! - [`portal_signup`]: public sign-ups, waiting until their address is proven.
//! - [`portal_email_change`]: a patient's own change of address, waiting until the new
//!   address is proven.
//! - [`portal`]: what the patient portal reads (services, practitioners, appointments).
//! - [`outbox`]: the email outbox the background sender delivers.
//! - [`webhook_event`]: the webhook events, queued by [`audit::record`] in the change's
//!   transaction; [`webhook`]: the endpoints admins register and the deliveries'
//!   outbox the webhook sender claims, in order per appointment.
//! - [`email_template`]: an organisation's own subjects and intro paragraphs of the
//!   emails patients receive.
//! - [`secrets`]: secrets shared by every server instance.
//! - [`statement_log`]: the SQL texts run on PostgreSQL, recorded for the test that
//!   checks each routes to one organisation.
//!
//! Writes take a [`Tx`] and the caller commits, except the booking operations, which
//! own their transaction because its locking is the point.
//!
//! # Ids, instants and dates
//!
//! A row's `id` is its *row id*, the table's primary key: what the functions here take
//! and return and what pages and the API carry, meaningful only with the organisation
//! (`org`) it belongs to.
//! A row's `key` is its *scenario key*, the `id` of the scenario format: unique in the
//! organisation, taken from the document on import or derived from the name ([`keys`]),
//! and what export and `openslot slots --org` name the row by.
//! The engine sees neither row ids nor organisations: [`window::EngineInput`] maps row
//! ids to its model indices and back.
//! Every `*_ns` value is an instant in nanoseconds since the Unix epoch, and every
//! date is a calendar date in a clinic's zone, stored as `YYYY-MM-DD`.

pub mod api_key;
pub mod appointment;
mod appointment_status;
pub mod audit;
pub mod availability;
pub mod book;
pub mod bulk;
pub mod calendar_feed;
pub mod clinic;
pub mod db;
pub mod email;
pub mod email_template;
pub mod error;
pub mod keys;
pub mod organisation;
pub mod organisation_logo;
pub mod outbox;
pub mod patient;
pub mod place;
pub mod placement;
pub mod portal;
pub mod portal_access;
pub mod portal_email_change;
pub mod portal_signup;
pub mod practitioner;
pub mod practitioner_type;
pub mod reminder;
pub mod resource;
mod scenario_rows;
pub mod schedule_type;
pub mod secrets;
pub mod service;
pub mod session;
pub mod setup_cache;
pub mod setup_check;
pub mod staff;
pub mod statement_log;
pub mod time;
pub mod transfer;
pub mod waitlist;
pub mod webhook;
pub mod webhook_event;
pub mod window;

pub use appointment_status::{AppointmentStatus, Channel};
pub use db::{Backend, Conn, DEFAULT_DATABASE_URL, Db, Exec, Tx};
pub use error::{Conflict, Error, Problems, Result};
pub use organisation::Organisation;
pub use time::{Clock, FixedClock, SystemClock};
