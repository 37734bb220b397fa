//! The clinic's logo: set by an admin through a file upload, shown in the header of the
//! staff pages and the portal, served as the image it is; anything but a PNG, JPEG or
//! WebP refused naming the field, with nothing changed; the upload's CSRF token is
//! checked like any form's; other organisations and the front desk cannot change it.

use reqwest::{Method, StatusCode};
use store::staff::Role;

use crate::both;
use crate::support::{Backend, TestApp};

/// The smallest PNG: one transparent pixel.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

const PAGE: &str = "/o/acme/admin/settings/logo";

/// The `<img src>` of the header's brand, if it shows a logo.
fn header_logo(body: &str) -> Option<String> {
    let brand = &body[body.find("class=\"brand\"")?..];
    let brand = &brand[..brand.find("</div>")?];
    let at = brand.find("<img src=\"")? + 10;
    Some(
        brand[at..at + brand[at..].find('"')?]
            .replace("&#x3f;", "?")
            .replace("&#x3d;", "="),
    )
}

async fn an_admin_sets_the_logo_and_every_header_shows_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("acme").await;
    let admin = app.signed_in(&org, Role::Admin).await;
    assert_eq!(
        header_logo(&admin.get("/o/acme/admin/setup").await.body),
        None
    );
    assert_eq!(
        app.client().get("/o/acme/logo").await.status,
        StatusCode::NOT_FOUND
    );

    let token = admin.csrf_token(PAGE).await;
    let saved = admin
        .post_multipart(PAGE, &[("_csrf", &token)], ("logo", "logo.png", PNG))
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(saved.location(), "/o/acme/admin/settings/logo?saved=set");
    let page = admin.get(&saved.location()).await;
    assert!(page.contains("Logo saved"));

    // The staff pages and the portal (for anyone) show the same versioned address.
    let src = header_logo(&admin.get("/o/acme/admin/setup").await.body).expect("a logo");
    assert!(src.starts_with("/o/acme/logo?v="), "{src}");
    let portal = app.client().get("/o/acme/portal").await;
    assert_eq!(header_logo(&portal.body).as_deref(), Some(src.as_str()));

    let image = app
        .client()
        .http
        .get(app.client().url(&src))
        .send()
        .await
        .unwrap();
    assert_eq!(image.status(), StatusCode::OK);
    assert_eq!(image.headers()["content-type"], "image/png");
    assert_eq!(image.headers()["x-content-type-options"], "nosniff");
    assert_eq!(
        image.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(image.bytes().await.unwrap().as_ref(), PNG);
    // Without its version (or with an old one) it may be kept only briefly.
    let unversioned = app.client().get("/o/acme/logo").await;
    assert_eq!(unversioned.headers["cache-control"], "public, max-age=300");

    // The change is audited.
    let log = admin
        .api(
            Method::GET,
            "/api/v1/orgs/acme/audit?action=organisation.set_logo",
            None,
        )
        .await
        .json();
    assert_eq!(log["entries"].as_array().unwrap().len(), 1, "{log}");

    // Removing it takes it out of every header.
    let removed = admin
        .post_form("/o/acme/admin/settings/logo/remove", &[])
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert_eq!(
        header_logo(&admin.get("/o/acme/admin/setup").await.body),
        None
    );
    assert_eq!(app.client().get(&src).await.status, StatusCode::NOT_FOUND);
    let log = admin
        .api(
            Method::GET,
            "/api/v1/orgs/acme/audit?action=organisation.remove_logo",
            None,
        )
        .await
        .json();
    assert_eq!(log["entries"].as_array().unwrap().len(), 1, "{log}");
    app.stop().await;
}

async fn only_a_png_jpeg_or_webp_is_taken_and_nothing_changes_otherwise(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("acme").await;
    let admin = app.signed_in(&org, Role::Admin).await;
    let token = admin.csrf_token(PAGE).await;
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
    let big = [PNG, &vec![0u8; 300 * 1024]].concat();
    for (file_name, bytes, says) in [
        ("logo.svg", &svg[..], "must be a PNG, JPEG or WebP image"),
        (
            "logo.png",
            b"<html><script>alert(1)</script>",
            "must be a PNG, JPEG or WebP image",
        ),
        ("logo.png", &big[..], "it must be at most 256 KiB"),
        ("empty.png", b"", "Choose an image file"),
    ] {
        let refused = admin
            .post_multipart(PAGE, &[("_csrf", &token)], ("logo", file_name, bytes))
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{file_name}"
        );
        assert!(refused.contains("id=\"logo-error\""), "{}", refused.body);
        assert!(refused.contains(says), "{says}: {}", refused.body);
        assert!(refused.contains("aria-invalid=\"true\""));
    }
    assert_eq!(
        app.client().get("/o/acme/logo").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        header_logo(&admin.get("/o/acme/admin/setup").await.body),
        None
    );
    app.stop().await;
}

async fn the_upload_needs_its_token_an_admin_and_the_organisations_own(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.org("acme").await;
    let other = app.org("other").await;
    let admin = app.signed_in(&acme, Role::Admin).await;
    // No token, or a wrong one, in the multipart body: refused before anything is read.
    for fields in [vec![], vec![("_csrf", "forged")]] {
        let refused = admin
            .post_multipart(PAGE, &fields, ("logo", "logo.png", PNG))
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
    }
    // The front desk may not change it.
    let desk = app.signed_in(&acme, Role::FrontDesk).await;
    let token = desk.csrf_token(PAGE).await;
    let refused = desk
        .post_multipart(PAGE, &[("_csrf", &token)], ("logo", "logo.png", PNG))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(desk.get(PAGE).await.status, StatusCode::FORBIDDEN);
    // Another organisation's admin, at this organisation's address: not theirs.
    let stranger = app.signed_in(&other, Role::Admin).await;
    let token = stranger.csrf_token(PAGE).await;
    let refused = stranger
        .post_multipart(PAGE, &[("_csrf", &token)], ("logo", "logo.png", PNG))
        .await;
    assert!(
        matches!(
            refused.status,
            StatusCode::NOT_FOUND | StatusCode::FORBIDDEN | StatusCode::SEE_OTHER
        ),
        "{}",
        refused.status
    );
    assert_eq!(
        app.client().get("/o/acme/logo").await.status,
        StatusCode::NOT_FOUND
    );
    app.stop().await;
}

/// Only the logo's upload may be multipart: any other form sent as multipart (which
/// would carry its token among the parts and skip the scan for NUL meant for an
/// image's bytes) is refused, and nothing changes.
async fn other_forms_sent_as_multipart_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("acme").await;
    let admin = app.signed_in(&org, Role::Admin).await;
    let token = admin.csrf_token("/o/acme/admin/settings").await;
    let wrapped = admin
        .post_multipart(
            "/o/acme/admin/settings",
            &[("_csrf", &token)],
            ("x", "x.txt", b"&name=Evil%00Name&resolution_minutes=5&"),
        )
        .await;
    assert_eq!(
        wrapped.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        wrapped.body
    );
    let mut conn = app.db.conn().await.unwrap();
    let now = store::organisation::by_id(conn.exec(), org.id)
        .await
        .unwrap();
    assert_eq!(now.name, org.name, "nothing was saved");
    app.stop().await;
}

both!(
    an_admin_sets_the_logo_and_every_header_shows_it,
    only_a_png_jpeg_or_webp_is_taken_and_nothing_changes_otherwise,
    the_upload_needs_its_token_an_admin_and_the_organisations_own,
    other_forms_sent_as_multipart_are_refused,
);
