//! Sello: official documents for social-assistance offices, generated from
//! Typst templates, signed, verified and archived.

pub mod accounts;
pub mod app;
pub mod archive;
pub mod backup;
pub mod bulk;
pub mod cli;
pub mod code;
pub mod config;
pub mod csv_out;
pub mod db;
pub mod evidence;
pub mod folio;
pub mod fonts;
pub mod forms;
pub mod issuer;
pub mod keys;
#[cfg(test)]
mod layers;
pub mod metrics;
pub mod office;
pub mod pdf;
pub mod public_id;
pub mod qr;
pub mod queue;
pub mod rate_limits;
pub mod registros;
pub mod render;
pub mod roles;
pub mod signature_image;
pub mod signed_pdf;
pub mod tlog;
pub mod tramites;
pub mod web;
pub mod webhooks;
