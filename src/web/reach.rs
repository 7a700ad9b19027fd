//! How far a member of staff reaches beyond their own office: the one
//! place the staff pages and the API ask. Everything written goes to the
//! account's own office (`AppState::archive_for`); what is read may also
//! come from the offices under it (`Accounts::visible_offices`), and every
//! such view is recorded in the audit trail of the office seen. A grant
//! (`Accounts::granted_offices`) lets an account of an office above take the
//! visado of a draft in one office under it, and nothing else there.

use serde_json::{Value, json};

use super::AppState;
use crate::accounts::{AccountError, Role, User};
use crate::archive::{Archive, ArchiveError, DocumentRecord, ExpedienteRecord, NewEvent, SearchHit};
use crate::forms::StepKind;
use crate::public_id::PublicId;
use crate::tramites::{StepError, Tramite};

/// How an account reached a draft it acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftReach {
    /// Of its own office: its role says what it may do there.
    Own,
    /// Of an office under its own, through a grant of this role: the
    /// visado and nothing else.
    Granted(Role),
}

impl DraftReach {
    /// Nothing if the account may take a step on `tramite` this way. In
    /// its own office, always (the step's own checks follow). Through a
    /// grant only the visado: `visado` says the act is giving it or
    /// rejecting, and the draft must wait at a visado step of the granted
    /// role. Writing, holding the tablet while people sign, declaring
    /// paper signatures and signing are the office's own staff's.
    pub fn allows(self, tramite: &Tramite<'_>, visado: bool) -> Result<(), StepError> {
        let Self::Granted(role) = self else {
            return Ok(());
        };
        match tramite.step {
            Some(step) if visado && step.kind == StepKind::Visado && step.role == role => Ok(()),
            _ => Err(StepError::Forbidden(format!(
                "el visado que se le concedió en esta oficina solo le permite dar el visto bueno \
                 o rechazar en un paso de visado de {}; este paso corresponde al personal de la oficina",
                role.label()
            ))),
        }
    }
}

/// What a view across offices was of, as the audit trail names it.
#[derive(Debug, Clone, Copy)]
pub enum CrossView {
    Document,
    Pdf,
    Expediente,
    Search,
    Draft,
    /// A hand signature's image or scan, shown on a document's page.
    HandSignature,
}

impl CrossView {
    fn as_str(self) -> &'static str {
        match self {
            Self::Document => "documento",
            Self::Pdf => "pdf",
            Self::Expediente => "expediente",
            Self::Search => "busqueda",
            Self::Draft => "borrador",
            Self::HandSignature => "firma_en_persona",
        }
    }
}

/// An account error met while reaching an archive, as an archive error.
fn archive_error(error: AccountError) -> ArchiveError {
    match error {
        AccountError::Store(error) => ArchiveError::Store(error),
        other => ArchiveError::Refused(other.to_string()),
    }
}

impl AppState {
    /// The codes of the offices `user` may read: their own first, then
    /// those under it. What statistics and searches narrow to.
    pub async fn visible_offices(&self, user: &User) -> Result<Vec<String>, ArchiveError> {
        self.accounts.visible_offices(user).await.map_err(archive_error)
    }

    /// The archive of office `code`, with its identity.
    pub async fn archive_of_office(&self, code: &str) -> Result<Archive, ArchiveError> {
        let office = self
            .accounts
            .office(code)
            .await
            .map_err(archive_error)?
            .unwrap_or_else(|| crate::archive::Office::new(code, code));
        Ok(self.archive.for_office(office))
    }

    /// The offices a search of `user` covers: every office they may read,
    /// or only `asked` if they may read it. An office they may not read
    /// is answered as one that does not exist.
    pub async fn search_offices(
        &self,
        user: &User,
        asked: Option<&str>,
    ) -> Result<Vec<String>, ArchiveError> {
        let visible = self.visible_offices(user).await?;
        match asked.map(str::trim).filter(|a| !a.is_empty()) {
            None => Ok(visible),
            Some(asked) => {
                let asked = asked.to_uppercase();
                if visible.contains(&asked) {
                    Ok(vec![asked])
                } else {
                    Err(ArchiveError::Refused(format!(
                        "oficina: no existe «{asked}» entre las oficinas que usted consulta"
                    )))
                }
            }
        }
    }

    /// A document `user` may read, by id or folio, with the archive it is
    /// in: their own office's first, then those under it (a view recorded
    /// in the audit trail). A document of any other office is as missing
    /// as one that does not exist.
    pub async fn readable_document(
        &self,
        user: &User,
        reference: &str,
        view: CrossView,
    ) -> Result<(Archive, DocumentRecord), ArchiveError> {
        let own = self.archive_for(user).await.map_err(archive_error)?;
        let missing = match own.document(reference).await {
            Ok(document) => return Ok((own, document)),
            Err(missing @ ArchiveError::DocumentNotFound(_)) => missing,
            Err(other) => return Err(other),
        };
        for office in self.visible_offices(user).await?.iter().skip(1) {
            let archive = self.archive_of_office(office).await?;
            match archive.document(reference).await {
                Ok(document) => {
                    let details = json!({"folio": document.folio});
                    self.record_cross_view(user, &archive, view, (Some(document.row_id), None), details)
                        .await?;
                    return Ok((archive, document));
                }
                Err(ArchiveError::DocumentNotFound(_)) => {}
                Err(other) => return Err(other),
            }
        }
        Err(missing)
    }

    /// An expediente `user` may read, as [`AppState::readable_document`].
    pub async fn readable_expediente(
        &self,
        user: &User,
        id: PublicId,
    ) -> Result<(Archive, ExpedienteRecord), ArchiveError> {
        let own = self.archive_for(user).await.map_err(archive_error)?;
        let missing = match own.expediente(id).await {
            Ok(expediente) => return Ok((own, expediente)),
            Err(missing @ ArchiveError::ExpedienteNotFound(_)) => missing,
            Err(other) => return Err(other),
        };
        for office in self.visible_offices(user).await?.iter().skip(1) {
            let archive = self.archive_of_office(office).await?;
            match archive.expediente(id).await {
                Ok(expediente) => {
                    let details = json!({"expediente": id.to_string()});
                    self.record_cross_view(
                        user,
                        &archive,
                        CrossView::Expediente,
                        (None, Some(expediente.row_id)),
                        details,
                    )
                    .await?;
                    return Ok((archive, expediente));
                }
                Err(ArchiveError::ExpedienteNotFound(_)) => {}
                Err(other) => return Err(other),
            }
        }
        Err(missing)
    }

    /// Records, in the trail of each other office whose documents a search
    /// of `user` showed, which of its folios were shown.
    pub async fn record_search_views(&self, user: &User, hits: &[SearchHit]) -> Result<(), ArchiveError> {
        let mut offices: Vec<&str> = hits
            .iter()
            .map(|h| h.office_code.as_str())
            .filter(|o| *o != user.office_code)
            .collect();
        offices.sort_unstable();
        offices.dedup();
        for office in offices {
            let folios: Vec<&str> = hits
                .iter()
                .filter(|h| h.office_code == office)
                .map(|h| h.folio.as_str())
                .collect();
            let archive = self.archive_of_office(office).await?;
            let details = json!({"folios": folios});
            self.record_cross_view(user, &archive, CrossView::Search, (None, None), details)
                .await?;
        }
        Ok(())
    }

    /// Seals into `archive`'s office's trail that `user`, of another
    /// office, saw `view` of it.
    pub async fn record_cross_view(
        &self,
        user: &User,
        archive: &Archive,
        view: CrossView,
        (document_id, expediente_id): (Option<i64>, Option<i64>),
        mut details: Value,
    ) -> Result<(), ArchiveError> {
        if let Value::Object(fields) = &mut details {
            fields.insert("vista".into(), view.as_str().into());
            fields.insert("desde_oficina".into(), user.office_code.clone().into());
        }
        let event = NewEvent {
            actor: user.username.clone(),
            action: "consulta.otra_oficina",
            office_code: Some(archive.office().code.clone()),
            document_id,
            expediente_id,
            draft_id: None,
            details,
        };
        self.archive
            .store()
            .record_event(event)
            .await
            .map_err(ArchiveError::Store)
    }

    /// A draft `user` may act on, with its archive and the account as it
    /// acts there: in their own office, as themselves; in an office under
    /// it where they hold a grant, with the granted role and a cargo that
    /// says which office they act from, so the visado printed on the
    /// document names it; and how it was reached, which
    /// [`DraftReach::allows`] asks before any step. A draft of any other
    /// office is not found.
    pub async fn acting_on_draft(
        &self,
        user: &User,
        id: PublicId,
    ) -> Result<(Archive, User, DraftReach), ArchiveError> {
        let own = self.archive_for(user).await.map_err(archive_error)?;
        if own.draft(id).await.is_ok() {
            return Ok((own, user.clone(), DraftReach::Own));
        }
        let granted = self.accounts.granted_offices(user).await.map_err(archive_error)?;
        for (office, role) in granted {
            let archive = self.archive_of_office(&office).await?;
            if let Ok(draft) = archive.draft(id).await {
                let details = json!({"borrador": id.to_string(), "formulario": draft.form});
                self.record_cross_view(user, &archive, CrossView::Draft, (None, None), details)
                    .await?;
                let acting = self.acting_as(user, role).await?;
                return Ok((archive, acting, DraftReach::Granted(role)));
            }
        }
        // Not theirs to act on: loading it from their own archive says so,
        // as it always did.
        Ok((own, user.clone(), DraftReach::Own))
    }

    /// The archives of the offices where `user` holds a grant, each with
    /// the account as it acts there (see [`AppState::acting_on_draft`]).
    pub async fn granted_archives(&self, user: &User) -> Result<Vec<(Archive, User)>, ArchiveError> {
        let mut reached = Vec::new();
        for (office, role) in self.accounts.granted_offices(user).await.map_err(archive_error)? {
            reached.push((
                self.archive_of_office(&office).await?,
                self.acting_as(user, role).await?,
            ));
        }
        Ok(reached)
    }

    /// `user` with the granted `role`, their cargo followed by their own
    /// office's name and code: «Supervisora de Promotores Sociales —
    /// Coordinación provincial de Coclé (PRV-COCLE)».
    async fn acting_as(&self, user: &User, role: Role) -> Result<User, ArchiveError> {
        let office = self
            .accounts
            .office(&user.office_code)
            .await
            .map_err(archive_error)?;
        let office_name = office.map_or_else(|| user.office_code.clone(), |o| o.name);
        let from = format!("{office_name} ({})", user.office_code);
        let cargo = match user.cargo.trim() {
            "" => from,
            cargo => format!("{cargo} — {from}"),
        };
        Ok(User {
            role,
            cargo,
            ..user.clone()
        })
    }
}

impl AppState {
    /// The office under `user`'s that holds the document `reference`, if
    /// one does: to say why something only readable cannot be changed.
    /// Reads nothing of the document, so records no view.
    pub async fn office_below_holding(
        &self,
        user: &User,
        reference: &str,
    ) -> Result<Option<String>, ArchiveError> {
        for office in self.visible_offices(user).await?.iter().skip(1) {
            match self.archive_of_office(office).await?.document(reference).await {
                Ok(_) => return Ok(Some(office.clone())),
                Err(ArchiveError::DocumentNotFound(_)) => {}
                Err(other) => return Err(other),
            }
        }
        Ok(None)
    }
}
