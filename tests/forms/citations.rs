//! `documento` fields: a draft prints the cited folio as typed and says it
//! is unchecked; an issued document prints the folio and date the archive
//! resolved, and is refused when nobody resolved them. (Whether a folio
//! resolves is the archive's: `tests/archive/cases.rs`.)

use sello::forms::FieldType;
use sello::render::CitedDocument;
use sello::signed_pdf::{IssueError, IssueRequest, issue};
use serde_json::Value;

use crate::helpers::{CATALOG, example, form, issue_time, pdf_text, render};

/// Every form with a `documento` field, with the field.
fn citing_forms() -> Vec<(&'static str, &'static str)> {
    CATALOG
        .iter()
        .flat_map(|spec| {
            spec.fields
                .iter()
                .filter(|f| matches!(f.kind, FieldType::Document { .. }))
                .map(move |f| (spec.id.as_str(), f.name.as_str()))
        })
        .collect()
}

fn citing(id: &str, field: &str, folio: &str) -> Value {
    let mut data = example(id);
    data[field] = Value::String(folio.to_owned());
    if id == "oficio-ayuda-funcional" {
        // Only a renewal cites the resguardo before it (the example is one).
        data["tipo"] = Value::String("Renovación".into());
    }
    data
}

#[test]
fn the_seeds_chains_are_declared_as_citations() {
    let declared = citing_forms();
    for chain in [
        ("oficio-autorizacion-apoyo", "folio_solicitud"),
        ("plan-intervencion", "carta_compromiso"),
        ("informe-diagnostico", "diagnostico"),
        ("plan-trabajo", "informe_diagnostico"),
        ("informe-final", "plan_trabajo"),
        ("acuse-entrega-apoyo", "folio_autorizacion"),
        ("acuse-entrega-apoyo", "folio_solicitud"),
        ("constancia-asistencia-comision", "folio_comision"),
        ("oficio-ayuda-funcional", "oficio_anterior"),
        ("ficha-seguimiento-pfd", "folio_plan"),
        ("ficha-seguimiento-laboral", "folio_plan"),
        ("linea-salida", "folio_linea_base"),
    ] {
        assert!(declared.contains(&chain), "{chain:?} is not a documento field");
    }
}

#[test]
fn a_draft_prints_the_cited_folio_as_typed_and_unchecked() {
    for (id, field) in citing_forms() {
        let text = pdf_text(&render(id, &citing(id, field, "DIF/CA/2026/0042")));
        assert!(
            text.contains("folio DIF/CA/2026/0042 (sin comprobar en el archivo)"),
            "{id}.{field}: {text}"
        );
    }
}

fn request<'a>(id: &str, data: &'a Value, citations: &'a [CitedDocument]) -> IssueRequest<'a> {
    IssueRequest {
        form: form(id),
        data,
        issued_at: issue_time(),
        folio: Some("DIF/OF/2026/0137".into()),
        signer: "Mtra. Guadalupe Torres Medina",
        cargo: "Directora del Sistema DIF Municipal",
        endorsements: &[],
        hand_signatures: &[],
        on_paper: &[],
        citations,
    }
}

static KEY: std::sync::LazyLock<(tempfile::TempDir, sello::keys::OfficeKey)> =
    std::sync::LazyLock::new(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = sello::keys::OfficeKey::generate(
            &dir.path().join("clave"),
            "DIF Soledad",
            sello::keys::KeyAlgorithm::Ed25519,
        )
        .expect("key");
        (dir, key)
    });

#[test]
fn a_document_citing_a_folio_nobody_resolved_is_not_issued() {
    let id = "oficio-autorizacion-apoyo";
    let data = citing(id, "folio_solicitud", "DIF/CA/2026/0042");
    let refused = issue(
        &crate::helpers::RENDERER,
        &KEY.1,
        "https://sello.example",
        &request(id, &data, &[]),
    );
    match refused {
        Err(IssueError::Invalid(problems)) => {
            assert!(problems.mentions("folio_solicitud"), "{problems}");
            assert!(problems.to_string().contains("no se comprobó"), "{problems}");
        }
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(_) => panic!("issued citing an unresolved folio"),
    }
    // Resolved for another folio than the one typed: still refused.
    let other = CitedDocument {
        field: "folio_solicitud".into(),
        folio: "DIF/CA/2026/0041".into(),
        fecha: "2026-11-17".into(),
        formulario: "Solicitud de apoyo".into(),
    };
    let refused = issue(
        &crate::helpers::RENDERER,
        &KEY.1,
        "https://sello.example",
        &request(id, &data, std::slice::from_ref(&other)),
    );
    assert!(matches!(refused, Err(IssueError::Invalid(_))));
}

#[test]
fn an_issued_document_prints_the_folio_and_date_the_archive_resolved() {
    let id = "oficio-autorizacion-apoyo";
    let data = citing(id, "folio_solicitud", "DIF/CA/2026/0042");
    let resolved = CitedDocument {
        field: "folio_solicitud".into(),
        folio: "DIF/CA/2026/0042".into(),
        fecha: "2026-11-17".into(),
        formulario: "Solicitud de apoyo".into(),
    };
    let issued = issue(
        &crate::helpers::RENDERER,
        &KEY.1,
        "https://sello.example",
        &request(id, &data, std::slice::from_ref(&resolved)),
    )
    .expect("issues");
    let text = pdf_text(&issued.pdf);
    assert!(
        text.contains("registrada con folio DIF/CA/2026/0042 del 17 de noviembre de 2026"),
        "{text}"
    );
    assert!(!text.contains("sin comprobar"), "{text}");
}

/// A follow-up is closed by a document that cites the owing one: where the
/// closing field is a `documento`, it must be able to cite the owing form,
/// or nothing could ever close it. The acuse, the constancia and the
/// renewal of a resguardo all cite through the archive, so what closes a
/// follow-up is a document it checked (a resguardo on paper is left
/// uncited, and owes nothing in Sello).
#[test]
fn every_follow_up_is_closed_through_a_field_that_can_cite_its_form() {
    let mut through_documento = Vec::new();
    for owing in CATALOG.iter() {
        for follow_up in &owing.seguimiento {
            let closing = CATALOG.get(&follow_up.cierra).expect("closing form");
            let field = closing
                .fields
                .iter()
                .find(|f| f.name == follow_up.cita)
                .unwrap_or_else(|| panic!("{}: no field «{}»", closing.id, follow_up.cita));
            if let FieldType::Document { forms, .. } = &field.kind {
                assert!(
                    forms.iter().any(|f| f.id == owing.id),
                    "{}.{} cannot cite {}",
                    closing.id,
                    field.name,
                    owing.id
                );
                through_documento.push(closing.id.as_str());
            }
        }
    }
    through_documento.sort();
    assert_eq!(
        through_documento,
        [
            "acuse-entrega-apoyo",
            "constancia-asistencia-comision",
            "oficio-ayuda-funcional"
        ]
    );
}
