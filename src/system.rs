//! The closed set of persisted systems and the dependency graph between them
//! (Stage 21.2 §4 and §7).
//!
//! The graph is data, and a `const` assertion at the bottom of this module
//! proves, every time the crate compiles, that it is acyclic and that
//! [`System::ORDER`] — the save and restore order of Stage 21.2 §5 and §6 —
//! is a topological order of it. Editing either so that a system would be
//! saved before one of its dependencies stops the crate from compiling.

use core::fmt;

use serde::{Deserialize, Serialize};

/// One of the five systems that participate in persistence (Stage 21.2 §4).
///
/// The set is closed: the enum is exhaustive on purpose, and a
/// [`Schema`](crate::Schema) names exactly one record type for each variant.
///
/// ```
/// use caelmor_persist::System;
/// assert_eq!(System::ORDER[0], System::Player);
/// assert_eq!(System::Quest.dependencies(), &[System::Player, System::World]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[repr(u8)]
pub enum System {
    /// Player Identity and PlayerSave.
    Player = 0,
    /// World structural state and zone composition.
    World = 1,
    /// NPC runtime persisted state.
    Npc = 2,
    /// Item runtime persisted state (ownership and location).
    Item = 3,
    /// Quest runtime persisted state (player-owned).
    Quest = 4,
}

impl System {
    /// The one save order (Stage 21.2 §5), which is also the one restore
    /// order (Stage 21.2 §6).
    pub const ORDER: [System; 5] = [
        System::Player,
        System::World,
        System::Npc,
        System::Item,
        System::Quest,
    ];

    /// The systems this one depends on, exactly the legal edges of
    /// Stage 21.2 §7:
    ///
    /// - NPC → World;
    /// - Item → World and Player (where ownership applies);
    /// - Quest → Player (PlayerSave) and World (world context);
    /// - Player and World depend on nothing.
    #[must_use]
    pub const fn dependencies(self) -> &'static [System] {
        match self {
            System::Player | System::World => &[],
            System::Npc => &[System::World],
            System::Item => &[System::World, System::Player],
            System::Quest => &[System::Player, System::World],
        }
    }

    /// Whether `self` may refer to `other` (an edge of the graph).
    ///
    /// ```
    /// use caelmor_persist::System;
    /// assert!(System::Npc.depends_on(System::World));
    /// assert!(!System::World.depends_on(System::Npc));
    /// ```
    #[must_use]
    pub const fn depends_on(self, other: System) -> bool {
        let deps = self.dependencies();
        let mut i = 0;
        while i < deps.len() {
            if deps[i] as u8 == other as u8 {
                return true;
            }
            i += 1;
        }
        false
    }

    /// Position of this system in [`System::ORDER`] (also its wire tag).
    #[must_use]
    pub const fn position(self) -> usize {
        self as usize
    }

    /// The system with the given wire tag, if there is one.
    ///
    /// ```
    /// use caelmor_persist::System;
    /// assert_eq!(System::from_tag(3), Some(System::Item));
    /// assert_eq!(System::from_tag(5), None);
    /// ```
    #[must_use]
    pub const fn from_tag(tag: u8) -> Option<System> {
        match tag {
            0 => Some(System::Player),
            1 => Some(System::World),
            2 => Some(System::Npc),
            3 => Some(System::Item),
            4 => Some(System::Quest),
            _ => None,
        }
    }

    /// A short lower-case name, used in messages and by the command-line tool.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            System::Player => "player",
            System::World => "world",
            System::Npc => "npc",
            System::Item => "item",
            System::Quest => "quest",
        }
    }
}

impl fmt::Display for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// True when every dependency of `ORDER[i]` appears strictly before position
/// `i`. A graph that has a topological order has no cycle, so this single
/// check proves both properties; [`graph_is_acyclic`] proves acyclicity a
/// second, independent way (Kahn's algorithm) so that a mistake in `ORDER`
/// cannot hide a cycle.
const fn order_is_topological() -> bool {
    let mut i = 0;
    while i < System::ORDER.len() {
        if System::ORDER[i].position() != i {
            return false;
        }
        let deps = System::ORDER[i].dependencies();
        let mut d = 0;
        while d < deps.len() {
            if deps[d].position() >= i {
                return false;
            }
            d += 1;
        }
        i += 1;
    }
    true
}

/// Kahn's algorithm over the edge list: repeatedly remove a system with no
/// unremoved dependencies; the graph is acyclic iff all five get removed.
const fn graph_is_acyclic() -> bool {
    let mut removed = [false; 5];
    let mut count = 0;
    let mut progress = true;
    while progress {
        progress = false;
        let mut s = 0;
        while s < 5 {
            if !removed[s] {
                let deps = System::ORDER[s].dependencies();
                let mut ready = true;
                let mut d = 0;
                while d < deps.len() {
                    if !removed[deps[d].position()] {
                        ready = false;
                    }
                    d += 1;
                }
                if ready {
                    removed[s] = true;
                    count += 1;
                    progress = true;
                }
            }
            s += 1;
        }
    }
    count == 5
}

// Stage 21.2 §7 ("Dependency cycles are forbidden") and §9.1-9.2: proven at
// compile time, not tested at run time.
const _: () = assert!(
    graph_is_acyclic(),
    "the persistence dependency graph has a cycle"
);
const _: () = assert!(
    order_is_topological(),
    "System::ORDER saves a system before one of its dependencies"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn const_checks_hold_at_run_time_too() {
        assert!(graph_is_acyclic());
        assert!(order_is_topological());
    }
}
