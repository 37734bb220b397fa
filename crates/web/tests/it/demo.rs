//! The demo organisation of `serve --demo`: two zones, clinics with addresses and
//! phones, counselling by video with a link, video appointments in the book, and a
//! massage with a buffer after it, and shockwave therapy needing a treatment room and
//! the shockwave machine; made once, however often the server starts.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::both;
use crate::support::{Backend, TestApp};

async fn the_demo_spans_two_zones_and_books_video(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Today (by the test clock) is Sunday 1 March 2026: the demo's week starts on
    // Monday 23 February.
    let org = openslot_web::demo::ensure(&app.db, app.clock.as_ref())
        .await
        .unwrap();
    let client = app.client();
    let (email, password) = openslot_web::demo::FRONT_DESK;
    assert_eq!(
        client.sign_in("demo", email, password).await.status(),
        StatusCode::SEE_OTHER
    );

    let clinics = client
        .api(Method::GET, "/api/v1/orgs/demo/clinics", None)
        .await
        .json();
    let clinics = clinics.as_array().unwrap();
    let mut zones: Vec<&str> = clinics
        .iter()
        .map(|c| c["timezone"].as_str().unwrap())
        .collect();
    zones.sort_unstable();
    zones.dedup();
    assert_eq!(zones, ["America/Toronto", "America/Vancouver"]);
    for c in clinics {
        assert!(!c["address"].as_str().unwrap().is_empty(), "{c}");
        assert!(!c["phone"].as_str().unwrap().is_empty(), "{c}");
    }

    let week = |client: crate::support::Client| async move {
        client
            .api(
                Method::GET,
                "/api/v1/orgs/demo/appointments?from=2026-02-23&to=2026-03-01",
                None,
            )
            .await
            .json()
    };
    let appointments: Value = week(client.clone()).await;
    let video: Vec<&Value> = appointments
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["telehealth"] == true)
        .collect();
    assert_eq!(video.len(), 2, "{appointments}");
    for a in &video {
        assert_eq!(a["practitioner_name"], "Lena Park");
        assert_eq!(a["schedule_type_name"], "Counselling (video)");
        assert_eq!(
            a["video_link"],
            "https://meet.example.com/lakeshore-lena-park"
        );
        assert_eq!(a["status"], "booked");
    }
    // The other appointments are in person, at a clinic with an address.
    assert!(
        appointments
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["telehealth"] == false)
            .all(|a| !a["clinic_address"].as_str().unwrap().is_empty())
    );

    // The book marks them, and labels Vancouver's times on the Toronto axis.
    let book = client
        .get("/o/demo/admin/book?view=week&date=2026-02-25&practitioner=all")
        .await;
    assert_eq!(book.status, StatusCode::OK);
    assert!(book.contains("<span class=\"mode-video\">Video</span>"));
    assert!(book.contains("Vancouver time)"));
    assert!(book.contains("id=\"zone\""));
    // The 60-minute massage keeps ten minutes free after each appointment: the book
    // shows them, and the massages booked in the demo keep them.
    assert!(
        book.contains("title=\"10 min buffer after\""),
        "{}",
        book.body
    );
    let massages: Vec<&Value> = appointments
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            a["service_name"] == "Massage therapy, 60 minutes" && a["status"] != "cancelled"
        })
        .collect();
    assert!(!massages.is_empty());
    assert!(
        massages.iter().all(|a| a["buffer_after_minutes"] == 10),
        "{massages:?}"
    );
    let services = client
        .api(Method::GET, "/api/v1/orgs/demo/services", None)
        .await
        .json();
    let buffered: Vec<&str> = services
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["buffer_before_minutes"] != 0 || s["buffer_after_minutes"] != 0)
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(buffered, ["Massage therapy, 60 minutes"]);
    // One service needs rooms and equipment: a treatment room and the shockwave machine.
    let rooms = client
        .api(Method::GET, "/api/v1/orgs/demo/resources", None)
        .await
        .json();
    let room_id = |name: &str| {
        rooms
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {rooms}"))["id"]
            .clone()
    };
    let needing: Vec<(&str, &Value)> = services
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["requires"] != serde_json::json!([]))
        .map(|s| (s["name"].as_str().unwrap(), &s["requires"]))
        .collect();
    assert_eq!(
        needing,
        [(
            "Shockwave therapy",
            &serde_json::json!([
                [room_id("Treatment room 1"), room_id("Treatment room 2")],
                [room_id("Shockwave machine")]
            ])
        )]
    );

    // The setup check finds video offered, with links.
    let report = client
        .api(Method::GET, "/api/v1/orgs/demo/setup-check", None)
        .await
        .json();
    assert_eq!(report["video"], serde_json::json!([]));
    let lena = report["practitioners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Lena Park")
        .unwrap();
    assert_eq!(lena["video"], serde_json::json!([]), "{lena}");
    let counselling = report["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Counselling session")
        .unwrap();
    assert!(
        counselling["video_slots"].as_u64().unwrap() > 0,
        "{counselling}"
    );
    assert_eq!(org.video_link, "https://meet.example.com/lakeshore");

    // Starting again changes nothing.
    openslot_web::demo::ensure(&app.db, app.clock.as_ref())
        .await
        .unwrap();
    assert_eq!(week(client.clone()).await, appointments);
    app.stop().await;
}

both!(the_demo_spans_two_zones_and_books_video);
