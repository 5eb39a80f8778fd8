//! The typed reader (`verify_as` with the reference schema, as shard 1 at
//! epoch 1) on arbitrary bytes, as given and re-framed with a valid unkeyed
//! digest. Must never panic; `verify_as` and `verify` must each give the
//! answer of the independent reader of `tests/independent` (written from
//! the format specification alone, sharing no code with the crate), code
//! for code; a store's `load_latest` of the same bytes must give the same
//! answer; and whatever is accepted must restore, through that store, to
//! records whose one canonical encoding is exactly these bytes: saving
//! them again gives the same bytes.
#![no_main]

use caelmor_persist::reference::Reference;
use caelmor_persist::{
    Epoch, Fence, Rejection, Restore, Save, ShardId, StoreError, VerifyOptions, verify, verify_as,
};
use libfuzzer_sys::fuzz_target;

mod common;
#[path = "../../tests/independent/mod.rs"]
mod independent;
mod records;

fn check(bytes: &[u8]) {
    let options = VerifyOptions::new()
        .expect_shard(ShardId(1))
        .expect_epoch(Epoch(1));
    let agnostic = verify(
        bytes,
        &options.clone().expect_schema("caelmor-reference", 1),
    );
    let typed = verify_as::<Reference>(bytes, &options);
    // The second opinion: the same expectations, read by the specification.
    let own_shapes = caelmor_persist::shape::schema_shapes::<Reference>()
        .expect("the reference schema traces")
        .map(|s| s.to_bytes());
    let expect = independent::reader::Expect {
        key: None,
        schema: Some(("caelmor-reference".to_owned(), 1)),
        shapes: Some(own_shapes.clone()),
        shard: Some(1),
        epoch: Some(1),
    };
    let second_typed = independent::reader::read(bytes, &expect, Some(&records::Reference));
    let second_agnostic = independent::reader::read(bytes, &expect, None);
    records::agree("verify_as", typed.as_ref().map(|_| ()), &second_typed);
    records::agree("verify", agnostic.as_ref().map(|_| ()), &second_agnostic);
    if let (Ok(verified), Ok(second)) = (&agnostic, &second_agnostic) {
        assert_eq!(records::plain_index(&verified.index), second.index, "the index");
    }
    if bytes.len() < 32 {
        // A store knows the committed digest: shorter bytes never load.
        assert!(typed.is_err());
        return;
    }
    // The same bytes as a store's latest epoch (its head rewritten too).
    let (store, authority) = common::planted(bytes);
    let loaded = match (store.load_latest(), typed) {
        (Ok(Some(loaded)), Ok(summary)) => {
            assert_eq!(loaded.summary(), &summary, "load and verify_as disagree");
            loaded
        }
        (Err(StoreError::Damaged { rejection, .. }), Err(typed)) => {
            assert_eq!(rejection, Some(typed), "load and verify_as disagree");
            return;
        }
        (Err(StoreError::SchemaMismatch { .. }), Err(typed)) => {
            assert!(matches!(typed, Rejection::SchemaMismatch { .. }), "{typed}");
            return;
        }
        (Err(StoreError::ShapeMismatch { mismatch, .. }), Err(typed)) => {
            assert_eq!(typed, Rejection::ShapeMismatch(mismatch), "load and verify_as disagree");
            return;
        }
        (loaded, typed) => panic!("load and verify_as disagree: {loaded:?} / {typed:?}"),
    };
    let fence = loaded.summary().fence;
    let active = Restore::open(loaded, &authority)
        .expect("the loading store's own authority")
        .players()
        .world()
        .npcs()
        .items()
        .quests()
        .activate(&authority)
        .expect("the authority that opened it");
    // The planted store's authority saves at epoch 1 under fence 1: when the
    // accepted bundle says the same, its bytes must come back exactly —
    // unless its shapes name their containers otherwise (a renamed Rust
    // type opens its old bundles: the fingerprint has no container names,
    // and the writer writes its own).
    let shapes = verify(bytes, &VerifyOptions::new())
        .expect("accepted")
        .shapes
        .map(|s| s.to_bytes());
    if fence == Fence(1) && shapes == own_shapes {
        let sealed = Save::begin(&authority)
            .players(&active.players)
            .and_then(|s| s.world(&active.zones))
            .and_then(|s| s.npcs(&active.npcs))
            .and_then(|s| s.items(&active.items))
            .and_then(|s| s.quests(&active.quests))
            .expect("records that restored save again")
            .seal();
        assert_eq!(sealed.bytes(), bytes, "encode(decode(b)) != b");
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    if let Some(framed) = common::reframed(data) {
        check(&framed);
    }
});
