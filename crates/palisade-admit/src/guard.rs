//! Connections the webhook accepts, and how long it keeps them: a cap on how many are open at
//! once (past it, new ones are closed at once rather than queued), and an idle timeout on
//! every connection, from its first byte (a TLS handshake that never comes) to a keep-alive
//! connection nobody uses. Without them a few thousand silent connections take the pod past
//! its memory limit, and with `failurePolicy: Fail` that stops writes cluster-wide.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum_server::accept::Accept;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// Limits on the webhook's connections.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// Connections open at once; more are closed on arrival.
    pub max_connections: usize,
    /// A connection that moves no byte for this long is closed.
    pub idle: Duration,
    /// Request headers must arrive within this long (slow senders are cut off).
    pub headers: Duration,
    /// A request body must arrive within this long.
    pub body: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_connections: 512,
            idle: Duration::from_secs(30),
            headers: Duration::from_secs(10),
            body: Duration::from_secs(10),
        }
    }
}

/// The acceptor under TLS: takes a connection slot and puts the idle timeout on the stream.
#[derive(Clone)]
pub struct Guard {
    slots: Arc<Semaphore>,
    idle: Duration,
    refused: Arc<dyn Fn() + Send + Sync>,
}

impl Guard {
    /// `refused` is called for every connection closed because the cap was reached.
    pub fn new(limits: ConnectionLimits, refused: Arc<dyn Fn() + Send + Sync>) -> Self {
        Guard {
            slots: Arc::new(Semaphore::new(limits.max_connections.max(1))),
            idle: limits.idle,
            refused,
        }
    }
}

impl<I, S> Accept<I, S> for Guard
where
    I: AsyncRead + AsyncWrite + Unpin,
{
    type Stream = Guarded<I>;
    type Service = S;
    type Future = std::future::Ready<io::Result<(Guarded<I>, S)>>;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        let Ok(permit) = Arc::clone(&self.slots).try_acquire_owned() else {
            (self.refused)();
            return std::future::ready(Err(io::Error::other(
                "palisade: too many connections; this one is closed",
            )));
        };
        std::future::ready(Ok((Guarded::new(stream, self.idle, permit), service)))
    }
}

/// A stream that fails once it has moved no byte for `idle`, and gives its connection slot
/// back when dropped.
pub struct Guarded<I> {
    inner: I,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
    _slot: OwnedSemaphorePermit,
}

impl<I> Guarded<I> {
    fn new(inner: I, idle: Duration, slot: OwnedSemaphorePermit) -> Self {
        Guarded {
            inner,
            idle,
            deadline: Box::pin(tokio::time::sleep(idle)),
            _slot: slot,
        }
    }

    fn moved(&mut self) {
        self.deadline.as_mut().reset(Instant::now() + self.idle);
    }

    /// Pending IO: an error once the connection has been idle too long.
    fn check_idle<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "palisade: connection idle too long",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Guarded<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(result) => {
                if buf.filled().len() > before {
                    self.moved();
                }
                Poll::Ready(result)
            }
            Poll::Pending => self.check_idle(cx),
        }
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Guarded<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, buf) {
            Poll::Ready(result) => {
                if result.as_ref().is_ok_and(|n| *n > 0) {
                    self.moved();
                }
                Poll::Ready(result)
            }
            Poll::Pending => self.check_idle(cx),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
