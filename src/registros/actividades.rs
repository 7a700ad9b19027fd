//! The counts of the reporte de actividades and the informe final (seed
//! 000, E0028 productos 1 y 2) taken from the listas de asistencia in force
//! whose session falls in the period: each session with its folio, the
//! attendance it recorded, and the people who came. They become drafts of
//! those forms whose numbers come from the archive and cite its documents;
//! the promotor writes the narrative parts and the programmed goals, and
//! the draft then walks its trámite like any other.

use chrono::NaiveDate;
use serde_json::{Value, json};

use super::refused;
pub use crate::archive::session_counts::{Counts, LISTA_FORM, Session};
use crate::archive::session_counts::{ISSUED_AFTER_DAYS, tally};
use crate::archive::{Archive, ArchiveError};

/// Counts the sessions and attendance of the listas in force whose session
/// falls from `from` to `to`, both included, and with `grupo`, of that
/// group only.
pub async fn count(
    archive: &Archive,
    from: NaiveDate,
    to: NaiveDate,
    grupo: Option<&str>,
) -> Result<Counts, ArchiveError> {
    if from > to {
        return Err(refused("periodo: el inicio es posterior al fin"));
    }
    let window = (from, to + chrono::Days::new(ISSUED_AFTER_DAYS));
    let mut listas = Vec::new();
    archive
        .for_each_issued(&[LISTA_FORM], window, true, |document| {
            let data: Value = serde_json::from_str(&document.data).unwrap_or(Value::Null);
            listas.push((document.folio, data));
            Ok(())
        })
        .await?;
    Ok(tally(listas, (from, to), grupo))
}

/// What a draft of the informe final starts with: its period and the
/// results the listas count, as achieved; what was programmed, the
/// qualitative results, the analysis and the conclusions are the
/// promotor's to write.
pub fn informe_final(counts: &Counts, programa: &str, localidad: &str) -> Value {
    let mut draft = json!({
        "programa": programa,
        "localidad": localidad,
        "periodo_inicio": counts.desde,
        "periodo_fin": counts.hasta,
        "resultados_cuantitativos": [
            {"indicador": "Sesiones realizadas (listas de asistencia vigentes del periodo)", "alcanzado": counts.sesiones.len()},
            {"indicador": "Asistencias registradas en las listas de asistencia", "alcanzado": counts.asistencias},
            {"indicador": "Personas distintas que asistieron", "alcanzado": counts.personas},
        ],
    });
    if let Some(grupo) = &counts.grupo {
        draft["grupo"] = json!(grupo);
    }
    draft
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
    let mut draft = json!({
        "programa": programa,
        "localidad": localidad,
        "periodo_inicio": counts.desde,
        "periodo_fin": counts.hasta,
        "actividades": actividades,
    });
    if let Some(grupo) = &counts.grupo {
        draft["grupo"] = json!(grupo);
    }
    draft
}
