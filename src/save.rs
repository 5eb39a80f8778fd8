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

use crate::authority::{Origin, ServerAuthority};
use crate::check;
use crate::entry;
use crate::format::wire::{Header, ItemEntry, NpcEntry, QuestEntry, QuestEntryRef};
use crate::format::writer::{BundleWriter, Section};
use crate::format::{DIGEST_LEN, DigestKey};
use crate::gate;
use crate::ids::{Epoch, Fence, PlayerId, ShardId, ZoneId};
use crate::rejection::Rejection;
use crate::schema::{NameFits, Schema};
use crate::shape::Shape;
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
/// Each step reads every record's id and references once — a snapshot,
/// so that a record whose methods answer differently from one call to the
/// next cannot be checked as one thing and indexed as another — puts the
/// records in canonical order (by id), checks the section against the
/// earlier ones (ids unique, every reference resolving inside this bundle,
/// item containment acyclic) and encodes it. The server's collections may
/// iterate in any order: the bytes are the same.
///
/// Every seal opens: each record is decoded again right after it is
/// encoded, exactly as [`Restore::open`](crate::Restore::open) will decode
/// it, and must give back the same bytes and the same ids and references.
/// A record that does not — its methods read state that changed during the
/// step or that its encoding leaves out (`#[serde(skip)]`), or it holds a
/// map that encodes in iteration order — is refused with
/// `E-RECORD-ROUNDTRIP` at its step, instead of sealing a bundle that every
/// later load would refuse.
///
#[cfg_attr(feature = "reference", doc = "```")]
#[cfg_attr(not(feature = "reference"), doc = "```ignore")]
/// use caelmor_persist::{MemStore, Save, ShardId, Store};
/// use caelmor_persist::reference::{Reference, ShardSpec};
///
/// let shard = ShardSpec::small().generate(42);
/// let mut store = MemStore::<Reference>::new(ShardId(1));
/// let authority = store.claim()?;
///
/// let sealed = Save::begin(&authority)
///     .players(&shard.players)?
///     .world(&shard.zones)?
///     .npcs(&shard.npcs)?
///     .items(&shard.items)?
///     .quests(&shard.quests)?
///     .seal();
/// let committed = store.commit(sealed, &authority)?;
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
    player_ids: Vec<PlayerId>,
    zone_ids: Vec<ZoneId>,
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

/// The player section, as the bundle writer takes it: ids only.
struct Players<S>(PhantomData<fn() -> S>);

impl<S: Schema> Section for Players<S> {
    type Record = S::Player;
    type Entry<'r> = PlayerId;
    type Owned = PlayerId;
    type Run = ();
    const SYSTEM: System = System::Player;

    fn entry(&self, record: &S::Player) -> PlayerId {
        entry::player(record)
    }
    fn run(&self, _: usize) {}
    fn observe(&self, (): &mut (), _: &PlayerId) {}
    fn holds(&self, (): &(), _: Option<&()>) -> bool {
        // Players refer to nothing: strictly increasing ids are the rule.
        true
    }
    fn check(&self, ids: &[PlayerId]) -> Result<(), Rejection> {
        check::sorted_unique(System::Player, ids.iter().map(|p| p.0))
    }
}

/// The world section: zone ids only.
struct Zones<S>(PhantomData<fn() -> S>);

impl<S: Schema> Section for Zones<S> {
    type Record = S::World;
    type Entry<'r> = ZoneId;
    type Owned = ZoneId;
    type Run = ();
    const SYSTEM: System = System::World;

    fn entry(&self, record: &S::World) -> ZoneId {
        entry::zone(record)
    }
    fn run(&self, _: usize) {}
    fn observe(&self, (): &mut (), _: &ZoneId) {}
    fn holds(&self, (): &(), _: Option<&()>) -> bool {
        // Zones refer to nothing: strictly increasing ids are the rule.
        true
    }
    fn check(&self, ids: &[ZoneId]) -> Result<(), Rejection> {
        check::sorted_unique(System::World, ids.iter().map(|z| z.0))
    }
}

/// The NPC section, resolved against the zones saved earlier.
struct Npcs<'a, S> {
    zones: &'a [ZoneId],
    resolve: check::Resolve<'a>,
    _schema: PhantomData<fn() -> S>,
}

impl<S: Schema> Section for Npcs<'_, S> {
    type Record = S::Npc;
    type Entry<'r> = NpcEntry;
    type Owned = NpcEntry;
    /// Whether every zone so far resolved.
    type Run = bool;
    const SYSTEM: System = System::Npc;

    fn entry(&self, record: &S::Npc) -> NpcEntry {
        entry::npc(record)
    }
    fn run(&self, _: usize) -> bool {
        true
    }
    fn observe(&self, run: &mut bool, e: &NpcEntry) {
        *run &= self.resolve.npc(e);
    }
    fn holds(&self, head: &bool, tail: Option<&bool>) -> bool {
        *head && tail.is_none_or(|t| *t)
    }
    fn check(&self, entries: &[NpcEntry]) -> Result<(), Rejection> {
        check::npcs(entries, self.zones)
    }
}

/// The item section, resolved against the players and zones saved earlier
/// and against itself.
struct Items<'a, S> {
    players: &'a [PlayerId],
    zones: &'a [ZoneId],
    _schema: PhantomData<fn() -> S>,
}

impl<'a, S: Schema> Section for Items<'a, S> {
    type Record = S::Item;
    type Entry<'r> = ItemEntry;
    type Owned = ItemEntry;
    /// The usual shape of an item section, proven entry by entry: what the
    /// typed reader proves on open too.
    type Run = check::DenseItems<'a>;
    const SYSTEM: System = System::Item;

    fn entry(&self, record: &S::Item) -> ItemEntry {
        entry::item(record)
    }
    fn run(&self, count: usize) -> check::DenseItems<'a> {
        check::DenseItems::new(count, self.players, self.zones)
    }
    fn observe(&self, run: &mut check::DenseItems<'a>, e: &ItemEntry) {
        run.next(e);
    }
    fn holds(&self, head: &check::DenseItems<'a>, tail: Option<&check::DenseItems<'a>>) -> bool {
        match tail {
            None => head.holds(),
            Some(tail) => check::DenseItems::joined(head, tail),
        }
    }
    fn check(&self, entries: &[ItemEntry]) -> Result<(), Rejection> {
        check::items(entries, self.players, self.zones)
    }
}

/// The quest section, resolved against the players and zones saved earlier.
struct Quests<'a, S> {
    players: &'a [PlayerId],
    zones: &'a [ZoneId],
    resolve: check::Resolve<'a>,
    _schema: PhantomData<fn() -> S>,
}

impl<S: Schema> Section for Quests<'_, S> {
    type Record = S::Quest;
    type Entry<'r> = QuestEntryRef<'r>;
    type Owned = QuestEntry;
    /// Whether every owner and zone so far resolved.
    type Run = bool;
    const SYSTEM: System = System::Quest;

    fn entry<'r>(&self, record: &'r S::Quest) -> QuestEntryRef<'r> {
        entry::quest(record)
    }
    fn run(&self, _: usize) -> bool {
        true
    }
    fn observe(&self, run: &mut bool, e: &QuestEntryRef<'_>) {
        *run &= self.resolve.quest(e);
    }
    fn holds(&self, head: &bool, tail: Option<&bool>) -> bool {
        *head && tail.is_none_or(|t| *t)
    }
    fn check(&self, entries: &[QuestEntry]) -> Result<(), Rejection> {
        check::quests(entries, self.players, self.zones)
    }
}

impl<S: Schema, St: State> Save<S, St> {
    /// The same save at state `Next`. Only the steps below call it, each
    /// after its own work; a migration calls it to reach a step its own
    /// gates have proven is the next one.
    pub(crate) fn advance<Next: State>(self) -> Save<S, Next> {
        Save {
            writer: self.writer,
            store: self.store,
            shard: self.shard,
            epoch: self.epoch,
            fence: self.fence,
            key: self.key,
            player_ids: self.player_ids,
            zone_ids: self.zone_ids,
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
        Self::begin_at(authority.origin(), authority.shapes)
    }

    /// A save of `S` for `origin`, whose header carries `shapes`, the
    /// shapes of `S`'s record types.
    pub(crate) fn begin_at(origin: Origin, shapes: [&'static Shape; 5]) -> Self {
        // Does not compile for a schema whose name is longer than a bundle
        // may hold.
        let () = NameFits::<S>::PROOF;
        let header = Header::new(
            origin.shard,
            origin.epoch,
            origin.fence,
            (S::NAME, S::VERSION),
            shapes,
        );
        Save {
            writer: BundleWriter::begin(&header),
            store: origin.store,
            shard: origin.shard,
            epoch: origin.epoch,
            fence: origin.fence,
            key: origin.key,
            player_ids: Vec::new(),
            zone_ids: Vec::new(),
            _state: PhantomData,
        }
    }

    /// Where this save goes: what another save for the same commit starts
    /// from.
    pub(crate) fn origin(&self) -> Origin {
        Origin {
            store: self.store,
            shard: self.shard,
            epoch: self.epoch,
            fence: self.fence,
            key: self.key.clone(),
        }
    }
}

// The steps are defined on every state and gated: a step out of order,
// skipped or repeated is a compile error in the crate's own words, naming
// the next step (see `gate`).
impl<S: Schema, St: State> Save<S, St> {
    /// Step 1 of 5: Player Identity and PlayerSave. Only at `Start`.
    ///
    /// # Errors
    /// `E-DUPLICATE-ID` if two players share an id; `E-ENCODE` if a record
    /// fails to serialize; `E-RECORD-ROUNDTRIP` if one does not survive its
    /// own encoding. Either way the save is gone.
    pub fn players<'r>(
        mut self,
        records: impl IntoIterator<Item = &'r S::Player>,
    ) -> Result<Save<S, PlayerDone>, Rejection>
    where
        St: gate::SaveStepPlayers<S>,
    {
        let records: Vec<&S::Player> = records.into_iter().collect();
        crate::trace::span!(
            "save_step",
            system = "player",
            shard = self.shard.0,
            epoch = self.epoch.0,
            records = records.len()
        );
        self.writer.section(&Players::<S>(PhantomData), &records)?;
        self.player_ids = self.writer.last_index(System::Player)?;
        Ok(self.advance())
    }

    /// Step 2 of 5: world structural state and zone composition. Only at
    /// `PlayerDone`.
    ///
    /// # Errors
    /// `E-DUPLICATE-ID`, `E-ENCODE`, `E-RECORD-ROUNDTRIP`; the save is gone.
    pub fn world<'r>(
        mut self,
        records: impl IntoIterator<Item = &'r S::World>,
    ) -> Result<Save<S, WorldDone>, Rejection>
    where
        St: gate::SaveStepWorld<S>,
    {
        let records: Vec<&S::World> = records.into_iter().collect();
        crate::trace::span!(
            "save_step",
            system = "world",
            shard = self.shard.0,
            epoch = self.epoch.0,
            records = records.len()
        );
        self.writer.section(&Zones::<S>(PhantomData), &records)?;
        self.zone_ids = self.writer.last_index(System::World)?;
        Ok(self.advance())
    }

    /// Step 3 of 5: NPC persisted state, only at `WorldDone`. Every NPC's
    /// zone must be a zone saved in step 2.
    ///
    /// # Errors
    /// `E-DUPLICATE-ID`, `E-DANGLING-REF` (npc→zone), `E-ENCODE`,
    /// `E-RECORD-ROUNDTRIP`; the save is gone.
    pub fn npcs<'r>(
        mut self,
        records: impl IntoIterator<Item = &'r S::Npc>,
    ) -> Result<Save<S, NpcDone>, Rejection>
    where
        St: gate::SaveStepNpcs<S>,
    {
        let records: Vec<&S::Npc> = records.into_iter().collect();
        crate::trace::span!(
            "save_step",
            system = "npc",
            shard = self.shard.0,
            epoch = self.epoch.0,
            records = records.len()
        );
        let section = Npcs::<S> {
            zones: &self.zone_ids,
            resolve: check::Resolve::new(&[], &self.zone_ids),
            _schema: PhantomData,
        };
        self.writer.section(&section, &records)?;
        Ok(self.advance())
    }

    /// Step 4 of 5: item persisted state, only at `NpcDone`. Every
    /// location and owner must
    /// resolve to a zone or player saved earlier, or (for containers) to an
    /// item of this step; containment must be acyclic.
    ///
    /// # Errors
    /// `E-DUPLICATE-ID`, `E-DANGLING-REF` (item→zone, item→player,
    /// item→item), `E-CONTAINMENT-CYCLE`, `E-ENCODE`, `E-RECORD-ROUNDTRIP`;
    /// the save is gone.
    pub fn items<'r>(
        mut self,
        records: impl IntoIterator<Item = &'r S::Item>,
    ) -> Result<Save<S, ItemDone>, Rejection>
    where
        St: gate::SaveStepItems<S>,
    {
        let records: Vec<&S::Item> = records.into_iter().collect();
        crate::trace::span!(
            "save_step",
            system = "item",
            shard = self.shard.0,
            epoch = self.epoch.0,
            records = records.len()
        );
        let section = Items::<S> {
            players: &self.player_ids,
            zones: &self.zone_ids,
            _schema: PhantomData,
        };
        self.writer.section(&section, &records)?;
        Ok(self.advance())
    }

    /// Step 5 of 5: player-owned quest state, only at `ItemDone`. Every
    /// owner and every zone of
    /// the world context must have been saved earlier.
    ///
    /// # Errors
    /// `E-DUPLICATE-ID`, `E-DANGLING-REF` (quest→player, quest→zone),
    /// `E-ENCODE`, `E-RECORD-ROUNDTRIP`; the save is gone.
    pub fn quests<'r>(
        mut self,
        records: impl IntoIterator<Item = &'r S::Quest>,
    ) -> Result<Save<S, QuestDone>, Rejection>
    where
        St: gate::SaveStepQuests<S>,
    {
        let records: Vec<&S::Quest> = records.into_iter().collect();
        crate::trace::span!(
            "save_step",
            system = "quest",
            shard = self.shard.0,
            epoch = self.epoch.0,
            records = records.len()
        );
        let section = Quests::<S> {
            players: &self.player_ids,
            zones: &self.zone_ids,
            resolve: check::Resolve::new(&self.player_ids, &self.zone_ids),
            _schema: PhantomData,
        };
        self.writer.section(&section, &records)?;
        Ok(self.advance())
    }

    /// Closes the bundle: frame length and digest. The result is the only
    /// value a [`Store`](crate::Store) accepts. Only at `QuestDone`.
    #[must_use]
    pub fn seal(self) -> Sealed<S>
    where
        St: gate::SaveStepSeal<S>,
    {
        crate::trace::span!("seal", shard = self.shard.0, epoch = self.epoch.0);
        let (bytes, digest) = self.writer.finish(self.key.as_ref());
        crate::trace::event!(bytes = bytes.len(), "sealed");
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
#[cfg_attr(feature = "reference", doc = "```")]
#[cfg_attr(not(feature = "reference"), doc = "```ignore")]
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
        #[diagnostic::do_not_recommend]
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
