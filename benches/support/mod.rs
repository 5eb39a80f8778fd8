//! The workload shared by the Criterion benches (`benches/persist.rs`) and
//! the one-process report (`examples/bench_report.rs`): the crate's own
//! operations on a reference shard, and the side-by-side baselines on the
//! very same records and bytes.
//!
//! Every function does one whole operation and returns what it produced, so
//! the caller decides whether dropping the result is part of the timing
//! (it never is: both harnesses drop outside the timed region).

use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use caelmor_persist::reference::{Item, Npc, Player, Quest, Reference, Shard, ShardSpec, Zone};
use caelmor_persist::{
    FileStore, FileStoreConfig, Loaded, MemBackend, MemStore, Restore, Save, Sealed,
    ServerAuthority, ShardId, Store, StoreConfig, Threads,
};

/// The seed every bench and the report generate their shards with.
pub const SEED: u64 = 2026;

/// The shard id every bench uses.
pub const SHARD: ShardId = ShardId(1);

/// The five record vectors, decoded: what `open` and the raw decode produce.
pub type Decoded = (Vec<Player>, Vec<Zone>, Vec<Npc>, Vec<Item>, Vec<Quest>);

/// A shard of `spec`, generated with [`SEED`].
#[must_use]
pub fn shard(spec: ShardSpec) -> Shard {
    spec.generate(SEED)
}

/// An authority on a fresh in-memory store: enough to seal and open any
/// number of times (nothing is committed, so the epoch never moves).
#[must_use]
pub fn mem_authority() -> ServerAuthority<Reference> {
    mem_authority_on(Threads::Two)
}

/// [`mem_authority`], its saves on `threads`.
#[must_use]
pub fn mem_authority_on(threads: Threads) -> ServerAuthority<Reference> {
    let config = StoreConfig::new().threads(threads);
    Store::<Reference, _>::with_backend(MemBackend::new(SHARD), config)
        .claim()
        .expect("a fresh MemStore always grants its claim")
}

// ---------------------------------------------------------------------------
// The crate's operations.
// ---------------------------------------------------------------------------

/// Seal: validate, canonicalise, encode and digest all five systems.
///
/// # Panics
/// If the reference shard is refused (it never is).
#[must_use]
pub fn seal(authority: &ServerAuthority<Reference>, shard: &Shard) -> Sealed<Reference> {
    Save::begin(authority)
        .players(&shard.players)
        .and_then(|s| s.world(&shard.zones))
        .and_then(|s| s.npcs(&shard.npcs))
        .and_then(|s| s.items(&shard.items))
        .and_then(|s| s.quests(&shard.quests))
        .expect("the reference shard is always accepted")
        .seal()
}

/// A claimed in-memory store whose latest epoch is `shard`, sealed and
/// committed once: the source of every load the benches time (its bundle is
/// byte for byte the one [`mem_authority`] seals).
///
/// # Panics
/// If the reference shard is refused (it never is).
#[must_use]
pub fn mem_store(shard: &Shard) -> (MemStore<Reference>, ServerAuthority<Reference>) {
    mem_store_on(shard, Threads::Two)
}

/// [`mem_store`], its seals and loads on `threads`.
///
/// # Panics
/// If the reference shard is refused (it never is).
#[must_use]
pub fn mem_store_on(
    shard: &Shard,
    threads: Threads,
) -> (MemStore<Reference>, ServerAuthority<Reference>) {
    let config = StoreConfig::new().threads(threads);
    let mut store = Store::<Reference, _>::with_backend(MemBackend::new(SHARD), config);
    let authority = store
        .claim()
        .expect("a fresh MemStore always grants its claim");
    let sealed = seal(&authority, shard);
    store
        .commit(sealed, &authority)
        .expect("the first commit of a fresh store");
    (store, authority)
}

/// Load: what a restore starts from, and where the verification happens
/// now — the latest epoch's bytes read (from memory: one copy of the
/// bundle), checked to be the committed ones, verified in full and every
/// record decoded canonically against its index entry. (What `open` timed
/// before the store did the verification.)
///
/// # Panics
/// If the store holds nothing or refuses its latest (it never does).
pub fn load(store: &MemStore<Reference>) -> Loaded<Reference> {
    store
        .load_latest()
        .expect("a committed bundle always loads")
        .expect("one epoch was committed")
}

/// Restore and activation: who may restore (the loading store's current
/// authority), the five steps, and the release of all five systems.
///
/// # Panics
/// If the authority is not the loading store's current one.
#[must_use]
pub fn restore(loaded: Loaded<Reference>, authority: &ServerAuthority<Reference>) -> Decoded {
    let active = Restore::open(loaded, authority)
        .expect("the loading store's own, current authority")
        .players()
        .world()
        .npcs()
        .items()
        .quests()
        .activate(authority)
        .expect("the authority that opened it");
    (
        active.players,
        active.zones,
        active.npcs,
        active.items,
        active.quests,
    )
}

/// A claimed [`FileStore`] under `root` that keeps only the latest epoch, so
/// that a long benchmark does not fill the disk.
///
/// # Panics
/// If the directory cannot be created or claimed.
#[must_use]
pub fn file_store(root: &Path) -> (FileStore<Reference>, ServerAuthority<Reference>) {
    let mut store =
        FileStore::<Reference>::open_with(root, SHARD, FileStoreConfig::new().retain(1))
            .expect("the bench directory is writable");
    let authority = store.claim().expect("nobody else claims the bench shard");
    (store, authority)
}

// ---------------------------------------------------------------------------
// Baselines.
// ---------------------------------------------------------------------------

/// The five record vectors as plain postcard, one buffer each: the floor
/// for this format.
#[must_use]
pub fn raw_encode(shard: &Shard) -> [Vec<u8>; 5] {
    let enc = |r: postcard::Result<Vec<u8>>| r.expect("reference records always encode");
    [
        enc(postcard::to_allocvec(&shard.players)),
        enc(postcard::to_allocvec(&shard.zones)),
        enc(postcard::to_allocvec(&shard.npcs)),
        enc(postcard::to_allocvec(&shard.items)),
        enc(postcard::to_allocvec(&shard.quests)),
    ]
}

/// Decodes what [`raw_encode`] produced.
///
/// # Panics
/// If the bytes are not what `raw_encode` wrote.
#[must_use]
pub fn raw_decode(raw: &[Vec<u8>; 5]) -> Decoded {
    let bad = "raw_encode output always decodes";
    (
        postcard::from_bytes(&raw[0]).expect(bad),
        postcard::from_bytes(&raw[1]).expect(bad),
        postcard::from_bytes(&raw[2]).expect(bad),
        postcard::from_bytes(&raw[3]).expect(bad),
        postcard::from_bytes(&raw[4]).expect(bad),
    )
}

/// Copies `bytes` into `out` (same length): the cost of touching every byte
/// of the bundle once.
pub fn memcpy(bytes: &[u8], out: &mut [u8]) {
    out.copy_from_slice(bytes);
}

/// Creates `path`, writes `bytes` and fsyncs it: the floor for a durable
/// commit of the same bytes.
///
/// # Panics
/// On any I/O error.
pub fn write_fsync(path: &Path, bytes: &[u8]) {
    let mut file = File::create(path).expect("create");
    file.write_all(bytes).expect("write");
    file.sync_all().expect("fsync");
}

/// The I/O sequence a durable atomic replace needs, by hand: write a
/// temporary file, fsync it, rename it to `epoch-<n>`, fsync the directory;
/// then remove `epoch-<n - 1>` (what a store that keeps one epoch does
/// after each commit; like `FileStore`, without a second directory sync).
///
/// # Panics
/// On any I/O error.
pub fn atomic_replace(dir: &Path, n: u64, bytes: &[u8]) {
    let temp = dir.join(format!(".epoch-{n}.tmp"));
    write_fsync(&temp, bytes);
    fs::rename(&temp, dir.join(format!("epoch-{n}"))).expect("rename");
    File::open(dir)
        .and_then(|d| d.sync_all())
        .expect("fsync dir");
    if n > 0 {
        fs::remove_file(dir.join(format!("epoch-{}", n - 1))).expect("remove");
    }
}

/// What a game-save library does: the whole shard as one JSON document,
/// written through a buffer and fsynced.
///
/// # Panics
/// On any I/O or encoding error.
pub fn json_save(path: &Path, shard: &Shard) {
    let file = File::create(path).expect("create");
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let whole = (
        &shard.players,
        &shard.zones,
        &shard.npcs,
        &shard.items,
        &shard.quests,
    );
    serde_json::to_writer(&mut out, &whole).expect("json encode");
    let file = out.into_inner().expect("flush");
    file.sync_all().expect("fsync");
}

/// Reads back what [`json_save`] wrote.
///
/// # Panics
/// On any I/O or decoding error.
#[must_use]
pub fn json_load(path: &Path) -> Decoded {
    let mut bytes = Vec::new();
    BufReader::new(File::open(path).expect("open"))
        .read_to_end(&mut bytes)
        .expect("read");
    serde_json::from_slice(&bytes).expect("json decode")
}

/// The SQLite tables, one per system, one row per record (id, postcard
/// blob): what a server like Veloren does, given the most favourable blob
/// encoding.
const TABLES: [&str; 5] = ["players", "zones", "npcs", "items", "quests"];

/// Opens (creating) the SQLite database at `path`, durable settings:
/// write-ahead log, `synchronous = FULL`.
///
/// # Panics
/// On any SQLite error.
#[must_use]
pub fn sqlite_open(path: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).expect("sqlite open");
    conn.pragma_update(None, "journal_mode", "WAL")
        .expect("wal");
    conn.pragma_update(None, "synchronous", "FULL")
        .expect("synchronous");
    for table in TABLES {
        conn.execute(
            &format!(
                "CREATE TABLE IF NOT EXISTS {table} (id INTEGER PRIMARY KEY, data BLOB NOT NULL)"
            ),
            [],
        )
        .expect("create table");
    }
    conn
}

fn sqlite_put<T: serde::Serialize>(
    tx: &rusqlite::Transaction<'_>,
    table: &str,
    records: &[T],
    id: impl Fn(&T) -> u64,
    scratch: &mut Vec<u8>,
) {
    let mut stmt = tx
        .prepare_cached(&format!(
            "INSERT OR REPLACE INTO {table} (id, data) VALUES (?1, ?2)"
        ))
        .expect("prepare");
    for r in records {
        scratch.clear();
        let bytes = postcard::to_extend(r, core::mem::take(scratch)).expect("encode");
        let rowid = i64::try_from(id(r)).expect("ids fit in i64");
        stmt.execute(rusqlite::params![rowid, &bytes])
            .expect("insert");
        *scratch = bytes;
    }
}

/// Saves the whole shard in one SQLite transaction, one row per record
/// (replacing the previous save's rows), committed durably.
///
/// # Panics
/// On any SQLite error.
pub fn sqlite_save(conn: &mut rusqlite::Connection, shard: &Shard) {
    let tx = conn.transaction().expect("begin");
    let mut scratch = Vec::with_capacity(256);
    sqlite_put(&tx, TABLES[0], &shard.players, |r| r.id.0, &mut scratch);
    sqlite_put(&tx, TABLES[1], &shard.zones, |r| r.id.0, &mut scratch);
    sqlite_put(&tx, TABLES[2], &shard.npcs, |r| r.id.0, &mut scratch);
    sqlite_put(&tx, TABLES[3], &shard.items, |r| r.id.0, &mut scratch);
    sqlite_put(&tx, TABLES[4], &shard.quests, |r| r.id.0, &mut scratch);
    tx.commit().expect("commit");
}

fn sqlite_get<T: serde::de::DeserializeOwned>(conn: &rusqlite::Connection, table: &str) -> Vec<T> {
    let mut stmt = conn
        .prepare_cached(&format!("SELECT data FROM {table} ORDER BY id"))
        .expect("prepare");
    let rows = stmt
        .query_map([], |row| {
            let blob = row.get_ref(0)?.as_blob()?;
            Ok(postcard::from_bytes(blob).expect("decode"))
        })
        .expect("query");
    rows.map(|r| r.expect("row")).collect()
}

/// Loads every record back, in id order.
///
/// # Panics
/// On any SQLite or decoding error.
#[must_use]
pub fn sqlite_load(conn: &rusqlite::Connection) -> Decoded {
    (
        sqlite_get(conn, TABLES[0]),
        sqlite_get(conn, TABLES[1]),
        sqlite_get(conn, TABLES[2]),
        sqlite_get(conn, TABLES[3]),
        sqlite_get(conn, TABLES[4]),
    )
}

/// A fresh, numbered file name under `dir` (so that a baseline never
/// overwrites a file still in the page cache from the previous iteration).
#[must_use]
pub fn scratch_path(dir: &Path, stem: &str, n: u64) -> PathBuf {
    dir.join(format!("{stem}-{n}.bin"))
}

/// Removes a file, ignoring a file that is already gone.
pub fn remove(path: &Path) {
    let _ = fs::remove_file(path);
}
