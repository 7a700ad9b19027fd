//! Hand signatures given after issue: the scan of the signed printed
//! document, or an acknowledgement (a receipt at delivery, a monthly
//! renewal) drawn on screen or scanned, attached to the document's record.

use super::hand::{ON_SCREEN, device_name};
use super::{StepError, Tramites, forbidden, taker};
use crate::accounts::User;
use crate::archive::{Archive, NewHandSignature, SignedItem};
use crate::public_id::PublicId;

/// The largest scan of a signed paper accepted.
pub const SCAN_MAX: usize = 10 * 1024 * 1024;

/// How a scanned paper signature is recorded.
const ON_PAPER: &str = "papel";

/// A hand signature given after issue.
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

impl Tramites<'_> {
    /// Attaches a hand signature to an issued, current document's record
    /// (by the database's key).
    pub async fn attach_to_document(
        &self,
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
        let sniffed = sniffed_type(&attachment.bytes);
        if sniffed.is_empty() || sniffed != attachment.media_type {
            return Err(StepError::Refused(
                "archivo: debe ser un PDF, JPEG o PNG, del tipo que se indica".into(),
            ));
        }
        match attachment.kind {
            ON_PAPER => {}
            ON_SCREEN => {
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
        let device = device_name(attachment.device);
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
                    device: &device,
                },
                &taker(user),
            )
            .await?;
        Ok(id)
    }
}

/// The type the file's first bytes say it is, of those accepted; empty
/// for any other.
fn sniffed_type(bytes: &[u8]) -> &'static str {
    match bytes {
        [b'%', b'P', b'D', b'F', b'-', ..] => "application/pdf",
        [0xFF, 0xD8, 0xFF, ..] => "image/jpeg",
        [0x89, b'P', b'N', b'G', ..] => "image/png",
        _ => "",
    }
}
