#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sello_fuzz::qr_payload(data));
