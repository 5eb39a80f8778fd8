//! The PostgreSQL backend (feature `postgres`): shards that several hosts
//! can reach, one owner at a time, fenced.
//!
//! See [`PgStore`] for what an integrator uses and
//! `docs/deployment.md` for how to run it.

mod error;
mod sql;

pub use error::PgError;

use core::fmt;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator as _;
use postgres::types::ToSql;
use postgres::{Client, Config, IsolationLevel, NoTls, Row, Statement};

use super::backend::{Backend, EpochRecord, Head, KeyFingerprint, StoredEpoch, Swap};
use super::{Store, StoreConfig, StoreError};
use crate::format::DIGEST_LEN;
use crate::ids::{Epoch, Fence, ShardId};
use crate::schema::Schema;

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
    lock_timeout: Duration,
    idle_in_transaction_timeout: Duration,
    owner_lock: bool,
    keepalives: Keepalives,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            lock_timeout: Duration::from_secs(15),
            idle_in_transaction_timeout: Duration::from_secs(10),
            owner_lock: true,
            keepalives: Keepalives::default(),
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

/// The prepared statements of one connection.
struct Statements {
    select_head: Statement,
    insert_head: Statement,
    swap_head: Statement,
    insert_epoch: Statement,
    insert_chunk: Statement,
    select_epoch: Statement,
    select_chunks: Statement,
    list: Statement,
    remove: Statement,
}

/// The working connection and its statements.
struct Conn {
    client: Client,
    st: Statements,
}

impl Conn {
    /// A new session: connected, durable commits ensured.
    fn session(config: &Config) -> Result<Client, postgres::Error> {
        let mut client = config.connect(NoTls)?;
        // A commit must be durable when it returns: a server (or database)
        // configured with `synchronous_commit = off` would acknowledge
        // commits that a crash then loses. Any other value flushes locally.
        let sync: String = client
            .query_one("SELECT current_setting('synchronous_commit')", &[])?
            .get(0);
        if sync == "off" {
            client.batch_execute("SET synchronous_commit = on")?;
        }
        Ok(client)
    }

    fn open(config: &Config) -> Result<Conn, postgres::Error> {
        Self::prepare(Self::session(config)?)
    }

    fn prepare(mut client: Client) -> Result<Conn, postgres::Error> {
        let st = Statements {
            select_head: client.prepare(sql::SELECT_HEAD)?,
            insert_head: client.prepare(sql::INSERT_HEAD)?,
            swap_head: client.prepare(sql::SWAP_HEAD)?,
            insert_epoch: client.prepare(sql::INSERT_EPOCH)?,
            insert_chunk: client.prepare(sql::INSERT_CHUNK)?,
            select_epoch: client.prepare(sql::SELECT_EPOCH)?,
            select_chunks: client.prepare(sql::SELECT_CHUNKS)?,
            list: client.prepare(sql::LIST)?,
            remove: client.prepare(sql::REMOVE)?,
        };
        Ok(Conn { client, st })
    }
}

/// The head as statement parameters.
struct HeadParams {
    version: i64,
    fence: i64,
    key: Vec<u8>,
    epoch: Option<i64>,
    epoch_fence: Option<i64>,
    len: Option<i64>,
    digest: Option<Vec<u8>>,
}

/// A counter as `int8`: beyond `i64::MAX` the shard is exhausted here,
/// although the store's own counters go further.
fn int8(value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Exhausted)
}

impl HeadParams {
    fn of(head: &Head) -> Result<Self, StoreError> {
        Ok(Self {
            version: int8(head.version)?,
            fence: int8(head.fence.0)?,
            key: head.key.bytes().map(Vec::from).unwrap_or_default(),
            epoch: head.latest.map(|l| int8(l.epoch.0)).transpose()?,
            epoch_fence: head.latest.map(|l| int8(l.fence.0)).transpose()?,
            len: head.latest.map(|l| int8(l.len)).transpose()?,
            digest: head.latest.map(|l| l.digest.to_vec()),
        })
    }

    /// The seven columns, in the statements' order.
    fn columns(&self) -> [&(dyn ToSql + Sync); 7] {
        [
            &self.version,
            &self.fence,
            &self.key,
            &self.epoch,
            &self.epoch_fence,
            &self.len,
            &self.digest,
        ]
    }
}

/// A shard in a PostgreSQL database: the [`Backend`] behind [`PgStore`].
///
/// It keeps two connections: one for every read and write, reopened when it
/// breaks, and — once [`Store::claim`] asked for it — one that only holds
/// the shard's owner lock (`pg_try_advisory_lock`), with short keepalives on
/// both ends so that the server frees the lock within seconds when the owner
/// vanishes. Dropping the backend closes both, which frees the lock.
///
/// What it stores, per shard: one row in `caelmor_head` (the head), one in
/// `caelmor_epochs` per committed epoch, and its bundle as 1 MiB rows in
/// `caelmor_chunks` (`STORAGE EXTERNAL`). The tables are created if absent.
///
/// - **Claim**: `INSERT … ON CONFLICT DO NOTHING` for the shard's first
///   head, else an `UPDATE` whose `WHERE` is the whole head the caller read;
///   0 rows is [`Swap::Conflict`].
/// - **Publish**: one transaction whose first statement is that `UPDATE`
///   (0 rows: rolled back, a conflict), then the epoch's row and its
///   chunks, then `COMMIT`. An error from `COMMIT` is ambiguous (the server
///   may have committed and lost only the answer), so it is settled on a
///   new connection that first waits for the head's row lock — every
///   transaction that could still commit has then ended — and compares the
///   epoch's recorded digest with the bundle's. Committed: success.
///   Certainly not committed: [`PgError::NotCommitted`]. Unknown (no
///   connection): [`PgError::CommitUnknown`]; retrying the commit with the
///   same bundle then settles it through the store.
/// - **Read**: the epoch's row and its chunks in one snapshot, the chunks
///   streamed into one buffer of the recorded length. Nothing longer than
///   the caller's bound is read; a chunk out of sequence, missing, extra or
///   of the wrong length is `E-STORE-DAMAGED`, never skipped.
pub struct PgBackend {
    shard: ShardId,
    /// The shard id as `int8`.
    key: i64,
    /// The working connection's configuration.
    config: Config,
    /// The owner lock connection's configuration.
    lock_config: Config,
    location: String,
    options: PgOptions,
    /// The advisory lock key of this shard in this schema.
    owner_key: i64,
    conn: Mutex<Option<Conn>>,
    lock: Mutex<Option<Client>>,
}

impl fmt::Debug for PgBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgBackend")
            .field("shard", &self.shard)
            .field("location", &self.location)
            .field("options", &self.options)
            .field("locked", &self.is_locked())
            .finish_non_exhaustive()
    }
}

/// Takes a mutex whose holder panicked: the value is dropped (a connection
/// may be in the middle of a transaction), and reopened on next use.
fn relock<T>(m: &Mutex<Option<T>>) -> MutexGuard<'_, Option<T>> {
    match m.lock() {
        Ok(guard) => guard,
        Err(poisoned) => {
            let mut guard = poisoned.into_inner();
            *guard = None;
            m.clear_poison();
            guard
        }
    }
}

/// `url` without its password: host(s), port(s), user and database.
fn location_of(config: &Config) -> String {
    use postgres::config::Host;
    let ports = config.get_ports();
    let port = |i: usize| ports.get(i).or(ports.first()).copied().unwrap_or(5432);
    let mut tcp = Vec::new();
    let mut sockets = Vec::new();
    for (i, host) in config.get_hosts().iter().enumerate() {
        match host {
            Host::Tcp(h) if h.contains(':') => tcp.push(format!("[{h}]:{}", port(i))),
            Host::Tcp(h) => tcp.push(format!("{h}:{}", port(i))),
            Host::Unix(p) => sockets.push(format!("{}:{}", p.display(), port(i))),
        }
    }
    if tcp.is_empty() {
        for (i, addr) in config.get_hostaddrs().iter().enumerate() {
            tcp.push(format!("{addr}:{}", port(i)));
        }
    }
    let user = config
        .get_user()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    let db = config.get_dbname().unwrap_or("");
    let mut out = format!("postgresql://{user}{}/{db}", tcp.join(","));
    if !sockets.is_empty() {
        out.push_str("?host=");
        out.push_str(&sockets.join(","));
    }
    out
}

fn secs(d: Duration) -> u64 {
    d.as_secs().max(1)
}

fn millis(d: Duration) -> u128 {
    d.as_millis().max(1)
}

/// A blake3-derived advisory lock key: a crate-specific name space, so that
/// other users of the database's advisory locks do not collide with ours.
fn advisory_key(context: &str, parts: &[&[u8]]) -> i64 {
    let mut h = blake3::Hasher::new_derive_key(context);
    for p in parts {
        h.update(&(p.len() as u64).to_le_bytes());
        h.update(p);
    }
    let mut first = [0u8; 8];
    first.copy_from_slice(&h.finalize().as_bytes()[..8]);
    i64::from_le_bytes(first)
}

impl PgBackend {
    /// The size of one chunk row: the bundle is stored as consecutive 1 MiB
    /// `bytea` values, the fastest and leanest layout measured (one value per
    /// bundle cost the client a second copy of it; large objects were slower).
    pub const CHUNK_LEN: usize = 1 << 20;

    /// Connects to the database `url` names, creates the tables if absent,
    /// and holds `shard`, with the default [`PgOptions`].
    ///
    /// `url` is a `postgresql://user:password@host:port/database?…` URL or
    /// a `key=value` string as the `postgres` crate reads them (its
    /// parameter names: `keepalives_retries`, not libpq's
    /// `keepalives_count`; `tcp_user_timeout` in seconds). Connections are
    /// made without TLS (see `docs/deployment.md`).
    ///
    /// # Errors
    /// `E-STORE-BACKEND` if the URL cannot be read, the server cannot be
    /// reached, or the tables cannot be created ([`PgError::OutOfRange`] as
    /// the source for a shard id beyond `i64::MAX`).
    pub fn connect(url: &str, shard: ShardId) -> Result<Self, StoreError> {
        Self::connect_with(url, shard, PgOptions::new())
    }

    /// As [`connect`](Self::connect), with options.
    ///
    /// # Errors
    /// As [`connect`](Self::connect).
    pub fn connect_with(url: &str, shard: ShardId, options: PgOptions) -> Result<Self, StoreError> {
        // The URL may hold a password: it is never part of a message.
        let base: Config = url.parse().map_err(|source| StoreError::Backend {
            op: "read the PostgreSQL URL",
            location: "(the URL is not shown: it may hold a password)".to_owned(),
            source: Box::new(source),
        })?;
        let location = format!("{} {shard}", location_of(&base));
        let key = i64::try_from(shard.0).map_err(|_| StoreError::Backend {
            op: "connect",
            location: location.clone(),
            source: Box::new(PgError::OutOfRange {
                what: "shard",
                value: shard.0,
            }),
        })?;
        let (config, lock_config) = Self::configs(base, &options);
        let mut client = Conn::session(&config).map_err(pg("connect to", &location))?;
        // Only here, never on a reconnection: tables that vanish under a
        // running store are an error, not a new empty shard.
        let schema =
            Self::ensure_tables(&mut client).map_err(pg("create the tables at", &location))?;
        let conn = Conn::prepare(client).map_err(pg("connect to", &location))?;
        let owner_key = advisory_key(
            "caelmor-persist 2026-12 shard owner lock",
            &[schema.as_bytes(), &key.to_le_bytes()],
        );
        Ok(Self {
            shard,
            key,
            config,
            lock_config,
            location,
            options,
            owner_key,
            conn: Mutex::new(Some(conn)),
            lock: Mutex::new(None),
        })
    }

    /// The configurations of the two connections: the caller's, plus the
    /// keepalives on both ends and the session settings the backend relies
    /// on. The caller's own `options` come last, so they win.
    fn configs(mut base: Config, options: &PgOptions) -> (Config, Config) {
        let k = &options.keepalives;
        base.keepalives(true)
            .keepalives_idle(k.idle)
            .keepalives_interval(k.interval)
            .keepalives_retries(k.retries)
            .tcp_user_timeout(k.user_timeout);
        if base.get_connect_timeout().is_none() {
            base.connect_timeout(Duration::from_secs(10));
        }
        if base.get_application_name().is_none() {
            base.application_name("caelmor-persist");
        }
        let server_keepalives = format!(
            "-c tcp_keepalives_idle={} -c tcp_keepalives_interval={} -c tcp_keepalives_count={} -c tcp_user_timeout={}",
            secs(k.idle),
            secs(k.interval),
            k.retries,
            millis(k.user_timeout),
        );
        let theirs = base.get_options().unwrap_or("").to_owned();
        let mut main = base.clone();
        main.options(&format!(
            "{server_keepalives} -c lock_timeout={} -c idle_in_transaction_session_timeout={} {theirs}",
            millis(options.lock_timeout),
            millis(options.idle_in_transaction_timeout),
        ));
        let mut lock = base;
        lock.options(&format!(
            "{server_keepalives} -c idle_session_timeout=0 {theirs}"
        ));
        (main, lock)
    }

    /// Creates the tables if any is missing, serialised with every other
    /// session doing the same (`CREATE TABLE IF NOT EXISTS` alone can fail
    /// when two sessions race on the catalogue), and returns the schema the
    /// head table lives in.
    fn ensure_tables(client: &mut Client) -> Result<String, postgres::Error> {
        let exist: bool = client.query_one(sql::TABLES_EXIST, &[])?.get(0);
        if !exist {
            let mut tx = client.transaction()?;
            let ddl_key = advisory_key("caelmor-persist 2026-12 table creation", &[]);
            tx.execute(sql::DDL_LOCK, &[&ddl_key])?;
            // Another session may have created them while we waited.
            let exist: bool = tx.query_one(sql::TABLES_EXIST, &[])?.get(0);
            if !exist {
                tx.batch_execute(sql::CREATE_TABLES)?;
            }
            tx.commit()?;
        }
        Ok(client.query_one(sql::TABLE_SCHEMA, &[])?.get(0))
    }

    /// Where the shard lives, without a password.
    #[must_use]
    pub fn location_str(&self) -> &str {
        &self.location
    }

    /// The options in force.
    #[must_use]
    pub fn options(&self) -> &PgOptions {
        &self.options
    }

    /// Whether this backend holds the shard's owner lock, as far as it knows
    /// without asking the server (the next claim checks the session).
    #[must_use]
    pub fn is_locked(&self) -> bool {
        relock(&self.lock).as_ref().is_some_and(|c| !c.is_closed())
    }

    /// The server session holding this backend's owner lock, `None` if it
    /// holds none.
    ///
    /// # Errors
    /// `E-STORE-BACKEND` if the lock's connection fails (the lock is then
    /// lost: the next claim takes it again, or finds another owner).
    pub fn owner_session(&self) -> Result<Option<OwnerSession>, StoreError> {
        let mut guard = relock(&self.lock);
        let Some(client) = guard.as_mut() else {
            return Ok(None);
        };
        let row = client.query_one(
            "SELECT pg_backend_pid(), current_setting('tcp_keepalives_idle'), \
             current_setting('tcp_keepalives_interval'), current_setting('tcp_keepalives_count'), \
             current_setting('tcp_user_timeout'), current_setting('idle_session_timeout')",
            &[],
        );
        match row {
            Ok(row) => Ok(Some(OwnerSession {
                pid: row.get(0),
                tcp_keepalives_idle: row.get(1),
                tcp_keepalives_interval: row.get(2),
                tcp_keepalives_count: row.get(3),
                tcp_user_timeout: row.get(4),
                idle_session_timeout: row.get(5),
            })),
            Err(e) => {
                *guard = None;
                Err(pg("read the owner lock's session at", &self.location)(e))
            }
        }
    }

    /// Runs `f` on the working connection, opening it first if there is
    /// none or it broke; a failure that broke it drops it.
    fn with_conn<T>(
        &self,
        op: &'static str,
        f: impl FnOnce(&mut Conn) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        let mut guard = self.conn_guard(op)?;
        let Some(conn) = guard.as_mut() else {
            unreachable!("conn_guard returns an open connection")
        };
        let result = f(conn);
        if result.is_err() && conn.client.is_closed() {
            *guard = None;
        }
        result.map_err(pg(op, &self.location))
    }

    /// The working connection, opened if there is none or it broke.
    fn conn_guard(&self, op: &'static str) -> Result<MutexGuard<'_, Option<Conn>>, StoreError> {
        let mut guard = relock(&self.conn);
        if guard.as_ref().is_none_or(|c| c.client.is_closed()) {
            *guard = None;
            let conn = Conn::open(&self.config).map_err(pg(op, &self.location))?;
            *guard = Some(conn);
        }
        Ok(guard)
    }

    fn bad_head(&self, detail: String) -> StoreError {
        StoreError::BadMetadata {
            location: format!("{} (caelmor_head)", self.location),
            detail,
        }
    }

    /// A head row, checked: every value in range, `latest_*` all set or all
    /// NULL. Anything else is not a head this backend wrote.
    fn parse_head(&self, row: &Row) -> Result<Head, StoreError> {
        let bad = |e: postgres::Error| self.bad_head(e.to_string());
        let positive = |name: &str, v: i64| {
            u64::try_from(v)
                .ok()
                .filter(|v| *v > 0)
                .ok_or_else(|| self.bad_head(format!("{name} is {v}")))
        };
        let version = positive("version", row.try_get(0).map_err(bad)?)?;
        let fence = positive("fence", row.try_get(1).map_err(bad)?)?;
        let key: &[u8] = row.try_get(2).map_err(bad)?;
        let key = match <[u8; KeyFingerprint::LEN]>::try_from(key) {
            Ok(fp) => KeyFingerprint::from_bytes(Some(fp)),
            Err(_) if key.is_empty() => KeyFingerprint::UNKEYED,
            Err(_) => {
                return Err(self.bad_head(format!(
                    "key_fingerprint holds {} bytes, not 0 or {}",
                    key.len(),
                    KeyFingerprint::LEN
                )));
            }
        };
        let epoch: Option<i64> = row.try_get(3).map_err(bad)?;
        let epoch_fence: Option<i64> = row.try_get(4).map_err(bad)?;
        let len: Option<i64> = row.try_get(5).map_err(bad)?;
        let digest: Option<&[u8]> = row.try_get(6).map_err(bad)?;
        let latest = match (epoch, epoch_fence, len, digest) {
            (None, None, None, None) => None,
            (Some(epoch), Some(epoch_fence), Some(len), Some(digest)) => Some(EpochRecord {
                epoch: Epoch(positive("latest_epoch", epoch)?),
                fence: Fence(positive("latest_fence", epoch_fence)?),
                len: u64::try_from(len)
                    .map_err(|_| self.bad_head(format!("latest_len is {len}")))?,
                digest: <[u8; DIGEST_LEN]>::try_from(digest).map_err(|_| {
                    self.bad_head(format!("latest_digest holds {} bytes", digest.len()))
                })?,
            }),
            _ => {
                return Err(
                    self.bad_head("latest_epoch, _fence, _len, _digest are partly NULL".into())
                );
            }
        };
        Ok(Head {
            version,
            fence: Fence(fence),
            key,
            latest,
        })
    }

    /// Settles a `COMMIT` that failed: on a new connection, waits for every
    /// transaction holding the head's row (ours, if the server is still
    /// committing it), then reads the head and the epoch's row.
    fn settle_commit(
        &self,
        commit: postgres::Error,
        expected: &Head,
        next: &Head,
        record: &EpochRecord,
    ) -> Result<Swap, StoreError> {
        let fail = |source: PgError| StoreError::Backend {
            op: "commit",
            location: self.location.clone(),
            source: Box::new(source),
        };
        let epoch = int8(record.epoch.0)?;
        let read = (|| -> Result<(Option<Row>, Option<Row>), postgres::Error> {
            let mut client = self.config.connect(NoTls)?;
            let mut tx = client
                .build_transaction()
                .isolation_level(IsolationLevel::ReadCommitted)
                .start()?;
            // Blocks while our commit (or anyone's) still holds the row;
            // the next statement's snapshot is then taken after it ended.
            let head = tx.query_opt(sql::SELECT_HEAD_SETTLED, &[&self.key])?;
            let row = tx.query_opt(sql::SELECT_EPOCH_ANY, &[&self.key, &epoch])?;
            tx.commit()?;
            Ok((head, row))
        })();
        let (head, row) = match read {
            Ok(rows) => rows,
            Err(e) => {
                return Err(fail(PgError::CommitUnknown {
                    commit,
                    settle: e.to_string(),
                }));
            }
        };
        let head = match head.as_ref().map(|r| self.parse_head(r)).transpose() {
            Ok(head) => head,
            Err(e) => {
                return Err(fail(PgError::CommitUnknown {
                    commit,
                    settle: e.to_string(),
                }));
            }
        };
        let ours = row.as_ref().is_some_and(|r| {
            let fence: i64 = r.get(0);
            let len: i64 = r.get(1);
            let digest: &[u8] = r.get(2);
            u64::try_from(fence) == Ok(record.fence.0)
                && u64::try_from(len) == Ok(record.len)
                && digest == record.digest
        });
        if ours || head.as_ref() == Some(next) {
            return Ok(Swap::Done);
        }
        if head.as_ref() == Some(expected) {
            return Err(fail(PgError::NotCommitted { commit }));
        }
        // The latest epoch never goes back: a head before our epoch, or our
        // epoch held by another writer's row, means ours did not land.
        let before = head
            .as_ref()
            .is_some_and(|h| h.latest.is_none_or(|l| l.epoch < record.epoch));
        if before || row.is_some() {
            return Ok(Swap::Conflict);
        }
        Err(fail(PgError::CommitUnknown {
            commit,
            settle: "the head moved past the epoch, whose row is gone".to_owned(),
        }))
    }

    fn damaged(&self, stored: StoredEpoch, detail: String) -> StoreError {
        StoreError::Damaged {
            location: self.location_of(stored),
            epoch: stored.epoch,
            detail,
            rejection: None,
        }
    }

    /// Reads an epoch in one snapshot, checking the chunks' sequence and
    /// lengths as they stream in. `Ok(Err(..))`: damage found, or longer
    /// than `max_len`.
    fn read_chunks(
        &self,
        conn: &mut Conn,
        stored: StoredEpoch,
        max_len: u64,
    ) -> Result<Result<Option<Vec<u8>>, StoreError>, postgres::Error> {
        let (Ok(epoch), Ok(fence)) = (int8(stored.epoch.0), int8(stored.fence.0)) else {
            return Ok(Ok(None));
        };
        let mut tx = conn
            .client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let Some(row) = tx.query_opt(&conn.st.select_epoch, &[&self.key, &epoch, &fence])? else {
            tx.commit()?;
            return Ok(Ok(None));
        };
        // The recorded digest is not checked here: the store checks the
        // bytes against the head (the latest) or verifies them (older
        // epochs), and the contract does not say what a digest covers.
        let len: i64 = row.get(0);
        let Ok(len) = u64::try_from(len) else {
            return Ok(Err(
                self.damaged(stored, format!("its row records {len} bytes"))
            ));
        };
        if len > max_len {
            return Ok(Err(StoreError::TooLarge {
                location: self.location_of(stored),
                len,
                limit: max_len,
            }));
        }
        let Ok(capacity) = usize::try_from(len) else {
            return Ok(Err(StoreError::TooLarge {
                location: self.location_of(stored),
                len,
                limit: usize::MAX as u64,
            }));
        };
        let mut bytes = Vec::with_capacity(capacity);
        let params: [&(dyn ToSql + Sync); 2] = [&self.key, &epoch];
        let mut rows = tx.query_raw(&conn.st.select_chunks, params.iter().copied())?;
        let mut seq = 0i64;
        while let Some(row) = rows.next()? {
            let found: i32 = row.get(0);
            let data: &[u8] = row.get(1);
            if bytes.len() == capacity {
                return Ok(Err(self.damaged(
                    stored,
                    format!("chunk {found} is beyond the {len} bytes recorded"),
                )));
            }
            if i64::from(found) != seq {
                let detail = if i64::from(found) > seq {
                    format!("chunk {seq} is missing (the next is {found})")
                } else {
                    format!("chunk {found} is out of sequence (expected {seq})")
                };
                return Ok(Err(self.damaged(stored, detail)));
            }
            let want = (capacity - bytes.len()).min(Self::CHUNK_LEN);
            if data.len() != want {
                return Ok(Err(self.damaged(
                    stored,
                    format!("chunk {seq} holds {} bytes, not {want}", data.len()),
                )));
            }
            bytes.extend_from_slice(data);
            seq += 1;
        }
        drop(rows);
        tx.commit()?;
        if bytes.len() != capacity {
            return Ok(Err(self.damaged(
                stored,
                format!(
                    "chunk {seq} is missing: the chunks end at byte {} of {len}",
                    bytes.len()
                ),
            )));
        }
        Ok(Ok(Some(bytes)))
    }
}

/// A database or connection failure of `op` at `location`.
fn pg(op: &'static str, location: &str) -> impl FnOnce(postgres::Error) -> StoreError {
    let location = location.to_owned();
    move |source| StoreError::Backend {
        op,
        location,
        source: Box::new(source),
    }
}

/// How a publish's transaction ended.
enum Written {
    Committed,
    /// The head was not the expected one: rolled back, nothing changed.
    Conflict,
    /// A statement before `COMMIT` failed: the server rolls the transaction
    /// back, whatever happens to the connection.
    Failed(postgres::Error),
    /// `COMMIT` itself failed: ambiguous.
    CommitFailed(postgres::Error),
}

impl PgBackend {
    /// The commit's transaction: the compare-and-swap on the head first,
    /// then the epoch's row and its chunks, then `COMMIT`.
    fn write(
        conn: &mut Conn,
        swap: &[&(dyn ToSql + Sync)],
        epoch_row: &[&(dyn ToSql + Sync); 5],
        bundle: &[u8],
    ) -> Written {
        let st = &conn.st;
        let mut tx = match conn
            .client
            .build_transaction()
            .isolation_level(IsolationLevel::ReadCommitted)
            .start()
        {
            Ok(tx) => tx,
            Err(e) => return Written::Failed(e),
        };
        let written = (|| -> Result<bool, postgres::Error> {
            if tx.execute(&st.swap_head, swap)? != 1 {
                return Ok(false);
            }
            tx.execute(&st.insert_epoch, epoch_row)?;
            let (shard, epoch) = (epoch_row[0], epoch_row[1]);
            for (seq, chunk) in bundle.chunks(Self::CHUNK_LEN).enumerate() {
                // At most 2 Gi chunks of 1 MiB: a bundle never gets there.
                let seq = i32::try_from(seq).unwrap_or(i32::MAX);
                tx.execute(&st.insert_chunk, &[shard, epoch, &seq, &chunk])?;
            }
            Ok(true)
        })();
        match written {
            Ok(true) => match tx.commit() {
                Ok(()) => Written::Committed,
                Err(e) => Written::CommitFailed(e),
            },
            Ok(false) => {
                // Nothing was changed; a failed rollback changes nothing
                // either (the server rolls back a broken session).
                let _ = tx.rollback();
                Written::Conflict
            }
            Err(e) => Written::Failed(e),
        }
    }
}

impl Backend for PgBackend {
    fn shard(&self) -> ShardId {
        self.shard
    }

    fn location(&self) -> String {
        self.location.clone()
    }

    fn location_of(&self, stored: StoredEpoch) -> String {
        format!("{} {} {}", self.location, stored.epoch, stored.fence)
    }

    /// Takes the shard's advisory lock on a connection of its own, or checks
    /// that the session holding it is still alive.
    fn lock(&mut self) -> Result<(), StoreError> {
        if !self.options.owner_lock {
            return Ok(());
        }
        let mut guard = relock(&self.lock);
        if let Some(client) = guard.as_mut() {
            // A session advisory lock lasts as long as its session: alive
            // means still ours.
            if client.is_valid(self.options.lock_timeout).is_ok() {
                return Ok(());
            }
            *guard = None;
        }
        let mut client = self
            .lock_config
            .connect(NoTls)
            .map_err(pg("connect the owner lock at", &self.location))?;
        let locked: bool = client
            .query_one(sql::TRY_OWNER_LOCK, &[&self.owner_key])
            .map_err(pg("take the owner lock at", &self.location))?
            .get(0);
        if !locked {
            return Err(StoreError::Claimed {
                location: self.location.clone(),
            });
        }
        *guard = Some(client);
        Ok(())
    }

    fn head(&self) -> Result<Option<Head>, StoreError> {
        let row = self.with_conn("read the head at", |c| {
            c.client.query_opt(&c.st.select_head, &[&self.key])
        })?;
        row.map(|row| self.parse_head(&row)).transpose()
    }

    fn claim(&mut self, expected: Option<&Head>, next: &Head) -> Result<Swap, StoreError> {
        let next = HeadParams::of(next)?;
        // A head that int8 cannot hold is not the one stored.
        let expected = match expected.map(HeadParams::of).transpose() {
            Ok(expected) => expected,
            Err(_) => return Ok(Swap::Conflict),
        };
        let rows = self.with_conn("claim the head at", |c| {
            let mut params: Vec<&(dyn ToSql + Sync)> = vec![&self.key];
            params.extend(next.columns());
            match &expected {
                None => c.client.execute(&c.st.insert_head, &params),
                Some(expected) => {
                    params.extend(expected.columns());
                    c.client.execute(&c.st.swap_head, &params)
                }
            }
        })?;
        Ok(if rows == 1 {
            Swap::Done
        } else {
            Swap::Conflict
        })
    }

    fn publish(&mut self, expected: &Head, next: &Head, bundle: &[u8]) -> Result<Swap, StoreError> {
        let Some(record) = next.latest else {
            return Ok(Swap::Conflict);
        };
        let next_params = HeadParams::of(next)?;
        let Ok(expected_params) = HeadParams::of(expected) else {
            return Ok(Swap::Conflict);
        };
        let epoch = int8(record.epoch.0)?;
        let fence = int8(record.fence.0)?;
        let len = int8(bundle.len() as u64)?;
        let mut guard = self.conn_guard("publish at")?;
        let Some(conn) = guard.as_mut() else {
            unreachable!("conn_guard returns an open connection")
        };
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&self.key];
        params.extend(next_params.columns());
        params.extend(expected_params.columns());
        let digest: &[u8] = &record.digest;
        let epoch_row: [&(dyn ToSql + Sync); 5] = [&self.key, &epoch, &fence, &len, &digest];
        let outcome = Self::write(conn, &params, &epoch_row, bundle);
        // A broken session is never reused; after an error from COMMIT not
        // even a live one is (the settling below uses a new connection).
        if conn.client.is_closed() || matches!(outcome, Written::CommitFailed(_)) {
            *guard = None;
        }
        drop(guard);
        match outcome {
            Written::Committed => Ok(Swap::Done),
            Written::Conflict => Ok(Swap::Conflict),
            Written::Failed(e) => Err(pg("publish at", &self.location)(e)),
            Written::CommitFailed(e) => self.settle_commit(e, expected, next, &record),
        }
    }

    fn read(&self, stored: StoredEpoch, max_len: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let mut guard = self.conn_guard("read an epoch at")?;
        let Some(conn) = guard.as_mut() else {
            unreachable!("conn_guard returns an open connection")
        };
        let result = self.read_chunks(conn, stored, max_len);
        if result.is_err() && conn.client.is_closed() {
            *guard = None;
        }
        result.map_err(pg("read an epoch at", &self.location))?
    }

    fn list(&self) -> Result<Vec<StoredEpoch>, StoreError> {
        let rows = self.with_conn("list the epochs at", |c| {
            c.client.query(&c.st.list, &[&self.key])
        })?;
        rows.iter()
            .map(|row| {
                let (epoch, fence): (i64, i64) = (row.get(0), row.get(1));
                match (u64::try_from(epoch), u64::try_from(fence)) {
                    (Ok(epoch), Ok(fence)) if epoch > 0 && fence > 0 => Ok(StoredEpoch {
                        epoch: Epoch(epoch),
                        fence: Fence(fence),
                    }),
                    _ => Err(StoreError::BadMetadata {
                        location: format!("{} (caelmor_epochs)", self.location),
                        detail: format!("a row holds epoch {epoch}, fence {fence}"),
                    }),
                }
            })
            .collect()
    }

    fn remove(&mut self, stored: StoredEpoch) -> Result<(), StoreError> {
        let (Ok(epoch), Ok(fence)) = (int8(stored.epoch.0), int8(stored.fence.0)) else {
            return Ok(());
        };
        self.with_conn("remove an epoch at", |c| {
            c.client
                .execute(&c.st.remove, &[&self.key, &epoch, &fence])
                .map(drop)
        })
    }
}

/// A [`Store`] whose shard lives in PostgreSQL: for game servers on several
/// hosts, one owner of a shard at a time, with failover.
///
/// Everything [`Store`] guarantees holds (next epoch only, fencing, full
/// verification, no fallback, keyed shards, restore provenance); the
/// backend adds:
///
/// - **Atomic, fenced commits.** A commit is one transaction whose first
///   statement is a compare-and-swap on the shard's head row, followed by
///   the bundle's 1 MiB chunks: it lands whole with the head, or not at all,
///   and a superseded owner's commit matches no row. An ambiguous `COMMIT`
///   (connection lost while the server committed) is settled by digest on a
///   new connection: a commit is never reported as done when it is not, nor
///   failed when it landed.
/// - **One owner, signalled.** [`claim`](Store::claim) takes a session
///   advisory lock on a dedicated connection (`E-STORE-CLAIMED` while
///   another owner holds it), with short TCP keepalives on both ends so that
///   a vanished owner's lock is freed within seconds. The lock is liveness
///   only: a paused or partitioned owner that resumes is stopped by the
///   fence, not by the lock.
/// - **No silent rollback.** The head row names the latest epoch; a missing
///   or corrupted chunk, or a lost head row, is `E-STORE-DAMAGED` /
///   `E-STORE-HEAD`, never an older epoch.
///
/// The client is the synchronous `postgres` crate: it runs its own small
/// tokio runtime and **panics when called from inside a tokio runtime**
/// ("Cannot start a runtime from within a runtime"). In an async server, move
/// the store onto a blocking thread:
///
/// ```no_run
/// use caelmor_persist::{PgStore, Save, ShardId};
/// use caelmor_persist::reference::{Reference, ShardSpec};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// # let rt = tokio::runtime::Builder::new_current_thread().build()?;
/// # rt.block_on(async {
/// let url = "postgresql://game@db.internal/caelmor".to_owned();
/// // Connect, claim and load on a blocking thread, never on the runtime's.
/// let (mut store, mut authority, latest) = tokio::task::spawn_blocking(move || {
///     let mut store = PgStore::<Reference>::connect(&url, ShardId(1))?;
///     let authority = store.claim()?;
///     let latest = store.load_latest()?;
///     Ok::<_, caelmor_persist::StoreError>((store, authority, latest))
/// })
/// .await??;
/// # let _ = latest;
/// // … run the world; to save, seal on any thread, commit on a blocking one:
/// let world = ShardSpec::small().generate(7);
/// let sealed = Save::begin(&authority)
///     .players(&world.players)?
///     .world(&world.zones)?
///     .npcs(&world.npcs)?
///     .items(&world.items)?
///     .quests(&world.quests)?
///     .seal();
/// let (store, authority, committed) = tokio::task::spawn_blocking(move || {
///     let committed = store.commit(sealed, &mut authority).map_err(|e| e.error);
///     (store, authority, committed)
/// })
/// .await?;
/// println!("committed {}", committed?.epoch);
/// # drop((store, authority));
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// # })
/// # }
/// ```
///
/// A long-lived alternative is one persistence thread that owns the store
/// and receives sealed bundles over a channel.
///
/// Connecting and claiming, on a plain thread:
///
/// ```no_run
/// use caelmor_persist::{PgStore, ShardId, StoreConfig, DigestKey};
/// use caelmor_persist::reference::Reference;
///
/// let config = StoreConfig::new().key(DigestKey::from_bytes([7; 32])).retain(4);
/// let mut store = PgStore::<Reference>::connect_with(
///     "postgresql://game:secret@db.internal:5432/caelmor",
///     ShardId(1),
///     config,
/// )?;
/// let mut authority = store.claim()?; // E-STORE-CLAIMED while another server owns it
/// let latest = store.load_latest()?; // verified in full, or an error — never an older epoch
/// # Ok::<(), caelmor_persist::StoreError>(())
/// ```
///
/// `docs/deployment.md` covers running it: one owner per shard, failover,
/// keepalives, connection poolers.
pub type PgStore<S> = Store<S, PgBackend>;

impl<S: Schema> Store<S, PgBackend> {
    /// Connects to the database `url` names (creating the tables if absent)
    /// for `shard`, with unkeyed digests and the default retention and
    /// [`PgOptions`]. Connecting does not claim.
    ///
    /// # Errors
    /// As [`PgBackend::connect`].
    pub fn connect(url: &str, shard: ShardId) -> Result<Self, StoreError> {
        Self::connect_with(url, shard, StoreConfig::new())
    }

    /// As [`connect`](Self::connect), with a store configuration.
    ///
    /// # Errors
    /// As [`PgBackend::connect`].
    pub fn connect_with(
        url: &str,
        shard: ShardId,
        config: StoreConfig,
    ) -> Result<Self, StoreError> {
        Ok(Self::with_backend(PgBackend::connect(url, shard)?, config))
    }
}
