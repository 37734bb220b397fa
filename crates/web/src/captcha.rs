//! A proof-of-work CAPTCHA that needs no third-party service (the ALTCHA v2 protocol,
//! with the `altcha` crate on the server).
//!
//! The server issues a challenge signed with a secret shared by every instance; the
//! browser (`/static/pow.js`, WebCrypto) or an API client searches the counter whose
//! derived key starts with the challenge's prefix; the server checks the signature and
//! the solution, and accepts each challenge once (its signature is recorded until it
//! expires). `docs/api.md` documents the algorithm for API clients.

use std::collections::BTreeMap;

use altcha::{Challenge, CreateChallengeOptions, Payload, VerifySolutionOptions};
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::error::AppError;
use crate::state::AppState;

/// How long a challenge may be solved and used: ten minutes.
const LIFETIME_NS: i64 = 600 * 1_000_000_000;
const NS_PER_MS: i64 = 1_000_000;
/// Each attempt is one SHA-256; the counter to find is drawn from this range, so a
/// browser does about 30,000 hashes on average (a second or two), a bot per request too.
const COUNTERS: std::ops::RangeInclusive<u32> = 10_000..=50_000;

async fn secret(state: &AppState) -> Result<String, AppError> {
    let fresh = crate::auth::csrf::random_token();
    Ok(store::secrets::get_or_create(&state.db, "captcha-hmac", &fresh).await?)
}

/// A fresh challenge, as JSON for the browser or an API client.
pub async fn issue(state: &AppState) -> Result<Challenge, AppError> {
    let secret = secret(state).await?;
    let mut counter_bytes = [0u8; 4];
    getrandom::fill(&mut counter_bytes).map_err(AppError::internal)?;
    let span = COUNTERS.end() - COUNTERS.start() + 1;
    let counter = COUNTERS.start() + u32::from_le_bytes(counter_bytes) % span;
    // The expiry is ours (the server's clock), signed inside the challenge's data. It
    // is in milliseconds: a browser reads JSON numbers as doubles, exact only below
    // 2^53, and sends the challenge back as it read it, so nanoseconds would come back
    // rounded and fail the signature.
    let mut data = BTreeMap::new();
    data.insert(
        "expires_ms".to_owned(),
        serde_json::Value::from((state.clock.now_ns() + LIFETIME_NS).div_euclid(NS_PER_MS)),
    );
    altcha::create_challenge(CreateChallengeOptions {
        algorithm: "SHA-256".to_owned(),
        cost: 1,
        counter: Some(counter),
        data: Some(data),
        hmac_signature_secret: Some(secret),
        ..Default::default()
    })
    .map_err(AppError::internal)
}

/// Checks a solved challenge — `payload` is the base64 (or plain) JSON
/// `{"challenge": …, "solution": {"counter": N, "derivedKey": "…"}}` — and uses it up.
pub async fn verify(state: &AppState, payload: &str) -> Result<(), AppError> {
    let refused = || {
        AppError::invalid(
            "captcha",
            "the anti-robot check did not pass; please try again",
        )
    };
    let payload = payload.trim();
    if payload.is_empty() {
        return Err(AppError::invalid(
            "captcha",
            "complete the anti-robot check first (it needs JavaScript)",
        ));
    }
    let text = match base64::engine::general_purpose::STANDARD.decode(payload) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| refused())?,
        Err(_) => payload.to_owned(),
    };
    let Payload {
        challenge,
        solution,
    } = serde_json::from_str(&text).map_err(|_| refused())?;
    let secret = secret(state).await?;
    let result =
        altcha::verify_solution(VerifySolutionOptions::new(&challenge, &solution, &secret))
            .map_err(|_| refused())?;
    if !result.verified {
        return Err(refused());
    }
    let expires_ns = challenge
        .parameters
        .data
        .as_ref()
        .and_then(|d| d.get("expires_ms"))
        .and_then(serde_json::Value::as_i64)
        .and_then(|ms| ms.checked_mul(NS_PER_MS))
        .ok_or_else(refused)?;
    let now = state.clock.now_ns();
    if now >= expires_ns {
        return Err(AppError::invalid(
            "captcha",
            "the anti-robot check has expired; please try again",
        ));
    }
    let signature = challenge.signature.as_deref().ok_or_else(refused)?;
    let mut tx = state.db.begin().await?;
    let first_use = store::portal_access::use_captcha(
        &mut tx,
        &Sha256::digest(signature.as_bytes()),
        expires_ns,
        now,
    )
    .await?;
    tx.commit().await?;
    if first_use { Ok(()) } else { Err(refused()) }
}

/// Solves a challenge (for tests and API clients written in Rust).
pub fn solve(challenge: &Challenge) -> String {
    let solution = altcha::solve_challenge(altcha::SolveChallengeOptions::new(challenge))
        .expect("a valid challenge")
        .expect("solvable within the timeout");
    let payload = Payload {
        challenge: challenge.clone(),
        solution,
    };
    base64::engine::general_purpose::STANDARD
        .encode(serde_json::to_vec(&payload).expect("serializes"))
}
