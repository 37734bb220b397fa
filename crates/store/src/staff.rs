//! Staff accounts: admins, front desk, practitioners. Passwords arrive hashed
//! (Argon2id, in the web crate); the store keeps the PHC string.

use serde::Serialize;

use crate::db::{Exec, Tx, execute, rows};
use crate::email::normalise_email;
use crate::error::{Error, Result, unique_as};

/// A staff role: what a staff user may see and change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sets the clinic up.
    Admin,
    /// Runs the day: bookings, portal access.
    FrontDesk,
    /// Sees their own schedule.
    Practitioner,
}

impl Role {
    /// The spelling the database stores and [`Role::parse`] reads: `admin`,
    /// `front_desk` or `practitioner`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::FrontDesk => "front_desk",
            Role::Practitioner => "practitioner",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Result<Role> {
        match s {
            "admin" => Ok(Role::Admin),
            "front_desk" => Ok(Role::FrontDesk),
            "practitioner" => Ok(Role::Practitioner),
            _ => Err(Error::invalid(
                "role",
                "must be admin, front_desk or practitioner",
            )),
        }
    }

    /// What people call it.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::FrontDesk => "Front desk",
            Role::Practitioner => "Practitioner",
        }
    }
}

/// A staff account: someone of the clinic who signs in to the staff pages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct StaffUser {
    pub id: i64,
    /// The organisation it belongs to: someone who works for two has two accounts.
    pub org_id: i64,
    /// Sign-in address (unique in the organisation, stored lower-case).
    pub email: String,
    /// The person's name as staff pages show it; never empty.
    pub name: String,
    /// `admin`, `front_desk` or `practitioner`.
    pub role: String,
    /// For the practitioner role: whose schedule they see.
    pub practitioner_id: Option<i64>,
    /// Argon2id PHC string of the password; never serialised.
    #[serde(skip)]
    pub password_hash: String,
    /// Whether they may sign in.
    pub active: bool,
    /// When the account was created, ns since the Unix epoch.
    pub created_at_ns: i64,
    /// Moves whenever the password changes or the account is stopped; a session opened
    /// under another epoch has ended.
    pub session_epoch: i64,
    /// Whether they get an email for each booking, change and cancellation a patient
    /// makes in the portal (a practitioner account: of their own practitioner only).
    pub notify_portal_changes: bool,
}

impl StaffUser {
    /// The role; a spelling the schema would not have stored reads as the least one,
    /// [`Role::Practitioner`].
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::Practitioner)
    }
}

const COLUMNS: &str = "id, org_id, email, name, role, practitioner_id, password_hash, active, created_at_ns, session_epoch, \
    notify_portal_changes";

/// A new staff user.
#[derive(Clone, Debug)]
pub struct NewStaff<'a> {
    /// Sign-in address, saved in its normal form; unique in the organisation.
    pub email: &'a str,
    /// The person's name; required, saved trimmed.
    pub name: &'a str,
    pub role: Role,
    /// For the practitioner role: whose schedule they see.
    pub practitioner_id: Option<i64>,
    /// Argon2id PHC string of the password, hashed by the caller.
    pub password_hash: &'a str,
}

/// Creates an active staff user; an address already used in the organisation is
/// refused naming `email`.
pub async fn create(tx: &mut Tx, org: i64, new: &NewStaff<'_>, now_ns: i64) -> Result<StaffUser> {
    let email = normalise_email(new.email)?;
    if new.name.trim().is_empty() {
        return Err(Error::invalid("name", "is required"));
    }
    let sql = format!(
        "INSERT INTO staff_users (org_id, email, name, role, practitioner_id, password_hash, created_at_ns) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLUMNS}"
    );
    rows!(
        tx.exec(),
        fetch_one,
        StaffUser,
        &sql,
        org,
        &email,
        new.name.trim(),
        new.role.as_str(),
        new.practitioner_id,
        new.password_hash,
        now_ns
    )
    .map_err(unique_as(
        "email",
        "a staff user with this email already exists",
    ))
}

/// The staff user with this email in the organisation.
pub async fn by_email(exec: Exec<'_>, org: i64, email: &str) -> Result<Option<StaffUser>> {
    let sql = format!("SELECT {COLUMNS} FROM staff_users WHERE org_id = $1 AND email = $2");
    Ok(rows!(
        exec,
        fetch_optional,
        StaffUser,
        &sql,
        org,
        email.trim().to_lowercase()
    )?)
}

/// The staff user with this id in the organisation.
pub async fn by_id(exec: Exec<'_>, org: i64, id: i64) -> Result<StaffUser> {
    let sql = format!("SELECT {COLUMNS} FROM staff_users WHERE org_id = $1 AND id = $2");
    rows!(exec, fetch_optional, StaffUser, &sql, org, id)?.ok_or(Error::NotFound("staff user"))
}

/// Every staff user of the organisation, by name.
pub async fn all(exec: Exec<'_>, org: i64) -> Result<Vec<StaffUser>> {
    let sql = format!("SELECT {COLUMNS} FROM staff_users WHERE org_id = $1 ORDER BY name, id");
    Ok(rows!(exec, fetch_all, StaffUser, &sql, org)?)
}

/// Turns a staff user's emails about the portal's changes on or off.
pub async fn set_notify_portal_changes(tx: &mut Tx, org: i64, id: i64, on: bool) -> Result<()> {
    let n = execute!(
        tx.exec(),
        "UPDATE staff_users SET notify_portal_changes = $3 WHERE org_id = $1 AND id = $2",
        org,
        id,
        on
    )?;
    if n == 0 {
        return Err(Error::NotFound("staff user"));
    }
    Ok(())
}

/// Who is told of a patient's change in the portal to an appointment with
/// `practitioner`: the active accounts that asked to be, except practitioner accounts
/// of another practitioner.
pub async fn watching_portal(
    exec: Exec<'_>,
    org: i64,
    practitioner: i64,
) -> Result<Vec<StaffUser>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM staff_users WHERE org_id = $1 AND active AND notify_portal_changes \
         AND (role <> 'practitioner' OR practitioner_id = $2) ORDER BY id"
    );
    Ok(rows!(exec, fetch_all, StaffUser, &sql, org, practitioner)?)
}

/// Replaces a staff user's password hash.
pub async fn set_password(tx: &mut Tx, org: i64, id: i64, password_hash: &str) -> Result<()> {
    let n = execute!(
        tx.exec(),
        "UPDATE staff_users SET password_hash = $3, session_epoch = session_epoch + 1 \
         WHERE org_id = $1 AND id = $2",
        org,
        id,
        password_hash
    )?;
    if n == 0 {
        return Err(Error::NotFound("staff user"));
    }
    Ok(())
}

/// Creates a staff user after checking the role's link to a practitioner: a
/// practitioner account names one of the organisation's practitioners (whose schedule
/// it sees), and other roles name none.
pub async fn create_account(
    tx: &mut Tx,
    org: i64,
    new: &NewStaff<'_>,
    now_ns: i64,
) -> Result<StaffUser> {
    normalise_email(new.email)?;
    if new.name.trim().is_empty() || new.name.trim().chars().count() > 100 {
        return Err(Error::invalid(
            "name",
            "Enter a name (at most 100 characters).",
        ));
    }
    match (new.role, new.practitioner_id) {
        (Role::Practitioner, None) => {
            return Err(Error::invalid(
                "practitioner_id",
                "choose whose schedule a practitioner account sees",
            ));
        }
        (Role::Practitioner, Some(practitioner)) => {
            crate::practitioner::get(tx.exec(), org, practitioner)
                .await
                .map_err(|e| match e {
                    Error::NotFound(_) => Error::invalid(
                        "practitioner_id",
                        "choose one of the organisation's practitioners",
                    ),
                    other => other,
                })?;
        }
        (Role::Admin | Role::FrontDesk, Some(_)) => {
            return Err(Error::invalid(
                "practitioner_id",
                "only practitioner accounts are linked to a practitioner",
            ));
        }
        (Role::Admin | Role::FrontDesk, None) => {}
    }
    create(tx, org, new, now_ns).await
}

/// Lets a staff user sign in again, or stops them: an inactive account's sessions
/// stop working at their next request, as the sign-in check reads `active`.
pub async fn set_active(tx: &mut Tx, org: i64, id: i64, active: bool) -> Result<StaffUser> {
    let n = execute!(
        tx.exec(),
        "UPDATE staff_users SET active = $3, \
         session_epoch = session_epoch + CASE WHEN active AND NOT $3 THEN 1 ELSE 0 END \
         WHERE org_id = $1 AND id = $2",
        org,
        id,
        active
    )?;
    if n == 0 {
        return Err(Error::NotFound("staff user"));
    }
    by_id(tx.exec(), org, id).await
}
