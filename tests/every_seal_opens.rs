//! Every seal opens (issue 9): whatever `seal()` returns, `Restore::open`
//! accepts once a store has committed it. Record types that would make the
//! save chain write a bundle every later load refuses — reference methods
//! that read state which changes during the step, or that their encoding
//! leaves out, and encodings that do not reproduce the record — are refused
//! at their step with `E-RECORD-ROUNDTRIP`, and nothing is sealed.
//!
//! Each record type here is legal: it compiles into a `Schema`, it is
//! `Send + Sync`, and every id it names exists.

#![cfg(feature = "reference")]

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use caelmor_persist::reference::{Item, Npc, Player, Quest, ShardSpec, Zone};
use caelmor_persist::{
    ItemId, ItemLocation, ItemRecord, MemStore, NpcId, NpcRecord, PlayerId, PlayerRecord, QuestId,
    QuestRecord, Rejection, RejectionCode, Restore, Save, Schema, Sealed, ShardId, System,
    WorldRecord, ZoneId,
};
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize, Serializer};

// ---------------------------------------------------------------------------
// A tiny schema whose record types the tests choose slot by slot.
// ---------------------------------------------------------------------------

/// The record types of the four slots that vary, as a type.
type Slots<P, N, I, Q> = fn() -> (P, N, I, Q);

struct Game<P, N, I, Q>(PhantomData<Slots<P, N, I, Q>>);

impl<P, N, I, Q> Schema for Game<P, N, I, Q>
where
    P: PlayerRecord,
    N: NpcRecord,
    I: ItemRecord,
    Q: QuestRecord,
{
    const NAME: &'static str = "every-seal-opens";
    const VERSION: u32 = 1;
    type Player = P;
    type World = Zone0;
    type Npc = N;
    type Item = I;
    type Quest = Q;
}

/// The well-behaved records of each slot.
type Plain = Game<Player0, Npc0, Item0, Quest0>;

#[derive(Serialize, Deserialize)]
struct Player0 {
    id: PlayerId,
}
impl PlayerRecord for Player0 {
    fn id(&self) -> PlayerId {
        self.id
    }
}

#[derive(Serialize, Deserialize)]
struct Zone0 {
    id: ZoneId,
}
impl WorldRecord for Zone0 {
    fn id(&self) -> ZoneId {
        self.id
    }
}

#[derive(Serialize, Deserialize)]
struct Npc0 {
    id: NpcId,
    zone: ZoneId,
}
impl NpcRecord for Npc0 {
    fn id(&self) -> NpcId {
        self.id
    }
    fn zone(&self) -> ZoneId {
        self.zone
    }
}

#[derive(Serialize, Deserialize)]
struct Item0 {
    id: ItemId,
    holder: PlayerId,
}
impl ItemRecord for Item0 {
    fn id(&self) -> ItemId {
        self.id
    }
    fn location(&self) -> ItemLocation {
        ItemLocation::of(self.holder)
    }
    fn owner(&self) -> Option<PlayerId> {
        Some(self.holder)
    }
}

#[derive(Serialize, Deserialize)]
struct Quest0 {
    id: QuestId,
    owner: PlayerId,
    zones: Vec<ZoneId>,
}
impl QuestRecord for Quest0 {
    fn id(&self) -> QuestId {
        self.id
    }
    fn owner(&self) -> PlayerId {
        self.owner
    }
    fn zone_context(&self) -> &[ZoneId] {
        &self.zones
    }
}

const PLAYERS: u64 = 40;
const ZONES: u64 = 4;

fn players() -> Vec<Player0> {
    (1..=PLAYERS).map(|i| Player0 { id: PlayerId(i) }).collect()
}
fn zones() -> Vec<Zone0> {
    (1..=ZONES).map(|i| Zone0 { id: ZoneId(i) }).collect()
}
fn npcs() -> Vec<Npc0> {
    (1..=50)
        .map(|i| Npc0 {
            id: NpcId(i),
            zone: ZoneId(1 + i % ZONES),
        })
        .collect()
}
fn items() -> Vec<Item0> {
    (1..=60)
        .map(|i| Item0 {
            id: ItemId(i),
            holder: PlayerId(1 + i % PLAYERS),
        })
        .collect()
}
fn quests() -> Vec<Quest0> {
    (1..=30)
        .map(|i| Quest0 {
            id: QuestId(i),
            owner: PlayerId(1 + i % PLAYERS),
            zones: vec![ZoneId(1), ZoneId(1 + i % ZONES)],
        })
        .collect()
}

/// A fresh store of schema `S` and its authority.
fn store<S: Schema>() -> (MemStore<S>, caelmor_persist::ServerAuthority<S>) {
    let mut store = MemStore::<S>::new(ShardId(9));
    let authority = store.claim().expect("a fresh MemStore grants its claim");
    (store, authority)
}

/// What a refused step must look like: `E-RECORD-ROUNDTRIP`, naming the
/// system, the record and what differed.
#[track_caller]
fn refused(result: Result<impl Sized, Rejection>, system: System, id: u64, detail: &'static str) {
    let Err(rejection) = result.map(drop) else {
        panic!("the step sealed a record that does not survive its own encoding");
    };
    assert_eq!(
        rejection.code(),
        RejectionCode::RecordRoundtrip,
        "{rejection}"
    );
    assert_eq!(rejection, Rejection::RecordRoundtrip { system, id, detail });
    let message = rejection.to_string();
    assert!(message.starts_with("E-RECORD-ROUNDTRIP: "), "{message}");
    assert!(
        message.contains(&format!("{system} record id {id} ")),
        "{message}"
    );
    assert!(message.contains(detail), "{message}");
}

/// Nothing was sealed: the store holds no epoch.
fn nothing_sealed<S: Schema>(store: &MemStore<S>) {
    assert!(store.load_latest().expect("readable").is_none());
}

/// Commits `sealed`, loads the latest epoch (which verifies every record)
/// and restores it; the rejection a load refuses it with, if any.
fn commit_and_open<S: Schema>(
    store: &mut MemStore<S>,
    authority: &caelmor_persist::ServerAuthority<S>,
    sealed: Sealed<S>,
) -> Result<(), Rejection> {
    store.commit(sealed, authority).expect("commit");
    let loaded = match store.load_latest() {
        Ok(loaded) => loaded.expect("one epoch"),
        Err(e) => {
            return Err(e
                .rejection()
                .cloned()
                .unwrap_or_else(|| panic!("a load failed without a rejection: {e}")));
        }
    };
    Restore::open(loaded, authority)
        .expect("the store's current authority restores what it loaded")
        .players()
        .world()
        .npcs()
        .items()
        .quests()
        .activate(authority)
        .expect("the same authority activates");
    Ok(())
}

// ---------------------------------------------------------------------------
// (a) A reference read from an atomic that changes while the step runs.
// ---------------------------------------------------------------------------

/// An NPC whose zone is live game state: an `AtomicU64` (which is `Sync`,
/// so the record is accepted), read by `zone()` and written by `Serialize`.
/// A move is pending, and `Serialize` applies it before writing the zone:
/// a deterministic stand-in for the game thread moving the NPC between the
/// moment the step reads its zone and the moment it encodes it.
#[derive(Deserialize)]
struct MovingNpc {
    id: NpcId,
    zone: AtomicU64,
    #[serde(skip)]
    move_pending: AtomicBool,
}

impl Serialize for MovingNpc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.move_pending.swap(false, Ordering::Relaxed) {
            let next = self.zone.load(Ordering::Relaxed) % ZONES + 1;
            self.zone.store(next, Ordering::Relaxed);
        }
        // Written as the derived Deserialize reads it (a struct of the id
        // and the zone), so the schema's shape traces and only the move
        // makes the record differ from what the step read.
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("MovingNpc", 2)?;
        st.serialize_field("id", &self.id)?;
        st.serialize_field("zone", &self.zone)?;
        st.end()
    }
}

impl NpcRecord for MovingNpc {
    fn id(&self) -> NpcId {
        self.id
    }
    fn zone(&self) -> ZoneId {
        ZoneId(self.zone.load(Ordering::Relaxed))
    }
}

#[test]
fn a_zone_that_changes_during_the_npc_step_is_refused_there() {
    type G = Game<Player0, MovingNpc, Item0, Quest0>;
    let (store, authority) = store::<G>();
    let moving: Vec<MovingNpc> = (1..=10)
        .map(|i| MovingNpc {
            id: NpcId(i),
            zone: AtomicU64::new(1),
            move_pending: AtomicBool::new(i >= 4),
        })
        .collect();
    let step = Save::begin(&authority)
        .players(&players())
        .and_then(|s| s.world(&zones()))
        .and_then(|s| s.npcs(&moving));
    // Every zone exists, so only the proof can tell: NPC 4, the first to
    // move, was read in zone 1 and encoded in zone 2.
    refused(step, System::Npc, 4, "decodes to other ids/references");
    nothing_sealed(&store);
}

/// The same NPC moved by a real game thread, as fast as it can, while
/// saves run: a save may be refused or may seal, and every seal opens.
#[derive(Serialize, Deserialize)]
struct LiveNpc {
    id: NpcId,
    zone: AtomicU64,
}

impl NpcRecord for LiveNpc {
    fn id(&self) -> NpcId {
        self.id
    }
    fn zone(&self) -> ZoneId {
        ZoneId(self.zone.load(Ordering::Relaxed))
    }
}

#[test]
fn npcs_moved_by_another_thread_during_saves_never_seal_an_unopenable_bundle() {
    type G = Game<Player0, LiveNpc, Item0, Quest0>;
    let (mut store, authority) = store::<G>();
    // Enough NPCs that the step shares them between two threads.
    let live: Vec<LiveNpc> = (1..=6000)
        .map(|i| LiveNpc {
            id: NpcId(i),
            zone: AtomicU64::new(1),
        })
        .collect();
    /// Stops the game thread however the test ends (a failed assertion
    /// included), so that the scope can be left.
    struct Stop<'a>(&'a AtomicBool);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut tick = 0u64;
            while !done.load(Ordering::Relaxed) {
                tick += 1;
                for npc in &live {
                    npc.zone.store(tick % ZONES + 1, Ordering::Relaxed);
                }
            }
        });
        let _stop = Stop(&done);
        for _ in 0..20 {
            let sealed = Save::begin(&authority)
                .players(&players())
                .and_then(|s| s.world(&zones()))
                .and_then(|s| s.npcs(&live))
                .and_then(|s| s.items(&items()))
                .and_then(|s| s.quests(&quests()))
                .map(Save::seal);
            match sealed {
                Ok(sealed) => {
                    let opened = commit_and_open(&mut store, &authority, sealed);
                    assert_eq!(opened, Ok(()), "a committed seal must open");
                }
                Err(rejection) => {
                    assert_eq!(
                        rejection.code(),
                        RejectionCode::RecordRoundtrip,
                        "{rejection}"
                    );
                }
            }
        }
    });
}

// ---------------------------------------------------------------------------
// (b) A reference read from a field the encoding skips.
// ---------------------------------------------------------------------------

/// An item whose owner is a runtime cache the encoding leaves out: the
/// decoded item has no owner.
#[derive(Serialize, Deserialize)]
struct CachedOwnerItem {
    id: ItemId,
    holder: PlayerId,
    #[serde(skip)]
    owner: Option<PlayerId>,
}

impl ItemRecord for CachedOwnerItem {
    fn id(&self) -> ItemId {
        self.id
    }
    fn location(&self) -> ItemLocation {
        ItemLocation::of(self.holder)
    }
    fn owner(&self) -> Option<PlayerId> {
        self.owner
    }
}

#[test]
fn an_owner_read_from_a_skipped_field_is_refused_at_the_item_step() {
    type G = Game<Player0, Npc0, CachedOwnerItem, Quest0>;
    let (store, authority) = store::<G>();
    let items: Vec<CachedOwnerItem> = (1..=20)
        .map(|i| CachedOwnerItem {
            id: ItemId(i),
            holder: PlayerId(1),
            // Only some items have a cached owner; the first is item 7.
            owner: (i % 7 == 0).then_some(PlayerId(2)),
        })
        .collect();
    let step = Save::begin(&authority)
        .players(&players())
        .and_then(|s| s.world(&zones()))
        .and_then(|s| s.npcs(&npcs()))
        .and_then(|s| s.items(&items));
    refused(step, System::Item, 7, "decodes to other ids/references");
    nothing_sealed(&store);
}

/// An item that lies in zone 1 when first asked and in a container that
/// does not exist ever after: a check and an index that each read the
/// record for themselves would see two different items, and the encoding
/// (taken after both reads) agrees with the second.
#[derive(Serialize, Deserialize)]
struct SlippingItem {
    id: ItemId,
    reads: AtomicU64,
}

impl ItemRecord for SlippingItem {
    fn id(&self) -> ItemId {
        self.id
    }
    fn location(&self) -> ItemLocation {
        match self.reads.fetch_add(1, Ordering::Relaxed) {
            0 => ItemLocation::of(ZoneId(1)),
            _ => ItemLocation::of(ItemId(999)),
        }
    }
    fn owner(&self) -> Option<PlayerId> {
        None
    }
}

#[test]
fn an_item_is_checked_and_indexed_as_read_once() {
    type G = Game<Player0, Npc0, SlippingItem, Quest0>;
    let (store, authority) = store::<G>();
    let items: Vec<SlippingItem> = (1..=3)
        .map(|i| SlippingItem {
            id: ItemId(i),
            reads: AtomicU64::new(0),
        })
        .collect();
    let step = Save::begin(&authority)
        .players(&players())
        .and_then(|s| s.world(&zones()))
        .and_then(|s| s.npcs(&npcs()))
        .and_then(|s| s.items(&items));
    // Read once, in zone 1: checked and indexed there. Encoded after that
    // read, it decodes into the missing container.
    refused(step, System::Item, 1, "decodes to other ids/references");
    nothing_sealed(&store);
}

// ---------------------------------------------------------------------------
// (c) An encoding that does not round-trip canonically.
// ---------------------------------------------------------------------------

/// A quest whose objective counters are a `HashMap`: postcard writes its
/// entries in iteration order, and the decoded map (another random hasher
/// seed) iterates in another order, so it re-encodes to other bytes.
#[derive(Serialize, Deserialize)]
struct MapQuest {
    id: QuestId,
    owner: PlayerId,
    zones: Vec<ZoneId>,
    counters: HashMap<u32, u32>,
}

impl QuestRecord for MapQuest {
    fn id(&self) -> QuestId {
        self.id
    }
    fn owner(&self) -> PlayerId {
        self.owner
    }
    fn zone_context(&self) -> &[ZoneId] {
        &self.zones
    }
}

#[test]
fn a_hash_map_of_several_entries_is_refused_at_the_quest_step() {
    type G = Game<Player0, Npc0, Item0, MapQuest>;
    let (store, authority) = store::<G>();
    let quests: Vec<MapQuest> = (1..=5)
        .map(|i| MapQuest {
            id: QuestId(i),
            owner: PlayerId(1),
            zones: vec![ZoneId(2)],
            // One entry encodes in its one order; the third quest's 32
            // entries (32! orders) do not.
            counters: (0..if i == 3 { 32 } else { u32::from(i < 3) })
                .map(|k| (k, k * 7))
                .collect(),
        })
        .collect();
    let step = Save::begin(&authority)
        .players(&players())
        .and_then(|s| s.world(&zones()))
        .and_then(|s| s.npcs(&npcs()))
        .and_then(|s| s.items(&items()))
        .and_then(|s| s.quests(&quests));
    refused(step, System::Quest, 3, "re-encodes differently");
    nothing_sealed(&store);
}

// ---------------------------------------------------------------------------
// (d) An id that changes between calls.
// ---------------------------------------------------------------------------

/// A player whose `id()` hands out a new id on each call (a counter read
/// with `fetch_add`): each read of the step would see another player.
#[derive(Serialize, Deserialize)]
struct CountingPlayer {
    id: AtomicU64,
}

impl PlayerRecord for CountingPlayer {
    fn id(&self) -> PlayerId {
        PlayerId(self.id.fetch_add(1, Ordering::Relaxed))
    }
}

#[test]
fn an_id_that_changes_between_calls_is_refused_at_the_player_step() {
    type G = Game<CountingPlayer, Npc0, Item0, Quest0>;
    let (store, authority) = store::<G>();
    let counting: Vec<CountingPlayer> = (0..5)
        .map(|i| CountingPlayer {
            id: AtomicU64::new(10 * i + 1),
        })
        .collect();
    // Read once as player 1, encoded as 2.
    refused(
        Save::begin(&authority).players(&counting),
        System::Player,
        1,
        "decodes to other ids/references",
    );
    nothing_sealed(&store);
}

/// A record that does not decode from its own encoding.
#[derive(Deserialize)]
struct OneWayPlayer {
    id: PlayerId,
}

impl Serialize for OneWayPlayer {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Written as the derived Deserialize reads it — a struct of one id —
        // except for id 3, a value the shape's trace never tries: there it
        // writes a lone 0x80, a varint whose continuation bit promises a
        // byte that never comes, which the decoder cannot read.
        if self.id.0 == 3 {
            return s.serialize_u8(0x80);
        }
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("OneWayPlayer", 1)?;
        st.serialize_field("id", &self.id)?;
        st.end()
    }
}

impl PlayerRecord for OneWayPlayer {
    fn id(&self) -> PlayerId {
        self.id
    }
}

#[test]
fn a_record_that_does_not_decode_is_refused() {
    type G = Game<OneWayPlayer, Npc0, Item0, Quest0>;
    let (store, authority) = store::<G>();
    let players: Vec<OneWayPlayer> = (1..=5).map(|i| OneWayPlayer { id: PlayerId(i) }).collect();
    refused(
        Save::begin(&authority).players(&players),
        System::Player,
        3,
        "does not decode",
    );
    nothing_sealed(&store);
}

#[test]
fn plain_records_of_the_same_schema_seal_and_open() {
    let (mut store, authority) = store::<Plain>();
    let sealed = Save::begin(&authority)
        .players(&players())
        .and_then(|s| s.world(&zones()))
        .and_then(|s| s.npcs(&npcs()))
        .and_then(|s| s.items(&items()))
        .and_then(|s| s.quests(&quests()))
        .expect("plain records")
        .seal();
    assert_eq!(commit_and_open(&mut store, &authority, sealed), Ok(()));
}

// ---------------------------------------------------------------------------
// Whatever seal() returns opens.
// ---------------------------------------------------------------------------

/// How a wobbly record misbehaves, if it does. Kept out of the encoding.
#[derive(Default)]
enum Quirk {
    #[default]
    None,
    /// Every read of the record's first reference (its id, for players and
    /// zones) answers one more than the last: a counter.
    Drift(AtomicU64),
    /// The first reference comes from a cache the encoding skips.
    Shadow(u64),
}

/// A reference record with a quirk and, for some, a hash map.
#[derive(Serialize, Deserialize)]
struct Wobbly<T> {
    inner: T,
    map: HashMap<u32, u32>,
    #[serde(skip)]
    quirk: Quirk,
}

impl<T> Wobbly<T> {
    fn wobble(&self, honest: u64) -> u64 {
        match &self.quirk {
            Quirk::None => honest,
            Quirk::Drift(count) => honest.wrapping_add(count.fetch_add(1, Ordering::Relaxed)),
            Quirk::Shadow(other) => *other,
        }
    }
}

impl PlayerRecord for Wobbly<Player> {
    fn id(&self) -> PlayerId {
        PlayerId(self.wobble(self.inner.id.0))
    }
}
impl WorldRecord for Wobbly<Zone> {
    fn id(&self) -> ZoneId {
        ZoneId(self.wobble(self.inner.id.0))
    }
}
impl NpcRecord for Wobbly<Npc> {
    fn id(&self) -> NpcId {
        self.inner.id
    }
    fn zone(&self) -> ZoneId {
        ZoneId(self.wobble(self.inner.zone.0))
    }
}
impl ItemRecord for Wobbly<Item> {
    fn id(&self) -> ItemId {
        self.inner.id
    }
    fn location(&self) -> ItemLocation {
        match self.inner.location {
            ItemLocation::Zone(z) => ItemLocation::Zone(ZoneId(self.wobble(z.0))),
            ItemLocation::Player(p) => ItemLocation::Player(PlayerId(self.wobble(p.0))),
            ItemLocation::Container(c) => ItemLocation::Container(ItemId(self.wobble(c.0))),
        }
    }
    fn owner(&self) -> Option<PlayerId> {
        self.inner.owner
    }
}
impl QuestRecord for Wobbly<Quest> {
    fn id(&self) -> QuestId {
        self.inner.id
    }
    fn owner(&self) -> PlayerId {
        PlayerId(self.wobble(self.inner.owner.0))
    }
    fn zone_context(&self) -> &[ZoneId] {
        &self.inner.zones
    }
}

struct WobblyGame;
impl Schema for WobblyGame {
    const NAME: &'static str = "wobbly";
    const VERSION: u32 = 1;
    type Player = Wobbly<Player>;
    type World = Wobbly<Zone>;
    type Npc = Wobbly<Npc>;
    type Item = Wobbly<Item>;
    type Quest = Wobbly<Quest>;
}

/// Wraps `records`, giving each a quirk or a map with a small chance, and
/// shuffles them (so that sections are sorted by the step).
fn wobbly<T>(records: Vec<T>, rng: &mut ChaCha8Rng, odds: f64) -> Vec<Wobbly<T>> {
    let mut out: Vec<Wobbly<T>> = records
        .into_iter()
        .map(|inner| {
            let quirk = match rng.random_bool(odds).then(|| rng.random_range(0..3)) {
                Some(0) => Quirk::Drift(AtomicU64::new(rng.random_range(0..2))),
                Some(1) => Quirk::Shadow(rng.random_range(0..40)),
                _ => Quirk::None,
            };
            // Several entries, so that the decoded map iterating in the
            // same order by chance is out of the question.
            let entries = if rng.random_bool(odds / 3.0) { 24 } else { 0 };
            Wobbly {
                inner,
                map: (0..entries).map(|k| (k, k)).collect(),
                quirk,
            }
        })
        .collect();
    if rng.random_bool(0.5) {
        out.shuffle(rng);
    }
    out
}

/// One save of a generated shard whose records misbehave with `odds`:
/// refused at some step, or sealed — and then it opens.
fn whatever_seals_opens(spec: ShardSpec, seed: u64, odds: f64) -> Option<RejectionCode> {
    let shard = spec.generate(seed);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let players = wobbly(shard.players, &mut rng, odds);
    let zones = wobbly(shard.zones, &mut rng, odds);
    let npcs = wobbly(shard.npcs, &mut rng, odds);
    let items = wobbly(shard.items, &mut rng, odds);
    let quests = wobbly(shard.quests, &mut rng, odds);
    let (mut store, authority) = store::<WobblyGame>();
    let sealed = Save::begin(&authority)
        .players(&players)
        .and_then(|s| s.world(&zones))
        .and_then(|s| s.npcs(&npcs))
        .and_then(|s| s.items(&items))
        .and_then(|s| s.quests(&quests))
        .map(Save::seal);
    match sealed {
        Ok(sealed) => {
            let opened = commit_and_open(&mut store, &authority, sealed);
            assert_eq!(opened, Ok(()), "seed {seed}: a committed seal must open");
            None
        }
        Err(rejection) => {
            nothing_sealed(&store);
            Some(rejection.code())
        }
    }
}

#[test]
fn whatever_seal_returns_opens() {
    let mut refusals: HashMap<RejectionCode, usize> = HashMap::new();
    let mut sealed = 0;
    for seed in 0..96 {
        // From well-behaved shards to ones where most records misbehave.
        let odds = [0.0, 0.002, 0.01, 0.05][seed as usize % 4];
        let spec = ShardSpec {
            players: 12,
            zones: 5,
            npcs: 30,
            items: 120,
            quests: 40,
        };
        match whatever_seals_opens(spec, seed, odds) {
            None => sealed += 1,
            Some(code) => *refusals.entry(code).or_default() += 1,
        }
    }
    // Both answers are exercised, and the proof refused some shards.
    assert!(sealed >= 24, "{sealed} sealed, refusals {refusals:?}");
    assert!(
        refusals.get(&RejectionCode::RecordRoundtrip) >= Some(&8),
        "{sealed} sealed, refusals {refusals:?}"
    );
}

#[test]
fn whatever_seal_returns_opens_when_sections_are_shared_between_threads() {
    // Sections large enough to be split between two threads.
    let spec = ShardSpec {
        players: 4100,
        zones: 6,
        npcs: 4100,
        items: 9000,
        quests: 4100,
    };
    let outcomes: Vec<Option<RejectionCode>> = [(1, 0.0), (2, 0.0001), (3, 0.0002), (4, 0.001)]
        .into_iter()
        .map(|(seed, odds)| whatever_seals_opens(spec, seed, odds))
        .collect();
    assert!(outcomes.contains(&None), "{outcomes:?}");
    assert!(
        outcomes.contains(&Some(RejectionCode::RecordRoundtrip)),
        "{outcomes:?}"
    );
}
