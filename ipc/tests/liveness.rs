//! Who holds a consumer slot, across real processes: a zombie or a reused pid does not keep a dead
//! consumer's name taken, and slots of consumers that are gone are reused once the table is full.

mod common;

use common::{cleanup, config, opts, Rec};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use tickring_ipc::layout::{ConsumerSlot, TABLE_OFFSET};
use tickring_ipc::{Consumer, ConsumerPolicy, Producer, RingConfig, RingError, RingStatus};

const RING: &str = "TICKRING_LIVENESS_RING";
const NAME: &str = "TICKRING_LIVENESS_NAME";

/// Entry point of the child processes: attach under a name, say so, then exit without detaching (as a
/// crash would), leaving the slot ACTIVE.
#[test]
#[ignore = "run as a child process by the other tests"]
fn child() {
    let Ok(ring) = std::env::var(RING) else { return };
    let cfg: RingConfig = serde_json::from_str(&ring).expect("config");
    let name = std::env::var(NAME).expect("name");
    let consumer = Consumer::<Rec>::attach(&cfg, opts(&name, ConsumerPolicy::NonGating));
    println!("@@attached {}", consumer.is_ok());
    std::process::exit(0);
}

/// Runs a child that attaches as `name` and exits; returns it unreaped (a zombie once it has exited).
fn attach_and_vanish(cfg: &RingConfig, name: &str) -> Child {
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args(["child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env(RING, serde_json::to_string(cfg).expect("json"))
        .env(NAME, name)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn child");
    let out = BufReader::new(child.stdout.take().expect("stdout"));
    let said = out.lines().map_while(Result::ok).find_map(|l| {
        l.find("@@attached ").map(|at| l[at + "@@attached ".len()..].trim().to_string())
    });
    assert_eq!(said.as_deref(), Some("true"), "the child attached");
    child
}

fn proc_state(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.split_whitespace().next().map(str::to_string)
}

#[test]
fn a_zombie_does_not_keep_its_consumer_name_taken() {
    let cfg = config(1024);
    let _producer = Producer::<Rec>::create(&cfg).expect("producer");
    let mut zombie = attach_and_vanish(&cfg, "zombie");
    let deadline = Instant::now() + Duration::from_secs(10);
    while proc_state(zombie.id()).as_deref() != Some("Z") {
        assert!(Instant::now() < deadline, "child did not become a zombie");
        std::thread::sleep(Duration::from_millis(10));
    }
    let status = RingStatus::read::<Rec, ()>(&cfg).expect("status");
    let listed = status.consumers.iter().find(|c| c.name == "zombie").expect("listed");
    assert_eq!((listed.state, listed.alive), ("active", false));
    Consumer::<Rec>::attach(&cfg, opts("zombie", ConsumerPolicy::NonGating))
        .expect("a zombie's name can be taken over");
    zombie.wait().expect("reap");
    cleanup(&cfg);
}

#[test]
fn a_reused_pid_does_not_keep_its_consumer_name_taken() {
    let cfg = config(1024);
    let _producer = Producer::<Rec>::create(&cfg).expect("producer");
    attach_and_vanish(&cfg, "reused").wait().expect("reap");
    // Another, live process now holds the pid the slot names (a reuse, forced). Start times count clock
    // ticks (10 ms), and a real reuse comes after a whole cycle of pids: let a few ticks pass.
    std::thread::sleep(Duration::from_millis(50));
    let mut other = Command::new("sleep").arg("30").spawn().expect("sleep");
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(cfg.segment_path())
        .expect("segment");
    // SAFETY: the segment file is at least a page plus the table long, and this test only touches one
    // atomic word of the first slot, as the ring's own processes do.
    let mut map = unsafe { memmap2::MmapOptions::new().map_mut(&file) }.expect("map");
    let pid_at = TABLE_OFFSET + std::mem::offset_of!(ConsumerSlot, pid);
    // SAFETY: `pid_at` is 4-byte aligned inside the mapping (slots are 128-byte aligned) and the word is
    // only ever accessed atomically.
    let pid = unsafe { &*map.as_mut_ptr().add(pid_at).cast::<AtomicU32>() };
    pid.store(other.id(), Ordering::Relaxed);
    let status = RingStatus::read::<Rec, ()>(&cfg).expect("status");
    let listed = status.consumers.iter().find(|c| c.name == "reused").expect("listed");
    assert_eq!((listed.pid, listed.alive), (other.id(), false));
    Consumer::<Rec>::attach(&cfg, opts("reused", ConsumerPolicy::NonGating))
        .expect("a pid that now names another process does not hold the name");
    let _ = other.kill();
    let _ = other.wait();
    cleanup(&cfg);
}

#[test]
fn slots_of_consumers_that_are_gone_are_reused_when_the_table_is_full() {
    let cfg = config(1024);
    let max = cfg.max_consumers as usize;
    let mut producer = Producer::<Rec>::create(&cfg).expect("producer");
    let live = Consumer::<Rec>::attach(&cfg, opts("live", ConsumerPolicy::Gating)).expect("live");
    // Many more distinct names than slots, each detaching cleanly.
    for i in 0..3 * max {
        producer.publish(&Rec::new(i as u64));
        let c = Consumer::<Rec>::attach(&cfg, opts(&format!("n{i}"), ConsumerPolicy::NonGating))
            .unwrap_or_else(|e| panic!("name {i}: {e}"));
        drop(c);
    }
    // One that crashed is reusable too.
    attach_and_vanish(&cfg, "crashed").wait().expect("reap");
    Consumer::<Rec>::attach(&cfg, opts("after-crash", ConsumerPolicy::NonGating))
        .expect("attaches");
    let status = RingStatus::read::<Rec, ()>(&cfg).expect("status");
    assert_eq!(status.consumers.len(), max);
    assert!(status.consumers.iter().any(|c| c.name == "live" && c.state == "active"));
    // The most recently detached names still have their slots (oldest are reused first).
    let last = format!("n{}", 3 * max - 1);
    assert!(status.consumers.iter().any(|c| c.name == last), "{:?}", status.consumers);
    // Live consumers are never displaced: with every slot live, the table is full.
    let held: Vec<_> = (0..max - 1)
        .map(|i| Consumer::<Rec>::attach(&cfg, opts(&format!("h{i}"), ConsumerPolicy::NonGating)))
        .collect::<Result<_, _>>()
        .expect("fill the table");
    let err = Consumer::<Rec>::attach(&cfg, opts("one-too-many", ConsumerPolicy::NonGating))
        .expect_err("full");
    assert!(matches!(err, RingError::TableFull { .. }), "{err}");
    drop((held, live));
    cleanup(&cfg);
}
