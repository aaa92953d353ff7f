//! The registry over the gRPC admin API (`postern.v1.ModuleAdmin`), with
//! client-streamed uploads, bearer auth and server reflection.

use postern::admin::proto::module_admin_client::ModuleAdminClient;
use postern::admin::proto::{
    self as pb, ActivateVersionRequest, DeleteVersionRequest, DescribeModuleRequest,
    ListModulesRequest, RollbackRequest, UploadHeader, UploadModuleRequest,
    upload_module_request::Part,
};
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;
use tonic::{Code, Request};

use super::harness::*;
use crate::support::guests;

async fn client(server: &ModulesServer) -> ModuleAdminClient<Channel> {
    ModuleAdminClient::connect(format!("http://{}", server.admin))
        .await
        .expect("connect to the admin port over h2c")
}

fn authed<T>(server: &ModulesServer, message: T) -> Request<T> {
    let mut request = Request::new(message);
    let value: MetadataValue<_> = format!("Bearer {}", server.token).parse().unwrap();
    request.metadata_mut().insert("authorization", value);
    request
}

/// The header, then the bytes in 64 KiB chunks.
fn upload_stream(name: &str, bytes: &[u8]) -> Vec<UploadModuleRequest> {
    let mut messages = vec![UploadModuleRequest {
        part: Some(Part::Header(UploadHeader {
            name: name.to_string(),
            signature: String::new(),
            stage_only: false,
            size: bytes.len() as u64,
        })),
    }];
    messages.extend(bytes.chunks(64 << 10).map(|chunk| UploadModuleRequest {
        part: Some(Part::Chunk(chunk.to_vec())),
    }));
    messages
}

async fn upload(
    server: &ModulesServer,
    client: &mut ModuleAdminClient<Channel>,
    name: &str,
    bytes: &[u8],
) -> Result<pb::UploadModuleResponse, tonic::Status> {
    let stream = tokio_stream_iter(upload_stream(name, bytes));
    client
        .upload_module(authed(server, stream))
        .await
        .map(|r| r.into_inner())
}

fn tokio_stream_iter<T: Send + 'static>(
    items: Vec<T>,
) -> impl tonic::codegen::tokio_stream::Stream<Item = T> + Send + 'static {
    tonic::codegen::tokio_stream::iter(items)
}

#[tokio::test]
async fn upload_activate_rollback_and_delete_over_grpc() {
    let data = tempfile::tempdir().unwrap();
    let server = ModulesServer::start(data.path(), Setup::default()).await;
    let mut client = client(&server).await;
    let alt_bytes = guest(guests::CVPROXY_ALT);

    let uploaded = upload(&server, &mut client, "cvproxy", &alt_bytes)
        .await
        .unwrap();
    assert!(uploaded.activated);
    let alt = uploaded.version.clone();
    assert_eq!(uploaded.module.as_ref().unwrap().active, alt);
    assert_eq!(server.cvproxy_reply(INVALID_BODY).await, alt_answer());

    let module = client
        .rollback(authed(
            &server,
            RollbackRequest {
                name: "cvproxy".into(),
                version: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(module.active, "builtin");
    assert_eq!(
        server.cvproxy_reply(INVALID_BODY).await,
        builtin_answer_to_invalid()
    );

    let module = client
        .activate_version(authed(
            &server,
            ActivateVersionRequest {
                name: "cvproxy".into(),
                version: alt[..10].into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(module.active, alt);
    assert_eq!(module.world, "cvproxy");
    let sizes: Vec<u64> = module.versions.iter().map(|v| v.size).collect();
    assert_eq!(sizes[1], alt_bytes.len() as u64);

    let refused = client
        .delete_version(authed(
            &server,
            DeleteVersionRequest {
                name: "cvproxy".into(),
                version: alt.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");

    // A policy module: list, describe, delete entirely.
    upload(&server, &mut client, "gate", &guest(guests::POLICY_FIXED))
        .await
        .unwrap();
    let list = client
        .list_modules(authed(&server, ListModulesRequest {}))
        .await
        .unwrap()
        .into_inner();
    let names: Vec<&str> = list.modules.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["cvproxy", "gate", "vspc"]);
    let gate = client
        .describe_module(authed(
            &server,
            DescribeModuleRequest {
                name: "gate".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(gate.world, "policy");
    client
        .delete_version(authed(
            &server,
            DeleteVersionRequest {
                name: "gate".into(),
                version: String::new(),
            },
        ))
        .await
        .unwrap();
    let gone = client
        .describe_module(authed(
            &server,
            DescribeModuleRequest {
                name: "gate".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
    server.shut_down().await;
}

#[tokio::test]
async fn refused_grpc_uploads_keep_the_active_version() {
    let data = tempfile::tempdir().unwrap();
    let server = ModulesServer::start(
        data.path(),
        Setup {
            registry: "max_upload_mib = 1\n",
            ..Setup::default()
        },
    )
    .await;
    let mut client = client(&server).await;
    let cases: [(&str, Vec<u8>, Code); 4] = [
        (
            "not wasm",
            b"not a component".to_vec(),
            Code::InvalidArgument,
        ),
        (
            "wrong world",
            postern::guests::builtin("vspc").unwrap().to_vec(),
            Code::InvalidArgument,
        ),
        (
            "core module",
            b"\0asm\x01\0\0\0".to_vec(),
            Code::InvalidArgument,
        ),
        (
            "over the limit",
            vec![7u8; (1 << 20) + 1],
            Code::ResourceExhausted,
        ),
    ];
    for (what, bytes, code) in cases {
        let status = upload(&server, &mut client, "cvproxy", &bytes)
            .await
            .unwrap_err();
        assert_eq!(status.code(), code, "{what}: {status:?}");
        assert_eq!(server.active("cvproxy").await, "builtin", "{what}");
    }
    // The header must come first.
    let stream = tokio_stream_iter(vec![UploadModuleRequest {
        part: Some(Part::Chunk(b"\0asm".to_vec())),
    }]);
    let status = client
        .upload_module(authed(&server, stream))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        server.cvproxy_reply(INVALID_BODY).await,
        builtin_answer_to_invalid()
    );
    server.shut_down().await;
}

#[tokio::test]
async fn grpc_calls_need_the_token_and_reflection_lists_the_service() {
    let data = tempfile::tempdir().unwrap();
    let server = ModulesServer::start(data.path(), Setup::default()).await;
    let mut client = client(&server).await;
    let status = client
        .list_modules(Request::new(ListModulesRequest {}))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    let mut wrong = Request::new(ListModulesRequest {});
    wrong
        .metadata_mut()
        .insert("authorization", "Bearer wrong".parse().unwrap());
    assert_eq!(
        client.list_modules(wrong).await.unwrap_err().code(),
        Code::Unauthenticated
    );

    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    let channel = Channel::from_shared(format!("http://{}", server.admin))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut reflection = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = reflection
        .server_reflection_info(tokio_stream_iter(vec![request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses
        .message()
        .await
        .unwrap()
        .expect("a reflection answer");
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("not a service list: {response:?}");
    };
    let services: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        services.contains(&"postern.v1.ModuleAdmin".to_string()),
        "{services:?}"
    );
    server.shut_down().await;
}
