/*!
The report's data tables, each returned by the analysis that owns the figures along with its
findings (so the table and the findings can never disagree, and the events are counted once), and
the chart drawn from the case-action table.
*/

use super::{Table, charts::BarChart};
use crate::analyses::case_actions::AnalystCaseActions;
use crate::analyses::file_access::FileAccess;
use crate::analyses::{Analysis, RunResult};
use crate::error::Result;

/// The table `analysis` returned in `run` (empty when it failed: the report lists the failure).
fn of(run: &RunResult, analysis: &dyn Analysis) -> Result<Table> {
    run.tables
        .get(analysis.name())
        .map_or_else(|| Ok(Table::default()), Table::from_frame)
}

/// Per analyst and ISO week: each case action, forensic searches, total.
pub fn case_actions(run: &RunResult) -> Result<Table> {
    of(run, &AnalystCaseActions)
}

/// Per actor: downloads, ZIPs, restores, other file access, bytes.
pub fn file_access(run: &RunResult) -> Result<Table> {
    of(run, &FileAccess)
}

/// Case actions per analyst, stacked by action (summed over the weeks of the period).
pub fn case_actions_chart(t: &Table) -> Option<BarChart> {
    let col = |name: &str| t.columns.iter().position(|c| c == name);
    let analyst = col("analyst")?;
    let skip = [Some(analyst), col("week"), col("total")];
    let actions: Vec<usize> = (0..t.columns.len())
        .filter(|i| !skip.contains(&Some(*i)))
        .collect();
    let mut analysts: Vec<String> = Vec::new();
    for row in &t.rows {
        let a = row
            .get(analyst)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned();
        if !analysts.contains(&a) {
            analysts.push(a);
        }
    }
    if analysts.is_empty() {
        return None;
    }
    let series = actions
        .iter()
        .map(|&c| {
            let v = analysts
                .iter()
                .map(|a| {
                    t.rows
                        .iter()
                        .filter(|r| r.get(analyst).and_then(|v| v.as_str()) == Some(a.as_str()))
                        .filter_map(|r| r.get(c).and_then(serde_json::Value::as_f64))
                        .sum()
                })
                .collect();
            (t.columns[c].clone(), v)
        })
        .filter(|(_, v): &(String, Vec<f64>)| v.iter().any(|x| *x > 0.0))
        .collect();
    Some(BarChart {
        title: "Case actions and forensic searches per analyst".into(),
        x_desc: "analyst".into(),
        y_desc: "actions".into(),
        x_labels: analysts
            .iter()
            .map(|a| a.split('@').next().unwrap_or(a).to_owned())
            .collect(),
        series,
    })
}
