-- The transparency log: one entry per issuance, annulment or replacement of
-- any office of the installation, appended by the transaction that makes
-- it. `entry` is the exact text whose RFC 6962 leaf hash is `leaf_hash`;
-- it carries no personal data (hashes, folio, form, times, key id).
-- `log_size` is one row, the next index: updating it serializes writers,
-- so that two cannot take the same index.
CREATE TABLE log_size (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    size INTEGER NOT NULL
);
INSERT INTO log_size (id, size) VALUES (1, 0);
CREATE TABLE log_entries (
    idx INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents (id),
    event TEXT NOT NULL CHECK (event IN ('emision', 'anulacion', 'reemplazo')),
    entry TEXT NOT NULL,
    leaf_hash TEXT NOT NULL,
    UNIQUE (document_id, event)
);
