//! What every command shares: the one-line error, key files, formatting.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use caelmor_persist::{
    ActivationError, DigestKey, Rejection, RestoreError, ShardDir, StoreConfig, StoreError,
    StoredEpoch, VerifyOptions, read_bundle_file,
};

/// A failure of a command: one line that starts with a stable code.
#[derive(Debug)]
pub(crate) struct Failure(String);

impl Failure {
    pub(crate) fn new(code: &str, message: impl fmt::Display) -> Self {
        Self(format!("{code}: {message}"))
    }

    /// The stable code the line starts with.
    pub(crate) fn code(&self) -> &str {
        self.0.split(':').next().unwrap_or_default()
    }

    /// A file or directory that cannot be read.
    pub(crate) fn io(op: &str, path: &Path, error: &std::io::Error) -> Self {
        Self::new("E-IO", format!("cannot {op} {}: {error}", path.display()))
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        // Store errors' messages already start with their code; their
        // causes (an OS error) are their sources, printed once, after them.
        Self(chain(&error))
    }
}

/// An error and its sources, one after the other: `message: cause: …`.
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

impl From<ActivationError> for Failure {
    fn from(error: ActivationError) -> Self {
        Self(error.to_string())
    }
}

impl From<RestoreError> for Failure {
    fn from(error: RestoreError) -> Self {
        Self(error.to_string())
    }
}

impl From<Rejection> for Failure {
    fn from(rejection: Rejection) -> Self {
        Self(rejection.to_string())
    }
}

/// Reads a key file: 32 raw bytes, or 64 hexadecimal digits (surrounding
/// whitespace allowed).
pub(crate) fn read_key(path: &Path) -> Result<DigestKey, Failure> {
    let bytes = std::fs::read(path).map_err(|e| Failure::io("read key file", path, &e))?;
    if let Ok(raw) = <[u8; 32]>::try_from(bytes.as_slice()) {
        return Ok(DigestKey::from_bytes(raw));
    }
    let bad = || {
        Failure::new(
            "E-KEY",
            format!(
                "{} is not a key file: it must hold 32 raw bytes or 64 hexadecimal digits",
                path.display()
            ),
        )
    };
    let text = std::str::from_utf8(&bytes).map_err(|_| bad())?.trim();
    if text.len() != 64 {
        return Err(bad());
    }
    let mut key = [0u8; 32];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2).ok_or_else(bad)?, 16)
            .map_err(|_| bad())?;
    }
    Ok(DigestKey::from_bytes(key))
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

/// A byte count, with a binary-unit approximation above 1 KiB.
pub(crate) fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    // Precision loss is irrelevant for a human-readable approximation.
    #[allow(clippy::cast_precision_loss)]
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{bytes} B ({value:.1} {})", UNITS[unit])
}

/// A file's modification time as `YYYY-MM-DD HH:MM:SS UTC`.
pub(crate) fn utc(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
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

    #[test]
    fn utc_formats_known_instants() {
        assert_eq!(utc(UNIX_EPOCH), "1970-01-01 00:00:00 UTC");
        let t = UNIX_EPOCH + Duration::from_secs(1_709_210_096);
        assert_eq!(utc(t), "2024-02-29 12:34:56 UTC");
    }

    #[test]
    fn sizes_are_readable() {
        assert_eq!(size(12), "12 B");
        assert_eq!(size(2048), "2048 B (2.0 KiB)");
    }
}
