//! Registers and reports built from the archive (issue 25): a programme's
//! padrón from the documents in force that grant it, issued again as a new
//! version that replaces the one before when the archive changes; the
//! weekly report of oficios; the counts of the informe final.

use std::collections::HashSet;

use sello::archive::{LogEvent, Status};
use sello::registros::{self, Issuing};
use serde_json::{Value, json};

use crate::{CATALOG, Fixture, archive_conformance, at};

/// A well-formed CURP, different for each `n`, with its check digit.
fn curp(n: u32) -> String {
    const ALPHABET: &str = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ";
    let body = format!(
        "GOML{:02}{:02}{:02}MSPRPR0",
        50 + n / 300,
        1 + (n / 28) % 12,
        1 + n % 28
    );
    let sum: u32 = body
        .chars()
        .zip((2..=18).rev())
        .map(|(c, weight)| ALPHABET.chars().position(|a| a == c).unwrap_or(0) as u32 * weight)
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

/// An authorisation of support for beneficiary `n`.
fn autorizacion(n: u32) -> Value {
    let mut data = crate::example("oficio-autorizacion-apoyo");
    data["beneficiario"] = json!({"nombre": format!("Beneficiaria Número {n}"), "identificacion": curp(n)});
    data["domicilio"] = json!(format!("Calle Hidalgo {n}, Centro"));
    data
}

fn issuing<'a>(fixture: &'a Fixture, issuer: &'a sello::issuer::Issuer, day: u32) -> Issuing<'a> {
    Issuing {
        issuer,
        archive: &fixture.archive,
        name: "Mtra. Guadalupe Torres Medina",
        cargo: "Directora del Sistema DIF Municipal",
        actor: "guadalupe",
        signs: true,
        at: at(day),
    }
}

fn issuer(fixture: &Fixture) -> sello::issuer::Issuer {
    sello::issuer::Issuer::new(&crate::config(), fixture.key.clone()).expect("issuer")
}

fn data_of(record: &sello::archive::DocumentRecord) -> Value {
    serde_json::from_str(&record.data).expect("JSON")
}

/// Every folio a padrón's rows cite.
fn cited(padron: &Value) -> Vec<String> {
    padron["beneficiarios"]
        .as_array()
        .expect("rows")
        .iter()
        .flat_map(|row| {
            row["folios"]
                .as_str()
                .expect("folios")
                .split(", ")
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

fn padron_request(programa: &str) -> registros::padron::PadronRequest<'_> {
    registros::padron::PadronRequest {
        programa,
        localidad: Some("Soledad de Graciano Sánchez, S.L.P."),
        forms: vec![CATALOG.get("oficio-autorizacion-apoyo").expect("form")],
        from: chrono::NaiveDate::from_ymd_opt(2026, 11, 1).expect("date"),
        to: chrono::NaiveDate::from_ymd_opt(2026, 11, 30).expect("date"),
    }
}

/// 30 authorisations, 3 annulled: the padrón lists the 27 others, one row
/// each citing its folio; asked again, it is the same; one more issued,
/// it is a new version that replaces the old, which stays, replaced, with
/// its entry in the transparency log.
async fn the_padron_lists_the_documents_in_force_and_a_new_one_replaces_it(fixture: &Fixture) {
    let issuer = issuer(fixture);
    let mut folios = Vec::new();
    for n in 1..=30 {
        let record = fixture
            .issue_on("oficio-autorizacion-apoyo", &autorizacion(n), 20, None)
            .await
            .expect("issued")
            .record()
            .clone();
        folios.push(record.folio);
    }
    let annulled: Vec<String> = [3, 14, 27].iter().map(|&i| folios[i].clone()).collect();
    for folio in &annulled {
        fixture
            .archive
            .annul(folio, "datos equivocados", "ana.lopez", None)
            .await
            .expect("annulled");
    }
    // A document of the same beneficiary as another one is the same row.
    let mut again = autorizacion(5);
    again["apoyo"] = json!("Despensa mensual");
    let repeated = fixture
        .issue_on("oficio-autorizacion-apoyo", &again, 21, None)
        .await
        .expect("issued")
        .record()
        .clone();

    let request = padron_request("Apoyos asistenciales 2026");
    let (first, rows) = registros::padron::issue(&issuing(fixture, &issuer, 24), &CATALOG, &request)
        .await
        .expect("padrón issued");
    assert_eq!(rows, 27);
    assert!(first.new && first.replaced.is_empty());
    assert_eq!((first.number, first.tomos.len()), (1, 1));
    let padron = data_of(&first.tomos[0]);
    assert_eq!(padron["beneficiarios"].as_array().expect("rows").len(), 27);
    assert_eq!(padron["total"], 27);
    let in_force: HashSet<String> = folios
        .iter()
        .filter(|f| !annulled.contains(f))
        .cloned()
        .chain([repeated.folio.clone()])
        .collect();
    let listed = cited(&padron);
    assert_eq!(listed.len(), 28, "each document cited once: {listed:?}");
    assert_eq!(listed.iter().cloned().collect::<HashSet<_>>(), in_force);
    let row_five = padron["beneficiarios"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["identificacion"] == json!(curp(5)))
        .expect("beneficiary 5");
    assert_eq!(
        row_five["folios"],
        json!(format!("{}, {}", folios[4], repeated.folio))
    );
    assert!(
        row_five["servicio"]
            .as_str()
            .expect("text")
            .contains("Despensa mensual"),
        "{row_five}"
    );
    // Signed by the account that issued it, and its PDF cites the folios.
    assert_eq!(padron["responsable_nombre"], "Mtra. Guadalupe Torres Medina");
    let pdf = fixture.archive.pdf(&first.tomos[0]).await.expect("pdf");
    let file = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(file.path(), &pdf).expect("write");
    let text = crate::pdf_text(file.path());
    for folio in &in_force {
        assert!(text.contains(folio.as_str()), "{folio} not in the PDF");
    }
    for folio in &annulled {
        assert!(!text.contains(folio.as_str()), "annulled {folio} is in the PDF");
    }
    assert!(text.contains("Firmado electrónicamente"), "{text}");

    // Nothing changed: the same padrón, not another.
    let (same, _) = registros::padron::issue(&issuing(fixture, &issuer, 25), &CATALOG, &request)
        .await
        .expect("asked again");
    assert!(!same.new);
    assert_eq!(same.tomos[0].folio, first.tomos[0].folio);

    // One more issued: a new version that replaces the old one.
    let newest = fixture
        .issue_on("oficio-autorizacion-apoyo", &autorizacion(31), 25, None)
        .await
        .expect("issued")
        .record()
        .clone();
    let (second, rows) = registros::padron::issue(&issuing(fixture, &issuer, 26), &CATALOG, &request)
        .await
        .expect("rebuilt");
    assert!(second.new);
    assert_eq!((second.number, rows), (2, 28));
    assert_eq!(second.replaced, vec![first.tomos[0].folio.clone()]);
    let padron = data_of(&second.tomos[0]);
    assert_eq!(padron["version"], 2);
    assert_eq!(padron["reemplaza"], json!(first.tomos[0].folio));
    assert!(cited(&padron).contains(&newest.folio));
    let old = fixture
        .archive
        .document(&first.tomos[0].folio)
        .await
        .expect("kept");
    assert_eq!(old.status, Status::Reemplazado);
    assert_eq!(
        old.replaced_by_folio.as_deref(),
        Some(second.tomos[0].folio.as_str())
    );
    let entries = fixture.archive.log_entries().await.expect("log");
    assert!(
        entries
            .iter()
            .any(|e| e.document_id == old.row_id && e.event == LogEvent::Reemplazo),
        "the replacement is in the transparency log"
    );
    assert_eq!(
        fixture.archive.verify_log().await.expect("read"),
        Ok(entries.len() as u64)
    );
}
archive_conformance!(the_padron_lists_the_documents_in_force_and_a_new_one_replaces_it);

/// A beneficiary served 45 times: the row cites all 45 documents, in the
/// stored data and on paper, though they take more than a page's height
/// (the cell was once cut at 600 characters, ending in «…», while the
/// padrón said each row cites each document).
async fn a_row_cites_every_document_however_many(fixture: &Fixture) {
    let issuer = issuer(fixture);
    let mut folios = Vec::new();
    for _ in 0..45 {
        let mut data = autorizacion(7);
        data["apoyo"] = json!("Traslado a quimioterapia");
        let record = fixture
            .issue_on("oficio-autorizacion-apoyo", &data, 20, None)
            .await
            .expect("issued")
            .record()
            .clone();
        folios.push(record.folio);
    }
    let request = padron_request("Traslados 2026");
    let (version, rows) = registros::padron::issue(&issuing(fixture, &issuer, 24), &CATALOG, &request)
        .await
        .expect("padrón issued");
    assert_eq!(rows, 1);
    let padron = data_of(&version.tomos[0]);
    assert_eq!(cited(&padron), folios);
    let pdf = fixture.archive.pdf(&version.tomos[0]).await.expect("pdf");
    let file = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(file.path(), &pdf).expect("write");
    let text = crate::pdf_text(file.path());
    for folio in &folios {
        assert!(text.contains(folio.as_str()), "{folio} not in the PDF");
    }
    assert!(!text.contains('…'), "nothing cut short: {text}");
}
archive_conformance!(a_row_cites_every_document_however_many);

/// 25 beneficiaries in tomos of 10: three tomos, numbered on from one
/// another, each printing the folios its rows cite, no row lost or listed
/// twice. The same archive cut in tomos of 20 (the size of a tomo changed
/// with an upgrade) is a new version of two tomos that replaces all three.
async fn a_padron_in_several_tomos_lists_each_row_once_and_a_new_size_replaces_the_whole_set(
    fixture: &Fixture,
) {
    let issuer = issuer(fixture);
    let mut folios = HashSet::new();
    for n in 1..=25 {
        let record = fixture
            .issue_on("oficio-autorizacion-apoyo", &autorizacion(n), 20, None)
            .await
            .expect("issued")
            .record()
            .clone();
        folios.insert(record.folio);
    }
    let request = padron_request("Apoyos asistenciales en tomos");
    let (first, rows) =
        registros::padron::issue_in_tomos_of(&issuing(fixture, &issuer, 24), &CATALOG, &request, 10)
            .await
            .expect("padrón issued");
    assert_eq!((rows, first.number, first.tomos.len()), (25, 1, 3));
    // Two tomos render at once, yet each took its folio in turn.
    let ids: Vec<i64> = first.tomos.iter().map(|t| t.row_id).collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "tomos out of folio order: {ids:?}"
    );
    let mut listed = Vec::new();
    for (index, tomo) in first.tomos.iter().enumerate() {
        let data = data_of(tomo);
        let rows = data["beneficiarios"].as_array().expect("rows").len();
        assert_eq!(rows, [10, 10, 5][index], "tomo {}", index + 1);
        assert_eq!(data["tomo"], json!(format!("{} de 3", index + 1)));
        assert_eq!(data["primer_numero"], json!(index * 10 + 1));
        assert_eq!(data["total"], 25);
        let pdf = fixture.archive.pdf(tomo).await.expect("pdf");
        let file = tempfile::NamedTempFile::new().expect("temp");
        std::fs::write(file.path(), &pdf).expect("write");
        let text = crate::pdf_text(file.path());
        assert!(text.contains(&format!("{} de 3", index + 1)), "{text}");
        for folio in cited(&data) {
            assert!(text.contains(&folio), "{folio} not printed in tomo {}", index + 1);
            listed.push(folio);
        }
    }
    assert_eq!(listed.len(), 25, "each document cited once: {listed:?}");
    assert_eq!(listed.into_iter().collect::<HashSet<_>>(), folios);

    let (second, rows) =
        registros::padron::issue_in_tomos_of(&issuing(fixture, &issuer, 25), &CATALOG, &request, 20)
            .await
            .expect("rebuilt in larger tomos");
    assert!(second.new);
    assert_eq!((rows, second.number, second.tomos.len()), (25, 2, 2));
    let mut replaced = second.replaced.clone();
    replaced.sort();
    let mut old: Vec<String> = first.tomos.iter().map(|t| t.folio.clone()).collect();
    old.sort();
    assert_eq!(replaced, old);
    for tomo in &first.tomos {
        let status = fixture.archive.document(&tomo.folio).await.expect("kept").status;
        assert_eq!(status, Status::Reemplazado, "{}", tomo.folio);
    }
    let listed: Vec<String> = second
        .tomos
        .iter()
        .flat_map(|tomo| {
            assert!(tomo.status.is_current());
            cited(&data_of(tomo))
        })
        .collect();
    assert_eq!(listed.len(), 25);
    assert_eq!(listed.into_iter().collect::<HashSet<_>>(), folios);

    // Asked again in tomos of 20: the same version, not another.
    let (same, _) =
        registros::padron::issue_in_tomos_of(&issuing(fixture, &issuer, 26), &CATALOG, &request, 20)
            .await
            .expect("asked again");
    assert!(!same.new);
    assert_eq!(same.number, 2);
}
archive_conformance!(a_padron_in_several_tomos_lists_each_row_once_and_a_new_size_replaces_the_whole_set);

/// A padrón whose content goes back to that of a version replaced before
/// (the document that made the difference was annulled) is a new version
/// that replaces the one in force, never refused: the one in force lists
/// no annulled document. The same going back to an earlier tomo size.
async fn a_padron_that_goes_back_to_an_earlier_content_is_a_new_version(fixture: &Fixture) {
    let issuer = issuer(fixture);
    for n in 1..=3 {
        fixture
            .issue_on("oficio-autorizacion-apoyo", &autorizacion(n), 20, None)
            .await
            .expect("issued");
    }
    let request = padron_request("Apoyos que vuelven atrás");
    let issue = async |day: u32, tomo_rows: usize| {
        registros::padron::issue_in_tomos_of(&issuing(fixture, &issuer, day), &CATALOG, &request, tomo_rows)
            .await
            .expect("padrón issued")
            .0
    };
    let first = issue(24, 10).await;
    let extra = fixture
        .issue_on("oficio-autorizacion-apoyo", &autorizacion(4), 24, None)
        .await
        .expect("issued")
        .record()
        .folio
        .clone();
    let second = issue(25, 10).await;
    assert_eq!(second.number, 2);
    assert!(cited(&data_of(&second.tomos[0])).contains(&extra));
    fixture
        .archive
        .annul(&extra, "emitido por error", "ana.lopez", None)
        .await
        .expect("annulled");
    let third = issue(26, 10).await;
    assert!(third.new);
    assert_eq!(third.number, 3);
    assert_eq!(third.replaced, vec![second.tomos[0].folio.clone()]);
    let padron = data_of(&third.tomos[0]);
    assert_eq!(padron["version"], 3);
    assert_eq!(padron["reemplaza"], json!(second.tomos[0].folio));
    assert!(!cited(&padron).contains(&extra), "annulled {extra} in force");
    assert_eq!(cited(&padron), cited(&data_of(&first.tomos[0])));
    for old in [&first.tomos[0], &second.tomos[0]] {
        let status = fixture.archive.document(&old.folio).await.expect("kept").status;
        assert_eq!(status, Status::Reemplazado, "{}", old.folio);
    }
    // Asked again: the version in force, not another.
    let same = issue(27, 10).await;
    assert!(!same.new);
    assert_eq!(same.tomos[0].folio, third.tomos[0].folio);

    // Tomos of 2, then of 10 again: each a new version.
    let small = issue(27, 2).await;
    assert_eq!((small.number, small.tomos.len()), (4, 2));
    let back = issue(28, 10).await;
    assert!(back.new);
    assert_eq!((back.number, back.tomos.len()), (5, 1));
    let mut replaced = back.replaced.clone();
    replaced.sort();
    let mut small_folios: Vec<String> = small.tomos.iter().map(|t| t.folio.clone()).collect();
    small_folios.sort();
    assert_eq!(replaced, small_folios);
    assert!(back.tomos[0].status.is_current());
}
archive_conformance!(a_padron_that_goes_back_to_an_earlier_content_is_a_new_version);

/// A padrón of many tomos rebuilt after a change: what it replaces is
/// printed as the range of the version before (whole in the archive's
/// record of the replacement), within its field; and a tomo the form
/// refuses is refused before any folio is taken.
async fn a_padron_of_many_tomos_is_replaced_and_a_refused_one_takes_no_folio(fixture: &Fixture) {
    let issuer = issuer(fixture);
    for n in 1..=28 {
        fixture
            .issue_on("oficio-autorizacion-apoyo", &autorizacion(n), 20, None)
            .await
            .expect("issued");
    }
    let request = padron_request("Apoyos en muchos tomos");
    let (first, _) =
        registros::padron::issue_in_tomos_of(&issuing(fixture, &issuer, 24), &CATALOG, &request, 1)
            .await
            .expect("padrón issued");
    assert_eq!(first.tomos.len(), 28);
    fixture
        .issue_on("oficio-autorizacion-apoyo", &autorizacion(29), 24, None)
        .await
        .expect("issued");
    let (second, rows) =
        registros::padron::issue_in_tomos_of(&issuing(fixture, &issuer, 25), &CATALOG, &request, 1)
            .await
            .expect("rebuilt");
    assert_eq!((second.number, second.tomos.len(), rows), (2, 29, 29));
    let (one, last) = (&first.tomos[0].folio, &first.tomos[27].folio);
    let printed = format!("{one} a {last} (28 tomos de la versión 1)");
    for tomo in &second.tomos {
        assert_eq!(data_of(tomo)["reemplaza"], json!(printed));
    }
    assert_eq!(second.replaced.len(), 28);
    for old in &first.tomos {
        let kept = fixture.archive.document(&old.folio).await.expect("kept");
        assert_eq!(kept.status, Status::Reemplazado, "{}", old.folio);
        assert!(kept.replaced_by_folio.is_some());
    }
    let pdf = fixture.archive.pdf(&second.tomos[0]).await.expect("pdf");
    let file = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(file.path(), &pdf).expect("write");
    let text = crate::pdf_text(file.path())
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(text.contains("28 tomos de la versión 1"), "{text}");

    // A locality longer than its field: refused, and no folio taken (a
    // folio taken and annulled would be the one after the last tomo's).
    let last = &second.tomos[28].folio;
    let (series, number) = last.rsplit_once('/').expect("numbered");
    let width = number.len();
    let next = format!("{series}/{:0width$}", number.parse::<u32>().expect("number") + 1);
    let long = "Localidad ".repeat(30);
    let refused = registros::padron::PadronRequest {
        localidad: Some(&long),
        ..padron_request("Apoyos en muchos tomos")
    };
    let answer =
        registros::padron::issue_in_tomos_of(&issuing(fixture, &issuer, 26), &CATALOG, &refused, 1).await;
    let error = answer.expect_err("refused").to_string();
    assert!(error.contains("localidad"), "{error}");
    assert!(
        fixture.archive.document(&next).await.is_err(),
        "a refused padrón took the folio {next}"
    );
}
archive_conformance!(a_padron_of_many_tomos_is_replaced_and_a_refused_one_takes_no_folio);

/// A row's domicilio is the beneficiary's: an authorisation records the
/// solicitante's address, which is not that of a beneficiary who is
/// someone else («no consta»).
async fn a_padron_prints_only_the_beneficiarys_own_address(fixture: &Fixture) {
    let issuer = issuer(fixture);
    // For someone else: the address is the solicitante's.
    fixture
        .issue_on("oficio-autorizacion-apoyo", &autorizacion(1), 20, None)
        .await
        .expect("issued");
    // For the solicitante: the address is theirs.
    let mut own = autorizacion(2);
    own.as_object_mut().expect("object").remove("beneficiario");
    own["solicitante"] = json!({"nombre": "Solicitante Dos", "identificacion": curp(2)});
    fixture
        .issue_on("oficio-autorizacion-apoyo", &own, 20, None)
        .await
        .expect("issued");
    let request = padron_request("Apoyos y domicilios");
    let (version, _) = registros::padron::issue(&issuing(fixture, &issuer, 24), &CATALOG, &request)
        .await
        .expect("padrón issued");
    let padron = data_of(&version.tomos[0]);
    let rows = padron["beneficiarios"].as_array().expect("rows");
    let row = |id: String| {
        rows.iter()
            .find(|r| r["identificacion"] == json!(id))
            .expect("row")
    };
    assert_eq!(row(curp(1)).get("domicilio"), None, "{padron}");
    assert_eq!(row(curp(2))["domicilio"], "Calle Hidalgo 2, Centro");
    let pdf = fixture.archive.pdf(&version.tomos[0]).await.expect("pdf");
    let file = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(file.path(), &pdf).expect("write");
    let text = crate::pdf_text(file.path());
    assert!(!text.contains("Calle Hidalgo 1,"), "{text}");
    assert!(text.contains("no consta"), "{text}");
}
archive_conformance!(a_padron_prints_only_the_beneficiarys_own_address);

/// Asked for another locality, the padrón is another one that prints it,
/// not the one that prints the first.
async fn a_padron_asked_for_another_locality_prints_it(fixture: &Fixture) {
    let issuer = issuer(fixture);
    fixture
        .issue_on("oficio-autorizacion-apoyo", &autorizacion(1), 20, None)
        .await
        .expect("issued");
    let request = padron_request("Apoyos por localidad");
    let (first, _) = registros::padron::issue(&issuing(fixture, &issuer, 24), &CATALOG, &request)
        .await
        .expect("padrón issued");
    let elsewhere = registros::padron::PadronRequest {
        localidad: Some("Cerro de San Pedro, S.L.P."),
        ..padron_request("Apoyos por localidad")
    };
    let (other, _) = registros::padron::issue(&issuing(fixture, &issuer, 25), &CATALOG, &elsewhere)
        .await
        .expect("padrón issued");
    assert_ne!(other.tomos[0].folio, first.tomos[0].folio);
    assert_eq!(
        data_of(&other.tomos[0])["localidad"],
        "Cerro de San Pedro, S.L.P."
    );
    // Asked again for the first, it is the first.
    let (again, _) = registros::padron::issue(&issuing(fixture, &issuer, 26), &CATALOG, &request)
        .await
        .expect("asked again");
    assert_eq!(again.tomos[0].folio, first.tomos[0].folio);
}
archive_conformance!(a_padron_asked_for_another_locality_prints_it);

/// The weekly report lists exactly the oficios issued from Monday to
/// Sunday, in folio order, the annulled one marked; documents that are
/// not oficios and oficios of other weeks are not in it.
async fn the_weekly_report_lists_exactly_the_oficios_of_its_week(fixture: &Fixture) {
    let issuer = issuer(fixture);
    let comision = crate::example("oficio-comision");
    let issue = async |day: u32| {
        fixture
            .issue_on("oficio-comision", &comision, day, None)
            .await
            .expect("issued")
            .record()
            .folio
            .clone()
    };
    let before = issue(13).await;
    let week: Vec<String> = vec![issue(16).await, issue(18).await, issue(22).await];
    let after = issue(23).await;
    fixture
        .archive
        .annul(&week[1], "emitido por error", "ana.lopez", None)
        .await
        .expect("annulled");
    // Not an oficio, issued that week.
    let lista = fixture
        .issue("lista-asistencia", &crate::example("lista-asistencia"))
        .await;

    let request = registros::semanal::WeekRequest {
        day: chrono::NaiveDate::from_ymd_opt(2026, 11, 19).expect("date"),
        forms: registros::semanal::oficio_forms(&CATALOG, &[]).expect("oficios"),
        area: Some("Recepción"),
    };
    let (version, listed) = registros::semanal::issue(&issuing(fixture, &issuer, 24), &CATALOG, &request)
        .await
        .expect("report issued");
    let folios: Vec<&str> = listed.iter().map(|l| l.folio.as_str()).collect();
    assert_eq!(folios, week.iter().map(String::as_str).collect::<Vec<_>>());
    let report = data_of(&version.tomos[0]);
    assert_eq!(report["semana_inicio"], "2026-11-16");
    assert_eq!(report["semana_fin"], "2026-11-22");
    let rows = report["oficios"].as_array().expect("rows");
    let in_report: Vec<&str> = rows.iter().map(|r| r["folio"].as_str().expect("folio")).collect();
    assert_eq!(in_report, folios);
    assert_eq!(rows[1]["estado"], "Anulado");
    assert_eq!(rows[0]["estado"], "Emitido");
    assert_eq!(rows[0]["tipo"], "Comisión");
    for outside in [&before, &after, &lista.folio] {
        assert!(
            !in_report.contains(&outside.as_str()),
            "{outside} is not of the week"
        );
    }

    // An oficio of the week annulled after the report: the next version
    // marks it and replaces the report before.
    fixture
        .archive
        .annul(&week[2], "emitido por error", "ana.lopez", None)
        .await
        .expect("annulled");
    let (second, _) = registros::semanal::issue(&issuing(fixture, &issuer, 25), &CATALOG, &request)
        .await
        .expect("issued again");
    assert_eq!(second.number, 2);
    assert_eq!(second.replaced, vec![version.tomos[0].folio.clone()]);
    let report = data_of(&second.tomos[0]);
    assert_eq!(report["oficios"][2]["estado"], "Anulado");
    assert_eq!(report["reemplaza"], json!(version.tomos[0].folio));

    // A week not over yet has no report.
    let early = registros::semanal::issue(&issuing(fixture, &issuer, 21), &CATALOG, &request).await;
    assert!(early.is_err());
}
archive_conformance!(the_weekly_report_lists_exactly_the_oficios_of_its_week);

/// The informe final counts the sessions, the attendance and the people of
/// the listas in force whose session falls in its period, and cites them.
async fn the_informe_final_counts_the_listas_of_its_period(fixture: &Fixture) {
    let lista = |fecha: &str, asistentes: &[&str]| {
        let mut data = crate::example("lista-asistencia");
        data["fecha"] = json!(fecha);
        data["asistentes"] = json!(
            asistentes
                .iter()
                .map(|n| json!({"nombre": n, "procedencia": "La Lugarda"}))
                .collect::<Vec<_>>()
        );
        data
    };
    let mut counted = Vec::new();
    for (fecha, people) in [
        ("2026-09-03", &["Ana Ruiz", "Rosa Díaz"][..]),
        ("2026-10-08", &["Ana Ruiz", "Juana Pérez", "Luz Mora"][..]),
        ("2026-11-12", &["Rosa  Díaz", "Marta Gil"][..]),
    ] {
        counted.push(
            fixture
                .issue("lista-asistencia", &lista(fecha, people))
                .await
                .folio,
        );
    }
    let outside = fixture
        .issue("lista-asistencia", &lista("2026-07-30", &["Ana Ruiz"]))
        .await;
    let annulled = fixture
        .issue(
            "lista-asistencia",
            &lista("2026-10-20", &["Pedro Sol", "Ana Ruiz"]),
        )
        .await;
    fixture
        .archive
        .annul(&annulled.folio, "sesión duplicada", "ana.lopez", None)
        .await
        .expect("annulled");

    let from = chrono::NaiveDate::from_ymd_opt(2026, 8, 1).expect("date");
    let to = chrono::NaiveDate::from_ymd_opt(2026, 11, 15).expect("date");
    let counts = registros::actividades::count(&fixture.archive, from, to, None)
        .await
        .expect("counted");
    let sessions: Vec<&str> = counts.sesiones.iter().map(|s| s.folio.as_str()).collect();
    assert_eq!(sessions, counted.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(!sessions.contains(&outside.folio.as_str()));
    assert_eq!((counts.asistencias, counts.personas), (7, 5));

    let informe = registros::actividades::informe_final(&counts, "Desayunos escolares", "La Lugarda");
    let results = informe["resultados_cuantitativos"].as_array().expect("rows");
    let achieved: Vec<i64> = results
        .iter()
        .map(|r| r["alcanzado"].as_i64().expect("n"))
        .collect();
    assert_eq!(achieved, vec![3, 7, 5]);

    // Finished by the promotor, the draft is a valid informe final.
    let mut finished = crate::example("informe-final");
    let mut rows = results.clone();
    for row in &mut rows {
        row["programado"] = json!(3);
    }
    finished["resultados_cuantitativos"] = json!(rows);
    finished["periodo_inicio"] = informe["periodo_inicio"].clone();
    finished["periodo_fin"] = informe["periodo_fin"].clone();
    let day = sello::forms::IssueDate::On(chrono::NaiveDate::from_ymd_opt(2026, 11, 22).expect("date"));
    sello::forms::validate(CATALOG.get("informe-final").expect("form"), &finished, day)
        .expect("a valid informe final");

    // A lista annulled after the draft was started does not count in the
    // informe issued: the archive counts again when it takes the folio,
    // stores the folios it counted and sets what was achieved, whatever the
    // draft said; the document prints them.
    fixture
        .archive
        .annul(&counted[1], "lista capturada dos veces", "ana.lopez", None)
        .await
        .expect("annulled");
    finished["resultados_cuantitativos"][0]["alcanzado"] = json!(9);
    let issued = fixture.issue("informe-final", &finished).await;
    let stored = data_of(&issued);
    let listed: Vec<&str> = stored["conteo"]["listas"]
        .as_array()
        .expect("the listas counted")
        .iter()
        .map(|l| l["folio"].as_str().expect("folio"))
        .collect();
    assert_eq!(listed, vec![counted[0].as_str(), counted[2].as_str()]);
    assert_eq!(
        (
            &stored["conteo"]["sesiones"],
            &stored["conteo"]["asistencias"],
            &stored["conteo"]["personas"]
        ),
        (&json!(2), &json!(4), &json!(3))
    );
    let achieved: Vec<&Value> = stored["resultados_cuantitativos"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| &r["alcanzado"])
        .collect();
    assert_eq!(achieved, vec![&json!(2), &json!(4), &json!(3)]);
    // A folio may break after a slash at the end of a line.
    let text = printed(fixture, &issued).await.replace("/ ", "/");
    assert!(
        text.contains(&format!(
            "son 2 ({}, {}): 2 sesiones, 4 asistencias",
            counted[0], counted[2]
        )),
        "{text}"
    );
    assert!(
        !text.contains(&counted[1]) && !text.contains(&annulled.folio),
        "{text}"
    );

    // A typed row about sessions that the archive does not count is refused.
    finished["resultados_cuantitativos"][0]["indicador"] = json!("Sesiones informativas con padres");
    let refused = fixture
        .issue_on("informe-final", &finished, 22, None)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(
        refused.contains("las sesiones y la asistencia las cuenta el archivo"),
        "{refused}"
    );

    let reporte = registros::actividades::reporte_actividades(&counts, "Desayunos escolares", "La Lugarda");
    let evidence: Vec<&str> = reporte["actividades"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|a| a["evidencia"].as_str().expect("text"))
        .collect();
    assert_eq!(
        evidence,
        counted
            .iter()
            .map(|f| format!("Lista de asistencia {f}"))
            .collect::<Vec<_>>()
    );
}
archive_conformance!(the_informe_final_counts_the_listas_of_its_period);

/// Through the API: a firmante issues and signs the padrón, asked again it
/// is the same (200); a capturista may not; the counts of the listas
/// start a draft of the informe final.
async fn registers_are_built_through_the_api(fixture: &Fixture) {
    use axum::http::StatusCode;
    use sello::accounts::Role;

    for n in 1..=3 {
        fixture
            .issue_on("oficio-autorizacion-apoyo", &autorizacion(n), 20, None)
            .await
            .expect("issued");
    }
    fixture
        .issue("lista-asistencia", &crate::example("lista-asistencia"))
        .await;
    let service = crate::http::Service::new(fixture).await;
    let (directora, _) = service.user("DIF-SLP", "directora", Role::Firmante).await;
    let (capturista, _) = service.user("DIF-SLP", "capturista", Role::Capturista).await;
    let (directora, capturista) = (service.token(&directora).await, service.token(&capturista).await);
    let body = json!({
        "programa": "Apoyos asistenciales 2026",
        "formularios": ["oficio-autorizacion-apoyo"],
        "desde": "2026-11-01",
        "hasta": "2026-11-30",
    });
    let refused = service
        .api(
            "POST",
            "/api/v1/registros/padron",
            Some(&capturista),
            Some(body.clone()),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text());
    let first = service
        .api(
            "POST",
            "/api/v1/registros/padron",
            Some(&directora),
            Some(body.clone()),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    let first = first.json();
    assert_eq!(
        (first["version"].clone(), first["filas"].clone()),
        (json!(1), json!(3))
    );
    let again = service
        .api("POST", "/api/v1/registros/padron", Some(&directora), Some(body))
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text());
    assert_eq!(again.json()["tomos"][0]["folio"], first["tomos"][0]["folio"]);

    let counts = service
        .api(
            "GET",
            "/api/v1/registros/actividades?desde=2026-11-01&hasta=2026-11-30",
            Some(&capturista),
            None,
        )
        .await;
    assert_eq!(counts.status, StatusCode::OK, "{}", counts.text());
    assert_eq!(counts.json()["sesiones"].as_array().map(Vec::len), Some(1));
    let draft = service
        .api(
            "POST",
            "/api/v1/registros/actividades/borrador",
            Some(&capturista),
            Some(
                json!({"formulario": "informe-final", "desde": "2026-11-01", "hasta": "2026-11-30",
                "programa": "Desayunos escolares", "localidad": "La Lugarda"}),
            ),
        )
        .await;
    assert_eq!(draft.status, StatusCode::CREATED, "{}", draft.text());
    let id = draft.json()["borrador"].as_str().expect("id").to_owned();
    let saved = service
        .api("GET", &format!("/api/v1/drafts/{id}"), Some(&capturista), None)
        .await
        .json();
    assert_eq!(saved["data"]["resultados_cuantitativos"][0]["alcanzado"], 1);
}
archive_conformance!(registers_are_built_through_the_api);

/// The staff page: a firmante emits the weekly report from it and is taken
/// to the document; a capturista sees the counts but no form to emit.
async fn registers_are_built_from_the_staff_page(fixture: &Fixture) {
    use axum::http::StatusCode;
    use sello::accounts::Role;

    let oficio = fixture
        .issue_on("oficio-comision", &crate::example("oficio-comision"), 17, None)
        .await
        .expect("issued")
        .record()
        .clone();
    fixture
        .issue("lista-asistencia", &crate::example("lista-asistencia"))
        .await;
    let service = crate::http::Service::new(fixture).await;
    let (_, password) = service.user("DIF-SLP", "directora", Role::Firmante).await;
    let mut browser = service.browser("directora", &password).await;
    let page = browser.get("/registros").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("Emitir el reporte"), "{}", page.text());
    let answer = browser
        .post(
            "/registros",
            "/registros/semanal",
            &[("semana", "2026-11-18"), ("area", "Recepción")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text());
    let document = browser.get(&answer.location()).await;
    assert_eq!(document.status, StatusCode::OK);
    assert!(
        document.text().contains("Reporte semanal de oficios"),
        "{}",
        document.text()
    );
    let report = fixture
        .archive
        .documents_keyed_under("registro-")
        .await
        .expect("listed");
    let data = data_of(&report[0].1);
    assert_eq!(data["oficios"][0]["folio"], json!(oficio.folio));

    let (_, password) = service.user("DIF-SLP", "capturista", Role::Capturista).await;
    let mut clerk = service.browser("capturista", &password).await;
    let page = clerk.get("/registros?desde=2026-11-01&hasta=2026-11-30").await;
    assert_eq!(page.status, StatusCode::OK);
    let text = page.text();
    assert!(
        !text.contains("Emitir el reporte") && !text.contains("Emitir el padrón"),
        "{text}"
    );
    assert!(text.contains("1 sesión(es)"), "{text}");
}
archive_conformance!(registers_are_built_from_the_staff_page);

/// The staff page lists the padrones in force and says when the archive
/// changed since one's cut-off (a document issued, one annulled), without
/// issuing it again.
async fn the_staff_page_says_when_the_archive_changed_since_a_padron(fixture: &Fixture) {
    use axum::http::StatusCode;
    use sello::accounts::Role;

    let issuer = issuer(fixture);
    let mut folios = Vec::new();
    for n in 1..=2 {
        let record = fixture
            .issue_on("oficio-autorizacion-apoyo", &autorizacion(n), 20, None)
            .await
            .expect("issued")
            .record()
            .clone();
        folios.push(record.folio);
    }
    let request = padron_request("Apoyos vigilados");
    let (version, _) = registros::padron::issue(&issuing(fixture, &issuer, 24), &CATALOG, &request)
        .await
        .expect("padrón issued");
    let service = crate::http::Service::new(fixture).await;
    let (_, password) = service.user("DIF-SLP", "capturista", Role::Capturista).await;
    let mut clerk = service.browser("capturista", &password).await;
    let page = clerk.get("/registros").await;
    assert_eq!(page.status, StatusCode::OK);
    let text = page.text();
    assert!(
        text.contains("Apoyos vigilados") && text.contains(&version.tomos[0].folio),
        "{text}"
    );
    assert!(text.contains("Sin cambios"), "{text}");

    fixture
        .issue_on("oficio-autorizacion-apoyo", &autorizacion(3), 24, None)
        .await
        .expect("issued");
    fixture
        .archive
        .annul(&folios[0], "datos equivocados", "ana.lopez", None)
        .await
        .expect("annulled");
    let text = clerk.get("/registros").await.text();
    assert!(
        text.contains("1 documento(s) nuevo(s) y 1 anulado(s) o reemplazado(s)"),
        "{text}"
    );
    // Shown, not acted on: the version in force is still the one issued.
    let keyed = fixture
        .archive
        .documents_keyed_under("registro-")
        .await
        .expect("listed");
    assert_eq!(keyed.len(), 1);
    assert!(keyed[0].1.status.is_current());
}
archive_conformance!(the_staff_page_says_when_the_archive_changed_since_a_padron);

/// Issues `data` as `form` at `when`, with the real renderer and signer.
pub(crate) async fn issue_at(
    fixture: &Fixture,
    form: &str,
    data: &Value,
    when: chrono::DateTime<chrono_tz::Tz>,
) -> String {
    let spec = CATALOG.get(form).expect("form");
    let order = sello::archive::IssueOrder {
        issued_at: when,
        ..crate::order(form, data, None, None)
    };
    let issued = fixture
        .archive
        .issue(&order, |reservation| {
            let request = sello::signed_pdf::IssueRequest {
                form: spec,
                data,
                issued_at: when,
                folio: Some(reservation.folio.to_string()),
                signer: "Mtra. Guadalupe Torres Medina",
                cargo: "Directora",
                endorsements: &[],
                hand_signatures: &[],
                on_paper: &[],
                citations: &reservation.citations,
            };
            sello::signed_pdf::issue(&crate::RENDERER, &fixture.key, crate::BASE_URL, &request)
        })
        .await
        .expect("issued");
    issued.record().folio.clone()
}

/// What documents owe: a resguardo whose monthly renewal is overdue shows
/// on the home page and in the API; a comisión whose constancia was issued
/// does not, one without it does; an apoyo to be delivered next month is
/// not due yet.
async fn overdue_follow_ups_show_on_the_home_page_and_in_the_api(fixture: &Fixture) {
    use axum::http::StatusCode;
    use chrono::TimeZone as _;
    use sello::accounts::Role;

    let october = chrono_tz::America::Mexico_City
        .with_ymd_and_hms(2026, 10, 1, 10, 0, 0)
        .single()
        .expect("time");
    let mut resguardo = crate::example("oficio-ayuda-funcional");
    resguardo["fecha_inicio"] = json!("2026-10-01");
    let resguardo = issue_at(fixture, "oficio-ayuda-funcional", &resguardo, october).await;
    let mut comision = crate::example("oficio-comision");
    comision["fecha_evento"] = json!("2026-11-12");
    // One person commissioned: one constancia closes the comisión.
    comision["comisionados"] = json!([comision["comisionados"][0]]);
    let closed = issue_at(fixture, "oficio-comision", &comision, crate::at(10)).await;
    let open = issue_at(fixture, "oficio-comision", &comision, crate::at(10)).await;
    let mut constancia = crate::example("constancia-asistencia-comision");
    constancia["folio_comision"] = json!(closed);
    fixture.issue("constancia-asistencia-comision", &constancia).await;
    let mut apoyo = autorizacion(1);
    apoyo["fecha_entrega"] = json!("2026-11-21");
    let apoyo = issue_at(fixture, "oficio-autorizacion-apoyo", &apoyo, crate::at(20)).await;

    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
    let due = registros::seguimientos::pending(&fixture.archive, &CATALOG, today, 7)
        .await
        .expect("listed");
    let listed: Vec<(&str, &str, bool)> = due
        .iter()
        .map(|d| (d.folio.as_str(), d.vence.as_str(), d.vencido))
        .collect();
    assert_eq!(
        listed,
        vec![
            (resguardo.as_str(), "2026-10-31", true),
            (open.as_str(), "2026-11-17", true)
        ]
    );
    let later = registros::seguimientos::pending(&fixture.archive, &CATALOG, today, 30)
        .await
        .expect("listed");
    let coming = later
        .iter()
        .find(|d| d.folio == apoyo)
        .expect("the apoyo falls due");
    assert_eq!((coming.vence.as_str(), coming.vencido), ("2026-12-21", false));
    assert_eq!(coming.cierra, "acuse-entrega-apoyo");

    // Today, past all of them: the home page and the API list the renewal.
    let service = crate::http::Service::new(fixture).await;
    let (user, password) = service.user("DIF-SLP", "capturista", Role::Capturista).await;
    let token = service.token(&user).await;
    let answer = service
        .api("GET", "/api/v1/seguimientos", Some(&token), None)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let items = answer.json();
    let renewal = items
        .as_array()
        .expect("list")
        .iter()
        .find(|i| i["folio"] == json!(resguardo))
        .expect("the overdue renewal");
    assert_eq!(renewal["vencido"], true);
    assert_eq!(renewal["etiqueta"], "Renovación mensual del resguardo");
    assert!(
        !items.to_string().contains(&format!("\"{closed}\"")),
        "closed: {items}"
    );
    let mut browser = service.browser("capturista", &password).await;
    let home = browser.get("/").await.text();
    assert!(home.contains(&resguardo) && home.contains("vencido"), "{home}");
    assert!(!home.contains(&closed), "{home}");
}
archive_conformance!(overdue_follow_ups_show_on_the_home_page_and_in_the_api);

/// A constancia closes the follow-up of the one person it names, among
/// those the oficio de comisión it cites commissioned, for that oficio's
/// event and day: another person, event or day is refused by the field;
/// of two persons commissioned, the one who has not handed in hers still
/// owes it.
async fn a_constancia_closes_only_its_own_persons_comision(fixture: &Fixture) {
    let mut comision = crate::example("oficio-comision");
    comision["fecha_evento"] = json!("2026-11-12");
    let oficio = issue_at(fixture, "oficio-comision", &comision, crate::at(10)).await;
    let constancia = |nombre: &str| {
        let mut data = crate::example("constancia-asistencia-comision");
        data["folio_comision"] = json!(oficio);
        data["comisionado"] = json!({"nombre": nombre});
        data
    };
    let refused = |data: Value| async move {
        fixture
            .issue_on("constancia-asistencia-comision", &data, 22, None)
            .await
            .err()
            .expect("refused")
            .to_string()
    };
    let stranger = refused(constancia("Pedro Ajeno Sánchez")).await;
    assert!(
        stranger.contains("«Persona comisionada»: «Pedro Ajeno Sánchez» no es una de las personas"),
        "{stranger}"
    );
    let mut other_event = constancia("Lucía Hernández Salazar");
    other_event["evento"] = json!("Foro estatal de asistencia social");
    let other_event = refused(other_event).await;
    assert!(
        other_event.contains("«Evento»: aquí dice «Foro estatal"),
        "{other_event}"
    );
    let mut other_day = constancia("Lucía Hernández Salazar");
    other_day["fecha_evento"] = json!("2026-11-13");
    let other_day = refused(other_day).await;
    assert!(other_day.contains("«Fecha del evento»"), "{other_day}");

    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
    let owed = |due: Vec<registros::seguimientos::Due>| -> Vec<Option<String>> {
        due.into_iter()
            .filter(|d| d.folio == oficio)
            .map(|d| d.persona)
            .collect()
    };
    let before = registros::seguimientos::pending(&fixture.archive, &CATALOG, today, 0)
        .await
        .expect("listed");
    assert_eq!(
        owed(before),
        vec![
            Some("José Antonio Martínez Ruiz".to_owned()),
            Some("Lucía Hernández Salazar".to_owned())
        ]
    );
    // Her name as written otherwise (case, spaces) is still her.
    fixture
        .issue(
            "constancia-asistencia-comision",
            &constancia("lucía  Hernández Salazar"),
        )
        .await;
    let after = registros::seguimientos::pending(&fixture.archive, &CATALOG, today, 0)
        .await
        .expect("listed");
    assert_eq!(owed(after), vec![Some("José Antonio Martínez Ruiz".to_owned())]);
    fixture
        .issue(
            "constancia-asistencia-comision",
            &constancia("José Antonio Martínez Ruiz"),
        )
        .await;
    let closed = registros::seguimientos::pending(&fixture.archive, &CATALOG, today, 0)
        .await
        .expect("listed");
    assert_eq!(owed(closed), Vec::<Option<String>>::new());
}
archive_conformance!(a_constancia_closes_only_its_own_persons_comision);

/// A renewal cites, as a checked document, the resguardo of the same
/// beneficiary: citing another person's is refused by the field, and
/// leaves that person's renewal due; her own renewal closes it, and prints
/// the resguardo's folio and date as the archive holds them.
async fn a_renewal_cites_the_resguardo_of_its_own_beneficiary(fixture: &Fixture) {
    use chrono::TimeZone as _;
    let october = chrono_tz::America::Mexico_City
        .with_ymd_and_hms(2026, 10, 1, 10, 0, 0)
        .single()
        .expect("time");
    let juana = json!({"nombre": "Juana Gómez Pérez", "identificacion": curp(7)});
    let mut resguardo = crate::example("oficio-ayuda-funcional");
    resguardo["fecha_inicio"] = json!("2026-10-01");
    resguardo["beneficiario"] = juana.clone();
    let resguardo = issue_at(fixture, "oficio-ayuda-funcional", &resguardo, october).await;

    let mut renewal = crate::example("oficio-ayuda-funcional");
    renewal["tipo"] = json!("Renovación");
    renewal["fecha_inicio"] = json!("2026-11-30");
    renewal["oficio_anterior"] = json!(resguardo);
    let refused = fixture
        .issue_on("oficio-ayuda-funcional", &renewal, 22, None)
        .await
        .err()
        .expect("another person's resguardo is refused")
        .to_string();
    assert!(
        refused.contains("«Oficio de resguardo anterior»") && refused.contains("es de otra persona"),
        "{refused}"
    );
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
    let due = registros::seguimientos::pending(&fixture.archive, &CATALOG, today, 0)
        .await
        .expect("listed");
    assert!(due.iter().any(|d| d.folio == resguardo), "{due:?}");

    renewal["beneficiario"] = juana;
    let renewed = fixture.issue("oficio-ayuda-funcional", &renewal).await;
    let due = registros::seguimientos::pending(&fixture.archive, &CATALOG, today, 0)
        .await
        .expect("listed");
    assert!(!due.iter().any(|d| d.folio == resguardo), "{due:?}");
    let text = printed(fixture, &renewed).await;
    assert!(
        text.contains(&format!("folio {resguardo} del 1 de octubre de 2026")),
        "{text}"
    );
}
archive_conformance!(a_renewal_cites_the_resguardo_of_its_own_beneficiary);

/// The text an issued document prints, its spaces and line ends collapsed.
async fn printed(fixture: &Fixture, record: &sello::archive::DocumentRecord) -> String {
    let pdf = fixture.archive.pdf(record).await.expect("PDF");
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), pdf).expect("written");
    crate::pdf_text(file.path())
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The answer a derivación awaits is a follow-up: overdue, the API lists it
/// for the office it was sent to, which owes it, and the office that sent
/// it sees it awaited; once a contrarreferencia answers it, neither does.
async fn an_overdue_derivacion_is_listed_until_it_is_answered(fixture: &Fixture) {
    use axum::http::StatusCode;
    use sello::accounts::Role;

    let service = crate::http::Service::new(fixture).await;
    // Sent on 22 November 2026 with 5 business days: due on the 27th.
    let derivacion = crate::referred_here(fixture).await;
    let (user, _) = service.user("DIF-SLP", "capturista", Role::Capturista).await;
    let token = service.token(&user).await;
    let listed = || async {
        let answer = service
            .api("GET", "/api/v1/seguimientos", Some(&token), None)
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        answer
            .json()
            .as_array()
            .expect("list")
            .iter()
            .filter(|i| i["folio"] == json!(derivacion.folio))
            .cloned()
            .collect::<Vec<Value>>()
    };
    let owed = listed().await;
    assert_eq!(owed.len(), 1, "{owed:?}");
    assert_eq!(owed[0]["vence"], "2026-11-27");
    assert_eq!(owed[0]["vencido"], true);
    assert_eq!(owed[0]["cierra"], "contrarreferencia");
    assert_eq!(owed[0]["derivacion"]["debe_responder"], true);
    assert_eq!(owed[0]["derivacion"]["oficina"], crate::OTHER_OFFICE);
    let sender = fixture.archive.for_office(sello::archive::Office::new(
        crate::OTHER_OFFICE,
        "Subsidios Sociales",
    ));
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).expect("date");
    let awaited = registros::seguimientos::pending(&sender, &CATALOG, today, 0)
        .await
        .expect("listed");
    let awaited: Vec<_> = awaited.iter().filter(|d| d.folio == derivacion.folio).collect();
    assert_eq!(awaited.len(), 1, "{awaited:?}");
    assert!(awaited[0].vencido);
    assert!(!awaited[0].derivacion.as_ref().expect("a referral").debe_responder);

    let mut answer = crate::example("contrarreferencia");
    answer["derivacion"] = json!(derivacion.folio);
    fixture.issue("contrarreferencia", &answer).await;
    assert_eq!(listed().await, Vec::<Value>::new());
    let awaited = registros::seguimientos::pending(&sender, &CATALOG, today, 0)
        .await
        .expect("listed");
    assert!(
        !awaited.iter().any(|d| d.folio == derivacion.folio),
        "{awaited:?}"
    );
}
archive_conformance!(an_overdue_derivacion_is_listed_until_it_is_answered);
