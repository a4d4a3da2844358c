//! `tickring bench e2e --find-max`: the highest input rate at which all three e2e targets hold. From
//! `--rate` it doubles (or halves) to a bracket of a rate that holds and one that does not, then bisects;
//! every probe is a whole e2e run against one ClickHouse server started for the search.

use super::bench::{e2e_run, start_local_clickhouse, E2eArgs};
use crate::tuning::Tuning;
use anyhow::Result;
use std::path::Path;

/// The search never probes below this rate or above this one.
const FLOOR: u64 = 1_000;
const CEILING: u64 = 4_000_000;

#[derive(Debug, serde::Serialize)]
struct Probe {
    rate: u64,
    targets_met: bool,
}

pub(super) fn run(args: &E2eArgs, tuning_path: &Path) -> Result<()> {
    let tuning = Tuning::load(tuning_path)?;
    let (_, dir) = super::bench::outputs(args.json.as_ref(), args.out_dir.as_ref(), "e2e");
    std::fs::create_dir_all(&dir)?;
    // Stopped when the search ends (dropped), if it was started here.
    let (_server, url) = match &args.clickhouse_url {
        Some(url) => (None, url.clone()),
        None => {
            let (server, url) = start_local_clickhouse(&tuning, &dir)?;
            (Some(server), url)
        }
    };
    let mut probes: Vec<Probe> = Vec::new();
    let mut probe = |rate: u64| -> Result<bool> {
        println!("\n== find-max: probing {rate} ticks/s");
        let json = dir.join(format!("e2e-find-max-{rate}.json"));
        let one = E2eArgs { rate, json: Some(json), find_max: false, ..args.clone() };
        let met = e2e_run(&one, tuning_path, Some(&url))?.targets_met();
        println!(
            "== find-max: {rate} ticks/s: {}",
            if met { "all targets met" } else { "a target missed" }
        );
        probes.push(Probe { rate, targets_met: met });
        Ok(met)
    };
    // A bracket: `good` holds, `bad` does not (either may be missing at the search's ends).
    let start = args.rate.clamp(FLOOR, CEILING);
    let (mut good, mut bad) = if probe(start)? {
        let mut good = start;
        loop {
            let next = (good * 2).min(CEILING);
            if next == good {
                break (Some(good), None);
            }
            if probe(next)? {
                good = next;
            } else {
                break (Some(good), Some(next));
            }
        }
    } else {
        let mut bad = start;
        loop {
            let next = (bad / 2).max(FLOOR);
            if next == bad {
                break (None, Some(bad));
            }
            if probe(next)? {
                break (Some(next), Some(bad));
            }
            bad = next;
        }
    };
    for _ in 0..args.find_max_steps {
        let (Some(g), Some(b)) = (good, bad) else { break };
        let mid = g + (b - g) / 2;
        if mid <= g || mid >= b {
            break;
        }
        if probe(mid)? {
            good = Some(mid);
        } else {
            bad = Some(mid);
        }
    }
    let summary = match (good, bad) {
        (Some(g), Some(b)) => {
            format!("highest rate with all three targets met: {g} ticks/s (missed at {b})")
        }
        (Some(g), None) => format!("all three targets met up to the search's ceiling, {g} ticks/s"),
        (None, _) => {
            format!("no rate from {FLOOR} ticks/s up meets all three targets on this machine")
        }
    };
    println!("\n{summary}");
    let path = dir.join("e2e-find-max.json");
    let json = serde_json::json!({ "scenario": "e2e-find-max", "max_rate": good, "missed_at": bad, "probes": probes });
    std::fs::write(&path, serde_json::to_string_pretty(&json)?)?;
    println!("wrote {}", path.display());
    Ok(())
}
