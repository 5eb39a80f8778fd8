//! `verify` on arbitrary bytes, as given and re-framed with a valid
//! unkeyed digest. Must never panic; the same bytes give the same answer;
//! an accepted bundle's summary describes exactly these bytes.
#![no_main]

use caelmor_persist::{VerifyOptions, verify};
use libfuzzer_sys::fuzz_target;

mod common;

fn check(bytes: &[u8]) {
    let first = verify(bytes, &VerifyOptions::new());
    assert_eq!(first, verify(bytes, &VerifyOptions::new()), "deterministic");
    if let Ok(v) = first {
        assert_eq!(v.summary.total_bytes, bytes.len() as u64);
        let counts = v.index.counts();
        for (section, count) in v.summary.sections.iter().zip(counts) {
            assert_eq!(section.records, count);
        }
        // Stating the bundle's own header as expectations changes nothing.
        let expected = VerifyOptions::new()
            .expect_schema(v.summary.schema_name.clone(), v.summary.schema_version)
            .expect_shard(v.summary.shard)
            .expect_epoch(v.summary.epoch);
        assert_eq!(verify(bytes, &expected), Ok(v));
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    if let Some(framed) = common::reframed(data) {
        check(&framed);
    }
});
