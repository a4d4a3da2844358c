//! Loom model checks of the cursor protocol in `protocol.rs`: the same functions the shared-memory ring
//! calls, over loom atomics, with record slots modelled as atomic words (two per record, so a torn record
//! is visible as two different words).
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p tickring-ipc --release --lib loom`

#[cfg(test)]
mod tests {
    use crate::protocol::{commit_cursor, gate_limit, Cursors};
    use loom::sync::atomic::AtomicU64;
    use loom::sync::Arc;
    use loom::thread;
    use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

    /// The segment of a tiny ring: counters, one gating consumer's cursor and activity flag, and slots.
    struct Ring {
        claim: AtomicU64,
        published: AtomicU64,
        table_gen: AtomicU64,
        cursor: AtomicU64,
        active: AtomicU64,
        slots: Vec<[AtomicU64; 2]>,
    }

    impl Ring {
        fn new(capacity: usize, consumer_active: bool) -> Arc<Self> {
            Arc::new(Self {
                claim: AtomicU64::new(0),
                published: AtomicU64::new(0),
                table_gen: AtomicU64::new(0),
                cursor: AtomicU64::new(0),
                active: AtomicU64::new(u64::from(consumer_active)),
                slots: (0..capacity).map(|_| [AtomicU64::new(0), AtomicU64::new(0)]).collect(),
            })
        }

        fn cursors(&self) -> Cursors<'_> {
            Cursors { claim: &self.claim, published: &self.published, table_gen: &self.table_gen }
        }

        fn capacity(&self) -> u64 {
            self.slots.len() as u64
        }

        fn limit(&self) -> u64 {
            let gating = (self.active.load(Acquire) == 1).then_some(&self.cursor);
            gate_limit(gating.into_iter(), self.capacity())
        }

        /// The producer's publish path: gate, claim, write, publish (as `Producer::publish_chunk`).
        fn publish(
            &self,
            seq: u64,
            value: u64,
            scanned_gen: &mut u64,
            limit: &mut u64,
            gated: bool,
        ) {
            let new_head = seq + 1;
            while gated && new_head > *limit {
                *scanned_gen = self.cursors().table_generation();
                *limit = self.limit();
                if new_head > *limit {
                    thread::yield_now();
                }
            }
            if self.cursors().begin_write(new_head) != *scanned_gen {
                *scanned_gen = self.cursors().table_generation();
                *limit = self.limit();
                while gated && new_head > *limit {
                    thread::yield_now();
                    *limit = self.limit();
                }
            }
            let slot = &self.slots[(seq % self.capacity()) as usize];
            slot[0].store(value, Relaxed);
            slot[1].store(value, Relaxed);
            self.cursors().end_write(new_head);
        }

        fn read(&self, seq: u64) -> (u64, u64) {
            let slot = &self.slots[(seq % self.capacity()) as usize];
            (slot[0].load(Relaxed), slot[1].load(Relaxed))
        }
    }

    fn value_of(seq: u64) -> u64 {
        100 + seq
    }

    /// The producer thread of every model: publishes sequences 0 and 1, gated by the table or not.
    fn spawn_producer(ring: &Arc<Ring>, gated: bool) -> thread::JoinHandle<()> {
        let ring = Arc::clone(ring);
        thread::spawn(move || {
            let (mut gen, mut limit) = (0, ring.limit());
            for seq in 0..2 {
                ring.publish(seq, value_of(seq), &mut gen, &mut limit, gated);
            }
        })
    }

    #[test]
    fn loom_published_records_are_fully_visible() {
        loom::model(|| {
            let ring = Ring::new(2, false);
            let producer = spawn_producer(&ring, false);
            let available = ring.cursors().available();
            for seq in 0..available {
                assert_eq!(ring.read(seq), (value_of(seq), value_of(seq)));
            }
            producer.join().expect("producer");
        });
    }

    #[test]
    fn loom_gating_consumer_is_never_overwritten() {
        loom::model(|| {
            let ring = Ring::new(1, true);
            let producer = spawn_producer(&ring, true);
            for seq in 0..2 {
                while ring.cursors().available() <= seq {
                    thread::yield_now();
                }
                assert_eq!(ring.read(seq), (value_of(seq), value_of(seq)));
                commit_cursor(&ring.cursor, seq + 1);
            }
            producer.join().expect("producer");
        });
    }

    #[test]
    fn loom_lapped_reader_never_accepts_a_torn_record() {
        loom::model(|| {
            let ring = Ring::new(1, false);
            let producer = spawn_producer(&ring, false);
            let available = ring.cursors().available();
            if available > 0 {
                let seq = available - 1;
                let copy = ring.read(seq);
                if seq >= ring.cursors().intact_from(ring.capacity()) {
                    assert_eq!(
                        copy,
                        (value_of(seq), value_of(seq)),
                        "accepted a torn or stale copy"
                    );
                }
            }
            producer.join().expect("producer");
        });
    }

    #[test]
    fn loom_joining_gating_consumer_counts_exactly_what_it_lost() {
        loom::model(|| {
            let ring = Ring::new(1, false);
            let producer = spawn_producer(&ring, true);
            // Join at cursor 0 (a resume), as Consumer::register + join do.
            ring.cursor.store(0, Relaxed);
            ring.active.store(1, Release);
            let lost_below = ring.cursors().announce_join().saturating_sub(ring.capacity());
            let mut cursor = lost_below;
            commit_cursor(&ring.cursor, cursor);
            // Everything from the cursor on must arrive intact and in order.
            while cursor < 2 {
                while ring.cursors().available() <= cursor {
                    thread::yield_now();
                }
                assert_eq!(ring.read(cursor), (value_of(cursor), value_of(cursor)));
                cursor += 1;
                commit_cursor(&ring.cursor, cursor);
            }
            producer.join().expect("producer");
        });
    }
}

/// Loom model of the `block` wait strategy's handshake in `wake.rs`: the same functions the ring calls,
/// with the kernel's futex modelled by a mutex and a condition variable (the value is compared under the
/// lock, as the kernel compares it under its queue lock). A lost wake-up leaves the consumer asleep with
/// the producer done, which loom reports as a deadlock.
#[cfg(test)]
mod wake_tests {
    use crate::protocol::Cursors;
    use crate::wake::{Futex, WakeWords};
    use loom::sync::atomic::{AtomicU32, AtomicU64};
    use loom::sync::{Arc, Condvar, Mutex};
    use loom::thread;
    use std::sync::atomic::Ordering::SeqCst;
    use std::time::Duration;

    #[derive(Default)]
    struct ModelFutex {
        queue: Mutex<()>,
        woken: Condvar,
    }

    impl Futex for ModelFutex {
        fn wait(&self, word: &AtomicU32, expected: u32, _timeout: Duration) {
            // No timeout in the model: a sleeper only comes back when woken (the real one also wakes
            // every 100 ms, which would hide a lost wake-up).
            let guard = self.queue.lock().expect("queue");
            if word.load(SeqCst) == expected {
                drop(self.woken.wait(guard).expect("wait"));
            }
        }

        fn wake_all(&self, _word: &AtomicU32) {
            let _guard = self.queue.lock().expect("queue");
            self.woken.notify_all();
        }
    }

    #[derive(Default)]
    struct Ring {
        claim: AtomicU64,
        published: AtomicU64,
        table_gen: AtomicU64,
        word: AtomicU32,
        sleepers: AtomicU32,
        futex: ModelFutex,
    }

    impl Ring {
        fn cursors(&self) -> Cursors<'_> {
            Cursors { claim: &self.claim, published: &self.published, table_gen: &self.table_gen }
        }

        fn wake_words(&self) -> WakeWords<'_> {
            WakeWords { word: &self.word, sleepers: &self.sleepers }
        }

        /// The producer's publish of records below `head`, then its wake-up.
        fn publish(&self, head: u64) {
            self.cursors().begin_write(head);
            self.cursors().end_write(head);
            self.wake_words().wake(&self.futex);
        }

        /// A blocking consumer's wait for records below `want`, as `Consumer::wait` past its spins.
        fn wait_for(&self, want: u64) {
            while self.cursors().available() < want {
                self.wake_words().sleep(
                    &self.futex,
                    || self.cursors().available() >= want,
                    Duration::MAX,
                );
            }
        }
    }

    #[test]
    fn loom_a_blocking_consumer_is_never_left_asleep_after_a_publish() {
        loom::model(|| {
            let ring = Arc::new(Ring::default());
            let producer = {
                let ring = Arc::clone(&ring);
                thread::spawn(move || ring.publish(1))
            };
            ring.wait_for(1);
            producer.join().expect("producer");
        });
    }

    #[test]
    fn loom_two_sleepers_both_wake() {
        // Three threads: bounded preemptions keep the search to seconds (every lost wake-up above needs
        // one preemption in the wrong place).
        let mut model = loom::model::Builder::new();
        model.preemption_bound = Some(2);
        model.check(|| {
            let ring = Arc::new(Ring::default());
            let other = {
                let ring = Arc::clone(&ring);
                thread::spawn(move || ring.wait_for(1))
            };
            let producer = {
                let ring = Arc::clone(&ring);
                thread::spawn(move || ring.publish(1))
            };
            ring.wait_for(1);
            other.join().expect("other consumer");
            producer.join().expect("producer");
        });
    }
}
