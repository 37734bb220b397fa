//! Openslot's server and command line: the only crate that knows HTTP, HTML, cookies
//! and configuration.
//!
//! # A tour, in reading order
//!
//! - [`cli`]: the `openslot` command line; [`commands`] has one module per command.
//! - [`config`], [`state`]: how the server is configured, and what handlers share.
//! - [`app`]: the router, its middleware (sessions, CSRF, security headers, limits,
//!   tracing, metrics), and [`app::serve`]; [`clinic_host`]: organisations' own host
//!   names, served without `/o/{slug}`.
//! - [`error`]: [`error::AppError`] (JSON) and [`error::PageError`] (HTML).
//! - [`auth`]: passwords (Argon2id), database-backed sessions, CSRF tokens, and the
//!   extractors for the signed-in staff user.
//! - [`routes`]: one module per resource, each with its pages and its API.
//! - [`fhir`]: FHIR R4 scheduling under `/o/{slug}/fhir/` (API keys), with SMART
//!   Scheduling Links' `$bulk-publish`.
//! - [`pages`], [`form`]: page layout and form handling shared by the routes;
//!   `schedule_type_css`: the schedule types' colours as one stylesheet.
//! - [`changes`]: setup changes, checked against the scenario rules and audited;
//!   [`audit_text`]: the audit log in words (the audit page, an appointment's history).
//! - [`captcha`]: the proof-of-work CAPTCHA of the portal sign-up.
//! - [`mail`]: the background sender of the email outbox, over SMTP or into a
//!   mailbox folder; [`ics`]: the calendar invitations emails carry.
//! - [`reminders`]: the reminder scheduler, beside the sender: it queues the reminders
//!   that have come due, once each whichever server gets there first.
//! - [`webhooks`]: the Standard Webhooks signature, the address policy, and the
//!   background sender of the webhook deliveries' outbox.
//! - [`limits`]: rate limits on sign-in, sign-up and forgot-password.
//! - [`metrics`]: what `/metrics` shows (latency by route, pools, outboxes, setup cache, bookings).
//! - [`notices`]: the emails patients receive; [`flash`]: the "Saved." notice shown
//!   once on the page after a change.
//! - [`demo`]: the demo organisation of `openslot serve --demo`.

#![warn(unreachable_pub)]
// Only what the binary, the tests and the examples use is public; the tour above links
// the rest too, for `cargo doc -p openslot-web --document-private-items`.
#![allow(rustdoc::private_intra_doc_links)]

pub mod app;
pub(crate) mod appointment_dto;
pub(crate) mod audit_text;
pub mod auth;
pub mod captcha;
pub(crate) mod changes;
pub mod cli;
pub(crate) mod clinic_host;
pub(crate) mod clinic_time;
pub(crate) mod commands;
pub mod config;
pub mod demo;
pub(crate) mod error;
pub(crate) mod fhir;
pub(crate) mod flash;
pub(crate) mod form;
pub mod ics;
pub mod limits;
pub mod mail;
pub mod metrics;
pub(crate) mod notices;
pub(crate) mod pages;
pub(crate) mod query;
pub mod reminders;
pub(crate) mod routes;
pub(crate) mod schedule_type_css;
pub(crate) mod series_dto;
pub mod state;
pub mod waitlist;
pub mod webhooks;
