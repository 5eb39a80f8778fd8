//! Golden fixtures: bundles written by the frozen schemas of
//! `tests/frozen` (v1, v2), checked in under `tests/fixtures/migrate/`,
//! and what the frozen hops make of them, byte for byte.
//!
//! They prove, across every future change of the crate, that
//!
//! - the format is stable: today's writer still writes the checked-in v1
//!   and v2 bundles, and they still verify and open under their schemas;
//! - migrations are stable: the checked-in v1 and v2 bundles, loaded as a
//!   shard's latest epoch, migrate to exactly the checked-in v2 and v3
//!   bundles (one hop, and two through v2);
//! - a tampered old bundle is refused before any mapping runs.
//!
//! A failure here means that bundles on disk would open or migrate
//! differently: fix the crate, not the fixtures. To change them on
//! purpose (a new format version, say), run
//!
//! ```text
//! CAELMOR_REGENERATE_FIXTURES=1 cargo test --all-features --test golden
//! ```
//!
//! and commit the new files with the reason. Without the variable a
//! missing or different fixture fails the test loudly.

#![cfg(feature = "reference")]

mod common;
mod frozen;

use std::path::PathBuf;

use caelmor_persist::migrate::{Migrate, MigrateError, Migration, Unmappable};
use caelmor_persist::{
    Epoch, Fence, MemBackend, RejectionCode, Restore, Save, Schema, Sealed, Start, Store,
    StoreConfig, StoreError, System, VerifyOptions, verify, verify_as,
};
use common::{Planted, redigest};
use frozen::{Records, SHARD, V1ToV2, V2ToV3, v1, v2, v3};

const REGENERATE: &str = "CAELMOR_REGENERATE_FIXTURES";

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/migrate")
        .join(name)
}

/// The checked-in fixture `name`, which must be exactly `made`; with
/// `CAELMOR_REGENERATE_FIXTURES` set, `made` is written there instead.
fn golden(name: &str, made: &[u8]) -> Vec<u8> {
    let at = path(name);
    if std::env::var_os(REGENERATE).is_some() {
        std::fs::create_dir_all(at.parent().expect("a directory")).expect("create fixtures dir");
        std::fs::write(&at, made).expect("write fixture");
        return made.to_vec();
    }
    let stored = std::fs::read(&at).unwrap_or_else(|e| {
        panic!(
            "{}: {e}. The golden fixtures are checked in and frozen; regenerate them only \
             deliberately, with {REGENERATE}=1 (see tests/golden.rs)",
            at.display()
        )
    });
    assert!(
        stored == made,
        "{}: the crate no longer writes the checked-in bytes ({} bytes checked in, {} made). \
         Bundles on disk would open or migrate differently: fix the crate. Regenerate with \
         {REGENERATE}=1 only for a deliberate format change, with a new format version.",
        at.display(),
        stored.len(),
        made.len()
    );
    stored
}

/// The checked-in fixture `name`, as it is: the bytes of the past, not
/// what today's writer makes (with `CAELMOR_REGENERATE_FIXTURES` set,
/// `make` writes it first).
fn checked_in(name: &str, make: impl FnOnce() -> Vec<u8>) -> Vec<u8> {
    if std::env::var_os(REGENERATE).is_some() {
        return golden(name, &make());
    }
    std::fs::read(path(name)).unwrap_or_else(|e| {
        panic!(
            "{}: {e}. The golden fixtures are checked in and frozen; regenerate them only \
             deliberately, with {REGENERATE}=1 (see tests/golden.rs)",
            path(name).display()
        )
    })
}

fn v1_bundle() -> Vec<u8> {
    checked_in("v1.cpb", || first_save::<v1::Frozen>(&v1::shard()))
}

fn v2_bundle() -> Vec<u8> {
    checked_in("v2.cpb", || first_save::<v2::Frozen>(&v2::shard()))
}

/// What the frozen server of schema `S` committed first: epoch 1 of the
/// fixtures' shard, fence 1, unkeyed.
fn first_save<S: Schema>(records: &Records<S>) -> Vec<u8> {
    let mut store = Store::<S, _>::with_backend(MemBackend::new(SHARD), StoreConfig::new());
    let authority = store.claim().expect("claim");
    let (p, z, n, i, q) = records;
    Save::begin(&authority)
        .players(p)
        .and_then(|s| s.world(z))
        .and_then(|s| s.npcs(n))
        .and_then(|s| s.items(i))
        .and_then(|s| s.quests(q))
        .expect("the frozen shard is consistent")
        .seal()
        .into_bytes()
}

/// A store of schema `New` whose latest epoch, 1, is `bytes` (an editor
/// rewriting a shard's bundle and its head alike could plant anything),
/// claimed again so that its authority's next save is epoch 2 (fence 2):
/// `run` migrates it.
fn migrated<Old: Schema, New: Schema>(
    bytes: &[u8],
    run: impl FnOnce(Migrate<Old, New, Start>) -> Result<Sealed<New>, MigrateError>,
) -> Result<Vec<u8>, MigrateError> {
    let backend = Planted::new(SHARD);
    let mut store = Store::<New, _>::with_backend(backend.clone(), StoreConfig::new());
    store.claim().expect("claim");
    backend.plant(Epoch(1), bytes.to_vec());
    let authority = store.claim().expect("claim");
    let sealed = run(store.migrate::<Old>(&authority)?)?;
    assert_eq!((sealed.epoch(), sealed.fence()), (Epoch(2), Fence(2)));
    Ok(sealed.into_bytes())
}

/// Loads `bytes` as the latest epoch of a store of `S` and restores them.
fn restored<S: Schema>(bytes: &[u8], epoch: Epoch) -> Records<S> {
    let backend = Planted::new(SHARD);
    let mut store = Store::<S, _>::with_backend(backend.clone(), StoreConfig::new());
    store.claim().expect("claim");
    backend.plant(epoch, bytes.to_vec());
    let authority = store.claim().expect("claim");
    let a = Restore::open(
        store.load_latest().expect("load").expect("planted"),
        &authority,
    )
    .expect("open")
    .players()
    .world()
    .npcs()
    .items()
    .quests()
    .activate(&authority)
    .expect("activate");
    (a.players, a.zones, a.npcs, a.items, a.quests)
}

#[test]
fn the_writer_still_writes_the_checked_in_bundles() {
    golden("v1.cpb", &first_save::<v1::Frozen>(&v1::shard()));
    golden("v2.cpb", &first_save::<v2::Frozen>(&v2::shard()));
}

#[test]
fn the_checked_in_bundles_still_verify_and_open_under_their_frozen_schemas() {
    let v1_bytes = v1_bundle();
    let v2_bytes = v2_bundle();
    for (bytes, version) in [(&v1_bytes, 1), (&v2_bytes, 2)] {
        let verified = verify(bytes, &VerifyOptions::new()).expect("verifies");
        assert_eq!(verified.summary.schema_name, "caelmor-frozen");
        assert_eq!(verified.summary.schema_version, version);
        assert_eq!(verified.summary.epoch, Epoch(1));
        assert_eq!(verified.summary.format_version, 2);
    }
    verify_as::<v1::Frozen>(&v1_bytes, &VerifyOptions::new()).expect("opens as v1");
    verify_as::<v2::Frozen>(&v2_bytes, &VerifyOptions::new()).expect("opens as v2");
    assert_eq!(restored::<v1::Frozen>(&v1_bytes, Epoch(1)), v1::shard());
    assert_eq!(restored::<v2::Frozen>(&v2_bytes, Epoch(1)), v2::shard());
    // And under no other schema.
    let refused = verify_as::<v2::Frozen>(&v1_bytes, &VerifyOptions::new()).unwrap_err();
    assert_eq!(refused.code(), RejectionCode::Schema);
}

#[test]
fn the_checked_in_bundles_migrate_to_the_checked_in_bytes() {
    let v1_bytes = v1_bundle();
    let v2_bytes = v2_bundle();
    let v1_to_v2 = migrated::<v1::Frozen, v2::Frozen>(&v1_bytes, |m| Ok(m.run(V1ToV2)?.seal()))
        .expect("migrates");
    let v1_to_v3 =
        migrated::<v1::Frozen, v3::Frozen>(&v1_bytes, |m| Ok(m.via(V1ToV2)?.run(V2ToV3)?.seal()))
            .expect("migrates");
    let v2_to_v3 = migrated::<v2::Frozen, v3::Frozen>(&v2_bytes, |m| Ok(m.run(V2ToV3)?.seal()))
        .expect("migrates");
    golden("v1-to-v2.cpb", &v1_to_v2);
    golden("v1-to-v3.cpb", &v1_to_v3);
    golden("v2-to-v3.cpb", &v2_to_v3);

    // The migrated bundles open under their schemas, as the next epoch.
    for (bytes, version) in [(&v1_to_v2, 2), (&v1_to_v3, 3), (&v2_to_v3, 3)] {
        let summary = verify(bytes, &VerifyOptions::new())
            .expect("verifies")
            .summary;
        assert_eq!((summary.schema_version, summary.epoch), (version, Epoch(2)));
    }
    let through_v2 = restored::<v3::Frozen>(&v1_to_v3, Epoch(2));
    assert_eq!(
        restored::<v2::Frozen>(&v1_to_v2, Epoch(2)).0[1].gold,
        u64::from(u32::MAX)
    );
    // What the hops derived, and left alone.
    assert_eq!(
        restored::<v3::Frozen>(&v2_to_v3, Epoch(2)).1,
        restored::<v2::Frozen>(&v2_bytes, Epoch(1)).1
    );
    assert_eq!(through_v2.0[1].gold, u64::from(u32::MAX));
    assert_eq!(
        through_v2.3.iter().map(|i| i.soulbound).collect::<Vec<_>>(),
        [true, true, true, false, false]
    );
}

/// Counts every call of the v1 → v2 mapping functions.
#[derive(Default)]
struct Watched {
    calls: u32,
}

impl Migration<v1::Frozen, v2::Frozen> for &mut Watched {
    fn players(&mut self, old: Vec<v1::Player>) -> Result<Vec<v2::Player>, Unmappable> {
        self.calls += 1;
        V1ToV2.players(old)
    }
    fn world(&mut self, old: Vec<v1::Zone>, p: &[v2::Player]) -> Result<Vec<v2::Zone>, Unmappable> {
        self.calls += 1;
        V1ToV2.world(old, p)
    }
    fn npcs(
        &mut self,
        old: Vec<v1::Npc>,
        p: &[v2::Player],
        z: &[v2::Zone],
    ) -> Result<Vec<v2::Npc>, Unmappable> {
        self.calls += 1;
        V1ToV2.npcs(old, p, z)
    }
    fn items(
        &mut self,
        old: Vec<v1::Item>,
        p: &[v2::Player],
        z: &[v2::Zone],
        n: &[v2::Npc],
    ) -> Result<Vec<v2::Item>, Unmappable> {
        self.calls += 1;
        V1ToV2.items(old, p, z, n)
    }
    fn quests(
        &mut self,
        old: Vec<v1::Quest>,
        p: &[v2::Player],
        z: &[v2::Zone],
        n: &[v2::Npc],
        i: &[v2::Item],
    ) -> Result<Vec<v2::Quest>, Unmappable> {
        self.calls += 1;
        V1ToV2.quests(old, p, z, n, i)
    }
}

/// `bytes` with the first occurrence of `find` replaced by `with`, then
/// re-framed and re-digested (unkeyed): an editor who knows the format.
fn edited(bytes: &[u8], find: &[u8], with: &[u8]) -> Vec<u8> {
    assert_eq!(find.len(), with.len());
    let at = bytes
        .windows(find.len())
        .position(|w| w == find)
        .expect("the bytes to edit are there");
    let mut out = bytes.to_vec();
    out[at..at + with.len()].copy_from_slice(with);
    redigest(&out)
}

#[test]
fn a_tampered_old_bundle_is_refused_before_any_mapping_runs() {
    let v1_bytes = v1_bundle();
    // Untouched, the watched hop runs all five functions.
    let mut watched = Watched::default();
    migrated::<v1::Frozen, v2::Frozen>(&v1_bytes, |m| Ok(m.run(&mut watched)?.seal()))
        .expect("migrates");
    assert_eq!(watched.calls, 5);

    // Item 5's owner changed from player 1 to player 3 in its record, not
    // in the structural index: the record disagrees with its index entry.
    let (_, _, _, items, _) = v1::shard();
    let record = postcard::to_allocvec(&items[4]).unwrap();
    let mut other = items[4].clone();
    other.owner = Some(caelmor_persist::PlayerId(3));
    let forged = edited(&v1_bytes, &record, &postcard::to_allocvec(&other).unwrap());
    // The player's gold in its header shape says `u64`: not the v1 record
    // type the bytes were written by.
    let mut gold_u32 = vec![4];
    gold_u32.extend_from_slice(b"gold");
    let mut gold_u64 = gold_u32.clone();
    gold_u32.push(0x08);
    gold_u64.push(0x09);
    let reshaped = edited(&v1_bytes, &gold_u32, &gold_u64);

    for (what, bytes, code) in [
        ("a record edited", forged, "E-STORE-DAMAGED"),
        ("a shape edited", reshaped, "E-STORE-SCHEMA"),
    ] {
        let mut watched = Watched::default();
        let refused =
            migrated::<v1::Frozen, v2::Frozen>(&bytes, |m| Ok(m.run(&mut watched)?.seal()))
                .expect_err(what);
        assert_eq!(refused.code(), code, "{what}: {refused}");
        assert_eq!(watched.calls, 0, "{what}: a mapping ran");
        match refused {
            MigrateError::Store(StoreError::Damaged {
                rejection: Some(r), ..
            }) => assert_eq!(r.code(), RejectionCode::IndexMismatch, "{what}"),
            MigrateError::Store(StoreError::ShapeMismatch { mismatch, .. }) => {
                assert_eq!(mismatch.system(), System::Player);
                assert_eq!(mismatch.difference(), "Player.gold: was u64, now u32");
            }
            other => panic!("{what}: {other}"),
        }
    }
}
