-- Expedientes, persons, documents, signatures, the audit trail and the
-- search index. Nothing here is ever deleted: triggers refuse it.

-- A case file: of a family, a person, a working group, a community, a
-- programme, or the office's own administrative papers of a series and year.
CREATE TABLE expedientes (
    id INTEGER PRIMARY KEY,
    office_code TEXT NOT NULL REFERENCES offices (code),
    kind TEXT NOT NULL
        CHECK (kind IN ('familia', 'persona', 'grupo', 'comunidad', 'programa', 'administrativo')),
    -- What identifies it within the office and kind: a familia_id, a CURP…
    key TEXT NOT NULL,
    title TEXT NOT NULL,
    opened_on TEXT NOT NULL,
    closed_on TEXT,
    retention TEXT NOT NULL,
    UNIQUE (office_code, kind, key)
);

-- A beneficiary or participant, known by a national identity number.
CREATE TABLE persons (
    id INTEGER PRIMARY KEY,
    office_code TEXT NOT NULL REFERENCES offices (code),
    -- Upper case, without dots or spaces, so «15.432.876-9» = «15432876-9».
    identity TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (office_code, identity)
);

CREATE TABLE expediente_persons (
    expediente_id INTEGER NOT NULL REFERENCES expedientes (id),
    person_id INTEGER NOT NULL REFERENCES persons (id),
    PRIMARY KEY (expediente_id, person_id)
);

-- A document's folio is taken when its issuance starts ('reservado'); the
-- row becomes 'emitido' only once its PDF is stored. A failed or
-- interrupted issuance turns 'anulado', so its folio is recorded, never
-- reused and never silently missing.
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    office_code TEXT NOT NULL,
    series_code TEXT NOT NULL,
    year INTEGER NOT NULL,
    number INTEGER NOT NULL,
    folio TEXT NOT NULL,
    form TEXT NOT NULL,
    expediente_id INTEGER NOT NULL REFERENCES expedientes (id),
    status TEXT NOT NULL CHECK (status IN ('reservado', 'emitido', 'anulado', 'reemplazado')),
    data TEXT NOT NULL,
    -- SHA-256 of the form and its data in canonical form: what an
    -- idempotency key is compared against.
    request_sha256 TEXT NOT NULL,
    idempotency_key TEXT,
    data_sha256 TEXT,
    code_hash TEXT UNIQUE,
    -- Printed on the document and held in its QR; kept for exports.
    verification_url TEXT,
    pdf_sha256 TEXT,
    pdf_size INTEGER,
    pages INTEGER,
    issued_at TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    issued_by TEXT NOT NULL,
    reserved_at TEXT NOT NULL,
    annulled_at TEXT,
    annulled_by TEXT,
    annul_reason TEXT,
    replaced_by INTEGER REFERENCES documents (id),
    UNIQUE (office_code, series_code, year, number),
    UNIQUE (office_code, folio),
    UNIQUE (office_code, idempotency_key),
    FOREIGN KEY (office_code, series_code) REFERENCES series (office_code, code),
    CHECK (status = 'reservado' OR status = 'anulado' OR (code_hash IS NOT NULL AND pdf_sha256 IS NOT NULL))
);
CREATE INDEX documents_expediente ON documents (expediente_id);
CREATE INDEX documents_issued_on ON documents (office_code, issued_on);
CREATE INDEX documents_form ON documents (form, issued_on);

CREATE TABLE document_persons (
    document_id INTEGER NOT NULL REFERENCES documents (id),
    person_id INTEGER NOT NULL REFERENCES persons (id),
    -- The field that names the person: «representante», «asistentes[3]».
    role TEXT NOT NULL,
    PRIMARY KEY (document_id, person_id, role)
);
CREATE INDEX document_persons_person ON document_persons (person_id);

CREATE TABLE signatures (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents (id),
    key_id TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    signer TEXT NOT NULL,
    cargo TEXT NOT NULL,
    signed_at TEXT NOT NULL
);
CREATE INDEX signatures_document ON signatures (document_id);

-- Who did what, when. Each event carries the hash of the one before, so
-- a changed, removed or inserted event breaks the chain.
CREATE TABLE audit_events (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    office_code TEXT,
    document_id INTEGER,
    expediente_id INTEGER,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_events_document ON audit_events (document_id);
CREATE INDEX audit_events_expediente ON audit_events (expediente_id);

-- The chain's head: updating it first serialises every appender.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
    VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'los eventos de auditoría no se modifican'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'los eventos de auditoría no se borran'); END;
CREATE TRIGGER documents_no_delete BEFORE DELETE ON documents
BEGIN SELECT RAISE(ABORT, 'los documentos no se borran'); END;
CREATE TRIGGER expedientes_no_delete BEFORE DELETE ON expedientes
BEGIN SELECT RAISE(ABORT, 'los expedientes no se borran'); END;

-- Full text of issued documents, already folded to lower case without
-- accents by Sello (the same folding for both databases); the row id is
-- the document's id.
CREATE VIRTUAL TABLE document_search USING fts5 (body, content = '', tokenize = 'unicode61');
