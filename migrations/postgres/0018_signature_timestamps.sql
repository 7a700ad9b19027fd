-- The RFC 3161 time-stamp of a document's signature (PAdES B-T): the time
-- the time-stamping authority (TSA) vouches for, RFC 3339 in UTC, and the
-- TSA's name. NULL for a document issued without one (PAdES B-B): no TSA
-- configured, or none answered. Never the server's clock.
ALTER TABLE documents ADD COLUMN timestamp_at TEXT;
ALTER TABLE documents ADD COLUMN timestamp_tsa TEXT;
