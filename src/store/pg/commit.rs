//! A commit's transaction, and how an error from its `COMMIT` is settled.

use postgres::types::ToSql;
use postgres::{IsolationLevel, NoTls, Row};

use super::conn::Conn;
use super::{PgBackend, PgError, int8, sql};
use crate::store::StoreError;
use crate::store::backend::{EpochRecord, Head, Swap};

impl PgBackend {
    /// Settles a `COMMIT` that failed: on a new connection, waits for every
    /// transaction holding the head's row (ours, if the server is still
    /// committing it), then reads the head and the epoch's row.
    pub(super) fn settle_commit(
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
}

/// How a publish's transaction ended.
pub(super) enum Written {
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
    pub(super) fn write(
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
