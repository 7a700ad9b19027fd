//! Fields that name who signs or approves a document (`director_nombre`,
//! `contador_cargo`, `fecha_aprobacion`) are filled from the accounts that
//! took those steps of its workflow, so what is stored and printed names
//! who really signed, and when.

use serde_json::Value;

use super::spec::{FormSpec, SignerValue};

/// Someone who took a `firma` or `visado` step.
#[derive(Debug, Clone, Copy)]
pub struct StepTaker<'a> {
    /// The step's id.
    pub step: &'a str,
    pub name: &'a str,
    pub cargo: &'a str,
    /// When, RFC 3339; only its day is used.
    pub at: &'a str,
}

/// `data` with every field declared `filled_by` a step in `taken` set from
/// the account that took it. Fields of steps nobody took keep what was
/// typed: on paper, they name who signs by hand.
pub fn fill_signers(form: &FormSpec, data: &Value, taken: &[StepTaker<'_>]) -> Value {
    let mut filled = data.clone();
    let Some(object) = filled.as_object_mut() else {
        return filled;
    };
    for field in &form.fields {
        let Some(by) = &field.filled_by else { continue };
        let Some(taker) = taken.iter().rev().find(|t| t.step == by.step) else {
            continue;
        };
        let value = match by.value {
            SignerValue::Nombre => taker.name,
            SignerValue::Cargo => taker.cargo,
            SignerValue::Fecha => taker.at.get(..10).unwrap_or_default(),
        };
        if value.trim().is_empty() {
            object.remove(&field.name);
        } else {
            object.insert(field.name.clone(), Value::String(value.to_owned()));
        }
    }
    filled
}

/// Whether a field is filled from an account rather than typed.
pub fn is_filled_by_account(form: &FormSpec, name: &str) -> bool {
    form.fields
        .iter()
        .any(|f| f.name == name && f.filled_by.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::Catalog;

    fn oficio() -> FormSpec {
        let catalog = Catalog::load(std::path::Path::new("forms")).expect("catálogo");
        catalog
            .get("oficio-autorizacion-apoyo")
            .expect("oficio-autorizacion-apoyo")
            .clone()
    }

    #[test]
    fn the_accounts_that_took_the_steps_replace_what_the_clerk_typed() {
        let form = oficio();
        let data = serde_json::json!({
            "director_nombre": "Mtra. Guadalupe Torres Medina",
            "contador_nombre": "C.P. Ricardo Zúñiga Moreno",
            "monto": 985.5,
        });
        let taken = [
            StepTaker {
                step: "aprobacion-presupuesto",
                name: "Raúl Contador",
                cargo: "Contador",
                at: "2026-11-30T10:00:00-06:00",
            },
            StepTaker {
                step: "autorizacion",
                name: "Guadalupe Directora",
                cargo: "Directora",
                at: "2026-12-01T09:00:00-06:00",
            },
        ];
        let filled = fill_signers(&form, &data, &taken);
        assert_eq!(filled["director_nombre"], "Guadalupe Directora");
        assert_eq!(filled["director_cargo"], "Directora");
        assert_eq!(filled["contador_nombre"], "Raúl Contador");
        assert_eq!(filled["fecha_aprobacion"], "2026-11-30");
        assert_eq!(filled["monto"], 985.5);
    }

    #[test]
    fn a_step_nobody_took_keeps_the_name_typed_for_the_paper() {
        let form = oficio();
        let data = serde_json::json!({ "director_nombre": "Mtra. Guadalupe Torres Medina" });
        let filled = fill_signers(&form, &data, &[]);
        assert_eq!(filled, data);
    }
}
