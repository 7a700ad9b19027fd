//! Characters that print as nothing, or reorder what is around them.
//!
//! A name typed as `Juan \u{202E}odnanreF\u{202C} Pérez` prints «Juan
//! Fernando Pérez» while the archive stores and searches «odnanreF»; a
//! zero-width space makes two names that print alike differ in a search.
//! They are refused, never removed: what is stored is then exactly what
//! was typed (and what an API client hashed and sent), and the clerk learns
//! that the text came with something hidden in it.

/// The first invisible character of `text`, with what it is. A zero-width
/// joiner between two emoji (👨‍👩‍👧) is part of how the emoji is written,
/// not hidden text, and stays.
pub(super) fn find(text: &str) -> Option<(char, &'static str)> {
    let chars: Vec<char> = text.chars().collect();
    chars.iter().enumerate().find_map(|(i, &c)| {
        let joins_emoji = c == '\u{200D}'
            && i > 0
            && (emoji(chars[i - 1]) || chars[i - 1] == '\u{FE0F}')
            && chars.get(i + 1).copied().is_some_and(emoji);
        if joins_emoji {
            None
        } else {
            kind(c).map(|k| (c, k))
        }
    })
}

/// The blocks where emoji live (pictographs, symbols, dingbats, arrows).
fn emoji(c: char) -> bool {
    matches!(c, '\u{2190}'..='\u{21FF}' | '\u{2300}'..='\u{23FF}' | '\u{2600}'..='\u{27BF}'
        | '\u{2B00}'..='\u{2BFF}' | '\u{1F000}'..='\u{1FAFF}')
}

/// Every format character (Unicode category Cf, as of Unicode 15.1), the
/// line and paragraph separators, and the Hangul fillers that fonts draw
/// as blanks. Variation selectors stay: they pick how an emoji is drawn.
fn kind(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {
            "un control de dirección del texto"
        }
        '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' => "un espacio o una unión de ancho cero",
        '\u{00AD}' => "un guion invisible (guion suave)",
        '\u{2028}' | '\u{2029}' => "un separador de línea o de párrafo",
        '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' => "un relleno invisible",
        '\u{0600}'..='\u{0605}'
        | '\u{06DD}'
        | '\u{070F}'
        | '\u{0890}'..='\u{0891}'
        | '\u{08E2}'
        | '\u{180E}'
        | '\u{2061}'..='\u{2064}'
        | '\u{206A}'..='\u{206F}'
        | '\u{FFF9}'..='\u{FFFB}'
        | '\u{110BD}'
        | '\u{110CD}'
        | '\u{13430}'..='\u{1343F}'
        | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0001}'
        | '\u{E0020}'..='\u{E007F}' => "un carácter de formato invisible",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_overrides_and_zero_width_characters_are_found() {
        assert_eq!(
            find("Juan \u{202E}odnanreF\u{202C} Pérez"),
            Some(('\u{202E}', "un control de dirección del texto"))
        );
        for c in [
            '\u{200B}',
            '\u{200D}',
            '\u{2060}',
            '\u{FEFF}',
            '\u{00AD}',
            '\u{2066}',
            '\u{E0041}',
        ] {
            assert!(find(&format!("Ana{c}María")).is_some(), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn ordinary_spanish_and_emoji_variation_selectors_are_not() {
        assert_eq!(find("Peña Núñez, José Ángel — «Güemes» · 2026/0142"), None);
        assert_eq!(find("Gracias \u{2764}\u{FE0F}"), None);
        assert_eq!(find("Familia \u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}"), None);
        assert_eq!(find("Bandera \u{1F3F3}\u{FE0F}\u{200D}\u{1F308}"), None);
        // Not between emoji, the same joiner is hidden text.
        assert!(find("Ju\u{200D}an").is_some());
        assert!(find("\u{1F468}\u{200D}an").is_some());
        assert_eq!(find("Calle 5\u{00A0}de Mayo"), None);
    }
}
