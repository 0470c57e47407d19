//! The accept loop: plain TCP or TLS (rustls), HTTP/1.1 and HTTP/2 through hyper-util, every
//! connection tracked for graceful shutdown. On SIGTERM/SIGINT the listener closes at once, every
//! connection finishes the requests it has in flight (up to the configured timeout), and the
//! process exits 0.
//!
//! # Slow and greedy clients
//! - Headers must arrive within `WRK_HEADER_TIMEOUT` (hyper closes the connection otherwise).
//! - A body must arrive whole within `WRK_BODY_TIMEOUT` of its headers, plus one second per
//!   [`BODY_GRACE_BYTES`] received (a large upload over a slow link still completes; a body
//!   dripping in a few bytes at a time does not). [`DeadlineBody`] fails the body when the
//!   deadline passes, and the request is answered `408 request_timeout` (problem+json) with
//!   `Connection: close`, whatever the handler made of the failed read.
//! - At most `WRK_MAX_CONNECTIONS_PER_IP` connections are open per client IP; one more is closed
//!   as soon as it is accepted (before any TLS handshake). A trusted proxy is not capped: it
//!   speaks for many clients.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::ApiError;
use crate::scope::PeerAddr;

/// Limits on slow and greedy clients (see the module docs).
#[derive(Debug, Clone)]
pub struct Limits {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    /// 0 = no cap.
    pub max_connections_per_ip: usize,
    /// Peers the cap does not apply to: the trusted proxies (`WRK_TRUSTED_PROXIES`), whose
    /// connections carry many clients each.
    pub uncapped: Vec<IpAddr>,
}

impl Limits {
    pub fn from_config(config: &crate::config::Config) -> Self {
        Self {
            header_timeout: Duration::from_secs(config.header_timeout),
            body_timeout: Duration::from_secs(config.body_timeout),
            max_connections_per_ip: config.max_connections_per_ip,
            uncapped: config.trusted_proxies.clone(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(30),
            max_connections_per_ip: 256,
            uncapped: Vec::new(),
        }
    }
}

/// Open connections per client IP.
#[derive(Debug, Default)]
struct PerIp {
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One counted connection; uncounted on drop.
struct Slot {
    table: Arc<PerIp>,
    ip: IpAddr,
}

impl PerIp {
    /// A slot for one more connection from `ip`, or None at the cap (0 = no cap).
    fn take(table: &Arc<PerIp>, ip: IpAddr, cap: usize) -> Option<Slot> {
        let mut open = table.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(ip).or_insert(0);
        if cap > 0 && *n >= cap {
            return None;
        }
        *n += 1;
        Some(Slot {
            table: table.clone(),
            ip,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.table.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// Each this many body bytes received push the body's deadline back by one second: a minimum
/// rate of 16 KiB/s once `WRK_BODY_TIMEOUT` is used up.
pub const BODY_GRACE_BYTES: u64 = 16 * 1024;

/// The body did not arrive in time.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
pub struct BodyTimedOut;

/// A request body that fails once its deadline passes before its end, and says so in `timed_out`.
pub struct DeadlineBody {
    inner: hyper::body::Incoming,
    deadline: Pin<Box<tokio::time::Sleep>>,
    timed_out: Arc<AtomicBool>,
    finished: bool,
}

impl hyper::body::Body for DeadlineBody {
    type Data = bytes::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        if this.finished {
            return Poll::Ready(None);
        }
        // Checked first, so a body dripping in byte by byte is cut off too.
        if this.deadline.as_mut().poll(cx).is_ready() {
            this.finished = true;
            this.timed_out.store(true, Ordering::Release);
            return Poll::Ready(Some(Err(Box::new(BodyTimedOut))));
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let grace = Duration::from_secs_f64(
                        bytes::Buf::remaining(data) as f64 / BODY_GRACE_BYTES as f64,
                    );
                    let later = this.deadline.deadline() + grace;
                    this.deadline.as_mut().reset(later);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(None) => {
                this.finished = true;
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(e))) => {
                this.finished = true;
                Poll::Ready(Some(Err(Box::new(e))))
            }
            other => other.map_err(|e| -> Self::Error { Box::new(e) }),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.finished || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// How long a TLS handshake may take before the connection is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Loads a rustls server config from PEM files, offering HTTP/2 and HTTP/1.1 by ALPN.
pub fn tls_acceptor(cert: &Path, key: &Path) -> anyhow::Result<TlsAcceptor> {
    let certs = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("cannot read TLS certificate {}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("invalid PEM in {}", cert.display()))?;
    anyhow::ensure!(
        !certs.is_empty(),
        "no certificate found in {}",
        cert.display()
    );
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("cannot read TLS private key {}", key.display()))?;
    let mut config = ServerConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .context("the TLS certificate and key do not match")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains connections for at most
/// `grace`. Returns when every connection is closed (or the grace period ran out).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
    limits: Limits,
) {
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(64 * 1024)
        // Above error::MAX_HEADERS so that the app, not hyper, refuses most oversized requests
        // (with a problem document); hyper's own 431 has no body.
        .max_headers(crate::error::HYPER_MAX_HEADERS);
    builder.http2().max_header_list_size(64 * 1024);
    let builder = Arc::new(builder);
    let per_ip = Arc::new(PerIp::default());
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // EMFILE and friends: back off briefly instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let cap = if limits.uncapped.contains(&peer.ip()) {
            0
        } else {
            limits.max_connections_per_ip
        };
        let Some(slot) = PerIp::take(&per_ip, peer.ip(), cap) else {
            tracing::debug!(%peer, "connection refused: too many open from this IP");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = service_for(app.clone(), peer, limits.body_timeout);
        let builder = builder.clone();
        match &tls {
            None => {
                let conn = builder
                    .serve_connection_with_upgrades(TokioIo::new(stream), service)
                    .into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _slot = slot;
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, %peer, "connection ended with an error");
                    }
                });
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    let _slot = slot;
                    let tls_stream = match tokio::time::timeout(
                        HANDSHAKE_TIMEOUT,
                        acceptor.accept(stream),
                    )
                    .await
                    {
                        Ok(Ok(s)) => s,
                        Ok(Err(e)) => {
                            tracing::debug!(error = %e, %peer, "TLS handshake failed");
                            return;
                        }
                        Err(_) => return,
                    };
                    let conn = builder
                        .serve_connection_with_upgrades(TokioIo::new(tls_stream), service)
                        .into_owned();
                    if let Err(e) = watcher.watch(conn).await {
                        tracing::debug!(error = %e, %peer, "connection ended with an error");
                    }
                });
            }
        }
    }
    drop(listener);
    tracing::info!("shutting down: no new connections, finishing requests in flight");
    // Event streams never finish on their own: end them so they do not hold up the drain.
    crate::routes::events::close_all();
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(grace) => {
            tracing::warn!(grace_secs = grace.as_secs(), "grace period over; closing remaining connections");
        }
    }
}

/// The per-connection service: the app, with the TCP peer recorded on every request and the
/// body under its deadline.
#[derive(Clone)]
struct ConnService {
    app: Router,
    peer: SocketAddr,
    body_timeout: Duration,
}

impl hyper::service::Service<http::Request<hyper::body::Incoming>> for ConnService {
    type Response = axum::response::Response;
    type Error = std::convert::Infallible;
    type Future =
        Pin<Box<dyn Future<Output = Result<axum::response::Response, Self::Error>> + Send>>;

    fn call(&self, req: http::Request<hyper::body::Incoming>) -> Self::Future {
        let timed_out = Arc::new(AtomicBool::new(false));
        let flag = timed_out.clone();
        let secs = self.body_timeout.as_secs();
        let deadline = self.body_timeout;
        let mut req = req.map(move |inner| {
            axum::body::Body::new(DeadlineBody {
                inner,
                deadline: Box::pin(tokio::time::sleep(deadline)),
                timed_out: flag,
                finished: false,
            })
        });
        req.extensions_mut().insert(PeerAddr(self.peer));
        let fut = tower::Service::call(&mut self.app.clone(), req);
        Box::pin(async move {
            let res = fut.await?;
            if timed_out.load(Ordering::Acquire) {
                tracing::info!(secs, "request body timed out");
                let mut res =
                    axum::response::IntoResponse::into_response(ApiError::RequestTimeout { secs });
                res.headers_mut().insert(
                    http::header::CONNECTION,
                    http::HeaderValue::from_static("close"),
                );
                return Ok(res);
            }
            Ok(res)
        })
    }
}

fn service_for(app: Router, peer: SocketAddr, body_timeout: Duration) -> ConnService {
    ConnService {
        app,
        peer,
        body_timeout,
    }
}

/// Resolves when the process is asked to stop (SIGTERM or SIGINT).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received"),
        () = term => tracing::info!("SIGTERM received"),
    }
}
