//! Folios: consecutive per office, series and year; never duplicated, even
//! when documents are issued concurrently.

use std::collections::BTreeSet;

use sello::archive::{Backend, FolioFormat, Store};

async fn numbers_start_at_one_per_series_and_year(store: Store) {
    store
        .ensure_series(("DIF-SLP", "DIF Soledad"), ("OF", "Oficios"))
        .await
        .expect("series");
    store
        .ensure_series(("DIF-SLP", "DIF Soledad"), ("ACT", "Actas"))
        .await
        .expect("series");
    let next = |series: &'static str, year| {
        let store = store.clone();
        async move {
            store
                .next_folio_number("DIF-SLP", series, year)
                .await
                .expect("folio")
        }
    };
    assert_eq!(next("OF", 2026).await, 1);
    assert_eq!(next("OF", 2026).await, 2);
    assert_eq!(next("ACT", 2026).await, 1, "each series counts on its own");
    assert_eq!(next("OF", 2027).await, 1, "each year starts again");
    assert_eq!(next("OF", 2026).await, 3);
    assert_eq!(
        store
            .last_folio_number("DIF-SLP", "OF", 2026)
            .await
            .expect("last"),
        3
    );
    let folio = FolioFormat::default().folio("DIF-SLP", "OF", 2026, 3);
    assert_eq!(folio.as_str(), "DIF-SLP/OF/2026/0003");
}
crate::conformance!(numbers_start_at_one_per_series_and_year);

async fn concurrent_issuance_never_duplicates_a_folio(store: Store) {
    store
        .ensure_series(("DIF", "DIF"), ("OF", "Oficios"))
        .await
        .expect("series");
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut taken = Vec::new();
                for _ in 0..25 {
                    taken.push(store.next_folio_number("DIF", "OF", 2026).await.expect("folio"));
                }
                taken
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("task"));
    }
    let unique: BTreeSet<u32> = all.iter().copied().collect();
    assert_eq!(unique.len(), all.len(), "a folio was given twice");
    assert_eq!(
        unique,
        (1..=200).collect(),
        "folios must be consecutive, without holes"
    );
}
crate::conformance!(concurrent_issuance_never_duplicates_a_folio);

async fn a_folio_counter_needs_its_series(store: Store) {
    let result = store.next_folio_number("NADIE", "OF", 2026).await;
    assert!(result.is_err(), "a folio of an unknown series must be refused");
}
crate::conformance!(a_folio_counter_needs_its_series);

#[tokio::test]
async fn the_embedded_database_writes_ahead_and_syncs_every_commit() {
    let (store, _dir) = crate::sqlite().await;
    assert_eq!(store.backend(), Backend::Sqlite);
    let pool = store.pool();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(pool)
        .await
        .expect("pragma");
    assert_eq!(mode, "wal");
    let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(pool)
        .await
        .expect("pragma");
    assert_eq!(sync, 2, "synchronous = FULL");
}

#[tokio::test]
async fn a_bad_database_url_is_refused_by_name() {
    let error = Store::open("mysql://localhost/sello").await.expect_err("refused");
    assert!(error.to_string().contains("mysql://localhost/sello"));
}
