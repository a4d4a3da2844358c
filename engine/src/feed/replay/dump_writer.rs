//! Writing LSEG dumps: what [`super::LsegDumpReader`] reads, one received frame per line.

use serde::de::IgnoredAny;
use std::io::{self, Write};

/// Appends `{"recv_ns":N,"frame":[..]}` lines. A frame that is not valid JSON is kept as a JSON string of
/// the exact text received, so a replay quarantines it just as the live decoder did.
#[derive(Debug)]
pub struct DumpWriter<W: Write> {
    out: W,
    frames: u64,
    bytes: u64,
}

impl<W: Write> DumpWriter<W> {
    pub fn new(out: W) -> Self {
        Self { out, frames: 0, bytes: 0 }
    }

    /// # Errors
    /// The underlying writer failed.
    pub fn write_frame(&mut self, frame: &str, recv_ns: u64) -> io::Result<()> {
        write!(self.out, "{{\"recv_ns\":{recv_ns},\"frame\":")?;
        // A frame is embedded as is only when it is one JSON value; anything else is quoted.
        if serde_json::from_str::<IgnoredAny>(frame).is_ok() && !frame.contains('\n') {
            self.out.write_all(frame.as_bytes())?;
        } else {
            serde_json::to_writer(&mut self.out, frame)?;
        }
        self.out.write_all(b"}\n")?;
        self.frames += 1;
        self.bytes += frame.len() as u64;
        Ok(())
    }

    /// Frames written.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Bytes of frame text written (as received, before quoting).
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// # Errors
    /// The underlying writer failed.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::replay::{LsegDumpReader, ReplayItem};
    use crate::feed::RejectReason;

    #[test]
    fn written_dumps_replay_including_broken_and_multiline_frames() {
        let mut w = DumpWriter::new(Vec::new());
        w.write_frame("[{\"Type\":\"Ping\"}]", 5).unwrap();
        w.write_frame("[{\"ID\":3,", 6).unwrap();
        w.write_frame("[\n{\"Type\":\"Ping\"}\n]", 7).unwrap();
        assert_eq!(w.frames(), 3);
        let text = String::from_utf8(w.out).unwrap();
        assert_eq!(text.lines().count(), 3, "{text}");
        let mut reader = LsegDumpReader::new(text.as_bytes(), crate::mapping::builtin().into());
        let items: Vec<_> = reader.by_ref().collect::<io::Result<_>>().unwrap();
        assert!(
            matches!(&items[..], [ReplayItem::Reject(r)] if r.reason == RejectReason::MalformedJson && r.raw == "[{\"ID\":3," && r.recv_ns == 6)
        );
        assert_eq!(reader.session().counters().pings, 2);
    }
}
