//! `log`: the epochs committed in a shard directory, as its head records
//! them, each checked and each problem named for what it is.
//!
//! Reads the directory through [`ShardDir`] only: no store is opened (an
//! open would create a missing directory, and would need the shard's
//! schema type), nothing is claimed, locked or written. Every file is read
//! as a store reads it: a regular file, never through a symbolic link,
//! never past what its frame declares.

use std::path::Path;

use caelmor_persist::{
    DigestKey, EpochRecord, Head, KeyFingerprint, Rejection, ShardDir, ShardId, StoreConfig,
    StoreError, StoredEpoch, Summary, VerifyOptions, read_bundle_file, verify,
};

use crate::common::{Failure, chain, read_key, shard_dirs, shown, utc};
use crate::out::{Out, outln};
use crate::{CliResult, LogArgs, Outcome, SchemaArg};

pub(crate) fn run(args: &LogArgs, dir: &Path, out: &mut Out) -> CliResult<Outcome> {
    let key = args.key_file.as_deref().map(read_key).transpose()?;
    let meta = std::fs::metadata(dir).map_err(|e| Failure::io("read", dir, &e))?;
    if !meta.is_dir() {
        return Err(Failure::new(
            "E-IO",
            format!("{} is not a directory", shown(dir)),
        ));
    }
    let shards = if shard_of(dir).is_some() {
        vec![dir.to_path_buf()]
    } else {
        shard_dirs(dir)
    };
    if shards.is_empty() {
        outln!(
            out,
            "{}: no epochs (not a shard directory, and no shard-<N> directories in it)",
            shown(dir)
        );
        return Ok(Outcome::Success);
    }
    let check = Check {
        key: key.as_ref(),
        fingerprint: KeyFingerprint::of(key.as_ref()),
        schema: args.schema.as_ref(),
    };
    let mut all_ok = true;
    for (i, path) in shards.iter().enumerate() {
        if i > 0 {
            outln!(out);
        }
        // Every shard is checked even when nobody reads the report: the
        // exit status says how they are.
        all_ok &= log_shard(out, path, &check);
    }
    Ok(if all_ok {
        Outcome::Success
    } else {
        Outcome::Rejected
    })
}

/// What the operator asked to check the files against.
pub(crate) struct Check<'a> {
    pub(crate) key: Option<&'a DigestKey>,
    pub(crate) fingerprint: KeyFingerprint,
    pub(crate) schema: Option<&'a SchemaArg>,
}

/// The shard a `shard-<n>` directory holds.
fn shard_of(path: &Path) -> Option<ShardId> {
    let digits = path.file_name()?.to_str()?.strip_prefix("shard-")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().map(ShardId)
}

/// A key fingerprint as a log line shows it: long enough to tell keys
/// apart, short enough to read.
pub(crate) fn short(fp: KeyFingerprint) -> String {
    let mut text = fp.to_string();
    if fp != KeyFingerprint::UNKEYED {
        text.truncate(16);
        text.push('…');
    }
    text
}

/// Why the shard's bundles cannot be checked with the key given, if they
/// cannot: the head records the fingerprint of the shard's key.
pub(crate) fn key_problem(head: &Head, check: &Check<'_>) -> Option<String> {
    if head.key == check.fingerprint {
        return None;
    }
    Some(if check.key.is_none() {
        format!(
            "E-STORE-KEY: the shard is keyed with {}: it needs --key-file",
            short(head.key)
        )
    } else if head.key == KeyFingerprint::UNKEYED {
        format!(
            "E-STORE-KEY: the shard is unkeyed, --key-file has {}",
            short(check.fingerprint)
        )
    } else {
        format!(
            "E-STORE-KEY: the shard is keyed with {}, --key-file has {}",
            short(head.key),
            short(check.fingerprint)
        )
    })
}

/// What one committed epoch's file turned out to be.
pub(crate) enum Status {
    Ok(Summary),
    /// Read, and refused by a rule of the format; or missing, or not the
    /// bundle the head committed.
    Damaged(String),
    /// Not readable as a bundle at all: not a regular file, an I/O error
    /// (the store's code, and the error).
    Unreadable(&'static str, String),
    /// A bundle of another shard, under this shard's epoch name.
    OtherShard(Rejection),
    /// A digest that fails because the file was digested with another key
    /// (or none), not because it changed.
    OtherKey(String),
    /// A sound bundle of another schema than `--schema`.
    OtherSchema(Summary, String),
}

impl Status {
    pub(crate) fn text(&self) -> String {
        match self {
            Status::Ok(_) => "ok".to_owned(),
            Status::Damaged(why) => format!("DAMAGED E-STORE-DAMAGED: {why}"),
            Status::Unreadable(_, why) => format!("UNREADABLE {why}"),
            Status::OtherShard(rejection) => format!("OTHER SHARD {rejection}"),
            Status::OtherKey(why) => format!("OTHER KEY {why}"),
            Status::OtherSchema(_, why) => format!("OTHER SCHEMA {why}"),
        }
    }

    /// The code a store's load of this epoch fails with.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            Status::Ok(_) => "ok",
            Status::Damaged(_) | Status::OtherShard(_) => "E-STORE-DAMAGED",
            Status::Unreadable(code, _) => code,
            Status::OtherKey(_) => "E-STORE-KEY",
            Status::OtherSchema(..) => "E-STORE-SCHEMA",
        }
    }

    pub(crate) fn summary(&self) -> Option<&Summary> {
        match self {
            Status::Ok(s) | Status::OtherSchema(s, _) => Some(s),
            _ => None,
        }
    }
}

/// Checks one committed epoch's file, as a store's load would: the latest
/// must also be exactly the bundle the head committed.
fn check_file(
    dir: &ShardDir,
    shard: ShardId,
    stored: StoredEpoch,
    latest: Option<&EpochRecord>,
    head: &Head,
    check: &Check<'_>,
) -> Status {
    let path = dir.epoch_path(stored);
    // The latest is never read past its committed length; older epochs
    // past the store's default bound.
    let limit = latest.map_or(StoreConfig::DEFAULT_MAX_BUNDLE_LEN, |l| l.len);
    let bytes = match read_bundle_file(&path, limit) {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(rejection)) => return Status::Damaged(rejection.to_string()),
        Err(StoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Status::Damaged("its bundle is missing".to_owned());
        }
        Err(StoreError::TooLarge { len, .. }) if latest.is_some() => {
            return Status::Damaged(format!(
                "its bundle holds {len} bytes, {limit} were committed"
            ));
        }
        Err(e) => return Status::Unreadable(e.code(), chain(&e)),
    };
    check_bytes(&bytes, shard, stored, latest, head, check)
}

/// Checks one committed epoch's bytes, however they were read, as a store's
/// load would: the latest must also be exactly the bundle the head
/// committed.
pub(crate) fn check_bytes(
    bytes: &[u8],
    shard: ShardId,
    stored: StoredEpoch,
    latest: Option<&EpochRecord>,
    head: &Head,
    check: &Check<'_>,
) -> Status {
    if let Some(latest) = latest {
        let digest = bytes
            .len()
            .checked_sub(latest.digest.len())
            .map(|at| &bytes[at..]);
        if bytes.len() as u64 != latest.len || digest != Some(&latest.digest[..]) {
            return Status::Damaged(format!(
                "its bundle is not the one committed ({} bytes, digest {})",
                latest.len,
                blake3::Hash::from_bytes(latest.digest).to_hex()
            ));
        }
    }
    let mut options = VerifyOptions::new()
        .expect_shard(shard)
        .expect_epoch(stored.epoch);
    if let Some(key) = check.key {
        options = options.key(key.clone());
    }
    match verify(bytes, &options) {
        Ok(verified) => match check.schema {
            Some(want)
                if (
                    verified.summary.schema_name.as_str(),
                    verified.summary.schema_version,
                ) != (want.name.as_str(), want.version) =>
            {
                let why = format!(
                    "E-STORE-SCHEMA: written with schema {:?} v{}, --schema is {:?} v{}",
                    verified.summary.schema_name,
                    verified.summary.schema_version,
                    want.name,
                    want.version
                );
                Status::OtherSchema(verified.summary, why)
            }
            _ => Status::Ok(verified.summary),
        },
        Err(rejection @ Rejection::ShardMismatch { .. }) => Status::OtherShard(rejection),
        Err(Rejection::DigestMismatch) => {
            // The shard's heading names both fingerprints; the row says
            // only which way round.
            if head.key != check.fingerprint {
                return Status::OtherKey(
                    if check.key.is_none() {
                        "E-STORE-KEY: keyed, and no --key-file given"
                    } else if head.key == KeyFingerprint::UNKEYED {
                        "E-STORE-KEY: unkeyed, and a --key-file given"
                    } else {
                        "E-STORE-KEY: keyed with another key than --key-file's"
                    }
                    .to_owned(),
                );
            }
            // The shard's key, and still no match: a bundle digested
            // without a key under a keyed shard is another key, not damage.
            if check.key.is_some()
                && verify(bytes, &VerifyOptions::new().expect_shard(shard)).is_ok()
            {
                return Status::OtherKey(format!(
                    "E-STORE-KEY: the bundle is unkeyed, the shard is keyed with {}",
                    short(head.key)
                ));
            }
            Status::Damaged(Rejection::DigestMismatch.to_string())
        }
        Err(rejection) => Status::Damaged(rejection.to_string()),
    }
}

/// Lists one shard directory; returns whether its latest epoch can be
/// loaded and every committed epoch is sound.
fn log_shard(out: &mut Out, path: &Path, check: &Check<'_>) -> bool {
    let Some(shard) = shard_of(path) else {
        outln!(out, "{}: E-IO: not a shard-<N> directory", shown(path));
        return false;
    };
    let dir = ShardDir::new(path);
    let (head, stored) = match dir.head(shard).and_then(|h| Ok((h, dir.stored()?))) {
        Ok(found) => found,
        Err(e) => {
            outln!(out, "{}: {}", shown(path), chain(&e));
            list_untold(out, &dir, "the head cannot be read");
            return false;
        }
    };
    let Some(head) = head else {
        if let Some(newest) = stored.iter().max() {
            // The error names the shard's directory itself.
            let e = StoreError::HeadMissing {
                location: shown(path),
                newest: newest.epoch,
            };
            outln!(out, "{}", chain(&e));
            list_untold(out, &dir, "no head");
            return false;
        }
        outln!(out, "{}: 0 epochs (never claimed)", shown(path));
        list_leftovers(out, &dir, &[]);
        return true;
    };
    let files = match dir.committed(shard) {
        Ok(files) => files,
        Err(e) => {
            outln!(out, "{}: {}", shown(path), chain(&e));
            return false;
        }
    };
    // The latest is committed even when its bundle is gone.
    let latest_missing = head
        .latest
        .is_some_and(|latest| !files.iter().any(|s| s.epoch == latest.epoch));
    let committed = files.len() + usize::from(latest_missing);
    outln!(
        out,
        "{}: {} epoch{}, current {}, latest {}, head version {}, {}",
        shown(path),
        committed,
        if committed == 1 { "" } else { "s" },
        head.fence,
        head.latest
            .map_or_else(|| "none".to_owned(), |l| l.epoch.to_string()),
        head.version,
        if head.key == KeyFingerprint::UNKEYED {
            "unkeyed".to_owned()
        } else {
            format!("keyed {}", short(head.key))
        },
    );
    let key_problem = key_problem(&head, check);
    if let Some(problem) = &key_problem {
        outln!(out, "  {problem}");
    }
    table_header(out);
    let mut problems = 0;
    // Why the latest cannot be loaded, if it cannot.
    let mut latest_refused: Option<&'static str> = None;
    if let Some(latest) = head.latest.filter(|_| latest_missing) {
        problems += 1;
        latest_refused = Some(missing_latest_row(out, &latest));
    }
    for &file in files.iter().rev() {
        let file_path = dir.epoch_path(file);
        let (bytes, time) = match std::fs::symlink_metadata(&file_path) {
            Ok(m) => (
                m.len().to_string(),
                m.modified().map_or_else(|_| "-".to_owned(), utc),
            ),
            Err(_) => ("-".to_owned(), "-".to_owned()),
        };
        let latest = head.latest.filter(|l| l.epoch == file.epoch);
        let status = check_file(&dir, shard, file, latest.as_ref(), &head, check);
        let schema = status.summary().map_or_else(
            || "-".to_owned(),
            |s| format!("{} v{}", s.schema_name, s.schema_version),
        );
        match (&status, latest.is_some()) {
            (Status::Ok(_), _) => {}
            // An older epoch under another schema is what a migration
            // leaves behind: shown, not a problem. The latest under
            // another schema cannot be loaded by that schema's server.
            (Status::OtherSchema(..), false) => {}
            (_, is_latest) => {
                problems += 1;
                if is_latest {
                    latest_refused = Some(status.code());
                }
            }
        }
        outln!(
            out,
            "  {:<14} {:<10} {bytes:>12}  {time:<20}  {schema:<24}  {}",
            file.epoch.to_string(),
            file.fence.to_string(),
            status.text()
        );
    }
    list_leftovers(out, &dir, &files);
    if problems > 0 {
        outln!(
            out,
            "  {problems} of {committed} committed epoch{} cannot be used",
            if committed == 1 { "" } else { "s" }
        );
    }
    let refused = latest_refused.or(key_problem.as_ref().map(|_| "E-STORE-KEY"));
    if let (Some(latest), Some(code)) = (head.latest, refused) {
        outln!(
            out,
            "  the latest, {}, cannot be loaded ({code}); a server will not fall back to an older epoch",
            latest.epoch
        );
    }
    problems == 0 && key_problem.is_none()
}

/// Lists the bundles of a shard whose head cannot tell which of them are
/// committed, and its temporaries.
/// The header of a shard's table of epochs (the file store's and
/// PostgreSQL's alike).
pub(crate) fn table_header(out: &mut Out) {
    outln!(
        out,
        "  {:<14} {:<10} {:>12}  {:<20}  {:<24}  status",
        "epoch",
        "fence",
        "bytes",
        "committed",
        "schema"
    );
}

/// The row of a latest epoch the head names but whose bundle is gone, and
/// the code that says why the latest cannot be loaded.
pub(crate) fn missing_latest_row(out: &mut Out, latest: &EpochRecord) -> &'static str {
    let status = Status::Damaged("its bundle is missing".to_owned());
    outln!(
        out,
        "  {:<14} {:<10} {:>12}  {:<20}  {:<24}  {}",
        latest.epoch.to_string(),
        latest.fence.to_string(),
        latest.len,
        "-",
        "-",
        status.text()
    );
    status.code()
}

fn list_untold(out: &mut Out, dir: &ShardDir, why: &str) {
    let stored = dir.stored().unwrap_or_default();
    for s in &stored {
        outln!(
            out,
            "  bundle {} ({why}: whether it was committed cannot be told)",
            shown(&dir.epoch_path(*s))
        );
    }
    list_leftovers(out, dir, &stored);
}

/// Notes the bundles no head names and the temporaries left behind.
fn list_leftovers(out: &mut Out, dir: &ShardDir, named: &[StoredEpoch]) {
    if let Ok(stored) = dir.stored() {
        for s in stored.iter().filter(|s| !named.contains(s)) {
            outln!(
                out,
                "  not committed: {} (no head names it: ignored by loads; the next claim removes it)",
                shown(&dir.epoch_path(*s))
            );
        }
    }
    match dir.temporaries() {
        Ok(temps) => {
            for temp in temps {
                outln!(
                    out,
                    "  leftover temporary file {} (ignored by loads; the next claim removes it)",
                    shown(&temp)
                );
            }
        }
        Err(e) => outln!(out, "  {}", chain(&e)),
    }
}
