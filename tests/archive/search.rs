//! Search: accent- and case-insensitive, with filters, ranking and pages,
//! the same on both databases.

use sello::archive::{SearchQuery, SearchResults, Status};
use serde_json::Value;

use crate::{Fixture, example};

fn carta(familia_id: &str, familia: &str, representante: &str, run: &str, domicilio: &str) -> Value {
    let mut data = example("carta-compromiso");
    data["familia_id"] = familia_id.into();
    data["familia_nombre"] = familia.into();
    data["representante"]["nombre"] = representante.into();
    data["representante"]["identificacion"] = run.into();
    data["domicilio"] = domicilio.into();
    data
}

async fn search(fixture: &Fixture, query: SearchQuery) -> SearchResults {
    fixture.archive.search(&query).await.expect("search")
}

fn text(words: &str) -> SearchQuery {
    SearchQuery {
        text: words.into(),
        per_page: 20,
        ..SearchQuery::default()
    }
}

fn folios(results: &SearchResults) -> Vec<&str> {
    results.hits.iter().map(|h| h.folio.as_str()).collect()
}

async fn text_search_ignores_accents_and_case_and_filters_narrow_it(fixture: &Fixture) {
    let archive = &fixture.archive;
    let perez = carta(
        "FAM-1",
        "Familia Pérez Soto",
        "José Pérez Muñoz",
        "12.345.678-5",
        "Pasaje Los Aromos 12",
    );
    let nino = carta(
        "FAM-2",
        "Familia Rojas",
        "Carolina Rojas Díaz",
        "15.432.876-9",
        "Villa El Niño 45",
    );
    let many = carta(
        "FAM-3",
        "Familia Pérez Pérez",
        "Josefa Pérez Pérez",
        "15.432.876-9",
        "Calle Pérez 3",
    );
    let a = fixture
        .issue_on("carta-compromiso", &perez, 20, None)
        .await
        .expect("a")
        .record()
        .clone();
    let b = fixture
        .issue_on("carta-compromiso", &nino, 21, None)
        .await
        .expect("b")
        .record()
        .clone();
    let c = fixture
        .issue_on("oficio-comision", &example("oficio-comision"), 22, None)
        .await
        .expect("c")
        .record()
        .clone();
    let d = fixture
        .issue_on("carta-compromiso", &many, 22, None)
        .await
        .expect("d")
        .record()
        .clone();

    // "jose perez" finds "José Pérez"; the last word may be a prefix.
    let found = search(fixture, text("jose perez")).await;
    assert_eq!(folios(&found), [a.folio.as_str()], "{found:?}");
    assert_eq!(search(fixture, text("JOSÉ PÉR")).await.total, 1);
    assert_eq!(folios(&search(fixture, text("nino")).await), [b.folio.as_str()]);
    assert_eq!(folios(&search(fixture, text("Niño")).await), [b.folio.as_str()]);
    assert_eq!(search(fixture, text("munoz jose")).await.total, 1);
    assert_eq!(search(fixture, text("inexistente")).await.total, 0);
    // Form titles and folios are searchable too.
    assert!(folios(&search(fixture, text("oficio de comision")).await).contains(&c.folio.as_str()));
    assert_eq!(folios(&search(fixture, text(&c.folio)).await), [c.folio.as_str()]);

    // The document that says "Pérez" most ranks first.
    let ranked = search(fixture, text("perez")).await;
    assert_eq!(ranked.total, 2);
    assert_eq!(
        folios(&ranked),
        [d.folio.as_str(), a.folio.as_str()],
        "{ranked:?}"
    );

    // Filters, alone and with text.
    let by_form = search(
        fixture,
        SearchQuery {
            form: Some("oficio-comision".into()),
            ..text("")
        },
    )
    .await;
    assert_eq!(folios(&by_form), [c.folio.as_str()]);
    let by_series = search(
        fixture,
        SearchQuery {
            series: Some("CA".into()),
            ..text("")
        },
    )
    .await;
    assert_eq!(by_series.total, 3);
    let by_day = search(
        fixture,
        SearchQuery {
            from: chrono::NaiveDate::from_ymd_opt(2026, 11, 21),
            to: chrono::NaiveDate::from_ymd_opt(2026, 11, 21),
            ..text("")
        },
    )
    .await;
    assert_eq!(folios(&by_day), [b.folio.as_str()]);
    let by_expediente = search(
        fixture,
        SearchQuery {
            expediente: Some(a.expediente_id),
            ..text("")
        },
    )
    .await;
    assert_eq!(folios(&by_expediente), [a.folio.as_str()]);
    // A RUN written with or without dots finds the same person.
    let by_person = search(
        fixture,
        SearchQuery {
            person: Some("15432876-9".into()),
            ..text("")
        },
    )
    .await;
    assert_eq!(by_person.total, 2);
    let by_person_and_text = search(
        fixture,
        SearchQuery {
            person: Some("15.432.876-9".into()),
            ..text("niño")
        },
    )
    .await;
    assert_eq!(folios(&by_person_and_text), [b.folio.as_str()]);

    // Annulled documents stay findable, and the status filter tells them apart.
    archive
        .annul(&b.folio, "Datos equivocados", "director", None)
        .await
        .expect("annul");
    let annulled = search(
        fixture,
        SearchQuery {
            status: Some(Status::Anulado),
            ..text("nino")
        },
    )
    .await;
    assert_eq!(folios(&annulled), [b.folio.as_str()]);
    assert_eq!(annulled.hits[0].status, "anulado");
    let current = search(
        fixture,
        SearchQuery {
            status: Some(Status::Emitido),
            ..text("nino")
        },
    )
    .await;
    assert_eq!(current.total, 0);

    // Pages: newest first when there is no text, no document twice.
    let mut seen = Vec::new();
    for page in 1..=3 {
        let results = search(
            fixture,
            SearchQuery {
                page,
                per_page: 2,
                ..text("")
            },
        )
        .await;
        assert_eq!(results.total, 4);
        seen.extend(results.hits.iter().map(|h| h.folio.clone()));
    }
    assert_eq!(seen.len(), 4);
    assert_eq!(seen[0], d.folio, "newest first: {seen:?}");
    let unique: std::collections::BTreeSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), 4);
}
crate::archive_conformance!(text_search_ignores_accents_and_case_and_filters_narrow_it);

async fn searching_never_shows_an_issuance_in_progress(fixture: &Fixture) {
    let data = example("oficio-comision");
    let order = crate::order("oficio-comision", &data, None, None);
    fixture
        .archive
        .reserve(&order)
        .await
        .expect("reserves")
        .expect("new");
    assert_eq!(search(fixture, text("")).await.total, 0);
    assert_eq!(search(fixture, text("oficio")).await.total, 0);
}
crate::archive_conformance!(searching_never_shows_an_issuance_in_progress);

async fn identities_and_folios_are_found_as_typed_and_large_results_come_newest_first(fixture: &Fixture) {
    let carta = |familia: &str, run: &str| {
        carta(
            &format!("FAM-{familia}"),
            "Familia Rojas",
            "Carolina Rojas Díaz",
            run,
            "Villa Los Aromos 45",
        )
    };
    let mut issued = Vec::new();
    for (i, run) in ["12.345.678-5", "15.432.876-9", "15.432.876-9", "15.432.876-9"]
        .iter()
        .enumerate()
    {
        let record = fixture
            .issue_on(
                "carta-compromiso",
                &carta(&i.to_string(), run),
                20 + i as u32,
                None,
            )
            .await
            .expect("issues");
        issued.push(record.record().clone());
    }
    // A RUN typed with or without dots, in the text box.
    assert_eq!(search(fixture, text("15432876-9")).await.total, 3);
    assert_eq!(search(fixture, text("15.432.876-9")).await.total, 3);
    assert_eq!(search(fixture, text("12345678-5")).await.total, 1);
    // A folio typed whole, in any case, is that document alone.
    let folio = issued[2].folio.to_lowercase();
    assert_eq!(
        folios(&search(fixture, text(&folio)).await),
        [issued[2].folio.as_str()]
    );

    // Past the ranking limit: a lower bound, newest first, still paged.
    let archive = fixture.archive.clone().with_rank_limit(2);
    let many = archive.search(&text("carolina")).await.expect("search");
    assert!(!many.total_exact && !many.ranked, "{many:?}");
    assert_eq!(many.total, 3, "counted up to the limit and one more");
    let newest_first: Vec<&str> = issued.iter().rev().map(|d| d.folio.as_str()).collect();
    assert_eq!(folios(&many), newest_first);
    let few = archive.search(&text("12345678-5")).await.expect("search");
    assert!(few.total_exact && few.ranked);
}
crate::archive_conformance!(identities_and_folios_are_found_as_typed_and_large_results_come_newest_first);

/// A bulk run indexes its documents in batches (on SQLite). One issued but
/// still queued when the run died is found once `fsck`, or the next start,
/// indexes it; and only once, however often that runs.
async fn a_document_a_dead_run_left_unindexed_is_found_after_fsck(fixture: &Fixture) {
    let archive = &fixture.archive;
    let data = carta(
        "FAM-9",
        "Familia Quispe Mamani",
        "Rosa Quispe Mamani",
        "12.345.678-5",
        "Pasaje Los Aromos 9",
    );
    let order = crate::order("carta-compromiso", &data, None, None);
    let reservation = archive
        .reserve(&order)
        .await
        .expect("reserve")
        .expect("a new document");
    let request = sello::signed_pdf::IssueRequest {
        form: order.form,
        data: &data,
        issued_at: order.issued_at,
        folio: Some(reservation.folio.to_string()),
        signer: "Mtra. Guadalupe Torres Medina",
        cargo: "Directora",
        endorsements: &[],
        hand_signatures: &[],
        on_paper: &[],
        citations: &[],
    };
    let document = sello::signed_pdf::issue(&crate::RENDERER, &fixture.key, crate::BASE_URL, &request)
        .expect("rendered");
    let record = archive
        .complete_in_batch(&reservation, &order, &document)
        .await
        .expect("issued");
    assert_eq!(record.status, "emitido");

    let report = archive.fsck(false).await.expect("fsck");
    let queued = match archive.store().backend() {
        sello::archive::Backend::Sqlite => 1,
        // PostgreSQL indexes every document as it is issued.
        sello::archive::Backend::Postgres => 0,
    };
    assert_eq!(report.search_indexed, queued);
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(
        folios(&search(fixture, text("quispe mamani")).await),
        [record.folio.as_str()]
    );

    let again = archive.fsck(false).await.expect("fsck");
    assert_eq!(again.search_indexed, 0);
    let found = search(fixture, text("rosa quispe")).await;
    assert_eq!(found.total, 1, "indexed once");
}
crate::archive_conformance!(a_document_a_dead_run_left_unindexed_is_found_after_fsck);
