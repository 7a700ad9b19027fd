//! What a form asks for, as declared in its `form.toml`.
//!
//! The file is read into loose `Raw*` structs (so unknown keys are refused
//! with their name) and then checked into the typed [`FormSpec`], so code past
//! this module never meets a limit that does not fit its field type.
//!
//! Long because every key a `form.toml` may hold is declared and checked
//! here, so an author's mistake is refused in one place, by its name.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::rules::{DeclaredRule, RawRule};
use super::shared::SharedFields;
use super::workflow::{RawStep, Workflow, check_workflow};

/// A form identifier: lowercase ASCII letters, digits and inner hyphens,
/// the same as the form's folder name (`oficio-comision`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct FormId(String);

impl FormId {
    /// Parses an identifier, refusing anything that could name another folder.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let well_formed = !raw.is_empty()
            && raw.len() <= 64
            && !raw.starts_with('-')
            && !raw.ends_with('-')
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if well_formed {
            Ok(Self(raw.to_owned()))
        } else {
            Err(format!(
                "«{raw}» no es un identificador de formulario válido \
                 (minúsculas, dígitos y guiones, como «oficio-comision»)"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FormId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The families of documents an office produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Carta,
    Oficio,
    Acta,
    Lista,
    #[serde(rename = "padrón", alias = "padron")]
    Padron,
    Plan,
    Ficha,
    Informe,
}

impl Family {
    pub fn label(self) -> &'static str {
        match self {
            Family::Carta => "carta",
            Family::Oficio => "oficio",
            Family::Acta => "acta",
            Family::Lista => "lista",
            Family::Padron => "padrón",
            Family::Plan => "plan",
            Family::Ficha => "ficha",
            Family::Informe => "informe",
        }
    }
}

/// Which national identity number a person field carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    /// Mexico's Clave Única de Registro de Población.
    Curp,
    /// Chile's Rol Único Nacional, with its check digit.
    Run,
    /// Panama's cédula de identidad personal.
    Cedula,
    /// Any identifier the office uses (staff number, passport…).
    Any,
    /// The national number of the issuing office's country (CURP, RUN or
    /// cédula); any identifier where the office has no country. What a
    /// person field takes when its form does not say.
    National,
}

/// A form, checked and ready to validate data against.
#[derive(Debug, Clone, Serialize)]
pub struct FormSpec {
    pub id: FormId,
    pub title: String,
    pub family: Family,
    /// The seed document the form comes from (`004`), with its title.
    pub seed: String,
    /// The country and programme its offices know it by, as «Chile ·
    /// Programa Familias»: how the list of new documents groups forms.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub programa: String,
    pub description: String,
    /// What the form as a whole satisfies (standard, procedure step…).
    pub criteria: Vec<String>,
    pub fields: Vec<FieldSpec>,
    /// Rules across fields, from the seed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<DeclaredRule>,
    /// Which expediente the form's documents are filed in; without it, the
    /// office's administrative expediente of the series and year.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expediente: Option<ExpedienteRule>,
    /// The steps before a document is issued: who drafts, approves, signs.
    pub workflow: Workflow,
    /// What its documents grant, for the padrón Sello builds from the
    /// archive; `None` for a form that grants nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub padron: Option<super::grants::Grant>,
    /// What its documents owe afterwards, and which document closes it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub seguimiento: Vec<super::grants::FollowUp>,
    /// The listas de asistencia its documents count, recorded at issue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conteo: Option<super::grants::Count>,
    /// What its documents close of other forms' `[[seguimiento]]`, as the
    /// catalog gathers it: what issuing one checks against the cited document.
    #[serde(skip)]
    pub closes: Vec<super::grants::Closes>,
    /// The top-level fields that say what a reviewer approves (the amount,
    /// the budget line, the supplier), shown first on the review page.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resumen: Vec<String>,
    /// A form Sello fills itself (a lote's padrón, a register): not offered
    /// in the list of new documents, and refused wherever a person would
    /// fill it ([`FormSpec::refuse_internal`]).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub interno: bool,
    /// Its documents refer a case to another office (`[derivacion]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub derivacion: Option<super::referral::Referral>,
    /// Its documents answer a derivación (`[contrarreferencia]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contrarreferencia: Option<super::referral::Answer>,
}

impl FormSpec {
    /// Nothing for a form people fill; for one Sello builds itself from
    /// the archive (`interno`), why nobody may draft or issue it by hand:
    /// a padrón typed by hand could list folios no lote issued. The paths
    /// that build it (a lote's padrón, `registros`) never ask.
    pub fn refuse_internal(&self) -> Result<(), String> {
        if self.interno {
            Err(format!(
                "«{}» lo arma Sello con lo emitido en el archivo; no se llena ni se emite a mano",
                self.title
            ))
        } else {
            Ok(())
        }
    }
}

/// Whose case file a document belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExpedienteKind {
    Familia,
    Persona,
    Grupo,
    Comunidad,
    Programa,
}

impl ExpedienteKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExpedienteKind::Familia => "familia",
            ExpedienteKind::Persona => "persona",
            ExpedienteKind::Grupo => "grupo",
            ExpedienteKind::Comunidad => "comunidad",
            ExpedienteKind::Programa => "programa",
        }
    }
}

/// How a document's expediente is found from its data: `key` names the
/// field that identifies it (for a person field, its identity number) and
/// `title` the field that names it (for a person field, the person's name).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpedienteRule {
    pub kind: ExpedienteKind,
    pub key: String,
    #[serde(default)]
    pub title: Option<String>,
    /// The order of the expediente: a current document of one of these
    /// forms must be in it before this one is drafted or issued.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<CitedForm>,
    /// No current document of these forms may be in it (the Carta de
    /// Compromiso and the Declaración de No Participación exclude each
    /// other).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excludes: Vec<CitedForm>,
    /// A current document of each of these forms must be in it, issued on
    /// or before this one's issue date.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<CitedForm>,
}

/// One field of a form, or one column of a table field.
#[derive(Debug, Clone, Serialize)]
pub struct FieldSpec {
    pub name: String,
    pub label: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub help: String,
    pub required: bool,
    /// The criterion of the seed this field satisfies, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub criterion: Option<String>,
    /// Filled by Sello from the account that takes a workflow step (the
    /// director who signs, the accountant who approves), not by the clerk.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filled_by: Option<FilledBy>,
    #[serde(flatten)]
    pub kind: FieldType,
}

/// Which step's account fills a field, and with what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FilledBy {
    /// The `firma` or `visado` step, by id.
    pub step: String,
    pub value: SignerValue,
}

/// What of the account that took a step fills a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignerValue {
    /// The account's name as it signs.
    Nombre,
    /// The account's cargo.
    Cargo,
    /// The day the step was taken.
    Fecha,
}

impl FilledBy {
    /// Reads `autorizacion.nombre`, as `form.toml` writes it.
    fn parse(text: &str) -> Result<Self, String> {
        let (step, value) = text
            .split_once('.')
            .ok_or("«filled_by» se escribe «paso.nombre», «paso.cargo» o «paso.fecha»")?;
        let value = match value {
            "nombre" => SignerValue::Nombre,
            "cargo" => SignerValue::Cargo,
            "fecha" => SignerValue::Fecha,
            other => return Err(format!("«filled_by»: «{other}» no es nombre, cargo ni fecha")),
        };
        Ok(Self {
            step: step.to_owned(),
            value,
        })
    }
}

/// The type of a field, with the limits that make sense for it.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FieldType {
    Text {
        min_length: Option<usize>,
        max_length: usize,
    },
    LongText {
        min_length: Option<usize>,
        max_length: usize,
    },
    Date,
    Time,
    Integer {
        min: Option<i64>,
        max: Option<i64>,
    },
    /// An amount of money, kept in cents so no rounding ever happens.
    Money {
        min_cents: Option<i64>,
        max_cents: Option<i64>,
    },
    Enum {
        values: Vec<String>,
    },
    Person {
        identity: IdentityKind,
        identity_required: bool,
        /// A person of the office, not of the case (the promoter who
        /// visits, the assistant who writes the report): named and printed,
        /// never filed among the expediente's persons.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        staff: bool,
    },
    List {
        min_rows: usize,
        max_rows: usize,
        columns: Vec<FieldSpec>,
    },
    /// Another document of the archive, named by its folio: issued,
    /// current, of one of `forms`, and sharing what `share` says.
    #[serde(rename = "documento")]
    Document {
        forms: Vec<CitedForm>,
        #[serde(skip_serializing_if = "Option::is_none")]
        share: Option<Share>,
    },
}

/// A form a `documento` field may cite or an expediente rule names, with
/// its title (filled in when the whole catalog is loaded) for messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct CitedForm {
    pub id: FormId,
    pub title: String,
}

impl TryFrom<String> for CitedForm {
    type Error = String;

    fn try_from(id: String) -> Result<Self, String> {
        Ok(Self {
            id: FormId::parse(&id)?,
            title: String::new(),
        })
    }
}

impl CitedForm {
    /// The title, or the id while the catalog has not named it.
    pub fn name(&self) -> &str {
        if self.title.is_empty() {
            self.id.as_str()
        } else {
            &self.title
        }
    }
}

/// What a cited document must have in common with the one citing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Share {
    /// Filed in the same expediente.
    Expediente,
    /// Naming at least one of the same persons (by identity number).
    Persona,
}

impl FieldType {
    /// The type's name as a clerk reads it.
    pub fn label(&self) -> &'static str {
        match self {
            FieldType::Text { .. } => "texto",
            FieldType::LongText { .. } => "texto largo",
            FieldType::Date => "fecha",
            FieldType::Time => "hora",
            FieldType::Integer { .. } => "número entero",
            FieldType::Money { .. } => "importe",
            FieldType::Enum { .. } => "opción",
            FieldType::Person { .. } => "persona",
            FieldType::List { .. } => "tabla",
            FieldType::Document { .. } => "documento",
        }
    }
}

/// Default longest single-line text, generous for names and addresses.
const TEXT_MAX: usize = 300;
/// Default longest long text, about ten pages of prose.
const LONG_TEXT_MAX: usize = 30_000;
/// Default most rows in a table; padrones override it.
const LIST_MAX_ROWS: usize = 1_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawForm {
    id: String,
    title: String,
    family: Family,
    seed: String,
    #[serde(default)]
    programa: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    criteria: Vec<String>,
    fields: Vec<RawField>,
    #[serde(default)]
    rules: Vec<RawRule>,
    expediente: Option<ExpedienteRule>,
    #[serde(default)]
    workflow: Vec<RawStep>,
    padron: Option<super::grants::Grant>,
    #[serde(default)]
    seguimiento: Vec<super::grants::FollowUp>,
    conteo: Option<super::grants::Count>,
    #[serde(default)]
    resumen: Vec<String>,
    #[serde(default)]
    interno: bool,
    derivacion: Option<super::referral::Referral>,
    contrarreferencia: Option<super::referral::Answer>,
}

/// One `[[fields]]` entry as written: a whole declaration, or `use` of a
/// shared one with the keys a form may say of it (see [`super::shared`]).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawField {
    /// `group.name`: the field `_lib/fields/<group>.toml` declares.
    #[serde(rename = "use")]
    pub(super) uses: Option<String>,
    pub(super) name: Option<String>,
    pub(super) label: Option<String>,
    pub(super) help: Option<String>,
    #[serde(rename = "type")]
    pub(super) kind: Option<String>,
    pub(super) required: Option<bool>,
    pub(super) criterion: Option<String>,
    pub(super) min_length: Option<usize>,
    pub(super) max_length: Option<usize>,
    pub(super) min: Option<f64>,
    pub(super) max: Option<f64>,
    pub(super) values: Option<Vec<String>>,
    pub(super) identity: Option<IdentityKind>,
    pub(super) identity_required: Option<bool>,
    /// For a `person` field: a person of the office, not of the case.
    pub(super) staff: Option<bool>,
    pub(super) min_rows: Option<usize>,
    pub(super) max_rows: Option<usize>,
    pub(super) columns: Option<Vec<RawField>>,
    pub(super) filled_by: Option<String>,
    /// For a `documento` field: the forms it may cite.
    pub(super) forms: Option<Vec<String>>,
    /// For a `documento` field: what the cited document shares with it.
    pub(super) share: Option<Share>,
}

impl RawForm {
    /// Checks the declaration, taking the fields it `use`s from `shared`;
    /// the error names the field and what is wrong.
    pub(super) fn check(self, shared: &SharedFields) -> Result<FormSpec, String> {
        let id = FormId::parse(&self.id)?;
        if self.title.trim().is_empty() {
            return Err("«title» está vacío".into());
        }
        let fields = check_fields(self.fields, "", shared)?;
        let rules = self
            .rules
            .into_iter()
            .enumerate()
            .map(|(i, rule)| rule.check(&fields).map_err(|e| format!("regla {}: {e}", i + 1)))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(rule) = &self.expediente {
            check_expediente_rule(rule, &fields)?;
        }
        let workflow = check_workflow(self.workflow, &fields)?;
        check_filled_by(&fields, &workflow)?;
        if let Some(grant) = &self.padron {
            grant.check(&fields)?;
        }
        for follow_up in &self.seguimiento {
            follow_up.check(&fields)?;
        }
        if let Some(count) = &self.conteo {
            count.check(&fields)?;
        }
        for name in &self.resumen {
            if !fields.iter().any(|f| &f.name == name) {
                return Err(format!("«resumen»: el campo «{name}» no existe"));
            }
        }
        if let Some(referral) = &self.derivacion {
            referral.check(&fields)?;
        }
        if let Some(answer) = &self.contrarreferencia {
            answer.check(&fields)?;
        }
        Ok(FormSpec {
            resumen: self.resumen,
            interno: self.interno,
            derivacion: self.derivacion,
            contrarreferencia: self.contrarreferencia,
            padron: self.padron,
            seguimiento: self.seguimiento,
            closes: Vec::new(),
            conteo: self.conteo,
            workflow,
            rules,
            expediente: self.expediente,
            id,
            title: self.title,
            family: self.family,
            seed: self.seed,
            programa: self.programa.trim().to_owned(),
            description: self.description,
            criteria: self.criteria,
            fields,
        })
    }
}

/// The expediente's key and title must be top-level fields that hold one
/// text or one person.
fn check_expediente_rule(rule: &ExpedienteRule, fields: &[FieldSpec]) -> Result<(), String> {
    for name in std::iter::once(&rule.key).chain(&rule.title) {
        let field = fields
            .iter()
            .find(|f| &f.name == name)
            .ok_or_else(|| format!("[expediente]: el campo «{name}» no existe"))?;
        if !matches!(field.kind, FieldType::Text { .. } | FieldType::Person { .. }) {
            return Err(format!(
                "[expediente]: el campo «{name}» es de tipo {}; debe ser texto o persona",
                field.kind.label()
            ));
        }
    }
    for excluded in &rule.excludes {
        if rule
            .requires
            .iter()
            .chain(&rule.after)
            .any(|f| f.id == excluded.id)
        {
            return Err(format!(
                "[expediente]: «{}» está a la vez en «excludes» y en «requires» o «after»",
                excluded.id
            ));
        }
    }
    Ok(())
}

/// Checks the fields (or a table's columns, under `parent`), each `use`
/// replaced by the shared field it names.
pub(super) fn check_fields(
    raw: Vec<RawField>,
    parent: &str,
    shared: &SharedFields,
) -> Result<Vec<FieldSpec>, String> {
    let mut fields: Vec<FieldSpec> = Vec::with_capacity(raw.len());
    // Where each field came from: the `use` that brought it, if any.
    let mut uses: Vec<Option<String>> = Vec::with_capacity(raw.len());
    for (i, field) in raw.into_iter().enumerate() {
        let reference = field.uses.clone();
        let field = match &reference {
            Some(_) => shared.resolve(field)?,
            None => field,
        };
        let Some(name) = field.name.clone() else {
            let table = parent.strip_suffix("[].").map(|t| format!(" de la tabla «{t}»"));
            return Err(format!(
                "el campo n.º {}{}: falta «name»",
                i + 1,
                table.unwrap_or_default()
            ));
        };
        let path = format!("{parent}{name}");
        if !is_field_name(&name) {
            return Err(format!(
                "campo «{path}»: el nombre debe ir en minúsculas, sin acentos ni espacios"
            ));
        }
        if let Some(first) = fields.iter().position(|f| f.name == name) {
            let from = [&uses[first], &reference]
                .into_iter()
                .flatten()
                .map(|r| format!("«use = \"{r}\"»"))
                .collect::<Vec<_>>();
            let from = if from.is_empty() {
                String::new()
            } else {
                format!(" (viene de {})", from.join(" y de "))
            };
            return Err(format!("campo «{path}» declarado dos veces{from}"));
        }
        let checked = field
            .check(&path, shared)
            .map_err(|e| format!("campo «{path}»: {e}"))?;
        fields.push(checked);
        uses.push(reference);
    }
    Ok(fields)
}

/// A field filled from an account names a `firma` or `visado` step of the
/// form and has the type of what fills it. It may be required: then it is
/// typed (for a paper signature, or the professional named in the text)
/// and the account that signs replaces it.
fn check_filled_by(fields: &[FieldSpec], workflow: &super::Workflow) -> Result<(), String> {
    for field in fields {
        let Some(by) = &field.filled_by else { continue };
        let at = format!("campo «{}»", field.name);
        let step = workflow
            .step(&by.step)
            .ok_or_else(|| format!("{at}: «filled_by»: el paso «{}» no existe", by.step))?;
        if !matches!(step.kind, super::StepKind::Firma | super::StepKind::Visado) {
            return Err(format!(
                "{at}: «filled_by»: el paso «{}» no es de firma ni de visado",
                by.step
            ));
        }
        let fits = match by.value {
            SignerValue::Fecha => matches!(field.kind, FieldType::Date),
            _ => matches!(field.kind, FieldType::Text { .. }),
        };
        if !fits {
            return Err(format!("{at}: «filled_by» no corresponde con el tipo del campo"));
        }
    }
    Ok(())
}

fn is_field_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl RawField {
    /// The declared field, checked; its own `use`, if any, already resolved.
    pub(super) fn check(self, path: &str, shared: &SharedFields) -> Result<FieldSpec, String> {
        let kind_name = self.kind.as_deref().ok_or("falta «type»")?;
        let label = self.label.clone().ok_or("falta «label»")?;
        let name = self.name.clone().ok_or("falta «name»")?;
        let required = self.required.unwrap_or(true);
        let allowed: &[&str] = match kind_name {
            "text" | "long_text" => &["min_length", "max_length"],
            "integer" | "money" => &["min", "max"],
            "enum" => &["values"],
            "person" => &["identity", "identity_required", "staff"],
            "list" => &["min_rows", "max_rows", "columns"],
            "documento" => &["forms", "share"],
            "date" | "time" => &[],
            other => return Err(format!("tipo desconocido «{other}»")),
        };
        for (key, present) in self.limit_keys() {
            if present && !allowed.contains(&key) {
                return Err(format!("«{key}» no aplica a un campo de tipo «{kind_name}»"));
            }
        }
        let kind = match kind_name {
            "text" => FieldType::Text {
                min_length: self.min_length,
                max_length: self.max_length.unwrap_or(TEXT_MAX),
            },
            "long_text" => FieldType::LongText {
                min_length: self.min_length,
                max_length: self.max_length.unwrap_or(LONG_TEXT_MAX),
            },
            "date" => FieldType::Date,
            "time" => FieldType::Time,
            "integer" => FieldType::Integer {
                min: self.min.map(|v| v as i64),
                max: self.max.map(|v| v as i64),
            },
            "money" => FieldType::Money {
                min_cents: self.min.map(|v| (v * 100.0).round() as i64),
                max_cents: self.max.map(|v| (v * 100.0).round() as i64),
            },
            "enum" => match self.values {
                Some(values) if !values.is_empty() => FieldType::Enum { values },
                _ => return Err("un campo «enum» necesita «values»".into()),
            },
            "person" => FieldType::Person {
                identity: self.identity.unwrap_or(IdentityKind::National),
                identity_required: self.identity_required.unwrap_or(true),
                staff: self.staff.unwrap_or(false),
            },
            "documento" => {
                if path.contains("[].") {
                    return Err("un campo «documento» va en el documento, no en una tabla".into());
                }
                let forms = match self.forms {
                    Some(forms) if !forms.is_empty() => forms
                        .iter()
                        .map(|f| {
                            FormId::parse(f).map(|id| CitedForm {
                                id,
                                title: String::new(),
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                    _ => return Err("un campo «documento» necesita «forms»: qué formularios cita".into()),
                };
                FieldType::Document {
                    forms,
                    share: self.share,
                }
            }
            _ => {
                let columns = match self.columns {
                    Some(columns) if !columns.is_empty() => {
                        check_fields(columns, &format!("{path}[]."), shared)?
                    }
                    _ => return Err("una tabla necesita «columns»".into()),
                };
                if columns.iter().any(|c| c.filled_by.is_some()) {
                    return Err("una columna no lleva «filled_by»: solo un campo del documento".into());
                }
                if columns.iter().any(|c| matches!(c.kind, FieldType::List { .. })) {
                    return Err("una tabla no puede contener otra tabla".into());
                }
                let min_rows = self.min_rows.unwrap_or(usize::from(required));
                let max_rows = self.max_rows.unwrap_or(LIST_MAX_ROWS);
                if min_rows > max_rows {
                    return Err("«min_rows» es mayor que «max_rows»".into());
                }
                FieldType::List {
                    min_rows,
                    max_rows,
                    columns,
                }
            }
        };
        let filled_by = self.filled_by.as_deref().map(FilledBy::parse).transpose()?;
        Ok(FieldSpec {
            name,
            label,
            help: self.help.unwrap_or_default(),
            required,
            criterion: self.criterion,
            filled_by,
            kind,
        })
    }

    fn limit_keys(&self) -> [(&'static str, bool); 12] {
        [
            ("min_length", self.min_length.is_some()),
            ("max_length", self.max_length.is_some()),
            ("min", self.min.is_some()),
            ("max", self.max.is_some()),
            ("values", self.values.is_some()),
            ("identity", self.identity.is_some()),
            ("identity_required", self.identity_required.is_some()),
            ("staff", self.staff.is_some()),
            ("min_rows", self.min_rows.is_some() || self.max_rows.is_some()),
            ("columns", self.columns.is_some()),
            ("forms", self.forms.is_some()),
            ("share", self.share.is_some()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<FormSpec, String> {
        let raw: RawForm = toml::from_str(text).map_err(|e| e.to_string())?;
        raw.check(&SharedFields::default())
    }

    const HEAD: &str = "id = \"x\"\ntitle = \"X\"\nfamily = \"carta\"\nseed = \"000\"\n";

    #[test]
    fn form_ids_cannot_name_other_folders() {
        assert!(FormId::parse("oficio-comision").is_ok());
        for bad in ["", "../etc", "_lib", "Oficio", "a/b", "-x", "x-"] {
            assert!(FormId::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn a_limit_that_does_not_fit_the_type_is_refused_by_name() {
        let text = format!(
            "{HEAD}[[fields]]\nname = \"fecha\"\nlabel = \"Fecha\"\ntype = \"date\"\nmax_length = 3\n"
        );
        let err = parse(&text).unwrap_err();
        assert!(err.contains("fecha") && err.contains("max_length"), "{err}");
    }

    #[test]
    fn table_columns_are_checked_with_their_path() {
        let text = format!(
            "{HEAD}[[fields]]\nname = \"filas\"\nlabel = \"Filas\"\ntype = \"list\"\n\
             [[fields.columns]]\nname = \"Mal Nombre\"\nlabel = \"x\"\ntype = \"text\"\n"
        );
        let err = parse(&text).unwrap_err();
        assert!(err.contains("filas[].Mal Nombre"), "{err}");
    }

    #[test]
    fn issue_date_rules_take_dates_and_only_they_take_days() {
        let fields = "[[fields]]\nname = \"fecha\"\nlabel = \"Fecha\"\ntype = \"date\"\n\
                      [[fields]]\nname = \"hora\"\nlabel = \"Hora\"\ntype = \"time\"\n";
        let rule = |body: &str| parse(&format!("{HEAD}{fields}[[rules]]\n{body}"));
        let spec = rule("type = \"not_before_issue\"\nfields = [\"fecha\"]\ndays = 30\n").unwrap();
        assert!(matches!(
            &spec.rules[0].rule,
            crate::forms::Rule::NotBeforeIssue { days: Some(30), .. }
        ));
        let err = rule("type = \"not_after_issue\"\nfields = [\"hora\"]\n").unwrap_err();
        assert!(err.contains("hora") && err.contains("no es una fecha"), "{err}");
        let err = rule("type = \"order\"\nfields = [\"fecha\", \"fecha\"]\ndays = 3\n").unwrap_err();
        assert!(err.contains("days"), "{err}");
    }

    #[test]
    fn fields_are_required_unless_declared_optional() {
        let text = format!(
            "{HEAD}[[fields]]\nname = \"a\"\nlabel = \"A\"\ntype = \"text\"\n\
             [[fields]]\nname = \"b\"\nlabel = \"B\"\ntype = \"text\"\nrequired = false\n"
        );
        let spec = parse(&text).unwrap();
        assert!(spec.fields[0].required);
        assert!(!spec.fields[1].required);
    }
}
