//! A small, strict reader and writer of PDF objects: just what signing and
//! verifying Sello's own documents needs, with limits on depth and size so a
//! hostile file ends in an error, never a panic or a runaway.
//!
//! Full PDF libraries parse the whole file; signing a 1,000-row padrón must
//! touch only the trailer, the catalog and one page, so we read objects one
//! at a time, at the offsets the cross-reference table gives.
//!
//! Long because a reader and a writer of the same small grammar, with its
//! limits, are clearer side by side than split; its unit tests follow.

use std::fmt::Write as _;

/// How deeply arrays and dictionaries may nest.
const MAX_DEPTH: usize = 32;
/// The most entries an array or dictionary may have.
const MAX_ITEMS: usize = 100_000;

/// A PDF object. Numbers keep their original text, so a dictionary copied
/// from one revision to the next is written back exactly.
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    Null,
    Bool(bool),
    Number(String),
    Name(Vec<u8>),
    String(Vec<u8>),
    Array(Vec<Object>),
    Dict(Dict),
    Ref(u32, u16),
}

/// A dictionary, in file order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dict(pub Vec<(Vec<u8>, Object)>);

impl Dict {
    pub fn get(&self, key: &str) -> Option<&Object> {
        self.0.iter().find(|(k, _)| k == key.as_bytes()).map(|(_, v)| v)
    }

    /// Sets `key`, replacing an existing entry in place.
    pub fn set(&mut self, key: &str, value: Object) {
        match self.0.iter_mut().find(|(k, _)| k == key.as_bytes()) {
            Some(entry) => entry.1 = value,
            None => self.0.push((key.as_bytes().to_vec(), value)),
        }
    }

    pub fn remove(&mut self, key: &str) {
        self.0.retain(|(k, _)| k != key.as_bytes());
    }

    pub fn name(&self, key: &str) -> Option<&[u8]> {
        match self.get(key)? {
            Object::Name(name) => Some(name),
            _ => None,
        }
    }

    pub fn reference(&self, key: &str) -> Option<(u32, u16)> {
        match self.get(key)? {
            Object::Ref(n, g) => Some((*n, *g)),
            _ => None,
        }
    }

    pub fn int(&self, key: &str) -> Option<i64> {
        self.get(key)?.as_int()
    }
}

impl Object {
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Object::Number(text) => text.parse().ok(),
            _ => None,
        }
    }

    /// An indirect reference's number and generation.
    pub fn as_ref(&self) -> Option<(u32, u16)> {
        match self {
            Object::Ref(n, g) => Some((*n, *g)),
            _ => None,
        }
    }

    pub fn as_dict(&self) -> Option<&Dict> {
        match self {
            Object::Dict(dict) => Some(dict),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Object]> {
        match self {
            Object::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn int_of(n: i64) -> Self {
        Object::Number(n.to_string())
    }

    pub fn name_of(name: &str) -> Self {
        Object::Name(name.as_bytes().to_vec())
    }

    /// Writes the object in PDF syntax.
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            Object::Null => out.extend_from_slice(b"null"),
            Object::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Object::Number(text) => out.extend_from_slice(text.as_bytes()),
            Object::Name(name) => write_name(name, out),
            Object::String(bytes) => {
                let mut hex = String::with_capacity(bytes.len() * 2 + 2);
                hex.push('<');
                for b in bytes {
                    let _ = write!(hex, "{b:02X}");
                }
                hex.push('>');
                out.extend_from_slice(hex.as_bytes());
            }
            Object::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b' ');
                    }
                    item.write(out);
                }
                out.push(b']');
            }
            Object::Dict(dict) => dict.write(out),
            Object::Ref(n, g) => out.extend_from_slice(format!("{n} {g} R").as_bytes()),
        }
    }
}

impl Dict {
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"<<");
        for (key, value) in &self.0 {
            write_name(key, out);
            out.push(b' ');
            value.write(out);
        }
        out.extend_from_slice(b">>");
    }
}

fn write_name(name: &[u8], out: &mut Vec<u8>) {
    out.push(b'/');
    for &b in name {
        if b.is_ascii_alphanumeric() || b"-_.+".contains(&b) {
            out.push(b);
        } else {
            out.extend_from_slice(format!("#{b:02X}").as_bytes());
        }
    }
}

/// Why an object could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("PDF ilegible en el byte {offset}: {reason}")]
pub struct ParseError {
    pub offset: usize,
    pub reason: &'static str,
}

/// A cursor over the bytes of a PDF.
pub struct Parser<'a> {
    bytes: &'a [u8],
    pub pos: usize,
}

fn is_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\0')
}

fn is_delimiter(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

impl<'a> Parser<'a> {
    pub fn new(bytes: &'a [u8], pos: usize) -> Self {
        Self { bytes, pos }
    }

    fn fail<T>(&self, reason: &'static str) -> Result<T, ParseError> {
        Err(ParseError {
            offset: self.pos,
            reason,
        })
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Skips whitespace and comments.
    pub fn skip_space(&mut self) {
        while let Some(b) = self.peek() {
            if is_whitespace(b) {
                self.pos += 1;
            } else if b == b'%' {
                while let Some(c) = self.peek() {
                    if c == b'\n' || c == b'\r' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// Consumes `word` (a keyword such as `obj`) or fails.
    pub fn expect(&mut self, word: &[u8]) -> Result<(), ParseError> {
        self.skip_space();
        if self.bytes[self.pos.min(self.bytes.len())..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            self.fail("falta una palabra clave esperada")
        }
    }

    /// Consumes `word` after plain whitespace only; for `%%EOF`, which
    /// looks like a comment.
    pub fn expect_marker(&mut self, word: &[u8]) -> Result<(), ParseError> {
        while self.peek().is_some_and(is_whitespace) {
            self.pos += 1;
        }
        if self.bytes[self.pos.min(self.bytes.len())..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            self.fail("falta una marca esperada")
        }
    }

    /// Reads an unsigned integer token.
    pub fn unsigned(&mut self) -> Result<u64, ParseError> {
        self.skip_space();
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        if self.pos == start || self.pos - start > 12 {
            return self.fail("se esperaba un número");
        }
        std::str::from_utf8(&self.bytes[start..self.pos])
            .ok()
            .and_then(|s| s.parse().ok())
            .map_or_else(|| self.fail("número inválido"), Ok)
    }

    /// Reads `N G obj`, returning the object number and generation.
    pub fn object_header(&mut self) -> Result<(u32, u16), ParseError> {
        let number = u32::try_from(self.unsigned()?).or_else(|_| self.fail("número de objeto inválido"))?;
        let generation = u16::try_from(self.unsigned()?).or_else(|_| self.fail("generación inválida"))?;
        self.expect(b"obj")?;
        Ok((number, generation))
    }

    /// Reads one object.
    pub fn object(&mut self) -> Result<Object, ParseError> {
        self.object_at_depth(0)
    }

    fn object_at_depth(&mut self, depth: usize) -> Result<Object, ParseError> {
        if depth > MAX_DEPTH {
            return self.fail("anidamiento excesivo");
        }
        self.skip_space();
        let Some(b) = self.peek() else {
            return self.fail("fin inesperado del archivo");
        };
        match b {
            b'/' => {
                self.pos += 1;
                Ok(Object::Name(self.name_body()?))
            }
            b'(' => self.literal_string(),
            b'<' if self.bytes.get(self.pos + 1) == Some(&b'<') => {
                self.pos += 2;
                Ok(Object::Dict(self.dict_body(depth)?))
            }
            b'<' => self.hex_string(),
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_space();
                    match self.peek() {
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Object::Array(items));
                        }
                        Some(_) if items.len() < MAX_ITEMS => items.push(self.object_at_depth(depth + 1)?),
                        Some(_) => return self.fail("arreglo demasiado grande"),
                        None => return self.fail("arreglo sin cerrar"),
                    }
                }
            }
            b'0'..=b'9' | b'+' | b'-' | b'.' => self.number_or_ref(),
            _ => {
                let word = self.keyword();
                match word {
                    b"true" => Ok(Object::Bool(true)),
                    b"false" => Ok(Object::Bool(false)),
                    b"null" => Ok(Object::Null),
                    _ => self.fail("objeto desconocido"),
                }
            }
        }
    }

    fn keyword(&mut self) -> &'a [u8] {
        let start = self.pos;
        while self.peek().is_some_and(|b| !is_whitespace(b) && !is_delimiter(b)) {
            self.pos += 1;
        }
        &self.bytes[start..self.pos]
    }

    fn name_body(&mut self) -> Result<Vec<u8>, ParseError> {
        let raw = self.keyword();
        let mut name = Vec::with_capacity(raw.len());
        let mut i = 0;
        while i < raw.len() {
            if raw[i] == b'#' {
                let hex = raw.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => name.push(b),
                    None => return self.fail("nombre con escape inválido"),
                }
                i += 3;
            } else {
                name.push(raw[i]);
                i += 1;
            }
        }
        Ok(name)
    }

    fn dict_body(&mut self, depth: usize) -> Result<Dict, ParseError> {
        let mut dict = Dict::default();
        loop {
            self.skip_space();
            match self.peek() {
                Some(b'>') if self.bytes.get(self.pos + 1) == Some(&b'>') => {
                    self.pos += 2;
                    return Ok(dict);
                }
                Some(b'/') if dict.0.len() < MAX_ITEMS => {
                    self.pos += 1;
                    let key = self.name_body()?;
                    let value = self.object_at_depth(depth + 1)?;
                    dict.0.push((key, value));
                }
                Some(_) => return self.fail("diccionario inválido"),
                None => return self.fail("diccionario sin cerrar"),
            }
        }
    }

    fn number_or_ref(&mut self) -> Result<Object, ParseError> {
        let start = self.pos;
        let first = self.number_token()?;
        // `N G R` is a reference; look ahead without committing.
        if first.bytes().all(|b| b.is_ascii_digit()) {
            let save = self.pos;
            self.skip_space();
            let gen_start = self.pos;
            while self.peek().is_some_and(|b| b.is_ascii_digit()) {
                self.pos += 1;
            }
            if self.pos > gen_start {
                let generation = std::str::from_utf8(&self.bytes[gen_start..self.pos]).unwrap_or("");
                self.skip_space();
                if self.peek() == Some(b'R')
                    && self
                        .bytes
                        .get(self.pos + 1)
                        .is_none_or(|b| is_whitespace(*b) || is_delimiter(*b))
                {
                    self.pos += 1;
                    return match (first.parse(), generation.parse()) {
                        (Ok(n), Ok(g)) => Ok(Object::Ref(n, g)),
                        _ => Err(ParseError {
                            offset: start,
                            reason: "referencia inválida",
                        }),
                    };
                }
            }
            self.pos = save;
        }
        Ok(Object::Number(first))
    }

    fn number_token(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.'))
        {
            self.pos += 1;
        }
        let text = std::str::from_utf8(&self.bytes[start..self.pos]).unwrap_or("");
        if text.is_empty() || text.len() > 32 || text.parse::<f64>().is_err() {
            return self.fail("número inválido");
        }
        Ok(text.to_owned())
    }

    fn literal_string(&mut self) -> Result<Object, ParseError> {
        self.pos += 1;
        let mut out = Vec::new();
        let mut nesting = 1usize;
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b'\\' => {
                    let Some(escaped) = self.peek() else { break };
                    self.pos += 1;
                    match escaped {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'0'..=b'7' => {
                            let mut value = u32::from(escaped - b'0');
                            for _ in 0..2 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        value = value * 8 + u32::from(d - b'0');
                                        self.pos += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push((value & 0xFF) as u8);
                        }
                        b'\r' => {
                            if self.peek() == Some(b'\n') {
                                self.pos += 1;
                            }
                        }
                        b'\n' => {}
                        other => out.push(other),
                    }
                }
                b'(' => {
                    nesting += 1;
                    out.push(b);
                }
                b')' => {
                    nesting -= 1;
                    if nesting == 0 {
                        return Ok(Object::String(out));
                    }
                    out.push(b);
                }
                _ => out.push(b),
            }
        }
        self.fail("cadena sin cerrar")
    }

    fn hex_string(&mut self) -> Result<Object, ParseError> {
        self.pos += 1;
        let mut digits = Vec::new();
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b'>' => {
                    if digits.len() % 2 == 1 {
                        digits.push(b'0');
                    }
                    let bytes = digits
                        .chunks(2)
                        .map(|pair| (hex_value(pair[0]) << 4) | hex_value(pair[1]))
                        .collect();
                    return Ok(Object::String(bytes));
                }
                b if b.is_ascii_hexdigit() => digits.push(b),
                b if is_whitespace(b) => {}
                _ => return self.fail("cadena hexadecimal inválida"),
            }
        }
        self.fail("cadena hexadecimal sin cerrar")
    }
}

fn hex_value(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b - b'A' + 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Object, ParseError> {
        Parser::new(text.as_bytes(), 0).object()
    }

    #[test]
    fn reads_a_typical_page_dictionary() {
        let page = parse("<</Type /Page /Parent 3 0 R /MediaBox [0 0 612.0 792.5] /Annots [] /Name#20x (a\\(b\\)) /H <4869>>>").unwrap();
        let dict = page.as_dict().unwrap();
        assert_eq!(dict.name("Type"), Some(&b"Page"[..]));
        assert_eq!(dict.reference("Parent"), Some((3, 0)));
        assert_eq!(dict.get("Name x"), Some(&Object::String(b"a(b)".to_vec())));
        assert_eq!(dict.get("H"), Some(&Object::String(b"Hi".to_vec())));
    }

    #[test]
    fn writing_and_reading_back_gives_the_same_object() {
        let original = parse("<</A [1 -2.5 3 0 R true null] /B <</C (x)>> /D#2F /e>>").unwrap();
        let mut out = Vec::new();
        original.write(&mut out);
        assert_eq!(Parser::new(&out, 0).object().unwrap(), original);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let hostile = "[".repeat(100_000);
        assert!(parse(&hostile).is_err());
        let hostile = "<</a ".repeat(10_000);
        assert!(parse(&hostile).is_err());
    }

    #[test]
    fn truncated_input_is_an_error() {
        for bad in ["<</A 1", "[1 2", "(abc", "<4142", "/", "", "12 0 "] {
            let result = parse(bad);
            assert!(
                result.is_err() || matches!(result, Ok(Object::Number(_)) | Ok(Object::Name(_))),
                "{bad}"
            );
        }
    }
}
