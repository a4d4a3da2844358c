//! Reads one calendar file: TOML syntax, then the rules, each failure located by line and column.

use super::error::{invalid_at, CalendarError};
use super::expand::expand;
use super::model::{CalendarFile, WindowSpec};
use super::rules::{Calendar, Template};
use super::schedule::MAX_WINDOWS;
use super::wall::{is_ambiguous_or_skipped, local_to_utc_ns};
use crate::tick::{Exchange, Session};
use chrono::{Datelike, Duration, NaiveDate, NaiveTime};
use chrono_tz::Tz;
use std::collections::BTreeMap;
use std::ops::Range;

/// Calendar years a file may cover: keeps every instant well inside the i64 nanosecond range.
const YEARS: std::ops::RangeInclusive<i32> = 1971..=2200;

type Span = Range<usize>;

/// Longest run of covered days without a trading day that a file may have.
const MAX_GAP_DAYS: i64 = 31;

/// Parses and checks one calendar file; `file` names it in errors.
pub(crate) fn parse_calendar(
    file: &str,
    text: &str,
) -> Result<(Vec<Exchange>, Calendar), CalendarError> {
    let err = |span: Span, reason: String| invalid_at(file, text, Some(span), reason);
    let parsed: CalendarFile =
        toml::from_str(text).map_err(|e| invalid_at(file, text, e.span(), e.message().trim()))?;
    let header = &parsed.calendar;

    let tz: Tz = header.timezone.get_ref().parse().map_err(|_| {
        err(header.timezone.span(), format!("unknown timezone {:?}", header.timezone.get_ref()))
    })?;

    let mut exchanges = Vec::new();
    for mic in &header.exchanges {
        let exchange = Exchange::from_mic(mic.get_ref())
            .ok_or_else(|| err(mic.span(), format!("unknown MIC {:?}", mic.get_ref())))?;
        if exchange.timezone() != tz.name() {
            return Err(err(
                mic.span(),
                format!("{exchange} trades in {}, not {}", exchange.timezone(), tz.name()),
            ));
        }
        if exchanges.contains(&exchange) {
            return Err(err(mic.span(), format!("{exchange} listed twice")));
        }
        exchanges.push(exchange);
    }
    if exchanges.is_empty() {
        return Err(invalid_at(file, text, None, "[calendar] exchanges is empty"));
    }

    let first_day = header.first_day.get_ref().0;
    let last_day = header.last_day.get_ref().0;
    for (day, span) in [(first_day, header.first_day.span()), (last_day, header.last_day.span())] {
        if !YEARS.contains(&day.year()) {
            return Err(err(span, format!("{day} is outside the supported years {YEARS:?}")));
        }
    }
    if last_day < first_day {
        return Err(err(
            header.last_day.span(),
            format!("last_day {last_day} is before first_day {first_day}"),
        ));
    }
    let in_range = |day: NaiveDate, span: Span| {
        if day < first_day || day > last_day {
            Err(err(span, format!("{day} is outside the covered days {first_day} ..= {last_day}")))
        } else {
            Ok(())
        }
    };

    let mut templates: Vec<(Template, Span)> = Vec::new();
    for t in &parsed.template {
        let spec = t.get_ref();
        let from = spec.effective_from.get_ref().0;
        if let Some((prev, _)) = templates.last() {
            if from <= prev.effective_from {
                return Err(err(
                    spec.effective_from.span(),
                    format!(
                        "templates must be in date order: {from} does not follow {}",
                        prev.effective_from
                    ),
                ));
            }
            in_range(from, spec.effective_from.span())?;
        } else if from > first_day {
            return Err(err(
                spec.effective_from.span(),
                format!("the first template starts {from}, after first_day {first_day}"),
            ));
        }
        let mut weekday_mask = 0u8;
        for w in &spec.weekdays {
            let bit = weekday_bit(w.get_ref()).ok_or_else(|| {
                err(w.span(), format!("unknown weekday {:?} (use mon..sun)", w.get_ref()))
            })?;
            if weekday_mask & bit != 0 {
                return Err(err(w.span(), format!("weekday {:?} listed twice", w.get_ref())));
            }
            weekday_mask |= bit;
        }
        check_windows(spec.windows.get_ref()).map_err(|r| err(spec.windows.span(), r))?;
        templates.push((
            Template {
                effective_from: from,
                weekday_mask,
                windows: spec.windows.get_ref().clone(),
            },
            spec.windows.span(),
        ));
    }
    if templates.is_empty() {
        return Err(invalid_at(
            file,
            text,
            None,
            "no [[template]]: a calendar needs weekly windows",
        ));
    }

    let mut seen: BTreeMap<NaiveDate, &'static str> = BTreeMap::new();
    let mut holidays = BTreeMap::new();
    for h in &parsed.holiday {
        let (day, span) = (h.get_ref().date.get_ref().0, h.get_ref().date.span());
        in_range(day, span.clone())?;
        if let Some(kind) = seen.insert(day, "holiday") {
            return Err(err(span, format!("{day} is already listed as a {kind}")));
        }
        holidays.insert(day, h.get_ref().name.clone());
    }
    let mut specials = BTreeMap::new();
    let mut special_spans = BTreeMap::new();
    for s in &parsed.special {
        let spec = s.get_ref();
        let (day, span) = (spec.date.get_ref().0, spec.date.span());
        in_range(day, span.clone())?;
        if let Some(kind) = seen.insert(day, "special day") {
            return Err(err(span, format!("{day} is already listed as a {kind}")));
        }
        check_windows(spec.windows.get_ref()).map_err(|r| err(spec.windows.span(), r))?;
        specials.insert(day, (spec.name.clone(), spec.windows.get_ref().clone()));
        special_spans.insert(day, spec.windows.span());
    }

    // Rules fill in around the dated entries: a listed [[special]] replaces a rule's special day, a listed
    // [[holiday]] replaces a rule's special day, and a listed day on a rule's holiday is a contradiction.
    let ruled = expand(&parsed.rule, first_day, last_day).map_err(|(span, r)| err(span, r))?;
    for (day, (name, span)) in ruled.holidays {
        if let Some(kind) = seen.get(&day) {
            let listed = parsed
                .holiday
                .iter()
                .map(|h| h.get_ref().date.clone())
                .chain(parsed.special.iter().map(|s| s.get_ref().date.clone()))
                .find(|d| d.get_ref().0 == day)
                .map_or(span, |d| d.span());
            return Err(err(
                listed,
                format!("{day} is listed as a {kind} but rule {name:?} already makes it a holiday"),
            ));
        }
        holidays.insert(day, name);
    }
    for (day, (name, windows, span)) in ruled.specials {
        // A rule reshapes trading days; it never opens a weekday the template keeps closed (a 24 Dec
        // early close on a Sunday does not happen).
        let template_trades =
            templates.iter().rev().find(|(t, _)| t.effective_from <= day).is_some_and(|(t, _)| {
                t.weekday_mask & (1 << day.weekday().num_days_from_monday()) != 0
            });
        if seen.contains_key(&day) || !template_trades {
            continue;
        }
        check_windows(&windows).map_err(|r| err(span.clone(), r))?;
        specials.insert(day, (name, windows));
        special_spans.insert(day, span);
    }

    let lookback_days = templates
        .iter()
        .flat_map(|(t, _)| t.windows.iter())
        .chain(specials.values().flat_map(|(_, w)| w.iter()))
        .map(|w| -i64::from(w.start.day_offset.min(w.end.day_offset)))
        .max()
        .unwrap_or(0);
    let midnight = |day: NaiveDate| local_to_utc_ns(tz, day.and_time(NaiveTime::MIN));
    let covered_ns = midnight(first_day)..midnight(last_day + Duration::days(1 - lookback_days));

    let calendar = Calendar {
        name: header.name.clone(),
        file: file.to_owned(),
        tz,
        first_day,
        last_day,
        compiled: header.compiled.0,
        sources: header.sources.clone(),
        templates: templates.iter().map(|(t, _)| t.clone()).collect(),
        holidays,
        specials,
        lookback_days,
        covered_ns,
    };

    // The rules are fine locally; now check every day in UTC, and that trading days follow one another.
    let mut previous: Option<(NaiveDate, i64)> = None;
    let mut day = first_day;
    while day <= last_day {
        let source_span = special_spans.get(&day).cloned().unwrap_or_else(|| {
            templates
                .iter()
                .rev()
                .find(|(t, _)| t.effective_from <= day)
                .map_or(0..0, |(_, s)| s.clone())
        });
        if let Some(s) = calendar.schedule(day) {
            for pair in s.windows().windows(2) {
                if pair[0].end_ns > pair[1].start_ns {
                    return Err(err(
                        source_span,
                        format!("on {day} two windows overlap once converted to UTC"),
                    ));
                }
            }
            if s.windows().iter().any(|w| w.start_ns >= w.end_ns) {
                return Err(err(
                    source_span,
                    format!("on {day} a window is empty once converted to UTC"),
                ));
            }
            if let Some((prev_day, prev_end)) = previous {
                if prev_end > s.start_ns() {
                    return Err(err(
                        source_span,
                        format!("trading day {day} starts before trading day {prev_day} ends"),
                    ));
                }
            }
            // Only a day with an offset change near it can have a boundary in a gap or overlap: two
            // UTC-to-local look-ups rule that out for nearly every day, instead of two per boundary.
            let margin = 6 * 3_600_000_000_000;
            let offset_at = |ns: i64| {
                use chrono::{Offset, TimeZone};
                tz.timestamp_nanos(ns).offset().fix().local_minus_utc()
            };
            let near_a_change = offset_at(s.start_ns().saturating_sub(margin))
                != offset_at(s.end_ns().saturating_add(margin));
            if let Some(windows) = calendar.local_windows(day).filter(|_| near_a_change) {
                for w in windows {
                    for t in [w.start, w.end] {
                        if is_ambiguous_or_skipped(tz, t.on(day)) {
                            tracing::warn!(file, %day, time = %t, "session boundary falls in a DST gap or overlap");
                        }
                    }
                }
            }
            previous = Some((day, s.end_ns()));
        }
        // A month without a single trading day is a broken file (a template without weekdays, a date
        // table pasted twice), not a market: no shipped market closes that long.
        let last_trading = previous.map_or(first_day - Duration::days(1), |(d, _)| d);
        if day - last_trading > Duration::days(MAX_GAP_DAYS) {
            return Err(err(
                source_span,
                format!(
                    "no trading day for more than {MAX_GAP_DAYS} days ({} ..= {day})",
                    last_trading + Duration::days(1)
                ),
            ));
        }
        day += Duration::days(1);
    }
    Ok((exchanges, calendar))
}

fn weekday_bit(name: &str) -> Option<u8> {
    const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    NAMES.iter().position(|n| n.eq_ignore_ascii_case(name)).map(|i| 1 << i)
}

/// Local checks on one day's windows: present, few, open sessions only, each non-empty, in order, no overlap,
/// and a break only between two windows.
fn check_windows(windows: &[WindowSpec]) -> Result<(), String> {
    if windows.is_empty() {
        return Err(
            "a trading day needs at least one window (list the date as a [[holiday]] instead)"
                .into(),
        );
    }
    if windows.len() > MAX_WINDOWS {
        return Err(format!("{} windows, at most {MAX_WINDOWS} allowed", windows.len()));
    }
    for (i, w) in windows.iter().enumerate() {
        if matches!(w.session, Session::Closed | Session::Unknown) {
            return Err(format!("a window cannot be \"{}\": leave a gap instead", w.session));
        }
        if w.start >= w.end {
            return Err(format!(
                "window {} ends ({}) before it starts ({})",
                i + 1,
                w.end,
                w.start
            ));
        }
        if w.session == Session::Break && (i == 0 || i + 1 == windows.len()) {
            return Err("a break must lie between two windows".into());
        }
    }
    for (i, pair) in windows.windows(2).enumerate() {
        if pair[0].end > pair[1].start {
            return Err(format!(
                "windows {} and {} overlap ({} > {})",
                i + 1,
                i + 2,
                pair[0].end,
                pair[1].start
            ));
        }
    }
    Ok(())
}
