//! The mapping as the decoder uses it: field names resolved to slots, classes in trial order.

use super::config::{ClassConfig, MappingFile, Role};
use super::futures_ric::is_futures_ric;
use super::names::{TradeClass, UpdateType};
use super::time::{DateSource, NS_PER_SEC};
use std::ops::Range;
use toml::Spanned;

/// Index of a mapped field in per-message and per-stream value arrays.
pub type Slot = u16;

/// What a mapped field holds, which decides how its value is read and kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    Price,
    Size,
    Time,
    Date,
    /// Enum-like codes kept as text (exchange, trade condition).
    Text,
    TradeId,
}

#[derive(Debug)]
pub struct FieldSpec {
    pub name: Box<str>,
    pub kind: FieldKind,
}

#[derive(Debug)]
pub struct ConditionSpec {
    pub slot: Slot,
    /// Condition code -> flag bits it adds.
    pub codes: Vec<(Box<str>, u8)>,
}

/// One trade class: when it applies and where its trade's fields are.
#[derive(Debug)]
pub struct ClassSpec {
    pub class: TradeClass,
    pub role: Role,
    pub update_types: Vec<UpdateType>,
    /// Preference order; the first present in the message is the trade's price (and its trigger).
    pub price: Vec<Slot>,
    pub size: Vec<Slot>,
    pub time: Vec<Slot>,
    pub date: DateSource,
    pub flags: u8,
    pub condition: Option<ConditionSpec>,
    pub trade_id: Option<Slot>,
}

#[derive(Debug)]
struct FuturesRule {
    class: usize,
    root_max: u8,
    year_digits_max: u8,
}

#[derive(Debug)]
struct FieldRule {
    slot: Slot,
    values: Vec<Box<str>>,
    class: usize,
}

/// A loaded, validated field mapping. Build it with [`crate::mapping::load`] or [`crate::mapping::builtin`].
#[derive(Debug)]
pub struct Mapping {
    fields: Vec<FieldSpec>,
    /// Names bucketed by length: a lookup is one bucket scan of one or two names.
    by_len: Vec<Vec<(Box<str>, Slot)>>,
    classes: Vec<ClassSpec>,
    exchange: Option<Slot>,
    trade_date: Option<Slot>,
    max_skew_ns: u64,
    default_class: usize,
    futures: Option<FuturesRule>,
    by_field: Vec<FieldRule>,
}

pub(crate) type CompileError = (Range<usize>, String);

impl Mapping {
    pub fn fields(&self) -> &[FieldSpec] {
        &self.fields
    }

    /// Classes in trial order: overrides, then item classes, then fallbacks.
    pub fn classes(&self) -> &[ClassSpec] {
        &self.classes
    }

    pub fn slot(&self, name: &str) -> Option<Slot> {
        self.by_len.get(name.len())?.iter().find(|(n, _)| n.as_ref() == name).map(|(_, s)| *s)
    }

    pub fn exchange_slot(&self) -> Option<Slot> {
        self.exchange
    }

    pub fn trade_date_slot(&self) -> Option<Slot> {
        self.trade_date
    }

    pub fn max_skew_ns(&self) -> u64 {
        self.max_skew_ns
    }

    /// The class index (into [`Mapping::classes`]) of an item, from its RIC and its known text fields.
    pub fn item_class<'v>(&self, ric: &str, text_of: impl Fn(Slot) -> Option<&'v str>) -> usize {
        for rule in &self.by_field {
            if let Some(v) = text_of(rule.slot) {
                if rule.values.iter().any(|x| x.as_ref() == v) {
                    return rule.class;
                }
            }
        }
        match &self.futures {
            Some(f) if is_futures_ric(ric, f.root_max, f.year_digits_max) => f.class,
            _ => self.default_class,
        }
    }

    pub(crate) fn compile(file: MappingFile) -> Result<Self, CompileError> {
        if *file.version.get_ref() != 1 {
            return Err((file.version.span(), "unsupported mapping version (expected 1)".into()));
        }
        let skew = *file.settings.max_skew_hours.get_ref();
        if !(1..=12).contains(&skew) {
            return Err((
                file.settings.max_skew_hours.span(),
                "max_skew_hours must be 1..=12".into(),
            ));
        }
        let mut b = Builder::default();
        let exchange = file
            .settings
            .exchange_field
            .as_ref()
            .map(|f| b.field(f, FieldKind::Text))
            .transpose()?;
        let trade_date = file
            .settings
            .trade_date_field
            .as_ref()
            .map(|f| b.field(f, FieldKind::Date))
            .transpose()?;

        let mut classes = Vec::new();
        for role in [Role::Override, Role::Item, Role::Fallback] {
            for (class, cfg) in file.class.iter().filter(|(_, c)| c.get_ref().role == role) {
                let spec = b.class(class, cfg, file.settings.date)?;
                if spec.date == DateSource::TradeDate && trade_date.is_none() {
                    return Err((
                        cfg.span(),
                        "date = \"trade_date\" needs settings.trade_date_field".into(),
                    ));
                }
                classes.push(spec);
            }
        }
        let item_index = |c: &Spanned<TradeClass>| -> Result<usize, CompileError> {
            classes.iter().position(|s| s.class == *c.get_ref() && s.role == Role::Item).ok_or_else(
                || (c.span(), format!("no class `{}` with role = \"item\"", c.get_ref())),
            )
        };
        let default_class = item_index(&file.assign.default)?;
        let futures = file
            .assign
            .futures_ric
            .as_ref()
            .map(|f| {
                Ok::<_, CompileError>(FuturesRule {
                    class: item_index(&f.class)?,
                    root_max: f.root_max,
                    year_digits_max: f.year_digits_max,
                })
            })
            .transpose()?;
        let mut by_field = Vec::new();
        for rule in &file.assign.by_field {
            by_field.push(FieldRule {
                slot: b.field(&rule.field, FieldKind::Text)?,
                values: rule.values.iter().map(|v| v.as_str().into()).collect(),
                class: item_index(&rule.class)?,
            });
        }
        Ok(Self {
            by_len: b.by_len(),
            fields: b.fields,
            classes,
            exchange,
            trade_date,
            max_skew_ns: u64::from(skew) * 3600 * NS_PER_SEC,
            default_class,
            futures,
            by_field,
        })
    }
}

#[derive(Default)]
struct Builder {
    fields: Vec<FieldSpec>,
}

impl Builder {
    /// The slot of a field, created on first use; one field cannot play two kinds.
    fn field(&mut self, name: &Spanned<String>, kind: FieldKind) -> Result<Slot, CompileError> {
        let text = name.get_ref();
        if text.is_empty() || !text.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
            return Err((name.span(), format!("`{text}` is not a field name")));
        }
        if let Some(i) = self.fields.iter().position(|f| f.name.as_ref() == text) {
            let existing = self.fields[i].kind;
            if existing != kind {
                return Err((
                    name.span(),
                    format!("field `{text}` used as {kind:?} and as {existing:?}"),
                ));
            }
            return Ok(i as Slot);
        }
        let slot = Slot::try_from(self.fields.len())
            .map_err(|_| (name.span(), "too many fields".into()))?;
        self.fields.push(FieldSpec { name: text.as_str().into(), kind });
        Ok(slot)
    }

    fn list(
        &mut self,
        names: &[Spanned<String>],
        kind: FieldKind,
        what: &str,
        at: Range<usize>,
    ) -> Result<Vec<Slot>, CompileError> {
        if names.is_empty() {
            return Err((at, format!("`{what}` needs at least one field")));
        }
        names.iter().map(|n| self.field(n, kind)).collect()
    }

    fn class(
        &mut self,
        class: TradeClass,
        cfg: &Spanned<ClassConfig>,
        default_date: DateSource,
    ) -> Result<ClassSpec, CompileError> {
        let at = cfg.span();
        let c = cfg.get_ref();
        if c.update_types.is_empty() {
            return Err((at, "`update_types` needs at least one update type".into()));
        }
        let update_types = c
            .update_types
            .iter()
            .map(|u| {
                UpdateType::from_config(u.get_ref())
                    .ok_or_else(|| (u.span(), format!("unknown update type `{}`", u.get_ref())))
            })
            .collect::<Result<_, _>>()?;
        let condition = match &c.condition {
            Some(cond) => Some(ConditionSpec {
                slot: self.field(&cond.field, FieldKind::Text)?,
                codes: cond
                    .codes
                    .iter()
                    .map(|(k, v)| (k.as_str().into(), v.iter().fold(0, |a, f| a | f.bit())))
                    .collect(),
            }),
            None => None,
        };
        Ok(ClassSpec {
            class,
            role: c.role,
            update_types,
            price: self.list(&c.price, FieldKind::Price, "price", at.clone())?,
            size: self.list(&c.size, FieldKind::Size, "size", at.clone())?,
            time: self.list(&c.time, FieldKind::Time, "time", at.clone())?,
            date: c.date.unwrap_or(default_date),
            flags: c.flags.iter().fold(0, |a, f| a | f.bit()),
            condition,
            trade_id: c.trade_id.as_ref().map(|t| self.field(t, FieldKind::TradeId)).transpose()?,
        })
    }

    fn by_len(&self) -> Vec<Vec<(Box<str>, Slot)>> {
        let longest = self.fields.iter().map(|f| f.name.len()).max().unwrap_or(0);
        let mut buckets = vec![Vec::new(); longest + 1];
        for (i, f) in self.fields.iter().enumerate() {
            buckets[f.name.len()].push((f.name.clone(), i as Slot));
        }
        buckets
    }
}
