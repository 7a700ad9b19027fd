-- Whether the roles that prepare documents without signing them
-- (capturista, revisor, contador) may upload lotes in this office; their
-- lotes still wait for the approval of who signs. Set by the office's
-- administrator. Off unless the office turns it on, except where
-- preparers had already sent lotes: an upgrade takes away nothing in use.
-- Yes/no columns are integers on both engines.
ALTER TABLE offices ADD COLUMN preparers_bulk INTEGER NOT NULL DEFAULT 0;
UPDATE offices SET preparers_bulk = 1
    WHERE code IN (SELECT office_code FROM lotes WHERE prepared_by IS NOT NULL);
