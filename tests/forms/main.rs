//! The form catalog, validation and rendering, through the library's public
//! API and the `sello` binary.

mod citations;
mod cli;
mod conformance;
mod dates;
mod examples;
mod helpers;
mod injection;
mod invisible;
mod issued;
mod letterhead;
mod long_words;
mod pdf;
mod recorded_specs;
mod rules;
mod sandbox;
mod shared_fields;
mod tables;
mod templates;
mod validation;
