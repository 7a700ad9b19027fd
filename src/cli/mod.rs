//! The `sello` command line. Exit status: 0 on success, 2 for invalid data or
//! usage (the problems on stderr), 1 for an internal error.

mod annul;
mod archive;
mod backup;
mod bulk;
mod common;
mod evidence;
mod expediente;
mod forms;
mod issue;
mod keys;
mod log;
mod offices;
mod registro;
mod render;
mod serve;
mod sign;
mod users;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, ConfigError};
use crate::forms::{Catalog, Problems};

#[derive(Debug, Parser)]
#[command(
    name = "sello",
    version,
    about = "Sello: documentos oficiales de asistencia social, generados, firmados y archivados"
)]
struct Cli {
    /// Archivo de configuración (por defecto, sello.toml si existe)
    #[arg(long, global = true, value_name = "ARCHIVO")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Lista los formularios del catálogo, o muestra uno con `forms show <id>`
    Forms(forms::FormsArgs),
    /// Genera el PDF de un formulario a partir de sus datos (borrador)
    Render(render::RenderArgs),
    /// Emite un documento oficial: código de verificación, QR y firma
    Issue(issue::IssueArgs),
    /// Emite un documento por fila de una planilla (.csv o .xlsx)
    Bulk(bulk::BulkArgs),
    /// Anula un documento emitido (queda en el archivo, marcado y con el motivo)
    Annul(annul::AnnulArgs),
    /// Busca en el archivo y lo comprueba
    Archive(archive::ArchiveArgs),
    /// Consulta y exporta expedientes
    Expediente(expediente::ExpedienteArgs),
    /// Inicia el servicio web: la aplicación del personal, la API y la página pública de verificación
    Serve(serve::ServeArgs),
    /// Agrega otra firma a un documento emitido por Sello
    Sign(sign::SignArgs),
    /// Verifica las firmas de un PDF o el contenido de un QR, sin red
    Verify(verify::VerifyArgs),
    /// Administra claves de firma
    Keys(keys::KeysArgs),
    /// El registro público de lo emitido: verificarlo, su clave y sus puntos de control
    Log(log::LogArgs),
    /// Cuentas del personal: crear, restablecer la contraseña, tokens de API
    Users(users::UsersArgs),
    /// Oficinas: listarlas, crearlas, de cuál depende cada una y el visado concedido desde una oficina superior
    Offices(offices::OfficesArgs),
    /// Respalda la instalación mientras el servicio sigue: base de datos, documentos y certificados
    Backup(backup::BackupArgs),
    /// Restaura un respaldo en una instalación vacía y la comprueba
    Restore(backup::RestoreArgs),
    /// Registros e informes integrados del archivo: padrón de beneficiarios, reporte semanal de oficios, conteo de actividades
    Registro(registro::RegistroArgs),
}

/// How a command failed, which decides the exit status.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The user asked for something that cannot be done as asked.
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The data does not fit the form.
    #[error("los datos no son válidos para «{form}» ({} problema(s)):\n{problems}", problems.0.len())]
    InvalidData { form: String, problems: Problems },
    /// Something Sello or its installation got wrong.
    #[error("{0:#}")]
    Internal(#[from] anyhow::Error),
    /// A check found the archive damaged.
    #[error("{0}")]
    Broken(String),
    /// Stopped by Ctrl-C; running the command again goes on.
    #[error("{0}")]
    Interrupted(String),
}

impl Failure {
    fn exit_code(&self) -> ExitCode {
        match self {
            Failure::Usage(_) | Failure::Config(_) | Failure::InvalidData { .. } => ExitCode::from(2),
            Failure::Internal(_) | Failure::Broken(_) => ExitCode::from(1),
            Failure::Interrupted(_) => ExitCode::from(130),
        }
    }
}

/// Runs the command line; the binary's `main` is only this.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("error: {failure}");
            failure.exit_code()
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let config = || Config::load(cli.config.as_deref());
    let done = |result: Result<(), Failure>| result.map(|()| ExitCode::SUCCESS);
    match cli.command {
        // Generating a stand-alone key needs no configuration.
        Command::Keys(args) => done(keys::run(args, || Ok(config()?))),
        Command::Forms(args) => done(forms::run(&config()?, args)),
        Command::Render(args) => done(render::run(&config()?, args)),
        Command::Issue(args) => done(issue::run(&config()?, args)),
        Command::Bulk(args) => done(bulk::run(&config()?, args)),
        Command::Annul(args) => done(annul::run(&config()?, args)),
        Command::Archive(args) => done(archive::run(&config()?, args)),
        Command::Expediente(args) => done(expediente::run(&config()?, args)),
        Command::Serve(args) => done(serve::run(&config()?, args)),
        Command::Sign(args) => done(sign::run(&config()?, args)),
        Command::Verify(args) => verify::run(installation_config(cli.config.as_deref())?.as_ref(), args),
        Command::Users(args) => done(users::run(&config()?, args)),
        Command::Offices(args) => done(offices::run(&config()?, args)),
        Command::Log(args) => done(log::run(&config()?, args)),
        Command::Registro(args) => done(registro::run(&config()?, args)),
        Command::Backup(args) => done(backup::run_backup(&config()?, args)),
        Command::Restore(args) => done(backup::run_restore(&config()?, args)),
    }
}

/// The installation's configuration when the command runs inside one: a
/// file given or found, or settings in the environment. `None` for an
/// archivist who holds only a PDF and the office's certificates, so that
/// checking them needs no forms folder nor data directory.
fn installation_config(file: Option<&std::path::Path>) -> Result<Option<Config>, Failure> {
    let inside = file.is_some()
        || std::path::Path::new(crate::config::DEFAULT_FILE).exists()
        || std::env::vars().any(|(name, _)| name.starts_with(crate::config::ENV_PREFIX));
    if inside {
        Ok(Some(Config::load(file)?))
    } else {
        Ok(None)
    }
}

fn load_catalog(config: &Config) -> Result<Catalog, Failure> {
    crate::app::load_catalog(config).map_err(common::boot_failure)
}

fn find_form<'a>(catalog: &'a Catalog, id: &str) -> Result<&'a crate::forms::FormSpec, Failure> {
    catalog.get(id).ok_or_else(|| {
        let known: Vec<&str> = catalog.iter().map(|f| f.id.as_str()).collect();
        Failure::Usage(format!(
            "no existe el formulario «{id}»; los disponibles son: {}",
            known.join(", ")
        ))
    })
}
