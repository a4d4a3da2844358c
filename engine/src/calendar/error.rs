//! Why a calendar could not be loaded.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    /// The file is not valid TOML, does not match the format, or breaks a rule; `line`/`column` are 1-based.
    #[error("{file}:{line}:{column}: {reason}")]
    Invalid { file: String, line: usize, column: usize, reason: String },
    #[error("cannot read calendar {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("no calendar files (*.toml) in {0}")]
    EmptyDir(PathBuf),
    #[error("{mic} has two calendars: {first} and {second}")]
    DuplicateExchange { mic: String, first: String, second: String },
}

/// Turns a byte span of `text` into a located [`CalendarError::Invalid`].
pub(crate) fn invalid_at(
    file: &str,
    text: &str,
    span: Option<std::ops::Range<usize>>,
    reason: impl Into<String>,
) -> CalendarError {
    let (line, column) = span.map_or((1, 1), |s| line_col(text, s.start));
    CalendarError::Invalid { file: file.to_owned(), line, column, reason: reason.into() }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_become_lines_and_columns() {
        let text = "a = 1\nbb = 2\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        assert_eq!(line_col(text, 11), (2, 6));
        assert_eq!(line_col(text, 999), (3, 1));
    }
}
