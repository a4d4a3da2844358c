//! A child of `tickring up` dies with it: `up` names itself in the environment, and the child asks the
//! kernel for SIGTERM when its parent goes (PR_SET_PDEATHSIG), so a SIGKILLed `up` leaves no process behind
//! holding ports, locks or the ring.

/// Set by `up` for its children: its pid.
pub const SUPERVISOR_ENV: &str = "TICKRING_SUPERVISOR_PID";

/// Called first thing by every command: a no-op unless started by `up`.
pub fn die_with_supervisor() {
    let Some(supervisor) = std::env::var(SUPERVISOR_ENV).ok().and_then(|p| p.parse::<i32>().ok())
    else {
        return;
    };
    if let Err(e) =
        rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::TERM))
    {
        tracing::warn!(error = %e, "cannot ask to be stopped with tickring up");
        return;
    }
    // `up` may have died before the request took effect: then nobody would stop this process.
    if rustix::process::getppid().map(|p| p.as_raw_nonzero().get()) != Some(supervisor) {
        tracing::error!(supervisor, "tickring up is gone; exiting");
        std::process::exit(1);
    }
}
