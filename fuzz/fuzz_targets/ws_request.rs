//! What a websocket client sends: the request frame (`request::parse`), the channel names in it
//! (`Channel::parse`), and the `?token=` decoding of the upgrade request. No panic; a parsed channel
//! prints back as the name it was parsed from.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tickring_engine::candles::Series;
use tickring_sink_websocket::channel::Channel;
use tickring_sink_websocket::http::percent_decode;
use tickring_sink_websocket::request;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match request::parse(text) {
        Ok(req) => {
            for name in &req.channels {
                if let Ok(channel) = Channel::parse(name, &Series::DEFAULT) {
                    assert_eq!(&channel.to_string(), name, "{channel:?}");
                }
            }
        }
        Err(bad) => {
            let _ = (bad.code(), bad.id(), bad.message());
        }
    }
    // The raw text as a channel name and as a query value too: clients send both.
    if let Ok(channel) = Channel::parse(text, &Series::DEFAULT) {
        assert_eq!(channel.to_string(), text, "{channel:?}");
    }
    let decoded = percent_decode(text);
    assert!(decoded.len() <= text.len(), "decoding never grows the text");
});
