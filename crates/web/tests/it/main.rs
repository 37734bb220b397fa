//! Integration tests of the `openslot` binary and of the server over HTTP.

mod support;

mod auth;
mod book;
mod cli;
mod clinics;
mod patients;
mod pending;
mod setup_check;
