-- A lote issued by many instances at once (issue 26). Its folios are
-- reserved in row order first, by one instance at a time (the lote's job,
-- kind 'lote'), a chunk of rows after another; each chunk, once reserved,
-- is a job of its own (kind 'lote-tramo') that any instance claims to
-- render, sign and complete those very reservations. A row's reservation
-- is the document reserved under its key (lote_rows.row_key).

-- Its chunks: consecutive rows, by line, recorded in the transaction that
-- enqueues the chunk's job, after every row in it was reserved.
CREATE TABLE lote_chunks (
    lote_id BIGINT NOT NULL REFERENCES lotes (id),
    chunk BIGINT NOT NULL,
    first_line BIGINT NOT NULL,
    last_line BIGINT NOT NULL,
    PRIMARY KEY (lote_id, chunk)
);

-- When every row of the lote had its folio reserved (milliseconds since
-- 1970), or NULL while reserving.
ALTER TABLE lotes ADD COLUMN reserved_at BIGINT;

-- A reservation whose key belongs to an unfinished lote is waiting for
-- its chunk, not the remains of a crash: the recovery looks rows up by key.
CREATE INDEX lote_rows_key ON lote_rows (row_key);
