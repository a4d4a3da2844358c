//! Decoder throughput, for a quick look: `cargo test --release -p tickring-engine --test lseg_throughput -- --ignored --nocapture`.
#![allow(clippy::unwrap_used)] // test code

use std::sync::Arc;
use std::time::Instant;
use tickring_engine::feed::lseg::{FeedEvent, LsegSession};
use tickring_engine::mapping;

#[test]
#[ignore = "measurement, run in release"]
fn trade_updates_per_second_on_one_core() {
    let mut s = LsegSession::new(Arc::new(mapping::builtin()));
    s.expect_item(3, "AAPL.O");
    let frames: Vec<String> = (0..1000)
        .map(|i| {
            format!(
                r#"[{{"ID":3,"Type":"Update","UpdateType":"Trade","SeqNumber":{i},"Fields":{{"TRDPRC_1":189.{:02},"TRDVOL_1":{},"SALTIM":"13:30:00","SALTIM_MS":{},"SALTIM_NS":"13:30:00.{:09}","ACVOL_1":{},"NUM_MOVES":{i},"PRC_QL_CD":"0","RDN_EXCHD2":"NMQ"}}}}]"#,
                i % 100,
                100 + i,
                48_600_000 + i,
                i * 1000,
                1_000_000 + i * 100
            )
        })
        .collect();
    let recv = 20_649u64 * 86_400_000_000_000 + 48_600_000_000_000;
    let rounds = 2000;
    let mut trades = 0u64;
    let start = Instant::now();
    for _ in 0..rounds {
        for f in &frames {
            s.on_frame(f, recv, &mut |e| {
                if matches!(e, FeedEvent::Trade(_)) {
                    trades += 1;
                }
            });
        }
    }
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(trades, rounds * frames.len() as u64);
    println!("{trades} trade updates in {secs:.3} s: {:.2} M/s", trades as f64 / secs / 1e6);
}
