-- The statistics count an office's issued documents of a period by form,
-- month and state. This index holds those columns, so the count reads it
-- alone and never the documents' rows, whose data is most of their size.
-- Only documents that were issued (a folio annulled while it was being
-- issued has no verification code) are in it.
CREATE INDEX documents_statistics ON documents (office_code, issued_on, form, status)
    WHERE code_hash IS NOT NULL;
