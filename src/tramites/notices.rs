//! E-mail notices: when a draft moves to a step, the people whose role
//! takes it (or its drafter, when it comes back or waits for hand
//! signatures) get a short message with its link. Off unless the
//! configuration names a mail server. The message carries the form's
//! title, the day the draft was started and its link (whose id is opaque),
//! never the data of the people in it; a notice that cannot be sent is
//! logged, and nothing else changes.

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};

use super::Tramites;
use crate::accounts::User;
use crate::archive::Archive;
use crate::config::Config;
use crate::forms::StepKind;
use crate::public_id::PublicId;

/// Sends the notices, if a mail server is configured.
pub struct Notifier {
    pub(super) mailer: Option<(AsyncSmtpTransport<Tokio1Executor>, Mailbox)>,
    pub(super) base_url: String,
}

impl Notifier {
    pub fn new(config: &Config) -> std::io::Result<Self> {
        let mailer = match &config.smtp {
            None => None,
            Some(smtp) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&smtp.url)
                    .map_err(|e| std::io::Error::other(format!("SELLO_SMTP_URL: {e}")))?
                    .build();
                let from = smtp
                    .from
                    .parse()
                    .map_err(|e| std::io::Error::other(format!("SELLO_SMTP_FROM: {e}")))?;
                Some((transport, from))
            }
        };
        Ok(Self {
            mailer,
            base_url: config.base_url.clone(),
        })
    }

    /// Tells whoever now has draft `id`'s step that it waits for them. The
    /// messages go out in the background.
    pub(super) async fn draft_moved(&self, tramites: &Tramites<'_>, archive: &Archive, id: PublicId) {
        let Some((transport, from)) = &self.mailer else {
            return;
        };
        let Ok(tramite) = tramites.load(archive, id).await else {
            return;
        };
        let Some(step) = tramite.step else {
            return;
        };
        let office = &archive.office().code;
        let recipients: Vec<User> = match step.kind {
            StepKind::Captura | StepKind::Presencial => {
                match tramites.accounts.user(office, tramite.draft.created_by).await {
                    Ok(drafter) => vec![drafter],
                    Err(_) => Vec::new(),
                }
            }
            _ => match tramites.accounts.users(office).await {
                Ok(users) => users.into_iter().filter(|u| u.role == step.role).collect(),
                Err(_) => Vec::new(),
            },
        };
        let returned = tramite.returned_because().is_some();
        let title = &tramite.form.title;
        let subject = if returned {
            format!("Sello: «{title}» le fue devuelto")
        } else {
            format!("Sello: «{title}» espera «{}»", step.label)
        };
        let zone = tramites.issuer.time_zone_of(archive.office());
        let started = chrono::DateTime::parse_from_rfc3339(&tramite.draft.created_at).map_or_else(
            |_| tramite.draft.created_at.clone(),
            |at| crate::forms::long_date(at.with_timezone(&zone).date_naive()),
        );
        let body = format!(
            "{title} (borrador del {started}) espera su paso «{}».{}\n\nÁbralo en Sello: {}/borradores/{id}\n",
            step.label,
            if returned {
                " Se lo devolvieron con un motivo: véalo en Sello."
            } else {
                ""
            },
            self.base_url,
        );
        for user in recipients.into_iter().filter(|u| u.active) {
            let Some(to) = user
                .email
                .as_deref()
                .and_then(|e| e.parse::<lettre::Address>().ok())
            else {
                continue;
            };
            let message = Message::builder()
                .from(from.clone())
                .to(Mailbox::new(Some(user.display_name.clone()), to))
                .subject(subject.clone())
                .body(body.clone());
            let message = match message {
                Ok(message) => message,
                Err(error) => {
                    tracing::warn!(error = %error, draft.id = %id, "no se pudo componer el aviso");
                    continue;
                }
            };
            let transport = transport.clone();
            tokio::spawn(async move {
                match transport.send(message).await {
                    Ok(_) => tracing::info!(draft.id = %id, user = user.id, "aviso enviado por correo"),
                    // The server's answer may quote the address: only its code is logged.
                    Err(error) => tracing::warn!(
                        smtp_code = error.status().map(|c| c.to_string()),
                        permanent = error.is_permanent(),
                        draft.id = %id,
                        user = user.id,
                        "no se pudo enviar el aviso"
                    ),
                }
            });
        }
    }
}
