//! One canonical trade row (from JSON lines or CSV) into a [`Trade`], or the reason it is refused.

use super::timestamp::parse_ts;
use crate::feed::intern::Interner;
use crate::feed::{RejectReason, Trade};
use crate::fixed::{Price, Quantity};
use crate::mapping::value::{self, RawField, ValueError};
use crate::mapping::TradeClass;

pub(crate) struct Row<'a> {
    pub symbol: Option<RawField<'a>>,
    pub ts: Option<RawField<'a>>,
    pub price: Option<RawField<'a>>,
    pub size: Option<RawField<'a>>,
    pub exchange: Option<RawField<'a>>,
    pub trade_id: Option<RawField<'a>>,
}

pub(crate) type Reject = (RejectReason, String);

fn required<'a>(v: Option<RawField<'a>>, name: &str) -> Result<RawField<'a>, Reject> {
    v.filter(|r| !r.is_null()).ok_or_else(|| (RejectReason::MissingField, name.to_string()))
}

fn optional<'a>(v: Option<RawField<'a>>) -> Option<RawField<'a>> {
    v.filter(|r| !r.is_null() && *r != RawField::Text("".into()))
}

pub(crate) fn to_trade(row: Row<'_>, interner: &mut Interner) -> Result<Trade, Reject> {
    let symbol = required(row.symbol, "symbol")?;
    let RawField::Text(symbol) = symbol else {
        return Err((RejectReason::WrongType, "symbol".into()));
    };
    if symbol.is_empty() {
        return Err((RejectReason::MissingField, "symbol".into()));
    }
    let ts_raw = required(row.ts, "ts")?;
    let ts = parse_ts(&ts_raw).ok_or_else(|| (RejectReason::BadDate, format!("ts {ts_raw:?}")))?;
    let price_raw = required(row.price, "price")?;
    let price = value::fixed(&price_raw).map_err(|e| {
        let reason = match e {
            ValueError::NonFinite => RejectReason::NonFinitePrice,
            ValueError::WrongType => RejectReason::WrongType,
            _ => RejectReason::BadPrice,
        };
        (reason, format!("price {price_raw:?}: {e}"))
    })?;
    if price <= 0 {
        return Err((RejectReason::NonPositivePrice, Price::from_raw(price).to_string()));
    }
    let size_raw = required(row.size, "size")?;
    let size = value::fixed(&size_raw).map_err(|e| {
        let reason = if e == ValueError::WrongType {
            RejectReason::WrongType
        } else {
            RejectReason::BadSize
        };
        (reason, format!("size {size_raw:?}: {e}"))
    })?;
    if size <= 0 {
        return Err((RejectReason::NonPositiveSize, Quantity::from_raw(size).to_string()));
    }
    let exchange_code =
        match optional(row.exchange) {
            Some(raw) => Some(interner.intern(
                value::text(&raw).map_err(|_| (RejectReason::WrongType, "exchange".into()))?,
            )),
            None => None,
        };
    let trade_id = match optional(row.trade_id) {
        Some(raw) => {
            value::trade_id(&raw).map_err(|_| (RejectReason::WrongType, "trade_id".to_string()))?
        }
        None => 0,
    };
    Ok(Trade {
        symbol: interner.intern(&symbol),
        exchange_code,
        ts_event_ns: ts,
        // A canonical file records one time per trade: it stands for the receive time too.
        ts_recv_ns: ts,
        price: Price::from_raw(price),
        size: Quantity::from_raw(size),
        flags: 0,
        trade_id,
        class: TradeClass::Canonical,
    })
}
