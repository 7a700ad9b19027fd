//! Ids that reveal nothing across offices: every document, draft,
//! expediente, hand signature, token and user is named outside the
//! database by 128 random bits, so an office cannot count another's work
//! from its own ids, guess a neighbour's by adding one, or tell a
//! malformed id from one of another office.

use std::collections::HashSet;

use axum::http::StatusCode;
use sello::accounts::Role;
use sello::archive::{Archive, BlobStore, Office, Store};
use sello::public_id::PublicId;
use serde_json::{Value, json};
use sqlx::migrate::Migrator;

use crate::http::Service;
use crate::service::{as_refs, example_fields};
use crate::workflows::draft;
use crate::{Fixture, example, example_now};

const OFFICE: &str = "DIF-SLP";
const OTHER: &str = "DIF-OTRA";

/// A public id as the API gives it: 32 lower-case hexadecimal digits.
fn id_of(value: &Value) -> PublicId {
    let text = value.as_str().unwrap_or_else(|| panic!("an id is text: {value}"));
    assert_eq!(text.len(), 32, "{text}");
    assert!(
        text.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{text}"
    );
    PublicId::parse(text).expect("a public id")
}

/// The ids as numbers: random ones are far apart, ids that count are not.
fn far_apart(ids: &[PublicId]) {
    let numbers: Vec<u128> = ids
        .iter()
        .map(|id| u128::from_str_radix(&id.to_string(), 16).expect("hex"))
        .collect();
    for (i, a) in numbers.iter().enumerate() {
        for b in &numbers[i + 1..] {
            assert!(
                a.abs_diff(*b) > 1 << 64,
                "{a:032x} and {b:032x} are close: one is derivable from the other"
            );
        }
    }
}

/// Two offices issue documents, start drafts and open expedientes, each
/// after the other: nothing in the ids says how many of each there are,
/// nor leads from one office's ids to the other's.
async fn two_offices_get_ids_that_share_no_sequence(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    service
        .state
        .accounts
        .create_office(OTHER, "Otra oficina", "admin.otra")
        .await
        .expect("office");
    let mut tokens = Vec::new();
    for office in [OFFICE, OTHER, OFFICE, OTHER] {
        let name = format!("firmante.{}.{}", office.to_lowercase(), tokens.len());
        let (user, _) = service.user(office, &name, Role::Firmante).await;
        tokens.push(service.token(&user).await);
    }
    let (mut documents, mut expedientes, mut drafts) = (Vec::new(), Vec::new(), Vec::new());
    // Each office in turn, so that counters shared by both would show.
    for (round, token) in tokens.iter().enumerate() {
        let mut data = example("carta-compromiso");
        data["familia_id"] = json!(format!("FAM-{round}"));
        let issued = service
            .api(
                "POST",
                "/api/v1/documents",
                Some(token),
                Some(json!({"form": "carta-compromiso", "data": data, "firmaran_en_papel": true})),
            )
            .await;
        assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text());
        let issued = issued.json();
        documents.push(id_of(&issued["document"]["id"]));
        expedientes.push(id_of(&issued["document"]["expediente_id"]));
        drafts.push(
            draft(
                &service,
                token,
                "oficio-comision",
                &example_now("oficio-comision"),
            )
            .await,
        );
    }
    let all: Vec<PublicId> = [&documents, &expedientes, &drafts]
        .into_iter()
        .flatten()
        .copied()
        .collect();
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), all.len(), "unique");
    far_apart(&all);

    // The database still counts, inside: the first document of the other
    // office is its archive's second row, which no id shows.
    let theirs = fixture
        .archive
        .for_office(Office::new(OTHER, "Otra oficina"))
        .document(&documents[1].to_string())
        .await
        .expect("the other office's document, from its own archive");
    assert_eq!(theirs.row_id, 2);
    for id in &all {
        for small in 1..=8 {
            assert_ne!(id.to_string(), format!("{small:032x}"));
        }
    }
    // And each office finds only its own, by any of them.
    for (round, token) in tokens.iter().enumerate() {
        for (other_round, document) in documents.iter().enumerate() {
            let answer = service
                .api("GET", &format!("/api/v1/documents/{document}"), Some(token), None)
                .await;
            let same_office = round % 2 == other_round % 2;
            let expected = if same_office {
                StatusCode::OK
            } else {
                StatusCode::NOT_FOUND
            };
            assert_eq!(answer.status, expected, "round {round} asks for {other_round}'s");
        }
    }
}
crate::archive_conformance!(two_offices_get_ids_that_share_no_sequence);

/// What the integer ids used to open: with a document, a draft, an
/// expediente, a hand signature, a token and users all at row 1, the
/// addresses with a 1 in them find nothing, on a page or in the API.
async fn a_guessed_integer_id_finds_nothing(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let (user, password) = service.user(OFFICE, "directora", Role::Administrador).await;
    let token = service.token(&user).await;
    let record = fixture
        .issue("oficio-comision", &example("oficio-comision"))
        .await;
    assert_eq!(record.row_id, 1, "the first document is row 1");
    let draft_id = draft(
        &service,
        &token,
        "oficio-comision",
        &example_now("oficio-comision"),
    )
    .await;
    let scan = service
        .api(
            "POST",
            &format!("/api/v1/documents/{}/hand-signatures", record.id),
            Some(&token),
            Some(json!({
                "kind": "papel",
                "purpose": "Acuse de recibo",
                "media_type": "application/pdf",
                "content_base64": data_encoding::BASE64.encode(b"%PDF-1.7\n%%EOF\n"),
            })),
        )
        .await;
    assert_eq!(scan.status, StatusCode::CREATED, "{}", scan.text());
    let signature = id_of(&scan.json()["hand_signatures"][0]["id"]);

    let mut browser = service.browser("directora", &password).await;
    // The real ids open what they name…
    for page in [
        format!("/documentos/{}", record.id),
        format!("/expedientes/{}", record.expediente_id),
        format!("/borradores/{draft_id}"),
        format!("/documentos/{}/firmas/{signature}", record.id),
    ] {
        assert_eq!(browser.get(&page).await.status, StatusCode::OK, "{page}");
    }
    // …and what counting would guess opens nothing.
    for page in [
        "/documentos/1".to_owned(),
        "/documentos/1/pdf".to_owned(),
        "/expedientes/1".to_owned(),
        "/expedientes/1/exportar".to_owned(),
        "/borradores/1".to_owned(),
        "/borradores/1/vista-previa".to_owned(),
        format!("/documentos/{}/firmas/1", record.id),
        "/lotes/1".to_owned(),
    ] {
        let answer = browser.get(&page).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{page}: {}", answer.text());
    }
    let revoked = browser.post("/cuenta", "/cuenta/tokens/1/revocar", &[]).await;
    assert_eq!(revoked.status, StatusCode::NOT_FOUND);
    let reset = browser.post("/admin", "/admin/usuarios/1/contrasena", &[]).await;
    assert_eq!(reset.status, StatusCode::NOT_FOUND);
    for uri in [
        "/api/v1/documents/1".to_owned(),
        "/api/v1/documents/1/pdf".to_owned(),
        "/api/v1/expedientes/1".to_owned(),
        "/api/v1/drafts/1".to_owned(),
        format!("/api/v1/documents/{}/hand-signatures/1", record.id),
    ] {
        let answer = service.api("GET", &uri, Some(&token), None).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{uri}: {}", answer.text());
        assert_eq!(answer.json()["error"]["code"], "not_found", "{uri}");
    }
    let answer = service
        .api("POST", "/api/v1/drafts/1/submit", Some(&token), None)
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.text());
}
crate::archive_conformance!(a_guessed_integer_id_finds_nothing);

/// Anything that is not an id, where an id goes, is a missing page — the
/// same answer as another office's id — and never a failure of the service.
async fn a_malformed_id_is_not_found_and_never_a_failure(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let (user, password) = service.user(OFFICE, "directora", Role::Administrador).await;
    let token = service.token(&user).await;
    let record = fixture
        .issue("oficio-comision", &example("oficio-comision"))
        .await;
    let real = record.id.to_string();
    let malformed = [
        "x".to_owned(),
        "-1".to_owned(),
        "0".to_owned(),
        "1e3".to_owned(),
        "%27%20OR%201%3D1".to_owned(),
        "%00".to_owned(),
        "%C3%B1".to_owned(),
        real.to_uppercase(),
        format!("{real}0"),
        real[1..].to_owned(),
        format!("{}g", &real[1..]),
        "9".repeat(40),
    ];
    let mut browser = service.browser("directora", &password).await;
    for bad in &malformed {
        for page in [
            format!("/documentos/{bad}"),
            format!("/expedientes/{bad}"),
            format!("/expedientes/{bad}/exportar"),
            format!("/borradores/{bad}"),
            format!("/borradores/{bad}/vista-previa"),
            format!("/documentos/{real}/firmas/{bad}"),
            format!("/borradores/{bad}/firmas/{bad}"),
            format!("/lotes/{bad}"),
            format!("/lotes/{bad}/errores.csv"),
        ] {
            let answer = browser.get(&page).await;
            assert_eq!(answer.status, StatusCode::NOT_FOUND, "{page}: {}", answer.text());
        }
        for uri in [
            format!("/api/v1/documents/{bad}"),
            format!("/api/v1/expedientes/{bad}"),
            format!("/api/v1/drafts/{bad}"),
            format!("/api/v1/documents/{real}/hand-signatures/{bad}"),
        ] {
            let answer = service.api("GET", &uri, Some(&token), None).await;
            assert_eq!(answer.status, StatusCode::NOT_FOUND, "{uri}: {}", answer.text());
            assert_eq!(answer.json()["error"]["code"], "not_found", "{uri}");
        }
    }

    // Another office's draft looks exactly like one that never was.
    service
        .state
        .accounts
        .create_office(OTHER, "Otra oficina", "admin.otra")
        .await
        .expect("office");
    let (outsider, _) = service.user(OTHER, "ajena", Role::Firmante).await;
    let outsider = service.token(&outsider).await;
    let mine = draft(
        &service,
        &token,
        "oficio-comision",
        &example_now("oficio-comision"),
    )
    .await;
    let never = PublicId::generate().expect("random");
    let asked = |id: PublicId| {
        let (service, outsider) = (&service, &outsider);
        async move {
            let answer = service
                .api("GET", &format!("/api/v1/drafts/{id}"), Some(outsider), None)
                .await;
            (answer.status, answer.text().replace(&id.to_string(), "…"))
        }
    };
    let (theirs, missing) = (asked(mine).await, asked(never).await);
    assert_eq!(theirs.0, StatusCode::NOT_FOUND);
    assert_eq!(
        theirs, missing,
        "another office's draft and none at all answer alike"
    );
}
crate::archive_conformance!(a_malformed_id_is_not_found_and_never_a_failure);

/// What clerks read names a draft by its form and day and an expediente by
/// its title; a lote by when it was uploaded. No page prints a count.
async fn pages_name_drafts_and_expedientes_by_what_they_are(fixture: &Fixture) {
    let service = Service::new(fixture).await;
    let (_, password) = service.user(OFFICE, "auxiliar", Role::Capturista).await;
    let record = fixture
        .issue("carta-compromiso", &example("carta-compromiso"))
        .await;
    let mut browser = service.browser("auxiliar", &password).await;
    let mut fields = example_fields("oficio-comision");
    fields.push(("_accion".into(), "guardar".into()));
    let saved = browser
        .post(
            "/formularios/oficio-comision",
            "/formularios/oficio-comision",
            &as_refs(&fields),
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    let draft_page = saved.location();
    let draft = PublicId::parse(draft_page.trim_start_matches("/borradores/")).expect("a public id");
    let page = browser.get(&draft_page).await.text();
    assert!(page.contains("(borrador del "), "{page}");
    assert!(!page.contains("borrador 1"), "{page}");
    let home = browser.get("/").await.text();
    assert!(home.contains(&format!("/borradores/{draft}")), "{home}");
    assert!(!home.contains("Borrador 1"), "{home}");

    let expediente = fixture
        .archive
        .expediente(record.expediente_id)
        .await
        .expect("expediente");
    let page = browser.get(&format!("/documentos/{}", record.id)).await.text();
    assert!(page.contains(&expediente.title), "{page}");
    assert!(!page.contains("Expediente 1"), "{page}");
    let page = browser
        .get(&format!("/expedientes/{}", record.expediente_id))
        .await
        .text();
    assert!(
        page.contains(&format!("Expediente: {}", expediente.title)),
        "{page}"
    );
}
crate::archive_conformance!(pages_name_drafts_and_expedientes_by_what_they_are);

/// The migrations before public ids.
async fn before_public_ids(engine: &str) -> Migrator {
    crate::upgrade::migrations_before(engine, 9).await
}

/// An archive from before public ids, with two of each kind of row.
const SEED: [&str; 11] = [
    "INSERT INTO offices (code, name) VALUES ('DIF-SLP', 'DIF Soledad')",
    "INSERT INTO series (office_code, code, name) VALUES ('DIF-SLP', 'CA', 'Cartas')",
    "INSERT INTO users (office_code, username, display_name, cargo, role, password_hash, created_at) \
     VALUES ('DIF-SLP', 'ana', 'Ana', '', 'capturista', 'x', '2026-01-05T10:00:00Z'), \
     ('DIF-SLP', 'eva', 'Eva', '', 'firmante', 'x', '2026-01-05T10:00:00Z')",
    "INSERT INTO api_tokens (user_id, name, token_sha256, created_at) \
     VALUES (1, 'a', 'a1', '2026-01-05T10:00:00Z'), (2, 'b', 'b2', '2026-01-05T10:00:00Z')",
    "INSERT INTO expedientes (office_code, kind, key, title, opened_on, retention) \
     VALUES ('DIF-SLP', 'familia', 'FAM-1', 'Familia 1', '2026-01-05', '10 años'), \
     ('DIF-SLP', 'familia', 'FAM-2', 'Familia 2', '2026-01-05', '10 años')",
    "INSERT INTO documents (office_code, series_code, year, number, folio, form, expediente_id, status, data, \
     request_sha256, issued_at, issued_on, issued_by, reserved_at, annulled_at, annulled_by, annul_reason) \
     VALUES ('DIF-SLP', 'CA', 2026, 1, 'DIF-SLP/CA/2026/0001', 'carta-compromiso', 1, 'anulado', '{}', 'r1', \
     '2026-01-05T10:00:00Z', '2026-01-05', 'ana', '2026-01-05T10:00:00Z', '2026-01-05T10:00:01Z', 'sello', 'x')",
    "INSERT INTO documents (office_code, series_code, year, number, folio, form, expediente_id, status, data, \
     request_sha256, issued_at, issued_on, issued_by, reserved_at, annulled_at, annulled_by, annul_reason) \
     VALUES ('DIF-SLP', 'CA', 2026, 2, 'DIF-SLP/CA/2026/0002', 'carta-compromiso', 2, 'anulado', '{}', 'r2', \
     '2026-01-05T10:00:00Z', '2026-01-05', 'ana', '2026-01-05T10:00:00Z', '2026-01-05T10:00:01Z', 'sello', 'x')",
    "INSERT INTO drafts (office_code, form, data, created_by, created_at, updated_at) \
     VALUES ('DIF-SLP', 'oficio-comision', '{}', 1, '2026-01-05T10:00:00Z', '2026-01-05T10:00:00Z')",
    "INSERT INTO drafts (office_code, form, data, created_by, created_at, updated_at) \
     VALUES ('DIF-SLP', 'oficio-comision', '{}', 1, '2026-01-06T10:00:00Z', '2026-01-06T10:00:00Z')",
    "INSERT INTO hand_signatures (office_code, document_id, signer, name, kind, purpose, blob_sha256, media_type, \
     size_bytes, consent, device, user_id, at) VALUES ('DIF-SLP', 1, '', 'Ana', 'papel', 'Acuse', 'abc', \
     'application/pdf', 3, FALSE, 'x', 1, '2026-01-05T10:00:00Z')",
    "INSERT INTO hand_signatures (office_code, document_id, signer, name, kind, purpose, blob_sha256, media_type, \
     size_bytes, consent, device, user_id, at) VALUES ('DIF-SLP', 2, '', 'Eva', 'papel', 'Acuse', 'abc', \
     'application/pdf', 3, FALSE, 'x', 2, '2026-01-05T10:00:00Z')",
];

const TABLES: [&str; 6] = [
    "documents",
    "drafts",
    "expedientes",
    "hand_signatures",
    "api_tokens",
    "users",
];

/// Rows made before public ids get random ones when the archive is opened,
/// and are found by them; a row without one is refused from then on.
async fn an_archive_from_before_public_ids_gets_them_for_its_rows(store: Store) {
    let mut given = Vec::new();
    for table in TABLES {
        let sql = format!("SELECT public_id FROM {table} ORDER BY id");
        let ids: Vec<String> = sqlx::query_scalar(&sql)
            .fetch_all(store.pool())
            .await
            .expect(table);
        assert_eq!(ids.len(), 2, "{table}");
        given.extend(ids.iter().map(|id| PublicId::parse(id).expect("well-formed")));
    }
    assert_eq!(given.iter().collect::<HashSet<_>>().len(), given.len(), "unique");
    far_apart(&given);

    let blobs_dir = tempfile::tempdir().expect("temp dir");
    let blobs = BlobStore::open(blobs_dir.path().to_str().expect("utf-8")).expect("blobs");
    let archive = Archive::new(
        store.clone(),
        blobs,
        Office::new(OFFICE, "DIF Soledad"),
        Default::default(),
    );
    let first = archive
        .document(&given[0].to_string())
        .await
        .expect("found by its new id");
    assert_eq!(first.folio, "DIF-SLP/CA/2026/0001");
    assert_eq!(first.expediente_id, given[4]);
    let expediente = archive.expediente(given[5]).await.expect("found by its new id");
    assert_eq!(expediente.title, "Familia 2");
    assert_eq!(
        archive.draft(given[3]).await.expect("found").created_at,
        "2026-01-06T10:00:00Z"
    );
    assert!(
        store
            .execute(
                "INSERT INTO expedientes (office_code, kind, key, title, opened_on, retention) \
                 VALUES ('DIF-SLP', 'familia', 'FAM-3', 'Familia 3', '2026-01-05', '10 años')"
            )
            .await
            .is_err(),
        "a row without its public id"
    );
}

#[tokio::test]
async fn a_sqlite_archive_from_before_public_ids_gets_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = crate::upgrade::old_sqlite_archive(dir.path(), 9, &SEED).await;
    let store = Store::open(&url).await.expect("upgrades");
    an_archive_from_before_public_ids_gets_them_for_its_rows(store).await;
}

#[tokio::test]
async fn a_postgres_archive_from_before_public_ids_gets_them() {
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&crate::postgres_url())
        .await
        .expect("the test PostgreSQL is running");
    let name = format!(
        "sello_test_ids_{}",
        &PublicId::generate().expect("random").to_string()[..12]
    );
    sqlx::query(&format!("CREATE SCHEMA {name}"))
        .execute(&admin)
        .await
        .expect("create schema");
    let schema = crate::PostgresSchema { admin, name };
    {
        let options: sqlx::postgres::PgConnectOptions = crate::postgres_url().parse().expect("url");
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect_with(options.options([("search_path", schema.name.as_str())]))
            .await
            .expect("connects");
        before_public_ids("postgres")
            .await
            .run(&pool)
            .await
            .expect("migrates to 8");
        for statement in SEED {
            sqlx::query(statement).execute(&pool).await.expect(statement);
        }
        pool.close().await;
    }
    let store = Store::open_postgres_schema(&crate::postgres_url(), &schema.name)
        .await
        .expect("upgrades");
    an_archive_from_before_public_ids_gets_them_for_its_rows(store).await;
    schema.drop_now().await;
}
