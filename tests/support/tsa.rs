//! A real RFC 3161 time-stamping authority on loopback: certomancer (which
//! `scripts/test` installs) animating a root CA and a TSA certificate with
//! the timeStamping EKU, from the YAML below and keys OpenSSL makes: ECDSA
//! P-256 by default, or RSA (PKCS#1 v1.5 or PSS) or Ed25519, as real TSAs
//! sign. Certomancer binds its certificate with ESSCertID (SHA-1), and
//! publishes the root's CRL, which the TSA certificate names, so AdES
//! validators find revocation information for the TSA too.

// Each test crate and the bench use part of this module.
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PKI: &str = r#"
external-url-prefix: "http://127.0.0.1:PORT"
keysets:
  sello:
    path-prefix: keys
    keys:
      root:
        path: root.key.pem
      tsa:
        path: tsa.key.pem
pki-architectures:
  sello:
    keyset: sello
    entity-defaults:
      country-name: MX
      organization-name: Autoridad de prueba
    entities:
      root:
        common-name: Raiz de prueba
      tsa:
        common-name: Sellado de tiempo de prueba
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
          valid-from: "2000-01-01T00:00:00+0000"
          valid-to: "2500-01-01T00:00:00+0000"
        extensions:
          - id: key_usage
            critical: true
            smart-value:
              schema: key-usage
              params: [digital_signature]
          - id: extended_key_usage
            critical: EKU_CRITICAL
            value: [time_stamping]
          - id: crl_distribution_points
            smart-value:
              schema: crl-dist-url
              params:
                crl-repo-names: [root]
    services:
      crl-repo:
        root:
          for-issuer: root
          signing-key: root
          simulated-update-schedule: "P90D"
      time-stamping:
        tsa:
          signing-key: tsa
          signing-cert: tsa
SERVICE"#;

/// The keys a TSA and its root have, and how the TSA signs its tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsaKind {
    /// ECDSA P-256 with SHA-256.
    P256,
    /// ECDSA P-256, the token's digest and signature with SHA-384.
    P256Sha384,
    /// ECDSA P-384 with SHA-384.
    P384,
    /// RSA 2048, PKCS#1 v1.5 with SHA-256 (most public TSAs).
    RsaSha256,
    /// RSA 2048, PKCS#1 v1.5 with SHA-512.
    RsaSha512,
    /// RSA 2048, RSASSA-PSS with SHA-256.
    RsaPss,
    Ed25519,
    /// ECDSA P-256, but the TSA certificate's timeStamping extended key
    /// usage is not marked critical, as RFC 3161 §2.3 requires.
    P256EkuNotCritical,
}

impl TsaKind {
    fn key_args(self) -> &'static [&'static str] {
        match self {
            Self::P256 | Self::P256Sha384 | Self::P256EkuNotCritical => {
                &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]
            }
            Self::P384 => &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
            Self::RsaSha256 | Self::RsaSha512 | Self::RsaPss => {
                &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
            }
            Self::Ed25519 => &["-algorithm", "ED25519"],
        }
    }

    /// The TSA service's algorithms, in certomancer's YAML.
    fn service(self) -> &'static str {
        match self {
            Self::P256 | Self::RsaSha256 | Self::Ed25519 | Self::P256EkuNotCritical => "",
            Self::P256Sha384 | Self::P384 => "          digest-algo: sha384\n",
            Self::RsaSha512 => "          digest-algo: sha512\n",
            Self::RsaPss => "          signature-algo: rsassa_pss\n",
        }
    }
}

/// A running TSA; stopped when dropped.
pub struct Tsa {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Tsa {
    /// A TSA with ECDSA P-256 keys.
    pub fn start() -> Self {
        Self::start_with(TsaKind::P256)
    }

    pub fn start_with(kind: TsaKind) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("keys")).expect("keys dir");
        for key in ["root", "tsa"] {
            let status = Command::new("openssl")
                .arg("genpkey")
                .args(kind.key_args())
                .arg("-out")
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
        let config = dir.path().join("pki.yml");
        let pki = PKI
            .replace("PORT", &port.to_string())
            .replace("SERVICE", kind.service())
            .replace(
                "EKU_CRITICAL",
                if kind == TsaKind::P256EkuNotCritical {
                    "false"
                } else {
                    "true"
                },
            );
        std::fs::write(&config, pki).expect("write config");
        let child = Command::new("certomancer")
            .arg("--config")
            .arg(&config)
            .args(["animate", "--no-web-ui", "--port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("certomancer (installed by scripts/test: pip install certomancer) did not start: {e}")
            });
        let mut tsa = Self { child, port, dir };
        tsa.wait_until_listening();
        tsa
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("certomancer exited before listening: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "certomancer did not listen within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The TSA's URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/sello/tsa/tsa", self.port)
    }

    /// The root CA that the TSA's certificate chains to, as a PEM file.
    pub fn root_pem(&self) -> PathBuf {
        self.summon("root")
    }

    /// The TSA's own certificate, as a PEM file.
    pub fn tsa_pem(&self) -> PathBuf {
        self.summon("tsa")
    }

    /// The TSA's private key, as a PEM file.
    pub fn tsa_key(&self) -> PathBuf {
        self.dir.path().join("keys/tsa.key.pem")
    }

    fn summon(&self, cert: &str) -> PathBuf {
        let path = self.dir.path().join(format!("{cert}.pem"));
        if !path.exists() {
            let status = Command::new("certomancer")
                .arg("--config")
                .arg(self.dir.path().join("pki.yml"))
                .args(["summon", "sello", cert])
                .arg(&path)
                .stdout(Stdio::null())
                .status()
                .expect("certomancer runs");
            assert!(status.success(), "certomancer gave no {cert} certificate");
        }
        path
    }

    /// Stops the TSA, as an outage would.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Tsa {
    fn drop(&mut self) {
        self.stop();
    }
}
