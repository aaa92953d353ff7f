//! The `postern_cvproxy_*` metrics.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};

use crate::metrics::Metrics;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WorkspaceLabels {
    pub workspace: &'static str,
}

#[derive(Clone)]
pub struct CvproxyMetrics {
    /// Every HTTP request by how it ended.
    pub requests: Family<OutcomeLabels, Counter>,
    /// Deployments by the workspace's end state (spec 11.1).
    pub deployments: Family<WorkspaceLabels, Counter>,
    pub deploy_seconds: Histogram,
}

impl CvproxyMetrics {
    pub fn new(metrics: &Metrics) -> Self {
        let this = Self {
            requests: Family::default(),
            deployments: Family::default(),
            deploy_seconds: Histogram::new(exponential_buckets(0.01, 2.0, 16)),
        };
        metrics.register(|r| {
            let r = r.sub_registry_with_prefix("cvproxy");
            r.register(
                "requests",
                "cvproxy HTTP requests by outcome",
                this.requests.clone(),
            );
            r.register(
                "deployments",
                "CloudVision deployments by the workspace's end state",
                this.deployments.clone(),
            );
            r.register(
                "deploy_seconds",
                "Duration of CloudVision deployments",
                this.deploy_seconds.clone(),
            );
        });
        this
    }

    pub fn request(&self, outcome: &'static str) {
        self.requests
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }
}
