//! Every form's example issued as its trámite issues it: it carries its
//! folio.

use crate::helpers::{CATALOG, example, folio_for, issue_as_tramite, page_text, render};

#[test]
fn every_issued_example_prints_its_folio_on_its_first_page() {
    for form in CATALOG.iter() {
        let id = form.id.as_str();
        let folio = folio_for(form);
        let first = page_text(&issue_as_tramite(id, &example(id)), 1);
        assert!(
            first.contains(&folio),
            "{id}: the folio {folio} is not on the first page:\n{first}"
        );
        let draft = page_text(&render(id, &example(id)), 1);
        assert!(
            draft.contains("se asigna al emitir"),
            "{id}: the draft does not say its folio is assigned when issued:\n{draft}"
        );
    }
}
