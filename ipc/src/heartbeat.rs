//! Background heartbeat threads: a process proves it is alive even while its main thread is busy (a sink
//! blocked on a slow database must not be mistaken for a dead one).

use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::thread::JoinHandle;

pub(crate) type Heartbeat = (Arc<AtomicBool>, JoinHandle<()>);

/// A thread that keeps a heartbeat counter fresh until told to stop.
pub(crate) fn spawn_heartbeat(
    name: &str,
    beat: impl Fn() + Send + 'static,
    every: std::time::Duration,
) -> std::io::Result<Heartbeat> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let handle = std::thread::Builder::new().name(name.into()).spawn(move || {
        while !flag.load(Relaxed) {
            beat();
            std::thread::park_timeout(every);
        }
    })?;
    Ok((stop, handle))
}

pub(crate) fn stop_heartbeat(heartbeat: &mut Option<Heartbeat>) {
    if let Some((stop, handle)) = heartbeat.take() {
        stop.store(true, Relaxed);
        handle.thread().unpark();
        let _ = handle.join();
    }
}
