//! Server configuration: flags and `OPENSLOT_*` environment variables.

use std::fmt;
use std::path::PathBuf;

use lettre::message::Mailbox;

/// How the server runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// The address people reach the server at, for links in emails and printed URLs
    /// (e.g. `https://book.example.com`), without a trailing slash.
    pub public_url: String,
    /// Whether cookies carry `Secure` (behind TLS).
    pub secure_cookies: bool,
    /// How email goes out.
    pub mail: MailConfig,
    /// Whether webhook endpoints may be plain `http` and reach loopback, private and
    /// link-local addresses (`--webhooks-allow-private`; tests and `serve --demo`).
    /// Off, an endpoint must be `https` to a public address, checked when it is saved
    /// and again after DNS resolution at every delivery.
    pub webhooks_allow_private: bool,
}

impl Config {
    /// A configuration for plain HTTP on `public_url` (development and tests), with
    /// email written to the `mailbox` folder.
    pub fn local(public_url: impl Into<String>) -> Self {
        let public_url = public_url.into().trim_end_matches('/').to_owned();
        Config {
            secure_cookies: public_url.starts_with("https://"),
            public_url,
            mail: MailConfig::default(),
            webhooks_allow_private: false,
        }
    }

    /// The same configuration, allowing webhooks to private addresses or not.
    pub fn with_webhooks_allow_private(self, allow: bool) -> Self {
        Config {
            webhooks_allow_private: allow,
            ..self
        }
    }

    /// The same configuration with another mail set-up.
    pub(crate) fn with_mail(self, mail: MailConfig) -> Self {
        Config { mail, ..self }
    }
}

/// The default sender (`--mail-from`).
pub const DEFAULT_MAIL_FROM: &str = "Openslot <no-reply@localhost>";

/// The default mailbox folder (`--mailbox`).
pub const DEFAULT_MAILBOX: &str = "mailbox";

/// How email goes out.
#[derive(Clone, Debug)]
pub struct MailConfig {
    /// The `From` of every message, and the organiser of calendar invitations.
    pub from: Mailbox,
    /// SMTP when `--smtp-host` is given, else the `--mailbox` folder.
    pub transport: MailTransport,
}

impl Default for MailConfig {
    /// From [`DEFAULT_MAIL_FROM`], into the [`DEFAULT_MAILBOX`] folder.
    fn default() -> Self {
        MailConfig {
            from: DEFAULT_MAIL_FROM
                .parse()
                .expect("the default sender is an address"),
            transport: MailTransport::Mailbox(PathBuf::from(DEFAULT_MAILBOX)),
        }
    }
}

/// Where the background sender hands messages over.
#[derive(Clone, Debug)]
pub enum MailTransport {
    /// An SMTP server (production).
    Smtp(SmtpConfig),
    /// A folder: each message becomes an `.eml` file there, and its links are logged
    /// (development and `serve --demo`, with no mail server).
    Mailbox(PathBuf),
}

/// An SMTP server to send through.
#[derive(Clone)]
pub struct SmtpConfig {
    /// Host name (also the name its TLS certificate must carry).
    pub host: String,
    /// Port; by default 587 for STARTTLS, 465 for TLS, 25 for none.
    pub port: Option<u16>,
    /// How the connection is protected.
    pub security: SmtpSecurity,
    /// User name and password, if the server wants them.
    pub credentials: Option<(String, String)>,
}

impl SmtpConfig {
    /// The port to connect to.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.security {
            SmtpSecurity::Starttls => 587,
            SmtpSecurity::Tls => 465,
            SmtpSecurity::None => 25,
        })
    }
}

impl fmt::Debug for SmtpConfig {
    /// Everything but the password, which must not reach a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port())
            .field("security", &self.security)
            .field("username", &self.credentials.as_ref().map(|(user, _)| user))
            .finish_non_exhaustive()
    }
}

/// How the SMTP connection is protected (`--smtp-security`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, which is required (port 587).
    Starttls,
    /// TLS from the first byte, "SMTPS" (port 465).
    Tls,
    /// No encryption: only for a relay on the same machine or a test server.
    None,
}

impl fmt::Display for SmtpSecurity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SmtpSecurity::Starttls => "starttls",
            SmtpSecurity::Tls => "tls",
            SmtpSecurity::None => "none",
        })
    }
}
