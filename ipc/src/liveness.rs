//! Is the process that registered in the segment still the one running? A pid alone cannot say: pids are
//! reused, and a zombie still answers `kill(pid, 0)`. A process is named by its pid, its start time
//! (`/proc/PID/stat` field 22, clock ticks since boot) and its pid namespace (`/proc/self/ns/pid`).
//!
//! A process of another pid namespace (a container) cannot be looked up here: its pid means nothing in
//! ours. Such a process is judged by its heartbeat age alone ([`Liveness::Unknown`]), the same rule that
//! evicts a live but silent consumer.

use std::sync::OnceLock;

/// Who a process is, as stored in the segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity {
    pub pid: u32,
    /// Start time in clock ticks since boot; 0 when unknown.
    pub start: u64,
    /// Inode of the pid namespace; 0 when unknown.
    pub pid_ns: u64,
}

/// What can be said about a stored [`Identity`] from here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Liveness {
    Alive,
    /// Gone, a zombie, or its pid now names another process.
    Dead,
    /// Not visible from this pid namespace: decide by heartbeat age.
    Unknown,
}

impl Identity {
    /// This process (read once).
    pub fn current() -> Self {
        static ME: OnceLock<Identity> = OnceLock::new();
        *ME.get_or_init(|| {
            let pid = std::process::id();
            let start = read_stat(pid).map_or(0, |s| s.start);
            Self { pid, start, pid_ns: own_pid_ns() }
        })
    }

    pub fn is_current(&self) -> bool {
        *self == Self::current()
    }

    pub fn check(&self) -> Liveness {
        if self.pid == 0 || self.pid > i32::MAX as u32 {
            return Liveness::Dead;
        }
        let ns = own_pid_ns();
        if self.pid_ns == 0 || ns == 0 || self.pid_ns != ns || self.start == 0 {
            return Liveness::Unknown;
        }
        if running_start(self.pid) == Some(self.start) {
            Liveness::Alive
        } else {
            Liveness::Dead
        }
    }

    /// Alive, or not visible here and heard from within `timeout_ns` (heartbeat `age_ns` ago).
    pub fn alive_or_recent(&self, age_ns: u64, timeout_ns: u64) -> bool {
        match self.check() {
            Liveness::Alive => true,
            Liveness::Dead => false,
            Liveness::Unknown => age_ns < timeout_ns,
        }
    }
}

struct Stat {
    start: u64,
    /// Zombie or dead: exited, only not yet reaped.
    dead: bool,
    /// User plus system time, clock ticks.
    cpu_ticks: u64,
    /// The same of its children that have exited and been waited for.
    children_cpu_ticks: u64,
}

/// Clock ticks per second of `/proc/PID/stat` times (`USER_HZ`, 100 on every Linux ABI).
const USER_HZ: u64 = 100;

/// CPU time `pid` has used so far (user + system, every thread), ns; `None` when no such process runs.
pub fn cpu_time_ns(pid: u32) -> Option<u64> {
    read_stat(pid).map(|s| s.cpu_ticks * (1_000_000_000 / USER_HZ))
}

/// This process's CPU time so far plus that of its children that have exited and been waited for, ns.
pub fn own_and_children_cpu_time_ns() -> u64 {
    read_stat(std::process::id())
        .map_or(0, |s| (s.cpu_ticks + s.children_cpu_ticks) * (1_000_000_000 / USER_HZ))
}

/// Start time of `pid` if a process runs under it here (not a zombie).
pub(crate) fn running_start(pid: u32) -> Option<u64> {
    read_stat(pid).filter(|s| !s.dead).map(|s| s.start)
}

fn read_stat(pid: u32) -> Option<Stat> {
    if pid == 0 || pid > i32::MAX as u32 {
        return None;
    }
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// `pid (comm) state ppid ... starttime ...`; comm may hold spaces and parentheses, so fields are counted
/// from the last ')'.
fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_ascii_whitespace().collect();
    // Index 0 is field 3 (`state`): `utime` (14) and `stime` (15) are at 11 and 12, `cutime` (16) and
    // `cstime` (17) at 13 and 14, `starttime` (22) at 19.
    let number = |i: usize| fields.get(i)?.parse::<u64>().ok();
    Some(Stat {
        start: number(19)?,
        dead: matches!(*fields.first()?, "Z" | "X" | "x"),
        cpu_ticks: number(11)? + number(12)?,
        children_cpu_ticks: number(13)? + number(14)?,
    })
}

fn own_pid_ns() -> u64 {
    static NS: OnceLock<u64> = OnceLock::new();
    *NS.get_or_init(|| {
        std::fs::read_link("/proc/self/ns/pid")
            .ok()
            .and_then(|l| {
                let l = l.to_string_lossy().into_owned();
                l.strip_prefix("pid:[")?.strip_suffix(']')?.parse().ok()
            })
            .unwrap_or(0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_knows_its_start_time() {
        let me = Identity::current();
        assert!(me.start > 0 && me.pid_ns > 0, "{me:?}");
        assert_eq!(me.check(), Liveness::Alive);
    }

    #[test]
    fn a_reused_pid_or_absurd_pid_is_dead() {
        let me = Identity::current();
        assert_eq!(Identity { start: me.start + 1, ..me }.check(), Liveness::Dead);
        assert_eq!(Identity { pid: 0, ..me }.check(), Liveness::Dead);
        assert_eq!(Identity { pid: u32::MAX, ..me }.check(), Liveness::Dead);
    }

    #[test]
    fn another_namespace_is_judged_by_heartbeat() {
        let other = Identity { pid_ns: Identity::current().pid_ns + 1, ..Identity::current() };
        assert_eq!(other.check(), Liveness::Unknown);
        assert!(other.alive_or_recent(10, 100));
        assert!(!other.alive_or_recent(100, 100));
    }

    #[test]
    fn stat_with_odd_comm_parses() {
        let line = "42 (a b) c) Z 1 42 42 0 -1 4194560 0 0 0 0 70 5 8 2 20 0 1 0 123456 0 0";
        let s = parse_stat(line).expect("parses");
        assert_eq!((s.start, s.dead, s.cpu_ticks, s.children_cpu_ticks), (123456, true, 75, 10));
    }

    #[test]
    fn this_process_uses_cpu() {
        let spent = cpu_time_ns(std::process::id()).expect("this process runs");
        let t0 = std::time::Instant::now();
        let mut x = 0u64;
        while t0.elapsed() < std::time::Duration::from_millis(50) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        assert!(cpu_time_ns(std::process::id()).expect("runs") >= spent);
        assert_eq!(cpu_time_ns(0), None);
    }
}
