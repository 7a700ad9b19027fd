-- Documents issued in bulk wait here, with their folded text, to be
-- indexed together. FTS5 writes one segment per transaction and merges
-- them as they pile up; one segment per carta made those merges the part
-- of a long run that grew with the archive. A document waits only until
-- the run's next batch (or the next start, after a crash).
CREATE TABLE search_queue (
    document_id INTEGER PRIMARY KEY REFERENCES documents (id),
    body TEXT NOT NULL
);
