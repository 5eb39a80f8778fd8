//! The structural rules every bundle obeys, written once and run both by the
//! save chain (on the server's records, before anything is encoded) and by
//! verification (on a stored bundle's index, before anything is handed out).
//!
//! Each function checks one section against the sections before it, in the
//! order of Stage 21.2 §5, and walks its entries in id order, so the first
//! violation found is always the same one (Stage 21.2 §9.4).

use crate::format::wire::{ItemEntry, NpcEntry, QuestEntry, QuestEntryRef};
use crate::ids::{ItemId, NpcId, PlayerId, QuestId, ZoneId};
use crate::rejection::{Edge, Rejection};
use crate::schema::{ItemLocation, ItemRecord, NpcRecord, QuestRecord};
use crate::system::System;

/// What the NPC rules read of an entry: the index entry a reader decoded,
/// or the server's record itself while saving (so that a save never builds
/// an index just to check it).
pub(crate) trait NpcView {
    fn id(&self) -> NpcId;
    fn zone(&self) -> ZoneId;
}

/// What the item rules read of an entry (see [`NpcView`]).
pub(crate) trait ItemView {
    fn id(&self) -> ItemId;
    fn location(&self) -> ItemLocation;
    fn owner(&self) -> Option<PlayerId>;
}

/// What the quest rules read of an entry (see [`NpcView`]).
pub(crate) trait QuestView {
    fn id(&self) -> QuestId;
    fn owner(&self) -> PlayerId;
    fn zones(&self) -> &[ZoneId];
}

impl NpcView for NpcEntry {
    fn id(&self) -> NpcId {
        self.id
    }
    fn zone(&self) -> ZoneId {
        self.zone
    }
}

impl<R: NpcRecord> NpcView for &R {
    fn id(&self) -> NpcId {
        NpcRecord::id(*self)
    }
    fn zone(&self) -> ZoneId {
        NpcRecord::zone(*self)
    }
}

impl ItemView for ItemEntry {
    fn id(&self) -> ItemId {
        self.id
    }
    fn location(&self) -> ItemLocation {
        self.location
    }
    fn owner(&self) -> Option<PlayerId> {
        self.owner
    }
}

impl<R: ItemRecord> ItemView for &R {
    fn id(&self) -> ItemId {
        ItemRecord::id(*self)
    }
    fn location(&self) -> ItemLocation {
        ItemRecord::location(*self)
    }
    fn owner(&self) -> Option<PlayerId> {
        ItemRecord::owner(*self)
    }
}

impl QuestView for QuestEntry {
    fn id(&self) -> QuestId {
        self.id
    }
    fn owner(&self) -> PlayerId {
        self.owner
    }
    fn zones(&self) -> &[ZoneId] {
        &self.zones
    }
}

impl QuestView for QuestEntryRef<'_> {
    fn id(&self) -> QuestId {
        self.id
    }
    fn owner(&self) -> PlayerId {
        self.owner
    }
    fn zones(&self) -> &[ZoneId] {
        self.zones
    }
}

impl<R: QuestRecord> QuestView for &R {
    fn id(&self) -> QuestId {
        QuestRecord::id(*self)
    }
    fn owner(&self) -> PlayerId {
        QuestRecord::owner(*self)
    }
    fn zones(&self) -> &[ZoneId] {
        QuestRecord::zone_context(*self)
    }
}

/// Ids must be strictly increasing: sorted (canonical order) and unique.
pub(crate) fn sorted_unique(
    system: System,
    ids: impl IntoIterator<Item = u64>,
) -> Result<(), Rejection> {
    let mut order = Order::new(system);
    ids.into_iter().try_for_each(|id| order.next(id))
}

/// [`sorted_unique`] one id at a time, so that a section's other rules can
/// run in the same pass over its entries.
struct Order {
    system: System,
    previous: Option<u64>,
}

impl Order {
    fn new(system: System) -> Self {
        Self {
            system,
            previous: None,
        }
    }

    #[inline]
    fn next(&mut self, id: u64) -> Result<(), Rejection> {
        if let Some(p) = self.previous {
            if id == p {
                return Err(Rejection::DuplicateId {
                    system: self.system,
                    id,
                });
            }
            if id < p {
                return Err(Rejection::RecordOrder {
                    system: self.system,
                    id,
                });
            }
        }
        self.previous = Some(id);
        Ok(())
    }
}

/// Runs a section's rules in one pass over its entries, with the answer of
/// two passes: first ids strictly increasing over the whole section, then
/// `references` entry by entry. The first reference error is held until
/// every id's order is checked, because an order error anywhere comes first.
fn one_pass<E>(
    system: System,
    entries: &[E],
    id: impl Fn(&E) -> u64,
    mut references: impl FnMut(&E) -> Result<(), Rejection>,
) -> Result<(), Rejection> {
    let mut order = Order::new(system);
    let mut dangling = None;
    for e in entries {
        order.next(id(e))?;
        if dangling.is_none()
            && let Err(rejection) = references(e)
        {
            dangling = Some(rejection);
        }
    }
    dangling.map_or(Ok(()), Err)
}

/// Finds ids in a list whose keys are strictly increasing (checked before
/// any lookup).
///
/// A list with no gaps (last − first = length − 1, as servers usually
/// allocate ids) holds exactly the ids of that range, so a lookup is one
/// subtraction and touches no memory; any other list is binary searched.
/// Either way the answer is the same.
struct Lookup<'a, T, K> {
    sorted: &'a [T],
    key: K,
    /// The first id, when the list has no gaps.
    dense_from: Option<u64>,
}

impl<'a, T, K: Fn(&T) -> u64> Lookup<'a, T, K> {
    fn new(sorted: &'a [T], key: K) -> Self {
        let dense_from = match (sorted.first(), sorted.last()) {
            (Some(first), Some(last))
                if u64::try_from(sorted.len() - 1).ok() == key(last).checked_sub(key(first)) =>
            {
                Some(key(first))
            }
            _ => None,
        };
        Self {
            sorted,
            key,
            dense_from,
        }
    }

    fn position(&self, id: u64) -> Option<usize> {
        match self.dense_from {
            Some(first) => id
                .checked_sub(first)
                .and_then(|d| usize::try_from(d).ok())
                .filter(|&d| d < self.sorted.len()),
            None => self.sorted.binary_search_by_key(&id, &self.key).ok(),
        }
    }
}

/// The lookup of a section's plain ids (players, zones).
fn ids<T: Copy + Into<u64>>(sorted: &[T]) -> Lookup<'_, T, impl Fn(&T) -> u64> {
    Lookup::new(sorted, |&t: &T| t.into())
}

fn resolve<T, K: Fn(&T) -> u64>(
    lookup: &Lookup<'_, T, K>,
    to: u64,
    edge: Edge,
    from: u64,
) -> Result<(), Rejection> {
    if lookup.position(to).is_some() {
        Ok(())
    } else {
        Err(Rejection::DanglingRef { edge, from, to })
    }
}

/// Stage 21.2 §7, NPC → World: every NPC's zone is a zone of this bundle.
pub(crate) fn npcs<E: NpcView>(entries: &[E], zones: &[ZoneId]) -> Result<(), Rejection> {
    let zones = ids(zones);
    one_pass(
        System::Npc,
        entries,
        |e| e.id().0,
        |e| resolve(&zones, e.zone().0, Edge::NpcZone, e.id().0),
    )
}

/// Stage 21.2 §7, Item → World, Player: every location and owner resolves
/// inside this bundle, and containment is acyclic, so every chain of
/// containers ends in a zone or a player.
pub(crate) fn items<E: ItemView>(
    entries: &[E],
    players: &[PlayerId],
    zones: &[ZoneId],
) -> Result<(), Rejection> {
    let (players, zones) = (ids(players), ids(zones));
    // Lookups are only trusted once the ids are known to be strictly
    // increasing: `one_pass` reports an order error before any of theirs.
    let items = Lookup::new(entries, |e: &E| e.id().0);
    // Whether every container has a smaller id than the item it holds (the
    // usual case: a bag exists before what is put in it).
    let mut descending = true;
    one_pass(
        System::Item,
        entries,
        |e| e.id().0,
        |e| {
            let from = e.id().0;
            match e.location() {
                ItemLocation::Zone(z) => resolve(&zones, z.0, Edge::ItemZone, from)?,
                ItemLocation::Player(p) => resolve(&players, p.0, Edge::ItemPlayer, from)?,
                ItemLocation::Container(c) => {
                    resolve(&items, c.0, Edge::ItemItem, from)?;
                    descending &= c.0 < from;
                }
            }
            match e.owner() {
                Some(owner) => resolve(&players, owner.0, Edge::ItemOwner, from),
                None => Ok(()),
            }
        },
    )?;
    if descending {
        // Every hop goes to a strictly smaller id, so no chain can come
        // back to where it started: there is no cycle to look for.
        return Ok(());
    }
    containment_acyclic(&items)
}

/// The item rules for the usual shape of an item section, one entry at a
/// time and keeping nothing: ids strictly increasing with no gaps, every
/// container an item with a smaller id. Then the ids are exactly the range
/// from the first to the last, a container in that range exists, and every
/// chain of containers descends to an item located in a zone or on a
/// player: no cycle, every chain rooted.
///
/// [`DenseItems::holds`] true proves that [`items`] accepts the same
/// entries; false proves nothing (the section may still be valid, in
/// another shape), and the caller then runs [`items`] itself. For readers
/// that only need to know whether every rule holds, without holding the
/// whole item index in memory.
///
/// A section can also be taken in two consecutive runs, on two threads
/// ([`DenseItems::joined`]): so a run only requires each container to be
/// smaller than its content, and the smallest container named is compared
/// with the section's first id at the end.
pub(crate) struct DenseItems<'a> {
    players: Lookup<'a, PlayerId, fn(&PlayerId) -> u64>,
    zones: Lookup<'a, ZoneId, fn(&ZoneId) -> u64>,
    count: usize,
    seen: usize,
    first: u64,
    last: u64,
    /// The smallest container id named so far (`u64::MAX`: none).
    lowest_container: u64,
    holds: bool,
}

impl<'a> DenseItems<'a> {
    pub(crate) fn new(count: usize, players: &'a [PlayerId], zones: &'a [ZoneId]) -> Self {
        Self {
            players: Lookup::new(players, |p| p.0),
            zones: Lookup::new(zones, |z| z.0),
            count,
            seen: 0,
            first: 0,
            last: 0,
            lowest_container: u64::MAX,
            holds: true,
        }
    }

    /// Takes the next entry; false once the shape is broken.
    #[inline]
    pub(crate) fn next(&mut self, e: &impl ItemView) -> bool {
        let id = e.id().0;
        if self.seen == 0 {
            self.first = id;
        } else if id <= self.last {
            self.holds = false;
        }
        self.last = id;
        self.seen += 1;
        let located = match e.location() {
            ItemLocation::Zone(z) => self.zones.position(z.0).is_some(),
            ItemLocation::Player(p) => self.players.position(p.0).is_some(),
            ItemLocation::Container(c) => {
                self.lowest_container = self.lowest_container.min(c.0);
                c.0 < id
            }
        };
        let owned = e
            .owner()
            .is_none_or(|p| self.players.position(p.0).is_some());
        self.holds &= located && owned;
        self.holds
    }

    /// Whether every entry was taken and the whole section has that shape.
    pub(crate) fn holds(&self) -> bool {
        self.holds && self.seen == self.count && self.dense() && self.lowest_container >= self.first
    }

    /// Whether the ids taken are exactly the range from the first to the
    /// last (given that they are strictly increasing).
    fn dense(&self) -> bool {
        self.seen == 0 || u64::try_from(self.seen - 1).ok() == self.last.checked_sub(self.first)
    }

    /// [`DenseItems::holds`] for a section taken in two runs, `head` over
    /// its first entries and `tail` over the rest (both made with the
    /// section's count): each run of that shape, the tail's ids going on
    /// where the head's stop, and no container below the section's first id.
    pub(crate) fn joined(head: &Self, tail: &Self) -> bool {
        if tail.seen == 0 {
            return head.holds();
        }
        if head.seen == 0 {
            return tail.holds();
        }
        head.holds
            && tail.holds
            && head.seen + tail.seen == head.count
            && head.dense()
            && tail.dense()
            && head.last.checked_add(1) == Some(tail.first)
            && head.lowest_container.min(tail.lowest_container) >= head.first
    }
}

/// Whether an NPC's or a quest's references resolve, one entry at a time:
/// true proves it, false proves nothing ([`npcs`] and [`quests`] name the
/// failure, in the order the rules are checked). For a writer that proves
/// the rules while it takes a section's snapshot, keeping nothing.
pub(crate) struct Resolve<'a> {
    players: Lookup<'a, PlayerId, fn(&PlayerId) -> u64>,
    zones: Lookup<'a, ZoneId, fn(&ZoneId) -> u64>,
}

impl<'a> Resolve<'a> {
    /// Lookups of the players and zones saved earlier (each strictly
    /// increasing, as the earlier steps proved).
    pub(crate) fn new(players: &'a [PlayerId], zones: &'a [ZoneId]) -> Self {
        Self {
            players: Lookup::new(players, |p| p.0),
            zones: Lookup::new(zones, |z| z.0),
        }
    }

    /// Stage 21.2 §7, NPC → World.
    #[inline]
    pub(crate) fn npc(&self, e: &impl NpcView) -> bool {
        self.zones.position(e.zone().0).is_some()
    }

    /// Stage 21.2 §7, Quest → PlayerSave and world context.
    #[inline]
    pub(crate) fn quest(&self, e: &impl QuestView) -> bool {
        self.players.position(e.owner().0).is_some()
            && e.zones().iter().all(|z| self.zones.position(z.0).is_some())
    }
}

/// Walks every container chain once (linear in the number of items, plus a
/// lookup per container hop). Assumes every container resolves.
fn containment_acyclic<E: ItemView, K: Fn(&E) -> u64>(
    items: &Lookup<'_, E, K>,
) -> Result<(), Rejection> {
    const UNSEEN: u8 = 0;
    const ON_PATH: u8 = 1;
    const ROOTED: u8 = 2;
    let entries = items.sorted;
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
                        .map(|&p| entries[p].id())
                        .min()
                        .unwrap_or(entries[at].id());
                    return Err(Rejection::ContainmentCycle { item: smallest });
                }
                _ => {}
            }
            mark[at] = ON_PATH;
            path.push(at);
            match entries[at].location() {
                ItemLocation::Container(c) => match items.position(c.0) {
                    Some(next) => at = next,
                    None => break, // unreachable after reference checks; never loops
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
pub(crate) fn quests<E: QuestView>(
    entries: &[E],
    players: &[PlayerId],
    zones: &[ZoneId],
) -> Result<(), Rejection> {
    let (players, zones) = (ids(players), ids(zones));
    one_pass(
        System::Quest,
        entries,
        |e| e.id().0,
        |e| {
            resolve(&players, e.owner().0, Edge::QuestPlayer, e.id().0)?;
            e.zones()
                .iter()
                .try_for_each(|z| resolve(&zones, z.0, Edge::QuestZone, e.id().0))
        },
    )
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
    fn an_order_error_anywhere_comes_before_a_dangling_reference() {
        let e = [
            item(1, ItemLocation::Zone(ZoneId(9))),
            item(2, ItemLocation::Zone(ZoneId(1))),
            item(2, ItemLocation::Zone(ZoneId(1))),
        ];
        assert_eq!(
            items(&e, &[], &[ZoneId(1)]),
            Err(Rejection::DuplicateId {
                system: System::Item,
                id: 2
            })
        );
        assert_eq!(
            items(&e[..2], &[], &[ZoneId(1)]),
            Err(Rejection::DanglingRef {
                edge: Edge::ItemZone,
                from: 1,
                to: 9
            })
        );
    }

    #[test]
    fn gaps_in_ids_fall_back_to_search() {
        let e = [
            item(3, ItemLocation::Player(PlayerId(10))),
            item(7, ItemLocation::Container(ItemId(3))),
            item(8, ItemLocation::Container(ItemId(9))),
            item(9, ItemLocation::Container(ItemId(8))),
        ];
        let players = [PlayerId(2), PlayerId(10)];
        assert_eq!(
            items(&e, &players, &[]),
            Err(Rejection::ContainmentCycle { item: ItemId(8) })
        );
        assert_eq!(
            items(&e[..2], &players, &[]),
            Ok(()),
            "a container found by binary search"
        );
        let dangling = [item(3, ItemLocation::Container(ItemId(5)))];
        assert!(matches!(
            items(&dangling, &players, &[]),
            Err(Rejection::DanglingRef { to: 5, .. })
        ));
    }

    use crate::independent::rules;

    /// The item entries as the independent rules read them.
    fn plain(e: &ItemEntry) -> rules::Item {
        rules::Item {
            id: e.id.0,
            loc: match e.location {
                ItemLocation::Zone(z) => rules::Loc::Zone(z.0),
                ItemLocation::Player(p) => rules::Loc::Player(p.0),
                ItemLocation::Container(c) => rules::Loc::Container(c.0),
            },
            owner: e.owner.map(|p| p.0),
        }
    }

    /// A structural rejection as the independent rules name it.
    fn broken(r: Rejection) -> rules::Broken {
        match r {
            Rejection::RecordOrder { system, id } => rules::Broken::Order {
                system: system.position(),
                id,
            },
            Rejection::DuplicateId { system, id } => rules::Broken::Duplicate {
                system: system.position(),
                id,
            },
            Rejection::DanglingRef { edge, from, to } => rules::Broken::Dangling {
                edge: match edge {
                    Edge::NpcZone => rules::Edge::NpcZone,
                    Edge::ItemZone => rules::Edge::ItemZone,
                    Edge::ItemPlayer => rules::Edge::ItemPlayer,
                    Edge::ItemOwner => rules::Edge::ItemOwner,
                    Edge::ItemItem => rules::Edge::ItemItem,
                    Edge::QuestPlayer => rules::Edge::QuestPlayer,
                    Edge::QuestZone => rules::Edge::QuestZone,
                },
                from,
                to,
            },
            Rejection::ContainmentCycle { item } => rules::Broken::Cycle { smallest: item.0 },
            other => panic!("not a structural rejection: {other}"),
        }
    }

    /// What the independent rules say of an item section (tests only, no
    /// code shared with [`items`]).
    fn independent_items(
        e: &[ItemEntry],
        players: &[PlayerId],
        zones: &[ZoneId],
    ) -> Result<(), rules::Broken> {
        let index = rules::Index {
            players: players.iter().map(|p| p.0).collect(),
            zones: zones.iter().map(|z| z.0).collect(),
            items: e.iter().map(plain).collect(),
            ..rules::Index::default()
        };
        rules::section(rules::ITEM, &index)
    }

    fn dense_holds(e: &[ItemEntry], players: &[PlayerId], zones: &[ZoneId]) -> bool {
        let mut dense = DenseItems::new(e.len(), players, zones);
        e.iter().all(|x| dense.next(x)) && dense.holds()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]

        /// What the streaming check proves, the whole check accepts.
        #[test]
        fn the_dense_shape_proves_only_what_the_rules_accept(
            raw in proptest::collection::vec((0u64..8, 0u8..3, 0u64..8, proptest::option::of(0u64..4)), 0..8),
            mode in 0u8..3,
        ) {
            let mut e: Vec<ItemEntry> = raw
                .into_iter()
                .map(|(id, kind, to, owner)| ItemEntry {
                    id: ItemId(id),
                    location: match kind {
                        0 => ItemLocation::Zone(ZoneId(to % 4)),
                        1 => ItemLocation::Player(PlayerId(to % 4)),
                        _ => ItemLocation::Container(ItemId(to)),
                    },
                    owner: owner.map(PlayerId),
                })
                .collect();
            match mode {
                // Sorted, no duplicates: often the dense shape itself.
                0 => {
                    e.sort_by_key(|x| x.id);
                    e.dedup_by_key(|x| x.id);
                }
                // Non-decreasing in steps of 0, 1 or 2: duplicates and gaps
                // that can balance each other out over the id range.
                1 => {
                    let mut id = 0;
                    for x in &mut e {
                        id += x.id.0 % 3;
                        x.id = ItemId(id);
                    }
                }
                _ => {}
            }
            let (players, zones) = ([PlayerId(0), PlayerId(1), PlayerId(2)], [ZoneId(1), ZoneId(2)]);
            let holds = dense_holds(&e, &players, &zones);
            // The whole check gives the independent rules' answer, rule and
            // ids; the streamed one proves only what they accept.
            let independent = independent_items(&e, &players, &zones);
            proptest::prop_assert_eq!(items(&e, &players, &zones).map_err(broken), independent);
            if holds {
                proptest::prop_assert_eq!(independent, Ok(()));
            }
            // Taken in two runs, split anywhere: the same answer.
            for split in 0..=e.len() {
                let mut head = DenseItems::new(e.len(), &players, &zones);
                let mut tail = DenseItems::new(e.len(), &players, &zones);
                e[..split].iter().for_each(|x| { head.next(x); });
                e[split..].iter().for_each(|x| { tail.next(x); });
                proptest::prop_assert_eq!(DenseItems::joined(&head, &tail), holds, "split {}", split);
            }
        }
    }

    /// Item sections of every legal shape, and each broken once: ids
    /// dense or with gaps, handed out so that containers have smaller,
    /// larger or mixed ids against their contents, as one deep chain,
    /// several chains or a random forest with several roots. Then one item
    /// is moved inside itself or something it holds (a cycle) or into an id
    /// nobody has. `items` must give the independent rules' answer on each,
    /// and `DenseItems` may prove only what they accept.
    fn forest() -> impl proptest::strategy::Strategy<Value = (Vec<ItemEntry>, Vec<ItemEntry>)> {
        use proptest::prelude::*;
        (
            proptest::collection::vec((any::<u64>(), 0u8..4), 1..40),
            any::<bool>(),
            0u8..3,
            0u8..3,
            any::<proptest::sample::Index>(),
            any::<proptest::sample::Index>(),
            any::<bool>(),
        )
            .prop_map(
                |(draws, gaps, orientation, form, victim, target, dangling)| {
                    let n = draws.len();
                    // Distinct ids: 1..=n, or spread over 1..=4n with gaps.
                    let mut ids: Vec<u64> = if gaps {
                        let mut seen = std::collections::BTreeSet::new();
                        for (r, _) in &draws {
                            let mut id = 1 + r % (4 * n as u64);
                            while !seen.insert(id) {
                                id = id % (4 * n as u64) + 1;
                            }
                        }
                        seen.into_iter().collect()
                    } else {
                        (1..=n as u64).collect()
                    };
                    match orientation {
                        0 => {}
                        1 => ids.reverse(),
                        _ => ids.sort_by_key(|id| draws[(*id as usize) % n].0),
                    }
                    let chains = 1 + (draws[0].0 % 3) as usize;
                    let place = |k: usize| match form {
                        _ if k == 0 => None,
                        0 => Some(k - 1),
                        1 if k < chains => None,
                        1 => Some(k - chains),
                        _ if draws[k].1 == 0 => None,
                        _ => Some((draws[k].0 % k as u64) as usize),
                    };
                    let root = |k: usize| {
                        let r = draws[k].0 >> 8;
                        if r % 2 == 0 {
                            rules::Loc::Zone(1 + (r >> 1) % 2)
                        } else {
                            rules::Loc::Player((r >> 1) % 3)
                        }
                    };
                    let owner = |k: usize| (draws[k].1 == 3).then_some((draws[k].0 >> 16) % 3);
                    let entries: Vec<ItemEntry> = rules::forest(&ids, place, root, owner)
                        .into_iter()
                        .map(|i| ItemEntry {
                            id: ItemId(i.id),
                            location: match i.loc {
                                rules::Loc::Zone(z) => ItemLocation::Zone(ZoneId(z)),
                                rules::Loc::Player(p) => ItemLocation::Player(PlayerId(p)),
                                rules::Loc::Container(c) => ItemLocation::Container(ItemId(c)),
                            },
                            owner: i.owner.map(PlayerId),
                        })
                        .collect();
                    // Break it: a container inside what it holds, or missing.
                    let mut broken = entries.clone();
                    let v = victim.index(n);
                    let to = if dangling {
                        let missing: Vec<u64> = (0..=4 * n as u64 + 1)
                            .filter(|id| broken.iter().all(|e| e.id.0 != *id))
                            .collect();
                        missing[target.index(missing.len())]
                    } else {
                        let holds = |e: &ItemEntry| {
                            let mut at = *e;
                            loop {
                                if at.id == broken[v].id {
                                    return true;
                                }
                                match at.location {
                                    ItemLocation::Container(c) => {
                                        at = *broken.iter().find(|x| x.id == c).expect("in")
                                    }
                                    _ => return false,
                                }
                            }
                        };
                        let below: Vec<u64> =
                            broken.iter().filter(|e| holds(e)).map(|e| e.id.0).collect();
                        below[target.index(below.len())]
                    };
                    broken[v].location = ItemLocation::Container(ItemId(to));
                    (entries, broken)
                },
            )
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2048))]

        #[test]
        fn every_legal_shape_is_accepted_and_each_break_refused_as_the_independent_rules_say(
            (legal, broken_) in forest(),
        ) {
            let (players, zones) = ([PlayerId(0), PlayerId(1), PlayerId(2)], [ZoneId(1), ZoneId(2)]);
            proptest::prop_assert_eq!(independent_items(&legal, &players, &zones), Ok(()));
            proptest::prop_assert_eq!(items(&legal, &players, &zones), Ok(()));
            let expected = independent_items(&broken_, &players, &zones);
            proptest::prop_assert!(expected.is_err(), "broken on purpose");
            proptest::prop_assert_eq!(items(&broken_, &players, &zones).map_err(broken), expected);
            proptest::prop_assert!(!dense_holds(&broken_, &players, &zones));
        }
    }

    #[test]
    fn the_dense_shape_is_recognised_and_its_breaks_are_not_proven() {
        let players = [PlayerId(1)];
        let zones = [ZoneId(1)];
        let good = [
            item(10, ItemLocation::Zone(ZoneId(1))),
            item(11, ItemLocation::Container(ItemId(10))),
            item(12, ItemLocation::Player(PlayerId(1))),
        ];
        assert!(dense_holds(&good, &players, &zones));
        assert!(dense_holds(&[], &players, &zones));
        let gap = [good[0], good[1], item(13, ItemLocation::Zone(ZoneId(1)))];
        assert!(!dense_holds(&gap, &players, &zones));
        assert_eq!(
            items(&gap, &players, &zones),
            Ok(()),
            "valid, in another shape"
        );
        let forward = [
            item(10, ItemLocation::Container(ItemId(11))),
            item(11, ItemLocation::Zone(ZoneId(1))),
        ];
        assert!(!dense_holds(&forward, &players, &zones));
        let dangling_owner = [ItemEntry {
            owner: Some(PlayerId(2)),
            ..good[0]
        }];
        assert!(!dense_holds(&dangling_owner, &players, &zones));
        assert!(!dense_holds(&good[..2], &players, &zones[..0]));
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
