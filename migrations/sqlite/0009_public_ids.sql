-- Public ids: how a row is named outside the database (in addresses, pages,
-- the API, e-mail notices). 128 random bits as 32 lower-case hexadecimal
-- digits, which Sello makes for each new row: they carry no count, so one
-- office cannot tell another's volume from its own ids. The integer keys
-- stay, for joins and foreign keys, and never leave the database.
--
-- SQLite adds a NOT NULL column only with a constant default: the rows
-- already here get their random ids at once, and a trigger refuses a new
-- row without one, as PostgreSQL's NOT NULL does.

ALTER TABLE documents ADD COLUMN public_id TEXT NOT NULL DEFAULT '';
UPDATE documents SET public_id = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX documents_public_id ON documents (public_id);
CREATE TRIGGER documents_public_id_required BEFORE INSERT ON documents
    WHEN length(NEW.public_id) <> 32 OR NEW.public_id GLOB '*[^0-9a-f]*'
BEGIN SELECT RAISE(ABORT, 'falta el identificador público'); END;

ALTER TABLE drafts ADD COLUMN public_id TEXT NOT NULL DEFAULT '';
UPDATE drafts SET public_id = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX drafts_public_id ON drafts (public_id);
CREATE TRIGGER drafts_public_id_required BEFORE INSERT ON drafts
    WHEN length(NEW.public_id) <> 32 OR NEW.public_id GLOB '*[^0-9a-f]*'
BEGIN SELECT RAISE(ABORT, 'falta el identificador público'); END;

ALTER TABLE expedientes ADD COLUMN public_id TEXT NOT NULL DEFAULT '';
UPDATE expedientes SET public_id = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX expedientes_public_id ON expedientes (public_id);
CREATE TRIGGER expedientes_public_id_required BEFORE INSERT ON expedientes
    WHEN length(NEW.public_id) <> 32 OR NEW.public_id GLOB '*[^0-9a-f]*'
BEGIN SELECT RAISE(ABORT, 'falta el identificador público'); END;

ALTER TABLE hand_signatures ADD COLUMN public_id TEXT NOT NULL DEFAULT '';
UPDATE hand_signatures SET public_id = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX hand_signatures_public_id ON hand_signatures (public_id);
CREATE TRIGGER hand_signatures_public_id_required BEFORE INSERT ON hand_signatures
    WHEN length(NEW.public_id) <> 32 OR NEW.public_id GLOB '*[^0-9a-f]*'
BEGIN SELECT RAISE(ABORT, 'falta el identificador público'); END;

ALTER TABLE api_tokens ADD COLUMN public_id TEXT NOT NULL DEFAULT '';
UPDATE api_tokens SET public_id = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX api_tokens_public_id ON api_tokens (public_id);
CREATE TRIGGER api_tokens_public_id_required BEFORE INSERT ON api_tokens
    WHEN length(NEW.public_id) <> 32 OR NEW.public_id GLOB '*[^0-9a-f]*'
BEGIN SELECT RAISE(ABORT, 'falta el identificador público'); END;

ALTER TABLE users ADD COLUMN public_id TEXT NOT NULL DEFAULT '';
UPDATE users SET public_id = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX users_public_id ON users (public_id);
CREATE TRIGGER users_public_id_required BEFORE INSERT ON users
    WHEN length(NEW.public_id) <> 32 OR NEW.public_id GLOB '*[^0-9a-f]*'
BEGIN SELECT RAISE(ABORT, 'falta el identificador público'); END;
