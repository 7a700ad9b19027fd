#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sello_fuzz::pdf_verify(data));
