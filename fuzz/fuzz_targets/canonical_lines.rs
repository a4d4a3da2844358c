//! Canonical tick JSON lines over arbitrary bytes: no panic, and a reader resumed at a reported position
//! hands out exactly the items after it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tickring_engine::feed::replay::CanonicalReader;
use tickring_fuzz::{assert_resumes_exactly, drain, resume_point};

fuzz_target!(|data: &[u8]| {
    let mut reader = CanonicalReader::new(data);
    let items = drain(&mut reader, |r| Some(r.position()));
    if let Some((at, position)) = resume_point(&items) {
        let mut resumed = CanonicalReader::new(data);
        resumed.resume(position).expect("a position this file reported resumes");
        assert_resumes_exactly(&items, at, resumed);
    }
});
