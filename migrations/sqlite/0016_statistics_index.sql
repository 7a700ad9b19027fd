-- The statistics count an office's issued documents of a period by form,
-- month and state. This index holds every column the count reads (the
-- verification code tells a document from a folio annulled while it was
-- being issued, which never was one), so the count reads the index alone
-- and never the documents' rows, whose data is most of their size.
CREATE INDEX documents_statistics ON documents (office_code, issued_on, form, status, code_hash);
