//! `openslot serve`: the web server.

use std::sync::Arc;
use std::time::Duration;

use store::{Clock, SystemClock};
use tracing_subscriber::EnvFilter;

use crate::cli::{Failure, ServeArgs};
use crate::commands::{block_on, connect};
use crate::config::Config;
use crate::state::AppState;

/// Runs the server until Ctrl-C or SIGTERM.
pub fn run(args: &ServeArgs) -> Result<(), Failure> {
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
        let config = Config::local(public_url.clone());
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
            println!();
        }
        let state = AppState::new(db.clone(), clock.clone(), config);
        tokio::spawn(purge_sessions(db.clone(), clock.clone()));
        tracing::info!(%address, %public_url, "listening");
        crate::app::serve(listener, state, shutdown_signal()).await?;
        tracing::info!("stopped");
        db.close().await;
        Ok(())
    })
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
