//! The restore chain: verify everything, then hand out the five sections in
//! the one order of Stage 21.2 §6, dormant until the server activates them.
//!
//! ```text
//! Restore::open(loaded, &authority)?   Restore<S, Start>      ← whole bundle verified here
//!   .players()                         Restore<S, PlayerDone> + Dormant<Vec<S::Player>>
//!   .world()                           Restore<S, WorldDone>  + Dormant<Vec<S::World>>
//!   .npcs()                            Restore<S, NpcDone>    + Dormant<Vec<S::Npc>>
//!   .items()                           Restore<S, ItemDone>   + Dormant<Vec<S::Item>>
//!   .quests()                          Restore<S, QuestDone>  + Dormant<Vec<S::Quest>>
//!   .activate(&authority)?             Activation<S>          ← turns Dormant<T> into T
//! ```
//!
//! Nothing is handed out before everything is verified (Stage 21.2 §6, §8:
//! no partial restore, no restore against missing dependencies). Nothing is
//! executed, defaulted or repaired: records come back exactly as they were
//! saved (Stage 21.2 §6: restore must not execute or infer runtime logic).

use core::fmt;
use core::marker::PhantomData;

use crate::authority::{ServerAuthority, unique_token};
use crate::format::typed_reader;
use crate::gate::RestoreComplete;
use crate::ids::{Epoch, ShardId};
use crate::rejection::Rejection;
use crate::schema::Schema;
use crate::state::{ItemDone, NpcDone, PlayerDone, QuestDone, Start, State, WorldDone};
use crate::store::Loaded;
use crate::verify::{Summary, VerifyOptions};

/// A verified bundle being handed out section by section, at state `St`.
///
/// ```text
/// Restore::open(loaded, &authority)?   Restore<S, Start>      ← whole bundle verified here
///   .players()                         Restore<S, PlayerDone> + Dormant<Vec<S::Player>>
///   .world()                           Restore<S, WorldDone>  + Dormant<Vec<S::World>>
///   .npcs()                            Restore<S, NpcDone>    + Dormant<Vec<S::Npc>>
///   .items()                           Restore<S, ItemDone>   + Dormant<Vec<S::Item>>
///   .quests()                          Restore<S, QuestDone>  + Dormant<Vec<S::Quest>>
///   .activate(&authority)?             Activation<S>          ← turns Dormant<T> into T
/// ```
///
/// [`Restore::open`] checks the entire bundle — every rule of the
/// [format](crate::format), then every record against the structural index —
/// before the first step can run. The steps then cannot fail: each moves one
/// section out as a [`Dormant`] value. Only the completed chain can be
/// activated.
///
/// ```
/// use caelmor_persist::{MemStore, Restore, Save, ShardId, Store};
/// use caelmor_persist::reference::{Reference, ShardSpec};
///
/// # let shard = ShardSpec::small().generate(1);
/// # let mut store = MemStore::<Reference>::new(ShardId(1));
/// # let mut authority = store.claim()?;
/// # let sealed = Save::begin(&authority).players(&shard.players)?.world(&shard.zones)?
/// #     .npcs(&shard.npcs)?.items(&shard.items)?.quests(&shard.quests)?.seal();
/// # store.commit(sealed, &mut authority)?;
/// let loaded = store.load_latest()?.expect("one epoch was committed");
/// let (restore, players) = Restore::open(loaded, &authority)?.players();
/// let (restore, zones) = restore.world();
/// let (restore, npcs) = restore.npcs();
/// let (restore, items) = restore.items();
/// let (restore, quests) = restore.quests();
///
/// let active = restore.activate(&authority)?;
/// let players = active.activate(players)?;
/// assert_eq!(players, shard.players);
/// # let _ = (zones, npcs, items, quests);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Restore<S: Schema, St: State> {
    token: u64,
    authority: u64,
    summary: Summary,
    player_section: Vec<S::Player>,
    world_section: Vec<S::World>,
    npc_section: Vec<S::Npc>,
    item_section: Vec<S::Item>,
    quest_section: Vec<S::Quest>,
    _state: PhantomData<St>,
}

impl<S: Schema, St: State> fmt::Debug for Restore<S, St> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Restore")
            .field("schema", &S::NAME)
            .field("state", &core::any::type_name::<St>())
            .field("shard", &self.summary.shard)
            .field("epoch", &self.summary.epoch)
            .finish_non_exhaustive()
    }
}

impl<S: Schema, St: State> Restore<S, St> {
    fn advance<Next: State>(self) -> Restore<S, Next> {
        Restore {
            token: self.token,
            authority: self.authority,
            summary: self.summary,
            player_section: self.player_section,
            world_section: self.world_section,
            npc_section: self.npc_section,
            item_section: self.item_section,
            quest_section: self.quest_section,
            _state: PhantomData,
        }
    }

    /// Moves one section out, dormant and bound to this restore, and
    /// advances the state.
    fn step<Next: State, T>(
        mut self,
        section: impl FnOnce(&mut Self) -> T,
    ) -> (Restore<S, Next>, Dormant<T>) {
        let value = section(&mut self);
        let dormant = Dormant {
            value,
            restore: self.token,
        };
        (self.advance(), dormant)
    }

    /// What the verified bundle holds: shard, epoch, fence, sizes, digest.
    #[must_use]
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// The epoch being restored.
    #[must_use]
    pub fn epoch(&self) -> Epoch {
        self.summary.epoch
    }

    /// The shard being restored.
    #[must_use]
    pub fn shard(&self) -> ShardId {
        self.summary.shard
    }

    /// Turns the completed restore into the [`Activation`] that releases its
    /// dormant values (Stage 21.2 §6: restored systems remain inactive until
    /// explicitly activated by the server).
    ///
    /// Exists only once all five steps are done: on any earlier state the
    /// call does not compile, and the compiler's message names the next step.
    ///
    /// # Errors
    /// `E-ACTIVATE-AUTHORITY` if `authority` is not the one that opened this
    /// restore.
    pub fn activate(self, authority: &ServerAuthority<S>) -> Result<Activation<S>, ActivationError>
    where
        St: RestoreComplete<S>,
    {
        if authority.token != self.authority {
            return Err(ActivationError::ForeignAuthority);
        }
        Ok(Activation {
            restore: self.token,
            _schema: PhantomData,
        })
    }
}

impl<S: Schema> Restore<S, Start> {
    /// Verifies the whole bundle the store loaded, then starts the chain.
    ///
    /// Checked, in the order of the [format specification](crate::format):
    /// framing, digest (with the store's key), header, section table, every
    /// section's stamp (same shard, same epoch), canonical encoding and
    /// order, unique ids, every reference, item containment; then the schema
    /// name and version, the authority's shard and the epoch the store says
    /// it loaded; then every record decodes canonically and reproduces the
    /// structural index.
    ///
    /// A valid bundle is read in one pass per section, with the item
    /// section's records decoded on a second core; a bundle that breaks any
    /// rule is then read again rule by rule, so that the rejection is always
    /// the first rule broken, as the specification orders them.
    ///
    /// # Errors
    /// The first [`Rejection`]; nothing of the bundle is handed out.
    pub fn open(mut loaded: Loaded, authority: &ServerAuthority<S>) -> Result<Self, Rejection> {
        let opened = match loaded.take_opened::<S>(authority.key.as_ref(), authority.shard) {
            // The store read this very bundle under the same schema, key,
            // shard and epoch while loading it: nothing is left to check.
            Some(opened) => opened,
            None => {
                let options = VerifyOptions::for_schema::<S>(
                    authority.shard,
                    loaded.epoch(),
                    authority.key.as_ref(),
                );
                typed_reader::read::<S>(loaded.bytes(), &options)?
            }
        };
        Ok(Restore {
            token: unique_token(),
            authority: authority.token,
            summary: opened.summary,
            player_section: opened.players,
            world_section: opened.zones,
            npc_section: opened.npcs,
            item_section: opened.items,
            quest_section: opened.quests,
            _state: PhantomData,
        })
    }

    /// Step 1 of 5: Player Identity and PlayerSave, dormant.
    #[must_use]
    pub fn players(self) -> (Restore<S, PlayerDone>, Dormant<Vec<S::Player>>) {
        self.step(|r| core::mem::take(&mut r.player_section))
    }
}

impl<S: Schema> Restore<S, PlayerDone> {
    /// Step 2 of 5: the world's zones, dormant.
    #[must_use]
    pub fn world(self) -> (Restore<S, WorldDone>, Dormant<Vec<S::World>>) {
        self.step(|r| core::mem::take(&mut r.world_section))
    }
}

impl<S: Schema> Restore<S, WorldDone> {
    /// Step 3 of 5: NPC state, dormant.
    #[must_use]
    pub fn npcs(self) -> (Restore<S, NpcDone>, Dormant<Vec<S::Npc>>) {
        self.step(|r| core::mem::take(&mut r.npc_section))
    }
}

impl<S: Schema> Restore<S, NpcDone> {
    /// Step 4 of 5: item state, dormant.
    #[must_use]
    pub fn items(self) -> (Restore<S, ItemDone>, Dormant<Vec<S::Item>>) {
        self.step(|r| core::mem::take(&mut r.item_section))
    }
}

impl<S: Schema> Restore<S, ItemDone> {
    /// Step 5 of 5: quest state, dormant.
    #[must_use]
    pub fn quests(self) -> (Restore<S, QuestDone>, Dormant<Vec<S::Quest>>) {
        self.step(|r| core::mem::take(&mut r.quest_section))
    }
}

/// Restored state that is not yet active (Stage 21.2 §6).
///
/// There is no accessor, no `Deref`, no `into_inner`: the only way to the
/// content is [`Activation::activate`], which exists only once the whole
/// restore is complete and only for values of the same restore. While
/// dormant, a value can be rebuilt with [`map`](Dormant::map) — for
/// instance into the server's own indexes — without being activated.
pub struct Dormant<T> {
    value: T,
    restore: u64,
}

impl<T> Dormant<T> {
    /// Rebuilds the dormant value; the result stays dormant and bound to the
    /// same restore.
    ///
    /// `f` is a plain function, not a closure: it cannot capture anything,
    /// so the content cannot slip out through it into the running server by
    /// accident. (Code determined to smuggle it out through a global or a
    /// panic payload can; that is a deliberate bypass, not a misuse the
    /// types can stop.)
    ///
    /// ```
    /// # use caelmor_persist::{MemStore, Restore, Save, ShardId, Store};
    /// # use caelmor_persist::reference::{Reference, ShardSpec};
    /// # let shard = ShardSpec::small().generate(1);
    /// # let mut store = MemStore::<Reference>::new(ShardId(1));
    /// # let mut authority = store.claim()?;
    /// # let sealed = Save::begin(&authority).players(&shard.players)?.world(&shard.zones)?
    /// #     .npcs(&shard.npcs)?.items(&shard.items)?.quests(&shard.quests)?.seal();
    /// # store.commit(sealed, &mut authority)?;
    /// # let loaded = store.load_latest()?.unwrap();
    /// let (restore, players) = Restore::open(loaded, &authority)?.players();
    /// let count = players.map(|p| p.len());
    /// # let (r, _) = restore.world(); let (r, _) = r.npcs(); let (r, _) = r.items(); let (r, _) = r.quests();
    /// # let active = r.activate(&authority)?;
    /// # assert_eq!(active.activate(count)?, shard.players.len());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn map<U>(self, f: fn(T) -> U) -> Dormant<U> {
        Dormant {
            value: f(self.value),
            restore: self.restore,
        }
    }
}

impl<T> fmt::Debug for Dormant<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dormant")
            .field("type", &core::any::type_name::<T>())
            .finish_non_exhaustive()
    }
}

/// The server's activation of one completed restore: the only way to turn
/// that restore's [`Dormant`] values into their content.
pub struct Activation<S: Schema> {
    restore: u64,
    _schema: PhantomData<fn() -> S>,
}

impl<S: Schema> Activation<S> {
    /// Releases a dormant value of the same restore.
    ///
    /// # Errors
    /// `E-ACTIVATE-FOREIGN` if the value came from another restore: mixing
    /// sections of two restores would mix two points in time.
    pub fn activate<T>(&self, dormant: Dormant<T>) -> Result<T, ActivationError> {
        if dormant.restore == self.restore {
            Ok(dormant.value)
        } else {
            Err(ActivationError::ForeignDormant)
        }
    }
}

impl<S: Schema> fmt::Debug for Activation<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Activation")
            .field("schema", &S::NAME)
            .finish_non_exhaustive()
    }
}

/// Why an activation was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ActivationError {
    /// A dormant value from another restore.
    #[error("E-ACTIVATE-FOREIGN: this dormant value belongs to another restore")]
    ForeignDormant,
    /// An authority other than the one that opened the restore.
    #[error("E-ACTIVATE-AUTHORITY: only the authority that opened the restore can activate it")]
    ForeignAuthority,
}

impl ActivationError {
    /// The stable code.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            ActivationError::ForeignDormant => "E-ACTIVATE-FOREIGN",
            ActivationError::ForeignAuthority => "E-ACTIVATE-AUTHORITY",
        }
    }
}
