//! Integration tests of the `openslot` binary and of the server over HTTP.

mod support;

mod auth;
mod cli;
mod clinics;
mod practitioners;
mod schedule_types;
mod services;
mod settings;
mod staff_users;
