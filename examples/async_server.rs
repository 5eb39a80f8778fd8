//! A tokio game server: the game runs on the async runtime, saves are sealed
//! on the game task (the records are borrowed only while sealing), and every
//! file system call — claim, commit, load — runs on tokio's blocking pool,
//! never on a runtime thread.
//!
//! The authority is shared, not moved: it lives in an `Arc`, the game task
//! begins saves with it and the commit task commits with it
//! (`Store::commit` takes `&ServerAuthority`). The store sits behind a
//! `Mutex`, used only on the blocking pool. One save is in flight at a time:
//! a save carries the epoch after the last commit, so the next one is sealed
//! only once the previous commit returned.
//!
//! A `PgStore` (feature `postgres`) is used the same way; its synchronous
//! client must never be called on a runtime thread at all — it would panic
//! ("Cannot start a runtime from within a runtime") — which this pattern
//! already guarantees.
//!
//! ```text
//! cargo run --example async_server --features reference
//! ```

use std::sync::{Arc, Mutex};
use std::time::Duration;

use caelmor_persist::reference::{Reference, Shard, ShardSpec};
use caelmor_persist::{
    FileBackend, FileStore, Restore, Save, Sealed, ServerAuthority, ShardId, Store,
};

type Shared = Arc<Mutex<Store<Reference, FileBackend>>>;

/// Claims the shard and restores its latest epoch, or starts a new world.
async fn start(
    root: std::path::PathBuf,
) -> Result<
    (Shared, Arc<ServerAuthority<Reference>>, Shard),
    Box<dyn std::error::Error + Send + Sync>,
> {
    tokio::task::spawn_blocking(move || {
        let mut store = FileStore::<Reference>::open(&root, ShardId(1))?;
        let authority = store.claim()?;
        let world = match store.load_latest()? {
            Some(loaded) => {
                let active = Restore::open(loaded, &authority)?
                    .players()
                    .world()
                    .npcs()
                    .items()
                    .quests()
                    .activate(&authority)?;
                println!("restored {}", active.summary.epoch);
                Shard {
                    players: active.players,
                    zones: active.zones,
                    npcs: active.npcs,
                    items: active.items,
                    quests: active.quests,
                }
            }
            None => {
                println!("a new shard: generating a world");
                ShardSpec::small().generate(1)
            }
        };
        Ok((Arc::new(Mutex::new(store)), Arc::new(authority), world))
    })
    .await?
}

/// Seals the world as it is now: on the game task, with no I/O.
fn seal(world: &Shard, authority: &ServerAuthority<Reference>) -> Sealed<Reference> {
    Save::begin(authority)
        .players(&world.players)
        .and_then(|s| s.world(&world.zones))
        .and_then(|s| s.npcs(&world.npcs))
        .and_then(|s| s.items(&world.items))
        .and_then(|s| s.quests(&world.quests))
        .expect("the game keeps its world consistent")
        .seal()
}

/// Commits on the blocking pool.
async fn commit(
    store: Shared,
    authority: Arc<ServerAuthority<Reference>>,
    sealed: Sealed<Reference>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    tokio::task::spawn_blocking(move || {
        let mut store = store.lock().map_err(|_| "the store's lock was poisoned")?;
        let committed = store.commit(sealed, &authority)?;
        println!("committed {} ({} bytes)", committed.epoch, committed.bytes);
        Ok(())
    })
    .await?
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let root = tempfile::tempdir()?;
    let mut last_saved: Option<Shard> = None;
    for run in 1..=2 {
        println!("-- server start {run}");
        let (store, authority, mut world) = start(root.path().to_owned()).await?;
        // A restart brings back exactly what was last committed.
        if let Some(saved) = &last_saved {
            assert_eq!(&world, saved, "the restored world is the last one saved");
        }
        let mut in_flight: Option<tokio::task::JoinHandle<_>> = None;
        for tick in 1..=30u64 {
            // The game: every tick, the players earn something.
            for player in &mut world.players {
                player.currency += tick;
            }
            if tick % 10 == 0 {
                // One save in flight: wait for the previous commit first.
                if let Some(previous) = in_flight.take() {
                    previous.await??;
                }
                let sealed = seal(&world, &authority);
                last_saved = Some(world.clone());
                in_flight = Some(tokio::spawn(commit(
                    Arc::clone(&store),
                    Arc::clone(&authority),
                    sealed,
                )));
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        if let Some(last) = in_flight.take() {
            last.await??;
        }
        // Shutting down drops the store, which releases the shard's lock.
    }
    Ok(())
}
