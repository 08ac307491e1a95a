//! The benchmark's steps, in order: Argon2 timing, the basic example's and the reference
//! server's `/auth/me` runs, the login run, the refresh run and the login storm, then the
//! rbac example's guarded routes and the basic example's `/auth/me` in cookie mode.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use hyper::StatusCode;
use serde_json::json;

use crate::guards::GuardMeasurements;
use crate::load::{self, Outcome, Plan, RequestSpec};
use crate::options::Options;
use crate::server::{Launch, ServerProcess};
use crate::sessions::SessionMeasurements;

/// How long a freshly started server idles before its resting RSS is read.
const SETTLE: Duration = Duration::from_secs(1);
/// How often RSS is sampled during a load run.
const RSS_SAMPLE_INTERVAL: Duration = Duration::from_millis(50);
/// An upper bound on RSS samples per server: 20 rounds of two one-hour windows.
const MAX_RSS_SAMPLES: u64 = 20 * 2 * 3_600 * 20;
const EMAIL: &str = "bench@example.com";
/// The password of every account the benchmark registers.
pub(crate) const PASSWORD: &str = "correct-horse-battery-staple-42";

/// A server's memory use, in KiB.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Memory {
    /// `VmRSS` after start and before any request.
    pub(crate) at_rest_kib: u64,
    /// `VmHWM` over the `/auth/me` runs, after resetting it; `None` when the kernel refused
    /// the reset.
    pub(crate) peak_kib: Option<u64>,
    /// The largest `VmRSS` sampled every 50 ms during the `/auth/me` runs.
    pub(crate) sampled_max_kib: u64,
}

/// Everything one benchmark run measured.
#[derive(Debug)]
pub(crate) struct Measurements {
    pub(crate) verify_time: Duration,
    pub(crate) fastauth_me: Outcome,
    pub(crate) fastauth_memory: Memory,
    pub(crate) login: Outcome,
    pub(crate) bare_me: Outcome,
    pub(crate) bare_memory: Memory,
    /// The rbac example's runs; `None` with `--no-guards`.
    pub(crate) guards: Option<GuardMeasurements>,
    /// Refresh, the login storm and cookie mode; `None` with `--no-sessions`.
    pub(crate) sessions: Option<SessionMeasurements>,
}

/// Runs every step; the servers are stopped on success and killed on any error.
pub(crate) async fn run(options: &Options) -> Result<Measurements, String> {
    let samples = options.argon2_samples;
    eprintln!("timing {samples} Argon2id verifications...");
    let verify_time =
        tokio::task::spawn_blocking(move || crate::argon::median_verify_time(samples))
            .await
            .map_err(|e| format!("the Argon2 task failed: {e}"))??;

    let packages: &[&str] = if options.guards {
        &["basic", "rbac"]
    } else {
        &["basic"]
    };
    eprintln!(
        "building the examples (cargo build --release -p {})...",
        packages.join(" -p ")
    );
    let mut programs = crate::server::build_examples(packages).await?.into_iter();
    let basic = programs
        .next()
        .ok_or("cargo build returned no executable")?;
    let rbac = programs.next();
    let own_exe =
        std::env::current_exe().map_err(|e| format!("locating this executable failed: {e}"))?;
    let scratch = tempfile::Builder::new()
        .prefix("fastauth-bench-")
        .tempdir()
        .map_err(|e| format!("creating a temporary folder failed: {e}"))?;
    let database_url = format!("sqlite://{}", scratch.path().join("bench.db").display());

    // The example creates the tables, so it starts first and the bare handler reads the
    // same file afterwards.
    let fastauth_log = scratch.path().join("basic.log");
    let fastauth = ServerProcess::start(&Launch {
        name: "basic example",
        program: &basic,
        args: &[],
        env: &[],
        database_url: &database_url,
        log_path: &fastauth_log,
        pin_to_cpu0: options.pin,
    })
    .await?;
    eprintln!(
        "basic example listening on {} (pid {})",
        fastauth.addr, fastauth.pid
    );
    tokio::time::sleep(SETTLE).await;
    let fastauth_rest = fastauth.rss_kib()?;
    let token = register(fastauth.addr, EMAIL).await?;

    let bare_log = scratch.path().join("bare.log");
    let bare = ServerProcess::start(&Launch {
        name: "bare handler",
        program: &own_exe,
        args: &["bare-server"],
        env: &[],
        database_url: &database_url,
        log_path: &bare_log,
        pin_to_cpu0: options.pin,
    })
    .await?;
    eprintln!("bare handler listening on {} (pid {})", bare.addr, bare.pid);
    tokio::time::sleep(SETTLE).await;
    let bare_rest = bare.rss_kib()?;

    let me = RequestSpec::get_with_bearer("/auth/me", &token)?;
    check_ok(fastauth.addr, &me).await?;
    check_ok(bare.addr, &me).await?;
    let me_plan = Plan {
        connections: options.connections,
        warmup: options.warmup,
        duration: options.duration,
    };
    let (fastauth_me, fastauth_memory, bare_me, bare_memory) = {
        let fastauth_watch = MemoryWatch::start(&fastauth, fastauth_rest);
        let bare_watch = MemoryWatch::start(&bare, bare_rest);
        let [fastauth_me, bare_me] =
            alternate_runs([(&fastauth, &me), (&bare, &me)], me_plan, options.rounds).await;
        let fastauth_memory = fastauth_watch.finish(&fastauth).await?;
        let bare_memory = bare_watch.finish(&bare).await?;
        (fastauth_me, fastauth_memory, bare_me, bare_memory)
    };
    bare.stop().await;

    let login_body = json!({ "email": EMAIL, "password": PASSWORD });
    let login = RequestSpec::post_json("/auth/login", &login_body);
    let login_plan = Plan {
        connections: options.login_connections,
        ..me_plan
    };
    eprintln!(
        "POST /auth/login, {} connections...",
        login_plan.connections
    );
    let login_outcome = load::run(fastauth.addr, &login, login_plan).await;
    // On an error the server is killed when it is dropped.
    let bearer_runs = if options.sessions {
        Some(crate::sessions::run_bearer(options, fastauth.addr, &me, &login).await?)
    } else {
        None
    };
    fastauth.stop().await;
    let login = login_outcome;

    let guards = match rbac {
        Some(rbac) => Some(crate::guards::run(options, &rbac, scratch.path()).await?),
        None => None,
    };
    let sessions = match bearer_runs {
        Some(runs) => {
            let cookie_me = crate::sessions::run_cookie(options, &basic, scratch.path()).await?;
            Some(SessionMeasurements {
                refresh: runs.refresh,
                me_calm: runs.me_calm,
                me_storm: runs.me_storm,
                storm_logins: runs.storm_logins,
                cookie_me,
            })
        }
        None => None,
    };

    Ok(Measurements {
        verify_time,
        fastauth_me,
        fastauth_memory,
        login,
        bare_me,
        bare_memory,
        guards,
        sessions,
    })
}

/// Runs each pair's load `rounds` times, in the given order within each round, so a slow
/// phase of the machine weighs on every pair alike. Returns each pair's counts added up.
pub(crate) async fn alternate_runs<const N: usize>(
    pairs: [(&ServerProcess, &RequestSpec); N],
    plan: Plan,
    rounds: usize,
) -> [Outcome; N] {
    let mut totals: [Option<Outcome>; N] = std::array::from_fn(|_| None);
    for round in 1..=rounds {
        for (total, (server, spec)) in totals.iter_mut().zip(pairs) {
            eprintln!(
                "{} on the {}, {} connections, round {round} of {rounds}...",
                spec.request_line(),
                server.name,
                plan.connections
            );
            let outcome = load::run(server.addr, spec, plan).await;
            match total {
                Some(total) => total.merge(outcome),
                None => *total = Some(outcome),
            }
        }
    }
    totals.map(|total| total.unwrap_or_else(|| Outcome::empty(Duration::ZERO)))
}

/// Registers an account with [`PASSWORD`] and returns its access token.
pub(crate) async fn register(addr: SocketAddr, email: &str) -> Result<String, String> {
    let body = json!({ "email": email, "password": PASSWORD });
    let spec = RequestSpec::post_json("/auth/register", &body);
    let (status, body) = load::send_once(addr, &spec).await?;
    if status != StatusCode::CREATED {
        let text = String::from_utf8_lossy(&body);
        return Err(format!("POST /auth/register returned {status}: {text}"));
    }
    let pair: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| format!("POST /auth/register returned invalid JSON: {e}"))?;
    pair["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "POST /auth/register returned no access_token".to_owned())
}

/// Sends the request once and fails unless the status is 200, so a broken setup stops the
/// benchmark before it measures error responses.
pub(crate) async fn check_ok(addr: SocketAddr, spec: &RequestSpec) -> Result<(), String> {
    let (status, body) = load::send_once(addr, spec).await?;
    if status == StatusCode::OK {
        Ok(())
    } else {
        let text = String::from_utf8_lossy(&body);
        Err(format!(
            "the check request {} to {addr} returned {status}: {text}",
            spec.request_line()
        ))
    }
}

/// Tracks a server's memory during a load: resets `VmHWM` and samples `VmRSS`.
struct MemoryWatch {
    at_rest_kib: u64,
    reset: bool,
    stop: Arc<AtomicBool>,
    sampled_max: Arc<AtomicU64>,
    sampler: tokio::task::JoinHandle<()>,
}

impl MemoryWatch {
    fn start(server: &ServerProcess, at_rest_kib: u64) -> Self {
        let reset = match server.reset_peak_rss() {
            Ok(()) => true,
            Err(error) => {
                eprintln!("warning: VmHWM not reset, only sampled RSS is reported: {error}");
                false
            }
        };
        let stop = Arc::new(AtomicBool::new(false));
        let sampled_max = Arc::new(AtomicU64::new(at_rest_kib));
        let sampler = tokio::spawn(sample_rss(
            server.pid,
            Arc::clone(&stop),
            Arc::clone(&sampled_max),
            MAX_RSS_SAMPLES,
        ));
        Self {
            at_rest_kib,
            reset,
            stop,
            sampled_max,
            sampler,
        }
    }

    async fn finish(self, server: &ServerProcess) -> Result<Memory, String> {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.sampler.await;
        let peak_kib = if self.reset {
            Some(server.peak_rss_kib()?)
        } else {
            None
        };
        Ok(Memory {
            at_rest_kib: self.at_rest_kib,
            peak_kib,
            sampled_max_kib: self.sampled_max.load(Ordering::Relaxed),
        })
    }
}

async fn sample_rss(pid: u32, stop: Arc<AtomicBool>, max_kib: Arc<AtomicU64>, limit: u64) {
    for _ in 0..limit {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        if let Ok(kib) = crate::server::proc_status_kib(pid, "VmRSS:") {
            max_kib.fetch_max(kib, Ordering::Relaxed);
        }
        tokio::time::sleep(RSS_SAMPLE_INTERVAL).await;
    }
}
