//! One cvproxy guest call — a fresh instance validating a request body into a
//! deploy plan or an error — against the same guest code compiled natively,
//! measured in the same run: the schema-error body of `cvproxy-load` and a
//! valid two-device body.

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use postern::engine::{EngineSettings, GuestEngine, ModuleOptions};
use postern::metrics::{EngineMetrics, Metrics};
use postern::workflows::cvproxy::CvproxyGuest;
use postern_bench::cvproxy::SCHEMA_ERROR_BODY;

const VALID_BODY: &str = r#"{"devices": {"leaf-1a": {"serial_number": "SSJ11111111", "configlet": "aG9zdG5hbWUgbGVhZi0xYQppbnRlcmZhY2UgRXRoZXJuZXQxCiAgIGRlc2NyaXB0aW9uIHVwbGluawo=", "tags": {"role": "leaf", "rack": "r1"}}, "leaf-1b": {"serial_number": "SSJ22222222", "configlet": "aG9zdG5hbWUgbGVhZi0xYgppbnRlcmZhY2UgRXRoZXJuZXQxCiAgIGRlc2NyaXB0aW9uIHVwbGluawo=", "tags": {"role": "leaf", "rack": "r2"}}}, "cv_server": "www.cv-prod-uk-1.arista.io", "cv_token": "token", "cv_change_control_name": "rollout"}"#;

fn cvproxy_call(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let cache = std::env::temp_dir().join("postern-bench-aot");
    let guest = runtime.block_on(async {
        let metrics = Metrics::default();
        let engine = GuestEngine::new(
            &EngineSettings::default(),
            &cache,
            EngineMetrics::new(&metrics),
        )
        .unwrap();
        let bytes: Arc<[u8]> = postern::guests::builtin("cvproxy").unwrap().into();
        CvproxyGuest::load(&engine, bytes, ModuleOptions::default())
            .await
            .unwrap()
    });
    // Both paths must give the answers they are meant to measure.
    let error = runtime
        .block_on(guest.plan(SCHEMA_ERROR_BODY.as_bytes().to_vec()))
        .unwrap();
    assert_eq!(
        error,
        Err("ValidationError: 'cv_token' is a required property".to_string())
    );
    let plan = runtime
        .block_on(guest.plan(VALID_BODY.as_bytes().to_vec()))
        .unwrap()
        .expect("a valid body");
    assert_eq!(plan.devices.len(), 2);

    for (name, body) in [
        ("schema error", SCHEMA_ERROR_BODY),
        ("valid, 2 devices", VALID_BODY),
    ] {
        let mut group = c.benchmark_group(format!("cvproxy plan: {name}"));
        group.bench_function("native (no WASM)", |b| {
            b.iter(|| postern_guest_cvproxy::plan(std::hint::black_box(body.as_bytes())))
        });
        group.bench_function("guest call (fresh instance)", |b| {
            b.to_async(&runtime)
                .iter(|| guest.plan(body.as_bytes().to_vec()))
        });
        group.finish();
    }
}

criterion_group!(benches, cvproxy_call);
criterion_main!(benches);
