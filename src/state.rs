//! The zero-sized typestate markers shared by the save and restore chains.
//!
//! Both chains walk the same five steps in the one order of Stage 21.2 §5
//! and §6:
//!
//! `Start` → `PlayerDone` → `WorldDone` → `NpcDone` → `ItemDone` → `QuestDone`
//!
//! A marker names the last completed step. The markers have a private field,
//! so code outside this crate can name them in types but never create one:
//! the only way to hold a `Save<S, WorldDone>` is to have called `.world(..)`.

mod sealed {
    #[diagnostic::on_unimplemented(
        message = "`{Self}` cannot be a state of the save or restore chain: the chain has exactly six states, and the set is closed (Stage 21.2 §4, §5)",
        label = "not one of caelmor-persist's states",
        note = "the states are Start, PlayerDone, WorldDone, NpcDone, ItemDone and QuestDone"
    )]
    pub trait Sealed {}
}

/// A position in the save or restore chain. Sealed: the chain has exactly the
/// six states below.
pub trait State: sealed::Sealed + Send + Sync + 'static {
    /// How many systems have completed at this state (0 to 5).
    const COMPLETED: usize;
}

macro_rules! state {
    ($(#[$doc:meta])* $name:ident, $completed:literal) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name {
            _private: (),
        }
        impl sealed::Sealed for $name {}
        impl State for $name {
            const COMPLETED: usize = $completed;
        }
    };
}

state!(
    /// Nothing saved or restored yet.
    Start,
    0
);
state!(
    /// Player Identity and PlayerSave done (step 1 of 5).
    PlayerDone,
    1
);
state!(
    /// World structural state and zone composition done (step 2 of 5).
    WorldDone,
    2
);
state!(
    /// NPC persisted state done (step 3 of 5).
    NpcDone,
    3
);
state!(
    /// Item persisted state done (step 4 of 5).
    ItemDone,
    4
);
state!(
    /// Quest persisted state done (step 5 of 5): a save can now be sealed, a
    /// restore can now be activated.
    QuestDone,
    5
);

static_assertions::assert_eq_size!(Start, ());
static_assertions::assert_eq_size!(PlayerDone, ());
static_assertions::assert_eq_size!(WorldDone, ());
static_assertions::assert_eq_size!(NpcDone, ());
static_assertions::assert_eq_size!(ItemDone, ());
static_assertions::assert_eq_size!(QuestDone, ());
