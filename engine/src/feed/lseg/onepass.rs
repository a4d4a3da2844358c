//! The fast path for a frame: one parse that validates the whole frame *and* reads its first message
//! (nearly every frame holds exactly one), instead of a validating pass followed by a second parse.
//!
//! Any error sends the caller back to the two-pass path ([`super::frame::split`] then per-message parses),
//! which decides what to reject exactly as before; the fast path only ever handles frames that are valid
//! JSON and whose first message reads cleanly.

use super::frame::{span_of, Span};
use super::message::{Message, MessageSeed};
use crate::mapping::Mapping;
use serde::de::{DeserializeSeed, Deserializer, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;

/// A frame read in one pass: its first message (envelope parsed, mapped fields' spans in the caller's
/// slots) and its text, and the spans of the messages after it (still to be parsed).
pub(crate) struct FirstMessage<'a> {
    pub message: Message<'a>,
    pub text: &'a str,
}

/// `Ok(None)` for an empty array; `Err(())` when the slow path must decide (not an array, broken JSON,
/// or a first message that does not read as a message).
pub(crate) fn parse<'a>(
    frame: &'a str,
    mapping: &Mapping,
    slots: &mut [Span],
    rest: &mut Vec<Span>,
) -> Result<Option<FirstMessage<'a>>, ()> {
    let body = frame.trim();
    if !body.starts_with('[') {
        return Err(());
    }
    rest.clear();
    slots.fill((0, 0));
    let base = frame.as_ptr() as usize;
    let mut de = serde_json::Deserializer::from_str(frame);
    let first = ArraySeed { base, mapping, slots, rest }
        .deserialize(&mut de)
        .and_then(|m| de.end().map(|()| m))
        .map_err(|_| ())?;
    let Some(message) = first else { return Ok(None) };
    // The first message runs from after `[` to before the separator of the next one (or the closing `]`).
    let start = body[1..].trim_start();
    let end = match rest.first() {
        Some(&(next, _)) => {
            let before_next = &frame[..next as usize];
            before_next.trim_end().strip_suffix(',').ok_or(())?.trim_end().len()
        }
        None => {
            let inner = body.strip_suffix(']').ok_or(())?.trim_end();
            inner.as_ptr() as usize - base + inner.len()
        }
    };
    let from = start.as_ptr() as usize - base;
    let text = frame.get(from..end).ok_or(())?;
    Ok(Some(FirstMessage { message, text }))
}

struct ArraySeed<'s> {
    base: usize,
    mapping: &'s Mapping,
    slots: &'s mut [Span],
    rest: &'s mut Vec<Span>,
}

impl<'de> DeserializeSeed<'de> for ArraySeed<'_> {
    type Value = Option<Message<'de>>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ArraySeed<'_> {
    type Value = Option<Message<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of messages")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let seed = MessageSeed { base: self.base, mapping: self.mapping, slots: self.slots };
        let Some(first) = seq.next_element_seed(seed)? else { return Ok(None) };
        while let Some(raw) = seq.next_element::<&'de RawValue>()? {
            self.rest.push(span_of(self.base, raw.get()));
        }
        Ok(Some(first))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::builtin;

    fn first(frame: &str) -> Result<Option<(String, Vec<String>)>, ()> {
        let m = builtin();
        let mut slots = vec![(0, 0); m.fields().len()];
        let mut rest = Vec::new();
        let got = parse(frame, &m, &mut slots, &mut rest)?;
        let rest =
            rest.iter().map(|&(s, l)| frame[s as usize..(s + l) as usize].to_string()).collect();
        Ok(got.map(|f| (f.text.to_string(), rest)))
    }

    #[test]
    fn finds_the_first_message_text_exactly() {
        let (text, rest) = first(r#" [ {"Type":"Ping"} , {"ID":2} ,{"ID":3}] "#).unwrap().unwrap();
        assert_eq!(text, r#"{"Type":"Ping"}"#);
        assert_eq!(rest, [r#"{"ID":2}"#, r#"{"ID":3}"#]);
        let (text, rest) = first("[{\"ID\":1,\"Fields\":{\"TRDPRC_1\":1}}\n]").unwrap().unwrap();
        assert_eq!(text, "{\"ID\":1,\"Fields\":{\"TRDPRC_1\":1}}");
        assert!(rest.is_empty());
        assert_eq!(first("[]"), Ok(None));
    }

    #[test]
    fn leaves_anything_doubtful_to_the_slow_path() {
        for frame in
            [r#"{"Type":"Ping"}"#, "[7]", r#"[{"ID":"x"}]"#, r#"[{"ID":1},"#, r#"[{"ID":1}] x"#, ""]
        {
            assert_eq!(first(frame), Err(()), "{frame}");
        }
    }
}
