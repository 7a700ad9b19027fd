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
