//! The rules the seeds state across fields: each one refuses (or warns
//! about) data that breaks it, naming the field and the rule.

use serde_json::{Value, json};

use crate::helpers::{example, form, issue_day};
use sello::forms::{Problems, validate, warnings};

fn refused(id: &str, data: &Value) -> Problems {
    validate(form(id), data, issue_day()).expect_err("the rule should refuse this data")
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
fn family_counts_must_agree_with_the_list_of_members() {
    let mut data = example("caracterizacion-familia");
    data["integrantes_18_mas"] = json!(4);
    data["integrantes_nna"] = json!(2);
    let problems = refused("caracterizacion-familia", &data);
    assert!(message_at(&problems, "integrantes_18_mas").contains("3 integrantes de 18 años o más"));
    assert!(message_at(&problems, "integrantes_nna").contains("3 niños"));

    let mut data = example("caracterizacion-familia");
    data["integrantes_total"] = json!(7);
    assert!(
        message_at(&refused("caracterizacion-familia", &data), "integrantes_total").contains("6 integrantes")
    );

    // A member whose birth date makes them 17 changes the counts.
    let mut data = example("caracterizacion-familia");
    data["integrantes"][2]["fecha_nacimiento"] = json!("2009-12-01");
    let problems = refused("caracterizacion-familia", &data);
    assert!(
        problems.mentions("integrantes_18_mas") && problems.mentions("integrantes_nna"),
        "{problems:?}"
    );
}

#[test]
fn family_type_is_one_of_the_five_and_fits_the_members() {
    let mut data = example("caracterizacion-familia");
    data["tipo_familia"] = json!("Nuclear");
    assert!(message_at(&refused("caracterizacion-familia", &data), "tipo_familia").contains("Unipersonal"));
    data["tipo_familia"] = json!("Unipersonal");
    assert!(
        message_at(&refused("caracterizacion-familia", &data), "tipo_familia").contains("un solo integrante")
    );
}

#[test]
fn there_is_exactly_one_head_of_household_of_the_declared_sex() {
    let mut data = example("caracterizacion-familia");
    data["integrantes"][1]["parentesco"] = json!("Jefe(a) de hogar");
    assert!(
        message_at(&refused("caracterizacion-familia", &data), "integrantes")
            .contains("exactamente un integrante")
    );
    let mut data = example("caracterizacion-familia");
    data["jefatura_hogar"] = json!("Hombre");
    assert!(message_at(&refused("caracterizacion-familia", &data), "jefatura_hogar").contains("mujer"));
}

#[test]
fn the_cash_transfer_recipient_follows_the_order_of_precedence() {
    let id = "caracterizacion-familia";
    let letter = |l: &str| {
        let criteria = match &form(id)
            .fields
            .iter()
            .find(|f| f.name == "criterio_cobrador")
            .expect("field")
            .kind
        {
            sello::forms::FieldType::Enum { values } => values.clone(),
            _ => unreachable!("criterio_cobrador is an enum"),
        };
        criteria.into_iter().find(|v| v.starts_with(l)).expect("letter")
    };
    // The example follows the rule: no warning.
    assert!(warnings(form(id), &example(id), issue_day()).is_empty());

    // Skipping to "d" while adult women are in the family: a warning naming the rule.
    let mut data = example(id);
    data["criterio_cobrador"] = json!(letter("d."));
    assert!(
        validate(form(id), &data, issue_day()).is_ok(),
        "a skipped precedence warns, it does not refuse"
    );
    let found = warnings(form(id), &data, issue_day());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].path, "criterio_cobrador");
    assert!(
        found[0].message.contains("Regla de prelación") && found[0].message.contains("Carolina"),
        "{}",
        found[0].message
    );

    // Letter "a" names a woman: a man as recipient contradicts it.
    let mut data = example(id);
    data["cobrador"] = data["integrantes"][1]["integrante"].clone();
    assert!(message_at(&refused(id, &data), "criterio_cobrador").contains("corresponde a una mujer"));

    // A minor collects only in a family of minors.
    let mut data = example(id);
    data["cobrador"] = data["integrantes"][4]["integrante"].clone();
    assert!(message_at(&refused(id, &data), "cobrador").contains("mayor de edad"));

    // The recipient must be a member.
    let mut data = example(id);
    data["cobrador"] = json!({"nombre": "Persona Ajena", "identificacion": "12.345.678-5"});
    assert!(refused(id, &data).mentions("cobrador.identificacion"));
}

#[test]
fn the_representative_who_signs_the_carta_is_an_adult_unless_all_are_minors() {
    let id = "carta-compromiso";
    let mut data = example(id);
    data["representante_fecha_nacimiento"] = json!("2010-03-01");
    let message = message_at(&refused(id, &data), "representante_fecha_nacimiento");
    assert!(
        message.contains("mayor de edad") && message.contains("16 años"),
        "{message}"
    );
    data["criterio_representante"] = json!("Familia integrada solo por menores adultos");
    assert!(
        validate(form(id), &data, issue_day()).is_ok(),
        "a family of minors may be represented by a minor"
    );
    data["representante_fecha_nacimiento"] = json!("1980-01-01");
    assert!(refused(id, &data).mentions("criterio_representante"));
}

#[test]
fn the_plan_familiar_covers_the_five_wellbeing_dimensions() {
    let id = "plan-familiar-desarrollo";
    let mut data = example(id);
    let rows: Vec<Value> = data["compromisos"]
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| r["dimension"] != "Salud")
        .cloned()
        .collect();
    data["compromisos"] = Value::Array(rows);
    let message = message_at(&refused(id, &data), "compromisos");
    assert!(
        message.contains("cinco dimensiones") && message.contains("faltan: Salud"),
        "{message}"
    );
}

#[test]
fn the_plan_laboral_records_one_of_three_outcomes() {
    let mut data = example("plan-laboral");
    data["desenlace"] = json!("emprendedor");
    let message = message_at(&refused("plan-laboral", &data), "desenlace");
    assert!(
        message.contains("dependiente") && message.contains("independiente") && message.contains("mixto"),
        "{message}"
    );
}

#[test]
fn an_attendance_list_has_at_least_one_attendee() {
    let mut data = example("lista-asistencia");
    data["asistentes"] = json!([]);
    assert!(refused("lista-asistencia", &data).mentions("asistentes"));
}

#[test]
fn every_padron_row_has_name_address_service_and_date() {
    for column in ["nombre", "domicilio", "servicio", "fecha"] {
        let mut data = example("padron-beneficiarios");
        data["beneficiarios"][2]
            .as_object_mut()
            .expect("row")
            .remove(column);
        assert!(
            refused("padron-beneficiarios", &data).mentions(&format!("beneficiarios[3].{column}")),
            "{column}"
        );
    }
}

#[test]
fn dates_and_times_go_in_order() {
    let mut data = example("informe-final");
    data["periodo_fin"] = json!("2026-07-31");
    let message = message_at(&refused("informe-final", &data), "periodo_fin");
    assert!(
        message.contains("no puede ser anterior a «Inicio del periodo»"),
        "{message}"
    );

    let mut data = example("lista-asistencia");
    data["hora_fin"] = data["hora_inicio"].clone();
    assert!(message_at(&refused("lista-asistencia", &data), "hora_fin").contains("debe ser posterior"));

    let mut data = example("plan-trabajo");
    data["actividades"][1]["fecha_fin"] = json!("2020-01-01");
    assert!(refused("plan-trabajo", &data).mentions("actividades[2].fecha_fin"));
}

#[test]
fn sums_uniqueness_and_conditional_fields() {
    let mut data = example("diagnostico-situacional");
    data["mujeres"] = json!(data["mujeres"].as_i64().expect("int") + 1);
    assert!(message_at(&refused("diagnostico-situacional", &data), "poblacion_total").contains("suman"));

    let mut data = example("reporte-semanal-oficios");
    data["oficios"][1]["folio"] = data["oficios"][0]["folio"].clone();
    let message = message_at(&refused("reporte-semanal-oficios", &data), "oficios[2].folio");
    assert!(
        message.contains("Un folio nunca se repite") && message.contains("fila 1"),
        "{message}"
    );

    let mut data = example("plan-intervencion");
    data["trayectoria"] = json!("APS + ASL");
    data.as_object_mut().expect("object").remove("participantes_asl");
    assert!(message_at(&refused("plan-intervencion", &data), "participantes_asl").contains("APS + ASL"));
}
