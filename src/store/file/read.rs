//! Reading what a shard directory (or an operator) hands us, without
//! trusting it: only regular files, never through a symbolic link, never
//! blocking on a FIFO, never more bytes than the reader can justify.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::path::Path;

use crate::format::{DIGEST_LEN, FORMAT_VERSION, MAGIC, PREAMBLE_LEN};
use crate::rejection::{Part, Rejection};
use crate::store::StoreError;

/// Opens `path` for reading if it is a regular file, and returns it with
/// its length. A symbolic link, a FIFO (opened without blocking), a device
/// or a directory is `E-STORE-NOT-FILE`.
pub(crate) fn open_regular(path: &Path) -> Result<(File, u64), StoreError> {
    let location = path.display();
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // No following a link planted at the name; no waiting for a writer
        // at a FIFO (the type check below then refuses it).
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = match options.open(path) {
        Ok(file) => file,
        // O_NOFOLLOW on a symbolic link fails with ELOOP.
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(StoreError::NotAFile {
                location: location.to_string(),
                kind: "a symbolic link",
            });
        }
        Err(e) => return Err(StoreError::io("open", location)(e)),
    };
    let meta = file
        .metadata()
        .map_err(StoreError::io("inspect", path.display()))?;
    let kind = meta.file_type();
    if !kind.is_file() {
        return Err(StoreError::NotAFile {
            location: location.to_string(),
            kind: describe(&kind),
        });
    }
    Ok((file, meta.len()))
}

fn describe(kind: &std::fs::FileType) -> &'static str {
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
    } else if kind.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

/// Reads all of a regular file that may hold at most `limit` bytes.
/// `Ok(None)` if it does not exist.
pub(crate) fn read_bounded(path: &Path, limit: u64) -> Result<Option<Vec<u8>>, StoreError> {
    let (file, len) = match open_regular(path) {
        Ok(opened) => opened,
        Err(StoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    if len > limit {
        return Err(StoreError::TooLarge {
            location: path.display().to_string(),
            len,
            limit,
        });
    }
    read_exactly(file, path, len).map(Some)
}

/// Reads `len` bytes — the length `fstat` gave — and no more, even if the
/// file grew since.
fn read_exactly(file: File, path: &Path, len: u64) -> Result<Vec<u8>, StoreError> {
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(usize::try_from(len).unwrap_or(usize::MAX))
        .map_err(|_| StoreError::TooLarge {
            location: path.display().to_string(),
            len,
            limit: bytes.capacity() as u64,
        })?;
    file.take(len)
        .read_to_end(&mut bytes)
        .map_err(StoreError::io("read", path.display()))?;
    Ok(bytes)
}

/// Reads a file that should hold one bundle, for inspection: a regular
/// file, its preamble first, then exactly the length its frame declares,
/// never more than `limit` bytes.
///
/// The inner `Err` is the bundle's first rejection when it can be told
/// from the preamble and the file's length alone — not a bundle
/// (`E-MAGIC`), another format version (`E-VERSION`), a declared frame
/// shorter than an empty one (`E-FRAME`), bytes beyond the declared frame
/// (`E-TRAILING`) — the same rejection [`verify`](crate::verify()) would
/// give, so a 1 GiB file of zeros costs 18
/// bytes of reading, not 1 GiB. A file shorter than its frame is read
/// whole; [`verify`](crate::verify()) then says `E-TRUNCATED`.
///
/// # Errors
/// The outer `Err`: `E-STORE-NOT-FILE` for a FIFO, a device, a directory
/// or a symbolic link; `E-STORE-TOO-LARGE` past `limit`; an I/O code.
///
/// ```
/// use caelmor_persist::{read_bundle_file, RejectionCode};
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("junk.cpb");
/// std::fs::write(&path, vec![0u8; 1 << 20])?;
/// let refused = read_bundle_file(&path, 1 << 30)?.unwrap_err();
/// assert_eq!(refused.code(), RejectionCode::Magic);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_bundle_file(path: &Path, limit: u64) -> Result<Result<Vec<u8>, Rejection>, StoreError> {
    let (mut file, len) = open_regular(path)?;
    let mut preamble = [0u8; PREAMBLE_LEN];
    let head_len = usize::try_from(len.min(PREAMBLE_LEN as u64)).unwrap_or(PREAMBLE_LEN);
    file.read_exact(&mut preamble[..head_len])
        .map_err(StoreError::io("read", path.display()))?;
    if len < PREAMBLE_LEN as u64 {
        // Too short to hold a frame: the reader's own rules say what it is.
        return Ok(Ok(preamble[..head_len].to_vec()));
    }
    if preamble[..8] != MAGIC {
        return Ok(Err(Rejection::BadMagic));
    }
    let version = u16::from_le_bytes([preamble[8], preamble[9]]);
    if version != FORMAT_VERSION {
        return Ok(Err(Rejection::UnsupportedVersion {
            found: version,
            supported: FORMAT_VERSION,
        }));
    }
    let mut declared = [0u8; 8];
    declared.copy_from_slice(&preamble[10..PREAMBLE_LEN]);
    let declared = u64::from_le_bytes(declared);
    if declared < (PREAMBLE_LEN + DIGEST_LEN) as u64 {
        return Ok(Err(Rejection::Frame {
            detail: "the declared frame length is shorter than an empty frame",
        }));
    }
    if len > declared {
        return Ok(Err(Rejection::TrailingBytes {
            part: Part::Frame,
            extra: len - declared,
        }));
    }
    if len > limit {
        return Err(StoreError::TooLarge {
            location: path.display().to_string(),
            len,
            limit,
        });
    }
    // One buffer of the file's length, the preamble already in it: never
    // a second copy of the body.
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(usize::try_from(len).unwrap_or(usize::MAX))
        .map_err(|_| StoreError::TooLarge {
            location: path.display().to_string(),
            len,
            limit,
        })?;
    bytes.extend_from_slice(&preamble);
    file.take(len - PREAMBLE_LEN as u64)
        .read_to_end(&mut bytes)
        .map_err(StoreError::io("read", path.display()))?;
    Ok(Ok(bytes))
}
