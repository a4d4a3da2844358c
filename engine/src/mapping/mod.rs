//! Field mapping as data: which feed fields make a trade, per instrument class (`mappings/lseg.toml`).

mod compiled;
mod config;
pub mod futures_ric;
pub mod names;
pub mod time;
pub mod value;

pub use compiled::{ClassSpec, ConditionSpec, FieldKind, FieldSpec, Mapping, Slot};
pub use config::Role;
pub use names::{FlagName, TradeClass, UpdateType};
pub use time::DateSource;

use std::path::Path;

/// The mapping shipped with tickring, compiled in.
pub const BUILTIN_LSEG: &str = include_str!("../../mappings/lseg.toml");

/// Why a mapping file was refused.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    #[error("{path}: cannot read mapping: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin}:{line}:{column}: {reason}")]
    Invalid { origin: String, line: usize, column: usize, reason: String },
}

/// Loads and validates a mapping file.
///
/// # Errors
/// The file cannot be read, is not TOML, has unknown keys, or names inconsistent fields or classes;
/// the error carries the file, line and column.
pub fn load(path: impl AsRef<Path>) -> Result<Mapping, MappingError> {
    let path = path.as_ref();
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|source| MappingError::Io { path: origin.clone(), source })?;
    parse(&text, &origin)
}

/// The built-in LSEG mapping.
///
/// # Panics
/// Never in a released build: the embedded file is checked by the test suite.
pub fn builtin() -> Mapping {
    #[allow(clippy::expect_used)]
    parse(BUILTIN_LSEG, "builtin:lseg.toml").expect("the built-in mapping is valid")
}

/// Parses mapping text; `origin` names it in errors.
///
/// # Errors
/// As [`load`].
pub fn parse(text: &str, origin: &str) -> Result<Mapping, MappingError> {
    let invalid = |span: Option<std::ops::Range<usize>>, reason: String| {
        let (line, column) = span.map_or((0, 0), |s| locate(text, s.start));
        MappingError::Invalid { origin: origin.to_string(), line, column, reason }
    };
    let file: config::MappingFile =
        toml::from_str(text).map_err(|e| invalid(e.span(), e.message().to_string()))?;
    Mapping::compile(file).map_err(|(span, reason)| invalid(Some(span), reason))
}

/// 1-based line and column of a byte offset.
fn locate(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(before.len(), |nl| before.len() - nl - 1) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(text: &str) -> (usize, String) {
        match parse(text, "bad.toml") {
            Err(MappingError::Invalid { line, reason, origin, .. }) => {
                assert_eq!(origin, "bad.toml");
                (line, reason)
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn builtin_mapping_loads_with_all_classes() {
        let m = builtin();
        let order: Vec<_> = m.classes().iter().map(|c| c.class).collect();
        assert_eq!(
            order,
            [
                TradeClass::Correction,
                TradeClass::Equity,
                TradeClass::Futures,
                TradeClass::ExtendedHours
            ]
        );
        assert_eq!(m.fields()[usize::from(m.slot("TRDPRC_1").unwrap())].kind, FieldKind::Price);
        assert_eq!(m.slot("BID"), None);
        let futures = m.classes().iter().position(|c| c.class == TradeClass::Futures).unwrap();
        assert_eq!(m.item_class("ESZ6", |_| None), futures);
        assert_eq!(
            m.item_class("SOMETHING", |s| (Some(s) == m.exchange_slot()).then_some("CME")),
            futures
        );
        assert_ne!(m.item_class("AAPL.O", |_| Some("NMQ")), futures);
    }

    #[test]
    fn the_shipped_file_loads_from_disk() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/mappings/lseg.toml");
        assert_eq!(load(path).unwrap().classes().len(), 4);
        assert!(matches!(load("/nonexistent/x.toml"), Err(MappingError::Io { .. })));
    }

    #[test]
    fn garbage_is_refused_with_line_and_reason() {
        let (line, reason) = refusal("version = 1\n[assign]\ndefault = \"equity\"\nbogus = 3\n");
        assert_eq!(line, 4);
        assert!(reason.contains("bogus"), "{reason}");

        let (line, _) = refusal("version = 1\nthis is not toml\n");
        assert_eq!(line, 2);

        let wrong_field =
            BUILTIN_LSEG.replacen("size = [\"TRDVOL_1\"]", "size = [\"TRDPRC_1\"]", 1);
        let (line, reason) = refusal(&wrong_field);
        assert!(reason.contains("TRDPRC_1"), "{reason}");
        assert_eq!(BUILTIN_LSEG.lines().nth(line - 1).map(|l| l.starts_with("size")), Some(true));

        let bad_type =
            BUILTIN_LSEG.replacen("update_types = [\"Trade\"]", "update_types = [\"Trades\"]", 1);
        assert!(refusal(&bad_type).1.contains("Trades"));

        let bad_class =
            BUILTIN_LSEG.replacen("default = \"equity\"", "default = \"extended_hours\"", 1);
        assert!(refusal(&bad_class).1.contains("role = \"item\""));

        let bad_version = BUILTIN_LSEG.replacen("version = 1", "version = 2", 1);
        assert_eq!(
            refusal(&bad_version).0,
            BUILTIN_LSEG.lines().position(|l| l.starts_with("version")).unwrap() + 1
        );

        let bad_skew = BUILTIN_LSEG.replacen("max_skew_hours = 12", "max_skew_hours = 30", 1);
        assert!(refusal(&bad_skew).1.contains("max_skew_hours"));
    }
}
