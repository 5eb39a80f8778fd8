//! Two pieces of work on the machine's two cores — or on one, if the
//! server says so.
//!
//! Sealing and opening a large shard have independent parts — the halves
//! of the digest, one section's records and the rest of the bundle — and a
//! game server usually has a core to spare for a save. This is the crate's
//! one way of using it: a scoped thread, so that the work can borrow the
//! records and the bundle, and the same answer whether or not the second
//! thread could be started. [`Threads::One`] keeps all of it on the calling
//! thread.

/// How many threads sealing, verifying and opening a bundle may use.
///
/// With [`Threads::Two`] (the default), a seal, a store's load and
/// [`verify`](crate::verify) start one short-lived scoped thread for the
/// large parts of a large bundle: the digest of a bundle of 1 MiB or more, a
/// section of 4,096 records or more while it is encoded, the item section
/// of 256 KiB or more while it is decoded. Smaller bundles never start one.
/// With [`Threads::One`] nothing is started, ever: a server that wants both
/// cores for its game loop, or runs its own pool and calls the crate from
/// it, keeps the crate on the thread that calls it.
///
/// The choice changes the time only: the bytes sealed, the records loaded,
/// and every rejection — which one, and in which order — are the same on
/// one thread as on two (tests/threads.rs holds them to it, and checks that
/// no thread is started).
///
/// **Cost**, measured by the bench report (`cargo run --release --example
/// bench_report --features reference`, BENCHMARKS.md) on the large
/// reference shard (1.3 M records, 28.8 MiB) on a 2-core VM, two runs: one
/// thread seals in 1.4–1.5× the time of two, and a store's load takes
/// 1.6–1.8× as long. A bundle below the thresholds costs the same either
/// way.
///
/// Set it for a store's seals and loads with
/// [`StoreConfig::threads`](crate::StoreConfig::threads) (the authority the
/// store mints carries it to every [`Save`](crate::Save) it begins), and for
/// [`verify`](crate::verify) with
/// [`VerifyOptions::threads`](crate::VerifyOptions::threads):
///
/// ```
/// use caelmor_persist::{StoreConfig, Threads, VerifyOptions};
///
/// let config = StoreConfig::new().threads(Threads::One);
/// assert_eq!(config.threads_used(), Threads::One);
/// let options = VerifyOptions::new().threads(Threads::One);
/// # let _ = options;
/// assert_eq!(StoreConfig::new().threads_used(), Threads::Two);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Threads {
    /// The calling thread only: no thread is ever started.
    One,
    /// The calling thread and, for the large parts of a large bundle, one
    /// scoped thread that ends before the call returns.
    #[default]
    Two,
}

/// Runs `side` on a second thread while `here` runs on this one, and
/// returns both results; with [`Threads::One`], runs both here, `side`
/// first.
///
/// `side` is `Fn + Sync` rather than `FnOnce + Send` so that, if no thread
/// can be started, it is still here to be run on this one: the answer never
/// depends on whether a second thread was available, only the time does.
/// A panic in `side` resumes on the caller's thread.
pub(crate) fn join<A: Send, B>(
    threads: Threads,
    side: impl Fn() -> A + Sync,
    here: impl FnOnce() -> B,
) -> (A, B) {
    if threads == Threads::One {
        return (side(), here());
    }
    let side = &side;
    std::thread::scope(|scope| {
        match std::thread::Builder::new()
            .name("caelmor-persist".into())
            .spawn_scoped(scope, side)
        {
            Ok(handle) => {
                let b = here();
                match handle.join() {
                    Ok(a) => (a, b),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            Err(_) => (side(), here()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_results_come_back_in_their_places() {
        let data: Vec<u64> = (0..10_000).collect();
        let (a, b) = join(
            Threads::Two,
            || data[..5_000].iter().sum::<u64>(),
            || data[5_000..].iter().sum::<u64>(),
        );
        assert_eq!(a + b, data.iter().sum::<u64>());
        assert_eq!(a, (0..5_000).sum::<u64>());
    }

    #[test]
    fn one_thread_runs_both_here_side_first() {
        let here = std::thread::current().id();
        let order = std::sync::Mutex::new(Vec::new());
        let (a, b) = join(
            Threads::One,
            || {
                order.lock().unwrap().push("side");
                std::thread::current().id()
            },
            || {
                order.lock().unwrap().push("here");
                std::thread::current().id()
            },
        );
        assert_eq!((a, b), (here, here));
        assert_eq!(*order.lock().unwrap(), ["side", "here"]);
    }

    #[test]
    fn two_threads_run_the_side_elsewhere() {
        let here = std::thread::current().id();
        let (a, b) = join(
            Threads::Two,
            || std::thread::current().id(),
            || std::thread::current().id(),
        );
        assert_eq!(b, here);
        assert_ne!(a, here);
    }

    #[test]
    fn a_panic_on_the_second_thread_reaches_the_caller() {
        let caught = std::panic::catch_unwind(|| join(Threads::Two, || panic!("side"), || 1));
        assert!(caught.is_err());
    }
}
