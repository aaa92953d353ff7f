//! Latency histogram with bounded memory: exact below 128 µs, then 64 linear
//! sub-buckets per power of two (at most ~1.6% error), so a long run at tens
//! of thousands of requests per second costs a fixed ~30 KB per worker.

use std::time::Duration;

const EXACT: u64 = 128;
const SUB_BITS: u32 = 6;
const SUB: u64 = 1 << SUB_BITS;
/// 128 exact buckets, then one group of 64 for each bit from 7 to 63.
const BUCKETS: usize = EXACT as usize + (64 - 7) * SUB as usize;

#[derive(Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max_us: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; BUCKETS],
            total: 0,
            max_us: 0,
        }
    }
}

fn index(us: u64) -> usize {
    if us < EXACT {
        return us as usize;
    }
    let bit = 63 - us.leading_zeros(); // >= 7
    let sub = (us >> (bit - SUB_BITS)) & (SUB - 1);
    EXACT as usize + (bit as usize - 7) * SUB as usize + sub as usize
}

/// The middle of a bucket, as the value reported for it.
fn value(i: usize) -> u64 {
    if (i as u64) < EXACT {
        return i as u64;
    }
    let group = (i - EXACT as usize) as u32 / SUB as u32;
    let sub = (i - EXACT as usize) as u64 % SUB;
    let shift = group + 7 - SUB_BITS;
    let low = (SUB + sub) << shift;
    low + (1 << shift) / 2
}

impl Histogram {
    pub fn record(&mut self, d: Duration) {
        let us = d.as_micros().min(u64::MAX as u128) as u64;
        self.counts[index(us)] += 1;
        self.total += 1;
        self.max_us = self.max_us.max(us);
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
        self.max_us = self.max_us.max(other.max_us);
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    pub fn max_us(&self) -> u64 {
        self.max_us
    }

    /// The value at quantile `q` (0..=1) in µs; 0 when empty.
    pub fn quantile_us(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                // Never report more than what was actually seen.
                return value(i).min(self.max_us);
            }
        }
        self.max_us
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_close() {
        let mut last = 0;
        for us in [
            0u64,
            1,
            127,
            128,
            129,
            1000,
            12_345,
            1_000_000,
            u64::MAX / 2,
        ] {
            let i = index(us);
            assert!(i >= last && i < BUCKETS);
            last = i;
            let v = value(i) as f64;
            assert!(
                (v - us as f64).abs() <= us as f64 * 0.016 + 0.5,
                "{us} -> {v}"
            );
        }
    }

    #[test]
    fn quantiles() {
        let mut h = Histogram::default();
        for us in 1..=1000 {
            h.record(Duration::from_micros(us));
        }
        assert!((h.quantile_us(0.5) as i64 - 500).abs() <= 8);
        assert!((h.quantile_us(0.99) as i64 - 990).abs() <= 16);
        assert_eq!(h.max_us(), 1000);
        assert_eq!(h.count(), 1000);
    }
}
