//! The archive from the command line: issue, annul, search, expediente
//! export, audit-verify and fsck, with their exit codes.

use std::path::Path;
use std::process::{Command, Output};

fn sello(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sello"))
        .current_dir(dir)
        .args(args)
        .env("SELLO_FORMS_DIR", crate::root().join("forms"))
        .env("SELLO_OFFICE_CODE", "DIF-SLP")
        .output()
        .expect("sello runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn a_document_goes_through_the_archive_from_the_command_line() {
    let dir = tempfile::tempdir().expect("temp");
    let data = crate::root().join("forms/carta-compromiso/example.json");
    let data = data.to_str().expect("utf-8");
    let issue = |key: &str| {
        sello(
            dir.path(),
            &[
                "issue",
                "carta-compromiso",
                "--firmaran-en-papel",
                "--data",
                data,
                "--at",
                "2026-11-22",
                "--idempotency-key",
                key,
                "--json",
                "--out",
                "c.pdf",
            ],
        )
    };
    let first = issue("k-1");
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    let report: serde_json::Value = serde_json::from_slice(&first.stdout).expect("JSON");
    assert_eq!(report["folio"], "DIF-SLP/CA/2026/0001");
    assert_eq!(report["nuevo"], true);
    let expediente = crate::public_id(&report["expediente"]).to_string();
    assert!(dir.path().join("c.pdf").is_file());

    let again = issue("k-1");
    let replay: serde_json::Value = serde_json::from_slice(&again.stdout).expect("JSON");
    assert_eq!(
        (replay["folio"].clone(), replay["nuevo"].clone()),
        (report["folio"].clone(), false.into())
    );
    assert_eq!(
        replay["codigo"], report["codigo"],
        "the same code, read back from the archive"
    );

    let second = issue("k-2");
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));

    let search = sello(dir.path(), &["archive", "search", "carolina munoz"]);
    assert_eq!(search.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&search.stdout).lines().count(),
        2,
        "{}",
        text(&search)
    );

    let annul = sello(
        dir.path(),
        &[
            "annul",
            "DIF-SLP/CA/2026/0001",
            "--reason",
            "Duplicada",
            "--replaced-by",
            "DIF-SLP/CA/2026/0002",
        ],
    );
    assert_eq!(annul.status.code(), Some(0), "{}", text(&annul));
    let again = sello(dir.path(), &["annul", "DIF-SLP/CA/2026/0001", "--reason", "x"]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(text(&again).contains("ya está reemplazado"), "{}", text(&again));
    let bad_status = sello(dir.path(), &["archive", "search", "", "--status", "borrado"]);
    assert_eq!(bad_status.status.code(), Some(2));
    assert!(text(&bad_status).contains("--status"));

    let replaced = sello(dir.path(), &["archive", "search", "", "--status", "reemplazado"]);
    assert!(String::from_utf8_lossy(&replaced.stdout).contains("DIF-SLP/CA/2026/0001"));

    let export = sello(
        dir.path(),
        &["expediente", "export", &expediente, "--out", "e.zip"],
    );
    assert_eq!(export.status.code(), Some(0), "{}", text(&export));
    assert!(dir.path().join("e.zip").is_file());
    let unknown = sello::public_id::PublicId::generate()
        .expect("random")
        .to_string();
    for missing in ["999", unknown.as_str()] {
        let missing = sello(dir.path(), &["expediente", "export", missing, "--out", "x.zip"]);
        assert_eq!(missing.status.code(), Some(2));
        assert!(!dir.path().join("x.zip").exists());
    }

    let audit = sello(dir.path(), &["archive", "audit-verify"]);
    assert_eq!(audit.status.code(), Some(0), "{}", text(&audit));
    assert!(text(&audit).contains("4 evento(s)"), "{}", text(&audit));
    let fsck = sello(dir.path(), &["archive", "fsck"]);
    assert_eq!(fsck.status.code(), Some(0), "{}", text(&fsck));

    // A PDF removed behind Sello's back makes fsck fail.
    let sha = report["pdf_sha256"].as_str().expect("sha");
    let blob = dir
        .path()
        .join("data/documentos")
        .join(&sha[0..2])
        .join(&sha[2..4])
        .join(format!("{sha}.pdf"));
    std::fs::remove_file(blob).expect("remove");
    let fsck = sello(dir.path(), &["archive", "fsck"]);
    assert_eq!(fsck.status.code(), Some(1), "{}", text(&fsck));
    assert!(text(&fsck).contains("DIF-SLP/CA/2026/0001"), "{}", text(&fsck));
    assert!(!text(&fsck).contains("íntegro"), "{}", text(&fsck));

    // A repair moves a stray file to quarantine and says so; the damage
    // is still reported, and the exit code still says so.
    let stray = sello::archive::sha256_hex(b"suelto");
    let folder = dir
        .path()
        .join("data/documentos")
        .join(&stray[0..2])
        .join(&stray[2..4]);
    std::fs::create_dir_all(&folder).expect("folder");
    std::fs::write(folder.join(format!("{stray}.pdf")), b"suelto").expect("stray");
    let repair = sello(dir.path(), &["archive", "fsck", "--repair"]);
    assert_eq!(repair.status.code(), Some(1), "{}", text(&repair));
    assert!(
        text(&repair).contains("cuarentena") && text(&repair).contains("no se borró nada"),
        "{}",
        text(&repair)
    );
    assert!(!text(&repair).contains("íntegro"), "{}", text(&repair));
    assert!(!folder.join(format!("{stray}.pdf")).exists());
    assert!(
        dir.path()
            .join("data/documentos/cuarentena")
            .join(&stray[0..2])
            .join(&stray[2..4])
            .join(format!("{stray}.pdf"))
            .is_file()
    );

    // An annulment's category is one of the list.
    let wrong = sello(
        dir.path(),
        &[
            "annul",
            "DIF-SLP/CA/2026/0002",
            "--reason",
            "x",
            "--category",
            "porque si",
        ],
    );
    assert_eq!(wrong.status.code(), Some(2), "{}", text(&wrong));
    assert!(text(&wrong).contains("error_en_los_datos"), "{}", text(&wrong));
    let annulled = sello(
        dir.path(),
        &[
            "annul",
            "DIF-SLP/CA/2026/0002",
            "--reason",
            "Firmada por error",
            "--category",
            "emitido_por_error",
        ],
    );
    assert_eq!(annulled.status.code(), Some(0), "{}", text(&annulled));
}

/// Every `.pdf` under `dir`, recursively.
fn pdfs_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(pdfs_under(&path));
        } else if path.extension().is_some_and(|e| e == "pdf") {
            found.push(path);
        }
    }
    found
}

#[test]
fn the_transparency_log_is_checked_and_signed_from_the_command_line() {
    let dir = tempfile::tempdir().expect("temp");
    let data = crate::root().join("forms/carta-compromiso/example.json");
    let issue_carta = || {
        sello(
            dir.path(),
            &[
                "issue",
                "carta-compromiso",
                "--firmaran-en-papel",
                "--data",
                data.to_str().expect("utf-8"),
                "--at",
                "2026-11-22",
            ],
        )
    };
    let issue = issue_carta();
    assert_eq!(issue.status.code(), Some(0), "{}", text(&issue));

    let key = sello(dir.path(), &["log", "key"]);
    assert_eq!(key.status.code(), Some(0), "{}", text(&key));
    let key = String::from_utf8_lossy(&key.stdout).trim().to_owned();
    let verifier = sello::tlog::note::Verifier::parse(&key).expect("a verifier key");
    let checkpoint = sello(dir.path(), &["log", "checkpoint"]);
    let opened = sello::tlog::note::open_checkpoint(&String::from_utf8_lossy(&checkpoint.stdout), &verifier)
        .expect("signed by the published key");
    assert_eq!(opened.size, 1);

    // A second document: the log still holds the checkpoint published before it.
    std::fs::write(dir.path().join("punto.txt"), &checkpoint.stdout).expect("write");
    let again = issue_carta();
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    let held = sello(dir.path(), &["log", "verify", "--checkpoint", "punto.txt"]);
    assert_eq!(held.status.code(), Some(0), "{}", text(&held));
    assert!(
        text(&held).contains("punto de control publicado de tamaño 1"),
        "{}",
        text(&held)
    );
    let forged = String::from_utf8_lossy(&checkpoint.stdout).replacen("\n1\n", "\n2\n", 1);
    std::fs::write(dir.path().join("falso.txt"), forged).expect("write");
    let refused = sello(dir.path(), &["log", "verify", "--checkpoint", "falso.txt"]);
    assert_eq!(
        refused.status.code(),
        Some(2),
        "a checkpoint the key did not sign: {}",
        text(&refused)
    );

    let verified = sello(dir.path(), &["log", "verify"]);
    assert_eq!(verified.status.code(), Some(0), "{}", text(&verified));
    assert!(text(&verified).contains("2 entradas"), "{}", text(&verified));

    let pdfs = pdfs_under(&dir.path().join("data"));
    assert_eq!(pdfs.len(), 2, "{pdfs:?}");
    std::fs::write(&pdfs[0], b"%PDF-1.7 otro").expect("damage");
    let broken = sello(dir.path(), &["log", "verify"]);
    assert_eq!(broken.status.code(), Some(1), "{}", text(&broken));
    // It names the entry (0 or 1: whichever PDF the folder listed first).
    let said = text(&broken);
    assert!(
        (said.contains("entrada 0:") || said.contains("entrada 1:")) && said.contains("PDF archivado"),
        "{said}"
    );
}

/// `sello registro`: the padrón of a programme and the weekly report of
/// oficios from the archive, issued again only when the archive changed,
/// the new version replacing the old one.
#[test]
fn registers_are_built_from_the_archive_from_the_command_line() {
    let dir = tempfile::tempdir().expect("temp");
    let example = crate::root().join("forms/oficio-ayuda-funcional/example.json");
    let mut second: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&example).expect("example")).expect("JSON");
    second["beneficiario"] =
        serde_json::json!({"nombre": "Pedro Sánchez Torres", "identificacion": "SATP740630HSPNRD01"});
    let second_path = dir.path().join("segundo.json");
    std::fs::write(&second_path, second.to_string()).expect("write");
    let mut folios = Vec::new();
    for data in [example.as_path(), second_path.as_path()] {
        let issued = sello(
            dir.path(),
            &[
                "issue",
                "oficio-ayuda-funcional",
                "--data",
                data.to_str().expect("utf-8"),
                "--at",
                "2026-11-20",
                "--json",
            ],
        );
        assert_eq!(issued.status.code(), Some(0), "{}", text(&issued));
        let report: serde_json::Value = serde_json::from_slice(&issued.stdout).expect("JSON");
        folios.push(report["folio"].as_str().expect("folio").to_owned());
    }
    let padron = || {
        let run = sello(
            dir.path(),
            &[
                "registro",
                "padron",
                "--programa",
                "Ayudas funcionales 2026",
                "--formulario",
                "oficio-ayuda-funcional",
                "--desde",
                "2026-11-01",
                "--hasta",
                "2026-11-30",
                "--nombre",
                "Lucía Hernández Salazar",
                "--cargo",
                "Auxiliar de Área",
                "--json",
                "--out",
                "padron.pdf",
            ],
        );
        assert_eq!(run.status.code(), Some(0), "{}", text(&run));
        serde_json::from_slice::<serde_json::Value>(&run.stdout).expect("JSON")
    };
    let first = padron();
    assert_eq!(
        (first["version"].clone(), first["nueva"].clone()),
        (1.into(), true.into())
    );
    assert_eq!(first["beneficiarios"], 2);
    assert!(dir.path().join("padron.pdf").is_file());
    let unchanged = padron();
    assert_eq!(unchanged["nueva"], false);
    assert_eq!(unchanged["folios"], first["folios"]);

    let annul = sello(
        dir.path(),
        &["annul", &folios[1], "--reason", "datos equivocados"],
    );
    assert_eq!(annul.status.code(), Some(0), "{}", text(&annul));
    let rebuilt = padron();
    assert_eq!(
        (rebuilt["version"].clone(), rebuilt["beneficiarios"].clone()),
        (2.into(), 1.into())
    );
    assert_eq!(rebuilt["reemplaza"], first["folios"]);

    let weekly = sello(
        dir.path(),
        &[
            "registro",
            "semanal",
            "--semana",
            "2026-11-18",
            "--nombre",
            "Lucía Hernández Salazar",
            "--cargo",
            "Auxiliar de Área",
            "--json",
        ],
    );
    assert_eq!(weekly.status.code(), Some(0), "{}", text(&weekly));
    let weekly: serde_json::Value = serde_json::from_slice(&weekly.stdout).expect("JSON");
    assert_eq!(weekly["oficios"], serde_json::json!(folios));

    let bad = sello(
        dir.path(),
        &[
            "registro",
            "padron",
            "--programa",
            "X",
            "--formulario",
            "carta-compromiso",
            "--desde",
            "2026-11-01",
            "--hasta",
            "2026-11-30",
            "--nombre",
            "A",
            "--cargo",
            "B",
        ],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad).contains("no otorga un servicio"), "{}", text(&bad));
}

#[test]
fn offices_are_placed_in_a_hierarchy_from_the_command_line_and_a_cycle_is_refused() {
    let dir = tempfile::tempdir().expect("temp");
    for (code, name) in [
        ("PRV-COCLE", "Coordinación provincial de Coclé"),
        ("DIST-PENONOME", "Distrito de Penonomé"),
    ] {
        let admin = format!("admin.{}", code.to_lowercase());
        let created = sello(
            dir.path(),
            &["offices", "create", code, "--name", name, "--admin", &admin],
        );
        assert_eq!(created.status.code(), Some(0), "{}", text(&created));
    }
    let placed = sello(dir.path(), &["offices", "parent", "DIST-PENONOME", "PRV-COCLE"]);
    assert_eq!(placed.status.code(), Some(0), "{}", text(&placed));
    let list = sello(dir.path(), &["offices", "list"]);
    let listed = String::from_utf8_lossy(&list.stdout).into_owned();
    assert!(
        listed.contains("PRV-COCLE\t") && listed.contains("  DIST-PENONOME\t"),
        "{listed}"
    );

    let cycle = sello(dir.path(), &["offices", "parent", "PRV-COCLE", "DIST-PENONOME"]);
    assert_eq!(cycle.status.code(), Some(2), "{}", text(&cycle));
    assert!(
        text(&cycle).contains("«PRV-COCLE» no puede depender de «DIST-PENONOME»"),
        "{}",
        text(&cycle)
    );
    let unchanged = String::from_utf8_lossy(&sello(dir.path(), &["offices", "list"]).stdout).into_owned();
    assert_eq!(unchanged, listed);

    // A firmante's role is not granted below: only a visado's.
    let user = sello(
        dir.path(),
        &[
            "users",
            "create",
            "--username",
            "supervisora",
            "--name",
            "Maritza Rodríguez",
            "--role",
            "revisor",
            "--office",
            "PRV-COCLE",
        ],
    );
    assert_eq!(user.status.code(), Some(0), "{}", text(&user));
    let refused = sello(
        dir.path(),
        &[
            "offices",
            "grant",
            "DIST-PENONOME",
            "--username",
            "supervisora",
            "--role",
            "firmante",
        ],
    );
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    let granted = sello(
        dir.path(),
        &["offices", "grant", "DIST-PENONOME", "--username", "supervisora"],
    );
    assert_eq!(granted.status.code(), Some(0), "{}", text(&granted));
    let audit = sello(dir.path(), &["archive", "audit-verify"]);
    assert_eq!(audit.status.code(), Some(0), "{}", text(&audit));
}
