//! `tickring journal ls | verify | tail` on a journal a real `tickring ingest` wrote.

use std::path::Path;
use std::process::{Command, Output};

fn tickring(tuning: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tickring"))
        .args(["--tuning", tuning.to_str().expect("utf8")])
        .args(args)
        .output()
        .expect("tickring runs")
}

#[test]
fn ls_verify_and_tail_read_what_ingest_journaled_and_verify_names_damage() {
    let dir = std::env::temp_dir().join(format!("tickring-jcli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("tmp");
    let tuning = dir.join("tuning.toml");
    let ring = format!("jcli-{}", std::process::id());
    let replay = dir.join("day.jsonl");
    let lines: String = (0..500u64)
        .map(|i| {
            format!(
                "{{\"symbol\":\"VOD.L\",\"exchange\":\"XLON\",\"ts\":{},\"price\":\"70.{:02}\",\"size\":\"1\"}}\n",
                1_773_149_280_000_000_000 + i * 1_000_000,
                i % 100
            )
        })
        .collect();
    std::fs::write(&replay, lines).expect("replay");
    std::fs::write(
        &tuning,
        format!(
            "[ring]\nname = \"{ring}\"\n[journal]\ndir = \"{}\"\n[ingest]\nmetrics = \"\"\nquarantine = \"{}\"\n",
            dir.join("journal").display(),
            dir.join("q.jsonl").display()
        ),
    )
    .expect("tuning");
    let out = tickring(&tuning, &["ingest", replay.to_str().expect("utf8"), "--quiet"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let ls = tickring(&tuning, &["journal", "ls"]);
    let text = String::from_utf8_lossy(&ls.stdout);
    assert!(ls.status.success() && text.contains("500"), "{text}");
    let verify = tickring(&tuning, &["journal", "verify"]);
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));

    let epoch = std::fs::read_dir(dir.join("journal").join(&ring))
        .expect("ring folder")
        .flatten()
        .find_map(|e| e.file_name().to_str()?.parse::<u64>().ok())
        .expect("an epoch");
    let tail =
        tickring(&tuning, &["journal", "tail", "--from", &format!("{epoch}:10"), "--limit", "3"]);
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&tail.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!((lines[0]["seq"].as_u64(), lines[0]["symbol"].as_str()), (Some(10), Some("VOD.L")));
    assert_eq!(lines[0]["price"], "70.1");

    // A flipped byte in the middle of the segment: verify names the file and the offset, exits non-zero.
    let seg =
        dir.join("journal").join(&ring).join(epoch.to_string()).join("00000000000000000000.seg");
    let mut bytes = std::fs::read(&seg).expect("segment");
    bytes[4096 * 2 + 100] ^= 0x40;
    std::fs::write(&seg, bytes).expect("damage");
    let verify = tickring(&tuning, &["journal", "verify"]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(!verify.status.success(), "{text}");
    assert!(text.contains("00000000000000000000.seg") && text.contains("8192"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn status_shows_the_feed_gaps_journaled_with_no_ring_running() {
    use tickring_engine::{InstrumentEntry, Tick};
    use tickring_journal::{FeedGap, FsyncPolicy, JournalConfig, JournalWriter};
    let dir = std::env::temp_dir().join(format!("tickring-jcli-gaps-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("tmp");
    let ring = format!("jcli-gaps-{}", std::process::id());
    let cfg = JournalConfig {
        dir: dir.join("journal"),
        fsync: FsyncPolicy::Never,
        ..JournalConfig::default()
    };
    let mut w = JournalWriter::<Tick, InstrumentEntry>::open(&cfg, &ring, 7).expect("journal");
    let ticks = vec![bytemuck::Zeroable::zeroed(); 10];
    w.append(0, &ticks).expect("append");
    let second = 1_000_000_000;
    let at = 1_773_149_280 * second;
    w.record_feed_gap(FeedGap { seq: 4, from_ns: at, to_ns: at + 2 * second, connection: 2 })
        .expect("gap");
    w.record_feed_gap(FeedGap {
        seq: 10,
        from_ns: at + 60 * second,
        to_ns: at + 65 * second,
        connection: 3,
    })
    .expect("gap");
    w.close().expect("seal");
    let tuning = dir.join("tuning.toml");
    std::fs::write(
        &tuning,
        format!(
            "[ring]\nname = \"{ring}\"\n[journal]\ndir = \"{}\"\n",
            dir.join("journal").display()
        ),
    )
    .expect("tuning");

    let out = tickring(&tuning, &["status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("not running"), "{text}");
    assert!(text.contains("feed gaps 2  down 7.0 s in all"), "{text}");
    assert!(text.contains("2026-03-10T13:29:00.000Z .. 2026-03-10T13:29:05.000Z"), "{text}");
    assert!(text.contains("before seq 10, connection 3"), "{text}");

    let out = tickring(&tuning, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let gaps = &v["journal"]["epochs"][0]["feed_gaps"];
    assert_eq!(gaps.as_array().map(Vec::len), Some(2), "{v}");
    assert_eq!(gaps[0]["seq"], 4);
    let _ = std::fs::remove_dir_all(&dir);
}
