//! A real RFC 3161 time-stamping authority on loopback: certomancer (which
//! `scripts/test` installs) animating a root CA and a TSA certificate with
//! the timeStamping EKU, from the YAML below and keys OpenSSL makes.

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
            critical: true
            value: [time_stamping]
    services:
      time-stamping:
        tsa:
          signing-key: tsa
          signing-cert: tsa
"#;

/// A running TSA; stopped when dropped.
pub struct Tsa {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Tsa {
    pub fn start() -> Self {
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
        let config = dir.path().join("pki.yml");
        std::fs::write(&config, PKI.replace("PORT", &port.to_string())).expect("write config");
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
        let path = self.dir.path().join("root.pem");
        if !path.exists() {
            let status = Command::new("certomancer")
                .arg("--config")
                .arg(self.dir.path().join("pki.yml"))
                .args(["summon", "sello", "root"])
                .arg(&path)
                .stdout(Stdio::null())
                .status()
                .expect("certomancer runs");
            assert!(status.success(), "certomancer gave no root certificate");
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
