-- Single sign-on with OpenID Connect. The administrator's rules map a
-- provider's claims to an office and a role, tried in order; an account
-- is linked to the provider's identity by issuer and subject (never by
-- e-mail); a login under way is one row, taken once. Times are RFC 3339.
CREATE TABLE sso_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id TEXT NOT NULL UNIQUE,
    -- The claim of the ID token (`groups`, `oficina`) and the value that
    -- matches it: the claim equal to it, or a list of texts holding it.
    claim TEXT NOT NULL,
    value TEXT NOT NULL,
    office_code TEXT NOT NULL REFERENCES offices (code),
    role TEXT NOT NULL
        CHECK (role IN ('capturista', 'revisor', 'contador', 'firmante', 'archivista', 'administrador')),
    -- Smaller first; the first rule that matches decides.
    position INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX sso_rules_position ON sso_rules (position, id);

CREATE TABLE sso_identities (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id),
    linked_at TEXT NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX sso_identities_user ON sso_identities (user_id);

-- A login sent to the provider and not yet back: the state's SHA-256 (the
-- state itself travels in the browser), the nonce and the PKCE verifier.
CREATE TABLE sso_logins (
    state_sha256 TEXT PRIMARY KEY NOT NULL,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    -- The page of Sello to go to afterwards.
    next_path TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

-- The ID token a session was opened with, as the hint of the provider's
-- logout; NULL for a session opened with a password.
ALTER TABLE sessions ADD COLUMN sso_id_token TEXT;
