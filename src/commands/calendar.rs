//! `tickring calendar`: show one exchange's year, or check a directory of calendar files.
//!
//! `show XKRX 2024` prints the weekly sessions in force that year, its holidays and its special days (early
//! closes, late opens), in the exchange's wall time. `check [DIR]` loads every `*.toml` file of DIR (the
//! built-in files without one) with the checks of a real start and prints `file:line:column: reason` for
//! each broken file; the exit status is non-zero if any is.

use anyhow::{anyhow, bail, Context};
use chrono::{Datelike, NaiveDate};
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use tickring_engine::calendar::{Calendar, Calendars, WindowSpec, BUILTIN_FILES};
use tickring_engine::instrument::parse_exchange_or_ric;

#[derive(Debug, clap::Subcommand)]
pub enum CalendarCommand {
    /// One exchange's sessions, holidays and special days in one year.
    Show(ShowArgs),
    /// Validate calendar files (the built-in ones without DIR) as a start would, with file:line errors.
    Check(CheckArgs),
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// A MIC (XNYS, XKRX, ...) or a RIC (AAPL.O, 005930.KS).
    pub exchange_or_ric: String,
    /// The calendar year, e.g. 2024.
    pub year: i32,
    /// A directory of calendar files to use instead of the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub calendars: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The directory of `*.toml` calendar files; the built-in files when absent.
    pub dir: Option<PathBuf>,
}

pub fn run(command: CalendarCommand) -> anyhow::Result<()> {
    match command {
        CalendarCommand::Show(args) => show(&args),
        CalendarCommand::Check(args) => check(args.dir.as_deref()),
    }
}

fn show(args: &ShowArgs) -> anyhow::Result<()> {
    let calendars = match &args.calendars {
        Some(dir) => Calendars::load_dir(dir)
            .with_context(|| format!("loading calendars from {}", dir.display()))?,
        None => Calendars::builtin().context("loading the built-in calendars")?,
    };
    let what = &args.exchange_or_ric;
    let exchange = parse_exchange_or_ric(what)
        .ok_or_else(|| anyhow!("{what:?} is neither a known MIC nor a RIC with a known suffix"))?;
    let calendar =
        calendars.get(exchange).ok_or_else(|| anyhow!("no calendar covers {exchange}"))?;
    let text = year_report(exchange.mic(), calendar, args.year)?;
    std::io::stdout().lock().write_all(text.as_bytes()).context("writing to stdout")
}

/// The text `show` prints.
pub fn year_report(mic: &str, cal: &Calendar, year: i32) -> anyhow::Result<String> {
    let (Some(jan1), Some(dec31)) =
        (NaiveDate::from_ymd_opt(year, 1, 1), NaiveDate::from_ymd_opt(year, 12, 31))
    else {
        bail!("{year} is not a usable year");
    };
    let (first, last) = cal.days();
    let mut out = String::new();
    let w = &mut out;
    writeln!(w, "{mic} {year}: calendar {} ({}), {}", cal.name(), cal.file(), cal.timezone())?;
    writeln!(w, "covered days: {first} ..= {last}; rules compiled {}", cal.compiled())?;
    if dec31 < first || jan1 > last {
        writeln!(w, "{year} is outside the coverage: every session is unknown")?;
        return Ok(out);
    }
    let days = jan1.max(first)..=dec31.min(last);
    if *days.start() != jan1 || *days.end() != dec31 {
        writeln!(
            w,
            "only {} ..= {} of {year} is covered; the rest is unknown",
            days.start(),
            days.end()
        )?;
    }
    writeln!(w, "\nweekly sessions:")?;
    for t in cal.templates_during(days.clone()) {
        let weekdays: Vec<String> =
            t.weekdays.iter().map(|d| d.to_string().to_lowercase()).collect();
        writeln!(w, "  from {} {}: {}", t.effective_from, weekdays.join(" "), windows(t.windows))?;
    }
    let holidays: Vec<_> = cal.holidays_during(days.clone()).collect();
    writeln!(w, "\nholidays ({}):", holidays.len())?;
    for (day, name) in holidays {
        writeln!(w, "  {day} {}  {name}", day.weekday())?;
    }
    let specials: Vec<_> = cal.specials_during(days.clone()).collect();
    writeln!(w, "\nspecial days ({}):", specials.len())?;
    for (day, name, list) in specials {
        writeln!(w, "  {day} {}  {name}: {}", day.weekday(), windows(list))?;
    }
    let trading = days
        .start()
        .iter_days()
        .take_while(|d| d <= days.end())
        .filter(|d| cal.local_windows(*d).is_some())
        .count();
    writeln!(w, "\ntrading days: {trading}")?;
    Ok(out)
}

fn windows(list: &[WindowSpec]) -> String {
    let short = |t: tickring_engine::calendar::WallTime| {
        let hm = t.time.format("%H:%M").to_string();
        if t.day_offset == 0 {
            hm
        } else {
            format!("{}d {hm}", t.day_offset)
        }
    };
    list.iter()
        .map(|w| format!("{} {}-{}", w.session, short(w.start), short(w.end)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn check(dir: Option<&Path>) -> anyhow::Result<()> {
    let sources: Vec<(String, String)> = match dir {
        None => BUILTIN_FILES
            .iter()
            .map(|(name, text)| (format!("builtin:{name}"), (*text).to_owned()))
            .collect(),
        Some(dir) => {
            let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
                .with_context(|| format!("reading {}", dir.display()))?
                .map(|e| e.map(|e| e.path()))
                .collect::<Result<_, _>>()
                .with_context(|| format!("reading {}", dir.display()))?;
            paths.retain(|p| p.extension().is_some_and(|e| e == "toml") && p.is_file());
            paths.sort();
            if paths.is_empty() {
                bail!("no calendar files (*.toml) in {}", dir.display());
            }
            paths
                .into_iter()
                .map(|p| {
                    let text = std::fs::read_to_string(&p)
                        .with_context(|| format!("reading {}", p.display()))?;
                    Ok((p.display().to_string(), text))
                })
                .collect::<anyhow::Result<_>>()?
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut broken = 0usize;
    // Each file alone first, so every broken file is reported, not only the first.
    for (file, text) in &sources {
        match Calendars::from_sources([(file.clone(), text.clone())]) {
            Ok(cals) => {
                for mic in cals.exchanges() {
                    let cal = cals.get(mic).ok_or_else(|| anyhow!("{mic} vanished"))?;
                    let (first, last) = cal.days();
                    writeln!(out, "ok {file}: {mic} {first} ..= {last}")?;
                }
            }
            Err(e) => {
                broken += 1;
                writeln!(out, "{e}")?;
            }
        }
    }
    if broken > 0 {
        bail!("{broken} of {} calendar file(s) refused", sources.len());
    }
    // Then together: two files must not claim one exchange.
    Calendars::from_sources(sources).map_err(|e| anyhow!("{e}"))?;
    Ok(())
}
