//! What operators and logs see: every `Display` and `Debug` of the public
//! types says what the value is, names the part of a bundle a rejection is
//! about, and never shows a key or a restored record's content.

#![cfg(feature = "reference")]

mod common;

use caelmor_persist::reference::Reference;
use caelmor_persist::{
    DigestKey, Edge, ItemId, ItemLocation, MemStore, Part, PlayerId, Rejection, Restore, Save,
    ShardId, System, ZoneId,
};
use common::{authority, keyed_authority, save, tiny};

#[test]
fn edges_name_themselves() {
    let names = [
        (Edge::NpcZone, "npc→zone"),
        (Edge::ItemZone, "item→zone"),
        (Edge::ItemPlayer, "item→player"),
        (Edge::ItemOwner, "item→player (owner)"),
        (Edge::ItemItem, "item→item"),
        (Edge::QuestPlayer, "quest→player"),
        (Edge::QuestZone, "quest→zone"),
    ];
    for (edge, name) in names {
        assert_eq!(edge.name(), name);
        assert_eq!(edge.to_string(), name);
    }
    let r = Rejection::DanglingRef {
        edge: Edge::ItemOwner,
        from: 4,
        to: 9,
    };
    assert_eq!(
        r.to_string(),
        "E-DANGLING-REF: item→player (owner): item id 4 names player id 9, which this bundle does not hold"
    );
}

#[test]
fn parts_name_where_in_the_bundle() {
    let parts = [
        (Part::Frame, "frame"),
        (Part::Header, "header"),
        (Part::SectionTable, "section table"),
        (Part::Section(System::Npc), "npc section index"),
        (Part::Payload(System::Item), "item section payload"),
        (Part::Record(System::Quest, 7), "quest record at position 7"),
    ];
    for (part, shown) in parts {
        assert_eq!(part.to_string(), shown);
    }
    assert_eq!(
        Rejection::NonCanonical {
            part: Part::Record(System::Player, 0)
        }
        .to_string(),
        "E-NONCANONICAL: the player record at position 0 decodes but is not in its one canonical encoding"
    );
    assert_eq!(
        Rejection::TrailingBytes {
            part: Part::Payload(System::Npc),
            extra: 3
        }
        .to_string(),
        "E-TRAILING: 3 unexpected bytes after the end of the npc section payload"
    );
}

#[test]
fn item_locations_say_where() {
    assert_eq!(ItemLocation::Zone(ZoneId(2)).to_string(), "in zone#2");
    assert_eq!(
        ItemLocation::Player(PlayerId(3)).to_string(),
        "held by player#3"
    );
    assert_eq!(
        ItemLocation::Container(ItemId(4)).to_string(),
        "inside item#4"
    );
}

#[test]
fn authorities_show_their_claim_but_never_their_key() {
    let plain = authority();
    assert!(!plain.is_keyed());
    let shown = format!("{plain:?}");
    for part in [
        "ServerAuthority",
        "caelmor-reference",
        "shard#1",
        "fence#1",
        "epoch#1",
        "keyed: false",
    ] {
        assert!(shown.contains(part), "{shown} lacks {part}");
    }

    let keyed = keyed_authority([0xab; 32]);
    assert!(keyed.is_keyed());
    let shown = format!("{keyed:?}");
    assert!(shown.contains("keyed: true"), "{shown}");
    assert!(
        !shown.contains("171") && !shown.contains("ab, ab"),
        "{shown}"
    );
    assert_eq!(
        format!("{:?}", DigestKey::from_bytes([0xab; 32])),
        "DigestKey(<redacted>)"
    );
    // A keyed store shows its key's fingerprint, never the key.
    let store = MemStore::<Reference>::with_key(ShardId(1), DigestKey::from_bytes([0xab; 32]));
    let shown = format!("{store:?}");
    let fingerprint = store.config().key_fingerprint().to_string();
    assert_eq!(fingerprint.len(), 64);
    assert!(shown.contains(&fingerprint), "{shown}");
    assert!(!shown.contains(&"ab".repeat(32)), "{shown}");
    assert!(
        !shown.contains("171") && !shown.contains("ab, ab"),
        "{shown}"
    );
}

#[test]
fn chain_values_show_schema_state_and_position() {
    let shard = tiny();
    let mut store = MemStore::<Reference>::new(ShardId(5));
    let authority = store.claim().unwrap();

    let save_start = format!("{:?}", Save::begin(&authority));
    for part in ["Save", "caelmor-reference", "Start", "shard#5", "epoch#1"] {
        assert!(save_start.contains(part), "{save_start} lacks {part}");
    }
    let players_done = format!(
        "{:?}",
        Save::begin(&authority).players(&shard.players).unwrap()
    );
    assert!(players_done.contains("PlayerDone"), "{players_done}");

    let sealed = save(&shard, &authority).unwrap();
    let len = sealed.bytes().len();
    let shown = format!("{sealed:?}");
    for part in [
        "Sealed".to_owned(),
        "caelmor-reference".to_owned(),
        "shard#5".to_owned(),
        "epoch#1".to_owned(),
        "fence#1".to_owned(),
        format!("bytes: {len}"),
    ] {
        assert!(shown.contains(&part), "{shown} lacks {part}");
    }
    store.commit(sealed, &authority).unwrap();

    let loaded = store.load_latest().unwrap().unwrap();
    let shown = format!("{loaded:?}");
    for part in [
        "Loaded",
        "caelmor-reference",
        "shard#5",
        "epoch#1",
        "fence#1",
    ] {
        assert!(shown.contains(part), "{shown} lacks {part}");
    }
    assert!(!shown.contains("Kaelmor"), "{shown}");
    let restore = Restore::open(loaded, &authority).unwrap();
    let shown = format!("{restore:?}");
    for part in [
        "Restore",
        "caelmor-reference",
        "Start",
        "shard#5",
        "epoch#1",
    ] {
        assert!(shown.contains(part), "{shown} lacks {part}");
    }
    // A restore in progress shows its state, never the dormant records.
    let restore = restore.players();
    let shown = format!("{restore:?}");
    assert!(shown.contains("PlayerDone"), "{shown}");
    assert!(!shown.contains("Kaelmor"), "{shown}");
    let restore = restore.world().npcs().items().quests();
    let shown = format!("{restore:?}");
    assert!(shown.contains("QuestDone"), "{shown}");
    assert!(!shown.contains("Kaelmor"), "{shown}");
    let active = restore.activate(&authority).unwrap();
    // The activated systems show their sizes, not their records.
    let shown = format!("{active:?}");
    for part in [
        "Activated",
        "caelmor-reference",
        "epoch#1",
        "players: 2",
        "items: 4",
    ] {
        assert!(shown.contains(part), "{shown} lacks {part}");
    }
    assert!(!shown.contains("Kaelmor"), "{shown}");
    assert_eq!(active.players, shard.players);
}

#[test]
fn summaries_and_commit_errors_show_what_they_hold() {
    let shard = tiny();
    let authority = authority();
    let sealed = save(&shard, &authority).unwrap();
    let verified =
        caelmor_persist::verify(sealed.bytes(), &caelmor_persist::VerifyOptions::new()).unwrap();
    let hex = verified.summary.digest_hex();
    assert_eq!(hex.len(), 64);
    let expected: String = sealed.digest().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, expected);

    // A bundle sealed under another store's authority is refused and
    // handed back; the error shows both the cause and the bundle.
    let mut other = MemStore::<Reference>::new(ShardId(1));
    let other_authority = other.claim().unwrap();
    let err = other.commit(sealed, &other_authority).unwrap_err();
    let shown = format!("{err:?}");
    assert!(
        shown.starts_with("CommitError") && shown.contains("Sealed"),
        "{shown}"
    );
    assert_eq!(err.to_string(), err.error.to_string());
    assert_eq!(err.code(), "E-STORE-AUTHORITY");
    // It displays as its store error, so its source is that error's source
    // (none here): the message is never printed twice down the chain.
    assert!(std::error::Error::source(&err).is_none());
    assert!(std::error::Error::source(&err.error).is_none());

    let shown = format!("{other:?}");
    for part in [
        "Store",
        "caelmor-reference",
        "shard#1",
        "memory:shard#1",
        "fence#1",
        "claimed: true",
        "unkeyed",
    ] {
        assert!(shown.contains(part), "{shown} lacks {part}");
    }
}

#[test]
fn error_chains_say_each_thing_once() {
    use std::error::Error;
    // An I/O failure: the message names the operation and the path, the
    // operating system's error is the source, and only there.
    let tmp = tempfile::tempdir().unwrap();
    let blocked = tmp.path().join("blocked");
    std::fs::write(&blocked, b"").unwrap();
    let err = caelmor_persist::FileStore::<Reference>::open(&blocked, ShardId(1)).unwrap_err();
    let message = err.to_string();
    let source = err
        .source()
        .expect("the OS error is the source")
        .to_string();
    assert!(message.starts_with("E-STORE-IO: "), "{message}");
    assert!(!message.contains(&source), "{message} repeats {source}");

    // A refused commit of a superseded authority: its own message once.
    let mut store = MemStore::<Reference>::new(ShardId(1));
    let old = store.claim().unwrap();
    let _new = store.claim().unwrap();
    let err = store
        .commit(save(&tiny(), &old).unwrap(), &old)
        .unwrap_err();
    assert_eq!(err.code(), "E-STORE-FENCED");
    assert!(err.source().is_none(), "{err}");

    // A damaged latest that failed verification names the rule in its
    // message, and the rejection is there to be matched on.
    let mut store = MemStore::<Reference>::new(ShardId(1));
    let authority = store.claim().unwrap();
    let sealed = save(&tiny(), &authority).unwrap();
    store.commit(sealed, &authority).unwrap();
    let (planted, _) = common::planted(
        &common::Bundle::of(&{
            let mut s = tiny();
            s.items[1].location = ItemLocation::Container(ItemId(77));
            s
        })
        .bytes(),
        ShardId(1),
        caelmor_persist::Epoch(1),
        None,
    );
    let err = planted.load_latest().unwrap_err();
    let rejection = err.rejection().expect("it was read and refused").clone();
    assert_eq!(
        rejection.code(),
        caelmor_persist::RejectionCode::DanglingRef
    );
    assert!(err.to_string().contains(&rejection.to_string()), "{err}");
    if let Some(source) = err.source() {
        assert!(!err.to_string().contains(&source.to_string()), "{err}");
    }
}

#[test]
fn file_stores_show_their_shard_and_claim() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = caelmor_persist::FileStore::<Reference>::open(tmp.path(), ShardId(3)).unwrap();
    let shown = format!("{store:?}");
    for part in [
        "Store",
        "caelmor-reference",
        "shard#3",
        "shard-3",
        "claimed: false",
    ] {
        assert!(shown.contains(part), "{shown} lacks {part}");
    }
    store.claim().unwrap();
    let shown = format!("{store:?}");
    assert!(
        shown.contains("claimed: true") && shown.contains("fence#1"),
        "{shown}"
    );
}
