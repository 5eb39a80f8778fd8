//! What every command shares: the one-line error, key files, formatting.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use caelmor_persist::{
    ActivationError, DigestKey, Rejection, RestoreError, ShardDir, StoreConfig, StoreError,
    StoredEpoch, VerifyOptions, read_bundle_file,
};

/// A failure of a command: one line that starts with a stable code, the
/// error's own message followed by each of its sources, each said once.
#[derive(Debug)]
pub(crate) struct Failure {
    code: String,
    line: String,
}

impl Failure {
    pub(crate) fn new(code: &str, message: impl fmt::Display) -> Self {
        Self {
            code: code.to_owned(),
            line: format!("{code}: {message}"),
        }
    }

    /// An error whose message already starts with its stable `code`.
    fn coded(code: &str, error: &dyn std::error::Error) -> Self {
        Self {
            code: code.to_owned(),
            line: chain(error),
        }
    }

    /// The stable code the line starts with.
    pub(crate) fn code(&self) -> &str {
        &self.code
    }

    /// A file or directory that cannot be read.
    pub(crate) fn io(op: &str, path: &Path, error: &std::io::Error) -> Self {
        Self::new("E-IO", format!("cannot {op} {}: {error}", path.display()))
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.line)
    }
}

/// An error and its sources, one after the other: `message: cause: …`.
/// The library's errors either print their cause or return it from
/// `source()`, never both, so nothing is said twice.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        line.push_str(": ");
        line.push_str(&cause.to_string());
        source = cause.source();
    }
    line
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        Self::coded(error.code(), &error)
    }
}

impl From<ActivationError> for Failure {
    fn from(error: ActivationError) -> Self {
        Self::coded(error.code(), &error)
    }
}

impl From<RestoreError> for Failure {
    fn from(error: RestoreError) -> Self {
        Self::coded(error.code(), &error)
    }
}

impl From<Rejection> for Failure {
    fn from(rejection: Rejection) -> Self {
        Self::coded(rejection.code().as_str(), &rejection)
    }
}

/// The longest key file read: 64 hex digits with room for surrounding
/// whitespace and comments is far below it; anything longer is not a key.
const KEY_FILE_MAX: u64 = 4096;

/// Reads a key file: 32 raw bytes, or 64 hexadecimal digits (surrounding
/// whitespace allowed).
///
/// Only a regular file is read, and at most [`KEY_FILE_MAX`] bytes of it:
/// a FIFO, a device (`/dev/zero` behind a symbolic link), a directory or a
/// huge file is refused at once. Symbolic links are followed, unlike for
/// shard files: a key is commonly a link into a secrets mount.
pub(crate) fn read_key(path: &Path) -> Result<DigestKey, Failure> {
    let bad = |why: &str| Failure::new("E-KEY", format!("{} {why}", path.display()));
    let file = open_nonblocking(path).map_err(|e| Failure::io("open key file", path, &e))?;
    let meta = file
        .metadata()
        .map_err(|e| Failure::io("inspect key file", path, &e))?;
    if !meta.is_file() {
        return Err(bad(&format!(
            "is {}, not a regular file: it cannot hold a key",
            kind_of(&meta.file_type())
        )));
    }
    if meta.len() > KEY_FILE_MAX {
        return Err(bad(&format!(
            "holds {} bytes: a key file holds 32 raw bytes or 64 hexadecimal digits",
            meta.len()
        )));
    }
    let mut bytes = Vec::new();
    // Bounded even if the file grows after the check.
    file.take(KEY_FILE_MAX + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::io("read key file", path, &e))?;
    if let Ok(raw) = <[u8; 32]>::try_from(bytes.as_slice()) {
        return Ok(DigestKey::from_bytes(raw));
    }
    std::str::from_utf8(&bytes)
        .ok()
        .and_then(|text| blake3::Hash::from_hex(text.trim()).ok())
        .map(|hash| DigestKey::from_bytes(*hash.as_bytes()))
        .ok_or_else(|| bad("is not a key file: it must hold 32 raw bytes or 64 hexadecimal digits"))
}

/// Opens `path` for reading without waiting for a writer if it is a FIFO
/// (the caller then refuses it by its type).
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

/// What a file that is not a regular file is, for messages.
fn kind_of(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_block_device() || kind.is_char_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// Verification options for a file: the key, if any, and the epoch its name
/// says it holds, if it is named like a store's epoch file.
pub(crate) fn options_for(path: &Path, key: Option<&DigestKey>) -> VerifyOptions {
    let mut options = VerifyOptions::new();
    if let Some(key) = key {
        options = options.key(key.clone());
    }
    if let Some(named) = named_epoch(path) {
        options = options.expect_epoch(named.epoch);
    }
    options
}

/// The epoch and fence a store's bundle file name stands for.
pub(crate) fn named_epoch(path: &Path) -> Option<StoredEpoch> {
    path.file_name()
        .and_then(|n| n.to_str())
        .and_then(ShardDir::parse_epoch_file_name)
}

/// Reads a file that should hold one bundle, the way a store reads one:
/// only a regular file, its preamble first, never more than its frame
/// declares. A file that is not a bundle by its preamble alone is refused
/// with the rejection `verify` would give, without reading the rest.
pub(crate) fn read_bundle(path: &Path) -> Result<Vec<u8>, Failure> {
    Ok(read_bundle_file(
        path,
        StoreConfig::DEFAULT_MAX_BUNDLE_LEN,
    )??)
}

/// Milliseconds with one decimal.
pub(crate) fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// A byte count, exact, with a binary-unit approximation above 1 KiB
/// (indicatif's, already in the tool for its progress bars).
pub(crate) fn size(bytes: u64) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else {
        format!("{bytes} B ({})", indicatif::HumanBytes(bytes))
    }
}

/// A file's modification time in RFC 3339, UTC, to the second.
pub(crate) fn utc(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time).to_string()
}

/// A path as given, for messages.
pub(crate) fn shown(path: &Path) -> String {
    path.display().to_string()
}

/// The `shard-<n>` directories under a store root, sorted.
pub(crate) fn shard_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_prefix("shard-"))
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                && e.path().is_dir()
        })
        .map(|e| e.path())
        .collect();
    dirs.sort();
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn utc_formats_known_instants() {
        assert_eq!(utc(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_709_210_096);
        assert_eq!(utc(t), "2024-02-29T12:34:56Z");
    }

    #[test]
    fn sizes_are_readable() {
        assert_eq!(size(12), "12 B");
        assert_eq!(size(2048), "2048 B (2.00 KiB)");
    }
}
