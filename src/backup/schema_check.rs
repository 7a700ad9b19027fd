//! What a restored database may hold: what Sello's migrations make, and
//! nothing else. A backup's manifest proves that its parts are the ones it
//! lists, not who wrote them: whoever can rewrite a backup can rewrite its
//! manifest, and a dump may carry triggers, functions, views or rules that
//! would act on every document issued after the restore, which neither
//! `fsck` nor `audit-verify` looks for. So the restored database's objects
//! are compared with those of an empty database migrated, here and now, to
//! the same versions the backup records: SQLite's `sqlite_master` against
//! a database in memory; a PostgreSQL schema's catalog against a scratch
//! schema migrated inside a transaction that is rolled back.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use sqlx::migrate::{Migrate as _, Migration};
use sqlx::{AnyConnection, Connection as _};

use super::BackupError;
use crate::db::{Backend, install_drivers, migrations};

/// One object of a database: its kind (in Spanish, for the message), its
/// name, and what makes it what it is (its definition).
type Objects = BTreeMap<(String, String), String>;

/// Refuses the SQLite database in `file` (a backup's, not yet in place)
/// unless it holds exactly what Sello's migrations make.
pub async fn refuse_foreign_sqlite(file: &Path) -> Result<(), BackupError> {
    install_drivers();
    let url = format!("sqlite://{}?mode=ro", file.display());
    let mut restored = AnyConnection::connect(&url).await?;
    let versions = applied_versions(&mut restored).await?;
    let found = sqlite_objects(&mut restored).await?;
    restored.close().await?;

    let mut fresh = AnyConnection::connect("sqlite::memory:").await?;
    migrate_fresh(&mut fresh, &migrations_for(Backend::Sqlite, &versions)?).await?;
    let expected = sqlite_objects(&mut fresh).await?;
    fresh.close().await?;
    refuse_differences(&found, &expected, "Nada se restauró.")
}

/// The objects of an SQLite database. Its statistics (`sqlite_stat*`,
/// written by `PRAGMA optimize`) are data for the planner, not schema.
async fn sqlite_objects(connection: &mut AnyConnection) -> Result<Objects, BackupError> {
    let rows: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_stat%'",
    )
    .fetch_all(&mut *connection)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(kind, name, table, sql)| {
            let kind = match kind.as_str() {
                "table" => "tabla",
                "index" => "índice",
                "trigger" => "disparador",
                "view" => "vista",
                _ => "objeto",
            };
            // sqlx writes its own table: its presence counts, not its text.
            let definition = if name == "_sqlx_migrations" {
                String::new()
            } else {
                format!("{table}: {}", sql.unwrap_or_default())
            };
            ((kind.to_owned(), name), definition)
        })
        .collect())
}

/// The versions of the migrations a database records as applied. A
/// database without that record is not one of Sello's.
async fn applied_versions(connection: &mut AnyConnection) -> Result<BTreeSet<i64>, BackupError> {
    let versions: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations")
        .fetch_all(&mut *connection)
        .await
        .map_err(|_| {
            BackupError::Refused(
                "la base de datos del respaldo no registra las migraciones de Sello: no es una base de Sello"
                    .into(),
            )
        })?;
    Ok(versions.into_iter().collect())
}

/// The migrations of `backend` a backup's database records, to make an
/// empty database of the same version. One this Sello does not know is
/// refused: the backup comes from a newer version.
fn migrations_for(
    backend: Backend,
    versions: &BTreeSet<i64>,
) -> Result<Vec<&'static Migration>, BackupError> {
    let all = migrations(backend);
    if let Some(unknown) = versions.iter().find(|v| !all.version_exists(**v)) {
        return Err(BackupError::Refused(format!(
            "la base de datos del respaldo tiene la migración {unknown}, que esta versión de Sello no conoce: restáurelo con la versión de Sello que lo hizo, o una más nueva"
        )));
    }
    Ok(all
        .iter()
        .filter(|m| versions.contains(&m.version) && !m.migration_type.is_down_migration())
        .collect())
}

/// Applies `chosen` to the empty database on `connection`, as a start of
/// Sello would, recording each (so sqlx's own table is made too).
async fn migrate_fresh(connection: &mut AnyConnection, chosen: &[&Migration]) -> Result<(), BackupError> {
    let failed = |e: sqlx::migrate::MigrateError| BackupError::Io(format!("migraciones de referencia: {e}"));
    connection.ensure_migrations_table().await.map_err(failed)?;
    for migration in chosen {
        connection.apply(migration).await.map_err(failed)?;
    }
    Ok(())
}

/// Refuses `found` unless it is `expected`, naming what differs (the
/// first few objects): what the migrations do not make, what is not as
/// they make it, what is missing. `after` says what was left.
fn refuse_differences(found: &Objects, expected: &Objects, after: &str) -> Result<(), BackupError> {
    let mut problems = Vec::new();
    for ((kind, name), definition) in found {
        match expected.get(&(kind.clone(), name.clone())) {
            None => problems.push(format!("{kind} «{name}», que las migraciones de Sello no crean")),
            Some(made) if made != definition => {
                problems.push(format!(
                    "{kind} «{name}», distinto de como lo crean las migraciones"
                ));
            }
            Some(_) => {}
        }
    }
    for (kind, name) in expected.keys() {
        if !found.contains_key(&(kind.clone(), name.clone())) {
            problems.push(format!("falta {kind} «{name}»"));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    const SHOWN: usize = 5;
    let more = problems.len().saturating_sub(SHOWN);
    problems.truncate(SHOWN);
    let mut listed = problems.join("; ");
    if more > 0 {
        listed.push_str(&format!("; y {more} más"));
    }
    Err(BackupError::Refused(format!(
        "la base de datos del respaldo no es la que crean las migraciones de Sello ({listed}): un respaldo alterado podría instalar así código que actúe sobre los documentos, y no se restaura. {after}"
    )))
}

/// Every object of one PostgreSQL schema (`$1`), with what defines it.
/// Definitions are printed in pretty mode, so names of the schema first in
/// the search path come out unqualified and two schemas compare alike.
const POSTGRES_OBJECTS: &str = r"
WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname = $1)
SELECT 'relación', c.relname::text,
       concat_ws(' ', c.relkind::text, c.relpersistence::text, c.relrowsecurity::text,
                 c.relforcerowsecurity::text, c.relacl::text,
                 CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid, true) END,
                 CASE WHEN c.relkind = 'i' THEN pg_get_indexdef(c.oid, 0, true) END)
  FROM pg_class c WHERE c.relnamespace = (SELECT oid FROM ns)
UNION ALL
SELECT 'columna', c.relname || '.' || a.attname,
       concat_ws(' ', format_type(a.atttypid, a.atttypmod), a.attnotnull::text, a.attidentity::text,
                 a.attgenerated::text, pg_get_expr(d.adbin, d.adrelid, true), a.attacl::text)
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE c.relnamespace = (SELECT oid FROM ns) AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'restricción', coalesce(c.relname, t.typname) || '.' || k.conname,
       k.contype::text || ' ' || pg_get_constraintdef(k.oid, true)
  FROM pg_constraint k LEFT JOIN pg_class c ON c.oid = k.conrelid
  LEFT JOIN pg_type t ON t.oid = k.contypid
 WHERE k.connamespace = (SELECT oid FROM ns)
UNION ALL
SELECT 'disparador', c.relname || '.' || g.tgname,
       g.tgenabled::text || ' ' || pg_get_triggerdef(g.oid, true)
  FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
 WHERE c.relnamespace = (SELECT oid FROM ns) AND NOT g.tgisinternal
UNION ALL
SELECT 'función', p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       concat_ws(' ', p.prokind::text, l.lanname, pg_get_function_result(p.oid), p.prosecdef::text,
                 p.provolatile::text, p.proconfig::text, p.proacl::text, p.prosrc)
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace = (SELECT oid FROM ns)
UNION ALL
SELECT 'regla', c.relname || '.' || r.rulename, pg_get_ruledef(r.oid, true)
  FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
 WHERE c.relnamespace = (SELECT oid FROM ns) AND r.rulename <> '_RETURN'
UNION ALL
SELECT 'política', c.relname || '.' || p.polname,
       concat_ws(' ', p.polcmd::text, p.polpermissive::text, p.polroles::text,
                 pg_get_expr(p.polqual, p.polrelid, true), pg_get_expr(p.polwithcheck, p.polrelid, true))
  FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
 WHERE c.relnamespace = (SELECT oid FROM ns)
UNION ALL
SELECT 'tipo', t.typname::text, t.typtype::text || ' ' || coalesce(t.typacl::text, '')
  FROM pg_type t WHERE t.typnamespace = (SELECT oid FROM ns)
UNION ALL
SELECT 'operador', o.oprname || '(' || o.oprleft::regtype::text || ',' || o.oprright::regtype::text || ')',
       o.oprcode::text
  FROM pg_operator o WHERE o.oprnamespace = (SELECT oid FROM ns)
UNION ALL
SELECT 'extensión', e.extname::text, e.extversion FROM pg_extension e
 WHERE e.extnamespace = (SELECT oid FROM ns)
UNION ALL
SELECT 'intercalación', o.collname::text, '' FROM pg_collation o
 WHERE o.collnamespace = (SELECT oid FROM ns)
UNION ALL
SELECT 'estadística', s.stxname::text, '' FROM pg_statistic_ext s
 WHERE s.stxnamespace = (SELECT oid FROM ns)
UNION ALL
SELECT 'conversión', v.conname::text, '' FROM pg_conversion v
 WHERE v.connamespace = (SELECT oid FROM ns)
UNION ALL
SELECT 'configuración de búsqueda', f.cfgname::text, '' FROM pg_ts_config f
 WHERE f.cfgnamespace = (SELECT oid FROM ns)
UNION ALL
SELECT 'diccionario de búsqueda', d.dictname::text, '' FROM pg_ts_dict d
 WHERE d.dictnamespace = (SELECT oid FROM ns)
";

/// The objects of the PostgreSQL schema `schema`, described on a
/// connection whose search path starts with it.
async fn postgres_objects(connection: &mut AnyConnection, schema: &str) -> Result<Objects, BackupError> {
    sqlx::query("SELECT set_config('search_path', $1, true)")
        .bind(quoted(schema))
        .execute(&mut *connection)
        .await?;
    let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(POSTGRES_OBJECTS)
        .bind(schema)
        .fetch_all(&mut *connection)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(kind, name, definition)| ((kind, name), definition.unwrap_or_default()))
        .collect())
}

/// An identifier quoted for PostgreSQL.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The schemas of the database at `url`, to tell afterwards which ones a
/// restore made.
pub async fn postgres_schemas(url: &str) -> Result<BTreeSet<String>, BackupError> {
    install_drivers();
    let mut connection = AnyConnection::connect(url).await?;
    let names: Vec<String> = sqlx::query_scalar("SELECT nspname::text FROM pg_namespace")
        .fetch_all(&mut connection)
        .await?;
    connection.close().await?;
    Ok(names.into_iter().collect())
}

/// Refuses the PostgreSQL database just restored at `url` unless its
/// schema holds exactly what Sello's migrations make and no schema but its
/// own appeared (`before`: the schemas there were). On refusal, a schema
/// of the installation's own (`own_schema`, which did not exist before)
/// is dropped, with any other the restore made, so nothing is left; a
/// restore into `public` is left for the operator, and the message says so.
pub async fn refuse_foreign_postgres(
    url: &str,
    own_schema: Option<&str>,
    before: &BTreeSet<String>,
) -> Result<(), BackupError> {
    install_drivers();
    let mut connection = AnyConnection::connect(url).await?;
    let verdict = compare_postgres(&mut connection, before).await;
    let Err(refusal) = verdict else {
        connection.close().await?;
        return Ok(());
    };
    let made = made_schemas(&mut connection, before).await.unwrap_or_default();
    let mut dropped = true;
    for schema in made.iter().map(String::as_str).chain(own_schema) {
        // Each did not exist before this restore: all it holds came from
        // the backup.
        let dropping = format!("DROP SCHEMA IF EXISTS {} CASCADE", quoted(schema));
        dropped &= sqlx::query(&dropping).execute(&mut connection).await.is_ok();
    }
    connection.close().await?;
    let after = match (own_schema, dropped) {
        (Some(schema), true) => format!("Se borró el esquema «{schema}» restaurado: la base quedó como estaba."),
        _ => "La base de datos PostgreSQL configurada quedó con lo restaurado: bórrelo antes de volver a restaurar.".to_owned(),
    };
    Err(match refusal {
        BackupError::Refused(message) => BackupError::Refused(format!("{message} {after}")),
        other => BackupError::Io(format!("{other}. {after}")),
    })
}

/// The schemas the restore made besides its own.
async fn made_schemas(
    connection: &mut AnyConnection,
    before: &BTreeSet<String>,
) -> Result<Vec<String>, BackupError> {
    let own: String = sqlx::query_scalar("SELECT current_schema()::text")
        .fetch_one(&mut *connection)
        .await?;
    let names: Vec<String> = sqlx::query_scalar("SELECT nspname::text FROM pg_namespace")
        .fetch_all(&mut *connection)
        .await?;
    Ok(names
        .into_iter()
        .filter(|name| *name != own && !before.contains(name))
        .collect())
}

async fn compare_postgres(
    connection: &mut AnyConnection,
    before: &BTreeSet<String>,
) -> Result<(), BackupError> {
    if let Some(extra) = made_schemas(connection, before).await?.first() {
        return Err(BackupError::Refused(format!(
            "la base de datos del respaldo crea el esquema «{extra}», que las migraciones de Sello no crean: un respaldo alterado no se restaura."
        )));
    }
    let schema: String = sqlx::query_scalar("SELECT current_schema()::text")
        .fetch_one(&mut *connection)
        .await?;
    let versions = applied_versions(connection).await?;
    let chosen = migrations_for(Backend::Postgres, &versions)?;
    let mut tx = connection.begin().await?;
    let found = postgres_objects(&mut tx, &schema).await?;
    // An empty schema migrated to the same versions, inside a transaction
    // rolled back: nothing of it outlives the comparison.
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).map_err(|e| BackupError::Io(format!("generador aleatorio: {e}")))?;
    let scratch = format!("sello_comprobacion_{}", data_encoding::HEXLOWER.encode(&random));
    sqlx::query(&format!("CREATE SCHEMA {}", quoted(&scratch)))
        .execute(&mut *tx)
        .await?;
    sqlx::query("SELECT set_config('search_path', $1, true)")
        .bind(quoted(&scratch))
        .execute(&mut *tx)
        .await?;
    migrate_fresh(&mut tx, &chosen).await?;
    let expected = postgres_objects(&mut tx, &scratch).await?;
    tx.rollback().await?;
    refuse_differences(&found, &expected, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects(list: &[(&str, &str, &str)]) -> Objects {
        list.iter()
            .map(|(k, n, d)| (((*k).to_owned(), (*n).to_owned()), (*d).to_owned()))
            .collect()
    }

    #[test]
    fn an_extra_changed_or_missing_object_is_named_in_the_refusal() {
        let made = objects(&[("tabla", "documents", "documents: CREATE TABLE documents (…)")]);
        assert!(refuse_differences(&made, &made, "").is_ok());
        let extra = objects(&[
            ("tabla", "documents", "documents: CREATE TABLE documents (…)"),
            ("disparador", "copia", "documents: CREATE TRIGGER copia …"),
        ]);
        let said = refuse_differences(&extra, &made, "Nada se restauró.")
            .unwrap_err()
            .to_string();
        assert!(
            said.contains("disparador «copia»") && said.contains("Nada se restauró."),
            "{said}"
        );
        let changed = objects(&[(
            "tabla",
            "documents",
            "documents: CREATE TABLE documents (sin UNIQUE)",
        )]);
        let said = refuse_differences(&changed, &made, "").unwrap_err().to_string();
        assert!(said.contains("tabla «documents», distinto"), "{said}");
        let said = refuse_differences(&Objects::new(), &made, "")
            .unwrap_err()
            .to_string();
        assert!(said.contains("falta tabla «documents»"), "{said}");
    }
}
