//! Mail notices of follow-ups due (issue 25, point 2): when something a
//! document owes (a monthly renewal, an acuse de entrega, a constancia)
//! falls due and no document in force closes it, the people who draft the
//! closing document, and whoever drafted the one that owes it, get one
//! message. The archive records each notice (`follow_up_notices`), so an
//! obligation is mailed once per due day, not on every round. The answer a
//! derivación awaits is mailed the same way: to whoever drafts the
//! contrarreferencia in the office that received it, and to whoever
//! drafted the derivación in the office that sent it, linking the
//! referral's page.
//!
//! Like the draft notices, the message carries the form's title, what is
//! owed, the day and a link by the document's opaque id: no folio, no data
//! of the people in it.

use chrono::{NaiveDate, Utc};
use lettre::message::Mailbox;
use lettre::{AsyncTransport as _, Message};

use super::Notifier;
use crate::accounts::{AccountError, Accounts, User};
use crate::archive::{Archive, ArchiveError, NoticeKey};
use crate::forms::Catalog;
use crate::registros::seguimientos::{self, Due};
use crate::roles::Role;

/// Why a round of notices stopped; the notices sent before stay recorded.
#[derive(Debug, thiserror::Error)]
pub enum DueNoticeError {
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error(transparent)]
    Accounts(#[from] AccountError),
}

impl Notifier {
    /// Whether notices are mailed at all (a mail server is configured).
    pub fn mails(&self) -> bool {
        self.mailer.is_some()
    }

    /// Mails each follow-up of `archive`'s office that falls due by
    /// `today` (the office's day) and was not mailed for that due day yet.
    /// How many messages the mail server took.
    pub async fn follow_ups_due(
        &self,
        archive: &Archive,
        catalog: &Catalog,
        accounts: &Accounts,
        today: NaiveDate,
    ) -> Result<usize, DueNoticeError> {
        let Some((transport, from)) = &self.mailer else {
            return Ok(0);
        };
        let due = seguimientos::pending(archive, catalog, today, 0).await?;
        if due.is_empty() {
            return Ok(0);
        }
        let users = accounts.users(&archive.office().code).await?;
        let mut sent = 0;
        for item in &due {
            // Who drafts the closing document: its workflow's first step.
            let drafts_it = catalog.get(&item.cierra).map(|f| f.workflow.first().role);
            let (link, log_id, drafts_it, drafted_by) = match &item.derivacion {
                // A derivación received: this office drafts its answer.
                Some(referral) if referral.debe_responder => (
                    format!("{}/derivaciones/{}", self.base_url, referral.id),
                    referral.id.clone(),
                    drafts_it,
                    None,
                ),
                // A derivación sent: the other office answers; whoever drafted it is told.
                Some(referral) => {
                    let Some(owing) = archive.owing_document(&item.folio).await? else {
                        continue;
                    };
                    (
                        format!("{}/derivaciones/{}", self.base_url, referral.id),
                        referral.id.clone(),
                        None,
                        owing.drafted_by,
                    )
                }
                None => {
                    let Some(owing) = archive.owing_document(&item.folio).await? else {
                        continue;
                    };
                    (
                        format!("{}/documentos/{}", self.base_url, owing.id),
                        owing.id.to_string(),
                        drafts_it,
                        owing.drafted_by,
                    )
                }
            };
            let recipients = recipients(&users, drafts_it, drafted_by);
            if recipients.is_empty() {
                // Not claimed: once someone has an address, they are told.
                continue;
            }
            let key = NoticeKey {
                folio: &item.folio,
                closing_form: &item.cierra,
                due_on: &item.vence,
            };
            if !archive.claim_follow_up_notice(key, Utc::now()).await? {
                continue;
            }
            let message = compose(from, &recipients, catalog, item, &link);
            let outcome = match message {
                Ok(message) => transport.send(message).await.map_err(|error| {
                    // The server's answer may quote an address: only its code is logged.
                    tracing::warn!(
                        smtp_code = error.status().map(|c| c.to_string()),
                        permanent = error.is_permanent(),
                        document.id = %log_id,
                        "no se pudo enviar el aviso de seguimiento"
                    );
                }),
                Err(error) => {
                    tracing::warn!(error = %error, document.id = %log_id, "no se pudo componer el aviso de seguimiento");
                    Err(())
                }
            };
            match outcome {
                Ok(_) => {
                    archive
                        .follow_up_notice_sent(key, recipients.len(), Utc::now())
                        .await?;
                    tracing::info!(document.id = %log_id, recipients = recipients.len(), "aviso de seguimiento enviado por correo");
                    sent += 1;
                }
                Err(()) => archive.release_follow_up_notice(key).await?,
            }
        }
        Ok(sent)
    }
}

/// The active accounts with an address that draft with `role`, or drafted
/// the owing document.
fn recipients(users: &[User], role: Option<Role>, drafter: Option<i64>) -> Vec<(String, lettre::Address)> {
    users
        .iter()
        .filter(|u| u.active && (Some(u.role) == role || Some(u.id) == drafter))
        .filter_map(|u| {
            let address = u.email.as_deref()?.parse::<lettre::Address>().ok()?;
            Some((u.display_name.clone(), address))
        })
        .collect()
}

fn compose(
    from: &Mailbox,
    recipients: &[(String, lettre::Address)],
    catalog: &Catalog,
    item: &Due,
    link: &str,
) -> Result<Message, lettre::error::Error> {
    let title = catalog
        .get(&item.formulario)
        .map_or(item.formulario.as_str(), |f| f.title.as_str());
    let closing = catalog
        .get(&item.cierra)
        .map_or(item.cierra.as_str(), |f| f.title.as_str());
    let day = NaiveDate::parse_from_str(&item.vence, "%Y-%m-%d")
        .map_or_else(|_| item.vence.clone(), crate::forms::long_date);
    let (subject, when) = if item.vencido {
        (
            format!("Sello: venció «{}»", item.etiqueta),
            format!("venció el {day}"),
        )
    } else {
        (
            format!("Sello: vence hoy «{}»", item.etiqueta),
            format!("vence hoy, {day}"),
        )
    };
    let what = match &item.derivacion {
        Some(referral) if referral.debe_responder => format!(
            "Una «{title}» enviada a su oficina espera su respuesta, que {when}. Se responde con un documento «{closing}» que la cite."
        ),
        Some(_) => format!(
            "Una «{title}» de su oficina espera la «{}», que {when}. La oficina que la recibió la responde con un documento «{closing}».",
            item.etiqueta
        ),
        None => format!(
            "Un documento «{title}» de su oficina debe «{}», que {when}. Se cierra con un documento «{closing}» que cite su folio.",
            item.etiqueta
        ),
    };
    let body = format!("{what}\n\nÁbralo en Sello: {link}\n");
    let mut builder = Message::builder().from(from.clone()).subject(subject);
    for (name, address) in recipients {
        builder = builder.to(Mailbox::new(Some(name.clone()), address.clone()));
    }
    builder.body(body)
}
