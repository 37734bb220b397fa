//! API keys (issue 18, migration 0030): how other systems — an EHR, a website, a
//! booking aggregator, an automation — use the JSON API and FHIR without a browser.
//!
//! A key belongs to one organisation and carries [`Scope`]s. The web crate makes its
//! token (32 random bytes) and shows it once; the store keeps only its SHA-256
//! ([`token_hash`]) and a short prefix to tell keys apart in lists. Revoking keeps the
//! row, so the audit log can still name the key, but it never authenticates again.

use std::fmt;

use serde::Serialize;

use crate::db::{Exec, Tx, execute, rows, scalar};
use crate::error::{Error, Problems, Result, unique_as};

/// The longest key name, in characters.
pub const NAME_MAX: usize = 80;

/// What a key may do. Each route of the API needs one scope (the web crate's route
/// table says which); routes that manage people's access (staff accounts, API keys,
/// portal access, webhooks) need a browser session and no key reaches them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Read the setup and the schedule: clinics, practitioners, services, availability,
    /// open times and appointments (as the book shows them).
    ScheduleRead,
    /// Book, move, cancel and mark appointments, and decide requests.
    Book,
    /// Change the setup: clinics, schedule types, practitioners, availability, services,
    /// rooms, settings.
    SetupWrite,
    /// Read patients' records (contact details, history).
    PatientsRead,
    /// Create and change patients' records.
    PatientsWrite,
}

impl Scope {
    /// Every scope, in the order lists show them.
    pub const ALL: [Scope; 5] = [
        Scope::ScheduleRead,
        Scope::Book,
        Scope::SetupWrite,
        Scope::PatientsRead,
        Scope::PatientsWrite,
    ];

    /// The scope's name, as keys store it and the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::ScheduleRead => "schedule:read",
            Scope::Book => "appointments:write",
            Scope::SetupWrite => "setup:write",
            Scope::PatientsRead => "patients:read",
            Scope::PatientsWrite => "patients:write",
        }
    }

    /// What it allows, in words, for the admin page.
    pub fn describe(self) -> &'static str {
        match self {
            Scope::ScheduleRead => {
                "Read the setup and the schedule: clinics, practitioners, services, availability, open times, and appointments as the book shows them (with the patient's name and id)"
            }
            Scope::Book => "Book, move, cancel and mark appointments",
            Scope::SetupWrite => {
                "Change the setup: clinics, practitioners, availability, services, settings"
            }
            Scope::PatientsRead => "Read patients' records",
            Scope::PatientsWrite => "Create and change patients' records",
        }
    }

    /// The scope named `name`.
    pub fn parse(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A key as lists show it (never its token).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApiKey {
    pub id: i64,
    pub org_id: i64,
    /// What the admin called it ("Website booking widget").
    pub name: String,
    /// The token's first characters (`osk_AbCd1234`), to tell keys apart.
    pub token_prefix: String,
    /// What it may do, in [`Scope::ALL`]'s order.
    pub scopes: Vec<Scope>,
    /// Who made it (`staff:3`).
    pub created_by: String,
    pub created_at_ns: i64,
    /// When it last authenticated a request, to the minute; `None` if never.
    pub last_used_at_ns: Option<i64>,
    /// When it was revoked; `None` while it works.
    pub revoked_at_ns: Option<i64>,
}

impl ApiKey {
    /// Whether the key may do what `scope` allows.
    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }

    /// Whether it still authenticates.
    pub fn is_live(&self) -> bool {
        self.revoked_at_ns.is_none()
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    org_id: i64,
    name: String,
    token_prefix: String,
    scopes: String,
    created_by: String,
    created_at_ns: i64,
    last_used_at_ns: Option<i64>,
    revoked_at_ns: Option<i64>,
}

impl From<Row> for ApiKey {
    fn from(r: Row) -> Self {
        let mut scopes: Vec<Scope> = r
            .scopes
            .split_whitespace()
            .filter_map(Scope::parse)
            .collect();
        scopes.sort();
        scopes.dedup();
        ApiKey {
            id: r.id,
            org_id: r.org_id,
            name: r.name,
            token_prefix: r.token_prefix,
            scopes,
            created_by: r.created_by,
            created_at_ns: r.created_at_ns,
            last_used_at_ns: r.last_used_at_ns,
            revoked_at_ns: r.revoked_at_ns,
        }
    }
}

const COLUMNS: &str = "id, org_id, name, token_prefix, scopes, created_by, created_at_ns, last_used_at_ns, revoked_at_ns";

/// The stored form of a token: its SHA-256. A token is 32 random bytes, so a plain
/// hash is as good as a slow one.
pub fn token_hash(token: &str) -> Vec<u8> {
    crate::portal_access::token_hash(token)
}

/// What a new key is to be.
#[derive(Clone, Debug)]
pub struct NewKey<'a> {
    pub name: &'a str,
    /// Scope names as typed or sent (`schedule:read`); at least one, each known.
    pub scopes: &'a [String],
    /// The token the caller made, to be shown once.
    pub token: &'a str,
    /// How many of its first characters lists show.
    pub prefix_len: usize,
}

/// Checks a new key: a name of 1 to [`NAME_MAX`] characters on one line, and at least
/// one scope, each known; every field's problem at once, naming `name` or `scopes`.
pub fn check(name: &str, scopes: &[String]) -> Result<Vec<Scope>> {
    let mut problems = Problems::new();
    let name = name.trim();
    if name.is_empty() || name.chars().count() > NAME_MAX {
        problems.add(
            "name",
            format!("Enter a name for the key (at most {NAME_MAX} characters)."),
        );
    } else if name.chars().any(char::is_control) {
        problems.add("name", "A name is one line of text.");
    }
    let mut parsed = Vec::new();
    for s in scopes {
        match Scope::parse(s.trim()) {
            Some(scope) => parsed.push(scope),
            None => problems.add(
                "scopes",
                format!(
                    "Unknown scope {s:?}: the scopes are {}.",
                    Scope::ALL.map(Scope::as_str).join(", ")
                ),
            ),
        }
    }
    if scopes.is_empty() {
        problems.add("scopes", "Choose at least one scope.");
    }
    parsed.sort();
    parsed.dedup();
    problems.done(Some(parsed))
}

/// Makes a key; its name must differ from the organisation's other live keys (refused
/// naming `name`). Returns the key as lists show it.
pub async fn create(
    tx: &mut Tx,
    org: i64,
    new: &NewKey<'_>,
    actor: &str,
    now_ns: i64,
) -> Result<ApiKey> {
    let scopes = check(new.name, new.scopes)?;
    let names = scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let prefix: String = new.token.chars().take(new.prefix_len).collect();
    let id = scalar!(
        tx.exec(),
        i64,
        "INSERT INTO api_keys (org_id, name, token_prefix, token_hash, scopes, created_by, created_at_ns) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        org,
        new.name.trim(),
        &prefix,
        token_hash(new.token),
        &names,
        actor,
        now_ns
    )
    .map_err(unique_as("name", "Another key already has this name."))?;
    by_id(tx.exec(), org, id).await
}

/// The organisation's keys, live ones first, newest first.
pub async fn all(exec: Exec<'_>, org: i64) -> Result<Vec<ApiKey>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM api_keys WHERE org_id = $1 \
         ORDER BY CASE WHEN revoked_at_ns IS NULL THEN 0 ELSE 1 END, id DESC"
    );
    Ok(rows!(exec, fetch_all, Row, &sql, org)?
        .into_iter()
        .map(ApiKey::from)
        .collect())
}

/// One key of the organisation.
pub async fn by_id(exec: Exec<'_>, org: i64, id: i64) -> Result<ApiKey> {
    let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE org_id = $1 AND id = $2");
    rows!(exec, fetch_optional, Row, &sql, org, id)?
        .map(ApiKey::from)
        .ok_or(Error::NotFound("API key"))
}

/// The organisation's live key whose token this is: the organisation is the one the
/// request addresses, so a key of another never matches (and the lookup stays on one
/// organisation's shard).
pub async fn by_token(exec: Exec<'_>, org: i64, token: &str) -> Result<Option<ApiKey>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM api_keys WHERE org_id = $1 AND token_hash = $2 AND revoked_at_ns IS NULL"
    );
    Ok(rows!(exec, fetch_optional, Row, &sql, org, token_hash(token))?.map(ApiKey::from))
}

/// Revokes a live key of the organisation: it never authenticates again. A key that
/// is already revoked is refused as not found.
pub async fn revoke(tx: &mut Tx, org: i64, id: i64, actor: &str, now_ns: i64) -> Result<ApiKey> {
    let changed = execute!(
        tx.exec(),
        "UPDATE api_keys SET revoked_at_ns = $3, revoked_by = $4 \
         WHERE org_id = $1 AND id = $2 AND revoked_at_ns IS NULL",
        org,
        id,
        now_ns,
        actor
    )?;
    if changed == 0 {
        return Err(Error::NotFound("API key"));
    }
    by_id(tx.exec(), org, id).await
}

/// Records that a key was used at `now_ns` (callers write at most once a minute per
/// key; the store keeps the latest).
pub async fn touch(exec: Exec<'_>, org: i64, id: i64, now_ns: i64) -> Result<()> {
    execute!(
        exec,
        "UPDATE api_keys SET last_used_at_ns = $3 \
         WHERE org_id = $1 AND id = $2 AND (last_used_at_ns IS NULL OR last_used_at_ns < $3)",
        org,
        id,
        now_ns
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_by_name() {
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
        }
        assert_eq!(Scope::parse("admin"), None);
    }

    #[test]
    fn a_new_key_needs_a_name_and_known_scopes() {
        let err = check(" ", &["schedule:read".into(), "everything".into()]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("name:"), "{text}");
        assert!(
            text.contains("scopes: Unknown scope \"everything\""),
            "{text}"
        );
        assert!(
            check("Website", &[])
                .unwrap_err()
                .to_string()
                .contains("scopes")
        );
        assert_eq!(
            check("Website", &["appointments:write".to_owned()]).unwrap(),
            vec![Scope::Book]
        );
    }
}
