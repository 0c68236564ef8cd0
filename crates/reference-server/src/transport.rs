//! The server's connections, as a server facing the internet needs them: every connection has a
//! deadline for whatever it is waiting for, their number is capped, every answer, also those
//! hyper writes for malformed HTTP, is the error envelope, and a stop finishes the requests under
//! way within a deadline, whatever the clients do.
//!
//! A connection is in one of three phases. *Idle*: no request under way (just accepted, or its
//! last answer given); it is closed after the idle timeout. *Head*: the first byte of a request
//! arrived; the whole head must arrive within the header timeout. *Busy*: the head was read and
//! the router has the request; its body must arrive within the body timeout (the router then
//! answers 408), and the router's own work has no deadline.

use std::{
    io,
    pin::Pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    task::{Context, Poll, ready},
    time::Duration,
};

use axum::{Router, body::Body};
use bytes::Bytes;
use http::{HeaderValue, header};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::TokioIo;
use nexudus_server_api::BodyTimedOut;
use serde_json::Value;
use tokio::{
    io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{Notify, Semaphore},
    task::JoinSet,
    time::{Instant, Sleep},
};
use tower::ServiceExt as _;

use crate::envelope;

/// The largest request head read, in bytes: room for a request target of 65,534 bytes (the
/// longest hyper reads; longer is 414) and its headers.
pub const HEAD_LIMIT: usize = 128 * 1024;

/// How long a connection may take for each thing it does, how many may be open, and how long a
/// stop may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// From a request's first byte to the end of its head.
    pub header_timeout: Duration,
    /// From the end of a request's head to the end of its body.
    pub body_timeout: Duration,
    /// How long a connection with no request under way stays open.
    pub idle_timeout: Duration,
    /// Connections open at once; past it, new ones are answered 503 and closed.
    pub max_connections: usize,
    /// How long a stop waits for the requests under way before closing their connections.
    pub shutdown_deadline: Duration,
}

impl Default for Limits {
    /// Generous for a local test peer (a debugger paused on a request for a few seconds keeps
    /// its connection), tight enough that slow and idle clients cannot pile up.
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 10_000,
            shutdown_deadline: Duration::from_secs(5),
        }
    }
}

/// Accepts connections on `listener` and serves `router` on each until `shutdown` completes;
/// then stops accepting, lets the requests under way finish for up to
/// [`Limits::shutdown_deadline`] and closes every connection still open.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    // Refusals write a few bytes and close; bounded so that a flood cannot hold more sockets.
    let refusals = Arc::new(Semaphore::new(64));
    let past_the_cap = refusal(limits.max_connections);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    // Timing is this module's (hyper's header timeout also runs while a connection is idle).
    http.keep_alive(true)
        // A head must fit in this (431 otherwise); hyper's default, about 400 KiB, is checked
        // only between reads, so a 500 KB head that arrived in a few large reads got through.
        .max_buf_size(HEAD_LIMIT);
    tokio::pin!(shutdown);
    loop {
        while connections.try_join_next().is_some() {}
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors, mostly: wait for some to close rather than spin.
                    tracing::warn!(%error, "accepting a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            if let Ok(permit) = Arc::clone(&refusals).try_acquire_owned() {
                tokio::spawn(refuse(stream, past_the_cap.clone(), permit));
            }
            continue;
        };
        let _ = stream.set_nodelay(true);
        let watch = Arc::new(Watch::new());
        let io = TokioIo::new(Watched {
            stream,
            watch: Arc::clone(&watch),
            replacing: None,
            classified: false,
        });
        let service = {
            let watch = Arc::clone(&watch);
            let router = router.clone();
            hyper::service::service_fn(move |request: http::Request<Incoming>| {
                let watch = Arc::clone(&watch);
                let router = router.clone();
                async move {
                    watch.busy();
                    if hyper::body::Body::is_end_stream(request.body()) {
                        let response = router.oneshot(request.map(Body::new)).await;
                        watch.answered();
                        return response;
                    }
                    let finished = Arc::new(AtomicBool::new(false));
                    let request = request.map(|body| {
                        Body::new(Deadline {
                            body,
                            deadline: Box::pin(tokio::time::sleep(limits.body_timeout)),
                            after: limits.body_timeout,
                            finished: Arc::clone(&finished),
                        })
                    });
                    let mut response = router.oneshot(request).await.unwrap_or_else(|e| match e {});
                    if !finished.load(Ordering::Acquire) {
                        // The body is left unread, so the connection cannot carry another request:
                        // say so, or a pooled client would send its next request on it.
                        response
                            .headers_mut()
                            .insert(header::CONNECTION, HeaderValue::from_static("close"));
                    }
                    watch.answered();
                    Ok::<_, std::convert::Infallible>(response)
                }
            })
        };
        let connection = graceful.watch(http.serve_connection(io, service));
        connections.spawn(async move {
            let _permit = permit;
            tokio::select! {
                result = connection => {
                    if let Err(error) = result {
                        tracing::debug!(%error, "connection ended");
                    }
                }
                () = watch.expired(&limits) => tracing::debug!("connection timed out"),
            }
        });
    }
    drop(listener);
    let open = connections.len();
    if tokio::time::timeout(limits.shutdown_deadline, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            open,
            deadline_s = limits.shutdown_deadline.as_secs_f64(),
            "stop deadline passed: closing the connections still open"
        );
    }
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}

/// The answer to a connection past the cap: 503 and the envelope, closing.
fn refusal(cap: usize) -> Bytes {
    let body = envelope_json(
        envelope::SERVER,
        Value::Null,
        &format!("is at its limit of {cap} open connections: try again shortly"),
    );
    Bytes::from(format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json; charset=utf-8\r\n\
         content-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    ))
}

/// Answers a connection past the cap with `response` and closes it, without reading its request.
async fn refuse(
    mut stream: TcpStream,
    response: Bytes,
    _permit: tokio::sync::OwnedSemaphorePermit,
) {
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        stream.write_all(&response).await?;
        // Read what the client sent before closing, so that the close is not a reset that could
        // destroy the answer before the client reads it.
        let mut sink = [0u8; 1024];
        while stream.read(&mut sink).await? > 0 {}
        io::Result::Ok(())
    })
    .await;
}

/// The envelope with one entry, as JSON text.
fn envelope_json(property: &str, attempted: Value, message: &str) -> String {
    serde_json::to_string(&envelope::envelope(vec![envelope::error(
        property, attempted, message,
    )]))
    .expect("an envelope serialises")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    Head,
    Busy,
}

/// What a connection is doing and since when, shared by its reader, its service and its
/// watchdog.
struct Watch {
    state: Mutex<(Phase, Instant)>,
    changed: Notify,
    /// Answers the router gave that hyper has not started writing yet: a response head written
    /// while there is none is one hyper wrote on its own, for malformed HTTP.
    due: AtomicUsize,
}

impl Watch {
    fn new() -> Self {
        Self {
            state: Mutex::new((Phase::Idle, Instant::now())),
            changed: Notify::new(),
            due: AtomicUsize::new(0),
        }
    }

    /// The router has the request. No wake-up: a deadline only moves later, and the watchdog
    /// that wakes at one and finds the connection busy waits for [`Self::answered`].
    fn busy(&self) {
        *self.state.lock().expect("not poisoned") = (Phase::Busy, Instant::now());
    }

    /// Bytes arrived: an idle connection starts a request.
    fn read(&self) {
        let mut state = self.state.lock().expect("not poisoned");
        if state.0 == Phase::Idle {
            *state = (Phase::Head, Instant::now());
            drop(state);
            self.changed.notify_one();
        }
    }

    fn answered(&self) {
        self.due.fetch_add(1, Ordering::AcqRel);
        *self.state.lock().expect("not poisoned") = (Phase::Idle, Instant::now());
        self.changed.notify_one();
    }

    /// Whether a response head about to be written is one the router gave.
    fn take_due(&self) -> bool {
        self.due
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |due| {
                due.checked_sub(1)
            })
            .is_ok()
    }

    /// Completes when the connection has been idle, or in a request's head, for longer than its
    /// limit allows.
    async fn expired(&self, limits: &Limits) {
        loop {
            let (phase, since) = *self.state.lock().expect("not poisoned");
            let limit = match phase {
                Phase::Idle => limits.idle_timeout,
                Phase::Head => limits.header_timeout,
                Phase::Busy => {
                    self.changed.notified().await;
                    continue;
                }
            };
            tokio::select! {
                () = tokio::time::sleep_until(since + limit) => {
                    if *self.state.lock().expect("not poisoned") == (phase, since) {
                        return;
                    }
                }
                () = self.changed.notified() => {}
            }
        }
    }
}

/// A request body (hyper's `Incoming`) that must end by a deadline, and says whether it was read
/// to its end.
struct Deadline<B = Incoming> {
    body: B,
    deadline: Pin<Box<Sleep>>,
    after: Duration,
    finished: Arc<AtomicBool>,
}

impl<B> hyper::body::Body for Deadline<B>
where
    B: hyper::body::Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match Pin::new(&mut self.body).poll_frame(cx) {
            Poll::Ready(None) => {
                self.finished.store(true, Ordering::Release);
                Poll::Ready(None)
            }
            Poll::Ready(Some(frame)) => {
                if self.body.is_end_stream() {
                    self.finished.store(true, Ordering::Release);
                }
                Poll::Ready(Some(frame.map_err(Into::into)))
            }
            Poll::Pending => {
                ready!(self.deadline.as_mut().poll(cx));
                Poll::Ready(Some(Err(BodyTimedOut { after: self.after }.into())))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The socket, seen by the watch (bytes in start a request) and with hyper's own answers to
/// malformed HTTP rewritten as the error envelope.
struct Watched {
    stream: TcpStream,
    watch: Arc<Watch>,
    /// A rewritten answer being written: (bytes, written so far, length of what it replaces).
    replacing: Option<(Vec<u8>, usize, usize)>,
    /// Whether the head at the start of the buffer hyper is writing was already looked at.
    classified: bool,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.stream).poll_read(cx, buf))?;
        if buf.filled().len() > before {
            self.watch.read();
        }
        Poll::Ready(Ok(()))
    }
}

impl Watched {
    /// Looks at a buffer hyper starts to write: a response head hyper wrote on its own, for
    /// malformed HTTP, is replaced by the envelope.
    fn classify(&mut self, buf: &[u8]) {
        if self.replacing.is_some() || self.classified || !buf.starts_with(b"HTTP/1.") {
            return;
        }
        self.classified = true;
        let status = status_of(buf);
        let informational = status.is_some_and(|status| status < 200);
        if !informational && !self.watch.take_due() {
            self.replacing = status
                .and_then(|status| enveloped(status, buf))
                .map(|bytes| (bytes, 0, buf.len()));
        }
    }

    /// Writes the replacement, then reports the replaced head as written.
    fn poll_replacing(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let Some((bytes, written, replaced)) = &mut self.replacing else {
            return Poll::Ready(Ok(0));
        };
        while *written < bytes.len() {
            let n = ready!(Pin::new(&mut self.stream).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Ok(0));
            }
            *written += n;
        }
        let replaced = *replaced;
        self.replacing = None;
        self.classified = false;
        Poll::Ready(Ok(replaced))
    }

    fn written(&mut self, written: io::Result<usize>) -> Poll<io::Result<usize>> {
        self.classified = false;
        Poll::Ready(written)
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        this.classify(buf);
        if this.replacing.is_some() {
            return this.poll_replacing(cx);
        }
        let written = ready!(Pin::new(&mut this.stream).poll_write(cx, buf));
        this.written(written)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        // A response head comes first, in a buffer of its own.
        if let Some(first) = bufs.iter().find(|buf| !buf.is_empty()) {
            this.classify(first);
        }
        if this.replacing.is_some() {
            return this.poll_replacing(cx);
        }
        let written = ready!(Pin::new(&mut this.stream).poll_write_vectored(cx, bufs));
        this.written(written)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// The status of a response head (`HTTP/1.1 431 ...`).
fn status_of(head: &[u8]) -> Option<u16> {
    std::str::from_utf8(head.get(9..12)?).ok()?.parse().ok()
}

/// The envelope version of an answer hyper wrote on its own (an error status, no body), keeping
/// its `date`; `None` for anything else.
fn enveloped(status: u16, head: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(head).ok()?;
    let end = text.find("\r\n\r\n")?;
    let lines: Vec<&str> = text[..end].split("\r\n").collect();
    let empty = lines
        .iter()
        .any(|line| line.eq_ignore_ascii_case("content-length: 0"));
    if status < 400 || !empty || end + 4 != text.len() {
        return None;
    }
    let (property, message) = match status {
        414 => ("$path", "is longer than the server reads"),
        431 => ("$headers", "are larger than the server reads"),
        _ => ("$request", "is not a valid HTTP/1.1 request"),
    };
    let body = envelope_json(property, Value::Null, message);
    let mut answer = format!(
        "{}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: {}\r\n\
         connection: close\r\n",
        lines[0],
        body.len()
    );
    for line in &lines[1..] {
        if line
            .get(..5)
            .is_some_and(|name| name.eq_ignore_ascii_case("date:"))
        {
            answer.push_str(line);
            answer.push_str("\r\n");
        }
    }
    answer.push_str("\r\n");
    answer.push_str(&body);
    Some(answer.into_bytes())
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt as _;

    use super::*;

    fn deadline<B>(body: B, after: Duration) -> (Deadline<B>, Arc<AtomicBool>) {
        let finished = Arc::new(AtomicBool::new(false));
        let body = Deadline {
            body,
            deadline: Box::pin(tokio::time::sleep(after)),
            after,
            finished: Arc::clone(&finished),
        };
        (body, finished)
    }

    /// The body passes on what it wraps and its hints (its length, whether it has ended), and
    /// says when it was read to its end.
    #[tokio::test]
    async fn a_body_in_time_is_passed_on_with_its_hints() {
        use hyper::body::Body as _;

        let (mut body, finished) = deadline(
            http_body_util::Full::new(Bytes::from_static(b"hello")),
            Duration::from_secs(5),
        );
        assert_eq!(body.size_hint().exact(), Some(5));
        assert!(!body.is_end_stream());
        let frame = body.frame().await.unwrap().unwrap();
        assert_eq!(frame.into_data().unwrap(), "hello");
        assert!(body.is_end_stream());
        assert!(finished.load(Ordering::Acquire));
        assert!(body.frame().await.is_none());
    }

    /// A body that never sends a frame.
    struct Stalled;

    impl hyper::body::Body for Stalled {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            Poll::Pending
        }
    }

    /// A body still arriving at its deadline ends in `BodyTimedOut`, and is not finished.
    #[tokio::test]
    async fn a_body_past_its_deadline_times_out() {
        let (stalled, finished) = deadline(Stalled, Duration::from_millis(100));
        let error = stalled.collect().await.unwrap_err();
        let timed_out = error.downcast_ref::<BodyTimedOut>().unwrap();
        assert_eq!(timed_out.after, Duration::from_millis(100));
        assert!(!finished.load(Ordering::Acquire));
    }

    #[test]
    fn hyper_answers_to_malformed_http_become_envelopes() {
        let head = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: Mon, 30 Nov 2026 10:00:00 GMT\r\n\r\n";
        let answer = String::from_utf8(enveloped(431, head).unwrap()).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(head.contains("\r\nconnection: close"));
        assert!(head.contains("\r\ndate: Mon, 30 Nov 2026 10:00:00 GMT"));
        assert!(head.contains(&format!("\r\ncontent-length: {}", body.len())));
        let body: Value = serde_json::from_str(body).unwrap();
        assert_eq!(
            body["Message"],
            "$headers: are larger than the server reads"
        );
        // hyper's other headers are not kept: the envelope's own length replaces its zero.
        assert!(!head.contains("content-length: 0"));
        let bad = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nx-hyper: 1\r\n\r\n";
        let answer = String::from_utf8(enveloped(400, bad).unwrap()).unwrap();
        assert!(!answer.contains("x-hyper"));
        assert!(answer.contains("\"$request: is not a valid HTTP/1.1 request\""));
        // Answers with a body, successes and informational ones, and writes holding more than
        // one head are left alone.
        assert_eq!(
            enveloped(
                400,
                b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}"
            ),
            None
        );
        assert_eq!(
            enveloped(
                400,
                b"HTTP/1.1 400 Bad Request\r\ncontent-length: 5\r\n\r\n"
            ),
            None
        );
        assert_eq!(
            enveloped(204, b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n"),
            None
        );
        assert_eq!(status_of(b"HTTP/1.1 100 Continue\r\n\r\n"), Some(100));
    }
}
