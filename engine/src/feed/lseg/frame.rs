//! Cutting a frame (a JSON array of messages) into its messages without copying them.

use serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;

/// Byte range of one message inside its frame.
pub(crate) type Span = (u32, u32);

/// Why a frame yielded no messages.
#[derive(Debug)]
pub(crate) enum FrameError {
    /// Not JSON at all (or truncated): nothing in it can be trusted.
    Malformed(String),
    /// Valid JSON, but neither an array of messages nor a single message object.
    NotAnArray,
}

/// Validates the whole frame first, then records each message's span into `out`, so that one broken
/// frame never yields half of its messages.
pub(crate) fn split(frame: &str, out: &mut Vec<Span>) -> Result<(), FrameError> {
    out.clear();
    let trimmed_start = frame.len() - frame.trim_start().len();
    match frame.as_bytes().get(trimmed_start) {
        Some(b'[') => {
            let mut de = serde_json::Deserializer::from_str(frame);
            let seed = Collect { base: frame.as_ptr() as usize, out };
            let result = seed.deserialize(&mut de).and_then(|()| de.end());
            result.map_err(|e| {
                out.clear();
                FrameError::Malformed(e.to_string())
            })
        }
        Some(b'{') => {
            let raw: &RawValue =
                serde_json::from_str(frame).map_err(|e| FrameError::Malformed(e.to_string()))?;
            out.push(span_of(frame.as_ptr() as usize, raw.get()));
            Ok(())
        }
        _ => match serde_json::from_str::<de::IgnoredAny>(frame) {
            Ok(_) => Err(FrameError::NotAnArray),
            Err(e) => Err(FrameError::Malformed(e.to_string())),
        },
    }
}

/// Offset of `part` inside the text starting at address `base` (the parser hands out subslices).
pub(crate) fn span_of(base: usize, part: &str) -> Span {
    let start = part.as_ptr() as usize - base;
    (start as u32, part.len() as u32)
}

struct Collect<'o> {
    base: usize,
    out: &'o mut Vec<Span>,
}

impl<'de> DeserializeSeed<'de> for Collect<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Collect<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of messages")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(raw) = seq.next_element::<&'de RawValue>()? {
            self.out.push(span_of(self.base, raw.get()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(frame: &str) -> Result<Vec<&str>, String> {
        let mut spans = Vec::new();
        split(frame, &mut spans).map_err(|e| format!("{e:?}"))?;
        Ok(spans.iter().map(|&(s, l)| &frame[s as usize..(s + l) as usize]).collect())
    }

    #[test]
    fn splits_arrays_and_single_objects() {
        assert_eq!(
            parts(r#" [{"a":1}, {"b":[2,3]} ,7]"#).unwrap(),
            [r#"{"a":1}"#, r#"{"b":[2,3]}"#, "7"]
        );
        assert_eq!(parts(r#"{"Type":"Ping"}"#).unwrap(), [r#"{"Type":"Ping"}"#]);
        assert_eq!(parts("[]").unwrap(), Vec::<&str>::new());
    }

    #[test]
    fn refuses_broken_frames_whole() {
        assert!(parts(r#"[{"a":1}, {"b":"#).unwrap_err().contains("Malformed"));
        assert!(parts(r#"[{"a":1}] x"#).unwrap_err().contains("Malformed"));
        assert!(parts("42").unwrap_err().contains("NotAnArray"));
        assert!(parts("").unwrap_err().contains("Malformed"));
    }
}
