//! The deploy sequence of spec 6–11, as pyavd's `deploy_to_cv` runs it for
//! cvproxy: create the workspace, verify devices, then the attempt (tags,
//! configlets, containers, build, submit) repeated after each rebase, the
//! change control, and cvproxy's optional workspace deletion.

mod change_control;
mod configs;
mod create;
mod devices;
mod finalize;
mod tags;

use tracing::{info, warn};

use super::Shared;
use super::client::{Client, lazy_channel};
use super::errors::{CallIds, CvError, described};
use super::preflight::fetch_version;
use super::pure::devices::{FoundDevice, RequestDevice};
use super::pure::naming::workspace_display_name;
use super::pure::server::{CvServer, parse_cv_server};
use super::pure::version::unsupported_version_message;
use crate::workflows::cvproxy::plan::{DeployPlan, DeployReport, WorkspaceOutcome};
use tonic::transport::Channel;

/// One deployment in progress.
pub(crate) struct Deployment<'a> {
    client: Client,
    plan: &'a DeployPlan,
    server: &'a CvServer,
    workspace_id: &'a str,
    workspace_name: String,
    /// Request devices, document order.
    devices: Vec<RequestDevice>,
    /// S4's answer per request device (all `Some` once S4 passed).
    found: Vec<Option<FoundDevice>>,
    state: WorkspaceOutcome,
    change_control_id: Option<String>,
    change_control_name: Option<Option<String>>,
}

/// Run one deployment and report it.
pub(crate) async fn run(shared: &Shared, plan: &DeployPlan, workspace_id: &str) -> DeployReport {
    let mut report = DeployReport {
        errors: Vec::new(),
        change_control: None,
        workspace_id: None,
        workspace: WorkspaceOutcome::None,
    };
    let server = match parse_cv_server(&plan.cv_server) {
        Ok(server) => server,
        Err(text) => {
            report.errors.push(text);
            return report;
        }
    };
    if shared.settings.insecure {
        warn!("cvproxy: TLS verification is off (cvproxy.tls.insecure) for this deployment");
    }
    let version = match fetch_version(
        &server,
        &plan.cv_token,
        shared.tls.rest.clone(),
        shared.settings.preflight_timeout,
        &shared.host_overrides,
    )
    .await
    {
        Ok(version) => version,
        Err(e) => {
            report.errors.push(e.reply_text());
            return report;
        }
    };
    info!(version = version.as_str(), "cvproxy: CloudVision version");
    if !version.supports_deploy() {
        report.errors.push(
            CvError::escaping("LookupError", unsupported_version_message(version.as_str()))
                .prefixed(),
        );
        return report;
    }
    let ids = CallIds::workspace(workspace_id);
    let channel = match lazy_channel(
        &server,
        shared.tls.grpc.clone(),
        shared.settings.connect_timeout,
        &shared.host_overrides,
    ) {
        Ok(channel) => channel,
        Err(text) => {
            report.errors.push(described(&text, &ids).reply_text());
            return report;
        }
    };
    let Some(client) = Client::new(
        channel.clone(),
        &plan.cv_token,
        version,
        &server,
        shared.settings.retry_base_delay,
    ) else {
        report.errors.push(
            described("Invalid cv_token: not a valid gRPC metadata value", &ids).reply_text(),
        );
        return report;
    };

    let mut deployment = Deployment {
        client,
        plan,
        server: &server,
        workspace_id,
        workspace_name: workspace_display_name(&chrono::Local::now().naive_local()),
        devices: plan
            .devices
            .iter()
            .map(|d| RequestDevice {
                hostname: d.hostname.clone(),
                serial: d.serial_number.clone(),
            })
            .collect(),
        found: Vec::new(),
        state: WorkspaceOutcome::None,
        change_control_id: None,
        change_control_name: None,
    };
    report.workspace_id = Some(workspace_id.to_owned());
    let errors = deployment.execute().await.err().unwrap_or_default();

    report.errors = match errors.iter().find(|e| e.escapes) {
        // An exception that escapes cvproxy's deploy() is the whole reply,
        // and the workspace is not deleted.
        Some(escaped) => vec![escaped.prefixed()],
        None => {
            let mut texts: Vec<String> = errors.iter().map(CvError::reply_text).collect();
            if plan.delete_workspace && deployment.state == WorkspaceOutcome::Submitted {
                if let Err(e) = delete_workspace(shared, plan, &server, channel, workspace_id).await
                {
                    texts = vec![e.prefixed()];
                } else {
                    info!("cvproxy: workspace deleted");
                }
            }
            texts
        }
    };
    report.workspace = deployment.state;
    report.change_control = deployment.change_control_name.take();
    report
}

/// cvproxy's `cv_delete_workspace` (spec 10): a second pre-flight, then
/// `WorkspaceConfigService/Delete` on the same channel.
async fn delete_workspace(
    shared: &Shared,
    plan: &DeployPlan,
    server: &CvServer,
    channel: Channel,
    workspace_id: &str,
) -> Result<(), CvError> {
    let version = fetch_version(
        server,
        &plan.cv_token,
        shared.tls.rest.clone(),
        shared.settings.preflight_timeout,
        &shared.host_overrides,
    )
    .await?;
    let client = Client::new(
        channel,
        &plan.cv_token,
        version,
        server,
        shared.settings.retry_base_delay,
    )
    .ok_or_else(|| {
        described(
            "Invalid cv_token: not a valid gRPC metadata value",
            &CallIds::workspace(workspace_id),
        )
    })?;
    client.delete_workspace(workspace_id).await
}

/// How the build and submit of one attempt ended.
pub(crate) enum Finalized {
    Done,
    /// CloudVision wants the workspace rebased, then the attempt again.
    NeedsSync,
}

/// Rebases pyavd makes before giving up (`max_sync_retries`).
const MAX_SYNC_RETRIES: u32 = 5;

impl Deployment<'_> {
    /// Everything after the pre-flight; the errors in order on failure.
    async fn execute(&mut self) -> Result<(), Vec<CvError>> {
        self.state = WorkspaceOutcome::Pending;
        self.create_workspace().await.map_err(|e| vec![e])?;
        self.check_duplicates().map_err(|e| vec![e])?;
        if let Err(e) = self.verify_devices().await {
            return Err(self.abandon_after(e).await);
        }
        let mut sync_attempt = 0;
        loop {
            if let Err(e) = self.deploy_changes().await {
                return Err(self.abandon_after(e).await);
            }
            match self.finalize_workspace().await.map_err(|e| vec![e])? {
                Finalized::Done => break,
                Finalized::NeedsSync => {
                    self.synchronize(sync_attempt).await.map_err(|e| vec![e])?;
                    sync_attempt += 1;
                }
            }
        }
        self.finalize_change_control().await.map_err(|e| vec![e])
    }

    /// S8–S22 of one attempt.
    async fn deploy_changes(&mut self) -> Result<(), CvError> {
        self.deploy_tags().await?;
        self.deploy_configlets().await?;
        self.deploy_containers().await
    }

    /// Abandon the workspace after a failure (section 8); an abandon failure
    /// is reported after the original error. Escaping errors abandon nothing.
    async fn abandon_after(&mut self, error: CvError) -> Vec<CvError> {
        if error.escapes {
            return vec![error];
        }
        let mut errors = vec![error];
        match self
            .client
            .request_workspace(
                self.workspace_id,
                super::api::workspace::WorkspaceRequest::Abandon,
            )
            .await
        {
            Ok(_) => self.state = WorkspaceOutcome::Abandoned,
            Err(e) => errors.push(e),
        }
        errors
    }

    /// Each request device with what S4 found for it.
    fn found_devices(&self) -> impl Iterator<Item = (usize, &RequestDevice, Option<&FoundDevice>)> {
        self.devices
            .iter()
            .enumerate()
            .map(|(i, d)| (i, d, self.found.get(i).and_then(Option::as_ref)))
    }

    /// The serial S4 resolved for request device `i`.
    fn serial_of(&self, i: usize) -> Option<&str> {
        self.found
            .get(i)
            .and_then(Option::as_ref)
            .and_then(|f| f.serial.as_deref())
    }
}
