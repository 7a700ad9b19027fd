//! The templates say each thing once: what two of them would repeat lives
//! in the shared library `forms/_lib/sello.typ`, and Sello has one list of
//! month names.

use std::fs;
use std::path::{Path, PathBuf};

use crate::helpers::forms_dir;

/// This many lines in a row, the same in two templates, are a copy.
const BLOCK_LINES: usize = 4;

/// A line as compared: trimmed, with runs of blanks as one space; `None`
/// for what any two templates may share (blank lines, comments, brackets
/// alone, spacing, the import of the library and the document set-up).
fn significant(line: &str) -> Option<String> {
    let line = line.trim();
    let trivial = line.is_empty()
        || line.starts_with("//")
        || line.chars().all(|c| "()[]{},".contains(c) || c.is_whitespace())
        || line.starts_with("#import ")
        || line.starts_with("#show: ")
        || line == "#let d = datos()"
        || ((line.starts_with("#v(") || line.starts_with("v("))
            && line.ends_with(')')
            && !line.contains(' '));
    (!trivial).then(|| line.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn templates() -> Vec<(String, Vec<String>)> {
    let mut found: Vec<(String, Vec<String>)> = fs::read_dir(forms_dir())
        .expect("forms/")
        .filter_map(|entry| {
            let dir = entry.ok()?.path();
            let text = fs::read_to_string(dir.join("template.typ")).ok()?;
            let id = dir.file_name()?.to_str()?.to_owned();
            Some((id, text.lines().filter_map(significant).collect()))
        })
        .collect();
    found.sort();
    found
}

/// Runs of `BLOCK_LINES` lines that stand in two templates.
fn shared_blocks(templates: &[(String, Vec<String>)]) -> Vec<String> {
    let mut seen: std::collections::HashMap<&[String], &str> = std::collections::HashMap::new();
    let mut shared = Vec::new();
    for (id, lines) in templates {
        let mut mine = std::collections::HashSet::new();
        for block in lines.windows(BLOCK_LINES) {
            if !mine.insert(block) {
                continue;
            }
            match seen.get(block) {
                Some(other) => shared.push(format!("{other} and {id}:\n    {}", block.join("\n    "))),
                None => {
                    seen.insert(block, id);
                }
            }
        }
    }
    shared
}

#[test]
fn no_two_templates_repeat_a_block_of_lines() {
    let templates = templates();
    assert!(templates.len() >= 30, "{} templates", templates.len());
    let shared = shared_blocks(&templates);
    assert!(
        shared.is_empty(),
        "blocks of {BLOCK_LINES} lines repeated; move them into forms/_lib/sello.typ:\n{}",
        shared.join("\n")
    );
}

#[test]
fn the_repeated_block_finder_finds_a_copied_block() {
    let block = [
        "#ficha(",
        "(\"ID familia\", d.familia_id),",
        "(\"Familia\", d.familia_nombre),",
        "(\"Domicilio\", d.domicilio),",
        ")",
    ];
    let with = |before: &str| -> Vec<String> {
        std::iter::once(before)
            .chain(block)
            .filter_map(significant)
            .collect()
    };
    let copied = [
        ("a".to_owned(), with("#titulo(\"A\")")),
        ("b".to_owned(), with("#titulo(\"B\")")),
    ];
    assert_eq!(shared_blocks(&copied).len(), 1, "{:?}", shared_blocks(&copied));
    // Three of its lines alone are not yet a copy; nor is spacing.
    let short = [
        ("a".to_owned(), with("#v(0.4em)")[..3].to_vec()),
        ("b".to_owned(), with("#v(0.6em)")[..3].to_vec()),
    ];
    assert!(shared_blocks(&short).is_empty());
}

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

/// The derivación prints its deadline from `[derivacion] plazo_dias`, the
/// setting that also fixes its due day, never a number of its own.
#[test]
fn the_derivacion_prints_the_deadline_its_form_sets() {
    let mut spec = crate::helpers::form("derivacion").clone();
    let mut data = crate::helpers::example("derivacion");
    data.as_object_mut().expect("object").remove("protocolo");
    for days in [5, 7] {
        spec.derivacion.as_mut().expect("a derivación").plazo_dias = days;
        let pdf = crate::helpers::RENDERER
            .render(
                &spec,
                &data,
                &sello::render::DocumentContext::draft(crate::helpers::issue_time()),
            )
            .expect("renders")
            .pdf;
        let text = crate::helpers::squash(&crate::helpers::pdf_text(&pdf));
        assert!(
            text.contains(&format!("Plazo de respuesta: {days} días hábiles")),
            "{days}: {text}"
        );
    }
}
