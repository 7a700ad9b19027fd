//! Sello: official documents for social-assistance offices, generated from
//! Typst templates, signed, verified and archived.

pub mod cli;
pub mod config;
pub mod forms;
pub mod render;
