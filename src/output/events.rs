/*!
How events look in each output format. The stored frame is reshaped here, once, for `query` and any
other command that prints events:

* table: the console's list (time, username, user type, event type, IP address, affected user) plus
  a short id to pass to `show`;
* CSV: the console's columns plus every other field, so a CSV export re-ingests to the very same
  events (the `auditlens event id` column marks such a file; see [`super::cell`]);
* JSON / JSON Lines: every stored field, details as a JSON object, times as ISO-8601 text;
* Parquet: the stored columns as they are.
*/

use polars::prelude::*;

use super::{EVENT_ID_HEADER, OutputFormat};
use crate::error::Result;
use crate::model::event::ActorType;
use crate::model::schema::cols;
use crate::time::format_timestamp;

/// The CSV export's header, in order.
pub const CSV_HEADERS: [&str; 12] = [
    "Date observed",
    "Username",
    "User type",
    "Event type",
    "IP address",
    "Affected user",
    "Affected user ID",
    "Actor ID",
    "User agent",
    "Category",
    "Details",
    EVENT_ID_HEADER,
];

/// The table's header, in order.
pub const TABLE_HEADERS: [&str; 7] = [
    "time",
    "username",
    "user type",
    "event type",
    "ip",
    "affected user",
    "id",
];

/// Characters of the event id shown in tables (enough to be unique; `show` takes a prefix).
pub const SHORT_ID: usize = 12;

fn str_col(df: &DataFrame, name: &str) -> Result<StringChunked> {
    Ok(df.column(name)?.str()?.clone())
}

fn mapped(df: &DataFrame, name: &str, out: &str, f: impl Fn(&str) -> String) -> Result<Column> {
    let ca = str_col(df, name)?;
    let v: StringChunked = ca.iter().map(|o| o.map(&f)).collect();
    Ok(v.with_name(out.into()).into_column())
}

/// ISO-8601 text of `timestamp_ns`, full precision.
pub fn time_text(df: &DataFrame, out: &str) -> Result<Column> {
    let ts = df.column(cols::TIMESTAMP_NS)?.i64()?;
    let v: StringChunked = ts.iter().map(|o| o.map(format_timestamp)).collect();
    Ok(v.with_name(out.into()).into_column())
}

fn ip_chain_text(df: &DataFrame, out: &str) -> Result<Column> {
    let lists = df.column(cols::IP_ADDRESSES)?.list()?;
    let v: StringChunked = lists
        .amortized_iter()
        .map(|o| {
            o.and_then(|s| {
                let items: Vec<String> = s
                    .as_ref()
                    .str()
                    .ok()?
                    .iter()
                    .flatten()
                    .map(str::to_owned)
                    .collect();
                (!items.is_empty()).then(|| items.join(", "))
            })
        })
        .collect();
    Ok(v.with_name(out.into()).into_column())
}

fn console_user_type(t: &str) -> String {
    ActorType::parse(t).map_or_else(|| t.to_owned(), |a| a.console_label().to_owned())
}

/// The stored columns [`shape`] reads for `format` (`None`: all of them). A query that reads only
/// these lets the Parquet reader skip the rest: `details` alone is most of a part's bytes.
pub fn columns_for(format: OutputFormat) -> Option<&'static [&'static str]> {
    match format {
        OutputFormat::Table => Some(&[
            cols::TIMESTAMP_NS,
            cols::ACTOR_NAME,
            cols::ACTOR_TYPE,
            cols::EVENT_LABEL,
            cols::CLIENT_IP,
            cols::AFFECTED_USER_NAME,
            cols::EVENT_ID,
        ]),
        OutputFormat::Csv => Some(&[
            cols::TIMESTAMP_NS,
            cols::ACTOR_NAME,
            cols::ACTOR_TYPE,
            cols::EVENT_LABEL,
            cols::IP_ADDRESSES,
            cols::AFFECTED_USER_NAME,
            cols::AFFECTED_USER_ID,
            cols::ACTOR_ID,
            cols::USER_AGENT,
            cols::CATEGORY,
            cols::DETAILS,
            cols::EVENT_ID,
        ]),
        OutputFormat::Json | OutputFormat::Jsonl | OutputFormat::Parquet => None,
    }
}

/// `df` ordered by time, then event id (newest first if asked). Parts are sorted by event type,
/// then time, so the events of one type often come back ordered already: checking that is much
/// cheaper than a two-key sort that moves every column.
pub fn in_time_order(df: DataFrame, newest_first: bool) -> Result<DataFrame> {
    let ordered = {
        let ts = df.column(cols::TIMESTAMP_NS)?.i64()?;
        let ids = df.column(cols::EVENT_ID)?.str()?;
        let mut prev: Option<(Option<i64>, Option<&str>)> = None;
        let mut ok = true;
        for key in ts.iter().zip(ids.iter()) {
            if let Some(p) = prev {
                let in_order = if newest_first { p >= key } else { p <= key };
                if !in_order {
                    ok = false;
                    break;
                }
            }
            prev = Some(key);
        }
        ok
    };
    if ordered {
        return Ok(df);
    }
    let sort = SortMultipleOptions::default().with_order_descending(newest_first);
    Ok(df.sort([cols::TIMESTAMP_NS, cols::EVENT_ID], sort)?)
}

/// Reshape stored events for `format`. Returns the frame, its headers (for CSV and tables) and the
/// columns holding JSON text.
pub fn shape(
    df: &DataFrame,
    format: OutputFormat,
) -> Result<(DataFrame, Vec<&'static str>, Vec<&'static str>)> {
    let n = df.height();
    match format {
        OutputFormat::Table => {
            let columns = vec![
                time_text(df, "time")?,
                df.column(cols::ACTOR_NAME)?
                    .clone()
                    .with_name("username".into()),
                mapped(df, cols::ACTOR_TYPE, "user type", console_user_type)?,
                df.column(cols::EVENT_LABEL)?
                    .clone()
                    .with_name("event type".into()),
                df.column(cols::CLIENT_IP)?.clone().with_name("ip".into()),
                df.column(cols::AFFECTED_USER_NAME)?
                    .clone()
                    .with_name("affected user".into()),
                mapped(df, cols::EVENT_ID, "id", |s| {
                    s.chars().take(SHORT_ID).collect()
                })?,
            ];
            Ok((DataFrame::new(n, columns)?, TABLE_HEADERS.to_vec(), vec![]))
        }
        OutputFormat::Csv => {
            let columns = vec![
                time_text(df, "date_observed")?,
                df.column(cols::ACTOR_NAME)?.clone(),
                mapped(df, cols::ACTOR_TYPE, "user_type", console_user_type)?,
                df.column(cols::EVENT_LABEL)?.clone(),
                ip_chain_text(df, "ip_address")?,
                df.column(cols::AFFECTED_USER_NAME)?.clone(),
                df.column(cols::AFFECTED_USER_ID)?.clone(),
                df.column(cols::ACTOR_ID)?.clone(),
                df.column(cols::USER_AGENT)?.clone(),
                df.column(cols::CATEGORY)?.clone(),
                df.column(cols::DETAILS)?.clone(),
                df.column(cols::EVENT_ID)?.clone(),
            ];
            Ok((DataFrame::new(n, columns)?, CSV_HEADERS.to_vec(), vec![]))
        }
        OutputFormat::Json | OutputFormat::Jsonl => {
            let mut columns = Vec::with_capacity(cols::ALL.len());
            for name in cols::ALL {
                if name == cols::TIMESTAMP {
                    columns.push(time_text(df, cols::TIMESTAMP)?);
                } else {
                    columns.push(df.column(name)?.clone());
                }
            }
            Ok((DataFrame::new(n, columns)?, vec![], vec![cols::DETAILS]))
        }
        OutputFormat::Parquet => Ok((df.clone(), vec![], vec![])),
    }
}
