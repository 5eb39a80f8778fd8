//! [`PgStore`]: a [`Store`] over [`PgBackend`], and how to connect one.

use super::PgBackend;
use crate::ids::ShardId;
use crate::schema::Schema;
use crate::store::{Store, StoreConfig, StoreError};

#[cfg(doc)]
use super::{PgError, PgOptions};

/// A [`Store`] whose shard lives in PostgreSQL: for game servers on several
/// hosts, one owner of a shard at a time, with failover.
///
/// Everything [`Store`] guarantees holds (next epoch only, fencing, full
/// verification, no fallback, keyed shards, restore provenance); the
/// backend adds:
///
/// - **Atomic, fenced commits.** A commit is one transaction whose first
///   statement is a compare-and-swap on the shard's head row, followed by
///   the bundle's 1 MiB chunks: it lands whole with the head, or not at all,
///   and a superseded owner's commit matches no row. An ambiguous `COMMIT`
///   (connection lost while the server committed) is settled by digest on a
///   new connection: a commit is never reported as done when it is not, nor
///   failed when it landed.
/// - **One owner, signalled.** [`claim`](Store::claim) takes a session
///   advisory lock on a dedicated connection (`E-STORE-CLAIMED` while
///   another owner holds it), with short TCP keepalives on both ends so that
///   a vanished owner's lock is freed within seconds. The lock is liveness
///   only: a paused or partitioned owner that resumes is stopped by the
///   fence, not by the lock.
/// - **No silent rollback.** The head row names the latest epoch; a missing
///   or corrupted chunk, or a lost head row, is `E-STORE-DAMAGED` /
///   `E-STORE-HEAD`, never an older epoch.
///
/// The client is the synchronous `postgres` crate: it runs its own small
/// tokio runtime and **panics when called from inside a tokio runtime**
/// ("Cannot start a runtime from within a runtime"). In an async server, move
/// the store onto a blocking thread:
///
/// ```no_run
/// use caelmor_persist::{PgStore, Save, ShardId};
/// use caelmor_persist::reference::{Reference, ShardSpec};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// # let rt = tokio::runtime::Builder::new_current_thread().build()?;
/// # rt.block_on(async {
/// use std::sync::{Arc, Mutex};
///
/// let url = "postgresql://game@db.internal/caelmor".to_owned();
/// // Connect, claim and load on a blocking thread, never on the runtime's.
/// let (store, authority, latest) = tokio::task::spawn_blocking(move || {
///     let mut store = PgStore::<Reference>::connect(&url, ShardId(1))?;
///     let authority = store.claim()?;
///     let latest = store.load_latest()?;
///     Ok::<_, caelmor_persist::StoreError>((store, authority, latest))
/// })
/// .await??;
/// # let _ = latest;
/// // The authority is shared (commit takes `&ServerAuthority`); the store
/// // is used only on the blocking pool.
/// let (store, authority) = (Arc::new(Mutex::new(store)), Arc::new(authority));
/// // … run the world; to save, seal on the game task, commit on a blocking
/// // thread:
/// let world = ShardSpec::small().generate(7);
/// let sealed = Save::begin(&authority)
///     .players(&world.players)?
///     .world(&world.zones)?
///     .npcs(&world.npcs)?
///     .items(&world.items)?
///     .quests(&world.quests)?
///     .seal();
/// let (s, a) = (Arc::clone(&store), Arc::clone(&authority));
/// let committed = tokio::task::spawn_blocking(move || {
///     let mut store = s.lock().expect("not poisoned");
///     store.commit(sealed, &a).map_err(|e| e.error)
/// })
/// .await??;
/// println!("committed {}", committed.epoch);
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// # })
/// # }
/// ```
///
/// `examples/async_server.rs` is the whole pattern, on a `FileStore`; a
/// `PgStore` is used the same way.
///
/// A long-lived alternative is one persistence thread that owns the store
/// and receives sealed bundles over a channel.
///
/// Connecting and claiming, on a plain thread:
///
/// ```no_run
/// use caelmor_persist::{PgStore, ShardId, StoreConfig, DigestKey};
/// use caelmor_persist::reference::Reference;
///
/// let config = StoreConfig::new().key(DigestKey::from_bytes([7; 32])).retain(4);
/// let mut store = PgStore::<Reference>::connect_with(
///     "postgresql://game:secret@db.internal:5432/caelmor",
///     ShardId(1),
///     config,
/// )?;
/// let authority = store.claim()?; // E-STORE-CLAIMED while another server owns it
/// let latest = store.load_latest()?; // verified in full, or an error — never an older epoch
/// # Ok::<(), caelmor_persist::StoreError>(())
/// ```
///
/// `docs/deployment.md` covers running it: one owner per shard, failover,
/// keepalives, connection poolers.
pub type PgStore<S> = Store<S, PgBackend>;

impl<S: Schema> Store<S, PgBackend> {
    /// Connects to the database `url` names (creating the tables if absent)
    /// for `shard`, with unkeyed digests and the default retention and
    /// [`PgOptions`]. Connecting does not claim.
    ///
    /// # Errors
    /// As [`PgBackend::connect`].
    pub fn connect(url: &str, shard: ShardId) -> Result<Self, StoreError> {
        Self::connect_with(url, shard, StoreConfig::new())
    }

    /// As [`connect`](Self::connect), with a store configuration.
    ///
    /// # Errors
    /// As [`PgBackend::connect`].
    pub fn connect_with(
        url: &str,
        shard: ShardId,
        config: StoreConfig,
    ) -> Result<Self, StoreError> {
        Ok(Self::with_backend(PgBackend::connect(url, shard)?, config))
    }
}
