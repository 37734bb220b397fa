//! Integration tests of the `openslot` binary and of the server over HTTP.

mod support;

mod auth;
mod availability;
mod captcha;
mod cli;
mod clinics;
mod mail;
mod portal;
