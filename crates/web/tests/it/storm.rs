//! Booking storms over HTTP: many patients booking at once through real `openslot
//! serve` processes — one on a SQLite file, two on one PostgreSQL database — and a
//! server killed with SIGKILL in the middle of one. Afterwards the database itself is
//! checked: no slot over its capacity, every acknowledged change there with its email
//! and its audit entry, nothing else written, every refusal a 409 that offers the next
//! open times.
//!
//! The short form runs in the test command (`OPENSLOT_STORM_PATIENTS`, default 240,
//! all requests released at once). The long form is the same tests with more patients
//! (docs/reliability.md).

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use slot_engine::Scenario;
use store::keys::Kind;
use store::staff::{NewStaff, Role};
use store::transfer::{self, ImportMode};
use store::{Clock, Db, Organisation, SystemClock};
use tokio::sync::Barrier;

use crate::database::TestDatabase;
use crate::support::{Backend, PASSWORD};

const SLUG: &str = "storm";

/// The waitlist's storm (issue 17), on this module's cluster.
mod waitlist;

/// How many patients storm (each with one request in flight at the peak).
fn patient_count() -> usize {
    std::env::var("OPENSLOT_STORM_PATIENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(240)
}

/// The clinic's zone (its slots are written with its offset).
const ZONE: chrono_tz::Tz = chrono_tz::Europe::London;

/// The first storm day: three days ahead, inside every booking window.
fn storm_day() -> NaiveDate {
    Utc::now().date_naive() + Days::new(3)
}

/// `HH:MM` on `day + offset` in the clinic's zone, as the API writes it.
fn at(offset: u64, time: &str) -> String {
    let day = storm_day() + Days::new(offset);
    let naive = day.and_time(time.parse().unwrap());
    ZONE.from_local_datetime(&naive)
        .single()
        .unwrap()
        .to_rfc3339()
}

fn instant_ns(rfc3339: &str) -> i64 {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .timestamp_nanos_opt()
        .unwrap()
}

/// Two practitioners: Amy sees one patient at a time ("consult", capacity 1); Ben
/// takes up to three at once ("class": his schedule type allows conflicts and the
/// service's portal conflicts are 3). Both work 09:00–17:00 every day in 30-minute
/// slots. With `rooms` (the room storm) nineteen more one-to-one
/// practitioners r01…r19 beside Amy, and three rooms every consultation needs one of:
/// the gym (two places), Room A and Room B; so at most four consultations at once,
/// whoever gives them.
fn base_scenario(patients: usize, rooms: bool) -> Scenario {
    let week = json!([{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                       "start": "09:00", "end": "17:00", "schedule_type": "TYPE"}]);
    let record = |t: &str| {
        json!([{"start_date": Utc::now().date_naive().to_string(), "end_date": null,
                "slot_step_minutes": 30,
                "blocks": serde_json::from_str::<Value>(&week.to_string().replace("TYPE", t)).unwrap()}])
    };
    let patients: Vec<Value> = (0..patients)
        .map(|i| {
            json!({"id": format!("p{i}"), "first_name": "Patient", "last_name": format!("No. {i}"),
                   "email": format!("p{i}@storm.example")})
        })
        .collect();
    let value = json!({
        "version": 1,
        "clinics": [{"id": "london", "name": "London", "timezone": "Europe/London"}],
        "schedule_types": [
            {"id": "solo", "name": "One to one", "default_duration_minutes": 30},
            {"id": "group", "name": "Group", "default_duration_minutes": 30, "allow_conflicts": true}
        ],
        "practitioners": [
            {"id": "amy", "name": "Amy", "type": "physio", "home_clinic": "london",
             "schedule_types": ["solo"], "availability": record("solo")},
            {"id": "ben", "name": "Ben", "type": "physio", "home_clinic": "london",
             "schedule_types": ["group"], "availability": record("group")}
        ],
        "services": [
            {"id": "consult", "name": "Consultation", "duration_minutes": 30, "book_from_portal": true,
             "portal_conflicts": 1, "schedule_types": ["solo"]},
            {"id": "class", "name": "Class", "duration_minutes": 30, "book_from_portal": true,
             "portal_conflicts": 3, "schedule_types": ["group"]}
        ],
        "patients": patients
    });
    let mut value = value;
    if rooms {
        value["version"] = json!(3);
        for n in 1..=19 {
            value["practitioners"].as_array_mut().unwrap().push(json!(
                {"id": format!("r{n:02}"), "name": format!("Physio {n}"), "type": "physio",
                 "home_clinic": "london", "schedule_types": ["solo"], "availability": record("solo")}));
        }
        value["resources"] = json!([
            {"id": "gym", "name": "Gym", "clinic": "london", "capacity": 2},
            {"id": "room-a", "name": "Room A", "clinic": "london"},
            {"id": "room-b", "name": "Room B", "clinic": "london"}
        ]);
        value["services"][0]["requires"] = json!([["gym", "room-a", "room-b"]]);
    }
    Scenario::from_json(value.to_string().as_bytes()).unwrap()
}

/// Row ids of the storm clinic.
#[derive(Clone, Debug)]
struct Ids {
    amy: i64,
    ben: i64,
    consult: i64,
    class: i64,
    solo: i64,
    /// Patient row ids, by index.
    patients: Vec<i64>,
}

impl Ids {
    /// The portal capacity of a practitioner's slots.
    fn capacity(&self, practitioner: i64) -> usize {
        if practitioner == self.amy { 1 } else { 3 }
    }

    fn service_of(&self, practitioner: i64) -> i64 {
        if practitioner == self.amy {
            self.consult
        } else {
            self.class
        }
    }
}

/// An `openslot serve` process on a port of its own.
struct Server {
    child: Option<Child>,
    base: String,
    port: u16,
    database_url: String,
    mailbox: PathBuf,
    log: PathBuf,
}

impl Server {
    async fn start(database_url: &str, dir: &Path, index: usize) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = Server {
            child: None,
            base: format!("http://127.0.0.1:{port}"),
            port,
            database_url: database_url.to_owned(),
            mailbox: dir.join(format!("mailbox-{index}")),
            log: dir.join(format!("server-{index}.log")),
        };
        server.spawn().await;
        server
    }

    async fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_openslot"))
            .args([
                "serve",
                "--bind",
                &format!("127.0.0.1:{}", self.port),
                "--public-url",
                &self.base,
                "--database-url",
                &self.database_url,
                "--mailbox",
                &self.mailbox.display().to_string(),
            ])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = http.get(format!("{}/healthz", self.base)).send().await
                && r.status() == StatusCode::OK
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not start: {}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `kill -9`: no shutdown, no flush, whatever was in flight is cut.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let status = Command::new("kill")
                .args(["-9", &child.id().to_string()])
                .status()
                .unwrap();
            assert!(status.success());
            child.wait().unwrap();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A database with the storm clinic, its patients' portal accounts and two front-desk
/// users, and the servers in front of it.
struct Cluster {
    database: TestDatabase,
    org: Organisation,
    ids: Ids,
    servers: Vec<Server>,
}

const FRONT_DESK: [&str; 2] = ["desk1@storm.example", "desk2@storm.example"];

impl Cluster {
    async fn start(backend: Backend, servers: usize) -> Cluster {
        Cluster::start_with(backend, servers, false).await
    }

    /// The cluster on the storm clinic, with the room storm's rooms when `rooms`.
    async fn start_with(backend: Backend, servers: usize, rooms: bool) -> Cluster {
        let database = TestDatabase::fresh(backend, "storm");
        let patients = patient_count();
        let db = Db::connect(&database.url).await.unwrap();
        let clock = SystemClock;
        let mut tx = db.begin().await.unwrap();
        let org = transfer::import(
            &mut tx,
            SLUG,
            &base_scenario(patients, rooms),
            ImportMode::IntoEmpty,
            &clock,
        )
        .await
        .unwrap();
        let hash = openslot_web::auth::password::hash(PASSWORD);
        let mut patient_ids = Vec::with_capacity(patients);
        for i in 0..patients {
            let id = store::keys::id_of(tx.exec(), Kind::Patient, org.id, &format!("p{i}"))
                .await
                .unwrap();
            store::portal_access::set_credentials(
                &mut tx,
                org.id,
                id,
                &format!("p{i}@storm.example"),
                &hash,
                clock.now_ns(),
            )
            .await
            .unwrap();
            patient_ids.push(id);
        }
        for email in FRONT_DESK {
            store::staff::create(
                &mut tx,
                org.id,
                &NewStaff {
                    email,
                    name: "Front desk",
                    role: Role::FrontDesk,
                    practitioner_id: None,
                    password_hash: &hash,
                },
                clock.now_ns(),
            )
            .await
            .unwrap();
        }
        let mut key_ids = Vec::new();
        for (kind, key) in [
            (Kind::Practitioner, "amy"),
            (Kind::Practitioner, "ben"),
            (Kind::Service, "consult"),
            (Kind::Service, "class"),
            (Kind::ScheduleType, "solo"),
        ] {
            key_ids.push(
                store::keys::id_of(tx.exec(), kind, org.id, key)
                    .await
                    .unwrap(),
            );
        }
        let ids = Ids {
            amy: key_ids[0],
            ben: key_ids[1],
            consult: key_ids[2],
            class: key_ids[3],
            solo: key_ids[4],
            patients: patient_ids,
        };
        tx.commit().await.unwrap();
        db.close().await;
        let mut started = Vec::new();
        for index in 0..servers {
            started.push(Server::start(&database.url, database.dir(), index).await);
        }
        Cluster {
            database,
            org,
            ids,
            servers: started,
        }
    }

    /// Signs every patient in, each from a loopback address of their own (as patients
    /// come from their own networks), spread over the servers.
    async fn patients(&self) -> Vec<Visitor> {
        let bases: Vec<String> = self.servers.iter().map(|s| s.base.clone()).collect();
        let mut set = tokio::task::JoinSet::new();
        let turns = Arc::new(tokio::sync::Semaphore::new(16));
        for i in 0..self.ids.patients.len() {
            let base = bases[i % bases.len()].clone();
            let turns = turns.clone();
            set.spawn(async move {
                let _turn = turns.acquire().await.unwrap();
                (i, Visitor::patient(&base, i).await)
            });
        }
        let mut visitors: Vec<(usize, Visitor)> = set.join_all().await;
        visitors.sort_by_key(|(i, _)| *i);
        visitors.into_iter().map(|(_, v)| v).collect()
    }

    async fn front_desk(&self, which: usize) -> Visitor {
        let base = &self.servers[which % self.servers.len()].base;
        Visitor::staff(base, FRONT_DESK[which]).await
    }

    async fn db(&self) -> Db {
        Db::connect(&self.database.url).await.unwrap()
    }
}

/// One person's HTTP client: their cookie jar, their address, their CSRF token.
#[derive(Clone)]
struct Visitor {
    http: reqwest::Client,
    base: String,
    csrf: String,
}

/// What a request got: a status and a JSON body, or no answer at all (the connection
/// was cut: the change may or may not have happened).
#[derive(Clone, Debug)]
enum Answer {
    Status(StatusCode, Value),
    NoAnswer,
}

impl Visitor {
    fn client(address: IpAddr) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .local_address(address)
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap()
    }

    /// Patient `i`, signed in through the portal API.
    async fn patient(base: &str, i: usize) -> Visitor {
        let address = IpAddr::V4(Ipv4Addr::new(
            127,
            1,
            u8::try_from(i / 250).unwrap(),
            u8::try_from(i % 250 + 1).unwrap(),
        ));
        let mut v = Visitor {
            http: Self::client(address),
            base: base.to_owned(),
            csrf: String::new(),
        };
        v.sign_in(
            "portal/session",
            json!({"username": format!("p{i}@storm.example"), "password": PASSWORD}),
        )
        .await;
        v
    }

    /// A front-desk user, signed in through the staff API.
    async fn staff(base: &str, email: &str) -> Visitor {
        let mut v = Visitor {
            http: Self::client(IpAddr::V4(Ipv4Addr::new(127, 2, 0, 1))),
            base: base.to_owned(),
            csrf: String::new(),
        };
        v.sign_in("session", json!({"email": email, "password": PASSWORD}))
            .await;
        v
    }

    async fn sign_in(&mut self, path: &str, credentials: Value) {
        let url = format!("{}/api/v1/orgs/{SLUG}/{path}", self.base);
        let session: Value = self
            .http
            .get(&url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        self.csrf = session["csrf_token"].as_str().unwrap().to_owned();
        let signed_in = self
            .http
            .post(&url)
            .header("x-csrf-token", &self.csrf)
            .json(&credentials)
            .send()
            .await
            .unwrap();
        assert_eq!(signed_in.status(), StatusCode::OK, "sign-in at {url}");
        let session: Value = signed_in.json().await.unwrap();
        self.csrf = session["csrf_token"].as_str().unwrap().to_owned();
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        let sent = self
            .http
            .post(format!("{}/api/v1/orgs/{SLUG}/{path}", self.base))
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await;
        match sent {
            Ok(response) => {
                let status = response.status();
                match response.text().await {
                    Ok(text) => Answer::Status(
                        status,
                        serde_json::from_str(&text).unwrap_or_else(|_| {
                            panic!("{status}: not JSON: {text}");
                        }),
                    ),
                    Err(_) => Answer::NoAnswer,
                }
            }
            Err(_) => Answer::NoAnswer,
        }
    }

    async fn book(&self, service: i64, practitioner: i64, start: &str) -> Answer {
        self.post(
            "portal/appointments",
            json!({"service": service, "practitioner": practitioner, "start": start}),
        )
        .await
    }
}

/// How many requests were in flight at once, at the most.
#[derive(Default)]
struct InFlight {
    now: AtomicUsize,
    most: AtomicUsize,
}

impl InFlight {
    async fn around<T>(&self, request: impl Future<Output = T>) -> T {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        let answer = request.await;
        self.now.fetch_sub(1, Ordering::SeqCst);
        answer
    }

    fn most(&self) -> usize {
        self.most.load(Ordering::SeqCst)
    }
}

/// What the storm was told about one appointment, in the order it was told.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Expected {
    patient: Option<i64>,
    practitioner: i64,
    start_ns: i64,
    cancelled: bool,
}

/// Checks a refusal: 409, the engine's conflict rule, and the next open times.
fn assert_clean_refusal(body: &Value) {
    let details = &body["error"]["details"];
    assert_eq!(details["rule"], 11, "{body}");
    assert!(
        details["next_slots"]
            .as_array()
            .is_some_and(|n| !n.is_empty()),
        "a refusal offers the next open times: {body}"
    );
}

/// Reads a created appointment's id and start from a 201 answer.
fn created(body: &Value) -> (i64, i64) {
    (
        body["id"].as_i64().unwrap(),
        instant_ns(body["start"].as_str().unwrap()),
    )
}

/// What one portal booking request came to.
enum Outcome {
    /// 201: the appointment's id and what the database must hold for it.
    Booked(i64, Expected),
    /// A clean 409 with the next open times.
    Refused,
    /// No answer: the connection was cut.
    Lost,
}

/// Reads patient `patient`'s booking answer for `practitioner` at `start`; anything
/// but a 201 for that start, a clean 409 or a cut connection fails the test.
fn outcome(ids: &Ids, patient: usize, practitioner: i64, start: &str, answer: Answer) -> Outcome {
    match answer {
        Answer::Status(StatusCode::CREATED, body) => {
            let (id, start_ns) = created(&body);
            assert_eq!(start_ns, instant_ns(start), "{body}");
            Outcome::Booked(
                id,
                Expected {
                    patient: Some(ids.patients[patient]),
                    practitioner,
                    start_ns,
                    cancelled: false,
                },
            )
        }
        Answer::Status(StatusCode::CONFLICT, body) => {
            assert_clean_refusal(&body);
            Outcome::Refused
        }
        Answer::NoAnswer => Outcome::Lost,
        other => panic!("patient {patient} booking {start}: {other:?}"),
    }
}

/// Every invariant, read from the database: the acknowledged changes are all there
/// as acknowledged; without `unknown_outcomes`, nothing else was written; no slot holds
/// more than its capacity; every appointment has its audit entries and each patient
/// exactly the emails their appointments announce.
async fn check_database(
    cluster: &Cluster,
    expected: &BTreeMap<i64, Expected>,
    unknown_outcomes: bool,
) {
    let db = cluster.db().await;
    let org = &cluster.org;
    let ids = &cluster.ids;
    let mut conn = db.conn().await.unwrap();
    let from = instant_ns(&at(0, "00:00")) - 86_400_000_000_000;
    let to = instant_ns(&at(30, "00:00"));
    let rows = store::appointment::in_range(conn.exec(), org, from, to, None)
        .await
        .unwrap();
    let by_id: BTreeMap<i64, &store::appointment::Appointment> =
        rows.iter().map(|a| (a.id, a)).collect();

    // Every acknowledged change is there, exactly as acknowledged.
    for (id, e) in expected {
        let row = by_id
            .get(id)
            .unwrap_or_else(|| panic!("acknowledged appointment {id} is missing"));
        assert_eq!(row.patient_id, e.patient, "appointment {id}");
        assert_eq!(row.practitioner_id, e.practitioner, "appointment {id}");
        assert_eq!(row.start_ns, e.start_ns, "appointment {id}");
        let status = if e.cancelled {
            store::AppointmentStatus::Cancelled
        } else {
            store::AppointmentStatus::Booked
        };
        assert_eq!(row.status, status, "appointment {id}");
    }
    if !unknown_outcomes {
        let extra: Vec<i64> = by_id
            .keys()
            .filter(|id| !expected.contains_key(id))
            .copied()
            .collect();
        assert!(
            extra.is_empty(),
            "appointments nobody was told of: {extra:?}"
        );
    }

    // Capacity. Amy: appointments admitted without an override never overlap. Ben: the
    // portal's appointments never exceed three at once.
    for practitioner in [ids.amy, ids.ben] {
        let counted: Vec<_> = rows
            .iter()
            .filter(|a| {
                a.practitioner_id == practitioner && a.status != store::AppointmentStatus::Cancelled
            })
            .filter(|a| {
                if practitioner == ids.amy {
                    a.override_reason.is_none()
                } else {
                    a.channel == store::Channel::Portal
                }
            })
            .collect();
        let mut edges: Vec<(i64, i64)> = counted
            .iter()
            .flat_map(|a| [(a.start_ns, 1), (a.end_ns, -1)])
            .collect();
        edges.sort_unstable();
        let mut level = 0i64;
        for (at_ns, step) in edges {
            level += step;
            assert!(
                usize::try_from(level).unwrap() <= ids.capacity(practitioner),
                "practitioner {practitioner} holds {level} appointments at {at_ns}"
            );
        }
    }

    // Each appointment with its audit trail; each patient with the emails of their
    // appointments and of nothing else.
    let audit = store::audit::recent(conn.exec(), org.id, None, 1_000_000)
        .await
        .unwrap();
    let mut actions: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
    for entry in audit.iter().filter(|e| e.entity == "appointment") {
        if let Some(id) = entry.entity_id {
            actions.entry(id).or_default().insert(entry.action.clone());
        }
    }
    for a in &rows {
        let done = actions.get(&a.id).cloned().unwrap_or_default();
        assert!(
            done.contains("appointment.book") || done.contains("appointment.book_override"),
            "appointment {} has no booking audit entry: {done:?}",
            a.id
        );
        if a.status == store::AppointmentStatus::Cancelled {
            assert!(
                done.contains("appointment.cancel"),
                "appointment {}: {done:?}",
                a.id
            );
        }
    }
    let mut per_patient: BTreeMap<i64, (usize, usize)> = BTreeMap::new();
    for a in &rows {
        if let Some(p) = a.patient_id {
            let counts = per_patient.entry(p).or_default();
            counts.0 += 1;
            counts.1 += usize::from(a.status == store::AppointmentStatus::Cancelled);
        }
    }
    for (i, patient) in ids.patients.iter().enumerate() {
        let mail = store::outbox::to_address(conn.exec(), &format!("p{i}@storm.example"), 1000)
            .await
            .unwrap();
        let confirmed = mail
            .iter()
            .filter(|m| m.subject.starts_with("Appointment confirmed"))
            .count();
        let cancelled = mail
            .iter()
            .filter(|m| m.subject.starts_with("Appointment cancelled"))
            .count();
        let (booked, cancelled_rows) = per_patient.get(patient).copied().unwrap_or_default();
        assert_eq!(confirmed, booked, "confirmations to patient {i}");
        assert_eq!(cancelled, cancelled_rows, "cancellations to patient {i}");
        assert_eq!(
            mail.len(),
            confirmed + cancelled,
            "other emails to patient {i}"
        );
    }
    drop(conn);
    db.close().await;
}

/// Every patient at once at four slots: two of Amy's (one place each) and two of
/// Ben's (three places each). Exactly the capacity is booked; everyone else gets a
/// clean 409 with the next open times.
async fn the_same_few_slots(cluster: &Cluster) {
    let ids = &cluster.ids;
    let visitors = cluster.patients().await;
    let targets = [
        (ids.amy, at(0, "09:00")),
        (ids.amy, at(0, "09:30")),
        (ids.ben, at(0, "09:00")),
        (ids.ben, at(0, "09:30")),
    ];
    let in_flight = Arc::new(InFlight::default());
    let barrier = Arc::new(Barrier::new(visitors.len()));
    let mut set = tokio::task::JoinSet::new();
    for (i, v) in visitors.into_iter().enumerate() {
        let (practitioner, start) = targets[i % targets.len()].clone();
        let service = ids.service_of(practitioner);
        let (in_flight, barrier) = (in_flight.clone(), barrier.clone());
        set.spawn(async move {
            barrier.wait().await;
            let answer = in_flight
                .around(v.book(service, practitioner, &start))
                .await;
            (i, practitioner, start, answer)
        });
    }
    let answers = set.join_all().await;
    let peak = in_flight.most();
    assert!(
        peak >= answers.len().min(200),
        "only {peak} requests were in flight at once"
    );
    let mut expected = BTreeMap::new();
    let mut booked_per_target: BTreeMap<(i64, String), usize> = BTreeMap::new();
    for (i, practitioner, start, answer) in answers {
        match outcome(ids, i, practitioner, &start, answer) {
            Outcome::Booked(id, e) => {
                expected.insert(id, e);
                *booked_per_target.entry((practitioner, start)).or_default() += 1;
            }
            Outcome::Refused => {}
            Outcome::Lost => panic!("patient {i} got no answer"),
        }
    }
    for (practitioner, start) in &targets {
        assert_eq!(
            booked_per_target
                .get(&(*practitioner, start.clone()))
                .copied()
                .unwrap_or_default(),
            ids.capacity(*practitioner),
            "{practitioner} at {start}: every place taken, none twice"
        );
    }
    check_database(cluster, &expected, false).await;
    eprintln!(
        "storm: {} patients, {peak} requests in flight at the peak, {} booked",
        ids.patients.len(),
        expected.len()
    );
}

/// A small deterministic generator (SplitMix64) so that a failing storm can be rerun.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        usize::try_from(z % sides as u64).unwrap()
    }
}

/// The slots the mixed storm plays over: two days, 09:00 to 12:00, both practitioners.
fn mixed_slots() -> Vec<String> {
    (0..2)
        .flat_map(|day| {
            ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
                .into_iter()
                .map(move |t| at(day, t))
        })
        .collect()
}

/// What every person of the mixed storm shares.
struct Stage {
    ids: Ids,
    slots: Vec<String>,
    in_flight: InFlight,
    barrier: Barrier,
}

/// Patients book and cancel while two front-desk users book over Amy's slots with an
/// override and move their own appointments around (with and without one), all at
/// once. Each appointment is changed by one person only, so what each was told is
/// what the database must say.
async fn a_mixed_storm(cluster: &Cluster) {
    let visitors = cluster.patients().await;
    let staff = [cluster.front_desk(0).await, cluster.front_desk(1).await];
    let stage = Arc::new(Stage {
        ids: cluster.ids.clone(),
        slots: mixed_slots(),
        in_flight: InFlight::default(),
        barrier: Barrier::new(visitors.len() + staff.len()),
    });
    let mut set = tokio::task::JoinSet::new();
    for (i, v) in visitors.into_iter().enumerate() {
        let stage = stage.clone();
        set.spawn(async move {
            let (ids, slots, in_flight) = (&stage.ids, &stage.slots, &stage.in_flight);
            let mut dice = Dice(i as u64);
            let mut told = BTreeMap::new();
            stage.barrier.wait().await;
            for _ in 0..3 {
                let practitioner = if dice.roll(2) == 0 { ids.amy } else { ids.ben };
                let start = &slots[dice.roll(slots.len())];
                let answer = in_flight
                    .around(v.book(ids.service_of(practitioner), practitioner, start))
                    .await;
                match outcome(ids, i, practitioner, start, answer) {
                    Outcome::Booked(id, e) => {
                        told.insert(id, e);
                    }
                    Outcome::Refused => {}
                    Outcome::Lost => panic!("patient {i} got no answer"),
                }
                if dice.roll(2) == 0
                    && let Some((&id, _)) = told.iter().find(|(_, e)| !e.cancelled)
                {
                    let answer = in_flight
                        .around(v.post(&format!("portal/appointments/{id}/cancel"), json!({})))
                        .await;
                    match answer {
                        Answer::Status(StatusCode::OK, body) => {
                            assert_eq!(body["status"], "cancelled");
                            told.get_mut(&id).unwrap().cancelled = true;
                        }
                        other => panic!("patient {i} cancelling {id}: {other:?}"),
                    }
                }
            }
            told
        });
    }
    for (which, v) in staff.into_iter().enumerate() {
        let stage = stage.clone();
        set.spawn(async move {
            let (ids, slots, in_flight) = (&stage.ids, &stage.slots, &stage.in_flight);
            let mut dice = Dice(1_000_000 + which as u64);
            let mut told: BTreeMap<i64, Expected> = BTreeMap::new();
            stage.barrier.wait().await;
            for round in 0..20 {
                let start = &slots[dice.roll(slots.len())];
                let answer = in_flight
                    .around(v.post(
                        "appointments",
                        json!({"practitioner": ids.amy, "schedule_type": ids.solo,
                               "start": start, "duration_minutes": 30,
                               "override_reason": "Fitted in at the front desk"}),
                    ))
                    .await;
                let Answer::Status(StatusCode::CREATED, body) = answer else {
                    panic!("front desk booking: {answer:?}");
                };
                let (id, start_ns) = created(&body);
                told.insert(
                    id,
                    Expected {
                        patient: None,
                        practitioner: ids.amy,
                        start_ns,
                        cancelled: false,
                    },
                );
                // Move one of ours: without an override first, then with one if needed.
                let ours: Vec<i64> = told.keys().copied().collect();
                let id = ours[dice.roll(ours.len())];
                let to = &slots[dice.roll(slots.len())];
                let path = format!("appointments/{id}/move");
                let mut answer = in_flight.around(v.post(&path, json!({"start": to}))).await;
                if let Answer::Status(StatusCode::CONFLICT, body) = &answer {
                    assert!(
                        body["error"]["details"]["needs_override"]
                            .as_array()
                            .is_some_and(|r| !r.is_empty()),
                        "{body}"
                    );
                    if round % 2 == 0 {
                        continue;
                    }
                    answer = in_flight
                        .around(v.post(
                            &path,
                            json!({"start": to, "override_reason": "Patient asked"}),
                        ))
                        .await;
                }
                match answer {
                    Answer::Status(StatusCode::OK, body) => {
                        told.get_mut(&id).unwrap().start_ns =
                            instant_ns(body["start"].as_str().unwrap());
                    }
                    other => panic!("front desk move: {other:?}"),
                }
            }
            told
        });
    }
    let mut expected = BTreeMap::new();
    for told in set.join_all().await {
        expected.extend(told);
    }
    check_database(cluster, &expected, false).await;
    eprintln!(
        "mixed storm: {} appointments, {} requests in flight at the peak",
        expected.len(),
        stage.in_flight.most()
    );
}

/// Patients book spread-out slots; when a third of them have their answer, server 0
/// is killed with SIGKILL, then started again on the same database. Every
/// acknowledged booking is there with its email and audit entry; the ones whose answer
/// was lost are there whole or not at all; the invariants hold; and the restarted
/// server takes bookings again.
async fn a_crash_in_the_middle(mut cluster: Cluster) {
    let ids = cluster.ids.clone();
    let visitors = cluster.patients().await;
    let slots: Vec<(i64, String)> = (0..10)
        .flat_map(|day| {
            let (amy, ben) = (ids.amy, ids.ben);
            [
                "09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00",
            ]
            .into_iter()
            .flat_map(move |t| [(amy, at(day, t)), (ben, at(day, t))])
        })
        .collect();
    let answered = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(Barrier::new(visitors.len() + 1));
    let mut set = tokio::task::JoinSet::new();
    let first = visitors[0].clone();
    for (i, v) in visitors.into_iter().enumerate() {
        let (practitioner, start) = slots[i % slots.len()].clone();
        let service = ids.service_of(practitioner);
        let (answered, barrier) = (answered.clone(), barrier.clone());
        set.spawn(async move {
            barrier.wait().await;
            // Staggered, so that the kill lands in the middle of the storm.
            tokio::time::sleep(Duration::from_millis(2 * i as u64)).await;
            let answer = v.book(service, practitioner, &start).await;
            answered.fetch_add(1, Ordering::SeqCst);
            (i, practitioner, start, answer)
        });
    }
    barrier.wait().await;
    let third = ids.patients.len() / 3;
    while answered.load(Ordering::SeqCst) < third {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    cluster.servers[0].kill();
    let answers = set.join_all().await;
    cluster.servers[0].spawn().await;

    let mut expected = BTreeMap::new();
    let mut lost = 0;
    for (i, practitioner, start, answer) in answers {
        match outcome(&ids, i, practitioner, &start, answer) {
            Outcome::Booked(id, e) => {
                expected.insert(id, e);
            }
            Outcome::Refused => {}
            Outcome::Lost => lost += 1,
        }
    }
    assert!(
        lost > 0,
        "the kill cut no request: it came too late to prove anything"
    );
    assert!(
        expected.len() >= third / 2,
        "too few bookings before the kill"
    );
    check_database(&cluster, &expected, true).await;
    // The restarted server answers, with the session the patient had.
    let again = first.book(ids.consult, ids.amy, &at(12, "09:00")).await;
    assert!(
        matches!(again, Answer::Status(StatusCode::CREATED, _)),
        "after the restart: {again:?}"
    );
    eprintln!(
        "crash: {} acknowledged before or around the kill, {lost} answers lost",
        expected.len()
    );
}

/// Every room's most appointments at once (buffered intervals, cancelled ones
/// aside), and its capacity, read from the database.
async fn room_peaks(db: &Db, org: &Organisation) -> BTreeMap<i64, (i64, i64)> {
    let mut conn = db.conn().await.unwrap();
    let rows = store::appointment::in_range(conn.exec(), org, 0, i64::MAX, None)
        .await
        .unwrap();
    let ids: Vec<i64> = rows.iter().map(|a| a.id).collect();
    let held = store::appointment::held(conn.exec(), org.id, &ids)
        .await
        .unwrap();
    let capacity: BTreeMap<i64, i64> = store::book::choices(conn.exec(), org.id)
        .await
        .unwrap()
        .resources
        .iter()
        .map(|r| (r.id, r.capacity))
        .collect();
    let mut edges: BTreeMap<i64, Vec<(i64, i64)>> = BTreeMap::new();
    for a in rows.iter().filter(|a| a.status.occupies_time()) {
        let from = a.start_ns - a.buffer_before_minutes * 60_000_000_000;
        let to = a.end_ns + a.buffer_after_minutes * 60_000_000_000;
        for r in held.get(&a.id).into_iter().flatten() {
            edges.entry(r.id).or_default().extend([(from, 1), (to, -1)]);
        }
    }
    edges
        .into_iter()
        .map(|(room, mut e)| {
            // An end sorts before a start at the same instant: touching is not overlap.
            e.sort_unstable();
            let (mut level, mut peak) = (0, 0);
            for (_, step) in e {
                level += step;
                peak = peak.max(level);
            }
            (room, (peak, capacity[&room]))
        })
        .collect()
}

/// The room storm: twenty practitioners share three rooms (four places) at the same
/// four times. Every patient books at once through the portal, and both front desks
/// book the same times through the staff API, spread over the servers. Each time ends
/// with exactly four consultations; no room is ever over its capacity (read from the
/// database); every acknowledged booking is there holding one room; every refusal is
/// a clean 409: taken (the portal's rule 11 or 13 with the next open times, the desk's
/// override reasons naming the rooms or the practitioner's appointment).
async fn a_room_storm(cluster: &Cluster) {
    let ids = &cluster.ids;
    let db = cluster.db().await;
    let mut practitioners = vec![ids.amy];
    {
        let mut conn = db.conn().await.unwrap();
        for n in 1..=19 {
            practitioners.push(
                store::keys::id_of(
                    conn.exec(),
                    Kind::Practitioner,
                    cluster.org.id,
                    &format!("r{n:02}"),
                )
                .await
                .unwrap(),
            );
        }
    }
    let times = [
        at(0, "09:00"),
        at(0, "09:30"),
        at(0, "10:00"),
        at(0, "11:00"),
    ];
    let visitors = cluster.patients().await;
    let desks = [cluster.front_desk(0).await, cluster.front_desk(1).await];
    // Each desk books every practitioner at every time: 2 × 20 × 4 staff requests.
    let staff_requests = desks.len() * practitioners.len() * times.len();
    let attempts = visitors.len() + staff_requests;
    let in_flight = Arc::new(InFlight::default());
    let barrier = Arc::new(Barrier::new(attempts));
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for (i, v) in visitors.into_iter().enumerate() {
        let practitioner = practitioners[i % practitioners.len()];
        let start = times[(i / practitioners.len()) % times.len()].clone();
        let (in_flight, barrier, consult) = (in_flight.clone(), barrier.clone(), ids.consult);
        set.spawn(async move {
            barrier.wait().await;
            let answer = in_flight
                .around(v.book(consult, practitioner, &start))
                .await;
            (true, Some(i), practitioner, start, answer)
        });
    }
    for (d, desk) in desks.iter().enumerate() {
        for (p, &practitioner) in practitioners.iter().enumerate() {
            for start in &times {
                let desk = desk.clone();
                let patient = ids.patients[(d * 97 + p * 7) % ids.patients.len()];
                let (in_flight, barrier, consult) =
                    (in_flight.clone(), barrier.clone(), ids.consult);
                let start = start.clone();
                set.spawn(async move {
                    barrier.wait().await;
                    let body = json!({"practitioner": practitioner, "patient": patient,
                                      "service": consult, "start": start});
                    let answer = in_flight.around(desk.post("appointments", body)).await;
                    (false, None, practitioner, start, answer)
                });
            }
        }
    }
    let answers = set.join_all().await;
    let elapsed = started.elapsed();
    let mut acknowledged: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    let mut per_time: BTreeMap<String, usize> = BTreeMap::new();
    let (mut portal_refused, mut staff_refused) = (0, 0);
    for (portal, patient, practitioner, start, answer) in answers {
        match answer {
            Answer::Status(StatusCode::CREATED, body) => {
                let (id, start_ns) = created(&body);
                assert_eq!(start_ns, instant_ns(&start), "{body}");
                acknowledged.insert(id, (practitioner, start_ns));
                *per_time.entry(start).or_default() += 1;
            }
            Answer::Status(StatusCode::CONFLICT, body) if portal => {
                let rule = body["error"]["details"]["rule"].as_i64();
                assert!(matches!(rule, Some(11 | 13)), "patient {patient:?}: {body}");
                assert!(
                    body["error"]["details"]["next_slots"]
                        .as_array()
                        .is_some_and(|n| !n.is_empty()),
                    "a refusal offers the next open times: {body}"
                );
                portal_refused += 1;
            }
            Answer::Status(StatusCode::CONFLICT, body) => {
                let reasons = body["error"]["details"]["needs_override"].to_string();
                assert!(
                    reasons.contains("taken") || reasons.contains("already"),
                    "a staff refusal that is not a taken room or time: {body}"
                );
                staff_refused += 1;
            }
            other => panic!("neither booked nor taken: {other:?}"),
        }
    }
    for start in &times {
        assert_eq!(
            per_time.get(start).copied(),
            Some(4),
            "{start}: every place, none twice"
        );
    }
    for (room, (peak, capacity)) in room_peaks(&db, &cluster.org).await {
        assert!(
            peak <= capacity,
            "room {room}: {peak} at once, capacity {capacity}"
        );
    }
    let mut conn = db.conn().await.unwrap();
    let ids_list: Vec<i64> = acknowledged.keys().copied().collect();
    let mut held = store::appointment::held(conn.exec(), cluster.org.id, &ids_list)
        .await
        .unwrap();
    for (id, (practitioner, start_ns)) in &acknowledged {
        let row = store::appointment::get(conn.exec(), cluster.org.id, *id)
            .await
            .unwrap();
        assert_eq!(
            (row.practitioner_id, row.start_ns),
            (*practitioner, *start_ns),
            "{id}"
        );
        assert!(row.status.occupies_time(), "{id}");
        assert_eq!(
            held.remove(id).map(|h| h.len()),
            Some(1),
            "{id} holds one room"
        );
    }
    assert_eq!(
        store::appointment::count(conn.exec(), cluster.org.id)
            .await
            .unwrap(),
        acknowledged.len() as i64,
        "nothing but the acknowledged bookings"
    );
    drop(conn);
    db.close().await;
    eprintln!(
        "room storm: {attempts} attempted ({} portal, {staff_requests} staff), {} acknowledged, \
         {portal_refused} portal and {staff_refused} staff refused, {} in flight at the peak, {elapsed:.2?}",
        attempts - staff_requests,
        acknowledged.len(),
        in_flight.most()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_one_server_room_storm() {
    let cluster = Cluster::start_with(Backend::Sqlite, 1, true).await;
    a_room_storm(&cluster).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set OPENSLOT_TEST_POSTGRES_URL"]
async fn postgres_two_servers_room_storm() {
    let cluster = Cluster::start_with(Backend::Postgres, 2, true).await;
    a_room_storm(&cluster).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_one_server_the_same_few_slots() {
    let cluster = Cluster::start(Backend::Sqlite, 1).await;
    the_same_few_slots(&cluster).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_one_server_mixed_storm() {
    let cluster = Cluster::start(Backend::Sqlite, 1).await;
    a_mixed_storm(&cluster).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_kill_9_in_the_middle_of_a_storm() {
    let cluster = Cluster::start(Backend::Sqlite, 1).await;
    a_crash_in_the_middle(cluster).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set OPENSLOT_TEST_POSTGRES_URL"]
async fn postgres_two_servers_the_same_few_slots() {
    let cluster = Cluster::start(Backend::Postgres, 2).await;
    the_same_few_slots(&cluster).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set OPENSLOT_TEST_POSTGRES_URL"]
async fn postgres_two_servers_mixed_storm() {
    let cluster = Cluster::start(Backend::Postgres, 2).await;
    a_mixed_storm(&cluster).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set OPENSLOT_TEST_POSTGRES_URL"]
async fn postgres_kill_9_one_of_two_servers_in_the_middle_of_a_storm() {
    let cluster = Cluster::start(Backend::Postgres, 2).await;
    a_crash_in_the_middle(cluster).await;
}
