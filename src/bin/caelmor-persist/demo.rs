//! `demo`: the crate's main job, end to end, on a durable file store.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use caelmor_persist::reference::{Item, Npc, Player, Quest, Reference, Shard, ShardSpec, Zone};
use caelmor_persist::{
    Backend, FileStore, FileStoreConfig, Restore, Save, ShardDir, ShardId, Store, StoredEpoch,
    System,
};
use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::common::{Failure, ms, read_key, shown, size};
use crate::out::{Out, outln};
use crate::{CliResult, DemoArgs, Size};

/// A progress bar over the five systems, drawn on standard error only when
/// it is a terminal.
fn progress(phase: &str) -> ProgressBar {
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::new(5)
    } else {
        ProgressBar::with_draw_target(Some(5), ProgressDrawTarget::hidden())
    };
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {prefix:<8} [{bar:25}] {pos}/{len} {msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(phase.to_owned());
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

/// A spinner for a phase that is one call, drawn only on a terminal.
fn spinner(phase: &str) -> ProgressBar {
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::new_spinner()
    } else {
        ProgressBar::hidden()
    };
    if let Ok(style) = ProgressStyle::with_template("{spinner} {prefix:<8} {msg}") {
        bar.set_style(style);
    }
    bar.set_prefix(phase.to_owned());
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

/// The shard to generate, or why it cannot be: a usage error, found before
/// the store is opened, so that a run that cannot finish never claims the
/// shard (and never creates its directory).
///
/// Generating a shard allocates every record; the run then holds the
/// generated shard and the restored copy it compares with it. A spec
/// whose records alone (their inline size, not counting names and lists)
/// exceed the address space or the machine's physical memory cannot run:
/// it would die of a capacity overflow or an allocation failure after
/// the claim, leaving a fence bumped and nothing committed.
pub(crate) fn spec(args: &DemoArgs) -> Result<ShardSpec, String> {
    let base = match args.size {
        Size::Small => ShardSpec::small(),
        Size::Medium => ShardSpec::medium(),
        Size::Large => ShardSpec::large(),
    };
    let spec = ShardSpec {
        players: args.players.unwrap_or(base.players),
        zones: args.zones.unwrap_or(base.zones),
        npcs: args.npcs.unwrap_or(base.npcs),
        items: args.items.unwrap_or(base.items),
        quests: args.quests.unwrap_or(base.quests),
    };
    let records = [
        ("--players", spec.players, size_of::<Player>()),
        ("--zones", spec.zones, size_of::<Zone>()),
        ("--npcs", spec.npcs, size_of::<Npc>()),
        ("--items", spec.items, size_of::<Item>()),
        ("--quests", spec.quests, size_of::<Quest>()),
    ];
    let flags = || {
        records
            .iter()
            .map(|(flag, n, _)| format!("{flag} {n}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    // Two copies: the generated shard and the restored one.
    let need = records
        .iter()
        .try_fold(0u64, |sum, &(_, n, each)| {
            (n as u64)
                .checked_mul(each as u64)
                .and_then(|bytes| sum.checked_add(bytes))
        })
        .and_then(|one| one.checked_mul(2))
        .filter(|&need| need <= isize::MAX as u64)
        .ok_or_else(|| {
            format!(
                "{}: the records do not fit in this machine's address space",
                flags()
            )
        })?;
    if let Some(memory) = physical_memory()
        && need > memory
    {
        return Err(format!(
            "{}: the generated shard and its restored copy need at least {} of memory, this machine has {}",
            flags(),
            HumanBytes(need),
            HumanBytes(memory)
        ));
    }
    Ok(spec)
}

/// The machine's physical memory, where the system says (Linux:
/// `MemTotal` in /proc/meminfo).
fn physical_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()?;
    kib.checked_mul(1024)
}

fn line(out: &mut Out, phase: &str, took: Duration, what: impl std::fmt::Display) {
    outln!(out, "  {phase:<9} {:>10}  {what}", ms(took));
}

/// Runs the demo. Nothing here depends on standard output: a reader that
/// goes away (`demo | head -1`) stops the report, never the commit.
pub(crate) fn run(args: &DemoArgs, spec: ShardSpec, out: &mut Out) -> CliResult<()> {
    let mut config = FileStoreConfig::new().retain(args.retain);
    if let Some(path) = &args.key_file {
        config = config.key(read_key(path)?);
    }
    let shard = ShardId(args.shard);
    let keyed = if config.is_keyed() {
        " (keyed digests)"
    } else {
        ""
    };
    let t = Instant::now();
    if let Some(url) = &args.pg {
        // Without the postgres feature, main has refused --pg already.
        let store = crate::pg::connect(url, shard, config)?;
        // The location names the shard.
        outln!(
            out,
            "caelmor-persist demo: {}{keyed}",
            store.backend().location()
        );
        return session(
            store,
            t,
            "one transaction: head swapped, epoch row and chunk rows inserted",
            args,
            spec,
            out,
        );
    }
    let dir = ShardDir::of(&args.dir, shard);
    outln!(
        out,
        "caelmor-persist demo: {shard} in {}{keyed}",
        shown(dir.path())
    );
    let store = FileStore::<Reference>::open_with(&args.dir, shard, config)?;
    session(
        store,
        t,
        "written, synced, linked, head record created",
        args,
        spec,
        out,
    )
}

/// The demo on an opened store: claim, generate, save, commit, load,
/// restore, activate. `t` started when the store was being opened;
/// `committed_how` says what the backend's commit did.
fn session<B: Backend>(
    mut store: Store<Reference, B>,
    t: Instant,
    committed_how: &str,
    args: &DemoArgs,
    spec: ShardSpec,
    out: &mut Out,
) -> CliResult<()> {
    let authority = store.claim()?;
    line(
        out,
        "claim",
        t.elapsed(),
        format!(
            "{} (shard locked for this run); next save is {}",
            authority.fence(),
            authority.next_epoch()
        ),
    );

    let seed = args.seed.unwrap_or(authority.next_epoch().get());
    let t = Instant::now();
    let bar = spinner("generate");
    let world = spec.generate(seed);
    bar.finish_and_clear();
    line(
        out,
        "generate",
        t.elapsed(),
        format!(
            "{} records, seed {seed} ({} players, {} zones, {} NPCs, {} items, {} quests)",
            world.record_count(),
            world.players.len(),
            world.zones.len(),
            world.npcs.len(),
            world.items.len(),
            world.quests.len()
        ),
    );

    let t = Instant::now();
    let bar = progress("save");
    bar.set_message("players");
    let save = Save::begin(&authority).players(&world.players)?;
    bar.inc(1);
    bar.set_message("world");
    let save = save.world(&world.zones)?;
    bar.inc(1);
    bar.set_message("npcs");
    let save = save.npcs(&world.npcs)?;
    bar.inc(1);
    bar.set_message("items");
    let save = save.items(&world.items)?;
    bar.inc(1);
    bar.set_message("quests");
    let sealed = save.quests(&world.quests)?.seal();
    bar.finish_and_clear();
    line(
        out,
        "save",
        t.elapsed(),
        format!(
            "{} sealed in the canon's order: {}",
            sealed.epoch(),
            size(sealed.bytes().len() as u64)
        ),
    );

    let t = Instant::now();
    let bar = spinner("commit");
    let committed = store
        .commit(sealed, &authority)
        .map_err(|e| Failure::from(e.error))?;
    bar.finish_and_clear();
    let stored = store.backend().location_of(StoredEpoch {
        epoch: committed.epoch,
        fence: committed.fence,
    });
    line(
        out,
        "commit",
        t.elapsed(),
        format!("{} → {stored} ({committed_how})", committed.epoch),
    );

    let t = Instant::now();
    let bar = spinner("load");
    bar.set_message("read and verify the latest epoch");
    let loaded = store
        .load_latest()?
        .ok_or_else(|| Failure::new("E-STORE-EMPTY", "nothing to load after a commit"))?;
    bar.finish_and_clear();
    line(
        out,
        "load",
        t.elapsed(),
        format!(
            "latest is {}, every rule checked, records read",
            loaded.epoch()
        ),
    );

    let t = Instant::now();
    let bar = progress("restore");
    bar.set_message("verify and decode");
    bar.set_message("the authority that loaded it, still current");
    let restore = Restore::open(loaded, &authority)?;
    let restore = restore.players();
    bar.inc(1);
    let restore = restore.world();
    bar.inc(1);
    let restore = restore.npcs();
    bar.inc(1);
    let restore = restore.items();
    bar.inc(1);
    let restore = restore.quests();
    bar.finish_and_clear();
    line(
        out,
        "restore",
        t.elapsed(),
        "all five systems in the canon's order, dormant (records taken from the load)",
    );

    let t = Instant::now();
    let active = restore.activate(&authority)?;
    let summary = active.summary;
    let restored = Shard {
        players: active.players,
        zones: active.zones,
        npcs: active.npcs,
        items: active.items,
        quests: active.quests,
    };
    let identical = restored == world;
    line(
        out,
        "activate",
        t.elapsed(),
        format!(
            "all {} systems; identical to what was saved: {}",
            System::ORDER.len(),
            if identical { "yes" } else { "NO" }
        ),
    );

    outln!(out);
    outln!(out, "  {:<8} {:>10} {:>14}", "system", "records", "bytes");
    for section in summary.sections {
        outln!(
            out,
            "  {:<8} {:>10} {:>14}",
            section.system,
            section.records,
            section.bytes
        );
    }
    outln!(
        out,
        "  {:<8} {:>10} {:>14}",
        "bundle",
        summary.sections.iter().map(|s| s.records).sum::<u64>(),
        summary.total_bytes
    );
    outln!(out);
    outln!(
        out,
        "committed {} under {} to {}: {}, digest {}",
        committed.epoch,
        committed.fence,
        summary.shard,
        size(committed.bytes),
        summary.digest_hex()
    );
    if let Some(next) = committed.epoch.next() {
        outln!(out, "run it again to commit {next}");
    }
    if !identical {
        return Err(Failure::new(
            "E-DEMO",
            "the restored state differs from the saved state",
        ));
    }
    Ok(())
}
