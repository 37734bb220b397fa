//! Patients' portal accounts, and the single-use links that let them in: invitations
//! (3 days) and password resets (1 hour).
//!
//! A link's token is 32 random bytes from the operating system; only its SHA-256 is
//! stored, so a copy of the database holds no usable link. Redeeming a token marks it
//! used in the same transaction that uses it, so it works once.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::{Exec, Tx, execute, rows, scalar_optional};
use crate::error::{Error, Result};

/// How long an invitation link works: exactly three days after sending.
pub const INVITATION_NS: i64 = 3 * 86_400 * 1_000_000_000;
/// How long a password-reset link works: one hour.
pub const RESET_NS: i64 = 3_600 * 1_000_000_000;

/// A patient's portal account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PortalAccount {
    pub id: i64,
    /// The patient it belongs to; a patient has at most one account.
    pub patient_id: i64,
    /// Sign-in name (the email address by default), stored lower-case.
    pub username: String,
    /// Argon2id PHC string; `None` until the patient sets a password.
    #[serde(skip)]
    pub password_hash: Option<String>,
    /// When it was created, ns since the Unix epoch.
    pub created_at_ns: i64,
    /// When the account was confirmed (it can sign in only then).
    pub confirmed_at_ns: Option<i64>,
    /// Moves whenever the credentials change; a session opened under another epoch has
    /// ended.
    pub session_epoch: i64,
}

impl PortalAccount {
    /// Whether the account can sign in with a password.
    pub fn can_sign_in(&self) -> bool {
        self.confirmed_at_ns.is_some() && self.password_hash.is_some()
    }
}

/// The columns of a [`PortalAccount`], in its order (also for the email-change module's
/// `RETURNING`).
pub(crate) const COLUMNS: &str =
    "id, patient_id, username, password_hash, created_at_ns, confirmed_at_ns, session_epoch";

/// What a link is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Set a first password (sent by staff).
    Invitation,
    /// Set a new password (asked for by the patient).
    PasswordReset,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Invitation => "invitation",
            Purpose::PasswordReset => "password_reset",
        }
    }

    /// How long a link of this purpose works, in nanoseconds.
    pub fn lifetime_ns(self) -> i64 {
        match self {
            Purpose::Invitation => INVITATION_NS,
            Purpose::PasswordReset => RESET_NS,
        }
    }
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The patient's account, if any.
pub async fn of_patient(exec: Exec<'_>, org: i64, patient: i64) -> Result<Option<PortalAccount>> {
    let sql =
        format!("SELECT {COLUMNS} FROM portal_accounts WHERE org_id = $1 AND patient_id = $2");
    Ok(rows!(
        exec,
        fetch_optional,
        PortalAccount,
        &sql,
        org,
        patient
    )?)
}

/// The accounts whose patients have this email address, by patient: where a
/// password-reset link goes (to the address on file, never to one typed in).
pub async fn of_email(exec: Exec<'_>, org: i64, email: &str) -> Result<Vec<PortalAccount>> {
    let columns = COLUMNS
        .split(", ")
        .map(|c| format!("a.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {columns} FROM portal_accounts a JOIN patients p ON p.org_id = a.org_id AND p.id = a.patient_id \
         WHERE a.org_id = $1 AND p.email = $2 ORDER BY a.patient_id"
    );
    Ok(rows!(
        exec,
        fetch_all,
        PortalAccount,
        &sql,
        org,
        email.trim().to_lowercase()
    )?)
}

/// The accounts an address reaches: the one whose username it is, and those of the
/// patients with this email address (a username staff chose leaves the address the way
/// back in).
pub async fn of_address(
    exec: &mut Exec<'_>,
    org: i64,
    address: &str,
) -> Result<Vec<PortalAccount>> {
    let mut accounts = of_email(exec.reborrow(), org, address).await?;
    if let Some(named) = by_username(exec.reborrow(), org, address).await?
        && !accounts.iter().any(|a| a.id == named.id)
    {
        accounts.push(named);
    }
    Ok(accounts)
}

/// The account with this username.
pub async fn by_username(
    exec: Exec<'_>,
    org: i64,
    username: &str,
) -> Result<Option<PortalAccount>> {
    let sql = format!("SELECT {COLUMNS} FROM portal_accounts WHERE org_id = $1 AND username = $2");
    Ok(rows!(
        exec,
        fetch_optional,
        PortalAccount,
        &sql,
        org,
        username.trim().to_lowercase()
    )?)
}

/// The organisation's portal account `id`, or [`Error::NotFound`].
pub async fn get(exec: Exec<'_>, org: i64, id: i64) -> Result<PortalAccount> {
    let sql = format!("SELECT {COLUMNS} FROM portal_accounts WHERE org_id = $1 AND id = $2");
    rows!(exec, fetch_optional, PortalAccount, &sql, org, id)?
        .ok_or(Error::NotFound("portal account"))
}

fn check_username(username: &str) -> Result<String> {
    let username = username.trim().to_lowercase();
    if username.is_empty() || username.len() > 254 || username.contains(char::is_whitespace) {
        return Err(Error::invalid(
            "username",
            "use 1-254 characters without spaces (the email address works well)",
        ));
    }
    Ok(username)
}

/// Gives the patient staff-made credentials: the account's username and password,
/// able to sign in at once (staff chose them and hand them over). Creates the account
/// if there is none. Every other session of the patient ends (the epoch moves).
pub async fn set_credentials(
    tx: &mut Tx,
    org: i64,
    patient: i64,
    username: &str,
    password_hash: &str,
    now_ns: i64,
) -> Result<PortalAccount> {
    let username = check_username(username)?;
    require_patient(tx, org, patient).await?;
    ensure_username_free(tx, org, patient, &username).await?;
    match of_patient(tx.exec(), org, patient).await? {
        Some(account) => {
            // The username first; the password then as any new password is set (epoch,
            // confirmation, every other link cancelled).
            execute!(
                tx.exec(),
                "UPDATE portal_accounts SET username = $3 WHERE org_id = $1 AND id = $2",
                org,
                account.id,
                &username
            )
            .map_err(username_taken())?;
            set_password(tx, org, account.id, password_hash, now_ns).await
        }
        None => {
            insert(
                tx,
                org,
                patient,
                &username,
                Some(password_hash),
                Some(now_ns),
                now_ns,
            )
            .await
        }
    }
}

/// The patient's account, ready for an invitation: created (username: `email`) with no
/// password when there is none; an account that never proved its address loses any
/// password it has, so the password that counts is the one chosen through the link.
pub async fn prepare_invitation(
    tx: &mut Tx,
    org: i64,
    patient: i64,
    email: &str,
    now_ns: i64,
) -> Result<PortalAccount> {
    require_patient(tx, org, patient).await?;
    if let Some(account) = of_patient(tx.exec(), org, patient).await? {
        if account.confirmed_at_ns.is_some() || account.password_hash.is_none() {
            return Ok(account);
        }
        let sql = format!(
            "UPDATE portal_accounts SET password_hash = NULL, session_epoch = session_epoch + 1 \
             WHERE org_id = $1 AND id = $2 RETURNING {COLUMNS}"
        );
        return Ok(rows!(
            tx.exec(),
            fetch_one,
            PortalAccount,
            &sql,
            org,
            account.id
        )?);
    }
    let username = check_username(email)?;
    ensure_username_free(tx, org, patient, &username).await?;
    insert(tx, org, patient, &username, None, None, now_ns).await
}

/// Two staff saving one username at once pass [`ensure_username_free`] together; the
/// database's unique username then refuses the second, as a field error.
fn username_taken() -> impl FnOnce(sqlx::Error) -> Error {
    crate::error::unique_as("username", USERNAME_TAKEN)
}

const USERNAME_TAKEN: &str = "another patient already uses this username";

/// `NotFound` unless `patient` is one of the organisation's patients: an account is
/// only ever made for one (the same-organisation guard of migration 0015 would refuse
/// the row too, but as a field error). A query of its own, not `patient::get`: the
/// patient module calls into this one when an address changes, never the reverse.
async fn require_patient(tx: &mut Tx, org: i64, patient: i64) -> Result<()> {
    scalar_optional!(
        tx.exec(),
        i64,
        "SELECT id FROM patients WHERE org_id = $1 AND id = $2",
        org,
        patient
    )?
    .ok_or(Error::NotFound("patient"))?;
    Ok(())
}

async fn ensure_username_free(tx: &mut Tx, org: i64, patient: i64, username: &str) -> Result<()> {
    let taken = by_username(tx.exec(), org, username).await?;
    if taken.as_ref().is_some_and(|a| a.patient_id != patient) {
        return Err(Error::invalid("username", USERNAME_TAKEN));
    }
    Ok(())
}

async fn insert(
    tx: &mut Tx,
    org: i64,
    patient: i64,
    username: &str,
    password_hash: Option<&str>,
    confirmed_at_ns: Option<i64>,
    now_ns: i64,
) -> Result<PortalAccount> {
    let sql = format!(
        "INSERT INTO portal_accounts (org_id, patient_id, username, password_hash, created_at_ns, confirmed_at_ns) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
    );
    rows!(
        tx.exec(),
        fetch_one,
        PortalAccount,
        &sql,
        org,
        patient,
        username,
        password_hash,
        now_ns,
        confirmed_at_ns
    )
    .map_err(username_taken())
}

/// What a change of the patient's address did to their account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressChanged {
    /// The username now: the new address if it followed the old one, else unchanged.
    pub username: String,
    /// Whether the account had a password, now dropped.
    pub password_dropped: bool,
}

/// Makes the account follow a change of the patient's email address by staff.
///
/// Whatever was proven through the old address no longer holds: the password (it was
/// chosen through a link to the old address, or given with it) is dropped, every
/// unused link is cancelled and every session ends. The patient chooses a new password
/// through "forgot password" at the new address, or an invitation staff send there.
/// Otherwise a stranger who received mail at a mistyped address would keep the record
/// after staff corrected it. A username that was the old address becomes the new one
/// (unless another account signs in with it); a username staff chose stays.
pub async fn follow_email_change(
    tx: &mut Tx,
    org: i64,
    patient: i64,
    old_email: &str,
    new_email: &str,
    now_ns: i64,
) -> Result<Option<AddressChanged>> {
    let Some(account) = of_patient(tx.exec(), org, patient).await? else {
        return Ok(None);
    };
    let (old_email, new_email) = (
        old_email.trim().to_lowercase(),
        new_email.trim().to_lowercase(),
    );
    if old_email == new_email {
        return Ok(None);
    }
    let follows = account.username == old_email
        && !new_email.is_empty()
        && by_username(tx.exec(), org, &new_email).await?.is_none();
    let username = if follows {
        new_email
    } else {
        account.username.clone()
    };
    execute!(
        tx.exec(),
        "UPDATE portal_accounts SET username = $3, password_hash = NULL, session_epoch = session_epoch + 1 \
         WHERE org_id = $1 AND id = $2",
        org,
        account.id,
        &username
    )
    .map_err(username_taken())?;
    cancel_links(tx, org, account.id, now_ns).await?;
    Ok(Some(AddressChanged {
        username,
        password_dropped: account.password_hash.is_some(),
    }))
}

/// Sets an account's password and confirms it (the patient proved the address by
/// following a link); every other session and every other link of the account ends.
pub async fn set_password(
    tx: &mut Tx,
    org: i64,
    account: i64,
    password_hash: &str,
    now_ns: i64,
) -> Result<PortalAccount> {
    let sql = format!(
        "UPDATE portal_accounts SET password_hash = $3, confirmed_at_ns = COALESCE(confirmed_at_ns, $4), \
         session_epoch = session_epoch + 1 WHERE org_id = $1 AND id = $2 RETURNING {COLUMNS}"
    );
    let updated = rows!(
        tx.exec(),
        fetch_optional,
        PortalAccount,
        &sql,
        org,
        account,
        password_hash,
        now_ns
    )?
    .ok_or(Error::NotFound("portal account"))?;
    // A new password ends every other link too (the one used is already spent).
    cancel_links(tx, org, account, now_ns).await?;
    Ok(updated)
}

/// Every unused link of the account stops working: its credentials or its address
/// changed, so a link sent before (perhaps to another address) must not set them. A
/// change of address the patient started and has not confirmed is cancelled too
/// ([`crate::portal_email_change`]): it was asked for under the old credentials.
pub async fn cancel_links(tx: &mut Tx, org: i64, account: i64, now_ns: i64) -> Result<()> {
    execute!(
        tx.exec(),
        "UPDATE auth_tokens SET used_at_ns = $3 WHERE org_id = $1 AND account_kind = 'portal' \
         AND account_id = $2 AND used_at_ns IS NULL",
        org,
        account,
        now_ns
    )?;
    // The table is the email-change module's; it is written here (not through that
    // module, which reads accounts through this one) so that no import goes in a circle.
    execute!(
        tx.exec(),
        "UPDATE portal_email_changes SET cancelled_at_ns = $3 WHERE org_id = $1 AND account_id = $2 \
         AND used_at_ns IS NULL AND cancelled_at_ns IS NULL",
        org,
        account,
        now_ns
    )?;
    Ok(())
}

/// Issues a link for an account: the plain token, to put in the email. A new
/// invitation makes the previous one stop working (staff sent it again); reset links
/// do not replace each other (a stranger asking for resets must not spoil the one the
/// patient asked for), and every link stops working once any of them sets a password.
pub async fn issue_token(
    tx: &mut Tx,
    org: i64,
    account: i64,
    purpose: Purpose,
    token: &str,
    now_ns: i64,
) -> Result<()> {
    if purpose == Purpose::Invitation {
        execute!(
            tx.exec(),
            "UPDATE auth_tokens SET used_at_ns = $4 WHERE org_id = $1 AND account_kind = 'portal' \
             AND account_id = $2 AND purpose = $3 AND used_at_ns IS NULL",
            org,
            account,
            purpose.as_str(),
            now_ns
        )?;
    }
    execute!(
        tx.exec(),
        "INSERT INTO auth_tokens (org_id, purpose, account_kind, account_id, token_hash, created_at_ns, expires_at_ns) \
         VALUES ($1, $2, 'portal', $3, $4, $5, $6)",
        org,
        purpose.as_str(),
        account,
        token_hash(token),
        now_ns,
        now_ns + purpose.lifetime_ns()
    )?;
    Ok(())
}

/// What a link turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenState {
    /// It works: the account it opens.
    Valid(PortalAccount),
    /// It worked once and was used (or replaced by a newer link).
    Used,
    /// Its time is up.
    Expired,
    /// No link of this purpose has this token in the organisation (mistyped, cut
    /// short, or never sent).
    Unknown,
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    account_id: i64,
    expires_at_ns: i64,
    used_at_ns: Option<i64>,
}

async fn find(
    exec: &mut Exec<'_>,
    org: i64,
    purpose: Purpose,
    token: &str,
) -> Result<Option<TokenRow>> {
    Ok(rows!(
        exec.reborrow(),
        fetch_optional,
        TokenRow,
        "SELECT account_id, expires_at_ns, used_at_ns FROM auth_tokens \
         WHERE org_id = $1 AND purpose = $2 AND account_kind = 'portal' AND token_hash = $3",
        org,
        purpose.as_str(),
        token_hash(token)
    )?)
}

/// Looks a link up without using it (to show the right page). A link works while
/// `now < expires`: at exactly the expiry instant it has expired.
pub async fn inspect(
    exec: &mut Exec<'_>,
    org: i64,
    purpose: Purpose,
    token: &str,
    now_ns: i64,
) -> Result<TokenState> {
    let Some(row) = find(exec, org, purpose, token).await? else {
        return Ok(TokenState::Unknown);
    };
    if row.used_at_ns.is_some() {
        return Ok(TokenState::Used);
    }
    if now_ns >= row.expires_at_ns {
        return Ok(TokenState::Expired);
    }
    Ok(TokenState::Valid(
        get(exec.reborrow(), org, row.account_id).await?,
    ))
}

/// Uses a link: checks it and marks it used, in the caller's transaction.
pub async fn redeem(
    tx: &mut Tx,
    org: i64,
    purpose: Purpose,
    token: &str,
    now_ns: i64,
) -> Result<TokenState> {
    let state = inspect(&mut tx.exec(), org, purpose, token, now_ns).await?;
    if let TokenState::Valid(_) = &state {
        let n = execute!(
            tx.exec(),
            "UPDATE auth_tokens SET used_at_ns = $3 WHERE org_id = $1 AND token_hash = $2 AND used_at_ns IS NULL",
            org,
            token_hash(token),
            now_ns
        )?;
        if n == 0 {
            return Ok(TokenState::Used);
        }
    }
    Ok(state)
}

/// When the patient's latest invitation was sent and until when it works, if any.
pub async fn latest_invitation(
    exec: Exec<'_>,
    org: i64,
    account: i64,
) -> Result<Option<(i64, i64, bool)>> {
    Ok(rows!(
        exec,
        fetch_optional,
        (i64, i64, bool),
        "SELECT created_at_ns, expires_at_ns, used_at_ns IS NOT NULL FROM auth_tokens \
         WHERE org_id = $1 AND account_kind = 'portal' AND account_id = $2 AND purpose = 'invitation' \
         ORDER BY created_at_ns DESC, id DESC LIMIT 1",
        org,
        account
    )?)
}

/// Records a proof-of-work CAPTCHA solution as used; `false` when it already was.
pub async fn use_captcha(
    tx: &mut Tx,
    signature_hash: &[u8],
    expires_at_ns: i64,
    now_ns: i64,
) -> Result<bool> {
    execute!(
        tx.exec(),
        "DELETE FROM captcha_uses WHERE expires_at_ns < $1",
        now_ns
    )?;
    // One statement decides: a read-then-insert lets two requests with the same
    // solution both read "unused", and the second insert then fails on the unique key
    // (a 500 on PostgreSQL). With ON CONFLICT the second waits for the first and
    // inserts nothing, which is the answer "already used".
    let inserted = execute!(
        tx.exec(),
        "INSERT INTO captcha_uses (signature_hash, expires_at_ns) VALUES ($1, $2) \
         ON CONFLICT (signature_hash) DO NOTHING",
        signature_hash,
        expires_at_ns
    )?;
    Ok(inserted == 1)
}

/// Every practitioner of the organisation as `(id, name, bookable in the portal)`, by
/// name: the choices for a patient's available practitioners.
pub async fn practitioner_choices(exec: Exec<'_>, org: i64) -> Result<Vec<(i64, String, bool)>> {
    Ok(rows!(
        exec,
        fetch_all,
        (i64, String, bool),
        "SELECT id, name, active AND bookable_in_portal FROM practitioners WHERE org_id = $1 ORDER BY name, id",
        org
    )?)
}
