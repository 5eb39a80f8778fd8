//! The PostgreSQL backend (feature `postgres`): shards that several hosts
//! can reach, one owner at a time, fenced.
//!
//! See [`PgStore`] for what an integrator uses and
//! `docs/deployment.md` for how to run it.

mod commit;
mod conn;
mod error;
mod options;
mod read;
mod sql;
mod store;

pub use error::PgError;
pub use options::{Keepalives, OwnerSession, PgOptions};
pub use store::PgStore;

use commit::Written;
use conn::{Conn, advisory_key, location_of, relock};

use core::fmt;
use std::sync::{Mutex, MutexGuard};

use postgres::types::ToSql;
use postgres::{Client, Config, NoTls, Row};

#[cfg(doc)]
use super::Store;
use super::StoreError;
use super::backend::{Backend, EpochRecord, Head, KeyFingerprint, StoredEpoch, Swap};
use crate::format::DIGEST_LEN;
use crate::ids::{Epoch, Fence, ShardId};

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
        let schema = Self::ensure_tables(&mut client, options.create_tables)
            .map_err(pg("create the tables at", &location))?
            .ok_or_else(|| StoreError::Backend {
                op: "find the tables at",
                location: location.clone(),
                source: Box::new(PgError::NoTables),
            })?;
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

    /// The key of this shard's owner lock (`pg_try_advisory_lock(key)`), for
    /// finding the owner in `pg_locks`: a BLAKE3 derivation of the shard id
    /// and the schema the tables live in, so that stores in two schemas of
    /// one database, and other users of advisory locks, never share a key.
    /// See `docs/deployment.md` for the query.
    #[must_use]
    pub fn owner_lock_key(&self) -> i64 {
        self.owner_key
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
