-- Bulk lotes started from the web app, kept in the database so that any
-- instance serves their page and downloads, during and after the run,
-- and a restart loses nothing. The run itself is a job of the queue
-- (migration 0020, kind 'lote'); this is what it works on and what it
-- found. Yes/no columns are integers on both engines.
CREATE TABLE lotes (
    id BIGSERIAL PRIMARY KEY,
    public_id TEXT NOT NULL UNIQUE,
    office_code TEXT NOT NULL,
    form TEXT NOT NULL,
    file_name TEXT NOT NULL,
    on_paper BIGINT NOT NULL,
    -- When its documents are dated (RFC 3339) and in which time zone.
    issued_at TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    total_rows BIGINT NOT NULL,
    valid_rows BIGINT NOT NULL,
    -- JSON: the columns no field reads.
    unused_columns TEXT NOT NULL,
    -- Who signs and who is recorded as issuing (the uploader).
    signer TEXT NOT NULL,
    cargo TEXT NOT NULL,
    actor TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    finished_at BIGINT,
    -- Why it could not run at all.
    failure TEXT,
    -- JSON: the tomos of its padrón once issued, [[public id, folio]].
    padron TEXT
);
CREATE INDEX lotes_office ON lotes (office_code, created_at);

-- Its valid rows, each with its idempotency key, and once done what it
-- became: 'emitido' (issued now or by an earlier run: the document) or
-- 'fallido' (a problem in lote_problems).
CREATE TABLE lote_rows (
    lote_id BIGINT NOT NULL REFERENCES lotes (id),
    line BIGINT NOT NULL,
    data TEXT NOT NULL,
    expediente TEXT,
    row_key TEXT NOT NULL,
    outcome TEXT,
    -- The document: its key, public id, folio and verification address.
    document_id BIGINT REFERENCES documents (id),
    document TEXT,
    folio TEXT,
    url TEXT,
    PRIMARY KEY (lote_id, line)
);

-- What is wrong with a row, found when the file was checked or when the
-- row was issued.
CREATE TABLE lote_problems (
    lote_id BIGINT NOT NULL REFERENCES lotes (id),
    line BIGINT NOT NULL,
    column_name TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX lote_problems_lote ON lote_problems (lote_id, line);
