//! The measurements behind `docs/postgres-notes.md` (issue 12, PgStore
//! groundwork), against a throwaway server the example starts itself (or
//! the one `CAELMOR_PG_URL` names):
//!
//! 1. the proposed schema (a `head` row per shard, `epochs`, 1 MiB `chunks`
//!    with `STORAGE EXTERNAL`) with a real large-shard bundle: commit by
//!    prepared INSERT per chunk and by `COPY … FROM STDIN BINARY`, load into
//!    one pre-sized buffer, the raw floor (the same chunks in one
//!    transaction, no head logic; selected back), the default and lz4 TOAST
//!    storage, and a file write + fsync of the same bytes; client peak heap
//!    for each;
//! 2. what the client sees when its backend is terminated just before, and
//!    while, it commits;
//! 3. how long `pg_try_advisory_lock` on a dedicated connection stays held
//!    when its holder is killed, stopped, or cut off by a silent network
//!    partition (root only: a network namespace and veth pair), with the
//!    keepalive settings in the client URL and on the server side.
//!
//! ```text
//! cargo run --release --features postgres --example pg_notes            # all
//! cargo run --release --features postgres --example pg_notes -- --iters 9 --only schema
//! cargo run --release --features postgres --example pg_notes -- --only schema --floor-prune delete
//! ```
//!
//! Experiment code, kept so that the notes can be re-measured; nothing here
//! is the store's code.

#[path = "../tests/support/postgres.rs"]
mod pg;

use std::alloc::{GlobalAlloc, Layout, System as SystemAlloc};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use caelmor_persist::format::DIGEST_LEN;
use caelmor_persist::reference::{Reference, ShardSpec};
use caelmor_persist::{MemStore, Save, ShardId};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{ToSql, Type};
use postgres::{Client, IsolationLevel, Statement};

// ---------------------------------------------------------------------------
// Peak live heap (the same counting allocator as examples/bench_report.rs).
// ---------------------------------------------------------------------------

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every method forwards to the system allocator unchanged and only
// adds bookkeeping on the side.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { SystemAlloc.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { SystemAlloc.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { SystemAlloc.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { SystemAlloc.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f`; returns its result, its wall time and the peak live heap above
/// what was live when it started. Only the calling thread allocates here
/// (the sync client drives its connection on the caller's thread).
fn measured<T>(f: impl FnOnce() -> T) -> (T, Duration, usize) {
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let t = Instant::now();
    let out = f();
    let d = t.elapsed();
    let peak = PEAK.load(Ordering::SeqCst);
    (out, d, peak.saturating_sub(base))
}

/// The 1-minute load average: the measurements share 2 cores with
/// whatever else runs, and the notes say how busy the machine was.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| String::from("?"))
}

fn median<T: Ord + Copy>(v: &[T]) -> T {
    let mut v = v.to_vec();
    v.sort_unstable();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn mib(b: usize) -> String {
    format!("{:.1} MiB", b as f64 / f64::from(1 << 20))
}

// ---------------------------------------------------------------------------
// The schema under test.
// ---------------------------------------------------------------------------

/// The chunk size the issue measured as fastest and leanest.
const CHUNK: usize = 1 << 20;
const SHARD: i64 = 1;

/// The proposed schema, as docs/postgres-notes.md records it.
const SCHEMA: &str = "
CREATE TABLE head (
    shard           int8  PRIMARY KEY,
    version         int8  NOT NULL,          -- bumped by every claim and commit: the CAS token
    fence           int8  NOT NULL,
    latest          int8,                    -- NULL: nothing committed yet
    latest_digest   bytea,
    latest_len      int8,
    key_fingerprint bytea NOT NULL
);
CREATE TABLE epochs (
    shard  int8  NOT NULL,
    epoch  int8  NOT NULL,
    fence  int8  NOT NULL,
    digest bytea NOT NULL,
    len    int8  NOT NULL,
    PRIMARY KEY (shard, epoch)
);
CREATE TABLE chunks (
    shard int8  NOT NULL,
    epoch int8  NOT NULL,
    seq   int4  NOT NULL,
    data  bytea NOT NULL,
    PRIMARY KEY (shard, epoch, seq),
    FOREIGN KEY (shard, epoch) REFERENCES epochs ON DELETE CASCADE
);
-- The bundle does not compress: without this, pglz tries on every chunk.
ALTER TABLE chunks ALTER COLUMN data SET STORAGE EXTERNAL;
";

/// The raw floor's table and the two storage variants, same shape.
const OTHER_TABLES: &str = "
CREATE TABLE floor_chunks (k int8 NOT NULL, seq int4 NOT NULL, data bytea NOT NULL, PRIMARY KEY (k, seq));
ALTER TABLE floor_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE TABLE pglz_chunks (k int8 NOT NULL, seq int4 NOT NULL, data bytea NOT NULL, PRIMARY KEY (k, seq));
ALTER TABLE pglz_chunks ALTER COLUMN data SET COMPRESSION pglz;
CREATE TABLE lz4_chunks (k int8 NOT NULL, seq int4 NOT NULL, data bytea NOT NULL, PRIMARY KEY (k, seq));
ALTER TABLE lz4_chunks ALTER COLUMN data SET COMPRESSION lz4;
";

const UPDATE_HEAD: &str = "UPDATE head SET version = version + 1, latest = $3::int8, latest_digest = $4::bytea, latest_len = $5::int8 \
     WHERE shard = $1::int8 AND version = $2::int8";
const INSERT_EPOCH: &str = "INSERT INTO epochs (shard, epoch, fence, digest, len) VALUES ($1::int8, $2::int8, $3::int8, $4::bytea, $5::int8)";
const INSERT_CHUNK: &str =
    "INSERT INTO chunks (shard, epoch, seq, data) VALUES ($1::int8, $2::int8, $3::int4, $4::bytea)";
const COPY_CHUNKS: &str = "COPY chunks (shard, epoch, seq, data) FROM STDIN (FORMAT binary)";
const SELECT_HEAD: &str =
    "SELECT version, fence, latest, latest_digest, latest_len FROM head WHERE shard = $1::int8";
const SELECT_CHUNKS: &str =
    "SELECT seq, data FROM chunks WHERE shard = $1::int8 AND epoch = $2::int8 ORDER BY seq";

struct Stmts {
    update_head: Statement,
    insert_epoch: Statement,
    insert_chunk: Statement,
    select_head: Statement,
    select_chunks: Statement,
}

impl Stmts {
    fn prepare(c: &mut Client) -> Stmts {
        Stmts {
            update_head: c.prepare(UPDATE_HEAD).unwrap(),
            insert_epoch: c.prepare(INSERT_EPOCH).unwrap(),
            insert_chunk: c.prepare(INSERT_CHUNK).unwrap(),
            select_head: c.prepare(SELECT_HEAD).unwrap(),
            select_chunks: c.prepare(SELECT_CHUNKS).unwrap(),
        }
    }
}

/// What the client keeps between commits: the head as it last wrote it.
#[derive(Clone, Copy, Debug)]
struct Head {
    version: i64,
    fence: i64,
    latest: i64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ChunkWrite {
    Insert,
    Copy,
}

/// One commit: the fenced CAS on the head first, then the epoch row and the
/// chunk rows, all in one transaction. `Ok(false)`: the CAS matched no row
/// (rolled back).
fn commit(
    c: &mut Client,
    s: &Stmts,
    head: Head,
    bundle: &[u8],
    how: ChunkWrite,
) -> Result<bool, postgres::Error> {
    let epoch = head.latest + 1;
    let digest = &bundle[bundle.len() - DIGEST_LEN..];
    let len = i64::try_from(bundle.len()).expect("a bundle fits i64");
    let mut tx = c.transaction()?;
    let n = tx.execute(
        &s.update_head,
        &[&SHARD, &head.version, &epoch, &digest, &len],
    )?;
    if n == 0 {
        tx.rollback()?;
        return Ok(false);
    }
    tx.execute(
        &s.insert_epoch,
        &[&SHARD, &epoch, &head.fence, &digest, &len],
    )?;
    write_chunks(
        &mut tx,
        &s.insert_chunk,
        COPY_CHUNKS,
        SHARD,
        Some(epoch),
        bundle,
        how,
    )?;
    tx.commit()?;
    Ok(true)
}

fn write_chunks(
    tx: &mut postgres::Transaction<'_>,
    insert: &Statement,
    copy: &str,
    k1: i64,
    k2: Option<i64>,
    bundle: &[u8],
    how: ChunkWrite,
) -> Result<(), postgres::Error> {
    match how {
        ChunkWrite::Insert => {
            for (seq, chunk) in bundle.chunks(CHUNK).enumerate() {
                let seq = i32::try_from(seq).expect("chunk count fits i32");
                match k2 {
                    Some(k2) => tx.execute(insert, &[&k1, &k2, &seq, &chunk])?,
                    None => tx.execute(insert, &[&k1, &seq, &chunk])?,
                };
            }
        }
        ChunkWrite::Copy => {
            let types: &[Type] = if k2.is_some() {
                &[Type::INT8, Type::INT8, Type::INT4, Type::BYTEA]
            } else {
                &[Type::INT8, Type::INT4, Type::BYTEA]
            };
            let mut w = BinaryCopyInWriter::new(tx.copy_in(copy)?, types);
            for (seq, chunk) in bundle.chunks(CHUNK).enumerate() {
                let seq = i32::try_from(seq).expect("chunk count fits i32");
                match k2 {
                    Some(k2) => w.write(&[&k1, &k2, &seq, &chunk])?,
                    None => w.write(&[&k1, &seq, &chunk])?,
                }
            }
            w.finish()?;
        }
    }
    Ok(())
}

/// The head as the database has it (what a store reads after a claim).
fn read_head(c: &mut Client) -> Head {
    let r = c
        .query_one(
            "SELECT version, fence, coalesce(latest, 0) FROM head WHERE shard = $1::int8",
            &[&SHARD],
        )
        .unwrap();
    Head {
        version: r.get(0),
        fence: r.get(1),
        latest: r.get(2),
    }
}

/// One load: the head is the truth; its epoch's chunks, streamed in order
/// into one buffer of the length the head records.
fn load(c: &mut Client, s: &Stmts) -> Result<Vec<u8>, postgres::Error> {
    let mut tx = c
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()?;
    let h = tx.query_one(&s.select_head, &[&SHARD])?;
    let latest: i64 = h.get::<_, Option<i64>>(2).expect("something committed");
    let len: i64 = h.get::<_, Option<i64>>(4).expect("a length");
    let mut buf = Vec::with_capacity(usize::try_from(len).expect("non-negative"));
    let params: [&(dyn ToSql + Sync); 2] = [&SHARD, &latest];
    let mut rows = tx.query_raw(&s.select_chunks, params.iter().copied())?;
    let mut expect = 0i32;
    while let Some(row) = rows.next()? {
        let seq: i32 = row.get(0);
        assert_eq!(seq, expect, "a missing chunk is damage, never skipped");
        buf.extend_from_slice(row.get::<_, &[u8]>(1));
        expect += 1;
    }
    drop(rows);
    tx.commit()?;
    assert_eq!(buf.len() as i64, len, "a short bundle is damage");
    Ok(buf)
}

/// The floor's select: the same chunks back, in order, into one buffer.
fn load_floor(c: &mut Client, sel: &Statement, k: i64, len: usize) -> Vec<u8> {
    let mut buf = Vec::with_capacity(len);
    let params: [&(dyn ToSql + Sync); 1] = [&k];
    let mut tx = c.transaction().unwrap();
    let mut rows = tx.query_raw(sel, params.iter().copied()).unwrap();
    while let Some(row) = rows.next().unwrap() {
        buf.extend_from_slice(row.get::<_, &[u8]>(0));
    }
    drop(rows);
    tx.commit().unwrap();
    buf
}

fn floor_commit(
    c: &mut Client,
    ins: &Statement,
    copy: &str,
    k: i64,
    bundle: &[u8],
    how: ChunkWrite,
) {
    let mut tx = c.transaction().unwrap();
    write_chunks(&mut tx, ins, copy, k, None, bundle, how).unwrap();
    tx.commit().unwrap();
}

// ---------------------------------------------------------------------------
// 1. Timings.
// ---------------------------------------------------------------------------

#[derive(Default)]
struct Series {
    t: Vec<Duration>,
    heap: Vec<usize>,
}

impl Series {
    fn push(&mut self, d: Duration, heap: usize) {
        self.t.push(d);
        self.heap.push(heap);
    }

    fn row(&self, name: &str, floor: Option<&Series>) -> String {
        let mut sorted = self.t.clone();
        sorted.sort_unstable();
        let ratio = floor.map_or(String::from("—"), |f| {
            format!(
                "{:.2}×",
                median(&self.t).as_secs_f64() / median(&f.t).as_secs_f64()
            )
        });
        format!(
            "| {name} | {} | {} – {} | {ratio} | {} |",
            ms(median(&self.t)),
            ms(sorted[0]),
            ms(sorted[sorted.len() - 1]),
            mib(*self.heap.iter().max().unwrap_or(&0)),
        )
    }
}

fn schema_section(server: &pg::PgServer, iters: usize, floor_by_delete: bool) {
    println!("## 1. The proposed schema, a real large-shard bundle\n");
    let (bundle, gen_t) = {
        let t = Instant::now();
        let shard = ShardSpec::large().generate(2026);
        let mut store = MemStore::<Reference>::new(ShardId(1));
        let authority = store.claim().expect("a fresh MemStore grants its claim");
        let sealed = Save::begin(&authority)
            .players(&shard.players)
            .and_then(|s| s.world(&shard.zones))
            .and_then(|s| s.npcs(&shard.npcs))
            .and_then(|s| s.items(&shard.items))
            .and_then(|s| s.quests(&shard.quests))
            .expect("the reference shard is accepted")
            .seal();
        (sealed.into_bytes(), t.elapsed())
    };
    println!(
        "bundle: large reference shard, seed 2026, {} bytes ({}), {} chunks of 1 MiB (generated and sealed in {}); {iters} iterations, medians\n",
        bundle.len(),
        mib(bundle.len()),
        bundle.len().div_ceil(CHUNK),
        ms(gen_t)
    );

    let load_before = load_average();
    let db = server.fresh_database("pg_notes");
    let mut c = db.connect();
    c.batch_execute(SCHEMA).unwrap();
    c.batch_execute(OTHER_TABLES).unwrap();
    c.execute(
        "INSERT INTO head (shard, version, fence, latest, latest_digest, latest_len, key_fingerprint) \
         VALUES ($1::int8, 1, 1, NULL, NULL, NULL, $2::bytea)",
        &[&SHARD, &vec![0u8; 32]],
    )
    .unwrap();
    let s = Stmts::prepare(&mut c);
    let floor_ins = c
        .prepare("INSERT INTO floor_chunks (k, seq, data) VALUES ($1::int8, $2::int4, $3::bytea)")
        .unwrap();
    let floor_sel = c
        .prepare("SELECT data FROM floor_chunks WHERE k = $1::int8 ORDER BY seq")
        .unwrap();
    let pglz_ins = c
        .prepare("INSERT INTO pglz_chunks (k, seq, data) VALUES ($1::int8, $2::int4, $3::bytea)")
        .unwrap();
    let lz4_ins = c
        .prepare("INSERT INTO lz4_chunks (k, seq, data) VALUES ($1::int8, $2::int4, $3::bytea)")
        .unwrap();
    let floor_copy = "COPY floor_chunks (k, seq, data) FROM STDIN (FORMAT binary)";
    // The floor's rows go after each measurement, outside the timing: by
    // default the table is emptied (TRUNCATE: the next floor writes into a
    // fresh, empty relation, the least work the server can do); with
    // --floor-prune delete, they are deleted like a store's prune, leaving
    // dead tuples and free space for the next insert to find.
    let prune_floor = |c: &mut Client, keep_k: i64| {
        if floor_by_delete {
            c.execute("DELETE FROM floor_chunks WHERE k <> $1::int8", &[&keep_k])
                .unwrap();
        } else {
            c.batch_execute("TRUNCATE floor_chunks").unwrap();
        }
    };

    let mut head = Head {
        version: 1,
        fence: 1,
        latest: 0,
    };
    let [mut c_ins, mut c_copy, mut f_ins, mut f_copy] = std::array::from_fn(|_| Series::default());
    let [mut ld, mut f_ld, mut pglz, mut lz4, mut file] =
        std::array::from_fn(|_| Series::default());
    let tmp = tempfile::tempdir().unwrap();
    // One warm-up round, not counted, then the measured ones. Each round
    // runs every operation once, starting at a different one, so that
    // drift (checkpoints: every round writes ~6 bundles of WAL; autovacuum;
    // the other core's load) falls on every series alike rather than on
    // whichever always comes after the commits.
    const OPS: usize = 7;
    for i in 0..=iters {
        let k = i64::try_from(i).unwrap();
        let keep = i > 0;
        for op in (0..OPS).map(|j| (i + j) % OPS) {
            match op {
                0 | 1 => {
                    let how = if op == 0 {
                        ChunkWrite::Insert
                    } else {
                        ChunkWrite::Copy
                    };
                    let (ok, d, h) = measured(|| commit(&mut c, &s, head, &bundle, how).unwrap());
                    assert!(ok, "the CAS matched");
                    head.version += 1;
                    head.latest += 1;
                    if keep {
                        if op == 0 { &mut c_ins } else { &mut c_copy }.push(d, h);
                    }
                    let (back, d, h) = measured(|| load(&mut c, &s).unwrap());
                    assert!(back == bundle, "the load returns the committed bytes");
                    drop(back);
                    if keep {
                        ld.push(d, h);
                    }
                    // Keep the previous epoch, as a store would; prune the rest.
                    c.execute(
                        "DELETE FROM epochs WHERE shard = $1::int8 AND epoch < $2::int8",
                        &[&SHARD, &(head.latest - 1)],
                    )
                    .unwrap();
                }
                2 => {
                    let (_, d, h) = measured(|| {
                        floor_commit(
                            &mut c,
                            &floor_ins,
                            floor_copy,
                            2 * k,
                            &bundle,
                            ChunkWrite::Insert,
                        );
                    });
                    if keep {
                        f_ins.push(d, h);
                    }
                    let (back, d, h) =
                        measured(|| load_floor(&mut c, &floor_sel, 2 * k, bundle.len()));
                    assert!(back == bundle);
                    drop(back);
                    if keep {
                        f_ld.push(d, h);
                    }
                    prune_floor(&mut c, 2 * k);
                }
                3 => {
                    let (_, d, h) = measured(|| {
                        floor_commit(
                            &mut c,
                            &floor_ins,
                            floor_copy,
                            2 * k + 1,
                            &bundle,
                            ChunkWrite::Copy,
                        );
                    });
                    if keep {
                        f_copy.push(d, h);
                    }
                    prune_floor(&mut c, 2 * k + 1);
                }
                4 | 5 => {
                    let ins = if op == 4 { &pglz_ins } else { &lz4_ins };
                    let (_, d, h) =
                        measured(|| floor_commit(&mut c, ins, "", k, &bundle, ChunkWrite::Insert));
                    if keep {
                        if op == 4 { &mut pglz } else { &mut lz4 }.push(d, h);
                    }
                    c.batch_execute("TRUNCATE pglz_chunks, lz4_chunks").unwrap();
                }
                _ => {
                    let path = tmp.path().join(format!("epoch-{k}"));
                    let (_, d, h) = measured(|| {
                        let mut f = std::fs::File::create(&path).unwrap();
                        f.write_all(&bundle).unwrap();
                        f.sync_all().unwrap();
                        std::fs::File::open(tmp.path()).unwrap().sync_all().unwrap();
                    });
                    if keep {
                        file.push(d, h);
                    }
                    std::fs::remove_file(&path).unwrap();
                }
            }
        }
    }
    // What compression buys on this bundle: one more lz4 and pglz copy,
    // measured as stored.
    floor_commit(&mut c, &lz4_ins, "", 0, &bundle, ChunkWrite::Insert);
    floor_commit(&mut c, &pglz_ins, "", 0, &bundle, ChunkWrite::Insert);
    let mut stored = |table: &str| -> i64 {
        c.query_one(
            &format!("SELECT sum(pg_column_size(data))::int8 FROM {table}"),
            &[],
        )
        .unwrap()
        .get(0)
    };
    let (ext_size, lz4_size, pglz_size) = (
        stored("chunks WHERE epoch = (SELECT latest FROM head)"),
        stored("lz4_chunks"),
        stored("pglz_chunks"),
    );

    // Client heap of the first operation on a new connection: what a store
    // that just connected pays, read and write buffers included (the
    // series above reuse a warm connection's buffers).
    let fresh = |f: &mut dyn FnMut(&mut Client, &Stmts)| -> usize {
        let mut c = db.connect();
        let s = Stmts::prepare(&mut c);
        let ((), _, h) = measured(|| f(&mut c, &s));
        h
    };
    let first_insert = fresh(&mut |c, s| {
        let h = read_head(c);
        assert!(commit(c, s, h, &bundle, ChunkWrite::Insert).unwrap());
    });
    let first_copy = fresh(&mut |c, s| {
        let h = read_head(c);
        assert!(commit(c, s, h, &bundle, ChunkWrite::Copy).unwrap());
    });
    let first_load = fresh(&mut |c, s| {
        let back = load(c, s).unwrap();
        assert!(back == bundle);
    });

    println!(
        "load average (1 min) before: {load_before}, after: {}\n",
        load_average()
    );
    println!("| operation | median | min – max | vs floor | client peak heap |");
    println!("| --- | --- | --- | --- | --- |");
    println!(
        "{}",
        c_ins.row("commit, prepared INSERT per chunk", Some(&f_ins))
    );
    println!(
        "{}",
        c_copy.row("commit, COPY FROM STDIN BINARY", Some(&f_copy))
    );
    println!(
        "{}",
        f_ins.row("raw floor: chunks in one tx, INSERT per chunk", None)
    );
    println!(
        "{}",
        f_copy.row("raw floor: chunks in one tx, COPY BINARY", None)
    );
    println!(
        "{}",
        ld.row("load: head + chunks into one buffer", Some(&f_ld))
    );
    println!("{}", f_ld.row("raw floor: select chunks back", None));
    println!(
        "{}",
        pglz.row("chunks with default storage (pglz), INSERT", Some(&f_ins))
    );
    println!(
        "{}",
        lz4.row("chunks with lz4 compression, INSERT", Some(&f_ins))
    );
    println!("{}", file.row("file: write + fsync + dir fsync", None));
    println!(
        "\nclient peak heap of the first operation on a new connection: commit by INSERT {}, by COPY {}, load {} (the load's includes the {} buffer it returns)",
        mib(first_insert),
        mib(first_copy),
        mib(first_load),
        mib(bundle.len())
    );
    println!(
        "bundle as stored: EXTERNAL {} ({:.3} of the bundle), lz4 {} ({:.3}), pglz {} ({:.3})\n",
        mib(usize::try_from(ext_size).unwrap()),
        ext_size as f64 / bundle.len() as f64,
        mib(usize::try_from(lz4_size).unwrap()),
        lz4_size as f64 / bundle.len() as f64,
        mib(usize::try_from(pglz_size).unwrap()),
        pglz_size as f64 / bundle.len() as f64,
    );
}

// ---------------------------------------------------------------------------
// 2. A lost connection around COMMIT.
// ---------------------------------------------------------------------------

fn describe(e: &postgres::Error) -> String {
    let code = e
        .code()
        .map_or(String::from("none"), |c| c.code().to_owned());
    let mut s = format!("\"{e}\" (SQLSTATE {code}, is_closed {})", e.is_closed());
    let mut src = std::error::Error::source(e);
    while let Some(x) = src {
        s.push_str(&format!(" ← \"{x}\""));
        src = x.source();
    }
    s
}

fn lost_connection_section(server: &pg::PgServer) {
    println!("## 2. A connection lost around COMMIT\n");
    let db = server.fresh_database("pg_notes_lost");
    let mut setup = db.connect();
    setup.batch_execute(SCHEMA).unwrap();
    setup
        .execute(
            "INSERT INTO head (shard, version, fence, latest, latest_digest, latest_len, key_fingerprint) \
             VALUES ($1::int8, 1, 1, 0, NULL, 0, '\\x00')",
            &[&SHARD],
        )
        .unwrap();
    // A 4 MiB bundle: enough WAL for COMMIT's flush to take a moment.
    let bundle: Vec<u8> = (0..4u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let head_of = |c: &mut Client| -> (i64, i64) {
        let r = c
            .query_one(
                "SELECT version, latest FROM head WHERE shard = $1::int8",
                &[&SHARD],
            )
            .unwrap();
        (r.get(0), r.get(1))
    };

    // (a) Terminated after the inserts, before COMMIT is sent.
    let mut a = db.connect();
    let s = Stmts::prepare(&mut a);
    let (version, latest) = head_of(&mut setup);
    let pid: i32 = a.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0);
    let epoch = latest + 1;
    let digest = &bundle[bundle.len() - DIGEST_LEN..];
    let len = bundle.len() as i64;
    let mut tx = a.transaction().unwrap();
    tx.execute(&s.update_head, &[&SHARD, &version, &epoch, &digest, &len])
        .unwrap();
    tx.execute(&s.insert_epoch, &[&SHARD, &epoch, &1i64, &digest, &len])
        .unwrap();
    write_chunks(
        &mut tx,
        &s.insert_chunk,
        COPY_CHUNKS,
        SHARD,
        Some(epoch),
        &bundle,
        ChunkWrite::Insert,
    )
    .unwrap();
    let killed: bool = setup
        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
        .unwrap()
        .get(0);
    let t = Instant::now();
    let r = tx.commit();
    println!(
        "(a) backend terminated (pg_terminate_backend → {killed}) after the inserts, then COMMIT: client got {} after {}",
        r.as_ref().map_or_else(describe, |()| String::from("Ok")),
        ms(t.elapsed())
    );
    println!(
        "    the next call on that client: {}; is_closed() = {}",
        a.simple_query("SELECT 1")
            .map_or_else(|e| describe(&e), |_| String::from("Ok")),
        a.is_closed()
    );
    let (v2, l2) = head_of(&mut setup);
    println!(
        "    head afterwards: version {version} → {v2}, latest {latest} → {l2}: {}\n",
        if l2 == latest {
            "not committed"
        } else {
            "COMMITTED"
        }
    );

    // (b) Terminated while COMMIT is in flight, at a sweep of delays.
    let mut outcomes: Vec<(String, bool)> = Vec::new();
    let mut commit_t = Vec::new();
    let delays_us: Vec<u64> = (0..24).map(|i| i * 500).collect();
    for _round in 0..2 {
        for &delay in &delays_us {
            let mut a = db.connect();
            let s = Stmts::prepare(&mut a);
            let (version, latest) = head_of(&mut setup);
            let pid: i32 = a.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0);
            let epoch = latest + 1;
            let mut tx = a.transaction().unwrap();
            tx.execute(&s.update_head, &[&SHARD, &version, &epoch, &digest, &len])
                .unwrap();
            tx.execute(&s.insert_epoch, &[&SHARD, &epoch, &1i64, &digest, &len])
                .unwrap();
            write_chunks(
                &mut tx,
                &s.insert_chunk,
                COPY_CHUNKS,
                SHARD,
                Some(epoch),
                &bundle,
                ChunkWrite::Insert,
            )
            .unwrap();
            let (go_tx, go_rx) = mpsc::channel::<()>();
            let url = db.url().to_owned();
            let killer = std::thread::spawn(move || {
                let mut k = pg::connect(&url);
                go_rx.recv().unwrap();
                let t = Instant::now();
                while t.elapsed() < Duration::from_micros(delay) {
                    std::hint::spin_loop();
                }
                let _: bool = k
                    .query_one("SELECT pg_terminate_backend($1)", &[&pid])
                    .unwrap()
                    .get(0);
            });
            go_tx.send(()).unwrap();
            let t = Instant::now();
            let r = tx.commit();
            commit_t.push(t.elapsed());
            killer.join().unwrap();
            let (_, l2) = head_of(&mut setup);
            let committed = l2 == epoch;
            let seen = match &r {
                Ok(()) => String::from("Ok"),
                Err(e) => format!("Err {}", e.code().map_or("(no SQLSTATE)", |c| c.code())),
            };
            if let Err(e) = &r
                && committed
                && !outcomes.iter().any(|(s, c)| *c && s.starts_with("Err"))
            {
                println!("    an error whose transaction committed: {}", describe(e));
            }
            outcomes.push((seen, committed));
        }
    }
    let mut kinds: Vec<(String, bool, usize)> = Vec::new();
    for (s, c) in &outcomes {
        match kinds.iter_mut().find(|(k, kc, _)| k == s && kc == c) {
            Some(e) => e.2 += 1,
            None => kinds.push((s.clone(), *c, 1)),
        }
    }
    println!(
        "(b) {} commits of a 4 MiB transaction, backend terminated 0–{} µs after COMMIT was sent (COMMIT call: median {}):",
        outcomes.len(),
        delays_us.last().unwrap(),
        ms(median(&commit_t))
    );
    println!("\n| client saw | committed | count |\n| --- | --- | --- |");
    for (s, c, n) in kinds {
        println!("| {s} | {} | {n} |", if c { "yes" } else { "no" });
    }
    println!();
}

// ---------------------------------------------------------------------------
// 3. The advisory lock and keepalives.
// ---------------------------------------------------------------------------

const LOCK_KEY: i64 = 0x6361_656c; // "cael"

/// Child mode: take the advisory lock on `url`, say so, then answer "ping"
/// lines until stdin closes.
fn hold_lock(url: &str) {
    let mut c = match Client::connect(url, postgres::NoTls) {
        Ok(c) => c,
        Err(e) => {
            println!("connect-error {}", describe(&e));
            return;
        }
    };
    let got: bool = c
        .query_one("SELECT pg_try_advisory_lock($1::int8)", &[&LOCK_KEY])
        .unwrap()
        .get(0);
    let r = c
        .query_one(
            "SELECT pg_backend_pid(), current_setting('tcp_keepalives_idle'), \
                    current_setting('tcp_keepalives_interval'), current_setting('tcp_keepalives_count')",
            &[],
        )
        .unwrap();
    let (pid, idle, interval, count): (i32, String, String, String) =
        (r.get(0), r.get(1), r.get(2), r.get(3));
    println!(
        "locked {got} backend {pid}, server keepalives idle={idle} interval={interval} count={count}"
    );
    std::io::stdout().flush().unwrap();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        if line.trim() == "ping" {
            let t = Instant::now();
            let r = c.simple_query("SELECT 1");
            println!(
                "ping {} after {}",
                r.map_or_else(|e| describe(&e), |_| String::from("Ok")),
                ms(t.elapsed())
            );
            std::io::stdout().flush().unwrap();
        }
    }
}

struct Holder {
    child: Child,
    backend: i32,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Holder {
    fn spawn(url: &str, netns: Option<&str>) -> Holder {
        let exe = std::env::current_exe().unwrap();
        let mut cmd = match netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns]).arg(exe);
                c
            }
            None => Command::new(exe),
        };
        let mut child = cmd
            .args(["--hold-lock", url])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        assert!(line.starts_with("locked true"), "holder said: {line}");
        eprintln!("  holder: {}", line.trim());
        let backend = line
            .split_whitespace()
            .nth(3)
            .and_then(|p| p.trim_end_matches(',').parse().ok())
            .expect("the holder names its backend");
        Holder {
            child,
            backend,
            stdin,
            stdout,
        }
    }

    fn ping(&mut self) -> String {
        writeln!(self.stdin, "ping").unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        line.trim().to_owned()
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }
}

/// Polls `pg_try_advisory_lock` on `probe` until it succeeds or `limit`
/// passes; returns when it got the lock (and releases it again).
fn wait_for_lock(probe: &mut Client, limit: Duration) -> Option<Duration> {
    let t = Instant::now();
    while t.elapsed() < limit {
        let got: bool = probe
            .query_one("SELECT pg_try_advisory_lock($1::int8)", &[&LOCK_KEY])
            .unwrap()
            .get(0);
        if got {
            let d = t.elapsed();
            let _: bool = probe
                .query_one("SELECT pg_advisory_unlock($1::int8)", &[&LOCK_KEY])
                .unwrap()
                .get(0);
            return Some(d);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

fn held_for(r: Option<Duration>, limit: Duration) -> String {
    r.map_or_else(
        || format!("still held after {}", ms(limit)),
        |d| format!("released after {}", ms(d)),
    )
}

/// The client's side: keepalives for an idle connection, and a bound on
/// unacknowledged data, for which keepalives are not sent. This client's
/// `tcp_user_timeout` is in seconds (libpq's is in milliseconds), and its
/// probe count is `keepalives_retries` (libpq: `keepalives_count`).
const CLIENT_KA: &str =
    "keepalives_idle=2&keepalives_interval=1&keepalives_retries=2&tcp_user_timeout=3";
// The server's side of the same connection: set per session through the
// startup packet's options (-c tcp_keepalives_idle=2 …), URL-encoded.
const SERVER_KA: &str = "options=-c%20tcp_keepalives_idle%3D2%20-c%20tcp_keepalives_interval%3D1%20-c%20tcp_keepalives_count%3D2";

fn lock_section(server: &pg::PgServer) {
    println!("## 3. pg_try_advisory_lock on a dedicated connection\n");
    let url = server.url();
    // libpq's name for the probe count is keepalives_count; this client's is
    // keepalives_retries.
    let libpq_style = format!("{url}?keepalives_idle=2&keepalives_interval=1&keepalives_count=2");
    println!(
        "URL with libpq's keepalives_count: {}",
        Client::connect(&libpq_style, postgres::NoTls).map_or_else(
            |e| format!("refused: {}", describe(&e)),
            |_| String::from("accepted")
        )
    );
    let mut probe = pg::connect(&url);
    let ka_url = format!("{url}?{CLIENT_KA}");

    // A second session of the holder's own is refused while it lives.
    let mut h = Holder::spawn(&ka_url, None);
    let got: bool = probe
        .query_one("SELECT pg_try_advisory_lock($1::int8)", &[&LOCK_KEY])
        .unwrap()
        .get(0);
    println!("while held: a second session's pg_try_advisory_lock → {got}");
    h.signal("KILL");
    let _ = h.child.wait();
    println!(
        "holder killed (SIGKILL, loopback): {}",
        held_for(
            wait_for_lock(&mut probe, Duration::from_secs(10)),
            Duration::from_secs(10)
        )
    );

    let mut h = Holder::spawn(&format!("{ka_url}&{SERVER_KA}"), None);
    h.signal("STOP");
    let limit = Duration::from_secs(8);
    println!(
        "holder stopped (SIGSTOP), keepalives on both sides: {}",
        held_for(wait_for_lock(&mut probe, limit), limit)
    );
    h.signal("CONT");
    println!("  resumed holder's next query: {}", h.ping());
    h.signal("KILL");
    let _ = h.child.wait();
    let _ = wait_for_lock(&mut probe, Duration::from_secs(5));

    // A frozen holder is invisible to TCP. The server can end an idle
    // session itself (idle_session_timeout, PostgreSQL 14+), which a live
    // owner avoids by using its lock connection more often than that.
    let mut h = Holder::spawn(
        &format!("{ka_url}&{SERVER_KA}%20-c%20idle_session_timeout%3D3000"),
        None,
    );
    h.signal("STOP");
    println!(
        "holder stopped (SIGSTOP), the session's idle_session_timeout=3000: {}",
        held_for(wait_for_lock(&mut probe, limit), limit)
    );
    h.signal("CONT");
    println!("  resumed holder's next query: {}", h.ping());
    h.signal("KILL");
    let _ = h.child.wait();
    let _ = wait_for_lock(&mut probe, Duration::from_secs(5));
    println!();
}

/// A silent partition: the holder in a network namespace behind a veth
/// pair; the partition is a wrong static neighbour entry on both ends, so
/// frames are dropped without a reset or an ICMP error and the links stay
/// up.
fn partition_section() {
    println!("## 4. A silent partition\n");
    let id = std::process::id() % 100_000;
    let ns = format!("cpg{id}");
    let (vh, vc) = (format!("vh{id}"), format!("vc{id}"));
    let (host_ip, peer_ip) = ("10.231.0.1", "10.231.0.2");
    let sh = |args: &str| {
        let ok = Command::new("sh")
            .arg("-c")
            .arg(args)
            .status()
            .unwrap()
            .success();
        assert!(ok, "{args}");
    };
    sh(&format!(
        "ip netns add {ns} && ip link add {vh} type veth peer name {vc} && ip link set {vc} netns {ns} \
         && ip addr add {host_ip}/24 dev {vh} && ip link set {vh} up \
         && ip netns exec {ns} ip addr add {peer_ip}/24 dev {vc} && ip netns exec {ns} ip link set {vc} up \
         && ip netns exec {ns} ip link set lo up"
    ));
    let cleanup = format!("ip link del {vh} 2>/dev/null; ip netns del {ns} 2>/dev/null; true");
    let run = std::panic::catch_unwind(|| {
        let server = pg::PgServer::throwaway_with(&[(
            "listen_addresses",
            &format!("'127.0.0.1,{host_ip}'"),
        )]);
        let dir = server.dir().unwrap();
        let mut hba = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.join("data/pg_hba.conf"))
            .unwrap();
        writeln!(hba, "host all all 10.231.0.0/24 trust").unwrap();
        drop(hba);
        let mut probe = server.connect();
        let _: bool = probe
            .query_one("SELECT pg_reload_conf()", &[])
            .unwrap()
            .get(0);
        let port = server.port().unwrap();
        let remote = format!(
            "postgresql://{}@{host_ip}:{port}/{}",
            pg::SUPERUSER,
            pg::DATABASE
        );
        let limit = Duration::from_secs(20);
        let server_ka_uto = format!("{SERVER_KA}%20-c%20tcp_user_timeout%3D3000");
        for (name, params, settle) in [
            (
                "client settings only, partition of an idle connection",
                CLIENT_KA.to_owned(),
                Duration::from_secs(1),
            ),
            (
                "client + server keepalives, partition of an idle connection",
                format!("{CLIENT_KA}&{SERVER_KA}"),
                Duration::from_secs(1),
            ),
            (
                "client + server keepalives, partition right after the holder's last exchange",
                format!("{CLIENT_KA}&{SERVER_KA}"),
                Duration::ZERO,
            ),
            (
                "client + server keepalives + server tcp_user_timeout=3000, partition right after the last exchange",
                format!("{CLIENT_KA}&{server_ka_uto}"),
                Duration::ZERO,
            ),
        ] {
            let mut h = Holder::spawn(&format!("{remote}?{params}"), Some(&ns));
            std::thread::sleep(settle);
            sh(&format!(
                "ip neigh replace {peer_ip} lladdr 02:00:00:00:00:99 dev {vh} nud permanent && \
                 ip netns exec {ns} ip neigh replace {host_ip} lladdr 02:00:00:00:00:98 dev {vc} nud permanent"
            ));
            let t = Instant::now();
            let r = wait_for_lock(&mut probe, limit);
            println!("{name}: {}", held_for(r, limit));
            // The holder's own view, still cut off: does it learn that its
            // connection (and so its lock) is gone?
            let since = t.elapsed();
            println!(
                "  holder's next query, {} into the partition: {}",
                ms(since),
                h.ping()
            );
            sh(&format!(
                "ip neigh del {peer_ip} dev {vh}; ip netns exec {ns} ip neigh del {host_ip} dev {vc}; true"
            ));
            h.signal("KILL");
            let _ = h.child.wait();
            // A backend still waiting on a dead peer holds the lock for the
            // next case: end it from the server's side.
            let _: bool = probe
                .query_one("SELECT pg_terminate_backend($1)", &[&h.backend])
                .unwrap()
                .get(0);
            assert!(wait_for_lock(&mut probe, Duration::from_secs(10)).is_some());
        }
    });
    sh(&cleanup);
    if let Err(p) = run {
        std::panic::resume_unwind(p);
    }
    println!();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--hold-lock") {
        hold_lock(&args[2]);
        return;
    }
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let iters: usize = arg("--iters").map_or(7, |v| v.parse().expect("--iters N"));
    let only = arg("--only");
    let want = |s: &str| only.as_deref().is_none_or(|o| o.split(',').any(|x| x == s));

    println!("# PostgreSQL measurements for PgStore (issue 12)\n");
    let server = pg::PgServer::shared();
    let t = server.timings();
    println!(
        "server: {} ({}); ready in {} (initdb {}, start {}, create database {}); machine: {} cores\n",
        server
            .version()
            .unwrap_or_else(|| String::from("from CAELMOR_PG_URL")),
        if server.is_local() {
            "throwaway, fsync=on"
        } else {
            "external"
        },
        ms(t.ready),
        ms(t.initdb),
        ms(t.start),
        ms(t.create_database),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    if want("schema") {
        schema_section(
            server,
            iters,
            arg("--floor-prune").as_deref() == Some("delete"),
        );
    }
    if want("lost") {
        lost_connection_section(server);
    }
    if want("lock") {
        lock_section(server);
    }
    if want("partition") {
        let root = std::fs::metadata("/proc/self")
            .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
            .ok()
            == Some(0);
        if root {
            partition_section();
        } else {
            println!("## 4. A silent partition\n\nskipped: needs root for a network namespace\n");
        }
    }
}
