//! Public sign-ups waiting for their address to be proven.
//!
//! A sign-up changes nothing of the clinic's patients or accounts when it is made: what
//! the person typed (names, address, the hash of the password they chose) waits here
//! with a single-use emailed link (3 days, only its SHA-256 stored). It takes effect only
//! when the link is followed *and* the password chosen at sign-up is given again
//! ([`complete`]): the link proves the address, the password proves it is the same
//! person. An attacker who knows someone's address but cannot read their mail gets
//! nowhere; neither does the owner of the address who follows a link they did not ask
//! for.

use crate::db::{Exec, Tx, execute, rows, scalar};
use crate::error::Result;
use crate::patient::PatientInput;
use crate::portal_access::{self, INVITATION_NS, PortalAccount, token_hash};

/// A sign-up waiting for its link.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PendingSignup {
    pub id: i64,
    /// The address signed up with (lower-case): the future username.
    pub email: String,
    /// The names typed at sign-up, trimmed: used only if the sign-up needs a new patient
    /// (no patient, or several, with the address).
    pub first_name: String,
    pub last_name: String,
    /// Argon2id PHC string of the password chosen at sign-up.
    pub password_hash: String,
    expires_at_ns: i64,
    used_at_ns: Option<i64>,
}

/// What a sign-up to record carries (already checked by the caller: names present,
/// address well-formed, password strong, CAPTCHA solved).
#[derive(Clone, Debug)]
pub struct NewSignup<'a> {
    /// Stored trimmed and lower-cased, as the username it will become.
    pub email: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    /// Argon2id PHC string of the chosen password.
    pub password_hash: &'a str,
}

/// Records a sign-up and its link token (the plain token goes in the email).
pub async fn record(
    tx: &mut Tx,
    org: i64,
    new: &NewSignup<'_>,
    token: &str,
    now_ns: i64,
) -> Result<()> {
    execute!(
        tx.exec(),
        "DELETE FROM portal_signups WHERE org_id = $1 AND expires_at_ns <= $2",
        org,
        now_ns
    )?;
    execute!(
        tx.exec(),
        "INSERT INTO portal_signups (org_id, email, first_name, last_name, password_hash, token_hash, \
         created_at_ns, expires_at_ns) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        org,
        new.email.trim().to_lowercase(),
        new.first_name.trim(),
        new.last_name.trim(),
        new.password_hash,
        token_hash(token),
        now_ns,
        now_ns + INVITATION_NS
    )?;
    Ok(())
}

/// Whether a sign-up with this address is waiting for its link (neither used nor
/// expired): the address is spoken for until then, so a patient's change of address
/// cannot take it ([`crate::portal_email_change::start`]).
pub async fn waiting(exec: Exec<'_>, org: i64, email: &str, now_ns: i64) -> Result<bool> {
    let n = scalar!(
        exec,
        i64,
        "SELECT COUNT(*) FROM portal_signups WHERE org_id = $1 AND email = $2 \
         AND used_at_ns IS NULL AND expires_at_ns > $3",
        org,
        email.trim().to_lowercase(),
        now_ns
    )?;
    Ok(n > 0)
}

/// What a sign-up link turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// It works: the sign-up it confirms.
    Valid(PendingSignup),
    /// It was followed already: the sign-up was completed, or found its address taken.
    Used,
    /// Its time is up.
    Expired,
    /// No sign-up of the organisation has this token. An expired link can read so too:
    /// [`record`] deletes the expired sign-ups.
    Unknown,
}

/// Looks a link up without using it. A link works while `now < expires`.
pub async fn inspect(exec: Exec<'_>, org: i64, token: &str, now_ns: i64) -> Result<LinkState> {
    let found = rows!(
        exec,
        fetch_optional,
        PendingSignup,
        "SELECT id, email, first_name, last_name, password_hash, expires_at_ns, used_at_ns \
         FROM portal_signups WHERE org_id = $1 AND token_hash = $2",
        org,
        token_hash(token)
    )?;
    Ok(match found {
        None => LinkState::Unknown,
        Some(s) if s.used_at_ns.is_some() => LinkState::Used,
        Some(s) if now_ns >= s.expires_at_ns => LinkState::Expired,
        Some(s) => LinkState::Valid(s),
    })
}

/// What confirming a sign-up did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Completed {
    /// The account, ready to sign in: on the clinic's patient with this address when
    /// there is exactly one (and it has no account yet), else on a new patient.
    Account(PortalAccount),
    /// The address already has an account (made since, or by the clinic): nothing
    /// changed; its owner signs in or resets the password.
    AddressHasAccount,
}

/// Confirms a sign-up whose link was followed with the right password (the caller
/// checked it against [`PendingSignup::password_hash`]): marks the link used and makes
/// the account, in the caller's transaction. Everything is decided again here, inside
/// the transaction, from what the database holds now.
pub async fn complete(
    tx: &mut Tx,
    org: i64,
    token: &str,
    now_ns: i64,
) -> Result<Option<Completed>> {
    let LinkState::Valid(signup) = inspect(tx.exec(), org, token, now_ns).await? else {
        return Ok(None);
    };
    let n = execute!(
        tx.exec(),
        "UPDATE portal_signups SET used_at_ns = $3 WHERE org_id = $1 AND id = $2 AND used_at_ns IS NULL",
        org,
        signup.id,
        now_ns
    )?;
    if n == 0 {
        return Ok(None);
    }
    if !portal_access::of_address(&mut tx.exec(), org, &signup.email)
        .await?
        .is_empty()
    {
        return Ok(Some(Completed::AddressHasAccount));
    }
    let known = crate::patient::by_email(tx.exec(), org, &signup.email).await?;
    let patient = match known.as_slice() {
        [only] => only.id,
        // No patient with this address, or several (a family sharing one): a new record,
        // which the clinic can merge; attaching to one of several would be a guess.
        _ => {
            crate::patient::create(
                tx,
                org,
                &PatientInput {
                    first_name: signup.first_name.clone(),
                    last_name: signup.last_name.clone(),
                    email: signup.email.clone(),
                    phone: String::new(),
                },
            )
            .await?
            .id
        }
    };
    let account = portal_access::set_credentials(
        tx,
        org,
        patient,
        &signup.email,
        &signup.password_hash,
        now_ns,
    )
    .await?;
    Ok(Some(Completed::Account(account)))
}
