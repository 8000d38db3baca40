/*!
The event store: a hive-partitioned Parquet dataset that polars, DuckDB and Spark read as it is.

```text
STORE/
  events/date=2026-04-13/part-000003-0000.parquet   events, one UTC day per directory (zstd)
  quarantine/part-000003-0000.parquet               records that could not be parsed
  findings/findings.parquet                         the latest `analyze` results
  _auditlens/manifest.json                          committed parts and ingested sources
  _auditlens/lock                                   the writer lock
```

Parts are immutable once committed. Writers hold [`StoreLock`]; readers take no lock and see the
parts the manifest listed when they opened the store. Reads go through the manifest, never a
directory glob, so a reader can prune partitions without listing directories and never sees a part
an interrupted ingest left behind.
*/

pub mod lock;
pub mod manifest;
mod pages;
pub(crate) mod parquet;
mod syncer;
pub mod writer;

use std::fs;
use std::path::{Path, PathBuf};

use polars::prelude::*;

pub use lock::StoreLock;
pub use manifest::{Manifest, Part, SourceFile};

use crate::error::{Error, Result};
use crate::model::schema::event_schema;

/// The default store location, relative to the working directory.
pub const DEFAULT_STORE: &str = "notebooks-data/store";

const META_DIR: &str = "_auditlens";
const EVENTS_DIR: &str = "events";
const QUARANTINE_DIR: &str = "quarantine";
const FINDINGS_DIR: &str = "findings";

/// An opened store: its root and the manifest read at open time.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
    manifest: Manifest,
}

impl Store {
    /// Open an existing store for reading.
    pub fn open(root: &Path) -> Result<Store> {
        let manifest_path = root.join(META_DIR).join("manifest.json");
        if !manifest_path.exists() {
            let hint = if root.exists() {
                "it has no auditlens manifest"
            } else {
                "it does not exist"
            };
            return Err(Error::store(
                root,
                format!(
                    "{hint}; create it with `auditlens ingest --store {} FILE...`",
                    root.display()
                ),
            ));
        }
        let manifest = Manifest::load(&manifest_path)?;
        Ok(Store {
            root: root.to_path_buf(),
            manifest,
        })
    }

    /// Open a store for writing, creating it if needed, and take the writer lock. Leftovers of an
    /// interrupted ingest are swept before anything is written.
    pub fn open_for_write(root: &Path, wait: bool) -> Result<(Store, StoreLock, Recovery)> {
        let meta = root.join(META_DIR);
        fs::create_dir_all(&meta).map_err(|e| Error::io(&meta, e))?;
        let lock = StoreLock::acquire(&meta.join("lock"), root, wait)?;
        let manifest_path = meta.join("manifest.json");
        let manifest = Manifest::load(&manifest_path)?;
        let store = Store {
            root: root.to_path_buf(),
            manifest,
        };
        let mut recovery = store.recover()?;
        recovery.interrupted_holder = lock.interrupted_holder.clone();
        if !manifest_path.exists() {
            store.manifest.commit(&manifest_path)?;
        }
        Ok((store, lock, recovery))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    pub(crate) fn manifest_path(&self) -> PathBuf {
        self.root.join(META_DIR).join("manifest.json")
    }

    /// Directory for `date`'s events.
    pub(crate) fn partition_dir(&self, date: &str) -> PathBuf {
        self.root.join(EVENTS_DIR).join(format!("date={date}"))
    }

    pub(crate) fn quarantine_dir(&self) -> PathBuf {
        self.root.join(QUARANTINE_DIR)
    }

    /// Where analyses write their findings for notebooks.
    pub fn findings_dir(&self) -> PathBuf {
        self.root.join(FINDINGS_DIR)
    }

    /// Replace the manifest (the commit point) and keep the new one.
    pub(crate) fn commit(&mut self, manifest: Manifest) -> Result<()> {
        manifest.commit(&self.manifest_path())?;
        self.manifest = manifest;
        Ok(())
    }

    /// Delete files under `events/` and `quarantine/` that the manifest does not list: partial or
    /// uncommitted parts of an interrupted ingest. Only called with the writer lock held.
    fn recover(&self) -> Result<Recovery> {
        let listed: std::collections::HashSet<PathBuf> = self
            .manifest
            .parts
            .iter()
            .map(|p| p.path.as_str())
            .chain(self.manifest.quarantine.iter().map(|q| q.path.as_str()))
            .map(|p| self.root.join(p))
            .collect();
        let mut removed = Vec::new();
        for top in [self.root.join(EVENTS_DIR), self.quarantine_dir()] {
            let mut dirs = vec![top];
            while let Some(dir) = dirs.pop() {
                let entries = match fs::read_dir(&dir) {
                    Ok(e) => e,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(Error::io(&dir, e)),
                };
                for entry in entries {
                    let entry = entry.map_err(|e| Error::io(&dir, e))?;
                    let path = entry.path();
                    let ft = entry.file_type().map_err(|e| Error::io(&path, e))?;
                    if ft.is_dir() {
                        dirs.push(path);
                    } else if ft.is_file() && !listed.contains(&path) && is_ours(&path) {
                        fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
                        removed.push(path);
                    }
                }
            }
        }
        Ok(Recovery {
            removed,
            interrupted_holder: None,
        })
    }

    /// A lazy scan of the stored events, restricted to the partitions that can hold events in
    /// `[from_ns, to_ns)` when a range is given (row groups are pruned further by their statistics).
    pub fn scan(&self, range: Option<(i64, i64)>) -> Result<LazyFrame> {
        let paths: Vec<PlRefPath> = self
            .manifest
            .parts
            .iter()
            .filter(|p| range.is_none_or(|(from, to)| p.max_ns >= from && p.min_ns < to))
            .map(|p| PlRefPath::new(self.root.join(&p.path).to_string_lossy().as_ref()))
            .collect();
        if paths.is_empty() {
            return Ok(DataFrame::empty_with_schema(&event_schema()).lazy());
        }
        let args = ScanArgsParquet {
            hive_options: HiveOptions {
                enabled: Some(false),
                ..HiveOptions::default()
            },
            schema: Some(Arc::new(event_schema())),
            ..ScanArgsParquet::default()
        };
        Ok(LazyFrame::scan_parquet_files(
            paths.into_iter().collect(),
            args,
        )?)
    }

    /// A lazy scan of the quarantine.
    pub fn scan_quarantine(&self) -> Result<LazyFrame> {
        let paths: Vec<PlRefPath> = self
            .manifest
            .quarantine
            .iter()
            .map(|q| PlRefPath::new(self.root.join(&q.path).to_string_lossy().as_ref()))
            .collect();
        if paths.is_empty() {
            return Ok(DataFrame::empty_with_schema(&writer::quarantine_schema()).lazy());
        }
        let args = ScanArgsParquet {
            hive_options: HiveOptions {
                enabled: Some(false),
                ..HiveOptions::default()
            },
            ..ScanArgsParquet::default()
        };
        Ok(LazyFrame::scan_parquet_files(
            paths.into_iter().collect(),
            args,
        )?)
    }
}

/// File names auditlens writes in the dataset directories (so a sweep never touches anything else).
fn is_ours(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    (name.starts_with("part-") && name.ends_with(".parquet"))
        || (name.starts_with(".part-") && name.ends_with(".partial"))
}

/// What opening a store for writing had to clean up.
#[derive(Debug, Default)]
pub struct Recovery {
    /// Uncommitted files removed.
    pub removed: Vec<PathBuf>,
    /// The lock text of a previous writer that did not finish.
    pub interrupted_holder: Option<String>,
}
