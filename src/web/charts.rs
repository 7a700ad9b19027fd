//! Bar charts as SVG drawn on the server (issue 25, point 3): no script,
//! and no CSS either (the staff pages' policy allows only our stylesheet),
//! only presentation attributes. Each chart is an image with a `title` and
//! a `desc` a screen reader reads; the page beside it has the same numbers
//! as a table. Bars are stacked by state: in force, annulled, replaced.
//!
//! Written as text, every label escaped: maud writes HTML, whose empty
//! elements are not XML.

use std::fmt::Write as _;

use crate::archive::statistics::ByState;
use crate::web::escape;

/// The colours of the states, as the staff stylesheet shows them.
const STATES: [(&str, &str); 3] = [
    ("vigentes", "#1d6b34"),
    ("anulados", "#a4161a"),
    ("reemplazados", "#9a5b00"),
];

const WIDTH: u32 = 720;

/// One bar: its label and its documents by state.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub counts: ByState,
}

fn parts(counts: &ByState) -> [i64; 3] {
    [counts.emitidos, counts.anulados, counts.reemplazados]
}

/// A round number at least `max`, for the axis: 1, 2 or 5 times a power of ten.
fn axis_top(max: i64) -> i64 {
    let mut step = 1;
    loop {
        for factor in [1, 2, 5] {
            if step * factor >= max.max(1) {
                return step * factor;
            }
        }
        step *= 10;
    }
}

fn open(out: &mut String, width: u32, height: u32, title: &str, description: &str) {
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" role=\"img\" aria-labelledby=\"titulo descripcion\" \
         font-family=\"system-ui, sans-serif\" font-size=\"12\">\
         <title id=\"titulo\">{}</title><desc id=\"descripcion\">{}</desc>\
         <rect width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>",
        escape(title),
        escape(description)
    );
}

/// The legend of the states, along the top.
fn legend(out: &mut String, x: u32, y: u32) {
    for (i, (name, colour)) in STATES.iter().enumerate() {
        let left = x + 130 * i as u32;
        let _ = write!(
            out,
            "<rect x=\"{left}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{colour}\"/>\
             <text x=\"{}\" y=\"{}\" fill=\"#1b1b1b\">{name}</text>",
            y,
            left + 17,
            y + 11
        );
    }
}

/// Columns, one per bar, left to right (months).
pub fn columns(title: &str, description: &str, bars: &[Bar]) -> String {
    let (height, left, top, bottom) = (300u32, 56u32, 40u32, 250u32);
    let plot_width = WIDTH - left - 16;
    let plot_height = bottom - top;
    // Four gridlines a round step apart, whole numbers each.
    let busiest = bars.iter().map(|b| b.counts.total()).max().unwrap_or(0).max(0);
    let step = axis_top((busiest + 3) / 4);
    let max = step * 4;
    let mut out = String::new();
    open(&mut out, WIDTH, height, title, description);
    legend(&mut out, left, 10);
    for tick in 0..=4 {
        let value = step * tick;
        let y = bottom - plot_height * tick as u32 / 4;
        let _ = write!(
            out,
            "<line x1=\"{left}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"#dddddd\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#444444\">{value}</text>",
            WIDTH - 16,
            left - 6,
            y + 4
        );
    }
    let slot = plot_width as f64 / bars.len().max(1) as f64;
    // At most about twelve labels under the columns.
    let every = bars.len().div_ceil(12).max(1);
    for (i, bar) in bars.iter().enumerate() {
        let x = left as f64 + slot * i as f64 + slot * 0.15;
        let width = slot * 0.7;
        let mut base = bottom as f64;
        for (value, (_, colour)) in parts(&bar.counts).iter().zip(STATES) {
            if *value == 0 {
                continue;
            }
            let h = plot_height as f64 * *value as f64 / max as f64;
            base -= h;
            let _ = write!(
                out,
                "<rect x=\"{x:.1}\" y=\"{base:.1}\" width=\"{width:.1}\" height=\"{h:.1}\" fill=\"{colour}\"/>"
            );
        }
        if i % every == 0 {
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" fill=\"#1b1b1b\">{}</text>",
                x + width / 2.0,
                bottom + 18,
                escape(&bar.label)
            );
        }
    }
    let _ = writeln!(
        out,
        "<line x1=\"{left}\" y1=\"{bottom}\" x2=\"{}\" y2=\"{bottom}\" stroke=\"#444444\"/></svg>",
        WIDTH - 16
    );
    out
}

/// Rows, one per bar, top to bottom (forms), each with its total at its end.
pub fn rows(title: &str, description: &str, bars: &[Bar]) -> String {
    let (label_width, top, row) = (300u32, 36u32, 24u32);
    let height = top + row * bars.len().max(1) as u32 + 10;
    let plot_width = (WIDTH - label_width - 60) as f64;
    let max = bars.iter().map(|b| b.counts.total()).max().unwrap_or(0).max(1);
    let mut out = String::new();
    open(&mut out, WIDTH, height, title, description);
    legend(&mut out, label_width, 10);
    for (i, bar) in bars.iter().enumerate() {
        let y = top + row * i as u32;
        let label: String = if bar.label.chars().count() > 44 {
            bar.label.chars().take(43).chain(['…']).collect()
        } else {
            bar.label.clone()
        };
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#1b1b1b\">{}</text>",
            label_width - 8,
            y + 15,
            escape(&label)
        );
        let mut x = label_width as f64;
        for (value, (_, colour)) in parts(&bar.counts).iter().zip(STATES) {
            if *value == 0 {
                continue;
            }
            let w = plot_width * *value as f64 / max as f64;
            let _ = write!(
                out,
                "<rect x=\"{x:.1}\" y=\"{}\" width=\"{w:.1}\" height=\"16\" fill=\"{colour}\"/>",
                y + 3
            );
            x += w;
        }
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{}\" fill=\"#1b1b1b\">{}</text>",
            x + 6.0,
            y + 15,
            bar.counts.total()
        );
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(label: &str, emitidos: i64, anulados: i64) -> Bar {
        Bar {
            label: label.into(),
            counts: ByState {
                emitidos,
                anulados,
                reemplazados: 0,
            },
        }
    }

    #[test]
    fn the_axis_ends_at_a_round_number() {
        assert_eq!(axis_top(0), 1);
        assert_eq!(axis_top(7), 10);
        assert_eq!(axis_top(11), 20);
        assert_eq!(axis_top(101), 200);
        assert_eq!(axis_top(4_999), 5_000);
    }

    #[test]
    fn labels_are_escaped_and_the_chart_is_titled() {
        let svg = columns(
            "Documentos <por> mes",
            "dice & cuenta",
            &[bar("<b>", 3, 1), bar("x", 0, 0)],
        );
        assert!(
            svg.contains("<title id=\"titulo\">Documentos &lt;por&gt; mes</title>"),
            "{svg}"
        );
        assert!(svg.contains("&lt;b&gt;") && !svg.contains("<b>"), "{svg}");
        assert!(!svg.contains("style") && !svg.contains("script"), "{svg}");
        // A total of 4 in the busiest column: gridlines at 0, 1, 2, 3, 4.
        for label in [">0</text>", ">1</text>", ">2</text>", ">3</text>", ">4</text>"] {
            assert!(svg.contains(label), "{label}: {svg}");
        }
        let svg = columns("t", "d", &[bar("a", 5, 0)]);
        assert!(svg.contains(">8</text>") && !svg.contains(">5</text>"), "{svg}");
        let svg = rows("t", "d", &[bar("Formulario \"raro\"", 2, 0)]);
        assert!(svg.contains("Formulario &quot;raro&quot;"), "{svg}");
    }
}
