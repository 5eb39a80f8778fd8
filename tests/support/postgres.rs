//! A throwaway PostgreSQL server for the tests, started by the tests
//! themselves (issue 12, part 3), and the helpers the crash tests need.
//!
//! # Use
//!
//! ```ignore
//! #[path = "support/postgres.rs"]
//! mod pg;
//!
//! #[test]
//! fn something() {
//!     let server = pg::PgServer::shared(); // one server per test binary
//!     let db = server.fresh_database("something"); // optional: a private database
//!     let mut client = db.connect();
//!     // … or pg::PgServer::throwaway() for a server the test may crash.
//! }
//! ```
//!
//! # Where the server comes from
//!
//! - `CAELMOR_PG_URL` set: [`PgServer::shared`] uses that server and the
//!   database the URL names; nothing is started or stopped.
//! - Otherwise: Debian's server binaries (`initdb`, `pg_ctl`, `postgres`),
//!   found in `$CAELMOR_PG_BIN`, else the newest `/usr/lib/postgresql/*/bin`
//!   (the versioned directory the `postgresql-NN` package installs, which is
//!   not on `PATH`), else `PATH`. None found is a test failure whose message
//!   says how to install them: never a silent skip.
//!
//! A local server runs as an unprivileged user because `initdb` and `pg_ctl`
//! refuse root: as root, the system user `caelmor-pg` (created on first use);
//! otherwise the current user. Its data directory, log and unix socket live
//! in one temporary directory owned by that user; it listens on that socket
//! and on 127.0.0.1 at a free port, with `fsync=on` (the tests and the bench
//! report measure durable commits) and `trust` authentication (it is
//! reachable only from this machine, lives for one test binary and holds
//! test data only; a password would cost every connection a SCRAM
//! handshake, which is slow in debug builds).
//!
//! # Cleanup
//!
//! Every local server has a guardian: a `sh` process, running as the server's
//! user, that blocks reading a pipe whose only write end this process holds.
//! When that end closes it stops the server (`pg_ctl stop -m fast`, then
//! `-m immediate` if that fails) and removes the temporary directory. The
//! pipe closes when [`PgServer`] is dropped (the drop then waits for the
//! guardian, so cleanup is done when drop returns) or, for the shared server
//! that a `static` never drops, when the test process ends in any way:
//! normal exit, panic, abort, even `kill -9`. The guardian ignores
//! SIGINT/SIGTERM/SIGHUP so that a Ctrl-C on `cargo test` still cleans up
//! (the postmaster itself is in its own session, courtesy of `pg_ctl`, and
//! does not see the terminal's signals). The write end is close-on-exec, so
//! no other child of the test process keeps the server alive.
//!
//! Parallel test binaries do not collide: each has its own directory and
//! socket; ports are taken free from the kernel and a start that loses the
//! race for its port retries on another; the one shared system user is
//! created under a file lock and re-checked after a failed `useradd`.

// Each test binary, and the examples that include this file, use a subset.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::Read as _;
use std::net::TcpListener;
use std::os::unix::fs::MetadataExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant, SystemTime};

/// The environment variable naming an existing server to use instead.
pub const URL_VAR: &str = "CAELMOR_PG_URL";
/// The environment variable naming a directory holding `initdb` and `pg_ctl`.
pub const BIN_VAR: &str = "CAELMOR_PG_BIN";
/// The system user a local server runs as when the tests run as root.
pub const SYSTEM_USER: &str = "caelmor-pg";
/// The superuser `initdb` creates in a local server.
pub const SUPERUSER: &str = "caelmor";
/// The database created in a local server for the tests.
pub const DATABASE: &str = "caelmor_test";

/// How `pg_ctl` waits for a start or a stop, in seconds.
const PG_CTL_TIMEOUT_S: &str = "60";

/// A PostgreSQL server for tests: a local throwaway one or the one
/// `CAELMOR_PG_URL` names.
#[derive(Debug)]
pub struct PgServer {
    kind: Kind,
    setup: Timings,
}

#[derive(Debug)]
enum Kind {
    External { url: String },
    Local(Mutex<Local>),
}

/// What a local server's start cost, for the tests' and the report's logs.
#[derive(Debug, Clone, Copy)]
pub struct Timings {
    /// Finding binaries, the user, the directory (and `useradd` on first use).
    pub prepare: Duration,
    /// `initdb`.
    pub initdb: Duration,
    /// `pg_ctl start -w` until the server accepts connections.
    pub start: Duration,
    /// `CREATE DATABASE`.
    pub create_database: Duration,
    /// All of the above: the time from asking for a server to a usable URL.
    pub ready: Duration,
}

#[derive(Debug)]
struct Local {
    bin: PathBuf,
    /// The temporary directory: data/, the log, the socket. The guardian
    /// removes it.
    base: PathBuf,
    run_as: Option<RunAs>,
    port: u16,
    running: bool,
    version: String,
    guardian: Option<(Child, ChildStdin)>,
}

#[derive(Debug, Clone, Copy)]
struct RunAs {
    uid: u32,
    gid: u32,
}

impl PgServer {
    /// The server shared by every test of this test binary: started on first
    /// use, stopped and removed when the process ends. Uses `CAELMOR_PG_URL`
    /// when set.
    ///
    /// # Panics
    /// If no server can be had; the message says why and what to install.
    /// Every later call panics with the same message without retrying.
    #[must_use]
    pub fn shared() -> &'static PgServer {
        static SHARED: OnceLock<Result<PgServer, String>> = OnceLock::new();
        let server = SHARED.get_or_init(|| match std::env::var(URL_VAR) {
            Ok(url) if !url.is_empty() => Ok(PgServer::external(url)),
            _ => PgServer::start_local(&[]),
        });
        match server {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        }
    }

    /// A private local server, owned by the caller and stopped and removed
    /// when dropped: for tests that stop, crash or restart it. Always local,
    /// even when `CAELMOR_PG_URL` is set, because such a test must control
    /// the server's process.
    ///
    /// # Panics
    /// If the server cannot be started; the message says why.
    #[must_use]
    pub fn throwaway() -> PgServer {
        Self::throwaway_with(&[])
    }

    /// [`PgServer::throwaway`] with extra `postgresql.conf` settings, e.g.
    /// `("listen_addresses", "'127.0.0.1,10.77.0.1'")` (values are written
    /// as given, so quote strings).
    ///
    /// # Panics
    /// If the server cannot be started; the message says why.
    #[must_use]
    pub fn throwaway_with(settings: &[(&str, &str)]) -> PgServer {
        Self::start_local(settings).unwrap_or_else(|e| panic!("{e}"))
    }

    fn external(url: String) -> PgServer {
        let zero = Duration::ZERO;
        PgServer {
            kind: Kind::External { url },
            setup: Timings {
                prepare: zero,
                initdb: zero,
                start: zero,
                create_database: zero,
                ready: zero,
            },
        }
    }

    /// Whether this is a local server the tests started (not `CAELMOR_PG_URL`).
    #[must_use]
    pub fn is_local(&self) -> bool {
        matches!(self.kind, Kind::Local(_))
    }

    /// What starting this server cost (zeros for an external server).
    #[must_use]
    pub fn timings(&self) -> Timings {
        self.setup
    }

    /// The connection URL of the test database, over TCP: the database
    /// `CAELMOR_PG_URL` names, or `caelmor_test` on a local server. A
    /// query string of libpq-style parameters (e.g.
    /// `keepalives_idle=2&keepalives_interval=1&keepalives_count=2`) may be
    /// appended with `?`.
    #[must_use]
    pub fn url(&self) -> String {
        match &self.kind {
            Kind::External { url } => url.clone(),
            Kind::Local(l) => lock(l).tcp_url(DATABASE),
        }
    }

    /// The connection URL of the test database over the local server's unix
    /// socket (`None` for an external server).
    #[must_use]
    pub fn socket_url(&self) -> Option<String> {
        match &self.kind {
            Kind::External { .. } => None,
            Kind::Local(l) => Some(lock(l).socket_url(DATABASE)),
        }
    }

    /// The local server's TCP port (`None` for an external server). It can
    /// change across [`PgServer::restart`] if another process took it.
    #[must_use]
    pub fn port(&self) -> Option<u16> {
        match &self.kind {
            Kind::External { .. } => None,
            Kind::Local(l) => Some(lock(l).port),
        }
    }

    /// The local server's temporary directory (data, log, socket), removed
    /// when the server goes (`None` for an external server).
    #[must_use]
    pub fn dir(&self) -> Option<PathBuf> {
        match &self.kind {
            Kind::External { .. } => None,
            Kind::Local(l) => Some(lock(l).base.clone()),
        }
    }

    /// The local server's version string, e.g. "PostgreSQL 15.18" (`None`
    /// for an external server).
    #[must_use]
    pub fn version(&self) -> Option<String> {
        match &self.kind {
            Kind::External { .. } => None,
            Kind::Local(l) => Some(lock(l).version.clone()),
        }
    }

    /// A connected client on the test database.
    ///
    /// # Panics
    /// If the connection fails.
    #[must_use]
    pub fn connect(&self) -> postgres::Client {
        connect(&self.url())
    }

    /// A new, empty database on this server with a unique name starting with
    /// `prefix`, dropped (with `FORCE`) when the returned guard drops: for a
    /// test that must not see other tests' tables, on the shared server too.
    ///
    /// # Panics
    /// If the database cannot be created (on an external server: the role
    /// needs `CREATEDB`).
    #[must_use]
    pub fn fresh_database(&self, prefix: &str) -> PgDatabase {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let prefix: String = prefix
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(30)
            .collect();
        let name = format!("{prefix}_{}_{n}", std::process::id());
        let admin_url = self.url();
        let mut admin = connect(&admin_url);
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .unwrap_or_else(|e| {
                panic!("CREATE DATABASE {name} on {admin_url} failed ({e}); on a server named by {URL_VAR} the role needs CREATEDB")
            });
        PgDatabase {
            url: replace_dbname(&admin_url, &name),
            name,
            admin_url,
        }
    }

    /// Stops the local server the way a crash would: `pg_ctl stop -m
    /// immediate` (the postmaster SIGQUITs its backends; the next start runs
    /// crash recovery from the WAL). The data directory stays.
    ///
    /// # Panics
    /// On an external server, or if `pg_ctl` fails.
    pub fn stop_immediate(&self) {
        self.local().stop("immediate");
    }

    /// Stops the local server cleanly (`pg_ctl stop -m fast`); the data
    /// directory stays for [`PgServer::restart`].
    ///
    /// # Panics
    /// On an external server, or if `pg_ctl` fails.
    pub fn stop_fast(&self) {
        self.local().stop("fast");
    }

    /// Starts the local server again on the same data directory (after a
    /// stop, or stopping it fast first if it is running), and returns how
    /// long it took to accept connections: after [`PgServer::stop_immediate`]
    /// that includes crash recovery.
    ///
    /// # Panics
    /// On an external server, or if the server does not come back.
    pub fn restart(&self) -> Duration {
        let mut l = self.local();
        if l.running {
            l.stop("fast");
        }
        let t = Instant::now();
        l.start_with_retries().unwrap_or_else(|e| panic!("{e}"));
        t.elapsed()
    }

    /// Whether the local server is running, as far as this harness knows.
    #[must_use]
    pub fn is_running(&self) -> bool {
        match &self.kind {
            Kind::External { .. } => true,
            Kind::Local(l) => lock(l).running,
        }
    }

    /// The tail of the local server's log (for a failing test's message).
    #[must_use]
    pub fn log_tail(&self, bytes: usize) -> String {
        match &self.kind {
            Kind::External { .. } => String::new(),
            Kind::Local(l) => tail(&lock(l).base.join("server.log"), bytes),
        }
    }

    fn local(&self) -> MutexGuard<'_, Local> {
        match &self.kind {
            Kind::Local(l) => lock(l),
            Kind::External { .. } => panic!(
                "stopping or restarting needs a local server: use PgServer::throwaway(), not the server {URL_VAR} names"
            ),
        }
    }

    fn start_local(settings: &[(&str, &str)]) -> Result<PgServer, String> {
        let t0 = Instant::now();
        let bin = find_bin()?;
        let run_as = run_as()?;
        let base = make_base(run_as)?;
        // The guardian first: whatever fails from here on, the directory
        // (and a server, if one got started) goes when this value drops.
        let guardian = spawn_guardian(&bin, &base, run_as)?;
        let mut local = Local {
            bin,
            base,
            run_as,
            port: 0,
            running: false,
            version: String::new(),
            guardian: Some(guardian),
        };
        let prepare = t0.elapsed();

        let t = Instant::now();
        local.initdb(settings)?;
        let initdb = t.elapsed();

        let t = Instant::now();
        local.start_with_retries()?;
        let start = t.elapsed();

        let t = Instant::now();
        let mut admin = postgres::Client::connect(&local.tcp_url("postgres"), postgres::NoTls)
            .map_err(|e| format!("connecting to the new server failed: {e}"))?;
        admin
            .batch_execute(&format!("CREATE DATABASE {DATABASE}"))
            .map_err(|e| format!("CREATE DATABASE {DATABASE} failed: {e}"))?;
        local.version = admin
            .query_one(
                "SELECT split_part(version(), ' ', 1) || ' ' || split_part(version(), ' ', 2)",
                &[],
            )
            .map(|r| r.get(0))
            .unwrap_or_default();
        drop(admin);
        let create_database = t.elapsed();

        let setup = Timings {
            prepare,
            initdb,
            start,
            create_database,
            ready: t0.elapsed(),
        };
        eprintln!(
            "pg harness: {} ready in {:.2} s (prepare {:.2} s, initdb {:.2} s, start {:.2} s, create database {:.2} s) on 127.0.0.1:{} and {}",
            local.version,
            setup.ready.as_secs_f64(),
            prepare.as_secs_f64(),
            initdb.as_secs_f64(),
            start.as_secs_f64(),
            create_database.as_secs_f64(),
            local.port,
            local.base.display()
        );
        Ok(PgServer {
            kind: Kind::Local(Mutex::new(local)),
            setup,
        })
    }
}

impl Drop for Local {
    /// Also on a start that failed half way: whatever was made goes, and
    /// is gone when the drop returns.
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A database created by [`PgServer::fresh_database`]; dropped with the guard.
#[derive(Debug)]
pub struct PgDatabase {
    name: String,
    url: String,
    admin_url: String,
}

impl PgDatabase {
    /// The database's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its connection URL (TCP).
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A connected client on it.
    ///
    /// # Panics
    /// If the connection fails.
    #[must_use]
    pub fn connect(&self) -> postgres::Client {
        connect(&self.url)
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        // Best effort: a test that crashed the server leaves nothing to drop,
        // and a local server's directory goes anyway.
        if let Ok(mut admin) = postgres::Client::connect(&self.admin_url, postgres::NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// Connects to `url` without TLS.
///
/// # Panics
/// If the connection fails.
#[must_use]
pub fn connect(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls)
        .unwrap_or_else(|e| panic!("connecting to {url} failed: {e}"))
}

impl Local {
    fn tcp_url(&self, db: &str) -> String {
        format!("postgresql://{SUPERUSER}@127.0.0.1:{}/{db}", self.port)
    }

    fn socket_url(&self, db: &str) -> String {
        format!(
            "postgresql://{SUPERUSER}@{}:{}/{db}",
            percent_encode(&self.base.to_string_lossy()),
            self.port
        )
    }

    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(self.bin.join(program));
        as_user(&mut c, self.run_as, &self.base);
        c
    }

    fn initdb(&self, settings: &[(&str, &str)]) -> Result<(), String> {
        let data = self.base.join("data");
        let out = self
            .command("initdb")
            .arg("-D")
            .arg(&data)
            .args(["-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--locale=C"])
            // The bootstrap files need no fsync: a throwaway cluster that a
            // power loss interrupted is simply made again. The server's own
            // commits are durable (fsync=on below).
            .arg("--no-sync")
            .output()
            .map_err(|e| format!("running initdb failed: {e}"))?;
        check(&out, "initdb", &self.base)?;

        let mut conf = String::from("\n# caelmor-persist test harness\n");
        let quoted_base = self.base.to_string_lossy().replace('\'', "''");
        let _ = writeln!(conf, "listen_addresses = '127.0.0.1'");
        let _ = writeln!(conf, "unix_socket_directories = '{quoted_base}'");
        // Durable commits: the defaults, written out because the crash tests
        // and the measurements depend on them.
        let _ = writeln!(conf, "fsync = on");
        let _ = writeln!(conf, "synchronous_commit = on");
        let _ = writeln!(conf, "full_page_writes = on");
        for (k, v) in settings {
            let _ = writeln!(conf, "{k} = {v}");
        }
        let mut f = OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))
            .map_err(|e| format!("opening postgresql.conf failed: {e}"))?;
        std::io::Write::write_all(&mut f, conf.as_bytes())
            .map_err(|e| format!("writing postgresql.conf failed: {e}"))?;
        Ok(())
    }

    /// `pg_ctl start -w` on a free port; a port another process took between
    /// our probe and the server's bind is retried on a new one.
    fn start_with_retries(&mut self) -> Result<(), String> {
        let mut last = String::new();
        for _ in 0..8 {
            let port = if self.port == 0 {
                free_port()?
            } else {
                self.port
            };
            self.port = port;
            let log = self.base.join("server.log");
            let log_start = fs::metadata(&log).map_or(0, |m| m.len());
            let out = self
                .command("pg_ctl")
                .arg("-D")
                .arg(self.base.join("data"))
                .arg("-l")
                .arg(&log)
                .args(["-w", "-t", PG_CTL_TIMEOUT_S, "-o"])
                .arg(format!("-p {port}"))
                .arg("start")
                .stdin(Stdio::null())
                .output()
                .map_err(|e| format!("running pg_ctl start failed: {e}"))?;
            if out.status.success() {
                self.running = true;
                return Ok(());
            }
            let log_text = tail_from(&log, log_start);
            last = format!(
                "pg_ctl start failed ({}): {}{}\nserver log:\n{log_text}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            if log_text.contains("could not bind") || log_text.contains("already in use") {
                self.port = 0; // lost the race for that port: take another
                continue;
            }
            break;
        }
        Err(last)
    }

    fn stop(&mut self, mode: &str) {
        let out = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.base.join("data"))
            .args(["-w", "-t", PG_CTL_TIMEOUT_S, "-m", mode, "stop"])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("running pg_ctl stop failed: {e}"));
        if let Err(e) = check(&out, "pg_ctl stop", &self.base) {
            panic!("{e}");
        }
        self.running = false;
    }

    /// Closes the guardian's pipe and waits while it stops the server and
    /// removes the directory.
    fn shutdown(&mut self) {
        if let Some((mut child, stdin)) = self.guardian.take() {
            drop(stdin);
            let _ = child.wait();
        }
        self.running = false;
    }
}

/// Runs `c` as the server's user, in the server's directory (the test's
/// working directory may not be readable by that user).
fn as_user(c: &mut Command, run_as: Option<RunAs>, base: &Path) {
    if let Some(u) = run_as {
        // std drops supplementary groups too when it changes the uid as root.
        c.uid(u.uid).gid(u.gid);
    }
    c.current_dir(base).env("LC_ALL", "C").env("TZ", "UTC");
}

fn spawn_guardian(
    bin: &Path,
    base: &Path,
    run_as: Option<RunAs>,
) -> Result<(Child, ChildStdin), String> {
    // $1 = bin dir, $2 = base dir. `cat` returns at EOF: when the only write
    // end, held by the test process, closes.
    const SCRIPT: &str = r#"trap '' INT TERM HUP
cat >/dev/null
if [ -f "$2/data/postmaster.pid" ]; then
  "$1/pg_ctl" -D "$2/data" -w -t 30 -m fast stop >/dev/null 2>&1 ||
    "$1/pg_ctl" -D "$2/data" -w -t 30 -m immediate stop >/dev/null 2>&1
fi
rm -rf "$2"
"#;
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(SCRIPT)
        .arg("caelmor-pg-guardian")
        .arg(bin)
        .arg(base)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    as_user(&mut c, run_as, base);
    // The directory belongs to the server's user, and the guardian runs as
    // that user so that it can run pg_ctl; `/` is always there to run from.
    c.current_dir("/");
    let mut child = c
        .spawn()
        .map_err(|e| format!("starting the cleanup guardian (sh) failed: {e}"))?;
    let stdin = child.stdin.take().expect("stdin was piped");
    Ok((child, stdin))
}

/// The directory with `initdb`, `pg_ctl` and `postgres`.
fn find_bin() -> Result<PathBuf, String> {
    let has_all = |d: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|p| d.join(p).is_file())
    };
    let install = format!(
        "Install the server binaries (Debian/Ubuntu: `apt-get install postgresql`; .ci/run does this), \
         or point {URL_VAR} at a running server, e.g. {URL_VAR}=postgresql://user@127.0.0.1:5432/db"
    );
    if let Some(d) = std::env::var_os(BIN_VAR) {
        let d = PathBuf::from(d);
        return if has_all(&d) {
            Ok(d)
        } else {
            Err(format!(
                "the PostgreSQL tests need a PostgreSQL server, and {BIN_VAR}={} has no initdb, pg_ctl and postgres.\n{install}",
                d.display()
            ))
        };
    }
    // Debian: /usr/lib/postgresql/<major>/bin, one per installed major
    // version; the newest wins.
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            has_all(&bin).then_some((major, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    if let Some(path) = std::env::var_os("PATH") {
        for d in std::env::split_paths(&path) {
            if has_all(&d) {
                return Ok(d);
            }
        }
    }
    Err(format!(
        "the PostgreSQL tests need a PostgreSQL server, and none was found: no initdb, pg_ctl and postgres \
         in /usr/lib/postgresql/*/bin, in ${BIN_VAR} or on PATH.\n{install}"
    ))
}

/// `None` to run the server as ourselves; as root, the system user (created
/// if absent).
fn run_as() -> Result<Option<RunAs>, String> {
    // The owner of /proc/self is this process's uid: no libc call needed.
    let uid = fs::metadata("/proc/self").map(|m| m.uid()).or_else(|_| {
        let out = Command::new("id")
            .arg("-u")
            .output()
            .map_err(|e| format!("id -u: {e}"))?;
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse::<u32>()
            .map_err(|e| format!("id -u: {e}"))
    })?;
    if uid != 0 {
        return Ok(None);
    }
    ensure_system_user().map(Some)
}

fn ensure_system_user() -> Result<RunAs, String> {
    if let Some(u) = lookup_user(SYSTEM_USER) {
        return Ok(u);
    }
    // Test binaries start at once under `cargo test`: one creates the user,
    // the others wait on the lock and then find it.
    let lock_path = std::env::temp_dir().join(".caelmor-pg-useradd.lock");
    let lock_file = File::create(&lock_path)
        .map_err(|e| format!("creating {} failed: {e}", lock_path.display()))?;
    lock_file
        .lock()
        .map_err(|e| format!("locking {} failed: {e}", lock_path.display()))?;
    let mut last = String::new();
    for attempt in 0..10 {
        if let Some(u) = lookup_user(SYSTEM_USER) {
            return Ok(u);
        }
        // useradd (Debian's passwd package) first; adduser where only it
        // exists. A failure because someone else holds /etc/passwd's lock
        // (another package manager) is retried.
        let out = Command::new("useradd")
            .args([
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                SYSTEM_USER,
            ])
            .output()
            .or_else(|_| {
                Command::new("adduser")
                    .args(["--system", "--group", "--no-create-home", SYSTEM_USER])
                    .output()
            });
        match out {
            Ok(o) if o.status.success() => {}
            Ok(o) => last = String::from_utf8_lossy(&o.stderr).into_owned(),
            Err(e) => last = e.to_string(),
        }
        if let Some(u) = lookup_user(SYSTEM_USER) {
            return Ok(u);
        }
        std::thread::sleep(Duration::from_millis(100 * (attempt + 1)));
    }
    Err(format!(
        "initdb refuses to run as root, and creating the system user {SYSTEM_USER} failed: {last}\n\
         Create it by hand (`useradd --system --user-group {SYSTEM_USER}`), run the tests as a non-root user, \
         or set {URL_VAR}"
    ))
}

fn lookup_user(name: &str) -> Option<RunAs> {
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").arg(flag).arg(name).output().ok()?;
        if !out.status.success() {
            return None;
        }
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    Some(RunAs {
        uid: id("-u")?,
        gid: id("-g")?,
    })
}

/// A new directory for one server, owned by the server's user. Kept short:
/// the unix socket's path must fit in 107 bytes.
fn make_base(run_as: Option<RunAs>) -> Result<PathBuf, String> {
    let tmp = std::env::temp_dir();
    let stamp = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    for n in 0u32..1000 {
        let base = tmp.join(format!("caelmor-pg-{}-{stamp:x}-{n}", std::process::id()));
        match fs::create_dir(&base) {
            Ok(()) => {
                if let Some(u) = run_as {
                    std::os::unix::fs::chown(&base, Some(u.uid), Some(u.gid)).map_err(|e| {
                        let _ = fs::remove_dir(&base);
                        format!("chown {} failed: {e}", base.display())
                    })?;
                }
                return Ok(base);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(format!(
                    "creating a directory in {} failed: {e}",
                    tmp.display()
                ));
            }
        }
    }
    Err(format!("no free directory name in {}", tmp.display()))
}

fn free_port() -> Result<u16, String> {
    // The kernel's choice of a free port; the server binds it a moment later,
    // and a lost race is retried by the caller.
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("finding a free port failed: {e}"))
}

fn check(out: &Output, what: &str, base: &Path) -> Result<(), String> {
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{what} failed ({}):\n{}{}\nserver log tail:\n{}\n(the server's user must be able to reach {})",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        tail(&base.join("server.log"), 4000),
        base.display()
    ))
}

fn tail(path: &Path, bytes: usize) -> String {
    let len = fs::metadata(path).map_or(0, |m| m.len());
    tail_from(path, len.saturating_sub(bytes as u64))
}

fn tail_from(path: &Path, from: u64) -> String {
    let mut s = Vec::new();
    if let Ok(mut f) = File::open(path) {
        let _ = std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(from));
        let _ = f.read_to_end(&mut s);
    }
    String::from_utf8_lossy(&s).into_owned()
}

fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `url` with its database replaced by `db` (query string kept).
fn replace_dbname(url: &str, db: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (url, None),
    };
    // postgresql://user@host:port/db: the path starts at the first '/'
    // after the scheme's "//".
    let after_scheme = head.find("://").map_or(0, |i| i + 3);
    let base = match head[after_scheme..].find('/') {
        Some(i) => &head[..after_scheme + i],
        None => head,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

fn lock(m: &Mutex<Local>) -> MutexGuard<'_, Local> {
    // A test that panicked while holding the lock leaves the state usable.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
