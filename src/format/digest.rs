//! The BLAKE3 digest that closes every bundle.

use crate::parallel::Threads;
use core::fmt;

/// The length of the digest that closes a bundle.
pub const DIGEST_LEN: usize = 32;

/// A 32-byte secret that turns the bundle digest into a keyed BLAKE3 MAC.
///
/// Without a key, the digest detects damage but not a deliberate edit: anyone
/// can recompute it. With a key configured on the store, a bundle edited
/// outside the server is rejected with `E-DIGEST` (Stage 21.0: no
/// client-influenced state). A bundle sealed under one key is rejected under
/// another key and under none, and the reverse.
///
/// ```
/// use caelmor_persist::DigestKey;
/// let key = DigestKey::from_bytes([7; 32]);
/// assert_eq!(format!("{key:?}"), "DigestKey(<redacted>)");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct DigestKey([u8; 32]);

impl DigestKey {
    /// Wraps 32 secret bytes.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The secret, for keyed hashing and fingerprints inside the crate.
    pub(crate) fn secret(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for DigestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DigestKey(<redacted>)")
    }
}

/// Inputs at least this long are hashed on two threads: below it, one
/// thread finishes before a second one would have started.
const TWO_THREADS_FROM: usize = 1 << 20;

/// The digest of `bytes`, keyed when a key is given.
///
/// Large inputs are hashed on two cores unless `threads` says one: BLAKE3 is a tree, so the left
/// subtree (the largest power-of-two number of chunks that leaves some input
/// for the right) and the rest are hashed independently and joined at the
/// root, giving exactly `blake3::hash` / `blake3::keyed_hash` of the whole.
pub(crate) fn digest(bytes: &[u8], key: Option<&DigestKey>, threads: Threads) -> [u8; DIGEST_LEN] {
    if threads == Threads::Two && bytes.len() >= TWO_THREADS_FROM {
        return digest_two_threads(bytes, key);
    }
    let hash = match key {
        Some(k) => blake3::keyed_hash(&k.0, bytes),
        None => blake3::hash(bytes),
    };
    *hash.as_bytes()
}

/// [`digest`] of an input longer than one chunk, on two threads.
fn digest_two_threads(bytes: &[u8], key: Option<&DigestKey>) -> [u8; DIGEST_LEN] {
    use blake3::hazmat::{HasherExt, Mode, left_subtree_len, merge_subtrees_root};

    let hasher = || match key {
        Some(k) => blake3::Hasher::new_keyed(&k.0),
        None => blake3::Hasher::new(),
    };
    // The left subtree is never longer than the input, so it fits a usize.
    let split = usize::try_from(left_subtree_len(bytes.len() as u64)).unwrap_or(bytes.len());
    let (left, right) = bytes.split_at(split);
    let (right_cv, left_cv) = crate::parallel::join(
        Threads::Two,
        || {
            hasher()
                .set_input_offset(split as u64)
                .update(right)
                .finalize_non_root()
        },
        || hasher().update(left).finalize_non_root(),
    );
    let mode = match key {
        Some(k) => Mode::KeyedHash(&k.0),
        None => Mode::Hash,
    };
    *merge_subtrees_root(&left_cv, &right_cv, mode).as_bytes()
}

/// Constant-time comparison of a stored digest with a computed one.
pub(crate) fn digest_matches(stored: &[u8; DIGEST_LEN], computed: &[u8; DIGEST_LEN]) -> bool {
    blake3::Hash::from_bytes(*stored) == blake3::Hash::from_bytes(*computed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_threads_give_the_one_thread_digest() {
        let key = DigestKey::from_bytes([9; 32]);
        let data: Vec<u8> = (0..(5usize << 20) + 77)
            .map(|i| (i * 31 % 251) as u8)
            .collect();
        for len in [
            TWO_THREADS_FROM,
            TWO_THREADS_FROM + 1,
            TWO_THREADS_FROM + blake3::CHUNK_LEN,
            3 * TWO_THREADS_FROM - 5,
            4 * TWO_THREADS_FROM,
            data.len(),
        ] {
            let input = &data[..len];
            assert_eq!(
                digest_two_threads(input, None),
                *blake3::hash(input).as_bytes(),
                "{len}"
            );
            assert_eq!(
                digest_two_threads(input, Some(&key)),
                *blake3::keyed_hash(&key.0, input).as_bytes(),
                "{len} keyed"
            );
            for threads in [Threads::One, Threads::Two] {
                assert_eq!(
                    digest(input, Some(&key), threads),
                    *blake3::keyed_hash(&key.0, input).as_bytes()
                );
            }
        }
    }
}
