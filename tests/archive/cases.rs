//! Cases, not loose papers: a `documento` field resolves to an issued,
//! current document of the office, of the form it names and sharing what
//! it says (the expediente or a person), printed and linked both ways; and
//! the order of an expediente (`excludes`, `after`) holds when a document
//! is checked and when it is issued, until what blocked it is annulled.

use sello::archive::{ArchiveError, Office, Status};
use sello::signed_pdf::IssueError;
use serde_json::Value;

use crate::{Fixture, example};

/// The problems an issuance was refused for, as one text.
fn refused(result: Result<sello::archive::Issued, ArchiveError>) -> String {
    match result {
        Err(ArchiveError::Issue(IssueError::Invalid(problems))) => problems.to_string(),
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(issued) => panic!("issued as {}", issued.record().folio),
    }
}

fn citing(id: &str, field: &str, folio: &str) -> Value {
    let mut data = example(id);
    data[field] = Value::String(folio.to_owned());
    data
}

async fn pdf_text_of(fixture: &Fixture, record: &sello::archive::DocumentRecord) -> String {
    let pdf = fixture.archive.pdf(record).await.expect("pdf");
    let file = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(file.path(), pdf).expect("write");
    crate::pdf_text(file.path())
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

async fn an_autorizacion_cites_its_solicitud_prints_it_and_both_link(fixture: &Fixture) {
    let solicitud = fixture
        .issue("solicitud-apoyo", &example("solicitud-apoyo"))
        .await;
    let data = citing("oficio-autorizacion-apoyo", "folio_solicitud", &solicitud.folio);
    let autorizacion = fixture.issue("oficio-autorizacion-apoyo", &data).await;

    let text = pdf_text_of(fixture, &autorizacion).await;
    assert!(
        text.contains(&format!(
            "registrada con folio {} del 22 de noviembre de 2026",
            solicitud.folio
        )),
        "{text}"
    );
    assert!(!text.contains("sin comprobar"), "{text}");

    let archive = &fixture.archive;
    let cites = archive.citations(autorizacion.row_id).await.expect("citations");
    assert_eq!(cites.cites.len(), 1);
    assert_eq!(cites.cites[0].document_id, solicitud.id);
    assert_eq!(cites.cites[0].field, "folio_solicitud");
    assert!(cites.cited_by.is_empty());
    let cited = archive.citations(solicitud.row_id).await.expect("citations");
    assert_eq!(cited.cited_by.len(), 1);
    assert_eq!(cited.cited_by[0].document_id, autorizacion.id);
    assert_eq!(cited.cited_by[0].folio, autorizacion.folio);
}
crate::archive_conformance!(an_autorizacion_cites_its_solicitud_prints_it_and_both_link);

async fn a_citation_to_a_missing_annulled_foreign_wrong_form_or_other_persons_document_is_refused(
    fixture: &Fixture,
) {
    let archive = &fixture.archive;
    let form = "oficio-autorizacion-apoyo";
    let field = "folio_solicitud";

    // Missing.
    let message = refused(
        fixture
            .issue_on(form, &citing(form, field, "DIF-SLP/CA/2026/0999"), 22, None)
            .await,
    );
    assert!(
        message.contains("folio_solicitud") && message.contains("no está en el archivo de esta oficina"),
        "{message}"
    );

    // Of another form.
    let oficio = fixture
        .issue("oficio-comision", &example("oficio-comision"))
        .await;
    let message = refused(
        fixture
            .issue_on(form, &citing(form, field, &oficio.folio), 22, None)
            .await,
    );
    assert!(
        message.contains("es de otro formulario") && message.contains("Solicitud de apoyo"),
        "{message}"
    );

    // Of another office: the same folio text, issued there, is not found here.
    let other = archive.for_office(Office::new("DIF-CER", "DIF Cerritos"));
    let foreign = crate::issue_into(
        &other,
        &fixture.key,
        "solicitud-apoyo",
        &example("solicitud-apoyo"),
        22,
        None,
    )
    .await
    .expect("issued in the other office");
    let foreign = foreign.record().clone();
    let message = refused(
        fixture
            .issue_on(form, &citing(form, field, &foreign.folio), 22, None)
            .await,
    );
    assert!(
        message.contains("no está en el archivo de esta oficina"),
        "{message}"
    );

    // Of other persons.
    let mut strangers = example("solicitud-apoyo");
    strangers["solicitante"]["identificacion"] = "HELJ611102MSPRRN01".into();
    strangers["beneficiario"]["identificacion"] = "GOZA030715MSPMVNA8".into();
    let strangers = fixture.issue("solicitud-apoyo", &strangers).await;
    let message = refused(
        fixture
            .issue_on(form, &citing(form, field, &strangers.folio), 22, None)
            .await,
    );
    assert!(message.contains("es de otra persona"), "{message}");

    // Annulled.
    let solicitud = fixture
        .issue("solicitud-apoyo", &example("solicitud-apoyo"))
        .await;
    archive
        .annul(&solicitud.folio, "Capturada dos veces", "director", None)
        .await
        .expect("annuls");
    let message = refused(
        fixture
            .issue_on(form, &citing(form, field, &solicitud.folio), 22, None)
            .await,
    );
    assert!(message.contains("está anulado"), "{message}");

    // None of the refusals took a folio: the first oficio after them is n.º 2.
    let current = fixture
        .issue("solicitud-apoyo", &example("solicitud-apoyo"))
        .await;
    let issued = fixture.issue(form, &citing(form, field, &current.folio)).await;
    assert_eq!(issued.folio, "DIF-SLP/OF/2026/0002");
    assert_eq!(issued.status, Status::Emitido);
}
crate::archive_conformance!(
    a_citation_to_a_missing_annulled_foreign_wrong_form_or_other_persons_document_is_refused
);

/// The acuse de entrega cites the oficio that authorised the apoyo (and
/// the solicitud): printed as the archive found them, refused for an
/// oficio of another form or of other persons, and it closes the oficio's
/// follow-up.
async fn an_acuse_cites_its_autorizacion_and_closes_its_follow_up(fixture: &Fixture) {
    let solicitud = fixture
        .issue("solicitud-apoyo", &example("solicitud-apoyo"))
        .await;
    let oficio = citing("oficio-autorizacion-apoyo", "folio_solicitud", &solicitud.folio);
    let oficio = fixture.issue("oficio-autorizacion-apoyo", &oficio).await;
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
    let owed = || async {
        sello::registros::seguimientos::pending(&fixture.archive, &crate::CATALOG, today, 400)
            .await
            .expect("follow-ups")
            .into_iter()
            .any(|due| due.folio == oficio.folio && due.cierra == "acuse-entrega-apoyo")
    };
    assert!(owed().await, "the oficio awaits its acuse");

    let form = "acuse-entrega-apoyo";
    let field = "folio_autorizacion";
    let message = refused(
        fixture
            .issue_on(form, &citing(form, field, &solicitud.folio), 22, None)
            .await,
    );
    assert!(
        message.contains(field)
            && message.contains("es de otro formulario")
            && message.contains("Oficio de autorización de apoyo"),
        "{message}"
    );
    let mut strangers = example("oficio-autorizacion-apoyo");
    strangers["solicitante"]["identificacion"] = "HELJ611102MSPRRN01".into();
    strangers["beneficiario"]["identificacion"] = "GOZA030715MSPMVNA8".into();
    let strangers = fixture.issue("oficio-autorizacion-apoyo", &strangers).await;
    let message = refused(
        fixture
            .issue_on(form, &citing(form, field, &strangers.folio), 22, None)
            .await,
    );
    assert!(message.contains("es de otra persona"), "{message}");
    assert!(owed().await, "a refused acuse closes nothing");

    let mut acuse = citing(form, field, &oficio.folio);
    acuse["folio_solicitud"] = Value::String(solicitud.folio.clone());
    let acuse = fixture.issue(form, &acuse).await;
    let text = pdf_text_of(fixture, &acuse).await;
    assert!(
        text.contains(&format!(
            "autorizado mediante el oficio con folio {} del 22 de noviembre de 2026",
            oficio.folio
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("folio {} del 22 de noviembre de 2026", solicitud.folio)),
        "{text}"
    );
    assert!(!text.contains("sin comprobar"), "{text}");
    let cites = fixture.archive.citations(acuse.row_id).await.expect("citations");
    let mut cited: Vec<(&str, &str)> = cites
        .cites
        .iter()
        .map(|c| (c.field.as_str(), c.folio.as_str()))
        .collect();
    cited.sort();
    assert_eq!(
        cited,
        vec![
            (field, oficio.folio.as_str()),
            ("folio_solicitud", solicitud.folio.as_str())
        ]
    );
    assert!(!owed().await, "the acuse closed the oficio's follow-up");
}
crate::archive_conformance!(an_acuse_cites_its_autorizacion_and_closes_its_follow_up);

async fn a_plan_cites_only_the_carta_of_its_own_familys_expediente(fixture: &Fixture) {
    let carta = fixture
        .issue("carta-compromiso", &example("carta-compromiso"))
        .await;
    let mut other_family = example("carta-compromiso");
    other_family["familia_id"] = "FAM-13112-009999".into();
    other_family["representante"] =
        serde_json::json!({"nombre": "Rosa Elena Díaz Pino", "identificacion": "11.111.111-1"});
    let other = fixture.issue("carta-compromiso", &other_family).await;

    let plan = citing("plan-intervencion", "carta_compromiso", &other.folio);
    let message = refused(fixture.issue_on("plan-intervencion", &plan, 22, None).await);
    assert!(message.contains("es de otro expediente"), "{message}");

    let plan = citing("plan-intervencion", "carta_compromiso", &carta.folio);
    let issued = fixture.issue("plan-intervencion", &plan).await;
    assert_eq!(issued.expediente_id, carta.expediente_id);
}
crate::archive_conformance!(a_plan_cites_only_the_carta_of_its_own_familys_expediente);

/// The Declaración of the same family as the Carta example.
fn declaracion_of_the_cartas_family() -> Value {
    let carta = example("carta-compromiso");
    let mut data = example("declaracion-no-participacion");
    for field in ["familia_id", "familia_nombre", "representante"] {
        data[field] = carta[field].clone();
    }
    data
}

async fn a_carta_and_a_declaracion_exclude_each_other_until_one_is_annulled(fixture: &Fixture) {
    let archive = &fixture.archive;
    let carta = fixture
        .issue("carta-compromiso", &example("carta-compromiso"))
        .await;
    let declaracion = declaracion_of_the_cartas_family();
    let message = refused(
        fixture
            .issue_on("declaracion-no-participacion", &declaracion, 22, None)
            .await,
    );
    assert!(
        message.contains("ya tiene «Carta de Compromiso") && message.contains(&carta.folio),
        "{message}"
    );
    // Checked the same way before issuing (a draft sent on).
    let form = crate::CATALOG.get("declaracion-no-participacion").expect("form");
    let checked = archive
        .check_case(form, &declaracion, crate::at(22), None, None)
        .await;
    assert!(
        matches!(&checked, Err(ArchiveError::Issue(IssueError::Invalid(p))) if p.to_string().contains(&carta.folio)),
        "{checked:?}"
    );

    archive
        .annul(&carta.folio, "La familia decidió no participar", "director", None)
        .await
        .expect("annuls");
    let issued = fixture.issue("declaracion-no-participacion", &declaracion).await;
    assert_eq!(issued.expediente_id, carta.expediente_id);
    // And now the Declaración blocks a new Carta.
    let message = refused(
        fixture
            .issue_on("carta-compromiso", &example("carta-compromiso"), 22, None)
            .await,
    );
    assert!(message.contains(&issued.folio), "{message}");
}
crate::archive_conformance!(a_carta_and_a_declaracion_exclude_each_other_until_one_is_annulled);

async fn the_caracterizacion_and_the_plan_come_after_the_carta(fixture: &Fixture) {
    for form in ["plan-intervencion", "caracterizacion-familia"] {
        let message = refused(fixture.issue_on(form, &example(form), 22, None).await);
        assert!(
            message.contains("va después de «Carta de Compromiso"),
            "{form}: {message}"
        );
    }
    // A Carta issued later than the plan's date does not come before it.
    fixture
        .issue_on("carta-compromiso", &example("carta-compromiso"), 23, None)
        .await
        .expect("carta");
    let message = refused(
        fixture
            .issue_on("plan-intervencion", &example("plan-intervencion"), 22, None)
            .await,
    );
    assert!(message.contains("posterior a la fecha de emisión"), "{message}");
    for form in ["plan-intervencion", "caracterizacion-familia"] {
        fixture
            .issue_on(form, &example(form), 23, None)
            .await
            .expect(form);
    }
}
crate::archive_conformance!(the_caracterizacion_and_the_plan_come_after_the_carta);

async fn a_family_member_named_again_with_another_identification_is_refused(fixture: &Fixture) {
    let carta = fixture
        .issue("carta-compromiso", &example("carta-compromiso"))
        .await;
    let mut data = example("caracterizacion-familia");
    // The same representative, another (valid) RUN.
    data["representante"]["identificacion"] = "11.111.111-1".into();
    let message = refused(fixture.issue_on("caracterizacion-familia", &data, 22, None).await);
    assert!(
        message.contains("representante.identificacion")
            && message.contains("15432876-9")
            && message.contains(&carta.folio),
        "{message}"
    );
    // Written with other dots and case, it is the same identification.
    let mut data = example("caracterizacion-familia");
    data["representante"]["identificacion"] = "15432876-9".into();
    fixture.issue("caracterizacion-familia", &data).await;
}
crate::archive_conformance!(a_family_member_named_again_with_another_identification_is_refused);

async fn a_carta_still_being_issued_already_excludes_the_declaracion(fixture: &Fixture) {
    let archive = &fixture.archive;
    let carta = example("carta-compromiso");
    let reserved = archive
        .reserve(&crate::order("carta-compromiso", &carta, None, None))
        .await
        .expect("reserves")
        .expect("new");
    let declaracion = declaracion_of_the_cartas_family();
    let message = refused(
        fixture
            .issue_on("declaracion-no-participacion", &declaracion, 22, None)
            .await,
    );
    assert!(
        message.contains("en emisión") && message.contains(reserved.folio.as_str()),
        "{message}"
    );
    // Its issuance failed: the folio is annulled and blocks nothing.
    archive
        .abandon(&reserved, "emisión fallida: prueba")
        .await
        .expect("abandons");
    fixture.issue("declaracion-no-participacion", &declaracion).await;
}
crate::archive_conformance!(a_carta_still_being_issued_already_excludes_the_declaracion);
