/*!
auditlens: Code42 (Incydr / CrashPlan) Audit Log exports turned into a deduplicated Parquet store,
audit analyses and a weekly compliance report.

Data flows one way: [`input`] reads exports into the canonical [`model`], [`ingest`] writes them
to the [`store`] (hive-partitioned Parquet), and [`filter`], [`stats`], [`analyses`] and [`report`]
read from it; [`output`] prints rows. [`cli`] holds one file per subcommand and only calls these.
[`generate`] writes realistic synthetic exports for tests, benchmarks and the [`demo`].
*/

pub mod analyses;
pub mod cli;
pub mod config;
pub mod demo;
pub mod error;
pub mod filter;
pub mod generate;
pub mod ingest;
pub mod input;
pub mod model;
pub mod order;
pub mod output;
pub mod report;
pub mod stats;
pub mod store;
pub mod time;

pub use error::{Error, Result};
