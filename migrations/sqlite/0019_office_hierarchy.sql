-- Offices in a hierarchy: national → province or region → district →
-- local office. An office's parent is another office of the installation
-- or none; the accounts check that no office ends up under itself. An
-- account of an office reads, and only reads, the offices under it.
ALTER TABLE offices ADD COLUMN parent_code TEXT REFERENCES offices (code);
CREATE INDEX offices_parent ON offices (parent_code);

-- More than reading, granted by an administrator: an account of an office
-- above may take the steps of a role in one office under it (a supervisor
-- gives the visado of a promotor's acta). Only the roles of a visado: the
-- document is issued and signed by the office that issues it. A grant
-- counts only while the office is still under the account's office.
CREATE TABLE office_grants (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    office_code TEXT NOT NULL REFERENCES offices (code),
    role TEXT NOT NULL CHECK (role IN ('revisor', 'contador')),
    granted_by TEXT NOT NULL,
    granted_at TEXT NOT NULL,
    UNIQUE (user_id, office_code)
);
CREATE INDEX office_grants_office ON office_grants (office_code);
