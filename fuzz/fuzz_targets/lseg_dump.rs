//! LSEG dump files (`{"recv_ns","frame"}` per line) over arbitrary bytes: no panic, and a reader resumed
//! at a reported position (it decodes the lines before again) hands out exactly the items after it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tickring_engine::feed::replay::LsegDumpReader;
use tickring_fuzz::{assert_resumes_exactly, drain, mapping, resume_point};

fuzz_target!(|data: &[u8]| {
    let mut reader = LsegDumpReader::new(data, mapping());
    let items = drain(&mut reader, LsegDumpReader::position);
    if let Some((at, position)) = resume_point(&items) {
        let mut resumed = LsegDumpReader::new(data, mapping());
        resumed.resume(position).expect("a position this file reported resumes");
        assert_resumes_exactly(&items, at, resumed);
    }
});
