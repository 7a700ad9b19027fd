//! Every form's example issued as its trámite issues it: it carries its
//! folio, and it is paginated as the preview showed it, with no page that
//! holds only signatures, copies or the constancia del trámite.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::helpers::{
    CATALOG, config_for, endorsements_for, example, folio_for, forms_dir, issue_as_tramite, page_count,
    page_text, render, squash,
};

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

#[test]
fn every_example_is_issued_with_the_pages_its_preview_showed() {
    let mut problems = Vec::new();
    for form in CATALOG.iter() {
        let id = form.id.as_str();
        let data = example(id);
        let preview = render(id, &data);
        let issued = issue_as_tramite(id, &data);
        let (before, after) = (page_count(&preview), page_count(&issued));
        if before != after {
            problems.push(format!(
                "{id}: the preview has {before} pages and the issued document {after}"
            ));
        }
        let closing = ClosingWords::of(id, &data);
        for (what, pdf, pages) in [("preview", &preview, before), ("issued document", &issued, after)] {
            for page in 1..=pages {
                let text = page_text(pdf, page);
                if closing.body_words(&text).len() < BODY_WORDS_MIN {
                    problems.push(format!(
                        "{id}: page {page} of the {what} holds only signatures, copies, the \
                         constancia and the page's header and footer:\n{text}"
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// How many words of the document's body a page must carry: a closing
/// sentence is enough, a page of signatures has none.
const BODY_WORDS_MIN: usize = 3;

/// The words a page may hold that are not the document's body: the
/// letterhead, the footer, the signature blocks (their leyendas and cargos
/// as the template writes them, the names and cargos the data and the
/// trámite's accounts give), the C.c.p., the constancia del trámite and the
/// office's seal.
struct ClosingWords(BTreeSet<String>);

/// What the shared library prints around signatures, in the footer and in
/// the constancia, for drafts and for issued documents.
const LIBRARY_WORDING: &[&str] = &[
    "Código de verificación",
    "Verifique su autenticidad en",
    "Página de",
    "BORRADOR — sin validez oficial",
    "C.c.p.",
    "Constancia del trámite",
    "Firma pendiente",
    "Visto bueno pendiente",
    "Firmó electrónicamente",
    "Firmó en pantalla",
    "Dio su visto bueno",
    "Sello electrónico: se pone al emitir",
    "Firmado electrónicamente el",
    "Visto bueno electrónico dado el",
    "Firma autógrafa recabada en pantalla",
    "Se firma electrónicamente en el trámite",
    "Visto bueno en el trámite",
    "nombre y cargo de quien firme en el trámite",
    "clave",
];

/// Strings of the data longer than this are text of the body, not a name,
/// a cargo or a copy's addressee.
const SHORT_VALUE_WORDS: usize = 16;

impl ClosingWords {
    fn of(id: &str, data: &Value) -> Self {
        let mut words = BTreeSet::new();
        let mut add = |text: &str| words.extend(tokens(text));
        LIBRARY_WORDING.iter().for_each(|w| add(w));
        let config = config_for(&forms_dir());
        for text in [&config.institution, &config.office_name, &config.address] {
            add(text);
        }
        let mut short_values = Vec::new();
        strings_in(data, &mut short_values);
        short_values
            .iter()
            .filter(|s| s.split_whitespace().count() <= SHORT_VALUE_WORDS)
            .for_each(|s| add(s));
        let form = crate::helpers::form(id);
        for endorsement in endorsements_for(form, data) {
            add(&endorsement.paso);
            add(&endorsement.nombre);
            add(&endorsement.cargo);
        }
        let template = std::fs::read_to_string(forms_dir().join(id).join("template.typ"))
            .expect("the template is readable");
        signature_literals(&template).iter().for_each(|s| add(s));
        Self(words)
    }

    /// The words of `page` that are none of these.
    fn body_words(&self, page: &str) -> Vec<String> {
        tokens(page).into_iter().filter(|w| !self.0.contains(w)).collect()
    }
}

/// Lower-case words, without the punctuation around them; numbers, dates,
/// codes and folios (anything with a digit) say nothing of the body.
fn tokens(text: &str) -> Vec<String> {
    squash(text)
        .split(' ')
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase())
        .filter(|w| !w.is_empty() && !w.chars().any(|c| c.is_ascii_digit()))
        .collect()
}

fn strings_in(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings_in(v, out)),
        Value::Object(fields) => fields.values().for_each(|v| strings_in(v, out)),
        _ => {}
    }
}

/// The string literals a template writes into its signature blocks: on
/// the lines that give a `leyenda:` or a `cargo:`.
fn signature_literals(template: &str) -> Vec<String> {
    let mut literals = Vec::new();
    for line in template.lines() {
        for key in ["leyenda:", "cargo:"] {
            let Some(at) = line.find(key) else { continue };
            let rest = &line[at + key.len()..];
            literals.extend(rest.split('"').skip(1).step_by(2).map(str::to_owned));
        }
    }
    literals
}

/// Amounts print as they are stored, whether typed in the web app (text)
/// or given as numbers: a Chilean income keeps its cents, the household
/// total adds the amounts (not their text), and an authorised amount in
/// México reads with its two decimals.
#[test]
fn amounts_print_as_stored_with_their_currency_and_cents() {
    let mut data = example("informe-social");
    data["grupo_familiar"][0]["ingreso"] = Value::from("231732.50");
    data["grupo_familiar"][1]["ingreso"] = Value::from("180000");
    let text = crate::helpers::pdf_text(&render("informe-social", &data));
    assert!(text.contains("$231.732,50"), "the cents are printed: {text}");
    assert!(text.contains("$180.000"), "{text}");
    assert!(text.contains("$411.732,50"), "the total adds the amounts: {text}");
    assert!(text.contains("$137.244"), "the rounded per cápita: {text}");

    let mut data = example("oficio-autorizacion-apoyo");
    data["monto"] = Value::from("985.5");
    let text = crate::helpers::pdf_text(&render("oficio-autorizacion-apoyo", &data));
    assert!(text.contains("$985.50"), "{text}");
}

/// What the reviewer sees is what is issued: a block tied to a step of
/// the trámite shows, in the preview, where the name and cargo of the
/// account that takes it will go, never the name typed in the draft (the
/// issued document prints the account's).
#[test]
fn no_preview_shows_a_typed_name_where_an_account_will_sign() {
    let mut problems = Vec::new();
    for form in CATALOG.iter() {
        let id = form.id.as_str();
        let data = example(id);
        let typed: Vec<&str> = form
            .fields
            .iter()
            .filter(|f| {
                f.filled_by
                    .as_ref()
                    .is_some_and(|by| by.value == sello::forms::SignerValue::Nombre)
            })
            .filter_map(|f| data.get(&f.name).and_then(Value::as_str))
            .collect();
        if typed.is_empty() {
            continue;
        }
        let preview = crate::helpers::pdf_text(&render(id, &data));
        for name in typed {
            if preview.contains(&squash(name)) {
                problems.push(format!(
                    "{id}: the preview shows «{name}», typed for an account to replace"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
