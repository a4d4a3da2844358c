//! One LSEG message, read in a single pass: envelope fields borrowed, mapped `Fields` located by slot.

use super::frame::{span_of, Span};
use crate::mapping::Mapping;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

/// A string borrowed from the frame unless it held escapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BStr<'a>(pub Cow<'a, str>);

impl Deref for BStr<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for BStr<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = BStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(BStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(BStr(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct State<'a> {
    #[serde(rename = "Stream", borrow)]
    pub stream: Option<BStr<'a>>,
    #[serde(rename = "Data", borrow)]
    pub data: Option<BStr<'a>>,
    #[serde(rename = "Text", borrow)]
    pub text: Option<BStr<'a>>,
}

#[derive(Debug, Default, Deserialize)]
struct Elements {
    #[serde(rename = "PingTimeout")]
    ping_timeout: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
struct Key<'a> {
    #[serde(rename = "Name", borrow)]
    name: Option<BStr<'a>>,
    #[serde(rename = "Elements")]
    elements: Option<Elements>,
}

/// The envelope of a message. Mapped field values are not here: their spans go to the caller's slots.
#[derive(Debug, Default)]
pub(crate) struct Message<'a> {
    pub id: Option<i64>,
    pub kind: Option<BStr<'a>>,
    pub domain: Option<BStr<'a>>,
    pub update_type: Option<BStr<'a>>,
    pub name: Option<BStr<'a>>,
    pub state: Option<State<'a>>,
    pub ping_timeout: Option<u64>,
    pub text: Option<BStr<'a>>,
}

/// Parses `text` (a slice of the frame starting at address `base`) and writes into `slots[s]` the span
/// of each mapped field's value (`(0, 0)` = absent).
pub(crate) fn parse<'a>(
    text: &'a str,
    base: usize,
    mapping: &Mapping,
    slots: &mut [Span],
) -> Result<Message<'a>, serde_json::Error> {
    slots.fill((0, 0));
    let mut de = serde_json::Deserializer::from_str(text);
    MessageSeed { base, mapping, slots }.deserialize(&mut de)
}

pub(crate) struct MessageSeed<'s> {
    pub base: usize,
    pub mapping: &'s Mapping,
    /// Must be all `(0, 0)` on entry.
    pub slots: &'s mut [Span],
}

impl<'de> DeserializeSeed<'de> for MessageSeed<'_> {
    type Value = Message<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for MessageSeed<'_> {
    type Value = Message<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a message object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut m = Message::default();
        let mut key_elements = None;
        while let Some(key) = map.next_key::<BStr<'de>>()? {
            match &*key {
                "ID" => m.id = map.next_value()?,
                "Type" => m.kind = map.next_value()?,
                "Domain" => m.domain = map.next_value()?,
                "UpdateType" => m.update_type = map.next_value()?,
                "Key" => {
                    let k: Option<Key<'de>> = map.next_value()?;
                    if let Some(k) = k {
                        m.name = k.name;
                        key_elements = k.elements.and_then(|e| e.ping_timeout);
                    }
                }
                "State" => m.state = map.next_value()?,
                "Elements" => {
                    let e: Option<Elements> = map.next_value()?;
                    m.ping_timeout = e.and_then(|e| e.ping_timeout);
                }
                "Text" => m.text = map.next_value()?,
                "Fields" => map.next_value_seed(FieldsSeed {
                    base: self.base,
                    mapping: self.mapping,
                    slots: &mut *self.slots,
                })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        m.ping_timeout = m.ping_timeout.or(key_elements);
        Ok(m)
    }
}

struct FieldsSeed<'s> {
    base: usize,
    mapping: &'s Mapping,
    slots: &'s mut [Span],
}

impl<'de> DeserializeSeed<'de> for FieldsSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FieldsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Fields object")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(name) = map.next_key::<BStr<'de>>()? {
            match self.mapping.slot(&name) {
                Some(slot) => {
                    let raw: &'de RawValue = map.next_value()?;
                    self.slots[usize::from(slot)] = span_of(self.base, raw.get());
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::builtin;

    #[test]
    fn reads_envelope_and_locates_mapped_fields() {
        let m = builtin();
        let text = r#"{"ID":5,"Type":"Update","UpdateType":"Trade","Key":{"Name":"AAPL.O"},"Fields":{"BID":1.5,"TRDPRC_1":189.84,"SALTIM":"13:30:00","IRGCOND":null}}"#;
        let mut slots = vec![(0, 0); m.fields().len()];
        let msg = parse(text, text.as_ptr() as usize, &m, &mut slots).unwrap();
        assert_eq!(msg.id, Some(5));
        assert_eq!(msg.kind.as_deref(), Some("Update"));
        assert_eq!(msg.update_type.as_deref(), Some("Trade"));
        assert_eq!(msg.name.as_deref(), Some("AAPL.O"));
        let at = |name: &str| {
            let (s, l) = slots[usize::from(m.slot(name).unwrap())];
            &text[s as usize..(s + l) as usize]
        };
        assert_eq!(at("TRDPRC_1"), "189.84");
        assert_eq!(at("SALTIM"), "\"13:30:00\"");
        assert_eq!(at("IRGCOND"), "null");
        assert_eq!(at("TRDVOL_1"), "");
    }

    #[test]
    fn reads_login_ping_timeout_from_either_place() {
        let m = builtin();
        let mut slots = vec![(0, 0); m.fields().len()];
        for text in [
            r#"{"ID":1,"Type":"Refresh","Domain":"Login","Key":{"Name":"u"},"Elements":{"PingTimeout":30}}"#,
            r#"{"ID":1,"Type":"Refresh","Domain":"Login","Key":{"Name":"u","Elements":{"PingTimeout":30}}}"#,
        ] {
            let msg = parse(text, text.as_ptr() as usize, &m, &mut slots).unwrap();
            assert_eq!(msg.ping_timeout, Some(30));
        }
    }

    #[test]
    fn wrong_envelope_types_are_errors() {
        let m = builtin();
        let mut slots = vec![(0, 0); m.fields().len()];
        let text = r#"{"ID":"five","Type":"Update"}"#;
        assert!(parse(text, text.as_ptr() as usize, &m, &mut slots).is_err());
        let text = r#"{"ID":5,"Fields":[1,2]}"#;
        assert!(parse(text, text.as_ptr() as usize, &m, &mut slots).is_err());
    }
}
