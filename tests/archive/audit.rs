//! The audit trail is append-only and hash-chained: a changed or removed
//! event is found by `verify_audit`.

use sello::archive::Backend;

use crate::{Fixture, example};

async fn the_audit_chain_checks_and_a_tampered_event_is_found(fixture: &Fixture) {
    let archive = &fixture.archive;
    let first = fixture
        .issue("oficio-comision", &example("oficio-comision"))
        .await;
    fixture
        .issue("oficio-comision", &example("oficio-comision"))
        .await;
    archive
        .annul(&first.folio, "Duplicado", "director", None)
        .await
        .expect("annul");

    let report = archive.verify_audit().await.expect("verify");
    assert!(report.broken.is_none(), "{report:?}");
    assert_eq!(report.events, 4, "opened, issued, issued, annulled");
    let events = archive.document_events(first.row_id).await.expect("events");
    assert_eq!(events[0].actor, "ana.lopez");
    assert_eq!(events[1].actor, "director");
    assert!(events[1].details.contains("Duplicado"));

    // The database itself refuses changes and deletions.
    let store = archive.store();
    assert!(
        store
            .execute("UPDATE audit_events SET actor = 'x' WHERE seq = 2")
            .await
            .is_err()
    );
    assert!(
        store
            .execute("DELETE FROM audit_events WHERE seq = 4")
            .await
            .is_err()
    );

    // Someone with the database's own keys gets past the triggers; the
    // chain still tells.
    let unguard = match store.backend() {
        Backend::Sqlite => [
            "DROP TRIGGER audit_events_no_update",
            "DROP TRIGGER audit_events_no_delete",
        ],
        Backend::Postgres => [
            "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update",
            "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_delete",
        ],
    };
    for statement in unguard {
        store.execute(statement).await.expect("unguard");
    }
    store
        .execute("UPDATE audit_events SET actor = 'otra persona' WHERE seq = 2")
        .await
        .expect("tamper");
    let report = archive.verify_audit().await.expect("verify");
    assert_eq!(report.broken.as_ref().map(|b| b.seq), Some(2), "{report:?}");

    // Restored, then the last event removed: the head no longer matches.
    store
        .execute("UPDATE audit_events SET actor = 'ana.lopez' WHERE seq = 2")
        .await
        .expect("restore");
    assert!(archive.verify_audit().await.expect("verify").broken.is_none());
    store
        .execute("DELETE FROM audit_events WHERE seq = 4")
        .await
        .expect("remove");
    let report = archive.verify_audit().await.expect("verify");
    assert_eq!(report.broken.as_ref().map(|b| b.seq), Some(4), "{report:?}");
}
crate::archive_conformance!(the_audit_chain_checks_and_a_tampered_event_is_found);
