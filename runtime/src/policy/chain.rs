//! Per-workflow policy chains: an ordered list of policy modules, each in
//! `protect` mode (a deny refuses the request) or `monitor` mode (a deny is
//! logged and the request goes on). A mutation replaces the subject for the
//! rest of the chain and for the workflow.
//!
//! Chains come from the config (`[policies]`) and can be replaced through
//! the admin API; a replaced chain is persisted (`policy-chains.json` in the
//! store) and wins over the config at the next start.

use std::collections::BTreeMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use serde::{Deserialize, Serialize};

use super::guest::{PolicyGuest, Verdict};
use crate::engine::GuestError;
use crate::engine::registry::{Live, ModuleRegistry};
use crate::metrics::Metrics;
use crate::store::BlobStore;

const STORE_KEY: &str = "policy-chains.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Protect,
    Monitor,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Protect => "protect",
            Mode::Monitor => "monitor",
        }
    }

    pub fn parse(text: &str) -> Result<Self, ChainError> {
        match text {
            "protect" | "" => Ok(Mode::Protect),
            "monitor" => Ok(Mode::Monitor),
            other => Err(ChainError::Invalid(format!(
                "unknown mode `{other}` (use `protect` or `monitor`)"
            ))),
        }
    }
}

/// One link of a chain as configured: `{ module = "…", mode = "…" }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainSpec {
    pub module: String,
    #[serde(default)]
    pub mode: Mode,
}

#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error("no workflow named `{0}` is served here")]
    UnknownWorkflow(String),
    #[error("{0}")]
    Invalid(String),
    #[error("storage: {0}")]
    Storage(String),
}

/// How a chain decided.
#[derive(Debug)]
pub enum ChainOutcome {
    /// Let through; `Some` when a policy replaced the subject.
    Allowed { mutated: Option<String> },
    Denied {
        module: String,
        reasons: Vec<String>,
    },
    /// A protect-mode policy failed (trap, timeout, memory cap).
    Failed { module: String, error: GuestError },
}

struct Link {
    module: String,
    mode: Mode,
    live: Live<PolicyGuest>,
    counts: DecisionCounts,
}

/// One link's decision counters, looked up once when the chain is built so
/// that a call costs no label allocation.
struct DecisionCounts {
    allow: Counter,
    deny: Counter,
    mutate: Counter,
    error: Counter,
}

impl DecisionCounts {
    fn new(decisions: &Decisions, workflow: &str, module: &str, mode: Mode) -> Self {
        let counter = |decision: &str| {
            decisions
                .get_or_create(&DecisionLabels {
                    workflow: workflow.to_string(),
                    module: module.to_string(),
                    mode: mode.as_str().to_string(),
                    decision: decision.to_string(),
                })
                .clone()
        };
        Self {
            allow: counter("allow"),
            deny: counter("deny"),
            mutate: counter("mutate"),
            error: counter("error"),
        }
    }
}

type Decisions = Family<DecisionLabels, Counter>;

/// The chain of one workflow; swapped whole when replaced.
pub struct PolicyChain {
    workflow: &'static str,
    links: ArcSwap<Vec<Link>>,
    decisions: Decisions,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    workflow: String,
    module: String,
    mode: String,
    decision: String,
}

impl PolicyChain {
    pub fn is_empty(&self) -> bool {
        self.links.load().is_empty()
    }

    /// Runs every link in order over `subject` (one JSON object).
    pub async fn evaluate(&self, kind: &'static str, subject: String) -> ChainOutcome {
        let links = self.links.load_full();
        let mut subject: Arc<str> = Arc::from(subject);
        let mut mutated = false;
        for link in links.iter() {
            let guest = link.live.current();
            let verdict = guest.check(kind, Arc::clone(&subject)).await;
            let counter = match &verdict {
                Ok(Verdict::Allow) => &link.counts.allow,
                Ok(Verdict::Deny(_)) => &link.counts.deny,
                Ok(Verdict::Mutate(_)) => &link.counts.mutate,
                Err(_) => &link.counts.error,
            };
            counter.inc();
            match (verdict, link.mode) {
                (Ok(Verdict::Allow), _) => {}
                (Ok(Verdict::Deny(reasons)), Mode::Protect) => {
                    tracing::warn!(workflow = self.workflow, module = %link.module, reasons = %reasons.join("; "), "policy denied the request");
                    return ChainOutcome::Denied {
                        module: link.module.clone(),
                        reasons,
                    };
                }
                (Ok(Verdict::Deny(reasons)), Mode::Monitor) => {
                    tracing::warn!(workflow = self.workflow, module = %link.module, reasons = %reasons.join("; "), "policy would deny the request (monitor mode: allowed)");
                }
                (Ok(Verdict::Mutate(new)), Mode::Protect) => {
                    tracing::info!(workflow = self.workflow, module = %link.module, "policy mutated the subject");
                    subject = Arc::from(new);
                    mutated = true;
                }
                (Ok(Verdict::Mutate(_)), Mode::Monitor) => {
                    tracing::info!(workflow = self.workflow, module = %link.module, "policy would mutate the subject (monitor mode: unchanged)");
                }
                (Err(error), Mode::Protect) => {
                    tracing::error!(workflow = self.workflow, module = %link.module, kind = error.kind(), %error, "policy failed; the request fails");
                    return ChainOutcome::Failed {
                        module: link.module.clone(),
                        error,
                    };
                }
                (Err(error), Mode::Monitor) => {
                    tracing::error!(workflow = self.workflow, module = %link.module, kind = error.kind(), %error, "policy failed (monitor mode: allowed)");
                }
            }
        }
        ChainOutcome::Allowed {
            mutated: mutated.then(|| subject.to_string()),
        }
    }

    fn specs(&self) -> Vec<ChainSpec> {
        self.links
            .load()
            .iter()
            .map(|l| ChainSpec {
                module: l.module.clone(),
                mode: l.mode,
            })
            .collect()
    }
}

/// Every workflow's chain.
pub struct PolicyChains {
    registry: Arc<ModuleRegistry>,
    store: Arc<dyn BlobStore>,
    chains: BTreeMap<&'static str, Arc<PolicyChain>>,
    /// One replacement at a time (validate, persist, swap).
    changes: tokio::sync::Mutex<()>,
}

impl PolicyChains {
    /// The chains of `workflows`: persisted ones first, else the config's.
    /// Every module named must be a policy module in `registry`.
    pub async fn open(
        registry: Arc<ModuleRegistry>,
        store: Arc<dyn BlobStore>,
        configured: &BTreeMap<String, Vec<ChainSpec>>,
        workflows: &[&'static str],
        metrics: &Metrics,
    ) -> Result<Arc<Self>, ChainError> {
        for workflow in configured.keys() {
            if !workflows.contains(&workflow.as_str()) {
                return Err(ChainError::UnknownWorkflow(workflow.clone()));
            }
        }
        let persisted = read_persisted(store.as_ref())?;
        let decisions = Decisions::default();
        metrics.register(|r| {
            r.register(
                "policy_decisions",
                "Policy verdicts per workflow, module, mode and decision",
                decisions.clone(),
            )
        });
        let mut chains = BTreeMap::new();
        for &workflow in workflows {
            let specs = match persisted.get(workflow) {
                Some(specs) => {
                    tracing::info!(
                        workflow,
                        "policy chain: using the one set through the admin API"
                    );
                    specs.clone()
                }
                None => configured.get(workflow).cloned().unwrap_or_default(),
            };
            let links = resolve(&registry, workflow, &specs, &decisions).await?;
            if !links.is_empty() {
                tracing::info!(workflow, chain = %describe(&specs), "policy chain");
            }
            chains.insert(
                workflow,
                Arc::new(PolicyChain {
                    workflow,
                    links: ArcSwap::from_pointee(links),
                    decisions: decisions.clone(),
                }),
            );
        }
        let this = Arc::new(Self {
            registry: Arc::clone(&registry),
            store,
            chains,
            changes: tokio::sync::Mutex::new(()),
        });
        let weak = Arc::downgrade(&this);
        registry.set_usage_lookup(Arc::new(move |module| {
            weak.upgrade()
                .map(|chains| chains.used_by(module))
                .unwrap_or_default()
        }));
        Ok(this)
    }

    /// The chain a workflow evaluates.
    pub fn chain(&self, workflow: &str) -> Option<Arc<PolicyChain>> {
        self.chains.get(workflow).cloned()
    }

    pub fn workflows(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.chains.keys().copied()
    }

    pub fn get(&self, workflow: &str) -> Result<Vec<ChainSpec>, ChainError> {
        Ok(self.lookup(workflow)?.specs())
    }

    /// Replaces the chain of `workflow`, persisted; requests already running
    /// finish on the chain they started with.
    pub async fn set(
        &self,
        workflow: &str,
        specs: Vec<ChainSpec>,
    ) -> Result<Vec<ChainSpec>, ChainError> {
        let chain = self.lookup(workflow)?;
        let _one_at_a_time = self.changes.lock().await;
        let links = resolve(&self.registry, chain.workflow, &specs, &chain.decisions).await?;
        let mut persisted = read_persisted(self.store.as_ref())?;
        persisted.insert(workflow.to_string(), specs.clone());
        let json = serde_json::to_vec_pretty(&persisted).expect("chains serialize");
        self.store
            .write(STORE_KEY, &json)
            .map_err(|e| ChainError::Storage(e.to_string()))?;
        chain.links.store(Arc::new(links));
        tracing::info!(workflow, chain = %describe(&specs), "policy chain replaced");
        Ok(specs)
    }

    /// The workflows whose chain names `module`.
    pub fn used_by(&self, module: &str) -> Vec<String> {
        self.chains
            .iter()
            .filter(|(_, chain)| chain.links.load().iter().any(|l| l.module == module))
            .map(|(workflow, _)| workflow.to_string())
            .collect()
    }

    fn lookup(&self, workflow: &str) -> Result<&Arc<PolicyChain>, ChainError> {
        self.chains
            .get(workflow)
            .ok_or_else(|| ChainError::UnknownWorkflow(workflow.to_string()))
    }
}

async fn resolve(
    registry: &ModuleRegistry,
    workflow: &str,
    specs: &[ChainSpec],
    decisions: &Decisions,
) -> Result<Vec<Link>, ChainError> {
    let mut links = Vec::with_capacity(specs.len());
    for spec in specs {
        let Some(live) = registry.live::<PolicyGuest>(&spec.module).await else {
            return Err(ChainError::Invalid(
                match registry.world_of(&spec.module).await {
                    Some(world) => format!(
                        "module `{}` implements the `{world}` world, not `policy`",
                        spec.module
                    ),
                    None => format!("no policy module named `{}` (upload it first)", spec.module),
                },
            ));
        };
        links.push(Link {
            module: spec.module.clone(),
            mode: spec.mode,
            live,
            counts: DecisionCounts::new(decisions, workflow, &spec.module, spec.mode),
        });
    }
    Ok(links)
}

fn read_persisted(store: &dyn BlobStore) -> Result<BTreeMap<String, Vec<ChainSpec>>, ChainError> {
    match store.read(STORE_KEY) {
        Ok(Some(bytes)) => serde_json::from_slice(&bytes)
            .map_err(|e| ChainError::Storage(format!("{STORE_KEY}: {e}"))),
        Ok(None) => Ok(BTreeMap::new()),
        Err(e) => Err(ChainError::Storage(e.to_string())),
    }
}

fn describe(specs: &[ChainSpec]) -> String {
    specs
        .iter()
        .map(|s| format!("{} ({})", s.module, s.mode.as_str()))
        .collect::<Vec<_>>()
        .join(" → ")
}
