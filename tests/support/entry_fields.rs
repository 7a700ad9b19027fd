//! A form's data as the staff app's entry form posts it: each value under
//! its validation path (`comisionados[2].nombre`, rows counted from 1).
//! Shared by the test crates that drive the entry form.

use serde_json::Value;

pub fn entry_fields(data: &Value) -> Vec<(String, String)> {
    fn walk(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
        match value {
            Value::Object(fields) => {
                for (name, value) in fields {
                    let path = if prefix.is_empty() {
                        name.clone()
                    } else {
                        format!("{prefix}.{name}")
                    };
                    walk(&path, value, out);
                }
            }
            Value::Array(rows) => {
                for (i, row) in rows.iter().enumerate() {
                    walk(&format!("{prefix}[{}]", i + 1), row, out);
                }
            }
            Value::String(text) => out.push((prefix.to_owned(), text.clone())),
            other => out.push((prefix.to_owned(), other.to_string())),
        }
    }
    let mut out = Vec::new();
    walk("", data, &mut out);
    out
}
