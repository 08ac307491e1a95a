//! The printed report: the figures, then pass or fail for each target.

use std::time::Duration;

use crate::argon;
use crate::guards::{self, GuardMeasurements};
use crate::load::Outcome;
use crate::options::Options;
use crate::run::{Measurements, Memory};
use crate::sessions::{self, SessionMeasurements};

/// `/auth/me` must reach this share of the bare handler's throughput.
const ME_SHARE_TARGET: f64 = 0.80;
/// `/auth/me` p99 latency must stay below this at 128 connections, in milliseconds.
const ME_P99_TARGET_MS: f64 = 20.0;
/// The login rate must reach this share of `cores / verify_time`.
const LOGIN_SHARE_TARGET: f64 = 0.80;
/// A CPU busy share above this before the run means other work shares the CPUs.
const BUSY_SHARE: f64 = 0.10;
/// The example's RSS at rest must stay below this, in MiB.
const RSS_AT_REST_TARGET_MIB: f64 = 20.0;
/// The p99 of `/auth/me` during a login storm must stay within this factor of its p99
/// without the storm.
const STORM_P99_FACTOR: f64 = 2.0;

/// The machine and how the benchmark shares it.
#[derive(Debug)]
pub(crate) struct Machine {
    /// CPUs this process may use before any pinning.
    pub(crate) cpus: usize,
    pub(crate) cpu_model: String,
    /// CPUs the servers may use: all of them, or CPU 0 alone with `--pin`.
    pub(crate) server_cpus: usize,
    /// The share of all CPUs that other processes kept busy over one second before the run,
    /// from `/proc/stat`.
    pub(crate) busy_before: Option<f64>,
}

impl Machine {
    /// Reads the CPU count and model; call it before pinning this process.
    pub(crate) fn read(options: &Options) -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find_map(|line| line.strip_prefix("model name"))
                    .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
            })
            .unwrap_or_else(|| "unknown".to_owned());
        Self {
            cpus,
            cpu_model,
            server_cpus: if options.pin { 1 } else { cpus },
            busy_before: cpu_busy_share(),
        }
    }
}

/// Measures the share of CPU time spent outside idle and I/O wait over the next second,
/// from the `cpu` line of `/proc/stat`.
fn cpu_busy_share() -> Option<f64> {
    let first = cpu_times()?;
    std::thread::sleep(Duration::from_secs(1));
    let second = cpu_times()?;
    let total = second.0.checked_sub(first.0)?;
    let idle = second.1.checked_sub(first.1)?;
    (total > 0).then(|| 1.0 - idle as f64 / total as f64)
}

/// Reads the total and the idle-plus-iowait jiffies of all CPUs.
fn cpu_times() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    let line = text.lines().find(|line| line.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|field| field.parse().ok())
        .collect();
    let idle = fields.get(3)? + fields.get(4)?;
    Some((fields.iter().sum(), idle))
}

/// Prints the whole report on stdout.
pub(crate) fn print(machine: &Machine, options: &Options, m: &Measurements) {
    print_setup(machine, options);
    print_me(options, m);
    if let Some(guards) = &m.guards {
        print_guards(options, guards);
    }
    let login_target = print_login(machine, options, m);
    if let Some(sessions) = &m.sessions {
        print_sessions(options, sessions);
    }
    print_memory(m);
    print_targets(m, login_target);
}

fn print_setup(machine: &Machine, options: &Options) {
    if options.guards {
        println!("fastauth benchmark: the basic and rbac examples (SQLite) on 127.0.0.1");
    } else {
        println!("fastauth benchmark: the basic example (SQLite) on 127.0.0.1");
    }
    println!("machine: {} CPUs, {}", machine.cpus, machine.cpu_model);
    if let Some(busy) = machine.busy_before {
        println!("CPU busy over 1 s before the run: {:.0} %", busy * 100.0);
        if busy > BUSY_SHARE {
            println!(
                "warning: other processes were busy before the run, so every figure below \
                 may be low: rerun on an idle machine"
            );
        }
    }
    if options.pin {
        println!(
            "placement: servers pinned to CPU 0, load generator pinned to CPU 1 \
             ({} tokio worker threads)",
            options.client_threads
        );
    } else {
        println!(
            "placement: unpinned; the load generator ({} tokio worker threads) shares all \
             {} CPUs with the server under test, so the throughputs below are lower than the \
             server alone would reach",
            options.client_threads, machine.cpus
        );
    }
    let loads = if options.guards {
        "/auth/me and each rbac route"
    } else {
        "/auth/me"
    };
    println!(
        "windows: {} s warm-up, then {} s measured, per run; {loads}: {} rounds per server, \
         alternating, added up",
        options.warmup.as_secs(),
        options.duration.as_secs(),
        options.rounds
    );
    println!();
}

fn print_me(options: &Options, m: &Measurements) {
    println!(
        "GET /auth/me with a valid access token, {} keep-alive connections",
        options.connections
    );
    println!(
        "  {:<14} {:>12} {:>9} {:>9} {:>8}",
        "server", "requests/s", "p50 ms", "p99 ms", "errors"
    );
    print_row("fastauth", &m.fastauth_me);
    print_row("bare handler", &m.bare_me);
    println!(
        "  fastauth reaches {:.1} % of the bare handler's throughput",
        share(&m.fastauth_me, &m.bare_me) * 100.0
    );
    print_first_error("fastauth", &m.fastauth_me);
    print_first_error("bare handler", &m.bare_me);
    println!();
}

/// Prints the rbac example's routes side by side, each with its share of `/auth/me`'s
/// throughput on the same server.
fn print_guards(options: &Options, measurements: &GuardMeasurements) {
    println!(
        "rbac example with roles in access tokens: GET with the admin's access token, {} \
         keep-alive connections",
        options.connections
    );
    println!(
        "  {:<18} {:<13} {:>12} {:>9} {:>9} {:>8} {:>13}",
        "route", "guard", "requests/s", "p50 ms", "p99 ms", "errors", "of /auth/me"
    );
    let rows = [
        ("/auth/me", "none", &measurements.me),
        (guards::ROLE_ROUTE, "HasRole", &measurements.role),
        (guards::CLAIMS_ROUTE, "HasRoleClaim", &measurements.claims),
    ];
    for (route, guard, outcome) in rows {
        println!(
            "  {route:<18} {guard:<13} {:>12.1} {:>9.2} {:>9.2} {:>8} {:>11.1} %",
            outcome.rate(),
            outcome.latency_ms(0.50),
            outcome.latency_ms(0.99),
            outcome.errors,
            share(outcome, &measurements.me) * 100.0
        );
    }
    println!(
        "  HasRole checks the roles loaded by /auth/me's one read; HasRoleClaim checks the \
         token's roles claim and reads nothing"
    );
    for (route, _, outcome) in rows {
        print_first_error(route, outcome);
    }
    println!();
}

/// Prints the login figures and returns the target rate in logins per second.
fn print_login(machine: &Machine, options: &Options, m: &Measurements) -> f64 {
    let verify_ms = millis(m.verify_time);
    let target = LOGIN_SHARE_TARGET * machine.server_cpus as f64 / m.verify_time.as_secs_f64();
    println!(
        "POST /auth/login with the correct password, {} keep-alive connections",
        options.login_connections
    );
    println!(
        "  {:<14} {:>12} {:>9} {:>9} {:>8}",
        "server", "logins/s", "p50 ms", "p99 ms", "errors"
    );
    print_row("fastauth", &m.login);
    print_first_error("fastauth", &m.login);
    println!(
        "  Argon2id verify at m={} KiB, t={}, p={}: median {verify_ms:.1} ms of {} in this \
         process",
        argon::MEMORY_KIB,
        argon::ITERATIONS,
        argon::PARALLELISM,
        options.argon2_samples
    );
    println!(
        "  target: {LOGIN_SHARE_TARGET} x {} CPUs / {verify_ms:.1} ms = {target:.1} logins/s",
        machine.server_cpus
    );
    println!();
    target
}

/// Prints refresh, the login storm and cookie mode.
fn print_sessions(options: &Options, s: &SessionMeasurements) {
    println!(
        "sessions on the basic example: POST /auth/refresh on {} connections, each rotating \
         its own session; GET /auth/me on {} connections",
        options.refresh_connections, options.connections
    );
    println!(
        "  {:<30} {:>12} {:>9} {:>9} {:>8}",
        "run", "requests/s", "p50 ms", "p99 ms", "errors"
    );
    let rows = [
        ("POST /auth/refresh", &s.refresh),
        ("GET /auth/me, no storm", &s.me_calm),
        ("GET /auth/me, login storm", &s.me_storm),
        ("POST /auth/login (the storm)", &s.storm_logins),
        ("GET /auth/me, cookie mode", &s.cookie_me),
    ];
    for (name, outcome) in rows {
        println!(
            "  {name:<30} {:>12.1} {:>9.2} {:>9.2} {:>8}",
            outcome.rate(),
            outcome.latency_ms(0.50),
            outcome.latency_ms(0.99),
            outcome.errors
        );
    }
    println!(
        "  the storm runs {} login connections on the same server during the second \
         /auth/me run",
        options.login_connections
    );
    for (name, outcome) in rows {
        print_first_error(name, outcome);
    }
    println!();
}

fn print_memory(m: &Measurements) {
    println!(
        "server memory, MiB (VmRSS at rest; peak VmHWM over the /auth/me runs, reset before them)"
    );
    println!(
        "  {:<14} {:>9} {:>9} {:>14}",
        "server", "at rest", "peak", "sampled max"
    );
    print_memory_row("fastauth", &m.fastauth_memory);
    print_memory_row("bare handler", &m.bare_memory);
    println!();
}

fn print_targets(m: &Measurements, login_target: f64) {
    let me_share = share(&m.fastauth_me, &m.bare_me);
    let p99 = m.fastauth_me.latency_ms(0.99);
    let login_rate = m.login.rate();
    let rest_mib = mib(m.fastauth_memory.at_rest_kib);

    println!("targets");
    verdict(
        me_share >= ME_SHARE_TARGET,
        &format!(
            "/auth/me >= {:.0} % of the bare handler: {:.1} %",
            ME_SHARE_TARGET * 100.0,
            me_share * 100.0
        ),
    );
    verdict(
        p99 < ME_P99_TARGET_MS,
        &format!("/auth/me p99 < {ME_P99_TARGET_MS} ms: {p99:.2} ms"),
    );
    verdict(
        login_rate >= login_target && m.login.errors == 0,
        &format!(
            "login >= {login_target:.1}/s with no errors: {login_rate:.1}/s, {} errors",
            m.login.errors
        ),
    );
    verdict(
        rest_mib < RSS_AT_REST_TARGET_MIB,
        &format!("RSS at rest < {RSS_AT_REST_TARGET_MIB} MiB: {rest_mib:.1} MiB"),
    );
    if let Some(s) = &m.sessions {
        verdict(
            sessions::storm_within(s, STORM_P99_FACTOR),
            &format!(
                "/auth/me p99 during a login storm <= {STORM_P99_FACTOR} x without: \
                 {:.2} ms against {:.2} ms",
                s.me_storm.latency_ms(0.99),
                s.me_calm.latency_ms(0.99)
            ),
        );
    }
}

fn print_row(name: &str, outcome: &Outcome) {
    println!(
        "  {name:<14} {:>12.1} {:>9.2} {:>9.2} {:>8}",
        outcome.rate(),
        outcome.latency_ms(0.50),
        outcome.latency_ms(0.99),
        outcome.errors
    );
}

fn print_first_error(name: &str, outcome: &Outcome) {
    if let Some(error) = &outcome.first_error {
        println!("  first error of {name}: {error}");
    }
}

fn print_memory_row(name: &str, memory: &Memory) {
    let peak = memory
        .peak_kib
        .map_or_else(|| "n/a".to_owned(), |kib| format!("{:.1}", mib(kib)));
    println!(
        "  {name:<14} {:>9.1} {peak:>9} {:>14.1}",
        mib(memory.at_rest_kib),
        mib(memory.sampled_max_kib)
    );
}

fn verdict(passed: bool, text: &str) {
    let word = if passed { "PASS" } else { "FAIL" };
    println!("  {word}  {text}");
}

/// The throughput of `measured` over that of `reference`; 0 when `reference` served nothing.
fn share(measured: &Outcome, reference: &Outcome) -> f64 {
    let reference_rate = reference.rate();
    if reference_rate > 0.0 {
        measured.rate() / reference_rate
    } else {
        0.0
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1_000.0
}
