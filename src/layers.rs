//! The layers of the crate, from the bottom up, and the test that keeps
//! them so: a module may use only modules of lower layers, never one of
//! its own layer or above. That makes a dependency cycle impossible and
//! keeps each layer testable without the ones above it. ARCHITECTURE.md
//! explains each layer; change both together.
//!
//! A test over the source, rather than one crate per layer, because a
//! workspace would multiply the link steps of every test build on small
//! machines and turn most `pub(crate)` items into public API, for the same
//! guarantee.

/// Top-level modules by layer, lowest first.
pub const LAYERS: &[&[&str]] = &[
    // Vocabulary: plain data and pure functions, no I/O.
    &[
        "code",
        "csv_out",
        "folio",
        "fonts",
        "office",
        "public_id",
        "roles",
        "signature_image",
        "tlog",
    ],
    // The installation's settings, as plain data.
    &["config"],
    // Forms and their rules; keys; the database connection.
    &["db", "forms", "keys"],
    // Turning data into a signed PDF, and reading one back.
    &["pdf", "qr", "render"],
    // One document's issuance, without storage.
    &["signed_pdf"],
    // The queue of background work, which the archive enqueues into (a
    // webhook's delivery in the transaction of its event).
    &["queue"],
    // What is stored: the archive and the accounts; the counters of what
    // was issued; the limits every instance counts.
    &["accounts", "archive", "metrics", "rate_limits"],
    // A copy of the whole installation that restores.
    &["backup"],
    // Issuing into an office's archive, and extending the evidence of
    // what it issued.
    &["evidence", "issuer"],
    // Many documents at once.
    &["bulk"],
    // Registers and reports built from the archive.
    &["registros"],
    // A draft's way through its workflow, to the signature that issues it.
    &["tramites"],
    // Telling other systems what happened: webhook deliveries.
    &["webhooks"],
    // The ways in: HTTP; the one bootstrap that assembles the service and
    // the parts commands need; the command line (which also serves HTTP).
    &["web"],
    &["app"],
    &["cli"],
];

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::fs;
    use std::path::{Path, PathBuf};

    use super::LAYERS;

    /// Files longer than this say at their top why they are.
    const LONG_FILE_LINES: usize = 400;

    fn source_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
    }

    /// The `.rs` files of a top-level module: `src/name.rs` and everything
    /// under `src/name/`.
    fn files_of(module: &str) -> Vec<PathBuf> {
        let mut files = Vec::new();
        let single = source_dir().join(format!("{module}.rs"));
        if single.is_file() {
            files.push(single);
        }
        let mut folders = vec![source_dir().join(module)];
        while let Some(folder) = folders.pop() {
            let Ok(entries) = fs::read_dir(&folder) else {
                continue;
            };
            for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
                if path.is_dir() {
                    folders.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    files.push(path);
                }
            }
        }
        files
    }

    /// The top-level modules `lib.rs` declares.
    fn declared_modules() -> Vec<String> {
        let lib = fs::read_to_string(source_dir().join("lib.rs")).expect("lib.rs");
        lib.lines()
            .filter_map(|line| {
                let line = line.trim();
                let rest = line
                    .strip_prefix("pub mod ")
                    .or_else(|| line.strip_prefix("mod "))?;
                Some(rest.trim_end_matches(';').to_owned())
            })
            .filter(|module| module != "layers")
            .collect()
    }

    /// The top-level modules a file's code names through `crate::`,
    /// comments aside.
    fn used_modules(text: &str) -> Vec<String> {
        let mut used = Vec::new();
        for line in text.lines() {
            let code = line.split("//").next().unwrap_or("");
            let mut rest = code;
            while let Some(at) = rest.find("crate::") {
                let after = &rest[at + "crate::".len()..];
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    used.push(name);
                }
                rest = after;
            }
        }
        used
    }

    fn layer_of() -> BTreeMap<&'static str, usize> {
        let mut layer_of = BTreeMap::new();
        for (layer, modules) in LAYERS.iter().enumerate() {
            for module in *modules {
                assert!(
                    layer_of.insert(*module, layer).is_none(),
                    "{module} is listed twice"
                );
            }
        }
        layer_of
    }

    #[test]
    fn every_top_level_module_has_a_layer() {
        let layer_of = layer_of();
        for module in declared_modules() {
            assert!(
                layer_of.contains_key(module.as_str()),
                "src/lib.rs declares `{module}`, which src/layers.rs puts in no layer"
            );
        }
        for module in layer_of.keys() {
            assert!(
                declared_modules().iter().any(|m| m == module),
                "src/layers.rs lists `{module}`, which src/lib.rs does not declare"
            );
        }
    }

    #[test]
    fn modules_use_only_lower_layers() {
        let layer_of = layer_of();
        let mut wrong = Vec::new();
        for (module, &layer) in &layer_of {
            for file in files_of(module) {
                let text = fs::read_to_string(&file).expect("a source file");
                for used in used_modules(&text) {
                    if used == *module {
                        continue;
                    }
                    match layer_of.get(used.as_str()) {
                        Some(&other) if other < layer => {}
                        Some(_) => wrong.push(format!(
                            "{} uses crate::{used}, which is not below `{module}`",
                            file.strip_prefix(source_dir()).unwrap_or(&file).display()
                        )),
                        None => {}
                    }
                }
            }
        }
        assert!(wrong.is_empty(), "layers broken:\n{}", wrong.join("\n"));
    }

    #[test]
    fn the_layer_test_sees_a_use_of_a_higher_layer() {
        assert_eq!(
            used_modules("use crate::archive::Store; // crate::web\nlet x = crate::db::open();"),
            ["archive", "db"]
        );
    }

    #[test]
    fn long_files_say_why_they_are_long() {
        let mut unexplained = Vec::new();
        let mut folders = vec![source_dir()];
        while let Some(folder) = folders.pop() {
            for path in fs::read_dir(&folder)
                .expect("src")
                .filter_map(|e| e.ok().map(|e| e.path()))
            {
                if path.is_dir() {
                    folders.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                let text = fs::read_to_string(&path).expect("a source file");
                let lines = text.lines().count();
                let explained = text
                    .lines()
                    .take_while(|l| l.starts_with("//!"))
                    .any(|l| l.contains("Long because"));
                if lines > LONG_FILE_LINES && !explained {
                    unexplained.push(format!(
                        "{} ({lines} lines)",
                        path.strip_prefix(source_dir()).unwrap_or(&path).display()
                    ));
                }
            }
        }
        unexplained.sort();
        assert!(
            unexplained.is_empty(),
            "files over {LONG_FILE_LINES} lines whose module comment does not say «Long because …»:\n{}",
            unexplained.join("\n")
        );
    }
}
