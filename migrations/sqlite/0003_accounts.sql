-- Staff accounts, their sessions and API tokens. A user belongs to one
-- office and sees only that office's archive.

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    office_code TEXT NOT NULL REFERENCES offices (code),
    -- Lower case; what the person types to log in.
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    -- Printed under the signature of what a firmante issues.
    cargo TEXT NOT NULL,
    role TEXT NOT NULL
        CHECK (role IN ('capturista', 'firmante', 'archivista', 'administrador')),
    -- Argon2id, PHC string format.
    password_hash TEXT NOT NULL,
    -- Set for a password someone else chose (first run, reset).
    must_change_password INTEGER NOT NULL DEFAULT 1,
    active INTEGER NOT NULL DEFAULT 1,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    created_at TEXT NOT NULL
);

-- Only a SHA-256 of the cookie's token is kept: a copy of the database
-- opens no session.
CREATE TABLE sessions (
    token_sha256 TEXT PRIMARY KEY NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id),
    -- The token every state-changing form of this session must carry.
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);

-- What a capturista prepares and a firmante issues.
CREATE TABLE drafts (
    id INTEGER PRIMARY KEY,
    office_code TEXT NOT NULL REFERENCES offices (code),
    form TEXT NOT NULL,
    data TEXT NOT NULL,
    created_by INTEGER NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    -- Set once issued: the document it became.
    document_id INTEGER REFERENCES documents (id)
);
CREATE INDEX drafts_office ON drafts (office_code, updated_at);

-- A user's recent documents, for their home page.
CREATE INDEX documents_issued_by ON documents (office_code, issued_by, id);
