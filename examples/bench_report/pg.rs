//! The PgStore rows of the bench report (feature `postgres`): commit and
//! load through a real server that the report starts itself (the tests'
//! harness; `CAELMOR_PG_URL` to use another), next to FileStore and next to
//! the raw floor of the same bytes through the same server — the chunks
//! inserted in one transaction into a table of the same shape, and selected
//! back in order into one buffer — with the client's peak heap.

use std::path::Path;

use caelmor_persist::reference::{Reference, Shard};
use caelmor_persist::{Backend, MemStore, PgStore, ShardId, StoreConfig, StoredEpoch};
use postgres::fallible_iterator::FallibleIterator as _;
use postgres::types::ToSql;
use postgres::{IsolationLevel, NoTls};

use std::time::Duration;

use super::{Verdict, median, mib, ms, peak_heap, ratio, support, timed};

#[path = "../../tests/support/postgres.rs"]
mod harness;

const FLOOR: &str = "
CREATE TABLE floor_chunks (k int8 NOT NULL, seq int4 NOT NULL, data bytea NOT NULL, PRIMARY KEY (k, seq));
ALTER TABLE floor_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
";

/// As the report's `interleaved`, but each round starts with the next op:
/// a server's background work (checkpoints, autovacuum of the TOAST
/// tables) that follows one op falls on every op alike.
fn rotating(iters: usize, ops: &mut [&mut dyn FnMut() -> Duration]) -> Vec<Duration> {
    for op in ops.iter_mut() {
        std::hint::black_box(op());
    }
    let n = ops.len();
    let mut samples = vec![Vec::with_capacity(iters); n];
    for round in 0..iters {
        for i in (0..n).map(|i| (i + round) % n) {
            samples[i].push(ops[i]());
        }
    }
    samples.into_iter().map(median).collect()
}

pub(super) fn section(
    name: &str,
    shard: &Shard,
    bundle: &[u8],
    iters: usize,
    mem: &MemStore<Reference>,
    dir: &Path,
    verdicts: &mut Vec<Verdict>,
) {
    let server = harness::PgServer::shared();
    let db = server.fresh_database("bench_report");
    let url = db.url().to_owned();
    println!(
        "## PgStore ({name} shard, {}; {} on loopback TCP, fsync on)",
        mib(bundle.len()),
        server
            .version()
            .unwrap_or_else(|| "(CAELMOR_PG_URL)".to_owned())
    );
    println!();

    // Our store keeps every epoch during the measurement and the floor
    // keeps every copy: neither pays for deleting, and neither reuses space
    // freed by a delete (which costs full-page writes in the WAL). One more
    // store prunes on every commit (retain 1: the steady state of any
    // retention, one epoch out per commit), on another shard, to show what
    // deleting costs.
    let mut store =
        PgStore::<Reference>::connect_with(&url, ShardId(1), StoreConfig::new().retain(1 << 20))
            .expect("connect");
    let authority = store.claim().expect("claim");
    let mut pruning =
        PgStore::<Reference>::connect_with(&url, ShardId(2), StoreConfig::new().retain(1))
            .expect("connect");
    let pruning_authority = pruning.claim().expect("claim");
    let (mut file, file_authority) = support::file_store(&dir.join("pg-section-file"));

    let mut c = postgres::Client::connect(&url, NoTls).expect("connect");
    c.batch_execute(FLOOR).expect("floor table");
    let insert = c
        .prepare("INSERT INTO floor_chunks (k, seq, data) VALUES ($1::int8, $2::int4, $3::bytea)")
        .expect("prepare");
    let select = c
        .prepare("SELECT data FROM floor_chunks WHERE k = $1::int8 ORDER BY seq")
        .expect("prepare");
    let floor_insert = |c: &mut postgres::Client, insert: &postgres::Statement, k: i64| {
        let mut tx = c.transaction().expect("begin");
        for (seq, chunk) in bundle
            .chunks(caelmor_persist::PgBackend::CHUNK_LEN)
            .enumerate()
        {
            let seq = i32::try_from(seq).expect("few chunks");
            tx.execute(insert, &[&k, &seq, &chunk]).expect("insert");
        }
        tx.commit().expect("commit");
    };
    // The rows the floor's select reads back.
    floor_insert(&mut c, &insert, -1);

    // --- Commit ---------------------------------------------------------
    let mut commit_peak = 0usize;
    let mut pg_commit = || {
        let sealed = support::seal(&authority, shard);
        let ((r, d), heap) = peak_heap(|| timed(|| store.commit(sealed, &authority)));
        r.expect("commit");
        commit_peak = commit_peak.max(heap);
        d
    };
    let mut pg_commit_pruning = || {
        let sealed = support::seal(&pruning_authority, shard);
        let (r, d) = timed(|| pruning.commit(sealed, &pruning_authority));
        r.expect("commit");
        d
    };
    let mut floor_c = postgres::Client::connect(&url, NoTls).expect("connect");
    let floor_stmt = floor_c
        .prepare("INSERT INTO floor_chunks (k, seq, data) VALUES ($1::int8, $2::int4, $3::bytea)")
        .expect("prepare");
    let mut k = 0i64;
    let mut floor_commit = || {
        k += 1;
        let ((), d) = timed(|| floor_insert(&mut floor_c, &floor_stmt, k));
        d
    };
    let mut file_commit = || {
        let sealed = support::seal(&file_authority, shard);
        let (r, d) = timed(|| file.commit(sealed, &file_authority));
        r.expect("commit");
        d
    };
    let commits = rotating(
        iters,
        &mut [
            &mut pg_commit,
            &mut floor_commit,
            &mut pg_commit_pruning,
            &mut file_commit,
        ],
    );

    // --- Load -----------------------------------------------------------
    let latest = store
        .head()
        .expect("head")
        .and_then(|h| h.latest)
        .expect("committed");
    let mut pg_load = || {
        let (r, d) = timed(|| store.load_latest());
        drop(r.expect("load").expect("committed"));
        d
    };
    let mut floor_select = || {
        let (buf, d) = timed(|| {
            let mut buf = Vec::with_capacity(bundle.len());
            let mut tx = c
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .expect("begin");
            let params: [&(dyn ToSql + Sync); 1] = [&-1i64];
            let mut rows = tx
                .query_raw(&select, params.iter().copied())
                .expect("select");
            while let Some(row) = rows.next().expect("row") {
                buf.extend_from_slice(row.get::<_, &[u8]>(0));
            }
            drop(rows);
            tx.commit().expect("commit");
            buf
        });
        assert_eq!(buf.len(), bundle.len());
        d
    };
    let mut verification = || {
        let (r, d) = timed(|| support::load(mem));
        drop(r);
        d
    };
    let mut file_load = || {
        let (r, d) = timed(|| file.load_latest());
        drop(r.expect("load").expect("committed"));
        d
    };
    let loads = rotating(
        iters,
        &mut [
            &mut pg_load,
            &mut floor_select,
            &mut verification,
            &mut file_load,
        ],
    );

    // --- Client heap ----------------------------------------------------
    let stored = StoredEpoch {
        epoch: latest.epoch,
        fence: latest.fence,
    };
    let (read, read_peak) = peak_heap(|| store.backend().read(stored, latest.len));
    assert_eq!(read.expect("read").expect("there").len(), bundle.len());
    let (loaded, load_peak) = peak_heap(|| store.load_latest());
    drop(loaded);
    let (loaded, file_load_peak) = peak_heap(|| file.load_latest());
    drop(loaded);
    let commit_total = commit_peak + bundle.len();

    println!("| operation | median | next to | its median | ratio | target |");
    println!("| --- | ---: | --- | ---: | ---: | --- |");
    let verdict = |r: f64, t: f64| format!("≤ {t}× {}", if r <= t { "met" } else { "NOT met" });
    let commit_ratio = ratio(commits[0], commits[1]);
    println!(
        "| PgStore commit (head CAS + epoch row + {} chunk rows, one transaction) | {} | raw floor: the chunks inserted in one transaction | {} | {commit_ratio:.2}× | {} |",
        bundle.len().div_ceil(caelmor_persist::PgBackend::CHUNK_LEN),
        ms(commits[0]),
        ms(commits[1]),
        verdict(commit_ratio, 1.15)
    );
    println!(
        "| PgStore commit, retain(1): also deletes the previous epoch | {} | raw floor | {} | {:.2}× | — |",
        ms(commits[2]),
        ms(commits[1]),
        ratio(commits[2], commits[1])
    );
    println!(
        "| PgStore commit | {} | FileStore commit | {} | {:.2}× | — |",
        ms(commits[0]),
        ms(commits[3]),
        ratio(commits[0], commits[3])
    );
    let load_floor = loads[1] + loads[2];
    let load_ratio = ratio(loads[0], load_floor);
    println!(
        "| PgStore load (head + chunks streamed + full verification and typed decode) | {} | raw select ({}) + our verification on a MemStore ({}) | {} | {load_ratio:.2}× | {} |",
        ms(loads[0]),
        ms(loads[1]),
        ms(loads[2]),
        ms(load_floor),
        verdict(load_ratio, 1.2)
    );
    println!(
        "| PgStore load | {} | FileStore load | {} | {:.2}× | — |",
        ms(loads[0]),
        ms(loads[3]),
        ratio(loads[0], loads[3])
    );
    println!();
    let b = bundle.len() as f64;
    let commit_mem = commit_total as f64 / b;
    let read_mem = read_peak as f64 / b;
    println!("| client peak heap | bytes | × bundle | target |");
    println!("| --- | ---: | ---: | --- |");
    println!(
        "| commit: the sealed bundle ({}) + the most the commit allocated ({}) | {} | {commit_mem:.2}× | {} |",
        mib(bundle.len()),
        mib(commit_peak),
        mib(commit_total),
        verdict(commit_mem, 1.5)
    );
    println!(
        "| the backend's read of the latest epoch (the buffer returned, included) | {} | {read_mem:.2}× | {} |",
        mib(read_peak),
        verdict(read_mem, 1.5)
    );
    println!(
        "| PgStore load_latest (bytes + every record decoded for verification) | {} | {:.2}× | — (FileStore's: {}, {:.2}×) |",
        mib(load_peak),
        load_peak as f64 / b,
        mib(file_load_peak),
        file_load_peak as f64 / b
    );
    println!();
    verdicts.push(Verdict {
        name: "PgStore commit ≤ 1.15× chunks inserted in one transaction",
        measured: commit_ratio,
        limit: 1.15,
        note: String::new(),
    });
    verdicts.push(Verdict {
        name: "PgStore load ≤ 1.2× raw select + our verification",
        measured: load_ratio,
        limit: 1.2,
        note: String::new(),
    });
    verdicts.push(Verdict {
        name: "PgStore client peak heap, commit ≤ 1.5× bundle",
        measured: commit_mem,
        limit: 1.5,
        note: String::new(),
    });
    verdicts.push(Verdict {
        name: "PgStore client peak heap, read ≤ 1.5× bundle",
        measured: read_mem,
        limit: 1.5,
        note: String::new(),
    });
}
