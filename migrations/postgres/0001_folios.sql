-- Offices, their document series, and the folio counters.

CREATE TABLE offices (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL
);

-- A series numbers one family of documents of one office (oficios, actas…).
CREATE TABLE series (
    office_code TEXT NOT NULL REFERENCES offices (code),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (office_code, code)
);

-- The last folio number given per office, series and year. Incremented in
-- the issuing transaction, so a failed issuance rolls back its number too.
CREATE TABLE folio_counters (
    office_code TEXT NOT NULL,
    series_code TEXT NOT NULL,
    year INTEGER NOT NULL,
    last_number BIGINT NOT NULL CHECK (last_number > 0),
    PRIMARY KEY (office_code, series_code, year),
    FOREIGN KEY (office_code, series_code) REFERENCES series (office_code, code)
);
