//! `log`: the epochs committed in a shard directory, as its head records
//! them.

use std::path::Path;

use caelmor_persist::reference::Reference;
use caelmor_persist::{
    DigestKey, Epoch, FileStore, Head, ShardDir, ShardId, StoreConfig, StoreError, StoredEpoch,
};

use crate::common::{Failure, chain, read_key, shard_dirs, shown, utc};
use crate::out::{Out, outln};
use crate::{CliResult, LogArgs, Outcome};

pub(crate) fn run(args: &LogArgs, out: &mut Out) -> CliResult<Outcome> {
    let key = args.key_file.as_deref().map(read_key).transpose()?;
    let meta = std::fs::metadata(&args.dir).map_err(|e| Failure::io("read", &args.dir, &e))?;
    if !meta.is_dir() {
        return Err(Failure::new(
            "E-IO",
            format!("{} is not a directory", shown(&args.dir)),
        ));
    }
    let shards = if shard_of(&args.dir).is_some() {
        vec![args.dir.clone()]
    } else {
        shard_dirs(&args.dir)
    };
    if shards.is_empty() {
        outln!(
            out,
            "{}: no epochs (not a shard directory, and no shard-<N> directories in it)",
            shown(&args.dir)
        );
        return Ok(Outcome::Success);
    }
    let mut all_ok = true;
    for (i, path) in shards.iter().enumerate() {
        if i > 0 {
            outln!(out);
        }
        all_ok &= log_shard(out, path, key.as_ref())?;
    }
    Ok(if all_ok {
        Outcome::Success
    } else {
        Outcome::Rejected
    })
}

/// The shard a `shard-<n>` directory holds.
fn shard_of(path: &Path) -> Option<ShardId> {
    let digits = path.file_name()?.to_str()?.strip_prefix("shard-")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().map(ShardId)
}

/// Which stored bundle holds each committed epoch: the head's latest
/// exactly, and every earlier epoch by the highest fence not above the
/// latest's (what the store itself loads).
fn committed_files(head: &Head, stored: &[StoredEpoch], committed: &[Epoch]) -> Vec<StoredEpoch> {
    let Some(latest) = head.latest else {
        return Vec::new();
    };
    committed
        .iter()
        .filter_map(|&epoch| {
            if epoch == latest.epoch {
                return Some(StoredEpoch {
                    epoch,
                    fence: latest.fence,
                });
            }
            stored
                .iter()
                .filter(|s| s.epoch == epoch && s.fence <= latest.fence)
                .max()
                .copied()
        })
        .collect()
}

/// Lists one shard directory; returns whether every committed epoch
/// verified.
fn log_shard(out: &mut Out, path: &Path, key: Option<&DigestKey>) -> CliResult<bool> {
    let shard = shard_of(path).ok_or_else(|| {
        Failure::new(
            "E-IO",
            format!("{} is not a shard-<N> directory", shown(path)),
        )
    })?;
    let dir = ShardDir::new(path);
    let root = path.parent().unwrap_or_else(|| Path::new(""));
    let mut config = StoreConfig::new();
    if let Some(key) = key {
        config = config.key(key.clone());
    }
    // Opening a store reads nothing and claims nothing; it is only how the
    // crate tells which epochs are committed (the schema is not used).
    let store = FileStore::<Reference>::open_with(root, shard, config)?;
    let stored = dir.stored()?;
    let head = match store.head() {
        Ok(Some(head)) => head,
        Ok(None) if stored.is_empty() => {
            outln!(out, "{}: 0 epochs (never claimed)", shown(path));
            return Ok(true);
        }
        Ok(None) => {
            // The store says what a missing head with bundles left means.
            let err = store.load_latest().err().map_or_else(
                || "E-STORE-HEAD: the shard's head is missing".to_owned(),
                |e| chain(&e),
            );
            outln!(out, "{}: {err}", shown(path));
            for s in &stored {
                outln!(
                    out,
                    "  bundle {} (no head: whether it was committed cannot be told)",
                    shown(&dir.epoch_path(*s))
                );
            }
            list_temporaries(out, &dir)?;
            return Ok(false);
        }
        Err(e) => {
            outln!(out, "{}: {}", shown(path), chain(&e));
            return Ok(false);
        }
    };
    let epochs = store.epochs()?;
    let files = committed_files(&head, &stored, &epochs);
    // The latest is committed even when its bundle is gone.
    let latest_missing = head
        .latest
        .is_some_and(|latest| !files.iter().any(|s| s.epoch == latest.epoch));
    let committed = epochs.len() + usize::from(latest_missing);
    outln!(
        out,
        "{}: {} epoch{}, current {}, latest {}, head version {}",
        shown(path),
        committed,
        if committed == 1 { "" } else { "s" },
        head.fence,
        head.latest
            .map_or_else(|| "none".to_owned(), |l| l.epoch.to_string()),
        head.version,
    );
    outln!(
        out,
        "  {:<14} {:<10} {:>12}  {:<23}  status",
        "epoch",
        "fence",
        "bytes",
        "committed"
    );
    let mut damaged = 0;
    // A latest epoch whose bundle is gone is still the latest: say so.
    if let Some(latest) = head.latest.filter(|_| latest_missing) {
        damaged += 1;
        let err = store
            .load_latest()
            .err()
            .map_or_else(|| "its bundle is missing".to_owned(), |e| chain(&e));
        outln!(
            out,
            "  {:<14} {:<10} {:>12}  {:<23}  DAMAGED {err}",
            latest.epoch.to_string(),
            latest.fence.to_string(),
            latest.len,
            "-"
        );
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
        let status = match store.load_epoch(file.epoch) {
            Ok(Some(_)) => "ok".to_owned(),
            Ok(None) => {
                damaged += 1;
                "DAMAGED its bundle is missing".to_owned()
            }
            Err(e) => {
                damaged += 1;
                format!("DAMAGED {}", damage(&e))
            }
        };
        outln!(
            out,
            "  {:<14} {:<10} {bytes:>12}  {time:<23}  {status}",
            file.epoch.to_string(),
            file.fence.to_string(),
        );
    }
    for s in stored.iter().filter(|s| !files.contains(s)) {
        outln!(
            out,
            "  not committed: {} (no head names it: ignored by loads; the next claim removes it)",
            shown(&dir.epoch_path(*s))
        );
    }
    list_temporaries(out, &dir)?;
    if damaged > 0 {
        outln!(
            out,
            "  {damaged} of {committed} committed epochs fail verification"
        );
    }
    Ok(damaged == 0)
}

/// What is wrong with a committed epoch: the rule its bundle broke, or the
/// store's error.
fn damage(error: &StoreError) -> String {
    match error.rejection() {
        Some(rejection) => rejection.to_string(),
        None => chain(error),
    }
}

/// Notes the temporaries left behind.
fn list_temporaries(out: &mut Out, dir: &ShardDir) -> CliResult<()> {
    for temp in dir.temporaries()? {
        outln!(
            out,
            "  leftover temporary file {} (ignored by loads; the next claim removes it)",
            shown(&temp)
        );
    }
    Ok(())
}
