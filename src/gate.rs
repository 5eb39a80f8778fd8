//! Traits that exist only so that a forbidden call fails to compile with a
//! message naming the missing step.
//!
//! A method that exists on one state only fails with E0599 ("no method named
//! …"), whose text cannot be customised. The terminal steps — committing a
//! save and activating a restore — are therefore generic over a bound, and
//! for every state that is not ready the bound is a trait that nobody can
//! implement, carrying a `#[diagnostic::on_unimplemented]` message that says
//! what to call next. You never name these traits yourself.

use crate::schema::Schema;
use crate::state::{ItemDone, NpcDone, PlayerDone, QuestDone, Start, WorldDone};

pub(crate) mod sealed {
    /// Implemented only by this crate's committable and activatable types.
    pub trait Sealed {}
    /// Implemented by nothing: a supertrait that makes the "needs step"
    /// traits impossible to implement, even for a foreign schema.
    pub trait Never<S> {}
}

/// A value a [`Store`](crate::Store) can commit: only
/// [`Sealed`](crate::Sealed) is.
#[diagnostic::on_unimplemented(
    message = "only a `Sealed` bundle can be committed, and `{Self}` is not one",
    label = "not a sealed bundle",
    note = "a save is committable only once all five systems are saved and sealed: .players(..) → .world(..) → .npcs(..) → .items(..) → .quests(..) → .seal()"
)]
pub trait Committable<S: Schema>: sealed::Sealed {
    #[doc(hidden)]
    fn into_sealed(self) -> crate::Sealed<S>;
}

/// A restore state that may be activated: only [`QuestDone`].
#[diagnostic::on_unimplemented(
    message = "a restore can be activated only after all five systems are restored; `{Self}` is not `QuestDone`",
    label = "restore not complete",
    note = "Stage 21.2 §6: restored systems stay inactive until the whole restore is done: .players() → .world() → .npcs() → .items() → .quests() → .activate(..)"
)]
pub trait RestoreComplete<S: Schema>: crate::state::State {}

impl<S: Schema> RestoreComplete<S> for QuestDone {}

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

impl<S: Schema> RestoreComplete<S> for Start where Start: RestoreNeedsPlayers<S> {}
impl<S: Schema> RestoreComplete<S> for PlayerDone where PlayerDone: RestoreNeedsWorld<S> {}
impl<S: Schema> RestoreComplete<S> for WorldDone where WorldDone: RestoreNeedsNpcs<S> {}
impl<S: Schema> RestoreComplete<S> for NpcDone where NpcDone: RestoreNeedsItems<S> {}
impl<S: Schema> RestoreComplete<S> for ItemDone where ItemDone: RestoreNeedsQuests<S> {}
