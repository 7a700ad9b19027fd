//! The templates say each thing once: Sello has one list of month names.

use std::fs;
use std::path::{Path, PathBuf};

fn files_under(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("a folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            files_under(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs" || e == "typ") {
            found.push(path);
        }
    }
}

/// Month names as code writes them in a list: whole, or abbreviated in
/// quotes ("Ene", "feb").
fn months_named(text: &str) -> usize {
    let lower = text.to_lowercase();
    sello::forms::MONTHS
        .iter()
        .filter(|month| {
            let quoted_short = format!("\"{}\"", &month[..3]);
            lower.contains(&format!("\"{month}\"")) || lower.contains(&quoted_short)
        })
        .count()
}

#[test]
fn the_month_names_are_listed_once_in_sello() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    files_under(&root.join("src"), &mut files);
    files_under(&root.join("forms"), &mut files);
    let lists: Vec<String> = files
        .iter()
        .filter(|path| months_named(&fs::read_to_string(path).expect("text")) >= 3)
        .map(|path| {
            path.strip_prefix(root)
                .expect("in the crate")
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(lists, ["src/forms/dates.rs"], "lists of month names");
}
