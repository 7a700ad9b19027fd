-- The mail notices of follow-ups due (a renewal, an acuse, a constancia):
-- one row per obligation (the document that owes it, the form that closes
-- it) and due day, so each is mailed once, not on every round of the
-- service. A round claims the row before it sends; `sent_at` is set once
-- the mail server took the message, and a claim left without it (a failed
-- send, a process that died) may be taken again.
CREATE TABLE follow_up_notices (
    office_code TEXT NOT NULL,
    folio TEXT NOT NULL,
    closing_form TEXT NOT NULL,
    due_on TEXT NOT NULL,
    claimed_at TEXT,
    sent_at TEXT,
    recipients INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (office_code, folio, closing_form, due_on)
);
