//! The crate's main job, end to end on the in-memory store: generate a shard
//! with the reference schema, save it through the typestate chain, commit,
//! load it back, restore, activate, and print what happened.
//!
//! Run with `cargo run --release --example demo`.

use std::time::Instant;

use caelmor_persist::reference::{Reference, ShardSpec};
use caelmor_persist::{MemStore, Restore, Save, ShardId, Store, System};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let spec = ShardSpec::medium();
    let t = Instant::now();
    let world = spec.generate(2026);
    println!(
        "generated shard: {} records ({} players, {} zones, {} npcs, {} items, {} quests) in {:.1?}",
        world.record_count(),
        world.players.len(),
        world.zones.len(),
        world.npcs.len(),
        world.items.len(),
        world.quests.len(),
        t.elapsed()
    );

    let mut store = MemStore::<Reference>::new(ShardId(1));
    let mut authority = store.claim()?;
    println!(
        "claimed {} at {}; next save is {}",
        authority.shard(),
        authority.fence(),
        authority.next_epoch()
    );

    for round in 1..=2 {
        let t = Instant::now();
        let sealed = Save::begin(&authority)
            .players(&world.players)?
            .world(&world.zones)?
            .npcs(&world.npcs)?
            .items(&world.items)?
            .quests(&world.quests)?
            .seal();
        let sealed_in = t.elapsed();
        let t = Instant::now();
        let committed = store.commit(sealed, &mut authority)?;
        println!(
            "save {round}: sealed {} bytes in {sealed_in:.1?}, committed {} in {:.1?}",
            committed.bytes,
            committed.epoch,
            t.elapsed()
        );
    }

    let t = Instant::now();
    let loaded = store.load_latest()?.ok_or("nothing committed")?;
    let restore = Restore::open(loaded, &authority)?;
    let opened_in = t.elapsed();
    let summary = restore.summary().clone();
    let (restore, players) = restore.players();
    let (restore, zones) = restore.world();
    let (restore, npcs) = restore.npcs();
    let (restore, items) = restore.items();
    let (restore, quests) = restore.quests();
    let active = restore.activate(&authority)?;
    let restored = (
        active.activate(players)?,
        active.activate(zones)?,
        active.activate(npcs)?,
        active.activate(items)?,
        active.activate(quests)?,
    );
    println!(
        "restored {} (verified and decoded in {opened_in:.1?}), digest {}",
        summary.epoch,
        &summary.digest_hex()[..16]
    );
    for section in summary.sections {
        println!(
            "  {:<6} {:>8} records {:>10} bytes",
            section.system, section.records, section.bytes
        );
    }
    let identical = restored.0 == world.players
        && restored.1 == world.zones
        && restored.2 == world.npcs
        && restored.3 == world.items
        && restored.4 == world.quests;
    println!(
        "activated all {} systems; identical to what was saved: {identical}",
        System::ORDER.len()
    );
    if !identical {
        return Err("restored state differs from saved state".into());
    }
    Ok(())
}
