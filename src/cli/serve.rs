//! `sello serve`: the HTTP service on the configured address.

use std::sync::Arc;

use clap::Args;

use super::common::{open_archive, runtime};
use super::{Failure, load_catalog};
use crate::config::Config;
use crate::web::{AppState, router};

#[derive(Debug, Args)]
pub struct ServeArgs {}

pub fn run(config: &Config, _args: ServeArgs) -> Result<(), Failure> {
    let catalog = load_catalog(config)?;
    runtime()?.block_on(async {
        let archive = open_archive(config).await?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| Failure::Usage(format!("no se pudo escuchar en {}: {e}", config.listen)))?;
        eprintln!(
            "Sello escucha en http://{}; verificación pública en http://{}/v. Ctrl-C para detenerlo.",
            config.listen, config.listen
        );
        let app = router(Arc::new(AppState { archive, catalog }));
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(|e| Failure::Internal(anyhow::anyhow!("el servicio se detuvo: {e}")))
    })
}
