//! The HTTP side of the one listening port: read a request head (bounded in size and time), then either
//! upgrade to a websocket (origin and token checked first) or serve the chart page's files and `/stats`.

use std::borrow::Cow;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest request head accepted.
const MAX_HEAD: usize = 16 * 1024;

/// A parsed request head and the bytes read past it (the start of the websocket stream).
#[derive(Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub rest: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    #[error("no complete request within the handshake timeout")]
    Timeout,
    #[error("connection closed before the request was complete")]
    Eof,
    #[error("request head over {MAX_HEAD} bytes")]
    TooBig,
    #[error("malformed request: {0}")]
    Parse(String),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn header_has_token(&self, name: &str, token: &str) -> bool {
        self.header(name)
            .is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    }

    pub fn is_websocket_upgrade(&self) -> bool {
        self.method == "GET"
            && self.header_has_token("upgrade", "websocket")
            && self.header_has_token("connection", "upgrade")
    }

    /// A query parameter's value, percent-decoded (the chart page encodes it with `encodeURIComponent`).
    pub fn query_param(&self, name: &str) -> Option<Cow<'_, str>> {
        self.query.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k == name).then(|| percent_decode(v))
        })
    }

    /// The bearer token from `Authorization: Bearer X` or `?token=X`.
    pub fn token(&self) -> Option<Cow<'_, str>> {
        self.header("authorization")
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(|t| Cow::Borrowed(t.trim()))
            .or_else(|| self.query_param("token"))
    }
}

/// Decodes `%XX` escapes. `+` stays `+` (raw tokens from non-browser clients keep working); a malformed
/// escape or non-UTF-8 result leaves the text as it came.
pub fn percent_decode(s: &str) -> Cow<'_, str> {
    if !s.contains('%') {
        return Cow::Borrowed(s);
    }
    let hex = |b: u8| char::from(b).to_digit(16);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| Some((hex(*bytes.get(i + 1)?)?, hex(*bytes.get(i + 2)?)?)))
            .flatten();
        match escaped {
            Some((hi, lo)) => {
                // Two hex digits make at most 0xff.
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                i += 3;
            }
            None if bytes[i] == b'%' => return Cow::Borrowed(s),
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_or(Cow::Borrowed(s), Cow::Owned)
}

/// Reads until the end of the head, within `timeout`.
pub async fn read_head(stream: &mut TcpStream, timeout: Duration) -> Result<Request, HeadError> {
    tokio::time::timeout(timeout, read_head_inner(stream)).await.map_err(|_| HeadError::Timeout)?
}

async fn read_head_inner(stream: &mut TcpStream) -> Result<Request, HeadError> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(HeadError::Eof);
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 48];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf) {
            Ok(httparse::Status::Complete(len)) => {
                let target = req.path.unwrap_or("/");
                let (path, query) = target.split_once('?').unwrap_or((target, ""));
                return Ok(Request {
                    method: req.method.unwrap_or("").to_string(),
                    path: path.to_string(),
                    query: query.to_string(),
                    headers: req
                        .headers
                        .iter()
                        .map(|h| {
                            (h.name.to_string(), String::from_utf8_lossy(h.value).into_owned())
                        })
                        .collect(),
                    rest: buf[len..].to_vec(),
                });
            }
            Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => {}
            Ok(httparse::Status::Partial) => return Err(HeadError::TooBig),
            Err(e) => return Err(HeadError::Parse(e.to_string())),
        }
    }
}

/// Writes a complete HTTP/1.1 response and closes the write side.
pub async fn respond(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &[u8],
    head_only: bool,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    if !head_only {
        stream.write_all(body).await?;
    }
    stream.shutdown().await
}

/// A JSON error body for refused upgrades and bad requests.
pub fn error_body(code: &str, message: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "type": "error", "code": code, "message": message }))
        .unwrap_or_default()
}

/// The `101 Switching Protocols` answer, or why the upgrade request is not valid.
pub fn upgrade_response(req: &Request) -> Result<String, &'static str> {
    if req.header("sec-websocket-version").map(str::trim) != Some("13") {
        return Err("Sec-WebSocket-Version must be 13");
    }
    let key = req.header("sec-websocket-key").map(str::trim).ok_or("missing Sec-WebSocket-Key")?;
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    Ok(format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    ))
}

/// Compares tokens in time independent of where they differ.
pub fn token_matches(given: Option<&str>, expected: &str) -> bool {
    let Some(given) = given else { return false };
    let (a, b) = (given.as_bytes(), expected.as_bytes());
    let mut diff = u8::from(a.len() != b.len());
    for (i, &y) in b.iter().enumerate() {
        diff |= a.get(i).copied().unwrap_or(0) ^ y;
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(headers: &[(&str, &str)], query: &str) -> Request {
        Request {
            method: "GET".into(),
            path: "/ws".into(),
            query: query.into(),
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            rest: Vec::new(),
        }
    }

    #[test]
    fn recognises_upgrades_and_tokens() {
        let r = req(
            &[("Upgrade", "websocket"), ("Connection", "keep-alive, Upgrade")],
            "a=1&token=abc",
        );
        assert!(r.is_websocket_upgrade());
        assert_eq!(r.token().as_deref(), Some("abc"));
        let r = req(&[("authorization", "Bearer xyz")], "");
        assert_eq!(r.token().as_deref(), Some("xyz"));
        assert!(!r.is_websocket_upgrade());
    }

    #[test]
    fn query_values_are_percent_decoded() {
        assert_eq!(percent_decode("a%2Bb%2Fc%3D%3d"), "a+b/c==");
        assert_eq!(percent_decode("a+b"), "a+b");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%ff"), "%ff");
        let r = req(&[], "token=s%2B3%2Fc%3D");
        assert_eq!(r.token().as_deref(), Some("s+3/c="));
    }

    #[test]
    fn token_comparison() {
        assert!(token_matches(Some("secret"), "secret"));
        assert!(!token_matches(Some("secreT"), "secret"));
        assert!(!token_matches(Some("secret2"), "secret"));
        assert!(!token_matches(Some(""), "secret"));
        assert!(!token_matches(None, "secret"));
    }

    #[test]
    fn accept_key_matches_the_rfc_example() {
        let r = req(
            &[("Sec-WebSocket-Version", "13"), ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")],
            "",
        );
        let resp = upgrade_response(&r).expect("valid");
        assert!(resp.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{resp}");
        assert!(upgrade_response(&req(&[], "")).is_err());
    }
}
