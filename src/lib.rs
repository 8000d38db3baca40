/*!
auditlens: Code42 (Incydr / CrashPlan) Audit Log exports turned into a deduplicated Parquet store,
audit analyses and a weekly compliance report.

Data flows one way: [`input`] reads exports into the canonical [`model`], [`store`] keeps them as
hive-partitioned Parquet, and the commands in [`cli`] query, analyse and report from the store.
*/

pub mod cli;
pub mod error;
pub mod generate;
pub mod model;
pub mod time;

pub use error::{Error, Result};
pub mod input;
pub mod output;
