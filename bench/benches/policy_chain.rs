//! What a policy chain costs a request: the chain evaluated with no policy,
//! one policy and three policies (each a fresh instance of an allowing
//! policy module), in the same run; prints the ratio of the three-policy
//! overhead to the one-policy overhead (the target: at most 3).

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use postern::policy::{ChainOutcome, ChainSpec, Mode, PolicyChain};

const SUBJECT: &str = r#"{"devices":[{"hostname":"leaf-1a","serial_number":"SSJ11111111","configlet":"hostname leaf-1a\ninterface Ethernet1\n   description uplink\n","tags":[["role","leaf"]]}],"cv_server":"cv.example.com","change_control_name":null,"strict_tags":false,"delete_workspace":false}"#;
const KIND: &str = "cvproxy.deploy-plan";

struct Bench {
    runtime: tokio::runtime::Runtime,
    server: Option<postern::RunningServer>,
    _data: tempfile::TempDir,
}

fn start() -> Bench {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let data = tempfile::tempdir().unwrap();
    let config = format!(
        "data_dir = {:?}\n[admin]\nlisten = \"127.0.0.1:0\"\n[engine]\ncache_dir = {:?}\n[cvproxy]\nlisten = \"127.0.0.1:0\"\n",
        data.path().display().to_string(),
        std::env::temp_dir()
            .join("postern-bench-aot")
            .display()
            .to_string(),
    );
    let config = postern::Config::parse(&config, "bench").unwrap();
    let policy: Arc<[u8]> = std::fs::read(postern_bench::policy::allow_policy_path())
        .expect("the policy-fixed test guest (cargo build builds it)")
        .into();
    let server = runtime.block_on(async {
        let server = postern::start(&config).await.unwrap();
        for name in ["p1", "p2", "p3"] {
            server
                .registry
                .upload(name, Arc::clone(&policy), "", true)
                .await
                .unwrap();
        }
        server
    });
    Bench {
        runtime,
        server: Some(server),
        _data: data,
    }
}

impl Bench {
    fn chain(&self, modules: &[&str]) -> Arc<PolicyChain> {
        let server = self.server.as_ref().unwrap();
        let specs = modules
            .iter()
            .map(|m| ChainSpec {
                module: m.to_string(),
                mode: Mode::Protect,
            })
            .collect();
        self.runtime
            .block_on(server.policies.set("cvproxy", specs))
            .unwrap();
        server.policies.chain("cvproxy").unwrap()
    }

    /// Mean time of one evaluation over `iterations`.
    fn mean(&self, chain: &PolicyChain, iterations: u32) -> Duration {
        self.runtime.block_on(async {
            let started = Instant::now();
            for _ in 0..iterations {
                let outcome = chain.evaluate(KIND, SUBJECT.to_string()).await;
                assert!(matches!(outcome, ChainOutcome::Allowed { mutated: None }));
            }
            started.elapsed() / iterations
        })
    }
}

fn policy_chain(c: &mut Criterion) {
    let bench = start();
    let mut group = c.benchmark_group("policy chain (cvproxy.deploy-plan subject)");
    for (label, modules) in [
        ("no policy", &[][..]),
        ("1 policy", &["p1"][..]),
        ("3 policies", &["p1", "p2", "p3"][..]),
    ] {
        let chain = bench.chain(modules);
        group.bench_function(label, |b| {
            b.to_async(&bench.runtime)
                .iter(|| chain.evaluate(KIND, SUBJECT.to_string()))
        });
    }
    group.finish();

    // The ratio, measured again here in one stretch so that all three share
    // the machine's state.
    let iterations = 20_000;
    let none = bench.mean(&bench.chain(&[]), iterations);
    let one = bench.mean(&bench.chain(&["p1"]), iterations);
    let three = bench.mean(&bench.chain(&["p1", "p2", "p3"]), iterations);
    let one_overhead = one.saturating_sub(none);
    let three_overhead = three.saturating_sub(none);
    println!(
        "policy chain: none {:.2} µs, 1 policy {:.2} µs, 3 policies {:.2} µs; \
         overhead of 3 = {:.2}× the overhead of 1 (target ≤ 3×)",
        none.as_secs_f64() * 1e6,
        one.as_secs_f64() * 1e6,
        three.as_secs_f64() * 1e6,
        three_overhead.as_secs_f64() / one_overhead.as_secs_f64().max(1e-12),
    );
    let mut bench = bench;
    let server = bench.server.take().unwrap();
    bench.runtime.block_on(server.shut_down());
}

criterion_group!(benches, policy_chain);
criterion_main!(benches);
