//! The archive with its PDFs in an S3 bucket, against a real S3-protocol
//! server (s3s-fs) started here, in-process, on a random port.

use std::net::SocketAddr;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnectionBuilder;
use object_store::aws::AmazonS3Builder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use sello::archive::{BlobError, BlobStore, BucketBlobs, sha256_hex};

use crate::{Fixture, example};

pub(crate) const ACCESS_KEY: &str = "sello-test";
pub(crate) const SECRET_KEY: &str = "sello-test-secret";
pub(crate) const BUCKET: &str = "archivo";
const PREFIX: &str = "dif-slp/pdf";

/// A running S3 server over a temporary folder; stops when dropped.
pub(crate) struct TestS3 {
    pub(crate) address: SocketAddr,
    root: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestS3 {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl TestS3 {
    pub(crate) async fn start() -> Self {
        let root = tempfile::tempdir().expect("temp");
        // In s3s-fs a bucket is a folder of the root.
        std::fs::create_dir(root.path().join(BUCKET)).expect("bucket");
        let service = {
            let mut builder = S3ServiceBuilder::new(s3s_fs::FileSystem::new(root.path()).expect("s3s-fs"));
            builder.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
            builder.build()
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let server = tokio::spawn(async move {
            let http = ConnectionBuilder::new(TokioExecutor::new());
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let connection = http
                    .serve_connection(TokioIo::new(socket), service.clone())
                    .into_owned();
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
        });
        Self {
            address,
            root,
            server,
        }
    }

    fn blobs(&self, secret: &str) -> BlobStore {
        let builder = AmazonS3Builder::new()
            .with_endpoint(format!("http://{}", self.address))
            .with_allow_http(true)
            .with_virtual_hosted_style_request(false)
            .with_region("us-east-1")
            .with_bucket_name(BUCKET)
            .with_access_key_id(ACCESS_KEY)
            .with_secret_access_key(secret)
            .with_retry(object_store::RetryConfig {
                max_retries: 0,
                ..Default::default()
            });
        BlobStore::S3(BucketBlobs::with_builder(builder, PREFIX).expect("bucket"))
    }

    /// Where s3s-fs keeps an object, to damage it behind the store's back.
    fn file_of(&self, sha256: &str) -> std::path::PathBuf {
        self.root
            .path()
            .join(BUCKET)
            .join(PREFIX)
            .join(&sha256[0..2])
            .join(&sha256[2..4])
            .join(format!("{sha256}.pdf"))
    }

    /// Where s3s-fs keeps an object moved to quarantine.
    fn quarantined_file_of(&self, sha256: &str) -> std::path::PathBuf {
        self.root
            .path()
            .join(BUCKET)
            .join(PREFIX)
            .join(sello::archive::QUARANTINE)
            .join(&sha256[0..2])
            .join(&sha256[2..4])
            .join(format!("{sha256}.pdf"))
    }
}

async fn fixture_on_s3(s3: &TestS3) -> Fixture {
    let (store, dir) = crate::sqlite().await;
    let mut fixture = Fixture::new(store, Some(dir), None).await;
    let office = fixture.archive.office().clone();
    fixture.archive = sello::archive::Archive::new(
        fixture.archive.store().clone(),
        s3.blobs(SECRET_KEY),
        office,
        sello::archive::FolioFormat::default(),
    );
    fixture
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn documents_are_stored_in_the_bucket_read_back_and_checked() {
    let s3 = TestS3::start().await;
    let fixture = fixture_on_s3(&s3).await;
    let archive = &fixture.archive;
    let oficio = fixture
        .issue("oficio-comision", &example("oficio-comision"))
        .await;
    let carta = fixture
        .issue("carta-compromiso", &example("carta-compromiso"))
        .await;
    let oficio_sha = oficio.pdf_sha256.clone().expect("sha");
    assert!(
        s3.file_of(&oficio_sha).is_file(),
        "the PDF is in the bucket under its hash"
    );
    assert_eq!(sha256_hex(&archive.pdf(&oficio).await.expect("pdf")), oficio_sha);
    assert!(archive.fsck(false).await.expect("fsck").is_clean());

    // Damaged and missing objects are found; orphans are listed and moved
    // under the quarantine prefix, never deleted.
    std::fs::write(s3.file_of(&oficio_sha), b"%PDF-1.7 otra cosa").expect("damage");
    assert!(matches!(
        archive.pdf(&oficio).await,
        Err(sello::archive::ArchiveError::Blob(BlobError::Corrupt { .. }))
    ));
    std::fs::remove_file(s3.file_of(carta.pdf_sha256.as_deref().expect("sha"))).expect("remove");
    let orphan = archive
        .blobs()
        .put(b"%PDF-1.7 huerfano".to_vec())
        .await
        .expect("put");
    let report = archive.fsck(true).await.expect("fsck");
    assert_eq!(report.problems.len(), 2, "{report:?}");
    assert_eq!(report.orphans, vec![orphan.clone()]);
    assert_eq!(report.orphans_quarantined, 1);
    assert!(!s3.file_of(&orphan).exists());
    assert!(s3.quarantined_file_of(&orphan).is_file());
    assert!(archive.blobs().in_quarantine(&orphan).await.expect("look"));
    assert_eq!(archive.blobs().list().await.expect("list"), vec![oficio_sha]);
    assert!(!archive.fsck(false).await.expect("fsck").orphans.contains(&orphan));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_that_refuses_the_credentials_issues_nothing_and_records_the_folio() {
    let s3 = TestS3::start().await;
    let mut fixture = fixture_on_s3(&s3).await;
    let office = fixture.archive.office().clone();
    fixture.archive = sello::archive::Archive::new(
        fixture.archive.store().clone(),
        s3.blobs("wrong-secret"),
        office,
        sello::archive::FolioFormat::default(),
    );
    let failed = fixture
        .issue_on("oficio-comision", &example("oficio-comision"), 22, None)
        .await;
    assert!(failed.is_err());
    let spoiled = fixture
        .archive
        .document("DIF-SLP/OF/2026/0001")
        .await
        .expect("recorded");
    assert_eq!(spoiled.status, "anulado");
    assert!(spoiled.pdf_sha256.is_none());
    assert!(
        spoiled
            .annul_reason
            .as_deref()
            .is_some_and(|r| r.contains("emisión fallida"))
    );
}
