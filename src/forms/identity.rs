//! Shape and check-digit rules of the national identity numbers the seeds
//! use: Mexico's CURP, Chile's RUN and Panama's cédula. Catching a mistyped
//! number here saves a returned document later.

use std::borrow::Cow;

use super::spec::{FieldSpec, FieldType, FormSpec, IdentityKind};
use crate::office::Country;

impl FormSpec {
    /// The form as an office of `country` fills it in: a person field that
    /// does not say which number it takes is checked as the country's
    /// (CURP, RUN, cédula). Fields that name theirs, `any` included, keep it.
    pub fn for_country(&self, country: Option<Country>) -> Cow<'_, FormSpec> {
        let Some(country) = country else {
            return Cow::Borrowed(self);
        };
        if !self.fields.iter().any(takes_national) {
            return Cow::Borrowed(self);
        }
        let mut form = self.clone();
        for field in &mut form.fields {
            set_national(field, IdentityKind::national_of(country));
        }
        Cow::Owned(form)
    }
}

impl IdentityKind {
    /// The identity number a person field of an office of `country` is
    /// checked as when the form does not say which one it takes.
    pub fn national_of(country: Country) -> Self {
        match country {
            Country::Mx => Self::Curp,
            Country::Cl => Self::Run,
            Country::Pa => Self::Cedula,
        }
    }
}

fn takes_national(field: &FieldSpec) -> bool {
    match &field.kind {
        FieldType::Person { identity, .. } => *identity == IdentityKind::National,
        FieldType::List { columns, .. } => columns.iter().any(takes_national),
        _ => false,
    }
}

fn set_national(field: &mut FieldSpec, kind: IdentityKind) {
    match &mut field.kind {
        FieldType::Person { identity, .. } if *identity == IdentityKind::National => *identity = kind,
        FieldType::List { columns, .. } => columns.iter_mut().for_each(|c| set_national(c, kind)),
        _ => {}
    }
}

impl FormSpec {
    /// The name of the person a document concerns, for lists: the
    /// expediente's key when it is a person, else the first person field.
    pub fn person_concerned(&self, data: &serde_json::Value) -> Option<String> {
        let is_person = |f: &&FieldSpec| matches!(f.kind, FieldType::Person { .. });
        let keyed = (self.expediente.as_ref())
            .and_then(|rule| self.fields.iter().filter(is_person).find(|f| f.name == rule.key));
        let field = keyed.or_else(|| self.fields.iter().find(is_person))?;
        let name = data.get(&field.name)?.get("nombre")?.as_str()?.trim();
        (!name.is_empty()).then(|| name.to_owned())
    }
}

/// An identity number as people type it, written the way `kind` is
/// checked and printed: a CURP or cédula without spaces and in capitals,
/// a RUN with its dots and dash (`12345678-k` → `12.345.678-K`). Anything
/// that does not take that shape is left as typed (trimmed), for the
/// check to explain.
pub fn normalize(kind: IdentityKind, value: &str) -> String {
    let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    match kind {
        IdentityKind::Curp | IdentityKind::Cedula => compact.to_uppercase(),
        IdentityKind::Run => normalize_run(&compact).unwrap_or_else(|| value.trim().to_owned()),
        IdentityKind::Any | IdentityKind::National => value.trim().to_owned(),
    }
}

fn normalize_run(compact: &str) -> Option<String> {
    let digits: String = compact.chars().filter(|c| !matches!(c, '.' | '-')).collect();
    let (body, check) = digits.split_at(digits.len().checked_sub(1)?);
    let check = check.to_uppercase();
    let body_ok = (1..=8).contains(&body.len()) && body.bytes().all(|b| b.is_ascii_digit());
    if !body_ok || !(check == "K" || check.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let mut grouped = String::new();
    for (i, digit) in body.chars().enumerate() {
        if i > 0 && (body.len() - i) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(digit);
    }
    Some(format!("{grouped}-{check}"))
}

/// Checks `value` against `kind`; the error explains what a clerk should fix.
pub(super) fn check(kind: IdentityKind, value: &str) -> Result<(), String> {
    match kind {
        IdentityKind::Curp => check_curp(value),
        IdentityKind::Run => check_run(value),
        IdentityKind::Cedula => check_cedula(value),
        // An office's view of its forms names its country's number
        // (`FormSpec::for_country`); without a country, any will do.
        IdentityKind::Any | IdentityKind::National => Ok(()),
    }
}

const CURP_ALPHABET: &str = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ";

fn check_curp(value: &str) -> Result<(), String> {
    let chars: Vec<char> = value.chars().collect();
    let shape_ok = chars.len() == 18
        && chars[0..4].iter().all(|c| c.is_ascii_uppercase())
        && chars[4..10].iter().all(char::is_ascii_digit)
        && matches!(chars[10], 'H' | 'M' | 'X')
        && chars[11..16].iter().all(|c| c.is_ascii_uppercase())
        && chars[16].is_ascii_alphanumeric()
        && chars[17].is_ascii_digit();
    if !shape_ok {
        return Err("la CURP debe tener 18 caracteres en mayúsculas, \
                    como «GOML850312MSPRPR09»"
            .into());
    }
    let sum: u32 = chars[..17]
        .iter()
        .zip((2..=18).rev())
        .map(|(c, weight)| {
            let value = CURP_ALPHABET.chars().position(|a| a == *c).unwrap_or(0) as u32;
            value * weight
        })
        .sum();
    let expected = (10 - sum % 10) % 10;
    if chars[17].to_digit(10) == Some(expected) {
        Ok(())
    } else {
        Err("la CURP no es válida: su dígito verificador no corresponde; revise que esté bien escrita".into())
    }
}

fn check_run(value: &str) -> Result<(), String> {
    let compact: String = value.chars().filter(|c| *c != '.').collect();
    let Some((body, check)) = compact.split_once('-') else {
        return Err("el RUN debe escribirse con guion y dígito verificador, como «12.345.678-5»".into());
    };
    if body.is_empty() || body.len() > 8 || !body.bytes().all(|b| b.is_ascii_digit()) {
        return Err("el RUN debe tener hasta 8 dígitos antes del guion, como «12.345.678-5»".into());
    }
    let sum: u32 = body
        .bytes()
        .rev()
        .zip([2, 3, 4, 5, 6, 7].iter().cycle())
        .map(|(b, weight)| u32::from(b - b'0') * weight)
        .sum();
    let expected = match 11 - sum % 11 {
        11 => '0',
        10 => 'K',
        d => char::from_digit(d, 10).unwrap_or('?'),
    };
    if check.len() == 1 && check.to_ascii_uppercase().starts_with(expected) {
        Ok(())
    } else {
        Err("el RUN no es válido: su dígito verificador no corresponde; revise que esté bien escrito".into())
    }
}

fn check_cedula(value: &str) -> Result<(), String> {
    // Province (1–13), or PE / E / N, optionally followed by AV or PI;
    // then volume (tomo) and entry (asiento): `8-123-4567`, `PE-12-345`.
    let parts: Vec<&str> = value.split('-').collect();
    let digits =
        |s: &str, max: usize| !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit());
    let prefix_ok = |p: &str| {
        let p = p.strip_suffix("AV").or_else(|| p.strip_suffix("PI")).unwrap_or(p);
        matches!(p, "PE" | "E" | "N") || p.parse::<u8>().is_ok_and(|n| (1..=13).contains(&n))
    };
    let ok = parts.len() == 3 && prefix_ok(parts[0]) && digits(parts[1], 4) && digits(parts[2], 6);
    if ok {
        Ok(())
    } else {
        Err("la cédula debe escribirse como «8-123-4567» (provincia, tomo y asiento)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::{IssueDate, validate};

    #[test]
    fn identity_numbers_are_written_as_they_are_checked() {
        assert_eq!(
            normalize(IdentityKind::Curp, " goml 850312mspr pr09 "),
            "GOML850312MSPRPR09"
        );
        assert!(
            check(
                IdentityKind::Curp,
                &normalize(IdentityKind::Curp, "goml850312msprpr09")
            )
            .is_ok()
        );
        assert_eq!(normalize(IdentityKind::Run, "12345678-5"), "12.345.678-5");
        assert_eq!(normalize(IdentityKind::Run, "123456785"), "12.345.678-5");
        assert_eq!(normalize(IdentityKind::Run, " 9.876.543-k"), "9.876.543-K");
        assert_eq!(normalize(IdentityKind::Run, "1-9"), "1-9");
        assert_eq!(normalize(IdentityKind::Run, "abc"), "abc");
        assert_eq!(normalize(IdentityKind::Cedula, "pe-12-345"), "PE-12-345");
        assert_eq!(normalize(IdentityKind::Any, " a-12 3 "), "a-12 3");
    }

    #[test]
    fn each_country_checks_its_own_national_number() {
        assert_eq!(IdentityKind::national_of(Country::Mx), IdentityKind::Curp);
        assert_eq!(IdentityKind::national_of(Country::Cl), IdentityKind::Run);
        assert_eq!(IdentityKind::national_of(Country::Pa), IdentityKind::Cedula);
    }

    fn day() -> IssueDate {
        IssueDate::On(chrono::NaiveDate::from_ymd_opt(2026, 11, 22).expect("date"))
    }

    fn form(identity_line: &str) -> FormSpec {
        let text = format!(
            "id = \"x\"\ntitle = \"X\"\nfamily = \"carta\"\nseed = \"000\"\n\
             [[fields]]\nname = \"titular\"\nlabel = \"Titular\"\ntype = \"person\"\n{identity_line}\n"
        );
        let raw: super::super::spec::RawForm = toml::from_str(&text).expect("toml");
        raw.check(&Default::default()).expect("form")
    }

    fn person(identity: &str) -> serde_json::Value {
        serde_json::json!({"titular": {"nombre": "Rosa Díaz", "identificacion": identity}})
    }

    #[test]
    fn a_person_field_that_names_no_number_takes_the_offices_countrys() {
        let undeclared = form("");
        let curp = person("GOML850312MSPRPR09");
        let run = person("12.345.678-5");
        // Without a country, as before: any identifier.
        assert!(validate(&undeclared.for_country(None), &curp, day()).is_ok());
        let chile = undeclared.for_country(Some(Country::Cl));
        assert!(validate(&chile, &run, day()).is_ok());
        let refused = validate(&chile, &curp, day()).unwrap_err();
        assert!(refused.mentions("titular.identificacion"), "{refused}");
        assert!(validate(&undeclared.for_country(Some(Country::Mx)), &curp, day()).is_ok());
        assert!(validate(&undeclared.for_country(Some(Country::Mx)), &run, day()).is_err());
    }

    #[test]
    fn a_person_field_that_names_its_number_keeps_it_in_any_country() {
        let licence = form("identity = \"any\"");
        assert!(
            validate(
                &licence.for_country(Some(Country::Cl)),
                &person("A-123456"),
                day()
            )
            .is_ok()
        );
        let curp = form("identity = \"curp\"");
        assert!(
            validate(
                &curp.for_country(Some(Country::Cl)),
                &person("12.345.678-5"),
                day()
            )
            .is_err()
        );
    }

    #[test]
    fn curp_check_digit_catches_a_typo() {
        assert_eq!(check_curp("GOML850312MSPRPR09"), Ok(()));
        assert!(check_curp("GOML850312MSPRPR08").is_err());
        assert!(check_curp("goml850312msprpr09").is_err());
        assert!(check_curp("GOML850312").is_err());
    }

    #[test]
    fn run_check_digit_accepts_dots_and_k() {
        assert_eq!(check_run("12.345.678-5"), Ok(()));
        assert_eq!(check_run("12345678-5"), Ok(()));
        assert_eq!(check_run("10.000.013-K"), Ok(()));
        assert!(check_run("12.345.678-4").is_err());
        assert!(check_run("123456785").is_err());
    }

    #[test]
    fn cedula_shapes_of_panama() {
        for ok in ["8-123-4567", "PE-12-345", "E-8-123456", "4AV-12-345", "13-1-1"] {
            assert_eq!(check_cedula(ok), Ok(()), "{ok}");
        }
        for bad in ["8-123", "14-1-1", "X-1-1", "8-12345-1", "8--1"] {
            assert!(check_cedula(bad).is_err(), "{bad}");
        }
    }
}
