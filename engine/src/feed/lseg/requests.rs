//! Request builders: the JSON texts a client sends, as pure functions (the socket is someone else's).

use serde_json::{json, Value};

fn frame(message: Value) -> String {
    Value::Array(vec![message]).to_string()
}

/// Login on stream `id`: `[{"ID":1,"Domain":"Login","Key":{"Name":..,"Elements":{..}}}]`.
pub fn login(id: i64, user: &str, application_id: &str, position: &str) -> String {
    frame(json!({
        "ID": id,
        "Domain": "Login",
        "Key": {
            "Name": user,
            "Elements": { "ApplicationId": application_id, "Position": position },
        },
    }))
}

/// Streaming request for one item, or a batch when `rics` has several (answered by a Status closing
/// `id` and one stream per item with the IDs after it). `view` limits the fields sent.
pub fn item_request<S: AsRef<str>>(id: i64, rics: &[S], view: Option<&[&str]>) -> String {
    let names: Vec<&str> = rics.iter().map(AsRef::as_ref).collect();
    let name = match names.as_slice() {
        [one] => json!(one),
        many => json!(many),
    };
    let mut message = json!({ "ID": id, "Key": { "Name": name } });
    if let (Some(view), Some(obj)) = (view, message.as_object_mut()) {
        obj.insert("View".into(), json!(view));
    }
    frame(message)
}

/// The answer to a server Ping.
pub fn pong() -> String {
    frame(json!({ "Type": "Pong" }))
}

/// Closes stream `id`.
pub fn close(id: i64) -> String {
    frame(json!({ "ID": id, "Type": "Close" }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn builds_the_documented_requests() {
        assert_eq!(
            parsed(&login(1, "USER", "256", "127.0.0.1")),
            parsed(
                r#"[{"ID":1,"Domain":"Login","Key":{"Name":"USER","Elements":{"ApplicationId":"256","Position":"127.0.0.1"}}}]"#
            )
        );
        assert_eq!(
            parsed(&item_request(2, &["AAPL.O"], None)),
            parsed(r#"[{"ID":2,"Key":{"Name":"AAPL.O"}}]"#)
        );
        assert_eq!(
            parsed(&item_request(2, &["AAPL.O", "MSFT.O"], Some(&["TRDPRC_1", "TRDVOL_1"]))),
            parsed(
                r#"[{"ID":2,"Key":{"Name":["AAPL.O","MSFT.O"]},"View":["TRDPRC_1","TRDVOL_1"]}]"#
            )
        );
        assert_eq!(pong(), r#"[{"Type":"Pong"}]"#);
        assert_eq!(parsed(&close(2)), parsed(r#"[{"ID":2,"Type":"Close"}]"#));
    }

    #[test]
    fn escapes_what_it_is_given() {
        let text = item_request(3, &["A\"B"], None);
        assert_eq!(parsed(&text)[0]["Key"]["Name"], "A\"B");
    }
}
