//! Where a document is filed, from its form and data: its expediente
//! (declared in the form's `[expediente]`, or else the office's
//! administrative one for the series and year) and the persons it names.

use serde_json::Value;

use crate::forms::{ExpedienteKind, FieldType, FormSpec};

/// An expediente as found from a document's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpedienteRef {
    pub kind: &'static str,
    pub key: String,
    pub title: String,
}

/// A person named in a document, with the field that names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedPerson {
    pub role: String,
    pub name: String,
    /// Normalised: upper case, without dots or spaces.
    pub identity: String,
}

/// The expediente a document of `form` with `data` belongs to.
pub fn expediente_of(form: &FormSpec, data: &Value, series_name: &str, year: i32) -> ExpedienteRef {
    let declared = form.expediente.as_ref().and_then(|rule| {
        let field = data.get(&rule.key)?;
        let (key, name) = match field {
            Value::String(text) if !text.trim().is_empty() => (text.trim().to_owned(), None),
            Value::Object(person) => {
                let identity = person.get("identificacion").and_then(Value::as_str)?;
                let name = person.get("nombre").and_then(Value::as_str).map(str::to_owned);
                (normal_identity(identity), name)
            }
            _ => return None,
        };
        if key.is_empty() {
            return None;
        }
        let title = rule
            .title
            .as_ref()
            .and_then(|t| data.get(t))
            .and_then(|v| v.as_str().or_else(|| v.get("nombre").and_then(Value::as_str)))
            .map(str::to_owned)
            .or(name)
            .unwrap_or_else(|| format!("{} {key}", label(rule.kind)));
        Some(ExpedienteRef {
            kind: rule.kind.as_str(),
            key,
            title,
        })
    });
    declared.unwrap_or_else(|| ExpedienteRef {
        kind: "administrativo",
        key: format!("{}/{year}", form.family.label()),
        title: format!("{series_name} {year}"),
    })
}

fn label(kind: ExpedienteKind) -> &'static str {
    match kind {
        ExpedienteKind::Familia => "Familia",
        ExpedienteKind::Persona => "Persona",
        ExpedienteKind::Grupo => "Grupo",
        ExpedienteKind::Comunidad => "Comunidad",
        ExpedienteKind::Programa => "Programa",
    }
}

/// Every person of the case with an identity number in the data, top-level
/// person fields and person columns of tables alike: the people the
/// document concerns, not the office's staff it names (`staff`).
pub fn persons_in(form: &FormSpec, data: &Value) -> Vec<NamedPerson> {
    let of_the_case = |kind: &FieldType| matches!(kind, FieldType::Person { staff: false, .. });
    let mut persons = Vec::new();
    for field in &form.fields {
        match &field.kind {
            kind if of_the_case(kind) => push_person(&mut persons, field.name.clone(), data.get(&field.name)),
            FieldType::List { columns, .. } => {
                let rows = data.get(&field.name).and_then(Value::as_array);
                for (i, row) in rows.into_iter().flatten().enumerate() {
                    for column in columns.iter().filter(|c| of_the_case(&c.kind)) {
                        let role = format!("{}[{}].{}", field.name, i + 1, column.name);
                        push_person(&mut persons, role, row.get(&column.name));
                    }
                }
            }
            _ => {}
        }
    }
    persons
}

fn push_person(persons: &mut Vec<NamedPerson>, role: String, value: Option<&Value>) {
    let Some(person) = value else { return };
    let identity = person
        .get("identificacion")
        .and_then(Value::as_str)
        .map(normal_identity);
    let name = person.get("nombre").and_then(Value::as_str).unwrap_or("").trim();
    if let Some(identity) = identity.filter(|i| !i.is_empty()) {
        persons.push(NamedPerson {
            role,
            name: name.to_owned(),
            identity,
        });
    }
}

/// Upper case without dots or spaces, so «15.432.876-9» and «15432876-9»
/// are the same person.
pub fn normal_identity(identity: &str) -> String {
    identity
        .chars()
        .filter(|c| !matches!(c, '.' | ' ' | '\u{a0}'))
        .flat_map(char::to_uppercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_are_compared_without_dots_or_case() {
        assert_eq!(normal_identity("15.432.876-9"), "15432876-9");
        assert_eq!(normal_identity("goma850101hslrnr09"), "GOMA850101HSLRNR09");
        assert_eq!(normal_identity(" 8-123-456 "), "8-123-456");
    }
}
