//! The I/O seam under [`FileBackend`](super::FileBackend): every file system
//! operation that changes a shard directory goes through [`Io`], so that the
//! crash model can stop a commit (or a claim) after any step, or in the
//! middle of a write, and fail any step with the error a full disk, a
//! permission or a read-only mount would give.
//!
//! Nothing here ever replaces or follows anything: files are created
//! exclusively (`O_CREAT | O_EXCL`, which also refuses a symbolic link
//! planted at the name), and published with `link(2)`, which fails if the
//! name exists.

use core::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// The mutating file system operations of opening a new shard, a commit
/// and a claim, in the order they use them: create a directory (a new
/// shard's, and the store root if it is new too); create a temporary file,
/// write it, sync it, link it under its final name, sync the directory;
/// remove (temporaries, pruned epochs and heads).
pub(crate) trait Io: fmt::Debug + Send + Sync {
    /// Creates one directory (not its parents); fails with `AlreadyExists`
    /// if anything exists at `path`. Its entry in the parent is durable
    /// only once the parent is synced ([`Io::sync_dir`]).
    fn create_dir(&self, path: &Path) -> io::Result<()>;
    /// Creates a new file for writing; fails if anything (a file, a
    /// symbolic link, a FIFO) exists at `path`.
    fn create_new(&self, path: &Path) -> io::Result<File>;
    /// Writes all of `data` to `file` (opened by [`Io::create_new`] at `path`).
    fn write(&self, file: &mut File, path: &Path, data: &[u8]) -> io::Result<()>;
    /// Makes `file`'s data durable (`fsync`).
    fn sync(&self, file: &File, path: &Path) -> io::Result<()>;
    /// Gives the file at `from` the second name `to`; fails with
    /// `AlreadyExists` if `to` exists. Never replaces anything.
    fn link(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Makes `dir`'s entries (creations, links, removals) durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// Removes a name.
    fn remove(&self, path: &Path) -> io::Result<()>;
}

/// The real file system.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RealIo;

impl Io for RealIo {
    fn create_dir(&self, path: &Path) -> io::Result<()> {
        std::fs::create_dir(path)
    }

    fn create_new(&self, path: &Path) -> io::Result<File> {
        OpenOptions::new().write(true).create_new(true).open(path)
    }

    fn write(&self, file: &mut File, _path: &Path, data: &[u8]) -> io::Result<()> {
        file.write_all(data)
    }

    fn sync(&self, file: &File, _path: &Path) -> io::Result<()> {
        file.sync_all()
    }

    fn link(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::hard_link(from, to)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        sync_dir(dir)
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }
}

/// `fsync` on a directory: on Unix, a directory opened read-only can be
/// synced, which makes the links and removals inside it durable.
#[cfg(unix)]
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Other platforms cannot open a directory as a file; their directory
/// entries are durable by other means (or not at all), and there is
/// nothing to sync.
#[cfg(not(unix))]
pub(crate) fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}
