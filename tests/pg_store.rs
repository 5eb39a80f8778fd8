//! `PgStore` against a real PostgreSQL server that the tests start
//! themselves (tests/support/postgres.rs; `CAELMOR_PG_URL` to use another):
//! the conformance suite, damage in every part of a stored bundle, keys,
//! counters beyond `int8`, the owner lock, the lock timeout, a `COMMIT`
//! whose answer is lost, a server crash in the middle of commits, and the
//! tokio caveat.
#![cfg(feature = "postgres")]

#[path = "support/postgres.rs"]
mod pg;

use std::error::Error as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier, OnceLock, mpsc};
use std::time::{Duration, Instant};

use caelmor_persist::reference::{Reference, Shard, ShardSpec};
use caelmor_persist::{
    Backend, DigestKey, Epoch, Fence, PgBackend, PgError, PgOptions, PgStore, Restore, Save,
    Sealed, ServerAuthority, ShardId, StoreConfig, StoreError, StoredEpoch,
};

/// One database for this test binary; every test uses its own shards.
fn db() -> &'static pg::PgDatabase {
    static DB: OnceLock<pg::PgDatabase> = OnceLock::new();
    DB.get_or_init(|| pg::PgServer::shared().fresh_database("pg_store"))
}

fn url() -> String {
    db().url().to_owned()
}

fn new_shard() -> ShardId {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    ShardId(NEXT.fetch_add(1, Ordering::Relaxed))
}

fn sql() -> postgres::Client {
    db().connect()
}

fn store(shard: ShardId) -> PgStore<Reference> {
    PgStore::connect_with(&url(), shard, StoreConfig::new().retain(1 << 20))
        .unwrap_or_else(|e| panic!("connect: {e}"))
}

fn small(seed: u64) -> Shard {
    ShardSpec {
        players: 4,
        zones: 2,
        npcs: 5,
        items: 20,
        quests: 4,
    }
    .generate(seed)
}

/// A world of three chunks and a bit, generated once: every epoch differs
/// by its players' currency.
fn big(epoch: Epoch, fence: Fence) -> Shard {
    static BASE: OnceLock<Shard> = OnceLock::new();
    let mut w = BASE
        .get_or_init(|| {
            ShardSpec {
                players: 1_000,
                zones: 64,
                npcs: 10_000,
                items: 125_000,
                quests: 20_000,
            }
            .generate(2026)
        })
        .clone();
    for p in &mut w.players {
        p.currency = epoch.get() * 1_000_003 + fence.get();
    }
    w
}

fn seal_world(authority: &ServerAuthority<Reference>, w: &Shard) -> Sealed<Reference> {
    Save::begin(authority)
        .players(&w.players)
        .and_then(|s| s.world(&w.zones))
        .and_then(|s| s.npcs(&w.npcs))
        .and_then(|s| s.items(&w.items))
        .and_then(|s| s.quests(&w.quests))
        .expect("a generated world is consistent")
        .seal()
}

fn seal(authority: &ServerAuthority<Reference>) -> Sealed<Reference> {
    seal_world(
        authority,
        &small(authority.next_epoch().get() * 1_000_003 + authority.fence().get()),
    )
}

fn hex(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

fn restores_as(store: &PgStore<Reference>, authority: &ServerAuthority<Reference>, w: &Shard) {
    let loaded = store.load_latest().expect("load").expect("committed");
    let active = Restore::open(loaded, authority)
        .expect("open")
        .players()
        .world()
        .npcs()
        .items()
        .quests()
        .activate(authority)
        .expect("activate");
    assert!(
        active.players == w.players
            && active.zones == w.zones
            && active.npcs == w.npcs
            && active.items == w.items
            && active.quests == w.quests,
        "the restored records differ from the committed ones"
    );
}

fn pg_source(e: &StoreError) -> Option<&postgres::Error> {
    e.source().and_then(|s| s.downcast_ref::<postgres::Error>())
}

fn pg_error(e: &StoreError) -> Option<&PgError> {
    e.source().and_then(|s| s.downcast_ref::<PgError>())
}

// ---------------------------------------------------------------------------
// The conformance suite.

#[cfg(feature = "conformance")]
#[test]
fn the_postgres_backend_conforms() {
    use caelmor_persist::conformance::{self, PROPERTIES};
    let url = url();
    let report = conformance::check(
        || PgBackend::connect(&url, new_shard()).expect("connect a new shard"),
        |b: &PgBackend| PgBackend::connect(&url, b.shard()).expect("a second connection"),
    )
    .unwrap_or_else(|failure| panic!("{failure}"));
    assert_eq!(report.passed.len(), PROPERTIES.len());
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("owner lock refuses")),
        "{:?}",
        report.notes
    );
}

// ---------------------------------------------------------------------------
// Damage: never a fallback.

/// A shard with three committed epochs of a three-chunk-and-a-bit bundle,
/// made once; each damage test works on its own copy of its rows.
struct Template {
    shard: ShardId,
    /// Its owner, alive for the whole test binary: the copies' claims show
    /// that a lock in one schema is not a lock in another.
    _owner: std::sync::Mutex<PgStore<Reference>>,
    digests: Vec<String>,
    fence: Fence,
    len: usize,
}

fn template() -> &'static Template {
    static T: OnceLock<Template> = OnceLock::new();
    T.get_or_init(|| {
        let shard = new_shard();
        let mut store = store(shard);
        let authority = store.claim().expect("claim");
        let mut digests = Vec::new();
        let mut len = 0;
        for _ in 0..3 {
            let sealed = seal_world(&authority, &big(authority.next_epoch(), authority.fence()));
            digests.push(hex(sealed.bytes()));
            len = sealed.bytes().len();
            store.commit(sealed, &authority).expect("commit");
        }
        assert!(
            len > 3 * PgBackend::CHUNK_LEN,
            "{len} bytes: not four chunks"
        );
        Template {
            shard,
            _owner: std::sync::Mutex::new(store),
            digests,
            fence: authority.fence(),
            len,
        }
    })
}

/// A copy of the template shard: the same shard id (bundles are stamped
/// with it) in a schema of its own, which the store's connection selects
/// with `search_path` — so this also shows stores in two schemas of one
/// database staying apart, owner locks included. Returns a SQL client on
/// that schema too.
fn copy_of_template() -> (ShardId, PgStore<Reference>, postgres::Client) {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let t = template();
    let schema = format!("copy_{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let mut c = sql();
    c.batch_execute(&format!("CREATE SCHEMA {schema}")).unwrap();
    let url = format!("{}?options=-c%20search_path%3D{schema}", url());
    let mut s =
        PgStore::<Reference>::connect_with(&url, t.shard, StoreConfig::new().retain(1 << 20))
            .expect("connect: the tables are created in the schema");
    c.batch_execute(&format!(
        "INSERT INTO {schema}.caelmor_head SELECT * FROM public.caelmor_head WHERE shard = {shard};
         INSERT INTO {schema}.caelmor_epochs SELECT * FROM public.caelmor_epochs WHERE shard = {shard};
         INSERT INTO {schema}.caelmor_chunks SELECT * FROM public.caelmor_chunks WHERE shard = {shard};
         SET search_path = {schema};",
        shard = t.shard.get()
    ))
    .unwrap();
    assert_eq!(
        s.load_latest().expect("the copy loads").expect("3").epoch(),
        Epoch(3)
    );
    // The template's owner holds the shard's lock in `public`; this copy's
    // is another lock.
    let _ = s
        .claim()
        .expect("a copy in another schema has a lock of its own");
    (t.shard, s, c)
}

/// Damages the copy with `statement` (parameters: shard, epoch) and checks
/// that the latest epoch is refused as damaged, naming epoch `epoch` and
/// saying `says`, and that nothing older is ever handed out instead.
fn damaged(statement: &str, epoch: i64, says: &str) {
    let (shard, store, mut c) = copy_of_template();
    let n = c
        .execute(statement, &[&(shard.get() as i64), &epoch])
        .unwrap_or_else(|e| panic!("{statement}: {e}"));
    assert!(n > 0, "{statement} changed nothing");
    let e = match store.load_latest() {
        Err(e) => e,
        Ok(Some(loaded)) => panic!(
            "{statement}: loaded {} instead of refusing the damaged epoch",
            loaded.epoch()
        ),
        Ok(None) => panic!("{statement}: a committed shard loads as empty"),
    };
    if epoch == 3 {
        assert_eq!(e.code(), "E-STORE-DAMAGED", "{statement}: {e}");
        assert!(e.to_string().contains("epoch#3"), "{e}");
        assert!(e.to_string().contains(says), "{statement}: {e}");
        // Forensics see the same (or, for a deleted epoch row, nothing).
        match store.load_epoch(Epoch(3)) {
            Err(e) => assert_eq!(e.code(), "E-STORE-DAMAGED", "{e}"),
            Ok(None) if says == "its bundle is missing" => {}
            Ok(other) => panic!(
                "{statement}: forensics read {:?}",
                other.map(|b| b.bytes().len())
            ),
        }
    }
    // The older epochs are intact and still readable for forensics, never
    // restorable (`load_epoch` returns bytes, not a `Loaded`).
    for older in 1..=2 {
        let bundle = store
            .load_epoch(Epoch(older))
            .expect("intact")
            .expect("kept");
        assert_eq!(hex(bundle.bytes()), template().digests[older as usize - 1]);
    }
}

#[test]
fn a_flipped_byte_in_a_chunk_is_damage() {
    damaged(
        "UPDATE caelmor_chunks SET data = set_byte(data, 1000, get_byte(data, 1000) # 1) \
         WHERE shard = $1::int8 AND epoch = $2::int8 AND seq = 1",
        3,
        "E-DIGEST",
    );
}

#[test]
fn two_chunks_swapped_are_damage() {
    damaged(
        "UPDATE caelmor_chunks c SET data = o.data FROM caelmor_chunks o \
         WHERE c.shard = $1::int8 AND c.epoch = $2::int8 AND c.seq IN (1, 2) \
         AND o.shard = c.shard AND o.epoch = c.epoch AND o.seq = 3 - c.seq",
        3,
        "E-DIGEST",
    );
}

#[test]
fn a_shortened_chunk_is_damage() {
    damaged(
        "UPDATE caelmor_chunks SET data = substring(data from 2) \
         WHERE shard = $1::int8 AND epoch = $2::int8 AND seq = 1",
        3,
        "chunk 1 holds 1048575 bytes, not 1048576",
    );
}

#[test]
fn a_deleted_middle_chunk_is_damage() {
    damaged(
        "DELETE FROM caelmor_chunks WHERE shard = $1::int8 AND epoch = $2::int8 AND seq = 1",
        3,
        "chunk 1 is missing (the next is 2)",
    );
}

#[test]
fn a_deleted_last_chunk_is_damage() {
    damaged(
        "DELETE FROM caelmor_chunks WHERE shard = $1::int8 AND epoch = $2::int8 \
         AND seq = (SELECT max(seq) FROM caelmor_chunks WHERE shard = $1::int8 AND epoch = $2::int8)",
        3,
        "is missing: the chunks end at byte",
    );
}

#[test]
fn an_extra_chunk_is_damage() {
    damaged(
        "INSERT INTO caelmor_chunks SELECT shard, epoch, 99, data FROM caelmor_chunks \
         WHERE shard = $1::int8 AND epoch = $2::int8 AND seq = 0",
        3,
        "chunk 99 is beyond the",
    );
}

#[test]
fn a_deleted_epoch_row_is_damage() {
    // The cascade takes its chunks with it.
    damaged(
        "DELETE FROM caelmor_epochs WHERE shard = $1::int8 AND epoch = $2::int8",
        3,
        "its bundle is missing",
    );
}

#[test]
fn a_lengthened_epoch_row_is_damage_and_is_not_read() {
    damaged(
        "UPDATE caelmor_epochs SET len = len + 1 WHERE shard = $1::int8 AND epoch = $2::int8",
        3,
        "were committed",
    );
}

#[test]
fn damage_to_an_older_epoch_leaves_the_latest_loadable_and_is_reported_for_that_epoch() {
    let (shard, store, mut c) = copy_of_template();
    c.execute(
        "DELETE FROM caelmor_chunks WHERE shard = $1::int8 AND epoch = 2 AND seq = 2",
        &[&(shard.get() as i64)],
    )
    .unwrap();
    assert_eq!(store.load_latest().unwrap().unwrap().epoch(), Epoch(3));
    let e = store.load_epoch(Epoch(2)).expect_err("damaged");
    assert_eq!(e.code(), "E-STORE-DAMAGED", "{e}");
    assert!(e.to_string().contains("chunk 2 is missing"), "{e}");
}

#[test]
fn a_read_never_goes_past_its_bound() {
    let (shard, store, _) = copy_of_template();
    let t = template();
    let stored = StoredEpoch {
        epoch: Epoch(3),
        fence: t.fence,
    };
    let e = store
        .backend()
        .read(stored, t.len as u64 - 1)
        .expect_err("longer than the bound");
    assert_eq!(e.code(), "E-STORE-TOO-LARGE", "{e}");
    let bytes = store.backend().read(stored, t.len as u64).unwrap().unwrap();
    assert_eq!(hex(&bytes), t.digests[2]);
    let _ = shard;
}

#[test]
fn a_deleted_head_row_is_e_store_head_never_an_empty_shard() {
    let (shard, mut store, mut c) = copy_of_template();
    let key = shard.get() as i64;
    c.execute("DELETE FROM caelmor_head WHERE shard = $1::int8", &[&key])
        .unwrap();
    let e = store.load_latest().expect_err("the head is lost");
    assert_eq!(e.code(), "E-STORE-HEAD", "{e}");
    assert!(e.to_string().contains("epoch#3"), "{e}");
    let e = store.claim().expect_err("no claim over a lost head");
    assert_eq!(e.code(), "E-STORE-HEAD", "{e}");
    let rows: i64 = c
        .query_one(
            "SELECT count(*) FROM caelmor_head WHERE shard = $1::int8",
            &[&key],
        )
        .unwrap()
        .get(0);
    assert_eq!(rows, 0, "a refused claim created a head");
}

#[test]
fn a_head_row_not_in_the_backends_format_is_e_store_meta() {
    for (statement, says) in [
        ("UPDATE caelmor_head SET fence = -1", "fence is -1"),
        ("UPDATE caelmor_head SET version = 0", "version is 0"),
        (
            "UPDATE caelmor_head SET key_fingerprint = '\\x0102'",
            "key_fingerprint holds 2 bytes",
        ),
        ("UPDATE caelmor_head SET latest_fence = NULL", "partly NULL"),
        (
            "UPDATE caelmor_head SET latest_digest = '\\x00'",
            "latest_digest holds 1 bytes",
        ),
    ] {
        let (shard, store, mut c) = copy_of_template();
        c.execute(
            &format!("{statement} WHERE shard = $1::int8"),
            &[&(shard.get() as i64)],
        )
        .unwrap();
        let e = store.load_latest().expect_err(statement);
        assert_eq!(e.code(), "E-STORE-META", "{statement}: {e}");
        assert!(e.to_string().contains(says), "{statement}: {e}");
    }
}

// ---------------------------------------------------------------------------
// Keys and counters.

#[test]
fn a_store_with_another_key_or_none_is_refused_before_it_writes() {
    let shard = new_shard();
    let key_a = DigestKey::from_bytes([1; 32]);
    let key_b = DigestKey::from_bytes([2; 32]);
    let mut keyed =
        PgStore::<Reference>::connect_with(&url(), shard, StoreConfig::new().key(key_a))
            .expect("connect");
    let authority = keyed.claim().expect("claim");
    keyed.commit(seal(&authority), &authority).expect("commit");
    let before = keyed.head().unwrap();
    drop(keyed); // frees the owner lock
    for config in [StoreConfig::new().key(key_b), StoreConfig::new()] {
        let mut other = PgStore::<Reference>::connect_with(&url(), shard, config).unwrap();
        let e = other.claim().expect_err("another key");
        assert_eq!(e.code(), "E-STORE-KEY", "{e}");
        let e = other.load_latest().expect_err("another key");
        assert_eq!(e.code(), "E-STORE-KEY", "{e}");
        assert_eq!(other.head().unwrap(), before, "a refused claim wrote");
    }
    // And an unkeyed shard refuses a keyed store.
    let plain = new_shard();
    let mut s = store(plain);
    let _ = s.claim().unwrap();
    drop(s);
    let mut keyed = PgStore::<Reference>::connect_with(
        &url(),
        plain,
        StoreConfig::new().key(DigestKey::from_bytes([3; 32])),
    )
    .unwrap();
    assert_eq!(keyed.claim().unwrap_err().code(), "E-STORE-KEY");
}

#[test]
fn counters_beyond_int8_are_exhausted_and_change_nothing() {
    let shard = new_shard();
    let key = shard.get() as i64;
    let mut s = store(shard);
    let authority = s.claim().unwrap();
    s.commit(seal(&authority), &authority).unwrap();
    drop(s);
    for column in ["fence", "version"] {
        sql()
            .execute(
                &format!(
                    "UPDATE caelmor_head SET {column} = 9223372036854775807 WHERE shard = $1::int8"
                ),
                &[&key],
            )
            .unwrap();
        let mut s = store(shard);
        let before = s.head().unwrap();
        let e = s.claim().expect_err("the next value is beyond int8");
        assert_eq!(e.code(), "E-STORE-EXHAUSTED", "{column}: {e}");
        assert_eq!(s.head().unwrap(), before);
        sql()
            .execute(
                &format!("UPDATE caelmor_head SET {column} = 5 WHERE shard = $1::int8"),
                &[&key],
            )
            .unwrap();
    }
    // A commit whose head version would pass i64::MAX.
    let mut s = store(shard);
    let authority = s.claim().unwrap();
    sql()
        .execute(
            "UPDATE caelmor_head SET version = 9223372036854775807 WHERE shard = $1::int8",
            &[&key],
        )
        .unwrap();
    let e = s.commit(seal(&authority), &authority).unwrap_err();
    assert_eq!(e.code(), "E-STORE-EXHAUSTED", "{e}");
    // A shard id int8 cannot hold is refused with a typed reason.
    let e = PgStore::<Reference>::connect(&url(), ShardId(1 << 63)).unwrap_err();
    assert_eq!(e.code(), "E-STORE-BACKEND");
    assert!(
        matches!(
            pg_error(&e),
            Some(PgError::OutOfRange {
                what: "shard",
                value
            }) if *value == 1 << 63
        ),
        "{e:?}"
    );
}

// ---------------------------------------------------------------------------
// The owner lock: liveness, with the fence for safety.

fn claim_within(store: &mut PgStore<Reference>, limit: Duration) -> ServerAuthority<Reference> {
    let t = Instant::now();
    loop {
        match store.claim() {
            Ok(a) => return a,
            Err(e) if e.code() == "E-STORE-CLAIMED" && t.elapsed() < limit => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("claim after {:?}: {e}", t.elapsed()),
        }
    }
}

#[test]
fn one_owner_at_a_time_and_a_resumed_stale_owner_is_fenced() {
    let shard = new_shard();
    let mut first = store(shard);
    let old = first.claim().expect("claim");
    first.commit(seal(&old), &old).expect("commit");
    let session = first
        .backend()
        .owner_session()
        .unwrap()
        .expect("holds the lock");
    // The measured keepalive settings reached the server's session.
    assert_eq!(
        (
            session.tcp_keepalives_idle.as_str(),
            session.tcp_keepalives_interval.as_str(),
            session.tcp_keepalives_count.as_str(),
            session.tcp_user_timeout.as_str(),
            session.idle_session_timeout.as_str(),
        ),
        ("2", "1", "2", "3000", "0"),
        "{session:?}"
    );
    // The runbook's query (docs/deployment.md) finds the owner's session.
    let found: Vec<i32> = sql()
        .query(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 \
             AND ((classid::int8 << 32) | objid::int8) = $1::int8",
            &[&first.backend().owner_lock_key()],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(found, vec![session.pid]);
    // A second owner is refused while the first holds the lock, and its
    // refusal changes nothing.
    let mut second = store(shard);
    let before = second.head().unwrap();
    let e = second.claim().expect_err("the shard is owned");
    assert_eq!(e.code(), "E-STORE-CLAIMED", "{e}");
    assert!(!e.to_string().contains("password"), "{e}");
    assert_eq!(second.head().unwrap(), before);
    // The first owner's lock session dies (a partition the server noticed,
    // an operator's pg_terminate_backend): the lock is free, and the second
    // owner claims ...
    sql()
        .execute("SELECT pg_terminate_backend($1)", &[&session.pid])
        .unwrap();
    let current = claim_within(&mut second, Duration::from_secs(5));
    // ... while the first, which never noticed, tries to commit: fenced.
    let e = first
        .commit(seal(&old), &old)
        .expect_err("a stale owner's commit");
    assert_eq!(e.code(), "E-STORE-FENCED", "{e}");
    second
        .commit(seal(&current), &current)
        .expect("the new owner commits");
    // The first owner's next claim finds the lock taken.
    assert_eq!(first.claim().unwrap_err().code(), "E-STORE-CLAIMED");
    // Dropping the owner frees the lock at once.
    drop(second);
    let t = Instant::now();
    let _ = claim_within(&mut first, Duration::from_secs(5));
    println!("owner lock: free {:?} after its owner dropped", t.elapsed());
}

#[test]
fn a_claim_behind_a_held_row_lock_fails_after_the_lock_timeout_instead_of_hanging() {
    let shard = new_shard();
    let mut s = store(shard);
    let _ = s.claim().unwrap();
    drop(s);
    // Another session holds the head's row (a stuck transaction).
    let mut holder = sql();
    let mut tx = holder.transaction().unwrap();
    tx.execute(
        "SELECT 1 FROM caelmor_head WHERE shard = $1::int8 FOR UPDATE",
        &[&(shard.get() as i64)],
    )
    .unwrap();
    let (done, result) = mpsc::channel();
    let u = url();
    std::thread::spawn(move || {
        let backend = PgBackend::connect_with(
            &u,
            shard,
            PgOptions::new().lock_timeout(Duration::from_millis(500)),
        )
        .unwrap();
        let mut s = PgStore::<Reference>::with_backend(backend, StoreConfig::new());
        let t = Instant::now();
        let r = s.claim().map(drop);
        let took = t.elapsed();
        drop(s);
        let _ = done.send((r, took));
    });
    let (r, took) = result
        .recv_timeout(Duration::from_secs(20))
        .expect("the claim hung behind the row lock");
    let e = r.expect_err("the row stayed locked");
    assert_eq!(e.code(), "E-STORE-BACKEND", "{e}");
    assert_eq!(
        pg_source(&e).and_then(|p| p.code()).map(|c| c.code()),
        Some("55P03"),
        "{e:?}"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
    tx.rollback().unwrap();
    // The refused claimant's owner lock goes with its session, which the
    // server ends shortly after the client hangs up: a claim may meet it
    // for a moment (E-STORE-CLAIMED), never the row lock again.
    let mut s = store(shard);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match s.claim() {
            Ok(_) => break,
            Err(e) if e.code() == "E-STORE-CLAIMED" && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("claims once the row is free: {e}"),
        }
    }
}

// ---------------------------------------------------------------------------
// Where messages say the shard lives.

#[test]
fn no_password_in_locations_messages_or_debug() {
    let config: postgres::Config = url().parse().unwrap();
    let host = match &config.get_hosts()[0] {
        postgres::config::Host::Tcp(h) => h.clone(),
        postgres::config::Host::Unix(p) => p.display().to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("postgres");
    let secret = "hunter2-not-shown";
    // Trust authentication ignores the password; an external server with
    // password authentication needs the real one, so keep it if it is set.
    let password = config
        .get_password()
        .map(|p| String::from_utf8_lossy(p).into_owned());
    let with_secret = format!(
        "postgresql://{user}:{}@{host}:{port}/{}",
        password.as_deref().unwrap_or(secret),
        db().name()
    );
    let s = PgStore::<Reference>::connect(&with_secret, new_shard()).expect("connect");
    let location = s.backend().location();
    assert!(
        location.starts_with(&format!(
            "postgresql://{user}@{host}:{port}/{}",
            db().name()
        )),
        "{location}"
    );
    assert!(!location.contains(secret), "{location}");
    assert!(!format!("{s:?}").contains(secret));
    // A server that is not there: the error names the place, not the secret.
    let dead = format!("postgresql://{user}:{secret}@127.0.0.1:1/nowhere?connect_timeout=2");
    let e = PgStore::<Reference>::connect(&dead, ShardId(1)).unwrap_err();
    assert_eq!(e.code(), "E-STORE-BACKEND");
    let all = format!(
        "{e} {e:?} {}",
        e.source().map(|s| s.to_string()).unwrap_or_default()
    );
    assert!(!all.contains(secret), "{all}");
    assert!(e.to_string().contains("127.0.0.1:1/nowhere"), "{e}");
    // No TLS is built in: a URL that requires it is refused, never
    // silently downgraded.
    let e = PgStore::<Reference>::connect(&format!("{}?sslmode=require", url()), ShardId(1))
        .unwrap_err();
    assert_eq!(e.code(), "E-STORE-BACKEND", "{e}");
    // An unreadable URL is not echoed at all.
    let e =
        PgStore::<Reference>::connect(&format!("postgresql://u:{secret}@h/db?bogus=1"), ShardId(1))
            .unwrap_err();
    assert!(!format!("{e} {e:?}").contains(secret), "{e:?}");
}

// ---------------------------------------------------------------------------
// Tables.

#[test]
fn servers_starting_together_create_the_tables_once() {
    for round in 0..4 {
        let fresh = pg::PgServer::shared().fresh_database(&format!("ddl_race_{round}"));
        let n = 6;
        let barrier = Arc::new(Barrier::new(n));
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let (url, barrier) = (fresh.url().to_owned(), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    barrier.wait();
                    PgStore::<Reference>::connect(&url, ShardId(i as u64 + 1)).map(drop)
                })
            })
            .collect();
        for h in handles {
            h.join()
                .unwrap()
                .unwrap_or_else(|e| panic!("round {round}: {e:?}"));
        }
        let storage: String = fresh
            .connect()
            .query_one(
                "SELECT attstorage::text FROM pg_attribute \
                 WHERE attrelid = 'caelmor_chunks'::regclass AND attname = 'data'",
                &[],
            )
            .unwrap()
            .get(0);
        assert_eq!(storage, "e", "chunks are stored EXTERNAL, uncompressed");
    }
}

#[test]
fn a_reader_that_must_not_create_tables_refuses_a_database_without_them() {
    let fresh = pg::PgServer::shared().fresh_database("no_tables");
    let e = PgBackend::connect_with(
        fresh.url(),
        ShardId(1),
        PgOptions::new().create_tables(false),
    )
    .unwrap_err();
    assert_eq!(e.code(), "E-STORE-BACKEND", "{e}");
    assert!(matches!(pg_error(&e), Some(PgError::NoTables)), "{e:?}");
    let exists: bool = fresh
        .connect()
        .query_one("SELECT to_regclass('caelmor_head') IS NOT NULL", &[])
        .unwrap()
        .get(0);
    assert!(!exists);
    // Once they exist, it connects.
    drop(PgStore::<Reference>::connect(fresh.url(), ShardId(1)).unwrap());
    PgBackend::connect_with(
        fresh.url(),
        ShardId(1),
        PgOptions::new().create_tables(false),
    )
    .expect("the tables are there");
}

// ---------------------------------------------------------------------------
// A COMMIT whose answer is lost.

/// A TCP proxy in front of the server that cuts a connection at its
/// `COMMIT`: after forwarding it (the server commits, the client never
/// hears), or instead of forwarding it (the server rolls back). It can
/// also refuse new connections, so that the store cannot settle at once.
mod proxy {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    /// The simple-protocol message the client sends for `COMMIT`.
    const COMMIT: &[u8] = b"Q\0\0\0\x0bCOMMIT\0";

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Cut {
        /// The server gets `COMMIT`; the client never gets the answer.
        AfterForwarding,
        /// The server never gets `COMMIT`.
        Swallowing,
        /// Nothing more passes either way, and the connection stays open
        /// until released: a writer frozen (or partitioned) inside its
        /// transaction.
        Freeze,
    }

    #[derive(Default)]
    struct State {
        armed: Option<Cut>,
        refuse: bool,
        cuts: u32,
        released: bool,
    }

    pub struct Proxy {
        pub port: u16,
        state: Arc<Mutex<State>>,
    }

    impl Proxy {
        pub fn start(upstream: (String, u16)) -> Proxy {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let port = listener.local_addr().unwrap().port();
            let state = Arc::new(Mutex::new(State::default()));
            let s = Arc::clone(&state);
            std::thread::spawn(move || {
                for client in listener.incoming() {
                    let Ok(client) = client else { continue };
                    if s.lock().unwrap().refuse {
                        drop(client);
                        continue;
                    }
                    let Ok(server) = TcpStream::connect((upstream.0.as_str(), upstream.1)) else {
                        continue;
                    };
                    pipe(client, server, Arc::clone(&s));
                }
            });
            Proxy { port, state }
        }

        pub fn arm(&self, cut: Cut) {
            self.state.lock().unwrap().armed = Some(cut);
        }

        pub fn refuse(&self, refuse: bool) {
            self.state.lock().unwrap().refuse = refuse;
        }

        pub fn cuts(&self) -> u32 {
            self.state.lock().unwrap().cuts
        }

        /// Ends a frozen connection.
        pub fn release(&self) {
            self.state.lock().unwrap().released = true;
        }
    }

    fn pipe(client: TcpStream, server: TcpStream, state: Arc<Mutex<State>>) {
        let cut = Arc::new(AtomicBool::new(false));
        let (mut c_in, mut s_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
        let (mut s_in, mut c_out) = (server, client);
        let cut2 = Arc::clone(&cut);
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 1 << 16];
            loop {
                match s_in.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if cut2.load(Ordering::SeqCst) || c_out.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                }
            }
            let _ = c_out.shutdown(Shutdown::Both);
        });
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 1 << 16];
            // The last bytes forwarded, so that a COMMIT split across reads
            // is still seen.
            let mut tail: Vec<u8> = Vec::new();
            loop {
                let n = match c_in.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let mut window = tail.clone();
                window.extend_from_slice(&buf[..n]);
                let found = window
                    .windows(COMMIT.len())
                    .position(|w| w == COMMIT)
                    .filter(|_| state.lock().unwrap().armed.is_some());
                if let Some(at) = found {
                    let how = {
                        let mut st = state.lock().unwrap();
                        st.cuts += 1;
                        st.armed.take().unwrap()
                    };
                    cut.store(true, Ordering::SeqCst);
                    // `at` counts from the window's start; the tail was
                    // forwarded already.
                    let end_in_buf = at + COMMIT.len() - tail.len();
                    let start_in_buf = at.saturating_sub(tail.len());
                    let send = match how {
                        Cut::AfterForwarding => &buf[..end_in_buf],
                        Cut::Swallowing | Cut::Freeze => &buf[..start_in_buf],
                    };
                    let _ = s_out.write_all(send);
                    let _ = s_out.flush();
                    if how == Cut::AfterForwarding {
                        // Let the server commit before the cut.
                        std::thread::sleep(Duration::from_millis(300));
                    }
                    while how == Cut::Freeze && !state.lock().unwrap().released {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    let _ = s_out.shutdown(Shutdown::Both);
                    let _ = c_in.shutdown(Shutdown::Both);
                    return;
                }
                if s_out.write_all(&buf[..n]).is_err() {
                    break;
                }
                let keep = window.len().saturating_sub(COMMIT.len() - 1);
                tail = window[keep..].to_vec();
            }
            let _ = s_out.shutdown(Shutdown::Both);
        });
    }
}

/// A store whose connections all go through a fresh proxy.
fn proxied(shard: ShardId) -> (proxy::Proxy, PgStore<Reference>) {
    proxied_with(shard, PgOptions::new())
}

fn proxied_with(shard: ShardId, options: PgOptions) -> (proxy::Proxy, PgStore<Reference>) {
    let (p, conn) = proxy_in_front_of(&url());
    let backend =
        PgBackend::connect_with(&conn, shard, options).expect("connect through the proxy");
    (
        p,
        PgStore::with_backend(backend, StoreConfig::new().retain(1 << 20)),
    )
}

/// A proxy in front of the server `url` names, and a connection string
/// through it.
fn proxy_in_front_of(url: &str) -> (proxy::Proxy, String) {
    let config: postgres::Config = url.parse().unwrap();
    let host = match &config.get_hosts()[0] {
        postgres::config::Host::Tcp(h) => h.clone(),
        postgres::config::Host::Unix(_) => panic!("the proxy needs a TCP server"),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let p = proxy::Proxy::start((host, port));
    let mut conn = format!(
        "host=127.0.0.1 port={} dbname={} user={}",
        p.port,
        config.get_dbname().unwrap_or(""),
        config.get_user().unwrap_or("postgres")
    );
    if let Some(pw) = config.get_password() {
        conn.push_str(&format!(" password='{}'", String::from_utf8_lossy(pw)));
    }
    (p, conn)
}

/// Epochs stored for `shard`, with their digests, read from the outside.
fn stored_digests(shard: ShardId) -> Vec<(i64, String)> {
    sql()
        .query(
            "SELECT e.epoch, e.digest FROM caelmor_epochs e WHERE e.shard = $1::int8 ORDER BY e.epoch",
            &[&(shard.get() as i64)],
        )
        .unwrap()
        .iter()
        .map(|r| {
            let d: &[u8] = r.get(1);
            (r.get(0), blake3::Hash::from_bytes(d.try_into().unwrap()).to_hex().to_string())
        })
        .collect()
}

#[test]
fn a_commit_whose_answer_is_lost_but_which_landed_is_reported_as_committed() {
    let shard = new_shard();
    let (proxy, mut s) = proxied(shard);
    let authority = s.claim().unwrap();
    let sealed = seal(&authority);
    let digest = sealed.digest();
    proxy.arm(proxy::Cut::AfterForwarding);
    let committed = s
        .commit(sealed, &authority)
        .unwrap_or_else(|e| panic!("the commit landed, yet: {e} ({:?})", e.error));
    assert_eq!(proxy.cuts(), 1, "the connection was cut at COMMIT");
    assert_eq!(committed.epoch, Epoch(1));
    let latest = s.head().unwrap().unwrap().latest.unwrap();
    assert_eq!(latest.digest, digest);
    // And the store goes on.
    s.commit(seal(&authority), &authority).unwrap();
    assert_eq!(stored_digests(shard).len(), 2);
}

#[test]
fn a_commit_cut_before_the_server_saw_commit_is_reported_as_not_committed() {
    let shard = new_shard();
    let (proxy, mut s) = proxied(shard);
    let authority = s.claim().unwrap();
    let sealed = seal(&authority);
    let before = s.head().unwrap();
    proxy.arm(proxy::Cut::Swallowing);
    let e = s
        .commit(sealed, &authority)
        .expect_err("the server never saw COMMIT");
    assert_eq!(proxy.cuts(), 1);
    assert!(
        matches!(pg_error(&e.error), Some(PgError::NotCommitted { .. })),
        "{:?}",
        e.error
    );
    assert_eq!(s.head().unwrap(), before);
    assert!(stored_digests(shard).is_empty());
    // Retrying is safe and commits it, once.
    let sealed = e.into_sealed();
    let digest = blake3::Hash::from_bytes(sealed.digest())
        .to_hex()
        .to_string();
    s.commit(sealed, &authority).expect("the retry");
    assert_eq!(stored_digests(shard), vec![(1, digest)]);
}

#[test]
fn a_commit_that_cannot_be_settled_says_so_and_its_retry_settles_it() {
    for cut in [proxy::Cut::AfterForwarding, proxy::Cut::Swallowing] {
        let shard = new_shard();
        let (proxy, mut s) = proxied(shard);
        let authority = s.claim().unwrap();
        let sealed = seal(&authority);
        let digest = sealed.digest();
        proxy.arm(cut);
        proxy.refuse(true);
        let e = s
            .commit(sealed, &authority)
            .expect_err("no connection to settle on");
        assert!(
            matches!(pg_error(&e.error), Some(PgError::CommitUnknown { .. })),
            "{cut:?}: {:?}",
            e.error
        );
        // Whether it landed depends on the cut ...
        let landed = stored_digests(shard).len();
        assert_eq!(
            landed,
            usize::from(cut == proxy::Cut::AfterForwarding),
            "{cut:?}"
        );
        // ... and either way the retry of the same bundle succeeds, once.
        proxy.refuse(false);
        let committed = s
            .commit(e.into_sealed(), &authority)
            .unwrap_or_else(|e| panic!("{cut:?}: the retry: {e}"));
        assert_eq!(committed.epoch, Epoch(1));
        assert_eq!(stored_digests(shard).len(), 1, "{cut:?}");
        assert_eq!(s.head().unwrap().unwrap().latest.unwrap().digest, digest);
        s.commit(seal(&authority), &authority)
            .expect("and the next epoch");
    }
}

/// A writer frozen inside its commit's transaction (a paused process, a
/// partition the keepalives cannot see because the proxy's TCP is alive)
/// holds the head's row lock. The server ends its session after the
/// idle-in-transaction timeout, so the next owner's claim goes through
/// instead of waiting out its lock timeout; the thawed writer is fenced.
#[test]
fn a_writer_frozen_mid_transaction_does_not_block_failover() {
    let shard = new_shard();
    let (proxy, mut frozen) = proxied_with(
        shard,
        PgOptions::new().idle_in_transaction_timeout(Duration::from_secs(1)),
    );
    let old = frozen.claim().unwrap();
    let sealed = seal(&old);
    let holder = frozen.backend().owner_session().unwrap().unwrap().pid;
    proxy.arm(proxy::Cut::Freeze);
    let (done, result) = mpsc::channel();
    std::thread::spawn(move || {
        let r = frozen.commit(sealed, &old).map(|c| c.epoch);
        let _ = done.send(r.map_err(|e| e.error));
    });
    let t = Instant::now();
    while proxy.cuts() == 0 {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "never reached COMMIT"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // Failover: end the frozen owner's lock session, claim.
    let mut c = sql();
    let backend = PgBackend::connect_with(
        &url(),
        shard,
        PgOptions::new().lock_timeout(Duration::from_secs(8)),
    )
    .unwrap();
    let mut next = PgStore::<Reference>::with_backend(backend, StoreConfig::new());
    let t = Instant::now();
    let current = loop {
        match next.claim() {
            Ok(a) => break a,
            Err(e) if e.code() == "E-STORE-CLAIMED" => {
                c.execute("SELECT pg_terminate_backend($1)", &[&holder])
                    .unwrap();
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("the claim after {:?}: {e}", t.elapsed()),
        }
    };
    let took = t.elapsed();
    assert!(took < Duration::from_secs(5), "the claim waited {took:?}");
    next.commit(seal(&current), &current).unwrap();
    // The frozen writer thaws: its commit never landed, and it is told so.
    proxy.release();
    let r = result.recv_timeout(Duration::from_secs(30)).unwrap();
    let e = r.expect_err("a frozen, superseded writer's commit");
    assert_eq!(e.code(), "E-STORE-FENCED", "{e:?}");
    assert_eq!(next.latest_epoch().unwrap(), Some(Epoch(1)));
    assert_eq!(
        next.head().unwrap().unwrap().latest.unwrap().fence,
        current.fence()
    );
    println!("frozen writer: the next owner claimed after {took:?}");
}

// ---------------------------------------------------------------------------
// The server crashes in the middle of commits.

const CRASHES: usize = 12;

/// A writer thread commits a four-chunk bundle after another; the server is
/// stopped with `pg_ctl stop -m immediate` at a random moment of a commit,
/// then restarted. Each time: the shard holds the last acknowledged epoch
/// or the interrupted one, whole (restored record for record); a commit
/// reported as done is there; one reported as not committed is not; and
/// the writer's retry of the same bundle then succeeds exactly once.
#[test]
fn server_crash_mid_commit_leaves_the_previous_or_the_new_epoch_whole() {
    let started = Instant::now();
    let server = pg::PgServer::throwaway();
    let url = server.url();
    let (to_main, from_writer) = mpsc::channel::<Event>();
    let (to_writer, go) = mpsc::channel::<()>();
    // The writer goes through a proxy, so that some crashes can be timed
    // exactly at COMMIT.
    let (proxy, writer_url) = proxy_in_front_of(&url);
    let writer = std::thread::spawn(move || {
        let mut store = PgStore::<Reference>::connect_with(
            &writer_url,
            ShardId(1),
            StoreConfig::new().retain(1 << 20),
        )
        .expect("connect");
        let authority = store.claim().expect("claim");
        for _ in 0..CRASHES {
            // Commit until one fails: the server went down under it.
            let failed = loop {
                let w = big(authority.next_epoch(), authority.fence());
                let sealed = seal_world(&authority, &w);
                let epoch = sealed.epoch();
                to_main
                    .send(Event::Committing(epoch, hex(sealed.bytes())))
                    .unwrap();
                match store.commit(sealed, &authority) {
                    Ok(_) => to_main.send(Event::Committed(epoch)).unwrap(),
                    Err(e) => {
                        let kind = match pg_error(&e.error) {
                            Some(PgError::NotCommitted { .. }) => Outcome::NotCommitted,
                            Some(PgError::CommitUnknown { .. }) => Outcome::Unknown,
                            _ if e.code() == "E-STORE-BACKEND" => Outcome::FailedBeforeCommit,
                            _ => panic!("a crash gave {}", e.error),
                        };
                        to_main.send(Event::Failed(epoch, kind)).unwrap();
                        break e;
                    }
                }
            };
            go.recv().unwrap();
            // The server is back: the same bundle, again, until it lands.
            let mut sealed = failed.into_sealed();
            let committed = loop {
                match store.commit(sealed, &authority) {
                    Ok(c) => break c,
                    Err(e) if e.code() == "E-STORE-BACKEND" => {
                        sealed = e.into_sealed();
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    Err(e) => panic!("the retry: {e}"),
                }
            };
            to_main.send(Event::Committed(committed.epoch)).unwrap();
        }
    });
    let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
    let mut acked = 0u64;
    let mut tally = std::collections::BTreeMap::<String, usize>::new();
    let mut restarts = Vec::new();
    let mut sealed_digests = std::collections::BTreeMap::<u64, String>::new();
    let mut took: Vec<Duration> = Vec::new();
    let mut cuts = 0;
    let mut moments: Vec<&str> = Vec::new();
    for crash in 0..CRASHES {
        // Let a few commits pass, timing them, then stop the server at a
        // random moment of one.
        let mut committing = 0;
        let mut since = Instant::now();
        let failed = loop {
            match from_writer.recv_timeout(Duration::from_secs(120)).unwrap() {
                Event::Committed(e) => {
                    acked = acked.max(e.get());
                    took.push(since.elapsed());
                }
                Event::Committing(e, digest) => {
                    since = Instant::now();
                    sealed_digests.insert(e.get(), digest);
                    committing += 1;
                    if committing == 3 {
                        rng ^= rng << 13;
                        rng ^= rng >> 7;
                        rng ^= rng << 17;
                        match crash % 4 {
                            // At a random moment of the commit's
                            // transaction (timed by the commits so far).
                            0 | 1 => {
                                let mut sorted = took.clone();
                                sorted.sort();
                                let typical = sorted[sorted.len() / 2].as_micros() as u64;
                                let at = if crash % 4 == 0 {
                                    rng % (typical * 11 / 10)
                                } else {
                                    typical * 7 / 10 + rng % (typical * 4 / 10)
                                };
                                std::thread::sleep(Duration::from_micros(at));
                                moments.push("in the transaction (timed)");
                            }
                            // At COMMIT: the proxy passes it on and holds
                            // back the answer (or swallows it), and the
                            // server is stopped before the client hears.
                            m => {
                                proxy.arm(if m == 2 {
                                    proxy::Cut::AfterForwarding
                                } else {
                                    proxy::Cut::Swallowing
                                });
                                let t = Instant::now();
                                while proxy.cuts() == cuts {
                                    assert!(t.elapsed() < Duration::from_secs(60), "no COMMIT");
                                    std::thread::sleep(Duration::from_micros(200));
                                }
                                cuts += 1;
                                moments.push(if m == 2 {
                                    "at COMMIT, received by the server"
                                } else {
                                    "at COMMIT, never received"
                                });
                            }
                        }
                        server.stop_immediate();
                    }
                }
                Event::Failed(e, kind) => break (e, kind),
            }
        };
        let (epoch, kind) = failed;
        assert_eq!(epoch.get(), acked + 1, "crash {crash}");
        restarts.push(server.restart());
        let reader = PgStore::<Reference>::connect(&url, ShardId(1)).expect("reconnect");
        let latest = reader.latest_epoch().unwrap().expect("committed").get();
        assert!(
            latest == acked || latest == acked + 1,
            "crash {crash}: latest {latest}, acknowledged {acked}"
        );
        if matches!(kind, Outcome::NotCommitted | Outcome::FailedBeforeCommit) {
            assert_eq!(
                latest, acked,
                "crash {crash}: reported {kind:?} but it landed"
            );
        }
        *tally
            .entry(format!(
                "{}: {kind:?}, {}",
                moments[crash],
                if latest == acked {
                    "previous epoch"
                } else {
                    "new epoch landed"
                }
            ))
            .or_default() += 1;
        // Whole: verified in full by the load, and byte for byte the bundle
        // the writer sealed for that epoch (restoring needs a claim, which
        // would fence the writer out: that is done once, at the end).
        let loaded = reader.load_latest().unwrap().unwrap();
        assert_eq!(loaded.epoch().get(), latest);
        drop(loaded);
        let bytes = reader.load_epoch(Epoch(latest)).unwrap().unwrap();
        assert_eq!(
            Some(&hex(bytes.bytes())),
            sealed_digests.get(&latest),
            "crash {crash}: epoch {latest} is not the bundle sealed for it"
        );
        to_writer.send(()).unwrap();
        // The writer's retry lands the interrupted epoch exactly once.
        match from_writer.recv_timeout(Duration::from_secs(120)).unwrap() {
            Event::Committed(e) => {
                assert_eq!(e.get(), acked + 1, "crash {crash}");
                acked = e.get();
            }
            other => panic!("crash {crash}: {other:?}"),
        }
    }
    writer.join().unwrap();
    // The writer is done: a new owner restores the latest record for record.
    let mut reader =
        PgStore::<Reference>::connect_with(&url, ShardId(1), StoreConfig::new().retain(1 << 20))
            .unwrap();
    let owner = reader.claim().unwrap();
    let latest = reader.head().unwrap().unwrap().latest.unwrap();
    restores_as(&reader, &owner, &big(latest.epoch, latest.fence));
    let kept: Vec<u64> = reader.epochs().unwrap().iter().map(|e| e.get()).collect();
    assert_eq!(
        kept,
        (1..=acked).collect::<Vec<_>>(),
        "epochs are contiguous"
    );
    println!(
        "server crashes: {CRASHES} `pg_ctl stop -m immediate` inside commits in {:.1} s; outcomes {tally:?}; \
         restarts took {restarts:?}; {acked} epochs, contiguous",
        started.elapsed().as_secs_f64()
    );
}

#[derive(Debug)]
enum Event {
    Committing(Epoch, String),
    Committed(Epoch),
    Failed(Epoch, Outcome),
}

#[derive(Clone, Copy, Debug)]
enum Outcome {
    NotCommitted,
    Unknown,
    FailedBeforeCommit,
}

/// A server whose default is `synchronous_commit = off` (and a WAL writer
/// that waits 10 s) would acknowledge a commit that a crash right after
/// loses: the store turns it back on for its own sessions, so an
/// acknowledged commit survives an immediate stop.
#[test]
fn an_acknowledged_commit_survives_a_crash_even_where_commits_are_asynchronous_by_default() {
    let server = pg::PgServer::throwaway_with(&[
        ("synchronous_commit", "off"),
        ("wal_writer_delay", "10000"),
        ("wal_buffers", "'64MB'"),
    ]);
    let url = server.url();
    let setting: String = server
        .connect()
        .query_one("SHOW synchronous_commit", &[])
        .unwrap()
        .get(0);
    assert_eq!(setting, "off", "the server's default");
    let mut s = PgStore::<Reference>::connect(&url, ShardId(1)).unwrap();
    let authority = s.claim().unwrap();
    for _ in 0..3 {
        s.commit(seal(&authority), &authority).unwrap();
    }
    server.stop_immediate();
    server.restart();
    let after = PgStore::<Reference>::connect(&url, ShardId(1)).unwrap();
    assert_eq!(
        after.latest_epoch().unwrap(),
        Some(Epoch(3)),
        "an acknowledged commit was lost in the crash"
    );
}

// ---------------------------------------------------------------------------
// The tokio caveat, as the docs state it.

#[test]
fn inside_a_tokio_runtime_the_sync_client_panics_and_spawn_blocking_works() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let u = url();
    let shard = new_shard();
    let panicked = rt.block_on(async {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            PgStore::<Reference>::connect(&u, shard).map(drop)
        }))
    });
    let message = match panicked {
        Err(p) => p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default(),
        Ok(r) => panic!("no panic inside the runtime: {r:?}"),
    };
    assert!(
        message.contains("Cannot start a runtime from within a runtime"),
        "{message}"
    );
    let epoch = rt.block_on(async move {
        tokio::task::spawn_blocking(move || {
            let mut store = PgStore::<Reference>::connect(&u, shard)?;
            let authority = store.claim()?;
            let sealed = seal(&authority);
            store.commit(sealed, &authority).map_err(|e| e.error)
        })
        .await
        .unwrap()
        .unwrap()
        .epoch
    });
    assert_eq!(epoch, Epoch(1));
}
