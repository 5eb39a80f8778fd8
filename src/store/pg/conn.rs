//! Connections: their configuration (the caller's URL plus the settings
//! the backend relies on), the statements prepared on each, the tables, and
//! what messages say about where the shard lives.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use postgres::{Client, Config, NoTls, Statement};

use super::options::PgOptions;
use super::{PgBackend, sql};

/// The prepared statements of one connection.
pub(super) struct Statements {
    pub(super) select_head: Statement,
    pub(super) insert_head: Statement,
    pub(super) swap_head: Statement,
    pub(super) insert_epoch: Statement,
    pub(super) insert_chunk: Statement,
    pub(super) select_epoch: Statement,
    pub(super) select_chunks: Statement,
    pub(super) list: Statement,
    pub(super) remove: Statement,
}

/// The working connection and its statements.
pub(super) struct Conn {
    pub(super) client: Client,
    pub(super) st: Statements,
}

impl Conn {
    /// A new session: connected, durable commits ensured.
    pub(super) fn session(config: &Config) -> Result<Client, postgres::Error> {
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

    pub(super) fn open(config: &Config) -> Result<Conn, postgres::Error> {
        Self::prepare(Self::session(config)?)
    }

    pub(super) fn prepare(mut client: Client) -> Result<Conn, postgres::Error> {
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

/// Takes a mutex whose holder panicked: the value is dropped (a connection
/// may be in the middle of a transaction), and reopened on next use.
pub(super) fn relock<T>(m: &Mutex<Option<T>>) -> MutexGuard<'_, Option<T>> {
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
pub(super) fn location_of(config: &Config) -> String {
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

pub(super) fn secs(d: Duration) -> u64 {
    d.as_secs().max(1)
}

pub(super) fn millis(d: Duration) -> u128 {
    d.as_millis().max(1)
}

/// A blake3-derived advisory lock key: a crate-specific name space, so that
/// other users of the database's advisory locks do not collide with ours.
pub(super) fn advisory_key(context: &str, parts: &[&[u8]]) -> i64 {
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
    /// The configurations of the two connections: the caller's, plus the
    /// keepalives on both ends and the session settings the backend relies
    /// on. The caller's own `options` come last, so they win.
    pub(super) fn configs(mut base: Config, options: &PgOptions) -> (Config, Config) {
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

    /// Creates the tables if any is missing (and `create` allows it),
    /// serialised with every other session doing the same (`CREATE TABLE IF
    /// NOT EXISTS` alone can fail when two sessions race on the catalogue),
    /// and returns the schema the head table lives in; `None` if they are
    /// missing and were not to be created.
    pub(super) fn ensure_tables(
        client: &mut Client,
        create: bool,
    ) -> Result<Option<String>, postgres::Error> {
        let exist: bool = client.query_one(sql::TABLES_EXIST, &[])?.get(0);
        if !exist && !create {
            return Ok(None);
        }
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
        Ok(Some(client.query_one(sql::TABLE_SCHEMA, &[])?.get(0)))
    }
}
