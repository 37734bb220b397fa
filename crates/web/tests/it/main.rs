//! Integration tests of the `openslot` binary and of the server over HTTP.

mod support;

mod account_lifecycle;
mod accounts;
mod audit;
mod auth;
mod availability;
mod body_matrix;
mod book;
mod book_zones;
mod captcha;
mod cli;
mod clinic_hosts;
mod clinics;
mod database;
mod demo;
mod duplicate_email;
mod hostile;
mod mail;
mod own_account;
mod patients;
mod pending;
mod portal;
mod portal_change;
mod practitioners;
mod record_splits;
mod schedule_types;
mod security;
mod services;
mod settings;
mod setup_check;
mod staff_users;
mod storm;
mod telehealth;
mod where_how;
