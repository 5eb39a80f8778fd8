//! What the `tracing` feature shows an operator: a span per claim, save
//! step, seal, commit, load, restore and activation, with the shard, epoch,
//! fence, sizes and record counts, and — with a subscriber that reports
//! closed spans — how long each took.
//!
//! ```text
//! cargo run --example tracing --features reference,tracing
//! ```

use caelmor_persist::reference::{Reference, ShardSpec};
use caelmor_persist::{FileStore, Restore, Save, ShardId};
use tracing_subscriber::fmt::format::FmtSpan;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_span_events(FmtSpan::CLOSE)
        .with_target(false)
        .init();

    let root = tempfile::tempdir()?;
    let world = ShardSpec::small().generate(1);
    let mut store = FileStore::<Reference>::open(root.path(), ShardId(1))?;
    let authority = store.claim()?;
    let sealed = Save::begin(&authority)
        .players(&world.players)?
        .world(&world.zones)?
        .npcs(&world.npcs)?
        .items(&world.items)?
        .quests(&world.quests)?
        .seal();
    store.commit(sealed, &authority)?;
    let loaded = store.load_latest()?.expect("epoch 1 was committed");
    let active = Restore::open(loaded, &authority)?
        .players()
        .world()
        .npcs()
        .items()
        .quests()
        .activate(&authority)?;
    assert_eq!(active.items, world.items);
    Ok(())
}
