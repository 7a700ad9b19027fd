-- Workflows: the steps a draft goes through before it is issued (visado,
-- approval, signatures), two roles for them, audit events about a draft,
-- and signatures of people who have no key.
--
-- SQLite cannot change a CHECK in place, and sqlx runs this inside a
-- transaction, where foreign keys cannot be turned off. So the users are
-- copied aside, the table dropped and made again, and the users put back:
-- with foreign keys deferred, dropping counts the sessions, tokens and
-- drafts left without their user, and putting the users back counts them
-- found again, so the transaction commits only if every one is.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE users_before_roles AS SELECT * FROM users;
DROP TABLE users;
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    office_code TEXT NOT NULL REFERENCES offices (code),
    -- Lower case; what the person types to log in.
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    -- Printed under the signature of what a firmante issues.
    cargo TEXT NOT NULL,
    -- «revisor» gives the visado (Vo. Bo.); «contador» approves against the budget.
    role TEXT NOT NULL
        CHECK (role IN ('capturista', 'revisor', 'contador', 'firmante', 'archivista', 'administrador')),
    -- Argon2id, PHC string format.
    password_hash TEXT NOT NULL,
    -- Set for a password someone else chose (first run, reset).
    must_change_password INTEGER NOT NULL DEFAULT 1,
    active INTEGER NOT NULL DEFAULT 1,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    created_at TEXT NOT NULL,
    -- Where notices of drafts waiting for this person go; none if NULL.
    email TEXT
);
INSERT INTO users (id, office_code, username, display_name, cargo, role, password_hash,
    must_change_password, active, failed_logins, locked_until, created_at)
SELECT id, office_code, username, display_name, cargo, role, password_hash,
    must_change_password, active, failed_logins, locked_until, created_at FROM users_before_roles;
DROP TABLE users_before_roles;

-- The step of its form's workflow a draft is at; NULL once issued.
ALTER TABLE drafts ADD COLUMN step TEXT;
-- A correction: the issued document the draft, once issued, replaces.
ALTER TABLE drafts ADD COLUMN replaces INTEGER REFERENCES documents (id);
-- One correction under way per document at a time.
CREATE UNIQUE INDEX drafts_one_correction ON drafts (replaces)
    WHERE replaces IS NOT NULL AND document_id IS NULL;

-- Every step taken on a draft: sent, visado, approved, rejected, signed.
CREATE TABLE draft_steps (
    id INTEGER PRIMARY KEY,
    draft_id INTEGER NOT NULL REFERENCES drafts (id),
    step TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('enviado', 'visado', 'rechazado', 'firmado', 'presencial')),
    user_id INTEGER NOT NULL REFERENCES users (id),
    -- Name and cargo as they were when the step was taken.
    name TEXT NOT NULL,
    cargo TEXT NOT NULL,
    note TEXT,
    at TEXT NOT NULL
);
CREATE INDEX draft_steps_draft ON draft_steps (draft_id, id);
CREATE TRIGGER draft_steps_no_update BEFORE UPDATE ON draft_steps
BEGIN SELECT RAISE(ABORT, 'los pasos de un trámite no se modifican'); END;
CREATE TRIGGER draft_steps_no_delete BEFORE DELETE ON draft_steps
BEGIN SELECT RAISE(ABORT, 'los pasos de un trámite no se borran'); END;

-- Events about a draft before it is a document; hashed with the event.
ALTER TABLE audit_events ADD COLUMN draft_id INTEGER;
CREATE INDEX audit_events_draft ON audit_events (draft_id);

-- Signatures of people who have no key: drawn on the staff member's
-- screen before the document is sealed (then printed in it), or on paper
-- and uploaded as a scan, or an acknowledgement after issue (a receipt,
-- a monthly renewal). The image or scan is in the blob store.
CREATE TABLE hand_signatures (
    id INTEGER PRIMARY KEY,
    office_code TEXT NOT NULL,
    -- Before issue, the draft; after, the document.
    draft_id INTEGER REFERENCES drafts (id),
    document_id INTEGER REFERENCES documents (id),
    -- Which signer: «representante», «asistentes.3»; empty for a scan of the whole.
    signer TEXT NOT NULL,
    name TEXT NOT NULL,
    -- 'pantalla' (drawn on screen) or 'papel' (a scan of the signed paper).
    kind TEXT NOT NULL CHECK (kind IN ('pantalla', 'papel')),
    -- What it acknowledges, for those after issue: «Renovación de noviembre».
    purpose TEXT NOT NULL,
    blob_sha256 TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    -- The signer confirmed their consent on the screen.
    consent BOOLEAN NOT NULL,
    device TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id),
    at TEXT NOT NULL,
    CHECK (draft_id IS NOT NULL OR document_id IS NOT NULL)
);
CREATE INDEX hand_signatures_draft ON hand_signatures (draft_id);
CREATE INDEX hand_signatures_document ON hand_signatures (document_id);

