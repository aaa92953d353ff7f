//! The `postern_spiro_*` metrics.

use hyper::StatusCode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};

use crate::metrics::Metrics;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    pub result: &'static str,
}

#[derive(Clone)]
pub struct SpiroMetrics {
    /// Every HTTP request by its status (200 for a started event stream).
    pub requests: Family<StatusLabels, Counter>,
    /// Deployments whose stream started, by result: `ok` or the
    /// `exception` event's error type.
    pub deployments: Family<ResultLabels, Counter>,
    pub deploy_seconds: Histogram,
    /// Bytes of regular files written by successful deployments.
    pub deployed_bytes: Counter,
}

impl SpiroMetrics {
    pub fn new(metrics: &Metrics) -> Self {
        let this = Self {
            requests: Family::default(),
            deployments: Family::default(),
            deploy_seconds: Histogram::new(exponential_buckets(0.005, 2.0, 16)),
            deployed_bytes: Counter::default(),
        };
        metrics.register(|r| {
            let r = r.sub_registry_with_prefix("spiro");
            r.register(
                "requests",
                "spiro HTTP requests by status",
                this.requests.clone(),
            );
            r.register(
                "deployments",
                "spiro deployments by result (ok or the exception's error type)",
                this.deployments.clone(),
            );
            r.register(
                "deploy_seconds",
                "Duration of spiro deployments, from the stream's start to the swap",
                this.deploy_seconds.clone(),
            );
            r.register(
                "deployed_bytes",
                "Bytes of files written by successful spiro deployments",
                this.deployed_bytes.clone(),
            );
        });
        this
    }

    pub fn request(&self, status: StatusCode) {
        self.requests
            .get_or_create(&StatusLabels {
                status: status.as_u16(),
            })
            .inc();
    }

    pub fn deployment(&self, result: &'static str, seconds: f64) {
        self.deployments
            .get_or_create(&ResultLabels { result })
            .inc();
        self.deploy_seconds.observe(seconds);
    }
}
