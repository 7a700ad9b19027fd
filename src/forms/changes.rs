//! What changed between two versions of a document's data, as a person
//! reads it in a history: the labels of the fields whose values differ,
//! never the values (histories and logs carry no personal data).

use serde_json::Value;

use super::FormSpec;

/// The labels of the top-level fields of `form` whose value differs
/// between `before` and `after`, in the form's order. A field left empty
/// and one that is missing are the same.
pub fn changed_fields(form: &FormSpec, before: &Value, after: &Value) -> Vec<String> {
    let value =
        |data: &Value, name: &str| -> Option<Value> { data.get(name).filter(|v| !is_empty(v)).cloned() };
    form.fields
        .iter()
        .filter(|field| value(before, &field.name) != value(after, &field.name))
        .map(|field| field.label.clone())
        .collect()
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.trim().is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(fields) => fields.values().all(is_empty),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_change_names_the_fields_by_their_labels_and_nothing_else() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("forms");
        let catalog = crate::forms::Catalog::load(&root).expect("catalog");
        let form = catalog.get("oficio-autorizacion-apoyo").expect("form");
        let before = json!({"monto": "985.50", "proveedor": "Óptica A", "apoyo": "Lentes", "partida": ""});
        let after =
            json!({"monto": "900.00", "proveedor": "Óptica A", "apoyo": "Lentes", "observaciones": " "});
        assert_eq!(changed_fields(form, &before, &after), ["Monto autorizado"]);
        assert!(changed_fields(form, &before, &before).is_empty());
    }
}
