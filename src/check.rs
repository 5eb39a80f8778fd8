//! The structural rules every bundle obeys, written once and run both by the
//! save chain (on the server's records, before anything is encoded) and by
//! verification (on a stored bundle's index, before anything is handed out).
//!
//! Each function checks one section against the sections before it, in the
//! order of Stage 21.2 §5, and walks its entries in id order, so the first
//! violation found is always the same one (Stage 21.2 §9.4).

use crate::format::wire::{ItemEntry, NpcEntry, QuestEntry};
use crate::ids::{PlayerId, ZoneId};
use crate::rejection::{Edge, Rejection};
use crate::schema::ItemLocation;
use crate::system::System;

/// Ids must be strictly increasing: sorted (canonical order) and unique.
pub(crate) fn sorted_unique(
    system: System,
    ids: impl IntoIterator<Item = u64>,
) -> Result<(), Rejection> {
    let mut previous: Option<u64> = None;
    for id in ids {
        if let Some(p) = previous {
            if id == p {
                return Err(Rejection::DuplicateId { system, id });
            }
            if id < p {
                return Err(Rejection::RecordOrder { system, id });
            }
        }
        previous = Some(id);
    }
    Ok(())
}

fn has<T: Ord>(sorted: &[T], id: &T) -> bool {
    sorted.binary_search(id).is_ok()
}

fn resolve<T: Ord + Copy + Into<u64>>(
    sorted: &[T],
    to: T,
    edge: Edge,
    from: u64,
) -> Result<(), Rejection> {
    if has(sorted, &to) {
        Ok(())
    } else {
        Err(Rejection::DanglingRef {
            edge,
            from,
            to: to.into(),
        })
    }
}

/// Stage 21.2 §7, NPC → World: every NPC's zone is a zone of this bundle.
pub(crate) fn npcs(entries: &[NpcEntry], zones: &[ZoneId]) -> Result<(), Rejection> {
    sorted_unique(System::Npc, entries.iter().map(|e| e.id.0))?;
    for e in entries {
        resolve(zones, e.zone, Edge::NpcZone, e.id.0)?;
    }
    Ok(())
}

/// Stage 21.2 §7, Item → World, Player: every location and owner resolves
/// inside this bundle, and containment is acyclic, so every chain of
/// containers ends in a zone or a player.
pub(crate) fn items(
    entries: &[ItemEntry],
    players: &[PlayerId],
    zones: &[ZoneId],
) -> Result<(), Rejection> {
    sorted_unique(System::Item, entries.iter().map(|e| e.id.0))?;
    for e in entries {
        let from = e.id.0;
        match e.location {
            ItemLocation::Zone(z) => resolve(zones, z, Edge::ItemZone, from)?,
            ItemLocation::Player(p) => resolve(players, p, Edge::ItemPlayer, from)?,
            ItemLocation::Container(c) => {
                if entries.binary_search_by_key(&c, |x| x.id).is_err() {
                    return Err(Rejection::DanglingRef {
                        edge: Edge::ItemItem,
                        from,
                        to: c.0,
                    });
                }
            }
        }
        if let Some(owner) = e.owner {
            resolve(players, owner, Edge::ItemOwner, from)?;
        }
    }
    containment_acyclic(entries)
}

/// Walks every container chain once (linear in the number of items, plus a
/// binary search per container hop). Assumes every container resolves.
fn containment_acyclic(entries: &[ItemEntry]) -> Result<(), Rejection> {
    const UNSEEN: u8 = 0;
    const ON_PATH: u8 = 1;
    const ROOTED: u8 = 2;
    let mut mark = vec![UNSEEN; entries.len()];
    let mut path: Vec<usize> = Vec::new();
    for start in 0..entries.len() {
        if mark[start] == ROOTED {
            continue;
        }
        path.clear();
        let mut at = start;
        loop {
            match mark[at] {
                ROOTED => break,
                ON_PATH => {
                    // `at` is on the current path: the path from `at` on is a cycle.
                    let cycle_start = path.iter().position(|&p| p == at).unwrap_or(0);
                    let smallest = path[cycle_start..]
                        .iter()
                        .map(|&p| entries[p].id)
                        .min()
                        .unwrap_or(entries[at].id);
                    return Err(Rejection::ContainmentCycle { item: smallest });
                }
                _ => {}
            }
            mark[at] = ON_PATH;
            path.push(at);
            match entries[at].location {
                ItemLocation::Container(c) => match entries.binary_search_by_key(&c, |x| x.id) {
                    Ok(next) => at = next,
                    Err(_) => break, // unreachable after reference checks; never loops
                },
                ItemLocation::Zone(_) | ItemLocation::Player(_) => break,
            }
        }
        for &p in &path {
            mark[p] = ROOTED;
        }
    }
    Ok(())
}

/// Stage 21.2 §7, Quest → PlayerSave and world context: the owner and every
/// zone of the context resolve inside this bundle.
pub(crate) fn quests(
    entries: &[QuestEntry],
    players: &[PlayerId],
    zones: &[ZoneId],
) -> Result<(), Rejection> {
    sorted_unique(System::Quest, entries.iter().map(|e| e.id.0))?;
    for e in entries {
        resolve(players, e.owner, Edge::QuestPlayer, e.id.0)?;
        for &z in &e.zones {
            resolve(zones, z, Edge::QuestZone, e.id.0)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ItemId;

    fn item(id: u64, location: ItemLocation) -> ItemEntry {
        ItemEntry {
            id: ItemId(id),
            location,
            owner: None,
        }
    }

    #[test]
    fn self_containment_is_a_cycle_of_length_one() {
        let e = [item(1, ItemLocation::Container(ItemId(1)))];
        assert_eq!(
            items(&e, &[], &[]),
            Err(Rejection::ContainmentCycle { item: ItemId(1) })
        );
    }

    #[test]
    fn long_cycle_reports_its_smallest_member() {
        let e = [
            item(1, ItemLocation::Zone(ZoneId(1))),
            item(2, ItemLocation::Container(ItemId(4))),
            item(3, ItemLocation::Container(ItemId(2))),
            item(4, ItemLocation::Container(ItemId(3))),
            item(5, ItemLocation::Container(ItemId(1))),
        ];
        assert_eq!(
            items(&e, &[], &[ZoneId(1)]),
            Err(Rejection::ContainmentCycle { item: ItemId(2) })
        );
    }

    #[test]
    fn deep_rooted_chain_is_accepted() {
        let mut e = vec![item(0, ItemLocation::Player(PlayerId(9)))];
        for i in 1..10_000 {
            e.push(item(i, ItemLocation::Container(ItemId(i - 1))));
        }
        assert_eq!(items(&e, &[PlayerId(9)], &[]), Ok(()));
    }

    #[test]
    fn order_and_duplicates_are_told_apart() {
        assert_eq!(
            sorted_unique(System::Player, [1, 2, 2]),
            Err(Rejection::DuplicateId {
                system: System::Player,
                id: 2
            })
        );
        assert_eq!(
            sorted_unique(System::Player, [1, 3, 2]),
            Err(Rejection::RecordOrder {
                system: System::Player,
                id: 2
            })
        );
    }
}
