//! `deeprubin serve`: the HTTP query API over the Postgres store, until Ctrl-C or SIGTERM.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use api::{ApiConfig, AppState, CorsOrigins};
use store::{PgStore, StateStore};

use super::database::pg_config;
use super::runtime;
use crate::cli::ServeArgs;

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.request_timeout.is_finite() && args.request_timeout > 0.0,
        "--request-timeout must be a positive number of seconds"
    );
    anyhow::ensure!(args.max_limit >= 1, "--max-limit must be at least 1");
    let config = ApiConfig {
        max_limit: args.max_limit,
        cors_origins: CorsOrigins::parse(&args.cors_origins),
        request_timeout: Duration::from_secs_f64(args.request_timeout),
        ..ApiConfig::default()
    };
    runtime()?.block_on(async {
        let store = PgStore::connect(&pg_config(&args.database)).await?;
        // Serve even when the schema is behind: /readyz reports it until `deeprubin migrate`.
        if let Err(e) = store.ping().await {
            tracing::warn!(error = %e, "store not ready");
        }
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("listen on {}", args.listen))?;
        let state = AppState::new(Arc::new(store) as Arc<dyn StateStore>, config);
        api::serve(listener, state, shutdown_signal()).await?;
        tracing::info!("api stopped");
        Ok(ExitCode::SUCCESS)
    })
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
