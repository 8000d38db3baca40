/*!
The library's error type. Every variant names what the user needs to act: the file (and line and
column where there is one), the store, or the argument. Binaries wrap it in `anyhow` at the edge.
*/

use std::io;
use std::path::PathBuf;

/// Errors from the auditlens library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// A whole input file cannot be read as an audit-log export (rows that fail go to quarantine).
    #[error("{}: {message}", path.display())]
    Input { path: PathBuf, message: String },

    /// The store is missing, damaged or cannot be written.
    #[error("store {}: {message}", path.display())]
    Store { path: PathBuf, message: String },

    /// Another process holds the store's lock.
    #[error(
        "store {} is locked by another auditlens process{holder}; wait for it to finish \
         (or pass --wait) and try again",
        path.display()
    )]
    Locked { path: PathBuf, holder: String },

    /// The config file is invalid.
    #[error("config {}: {message}", path.display())]
    Config { path: PathBuf, message: String },

    /// A command-line value is invalid (unknown event type, bad date, ...).
    #[error("{0}")]
    Usage(String),

    /// Output could not be written (closed pipe, full disk).
    #[error("writing output: {0}")]
    Output(#[source] io::Error),

    /// The columnar engine failed.
    #[error("polars: {0}")]
    Polars(#[from] polars::error::PolarsError),
}

/// Result alias for the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wrap an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// A store-level error.
    pub fn store(path: impl Into<PathBuf>, message: impl Into<String>) -> Error {
        Error::Store {
            path: path.into(),
            message: message.into(),
        }
    }

    /// True when the error is a closed output pipe (`auditlens query | head`): not worth reporting.
    pub fn is_broken_pipe(&self) -> bool {
        match self {
            Error::Output(e) | Error::Io { source: e, .. } => e.kind() == io::ErrorKind::BrokenPipe,
            Error::Polars(e) => e.to_string().contains("Broken pipe"),
            _ => false,
        }
    }
}
