//! The fonts Typst may use: those of `typst-assets` plus ours under
//! `forms/_fonts/`, all embedded in the binary and loaded once per process.

use std::sync::LazyLock;

use typst::foundations::Bytes;
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;

include!(concat!(env!("OUT_DIR"), "/extra_fonts.rs"));

/// Every embedded font face and the book that indexes them.
pub struct Fonts {
    pub book: LazyHash<FontBook>,
    pub faces: Vec<Font>,
}

/// The process-wide fonts, parsed on first use.
pub static FONTS: LazyLock<Fonts> = LazyLock::new(|| {
    let faces: Vec<Font> = typst_assets::fonts()
        .chain(EXTRA_FONTS.iter().copied())
        .flat_map(|data| Font::iter(Bytes::new(data)))
        .collect();
    let book = FontBook::from_fonts(&faces);
    Fonts {
        book: LazyHash::new(book),
        faces,
    }
});

/// One bit per Unicode code point: whether some embedded font draws it.
static COVERAGE: LazyLock<Vec<u64>> = LazyLock::new(|| {
    let mut bits = vec![0u64; (char::MAX as usize + 1).div_ceil(64)];
    for face in &FONTS.faces {
        for c in face.info().coverage.iter() {
            if let Some(word) = bits.get_mut(c as usize / 64) {
                *word |= 1 << (c % 64);
            }
        }
    }
    bits
});

/// Whether a character typed by a person can be printed. PDF/A forbids
/// characters without a glyph, so data holding one must be refused before
/// rendering, with a message, rather than fail to render.
pub fn printable(c: char) -> bool {
    if c.is_ascii() {
        return !c.is_ascii_control();
    }
    if c.is_control() {
        return false;
    }
    // Joiners and variation selectors shape emoji and scripts; they have no
    // glyph of their own.
    if matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}')
    {
        return true;
    }
    let code = c as usize;
    COVERAGE[code / 64] & (1 << (code % 64)) != 0
}
