//! The pure half of a case's rules: what a citation, the expediente's
//! order and the persons' identifications say, given what the archive
//! found.

use super::Target;
use super::steps::{Found, InCase, KnownPerson};
use crate::archive::filing::NamedPerson;
use crate::archive::text::fold;
use crate::forms::{CitedForm, FieldSpec, FormSpec, Problem, Share};
use crate::render::CitedDocument;

/// One `documento` field's citation.
pub(super) struct Citation<'a> {
    pub field: &'a FieldSpec,
    pub folio: &'a str,
    pub forms: &'a [CitedForm],
    pub share: Option<Share>,
}

impl Citation<'_> {
    /// What is printed of the cited document, or why it may not be cited.
    pub fn judge(
        &self,
        found: Option<&Found>,
        replacement: Option<&str>,
        target: Target<'_>,
        persons: &[NamedPerson],
        shared_persons: &[String],
    ) -> Result<CitedDocument, String> {
        let (label, folio) = (&self.field.label, self.folio);
        let Some(found) = found.filter(|f| f.status != "reservado") else {
            return Err(format!(
                "«{label}»: el documento {folio} no está en el archivo de esta oficina ni se le \
                 compartió en una derivación; revise el folio (se citan documentos emitidos por la \
                 oficina o compartidos con ella)"
            ));
        };
        match found.status.as_str() {
            "anulado" => {
                return Err(format!(
                    "«{label}»: el documento {folio} está anulado; no se cita un documento anulado"
                ));
            }
            "reemplazado" => {
                let by = replacement
                    .map(|r| format!(" por el {r}; cite ese"))
                    .unwrap_or_default();
                return Err(format!("«{label}»: el documento {folio} fue reemplazado{by}"));
            }
            _ => {}
        }
        let Some(cited_form) = self.forms.iter().find(|f| f.id.as_str() == found.form) else {
            let wanted: Vec<&str> = self.forms.iter().map(CitedForm::name).collect();
            return Err(format!(
                "«{label}»: el documento {folio} es de otro formulario («{}»); aquí se cita: {}",
                found.form,
                wanted.join(", ")
            ));
        };
        match self.share {
            Some(Share::Expediente) if target.id != Some(found.expediente_id) => {
                return Err(format!(
                    "«{label}»: el documento {folio} es de otro expediente; debe ser del expediente \
                     «{}», el de este documento",
                    target.title
                ));
            }
            Some(Share::Persona)
                if !persons
                    .iter()
                    .any(|p| shared_persons.iter().any(|s| s == &p.identity)) =>
            {
                return Err(format!(
                    "«{label}»: el documento {folio} es de otra persona: no nombra a ninguna de las \
                     personas de este documento (por su identificación)"
                ));
            }
            _ => {}
        }
        Ok(CitedDocument {
            field: self.field.name.clone(),
            folio: folio.to_owned(),
            fecha: found.issued_on.clone(),
            formulario: cited_form.name().to_owned(),
        })
    }
}

/// What the expediente's current documents say against this one.
pub(super) fn order_problems(
    form: &FormSpec,
    rule: &crate::forms::ExpedienteRule,
    current: &[InCase],
    title: &str,
    issued_on: &str,
) -> Vec<Problem> {
    let whole = |message: String| Problem {
        path: String::new(),
        message,
    };
    fn of<'c>(current: &'c [InCase], wanted: &'c CitedForm) -> impl Iterator<Item = &'c InCase> {
        current.iter().filter(move |d| d.form == wanted.id.as_str())
    }
    // What is still being issued excludes (it may well be issued), but
    // does not yet count as issued before this one.
    let issued: Vec<InCase> = current
        .iter()
        .filter(|d| d.status == "emitido")
        .cloned()
        .collect();
    let mut problems = Vec::new();
    for excluded in &rule.excludes {
        for document in of(current, excluded) {
            let state = if document.status == "emitido" {
                "vigente"
            } else {
                "en emisión"
            };
            problems.push(whole(format!(
                "el expediente «{title}» ya tiene «{}» {state} (folio {}), que excluye «{}»; \
                 si aquel se emitió por error, anúlelo primero",
                excluded.name(),
                document.folio,
                form.title
            )));
        }
    }
    if !rule.requires.is_empty() && !rule.requires.iter().any(|r| of(&issued, r).next().is_some()) {
        let names: Vec<&str> = rule.requires.iter().map(CitedForm::name).collect();
        problems.push(whole(format!(
            "«{}» requiere que el expediente «{title}» tenga vigente: {}; no lo tiene",
            form.title,
            names.join(" o ")
        )));
    }
    for before in &rule.after {
        let earliest = of(&issued, before).map(|d| d.issued_on.as_str()).min();
        match earliest {
            None => problems.push(whole(format!(
                "«{}» va después de «{}», y el expediente «{title}» no la tiene vigente",
                form.title,
                before.name()
            ))),
            Some(day) if day > issued_on => problems.push(whole(format!(
                "«{}» va después de «{}», que en el expediente «{title}» es del {day}, \
                 posterior a la fecha de emisión ({issued_on})",
                form.title,
                before.name()
            ))),
            Some(_) => {}
        }
    }
    problems
}

/// A person named here with another identification than the same name
/// has in the expediente's current documents: the same family's member
/// with two RUNs is refused; a correction of the earlier document is how
/// an identification written wrong is changed.
pub(super) fn identity_problems(persons: &[NamedPerson], known: &[KnownPerson], title: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    for person in persons {
        let name = fold(&person.name);
        if name.is_empty() {
            continue;
        }
        let other = known
            .iter()
            .find(|k| k.identity != person.identity && fold(&k.name) == name);
        if let Some(other) = other {
            problems.push(Problem {
                path: format!("{}.identificacion", person.role),
                message: format!(
                    "en el expediente «{title}», {} figura con la identificación {} (folio {}), no {}; \
                     si es la misma persona, escriba la misma; si aquella estaba equivocada, \
                     corrija primero ese documento (Corregir)",
                    person.name, other.identity, other.folio, person.identity
                ),
            });
        }
    }
    problems
}

/// What a closing document contradicts of the document it closes (its
/// `folio`, with `owing` data): the person it names not among those who
/// owe it, a field that must coincide saying something else. Each problem
/// by the closing document's field.
pub(super) fn closing_problems(
    form: &FormSpec,
    closes: &crate::forms::Closes,
    data: &serde_json::Value,
    folio: &str,
    owing: &serde_json::Value,
) -> Vec<Problem> {
    use serde_json::Value;
    let label = |name: &str| {
        form.fields
            .iter()
            .find(|f| f.name == name)
            .map_or(name.to_owned(), |f| f.label.clone())
    };
    let text = |data: &Value, name: &str| {
        data.get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or_default()
            .to_owned()
    };
    let mut problems = Vec::new();
    if let Some((table, column, person)) = &closes.por_persona {
        let named = data
            .get(person)
            .and_then(|p| p.get("nombre"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let owed: Vec<&str> = owing
            .get(table)
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .filter_map(|row| row.get(column)?.as_str())
            .collect();
        if !owed.iter().any(|o| fold(o) == fold(named)) {
            problems.push(Problem {
                path: person.clone(),
                message: format!(
                    "«{}»: «{}» no es una de las personas que nombra el documento {folio} ({}); cada \
                     persona entrega su propio documento, citando el que la nombra",
                    label(person),
                    named.trim(),
                    owed.iter()
                        .map(|o| format!("«{}»", o.trim()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
    }
    for name in &closes.coinciden {
        let (said, there) = (text(data, name), text(owing, name));
        if fold(&said) != fold(&there) {
            problems.push(Problem {
                path: name.clone(),
                message: format!(
                    "«{}»: aquí dice «{said}» y el documento {folio} que se cita dice «{there}»; debe \
                     decir lo mismo",
                    label(name)
                ),
            });
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::{ExpedienteRule, FieldType, FormId};

    fn form_ref(id: &str, title: &str) -> CitedForm {
        CitedForm {
            id: FormId::parse(id).expect("id"),
            title: title.to_owned(),
        }
    }

    fn in_case(form: &str, folio: &str, day: &str) -> InCase {
        InCase {
            form: form.to_owned(),
            folio: folio.to_owned(),
            issued_on: day.to_owned(),
            status: "emitido".to_owned(),
        }
    }

    fn plan_rule() -> (FormSpec, ExpedienteRule) {
        let catalog =
            crate::forms::Catalog::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("forms"))
                .expect("catalog");
        let form = catalog.get("plan-intervencion").expect("form").clone();
        let rule = ExpedienteRule {
            requires: vec![form_ref("caracterizacion-familia", "Caracterización")],
            excludes: vec![form_ref("declaracion-no-participacion", "Declaración")],
            ..form.expediente.clone().expect("expediente")
        };
        (form, rule)
    }

    #[test]
    fn requires_excludes_and_after_each_name_what_is_missing_or_in_the_way() {
        let (form, rule) = plan_rule();
        let none = order_problems(&form, &rule, &[], "Familia X", "2026-11-22");
        let text: Vec<&str> = none.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(none.len(), 2, "{text:?}");
        assert!(
            text[0].contains("requiere") && text[0].contains("Caracterización"),
            "{text:?}"
        );
        assert!(
            text[1].contains("va después de «Carta de Compromiso»"),
            "{text:?}"
        );

        let current = [
            in_case("carta-compromiso", "M/CA/2026/0001", "2026-11-20"),
            in_case("caracterizacion-familia", "M/FI/2026/0001", "2026-11-21"),
        ];
        assert!(order_problems(&form, &rule, &current, "Familia X", "2026-11-22").is_empty());
        // The Carta issued after this document's date does not come before it.
        let later = order_problems(&form, &rule, &current, "Familia X", "2026-11-19");
        assert_eq!(later.len(), 1);
        assert!(later[0].message.contains("posterior"), "{later:?}");

        let blocked = [
            current[0].clone(),
            current[1].clone(),
            in_case("declaracion-no-participacion", "M/CA/2026/0002", "2026-11-21"),
        ];
        let found = order_problems(&form, &rule, &blocked, "Familia X", "2026-11-22");
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("M/CA/2026/0002") && found[0].path.is_empty());
    }

    #[test]
    fn a_replaced_document_is_refused_naming_its_replacement() {
        let field = FieldSpec {
            name: "carta".into(),
            label: "Carta".into(),
            help: String::new(),
            required: false,
            criterion: None,
            filled_by: None,
            kind: FieldType::Text {
                min_length: None,
                max_length: 60,
            },
        };
        let forms = [form_ref("carta-compromiso", "Carta de Compromiso")];
        let citation = Citation {
            field: &field,
            folio: "M/CA/2026/0001",
            forms: &forms,
            share: None,
        };
        let found = Found {
            id: 1,
            form: "carta-compromiso".into(),
            status: "reemplazado".into(),
            issued_on: "2026-11-20".into(),
            expediente_id: 3,
            replaced_by: Some(2),
        };
        let target = Target {
            id: Some(3),
            title: "Familia X",
        };
        let refused = citation.judge(Some(&found), Some("M/CA/2026/0002"), target, &[], &[]);
        assert!(
            matches!(&refused, Err(m) if m.contains("reemplazado por el M/CA/2026/0002")),
            "{refused:?}"
        );
        let current = Found {
            status: "emitido".into(),
            ..found
        };
        let printed = citation
            .judge(Some(&current), None, target, &[], &[])
            .expect("cited");
        assert_eq!(
            (printed.folio.as_str(), printed.fecha.as_str()),
            ("M/CA/2026/0001", "2026-11-20")
        );
    }

    #[test]
    fn a_name_is_the_same_person_whatever_its_accents_and_case() {
        let known = [KnownPerson {
            identity: "15432876-9".into(),
            name: "Carolina Andrea Muñoz Soto".into(),
            folio: "M/CA/2026/0001".into(),
        }];
        let named = |name: &str, identity: &str| NamedPerson {
            role: "representante".into(),
            name: name.into(),
            identity: identity.into(),
        };
        let refused = identity_problems(&[named("CAROLINA ANDREA MUNOZ SOTO", "11111111-1")], &known, "F");
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].path, "representante.identificacion");
        assert!(
            identity_problems(&[named("Carolina Andrea Muñoz Soto", "15432876-9")], &known, "F").is_empty()
        );
        assert!(identity_problems(&[named("Rosa Díaz", "11111111-1")], &known, "F").is_empty());
    }
}
