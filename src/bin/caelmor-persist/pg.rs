//! `--pg URL`: `demo`, `log`, `verify` and `inspect` on a PostgreSQL store.
//!
//! Built only with the `postgres` feature (`--features cli,postgres`), so
//! that the plain `cli` build, the README's demo, pulls in no database
//! client. Without it, `--pg` is a usage error that says how to build the
//! tool. `log`, `verify` and `inspect` connect without creating the tables
//! and never claim or write.

#[cfg(not(feature = "postgres"))]
mod unavailable {
    use caelmor_persist::reference::Reference;
    use caelmor_persist::{DigestKey, MemBackend, ShardId, Store, StoreConfig, Verified};

    use crate::out::Out;
    use crate::{CliResult, LogArgs, Outcome, usage_error};

    /// `--pg` on a tool built without the `postgres` feature: a usage error
    /// (status 2, nothing touched) that says how to get it.
    pub(crate) fn available(subcommand: &str) {
        usage_error(
            subcommand,
            "--pg needs the tool built with the postgres feature: \
             cargo run --release --features cli,postgres -- ...",
        )
    }

    pub(crate) fn connect(
        _: &str,
        _: ShardId,
        _: StoreConfig,
    ) -> CliResult<Store<Reference, MemBackend>> {
        usage_error("demo", "--pg needs the postgres feature")
    }

    pub(crate) fn verified(
        _: &str,
        _: u64,
        _: u64,
        _: Option<&DigestKey>,
    ) -> CliResult<(String, CliResult<Verified>)> {
        usage_error("verify", "--pg needs the postgres feature")
    }

    pub(crate) fn log(_: &str, _: &LogArgs, _: &mut Out) -> CliResult<Outcome> {
        usage_error("log", "--pg needs the postgres feature")
    }
}

#[cfg(not(feature = "postgres"))]
pub(crate) use unavailable::{available, connect, log, verified};

#[cfg(feature = "postgres")]
pub(crate) use imp::{available, connect, log, verified};

#[cfg(feature = "postgres")]
mod imp {
    use caelmor_persist::reference::Reference;
    use caelmor_persist::{
        Backend, DigestKey, Epoch, KeyFingerprint, PgBackend, PgError, PgOptions, PgStore, ShardId,
        StoreConfig, StoreError, StoredEpoch, Verified, VerifyOptions, verify,
    };

    use crate::common::{Failure, chain, read_key};
    use crate::log::{
        Check, Status, check_bytes, key_problem, missing_latest_row, short, table_header,
    };
    use crate::out::{Out, outln};
    use crate::{CliResult, LogArgs, Outcome};

    /// Built with the feature: nothing to say.
    pub(crate) fn available(_: &str) {}

    /// The demo's store: tables created if absent.
    pub(crate) fn connect(
        url: &str,
        shard: ShardId,
        config: StoreConfig,
    ) -> CliResult<PgStore<Reference>> {
        Ok(PgStore::connect_with(url, shard, config)?)
    }

    /// A backend that reads what is there and creates nothing.
    fn reader(url: &str, shard: ShardId) -> Result<PgBackend, StoreError> {
        PgBackend::connect_with(url, shard, PgOptions::new().create_tables(false))
    }

    fn no_tables(e: &StoreError) -> bool {
        e.source()
            .and_then(|s| s.downcast_ref::<PgError>())
            .is_some_and(|p| matches!(p, PgError::NoTables))
    }

    use std::error::Error as _;

    /// One committed epoch, read as a store reads it and verified as
    /// `verify` verifies a file (the shard and the epoch expected). The
    /// outer error: the database cannot be read at all; the inner one: this
    /// epoch is not there, or is refused.
    pub(crate) fn verified(
        url: &str,
        shard: u64,
        epoch: u64,
        key: Option<&DigestKey>,
    ) -> CliResult<(String, CliResult<Verified>)> {
        let shard = ShardId(shard);
        let backend = reader(url, shard)?;
        let epoch = Epoch(epoch);
        let head = backend.head()?;
        let stored = backend.list()?.into_iter().find(|s| s.epoch == epoch);
        let Some(stored) = stored else {
            let name = format!("{} {epoch}", backend.location());
            let held = head.and_then(|h| h.latest).map_or_else(
                || "none committed".to_owned(),
                |l| format!("latest {}", l.epoch),
            );
            return Ok((
                name,
                Err(Failure::new(
                    "E-NO-EPOCH",
                    format!("{shard} holds no {epoch} ({held})"),
                )),
            ));
        };
        let name = backend.location_of(stored);
        // The latest is read exactly at its committed length, as a load
        // reads it; an older one up to the store's default bound.
        let latest = head.and_then(|h| h.latest).filter(|l| l.epoch == epoch);
        let limit = latest.map_or(StoreConfig::DEFAULT_MAX_BUNDLE_LEN, |l| l.len);
        let result = (|| -> CliResult<Verified> {
            let bytes = backend
                .read(stored, limit)?
                .ok_or_else(|| Failure::new("E-STORE-DAMAGED", "its bundle is missing"))?;
            if let Some(latest) = latest {
                let at = bytes.len().saturating_sub(latest.digest.len());
                if bytes.len() as u64 != latest.len || bytes[at..] != latest.digest {
                    return Err(Failure::new(
                        "E-STORE-DAMAGED",
                        "its bundle is not the one committed",
                    ));
                }
            }
            let mut options = VerifyOptions::new().expect_shard(shard).expect_epoch(epoch);
            if let Some(key) = key {
                options = options.key(key.clone());
            }
            Ok(verify(&bytes, &options)?)
        })();
        Ok((name, result))
    }

    /// `log --pg`: every shard in the database (or `--shard`), as `log`
    /// lists a directory.
    pub(crate) fn log(url: &str, args: &LogArgs, out: &mut Out) -> CliResult<Outcome> {
        let key = args.key_file.as_deref().map(read_key).transpose()?;
        let check = Check {
            key: key.as_ref(),
            fingerprint: KeyFingerprint::of(key.as_ref()),
            schema: args.schema.as_ref(),
        };
        let shards: Vec<u64> = match args.shard {
            Some(shard) => vec![shard],
            None => {
                // The shards with a head, and those with epochs but no head
                // (a lost head is a problem to show, not a shard to skip).
                let probe = match reader(url, ShardId(0)) {
                    Ok(probe) => probe,
                    Err(e) if no_tables(&e) => {
                        outln!(out, "{}", chain(&e));
                        outln!(out, "no shards (nothing was created)");
                        return Ok(Outcome::Success);
                    }
                    Err(e) => return Err(e.into()),
                };
                let mut client = postgres::Client::connect(url, postgres::NoTls)
                    .map_err(|e| backend_failure(&probe, "list the shards at", e))?;
                let rows = client
                    .query(
                        "SELECT shard FROM caelmor_head UNION SELECT shard FROM caelmor_epochs \
                         ORDER BY 1",
                        &[],
                    )
                    .map_err(|e| backend_failure(&probe, "list the shards at", e))?;
                rows.iter()
                    .filter_map(|r| u64::try_from(r.get::<_, i64>(0)).ok())
                    .collect()
            }
        };
        if shards.is_empty() {
            outln!(out, "no shards");
            return Ok(Outcome::Success);
        }
        let mut all_ok = true;
        for (i, shard) in shards.into_iter().enumerate() {
            if i > 0 {
                outln!(out);
            }
            all_ok &= log_shard(url, ShardId(shard), &check, out)?;
        }
        Ok(if all_ok {
            Outcome::Success
        } else {
            Outcome::Rejected
        })
    }

    fn backend_failure(backend: &PgBackend, op: &'static str, e: postgres::Error) -> Failure {
        StoreError::Backend {
            op,
            location: backend.location(),
            source: Box::new(e),
        }
        .into()
    }

    /// What the database says beside the store's rows: when each epoch was
    /// committed, and which session holds the owner lock.
    struct Extra {
        committed_at: Vec<(u64, String)>,
        owner: String,
    }

    fn extra(url: &str, backend: &PgBackend) -> Result<Extra, postgres::Error> {
        let mut c = postgres::Client::connect(url, postgres::NoTls)?;
        let shard = i64::try_from(backend.shard().get()).unwrap_or(-1);
        let committed_at = c
            .query(
                "SELECT epoch, to_char(committed_at AT TIME ZONE 'UTC', \
                 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM caelmor_epochs WHERE shard = $1::int8",
                &[&shard],
            )?
            .iter()
            .filter_map(|r| Some((u64::try_from(r.get::<_, i64>(0)).ok()?, r.get(1))))
            .collect();
        let owner = c
            .query_opt(
                "SELECT l.pid, coalesce(host(a.client_addr), 'local'), \
                 to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') \
                 FROM pg_locks l LEFT JOIN pg_stat_activity a USING (pid) \
                 WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
                 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
                 AND ((l.classid::int8 << 32) | l.objid::int8) = $1::int8",
                &[&backend.owner_lock_key()],
            )?
            .map_or_else(
                || "owner lock free".to_owned(),
                |r| {
                    let (pid, from, since): (i32, String, Option<String>) =
                        (r.get(0), r.get(1), r.get(2));
                    format!(
                        "owner lock held by pid {pid} from {from} since {}",
                        since.unwrap_or_else(|| "?".to_owned())
                    )
                },
            );
        Ok(Extra {
            committed_at,
            owner,
        })
    }

    /// Lists one shard; returns whether its latest epoch can be loaded and
    /// every committed epoch is sound.
    fn log_shard(url: &str, shard: ShardId, check: &Check<'_>, out: &mut Out) -> CliResult<bool> {
        let backend = match reader(url, shard) {
            Ok(b) => b,
            Err(e) if no_tables(&e) => {
                outln!(out, "{}", chain(&e));
                return Ok(true);
            }
            Err(e) => return Err(e.into()),
        };
        let place = backend.location();
        let (head, mut stored) = match backend.head().and_then(|h| Ok((h, backend.list()?))) {
            Ok(found) => found,
            Err(e) => {
                outln!(out, "{place}: {}", chain(&e));
                return Ok(false);
            }
        };
        stored.sort();
        let extra = extra(url, &backend).map_err(|e| backend_failure(&backend, "read", e))?;
        let Some(head) = head else {
            if let Some(newest) = stored.iter().max() {
                let e = StoreError::HeadMissing {
                    location: place,
                    newest: newest.epoch,
                };
                outln!(out, "{}", chain(&e));
                outln!(
                    out,
                    "  {} epoch rows remain; whether they were committed cannot be told",
                    stored.len()
                );
                return Ok(false);
            }
            outln!(out, "{place}: 0 epochs (never claimed); {}", extra.owner);
            return Ok(true);
        };
        let latest_missing = head
            .latest
            .is_some_and(|l| !stored.iter().any(|s| s.epoch == l.epoch));
        let committed = stored.len() + usize::from(latest_missing);
        outln!(
            out,
            "{place}: {committed} epoch{}, current {}, latest {}, head version {}, {}; {}",
            if committed == 1 { "" } else { "s" },
            head.fence,
            head.latest
                .map_or_else(|| "none".to_owned(), |l| l.epoch.to_string()),
            head.version,
            if head.key == KeyFingerprint::UNKEYED {
                "unkeyed".to_owned()
            } else {
                format!("keyed {}", short(head.key))
            },
            extra.owner,
        );
        let key_problem = key_problem(&head, check);
        if let Some(problem) = &key_problem {
            outln!(out, "  {problem}");
        }
        table_header(out);
        let mut problems = 0;
        let mut latest_refused: Option<&'static str> = None;
        if let Some(latest) = head.latest.filter(|_| latest_missing) {
            problems += 1;
            latest_refused = Some(missing_latest_row(out, &latest));
        }
        for &s in stored.iter().rev() {
            let latest = head.latest.filter(|l| l.epoch == s.epoch);
            let (status, bytes) = read_status(&backend, shard, s, latest.as_ref(), &head, check);
            let when = extra
                .committed_at
                .iter()
                .find(|(e, _)| *e == s.epoch.get())
                .map_or("-", |(_, t)| t.as_str());
            let schema = status.summary().map_or_else(
                || "-".to_owned(),
                |s| format!("{} v{}", s.schema_name, s.schema_version),
            );
            match (&status, latest.is_some()) {
                (Status::Ok(_), _) | (Status::OtherSchema(..), false) => {}
                (_, is_latest) => {
                    problems += 1;
                    if is_latest {
                        latest_refused = Some(status.code());
                    }
                }
            }
            outln!(
                out,
                "  {:<14} {:<10} {bytes:>12}  {when:<20}  {schema:<24}  {}",
                s.epoch.to_string(),
                s.fence.to_string(),
                status.text()
            );
        }
        if problems > 0 {
            outln!(
                out,
                "  {problems} of {committed} committed epoch{} cannot be used",
                if committed == 1 { "" } else { "s" }
            );
        }
        let refused = latest_refused.or(key_problem.as_ref().map(|_| "E-STORE-KEY"));
        if let (Some(latest), Some(code)) = (head.latest, refused) {
            outln!(
                out,
                "  the latest, {}, cannot be loaded ({code}); a server will not fall back to an older epoch",
                latest.epoch
            );
        }
        Ok(problems == 0 && key_problem.is_none())
    }

    /// One epoch's status and its size in bytes (or `-`).
    fn read_status(
        backend: &PgBackend,
        shard: ShardId,
        stored: StoredEpoch,
        latest: Option<&caelmor_persist::EpochRecord>,
        head: &caelmor_persist::Head,
        check: &Check<'_>,
    ) -> (Status, String) {
        let limit = latest.map_or(StoreConfig::DEFAULT_MAX_BUNDLE_LEN, |l| l.len);
        match backend.read(stored, limit) {
            Ok(Some(bytes)) => {
                let len = bytes.len().to_string();
                (check_bytes(&bytes, shard, stored, latest, head, check), len)
            }
            Ok(None) => (
                Status::Damaged("its bundle is missing".to_owned()),
                "-".to_owned(),
            ),
            Err(StoreError::Damaged { detail, .. }) => (Status::Damaged(detail), "-".to_owned()),
            Err(StoreError::TooLarge { len, limit, .. }) if latest.is_some() => (
                Status::Damaged(format!(
                    "its bundle holds {len} bytes, {limit} were committed"
                )),
                len.to_string(),
            ),
            Err(e) => (Status::Unreadable(e.code(), chain(&e)), "-".to_owned()),
        }
    }
}
