//! The store's contract: one suite, run against SQLite (always) and PostgreSQL
//! (`OPENSLOT_TEST_POSTGRES_URL`; each test creates its own database).
//!
//! Each `async fn` test below takes a fresh [`TestDb`]; `both!` turns it into a
//! `sqlite::name` test and a `postgres::name` test (ignored unless run with
//! `--include-ignored`, and then failing loudly if PostgreSQL is not configured).

mod support;

mod accounts;
mod audit;
mod booking;
mod buffers;
mod changes;
mod concurrency;
mod consistency;
mod outbox;
mod record_splits;
mod reminders;
mod rooms;
mod rooms_setup;
mod series;
mod setup_etags;
mod sharding;
mod tenancy;
mod transfer;

pub(crate) use support::*;
