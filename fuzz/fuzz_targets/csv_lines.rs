//! CSV trades over arbitrary bytes, with the default column names and the fixture's (`time,ric,px,...`):
//! no panic, and a reader resumed at a reported position hands out exactly the items after it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tickring_engine::feed::replay::{CsvColumns, CsvReader};
use tickring_fuzz::{assert_resumes_exactly, drain, resume_point};

fn fixture_columns() -> CsvColumns {
    CsvColumns {
        symbol: "ric".into(),
        ts: "time".into(),
        price: "px".into(),
        size: "qty".into(),
        exchange: Some("venue".into()),
        trade_id: Some("id".into()),
    }
}

fuzz_target!(|data: &[u8]| {
    for columns in [CsvColumns::default(), fixture_columns()] {
        let Ok(mut reader) = CsvReader::new(data, &columns) else { continue };
        let items = drain(&mut reader, |r| Some(r.position()));
        if let Some((at, position)) = resume_point(&items) {
            let mut resumed = CsvReader::new(data, &columns).expect("the header read before");
            resumed.resume(position).expect("a position this file reported resumes");
            assert_resumes_exactly(&items, at, resumed);
        }
    }
});
