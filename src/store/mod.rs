//! Where sealed bundles go: [`Store`], the guarantees every backend gets,
//! and the backends the crate ships.
//!
//! The contract is split in two (DESIGN "Stores"):
//!
//! - a [`Backend`] provides bytes and an atomic compare-and-swap on a small
//!   per-shard [`Head`] — anyone can implement it (a file system, a
//!   database, an object store);
//! - a [`Store`] wraps any backend and enforces, once, what the canon asks
//!   of every store: a commit is the next epoch or nothing (Stage 21.0: no
//!   rollback via persistence), only the current claim may commit
//!   (Stage 21.2 §9.6: server authority, enforced by fences), a shard's key
//!   never changes, and a load hands out only the latest committed epoch,
//!   verified in full, never an older one instead.
//!
//! [`FileStore`] (one directory per shard) is the embedded default;
//! [`MemStore`] keeps a shard in memory, for tests and examples.

mod backend;
#[cfg(feature = "conformance")]
pub mod conformance;
mod error;
mod file;
mod loaded;
mod mem;
#[cfg(feature = "postgres")]
mod pg;

pub use backend::{Backend, EpochRecord, Head, KeyFingerprint, StoredEpoch, Swap};
pub use error::{CommitError, StoreError};
pub use file::{FileBackend, FileStore, ShardDir, read_bundle_file};
pub use loaded::{Loaded, StoredBundle};
pub use mem::{MemBackend, MemStore};
#[cfg(feature = "postgres")]
pub use pg::{Keepalives, OwnerSession, PgBackend, PgError, PgOptions, PgStore};

use core::fmt;
use core::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::authority::{ServerAuthority, unique_token};
use crate::format::{DIGEST_LEN, DigestKey, reader};
use crate::gate::Committable;
use crate::ids::{Epoch, Fence, ShardId};
use crate::parallel::Threads;
use crate::rejection::Rejection;
use crate::save::Sealed;
use crate::schema::Schema;
use crate::shape::{self, Shape, ShapeMismatch};
use crate::system::System;
use crate::typed_reader;
use crate::verify::{VerifyOptions, verify};

/// How a [`Store`] is set up: its digest key, how many epochs it keeps, and
/// the largest bundle it will read.
///
/// ```
/// use caelmor_persist::{DigestKey, StoreConfig};
/// let config = StoreConfig::new()
///     .key(DigestKey::from_bytes([7; 32]))
///     .retain(3);
/// assert_eq!(config.retained(), 3);
/// assert_eq!(StoreConfig::new().retained(), StoreConfig::DEFAULT_RETAIN);
/// ```
#[derive(Clone, Debug)]
pub struct StoreConfig {
    key: Option<DigestKey>,
    retain: usize,
    max_bundle_len: u64,
    threads: Threads,
}

/// The configuration of a [`FileStore`]: the same as every store's.
pub type FileStoreConfig = StoreConfig;

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            key: None,
            retain: Self::DEFAULT_RETAIN,
            max_bundle_len: Self::DEFAULT_MAX_BUNDLE_LEN,
            threads: Threads::Two,
        }
    }
}

impl StoreConfig {
    /// How many epochs a store keeps unless told otherwise.
    pub const DEFAULT_RETAIN: usize = 8;

    /// The largest bundle a store reads unless told otherwise: 4 GiB.
    pub const DEFAULT_MAX_BUNDLE_LEN: u64 = 4 << 30;

    /// Unkeyed digests, [`DEFAULT_RETAIN`](Self::DEFAULT_RETAIN) epochs kept.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Digests bundles with `key`, and verifies loads with it. A shard is
    /// keyed (or not) for good at its first claim.
    #[must_use]
    pub fn key(mut self, key: DigestKey) -> Self {
        self.key = Some(key);
        self
    }

    /// Keeps the latest `epochs` epochs (at least 1: the latest is never
    /// removed). Older ones are removed after each successful commit.
    #[must_use]
    pub fn retain(mut self, epochs: usize) -> Self {
        self.retain = epochs.max(1);
        self
    }

    /// Seals, verifies and opens on `threads` ([`Threads::Two`] unless told
    /// otherwise): the authority this store mints carries the setting to
    /// every [`Save`](crate::Save) it begins, and the store's loads use it.
    /// The same bytes and the same rejections either way; see [`Threads`]
    /// for what a second thread is used for and what one costs.
    #[must_use]
    pub fn threads(mut self, threads: Threads) -> Self {
        self.threads = threads;
        self
    }

    /// The digest key, if the store is keyed.
    pub(crate) fn key_used(&self) -> Option<&DigestKey> {
        self.key.as_ref()
    }

    /// The [`Threads`] setting.
    #[must_use]
    pub fn threads_used(&self) -> Threads {
        self.threads
    }

    /// Refuses to read an older epoch's bundle longer than `bytes` (the
    /// latest epoch's length is known from the head, and read exactly).
    #[must_use]
    pub fn max_bundle_len(mut self, bytes: u64) -> Self {
        self.max_bundle_len = bytes;
        self
    }

    /// How many epochs are kept.
    #[must_use]
    pub fn retained(&self) -> usize {
        self.retain
    }

    /// Whether bundles are digested with a key.
    #[must_use]
    pub fn is_keyed(&self) -> bool {
        self.key.is_some()
    }

    /// The fingerprint of the configured key.
    #[must_use]
    pub fn key_fingerprint(&self) -> KeyFingerprint {
        KeyFingerprint::of(self.key.as_ref())
    }
}

/// What a successful commit recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Committed {
    /// The shard.
    pub shard: ShardId,
    /// The epoch now latest.
    pub epoch: Epoch,
    /// The fence it was committed under.
    pub fence: Fence,
    /// The bundle's size in bytes.
    pub bytes: u64,
}

impl Committed {
    fn of<S: Schema>(sealed: &Sealed<S>) -> Self {
        Self {
            shard: sealed.shard(),
            epoch: sealed.epoch(),
            fence: sealed.fence(),
            bytes: sealed.bytes().len() as u64,
        }
    }
}

/// How many times a claim retries its compare-and-swap when another writer
/// changed the head in between (only possible when the backend's lock was
/// bypassed): enough for a race, not for a livelock.
const CLAIM_ATTEMPTS: usize = 8;

/// One shard in one backend, with every guarantee the canon asks of a store
/// enforced on top of it.
///
/// - **One authority.** [`claim`](Store::claim) takes the backend's owner
///   lock (where it has one), checks the shard's key, and increments the
///   shard's fence with a compare-and-swap; the [`ServerAuthority`] it mints
///   is the only way to save, commit or restore, and every earlier authority
///   of the shard is superseded (Stage 21.2 §9.6).
/// - **Next epoch only, whole or nothing.** [`commit`](Store::commit) takes
///   only a [`Sealed`] bundle, sealed under this store's current authority,
///   at exactly the epoch after the latest; the backend publishes it and
///   moves the head in one compare-and-swap, so a superseded writer's commit
///   never lands, and a commit either happened or did not (Stage 21.0,
///   Stage 21.2 §5, §9.3).
/// - **The latest, verified, or an error.** [`load_latest`](Store::load_latest)
///   reads the epoch the head names — nothing else — checks it is the bundle
///   that was committed (length, digest) and verifies every rule of the
///   format, records included. A missing or damaged latest epoch is
///   `E-STORE-DAMAGED`; the store never falls back to an older epoch (that
///   would be a rollback, Stage 21.0), and a shard that ever committed never
///   reads as empty.
/// - **Restore provenance.** Only what `load_latest` returns can be
///   restored, and only with the authority this store minted, while that
///   authority is current ([`Restore::open`](crate::Restore::open)).
///   Older epochs can be read for forensics ([`load_epoch`](Store::load_epoch)),
///   never restored.
/// - **Keyed shards.** A shard is keyed, or not, for good at its first
///   claim; a store with another key, or none, is refused before it writes
///   (`E-STORE-KEY`).
///
/// The type parameters are the schema and the backend; [`FileStore`] and
/// [`MemStore`] name the two the crate ships.
///
#[cfg_attr(feature = "reference", doc = "```")]
#[cfg_attr(not(feature = "reference"), doc = "```ignore")]
/// use caelmor_persist::{MemStore, Restore, Save, ShardId};
/// use caelmor_persist::reference::{Reference, ShardSpec};
///
/// let world = ShardSpec::small().generate(7);
/// let mut store = MemStore::<Reference>::new(ShardId(1));
/// let authority = store.claim()?;
/// let sealed = Save::begin(&authority)
///     .players(&world.players)?
///     .world(&world.zones)?
///     .npcs(&world.npcs)?
///     .items(&world.items)?
///     .quests(&world.quests)?
///     .seal();
/// let committed = store.commit(sealed, &authority)?;
/// assert_eq!(committed.epoch.get(), 1);
///
/// let loaded = store.load_latest()?.expect("epoch 1 was committed");
/// let active = Restore::open(loaded, &authority)?
///     .players().world().npcs().items().quests()
///     .activate(&authority)?;
/// assert_eq!(active.items, world.items);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Store<S: Schema, B: Backend> {
    backend: B,
    id: u64,
    config: StoreConfig,
    key: KeyFingerprint,
    /// The newest fence this store has seen for its shard: its own latest
    /// claim, or a later one it found in the head. Shared with the
    /// authorities it mints, so that a superseded one knows it, in-process.
    current: Arc<AtomicU64>,
    claimed: bool,
    _schema: PhantomData<fn() -> S>,
}

impl<S: Schema, B: Backend> Store<S, B> {
    /// Wraps a backend. Nothing is read or written until the first call.
    #[must_use]
    pub fn with_backend(backend: B, config: StoreConfig) -> Self {
        let key = config.key_fingerprint();
        Self {
            backend,
            id: unique_token(),
            config,
            key,
            current: Arc::new(AtomicU64::new(0)),
            claimed: false,
            _schema: PhantomData,
        }
    }

    /// The backend.
    #[must_use]
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// The shard this store holds.
    #[must_use]
    pub fn shard(&self) -> ShardId {
        self.backend.shard()
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// Whether this store has claimed the shard (it may have been superseded
    /// since; the next commit finds out).
    #[must_use]
    pub fn is_claimed(&self) -> bool {
        self.claimed
    }

    /// The newest fence this store has seen: that of its own latest claim,
    /// or a later claim it found while reading the head.
    #[must_use]
    pub fn fence(&self) -> Fence {
        Fence(self.current.load(Ordering::Acquire))
    }

    /// The shard's head as the backend holds it now.
    ///
    /// # Errors
    /// When the backend cannot read it.
    pub fn head(&self) -> Result<Option<Head>, StoreError> {
        let head = self.backend.head()?;
        if let Some(head) = &head {
            self.saw(head.fence);
        }
        Ok(head)
    }

    /// The latest committed epoch, from the head.
    ///
    /// # Errors
    /// When the backend cannot read the head.
    pub fn latest_epoch(&self) -> Result<Option<Epoch>, StoreError> {
        Ok(self.head()?.and_then(|h| h.latest).map(|l| l.epoch))
    }

    /// The committed epochs whose bundles the backend still holds, oldest
    /// first (left-overs of lost publishes are not among them).
    ///
    /// # Errors
    /// When the backend cannot read the head or list its epochs.
    pub fn epochs(&self) -> Result<Vec<Epoch>, StoreError> {
        Ok(self.committed()?.into_iter().map(|s| s.epoch).collect())
    }

    /// The committed epochs whose bundles the backend still holds, oldest
    /// first, each with the fence it was published under (what a backend's
    /// [`read`](Backend::read), or [`ShardDir::epoch_path`], needs).
    ///
    /// # Errors
    /// When the backend cannot read the head or list its epochs.
    pub fn committed(&self) -> Result<Vec<StoredEpoch>, StoreError> {
        let Some(latest) = self.head()?.and_then(|h| h.latest) else {
            return Ok(Vec::new());
        };
        Ok(committed_candidates(&self.backend.list()?, &latest))
    }

    /// Records that the shard's fence is at least `fence`: an authority
    /// with an older one is superseded.
    fn saw(&self, fence: Fence) {
        self.current.fetch_max(fence.0, Ordering::AcqRel);
    }

    fn check_key(&self, head: &Head) -> Result<(), StoreError> {
        if head.key == self.key {
            Ok(())
        } else {
            Err(StoreError::KeyMismatch {
                shard: head.key,
                store: self.key,
            })
        }
    }

    /// A head that is absent although the backend holds epochs: the shard's
    /// record of its latest commit is lost, and starting over would be a
    /// rollback.
    fn headless(&self) -> Result<(), StoreError> {
        let stored = self.backend.list()?;
        if let Some(newest) = stored.iter().max() {
            return Err(StoreError::HeadMissing {
                location: self.backend.location(),
                newest: newest.epoch,
            });
        }
        Ok(())
    }

    /// Makes the caller the shard's authority: takes the backend's owner
    /// lock, checks the shard's key, then increments the fence with a
    /// compare-and-swap, which supersedes every earlier authority. Bundles
    /// left behind by superseded writers are removed.
    ///
    /// The schema's record types are traced first (once per process): a
    /// schema whose shapes cannot be fingerprinted could write no bundle
    /// that a reader can check, so it is refused before anything is locked
    /// or written, and a claim's authority always seals.
    ///
    /// # Errors
    /// `E-SHAPE-UNTRACEABLE` naming the system, record type and reason;
    /// `E-STORE-CLAIMED` while another owner holds the lock; `E-STORE-KEY`
    /// if the shard is keyed otherwise; `E-STORE-HEAD` if the shard's head
    /// is lost although epochs remain; `E-STORE-EXHAUSTED` at the last
    /// fence; `E-STORE-CONTENDED` if other writers kept changing the head;
    /// a backend error.
    pub fn claim(&mut self) -> Result<ServerAuthority<S>, StoreError> {
        crate::trace::span!("claim", shard = self.shard().0, location = %self.backend.location());
        let shapes = shapes_of::<S>()?;
        self.backend.lock()?;
        for _ in 0..CLAIM_ATTEMPTS {
            let head = self.backend.head()?;
            let next = match &head {
                None => {
                    self.headless()?;
                    Head::first(Fence(1), self.key)
                }
                Some(head) => {
                    self.check_key(head)?;
                    self.saw(head.fence);
                    Head {
                        version: head.version.checked_add(1).ok_or(StoreError::Exhausted)?,
                        fence: head.fence.next().ok_or(StoreError::Exhausted)?,
                        ..*head
                    }
                }
            };
            if self.backend.claim(head.as_ref(), &next)? == Swap::Done {
                crate::trace::event!(
                    fence = next.fence.0,
                    latest = next.latest.map(|l| l.epoch.0),
                    "claimed"
                );
                self.saw(next.fence);
                self.claimed = true;
                self.remove_leftovers(&next);
                return Ok(ServerAuthority::mint(
                    self.id,
                    self.shard(),
                    next.fence,
                    next.latest.map(|l| l.epoch),
                    &self.config,
                    shapes,
                    Arc::clone(&self.current),
                ));
            }
        }
        Err(StoreError::Contended {
            location: self.backend.location(),
        })
    }

    /// Best effort, after a claim: removes the bytes that writers with an
    /// older fence published but never committed. No writer with an older
    /// fence can commit any more, so none of them can become truth; bytes of
    /// a newer fence are never touched (a later claimant may be publishing).
    fn remove_leftovers(&mut self, head: &Head) {
        let Ok(stored) = self.backend.list() else {
            return;
        };
        let committed = head
            .latest
            .map(|latest| committed_candidates(&stored, &latest))
            .unwrap_or_default();
        for s in stored {
            if s.fence < head.fence && !committed.contains(&s) {
                let _ = self.backend.remove(s);
            }
        }
    }

    /// Commits a sealed bundle whole, or nothing.
    ///
    /// Only [`Sealed`] is accepted: passing an unfinished
    /// [`Save`](crate::Save) does not compile, and the message names the step
    /// still missing.
    ///
    /// The authority is taken by shared reference: a server that seals on its
    /// game thread and commits on another can keep the authority in an `Arc`
    /// and the store behind a `Mutex` (see `examples/async_server.rs`). A
    /// successful commit advances the authority's next epoch.
    ///
    /// # Errors
    /// `E-STORE-SHARD`, `E-STORE-AUTHORITY` (minted or sealed by another
    /// store), `E-STORE-FENCED` (superseded), `E-STORE-EPOCH` (not the next
    /// epoch), `E-STORE-KEY`, `E-STORE-EXHAUSTED`, or a backend error; the
    /// bundle is handed back in every case.
    pub fn commit<C: Committable<S>>(
        &mut self,
        bundle: C,
        authority: &ServerAuthority<S>,
    ) -> Result<Committed, CommitError<S>> {
        let sealed = bundle.into_sealed();
        crate::trace::span!(
            "commit",
            shard = sealed.shard().0,
            epoch = sealed.epoch().0,
            fence = sealed.fence().0,
            bytes = sealed.bytes().len()
        );
        match self.try_commit(&sealed, authority) {
            Ok(committed) => {
                authority.committed(committed.epoch);
                self.prune(committed.epoch);
                crate::trace::event!("committed");
                Ok(committed)
            }
            Err(error) => {
                crate::trace::event!(code = error.code(), "commit refused: {error}");
                Err(CommitError::new(error, sealed))
            }
        }
    }

    fn try_commit(
        &mut self,
        sealed: &Sealed<S>,
        authority: &ServerAuthority<S>,
    ) -> Result<Committed, StoreError> {
        let shard = self.shard();
        for found in [authority.shard, sealed.shard()] {
            if found != shard {
                return Err(StoreError::ShardMismatch {
                    expected: shard,
                    found,
                });
            }
        }
        let head = self.head()?.ok_or_else(|| StoreError::NotClaimed {
            location: self.backend.location(),
        })?;
        self.check_key(&head)?;
        // Fence before identity: a bundle from before a restart carries both
        // a stale fence and a dead store instance, and "superseded" is the
        // operator's real problem.
        for found in [authority.fence, sealed.fence()] {
            if found != head.fence {
                return Err(StoreError::Fenced {
                    current: head.fence,
                    found,
                });
            }
        }
        // A bundle sealed under another store's authority (perhaps with
        // another key) must not become this store's truth.
        if authority.store != self.id || sealed.store != self.id {
            return Err(StoreError::ForeignAuthority);
        }
        let record = EpochRecord {
            epoch: sealed.epoch(),
            fence: sealed.fence(),
            len: sealed.bytes().len() as u64,
            digest: sealed.digest(),
        };
        // The retry of a commit whose outcome the backend could not report
        // (e.g. a failed sync after the head moved): the very same bundle is
        // already the head's latest and only needs to be made durable.
        if head.latest == Some(record) {
            self.backend.settle()?;
            return Ok(Committed::of(sealed));
        }
        let expected = Epoch::after(head.latest.map(|l| l.epoch)).ok_or(StoreError::Exhausted)?;
        if record.epoch != expected {
            return Err(StoreError::EpochNotNext {
                expected,
                found: record.epoch,
            });
        }
        let next = Head {
            version: head.version.checked_add(1).ok_or(StoreError::Exhausted)?,
            latest: Some(record),
            ..head
        };
        match self.backend.publish(&head, &next, sealed.bytes())? {
            Swap::Done => Ok(Committed::of(sealed)),
            // Someone else moved the head between our read and our swap:
            // a newer claim (we are superseded) or, only if the lock was
            // bypassed, a commit of the same fence.
            Swap::Conflict => {
                let now = self.head()?;
                match now {
                    Some(now) if now.fence != head.fence => Err(StoreError::Fenced {
                        current: now.fence,
                        found: sealed.fence(),
                    }),
                    Some(now) if now.latest != head.latest => Err(StoreError::EpochNotNext {
                        expected: Epoch::after(now.latest.map(|l| l.epoch))
                            .ok_or(StoreError::Exhausted)?,
                        found: record.epoch,
                    }),
                    _ => Err(StoreError::Contended {
                        location: self.backend.location(),
                    }),
                }
            }
        }
    }

    /// Removes committed epochs older than the retained ones, after a
    /// successful commit. Best effort: the commit is already durable, so a
    /// failure here is left for the next commit to retry.
    fn prune(&mut self, latest: Epoch) {
        let Ok(stored) = self.backend.list() else {
            return;
        };
        let retain = self.config.retain.max(1) as u64;
        let keep_from = latest.0.saturating_sub(retain - 1);
        let mut old: Vec<StoredEpoch> = stored
            .into_iter()
            .filter(|s| s.epoch.0 < keep_from && s.epoch < latest)
            .collect();
        old.sort_unstable();
        for s in old {
            if self.backend.remove(s).is_err() {
                break;
            }
        }
    }

    /// Loads the latest committed epoch, verified in full, ready for
    /// [`Restore::open`](crate::Restore::open); `None` for a shard that has
    /// never committed.
    ///
    /// The head names the epoch; its bytes are read (exactly the committed
    /// length, no more), must be the committed bundle (same digest), and
    /// pass every rule of the format under this store's schema, key and
    /// shard, every record decoded. The [`Loaded`] value carries the
    /// records, so the restore reads nothing again.
    ///
    /// # Errors
    /// `E-STORE-DAMAGED` naming the epoch if its bundle is missing, is not
    /// the one committed, or fails verification — never an older epoch
    /// instead; `E-STORE-HEAD` if the head is lost while epochs remain;
    /// `E-STORE-SCHEMA` if the latest was written under another schema —
    /// another name or version, or a record type of another shape, with
    /// the first difference (bring it forward with
    /// [`migrate`](Store::migrate)); `E-STORE-KEY` if the shard is keyed
    /// otherwise; `E-SHAPE-UNTRACEABLE` if a record type of `S` cannot be
    /// traced; a backend error.
    pub fn load_latest(&self) -> Result<Option<Loaded<S>>, StoreError> {
        crate::trace::span!("load", shard = self.shard().0, location = %self.backend.location());
        let Some(head) = self.head()? else {
            self.headless()?;
            return Ok(None);
        };
        self.check_key(&head)?;
        let Some(latest) = head.latest else {
            return Ok(None);
        };
        let opened = self.read_latest_as::<S>(&latest)?;
        Ok(Some(Loaded::new(opened, self.id, head.fence)))
    }

    /// The latest committed epoch, read and verified in full as a bundle of
    /// schema `Old`, for a migration by `authority` into this store's
    /// schema; `None` for a shard that has never committed.
    ///
    /// Restore's provenance, for the same reason (Stage 21.2 §9.6): only the
    /// shard's current server migrates, so the authority must be this
    /// store's, its fence the head's, and still current; and it migrates
    /// only the latest epoch, the one its next save follows.
    pub(crate) fn latest_for_migration<Old: Schema>(
        &self,
        authority: &ServerAuthority<S>,
    ) -> Result<Option<typed_reader::Opened<Old>>, StoreError> {
        if authority.store != self.id {
            return Err(StoreError::ForeignAuthority);
        }
        let head = self.head()?.ok_or_else(|| StoreError::NotClaimed {
            location: self.backend.location(),
        })?;
        self.check_key(&head)?;
        if authority.fence != head.fence || !authority.is_current() {
            return Err(StoreError::Fenced {
                current: head.fence.max(self.fence()),
                found: authority.fence,
            });
        }
        let Some(latest) = head.latest else {
            return Ok(None);
        };
        // Always so for a current authority (its claim saw the head, and
        // only it has committed since); checked, because a migration that
        // sealed another epoch would only be refused at the commit.
        let next = latest.epoch.next().ok_or(StoreError::Exhausted)?;
        if authority.next_epoch() != next {
            return Err(StoreError::EpochNotNext {
                expected: next,
                found: authority.next_epoch(),
            });
        }
        self.read_latest_as::<Old>(&latest).map(Some)
    }

    /// The head's latest epoch, read and verified in full as a bundle of
    /// schema `R`: the store's own schema for a load, the old one for a
    /// migration.
    pub(crate) fn read_latest_as<R: Schema>(
        &self,
        latest: &EpochRecord,
    ) -> Result<typed_reader::Opened<R>, StoreError> {
        let shapes = shapes_of::<R>()?;
        let bytes = self.read_committed(latest)?;
        let options = VerifyOptions::for_schema::<R>(
            shapes,
            self.shard(),
            latest.epoch,
            self.config.key.as_ref(),
        )
        .threads(self.config.threads);
        let opened = typed_reader::read::<R>(&bytes, &options).map_err(|rejection| {
            self.refused::<R>(
                StoredEpoch {
                    epoch: latest.epoch,
                    fence: latest.fence,
                },
                rejection,
                &bytes,
            )
        })?;
        crate::trace::event!(
            epoch = latest.epoch.0,
            fence = latest.fence.0,
            bytes = bytes.len(),
            records = opened
                .summary
                .sections
                .iter()
                .map(|s| s.records)
                .sum::<u64>(),
            schema = R::NAME,
            "read and verified"
        );
        Ok(opened)
    }

    /// The head's latest epoch's bytes, checked to be those committed.
    fn read_committed(&self, latest: &EpochRecord) -> Result<Vec<u8>, StoreError> {
        let stored = StoredEpoch {
            epoch: latest.epoch,
            fence: latest.fence,
        };
        let damaged = |detail: String| StoreError::Damaged {
            location: self.backend.location_of(stored),
            epoch: latest.epoch,
            detail,
            rejection: None,
        };
        let bytes = match self.backend.read(stored, latest.len) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Err(damaged("its bundle is missing".to_owned())),
            // Longer than the committed length: not the committed bundle.
            Err(StoreError::TooLarge { len, .. }) => {
                return Err(damaged(format!(
                    "its bundle holds {len} bytes, {} were committed",
                    latest.len
                )));
            }
            Err(e) => return Err(e),
        };
        let digest = bytes.len().checked_sub(DIGEST_LEN).map(|at| &bytes[at..]);
        if bytes.len() as u64 != latest.len || digest != Some(&latest.digest[..]) {
            return Err(damaged(format!(
                "its bundle is not the one committed ({} bytes, digest {})",
                latest.len,
                blake3::Hash::from_bytes(latest.digest).to_hex()
            )));
        }
        Ok(bytes)
    }

    /// A rejection of a stored bundle, named for what it is: another
    /// schema, or a changed record type, is not damage. `R` is the schema
    /// it was read as, `bytes` the bundle.
    fn refused<R: Schema>(
        &self,
        stored: StoredEpoch,
        rejection: Rejection,
        bytes: &[u8],
    ) -> StoreError {
        let epoch = stored.epoch;
        match rejection {
            Rejection::SchemaMismatch {
                expected_name,
                expected_version,
                found_name,
                found_version,
            } => StoreError::SchemaMismatch {
                epoch,
                expected_name,
                expected_version,
                found_name,
                found_version,
                shapes: first_shape_change::<R>(bytes),
            },
            // Reached only once the name and version matched (rule 9).
            Rejection::ShapeMismatch(mismatch) => StoreError::ShapeMismatch {
                epoch,
                schema_name: R::NAME.to_owned(),
                schema_version: R::VERSION,
                mismatch,
            },
            Rejection::Untraceable(untraceable) => StoreError::Untraceable(untraceable),
            rejection => StoreError::Damaged {
                location: self.backend.location_of(stored),
                epoch,
                detail: rejection.to_string(),
                rejection: Some(rejection),
            },
        }
    }

    /// Reads a committed epoch for inspection: verified (every rule that
    /// needs no record types, under this store's key and shard), but not
    /// restorable — an older epoch is never live state again (Stage 21.0: no
    /// rollback via persistence). `None` if the store does not hold it.
    ///
    /// # Errors
    /// `E-STORE-DAMAGED` if it fails verification; a backend error.
    pub fn load_epoch(&self, epoch: Epoch) -> Result<Option<StoredBundle>, StoreError> {
        let Some(head) = self.head()? else {
            return Ok(None);
        };
        self.check_key(&head)?;
        let Some(latest) = head.latest else {
            return Ok(None);
        };
        let Some(stored) = committed_candidates(&self.backend.list()?, &latest)
            .into_iter()
            .find(|s| s.epoch == epoch)
        else {
            return Ok(None);
        };
        let bytes = if stored.epoch == latest.epoch {
            self.read_committed(&latest)?
        } else {
            match self.backend.read(stored, self.config.max_bundle_len)? {
                Some(bytes) => bytes,
                None => return Ok(None),
            }
        };
        let mut options = VerifyOptions::new()
            .expect_shard(self.shard())
            .expect_epoch(epoch)
            .threads(self.config.threads);
        if let Some(key) = &self.config.key {
            options = options.key(key.clone());
        }
        match verify(&bytes, &options) {
            Ok(verified) => Ok(Some(StoredBundle::new(bytes, verified))),
            Err(rejection) => Err(self.refused::<S>(stored, rejection, &bytes)),
        }
    }
}

/// The first record type of `R`, in [`System::ORDER`], whose shape
/// differs from the one `bytes` carry: what changed besides a schema's name
/// or version. For bytes that passed rules 1 to 5 of the format.
fn first_shape_change<R: Schema>(bytes: &[u8]) -> Option<ShapeMismatch> {
    let header = reader::header_of(bytes)?;
    let found = reader::shapes(&header).ok()?;
    let expected = shape::traced::<R>().ok()?;
    System::ORDER
        .into_iter()
        .zip(&found)
        .zip(expected)
        .find_map(|((system, found), expected)| ShapeMismatch::between(system, found, expected))
}

/// The shapes of `R`'s record types, or `E-SHAPE-UNTRACEABLE`.
fn shapes_of<R: Schema>() -> Result<[&'static Shape; 5], StoreError> {
    shape::traced::<R>().map_err(StoreError::Untraceable)
}

/// Which of the stored epochs are committed, oldest first: every epoch up
/// to the latest, by the highest fence that published it (a writer that
/// published an epoch and lost its swap was superseded by a higher fence,
/// whose claim saw the shard before that epoch), and the latest exactly as
/// the head names it.
pub(crate) fn committed_candidates(
    stored: &[StoredEpoch],
    latest: &EpochRecord,
) -> Vec<StoredEpoch> {
    let mut best: std::collections::BTreeMap<Epoch, Fence> = std::collections::BTreeMap::new();
    for s in stored {
        if s.epoch < latest.epoch && s.fence <= latest.fence {
            let fence = best.entry(s.epoch).or_insert(s.fence);
            *fence = (*fence).max(s.fence);
        }
    }
    let mut out: Vec<StoredEpoch> = best
        .into_iter()
        .map(|(epoch, fence)| StoredEpoch { epoch, fence })
        .collect();
    let head = StoredEpoch {
        epoch: latest.epoch,
        fence: latest.fence,
    };
    if stored.contains(&head) {
        out.push(head);
    }
    out
}

impl<S: Schema, B: Backend> fmt::Debug for Store<S, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("schema", &S::NAME)
            .field("shard", &self.shard())
            .field("location", &self.backend.location())
            .field("fence", &self.fence())
            .field("claimed", &self.claimed)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}
