//! The `caelmor-persist` binary's `--pg URL`, driven as an operator would,
//! against a real PostgreSQL server the tests start themselves.

#![cfg(all(feature = "cli", feature = "postgres"))]

#[path = "support/postgres.rs"]
mod pg;

use std::process::{Command, Output};

const TINY: [&str; 10] = [
    "--players",
    "3",
    "--zones",
    "2",
    "--npcs",
    "4",
    "--items",
    "10",
    "--quests",
    "3",
];

/// Trust authentication ignores it; it must never be printed.
const SECRET: &str = "s3cret-not-shown";

fn run(args: &[&str]) -> Output {
    let tmp = tempfile::tempdir().expect("temp dir");
    Command::new(env!("CARGO_BIN_EXE_caelmor-persist"))
        .args(args)
        .current_dir(tmp.path())
        .output()
        .expect("the binary runs")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn ok(o: &Output) -> String {
    let (out, err) = text(o);
    assert!(o.status.success(), "stdout: {out}\nstderr: {err}");
    assert!(!out.contains(SECRET) && !err.contains(SECRET), "{out}{err}");
    out
}

fn fails(o: &Output, status: i32, code: &str) -> String {
    let (out, err) = text(o);
    assert_eq!(
        o.status.code(),
        Some(status),
        "stdout: {out}\nstderr: {err}"
    );
    let all = format!("{out}{err}");
    assert!(all.contains(code), "expected {code}: {all}");
    assert!(!all.contains(SECRET), "{all}");
    assert!(!err.contains("panicked"), "{err}");
    all
}

/// The database's URL with a password in it (ignored by the test server's
/// trust authentication; an external server's real one is kept).
fn url_with_password(db: &pg::PgDatabase) -> String {
    let url = db.url();
    if url.contains(':')
        && url
            .split('@')
            .next()
            .is_some_and(|u| u.matches(':').count() > 1)
    {
        return url.to_owned(); // an external URL with its own password
    }
    url.replacen("://caelmor@", &format!("://caelmor:{SECRET}@"), 1)
}

fn demo(url: &str) -> Output {
    let mut args = vec!["demo", "--pg", url];
    args.extend(TINY);
    run(&args)
}

#[test]
fn demo_log_verify_and_inspect_on_postgres() {
    let db = pg::PgServer::shared().fresh_database("cli_pg");
    let url = url_with_password(&db);
    let first = ok(&demo(&url));
    assert!(first.contains("committed epoch#1 under fence#1"), "{first}");
    assert!(
        first.contains("identical to what was saved: yes"),
        "{first}"
    );
    assert!(
        first.contains(&format!("/{} shard#1 epoch#1 fence#1", db.name())),
        "the commit line names where it went: {first}"
    );
    let second = ok(&demo(&url));
    assert!(
        second.contains("committed epoch#2 under fence#2"),
        "{second}"
    );

    let log = ok(&run(&["log", "--pg", &url]));
    assert!(
        log.contains("shard#1: 2 epochs, current fence#2, latest epoch#2"),
        "{log}"
    );
    assert!(log.contains("owner lock free"), "{log}");
    assert_eq!(log.matches("caelmor-reference v1").count(), 2, "{log}");
    assert_eq!(log.matches("  ok").count(), 2, "{log}");

    let verify = ok(&run(&["verify", "--pg", &url, "--epoch", "1"]));
    assert!(verify.contains("1 accepted, 0 rejected"), "{verify}");
    let missing = fails(
        &run(&["verify", "--pg", &url, "--epoch", "9"]),
        1,
        "E-NO-EPOCH",
    );
    assert!(missing.contains("latest epoch#2"), "{missing}");

    let inspect = ok(&run(&["inspect", "--pg", &url, "--epoch", "2"]));
    assert!(inspect.contains("epoch     epoch#2"), "{inspect}");
    assert!(inspect.contains("fence     fence#2"), "{inspect}");
    let json = ok(&run(&["inspect", "--json", "--pg", &url, "--epoch", "2"]));
    let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(v["accepted"], true);
    assert_eq!(v["summary"]["epoch"], 2);
    assert!(
        v["source"]
            .as_str()
            .is_some_and(|s| s.contains("epoch#2 fence#2")),
        "{v}"
    );

    // While a server owns the shard, a demo cannot claim it.
    let mut owner = caelmor_persist::PgStore::<caelmor_persist::reference::Reference>::connect(
        db.url(),
        caelmor_persist::ShardId(1),
    )
    .expect("connect");
    let _authority = owner.claim().expect("claim");
    fails(&demo(&url), 1, "E-STORE-CLAIMED");
    let log = ok(&run(&["log", "--pg", &url]));
    assert!(log.contains("owner lock held by pid"), "{log}");
    drop(owner);

    // A damaged latest epoch: log and verify say so, exit 1.
    let mut c = db.connect();
    c.execute(
        "UPDATE caelmor_chunks SET data = set_byte(data, 100, get_byte(data, 100) # 1) \
         WHERE shard = 1 AND epoch = 2",
        &[],
    )
    .unwrap();
    let log = fails(&run(&["log", "--pg", &url]), 1, "DAMAGED");
    assert!(
        log.contains("the latest, epoch#2, cannot be loaded (E-STORE-DAMAGED)"),
        "{log}"
    );
    fails(
        &run(&["verify", "--pg", &url, "--epoch", "2"]),
        1,
        "REJECTED",
    );
    ok(&run(&["verify", "--pg", &url, "--epoch", "1"]));
    // A deleted chunk: named.
    c.execute(
        "DELETE FROM caelmor_chunks WHERE shard = 1 AND epoch = 1 AND seq = 0",
        &[],
    )
    .unwrap();
    let log = fails(&run(&["log", "--pg", &url]), 1, "chunk 0 is missing");
    assert!(
        log.contains("2 of 2 committed epochs cannot be used"),
        "{log}"
    );
}

#[test]
fn reading_commands_create_nothing_in_a_database_without_tables() {
    let db = pg::PgServer::shared().fresh_database("cli_pg_empty");
    let url = url_with_password(&db);
    let log = ok(&run(&["log", "--pg", &url]));
    assert!(log.contains("no shards (nothing was created)"), "{log}");
    fails(
        &run(&["verify", "--pg", &url, "--epoch", "1"]),
        1,
        "are not there",
    );
    fails(
        &run(&["inspect", "--pg", &url, "--epoch", "1"]),
        1,
        "are not there",
    );
    let exists: bool = db
        .connect()
        .query_one("SELECT to_regclass('caelmor_head') IS NOT NULL", &[])
        .unwrap()
        .get(0);
    assert!(!exists, "a reading command created the tables");
}

#[test]
fn pg_usage_errors_touch_nothing() {
    let url = "postgresql://nobody@127.0.0.1:1/none";
    for args in [
        &["verify", "--pg", url][..],                           // no --epoch
        &["verify", "--epoch", "1", "f.cpb"][..],               // --epoch without --pg
        &["inspect", "--pg", url, "--epoch", "1", "f.cpb"][..], // both
        &["log"][..],                                           // neither
        &["log", "--shard", "1", "."][..],                      // --shard without --pg
        &["demo", "--pg", url, "--dir", "x"][..],               // both places
    ] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {:?}", text(&o));
    }
}
