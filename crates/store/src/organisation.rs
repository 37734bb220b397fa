//! Organisations (tenants) and their settings.

use serde::Serialize;

use crate::db::{Exec, Tx, execute, rows, scalar};
use crate::error::{Error, Problems, Result, unique_as};
use crate::time::Clock;

/// An organisation: one tenant, with its own clinics, people and portal address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Organisation {
    /// Row id: the `org` that every other function of the store takes.
    pub id: i64,
    /// Its part of every address, `/o/{slug}/…`; unique, of the form [`check_slug`]
    /// accepts.
    pub slug: String,
    /// Its name, shown in the portal.
    pub name: String,
    /// Grid cell size in minutes (1, 5 or 15).
    pub resolution_minutes: i64,
    /// Default slot step of availability records.
    pub slot_step_minutes: i64,
    /// Minimum notice for portal bookings, minutes.
    pub min_notice_minutes: i64,
    /// How many days ahead patients may book.
    pub max_days_ahead: i64,
    /// Whether new patients may sign up in the portal.
    pub allow_public_signup: bool,
    /// Whether visitors who have not signed in may see the portal's services and open
    /// times (they sign in or sign up when they book one).
    pub portal_public_times: bool,
    /// Whether portal bookings are booked at once (else pending until staff accept).
    pub auto_accept_portal_bookings: bool,
    /// How long before the start patients may still cancel, minutes.
    pub cancellation_notice_minutes: i64,
    /// The portal's welcome text.
    pub portal_welcome: String,
    /// The join link of video appointments whose practitioner has none of their own;
    /// empty when the organisation has none (see [`check_video_link`]).
    pub video_link: String,
    /// Its own host name (`book.kitsilano-physio.ca`), of the form [`check_host`]
    /// accepts and used by no other organisation: requests for it reach this
    /// organisation's portal at `/` and its staff pages at `/admin`.
    pub host: Option<String>,
    /// The version of its logo (`organisation_logo`), which the pages put in the logo's
    /// address; `None` when it has no logo.
    pub logo_version: Option<String>,
    /// The longest appointment stored, nanoseconds (bounds window queries).
    pub max_appointment_ns: i64,
    /// When it was created (ns since the Unix epoch).
    pub created_at_ns: i64,
}

/// The settings an admin edits.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, Serialize)]
pub struct Settings {
    /// The name shown in the portal; required, saved trimmed.
    pub name: String,
    /// Grid cell size: 1, 5 or 15 minutes.
    pub resolution_minutes: i64,
    /// Default slot step: a positive multiple of the resolution, at most 1440.
    pub slot_step_minutes: i64,
    /// Minimum notice, 0 ..= 525600 minutes.
    pub min_notice_minutes: i64,
    /// How far ahead, 0 ..= 3660 days.
    pub max_days_ahead: i64,
    /// Allow public sign-up in the portal.
    pub allow_public_signup: bool,
    /// Show the portal's services and open times to visitors who have not signed in.
    #[serde(default = "shown")]
    pub portal_public_times: bool,
    /// Whether a portal booking is booked at once; when false it waits as `pending`
    /// until staff accept or decline it.
    pub auto_accept_portal_bookings: bool,
    /// Cancellation notice, 0 ..= 525600 minutes.
    pub cancellation_notice_minutes: i64,
    /// Welcome text shown in the portal.
    pub portal_welcome: String,
    /// The join link of video appointments whose practitioner has none of their own
    /// (an `https://` address, at most 500 characters); empty: none.
    #[serde(default)]
    pub video_link: String,
    /// The organisation's own host name, if any ([`check_host`]); unique across
    /// organisations.
    #[serde(default)]
    pub host: Option<String>,
}

impl Organisation {
    /// The part of it an admin edits, as the settings form shows it.
    pub fn settings(&self) -> Settings {
        Settings {
            name: self.name.clone(),
            resolution_minutes: self.resolution_minutes,
            slot_step_minutes: self.slot_step_minutes,
            min_notice_minutes: self.min_notice_minutes,
            max_days_ahead: self.max_days_ahead,
            allow_public_signup: self.allow_public_signup,
            portal_public_times: self.portal_public_times,
            auto_accept_portal_bookings: self.auto_accept_portal_bookings,
            cancellation_notice_minutes: self.cancellation_notice_minutes,
            portal_welcome: self.portal_welcome.clone(),
            video_link: self.video_link.clone(),
            host: self.host.clone(),
        }
    }
}

const COLUMNS: &str = "id, slug, name, resolution_minutes, slot_step_minutes, min_notice_minutes, \
    max_days_ahead, allow_public_signup, auto_accept_portal_bookings, cancellation_notice_minutes, \
    portal_welcome, video_link, host, logo_version, max_appointment_ns, created_at_ns, portal_public_times";

/// What a settings document that does not name `portal_public_times` (one written before
/// it existed) means: shown, as for a new organisation.
fn shown() -> bool {
    true
}

/// Checks a slug: 1–63 lower-case letters, digits and single hyphens.
pub fn check_slug(slug: &str) -> Result<()> {
    let ok = !slug.is_empty()
        && slug.len() <= 63
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && !slug.contains("--");
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "slug",
            format!("{slug:?} must be 1-63 lower-case letters, digits and single hyphens"),
        ))
    }
}

/// Checks a host name an organisation may answer on: a lower-case DNS name of at least
/// two labels, each 1–63 letters, digits and hyphens (not at either end), at most 253
/// characters in all, and not all digits at the end (so never an IP address). Only the
/// host: no scheme, port, path or trailing dot.
pub fn check_host(host: &str) -> Result<()> {
    let refuse = |message: String| Err(Error::invalid("host", message));
    if host.contains("://") || host.contains(['/', ':', '?', '#', '@']) {
        return refuse(format!(
            "{host:?} must be a host name only, such as book.example.com (no https://, port or path)"
        ));
    }
    if host.bytes().any(|b| b.is_ascii_uppercase()) {
        return refuse(format!(
            "{host:?} must be written in lower case ({:?})",
            host.to_ascii_lowercase()
        ));
    }
    let labels: Vec<&str> = host.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let top_is_numeric = labels
        .last()
        .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()));
    if host.len() > 253 || labels.len() < 2 || !labels.iter().all(label_ok) || top_is_numeric {
        return refuse(format!(
            "{host:?} must be a host name such as book.example.com: two or more labels of \
             lower-case letters, digits and hyphens, separated by dots"
        ));
    }
    Ok(())
}

/// Creates an organisation with default settings.
pub async fn create(
    tx: &mut Tx,
    slug: &str,
    name: &str,
    clock: &dyn Clock,
) -> Result<Organisation> {
    check_slug(slug)?;
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid("name", "is required"));
    }
    let sql = format!(
        "INSERT INTO organisations (slug, name, created_at_ns) VALUES ($1, $2, $3) RETURNING {COLUMNS}"
    );
    let org = rows!(
        tx.exec(),
        fetch_one,
        Organisation,
        &sql,
        slug,
        name,
        clock.now_ns()
    )
    .map_err(unique_as(
        "slug",
        "an organisation with this slug already exists",
    ))?;
    execute!(
        tx.exec(),
        "INSERT INTO setup_etags (org_id, etag) VALUES ($1, $2)",
        org.id,
        new_setup_etag()?
    )?;
    Ok(org)
}

/// A new organisation's setup etag (its row of `setup_etags`, migration 0034): random,
/// as the triggers make every later one (migration 0013), within 53 bits like theirs.
pub(crate) fn new_setup_etag() -> Result<i64> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::invalid("etag", format!("no random source: {e}")))?;
    Ok((u64::from_le_bytes(bytes) >> 11) as i64)
}

/// The organisation with this slug.
pub async fn by_slug(exec: Exec<'_>, slug: &str) -> Result<Option<Organisation>> {
    let sql = format!("SELECT {COLUMNS} FROM organisations WHERE slug = $1");
    Ok(rows!(exec, fetch_optional, Organisation, &sql, slug)?)
}

/// The organisation whose own host name is `host` (already lower-case, without port).
pub async fn by_host(exec: Exec<'_>, host: &str) -> Result<Option<Organisation>> {
    let sql = format!("SELECT {COLUMNS} FROM organisations WHERE host = $1");
    Ok(rows!(exec, fetch_optional, Organisation, &sql, host)?)
}

/// The organisation with this id.
/// The organisation's cell size (its `resolution_minutes`), which every grid of its
/// setup is cut into; a stored value that is not 1, 5 or 15 is an error naming it.
pub async fn resolution(exec: Exec<'_>, id: i64) -> Result<slot_engine::Resolution> {
    let org = by_id(exec, id).await?;
    u32::try_from(org.resolution_minutes)
        .ok()
        .and_then(|m| slot_engine::Resolution::new(m).ok())
        .ok_or_else(|| Error::invalid("stored resolution", org.resolution_minutes.to_string()))
}

pub async fn by_id(exec: Exec<'_>, id: i64) -> Result<Organisation> {
    let sql = format!("SELECT {COLUMNS} FROM organisations WHERE id = $1");
    rows!(exec, fetch_optional, Organisation, &sql, id)?.ok_or(Error::NotFound("organisation"))
}

/// The organisation as it is now, and whether its no-show policy (migration 0027)
/// makes `patient`'s portal bookings wait for the clinic (at least
/// `no_show_pending_after` no-shows): what a portal booking reads under the
/// practitioner's lock, in one statement.
pub(crate) async fn with_no_show_policy(
    exec: Exec<'_>,
    id: i64,
    patient: i64,
) -> Result<(Organisation, bool)> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        org: Organisation,
        pending_by_no_shows: bool,
    }
    let sql = format!(
        "SELECT {COLUMNS}, COALESCE((SELECT CASE WHEN r.no_show_pending_after IS NULL THEN FALSE \
         ELSE (SELECT COUNT(*) FROM appointments a WHERE a.org_id = $1 AND a.patient_id = $2 \
         AND a.status = 'no_show') >= r.no_show_pending_after END \
         FROM reminder_settings r WHERE r.org_id = $1), FALSE) AS pending_by_no_shows \
         FROM organisations WHERE id = $1"
    );
    let row = rows!(exec, fetch_optional, Row, &sql, id, patient)?
        .ok_or(Error::NotFound("organisation"))?;
    Ok((row.org, row.pending_by_no_shows))
}

/// Every organisation, by slug.
pub async fn all(exec: Exec<'_>) -> Result<Vec<Organisation>> {
    let sql = format!("SELECT {COLUMNS} FROM organisations ORDER BY slug");
    Ok(rows!(exec, fetch_all, Organisation, &sql)?)
}

/// Records, unless `value` is from `min` to `max`, a problem saying so about `what`
/// (the field in words, with its unit).
fn check_range(problems: &mut Problems, field: &str, what: &str, value: i64, min: i64, max: i64) {
    if !(min..=max).contains(&value) {
        problems.add(field, format!("Enter {what} from {min} to {max}."));
    }
}

/// Checks settings on their own (the whole setup is checked again after saving),
/// reporting every field's problem at once.
pub fn check_settings(s: &Settings) -> Result<()> {
    let mut problems = Problems::new();
    if s.name.trim().is_empty() {
        problems.add("name", "Enter the organisation's name.");
    }
    if ![1, 5, 15].contains(&s.resolution_minutes) {
        problems.add(
            "resolution_minutes",
            "Choose a resolution of 1, 5 or 15 minutes.",
        );
    }
    check_range(
        &mut problems,
        "slot_step_minutes",
        "the slot step in minutes",
        s.slot_step_minutes,
        1,
        1440,
    );
    if [1, 5, 15].contains(&s.resolution_minutes) && s.slot_step_minutes % s.resolution_minutes != 0
    {
        problems.add(
            "slot_step_minutes",
            format!(
                "Enter a slot step that is a multiple of the {}-minute resolution.",
                s.resolution_minutes
            ),
        );
    }
    check_range(
        &mut problems,
        "min_notice_minutes",
        "the minimum notice in minutes",
        s.min_notice_minutes,
        0,
        525_600,
    );
    check_range(
        &mut problems,
        "max_days_ahead",
        "how many days ahead patients may book",
        s.max_days_ahead,
        0,
        3_660,
    );
    check_range(
        &mut problems,
        "cancellation_notice_minutes",
        "the cancellation notice in minutes",
        s.cancellation_notice_minutes,
        0,
        525_600,
    );
    if s.portal_welcome.len() > 4_000 {
        problems.add(
            "portal_welcome",
            "Shorten the portal welcome to at most 4000 characters.",
        );
    }
    problems.check(check_video_link("video_link", &s.video_link));
    if let Some(host) = &s.host {
        problems.check(check_host(host));
    }
    problems.finish()
}

/// Checks a video join link and gives it in the form it is saved: empty (none), or an
/// `https://` address with a host and no user name or password, at most 500
/// characters, which patients are sent to in pages, emails and calendar files. Other
/// schemes (`javascript:`, `http:`) are refused, and so is any space, line break or
/// other control or formatting character (a link is one line that says what it is);
/// what is saved is the address as parsed (`url::Url`), so what was checked is what
/// is sent.
pub fn check_video_link(field: &str, link: &str) -> Result<String> {
    let link = link.trim();
    if link.is_empty() {
        return Ok(String::new());
    }
    let refuse = || {
        Error::invalid(
            field,
            "Enter the video link as an https:// address without spaces, e.g. https://meet.example.com/dr-roy.",
        )
    };
    if link.len() > 500 {
        return Err(Error::invalid(
            field,
            "Shorten the video link to at most 500 characters.",
        ));
    }
    // Whitespace, control characters and the invisible formatting ones (bidirectional
    // overrides, zero-width joiners) have no place in a link someone reads.
    let invisible = |c: char| {
        c.is_whitespace()
            || c.is_control()
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
    };
    if link.chars().any(invisible) || !link.starts_with("https://") {
        return Err(refuse());
    }
    match url::Url::parse(link) {
        Ok(u)
            if u.scheme() == "https"
                && u.host_str().is_some_and(|h| !h.is_empty())
                && u.username().is_empty()
                && u.password().is_none() =>
        {
            Ok(u.to_string())
        }
        _ => Err(refuse()),
    }
}

/// Saves settings that pass [`check_settings`]. The caller checks the whole setup
/// before committing: a new resolution or slot step can leave existing blocks off the
/// grid. A host name another organisation uses is refused, naming `host`.
pub async fn update_settings(tx: &mut Tx, org: i64, s: &Settings) -> Result<()> {
    check_settings(s)?;
    execute!(
        tx.exec(),
        "UPDATE organisations SET name = $2, resolution_minutes = $3, slot_step_minutes = $4, \
         min_notice_minutes = $5, max_days_ahead = $6, allow_public_signup = $7, \
         auto_accept_portal_bookings = $8, cancellation_notice_minutes = $9, portal_welcome = $10, \
         video_link = $11, host = $12, portal_public_times = $13 WHERE id = $1",
        org,
        s.name.trim(),
        s.resolution_minutes,
        s.slot_step_minutes,
        s.min_notice_minutes,
        s.max_days_ahead,
        s.allow_public_signup,
        s.auto_accept_portal_bookings,
        s.cancellation_notice_minutes,
        &s.portal_welcome,
        &check_video_link("video_link", &s.video_link)?,
        &s.host,
        s.portal_public_times,
    )
    .map_err(unique_as(
        "host",
        "another organisation already answers on this host name",
    ))?;
    Ok(())
}

/// Raises the organisation's longest-appointment mark to `length_ns` if it is longer.
pub(crate) async fn note_appointment_length(tx: &mut Tx, org: i64, length_ns: i64) -> Result<()> {
    execute!(
        tx.exec(),
        "UPDATE organisations SET max_appointment_ns = $2 WHERE id = $1 AND max_appointment_ns < $2",
        org,
        length_ns
    )?;
    Ok(())
}

/// Whether the organisation has any setup yet (clinics, practitioners, patients…).
pub async fn is_empty(exec: Exec<'_>, org: i64) -> Result<bool> {
    let n = scalar!(
        exec,
        i64,
        "SELECT (SELECT COUNT(*) FROM clinics WHERE org_id = $1) \
              + (SELECT COUNT(*) FROM practitioners WHERE org_id = $1) \
              + (SELECT COUNT(*) FROM patients WHERE org_id = $1) \
              + (SELECT COUNT(*) FROM schedule_types WHERE org_id = $1)",
        org
    )?;
    Ok(n == 0)
}

#[cfg(test)]
mod tests {
    use super::check_host;

    #[test]
    fn a_host_is_a_lower_case_dns_name_of_two_labels_or_more() {
        for good in [
            "book.kitsilano-physio.ca",
            "example.com",
            "a.b.c.d.example",
            "x1.y2.z3",
            "xn--bcher-kva.example",
        ] {
            assert!(check_host(good).is_ok(), "{good}");
        }
        let long_label = format!("{}.example.com", "a".repeat(64));
        let long_name = format!("{}.com", ["abcdefghij"; 23].join("."));
        for bad in [
            "",
            "localhost",
            "Book.Example.com",
            "https://book.example.com",
            "book.example.com:8443",
            "book.example.com/admin",
            "book.example.com.",
            ".example.com",
            "book..example.com",
            "-book.example.com",
            "book-.example.com",
            "book_clinic.example.com",
            "book example.com",
            "bücher.example",
            "127.0.0.1",
            "10.0.0.256",
            "user@book.example.com",
            &long_label,
            &long_name,
        ] {
            let refused = check_host(bad).expect_err(bad);
            assert!(
                matches!(&refused, crate::Error::Invalid { field, .. } if field == "host"),
                "{bad}: {refused:?}"
            );
        }
    }
}
