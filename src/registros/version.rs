//! Issuing a register as the current version of its definition. Its tomos'
//! idempotency keys say which register it is (the definition: programme,
//! forms, period) and what it lists (the content: the documents it cites,
//! with their state) and in how many tomos, so asking again for an
//! unchanged register returns the one issued, and a register whose content
//! (or number of tomos) changed is issued anew and
//! replaces the version before through the archive's own replacement,
//! which keeps the old one, says by which it was replaced and logs it.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat};
use chrono_tz::Tz;
use serde_json::{Value, json};

use crate::archive::{Archive, ArchiveError, DocumentRecord, IssueOrder, Issued, Reservation, sha256_hex};
use crate::forms::{FormSpec, StepKind, StepTaker, fill_signers};
use crate::issuer::Issuer;
use crate::render::Endorsement;
use crate::signed_pdf::{IssueError, IssuedDocument};

/// Who issues a register, and how.
pub struct Issuing<'a> {
    pub issuer: &'a Issuer,
    pub archive: &'a Archive,
    /// The name and cargo it is issued under.
    pub name: &'a str,
    pub cargo: &'a str,
    /// The account (or terminal user) in the audit trail.
    pub actor: &'a str,
    /// Whether that person signs it electronically at the form's last step
    /// (an account of the web app or the API); from the terminal no account
    /// signs and the office's key seals it.
    pub signs: bool,
    pub at: DateTime<Tz>,
}

/// A register to issue: its form, what identifies it and what it lists.
pub struct Register<'a> {
    pub form: &'a FormSpec,
    /// Stable for the same register: kind, programme, forms, period.
    pub definition: Value,
    /// What it lists, in a stable order: changes when the archive does.
    pub content: Value,
    /// Each tomo's data, without `version` and `reemplaza`; made as each
    /// is issued, so a large register's tomos are not all held at once.
    pub tomos: Box<dyn ExactSizeIterator<Item = Value> + Send + 'a>,
}

/// The register as it stands after issuing.
#[derive(Debug)]
pub struct Version {
    pub number: i64,
    /// Its tomos, in order.
    pub tomos: Vec<DocumentRecord>,
    /// Whether it was issued now (the archive changed, or it is the first).
    pub new: bool,
    /// The folios of the version it replaced.
    pub replaced: Vec<String>,
}

/// How many tomos render at once: one a core on two cores. Each holds
/// Typst's memory of its own layout (see `padron::TOMO_ROWS`).
const TOMOS_AT_ONCE: usize = 2;

/// A tomo whose folio is taken, rendering on rayon's pool.
struct Rendering {
    index: usize,
    key: String,
    data: Value,
    endorsements: Vec<Endorsement>,
    reservation: Reservation,
    rendered: Pin<Box<dyn Future<Output = Result<IssuedDocument, IssueError>> + Send>>,
}

impl Rendering {
    /// Waits for its PDF and stores it, or annuls its folio if it failed.
    async fn finish(
        self,
        issuing: &Issuing<'_>,
        form: &FormSpec,
        tomos: &mut [Option<DocumentRecord>],
        new: &mut bool,
    ) -> Result<(), ArchiveError> {
        let rendered = self.rendered.await;
        let order = order(issuing, form, &self.data, &self.key, self.endorsements);
        let issued = issuing
            .archive
            .finish_issue(&self.reservation, &order, rendered)
            .await?;
        issuing.issuer.count_issued(issuing.archive, &order, &issued);
        *new |= matches!(issued, Issued::New { .. });
        tomos[self.index] = Some(issued.record().clone());
        Ok(())
    }
}

/// The order that issues a tomo with `data` under `key`.
fn order<'a>(
    issuing: &Issuing<'a>,
    form: &'a FormSpec,
    data: &'a Value,
    key: &'a str,
    endorsements: Vec<Endorsement>,
) -> IssueOrder<'a> {
    IssueOrder {
        form,
        data,
        issued_at: issuing.at,
        actor: issuing.actor,
        expediente_id: None,
        idempotency_key: Some(key),
        draft: None,
        endorsements,
        on_paper: Vec::new(),
    }
}

/// The key all versions of a register share, and this content's.
fn keys(register: &Register<'_>) -> (String, String) {
    let definition = sha256_hex(register.definition.to_string().as_bytes());
    let content = sha256_hex(register.content.to_string().as_bytes());
    (
        format!("registro-{}-", &definition[..24]),
        content[..24].to_owned(),
    )
}

/// Issues `register` as the current version, replacing the one before if
/// what it lists changed; returns the version in force.
pub async fn issue(issuing: &Issuing<'_>, register: Register<'_>) -> Result<Version, ArchiveError> {
    let (prefix, content) = keys(&register);
    let count = register.tomos.len();
    let before = issuing.archive.documents_keyed_under(&prefix).await?;
    // A tomo of this version: this content, in a set of this many tomos. A
    // set of the same content cut in another number of tomos (the size of
    // a tomo changed) is a version before, replaced whole.
    let is_this = |key: &str| {
        key.strip_prefix(&prefix)
            .and_then(|rest| rest.strip_prefix(&content))
            .and_then(|rest| rest.strip_prefix('-'))
            .and_then(|rest| rest.split_once('-'))
            .is_some_and(|(_, of)| of == count.to_string())
    };
    let version_of = |record: &DocumentRecord| {
        serde_json::from_str::<Value>(&record.data)
            .ok()
            .and_then(|d| d.get("version").and_then(Value::as_i64))
            .unwrap_or(0)
    };
    // A version with this content keeps its number; otherwise the next.
    let number = match before.iter().find(|(key, _)| is_this(key)) {
        Some((_, record)) => version_of(record),
        None => before.iter().map(|(_, r)| version_of(r)).max().unwrap_or(0) + 1,
    };
    let superseded: Vec<&DocumentRecord> = before
        .iter()
        .filter(|(key, record)| !is_this(key) && record.status.is_current())
        .map(|(_, record)| record)
        .collect();
    let replaces: Vec<String> = superseded.iter().map(|r| r.folio.clone()).collect();
    let renderer = issuing
        .issuer
        .renderer_for(issuing.archive)
        .await
        .map_err(|e| ArchiveError::Issue(IssueError::Other(format!("generador de PDF: {e}"))))?;
    let signer = (issuing.name, issuing.cargo);
    let mut tomos: Vec<Option<DocumentRecord>> = vec![None; count];
    let mut rendering: VecDeque<Rendering> = VecDeque::new();
    let mut new = false;
    let mut failure = None;
    for (index, mut data) in register.tomos.enumerate() {
        let key = format!("{prefix}{content}-{}-{count}", index + 1);
        // Asked again with the same content: the tomo already issued.
        if let Some((_, record)) = before.iter().find(|(k, _)| *k == key) {
            if !record.status.is_current() {
                failure = Some(ArchiveError::Refused(format!(
                    "el tomo {} de este registro se emitió como {}, que hoy está {}; anúlelo o reemplácelo a mano",
                    index + 1,
                    record.folio,
                    record.status
                )));
                break;
            }
            tomos[index] = Some(record.clone());
            continue;
        }
        // A core for each tomo rendering: wait for the oldest to end.
        if rendering.len() >= TOMOS_AT_ONCE
            && let Some(oldest) = rendering.pop_front()
            && let Err(error) = oldest.finish(issuing, register.form, &mut tomos, &mut new).await
        {
            failure = Some(error);
            break;
        }
        data["version"] = json!(number);
        if !replaces.is_empty() {
            data["reemplaza"] = json!(replaces.join(", "));
        }
        let (data, endorsements) = signed(issuing, register.form, data);
        // Folios are taken one by one, so the tomos' follow their order.
        let order = order(issuing, register.form, &data, &key, endorsements.clone());
        match issuing.archive.reserve(&order).await {
            Ok(Ok(reservation)) => {
                let rendered =
                    issuing
                        .issuer
                        .start_rendering(Arc::clone(&renderer), &order, &reservation, signer);
                rendering.push_back(Rendering {
                    index,
                    key,
                    data,
                    endorsements,
                    reservation,
                    rendered: Box::pin(rendered),
                });
            }
            // The same tomo, issued by someone asking at the same time.
            Ok(Err(existing)) => tomos[index] = Some(existing),
            Err(error) => {
                failure = Some(error);
                break;
            }
        }
    }
    // Those already rendering end issued or annulled, even after a failure:
    // no folio stays reserved.
    while let Some(oldest) = rendering.pop_front() {
        if let Err(error) = oldest.finish(issuing, register.form, &mut tomos, &mut new).await {
            failure.get_or_insert(error);
        }
    }
    if let Some(error) = failure {
        return Err(error);
    }
    let tomos: Vec<DocumentRecord> = tomos.into_iter().flatten().collect();
    // Each tomo of the version before is replaced by the one in its place,
    // or by the last when the register shrank.
    for (index, old) in superseded.iter().enumerate() {
        let by = &tomos[index.min(tomos.len() - 1)];
        let reason = format!(
            "Registro integrado de nuevo del archivo: la versión {number} ({}) lista lo que el archivo tiene al {}",
            by.folio,
            issuing.at.format("%Y-%m-%d")
        );
        let replaced = issuing
            .archive
            .annul(&old.folio, &reason, issuing.actor, Some(&by.folio))
            .await;
        match replaced {
            Ok(_) => {}
            // Someone asking at the same time replaced it first: so be it.
            Err(ArchiveError::Refused(_))
                if !issuing.archive.document(&old.folio).await?.status.is_current() => {}
            Err(error) => return Err(error),
        }
    }
    Ok(Version {
        number,
        tomos,
        new,
        replaced: replaces,
    })
}

/// The data with the fields the signing account fills, and that
/// signature; as it is from the terminal, where no account signs.
fn signed(issuing: &Issuing<'_>, form: &FormSpec, data: Value) -> (Value, Vec<Endorsement>) {
    if !issuing.signs {
        return (data, Vec::new());
    }
    let step = form.workflow.steps().last().unwrap_or(form.workflow.first());
    let at = issuing.at.to_rfc3339_opts(SecondsFormat::Secs, false);
    let taker = StepTaker {
        step: &step.id,
        name: issuing.name,
        cargo: issuing.cargo,
        at: &at,
    };
    let data = fill_signers(form, &data, std::slice::from_ref(&taker));
    let endorsement = Endorsement {
        paso_id: step.id.clone(),
        paso: step.label.clone(),
        tipo: StepKind::Firma,
        nombre: issuing.name.to_owned(),
        cargo: issuing.cargo.to_owned(),
        fecha_hora: at,
    };
    (data, vec![endorsement])
}
