//! Two `sello serve` processes on one PostgreSQL schema and one S3-protocol
//! server, as an installation that outgrew one machine runs them: both
//! issue chunks of a lote uploaded to the first, and when the first is
//! killed the second finishes it with the folios the first had reserved,
//! every row once and the folios in strict row order; its page and its
//! downloads come from either; a session opened on one is good on the
//! other; and the two together allow no more lookups than one, counting
//! in the database or in Redis.

use std::collections::BTreeSet;
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use sello::accounts::{Accounts, NewUser};
use sello::archive::Store;
use sello::roles::Role;

use crate::http::hidden_value;
use crate::s3::{ACCESS_KEY, BUCKET, SECRET_KEY, TestS3};

const OFFICE: &str = "DIF-SLP";

/// A document's number, status, annulment reason, request hash and the
/// lote's line it was issued for.
type FolioRow = (i64, String, Option<String>, String, Option<i64>);

/// A `sello serve` process; killed (SIGKILL) when dropped.
struct Instance {
    child: Child,
    base: String,
    log: Arc<Mutex<String>>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What every instance and command of the installation is configured with.
struct Installation {
    env: Vec<(String, String)>,
    work: tempfile::TempDir,
}

impl Installation {
    fn new(schema: &str, s3: &TestS3, extra: &[(&str, &str)]) -> Self {
        let work = tempfile::tempdir().expect("temp");
        let database = format!("{}?options=-c%20search_path%3D{schema}", crate::postgres_url());
        let mut env: Vec<(String, String)> = [
            ("SELLO_DATABASE_URL", database.as_str()),
            ("SELLO_BLOB_STORE", &format!("s3://{BUCKET}/instancias")),
            (
                "SELLO_FORMS_DIR",
                &crate::root().join("forms").display().to_string(),
            ),
            // One keys folder for both, as a shared mount would be.
            ("SELLO_DATA_DIR", &work.path().join("datos").display().to_string()),
            ("SELLO_OFFICE_CODE", OFFICE),
            ("AWS_ENDPOINT", &format!("http://{}", s3.address)),
            ("AWS_ALLOW_HTTP", "true"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
            ("AWS_VIRTUAL_HOSTED_STYLE_REQUEST", "false"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        Self { env, work }
    }

    fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sello"));
        command
            .current_dir(self.work.path())
            .envs(self.env.iter().cloned());
        command
    }

    /// Starts `sello serve` on a free port and waits until it listens.
    fn serve(&self) -> Instance {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("port")
            .local_addr()
            .expect("address")
            .port();
        let base = format!("http://127.0.0.1:{port}");
        let mut child = self
            .command()
            .arg("serve")
            .env("SELLO_LISTEN", format!("127.0.0.1:{port}"))
            .env("SELLO_BASE_URL", "http://sello.test")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sello serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let (ready, listening) = std::sync::mpsc::channel();
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().expect("log").push_str(&format!("{line}\n"));
                if line.starts_with("Sello escucha") {
                    let _ = ready.send(());
                }
            }
        });
        listening
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|_| panic!("sello serve did not start:\n{}", log.lock().expect("log")));
        Instance { child, base, log }
    }

    /// Runs a `sello` command; its standard output, once it succeeded.
    fn sello(&self, args: &[&str]) -> String {
        let output = self.command().args(args).output().expect("sello runs");
        assert!(
            output.status.success(),
            "sello {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("UTF-8")
    }
}

/// A browser over TCP, with its cookies, that may talk to any instance.
struct Visitor {
    client: Client<HttpConnector, Body>,
    cookies: std::collections::HashMap<String, String>,
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Visitor {
    fn new() -> Self {
        Self {
            client: Client::builder(TokioExecutor::new()).build_http(),
            cookies: Default::default(),
        }
    }

    async fn send(&mut self, base: &str, request: axum::http::request::Builder, body: Body) -> Reply {
        let cookies: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let request = request.header(header::COOKIE, cookies.join("; "));
        let request = request.body(body).expect("request");
        let (parts, body) = {
            let mut request = request;
            let uri = format!("{base}{}", request.uri());
            *request.uri_mut() = uri.parse().expect("uri");
            self.client.request(request).await.expect("answers").into_parts()
        };
        for value in parts.headers.get_all(header::SET_COOKIE) {
            let cookie = cookie::Cookie::parse(value.to_str().expect("ascii").to_owned()).expect("cookie");
            if cookie.value().is_empty() {
                self.cookies.remove(cookie.name());
            } else {
                self.cookies
                    .insert(cookie.name().to_owned(), cookie.value().to_owned());
            }
        }
        let body = axum::body::to_bytes(Body::new(body), 64 << 20)
            .await
            .expect("body")
            .to_vec();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    async fn get(&mut self, base: &str, path: &str) -> Reply {
        self.send(base, Request::get(path), Body::empty()).await
    }

    async fn login(&mut self, base: &str, username: &str, password: &str) {
        let page = self.get(base, "/entrar").await.text();
        let guard = hidden_value(&page, "guardia").expect("login guard");
        let form = serde_urlencoded::to_string([
            ("usuario", username),
            ("contrasena", password),
            ("guardia", guard.as_str()),
        ])
        .expect("form");
        let reply = self
            .send(
                base,
                Request::post("/entrar").header(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
                Body::from(form),
            )
            .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
    }

    /// Uploads `csv` as a lote of cartas; the lote's page.
    async fn upload(&mut self, base: &str, csv: &[u8]) -> String {
        let csrf = hidden_value(&self.get(base, "/lotes").await.text(), "_csrf").expect("CSRF");
        let boundary = "lote-instancias-7Qx";
        let mut body = Vec::new();
        for (field, value) in [
            ("_csrf", csrf.as_str()),
            ("formulario", "carta-compromiso"),
            ("en_papel", "si"),
        ] {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\n{value}\r\n"
                )
                .as_bytes(),
            );
        }
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"archivo\"; filename=\"familias.csv\"\r\n\
                 Content-Type: text/csv\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(csv);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let reply = self
            .send(
                base,
                Request::post("/lotes").header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={boundary}"),
                ),
                Body::from(body),
            )
            .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
        reply.headers[header::LOCATION]
            .to_str()
            .expect("location")
            .to_owned()
    }
}

/// A firmante of the office with a password of their own.
async fn signer(store: &Store) -> (String, String) {
    let accounts = Accounts::new(store.clone());
    let (user, one_time) = accounts
        .create_user(
            OFFICE,
            &NewUser {
                username: "lotes.instancias".into(),
                display_name: "Directora de pruebas".into(),
                cargo: "Directora del Sistema DIF Municipal".into(),
                role: Role::Firmante,
            },
        )
        .await
        .expect("user");
    let password = "lotes-instancias-contraseña".to_owned();
    accounts
        .change_password(user.id, &one_time, &password)
        .await
        .expect("password");
    ("lotes.instancias".to_owned(), password)
}

async fn count(store: &Store, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(store.pool())
        .await
        .expect("count")
}

async fn wait_for(what: &str, instance: &Instance, limit: Duration, mut done: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !done().await {
        assert!(
            started.elapsed() < limit,
            "{what}: not within {limit:?}; the instance's log:\n{}",
            instance.log.lock().expect("log")
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// How many of the lote's chunks the instance of `pid` holds or held, in
/// that `state`.
async fn chunks_of(store: &Store, pid: u32, state: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs WHERE kind = 'lote-tramo' AND state = $1 AND lease_holder LIKE $2",
    )
    .bind(state)
    .bind(format!("{pid}-%"))
    .fetch_one(store.pool())
    .await
    .expect("count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn both_instances_issue_one_lote_and_the_survivor_finishes_it_with_the_folios_reserved() {
    let (store, schema) = crate::postgres().await;
    let s3 = TestS3::start().await;
    let installation = Installation::new(schema.name(), &s3, &[]);
    let first = installation.serve();
    let second = installation.serve();
    let (first_pid, second_pid) = (first.child.id(), second.child.id());
    let (username, password) = signer(&store).await;

    const ROWS: usize = 3000;
    let bad = [17, 1500, 2999];
    let csv = crate::bulk::csv_bytes(&crate::bulk::rows(ROWS, &bad), false);
    let mut clerk = Visitor::new();
    clerk.login(&first.base, &username, &password).await;
    let lote_page = clerk.upload(&first.base, &csv).await;

    // Both issue chunks of it; midway, the first dies without a word in
    // the middle of a chunk.
    wait_for(
        "both instances issue chunks and a third is done",
        &first,
        Duration::from_secs(900),
        async || {
            chunks_of(&store, first_pid, "done").await >= 1
                && chunks_of(&store, second_pid, "done").await >= 1
                && chunks_of(&store, first_pid, "running").await >= 1
                && count(&store, "SELECT COUNT(*) FROM lote_rows WHERE outcome IS NOT NULL").await
                    >= (ROWS / 3) as i64
        },
    )
    .await;
    drop(first);
    let killed_at = Instant::now();
    let done_by_first = chunks_of(&store, first_pid, "done").await;
    let orphaned: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM jobs WHERE kind = 'lote-tramo' AND state = 'running' AND lease_holder LIKE $1",
    )
    .bind(format!("{first_pid}-%"))
    .fetch_all(store.pool())
    .await
    .expect("jobs");
    assert!(!orphaned.is_empty(), "the first died holding a chunk");
    let rows_done = count(&store, "SELECT COUNT(*) FROM lote_rows WHERE outcome IS NOT NULL").await;

    wait_for(
        "the second takes the dead instance's chunk over",
        &second,
        Duration::from_secs(300),
        async || {
            let mut taken = true;
            for job in &orphaned {
                let holder: String = sqlx::query_scalar("SELECT lease_holder FROM jobs WHERE id = $1")
                    .bind(job)
                    .fetch_one(store.pool())
                    .await
                    .expect("job");
                taken &= holder.starts_with(&format!("{second_pid}-"));
            }
            taken
        },
    )
    .await;
    eprintln!(
        "the dead instance's chunk was claimed {:?} after the kill (the first had done {done_by_first} \
         chunk(s), {rows_done} rows were done)",
        killed_at.elapsed()
    );
    wait_for(
        "the second finishes",
        &second,
        Duration::from_secs(1800),
        async || count(&store, "SELECT COUNT(*) FROM lotes WHERE finished_at IS NOT NULL").await == 1,
    )
    .await;
    eprintln!("the lote was finished {:?} after the kill", killed_at.elapsed());
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM jobs WHERE kind LIKE 'lote%' AND state <> 'done'"
        )
        .await,
        0,
        "every job of the lote is done"
    );
    assert!(
        rows_done < count(&store, "SELECT COUNT(*) FROM lote_rows WHERE outcome IS NOT NULL").await,
        "the second issued rows after the kill"
    );

    // Every valid row exactly once, as the document its key names.
    let valid = (ROWS - bad.len()) as i64;
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM lote_rows WHERE outcome = 'emitido'").await,
        valid
    );
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(DISTINCT r.document_id) FROM lote_rows r JOIN documents d ON d.id = r.document_id \
             WHERE d.status = 'emitido' AND d.idempotency_key = r.row_key"
        )
        .await,
        valid
    );
    // Strict row order: the folios are 1 to the number of valid rows, none
    // missing and none annulled, each row's after the row above it's; the
    // dead instance's chunk was finished with the folios it had reserved.
    let folios: Vec<FolioRow> = sqlx::query_as(
        "SELECT d.number, d.status, d.annul_reason, d.request_sha256, r.line FROM documents d \
         LEFT JOIN lote_rows r ON r.document_id = d.id ORDER BY d.number",
    )
    .fetch_all(store.pool())
    .await
    .expect("folios");
    assert_eq!(
        folios.iter().map(|f| f.0).collect::<Vec<_>>(),
        (1..=valid).collect::<Vec<_>>(),
        "one folio per valid row, none missing"
    );
    let mut last_line = 0;
    for (number, status, reason, _, line) in &folios {
        assert_eq!(status, "emitido", "folio {number}: {reason:?}");
        let line = line.unwrap_or_else(|| panic!("folio {number} belongs to the lote"));
        assert!(
            line > last_line,
            "folio {number} (line {line}) after line {last_line}"
        );
        last_line = line;
    }

    // The page and the problems, from the survivor, with the session the
    // first opened.
    let page = clerk.get(&second.base, &lote_page).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text().contains(&format!("Terminado: {valid} documento(s).")),
        "{}",
        page.text()
    );
    let errores = clerk.get(&second.base, &format!("{lote_page}/errores.csv")).await;
    assert_eq!(errores.status, StatusCode::OK);
    let lines: BTreeSet<String> = errores
        .text()
        .lines()
        .skip(1)
        .filter_map(|l| l.split(';').next().map(str::to_owned))
        .collect();
    assert_eq!(
        lines,
        bad.iter().map(|l| (l + 1).to_string()).collect::<BTreeSet<_>>(),
        "one line per bad row (the header is line 1)"
    );

    // The archive is sound.
    let fsck: serde_json::Value =
        serde_json::from_str(&installation.sello(&["archive", "fsck", "--json"])).expect("JSON");
    assert_eq!(fsck["problems"], serde_json::json!([]), "{fsck}");
    installation.sello(&["archive", "audit-verify"]);
    drop(second);
    schema.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_together_allow_no_more_lookups_than_one() {
    let (_store, schema) = crate::postgres().await;
    let s3 = TestS3::start().await;
    // 20 a minute: a burst of 5, then one every 3 s.
    let installation = Installation::new(schema.name(), &s3, &[("SELLO_LOOKUPS_PER_MINUTE", "20")]);
    let instances = [installation.serve(), installation.serve()];
    lookups_allowed_by_two_instances(&instances).await;
    drop(instances);
    schema.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_counting_in_redis_allow_no_more_lookups_than_one() {
    let (store, schema) = crate::postgres().await;
    let s3 = TestS3::start().await;
    let redis = crate::shared_limits::redis_url();
    let mut random = [0u8; 6];
    getrandom::fill(&mut random).expect("random");
    let prefix = format!(
        "sello-prueba:instancias:{}:",
        random.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let installation = Installation::new(
        schema.name(),
        &s3,
        &[
            ("SELLO_LOOKUPS_PER_MINUTE", "20"),
            ("SELLO_REDIS_URL", &redis),
            ("SELLO_REDIS_PREFIX", &prefix),
        ],
    );
    let instances = [installation.serve(), installation.serve()];
    lookups_allowed_by_two_instances(&instances).await;
    // Counted in Redis, under the installation's prefix, by a hash of the
    // client: nothing in the database, no address in Redis.
    let counters = sello::rate_limits::RedisCounters::new(&redis, &prefix).expect("address");
    let keys = counters.keys().await.expect("keys");
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].starts_with(&format!("{prefix}limite:")) && !keys[0].contains("127.0.0.1"));
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rate_limits")
        .fetch_one(store.pool())
        .await
        .expect("count");
    assert_eq!(rows, 0);
    drop(instances);
    counters.clear().await.expect("cleared");
    schema.drop_now().await;
}

/// 20 lookups of one client, alternating between two instances configured
/// with 20 a minute (a burst of 5, then one every 3 s): no more than one
/// instance allows.
async fn lookups_allowed_by_two_instances(instances: &[Instance; 2]) {
    let mut visitor = Visitor::new();
    let started = Instant::now();
    let mut allowed = 0;
    for n in 0..20 {
        let reply = visitor
            .get(&instances[n % 2].base, "/v/ABCD-EFGH-JKLM-NPQR")
            .await;
        match reply.status {
            StatusCode::TOO_MANY_REQUESTS => {}
            _ => allowed += 1,
        }
    }
    let dripped = started.elapsed().as_secs() / 3;
    assert!(
        (5..=5 + dripped).contains(&allowed),
        "{allowed} lookups allowed by two instances in {:?}; one allows 5 at once",
        started.elapsed()
    );
}
