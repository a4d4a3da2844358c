//! Inbound requests: `{"op":"subscribe"|"unsubscribe"|"list"|"ping","channels":[...],"id":...}`.

use serde::Deserialize;
use serde_json::Value;

/// A request's operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Subscribe,
    Unsubscribe,
    List,
    Ping,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Subscribe => "subscribe",
            Self::Unsubscribe => "unsubscribe",
            Self::List => "list",
            Self::Ping => "ping",
        }
    }
}

/// A well-formed request.
#[derive(Debug, PartialEq)]
pub struct Request {
    pub op: Op,
    pub channels: Vec<String>,
    pub id: Option<Value>,
}

/// Why a frame is not a request; `code()` is what the client sees.
#[derive(Debug, PartialEq)]
pub enum BadRequest {
    NotJson(String),
    Invalid { message: String, id: Option<Value> },
    UnknownOp { op: String, id: Option<Value> },
}

impl BadRequest {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotJson(_) => "bad_json",
            Self::Invalid { .. } => "bad_request",
            Self::UnknownOp { .. } => "unknown_op",
        }
    }

    pub fn id(&self) -> Option<&Value> {
        match self {
            Self::NotJson(_) => None,
            Self::Invalid { id, .. } | Self::UnknownOp { id, .. } => id.as_ref(),
        }
    }

    pub fn message(&self) -> String {
        match self {
            Self::NotJson(e) => format!("not JSON: {e}"),
            Self::Invalid { message, .. } => message.clone(),
            Self::UnknownOp { op, .. } => format!(
                "unknown op {:?}: expected subscribe, unsubscribe, list or ping",
                op.chars().take(32).collect::<String>()
            ),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    op: String,
    #[serde(default)]
    channels: Vec<String>,
    #[serde(default)]
    id: Option<Value>,
}

/// Parses one text frame.
///
/// # Errors
/// Not JSON, not an object of the expected shape, or an unknown op.
pub fn parse(text: &str) -> Result<Request, BadRequest> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| BadRequest::NotJson(e.to_string()))?;
    let id = value.get("id").filter(|v| v.is_number() || v.is_string()).cloned();
    let wire: Wire = serde_json::from_value(value).map_err(|e| BadRequest::Invalid {
        message: format!("expected {{\"op\":..,\"channels\":[..],\"id\":..}}: {e}"),
        id: id.clone(),
    })?;
    if wire.id.as_ref().is_some_and(|v| !(v.is_number() || v.is_string())) {
        return Err(BadRequest::Invalid {
            message: "id must be a number or a string".into(),
            id: None,
        });
    }
    let op = match wire.op.as_str() {
        "subscribe" => Op::Subscribe,
        "unsubscribe" => Op::Unsubscribe,
        "list" => Op::List,
        "ping" => Op::Ping,
        _ => return Err(BadRequest::UnknownOp { op: wire.op, id }),
    };
    if matches!(op, Op::Subscribe | Op::Unsubscribe) && wire.channels.is_empty() {
        return Err(BadRequest::Invalid { message: format!("{} needs channels", op.as_str()), id });
    }
    Ok(Request { op, channels: wire.channels, id })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_requests_and_keeps_the_id() {
        let r = parse(r#"{"op":"subscribe","channels":["trade.A"],"id":7}"#).expect("valid");
        assert_eq!((r.op, r.channels.len(), r.id), (Op::Subscribe, 1, Some(Value::from(7))));
        assert_eq!(parse(r#"{"op":"list"}"#).expect("valid").op, Op::List);
    }

    #[test]
    fn refuses_bad_frames_with_codes() {
        assert_eq!(parse("hello").expect_err("not json").code(), "bad_json");
        assert_eq!(parse("[1]").expect_err("array").code(), "bad_request");
        let e = parse(r#"{"op":"dance","id":"x"}"#).expect_err("unknown op");
        assert_eq!((e.code(), e.id()), ("unknown_op", Some(&Value::from("x"))));
        assert_eq!(parse(r#"{"op":"subscribe"}"#).expect_err("no channels").code(), "bad_request");
        assert_eq!(
            parse(r#"{"op":"list","extra":1}"#).expect_err("unknown field").code(),
            "bad_request"
        );
        assert_eq!(
            parse(r#"{"op":"list","id":{"a":1}}"#).expect_err("object id").code(),
            "bad_request"
        );
        assert_eq!(
            parse(r#"{"op":"subscribe","channels":[1]}"#).expect_err("number").code(),
            "bad_request"
        );
    }
}
