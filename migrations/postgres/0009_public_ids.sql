-- Public ids: how a row is named outside the database (in addresses, pages,
-- the API, e-mail notices). 128 random bits as 32 lower-case hexadecimal
-- digits, which Sello makes for each new row: they carry no count, so one
-- office cannot tell another's volume from its own ids. The integer keys
-- stay, for joins and foreign keys, and never leave the database. The rows
-- already here get a random UUID's digits.

ALTER TABLE documents ADD COLUMN public_id TEXT;
UPDATE documents SET public_id = replace(gen_random_uuid()::text, '-', '');
ALTER TABLE documents ALTER COLUMN public_id SET NOT NULL;
ALTER TABLE documents ADD CONSTRAINT documents_public_id UNIQUE (public_id),
    ADD CONSTRAINT documents_public_id_form CHECK (public_id ~ '^[0-9a-f]{32}$');

ALTER TABLE drafts ADD COLUMN public_id TEXT;
UPDATE drafts SET public_id = replace(gen_random_uuid()::text, '-', '');
ALTER TABLE drafts ALTER COLUMN public_id SET NOT NULL;
ALTER TABLE drafts ADD CONSTRAINT drafts_public_id UNIQUE (public_id),
    ADD CONSTRAINT drafts_public_id_form CHECK (public_id ~ '^[0-9a-f]{32}$');

ALTER TABLE expedientes ADD COLUMN public_id TEXT;
UPDATE expedientes SET public_id = replace(gen_random_uuid()::text, '-', '');
ALTER TABLE expedientes ALTER COLUMN public_id SET NOT NULL;
ALTER TABLE expedientes ADD CONSTRAINT expedientes_public_id UNIQUE (public_id),
    ADD CONSTRAINT expedientes_public_id_form CHECK (public_id ~ '^[0-9a-f]{32}$');

ALTER TABLE hand_signatures ADD COLUMN public_id TEXT;
UPDATE hand_signatures SET public_id = replace(gen_random_uuid()::text, '-', '');
ALTER TABLE hand_signatures ALTER COLUMN public_id SET NOT NULL;
ALTER TABLE hand_signatures ADD CONSTRAINT hand_signatures_public_id UNIQUE (public_id),
    ADD CONSTRAINT hand_signatures_public_id_form CHECK (public_id ~ '^[0-9a-f]{32}$');

ALTER TABLE api_tokens ADD COLUMN public_id TEXT;
UPDATE api_tokens SET public_id = replace(gen_random_uuid()::text, '-', '');
ALTER TABLE api_tokens ALTER COLUMN public_id SET NOT NULL;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_public_id UNIQUE (public_id),
    ADD CONSTRAINT api_tokens_public_id_form CHECK (public_id ~ '^[0-9a-f]{32}$');

ALTER TABLE users ADD COLUMN public_id TEXT;
UPDATE users SET public_id = replace(gen_random_uuid()::text, '-', '');
ALTER TABLE users ALTER COLUMN public_id SET NOT NULL;
ALTER TABLE users ADD CONSTRAINT users_public_id UNIQUE (public_id),
    ADD CONSTRAINT users_public_id_form CHECK (public_id ~ '^[0-9a-f]{32}$');
