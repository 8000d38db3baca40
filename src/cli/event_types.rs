/*! `auditlens event-types`: print the embedded event catalog. */

use std::io::Write;
use std::process::ExitCode;

use crate::error::{Error, Result};
use crate::model::Catalog;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Only this category (case-insensitive).
    #[arg(long)]
    category: Option<String>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    Table,
    Json,
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let catalog = Catalog::get();
    let category = match &args.category {
        None => None,
        Some(c) => Some(catalog.category(c).ok_or_else(|| {
            Error::Usage(format!(
                "unknown category {c:?}; categories: {}",
                catalog.categories().join(", ")
            ))
        })?),
    };
    let entries: Vec<_> = catalog
        .entries()
        .iter()
        .filter(|e| category.is_none_or(|c| e.category == c))
        .collect();
    let mut out = super::stdout();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &entries)
                .map_err(|e| Error::Output(e.into()))?;
            writeln!(out).map_err(Error::Output)?;
        }
        Format::Table => {
            let w_label = entries.iter().map(|e| e.label.len()).max().unwrap_or(0);
            let w_api = entries.iter().map(|e| e.api_name.len()).max().unwrap_or(0);
            let mut current = "";
            for e in &entries {
                if e.category != current {
                    current = e.category;
                    writeln!(out, "{current}").map_err(Error::Output)?;
                }
                let tags: Vec<&str> = e.tags.iter().map(|t| t.name()).collect();
                let dep = if e.deprecated { " (deprecated)" } else { "" };
                writeln!(
                    out,
                    "  {:<w_label$}  {:<w_api$}  {}{dep}",
                    e.label,
                    e.api_name,
                    tags.join(",")
                )
                .map_err(Error::Output)?;
            }
            writeln!(
                out,
                "{} event types in {} categories; unknown types are kept under \"Other\"",
                entries.len(),
                catalog.categories().len()
            )
            .map_err(Error::Output)?;
        }
    }
    super::finish_output(out)?;
    Ok(ExitCode::SUCCESS)
}
