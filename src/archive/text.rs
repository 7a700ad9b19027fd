//! Text folding for search: lower case, without accents, so "jose perez"
//! finds "José Pérez" and "nino" finds "niño". Sello folds both what it
//! indexes and what is searched, so SQLite and PostgreSQL match the same.

use serde_json::Value;
use unicode_normalization::UnicodeNormalization as _;
use unicode_normalization::char::is_combining_mark;

/// Lower case, accents and other combining marks removed, and every run of
/// characters that are not letters or digits turned into one space.
pub fn fold(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
    {
        if c.is_alphanumeric() {
            if pending_space && !folded.is_empty() {
                folded.push(' ');
            }
            pending_space = false;
            folded.push(c);
        } else {
            pending_space = true;
        }
    }
    folded
}

/// The words of a search, folded; at most a dozen, which is plenty for a
/// name and keeps a pasted paragraph from becoming a costly query.
pub fn query_terms(query: &str) -> Vec<String> {
    fold(query)
        .split(' ')
        .filter(|t| !t.is_empty())
        .take(12)
        .map(str::to_owned)
        .collect()
}

/// Every string and number in a document's data, one per line: what is
/// indexed of its field values.
pub fn data_text(data: &Value) -> String {
    let mut text = String::new();
    collect(data, &mut text);
    text
}

fn collect(value: &Value, text: &mut String) {
    match value {
        Value::String(s) => {
            text.push_str(s);
            text.push('\n');
        }
        Value::Number(n) => {
            text.push_str(&n.to_string());
            text.push('\n');
        }
        Value::Array(items) => items.iter().for_each(|v| collect(v, text)),
        Value::Object(fields) => fields.values().for_each(|v| collect(v, text)),
        Value::Bool(_) | Value::Null => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_case_and_punctuation_fold_away() {
        assert_eq!(fold("José PÉREZ"), "jose perez");
        assert_eq!(fold("Niño, Ñandú; ü"), "nino nandu u");
        assert_eq!(fold("DIF-SLP/OF/2026/0142"), "dif slp of 2026 0142");
        assert_eq!(fold("  «Muñoz»  "), "munoz");
    }

    #[test]
    fn queries_keep_at_most_twelve_words() {
        assert_eq!(query_terms("Jose  pérez"), ["jose", "perez"]);
        assert!(query_terms("¡¿!?").is_empty());
        assert_eq!(query_terms(&"a ".repeat(40)).len(), 12);
    }
}
