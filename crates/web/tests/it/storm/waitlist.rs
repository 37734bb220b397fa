//! The waitlist's storm (issue 17): a cancelled time offered by the servers' own
//! matcher to twenty waiting patients, every one of whom accepts at once, three times
//! over, through every server. Exactly one booking; every other answer a clean 409
//! whose `details.outcome` is `taken` (the winner's repeated clicks get their own
//! booking back); never a 5xx; in the database one appointment at that time, the hold
//! accepted once, the other offers gone.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use store::audit::Actor;
use store::waitlist::Settings;
use store::{Clock, SystemClock};
use tokio::sync::Barrier;

use super::{Answer, Cluster, Visitor, at, instant_ns};
use crate::support::Backend;

/// How many waiting patients join; the first [`OFFERED`] are offered the time.
const WAITING: usize = 30;
const OFFERED: usize = 20;
/// How many times each recipient clicks "accept" at once.
const CLICKS: usize = 3;

async fn a_waitlist_storm(cluster: &Cluster) {
    let ids = &cluster.ids;
    let db = cluster.db().await;
    {
        let mut tx = db.begin().await.unwrap();
        store::waitlist::set_settings(
            &mut tx,
            cluster.org.id,
            &Settings {
                offer_count: OFFERED as i64,
                hold_minutes: 60,
                max_holds_per_service: 3,
                max_entries_per_patient: 5,
            },
            Actor::Staff(0),
            SystemClock.now_ns(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let start = at(0, "09:00");
    let bases: Vec<String> = cluster.servers.iter().map(|s| s.base.clone()).collect();
    // Patient 0 takes the time; the others join the waitlist for it (09:00–09:30 that
    // day only), in order.
    let owner = Visitor::patient(&bases[0], 0).await;
    let booked = match owner.book(ids.consult, ids.amy, &start).await {
        Answer::Status(StatusCode::CREATED, body) => body["id"].as_i64().unwrap(),
        other => panic!("{other:?}"),
    };
    let day = &start[..10];
    let mut waiting = Vec::new();
    for i in 1..=WAITING {
        let v = Visitor::patient(&bases[i % bases.len()], i).await;
        match v
            .post(
                "portal/waitlist",
                json!({"service_id": ids.consult, "from_date": day, "to_date": day,
                       "from_time": "09:00", "to_time": "09:30"}),
            )
            .await
        {
            Answer::Status(StatusCode::CREATED, _) => {}
            other => panic!("patient {i} could not join: {other:?}"),
        }
        waiting.push(v);
    }
    // The cancellation wakes the matcher of the server it reached; the others find the
    // time held when they look.
    match owner
        .post(&format!("portal/appointments/{booked}/cancel"), json!({}))
        .await
    {
        Answer::Status(StatusCode::OK, _) => {}
        other => panic!("{other:?}"),
    }
    // The offers: read from the outbox, as the mail sender will send them.
    let deadline = Instant::now() + Duration::from_secs(90);
    let tokens = loop {
        let mut tokens = Vec::new();
        for i in 1..=WAITING {
            let mut conn = db.conn().await.unwrap();
            let mail = store::outbox::to_address(conn.exec(), &format!("p{i}@storm.example"), 20)
                .await
                .unwrap();
            if let Some(offer) = mail
                .iter()
                .find(|m| m.subject.starts_with("A time has come free"))
            {
                let link = offer
                    .body_text
                    .split_whitespace()
                    .find(|w| w.contains("/offers/"))
                    .unwrap();
                tokens.push((i, link.rsplit('/').next().unwrap().to_owned()));
            }
        }
        if tokens.len() == OFFERED {
            break tokens;
        }
        assert!(
            Instant::now() < deadline,
            "{} offers after 90 s",
            tokens.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        tokens.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        (1..=OFFERED).collect::<Vec<_>>(),
        "the first to join are offered it"
    );
    // Everyone accepts at once, each click through another server.
    let barrier = Arc::new(Barrier::new(OFFERED * CLICKS));
    let mut set = tokio::task::JoinSet::new();
    for (n, (i, token)) in tokens.iter().enumerate() {
        for click in 0..CLICKS {
            let mut v = waiting[i - 1].clone();
            v.base = bases[(n + click) % bases.len()].clone();
            let (barrier, token, i) = (barrier.clone(), token.clone(), *i);
            set.spawn(async move {
                barrier.wait().await;
                let answer = v
                    .post(&format!("waitlist/offers/{token}/accept"), json!({}))
                    .await;
                (i, answer)
            });
        }
    }
    let answers = set.join_all().await;
    let mut winners = std::collections::BTreeSet::new();
    let mut appointments = std::collections::BTreeSet::new();
    let mut taken = 0;
    for (i, answer) in &answers {
        match answer {
            Answer::Status(StatusCode::OK, body) => {
                assert_eq!(body["state"], "accepted", "{body}");
                winners.insert(*i);
                appointments.insert(body["appointment_id"].as_i64().unwrap());
            }
            Answer::Status(StatusCode::CONFLICT, body) => {
                assert_eq!(body["error"]["details"]["outcome"], "taken", "{body}");
                taken += 1;
            }
            other => panic!("patient {i}: {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "one patient won: {winners:?}");
    assert_eq!(appointments.len(), 1, "one booking: {appointments:?}");
    assert!(taken >= (OFFERED - 1) * CLICKS, "{taken} taken");
    // The database agrees: one live appointment at that time, the winner's.
    let mut conn = db.conn().await.unwrap();
    let live = store::appointment::in_range(
        conn.exec(),
        &cluster.org,
        instant_ns(&start),
        instant_ns(&start) + 1,
        Some(ids.amy),
    )
    .await
    .unwrap()
    .into_iter()
    .filter(|a| a.practitioner_id == ids.amy && a.status != store::AppointmentStatus::Cancelled)
    .collect::<Vec<_>>();
    assert_eq!(live.len(), 1, "{live:?}");
    let winner = *winners.iter().next().unwrap();
    assert_eq!(live[0].patient_id, Some(ids.patients[winner]));
    assert_eq!(live[0].channel, store::Channel::Portal);
    let holds = store::appointment::open_holds(conn.exec(), cluster.org.id)
        .await
        .unwrap();
    assert!(holds.is_empty(), "{holds:?}");
    let gone = (1..=OFFERED).filter(|i| *i != winner).count();
    let mut told = 0;
    for i in (1..=OFFERED).filter(|i| *i != winner) {
        let mail = store::outbox::to_address(conn.exec(), &format!("p{i}@storm.example"), 20)
            .await
            .unwrap();
        told += usize::from(
            mail.iter()
                .any(|m| m.subject.starts_with("The offered time has gone")),
        );
    }
    assert_eq!(told, gone, "every other recipient is told it has gone");
    eprintln!(
        "waitlist storm: {} servers, {} accepts at once, 1 booked, {taken} taken",
        bases.len(),
        answers.len()
    );
    // The matchers' passes that did something, with how long each took.
    for server in &cluster.servers {
        let log = std::fs::read_to_string(&server.log).unwrap_or_default();
        for line in log.lines().filter(|l| l.contains("waitlist pass")) {
            eprintln!("  {}", line.trim());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_one_server_waitlist_storm() {
    let cluster = Cluster::start(Backend::Sqlite, 1).await;
    a_waitlist_storm(&cluster).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set OPENSLOT_TEST_POSTGRES_URL"]
async fn postgres_one_server_waitlist_storm() {
    let cluster = Cluster::start(Backend::Postgres, 1).await;
    a_waitlist_storm(&cluster).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set OPENSLOT_TEST_POSTGRES_URL"]
async fn postgres_two_servers_waitlist_storm() {
    let cluster = Cluster::start(Backend::Postgres, 2).await;
    a_waitlist_storm(&cluster).await;
}
