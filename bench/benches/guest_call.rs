//! One vspc guest call: a fresh instance, validation of the golden minimal
//! file, rendering of the metadata JSON — against the same guest code
//! compiled natively (no WASM), measured in the same run.

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use postern::engine::{EngineSettings, GuestEngine, ModuleOptions};
use postern::metrics::{EngineMetrics, Metrics};
use postern::workflows::vspc::{GuestAnswer, RequestCode, VmIdentity, VspcGuest};

const MINIMAL: &[u8] = include_bytes!("../../../shared/golden/vspc/minimal.yaml");

fn identity() -> VmIdentity {
    VmIdentity {
        name: "minimal".into(),
        bios_uuid: None,
        vc_uuid: None,
        location_uuid: None,
    }
}

fn guest_call(c: &mut Criterion) {
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
        let bytes: Arc<[u8]> = postern::guests::builtin("vspc").unwrap().into();
        VspcGuest::load(&engine, bytes, ModuleOptions::default())
            .await
            .unwrap()
    });
    // The answer must be the real one, or the benchmark measures a refusal.
    let answer = runtime
        .block_on(guest.respond(RequestCode::Metadata, identity(), MINIMAL.to_vec()))
        .unwrap();
    assert!(
        matches!(answer, GuestAnswer::Body(ref body) if body.starts_with("{\"ami-id\": \"img\""))
    );

    let mut group = c.benchmark_group("vspc metadata for the minimal file");
    group.bench_function("native (no WASM): validate + render", |b| {
        b.iter(|| {
            postern_guest_vspc::respond(
                postern_guest_vspc::Request::Metadata,
                std::hint::black_box(MINIMAL),
            )
        })
    });
    group.bench_function("guest call: instantiate + validate + render", |b| {
        b.to_async(&runtime)
            .iter(|| guest.respond(RequestCode::Metadata, identity(), MINIMAL.to_vec()))
    });
    group.finish();
}

criterion_group!(benches, guest_call);
criterion_main!(benches);
