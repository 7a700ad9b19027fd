//! Configuration, read once at start-up: an optional `sello.toml` (or the
//! file given with `--config`), then `SELLO_*` environment variables, which
//! win. A bad setting stops start-up with a message that names it.
//!
//! Long because every setting is read, checked and explained here, in one
//! place, so that each bad value stops start-up with the same kind of
//! message naming where it came from; its unit tests follow.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono_tz::Tz;
use serde::Deserialize;

mod oidc;
pub use oidc::{CALLBACK_PATH, OidcSettings};

/// The file read when `--config` is not given, if it exists.
pub const DEFAULT_FILE: &str = "sello.toml";
pub const ENV_PREFIX: &str = "SELLO_";

/// A setting that could not be accepted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("configuración: «{setting}»: {message}")]
pub struct ConfigError {
    /// The setting's name, with where it came from (`office_code (SELLO_OFFICE_CODE)`).
    pub setting: String,
    pub message: String,
}

/// The office's settings, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The institution (letterhead, first line): "Sistema DIF Municipal de …".
    pub institution: String,
    pub office_name: String,
    /// Short code used in folios (`DIF-SLP`): uppercase letters, digits, hyphens.
    pub office_code: String,
    pub address: String,
    pub logo: Option<PathBuf>,
    /// Where verification links point, without a trailing slash.
    pub base_url: String,
    pub data_dir: PathBuf,
    pub time_zone: Tz,
    /// Whose conventions the documents follow (the identity number a person
    /// field takes when its form does not say, the place-and-date line);
    /// `None`, the default, follows none in particular, as before.
    pub country: Option<crate::office::Country>,
    /// The catalog of forms and the shared template library.
    pub forms_dir: PathBuf,
    /// The folder of the office's active signing key; `None` means the one
    /// Sello keeps in the data directory (generated on first issuance).
    pub signing_key: Option<PathBuf>,
    /// Keys no longer used to sign, still trusted for what they signed before.
    pub retired_keys: Vec<RetiredKey>,
    /// `sqlite://…` or `postgres://…`; by default `<data_dir>/sello.db`.
    pub database_url: String,
    /// How folios are printed, e.g. `{office}/{series}/{year}/{n:04}`.
    pub folio_format: crate::folio::FolioFormat,
    /// Where PDFs are kept: a folder (by default `<data_dir>/documentos`)
    /// or an S3 bucket, `s3://bucket/prefix`.
    pub blob_store: String,
    /// Where `sello serve` listens.
    pub listen: std::net::SocketAddr,
    /// Public verification lookups allowed per client address and minute;
    /// 0 turns the limit off.
    pub lookups_per_minute: u32,
    /// Whether a reverse proxy is in front: only then is the client's
    /// address taken from `X-Forwarded-For`.
    pub behind_proxy: bool,
    /// The Redis where the limits on lookups and logins are counted, when
    /// several instances share one; `None` (the default) counts them in
    /// the database when it is PostgreSQL, in each process on SQLite.
    pub redis_url: Option<RedisUrl>,
    /// Put before every key Sello writes in Redis (`sello:`), so that
    /// several installations may share one server.
    pub redis_prefix: String,
    /// Where e-mail notices of drafts waiting for someone are sent from;
    /// `None` (the default) sends none.
    pub smtp: Option<SmtpSettings>,
    /// The RFC 3161 time-stamping authorities that date each signature.
    pub timestamp: TimestampSettings,
    /// Where webhooks may be sent and how their deliveries are retried.
    pub webhooks: WebhookSettings,
    /// Single sign-on through an OpenID provider; `None` (the default):
    /// passwords only.
    pub oidc: Option<OidcSettings>,
}

/// Webhooks' settings: only `webhooks_allow_private` is read from the
/// file or environment; the timings are for tests to shorten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// Whether targets on loopback, private, link-local and other
    /// non-public addresses are allowed (off: a webhook could otherwise
    /// reach the office's internal network).
    pub allow_private: bool,
    /// The wait after a delivery's first failure, doubled at each failure.
    pub retry_first: std::time::Duration,
    /// The longest wait between two attempts.
    pub retry_max: std::time::Duration,
    /// How long a target has to answer.
    pub timeout: std::time::Duration,
    /// How often the service looks for deliveries due.
    pub poll: std::time::Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_private: false,
            retry_first: std::time::Duration::from_secs(60),
            retry_max: std::time::Duration::from_secs(2 * 60 * 60),
            timeout: std::time::Duration::from_secs(10),
            poll: std::time::Duration::from_secs(2),
        }
    }
}

/// The `[timestamp]` settings: which time-stamping authorities (TSAs) date
/// each signature (PAdES B-T), and which TSA roots Sello trusts when it
/// judges a time-stamp. With no TSA, documents are issued without one (B-B).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TimestampSettings {
    /// The TSAs' addresses (`http://` or `https://`), asked in order until
    /// one gives a good time-stamp.
    pub tsa_urls: Vec<String>,
    /// How long to wait for each TSA before asking the next.
    pub timeout: Duration,
    /// The TSA roots trusted to vouch for time-stamps, read from PEM files
    /// at start-up; a file may hold several certificates.
    pub trusted_roots: Vec<TsaRoot>,
    /// How often `sello serve` adds their time-stamp to documents issued
    /// while no TSA answered.
    pub retry_every: Duration,
}

/// One trusted TSA root certificate and the file it came from.
#[derive(Clone, PartialEq, Eq)]
pub struct TsaRoot {
    pub file: PathBuf,
    /// The certificate, DER.
    pub der: Vec<u8>,
}

impl std::fmt::Debug for TsaRoot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TsaRoot")
            .field("file", &self.file)
            .field("der_bytes", &self.der.len())
            .finish()
    }
}

/// How long a TSA is waited for when the setting does not say.
pub const DEFAULT_TSA_TIMEOUT_SECONDS: u64 = 10;
/// How often documents awaiting a time-stamp are retried when the setting
/// does not say.
pub const DEFAULT_TIMESTAMP_RETRY_MINUTES: u64 = 15;

/// The mail server that sends notices, and the sender they come from.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    /// `smtps://user:password@host:465` (TLS) or
    /// `smtp://user:password@host:587?tls=required` (STARTTLS); plain
    /// `smtp://` is unencrypted, for a relay on the same machine. Holds a
    /// password.
    pub url: String,
    /// «Sello DIF <sello@dif.gob.mx>».
    pub from: String,
}

impl std::fmt::Debug for SmtpSettings {
    /// Without the URL: it carries the mail account's password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("url", &"***")
            .field("from", &self.from)
            .finish()
    }
}

/// The address of a Redis server, `redis://[:password@]host:port/db`.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl(String);

impl RedisUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for RedisUrl {
    /// Hidden: it may carry a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedisUrl(***)")
    }
}

/// A retired signing key: its folder (or certificate file) and when it stopped signing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetiredKey {
    pub path: PathBuf,
    pub retired_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetiredKey {
    path: String,
    retired_at: String,
}

/// The settings as written in the file, all optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    institution: Option<String>,
    office_name: Option<String>,
    office_code: Option<String>,
    address: Option<String>,
    logo: Option<String>,
    base_url: Option<String>,
    data_dir: Option<String>,
    time_zone: Option<String>,
    country: Option<String>,
    forms_dir: Option<String>,
    signing_key: Option<String>,
    database_url: Option<String>,
    folio_format: Option<String>,
    blob_store: Option<String>,
    listen: Option<String>,
    lookups_per_minute: Option<u32>,
    behind_proxy: Option<bool>,
    redis_url: Option<String>,
    redis_prefix: Option<String>,
    webhooks_allow_private: Option<bool>,
    smtp_url: Option<String>,
    smtp_from: Option<String>,
    #[serde(default)]
    retired_keys: Vec<RawRetiredKey>,
    timestamp: Option<RawTimestamp>,
    oidc: Option<RawOidc>,
}

/// The `[oidc]` table as written in the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOidc {
    issuer: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    provider_name: Option<String>,
    scopes: Option<Vec<String>>,
    local_passwords: Option<bool>,
}

/// The `[timestamp]` table as written in the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTimestamp {
    tsa: Option<Vec<String>>,
    timeout_seconds: Option<u64>,
    trusted_roots: Option<Vec<String>>,
    retry_minutes: Option<u64>,
}

const SETTINGS: [&str; 32] = [
    "institution",
    "office_name",
    "office_code",
    "address",
    "logo",
    "base_url",
    "data_dir",
    "time_zone",
    "country",
    "forms_dir",
    "signing_key",
    "database_url",
    "folio_format",
    "blob_store",
    "listen",
    "lookups_per_minute",
    "behind_proxy",
    "redis_url",
    "redis_prefix",
    "webhooks_allow_private",
    "smtp_url",
    "smtp_from",
    "timestamp_tsa",
    "timestamp_timeout_seconds",
    "timestamp_trusted_roots",
    "timestamp_retry_minutes",
    "oidc_issuer",
    "oidc_client_id",
    "oidc_client_secret",
    "oidc_provider_name",
    "oidc_scopes",
    "oidc_local_passwords",
];

/// Separates the items of a list setting given as one text (an environment
/// variable).
const LIST_SEPARATOR: char = ',';

impl Config {
    /// Loads the configuration from `file` (or `sello.toml` if present) and
    /// the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::from_sources(file, std::env::vars())
    }

    /// Loads from an explicit environment, so tests need not touch the process's.
    pub fn from_sources(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut values: BTreeMap<&'static str, (String, String)> = BTreeMap::new();
        let (settings, retired) = read_file(file)?;
        for (name, value, source) in settings {
            values.insert(name, (value, source));
        }
        for (key, value) in env {
            let Some(name) = key.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let lower = name.to_ascii_lowercase();
            let Some(setting) = SETTINGS.iter().find(|s| **s == lower) else {
                return Err(ConfigError {
                    setting: key.clone(),
                    message: format!(
                        "variable desconocida; las válidas son {}",
                        SETTINGS
                            .iter()
                            .map(|s| format!("{ENV_PREFIX}{}", s.to_ascii_uppercase()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            };
            values.insert(setting, (value, key));
        }
        let mut config = Self::check(values)?;
        config.retired_keys = retired;
        Ok(config)
    }

    fn check(mut values: BTreeMap<&'static str, (String, String)>) -> Result<Self, ConfigError> {
        let mut take = |name: &'static str, default: &str| -> (String, String) {
            values
                .remove(name)
                .unwrap_or_else(|| (default.to_owned(), format!("{name} (valor por defecto)")))
        };
        let fail = |source: &str, message: String| ConfigError {
            setting: source.to_owned(),
            message,
        };

        let (institution, source) = take("institution", "Sistema para el Desarrollo Integral de la Familia");
        if institution.trim().is_empty() {
            return Err(fail(&source, "no puede estar vacío".into()));
        }
        let (office_name, source) = take("office_name", "DIF Municipal");
        if office_name.trim().is_empty() {
            return Err(fail(&source, "no puede estar vacío".into()));
        }
        let (office_code, source) = take("office_code", "DIF");
        let code_ok = (1..=20).contains(&office_code.len())
            && office_code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
        if !code_ok {
            return Err(fail(
                &source,
                format!(
                    "«{office_code}» no sirve como clave de oficina: use de 1 a 20 mayúsculas, dígitos o guiones, como «DIF-SLP»"
                ),
            ));
        }
        let (address, _) = take("address", "");
        let (logo, source) = take("logo", "");
        let logo = if logo.is_empty() {
            None
        } else {
            let path = PathBuf::from(&logo);
            if crate::office::logo_extension(&path).is_none() {
                return Err(fail(
                    &source,
                    format!("«{logo}» debe ser una imagen .png, .jpg o .svg"),
                ));
            }
            if !path.is_file() {
                return Err(fail(&source, format!("no existe el archivo «{logo}»")));
            }
            if let Err(reason) = crate::office::check_logo(&path) {
                return Err(fail(
                    &source,
                    format!("«{logo}» no es una imagen válida: {reason}"),
                ));
            }
            Some(path)
        };
        let (base_url, source) = take("base_url", "http://127.0.0.1:8080");
        let base_url = base_url.trim_end_matches('/').to_owned();
        let url_ok = ["http://", "https://"].iter().any(|scheme| {
            base_url
                .strip_prefix(scheme)
                .is_some_and(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace))
        });
        if !url_ok {
            return Err(fail(
                &source,
                format!(
                    "«{base_url}» no es una dirección web; escriba, por ejemplo, «https://sello.dif.gob.mx»"
                ),
            ));
        }
        let (data_dir, source) = take("data_dir", "./data");
        if data_dir.trim().is_empty() {
            return Err(fail(&source, "no puede estar vacío".into()));
        }
        let (time_zone, source) = take("time_zone", "America/Mexico_City");
        let time_zone: Tz = time_zone.parse().map_err(|_| {
            fail(
                &source,
                format!("«{time_zone}» no es una zona horaria; use un nombre como «America/Mexico_City», «America/Santiago» o «America/Panama»"),
            )
        })?;
        let (country, source) = take("country", "");
        let country = match country.trim() {
            "" => None,
            code => Some(crate::office::Country::parse(code).ok_or_else(|| {
                fail(
                    &source,
                    format!("«{code}» no es un país de Sello; use MX (México), CL (Chile) o PA (Panamá)"),
                )
            })?),
        };
        let (forms_dir, source) = take("forms_dir", "forms");
        let forms_dir = PathBuf::from(forms_dir);
        if !forms_dir.join("_lib").is_dir() {
            return Err(fail(
                &source,
                format!(
                    "«{}» no contiene la biblioteca de plantillas _lib",
                    forms_dir.display()
                ),
            ));
        }
        let (signing_key, _) = take("signing_key", "");
        let signing_key = (!signing_key.trim().is_empty()).then(|| PathBuf::from(signing_key));
        let data_dir = PathBuf::from(data_dir);
        let (database_url, source) = take("database_url", "");
        let database_url = if database_url.trim().is_empty() {
            format!("sqlite://{}", data_dir.join("sello.db").display())
        } else if ["sqlite:", "postgres://", "postgresql://"]
            .iter()
            .any(|scheme| database_url.starts_with(scheme))
        {
            database_url
        } else {
            return Err(fail(
                &source,
                "debe empezar con sqlite:// o postgres://".to_owned(),
            ));
        };
        let (folio_format, source) = take("folio_format", crate::folio::DEFAULT_FORMAT);
        let folio_format = crate::folio::FolioFormat::parse(&folio_format).map_err(|e| fail(&source, e))?;
        let (blob_store, _) = take("blob_store", "");
        let blob_store = if blob_store.trim().is_empty() {
            data_dir.join("documentos").display().to_string()
        } else {
            blob_store
        };
        let (listen, source) = take("listen", "127.0.0.1:8080");
        let listen = listen.parse().map_err(|_| {
            fail(
                &source,
                format!("«{listen}» no es una dirección para escuchar; escriba, por ejemplo, 127.0.0.1:8080"),
            )
        })?;
        let (lookups, source) = take("lookups_per_minute", "120");
        let lookups_per_minute = lookups.trim().parse().map_err(|_| {
            fail(
                &source,
                format!("«{lookups}» no es un número de consultas por minuto; use, por ejemplo, 120 (0 para no limitar)"),
            )
        })?;
        let (behind_proxy, source) = take("behind_proxy", "false");
        let behind_proxy = yes_or_no(&behind_proxy).map_err(|message| fail(&source, message))?;
        let (redis_url, source) = take("redis_url", "");
        let redis_url = match redis_url.trim() {
            "" => None,
            url => {
                use redis::IntoConnectionInfo as _;
                let scheme_ok = url.starts_with("redis://") || url.starts_with("redis+unix://");
                if !scheme_ok || url.into_connection_info().is_err() {
                    return Err(fail(
                        &source,
                        "no es una dirección de Redis; escriba, por ejemplo, redis://:contraseña@redis.interno:6379/0 (rediss:// no está disponible)".into(),
                    ));
                }
                Some(RedisUrl(url.to_owned()))
            }
        };
        let (redis_prefix, source) = take("redis_prefix", "sello:");
        let prefix_ok = (1..=64).contains(&redis_prefix.len())
            && !redis_prefix
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "*?[]\\".contains(c));
        if !prefix_ok {
            return Err(fail(
                &source,
                format!(
                    "«{redis_prefix}» no sirve como prefijo de claves: use de 1 a 64 caracteres sin espacios ni * ? [ ] \\, como «sello-dif:»"
                ),
            ));
        }
        let (allow_private, source) = take("webhooks_allow_private", "false");
        let webhooks = crate::config::WebhookSettings {
            allow_private: yes_or_no(&allow_private).map_err(|message| fail(&source, message))?,
            ..Default::default()
        };
        let (smtp_url, url_source) = take("smtp_url", "");
        let (smtp_from, from_source) = take("smtp_from", "");
        let smtp = match (smtp_url.trim(), smtp_from.trim()) {
            ("", "") => None,
            ("", _) => {
                return Err(fail(
                    &url_source,
                    "falta el servidor de correo del remitente dado".into(),
                ));
            }
            (_, "") => {
                return Err(fail(
                    &from_source,
                    "falta el remitente de los avisos, como «Sello DIF <sello@dif.gob.mx>»".into(),
                ));
            }
            (url, from) => {
                if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
                    return Err(fail(
                        &url_source,
                        "debe empezar con smtp:// o smtps://, como smtp://usuario:contraseña@correo.dif.gob.mx:587".into(),
                    ));
                }
                if from.parse::<lettre::message::Mailbox>().is_err() {
                    return Err(fail(
                        &from_source,
                        format!(
                            "«{from}» no es un remitente; escriba, por ejemplo, «Sello DIF <sello@dif.gob.mx>»"
                        ),
                    ));
                }
                Some(SmtpSettings {
                    url: url.to_owned(),
                    from: from.to_owned(),
                })
            }
        };
        let timestamp = check_timestamp(&mut take, &fail)?;
        let oidc = oidc::check_oidc(&mut take, &fail, &base_url)?;
        Ok(Self {
            oidc,
            timestamp,
            webhooks,
            smtp,
            lookups_per_minute,
            behind_proxy,
            redis_url,
            redis_prefix,
            listen,
            database_url,
            folio_format,
            blob_store,
            signing_key,
            retired_keys: Vec::new(),
            institution,
            office_name,
            office_code,
            address,
            logo,
            base_url,
            data_dir,
            time_zone,
            country,
            forms_dir,
        })
    }
}

/// The `[timestamp]` settings, checked: each address a web address, the
/// timeout a sensible number of seconds, each root file a readable PEM
/// certificate, and roots whenever TSAs are given (without them Sello could
/// not judge the time-stamps it embeds).
fn check_timestamp(
    take: &mut impl FnMut(&'static str, &str) -> (String, String),
    fail: &impl Fn(&str, String) -> ConfigError,
) -> Result<TimestampSettings, ConfigError> {
    let (urls, urls_source) = take("timestamp_tsa", "");
    let mut tsa_urls = Vec::new();
    for url in list_items(&urls) {
        let ok = ["http://", "https://"].iter().any(|scheme| {
            url.strip_prefix(scheme)
                .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'))
        }) && !url.contains(char::is_whitespace);
        if !ok {
            return Err(fail(
                &urls_source,
                format!(
                    "«{url}» no es la dirección de una TSA; escriba, por ejemplo, «https://tsa.ejemplo.org/tsr» (varias, separadas por comas)"
                ),
            ));
        }
        tsa_urls.push(url.to_owned());
    }
    let default_timeout = DEFAULT_TSA_TIMEOUT_SECONDS.to_string();
    let (timeout, source) = take("timestamp_timeout_seconds", &default_timeout);
    let timeout = match timeout.trim().parse::<u64>() {
        Ok(seconds @ 1..=120) => Duration::from_secs(seconds),
        _ => {
            return Err(fail(
                &source,
                format!("«{timeout}» no es un tiempo de espera; use de 1 a 120 segundos, por ejemplo 10"),
            ));
        }
    };
    let default_retry = DEFAULT_TIMESTAMP_RETRY_MINUTES.to_string();
    let (retry, retry_source) = take("timestamp_retry_minutes", &default_retry);
    let retry_every = match retry.trim().parse::<u64>() {
        Ok(minutes @ 1..=1440) => Duration::from_secs(minutes * 60),
        _ => {
            return Err(fail(
                &retry_source,
                format!("«{retry}» no es un intervalo; use de 1 a 1440 minutos, por ejemplo 15"),
            ));
        }
    };
    let (roots, roots_source) = take("timestamp_trusted_roots", "");
    let mut trusted_roots = Vec::new();
    for file in list_items(&roots) {
        let path = PathBuf::from(file);
        let bytes =
            fs::read(&path).map_err(|e| fail(&roots_source, format!("no se pudo leer «{file}»: {e}")))?;
        let marked = bytes.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----");
        let certificates = match x509_cert::Certificate::load_pem_chain(&bytes) {
            Ok(certificates) => certificates,
            Err(e) if marked => {
                return Err(fail(
                    &roots_source,
                    format!("«{file}» tiene un certificado PEM ilegible: {e}"),
                ));
            }
            Err(_) => Vec::new(),
        };
        if certificates.is_empty() {
            return Err(fail(
                &roots_source,
                format!("«{file}» no contiene certificados PEM («-----BEGIN CERTIFICATE-----»)"),
            ));
        }
        for certificate in certificates {
            let der = der::Encode::to_der(&certificate)
                .map_err(|e| fail(&roots_source, format!("«{file}»: certificado ilegible: {e}")))?;
            trusted_roots.push(TsaRoot {
                file: path.clone(),
                der,
            });
        }
    }
    if !tsa_urls.is_empty() && trusted_roots.is_empty() {
        return Err(fail(
            &roots_source,
            "faltan las raíces de confianza de las TSA (archivos PEM): sin ellas Sello no puede comprobar los sellos de tiempo que recibe".into(),
        ));
    }
    Ok(TimestampSettings {
        tsa_urls,
        timeout,
        trusted_roots,
        retry_every,
    })
}

/// The items of a list setting: separated by commas, blanks trimmed.
fn list_items(text: &str) -> impl Iterator<Item = &str> {
    text.split(LIST_SEPARATOR)
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

type FileValues = (Vec<(&'static str, String, String)>, Vec<RetiredKey>);

/// A yes/no setting as written in the file or the environment.
fn yes_or_no(value: &str) -> Result<bool, String> {
    match value.trim() {
        "true" | "1" | "sí" | "si" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        other => Err(format!("«{other}» no es sí o no; use true o false")),
    }
}

fn read_file(file: Option<&Path>) -> Result<FileValues, ConfigError> {
    let (path, must_exist) = match file {
        Some(path) => (path.to_owned(), true),
        None => (PathBuf::from(DEFAULT_FILE), false),
    };
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if !must_exist && e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((Vec::new(), Vec::new()));
        }
        Err(e) => {
            return Err(ConfigError {
                setting: "--config".into(),
                message: format!("no se pudo leer {}: {e}", path.display()),
            });
        }
    };
    let settings: FileSettings = toml::from_str(&text).map_err(|e| ConfigError {
        setting: path.display().to_string(),
        message: e.message().to_owned(),
    })?;
    let origin = |name: &str| {
        if let Some(key) = name.strip_prefix("timestamp_") {
            format!("[timestamp] {key} ({})", path.display())
        } else if let Some(key) = name.strip_prefix("oidc_") {
            format!("[oidc] {key} ({})", path.display())
        } else {
            format!("{name} ({})", path.display())
        }
    };
    let timestamp = settings.timestamp.unwrap_or_default();
    let oidc = settings.oidc.unwrap_or_default();
    let list = |key: &str, items: Option<Vec<String>>| -> Result<Option<String>, ConfigError> {
        let Some(items) = items else { return Ok(None) };
        if let Some(item) = items.iter().find(|item| item.contains(LIST_SEPARATOR)) {
            return Err(ConfigError {
                setting: origin(key),
                message: format!("«{item}» lleva una coma; escriba la coma de una dirección como %2C"),
            });
        }
        Ok(Some(items.join(&LIST_SEPARATOR.to_string())))
    };
    let pairs = [
        ("institution", settings.institution),
        ("office_name", settings.office_name),
        ("office_code", settings.office_code),
        ("address", settings.address),
        ("logo", settings.logo),
        ("base_url", settings.base_url),
        ("data_dir", settings.data_dir),
        ("time_zone", settings.time_zone),
        ("country", settings.country),
        ("forms_dir", settings.forms_dir),
        ("signing_key", settings.signing_key),
        ("database_url", settings.database_url),
        ("folio_format", settings.folio_format),
        ("blob_store", settings.blob_store),
        ("listen", settings.listen),
        (
            "lookups_per_minute",
            settings.lookups_per_minute.map(|n| n.to_string()),
        ),
        ("behind_proxy", settings.behind_proxy.map(|b| b.to_string())),
        ("redis_url", settings.redis_url),
        ("redis_prefix", settings.redis_prefix),
        (
            "webhooks_allow_private",
            settings.webhooks_allow_private.map(|b| b.to_string()),
        ),
        ("smtp_url", settings.smtp_url),
        ("smtp_from", settings.smtp_from),
        ("timestamp_tsa", list("timestamp_tsa", timestamp.tsa)?),
        (
            "timestamp_timeout_seconds",
            timestamp.timeout_seconds.map(|n| n.to_string()),
        ),
        (
            "timestamp_trusted_roots",
            list("timestamp_trusted_roots", timestamp.trusted_roots)?,
        ),
        (
            "timestamp_retry_minutes",
            timestamp.retry_minutes.map(|n| n.to_string()),
        ),
        ("oidc_issuer", oidc.issuer),
        ("oidc_client_id", oidc.client_id),
        ("oidc_client_secret", oidc.client_secret),
        ("oidc_provider_name", oidc.provider_name),
        ("oidc_scopes", list("oidc_scopes", oidc.scopes)?),
        (
            "oidc_local_passwords",
            oidc.local_passwords.map(|b| b.to_string()),
        ),
    ];
    let mut retired = Vec::new();
    for (i, raw) in settings.retired_keys.into_iter().enumerate() {
        let setting = format!("retired_keys[{}].retired_at ({})", i + 1, path.display());
        let retired_at = parse_moment(&raw.retired_at).ok_or_else(|| ConfigError {
            setting,
            message: format!(
                "«{}» no es una fecha; use 2026-11-22 o 2026-11-22T10:00:00-06:00",
                raw.retired_at
            ),
        })?;
        retired.push(RetiredKey {
            path: PathBuf::from(raw.path),
            retired_at,
        });
    }
    let values = pairs
        .into_iter()
        .filter_map(|(name, value)| value.map(|v| (name, v, origin(name))))
        .collect();
    Ok((values, retired))
}

/// A moment written as an RFC 3339 date-time, or a date (its first instant, UTC).
fn parse_moment(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    if let Ok(moment) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(moment.with_timezone(&chrono::Utc));
    }
    let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut all = vec![(
            "SELLO_FORMS_DIR".to_owned(),
            concat!(env!("CARGO_MANIFEST_DIR"), "/forms").to_owned(),
        )];
        all.extend(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        all
    }

    #[test]
    fn mail_notices_are_off_unless_a_server_and_sender_are_given() {
        assert!(Config::from_sources(None, env(&[])).unwrap().smtp.is_none());
        let config = Config::from_sources(
            None,
            env(&[
                (
                    "SELLO_SMTP_URL",
                    "smtp://sello:clave-secreta@correo.dif.gob.mx:587",
                ),
                ("SELLO_SMTP_FROM", "Sello DIF <sello@dif.gob.mx>"),
            ]),
        )
        .unwrap();
        let smtp = config.smtp.expect("on");
        assert!(
            !format!("{smtp:?}").contains("clave-secreta"),
            "the password is not printed"
        );
        let err = Config::from_sources(None, env(&[("SELLO_SMTP_URL", "smtp://correo")])).unwrap_err();
        assert_eq!(err.setting, "smtp_from (valor por defecto)");
        let err = Config::from_sources(
            None,
            env(&[
                ("SELLO_SMTP_URL", "http://correo"),
                ("SELLO_SMTP_FROM", "sello@dif.gob.mx"),
            ]),
        )
        .unwrap_err();
        assert_eq!(err.setting, "SELLO_SMTP_URL");
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let config = Config::from_sources(None, env(&[])).unwrap();
        assert_eq!(config.time_zone, chrono_tz::America::Mexico_City);
        assert_eq!(config.data_dir, PathBuf::from("./data"));
    }

    #[test]
    fn a_redis_address_is_checked_and_hidden() {
        assert_eq!(Config::from_sources(None, env(&[])).unwrap().redis_url, None);
        let config = Config::from_sources(
            None,
            env(&[("SELLO_REDIS_URL", "redis://:secreta@redis.interno:6379/2")]),
        )
        .unwrap();
        let url = config.redis_url.as_ref().expect("set");
        assert_eq!(url.as_str(), "redis://:secreta@redis.interno:6379/2");
        assert!(!format!("{config:?}").contains("secreta"));
        for wrong in ["http://redis.interno", "redis://", "rediss://redis.interno"] {
            let err = Config::from_sources(None, env(&[("SELLO_REDIS_URL", wrong)])).unwrap_err();
            assert_eq!(err.setting, "SELLO_REDIS_URL", "{wrong}");
            assert!(err.message.contains("Redis"), "{err}");
        }
        assert_eq!(config.redis_prefix, "sello:");
        let err = Config::from_sources(None, env(&[("SELLO_REDIS_PREFIX", "sello *")])).unwrap_err();
        assert_eq!(err.setting, "SELLO_REDIS_PREFIX");
        let config = Config::from_sources(None, env(&[("SELLO_REDIS_PREFIX", "dif-slp:")])).unwrap();
        assert_eq!(config.redis_prefix, "dif-slp:");
    }

    #[test]
    fn environment_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sello.toml");
        fs::write(
            &file,
            "office_code = \"DIF-A\"\ntime_zone = \"America/Santiago\"\n",
        )
        .unwrap();
        let config = Config::from_sources(Some(&file), env(&[("SELLO_OFFICE_CODE", "DIF-B")])).unwrap();
        assert_eq!(config.office_code, "DIF-B");
        assert_eq!(config.time_zone, chrono_tz::America::Santiago);
    }

    #[test]
    fn the_country_is_none_unless_given_and_must_be_one_sello_knows() {
        assert_eq!(Config::from_sources(None, env(&[])).unwrap().country, None);
        let config = Config::from_sources(None, env(&[("SELLO_COUNTRY", "cl")])).unwrap();
        assert_eq!(config.country, Some(crate::office::Country::Cl));
        let err = Config::from_sources(None, env(&[("SELLO_COUNTRY", "AR")])).unwrap_err();
        assert_eq!(err.setting, "SELLO_COUNTRY");
    }

    #[test]
    fn a_bad_time_zone_names_the_variable() {
        let err = Config::from_sources(None, env(&[("SELLO_TIME_ZONE", "Mexico/Narnia")])).unwrap_err();
        assert_eq!(err.setting, "SELLO_TIME_ZONE");
        assert!(err.message.contains("Mexico/Narnia"));
    }

    #[test]
    fn an_unknown_key_in_the_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sello.toml");
        fs::write(&file, "ofice_code = \"X\"\n").unwrap();
        let err = Config::from_sources(Some(&file), env(&[])).unwrap_err();
        assert!(err.message.contains("ofice_code"), "{err}");
    }

    #[test]
    fn an_unknown_variable_is_refused_by_name() {
        let err = Config::from_sources(None, env(&[("SELLO_OFICE", "x")])).unwrap_err();
        assert_eq!(err.setting, "SELLO_OFICE");
    }

    #[test]
    fn a_missing_config_file_given_explicitly_is_an_error() {
        let err = Config::from_sources(Some(Path::new("/no/such/sello.toml")), env(&[])).unwrap_err();
        assert_eq!(err.setting, "--config");
    }

    #[test]
    fn a_logo_that_is_not_an_image_is_refused_at_start_up() {
        let dir = tempfile::tempdir().unwrap();
        let logo = dir.path().join("escudo.png");
        fs::write(&logo, "esto no es un PNG").unwrap();
        let err = Config::from_sources(None, env(&[("SELLO_LOGO", logo.to_str().unwrap())])).unwrap_err();
        assert_eq!(err.setting, "SELLO_LOGO");
        assert!(err.message.contains("no es una imagen válida"), "{err}");
    }

    #[test]
    fn the_archive_lives_in_the_data_directory_unless_told_otherwise() {
        let config = Config::from_sources(None, env(&[("SELLO_DATA_DIR", "/srv/sello")])).unwrap();
        assert_eq!(config.database_url, "sqlite:///srv/sello/sello.db");
        assert_eq!(config.blob_store, "/srv/sello/documentos");
        assert_eq!(config.folio_format, crate::folio::FolioFormat::default());
        let config = Config::from_sources(
            None,
            env(&[
                ("SELLO_DATABASE_URL", "postgres://sello@db/sello"),
                ("SELLO_FOLIO_FORMAT", "{series}-{n:05}/{year}"),
            ]),
        )
        .unwrap();
        assert_eq!(config.database_url, "postgres://sello@db/sello");
        assert_eq!(
            config.folio_format.folio("X", "OF", 2026, 7).as_str(),
            "OF-00007/2026"
        );
    }

    #[test]
    fn bad_archive_settings_are_named() {
        let err = Config::from_sources(None, env(&[("SELLO_DATABASE_URL", "mysql://x")])).unwrap_err();
        assert_eq!(err.setting, "SELLO_DATABASE_URL");
        let err = Config::from_sources(None, env(&[("SELLO_FOLIO_FORMAT", "{office}/{series}/{year}")]))
            .unwrap_err();
        assert_eq!(err.setting, "SELLO_FOLIO_FORMAT");
        assert!(err.message.contains("número"), "{err}");
    }

    const EXAMPLE_CERTIFICATE: &str =
        concat!(env!("CARGO_MANIFEST_DIR"), "/keys-example/p256/certificado.pem");

    #[test]
    fn without_tsas_documents_go_without_a_timestamp() {
        let timestamp = Config::from_sources(None, env(&[])).unwrap().timestamp;
        assert!(timestamp.tsa_urls.is_empty());
        assert!(timestamp.trusted_roots.is_empty());
        assert_eq!(
            timestamp.timeout,
            Duration::from_secs(DEFAULT_TSA_TIMEOUT_SECONDS)
        );
    }

    #[test]
    fn tsas_are_read_in_order_from_the_file_s_timestamp_table() {
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("raices.pem");
        let pem = fs::read_to_string(EXAMPLE_CERTIFICATE).unwrap();
        fs::write(&bundle, format!("{pem}{pem}")).unwrap();
        let file = dir.path().join("sello.toml");
        fs::write(
            &file,
            format!(
                "[timestamp]\ntsa = [\"https://uno.example/tsr\", \"http://dos.example:8080/\"]\ntimeout_seconds = 4\ntrusted_roots = [{:?}]\n",
                bundle.display().to_string()
            ),
        )
        .unwrap();
        let timestamp = Config::from_sources(Some(&file), env(&[])).unwrap().timestamp;
        assert_eq!(
            timestamp.tsa_urls,
            ["https://uno.example/tsr", "http://dos.example:8080/"]
        );
        assert_eq!(timestamp.timeout, Duration::from_secs(4));
        assert_eq!(
            timestamp.trusted_roots.len(),
            2,
            "both certificates of the bundle"
        );
        assert_eq!(timestamp.trusted_roots[0].file, bundle);

        let err = Config::from_sources(
            Some(&file),
            env(&[(
                "SELLO_TIMESTAMP_TSA",
                "https://uno.example/tsr, ftp://dos.example",
            )]),
        )
        .unwrap_err();
        assert_eq!(
            err.setting, "SELLO_TIMESTAMP_TSA",
            "the environment wins, and is named"
        );
        assert!(err.message.contains("ftp://dos.example"), "{err}");
    }

    #[test]
    fn bad_timestamp_settings_are_named() {
        let tsa = ("SELLO_TIMESTAMP_TSA", "https://tsa.example/tsr");
        let err = Config::from_sources(None, env(&[tsa])).unwrap_err();
        assert_eq!(err.setting, "timestamp_trusted_roots (valor por defecto)");
        assert!(err.message.contains("raíces"), "{err}");
        let err = Config::from_sources(
            None,
            env(&[tsa, ("SELLO_TIMESTAMP_TRUSTED_ROOTS", "/no/existe.pem")]),
        )
        .unwrap_err();
        assert_eq!(err.setting, "SELLO_TIMESTAMP_TRUSTED_ROOTS");
        let err = Config::from_sources(
            None,
            env(&[
                tsa,
                (
                    "SELLO_TIMESTAMP_TRUSTED_ROOTS",
                    concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"),
                ),
            ]),
        )
        .unwrap_err();
        assert!(err.message.contains("no contiene certificados"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let broken = dir.path().join("raiz.pem");
        fs::write(
            &broken,
            "-----BEGIN CERTIFICATE-----\nno es base64\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let err = Config::from_sources(
            None,
            env(&[tsa, ("SELLO_TIMESTAMP_TRUSTED_ROOTS", broken.to_str().unwrap())]),
        )
        .unwrap_err();
        assert_eq!(err.setting, "SELLO_TIMESTAMP_TRUSTED_ROOTS");
        assert!(err.message.contains("ilegible"), "{err}");
        let err = Config::from_sources(None, env(&[("SELLO_TIMESTAMP_TIMEOUT_SECONDS", "0")])).unwrap_err();
        assert_eq!(err.setting, "SELLO_TIMESTAMP_TIMEOUT_SECONDS");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sello.toml");
        fs::write(&file, "[timestamp]\ntsa = [\"https://a.example/x,y\"]\n").unwrap();
        let err = Config::from_sources(Some(&file), env(&[])).unwrap_err();
        assert!(err.setting.starts_with("[timestamp] tsa ("), "{err}");
        fs::write(&file, "[timestamp]\ntsas = []\n").unwrap();
        let err = Config::from_sources(Some(&file), env(&[])).unwrap_err();
        assert!(err.message.contains("tsas"), "{err}");
    }

    #[test]
    fn office_codes_must_fit_in_a_folio() {
        let err = Config::from_sources(None, env(&[("SELLO_OFFICE_CODE", "dif slp")])).unwrap_err();
        assert_eq!(err.setting, "SELLO_OFFICE_CODE");
    }
}
