//! Folios: the consecutive number an office gives each document of a series
//! in a year, printed in the office's format, e.g. `DIF-SLP/OF/2026/0142`.

use std::fmt;

/// The default format: office, series, year and a four-digit number.
pub const DEFAULT_FORMAT: &str = "{office}/{series}/{year}/{n:04}";

/// A folio format, checked once: it must contain the number (`{n}` or
/// `{n:0K}`), the series and the year, since numbers start again in each
/// series and year and a folio must never repeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolioFormat(String);

impl FolioFormat {
    pub fn parse(text: &str) -> Result<Self, String> {
        let has_number = text.contains("{n}") || (1..=9).any(|k| text.contains(&format!("{{n:0{k}}}")));
        let unknown = text
            .split('{')
            .skip(1)
            .filter_map(|part| part.split_once('}').map(|(name, _)| name))
            .find(|name| !matches!(*name, "office" | "series" | "year" | "n") && !name.starts_with("n:0"));
        let missing = ["{series}", "{year}"]
            .into_iter()
            .find(|part| !text.contains(part));
        match (has_number, unknown, missing) {
            (true, None, None) => Ok(Self(text.to_owned())),
            (false, _, _) => Err(format!(
                "el formato de folio «{text}» debe incluir el número: {{n}} o {{n:04}}"
            )),
            (true, None, Some(part)) => Err(format!(
                "el formato de folio «{text}» debe incluir {part}: la numeración empieza de nuevo en cada serie y año, y un folio no puede repetirse"
            )),
            (_, Some(name), _) => Err(format!(
                "el formato de folio «{text}» usa «{{{name}}}», que no existe; use {{office}}, {{series}}, {{year}} y {{n:04}}"
            )),
        }
    }

    /// The folio of number `n` of a series in a year.
    pub fn folio(&self, office: &str, series: &str, year: i32, n: u32) -> Folio {
        let mut text = self
            .0
            .replace("{office}", office)
            .replace("{series}", series)
            .replace("{year}", &year.to_string());
        text = text.replace("{n}", &n.to_string());
        for width in 1..=9 {
            text = text.replace(&format!("{{n:0{width}}}"), &format!("{n:0width$}"));
        }
        Folio(text)
    }
}

impl Default for FolioFormat {
    fn default() -> Self {
        Self(DEFAULT_FORMAT.to_owned())
    }
}

/// A document's folio as printed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Folio(String);

impl Folio {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A folio as the archive stored it when it was taken.
    pub(crate) fn stored(text: String) -> Self {
        Self(text)
    }
}

impl fmt::Display for Folio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_format_pads_the_number_to_four_digits() {
        let folio = FolioFormat::default().folio("DIF-SLP", "OF", 2026, 142);
        assert_eq!(folio.as_str(), "DIF-SLP/OF/2026/0142");
        assert_eq!(
            FolioFormat::default().folio("DIF", "OF", 2026, 12345).as_str(),
            "DIF/OF/2026/12345"
        );
    }

    #[test]
    fn other_formats_are_accepted_and_mistakes_named() {
        let format = FolioFormat::parse("{series}-{n:03}/{year}").unwrap();
        assert_eq!(format.folio("X", "ACT", 2026, 7).as_str(), "ACT-007/2026");
        assert!(
            FolioFormat::parse("{office}/{series}/{year}")
                .unwrap_err()
                .contains("número")
        );
        assert!(
            FolioFormat::parse("{oficina}/{series}/{year}/{n}")
                .unwrap_err()
                .contains("oficina")
        );
        assert!(
            FolioFormat::parse("{office}/{year}/{n:04}")
                .unwrap_err()
                .contains("{series}")
        );
        assert!(
            FolioFormat::parse("{series}/{n:04}")
                .unwrap_err()
                .contains("{year}")
        );
    }
}
