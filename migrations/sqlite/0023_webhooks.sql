-- Webhooks: an office's subscriptions, the events recorded for them in
-- the transaction of what happened (an outbox), one delivery per event
-- and subscription, and each attempt to deliver it. Deliveries are run by
-- the job queue (migration 0020, kind 'webhook'), whose job is enqueued
-- in the same transaction. Times are RFC 3339 text.
CREATE TABLE webhook_subscriptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id TEXT NOT NULL UNIQUE,
    office_code TEXT NOT NULL,
    url TEXT NOT NULL,
    -- Kept as is: signing needs it (see ARCHITECTURE.md, «Webhooks»).
    secret TEXT NOT NULL,
    scope TEXT NOT NULL CHECK (scope IN ('minimo', 'datos')),
    -- The event types it receives, separated by spaces.
    events TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    -- Set when deleted: its deliveries' log stays readable.
    deleted_at TEXT
);
CREATE INDEX webhook_subscriptions_office ON webhook_subscriptions (office_code, deleted_at);

CREATE TABLE webhook_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The delivery's «id»: one per event, the same on every retry.
    public_id TEXT NOT NULL UNIQUE,
    office_code TEXT NOT NULL,
    kind TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    -- JSON: the minimal reference (public ids, folio, form).
    reference TEXT NOT NULL,
    -- Whose persons a subscription of scope 'datos' also receives.
    document_id INTEGER
);

CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id TEXT NOT NULL UNIQUE,
    event_id INTEGER NOT NULL REFERENCES webhook_events (id),
    subscription_id INTEGER NOT NULL REFERENCES webhook_subscriptions (id),
    state TEXT NOT NULL CHECK (state IN ('pendiente', 'entregada', 'fallida')),
    created_at TEXT NOT NULL
);
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, id);

CREATE TABLE webhook_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries (id),
    at TEXT NOT NULL,
    -- The HTTP status the target answered; none when it did not answer.
    response_code INTEGER,
    -- Why it failed, in Spanish; none when it was delivered.
    error TEXT,
    duration_ms INTEGER NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
