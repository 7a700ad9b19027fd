//! The Programa Familias rules (seed 001, session S1) that need code:
//! the family's composition, the order of precedence for the recipient of
//! cash transfers, and the adult representative.

use serde_json::Value;

use super::rules::{age_at, normalize_id};
use super::validate::Problem;

const HEAD: &str = "Jefe(a) de hogar";
const ONLY_MINORS: &str = "Familia integrada solo por menores adultos";

/// A member of the family as the caracterización lists them.
struct Member<'a> {
    name: &'a str,
    id: String,
    age: Option<i32>,
    woman: bool,
    head: bool,
}

fn members<'a>(data: &'a Value, on: &str) -> Vec<Member<'a>> {
    let rows = data
        .get("integrantes")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    rows.iter()
        .map(|row| {
            let person = row.get("integrante");
            Member {
                name: person
                    .and_then(|p| p.get("nombre"))
                    .and_then(Value::as_str)
                    .unwrap_or(""),
                id: person
                    .and_then(|p| p.get("identificacion"))
                    .and_then(Value::as_str)
                    .map(normalize_id)
                    .unwrap_or_default(),
                age: row
                    .get("fecha_nacimiento")
                    .and_then(Value::as_str)
                    .and_then(|b| age_at(b, on)),
                woman: row.get("sexo").and_then(Value::as_str) == Some("Mujer"),
                head: row.get("parentesco").and_then(Value::as_str) == Some(HEAD),
            }
        })
        .collect()
}

fn person_id(data: &Value, field: &str) -> Option<String> {
    data.get(field)?.get("identificacion")?.as_str().map(normalize_id)
}

fn problem(path: &str, message: String) -> Problem {
    Problem {
        path: path.to_owned(),
        message,
    }
}

/// Counts by age agree with the members; one head of household, of the sex
/// declared; a one-person family is "Unipersonal"; the representative and
/// the recipient are members; the representative is an adult unless the
/// family is made only of minors.
pub(super) fn composicion(data: &Value, found: &mut Vec<Problem>) {
    let Some(on) = data.get("fecha_aplicacion").and_then(Value::as_str) else {
        return;
    };
    let members = members(data, on);
    if members.is_empty() || members.iter().any(|m| m.age.is_none()) {
        return;
    }
    let adults = members.iter().filter(|m| m.age >= Some(18)).count() as i64;
    let minors = members.len() as i64 - adults;
    for (field, expected, what) in [
        ("integrantes_18_mas", adults, "integrantes de 18 años o más"),
        ("integrantes_nna", minors, "niños, niñas y adolescentes"),
        ("integrantes_total", members.len() as i64, "integrantes en total"),
    ] {
        if let Some(declared) = data.get(field).and_then(Value::as_i64)
            && declared != expected
        {
            found.push(problem(field, format!("dice {declared}, pero la lista de integrantes tiene {expected} {what} a la fecha de aplicación")));
        }
    }
    let heads: Vec<&Member> = members.iter().filter(|m| m.head).collect();
    match heads.as_slice() {
        [head] => {
            let declared = data.get("jefatura_hogar").and_then(Value::as_str);
            let actual = if head.woman { "Mujer" } else { "Hombre" };
            if declared.is_some_and(|d| d != actual) {
                found.push(problem(
                    "jefatura_hogar",
                    format!(
                        "dice «{}», pero el jefe(a) de hogar de la lista ({}) es {}",
                        declared.unwrap_or(""),
                        head.name,
                        actual.to_lowercase()
                    ),
                ));
            }
        }
        _ => found.push(problem(
            "integrantes",
            format!(
                "debe haber exactamente un integrante con parentesco «{HEAD}»; hay {}",
                heads.len()
            ),
        )),
    }
    let unipersonal = data.get("tipo_familia").and_then(Value::as_str) == Some("Unipersonal");
    if unipersonal != (members.len() == 1) {
        let message = if unipersonal {
            format!(
                "una familia «Unipersonal» tiene un solo integrante; la lista tiene {}",
                members.len()
            )
        } else {
            "una familia de un solo integrante es «Unipersonal»".to_owned()
        };
        found.push(problem("tipo_familia", message));
    }
    for (field, who) in [
        ("representante", "El representante"),
        ("cobrador", "El cobrador de transferencias"),
    ] {
        if let Some(id) = person_id(data, field)
            && !members.iter().any(|m| m.id == id)
        {
            found.push(problem(
                &format!("{field}.identificacion"),
                format!("{who} debe ser uno de los integrantes de la familia (su RUN no está en la lista)"),
            ));
        }
    }
    let all_minors = adults == 0;
    if let Some(representative) =
        person_id(data, "representante").and_then(|id| members.iter().find(|m| m.id == id))
        && representative.age < Some(18)
        && !all_minors
    {
        found.push(problem(
                "representante",
                format!("el representante familiar debe ser mayor de edad ({} tiene {} años); solo un menor adulto puede serlo si la familia está integrada solo por menores adultos", representative.name, representative.age.unwrap_or(0)),
            ));
    }
}

/// The recipient of cash transfers by the order of precedence a–e: an
/// impossible choice is an error; a skipped letter, a warning (only the
/// office knows whether the women of the family meet a–c).
pub(super) fn prelacion(data: &Value, found: &mut Vec<Problem>, skipped: &mut Vec<Problem>) {
    let Some(on) = data.get("fecha_aplicacion").and_then(Value::as_str) else {
        return;
    };
    let members = members(data, on);
    let Some(recipient) = person_id(data, "cobrador").and_then(|id| members.iter().find(|m| m.id == id))
    else {
        return;
    };
    let Some(letter) = data
        .get("criterio_cobrador")
        .and_then(Value::as_str)
        .and_then(|c| c.chars().next())
    else {
        return;
    };
    let adult = |m: &Member| m.age >= Some(18);
    let all_minors = !members.iter().any(adult);

    if !adult(recipient) && !all_minors {
        found.push(problem(
            "cobrador",
            format!("Regla de prelación: el cobrador debe ser mayor de edad ({} tiene {} años); un menor solo cobra si la familia está integrada solo por menores adultos", recipient.name, recipient.age.unwrap_or(0)),
        ));
    }
    if matches!(letter, 'a' | 'b' | 'c') && !recipient.woman {
        found.push(problem("criterio_cobrador", format!("Regla de prelación: la letra «{letter}» corresponde a una mujer, y {} está registrado como hombre", recipient.name)));
    }
    let adult_women: Vec<&str> = members
        .iter()
        .filter(|m| m.woman && adult(m))
        .map(|m| m.name)
        .collect();
    if matches!(letter, 'd' | 'e') && !adult_women.is_empty() {
        skipped.push(problem(
            "criterio_cobrador",
            format!("Regla de prelación: se aplicó la letra «{letter}», pero en la familia hay mujeres mayores de edad ({}); las letras a, b y c tienen preferencia. Confirme que ninguna cumple esas condiciones", adult_women.join(", ")),
        ));
    }
    let adult_male_head = members.iter().find(|m| m.head && !m.woman && adult(m));
    if let (Some(head), 'e') = (adult_male_head, letter) {
        skipped.push(problem("criterio_cobrador", format!("Regla de prelación: se aplicó la letra «e», pero el jefe de familia ({}) es un hombre mayor de edad, que tiene preferencia (letra d)", head.name)));
    }
}

/// The representative who signs the carta de compromiso is an adult,
/// unless the family is made only of minors (reglamento N°34).
pub(super) fn representante_adulto(data: &Value, found: &mut Vec<Problem>) {
    let (Some(birth), Some(on)) = (
        data.get("representante_fecha_nacimiento").and_then(Value::as_str),
        data.get("fecha_firma").and_then(Value::as_str),
    ) else {
        return;
    };
    let Some(age) = age_at(birth, on) else { return };
    let only_minors = data.get("criterio_representante").and_then(Value::as_str) == Some(ONLY_MINORS);
    if age < 18 && !only_minors {
        found.push(problem(
            "representante_fecha_nacimiento",
            format!("el representante familiar debe ser mayor de edad (tiene {age} años a la fecha de firma); un menor solo puede firmar si la familia está integrada solo por menores adultos (reglamento N°34)"),
        ));
    }
    if age >= 18 && only_minors {
        found.push(problem(
            "criterio_representante",
            format!("dice «{ONLY_MINORS}», pero el representante tiene {age} años"),
        ));
    }
}
