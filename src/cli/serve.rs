//! `sello serve`: the HTTP service on the configured address.

use std::sync::Arc;

use clap::Args;

use super::common::{open_archive, runtime};
use super::{Failure, load_catalog};
use crate::config::Config;
use crate::keys::{office_key, trusted_keys};
use crate::web::{AppState, router};

#[derive(Debug, Args)]
pub struct ServeArgs {}

pub fn run(config: &Config, _args: ServeArgs) -> Result<(), Failure> {
    let catalog = load_catalog(config)?;
    // The first run creates the office's key, so its certificate is trusted.
    let (_, notice) = office_key(config).map_err(|e| Failure::Usage(e.to_string()))?;
    if let Some(notice) = notice {
        eprintln!("{notice}");
    }
    let trusted = trusted_keys(config).map_err(|e| Failure::Usage(e.to_string()))?;
    runtime()?.block_on(async {
        let archive = open_archive(config).await?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| Failure::Usage(format!("no se pudo escuchar en {}: {e}", config.listen)))?;
        eprintln!(
            "Sello escucha en http://{}; verificación pública en http://{}/v. Ctrl-C para detenerlo.",
            config.listen, config.listen
        );
        let app = router(Arc::new(AppState {
            archive,
            catalog,
            trusted,
        }));
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(|e| Failure::Internal(anyhow::anyhow!("el servicio se detuvo: {e}")))
    })
}
