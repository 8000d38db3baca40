/*!
Writing the parts' bytes to disk while ingest goes on, so that committing a file does not wait for
all of them at its end.

Every part is fsynced before it is renamed and committed (src/store/writer.rs). Left to the end,
those fsyncs wrote all of a file's parts then, because the kernel keeps written pages in memory
for up to half a minute before it writes them back by itself: a 5M-row ingest ended with 0.4 s of
fsyncs and both cores idle, a 1M-row one with 0.1 s (bench/NOTES.md, twenty-seventh session). A
[`Syncer`] thread `fdatasync`s each part as soon as the encoder has written a flush of it, so the
disk works while parsing goes on, and the final fsync finds little more than the footer to write.

The error of an early sync is kept and returned by [`Syncer::finish`], never dropped: after a failed
fsync the kernel may discard the pages it could not write and report success to the next fsync.
*/

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

use crate::error::{Error, Result};

/// A thread that syncs the files it is handed, in order, one at a time.
pub(crate) struct Syncer {
    requests: mpsc::Sender<(File, PathBuf)>,
    thread: JoinHandle<Result<()>>,
}

impl Syncer {
    /// Start the thread; the error is the operating system's refusal of a new thread.
    pub fn start() -> std::io::Result<Syncer> {
        let (requests, queue) = mpsc::channel::<(File, PathBuf)>();
        let thread = std::thread::Builder::new()
            .name("auditlens-sync".into())
            .spawn(move || {
                for (file, path) in queue {
                    file.sync_data().map_err(|e| Error::io(&path, e))?;
                }
                Ok(())
            })?;
        Ok(Syncer { requests, thread })
    }

    /// Sync what has been written to `file` (at `path`, for errors) so far, in the background.
    pub fn request(&self, file: &File, path: &Path) -> Result<()> {
        let handle = file.try_clone().map_err(|e| Error::io(path, e))?;
        // The thread only stops early on a failed sync, whose error `finish` returns.
        let _ = self.requests.send((handle, path.to_owned()));
        Ok(())
    }

    /// Wait until every requested sync is done: the first error, if one failed.
    pub fn finish(self) -> Result<()> {
        let Syncer { requests, thread } = self;
        // The thread ends once the queue is empty and no more can come.
        drop(requests);
        match thread.join() {
            Ok(synced) => synced,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn syncs_files_and_finishes() {
        let dir = tempfile::tempdir().unwrap();
        let syncer = Syncer::start().unwrap();
        for name in ["a.parquet", "b.parquet"] {
            let path = dir.path().join(name);
            let mut file = File::create(&path).unwrap();
            file.write_all(b"rows").unwrap();
            syncer.request(&file, &path).unwrap();
        }
        syncer.finish().unwrap();
    }

    /// A failed early sync is reported by `finish`, with the file's path, however many requests
    /// follow it.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_failed_sync_is_reported_by_finish() {
        let dir = tempfile::tempdir().unwrap();
        let syncer = Syncer::start().unwrap();
        // Linux refuses to fsync a character device such as /dev/null (EINVAL).
        let null = Path::new("/dev/null");
        syncer.request(&File::open(null).unwrap(), null).unwrap();
        let path = dir.path().join("after.parquet");
        let file = File::create(&path).unwrap();
        syncer.request(&file, &path).unwrap();
        let err = syncer.finish().unwrap_err().to_string();
        assert!(err.contains("/dev/null"), "{err}");
    }
}
