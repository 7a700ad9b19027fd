//! The sessions and attendance the listas de asistencia in force record
//! for a period (seed 000, E0028 productos 1 y 2), counted when the folio
//! of a report that declares `[conteo]` is taken, in the transaction that
//! takes it: a lista annulled before then is not counted, and the report
//! stores, cites and prints exactly the listas it counted
//! ([`crate::forms::COUNT_RECORD_FIELD`]). The reports' typed rows that
//! carry the same numbers take the archive's.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Value, json};

use super::text::fold;
use crate::db::Tx;
use crate::forms::{COUNT_RECORD_FIELD, Count, Problem, Problems};

/// The form whose documents record a session.
pub const LISTA_FORM: &str = "lista-asistencia";

/// The widest window of issue days read after a period: a lista may be
/// issued some time after its session.
pub const ISSUED_AFTER_DAYS: u64 = 366;

/// The rows of an informe final's `resultados_cuantitativos` whose
/// `alcanzado` the archive counts, by the start of their `indicador`.
const COUNTED_ROWS: [&str; 3] = [
    "Sesiones realizadas",
    "Asistencias registradas",
    "Personas distintas",
];

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
    /// The group whose listas count; `None`: every lista of the office.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grupo: Option<String>,
    /// The sessions held, in the order of their day.
    pub sesiones: Vec<Session>,
    /// The attendance recorded, every lista's rows added up.
    pub asistencias: usize,
    /// Different people among them, by name (written alike).
    pub personas: usize,
}

/// Counts, among `listas` (folio and data of listas in force), those whose
/// session falls from `from` to `to`, both included, and, with `grupo`,
/// whose `grupo` is that one.
pub fn tally(
    listas: impl IntoIterator<Item = (String, Value)>,
    (from, to): (NaiveDate, NaiveDate),
    grupo: Option<&str>,
) -> Counts {
    let mut sesiones = Vec::new();
    let mut people: HashSet<String> = HashSet::new();
    let mut asistencias = 0;
    let wanted = grupo.map(fold).filter(|g| !g.is_empty());
    for (folio, data) in listas {
        let Some(fecha) = data.get("fecha").and_then(Value::as_str) else {
            continue;
        };
        let held = NaiveDate::parse_from_str(fecha, "%Y-%m-%d").is_ok_and(|d| from <= d && d <= to);
        let of_group = wanted.as_ref().is_none_or(|wanted| {
            data.get("grupo")
                .and_then(Value::as_str)
                .is_some_and(|g| &fold(g) == wanted)
        });
        if !held || !of_group {
            continue;
        }
        let rows = data
            .get("asistentes")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        for name in rows
            .iter()
            .filter_map(|r| r.get("nombre").and_then(Value::as_str))
        {
            people.insert(fold(name));
        }
        asistencias += rows.len();
        sesiones.push(Session {
            folio,
            fecha: fecha.to_owned(),
            motivo: data
                .get("motivo")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            asistentes: rows.len(),
        });
    }
    sesiones.sort_by(|a, b| a.fecha.cmp(&b.fecha).then_with(|| a.folio.cmp(&b.folio)));
    Counts {
        desde: from.to_string(),
        hasta: to.to_string(),
        grupo: grupo.map(str::trim).filter(|g| !g.is_empty()).map(str::to_owned),
        sesiones,
        asistencias,
        personas: people.len(),
    }
}

/// The period and group a report with `data` counts, by its `[conteo]`.
fn period(rule: &Count, data: &Value) -> Option<(NaiveDate, NaiveDate, Option<String>)> {
    let date = |name: &str| NaiveDate::parse_from_str(data.get(name)?.as_str()?, "%Y-%m-%d").ok();
    let grupo = rule
        .grupo
        .as_ref()
        .and_then(|name| data.get(name)?.as_str())
        .map(str::to_owned);
    Some((date(&rule.desde)?, date(&rule.hasta)?, grupo))
}

/// Counts, in the transaction that reserves a report's folio, the listas
/// in force of the office for the report's period; `None` when its period
/// is not filled in (validation says so).
pub(crate) async fn count_in(
    tx: &mut Tx,
    office_code: &str,
    rule: &Count,
    data: &Value,
) -> Result<Option<Counts>, sqlx::Error> {
    let Some((from, to, grupo)) = period(rule, data) else {
        return Ok(None);
    };
    let last = to + chrono::Days::new(ISSUED_AFTER_DAYS);
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT folio, data FROM documents WHERE office_code = $1 AND form = $2 AND status = 'emitido' \
         AND issued_on >= $3 AND issued_on <= $4",
    )
    .bind(office_code)
    .bind(LISTA_FORM)
    .bind(from.to_string())
    .bind(last.to_string())
    .fetch_all(&mut **tx)
    .await?;
    let listas = rows
        .into_iter()
        .map(|(folio, data)| (folio, serde_json::from_str(&data).unwrap_or(Value::Null)));
    Ok(Some(tally(listas, (from, to), grupo.as_deref())))
}

/// `data` with what the archive counted recorded in it, and the typed rows
/// that carry the same numbers set to them: an informe final's
/// `resultados_cuantitativos` rows named as the archive names its counts
/// take its `alcanzado`; any other row about sessions or attendance, and a
/// reporte de actividades' row whose evidence is a lista not counted or
/// with other attendance, is refused by its field.
pub(crate) fn recorded(data: &Value, counts: &Counts) -> Result<Value, Problems> {
    let Value::Object(fields) = data else {
        return Ok(data.clone());
    };
    let mut fields = fields.clone();
    let mut problems = Vec::new();
    if let Some(Value::Array(rows)) = fields.get_mut("resultados_cuantitativos") {
        let achieved = [counts.sesiones.len(), counts.asistencias, counts.personas];
        for (i, row) in rows.iter_mut().enumerate() {
            let indicador = row
                .get("indicador")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .trim()
                .to_owned();
            match COUNTED_ROWS
                .iter()
                .position(|name| fold(&indicador).starts_with(&fold(name)))
            {
                Some(which) => row["alcanzado"] = json!(achieved[which]),
                None if ["sesion", "asisten"].iter().any(|w| fold(&indicador).contains(w)) => {
                    problems.push(Problem {
                        path: format!("resultados_cuantitativos[{i}].indicador"),
                        message: format!(
                            "«{indicador}»: las sesiones y la asistencia las cuenta el archivo al emitir, de las \
                             listas de asistencia vigentes del periodo; escriba la fila como «{}», «{}» o «{}» \
                             (lo alcanzado lo pone el archivo) o quítela",
                            COUNTED_ROWS[0], COUNTED_ROWS[1], COUNTED_ROWS[2]
                        ),
                    });
                }
                None => {}
            }
        }
    }
    if let Some(Value::Array(rows)) = fields.get("actividades") {
        for (i, row) in rows.iter().enumerate() {
            let evidence = row
                .get("evidencia")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .trim();
            let Some(folio) = evidence.strip_prefix("Lista de asistencia ") else {
                continue;
            };
            let folio = folio.trim();
            let said = row.get("participantes").and_then(Value::as_u64);
            match counts.sesiones.iter().find(|s| s.folio == folio) {
                None => problems.push(Problem {
                    path: format!("actividades[{i}].evidencia"),
                    message: format!(
                        "la lista de asistencia {folio} no es una lista vigente de esta oficina con sesión en \
                         el periodo{}; no se cita como evidencia",
                        counts.grupo.as_ref().map(|g| format!(" y del grupo «{g}»")).unwrap_or_default()
                    ),
                }),
                Some(session) if said != Some(session.asistentes as u64) => problems.push(Problem {
                    path: format!("actividades[{i}].participantes"),
                    message: format!(
                        "la lista de asistencia {folio} registra {} asistentes; escriba ese número",
                        session.asistentes
                    ),
                }),
                Some(_) => {}
            }
        }
    }
    if !problems.is_empty() {
        return Err(Problems(problems));
    }
    fields.insert(COUNT_RECORD_FIELD.to_owned(), record(counts));
    Ok(Value::Object(fields))
}

/// What a report stores and prints of the count: the listas counted, each
/// by its folio, and their sums.
fn record(counts: &Counts) -> Value {
    json!({
        "sesiones": counts.sesiones.len(),
        "asistencias": counts.asistencias,
        "personas": counts.personas,
        "listas": counts.sesiones.iter().map(|s| json!({
            "folio": s.folio,
            "fecha": s.fecha,
            "asistentes": s.asistentes,
        })).collect::<Vec<_>>(),
        "grupo": counts.grupo,
    })
}
