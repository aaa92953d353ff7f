//! A TCP accept loop shared by the stream protocols: optional TLS, a
//! connection limit, a span per connection, and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tracing::Instrument;

use crate::shutdown::Shutdown;

/// A connection's byte stream, plain or TLS.
pub trait Io: AsyncRead + AsyncWrite + Send + Sync + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Sync + Unpin> Io for T {}

pub type BoxedIo = Box<dyn Io>;

/// What a handler gets for each accepted connection.
pub struct Accepted {
    pub io: BoxedIo,
    pub peer: SocketAddr,
    /// When the TCP connection was accepted (before any TLS handshake).
    pub accepted_at: Instant,
}

pub type Handler =
    Arc<dyn Fn(Accepted, Shutdown) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

pub struct TcpServe {
    /// Name of the protocol, for spans and logs.
    pub protocol: &'static str,
    pub listener: TcpListener,
    pub tls: Option<TlsAcceptor>,
    /// Longest a TLS handshake may take.
    pub handshake_timeout: Duration,
    pub max_connections: usize,
    pub handler: Handler,
}

impl TcpServe {
    /// Accepts until shutdown; each connection runs as a tracked task.
    pub async fn run(self, shutdown: Shutdown) {
        let limit = Arc::new(Semaphore::new(self.max_connections));
        let tls = self.tls.map(Arc::new);
        loop {
            let permit = tokio::select! {
                _ = shutdown.requested() => break,
                permit = Arc::clone(&limit).acquire_owned() => permit.expect("connection semaphore is never closed"),
            };
            let (stream, peer) = tokio::select! {
                _ = shutdown.requested() => break,
                accepted = self.listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Usually EMFILE/ENFILE: back off instead of spinning.
                        tracing::warn!(protocol = self.protocol, %error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let accepted_at = Instant::now();
            let _ = stream.set_nodelay(true);
            let handler = Arc::clone(&self.handler);
            let tls = tls.clone();
            let task_shutdown = shutdown.clone();
            let span = tracing::info_span!("connection", protocol = self.protocol, %peer);
            let handshake_timeout = self.handshake_timeout;
            shutdown.spawn(
                async move {
                    let _permit = permit;
                    let io: BoxedIo = match tls {
                        None => Box::new(stream),
                        Some(acceptor) => {
                            match tokio::time::timeout(handshake_timeout, acceptor.accept(stream))
                                .await
                            {
                                Ok(Ok(tls_stream)) => Box::new(tls_stream),
                                Ok(Err(error)) => {
                                    tracing::info!(%error, "TLS handshake failed");
                                    return;
                                }
                                Err(_) => {
                                    tracing::info!("TLS handshake timed out");
                                    return;
                                }
                            }
                        }
                    };
                    handler(
                        Accepted {
                            io,
                            peer,
                            accepted_at,
                        },
                        task_shutdown,
                    )
                    .await;
                }
                .instrument(span),
            );
        }
        tracing::info!(protocol = self.protocol, "stopped accepting");
    }
}
