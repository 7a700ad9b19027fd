//! Taking a draft through its form's workflow, for the staff pages and the
//! API alike: who may act at each step, what each action checks, and the
//! last signature that issues the document. The archive records every step.
//!
//! Long because every rule of a draft's way is here, one function per
//! action with the checks it shares (four eyes, roles, the round).

use chrono::DateTime;
use serde::Serialize;
use serde_json::Value;

use super::AppState;
use crate::accounts::User;
use crate::archive::{
    Archive, ArchiveError, DraftRecord, FinalSignature, HandSignatureRecord, IssueOrder, Issued, Move,
    NewHandSignature, SignedItem, StepRecord, Taker,
};
use crate::forms::{
    FormSpec, HandSigner, IssueDate, Step, StepKind, StepTaker, fill_signers, hand_signers, validate,
};
use crate::issue::IssueError;
use crate::public_id::PublicId;
use crate::render::Endorsement;
use crate::render::HAND_SIGNATURES_MAX;

/// The idempotency keys of drafts' last signatures start so; no client
/// may use one.
pub const DRAFT_KEY_PREFIX: &str = "borrador-";

/// The longest rejection reason or remark kept.
pub const NOTE_MAX: usize = 1000;

/// Why a step was not taken. Nothing changed in any case.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The draft does not exist in the caller's office.
    #[error("{0}")]
    NotFound(String),
    /// The caller's role does not take this step, or they already signed.
    #[error("{0}")]
    Forbidden(String),
    /// The step does not apply now (wrong step, reason missing…).
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
}

/// A draft with its form and where it stands.
pub struct Tramite<'a> {
    pub draft: DraftRecord,
    pub form: &'a FormSpec,
    /// The step it is at; `None` once issued.
    pub step: Option<&'a Step>,
    pub history: Vec<StepRecord>,
    /// When it was loaded, in the office's time zone: its data is checked
    /// as a draft to be issued that day or later.
    pub loaded_at: DateTime<chrono_tz::Tz>,
}

impl Tramite<'_> {
    /// The reason of the rejection that brought the draft back to its
    /// drafter, if that is the last thing that happened.
    pub fn returned_because(&self) -> Option<&str> {
        self.history
            .last()
            .filter(|s| s.action == "rechazado")
            .and_then(|s| s.note.as_deref())
    }

    /// Whether `user` may act at the current step. A draft in
    /// elaboration is its drafter's alone: a reviewer who changed what he
    /// approves would approve his own words.
    pub fn awaits(&self, user: &User) -> bool {
        self.step.is_some_and(|step| {
            step.open_to(user.role) && (step.kind != StepKind::Captura || self.is_drafter(user))
        })
    }

    /// Whether `user` prepared the draft: the only one who edits it.
    pub fn is_drafter(&self, user: &User) -> bool {
        self.draft.created_by == user.id
    }

    /// The visados and signatures given since the draft was last sent on:
    /// a rejection voids those before it.
    fn this_round(&self) -> &[StepRecord] {
        let start = self
            .history
            .iter()
            .rposition(|s| s.action == "enviado")
            .map_or(0, |i| i + 1);
        &self.history[start..]
    }
}

/// Loads a draft of the caller's office and places it in its workflow.
pub async fn load<'a>(
    state: &'a AppState,
    archive: &Archive,
    id: PublicId,
) -> Result<Tramite<'a>, StepError> {
    let draft = archive.draft(id).await.map_err(|e| match e {
        ArchiveError::Refused(message) => StepError::NotFound(message),
        other => other.into(),
    })?;
    let form = state.catalog.get(&draft.form).ok_or_else(|| {
        StepError::Refused(format!(
            "el formulario «{}» ya no está en el catálogo",
            draft.form
        ))
    })?;
    let step = match draft.document_id {
        Some(_) => None,
        None => Some(form.workflow.current(draft.step.as_deref())),
    };
    let history = archive.draft_steps(draft.row_id).await?;
    Ok(Tramite {
        draft,
        form,
        step,
        history,
        loaded_at: state.issuer.now_in(archive.office()),
    })
}

/// Saves a new draft (at its first step) or changes one still at it.
pub async fn save(
    archive: &Archive,
    form: &FormSpec,
    draft: Option<PublicId>,
    data: &Value,
    user: &User,
) -> Result<PublicId, StepError> {
    if !user.role.can_draft() {
        return Err(forbidden(user, "preparar borradores"));
    }
    if let Some(id) = draft {
        let existing = archive.draft(id).await.map_err(|e| match e {
            ArchiveError::Refused(message) => StepError::NotFound(message),
            other => other.into(),
        })?;
        if existing.created_by != user.id {
            return Err(only_the_drafter());
        }
    }
    let first = form.workflow.first();
    Ok(archive
        .save_draft(draft, form.id.as_str(), data, user.id, &first.id)
        .await?)
}

/// Sends a finished draft on to its next step; its data must be valid.
pub async fn submit(archive: &Archive, tramite: &Tramite<'_>, user: &User) -> Result<(), StepError> {
    let step = current(tramite, StepKind::Captura)?;
    check_role(step, user)?;
    if !tramite.is_drafter(user) {
        return Err(only_the_drafter());
    }
    let data: Value = serde_json::from_str(&tramite.draft.data).unwrap_or_default();
    validate(tramite.form, &data, IssueDate::draft(&tramite.loaded_at))
        .map_err(|p| ArchiveError::Issue(IssueError::Invalid(p)))?;
    let next = tramite.form.workflow.after(&step.id).unwrap_or(step);
    take(archive, tramite, step, &next.id, "enviado", None, user).await
}

/// Gives the visado or approval of the current step.
pub async fn approve(
    archive: &Archive,
    tramite: &Tramite<'_>,
    user: &User,
    note: Option<&str>,
) -> Result<(), StepError> {
    let step = current(tramite, StepKind::Visado)?;
    check_role(step, user)?;
    check_someone_else(tramite, step, user)?;
    let note = checked_note(note)?;
    let next = tramite.form.workflow.after(&step.id).unwrap_or(step);
    take(archive, tramite, step, &next.id, "visado", note, user).await
}

/// Four eyes: a visado or signature is given by someone other than the
/// drafter, and by no one twice in a round. Only where the workflow asks
/// for nothing but one signature may the drafter sign what they wrote.
fn check_someone_else(tramite: &Tramite<'_>, step: &Step, user: &User) -> Result<(), StepError> {
    let own = tramite.draft.created_by == user.id;
    let single_signature =
        step.kind == StepKind::Firma && tramite.form.workflow.allows_direct_issue(user.role);
    if own && !single_signature {
        return Err(StepError::Forbidden(format!(
            "«{}» la da otra persona: usted preparó este borrador",
            step.label
        )));
    }
    let already = tramite
        .this_round()
        .iter()
        .any(|s| (s.action == "visado" || s.action == "firmado") && s.user_id == user.id);
    if already {
        return Err(StepError::Forbidden(format!(
            "«{}» la da otra persona: usted ya dio su visto bueno o su firma a este borrador",
            step.label
        )));
    }
    Ok(())
}

/// The people the current `presencial` step asks to sign, each with the
/// signature drawn this round, if any.
pub async fn hand_signers_of(
    archive: &Archive,
    tramite: &Tramite<'_>,
) -> Result<Vec<(HandSigner, Option<HandSignatureRecord>)>, StepError> {
    let Some(step) = tramite.step.filter(|s| s.kind == StepKind::Presencial) else {
        return Ok(Vec::new());
    };
    let data: Value = serde_json::from_str(&tramite.draft.data).unwrap_or_default();
    let drawn = round_hand_signatures(archive, tramite).await?;
    Ok(hand_signers(tramite.form, step, &data)
        .into_iter()
        .map(|signer| {
            let found = drawn.iter().find(|d| d.signer == signer.key).cloned();
            (signer, found)
        })
        .collect())
}

/// The signatures drawn on screen since the draft was last sent on: a
/// rejection, and the changes that follow it, void those before.
async fn round_hand_signatures(
    archive: &Archive,
    tramite: &Tramite<'_>,
) -> Result<Vec<HandSignatureRecord>, StepError> {
    let since = tramite
        .history
        .iter()
        .rev()
        .find(|s| s.action == "enviado")
        .map(|s| s.at.clone())
        .unwrap_or_default();
    let all = archive
        .hand_signatures(SignedItem::Draft(tramite.draft.row_id, ""))
        .await?;
    Ok(all
        .into_iter()
        .filter(|h| h.kind == "pantalla" && h.at > since)
        .collect())
}

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

/// Records a signature drawn on screen at the current `presencial` step.
pub async fn sign_in_person(
    archive: &Archive,
    tramite: &Tramite<'_>,
    user: &User,
    drawing: Drawing<'_>,
) -> Result<(), StepError> {
    let step = current(tramite, StepKind::Presencial)?;
    check_role(step, user)?;
    let signers = hand_signers_of(archive, tramite).await?;
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
    let device: String = drawing.device.chars().take(200).collect();
    archive
        .add_hand_signature(
            NewHandSignature {
                item: SignedItem::Draft(tramite.draft.row_id, &step.id),
                signer: &signer.key,
                name: &signer.name,
                kind: "pantalla",
                purpose: &step.label,
                bytes: drawing.png,
                media_type: "image/png",
                consent: true,
                device: if device.trim().is_empty() {
                    "no indicado"
                } else {
                    &device
                },
            },
            &taker(user),
        )
        .await?;
    Ok(())
}

/// Ends the current `presencial` step: every signer has drawn their
/// signature, or, with `on_paper`, they will sign the printed document,
/// whose scan is then attached to its record.
pub async fn finish_in_person(
    archive: &Archive,
    tramite: &Tramite<'_>,
    user: &User,
    on_paper: bool,
) -> Result<(), StepError> {
    let step = current(tramite, StepKind::Presencial)?;
    check_role(step, user)?;
    let signers = hand_signers_of(archive, tramite).await?;
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
    let next = tramite.form.workflow.after(&step.id).unwrap_or(step);
    take(archive, tramite, step, &next.id, "presencial", Some(&note), user).await
}

/// Sends the draft back (to its drafter, or where the workflow says) with
/// the reason, which is required.
pub async fn reject(
    archive: &Archive,
    tramite: &Tramite<'_>,
    user: &User,
    reason: &str,
) -> Result<(), StepError> {
    let step = tramite.step.ok_or_else(already_issued)?;
    if step.kind == StepKind::Captura {
        return Err(StepError::Refused(
            "el borrador está en elaboración; no hay nada que rechazar".into(),
        ));
    }
    check_role(step, user)?;
    let reason = checked_note(Some(reason))?.ok_or_else(|| {
        StepError::Refused("motivo: escriba por qué se rechaza, para quien lo corrija".into())
    })?;
    let back = tramite.form.workflow.rejected_to();
    take(archive, tramite, step, &back.id, "rechazado", Some(reason), user).await
}

/// What a signature did: moved the draft on, or issued the document.
pub enum Signed {
    MovedOn,
    Issued(Box<Issued>),
}

/// Signs at the current step; the last signature issues the document,
/// signed under the office's key, carrying every visado and signature.
pub async fn sign(
    state: &AppState,
    archive: &Archive,
    tramite: &Tramite<'_>,
    user: &User,
) -> Result<Signed, StepError> {
    let step = current(tramite, StepKind::Firma)?;
    check_role(step, user)?;
    check_someone_else(tramite, step, user)?;
    let round = tramite.this_round();
    let workflow = &tramite.form.workflow;
    if let Some(next) = workflow.after(&step.id) {
        take(archive, tramite, step, &next.id, "firmado", None, user).await?;
        return Ok(Signed::MovedOn);
    }

    let zone = state.issuer.time_zone_of(archive.office());
    let mut endorsements: Vec<Endorsement> = round
        .iter()
        .filter(|s| s.action == "visado" || s.action == "firmado")
        .map(|s| Endorsement {
            paso_id: s.step.clone(),
            paso: workflow.step(&s.step).map_or(s.step.clone(), |w| w.label.clone()),
            tipo: if s.action == "firmado" {
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
    let issued_at = state.issuer.now_in(archive.office());
    endorsements.push(Endorsement {
        paso_id: step.id.clone(),
        paso: step.label.clone(),
        tipo: StepKind::Firma,
        nombre: user.display_name.clone(),
        cargo: user.cargo.clone(),
        fecha_hora: issued_at.to_rfc3339(),
    });
    let typed: Value = serde_json::from_str(&tramite.draft.data).unwrap_or_default();
    // Who signed and approved is who the accounts are, not who was typed.
    let data = signed_data(tramite.form, &typed, &endorsements);
    // Its `presencial` steps ended: whoever did not draw signs the paper.
    let on_paper: Vec<String> = crate::forms::paper_signers(tramite.form, &data)
        .into_iter()
        .filter(|signer| !hand_signatures.iter().any(|(drawn, _)| drawn == signer))
        .collect();
    // The draft's own key: a second signer at the same moment, or a
    // retry, gets the document already issued. Made of the database's key,
    // as before public ids, and never shown.
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
    let issued = state
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
    Ok(Signed::Issued(Box::new(issued)))
}

/// The one signature of a document issued in one go by `user` (from the
/// entry form or `POST /documents`): the last step of its workflow.
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

/// The largest scan of a signed paper accepted.
pub const SCAN_MAX: usize = 10 * 1024 * 1024;

/// A hand signature given after issue: the scan of the signed printed
/// document, or an acknowledgement (a receipt at delivery, a monthly
/// renewal) drawn on screen or scanned.
pub struct Attachment<'a> {
    /// `papel` or `pantalla`.
    pub kind: &'a str,
    /// What it acknowledges: «Acuse de recibo», «Renovación de noviembre».
    pub purpose: &'a str,
    pub media_type: &'a str,
    pub bytes: Vec<u8>,
    /// Who signed, when one person did; empty for the whole document.
    pub name: &'a str,
    pub consent: bool,
    pub device: &'a str,
}

/// Attaches a hand signature to an issued, current document's record.
pub async fn attach_to_document(
    archive: &Archive,
    document_id: i64,
    user: &User,
    attachment: Attachment<'_>,
) -> Result<PublicId, StepError> {
    if !user.role.can_draft() {
        return Err(forbidden(user, "adjuntar firmas"));
    }
    let purpose = attachment.purpose.trim();
    if purpose.is_empty() || purpose.chars().count() > 200 {
        return Err(StepError::Refused(
            "propósito: diga en hasta 200 caracteres qué se firma (como «Acuse de recibo»)".into(),
        ));
    }
    let name = attachment.name.trim();
    if name.chars().count() > 200 {
        return Err(StepError::Refused(
            "nombre: escriba como máximo 200 caracteres".into(),
        ));
    }
    if attachment.bytes.len() > SCAN_MAX {
        return Err(StepError::Refused(format!(
            "archivo: pesa más de {} MB",
            SCAN_MAX / (1024 * 1024)
        )));
    }
    let sniffed = match attachment.bytes.as_slice() {
        [b'%', b'P', b'D', b'F', b'-', ..] => "application/pdf",
        [0xFF, 0xD8, 0xFF, ..] => "image/jpeg",
        [0x89, b'P', b'N', b'G', ..] => "image/png",
        _ => "",
    };
    if sniffed.is_empty() || sniffed != attachment.media_type {
        return Err(StepError::Refused(
            "archivo: debe ser un PDF, JPEG o PNG, del tipo que se indica".into(),
        ));
    }
    match attachment.kind {
        "papel" => {}
        "pantalla" => {
            if !attachment.consent {
                return Err(StepError::Refused(
                    "consentimiento: la persona debe confirmar en la pantalla que firma".into(),
                ));
            }
            if name.is_empty() {
                return Err(StepError::Refused("nombre: diga quién firma".into()));
            }
            if sniffed != "image/png" {
                return Err(StepError::Refused(
                    "archivo: una firma en pantalla es un PNG".into(),
                ));
            }
            crate::signature_image::check_drawn(&attachment.bytes)
                .map_err(|e| StepError::Refused(format!("firma: {e}")))?;
        }
        _ => return Err(StepError::Refused("tipo: use «papel» o «pantalla»".into())),
    }
    let device: String = attachment.device.chars().take(200).collect();
    let id = archive
        .add_hand_signature(
            NewHandSignature {
                item: SignedItem::Document(document_id),
                signer: "",
                name,
                kind: attachment.kind,
                purpose,
                bytes: attachment.bytes,
                media_type: sniffed,
                consent: attachment.consent,
                device: if device.trim().is_empty() {
                    "no indicado"
                } else {
                    &device
                },
            },
            &taker(user),
        )
        .await?;
    Ok(id)
}

/// A draft waiting for someone, as their inbox lists it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InboxItem {
    pub draft: PublicId,
    pub form: String,
    pub form_title: String,
    /// The step waiting: its id and label.
    pub step: String,
    pub step_label: String,
    /// Who prepared it.
    pub author: String,
    pub updated_at: String,
    /// Why it came back, when a rejection returned it to its drafter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub returned_because: Option<String>,
}

/// The drafts waiting for `user`: at a step their role takes, or, in
/// elaboration, their own (new or sent back to them).
pub async fn inbox(state: &AppState, archive: &Archive, user: &User) -> Result<Vec<InboxItem>, StepError> {
    let mut items = Vec::new();
    for draft in archive.open_drafts(500).await? {
        let Some(form) = state.catalog.get(&draft.form) else {
            continue;
        };
        let workflow = &form.workflow;
        let step = workflow.current(draft.step.as_deref());
        // Writing it and collecting its hand signatures is its drafter's.
        let waiting = match step.kind {
            StepKind::Captura | StepKind::Presencial => draft.created_by == user.id,
            _ => step.open_to(user.role),
        };
        if !waiting {
            continue;
        }
        let returned_because = if step.kind == StepKind::Captura {
            let history = archive.draft_steps(draft.row_id).await?;
            history
                .last()
                .filter(|s| s.action == "rechazado")
                .and_then(|s| s.note.clone())
        } else {
            None
        };
        items.push(InboxItem {
            draft: draft.id,
            form: form.id.to_string(),
            form_title: form.title.clone(),
            step: step.id.clone(),
            step_label: step.label.clone(),
            author: draft.author,
            updated_at: draft.updated_at,
            returned_because,
        });
    }
    Ok(items)
}

/// An RFC 3339 moment as the office reads it.
fn in_zone(moment: &str, zone: chrono_tz::Tz) -> String {
    DateTime::parse_from_rfc3339(moment).map_or(moment.to_owned(), |at| at.with_timezone(&zone).to_rfc3339())
}

fn current<'a>(tramite: &Tramite<'a>, kind: StepKind) -> Result<&'a Step, StepError> {
    let step = tramite.step.ok_or_else(already_issued)?;
    if step.kind != kind {
        let wanted = match kind {
            StepKind::Captura => "enviarse",
            StepKind::Visado => "recibir visto bueno",
            StepKind::Firma => "firmarse",
            StepKind::Presencial => "recibir firmas en persona",
        };
        return Err(StepError::Refused(format!(
            "el borrador está en el paso «{}»; no puede {wanted} ahora",
            step.label
        )));
    }
    Ok(step)
}

fn check_role(step: &Step, user: &User) -> Result<(), StepError> {
    if step.open_to(user.role) {
        Ok(())
    } else {
        Err(StepError::Forbidden(format!(
            "el paso «{}» lo toma el rol {}; su rol es {}",
            step.label,
            step.role.as_str(),
            user.role.as_str()
        )))
    }
}

fn forbidden(user: &User, what: &str) -> StepError {
    StepError::Forbidden(format!("el rol {} no permite {what}", user.role.as_str()))
}

/// Four eyes: whoever changes a draft is one of its preparers, and then
/// neither gives it a visado nor signs it; so only its drafter changes it.
fn only_the_drafter() -> StepError {
    StepError::Forbidden(
        "solo quien preparó el borrador lo corrige o lo envía; si hay algo que cambiar, recháchelo con el motivo".into(),
    )
}

fn already_issued() -> StepError {
    StepError::Refused("el borrador ya se emitió; su documento está en el archivo".into())
}

/// A remark or reason, trimmed; `None` when empty.
fn checked_note(note: Option<&str>) -> Result<Option<&str>, StepError> {
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > NOTE_MAX) {
        return Err(StepError::Refused(format!(
            "motivo: escriba como máximo {NOTE_MAX} caracteres"
        )));
    }
    Ok(note)
}

fn taker(user: &User) -> Taker<'_> {
    Taker {
        user_id: user.id,
        username: &user.username,
        name: &user.display_name,
        cargo: &user.cargo,
    }
}

async fn take(
    archive: &Archive,
    tramite: &Tramite<'_>,
    step: &Step,
    to: &str,
    action: &'static str,
    note: Option<&str>,
    user: &User,
) -> Result<(), StepError> {
    let first = tramite.form.workflow.first();
    let moved = Move {
        draft_id: tramite.draft.row_id,
        from: &step.id,
        from_first: step.id == first.id,
        to,
        action,
        note,
    };
    archive.take_step(&moved, &taker(user)).await?;
    Ok(())
}
