//! Issuing from the service: the renderer, the office's signing key and
//! where verification links point, shared by every request. Rendering and
//! signing run on the request's thread (the archive moves them off the
//! async workers), so several documents are issued at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::Value;

use crate::archive::{Archive, ArchiveError, IssueOrder, Issued, Office};
use crate::config::Config;
use crate::forms::FormSpec;
use crate::issue::{IssueError, IssueRequest, issue};
use crate::keys::OfficeKey;
use crate::render::{DocumentContext, RenderError, Rendered, Renderer};

/// What issues documents for the service.
pub struct Issuer {
    /// The configured office's renderer; other offices get their own, with
    /// their name and code on the letterhead, made on first use.
    renderer: Arc<Renderer>,
    other_offices: Mutex<HashMap<String, Arc<Renderer>>>,
    config: Config,
    key: RwLock<Arc<OfficeKey>>,
    base_url: String,
    time_zone: Tz,
}

impl Issuer {
    pub fn new(config: &Config, key: Arc<OfficeKey>) -> std::io::Result<Self> {
        Ok(Self {
            renderer: Arc::new(Renderer::new(config)?),
            other_offices: Mutex::new(HashMap::new()),
            config: config.clone(),
            key: RwLock::new(key),
            base_url: config.base_url.clone(),
            time_zone: config.time_zone,
        })
    }

    /// The key that signs from now on.
    pub fn key(&self) -> Arc<OfficeKey> {
        match self.key.read() {
            Ok(key) => Arc::clone(&key),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Signs with `key` from now on (after a rotation); issuances already
    /// under way finish with the key they started with.
    pub fn replace_key(&self, key: OfficeKey) {
        let mut slot = match self.key.write() {
            Ok(slot) => slot,
            Err(poisoned) => poisoned.into_inner(),
        };
        *slot = Arc::new(key);
    }

    /// Now, in the office's time zone.
    pub fn now(&self) -> DateTime<Tz> {
        Utc::now().with_timezone(&self.time_zone)
    }

    /// The renderer whose letterhead names `office`.
    pub fn renderer_for(&self, office: &Office) -> std::io::Result<Arc<Renderer>> {
        if office.code == self.config.office_code {
            return Ok(Arc::clone(&self.renderer));
        }
        let mut others = match self.other_offices.lock() {
            Ok(others) => others,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(renderer) = others.get(&office.code) {
            return Ok(Arc::clone(renderer));
        }
        let config = Config {
            office_code: office.code.clone(),
            office_name: office.name.clone(),
            ..self.config.clone()
        };
        let renderer = Arc::new(Renderer::new(&config)?);
        others.insert(office.code.clone(), Arc::clone(&renderer));
        Ok(renderer)
    }

    /// Issues `order` in `archive`, signed for `signer` (name, cargo).
    pub async fn issue(
        &self,
        archive: &Archive,
        order: &IssueOrder<'_>,
        signer: (&str, &str),
    ) -> Result<Issued, ArchiveError> {
        let key = self.key();
        let renderer = self
            .renderer_for(archive.office())
            .map_err(|e| ArchiveError::Issue(IssueError::Other(format!("generador de PDF: {e}"))))?;
        archive
            .issue(order, |folio| {
                let request = IssueRequest {
                    form: order.form,
                    data: order.data,
                    issued_at: order.issued_at,
                    folio: Some(folio.to_string()),
                    signer: signer.0,
                    cargo: signer.1,
                    endorsements: &order.endorsements,
                    hand_signatures: order.draft.as_ref().map_or(&[][..], |d| &d.hand_signatures),
                    on_paper: &order.on_paper,
                };
                issue(&renderer, &key, &self.base_url, &request)
            })
            .await
    }

    /// A draft's PDF for `office`, marked as such: no folio, no code, no
    /// signature but those drawn by hand so far.
    pub fn preview(
        &self,
        office: &Office,
        form: &FormSpec,
        data: &Value,
        hand_signatures: Vec<(String, Vec<u8>)>,
    ) -> Result<Rendered, RenderError> {
        let renderer = self.renderer_for(office).map_err(|e| RenderError::Setup {
            form: form.id.to_string(),
            message: e.to_string(),
        })?;
        let context = DocumentContext::draft(self.now()).with_hand_signatures(hand_signatures);
        renderer.render(form, data, &context)
    }
}
