//! The BLAKE3 digest that closes every bundle.

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
}

impl fmt::Debug for DigestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DigestKey(<redacted>)")
    }
}

/// The digest of `bytes`, keyed when a key is given.
pub(crate) fn digest(bytes: &[u8], key: Option<&DigestKey>) -> [u8; DIGEST_LEN] {
    let hash = match key {
        Some(k) => blake3::keyed_hash(&k.0, bytes),
        None => blake3::hash(bytes),
    };
    *hash.as_bytes()
}

/// Constant-time comparison of a stored digest with a computed one.
pub(crate) fn digest_matches(stored: &[u8; DIGEST_LEN], computed: &[u8; DIGEST_LEN]) -> bool {
    blake3::Hash::from_bytes(*stored) == blake3::Hash::from_bytes(*computed)
}
