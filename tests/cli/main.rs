//! Integration tests: they run the real `auditlens` binary on real-looking input and check its
//! output and the store it writes. One test binary (modules below) keeps link time down.

mod common;
mod ingest;
mod ips_and_cases;
mod query;
