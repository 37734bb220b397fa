//! Clinics (locations) and their holidays.

use serde::Serialize;
use slot_engine::{Date, Zone};

use crate::db::{Exec, Tx, execute, rows};
use crate::error::{Error, Problems, Result};
use crate::keys::{self, Kind};

/// A place where practitioners see patients, with the zone its local times are read in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Clinic {
    pub id: i64,
    /// Scenario key; derived from the name when an admin creates the clinic, and kept
    /// when it is renamed.
    pub key: String,
    pub name: String,
    /// IANA zone name such as `America/Toronto`, checked when saved: the clinic's dates,
    /// holidays and wall-clock times are all read in it.
    pub timezone: String,
    /// The street address patients are told and calendars show; empty when not given.
    pub address: String,
    /// The clinic's phone number as people dial it; empty when not given.
    pub phone: String,
}

impl Clinic {
    /// The clinic's zone (stored names are valid).
    pub fn zone(&self) -> chrono_tz::Tz {
        self.timezone
            .parse::<Zone>()
            .map(Zone::tz)
            .unwrap_or(chrono_tz::UTC)
    }
}

/// The date `at` reads as in the clinic where it is earliest: "today" for a question
/// that spans clinics, so that no clinic's local day is cut off (at 17:00 in Vancouver
/// it is already tomorrow in UTC and in Toronto, and Vancouver's evening would be lost).
/// With no clinic, the UTC date.
pub fn earliest_local_date(clinics: &[Clinic], at: slot_engine::Instant) -> chrono::NaiveDate {
    local_dates(clinics, at)
        .min()
        .unwrap_or_else(|| at.to_utc().date_naive())
}

/// The date `at` reads as in each clinic.
fn local_dates(
    clinics: &[Clinic],
    at: slot_engine::Instant,
) -> impl Iterator<Item = chrono::NaiveDate> + '_ {
    let utc = at.to_utc();
    clinics
        .iter()
        .map(move |c| utc.with_timezone(&c.zone()).date_naive())
}

/// The date `at` reads as in the clinic where it is latest: the last date that the
/// booking window (rule 12, counted from each clinic's own today) reaches in some
/// clinic is this plus the window's days. With no clinic, the UTC date.
pub fn latest_local_date(clinics: &[Clinic], at: slot_engine::Instant) -> chrono::NaiveDate {
    local_dates(clinics, at)
        .max()
        .unwrap_or_else(|| at.to_utc().date_naive())
}

/// What an admin enters for a clinic.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
pub struct ClinicInput {
    /// Required, at most 100 characters once trimmed.
    pub name: String,
    /// IANA timezone, e.g. `America/Toronto`.
    pub timezone: String,
    /// Street address, possibly on several lines; at most 300 characters. Blank: none.
    #[serde(default)]
    pub address: String,
    /// Phone number: digits, spaces and `+ ( ) - .`, at most 40 characters. Blank: none.
    #[serde(default)]
    pub phone: String,
}

const COLUMNS: &str = "id, key, name, timezone, address, phone";

/// A clinic's fields as saved: trimmed, the zone by its canonical name, the address
/// with its lines trimmed and blank lines dropped.
struct Checked {
    name: String,
    timezone: String,
    address: String,
    phone: String,
}

/// Checks every field, reporting all their problems at once.
fn check(input: &ClinicInput) -> Result<Checked> {
    let mut problems = Problems::new();
    let name = input.name.trim();
    if name.is_empty() || name.len() > 100 {
        problems.add("name", "Enter a name (at most 100 characters).");
    }
    let zone = input.timezone.trim().parse::<Zone>();
    if zone.is_err() {
        problems.add(
            "timezone",
            "Choose the time zone from the list, e.g. America/Toronto.",
        );
    }
    let address = input
        .address
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    if address.chars().count() > 300 {
        problems.add("address", "Shorten the address to at most 300 characters.");
    }
    let phone = input.phone.trim();
    if phone.chars().count() > 40
        || !phone
            .chars()
            .all(|c| c.is_ascii_digit() || " +()-.".contains(c))
        || (!phone.is_empty() && !phone.chars().any(|c| c.is_ascii_digit()))
    {
        problems.add(
            "phone",
            "Enter the phone number in digits, spaces and + ( ) - . (at most 40 characters).",
        );
    }
    problems.finish()?;
    let timezone = zone.map(|z| z.name().to_owned()).unwrap_or_default();
    Ok(Checked {
        name: name.to_owned(),
        timezone,
        address,
        phone: phone.to_owned(),
    })
}

/// Every clinic, by name.
pub async fn all(exec: Exec<'_>, org: i64) -> Result<Vec<Clinic>> {
    let sql = format!("SELECT {COLUMNS} FROM clinics WHERE org_id = $1 ORDER BY name, id");
    Ok(rows!(exec, fetch_all, Clinic, &sql, org)?)
}

/// The organisation's clinic `id`, or [`Error::NotFound`] (also for another
/// organisation's clinic).
pub async fn get(exec: Exec<'_>, org: i64, id: i64) -> Result<Clinic> {
    let sql = format!("SELECT {COLUMNS} FROM clinics WHERE org_id = $1 AND id = $2");
    rows!(exec, fetch_optional, Clinic, &sql, org, id)?.ok_or(Error::NotFound("clinic"))
}

/// Creates a clinic under a new key derived from its name.
pub async fn create(tx: &mut Tx, org: i64, input: &ClinicInput) -> Result<Clinic> {
    let c = check(input)?;
    let key = keys::unique(tx.exec(), Kind::Clinic, org, &c.name).await?;
    let sql = format!(
        "INSERT INTO clinics (org_id, key, name, timezone, address, phone) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
    );
    Ok(rows!(
        tx.exec(),
        fetch_one,
        Clinic,
        &sql,
        org,
        &key,
        &c.name,
        &c.timezone,
        &c.address,
        &c.phone
    )?)
}

/// Renames a clinic, changes its zone, address or phone; its key stays.
pub async fn update(tx: &mut Tx, org: i64, id: i64, input: &ClinicInput) -> Result<Clinic> {
    let c = check(input)?;
    let sql = format!(
        "UPDATE clinics SET name = $3, timezone = $4, address = $5, phone = $6 \
         WHERE org_id = $1 AND id = $2 RETURNING {COLUMNS}"
    );
    rows!(
        tx.exec(),
        fetch_optional,
        Clinic,
        &sql,
        org,
        id,
        &c.name,
        &c.timezone,
        &c.address,
        &c.phone
    )?
    .ok_or(Error::NotFound("clinic"))
}

/// Deletes a clinic that nothing refers to.
pub async fn delete(tx: &mut Tx, org: i64, id: i64) -> Result<()> {
    get(tx.exec(), org, id).await?;
    execute!(
        tx.exec(),
        "DELETE FROM clinic_holidays WHERE org_id = $1 AND clinic_id = $2",
        org,
        id
    )?;
    match execute!(
        tx.exec(),
        "DELETE FROM clinics WHERE org_id = $1 AND id = $2",
        org,
        id
    ) {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => Err(Error::invalid(
            "clinic",
            "is still used by practitioners, schedule types, availability records or appointments",
        )),
        Err(e) => Err(e.into()),
    }
}

/// A clinic's holidays, in date order.
pub async fn holidays(exec: Exec<'_>, org: i64, clinic: i64) -> Result<Vec<Date>> {
    let days = rows!(
        exec,
        fetch_all,
        (String,),
        "SELECT day FROM clinic_holidays WHERE org_id = $1 AND clinic_id = $2 ORDER BY day",
        org,
        clinic
    )?;
    days.into_iter()
        .map(|(d,)| {
            d.parse().map_err(|e: slot_engine::ValueError| {
                Error::invalid("stored holiday", e.to_string())
            })
        })
        .collect()
}

/// Adds a holiday (a date the clinic takes no bookings).
pub async fn add_holiday(tx: &mut Tx, org: i64, clinic: i64, day: &str) -> Result<Date> {
    get(tx.exec(), org, clinic).await?;
    let date: Date = day
        .trim()
        .parse()
        .map_err(|e: slot_engine::ValueError| Error::invalid("date", e.to_string()))?;
    execute!(
        tx.exec(),
        "INSERT INTO clinic_holidays (org_id, clinic_id, day) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        org,
        clinic,
        date.to_string()
    )?;
    Ok(date)
}

/// Removes a holiday; a date that is not one is no error.
pub async fn remove_holiday(tx: &mut Tx, org: i64, clinic: i64, day: &str) -> Result<()> {
    get(tx.exec(), org, clinic).await?;
    execute!(
        tx.exec(),
        "DELETE FROM clinic_holidays WHERE org_id = $1 AND clinic_id = $2 AND day = $3",
        org,
        clinic,
        day.trim()
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clinic(timezone: &str) -> Clinic {
        Clinic {
            id: 1,
            key: timezone.to_owned(),
            name: timezone.to_owned(),
            timezone: timezone.to_owned(),
            address: String::new(),
            phone: String::new(),
        }
    }

    fn input(address: &str, phone: &str) -> ClinicInput {
        ClinicInput {
            name: "Kitsilano".into(),
            timezone: " America/Vancouver ".into(),
            address: address.into(),
            phone: phone.into(),
        }
    }

    #[test]
    fn addresses_are_kept_by_trimmed_lines_and_phones_checked() {
        let c = check(&input(
            "  2400 W 4th Ave \n\n  Vancouver BC  ",
            " +1 (604) 555-0199 ",
        ))
        .unwrap();
        assert_eq!(c.address, "2400 W 4th Ave\nVancouver BC");
        assert_eq!(c.phone, "+1 (604) 555-0199");
        assert_eq!(c.timezone, "America/Vancouver");
        assert_eq!(check(&input("", "")).unwrap().phone, "");
        for bad in ["call us", "+-()", &"1".repeat(41)] {
            let err = check(&input("", bad)).err().unwrap();
            assert_eq!(err.field(), Some("phone"), "{bad:?}");
        }
        let err = check(&input(&"x".repeat(301), "")).err().unwrap();
        assert_eq!(err.field(), Some("address"));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let bad = ClinicInput {
            name: " ".into(),
            timezone: "Mars/Olympus".into(),
            address: String::new(),
            phone: "call us".into(),
        };
        match check(&bad).err().unwrap() {
            Error::InvalidFields(all) => assert_eq!(
                all,
                vec![
                    ("name".into(), "Enter a name (at most 100 characters).".into()),
                    (
                        "timezone".into(),
                        "Choose the time zone from the list, e.g. America/Toronto.".into()
                    ),
                    (
                        "phone".into(),
                        "Enter the phone number in digits, spaces and + ( ) - . (at most 40 characters).".into()
                    ),
                ]
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn today_is_the_earliest_local_date_over_the_clinics() {
        // 02:10 UTC on Tuesday 3 March: still Monday 18:10 in Vancouver.
        let at: slot_engine::Instant = "2026-03-03T02:10:00Z".parse().unwrap();
        let monday = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let tuesday = chrono::NaiveDate::from_ymd_opt(2026, 3, 3).unwrap();
        let berlin = clinic("Europe/Berlin");
        let vancouver = clinic("America/Vancouver");
        assert_eq!(
            earliest_local_date(std::slice::from_ref(&berlin), at),
            tuesday
        );
        assert_eq!(
            earliest_local_date(&[berlin.clone(), vancouver.clone()], at),
            monday
        );
        assert_eq!(
            earliest_local_date(&[vancouver, berlin], at),
            monday,
            "in any order"
        );
        assert_eq!(earliest_local_date(&[], at), tuesday, "no clinic: UTC");
    }
}
