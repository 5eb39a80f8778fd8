//! `FileStore` as a server uses it: commits, claims and fences, loads that
//! never fall back, retention, leftovers, keys, hostile files, and typed
//! errors. (The crash-consistency proof, which needs the store's internal
//! I/O seam, lives with the store in `src/store/file/`.)

#![cfg(feature = "reference")]

use std::fs;
use std::path::Path;

use caelmor_persist::reference::{Reference, Shard, ShardSpec};
use caelmor_persist::{
    DigestKey, Epoch, Fence, FileStore, FileStoreConfig, KeyFingerprint, Loaded, MemStore,
    Rejection, RejectionCode, Restore, Save, Sealed, ServerAuthority, ShardDir, ShardId,
    StoreError, StoredEpoch, VerifyOptions, verify,
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

/// Epoch `epoch` as written under fence `fence`.
fn at(epoch: u64, fence: u64) -> StoredEpoch {
    StoredEpoch {
        epoch: Epoch(epoch),
        fence: Fence(fence),
    }
}

/// Loads the latest epoch, restores and activates it.
fn restore_all(
    loaded: Loaded<Reference>,
    authority: &ServerAuthority<Reference>,
) -> Result<Shard, caelmor_persist::RestoreError> {
    let active = Restore::open(loaded, authority)?
        .players()
        .world()
        .npcs()
        .items()
        .quests()
        .activate(authority)
        .expect("its own, current authority");
    Ok(Shard {
        players: active.players,
        zones: active.zones,
        npcs: active.npcs,
        items: active.items,
        quests: active.quests,
    })
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
        let path = dir.epoch_path(at(n, 1));
        assert!(path.is_file());
        assert_eq!(
            path.file_name().unwrap().to_str().unwrap(),
            format!("epoch-{n:020}.fence-00000000000000000001.cpb")
        );
        assert_eq!(store.dir().epoch_path(at(n, 1)), path);
    }
    assert_eq!(store.epochs().unwrap(), [Epoch(1), Epoch(2), Epoch(3)]);
    assert_eq!(dir.stored().unwrap(), [at(1, 1), at(2, 1), at(3, 1)]);
    // One head per claim and per commit; the highest is the head.
    assert_eq!(dir.head_versions().unwrap(), [1, 2, 3, 4]);
    let head = dir.head(SHARD).unwrap().expect("claimed");
    assert_eq!(head.version, 4);
    assert_eq!(head.fence, Fence(1));
    assert_eq!(head.latest.expect("committed").epoch, Epoch(3));
    drop(store);

    // A restarted server: a new store, a new claim, the same files.
    let mut store = open(tmp.path());
    let authority = store.claim().unwrap();
    assert_eq!(authority.next_epoch(), Epoch(4));
    let loaded = store.load_latest().unwrap().expect("epoch 3");
    assert_eq!(loaded.epoch(), Epoch(3));
    assert_eq!(loaded.fence(), Fence(2));
    assert_eq!(restore_all(loaded, &authority).unwrap(), world(3));
}

/// Changed with the head records: the fence lives in the head (there is no
/// `fence` file), and a reopened store knows it once it reads the head.
#[test]
fn each_claim_increments_and_persists_the_fence() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = open(tmp.path());
    assert_eq!(store.fence(), Fence(0));
    assert!(store.head().unwrap().is_none());
    assert_eq!(store.claim().unwrap().fence(), Fence(1));
    assert_eq!(store.claim().unwrap().fence(), Fence(2));
    drop(store);
    let dir = ShardDir::of(tmp.path(), SHARD);
    assert!(!dir.path().join("fence").exists());
    let head = dir.head(SHARD).unwrap().expect("claimed twice");
    assert_eq!((head.version, head.fence), (2, Fence(2)));
    assert_eq!(head.key, KeyFingerprint::UNKEYED);
    assert!(head.latest.is_none());
    let text = fs::read_to_string(dir.head_path(2)).unwrap();
    assert!(
        text.starts_with(
            "caelmor-persist head 1\nshard 1\nversion 2\nfence 2\nkey unkeyed\nlatest none\n"
        ),
        "{text}"
    );
    let mut store = open(tmp.path());
    assert_eq!(store.fence(), Fence(0), "nothing read yet");
    assert_eq!(store.head().unwrap().map(|h| h.fence), Some(Fence(2)));
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
    assert!(
        matches!(&err, StoreError::Claimed { location } if *location == first.dir().path().display().to_string()),
        "{err:?}"
    );
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
    let err = store.commit(stale, &authority).unwrap_err();
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
    let old = store.claim().unwrap();
    let _new = store.claim().unwrap();
    let sealed = seal(&old, &world(1));
    let err = store.commit(sealed, &old).unwrap_err();
    assert_eq!(err.error.code(), "E-STORE-FENCED");
}

#[test]
fn only_the_next_epoch_of_this_shard_from_this_store_commits() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = open(tmp.path());
    let mut authority = store.claim().unwrap();
    let early = seal(&authority, &world(99));
    assert_eq!(commit(&mut store, &mut authority), Epoch(1));
    // Sealed for epoch 1, which is no longer next.
    let err = store.commit(early, &authority).unwrap_err();
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
    let err = store.commit(foreign_bundle, &authority).unwrap_err();
    assert!(matches!(
        err.error,
        StoreError::ShardMismatch {
            expected: SHARD,
            found: ShardId(9)
        }
    ));

    // An authority another store minted.
    let mut mem = MemStore::<Reference>::new(SHARD);
    let mem_authority = mem.claim().unwrap();
    let sealed = seal(&mem_authority, &world(2));
    let err = store.commit(sealed, &mem_authority).unwrap_err();
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
    let latest = store.dir().epoch_path(at(2, 1));
    let good = fs::read(&latest).unwrap();
    let mut bytes = good.clone();
    bytes[40] ^= 0x01;
    fs::write(&latest, &bytes).unwrap();

    let err = store.load_latest().unwrap_err();
    match &err {
        StoreError::Damaged {
            location,
            epoch,
            rejection,
            ..
        } => {
            assert_eq!(location, &latest.display().to_string());
            assert_eq!(*epoch, Epoch(2));
            assert_eq!(rejection, &Some(Rejection::DigestMismatch));
        }
        other => panic!("expected E-STORE-DAMAGED, got {other:?}"),
    }
    assert_eq!(err.code(), "E-STORE-DAMAGED");
    assert_eq!(
        err.rejection().map(Rejection::code),
        Some(RejectionCode::Digest)
    );
    let message = err.to_string();
    assert!(message.starts_with("E-STORE-DAMAGED: "), "{message}");
    assert!(message.contains("shard-1"), "{message}");
    assert!(message.contains("epoch#2"), "{message}");
    assert!(message.contains("E-DIGEST"), "{message}");

    // The older epoch is there, but only for an operator who asks for it.
    assert_eq!(
        store
            .load_epoch(Epoch(1))
            .unwrap()
            .map(|b| b.verified().summary.epoch),
        Some(Epoch(1))
    );
    assert_eq!(
        store.load_epoch(Epoch(2)).unwrap_err().code(),
        "E-STORE-DAMAGED"
    );
    assert!(store.load_epoch(Epoch(7)).unwrap().is_none());

    // A truncated latest file is not the bundle that was committed (the
    // head knows its length): damaged, before any rule is read.
    fs::write(&latest, &good[..good.len() / 2]).unwrap();
    match store.load_latest().unwrap_err() {
        StoreError::Damaged {
            epoch, rejection, ..
        } => {
            assert_eq!(epoch, Epoch(2));
            assert_eq!(rejection, None);
        }
        other => panic!("{other:?}"),
    }

    // A deleted latest file: damaged, never epoch 1 instead.
    fs::remove_file(&latest).unwrap();
    let err = store.load_latest().unwrap_err();
    assert_eq!(err.code(), "E-STORE-DAMAGED");
    assert!(err.to_string().contains("missing"), "{err}");
    assert!(matches!(
        err,
        StoreError::Damaged {
            epoch: Epoch(2),
            ..
        }
    ));
    // …and a restarted server finds the same, and cannot commit epoch 2
    // again over the hole: its next epoch is 3.
    drop(store);
    let mut store = open(tmp.path());
    assert_eq!(store.load_latest().unwrap_err().code(), "E-STORE-DAMAGED");
    let authority = store.claim().unwrap();
    assert_eq!(authority.next_epoch(), Epoch(3));

    // The intact bundle put back: the latest loads again.
    fs::write(&latest, &good).unwrap();
    assert_eq!(store.load_latest().unwrap().unwrap().epoch(), Epoch(2));
}

/// Changed with the head records: a store no longer trusts file names. A
/// file named as a later epoch that no head names is not committed (loads
/// and `epochs()` ignore it, the next claim removes it); the latest's name
/// holding other bytes is damaged.
#[test]
fn a_file_holding_another_epoch_than_its_name_is_damaged_or_ignored() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = open(tmp.path());
    let mut authority = store.claim().unwrap();
    commit(&mut store, &mut authority);
    commit(&mut store, &mut authority);
    let dir = store.dir().clone();
    fs::copy(dir.epoch_path(at(1, 1)), dir.epoch_path(at(5, 1))).unwrap();
    assert_eq!(store.load_latest().unwrap().unwrap().epoch(), Epoch(2));
    assert_eq!(store.epochs().unwrap(), [Epoch(1), Epoch(2)]);
    assert!(store.load_epoch(Epoch(5)).unwrap().is_none());
    assert_eq!(dir.stored().unwrap(), [at(1, 1), at(2, 1), at(5, 1)]);

    // Epoch 1's bytes under epoch 2's name: not the bundle that was
    // committed, whether shorter or longer than it (a longer one is never
    // read past the committed length).
    fs::copy(dir.epoch_path(at(1, 1)), dir.epoch_path(at(2, 1))).unwrap();
    let err = store.load_latest().unwrap_err();
    match &err {
        StoreError::Damaged {
            epoch,
            detail,
            location,
            ..
        } => {
            assert_eq!(*epoch, Epoch(2));
            assert!(
                detail.contains("not the one committed") || detail.contains("were committed"),
                "{detail}"
            );
            assert_eq!(location, &dir.epoch_path(at(2, 1)).display().to_string());
        }
        other => panic!("{other:?}"),
    }
    drop(store);

    // The next claim removes what no head names.
    let mut store = open(tmp.path());
    let _authority = store.claim().unwrap();
    assert_eq!(dir.stored().unwrap(), [at(1, 1), at(2, 1)]);
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
    let old = store.claim().unwrap();
    let stale = seal(&old, &world(4));
    let mut authority = store.claim().unwrap();
    assert_eq!(store.epochs().unwrap(), [Epoch(1), Epoch(2), Epoch(3)]);
    // …nor by a refused commit…
    assert_eq!(
        store.commit(stale, &old).unwrap_err().code(),
        "E-STORE-FENCED"
    );
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
    let leftover = dir
        .path()
        .join(".epoch-00000000000000000002.fence-00000000000000000001.cpb.fence-1.7-0.tmp");
    fs::write(&leftover, b"CAELPRST half a bundle").unwrap();
    fs::write(dir.path().join(".head.tmp"), b"caelmor").unwrap();
    // A temporary of a later fence: a newer claimant may still be writing.
    let newer = dir
        .path()
        .join(".head-00000000000000000009.fence-9.7-0.tmp");
    fs::write(&newer, b"caelmor").unwrap();
    // Files that are not the store's are ignored and kept.
    fs::write(dir.path().join("notes.txt"), b"operator notes").unwrap();
    fs::write(dir.path().join("epoch-2.cpb"), b"not a store name").unwrap();
    assert_eq!(dir.temporaries().unwrap().len(), 3);

    let mut store = open(tmp.path());
    assert_eq!(
        store.load_latest().unwrap().map(|l| l.epoch()),
        Some(Epoch(1))
    );
    let mut authority = store.claim().unwrap();
    assert_eq!(dir.temporaries().unwrap(), std::slice::from_ref(&newer));
    assert!(!leftover.exists());
    assert!(dir.path().join("notes.txt").exists());
    assert!(dir.path().join("epoch-2.cpb").exists());
    assert_eq!(commit(&mut store, &mut authority), Epoch(2));
    assert!(newer.exists());
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
    let path = ShardDir::of(tmp.path(), SHARD).epoch_path(at(1, 1));
    let bytes = fs::read(&path).unwrap();
    assert!(verify(&bytes, &VerifyOptions::new().key(key.clone())).is_ok());
    assert_eq!(
        verify(&bytes, &VerifyOptions::new()).unwrap_err().code(),
        RejectionCode::Digest
    );

    // Changed: the shard records its key's fingerprint at its first claim,
    // so another key, or none, is E-STORE-KEY (no longer a damaged bundle).
    let head = ShardDir::of(tmp.path(), SHARD)
        .head(SHARD)
        .unwrap()
        .unwrap();
    assert_eq!(head.key, KeyFingerprint::of(Some(&key)));
    let mut other =
        FileStore::<Reference>::with_key(tmp.path(), SHARD, DigestKey::from_bytes([8; 32]))
            .unwrap();
    assert_eq!(other.load_latest().unwrap_err().code(), "E-STORE-KEY");
    assert_eq!(other.claim().unwrap_err().code(), "E-STORE-KEY");
    assert_eq!(
        open(tmp.path()).load_latest().unwrap_err().code(),
        "E-STORE-KEY"
    );
    // Nothing was written by the refused claim.
    assert_eq!(
        ShardDir::of(tmp.path(), SHARD)
            .head(SHARD)
            .unwrap()
            .unwrap(),
        head
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
    let mut keyed =
        FileStore::<Reference>::with_key(tmp.path(), SHARD, DigestKey::from_bytes([7; 32]))
            .unwrap();
    // Changed: refused for its key (E-STORE-KEY), before any bundle is read.
    match keyed.load_latest().unwrap_err() {
        StoreError::KeyMismatch { shard, store } => {
            assert_eq!(shard, KeyFingerprint::UNKEYED);
            assert_eq!(store, keyed.config().key_fingerprint());
        }
        other => panic!("expected E-STORE-KEY, got {other:?}"),
    }
    assert_eq!(keyed.claim().unwrap_err().code(), "E-STORE-KEY");
    // An older epoch read for inspection is refused too.
    assert_eq!(
        keyed.load_epoch(Epoch(1)).unwrap_err().code(),
        "E-STORE-KEY"
    );
    // The unkeyed store still reads it.
    assert_eq!(
        open(tmp.path()).load_latest().unwrap().map(|l| l.epoch()),
        Some(Epoch(1))
    );
}

#[test]
fn shard_dir_names_are_exact() {
    for temporary in [
        ".epoch-00000000000000000002.fence-00000000000000000001.cpb.fence-1.7-0.tmp",
        ".head-00000000000000000003.fence-2.7-1.tmp",
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
    // Bundle and head names: one exact form each.
    let stored = at(42, 3);
    let name = ShardDir::epoch_file_name(stored);
    assert_eq!(
        name,
        "epoch-00000000000000000042.fence-00000000000000000003.cpb"
    );
    assert_eq!(ShardDir::parse_epoch_file_name(&name), Some(stored));
    for other in [
        "epoch-00000000000000000042.cpb",
        "epoch-42.fence-3.cpb",
        "epoch-00000000000000000000.fence-00000000000000000003.cpb",
        "epoch-00000000000000000042.fence-00000000000000000000.cpb",
        "epoch-00000000000000000042.fence-00000000000000000003.cpb.tmp",
        "head-00000000000000000001",
    ] {
        assert_eq!(ShardDir::parse_epoch_file_name(other), None, "{other}");
    }
    assert_eq!(ShardDir::head_file_name(12), "head-00000000000000000012");
    assert_eq!(
        ShardDir::parse_head_file_name("head-00000000000000000012"),
        Some(12)
    );
    for other in ["head-12", "head-00000000000000000000", "head", "fence"] {
        assert_eq!(ShardDir::parse_head_file_name(other), None, "{other}");
    }
    // A shard directory that does not exist holds nothing (and is not an
    // error): a fresh root, before the first open.
    let tmp = tempfile::tempdir().unwrap();
    let absent = ShardDir::of(tmp.path().join("nowhere"), SHARD);
    assert_eq!(absent.stored().unwrap(), []);
    assert_eq!(absent.head_versions().unwrap(), Vec::<u64>::new());
    assert_eq!(absent.head(SHARD).unwrap(), None);
    assert!(absent.temporaries().unwrap().is_empty());
    assert!(absent.names().unwrap().is_empty());
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
    // directory where its file should be) is an error, not `None`.
    // Changed: the store reads only regular files, so it is E-STORE-NOT-FILE.
    assert!(store.load_epoch(Epoch(3)).unwrap().is_none());
    let first = store.dir().epoch_path(at(1, 1));
    fs::remove_file(&first).unwrap();
    fs::create_dir(&first).unwrap();
    match store.load_epoch(Epoch(1)) {
        Err(StoreError::NotAFile { kind, .. }) => assert_eq!(kind, "a directory"),
        other => panic!("expected E-STORE-NOT-FILE, got {other:?}"),
    }
    assert_eq!(store.load_latest().unwrap().unwrap().epoch(), Epoch(2));
}

/// What a hostile or careless hand leaves at the latest epoch's name is
/// refused promptly with a typed error: never followed, never waited on,
/// never read past the committed length.
#[test]
fn the_latest_is_read_only_from_a_regular_file_of_its_committed_length() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = open(tmp.path());
    let mut authority = store.claim().unwrap();
    commit(&mut store, &mut authority);
    let latest = store.dir().epoch_path(at(1, 1));
    let good = fs::read(&latest).unwrap();

    // A symbolic link to a device that never ends.
    fs::remove_file(&latest).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &latest).unwrap();
    match store.load_latest().unwrap_err() {
        StoreError::NotAFile { kind, .. } => assert_eq!(kind, "a symbolic link"),
        other => panic!("expected E-STORE-NOT-FILE, got {other:?}"),
    }
    fs::remove_file(&latest).unwrap();

    // A FIFO: answered at once, not waited on.
    let made = std::process::Command::new("mkfifo")
        .arg(&latest)
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo {}", latest.display());
    let started = std::time::Instant::now();
    match store.load_latest().unwrap_err() {
        StoreError::NotAFile { kind, .. } => assert_eq!(kind, "a FIFO"),
        other => panic!("expected E-STORE-NOT-FILE, got {other:?}"),
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    fs::remove_file(&latest).unwrap();

    // Longer than what was committed: never read past the committed length.
    let longer = [&good[..], &[0u8; 4096][..]].concat();
    fs::write(&latest, &longer).unwrap();
    let err = store.load_latest().unwrap_err();
    assert_eq!(err.code(), "E-STORE-DAMAGED", "{err}");
    assert!(err.to_string().contains("were committed"), "{err}");

    fs::write(&latest, &good).unwrap();
    assert_eq!(store.load_latest().unwrap().unwrap().epoch(), Epoch(1));
}

#[test]
fn opening_creates_the_shard_directory_and_unreadable_metadata_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("fresh");
    let store = FileStore::<Reference>::open(&root, SHARD).unwrap();
    assert!(store.dir().path().is_dir(), "open creates <root>/shard-1");
    assert_eq!(store.dir().path(), ShardDir::of(&root, SHARD).path());

    // Only a missing directory or head means "nothing yet": a shard path
    // that is a file cannot be listed, a head that is a directory cannot be
    // read, and both are errors rather than an empty shard.
    let file = tmp.path().join("not-a-dir");
    fs::write(&file, b"").unwrap();
    let listed = ShardDir::new(&file);
    assert_eq!(listed.stored().unwrap_err().code(), "E-STORE-IO");
    assert_eq!(listed.temporaries().unwrap_err().code(), "E-STORE-IO");
    assert_eq!(listed.head(SHARD).unwrap_err().code(), "E-STORE-IO");
    let dir = ShardDir::of(tmp.path().join("other"), SHARD);
    fs::create_dir_all(dir.head_path(1)).unwrap();
    assert!(matches!(
        dir.head(SHARD),
        Err(StoreError::NotAFile {
            kind: "a directory",
            ..
        })
    ));
    let mut store = FileStore::<Reference>::open(tmp.path().join("other"), SHARD).unwrap();
    assert_eq!(store.claim().unwrap_err().code(), "E-STORE-NOT-FILE");
    assert_eq!(store.load_latest().unwrap_err().code(), "E-STORE-NOT-FILE");
}

/// Changed with the head records: opening reads nothing, so invalid
/// metadata is refused by the first read (a claim, a load), not by `open`;
/// and a directory in the earlier layout (a `fence` file, no heads) is
/// refused as such rather than read as an empty shard.
#[test]
fn invalid_metadata_and_unusable_paths_are_typed_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ShardDir::of(tmp.path(), SHARD);
    fs::create_dir_all(dir.path()).unwrap();
    fs::write(dir.path().join("fence"), b"caelmor-persist fence 2\n").unwrap();
    let mut store = FileStore::<Reference>::open(tmp.path(), SHARD).unwrap();
    let err = store.load_latest().unwrap_err();
    assert_eq!(err.code(), "E-STORE-META");
    assert!(err.to_string().contains("fence"), "{err}");
    assert!(err.to_string().contains("earlier"), "{err}");
    assert_eq!(store.claim().unwrap_err().code(), "E-STORE-META");
    assert!(dir.head_versions().unwrap().is_empty(), "nothing written");
    fs::remove_file(dir.path().join("fence")).unwrap();

    // A head record that is not one: edited, torn, or another shard's.
    let mut authority = store.claim().unwrap();
    commit(&mut store, &mut authority);
    drop(store);
    let head = dir.head_path(2);
    let good = fs::read(&head).unwrap();
    let edited = String::from_utf8(good.clone())
        .unwrap()
        .replace("fence 1", "fence 9");
    for bad in [edited.into_bytes(), good[..good.len() - 3].to_vec()] {
        fs::remove_file(&head).unwrap();
        fs::write(&head, &bad).unwrap();
        let mut store = open(tmp.path());
        let err = store.load_latest().unwrap_err();
        assert_eq!(err.code(), "E-STORE-META", "{err}");
        assert!(
            err.to_string().contains("head-00000000000000000002"),
            "{err}"
        );
        assert_eq!(store.claim().unwrap_err().code(), "E-STORE-META");
    }
    fs::remove_file(&head).unwrap();
    fs::write(&head, &good).unwrap();
    let other = FileStore::<Reference>::open(tmp.path(), ShardId(2)).unwrap();
    fs::copy(&head, other.dir().head_path(1)).unwrap();
    let err = other.load_latest().unwrap_err();
    assert_eq!(err.code(), "E-STORE-META");
    assert!(err.to_string().contains("another shard"), "{err}");
    assert_eq!(
        open(tmp.path()).load_latest().unwrap().unwrap().epoch(),
        Epoch(1)
    );

    // A file where the shard directory should be.
    let blocked = tmp.path().join("blocked");
    fs::write(&blocked, b"").unwrap();
    let err = FileStore::<Reference>::open(&blocked, SHARD).unwrap_err();
    assert!(matches!(err, StoreError::Io { .. }), "{err:?}");
    assert_eq!(err.code(), "E-STORE-IO", "{err}");
    // A file at the shard directory's own name.
    let root = tmp.path().join("root");
    fs::create_dir(&root).unwrap();
    fs::write(root.join("shard-1"), b"").unwrap();
    let err = FileStore::<Reference>::open(&root, SHARD).unwrap_err();
    assert_eq!(err.code(), "E-STORE-NOT-FILE");
}

/// The shard's record of its latest commit is never lost silently: with
/// every head gone but bundles left, loads and claims refuse to start over.
#[test]
fn a_lost_head_is_never_an_empty_shard() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let mut store = open(tmp.path());
        let mut authority = store.claim().unwrap();
        commit(&mut store, &mut authority);
        commit(&mut store, &mut authority);
    }
    let dir = ShardDir::of(tmp.path(), SHARD);
    for version in dir.head_versions().unwrap() {
        fs::remove_file(dir.head_path(version)).unwrap();
    }
    let mut store = open(tmp.path());
    let err = store.load_latest().unwrap_err();
    assert_eq!(err.code(), "E-STORE-HEAD");
    assert!(
        matches!(
            err,
            StoreError::HeadMissing {
                newest: Epoch(2),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("refusing to treat it as empty"),
        "{err}"
    );
    assert_eq!(store.claim().unwrap_err().code(), "E-STORE-HEAD");
    assert!(
        store.epochs().unwrap().is_empty(),
        "nothing is known committed"
    );
    assert_eq!(dir.stored().unwrap(), [at(1, 1), at(2, 1)]);

    // With every bundle deleted as well, only the head tells: a shard that
    // ever committed never reads as empty.
    let tmp = tempfile::tempdir().unwrap();
    let mut store = open(tmp.path());
    let mut authority = store.claim().unwrap();
    commit(&mut store, &mut authority);
    for stored in store.dir().stored().unwrap() {
        fs::remove_file(store.dir().epoch_path(stored)).unwrap();
    }
    assert_eq!(store.load_latest().unwrap_err().code(), "E-STORE-DAMAGED");
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

/// A load can be restored only with the authority of the store that loaded
/// it. Changed: it used to be re-read under the other authority's key and
/// shard (E-DIGEST, E-SHARD); a restore no longer reads bytes, and another
/// store's authority is refused outright.
#[test]
fn a_load_is_restored_only_with_its_own_stores_authority() {
    let tmp = tempfile::tempdir().unwrap();
    let key = DigestKey::from_bytes([5; 32]);
    let mut keyed = FileStore::<Reference>::with_key(tmp.path(), SHARD, key).unwrap();
    let mut authority = keyed.claim().unwrap();
    commit(&mut keyed, &mut authority);

    // Same shard, no key, another root.
    let other = tempfile::tempdir().unwrap();
    let unkeyed_authority = open(other.path()).claim().unwrap();
    let err = Restore::open(keyed.load_latest().unwrap().unwrap(), &unkeyed_authority).unwrap_err();
    assert_eq!(err.code(), "E-RESTORE-FOREIGN");
    // Same key, another shard.
    let mut two =
        FileStore::<Reference>::with_key(other.path(), ShardId(2), DigestKey::from_bytes([5; 32]))
            .unwrap();
    let err =
        Restore::open(keyed.load_latest().unwrap().unwrap(), &two.claim().unwrap()).unwrap_err();
    assert_eq!(err.code(), "E-RESTORE-FOREIGN");
    // A second store on the same directory (after the first is gone).
    let loaded = keyed.load_latest().unwrap().unwrap();
    drop(keyed);
    let mut again =
        FileStore::<Reference>::with_key(tmp.path(), SHARD, DigestKey::from_bytes([5; 32]))
            .unwrap();
    let successor = again.claim().unwrap();
    assert_eq!(
        Restore::open(loaded, &successor).unwrap_err().code(),
        "E-RESTORE-FOREIGN"
    );
    // Its own authority restores its own load.
    let loaded = again.load_latest().unwrap().unwrap();
    assert_eq!(restore_all(loaded, &successor).unwrap(), world(1));
}
