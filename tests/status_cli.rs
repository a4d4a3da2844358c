//! One-shot `tickring status` against a ring being published to: it samples twice, so the publish rate,
//! each consumer's rate and each attached process's CPU use are numbers, not "-".

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tickring_engine::{InstrumentEntry, Tick};
use tickring_ipc::{
    Consumer, ConsumerOptions, ConsumerPolicy, Producer, Read, RingConfig, StartAt,
};

#[test]
fn one_shot_status_shows_rates_and_cpu_of_a_busy_ring() {
    let dir = std::env::temp_dir().join(format!("tickring-status-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("tmp");
    let ring = RingConfig {
        name: format!("status-cli-{}", std::process::id()),
        capacity: 1 << 12,
        ..RingConfig::default()
    };
    let tuning = dir.join("tuning.toml");
    std::fs::write(
        &tuning,
        format!(
            "[ring]\nname = \"{}\"\ncapacity = 4096\n[journal]\ndir = \"{}\"\n",
            ring.name,
            dir.join("j").display()
        ),
    )
    .expect("tuning");
    let mut producer = Producer::<Tick, InstrumentEntry>::create(&ring).expect("ring");
    let opts = ConsumerOptions {
        name: "status-test".into(),
        policy: ConsumerPolicy::NonGating,
        start: StartAt::Latest,
    };
    let mut consumer = Consumer::<Tick, InstrumentEntry>::attach(&ring, opts).expect("consumer");
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if let Ok(Read::Batch(b)) = consumer.wait(Some(Duration::from_millis(50))) {
                    let _ = b.commit();
                }
            }
        })
    };
    let writer = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let batch = vec![bytemuck::Zeroable::zeroed(); 16];
            while !stop.load(Ordering::Relaxed) {
                producer.publish_batch(&batch);
                std::thread::sleep(Duration::from_micros(200));
            }
        })
    };

    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_tickring"))
            .args(["--tuning", tuning.to_str().expect("utf8")])
            .args(args)
            .output()
            .expect("tickring runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let json: serde_json::Value = serde_json::from_str(&run(&["status", "--json"])).expect("json");
    let text = run(&["status"]);
    stop.store(true, Ordering::Relaxed);
    writer.join().expect("writer");
    reader.join().expect("reader");

    assert!(json["publish_rate_per_s"].as_f64().is_some_and(|r| r > 0.0), "{json}");
    assert!(json["producer_cpu_percent"].as_f64().is_some(), "{json}");
    let c = &json["consumers"][0];
    assert_eq!(c["name"], "status-test");
    assert!(c["rate_per_s"].as_f64().is_some_and(|r| r > 0.0), "{c}");
    assert!(c["cpu_percent"].as_f64().is_some(), "{c}");
    assert!(!text.contains("publish rate -"), "{text}");
    assert!(text.contains("producer cpu "), "{text}");
    let _ = std::fs::remove_file(ring.segment_path());
    let _ = std::fs::remove_file(ring.lock_path());
    let _ = std::fs::remove_dir_all(&dir);
}
