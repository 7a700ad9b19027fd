//! Verification codes: 128 random bits from the operating system, printed
//! in Crockford base32 in groups of four with a check character, so a
//! beneficiary can type one from paper and a typo is caught. A code is never
//! derived from personal data, folios or time.

use std::fmt;

use sha2::{Digest, Sha256};

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Crockford's check symbols: the alphabet plus five more, for mod 37.
const CHECK_SYMBOLS: &[u8; 37] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U";
/// 128 bits take 26 base32 digits.
const DIGITS: usize = 26;

/// A document's verification code.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct VerificationCode(u128);

/// Why typed text is not a verification code. The same answer for every
/// kind of mistake, so the public page reveals nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("el código de verificación no es válido; revise que esté bien escrito")]
pub struct InvalidCode;

/// What is wrong with text typed as a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mistyped {
    /// It has this many letters and digits instead of 27.
    Length(usize),
    /// A symbol no code uses (such as `U` or `*`), or a first symbol over 7.
    Symbol,
    /// Well formed, but its last character does not match the others: a
    /// character was misread or two were swapped.
    CheckCharacter,
}

impl VerificationCode {
    /// The number of letters and digits of a code, hyphens aside.
    pub const LENGTH: usize = DIGITS + 1;

    /// A new code from the operating system's secure random generator.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)?;
        Ok(Self(u128::from_be_bytes(bytes)))
    }

    /// Reads a code as a person may type it: any case, with or without
    /// hyphens or spaces, `I`/`L` for 1 and `O` for 0.
    pub fn parse(text: &str) -> Result<Self, InvalidCode> {
        Self::read(text).map_err(|_| InvalidCode)
    }

    /// Like [`Self::parse`], saying what is wrong with the text as typed:
    /// a property of the text alone (anyone can compute a check
    /// character), so telling it reveals nothing about the archive.
    pub fn read(text: &str) -> Result<Self, Mistyped> {
        let symbols: Vec<u8> = text
            .bytes()
            .filter(|b| !matches!(b, b'-' | b' '))
            .map(|b| match b.to_ascii_uppercase() {
                b'I' | b'L' => b'1',
                b'O' => b'0',
                other => other,
            })
            .collect();
        if symbols.len() != DIGITS + 1 {
            return Err(Mistyped::Length(symbols.len()));
        }
        let mut value: u128 = 0;
        for (i, symbol) in symbols[..DIGITS].iter().enumerate() {
            let digit = ALPHABET
                .iter()
                .position(|a| a == symbol)
                .ok_or(Mistyped::Symbol)? as u128;
            // The first digit carries only the top three bits.
            if i == 0 && digit > 7 {
                return Err(Mistyped::Symbol);
            }
            value = (value << 5) | digit;
        }
        let code = Self(value);
        if code.check_symbol() == symbols[DIGITS] {
            Ok(code)
        } else {
            Err(Mistyped::CheckCharacter)
        }
    }

    fn check_symbol(&self) -> u8 {
        CHECK_SYMBOLS[(self.0 % 37) as usize]
    }

    /// The SHA-256 of the code: what the archive stores to find a document
    /// by its code without keeping the code itself.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.0.to_be_bytes()).into()
    }

    /// The code as printed: `XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXX`.
    pub fn display(&self) -> String {
        let mut symbols = Vec::with_capacity(DIGITS + 1);
        for i in (0..DIGITS).rev() {
            symbols.push(ALPHABET[((self.0 >> (5 * i)) & 31) as usize]);
        }
        symbols.push(self.check_symbol());
        symbols
            .chunks(4)
            .map(|group| String::from_utf8_lossy(group).into_owned())
            .collect::<Vec<_>>()
            .join("-")
    }
}

impl fmt::Display for VerificationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

impl fmt::Debug for VerificationCode {
    /// Codes stay out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VerificationCode(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_reads_back_as_printed_and_as_typed() {
        for _ in 0..200 {
            let code = VerificationCode::generate().unwrap();
            let printed = code.display();
            assert_eq!(printed.len(), 27 + 6);
            assert_eq!(VerificationCode::parse(&printed), Ok(code));
            let typed = printed
                .replace('-', " ")
                .to_lowercase()
                .replace('1', "l")
                .replace('0', "o");
            assert_eq!(VerificationCode::parse(&typed), Ok(code));
        }
    }

    #[test]
    fn a_mistyped_code_says_what_is_wrong() {
        let printed = VerificationCode::generate().unwrap().display();
        assert_eq!(VerificationCode::read(&printed[..20]), Err(Mistyped::Length(16)));
        let mut swapped: Vec<u8> = printed.clone().into_bytes();
        let last = swapped.len() - 1;
        swapped[last] = if swapped[last] == b'0' { b'1' } else { b'0' };
        assert_eq!(
            VerificationCode::read(std::str::from_utf8(&swapped).unwrap()),
            Err(Mistyped::CheckCharacter)
        );
        let mut foreign = printed.into_bytes();
        foreign[1] = b'*';
        assert_eq!(
            VerificationCode::read(std::str::from_utf8(&foreign).unwrap()),
            Err(Mistyped::Symbol)
        );
    }

    #[test]
    fn a_single_typo_is_caught() {
        let code = VerificationCode::generate().unwrap();
        let printed: Vec<u8> = code.display().into_bytes();
        for position in (0..printed.len()).filter(|i| printed[*i] != b'-') {
            for replacement in ALPHABET {
                if *replacement == printed[position] {
                    continue;
                }
                let mut typo = printed.clone();
                typo[position] = *replacement;
                let typo = String::from_utf8(typo).unwrap();
                assert!(VerificationCode::parse(&typo).is_err(), "{typo} accepted");
            }
        }
    }

    #[test]
    fn two_codes_differ() {
        assert_ne!(
            VerificationCode::generate().unwrap(),
            VerificationCode::generate().unwrap()
        );
    }

    #[test]
    fn codes_stay_out_of_debug_output() {
        let code = VerificationCode::generate().unwrap();
        assert!(!format!("{code:?}").contains(&code.display()[..4]));
    }
}
