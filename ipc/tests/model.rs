//! Model-based test: the ring driven by random operations must behave exactly like a plain queue model
//! (what each consumer reads, when the producer is full, what a lapped reader skips).

mod common;

use common::{cleanup, config, opts, Rec};
use proptest::prelude::*;
use tickring_ipc::{Consumer, ConsumerPolicy, Full, Producer, Read};

const CAPACITY: u64 = 16;
const MAX_BATCH: u64 = 5;

#[derive(Clone, Debug)]
enum Op {
    Publish(u64),
    Read { consumer: usize, commit: bool },
    ReadLossy,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (1..=CAPACITY).prop_map(Op::Publish),
        3 => (0..2usize, any::<bool>()).prop_map(|(consumer, commit)| Op::Read { consumer, commit }),
        1 => Just(Op::ReadLossy),
    ]
}

/// What the ring should do, as plain arithmetic over sequence numbers.
struct Model {
    head: u64,
    gating: [u64; 2],
    lossy: u64,
}

impl Model {
    fn batch_len(&self, cursor: u64) -> u64 {
        (self.head - cursor).min(MAX_BATCH).min(CAPACITY - cursor % CAPACITY)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn ring_matches_a_queue_model(ops in proptest::collection::vec(op(), 1..200)) {
        let mut cfg = config(CAPACITY);
        cfg.max_batch = MAX_BATCH as usize;
        let mut producer = Producer::<Rec>::create(&cfg).expect("create");
        let mut gating = [
            Consumer::<Rec>::attach(&cfg, opts("g0", ConsumerPolicy::Gating)).expect("attach"),
            Consumer::<Rec>::attach(&cfg, opts("g1", ConsumerPolicy::Gating)).expect("attach"),
        ];
        let mut lossy = Consumer::<Rec>::attach(&cfg, opts("lossy", ConsumerPolicy::NonGating)).expect("attach");
        let mut m = Model { head: 0, gating: [0, 0], lossy: 0 };
        for op in ops {
            match op {
                Op::Publish(k) => {
                    let batch: Vec<Rec> = (m.head..m.head + k).map(Rec::new).collect();
                    let fits = m.head + k <= m.gating.iter().min().expect("two") + CAPACITY;
                    let result = producer.try_publish_batch(&batch);
                    prop_assert_eq!(result.is_ok(), fits, "publish {} at head {}", k, m.head);
                    if let Err(Full { free }) = result {
                        prop_assert_eq!(free, m.gating.iter().min().expect("two") + CAPACITY - m.head);
                    } else {
                        m.head += k;
                    }
                }
                Op::Read { consumer, commit } => {
                    let cursor = m.gating[consumer];
                    match gating[consumer].poll().expect("poll") {
                        Read::Empty => prop_assert_eq!(cursor, m.head),
                        Read::Batch(b) => {
                            let seqs: Vec<u64> = b.records().iter().map(|r| r.seq).collect();
                            let expected: Vec<u64> = (cursor..cursor + m.batch_len(cursor)).collect();
                            prop_assert_eq!(seqs, expected);
                            prop_assert!(b.records().iter().all(Rec::is_intact));
                            if commit {
                                m.gating[consumer] += b.records().len() as u64;
                                b.commit().expect("gated records are intact");
                            }
                        }
                        other => prop_assert!(false, "gating consumer got {:?}", other),
                    }
                }
                Op::ReadLossy => match lossy.poll().expect("poll") {
                    Read::Empty => prop_assert_eq!(m.lossy, m.head),
                    Read::Gap(gap) => {
                        prop_assert!(m.head - m.lossy > CAPACITY, "gap without being lapped");
                        let resume = m.head - CAPACITY / 2;
                        prop_assert_eq!((gap.missed, gap.resume_at), (resume - m.lossy, resume));
                        m.lossy = resume;
                    }
                    Read::Batch(b) => {
                        prop_assert!(m.head - m.lossy <= CAPACITY);
                        let seqs: Vec<u64> = b.records().iter().map(|r| r.seq).collect();
                        let expected: Vec<u64> = (m.lossy..m.lossy + m.batch_len(m.lossy)).collect();
                        prop_assert_eq!(seqs, expected);
                        m.lossy += b.records().len() as u64;
                        b.commit().expect("copied records are validated");
                    }
                    Read::Closed => prop_assert!(false, "producer is alive"),
                },
            }
        }
        drop(producer);
        cleanup(&cfg);
    }
}
