-- The documents a document cites through its `documento` fields: the
-- solicitud an autorización answers, the carta a plan follows. Recorded
-- when its folio is reserved, with the field that names it, so that each
-- document's page links both ways. Never changed or deleted: a citation
-- is part of what the document says.
CREATE TABLE document_citations (
    document_id INTEGER NOT NULL REFERENCES documents (id),
    field TEXT NOT NULL,
    cited_id INTEGER NOT NULL REFERENCES documents (id),
    PRIMARY KEY (document_id, field)
);
CREATE INDEX document_citations_cited ON document_citations (cited_id);

CREATE TRIGGER document_citations_no_update BEFORE UPDATE ON document_citations
BEGIN SELECT RAISE(ABORT, 'las citas de un documento no se modifican'); END;
CREATE TRIGGER document_citations_no_delete BEFORE DELETE ON document_citations
BEGIN SELECT RAISE(ABORT, 'las citas de un documento no se borran'); END;
