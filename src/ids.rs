//! Identifier newtypes for the five systems, plus the shard and epoch that
//! stamp every bundle.
//!
//! Each id is its own type so that a reference can only name the system it is
//! allowed to name (Stage 21.2 §7): a quest's owner is a [`PlayerId`], never a
//! bare number that might be an NPC's.

use core::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_newtype {
    ($(#[$doc:meta])* $name:ident, $label:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl $name {
            /// The raw number behind the id.
            #[must_use]
            pub const fn get(self) -> u64 {
                self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($label, "#{}"), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($label, "#{}"), self.0)
            }
        }

        impl From<$name> for u64 {
            fn from(id: $name) -> u64 {
                id.0
            }
        }

        impl From<u64> for $name {
            fn from(raw: u64) -> Self {
                Self(raw)
            }
        }
    };
}

id_newtype!(
    /// Identifies one player (Player Identity and PlayerSave, Stage 21.2 §4).
    ///
    /// ```
    /// use caelmor_persist::PlayerId;
    /// assert_eq!(PlayerId(7).to_string(), "player#7");
    /// ```
    PlayerId,
    "player"
);
id_newtype!(
    /// Identifies one zone of the world's structural composition (Stage 21.2 §4).
    ///
    /// ```
    /// use caelmor_persist::ZoneId;
    /// assert_eq!(ZoneId(3).get(), 3);
    /// ```
    ZoneId,
    "zone"
);
id_newtype!(
    /// Identifies one NPC's persisted state.
    ///
    /// ```
    /// use caelmor_persist::NpcId;
    /// assert_eq!(format!("{:?}", NpcId(12)), "npc#12");
    /// ```
    NpcId,
    "npc"
);
id_newtype!(
    /// Identifies one item instance (not its template).
    ///
    /// ```
    /// use caelmor_persist::ItemId;
    /// assert!(ItemId(1) < ItemId(2));
    /// ```
    ItemId,
    "item"
);
id_newtype!(
    /// Identifies one player-owned quest state.
    ///
    /// ```
    /// use caelmor_persist::QuestId;
    /// assert_eq!(QuestId::from(9), QuestId(9));
    /// ```
    QuestId,
    "quest"
);
id_newtype!(
    /// Identifies the shard (one world instance) a bundle belongs to.
    ///
    /// A store holds the bundles of exactly one shard and refuses any other.
    ///
    /// ```
    /// use caelmor_persist::ShardId;
    /// assert_eq!(ShardId(1).to_string(), "shard#1");
    /// ```
    ShardId,
    "shard"
);

id_newtype!(
    /// The point in time a bundle captures: the n-th committed save of a shard.
    ///
    /// Epochs start at 1 and each commit must carry exactly the next one, so a
    /// store never goes back in time (Stage 21.0: no rollback via persistence).
    /// Every section of a bundle is stamped with the bundle's epoch; sections
    /// from different epochs are rejected as mixed-epoch state.
    ///
    /// ```
    /// use caelmor_persist::Epoch;
    /// assert_eq!(Epoch::FIRST.next(), Some(Epoch(2)));
    /// assert_eq!(Epoch(u64::MAX).next(), None);
    /// ```
    Epoch,
    "epoch"
);

impl Epoch {
    /// The epoch of a shard's first commit.
    pub const FIRST: Epoch = Epoch(1);

    /// The epoch after this one, or `None` if the counter is exhausted.
    #[must_use]
    pub const fn next(self) -> Option<Epoch> {
        match self.0.checked_add(1) {
            Some(n) => Some(Epoch(n)),
            None => None,
        }
    }

    /// The epoch the next commit must carry when `latest` is the latest one
    /// committed ([`Epoch::FIRST`] for none), or `None` when the counter is
    /// exhausted.
    ///
    /// ```
    /// use caelmor_persist::Epoch;
    /// assert_eq!(Epoch::after(None), Some(Epoch::FIRST));
    /// assert_eq!(Epoch::after(Some(Epoch(4))), Some(Epoch(5)));
    /// assert_eq!(Epoch::after(Some(Epoch(u64::MAX))), None);
    /// ```
    #[must_use]
    pub const fn after(latest: Option<Epoch>) -> Option<Epoch> {
        match latest {
            None => Some(Epoch::FIRST),
            Some(latest) => latest.next(),
        }
    }
}

id_newtype!(
    /// A store's fencing token: it grows by one with every claim of the shard.
    ///
    /// A [`ServerAuthority`](crate::ServerAuthority) carries the fence it was
    /// minted with, and every bundle records the fence it was sealed under. A
    /// store refuses a commit whose fence is not its current one, so a server
    /// that lost its claim (a stale process, a paused VM) cannot overwrite the
    /// truth written by its successor (Stage 21.2 §9.6, server authority).
    ///
    /// ```
    /// use caelmor_persist::Fence;
    /// assert!(Fence(2) > Fence(1));
    /// ```
    Fence,
    "fence"
);

impl Fence {
    /// The fence after this one, or `None` if the counter is exhausted.
    ///
    /// ```
    /// use caelmor_persist::Fence;
    /// assert_eq!(Fence(1).next(), Some(Fence(2)));
    /// assert_eq!(Fence(u64::MAX).next(), None);
    /// ```
    #[must_use]
    pub const fn next(self) -> Option<Fence> {
        match self.0.checked_add(1) {
            Some(n) => Some(Fence(n)),
            None => None,
        }
    }
}
