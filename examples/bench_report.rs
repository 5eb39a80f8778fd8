//! The performance report of issue 5, in one process: the crate's seal,
//! open, activation and FileStore commit on a large reference shard, each
//! timed side by side (interleaved, iteration by iteration) with its floor —
//! raw postcard of the same records, a memcpy and a plain write + fsync of
//! the same bytes — and with the two approaches a team would otherwise pick
//! (the whole shard as JSON in a file; one SQLite transaction, one row per
//! record); then peak heap during seal and open, and time per record as a
//! medium shard grows ×1, ×4, ×16.
//!
//! ```text
//! cargo run --release --example bench_report                 # the full report (large shard)
//! cargo run --release --example bench_report -- --quick      # medium shard, fewer iterations
//! cargo run --release --example bench_report -- --dir /mnt/x # where the files go
//! cargo run --release --features reference,postgres --example bench_report             # + PgStore rows
//! cargo run --release --features reference,postgres --example bench_report -- --pg-only # only those
//! ```
//!
//! Heap is measured with a counting global allocator: the peak of live bytes
//! (capacity, not length) above what was live when the operation started.

#[path = "../benches/support/mod.rs"]
mod support;

#[cfg(feature = "postgres")]
#[path = "bench_report/pg.rs"]
mod pg;

use std::alloc::{GlobalAlloc, Layout, System as SystemAlloc};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use caelmor_persist::reference::{Shard, ShardSpec};
use caelmor_persist::{Threads, VerifyOptions, verify};

// ---------------------------------------------------------------------------
// A v2 of the reference schema, for the migration row (issue 13).
// ---------------------------------------------------------------------------

/// The reference schema with a trivial change: the player's `currency` is
/// now `gold`. The other four record types are the reference ones.
mod v2 {
    use caelmor_persist::migrate::{Migration, Unmappable};
    use caelmor_persist::reference::{self, Item, Npc, Position, Quest, Reference, Stats, Zone};
    use caelmor_persist::{PlayerId, PlayerRecord, Schema};
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize)]
    pub struct Player {
        id: PlayerId,
        name: String,
        level: u16,
        stats: Stats,
        gold: u64,
        last_zone: u64,
        last_position: Position,
    }

    impl PlayerRecord for Player {
        fn id(&self) -> PlayerId {
            self.id
        }
    }

    pub struct ReferenceV2;

    impl Schema for ReferenceV2 {
        const NAME: &'static str = Reference::NAME;
        const VERSION: u32 = 2;
        type Player = Player;
        type World = Zone;
        type Npc = Npc;
        type Item = Item;
        type Quest = Quest;
    }

    /// Renames the field; moves everything else.
    pub struct Rename;

    impl Migration<Reference, ReferenceV2> for Rename {
        fn players(&mut self, old: Vec<reference::Player>) -> Result<Vec<Player>, Unmappable> {
            Ok(old
                .into_iter()
                .map(|p| Player {
                    id: p.id,
                    name: p.name,
                    level: p.level,
                    stats: p.stats,
                    gold: p.currency,
                    last_zone: p.last_zone,
                    last_position: p.last_position,
                })
                .collect())
        }
        fn world(&mut self, old: Vec<Zone>, _: &[Player]) -> Result<Vec<Zone>, Unmappable> {
            Ok(old)
        }
        fn npcs(
            &mut self,
            old: Vec<Npc>,
            _: &[Player],
            _: &[Zone],
        ) -> Result<Vec<Npc>, Unmappable> {
            Ok(old)
        }
        fn items(
            &mut self,
            old: Vec<Item>,
            _: &[Player],
            _: &[Zone],
            _: &[Npc],
        ) -> Result<Vec<Item>, Unmappable> {
            Ok(old)
        }
        fn quests(
            &mut self,
            old: Vec<Quest>,
            _: &[Player],
            _: &[Zone],
            _: &[Npc],
            _: &[Item],
        ) -> Result<Vec<Quest>, Unmappable> {
            Ok(old)
        }
    }
}

// ---------------------------------------------------------------------------
// Peak live heap.
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
            // Counted as the larger of the two sizes, never both: large
            // blocks are moved with mremap, which never holds two copies.
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

/// Runs `f`, returning its result and the peak of live heap bytes above
/// what was live when it started.
fn peak_heap<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let out = f();
    let peak = PEAK.load(Ordering::SeqCst);
    (out, peak.saturating_sub(base))
}

// ---------------------------------------------------------------------------
// Timing.
// ---------------------------------------------------------------------------

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2
    }
}

/// Times `ops` interleaved (one iteration of each in turn, after one
/// untimed warm-up round), so that a noisy neighbour hits all of them alike.
/// Each op times itself (so that its setup and teardown stay untimed).
fn interleaved(iters: usize, ops: &mut [&mut dyn FnMut() -> Duration]) -> Vec<Duration> {
    for op in ops.iter_mut() {
        black_box(op());
    }
    let mut samples = vec![Vec::with_capacity(iters); ops.len()];
    for _ in 0..iters {
        for (i, op) in ops.iter_mut().enumerate() {
            samples[i].push(op());
        }
    }
    samples.into_iter().map(median).collect()
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let out = black_box(f());
    (out, t.elapsed())
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

fn mib(bytes: usize) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

// ---------------------------------------------------------------------------
// The report.
// ---------------------------------------------------------------------------

struct Args {
    quick: bool,
    pg_only: bool,
    dir: Option<PathBuf>,
}

fn args() -> Args {
    let mut out = Args {
        quick: false,
        pg_only: false,
        dir: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => out.quick = true,
            "--pg-only" if cfg!(feature = "postgres") => out.pg_only = true,
            "--dir" => out.dir = it.next().map(PathBuf::from),
            other => {
                eprintln!(
                    "usage: bench_report [--quick] [--dir PATH] [--pg-only (feature postgres)]   (unknown: {other})"
                );
                std::process::exit(2);
            }
        }
    }
    out
}

struct Verdict {
    name: &'static str,
    measured: f64,
    limit: f64,
    note: String,
}

fn main() {
    let args = args();
    let tmp;
    let dir: &Path = if let Some(d) = &args.dir {
        std::fs::create_dir_all(d).expect("create --dir");
        d
    } else {
        tmp = tempfile::Builder::new()
            .prefix("caelmor-bench-")
            .tempdir_in(std::env::temp_dir())
            .expect("temp dir");
        tmp.path()
    };
    let (spec, name, iters, peer_iters) = if args.quick {
        (ShardSpec::medium(), "medium", 5, 1)
    } else {
        (ShardSpec::large(), "large", 9, 3)
    };

    println!("# caelmor-persist bench report");
    println!();
    println!(
        "machine: {} cores, {}; files in {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model(),
        dir.display()
    );
    let (shard, gen_time) = timed(|| support::shard(spec));
    println!(
        "workload: {name} shard, seed {}: {} records ({} players, {} zones, {} npcs, {} items, {} quests), generated in {}",
        support::SEED,
        shard.record_count(),
        shard.players.len(),
        shard.zones.len(),
        shard.npcs.len(),
        shard.items.len(),
        shard.quests.len(),
        ms(gen_time)
    );
    let authority = support::mem_authority();
    let bundle = support::seal(&authority, &shard).into_bytes();
    // Open's work (verify + typed decode) is the store's load now: timed on
    // an in-memory store holding exactly this bundle.
    let (mem, mem_authority) = support::mem_store(&shard);
    let raw = support::raw_encode(&shard);
    let raw_len: usize = raw.iter().map(Vec::len).sum();
    println!(
        "bundle: {} bytes ({}); raw postcard of the same records: {} bytes; iterations: {iters} (peers {peer_iters}), medians",
        bundle.len(),
        mib(bundle.len()),
        raw_len
    );
    println!();

    let mut verdicts = Vec::new();
    if args.pg_only {
        pg_rows(name, &shard, &bundle, iters, &mem, dir, &mut verdicts);
        print_targets(&verdicts);
        return;
    }

    // --- The three floors -------------------------------------------------
    let mut seal_op = || {
        let (sealed, d) = timed(|| support::seal(&authority, &shard));
        drop(sealed);
        d
    };
    let mut raw_enc_op = || {
        let (r, d) = timed(|| support::raw_encode(&shard));
        drop(r);
        d
    };
    // The same seal with `Threads::One`: what keeping it on the calling
    // thread costs.
    let authority_one = support::mem_authority_on(Threads::One);
    let mut seal_one_op = || {
        let (sealed, d) = timed(|| support::seal(&authority_one, &shard));
        drop(sealed);
        d
    };
    let seal_pair = interleaved(
        iters,
        &mut [&mut seal_op, &mut raw_enc_op, &mut seal_one_op],
    );

    let mut open_op = || {
        let (r, d) = timed(|| support::load(&mem));
        drop(r);
        d
    };
    let mut raw_dec_op = || {
        let (r, d) = timed(|| support::raw_decode(&raw));
        drop(r);
        d
    };
    let (mem_one, _) = support::mem_store_on(&shard, Threads::One);
    let mut open_one_op = || {
        let (r, d) = timed(|| support::load(&mem_one));
        drop(r);
        d
    };
    let open_pair = interleaved(
        iters,
        &mut [&mut open_op, &mut raw_dec_op, &mut open_one_op],
    );

    let mut act_op = || {
        let loaded = support::load(&mem);
        let (r, d) = timed(|| support::restore(loaded, &mem_authority));
        drop(r);
        d
    };
    let mut out = vec![0u8; bundle.len()];
    let mut memcpy_op = || {
        let ((), d) = timed(|| support::memcpy(&bundle, &mut out));
        d
    };
    let act_pair = interleaved(iters, &mut [&mut act_op, &mut memcpy_op]);

    let store_root = dir.join("store");
    let (mut store, store_auth) = support::file_store(&store_root);
    let mut commit_op = || {
        let sealed = support::seal(&store_auth, &shard);
        let (r, d) = timed(|| store.commit(sealed, &store_auth));
        r.expect("commit");
        d
    };
    let mut n = 0;
    let mut fsync_op = || {
        n += 1;
        let path = support::scratch_path(dir, "plain", n);
        let ((), d) = timed(|| support::write_fsync(&path, &bundle));
        support::remove(&path);
        d
    };
    let by_hand = dir.join("by-hand");
    std::fs::create_dir_all(&by_hand).expect("create dir");
    let mut m = 0;
    let mut by_hand_op = || {
        let ((), d) = timed(|| support::atomic_replace(&by_hand, m, &bundle));
        m += 1;
        d
    };
    let commit_pair = interleaved(iters, &mut [&mut commit_op, &mut fsync_op, &mut by_hand_op]);

    println!("## Against the floor ({name} shard, records already in id order)");
    println!();
    println!("| operation | ours | floor | floor is | ratio | target |");
    println!("| --- | ---: | ---: | --- | ---: | --- |");
    let rows: [(&str, &[Duration], &str, Option<f64>); 4] = [
        (
            "seal (validate + canonicalise + encode + digest)",
            &seal_pair,
            "raw postcard encode",
            Some(1.6),
        ),
        (
            "open: the store's load (one copy of the bundle + verify + typed decode)",
            &open_pair,
            "raw postcard decode",
            Some(1.3),
        ),
        (
            "FileStore commit",
            &commit_pair,
            "write + fsync",
            Some(1.15),
        ),
        (
            "activation (Restore::open + 5 steps + activate)",
            &act_pair,
            "memcpy of the bundle",
            None,
        ),
    ];
    for (op, pair, floor, target) in rows {
        let r = ratio(pair[0], pair[1]);
        let t = target.map_or("—".to_owned(), |t| {
            format!("≤ {t}× {}", if r <= t { "met" } else { "NOT met" })
        });
        println!(
            "| {op} | {} | {} | {floor} | {r:.2}× | {t} |",
            ms(pair[0]),
            ms(pair[1])
        );
    }
    println!(
        "| seal with `Threads::One` | {} | {} | raw postcard encode | {:.2}× | {:.2}× the two-thread seal |",
        ms(seal_pair[2]),
        ms(seal_pair[1]),
        ratio(seal_pair[2], seal_pair[1]),
        ratio(seal_pair[2], seal_pair[0])
    );
    println!(
        "| open with `Threads::One` | {} | {} | raw postcard decode | {:.2}× | {:.2}× the two-thread open |",
        ms(open_pair[2]),
        ms(open_pair[1]),
        ratio(open_pair[2], open_pair[1]),
        ratio(open_pair[2], open_pair[0])
    );
    println!(
        "| FileStore commit | {} | {} | a durable atomic replace by hand: write, fsync, rename, fsync dir, remove the previous file (the store links and writes a head record instead of renaming) | {:.2}× | — |",
        ms(commit_pair[0]),
        ms(commit_pair[2]),
        ratio(commit_pair[0], commit_pair[2])
    );
    println!();
    verdicts.push(Verdict {
        name: "seal ≤ 1.6× raw encode",
        measured: ratio(seal_pair[0], seal_pair[1]),
        limit: 1.6,
        note: String::new(),
    });
    verdicts.push(Verdict {
        name: "open ≤ 1.3× raw decode",
        measured: ratio(open_pair[0], open_pair[1]),
        limit: 1.3,
        note: String::new(),
    });
    verdicts.push(Verdict {
        name: "commit ≤ 1.15× write + fsync",
        measured: ratio(commit_pair[0], commit_pair[1]),
        limit: 1.15,
        note: String::new(),
    });

    // --- Migration (issue 13) -------------------------------------------
    // The large shard committed under the reference schema, migrated to a
    // v2 of it with a trivial change (a player field renamed): the old
    // epoch loaded and verified in full as v1, each section mapped (moved)
    // and saved as v2, sealed. Not committed, so that every iteration
    // migrates the same epoch. Against a load (open) followed by a seal of
    // the same shard, each dropping the records it decoded, as a migration
    // does.
    let migrate_shard = caelmor_persist::MemBackend::new(support::SHARD);
    {
        let mut v1 =
            caelmor_persist::Store::<caelmor_persist::reference::Reference, _>::with_backend(
                migrate_shard.clone(),
                caelmor_persist::StoreConfig::new(),
            );
        let a = v1.claim().expect("claim");
        let sealed = support::seal(&a, &shard);
        v1.commit(sealed, &a).expect("commit");
    }
    let mut v2_store = caelmor_persist::Store::<v2::ReferenceV2, _>::with_backend(
        migrate_shard,
        caelmor_persist::StoreConfig::new(),
    );
    let v2_authority = v2_store.claim().expect("claim");
    let mut migrate_op = || {
        let (sealed, d) = timed(|| {
            v2_store
                .migrate::<caelmor_persist::reference::Reference>(&v2_authority)
                .expect("the v1 epoch loads")
                .run(v2::Rename)
                .expect("the rename maps")
                .seal()
        });
        drop(sealed);
        d
    };
    let mut open_seal_op = || {
        let (sealed, d) = timed(|| {
            drop(support::load(&mem));
            support::seal(&authority, &shard)
        });
        drop(sealed);
        d
    };
    let migration = interleaved(
        iters,
        &mut [
            &mut migrate_op,
            &mut open_seal_op,
            &mut open_op,
            &mut seal_op,
        ],
    );
    println!("## Migration ({name} shard, issue 13)");
    println!();
    println!("| operation | median | ÷ open + seal | target |");
    println!("| --- | ---: | ---: | --- |");
    let r = ratio(migration[0], migration[1]);
    println!(
        "| migration v1 → v2 (load + verify as v1, map, save as v2, seal; a player field renamed) | {} | {r:.2}× | ≤ 1.0× {} |",
        ms(migration[0]),
        if r <= 1.0 { "met" } else { "NOT met" }
    );
    println!(
        "| open + seal, one after the other (load + verify + typed decode, drop, seal) | {} | 1.00× | — |",
        ms(migration[1])
    );
    println!(
        "| open alone; seal alone (sum) | {}; {} ({}) | {:.2}× | — |",
        ms(migration[2]),
        ms(migration[3]),
        ms(migration[2] + migration[3]),
        ratio(migration[2] + migration[3], migration[1])
    );
    println!();
    verdicts.push(Verdict {
        name: "migration ≤ open + seal",
        measured: r,
        limit: 1.0,
        note: String::from("one hop, on the same shard"),
    });

    // --- Where the time goes -------------------------------------------
    // The format's own floors: the structural index, encoded and decoded on
    // its own with plain postcard; the digest on one thread; schema-agnostic
    // verification (digest + index decode + canonical check + graph).
    let index = verify(&bundle, &VerifyOptions::new())
        .expect("verify")
        .index;
    let index_raw = {
        let enc = |r: postcard::Result<Vec<u8>>| r.expect("index encodes");
        [
            enc(postcard::to_allocvec(&index.players)),
            enc(postcard::to_allocvec(&index.zones)),
            enc(postcard::to_allocvec(&index.npcs)),
            enc(postcard::to_allocvec(&index.items)),
            enc(postcard::to_allocvec(&index.quests)),
        ]
    };
    let mut index_enc_op = || {
        let (r, d) = timed(|| {
            (
                postcard::to_allocvec(&index.players),
                postcard::to_allocvec(&index.zones),
                postcard::to_allocvec(&index.npcs),
                postcard::to_allocvec(&index.items),
                postcard::to_allocvec(&index.quests),
            )
        });
        drop(r);
        d
    };
    let mut index_dec_op = || {
        let (r, d) = timed(|| {
            type Ix = caelmor_persist::format::StructuralIndex;
            let bad = "index decodes";
            Ix {
                players: postcard::from_bytes(&index_raw[0]).expect(bad),
                zones: postcard::from_bytes(&index_raw[1]).expect(bad),
                npcs: postcard::from_bytes(&index_raw[2]).expect(bad),
                items: postcard::from_bytes(&index_raw[3]).expect(bad),
                quests: postcard::from_bytes(&index_raw[4]).expect(bad),
            }
        });
        drop(r);
        d
    };
    let mut verify_op = || {
        let (r, d) = timed(|| verify(&bundle, &VerifyOptions::new()));
        drop(r.expect("verify"));
        d
    };
    let mut digest_op = || {
        let body = &bundle[..bundle.len() - 32];
        let (h, d) = timed(|| blake3::hash(body));
        black_box(h);
        d
    };
    let parts = interleaved(
        iters,
        &mut [
            &mut index_enc_op,
            &mut index_dec_op,
            &mut verify_op,
            &mut digest_op,
            &mut raw_enc_op,
            &mut raw_dec_op,
        ],
    );
    println!("## Where the time goes ({name} shard)");
    println!();
    println!("| part | median |");
    println!("| --- | ---: |");
    println!(
        "| raw postcard encode of the records (seal's floor) | {} |",
        ms(parts[4])
    );
    println!(
        "| raw postcard encode of the structural index alone (built beforehand) | {} |",
        ms(parts[0])
    );
    println!(
        "| seal's format floor on one core: records + index encoded | {} |",
        ms(parts[4] + parts[0])
    );
    println!(
        "| raw postcard decode of the records (open's floor; ≈ the typed decode) | {} |",
        ms(parts[5])
    );
    println!(
        "| raw postcard decode of the structural index alone | {} |",
        ms(parts[1])
    );
    println!("| BLAKE3 of the bundle on one thread | {} |", ms(parts[3]));
    println!(
        "| `verify`: digest + index decode + canonical check + graph, one thread | {} |",
        ms(parts[2])
    );
    println!(
        "| open's format floor on one core: records decode + re-encode check (≈ raw encode) + index decode + digest | {} |",
        ms(parts[5] + parts[4] + parts[1] + parts[3])
    );
    println!();

    // --- Peers ----------------------------------------------------------------
    let mut save_op = || {
        let (r, d) = timed(|| {
            let sealed = support::seal(&store_auth, &shard);
            store.commit(sealed, &store_auth)
        });
        r.expect("commit");
        d
    };
    let json_path = dir.join("shard.json");
    let mut json_save_op = || timed(|| support::json_save(&json_path, &shard)).1;
    let sqlite_path = dir.join("shard.sqlite");
    let mut conn = support::sqlite_open(&sqlite_path);
    let mut sqlite_save_op = || timed(|| support::sqlite_save(&mut conn, &shard)).1;
    let save = interleaved(
        peer_iters,
        &mut [&mut save_op, &mut json_save_op, &mut sqlite_save_op],
    );

    let mut load_op = || {
        let (r, d) = timed(|| {
            let loaded = store.load_latest().expect("load").expect("committed");
            support::restore(loaded, &store_auth)
        });
        drop(r);
        d
    };
    let mut json_load_op = || {
        let (r, d) = timed(|| support::json_load(&json_path));
        drop(r);
        d
    };
    let mut sqlite_load_op = || {
        let (r, d) = timed(|| support::sqlite_load(&conn));
        drop(r);
        d
    };
    let load = interleaved(
        peer_iters,
        &mut [&mut load_op, &mut json_load_op, &mut sqlite_load_op],
    );
    let json_len = std::fs::metadata(&json_path).map_or(0, |m| m.len());
    let sqlite_len = std::fs::metadata(&sqlite_path).map_or(0, |m| m.len());

    println!("## Against the peers ({name} shard, durable save; load back to typed records)");
    println!();
    println!("| approach | save | load | on disk | ours ÷ it (save) | ours ÷ it (load) |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    println!(
        "| caelmor-persist (seal + FileStore commit; load + verify + open + activate) | {} | {} | {} | 1.00× | 1.00× |",
        ms(save[0]),
        ms(load[0]),
        mib(bundle.len())
    );
    println!(
        "| serde_json, whole shard to one file (+ fsync) | {} | {} | {} | {:.2}× | {:.2}× |",
        ms(save[1]),
        ms(load[1]),
        mib(json_len as usize),
        ratio(save[0], save[1]),
        ratio(load[0], load[1])
    );
    println!(
        "| SQLite (bundled), one transaction, one row per record (WAL, synchronous=FULL) | {} | {} | {} | {:.2}× | {:.2}× |",
        ms(save[2]),
        ms(load[2]),
        mib(sqlite_len as usize),
        ratio(save[0], save[2]),
        ratio(load[0], load[2])
    );
    println!();
    drop(conn);
    verdicts.push(Verdict {
        name: "durable save ≥ 3× faster than serde_json (ours ÷ it ≤ 0.33)",
        measured: ratio(save[0], save[1]),
        limit: 1.0 / 3.0,
        note: String::new(),
    });
    verdicts.push(Verdict {
        name: "durable save ≥ 5× faster than SQLite (ours ÷ it ≤ 0.20)",
        measured: ratio(save[0], save[2]),
        limit: 1.0 / 5.0,
        note: String::new(),
    });

    // --- Memory ---------------------------------------------------------------
    let (sealed, seal_peak) = peak_heap(|| support::seal(&authority, &shard));
    drop(sealed);
    let (r, raw_enc_peak) = peak_heap(|| support::raw_encode(&shard));
    drop(r);
    let (r, open_peak) = peak_heap(|| support::load(&mem));
    drop(r);
    let (r, raw_dec_peak) = peak_heap(|| support::raw_decode(&raw));
    drop(r);
    let (r, verify_peak) = peak_heap(|| verify(&bundle, &VerifyOptions::new()));
    drop(r);
    println!(
        "## Peak heap above the starting point ({name} shard; bundle {})",
        mib(bundle.len())
    );
    println!();
    println!("| operation | peak extra | ÷ bundle size | note |");
    println!("| --- | ---: | ---: | --- |");
    let b = bundle.len() as f64;
    println!(
        "| seal | {} | {:.2}× | includes the bundle itself |",
        mib(seal_peak),
        seal_peak as f64 / b
    );
    println!(
        "| raw postcard encode | {} | {:.2}× | the five output buffers |",
        mib(raw_enc_peak),
        raw_enc_peak as f64 / b
    );
    println!(
        "| open (the store's load) | {} | {:.2}× | the bundle read from the store, the decoded records (and the item index, only when its ids have gaps) |",
        mib(open_peak),
        open_peak as f64 / b
    );
    println!(
        "| raw postcard decode | {} | {:.2}× | the decoded records |",
        mib(raw_dec_peak),
        raw_dec_peak as f64 / b
    );
    println!(
        "| verify (schema-agnostic) | {} | {:.2}× | the structural index |",
        mib(verify_peak),
        verify_peak as f64 / b
    );
    println!();
    verdicts.push(Verdict {
        name: "seal peak extra heap ≤ 1.5× bundle",
        measured: seal_peak as f64 / b,
        limit: 1.5,
        note: String::new(),
    });

    pg_rows(name, &shard, &bundle, iters, &mem, dir, &mut verdicts);

    // --- Growth -------------------------------------------------------------------
    drop(shard);
    let factors: &[usize] = &[1, 4, 16];
    let grow_iters = if args.quick { 3 } else { 5 };
    println!("## Growth (medium shard ×1, ×4, ×16; time per record)");
    println!();
    println!(
        "| shard | records | bundle | seal | raw encode | open | raw decode | commit | write + fsync | seal / rec | open / rec | commit / byte |"
    );
    println!(
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    let mut base: Option<Vec<Duration>> = None;
    let mut last: Vec<Duration> = Vec::new();
    for &f in factors {
        let shard: Shard = support::shard(ShardSpec::medium().scaled(f));
        let records = shard.record_count();
        let bundle = support::seal(&authority, &shard).into_bytes();
        let raw = support::raw_encode(&shard);
        let (gmem, _) = support::mem_store(&shard);
        let mut s = || timed(|| support::seal(&authority, &shard)).1;
        let mut re = || timed(|| support::raw_encode(&shard)).1;
        let mut o = || {
            let (r, d) = timed(|| support::load(&gmem));
            drop(r);
            d
        };
        let mut rd = || {
            let (r, d) = timed(|| support::raw_decode(&raw));
            drop(r);
            d
        };
        let root = dir.join(format!("grow-{f}"));
        let (mut gstore, gauth) = support::file_store(&root);
        let mut c = || {
            let sealed = support::seal(&gauth, &shard);
            let (r, d) = timed(|| gstore.commit(sealed, &gauth));
            r.expect("commit");
            d
        };
        let mut n = 0;
        let mut w = || {
            n += 1;
            let path = support::scratch_path(dir, "grow-plain", n);
            let ((), d) = timed(|| support::write_fsync(&path, &bundle));
            support::remove(&path);
            d
        };
        let t = interleaved(
            grow_iters,
            &mut [&mut s, &mut re, &mut o, &mut rd, &mut c, &mut w],
        );
        let per = |d: Duration| format!("{:.0} ns", d.as_secs_f64() * 1e9 / records as f64);
        println!(
            "| medium ×{f} | {records} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.2} ns |",
            mib(bundle.len()),
            ms(t[0]),
            ms(t[1]),
            ms(t[2]),
            ms(t[3]),
            ms(t[4]),
            ms(t[5]),
            per(t[0]),
            per(t[2]),
            t[4].as_secs_f64() * 1e9 / bundle.len() as f64
        );
        if base.is_none() {
            base = Some(t.clone());
        }
        last = t;
        drop(gstore);
        let _ = std::fs::remove_dir_all(&root);
    }
    if let Some(b) = base {
        let g = |i: usize| ratio(last[i], b[i]);
        println!();
        println!(
            "×16 data costs ×{:.2} the time to seal (raw encode ×{:.2}), ×{:.2} to open (raw decode ×{:.2}), ×{:.2} to commit (write + fsync ×{:.2}); target ≤ 17×",
            g(0),
            g(1),
            g(2),
            g(3),
            g(4),
            g(5)
        );
        for (i, name) in [
            (0, "×16 data ≤ 17× time (seal)"),
            (2, "×16 data ≤ 17× time (open)"),
            (4, "×16 data ≤ 17× time (commit)"),
        ] {
            verdicts.push(Verdict {
                name,
                measured: g(i),
                limit: 17.0,
                note: format!(
                    "its floor ({}) grew ×{:.2} on the same data",
                    ["raw encode", "raw decode", "write + fsync"][i / 2],
                    g(i + 1)
                ),
            });
        }
    }
    println!();

    print_targets(&verdicts);
}

/// The PgStore rows (issue 12), when built with the `postgres` feature.
fn pg_rows(
    name: &str,
    shard: &Shard,
    bundle: &[u8],
    iters: usize,
    mem: &caelmor_persist::MemStore<caelmor_persist::reference::Reference>,
    dir: &Path,
    verdicts: &mut Vec<Verdict>,
) {
    #[cfg(feature = "postgres")]
    pg::section(name, shard, bundle, iters, mem, dir, verdicts);
    #[cfg(not(feature = "postgres"))]
    {
        let _ = (name, shard, bundle, iters, mem, dir, verdicts);
        println!("(PgStore rows: build with `--features postgres`)");
        println!();
    }
}

fn print_targets(verdicts: &[Verdict]) {
    println!("## Targets");
    println!();
    println!("| target | measured | verdict | note |");
    println!("| --- | ---: | --- | --- |");
    for v in verdicts {
        println!(
            "| {} | {:.2}× | {} | {} |",
            v.name,
            v.measured,
            if v.measured <= v.limit {
                "met"
            } else {
                "NOT met"
            },
            v.note
        );
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned())
}
