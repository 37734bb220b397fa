//! Products and services: what patients book, how long it lasts, whether it may be
//! booked online, how many patients may share a slot of it online, which practitioner
//! type gives it, in which schedule types, the time kept free around each of its
//! appointments (its buffers) and whether patients may book it as a weekly series.

use serde::Serialize;

use crate::db::{Exec, Tx, execute, rows, scalar};
use crate::error::{Error, Problems, Result, unique_as};
use crate::keys::{self, Kind};
use crate::practitioner_type::count;
use crate::schedule_type::{self, ScheduleType};

/// A service, with the name of the practitioner type it asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Service {
    pub id: i64,
    /// Scenario key, derived from the name when an admin creates the service, and kept
    /// when it is renamed.
    pub key: String,
    /// Optional short code, unique in the organisation.
    pub code: Option<String>,
    pub name: String,
    /// Shown to patients in the portal.
    pub description: Option<String>,
    /// Default length, minutes (staff may change it when booking, patients may not).
    pub duration_minutes: i64,
    /// Whether patients may book it in the portal.
    pub book_from_portal: bool,
    /// How many appointments may share a slot when patients book it online (in a
    /// schedule type that allows conflicts).
    pub portal_conflicts: i64,
    /// The practitioner type that gives it, or `None`: any type.
    pub practitioner_type_id: Option<i64>,
    /// The type's name; `None` with `practitioner_type_id`.
    pub practitioner_type_name: Option<String>,
    /// Minutes kept free before each of its appointments (0 ..= 1440): a new booking
    /// takes them, and keeps them when they change later.
    pub buffer_before_minutes: i64,
    /// Minutes kept free after each of its appointments (0 ..= 1440).
    pub buffer_after_minutes: i64,
    /// Whether patients may book it online as a weekly series.
    pub allow_series: bool,
}

impl Service {
    /// The buffers a new appointment of this service is booked with.
    pub fn buffers(&self) -> slot_engine::Buffers {
        slot_engine::Buffers {
            before_minutes: u32::try_from(self.buffer_before_minutes).unwrap_or(0),
            after_minutes: u32::try_from(self.buffer_after_minutes).unwrap_or(0),
        }
    }
}

/// What an admin enters for a service: the fields of [`Service`] that are not derived,
/// and its schedule types.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct ServiceInput {
    /// Optional short code (blank = none), at most 32 characters.
    pub code: Option<String>,
    /// Required, at most 100 characters once trimmed.
    pub name: String,
    /// Shown in the portal (blank = none), at most 2000 characters.
    pub description: Option<String>,
    /// 1 ..= 1440 minutes.
    pub duration_minutes: i64,
    pub book_from_portal: bool,
    /// 1 ..= 10000; 1 means one patient per slot.
    pub portal_conflicts: i64,
    /// A practitioner type of the organisation, or `None` for any.
    pub practitioner_type_id: Option<i64>,
    /// The schedule types it applies to (schedule types of the organisation).
    pub schedule_type_ids: Vec<i64>,
    /// 0 ..= 1440 minutes kept free before each appointment.
    pub buffer_before_minutes: i64,
    /// 0 ..= 1440 minutes kept free after each appointment.
    pub buffer_after_minutes: i64,
    /// Whether patients may book it online as a weekly series.
    pub allow_series: bool,
}

impl Default for ServiceInput {
    /// The scenario format's defaults: not online, one patient per slot, no buffers,
    /// no series online.
    fn default() -> Self {
        ServiceInput {
            code: None,
            name: String::new(),
            description: None,
            duration_minutes: 30,
            book_from_portal: false,
            portal_conflicts: 1,
            practitioner_type_id: None,
            schedule_type_ids: Vec::new(),
            buffer_before_minutes: 0,
            buffer_after_minutes: 0,
            allow_series: false,
        }
    }
}

/// The columns of [`Service`] over `services s` with its practitioner type `t`.
const SELECT: &str = "SELECT s.id, s.key, s.code, s.name, s.description, s.duration_minutes, \
    s.book_from_portal, s.portal_conflicts, s.practitioner_type_id, t.name AS practitioner_type_name, \
    s.buffer_before_minutes, s.buffer_after_minutes, s.allow_series \
    FROM services s LEFT JOIN practitioner_types t ON t.org_id = s.org_id AND t.id = s.practitioner_type_id";

/// A checked [`ServiceInput`]'s text fields, trimmed, blanks as `None`.
#[derive(Debug, PartialEq, Eq)]
struct Checked {
    code: Option<String>,
    name: String,
    description: Option<String>,
    schedule_type_ids: Vec<i64>,
}

fn blank_as_none(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// Checks an input without saving it, reporting every field's problem at once
/// ([`Error::InvalidFields`] when there are several).
pub fn validate(input: &ServiceInput) -> Result<()> {
    check(input).map(|_| ())
}

fn check(input: &ServiceInput) -> Result<Checked> {
    let mut problems = Problems::new();
    let code = blank_as_none(input.code.as_deref());
    if code.as_deref().is_some_and(|c| c.chars().count() > 32) {
        problems.add("code", "Enter a code of at most 32 characters, or none.");
    }
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        problems.add("name", "Enter a name (at most 100 characters).");
    }
    let description = blank_as_none(input.description.as_deref());
    if description
        .as_deref()
        .is_some_and(|d| d.chars().count() > 2000)
    {
        problems.add(
            "description",
            "Shorten the description to at most 2000 characters.",
        );
    }
    if !(1..=1440).contains(&input.duration_minutes) {
        problems.add(
            "duration_minutes",
            "Enter the duration in minutes, from 1 to 1440.",
        );
    }
    if !(1..=10_000).contains(&input.portal_conflicts) {
        problems.add(
            "portal_conflicts",
            "Enter how many portal bookings may overlap, from 1 to 10000.",
        );
    }
    for (field, minutes, side) in [
        (
            "buffer_before_minutes",
            input.buffer_before_minutes,
            "before",
        ),
        ("buffer_after_minutes", input.buffer_after_minutes, "after"),
    ] {
        if !(0..=i64::from(slot_engine::model::MAX_BUFFER_MINUTES)).contains(&minutes) {
            problems.add(
                field,
                format!("Enter the buffer {side} in minutes, from 0 to 1440."),
            );
        }
    }
    problems.finish()?;
    let mut schedule_type_ids = input.schedule_type_ids.clone();
    schedule_type_ids.sort_unstable();
    schedule_type_ids.dedup();
    Ok(Checked {
        code,
        name: name.to_owned(),
        description,
        schedule_type_ids,
    })
}

async fn check_references(
    tx: &mut Tx,
    org: i64,
    id: i64,
    input: &ServiceInput,
    c: &Checked,
) -> Result<()> {
    if let Some(kind) = input.practitioner_type_id {
        let found = scalar!(
            tx.exec(),
            i64,
            "SELECT COUNT(*) FROM practitioner_types WHERE org_id = $1 AND id = $2",
            org,
            kind
        )?;
        if found == 0 {
            return Err(Error::invalid(
                "practitioner_type_id",
                "Choose one of the organisation's practitioner types, or any type.",
            ));
        }
    }
    if let Some(code) = &c.code {
        let taken = scalar!(
            tx.exec(),
            i64,
            "SELECT COUNT(*) FROM services WHERE org_id = $1 AND code = $2 AND id <> $3",
            org,
            code,
            id
        )?;
        if taken > 0 {
            return Err(Error::invalid(
                "code",
                format!("Another service has the code \"{code}\": choose another code."),
            ));
        }
    }
    Ok(())
}

/// Replaces the schedule types a service applies to.
async fn set_schedule_types(tx: &mut Tx, org: i64, id: i64, ids: &[i64]) -> Result<()> {
    execute!(
        tx.exec(),
        "DELETE FROM service_schedule_types WHERE org_id = $1 AND service_id = $2",
        org,
        id
    )?;
    for &schedule_type in ids {
        // Inserting from a select of the organisation's own schedule types keeps another
        // organisation's ids out.
        let n = execute!(
            tx.exec(),
            "INSERT INTO service_schedule_types (org_id, service_id, schedule_type_id) \
             SELECT $1, $2, id FROM schedule_types WHERE org_id = $1 AND id = $3",
            org,
            id,
            schedule_type
        )?;
        if n == 0 {
            return Err(Error::invalid(
                "schedule_type_ids",
                format!("{schedule_type} is not one of the organisation's schedule types"),
            ));
        }
    }
    Ok(())
}

/// Every service, by name.
pub async fn all(exec: Exec<'_>, org: i64) -> Result<Vec<Service>> {
    let sql = format!("{SELECT} WHERE s.org_id = $1 ORDER BY s.name, s.id");
    Ok(rows!(exec, fetch_all, Service, &sql, org)?)
}

/// The organisation's service `id`, or [`Error::NotFound`] (also for another
/// organisation's).
pub async fn get(exec: Exec<'_>, org: i64, id: i64) -> Result<Service> {
    let sql = format!("{SELECT} WHERE s.org_id = $1 AND s.id = $2");
    rows!(exec, fetch_optional, Service, &sql, org, id)?.ok_or(Error::NotFound("service"))
}

/// The schedule types a service applies to, by name.
pub async fn schedule_types(exec: Exec<'_>, org: i64, id: i64) -> Result<Vec<ScheduleType>> {
    let sql = format!(
        "{} WHERE st.org_id = $1 AND st.id IN \
         (SELECT schedule_type_id FROM service_schedule_types WHERE org_id = $1 AND service_id = $2) \
         ORDER BY st.name, st.id",
        schedule_type::SELECT
    );
    Ok(rows!(exec, fetch_all, ScheduleType, &sql, org, id)?)
}

/// Every (service, schedule type) pair of the organisation, for lists that show each
/// service's schedule types without a query per service.
pub async fn schedule_type_links(exec: Exec<'_>, org: i64) -> Result<Vec<(i64, i64)>> {
    Ok(rows!(
        exec,
        fetch_all,
        (i64, i64),
        "SELECT service_id, schedule_type_id FROM service_schedule_types WHERE org_id = $1 \
         ORDER BY service_id, schedule_type_id",
        org
    )?)
}

/// Creates a service under a new key derived from its name, with its schedule types.
pub async fn create(tx: &mut Tx, org: i64, input: &ServiceInput) -> Result<Service> {
    let c = check(input)?;
    check_references(tx, org, -1, input, &c).await?;
    let key = keys::unique(tx.exec(), Kind::Service, org, &c.name).await?;
    let id = scalar!(
        tx.exec(),
        i64,
        "INSERT INTO services (org_id, key, code, name, description, duration_minutes, \
         book_from_portal, portal_conflicts, practitioner_type_id, buffer_before_minutes, \
         buffer_after_minutes, allow_series) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        org,
        &key,
        c.code.as_deref(),
        &c.name,
        c.description.as_deref(),
        input.duration_minutes,
        input.book_from_portal,
        input.portal_conflicts,
        input.practitioner_type_id,
        input.buffer_before_minutes,
        input.buffer_after_minutes,
        input.allow_series
    )
    .map_err(unique_as("code", "another service has this code"))?;
    set_schedule_types(tx, org, id, &c.schedule_type_ids).await?;
    get(tx.exec(), org, id).await
}

/// Saves a service, with the schedule types it applies to.
pub async fn update(tx: &mut Tx, org: i64, id: i64, input: &ServiceInput) -> Result<Service> {
    get(tx.exec(), org, id).await?;
    let c = check(input)?;
    check_references(tx, org, id, input, &c).await?;
    execute!(
        tx.exec(),
        "UPDATE services SET code = $3, name = $4, description = $5, duration_minutes = $6, \
         book_from_portal = $7, portal_conflicts = $8, practitioner_type_id = $9, \
         buffer_before_minutes = $10, buffer_after_minutes = $11, allow_series = $12 \
         WHERE org_id = $1 AND id = $2",
        org,
        id,
        c.code.as_deref(),
        &c.name,
        c.description.as_deref(),
        input.duration_minutes,
        input.book_from_portal,
        input.portal_conflicts,
        input.practitioner_type_id,
        input.buffer_before_minutes,
        input.buffer_after_minutes,
        input.allow_series
    )
    .map_err(unique_as("code", "another service has this code"))?;
    set_schedule_types(tx, org, id, &c.schedule_type_ids).await?;
    get(tx.exec(), org, id).await
}

/// Deletes a service no appointment names (those keep their history; take the
/// service out of the portal instead).
pub async fn delete(tx: &mut Tx, org: i64, id: i64) -> Result<()> {
    let s = get(tx.exec(), org, id).await?;
    let appointments = scalar!(
        tx.exec(),
        i64,
        "SELECT COUNT(*) FROM appointments WHERE org_id = $1 AND service_id = $2",
        org,
        id
    )?;
    if appointments > 0 {
        return Err(Error::invalid(
            "service",
            format!(
                "{:?} is named by {}: untick \"book from portal\" to take it off the portal instead",
                s.name,
                count(appointments, "appointment")
            ),
        ));
    }
    execute!(
        tx.exec(),
        "DELETE FROM service_schedule_types WHERE org_id = $1 AND service_id = $2",
        org,
        id
    )?;
    // A booking committed after the count above still holds the service: the
    // database refuses the delete, and the answer is the same as the count's.
    match execute!(
        tx.exec(),
        "DELETE FROM services WHERE org_id = $1 AND id = $2",
        org,
        id
    ) {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => Err(Error::invalid(
            "service",
            format!(
                "{:?} is named by an appointment booked meanwhile: untick \"book from portal\" to take it off the portal instead",
                s.name
            ),
        )),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ServiceInput {
        ServiceInput {
            name: "Initial assessment".into(),
            duration_minutes: 45,
            ..ServiceInput::default()
        }
    }

    fn field_of(r: Result<Checked>) -> String {
        match r {
            Err(Error::Invalid { field, .. }) => field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn text_is_trimmed_and_schedule_types_deduplicated() {
        let c = check(&ServiceInput {
            code: Some(" IA ".into()),
            description: Some("   ".into()),
            schedule_type_ids: vec![3, 1, 3],
            ..input()
        })
        .unwrap();
        assert_eq!(c.code.as_deref(), Some("IA"));
        assert_eq!(c.description, None);
        assert_eq!(c.schedule_type_ids, [1, 3]);
    }

    #[test]
    fn ranges_are_those_of_the_scenario_format() {
        for (conflicts, ok) in [(0, false), (1, true), (10_000, true), (10_001, false)] {
            let r = check(&ServiceInput {
                portal_conflicts: conflicts,
                ..input()
            });
            assert_eq!(r.is_ok(), ok, "{conflicts}");
        }
        for minutes in [0, 1441] {
            let bad = ServiceInput {
                duration_minutes: minutes,
                ..input()
            };
            assert_eq!(field_of(check(&bad)), "duration_minutes");
        }
        let bad_name = ServiceInput {
            name: String::new(),
            ..input()
        };
        assert_eq!(field_of(check(&bad_name)), "name");
        let long = ServiceInput {
            description: Some("x".repeat(2001)),
            ..input()
        };
        assert_eq!(field_of(check(&long)), "description");
    }

    #[test]
    fn buffers_are_zero_to_a_day_and_named_by_their_field() {
        for (minutes, ok) in [(-1, false), (0, true), (1440, true), (1441, false)] {
            let before = check(&ServiceInput {
                buffer_before_minutes: minutes,
                ..input()
            });
            assert_eq!(before.is_ok(), ok, "before {minutes}");
            let after = check(&ServiceInput {
                buffer_after_minutes: minutes,
                ..input()
            });
            assert_eq!(after.is_ok(), ok, "after {minutes}");
            if !ok {
                assert_eq!(field_of(before), "buffer_before_minutes");
                assert_eq!(field_of(after), "buffer_after_minutes");
            }
        }
    }
}
