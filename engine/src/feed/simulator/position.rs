//! Where the simulator stands, as bytes for the journal's source log: a restarted ingest continues the
//! same simulated day at its next trade instead of starting it again under a new epoch.
//!
//! Layout (little-endian): magic `SIM1`, identity u64 (which universe and seed this is), rng state,
//! next trade id, instrument count u32, each instrument's price i64, then the clock: `0` for wall mode, or
//! `1`, end_ns i64, queue length u32 and each pending (ts i64, instrument u32).

use super::{Clock, Simulator};
use crate::feed::rng::SplitMix64;
use crate::feed::source::ResumeError;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

const MAGIC: &[u8; 4] = b"SIM1";

/// FNV-1a: a stable identity of the simulated universe (symbols, seed, clock), not a secret.
pub(super) fn identity(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in *part {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        h = (h ^ 0xff).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl Simulator {
    pub(super) fn encode_position(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(32 + self.instruments.len() * 8);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.identity.to_le_bytes());
        out.extend_from_slice(&self.rng.state().to_le_bytes());
        out.extend_from_slice(&self.next_trade_id.to_le_bytes());
        out.extend_from_slice(&(self.instruments.len() as u32).to_le_bytes());
        for i in &self.instruments {
            out.extend_from_slice(&i.price.to_le_bytes());
        }
        match &self.clock {
            Clock::Wall { .. } => out.push(0),
            Clock::Simulated { queue, end_ns } => {
                out.push(1);
                out.extend_from_slice(&end_ns.to_le_bytes());
                out.extend_from_slice(&(queue.len() as u32).to_le_bytes());
                let mut pending: Vec<(i64, usize)> = queue.iter().map(|Reverse(p)| *p).collect();
                pending.sort_unstable();
                for (ts, i) in pending {
                    out.extend_from_slice(&ts.to_le_bytes());
                    out.extend_from_slice(&(i as u32).to_le_bytes());
                }
            }
        }
        out
    }

    pub(super) fn decode_position(&mut self, bytes: &[u8]) -> Result<(), ResumeError> {
        let mismatch = |what: &str| ResumeError::Mismatch(format!("simulator position: {what}"));
        let mut r = Bytes(bytes);
        if r.take(4)? != MAGIC {
            return Err(mismatch("not a simulator position"));
        }
        if r.u64()? != self.identity {
            return Err(mismatch(
                "written by a simulator with other symbols, seed or clock (ingest.simulator changed)",
            ));
        }
        let rng = r.u64()?;
        let next_trade_id = r.u64()?;
        let n = r.u32()? as usize;
        if n != self.instruments.len() {
            return Err(mismatch("instrument count differs"));
        }
        let mut prices = Vec::with_capacity(n);
        for _ in 0..n {
            prices.push(r.u64()? as i64);
        }
        let clock = match r.take(1)?[0] {
            0 => None,
            1 => {
                let end_ns = r.u64()? as i64;
                let len = r.u32()? as usize;
                let mut queue = BinaryHeap::with_capacity(len);
                for _ in 0..len {
                    let ts = r.u64()? as i64;
                    let i = r.u32()? as usize;
                    if i >= n {
                        return Err(mismatch("pending trade of an unknown instrument"));
                    }
                    queue.push(Reverse((ts, i)));
                }
                Some(Clock::Simulated { queue, end_ns })
            }
            _ => return Err(mismatch("unknown clock kind")),
        };
        match (&self.clock, &clock) {
            (Clock::Simulated { .. }, Some(_)) | (Clock::Wall { .. }, None) => {}
            _ => return Err(mismatch("clock mode differs")),
        }
        self.rng = SplitMix64::new(rng);
        self.next_trade_id = next_trade_id;
        for (inst, price) in self.instruments.iter_mut().zip(prices) {
            inst.price = price;
        }
        if let Some(clock) = clock {
            self.clock = clock;
        }
        Ok(())
    }
}

struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ResumeError> {
        if self.0.len() < n {
            return Err(ResumeError::Mismatch("simulator position is truncated".into()));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u64(&mut self) -> Result<u64, ResumeError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(a))
    }

    fn u32(&mut self) -> Result<u32, ResumeError> {
        let mut a = [0u8; 4];
        a.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(a))
    }
}
