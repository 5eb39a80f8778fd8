//! Typed `Restore::open` with the reference schema, as shard 1 at epoch 1,
//! on arbitrary bytes, as given and re-framed with a valid unkeyed digest.
//! Must never panic; must agree with `verify` on every rule it can see; and
//! whatever it accepts must be the one canonical encoding of the records it
//! hands back: saving them again gives exactly the same bytes.
#![no_main]

use caelmor_persist::reference::Reference;
use caelmor_persist::{
    Epoch, Fence, Loaded, MemStore, Rejection, Restore, Save, ShardId, Store, VerifyOptions,
    verify,
};
use libfuzzer_sys::fuzz_target;

mod common;

fn check(bytes: &[u8]) {
    let mut store = MemStore::<Reference>::new(ShardId(1));
    let authority = store.claim().expect("MemStore claims are infallible");
    let options = VerifyOptions::new()
        .expect_schema("caelmor-reference", 1)
        .expect_shard(ShardId(1))
        .expect_epoch(Epoch(1));
    let agnostic = verify(bytes, &options);
    let opened = Restore::open(Loaded::new(bytes.to_vec(), Epoch(1)), &authority);
    let restore = match (opened, agnostic) {
        (Err(typed), Err(schema_agnostic)) => {
            assert_eq!(typed, schema_agnostic, "the readers disagree");
            return;
        }
        (Err(typed), Ok(_)) => {
            assert!(
                matches!(
                    typed,
                    Rejection::IndexMismatch { .. }
                        | Rejection::Undecodable { .. }
                        | Rejection::NonCanonical { .. }
                        | Rejection::TrailingBytes { .. }
                ),
                "verify accepted what open refused: {typed}"
            );
            return;
        }
        (Ok(_), Err(r)) => panic!("open accepted what verify refused: {r}"),
        (Ok(restore), Ok(_)) => restore,
    };
    let fence = restore.summary().fence;
    let (r, players) = restore.players();
    let (r, zones) = r.world();
    let (r, npcs) = r.npcs();
    let (r, items) = r.items();
    let (r, quests) = r.quests();
    let active = r.activate(&authority).expect("same authority");
    let players = active.activate(players).expect("same restore");
    let zones = active.activate(zones).expect("same restore");
    let npcs = active.activate(npcs).expect("same restore");
    let items = active.activate(items).expect("same restore");
    let quests = active.activate(quests).expect("same restore");
    // A fresh store's authority saves at epoch 1 under fence 1: when the
    // accepted bundle says the same, its bytes must come back exactly.
    if fence == Fence(1) {
        let sealed = Save::begin(&authority)
            .players(&players)
            .and_then(|s| s.world(&zones))
            .and_then(|s| s.npcs(&npcs))
            .and_then(|s| s.items(&items))
            .and_then(|s| s.quests(&quests))
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
