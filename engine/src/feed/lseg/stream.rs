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
    /// Slot-indexed: the `seq` of the message that last set each value.
    pub stamp: Vec<u64>,
    /// Count of messages applied, so the freshest of several known fields can be told.
    pub seq: u64,
}

impl Stream {
    pub fn new(symbol: Symbol, item_class: usize, slots: usize) -> Self {
        Self {
            symbol,
            item_class,
            known: vec![Known::Unknown; slots],
            stamp: vec![0; slots],
            seq: 0,
        }
    }

    pub fn get(&self, slot: Slot) -> &Known {
        self.known.get(usize::from(slot)).unwrap_or(&Known::Unknown)
    }

    /// Among `slots`, the value set most recently that `pick` accepts; ties go to the earlier slot.
    /// (A preference list must not prefer a stale SALTIM_NS from the Refresh over a fresher SALTIM_MS.)
    pub fn freshest<T>(&self, slots: &[Slot], pick: impl Fn(&Known) -> Option<T>) -> Option<T> {
        let mut best: Option<(u64, T)> = None;
        for &s in slots {
            if let Some(v) = pick(self.get(s)) {
                let stamp = self.stamp.get(usize::from(s)).copied().unwrap_or(0);
                if best.as_ref().is_none_or(|(b, _)| stamp > *b) {
                    best = Some((stamp, v));
                }
            }
        }
        best.map(|(_, v)| v)
    }

    pub fn text(&self, slot: Slot) -> Option<&str> {
        match self.get(slot) {
            Known::Text(t) => Some(t),
            _ => None,
        }
    }
}
