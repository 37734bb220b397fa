//! Server configuration: flags and `OPENSLOT_*` environment variables.

/// How the server runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// The address people reach the server at, for links in emails and printed URLs
    /// (e.g. `https://book.example.com`), without a trailing slash.
    pub public_url: String,
    /// Whether cookies carry `Secure` (behind TLS).
    pub secure_cookies: bool,
}

impl Config {
    /// A configuration for plain HTTP on `public_url` (development and tests).
    pub fn local(public_url: impl Into<String>) -> Self {
        let public_url = public_url.into().trim_end_matches('/').to_owned();
        Config {
            secure_cookies: public_url.starts_with("https://"),
            public_url,
        }
    }
}
