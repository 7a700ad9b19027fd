//! The documents of a lote joined into one PDF for printing, in row order.
//! Produced as a stream of chunks, one document at a time, so the terminal
//! writes it to a file and the web app sends it as it is made, with one
//! document in memory whatever the size of the lote.

use futures::{Stream, StreamExt as _};

use crate::archive::Archive;
use crate::pdf::MergedPdf;

/// What is left to join.
struct Joining {
    archive: Archive,
    merged: MergedPdf,
    ids: std::vec::IntoIter<i64>,
}

/// The PDF joining the documents `ids` (the database's keys), in that
/// order, as chunks of bytes.
/// An error ends the stream; what was sent before it is not a valid PDF.
pub fn merged_pdf(archive: Archive, ids: Vec<i64>) -> impl Stream<Item = std::io::Result<Vec<u8>>> + Send {
    let (merged, header) = MergedPdf::start();
    let first = futures::stream::once(std::future::ready(Ok(header)));
    let joining = Joining {
        archive,
        merged,
        ids: ids.into_iter(),
    };
    // The state is `None` once the file is finished or has failed.
    let rest = futures::stream::unfold(Some(joining), |state| async move {
        let mut joining = state?;
        let Some(id) = joining.ids.next() else {
            return Some((Ok(joining.merged.finish()), None));
        };
        match next_document(&joining.archive, &mut joining.merged, id).await {
            Ok(bytes) => Some((Ok(bytes), Some(joining))),
            Err(message) => {
                tracing::warn!(document.row_id = id, error = %message, "no se pudo unir un documento del lote");
                Some((Err(std::io::Error::other(message)), None))
            }
        }
    });
    first.chain(rest)
}

async fn next_document(archive: &Archive, merged: &mut MergedPdf, id: i64) -> Result<Vec<u8>, String> {
    let document = archive.document_by_row(id).await.map_err(|e| e.to_string())?;
    let pdf = archive.pdf(&document).await.map_err(|e| e.to_string())?;
    merged
        .append(&pdf)
        .map_err(|e| format!("no se pudo unir el folio {}: {e}", document.folio))
}
