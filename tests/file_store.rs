//! `FileStore` as a server uses it: commits, claims and fences, loads that
//! never fall back, retention, leftovers, keys, and typed errors. (The
//! crash-consistency proof, which needs the store's internal I/O seam, is in
//! `src/store/file/tests.rs`.)

#![cfg(feature = "reference")]

use std::fs;
use std::path::Path;

use caelmor_persist::reference::{Reference, Shard, ShardSpec};
use caelmor_persist::{
    DigestKey, Epoch, Fence, FileStore, FileStoreConfig, MemStore, RejectionCode, Restore, Save,
    Sealed, ServerAuthority, ShardDir, ShardId, Store, StoreError, VerifyOptions, verify,
};

const SHARD: ShardId = ShardId(1);

fn world(seed: u64) -> Shard {
    ShardSpec {
        players: 4,
        zones: 3,
        npcs: 5,
        items: 20,
        quests: 4,
    }
    .generate(seed)
}

fn seal(authority: &ServerAuthority<Reference>, w: &Shard) -> Sealed<Reference> {
    Save::begin(authority)
        .players(&w.players)
        .and_then(|s| s.world(&w.zones))
        .and_then(|s| s.npcs(&w.npcs))
        .and_then(|s| s.items(&w.items))
        .and_then(|s| s.quests(&w.quests))
        .expect("consistent")
        .seal()
}

fn commit(store: &mut FileStore<Reference>, authority: &mut ServerAuthority<Reference>) -> Epoch {
    let w = world(authority.next_epoch().get());
    store
        .commit(seal(authority, &w), authority)
        .expect("commit")
        .epoch
}

fn open(root: &Path) -> FileStore<Reference> {
    FileStore::open(root, SHARD).expect("open")
}

#[test]
fn commits_are_files_that_restore_in_full() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = open(tmp.path());
    assert!(store.load_latest().unwrap().is_none(), "an empty shard");
    let mut authority = store.claim().unwrap();
    for n in 1..=3 {
        assert_eq!(commit(&mut store, &mut authority), Epoch(n));
    }
    let dir = ShardDir::of(tmp.path(), SHARD);
    assert_eq!(store.dir(), &dir);
    for n in 1..=3 {
        assert!(dir.epoch_path(Epoch(n)).is_file());
    }
    assert_eq!(store.epochs().unwrap(), [Epoch(1), Epoch(2), Epoch(3)]);
    drop(store);

    // A restarted server: a new store, a new claim, the same files.
    let mut store = open(tmp.path());
    let authority = store.claim().unwrap();
    assert_eq!(authority.next_epoch(), Epoch(4));
    let loaded = store.load_latest().unwrap().expect("epoch 3");
    assert_eq!(loaded.epoch(), Epoch(3));
    let (r, players) = Restore::open(loaded, &authority).unwrap().players();
    let (r, zones) = r.world();
    let (r, npcs) = r.npcs();
    let (r, items) = r.items();
    let (r, quests) = r.quests();
    let active = r.activate(&authority).unwrap();
    let restored = Shard {
        players: active.activate(players).unwrap(),
        zones: active.activate(zones).unwrap(),
        npcs: active.activate(npcs).unwrap(),
        items: active.activate(items).unwrap(),
        quests: active.activate(quests).unwrap(),
    };
    assert_eq!(restored, world(3));
}

#[test]
fn each_claim_increments_and_persists_the_fence() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = open(tmp.path());
    assert_eq!(store.fence(), Fence(0));
    assert_eq!(store.claim().unwrap().fence(), Fence(1));
    assert_eq!(store.claim().unwrap().fence(), Fence(2));
    drop(store);
    let dir = ShardDir::of(tmp.path(), SHARD);
    assert_eq!(dir.fence().unwrap(), Fence(2));
    assert_eq!(
        fs::read_to_string(dir.fence_path()).unwrap(),
        "caelmor-persist fence 2\n"
    );
    let mut store = open(tmp.path());
    assert_eq!(store.fence(), Fence(2));
    assert_eq!(store.claim().unwrap().fence(), Fence(3));
}

#[test]
fn a_second_claim_is_refused_while_the_first_store_lives() {
    let tmp = tempfile::tempdir().unwrap();
    let mut first = open(tmp.path());
    let _authority = first.claim().unwrap();
    assert!(first.is_claimed());

    let mut second = open(tmp.path());
    let err = second.claim().unwrap_err();
    assert!(matches!(&err, StoreError::Claimed { path } if path == first.dir().path()));
    assert_eq!(err.code(), "E-STORE-CLAIMED");
    assert!(err.to_string().starts_with("E-STORE-CLAIMED: "));
    assert!(!second.is_claimed());
    // Reading needs no claim.
    assert!(second.load_latest().unwrap().is_none());

    drop(first);
    assert_eq!(second.claim().unwrap().fence(), Fence(2));
}

#[test]
fn a_bundle_sealed_under_an_older_claim_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    // A server claims, seals, and dies before committing…
    let stale = {
        let mut store = open(tmp.path());
        let authority = store.claim().unwrap();
        seal(&authority, &world(1))
    };
    assert_eq!(stale.fence(), Fence(1));
    // …its successor claims the shard…
    let mut store = open(tmp.path());
    let mut authority = store.claim().unwrap();
    assert_eq!(authority.fence(), Fence(2));
    // …and the stale bundle reaches the store anyway.
    let err = store.commit(stale, &mut authority).unwrap_err();
    assert!(
        matches!(
            err.error,
            StoreError::Fenced {
                current: Fence(2),
                found: Fence(1)
            }
        ),
        "{}",
        err.error
    );
    assert_eq!(err.error.code(), "E-STORE-FENCED");
    assert!(store.load_latest().unwrap().is_none());
    assert_eq!(commit(&mut store, &mut authority), Epoch(1));
}

#[test]
fn an_authority_superseded_by_a_later_claim_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = open(tmp.path());
    let mut old = store.claim().unwrap();
    let _new = store.claim().unwrap();
    let sealed = seal(&old, &world(1));
    let err = store.commit(sealed, &mut old).unwrap_err();
    assert_eq!(err.error.code(), "E-STORE-FENCED");
}

#[test]
fn only_the_next_epoch_of_this_shard_from_this_store_commits() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = open(tmp.path());
    let mut authority = store.claim().unwrap();
    let early = seal(&authority, &world(1));
    assert_eq!(commit(&mut store, &mut authority), Epoch(1));
    // Sealed for epoch 1, which is no longer next.
    let err = store.commit(early, &mut authority).unwrap_err();
    assert!(matches!(
        err.error,
        StoreError::EpochNotNext {
            expected: Epoch(2),
            found: Epoch(1)
        }
    ));

    // Another shard's bundle, with this store's authority.
    let mut other = MemStore::<Reference>::new(ShardId(9));
    let other_authority = other.claim().unwrap();
    let foreign_bundle = seal(&other_authority, &world(2));
    let err = store.commit(foreign_bundle, &mut authority).unwrap_err();
    assert!(matches!(
        err.error,
        StoreError::ShardMismatch {
            expected: SHARD,
            found: ShardId(9)
        }
    ));

    // An authority another store minted.
    let mut mem = MemStore::<Reference>::new(SHARD);
    let mut mem_authority = mem.claim().unwrap();
    let sealed = seal(&mem_authority, &world(2));
    let err = store.commit(sealed, &mut mem_authority).unwrap_err();
    assert!(matches!(err.error, StoreError::ForeignAuthority));
    assert_eq!(store.epochs().unwrap(), [Epoch(1)]);
}

#[test]
fn a_damaged_latest_epoch_is_an_error_never_a_fallback() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = open(tmp.path());
    let mut authority = store.claim().unwrap();
    commit(&mut store, &mut authority);
    commit(&mut store, &mut authority);
    let latest = store.dir().epoch_path(Epoch(2));
    let mut bytes = fs::read(&latest).unwrap();
    bytes[40] ^= 0x01;
    fs::write(&latest, &bytes).unwrap();

    let err = store.load_latest().unwrap_err();
    match &err {
        StoreError::DamagedFile {
            path,
            epoch,
            rejection,
        } => {
            assert_eq!(path, &latest);
            assert_eq!(*epoch, Epoch(2));
            assert_eq!(rejection.code(), RejectionCode::Digest);
        }
        other => panic!("expected DamagedFile, got {other:?}"),
    }
    assert_eq!(err.code(), "E-STORE-DAMAGED");
    let message = err.to_string();
    assert!(message.starts_with("E-STORE-DAMAGED: "), "{message}");
    assert!(
        message.contains("epoch-00000000000000000002.cpb"),
        "{message}"
    );
    assert!(message.contains("epoch#2"), "{message}");
    assert!(message.contains("E-DIGEST"), "{message}");

    // The older epoch is there, but only for an operator who asks for it.
    assert_eq!(
        store.load_epoch(Epoch(1)).unwrap().map(|l| l.epoch()),
        Some(Epoch(1))
    );
    assert!(store.load_epoch(Epoch(2)).is_err());
    assert!(store.load_epoch(Epoch(7)).unwrap().is_none());

    // A truncated latest file, too.
    fs::write(&latest, &bytes[..bytes.len() / 2]).unwrap();
    match store.load_latest().unwrap_err() {
        StoreError::DamagedFile { rejection, .. } => {
            assert_eq!(rejection.code(), RejectionCode::Truncated);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_file_holding_another_epoch_than_its_name_is_damaged() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = open(tmp.path());
    let mut authority = store.claim().unwrap();
    commit(&mut store, &mut authority);
    let dir = store.dir().clone();
    fs::copy(dir.epoch_path(Epoch(1)), dir.epoch_path(Epoch(5))).unwrap();
    match store.load_latest().unwrap_err() {
        StoreError::DamagedFile {
            epoch, rejection, ..
        } => {
            assert_eq!(epoch, Epoch(5));
            assert_eq!(rejection.code(), RejectionCode::Epoch);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn retention_keeps_the_last_epochs_and_prunes_after_commits() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store =
        FileStore::<Reference>::open_with(tmp.path(), SHARD, FileStoreConfig::new().retain(3))
            .unwrap();
    assert_eq!(store.config().retained(), 3);
    let mut authority = store.claim().unwrap();
    for _ in 0..6 {
        commit(&mut store, &mut authority);
    }
    assert_eq!(store.epochs().unwrap(), [Epoch(4), Epoch(5), Epoch(6)]);
    drop(store);

    // Zero means one: the latest is never removed.
    let mut store =
        FileStore::<Reference>::open_with(tmp.path(), SHARD, FileStoreConfig::new().retain(0))
            .unwrap();
    let mut authority = store.claim().unwrap();
    assert_eq!(commit(&mut store, &mut authority), Epoch(7));
    assert_eq!(store.epochs().unwrap(), [Epoch(7)]);
    assert_eq!(FileStoreConfig::new().retained(), 8);
}

#[test]
fn pruning_happens_only_after_a_successful_commit() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let mut store = open(tmp.path());
        let mut authority = store.claim().unwrap();
        for _ in 0..3 {
            commit(&mut store, &mut authority);
        }
    }
    // Reopened with a smaller retention: nothing is removed yet…
    let mut store =
        FileStore::<Reference>::open_with(tmp.path(), SHARD, FileStoreConfig::new().retain(1))
            .unwrap();
    let mut old = store.claim().unwrap();
    let stale = seal(&old, &world(4));
    let mut authority = store.claim().unwrap();
    assert_eq!(store.epochs().unwrap(), [Epoch(1), Epoch(2), Epoch(3)]);
    // …nor by a refused commit…
    assert!(store.commit(stale, &mut old).is_err());
    assert_eq!(store.epochs().unwrap(), [Epoch(1), Epoch(2), Epoch(3)]);
    // …only once a commit succeeds.
    assert_eq!(commit(&mut store, &mut authority), Epoch(4));
    assert_eq!(store.epochs().unwrap(), [Epoch(4)]);
}

#[test]
fn leftovers_are_ignored_by_loads_and_cleaned_by_the_next_claim() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let mut store = open(tmp.path());
        let mut authority = store.claim().unwrap();
        commit(&mut store, &mut authority);
    }
    let dir = ShardDir::of(tmp.path(), SHARD);
    let leftover = dir.path().join(".epoch-00000000000000000002.cpb.tmp");
    fs::write(&leftover, b"CAELPRST half a bundle").unwrap();
    fs::write(dir.path().join(".fence.tmp"), b"caelmor").unwrap();
    // Files that are not the store's are ignored and kept.
    fs::write(dir.path().join("notes.txt"), b"operator notes").unwrap();
    fs::write(dir.path().join("epoch-2.cpb"), b"not a store name").unwrap();
    assert_eq!(dir.temporaries().unwrap().len(), 2);

    let mut store = open(tmp.path());
    assert_eq!(
        store.load_latest().unwrap().map(|l| l.epoch()),
        Some(Epoch(1))
    );
    let mut authority = store.claim().unwrap();
    assert!(dir.temporaries().unwrap().is_empty());
    assert!(!leftover.exists());
    assert!(dir.path().join("notes.txt").exists());
    assert_eq!(commit(&mut store, &mut authority), Epoch(2));
}

#[test]
fn keyed_stores_verify_with_their_key() {
    let tmp = tempfile::tempdir().unwrap();
    let key = DigestKey::from_bytes([7; 32]);
    {
        let mut store = FileStore::<Reference>::with_key(tmp.path(), SHARD, key.clone()).unwrap();
        assert!(store.config().is_keyed());
        let mut authority = store.claim().unwrap();
        assert!(authority.is_keyed());
        commit(&mut store, &mut authority);
        assert!(store.load_latest().unwrap().is_some());
    }
    let path = ShardDir::of(tmp.path(), SHARD).epoch_path(Epoch(1));
    let bytes = fs::read(&path).unwrap();
    assert!(verify(&bytes, &VerifyOptions::new().key(key)).is_ok());
    assert_eq!(
        verify(&bytes, &VerifyOptions::new()).unwrap_err().code(),
        RejectionCode::Digest
    );

    let other = FileStore::<Reference>::with_key(tmp.path(), SHARD, DigestKey::from_bytes([8; 32]))
        .unwrap();
    assert_eq!(other.load_latest().unwrap_err().code(), "E-STORE-DAMAGED");
    assert_eq!(
        open(tmp.path()).load_latest().unwrap_err().code(),
        "E-STORE-DAMAGED"
    );
}

/// The reverse of `keyed_stores_verify_with_their_key`: what an unkeyed
/// store wrote is refused by a store that expects a key, and the keyed
/// store does not fall back to reading it without one.
#[test]
fn a_keyed_store_refuses_what_an_unkeyed_store_wrote() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let mut store = open(tmp.path());
        let mut authority = store.claim().unwrap();
        assert!(!authority.is_keyed());
        commit(&mut store, &mut authority);
    }
    let keyed = FileStore::<Reference>::with_key(tmp.path(), SHARD, DigestKey::from_bytes([7; 32]))
        .unwrap();
    match keyed.load_latest().unwrap_err() {
        StoreError::DamagedFile {
            epoch, rejection, ..
        } => {
            assert_eq!(epoch, Epoch(1));
            assert_eq!(rejection.code(), RejectionCode::Digest);
        }
        other => panic!("expected E-STORE-DAMAGED, got {other:?}"),
    }
    assert!(matches!(
        keyed.load_epoch(Epoch(1)),
        Err(StoreError::DamagedFile { .. })
    ));
    // The unkeyed store still reads it.
    assert_eq!(
        open(tmp.path()).load_latest().unwrap().map(|l| l.epoch()),
        Some(Epoch(1))
    );
}

#[test]
fn shard_dir_names_are_exact() {
    for temporary in [
        ".epoch-00000000000000000002.cpb.tmp",
        ".fence.tmp",
        ".x.tmp",
    ] {
        assert!(ShardDir::is_temporary(temporary), "{temporary}");
    }
    for other in [
        ".tmp",
        "..tmp",
        "fence.tmp",
        ".profile",
        "notes.txt",
        "epoch.tmp",
    ] {
        assert!(!ShardDir::is_temporary(other), "{other}");
    }
    // A shard directory that does not exist holds nothing (and is not an
    // error): a fresh root, before the first open.
    let tmp = tempfile::tempdir().unwrap();
    let absent = ShardDir::of(tmp.path().join("nowhere"), SHARD);
    assert_eq!(absent.epochs().unwrap(), []);
    assert_eq!(absent.latest_epoch().unwrap(), None);
    assert!(absent.temporaries().unwrap().is_empty());
    assert_eq!(absent.fence().unwrap(), Fence(0));
}

#[test]
fn the_store_reports_its_latest_epoch_and_unreadable_epochs() {
    assert!(!FileStoreConfig::new().is_keyed());
    let tmp = tempfile::tempdir().unwrap();
    let mut store = open(tmp.path());
    assert_eq!(store.latest_epoch().unwrap(), None);
    let mut authority = store.claim().unwrap();
    commit(&mut store, &mut authority);
    commit(&mut store, &mut authority);
    assert_eq!(store.latest_epoch().unwrap(), Some(Epoch(2)));
    assert_eq!(store.epochs().unwrap(), [Epoch(1), Epoch(2)]);
    // An epoch that is not there is `None`; one that cannot be read (here a
    // directory where its file should be) is an I/O error, not `None`.
    assert!(store.load_epoch(Epoch(3)).unwrap().is_none());
    fs::create_dir(store.dir().epoch_path(Epoch(9))).unwrap();
    match store.load_epoch(Epoch(9)) {
        Err(StoreError::Io { op, .. }) => assert_eq!(op, "read"),
        other => panic!("expected an I/O error, got {other:?}"),
    }
}

#[test]
fn opening_creates_the_shard_directory_and_unreadable_metadata_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("fresh");
    let store = FileStore::<Reference>::open(&root, SHARD).unwrap();
    assert!(store.dir().path().is_dir(), "open creates <root>/shard-1");
    assert_eq!(store.dir().path(), ShardDir::of(&root, SHARD).path());

    // Only a missing directory or fence file means "nothing yet": a shard
    // path that is a file cannot be listed, a fence that is a directory
    // cannot be read, and both are errors rather than an empty shard.
    let file = tmp.path().join("not-a-dir");
    fs::write(&file, b"").unwrap();
    let listed = ShardDir::new(&file);
    assert!(listed.epochs().is_err());
    assert!(listed.temporaries().is_err());
    let dir = ShardDir::of(tmp.path().join("other"), SHARD);
    fs::create_dir_all(dir.fence_path()).unwrap();
    assert!(matches!(dir.fence(), Err(StoreError::Io { .. })));
}

#[test]
fn invalid_metadata_and_unusable_paths_are_typed_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ShardDir::of(tmp.path(), SHARD);
    fs::create_dir_all(dir.path()).unwrap();
    fs::write(dir.fence_path(), b"fence: lots\n").unwrap();
    let err = FileStore::<Reference>::open(tmp.path(), SHARD).unwrap_err();
    assert_eq!(err.code(), "E-STORE-META");
    assert!(err.to_string().contains("fence"), "{err}");

    // A file where the shard directory should be.
    let blocked = tmp.path().join("blocked");
    fs::write(&blocked, b"").unwrap();
    let err = FileStore::<Reference>::open(&blocked, SHARD).unwrap_err();
    assert!(matches!(err, StoreError::Io { .. }), "{err:?}");
    assert!(err.code().starts_with("E-STORE-"), "{}", err.code());
}

#[test]
fn each_shard_has_its_own_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let mut one = open(tmp.path());
    let mut two = FileStore::<Reference>::open(tmp.path(), ShardId(2)).unwrap();
    let mut a1 = one.claim().unwrap();
    let mut a2 = two.claim().unwrap();
    commit(&mut one, &mut a1);
    commit(&mut two, &mut a2);
    commit(&mut two, &mut a2);
    assert!(tmp.path().join("shard-1").is_dir());
    assert!(tmp.path().join("shard-2").is_dir());
    assert_eq!(one.epochs().unwrap(), [Epoch(1)]);
    assert_eq!(two.epochs().unwrap(), [Epoch(1), Epoch(2)]);
}

fn restore_all(
    loaded: caelmor_persist::Loaded,
    authority: &ServerAuthority<Reference>,
) -> Result<Shard, caelmor_persist::Rejection> {
    let (r, players) = Restore::open(loaded, authority)?.players();
    let (r, zones) = r.world();
    let (r, npcs) = r.npcs();
    let (r, items) = r.items();
    let (r, quests) = r.quests();
    let active = r.activate(authority).expect("its own authority");
    Ok(Shard {
        players: active.activate(players).expect("same restore"),
        zones: active.activate(zones).expect("same restore"),
        npcs: active.activate(npcs).expect("same restore"),
        items: active.activate(items).expect("same restore"),
        quests: active.activate(quests).expect("same restore"),
    })
}

/// A load reads the records to verify the bundle, and the restore that
/// follows takes them instead of reading the bytes a second time; a copy of
/// the bytes, or a clone of what was loaded, restores the same records the
/// long way.
#[test]
fn a_restore_takes_the_records_its_store_read_while_loading() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = open(tmp.path());
    let mut authority = store.claim().unwrap();
    commit(&mut store, &mut authority);
    let loaded = store.load_latest().unwrap().expect("epoch 1");
    assert!(
        format!("{loaded:?}").contains("read_by_store: true"),
        "{loaded:?}"
    );
    let copy = caelmor_persist::Loaded::new(loaded.bytes().to_vec(), loaded.epoch());
    assert!(format!("{copy:?}").contains("read_by_store: false"));
    assert_eq!(copy, loaded, "equal bytes, equal epoch");
    let mut other_bytes = loaded.bytes().to_vec();
    other_bytes[20] ^= 1;
    assert_ne!(
        caelmor_persist::Loaded::new(other_bytes, loaded.epoch()),
        loaded
    );
    assert_ne!(
        caelmor_persist::Loaded::new(loaded.bytes().to_vec(), Epoch(2)),
        loaded
    );
    let clone = loaded.clone();
    assert_eq!(restore_all(loaded, &authority).unwrap(), world(1));
    assert_eq!(restore_all(copy, &authority).unwrap(), world(1));
    assert_eq!(restore_all(clone, &authority).unwrap(), world(1));
}

/// What a store read under its key, for its shard, is no proof for a
/// restore under another key or for another shard: those read the bytes
/// and refuse them as any other reader would.
#[test]
fn records_read_by_a_store_are_not_taken_under_another_key_or_shard() {
    let tmp = tempfile::tempdir().unwrap();
    let key = DigestKey::from_bytes([5; 32]);
    let mut keyed = FileStore::<Reference>::with_key(tmp.path(), SHARD, key).unwrap();
    let mut authority = keyed.claim().unwrap();
    commit(&mut keyed, &mut authority);
    let loaded = keyed.load_latest().unwrap().expect("epoch 1");
    assert!(format!("{loaded:?}").contains("read_by_store: true"));

    // Same shard, no key: the bundle's keyed digest does not verify.
    let other = tempfile::tempdir().unwrap();
    let unkeyed_authority = open(other.path()).claim().unwrap();
    assert_eq!(
        Restore::open(
            keyed.load_latest().unwrap().expect("epoch 1"),
            &unkeyed_authority
        )
        .unwrap_err()
        .code(),
        RejectionCode::Digest
    );
    // Same key, another shard.
    let mut two =
        FileStore::<Reference>::with_key(other.path(), ShardId(2), DigestKey::from_bytes([5; 32]))
            .unwrap();
    assert_eq!(
        Restore::open(loaded, &two.claim().unwrap())
            .unwrap_err()
            .code(),
        RejectionCode::Shard
    );
}
