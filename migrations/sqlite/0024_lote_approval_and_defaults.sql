-- A lote prepared by someone who does not sign (a capturista, a
-- promoter) waits, stored with its rows, until the role that signs its
-- form approves it; only then is its run enqueued, signed by the
-- approver. Yes/no columns are integers on both engines.
ALTER TABLE lotes ADD COLUMN awaiting_approval INTEGER NOT NULL DEFAULT 0;
-- The username of who uploaded and sent it, when someone else approved it.
ALTER TABLE lotes ADD COLUMN prepared_by TEXT;
-- The username of who approved it, and when (milliseconds since 1970).
ALTER TABLE lotes ADD COLUMN approved_by TEXT;
ALTER TABLE lotes ADD COLUMN approved_at INTEGER;

-- The person a problem row names, when it names one: the clerk finds the
-- row in errores.csv by its name.
ALTER TABLE lote_problems ADD COLUMN person TEXT;

-- What a blank entry form is prefilled with: the signer's name and cargo,
-- the place, the unit. user_id 0 holds the office's own; a person's own
-- come first.
CREATE TABLE entry_defaults (
    office_code TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (office_code, user_id, field)
);
