/*!
Writers shared by the commands that print tables of data: the terminal table, CSV (spreadsheet-safe
through [`cell`]), JSON, JSON Lines and Parquet.
*/

pub mod cell;

pub use cell::{EVENT_ID_HEADER, neutralise, unneutralise};
