-- What the public verification page says of an annulment: a category from
-- a fixed list, never the reason, which is written freely and stays in the
-- archive (it may name people). NULL for documents annulled before this
-- column: the page then says only that the document was annulled.
ALTER TABLE documents ADD COLUMN annul_category TEXT;
