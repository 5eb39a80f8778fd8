//! Traits that exist only so that a forbidden call fails to compile with a
//! message naming the missing step.
//!
//! A method that exists on one state only fails with E0599 ("no method named
//! …"), whose text cannot be customised. The terminal steps — committing a
//! save and activating a restore — are therefore generic over a bound, and
//! for every state that is not ready the bound is a trait that nobody can
//! implement, carrying a `#[diagnostic::on_unimplemented]` message that says
//! what to call next. You never name these traits yourself.

use crate::restore::Restore;
use crate::save::Save;
use crate::schema::Schema;
use crate::state::{ItemDone, NpcDone, PlayerDone, QuestDone, Start, WorldDone};

pub(crate) mod sealed {
    /// Implemented only by this crate's committable and activatable types.
    pub trait Sealed {}
    /// Implemented by nothing: a supertrait that makes the "needs step"
    /// traits impossible to implement, even for a foreign schema.
    pub trait Never<S> {}
    /// Implemented, for every schema, by the ready states only (a
    /// [`Sealed`](crate::Sealed) bundle, a restore at `QuestDone`), and by
    /// the unready ones only under the same never-satisfied "needs step"
    /// bound as their gate impls.
    ///
    /// Without it, a crate defining its own schema `Mine` could write
    /// `impl RestoreComplete<Mine> for PlayerDone {}` or
    /// `impl Committable<Mine> for Save<Mine, PlayerDone>`: coherence accepts
    /// them, because it can prove the crate's own impls' where-clauses never
    /// hold for `Mine`, and the supertraits alone were satisfied.
    pub trait Ready<S> {}
}

/// A value a [`Store`](crate::Store) can commit: only
/// [`Sealed`](crate::Sealed) is.
#[diagnostic::on_unimplemented(
    message = "only a `Sealed` bundle can be committed, and `{Self}` is not one",
    label = "not a sealed bundle",
    note = "a save is committable only once all five systems are saved and sealed: .players(..) → .world(..) → .npcs(..) → .items(..) → .quests(..) → .seal()"
)]
pub trait Committable<S: Schema>: sealed::Sealed + sealed::Ready<S> {
    #[doc(hidden)]
    fn into_sealed(self) -> crate::Sealed<S>;
}

/// A restore state that may be activated: only [`QuestDone`].
#[diagnostic::on_unimplemented(
    message = "a restore can be activated only after all five systems are restored; `{Self}` is not `QuestDone`",
    label = "restore not complete",
    note = "Stage 21.2 §6: restored systems stay inactive until the whole restore is done: .players() → .world() → .npcs() → .items() → .quests() → .activate(..)"
)]
pub trait RestoreComplete<S: Schema>: crate::state::State + sealed::Ready<S> {}

impl<S: Schema> RestoreComplete<S> for QuestDone {}
impl<S: Schema> sealed::Ready<S> for QuestDone {}
impl<S: Schema> sealed::Ready<S> for crate::Sealed<S> {}

macro_rules! needs {
    ($(#[$doc:meta])* $name:ident, $message:literal, $label:literal) => {
        $(#[$doc])*
        #[diagnostic::on_unimplemented(message = $message, label = $label)]
        pub trait $name<S>: sealed::Never<S> {
            #[doc(hidden)]
            fn absurd<T>() -> T;
        }
    };
}

needs!(
    /// A save at `Start` is missing every step.
    SaveNeedsPlayers,
    "a save can be committed only once it is sealed: call .players(..) next, then .world(..), .npcs(..), .items(..), .quests(..) and .seal()",
    "this save is at `Start`, not sealed"
);
needs!(
    /// A save at `PlayerDone` is missing the world step.
    SaveNeedsWorld,
    "a save can be committed only once it is sealed: call .world(..) next, then .npcs(..), .items(..), .quests(..) and .seal()",
    "this save is at `PlayerDone`, not sealed"
);
needs!(
    /// A save at `WorldDone` is missing the NPC step.
    SaveNeedsNpcs,
    "a save can be committed only once it is sealed: call .npcs(..) next, then .items(..), .quests(..) and .seal()",
    "this save is at `WorldDone`, not sealed"
);
needs!(
    /// A save at `NpcDone` is missing the item step.
    SaveNeedsItems,
    "a save can be committed only once it is sealed: call .items(..) next, then .quests(..) and .seal()",
    "this save is at `NpcDone`, not sealed"
);
needs!(
    /// A save at `ItemDone` is missing the quest step.
    SaveNeedsQuests,
    "a save can be committed only once it is sealed: call .quests(..) then .seal()",
    "this save is at `ItemDone`, not sealed"
);
needs!(
    /// A save at `QuestDone` is complete but not sealed.
    SaveNeedsSeal,
    "a save can be committed only once it is sealed: call .seal() and commit the `Sealed` bundle it returns",
    "this save is at `QuestDone`, not sealed"
);
needs!(
    /// A restore at `Start` is missing every step.
    RestoreNeedsPlayers,
    "a restore can be activated only once it is complete: call .players() next, then .world(), .npcs(), .items() and .quests()",
    "this restore is at `Start`"
);
needs!(
    /// A restore at `PlayerDone` is missing the world step.
    RestoreNeedsWorld,
    "a restore can be activated only once it is complete: call .world() next, then .npcs(), .items() and .quests()",
    "this restore is at `PlayerDone`"
);
needs!(
    /// A restore at `WorldDone` is missing the NPC step.
    RestoreNeedsNpcs,
    "a restore can be activated only once it is complete: call .npcs() next, then .items() and .quests()",
    "this restore is at `WorldDone`"
);
needs!(
    /// A restore at `NpcDone` is missing the item step.
    RestoreNeedsItems,
    "a restore can be activated only once it is complete: call .items() next, then .quests()",
    "this restore is at `NpcDone`"
);
needs!(
    /// A restore at `ItemDone` is missing the quest step.
    RestoreNeedsQuests,
    "a restore can be activated only once it is complete: call .quests() next",
    "this restore is at `ItemDone`"
);

// The where-clauses name `Restore<S, _>`, not the state itself: when the
// unmet bound has the same self type as the one `activate` asks for
// (`St: RestoreComplete<S>`), rustc reports the outer trait's message, and
// the message that names the next step would never be shown.
impl<S: Schema> RestoreComplete<S> for Start where Restore<S, Start>: RestoreNeedsPlayers<S> {}
impl<S: Schema> RestoreComplete<S> for PlayerDone where Restore<S, PlayerDone>: RestoreNeedsWorld<S> {}
impl<S: Schema> RestoreComplete<S> for WorldDone where Restore<S, WorldDone>: RestoreNeedsNpcs<S> {}
impl<S: Schema> RestoreComplete<S> for NpcDone where Restore<S, NpcDone>: RestoreNeedsItems<S> {}
impl<S: Schema> RestoreComplete<S> for ItemDone where Restore<S, ItemDone>: RestoreNeedsQuests<S> {}

// The unready states are `Ready` exactly when their gate impls apply: never.
impl<S: Schema> sealed::Ready<S> for Start where Restore<S, Start>: RestoreNeedsPlayers<S> {}
impl<S: Schema> sealed::Ready<S> for PlayerDone where Restore<S, PlayerDone>: RestoreNeedsWorld<S> {}
impl<S: Schema> sealed::Ready<S> for WorldDone where Restore<S, WorldDone>: RestoreNeedsNpcs<S> {}
impl<S: Schema> sealed::Ready<S> for NpcDone where Restore<S, NpcDone>: RestoreNeedsItems<S> {}
impl<S: Schema> sealed::Ready<S> for ItemDone where Restore<S, ItemDone>: RestoreNeedsQuests<S> {}
impl<S: Schema> sealed::Ready<S> for Save<S, Start> where Start: SaveNeedsPlayers<S> {}
impl<S: Schema> sealed::Ready<S> for Save<S, PlayerDone> where PlayerDone: SaveNeedsWorld<S> {}
impl<S: Schema> sealed::Ready<S> for Save<S, WorldDone> where WorldDone: SaveNeedsNpcs<S> {}
impl<S: Schema> sealed::Ready<S> for Save<S, NpcDone> where NpcDone: SaveNeedsItems<S> {}
impl<S: Schema> sealed::Ready<S> for Save<S, ItemDone> where ItemDone: SaveNeedsQuests<S> {}
impl<S: Schema> sealed::Ready<S> for Save<S, QuestDone> where QuestDone: SaveNeedsSeal<S> {}
