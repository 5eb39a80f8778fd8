//! Item containment in every legal shape, and its cycles and dangling
//! chains, through the save chain and through a store's load (issue 11,
//! item 2).
//!
//! The reference generator always gives a container a smaller id than what
//! it holds, so a walk of whole chains never ran on a valid shard there,
//! and "the walk marks only the first item of a path as rooted" survived:
//! it refuses items 1 and 2 inside item 4 (on the ground) as a cycle. Here
//! the shapes are drawn on purpose: containers with larger ids than their
//! contents, deep chains in both directions, gaps in the ids, several
//! roots; every expected answer comes from the independent rules of
//! `tests/independent`, never from the crate's own check.

#![cfg(feature = "reference")]

mod common;

use caelmor_persist::reference::{Item, Reference, Shard, ShardSpec};
use caelmor_persist::{
    Edge, FileStore, ItemId, ItemLocation, MemStore, PlayerId, Rejection, ShardId, ZoneId,
};
use common::independent::rules;
use common::{
    Bundle, EPOCH, SHARD, crate_location, load_as, open_agreeing, plain_rejection, restore,
    restore_bytes, save, shard_index, shuffled,
};
use proptest::prelude::*;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(cases),
        ..ProptestConfig::default()
    }
}

/// Two players, two zones, no items yet.
fn base() -> Shard {
    ShardSpec {
        players: 2,
        zones: 2,
        npcs: 1,
        items: 0,
        quests: 1,
    }
    .generate(11)
}

fn item(id: u64, location: ItemLocation) -> Item {
    Item {
        id: ItemId(id),
        template: 40 + id as u32,
        stack: 1,
        durability: None,
        location,
        owner: None,
    }
}

fn with_items(items: Vec<Item>) -> Shard {
    let mut shard = base();
    shard.items = items;
    shard.items.sort_by_key(|i| i.id);
    shard
}

const GROUND: ItemLocation = ItemLocation::Zone(ZoneId(1));

fn inside(id: u64) -> ItemLocation {
    ItemLocation::Container(ItemId(id))
}

/// What a save of `shard` (in shuffled order) says, and what a store's load
/// of the specification's encoding of it says (each held to the
/// independent reader): both must be `expected`.
fn saved_and_loaded(shard: &Shard, expected: Result<(), Rejection>) {
    let authority = common::authority();
    let saved = save(&shuffled(shard, 5), &authority).map(|_| ());
    assert_eq!(saved, expected, "the save chain");
    let bytes = Bundle::of(shard).bytes();
    open_agreeing("hand-encoded", &bytes, SHARD, EPOCH, None).ok();
    assert_eq!(load_as(&bytes, SHARD, EPOCH, None), expected, "a load");
}

/// The shard through a real `FileStore`: saved, committed, loaded,
/// restored and activated, record for record.
fn through_a_file_store(shard: &Shard) {
    let root = tempfile::tempdir().expect("temp dir");
    let mut store = FileStore::<Reference>::open(root.path(), SHARD).expect("open");
    let authority = store.claim().expect("claim");
    let sealed = save(&shuffled(shard, 9), &authority).expect("a valid shard saves");
    store.commit(sealed, &authority).expect("commit");
    let loaded = store.load_latest().expect("load").expect("committed");
    assert_eq!(&restore(loaded, &authority).expect("restores"), shard);
}

#[test]
fn containers_with_larger_ids_than_their_contents_are_accepted() {
    // The case: items 1 and 2 inside item 4, item 4 on the ground.
    let shard = with_items(vec![
        item(1, inside(4)),
        item(2, inside(4)),
        item(4, GROUND),
    ]);
    assert_eq!(rules::all(&shard_index(&shard)), Ok(()));
    saved_and_loaded(&shard, Ok(()));
    through_a_file_store(&shard);
    assert_eq!(
        restore_bytes(&Bundle::of(&shard).bytes(), SHARD, EPOCH, None).expect("loads"),
        shard
    );

    // A chain climbing the ids: 1 in 2 in 3 … in 9, 9 on a player; and a
    // second root whose content zig-zags (7 in 10, 10 in 8, 8 on the
    // ground), with gaps.
    let mut items: Vec<Item> = (1..9).map(|id| item(id, inside(id + 1))).collect();
    items.push(item(9, ItemLocation::Player(PlayerId(2))));
    items.push(item(12, inside(20)));
    items.push(item(20, inside(15)));
    items.push(item(15, GROUND));
    let shard = with_items(items);
    assert_eq!(rules::all(&shard_index(&shard)), Ok(()));
    saved_and_loaded(&shard, Ok(()));
    through_a_file_store(&shard);
}

#[test]
fn cycles_and_dangling_chains_with_larger_containers_are_refused() {
    // 1 in 3, 3 in 5, 5 in 1: every container but the last has a larger id.
    let cycle = with_items(vec![
        item(1, inside(3)),
        item(3, inside(5)),
        item(5, inside(1)),
    ]);
    saved_and_loaded(&cycle, Err(Rejection::ContainmentCycle { item: ItemId(1) }));

    // A rooted pair first (1 and 2 in 4, 4 on the ground), then a chain
    // from 6 into the cycle 7 → 9 → 7: the cycle's smallest id is named.
    let lasso = with_items(vec![
        item(1, inside(4)),
        item(2, inside(4)),
        item(4, GROUND),
        item(6, inside(9)),
        item(7, inside(9)),
        item(9, inside(7)),
    ]);
    assert_eq!(
        rules::all(&shard_index(&lasso)),
        Err(rules::Broken::Cycle { smallest: 7 })
    );
    saved_and_loaded(&lasso, Err(Rejection::ContainmentCycle { item: ItemId(7) }));

    // A chain climbing the ids to a container that does not exist.
    let dangling = with_items(vec![
        item(1, inside(4)),
        item(2, inside(4)),
        item(4, inside(9)),
    ]);
    saved_and_loaded(
        &dangling,
        Err(Rejection::DanglingRef {
            edge: Edge::ItemItem,
            from: 4,
            to: 9,
        }),
    );
}

/// How a drawn forest's ids relate to its containment.
#[derive(Clone, Copy, Debug)]
enum Orientation {
    /// Containers created first get the smaller ids (the generator's shape).
    Descending,
    /// Containers get larger ids than their contents.
    Ascending,
    /// Ids handed out in random order.
    Mixed,
}

/// How a drawn forest is shaped.
#[derive(Clone, Copy, Debug)]
enum Form {
    /// One chain, each item in the one before.
    Chain,
    /// Each item in a random earlier one, or a root (several roots).
    Random,
    /// A few deep chains side by side.
    Chains,
}

/// A legal item section drawn from `seed`: `n` items with distinct ids
/// (dense from 1, or with gaps), placed by `form`, ids by `orientation`.
fn forest(seed: u64, n: usize, gaps: bool, orientation: Orientation, form: Form) -> Vec<Item> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut ids: Vec<u64> = if gaps {
        let mut pool: Vec<u64> = (1..=(4 * n as u64 + 4)).collect();
        pool.shuffle(&mut rng);
        pool.truncate(n);
        pool.sort_unstable();
        pool
    } else {
        (1..=n as u64).collect()
    };
    // `ids[k]` goes to the k-th item created; a container is always created
    // before what it holds.
    match orientation {
        Orientation::Descending => {}
        Orientation::Ascending => ids.reverse(),
        Orientation::Mixed => ids.shuffle(&mut rng),
    }
    let chains = rng.random_range(2..=4usize);
    let places: Vec<Option<usize>> = (0..n)
        .map(|k| match form {
            _ if k == 0 => None,
            Form::Chain => Some(k - 1),
            Form::Chains if k < chains => None,
            Form::Chains => Some(k - chains),
            Form::Random if rng.random_bool(0.25) => None,
            Form::Random => Some(rng.random_range(0..k)),
        })
        .collect();
    let roots: Vec<rules::Loc> = (0..n)
        .map(|_| {
            if rng.random_bool(0.5) {
                rules::Loc::Zone(rng.random_range(1..=2))
            } else {
                rules::Loc::Player(rng.random_range(1..=2))
            }
        })
        .collect();
    let owners: Vec<Option<u64>> = (0..n)
        .map(|_| rng.random_bool(0.5).then(|| rng.random_range(1..=2)))
        .collect();
    rules::forest(&ids, |k| places[k], |k| roots[k], |k| owners[k])
        .into_iter()
        .map(|e| Item {
            owner: e.owner.map(PlayerId),
            ..item(e.id, crate_location(e.loc))
        })
        .collect()
}

fn any_forest() -> impl Strategy<Value = Vec<Item>> {
    (
        any::<u64>(),
        0usize..48,
        any::<bool>(),
        prop_oneof![
            Just(Orientation::Descending),
            Just(Orientation::Ascending),
            Just(Orientation::Mixed)
        ],
        prop_oneof![Just(Form::Chain), Just(Form::Random), Just(Form::Chains)],
    )
        .prop_map(|(seed, n, gaps, orientation, form)| forest(seed, n, gaps, orientation, form))
}

/// The items `victim` holds, directly or not, and `victim` itself.
fn beneath(items: &[Item], victim: ItemId) -> Vec<ItemId> {
    items
        .iter()
        .filter(|i| {
            let mut at = i.id;
            loop {
                if at == victim {
                    return true;
                }
                match items.iter().find(|x| x.id == at).expect("in").location {
                    ItemLocation::Container(c) => at = c,
                    _ => return false,
                }
            }
        })
        .map(|i| i.id)
        .collect()
}

proptest! {
    #![proptest_config(config(96))]

    /// Every legal shape saves, commits, loads and restores record for
    /// record, and the independent rules accept it too.
    #[test]
    fn every_legal_shape_is_accepted(items in any_forest()) {
        let shard = with_items(items);
        prop_assert_eq!(rules::all(&shard_index(&shard)), Ok(()));
        let mut store = MemStore::<Reference>::new(ShardId(1));
        let authority = store.claim().expect("claim");
        let sealed = save(&shuffled(&shard, 3), &authority).expect("a legal shape saves");
        let bytes = sealed.bytes().to_vec();
        prop_assert_eq!(&bytes, &Bundle::of(&shard).bytes());
        store.commit(sealed, &authority).expect("commit");
        let loaded = store.load_latest().expect("load").expect("committed");
        prop_assert_eq!(restore(loaded, &authority).expect("restores"), shard);
        prop_assert!(open_agreeing("legal", &bytes, SHARD, EPOCH, None).is_ok());
    }

    /// One item of a legal shape moved inside itself or something it holds
    /// (a cycle), or into an id nobody has (in a gap or past the last):
    /// the save step and a load refuse it with the independent rules'
    /// answer, code and ids.
    #[test]
    fn a_broken_shape_is_refused_as_the_independent_rules_say(
        items in any_forest().prop_filter("an item to break", |i| !i.is_empty()),
        victim in any::<prop::sample::Index>(),
        target in any::<prop::sample::Index>(),
        dangling in any::<bool>(),
    ) {
        let mut shard = with_items(items);
        let v = victim.index(shard.items.len());
        let victim_id = shard.items[v].id;
        let to = if dangling {
            let max = shard.items.iter().map(|i| i.id.0).max().expect("items");
            let missing: Vec<u64> = (1..=max + 2)
                .filter(|id| shard.items.iter().all(|i| i.id.0 != *id))
                .collect();
            ItemId(missing[target.index(missing.len())])
        } else {
            let below = beneath(&shard.items, victim_id);
            below[target.index(below.len())]
        };
        shard.items[v].location = ItemLocation::Container(to);
        let expected = rules::all(&shard_index(&shard)).expect_err("broken on purpose");
        let saved = save(&shuffled(&shard, 7), &common::authority()).map(|_| ());
        let saved = saved.expect_err("refused by the item step");
        prop_assert_eq!(plain_rejection(&saved), Some(expected), "save: {}", saved);
        let bytes = Bundle::of(&shard).bytes();
        let loaded = load_as(&bytes, SHARD, EPOCH, None).expect_err("refused by a load");
        prop_assert_eq!(plain_rejection(&loaded), Some(expected), "load: {}", loaded);
        let opened = open_agreeing("broken", &bytes, SHARD, EPOCH, None)
            .expect_err("refused by the typed reader");
        prop_assert_eq!(plain_rejection(&opened), Some(expected), "open: {}", opened);
    }
}

/// The generator reaches every shape it promises, in the cases proptest
/// draws: containers with larger and smaller ids than their contents,
/// chains deeper than 16 in both directions, gaps, several roots.
#[test]
fn the_generator_draws_every_legal_shape() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut larger, mut smaller, mut gaps, mut roots, mut deep_up, mut deep_down) =
        (0, 0, 0, 0, 0, 0);
    for _ in 0..200 {
        use proptest::strategy::ValueTree;
        let items = any_forest()
            .new_tree(&mut runner)
            .expect("a value")
            .current();
        let index = |id: ItemId| items.iter().position(|i| i.id == id).expect("in");
        let containers = || {
            items.iter().filter_map(|i| match i.location {
                ItemLocation::Container(c) => Some((i.id, c)),
                _ => None,
            })
        };
        larger += usize::from(containers().any(|(i, c)| c > i));
        smaller += usize::from(containers().any(|(i, c)| c < i));
        gaps += usize::from(items.last().is_some_and(|l| l.id.0 > items.len() as u64));
        roots += usize::from(
            items
                .iter()
                .filter(|i| !matches!(i.location, ItemLocation::Container(_)))
                .count()
                > 1,
        );
        // The longest chain whose every hop goes up (or down) in ids.
        let run = |up: bool| {
            items
                .iter()
                .map(|i| {
                    let (mut at, mut depth) = (i, 0);
                    while let ItemLocation::Container(c) = at.location {
                        if (c > at.id) != up {
                            break;
                        }
                        at = &items[index(c)];
                        depth += 1;
                    }
                    depth
                })
                .max()
                .unwrap_or(0)
        };
        deep_up += usize::from(run(true) > 16);
        deep_down += usize::from(run(false) > 16);
    }
    for (what, n) in [
        ("a container with a larger id", larger),
        ("a container with a smaller id", smaller),
        ("gaps in the ids", gaps),
        ("several roots", roots),
        ("a chain deeper than 16 going up", deep_up),
        ("a chain deeper than 16 going down", deep_down),
    ] {
        assert!(n >= 10, "{what}: in {n} of 200 draws");
    }
}

#[test]
fn a_deep_chain_climbing_the_ids_saves_and_loads() {
    // 2,000 items, each inside the next larger id; the last on a player.
    let mut items: Vec<Item> = (1..2_000).map(|id| item(id, inside(id + 1))).collect();
    items.push(item(2_000, ItemLocation::Player(PlayerId(1))));
    let shard = with_items(items);
    saved_and_loaded(&shard, Ok(()));
    through_a_file_store(&shard);
}
