//! Email through the outbox: a test SMTP server on loopback receives what the sender
//! delivers (headers, body, the calendar invitation); a failing server leaves messages
//! to retry with backoff until they go or are given up; the mailbox folder gets
//! `.eml` files and the server log gets their links; the background sender wakes when
//! poked.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openslot_web::config::{Config, MailConfig, MailTransport, SmtpConfig, SmtpSecurity};
use openslot_web::ics::{self, IcsAppointment, IcsMethod};
use openslot_web::mail::Mailer;
use openslot_web::mail::sender::{self, Pass};
use openslot_web::state::AppState;
use store::outbox::{self, MAX_ATTEMPTS, Message, NewMessage};
use store::{Clock, Db};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::net::tcp::OwnedWriteHalf;

use crate::both;
use crate::support::{Backend, TestApp};

/// How the test server answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Takes every message.
    Accept,
    /// Answers `MAIL FROM` with 451 (a temporary failure).
    Busy,
    /// Closes every connection before its greeting.
    Hangup,
    /// Keeps every connection open and never greets: a send that never ends.
    Stall,
}

/// One message as the server received it.
#[derive(Clone, Debug)]
struct Received {
    mail_from: String,
    rcpt_to: Vec<String>,
    /// The message as sent after `DATA`, dot-stuffing undone, CRLF line ends.
    data: String,
}

impl Received {
    fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or_default();
        header(head, name)
    }
}

/// A header's value in a header block, with folded lines joined.
fn header(head: &str, name: &str) -> Option<String> {
    head.replace("\r\n ", " ")
        .replace("\r\n\t", " ")
        .split("\r\n")
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
}

/// One leaf of a MIME message, its body decoded.
#[derive(Debug)]
struct Part {
    content_type: String,
    disposition: Option<String>,
    body: String,
}

/// The leaves of a MIME message, in order, multiparts walked into.
fn parts(raw: &str) -> Vec<Part> {
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw, ""));
    let content_type = header(head, "Content-Type").unwrap_or_else(|| "text/plain".into());
    if content_type.starts_with("multipart/") {
        let boundary = content_type
            .split("boundary=")
            .nth(1)
            .expect("a boundary")
            .trim_matches('"');
        return body
            .split(&format!("--{boundary}"))
            .skip(1)
            .take_while(|part| !part.starts_with("--"))
            .flat_map(|part| {
                let part = part.strip_prefix("\r\n").unwrap_or(part);
                parts(part.strip_suffix("\r\n").unwrap_or(part))
            })
            .collect();
    }
    let body = match header(head, "Content-Transfer-Encoding").as_deref() {
        Some("quoted-printable") => quoted_printable(body),
        Some("7bit") | Some("8bit") | None => body.to_owned(),
        Some(other) => panic!("unexpected transfer encoding {other}"),
    };
    vec![Part {
        content_type,
        disposition: header(head, "Content-Disposition"),
        body,
    }]
}

/// Undoes quoted-printable (RFC 2045): soft line breaks and `=XX` octets.
fn quoted_printable(text: &str) -> String {
    let text = text.replace("=\r\n", "");
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).expect("an =XX escape"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// A tiny SMTP server on `127.0.0.1:0`, speaking just enough of RFC 5321 for lettre.
struct SmtpServer {
    address: SocketAddr,
    mode: Arc<Mutex<Mode>>,
    received: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpServer {
    async fn start(mode: Mode) -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let mode = Arc::new(Mutex::new(mode));
        let received = Arc::new(Mutex::new(Vec::new()));
        let task = tokio::spawn({
            let mode = mode.clone();
            let received = received.clone();
            async move {
                loop {
                    let Ok((socket, _)) = listener.accept().await else {
                        return;
                    };
                    tokio::spawn(session(socket, mode.clone(), received.clone()));
                }
            }
        });
        SmtpServer {
            address,
            mode,
            received,
            task,
        }
    }

    fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// A mailer sending to this server without TLS, as `--smtp-security none` does.
    fn mailer(&self) -> Mailer {
        Mailer::new(&MailConfig {
            from: "Lakeshore Physio <bookings@lakeshore.example>"
                .parse()
                .unwrap(),
            transport: MailTransport::Smtp(SmtpConfig {
                host: "127.0.0.1".into(),
                port: Some(self.address.port()),
                security: SmtpSecurity::None,
                credentials: None,
            }),
        })
        .unwrap()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn session(
    socket: tokio::net::TcpStream,
    mode: Arc<Mutex<Mode>>,
    received: Arc<Mutex<Vec<Received>>>,
) {
    let current = || *mode.lock().unwrap();
    if current() == Mode::Hangup {
        return;
    }
    if current() == Mode::Stall {
        // Holds the connection open for as long as the test runs.
        let _held = &socket;
        std::future::pending::<()>().await;
    }
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    if !reply(&mut write, "220 test.localhost ESMTP ready\r\n").await {
        return;
    }
    let mut mail_from = String::new();
    let mut rcpt_to = Vec::new();
    loop {
        let mut line = String::new();
        match lines.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if current() == Mode::Hangup {
            return;
        }
        let command = line.trim_end().to_owned();
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let answer = match verb.as_str() {
            "EHLO" | "HELO" => "250 test.localhost\r\n".to_owned(),
            "MAIL" if current() == Mode::Busy => "451 4.3.2 try again later\r\n".to_owned(),
            "MAIL" => {
                mail_from = command[command.find(':').unwrap() + 1..].trim().to_owned();
                rcpt_to.clear();
                "250 2.1.0 ok\r\n".to_owned()
            }
            "RCPT" => {
                rcpt_to.push(command[command.find(':').unwrap() + 1..].trim().to_owned());
                "250 2.1.5 ok\r\n".to_owned()
            }
            "DATA" => {
                if !reply(&mut write, "354 end with <CRLF>.<CRLF>\r\n").await {
                    return;
                }
                let mut data = String::new();
                loop {
                    let mut line = String::new();
                    match lines.read_line(&mut line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                received.lock().unwrap().push(Received {
                    mail_from: mail_from.clone(),
                    rcpt_to: rcpt_to.clone(),
                    data,
                });
                "250 2.0.0 queued\r\n".to_owned()
            }
            "RSET" => {
                mail_from.clear();
                rcpt_to.clear();
                "250 2.0.0 ok\r\n".to_owned()
            }
            "NOOP" => "250 2.0.0 ok\r\n".to_owned(),
            "QUIT" => {
                reply(&mut write, "221 2.0.0 bye\r\n").await;
                return;
            }
            _ => "502 5.5.2 not implemented\r\n".to_owned(),
        };
        if !reply(&mut write, &answer).await {
            return;
        }
    }
}

/// Writes one reply; false when the client has gone.
async fn reply(write: &mut OwnedWriteHalf, text: &str) -> bool {
    write.write_all(text.as_bytes()).await.is_ok()
}

/// Queues messages of `org` (or of a new organisation) in one transaction, as a
/// booking would.
async fn enqueue(app: &TestApp, org: Option<i64>, messages: &[NewMessage]) -> Vec<i64> {
    static ORGANISATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let org = match org {
        Some(org) => org,
        None => {
            let n = ORGANISATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            app.org(&format!("mail-{n}")).await.id
        }
    };
    let mut tx = app.db.begin().await.unwrap();
    let mut ids = Vec::new();
    for message in messages {
        ids.push(
            outbox::enqueue(&mut tx, org, message, app.clock.now_ns())
                .await
                .unwrap(),
        );
    }
    tx.commit().await.unwrap();
    ids
}

async fn row(db: &Db, address: &str, id: i64) -> Message {
    let mut conn = db.conn().await.unwrap();
    outbox::to_address(conn.exec(), address, 100)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.id == id)
        .expect("the message is in the outbox")
}

fn plain(to: &str, subject: &str, body: &str) -> NewMessage {
    NewMessage {
        to: to.into(),
        subject: subject.into(),
        body: body.into(),
        ics: None,
    }
}

fn invitation(app: &TestApp, appointment_id: i64, method: IcsMethod) -> String {
    ics::appointment(
        &IcsAppointment {
            appointment_id,
            // Monday 2026-03-09 10:00 in Toronto (EDT, the day after the change).
            start_ns: 1_773_064_800_000_000_000,
            end_ns: 1_773_066_600_000_000_000,
            zone: chrono_tz::America::Toronto,
            location: "Lakeshore Downtown".into(),
            video_link: None,
            practitioner_name: "Christine Chan".into(),
            service_name: "Physiotherapy".into(),
            patient_name: "Pat Doe".into(),
            patient_email: "pat@example.com".into(),
            organiser_name: "Lakeshore Physio".into(),
            organiser_email: "bookings@lakeshore.example".into(),
            public_url: app.base.clone(),
            sequence: 0,
            stamp_ns: app.clock.now_ns(),
        },
        method,
    )
}

async fn delivers_over_smtp_with_the_invitation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("lakeshore").await;
    let server = SmtpServer::start(Mode::Accept).await;
    let ids = enqueue(
        &app,
        Some(org.id),
        &[
            plain(
                "Pat@Example.com",
                "Welcome to the Lakeshore portal",
                "Hello Pat,\n\nSet your password: https://book.example/o/lakeshore/portal/invite?t=abc\n",
            ),
            NewMessage {
                to: "pat@example.com".into(),
                subject: "Your appointment on Monday 9 March".into(),
                body: "Physiotherapy with Christine Chan, Monday 9 March at 10:00.\n".into(),
                ics: Some(invitation(&app, 31, IcsMethod::Request)),
            },
            NewMessage {
                to: "pat@example.com".into(),
                subject: "Cancelled: your appointment on Monday 9 March".into(),
                body: "Your appointment is cancelled.\n".into(),
                ics: Some(invitation(&app, 31, IcsMethod::Cancel)),
            },
        ],
    )
    .await;

    let pass = sender::deliver_due(&app.db, app.clock.as_ref(), &server.mailer())
        .await
        .unwrap();
    assert_eq!(pass, Pass { sent: 3, failed: 0 });

    let received = server.received();
    assert_eq!(received.len(), 3);
    let [welcome, request, cancel] = &received[..] else {
        unreachable!()
    };
    // The envelope and the headers.
    assert_eq!(welcome.mail_from, "<bookings@lakeshore.example>");
    assert_eq!(welcome.rcpt_to, ["<pat@example.com>"]);
    assert_eq!(
        welcome.header("From").as_deref(),
        Some("\"Lakeshore Physio\" <bookings@lakeshore.example>")
    );
    assert_eq!(welcome.header("To").as_deref(), Some("pat@example.com"));
    assert_eq!(
        welcome.header("Subject").as_deref(),
        Some("Welcome to the Lakeshore portal")
    );
    assert_eq!(
        welcome.header("Date").as_deref(),
        Some("Sun, 01 Mar 2026 12:00:00 +0000")
    );
    let message_id = welcome.header("Message-ID").unwrap();
    assert!(
        message_id.starts_with(&format!("<openslot.{}.", ids[0])),
        "{message_id}"
    );
    // Plain text, and the same text as HTML: alternatives, the plain one first.
    let [text, html] = &parts(&welcome.data)[..] else {
        panic!("two parts: {}", welcome.data)
    };
    assert!(text.content_type.starts_with("text/plain"));
    assert_eq!(
        text.body.trim_end_matches("\r\n"),
        "Hello Pat,\r\n\r\nSet your password: https://book.example/o/lakeshore/portal/invite?t=abc"
    );
    assert!(
        html.content_type.starts_with("text/html"),
        "{}",
        html.content_type
    );
    assert!(
        html.body
            .contains("<a href=\"https://book.example/o/lakeshore/portal/invite?t=abc\""),
        "{}",
        html.body
    );
    assert!(
        welcome
            .data
            .contains("Content-Type: multipart/alternative;")
    );

    // The invitation: text and calendar as alternatives, and the calendar attached,
    // each exactly as the outbox holds it.
    let request_ics = invitation(&app, 31, IcsMethod::Request);
    assert!(
        request
            .header("Content-Type")
            .unwrap()
            .starts_with("multipart/mixed")
    );
    assert!(
        request
            .data
            .contains("Content-Type: multipart/alternative;")
    );
    let [text, html, calendar, attachment] = &parts(&request.data)[..] else {
        panic!("four parts: {}", request.data)
    };
    assert!(html.content_type.starts_with("text/html"));
    assert!(text.content_type.starts_with("text/plain"));
    assert_eq!(
        text.body,
        "Physiotherapy with Christine Chan, Monday 9 March at 10:00.\r\n"
    );
    assert_eq!(
        calendar.content_type,
        "text/calendar; method=REQUEST; charset=utf-8"
    );
    assert_eq!(calendar.disposition, None);
    assert_eq!(calendar.body, request_ics);
    assert_eq!(attachment.content_type, "application/ics");
    assert_eq!(
        attachment.disposition.as_deref(),
        Some("attachment; filename=\"invite.ics\"")
    );
    assert_eq!(attachment.body, request_ics);
    assert!(request_ics.contains("METHOD:REQUEST\r\n"));
    assert!(request_ics.contains("DTSTART;TZID=America/Toronto:20260309T100000\r\n"));
    assert!(request_ics.contains("BEGIN:VTIMEZONE\r\nTZID:America/Toronto\r\n"));
    let uid = format!("UID:{}\r\n", ics::uid(31, &app.base));
    assert!(request_ics.contains(&uid));

    // The cancellation names the same event.
    let [_, _, calendar, attachment] = &parts(&cancel.data)[..] else {
        panic!("four parts: {}", cancel.data)
    };
    assert_eq!(
        calendar.content_type,
        "text/calendar; method=CANCEL; charset=utf-8"
    );
    assert_eq!(calendar.body, attachment.body);
    assert!(calendar.body.contains("METHOD:CANCEL\r\n"));
    assert!(calendar.body.contains("STATUS:CANCELLED\r\n"));
    assert!(calendar.body.contains(&uid));

    // The outbox records each delivery.
    for id in ids {
        let sent = row(&app.db, "pat@example.com", id).await;
        assert_eq!(sent.status, "sent");
        assert_eq!(sent.attempts, 1);
        assert_eq!(sent.sent_at_ns, Some(app.clock.now_ns()));
        assert_eq!(sent.last_error, None);
    }
    // Nothing is due any more.
    let again = sender::deliver_due(&app.db, app.clock.as_ref(), &server.mailer())
        .await
        .unwrap();
    assert_eq!(again, Pass::default());
    assert_eq!(server.received().len(), 3);
    app.stop().await;
}

async fn a_busy_server_means_a_retry_after_backoff(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let server = SmtpServer::start(Mode::Busy).await;
    let mailer = server.mailer();
    let [id] = enqueue(&app, None, &[plain("pat@example.com", "Hello", "Hi.\n")]).await[..] else {
        unreachable!()
    };
    let queued_at = app.clock.now_ns();

    let pass = sender::deliver_due(&app.db, app.clock.as_ref(), &mailer)
        .await
        .unwrap();
    assert_eq!(pass, Pass { sent: 0, failed: 1 });
    let pending = row(&app.db, "pat@example.com", id).await;
    assert_eq!(pending.status, "pending");
    assert_eq!(pending.attempts, 1);
    assert_eq!(pending.next_attempt_at_ns, queued_at + 30_000_000_000);
    assert!(
        pending
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("451"),
        "{:?}",
        pending.last_error
    );

    // Not due again before its backoff, even once the server is back.
    server.set_mode(Mode::Accept);
    app.clock.advance(29);
    let early = sender::deliver_due(&app.db, app.clock.as_ref(), &mailer)
        .await
        .unwrap();
    assert_eq!(early, Pass::default());
    assert!(server.received().is_empty());

    app.clock.advance(1);
    let later = sender::deliver_due(&app.db, app.clock.as_ref(), &mailer)
        .await
        .unwrap();
    assert_eq!(later, Pass { sent: 1, failed: 0 });
    let sent = row(&app.db, "pat@example.com", id).await;
    assert_eq!(sent.status, "sent");
    assert_eq!(sent.attempts, 2);
    assert_eq!(sent.sent_at_ns, Some(app.clock.now_ns()));
    assert_eq!(sent.last_error, None);
    assert_eq!(server.received().len(), 1);
    assert_eq!(
        server.received()[0].header("Subject").as_deref(),
        Some("Hello")
    );
    app.stop().await;
}

async fn a_server_that_hangs_up_makes_the_message_fail_after_the_last_attempt(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let server = SmtpServer::start(Mode::Hangup).await;
    let mailer = server.mailer();
    let [id] = enqueue(&app, None, &[plain("pat@example.com", "Hello", "Hi.\n")]).await[..] else {
        unreachable!()
    };
    for attempt in 1..=MAX_ATTEMPTS {
        let pass = sender::deliver_due(&app.db, app.clock.as_ref(), &mailer)
            .await
            .unwrap();
        assert_eq!(pass, Pass { sent: 0, failed: 1 }, "attempt {attempt}");
        let message = row(&app.db, "pat@example.com", id).await;
        assert_eq!(message.attempts, attempt);
        if attempt < MAX_ATTEMPTS {
            assert_eq!(message.status, "pending");
            // The backoff doubles from 30 seconds, up to an hour.
            let wait_s = (message.next_attempt_at_ns - app.clock.now_ns()) / 1_000_000_000;
            assert_eq!(
                wait_s,
                (30_i64 << (attempt - 1)).min(3_600),
                "attempt {attempt}"
            );
            app.clock.advance(wait_s);
        } else {
            assert_eq!(message.status, "failed");
            assert!(message.last_error.is_some());
        }
    }
    // Given up: not claimed again, even much later and with the server back.
    server.set_mode(Mode::Accept);
    app.clock.advance(86_400);
    let pass = sender::deliver_due(&app.db, app.clock.as_ref(), &mailer)
        .await
        .unwrap();
    assert_eq!(pass, Pass::default());
    assert!(server.received().is_empty());
    app.stop().await;
}

async fn the_background_sender_wakes_when_notified(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let server = SmtpServer::start(Mode::Accept).await;
    let state = AppState::new(
        app.db.clone(),
        app.clock.clone(),
        Config::local(app.base.clone()),
    );
    let running = sender::spawn(
        app.db.clone(),
        app.clock.clone(),
        state.mail.clone(),
        server.mailer(),
    );
    // Let its first pass (over an empty outbox) happen, so the next one is the poke's.
    tokio::time::sleep(Duration::from_millis(200)).await;

    enqueue(&app, None, &[plain("pat@example.com", "Poked", "Hi.\n")]).await;
    let poked = Instant::now();
    state.mail.notify();
    while server.received().is_empty() {
        assert!(poked.elapsed() < Duration::from_secs(30), "never delivered");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Sooner than its poll: it was the poke that woke it.
    assert!(poked.elapsed() < sender::POLL, "took {:?}", poked.elapsed());

    // Without a poke, the next poll finds what is queued.
    enqueue(&app, None, &[plain("pat@example.com", "Polled", "Hi.\n")]).await;
    let queued = Instant::now();
    while server.received().len() < 2 {
        assert!(
            queued.elapsed() < Duration::from_secs(30),
            "never delivered"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        server.received()[1].header("Subject").as_deref(),
        Some("Polled")
    );

    tokio::time::timeout(
        Duration::from_secs(10),
        running.stop(Duration::from_secs(5)),
    )
    .await
    .expect("the sender stops");
    app.stop().await;
}

/// `kill -9` in the middle of a send: the message in flight waits for the reclaim, and
/// only that one; every other message due goes out on the next pass, from another
/// server or this one restarted.
async fn a_sender_killed_mid_send_holds_back_only_the_message_in_flight(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let messages: Vec<NewMessage> = (1..=5)
        .map(|n| plain("pat@example.com", &format!("Message {n}"), "Hi.\n"))
        .collect();
    let ids = enqueue(&app, None, &messages).await;
    let sending = |rows: &[Message]| rows.iter().filter(|m| m.status == "sending").count();
    let all = |db: Db| async move {
        let mut conn = db.conn().await.unwrap();
        outbox::to_address(conn.exec(), "pat@example.com", 100)
            .await
            .unwrap()
    };

    // A sender stuck sending the first message, then killed: nothing recorded.
    let server = SmtpServer::start(Mode::Stall).await;
    let stuck = tokio::spawn({
        let (db, clock, mailer) = (app.db.clone(), app.clock.clone(), server.mailer());
        async move { sender::deliver_due(&db, clock.as_ref(), &mailer).await }
    });
    let started = Instant::now();
    while sending(&all(app.db.clone()).await) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "nothing claimed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stuck.abort();
    assert!(stuck.await.unwrap_err().is_cancelled());
    assert_eq!(sending(&all(app.db.clone()).await), 1, "one claimed");

    // A minute later another sender delivers the four others, not the one in flight.
    server.set_mode(Mode::Accept);
    app.clock.advance(60);
    let mailer = server.mailer();
    let pass = sender::deliver_due(&app.db, app.clock.as_ref(), &mailer)
        .await
        .unwrap();
    assert_eq!(pass, Pass { sent: 4, failed: 0 });
    let in_flight = all(app.db.clone())
        .await
        .into_iter()
        .find(|m| m.status == "sending")
        .expect("the message in flight is still claimed");
    assert_eq!(in_flight.id, ids[0]);

    // It goes out once its claim has lapsed, ten minutes after it was claimed.
    app.clock.advance(outbox::CLAIM_NS / 1_000_000_000 - 61);
    let early = sender::deliver_due(&app.db, app.clock.as_ref(), &mailer)
        .await
        .unwrap();
    assert_eq!(early, Pass::default());
    app.clock.advance(1);
    let reclaimed = sender::deliver_due(&app.db, app.clock.as_ref(), &mailer)
        .await
        .unwrap();
    assert_eq!(reclaimed, Pass { sent: 1, failed: 0 });
    assert_eq!(server.received().len(), 5);
    app.stop().await;
}

both!(
    delivers_over_smtp_with_the_invitation,
    a_busy_server_means_a_retry_after_backoff,
    a_server_that_hangs_up_makes_the_message_fail_after_the_last_attempt,
    the_background_sender_wakes_when_notified,
    a_sender_killed_mid_send_holds_back_only_the_message_in_flight,
);

/// Captures what the log says, for the test it is set as default in.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Log {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// One thread, so that everything the test awaits logs to the subscriber set for it.
#[tokio::test(flavor = "current_thread")]
async fn the_mailbox_folder_gets_eml_files_and_the_log_gets_their_links() {
    let log = Log::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer({
            let log = log.clone();
            move || log.clone()
        })
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = TestApp::spawn(Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("mailbox").join("dev");
    let mailer = Mailer::new(&MailConfig {
        from: "Openslot <no-reply@localhost>".parse().unwrap(),
        transport: MailTransport::Mailbox(folder.clone()),
    })
    .unwrap();
    assert_eq!(
        mailer.mailbox(),
        Some(folder.as_path()),
        "the folder is created"
    );

    let link = format!("{}/o/demo/portal/invite?token=Zm9vYmFy", app.base);
    let ids = enqueue(
        &app,
        None,
        &[
            plain(
                "pat@example.com",
                "You are invited to the Lakeshore portal",
                &format!("Hello Pat,\n\nFollow this link to set your password: {link}.\n"),
            ),
            NewMessage {
                to: "pat@example.com".into(),
                subject: "Your appointment".into(),
                body: "See you on Monday.\n".into(),
                ics: Some(invitation(&app, 5, IcsMethod::Request)),
            },
        ],
    )
    .await;
    let pass = sender::deliver_due(&app.db, app.clock.as_ref(), &mailer)
        .await
        .unwrap();
    assert_eq!(pass, Pass { sent: 2, failed: 0 });
    for id in ids {
        assert_eq!(row(&app.db, "pat@example.com", id).await.status, "sent");
    }

    let mut files: Vec<Vec<Part>> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            assert_eq!(path.extension().and_then(|e| e.to_str()), Some("eml"));
            parts(&std::fs::read_to_string(path).unwrap())
        })
        .collect();
    files.sort_by_key(Vec::len);
    let [welcome, invitation] = &files[..] else {
        panic!("two files: {files:?}")
    };
    assert_eq!(
        welcome[0].body.trim_end_matches("\r\n"),
        format!("Hello Pat,\r\n\r\nFollow this link to set your password: {link}.")
    );
    assert_eq!(
        invitation[2].content_type,
        "text/calendar; method=REQUEST; charset=utf-8"
    );

    let log = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("email written to the mailbox folder"), "{log}");
    assert!(
        log.contains(&format!("link={link} ")) || log.contains(&format!("link={link}\n")),
        "{log}"
    );
    assert_eq!(log.matches("link in email").count(), 1, "{log}");
    app.stop().await;
}

#[tokio::test]
async fn an_unusable_mailbox_folder_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, "").unwrap();
    let error = Mailer::new(&MailConfig {
        from: "Openslot <no-reply@localhost>".parse().unwrap(),
        transport: MailTransport::Mailbox(file.join("mailbox")),
    })
    .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("cannot create the mailbox folder"),
        "{error}"
    );
}
