//! Which browser pages may open a websocket (cross-site websocket hijacking): the server's own origin,
//! localhost pages when nothing is configured, the configured list, or anyone with `"*"`.

/// Whether a request with this `Origin` and `Host` may upgrade. No `Origin`: not a browser, allowed.
pub fn allowed(origin: Option<&str>, host: Option<&str>, list: &[String]) -> bool {
    let Some(origin) = origin.map(str::trim) else { return true };
    if list.iter().any(|a| a == "*" || a == origin) {
        return true;
    }
    let Some((_, authority)) = origin.split_once("://") else { return false };
    let same = host.is_some_and(|h| h.trim().eq_ignore_ascii_case(authority));
    same || (list.is_empty() && is_localhost(authority))
}

/// `localhost`, `*.localhost`, `127.x.x.x` or `[::1]`, with or without a port.
fn is_localhost(authority: &str) -> bool {
    let host = if authority.starts_with('[') {
        authority.split_inclusive(']').next().unwrap_or(authority)
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    let host = host.to_ascii_lowercase();
    host == "localhost"
        || host.ends_with(".localhost")
        || host == "[::1]"
        || host.strip_prefix("127.").is_some_and(|rest| {
            rest.split('.').count() == 3 && rest.split('.').all(|p| p.parse::<u8>().is_ok())
        })
}

/// An `allowed_origins` entry is `"*"` or `scheme://host[:port]` exactly as browsers send it.
///
/// # Errors
/// The entry with what is expected.
pub fn check_entry(entry: &str) -> Result<(), String> {
    if entry == "*" {
        return Ok(());
    }
    let ok = entry.split_once("://").is_some_and(|(scheme, rest)| {
        matches!(scheme, "http" | "https") && !rest.is_empty() && !rest.contains('/')
    });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "websocket.allowed_origins entry {entry:?}: expected \"*\" or http(s)://HOST[:PORT] (no path)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_allows_same_origin_and_localhost_only() {
        let none: &[String] = &[];
        assert!(allowed(None, None, none));
        assert!(allowed(Some("http://charts.example:8090"), Some("charts.example:8090"), none));
        assert!(allowed(Some("http://localhost:5173"), Some("x:1"), none));
        assert!(allowed(Some("http://127.0.0.1"), Some("x:1"), none));
        assert!(allowed(Some("http://[::1]:80"), Some("x:1"), none));
        assert!(!allowed(Some("http://evil.example"), Some("charts.example:8090"), none));
        assert!(!allowed(Some("http://localhost.evil.example"), Some("x:1"), none));
        assert!(!allowed(Some("http://127.0.0.1.evil.example"), Some("x:1"), none));
        assert!(!allowed(Some("null"), Some("x:1"), none));
    }

    #[test]
    fn a_list_replaces_localhost_and_star_allows_all() {
        let list = vec!["https://good.example".to_string()];
        assert!(allowed(Some("https://good.example"), Some("x:1"), &list));
        assert!(!allowed(Some("http://localhost:5173"), Some("x:1"), &list));
        assert!(allowed(Some("http://x:1"), Some("x:1"), &list));
        assert!(allowed(Some("http://evil.example"), Some("x:1"), &["*".to_string()]));
    }

    #[test]
    fn entries_are_checked() {
        assert!(check_entry("*").is_ok());
        assert!(check_entry("https://a.example:8443").is_ok());
        assert!(check_entry("a.example").is_err());
        assert!(check_entry("https://a.example/").is_err());
        assert!(check_entry("").is_err());
    }
}
