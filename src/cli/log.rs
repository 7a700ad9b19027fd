//! `sello log verify`, `sello log key`, `sello log checkpoint` and
//! `sello log consistency <from> <to>`: the office's transparency log seen
//! from the command line.

use clap::{Args, Subcommand};

use super::Failure;
use super::common::{archive_failure, open_archive, runtime};
use crate::config::Config;
use crate::keys::LogKey;
use crate::tlog::merkle;

#[derive(Debug, Args)]
pub struct LogArgs {
    #[command(subcommand)]
    command: LogCommand,
}

#[derive(Debug, Subcommand)]
enum LogCommand {
    /// Recalcula el registro desde el archivo y falla en la primera diferencia
    Verify {
        /// Un punto de control publicado antes: el registro debe seguir conteniéndolo
        #[arg(long, value_name = "ARCHIVO")]
        checkpoint: Option<std::path::PathBuf>,
    },
    /// Muestra la clave verificadora del registro, para publicarla
    Key,
    /// Muestra el punto de control firmado del registro
    Checkpoint,
    /// Muestra la prueba de consistencia entre dos tamaños del registro
    Consistency {
        /// Tamaño del punto de control anterior
        from: u64,
        /// Tamaño del punto de control posterior
        to: u64,
    },
}

fn log_key(config: &Config) -> Result<LogKey, Failure> {
    let (key, notice) = LogKey::for_config(config).map_err(|e| Failure::Usage(e.to_string()))?;
    if let Some(notice) = notice {
        eprintln!("{notice}");
    }
    Ok(key)
}

pub fn run(config: &Config, args: LogArgs) -> Result<(), Failure> {
    match args.command {
        LogCommand::Key => {
            println!("{}", log_key(config)?.verifier_key());
            Ok(())
        }
        LogCommand::Verify { checkpoint } => {
            let published = match &checkpoint {
                Some(path) => {
                    let note = std::fs::read_to_string(path)
                        .map_err(|e| Failure::Usage(format!("no se pudo leer {}: {e}", path.display())))?;
                    let verifier = crate::tlog::note::Verifier::parse(&log_key(config)?.verifier_key())
                        .map_err(|e| Failure::Usage(e.to_string()))?;
                    let opened = crate::tlog::note::open_checkpoint(&note, &verifier)
                        .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
                    Some(opened)
                }
                None => None,
            };
            let (outcome, leaves) = runtime()?.block_on(async {
                let archive = open_archive(config).await?;
                let outcome = archive.verify_log().await.map_err(archive_failure)?;
                let leaves = archive.log_leaves().await.map_err(archive_failure)?;
                Ok::<_, Failure>((outcome, leaves))
            })?;
            let size = outcome.map_err(|problem| {
                Failure::Broken(format!(
                    "el registro público no coincide con el archivo: {problem}"
                ))
            })?;
            if let Some(published) = published {
                // The tree of the published size, recomputed now, must have
                // the published head: what was published was not rewritten.
                let held = published.size <= leaves.len() as u64
                    && merkle::root(&leaves[..published.size as usize]) == published.root;
                if !held {
                    return Err(Failure::Broken(format!(
                        "el registro ya no contiene el punto de control publicado de tamaño {}",
                        published.size
                    )));
                }
                println!(
                    "Contiene el punto de control publicado de tamaño {}.",
                    published.size
                );
            }
            println!("El registro público coincide con el archivo: {size} entradas.");
            Ok(())
        }
        LogCommand::Checkpoint => {
            let key = log_key(config)?;
            let leaves = log_leaves(config)?;
            print!(
                "{}",
                key.sign_checkpoint(leaves.len() as u64, merkle::root(&leaves))
            );
            Ok(())
        }
        LogCommand::Consistency { from, to } => {
            let leaves = log_leaves(config)?;
            if from > to || to > leaves.len() as u64 {
                return Err(Failure::Usage(format!(
                    "los tamaños deben cumplir {from} ≤ {to} ≤ {} (el tamaño del registro)",
                    leaves.len()
                )));
            }
            let tree = &leaves[..to as usize];
            let proof =
                merkle::consistency_proof(from as usize, tree).map_err(|e| Failure::Usage(e.to_string()))?;
            for hash in proof {
                println!("{}", data_encoding::BASE64.encode(&hash));
            }
            Ok(())
        }
    }
}

/// The leaf hashes of the log, as the archive holds them.
fn log_leaves(config: &Config) -> Result<Vec<merkle::Hash>, Failure> {
    runtime()?.block_on(async {
        open_archive(config)
            .await?
            .log_leaves()
            .await
            .map_err(archive_failure)
    })
}
