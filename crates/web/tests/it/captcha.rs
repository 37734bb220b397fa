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

/// What a browser does to JSON: every number becomes a double (exact below 2^53 only)
/// and is written back from it.
fn through_javascript(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Value::from(i as f64 as i64),
            (None, Some(u), _) => Value::from(u as f64 as u64),
            (_, _, Some(f)) => Value::from(f),
            _ => Value::Number(n),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(through_javascript).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, through_javascript(v)))
                .collect(),
        ),
        other => other,
    }
}

/// The sign-up page's script (static/pow.js) parses the challenge with `JSON.parse` and
/// sends it back with `JSON.stringify`: the signed challenge must survive that.
async fn a_challenge_survives_a_browsers_json(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let clock = Arc::new(FixedClock::new(
        "2026-11-28T10:23:58.194667297Z".parse().unwrap(),
    ));
    let state = AppState::new(
        app.db.clone(),
        clock.clone(),
        Config::local("http://localhost"),
    );
    let challenge = captcha::issue(&state).await.unwrap();
    let payload = captcha::solve(&challenge);
    let bytes =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, payload).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let browser = serde_json::to_string(&through_javascript(json)).unwrap();
    captcha::verify(&state, &browser)
        .await
        .expect("the challenge as a browser sends it back passes");
    app.stop().await;
}

/// One solution sent several times at once (a double click, a replaying bot): exactly
/// one use passes, every other is refused naming `captcha` — never a 500 from the
/// unique key the uses race for.
async fn a_solution_used_twice_at_once_passes_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let state = app.state.clone();
    for _ in 0..3 {
        let challenge = captcha::issue(&state).await.unwrap();
        let payload = captcha::solve(&challenge);
        let uses: Vec<_> = (0..6)
            .map(|_| {
                let state = state.clone();
                let payload = payload.clone();
                tokio::spawn(async move { captcha::verify(&state, &payload).await })
            })
            .collect();
        let mut passed = 0;
        for used in uses {
            match used.await.unwrap() {
                Ok(()) => passed += 1,
                Err(e) => {
                    assert_eq!(e.status(), 422, "{}", e.message());
                    assert_eq!(
                        e.message(),
                        "captcha: the anti-robot check did not pass; please try again"
                    );
                }
            }
        }
        assert_eq!(passed, 1, "one solution, one use");
    }
    app.stop().await;
}

both!(
    a_solved_challenge_passes_once,
    a_challenge_survives_a_browsers_json,
    a_solution_used_twice_at_once_passes_once
);
