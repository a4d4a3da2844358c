//! The LSEG websocket decoder, `LsegSession::on_frame`: each line of the input is one text frame of the
//! same connection (so later frames meet the streams earlier ones opened). No panic, whatever arrives.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tickring_engine::feed::lseg::{FeedEvent, LsegSession};
use tickring_engine::{Price, Quantity};
use tickring_fuzz::mapping;

fuzz_target!(|data: &[u8]| {
    // A websocket text frame is UTF-8 by the protocol (the client library checks it).
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut session = LsegSession::new(mapping());
    // What the live client registers before it sends its requests.
    session.expect_login(1);
    session.expect_batch(2, &["AAPL.O", "MSFT.O", "ESZ6"]);
    session.expect_item(10, "VOD.L");
    let mut events = 0usize;
    for (i, frame) in text.split('\n').enumerate() {
        let recv_ns = 1_784_122_200_000_000_000 + i as u64 * 1_000_000;
        session.on_frame(frame, recv_ns, &mut |event| {
            events += 1;
            // Formatting touches every field the decoder filled in.
            let _ = format!("{event:?}");
            if let FeedEvent::Trade(t) = &event {
                let _ = t.flags();
                // Prices and sizes print exactly: what is stored parses back to the same value.
                assert_eq!(Price::parse(&t.price.to_string()), Ok(t.price), "{t:?}");
                assert_eq!(Quantity::parse(&t.size.to_string()), Ok(t.size), "{t:?}");
            }
        });
    }
    let _ = (events, format!("{:?}", session.counters()));
});
