//! The PostgreSQL test harness itself (issue 12, part 3): a throwaway
//! server comes up on a fresh machine, takes a table, a write and a read
//! back, survives `pg_ctl stop -m immediate` with its committed data, and is
//! gone from disk when dropped.
#![cfg(feature = "postgres")]

#[path = "support/postgres.rs"]
mod pg;

use std::process::Command;

#[test]
fn shared_server_creates_inserts_and_reads_back() {
    let server = pg::PgServer::shared();
    let db = server.fresh_database("harness_roundtrip");
    let mut client = db.connect();
    client
        .batch_execute(
            "CREATE TABLE t (id int8 PRIMARY KEY, data bytea NOT NULL);
             ALTER TABLE t ALTER COLUMN data SET STORAGE EXTERNAL;",
        )
        .unwrap();
    let payload: Vec<u8> = (0..=255u8).cycle().take(3 << 20).collect();
    let mut tx = client.transaction().unwrap();
    let n = tx
        .execute(
            "INSERT INTO t (id, data) VALUES ($1::int8, $2::bytea)",
            &[&7i64, &payload],
        )
        .unwrap();
    assert_eq!(n, 1);
    tx.commit().unwrap();
    let row = client
        .query_one("SELECT data FROM t WHERE id = $1::int8", &[&7i64])
        .unwrap();
    let back: &[u8] = row.get(0);
    assert_eq!(back, &payload[..]);
    let fsync: String = client.query_one("SHOW fsync", &[]).unwrap().get(0);
    if server.is_local() {
        assert_eq!(fsync, "on", "the harness measures durable commits");
    }
}

#[test]
fn shared_server_is_reachable_over_its_unix_socket() {
    let server = pg::PgServer::shared();
    let Some(url) = server.socket_url() else {
        return; // CAELMOR_PG_URL: no socket of ours
    };
    let mut client = pg::connect(&url);
    let one: i32 = client.query_one("SELECT 1", &[]).unwrap().get(0);
    assert_eq!(one, 1);
    // A unix-socket backend reports no client address.
    let addr: Option<String> = client
        .query_one("SELECT inet_client_addr()::text", &[])
        .unwrap()
        .get(0);
    assert_eq!(addr, None);
}

#[test]
fn throwaway_server_keeps_commits_across_an_immediate_stop_and_is_removed_on_drop() {
    let server = pg::PgServer::throwaway();
    let mut client = server.connect();
    client
        .batch_execute("CREATE TABLE k (v int8); INSERT INTO k VALUES (42);")
        .unwrap();

    server.stop_immediate();
    assert!(!server.is_running());
    // The old connection is gone with the server.
    assert!(client.query_one("SELECT 1", &[]).is_err());

    let recovery = server.restart();
    eprintln!("restart after an immediate stop: {recovery:?}");
    let mut client = server.connect();
    let v: i64 = client.query_one("SELECT v FROM k", &[]).unwrap().get(0);
    assert_eq!(v, 42, "a committed row survives a crash stop");

    let dir = server.dir().expect("a throwaway server is local");
    assert!(dir.is_dir());
    drop(client);
    drop(server);
    assert!(!dir.exists(), "{} is left behind", dir.display());
}

/// Without server binaries the PostgreSQL tests fail, saying what to
/// install: they are never skipped. Proven on a copy of this test binary
/// whose environment points the harness at a directory with no binaries.
#[test]
fn missing_binaries_fail_the_test_with_the_install_command() {
    if std::env::var_os("CAELMOR_PG_HARNESS_CHILD").is_some() {
        return; // the child runs the roundtrip test only
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "shared_server_creates_inserts_and_reads_back",
            "--test-threads=1",
        ])
        .env("CAELMOR_PG_HARNESS_CHILD", "1")
        .env(pg::BIN_VAR, "/nonexistent/postgresql/bin")
        .env_remove(pg::URL_VAR)
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{all}");
    assert!(all.contains("1 failed"), "{all}");
    assert!(all.contains("apt-get install postgresql"), "{all}");
}
