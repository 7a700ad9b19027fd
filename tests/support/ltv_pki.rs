//! A TSA whose certificate names a CRL distribution point, on loopback:
//! certomancer (installed by `scripts/test`) animating a root CA, a TSA
//! certificate valid until a date the test chooses, the TSA service and
//! the root's CRL repository. What long-term validation needs from a TSA:
//! its chain and a CRL for its certificate, fetched once and embedded.
// Shared by two test crates; each uses part of it.
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

const PKI: &str = r#"
external-url-prefix: "http://127.0.0.1:PORT"
keysets:
  ltv:
    path-prefix: keys
    keys:
      root:
        path: root.key.pem
      tsa:
        path: tsa.key.pem
pki-architectures:
  ltv:
    keyset: ltv
    entity-defaults:
      country-name: MX
      organization-name: Autoridad de prueba
    entities:
      root:
        common-name: Raiz de prueba con CRL
      tsa:
        common-name: Sellado de tiempo con CRL
    certs:
      root:
        subject: root
        issuer: root
        validity:
          valid-from: "2000-01-01T00:00:00+0000"
          valid-to: "2500-01-01T00:00:00+0000"
        extensions:
          - id: basic_constraints
            critical: true
            value:
              ca: true
          - id: key_usage
            critical: true
            smart-value:
              schema: key-usage
              params: [digital_signature, key_cert_sign, crl_sign]
      tsa:
        subject: tsa
        issuer: root
        validity:
          valid-from: "VALID_FROM"
          valid-to: "VALID_TO"
        extensions:
          - id: key_usage
            critical: true
            smart-value:
              schema: key-usage
              params: [digital_signature]
          - id: extended_key_usage
            critical: true
            value: [time_stamping]
          - id: crl_distribution_points
            smart-value:
              schema: crl-dist-url
              params:
                crl-repo-names: [root]
    services:
      time-stamping:
        tsa:
          signing-key: tsa
          signing-cert: tsa
      crl-repo:
        root:
          for-issuer: root
          signing-key: root
          simulated-update-schedule: "P30D"
"#;

/// A running TSA with a CRL repository; stopped when dropped.
pub struct CrlTsa {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
}

impl CrlTsa {
    /// A TSA whose certificate is valid from a year ago until `valid_to`.
    pub fn start(valid_to: DateTime<Utc>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("keys")).expect("keys dir");
        for key in ["root", "tsa"] {
            let status = Command::new("openssl")
                .args([
                    "genpkey",
                    "-algorithm",
                    "EC",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-256",
                    "-out",
                ])
                .arg(dir.path().join(format!("keys/{key}.key.pem")))
                .stderr(Stdio::null())
                .status()
                .expect("openssl is installed by scripts/test");
            assert!(status.success(), "openssl made no key");
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let format = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%S+0000").to_string();
        let pki = PKI
            .replace("PORT", &port.to_string())
            .replace("VALID_FROM", &format(Utc::now() - chrono::Duration::days(365)))
            .replace("VALID_TO", &format(valid_to));
        std::fs::write(dir.path().join("pki.yml"), pki).expect("write config");
        let mut tsa = Self {
            child: None,
            port,
            dir,
        };
        tsa.resume();
        tsa
    }

    /// Starts serving again after [`stop`](Self::stop), on the same port.
    pub fn resume(&mut self) {
        let child = Command::new("certomancer")
            .arg("--config")
            .arg(self.dir.path().join("pki.yml"))
            .args(["animate", "--no-web-ui", "--port", &self.port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("certomancer (installed by scripts/test) did not start: {e}"));
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut child = child;
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("certomancer exited before listening: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "certomancer did not listen within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        self.child = Some(child);
    }

    /// The TSA's URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/ltv/tsa/tsa", self.port)
    }

    /// The root CA, as a PEM file.
    pub fn root_pem(&self) -> PathBuf {
        let path = self.dir.path().join("root.pem");
        if !path.exists() {
            let status = Command::new("certomancer")
                .arg("--config")
                .arg(self.dir.path().join("pki.yml"))
                .args(["summon", "ltv", "root"])
                .arg(&path)
                .stdout(Stdio::null())
                .status()
                .expect("certomancer runs");
            assert!(status.success(), "certomancer gave no root certificate");
        }
        path
    }

    /// Stops serving the TSA and its CRLs, as when they are gone for good.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for CrlTsa {
    fn drop(&mut self) {
        self.stop();
    }
}
