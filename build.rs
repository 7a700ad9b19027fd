//! Embeds the fonts under `forms/_fonts/` into the binary, so rendering never
//! depends on the fonts installed on the machine.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets it")).join("forms/_fonts");
    println!("cargo::rerun-if-changed={}", dir.display());

    let mut fonts: Vec<PathBuf> = fs::read_dir(&dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    fonts.retain(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("ttf" | "otf")));
    fonts.sort();

    let mut code =
        String::from("/// Fonts shipped in forms/_fonts.\npub static EXTRA_FONTS: &[&[u8]] = &[\n");
    for font in &fonts {
        println!("cargo::rerun-if-changed={}", font.display());
        writeln!(code, "    include_bytes!({:?}),", font.display().to_string()).expect("writing to a String");
    }
    code.push_str("];\n");
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets it")).join("extra_fonts.rs");
    fs::write(out, code).expect("OUT_DIR is writable");
}
