//! The admin API over gRPC (`postern.v1.ModuleAdmin`), and server
//! reflection so `grpcurl` needs no `.proto` file.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tonic::service::Routes;
use tonic::{Request, Response, Status, Streaming};

use super::audit::{self, Audit};
use super::convert;
use super::errors::Refusal;
use super::proto::module_admin_server::{ModuleAdmin, ModuleAdminServer};
use super::proto::upload_module_request::Part;
use super::proto::{self, UploadHeader};
use super::{AdminState, auth};
use crate::engine::registry::{ModuleRegistry, RegistryError};
use crate::listeners::http::Peer;
use crate::policy::PolicyChains;

/// Room for the 1 MiB chunks clients send, with margin for larger ones.
const MAX_MESSAGE_BYTES: usize = 4 << 20;

/// Longest an upload stream may take, as over HTTP.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(120);

/// The gRPC services of the admin port: `ModuleAdmin` behind the bearer
/// token, reflection (v1 and v1alpha, for older clients) open.
pub fn routes(state: &AdminState) -> Routes {
    let token = Arc::clone(&state.token);
    let check = move |request: Request<()>| {
        let authorization = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        if auth::authorized(authorization, &token) {
            Ok(request)
        } else {
            audit::unauthenticated("grpc", peer_of(&request), "postern.v1.ModuleAdmin");
            Err(Status::unauthenticated(auth::REFUSED))
        }
    };
    let service = ModuleAdminServer::new(AdminService {
        registry: Arc::clone(&state.registry),
        policies: Arc::clone(&state.policies),
    })
    .max_decoding_message_size(MAX_MESSAGE_BYTES);
    let mut routes = Routes::new(tonic::service::interceptor::InterceptedService::new(
        service, check,
    ));
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
    };
    // Reflection is a convenience: without it the API still serves.
    match reflection().build_v1() {
        Ok(v1) => routes = routes.add_service(v1),
        Err(error) => tracing::error!(%error, "admin: gRPC reflection (v1) unavailable"),
    }
    match reflection().build_v1alpha() {
        Ok(v1alpha) => routes = routes.add_service(v1alpha),
        Err(error) => tracing::error!(%error, "admin: gRPC reflection (v1alpha) unavailable"),
    }
    routes.prepare()
}

/// The connection's peer, put in the request's extensions by the dispatch.
fn peer_of<T>(request: &Request<T>) -> Option<SocketAddr> {
    request.extensions().get::<Peer>().map(|peer| peer.addr)
}

struct AdminService {
    registry: Arc<ModuleRegistry>,
    policies: Arc<PolicyChains>,
}

fn module_reply(
    result: Result<crate::engine::registry::ModuleInfo, RegistryError>,
) -> Result<Response<proto::Module>, Status> {
    result
        .map(|module| Response::new(convert::module_proto(module)))
        .map_err(|e| e.grpc_status())
}

/// Empty strings are proto3's "not given".
fn given(text: &str) -> Option<&str> {
    (!text.is_empty()).then_some(text)
}

#[tonic::async_trait]
impl ModuleAdmin for AdminService {
    async fn list_modules(
        &self,
        _request: Request<proto::ListModulesRequest>,
    ) -> Result<Response<proto::ListModulesResponse>, Status> {
        let modules = self.registry.list().await;
        Ok(Response::new(proto::ListModulesResponse {
            modules: modules.into_iter().map(convert::module_proto).collect(),
        }))
    }

    async fn describe_module(
        &self,
        request: Request<proto::DescribeModuleRequest>,
    ) -> Result<Response<proto::Module>, Status> {
        module_reply(self.registry.describe(&request.get_ref().name).await)
    }

    async fn upload_module(
        &self,
        request: Request<Streaming<proto::UploadModuleRequest>>,
    ) -> Result<Response<proto::UploadModuleResponse>, Status> {
        let peer = peer_of(&request);
        let mut stream = request.into_inner();
        let header = match stream.message().await? {
            Some(proto::UploadModuleRequest {
                part: Some(Part::Header(header)),
            }) => header,
            _ => {
                return Err(Status::invalid_argument(
                    "the first message must be the upload header",
                ));
            }
        };
        let audit = Audit::module("grpc", peer, "UploadModule", &header.name);
        let limit = self.registry.settings().max_upload_bytes;
        let bytes = match tokio::time::timeout(UPLOAD_TIMEOUT, receive(&mut stream, &header, limit))
            .await
        {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(status)) => {
                audit.record(None, &Err::<(), _>(status.message()));
                return Err(status);
            }
            Err(_) => {
                let status = Status::deadline_exceeded(format!(
                    "the upload did not arrive within {UPLOAD_TIMEOUT:?}"
                ));
                audit.record(None, &Err::<(), _>(status.message()));
                return Err(status);
            }
        };
        let result = self
            .registry
            .upload(
                &header.name,
                Arc::from(bytes),
                header.signature.trim(),
                !header.stage_only,
            )
            .await;
        let made = result.as_ref().ok().map(|o| o.version.as_str());
        audit.record(made, &result);
        result
            .map(|outcome| Response::new(convert::upload_proto(outcome)))
            .map_err(|e| e.grpc_status())
    }

    async fn activate_version(
        &self,
        request: Request<proto::ActivateVersionRequest>,
    ) -> Result<Response<proto::Module>, Status> {
        let peer = peer_of(&request);
        let proto::ActivateVersionRequest { name, version } = request.into_inner();
        let result = self.registry.activate(&name, &version).await;
        Audit::module("grpc", peer, "ActivateVersion", &name).record(Some(&version), &result);
        module_reply(result)
    }

    async fn rollback(
        &self,
        request: Request<proto::RollbackRequest>,
    ) -> Result<Response<proto::Module>, Status> {
        let peer = peer_of(&request);
        let proto::RollbackRequest { name, version } = request.into_inner();
        let version = given(&version);
        let result = self.registry.rollback(&name, version).await;
        let made = result.as_ref().ok().map(|m| m.active.as_str());
        Audit::module("grpc", peer, "Rollback", &name).record(made.or(version), &result);
        module_reply(result)
    }

    async fn delete_version(
        &self,
        request: Request<proto::DeleteVersionRequest>,
    ) -> Result<Response<proto::Module>, Status> {
        let peer = peer_of(&request);
        let proto::DeleteVersionRequest { name, version } = request.into_inner();
        let version = given(&version);
        let action = if version.is_some() {
            "DeleteVersion"
        } else {
            "DeleteModule"
        };
        let result = self.registry.delete(&name, version).await;
        Audit::module("grpc", peer, action, &name).record(version, &result);
        match result {
            Ok(Some(module)) => Ok(Response::new(convert::module_proto(module))),
            // The whole module is gone: only its name is left to say.
            Ok(None) => Ok(Response::new(proto::Module {
                name,
                ..Default::default()
            })),
            Err(e) => Err(e.grpc_status()),
        }
    }

    async fn get_policy_chain(
        &self,
        request: Request<proto::GetPolicyChainRequest>,
    ) -> Result<Response<proto::PolicyChain>, Status> {
        let workflow = &request.get_ref().workflow;
        self.policies
            .get(workflow)
            .map(|specs| Response::new(convert::chain_proto(workflow, specs)))
            .map_err(|e| e.grpc_status())
    }

    async fn set_policy_chain(
        &self,
        request: Request<proto::PolicyChain>,
    ) -> Result<Response<proto::PolicyChain>, Status> {
        let peer = peer_of(&request);
        let proto::PolicyChain { workflow, entries } = request.into_inner();
        let result = match convert::chain_specs(entries.into_iter().map(|e| (e.module, e.mode))) {
            Ok(specs) => self.policies.set(&workflow, specs).await,
            Err(e) => Err(e),
        };
        Audit::workflow("grpc", peer, "SetPolicyChain", &workflow).record(None, &result);
        result
            .map(|specs| Response::new(convert::chain_proto(&workflow, specs)))
            .map_err(|e| e.grpc_status())
    }
}

/// The chunks after the header, never holding more than `limit` bytes.
async fn receive(
    stream: &mut Streaming<proto::UploadModuleRequest>,
    header: &UploadHeader,
    limit: usize,
) -> Result<Vec<u8>, Status> {
    let too_large = |size: usize| RegistryError::TooLarge { size, limit }.grpc_status();
    let announced = usize::try_from(header.size).unwrap_or(usize::MAX);
    if announced > limit {
        return Err(too_large(announced));
    }
    let mut bytes = Vec::with_capacity(announced);
    while let Some(message) = stream.message().await? {
        match message.part {
            Some(Part::Chunk(chunk)) => {
                let size = bytes.len().saturating_add(chunk.len());
                if size > limit {
                    return Err(too_large(size));
                }
                bytes.extend_from_slice(&chunk);
            }
            Some(Part::Header(_)) => {
                return Err(Status::invalid_argument(
                    "only the first message may be the upload header",
                ));
            }
            None => {}
        }
    }
    Ok(bytes)
}
