//! Integration tests: they run the real `auditlens` binary on real-looking input and check its
//! output and the store it writes. One test binary (modules below) keeps link time down.

mod common;
mod demo;
mod fuzz_regressions;
mod hardening;
mod ingest;
mod ips_and_cases;
mod planted;
mod planted_scale;
mod privilege;
mod properties;
mod query;
mod report;
mod scale;
mod support;
mod training_and_files;
