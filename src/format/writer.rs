//! Streams one bundle into one buffer: preamble and header first, then each
//! section as the save chain completes it, then the frame length and digest.

use serde::Serialize;

use super::flavor::append;
use super::wire::{Header, SectionStamp};
use super::{CANONICAL_TABLE, DIGEST_LEN, DigestKey, FORMAT_VERSION, MAGIC, PREAMBLE_LEN, digest};
use crate::ids::{Epoch, ShardId};
use crate::rejection::Rejection;
use crate::system::System;

/// A bundle under construction. Sections must be appended in
/// [`System::ORDER`]; the save chain's types guarantee that.
#[derive(Debug)]
pub(crate) struct BundleWriter {
    buf: Vec<u8>,
    shard: ShardId,
    epoch: Epoch,
}

fn encode_failed(system: System, id: u64, e: postcard::Error) -> Rejection {
    Rejection::Unencodable {
        system,
        id,
        detail: e.to_string(),
    }
}

impl BundleWriter {
    /// Writes the preamble (with a placeholder frame length), the header and
    /// the section table.
    pub(crate) fn begin(header: &Header) -> Self {
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(&MAGIC);
        buf.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        buf.extend_from_slice(&[0; 8]);
        // Encoding plain ids, integers and a string into a Vec cannot fail.
        let _ = append(header, &mut buf);
        let _ = append(&CANONICAL_TABLE[..], &mut buf);
        debug_assert!(buf.len() > PREAMBLE_LEN);
        Self {
            buf,
            shard: header.shard,
            epoch: header.epoch,
        }
    }

    /// Appends one section: stamp, structural index, then the records.
    ///
    /// `index` and `records` must be in the same (canonical) order; `id_of`
    /// names a record in an encode error.
    pub(crate) fn section<'r, E, R>(
        &mut self,
        system: System,
        index: &[E],
        records: &[&'r R],
        id_of: impl Fn(&R) -> u64,
    ) -> Result<(), Rejection>
    where
        E: Serialize,
        R: Serialize + 'r,
    {
        let stamp = SectionStamp {
            system: system as u8,
            shard: self.shard,
            epoch: self.epoch,
        };
        let _ = append(&stamp, &mut self.buf);
        // Index entries are ids and enums of ids: encoding cannot fail.
        let _ = append(index, &mut self.buf);
        let len_at = self.buf.len();
        self.buf.extend_from_slice(&[0; 8]);
        for record in records {
            append(*record, &mut self.buf).map_err(|e| encode_failed(system, id_of(record), e))?;
        }
        let payload_len = (self.buf.len() - len_at - 8) as u64;
        self.buf[len_at..len_at + 8].copy_from_slice(&payload_len.to_le_bytes());
        Ok(())
    }

    /// Patches the frame length, appends the digest and returns the bundle
    /// and its digest.
    pub(crate) fn finish(mut self, key: Option<&DigestKey>) -> (Vec<u8>, [u8; DIGEST_LEN]) {
        let frame_len = (self.buf.len() + DIGEST_LEN) as u64;
        self.buf[10..18].copy_from_slice(&frame_len.to_le_bytes());
        let d = digest(&self.buf, key);
        self.buf.extend_from_slice(&d);
        (self.buf, d)
    }
}
