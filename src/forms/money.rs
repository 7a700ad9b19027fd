//! Amounts as a form's documents print them, for the pages that show the
//! same data: what a reviewer approves must read as the paper will. The
//! templates' `dinero` (México: `$1,850.50`) and the Chilean `pesos`
//! (`$1.850`, with `,50` only when there are cents) are mirrored here;
//! only the formatting differs from what is stored, never the amount.

use serde_json::Value;

use super::FormSpec;

/// How a form writes amounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoneyStyle {
    /// Thousands with commas, always two decimals: `$1,850.50`.
    Mexico,
    /// Thousands with dots, decimals with a comma and only when there are
    /// cents: `$1.850`, `$1.850,50`.
    Chile,
}

impl FormSpec {
    /// How this form's documents write amounts: by its country.
    pub fn money_style(&self) -> MoneyStyle {
        if self.programa.starts_with("Chile") {
            MoneyStyle::Chile
        } else {
            MoneyStyle::Mexico
        }
    }
}

/// A money field's stored value as its documents print it; `None` when it
/// is not an amount (the page then shows it as stored).
pub fn money_text(value: &Value, style: MoneyStyle) -> Option<String> {
    let cents = super::validate::money_cents(value)?;
    let sign = if cents < 0 { "-" } else { "" };
    let (whole, rest) = (cents.unsigned_abs() / 100, cents.unsigned_abs() % 100);
    let grouped = |separator: char| {
        let digits = whole.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(separator);
            }
            out.push(c);
        }
        out
    };
    Some(match style {
        MoneyStyle::Mexico => format!("{sign}${}.{rest:02}", grouped(',')),
        MoneyStyle::Chile if rest == 0 => format!("{sign}${}", grouped('.')),
        MoneyStyle::Chile => format!("{sign}${},{rest:02}", grouped('.')),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn amounts_read_as_the_documents_print_them() {
        assert_eq!(
            money_text(&json!(985.5), MoneyStyle::Mexico).as_deref(),
            Some("$985.50")
        );
        assert_eq!(
            money_text(&json!("1850"), MoneyStyle::Mexico).as_deref(),
            Some("$1,850.00")
        );
        assert_eq!(
            money_text(&json!("1234567.05"), MoneyStyle::Mexico).as_deref(),
            Some("$1,234,567.05")
        );
        assert_eq!(
            money_text(&json!(350000), MoneyStyle::Chile).as_deref(),
            Some("$350.000")
        );
        assert_eq!(
            money_text(&json!("350000.5"), MoneyStyle::Chile).as_deref(),
            Some("$350.000,50")
        );
        assert_eq!(money_text(&json!("mil pesos"), MoneyStyle::Mexico), None);
    }
}
