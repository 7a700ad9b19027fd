//! The series each form family is numbered in; the folio format itself is
//! plain data read with the configuration (`crate::folio`).

use crate::forms::Family;

pub use crate::folio::{DEFAULT_FORMAT, Folio, FolioFormat};

/// The series a form family is numbered in: its code in folios and its name.
pub fn series_of(family: Family) -> (&'static str, &'static str) {
    match family {
        Family::Carta => ("CA", "Cartas"),
        Family::Oficio => ("OF", "Oficios"),
        Family::Acta => ("AC", "Actas"),
        Family::Lista => ("LI", "Listas y reportes"),
        Family::Padron => ("PA", "Padrones"),
        Family::Plan => ("PL", "Planes"),
        Family::Ficha => ("FI", "Fichas"),
        Family::Informe => ("IN", "Informes"),
    }
}
