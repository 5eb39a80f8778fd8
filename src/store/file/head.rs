//! The text form of a shard's head in a [`FileBackend`](super::FileBackend):
//! one small file per head version, created once, never changed.
//!
//! ```text
//! caelmor-persist head 1
//! shard 7
//! version 12
//! fence 3
//! key unkeyed
//! latest 41 fence 3 len 2819118 digest 2bfdaf0b…(64 hex digits)
//! previous 9c1e…(64 hex digits)
//! check 5d0a…(64 hex digits)
//! ```
//!
//! `latest none` until the first commit; `previous` is the BLAKE3 of the
//! head file this one replaced (`previous none` for version 1), so a writer
//! can tell a head built on its own from one that merely reuses a pruned
//! name; `check` is the BLAKE3 of every line above it, so a torn or edited
//! record is refused (`E-STORE-META`) rather than misread.

use crate::ids::{Epoch, Fence, ShardId};
use crate::store::backend::{EpochRecord, Head, KeyFingerprint};

const MAGIC_LINE: &str = "caelmor-persist head 1";

/// The largest head file there can be: every line at its longest.
pub(crate) const MAX_LEN: u64 = 1024;

/// The hash a successor names as `previous`.
pub(crate) type Link = [u8; 32];

/// A head as stored: the head, the link to the one it replaced, and the
/// hash of the whole file (its successor's link).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stored {
    pub head: Head,
    pub previous: Option<Link>,
    pub hash: Link,
}

fn hex(bytes: &[u8; 32]) -> String {
    blake3::Hash::from_bytes(*bytes).to_hex().to_string()
}

fn unhex(text: &str) -> Option<[u8; 32]> {
    blake3::Hash::from_hex(text).ok().map(|h| *h.as_bytes())
}

/// The file's text for `head` of `shard`, linked to `previous`.
pub(crate) fn encode(shard: ShardId, head: &Head, previous: Option<&Link>) -> Vec<u8> {
    let latest = match &head.latest {
        None => "none".to_owned(),
        Some(l) => format!(
            "{} fence {} len {} digest {}",
            l.epoch.0,
            l.fence.0,
            l.len,
            hex(&l.digest)
        ),
    };
    let previous = previous.map_or_else(|| "none".to_owned(), hex);
    let body = format!(
        "{MAGIC_LINE}\nshard {}\nversion {}\nfence {}\nkey {}\nlatest {latest}\nprevious {previous}\n",
        shard.0, head.version, head.fence.0, head.key
    );
    let check = hex(blake3::hash(body.as_bytes()).as_bytes());
    format!("{body}check {check}\n").into_bytes()
}

/// The hash a head file's successor names as `previous`.
pub(crate) fn link_of(bytes: &[u8]) -> Link {
    *blake3::hash(bytes).as_bytes()
}

/// Parses a head file strictly: exactly the lines [`encode`] writes, for
/// `shard`, with a matching check. `Err` says what is wrong.
pub(crate) fn decode(shard: ShardId, bytes: &[u8]) -> Result<Stored, &'static str> {
    let text = core::str::from_utf8(bytes).map_err(|_| "not UTF-8 text")?;
    let (body, check) = text
        .strip_suffix('\n')
        .and_then(|t| t.rsplit_once('\n'))
        .ok_or("not a complete head record")?;
    let check = check.strip_prefix("check ").ok_or("no check line")?;
    let body = &text[..body.len() + 1];
    if unhex(check) != Some(*blake3::hash(body.as_bytes()).as_bytes()) {
        return Err("its check does not match (torn or edited)");
    }
    let mut lines = body.lines();
    if lines.next() != Some(MAGIC_LINE) {
        return Err("not a caelmor-persist head record");
    }
    let mut field = |name: &str| -> Result<&str, &'static str> {
        lines
            .next()
            .and_then(|l| l.strip_prefix(name))
            .and_then(|l| l.strip_prefix(' '))
            .ok_or("a line is missing or out of order")
    };
    let number = |s: &str| -> Result<u64, &'static str> {
        if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err("a number is malformed");
        }
        s.parse().map_err(|_| "a number is out of range")
    };
    if number(field("shard")?)? != shard.0 {
        return Err("it belongs to another shard");
    }
    let version = number(field("version")?)?;
    let fence = Fence(number(field("fence")?)?);
    let key = KeyFingerprint::parse(field("key")?).ok_or("the key fingerprint is malformed")?;
    let latest = match field("latest")? {
        "none" => None,
        text => {
            let mut parts = text.split(' ');
            let mut next = |label: Option<&str>| -> Result<&str, &'static str> {
                if let Some(label) = label
                    && parts.next() != Some(label)
                {
                    return Err("the latest epoch is malformed");
                }
                parts.next().ok_or("the latest epoch is malformed")
            };
            let epoch = Epoch(number(next(None)?)?);
            let fence = Fence(number(next(Some("fence"))?)?);
            let len = number(next(Some("len"))?)?;
            let digest = unhex(next(Some("digest"))?).ok_or("the digest is malformed")?;
            if parts.next().is_some() || epoch.0 == 0 {
                return Err("the latest epoch is malformed");
            }
            Some(EpochRecord {
                epoch,
                fence,
                len,
                digest,
            })
        }
    };
    let previous = match field("previous")? {
        "none" => None,
        text => Some(unhex(text).ok_or("the previous link is malformed")?),
    };
    if version == 0 || (version == 1) != previous.is_none() {
        return Err("the version and the previous link disagree");
    }
    Ok(Stored {
        head: Head {
            version,
            fence,
            key,
            latest,
        },
        previous,
        hash: link_of(bytes),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Head {
        Head {
            version: 12,
            fence: Fence(3),
            key: KeyFingerprint::UNKEYED,
            latest: Some(EpochRecord {
                epoch: Epoch(41),
                fence: Fence(3),
                len: 2_819_118,
                digest: [0xab; 32],
            }),
        }
    }

    #[test]
    fn what_is_written_reads_back() {
        let previous = [7; 32];
        let bytes = encode(ShardId(7), &sample(), Some(&previous));
        let stored = decode(ShardId(7), &bytes).expect("valid");
        assert_eq!(stored.head, sample());
        assert_eq!(stored.previous, Some(previous));
        assert_eq!(stored.hash, link_of(&bytes));
        assert!(bytes.len() as u64 <= MAX_LEN);
        let first = Head::first(Fence(1), KeyFingerprint::UNKEYED);
        let bytes = encode(ShardId(7), &first, None);
        assert_eq!(decode(ShardId(7), &bytes).expect("valid").head, first);
    }

    #[test]
    fn every_edit_is_refused() {
        let bytes = encode(ShardId(7), &sample(), Some(&[7; 32]));
        assert_eq!(
            decode(ShardId(8), &bytes),
            Err("it belongs to another shard")
        );
        for at in 0..bytes.len() {
            let mut edited = bytes.clone();
            edited[at] ^= 0x01;
            assert!(decode(ShardId(7), &edited).is_err(), "edit at {at}");
            assert!(decode(ShardId(7), &bytes[..at]).is_err(), "cut at {at}");
        }
    }

    #[test]
    fn the_longest_record_fits_the_bound() {
        let head = Head {
            version: u64::MAX,
            fence: Fence(u64::MAX),
            key: KeyFingerprint::from_bytes(Some([0xff; 32])),
            latest: Some(EpochRecord {
                epoch: Epoch(u64::MAX),
                fence: Fence(u64::MAX),
                len: u64::MAX,
                digest: [0xff; 32],
            }),
        };
        let bytes = encode(ShardId(u64::MAX), &head, Some(&[0xff; 32]));
        assert!(bytes.len() as u64 <= MAX_LEN, "{}", bytes.len());
        assert_eq!(decode(ShardId(u64::MAX), &bytes).expect("valid").head, head);
    }
}
