//! The I/O seam under [`FileStore`](super::FileStore): every file system
//! operation that changes a shard directory goes through [`Io`], so that the
//! tests can stop a commit (or a claim) after any step, or in the middle of a
//! write, and fail any step with the error a full disk, a permission or a
//! read-only mount would give.

use core::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// The mutating file system operations of a commit and a claim, in the
/// order they use them: create a temporary file, write it, sync it, rename
/// it into place, sync the directory; remove (temporary leftovers, pruned
/// epochs).
pub(crate) trait Io: fmt::Debug + Send + Sync {
    /// Creates (or truncates) a file for writing.
    fn create(&self, path: &Path) -> io::Result<File>;
    /// Writes all of `data` to `file` (opened by [`Io::create`] at `path`).
    fn write(&self, file: &mut File, path: &Path, data: &[u8]) -> io::Result<()>;
    /// Makes `file`'s data durable (`fsync`).
    fn sync(&self, file: &File, path: &Path) -> io::Result<()>;
    /// Atomically renames `from` to `to`, replacing `to` if it exists.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Makes `dir`'s entries (creations, renames, removals) durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// Removes a file.
    fn remove(&self, path: &Path) -> io::Result<()>;
}

/// The real file system.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RealIo;

impl Io for RealIo {
    fn create(&self, path: &Path) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
    }

    fn write(&self, file: &mut File, _path: &Path, data: &[u8]) -> io::Result<()> {
        file.write_all(data)
    }

    fn sync(&self, file: &File, _path: &Path) -> io::Result<()> {
        file.sync_all()
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        sync_dir(dir)
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }
}

/// `fsync` on a directory: on Unix, a directory opened read-only can be
/// synced, which makes the renames and removals inside it durable.
#[cfg(unix)]
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Other platforms cannot open a directory as a file; their rename is
/// durable by other means (or not at all), and there is nothing to sync.
#[cfg(not(unix))]
pub(crate) fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}
