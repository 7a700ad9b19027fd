-- The people a document names who sign its printed paper (by field,
-- comma-separated: `representante,asistentes[2]`), while the scan of the
-- signed paper is not attached; NULL when none is awaited.
ALTER TABLE documents ADD COLUMN paper_pending TEXT;
