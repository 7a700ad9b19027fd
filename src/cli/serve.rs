//! `sello serve`: the HTTP service on the configured address. On the first
//! run it creates the database, the office's signing key and an
//! administrator whose one-time password it prints once.

use std::net::SocketAddr;
use std::sync::Arc;

use clap::Args;

use super::common::{open_archive, runtime};
use super::{Failure, load_catalog};
use crate::accounts::Accounts;
use crate::config::Config;
use crate::keys::{office_key, trusted_keys};
use crate::web::{AppState, init_logging, router};

#[derive(Debug, Args)]
pub struct ServeArgs {}

pub fn run(config: &Config, _args: ServeArgs) -> Result<(), Failure> {
    init_logging();
    let catalog = load_catalog(config)?;
    // The first run creates the office's key, so its certificate is trusted.
    let (key, notice) = office_key(config).map_err(|e| Failure::Usage(e.to_string()))?;
    if let Some(notice) = notice {
        eprintln!("{notice}");
    }
    let trusted = trusted_keys(config).map_err(|e| Failure::Usage(e.to_string()))?;
    runtime()?.block_on(async {
        let archive = open_archive(config).await?;
        let accounts = Accounts::new(archive.store().clone());
        let first = accounts
            .ensure_first_administrator((&config.office_code, &config.office_name))
            .await
            .map_err(|e| Failure::Internal(anyhow::anyhow!(e)))?;
        if let Some((user, password)) = first {
            show_first_password(&user.username, &password, &config.base_url);
        }
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| Failure::Usage(format!("no se pudo escuchar en {}: {e}", config.listen)))?;
        eprintln!(
            "Sello escucha en http://{}: personal en /, API en /api/v1, verificación pública en /v. Ctrl-C para detenerlo.",
            config.listen
        );
        let state = AppState::new(config, archive, catalog, Arc::new(key), trusted)
            .map_err(|e| Failure::Internal(anyhow::anyhow!("no se pudo preparar el generador de PDF: {e}")))?;
        let app = router(Arc::new(state)).into_make_service_with_connect_info::<SocketAddr>();
        // In-flight requests, issuances included, finish before it stops.
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .map_err(|e| Failure::Internal(anyhow::anyhow!("el servicio se detuvo: {e}")))?;
        tracing::info!("servicio detenido");
        Ok(())
    })
}

/// Shows the first administrator's one-time password on standard output, a
/// plain line for the person at the terminal. Standard error carries the
/// JSON log stream, which is collected and kept: the password never goes
/// there, nor through `tracing`.
fn show_first_password(username: &str, password: &str, base_url: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "\nPrimer arranque: se creó la cuenta de administración.\n  Usuario: {username}\n  Contraseña de un solo uso: {password}\n\
         Entre en {base_url}/entrar y elija su propia contraseña. Esta no se volverá a mostrar.\n"
    );
    let _ = out.flush();
    eprintln!(
        "Primer arranque: se creó la cuenta de administración; su usuario y su contraseña de un solo uso se mostraron en la salida estándar, no en este registro."
    );
}

/// Ctrl-C, or SIGTERM from a service manager.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
