//! The gRPC side of one CloudVision client (spec 4): one HTTP/2 connection
//! over our own TCP + TLS connector, `:authority host:port`, the bearer
//! token on every call, `grpc-timeout` per call.

use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint, Uri};

use super::connect::{HostOverrides, connect_tls};
use super::pure::server::CvServer;
use super::pure::version::CvVersion;

/// Responses larger than this are refused (CloudVision's own limit is 1 MiB
/// on receive; its answers are far below this).
pub(crate) const MAX_DECODING_MESSAGE_SIZE: usize = 16 * 1024 * 1024;

/// Adds `authorization: Bearer <token>` to every call.
#[derive(Clone, Debug)]
pub(crate) struct BearerAuth(MetadataValue<Ascii>);

impl Interceptor for BearerAuth {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        request
            .metadata_mut()
            .insert("authorization", self.0.clone());
        Ok(request)
    }
}

/// The service stack every generated client runs on.
pub(crate) type Svc = InterceptedService<Channel, BearerAuth>;

/// One CloudVision client: the channel plus what error handling needs.
pub(crate) struct Client {
    svc: Svc,
    pub(crate) version: CvVersion,
    pub(crate) host: String,
    pub(crate) retry_base_delay: Duration,
}

impl Client {
    /// A client on a lazily connected channel (the first call connects, as
    /// grpclib does). `None` when the token is not a valid header value
    /// (the pre-flight has refused such a token already).
    pub(crate) fn new(
        channel: Channel,
        token: &str,
        version: CvVersion,
        server: &CvServer,
        retry_base_delay: Duration,
    ) -> Option<Self> {
        let auth = MetadataValue::try_from(format!("Bearer {token}")).ok()?;
        Some(Self {
            svc: InterceptedService::new(channel, BearerAuth(auth)),
            version,
            host: server.host.clone(),
            retry_base_delay,
        })
    }

    pub(crate) fn svc(&self) -> Svc {
        self.svc.clone()
    }
}

/// A channel that connects on first use with our connector. Requests carry
/// `:scheme https` and `:authority host:port` (the endpoint's origin); the
/// endpoint URI itself only feeds the connector, which ignores it.
pub(crate) fn lazy_channel(
    server: &CvServer,
    tls: Arc<ClientConfig>,
    connect_timeout: Duration,
    overrides: &HostOverrides,
) -> Result<Channel, String> {
    let authority = server.authority();
    let origin: Uri = format!("https://{authority}/")
        .parse()
        .map_err(|e| format!("invalid CloudVision address {authority}: {e}"))?;
    let endpoint = Endpoint::from_shared(format!("http://{authority}"))
        .map_err(|e| format!("invalid CloudVision address {authority}: {e}"))?
        .origin(origin)
        .user_agent(format!("postern/{}", env!("CARGO_PKG_VERSION")))
        .map_err(|e| format!("user agent: {e}"))?;
    let server = server.clone();
    let overrides = overrides.clone();
    let connector = tower::service_fn(move |_: Uri| {
        let server = server.clone();
        let tls = tls.clone();
        let overrides = overrides.clone();
        async move {
            connect_tls(&server, tls, connect_timeout, &overrides)
                .await
                .map(TokioIo::new)
        }
    });
    Ok(endpoint.connect_with_connector_lazy(connector))
}

/// A request with grpclib's `grpc-timeout` (whole seconds above 10 s).
pub(crate) fn request<M>(message: M, deadline: Duration) -> tonic::Request<M> {
    let mut request = tonic::Request::new(message);
    if let Ok(value) = grpc_timeout_value(deadline).parse() {
        request.metadata_mut().insert("grpc-timeout", value);
    }
    request
}

/// grpclib's `encode_timeout`.
pub(crate) fn grpc_timeout_value(deadline: Duration) -> String {
    let secs = deadline.as_secs_f64();
    if secs > 10.0 {
        format!("{}S", deadline.as_secs())
    } else if secs > 0.01 {
        format!("{}m", deadline.as_millis())
    } else if secs > 0.00001 {
        format!("{}u", deadline.as_micros())
    } else {
        format!("{}n", deadline.as_nanos())
    }
}

/// The default deadline of every call.
pub(crate) const DEFAULT_DEADLINE: Duration = Duration::from_secs(600);
/// The deadline of a wait for a workspace request's response.
pub(crate) const RESPONSE_WAIT_DEADLINE: Duration = Duration::from_secs(3600);

/// 600 s plus 0.1 s per value (tag `SetSome` and topology `SetSome`).
pub(crate) fn per_value_deadline(values: usize) -> Duration {
    DEFAULT_DEADLINE + Duration::from_millis(100) * u32::try_from(values).unwrap_or(u32::MAX)
}
