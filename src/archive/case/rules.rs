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
                "«{label}»: el documento {folio} no está en el archivo de esta oficina; \
                 revise el folio (se citan documentos emitidos por la oficina)"
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
    let mut problems = Vec::new();
    for excluded in &rule.excludes {
        for document in of(current, excluded) {
            problems.push(whole(format!(
                "el expediente «{title}» ya tiene «{}» vigente (folio {}), que excluye «{}»; \
                 si aquel se emitió por error, anúlelo primero",
                excluded.name(),
                document.folio,
                form.title
            )));
        }
    }
    if !rule.requires.is_empty() && !rule.requires.iter().any(|r| of(current, r).next().is_some()) {
        let names: Vec<&str> = rule.requires.iter().map(CitedForm::name).collect();
        problems.push(whole(format!(
            "«{}» requiere que el expediente «{title}» tenga vigente: {}; no lo tiene",
            form.title,
            names.join(" o ")
        )));
    }
    for before in &rule.after {
        let earliest = of(current, before).map(|d| d.issued_on.as_str()).min();
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
