//! [`Mailer`]: sends outbox messages over SMTP, or writes them into a mailbox folder.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use store::outbox::Message;

use super::{MailError, compose};
use crate::config::{MailConfig, MailTransport, SmtpSecurity};

/// How long one SMTP command may take before the attempt counts as failed and is
/// retried later; lettre's default of a minute would hold a shutdown up for as long.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Sends outbox messages through the configured transport.
#[derive(Debug)]
pub struct Mailer {
    from: Mailbox,
    transport: Transport,
}

#[derive(Debug)]
enum Transport {
    Smtp {
        smtp: AsyncSmtpTransport<Tokio1Executor>,
        describe: String,
    },
    Mailbox {
        files: AsyncFileTransport<Tokio1Executor>,
        folder: PathBuf,
    },
}

impl Mailer {
    /// A mailer for `config`. For a mailbox folder it creates the folder; for SMTP it
    /// prepares the TLS parameters but connects only when there is something to send.
    pub fn new(config: &MailConfig) -> Result<Mailer, MailError> {
        let transport = match &config.transport {
            MailTransport::Smtp(smtp) => {
                let host = smtp.host.as_str();
                let builder = match smtp.security {
                    SmtpSecurity::Starttls => {
                        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                            .map_err(|e| MailError::Config(format!("SMTP host {host:?}: {e}")))?
                    }
                    SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                        .map_err(|e| MailError::Config(format!("SMTP host {host:?}: {e}")))?,
                    SmtpSecurity::None => {
                        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
                    }
                };
                let mut builder = builder.port(smtp.port()).timeout(Some(SMTP_TIMEOUT));
                if smtp.credentials.is_some() && smtp.security == SmtpSecurity::None {
                    // lettre would send the password in the clear; allowed for a relay on
                    // the same machine, but worth saying.
                    tracing::warn!(%host, "SMTP credentials over an unencrypted connection");
                }
                if let Some((user, password)) = &smtp.credentials {
                    builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
                }
                Transport::Smtp {
                    smtp: builder.build(),
                    describe: format!("SMTP {host}:{} ({})", smtp.port(), smtp.security),
                }
            }
            MailTransport::Mailbox(folder) => {
                std::fs::create_dir_all(folder).map_err(|e| {
                    MailError::Config(format!(
                        "cannot create the mailbox folder {}: {e}",
                        folder.display()
                    ))
                })?;
                let folder = std::path::absolute(folder).unwrap_or_else(|_| folder.clone());
                Transport::Mailbox {
                    files: AsyncFileTransport::new(&folder),
                    folder,
                }
            }
        };
        Ok(Mailer {
            from: config.from.clone(),
            transport,
        })
    }

    /// Where messages go, for the start-up log: `SMTP host:port (starttls)` or
    /// `mailbox folder /path`.
    pub fn describe(&self) -> String {
        match &self.transport {
            Transport::Smtp { describe, .. } => describe.clone(),
            Transport::Mailbox { folder, .. } => format!("mailbox folder {}", folder.display()),
        }
    }

    /// The mailbox folder, when messages are written there rather than sent.
    pub fn mailbox(&self) -> Option<&Path> {
        match &self.transport {
            Transport::Smtp { .. } => None,
            Transport::Mailbox { folder, .. } => Some(folder),
        }
    }

    /// Sends one outbox message, dated `now_ns`. Into a mailbox folder, each link in
    /// the body is then logged at INFO, so a person can follow an invitation from the
    /// server's log.
    pub async fn send(&self, row: &Message, now_ns: i64) -> Result<(), MailError> {
        let message = compose::message(&self.from, row, now_ns)?;
        match &self.transport {
            Transport::Smtp { smtp, .. } => {
                smtp.send(message)
                    .await
                    .map_err(|e| MailError::Delivery(e.to_string()))?;
            }
            Transport::Mailbox { files, folder } => {
                let id = files
                    .send(message)
                    .await
                    .map_err(|e| MailError::Delivery(e.to_string()))?;
                let file = folder.join(format!("{id}.eml"));
                tracing::info!(
                    outbox_id = row.id,
                    to = %row.to_address,
                    subject = %row.subject,
                    file = %file.display(),
                    "email written to the mailbox folder"
                );
                for link in compose::links(&row.body_text) {
                    tracing::info!(outbox_id = row.id, to = %row.to_address, %link, "link in email");
                }
            }
        }
        Ok(())
    }

    /// Closes pooled SMTP connections (at shutdown).
    pub async fn shutdown(&self) {
        if let Transport::Smtp { smtp, .. } = &self.transport {
            smtp.shutdown().await;
        }
    }
}
