//! Traits that exist only so that a forbidden call fails to compile with
//! the crate's own words, naming the next legal step.
//!
//! A method that exists on one state only fails with E0599 ("no method named
//! …"), whose text cannot be customised. So every step of the save, restore
//! and migration chains — and the terminal calls, committing a save and
//! activating a restore — is
//! defined on every state and bounded by a gate trait. The ready state
//! implements the gate; every other state implements it only under a bound
//! nobody can satisfy, a "what next" trait of that state whose
//! `#[diagnostic::on_unimplemented]` message is what the compiler prints:
//!
//! ```text
//! error[E0277]: this save is at `Start`: its next step is .players(..)
//! ```
//!
//! Committing is the exception: its unsatisfiable impls (on the unsealed
//! `Save` states) carry `#[diagnostic::do_not_recommend]`, so the compiler
//! says that only a `Sealed` bundle can be committed and points at it,
//! instead of listing the never-committable states. Every gate also has a private supertrait implemented exactly like it, so
//! that a crate cannot implement a gate for its own schema (coherence would
//! otherwise accept `impl SaveStepWorld<Mine> for Start`, having proven the
//! crate's impl never applies to `Mine`).
//!
//! You never name these traits; the module is public only because the
//! bounds of public methods name them.

use crate::migrate::Migrate;
use crate::restore::Restore;
use crate::save::Save;
use crate::schema::Schema;
use crate::state::{ItemDone, NpcDone, PlayerDone, QuestDone, Start, WorldDone};

pub(crate) mod sealed {
    /// Implemented only by this crate's committable types.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` cannot be made committable: only a `Sealed` bundle is, and the set is closed",
        label = "not one of caelmor-persist's own types"
    )]
    pub trait Sealed {}
    /// Implemented by nothing: the supertrait of every "what next" trait,
    /// which makes them impossible to implement, even for a foreign schema.
    #[diagnostic::on_unimplemented(
        message = "the save and restore chains are closed: their gates cannot be implemented outside caelmor-persist, for any schema",
        label = "a gate of the chain"
    )]
    pub trait Never<S> {}
    /// Implemented exactly where a gate is, for one gate `G`: ready states
    /// unconditionally, the others under the same never-satisfied bound.
    #[diagnostic::on_unimplemented(
        message = "the save and restore chains are closed: `{Self}` cannot be given a step outside caelmor-persist",
        label = "a gate of the chain"
    )]
    pub trait Opens<S, G> {}
    /// [`Opens`] for the gates of a migration from `Old` to `New`: a trait
    /// of their own, so that they stay out of the "other types implement"
    /// lists of the save and restore chains' errors.
    #[diagnostic::on_unimplemented(
        message = "the migration chain is closed: `{Self}` cannot be given a step outside caelmor-persist",
        label = "a gate of the migration chain"
    )]
    pub trait Migrates<Old, New, G> {}
}

/// Names one gate in [`sealed::Opens`].
pub(crate) mod tags {
    macro_rules! tags {
        ($($name:ident),*) => { $(
            #[derive(Debug)]
            pub enum $name {}
        )* };
    }
    tags!(
        Commit,
        Activate,
        SavePlayers,
        SaveWorld,
        SaveNpcs,
        SaveItems,
        SaveQuests,
        SaveSeal,
        RestorePlayers,
        RestoreWorld,
        RestoreNpcs,
        RestoreItems,
        RestoreQuests,
        MigratePlayers,
        MigrateWorld,
        MigrateNpcs,
        MigrateItems,
        MigrateQuests,
        MigrateSeal
    );
}

/// A value a [`Store`](crate::Store) can commit: only
/// [`Sealed`](crate::Sealed) is.
#[diagnostic::on_unimplemented(
    message = "only a `Sealed<{S}>` bundle can be committed to this store, and `{Self}` is not one",
    label = "not a sealed bundle of this store's schema",
    note = "a save is committable only once all five systems are saved and sealed: .players(..) → .world(..) → .npcs(..) → .items(..) → .quests(..) → .seal()"
)]
pub trait Committable<S: Schema>: sealed::Sealed + sealed::Opens<S, tags::Commit> {
    #[doc(hidden)]
    fn into_sealed(self) -> crate::Sealed<S>;
}

/// A restore state that may be activated: only [`QuestDone`].
#[diagnostic::on_unimplemented(
    message = "a restore can be activated only after all five systems are restored; `{Self}` is not `QuestDone`",
    label = "restore not complete",
    note = "Stage 21.2 §6: restored systems stay inactive until the whole restore is done: .players() → .world() → .npcs() → .items() → .quests() → .activate(..)"
)]
pub trait RestoreComplete<S: Schema>:
    crate::state::State + sealed::Opens<S, tags::Activate>
{
}

macro_rules! what_next {
    ($(#[$doc:meta])* $name:ident, $message:literal, $label:literal) => {
        $(#[$doc])*
        #[diagnostic::on_unimplemented(message = $message, label = $label)]
        pub trait $name<S>: sealed::Never<S> {
            #[doc(hidden)]
            fn absurd<T>() -> T;
        }
    };
}

// What a save needs next, in the words of a commit.
what_next!(
    /// A save at `Start` is missing every step.
    SaveNeedsPlayers,
    "a save can be committed only once it is sealed: call .players(..) next, then .world(..), .npcs(..), .items(..), .quests(..) and .seal()",
    "this save is at `Start`, not sealed"
);
what_next!(
    /// A save at `PlayerDone` is missing the world step.
    SaveNeedsWorld,
    "a save can be committed only once it is sealed: call .world(..) next, then .npcs(..), .items(..), .quests(..) and .seal()",
    "this save is at `PlayerDone`, not sealed"
);
what_next!(
    /// A save at `WorldDone` is missing the NPC step.
    SaveNeedsNpcs,
    "a save can be committed only once it is sealed: call .npcs(..) next, then .items(..), .quests(..) and .seal()",
    "this save is at `WorldDone`, not sealed"
);
what_next!(
    /// A save at `NpcDone` is missing the item step.
    SaveNeedsItems,
    "a save can be committed only once it is sealed: call .items(..) next, then .quests(..) and .seal()",
    "this save is at `NpcDone`, not sealed"
);
what_next!(
    /// A save at `ItemDone` is missing the quest step.
    SaveNeedsQuests,
    "a save can be committed only once it is sealed: call .quests(..) then .seal()",
    "this save is at `ItemDone`, not sealed"
);
what_next!(
    /// A save at `QuestDone` is complete but not sealed.
    SaveNeedsSeal,
    "a save can be committed only once it is sealed: call .seal() and commit the `Sealed` bundle it returns",
    "this save is at `QuestDone`, not sealed"
);

// What a save needs next, in the words of a step taken out of order.
what_next!(
    /// The next step of a save at `Start`.
    SaveAtStart,
    "this save is at `Start`: its next step is .players(..) (Stage 21.2 §5: players, world, NPCs, items, quests, then .seal())",
    "the next step is .players(..)"
);
what_next!(
    /// The next step of a save at `PlayerDone`.
    SaveAtPlayerDone,
    "this save is at `PlayerDone`: its next step is .world(..) (Stage 21.2 §5: players, world, NPCs, items, quests, then .seal())",
    "the next step is .world(..)"
);
what_next!(
    /// The next step of a save at `WorldDone`.
    SaveAtWorldDone,
    "this save is at `WorldDone`: its next step is .npcs(..) (Stage 21.2 §5: players, world, NPCs, items, quests, then .seal())",
    "the next step is .npcs(..)"
);
what_next!(
    /// The next step of a save at `NpcDone`.
    SaveAtNpcDone,
    "this save is at `NpcDone`: its next step is .items(..) (Stage 21.2 §5: players, world, NPCs, items, quests, then .seal())",
    "the next step is .items(..)"
);
what_next!(
    /// The next step of a save at `ItemDone`.
    SaveAtItemDone,
    "this save is at `ItemDone`: its next step is .quests(..) (Stage 21.2 §5: players, world, NPCs, items, quests, then .seal())",
    "the next step is .quests(..)"
);
what_next!(
    /// The next step of a save at `QuestDone`.
    SaveAtQuestDone,
    "this save has all five systems: its next step is .seal(), and the `Sealed` bundle it returns is what a store commits",
    "the next step is .seal()"
);

// What a restore needs next.
what_next!(
    /// The next step of a restore at `Start`.
    RestoreNeedsPlayers,
    "this restore is at `Start`: its next step is .players() (Stage 21.2 §6: players, world, NPCs, items, quests, then .activate(..))",
    "the next step is .players()"
);
what_next!(
    /// The next step of a restore at `PlayerDone`.
    RestoreNeedsWorld,
    "this restore is at `PlayerDone`: its next step is .world() (Stage 21.2 §6: players, world, NPCs, items, quests, then .activate(..))",
    "the next step is .world()"
);
what_next!(
    /// The next step of a restore at `WorldDone`.
    RestoreNeedsNpcs,
    "this restore is at `WorldDone`: its next step is .npcs() (Stage 21.2 §6: players, world, NPCs, items, quests, then .activate(..))",
    "the next step is .npcs()"
);
what_next!(
    /// The next step of a restore at `NpcDone`.
    RestoreNeedsItems,
    "this restore is at `NpcDone`: its next step is .items() (Stage 21.2 §6: players, world, NPCs, items, quests, then .activate(..))",
    "the next step is .items()"
);
what_next!(
    /// The next step of a restore at `ItemDone`.
    RestoreNeedsQuests,
    "this restore is at `ItemDone`: its next step is .quests() (Stage 21.2 §6: players, world, NPCs, items, quests, then .activate(..))",
    "the next step is .quests()"
);
what_next!(
    /// The next step of a restore at `QuestDone`.
    RestoreNeedsActivate,
    "this restore has all five systems: its next step is .activate(&authority), which releases them together (Stage 21.2 §6)",
    "the next step is .activate(..)"
);

// Each gate: the trait a step's bound names, implemented for its ready
// state, and for each other state only under that state's "what next"
// bound (never satisfied), with the private supertrait mirrored. The impls
// are written out, one line each, because the compiler quotes the one it
// tried, and a line is clearer to the reader of an error than a macro.

/// The state at which `.players(..)` is a save's next step.
pub trait SaveStepPlayers<S: Schema>:
    crate::state::State + sealed::Opens<S, tags::SavePlayers>
{
}
impl<S: Schema> SaveStepPlayers<S> for Start {}
impl<S: Schema> sealed::Opens<S, tags::SavePlayers> for Start {}
impl<S: Schema> SaveStepPlayers<S> for PlayerDone where Save<S, PlayerDone>: SaveAtPlayerDone<S> {}
impl<S: Schema> sealed::Opens<S, tags::SavePlayers> for PlayerDone where
    Save<S, PlayerDone>: SaveAtPlayerDone<S>
{
}
impl<S: Schema> SaveStepPlayers<S> for WorldDone where Save<S, WorldDone>: SaveAtWorldDone<S> {}
impl<S: Schema> sealed::Opens<S, tags::SavePlayers> for WorldDone where
    Save<S, WorldDone>: SaveAtWorldDone<S>
{
}
impl<S: Schema> SaveStepPlayers<S> for NpcDone where Save<S, NpcDone>: SaveAtNpcDone<S> {}
impl<S: Schema> sealed::Opens<S, tags::SavePlayers> for NpcDone where
    Save<S, NpcDone>: SaveAtNpcDone<S>
{
}
impl<S: Schema> SaveStepPlayers<S> for ItemDone where Save<S, ItemDone>: SaveAtItemDone<S> {}
impl<S: Schema> sealed::Opens<S, tags::SavePlayers> for ItemDone where
    Save<S, ItemDone>: SaveAtItemDone<S>
{
}
impl<S: Schema> SaveStepPlayers<S> for QuestDone where Save<S, QuestDone>: SaveAtQuestDone<S> {}
impl<S: Schema> sealed::Opens<S, tags::SavePlayers> for QuestDone where
    Save<S, QuestDone>: SaveAtQuestDone<S>
{
}
/// The state at which `.world(..)` is a save's next step.
pub trait SaveStepWorld<S: Schema>:
    crate::state::State + sealed::Opens<S, tags::SaveWorld>
{
}
impl<S: Schema> SaveStepWorld<S> for PlayerDone {}
impl<S: Schema> sealed::Opens<S, tags::SaveWorld> for PlayerDone {}
impl<S: Schema> SaveStepWorld<S> for Start where Save<S, Start>: SaveAtStart<S> {}
impl<S: Schema> sealed::Opens<S, tags::SaveWorld> for Start where Save<S, Start>: SaveAtStart<S> {}
impl<S: Schema> SaveStepWorld<S> for WorldDone where Save<S, WorldDone>: SaveAtWorldDone<S> {}
impl<S: Schema> sealed::Opens<S, tags::SaveWorld> for WorldDone where
    Save<S, WorldDone>: SaveAtWorldDone<S>
{
}
impl<S: Schema> SaveStepWorld<S> for NpcDone where Save<S, NpcDone>: SaveAtNpcDone<S> {}
impl<S: Schema> sealed::Opens<S, tags::SaveWorld> for NpcDone where
    Save<S, NpcDone>: SaveAtNpcDone<S>
{
}
impl<S: Schema> SaveStepWorld<S> for ItemDone where Save<S, ItemDone>: SaveAtItemDone<S> {}
impl<S: Schema> sealed::Opens<S, tags::SaveWorld> for ItemDone where
    Save<S, ItemDone>: SaveAtItemDone<S>
{
}
impl<S: Schema> SaveStepWorld<S> for QuestDone where Save<S, QuestDone>: SaveAtQuestDone<S> {}
impl<S: Schema> sealed::Opens<S, tags::SaveWorld> for QuestDone where
    Save<S, QuestDone>: SaveAtQuestDone<S>
{
}
/// The state at which `.npcs(..)` is a save's next step.
pub trait SaveStepNpcs<S: Schema>: crate::state::State + sealed::Opens<S, tags::SaveNpcs> {}
impl<S: Schema> SaveStepNpcs<S> for WorldDone {}
impl<S: Schema> sealed::Opens<S, tags::SaveNpcs> for WorldDone {}
impl<S: Schema> SaveStepNpcs<S> for Start where Save<S, Start>: SaveAtStart<S> {}
impl<S: Schema> sealed::Opens<S, tags::SaveNpcs> for Start where Save<S, Start>: SaveAtStart<S> {}
impl<S: Schema> SaveStepNpcs<S> for PlayerDone where Save<S, PlayerDone>: SaveAtPlayerDone<S> {}
impl<S: Schema> sealed::Opens<S, tags::SaveNpcs> for PlayerDone where
    Save<S, PlayerDone>: SaveAtPlayerDone<S>
{
}
impl<S: Schema> SaveStepNpcs<S> for NpcDone where Save<S, NpcDone>: SaveAtNpcDone<S> {}
impl<S: Schema> sealed::Opens<S, tags::SaveNpcs> for NpcDone where Save<S, NpcDone>: SaveAtNpcDone<S>
{}
impl<S: Schema> SaveStepNpcs<S> for ItemDone where Save<S, ItemDone>: SaveAtItemDone<S> {}
impl<S: Schema> sealed::Opens<S, tags::SaveNpcs> for ItemDone where
    Save<S, ItemDone>: SaveAtItemDone<S>
{
}
impl<S: Schema> SaveStepNpcs<S> for QuestDone where Save<S, QuestDone>: SaveAtQuestDone<S> {}
impl<S: Schema> sealed::Opens<S, tags::SaveNpcs> for QuestDone where
    Save<S, QuestDone>: SaveAtQuestDone<S>
{
}
/// The state at which `.items(..)` is a save's next step.
pub trait SaveStepItems<S: Schema>:
    crate::state::State + sealed::Opens<S, tags::SaveItems>
{
}
impl<S: Schema> SaveStepItems<S> for NpcDone {}
impl<S: Schema> sealed::Opens<S, tags::SaveItems> for NpcDone {}
impl<S: Schema> SaveStepItems<S> for Start where Save<S, Start>: SaveAtStart<S> {}
impl<S: Schema> sealed::Opens<S, tags::SaveItems> for Start where Save<S, Start>: SaveAtStart<S> {}
impl<S: Schema> SaveStepItems<S> for PlayerDone where Save<S, PlayerDone>: SaveAtPlayerDone<S> {}
impl<S: Schema> sealed::Opens<S, tags::SaveItems> for PlayerDone where
    Save<S, PlayerDone>: SaveAtPlayerDone<S>
{
}
impl<S: Schema> SaveStepItems<S> for WorldDone where Save<S, WorldDone>: SaveAtWorldDone<S> {}
impl<S: Schema> sealed::Opens<S, tags::SaveItems> for WorldDone where
    Save<S, WorldDone>: SaveAtWorldDone<S>
{
}
impl<S: Schema> SaveStepItems<S> for ItemDone where Save<S, ItemDone>: SaveAtItemDone<S> {}
impl<S: Schema> sealed::Opens<S, tags::SaveItems> for ItemDone where
    Save<S, ItemDone>: SaveAtItemDone<S>
{
}
impl<S: Schema> SaveStepItems<S> for QuestDone where Save<S, QuestDone>: SaveAtQuestDone<S> {}
impl<S: Schema> sealed::Opens<S, tags::SaveItems> for QuestDone where
    Save<S, QuestDone>: SaveAtQuestDone<S>
{
}
/// The state at which `.quests(..)` is a save's next step.
pub trait SaveStepQuests<S: Schema>:
    crate::state::State + sealed::Opens<S, tags::SaveQuests>
{
}
impl<S: Schema> SaveStepQuests<S> for ItemDone {}
impl<S: Schema> sealed::Opens<S, tags::SaveQuests> for ItemDone {}
impl<S: Schema> SaveStepQuests<S> for Start where Save<S, Start>: SaveAtStart<S> {}
impl<S: Schema> sealed::Opens<S, tags::SaveQuests> for Start where Save<S, Start>: SaveAtStart<S> {}
impl<S: Schema> SaveStepQuests<S> for PlayerDone where Save<S, PlayerDone>: SaveAtPlayerDone<S> {}
impl<S: Schema> sealed::Opens<S, tags::SaveQuests> for PlayerDone where
    Save<S, PlayerDone>: SaveAtPlayerDone<S>
{
}
impl<S: Schema> SaveStepQuests<S> for WorldDone where Save<S, WorldDone>: SaveAtWorldDone<S> {}
impl<S: Schema> sealed::Opens<S, tags::SaveQuests> for WorldDone where
    Save<S, WorldDone>: SaveAtWorldDone<S>
{
}
impl<S: Schema> SaveStepQuests<S> for NpcDone where Save<S, NpcDone>: SaveAtNpcDone<S> {}
impl<S: Schema> sealed::Opens<S, tags::SaveQuests> for NpcDone where
    Save<S, NpcDone>: SaveAtNpcDone<S>
{
}
impl<S: Schema> SaveStepQuests<S> for QuestDone where Save<S, QuestDone>: SaveAtQuestDone<S> {}
impl<S: Schema> sealed::Opens<S, tags::SaveQuests> for QuestDone where
    Save<S, QuestDone>: SaveAtQuestDone<S>
{
}
/// The state at which `.seal()` is a save's next step.
pub trait SaveStepSeal<S: Schema>: crate::state::State + sealed::Opens<S, tags::SaveSeal> {}
impl<S: Schema> SaveStepSeal<S> for QuestDone {}
impl<S: Schema> sealed::Opens<S, tags::SaveSeal> for QuestDone {}
impl<S: Schema> SaveStepSeal<S> for Start where Save<S, Start>: SaveAtStart<S> {}
impl<S: Schema> sealed::Opens<S, tags::SaveSeal> for Start where Save<S, Start>: SaveAtStart<S> {}
impl<S: Schema> SaveStepSeal<S> for PlayerDone where Save<S, PlayerDone>: SaveAtPlayerDone<S> {}
impl<S: Schema> sealed::Opens<S, tags::SaveSeal> for PlayerDone where
    Save<S, PlayerDone>: SaveAtPlayerDone<S>
{
}
impl<S: Schema> SaveStepSeal<S> for WorldDone where Save<S, WorldDone>: SaveAtWorldDone<S> {}
impl<S: Schema> sealed::Opens<S, tags::SaveSeal> for WorldDone where
    Save<S, WorldDone>: SaveAtWorldDone<S>
{
}
impl<S: Schema> SaveStepSeal<S> for NpcDone where Save<S, NpcDone>: SaveAtNpcDone<S> {}
impl<S: Schema> sealed::Opens<S, tags::SaveSeal> for NpcDone where Save<S, NpcDone>: SaveAtNpcDone<S>
{}
impl<S: Schema> SaveStepSeal<S> for ItemDone where Save<S, ItemDone>: SaveAtItemDone<S> {}
impl<S: Schema> sealed::Opens<S, tags::SaveSeal> for ItemDone where
    Save<S, ItemDone>: SaveAtItemDone<S>
{
}
/// The state at which `.players()` is a restore's next step.
pub trait RestoreStepPlayers<S: Schema>:
    crate::state::State + sealed::Opens<S, tags::RestorePlayers>
{
}
impl<S: Schema> RestoreStepPlayers<S> for Start {}
impl<S: Schema> sealed::Opens<S, tags::RestorePlayers> for Start {}
impl<S: Schema> RestoreStepPlayers<S> for PlayerDone where
    Restore<S, PlayerDone>: RestoreNeedsWorld<S>
{
}
impl<S: Schema> sealed::Opens<S, tags::RestorePlayers> for PlayerDone where
    Restore<S, PlayerDone>: RestoreNeedsWorld<S>
{
}
impl<S: Schema> RestoreStepPlayers<S> for WorldDone where Restore<S, WorldDone>: RestoreNeedsNpcs<S> {}
impl<S: Schema> sealed::Opens<S, tags::RestorePlayers> for WorldDone where
    Restore<S, WorldDone>: RestoreNeedsNpcs<S>
{
}
impl<S: Schema> RestoreStepPlayers<S> for NpcDone where Restore<S, NpcDone>: RestoreNeedsItems<S> {}
impl<S: Schema> sealed::Opens<S, tags::RestorePlayers> for NpcDone where
    Restore<S, NpcDone>: RestoreNeedsItems<S>
{
}
impl<S: Schema> RestoreStepPlayers<S> for ItemDone where Restore<S, ItemDone>: RestoreNeedsQuests<S> {}
impl<S: Schema> sealed::Opens<S, tags::RestorePlayers> for ItemDone where
    Restore<S, ItemDone>: RestoreNeedsQuests<S>
{
}
impl<S: Schema> RestoreStepPlayers<S> for QuestDone where
    Restore<S, QuestDone>: RestoreNeedsActivate<S>
{
}
impl<S: Schema> sealed::Opens<S, tags::RestorePlayers> for QuestDone where
    Restore<S, QuestDone>: RestoreNeedsActivate<S>
{
}
/// The state at which `.world()` is a restore's next step.
pub trait RestoreStepWorld<S: Schema>:
    crate::state::State + sealed::Opens<S, tags::RestoreWorld>
{
}
impl<S: Schema> RestoreStepWorld<S> for PlayerDone {}
impl<S: Schema> sealed::Opens<S, tags::RestoreWorld> for PlayerDone {}
impl<S: Schema> RestoreStepWorld<S> for Start where Restore<S, Start>: RestoreNeedsPlayers<S> {}
impl<S: Schema> sealed::Opens<S, tags::RestoreWorld> for Start where
    Restore<S, Start>: RestoreNeedsPlayers<S>
{
}
impl<S: Schema> RestoreStepWorld<S> for WorldDone where Restore<S, WorldDone>: RestoreNeedsNpcs<S> {}
impl<S: Schema> sealed::Opens<S, tags::RestoreWorld> for WorldDone where
    Restore<S, WorldDone>: RestoreNeedsNpcs<S>
{
}
impl<S: Schema> RestoreStepWorld<S> for NpcDone where Restore<S, NpcDone>: RestoreNeedsItems<S> {}
impl<S: Schema> sealed::Opens<S, tags::RestoreWorld> for NpcDone where
    Restore<S, NpcDone>: RestoreNeedsItems<S>
{
}
impl<S: Schema> RestoreStepWorld<S> for ItemDone where Restore<S, ItemDone>: RestoreNeedsQuests<S> {}
impl<S: Schema> sealed::Opens<S, tags::RestoreWorld> for ItemDone where
    Restore<S, ItemDone>: RestoreNeedsQuests<S>
{
}
impl<S: Schema> RestoreStepWorld<S> for QuestDone where
    Restore<S, QuestDone>: RestoreNeedsActivate<S>
{
}
impl<S: Schema> sealed::Opens<S, tags::RestoreWorld> for QuestDone where
    Restore<S, QuestDone>: RestoreNeedsActivate<S>
{
}
/// The state at which `.npcs()` is a restore's next step.
pub trait RestoreStepNpcs<S: Schema>:
    crate::state::State + sealed::Opens<S, tags::RestoreNpcs>
{
}
impl<S: Schema> RestoreStepNpcs<S> for WorldDone {}
impl<S: Schema> sealed::Opens<S, tags::RestoreNpcs> for WorldDone {}
impl<S: Schema> RestoreStepNpcs<S> for Start where Restore<S, Start>: RestoreNeedsPlayers<S> {}
impl<S: Schema> sealed::Opens<S, tags::RestoreNpcs> for Start where
    Restore<S, Start>: RestoreNeedsPlayers<S>
{
}
impl<S: Schema> RestoreStepNpcs<S> for PlayerDone where Restore<S, PlayerDone>: RestoreNeedsWorld<S> {}
impl<S: Schema> sealed::Opens<S, tags::RestoreNpcs> for PlayerDone where
    Restore<S, PlayerDone>: RestoreNeedsWorld<S>
{
}
impl<S: Schema> RestoreStepNpcs<S> for NpcDone where Restore<S, NpcDone>: RestoreNeedsItems<S> {}
impl<S: Schema> sealed::Opens<S, tags::RestoreNpcs> for NpcDone where
    Restore<S, NpcDone>: RestoreNeedsItems<S>
{
}
impl<S: Schema> RestoreStepNpcs<S> for ItemDone where Restore<S, ItemDone>: RestoreNeedsQuests<S> {}
impl<S: Schema> sealed::Opens<S, tags::RestoreNpcs> for ItemDone where
    Restore<S, ItemDone>: RestoreNeedsQuests<S>
{
}
impl<S: Schema> RestoreStepNpcs<S> for QuestDone where Restore<S, QuestDone>: RestoreNeedsActivate<S>
{}
impl<S: Schema> sealed::Opens<S, tags::RestoreNpcs> for QuestDone where
    Restore<S, QuestDone>: RestoreNeedsActivate<S>
{
}
/// The state at which `.items()` is a restore's next step.
pub trait RestoreStepItems<S: Schema>:
    crate::state::State + sealed::Opens<S, tags::RestoreItems>
{
}
impl<S: Schema> RestoreStepItems<S> for NpcDone {}
impl<S: Schema> sealed::Opens<S, tags::RestoreItems> for NpcDone {}
impl<S: Schema> RestoreStepItems<S> for Start where Restore<S, Start>: RestoreNeedsPlayers<S> {}
impl<S: Schema> sealed::Opens<S, tags::RestoreItems> for Start where
    Restore<S, Start>: RestoreNeedsPlayers<S>
{
}
impl<S: Schema> RestoreStepItems<S> for PlayerDone where Restore<S, PlayerDone>: RestoreNeedsWorld<S>
{}
impl<S: Schema> sealed::Opens<S, tags::RestoreItems> for PlayerDone where
    Restore<S, PlayerDone>: RestoreNeedsWorld<S>
{
}
impl<S: Schema> RestoreStepItems<S> for WorldDone where Restore<S, WorldDone>: RestoreNeedsNpcs<S> {}
impl<S: Schema> sealed::Opens<S, tags::RestoreItems> for WorldDone where
    Restore<S, WorldDone>: RestoreNeedsNpcs<S>
{
}
impl<S: Schema> RestoreStepItems<S> for ItemDone where Restore<S, ItemDone>: RestoreNeedsQuests<S> {}
impl<S: Schema> sealed::Opens<S, tags::RestoreItems> for ItemDone where
    Restore<S, ItemDone>: RestoreNeedsQuests<S>
{
}
impl<S: Schema> RestoreStepItems<S> for QuestDone where
    Restore<S, QuestDone>: RestoreNeedsActivate<S>
{
}
impl<S: Schema> sealed::Opens<S, tags::RestoreItems> for QuestDone where
    Restore<S, QuestDone>: RestoreNeedsActivate<S>
{
}
/// The state at which `.quests()` is a restore's next step.
pub trait RestoreStepQuests<S: Schema>:
    crate::state::State + sealed::Opens<S, tags::RestoreQuests>
{
}
impl<S: Schema> RestoreStepQuests<S> for ItemDone {}
impl<S: Schema> sealed::Opens<S, tags::RestoreQuests> for ItemDone {}
impl<S: Schema> RestoreStepQuests<S> for Start where Restore<S, Start>: RestoreNeedsPlayers<S> {}
impl<S: Schema> sealed::Opens<S, tags::RestoreQuests> for Start where
    Restore<S, Start>: RestoreNeedsPlayers<S>
{
}
impl<S: Schema> RestoreStepQuests<S> for PlayerDone where
    Restore<S, PlayerDone>: RestoreNeedsWorld<S>
{
}
impl<S: Schema> sealed::Opens<S, tags::RestoreQuests> for PlayerDone where
    Restore<S, PlayerDone>: RestoreNeedsWorld<S>
{
}
impl<S: Schema> RestoreStepQuests<S> for WorldDone where Restore<S, WorldDone>: RestoreNeedsNpcs<S> {}
impl<S: Schema> sealed::Opens<S, tags::RestoreQuests> for WorldDone where
    Restore<S, WorldDone>: RestoreNeedsNpcs<S>
{
}
impl<S: Schema> RestoreStepQuests<S> for NpcDone where Restore<S, NpcDone>: RestoreNeedsItems<S> {}
impl<S: Schema> sealed::Opens<S, tags::RestoreQuests> for NpcDone where
    Restore<S, NpcDone>: RestoreNeedsItems<S>
{
}
impl<S: Schema> RestoreStepQuests<S> for QuestDone where
    Restore<S, QuestDone>: RestoreNeedsActivate<S>
{
}
impl<S: Schema> sealed::Opens<S, tags::RestoreQuests> for QuestDone where
    Restore<S, QuestDone>: RestoreNeedsActivate<S>
{
}

// Activation: only `QuestDone`.
impl<S: Schema> RestoreComplete<S> for QuestDone {}
impl<S: Schema> sealed::Opens<S, tags::Activate> for QuestDone {}
// The where-clauses name `Restore<S, _>`, not the state itself: when the
// unmet bound has the same self type as the one `activate` asks for
// (`St: RestoreComplete<S>`), rustc reports the outer trait's message, and
// the message naming the next step would not be shown.
impl<S: Schema> RestoreComplete<S> for Start where Restore<S, Start>: RestoreNeedsPlayers<S> {}
impl<S: Schema> sealed::Opens<S, tags::Activate> for Start where
    Restore<S, Start>: RestoreNeedsPlayers<S>
{
}
impl<S: Schema> RestoreComplete<S> for PlayerDone where Restore<S, PlayerDone>: RestoreNeedsWorld<S> {}
impl<S: Schema> sealed::Opens<S, tags::Activate> for PlayerDone where
    Restore<S, PlayerDone>: RestoreNeedsWorld<S>
{
}
impl<S: Schema> RestoreComplete<S> for WorldDone where Restore<S, WorldDone>: RestoreNeedsNpcs<S> {}
impl<S: Schema> sealed::Opens<S, tags::Activate> for WorldDone where
    Restore<S, WorldDone>: RestoreNeedsNpcs<S>
{
}
impl<S: Schema> RestoreComplete<S> for NpcDone where Restore<S, NpcDone>: RestoreNeedsItems<S> {}
impl<S: Schema> sealed::Opens<S, tags::Activate> for NpcDone where
    Restore<S, NpcDone>: RestoreNeedsItems<S>
{
}
impl<S: Schema> RestoreComplete<S> for ItemDone where Restore<S, ItemDone>: RestoreNeedsQuests<S> {}
impl<S: Schema> sealed::Opens<S, tags::Activate> for ItemDone where
    Restore<S, ItemDone>: RestoreNeedsQuests<S>
{
}

// Committing: only `Sealed`.
impl<S: Schema> sealed::Opens<S, tags::Commit> for crate::Sealed<S> {}
impl<S: Schema> sealed::Opens<S, tags::Commit> for Save<S, Start> where Start: SaveNeedsPlayers<S> {}
impl<S: Schema> sealed::Opens<S, tags::Commit> for Save<S, PlayerDone> where
    PlayerDone: SaveNeedsWorld<S>
{
}
impl<S: Schema> sealed::Opens<S, tags::Commit> for Save<S, WorldDone> where
    WorldDone: SaveNeedsNpcs<S>
{
}
impl<S: Schema> sealed::Opens<S, tags::Commit> for Save<S, NpcDone> where NpcDone: SaveNeedsItems<S> {}
impl<S: Schema> sealed::Opens<S, tags::Commit> for Save<S, ItemDone> where
    ItemDone: SaveNeedsQuests<S>
{
}
impl<S: Schema> sealed::Opens<S, tags::Commit> for Save<S, QuestDone> where
    QuestDone: SaveNeedsSeal<S>
{
}

// What a migration needs next. `S` is the pair `(Old, New)` of the
// migration's schemas.
what_next!(
    /// The next step of a migration at `Start`.
    MigrateAtStart,
    "this migration is at `Start`: its next step is .players(..), or .run(hop) for all five steps, or .via(hop) into an intermediate schema (Stage 21.2 §5: players, world, NPCs, items, quests, then .seal())",
    "the next step is .players(..)"
);
what_next!(
    /// The next step of a migration at `PlayerDone`.
    MigrateAtPlayerDone,
    "this migration is at `PlayerDone`: its next step is .world(..) (Stage 21.2 §5: players, world, NPCs, items, quests, then .seal())",
    "the next step is .world(..)"
);
what_next!(
    /// The next step of a migration at `WorldDone`.
    MigrateAtWorldDone,
    "this migration is at `WorldDone`: its next step is .npcs(..) (Stage 21.2 §5: players, world, NPCs, items, quests, then .seal())",
    "the next step is .npcs(..)"
);
what_next!(
    /// The next step of a migration at `NpcDone`.
    MigrateAtNpcDone,
    "this migration is at `NpcDone`: its next step is .items(..) (Stage 21.2 §5: players, world, NPCs, items, quests, then .seal())",
    "the next step is .items(..)"
);
what_next!(
    /// The next step of a migration at `ItemDone`.
    MigrateAtItemDone,
    "this migration is at `ItemDone`: its next step is .quests(..) (Stage 21.2 §5: players, world, NPCs, items, quests, then .seal())",
    "the next step is .quests(..)"
);
what_next!(
    /// The next step of a migration at `QuestDone`.
    MigrateAtQuestDone,
    "this migration has all five systems: its next step is .seal(), and the `Sealed` bundle it returns is what the store commits",
    "the next step is .seal()"
);
/// The state at which `.players(..)` is a migration's next step (and where `.run(..)` and `.via(..)` may be called).
pub trait MigrateStepPlayers<Old: Schema, New: Schema>:
    crate::state::State + sealed::Migrates<Old, New, tags::MigratePlayers>
{
}
impl<Old: Schema, New: Schema> MigrateStepPlayers<Old, New> for Start {}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigratePlayers> for Start {}
impl<Old: Schema, New: Schema> MigrateStepPlayers<Old, New> for PlayerDone where
    Migrate<Old, New, PlayerDone>: MigrateAtPlayerDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigratePlayers> for PlayerDone where
    Migrate<Old, New, PlayerDone>: MigrateAtPlayerDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> MigrateStepPlayers<Old, New> for WorldDone where
    Migrate<Old, New, WorldDone>: MigrateAtWorldDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigratePlayers> for WorldDone where
    Migrate<Old, New, WorldDone>: MigrateAtWorldDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> MigrateStepPlayers<Old, New> for NpcDone where
    Migrate<Old, New, NpcDone>: MigrateAtNpcDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigratePlayers> for NpcDone where
    Migrate<Old, New, NpcDone>: MigrateAtNpcDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> MigrateStepPlayers<Old, New> for ItemDone where
    Migrate<Old, New, ItemDone>: MigrateAtItemDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigratePlayers> for ItemDone where
    Migrate<Old, New, ItemDone>: MigrateAtItemDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> MigrateStepPlayers<Old, New> for QuestDone where
    Migrate<Old, New, QuestDone>: MigrateAtQuestDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigratePlayers> for QuestDone where
    Migrate<Old, New, QuestDone>: MigrateAtQuestDone<(Old, New)>
{
}
/// The state at which `.world(..)` is a migration's next step.
pub trait MigrateStepWorld<Old: Schema, New: Schema>:
    crate::state::State + sealed::Migrates<Old, New, tags::MigrateWorld>
{
}
impl<Old: Schema, New: Schema> MigrateStepWorld<Old, New> for PlayerDone {}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigrateWorld> for PlayerDone {}
impl<Old: Schema, New: Schema> MigrateStepWorld<Old, New> for Start where
    Migrate<Old, New, Start>: MigrateAtStart<(Old, New)>
{
}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigrateWorld> for Start where
    Migrate<Old, New, Start>: MigrateAtStart<(Old, New)>
{
}
impl<Old: Schema, New: Schema> MigrateStepWorld<Old, New> for WorldDone where
    Migrate<Old, New, WorldDone>: MigrateAtWorldDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigrateWorld> for WorldDone where
    Migrate<Old, New, WorldDone>: MigrateAtWorldDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> MigrateStepWorld<Old, New> for NpcDone where
    Migrate<Old, New, NpcDone>: MigrateAtNpcDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigrateWorld> for NpcDone where
    Migrate<Old, New, NpcDone>: MigrateAtNpcDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> MigrateStepWorld<Old, New> for ItemDone where
    Migrate<Old, New, ItemDone>: MigrateAtItemDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigrateWorld> for ItemDone where
    Migrate<Old, New, ItemDone>: MigrateAtItemDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> MigrateStepWorld<Old, New> for QuestDone where
    Migrate<Old, New, QuestDone>: MigrateAtQuestDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigrateWorld> for QuestDone where
    Migrate<Old, New, QuestDone>: MigrateAtQuestDone<(Old, New)>
{
}
/// The state at which `.npcs(..)` is a migration's next step.
pub trait MigrateStepNpcs<Old: Schema, New: Schema>:
    crate::state::State + sealed::Migrates<Old, New, tags::MigrateNpcs>
{
}
impl<Old: Schema, New: Schema> MigrateStepNpcs<Old, New> for WorldDone {}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigrateNpcs> for WorldDone {}
impl<Old: Schema, New: Schema> MigrateStepNpcs<Old, New> for Start where
    Migrate<Old, New, Start>: MigrateAtStart<(Old, New)>
{
}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigrateNpcs> for Start where
    Migrate<Old, New, Start>: MigrateAtStart<(Old, New)>
{
}
impl<Old: Schema, New: Schema> MigrateStepNpcs<Old, New> for PlayerDone where
    Migrate<Old, New, PlayerDone>: MigrateAtPlayerDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigrateNpcs> for PlayerDone where
    Migrate<Old, New, PlayerDone>: MigrateAtPlayerDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> MigrateStepNpcs<Old, New> for NpcDone where
    Migrate<Old, New, NpcDone>: MigrateAtNpcDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigrateNpcs> for NpcDone where
    Migrate<Old, New, NpcDone>: MigrateAtNpcDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> MigrateStepNpcs<Old, New> for ItemDone where
    Migrate<Old, New, ItemDone>: MigrateAtItemDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigrateNpcs> for ItemDone where
    Migrate<Old, New, ItemDone>: MigrateAtItemDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> MigrateStepNpcs<Old, New> for QuestDone where
    Migrate<Old, New, QuestDone>: MigrateAtQuestDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigrateNpcs> for QuestDone where
    Migrate<Old, New, QuestDone>: MigrateAtQuestDone<(Old, New)>
{
}
/// The state at which `.items(..)` is a migration's next step.
pub trait MigrateStepItems<Old: Schema, New: Schema>:
    crate::state::State + sealed::Migrates<Old, New, tags::MigrateItems>
{
}
impl<Old: Schema, New: Schema> MigrateStepItems<Old, New> for NpcDone {}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigrateItems> for NpcDone {}
impl<Old: Schema, New: Schema> MigrateStepItems<Old, New> for Start where
    Migrate<Old, New, Start>: MigrateAtStart<(Old, New)>
{
}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigrateItems> for Start where
    Migrate<Old, New, Start>: MigrateAtStart<(Old, New)>
{
}
impl<Old: Schema, New: Schema> MigrateStepItems<Old, New> for PlayerDone where
    Migrate<Old, New, PlayerDone>: MigrateAtPlayerDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigrateItems> for PlayerDone where
    Migrate<Old, New, PlayerDone>: MigrateAtPlayerDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> MigrateStepItems<Old, New> for WorldDone where
    Migrate<Old, New, WorldDone>: MigrateAtWorldDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigrateItems> for WorldDone where
    Migrate<Old, New, WorldDone>: MigrateAtWorldDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> MigrateStepItems<Old, New> for ItemDone where
    Migrate<Old, New, ItemDone>: MigrateAtItemDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigrateItems> for ItemDone where
    Migrate<Old, New, ItemDone>: MigrateAtItemDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> MigrateStepItems<Old, New> for QuestDone where
    Migrate<Old, New, QuestDone>: MigrateAtQuestDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigrateItems> for QuestDone where
    Migrate<Old, New, QuestDone>: MigrateAtQuestDone<(Old, New)>
{
}
/// The state at which `.quests(..)` is a migration's next step.
pub trait MigrateStepQuests<Old: Schema, New: Schema>:
    crate::state::State + sealed::Migrates<Old, New, tags::MigrateQuests>
{
}
impl<Old: Schema, New: Schema> MigrateStepQuests<Old, New> for ItemDone {}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigrateQuests> for ItemDone {}
impl<Old: Schema, New: Schema> MigrateStepQuests<Old, New> for Start where
    Migrate<Old, New, Start>: MigrateAtStart<(Old, New)>
{
}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigrateQuests> for Start where
    Migrate<Old, New, Start>: MigrateAtStart<(Old, New)>
{
}
impl<Old: Schema, New: Schema> MigrateStepQuests<Old, New> for PlayerDone where
    Migrate<Old, New, PlayerDone>: MigrateAtPlayerDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigrateQuests> for PlayerDone where
    Migrate<Old, New, PlayerDone>: MigrateAtPlayerDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> MigrateStepQuests<Old, New> for WorldDone where
    Migrate<Old, New, WorldDone>: MigrateAtWorldDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigrateQuests> for WorldDone where
    Migrate<Old, New, WorldDone>: MigrateAtWorldDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> MigrateStepQuests<Old, New> for NpcDone where
    Migrate<Old, New, NpcDone>: MigrateAtNpcDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigrateQuests> for NpcDone where
    Migrate<Old, New, NpcDone>: MigrateAtNpcDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> MigrateStepQuests<Old, New> for QuestDone where
    Migrate<Old, New, QuestDone>: MigrateAtQuestDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigrateQuests> for QuestDone where
    Migrate<Old, New, QuestDone>: MigrateAtQuestDone<(Old, New)>
{
}
/// The state at which `.seal()` is a migration's next step.
pub trait MigrateStepSeal<Old: Schema, New: Schema>:
    crate::state::State + sealed::Migrates<Old, New, tags::MigrateSeal>
{
}
impl<Old: Schema, New: Schema> MigrateStepSeal<Old, New> for QuestDone {}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigrateSeal> for QuestDone {}
impl<Old: Schema, New: Schema> MigrateStepSeal<Old, New> for Start where
    Migrate<Old, New, Start>: MigrateAtStart<(Old, New)>
{
}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigrateSeal> for Start where
    Migrate<Old, New, Start>: MigrateAtStart<(Old, New)>
{
}
impl<Old: Schema, New: Schema> MigrateStepSeal<Old, New> for PlayerDone where
    Migrate<Old, New, PlayerDone>: MigrateAtPlayerDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigrateSeal> for PlayerDone where
    Migrate<Old, New, PlayerDone>: MigrateAtPlayerDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> MigrateStepSeal<Old, New> for WorldDone where
    Migrate<Old, New, WorldDone>: MigrateAtWorldDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigrateSeal> for WorldDone where
    Migrate<Old, New, WorldDone>: MigrateAtWorldDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> MigrateStepSeal<Old, New> for NpcDone where
    Migrate<Old, New, NpcDone>: MigrateAtNpcDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigrateSeal> for NpcDone where
    Migrate<Old, New, NpcDone>: MigrateAtNpcDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> MigrateStepSeal<Old, New> for ItemDone where
    Migrate<Old, New, ItemDone>: MigrateAtItemDone<(Old, New)>
{
}
impl<Old: Schema, New: Schema> sealed::Migrates<Old, New, tags::MigrateSeal> for ItemDone where
    Migrate<Old, New, ItemDone>: MigrateAtItemDone<(Old, New)>
{
}
