-- What several instances share besides the archive: a durable queue of
-- background work, and the counters of the limits on lookups and logins.
--
-- A job waits ('queued') until run_at, is claimed by one instance
-- ('running'), which holds it by a lease it renews until lease_until;
-- when the holder dies the lease runs out and another instance claims it
-- again. attempts counts the claims and fences a holder whose lease was
-- taken over. Times are milliseconds since 1970 (UTC), as every instance
-- computes them, so that both engines compare them alike.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    progress TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at INTEGER NOT NULL,
    lease_holder TEXT,
    lease_until INTEGER,
    last_error TEXT,
    group_key TEXT,
    created_at INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX jobs_ready ON jobs (kind, state, run_at);
CREATE INDEX jobs_group ON jobs (group_key);

-- One row per limited client (a hash of the limit and the client's
-- network, never the address): the theoretical arrival time of the
-- generic cell rate algorithm, and whether the last request was allowed.
CREATE TABLE rate_limits (
    bucket TEXT PRIMARY KEY,
    tat INTEGER NOT NULL,
    allowed INTEGER NOT NULL
);
