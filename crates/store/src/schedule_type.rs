//! Schedule types: what a block of a practitioner's time is for, where, how long an
//! appointment without a service lasts, whether appointments may share a time, and
//! the colours the calendars show it in.

use serde::Serialize;
use slot_engine::Color;

use crate::db::{Exec, Tx, execute, rows, scalar};
use crate::error::{Error, Problems, Result, unique_as};
use crate::keys::{self, Kind};
use crate::practitioner_type::count;

/// The lowest contrast ratio between a schedule type's font and background colours
/// that WCAG 2 accepts for normal text (level AA). Lower pairs are allowed, with a
/// warning: the clinic may have reasons, but should know the text is hard to read.
pub const MIN_CONTRAST_RATIO: f64 = slot_engine::Color::MIN_TEXT_CONTRAST;

/// A schedule type (see the module docs), with its clinic's name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ScheduleType {
    pub id: i64,
    /// Scenario key, derived from the name when an admin creates the schedule type, and
    /// kept when it is renamed.
    pub key: String,
    /// Optional short code, unique in the organisation.
    pub code: Option<String>,
    pub name: String,
    /// The one clinic it is for, or `None`: any clinic (the availability record's
    /// clinic, else the practitioner's home clinic).
    pub clinic_id: Option<i64>,
    /// The clinic's name; `None` with `clinic_id`.
    pub clinic_name: Option<String>,
    /// Length of an appointment booked without a service, minutes.
    pub default_duration_minutes: i64,
    /// Whether several appointments may share a time without an override.
    pub allow_conflicts: bool,
    /// Whether telehealth appointments may be booked in it.
    pub telehealth: bool,
    /// The colour calendars fill its blocks and appointments with, `#rrggbb` in lower
    /// case.
    pub background_color: String,
    /// The colour of text on that fill, `#rrggbb` in lower case.
    pub font_color: String,
}

impl ScheduleType {
    /// The WCAG 2 contrast ratio of its font colour on its background colour.
    pub fn contrast_ratio(&self) -> f64 {
        contrast_ratio(&self.background_color, &self.font_color).unwrap_or(1.0)
    }

    /// Whether its colours are below [`MIN_CONTRAST_RATIO`].
    pub fn low_contrast(&self) -> bool {
        self.contrast_ratio() < MIN_CONTRAST_RATIO
    }
}

/// The WCAG 2 contrast ratio of two `#rrggbb` colours (1 ..= 21), or `None` when one
/// of them is not such a colour.
pub fn contrast_ratio(background: &str, font: &str) -> Option<f64> {
    let background: Color = background.trim().parse().ok()?;
    let font: Color = font.trim().parse().ok()?;
    Some(background.contrast_ratio(font))
}

/// What an admin enters for a schedule type: the fields of [`ScheduleType`] that are
/// not derived.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct ScheduleTypeInput {
    /// Optional short code (blank = none), at most 32 characters.
    pub code: Option<String>,
    /// Required, at most 100 characters once trimmed.
    pub name: String,
    /// A clinic of the organisation, or `None` for any clinic.
    pub clinic_id: Option<i64>,
    /// 1 ..= 1440 minutes.
    pub default_duration_minutes: i64,
    pub allow_conflicts: bool,
    pub telehealth: bool,
    /// `#rrggbb`, in either case.
    pub background_color: String,
    /// `#rrggbb`, in either case; a pair below [`MIN_CONTRAST_RATIO`] is still saved.
    pub font_color: String,
}

impl Default for ScheduleTypeInput {
    /// The scenario format's defaults: 30 minutes, black on white.
    fn default() -> Self {
        ScheduleTypeInput {
            code: None,
            name: String::new(),
            clinic_id: None,
            default_duration_minutes: 30,
            allow_conflicts: false,
            telehealth: false,
            background_color: "#ffffff".to_owned(),
            font_color: "#000000".to_owned(),
        }
    }
}

impl From<&ScheduleType> for ScheduleTypeInput {
    fn from(t: &ScheduleType) -> Self {
        ScheduleTypeInput {
            code: t.code.clone(),
            name: t.name.clone(),
            clinic_id: t.clinic_id,
            default_duration_minutes: t.default_duration_minutes,
            allow_conflicts: t.allow_conflicts,
            telehealth: t.telehealth,
            background_color: t.background_color.clone(),
            font_color: t.font_color.clone(),
        }
    }
}

/// A checked [`ScheduleTypeInput`]: trimmed, colours in lower case.
#[derive(Debug)]
struct Checked {
    code: Option<String>,
    name: String,
    background_color: String,
    font_color: String,
}

/// The columns of [`ScheduleType`] over `schedule_types st` joined with its clinic `c`.
pub(crate) const SELECT: &str = "SELECT st.id, st.key, st.code, st.name, st.clinic_id, \
    c.name AS clinic_name, st.default_duration_minutes, st.allow_conflicts, st.telehealth, \
    st.background_color, st.font_color \
    FROM schedule_types st LEFT JOIN clinics c ON c.org_id = st.org_id AND c.id = st.clinic_id";

fn color(field: &str, what: &str, value: &str) -> Result<String> {
    value
        .trim()
        .parse::<Color>()
        .map(|c| c.to_string())
        .map_err(|_| {
            Error::invalid(
                field,
                format!("Choose the {what} colour as #rrggbb, e.g. #1d4ed8."),
            )
        })
}

/// Checks an input without saving it, reporting every field's problem at once
/// ([`Error::InvalidFields`] when there are several): a form whose other fields could
/// not be read asks this to show the rest of its errors too.
pub fn check(input: &ScheduleTypeInput) -> Result<()> {
    checked(input).map(|_| ())
}

fn checked(input: &ScheduleTypeInput) -> Result<Checked> {
    let mut problems = Problems::new();
    let code = input
        .code
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    if code.is_some_and(|c| c.chars().count() > 32) {
        problems.add("code", "Enter a code of at most 32 characters, or none.");
    }
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        problems.add("name", "Enter a name (at most 100 characters).");
    }
    if !(1..=1440).contains(&input.default_duration_minutes) {
        problems.add(
            "default_duration_minutes",
            "Enter the default duration in minutes, from 1 to 1440.",
        );
    }
    let background_color = problems.check(color(
        "background_color",
        "background",
        &input.background_color,
    ));
    let font_color = problems.check(color("font_color", "font", &input.font_color));
    let value = match (background_color, font_color) {
        (Some(background_color), Some(font_color)) => Some(Checked {
            code: code.map(str::to_owned),
            name: name.to_owned(),
            background_color,
            font_color,
        }),
        _ => None,
    };
    problems.done(value)
}

/// Refuses a clinic id that is not one of the organisation's clinics.
pub(crate) async fn check_clinic(exec: Exec<'_>, org: i64, field: &str, clinic: i64) -> Result<()> {
    let found = scalar!(
        exec,
        i64,
        "SELECT COUNT(*) FROM clinics WHERE org_id = $1 AND id = $2",
        org,
        clinic
    )?;
    if found == 0 {
        return Err(Error::invalid(
            field,
            "Choose one of the organisation's clinics.",
        ));
    }
    Ok(())
}

async fn check_code_free(exec: Exec<'_>, org: i64, code: Option<&str>, except: i64) -> Result<()> {
    let Some(code) = code else { return Ok(()) };
    let taken = scalar!(
        exec,
        i64,
        "SELECT COUNT(*) FROM schedule_types WHERE org_id = $1 AND code = $2 AND id <> $3",
        org,
        code,
        except
    )?;
    if taken > 0 {
        return Err(Error::invalid(
            "code",
            format!("Another schedule type has the code \"{code}\": choose another code."),
        ));
    }
    Ok(())
}

/// Every schedule type, by name.
pub async fn all(exec: Exec<'_>, org: i64) -> Result<Vec<ScheduleType>> {
    let sql = format!("{SELECT} WHERE st.org_id = $1 ORDER BY st.name, st.id");
    Ok(rows!(exec, fetch_all, ScheduleType, &sql, org)?)
}

/// The organisation's schedule type `id`, or [`Error::NotFound`] (also for another
/// organisation's).
pub async fn get(exec: Exec<'_>, org: i64, id: i64) -> Result<ScheduleType> {
    let sql = format!("{SELECT} WHERE st.org_id = $1 AND st.id = $2");
    rows!(exec, fetch_optional, ScheduleType, &sql, org, id)?
        .ok_or(Error::NotFound("schedule type"))
}

/// Creates a schedule type under a new key derived from its name.
pub async fn create(tx: &mut Tx, org: i64, input: &ScheduleTypeInput) -> Result<ScheduleType> {
    let c = checked(input)?;
    if let Some(clinic) = input.clinic_id {
        check_clinic(tx.exec(), org, "clinic_id", clinic).await?;
    }
    check_code_free(tx.exec(), org, c.code.as_deref(), -1).await?;
    let key = keys::unique(tx.exec(), Kind::ScheduleType, org, &c.name).await?;
    let id = scalar!(
        tx.exec(),
        i64,
        "INSERT INTO schedule_types (org_id, key, code, name, clinic_id, default_duration_minutes, \
         allow_conflicts, telehealth, background_color, font_color) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        org,
        &key,
        c.code.as_deref(),
        &c.name,
        input.clinic_id,
        input.default_duration_minutes,
        input.allow_conflicts,
        input.telehealth,
        &c.background_color,
        &c.font_color
    )
    .map_err(unique_as(
        "code",
        "Another schedule type has this code: choose another code.",
    ))?;
    get(tx.exec(), org, id).await
}

/// Saves a schedule type's fields; its key stays.
pub async fn update(
    tx: &mut Tx,
    org: i64,
    id: i64,
    input: &ScheduleTypeInput,
) -> Result<ScheduleType> {
    get(tx.exec(), org, id).await?;
    let c = checked(input)?;
    if let Some(clinic) = input.clinic_id {
        check_clinic(tx.exec(), org, "clinic_id", clinic).await?;
    }
    check_code_free(tx.exec(), org, c.code.as_deref(), id).await?;
    execute!(
        tx.exec(),
        "UPDATE schedule_types SET code = $3, name = $4, clinic_id = $5, default_duration_minutes = $6, \
         allow_conflicts = $7, telehealth = $8, background_color = $9, font_color = $10 \
         WHERE org_id = $1 AND id = $2",
        org,
        id,
        c.code.as_deref(),
        &c.name,
        input.clinic_id,
        input.default_duration_minutes,
        input.allow_conflicts,
        input.telehealth,
        &c.background_color,
        &c.font_color
    )
    .map_err(unique_as("code", "Another schedule type has this code: choose another code."))?;
    get(tx.exec(), org, id).await
}

#[derive(sqlx::FromRow)]
struct Usage {
    practitioners: i64,
    services: i64,
    appointments: i64,
}

/// Deletes a schedule type that no practitioner has, no service applies to and no
/// appointment names. Assignments would otherwise vanish with it (the schema cascades
/// them), silently changing what patients can book.
pub async fn delete(tx: &mut Tx, org: i64, id: i64) -> Result<()> {
    let t = get(tx.exec(), org, id).await?;
    let usage = rows!(
        tx.exec(),
        fetch_one,
        Usage,
        "SELECT (SELECT COUNT(*) FROM practitioner_schedule_types WHERE org_id = $1 AND schedule_type_id = $2) AS practitioners, \
                (SELECT COUNT(*) FROM service_schedule_types WHERE org_id = $1 AND schedule_type_id = $2) AS services, \
                (SELECT COUNT(*) FROM appointments WHERE org_id = $1 AND schedule_type_id = $2) AS appointments",
        org,
        id
    )?;
    let users = [
        (usage.practitioners, "practitioner"),
        (usage.services, "service"),
        (usage.appointments, "appointment"),
    ]
    .into_iter()
    .filter(|&(n, _)| n > 0)
    .map(|(n, noun)| count(n, noun))
    .collect::<Vec<_>>();
    if !users.is_empty() {
        return Err(Error::invalid(
            "schedule_type",
            format!(
                "{:?} is still used by {}: remove it from them first",
                t.name,
                users.join(", ")
            ),
        ));
    }
    execute!(
        tx.exec(),
        "DELETE FROM schedule_types WHERE org_id = $1 AND id = $2",
        org,
        id
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ScheduleTypeInput {
        ScheduleTypeInput {
            name: "Physiotherapy".into(),
            ..ScheduleTypeInput::default()
        }
    }

    fn field_of(r: Result<()>) -> String {
        match r {
            Err(Error::Invalid { field, .. }) => field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn inputs_are_trimmed_and_colours_normalised() {
        let c = checked(&ScheduleTypeInput {
            code: Some("  ".into()),
            name: " Physio ".into(),
            background_color: "#CFE8FF".into(),
            ..input()
        })
        .unwrap();
        assert_eq!(c.code, None, "a blank code is no code");
        assert_eq!(c.name, "Physio");
        assert_eq!(c.background_color, "#cfe8ff");
    }

    #[test]
    fn each_bad_field_is_named() {
        let bad_name = ScheduleTypeInput {
            name: " ".into(),
            ..input()
        };
        assert_eq!(field_of(check(&bad_name)), "name");
        for minutes in [0, 1441] {
            let bad = ScheduleTypeInput {
                default_duration_minutes: minutes,
                ..input()
            };
            assert_eq!(field_of(check(&bad)), "default_duration_minutes");
        }
        let bad_colour = ScheduleTypeInput {
            font_color: "blue".into(),
            ..input()
        };
        assert_eq!(field_of(check(&bad_colour)), "font_color");
        let long_code = ScheduleTypeInput {
            code: Some("x".repeat(33)),
            ..input()
        };
        assert_eq!(field_of(check(&long_code)), "code");
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let bad = ScheduleTypeInput {
            name: String::new(),
            default_duration_minutes: 0,
            font_color: "blue".into(),
            ..input()
        };
        match check(&bad) {
            Err(Error::InvalidFields(all)) => assert_eq!(
                all.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>(),
                ["name", "default_duration_minutes", "font_color"]
            ),
            other => panic!("expected every field's error, got {other:?}"),
        }
    }

    #[test]
    fn contrast_follows_wcag() {
        let black_on_white = contrast_ratio("#ffffff", "#000000").unwrap();
        assert!((black_on_white - 21.0).abs() < 1e-9);
        let pale = contrast_ratio("#ffffff", "#cccccc").unwrap();
        assert!(pale < MIN_CONTRAST_RATIO);
        assert_eq!(contrast_ratio("#fff", "#000000"), None);
    }
}
