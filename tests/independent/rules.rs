//! The structural rules of a bundle (format specification, rule 7: ids
//! strictly increasing, every reference resolved, item containment without
//! a cycle), written a second time for the tests only, as plainly as
//! possible: sets and maps of ids, and a walk up each item's chain of
//! containers. It shares no code with `src/check.rs` (it does not even use
//! the crate's types), so a bug in a helper the crate's readers and its
//! save chain share shows up as a disagreement with this module.
//!
//! Deliberately slow where being fast would need cleverness: a chain is
//! walked from every item to its end, with no memory of what an earlier
//! walk proved (remembering is where the crate's walk went wrong once:
//! issue 11, "the walk marks only the first item of a path as rooted").

use std::collections::{BTreeMap, BTreeSet};

/// Section positions, in the order of Stage 21.2 §5.
pub const PLAYER: usize = 0;
pub const WORLD: usize = 1;
pub const NPC: usize = 2;
pub const ITEM: usize = 3;
pub const QUEST: usize = 4;

/// Where an item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Loc {
    Zone(u64),
    Player(u64),
    Container(u64),
}

/// An item's index entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Item {
    pub id: u64,
    pub loc: Loc,
    pub owner: Option<u64>,
}

/// A quest's index entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quest {
    pub id: u64,
    pub owner: u64,
    pub zones: Vec<u64>,
}

/// A bundle's structural index, entries in the order the bundle has them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Index {
    pub players: Vec<u64>,
    pub zones: Vec<u64>,
    /// (npc id, zone id).
    pub npcs: Vec<(u64, u64)>,
    pub items: Vec<Item>,
    pub quests: Vec<Quest>,
}

impl Index {
    /// The ids of section `system`, in order.
    pub fn ids(&self, system: usize) -> Vec<u64> {
        match system {
            PLAYER => self.players.clone(),
            WORLD => self.zones.clone(),
            NPC => self.npcs.iter().map(|n| n.0).collect(),
            ITEM => self.items.iter().map(|i| i.id).collect(),
            QUEST => self.quests.iter().map(|q| q.id).collect(),
            _ => panic!("no section {system}"),
        }
    }

    /// How many entries each section holds.
    pub fn counts(&self) -> [usize; 5] {
        [
            self.players.len(),
            self.zones.len(),
            self.npcs.len(),
            self.items.len(),
            self.quests.len(),
        ]
    }
}

/// A reference edge of Stage 21.2 §7.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edge {
    NpcZone,
    ItemZone,
    ItemPlayer,
    ItemOwner,
    ItemItem,
    QuestPlayer,
    QuestZone,
}

/// The first structural rule a section breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Broken {
    /// An id smaller than the one before it.
    Order { system: usize, id: u64 },
    /// An id equal to the one before it.
    Duplicate { system: usize, id: u64 },
    /// A reference to an id the referred section does not hold.
    Dangling { edge: Edge, from: u64, to: u64 },
    /// Items containing each other in a cycle; its smallest id.
    Cycle { smallest: u64 },
}

impl Broken {
    /// The rejection code the specification gives this rule.
    pub fn code(&self) -> &'static str {
        match self {
            Broken::Order { .. } => "E-RECORD-ORDER",
            Broken::Duplicate { .. } => "E-DUPLICATE-ID",
            Broken::Dangling { .. } => "E-DANGLING-REF",
            Broken::Cycle { .. } => "E-CONTAINMENT-CYCLE",
        }
    }
}

/// Every section's rules, in section order: the first broken, if any.
pub fn all(index: &Index) -> Result<(), Broken> {
    (PLAYER..=QUEST).try_for_each(|system| section(system, index))
}

/// The rules of section `system` of `index`, checked against the sections
/// before it as `index` holds them: first the order of all its ids, then
/// its references entry by entry, then (items) containment.
pub fn section(system: usize, index: &Index) -> Result<(), Broken> {
    let ids = index.ids(system);
    for pair in ids.windows(2) {
        if pair[1] == pair[0] {
            return Err(Broken::Duplicate {
                system,
                id: pair[1],
            });
        }
        if pair[1] < pair[0] {
            return Err(Broken::Order {
                system,
                id: pair[1],
            });
        }
    }
    let players: BTreeSet<u64> = index.players.iter().copied().collect();
    let zones: BTreeSet<u64> = index.zones.iter().copied().collect();
    let check = |set: &BTreeSet<u64>, to: u64, edge: Edge, from: u64| {
        if set.contains(&to) {
            Ok(())
        } else {
            Err(Broken::Dangling { edge, from, to })
        }
    };
    match system {
        NPC => {
            for &(id, zone) in &index.npcs {
                check(&zones, zone, Edge::NpcZone, id)?;
            }
        }
        ITEM => {
            let items: BTreeSet<u64> = ids.iter().copied().collect();
            for item in &index.items {
                match item.loc {
                    Loc::Zone(z) => check(&zones, z, Edge::ItemZone, item.id)?,
                    Loc::Player(p) => check(&players, p, Edge::ItemPlayer, item.id)?,
                    Loc::Container(c) => check(&items, c, Edge::ItemItem, item.id)?,
                }
                if let Some(owner) = item.owner {
                    check(&players, owner, Edge::ItemOwner, item.id)?;
                }
            }
            containment(&index.items)?;
        }
        QUEST => {
            for quest in &index.quests {
                check(&players, quest.owner, Edge::QuestPlayer, quest.id)?;
                for &zone in &quest.zones {
                    check(&zones, zone, Edge::QuestZone, quest.id)?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Whether every item's chain of containers ends in a zone or a player.
/// Items whose ids are strictly increasing and whose containers all exist.
///
/// From each item in id order, the chain is followed container by
/// container. It ends in a zone or a player, or it never ends: after as
/// many hops as there are items it is going round a cycle, and the cycle
/// is walked once more to find its smallest id. The first item (in id
/// order) whose chain never ends names the cycle reported.
pub fn containment(items: &[Item]) -> Result<(), Broken> {
    let by_id: BTreeMap<u64, &Item> = items.iter().map(|i| (i.id, i)).collect();
    let container = |item: &Item| match item.loc {
        Loc::Container(c) => Some(by_id[&c]),
        Loc::Zone(_) | Loc::Player(_) => None,
    };
    for item in items {
        let mut at = item;
        let mut hops = 0;
        while let Some(next) = container(at) {
            at = next;
            hops += 1;
            if hops >= items.len() {
                // More hops than a chain without a cycle can take: `at` is
                // on the cycle.
                let mut smallest = at.id;
                let mut round = container(at).expect("on a cycle");
                while round.id != at.id {
                    smallest = smallest.min(round.id);
                    round = container(round).expect("on a cycle");
                }
                return Err(Broken::Cycle { smallest });
            }
        }
    }
    Ok(())
}

/// A legal item forest (for generators): `ids` (distinct, any order), each
/// placed by `place(k)` for the `k`-th id in `ids`: `None` for a root in a
/// zone or on a player (`root(k)`), or `Some(j)` with `j < k`, inside the
/// `j`-th. Returned sorted by id, as a bundle holds them. Containers can
/// have larger or smaller ids than what they hold, depending on `ids`'s
/// order.
pub fn forest(
    ids: &[u64],
    place: impl Fn(usize) -> Option<usize>,
    root: impl Fn(usize) -> Loc,
    owner: impl Fn(usize) -> Option<u64>,
) -> Vec<Item> {
    let mut out: Vec<Item> = (0..ids.len())
        .map(|k| Item {
            id: ids[k],
            loc: match place(k) {
                Some(j) => {
                    assert!(j < k, "a container is placed before its content");
                    Loc::Container(ids[j])
                }
                None => root(k),
            },
            owner: owner(k),
        })
        .collect();
    out.sort_by_key(|i| i.id);
    out
}
