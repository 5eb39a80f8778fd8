//! The restore chain: the latest committed epoch, verified in full by the
//! store that loaded it, restored in the one order of Stage 21.2 §6 and
//! kept dormant until the server activates all five systems at once.
//!
//! ```text
//! Restore::open(loaded, &authority)?   Restore<S, Start>
//!   .players()                         Restore<S, PlayerDone>
//!   .world()                           Restore<S, WorldDone>
//!   .npcs()                            Restore<S, NpcDone>
//!   .items()                           Restore<S, ItemDone>
//!   .quests()                          Restore<S, QuestDone>
//!   .activate(&authority)?             Activated<S>   ← all five systems, together
//! ```
//!
//! Nothing is handed out before the restore is complete, and then
//! everything is (Stage 21.2 §8: no partial restore); no integrator code
//! runs on the records before activation (Stage 21.2 §6: restore must not
//! execute or infer runtime logic); nothing is defaulted or repaired.

use core::fmt;
use core::marker::PhantomData;

use crate::authority::ServerAuthority;
use crate::gate::{self, RestoreComplete};
use crate::ids::{Epoch, Fence, ShardId};
use crate::schema::Schema;
use crate::state::{ItemDone, NpcDone, PlayerDone, QuestDone, Start, State, WorldDone};
use crate::store::Loaded;
use crate::typed_reader::Opened;
use crate::verify::Summary;

/// The latest committed epoch of a shard being restored, system by system,
/// at state `St`.
///
/// ```text
/// Restore::open(loaded, &authority)?   Restore<S, Start>
///   .players()                         Restore<S, PlayerDone>
///   .world()                           Restore<S, WorldDone>
///   .npcs()                            Restore<S, NpcDone>
///   .items()                           Restore<S, ItemDone>
///   .quests()                          Restore<S, QuestDone>
///   .activate(&authority)?             Activated<S>   ← all five systems, together
/// ```
///
/// The type parameters are inferred: you write `Restore::open(..)` and call
/// the steps in order. Calling a step out of order, skipping one, or
/// activating before the last step does not compile, and the compiler's
/// message names the next step.
///
/// While the chain runs, the restored systems are **dormant**: the records
/// are inside the chain, where no code can read, change or act on them.
/// [`activate`](Restore::activate) releases all five together, or none.
///
#[cfg_attr(feature = "reference", doc = "```")]
#[cfg_attr(not(feature = "reference"), doc = "```ignore")]
/// use caelmor_persist::{MemStore, Restore, Save, ShardId};
/// use caelmor_persist::reference::{Reference, ShardSpec};
///
/// # let shard = ShardSpec::small().generate(1);
/// # let mut store = MemStore::<Reference>::new(ShardId(1));
/// # let authority = store.claim()?;
/// # let sealed = Save::begin(&authority).players(&shard.players)?.world(&shard.zones)?
/// #     .npcs(&shard.npcs)?.items(&shard.items)?.quests(&shard.quests)?.seal();
/// # store.commit(sealed, &authority)?;
/// let loaded = store.load_latest()?.expect("one epoch was committed");
/// let active = Restore::open(loaded, &authority)?
///     .players()
///     .world()
///     .npcs()
///     .items()
///     .quests()
///     .activate(&authority)?;
/// assert_eq!(active.players, shard.players);
/// assert_eq!(active.quests, shard.quests);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "a restore does nothing until it is completed and activated"]
pub struct Restore<S: Schema, St: State> {
    /// The authority that opened it: the only one that may activate it.
    authority: u64,
    opened: Opened<S>,
    _state: PhantomData<St>,
}

impl<S: Schema, St: State> fmt::Debug for Restore<S, St> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Restore")
            .field("schema", &S::NAME)
            .field("state", &core::any::type_name::<St>())
            .field("shard", &self.opened.summary.shard)
            .field("epoch", &self.opened.summary.epoch)
            .finish_non_exhaustive()
    }
}

impl<S: Schema, St: State> Restore<S, St> {
    /// Restores one more system: it stays dormant inside the chain.
    fn advance<Next: State>(self) -> Restore<S, Next> {
        Restore {
            authority: self.authority,
            opened: self.opened,
            _state: PhantomData,
        }
    }

    /// What the verified bundle holds: shard, epoch, fence, sizes, digest.
    #[must_use]
    pub fn summary(&self) -> &Summary {
        &self.opened.summary
    }

    /// The epoch being restored.
    #[must_use]
    pub fn epoch(&self) -> Epoch {
        self.opened.summary.epoch
    }

    /// The shard being restored.
    #[must_use]
    pub fn shard(&self) -> ShardId {
        self.opened.summary.shard
    }

    /// Activates the completed restore: all five systems, together
    /// (Stage 21.2 §6: restored systems remain inactive until explicitly
    /// activated by the server; §8: no partial restore).
    ///
    /// Exists only once all five steps are done: on any earlier state the
    /// call does not compile, and the compiler's message names the next step.
    ///
    /// # Errors
    /// `E-ACTIVATE-AUTHORITY` if `authority` is not the one that opened this
    /// restore; `E-ACTIVATE-FENCED` if a later claim has superseded it since.
    /// Either way nothing is activated, and the restore is gone.
    pub fn activate(self, authority: &ServerAuthority<S>) -> Result<Activated<S>, ActivationError>
    where
        St: RestoreComplete<S>,
    {
        crate::trace::span!(
            "activate",
            shard = self.opened.summary.shard.0,
            epoch = self.opened.summary.epoch.0,
            fence = authority.fence.0
        );
        if authority.token != self.authority {
            return Err(ActivationError::ForeignAuthority);
        }
        if !authority.is_current() {
            return Err(ActivationError::Fenced {
                fence: authority.fence,
            });
        }
        let Opened {
            summary,
            players,
            zones,
            npcs,
            items,
            quests,
        } = self.opened;
        Ok(Activated {
            summary,
            players,
            zones,
            npcs,
            items,
            quests,
        })
    }
}

impl<S: Schema> Restore<S, Start> {
    /// Starts restoring what `loaded` holds, with the authority of the store
    /// that loaded it.
    ///
    /// The bundle was verified in full when the store loaded it (every rule
    /// of the [format](crate::format), every record decoded and checked
    /// against the structural index); what is checked here is who may
    /// restore it (Stage 21.2 §9.6: server authority): the authority the
    /// same store minted, whose claim was the shard's current one when the
    /// epoch was loaded, and still is.
    ///
    /// # Errors
    /// `E-RESTORE-FOREIGN` if another store loaded it; `E-RESTORE-FENCED`
    /// if the authority's claim is not the one the shard had at the load,
    /// or has been superseded since.
    pub fn open(loaded: Loaded<S>, authority: &ServerAuthority<S>) -> Result<Self, RestoreError> {
        let (store, fence, opened) = loaded.into_parts();
        crate::trace::span!(
            "restore",
            shard = opened.summary.shard.0,
            epoch = opened.summary.epoch.0,
            fence = fence.0
        );
        if store != authority.store {
            return Err(RestoreError::ForeignStore);
        }
        if fence != authority.fence || !authority.is_current() {
            return Err(RestoreError::Fenced {
                loaded_under: fence,
                authority: authority.fence,
            });
        }
        Ok(Restore {
            authority: authority.token,
            opened,
            _state: PhantomData,
        })
    }
}

// The steps are defined on every state and gated: a step out of order is a
// compile error in the crate's own words, naming the next step (see `gate`).
impl<S: Schema, St: State> Restore<S, St> {
    /// Step 1 of 5: Player Identity and PlayerSave, restored, dormant.
    /// Only at `Start`.
    pub fn players(self) -> Restore<S, PlayerDone>
    where
        St: gate::RestoreStepPlayers<S>,
    {
        self.advance()
    }

    /// Step 2 of 5: the world's zones, restored, dormant. Only at
    /// `PlayerDone`.
    pub fn world(self) -> Restore<S, WorldDone>
    where
        St: gate::RestoreStepWorld<S>,
    {
        self.advance()
    }

    /// Step 3 of 5: NPC state, restored, dormant. Only at `WorldDone`.
    pub fn npcs(self) -> Restore<S, NpcDone>
    where
        St: gate::RestoreStepNpcs<S>,
    {
        self.advance()
    }

    /// Step 4 of 5: item state, restored, dormant. Only at `NpcDone`.
    pub fn items(self) -> Restore<S, ItemDone>
    where
        St: gate::RestoreStepItems<S>,
    {
        self.advance()
    }

    /// Step 5 of 5: quest state, restored, dormant. Only at `ItemDone`.
    pub fn quests(self) -> Restore<S, QuestDone>
    where
        St: gate::RestoreStepQuests<S>,
    {
        self.advance()
    }
}

/// All five systems of a completed restore, active: what the server runs.
///
/// It exists only as the result of [`Restore::activate`], so holding one
/// proves that the whole epoch was restored in the canon's order and
/// activated by the shard's current authority. Each vector is in canonical
/// order (by id), exactly as saved.
#[non_exhaustive]
pub struct Activated<S: Schema> {
    /// What the restored bundle held: shard, epoch, fence, sizes, digest.
    pub summary: Summary,
    /// Player Identity and PlayerSave.
    pub players: Vec<S::Player>,
    /// The world's zones.
    pub zones: Vec<S::World>,
    /// NPC state.
    pub npcs: Vec<S::Npc>,
    /// Item state.
    pub items: Vec<S::Item>,
    /// Quest state.
    pub quests: Vec<S::Quest>,
}

impl<S: Schema> fmt::Debug for Activated<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Activated")
            .field("schema", &S::NAME)
            .field("epoch", &self.summary.epoch)
            .field("players", &self.players.len())
            .field("zones", &self.zones.len())
            .field("npcs", &self.npcs.len())
            .field("items", &self.items.len())
            .field("quests", &self.quests.len())
            .finish()
    }
}

/// Why a restore could not start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RestoreError {
    /// The epoch was loaded by another store than the one that minted the
    /// authority.
    #[error(
        "E-RESTORE-FOREIGN: this epoch was loaded by another store; restore it with the authority of the store that loaded it"
    )]
    ForeignStore,
    /// The authority is not the shard's current one: it was superseded
    /// before the load, or since.
    #[error(
        "E-RESTORE-FENCED: the epoch was loaded under {loaded_under}, the authority holds {authority}, and only the shard's current claim may restore it"
    )]
    Fenced {
        /// The shard's fence when the epoch was loaded.
        loaded_under: Fence,
        /// The authority's fence.
        authority: Fence,
    },
}

impl RestoreError {
    /// The stable code.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            RestoreError::ForeignStore => "E-RESTORE-FOREIGN",
            RestoreError::Fenced { .. } => "E-RESTORE-FENCED",
        }
    }
}

/// Why an activation was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ActivationError {
    /// An authority other than the one that opened the restore.
    #[error("E-ACTIVATE-AUTHORITY: only the authority that opened the restore can activate it")]
    ForeignAuthority,
    /// The authority was superseded by a later claim after the restore
    /// began: another server owns the shard now.
    #[error(
        "E-ACTIVATE-FENCED: {fence} has been superseded by a later claim; another server owns the shard now"
    )]
    Fenced {
        /// The superseded authority's fence.
        fence: Fence,
    },
}

impl ActivationError {
    /// The stable code.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            ActivationError::ForeignAuthority => "E-ACTIVATE-AUTHORITY",
            ActivationError::Fenced { .. } => "E-ACTIVATE-FENCED",
        }
    }
}
