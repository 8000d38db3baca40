/*!
The store's manifest: the list of committed Parquet parts and of every source file ever ingested.

The manifest is the commit point. A part file exists in the dataset only once the manifest lists it;
the manifest is replaced atomically (written to a temporary name, synced, renamed), so a reader sees
either the old list or the new one, and an ingest killed at any moment leaves the previous manifest
in force. Files not listed are leftovers of an interrupted ingest and are swept under the lock.
*/

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Version of the manifest layout this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format_version: u32,
    /// Incremented by every commit; part file names carry the generation that wrote them.
    pub generation: u64,
    pub sources: Vec<SourceFile>,
    pub parts: Vec<Part>,
    pub quarantine: Vec<QuarantinePart>,
}

/// One ingested export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceFile {
    /// The path as given on the command line.
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
    pub format: String,
    pub gzip: bool,
    /// RFC 3339, UTC.
    pub ingested_at: String,
    pub auditlens_version: String,
    pub generation: u64,
    pub rows_read: u64,
    pub stored: u64,
    pub duplicates: u64,
    pub quarantined: u64,
    /// Earliest and latest event time among the file's valid rows (stored or duplicate).
    pub first_event_ns: Option<i64>,
    pub last_event_ns: Option<i64>,
}

/// One committed Parquet file of events, all from one UTC date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Part {
    /// Relative to the store root, `/`-separated.
    pub path: String,
    /// `YYYY-MM-DD`, the hive partition value.
    pub date: String,
    pub rows: u64,
    pub min_ns: i64,
    pub max_ns: i64,
    pub source_sha256: String,
    pub generation: u64,
}

/// One committed Parquet file of quarantined records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuarantinePart {
    pub path: String,
    pub rows: u64,
    pub source_sha256: String,
    pub generation: u64,
}

impl Manifest {
    pub fn empty() -> Manifest {
        Manifest {
            format_version: FORMAT_VERSION,
            ..Manifest::default()
        }
    }

    /// Load `path`; a missing manifest is an empty store.
    pub fn load(path: &Path) -> Result<Manifest> {
        let text = match fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Manifest::empty()),
            Err(e) => return Err(Error::io(path, e)),
        };
        let m: Manifest = serde_json::from_str(&text).map_err(|e| {
            Error::store(
                path,
                format!("manifest is damaged ({e}); restore it from a backup"),
            )
        })?;
        if m.format_version != FORMAT_VERSION {
            return Err(Error::store(
                path,
                format!(
                    "manifest format {} is not supported by this auditlens (expects {FORMAT_VERSION})",
                    m.format_version
                ),
            ));
        }
        Ok(m)
    }

    /// Atomically replace the manifest at `path` with `self`.
    pub fn commit(&self, path: &Path) -> Result<()> {
        let tmp = path.with_extension("json.tmp");
        let text =
            serde_json::to_vec_pretty(self).map_err(|e| Error::store(path, e.to_string()))?;
        let mut f = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        f.write_all(&text)
            .and_then(|()| f.sync_all())
            .map_err(|e| Error::io(&tmp, e))?;
        drop(f);
        fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
        if let Some(dir) = path.parent() {
            sync_dir(dir);
        }
        Ok(())
    }

    /// The source file with this content hash, if it was ingested before.
    pub fn source_by_sha(&self, sha256: &str) -> Option<&SourceFile> {
        self.sources.iter().find(|s| s.sha256 == sha256)
    }

    /// Parts holding events of `date` (`YYYY-MM-DD`).
    pub fn parts_on<'a>(&'a self, date: &'a str) -> impl Iterator<Item = &'a Part> + 'a {
        self.parts.iter().filter(move |p| p.date == date)
    }

    /// Total stored events.
    pub fn event_count(&self) -> u64 {
        self.parts.iter().map(|p| p.rows).sum()
    }
}

/// Make a rename durable. Failure is ignored: some filesystems cannot sync directories, and the
/// rename itself already happened.
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}
