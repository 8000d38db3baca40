/*!
The store's writer lock: one ingest at a time.

It is an advisory `flock` on `_auditlens/lock`, so the kernel releases it when the holder dies
however it dies; a lock file left by a killed process is therefore never "stuck". The file's text
names the current holder (pid, start time) for the error message a second writer gets, and is
cleared on a clean release, so finding text there on acquisition tells that the previous writer
was interrupted (its partial files are then swept, see `Store::recover`).
*/

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A held writer lock; released on drop.
#[derive(Debug)]
pub struct StoreLock {
    file: File,
    path: PathBuf,
    /// The previous holder's text, when it did not release cleanly.
    pub interrupted_holder: Option<String>,
}

impl StoreLock {
    /// Take the lock, waiting for it if `wait`, else failing at once with [`Error::Locked`].
    pub fn acquire(path: &Path, store: &Path, wait: bool) -> Result<StoreLock> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        if wait {
            file.lock().map_err(|e| Error::io(path, e))?;
        } else {
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    let mut text = String::new();
                    let _ = file.read_to_string(&mut text);
                    let holder = if text.trim().is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", text.trim())
                    };
                    return Err(Error::Locked {
                        path: store.to_path_buf(),
                        holder,
                    });
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(path, e)),
            }
        }
        let mut previous = String::new();
        file.read_to_string(&mut previous)
            .map_err(|e| Error::io(path, e))?;
        let interrupted_holder = (!previous.trim().is_empty()).then(|| previous.trim().to_owned());
        let me = format!(
            "pid {} since {}",
            std::process::id(),
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)).map(|_| ()))
            .and_then(|()| file.write_all(me.as_bytes()))
            .and_then(|()| file.sync_all())
            .map_err(|e| Error::io(path, e))?;
        Ok(StoreLock {
            file,
            path: path.to_path_buf(),
            interrupted_holder,
        })
    }
}

impl Drop for StoreLock {
    fn drop(&mut self) {
        // A clean release leaves the file empty; the flock itself goes with the descriptor.
        if self.file.set_len(0).is_err() {
            eprintln!(
                "auditlens: warning: could not clear {}",
                self.path.display()
            );
        }
        let _ = self.file.unlock();
    }
}
