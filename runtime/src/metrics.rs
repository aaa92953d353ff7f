//! Prometheus metrics: one registry for the process, served on the admin
//! port at `/metrics`. Each part registers its own families at start-up.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::engine::GuestError;

/// The process's metric registry.
#[derive(Clone, Default)]
pub struct Metrics {
    registry: Arc<Mutex<Registry>>,
}

impl Metrics {
    /// Registers metrics; `f` gets the registry with the `postern` prefix.
    pub fn register<R>(&self, f: impl FnOnce(&mut Registry) -> R) -> R {
        let mut registry = self.registry.lock().expect("metrics registry poisoned");
        f(registry.sub_registry_with_prefix("postern"))
    }

    /// The OpenMetrics text of every registered metric.
    pub fn encode(&self) -> String {
        let registry = self.registry.lock().expect("metrics registry poisoned");
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &registry)
            .expect("encoding metrics into a String");
        out
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GuestCallLabels {
    pub workflow: String,
    pub module: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GuestErrorLabels {
    pub workflow: String,
    pub module: String,
    pub kind: String,
}

/// Metrics of the engine and of every guest call, per workflow and module.
#[derive(Clone)]
pub struct EngineMetrics {
    pub compiles: Counter,
    pub aot_cache_hits: Counter,
    pub guest_calls: Family<GuestCallLabels, Counter>,
    pub guest_errors: Family<GuestErrorLabels, Counter>,
    pub guest_call_seconds: Family<GuestCallLabels, Histogram>,
}

impl EngineMetrics {
    pub fn new(metrics: &Metrics) -> Self {
        let this = Self {
            compiles: Counter::default(),
            aot_cache_hits: Counter::default(),
            guest_calls: Family::default(),
            guest_errors: Family::default(),
            guest_call_seconds: Family::new_with_constructor(|| {
                // 5 µs .. ~2.6 s: a guest call is microseconds; the top buckets
                // catch calls stopped at their deadline.
                Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
                    5e-6, 2.0, 20,
                ))
            }),
        };
        metrics.register(|r| {
            r.register(
                "module_compiles",
                "Components compiled to native code (AOT cache misses)",
                this.compiles.clone(),
            );
            r.register(
                "module_aot_cache_hits",
                "Components loaded from the AOT cache",
                this.aot_cache_hits.clone(),
            );
            r.register(
                "guest_calls",
                "Guest calls, per workflow and module",
                this.guest_calls.clone(),
            );
            r.register(
                "guest_errors",
                "Failed guest calls by kind (trap, timeout, memory_cap, out_of_fuel)",
                this.guest_errors.clone(),
            );
            r.register(
                "guest_call_duration_seconds",
                "Latency of one guest call (fresh instance + call)",
                this.guest_call_seconds.clone(),
            );
        });
        this
    }

    /// The handles one (workflow, module) records its calls into, looked
    /// up once so that a call costs no label allocation.
    pub fn call_recorder(&self, workflow: &str, module: &str) -> CallRecorder {
        let labels = GuestCallLabels {
            workflow: workflow.to_string(),
            module: module.to_string(),
        };
        CallRecorder {
            calls: self.guest_calls.get_or_create(&labels).clone(),
            seconds: self.guest_call_seconds.get_or_create(&labels).clone(),
            errors: self.guest_errors.clone(),
            labels,
        }
    }
}

/// Records guest calls of one module in one workflow.
#[derive(Clone)]
pub struct CallRecorder {
    calls: Counter,
    seconds: Histogram,
    errors: Family<GuestErrorLabels, Counter>,
    labels: GuestCallLabels,
}

impl CallRecorder {
    pub(crate) fn record(&self, elapsed: Duration, error: Option<&GuestError>) {
        self.calls.inc();
        self.seconds.observe(elapsed.as_secs_f64());
        if let Some(error) = error {
            let labels = GuestErrorLabels {
                workflow: self.labels.workflow.clone(),
                module: self.labels.module.clone(),
                kind: error.kind().to_string(),
            };
            self.errors.get_or_create(&labels).inc();
        }
    }
}
