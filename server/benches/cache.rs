//! Cache benchmarks, each next to its baseline.
//!
//! Run: `cargo bench -p server --bench cache`
//! - `cache_get`: an L1 hit of the tiered cache next to a bare moka `get` (target ≤ 2x).
//! - Zipf hit ratio: 1M requests over 100k keys with Zipf(1.0) popularity, at capacities of
//!   1 % and 10 % of the keys, the tiered cache next to an LRU of the same capacity
//!   (target ≥ 5 points better). Printed as a table.

use std::{num::NonZeroUsize, sync::Arc, time::Duration};

use criterion::{Criterion, criterion_group, criterion_main};
use server::cache::{CachePolicy, Capacity, TieredCache};

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Kind {
    Item,
}

impl CachePolicy for Kind {
    const ALL: &'static [Self] = &[Kind::Item];
    fn ttl(&self) -> Duration {
        Duration::from_secs(3600)
    }
    fn name(&self) -> &'static str {
        "item"
    }
}

fn cache_get(c: &mut Criterion) {
    let keys: u64 = 50;
    let tiered: TieredCache<u64, Arc<String>, Kind> = TieredCache::builder().build();
    let bare: moka::sync::Cache<u64, Arc<String>> =
        moka::sync::Cache::builder().max_capacity(100).build();
    for k in 0..keys {
        let v = Arc::new(format!("value {k}"));
        tiered.insert(k, v.clone(), Kind::Item, &[format!("tag:{k}")]);
        bare.insert(k, v);
    }
    let mut group = c.benchmark_group("cache_get");
    let mut i = 0u64;
    group.bench_function("bare_moka_get", |b| {
        b.iter(|| {
            i = (i + 1) % keys;
            std::hint::black_box(bare.get(&i))
        })
    });
    let mut i = 0u64;
    group.bench_function("tiered_l1_hit", |b| {
        b.iter(|| {
            i = (i + 1) % keys;
            std::hint::black_box(tiered.get(&i))
        })
    });
    group.finish();
}

/// SplitMix64, so the trace is the same on every run.
struct Rng(u64);
impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `n` requests over `keys` keys, key k (1-based rank) with probability ∝ 1/k^s.
fn zipf_trace(n: usize, keys: usize, s: f64, seed: u64) -> Vec<u64> {
    let mut cdf = Vec::with_capacity(keys);
    let mut total = 0.0;
    for k in 1..=keys {
        total += 1.0 / (k as f64).powf(s);
        cdf.push(total);
    }
    let mut rng = Rng(seed);
    // Ranks are scattered over the key space so that popularity is not key order.
    let scatter = |rank: usize| (rank as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) % 1_000_000_007;
    (0..n)
        .map(|_| {
            let u = rng.unit() * total;
            scatter(cdf.partition_point(|&c| c < u))
        })
        .collect()
}

fn hit_ratios(_c: &mut Criterion) {
    const REQUESTS: usize = 1_000_000;
    const KEYS: usize = 100_000;
    let trace = zipf_trace(REQUESTS, KEYS, 1.0, 42);
    println!("\nZipf(1.0) hit ratio, {REQUESTS} requests over {KEYS} keys");
    println!("| capacity | LRU | AION tiered (L1 + L2, TinyLFU) | difference |");
    println!("|---:|---:|---:|---:|");
    for pct in [1usize, 10] {
        let capacity = KEYS * pct / 100;
        let mut lru = lru::LruCache::<u64, ()>::new(NonZeroUsize::new(capacity).expect("non-zero"));
        let mut lru_hits = 0;
        for k in &trace {
            if lru.get(k).is_some() {
                lru_hits += 1;
            } else {
                lru.put(*k, ());
            }
        }
        // L2 holds the capacity; L1 is the default 100 hottest entries in front of it.
        let tiered: TieredCache<u64, (), Kind> = TieredCache::builder()
            .l1_capacity(Capacity::Entries(100))
            .l2_capacity(Capacity::Entries(capacity as u64))
            .build();
        let mut hits = 0;
        for (i, k) in trace.iter().enumerate() {
            if tiered.get(k).is_some() {
                hits += 1;
            } else {
                tiered.insert(*k, (), Kind::Item, &[]);
            }
            if i % 1_000 == 0 {
                tiered.sweep();
            }
        }
        let lru_ratio = lru_hits as f64 / REQUESTS as f64 * 100.0;
        let ratio = hits as f64 / REQUESTS as f64 * 100.0;
        println!(
            "| {pct} % ({capacity} entries) | {lru_ratio:.1} % | {ratio:.1} % | {:+.1} points |",
            ratio - lru_ratio
        );
    }
}

criterion_group!(benches, cache_get, hit_ratios);
criterion_main!(benches);
