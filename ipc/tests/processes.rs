//! The ring across real processes: this test binary re-runs itself as producer and consumer processes
//! (the ignored `child` test, selected by environment variables), so every hop crosses a process boundary.

mod common;

use common::{cleanup, config, mix, Rec};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;
use tickring_ipc::{
    Consumer, ConsumerOptions, ConsumerPolicy, GapCause, Producer, Read, RingConfig, RingStatus,
    StartAt, WaitStrategy,
};

const ROLE: &str = "TICKRING_TEST_ROLE";
const RING: &str = "TICKRING_TEST_RING";
/// Prefix of the lines a child says to its parent.
const MARK: &str = "@@";

/// A child process of this test binary, talking line by line over its stdin/stdout.
struct Proc {
    child: Child,
    out: BufReader<ChildStdout>,
}

impl Proc {
    fn spawn(role: &str, cfg: &RingConfig, args: &[(&str, String)]) -> Self {
        let mut cmd = Command::new(std::env::current_exe().expect("test binary"));
        cmd.args(["child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
            .env(ROLE, role)
            .env(RING, serde_json::to_string(cfg).expect("config json"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        for (k, v) in args {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn child");
        let out = BufReader::new(child.stdout.take().expect("stdout"));
        Self { child, out }
    }

    /// Next line the child said (marked with [`MARK`]; the test harness prints its own lines too).
    fn line(&mut self) -> String {
        let mut line = String::new();
        loop {
            line.clear();
            let n = self.out.read_line(&mut line).expect("read child");
            assert!(n > 0, "child exited early");
            // The harness may print "test child ... " on the same line first.
            if let Some(at) = line.find(MARK) {
                return line[at + MARK.len()..].trim_end().to_string();
            }
        }
    }

    fn say(&mut self, what: &str) {
        let stdin = self.child.stdin.as_mut().expect("stdin");
        writeln!(stdin, "{what}").and_then(|()| stdin.flush()).expect("write child");
    }

    fn finish(mut self) {
        drop(self.child.stdin.take());
        let status = self.child.wait().expect("wait child");
        assert!(status.success(), "child failed: {status}");
    }
}

fn say(line: impl std::fmt::Display) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{MARK}{line}").and_then(|()| out.flush()).expect("stdout");
}

fn wait_for(line: &str) {
    let mut got = String::new();
    std::io::stdin().lock().read_line(&mut got).expect("stdin");
    assert_eq!(got.trim_end(), line);
}

fn env_u64(key: &str) -> u64 {
    std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// Entry point of every child process.
#[test]
#[ignore = "run as a child process by the other tests"]
fn child() {
    let Ok(role) = std::env::var(ROLE) else { return };
    let cfg: RingConfig =
        serde_json::from_str(&std::env::var(RING).expect("ring")).expect("config");
    match role.as_str() {
        "producer" => {
            let total = env_u64("TOTAL");
            let mut p = Producer::<Rec>::create(&cfg).expect("create");
            say("ready");
            wait_for("go");
            let mut batch = Vec::with_capacity(64);
            let mut seq = 0;
            while seq < total {
                batch.clear();
                batch.extend((seq..total.min(seq + 64)).map(Rec::new));
                p.publish_batch(&batch);
                seq += batch.len() as u64;
            }
            say(format!("published {}", p.head()));
            if env_u64("HOLD") == 1 {
                wait_for("exit"); // keeps the ring open (RUNNING) until told
            }
        }
        "gating" | "non_gating" => {
            let policy =
                if role == "gating" { ConsumerPolicy::Gating } else { ConsumerPolicy::NonGating };
            let name = std::env::var("NAME").expect("name");
            let stall_after = env_u64("STALL_AFTER");
            let opts = ConsumerOptions { name, policy, start: StartAt::Oldest };
            let mut c = Consumer::<Rec>::attach(&cfg, opts).expect("attach");
            say("attached");
            let (mut count, mut checksum, mut missed, mut gaps) = (0u64, 0u64, 0u64, Vec::new());
            let mut expected = c.cursor();
            loop {
                if stall_after > 0 && count >= stall_after {
                    say("stalled");
                    std::thread::sleep(Duration::from_secs(3600));
                }
                match c.wait(Some(Duration::from_secs(30))).expect("wait") {
                    Read::Batch(b) => {
                        let take = if stall_after > 0 {
                            b.records().len().min((stall_after - count) as usize)
                        } else {
                            b.records().len()
                        };
                        for r in &b.records()[..take] {
                            assert!(r.is_intact(), "torn record {r:?}");
                            assert_eq!(r.seq, expected, "out of order");
                            expected += 1;
                            count += 1;
                            checksum = checksum.wrapping_add(r.check);
                        }
                        b.commit_first(take).expect("intact");
                    }
                    Read::Gap(g) => {
                        missed += g.missed;
                        gaps.push(format!("{:?}:{}", g.cause, g.missed));
                        expected = g.resume_at;
                    }
                    Read::Empty => panic!("no data for 30 s"),
                    Read::Closed => break,
                }
            }
            say(format!("done {count} {checksum} {missed} {}", gaps.join(",")));
        }
        "blocking" => {
            // A sink's consumer with the `block` strategy: reports its process's CPU time and the clock
            // at each record, so the parent sees what idling cost and how fast a publish woke it.
            let opts = ConsumerOptions {
                name: "sleeper".into(),
                policy: ConsumerPolicy::NonGating,
                start: StartAt::Oldest,
            };
            let mut c = Consumer::<Rec>::attach(&cfg, opts).expect("attach");
            say("attached");
            loop {
                match c.wait(Some(Duration::from_secs(30))).expect("wait") {
                    Read::Batch(b) => {
                        let at = tickring_ipc::clock::monotonic_ns();
                        let seqs: Vec<u64> = b.records().iter().map(|r| r.seq).collect();
                        b.commit().expect("intact");
                        for seq in seqs {
                            say(format!("got {seq} {at} {}", process_cpu_ns()));
                        }
                    }
                    Read::Gap(g) => panic!("gap {g:?}"),
                    Read::Empty => panic!("no data for 30 s"),
                    Read::Closed => break,
                }
            }
            say("closed");
        }
        other => panic!("unknown role {other}"),
    }
}

fn process_config(capacity: u64) -> RingConfig {
    RingConfig {
        producer_wait: WaitStrategy::SpinThenYield { spins: 200 },
        consumer_wait: WaitStrategy::SpinThenYield { spins: 200 },
        max_batch: 1024.min(capacity as usize),
        // A killed consumer is evicted at once (its pid is gone); a live one must never be, even on a
        // loaded machine, so the silence allowed is generous.
        heartbeat_timeout_ms: 2_000,
        ..config(capacity)
    }
}

fn parse_done(line: &str) -> (u64, u64, u64, String) {
    let mut it = line.split(' ');
    assert_eq!(it.next(), Some("done"), "{line}");
    let n = |s: Option<&str>| s.expect("field").parse::<u64>().expect("number");
    (n(it.next()), n(it.next()), n(it.next()), it.next().unwrap_or("").to_string())
}

#[test]
fn ten_million_records_reach_two_gating_consumers_exactly_once_in_order() {
    const TOTAL: u64 = 10_000_000;
    let cfg = process_config(1 << 16);
    let mut producer = Proc::spawn("producer", &cfg, &[("TOTAL", TOTAL.to_string())]);
    assert_eq!(producer.line(), "ready");
    let mut consumers: Vec<Proc> = [("gating", "g1"), ("gating", "g2"), ("non_gating", "lossy")]
        .iter()
        .map(|(role, name)| {
            let mut p = Proc::spawn(role, &cfg, &[("NAME", name.to_string())]);
            assert_eq!(p.line(), "attached");
            p
        })
        .collect();
    producer.say("go");
    assert_eq!(producer.line(), format!("published {TOTAL}"));
    producer.finish();
    let expected_sum = (0..TOTAL).fold(0u64, |acc, s| acc.wrapping_add(mix(s)));
    let lossy = consumers.pop().expect("lossy");
    for mut g in consumers {
        let (count, sum, missed, gaps) = parse_done(&g.line());
        assert_eq!(
            (count, missed, gaps.as_str()),
            (TOTAL, 0, ""),
            "a gating consumer lost records"
        );
        assert_eq!(sum, expected_sum, "checksum");
        g.finish();
    }
    let mut lossy = lossy;
    let (count, _sum, missed, _) = parse_done(&lossy.line());
    assert_eq!(count + missed, TOTAL, "every record is either read intact or counted as missed");
    lossy.finish();
    cleanup(&cfg);
}

#[test]
fn killed_gating_consumer_stops_gating_and_resumes_with_an_exact_miss_count() {
    const TOTAL: u64 = 200_000;
    const STALL: u64 = 1_000;
    let cfg = process_config(4096);
    let mut producer =
        Proc::spawn("producer", &cfg, &[("TOTAL", TOTAL.to_string()), ("HOLD", "1".into())]);
    assert_eq!(producer.line(), "ready");
    let mut healthy = Proc::spawn("gating", &cfg, &[("NAME", "healthy".into())]);
    assert_eq!(healthy.line(), "attached");
    let mut doomed = Proc::spawn(
        "gating",
        &cfg,
        &[("NAME", "doomed".into()), ("STALL_AFTER", STALL.to_string())],
    );
    assert_eq!(doomed.line(), "attached");
    producer.say("go");
    assert_eq!(doomed.line(), "stalled");
    std::thread::sleep(Duration::from_millis(100));
    let stuck = RingStatus::read::<Rec, ()>(&cfg).expect("status");
    assert!(stuck.published < TOTAL, "the stalled gating consumer holds the producer back");
    doomed.child.kill().expect("SIGKILL");
    let _ = doomed.child.wait();
    // After the heartbeat timeout the producer stops waiting for it and finishes.
    assert_eq!(producer.line(), format!("published {TOTAL}"));
    let status = RingStatus::read::<Rec, ()>(&cfg).expect("status");
    assert_eq!(status.evictions, 1);
    let dead = status.consumers.iter().find(|c| c.name == "doomed").expect("listed");
    assert_eq!((dead.state, dead.cursor, dead.alive), ("evicted", STALL, false));

    // It comes back under the same name: its cursor has left the ring, so it reports exactly the loss.
    let opts = ConsumerOptions {
        name: "doomed".into(),
        policy: ConsumerPolicy::Gating,
        start: StartAt::Oldest,
    };
    let mut back = Consumer::<Rec>::attach(&cfg, opts).expect("re-attach");
    match back.poll().expect("poll") {
        Read::Gap(g) => {
            assert_eq!(g.cause, GapCause::Resumed);
            assert_eq!(g.missed, TOTAL - 4096 - STALL);
            assert_eq!(g.resume_at, TOTAL - 4096);
        }
        other => panic!("expected the gap, got {other:?}"),
    }
    let mut next = TOTAL - 4096;
    while next < TOTAL {
        if let Read::Batch(b) = back.poll().expect("poll") {
            for r in b.records() {
                assert!(r.is_intact());
                assert_eq!(r.seq, next);
                next += 1;
            }
            b.commit().expect("intact");
        }
    }
    producer.say("exit");
    producer.finish();
    let (count, _, missed, _) = parse_done(&healthy.line());
    assert_eq!((count, missed), (TOTAL, 0));
    healthy.finish();
    cleanup(&cfg);
}

#[test]
fn producer_killed_with_sigkill_is_replaced_and_consumers_follow_the_new_epoch() {
    let cfg = process_config(1024);
    let mut first = Proc::spawn("producer", &cfg, &[("TOTAL", "700".into()), ("HOLD", "1".into())]);
    assert_eq!(first.line(), "ready");
    let opts = ConsumerOptions {
        name: "follower".into(),
        policy: ConsumerPolicy::Gating,
        start: StartAt::Oldest,
    };
    let mut c = Consumer::<Rec>::attach(&cfg, opts).expect("attach");
    first.say("go");
    assert_eq!(first.line(), "published 700");
    first.child.kill().expect("SIGKILL");
    let _ = first.child.wait();
    let old_epoch = c.epoch();

    let mut second = Proc::spawn("producer", &cfg, &[("TOTAL", "300".into())]);
    assert_eq!(
        second.line(),
        "ready",
        "the name is taken over although the old segment was left behind"
    );
    second.say("go");
    assert_eq!(second.line(), "published 300");
    second.finish();

    let mut seqs = Vec::new();
    let mut epoch_change = None;
    loop {
        match c.wait(Some(Duration::from_secs(10))).expect("wait") {
            Read::Batch(b) => {
                seqs.extend(b.records().iter().map(|r| r.seq));
                b.commit().expect("intact");
            }
            Read::Gap(g) => epoch_change = Some(g),
            Read::Empty => panic!("stalled"),
            Read::Closed => break,
        }
    }
    let gap = epoch_change.expect("epoch change reported");
    assert!(matches!(gap.cause, GapCause::NewEpoch { old, .. } if old == old_epoch));
    assert_eq!(gap.missed, 0);
    let expected: Vec<u64> = (0..700).chain(0..300).collect();
    assert_eq!(seqs, expected, "old epoch drained, then the new one from 0");
    cleanup(&cfg);
}

/// CPU time of this whole process (every thread), ns.
fn process_cpu_ns() -> u64 {
    tickring_ipc::liveness::cpu_time_ns(std::process::id()).expect("this process runs")
}

#[test]
fn a_blocking_consumer_costs_no_cpu_while_idle_and_wakes_on_publish() {
    let cfg = RingConfig {
        consumer_wait: WaitStrategy::Block { spins: 1_000 },
        ..process_config(1 << 10)
    };
    let mut producer = Producer::<Rec>::create(&cfg).expect("create");
    let mut child = Proc::spawn("blocking", &cfg, &[]);
    assert_eq!(child.line(), "attached");
    let got = |line: String| -> (u64, u64, u64) {
        let f: Vec<u64> = line
            .strip_prefix("got ")
            .expect(&line)
            .split(' ')
            .map(|v| v.parse().expect("num"))
            .collect();
        (f[0], f[1], f[2])
    };
    // Let it settle into its sleep, then measure a quiet second.
    producer.publish_batch(&[Rec::new(0)]);
    let (_, _, cpu_before) = got(child.line());
    std::thread::sleep(Duration::from_secs(1));
    let mut latencies = Vec::new();
    let mut cpu_idle = 0;
    for seq in 1..=20u64 {
        let sent = tickring_ipc::clock::monotonic_ns();
        producer.publish_batch(&[Rec::new(seq)]);
        let (n, at, cpu) = got(child.line());
        assert_eq!(n, seq);
        if seq == 1 {
            cpu_idle = cpu - cpu_before;
        }
        latencies.push(at.saturating_sub(sent));
        std::thread::sleep(Duration::from_millis(20));
    }
    latencies.sort_unstable();
    eprintln!(
        "blocking consumer: {} ms CPU over 1 s idle; wake latency p50 {} us, max {} us",
        cpu_idle / 1_000_000,
        latencies[latencies.len() / 2] / 1_000,
        latencies[latencies.len() - 1] / 1_000
    );
    // A busy-spinning consumer burns the whole second, spin-then-yield about 30 ms (its 50 us naps); a
    // sleeping one only its heartbeat thread's wake-ups (the clock counts in 10 ms ticks).
    assert!(cpu_idle < 15_000_000, "idle consumer used {cpu_idle} ns of CPU in a quiet second");
    drop(producer);
    assert_eq!(child.line(), "closed", "a closing producer wakes the sleeper");
    child.finish();
    cleanup(&cfg);
}
