//! The steps a form's documents go through before they are issued, as its
//! `form.toml` declares them in `[[workflow]]`: who drafts, who gives the
//! visado or approves, who signs. A form that declares none is drafted by
//! anyone who drafts and signed by a firmante.
//!
//! Long because its unit tests live beside it: every way a `[[workflow]]`
//! can be declared wrong has one. The code itself is about 350 lines.

use serde::{Deserialize, Serialize};

use super::spec::{FieldSpec, FieldType};
use crate::roles::Role;

/// What is done at a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// The data is written and can be changed; the step ends when it is sent on.
    Captura,
    /// Someone checks and approves (visado, Vo. Bo., approval of a quote),
    /// or rejects with a reason.
    Visado,
    /// Someone authorises and signs electronically; the last such step
    /// issues the document under the office's key.
    Firma,
    /// The people the document names (a family's representative, the
    /// attendees of an acta) sign by hand on the staff member's screen,
    /// or on paper, printed and scanned after issue.
    Presencial,
}

/// What someone did at a step, as the archive records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// The drafter sent the draft on from its `captura` step.
    Enviado,
    Visado,
    /// Sent back with a reason; the visados and signatures before it lapse.
    Rechazado,
    Firmado,
    /// The hand signatures of a `presencial` step were collected.
    Presencial,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enviado => "enviado",
            Self::Visado => "visado",
            Self::Rechazado => "rechazado",
            Self::Firmado => "firmado",
            Self::Presencial => "presencial",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Enviado,
            Self::Visado,
            Self::Rechazado,
            Self::Firmado,
            Self::Presencial,
        ]
        .into_iter()
        .find(|a| a.as_str() == text)
    }

    /// Whether it is a visado or a signature: what a document carries.
    pub fn endorses(self) -> bool {
        matches!(self, Self::Visado | Self::Firmado)
    }
}

/// As the database stores it.
impl TryFrom<String> for Action {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text).ok_or_else(|| format!("acción de paso desconocida: «{text}»"))
    }
}

/// One step of a workflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Step {
    /// Short and stable, as `visado-jefatura`: what the archive records.
    pub id: String,
    /// As shown to people: «Aprobación de la cotización».
    pub label: String,
    pub kind: StepKind,
    /// Who takes it. `captura` and `presencial` steps are open to every
    /// role that drafts.
    pub role: Role,
    /// For a `presencial` step: the fields naming who signs, a person
    /// field or a table with one signer per row.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub signers: Vec<String>,
}

impl Step {
    /// Whether someone with `role` may take this step.
    pub fn open_to(&self, role: Role) -> bool {
        match self.kind {
            // Writing, and holding the tablet while people sign, is
            // clerical: anyone who drafts may.
            StepKind::Captura | StepKind::Presencial => role.can_draft(),
            _ => role == self.role || role == Role::Administrador,
        }
    }
}

/// The ordered steps of a form: one `captura` first, a `firma` last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Workflow {
    steps: Vec<Step>,
}

impl Default for Workflow {
    /// Drafted by anyone who drafts, signed and issued by a firmante.
    fn default() -> Self {
        Self {
            steps: vec![
                Step {
                    id: "captura".into(),
                    label: "Elaboración".into(),
                    kind: StepKind::Captura,
                    role: Role::Capturista,
                    signers: Vec::new(),
                },
                Step {
                    id: "firma".into(),
                    label: "Firma y emisión".into(),
                    kind: StepKind::Firma,
                    role: Role::Firmante,
                    signers: Vec::new(),
                },
            ],
        }
    }
}

impl Workflow {
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Where every draft starts.
    pub fn first(&self) -> &Step {
        &self.steps[0]
    }

    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// The step a draft stored as `stored` is at: drafts saved before
    /// workflows (or at a step since removed) are at the first.
    pub fn current(&self, stored: Option<&str>) -> &Step {
        stored
            .and_then(|id| self.step(id))
            .unwrap_or_else(|| self.first())
    }

    /// The step after `id`; `None` after the last (the document is issued).
    pub fn after(&self, id: &str) -> Option<&Step> {
        let at = self.steps.iter().position(|s| s.id == id)?;
        self.steps.get(at + 1)
    }

    /// Where a rejection sends the draft: back to its drafter, since what
    /// is corrected must be seen again by every step after.
    pub fn rejected_to(&self) -> &Step {
        self.first()
    }

    /// Whether a document of this form may be issued in one go (from the
    /// entry form, the API's `POST /documents` or in bulk) by someone with
    /// `role`: only when nothing but one signature follows the draft. Hand
    /// signatures are then given on the printed paper.
    pub fn allows_direct_issue(&self, role: Role) -> bool {
        let mut reviews = self.steps[1..].iter().filter(|s| s.kind != StepKind::Presencial);
        matches!((reviews.next(), reviews.next()), (Some(only), None) if only.open_to(role))
    }

    /// Whether people the document names sign it in person (a
    /// `presencial` step): on the staff member's screen, or on paper.
    pub fn signs_in_person(&self) -> bool {
        self.steps.iter().any(|s| s.kind == StepKind::Presencial)
    }

    /// Refuses to issue in one go (`sello issue`, `POST /documents`, a
    /// lote) a document its people sign in person, unless the caller
    /// records that they sign the printed paper (`on_paper`): no step is
    /// skipped silently.
    pub fn check_in_person(&self, on_paper: bool) -> Result<(), String> {
        if on_paper || !self.signs_in_person() {
            return Ok(());
        }
        let steps: Vec<&str> = self
            .steps
            .iter()
            .filter(|s| s.kind == StepKind::Presencial)
            .map(|s| s.label.as_str())
            .collect();
        Err(format!(
            "lo firman en persona ({}): recabe las firmas en un borrador, o indique que firmarán en papel",
            steps.join(", ")
        ))
    }

    /// The steps that need someone other than the drafter, for messages:
    /// «Visado de la jefatura (revisor), Autorización (firmante)».
    pub fn describe_review(&self) -> String {
        self.steps[1..]
            .iter()
            .map(|s| match s.kind {
                StepKind::Presencial => format!("{} (en persona)", s.label),
                _ => format!("{} ({})", s.label, s.role.as_str()),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A step as written in `form.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStep {
    id: String,
    label: String,
    kind: StepKind,
    role: Role,
    #[serde(default)]
    signers: Vec<String>,
}

/// Checks a declared workflow against the form's fields; the error names
/// the step and what is wrong.
pub(super) fn check_workflow(raw: Vec<RawStep>, fields: &[FieldSpec]) -> Result<Workflow, String> {
    if raw.is_empty() {
        return Ok(Workflow::default());
    }
    let mut steps: Vec<Step> = Vec::with_capacity(raw.len());
    for (i, step) in raw.into_iter().enumerate() {
        let at = format!("[[workflow]] {} («{}»)", i + 1, step.id);
        let well_formed = !step.id.is_empty()
            && step.id.len() <= 40
            && step
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !well_formed {
            return Err(format!("{at}: «id» debe llevar minúsculas, dígitos y guiones"));
        }
        if steps.iter().any(|s| s.id == step.id) {
            return Err(format!("{at}: el paso está repetido"));
        }
        if step.label.trim().is_empty() {
            return Err(format!("{at}: «label» está vacío"));
        }
        match (i, step.kind) {
            (0, StepKind::Captura) => {}
            (0, _) => return Err(format!("{at}: el primer paso debe ser de tipo «captura»")),
            (_, StepKind::Captura) => {
                return Err(format!("{at}: solo el primer paso es de tipo «captura»"));
            }
            _ => {}
        }
        if step.kind != StepKind::Captura && matches!(step.role, Role::Archivista) {
            return Err(format!("{at}: el rol archivista no toma pasos de un trámite"));
        }
        match (step.kind, step.signers.is_empty()) {
            (StepKind::Presencial, true) => {
                return Err(format!(
                    "{at}: un paso «presencial» dice quién firma en «signers»"
                ));
            }
            (StepKind::Presencial, false) => {
                for name in &step.signers {
                    check_signer_field(name, fields).map_err(|e| format!("{at}: {e}"))?;
                }
            }
            (_, false) => return Err(format!("{at}: solo un paso «presencial» lleva «signers»")),
            (_, true) => {}
        }
        steps.push(Step {
            id: step.id,
            label: step.label,
            kind: step.kind,
            role: step.role,
            signers: step.signers,
        });
    }
    if steps.last().map(|s| s.kind) != Some(StepKind::Firma) {
        return Err("[[workflow]]: el último paso debe ser de tipo «firma»: es el que emite".into());
    }
    Ok(Workflow { steps })
}

/// A signer field is a person, or a table whose rows name a person (a
/// person column or a `nombre` column).
fn check_signer_field(name: &str, fields: &[FieldSpec]) -> Result<(), String> {
    let field = fields
        .iter()
        .find(|f| f.name == name)
        .ok_or_else(|| format!("«signers»: el campo «{name}» no existe"))?;
    let names_people = match &field.kind {
        FieldType::Person { .. } => true,
        FieldType::List { columns, .. } => columns
            .iter()
            .any(|c| matches!(c.kind, FieldType::Person { .. }) || c.name == "nombre"),
        _ => false,
    };
    if names_people {
        Ok(())
    } else {
        Err(format!(
            "«signers»: el campo «{name}» no nombra personas (debe ser persona o tabla con «nombre»)"
        ))
    }
}

/// Someone who signs by hand: which one (`representante`,
/// `asistentes[3]`) and their name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct HandSigner {
    pub key: String,
    pub name: String,
}

/// Everyone the document's `presencial` steps ask to sign, by field: when
/// it is issued to be signed on paper, they all sign the printed copy.
pub fn paper_signers(form: &super::FormSpec, data: &serde_json::Value) -> Vec<String> {
    form.workflow
        .steps()
        .iter()
        .filter(|s| s.kind == StepKind::Presencial)
        .flat_map(|step| hand_signers(form, step, data))
        .map(|signer| signer.key)
        .collect()
}

/// The people a `presencial` step asks to sign, from the document's data.
pub fn hand_signers(form: &super::FormSpec, step: &Step, data: &serde_json::Value) -> Vec<HandSigner> {
    let name_of = |value: &serde_json::Value| {
        value
            .get("nombre")
            .and_then(serde_json::Value::as_str)
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty())
    };
    let mut signers = Vec::new();
    for field in step
        .signers
        .iter()
        .filter_map(|n| form.fields.iter().find(|f| &f.name == n))
    {
        match &field.kind {
            FieldType::List { columns, .. } => {
                let person = columns
                    .iter()
                    .find(|c| matches!(c.kind, FieldType::Person { .. }));
                let rows = data.get(&field.name).and_then(serde_json::Value::as_array);
                for (i, row) in rows.into_iter().flatten().enumerate() {
                    let name = match person {
                        Some(column) => row.get(&column.name).and_then(name_of),
                        None => name_of(row),
                    };
                    if let Some(name) = name {
                        signers.push(HandSigner {
                            key: format!("{}[{}]", field.name, i + 1),
                            name,
                        });
                    }
                }
            }
            _ => {
                if let Some(name) = data.get(&field.name).and_then(name_of) {
                    signers.push(HandSigner {
                        key: field.name.clone(),
                        name,
                    });
                }
            }
        }
    }
    signers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Workflow, String> {
        #[derive(Deserialize)]
        struct File {
            workflow: Vec<RawStep>,
        }
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        check_workflow(file.workflow, &[])
    }

    const QUOTE: &str = r#"
        [[workflow]]
        id = "captura"
        label = "Elaboración y cotización"
        kind = "captura"
        role = "capturista"

        [[workflow]]
        id = "presupuesto"
        label = "Aprobación de la cotización"
        kind = "visado"
        role = "contador"

        [[workflow]]
        id = "autorizacion"
        label = "Autorización"
        kind = "firma"
        role = "firmante"
    "#;

    #[test]
    fn steps_follow_in_order_and_rejections_go_back_to_the_drafter() {
        let flow = parse(QUOTE).unwrap();
        assert_eq!(flow.first().id, "captura");
        assert_eq!(flow.after("captura").unwrap().id, "presupuesto");
        assert_eq!(flow.after("autorizacion"), None);
        assert_eq!(flow.rejected_to().id, "captura");
    }

    #[test]
    fn only_the_declared_role_or_an_administrator_takes_a_step() {
        let flow = parse(QUOTE).unwrap();
        let approval = flow.step("presupuesto").unwrap();
        assert!(approval.open_to(Role::Contador));
        assert!(approval.open_to(Role::Administrador));
        assert!(!approval.open_to(Role::Firmante));
        assert!(!approval.open_to(Role::Capturista));
        assert!(flow.first().open_to(Role::Contador));
        assert!(!flow.first().open_to(Role::Archivista));
    }

    #[test]
    fn a_firmante_issues_in_one_go_only_when_nothing_else_is_required() {
        assert!(Workflow::default().allows_direct_issue(Role::Firmante));
        assert!(!Workflow::default().allows_direct_issue(Role::Capturista));
        assert!(!parse(QUOTE).unwrap().allows_direct_issue(Role::Firmante));
    }

    #[test]
    fn a_malformed_workflow_is_refused_with_the_step_named() {
        let no_signature = QUOTE.replace(
            "kind = \"firma\"\n        role = \"firmante\"",
            "kind = \"visado\"\n        role = \"firmante\"",
        );
        assert!(parse(&no_signature).unwrap_err().contains("último paso"));
        let unknown = QUOTE.replace(
            "role = \"contador\"",
            "role = \"contador\"\n        on_reject = \"captura\"",
        );
        assert!(parse(&unknown).unwrap_err().contains("on_reject"));
        let second_draft = QUOTE.replace("kind = \"visado\"", "kind = \"captura\"");
        assert!(parse(&second_draft).unwrap_err().contains("solo el primer paso"));
    }
}
