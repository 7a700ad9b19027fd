-- Blobs being stored for a row not yet committed (the drawing or scan of a
-- hand signature): each is listed here, in its own committed statement,
-- before its bytes reach the store, and the row is deleted by the
-- transaction that commits the row pointing at the blob. While any is
-- listed, `fsck --repair` moves no orphan to quarantine, as it does while
-- an issuance is `reservado`. One left behind by a crash is cleared by
-- fsck once it is as old as an interrupted issuance.
CREATE TABLE blob_writes (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL
);
