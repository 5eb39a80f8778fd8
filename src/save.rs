//! The save chain: five steps in the one order of Stage 21.2 §5, then a seal.
//!
//! ```text
//! Save::begin(&authority)   Save<S, Start>
//!   .players(&players)?     Save<S, PlayerDone>
//!   .world(&zones)?         Save<S, WorldDone>
//!   .npcs(&npcs)?           Save<S, NpcDone>
//!   .items(&items)?         Save<S, ItemDone>
//!   .quests(&quests)?       Save<S, QuestDone>
//!   .seal()                 Sealed<S>   ← the only thing a store commits
//! ```
//!
//! Each step takes `self`: after it, the previous state is gone, and if the
//! step fails the whole chain is gone with it. There is never a value that
//! holds some systems' state and could be committed (Stage 21.2 §5: save is
//! atomic; it fails if any system fails to produce authoritative state).

use core::fmt;
use core::marker::PhantomData;

use crate::authority::ServerAuthority;
use crate::check;
use crate::entry;
use crate::format::wire::Header;
use crate::format::writer::{BundleWriter, IndexEntry};
use crate::format::{DIGEST_LEN, DigestKey};
use crate::gate;
use crate::ids::{Epoch, Fence, ItemId, NpcId, PlayerId, QuestId, ShardId, ZoneId};
use crate::rejection::Rejection;
use crate::schema::{ItemRecord, NpcRecord, PlayerRecord, QuestRecord, Schema, WorldRecord};
use crate::state::{ItemDone, NpcDone, PlayerDone, QuestDone, Start, State, WorldDone};
use crate::system::System;

/// A save in progress, at state `St`: the chain of Stage 21.2 §5.
///
/// ```text
/// Save::begin(&authority)   Save<S, Start>
///   .players(&players)?     Save<S, PlayerDone>
///   .world(&zones)?         Save<S, WorldDone>
///   .npcs(&npcs)?           Save<S, NpcDone>
///   .items(&items)?         Save<S, ItemDone>
///   .quests(&quests)?       Save<S, QuestDone>
///   .seal()                 Sealed<S>   ← the only thing a store commits
/// ```
///
/// The type parameters are inferred: you write `Save::begin(&authority)` and
/// call the steps in order. Calling a step out of order, skipping one, or
/// committing before [`seal`](Save::seal) does not compile.
///
/// Each step checks its section against the earlier ones — ids unique,
/// every reference resolving inside this bundle, item containment acyclic —
/// then puts the records in canonical order (by id) and encodes them. The
/// server's collections may iterate in any order: the bytes are the same.
///
/// ```
/// use caelmor_persist::{MemStore, Save, ShardId, Store};
/// use caelmor_persist::reference::{Reference, ShardSpec};
///
/// let shard = ShardSpec::small().generate(42);
/// let mut store = MemStore::<Reference>::new(ShardId(1));
/// let mut authority = store.claim()?;
///
/// let sealed = Save::begin(&authority)
///     .players(&shard.players)?
///     .world(&shard.zones)?
///     .npcs(&shard.npcs)?
///     .items(&shard.items)?
///     .quests(&shard.quests)?
///     .seal();
/// let committed = store.commit(sealed, &mut authority)?;
/// assert_eq!(committed.epoch.get(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Save<S: Schema, St: State> {
    writer: BundleWriter,
    /// The store whose authority began this save; only it may commit the seal.
    store: u64,
    shard: ShardId,
    epoch: Epoch,
    fence: Fence,
    key: Option<DigestKey>,
    /// Sorted ids of the sections later sections may refer to.
    players: Vec<PlayerId>,
    zones: Vec<ZoneId>,
    _state: PhantomData<(fn() -> S, St)>,
}

impl<S: Schema, St: State> fmt::Debug for Save<S, St> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Save")
            .field("schema", &S::NAME)
            .field("state", &core::any::type_name::<St>())
            .field("shard", &self.shard)
            .field("epoch", &self.epoch)
            .finish_non_exhaustive()
    }
}

/// Collects references, sorting them by key unless they already are sorted
/// (the common case for servers that keep id-ordered maps).
fn canonical<'r, R, K: Ord + Copy>(
    records: impl IntoIterator<Item = &'r R>,
    key: impl Fn(&R) -> K,
) -> Vec<&'r R>
where
    R: 'r,
{
    let records = records.into_iter();
    let mut refs: Vec<&R> = Vec::with_capacity(records.size_hint().0);
    // Whether they come sorted, found while collecting (one pass, not two).
    let mut sorted = true;
    let mut previous: Option<K> = None;
    for r in records {
        let k = key(r);
        sorted &= previous.is_none_or(|p| p <= k);
        previous = Some(k);
        refs.push(r);
    }
    if !sorted {
        refs.sort_by_key(|r| key(r));
    }
    refs
}

/// The player and world steps: sections that refer to nothing and whose
/// index is their ids alone. Returns the sorted ids, which later steps
/// resolve references against.
fn id_section<'r, R, I>(
    writer: &mut BundleWriter,
    system: System,
    records: impl IntoIterator<Item = &'r R>,
    id: impl Fn(&R) -> I + Sync,
) -> Result<Vec<I>, Rejection>
where
    R: crate::schema::Record + 'r,
    I: Ord + Copy + Into<u64> + IndexEntry,
{
    let refs = canonical(records, &id);
    let ids: Vec<I> = refs.iter().map(|r| id(r)).collect();
    check::sorted_unique(system, ids.iter().map(|&i| i.into()))?;
    writer.section(
        system,
        &refs,
        || Ok(()),
        |index| ids.iter().for_each(|&i| index.push(i)),
        |r| id(r).into(),
    )?;
    Ok(ids)
}

impl<S: Schema, St: State> Save<S, St> {
    fn advance<Next: State>(self) -> Save<S, Next> {
        Save {
            writer: self.writer,
            store: self.store,
            shard: self.shard,
            epoch: self.epoch,
            fence: self.fence,
            key: self.key,
            players: self.players,
            zones: self.zones,
            _state: PhantomData,
        }
    }

    /// The epoch this save will carry.
    #[must_use]
    pub fn epoch(&self) -> Epoch {
        self.epoch
    }

    /// The shard this save belongs to.
    #[must_use]
    pub fn shard(&self) -> ShardId {
        self.shard
    }
}

impl<S: Schema> Save<S, Start> {
    /// Begins a save of the authority's shard at the authority's next epoch.
    ///
    /// Only the server, holding the [`ServerAuthority`] minted by its store,
    /// can begin a save (Stage 21.2 §9.6). Nothing is reserved: the epoch is
    /// consumed by a successful commit, so an abandoned or failed save leaves
    /// the next one free to use it.
    #[must_use]
    pub fn begin(authority: &ServerAuthority<S>) -> Self {
        let header = Header {
            shard: authority.shard,
            epoch: authority.next_epoch,
            fence: authority.fence,
            schema_name: S::NAME.to_owned(),
            schema_version: S::VERSION,
        };
        Save {
            writer: BundleWriter::begin(&header),
            store: authority.store,
            shard: authority.shard,
            epoch: authority.next_epoch,
            fence: authority.fence,
            key: authority.key.clone(),
            players: Vec::new(),
            zones: Vec::new(),
            _state: PhantomData,
        }
    }

    /// Step 1 of 5: Player Identity and PlayerSave.
    ///
    /// # Errors
    /// `E-DUPLICATE-ID` if two players share an id; `E-ENCODE` if a record
    /// fails to serialize. Either way the save is gone.
    pub fn players<'r>(
        mut self,
        records: impl IntoIterator<Item = &'r S::Player>,
    ) -> Result<Save<S, PlayerDone>, Rejection> {
        self.players = id_section(
            &mut self.writer,
            System::Player,
            records,
            |r: &S::Player| r.id(),
        )?;
        Ok(self.advance())
    }
}

impl<S: Schema> Save<S, PlayerDone> {
    /// Step 2 of 5: world structural state and zone composition.
    ///
    /// # Errors
    /// `E-DUPLICATE-ID`, `E-ENCODE`; the save is gone.
    pub fn world<'r>(
        mut self,
        records: impl IntoIterator<Item = &'r S::World>,
    ) -> Result<Save<S, WorldDone>, Rejection> {
        self.zones = id_section(&mut self.writer, System::World, records, |r: &S::World| {
            r.id()
        })?;
        Ok(self.advance())
    }
}

impl<S: Schema> Save<S, WorldDone> {
    /// Step 3 of 5: NPC persisted state. Every NPC's zone must be a zone
    /// saved in step 2.
    ///
    /// # Errors
    /// `E-DUPLICATE-ID`, `E-DANGLING-REF` (npc→zone), `E-ENCODE`; the save
    /// is gone.
    pub fn npcs<'r>(
        mut self,
        records: impl IntoIterator<Item = &'r S::Npc>,
    ) -> Result<Save<S, NpcDone>, Rejection> {
        let refs = canonical(records, |r: &S::Npc| -> NpcId { r.id() });
        // Checked and indexed straight from the records: no index is built.
        let zones = &self.zones;
        self.writer.section(
            System::Npc,
            &refs,
            || check::npcs(&refs, zones),
            |index| refs.iter().for_each(|r| index.push(entry::npc(*r))),
            |r| r.id().0,
        )?;
        Ok(self.advance())
    }
}

impl<S: Schema> Save<S, NpcDone> {
    /// Step 4 of 5: item persisted state. Every location and owner must
    /// resolve to a zone or player saved earlier, or (for containers) to an
    /// item of this step; containment must be acyclic.
    ///
    /// # Errors
    /// `E-DUPLICATE-ID`, `E-DANGLING-REF` (item→zone, item→player,
    /// item→item), `E-CONTAINMENT-CYCLE`, `E-ENCODE`; the save is gone.
    pub fn items<'r>(
        mut self,
        records: impl IntoIterator<Item = &'r S::Item>,
    ) -> Result<Save<S, ItemDone>, Rejection> {
        let refs = canonical(records, |r: &S::Item| -> ItemId { r.id() });
        let (players, zones) = (&self.players, &self.zones);
        self.writer.section(
            System::Item,
            &refs,
            || check::items(&refs, players, zones),
            |index| refs.iter().for_each(|r| index.push(entry::item(*r))),
            |r| r.id().0,
        )?;
        Ok(self.advance())
    }
}

impl<S: Schema> Save<S, ItemDone> {
    /// Step 5 of 5: player-owned quest state. Every owner and every zone of
    /// the world context must have been saved earlier.
    ///
    /// # Errors
    /// `E-DUPLICATE-ID`, `E-DANGLING-REF` (quest→player, quest→zone),
    /// `E-ENCODE`; the save is gone.
    pub fn quests<'r>(
        mut self,
        records: impl IntoIterator<Item = &'r S::Quest>,
    ) -> Result<Save<S, QuestDone>, Rejection> {
        let refs = canonical(records, |r: &S::Quest| -> QuestId { r.id() });
        let (players, zones) = (&self.players, &self.zones);
        self.writer.section(
            System::Quest,
            &refs,
            || check::quests(&refs, players, zones),
            |index| refs.iter().for_each(|r| index.push(entry::quest(*r))),
            |r| r.id().0,
        )?;
        Ok(self.advance())
    }
}

impl<S: Schema> Save<S, QuestDone> {
    /// Closes the bundle: frame length and digest. The result is the only
    /// value a [`Store`](crate::Store) accepts.
    #[must_use]
    pub fn seal(self) -> Sealed<S> {
        let (bytes, digest) = self.writer.finish(self.key.as_ref());
        Sealed {
            bytes,
            digest,
            store: self.store,
            shard: self.shard,
            epoch: self.epoch,
            fence: self.fence,
            _schema: PhantomData,
        }
    }
}

/// A complete, checked, canonical, digested bundle: all five systems at one
/// epoch. The only value a [`Store`](crate::Store) commits.
///
/// Its fields are private and it has no `Default`, `Clone` or `Deserialize`:
/// the one way to obtain a `Sealed` is to walk the whole save chain, so
/// holding one proves that every system produced its state and every check
/// passed (Stage 21.2 §5, §9.3).
///
/// ```
/// use caelmor_persist::{verify, MemStore, Save, ShardId, Store, VerifyOptions};
/// use caelmor_persist::reference::{Reference, ShardSpec};
///
/// let shard = ShardSpec::small().generate(3);
/// let mut store = MemStore::<Reference>::new(ShardId(4));
/// let authority = store.claim()?;
/// let sealed = Save::begin(&authority)
///     .players(&shard.players)?
///     .world(&shard.zones)?
///     .npcs(&shard.npcs)?
///     .items(&shard.items)?
///     .quests(&shard.quests)?
///     .seal();
/// // The bytes a store writes pass schema-agnostic verification.
/// let verified = verify(sealed.bytes(), &VerifyOptions::new())?;
/// assert_eq!(verified.summary.epoch, sealed.epoch());
/// assert_eq!(verified.summary.digest, sealed.digest());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Sealed<S: Schema> {
    bytes: Vec<u8>,
    /// The store whose authority sealed it: another store (perhaps with
    /// another key) must not commit it.
    pub(crate) store: u64,
    digest: [u8; DIGEST_LEN],
    shard: ShardId,
    epoch: Epoch,
    fence: Fence,
    _schema: PhantomData<fn() -> S>,
}

impl<S: Schema> Sealed<S> {
    /// The encoded bundle, exactly as a store writes it.
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Consumes the bundle, returning its bytes (for a store's write).
    #[must_use]
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// The BLAKE3 digest that closes the bundle.
    #[must_use]
    pub fn digest(&self) -> [u8; DIGEST_LEN] {
        self.digest
    }

    /// The shard the bundle belongs to.
    #[must_use]
    pub fn shard(&self) -> ShardId {
        self.shard
    }

    /// The epoch the bundle captures.
    #[must_use]
    pub fn epoch(&self) -> Epoch {
        self.epoch
    }

    /// The fence of the authority that sealed it.
    #[must_use]
    pub fn fence(&self) -> Fence {
        self.fence
    }
}

impl<S: Schema> fmt::Debug for Sealed<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealed")
            .field("schema", &S::NAME)
            .field("shard", &self.shard)
            .field("epoch", &self.epoch)
            .field("fence", &self.fence)
            .field("bytes", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

impl<S: Schema> gate::sealed::Sealed for Sealed<S> {}
impl<S: Schema> gate::Committable<S> for Sealed<S> {
    fn into_sealed(self) -> Sealed<S> {
        self
    }
}

// An unsealed save is never committable. These impls exist only so that the
// compiler's error names the missing step (see `gate`); their where-clauses
// can never hold.
impl<S: Schema, St: State> gate::sealed::Sealed for Save<S, St> {}
macro_rules! not_committable {
    ($state:ident, $needs:ident) => {
        impl<S: Schema> gate::Committable<S> for Save<S, $state>
        where
            $state: gate::$needs<S>,
        {
            fn into_sealed(self) -> Sealed<S> {
                // The where-clause never holds, so this is never called;
                // `absurd` exists only on types nobody can implement.
                <$state as gate::$needs<S>>::absurd()
            }
        }
    };
}
not_committable!(Start, SaveNeedsPlayers);
not_committable!(PlayerDone, SaveNeedsWorld);
not_committable!(WorldDone, SaveNeedsNpcs);
not_committable!(NpcDone, SaveNeedsItems);
not_committable!(ItemDone, SaveNeedsQuests);
not_committable!(QuestDone, SaveNeedsSeal);
