//! `Threads::One` keeps seal, verify and open on the calling thread: the
//! same bytes, the same records and the same rejections as `Threads::Two`
//! (issue 14: a setting to keep seal and open on the calling thread).
//!
//! The medium shard is past every threshold at which a second thread is
//! used (a section of 4,096 records or more is split while encoded, the
//! item section of 256 KiB or more is decoded apart, a bundle of 1 MiB or
//! more is digested in two halves), so each comparison below runs both
//! code paths. That no thread is started at all is tests/one_thread.rs's
//! business: it needs a process of its own.
#![cfg(feature = "reference")]

mod common;

use caelmor_persist::reference::{Reference, Shard, ShardSpec};
use caelmor_persist::{
    DigestKey, Epoch, ItemId, ItemLocation, MemBackend, MemStore, PlayerId, Rejection,
    ServerAuthority, Store, StoreConfig, StoreError, Threads, VerifyOptions, verify, verify_as,
};
use common::{SHARD, redigest, redigest_keyed, restore, save};

const KEY: [u8; 32] = [5; 32];

fn medium() -> Shard {
    ShardSpec::medium().generate(14)
}

/// A fresh keyed store of `SHARD` on `threads`, and its authority.
fn store(threads: Threads) -> (MemStore<Reference>, ServerAuthority<Reference>) {
    let config = StoreConfig::new()
        .key(DigestKey::from_bytes(KEY))
        .threads(threads);
    let mut store = Store::with_backend(MemBackend::new(SHARD), config);
    let authority = store.claim().expect("a fresh MemStore claims");
    (store, authority)
}

#[test]
fn the_setting_reaches_the_store_and_its_saves() {
    assert_eq!(StoreConfig::new().threads_used(), Threads::Two);
    assert_eq!(Threads::default(), Threads::Two);
    let config = StoreConfig::new().threads(Threads::One);
    assert_eq!(config.threads_used(), Threads::One);
    assert_eq!(
        config.clone().threads(Threads::Two).threads_used(),
        Threads::Two
    );
}

#[test]
fn one_thread_seals_the_same_bytes() {
    let shard = medium();
    let (_, one) = store(Threads::One);
    let (_, two) = store(Threads::Two);
    let on_one = save(&shard, &one).expect("the generator's shards are consistent");
    let on_two = save(&shard, &two).expect("the generator's shards are consistent");
    assert!(
        on_one.bytes().len() > 1 << 20,
        "the bundle must be past the two-thread digest's threshold"
    );
    assert_eq!(on_one.digest(), on_two.digest());
    assert_eq!(on_one.into_bytes(), on_two.into_bytes());
}

#[test]
fn one_thread_loads_and_restores_the_same_records() {
    let shard = medium();
    let mut restored = Vec::new();
    for threads in [Threads::One, Threads::Two] {
        let (mut store, authority) = store(threads);
        let sealed = save(&shard, &authority).expect("consistent");
        store.commit(sealed, &authority).expect("the first commit");
        let loaded = store.load_latest().expect("it loads").expect("one epoch");
        restored.push(restore(loaded, &authority).expect("its own authority"));
    }
    assert_eq!(restored[0], shard);
    assert_eq!(restored[1], shard);
}

/// `shard` with one defect planted by `plant`, which returns the rejection
/// the save must give.
fn refused_alike(plant: impl Fn(&mut Shard) -> Rejection) {
    let mut shard = medium();
    let expected = plant(&mut shard);
    for threads in [Threads::One, Threads::Two] {
        let (_, authority) = store(threads);
        let refused = save(&shard, &authority).expect_err("a defect was planted");
        assert_eq!(refused, expected, "on {threads:?}");
    }
}

#[test]
fn one_thread_refuses_a_dangling_owner_in_the_split_part_alike() {
    refused_alike(|shard| {
        // Past the split point: the second thread's share of the section.
        let at = shard.items.len() * 9 / 10;
        let item = &mut shard.items[at];
        item.location = ItemLocation::Player(PlayerId(u64::MAX));
        Rejection::DanglingRef {
            edge: caelmor_persist::Edge::ItemPlayer,
            from: item.id.0,
            to: u64::MAX,
        }
    });
}

#[test]
fn one_thread_refuses_a_duplicate_id_alike() {
    refused_alike(|shard| {
        let last = shard.items.len() - 1;
        shard.items[last].id = shard.items[last - 1].id;
        Rejection::DuplicateId {
            system: caelmor_persist::System::Item,
            id: shard.items[last].id.0,
        }
    });
}

#[test]
fn one_thread_refuses_a_containment_cycle_alike() {
    refused_alike(|shard| {
        // Two items near the end, each inside the other.
        let n = shard.items.len();
        let (a, b) = (shard.items[n - 2].id, shard.items[n - 1].id);
        shard.items[n - 2].location = ItemLocation::Container(b);
        shard.items[n - 1].location = ItemLocation::Container(a);
        Rejection::ContainmentCycle {
            item: ItemId(a.0.min(b.0)),
        }
    });
}

/// Single-byte edits of a sealed bundle, spread over every part, digested
/// again with the store's key: verify, typed verify and a store's load
/// give the same answer on one thread as on two.
#[test]
fn one_thread_refuses_damaged_bundles_alike() {
    let shard = medium();
    let (_, authority) = store(Threads::Two);
    let bytes = save(&shard, &authority).expect("consistent").into_bytes();
    let options = |threads| {
        VerifyOptions::new()
            .key(DigestKey::from_bytes(KEY))
            .expect_shard(SHARD)
            .expect_epoch(Epoch::FIRST)
            .threads(threads)
    };
    let mut refused = 0;
    let edits = 16;
    for k in 0..edits {
        // Edits across the whole bundle, digest excluded.
        let at = 18 + (bytes.len() - 18 - 32) * k / edits;
        let mut edited = bytes.clone();
        edited[at] ^= 0x5a;
        let edited = redigest_keyed(&edited, &KEY);
        let plain = [Threads::One, Threads::Two].map(|t| verify(&edited, &options(t)));
        assert_eq!(plain[0], plain[1], "verify, edit at {at}");
        let typed =
            [Threads::One, Threads::Two].map(|t| verify_as::<Reference>(&edited, &options(t)));
        assert_eq!(typed[0], typed[1], "verify_as, edit at {at}");
        let loads = [Threads::One, Threads::Two].map(|t| load_planted(&edited, t));
        assert_eq!(loads[0], loads[1], "a store's load, edit at {at}");
        refused += usize::from(typed[0].is_err());
    }
    // Not a vacuous comparison: most single-byte edits are refused.
    assert!(
        refused > edits / 2,
        "only {refused} of {edits} edits refused"
    );
    // And an unkeyed digest is refused by the keyed readers alike.
    let unkeyed = redigest(&bytes);
    let refused = [Threads::One, Threads::Two].map(|t| verify(&unkeyed, &options(t)).err());
    assert_eq!(
        refused,
        [
            Some(Rejection::DigestMismatch),
            Some(Rejection::DigestMismatch)
        ]
    );
}

/// What a keyed store on `threads` says when `bytes` is its latest epoch:
/// what it loaded, or the refusal's code and message.
fn load_planted(
    bytes: &[u8],
    threads: Threads,
) -> Result<caelmor_persist::Summary, (String, String)> {
    let (store, _authority) = common::planted_with(
        bytes,
        SHARD,
        Epoch::FIRST,
        StoreConfig::new()
            .key(DigestKey::from_bytes(KEY))
            .threads(threads),
    );
    match store.load_latest() {
        Ok(loaded) => Ok(loaded.expect("an epoch was planted").summary().clone()),
        Err(e @ StoreError::Damaged { .. }) => Err((e.code().to_owned(), e.to_string())),
        Err(other) => panic!("planted bytes refused other than as damage: {other}"),
    }
}
