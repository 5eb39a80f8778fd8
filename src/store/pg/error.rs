//! What [`StoreError::Backend`](crate::StoreError::Backend) carries as its
//! source when the PostgreSQL backend itself, not the server, decided
//! something went wrong. Errors the server or the connection report are
//! passed on as they are: a [`postgres::Error`].

use core::fmt;

/// The PostgreSQL backend's own reasons, found by downcasting the source of
/// a [`StoreError::Backend`](crate::StoreError::Backend).
///
/// ```
/// use caelmor_persist::PgError;
/// let e = PgError::OutOfRange { what: "shard", value: u64::MAX };
/// assert!(e.to_string().contains("int8"));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum PgError {
    /// `COMMIT` failed (the connection broke, the server stopped) and a new
    /// connection could not tell whether the epoch was committed. Retry the
    /// commit with the bundle the error hands back: the store finds the
    /// epoch already committed (and reports success) or commits it.
    CommitUnknown {
        /// What `COMMIT` returned.
        commit: postgres::Error,
        /// Why it could not be settled (usually: no connection).
        settle: String,
    },
    /// `COMMIT` failed, and a new connection showed, after every
    /// transaction holding the shard's head had ended, that the epoch was
    /// not committed. Retrying is safe.
    NotCommitted {
        /// What `COMMIT` returned.
        commit: postgres::Error,
    },
    /// The backend's tables are not in the database (in the first schema of
    /// the connection's `search_path`), and the options said not to create
    /// them.
    NoTables,
    /// A value that PostgreSQL's `int8` cannot hold: the backend stores
    /// shard ids as `int8`, so a shard id beyond `i64::MAX` is refused.
    OutOfRange {
        /// What the value is.
        what: &'static str,
        /// The value.
        value: u64,
    },
}

impl fmt::Display for PgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PgError::CommitUnknown { settle, .. } => write!(
                f,
                "COMMIT failed and its outcome could not be settled ({settle}); retry the commit with the same bundle"
            ),
            PgError::NotCommitted { .. } => f.write_str(
                "COMMIT failed; the epoch was checked on a new connection: not committed",
            ),
            PgError::NoTables => f.write_str(
                "the tables caelmor_head, caelmor_epochs and caelmor_chunks are not there (in the connection's search_path)",
            ),
            PgError::OutOfRange { what, value } => write!(
                f,
                "{what} {value} is beyond what PostgreSQL's int8 holds ({})",
                i64::MAX
            ),
        }
    }
}

impl std::error::Error for PgError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PgError::CommitUnknown { commit, .. } | PgError::NotCommitted { commit } => {
                Some(commit)
            }
            PgError::NoTables | PgError::OutOfRange { .. } => None,
        }
    }
}
