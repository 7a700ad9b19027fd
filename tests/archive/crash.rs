//! Crash safety: `sello issue` killed with SIGKILL at random moments. After
//! a restart the database is intact, no folio is duplicated or missing,
//! every stored row's PDF matches its hash, every acknowledged document is
//! there, and nothing half-issued is visible or verifiable.

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::Duration;

use sello::archive::{Archive, Status, hex};
use sello::code::VerificationCode;
use sello::config::Config;

fn random_below(limit: u64) -> u64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("random");
    u64::from_le_bytes(bytes) % limit
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuances_killed_at_random_moments_leave_a_consistent_archive() {
    let dir = tempfile::tempdir().expect("temp");
    let forms = crate::root().join("forms");
    let data = forms.join("oficio-comision/example.json");
    let env = [
        ("SELLO_FORMS_DIR", forms.display().to_string()),
        ("SELLO_DATA_DIR", dir.path().join("data").display().to_string()),
    ];
    let run = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sello"));
        command
            .current_dir(dir.path())
            .args([
                "issue",
                "oficio-comision",
                "--data",
                data.to_str().expect("utf-8"),
            ])
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        command
    };
    // The first run creates the key and the database undisturbed; the
    // second, timed, sets the range of the kill delays, so that some runs
    // die at every stage and some finish.
    let first = run().output().expect("runs");
    assert!(first.status.success());
    let started = std::time::Instant::now();
    let second = run().output().expect("runs");
    let span = (started.elapsed().as_millis() as u64 * 3 / 2).max(10);
    assert!(second.status.success());
    let mut acknowledged = [first, second]
        .iter()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .collect::<Vec<_>>();

    let (mut killed, mut completed) = (0, 0);
    for _ in 0..40 {
        let mut child = run().spawn().expect("spawns");
        std::thread::sleep(Duration::from_millis(random_below(span)));
        let _ = child.kill(); // SIGKILL
        let output = child.wait_with_output().expect("waits");
        if output.status.success() {
            completed += 1;
            acknowledged.push(String::from_utf8_lossy(&output.stdout).trim().to_owned());
        } else {
            killed += 1;
        }
    }
    assert!(
        killed > 0 && completed > 0,
        "killed {killed}, completed {completed}: adjust the delays"
    );
    println!("{killed} killed, {completed} completed");

    // Restart: the interrupted issuances are found and recorded.
    let config =
        Config::from_sources(None, env.iter().map(|(k, v)| (k.to_string(), v.clone()))).expect("config");
    let archive = Archive::open(&config).await.expect("opens");
    let interrupted = archive
        .recover_interrupted(Duration::ZERO)
        .await
        .expect("recover");
    let report = archive.fsck(true).await.expect("fsck");
    println!(
        "{} interrupted, {} orphan PDF(s) quarantined",
        interrupted.len(),
        report.orphans_quarantined
    );
    assert_eq!(report.database, "ok");
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert!(report.audit.broken.is_none(), "{:?}", report.audit);
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(
        report.orphans.len(),
        report.orphans_quarantined,
        "orphans are quarantined"
    );

    // Every number from 1 to the last is either issued or annulled, once.
    let results = archive
        .search(&sello::archive::SearchQuery {
            per_page: 100,
            ..Default::default()
        })
        .await
        .expect("list");
    let mut numbers = BTreeSet::new();
    for hit in &results.hits {
        let number: u32 = hit.folio.rsplit('/').next().expect("n").parse().expect("number");
        assert!(numbers.insert(number), "folio {} twice", hit.folio);
        let record = archive.document(&hit.folio).await.expect("document");
        match record.status {
            Status::Emitido => {
                let pdf = archive.pdf(&record).await.expect("its PDF is there");
                assert_eq!(Some(sello::archive::sha256_hex(&pdf)), record.pdf_sha256);
            }
            Status::Anulado => {
                assert!(
                    record.code_hash.is_none(),
                    "an interrupted document is not verifiable"
                );
                assert!(
                    record
                        .annul_reason
                        .as_deref()
                        .is_some_and(|r| r.starts_with("emisión"))
                );
            }
            other => panic!("{} is {other:?}", hit.folio),
        }
    }
    let last = numbers.iter().max().copied().unwrap_or(0);
    assert_eq!(numbers, (1..=last).collect(), "no holes");
    assert_eq!(results.total as usize, numbers.len());
    assert!(interrupted.len() <= killed);

    // Every acknowledged document survived and verifies by its code.
    for code in &acknowledged {
        let code = VerificationCode::parse(code).expect("code");
        let found = archive
            .document_by_code_hash(&hex(&code.hash()))
            .await
            .expect("lookup")
            .unwrap_or_else(|| panic!("acknowledged document {} lost", code.display()));
        assert_eq!(found.status, Status::Emitido);
    }
}
