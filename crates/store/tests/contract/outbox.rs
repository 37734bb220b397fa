//! The mail outbox's claim (`outbox::claim_next`): which message a sender takes next,
//! on both backends. A message is claimed once it is due, earliest first; one a
//! sender claimed and never recorded (it crashed) is claimed again once
//! `CLAIM_NS` has passed, before newer mail; nothing is claimed twice while its
//! claim stands; and on PostgreSQL senders running at once each get their own.

use store::outbox::{self, CLAIM_NS, NewMessage};

use crate::{TestDb, booking_clinic, both};

const SECOND: i64 = 1_000_000_000;
const T0: i64 = 1_800_000_000 * SECOND;

async fn queue(t: &TestDb, org: i64, to: &str, due_ns: i64) -> i64 {
    let mut tx = t.db.begin().await.unwrap();
    let id = outbox::enqueue(
        &mut tx,
        org,
        &NewMessage {
            to: to.to_owned(),
            subject: "Your appointment".to_owned(),
            body: "Hello".to_owned(),
            ics: None,
        },
        due_ns,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn claimed(t: &TestDb, now_ns: i64) -> Option<(i64, String)> {
    outbox::claim_next(&t.db, now_ns)
        .await
        .unwrap()
        .map(|m| (m.id, m.to_address))
}

async fn mail_is_claimed_once_due_earliest_first_and_again_after_a_crash(t: &TestDb) {
    let (org, _) = booking_clinic(&t.db, 1, 1).await;
    assert_eq!(claimed(t, T0).await, None, "an empty outbox");
    let later = queue(t, org.id, "later@example.com", T0 + 60 * SECOND).await;
    let first = queue(t, org.id, "first@example.com", T0).await;
    let second = queue(t, org.id, "second@example.com", T0 + SECOND).await;

    // Due ones, earliest first; the later one is not due yet.
    assert_eq!(
        claimed(t, T0 + 2 * SECOND).await,
        Some((first, "first@example.com".into()))
    );
    outbox::mark_sent(&t.db, first, T0 + 2 * SECOND)
        .await
        .unwrap();
    assert_eq!(
        claimed(t, T0 + 2 * SECOND).await,
        Some((second, "second@example.com".into()))
    );
    // `second`'s sender crashes without recording it: while its claim stands nothing
    // else is due, and it is not claimed again.
    assert_eq!(claimed(t, T0 + 3 * SECOND).await, None);
    assert_eq!(
        claimed(t, T0 + 2 * SECOND + CLAIM_NS - SECOND)
            .await
            .map(|c| c.0),
        Some(later)
    );
    outbox::mark_sent(&t.db, later, T0 + CLAIM_NS)
        .await
        .unwrap();
    // A new message due now waits behind the crashed claim, which has waited longer.
    let fresh = queue(t, org.id, "fresh@example.com", T0 + CLAIM_NS).await;
    let after = T0 + 2 * SECOND + CLAIM_NS;
    assert_eq!(claimed(t, after).await.map(|c| c.0), Some(second));
    assert_eq!(claimed(t, after).await.map(|c| c.0), Some(fresh));
    assert_eq!(claimed(t, after).await, None, "each claimed once");

    // A failure is retried after its backoff, then claimed like new mail.
    outbox::mark_failed(&t.db, fresh, "421 try later", after)
        .await
        .unwrap();
    assert_eq!(claimed(t, after + 29 * SECOND).await, None);
    assert_eq!(
        claimed(t, after + 30 * SECOND).await.map(|c| c.0),
        Some(fresh)
    );
}

/// Many senders at once (several servers' worth): every message is claimed by exactly
/// one of them.
async fn senders_at_once_each_claim_their_own(t: &TestDb) {
    let (org, _) = booking_clinic(&t.db, 1, 1).await;
    let mut queued = Vec::new();
    for n in 0..40 {
        queued.push(queue(t, org.id, &format!("p{n}@example.com"), T0 + n * SECOND).await);
    }
    let mut senders = Vec::new();
    for _ in 0..8 {
        let db = t.db.clone();
        senders.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(m) = outbox::claim_next(&db, T0 + 60 * SECOND).await.unwrap() {
                mine.push(m.id);
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for s in senders {
        all.extend(s.await.unwrap());
    }
    all.sort_unstable();
    assert_eq!(all, queued, "each message claimed by exactly one sender");
}

both!(
    mail_is_claimed_once_due_earliest_first_and_again_after_a_crash,
    senders_at_once_each_claim_their_own
);
