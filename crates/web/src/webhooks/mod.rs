//! Webhooks (issue 18): the Standard Webhooks signature, which addresses the server
//! posts to, and the background sender ([`sender`]) that delivers the store's outbox
//! (`store::webhook`).
//!
//! - [`sign`]: `webhook-signature` as the spec has it, `v1,` and the base64 HMAC-SHA256
//!   of `{id}.{timestamp}.{body}` under the secret's bytes; several secrets (after a
//!   rotation) give several signatures, space-separated.
//! - [`check_url`]: the server's policy on an endpoint's address, when an admin saves
//!   it: `https` to a public host, unless the server runs with
//!   `--webhooks-allow-private` (tests, `serve --demo`), which also allows plain `http`
//!   and loopback, private and link-local addresses.
//! - [`client`]: the HTTP client the sender posts with: 10 s timeout, no redirects
//!   followed, no proxy, and a resolver that drops private addresses after DNS
//!   resolution (unless allowed), so a public name that later resolves to a private
//!   address is refused at delivery time too.

pub mod sender;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The longest a delivery may take, connecting included.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The signature header's value for a message: one `v1,<base64>` per secret,
/// space-separated. A secret is `whsec_` and base64 of its bytes (the bytes are the
/// HMAC key); one that is not is used as it is, as the reference libraries do.
pub fn sign(secrets: &[String], id: &str, timestamp: i64, body: &str) -> String {
    let engine = base64::engine::general_purpose::STANDARD;
    secrets
        .iter()
        .map(|secret| {
            let key = secret
                .strip_prefix("whsec_")
                .and_then(|b64| engine.decode(b64).ok())
                .unwrap_or_else(|| secret.as_bytes().to_vec());
            let mut mac = Hmac::<Sha256>::new_from_slice(&key)
                .expect("HMAC takes a key of any length");
            mac.update(id.as_bytes());
            mac.update(b".");
            mac.update(timestamp.to_string().as_bytes());
            mac.update(b".");
            mac.update(body.as_bytes());
            format!("v1,{}", engine.encode(mac.finalize().into_bytes()))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether an address is one a webhook must not reach unless the server allows it:
/// loopback, private (RFC 1918, unique local), link-local, unspecified, carrier-grade
/// NAT, multicast, broadcast, documentation, and IPv4 inside IPv6 of any of those.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_private_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private_v4(v4);
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (first == 0x2001 && v6.segments()[1] == 0x0db8) // documentation
                || (first == 0x0064 && v6.segments()[1] == 0xff9b) // NAT64
        }
    }
}

fn is_private_v4(v4: Ipv4Addr) -> bool {
    let [a, b, ..] = v4.octets();
    v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_multicast()
        || v4.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240
}

/// The server's policy on an endpoint's URL (already parsed and checked by
/// `store::webhook::parse_url`): without `allow_private`, `https` only, and no host
/// that is `localhost` or a private address. Refused naming `url`.
pub fn check_url(url: &url::Url, allow_private: bool) -> Result<(), store::Error> {
    if allow_private {
        return Ok(());
    }
    if url.scheme() != "https" {
        return Err(store::Error::invalid(
            "url",
            "must start with https:// (plain http only on a server run with --webhooks-allow-private)",
        ));
    }
    let private = match url.host() {
        Some(url::Host::Ipv4(ip)) => is_private(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => is_private(IpAddr::V6(ip)),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
        None => true,
    };
    if private {
        return Err(store::Error::invalid(
            "url",
            "must be a public address: loopback, private and link-local addresses are refused \
             (unless the server runs with --webhooks-allow-private)",
        ));
    }
    Ok(())
}

/// Resolves names, then drops the addresses a webhook must not reach.
#[derive(Debug)]
struct GuardedResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| allow_private || !is_private(a.ip()))
                .collect();
            if allowed.is_empty() {
                let error: Box<dyn std::error::Error + Send + Sync> = if found.is_empty() {
                    format!("{host} does not resolve").into()
                } else {
                    format!("{host} resolves only to private addresses, which are refused").into()
                };
                return Err(error);
            }
            let addrs: reqwest::dns::Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// The client the sender posts with (see the module's documentation).
pub fn client(allow_private: bool) -> reqwest::Result<reqwest::Client> {
    // reqwest is built without a default TLS provider: ring, as lettre uses. Installing
    // it twice is harmless (the second call answers the first's).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(concat!("Openslot-Webhooks/", env!("CARGO_PKG_VERSION")))
        .dns_resolver(Arc::new(GuardedResolver { allow_private }))
        .build()
}

#[cfg(test)]
mod tests;
