//! The sleep/wake handshake of the `block` wait strategy, written against the atomics shim so the same
//! code runs over shared memory and under loom.
//!
//! Two words live on their own cache line of the segment: `word`, a futex the producer bumps to wake
//! sleepers, and `sleepers`, how many consumers are (about to be) asleep on it. The producer pays one
//! SeqCst fence and one load per publish, and a system call only while someone sleeps.
//!
//! No lost wake-up: a consumer counts itself in `sleepers`, fences, reads `word`, then checks for news
//! before it sleeps; the producer stores `published`, fences, then reads `sleepers`. The fence pair is a
//! Dekker pair: either the consumer's check sees the new records, or the producer sees the sleeper and
//! bumps `word` (after `published`), so the sleeper's futex wait, which compares `word` with what it read,
//! returns at once or is woken.

use crate::sync::{fence, AtomicU32};
use std::sync::atomic::Ordering::{Relaxed, Release, SeqCst};
use std::time::Duration;

/// The kernel's (or the model's) wait queue on a word.
pub(crate) trait Futex {
    /// Sleeps while `*word == expected`, at most `timeout`; may return early for any reason.
    fn wait(&self, word: &AtomicU32, expected: u32, timeout: Duration);
    /// Wakes every thread sleeping on `word`, in any process.
    fn wake_all(&self, word: &AtomicU32);
}

/// The two words of one ring, borrowed from wherever they live.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WakeWords<'a> {
    pub word: &'a AtomicU32,
    pub sleepers: &'a AtomicU32,
}

impl WakeWords<'_> {
    /// Consumer: sleeps once, until woken, until `news()` holds, or `timeout`. The caller checks again.
    pub fn sleep(&self, futex: &impl Futex, news: impl Fn() -> bool, timeout: Duration) {
        self.sleepers.fetch_add(1, SeqCst);
        // Pairs with the fence in `wake`.
        fence(SeqCst);
        let seen = self.word.load(SeqCst);
        if !news() {
            futex.wait(self.word, seen, timeout);
        }
        self.sleepers.fetch_sub(1, SeqCst);
    }

    /// Producer, after new records are published (or the ring's state changed): wakes the sleepers, if any.
    pub fn wake(&self, futex: &impl Futex) {
        // Pairs with the fence in `sleep`: orders the `published` store before the `sleepers` load.
        fence(SeqCst);
        if self.sleepers.load(Relaxed) > 0 {
            // Release: a sleeper that reads the bumped word also sees what was published before it.
            self.word.fetch_add(1, Release);
            futex.wake_all(self.word);
        }
    }
}

/// Linux futexes on a shared mapping (not `FUTEX_PRIVATE_FLAG`: sleepers are in other processes).
#[cfg(not(loom))]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct SharedFutex;

#[cfg(not(loom))]
impl Futex for SharedFutex {
    fn wait(&self, word: &AtomicU32, expected: u32, timeout: Duration) {
        let ts = libc::timespec {
            tv_sec: libc::time_t::try_from(timeout.as_secs()).unwrap_or(libc::time_t::MAX),
            tv_nsec: libc::c_long::from(timeout.subsec_nanos() as i32),
        };
        // SAFETY: `word` is a live, 4-byte aligned u32 (an AtomicU32) in a mapping that outlives the call;
        // FUTEX_WAIT only reads it. `ts` lives for the call. EAGAIN (word changed), EINTR and ETIMEDOUT
        // are all "check again" to the caller, so the result is not needed.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                word.as_ptr(),
                libc::FUTEX_WAIT,
                expected,
                &ts as *const libc::timespec,
                std::ptr::null::<u32>(),
                0u32,
            );
        }
    }

    fn wake_all(&self, word: &AtomicU32) {
        // SAFETY: as in `wait`; FUTEX_WAKE reads no memory but the word's address, used as the queue key.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                word.as_ptr(),
                libc::FUTEX_WAKE,
                i32::MAX,
                std::ptr::null::<libc::timespec>(),
                std::ptr::null::<u32>(),
                0u32,
            );
        }
    }
}
