//! Issuing a register as the current version of its definition. Its tomos'
//! idempotency keys say which register it is (the definition: programme,
//! forms, period, locality), what it lists (the content: the documents it
//! cites, with their state), in how many tomos, and which version they
//! are. Asking again for a register whose version in force lists that
//! same content in as many tomos returns it; anything else (the archive
//! changed, the size of a tomo did, or the content went back to that of a
//! version replaced long ago) is issued as a new version that replaces the
//! one in force through the archive's own replacement, which keeps the
//! old one, says by which it was replaced and logs it. Every tomo is
//! checked before any takes a folio, so a register the form refuses costs
//! no folio.
//!
//! Long because issuing a version is one protocol whose steps share its
//! state: find the version in force, check every tomo, take the folios in
//! tomo order while two render at once, and annul a version left partial.

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat};
use chrono_tz::Tz;
use serde_json::{Value, json};

use crate::archive::{Archive, ArchiveError, DocumentRecord, IssueOrder, Issued, Reservation, sha256_hex};
use crate::forms::{FormSpec, IssueDate, Problem, Problems, StepKind, StepTaker, fill_signers, validate};
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
    /// Stable for the same register: kind, programme, forms, period and
    /// whatever else it prints as what was asked for.
    pub definition: Value,
    /// What it lists, in a stable order: changes when the archive does.
    pub content: Value,
    /// How many tomos it has.
    pub count: usize,
    /// Tomo `index`'s data (from 0), without `version` and `reemplaza`;
    /// made when needed, so a large register's tomos are never all held
    /// at once (each is made twice: checked, then issued).
    pub tomo: Box<dyn Fn(usize) -> Value + Send + Sync + 'a>,
}

impl<'a> Register<'a> {
    /// A register of a single tomo with `data`.
    pub fn single(form: &'a FormSpec, definition: Value, content: Value, data: Value) -> Self {
        Register {
            form,
            definition,
            content,
            count: 1,
            tomo: Box::new(move |_| data.clone()),
        }
    }
}

/// The register as it stands after issuing.
#[derive(Debug)]
pub struct Version {
    pub number: i64,
    /// Its tomos, in order.
    pub tomos: Vec<DocumentRecord>,
    /// Whether it was issued now (the archive changed, or it is the first).
    pub new: bool,
    /// The folios of the tomos it replaced (all of them: its `reemplaza`
    /// may print them as a range).
    pub replaced: Vec<String>,
}

/// How many tomos render at once: one a core on two cores. Each holds
/// Typst's memory of its own layout (see `padron::TOMO_ROWS`).
const TOMOS_AT_ONCE: usize = 2;

/// The longest `reemplaza` the registers' forms take.
const REPLACES_MAX: usize = 300;

/// A tomo whose folio is taken, rendering on rayon's pool.
struct Rendering {
    index: usize,
    key: String,
    data: Value,
    endorsements: Vec<Endorsement>,
    reservation: Reservation,
    rendered: Pin<Box<dyn Future<Output = Result<IssuedDocument, IssueError>> + Send>>,
}

/// What a register issued now has done so far.
struct Progress {
    tomos: Vec<Option<DocumentRecord>>,
    /// Whether any tomo was issued now, rather than by someone asking at
    /// the same time.
    new: bool,
    /// The folios of the tomos issued now.
    issued: Vec<String>,
}

impl Rendering {
    /// Waits for its PDF and stores it, or annuls its folio if it failed.
    async fn finish(
        self,
        issuing: &Issuing<'_>,
        form: &FormSpec,
        progress: &mut Progress,
    ) -> Result<(), ArchiveError> {
        let rendered = self.rendered.await;
        let order = order(issuing, form, &self.data, &self.key, self.endorsements);
        let issued = issuing
            .archive
            .finish_issue(&self.reservation, &order, rendered)
            .await?;
        issuing.issuer.count_issued(issuing.archive, &order, &issued);
        if let Issued::New { record, .. } = &issued {
            progress.new = true;
            progress.issued.push(record.folio.clone());
        }
        progress.tomos[self.index] = Some(issued.record().clone());
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
    keys_of(&register.definition, &register.content)
}

/// The key all versions of the register `definition` share, and that of
/// a version that lists `content`.
pub(super) fn keys_of(definition: &Value, content: &Value) -> (String, String) {
    let definition = sha256_hex(definition.to_string().as_bytes());
    let content = sha256_hex(content.to_string().as_bytes());
    (
        format!("registro-{}-", &definition[..24]),
        content[..24].to_owned(),
    )
}

/// A tomo's key after the register's prefix: `content-tomo-of`, and
/// `-vN` since versions are keyed (so that a version may list what one
/// replaced before it did).
pub(super) struct TomoKey<'k> {
    pub content: &'k str,
    pub index: usize,
    pub count: usize,
}

pub(super) fn tomo_key(rest: &str) -> Option<TomoKey<'_>> {
    let mut parts = rest.split('-');
    let content = parts.next()?;
    let index = parts.next()?.parse().ok()?;
    let count = parts.next()?.parse().ok()?;
    Some(TomoKey {
        content,
        index,
        count,
    })
}

pub(super) fn version_of(record: &DocumentRecord) -> i64 {
    serde_json::from_str::<Value>(&record.data)
        .ok()
        .and_then(|d| d.get("version").and_then(Value::as_i64))
        .unwrap_or(0)
}

/// The version in force that lists `content` in `count` tomos: every one
/// of its tomos issued and in force.
fn in_force(
    before: &[(String, DocumentRecord)],
    prefix: &str,
    content: &str,
    count: usize,
) -> Option<(i64, Vec<DocumentRecord>)> {
    let mut sets: BTreeMap<i64, Vec<Option<DocumentRecord>>> = BTreeMap::new();
    for (key, record) in before {
        let Some(key) = key.strip_prefix(prefix).and_then(tomo_key) else {
            continue;
        };
        if key.content != content || key.count != count || key.index == 0 || key.index > count {
            continue;
        }
        if record.status.is_current() {
            sets.entry(version_of(record))
                .or_insert_with(|| vec![None; count])[key.index - 1] = Some(record.clone());
        }
    }
    sets.into_iter()
        .rev()
        .find_map(|(number, tomos)| Some((number, tomos.into_iter().collect::<Option<Vec<_>>>()?)))
}

/// What a new version prints it replaces: each version's folios, as a
/// range where they are one («… a …»), else the first and the last with
/// how many; all of them are in the archive, each tomo marked replaced
/// by its successor.
fn replaces_text(superseded: &[&DocumentRecord]) -> Option<String> {
    let mut by_version: BTreeMap<i64, Vec<&DocumentRecord>> = BTreeMap::new();
    for record in superseded {
        by_version.entry(version_of(record)).or_default().push(record);
    }
    let parts: Vec<String> = by_version
        .into_iter()
        .map(|(number, mut tomos)| {
            tomos.sort_by_key(|r| r.row_id);
            let first = &tomos[0].folio;
            let last = &tomos[tomos.len() - 1].folio;
            match tomos.len() {
                1 => first.clone(),
                n if is_range(&tomos) => format!("{first} a {last} ({n} tomos de la versión {number})"),
                n => format!("{n} tomos de la versión {number}, el primero {first} y el último {last}"),
            }
        })
        .collect();
    if parts.is_empty() {
        return None;
    }
    let text = parts.join("; ");
    if text.chars().count() <= REPLACES_MAX {
        return Some(text);
    }
    Some(format!(
        "{} tomos de {} versiones anteriores",
        superseded.len(),
        parts.len()
    ))
}

/// Whether the folios are exactly every number of one series from the
/// first to the last.
fn is_range(tomos: &[&DocumentRecord]) -> bool {
    let numbered: Option<Vec<(&str, u64)>> = tomos
        .iter()
        .map(|r| {
            let (series, number) = r.folio.rsplit_once('/')?;
            Some((series, number.parse().ok()?))
        })
        .collect();
    let Some(numbered) = numbered else {
        return false;
    };
    numbered
        .windows(2)
        .all(|w| w[0].0 == w[1].0 && w[1].1 == w[0].1 + 1)
}

/// Issues `register` as the current version, replacing the one in force if
/// what it lists changed; returns the version in force.
pub async fn issue(issuing: &Issuing<'_>, register: Register<'_>) -> Result<Version, ArchiveError> {
    let (prefix, content) = keys(&register);
    let count = register.count;
    if count == 0 {
        return Err(ArchiveError::Refused(
            "el registro no tiene tomos que emitir".into(),
        ));
    }
    let before = issuing.archive.documents_keyed_under(&prefix).await?;
    // Asked again with the same content and tomos: the version in force.
    if let Some((number, tomos)) = in_force(&before, &prefix, &content, count) {
        return Ok(Version {
            number,
            tomos,
            new: false,
            replaced: Vec::new(),
        });
    }
    // Anything else is a new version, even one that lists what an older
    // one did: it replaces whatever of the register is in force.
    let number = before.iter().map(|(_, r)| version_of(r)).max().unwrap_or(0) + 1;
    let superseded: Vec<&DocumentRecord> = before
        .iter()
        .filter(|(_, record)| record.status.is_current())
        .map(|(_, record)| record)
        .collect();
    let replaces = replaces_text(&superseded);
    let renderer = issuing
        .issuer
        .renderer_for(issuing.archive)
        .await
        .map_err(|e| ArchiveError::Issue(IssueError::Other(format!("generador de PDF: {e}"))))?;
    let tomo = |index: usize| {
        let mut data = (register.tomo)(index);
        data["version"] = json!(number);
        if let Some(replaces) = &replaces {
            data["reemplaza"] = json!(replaces);
        }
        signed(issuing, register.form, data)
    };
    // Every tomo as the form will check it, before any takes a folio.
    let checked = register.form.for_country(renderer.country());
    for index in 0..count {
        let (data, _) = tomo(index);
        validate(&checked, &data, IssueDate::issued(&issuing.at)).map_err(|problems| {
            let problems = problems
                .0
                .into_iter()
                .map(|p| Problem {
                    message: format!("tomo {} de {count}: {}", index + 1, p.message),
                    ..p
                })
                .collect();
            ArchiveError::Issue(IssueError::Invalid(Problems(problems)))
        })?;
    }
    let signer = (issuing.name, issuing.cargo);
    let mut progress = Progress {
        tomos: vec![None; count],
        new: false,
        issued: Vec::new(),
    };
    let mut rendering: VecDeque<Rendering> = VecDeque::new();
    let mut failure = None;
    for index in 0..count {
        let key = format!("{prefix}{content}-{}-{count}-v{number}", index + 1);
        // A core for each tomo rendering: wait for the oldest to end.
        if rendering.len() >= TOMOS_AT_ONCE
            && let Some(oldest) = rendering.pop_front()
            && let Err(error) = oldest.finish(issuing, register.form, &mut progress).await
        {
            failure = Some(error);
            break;
        }
        let (data, endorsements) = tomo(index);
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
            Ok(Err(existing)) => progress.tomos[index] = Some(existing),
            Err(error) => {
                failure = Some(error);
                break;
            }
        }
    }
    // Those already rendering end issued or annulled, even after a failure:
    // no folio stays reserved.
    while let Some(oldest) = rendering.pop_front() {
        if let Err(error) = oldest.finish(issuing, register.form, &mut progress).await {
            failure.get_or_insert(error);
        }
    }
    if let Some(error) = failure {
        // A version is whole or not in force: the tomos issued now of one
        // that failed are annulled, and the version before stays in force.
        for folio in &progress.issued {
            let reason = format!(
                "Registro incompleto: otro tomo de la versión {number} no pudo emitirse, y la versión en vigor sigue siendo la anterior"
            );
            issuing.archive.annul(folio, &reason, issuing.actor, None).await?;
        }
        return Err(error);
    }
    let tomos: Vec<DocumentRecord> = progress.tomos.into_iter().flatten().collect();
    // Each tomo in force before is replaced by the one in its place, or by
    // the last when the register shrank.
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
        new: progress.new,
        replaced: superseded.iter().map(|r| r.folio.clone()).collect(),
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
