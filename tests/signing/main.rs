//! Issued documents: signatures, verification codes and QR payloads, the
//! known attacks on PDF signatures, and independent validators.

mod attacks;
mod cli;
mod fuzz_smoke;
mod helpers;
mod hierarchy;
mod hostile;
mod interop;
mod issued;
mod ltv;
#[path = "../support/ltv_pki.rs"]
mod ltv_pki;
mod phone;
mod qr;
mod third_party;
mod timestamps;
#[path = "../support/tsa.rs"]
mod tsa;
