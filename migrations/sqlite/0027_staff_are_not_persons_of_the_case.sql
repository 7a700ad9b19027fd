-- The office's staff a document names (the Promotor Social of an acta or a
-- visit, the Asistente Social who writes an informe) were filed among the
-- persons of the expediente, as if the case concerned them. Their fields
-- now say they are staff (`staff = true`) and are filed no more; this
-- takes out what was filed before. A person who is also named in the
-- expediente as one of the case stays, with those links.
DELETE FROM expediente_persons
WHERE EXISTS (
    SELECT 1 FROM document_persons dp JOIN documents d ON d.id = dp.document_id
    WHERE dp.person_id = expediente_persons.person_id
      AND d.expediente_id = expediente_persons.expediente_id
      AND ((d.form IN ('acta-comite-familia', 'constancia-visita') AND dp.role = 'promotor')
           OR (d.form = 'informe-social' AND dp.role = 'asistente')))
AND NOT EXISTS (
    SELECT 1 FROM document_persons dp JOIN documents d ON d.id = dp.document_id
    WHERE dp.person_id = expediente_persons.person_id
      AND d.expediente_id = expediente_persons.expediente_id
      AND NOT ((d.form IN ('acta-comite-familia', 'constancia-visita') AND dp.role = 'promotor')
               OR (d.form = 'informe-social' AND dp.role = 'asistente')));

DELETE FROM document_persons
WHERE EXISTS (
    SELECT 1 FROM documents d
    WHERE d.id = document_persons.document_id
      AND ((d.form IN ('acta-comite-familia', 'constancia-visita') AND document_persons.role = 'promotor')
           OR (d.form = 'informe-social' AND document_persons.role = 'asistente')));
