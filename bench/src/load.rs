//! The load generator: persistent HTTP/1.1 connections, each sending one request after
//! another for a fixed time, with latencies recorded in a histogram.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// A request that takes longer than this counts as an error and its connection is replaced.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// An upper bound on requests per connection, so no loop runs on if the clock misbehaves.
const MAX_REQUESTS_PER_CONNECTION: u64 = 10_000_000;
/// The largest latency the histogram records, in microseconds.
const MAX_LATENCY_MICROS: u64 = 60_000_000;

/// The one request every connection of a run repeats.
#[derive(Debug, Clone)]
pub(crate) struct RequestSpec {
    method: Method,
    path: &'static str,
    authorization: Option<HeaderValue>,
    /// A `Cookie` header.
    cookie: Option<HeaderValue>,
    /// A JSON body, sent with `Content-Type: application/json`.
    json: Option<Bytes>,
}

impl RequestSpec {
    /// Builds a `GET` with `Authorization: Bearer <token>`.
    pub(crate) fn get_with_bearer(path: &'static str, token: &str) -> Result<Self, String> {
        let authorization = HeaderValue::try_from(format!("Bearer {token}"))
            .map_err(|e| format!("the access token is not a valid header value: {e}"))?;
        Ok(Self {
            method: Method::GET,
            path,
            authorization: Some(authorization),
            cookie: None,
            json: None,
        })
    }

    /// Builds a `GET` with `Cookie: <name>=<value>`, as a browser sends it.
    pub(crate) fn get_with_cookie(
        path: &'static str,
        name: &str,
        value: &str,
    ) -> Result<Self, String> {
        let cookie = HeaderValue::try_from(format!("{name}={value}"))
            .map_err(|e| format!("the cookie is not a valid header value: {e}"))?;
        Ok(Self {
            method: Method::GET,
            path,
            authorization: None,
            cookie: Some(cookie),
            json: None,
        })
    }

    /// Returns the method and path, like `GET /auth/me`.
    pub(crate) fn request_line(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// Builds a `POST` of a JSON body.
    pub(crate) fn post_json(path: &'static str, body: &serde_json::Value) -> Self {
        Self {
            method: Method::POST,
            path,
            authorization: None,
            cookie: None,
            json: Some(Bytes::from(body.to_string())),
        }
    }
}

/// The requests of one connection: the same request again and again, or a request built
/// from the previous response, as a refresh that rotates its token.
pub(crate) trait Source: Send + 'static {
    /// Returns the next request to send.
    fn request(&self) -> &RequestSpec;

    /// Reads a successful response. An error ends the connection's loop, because its next
    /// request could not be built.
    fn observe(&mut self, body: &Bytes) -> Result<(), String>;

    /// Returns whether the loop goes on after a failed request. A source whose next request
    /// depends on the failed response returns false.
    fn continues_after_failure(&self) -> bool {
        true
    }
}

/// A source that repeats one request.
impl Source for Arc<RequestSpec> {
    fn request(&self) -> &RequestSpec {
        self
    }

    fn observe(&mut self, _body: &Bytes) -> Result<(), String> {
        Ok(())
    }
}

/// The shape of one load run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    pub(crate) connections: usize,
    pub(crate) warmup: Duration,
    pub(crate) duration: Duration,
}

/// The outcome of one load run, over the measured window only.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// Requests that got a 2xx status and started and finished inside the window.
    pub(crate) ok: u64,
    /// Requests started inside the window that failed: a non-2xx status, a connection
    /// error or a time-out.
    pub(crate) errors: u64,
    /// The first error seen, for the report.
    pub(crate) first_error: Option<String>,
    /// Latencies of the successful requests, in microseconds.
    pub(crate) latency: Histogram<u64>,
    pub(crate) window: Duration,
}

impl Outcome {
    /// No requests over a window of `window`.
    pub(crate) fn empty(window: Duration) -> Self {
        Self {
            ok: 0,
            errors: 0,
            first_error: None,
            latency: new_histogram(),
            window,
        }
    }

    /// Successful requests per second; 0 over an empty window.
    pub(crate) fn rate(&self) -> f64 {
        if self.window.is_zero() {
            return 0.0;
        }
        self.ok as f64 / self.window.as_secs_f64()
    }

    /// Adds the counts and latencies of another run of the same request.
    pub(crate) fn merge(&mut self, other: Outcome) {
        self.ok += other.ok;
        self.errors += other.errors;
        self.first_error = self.first_error.take().or(other.first_error);
        // Both histograms have the same bounds, so adding cannot fail.
        let _ = self.latency.add(&other.latency);
        self.window += other.window;
    }

    /// Returns the latency at `quantile` (0.5 for the median), in milliseconds.
    pub(crate) fn latency_ms(&self, quantile: f64) -> f64 {
        self.latency.value_at_quantile(quantile) as f64 / 1_000.0
    }
}

/// The measured window. A request counts when it starts at or after `start`, and a success
/// counts only when it also finishes by `end`.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    end: Instant,
}

/// The counts of one connection.
struct Tally {
    ok: u64,
    errors: u64,
    first_error: Option<String>,
    latency: Histogram<u64>,
}

impl Tally {
    fn new() -> Self {
        Self {
            ok: 0,
            errors: 0,
            first_error: None,
            latency: new_histogram(),
        }
    }

    fn error(&mut self, message: impl FnOnce() -> String) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(message());
        }
    }
}

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_MICROS, 3)
        .expect("1 µs to 60 s at 3 significant digits are valid histogram bounds")
}

/// Runs `plan.connections` connections against `addr` for the warm-up and then the
/// measured window, and merges what they counted.
pub(crate) async fn run(addr: SocketAddr, spec: &RequestSpec, plan: Plan) -> Outcome {
    let spec = Arc::new(spec.clone());
    let sources = (0..plan.connections).map(|_| Arc::clone(&spec)).collect();
    run_sources(addr, sources, plan).await
}

/// Runs one connection per source against `addr` for the warm-up and then the measured
/// window, and merges what they counted. `plan.connections` is ignored.
pub(crate) async fn run_sources<S: Source>(
    addr: SocketAddr,
    sources: Vec<S>,
    plan: Plan,
) -> Outcome {
    let start = Instant::now() + plan.warmup;
    let window = Window {
        start,
        end: start + plan.duration,
    };
    let tasks: Vec<_> = sources
        .into_iter()
        .map(|source| tokio::spawn(drive(addr, source, window)))
        .collect();

    let mut outcome = Outcome::empty(plan.duration);
    for task in tasks {
        match task.await {
            Ok(tally) => {
                outcome.ok += tally.ok;
                outcome.errors += tally.errors;
                outcome.first_error = outcome.first_error.or(tally.first_error);
                // Both histograms have the same bounds, so adding cannot fail.
                let _ = outcome.latency.add(&tally.latency);
            }
            Err(error) => {
                outcome.errors += 1;
                outcome
                    .first_error
                    .get_or_insert(format!("load task failed: {error}"));
            }
        }
    }
    outcome
}

/// Drives one connection: sends, awaits the whole response, and repeats until the window
/// ends.
async fn drive<S: Source>(addr: SocketAddr, mut source: S, window: Window) -> Tally {
    let mut tally = Tally::new();
    let mut sender: Option<SendRequest<Full<Bytes>>> = None;
    let host = addr.to_string();

    for _ in 0..MAX_REQUESTS_PER_CONNECTION {
        let started = Instant::now();
        if started >= window.end {
            break;
        }
        let measured = started >= window.start;

        let connection = match sender.as_mut() {
            Some(connection) => connection,
            None => match connect(addr).await {
                Ok(connection) => sender.insert(connection),
                Err(error) => {
                    if measured {
                        tally.error(|| error);
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };

        let spec = source.request();
        let result = tokio::time::timeout(REQUEST_TIMEOUT, exchange(connection, spec, &host));
        let finished_status = result.await;
        let finished = Instant::now();
        let mut failed = true;
        match finished_status {
            Ok(Ok((status, body))) if status.is_success() => {
                if measured && finished <= window.end {
                    tally.ok += 1;
                    let micros = u64::try_from(finished.duration_since(started).as_micros());
                    let _ = tally
                        .latency
                        .record(micros.unwrap_or(MAX_LATENCY_MICROS).max(1));
                }
                if let Err(error) = source.observe(&body) {
                    tally.error(|| error);
                    break;
                }
                failed = false;
            }
            Ok(Ok((status, _))) => {
                if measured {
                    tally.error(|| format!("{} {} returned {status}", spec.method, spec.path));
                }
            }
            Ok(Err(error)) => {
                if measured {
                    tally.error(|| format!("{} {} failed: {error}", spec.method, spec.path));
                }
                sender = None;
            }
            Err(_) => {
                if measured {
                    tally.error(|| format!("no response within {REQUEST_TIMEOUT:?}"));
                }
                sender = None;
            }
        }
        if failed && !source.continues_after_failure() {
            if !measured {
                tally.error(|| format!("{} failed during the warm-up", spec_line(&source)));
            }
            break;
        }
    }
    tally
}

fn spec_line<S: Source>(source: &S) -> String {
    source.request().request_line()
}

/// Opens one keep-alive HTTP/1.1 connection and drives it on its own task.
async fn connect(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>, String> {
    let stream = tokio::time::timeout(REQUEST_TIMEOUT, TcpStream::connect(addr))
        .await
        .map_err(|_| format!("connecting to {addr} timed out"))?
        .map_err(|e| format!("connecting to {addr} failed: {e}"))?;
    stream
        .set_nodelay(true)
        .map_err(|e| format!("setting TCP_NODELAY failed: {e}"))?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("HTTP/1.1 handshake with {addr} failed: {e}"))?;
    // The task ends when the sender is dropped or the server closes the connection.
    tokio::spawn(connection);
    Ok(sender)
}

/// Sends one request and reads its whole body.
async fn exchange(
    sender: &mut SendRequest<Full<Bytes>>,
    spec: &RequestSpec,
    host: &str,
) -> Result<(StatusCode, Bytes), hyper::Error> {
    sender.ready().await?;
    let response = sender.send_request(build_request(spec, host)).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, body))
}

fn build_request(spec: &RequestSpec, host: &str) -> Request<Full<Bytes>> {
    let mut builder = Request::builder()
        .method(spec.method.clone())
        .uri(spec.path)
        .header(header::HOST, host);
    if let Some(authorization) = &spec.authorization {
        builder = builder.header(header::AUTHORIZATION, authorization.clone());
    }
    if let Some(cookie) = &spec.cookie {
        builder = builder.header(header::COOKIE, cookie.clone());
    }
    let body = match &spec.json {
        Some(json) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            json.clone()
        }
        None => Bytes::new(),
    };
    builder
        .body(Full::new(body))
        .expect("the method, path and headers are valid")
}

/// Sends one request on a fresh connection and returns the status and the body.
pub(crate) async fn send_once(
    addr: SocketAddr,
    spec: &RequestSpec,
) -> Result<(StatusCode, Bytes), String> {
    let (status, _, body) = send_once_with_headers(addr, spec).await?;
    Ok((status, body))
}

/// Sends one request on a fresh connection and returns the status, the headers and the
/// body.
pub(crate) async fn send_once_with_headers(
    addr: SocketAddr,
    spec: &RequestSpec,
) -> Result<(StatusCode, HeaderMap, Bytes), String> {
    let mut sender = connect(addr).await?;
    let host = addr.to_string();
    let exchange = async {
        sender.ready().await?;
        let response = sender.send_request(build_request(spec, &host)).await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await?.to_bytes();
        Ok::<_, hyper::Error>((status, headers, body))
    };
    tokio::time::timeout(REQUEST_TIMEOUT, exchange)
        .await
        .map_err(|_| format!("{} {} timed out", spec.method, spec.path))?
        .map_err(|e| format!("{} {} failed: {e}", spec.method, spec.path))
}
