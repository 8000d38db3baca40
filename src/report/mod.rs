/*!
The weekly compliance report: assembled from the same code `analyze` and `stats` run, then written
as self-contained HTML, Markdown with PNG charts, and JSON.
*/

pub mod charts;
