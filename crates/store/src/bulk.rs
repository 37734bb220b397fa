//! Bulk loading of many organisations into PostgreSQL (`openslot gen-orgs`): each
//! scenario's rows are laid out in COPY's text format with ids allocated here, in
//! blocks past the largest id of each table, and each batch goes in as one COPY per
//! table in one transaction. The identity sequences are moved past the loaded ids at
//! the end, and the tables analysed, so the server that runs on the database next
//! numbers its own rows after them and plans its queries on their real sizes.
//!
//! It writes the same rows as [`crate::transfer::import`] (clinics and holidays, types,
//! practitioners with their records, blocks, overlays and time off, services,
//! patients, appointments), plus a portal account for every patient. It is for loading
//! generated data into a database nobody else writes meanwhile: the ids are allocated
//! in this process, not by the sequences. As a superuser it switches off the setup
//! etag's and the foreign keys' triggers for its own transactions
//! (`session_replication_role = replica`), as `pg_restore` does: the rows are
//! consistent by construction, and each organisation's setup etag is written once.

use std::collections::HashMap;
use std::fmt::Write as _;

use slot_engine::Model;
use slot_engine::scenario::{Scenario, Text};

use crate::appointment_status::{AppointmentStatus, Channel};
use crate::db::{Db, Exec, Tx, scalar};
use crate::error::{Error, Result};
use crate::scenario_rows::mask_of;

/// A value in COPY's text format.
trait CopyValue {
    fn write(&self, out: &mut String);
}

impl CopyValue for i64 {
    fn write(&self, out: &mut String) {
        let _ = write!(out, "{self}");
    }
}

impl CopyValue for bool {
    fn write(&self, out: &mut String) {
        out.push(if *self { 't' } else { 'f' });
    }
}

impl CopyValue for &str {
    fn write(&self, out: &mut String) {
        for c in self.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                c => out.push(c),
            }
        }
    }
}

impl CopyValue for String {
    fn write(&self, out: &mut String) {
        self.as_str().write(out);
    }
}

impl<T: CopyValue> CopyValue for Option<T> {
    fn write(&self, out: &mut String) {
        match self {
            Some(v) => v.write(out),
            None => out.push_str("\\N"),
        }
    }
}

/// One table's rows waiting for COPY.
#[derive(Debug)]
struct Rows {
    table: &'static str,
    columns: &'static str,
    /// Whether the table has an identity `id` whose sequence must move past the load.
    identity: bool,
    data: String,
    count: u64,
}

impl Rows {
    fn new(table: &'static str, columns: &'static str, identity: bool) -> Rows {
        Rows {
            table,
            columns,
            identity,
            data: String::new(),
            count: 0,
        }
    }

    fn row(&mut self, fields: &[&dyn CopyValue]) {
        for (n, f) in fields.iter().enumerate() {
            if n > 0 {
                self.data.push('\t');
            }
            f.write(&mut self.data);
        }
        self.data.push('\n');
        self.count += 1;
    }
}

// The tables in the order their foreign keys need, each with its columns.
const ORGANISATIONS: usize = 0;
const SETUP_ETAGS: usize = 1;
const CLINICS: usize = 2;
const CLINIC_HOLIDAYS: usize = 3;
const PRACTITIONER_TYPES: usize = 4;
const SCHEDULE_TYPES: usize = 5;
const PRACTITIONERS: usize = 6;
const PRACTITIONER_SCHEDULE_TYPES: usize = 7;
const AVAILABILITY_RECORDS: usize = 8;
const AVAILABILITY_BLOCKS: usize = 9;
const PORTAL_BLOCKS: usize = 10;
const TIME_OFF: usize = 11;
const SERVICES: usize = 12;
const SERVICE_SCHEDULE_TYPES: usize = 13;
const PATIENTS: usize = 14;
const PATIENT_PRACTITIONERS: usize = 15;
const PORTAL_ACCOUNTS: usize = 16;
const APPOINTMENTS: usize = 17;

fn tables() -> Vec<Rows> {
    vec![
        Rows::new(
            "organisations",
            "id, slug, name, resolution_minutes, slot_step_minutes, min_notice_minutes, \
             max_days_ahead, max_appointment_ns, created_at_ns",
            true,
        ),
        Rows::new("setup_etags", "org_id, etag", false),
        Rows::new("clinics", "id, org_id, key, name, timezone", true),
        Rows::new("clinic_holidays", "org_id, clinic_id, day", false),
        Rows::new("practitioner_types", "id, org_id, key, name", true),
        Rows::new(
            "schedule_types",
            "id, org_id, key, code, name, clinic_id, default_duration_minutes, allow_conflicts, \
             telehealth, background_color, font_color",
            true,
        ),
        Rows::new(
            "practitioners",
            "id, org_id, key, name, type_id, home_clinic_id, email, active, bookable_in_portal",
            true,
        ),
        Rows::new(
            "practitioner_schedule_types",
            "org_id, practitioner_id, schedule_type_id",
            false,
        ),
        Rows::new(
            "availability_records",
            "id, org_id, practitioner_id, start_date, end_date, clinic_id, slot_step_minutes, \
             portal_customised",
            true,
        ),
        Rows::new(
            "availability_blocks",
            "id, org_id, record_id, position, days, start_minute, end_minute, schedule_type_id",
            true,
        ),
        Rows::new(
            "portal_blocks",
            "id, org_id, record_id, position, days, start_minute, end_minute",
            true,
        ),
        Rows::new(
            "time_off",
            "id, org_id, practitioner_id, start_ns, end_ns",
            true,
        ),
        Rows::new(
            "services",
            "id, org_id, key, code, name, description, duration_minutes, book_from_portal, \
             portal_conflicts, practitioner_type_id, buffer_before_minutes, buffer_after_minutes, \
             allow_series",
            true,
        ),
        Rows::new(
            "service_schedule_types",
            "org_id, service_id, schedule_type_id",
            false,
        ),
        Rows::new(
            "patients",
            "id, org_id, key, first_name, last_name, email, practitioners_restricted",
            true,
        ),
        Rows::new(
            "patient_practitioners",
            "org_id, patient_id, practitioner_id",
            false,
        ),
        Rows::new(
            "portal_accounts",
            "id, org_id, patient_id, username, password_hash, created_at_ns, confirmed_at_ns",
            true,
        ),
        Rows::new(
            "appointments",
            "id, org_id, key, practitioner_id, patient_id, service_id, schedule_type_id, clinic_id, \
             start_ns, end_ns, status, channel, created_by, created_at_ns, updated_by, \
             updated_at_ns, buffer_before_minutes, buffer_after_minutes",
            true,
        ),
    ]
}

/// What one loaded organisation got: the ids a load generator needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loaded {
    /// The organisation's row id.
    pub org_id: i64,
    /// Its services patients can book online.
    pub portal_services: Vec<i64>,
    /// Its practitioners patients can book online.
    pub portal_practitioners: Vec<i64>,
    /// Each patient's row id and portal account id, in the scenario's order.
    pub patients: Vec<(i64, i64)>,
}

/// Marks the load's statements, which span organisations, for the statement check
/// (`crates/store/tests/statements`).
const FLEET: &str = "/* fleet: the bulk load of generated organisations (openslot gen-orgs) */";

/// Rows laid out for COPY, flushed in batches.
#[derive(Debug)]
pub struct BulkLoad {
    tables: Vec<Rows>,
    /// The next id of each table (by the indices above).
    next: Vec<i64>,
    /// Each identity table's sequence (by the same indices; empty for the others).
    sequences: Vec<String>,
    superuser: bool,
    /// Rows written so far, by every flush.
    written: u64,
}

/// The first of `slugs` an organisation of `db` already has, if any: a load would
/// stop at it part-way, so a caller checks before loading anything.
pub async fn taken_slug(db: &Db, slugs: &[String]) -> Result<Option<String>> {
    let list = serde_json::to_string(slugs).expect("strings serialize");
    let mut conn = db.conn().await?;
    let sql = match db.backend() {
        crate::Backend::Sqlite => {
            "SELECT slug FROM organisations WHERE slug IN (SELECT value FROM json_each($1)) \
             ORDER BY slug LIMIT 1"
        }
        crate::Backend::Postgres => {
            "SELECT slug FROM organisations WHERE slug IN \
             (SELECT jsonb_array_elements_text($1::jsonb)) ORDER BY slug LIMIT 1"
        }
    };
    Ok(crate::db::scalar_optional!(
        conn.exec(),
        String,
        sql,
        &list
    )?)
}

impl BulkLoad {
    /// Starts a load into `db` (PostgreSQL, migrated): ids continue after the largest
    /// of each table and after its sequence, whichever is further. No server may write
    /// to the database during a load (it would take ids from the sequences the load has
    /// not moved yet).
    pub async fn start(db: &Db) -> Result<BulkLoad> {
        if db.backend() != crate::Backend::Postgres {
            return Err(Error::invalid(
                "database-url",
                "bulk loading needs PostgreSQL (postgres://…)",
            ));
        }
        let tables = tables();
        let mut conn = db.conn().await?;
        let mut next = Vec::with_capacity(tables.len());
        let mut sequences = Vec::with_capacity(tables.len());
        for t in &tables {
            if !t.identity {
                next.push(0);
                sequences.push(String::new());
                continue;
            }
            let sequence = scalar!(
                conn.exec(),
                String,
                "SELECT pg_get_serial_sequence($1, 'id')",
                t.table
            )?;
            // `organisations` is global: reading it spans no organisation's rows.
            let mark = if t.table == "organisations" {
                ""
            } else {
                FLEET
            };
            next.push(scalar!(
                conn.exec(),
                i64,
                &format!(
                    "SELECT GREATEST((SELECT COALESCE(MAX(id), 0) FROM {}), \
                     (SELECT last_value FROM {sequence})) + 1 {mark}",
                    t.table
                )
            )?);
            sequences.push(sequence);
        }
        let superuser = scalar!(
            conn.exec(),
            bool,
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        )?;
        Ok(BulkLoad {
            tables,
            next,
            sequences,
            superuser,
            written: 0,
        })
    }

    fn id(&mut self, table: usize) -> i64 {
        let id = self.next[table];
        self.next[table] += 1;
        id
    }

    /// Rows written by the flushes so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Rows laid out and not yet flushed.
    pub fn pending(&self) -> u64 {
        self.tables.iter().map(|t| t.count).sum()
    }

    /// Lays out one organisation: the scenario's setup, patients (each with a portal
    /// account whose password hash is `password_hash`, confirmed) and appointments.
    /// The scenario is validated first (the engine's rules are the format's rules);
    /// resources and series are refused, naming them.
    pub fn add(
        &mut self,
        slug: &str,
        scenario: &Scenario,
        password_hash: &str,
        now_ns: i64,
    ) -> Result<Loaded> {
        if !scenario.resources.is_empty() {
            return Err(Error::invalid(
                "resources",
                "bulk loading does not write rooms or equipment",
            ));
        }
        if scenario.appointments.iter().any(|a| a.series.is_some()) {
            return Err(Error::invalid(
                "appointments",
                "bulk loading does not write series",
            ));
        }
        let model = Model::new(&Scenario {
            query: None,
            ..scenario.clone()
        })?;
        let o = self.id(ORGANISATIONS);
        let s = &scenario.settings;
        let longest = scenario
            .appointments
            .iter()
            .map(|a| a.end.unix_nanos() - a.start.unix_nanos())
            .max()
            .unwrap_or(0);
        self.tables[ORGANISATIONS].row(&[
            &o,
            &slug,
            &slug,
            &i64::from(s.resolution_minutes),
            &i64::from(s.slot_step_minutes),
            &i64::from(s.min_notice_minutes),
            &i64::from(s.max_days_ahead),
            &longest,
            &now_ns,
        ]);
        self.tables[SETUP_ETAGS].row(&[&o, &crate::organisation::new_setup_etag()?]);

        let mut clinic_ids: HashMap<&str, i64> = HashMap::new();
        for c in &scenario.clinics {
            let id = self.id(CLINICS);
            self.tables[CLINICS].row(&[
                &id,
                &o,
                &c.id.as_str(),
                &c.name.as_ref().unwrap_or(&c.id).as_str(),
                &c.timezone.name(),
            ]);
            clinic_ids.insert(c.id.as_str(), id);
            let mut days = c.holidays.clone();
            days.sort();
            days.dedup();
            for day in days {
                self.tables[CLINIC_HOLIDAYS].row(&[&o, &id, &day.to_string()]);
            }
        }
        let mut type_labels: Vec<&str> = scenario
            .practitioners
            .iter()
            .map(|p| p.kind.as_str())
            .chain(
                scenario
                    .services
                    .iter()
                    .filter_map(|s| s.practitioner_type.as_ref().map(Text::as_str)),
            )
            .collect();
        type_labels.sort_unstable();
        type_labels.dedup();
        let mut kind_ids: HashMap<&str, i64> = HashMap::new();
        for label in type_labels {
            let id = self.id(PRACTITIONER_TYPES);
            self.tables[PRACTITIONER_TYPES].row(&[
                &id,
                &o,
                &label,
                &crate::keys::title_from_key(label),
            ]);
            kind_ids.insert(label, id);
        }
        let mut type_ids: HashMap<&str, i64> = HashMap::new();
        for t in &scenario.schedule_types {
            let id = self.id(SCHEDULE_TYPES);
            self.tables[SCHEDULE_TYPES].row(&[
                &id,
                &o,
                &t.id.as_str(),
                &t.code.as_ref().map(Text::as_str),
                &t.name.as_ref().unwrap_or(&t.id).as_str(),
                &t.clinic.as_ref().map(|c| clinic_ids[c.as_str()]),
                &i64::from(t.default_duration_minutes),
                &t.allow_conflicts,
                &t.telehealth,
                &t.background_color.to_string(),
                &t.font_color.to_string(),
            ]);
            type_ids.insert(t.id.as_str(), id);
        }
        let mut practitioner_ids: HashMap<&str, i64> = HashMap::new();
        let mut portal_practitioners = Vec::new();
        for p in &scenario.practitioners {
            let id = self.id(PRACTITIONERS);
            self.tables[PRACTITIONERS].row(&[
                &id,
                &o,
                &p.id.as_str(),
                &p.name.as_ref().unwrap_or(&p.id).as_str(),
                &kind_ids[p.kind.as_str()],
                &clinic_ids[p.home_clinic.as_str()],
                &p.email.as_ref().map(Text::as_str),
                &p.active,
                &p.bookable_in_portal,
            ]);
            practitioner_ids.insert(p.id.as_str(), id);
            if p.active && p.bookable_in_portal {
                portal_practitioners.push(id);
            }
            let mut assigned: Vec<&str> = p.schedule_types.iter().map(Text::as_str).collect();
            assigned.sort_unstable();
            assigned.dedup();
            for t in assigned {
                self.tables[PRACTITIONER_SCHEDULE_TYPES].row(&[&o, &id, &type_ids[t]]);
            }
            for r in &p.availability {
                let record = self.id(AVAILABILITY_RECORDS);
                self.tables[AVAILABILITY_RECORDS].row(&[
                    &record,
                    &o,
                    &id,
                    &r.start_date.to_string(),
                    &r.end_date.map(|d| d.to_string()),
                    &r.clinic.as_ref().map(|c| clinic_ids[c.as_str()]),
                    &r.slot_step_minutes.map(i64::from),
                    &r.portal_blocks.is_some(),
                ]);
                for (n, b) in r.blocks.iter().enumerate() {
                    let block = self.id(AVAILABILITY_BLOCKS);
                    self.tables[AVAILABILITY_BLOCKS].row(&[
                        &block,
                        &o,
                        &record,
                        &(n as i64),
                        &mask_of(&b.days),
                        &i64::from(b.start.minutes()),
                        &i64::from(b.end.minutes()),
                        &type_ids[b.schedule_type.as_str()],
                    ]);
                }
                for (n, b) in r.portal_blocks.iter().flatten().enumerate() {
                    let block = self.id(PORTAL_BLOCKS);
                    self.tables[PORTAL_BLOCKS].row(&[
                        &block,
                        &o,
                        &record,
                        &(n as i64),
                        &mask_of(&b.days),
                        &i64::from(b.start.minutes()),
                        &i64::from(b.end.minutes()),
                    ]);
                }
            }
            for t in &p.time_off {
                let off = self.id(TIME_OFF);
                self.tables[TIME_OFF].row(&[
                    &off,
                    &o,
                    &id,
                    &t.start.unix_nanos(),
                    &t.end.unix_nanos(),
                ]);
            }
        }
        let mut service_ids: HashMap<&str, i64> = HashMap::new();
        let mut portal_services = Vec::new();
        for s in &scenario.services {
            let id = self.id(SERVICES);
            self.tables[SERVICES].row(&[
                &id,
                &o,
                &s.id.as_str(),
                &s.code.as_ref().map(Text::as_str),
                &s.name.as_ref().unwrap_or(&s.id).as_str(),
                &s.description.as_ref().map(Text::as_str),
                &i64::from(s.duration_minutes),
                &s.book_from_portal,
                &i64::from(s.portal_conflicts),
                &s.practitioner_type.as_ref().map(|k| kind_ids[k.as_str()]),
                &i64::from(s.buffer_before_minutes),
                &i64::from(s.buffer_after_minutes),
                &s.allow_series,
            ]);
            service_ids.insert(s.id.as_str(), id);
            if s.book_from_portal {
                portal_services.push(id);
            }
            let mut types: Vec<&str> = s.schedule_types.iter().map(Text::as_str).collect();
            types.sort_unstable();
            types.dedup();
            for t in types {
                self.tables[SERVICE_SCHEDULE_TYPES].row(&[&o, &id, &type_ids[t]]);
            }
        }
        let mut patient_ids: HashMap<&str, i64> = HashMap::new();
        let mut patients = Vec::with_capacity(scenario.patients.len());
        for p in &scenario.patients {
            let id = self.id(PATIENTS);
            self.tables[PATIENTS].row(&[
                &id,
                &o,
                &p.id.as_str(),
                &p.first_name.as_str(),
                &p.last_name.as_str(),
                &p.email.as_str(),
                &p.available_practitioners.is_some(),
            ]);
            patient_ids.insert(p.id.as_str(), id);
            let mut list: Vec<&str> = p
                .available_practitioners
                .iter()
                .flatten()
                .map(Text::as_str)
                .collect();
            list.sort_unstable();
            list.dedup();
            for practitioner in list {
                self.tables[PATIENT_PRACTITIONERS].row(&[&o, &id, &practitioner_ids[practitioner]]);
            }
            let account = self.id(PORTAL_ACCOUNTS);
            self.tables[PORTAL_ACCOUNTS].row(&[
                &account,
                &o,
                &id,
                &p.email.as_str(),
                &password_hash,
                &now_ns,
                &now_ns,
            ]);
            patients.push((id, account));
        }
        for a in &scenario.appointments {
            let id = self.id(APPOINTMENTS);
            let status: AppointmentStatus = a.status.into();
            let practitioner = model
                .practitioner_ix(a.practitioner.as_str())
                .expect("a validated scenario's appointment names a practitioner of it");
            let schedule_type = a
                .schedule_type
                .as_ref()
                .and_then(|t| model.schedule_type_ix(t.as_str()));
            let clinic = model.appointment_clinic(practitioner, schedule_type, a.start);
            self.tables[APPOINTMENTS].row(&[
                &id,
                &o,
                &a.id.as_ref().map(Text::as_str),
                &practitioner_ids[a.practitioner.as_str()],
                &a.patient.as_ref().map(|p| patient_ids[p.as_str()]),
                &a.service.as_ref().map(|s| service_ids[s.as_str()]),
                &a.schedule_type.as_ref().map(|t| type_ids[t.as_str()]),
                &clinic_ids[model.clinic(clinic).id.as_str()],
                &a.start.unix_nanos(),
                &a.end.unix_nanos(),
                &status.as_str(),
                &Channel::Import.as_str(),
                &"import",
                &now_ns,
                &"import",
                &now_ns,
                &i64::from(a.buffer_before_minutes),
                &i64::from(a.buffer_after_minutes),
            ]);
        }
        Ok(Loaded {
            org_id: o,
            portal_services,
            portal_practitioners,
            patients,
        })
    }

    /// Writes the rows laid out so far: one COPY per table, in one transaction.
    /// Returns how many rows it wrote.
    pub async fn flush(&mut self, db: &Db) -> Result<u64> {
        // The sequences move past the ids first, outside the transaction's reach (a
        // sequence is never rolled back): whether this batch commits or not, no row
        // made later takes one of its ids.
        {
            let mut conn = db.conn().await?;
            for (n, t) in self.tables.iter().enumerate() {
                if t.identity && t.count > 0 {
                    scalar!(
                        conn.exec(),
                        i64,
                        "SELECT setval($1::regclass, $2)",
                        &self.sequences[n],
                        self.next[n] - 1
                    )?;
                }
            }
        }
        let mut tx = db.begin().await?;
        if self.superuser {
            crate::db::execute!(
                tx.exec(),
                &format!("SET LOCAL session_replication_role = replica {FLEET}")
            )?;
        }
        let mut rows = 0;
        for t in &mut self.tables {
            if t.count == 0 {
                continue;
            }
            copy(&mut tx, t.table, t.columns, t.data.as_bytes()).await?;
            rows += t.count;
            t.data.clear();
            t.count = 0;
        }
        tx.commit().await?;
        self.written += rows;
        Ok(rows)
    }

    /// Flushes what is left, moves every identity sequence past the loaded ids and
    /// analyses the tables. Returns the rows written in all.
    pub async fn finish(mut self, db: &Db) -> Result<u64> {
        self.flush(db).await?;
        let mut conn = db.conn().await?;
        for t in &self.tables {
            crate::db::execute!(conn.exec(), &format!("ANALYZE {} {FLEET}", t.table))?;
        }
        Ok(self.written)
    }
}

/// Rows in COPY's text format into `table`'s `columns`, in chunks of a megabyte.
pub async fn copy(tx: &mut Tx, table: &str, columns: &str, data: &[u8]) -> Result<u64> {
    let Exec::Postgres(conn) = tx.exec() else {
        return Err(Error::invalid(
            "database-url",
            "bulk loading needs PostgreSQL (postgres://…)",
        ));
    };
    let mut sink = conn
        .copy_in_raw(&format!("COPY {table} ({columns}) FROM STDIN"))
        .await?;
    for chunk in data.chunks(1 << 20) {
        sink.send(chunk).await?;
    }
    Ok(sink.finish().await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_what_would_end_a_field_or_row() {
        let mut rows = Rows::new("t", "a, b, c, d", false);
        rows.row(&[&"tab\there\nnew\\line", &None::<i64>, &true, &-7_i64]);
        assert_eq!(rows.data, "tab\\there\\nnew\\\\line\t\\N\tt\t-7\n");
        assert_eq!(rows.count, 1);
    }
}
