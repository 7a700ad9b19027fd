//! A short run of every fuzz target on stable, so CI sees them work: each
//! target of `fuzz/src/lib.rs` on every seed of `fuzz/corpus/<target>/`
//! (crashes found by fuzzing are kept there too), then on a few hundred
//! deterministic mutations of those seeds: bit flips, bytes set to
//! boundary values, truncations, chunks deleted or repeated, and splices of
//! two seeds. The long runs are `scripts/fuzz`'s.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

#[path = "../../fuzz/src/lib.rs"]
mod targets;

use crate::helpers::root;

/// Mutations per target, spread over its seeds.
const MUTATIONS_PER_TARGET: usize = 400;

/// The seeds of one target, by file name, in name order.
fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir: PathBuf = root().join("fuzz").join("corpus").join(target);
    let mut seeds: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("entry").path();
            let name = path.file_name().expect("name").to_string_lossy().into_owned();
            (name, std::fs::read(&path).expect("seed"))
        })
        .collect();
    seeds.sort();
    seeds
}

/// SplitMix64: the same mutations on every run and machine.
struct Mixer(u64);

impl Mixer {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (which must not be 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// One mutation of `seed`, with `other` for splices, and what was done.
fn mutate(seed: &[u8], other: &[u8], mixer: &mut Mixer) -> (Vec<u8>, String) {
    let mut bytes = seed.to_vec();
    if bytes.is_empty() {
        return (other.to_vec(), "the other seed".into());
    }
    let at = mixer.below(bytes.len());
    let what = match mixer.below(6) {
        0 => {
            let bit = mixer.below(8);
            bytes[at] ^= 1 << bit;
            format!("bit {bit} of byte {at} flipped")
        }
        1 => {
            let value = [0x00, 0xFF, 0x7F, 0x80, b'0', b'9', b' ', b'<', b'>', b'/'][mixer.below(10)];
            bytes[at] = value;
            format!("byte {at} set to {value:#04x}")
        }
        2 => {
            bytes.truncate(at);
            format!("truncated to {at} bytes")
        }
        3 => {
            let end = (at + 1 + mixer.below(64)).min(bytes.len());
            bytes.drain(at..end);
            format!("bytes {at}..{end} deleted")
        }
        4 => {
            let end = (at + 1 + mixer.below(64)).min(bytes.len());
            let chunk = bytes[at..end].to_vec();
            bytes.splice(at..at, chunk);
            format!("bytes {at}..{end} repeated")
        }
        _ => {
            let from = if other.is_empty() {
                0
            } else {
                mixer.below(other.len())
            };
            bytes.truncate(at);
            bytes.extend_from_slice(&other[from..]);
            format!("first {at} bytes, then the other seed from byte {from}")
        }
    };
    (bytes, what)
}

/// Runs `target` on `input`; a panic is returned as its message.
fn run(target: targets::Target, input: &[u8]) -> Result<(), String> {
    catch_unwind(AssertUnwindSafe(|| target(input))).map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default()
    })
}

#[test]
fn every_fuzz_target_survives_its_seeds_and_their_mutations() {
    let mut failures = Vec::new();
    for (index, (name, target)) in targets::TARGETS.iter().enumerate() {
        let seeds = corpus(name);
        assert!(!seeds.is_empty(), "{name}: no seeds in fuzz/corpus/{name}");
        for (seed, bytes) in &seeds {
            if let Err(panic) = run(*target, bytes) {
                failures.push(format!("{name} on {seed}: {panic}"));
            }
        }
        let mut mixer = Mixer(index as u64 + 1);
        for n in 0..MUTATIONS_PER_TARGET {
            let (seed, bytes) = &seeds[n % seeds.len()];
            let (_, other) = &seeds[mixer.below(seeds.len())];
            let (input, what) = mutate(bytes, other, &mut mixer);
            if let Err(panic) = run(*target, &input) {
                failures.push(format!("{name} on {seed}, {what}: {panic}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_mutations_change_their_seeds() {
    // The smoke test is worth something only if its inputs differ from the
    // seeds: most mutations must change the bytes.
    let seeds = corpus("pdf_parser");
    let mut mixer = Mixer(7);
    let changed = (0..200)
        .filter(|n| {
            let (_, bytes) = &seeds[n % seeds.len()];
            let (_, other) = &seeds[mixer.below(seeds.len())];
            mutate(bytes, other, &mut mixer).0 != *bytes
        })
        .count();
    assert!(
        changed > 180,
        "only {changed} of 200 mutations changed their seed"
    );
}

/// Found by fuzzing the XLSX reader: a cell reference of many letters, or
/// a row number of many digits, made calamine's arithmetic overflow (a
/// panic in debug builds).
#[test]
fn an_xlsx_cell_past_xfd1048576_is_refused_with_a_message() {
    let cells = ["BYYYYYYYYYYYYYYYYYYYYYYY", "A99999999", "XFDA1"].map(|r| (r, "1"));
    for (cell, row) in cells.into_iter().chain([("A2", "99999999999")]) {
        let sheet = format!(
            "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>\
             <row r=\"{row}\"><c r=\"A1\" t=\"inlineStr\"><is><t>nombre</t></is></c><c r=\"{cell}\">\
             <v>1</v></c></row></sheetData></worksheet>"
        );
        let reference = if row == "1" { cell } else { row };
        let error = sello::bulk::read_upload("planilla.xlsx", &targets::workbook(sheet.as_bytes()))
            .expect_err("refused");
        assert!(
            error.contains(reference) && error.contains("XFD1048576"),
            "{error}"
        );
    }
    let sheet = "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>\
                 <row r=\"1\"><c r=\"XFD1\" t=\"inlineStr\"><is><t>nombre</t></is></c></row></sheetData></worksheet>";
    let last = sello::bulk::read_upload("planilla.xlsx", &targets::workbook(sheet.as_bytes()))
        .expect("XFD1 is a cell");
    assert_eq!(last.headers, vec!["nombre"]);
}
