//! The counts of the reporte de actividades and the informe final (seed
//! 000, E0028 productos 1 y 2) taken from the listas de asistencia in force
//! whose session falls in the period: each session with its folio, the
//! attendance it recorded, and the people who came. They become drafts of
//! those forms whose numbers come from the archive and cite its documents;
//! the promotor writes the narrative parts and the programmed goals, and
//! the draft then walks its trámite like any other.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Value, json};

use super::refused;
use crate::archive::{Archive, ArchiveError};

/// The form whose documents record a session.
pub const LISTA_FORM: &str = "lista-asistencia";

/// The widest window of session days read around a period: a lista may
/// be issued some time after its session.
const ISSUED_AFTER_DAYS: u64 = 366;

/// One session, as its lista records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Session {
    pub folio: String,
    /// The session's day, `YYYY-MM-DD`.
    pub fecha: String,
    pub motivo: String,
    pub asistentes: usize,
}

/// What the listas of a period count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Counts {
    pub desde: String,
    pub hasta: String,
    /// The sessions held, in the order of their day.
    pub sesiones: Vec<Session>,
    /// The attendance recorded, every lista's rows added up.
    pub asistencias: usize,
    /// Different people among them, by name.
    pub personas: usize,
}

/// Counts the sessions and attendance of the listas in force whose session
/// falls from `from` to `to`, both included.
pub async fn count(archive: &Archive, from: NaiveDate, to: NaiveDate) -> Result<Counts, ArchiveError> {
    if from > to {
        return Err(refused("periodo: el inicio es posterior al fin"));
    }
    let window = (from, to + chrono::Days::new(ISSUED_AFTER_DAYS));
    let mut sesiones = Vec::new();
    let mut people: HashSet<String> = HashSet::new();
    let mut asistencias = 0;
    archive
        .for_each_issued(&[LISTA_FORM], window, true, |document| {
            let data: Value = serde_json::from_str(&document.data).unwrap_or(Value::Null);
            let Some(fecha) = data.get("fecha").and_then(Value::as_str) else {
                return Ok(());
            };
            let held = NaiveDate::parse_from_str(fecha, "%Y-%m-%d").is_ok_and(|d| from <= d && d <= to);
            if !held {
                return Ok(());
            }
            let rows = data
                .get("asistentes")
                .and_then(Value::as_array)
                .map_or(&[][..], Vec::as_slice);
            for name in rows
                .iter()
                .filter_map(|r| r.get("nombre").and_then(Value::as_str))
            {
                people.insert(
                    name.split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                        .to_lowercase(),
                );
            }
            asistencias += rows.len();
            sesiones.push(Session {
                folio: document.folio,
                fecha: fecha.to_owned(),
                motivo: data
                    .get("motivo")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                asistentes: rows.len(),
            });
            Ok(())
        })
        .await?;
    sesiones.sort_by(|a, b| a.fecha.cmp(&b.fecha));
    Ok(Counts {
        desde: from.to_string(),
        hasta: to.to_string(),
        sesiones,
        asistencias,
        personas: people.len(),
    })
}

/// What a draft of the informe final starts with: its period and the
/// results the listas count, as achieved; what was programmed, the
/// qualitative results, the analysis and the conclusions are the
/// promotor's to write.
pub fn informe_final(counts: &Counts, programa: &str, localidad: &str) -> Value {
    let n = counts.sesiones.len();
    let cited = match (counts.sesiones.first(), counts.sesiones.last()) {
        (Some(first), Some(last)) if n > 1 => format!(" ({} a {})", first.folio, last.folio),
        (Some(only), _) => format!(" ({})", only.folio),
        _ => String::new(),
    };
    json!({
        "programa": programa,
        "localidad": localidad,
        "periodo_inicio": counts.desde,
        "periodo_fin": counts.hasta,
        "resultados_cuantitativos": [
            {"indicador": format!("Sesiones realizadas, según {n} listas de asistencia emitidas{cited}"), "alcanzado": n},
            {"indicador": "Asistencias registradas en las listas de asistencia", "alcanzado": counts.asistencias},
            {"indicador": "Personas distintas que asistieron", "alcanzado": counts.personas},
        ],
    })
}

/// What a draft of the reporte de actividades starts with: one activity
/// per session, its attendance, and its lista as evidence.
pub fn reporte_actividades(counts: &Counts, programa: &str, localidad: &str) -> Value {
    let actividades: Vec<Value> = counts
        .sesiones
        .iter()
        .map(|s| {
            json!({
                "fecha": s.fecha,
                "actividad": s.motivo.chars().take(200).collect::<String>(),
                "participantes": s.asistentes,
                "evidencia": format!("Lista de asistencia {}", s.folio),
            })
        })
        .collect();
    json!({
        "programa": programa,
        "localidad": localidad,
        "periodo_inicio": counts.desde,
        "periodo_fin": counts.hasta,
        "actividades": actividades,
    })
}
