//! Two postcard output flavors: one that appends to a caller's buffer (so a
//! whole bundle is encoded into one allocation, never copied section by
//! section), and one that compares instead of writing (so the canonical
//! encoding check re-encodes without allocating).

use postcard::ser_flavors::Flavor;

/// Appends postcard output to an existing `Vec<u8>`.
pub(crate) struct AppendVec<'a>(pub &'a mut Vec<u8>);

impl Flavor for AppendVec<'_> {
    type Output = ();

    #[inline]
    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        // Most calls carry one varint (1 to 10 bytes), most of those one
        // byte: copying those byte by byte beats a call to `memcpy` for each.
        if let [byte] = data {
            self.0.push(*byte);
        } else if data.len() <= 16 {
            self.0.extend(data.iter().copied());
        } else {
            self.0.extend_from_slice(data);
        }
        Ok(())
    }

    #[inline]
    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.0.push(data);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

/// Encodes `value` onto the end of `out`.
pub(crate) fn append<T: serde::Serialize + ?Sized>(
    value: &T,
    out: &mut Vec<u8>,
) -> postcard::Result<()> {
    postcard::serialize_with_flavor(value, AppendVec(out))
}

/// Checks output against expected bytes as it is produced; stops at the
/// first difference.
struct CompareFlavor<'a> {
    expected: &'a [u8],
}

impl Flavor for CompareFlavor<'_> {
    type Output = bool;

    #[inline]
    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        if let [byte] = data {
            return self.try_push(*byte);
        }
        match self.expected.split_at_checked(data.len()) {
            Some((head, rest)) if same(head, data) => {
                self.expected = rest;
                Ok(())
            }
            _ => Err(postcard::Error::SerializeBufferFull),
        }
    }

    #[inline]
    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        match self.expected.split_first() {
            Some((&first, rest)) if first == data => {
                self.expected = rest;
                Ok(())
            }
            _ => Err(postcard::Error::SerializeBufferFull),
        }
    }

    fn finalize(self) -> postcard::Result<bool> {
        Ok(self.expected.is_empty())
    }
}

/// Slice equality; most calls compare one varint (1 to 10 bytes), where a
/// plain loop beats a call to `memcmp` for each.
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() <= 16 {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
    } else {
        a == b
    }
}

/// True when encoding `value` gives exactly `bytes`: the one canonical
/// encoding. postcard accepts, for example, over-long varints; this check is
/// what turns "decodes" into "decodes from the only bytes that say this".
pub(crate) fn encodes_to<T: serde::Serialize + ?Sized>(value: &T, bytes: &[u8]) -> bool {
    postcard::serialize_with_flavor(value, CompareFlavor { expected: bytes }).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_accepts_exact_and_refuses_overlong_varint() {
        assert!(encodes_to(&1u64, &[1]));
        assert!(!encodes_to(&1u64, &[0x81, 0x00]));
        assert!(!encodes_to(&1u64, &[1, 0]));
        assert!(!encodes_to(&300u64, &[0xac]));
        // Same length, other value: a varint, a single byte, a long string.
        assert!(!encodes_to(&1u64, &[2]));
        assert!(!encodes_to(&1u8, &[2]));
        assert!(encodes_to(&7u8, &[7]));
        let long = "x".repeat(40);
        let mut other = postcard::to_allocvec(&long).unwrap();
        assert!(encodes_to(&long[..], &other));
        other[20] = b'y';
        assert!(!encodes_to(&long[..], &other));
        let (v, rest): (u64, _) = postcard::take_from_bytes(&[0x81, 0x00]).unwrap();
        assert_eq!(
            (v, rest.len()),
            (1, 0),
            "postcard alone accepts the over-long form"
        );
    }

    #[test]
    fn append_extends_in_place() {
        let mut out = vec![9];
        append(&(1u8, 2u64), &mut out).unwrap();
        assert_eq!(out, vec![9, 1, 2]);
    }
}
