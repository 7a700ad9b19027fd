//! Webhooks sent: the deliveries the archive's outbox enqueued
//! (`archive::webhooks`), claimed from the job queue by whichever
//! instance is free, each POSTed once per attempt as JSON with its
//! `Sello-Signature`, its outcome written to the delivery log, and a
//! failure tried again with exponential backoff until its attempts run
//! out (about 26 hours with the default settings).
//!
//! Each delivery goes only to the addresses [`guard`] allows, resolved
//! again at each attempt; redirects are not followed, a target has
//! [`WebhookSettings::timeout`] to answer and at most
//! [`RESPONSE_MAX`] bytes of its answer are read.

pub mod guard;
pub mod signature;

pub use signature::{HEADER, SignatureError, TOLERANCE_SECONDS, sign, verify};

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::archive::webhooks::{self as outbox, AttemptOutcome, Outgoing, Scope, WEBHOOK_JOB};
use crate::config::WebhookSettings;
use crate::db::Store;
use crate::queue::{Backoff, Claimed, Queue, QueueError};

/// The most of a target's answer that is read (and thrown away).
pub const RESPONSE_MAX: usize = 64 * 1024;

/// Deliveries taken from the queue at once by one instance.
const AT_ONCE: usize = 4;

/// Sends the deliveries that are due.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    store: Store,
    queue: Queue,
    client: reqwest::Client,
    settings: WebhookSettings,
}

impl Dispatcher {
    /// A dispatcher over `store`'s queue, with an HTTP client that
    /// resolves names through [`guard::GuardedResolver`].
    pub fn new(store: Store, settings: &WebhookSettings) -> Result<Self, String> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .user_agent(concat!("Sello-Webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(guard::GuardedResolver::shared(settings.allow_private))
            .build()
            .map_err(|e| format!("no se pudo preparar el cliente de webhooks: {e}"))?;
        let queue = Queue::new(store.clone()).map_err(|e| e.to_string())?;
        Ok(Self {
            store,
            queue,
            client,
            settings: settings.clone(),
        })
    }

    fn backoff(&self) -> Backoff {
        Backoff {
            first: self.settings.retry_first,
            max: self.settings.retry_max,
        }
    }

    /// The lease of one delivery: longer than its timeout.
    fn lease(&self) -> Duration {
        self.settings.timeout * 3 + Duration::from_secs(5)
    }

    /// Sends every delivery due now; returns how many attempts were made.
    pub async fn run_due(&self) -> Result<usize, QueueError> {
        let mut attempts = 0;
        loop {
            let mut claimed = Vec::new();
            while claimed.len() < AT_ONCE {
                match self.queue.claim(WEBHOOK_JOB, self.lease()).await? {
                    Some(job) => claimed.push(job),
                    None => break,
                }
            }
            if claimed.is_empty() {
                return Ok(attempts);
            }
            attempts += claimed.len();
            futures::future::join_all(claimed.into_iter().map(|job| self.attempt(job))).await;
        }
    }

    /// Every [`WebhookSettings::poll`], sends what is due.
    pub async fn poll(self) {
        let mut ticks = tokio::time::interval(self.settings.poll);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(error) = self.run_due().await {
                tracing::warn!(error = %error, "no se pudieron tomar las entregas de webhooks de la cola");
            }
        }
    }

    /// One attempt at the delivery `job` names.
    async fn attempt(&self, job: Claimed) {
        let Some(delivery) = job.payload["entrega"].as_i64() else {
            let _ = self.queue.complete(&job, None).await;
            return;
        };
        let outgoing = match outbox::outgoing(&self.store, delivery).await {
            Ok(Some(outgoing)) if !outgoing.deleted => outgoing,
            Ok(_) => {
                // Deleted subscription (or a row gone): nothing to send.
                let _ = self.queue.complete(&job, None).await;
                return;
            }
            Err(error) => {
                tracing::warn!(job.id = job.id, error = %error, "no se pudo leer una entrega de webhook");
                let _ = self.queue.fail(&job, &error.to_string(), self.backoff()).await;
                return;
            }
        };
        let alive = self.queue.keep_alive(&job, self.lease());
        let started = Instant::now();
        let sent = self.send(&outgoing).await;
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        if alive.lost() {
            return;
        }
        drop(alive);
        let (response_code, error) = match &sent {
            Ok(code) if (200..300).contains(code) => (Some(*code), None),
            Ok(code) if (300..400).contains(code) => (
                Some(*code),
                Some(format!("respondió {code}: las redirecciones no se siguen")),
            ),
            Ok(code) => (Some(*code), Some(format!("respondió {code}"))),
            Err(error) => (None, Some(error.clone())),
        };
        let gives_up = job.attempt >= job.max_attempts;
        let state = match (&error, gives_up) {
            (None, _) => "entregada",
            (Some(_), true) => "fallida",
            (Some(_), false) => "pendiente",
        };
        let outcome = AttemptOutcome {
            response_code,
            error: error.as_deref(),
            duration_ms,
            state,
        };
        if let Err(failure) = outbox::record_attempt(&self.store, delivery, &outcome).await {
            tracing::warn!(job.id = job.id, error = %failure, "no se pudo anotar un intento de entrega de webhook");
        }
        tracing::info!(
            job.id = job.id,
            job.attempt = job.attempt,
            webhook.event = %outgoing.kind,
            http.status = response_code,
            duration_ms,
            state,
            "entrega de webhook"
        );
        let recorded = match error {
            None => self.queue.complete(&job, None).await,
            Some(error) => self.queue.fail(&job, &error, self.backoff()).await.map(|_| ()),
        };
        if let Err(failure) = recorded {
            tracing::warn!(job.id = job.id, error = %failure, "no se pudo anotar en la cola una entrega de webhook");
        }
    }

    /// POSTs the delivery; the status the target answered, or why it
    /// could not be sent.
    async fn send(&self, outgoing: &Outgoing) -> Result<u16, String> {
        let url = guard::check_url(&outgoing.url, self.settings.allow_private)?;
        let body = body_of(&self.store, outgoing)
            .await
            .map_err(|e| format!("no se pudo preparar el cuerpo: {e}"))?;
        let bytes = body.to_string().into_bytes();
        let signature = sign(outgoing.secret.expose(), chrono::Utc::now().timestamp(), &bytes);
        let mut response = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(HEADER, signature)
            .body(bytes)
            .send()
            .await
            .map_err(|e| describe(&e))?;
        let status = response.status().as_u16();
        // Read a little of the answer, so the connection is reused; no more.
        let mut read = 0;
        while read < RESPONSE_MAX {
            match response.chunk().await {
                Ok(Some(chunk)) => read += chunk.len(),
                _ => break,
            }
        }
        Ok(status)
    }
}

/// What a delivery sends: the event's id (the same on every retry and for
/// every subscription), type, time, office and reference; the persons a
/// document names only for a subscription of scope `datos`, and only while
/// its office may see them (read when sent: a retry after a derivación
/// was annulled carries none of the other office's persons).
pub async fn body_of(store: &Store, outgoing: &Outgoing) -> Result<Value, sqlx::Error> {
    let mut data = outgoing.reference.clone();
    if outgoing.scope == Scope::Datos
        && let Some(document) = outgoing.document
        && let Some(fields) = data.get_mut("document").and_then(Value::as_object_mut)
        && outbox::visible_to(store, &outgoing.office, document).await?
    {
        fields.insert(
            "persons".into(),
            Value::Array(outbox::persons_of(store, document).await?),
        );
    }
    Ok(json!({
        "id": outgoing.event_id,
        "type": outgoing.kind,
        "created_at": outgoing.occurred_at,
        "office": outgoing.office,
        "data": data,
    }))
}

/// A failure to send, in Spanish, without the address.
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "no respondió a tiempo".into()
    } else if error.is_connect() {
        let mut cause: Option<&dyn std::error::Error> = std::error::Error::source(error);
        while let Some(inner) = cause {
            let text = inner.to_string();
            if text.contains("privada") {
                return text;
            }
            cause = inner.source();
        }
        "no se pudo conectar con el servidor".into()
    } else {
        "la petición falló".into()
    }
}

/// Why a subscription was not made.
#[derive(Debug, thiserror::Error)]
pub enum SubscribeError {
    /// What the person wrote, and what is wrong with it (Spanish).
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] crate::db::StoreError),
}

/// Subscribes `office` to `events` (all when empty) at `url` with
/// `scope`: the address checked as written and as its name resolves now.
/// Returns the subscription and its secret, to be shown once.
pub async fn subscribe(
    store: &Store,
    settings: &WebhookSettings,
    office: &str,
    actor: &str,
    url: &str,
    events: &[String],
    scope: Option<&str>,
) -> Result<(outbox::Subscription, outbox::Secret), SubscribeError> {
    let parsed = guard::check_url(url, settings.allow_private).map_err(SubscribeError::Invalid)?;
    let host = parsed.host_str().unwrap_or_default();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<std::net::IpAddr>().is_err() {
        guard::resolve(bare, settings.allow_private)
            .await
            .map_err(SubscribeError::Invalid)?;
    }
    let mut kinds = Vec::new();
    for name in events {
        let kind = outbox::EventType::parse(name).ok_or_else(|| {
            SubscribeError::Invalid(format!(
                "«{name}» no es un evento; use {}",
                outbox::EventType::ALL.map(|k| k.as_str()).join(", ")
            ))
        })?;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    if kinds.is_empty() {
        kinds = outbox::EventType::ALL.to_vec();
    }
    let scope = match scope {
        None => Scope::Minimo,
        Some(text) => Scope::parse(text).ok_or_else(|| {
            SubscribeError::Invalid(format!("«{text}» no es un alcance; use «minimo» o «datos»"))
        })?,
    };
    let new = outbox::NewSubscription {
        url: parsed.to_string(),
        scope,
        events: kinds,
    };
    Ok(outbox::create(store, office, &new, actor).await?)
}
