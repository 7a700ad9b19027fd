//! The small HTML pages of the public side, on the same templating (maud)
//! as the staff pages: one stylesheet inline, no JavaScript, readable on a
//! cheap phone.

use maud::{DOCTYPE, Markup, PreEscaped, html};

/// Text escaped for HTML content and attribute values, exactly as the
/// pages' templates escape it.
pub fn escape(text: &str) -> String {
    html! { (text) }.into_string()
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b;background:#f4f4f2}\
main{max-width:34rem;margin:0 auto;padding:1rem}\
h1{font-size:1.1rem;margin:.2rem 0 1rem;color:#444}\
.estado{border-radius:.5rem;padding:1rem;margin-bottom:1rem;color:#fff}\
.estado strong{display:block;font-size:1.6rem}\
.valido{background:#1d6b34}.anulado{background:#a4161a}.reemplazado{background:#9a5b00}.no-encontrado{background:#555}\
dl{background:#fff;border-radius:.5rem;padding:.5rem 1rem;margin:0 0 1rem}\
dt{font-size:.8rem;color:#555;margin-top:.6rem}dd{margin:0 0 .4rem;overflow-wrap:anywhere}\
form{display:flex;flex-wrap:wrap;gap:.5rem}input{flex:1 1 14rem;font-size:1.1rem;padding:.6rem}\
button{font-size:1.1rem;padding:.6rem 1rem}a{color:#0b4f8a}small{color:#555}\
section{background:#fff;border-radius:.5rem;padding:.5rem 1rem;margin-bottom:1rem}h2{font-size:1rem}\
label{display:block;margin-bottom:.5rem}details{margin:0 0 1rem}summary{cursor:pointer;min-height:1.5rem}";

/// A whole public page with `title` and `body`.
pub fn layout(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="es" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width,initial-scale=1";
                meta name="robots" content="noindex";
                link rel="icon" href="/favicon.svg" type="image/svg+xml";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body { main { (body) } }
        }
    }
}

/// `2026-11-22T10:30:00-06:00` → `22 de noviembre de 2026`, the day it
/// was in the office's time zone.
pub fn long_date(moment: &str, zone: chrono_tz::Tz) -> String {
    match chrono::DateTime::parse_from_rfc3339(moment) {
        Ok(moment) => crate::forms::long_date(moment.with_timezone(&zone).date_naive()),
        Err(_) => moment.to_owned(),
    }
}

/// A day as staff read it: `2026-11-22` → `22/11/2026`; anything else as
/// it is.
pub fn short_date(day: &str) -> String {
    match chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d") {
        Ok(day) => day.format("%d/%m/%Y").to_string(),
        Err(_) => day.to_owned(),
    }
}

/// A moment as staff read it in a table: `22/11/2026 21:59`, office time.
pub fn short_moment(moment: &str, zone: chrono_tz::Tz) -> String {
    match chrono::DateTime::parse_from_rfc3339(moment) {
        Ok(moment) => moment.with_timezone(&zone).format("%d/%m/%Y %H:%M").to_string(),
        Err(_) => moment.to_owned(),
    }
}

/// A signature's time-stamp as people read it: the moment in the
/// office's time zone, to the second, and the time-stamping authority by
/// its common name.
pub fn timestamp_text(moment: &str, tsa: &str, zone: chrono_tz::Tz) -> String {
    let when = match chrono::DateTime::parse_from_rfc3339(moment) {
        Ok(moment) => moment
            .with_timezone(&zone)
            .format("%d/%m/%Y %H:%M:%S %Z")
            .to_string(),
        Err(_) => moment.to_owned(),
    };
    format!(
        "{when}, dado por la autoridad de sellado de tiempo «{}»",
        tsa_name(tsa)
    )
}

/// The common name in a distinguished name written `CN=…,O=…`, or the
/// whole text if it has none.
fn tsa_name(name: &str) -> &str {
    name.split(',')
        .find_map(|part| part.trim().strip_prefix("CN="))
        .filter(|cn| !cn.is_empty())
        .unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timestamp_reads_in_the_office_s_time_with_the_tsa_s_common_name() {
        let text = timestamp_text(
            "2026-12-07T16:31:05.250Z",
            "CN=Sello TSA,O=Autoridad de ejemplo,C=MX",
            chrono_tz::America::Mexico_City,
        );
        assert_eq!(
            text,
            "07/12/2026 10:31:05 CST, dado por la autoridad de sellado de tiempo «Sello TSA»"
        );
        assert!(
            timestamp_text("2026-12-07T16:31:05Z", "O=Sin nombre común", chrono_tz::UTC)
                .ends_with("«O=Sin nombre común»")
        );
    }

    #[test]
    fn days_read_as_dd_mm_yyyy() {
        assert_eq!(short_date("2026-11-22"), "22/11/2026");
        assert_eq!(short_date("sin fecha"), "sin fecha");
    }

    #[test]
    fn markup_in_text_is_escaped() {
        // Attribute values are always in double quotes: a single quote
        // cannot end one, so it is left as typed.
        assert_eq!(escape("<b onclick='x'>\"&"), "&lt;b onclick='x'&gt;&quot;&amp;");
        let page = layout("t", html! { p title=("\" onmouseover=\"x") { "<script>" } }).into_string();
        assert!(page.contains(r#"title="&quot; onmouseover=&quot;x""#), "{page}");
        assert!(
            page.contains("&lt;script&gt;") && !page.contains("<script>"),
            "{page}"
        );
    }

    #[test]
    fn dates_read_in_spanish_in_the_offices_time_zone() {
        let mexico = chrono_tz::America::Mexico_City;
        assert_eq!(
            long_date("2026-11-22T10:30:00-06:00", mexico),
            "22 de noviembre de 2026"
        );
        assert_eq!(long_date("2026-01-05T12:00:00Z", mexico), "5 de enero de 2026");
        // Stored in UTC after 18:00 in Mexico: still the 22nd there.
        assert_eq!(
            long_date("2026-11-23T03:59:00Z", mexico),
            "22 de noviembre de 2026"
        );
        assert_eq!(
            short_moment("2026-11-23T03:59:00.123Z", mexico),
            "22/11/2026 21:59"
        );
    }
}
