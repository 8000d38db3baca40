#![no_main]
//! libFuzzer entry point; the checks live in `auditlens_fuzz::timestamp` (fuzz/src/lib.rs).

libfuzzer_sys::fuzz_target!(|data: &[u8]| auditlens_fuzz::timestamp(data));
