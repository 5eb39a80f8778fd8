//! `log`: the epochs committed in a shard directory.

use std::path::Path;

use caelmor_persist::{DigestKey, ShardDir, verify};

use crate::common::{Failure, options_for, read_key, shard_dirs, shown, utc};
use crate::{CliResult, LogArgs, Outcome};

pub(crate) fn run(args: &LogArgs) -> CliResult<Outcome> {
    let key = args.key_file.as_deref().map(read_key).transpose()?;
    let meta = std::fs::metadata(&args.dir).map_err(|e| Failure::io("read", &args.dir, &e))?;
    if !meta.is_dir() {
        return Err(Failure::new(
            "E-IO",
            format!("{} is not a directory", shown(&args.dir)),
        ));
    }
    let dir = ShardDir::new(&args.dir);
    let is_shard = !dir.epochs()?.is_empty() || dir.fence_path().exists();
    let shards = if is_shard {
        vec![args.dir.clone()]
    } else {
        shard_dirs(&args.dir)
    };
    if shards.is_empty() {
        println!(
            "{}: no epochs (not a shard directory, and no shard-<N> directories in it)",
            shown(&args.dir)
        );
        return Ok(Outcome::Success);
    }
    let mut all_ok = true;
    for (i, path) in shards.iter().enumerate() {
        if i > 0 {
            println!();
        }
        all_ok &= log_shard(path, key.as_ref())?;
    }
    Ok(if all_ok {
        Outcome::Success
    } else {
        Outcome::Rejected
    })
}

/// Lists one shard directory; returns whether every epoch verified.
fn log_shard(path: &Path, key: Option<&DigestKey>) -> CliResult<bool> {
    let dir = ShardDir::new(path);
    let epochs = dir.epochs()?;
    let fence = match dir.fence() {
        Ok(f) => f.to_string(),
        Err(e) => format!("unreadable ({e})"),
    };
    println!(
        "{}: {} epoch{}, current {fence}",
        shown(path),
        epochs.len(),
        if epochs.len() == 1 { "" } else { "s" },
    );
    println!(
        "  {:<14} {:<10} {:>12}  {:<23}  status",
        "epoch", "fence", "bytes", "committed"
    );
    let mut damaged = 0;
    for &epoch in epochs.iter().rev() {
        let file = dir.epoch_path(epoch);
        let (bytes, time) = match std::fs::metadata(&file) {
            Ok(m) => (
                m.len().to_string(),
                m.modified().map_or_else(|_| "-".to_owned(), utc),
            ),
            Err(_) => ("-".to_owned(), "-".to_owned()),
        };
        let verdict = std::fs::read(&file)
            .map_err(|e| Failure::io("read", &file, &e))
            .and_then(|b| Ok(verify(&b, &options_for(&file, key))?));
        let (fence, status) = match verdict {
            Ok(v) => (v.summary.fence.to_string(), "ok".to_owned()),
            Err(failure) => {
                damaged += 1;
                ("-".to_owned(), format!("DAMAGED {failure}"))
            }
        };
        println!(
            "  {:<14} {:<10} {bytes:>12}  {time:<23}  {status}",
            epoch.to_string(),
            fence
        );
    }
    for temp in dir.temporaries()? {
        println!(
            "  leftover temporary file {} (ignored by loads; the next claim removes it)",
            shown(&temp)
        );
    }
    if damaged > 0 {
        println!(
            "  {damaged} of {} epoch files fail verification",
            epochs.len()
        );
    }
    Ok(damaged == 0)
}
