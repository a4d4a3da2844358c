//! Child processes that go when their parent goes (the supervisor of `tickring up`).

use std::os::unix::process::CommandExt;
use std::process::Command;

/// Makes the child started by `cmd` receive SIGTERM when the thread that spawns it exits (the kernel's
/// PR_SET_PDEATHSIG), so a SIGKILLed supervisor leaves no orphans holding ports and locks. A parent that is
/// already gone when the child starts makes the spawn fail instead.
///
/// The signal follows the spawning *thread*: spawn from a thread that lives as long as the children.
pub fn die_with_parent(cmd: &mut Command) -> &mut Command {
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the closure runs in the forked child before exec and calls only async-signal-safe functions
    // (prctl, getppid); it allocates nothing and touches no lock.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM as libc::c_ulong, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent may have died between fork and prctl: then nobody would signal us.
            if libc::getppid() != parent {
                return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_started_this_way_runs() {
        let status = die_with_parent(&mut Command::new("true")).status().expect("spawn");
        assert!(status.success());
    }
}
