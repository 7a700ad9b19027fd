//! `sello forms` and `sello forms show <id>`.

use std::fmt::Write as _;

use clap::{Args, Subcommand};

use super::{Failure, find_form, load_catalog};
use crate::config::Config;
use crate::forms::{FieldSpec, FieldType, FormSpec, Rule};

#[derive(Debug, Args)]
pub struct FormsArgs {
    /// Salida en JSON, para programas
    #[arg(long)]
    json: bool,
    #[command(subcommand)]
    action: Option<FormsAction>,
}

#[derive(Debug, Subcommand)]
enum FormsAction {
    /// Muestra los campos de un formulario y el criterio que cumple cada uno
    Show {
        /// Identificador del formulario, como «oficio-comision»
        id: String,
        /// Salida en JSON, para programas
        #[arg(long)]
        json: bool,
    },
}

pub fn run(config: &Config, args: FormsArgs) -> Result<(), Failure> {
    let catalog = load_catalog(config)?;
    match args.action {
        None if args.json => {
            let list: Vec<_> = catalog
                .iter()
                .map(|f| serde_json::json!({"id": f.id, "family": f.family, "title": f.title}))
                .collect();
            print_json(&list)
        }
        None => {
            let width = catalog.iter().map(|f| f.id.as_str().len()).max().unwrap_or(0);
            for form in catalog.iter() {
                println!("{:width$}  {:8}  {}", form.id, form.family.label(), form.title);
            }
            Ok(())
        }
        Some(FormsAction::Show { id, json }) => {
            let form = find_form(&catalog, &id)?;
            if json || args.json {
                print_json(form)
            } else {
                print!("{}", describe(form));
                Ok(())
            }
        }
    }
}

fn print_json(value: &impl serde::Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Failure::Internal(e.into()))?;
    println!("{text}");
    Ok(())
}

/// The form as a clerk or template author reads it.
fn describe(form: &FormSpec) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} — {} ({})", form.id, form.title, form.family.label());
    let _ = writeln!(out, "Origen: {}", form.seed);
    if !form.description.is_empty() {
        let _ = writeln!(out, "{}", form.description);
    }
    for criterion in &form.criteria {
        let _ = writeln!(out, "Cumple: {criterion}");
    }
    let _ = writeln!(out, "\nCampos:");
    describe_fields(&mut out, &form.fields, "  ");
    if !form.rules.is_empty() {
        let _ = writeln!(out, "\nReglas:");
        for declared in &form.rules {
            let kind = if declared.warning { "aviso" } else { "regla" };
            let _ = writeln!(out, "  [{kind}] {}", describe_rule(&declared.rule));
        }
    }
    if let Some(rule) = &form.expediente {
        let names = |list: &[crate::forms::CitedForm]| {
            list.iter()
                .map(|f| f.name().to_owned())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let order = [
            (
                "requiere que el expediente tenga vigente alguno de",
                &rule.requires,
            ),
            ("no se emite si el expediente tiene vigente", &rule.excludes),
            (
                "va después de (vigente y emitido antes o el mismo día)",
                &rule.after,
            ),
        ];
        if order.iter().any(|(_, list)| !list.is_empty()) {
            let _ = writeln!(out, "\nOrden del expediente:");
            for (what, list) in order.iter().filter(|(_, list)| !list.is_empty()) {
                let _ = writeln!(out, "  {what}: {}", names(list));
            }
        }
    }
    out
}

fn describe_rule(rule: &Rule) -> String {
    match rule {
        Rule::Order { fields, strict } => {
            let relation = if *strict { "estrictamente en orden" } else { "en orden" };
            format!("{} van {relation}", fields.join(" ≤ "))
        }
        Rule::NotBeforeIssue { fields, days } => format!(
            "{} no son anteriores a la fecha de emisión{}",
            fields.join(", "),
            days.map_or(String::new(), |d| format!(" ni posteriores en más de {d} días"))
        ),
        Rule::NotAfterIssue { fields, days } => format!(
            "{} no son posteriores a la fecha de emisión{}",
            fields.join(", "),
            days.map_or(String::new(), |d| format!(" ni anteriores en más de {d} días"))
        ),
        Rule::Sum { fields, equals } => format!("{} suman {equals}", fields.join(" + ")),
        Rule::Count { list, equals } => format!("{equals} es el número de filas de {list}"),
        Rule::Covers { list, column } => format!("{list} incluye todas las opciones de {column}"),
        Rule::RequiredIf { field, when, is } => format!("{field} es obligatorio cuando {when} es «{is}»"),
        Rule::Unique { list, column } => format!("{column} no se repite en {list}"),
        Rule::ComposicionFamiliar => {
            "las cifras de integrantes coinciden con la lista; un jefe(a) de hogar; representante y cobrador son integrantes".into()
        }
        Rule::PrelacionCobrador => "el cobrador de transferencias sigue el orden de prelación a–e (avisa si se salta una letra)".into(),
        Rule::RepresentanteAdulto => "el representante es mayor de edad, salvo familia integrada solo por menores adultos".into(),
    }
}

fn describe_fields(out: &mut String, fields: &[FieldSpec], indent: &str) {
    for field in fields {
        let required = if field.required { "obligatorio" } else { "opcional" };
        let _ = writeln!(
            out,
            "{indent}{} — {} [{}{}, {required}]",
            field.name,
            field.label,
            field.kind.label(),
            limits(&field.kind)
        );
        if let Some(criterion) = &field.criterion {
            let _ = writeln!(out, "{indent}    criterio: {criterion}");
        }
        if !field.help.is_empty() {
            let _ = writeln!(out, "{indent}    {}", field.help);
        }
        if let FieldType::List { columns, .. } = &field.kind {
            describe_fields(out, columns, &format!("{indent}    · "));
        }
    }
}

fn limits(kind: &FieldType) -> String {
    match kind {
        FieldType::Text { max_length, .. } | FieldType::LongText { max_length, .. } => {
            format!(", hasta {max_length} caracteres")
        }
        FieldType::Integer { min, max } => match (min, max) {
            (Some(min), Some(max)) => format!(", de {min} a {max}"),
            (Some(min), None) => format!(", desde {min}"),
            (None, Some(max)) => format!(", hasta {max}"),
            (None, None) => String::new(),
        },
        FieldType::Enum { values } => format!(": {}", values.join(" | ")),
        FieldType::Person { identity, .. } => {
            format!(", nombre e identificación ({identity:?})").to_lowercase()
        }
        FieldType::List {
            min_rows, max_rows, ..
        } => format!(", de {min_rows} a {max_rows} filas"),
        FieldType::Document { forms, share } => {
            let forms: Vec<&str> = forms.iter().map(|f| f.id.as_str()).collect();
            let share = match share {
                Some(crate::forms::Share::Expediente) => ", del mismo expediente",
                Some(crate::forms::Share::Persona) => ", de la misma persona",
                None => "",
            };
            format!(": folio de {}{share}", forms.join(" | "))
        }
        FieldType::Date | FieldType::Time | FieldType::Money { .. } => String::new(),
    }
}
