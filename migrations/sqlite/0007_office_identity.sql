-- Each office its own letterhead: institution, address, logo, time zone
-- and country. NULL means «as the installation's configuration», so the
-- offices an archive already has print exactly what they printed before.
-- The configured office always takes these from the configuration.
ALTER TABLE offices ADD COLUMN institution TEXT;
-- Used only when the office names its own institution ('' prints none).
ALTER TABLE offices ADD COLUMN address TEXT;
-- An IANA name, as `America/Santiago`.
ALTER TABLE offices ADD COLUMN time_zone TEXT;
ALTER TABLE offices ADD COLUMN country TEXT CHECK (country IN ('MX', 'CL', 'PA'));
-- The image itself, checked against its bytes when uploaded.
ALTER TABLE offices ADD COLUMN logo BLOB;
ALTER TABLE offices ADD COLUMN logo_type TEXT CHECK (logo_type IN ('png', 'jpg', 'svg'));
-- Grows with every change of the above: renderers made for an older
-- revision are made again.
ALTER TABLE offices ADD COLUMN identity_revision INTEGER NOT NULL DEFAULT 0;
