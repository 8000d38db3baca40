/*! `auditlens show`: one event's every field, like the console's event-details panel. */

use std::io::Write;
use std::process::ExitCode;

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::model::event::ActorType;
use crate::model::schema::{cols, events_from_frame};
use crate::output::terminal_safe;
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: super::StoreArg,
    /// The event id, or a unique prefix of it (at least 4 characters).
    id: String,
    /// Print as JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let prefix = args.id.trim().to_ascii_lowercase();
    if prefix.len() < 4 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::Usage(format!(
            "{:?} is not an event id: give at least 4 hex digits of one",
            args.id
        )));
    }
    let store = Store::open(&args.store.store)?;
    let df = store
        .scan(None)?
        .filter(col(cols::EVENT_ID).str().starts_with(lit(prefix.as_str())))
        .limit(11)
        .collect()?;
    let events = events_from_frame(&df)?;
    let event = match events.as_slice() {
        [] => return Err(Error::Usage(format!("no event id starts with {prefix}"))),
        [one] => one,
        many => {
            let ids: Vec<&str> = many.iter().take(10).map(|e| e.event_id.as_str()).collect();
            return Err(Error::Usage(format!(
                "{prefix} is ambiguous ({}{} events): {}; give more digits",
                many.len().min(10),
                if many.len() > 10 { "+" } else { "" },
                ids.join(", ")
            )));
        }
    };
    let mut out = super::stdout();
    if args.json {
        serde_json::to_writer_pretty(&mut out, event).map_err(|e| Error::Output(e.into()))?;
        writeln!(out).map_err(Error::Output)?;
    } else {
        let opt = |v: &Option<String>| v.as_deref().map_or_else(|| "-".to_string(), terminal_safe);
        let user_type = ActorType::parse(&event.actor_type)
            .map_or(event.actor_type.as_str(), |a| a.console_label());
        let mut lines = vec![
            ("Event", event.event_id.clone()),
            (
                "Event type",
                format!(
                    "{} ({}), category {}{}",
                    terminal_safe(&event.event_label),
                    event.event_type,
                    event.category,
                    if event.deprecated { ", deprecated" } else { "" }
                ),
            ),
            ("Date observed", format!("{} (UTC)", event.timestamp)),
            ("Username", opt(&event.actor_name)),
            ("User type", user_type.to_owned()),
            ("Actor ID", opt(&event.actor_id)),
            ("IP address", opt(&event.client_ip)),
        ];
        if event.ip_addresses.len() > 1 {
            lines.push(("Proxy chain", terminal_safe(&event.ip_addresses.join(", "))));
        }
        lines.push(("User agent", opt(&event.user_agent)));
        lines.push(("Affected user", opt(&event.affected_user_name)));
        lines.push(("Affected user ID", opt(&event.affected_user_id)));
        lines.push((
            "Source",
            format!(
                "{} line {}",
                terminal_safe(&event.source_file),
                event.source_line
            ),
        ));
        for (k, v) in lines {
            writeln!(out, "{k:<17} {v}").map_err(Error::Output)?;
        }
        let details = serde_json::to_string_pretty(&event.details).unwrap_or_default();
        writeln!(out, "Details").map_err(Error::Output)?;
        for l in details.lines() {
            writeln!(out, "  {}", terminal_safe(l)).map_err(Error::Output)?;
        }
    }
    super::finish_output(out)?;
    Ok(ExitCode::SUCCESS)
}
