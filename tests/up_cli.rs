//! `tickring up` end to end: the simulator feeds the ring, both sinks run as separate processes, a websocket
//! client receives trades, a SIGKILLed ClickHouse writer is restarted and catches up, and Ctrl-C stops
//! everything with every published tick stored exactly once.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tickring_engine::{InstrumentEntry, Tick};
use tickring_ipc::{RingConfig, RingStatus};

const HTTP_PORT: u16 = 18131;
const TCP_PORT: u16 = 19031;
const WS: &str = "127.0.0.1:18091";
const METRICS: &str = "127.0.0.1:18192";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn clickhouse(action: &str, home: &Path) {
    clickhouse_at(action, home, HTTP_PORT, TCP_PORT);
}

fn clickhouse_at(action: &str, home: &Path, http: u16, tcp: u16) {
    let out = Command::new("bash")
        .arg(root().join("scripts/clickhouse.sh"))
        .arg(action)
        .env("CLICKHOUSE_HTTP_PORT", http.to_string())
        .env("CLICKHOUSE_TCP_PORT", tcp.to_string())
        .env("CLICKHOUSE_HOME", home)
        .output()
        .expect("scripts/clickhouse.sh runs");
    assert!(
        out.status.success(),
        "clickhouse.sh {action}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn query(sql: &str) -> String {
    query_response(HTTP_PORT, sql).unwrap_or_else(|response| panic!("{response}"))
}

/// The body of a 200 answer, or the whole response.
fn query_response(port: u16, sql: &str) -> Result<String, String> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect ClickHouse");
    write!(s, "POST / HTTP/1.0\r\nContent-Length: {}\r\n\r\n{sql}", sql.len()).expect("send");
    let mut response = String::new();
    s.read_to_string(&mut response).expect("read");
    let (head, body) = response.split_once("\r\n\r\n").expect("http response");
    if head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200") {
        Ok(body.trim().to_string())
    } else {
        Err(response)
    }
}

fn wait_until(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Ticks the journal of `ring` under `home/journal` holds, over every epoch: what was published (a cleanly
/// stopped ring is gone, the journal is not).
fn journaled(home: &Path, ring: &str) -> u64 {
    let journal =
        tickring_journal::JournalConfig { dir: home.join("journal"), ..Default::default() };
    let info =
        tickring_journal::info::inspect::<Tick, InstrumentEntry>(&journal, ring).expect("journal");
    info.epochs.iter().map(|e| e.head - e.first_seq).sum()
}

/// Every SQL query README.md and docs/*.md show: fenced `sql` blocks and `--query '...'` examples.
fn documented_queries() -> Vec<(String, String)> {
    let mut files = vec![root().join("README.md")];
    let docs = std::fs::read_dir(root().join("docs")).expect("docs");
    files.extend(
        docs.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "md")),
    );
    let mut out = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("doc");
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mut block: Option<String> = None;
        for line in text.lines() {
            match (&mut block, line.trim_start()) {
                (None, l) if l.starts_with("```sql") => block = Some(String::new()),
                (Some(b), l) if l.starts_with("```") => {
                    out.push((name.clone(), std::mem::take(b)));
                    block = None;
                }
                (Some(b), _) => {
                    b.push_str(line);
                    b.push('\n');
                }
                (None, _) => {
                    for part in line.split("--query '").skip(1) {
                        if let Some(sql) = part.split('\'').next() {
                            out.push((name.clone(), sql.to_string()));
                        }
                    }
                }
            }
        }
    }
    assert!(out.len() >= 5, "the docs show queries: {out:?}");
    out
}

struct Cleanup {
    up: Option<Child>,
    home: PathBuf,
    ring: RingConfig,
    port: u16,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(mut up) = self.up.take() {
            let _ = up.kill();
            let _ = up.wait();
        }
        clickhouse_at("stop", &self.home, self.port, self.port + 900);
        let _ = std::fs::remove_file(self.ring.segment_path());
        let _ = std::fs::remove_file(self.ring.lock_path());
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

#[test]
fn up_runs_everything_survives_a_killed_sink_and_stops_without_losing_a_tick() {
    let home = std::env::temp_dir().join(format!("tickring-up-{}", std::process::id()));
    std::fs::create_dir_all(&home).expect("tmp");
    let ring = RingConfig { name: format!("up-{}", std::process::id()), ..RingConfig::default() };
    let mut guard = Cleanup { up: None, home: home.clone(), ring: ring.clone(), port: HTTP_PORT };
    clickhouse("start", &home);
    let tuning = home.join("tuning.toml");
    std::fs::write(
        &tuning,
        format!(
            r#"[ring]
name = "{}"
[journal]
dir = "{journal}"
[ingest]
quarantine = "{q}"
metrics = ""
[ingest.simulator]
rate_per_s = 2000
[clickhouse]
url = "http://127.0.0.1:{HTTP_PORT}"
database = "tickring_up_test"
flush_interval_ms = 200
metrics = "{METRICS}"
[websocket]
listen = "{WS}"
web_dir = "{web}"
[up]
start_clickhouse = false
restart_backoff_min_ms = 200
"#,
            ring.name,
            q = home.join("quarantine.jsonl").display(),
            journal = home.join("journal").display(),
            web = root().join("sinks/websocket/web").display(),
        ),
    )
    .expect("tuning");
    let _ = query("DROP DATABASE IF EXISTS tickring_up_test");
    let up = Command::new(env!("CARGO_BIN_EXE_tickring"))
        .args(["--tuning", tuning.to_str().expect("utf8"), "up"])
        .current_dir(root())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tickring up");
    let up_pid = up.id();
    guard.up = Some(up);
    let status = || RingStatus::read::<Tick, InstrumentEntry>(&ring).ok();
    let consumer_pid = |name: &str| {
        status()
            .and_then(|s| s.consumers.into_iter().find(|c| c.name == name && c.state == "active"))
            .map(|c| c.pid)
    };
    wait_until("both sinks attached", Duration::from_secs(60), || {
        consumer_pid("clickhouse").is_some() && consumer_pid("websocket").is_some()
    });

    // A websocket client receives live trades.
    let (mut ws, _) = tungstenite::connect(format!("ws://{WS}/ws")).expect("websocket connects");
    ws.send(tungstenite::Message::text(r#"{"op":"subscribe","channels":["trade.*"],"id":1}"#))
        .expect("send");
    let mut trades = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while trades == 0 && Instant::now() < deadline {
        if let tungstenite::Message::Text(t) = ws.read().expect("read") {
            trades += t.matches(r#""type":"trade""#).count();
        }
    }
    assert!(trades > 0, "no trade reached the websocket client");

    // Data reaches ClickHouse.
    wait_until("ticks in ClickHouse", Duration::from_secs(30), || {
        query("SELECT count() FROM tickring_up_test.ticks").parse::<u64>().unwrap_or(0) > 0
    });

    // Every query the docs show runs on the real server against what the run stored.
    // The examples use the default simulated day, which starts by New York's open: each finds rows once
    // the first flushes are in (an error fails at once).
    for (file, sql) in documented_queries() {
        let sql = sql.replace("tickring.", "tickring_up_test.");
        wait_until(
            &format!("rows for the query in {file}:\n{sql}"),
            Duration::from_secs(30),
            || {
                let answer = query_response(HTTP_PORT, &sql)
                    .unwrap_or_else(|e| panic!("the query in {file} fails: {e}\n{sql}"));
                !answer.trim().is_empty()
            },
        );
    }

    // The writer's Prometheus endpoint counts what it stored (its stats are refreshed once the writer
    // has taken the insert's acknowledgement, a moment after the rows are visible).
    let scrape = || {
        let mut m = std::net::TcpStream::connect(METRICS).expect("writer metrics endpoint");
        write!(m, "GET /metrics HTTP/1.0\r\n\r\n").expect("send");
        let mut text = String::new();
        m.read_to_string(&mut text).expect("read");
        text
    };
    let written = |text: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix("tickring_clickhouse_ticks_written_total "))
            .and_then(|v| v.parse().ok())
            .expect("ticks_written metric")
    };
    wait_until("the writer's metrics count stored ticks", Duration::from_secs(10), || {
        written(&scrape()) > 0
    });
    let text = scrape();
    assert!(text.contains("tickring_consumer_lag_records{"), "ring lag per consumer: {text}");

    // A SIGKILLed writer is restarted by up and catches up from its cursor.
    let old = consumer_pid("clickhouse").expect("writer pid");
    Command::new("kill").args(["-9", &old.to_string()]).status().expect("kill");
    wait_until("the writer restarted", Duration::from_secs(30), || {
        consumer_pid("clickhouse").is_some_and(|p| p != old)
    });
    wait_until("the restarted writer caught up", Duration::from_secs(30), || {
        status()
            .and_then(|s| s.consumers.into_iter().find(|c| c.name == "clickhouse"))
            .is_some_and(|c| c.lag < 5_000)
    });

    // Ctrl-C: everything stops in order, and every published tick is stored exactly once.
    Command::new("kill").args(["-INT", &up_pid.to_string()]).status().expect("interrupt");
    let mut up = guard.up.take().expect("up");
    let mut log = String::new();
    up.stderr.take().expect("stderr").read_to_string(&mut log).expect("log");
    assert!(up.wait().expect("wait").success(), "{log}");
    assert!(!ring.segment_path().exists(), "a clean stop leaves no ring behind\n{log}");
    assert!(!ring.lock_path().exists(), "nor its lock\n{log}");
    let published = journaled(&home, &ring.name);
    assert!(published > 0);
    let stored: u64 =
        query("SELECT count() FROM tickring_up_test.ticks FINAL").parse().expect("count");
    let distinct: u64 =
        query("SELECT uniqExact(epoch, seq) FROM tickring_up_test.ticks").parse().expect("count");
    assert_eq!((stored, distinct), (published, published), "{log}");
    assert!(log.contains("stopped") && log.contains("sink-clickhouse"), "{log}");
    // One banner, after the sinks answered, naming the addresses in use; no second URL line.
    assert_eq!(log.matches("tickring is up").count(), 1, "{log}");
    assert!(log.contains(&format!("ws://{WS}/ws")), "{log}");
    assert!(log.contains(&format!("curl 'http://127.0.0.1:{HTTP_PORT}/'")), "{log}");
    assert!(!log.contains("websocket: ws://"), "the pusher printed its own URL line: {log}");
}

/// Runs `up` with `tuning` until `ready` holds, then Ctrl-C; returns its log.
fn up_until(tuning: &Path, guard: &mut Cleanup, ready: &mut dyn FnMut() -> bool) -> String {
    let up = Command::new(env!("CARGO_BIN_EXE_tickring"))
        .args(["--tuning", tuning.to_str().expect("utf8"), "up"])
        .current_dir(root())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tickring up");
    let pid = up.id();
    guard.up = Some(up);
    wait_until("up to make progress", Duration::from_secs(60), ready);
    Command::new("kill").args(["-INT", &pid.to_string()]).status().expect("interrupt");
    let mut up = guard.up.take().expect("up");
    let mut log = String::new();
    up.stderr.take().expect("stderr").read_to_string(&mut log).expect("log");
    let status = up.wait().expect("wait");
    assert!(status.success(), "up: {status}\n{log}");
    log
}

/// `up` twice on the same feed: the second run continues the source where the first stopped, so nothing
/// is published (or stored) twice, on the simulator and on a replay file.
#[test]
fn up_started_twice_publishes_nothing_twice() {
    let home = std::env::temp_dir().join(format!("tickring-up2-{}", std::process::id()));
    std::fs::create_dir_all(&home).expect("tmp");
    let ring = RingConfig { name: format!("up2-{}", std::process::id()), ..RingConfig::default() };
    // A server of its own: the other test here stops its server when it ends.
    const PORT: u16 = 18133;
    clickhouse_at("start", &home, PORT, 19033);
    let mut guard = Cleanup { up: None, home: home.clone(), ring: ring.clone(), port: PORT };
    let replay = home.join("day.jsonl");
    let mut lines = String::new();
    for i in 0..5_000u64 {
        lines.push_str(&format!(
            "{{\"symbol\":\"AAPL.O\",\"exchange\":\"XNAS\",\"ts\":{},\"price\":\"190.{:02}\",\"size\":\"1\",\"trade_id\":{}}}\n",
            1_773_149_280_000_000_000 + i * 1_000_000,
            i % 100,
            i + 1
        ));
    }
    std::fs::write(&replay, lines).expect("replay file");
    for (feed, db) in [("simulator", "tickring_up2_sim"), ("replay", "tickring_up2_replay")] {
        let tuning = home.join(format!("{feed}.toml"));
        std::fs::write(
            &tuning,
            format!(
                r#"[ring]
name = "{ring}-{feed}"
[journal]
dir = "{journal}"
[ingest]
feed = "{feed}"
replay_file = "{replay}"
quarantine = "{q}"
metrics = ""
[ingest.simulator]
rate_per_s = 3000
[clickhouse]
url = "http://127.0.0.1:{PORT}"
database = "{db}"
flush_interval_ms = 200
metrics = ""
[websocket]
listen = "127.0.0.1:18093"
web_dir = "{web}"
[up]
start_clickhouse = false
restart_backoff_min_ms = 200
"#,
                ring = ring.name,
                journal = home.join("journal").display(),
                replay = replay.display(),
                q = home.join("quarantine.jsonl").display(),
                web = root().join("sinks/websocket/web").display(),
            ),
        )
        .expect("tuning");
        let _ = query_response(PORT, &format!("DROP DATABASE IF EXISTS {db}"));
        let count = |sql: &str| {
            query_response(PORT, sql).ok().and_then(|b| b.parse::<u64>().ok()).unwrap_or(0)
        };
        let rows = format!("SELECT count() FROM {db}.ticks");
        let first = if feed == "replay" { 5_000 } else { 3_000 };
        up_until(&tuning, &mut guard, &mut || count(&rows) >= first);
        let after_first = count(&rows);
        let journal =
            tickring_journal::JournalConfig { dir: home.join("journal"), ..Default::default() };
        let ring_name = format!("{}-{feed}", ring.name);
        let epochs = || {
            tickring_journal::info::inspect::<Tick, InstrumentEntry>(&journal, &ring_name)
                .map_or(0, |i| i.epochs.len())
        };
        // The second run has started its own epoch (and, on the simulator, published more).
        let log = up_until(&tuning, &mut guard, &mut || {
            epochs() >= 2 && (feed == "replay" || count(&rows) >= after_first + 3_000)
        });
        let (total, trades) = (
            count(&format!("SELECT count() FROM {db}.ticks FINAL")),
            count(&format!("SELECT uniqExact(trade_id) FROM {db}.ticks")),
        );
        let raw = count(&format!("SELECT count() FROM {db}.ticks"));
        let verdict = if raw == total && total == trades { "ok" } else { "FAIL" };
        println!(
            "FAULT\tup started twice ({feed})\t{trades}\t{raw}\t{}\t0\t{verdict}",
            raw - trades.min(raw)
        );
        assert_eq!(total, trades, "{feed}: a trade was stored twice\n{log}");
        if feed == "replay" {
            assert_eq!(total, 5_000, "the file once\n{log}");
        } else {
            assert!(total >= after_first + 3_000, "the second run went on\n{log}");
        }
        let _ = std::fs::remove_file(
            RingConfig { name: format!("{}-{feed}", ring.name), ..ring.clone() }.segment_path(),
        );
    }
}

/// Pids of the processes whose command line names `tuning`.
fn processes_with(tuning: &Path) -> Vec<u32> {
    let needle = tuning.to_string_lossy().to_string();
    std::fs::read_dir("/proc")
        .expect("proc")
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).replace('\0', " ").contains(&needle))
                .unwrap_or(false)
        })
        .collect()
}

/// A Ctrl-C at the terminal reaches the whole foreground process group: `up` alone must act on it and
/// stop its children in order (nothing published is lost); and a SIGKILLed `up` leaves no child behind.
#[test]
fn terminal_ctrl_c_stops_in_order_and_a_killed_up_leaves_no_orphans() {
    use std::os::unix::process::CommandExt;
    let home = std::env::temp_dir().join(format!("tickring-up3-{}", std::process::id()));
    std::fs::create_dir_all(&home).expect("tmp");
    let ring = RingConfig { name: format!("up3-{}", std::process::id()), ..RingConfig::default() };
    const PORT: u16 = 18134;
    clickhouse_at("start", &home, PORT, 19034);
    let mut guard = Cleanup { up: None, home: home.clone(), ring: ring.clone(), port: PORT };
    let tuning = home.join("tuning.toml");
    std::fs::write(
        &tuning,
        format!(
            "[ring]\nname = \"{}\"\n[journal]\ndir = \"{}\"\n[ingest]\nquarantine = \"{}\"\nmetrics = \"\"\n\
             [ingest.simulator]\nrate_per_s = 3000\n[clickhouse]\nurl = \"http://127.0.0.1:{PORT}\"\n\
             database = \"tickring_up3\"\nflush_interval_ms = 200\nmetrics = \"\"\n[websocket]\n\
             listen = \"127.0.0.1:18095\"\nweb_dir = \"{}\"\n[up]\nstart_clickhouse = false\n",
            ring.name,
            home.join("journal").display(),
            home.join("quarantine.jsonl").display(),
            root().join("sinks/websocket/web").display(),
        ),
    )
    .expect("tuning");
    let _ = query_response(PORT, "DROP DATABASE IF EXISTS tickring_up3");
    let rows = || {
        query_response(PORT, "SELECT count() FROM tickring_up3.ticks")
            .ok()
            .and_then(|b| b.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_tickring"))
            .args(["--tuning", tuning.to_str().expect("utf8"), "up"])
            .current_dir(root())
            .process_group(0) // as a shell puts a foreground job in its own group
            .stderr(Stdio::null())
            .spawn()
            .expect("start tickring up")
    };

    // SIGKILL: every child goes with it.
    guard.up = Some(spawn());
    wait_until("ticks stored", Duration::from_secs(60), || rows() > 1_000);
    let children = processes_with(&tuning);
    assert!(children.len() >= 4, "up and its three children: {children:?}");
    let mut up = guard.up.take().expect("up");
    up.kill().expect("kill -9 up");
    up.wait().expect("reaped");
    wait_until("the children to go", Duration::from_secs(15), || {
        processes_with(&tuning).is_empty()
    });

    // Ctrl-C to the whole group: everything published is stored.
    let before = rows();
    guard.up = Some(spawn());
    let pid = guard.up.as_ref().expect("up").id();
    wait_until("more ticks stored", Duration::from_secs(60), || rows() > before + 1_000);
    // `--`: a negative pid names a process group, not a signal.
    let sent = Command::new("kill").args(["-INT", "--", &format!("-{pid}")]).status();
    assert!(sent.is_ok_and(|s| s.success()), "kill -INT -- -{pid}");
    let mut up = guard.up.take().expect("up");
    let status = up.wait().expect("wait");
    assert!(status.success(), "up: {status}");
    let journal =
        tickring_journal::JournalConfig { dir: home.join("journal"), ..Default::default() };
    let info = tickring_journal::info::inspect::<Tick, InstrumentEntry>(&journal, &ring.name)
        .expect("journal");
    let newest = info.epochs.last().expect("an epoch");
    assert!(newest.sealed, "the last ingest stopped cleanly");
    let stored = query_response(
        PORT,
        &format!("SELECT uniqExact(seq) FROM tickring_up3.ticks WHERE epoch = {}", newest.epoch),
    )
    .expect("count");
    assert_eq!(stored, newest.head.to_string(), "every tick of the run is stored");
}

/// A tuning file for the process-control tests: the simulator at a low rate, the server at `port`.
fn control_tuning(home: &Path, ring: &str, port: u16, ws: &str, extra: &str) -> PathBuf {
    let tuning = home.join("tuning.toml");
    std::fs::write(
        &tuning,
        format!(
            r#"[ring]
name = "{ring}"
[journal]
dir = "{journal}"
[ingest]
quarantine = "{q}"
metrics = ""
[ingest.simulator]
rate_per_s = 1000
[clickhouse]
url = "http://127.0.0.1:{port}"
database = "tickring_ctl"
flush_interval_ms = 200
metrics = ""
{extra}
[websocket]
listen = "{ws}"
web_dir = "{web}"
[up]
clickhouse_script = "{script}"
restart_backoff_min_ms = 200
"#,
            journal = home.join("journal").display(),
            q = home.join("quarantine.jsonl").display(),
            web = root().join("sinks/websocket/web").display(),
            script = root().join("scripts/clickhouse.sh").display(),
        ),
    )
    .expect("tuning");
    tuning
}

/// `up` in a process group of its own (as a shell runs a job), its script pointed at the test's server.
fn spawn_up(tuning: &Path, home: &Path, port: u16) -> Child {
    use std::os::unix::process::CommandExt;
    Command::new(env!("CARGO_BIN_EXE_tickring"))
        .args(["--tuning", tuning.to_str().expect("utf8"), "up"])
        .current_dir(root())
        .env("CLICKHOUSE_HTTP_PORT", port.to_string())
        .env("CLICKHOUSE_TCP_PORT", (port + 900).to_string())
        .env("CLICKHOUSE_HOME", home)
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("start tickring up")
}

/// The pids of ingest and both sinks, once all three are running.
fn children_of_up(ring: &RingConfig) -> Vec<u32> {
    let mut pids = Vec::new();
    wait_until("ingest and both sinks running", Duration::from_secs(60), || {
        let Ok(s) = RingStatus::read::<Tick, InstrumentEntry>(ring) else { return false };
        let active = |name: &str| {
            s.consumers.iter().find(|c| c.name == name && c.state == "active").map(|c| c.pid)
        };
        match (s.producer_alive, active("clickhouse"), active("websocket")) {
            (true, Some(w), Some(p)) => {
                pids = vec![s.producer_pid, w, p];
                true
            }
            _ => false,
        }
    });
    pids
}

/// Field 5 of /proc/PID/stat; `None` once the process is gone (or only a zombie is left).
fn process_group(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
    if fields.next()? == "Z" {
        return None;
    }
    fields.nth(1)?.parse().ok()
}

fn stderr_of(up: &mut Child) -> String {
    let mut log = String::new();
    up.stderr.take().expect("stderr").read_to_string(&mut log).expect("log");
    log
}

/// A terminal's Ctrl-C goes to the whole foreground process group: only `up` may receive it (children in
/// groups of their own), so it stops them in order and every published tick is stored once. The server
/// was running before `up`, so `up` leaves it running.
#[test]
fn ctrl_c_at_the_terminal_reaches_up_alone_and_a_server_it_did_not_start_keeps_running() {
    const PORT: u16 = 18135;
    let home = std::env::temp_dir().join(format!("tickring-upctl1-{}", std::process::id()));
    std::fs::create_dir_all(&home).expect("tmp");
    let ring =
        RingConfig { name: format!("upctl1-{}", std::process::id()), ..RingConfig::default() };
    clickhouse_at("start", &home, PORT, PORT + 900);
    let mut guard = Cleanup { up: None, home: home.clone(), ring: ring.clone(), port: PORT };
    let _ = query_response(PORT, "DROP DATABASE IF EXISTS tickring_ctl");
    let tuning = control_tuning(&home, &ring.name, PORT, "127.0.0.1:18096", "");
    let up = spawn_up(&tuning, &home, PORT);
    let up_pid = up.id();
    guard.up = Some(up);
    for pid in children_of_up(&ring) {
        assert_ne!(process_group(pid), Some(up_pid), "pid {pid} shares up's process group");
    }
    let count = |sql: &str| query_response(PORT, sql).ok().and_then(|b| b.parse::<u64>().ok());
    wait_until("ticks stored", Duration::from_secs(30), || {
        count("SELECT count() FROM tickring_ctl.ticks").unwrap_or(0) > 0
    });
    // What a terminal does at Ctrl-C: SIGINT to every process of the foreground group.
    Command::new("kill").args(["-INT", "--", &format!("-{up_pid}")]).status().expect("kill");
    let mut up = guard.up.take().expect("up");
    let log = stderr_of(&mut up);
    assert!(up.wait().expect("wait").success(), "{log}");
    assert!(!ring.segment_path().exists(), "a clean stop leaves no ring behind\n{log}");
    let published = journaled(&home, &ring.name);
    let stored = count("SELECT count() FROM tickring_ctl.ticks FINAL");
    let distinct = count("SELECT uniqExact(epoch, seq) FROM tickring_ctl.ticks");
    assert_eq!((stored, distinct), (Some(published), Some(published)), "{log}");
    assert!(
        query_response(PORT, "SELECT 1").is_ok(),
        "up stopped a server it did not start\n{log}"
    );
}

/// `up` stops the server it started; a SIGKILLed `up` takes ingest and both sinks with it (no orphan
/// keeps the websocket port, the ring or the journal).
#[test]
fn up_stops_the_server_it_started_and_a_sigkilled_up_leaves_no_children_behind() {
    const PORT: u16 = 18137;
    const WS_ADDR: &str = "127.0.0.1:18097";
    let home = std::env::temp_dir().join(format!("tickring-upctl2-{}", std::process::id()));
    std::fs::create_dir_all(&home).expect("tmp");
    let ring =
        RingConfig { name: format!("upctl2-{}", std::process::id()), ..RingConfig::default() };
    let mut guard = Cleanup { up: None, home: home.clone(), ring: ring.clone(), port: PORT };
    clickhouse_at("stop", &home, PORT, PORT + 900);
    let tuning = control_tuning(&home, &ring.name, PORT, WS_ADDR, "");

    let up = spawn_up(&tuning, &home, PORT);
    let up_pid = up.id();
    guard.up = Some(up);
    children_of_up(&ring);
    Command::new("kill").args(["-INT", &up_pid.to_string()]).status().expect("kill");
    let mut up = guard.up.take().expect("up");
    let log = stderr_of(&mut up);
    assert!(up.wait().expect("wait").success(), "{log}");
    assert!(query_response_or_down(PORT).is_none(), "up left the server it started running\n{log}");

    let up = spawn_up(&tuning, &home, PORT);
    guard.up = Some(up);
    let children = children_of_up(&ring);
    let mut up = guard.up.take().expect("up");
    up.kill().expect("SIGKILL up");
    up.wait().expect("reap up");
    wait_until("every child of up gone", Duration::from_secs(15), || {
        children.iter().all(|&pid| process_group(pid).is_none())
    });
    std::net::TcpListener::bind(WS_ADDR).expect("the websocket port is free again");
}

/// `Some(body)` when the server answers `SELECT 1`, `None` when nothing listens.
fn query_response_or_down(port: u16) -> Option<String> {
    std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    query_response(port, "SELECT 1").ok()
}

/// Bad credentials are permanent: the writer exits 78 after one line, `up` does not restart it, stops the
/// rest in order and exits non-zero.
#[test]
fn a_writer_refused_for_good_is_not_restarted_and_up_stops() {
    const PORT: u16 = 18139;
    let home = std::env::temp_dir().join(format!("tickring-upctl3-{}", std::process::id()));
    std::fs::create_dir_all(&home).expect("tmp");
    let ring =
        RingConfig { name: format!("upctl3-{}", std::process::id()), ..RingConfig::default() };
    clickhouse_at("start", &home, PORT, PORT + 900);
    let mut guard = Cleanup { up: None, home: home.clone(), ring: ring.clone(), port: PORT };
    let tuning =
        control_tuning(&home, &ring.name, PORT, "127.0.0.1:18099", "user = \"nobody_here\"");
    let up = spawn_up(&tuning, &home, PORT);
    guard.up = Some(up);
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        let up = guard.up.as_mut().expect("up");
        if let Some(status) = up.try_wait().expect("try_wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "up kept going after a permanent error");
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut up = guard.up.take().expect("up");
    let log = stderr_of(&mut up);
    assert!(!status.success(), "{log}");
    assert!(log.contains("exited with code 78") && log.contains("not restarting"), "{log}");
    assert_eq!(log.matches("tickring sink clickhouse: ClickHouse refused").count(), 1, "{log}");
}
