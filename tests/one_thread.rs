//! With `Threads::One` no thread is started: not by a seal, a commit, a
//! store's load, a restore or `verify` (issue 14: a server that wants both
//! cores, or runs its own pool, keeps the crate on the calling thread).
//!
//! The crate's second thread is named `caelmor-persist`. A watcher reads
//! the names of this process's threads from `/proc/self/task` while the
//! work runs, so this file holds a single test: no other test's threads
//! can be in the process. The same watcher must see the thread when the
//! setting is `Threads::Two` — otherwise it could be blind, and "not seen"
//! would prove nothing.
#![cfg(all(feature = "reference", target_os = "linux"))]

mod common;

use std::collections::BTreeSet;
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, Ordering};

use caelmor_persist::reference::{Reference, ShardSpec};
use caelmor_persist::{MemBackend, Store, StoreConfig, Threads, VerifyOptions, verify, verify_as};
use common::{SHARD, restore, save};

/// This process's threads: id → name.
fn threads_now() -> Vec<(String, String)> {
    let mut threads = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").expect("procfs is mounted") {
        let Ok(task) = task else { continue };
        // A thread may end between the listing and the read.
        if let Ok(name) = std::fs::read_to_string(task.path().join("comm")) {
            let id = task.file_name().to_string_lossy().into_owned();
            threads.push((id, name.trim_end().to_owned()));
        }
    }
    threads
}

/// The names of the threads that were not in this process when `work`
/// began, seen at any moment while it ran.
fn threads_started_during(work: impl FnOnce()) -> BTreeSet<String> {
    let ready = Barrier::new(2);
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            // Every thread there before the work — this one, the test's,
            // the harness's — is left out.
            let before: BTreeSet<String> = threads_now().into_iter().map(|(id, _)| id).collect();
            ready.wait();
            let mut seen = BTreeSet::new();
            let mut last = false;
            loop {
                let finished = done.load(Ordering::Acquire);
                for (id, name) in threads_now() {
                    if !before.contains(&id) {
                        seen.insert(name);
                    }
                }
                // One more look once the work is done.
                if last {
                    return seen;
                }
                last = finished;
            }
        });
        ready.wait();
        work();
        done.store(true, Ordering::Release);
        watcher.join().expect("the watcher does not panic")
    })
}

/// Everything a server does with a shard, on `threads`: seal and commit
/// twice, load the latest, restore and activate it, verify and typed-verify
/// the bundle.
fn a_server_on(threads: Threads) {
    let shard = ShardSpec::medium().generate(7);
    let config = StoreConfig::new().threads(threads);
    let mut store = Store::<Reference, _>::with_backend(MemBackend::new(SHARD), config);
    let authority = store.claim().expect("a fresh MemStore claims");
    let mut bytes = Vec::new();
    for _ in 0..2 {
        let sealed = save(&shard, &authority).expect("the generator's shards are consistent");
        bytes = sealed.bytes().to_vec();
        store
            .commit(sealed, &authority)
            .expect("the next epoch commits");
    }
    let loaded = store.load_latest().expect("it loads").expect("two epochs");
    assert_eq!(
        restore(loaded, &authority).expect("its own authority"),
        shard
    );
    let options = VerifyOptions::new().threads(threads);
    verify(&bytes, &options).expect("a committed bundle verifies");
    verify_as::<Reference>(&bytes, &options).expect("and opens");
}

#[test]
fn one_thread_starts_no_thread_and_two_threads_are_seen() {
    let on_two = threads_started_during(|| a_server_on(Threads::Two));
    assert!(
        on_two.contains("caelmor-persist"),
        "the watcher must see the second thread of Threads::Two (saw {on_two:?})"
    );
    let on_one = threads_started_during(|| a_server_on(Threads::One));
    assert!(
        on_one.is_empty(),
        "Threads::One started threads: {on_one:?}"
    );
}
