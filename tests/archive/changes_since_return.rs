//! What the reviewer's page says of a draft that was returned and came
//! back: the fields changed since, or that none did, only as far as the
//! audit trail records it.

use axum::http::StatusCode;
use sello::accounts::{Role, User};
use sello::archive::NewEvent;
use sello::forms::FormSpec;
use sello::public_id::PublicId;
use serde_json::{Value, json};

use crate::Fixture;
use crate::http::{Browser, Service};
use crate::service::as_refs;

const OFFICE: &str = "DIF-SLP";
const FORM: &str = "oficio-autorizacion-apoyo";
const UNCHANGED: &str = "Se devolvió antes y volvió sin cambios en sus datos.";

/// A draft of [`FORM`] its capturista saved and sent to the contador's
/// visado, and the two of them at their browsers.
struct SentDraft<'s> {
    form: &'static FormSpec,
    data: Value,
    /// The draft's page.
    page: String,
    preparer: Browser<'s>,
    reviewer: Browser<'s>,
    accountant: User,
}

async fn sent_draft<'s>(service: &'s Service, fixture: &Fixture) -> SentDraft<'s> {
    let (_, clerk) = service.user(OFFICE, "captura.cambios", Role::Capturista).await;
    let (accountant, password) = service.user(OFFICE, "contador.cambios", Role::Contador).await;
    let form = crate::CATALOG.get(FORM).expect("form");
    let mut data = crate::citing_issued(fixture, form, &crate::example_now(FORM)).await;
    // What the contador's step fills is not typed on the entry form.
    for field in form.fields.iter().filter(|f| f.filled_by.is_some()) {
        data.as_object_mut().expect("object").remove(&field.name);
    }
    let mut preparer = service.browser("captura.cambios", &clerk).await;
    let page = save_draft(&mut preparer, &data).await;
    send_draft(&mut preparer, &page, &data).await;
    SentDraft {
        form,
        data,
        page,
        preparer,
        reviewer: service.browser("contador.cambios", &password).await,
        accountant,
    }
}

/// Saves a new draft with `data` as `preparer`; its page.
async fn save_draft(preparer: &mut Browser<'_>, data: &Value) -> String {
    let entry = format!("/formularios/{FORM}");
    let mut fields = crate::entry_fields::entry_fields(data);
    fields.push(("_accion".into(), "guardar".into()));
    let saved = preparer.post(&entry, &entry, &as_refs(&fields)).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    saved.location()
}

/// Sends the draft at `page` on with `data`, as its preparer.
async fn send_draft(preparer: &mut Browser<'_>, page: &str, data: &Value) {
    let id = page.rsplit('/').next().expect("id");
    let mut fields = crate::entry_fields::entry_fields(data);
    fields.push(("_accion".into(), "enviar".into()));
    fields.push(("_borrador".into(), id.to_owned()));
    let sent = (preparer.post(page, &format!("/formularios/{FORM}"), &as_refs(&fields))).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.text());
}

/// Returns the draft at `page` to its preparer, as `reviewer`.
async fn return_draft(reviewer: &mut Browser<'_>, page: &str) {
    let fields = [("_accion", "rechazar"), ("motivo", "El monto excede la partida")];
    let returned = reviewer.post(page, &format!("{page}/paso"), &fields).await;
    assert_eq!(returned.status, StatusCode::SEE_OTHER, "{}", returned.text());
}

/// The draft's page as `reviewer` sees it.
async fn review(reviewer: &mut Browser<'_>, page: &str) -> String {
    let answer = reviewer.get(page).await;
    assert_eq!(answer.status, StatusCode::OK);
    answer.text()
}

async fn the_reviewer_sees_which_fields_changed_since_returning_a_draft(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let SentDraft {
        mut data,
        page: draft_page,
        mut preparer,
        mut reviewer,
        ..
    } = sent_draft(&service, fixture).await;

    // The contador returns it; the preparer corrects two fields and sends it again.
    return_draft(&mut reviewer, &draft_page).await;
    data["monto"] = json!("900.00");
    data["proveedor"] = json!("Óptica del Centro");
    send_draft(&mut preparer, &draft_page, &data).await;

    // The reviewer's page says what changed, by the fields' labels, and
    // nothing else.
    let page = review(&mut reviewer, &draft_page).await;
    assert!(
        page.contains("Cambió desde que se devolvió: «Proveedor», «Monto autorizado»."),
        "{page}"
    );

    // Returned again and sent back as it was: the page says so.
    return_draft(&mut reviewer, &draft_page).await;
    send_draft(&mut preparer, &draft_page, &data).await;
    let page = review(&mut reviewer, &draft_page).await;
    assert!(page.contains(UNCHANGED), "{page}");
    assert!(!page.contains("Cambió desde que se devolvió"), "{page}");
}
crate::archive_conformance!(the_reviewer_sees_which_fields_changed_since_returning_a_draft);

async fn a_draft_returned_before_changes_were_recorded_is_not_said_to_come_back_unchanged(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let SentDraft {
        form,
        mut data,
        page: draft_page,
        mut preparer,
        mut reviewer,
        accountant,
    } = sent_draft(&service, fixture).await;

    // An earlier release returned it, recording the step and its event as
    // it did then, and its preparer corrected the amount there, which that
    // release did not record.
    let id = PublicId::parse(draft_page.rsplit('/').next().expect("id")).expect("id");
    let draft = fixture.archive.draft(id).await.expect("draft");
    let first = &form.workflow.first().id;
    let visado = draft.step.clone().expect("sent on");
    let pool = fixture.archive.store().pool();
    sqlx::query(
        "INSERT INTO draft_steps (draft_id, step, action, user_id, name, cargo, note, at) \
         VALUES ($1, $2, 'rechazado', $3, $4, $5, 'El monto excede la partida', $6)",
    )
    .bind(draft.row_id)
    .bind(&visado)
    .bind(accountant.id)
    .bind(&accountant.display_name)
    .bind(&accountant.cargo)
    .bind(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
    .execute(pool)
    .await
    .expect("step");
    (fixture.archive.store().record_event(NewEvent {
        actor: accountant.username.clone(),
        action: "borrador.rechazado",
        office_code: Some(OFFICE.into()),
        document_id: None,
        expediente_id: None,
        draft_id: Some(draft.row_id),
        details: json!({"paso": visado, "siguiente": first, "motivo": "El monto excede la partida"}),
    }))
    .await
    .expect("event");
    data["monto"] = json!("900.00");
    sqlx::query("UPDATE drafts SET step = $2, data = $3 WHERE id = $1")
        .bind(draft.row_id)
        .bind(first)
        .bind(data.to_string())
        .execute(pool)
        .await
        .expect("returned and corrected");

    // This release sends it on again: nothing says it came back unchanged,
    // nor what changed, which no record tells.
    send_draft(&mut preparer, &draft_page, &data).await;
    let page = review(&mut reviewer, &draft_page).await;
    assert!(page.contains("Persona captura.cambios"), "{page}");
    assert!(!page.contains(UNCHANGED), "{page}");
    assert!(!page.contains("Cambió desde que se devolvió"), "{page}");
}
crate::archive_conformance!(a_draft_returned_before_changes_were_recorded_is_not_said_to_come_back_unchanged);
