#![no_main]
//! libFuzzer entry point; the checks live in `auditlens_fuzz::csv` (fuzz/src/lib.rs).

libfuzzer_sys::fuzz_target!(|data: &[u8]| auditlens_fuzz::csv(data));
