//! Reading an epoch back: one snapshot, the chunks streamed into one
//! buffer, their sequence and lengths checked as they come.

use postgres::IsolationLevel;
use postgres::fallible_iterator::FallibleIterator as _;
use postgres::types::ToSql;

use super::conn::Conn;
use super::{PgBackend, int8};
use crate::store::StoreError;
use crate::store::backend::{Backend, StoredEpoch};

impl PgBackend {
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
    pub(super) fn read_chunks(
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
