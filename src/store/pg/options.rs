//! How a [`PgBackend`](super::PgBackend) uses its server: timeouts, the
//! owner lock, the keepalives; and what the server says of the owner's
//! session.

use std::time::Duration;

#[cfg(doc)]
use super::PgBackend;
#[cfg(doc)]
use crate::store::Store;

/// TCP keepalive settings, applied on both ends of both connections: the
/// client's (so that the owner notices a dead network) and the server's,
/// sent as session settings (so that the server drops a vanished owner's
/// session, and with it its advisory lock and any row lock, in seconds
/// instead of the kernel's two hours).
///
/// The defaults are the ones measured in `docs/postgres-notes.md`: a
/// silently partitioned owner loses its lock after about 3 s.
///
/// ```
/// use caelmor_persist::Keepalives;
/// use std::time::Duration;
/// let k = Keepalives::default();
/// assert_eq!(k.idle, Duration::from_secs(2));
/// assert_eq!(k.user_timeout, Duration::from_secs(3));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keepalives {
    /// Idle time before the first probe (`tcp_keepalives_idle`, whole
    /// seconds on the server).
    pub idle: Duration,
    /// Time between probes (`tcp_keepalives_interval`, whole seconds).
    pub interval: Duration,
    /// Unanswered probes before the connection is dropped
    /// (`tcp_keepalives_count`).
    pub retries: u32,
    /// How long sent data may stay unacknowledged (`tcp_user_timeout`):
    /// keepalives are not sent while data is in flight, so this is what ends
    /// a connection partitioned in the middle of an exchange.
    pub user_timeout: Duration,
}

impl Default for Keepalives {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(2),
            interval: Duration::from_secs(1),
            retries: 2,
            user_timeout: Duration::from_secs(3),
        }
    }
}

/// How a [`PgBackend`] uses its server: timeouts, the owner lock and the
/// keepalives.
///
/// ```
/// use caelmor_persist::PgOptions;
/// use std::time::Duration;
/// let options = PgOptions::new().lock_timeout(Duration::from_secs(30));
/// assert_eq!(options.lock_timeout_value(), Duration::from_secs(30));
/// assert!(PgOptions::new().has_owner_lock());
/// ```
#[derive(Clone, Debug)]
pub struct PgOptions {
    pub(super) lock_timeout: Duration,
    pub(super) idle_in_transaction_timeout: Duration,
    pub(super) owner_lock: bool,
    pub(super) keepalives: Keepalives,
    pub(super) create_tables: bool,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            lock_timeout: Duration::from_secs(15),
            idle_in_transaction_timeout: Duration::from_secs(10),
            owner_lock: true,
            keepalives: Keepalives::default(),
            create_tables: true,
        }
    }
}

impl PgOptions {
    /// The defaults: a 15 s lock timeout, a 10 s idle-in-transaction
    /// timeout, the owner lock, [`Keepalives::default`].
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// How long a claim, a commit or the settling of an ambiguous `COMMIT`
    /// waits for a row lock on the shard's head (`lock_timeout`) before it
    /// fails. A commit in flight holds that lock for its whole transaction,
    /// so keep this longer than the largest commit takes, and longer than
    /// the idle-in-transaction timeout.
    #[must_use]
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// How long the server keeps this backend's session when it sits inside
    /// a transaction without sending anything
    /// (`idle_in_transaction_session_timeout`): a frozen or partitioned
    /// writer then releases the head's row lock, so that the next owner's
    /// claim is not blocked behind it.
    #[must_use]
    pub fn idle_in_transaction_timeout(mut self, timeout: Duration) -> Self {
        self.idle_in_transaction_timeout = timeout;
        self
    }

    /// Whether [`Store::claim`] takes the owner lock (default: yes). Without
    /// it, nothing says "one owner at a time": two servers claiming the same
    /// shard supersede each other claim after claim. Safety does not change
    /// — every write is fenced — so turn it off only where session
    /// advisory locks cannot work (a transaction-pooling proxy), with
    /// another way to elect the owner.
    #[must_use]
    pub fn owner_lock(mut self, enabled: bool) -> Self {
        self.owner_lock = enabled;
        self
    }

    /// The keepalive settings of both connections.
    #[must_use]
    pub fn keepalives(mut self, keepalives: Keepalives) -> Self {
        self.keepalives = keepalives;
        self
    }

    /// Whether `connect` creates the tables when they are absent (default:
    /// yes). Off, a database without them is refused with
    /// [`PgError::NoTables`](super::PgError::NoTables) and nothing is
    /// written: for read-only tools, and for roles without `CREATE`.
    #[must_use]
    pub fn create_tables(mut self, create: bool) -> Self {
        self.create_tables = create;
        self
    }

    /// The configured lock timeout.
    #[must_use]
    pub fn lock_timeout_value(&self) -> Duration {
        self.lock_timeout
    }

    /// Whether claims take the owner lock.
    #[must_use]
    pub fn has_owner_lock(&self) -> bool {
        self.owner_lock
    }
}

/// The server session that holds a [`PgBackend`]'s owner lock, as the
/// server sees it: to find the owner in `pg_stat_activity` (failover by
/// hand) and to check that a deployment's proxy did not drop the keepalive
/// settings.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OwnerSession {
    /// The server process id (`pg_backend_pid()`).
    pub pid: i32,
    /// `current_setting('tcp_keepalives_idle')` (`0` over a unix socket).
    pub tcp_keepalives_idle: String,
    /// `current_setting('tcp_keepalives_interval')`.
    pub tcp_keepalives_interval: String,
    /// `current_setting('tcp_keepalives_count')`.
    pub tcp_keepalives_count: String,
    /// `current_setting('tcp_user_timeout')`.
    pub tcp_user_timeout: String,
    /// `current_setting('idle_session_timeout')`: `0`, so that a live owner
    /// idle between saves keeps its lock whatever the server's default.
    pub idle_session_timeout: String,
}
