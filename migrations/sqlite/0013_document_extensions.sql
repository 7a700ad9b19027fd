-- Evidence added to issued documents (PAdES B-LT, B-LTA). A document
-- issued while no time-stamping authority answered awaits its time-stamp
-- since the moment given (NULL otherwise, and once stamped).
ALTER TABLE documents ADD COLUMN awaiting_timestamp_since TEXT;
-- When the newest evidence of a document's signature expires: its newest
-- time-stamp's certificates, or its signing chain while it has none. NULL
-- until known (documents from before this migration).
ALTER TABLE documents ADD COLUMN evidence_until TEXT;
CREATE INDEX documents_awaiting_timestamp ON documents (awaiting_timestamp_since)
    WHERE awaiting_timestamp_since IS NOT NULL;
CREATE INDEX documents_evidence_until ON documents (evidence_until);

-- Each extension of a document's PDF by incremental update: a document
-- time-stamp ('sello_de_tiempo', for one issued awaiting it) or an
-- archival one ('archivo', before the evidence expires), each with the
-- validation data it needs. `previous_sha256` is the PDF it extends (the
-- issued one, `documents.pdf_sha256`, or an earlier extension's), whose
-- bytes are a prefix of the new one's; one extension per PDF, so two
-- instances cannot both extend the same one.
CREATE TABLE document_extensions (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents (id),
    kind TEXT NOT NULL CHECK (kind IN ('sello_de_tiempo', 'archivo')),
    previous_sha256 TEXT NOT NULL,
    pdf_sha256 TEXT NOT NULL,
    pdf_size INTEGER NOT NULL,
    -- The time the new time-stamp gives, and its TSA.
    stamped_at TEXT NOT NULL,
    tsa TEXT NOT NULL,
    extended_at TEXT NOT NULL,
    UNIQUE (document_id, previous_sha256)
);
CREATE INDEX document_extensions_document ON document_extensions (document_id);
CREATE TRIGGER document_extensions_no_update BEFORE UPDATE ON document_extensions
BEGIN SELECT RAISE(ABORT, 'las extensiones de documentos no se modifican'); END;
CREATE TRIGGER document_extensions_no_delete BEFORE DELETE ON document_extensions
BEGIN SELECT RAISE(ABORT, 'las extensiones de documentos no se borran'); END;

-- Who is extending a document now: an instance claims the row before it
-- asks a TSA, so that two instances sharing one database do not both
-- stamp it. A claim older than an interrupted issuance is taken over.
CREATE TABLE extension_claims (
    document_id INTEGER PRIMARY KEY REFERENCES documents (id),
    claimed_by TEXT NOT NULL,
    claimed_at TEXT NOT NULL
);
