//! The one bootstrap: how an installation's pieces are put together, from
//! its configuration. `sello serve` builds an [`Application`] (the archive,
//! the catalog, the office's key, the trusted keys, the accounts, the first
//! administrator and the HTTP state); the commands that need less take the
//! part they need from here ([`Storage`], [`issuer`], [`load_catalog`]);
//! the tests and benchmarks build the same [`Application`], handing it an
//! archive or keys of their own through [`Application::builder`].
//!
//! A layer of its own, above `web`, because the command line's storage-only
//! commands (`sello users`) use its parts without anything of HTTP.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;

use crate::accounts::{AccountError, Accounts, User};
use crate::archive::{Archive, ArchiveError};
use crate::config::Config;
use crate::evidence::Extender;
use crate::forms::{Catalog, CatalogError};
use crate::issuer::Issuer;
use crate::keys::{FollowedTrust, KeyError, OfficeKey, SigningKeys, TrustedKeys, office_key, trusted_keys};
use crate::pdf::TsaClient;
use crate::queue::{Queue, Scheduler};
use crate::signed_pdf::LongTermSources;
use crate::web::{AppState, router};

mod background;

pub use background::{FOLLOW_UP_NOTICES, TIMESTAMP_RETRY, mail_follow_ups_due};
use background::{PERIODIC_POLL, follow_up_notices, timestamp_retry};

/// Why the installation could not be put together.
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    /// The forms folder could not be read.
    #[error(transparent)]
    Catalog(CatalogError),
    /// The signing key or the trusted certificates could not be read or
    /// made: something the installer fixes in the configuration.
    #[error(transparent)]
    Key(KeyError),
    /// The database or the blob store could not be opened.
    #[error(transparent)]
    Archive(ArchiveError),
    /// The first administrator could not be created.
    #[error(transparent)]
    Accounts(AccountError),
    /// The PDF renderer (or the mail of notices) could not be prepared.
    #[error("no se pudo preparar el generador de PDF: {0}")]
    Renderer(std::io::Error),
    /// The installation's secret for naming limited clients could not be
    /// read or made (in its database).
    #[error("no se pudo leer ni crear el secreto de los límites de consultas: {0}")]
    Limits(crate::rate_limits::BucketKeyError),
    /// Time-stamps were asked for and no TSA is configured.
    #[error(
        "no hay autoridades de sellado de tiempo configuradas: indíquelas en [timestamp] tsa (o SELLO_TIMESTAMP_TSA)"
    )]
    NoTsa,
}

/// The form catalog of the configured forms folder.
pub fn load_catalog(config: &Config) -> Result<Catalog, BootError> {
    Catalog::load(&config.forms_dir).map_err(BootError::Catalog)
}

/// What issues from the command line: the office's key (made on the
/// first run; the notice to show the person is returned with it) and the
/// renderer of the configured office.
pub fn issuer(config: &Config) -> Result<(Issuer, Option<String>), BootError> {
    let (key, notice) = office_key(config).map_err(BootError::Key)?;
    let issuer =
        Issuer::with_keys(config, SigningKeys::for_config(config, key)).map_err(BootError::Renderer)?;
    Ok((issuer, notice))
}

/// What adds the awaited and the archival time-stamps to documents
/// (`sello archive timestamp | renew`, and `sello serve`'s retry): fails
/// when no TSA is configured.
pub fn extender(config: &Config) -> Result<Extender, BootError> {
    let tsa = TsaClient::configured(&config.timestamp)
        .map_err(|e| BootError::Key(KeyError::Other(e)))?
        .ok_or(BootError::NoTsa)?;
    let long_term = LongTermSources::for_config(config);
    Extender::new(Arc::new(tsa), Arc::new(long_term)).map_err(BootError::Archive)
}

/// The archive and the staff accounts kept in its database.
pub struct Storage {
    pub archive: Archive,
    pub accounts: Accounts,
}

impl Storage {
    /// Opens the configured office's archive (creating and upgrading its
    /// database) with its accounts.
    pub async fn open(config: &Config) -> Result<Self, BootError> {
        let archive = Archive::open(config).await.map_err(BootError::Archive)?;
        Ok(Self::over(archive))
    }

    /// The accounts over `archive`'s database: the one place they are made.
    pub fn over(archive: Archive) -> Self {
        let accounts = Accounts::new(archive.store().clone());
        Self { archive, accounts }
    }
}

/// How often `serve` looks in the queue for lotes to take over.
const LOTE_POLL: std::time::Duration = std::time::Duration::from_secs(3);

/// The service, assembled and ready to serve.
pub struct Application {
    state: Arc<AppState>,
    key_notice: Option<String>,
    first_administrator: Option<(User, String)>,
    /// With TSAs configured: what adds the awaited time-stamps, and how
    /// often it looks for documents awaiting one.
    timestamp_retry: Option<(Arc<Extender>, std::time::Duration)>,
}

/// An [`Application`] to build, with what a test hands it instead of what
/// the configuration says.
pub struct Builder {
    config: Config,
    archive: Option<Archive>,
    key: Option<Arc<OfficeKey>>,
    trusted: Option<TrustedKeys>,
    log_key: Option<crate::keys::LogKey>,
}

impl Application {
    /// Everything from the configuration: see [`Builder::build`].
    pub async fn build(config: &Config) -> Result<Self, BootError> {
        Self::builder(config).build().await
    }

    /// To build from `config`, with parts given instead.
    pub fn builder(config: &Config) -> Builder {
        Builder {
            config: config.clone(),
            archive: None,
            key: None,
            trusted: None,
            log_key: None,
        }
    }

    /// What every request handler shares.
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// The service's routes over its state.
    pub fn router(&self) -> Router {
        router(Arc::clone(&self.state))
    }

    /// Set when this start made the office's signing key: what to tell the
    /// person (where it is, to back it up).
    pub fn key_notice(&self) -> Option<&str> {
        self.key_notice.as_deref()
    }

    /// The administrator this start created and their one-time password,
    /// the first time it is asked for: it is shown once.
    pub fn take_first_administrator(&mut self) -> Option<(User, String)> {
        self.first_administrator.take()
    }

    /// Serves on `listener` until `shutdown` completes; requests under way,
    /// issuances included, finish before it returns.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let app = self.router().into_make_service_with_connect_info::<SocketAddr>();
        let scheduler = self.scheduler().map_err(std::io::Error::other)?;
        let periodic = (!scheduler.is_empty()).then(|| tokio::spawn(scheduler.run(PERIODIC_POLL)));
        // Lotes left by a restart or by an instance that died, and then
        // every few seconds.
        let lotes = tokio::spawn(crate::web::jobs::poll_lotes(Arc::clone(&self.state), LOTE_POLL));
        // Webhook deliveries due, from the outbox the archive fills.
        let webhooks =
            crate::webhooks::Dispatcher::new(self.state.archive.store().clone(), &self.state.config.webhooks)
                .map(|dispatcher| tokio::spawn(dispatcher.poll()))
                .map_err(|error| tracing::warn!(error = %error, "no se enviarán webhooks"))
                .ok();
        let served = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
        for task in [periodic, webhooks].into_iter().flatten() {
            task.abort();
        }
        lotes.abort();
        served
    }

    /// The periodic work of this installation, on the queue every instance
    /// shares: the time-stamp retry when TSAs are configured, the
    /// follow-up notices when mail is. Each runs once a period whichever
    /// instance gets to it first.
    pub fn scheduler(&self) -> Result<Scheduler, crate::queue::QueueError> {
        let mut scheduler = Scheduler::new(Queue::new(self.state.archive.store().clone())?);
        if let Some((extender, every)) = &self.timestamp_retry {
            scheduler = scheduler.with(timestamp_retry(
                Arc::clone(extender),
                self.state.archive.clone(),
                *every,
            ));
        }
        if self.state.notifier.mails() {
            scheduler = scheduler.with(follow_up_notices(Arc::clone(&self.state)));
        }
        Ok(scheduler)
    }
}

impl Builder {
    /// Serves this archive instead of opening the configured one.
    pub fn archive(mut self, archive: Archive) -> Self {
        self.archive = Some(archive);
        self
    }

    /// Signs with this key instead of the configured one.
    pub fn key(mut self, key: Arc<OfficeKey>) -> Self {
        self.key = Some(key);
        self
    }

    /// Signs the log's checkpoints with this key instead of the one in the
    /// data directory.
    pub fn log_key(mut self, key: crate::keys::LogKey) -> Self {
        self.log_key = Some(key);
        self
    }

    /// Trusts these keys instead of those the configuration names.
    pub fn trusted(mut self, trusted: TrustedKeys) -> Self {
        self.trusted = Some(trusted);
        self
    }

    /// Loads the catalog, opens the archive, obtains the office's key
    /// (making it on the first run) and then the trusted keys (which
    /// include a key just made), makes sure the office has an
    /// administrator and prepares the renderer. The archive is opened
    /// before the key is made, so a database that cannot be opened leaves
    /// no new key behind whose notice nobody saw.
    pub async fn build(self) -> Result<Application, BootError> {
        let Self {
            config,
            archive,
            key,
            trusted,
            log_key,
        } = self;
        let catalog = load_catalog(&config)?;
        let archive = match archive {
            Some(archive) => archive,
            None => Archive::open(&config).await.map_err(BootError::Archive)?,
        };
        // A key handed over stays; the installation's own follows its
        // folder, where a rotation from the command line may change it.
        let (keys, key_notice) = match key {
            Some(key) => (SigningKeys::fixed(key), None),
            None => {
                let (key, notice) = office_key(&config).map_err(BootError::Key)?;
                (SigningKeys::for_config(&config, key), notice)
            }
        };
        let (log_key, log_notice) = match log_key {
            Some(log_key) => (log_key, None),
            None => crate::keys::LogKey::for_config(&config).map_err(BootError::Key)?,
        };
        let key_notice = match (key_notice, log_notice) {
            (Some(a), Some(b)) => Some(format!("{a}\n{b}")),
            (a, b) => a.or(b),
        };
        let trusted = match trusted {
            Some(trusted) => FollowedTrust::fixed(trusted),
            None => FollowedTrust::following(&config, trusted_keys(&config).map_err(BootError::Key)?),
        };
        let Storage { archive, accounts } = Storage::over(archive);
        let office = archive.office();
        let first_administrator = accounts
            .ensure_first_administrator((&office.code, &office.name))
            .await
            .map_err(BootError::Accounts)?;
        // From the database, so every instance of the installation names
        // a client alike (see `rate_limits::BucketKey`).
        let bucket_key = crate::rate_limits::BucketKey::of_installation(archive.store())
            .await
            .map_err(BootError::Limits)?;
        let state = AppState::new(
            &config,
            archive,
            accounts,
            catalog,
            keys,
            trusted,
            Arc::new(log_key),
            &bucket_key,
        )
        .map_err(BootError::Renderer)?;
        let timestamp_retry = match extender(&config) {
            // At least a minute apart, whatever a hand-made setting says.
            Ok(extender) => Some((
                Arc::new(extender),
                config
                    .timestamp
                    .retry_every
                    .max(std::time::Duration::from_secs(60)),
            )),
            Err(BootError::NoTsa) => None,
            Err(error) => return Err(error),
        };
        Ok(Application {
            state: Arc::new(state),
            key_notice,
            first_administrator,
            timestamp_retry,
        })
    }
}
