//! The benchmark's producer: publishes ticks round-robin over the symbols at a steady rate, stamped with
//! `ts_publish_ns` right before they enter the ring.

use super::BenchError;
use std::time::{Duration, Instant};
use tickring_engine::{Exchange, InstrumentEntry, Price, Quantity, Session, Tick, TickFlags};
use tickring_ipc::{Producer, RingConfig, RingStatus};

#[derive(Debug)]
pub struct Load {
    producer: Producer<Tick, InstrumentEntry>,
    symbols: u32,
    next: u64,
}

pub fn symbol(i: usize) -> String {
    format!("S{i:05}")
}

impl Load {
    pub fn create(ring: &RingConfig, symbols: usize) -> Result<Self, BenchError> {
        let _ = std::fs::remove_file(ring.segment_path());
        let _ = std::fs::remove_file(ring.lock_path());
        let mut producer = Producer::create(ring)?;
        for i in 0..symbols {
            if let Some(e) = InstrumentEntry::new(&symbol(i), Exchange::Xnas) {
                producer.push_entry(&e)?;
            }
        }
        Ok(Self { producer, symbols: symbols.max(1) as u32, next: 0 })
    }

    pub fn wait_attached(&self, ring: &RingConfig, consumer: &str) -> Result<(), BenchError> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let status = RingStatus::read::<Tick, InstrumentEntry>(ring)?;
            if status.consumers.iter().any(|c| c.name == consumer) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(BenchError::Clients("the pusher did not attach to the ring".into()))
    }

    /// Publishes at `rate` ticks/s for `duration` (in 1 ms slices); returns how many were published.
    pub fn run_for(&mut self, rate: u64, duration: Duration) -> u64 {
        let start = Instant::now();
        let mut sent = 0u64;
        let mut batch = Vec::with_capacity(1024);
        while start.elapsed() < duration {
            let due = (start.elapsed().as_nanos() as u64).saturating_mul(rate) / 1_000_000_000;
            batch.clear();
            let now = Producer::<Tick, InstrumentEntry>::now_ns();
            while sent < due && batch.len() < 1024 {
                batch.push(self.tick(now));
                sent += 1;
            }
            if !batch.is_empty() {
                self.producer.publish_batch(&batch);
            }
            std::thread::sleep(Duration::from_micros(500));
        }
        sent
    }

    fn tick(&mut self, now: u64) -> Tick {
        let n = self.next;
        self.next += 1;
        Tick {
            ts_event_ns: now,
            ts_recv_ns: now,
            ts_publish_ns: now,
            price: Price::from_raw(10_000_000_000 + (n % 1000) as i64 * 1_000_000),
            size: Quantity::from_raw(100_000_000),
            trade_id: n,
            instrument_id: (n % u64::from(self.symbols)) as u32,
            trading_day: (now / 86_400_000_000_000) as u32,
            exchange: Exchange::Xnas as u16,
            session: Session::Regular as u8,
            flags: TickFlags::REGULAR,
            reserved: [0; 4],
        }
    }
}
