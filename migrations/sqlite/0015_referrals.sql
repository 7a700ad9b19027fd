-- Referrals between offices of the installation (seed 002: referencia y
-- contrarreferencia). A derivación issued by one office names another as
-- the receiving office; the receiving office sees it, and exactly the
-- documents it shares, and answers it with a contrarreferencia of its own
-- that cites it. Recorded in the transaction that reserves the
-- derivación's folio; the receiving office sees it only once issued.
--
-- The state stored is what happened: 'enviada' until the receiving office
-- opens it, then 'recibida'. Answered ('respondida', an answer in force)
-- and overdue ('vencida', past due_on without one) are read from
-- answered_by and the day, so they cannot fall out of date.
CREATE TABLE referrals (
    id INTEGER PRIMARY KEY,
    -- The derivación: a referral is named by its document's public id.
    document_id INTEGER NOT NULL UNIQUE REFERENCES documents (id),
    from_office TEXT NOT NULL REFERENCES offices (code),
    to_office TEXT NOT NULL REFERENCES offices (code),
    state TEXT NOT NULL CHECK (state IN ('enviada', 'recibida')),
    -- YYYY-MM-DD: the issue day plus the protocol's business days.
    due_on TEXT NOT NULL,
    received_at TEXT,
    received_by TEXT,
    -- The contrarreferencia, a document of to_office.
    answered_by INTEGER REFERENCES documents (id),
    CHECK (from_office <> to_office)
);
CREATE INDEX referrals_to_office ON referrals (to_office);
CREATE INDEX referrals_from_office ON referrals (from_office);
CREATE INDEX referrals_answered_by ON referrals (answered_by);

-- The documents of the referring office a derivación shares, chosen by
-- its clerk; the derivación itself is shared by being the referral.
CREATE TABLE referral_shares (
    referral_id INTEGER NOT NULL REFERENCES referrals (id),
    document_id INTEGER NOT NULL REFERENCES documents (id),
    PRIMARY KEY (referral_id, document_id)
);
CREATE INDEX referral_shares_document ON referral_shares (document_id);

CREATE TRIGGER referral_shares_no_update BEFORE UPDATE ON referral_shares
BEGIN SELECT RAISE(ABORT, 'lo que comparte una derivación no se modifica'); END;
CREATE TRIGGER referral_shares_no_delete BEFORE DELETE ON referral_shares
BEGIN SELECT RAISE(ABORT, 'lo que comparte una derivación no se borra'); END;
CREATE TRIGGER referrals_no_delete BEFORE DELETE ON referrals
BEGIN SELECT RAISE(ABORT, 'las derivaciones no se borran'); END;
