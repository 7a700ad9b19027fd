-- Work that runs once per period whichever instance gets to it (the
-- time-stamp retry, the follow-up notices): each instance enqueues the
-- job of the current period under one key, and the unique index lets only
-- the first of them in. Other jobs leave it empty (NULLs never collide).
ALTER TABLE jobs ADD COLUMN unique_key TEXT;
CREATE UNIQUE INDEX jobs_unique_key ON jobs (unique_key);
