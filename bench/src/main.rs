//! Load benchmark of fastauth's basic and rbac examples on loopback.
//!
//! `cargo run --release -p fastauth-bench` builds the examples and starts each with a fresh
//! SQLite file. It measures `GET /auth/me` and `POST /auth/login`, times one Argon2id
//! verification and reads the server's memory use. Then it runs the same `/auth/me` load
//! against a bare axum handler doing the same token check and read. Last, it loads the rbac
//! example's `/auth/me` and its two admin-only routes, one behind a role guard that reads
//! the roles with the user and one behind a guard that checks only the token's claims.
//! Unless run with `--no-sessions`, it also measures refresh-token rotation, `/auth/me` during a
//! storm of logins against `/auth/me` alone, and `/auth/me` on the basic example started in
//! cookie mode.
//! BENCHMARKS.md explains each figure.
#![allow(
    clippy::print_stdout,
    reason = "the report on stdout is what this program is for"
)]

mod argon;
mod bare;
mod guards;
mod load;
mod options;
mod report;
mod run;
mod server;
mod sessions;

use std::process::ExitCode;

use options::Command;

fn main() -> ExitCode {
    let command = match options::parse(std::env::args().skip(1)) {
        Ok(command) => command,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };

    let result = match command {
        Command::Help => {
            println!("{}", options::USAGE);
            Ok(())
        }
        Command::BareServer => serve_bare(),
        Command::Bench(options) => bench(&options),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the reference server on a runtime like `#[tokio::main]`'s: one worker per CPU.
fn serve_bare() -> Result<(), String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the tokio runtime failed: {e}"))?
        .block_on(bare::serve())
}

/// Runs the benchmark on a runtime with `client_threads` workers, so the load generator
/// takes as little CPU from the servers as it can.
fn bench(options: &options::Options) -> Result<(), String> {
    let machine = report::Machine::read(options);
    if options.pin {
        // Threads inherit the affinity of the thread that creates them, so pinning this
        // thread before the runtime starts pins every worker.
        pin_self_to_cpu1(machine.cpus)?;
    }
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build of the load generator: run with --release");
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.client_threads)
        .enable_all()
        .build()
        .map_err(|e| format!("starting the tokio runtime failed: {e}"))?;
    let measurements = runtime.block_on(run::run(options))?;
    report::print(&machine, options, &measurements);
    Ok(())
}

fn pin_self_to_cpu1(cpus: usize) -> Result<(), String> {
    if cpus < 2 {
        return Err(format!(
            "--pin needs 2 or more CPUs, this machine has {cpus}"
        ));
    }
    let status = std::process::Command::new("taskset")
        .args(["-p", "-c", "1", &std::process::id().to_string()])
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("running taskset failed (is util-linux installed?): {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("taskset -p -c 1 failed: {status}"))
    }
}
