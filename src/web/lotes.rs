//! What a bulk lote does, for both ways in: the staff pages
//! (`staff::bulk`, `staff::lote`) and the API (`api::lotes`) only read
//! their request and show the answer. Starting a lote (read and check the
//! spreadsheet off the async workers, store it with its rows, and let the
//! job queue issue them: `web::jobs`), finding a lote of the caller's
//! office, and issuing its padrón are here, once.

use std::sync::Arc;

use super::AppState;
use crate::accounts::{AccountError, User};
use crate::archive::ArchiveError;
use crate::bulk::lotes::{self as stored, LoteRecord, NewLote};
use crate::bulk::{self, Checked};
use crate::public_id::PublicId;

/// The largest spreadsheet accepted: 51,717 families fit in a few MB.
pub const UPLOAD_MAX: usize = 50 * 1024 * 1024;

/// A spreadsheet sent to be issued (or only checked).
pub struct Upload {
    pub form_id: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
    /// Only check: issue nothing.
    pub dry_run: bool,
    /// The people its documents name sign the printed paper.
    pub on_paper: bool,
}

/// Why a lote was not started, or its padrón not issued.
#[derive(Debug, thiserror::Error)]
pub enum LoteError {
    #[error("no existe el formulario «{0}»")]
    UnknownForm(String),
    /// A form with people who sign in person, without `on_paper`: its
    /// title and what the workflow says.
    #[error("«{title}» {message}")]
    InPerson { title: String, message: String },
    /// What to correct, in Spanish.
    #[error("{0}")]
    Refused(String),
    /// Not for this account: its role, or its office's setting, in Spanish.
    #[error("{0}")]
    Forbidden(String),
    /// The lote no longer waits for approval (approved or sent back).
    #[error("este lote ya no espera aprobación")]
    NotWaiting,
    /// Another spreadsheet or lote of the office is under way.
    #[error("{0}")]
    Busy(String),
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    /// The lotes in the database could not be read or written.
    #[error(transparent)]
    Stored(#[from] stored::LoteError),
    #[error("generador aleatorio del sistema: {0}")]
    Random(#[from] getrandom::Error),
}

/// Reads and checks `upload` as a lote of `user`'s office and stores it;
/// unless it is a dry run or no row is ready, the job queue issues its
/// rows in the background (this instance starts at once). From someone
/// who does not sign its form (a capturista, where the office allows
/// preparers bulk: [`refuse_bulk`]) it waits instead for the role that
/// does to approve it ([`approve`]): a lote is signed by who approved it,
/// never in the name of who prepared it. The lote is
/// returned as stored; its progress is read from the database.
pub async fn start(state: &Arc<AppState>, user: &User, upload: Upload) -> Result<LoteRecord, LoteError> {
    let Upload {
        form_id,
        file_name,
        bytes,
        dry_run,
        on_paper,
    } = upload;
    refuse_bulk(state, user).await?;
    let spec = state
        .catalog
        .get(&form_id)
        .ok_or_else(|| LoteError::UnknownForm(form_id.clone()))?;
    bulk::refuse_reviewed(spec).map_err(LoteError::Refused)?;
    // Validating skips nothing; issuing must say who signs on paper.
    spec.workflow
        .check_in_person(on_paper || dry_run)
        .map_err(|message| LoteError::InPerson {
            title: spec.title.clone(),
            message: message.to_string(),
        })?;
    if bytes.is_empty() {
        return Err(LoteError::Refused("Elija la planilla (.csv o .xlsx).".into()));
    }
    let office = user.office_code.clone();
    // The lote's date is the office's, in its own time zone.
    let archive = state.archive_for(user).await?;
    let issued_at = state.issuer.now_in(archive.office());
    let when = crate::forms::IssueDate::issued(&issued_at);
    let Some(reading) = state.jobs.begin_reading(&office) else {
        return Err(LoteError::Busy(
            "Ya hay una planilla en revisión en su oficina; espere a que termine y vuelva a subirla.".into(),
        ));
    };
    let checked = {
        let (spec, name) = (Arc::new(spec.clone()), file_name.clone());
        off_the_workers(move || {
            let _reading = reading;
            check_upload(&spec, &name, &bytes, when)
        })
        .await
    };
    let Checked {
        total_rows,
        unused_columns,
        ready,
        problems,
    } = match checked {
        Some(Ok(checked)) => checked,
        Some(Err(message)) => return Err(LoteError::Refused(format!("{file_name}: {message}"))),
        None => {
            tracing::error!("la lectura de una planilla se interrumpió por un error interno");
            return Err(LoteError::Refused(format!(
                "{file_name}: no se pudo leer la planilla; guárdela de nuevo como .xlsx o .csv y vuelva a subirla."
            )));
        }
    };
    let store = state.archive.store();
    let awaiting_approval = !dry_run && !ready.is_empty() && !may_approve(spec, user);
    if !dry_run && !awaiting_approval && !ready.is_empty() && stored::office_busy(store, &office).await? {
        return Err(LoteError::Busy(
            "Ya hay un lote emitiéndose en su oficina; espere a que termine.".into(),
        ));
    }
    let public_id = PublicId::generate()?;
    let rows = if dry_run { &[][..] } else { &ready[..] };
    let lote = NewLote {
        public_id,
        office_code: &office,
        form: spec.id.as_str(),
        file_name: &file_name,
        on_paper,
        issued_at,
        total_rows,
        unused_columns: &unused_columns,
        // Who signs is known once it is approved.
        signer: if awaiting_approval { "" } else { &user.display_name },
        cargo: if awaiting_approval { "" } else { &user.cargo },
        actor: &user.username,
        awaiting_approval,
        rows,
        problems: &problems,
    };
    let id = stored::create_lote(store, &lote).await?;
    tracing::info!(lote.id = %public_id, rows = total_rows, "lote recibido");
    if !rows.is_empty() && !awaiting_approval {
        // This instance starts it; any other may take it over.
        super::jobs::run_due_lotes(state);
    }
    stored::lote_by_id(store, id)
        .await?
        .ok_or_else(|| stored::LoteError::Corrupt(id, "no se encontró después de guardarlo".into()).into())
}

/// What a preparer is told where their office keeps bulk for who signs.
pub const PREPARERS_BULK_OFF: &str = "Su oficina no permite la emisión por lotes a quien prepara documentos sin firmarlos. \
     Puede permitirla quien administra la oficina, en «Administración»; mientras tanto, prepare borradores uno por uno.";

/// Whether an account of `role` may use bulk issuance where its office
/// allows it to preparers (`office_allows`) or not: who signs, always;
/// who prepares documents without signing them (a capturista, a revisor,
/// a contador) only where the office allows it, and then their lotes wait
/// for a signer's approval ([`start`]); an archivist, never.
pub fn may_use_bulk(role: crate::accounts::Role, office_allows: bool) -> bool {
    role.can_issue() || (role.can_draft() && office_allows)
}

/// Nothing, if `user` may use bulk issuance; else why not, in Spanish.
pub async fn refuse_bulk(state: &AppState, user: &User) -> Result<(), LoteError> {
    if user.role.can_issue() {
        return Ok(());
    }
    if !user.role.can_draft() {
        return Err(LoteError::Forbidden(format!(
            "El rol {} no prepara ni emite documentos: no sube lotes.",
            user.role.label()
        )));
    }
    match state.accounts.preparers_bulk(&user.office_code).await? {
        true => Ok(()),
        false => Err(LoteError::Forbidden(PREPARERS_BULK_OFF.to_owned())),
    }
}

/// Whether `user` signs documents of `form` issued in one go, and so may
/// start a lote of it or approve one a capturista prepared.
pub fn may_approve(form: &crate::forms::FormSpec, user: &User) -> bool {
    user.role.can_issue() && form.workflow.allows_direct_issue(user.role)
}

/// Approves `lote`, which waits for it: its documents are dated now and
/// signed by `user`, and the job queue issues them.
pub async fn approve(state: &Arc<AppState>, user: &User, lote: &LoteRecord) -> Result<(), LoteError> {
    let spec = state
        .catalog
        .get(&lote.form)
        .ok_or_else(|| LoteError::UnknownForm(lote.form.clone()))?;
    if !may_approve(spec, user) {
        return Err(LoteError::Forbidden(format!(
            "Su rol no firma «{}»: lo aprueba quien lo firma.",
            spec.title
        )));
    }
    if lote.prepared_by.as_deref() == Some(user.username.as_str()) {
        return Err(LoteError::Forbidden(
            "Quien preparó el lote no puede aprobarlo.".into(),
        ));
    }
    if !lote.awaiting_approval {
        return Err(LoteError::NotWaiting);
    }
    let store = state.archive.store();
    if stored::office_busy(store, &lote.office_code).await? {
        return Err(LoteError::Busy(
            "Ya hay un lote emitiéndose en su oficina; apruebe este cuando termine.".into(),
        ));
    }
    let archive = state.archive_for(user).await?;
    let approver = bulk::approval::Approver {
        name: &user.display_name,
        cargo: &user.cargo,
        username: &user.username,
    };
    let issued_at = state.issuer.now_in(archive.office());
    let approved = bulk::approval::approve(
        store,
        lote.id,
        lote.public_id,
        &lote.office_code,
        &approver,
        issued_at,
    )
    .await?;
    if !approved {
        return Err(LoteError::NotWaiting);
    }
    tracing::info!(lote.id = %lote.public_id, "lote aprobado");
    super::jobs::run_due_lotes(state);
    Ok(())
}

/// Sends `lote` back to who prepared it, unissued, with `reason`.
pub async fn send_back(
    state: &AppState,
    user: &User,
    lote: &LoteRecord,
    reason: &str,
) -> Result<(), LoteError> {
    let spec = state
        .catalog
        .get(&lote.form)
        .ok_or_else(|| LoteError::UnknownForm(lote.form.clone()))?;
    if !may_approve(spec, user) {
        return Err(LoteError::Forbidden(format!(
            "Su rol no firma «{}»: lo devuelve quien lo firma.",
            spec.title
        )));
    }
    if !lote.awaiting_approval {
        return Err(LoteError::NotWaiting);
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(LoteError::Refused("Escriba por qué devuelve el lote.".into()));
    }
    let reason: String = reason.chars().take(crate::tramites::NOTE_MAX).collect();
    let store = state.archive.store();
    let sent_back = bulk::approval::send_back(
        store,
        lote.id,
        lote.public_id,
        &lote.office_code,
        &user.username,
        &reason,
    )
    .await?;
    if !sent_back {
        return Err(LoteError::NotWaiting);
    }
    Ok(())
}

/// A lote of `user`'s office by the id in an address; a malformed id is
/// as missing as another office's lote.
pub async fn office_job(state: &AppState, user: &User, id: &str) -> Result<Option<LoteRecord>, LoteError> {
    let Ok(id) = PublicId::parse(id) else {
        return Ok(None);
    };
    Ok(stored::lote_of_office(state.archive.store(), &user.office_code, id).await?)
}

/// Issues the padrón of a finished lote, signed by `user` (once: asked
/// again, it is the same), and records its tomos on the lote.
pub async fn issue_padron(
    state: &AppState,
    user: &User,
    lote: &LoteRecord,
) -> Result<Vec<(PublicId, String)>, LoteError> {
    let (Some(issued_form), Some(padron_form)) = (
        state.catalog.get(&lote.form),
        state.catalog.get(bulk::PADRON_FORM),
    ) else {
        return Err(LoteError::UnknownForm(bulk::PADRON_FORM.to_owned()));
    };
    let store = state.archive.store();
    let documents = stored::documents(store, lote.id, Some(issued_form)).await?;
    if documents.is_empty() {
        return Err(LoteError::Refused(
            "El lote no emitió ningún documento: no hay padrón que emitir.".into(),
        ));
    }
    let archive = state.archive_for(user).await?;
    let responsible = bulk::Responsible {
        name: &user.display_name,
        cargo: &user.cargo,
        actor: &user.username,
    };
    // The days its documents are dated, each the day it was issued.
    let (first, last) = stored::issue_days(store, lote.id)
        .await?
        .unwrap_or((lote.issued_at.date_naive(), lote.issued_at.date_naive()));
    let issued = bulk::Lote {
        form: issued_form,
        file_name: &lote.file_name,
        date: first,
        until: Some(last),
        rows: &documents,
    };
    // The issuer counts each tomo it issues.
    let tomos = bulk::issue_padron(
        &state.issuer,
        &|_, _| {},
        &archive,
        padron_form,
        &issued,
        &responsible,
        state.issuer.now_in(archive.office()),
    )
    .await?;
    let tomos: Vec<(PublicId, String)> = tomos.iter().map(|t| (t.id, t.folio.clone())).collect();
    stored::set_padron(store, lote.id, &tomos).await?;
    Ok(tomos)
}

/// Reads the spreadsheet `name` and checks every row against `spec`.
fn check_upload(
    spec: &crate::forms::FormSpec,
    name: &str,
    bytes: &[u8],
    when: crate::forms::IssueDate,
) -> Result<Checked, String> {
    let sheet = bulk::read_upload(name, bytes)?;
    bulk::check_sheet(spec, &sheet, None, None, when).map_err(|e| e.to_string())
}

/// Runs `work` on the blocking pool, off the workers that answer requests;
/// `None` if it panicked, which fails this request and no other.
async fn off_the_workers<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    // The task fails only by panicking (or if the service is stopping).
    tokio::task::spawn_blocking(work).await.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_while_reading_fails_the_upload_and_not_the_service() {
        let panicked = off_the_workers(|| -> usize { panic!("a reader's bug") }).await;
        assert!(panicked.is_none());
        assert_eq!(off_the_workers(|| 2 + 2).await, Some(4), "the pool goes on");
    }
}
