//! The crate's main job, end to end on the in-memory store: generate a shard
//! with the reference schema, save it through the typestate chain, commit,
//! load it back, restore, activate, and print what happened.
//!
//! Run with `cargo run --release --example demo`.

use std::time::Instant;

use caelmor_persist::reference::{Reference, ShardSpec};
use caelmor_persist::{MemStore, Restore, Save, ShardId, System};

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
    let authority = store.claim()?;
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
        let committed = store.commit(sealed, &authority)?;
        println!(
            "save {round}: sealed {} bytes in {sealed_in:.1?}, committed {} in {:.1?}",
            committed.bytes,
            committed.epoch,
            t.elapsed()
        );
    }

    let t = Instant::now();
    let loaded = store.load_latest()?.ok_or("nothing committed")?;
    let loaded_in = t.elapsed();
    // Only this store's current authority may restore what it loaded; the
    // five systems stay dormant until they are activated, together.
    let active = Restore::open(loaded, &authority)?
        .players()
        .world()
        .npcs()
        .items()
        .quests()
        .activate(&authority)?;
    let summary = &active.summary;
    println!(
        "restored {} (loaded, verified and decoded in {loaded_in:.1?}), digest {}",
        summary.epoch,
        &summary.digest_hex()[..16]
    );
    for section in summary.sections {
        println!(
            "  {:<6} {:>8} records {:>10} bytes",
            section.system, section.records, section.bytes
        );
    }
    let identical = active.players == world.players
        && active.zones == world.zones
        && active.npcs == world.npcs
        && active.items == world.items
        && active.quests == world.quests;
    println!(
        "activated all {} systems; identical to what was saved: {identical}",
        System::ORDER.len()
    );
    if !identical {
        return Err("restored state differs from saved state".into());
    }
    Ok(())
}
