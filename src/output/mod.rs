/*!
Writers shared by every command that prints rows: a width-aware terminal table, CSV (spreadsheet-safe
through [`cell`]), JSON, JSON Lines and Parquet. They take any polars frame, so `query`, `stats`,
`analyze` and `quarantine` print the same way; times print as ISO-8601 UTC.

Large frames are written in slices, so exporting millions of rows does not build millions of strings
at once.
*/

pub mod cell;
pub mod events;
pub mod json;

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde_json::Value;

pub use cell::{EVENT_ID_HEADER, neutralise, unneutralise};

use crate::error::{Error, Result};
use crate::time::format_timestamp;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Table,
    Csv,
    Json,
    Jsonl,
    Parquet,
}

/// How to write a frame.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions<'a> {
    /// Write CSV cells untouched (no formula neutralisation).
    pub raw: bool,
    /// Columns whose text is JSON, embedded as JSON (not as a string) in JSON output.
    pub json_columns: &'a [&'a str],
    /// Header names to print instead of column names (same order), for CSV and tables.
    pub headers: Option<&'a [&'a str]>,
    /// Widest a table may be; `None` for no limit.
    pub max_width: Option<usize>,
}

const SLICE_ROWS: usize = 16 * 1024;

/// Where output goes: standard output or a file (never inside the store).
pub enum Destination {
    Stdout,
    File(PathBuf),
}

impl Destination {
    /// `--out FILE` or stdout. Refuses a path inside `store`: a file written there could be taken
    /// for part of the dataset, or overwrite it.
    pub fn new(out: Option<&Path>, store: Option<&Path>) -> Result<Destination> {
        let Some(path) = out else {
            return Ok(Destination::Stdout);
        };
        if path.as_os_str() == "-" {
            return Ok(Destination::Stdout);
        }
        if let Some(store) = store
            && is_inside(path, store)
        {
            return Err(Error::Usage(format!(
                "--out {}: refusing to write inside the store {}; choose a path outside it",
                path.display(),
                store.display()
            )));
        }
        Ok(Destination::File(path.to_path_buf()))
    }

    pub fn is_stdout(&self) -> bool {
        matches!(self, Destination::Stdout)
    }

    /// Open for writing (buffered).
    pub fn open(&self) -> Result<Box<dyn Write>> {
        match self {
            Destination::Stdout => Ok(Box::new(io::BufWriter::with_capacity(
                1 << 16,
                io::stdout().lock(),
            ))),
            Destination::File(p) => {
                if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
                }
                let f = File::create(p).map_err(|e| Error::io(p, e))?;
                Ok(Box::new(io::BufWriter::with_capacity(1 << 16, f)))
            }
        }
    }
}

/// True when `path` is `dir` or lies under it (resolving what exists of both).
pub fn is_inside(path: &Path, dir: &Path) -> bool {
    let resolve = |p: &Path| -> PathBuf {
        let abs = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(p)
        };
        // Canonicalise the longest existing ancestor, then re-append the rest.
        let mut existing = abs.clone();
        let mut rest = Vec::new();
        while !existing.exists() {
            match (
                existing.file_name().map(|n| n.to_os_string()),
                existing.parent(),
            ) {
                (Some(name), Some(parent)) => {
                    rest.push(name);
                    existing = parent.to_path_buf();
                }
                _ => break,
            }
        }
        let mut out = std::fs::canonicalize(&existing).unwrap_or(existing);
        for name in rest.into_iter().rev() {
            if name == ".." {
                out.pop();
            } else if name != "." {
                out.push(name);
            }
        }
        out
    };
    resolve(path).starts_with(resolve(dir))
}

/// Write `df` to `dest` in `format`.
pub fn write_frame(
    df: &DataFrame,
    format: OutputFormat,
    dest: &Destination,
    opts: &WriteOptions<'_>,
) -> Result<()> {
    if format == OutputFormat::Parquet {
        let Destination::File(path) = dest else {
            return Err(Error::Usage("--format parquet needs --out FILE".into()));
        };
        let f = File::create(path).map_err(|e| Error::io(path, e))?;
        let mut df = df.clone();
        ParquetWriter::new(f)
            .with_compression(crate::store::writer::zstd())
            .finish(&mut df)?;
        return Ok(());
    }
    let mut out = dest.open()?;
    write_text(df, format, &mut out, opts).map_err(Error::Output)?;
    out.flush().map_err(Error::Output)
}

/// Write `df` as text (not Parquet) to `out`.
pub fn write_text(
    df: &DataFrame,
    format: OutputFormat,
    out: &mut dyn Write,
    opts: &WriteOptions<'_>,
) -> io::Result<()> {
    match format {
        OutputFormat::Csv => write_csv(df, out, opts),
        OutputFormat::Json | OutputFormat::Jsonl => {
            write_json(df, format == OutputFormat::Jsonl, out, opts)
        }
        OutputFormat::Table | OutputFormat::Parquet => write_table(df, out, opts),
    }
}

fn headers<'a>(df: &'a DataFrame, opts: &WriteOptions<'a>) -> Vec<&'a str> {
    match opts.headers {
        Some(h) if h.len() == df.width() => h.to_vec(),
        _ => df
            .get_column_names()
            .into_iter()
            .map(|n| n.as_str())
            .collect(),
    }
}

/// One cell as display text (`None` for null).
pub fn cell_text(v: &AnyValue<'_>) -> Option<String> {
    Some(match v {
        AnyValue::Null => return None,
        AnyValue::String(s) => (*s).to_owned(),
        AnyValue::StringOwned(s) => s.to_string(),
        AnyValue::Boolean(b) => b.to_string(),
        AnyValue::Datetime(t, unit, _) => format_timestamp(to_ns(*t, *unit)),
        AnyValue::DatetimeOwned(t, unit, _) => format_timestamp(to_ns(*t, *unit)),
        AnyValue::Date(d) => {
            crate::time::date_of(i64::from(*d) * crate::time::NANOS_PER_DAY).to_string()
        }
        AnyValue::List(s) => {
            let items: Vec<String> = s.iter().filter_map(|v| cell_text(&v)).collect();
            items.join(", ")
        }
        AnyValue::Float64(f) => format_float(*f),
        AnyValue::Float32(f) => format_float(f64::from(*f)),
        other => other.to_string(),
    })
}

fn format_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{f:.0}")
    } else {
        format!("{f:.3}")
    }
}

fn to_ns(t: i64, unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Nanoseconds => t,
        TimeUnit::Microseconds => t.saturating_mul(1_000),
        TimeUnit::Milliseconds => t.saturating_mul(1_000_000),
    }
}

/// One cell as a JSON value.
pub fn cell_json(v: &AnyValue<'_>, is_json_text: bool) -> Value {
    match v {
        AnyValue::Null => Value::Null,
        AnyValue::Boolean(b) => Value::Bool(*b),
        AnyValue::String(_) | AnyValue::StringOwned(_) => {
            let s = v.get_str().unwrap_or_default();
            if is_json_text {
                serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_owned()))
            } else {
                Value::String(s.to_owned())
            }
        }
        AnyValue::UInt8(_) | AnyValue::UInt16(_) | AnyValue::UInt32(_) | AnyValue::UInt64(_) => {
            v.extract::<u64>().map_or(Value::Null, Value::from)
        }
        AnyValue::Int8(_) | AnyValue::Int16(_) | AnyValue::Int32(_) | AnyValue::Int64(_) => {
            v.extract::<i64>().map_or(Value::Null, Value::from)
        }
        AnyValue::Float32(_) | AnyValue::Float64(_) => {
            v.extract::<f64>().map_or(Value::Null, Value::from)
        }
        AnyValue::List(s) => Value::Array(s.iter().map(|x| cell_json(&x, false)).collect()),
        other => cell_text(other).map_or(Value::Null, Value::String),
    }
}

fn write_csv(df: &DataFrame, out: &mut dyn Write, opts: &WriteOptions<'_>) -> io::Result<()> {
    let hdr = headers(df, opts);
    write_csv_record(out, hdr.iter().map(|h| Some((*h).to_owned())), opts.raw)?;
    for_each_row(df, |row| {
        write_csv_record(out, row.iter().map(cell_text), opts.raw)
    })
}

/// Write one CSV record (RFC 4180 quoting; cells neutralised unless `raw`).
pub fn write_csv_record(
    out: &mut dyn Write,
    cells: impl Iterator<Item = Option<String>>,
    raw: bool,
) -> io::Result<()> {
    let mut line = String::new();
    for (i, c) in cells.enumerate() {
        if i > 0 {
            line.push(',');
        }
        let c = c.unwrap_or_default();
        let c = if raw {
            std::borrow::Cow::Borrowed(c.as_str())
        } else {
            neutralise(&c)
        };
        if c.contains([',', '"', '\n', '\r']) {
            line.push('"');
            line.push_str(&c.replace('"', "\"\""));
            line.push('"');
        } else {
            line.push_str(&c);
        }
    }
    line.push_str("\r\n");
    out.write_all(line.as_bytes())
}

fn write_json(
    df: &DataFrame,
    lines: bool,
    out: &mut dyn Write,
    opts: &WriteOptions<'_>,
) -> io::Result<()> {
    let names: Vec<String> = df
        .get_column_names()
        .into_iter()
        .map(|n| n.to_string())
        .collect();
    let is_json: Vec<bool> = names
        .iter()
        .map(|n| opts.json_columns.contains(&n.as_str()))
        .collect();
    if !lines {
        out.write_all(b"[")?;
    }
    let mut first = true;
    for_each_row(df, |row| {
        let mut obj = serde_json::Map::with_capacity(names.len());
        for ((name, v), j) in names.iter().zip(row).zip(&is_json) {
            obj.insert(name.clone(), cell_json(v, *j));
        }
        if lines {
            serde_json::to_writer(&mut *out, &obj)?;
            out.write_all(b"\n")
        } else {
            out.write_all(if first { b"\n  " } else { b",\n  " })?;
            first = false;
            serde_json::to_writer(&mut *out, &obj).map_err(io::Error::from)
        }
    })?;
    if !lines {
        out.write_all(if first { b"]\n" } else { b"\n]\n" })?;
    }
    Ok(())
}

fn write_table(df: &DataFrame, out: &mut dyn Write, opts: &WriteOptions<'_>) -> io::Result<()> {
    let hdr = headers(df, opts);
    let mut rows: Vec<Vec<String>> = Vec::with_capacity(df.height());
    for_each_row(df, |row| {
        rows.push(
            row.iter()
                .map(|v| {
                    cell_text(v)
                        .unwrap_or_default()
                        .replace(['\n', '\r', '\t'], " ")
                })
                .collect(),
        );
        Ok(())
    })?;
    let mut widths: Vec<usize> = hdr.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    if let Some(max) = opts.max_width {
        // Shrink the widest column until the table fits (never below 8 characters).
        let sep = 2 * widths.len().saturating_sub(1);
        while widths.iter().sum::<usize>() + sep > max {
            let Some((i, &w)) = widths.iter().enumerate().max_by_key(|(_, w)| **w) else {
                break;
            };
            if w <= 8 {
                break;
            }
            widths[i] = w - 1;
        }
    }
    let fmt_row = |cells: &mut dyn Iterator<Item = &str>| -> String {
        let mut line = String::new();
        for (i, (c, &w)) in cells.zip(&widths).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let n = c.chars().count();
            if n > w {
                line.extend(c.chars().take(w.saturating_sub(1)));
                line.push('…');
            } else {
                line.push_str(c);
                if i + 1 < widths.len() {
                    line.extend(std::iter::repeat_n(' ', w - n));
                }
            }
        }
        line.truncate(line.trim_end().len());
        line.push('\n');
        line
    };
    out.write_all(fmt_row(&mut hdr.iter().copied()).as_bytes())?;
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    out.write_all(fmt_row(&mut rule.iter().map(String::as_str)).as_bytes())?;
    for r in &rows {
        out.write_all(fmt_row(&mut r.iter().map(String::as_str)).as_bytes())?;
    }
    Ok(())
}

/// Call `f` with each row's values, slice by slice.
fn for_each_row(
    df: &DataFrame,
    mut f: impl FnMut(&[AnyValue<'_>]) -> io::Result<()>,
) -> io::Result<()> {
    let mut offset = 0;
    let mut row: Vec<AnyValue<'_>> = Vec::with_capacity(df.width());
    while offset < df.height() {
        let mut slice = df.slice(offset as i64, SLICE_ROWS);
        slice.rechunk_mut();
        for i in 0..slice.height() {
            row.clear();
            for c in slice.columns() {
                row.push(
                    c.get(i)
                        .map_err(|e| io::Error::other(e.to_string()))?
                        .into_static(),
                );
            }
            f(&row)?;
        }
        offset += SLICE_ROWS;
    }
    Ok(())
}

/// Terminal width for tables: `COLUMNS`, else 120 on a terminal, else unlimited.
pub fn terminal_width() -> Option<usize> {
    use std::io::IsTerminal;
    if let Some(c) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return Some(c);
    }
    io::stdout().is_terminal().then_some(120)
}

/// Text safe to print on a terminal: line breaks and tabs become spaces and other control
/// characters (such as the escape that starts terminal control sequences, which export data could
/// carry) are shown as `\u{..}` escapes.
pub fn terminal_safe(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}
