//! The proof-of-work CAPTCHA: a solved challenge passes once; a reused, tampered,
//! unsolved or expired one does not.

use std::sync::Arc;

use openslot_web::captcha;
use openslot_web::config::Config;
use openslot_web::state::AppState;
use store::FixedClock;

use crate::both;
use crate::support::{Backend, TestApp};

async fn a_solved_challenge_passes_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let clock = Arc::new(FixedClock::new("2026-03-01T12:00:00Z".parse().unwrap()));
    let state = AppState::new(
        app.db.clone(),
        clock.clone(),
        Config::local("http://localhost"),
    );
    let challenge = captcha::issue(&state).await.unwrap();
    assert_eq!(challenge.parameters.algorithm, "SHA-256");
    let payload = captcha::solve(&challenge);
    captcha::verify(&state, &payload)
        .await
        .expect("a solved challenge passes");
    let again = captcha::verify(&state, &payload).await.unwrap_err();
    assert_eq!(again.code(), "invalid", "a challenge is used once");

    // Tampered: a different counter.
    let other = captcha::issue(&state).await.unwrap();
    let mut forged = altcha::solve_challenge(altcha::SolveChallengeOptions::new(&other))
        .unwrap()
        .unwrap();
    forged.counter += 1;
    let text = serde_json::to_string(&altcha::Payload {
        challenge: other.clone(),
        solution: forged,
    })
    .unwrap();
    assert!(captcha::verify(&state, &text).await.is_err());
    // Tampered: an easier prefix, so the signature no longer matches.
    let mut easier = other.clone();
    easier.parameters.key_prefix = "0".into();
    let solution = altcha::solve_challenge(altcha::SolveChallengeOptions::new(&easier))
        .unwrap()
        .unwrap();
    let text = serde_json::to_string(&altcha::Payload {
        challenge: easier,
        solution,
    })
    .unwrap();
    assert!(captcha::verify(&state, &text).await.is_err());
    // Missing or garbage.
    assert!(captcha::verify(&state, "").await.is_err());
    assert!(captcha::verify(&state, "not json").await.is_err());

    // Expired: ten minutes after it was issued.
    let late = captcha::issue(&state).await.unwrap();
    let payload = captcha::solve(&late);
    clock.advance(600);
    let expired = captcha::verify(&state, &payload).await.unwrap_err();
    assert!(
        expired.message().contains("expired"),
        "{}",
        expired.message()
    );
    app.stop().await;
}

both!(a_solved_challenge_passes_once);
