//! Per-stream state: the item behind a stream ID and the last known value of each mapped field.

use crate::feed::Symbol;
use crate::mapping::Slot;

/// A field's last known value, already read into its kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) enum Known {
    #[default]
    Unknown,
    Fixed(i64),
    TimeOfDay(u64),
    /// Days since 1970-01-01.
    Date(i64),
    Text(Symbol),
    Id(u64),
}

#[derive(Debug)]
pub(crate) struct Stream {
    pub symbol: Symbol,
    /// Index into the mapping's classes of the item's own class.
    pub item_class: usize,
    /// Slot-indexed; a value is replaced only by a non-null, readable one.
    pub known: Vec<Known>,
}

impl Stream {
    pub fn new(symbol: Symbol, item_class: usize, slots: usize) -> Self {
        Self { symbol, item_class, known: vec![Known::Unknown; slots] }
    }

    pub fn get(&self, slot: Slot) -> &Known {
        self.known.get(usize::from(slot)).unwrap_or(&Known::Unknown)
    }

    pub fn text(&self, slot: Slot) -> Option<&str> {
        match self.get(slot) {
            Known::Text(t) => Some(t),
            _ => None,
        }
    }
}
