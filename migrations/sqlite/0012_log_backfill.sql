-- The one-time backfill of the transparency log: documents issued,
-- annulled or replaced before 0011 get their entries, appended late and
-- marked so (`alta-tardia`). `pending` is 1 until the backfill has run;
-- the backfill clears it in the transaction that appends the entries, so it
-- runs once, and an entry deleted afterwards is reported missing, never
-- appended again as late. `late_from`..`late_to` (end excluded) are the
-- indexes it appended: the only entries that may, and must, carry the mark.
CREATE TABLE log_backfill (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    pending INTEGER NOT NULL,
    late_from INTEGER,
    late_to INTEGER
);
INSERT INTO log_backfill (id, pending) VALUES (1, 1);
