-- Secrets the whole installation shares: every instance on this database
-- reads the same one. The first instance to start makes it (INSERT … ON
-- CONFLICT DO NOTHING, so two starting at once keep one) and the others
-- read it; it is never logged. `limites` keys the HMAC-SHA256 that names a
-- limited client in rate_limits and in Redis, so neither holds an address
-- that can be recovered by hashing every IPv4 address.
CREATE TABLE installation_secrets (
    name TEXT PRIMARY KEY,
    secret TEXT NOT NULL
);

-- The counts kept so far named their clients by a plain SHA-256 of the
-- address, which can be reversed: forgotten (each client's count restarts
-- once).
DELETE FROM rate_limits;
