//! Shared by the fuzz targets.

/// The input, re-framed and re-digested (unkeyed) as a writer who bypasses
/// the server could do: the input is taken as preamble and body, its frame
/// length patched and a BLAKE3 digest appended. Without this, almost every
/// mutation stops at the digest (rule 4) and the decoder is never reached.
pub fn reframed(data: &[u8]) -> Option<Vec<u8>> {
    const PREAMBLE_LEN: usize = 18;
    if data.len() < PREAMBLE_LEN {
        return None;
    }
    let mut content = data.to_vec();
    let frame_len = (content.len() + 32) as u64;
    content[10..18].copy_from_slice(&frame_len.to_le_bytes());
    let digest = blake3::hash(&content);
    content.extend_from_slice(digest.as_bytes());
    Some(content)
}
