//! A `sello serve` process on a free port, with its own data folder.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Server {
    child: Child,
    pub base_url: String,
    pub data_dir: tempfile::TempDir,
    /// The administrator's one-time password, printed on the first run.
    pub admin_password: String,
    /// Everything the process wrote to standard error (the log stream).
    log: Arc<Mutex<String>>,
    /// Everything the process wrote to standard output.
    output: Arc<Mutex<String>>,
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("address")
        .port()
}

impl Server {
    pub fn start(extra_env: &[(&str, &str)]) -> Self {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let base_url = format!("http://127.0.0.1:{port}");
        let mut command = Command::new(env!("CARGO_BIN_EXE_sello"));
        command
            .arg("serve")
            .current_dir(data_dir.path())
            .env("SELLO_FORMS_DIR", crate::root().join("forms"))
            .env("SELLO_DATA_DIR", data_dir.path().join("datos"))
            .env("SELLO_LISTEN", format!("127.0.0.1:{port}"))
            .env("SELLO_BASE_URL", &base_url)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in extra_env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("sello serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let stdout = child.stdout.take().expect("stdout");
        let log = Arc::new(Mutex::new(String::new()));
        let output = Arc::new(Mutex::new(String::new()));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                // Kept before it is announced, as the password below.
                sink.lock().expect("log").push_str(&format!("{line}\n"));
                if line.starts_with("Sello escucha") {
                    let _ = ready_tx.send(());
                }
            }
        });
        // The password is shown on standard output, before the server
        // listens; it is read from there, where the README says it is.
        let (password_tx, password_rx) = std::sync::mpsc::channel();
        let sink = output.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // Kept before it is announced: whoever is told finds the
                // line that told.
                sink.lock().expect("output").push_str(&format!("{line}\n"));
                if let Some(p) = line.trim().strip_prefix("Contraseña de un solo uso: ") {
                    let _ = password_tx.send(p.to_owned());
                }
            }
        });
        ready_rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("sello serve did not start:\n{}", log.lock().expect("log")));
        let password = password_rx.recv_timeout(Duration::from_secs(10)).ok();
        Self {
            child,
            base_url,
            data_dir,
            admin_password: password.expect("the first run prints the administrator's password"),
            log,
            output,
        }
    }

    pub fn log(&self) -> String {
        self.log.lock().expect("log").clone()
    }

    /// What the process printed on standard output.
    pub fn output(&self) -> String {
        self.output.lock().expect("output").clone()
    }

    /// Runs a `sello` command on this server's data folder.
    pub fn sello(&self, args: &[&str]) -> String {
        let output = Command::new(env!("CARGO_BIN_EXE_sello"))
            .args(args)
            .current_dir(self.data_dir.path())
            .env("SELLO_FORMS_DIR", crate::root().join("forms"))
            .env("SELLO_DATA_DIR", self.data_dir.path().join("datos"))
            .output()
            .expect("sello runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("utf-8").trim().to_owned()
    }

    /// Stops it as a service manager would (SIGTERM) and returns whether it
    /// exited cleanly, and how long it took.
    pub fn stop(mut self) -> (bool, Duration) {
        let started = Instant::now();
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return (status.success(), started.elapsed());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                return (false, started.elapsed());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
