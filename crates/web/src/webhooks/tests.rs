use std::net::IpAddr;

use super::{check_url, is_private, sign};

#[test]
fn the_signature_is_the_standard_webhooks_example() {
    // The example of the Standard Webhooks specification (and of its reference
    // libraries' tests): this secret, id, timestamp and body sign to this value.
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned();
    let body = r#"{"test": 2432232314}"#;
    assert_eq!(
        sign(&[secret], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    );
}

#[test]
fn two_secrets_give_two_signatures() {
    let one = sign(&["whsec_AAAA".into()], "msg_1", 1, "{}");
    let both = sign(
        &["whsec_AAAA".into(), "whsec_BBBB".into()],
        "msg_1",
        1,
        "{}",
    );
    assert!(both.starts_with(&format!("{one} v1,")), "{both}");
}

#[test]
fn private_addresses_are_told() {
    for ip in [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "0.0.0.0",
        "100.64.0.1",
        "::1",
        "fe80::1",
        "fd00::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::",
        "::127.0.0.1",
        "::8.8.8.8",
        "2002:7f00:1::",
        "2002:a00:1::1",
        "64:ff9b:1::1",
        "192.0.0.8",
    ] {
        assert!(is_private(ip.parse::<IpAddr>().unwrap()), "{ip}");
    }
    for ip in [
        "93.184.216.34",
        "8.8.8.8",
        "2606:4700::1111",
        "::ffff:8.8.8.8",
        "2002:808:808::1",
        "192.1.0.1",
    ] {
        assert!(!is_private(ip.parse::<IpAddr>().unwrap()), "{ip}");
    }
}

#[test]
fn the_address_policy_refuses_plain_http_and_private_hosts_unless_allowed() {
    let url = |s: &str| store::webhook::parse_url(s).unwrap();
    assert!(check_url(&url("https://hooks.example.com/in"), false).is_ok());
    for refused in [
        "http://hooks.example.com/in",
        "https://127.0.0.1/in",
        "https://[::1]/in",
        "https://10.0.0.8/in",
        "https://169.254.169.254/latest",
        "https://localhost/in",
        "https://api.localhost/in",
    ] {
        let e = check_url(&url(refused), false).unwrap_err();
        assert!(e.to_string().starts_with("url:"), "{refused}: {e}");
        assert!(check_url(&url(refused), true).is_ok(), "{refused}");
    }
}
