//! `sello offices`: the installation's offices from the terminal: list
//! them with the office each is under, create one, place it in the
//! hierarchy, and grant or take back a visado in an office to an account
//! of an office above. Each change is in the audit trail.

use clap::{Args, Subcommand};
use serde_json::json;

use super::Failure;
use super::common::{open_storage, runtime, terminal_actor};
use crate::accounts::{AccountError, Accounts, Role};
use crate::archive::{Archive, NewEvent};
use crate::config::Config;

#[derive(Debug, Args)]
pub struct OfficesArgs {
    #[command(subcommand)]
    action: OfficesAction,
}

#[derive(Debug, Subcommand)]
enum OfficesAction {
    /// Lista las oficinas con la oficina de la que depende cada una
    List,
    /// Crea una oficina con su administrador y muestra su contraseña de un solo uso
    Create {
        /// Clave, que va en los folios: mayúsculas, dígitos o guiones
        #[arg(value_name = "CLAVE")]
        code: String,
        /// Nombre de la oficina
        #[arg(long, value_name = "NOMBRE")]
        name: String,
        /// Usuario de su administrador
        #[arg(long, value_name = "USUARIO")]
        admin: String,
        /// Clave de la oficina de la que depende
        #[arg(long, value_name = "CLAVE")]
        parent: Option<String>,
    },
    /// Pone una oficina bajo otra (nacional → provincia o región → distrito → oficina local)
    Parent {
        #[arg(value_name = "CLAVE")]
        code: String,
        /// Clave de la oficina de la que depende
        #[arg(value_name = "SUPERIOR", required_unless_present = "none")]
        parent: Option<String>,
        /// No depende de ninguna
        #[arg(long, conflicts_with = "parent")]
        none: bool,
    },
    /// Concede a una cuenta de una oficina superior el visado en una oficina que depende de ella
    Grant {
        /// Oficina donde dará el visado
        #[arg(value_name = "CLAVE")]
        code: String,
        #[arg(long, value_name = "USUARIO")]
        username: String,
        /// revisor o contador
        #[arg(long, value_name = "ROL", default_value = "revisor")]
        role: String,
    },
    /// Retira el visado concedido a una cuenta en una oficina
    Revoke {
        #[arg(value_name = "CLAVE")]
        code: String,
        #[arg(long, value_name = "USUARIO")]
        username: String,
    },
}

fn failure(error: AccountError) -> Failure {
    match error {
        AccountError::Invalid(_) | AccountError::UserNotFound => Failure::Usage(error.to_string()),
        other => Failure::Internal(anyhow::anyhow!(other)),
    }
}

/// Seals an administrative act in the audit trail.
async fn audit(archive: &Archive, action: &'static str, details: serde_json::Value) -> Result<(), Failure> {
    archive
        .store()
        .record_event(NewEvent {
            actor: terminal_actor(),
            action,
            office_code: None,
            document_id: None,
            expediente_id: None,
            draft_id: None,
            details,
        })
        .await
        .map_err(|e| Failure::Internal(anyhow::anyhow!(e)))
}

pub fn run(config: &Config, args: OfficesArgs) -> Result<(), Failure> {
    runtime()?.block_on(async {
        let storage = open_storage(config).await?;
        let (accounts, archive) = (&storage.accounts, &storage.archive);
        accounts
            .create_office_if_missing(&config.office_code, &config.office_name)
            .await
            .map_err(failure)?;
        match args.action {
            OfficesAction::List => list(accounts).await?,
            OfficesAction::Create {
                code,
                name,
                admin,
                parent,
            } => {
                let (office, user, password) = accounts.create_office(&code, &name, &admin).await.map_err(failure)?;
                audit(
                    archive,
                    "oficina.creada",
                    json!({"oficina": office.code, "administrador": user.username}),
                )
                .await?;
                if let Some(parent) = parent {
                    place(accounts, archive, &office.code, Some(&parent)).await?;
                }
                eprintln!(
                    "Oficina {} creada, con su administrador «{}». Contraseña de un solo uso (deberá cambiarla al entrar):",
                    office.code, user.username
                );
                println!("{password}");
            }
            OfficesAction::Parent { code, parent, none } => {
                let parent = if none { None } else { parent };
                place(accounts, archive, &code, parent.as_deref()).await?;
            }
            OfficesAction::Grant { code, username, role } => {
                let role = Role::parse(role.trim())
                    .ok_or_else(|| Failure::Usage("--role: use revisor o contador".into()))?;
                let user = accounts.user_by_username(&username).await.map_err(failure)?;
                accounts
                    .grant(&user, &code, role, &terminal_actor())
                    .await
                    .map_err(failure)?;
                let code = code.trim().to_uppercase();
                audit(
                    archive,
                    "oficina.visado_concedido",
                    json!({"oficina": code, "usuario": user.username, "desde_oficina": user.office_code, "rol": role.as_str()}),
                )
                .await?;
                eprintln!(
                    "«{}» de {} da ahora el visado como {} en {code}.",
                    user.username,
                    user.office_code,
                    role.as_str()
                );
            }
            OfficesAction::Revoke { code, username } => {
                let user = accounts.user_by_username(&username).await.map_err(failure)?;
                let code = code.trim().to_uppercase();
                if !accounts.revoke_grant(&user, &code).await.map_err(failure)? {
                    return Err(Failure::Usage(format!(
                        "«{}» no tenía visado concedido en {code}",
                        user.username
                    )));
                }
                audit(
                    archive,
                    "oficina.visado_retirado",
                    json!({"oficina": code, "usuario": user.username}),
                )
                .await?;
                eprintln!("«{}» ya no da el visado en {code}.", user.username);
            }
        }
        Ok(())
    })
}

/// Prints every office, indented under the one it depends on.
async fn list(accounts: &Accounts) -> Result<(), Failure> {
    let tree = accounts.office_tree().await.map_err(failure)?;
    fn print(tree: &[crate::accounts::OfficeNode], parent: Option<&str>, depth: usize) {
        for node in tree.iter().filter(|n| n.parent_code.as_deref() == parent) {
            println!("{}{}\t{}", "  ".repeat(depth), node.code, node.name);
            // The hierarchy has no cycles (set_parent refuses them), so
            // this ends; the depth bound is for a database edited by hand.
            if depth < 32 {
                print(tree, Some(&node.code), depth + 1);
            }
        }
    }
    print(&tree, None, 0);
    Ok(())
}

/// Puts `code` under `parent` (or at the top) and records it.
async fn place(
    accounts: &Accounts,
    archive: &Archive,
    code: &str,
    parent: Option<&str>,
) -> Result<(), Failure> {
    accounts.set_parent(code, parent).await.map_err(failure)?;
    let code = code.trim().to_uppercase();
    let parent = parent.map(|p| p.trim().to_uppercase());
    audit(
        archive,
        "oficina.superior",
        json!({"oficina": code, "superior": parent}),
    )
    .await?;
    match parent {
        Some(parent) => eprintln!("La oficina {code} depende ahora de {parent}."),
        None => eprintln!("La oficina {code} no depende ahora de ninguna."),
    }
    Ok(())
}
