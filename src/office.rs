//! What an office prints as its own: the institution, address and logo of
//! its letterhead, the time zone of its dates and the country whose
//! conventions its documents follow. Each is the installation's unless the
//! office has its own.

use std::path::Path;
use std::str::FromStr;

use chrono_tz::Tz;

/// The largest logo an office may upload.
pub const LOGO_MAX_BYTES: usize = 512 * 1024;

/// A country whose offices use Sello, and what its documents follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Country {
    Mx,
    Cl,
    Pa,
}

impl Country {
    pub const ALL: [Country; 3] = [Country::Mx, Country::Cl, Country::Pa];

    /// `MX`, `CL` or `PA`, any case.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_uppercase().as_str() {
            "MX" => Some(Self::Mx),
            "CL" => Some(Self::Cl),
            "PA" => Some(Self::Pa),
            _ => None,
        }
    }

    /// The ISO 3166 code, as stored and handed to the templates.
    pub fn code(self) -> &'static str {
        match self {
            Self::Mx => "MX",
            Self::Cl => "CL",
            Self::Pa => "PA",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Mx => "México",
            Self::Cl => "Chile",
            Self::Pa => "Panamá",
        }
    }
}

/// The image formats a logo may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoKind {
    Png,
    Jpg,
    Svg,
}

impl LogoKind {
    /// As stored, and the extension of its virtual path.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpg => "jpg",
            Self::Svg => "svg",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "png" => Some(Self::Png),
            "jpg" => Some(Self::Jpg),
            "svg" => Some(Self::Svg),
            _ => None,
        }
    }

    /// The format the bytes themselves say, whatever the file was called.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Some(Self::Png);
        }
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            return Some(Self::Jpg);
        }
        // Lossy: a character cut at the end of the sample does not matter.
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]);
        let head = text.trim_start_matches('\u{feff}').trim_start();
        (head.starts_with("<?xml") || head.starts_with("<svg")).then_some(Self::Svg)
    }
}

/// A logo as an office uploaded it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logo {
    pub kind: LogoKind,
    pub bytes: Vec<u8>,
}

impl Logo {
    /// Accepts `bytes` only if they are a PNG, JPEG or SVG image that
    /// decodes, within [`LOGO_MAX_BYTES`]; the error says what to fix.
    pub fn parse(bytes: Vec<u8>) -> Result<Self, String> {
        if bytes.len() > LOGO_MAX_BYTES {
            return Err(format!(
                "el logotipo pesa {} KB; el máximo es {} KB",
                bytes.len().div_ceil(1024),
                LOGO_MAX_BYTES / 1024
            ));
        }
        let kind = LogoKind::sniff(&bytes)
            .ok_or_else(|| "el logotipo debe ser una imagen PNG, JPEG o SVG".to_owned())?;
        check_logo_bytes(kind, &bytes)
            .map_err(|reason| format!("el logotipo no es una imagen válida: {reason}"))?;
        Ok(Self { kind, bytes })
    }
}

/// The office an archive issues for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Office {
    pub code: String,
    pub name: String,
    /// What it prints as its own; the configured office's is the
    /// configuration's, whatever this says.
    pub identity: OfficeIdentity,
}

impl Office {
    /// An office with the installation's identity.
    pub fn new(code: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            name: name.into(),
            identity: OfficeIdentity::default(),
        }
    }
}

/// What an office has of its own; `None` is «as the installation».
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OfficeIdentity {
    /// The first line of the letterhead. With it the office also has its
    /// own address and logo: the installation's belong to its institution.
    pub institution: Option<String>,
    /// Printed under the office's name when the office names its own
    /// institution; empty prints none.
    pub address: Option<String>,
    pub time_zone: Option<Tz>,
    pub country: Option<Country>,
    /// The format of the office's own logo, if it has one.
    pub logo: Option<LogoKind>,
    /// Grows with every change; what was prepared for an older revision is
    /// prepared again.
    pub revision: i64,
}

impl OfficeIdentity {
    /// From the stored columns; a value that no longer parses (a time zone
    /// a newer database dropped) reads as the installation's.
    pub fn from_columns(
        institution: Option<String>,
        address: Option<String>,
        time_zone: Option<String>,
        country: Option<String>,
        logo: Option<String>,
        revision: i64,
    ) -> Self {
        Self {
            institution: institution.filter(|s| !s.trim().is_empty()),
            address,
            time_zone: time_zone.and_then(|z| Tz::from_str(&z).ok()),
            country: country.as_deref().and_then(Country::parse),
            logo: logo.as_deref().and_then(LogoKind::parse),
            revision,
        }
    }
}

/// The logo's image format, from its extension.
pub fn logo_extension(path: &Path) -> Option<&'static str> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "png" => Some("png"),
        "jpg" | "jpeg" => Some("jpg"),
        "svg" => Some("svg"),
        _ => None,
    }
}

/// Whether the logo file decodes as the image its extension says, so a bad
/// file is refused at start-up rather than on every document.
pub fn check_logo(path: &Path) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let kind = match logo_extension(path) {
        Some("svg") => LogoKind::Svg,
        Some("jpg") => LogoKind::Jpg,
        Some(_) => LogoKind::Png,
        None => return Err("formato desconocido".into()),
    };
    check_logo_bytes(kind, &bytes)
}

/// Whether `bytes` decode as a `kind` image, as Typst will read them.
pub fn check_logo_bytes(kind: LogoKind, bytes: &[u8]) -> Result<(), String> {
    use typst::visualize::{ExchangeFormat, RasterImage, SvgImage};
    let bytes = typst::foundations::Bytes::new(bytes.to_vec());
    match kind {
        LogoKind::Svg => SvgImage::new(bytes).map(drop).map_err(|e| format!("{e:?}")),
        LogoKind::Jpg => RasterImage::plain(bytes, ExchangeFormat::Jpg)
            .map(drop)
            .map_err(|e| e.to_string()),
        LogoKind::Png => RasterImage::plain(bytes, ExchangeFormat::Png)
            .map(drop)
            .map_err(|e| e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_logo_is_known_by_its_bytes_not_its_name() {
        assert_eq!(LogoKind::sniff(b"\x89PNG\r\n\x1a\nrest"), Some(LogoKind::Png));
        assert_eq!(LogoKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(LogoKind::Jpg));
        assert_eq!(
            LogoKind::sniff(b"\xef\xbb\xbf <?xml version=\"1.0\"?><svg/>"),
            Some(LogoKind::Svg),
            "an SVG may start with a byte-order mark"
        );
        assert_eq!(
            LogoKind::sniff(b"  <svg xmlns=\"http://www.w3.org/2000/svg\"/>"),
            Some(LogoKind::Svg)
        );
        assert_eq!(LogoKind::sniff(b"GIF89a"), None);
        assert_eq!(LogoKind::sniff(b"%PDF-1.7"), None);
    }

    #[test]
    fn a_logo_that_does_not_decode_or_is_too_big_is_refused() {
        assert!(Logo::parse(b"\x89PNG\r\n\x1a\nnot really".to_vec()).is_err());
        let big = vec![b' '; LOGO_MAX_BYTES + 1];
        assert!(Logo::parse(big).unwrap_err().contains("máximo"));
    }

    #[test]
    fn countries_parse_in_any_case() {
        assert_eq!(Country::parse("cl"), Some(Country::Cl));
        assert_eq!(Country::parse(" PA "), Some(Country::Pa));
        assert_eq!(Country::parse("AR"), None);
    }
}
