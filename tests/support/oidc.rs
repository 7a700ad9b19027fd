//! A real OpenID provider on loopback: oidc-provider (a certified
//! implementation, installed from npm by `scripts/test`, which exports
//! `OIDC_PROVIDER_MODULES`) running `tests/support/oidc/provider.mjs`
//! under Node.js, with one confidential client and the accounts `ana`
//! (groups `dif-firmantes`) and `beto` (groups `mantenimiento`). A
//! person's side of the login is [`ProviderBrowser`]: an HTTP client that
//! keeps the provider's cookies and takes the provider's login step.

// Each test crate uses part of this module.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};

/// The client Sello is registered as at the provider.
pub const CLIENT_ID: &str = "sello-pruebas";
pub const CLIENT_SECRET: &str = "secreto-del-cliente-de-pruebas-0123456789";

/// A running provider; stopped when dropped.
pub struct Provider {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
    /// Kept open: a closed pipe would fail the provider's next write.
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Provider {
    /// The provider, with Sello's callback at `base_url` registered.
    pub fn start(base_url: &str) -> Self {
        let modules = std::env::var("OIDC_PROVIDER_MODULES").unwrap_or_else(|_| {
            panic!("OIDC_PROVIDER_MODULES names oidc-provider's node_modules; ./scripts/test installs it from npm")
        });
        // The script beside its modules: Node resolves an import from the
        // importing file's folder, so the folder holds a link to them.
        let dir = tempfile::tempdir().expect("temp dir");
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/oidc/provider.mjs");
        std::fs::copy(&script, dir.path().join("provider.mjs")).expect("copy the provider");
        std::os::unix::fs::symlink(&modules, dir.path().join("node_modules")).expect("link the modules");
        let mut child = Command::new("node")
            .arg(dir.path().join("provider.mjs"))
            .env("SELLO_OIDC_CLIENT_ID", CLIENT_ID)
            .env("SELLO_OIDC_CLIENT_SECRET", CLIENT_SECRET)
            .env("SELLO_OIDC_REDIRECT_URI", format!("{base_url}/sso/vuelta"))
            .env("SELLO_OIDC_POST_LOGOUT_URI", format!("{base_url}/entrar"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("node (Node.js, which scripts/test needs) did not start: {e}"));
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("the provider speaks");
        let port = line
            .trim()
            .strip_prefix("ESCUCHANDO ")
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("the provider did not start: «{line}»"));
        Self {
            child,
            port,
            _dir: dir,
            _stdout: stdout,
        }
    }

    /// The provider's issuer, as Sello is configured with it.
    pub fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A person's browser at the provider: follows its redirects, keeps its
/// cookies, and logs in as an account on the provider's login step.
pub struct ProviderBrowser {
    client: reqwest::Client,
    cookies: HashMap<String, String>,
}

impl Default for ProviderBrowser {
    fn default() -> Self {
        Self::new()
    }
}

impl ProviderBrowser {
    pub fn new() -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self {
            client,
            cookies: HashMap::new(),
        }
    }

    /// One GET with the kept cookies; the status and the `Location`, made absolute.
    async fn get(&mut self, url: &reqwest::Url) -> (u16, Option<reqwest::Url>, String) {
        let cookies = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let response = self
            .client
            .get(url.clone())
            .header(reqwest::header::COOKIE, cookies)
            .send()
            .await
            .expect("the provider answers");
        for value in response.headers().get_all(reqwest::header::SET_COOKIE) {
            let text = value.to_str().expect("ascii").to_owned();
            let cookie = cookie::Cookie::parse(text).expect("cookie");
            if cookie.value().is_empty() {
                self.cookies.remove(cookie.name());
            } else {
                self.cookies
                    .insert(cookie.name().to_owned(), cookie.value().to_owned());
            }
        }
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .map(|value| url.join(value.to_str().expect("ascii")).expect("a location"));
        let body = response.text().await.unwrap_or_default();
        (status, location, body)
    }

    /// Follows the provider's redirects from `authorization_url`, logging
    /// in as `account` when the provider asks for its login step, until the
    /// provider sends the browser to an address under `callback_prefix`
    /// (Sello's); that address.
    pub async fn log_in(&mut self, authorization_url: &str, account: &str, callback_prefix: &str) -> String {
        let mut url = reqwest::Url::parse(authorization_url).expect("the authorization URL");
        for _ in 0..10 {
            if url.as_str().starts_with(callback_prefix) {
                return url.to_string();
            }
            if url.path().starts_with("/interaction/") {
                url.query_pairs_mut().append_pair("cuenta", account);
            }
            let (status, location, body) = self.get(&url).await;
            url = location
                .unwrap_or_else(|| panic!("the provider answered {status} without a redirect: {body}"));
        }
        panic!("the provider never sent the browser back to Sello");
    }
}
