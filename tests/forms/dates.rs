//! Dates that make sense: among themselves, against the day the document
//! is issued, and within the years a person can mean.

use chrono::NaiveDate;
use serde_json::{Value, json};

use crate::helpers::{CATALOG, example, form, issue_day};
use sello::forms::{FieldType, IssueDate, Problems, validate};

fn day(iso: &str) -> NaiveDate {
    NaiveDate::parse_from_str(iso, "%Y-%m-%d").expect("a date")
}

fn on(iso: &str) -> IssueDate {
    IssueDate::On(day(iso))
}

fn refused(id: &str, data: &Value, when: IssueDate) -> Problems {
    validate(form(id), data, when).expect_err("these dates should be refused")
}

fn message_at(problems: &Problems, path: &str) -> String {
    problems
        .0
        .iter()
        .find(|p| p.path == path)
        .unwrap_or_else(|| panic!("no problem at {path}: {problems:?}"))
        .message
        .clone()
}

#[test]
fn an_oficio_dated_1_december_cannot_authorise_a_delivery_on_27_november() {
    let id = "oficio-autorizacion-apoyo";
    let mut data = example(id);
    data["fecha_entrega"] = json!("2026-11-27");
    let message = message_at(&refused(id, &data, on("2026-12-01")), "fecha_entrega");
    assert!(
        message.contains("«Fecha de entrega del apoyo» (27 de noviembre de 2026)")
            && message
                .contains("no puede ser anterior a la fecha de emisión del oficio (1 de diciembre de 2026)"),
        "{message}"
    );
    // The same oficio issued before the delivery says something true.
    assert!(validate(form(id), &data, on("2026-11-22")).is_ok());
    // Authorised before it was requested, quoted or approved: refused too.
    let mut data = example(id);
    data["fecha_aprobacion"] = json!("2026-12-02");
    data["fecha_entrega"] = json!("2026-12-09");
    let message = message_at(&refused(id, &data, on("2026-12-01")), "fecha_aprobacion");
    assert!(message.contains("no puede ser posterior"), "{message}");
}

#[test]
fn an_estrella_blanca_trip_is_one_still_to_make_within_the_year() {
    let id = "oficio-estrella-blanca";
    let mut data = example(id);
    data["fecha_viaje"] = json!("2020-03-10");
    data["fecha_cita"] = json!("2020-03-11");
    data["fecha_regreso"] = json!("2020-03-12");
    let problems = refused(id, &data, on("2026-12-01"));
    for path in ["fecha_viaje", "fecha_cita", "fecha_regreso"] {
        assert!(
            message_at(&problems, path).contains("no puede ser anterior"),
            "{path}"
        );
    }
    // 2062 for 2026: a typing mistake the window catches.
    let mut data = example(id);
    data["fecha_regreso"] = json!("2062-10-14");
    let message = message_at(&refused(id, &data, on("2026-12-01")), "fecha_regreso");
    assert!(
        message.contains("más de 365 días posterior") && message.contains("revise el año"),
        "{message}"
    );
    // Travelling back before the appointment, or to it after it, is refused.
    let mut data = example(id);
    data["fecha_cita"] = json!("2027-10-15");
    assert!(refused(id, &data, issue_day()).mentions("fecha_regreso"));
}

#[test]
fn a_protocolo_is_not_issued_before_it_is_approved() {
    let id = "protocolo-atencion";
    let mut data = example(id);
    data["fecha_aprobacion"] = json!("2027-03-20");
    let message = message_at(&refused(id, &data, on("2026-12-01")), "fecha_aprobacion");
    assert!(
        message.contains("(20 de marzo de 2027) no puede ser posterior a la fecha de emisión del acta (1 de diciembre de 2026)"),
        "{message}"
    );
    // Approved in March and issued in December: that happened in that order.
    assert!(validate(form(id), &example(id), on("2026-12-01")).is_ok());
}

#[test]
fn years_0001_and_9999_are_refused_on_every_date_field_of_every_form() {
    let mut checked = 0;
    for form in CATALOG.iter() {
        let id = form.id.as_str();
        for field in &form.fields {
            let paths: Vec<(Vec<String>, String)> = match &field.kind {
                FieldType::Date => vec![(vec![field.name.clone()], field.name.clone())],
                FieldType::List { columns, .. } => columns
                    .iter()
                    .filter(|c| matches!(c.kind, FieldType::Date))
                    .map(|c| {
                        (
                            vec![field.name.clone(), "0".into(), c.name.clone()],
                            format!("{}[1].{}", field.name, c.name),
                        )
                    })
                    .collect(),
                _ => Vec::new(),
            };
            for (keys, shown) in paths {
                for year in ["0001-01-01", "9999-12-31"] {
                    let mut data = example(id);
                    let mut slot = &mut data;
                    for key in &keys {
                        slot = match key.parse::<usize>() {
                            Ok(row) => slot
                                .get_mut(row)
                                .unwrap_or_else(|| panic!("{id}: the example has no row in {}", keys[0])),
                            Err(_) => &mut slot[key.as_str()],
                        };
                    }
                    *slot = json!(year);
                    let message = message_at(&refused(id, &data, issue_day()), &shown);
                    assert!(
                        message.contains(&format!("el año {}", &year[..4]))
                            && message.contains("entre los años 1900 y 2100"),
                        "{id} {shown}: {message}"
                    );
                    checked += 1;
                }
            }
        }
    }
    // Every form has dates; most have several.
    assert!(checked >= 2 * CATALOG.iter().count(), "only {checked} checked");
}

#[test]
fn a_draft_is_checked_against_today_and_the_document_when_it_is_issued() {
    // An attendance list is prepared before the meeting and issued once signed.
    let id = "lista-asistencia";
    let data = example(id); // meeting on 18 November 2026
    let before = IssueDate::NotBefore(day("2026-11-10"));
    assert!(
        validate(form(id), &data, before).is_ok(),
        "a draft may wait for the meeting"
    );
    let message = message_at(&refused(id, &data, on("2026-11-10")), "fecha");
    assert!(message.contains("no puede ser posterior"), "{message}");

    // A trip that has already gone is refused on the draft itself.
    let id = "oficio-comision";
    let mut data = example(id);
    data["fecha_evento"] = json!("2026-11-30");
    let message = message_at(
        &refused(id, &data, IssueDate::NotBefore(day("2026-12-01"))),
        "fecha_evento",
    );
    assert!(
        message.contains("ya pasó") && message.contains("hoy (1 de diciembre de 2026)"),
        "{message}"
    );
}

#[test]
fn session_agreements_and_births_follow_their_dates() {
    let id = "ficha-sesion-familiar";
    let mut data = example(id);
    data["acuerdos"][0]["plazo"] = json!("2026-11-01");
    assert!(refused(id, &data, issue_day()).mentions("acuerdos[1].plazo"));

    // Born after the instrument was applied: the order names the row.
    let id = "caracterizacion-familia";
    let mut data = example(id);
    data["integrantes"][0]["fecha_nacimiento"] = json!("2026-11-21");
    let message = message_at(&refused(id, &data, issue_day()), "fecha_aplicacion");
    assert!(
        message.contains("«Fecha de nacimiento» de la fila 1 (2026-11-21)"),
        "{message}"
    );
}

/// The service's tests issue these examples at the real date: when this
/// fails, the examples' future dates (event, trip, delivery, custody) have
/// come and must be moved forward.
#[test]
fn the_examples_issued_at_the_real_date_elsewhere_are_still_valid_today() {
    let today = IssueDate::issued(&chrono::Utc::now().with_timezone(&chrono_tz::America::Mexico_City));
    for id in [
        "oficio-comision",
        "oficio-estrella-blanca",
        "oficio-autorizacion-apoyo",
        "oficio-ayuda-funcional",
        "solicitud-apoyo",
        "reporte-semanal-oficios",
        "carta-compromiso",
    ] {
        if let Err(problems) = validate(form(id), &example(id), today) {
            panic!("{id}, issued today: {problems}");
        }
    }
}
