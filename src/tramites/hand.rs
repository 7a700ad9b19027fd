//! Signatures by hand during the trámite: at a `presencial` step the
//! people the document names draw theirs on the staff member's screen, or
//! the step ends with them signing the printed paper.

use super::{StepError, Tramite, Tramites, check_role, current, moving, taker};
use crate::accounts::User;
use crate::archive::{Archive, HandSignatureRecord, NewHandSignature, SignedItem};
use crate::forms::{Action, HandSigner, StepKind, hand_signers};
use crate::render::HAND_SIGNATURES_MAX;

/// How a hand signature drawn on screen is recorded.
pub(super) const ON_SCREEN: &str = "pantalla";

/// What a person drew on the staff member's screen.
pub struct Drawing<'a> {
    /// Which signer: `representante`, `asistentes[3]`.
    pub signer: &'a str,
    pub png: Vec<u8>,
    /// The person confirmed, on the screen, that they sign this document.
    pub consent: bool,
    /// The device, as its browser names itself.
    pub device: &'a str,
}

impl Tramites<'_> {
    /// The people the current `presencial` step asks to sign, each with
    /// the signature drawn this round, if any.
    pub async fn hand_signers_of(
        &self,
        archive: &Archive,
        tramite: &Tramite<'_>,
    ) -> Result<Vec<(HandSigner, Option<HandSignatureRecord>)>, StepError> {
        let Some(step) = tramite.step.filter(|s| s.kind == StepKind::Presencial) else {
            return Ok(Vec::new());
        };
        let drawn = round_hand_signatures(archive, tramite).await?;
        Ok(hand_signers(tramite.form, step, &tramite.data())
            .into_iter()
            .map(|signer| {
                let found = drawn.iter().find(|d| d.signer == signer.key).cloned();
                (signer, found)
            })
            .collect())
    }

    /// Records a signature drawn on screen at the current `presencial` step.
    pub async fn sign_in_person(
        &self,
        archive: &Archive,
        tramite: &Tramite<'_>,
        user: &User,
        drawing: Drawing<'_>,
    ) -> Result<(), StepError> {
        let step = current(tramite, StepKind::Presencial)?;
        check_role(step, user)?;
        let signers = self.hand_signers_of(archive, tramite).await?;
        if signers.len() > HAND_SIGNATURES_MAX {
            return Err(StepError::Refused(format!(
                "son {} firmantes; en pantalla se recaban hasta {HAND_SIGNATURES_MAX}: use el papel",
                signers.len()
            )));
        }
        let Some((signer, _)) = signers.iter().find(|(s, _)| s.key == drawing.signer) else {
            return Err(StepError::Refused(format!(
                "firmante: «{}» no es de quienes firman en este paso",
                drawing.signer
            )));
        };
        if !drawing.consent {
            return Err(StepError::Refused(
                "consentimiento: la persona debe confirmar en la pantalla que firma este documento".into(),
            ));
        }
        crate::signature_image::check_drawn(&drawing.png)
            .map_err(|e| StepError::Refused(format!("firma: {e}")))?;
        let device = device_name(drawing.device);
        archive
            .add_hand_signature(
                NewHandSignature {
                    item: SignedItem::Draft(tramite.draft.row_id, &step.id),
                    signer: &signer.key,
                    name: &signer.name,
                    kind: ON_SCREEN,
                    purpose: &step.label,
                    bytes: drawing.png,
                    media_type: "image/png",
                    consent: true,
                    device: &device,
                },
                &taker(user),
            )
            .await?;
        Ok(())
    }

    /// Ends the current `presencial` step: every signer has drawn their
    /// signature, or, with `on_paper`, they will sign the printed
    /// document, whose scan is then attached to its record.
    pub async fn finish_in_person(
        &self,
        archive: &Archive,
        tramite: &Tramite<'_>,
        user: &User,
        on_paper: bool,
    ) -> Result<(), StepError> {
        let (step, note) = self.in_person_done(archive, tramite, user, on_paper).await?;
        let next = tramite.form.workflow.after(&step.id).unwrap_or(step);
        self.take(
            archive,
            tramite,
            moving(tramite, step, &next.id, Action::Presencial, Some(&note)),
            user,
        )
        .await
    }

    /// [`Tramites::finish_in_person`] on paper, without telling anyone:
    /// the draft is issued in one go.
    pub(super) async fn leave_to_paper_quietly(
        &self,
        archive: &Archive,
        tramite: &Tramite<'_>,
        user: &User,
    ) -> Result<(), StepError> {
        let (step, note) = self.in_person_done(archive, tramite, user, true).await?;
        let next = tramite.form.workflow.after(&step.id).unwrap_or(step);
        let moved = moving(tramite, step, &next.id, Action::Presencial, Some(&note));
        archive.take_step(&moved, &taker(user)).await?;
        Ok(())
    }

    /// The checks of ending a `presencial` step, and the remark that says
    /// who will sign the paper.
    async fn in_person_done<'a>(
        &self,
        archive: &Archive,
        tramite: &Tramite<'a>,
        user: &User,
        on_paper: bool,
    ) -> Result<(&'a crate::forms::Step, String), StepError> {
        let step = current(tramite, StepKind::Presencial)?;
        check_role(step, user)?;
        let signers = self.hand_signers_of(archive, tramite).await?;
        let missing: Vec<&str> = signers
            .iter()
            .filter(|(_, drawn)| drawn.is_none())
            .map(|(s, _)| s.name.as_str())
            .collect();
        if !missing.is_empty() && !on_paper {
            return Err(StepError::Refused(format!(
                "faltan las firmas de: {}; recábelas o indique que firmarán en papel",
                missing.join(", ")
            )));
        }
        // Who, by the field that names them: the trail keeps no names.
        let on_paper: Vec<&str> = signers
            .iter()
            .filter(|(_, drawn)| drawn.is_none())
            .map(|(s, _)| s.key.as_str())
            .collect();
        let note = if on_paper.is_empty() {
            "firmas en pantalla".to_owned()
        } else {
            format!("firmarán en papel: {}", on_paper.join(", "))
        };
        Ok((step, note))
    }
}

/// The signatures drawn on screen since the draft was last sent on: a
/// rejection, and the changes that follow it, void those before.
pub(super) async fn round_hand_signatures(
    archive: &Archive,
    tramite: &Tramite<'_>,
) -> Result<Vec<HandSignatureRecord>, StepError> {
    let since = tramite
        .history
        .iter()
        .rev()
        .find(|s| s.action == Action::Enviado)
        .map(|s| s.at.clone())
        .unwrap_or_default();
    let all = archive
        .hand_signatures(SignedItem::Draft(tramite.draft.row_id, ""))
        .await?;
    Ok(all
        .into_iter()
        .filter(|h| h.kind == ON_SCREEN && h.at > since)
        .collect())
}

/// The device a browser names, as kept: at most 200 characters.
pub(super) fn device_name(device: &str) -> String {
    let device: String = device.chars().take(200).collect();
    if device.trim().is_empty() {
        "no indicado".to_owned()
    } else {
        device
    }
}
