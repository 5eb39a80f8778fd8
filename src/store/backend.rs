//! The byte-level contract a storage backend implements: what a
//! [`Store`](super::Store) needs from a file system, a database or an
//! object store, and nothing more.
//!
//! A backend knows nothing of schemas, records or the canon. It keeps, per
//! shard, one small **head** — who may write (the fence), what is latest,
//! which key the shard's bundles are digested with — and the bytes of each
//! published epoch. It must offer two atomic compare-and-swap operations on
//! the head:
//!
//! - [`Backend::claim`]: replace the head only if it is still exactly the one
//!   the caller read (or create it, if the caller read none);
//! - [`Backend::publish`]: make a bundle durable **and** replace the head in
//!   one atomic step, again only if the head is still the one the caller
//!   read.
//!
//! Everything the canon asks of a store — next epoch only, fencing, digest
//! and full verification before anything is handed out, no fallback to an
//! older epoch, keyed shards, restore provenance — is enforced once, by
//! [`Store`](super::Store), on top of these operations. A backend that keeps
//! this page's contract gets all of it; the [`conformance`](super::conformance)
//! suite checks that it does.

use core::fmt;

use crate::format::{DIGEST_LEN, DigestKey};
use crate::ids::{Epoch, Fence, ShardId};

use super::StoreError;

/// Which key a shard's bundles are digested with, without revealing it.
///
/// A shard records its fingerprint at its first claim; a store configured
/// with another key, or with none, is refused before it writes anything
/// (`E-STORE-KEY`), so keyed and unkeyed epochs never mix in one shard.
///
/// ```
/// use caelmor_persist::{DigestKey, KeyFingerprint};
/// let key = DigestKey::from_bytes([7; 32]);
/// let fp = KeyFingerprint::of(Some(&key));
/// assert_ne!(fp, KeyFingerprint::UNKEYED);
/// assert_eq!(KeyFingerprint::parse(&fp.to_string()), Some(fp));
/// assert_eq!(KeyFingerprint::UNKEYED.to_string(), "unkeyed");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyFingerprint(Option<[u8; KeyFingerprint::LEN]>);

impl KeyFingerprint {
    /// Bytes of a keyed fingerprint.
    pub const LEN: usize = 32;

    /// The fingerprint of a shard whose bundles carry a plain digest.
    pub const UNKEYED: KeyFingerprint = KeyFingerprint(None);

    /// The fingerprint of `key` (or [`UNKEYED`](Self::UNKEYED)): a BLAKE3
    /// key derivation of it, from which the key cannot be recovered.
    #[must_use]
    pub fn of(key: Option<&DigestKey>) -> Self {
        Self(key.map(|key| {
            blake3::derive_key(
                "caelmor-persist 2026-12 digest key fingerprint",
                key.secret(),
            )
        }))
    }

    /// The fingerprint's bytes, `None` for an unkeyed shard.
    #[must_use]
    pub fn bytes(&self) -> Option<[u8; Self::LEN]> {
        self.0
    }

    /// Builds a fingerprint from stored bytes (`None`: unkeyed).
    #[must_use]
    pub fn from_bytes(bytes: Option<[u8; Self::LEN]>) -> Self {
        Self(bytes)
    }

    /// Parses what [`Display`](fmt::Display) writes: `unkeyed`, or 64
    /// hex digits.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        if text == "unkeyed" {
            return Some(Self::UNKEYED);
        }
        blake3::Hash::from_hex(text)
            .ok()
            .map(|hash| Self(Some(*hash.as_bytes())))
    }
}

impl fmt::Display for KeyFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            None => f.write_str("unkeyed"),
            Some(fp) => f.write_str(&blake3::Hash::from_bytes(*fp).to_hex()),
        }
    }
}

impl fmt::Debug for KeyFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyFingerprint({self})")
    }
}

/// One published epoch as the head records it: enough to find its bytes
/// and to know them when they are read back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EpochRecord {
    /// The epoch.
    pub epoch: Epoch,
    /// The fence it was sealed and published under.
    pub fence: Fence,
    /// The bundle's length in bytes.
    pub len: u64,
    /// The bundle's closing digest.
    pub digest: [u8; DIGEST_LEN],
}

/// A shard's head: the one small record every commit and claim replaces,
/// atomically, with a compare-and-swap.
///
/// ```
/// use caelmor_persist::{Fence, Head, KeyFingerprint};
/// let first = Head::first(Fence(1), KeyFingerprint::UNKEYED);
/// assert_eq!(first.version, 1);
/// assert!(first.latest.is_none());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Head {
    /// Grows by one with every successful swap; what a backend may compare
    /// in its compare-and-swap (the whole head must match, but the version
    /// alone decides it, since every swap changes it).
    pub version: u64,
    /// The fence of the shard's latest claim.
    pub fence: Fence,
    /// Which key the shard's bundles are digested with.
    pub key: KeyFingerprint,
    /// The latest committed epoch, `None` until the first commit.
    pub latest: Option<EpochRecord>,
}

impl Head {
    /// The head a shard's first claim creates.
    #[must_use]
    pub const fn first(fence: Fence, key: KeyFingerprint) -> Self {
        Self {
            version: 1,
            fence,
            key,
            latest: None,
        }
    }
}

/// The outcome of a compare-and-swap on the head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "a conflict means nothing was written"]
pub enum Swap {
    /// The head was the expected one and now is the new one (and, for a
    /// publish, the bundle is durable under its epoch).
    Done,
    /// The head was not the expected one: nothing was changed. The caller
    /// reads the head again to find out why.
    Conflict,
}

/// An epoch's bytes as a backend holds them: committed, or left behind by a
/// publish that lost its compare-and-swap (a superseded writer, a crash).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StoredEpoch {
    /// The epoch the bytes were published as.
    pub epoch: Epoch,
    /// The fence of the writer that published them.
    pub fence: Fence,
}

/// What a storage backend provides, at the level of bytes. Implement it to
/// put shards somewhere new; wrap it in a [`Store`](super::Store) to use it.
///
/// # The contract
///
/// 1. [`head`](Backend::head) returns the head as last replaced by a
///    successful swap (`None` if the shard has none yet), never an older one.
/// 2. [`claim`](Backend::claim) and [`publish`](Backend::publish) are
///    compare-and-swaps: they replace the head with `next` only if it is
///    exactly `expected` at that moment (`None`: only if there is no head),
///    atomically with respect to every other swap, from any process or
///    host. Otherwise they change nothing visible and return
///    [`Swap::Conflict`].
/// 3. When [`publish`](Backend::publish) returns [`Swap::Done`], the bundle
///    is durable under `(next.latest.epoch, next.latest.fence)` and the new
///    head is durable; when it returns anything else, the head is unchanged.
///    (Bytes of a lost publish may remain; [`list`](Backend::list) may show
///    them, and the store ignores them.)
/// 4. [`read`](Backend::read) returns exactly the bytes published under
///    `(epoch, fence)`, or `None`, and never reads more than `max_len`
///    bytes: a longer stored value is an error, not an allocation.
/// 5. [`remove`](Backend::remove) is asked only for epochs the store no
///    longer needs; it is never asked for the head's latest.
///
/// A backend never decides anything about epochs, fences or keys: it
/// compares heads. A failure is a [`StoreError`] — usually
/// [`StoreError::Io`] or [`StoreError::Backend`].
pub trait Backend: Send {
    /// The shard this backend holds.
    fn shard(&self) -> ShardId;

    /// Where the shard lives, for messages: a directory, a URL without its
    /// password, a bucket.
    fn location(&self) -> String;

    /// Where one epoch's bytes live, for messages (a file's path, a row's
    /// key). The default names the shard's location and the epoch.
    fn location_of(&self, stored: StoredEpoch) -> String {
        format!("{} ({}, {})", self.location(), stored.epoch, stored.fence)
    }

    /// Signals ownership to other would-be owners: "one owner at a time"
    /// (e.g. an OS file lock, a database advisory lock). Liveness only —
    /// safety never depends on it, because every write is fenced — so a
    /// backend without such a signal keeps the default, which does nothing.
    ///
    /// # Errors
    /// [`StoreError::Claimed`] while another owner holds it.
    fn lock(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Makes every swap that [`head`](Backend::head) already shows durable.
    /// Called when a commit is retried after its outcome could not be
    /// reported (e.g. a failed sync after the head moved): the head then
    /// already names the very bundle being committed. Backends whose swaps
    /// are durable when they return keep the default.
    ///
    /// # Errors
    /// When durability cannot be ensured.
    fn settle(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    /// The current head, or `None` for a shard never claimed.
    ///
    /// # Errors
    /// When the head cannot be read or is not in the backend's format.
    fn head(&self) -> Result<Option<Head>, StoreError>;

    /// Replaces the head with `next` if it is `expected` (see the contract).
    ///
    /// # Errors
    /// When the swap cannot be attempted or its outcome is unknown.
    fn claim(&mut self, expected: Option<&Head>, next: &Head) -> Result<Swap, StoreError>;

    /// Makes `bundle` durable as `next.latest` and replaces the head with
    /// `next`, atomically, if the head is `expected` (see the contract).
    ///
    /// # Errors
    /// When the publish cannot be attempted or its outcome is unknown; the
    /// head must then still be `expected` or be `next`, never anything else.
    fn publish(&mut self, expected: &Head, next: &Head, bundle: &[u8]) -> Result<Swap, StoreError>;

    /// The bytes published under `(epoch, fence)`, at most `max_len` of
    /// them, or `None` if there are none.
    ///
    /// # Errors
    /// When they cannot be read, or are longer than `max_len`.
    fn read(&self, stored: StoredEpoch, max_len: u64) -> Result<Option<Vec<u8>>, StoreError>;

    /// Every epoch whose bytes the backend holds, in any order.
    ///
    /// # Errors
    /// When they cannot be listed.
    fn list(&self) -> Result<Vec<StoredEpoch>, StoreError>;

    /// Removes the bytes of an epoch the store no longer keeps.
    ///
    /// # Errors
    /// When they cannot be removed.
    fn remove(&mut self, stored: StoredEpoch) -> Result<(), StoreError>;
}
