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
//! - [`client`]: what the sender posts with: one HTTP/1.1 request per delivery over
//!   rustls, 10 s for the whole exchange, no redirects followed, to an address
//!   [`resolve`] allowed after DNS resolution (so a public name that later resolves to
//!   a private address is refused at delivery time too).

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
            let mut mac =
                Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes a key of any length");
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
/// NAT, multicast, broadcast, documentation, IETF protocol assignments (192.0.0.0/24),
/// and IPv4 inside IPv6 (mapped, compatible, 6to4) of any of those; every
/// IPv4-compatible address is refused.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_private_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private_v4(v4);
            }
            let segments = v6.segments();
            // IPv4-compatible (`::a.b.c.d`, deprecated) and 6to4 (`2002:a.b.c.d::`)
            // addresses carry an IPv4 address: judged by it.
            if segments[..6] == [0; 6] && !v6.is_loopback() && !v6.is_unspecified() {
                return true;
            }
            if segments[0] == 0x2002 {
                let v4 = Ipv4Addr::new(
                    (segments[1] >> 8) as u8,
                    segments[1] as u8,
                    (segments[2] >> 8) as u8,
                    segments[2] as u8,
                );
                return is_private_v4(v4);
            }
            let first = segments[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (first == 0x2001 && v6.segments()[1] == 0x0db8) // documentation
                || (first == 0x0064 && v6.segments()[1] == 0xff9b) // NAT64, and local-use NAT64 64:ff9b:1::/48
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
        || (a == 192 && b == 0 && v4.octets()[2] == 0) // IETF protocol assignments
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

/// The addresses `host` resolves to (or is), without those a webhook must not reach
/// unless `allow_private`. Refused when none is left, saying why.
pub async fn resolve(
    host: &url::Host<&str>,
    port: u16,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, String> {
    let (name, found): (String, Vec<SocketAddr>) = match host {
        url::Host::Ipv4(ip) => (ip.to_string(), vec![SocketAddr::new(IpAddr::V4(*ip), port)]),
        url::Host::Ipv6(ip) => (ip.to_string(), vec![SocketAddr::new(IpAddr::V6(*ip), port)]),
        url::Host::Domain(name) => (
            (*name).to_owned(),
            tokio::net::lookup_host((*name, port))
                .await
                .map_err(|e| format!("{name} does not resolve: {e}"))?
                .collect(),
        ),
    };
    let allowed: Vec<SocketAddr> = found
        .iter()
        .copied()
        .filter(|a| allow_private || !is_private(a.ip()))
        .collect();
    if allowed.is_empty() {
        return Err(if found.is_empty() {
            format!("{name} does not resolve")
        } else {
            format!("{name} resolves only to private addresses, which are refused")
        });
    }
    Ok(allowed)
}

/// What the sender posts with: TLS (rustls, ring, the Mozilla roots) and the address
/// policy. Each delivery is one HTTP/1.1 request on its own connection to an address
/// [`resolve`] allowed, so the address checked is the address connected to; redirects
/// are answers like any other (not followed), and the whole exchange, connecting
/// included, has [`TIMEOUT`].
#[derive(Clone)]
pub struct WebhookClient {
    tls: tokio_rustls::TlsConnector,
    /// Whether private addresses and plain http are allowed.
    pub allow_private: bool,
}

impl std::fmt::Debug for WebhookClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookClient")
            .field("allow_private", &self.allow_private)
            .finish_non_exhaustive()
    }
}

/// An endpoint's answer: its status and the first [`EXCERPT`] bytes of its body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body's first bytes, as text.
    pub excerpt: String,
}

/// The most bytes of an answer's body read and kept.
pub const EXCERPT: usize = 200;

/// The client the sender posts with.
pub fn client(allow_private: bool) -> Result<WebhookClient, rustls::Error> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(WebhookClient {
        tls: tokio_rustls::TlsConnector::from(Arc::new(config)),
        allow_private,
    })
}

impl WebhookClient {
    /// Posts `body` (JSON) to `url` with `headers`; answers the endpoint's answer, or
    /// why there was none (refused by the policy, no address, no connection, TLS, no
    /// answer within [`TIMEOUT`]).
    pub async fn post(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: &str,
    ) -> Result<Answer, String> {
        tokio::time::timeout(TIMEOUT, self.exchange(url, headers, body))
            .await
            .map_err(|_| format!("no answer within {} s", TIMEOUT.as_secs()))?
    }

    async fn exchange(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: &str,
    ) -> Result<Answer, String> {
        let url = store::webhook::parse_url(url).map_err(|e| format!("refused: {e}"))?;
        check_url(&url, self.allow_private).map_err(|e| format!("refused: {e}"))?;
        let host = url.host().ok_or("refused: url: must name a host")?;
        let port = url.port_or_known_default().ok_or("refused: url: no port")?;
        let addresses = resolve(&host, port, self.allow_private).await?;
        let mut last = String::new();
        let mut tcp = None;
        for address in addresses {
            match tokio::net::TcpStream::connect(address).await {
                Ok(stream) => {
                    tcp = Some(stream);
                    break;
                }
                Err(e) => last = format!("cannot connect to {address}: {e}"),
            }
        }
        let tcp = tcp.ok_or(last)?;
        let authority = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_owned(),
        };
        let path = &url[url::Position::BeforePath..url::Position::AfterQuery];
        let mut request = hyper::Request::post(path)
            .header(hyper::header::HOST, authority)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(
                hyper::header::USER_AGENT,
                concat!("Openslot-Webhooks/", env!("CARGO_PKG_VERSION")),
            );
        for (name, value) in headers {
            request = request.header(*name, value.as_str());
        }
        let request = request
            .body(http_body_util::Full::new(hyper::body::Bytes::from(
                body.to_owned(),
            )))
            .map_err(|e| format!("cannot make the request: {e}"))?;
        if url.scheme() == "https" {
            let name = match host {
                url::Host::Domain(d) => rustls::pki_types::ServerName::try_from(d.to_owned())
                    .map_err(|e| format!("{d}: {e}"))?,
                url::Host::Ipv4(ip) => rustls::pki_types::ServerName::from(IpAddr::V4(ip)),
                url::Host::Ipv6(ip) => rustls::pki_types::ServerName::from(IpAddr::V6(ip)),
            };
            let tls = self
                .tls
                .connect(name, tcp)
                .await
                .map_err(|e| format!("TLS: {e}"))?;
            send(hyper_util::rt::TokioIo::new(tls), request).await
        } else {
            send(hyper_util::rt::TokioIo::new(tcp), request).await
        }
    }
}

/// One request on a fresh HTTP/1.1 connection; reads at most [`EXCERPT`] bytes of the
/// answer's body, then drops the connection.
async fn send<I>(
    io: I,
    request: hyper::Request<http_body_util::Full<hyper::body::Bytes>>,
) -> Result<Answer, String>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    use http_body_util::BodyExt;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| format!("HTTP: {e}"))?;
    let driver = tokio::spawn(connection);
    let result = async {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("HTTP: {e}"))?;
        let status = response.status().as_u16();
        let mut body = response.into_body();
        let mut excerpt = Vec::new();
        while excerpt.len() < EXCERPT {
            match body.frame().await {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        excerpt.extend_from_slice(&data);
                    }
                }
                _ => break,
            }
        }
        excerpt.truncate(EXCERPT);
        Ok(Answer {
            status,
            excerpt: String::from_utf8_lossy(&excerpt).into_owned(),
        })
    }
    .await;
    driver.abort();
    result
}

#[cfg(test)]
mod tests;
