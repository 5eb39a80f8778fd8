//! The tables and statements of the PostgreSQL backend, in one place: what
//! `docs/deployment.md` shows a DBA is exactly what runs.
//!
//! Every parameter carries an explicit cast: the server then never has to
//! guess a type from context, and a Rust `i64` always meets an `int8`.

/// The three tables, created if absent (under an advisory transaction lock,
/// so that servers starting together do not race on the catalogue).
///
/// - `caelmor_head`: one row per shard, the compare-and-swap target; every
///   claim and commit replaces it whole, `version` first.
/// - `caelmor_epochs`: one row per committed epoch (a lost publish is rolled
///   back with its transaction, so nothing else is ever stored).
/// - `caelmor_chunks`: the bundle in 1 MiB pieces. `STORAGE EXTERNAL`: a
///   bundle does not compress, and the default storage would have pglz try
///   on every chunk (2.4–5× the commit time, measured in
///   docs/postgres-notes.md).
///
/// `caelmor_epochs` deliberately has no foreign key to `caelmor_head`: a lost
/// head must leave the epochs behind, so that the store can say the head is
/// lost instead of treating the shard as empty.
pub(super) const CREATE_TABLES: &str = "
CREATE TABLE IF NOT EXISTS caelmor_head (
    shard           int8  PRIMARY KEY,
    version         int8  NOT NULL,
    fence           int8  NOT NULL,
    key_fingerprint bytea NOT NULL,
    latest_epoch    int8,
    latest_fence    int8,
    latest_len      int8,
    latest_digest   bytea
);
CREATE TABLE IF NOT EXISTS caelmor_epochs (
    shard  int8  NOT NULL,
    epoch  int8  NOT NULL,
    fence  int8  NOT NULL,
    len    int8  NOT NULL,
    digest bytea NOT NULL,
    -- When the commit's transaction began, for operators (`log --pg`);
    -- nothing the store decides depends on it.
    committed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shard, epoch)
);
CREATE TABLE IF NOT EXISTS caelmor_chunks (
    shard int8  NOT NULL,
    epoch int8  NOT NULL,
    seq   int4  NOT NULL,
    data  bytea NOT NULL,
    PRIMARY KEY (shard, epoch, seq),
    FOREIGN KEY (shard, epoch) REFERENCES caelmor_epochs ON DELETE CASCADE
);
ALTER TABLE caelmor_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
";

/// Whether all three tables exist (then no DDL runs, so a role without
/// `CREATE` works on tables a DBA made).
pub(super) const TABLES_EXIST: &str = "SELECT to_regclass('caelmor_head') IS NOT NULL \
     AND to_regclass('caelmor_epochs') IS NOT NULL AND to_regclass('caelmor_chunks') IS NOT NULL";

/// The schema the head table lives in: part of the owner lock's key, since
/// advisory locks are per database and one database may hold stores in
/// several schemas.
pub(super) const TABLE_SCHEMA: &str =
    "SELECT relnamespace::regnamespace::text FROM pg_class WHERE oid = 'caelmor_head'::regclass";

/// Serialises table creation across sessions (transaction-scoped).
pub(super) const DDL_LOCK: &str = "SELECT pg_advisory_xact_lock($1::int8)";

/// The owner lock: a session lock on its own connection.
pub(super) const TRY_OWNER_LOCK: &str = "SELECT pg_try_advisory_lock($1::int8)";

/// The head's columns, in the order every statement below uses.
pub(super) const SELECT_HEAD: &str = "SELECT version, fence, key_fingerprint, \
     latest_epoch, latest_fence, latest_len, latest_digest FROM caelmor_head WHERE shard = $1::int8";

/// The same, waiting for any transaction that holds the row (a commit in
/// flight) to end: how an ambiguous `COMMIT` is settled.
pub(super) const SELECT_HEAD_SETTLED: &str = "SELECT version, fence, key_fingerprint, \
     latest_epoch, latest_fence, latest_len, latest_digest FROM caelmor_head WHERE shard = $1::int8 \
     FOR SHARE";

/// The first claim: creates the head only if there is none.
pub(super) const INSERT_HEAD: &str = "INSERT INTO caelmor_head \
     (shard, version, fence, key_fingerprint, latest_epoch, latest_fence, latest_len, latest_digest) \
     VALUES ($1::int8, $2::int8, $3::int8, $4::bytea, $5::int8, $6::int8, $7::int8, $8::bytea) \
     ON CONFLICT (shard) DO NOTHING";

/// The compare-and-swap: replaces the head only if every column is still
/// the one the caller read. One primary-key lookup; 0 rows is a conflict.
/// Under READ COMMITTED a swap racing another waits for its row lock, then
/// re-checks the condition against the row that transaction left.
pub(super) const SWAP_HEAD: &str = "UPDATE caelmor_head SET \
     version = $2::int8, fence = $3::int8, key_fingerprint = $4::bytea, latest_epoch = $5::int8, \
     latest_fence = $6::int8, latest_len = $7::int8, latest_digest = $8::bytea \
     WHERE shard = $1::int8 AND version = $9::int8 AND fence = $10::int8 \
     AND key_fingerprint = $11::bytea AND latest_epoch IS NOT DISTINCT FROM $12::int8 \
     AND latest_fence IS NOT DISTINCT FROM $13::int8 AND latest_len IS NOT DISTINCT FROM $14::int8 \
     AND latest_digest IS NOT DISTINCT FROM $15::bytea";

/// An epoch's row, in the commit's transaction.
pub(super) const INSERT_EPOCH: &str = "INSERT INTO caelmor_epochs (shard, epoch, fence, len, digest) \
     VALUES ($1::int8, $2::int8, $3::int8, $4::int8, $5::bytea)";

/// One chunk, in the commit's transaction.
pub(super) const INSERT_CHUNK: &str = "INSERT INTO caelmor_chunks (shard, epoch, seq, data) \
     VALUES ($1::int8, $2::int8, $3::int4, $4::bytea)";

/// An epoch's row as published under a fence.
pub(super) const SELECT_EPOCH: &str = "SELECT len FROM caelmor_epochs \
     WHERE shard = $1::int8 AND epoch = $2::int8 AND fence = $3::int8";

/// An epoch's row whoever published it (settling an ambiguous `COMMIT`).
pub(super) const SELECT_EPOCH_ANY: &str =
    "SELECT fence, len, digest FROM caelmor_epochs WHERE shard = $1::int8 AND epoch = $2::int8";

/// An epoch's chunks, in order, streamed.
pub(super) const SELECT_CHUNKS: &str = "SELECT seq, data FROM caelmor_chunks \
     WHERE shard = $1::int8 AND epoch = $2::int8 ORDER BY seq";

/// Every stored epoch of the shard.
pub(super) const LIST: &str = "SELECT epoch, fence FROM caelmor_epochs WHERE shard = $1::int8";

/// Removes one epoch; its chunks go by the foreign key's cascade.
pub(super) const REMOVE: &str =
    "DELETE FROM caelmor_epochs WHERE shard = $1::int8 AND epoch = $2::int8 AND fence = $3::int8";
