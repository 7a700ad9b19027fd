-- A lote's row names the very document reserved for it (lote_rows.document_id,
-- recorded when its folio is reserved, before the row is done), not only a
-- key: its chunk completes that document, and the recovery of interrupted
-- issuances spares exactly the documents of rows of lotes still running.
-- The same sheet uploaded again after a failed lote has the same keys;
-- the failed lote's leftover reservations are no longer taken for its own.
CREATE INDEX lote_rows_document ON lote_rows (document_id);

-- Lotes running across the upgrade: their rows reserved so far were
-- found by key; they name their document from now on.
UPDATE lote_rows SET document_id = (
    SELECT d.id FROM documents d JOIN lotes l ON l.office_code = d.office_code
    WHERE l.id = lote_rows.lote_id AND d.idempotency_key = lote_rows.row_key
      AND d.status = 'reservado'
)
WHERE outcome IS NULL AND document_id IS NULL
  AND lote_id IN (SELECT id FROM lotes WHERE finished_at IS NULL AND awaiting_approval = 0);
