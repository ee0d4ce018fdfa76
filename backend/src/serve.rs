//! The HTTP server under the router: what an internet-facing service must
//! bound that a router cannot see. Every connection gets `TCP_NODELAY`, a
//! deadline for its request head (which is also its idle keep-alive
//! timeout), a deadline for each request body, and a place among at most
//! `max_connections`; shutdown drains for `shutdown_deadline`, then closes
//! whatever is left.
//!
//! Each request carries its TCP peer as `ConnectInfo<SocketAddr>`, as
//! axum's own server would put it, so [`crate::auth::ClientAddr`] sees it.
//!
//! HTTP/1.1 only: nginx and WeChat speak HTTP/1.1 to us, and hyper's HTTP/2
//! server has no head or idle timeout to bound a held connection with.

use std::{future::Future, io, net::SocketAddr, sync::Arc, time::Duration};

use axum::{extract::ConnectInfo, Extension, Router};
use hyper::server::conn::http1;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::Semaphore, task::JoinSet};
use tower_http::timeout::RequestBodyTimeoutLayer;

use crate::config::ServerLimits;

/// The largest request head hyper buffers (its own bare 431 beyond);
/// the router answers JSON 414/431 for smaller but still too large heads.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Serves `app` on `listener` within `limits` until `shutdown` completes,
/// then drains (see the module doc). Returns once every connection is closed.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    // A body that stalls between two reads for the whole body timeout is cut
    // here (routes reading a body also bound the total, see `extract`).
    let service = tower::ServiceBuilder::new()
        .layer(RequestBodyTimeoutLayer::new(limits.body_timeout))
        .service(app);
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(MAX_HEAD_BYTES);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        // At the limit, stop accepting: new connections wait in the kernel's
        // backlog instead of costing a descriptor and a task each.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) if is_per_connection(&e) => continue,
                Err(e) => {
                    // Out of descriptors or memory: wait for some to free.
                    tracing::error!(error = %e, "accept failed; retrying in 1 s");
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                        () = &mut shutdown => break,
                    }
                }
            },
            () = &mut shutdown => break,
        };
        // Without it a response written in two pieces waits ~40 ms for the
        // peer's delayed ACK (Nagle).
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
        let with_peer = TowerToHyperService::new(
            tower::ServiceBuilder::new()
                .layer(Extension(ConnectInfo::<SocketAddr>(peer)))
                .service(service.clone()),
        );
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), with_peer));
        connections.spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection closed with an error");
            }
            drop(slot);
        });
        // Forget finished connections (at most `max_connections` of them).
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let open = graceful.count();
    tracing::info!(
        open,
        deadline_ms = limits.shutdown_deadline.as_millis() as u64,
        "shutting down: draining connections"
    );
    let drained = tokio::time::timeout(limits.shutdown_deadline, graceful.shutdown()).await;
    if drained.is_err() {
        tracing::warn!(
            left = connections.len(),
            "shutdown deadline reached; closing the connections still open"
        );
    }
    connections.shutdown().await;
    Ok(())
}

/// Accept errors that concern one connection only (it was reset before we
/// took it): just take the next one.
fn is_per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
