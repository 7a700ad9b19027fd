//! Turns Typst diagnostics into `forms/<id>/template.typ:line:col: message`,
//! the form a template author can jump to.

use typst::World;
use typst::WorldExt;
use typst::diag::{Severity, SourceDiagnostic};

/// One line per diagnostic, errors and warnings alike.
pub fn describe(world: &dyn World, diagnostics: &[SourceDiagnostic]) -> Vec<String> {
    diagnostics.iter().map(|d| describe_one(world, d)).collect()
}

fn describe_one(world: &dyn World, diagnostic: &SourceDiagnostic) -> String {
    let kind = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "aviso",
    };
    let mut line = match location(world, diagnostic) {
        Some(location) => format!("{location}: {kind}: {}", diagnostic.message),
        None => format!("{kind}: {}", diagnostic.message),
    };
    for hint in &diagnostic.hints {
        line.push_str(&format!(" (sugerencia: {})", hint.v));
    }
    line
}

fn location(world: &dyn World, diagnostic: &SourceDiagnostic) -> Option<String> {
    let id = diagnostic.span.id()?;
    let path = id.get().vpath().get_without_slash().to_owned();
    let position = world.range(diagnostic.span).and_then(|range| {
        let source = world.source(id).ok()?;
        source.lines().byte_to_line_column(range.start)
    });
    Some(match position {
        Some((line, column)) => format!("{path}:{}:{}", line + 1, column + 1),
        None => path,
    })
}
