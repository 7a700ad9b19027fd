//! Signatures that issue: the last signature of a draft's workflow, a
//! draft issued in one go from its entry form, and a document issued
//! directly where its form's workflow asks for nothing but one signature.
//! What the document prints of who approved and signed comes from the
//! accounts that did, never from what was typed.

use chrono::DateTime;
use serde_json::Value;

use super::hand::round_hand_signatures;
use super::review::check_someone_else;
use super::{StepError, Tramite, Tramites, check_role, current, moving, taker};
use crate::accounts::User;
use crate::archive::{Archive, ArchiveError, FinalSignature, IssueOrder, Issued};
use crate::forms::{Action, FormSpec, IssueDate, StepKind, StepTaker, fill_signers, paper_signers, validate};
use crate::public_id::PublicId;
use crate::render::Endorsement;
use crate::signed_pdf::IssueError;

/// The idempotency keys of drafts' last signatures start so; no client
/// may use one.
pub const DRAFT_KEY_PREFIX: &str = "borrador-";

/// What a signature did: moved the draft on, or issued the document.
pub enum Signed {
    MovedOn,
    Issued(Box<Issued>),
}

/// A document issued without a draft, by one person's one signature.
pub struct DirectIssue<'r> {
    pub form: &'r FormSpec,
    pub data: &'r Value,
    /// As the audit trail names who issued it: `ana (API)`.
    pub actor: &'r str,
    pub expediente_id: Option<PublicId>,
    pub idempotency_key: Option<&'r str>,
    /// The people it names sign the printed paper, whose scan is attached.
    pub on_paper: bool,
}

impl Tramites<'_> {
    /// Signs at the current step; the last signature issues the document,
    /// signed under the office's key, carrying every visado and signature.
    pub async fn sign(
        &self,
        archive: &Archive,
        tramite: &Tramite<'_>,
        user: &User,
    ) -> Result<Signed, StepError> {
        let step = current(tramite, StepKind::Firma)?;
        check_role(step, user)?;
        check_someone_else(tramite, step, user)?;
        if let Some(next) = tramite.form.workflow.after(&step.id) {
            self.take(
                archive,
                tramite,
                moving(tramite, step, &next.id, Action::Firmado, None),
                user,
            )
            .await?;
            return Ok(Signed::MovedOn);
        }
        let issued = self.issue_draft(archive, tramite, user).await?;
        Ok(Signed::Issued(Box::new(issued)))
    }

    /// Issues a draft in one go from its entry form (a workflow with
    /// nothing but a signature after it): sent on and signed, each step
    /// recorded, so that a correction replaces the document it corrects.
    /// Its people sign the printed paper. Nobody is told: it is done.
    pub async fn issue_at_once(
        &self,
        archive: &Archive,
        form: &FormSpec,
        id: PublicId,
        data: &Value,
        user: &User,
    ) -> Result<PublicId, StepError> {
        self.save(archive, form, Some(id), data, user).await?;
        let tramite = self.load(archive, id).await?;
        self.submit_quietly(archive, &tramite, user).await?;
        let mut tramite = self.load(archive, id).await?;
        while tramite.step.is_some_and(|s| s.kind == StepKind::Presencial) {
            self.leave_to_paper_quietly(archive, &tramite, user).await?;
            tramite = self.load(archive, id).await?;
        }
        let step = current(&tramite, StepKind::Firma)?;
        check_role(step, user)?;
        check_someone_else(&tramite, step, user)?;
        if tramite.form.workflow.after(&step.id).is_some() {
            return Err(StepError::Refused(
                "el borrador necesita otra firma; siga su trámite desde su página".into(),
            ));
        }
        let issued = self.issue_draft(archive, &tramite, user).await?;
        Ok(issued.record().id)
    }

    /// Issues, signed by `user`, a document whose form's workflow asks
    /// for nothing but their signature. Its data must be valid as of now.
    pub async fn issue_directly(
        &self,
        archive: &Archive,
        user: &User,
        order: DirectIssue<'_>,
    ) -> Result<Issued, StepError> {
        let form = order.form;
        if !form.workflow.allows_direct_issue(user.role) {
            return Err(super::forbidden(user, "emitir este formulario sin su trámite"));
        }
        let issued_at = self.issuer.now_in(archive.office());
        let country = self.issuer.country_of(archive.office());
        validate(
            &form.for_country(country),
            order.data,
            IssueDate::issued(&issued_at),
        )
        .map_err(|p| ArchiveError::Issue(IssueError::Invalid(p)))?;
        let signature = direct_signature(form, user, issued_at);
        let data = signed_data(form, order.data, std::slice::from_ref(&signature));
        let on_paper = if order.on_paper {
            paper_signers(form, &data)
        } else {
            Vec::new()
        };
        let issue = IssueOrder {
            form,
            data: &data,
            issued_at,
            actor: order.actor,
            expediente_id: order.expediente_id,
            idempotency_key: order.idempotency_key,
            draft: None,
            endorsements: vec![signature],
            on_paper,
        };
        Ok(self
            .issuer
            .issue(archive, &issue, (&user.display_name, &user.cargo))
            .await?)
    }

    /// The last signature of `tramite`, at its current `firma` step,
    /// already checked: issues its document.
    async fn issue_draft(
        &self,
        archive: &Archive,
        tramite: &Tramite<'_>,
        user: &User,
    ) -> Result<Issued, StepError> {
        let step = current(tramite, StepKind::Firma)?;
        let workflow = &tramite.form.workflow;
        let zone = self.issuer.time_zone_of(archive.office());
        let mut endorsements: Vec<Endorsement> = tramite
            .this_round()
            .iter()
            .filter(|s| s.action.endorses())
            .map(|s| Endorsement {
                paso_id: s.step.clone(),
                paso: workflow.step(&s.step).map_or(s.step.clone(), |w| w.label.clone()),
                tipo: if s.action == Action::Firmado {
                    StepKind::Firma
                } else {
                    StepKind::Visado
                },
                nombre: s.name.clone(),
                cargo: s.cargo.clone(),
                fecha_hora: in_zone(&s.at, zone),
            })
            .collect();
        let mut hand_signatures = Vec::new();
        let mut hand_signature_ids = Vec::new();
        for drawn in round_hand_signatures(archive, tramite).await? {
            hand_signature_ids.push(drawn.row_id);
            let png = archive
                .blobs()
                .get(&drawn.blob_sha256)
                .await
                .map_err(ArchiveError::from)?;
            endorsements.push(Endorsement {
                paso_id: String::new(),
                paso: drawn.purpose.clone(),
                tipo: StepKind::Presencial,
                nombre: drawn.name.clone(),
                cargo: String::new(),
                fecha_hora: in_zone(&drawn.at, zone),
            });
            hand_signatures.push((drawn.signer, png));
        }
        endorsements.sort_by(|a, b| a.fecha_hora.cmp(&b.fecha_hora));
        let issued_at = self.issuer.now_in(archive.office());
        endorsements.push(Endorsement {
            paso_id: step.id.clone(),
            paso: step.label.clone(),
            tipo: StepKind::Firma,
            nombre: user.display_name.clone(),
            cargo: user.cargo.clone(),
            fecha_hora: issued_at.to_rfc3339(),
        });
        // Who signed and approved is who the accounts are, not who was typed.
        let data = signed_data(tramite.form, &tramite.data(), &endorsements);
        // Valid as of the day it is issued, checked before a folio is
        // taken: a refusal here uses up no folio (as a direct issue).
        let country = self.issuer.country_of(archive.office());
        validate(
            &tramite.form.for_country(country),
            &data,
            IssueDate::issued(&issued_at),
        )
        .map_err(|p| ArchiveError::Issue(IssueError::Invalid(p)))?;
        // Its `presencial` steps ended: whoever did not draw signs the paper.
        let on_paper: Vec<String> = paper_signers(tramite.form, &data)
            .into_iter()
            .filter(|signer| !hand_signatures.iter().any(|(drawn, _)| drawn == signer))
            .collect();
        // The draft's own key: a second signer at the same moment, or a
        // retry, gets the document already issued. Made of the database's
        // key, as before public ids, and never shown.
        let key = format!("{DRAFT_KEY_PREFIX}{}", tramite.draft.row_id);
        let order = IssueOrder {
            form: tramite.form,
            data: &data,
            issued_at,
            actor: &user.username,
            expediente_id: None,
            idempotency_key: Some(&key),
            draft: Some(FinalSignature {
                draft_id: tramite.draft.row_id,
                step: &step.id,
                taker: taker(user),
                replaces: tramite.draft.replaces_row_id,
                hand_signatures,
                hand_signature_ids,
                loaded_at: &tramite.draft.updated_at,
            }),
            endorsements,
            on_paper,
        };
        let issued = self
            .issuer
            .issue(archive, &order, (&user.display_name, &user.cargo))
            .await?;
        // Issued before under the draft's key: only by this draft.
        if let Issued::Existing(record) = &issued
            && archive.draft(tramite.draft.id).await?.document_id != Some(record.id)
        {
            return Err(StepError::Refused(
                "el borrador no se pudo emitir: su clave ya la usa otro documento".into(),
            ));
        }
        Ok(issued)
    }
}

/// The one signature of a document issued in one go by `user`: the last
/// step of its workflow.
pub fn direct_signature(form: &FormSpec, user: &User, at: DateTime<chrono_tz::Tz>) -> Endorsement {
    let step = form.workflow.steps().last().unwrap_or(form.workflow.first());
    Endorsement {
        paso_id: step.id.clone(),
        paso: step.label.clone(),
        tipo: StepKind::Firma,
        nombre: user.display_name.clone(),
        cargo: user.cargo.clone(),
        fecha_hora: at.to_rfc3339(),
    }
}

/// `data` with the fields its form fills from the accounts that signed or
/// approved (`director_nombre`…) set from `endorsements`.
pub fn signed_data(form: &FormSpec, data: &Value, endorsements: &[Endorsement]) -> Value {
    let takers: Vec<StepTaker<'_>> = endorsements
        .iter()
        .filter(|e| matches!(e.tipo, StepKind::Firma | StepKind::Visado))
        .map(|e| StepTaker {
            step: &e.paso_id,
            name: &e.nombre,
            cargo: &e.cargo,
            at: &e.fecha_hora,
        })
        .collect();
    fill_signers(form, data, &takers)
}

/// An RFC 3339 moment as the office reads it.
fn in_zone(moment: &str, zone: chrono_tz::Tz) -> String {
    DateTime::parse_from_rfc3339(moment).map_or(moment.to_owned(), |at| at.with_timezone(&zone).to_rfc3339())
}
