//! Criterion benches of issue 5: seal, open (now the store's load: verify
//! and typed decode), activation, FileStore commit and the full cycle on
//! reference shards, each in a group with its baselines (raw postcard,
//! memcpy, write + fsync, serde_json, SQLite).
//!
//! `cargo bench` runs the small and medium shards; set
//! `CAELMOR_BENCH_LARGE=1` to add the large one (10,000 players, 1,000,000
//! items — minutes, not seconds). The one-process table with ratios and
//! memory is `cargo run --release --example bench_report`.

#[path = "support/mod.rs"]
mod support;

use std::hint::black_box;
use std::time::Duration;

use caelmor_persist::reference::ShardSpec;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

fn sizes() -> Vec<(&'static str, ShardSpec)> {
    let mut sizes = vec![
        ("small", ShardSpec::small()),
        ("medium", ShardSpec::medium()),
    ];
    if std::env::var_os("CAELMOR_BENCH_LARGE").is_some() {
        sizes.push(("large", ShardSpec::large()));
    }
    sizes
}

fn benches(c: &mut Criterion) {
    let dir = tempfile::Builder::new()
        .prefix("caelmor-criterion-")
        .tempdir()
        .expect("temp dir");
    for (name, spec) in sizes() {
        let shard = support::shard(spec);
        let records = shard.record_count() as u64;
        let authority = support::mem_authority();
        let bundle = support::seal(&authority, &shard).into_bytes();
        let raw = support::raw_encode(&shard);

        let mut g = c.benchmark_group(format!("seal/{name}"));
        g.throughput(Throughput::Elements(records));
        g.bench_function("caelmor seal", |b| {
            b.iter(|| support::seal(&authority, black_box(&shard)));
        });
        g.bench_function("raw postcard encode", |b| {
            b.iter(|| support::raw_encode(black_box(&shard)));
        });
        g.finish();

        let (mem, mem_authority) = support::mem_store(&shard);
        let mut g = c.benchmark_group(format!("open/{name}"));
        g.throughput(Throughput::Elements(records));
        g.bench_function("caelmor load (copy + verify + typed decode)", |b| {
            b.iter_with_large_drop(|| support::load(&mem));
        });
        g.bench_function("raw postcard decode", |b| {
            b.iter(|| support::raw_decode(black_box(&raw)));
        });
        g.finish();

        let mut g = c.benchmark_group(format!("activation/{name}"));
        g.bench_function("caelmor open + steps + activate", |b| {
            b.iter_batched(
                || support::load(&mem),
                |loaded| support::restore(loaded, &mem_authority),
                BatchSize::LargeInput,
            );
        });
        g.bench_function("memcpy of the bundle", |b| {
            let mut out = vec![0; bundle.len()];
            b.iter(|| support::memcpy(black_box(&bundle), &mut out));
        });
        g.finish();

        let root = dir.path().join(name);
        let (mut store, store_auth) = support::file_store(&root.join("store"));
        let mut g = c.benchmark_group(format!("commit/{name}"));
        g.throughput(Throughput::Bytes(bundle.len() as u64));
        g.bench_function("caelmor FileStore commit", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let sealed = support::seal(&store_auth, &shard);
                    let t = std::time::Instant::now();
                    store.commit(sealed, &store_auth).expect("commit");
                    total += t.elapsed();
                }
                total
            });
        });
        let mut n = 0;
        g.bench_function("write + fsync", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    n += 1;
                    let path = support::scratch_path(&root, "plain", n);
                    let t = std::time::Instant::now();
                    support::write_fsync(&path, &bundle);
                    total += t.elapsed();
                    support::remove(&path);
                }
                total
            });
        });
        let by_hand = root.join("by-hand");
        std::fs::create_dir_all(&by_hand).expect("create dir");
        let mut m = 0;
        g.bench_function("same I/O sequence by hand", |b| {
            b.iter(|| {
                support::atomic_replace(&by_hand, m, &bundle);
                m += 1;
            });
        });
        g.finish();

        let json = root.join("shard.json");
        let mut conn = support::sqlite_open(&root.join("shard.sqlite"));
        let mut g = c.benchmark_group(format!("cycle/{name}"));
        g.throughput(Throughput::Elements(records));
        g.bench_function("caelmor seal + commit + load + open + activate", |b| {
            b.iter(|| {
                let sealed = support::seal(&store_auth, &shard);
                store.commit(sealed, &store_auth).expect("commit");
                let loaded = store.load_latest().expect("load").expect("committed");
                support::restore(loaded, &store_auth)
            });
        });
        g.bench_function("serde_json file save + load", |b| {
            b.iter(|| {
                support::json_save(&json, &shard);
                support::json_load(&json)
            });
        });
        g.bench_function("sqlite one transaction save + load", |b| {
            b.iter(|| {
                support::sqlite_save(&mut conn, &shard);
                support::sqlite_load(&conn)
            });
        });
        g.finish();
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = persist;
    config = config();
    targets = benches
}
criterion_main!(persist);
