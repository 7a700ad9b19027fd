//! `sello serve`: the HTTP service on the configured address. On the first
//! run it creates the database, the office's signing key and an
//! administrator whose one-time password it prints once. The service is
//! assembled by [`Application`], as the tests assemble it.

use clap::Args;

use super::Failure;
use super::common::{boot_failure, runtime};
use crate::app::Application;
use crate::config::Config;
use crate::web::init_logging;

#[derive(Debug, Args)]
pub struct ServeArgs {}

pub fn run(config: &Config, _args: ServeArgs) -> Result<(), Failure> {
    init_logging();
    runtime()?.block_on(async {
        let mut app = Application::build(config).await.map_err(boot_failure)?;
        // Made on the first run: where it is kept, to back it up.
        if let Some(notice) = app.key_notice() {
            eprintln!("{notice}");
        }
        if let Some((user, password)) = app.take_first_administrator() {
            show_first_password(&user.username, &password, &config.base_url);
        }
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| Failure::Usage(format!("no se pudo escuchar en {}: {e}", config.listen)))?;
        eprintln!(
            "Sello escucha en http://{}: personal en /, API en /api/v1, verificación pública en /v. Ctrl-C para detenerlo.",
            config.listen
        );
        app.serve(listener, shutdown_signal())
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
