//! `sello users`: accounts from the terminal, for the installer and for
//! when the web app cannot be reached (a lost administrator password).

use clap::{Args, Subcommand};

use super::Failure;
use super::common::{open_storage, runtime};
use crate::accounts::{AccountError, NewUser, Role};
use crate::config::Config;

#[derive(Debug, Args)]
pub struct UsersArgs {
    #[command(subcommand)]
    action: UsersAction,
}

#[derive(Debug, Subcommand)]
enum UsersAction {
    /// Crea una cuenta y muestra su contraseña de un solo uso
    Create {
        /// Con lo que entrará: letras sin acento, dígitos, punto o guion
        #[arg(long, value_name = "USUARIO")]
        username: String,
        /// Nombre completo
        #[arg(long, value_name = "NOMBRE")]
        name: String,
        /// Cargo, impreso bajo su firma
        #[arg(long, value_name = "CARGO", default_value = "")]
        cargo: String,
        /// capturista, revisor, contador, firmante, archivista o administrador
        #[arg(long, value_name = "ROL", value_parser = parse_role)]
        role: Role,
        /// Clave de la oficina; por defecto, la de la configuración
        #[arg(long, value_name = "CLAVE")]
        office: Option<String>,
    },
    /// Da a una cuenta una contraseña nueva de un solo uso
    ResetPassword {
        #[arg(value_name = "USUARIO")]
        username: String,
    },
    /// Crea un token de API para una cuenta y lo muestra una sola vez
    Token {
        #[arg(value_name = "USUARIO")]
        username: String,
        /// Para qué sistema es
        #[arg(long, value_name = "NOMBRE")]
        name: String,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text)
        .ok_or_else(|| "use capturista, revisor, contador, firmante, archivista o administrador".to_owned())
}

fn failure(error: AccountError) -> Failure {
    match error {
        AccountError::Invalid(_) | AccountError::UserNotFound => Failure::Usage(error.to_string()),
        other => Failure::Internal(anyhow::anyhow!(other)),
    }
}

pub fn run(config: &Config, args: UsersArgs) -> Result<(), Failure> {
    runtime()?.block_on(async {
        let accounts = open_storage(config).await?.accounts;
        match args.action {
            UsersAction::Create {
                username,
                name,
                cargo,
                role,
                office,
            } => {
                let office = office.unwrap_or_else(|| config.office_code.clone());
                if office == config.office_code {
                    accounts
                        .create_office_if_missing(&config.office_code, &config.office_name)
                        .await
                        .map_err(failure)?;
                }
                let new = NewUser {
                    username,
                    display_name: name,
                    cargo,
                    role,
                };
                let (user, password) = accounts.create_user(&office, &new).await.map_err(failure)?;
                eprintln!(
                    "Cuenta «{}» ({}) creada en {office}. Contraseña de un solo uso (deberá cambiarla al entrar):",
                    user.username,
                    user.role.as_str()
                );
                println!("{password}");
            }
            UsersAction::ResetPassword { username } => {
                let user = accounts.user_by_username(&username).await.map_err(failure)?;
                let password = accounts
                    .reset_password(&user.office_code, user.id)
                    .await
                    .map_err(failure)?;
                eprintln!("Contraseña de «{}» restablecida; sus sesiones se cerraron. Nueva contraseña de un solo uso:", user.username);
                println!("{password}");
            }
            UsersAction::Token { username, name } => {
                let user = accounts.user_by_username(&username).await.map_err(failure)?;
                let (_, secret) = accounts.create_token(&user, &name).await.map_err(failure)?;
                eprintln!("Token «{name}» de «{}» creado; guárdelo, no se volverá a mostrar:", user.username);
                println!("{secret}");
            }
        }
        Ok(())
    })
}
