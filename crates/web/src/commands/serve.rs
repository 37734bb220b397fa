//! `openslot serve`: the web server.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use lettre::message::Mailbox;
use store::{Clock, SystemClock};
use tracing_subscriber::EnvFilter;

use crate::commands::{DatabaseArgs, Failure, block_on, connect};
use crate::config::{self, Config, MailConfig, MailTransport, SmtpConfig, SmtpSecurity};
use crate::mail::{self, Mailer};
use crate::state::AppState;

/// Arguments of `openslot serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The address to listen on.
    #[arg(
        long,
        env = "OPENSLOT_BIND",
        default_value = "127.0.0.1:3000",
        value_name = "ADDR"
    )]
    pub bind: String,
    /// The address people reach the server at: the only base of links in emails, and
    /// the server's own host name, which no organisation may take as its own; default
    /// http://BIND.
    #[arg(long, env = "OPENSLOT_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// Import the demo organisation (slug `demo`) if it is not there yet, and print how
    /// to sign in.
    #[arg(long)]
    pub demo: bool,
    /// Allow webhook endpoints with plain http and loopback, private or link-local
    /// addresses (a test set-up; `--demo` turns it on). Without it an endpoint must be
    /// https to a public address, checked when saved and after DNS at each delivery.
    #[arg(long, env = "OPENSLOT_WEBHOOKS_ALLOW_PRIVATE")]
    pub webhooks_allow_private: bool,
    /// Log as JSON lines instead of text.
    #[arg(long, env = "OPENSLOT_LOG_JSON")]
    pub log_json: bool,
    /// The sender of every email, e.g. `Lakeshore Physio <bookings@example.com>`.
    #[arg(
        long,
        env = "OPENSLOT_MAIL_FROM",
        default_value = config::DEFAULT_MAIL_FROM,
        value_name = "MAILBOX"
    )]
    pub mail_from: Mailbox,
    /// Send email through this SMTP server; without it, email is written to --mailbox.
    #[arg(long, env = "OPENSLOT_SMTP_HOST", value_name = "HOST")]
    pub smtp_host: Option<String>,
    /// The SMTP port (default: 587 for starttls, 465 for tls, 25 for none).
    #[arg(
        long,
        env = "OPENSLOT_SMTP_PORT",
        value_name = "PORT",
        requires = "smtp_host"
    )]
    pub smtp_port: Option<u16>,
    /// How the SMTP connection is protected.
    #[arg(
        long,
        env = "OPENSLOT_SMTP_SECURITY",
        value_enum,
        default_value_t = SmtpSecurity::Starttls,
        value_name = "MODE"
    )]
    pub smtp_security: SmtpSecurity,
    /// The SMTP user name, if the server wants one.
    #[arg(
        long,
        env = "OPENSLOT_SMTP_USERNAME",
        value_name = "USER",
        requires_all = ["smtp_host", "smtp_password"]
    )]
    pub smtp_username: Option<String>,
    /// The SMTP password (better given in the environment than on the command line).
    #[arg(
        long,
        env = "OPENSLOT_SMTP_PASSWORD",
        hide_env_values = true,
        value_name = "PASSWORD",
        requires = "smtp_username"
    )]
    pub smtp_password: Option<String>,
    /// Without --smtp-host, write each email as an `.eml` file into this folder and log
    /// its links.
    #[arg(
        long,
        env = "OPENSLOT_MAILBOX",
        default_value = config::DEFAULT_MAILBOX,
        value_name = "DIR"
    )]
    pub mailbox: PathBuf,
    /// The memory budget of the setups kept between requests, in MiB (an estimate of
    /// each organisation's setup; the least recently used are dropped to stay within
    /// it; 0 keeps none; at most 1048576, a tebibyte). `/metrics` shows the bytes kept and the hit rate.
    #[arg(
        long,
        env = "OPENSLOT_SETUP_CACHE_MIB",
        default_value_t = store::setup_cache::DEFAULT_BUDGET_BYTES / (1024 * 1024),
        value_name = "MIB",
        value_parser = clap::value_parser!(u64).range(0..=1_048_576)
    )]
    pub setup_cache_mib: u64,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// Runs the server until Ctrl-C or SIGTERM.
pub(crate) fn run(args: &ServeArgs) -> Result<(), Failure> {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let subscriber = tracing_subscriber::fmt().with_env_filter(filter);
    if args.log_json {
        subscriber.json().init();
    } else {
        subscriber.init();
    }
    block_on(async {
        let db = connect(&args.database.database_url).await?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let listener = tokio::net::TcpListener::bind(&args.bind)
            .await
            .map_err(|e| {
                Failure::BadInput(format!("--bind: cannot listen on {}: {e}", args.bind))
            })?;
        let address = listener.local_addr()?;
        let public_url = args
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{address}"));
        let config = Config::local(public_url.clone())
            .with_mail(mail_config(args))
            .with_webhooks_allow_private(args.webhooks_allow_private || args.demo);
        let webhook_client = crate::webhooks::client(config.webhooks_allow_private)
            .map_err(|e| Failure::BadInput(format!("webhooks: cannot set TLS up: {e}")))?;
        let mailer = Mailer::new(&config.mail).map_err(|e| {
            let flag = match config.mail.transport {
                MailTransport::Smtp(_) => "--smtp-host",
                MailTransport::Mailbox(_) => "--mailbox",
            };
            Failure::BadInput(format!("{flag}: {e}"))
        })?;
        if args.demo {
            let org = crate::demo::ensure(&db, clock.as_ref()).await?;
            println!("Openslot demo: {} ({})", org.name, org.slug);
            println!();
            println!("  Staff sign-in:  {public_url}/o/{}/admin/signin", org.slug);
            println!(
                "    admin       {}  password {}",
                crate::demo::ADMIN.0,
                crate::demo::ADMIN.1
            );
            println!(
                "    front desk  {}  password {}",
                crate::demo::FRONT_DESK.0,
                crate::demo::FRONT_DESK.1
            );
            println!("  Patient portal: {public_url}/o/{}/portal", org.slug);
            match mailer.mailbox() {
                Some(folder) => println!(
                    "  Email:          written to {} (links are logged)",
                    folder.display()
                ),
                None => println!("  Email:          sent through {}", mailer.describe()),
            }
            println!();
        }
        store::setup_cache::set_budget(args.setup_cache_mib.saturating_mul(1024 * 1024));
        let state = AppState::new(db, clock.clone(), config);
        // The state's database, which tells `/metrics` how long connections took, for
        // the background work too.
        let db = state.db.clone();
        tokio::spawn(purge_sessions(db.clone(), clock.clone()));
        tokio::spawn(tidy_limits(state.clone()));
        tokio::spawn(metrics_upkeep(state.clone()));
        let sender = mail::sender::spawn(db.clone(), clock.clone(), state.mail.clone(), mailer);
        let reminders = crate::reminders::spawn(state.clone());
        let matcher = crate::waitlist::spawn(state.clone());
        let webhooks = crate::webhooks::sender::spawn(
            db.clone(),
            clock.clone(),
            state.webhooks.clone(),
            webhook_client,
        );
        tracing::info!(%address, %public_url, "listening");
        let jobs = state.jobs.clone();
        crate::app::serve(listener, state, shutdown_signal()).await?;
        // Work started after an answer (a sign-up's or a reset's email) finishes first.
        if tokio::time::timeout(MAIL_GRACE, jobs.idle()).await.is_err() {
            tracing::warn!("stopped with background jobs still running");
        }
        // The scheduler first, so that the sender still delivers what it queued last.
        reminders.stop(MAIL_GRACE).await;
        matcher.stop(MAIL_GRACE).await;
        sender.stop(MAIL_GRACE).await;
        webhooks.stop(MAIL_GRACE).await;
        tracing::info!("stopped");
        db.close().await;
        Ok(())
    })
}

/// How long a message being sent at shutdown may take to finish.
const MAIL_GRACE: Duration = Duration::from_secs(10);

/// The mail set-up the flags describe: SMTP when a host is given, else the mailbox
/// folder.
fn mail_config(args: &ServeArgs) -> MailConfig {
    let transport = match &args.smtp_host {
        Some(host) => MailTransport::Smtp(SmtpConfig {
            host: host.clone(),
            port: args.smtp_port,
            security: args.smtp_security,
            credentials: args
                .smtp_username
                .clone()
                .map(|user| (user, args.smtp_password.clone().unwrap_or_default())),
        }),
        None => MailTransport::Mailbox(args.mailbox.clone()),
    };
    MailConfig {
        from: args.mail_from.clone(),
        transport,
    }
}

/// Forgets the rate limiters' refilled keys every minute, so their memory stays that
/// of the last few minutes' attempts.
async fn tidy_limits(state: AppState) {
    let mut every = tokio::time::interval(Duration::from_secs(60));
    loop {
        every.tick().await;
        state.limits.tidy();
    }
}

/// Folds the latency histograms' samples into their buckets every five seconds, so
/// that memory stays bounded when nothing scrapes `/metrics`.
async fn metrics_upkeep(state: AppState) {
    let mut every = tokio::time::interval(Duration::from_secs(5));
    loop {
        every.tick().await;
        state.metrics.upkeep();
    }
}

/// Deletes expired sessions every hour.
async fn purge_sessions(db: store::Db, clock: Arc<dyn Clock>) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every.tick().await;
        match store::session::purge_expired(&db, clock.now_ns()).await {
            Ok(n) if n > 0 => tracing::info!(purged = n, "expired sessions deleted"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not purge expired sessions"),
        }
    }
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
