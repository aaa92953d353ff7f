use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;

use crate::metrics::Metrics;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub code: &'static str,
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EventLabels {
    pub event: &'static str,
}

/// The `postern_vspc_*` metrics of spec 14.
#[derive(Clone)]
pub struct VspcMetrics {
    pub connections: Gauge,
    pub identified: Gauge,
    pub requests: Family<RequestLabels, Counter>,
    pub lines_ignored: Family<ReasonLabels, Counter>,
    pub closed: Family<ReasonLabels, Counter>,
    pub vmotion: Family<EventLabels, Counter>,
}

impl VspcMetrics {
    pub fn new(metrics: &Metrics) -> Self {
        let this = Self {
            connections: Gauge::default(),
            identified: Gauge::default(),
            requests: Family::default(),
            lines_ignored: Family::default(),
            closed: Family::default(),
            vmotion: Family::default(),
        };
        metrics.register(|r| {
            let r = r.sub_registry_with_prefix("vspc");
            r.register(
                "connections",
                "Open vSPC telnet connections",
                this.connections.clone(),
            );
            r.register(
                "identified_vms",
                "Connections whose VM has identified itself",
                this.identified.clone(),
            );
            r.register(
                "requests",
                "Request packets by code and outcome",
                this.requests.clone(),
            );
            r.register(
                "lines_ignored",
                "Console lines ignored, by reason",
                this.lines_ignored.clone(),
            );
            r.register(
                "closed",
                "Connections closed, by reason",
                this.closed.clone(),
            );
            r.register("vmotion", "vMotion events", this.vmotion.clone());
        });
        this
    }

    pub fn request(&self, code: &'static str, outcome: &'static str) {
        self.requests
            .get_or_create(&RequestLabels { code, outcome })
            .inc();
    }

    pub fn ignored(&self, reason: &'static str) {
        self.lines_ignored
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    pub fn closed(&self, reason: &'static str) {
        self.closed.get_or_create(&ReasonLabels { reason }).inc();
    }

    pub fn vmotion(&self, event: &'static str) {
        self.vmotion.get_or_create(&EventLabels { event }).inc();
    }
}
