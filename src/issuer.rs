//! Issuing from the service: the renderer, the office's signing key and
//! where verification links point, shared by every request. Rendering and
//! signing run on the request's thread (the archive moves them off the
//! async workers), so several documents are issued at once. Signatures are
//! time-stamped by the configured TSAs, through one client.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::Value;

use crate::archive::{Archive, ArchiveError, IssueOrder, Issued, Office, Reservation};
use crate::config::Config;
use crate::forms::FormSpec;
use crate::keys::{OfficeKey, SigningKeys};
use crate::metrics::Metrics;
use crate::office::Country;
use crate::pdf::TsaClient;
use crate::render::{CitedDocument, DocumentContext, Endorsement, RenderError, Rendered, Renderer};
use crate::signed_pdf::{IssueError, IssueRequest, IssuedDocument, LongTermSources, issue_long_term};

/// What issues documents for the service.
pub struct Issuer {
    /// The configured office's renderer; other offices get their own, with
    /// their letterhead, made on first use and again when it changes.
    renderer: Arc<Renderer>,
    /// By office code: the office as its renderer was made for it.
    other_offices: Mutex<HashMap<String, (Office, Arc<Renderer>)>>,
    config: Config,
    /// Shared with the bulk runs it starts, so they follow a rotation too.
    keys: Arc<SigningKeys>,
    base_url: String,
    /// Counts every document it issues.
    metrics: Arc<Metrics>,
    /// The configured time-stamping authorities, one client for every
    /// document; `None` when none is configured.
    timestamps: Option<TsaClient>,
    /// With TSAs configured, the validation data each document embeds
    /// (PAdES B-LT): one source, so a TSA's CRL is fetched once a day.
    long_term: Option<Arc<LongTermSources>>,
}

impl Issuer {
    /// Signs with `key` only, until [`Issuer::replace_key`].
    pub fn new(config: &Config, key: Arc<OfficeKey>) -> std::io::Result<Self> {
        Self::with_keys(config, SigningKeys::fixed(key))
    }

    /// Signs with the key `keys` holds at each signature.
    pub fn with_keys(config: &Config, keys: SigningKeys) -> std::io::Result<Self> {
        let timestamps = TsaClient::configured(&config.timestamp).map_err(std::io::Error::other)?;
        let long_term = timestamps
            .is_some()
            .then(|| Arc::new(LongTermSources::for_config(config)));
        Ok(Self {
            timestamps,
            long_term,
            renderer: Arc::new(Renderer::new(config)?),
            other_offices: Mutex::new(HashMap::new()),
            config: config.clone(),
            keys: Arc::new(keys),
            base_url: config.base_url.clone(),
            metrics: Arc::default(),
        })
    }

    /// The counters of what it issued, which the service also uses.
    pub fn metrics(&self) -> Arc<Metrics> {
        Arc::clone(&self.metrics)
    }

    /// Counts and logs a document just issued.
    pub fn count_issued(&self, archive: &Archive, order: &IssueOrder<'_>, issued: &Issued) {
        if let Issued::New { document, .. } = issued {
            self.metrics
                .document_issued(order.form.id.as_str(), document.timings);
            tracing::info!(
                form = order.form.id.as_str(),
                office = archive.office().code.as_str(),
                render_ms = document.timings.render.as_millis() as u64,
                sign_ms = document.timings.sign.as_millis() as u64,
                "documento emitido"
            );
        }
    }

    /// The key that signs now, to name or show it.
    pub fn key(&self) -> Arc<OfficeKey> {
        self.keys.current()
    }

    /// Where each signature takes its key from (see [`SigningKeys`]).
    pub fn signing_keys(&self) -> Arc<SigningKeys> {
        Arc::clone(&self.keys)
    }

    /// The client of the configured time-stamping authorities, if any.
    pub fn timestamps(&self) -> Option<&TsaClient> {
        self.timestamps.as_ref()
    }

    /// Where documents' validation data comes from, with TSAs configured.
    pub fn long_term(&self) -> Option<&Arc<LongTermSources>> {
        self.long_term.as_ref()
    }

    /// Where verification links point.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Signs with `key` from now on (after a rotation made by this
    /// process, which waited for the signatures under way).
    pub fn replace_key(&self, key: OfficeKey) {
        self.keys.replace(key);
    }

    /// Now, in `office`'s time zone.
    pub fn now_in(&self, office: &Office) -> DateTime<Tz> {
        Utc::now().with_timezone(&self.time_zone_of(office))
    }

    /// The time zone of `office`'s dates: its own, or the installation's.
    pub fn time_zone_of(&self, office: &Office) -> Tz {
        self.time_zone_for(&office.code, office.identity.time_zone)
    }

    /// The time zone of office `code`, whose own is `own`.
    pub fn time_zone_for(&self, code: &str, own: Option<Tz>) -> Tz {
        match own {
            Some(zone) if code != self.config.office_code => zone,
            _ => self.config.time_zone,
        }
    }

    /// The country whose conventions `office`'s documents follow.
    pub fn country_of(&self, office: &Office) -> Option<Country> {
        self.settings_for(office).country
    }

    /// The installation's settings as `office` prints them: the configured
    /// office's are the configuration's; another office's institution,
    /// address, time zone and country are its own where it has them. An
    /// office with its own institution never prints the installation's
    /// address or logo: they are that institution's.
    fn settings_for(&self, office: &Office) -> Config {
        if office.code == self.config.office_code {
            return self.config.clone();
        }
        let identity = &office.identity;
        let (institution, address, logo) = match &identity.institution {
            Some(institution) => (
                institution.clone(),
                identity.address.clone().unwrap_or_default(),
                None,
            ),
            None => (
                self.config.institution.clone(),
                self.config.address.clone(),
                self.config.logo.clone(),
            ),
        };
        Config {
            office_code: office.code.clone(),
            office_name: office.name.clone(),
            institution,
            address,
            logo,
            time_zone: identity.time_zone.unwrap_or(self.config.time_zone),
            country: identity.country.or(self.config.country),
            ..self.config.clone()
        }
    }

    /// The renderer whose letterhead is `archive`'s office's. One made for
    /// an earlier identity of the office (an administrator changed it) is
    /// made again.
    pub async fn renderer_for(&self, archive: &Archive) -> std::io::Result<Arc<Renderer>> {
        let office = archive.office();
        if office.code == self.config.office_code {
            return Ok(Arc::clone(&self.renderer));
        }
        if let Some((made_for, renderer)) = self.others().get(&office.code)
            && made_for == office
        {
            return Ok(Arc::clone(renderer));
        }
        let settings = self.settings_for(office);
        let own_logo = office.identity.institution.is_some() && office.identity.logo.is_some();
        let renderer = if own_logo {
            let logo = archive
                .office_logo(&office.code)
                .await
                .map_err(std::io::Error::other)?;
            Renderer::with_logo(&settings, logo)?
        } else {
            Renderer::new(&settings)?
        };
        let renderer = Arc::new(renderer);
        self.others()
            .insert(office.code.clone(), (office.clone(), Arc::clone(&renderer)));
        Ok(renderer)
    }

    fn others(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Office, Arc<Renderer>)>> {
        match self.other_offices.lock() {
            Ok(others) => others,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Issues `order` in `archive`, signed for `signer` (name, cargo), and
    /// counts it.
    pub async fn issue(
        &self,
        archive: &Archive,
        order: &IssueOrder<'_>,
        signer: (&str, &str),
    ) -> Result<Issued, ArchiveError> {
        let renderer = self
            .renderer_for(archive)
            .await
            .map_err(|e| ArchiveError::Issue(IssueError::Other(format!("generador de PDF: {e}"))))?;
        let issued = archive
            .issue(order, |reservation| {
                let reserved = ReservedDocument::new(order, reservation, signer);
                let request = reserved.request(order.form);
                // Held until signed: a rotation waits for this signature.
                let key = self
                    .keys
                    .for_signing()
                    .map_err(|e| IssueError::Other(format!("clave de firma: {e}")))?;
                issue_long_term(
                    &renderer,
                    &key,
                    &self.base_url,
                    &request,
                    self.timestamps.as_ref(),
                    self.long_term.as_deref(),
                )
            })
            .await?;
        self.count_issued(archive, order, &issued);
        Ok(issued)
    }

    /// Starts rendering and signing, on rayon's pool, the document `order`
    /// took the folio of as `reservation`, with `renderer` (the archive
    /// office's, see [`Issuer::renderer_for`]); [`Archive::finish_issue`]
    /// then stores it. Unlike [`Issuer::issue`] it holds no thread of the
    /// caller, so one task can have several documents rendering at once,
    /// one a core: a long register's tomos.
    pub fn start_rendering(
        &self,
        renderer: Arc<Renderer>,
        order: &IssueOrder<'_>,
        reservation: &Reservation,
        signer: (&str, &str),
    ) -> impl std::future::Future<Output = Result<IssuedDocument, IssueError>> + Send + 'static {
        let (keys, base_url) = (Arc::clone(&self.keys), self.base_url.clone());
        let (timestamps, long_term) = (self.timestamps.clone(), self.long_term.clone());
        let (form, reserved) = (
            order.form.clone(),
            ReservedDocument::new(order, reservation, signer),
        );
        let (done, outcome) = tokio::sync::oneshot::channel();
        rayon::spawn(move || {
            let work = || {
                let request = reserved.request(&form);
                // Held until signed: a rotation waits for this signature.
                let key = keys
                    .for_signing()
                    .map_err(|e| IssueError::Other(format!("clave de firma: {e}")))?;
                issue_long_term(
                    &renderer,
                    &key,
                    &base_url,
                    &request,
                    timestamps.as_ref(),
                    long_term.as_deref(),
                )
            };
            // A panic in rayon's pool would abort the process: it fails the
            // document instead.
            let _ = done.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)));
        });
        async move {
            match outcome.await {
                Ok(Ok(rendered)) => rendered,
                Ok(Err(_)) | Err(_) => Err(IssueError::Other(
                    "la emisión se interrumpió por un error interno".to_owned(),
                )),
            }
        }
    }

    /// A draft's PDF for `archive`'s office, marked as such: no folio, no
    /// code, no signature but those drawn by hand so far. Renders on this
    /// thread, telling the runtime so.
    pub async fn preview(
        &self,
        archive: &Archive,
        form: &FormSpec,
        data: &Value,
        hand_signatures: Vec<(String, Vec<u8>)>,
    ) -> Result<Rendered, RenderError> {
        let renderer = self.renderer_for(archive).await.map_err(|e| RenderError::Setup {
            form: form.id.to_string(),
            message: e.to_string(),
        })?;
        let context =
            DocumentContext::draft(self.now_in(archive.office())).with_hand_signatures(hand_signatures);
        tokio::task::block_in_place(|| renderer.render(form, data, &context))
    }
}

/// What a document whose folio the archive reserved is rendered with,
/// owned, so that it can move to the thread that renders it: the data,
/// folio and citations recorded with the folio, who signs, and what its
/// order prints of its workflow.
pub struct ReservedDocument {
    data: Value,
    issued_at: DateTime<Tz>,
    folio: String,
    citations: Vec<CitedDocument>,
    signer: String,
    cargo: String,
    endorsements: Vec<Endorsement>,
    hand_signatures: Vec<(String, Vec<u8>)>,
    on_paper: Vec<String>,
}

impl ReservedDocument {
    /// The document of `order` whose folio `reservation` took, signed for
    /// `signer` (name, cargo).
    pub fn new(order: &IssueOrder<'_>, reservation: &Reservation, signer: (&str, &str)) -> Self {
        Self {
            // As stored with the folio: with what the archive recorded in
            // it, so what is printed is what is stored.
            data: reservation.data.clone(),
            issued_at: order.issued_at,
            folio: reservation.folio.to_string(),
            citations: reservation.citations.clone(),
            signer: signer.0.to_owned(),
            cargo: signer.1.to_owned(),
            endorsements: order.endorsements.clone(),
            hand_signatures: (order.draft.as_ref()).map_or_else(Vec::new, |d| d.hand_signatures.clone()),
            on_paper: order.on_paper.clone(),
        }
    }

    /// The request that renders and signs it as `form`, its order's.
    pub fn request<'a>(&'a self, form: &'a FormSpec) -> IssueRequest<'a> {
        IssueRequest {
            form,
            data: &self.data,
            issued_at: self.issued_at,
            folio: Some(self.folio.clone()),
            signer: &self.signer,
            cargo: &self.cargo,
            endorsements: &self.endorsements,
            hand_signatures: &self.hand_signatures,
            on_paper: &self.on_paper,
            citations: &self.citations,
        }
    }
}
