//! The command line, run as a user would: the worked scenarios, exit statuses, stdin,
//! `--stats`, `check` and `gen-clinic`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::database::TestDatabase;
use crate::support::Backend;

fn openslot(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_openslot"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../slot-engine/tests/data/scenarios")
}

fn scenario(name: &str) -> String {
    scenarios().join(name).to_string_lossy().into_owned()
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(bytes)))
}

fn stderr_line(out: &Output) -> String {
    let text = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(
        text.trim_end().lines().count(),
        1,
        "one line on stderr: {text:?}"
    );
    text
}

#[test]
fn slots_prints_the_expected_answer_of_every_worked_scenario() {
    let mut n = 0;
    for entry in std::fs::read_dir(scenarios()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".json") else {
            continue;
        };
        let expected = scenarios().join(format!("{stem}.expected.json"));
        if !expected.exists() {
            continue;
        }
        let out = openslot(&["slots", "--scenario", path.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{stem}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            json(&out.stdout),
            json(&std::fs::read(expected).unwrap()),
            "{stem}"
        );
        n += 1;
    }
    assert!(n >= 8);
}

#[test]
fn an_invalid_scenario_exits_2_with_one_line_naming_the_item_and_nothing_on_stdout() {
    let out = openslot(&[
        "slots",
        "--scenario",
        &scenario("invalid-overlapping-records.json"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let line = stderr_line(&out);
    assert!(
        line.contains("practitioner \"christine\"") && line.contains("overlap"),
        "{line}"
    );
}

#[test]
fn bad_input_of_every_kind_exits_2() {
    for args in [
        vec!["slots", "--scenario", "/no/such/file.json"],
        vec!["slots"],
        vec!["slots", "--scenario"],
        vec!["no-such-command"],
        vec!["check", "--scenario", "x.json"],
        vec![
            "gen-clinic",
            "--practitioners",
            "0",
            "--days",
            "1",
            "--fill",
            "0.5",
            "--seed",
            "1",
        ],
        vec![
            "gen-clinic",
            "--practitioners",
            "1",
            "--days",
            "1",
            "--fill",
            "1.5",
            "--seed",
            "1",
        ],
    ] {
        let out = openslot(&args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn slots_reads_standard_input_and_refuses_a_scenario_without_query() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_openslot"))
        .args(["slots", "--scenario", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&std::fs::read(scenario("basic.json")).unwrap())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(json(&out.stdout)["slots"].as_array().unwrap().len(), 16);

    let mut child = Command::new(env!("CARGO_BIN_EXE_openslot"))
        .args(["slots", "--scenario", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"version": 1}"#)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_line(&out).contains("query"));
}

#[test]
fn stats_adds_one_json_line_on_stderr() {
    let out = openslot(&[
        "slots",
        "--scenario",
        &scenario("two-clinics.json"),
        "--stats",
    ]);
    assert!(out.status.success());
    let stats = json(stderr_line(&out).as_bytes());
    assert!(stats["compute_seconds"].as_f64().unwrap() >= 0.0);
    // Two practitioners over 2026-05-11..=2026-05-18.
    assert_eq!(stats["practitioner_days"], 16);
    assert_eq!(
        stats["slots"],
        json(&out.stdout)["slots"].as_array().unwrap().len()
    );
    // The whole request, broken into its stages, which it holds (each stage is
    // rounded to the nanosecond per practitioner-day).
    let whole = stats["compute_ns_per_practitioner_day"].as_f64().unwrap();
    let stages = &stats["stages_ns_per_practitioner_day"];
    let mut sum = 0.0;
    for stage in ["validation", "grids", "occupancy", "search"] {
        let ns = stages[stage]
            .as_f64()
            .unwrap_or_else(|| panic!("{stage}: {stats}"));
        assert!(ns >= 0.0, "{stage}: {stats}");
        sum += ns;
    }
    assert!(sum <= whole + 3.0, "{stats}");
    for outside in ["read", "parse", "format"] {
        assert!(stats["outside_compute_seconds"][outside].as_f64().unwrap() >= 0.0);
    }
}

#[test]
fn check_answers_a_portal_booking() {
    let basic = scenario("basic.json");
    let ok = openslot(&[
        "check",
        "--scenario",
        &basic,
        "--practitioner",
        "christine",
        "--start",
        "2026-03-02T10:00:00-05:00",
    ]);
    assert!(ok.status.success());
    assert_eq!(json(&ok.stdout), serde_json::json!({"bookable": true}));
    let no = openslot(&[
        "check",
        "--scenario",
        &basic,
        "--practitioner",
        "christine",
        "--start",
        "2026-03-02T09:15:00-05:00",
    ]);
    let answer = json(&no.stdout);
    assert_eq!(answer["bookable"], false);
    assert_eq!(answer["rule"], 11);
    assert!(answer["reason"].as_str().unwrap().contains("09:30"));
    let unknown = openslot(&[
        "check",
        "--scenario",
        &basic,
        "--practitioner",
        "nobody",
        "--start",
        "2026-03-02T10:00:00-05:00",
    ]);
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn check_staff_answers_every_listed_staff_booking() {
    let checks = json(&std::fs::read(scenarios().join("staff-checks.json")).unwrap());
    for c in checks["checks"].as_array().unwrap() {
        let duration = c["duration_minutes"].to_string();
        let mut args = vec![
            "check".to_owned(),
            "--scenario".to_owned(),
            scenario(c["scenario"].as_str().unwrap()),
            "--practitioner".to_owned(),
            c["practitioner"].as_str().unwrap().to_owned(),
            "--start".to_owned(),
            c["start"].as_str().unwrap().to_owned(),
            "--staff".to_owned(),
            "--duration".to_owned(),
            duration,
        ];
        if let Some(s) = c["service"].as_str() {
            args.extend(["--service".to_owned(), s.to_owned()]);
        } else if let Some(t) = c["schedule_type"].as_str() {
            args.extend(["--schedule-type".to_owned(), t.to_owned()]);
        }
        if let Some(named) = c["resources"].as_array() {
            let ids: Vec<&str> = named.iter().map(|r| r.as_str().unwrap()).collect();
            args.extend(["--resources".to_owned(), ids.join(",")]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = openslot(&args);
        assert!(out.status.success(), "{args:?}");
        let answer = json(&out.stdout);
        assert_eq!(answer["ok"], c["ok"], "{args:?}: {answer}");
        if let Some(holds) = c["holds"].as_array() {
            let empty = Vec::new();
            let held = answer["resources"].as_array().unwrap_or(&empty);
            assert_eq!(held, holds, "{args:?}: {answer}");
        }
        if answer["ok"] == false {
            assert!(!answer["needs_override"].as_array().unwrap().is_empty());
        }
    }
}

#[test]
fn check_every_weeks_lists_every_occurrence_of_every_listed_series() {
    let checks = json(&std::fs::read(scenarios().join("series-checks.json")).unwrap());
    let checks = checks["checks"].as_array().unwrap();
    assert!(checks.len() >= 8);
    for c in checks {
        let mut args = vec![
            "check".to_owned(),
            "--scenario".to_owned(),
            scenario(c["scenario"].as_str().unwrap()),
            "--practitioner".to_owned(),
            c["practitioner"].as_str().unwrap().to_owned(),
            "--start".to_owned(),
            c["start"].as_str().unwrap().to_owned(),
            "--every-weeks".to_owned(),
            c["every_weeks"].to_string(),
        ];
        match (c.get("count"), c.get("until")) {
            (Some(n), _) if !n.is_null() => args.extend(["--count".to_owned(), n.to_string()]),
            (_, Some(d)) => args.extend(["--until".to_owned(), d.as_str().unwrap().to_owned()]),
            _ => panic!("count or until"),
        }
        let staff = &c["staff"];
        if !staff.is_null() {
            args.extend([
                "--staff".to_owned(),
                "--duration".to_owned(),
                staff["duration_minutes"].to_string(),
            ]);
            if let Some(s) = staff["service"].as_str() {
                args.extend(["--service".to_owned(), s.to_owned()]);
            } else if let Some(t) = staff["schedule_type"].as_str() {
                args.extend(["--schedule-type".to_owned(), t.to_owned()]);
            }
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = openslot(&args);
        assert!(out.status.success(), "{args:?}: {}", stderr_line(&out));
        let answer = json(&out.stdout);
        let verdict = if staff.is_null() { "bookable" } else { "ok" };
        let got = answer["occurrences"].as_array().unwrap();
        let want = c["occurrences"].as_array().unwrap();
        assert_eq!(got.len(), want.len(), "{args:?}");
        for (g, w) in got.iter().zip(want) {
            assert_eq!(g["date"], w["date"], "{args:?}");
            assert_eq!(g["start"], w["start"], "{args:?}");
            assert_eq!(g[verdict], w[verdict], "{args:?}: {g}");
            if staff.is_null() && w["bookable"] == false {
                assert_eq!(g["rule"], w["rule"], "{args:?}");
                assert!(!g["reason"].as_str().unwrap().is_empty());
            }
        }
        let all = want.iter().all(|w| w[verdict] == true);
        assert_eq!(answer[verdict], all, "{args:?}");
    }
}

#[test]
fn check_every_weeks_refuses_a_bad_series_naming_the_flag() {
    let london = scenario("series-london.json");
    let base = [
        "check",
        "--scenario",
        &london,
        "--practitioner",
        "ana",
        "--start",
        "2027-03-16T17:00:00Z",
        "--every-weeks",
    ];
    let too_short = openslot(&[&base[..], &["1", "--until", "2027-03-17"]].concat());
    assert_eq!(too_short.status.code(), Some(2));
    assert!(too_short.stdout.is_empty());
    assert_eq!(
        stderr_line(&too_short).trim_end(),
        "error: --until: until 2027-03-17 leaves 1 occurrence; a series has 2 to 52"
    );
    let five = openslot(&[&base[..], &["5", "--count", "3"]].concat());
    assert_eq!(five.status.code(), Some(2));
    let neither = openslot(&[&base[..], &["1"]].concat());
    assert_eq!(neither.status.code(), Some(2));
    assert!(stderr_line(&neither).contains("--count or --until"));
    // A service that does not allow series online is refused as a whole.
    let basic = scenario("basic.json");
    let not_allowed = openslot(&[
        "check",
        "--scenario",
        &basic,
        "--practitioner",
        "christine",
        "--start",
        "2026-03-02T10:00:00-05:00",
        "--every-weeks",
        "1",
        "--count",
        "2",
    ]);
    assert_eq!(not_allowed.status.code(), Some(2));
    assert!(stderr_line(&not_allowed).contains("cannot be booked online as a series"));
}

/// `gen-clinic` of a small clinic: 3 practitioners, 14 days, half booked, seed 7.
const SMALL_CLINIC: [&str; 9] = [
    "gen-clinic",
    "--practitioners",
    "3",
    "--days",
    "14",
    "--fill",
    "0.5",
    "--seed",
    "7",
];

#[test]
fn gen_clinic_mixed_buffers_writes_a_version_two_clinic() {
    let out = openslot(&[&SMALL_CLINIC[..], &["--mixed", "--buffers"]].concat());
    assert!(out.status.success());
    let doc = json(&out.stdout);
    assert_eq!(doc["version"], 2);
    assert_eq!(doc["services"][0]["buffer_before_minutes"], 5);
    assert_eq!(doc["services"][0]["buffer_after_minutes"], 10);
    let without = openslot(&[&SMALL_CLINIC[..], &["--buffers"]].concat());
    assert_eq!(without.status.code(), Some(2), "--buffers needs --mixed");
}

#[test]
fn gen_clinic_is_deterministic_and_shaped_like_the_peer_harness_expects() {
    let args = SMALL_CLINIC;
    let a = openslot(&args);
    let b = openslot(&args);
    assert!(a.status.success());
    assert_eq!(a.stdout, b.stdout);
    let doc = json(&a.stdout);
    assert_eq!(doc["clinics"][0]["timezone"], "America/Toronto");
    assert_eq!(doc["practitioners"].as_array().unwrap().len(), 3);
    // Ten weekdays, ten of twenty slots booked each.
    assert_eq!(doc["appointments"].as_array().unwrap().len(), 3 * 10 * 10);
    assert_eq!(doc["query"]["from"], "2030-01-07");
    assert_eq!(doc["query"]["to"], "2030-01-20");
    let other_seed = openslot(&[
        "gen-clinic",
        "--practitioners",
        "3",
        "--days",
        "14",
        "--fill",
        "0.5",
        "--seed",
        "8",
    ]);
    assert_ne!(a.stdout, other_seed.stdout);

    let dir = std::env::temp_dir().join(format!("openslot-gen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("mixed.json");
    let out = openslot(&[
        "gen-clinic",
        "--mixed",
        "--practitioners",
        "9",
        "--days",
        "90",
        "--fill",
        "0.5",
        "--seed",
        "1",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let answer = openslot(&["slots", "--scenario", file.to_str().unwrap()]);
    assert!(
        answer.status.success(),
        "{}",
        String::from_utf8_lossy(&answer.stderr)
    );
    let slots = json(&answer.stdout);
    let zones: std::collections::BTreeSet<&str> = slots["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["start"].as_str().unwrap()[19..])
        .collect();
    // Toronto in winter and summer time, Kolkata, Kathmandu.
    assert!(
        zones.is_superset(
            &["-05:00", "-04:00", "+05:30", "+05:45"]
                .into_iter()
                .collect()
        ),
        "{zones:?}"
    );
    std::fs::remove_dir_all(dir).ok();
}

fn import_export_slots_agree_with_the_scenario_cli(db: &TestDatabase) {
    let mut n = 0;
    for entry in std::fs::read_dir(scenarios()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".json") else {
            continue;
        };
        let expected_path = scenarios().join(format!("{stem}.expected.json"));
        if !expected_path.exists() {
            continue;
        }
        let expected = json(&std::fs::read(&expected_path).unwrap());
        let original = json(&std::fs::read(&path).unwrap());
        // Until the store keeps buffers and series (issue 15, in progress), version 2
        // scenarios are held to their answers by the engine's tests only.
        if original["version"] != 1 {
            continue;
        }
        let org = stem.replace('_', "-");
        let out = openslot(&[
            "import",
            "--scenario",
            path.to_str().unwrap(),
            "--org",
            &org,
            "--database-url",
            &db.url,
        ]);
        assert!(
            out.status.success(),
            "{stem}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // export, add the query back, slots --scenario
        let out = openslot(&["export", "--org", &org, "--database-url", &db.url]);
        assert!(
            out.status.success(),
            "{stem}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut exported = json(&out.stdout);
        assert!(
            exported.get("query").is_none(),
            "{stem}: export has no query"
        );
        exported["query"] = original["query"].clone();
        let file = std::env::temp_dir().join(format!(
            "openslot-export-{}-{stem}.json",
            std::process::id()
        ));
        std::fs::write(&file, exported.to_string()).unwrap();
        let out = openslot(&["slots", "--scenario", file.to_str().unwrap()]);
        std::fs::remove_file(&file).ok();
        assert!(
            out.status.success(),
            "{stem}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(json(&out.stdout), expected, "{stem}: export then slots");
        // slots --org straight from the database
        let q = &original["query"];
        let mut args = vec![
            "slots".to_owned(),
            "--org".into(),
            org.clone(),
            "--service".into(),
            q["service"].as_str().unwrap().into(),
            "--from".into(),
            q["from"].as_str().unwrap().into(),
            "--to".into(),
            q["to"].as_str().unwrap().into(),
            "--now".into(),
            q["now"].as_str().unwrap().into(),
            "--database-url".into(),
            db.url.clone(),
        ];
        if let Some(list) = q.get("practitioners").and_then(|p| p.as_array()) {
            let ids: Vec<&str> = list.iter().map(|p| p.as_str().unwrap()).collect();
            args.push("--practitioners".into());
            args.push(ids.join(","));
        }
        if q.get("telehealth") == Some(&serde_json::json!(true)) {
            args.push("--telehealth".into());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = openslot(&args);
        assert!(
            out.status.success(),
            "{stem}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(json(&out.stdout), expected, "{stem}: slots --org");
        n += 1;
    }
    assert!(n >= 8);
    // An invalid scenario is refused with exit 2 and changes nothing.
    let out = openslot(&[
        "import",
        "--scenario",
        &scenario("invalid-overlapping-records.json"),
        "--org",
        "bad",
        "--database-url",
        &db.url,
    ]);
    assert_eq!(out.status.code(), Some(2));
    stderr_line(&out);
    let out = openslot(&["export", "--org", "bad", "--database-url", &db.url]);
    assert_eq!(out.status.code(), Some(2), "nothing was created");
    // Importing again into an organisation with data needs --replace.
    let out = openslot(&[
        "import",
        "--scenario",
        &scenario("basic.json"),
        "--org",
        "basic",
        "--database-url",
        &db.url,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = openslot(&[
        "import",
        "--scenario",
        &scenario("basic.json"),
        "--org",
        "basic",
        "--replace",
        "--database-url",
        &db.url,
    ]);
    assert!(out.status.success());
}

#[test]
fn import_export_and_slots_from_the_database_on_sqlite() {
    import_export_slots_agree_with_the_scenario_cli(&TestDatabase::fresh(Backend::Sqlite, "cli"));
}

#[test]
#[ignore = "needs PostgreSQL: set OPENSLOT_TEST_POSTGRES_URL"]
fn import_export_and_slots_from_the_database_on_postgres() {
    import_export_slots_agree_with_the_scenario_cli(&TestDatabase::fresh(Backend::Postgres, "cli"));
}

#[test]
fn the_default_database_is_an_sqlite_file_in_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_openslot"))
        .args([
            "import",
            "--scenario",
            &scenario("basic.json"),
            "--org",
            "basic",
        ])
        .current_dir(dir.path())
        .env_remove("OPENSLOT_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("openslot.db").exists());
}

#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    use std::io::Read as _;
    // Megabytes of scenario into a reader that takes a hundred bytes and goes
    // (`openslot gen-clinic … | head -c 100`).
    let mut child = Command::new(env!("CARGO_BIN_EXE_openslot"))
        .args(["gen-clinic", "--practitioners", "200", "--days", "30"])
        .args(["--fill", "0.5", "--seed", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0_u8; 100];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}", out.status);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}
