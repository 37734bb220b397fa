//! Hostile and malformed requests from outside: every page route walked with hostile
//! query strings, form fields and path ids (no 5xx anywhere); NUL characters, bodies
//! over the limit, fields of the wrong type and requests the router has no route for,
//! each answered the same way on both backends, and under `/api/` always with the API's
//! JSON error body.

use std::collections::BTreeSet;
use std::time::Instant as Stopwatch;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use store::keys::Kind;
use store::staff::Role;

use crate::both;
use crate::security::{Route, Who, page_routes, world};
use crate::support::{Backend, Client, PASSWORD, Page, TestApp};

/// Values no field expects: dates far outside the calendar, and the last date the
/// scenario format allows (a week after it is outside), numbers past 64 bits and below
/// zero, nothing, a NUL. (A very long value is added per kind of place, see
/// [`values`].)
const HOSTILE: &[&str] = &[
    "+262142-12-31",
    "0000-00-00",
    "9999-99-99",
    "2199-12-31",
    "99999999999999999999",
    "-1",
    "",
    "a\u{0}b",
];

/// Query parameters the pages read, tried on every page besides the ones its own links
/// and forms name (a page may read a parameter it never links to).
const COMMON_QUERY: &[&str] = &[
    "from",
    "to",
    "date",
    "practitioner",
    "clinic",
    "service",
    "start",
    "next",
];

/// The hostile values for one place: [`HOSTILE`] and a long one (a query or path value
/// stays under the server's address limit; a form value is past the body limit of
/// anyone but staff, at 80 KB).
fn values(long: usize) -> Vec<String> {
    let mut all: Vec<String> = HOSTILE.iter().map(|v| (*v).to_owned()).collect();
    all.push("é".repeat(long / 2));
    all
}

/// A hostile value as a failure names it: quoted, escaped, cut short.
fn label(value: &str) -> String {
    let short: String = value.chars().take(16).collect();
    if short.len() < value.len() {
        format!("{short:?}… ({} bytes)", value.len())
    } else {
        format!("{short:?}")
    }
}

/// Percent-encodes one path segment.
fn segment(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The field names a page offers: for a query (`get`), the fields of its forms that
/// are sent with `method="get"` and the query keys of its links; for a post, the fields
/// of its other forms.
fn field_names(html: &str, get: bool) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for form in html.split("<form").skip(1) {
        let form = &form[..form.find("</form>").unwrap_or(form.len())];
        let method_get = form[..form.find('>').unwrap_or(0)].contains("method=\"get\"");
        if method_get != get {
            continue;
        }
        for (at, _) in form.match_indices("name=\"") {
            let rest = &form[at + 6..];
            if let Some(end) = rest.find('"') {
                names.insert(rest[..end].to_owned());
            }
        }
    }
    if !get {
        names.remove("_csrf");
        return names;
    }
    for (at, _) in html.match_indices("href=\"") {
        let rest = &html[at + 6..];
        let link = &rest[..rest.find('"').unwrap_or(0)];
        if let Some((_, query)) = link.split_once('?') {
            for pair in query.split("&amp;").flat_map(|p| p.split('&')) {
                if let Some((name, _)) = pair.split_once('=') {
                    names.insert(name.to_owned());
                }
            }
        }
    }
    names.remove("_csrf");
    names.retain(|n| !n.is_empty() && !n.contains('{') && n.len() < 40);
    names
}

/// One request of the walk.
struct Probe {
    what: String,
    path: String,
    query: Vec<(String, String)>,
    form: Option<Vec<(String, String)>>,
}

/// The requests that try one route: each path id, each query parameter and each form
/// field set to each hostile value in turn (one at a time, the others valid, so that a
/// field checked first cannot hide the others), and every field hostile at once.
async fn probes(route: &Route, client: &Client) -> Vec<Probe> {
    let full = route.at("alpha");
    let (path, own_query) = full.split_once('?').unwrap_or((&full, ""));
    let own_query: Vec<(String, String)> = own_query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.replace("%2B", "+")))
        .collect();
    // The page itself (for a post: the page at the same address, if there is one) says
    // which fields it has.
    let page = client.get(&full).await;
    // A walker refused the page (the front desk on an admin's page) is refused by role
    // before any field of it is read: its probes would only repeat that.
    if page.status == StatusCode::FORBIDDEN {
        return Vec::new();
    }
    let offered = if page.status == StatusCode::OK {
        field_names(&page.body, route.method == Method::GET)
    } else {
        BTreeSet::new()
    };
    let mut probes = Vec::new();
    // Path ids.
    let template_parts: Vec<&str> = route.template.split('/').collect();
    let path_parts: Vec<&str> = path.split('/').collect();
    for (i, part) in template_parts.iter().enumerate() {
        if !part.starts_with('{') || *part == "{slug}" {
            continue;
        }
        for value in values(3000) {
            let mut parts = path_parts.clone();
            let encoded = segment(&value);
            parts[i] = &encoded;
            probes.push(Probe {
                what: format!("path {part} = {}", label(&value)),
                path: parts.join("/"),
                query: own_query.clone(),
                form: (route.method == Method::POST).then(|| base_form(route)),
            });
        }
    }
    let html = page
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if route.method == Method::GET && !html {
        // A file (a stylesheet, a calendar file) reads no query: one probe with every
        // parameter set shows that.
        probes.push(Probe {
            what: "every query parameter hostile".to_owned(),
            path: path.to_owned(),
            query: COMMON_QUERY
                .iter()
                .zip(HOSTILE.iter().cycle())
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            form: None,
        });
    } else if route.method == Method::GET {
        let mut names: BTreeSet<String> = offered;
        names.extend(own_query.iter().map(|(k, _)| k.clone()));
        names.extend(COMMON_QUERY.iter().map(|n| (*n).to_owned()));
        for value in values(3000) {
            for name in &names {
                let mut query: Vec<(String, String)> = own_query
                    .iter()
                    .filter(|(k, _)| k != name)
                    .cloned()
                    .collect();
                query.push((name.clone(), value.clone()));
                probes.push(Probe {
                    what: format!("query {name} = {}", label(&value)),
                    path: path.to_owned(),
                    query,
                    form: None,
                });
            }
            // All at once, but within an address the HTTP library can send.
            if value.len() * names.len() > 6000 {
                continue;
            }
            probes.push(Probe {
                what: format!("every query parameter = {}", label(&value)),
                path: path.to_owned(),
                query: names.iter().map(|n| (n.clone(), value.clone())).collect(),
                form: None,
            });
        }
    } else {
        let mut names: BTreeSet<String> = offered;
        names.extend(route.form.iter().map(|(k, _)| (*k).to_owned()));
        for value in values(80_000) {
            for name in &names {
                let mut form: Vec<(String, String)> = base_form(route)
                    .into_iter()
                    .filter(|(k, _)| k != name)
                    .collect();
                form.push((name.clone(), value.clone()));
                probes.push(Probe {
                    what: format!("field {name} = {}", label(&value)),
                    path: path.to_owned(),
                    query: own_query.clone(),
                    form: Some(form),
                });
            }
            probes.push(Probe {
                what: format!("every field = {}", label(&value)),
                path: path.to_owned(),
                query: own_query.clone(),
                form: Some(names.iter().map(|n| (n.clone(), value.clone())).collect()),
            });
        }
    }
    probes
}

fn base_form(route: &Route) -> Vec<(String, String)> {
    route
        .form
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

/// Sends one probe (a post with the session's CSRF token).
async fn send(client: &Client, token: &str, probe: &Probe) -> StatusCode {
    let mut url = client.url(&probe.path);
    for (i, (name, value)) in probe.query.iter().enumerate() {
        url.push(if i == 0 { '?' } else { '&' });
        url.push_str(&format!("{}={}", segment(name), segment(value)));
    }
    let request = match &probe.form {
        None => client.http.get(url),
        Some(form) => {
            let mut fields = vec![("_csrf".to_owned(), token.to_owned())];
            fields.extend(form.iter().cloned());
            client.http.post(url).form(&fields)
        }
    };
    request.send().await.unwrap().status()
}

/// Every page route (the security matrix's list, which the matrix holds equal to the
/// router's), walked by an admin, a front desk member and a patient with hostile query
/// strings, form fields and path ids: no answer is a 5xx. Sign-outs are left out (they
/// end the walker's session); the rest run in the matrix's order, deletions last.
async fn pages_survive_hostile_input(backend: Backend) {
    let w = world(backend).await;
    let front_desk = w.app.client();
    let signed = front_desk
        .sign_in("alpha", "front_desk-alpha@example.com", PASSWORD)
        .await;
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    let started = Stopwatch::now();
    let mut sent = 0usize;
    let mut failures = Vec::new();
    for route in page_routes(&w.ids) {
        if route.template.ends_with("signout") {
            continue;
        }
        let walkers: Vec<(&str, &Client)> = match route.who {
            Who::Staff => vec![("admin", &w.alpha_staff), ("front desk", &front_desk)],
            Who::Patient => vec![("patient", &w.owner)],
            Who::Anyone => vec![("patient", &w.owner), ("admin", &w.alpha_staff)],
        };
        for (who, client) in walkers {
            let token = client.csrf_token(&route.at("alpha")).await;
            for probe in probes(&route, client).await {
                let status = send(client, &token, &probe).await;
                sent += 1;
                if status.is_server_error() {
                    failures.push(format!(
                        "{who}: {} {} with {}: {status}",
                        route.method, route.template, probe.what
                    ));
                }
            }
        }
    }
    eprintln!(
        "page fuzzing: {sent} requests in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(sent > 5_000, "the walk sent only {sent} requests");
    assert!(
        failures.is_empty(),
        "{} answers were 5xx:\n{}",
        failures.len(),
        failures.join("\n")
    );
    w.app.stop().await;
}

/// The API's side of the walk: every documented query parameter of every `GET` under
/// an organisation (from the served OpenAPI document, so new parameters are covered),
/// set to each hostile value in turn with the others valid, by an admin and by a
/// patient: never a 5xx, and every 422 is the JSON error naming a parameter (`to` may
/// be refused for a hostile `from`: it must come after it).
async fn api_queries_survive_hostile_input(backend: Backend) {
    let w = world(backend).await;
    let doc = w.alpha_staff.get("/api/openapi.json").await.json();
    let valid = |name: &str| -> String {
        match name {
            "service" => w.ids.service.clone(),
            "practitioner" => w.ids.practitioner.clone(),
            "from" => "2026-03-02".to_owned(),
            "to" => "2026-03-06".to_owned(),
            _ => String::new(),
        }
    };
    let mut failures = Vec::new();
    let mut sent = 0;
    for (template, item) in doc["paths"].as_object().unwrap() {
        let Some(params) = item["get"]["parameters"].as_array() else {
            continue;
        };
        // Operations naming an id in their path are the security matrix's; the query
        // parameters are on the lists.
        if template.matches('{').count() > 1 {
            continue;
        }
        let names: Vec<String> = params
            .iter()
            .filter(|p| p["in"] == "query")
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect();
        let client = if template.contains("/portal/") {
            &w.owner
        } else {
            &w.alpha_staff
        };
        let path = template.replace("{slug}", "alpha");
        for name in &names {
            for value in values(3000) {
                let mut url = client.url(&path);
                let query: Vec<(String, String)> = names
                    .iter()
                    .map(|n| {
                        let v = if n == name { value.clone() } else { valid(n) };
                        (n.clone(), v)
                    })
                    .filter(|(n, v)| n == name || !v.is_empty())
                    .collect();
                for (i, (n, v)) in query.iter().enumerate() {
                    url.push(if i == 0 { '?' } else { '&' });
                    url.push_str(&format!("{}={}", segment(n), segment(v)));
                }
                let page = Client::read(client.http.get(url).send().await.unwrap()).await;
                sent += 1;
                let what = format!("GET {template} with {name} = {}", label(&value));
                if page.status.is_server_error() {
                    failures.push(format!("{what}: {}", page.status));
                } else if page.status == StatusCode::UNPROCESSABLE_ENTITY
                    && !page.json()["error"]["field"].is_string()
                {
                    failures.push(format!("{what}: refused naming no field: {}", page.body));
                }
            }
        }
    }
    assert!(sent > 50, "the walk sent only {sent} requests");
    assert!(
        failures.is_empty(),
        "{} answers were wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    w.app.stop().await;
}

/// Finding 3: a patient's slots page with a date far past the calendar (parsed by the
/// date library, but a week after it does not exist) is refused naming `from`.
async fn a_far_off_date_on_the_slots_page_is_refused_naming_it(backend: Backend) {
    let w = world(backend).await;
    let service = &w.ids.service;
    for from in ["%2B262142-12-31", "2199-12-31", "1999-12-31", "0000-00-00"] {
        let page = w
            .owner
            .get(&format!("/o/alpha/portal/book/{service}?from={from}"))
            .await;
        assert_eq!(
            page.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{from}: {}",
            page.body
        );
        assert!(page.contains("from:"), "{from}: {}", page.body);
    }
    // The API's slots: the same dates are refused, naming the field.
    let api = w
        .owner
        .api(
            Method::GET,
            &format!("/api/v1/orgs/alpha/portal/slots?service={service}&from=%2B262142-12-31&to=%2B262143-01-01"),
            None,
        )
        .await;
    assert_eq!(api.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", api.body);
    assert_eq!(api.json()["error"]["field"], "from");
    w.app.stop().await;
}

/// The error of an API answer: its status, `code`, `field` and `message`.
fn error_of(page: &Page) -> (StatusCode, String, Value, String) {
    let body = page.json();
    (
        page.status,
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        body["error"]["field"].clone(),
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

/// Finding 12: a NUL character in any text field is refused with a 422 naming the field
/// on both backends, before anything is stored: JSON bodies (also without a session),
/// forms, query strings, a portal booking's idempotency key.
async fn a_nul_character_is_refused_naming_its_field(backend: Backend) {
    let w = world(backend).await;
    let staff = &w.alpha_staff;
    let stranger = w.app.client();
    let sign_in = stranger
        .api(
            Method::POST,
            "/api/v1/orgs/alpha/session",
            Some(json!({"email": "admin\u{0}@x.example", "password": "x"})),
        )
        .await;
    let (status, code, field, _) = error_of(&sign_in);
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid")
    );
    assert_eq!(field, "email");
    let appointments_before = w
        .owner
        .api(Method::GET, "/api/v1/orgs/alpha/portal/appointments", None)
        .await
        .json();
    let patients_before = staff
        .api(Method::GET, "/api/v1/orgs/alpha/patients", None)
        .await
        .json();
    for (path, body, named) in [
        (
            "/api/v1/orgs/alpha/patients",
            json!({"first_name": "Nul\u{0}", "last_name": "X", "email": "nul@example.com"}),
            "first_name",
        ),
        (
            "/api/v1/orgs/alpha/clinics",
            json!({"name": "Clinic", "timezone": "UTC\u{0}"}),
            "timezone",
        ),
        (
            "/api/v1/orgs/alpha/services",
            json!({"name": "S", "duration_minutes": 30, "schedule_type_ids": [], "nested": [{"x": "\u{0}"}]}),
            "nested[0].x",
        ),
    ] {
        let refused = staff.api(Method::POST, path, Some(body)).await;
        let (status, _, field, message) = error_of(&refused);
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {}",
            refused.body
        );
        assert_eq!(field, named, "{path}");
        assert!(message.contains("NUL"), "{message}");
    }
    let search = staff
        .api(Method::GET, "/api/v1/orgs/alpha/patients?q=a%00b", None)
        .await;
    assert_eq!(error_of(&search).2, "q", "{}", search.body);
    // A patient's booking with a NUL in its idempotency key, by the API and the form.
    let booking = w
        .owner
        .api(
            Method::POST,
            "/api/v1/orgs/alpha/portal/appointments",
            Some(json!({"service": w.ids.service.parse::<i64>().unwrap(),
                        "practitioner": w.ids.practitioner.parse::<i64>().unwrap(),
                        "start": "2026-03-03T09:00:00-05:00", "idempotency_key": "k\u{0}"})),
        )
        .await;
    assert_eq!(error_of(&booking).2, "idempotency_key", "{}", booking.body);
    let form = w
        .owner
        .post_form(
            &format!("/o/alpha/portal/book/{}", w.ids.service),
            &[
                ("practitioner", w.ids.practitioner.as_str()),
                ("start", "2026-03-03T09:00:00-05:00"),
                ("idempotency_key", "k\u{0}"),
            ],
        )
        .await;
    assert_eq!(
        form.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        form.body
    );
    assert!(form.contains("idempotency_key"), "{}", form.body);
    // The pages' forms and queries too; a path with a NUL names nothing.
    let clinic = staff
        .post_form(
            "/o/alpha/admin/clinics",
            &[("name", "Nul\u{0}clinic"), ("timezone", "UTC")],
        )
        .await;
    assert_eq!(clinic.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(clinic.contains("name"), "{}", clinic.body);
    let search_page = staff.get("/o/alpha/admin/patients?q=a%00b").await;
    assert_eq!(search_page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let path = staff.get("/o/alpha%00/admin").await;
    assert_eq!(path.status, StatusCode::NOT_FOUND);
    // Nothing was stored.
    let patients_after = staff
        .api(Method::GET, "/api/v1/orgs/alpha/patients", None)
        .await
        .json();
    assert_eq!(patients_before, patients_after);
    let appointments = w
        .owner
        .api(Method::GET, "/api/v1/orgs/alpha/portal/appointments", None)
        .await
        .json();
    assert_eq!(appointments, appointments_before);
    let clinics = staff
        .api(Method::GET, "/api/v1/orgs/alpha/clinics", None)
        .await
        .json();
    assert_eq!(clinics.as_array().unwrap().len(), 1);
    w.app.stop().await;
}

/// Finding 12: a field of the wrong type names the field and says what it must be, in
/// words; so does a query parameter.
async fn a_wrong_type_names_the_field_in_words(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("alpha", &crate::support::basic_scenario()).await;
    let staff = app.signed_in(&org, Role::Admin).await;
    let cases = [
        (
            json!({"first_name": 123, "last_name": "X"}),
            "first_name",
            "must be a string",
        ),
        (
            json!({"first_name": "A", "last_name": ["X"]}),
            "last_name",
            "must be a string",
        ),
        (json!({"last_name": "X"}), "first_name", "is required"),
        (json!("text"), "body", "must be an object"),
    ];
    for (body, field, message) in cases {
        let refused = staff
            .api(
                Method::POST,
                "/api/v1/orgs/alpha/patients",
                Some(body.clone()),
            )
            .await;
        let (status, code, f, m) = error_of(&refused);
        assert_eq!(
            (status, code.as_str(), f, m.as_str()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                Value::from(field),
                message
            ),
            "{body}"
        );
    }
    let service = app.id(&org, Kind::Service, "initial").await;
    let practitioner = app.id(&org, Kind::Practitioner, "christine").await;
    let wrong = staff
        .api(
            Method::POST,
            "/api/v1/orgs/alpha/appointments",
            Some(json!({"practitioner": practitioner, "service": service,
                        "start": "2026-03-02T09:00:00Z", "duration_minutes": -5})),
        )
        .await;
    let (status, _, field, message) = error_of(&wrong);
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{}", wrong.body);
    assert_eq!(field, "duration_minutes", "{}", wrong.body);
    assert!(message.starts_with("must be a whole number"), "{message}");
    let query = staff
        .api(Method::GET, "/api/v1/orgs/alpha/patients?limit=lots", None)
        .await;
    assert_eq!(error_of(&query).2, "limit", "{}", query.body);
    app.stop().await;
}

/// Sends raw bytes to the server and reads its whole answer (for what an HTTP client
/// library will not send: a `Content-Length` without its body).
async fn raw(app: &TestApp, request: &str) -> (StatusCode, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut answer),
    )
    .await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, head.to_ascii_lowercase(), body.to_owned())
}

/// Finding 12 and 10: a body over the limit is the JSON `too_large` whether its size is
/// announced (`Content-Length`) or found while reading; a stranger (no staff session)
/// may send only a small body, and a form post from a session without a CSRF token is
/// refused before its body is read.
async fn bodies_over_the_limit_are_refused_alike(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("alpha", &crate::support::basic_scenario()).await;
    let staff = app.signed_in(&org, Role::Admin).await;
    // Announced: 17 MiB, with no body sent at all.
    let (status, head, body) = raw(
        &app,
        "POST /api/v1/orgs/alpha/clinics HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: 17825792\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(head.contains("content-type: application/json"), "{head}");
    let announced: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(announced["error"]["code"], "too_large");
    // Found while reading: a stranger's sign-in of 100 KB, announced or chunked.
    let stranger = app.client();
    let big = "x".repeat(100_000);
    let sign_in = stranger
        .api(
            Method::POST,
            "/api/v1/orgs/alpha/session",
            Some(json!({"email": big, "password": "x"})),
        )
        .await;
    let (status, code, _, _) = error_of(&sign_in);
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "too_large")
    );
    // Chunked: the same, its size unknown until read. (A raw request, with the session
    // cookie and token of a fresh session.)
    let session = app
        .client()
        .http
        .get(stranger.url("/api/v1/orgs/alpha/session"))
        .send()
        .await
        .unwrap();
    let cookie = Client::session_cookie(session.headers()).expect("a session cookie");
    let token = Client::read(session).await.json()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let json = format!("{{\"email\": \"{big}\", \"password\": \"x\"}}");
    let (status, head, body) = raw(
        &app,
        &format!(
            "POST /api/v1/orgs/alpha/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Cookie: {cookie}\r\nX-CSRF-Token: {token}\r\nTransfer-Encoding: chunked\r\n\
             Connection: close\r\n\r\n{:x}\r\n{json}\r\n0\r\n\r\n",
            json.len()
        ),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{head}");
    assert!(head.contains("content-type: application/json"), "{head}");
    let chunked: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(chunked["error"]["code"], "too_large");
    // Staff may send more than a stranger (a large availability change).
    let staff_big = staff
        .api(
            Method::POST,
            "/api/v1/orgs/alpha/practitioner-types",
            Some(json!({"name": "T", "padding": big})),
        )
        .await;
    assert_ne!(staff_big.status, StatusCode::PAYLOAD_TOO_LARGE);
    // A form post from a session that was never given a token: refused unread.
    let blind = app.client();
    let refused = blind
        .post_raw(
            "/o/alpha/portal/signin",
            &[("username", big.as_str()), ("password", "x")],
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // With a token, a stranger's form is still read only so far.
    let page = stranger.get("/o/alpha/portal/signin").await;
    let long_form = stranger
        .post_raw(
            "/o/alpha/portal/signin",
            &[
                ("_csrf", page.csrf().as_str()),
                ("username", big.as_str()),
                ("password", "x"),
            ],
            &[],
        )
        .await;
    assert_eq!(long_form.status, StatusCode::PAYLOAD_TOO_LARGE);
    // The refused one left its body unread on the connection: the answer says the
    // connection closes, so no client sends its next request down it. (The long one
    // may have been read to its end already when its limit was found: either is right.)
    assert_eq!(
        refused
            .headers
            .get("connection")
            .map(|v| v.to_str().unwrap()),
        Some("close")
    );
    // Sign-in, with no session before it, still works.
    let fresh = app.client();
    let signed = fresh
        .sign_in("alpha", "admin-alpha@example.com", PASSWORD)
        .await;
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    // A body read to its end keeps the connection.
    assert_eq!(signed.headers().get("connection"), None);
    app.stop().await;
}

/// Issue 13: an unknown organisation on a page answered JSON, a path id that is not a
/// number answered plain text, `/o/demo` and `…/portal/` were 404s, and every error page
/// sent its reader to `/`. Now: the HTML page, with the way back the address gives.
async fn every_page_error_is_html_and_leads_back(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("alpha", &crate::support::basic_scenario()).await;
    let staff = app.signed_in(&org, Role::Admin).await;
    let html = |page: &Page| {
        page.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"))
    };
    // An organisation that does not exist: the page, leading to the start page.
    let nowhere = app.client().get("/o/nowhere/portal").await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);
    assert!(html(&nowhere), "{:?}", nowhere.headers);
    assert!(
        nowhere.contains("organisation not found"),
        "{}",
        nowhere.body
    );
    assert!(nowhere.contains("<a href=\"/\">Back to the start page</a>"));
    // A path id that is not a number: no such page, in the staff pages' frame.
    let not_a_number = staff.get("/o/alpha/admin/patients/abc").await;
    assert_eq!(not_a_number.status, StatusCode::NOT_FOUND);
    assert!(html(&not_a_number));
    assert!(not_a_number.contains("<a href=\"/o/alpha/admin\">Back to the staff pages</a>"));
    // A portal page that is not there leads back to the portal.
    let missing = app.client().get("/o/alpha/portal/nothing-here").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.contains("<a href=\"/o/alpha/portal\">Back to the portal</a>"));
    // The organisation's own address, and a slash at the end, lead to the page.
    let own = app.client().get("/o/alpha").await;
    assert!(own.status.is_redirection());
    assert_eq!(own.location(), "/o/alpha/portal");
    let slash = app.client().get("/o/alpha/portal/book/?x=1").await;
    assert_eq!(slash.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(slash.location(), "/o/alpha/portal/book?x=1");
    // …but never to another site.
    let away = app.client().get("//evil.example/").await;
    assert_eq!(away.status, StatusCode::NOT_FOUND);
    assert_eq!(away.location(), "");
    // The icon browsers ask for.
    let icon = app.client().get("/favicon.ico").await;
    assert_eq!(icon.location(), "/static/favicon.svg");
    let svg = app.client().get("/static/favicon.svg").await;
    assert_eq!(svg.status, StatusCode::OK);
    assert_eq!(svg.headers["content-type"], "image/svg+xml");
    // The API keeps its JSON for the same mistakes.
    let api = app
        .client()
        .get("/api/v1/orgs/nowhere/portal/session")
        .await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert_eq!(api.json()["error"]["code"], "not_found");
    app.stop().await;
}

/// Finding 12: every answer under `/api/` is the JSON error, also those that no handler
/// writes — a cross-site request, a method a route does not have, an address too long,
/// a path no route has.
async fn every_api_error_is_json(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("alpha", &crate::support::basic_scenario()).await;
    let staff = app.signed_in(&org, Role::Admin).await;
    let token = staff.csrf_token("/api/v1/orgs/alpha/clinics").await;
    let post = |headers: &[(&str, &str)]| {
        let mut request = staff
            .http
            .post(staff.url("/api/v1/orgs/alpha/clinics"))
            .header("x-csrf-token", &token)
            .json(&json!({"name": "Cross", "timezone": "UTC"}));
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        request
    };
    let mut answers = Vec::new();
    for headers in [
        &[("origin", "https://evil.example")][..],
        &[("origin", "null")][..],
        &[("sec-fetch-site", "cross-site")][..],
    ] {
        let page = Client::read(post(headers).send().await.unwrap()).await;
        answers.push((format!("{headers:?}"), StatusCode::FORBIDDEN, page));
    }
    let patch = Client::read(
        staff
            .http
            .patch(staff.url("/api/v1/orgs/alpha/clinics"))
            .header("x-csrf-token", &token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    answers.push(("PATCH".into(), StatusCode::METHOD_NOT_ALLOWED, patch));
    let long = staff
        .get(&format!(
            "/api/v1/orgs/alpha/patients?q={}",
            "a".repeat(20_000)
        ))
        .await;
    answers.push(("long address".into(), StatusCode::URI_TOO_LONG, long));
    for path in ["/api/v1/nothing", "/api/v1/orgs/alpha/nothing", "/api/"] {
        let missing = staff.get(path).await;
        answers.push((path.into(), StatusCode::NOT_FOUND, missing));
    }
    let not_json = Client::read(
        staff
            .http
            .post(staff.url("/api/v1/orgs/alpha/clinics"))
            .header("x-csrf-token", &token)
            .body("name=x")
            .send()
            .await
            .unwrap(),
    )
    .await;
    answers.push((
        "no JSON".into(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        not_json,
    ));
    for (what, expected, page) in answers {
        assert_eq!(page.status, expected, "{what}: {}", page.body);
        let content_type = page
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(
            content_type.starts_with("application/json"),
            "{what}: {content_type}"
        );
        let (_, code, _, message) = error_of(&page);
        assert!(
            !code.is_empty() && !message.is_empty(),
            "{what}: {}",
            page.body
        );
    }
    // Nothing was created by the refused posts.
    let clinics = staff
        .api(Method::GET, "/api/v1/orgs/alpha/clinics", None)
        .await
        .json();
    assert!(
        clinics
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["name"] != "Cross")
    );
    app.stop().await;
}

/// Finding 12: `GET …/session` answers a switched-off staff member as signed out, as
/// every other call does.
async fn a_switched_off_staff_member_is_signed_out(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("alpha", &crate::support::basic_scenario()).await;
    let admin = app.signed_in(&org, Role::Admin).await;
    let desk = app.signed_in(&org, Role::FrontDesk).await;
    let before = desk
        .api(Method::GET, "/api/v1/orgs/alpha/session", None)
        .await
        .json();
    assert_eq!(before["staff"]["role"], "front_desk");
    let id = before["staff"]["id"].as_i64().unwrap();
    let off = admin
        .api(
            Method::PUT,
            &format!("/api/v1/orgs/alpha/staff/{id}/active"),
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    let after = desk
        .api(Method::GET, "/api/v1/orgs/alpha/session", None)
        .await;
    assert_eq!(after.status, StatusCode::OK);
    assert_eq!(after.json()["staff"], Value::Null, "{}", after.body);
    let book = desk
        .api(Method::GET, "/api/v1/orgs/alpha/appointments", None)
        .await;
    assert_eq!(book.status, StatusCode::UNAUTHORIZED);
    app.stop().await;
}

/// Finding 12: the setup check is for admins and the front desk (who answer patients
/// asking why a time is not offered), not for practitioners; the server, the OpenAPI
/// document and docs/api.md say the same.
async fn the_setup_check_is_for_admins_and_the_front_desk(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.import("alpha", &crate::support::basic_scenario()).await;
    let service = app.id(&org, Kind::Service, "initial").await;
    let practitioner = app.id(&org, Kind::Practitioner, "christine").await;
    let explain = json!({"service": service, "practitioner": practitioner,
                         "date": "2026-03-02", "time": "09:00"});
    for (role, allowed) in [
        (Role::Admin, true),
        (Role::FrontDesk, true),
        (Role::Practitioner, false),
    ] {
        let client = app.signed_in(&org, role).await;
        let expected = if allowed {
            StatusCode::OK
        } else {
            StatusCode::FORBIDDEN
        };
        let report = client
            .api(Method::GET, "/api/v1/orgs/alpha/setup-check", None)
            .await;
        assert_eq!(report.status, expected, "{role:?}: {}", report.body);
        let why = client
            .api(
                Method::POST,
                "/api/v1/orgs/alpha/setup-check/explain",
                Some(explain.clone()),
            )
            .await;
        assert_eq!(why.status, expected, "{role:?}: {}", why.body);
        let page = client.get("/o/alpha/admin/setup-check").await;
        assert_eq!(page.status, expected, "{role:?}");
        if allowed {
            assert!(
                page.contains("admin/setup-check\" aria-current"),
                "{role:?}: linked"
            );
        }
    }
    let doc = app.client().get("/api/openapi.json").await.json();
    for (path, method) in [
        ("/api/v1/orgs/{slug}/setup-check", "get"),
        ("/api/v1/orgs/{slug}/setup-check/explain", "post"),
    ] {
        let operation = &doc["paths"][path][method];
        let forbidden = operation["responses"]["403"]["description"]
            .as_str()
            .unwrap_or_default();
        assert_eq!(forbidden, "Not an admin or front desk", "{path}");
    }
    let api_md =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api.md")).unwrap();
    let row = api_md
        .lines()
        .find(|l| l.starts_with("| setup check |"))
        .expect("docs/api.md lists the setup check");
    assert!(row.contains("admins and front desk"), "{row}");
    app.stop().await;
}

/// Finding 11: a Vancouver clinic at 18:00 local, when UTC (and the organisation's first
/// clinic, in Berlin) is already on the next day: the portal's first day is still
/// Vancouver's today with its evening slots, and the 409 page after a lost race offers
/// the same evening's next open times.
async fn the_portal_reads_each_clinics_own_date(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let scenario = slot_engine::Scenario::from_json(
        json!({
            "version": 1,
            "settings": {"slot_step_minutes": 30, "min_notice_minutes": 0},
            "clinics": [
                {"id": "berlin", "name": "A Berlin clinic", "timezone": "Europe/Berlin"},
                {"id": "van", "name": "Vancouver clinic", "timezone": "America/Vancouver"}],
            "schedule_types": [{"id": "eve", "name": "Evening", "clinic": "van"}],
            "practitioners": [
                {"id": "vera", "name": "Vera Vance", "type": "Physio", "home_clinic": "van",
                 "schedule_types": ["eve"],
                 "availability": [{"start_date": "2026-01-01",
                   "blocks": [{"days": ["mon", "tue"], "start": "18:00", "end": "21:00", "schedule_type": "eve"}]}]}],
            "services": [{"id": "visit", "name": "Evening visit", "duration_minutes": 30,
                          "book_from_portal": true, "schedule_types": ["eve"]}],
            "patients": [
                {"id": "ada", "first_name": "Ada", "last_name": "Lane", "email": "ada@example.com"},
                {"id": "ben", "first_name": "Ben", "last_name": "Moss", "email": "ben@example.com"}]
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    // Monday 2 March, 18:10 in Vancouver: Tuesday 02:10 in UTC, 03:10 in Berlin.
    app.clock.set("2026-03-03T02:10:00Z".parse().unwrap());
    let org = app.import("west", &scenario).await;
    let staff = app.signed_in(&org, Role::Admin).await;
    let ada = app.portal_patient(&org, &staff, "ada").await;
    let ben = app.portal_patient(&org, &staff, "ben").await;
    let visit = app.id(&org, Kind::Service, "visit").await;
    let vera = app.id(&org, Kind::Practitioner, "vera").await;
    let slots = ada.get(&format!("/o/west/portal/book/{visit}")).await;
    assert_eq!(slots.status, StatusCode::OK, "{}", slots.body);
    assert!(
        slots.contains("Monday 2 March") && slots.contains(">18:30"),
        "Vancouver's evening is offered: {}",
        slots.body
    );
    // Ben takes 18:30; Ada, who saw it free, is told so and offered the rest of the
    // evening.
    let start = "2026-03-02T18:30:00-08:00";
    let taken = ben
        .api(
            Method::POST,
            "/api/v1/orgs/west/portal/appointments",
            Some(json!({"service": visit, "practitioner": vera, "start": start})),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CREATED, "{}", taken.body);
    let lost = ada
        .post_form(
            &format!("/o/west/portal/book/{visit}"),
            &[("practitioner", &vera.to_string()), ("start", start)],
        )
        .await;
    assert_eq!(lost.status, StatusCode::CONFLICT, "{}", lost.body);
    assert!(
        lost.contains("Here are the next open times") && lost.contains("Monday 2 March"),
        "{}",
        lost.body
    );
    assert!(
        lost.contains("19:00"),
        "the same evening's next time: {}",
        lost.body
    );
    // The API's conflict carries the same next times.
    let again = ada
        .api(
            Method::POST,
            "/api/v1/orgs/west/portal/appointments",
            Some(json!({"service": visit, "practitioner": vera, "start": start})),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let next = &again.json()["error"]["details"]["next_slots"];
    assert_eq!(next[0]["date"], "2026-03-02", "{next}");
    assert_eq!(next[0]["time"], "19:00", "{next}");
    // The setup check counts Monday's evening as open too.
    let report = staff
        .api(Method::GET, "/api/v1/orgs/west/setup-check", None)
        .await;
    assert_eq!(report.status, StatusCode::OK);
    app.stop().await;
}

both!(
    pages_survive_hostile_input,
    api_queries_survive_hostile_input,
    a_far_off_date_on_the_slots_page_is_refused_naming_it,
    a_nul_character_is_refused_naming_its_field,
    a_wrong_type_names_the_field_in_words,
    bodies_over_the_limit_are_refused_alike,
    every_api_error_is_json,
    every_page_error_is_html_and_leads_back,
    a_switched_off_staff_member_is_signed_out,
    the_setup_check_is_for_admins_and_the_front_desk,
    the_portal_reads_each_clinics_own_date,
);
