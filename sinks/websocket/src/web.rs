//! The chart page's files: a fixed list of URL paths mapped to files under `web_dir` (nothing else on disk
//! is reachable), read on each request so an edited page shows on reload.

use std::path::{Path, PathBuf};

/// Where the charting library lands when `scripts/setup-web.sh` has run.
pub const CHART_LIBRARY: &str =
    "node_modules/lightweight-charts/dist/lightweight-charts.standalone.production.js";

/// URL path -> (file under web_dir, content type).
const FILES: [(&str, &str, &str); 5] = [
    ("/", "index.html", "text/html; charset=utf-8"),
    ("/index.html", "index.html", "text/html; charset=utf-8"),
    ("/app.js", "app.js", "text/javascript; charset=utf-8"),
    ("/style.css", "style.css", "text/css; charset=utf-8"),
    ("/vendor/lightweight-charts.js", CHART_LIBRARY, "text/javascript; charset=utf-8"),
];

/// A file to serve, or why not.
#[derive(Debug)]
pub enum Asset {
    Found {
        body: Vec<u8>,
        content_type: &'static str,
    },
    /// The path is one of ours but the file is missing (the library not installed yet).
    Missing(PathBuf),
    NotOurs,
}

pub fn lookup(web_dir: &Path, url_path: &str) -> Asset {
    let Some(&(_, file, content_type)) = FILES.iter().find(|(p, _, _)| *p == url_path) else {
        return Asset::NotOurs;
    };
    let path = web_dir.join(file);
    match std::fs::read(&path) {
        Ok(body) => Asset::Found { body, content_type },
        Err(_) => Asset::Missing(path),
    }
}

/// Warns at start-up about files the page will miss.
pub fn check(web_dir: &Path) {
    for (_, file, _) in FILES {
        let path = web_dir.join(file);
        if !path.is_file() {
            tracing::warn!(path = %path.display(), "chart page file missing (run scripts/setup-web.sh for the charting library)");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_paths_are_served() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(dir.path().join("index.html"), "<p>hi</p>").expect("write");
        std::fs::write(dir.path().join("secret.txt"), "no").expect("write");
        assert!(matches!(lookup(dir.path(), "/"), Asset::Found { .. }));
        assert!(matches!(lookup(dir.path(), "/secret.txt"), Asset::NotOurs));
        assert!(matches!(lookup(dir.path(), "/../secret.txt"), Asset::NotOurs));
        assert!(matches!(lookup(dir.path(), "/app.js"), Asset::Missing(_)));
    }
}
