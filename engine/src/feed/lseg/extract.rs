//! Turning one Update into a trade under one mapping class, and folding its fields into the stream state.

use super::frame::Span;
use super::stream::{Known, Stream};
use crate::feed::intern::Interner;
use crate::feed::{RejectReason, Trade};
use crate::fixed::{Price, Quantity};
use crate::mapping::time::{self, TimeError};
use crate::mapping::value::{self, RawField, ValueError};
use crate::mapping::{ClassSpec, DateSource, FieldKind, Mapping, Slot, UpdateType};
use crate::tick::TickFlags;

/// The mapped fields one message carried: spans into its frame, by slot.
pub(crate) struct MessageFields<'f> {
    pub frame: &'f str,
    pub spans: &'f [Span],
}

impl<'f> MessageFields<'f> {
    /// The value of a slot in this message; `None` when the message did not carry the field.
    pub fn raw(&self, slot: Slot) -> Option<RawField<'f>> {
        let &(start, len) = self.spans.get(usize::from(slot))?;
        if len == 0 {
            return None;
        }
        self.frame.get(start as usize..(start + len) as usize).map(RawField::from_json)
    }

    /// The first slot of `slots` this message carries with a non-null value.
    fn first(&self, slots: &[Slot]) -> Option<RawField<'f>> {
        slots.iter().filter_map(|&s| self.raw(s)).find(|r| !r.is_null())
    }

    /// True when this message carries a non-null value for one of `slots` (a class's trigger).
    pub fn has_any(&self, slots: &[Slot]) -> bool {
        self.first(slots).is_some()
    }
}

pub(crate) type Reject = (RejectReason, String);

/// The class (index into `mapping.classes()`) that makes a trade of this update, if any.
pub(crate) fn choose_class(
    mapping: &Mapping,
    item_class: usize,
    update: UpdateType,
    msg: &MessageFields<'_>,
) -> Option<usize> {
    use crate::mapping::Role;
    mapping.classes().iter().enumerate().position(|(i, c)| {
        let in_role = match c.role {
            Role::Override | Role::Fallback => true,
            Role::Item => i == item_class,
        };
        in_role && c.update_types.contains(&update) && msg.has_any(&c.price)
    })
}

/// Builds the trade the class describes, reading the message first and the stream's known values second.
pub(crate) fn trade(
    mapping: &Mapping,
    class: &ClassSpec,
    update: UpdateType,
    msg: &MessageFields<'_>,
    stream: &Stream,
    recv_ns: u64,
) -> Result<Trade, Reject> {
    let price =
        msg.first(&class.price).ok_or_else(|| (RejectReason::MissingField, "price".to_string()))?;
    let price = value::fixed(&price).map_err(|e| price_reject(e, &price))?;
    if price <= 0 {
        return Err((RejectReason::NonPositivePrice, Price::from_raw(price).to_string()));
    }
    let size = match msg.first(&class.size) {
        Some(raw) => value::fixed(&raw).map_err(|e| size_reject(e, &raw))?,
        None => known_fixed(stream, &class.size)
            .ok_or_else(|| (RejectReason::MissingField, "size".to_string()))?,
    };
    if size <= 0 {
        return Err((RejectReason::NonPositiveSize, Quantity::from_raw(size).to_string()));
    }
    let time_of_day = match msg.first(&class.time) {
        Some(raw) => time_of_day(&raw).map_err(|e| time_reject(e, &raw))?,
        None => known_time(stream, &class.time)
            .ok_or_else(|| (RejectReason::MissingTime, String::new()))?,
    };
    let ts_event_ns = match class.date {
        DateSource::NearestRecv => {
            time::nearest_to_recv(time_of_day, recv_ns, mapping.max_skew_ns()).ok_or_else(|| {
                (RejectReason::TimeOutOfRange, format!("{time_of_day} ns of day vs recv {recv_ns}"))
            })?
        }
        DateSource::TradeDate => {
            let days = trade_date(mapping, msg, stream)?;
            time::on_date(days, time_of_day)
                .ok_or_else(|| (RejectReason::BadDate, format!("day {days}")))?
        }
    };
    let mut flags = class.flags;
    if update == UpdateType::Correction {
        flags |= TickFlags::CORRECTION;
    }
    if let Some(cond) = &class.condition {
        let flags_of =
            |code: &str| cond.codes.iter().find(|(c, _)| c.as_ref() == code).map_or(0, |(_, f)| *f);
        flags |= match msg.raw(cond.slot).filter(|r| !r.is_null()) {
            Some(raw) => value::text(&raw).map_or(0, flags_of),
            None => stream.text(cond.slot).map_or(0, flags_of),
        };
    }
    let trade_id = match class.trade_id.and_then(|s| msg.raw(s)).filter(|r| !r.is_null()) {
        Some(raw) => {
            value::trade_id(&raw).map_err(|_| (RejectReason::WrongType, "trade id".to_string()))?
        }
        None => 0,
    };
    let exchange_code = mapping.exchange_slot().and_then(|s| match stream.get(s) {
        Known::Text(t) => Some(t.clone()),
        _ => None,
    });
    Ok(Trade {
        symbol: stream.symbol.clone(),
        exchange_code,
        ts_event_ns,
        ts_recv_ns: recv_ns,
        price: Price::from_raw(price),
        size: Quantity::from_raw(size),
        flags,
        trade_id,
        class: class.class,
    })
}

/// Folds the message's readable, non-null mapped values into the stream: a null (closing run) or an
/// unreadable value never replaces a known one.
pub(crate) fn apply(
    mapping: &Mapping,
    msg: &MessageFields<'_>,
    stream: &mut Stream,
    interner: &mut Interner,
) {
    stream.seq += 1;
    for (i, field) in mapping.fields().iter().enumerate() {
        let Some(raw) = msg.raw(i as Slot) else { continue };
        if raw.is_null() {
            continue;
        }
        // Codes mostly repeat: compare before interning, so the common case neither hashes nor allocates.
        if let (FieldKind::Text, Some(Known::Text(cur)), Ok(t)) =
            (field.kind, stream.known.get(i), value::text(&raw))
        {
            if cur.as_ref() == t {
                if let Some(stamp) = stream.stamp.get_mut(i) {
                    *stamp = stream.seq;
                }
                continue;
            }
        }
        match read_known(field.kind, &raw, interner) {
            Some(k) => {
                if let (Some(slot), Some(stamp)) =
                    (stream.known.get_mut(i), stream.stamp.get_mut(i))
                {
                    if *slot != k {
                        *slot = k;
                    }
                    *stamp = stream.seq;
                }
            }
            None => {
                tracing::debug!(field = %field.name, symbol = %stream.symbol, "unreadable field value kept out of state")
            }
        }
    }
}

fn read_known(kind: FieldKind, raw: &RawField<'_>, interner: &mut Interner) -> Option<Known> {
    Some(match kind {
        FieldKind::Price | FieldKind::Size => Known::Fixed(value::fixed(raw).ok()?),
        FieldKind::Time => Known::TimeOfDay(time_of_day(raw).ok()?),
        FieldKind::Date => Known::Date(time::parse_date(value::text(raw).ok()?)?),
        FieldKind::Text => Known::Text(interner.intern(value::text(raw).ok()?)),
        FieldKind::TradeId => Known::Id(value::trade_id(raw).ok()?),
    })
}

fn time_of_day(raw: &RawField<'_>) -> Result<u64, TimeError> {
    match raw {
        RawField::Text(t) => time::parse_time_of_day(t),
        RawField::Number(n) => time::ms_of_day(n),
        RawField::Null | RawField::Other => Err(TimeError::Malformed),
    }
}

fn trade_date(mapping: &Mapping, msg: &MessageFields<'_>, stream: &Stream) -> Result<i64, Reject> {
    let slot =
        mapping.trade_date_slot().ok_or_else(|| (RejectReason::MissingDate, String::new()))?;
    match msg.raw(slot).filter(|r| !r.is_null()) {
        Some(raw) => value::text(&raw)
            .ok()
            .and_then(time::parse_date)
            .ok_or_else(|| (RejectReason::BadDate, format!("{raw:?}"))),
        None => match stream.get(slot) {
            Known::Date(d) => Ok(*d),
            _ => Err((RejectReason::MissingDate, "TRADE_DATE".to_string())),
        },
    }
}

fn known_fixed(stream: &Stream, slots: &[Slot]) -> Option<i64> {
    stream.freshest(slots, |k| match k {
        Known::Fixed(v) => Some(*v),
        _ => None,
    })
}

fn known_time(stream: &Stream, slots: &[Slot]) -> Option<u64> {
    stream.freshest(slots, |k| match k {
        Known::TimeOfDay(v) => Some(*v),
        _ => None,
    })
}

fn price_reject(e: ValueError, raw: &RawField<'_>) -> Reject {
    let reason = match e {
        ValueError::NonFinite => RejectReason::NonFinitePrice,
        ValueError::WrongType => RejectReason::WrongType,
        ValueError::Invalid | ValueError::OutOfRange => RejectReason::BadPrice,
    };
    (reason, format!("price {raw:?}: {e}"))
}

fn size_reject(e: ValueError, raw: &RawField<'_>) -> Reject {
    let reason = match e {
        ValueError::WrongType => RejectReason::WrongType,
        _ => RejectReason::BadSize,
    };
    (reason, format!("size {raw:?}: {e}"))
}

fn time_reject(e: TimeError, raw: &RawField<'_>) -> Reject {
    let reason = match e {
        TimeError::Malformed => RejectReason::BadTime,
        TimeError::OutOfRange => RejectReason::TimeOutOfRange,
    };
    (reason, format!("time {raw:?}: {e}"))
}
