//! Two pieces of work on the machine's two cores.
//!
//! Sealing and opening a large shard have independent parts — the halves
//! of the digest, one section's records and the rest of the bundle — and a
//! game server usually has a core to spare for a save. This is the crate's
//! one way of using it: a scoped thread, so that the work can borrow the
//! records and the bundle, and the same answer whether or not the second
//! thread could be started.

/// Runs `side` on a second thread while `here` runs on this one, and
/// returns both results.
///
/// `side` is `Fn + Sync` rather than `FnOnce + Send` so that, if no thread
/// can be started, it is still here to be run on this one: the answer never
/// depends on whether a second thread was available, only the time does.
/// A panic in `side` resumes on the caller's thread.
pub(crate) fn join<A: Send, B>(side: impl Fn() -> A + Sync, here: impl FnOnce() -> B) -> (A, B) {
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
            || data[..5_000].iter().sum::<u64>(),
            || data[5_000..].iter().sum::<u64>(),
        );
        assert_eq!(a + b, data.iter().sum::<u64>());
        assert_eq!(a, (0..5_000).sum::<u64>());
    }

    #[test]
    fn a_panic_on_the_second_thread_reaches_the_caller() {
        let caught = std::panic::catch_unwind(|| join(|| panic!("side"), || 1));
        assert!(caught.is_err());
    }
}
