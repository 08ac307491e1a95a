//! Building, starting and stopping the servers under test, and reading their memory use.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, ChildStdout, Command};

/// How long a server may take from spawn to its `listening on` line. The example hashes
/// one dummy password and migrates the database before it binds.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The secret every server signs and verifies with: fixed, so the runs are repeatable.
pub(crate) const SECRET: &str = "fastauth-bench-secret-0123456789abcdef";

/// Builds the named example packages in release mode with one cargo command and returns
/// the path of each one's executable, in the order of `packages`.
///
/// Runs the same cargo that runs this benchmark, so `cargo run --release -p fastauth-bench`
/// is the only command a reader types.
pub(crate) async fn build_examples(packages: &[&str]) -> Result<Vec<PathBuf>, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("the bench crate has no parent folder")?;
    let mut command = Command::new(cargo);
    command.current_dir(workspace).args(["build", "--release"]);
    for package in packages {
        command.args(["-p", package]);
    }
    let output = command
        .arg("--message-format=json-render-diagnostics")
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .await
        .map_err(|e| format!("running cargo build failed: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo build --release -p {} failed: {}",
            packages.join(" -p "),
            output.status
        ));
    }

    let stdout = String::from_utf8_lossy(&output.stdout);
    let messages: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .filter(|message: &serde_json::Value| message["reason"] == "compiler-artifact")
        .collect();
    packages
        .iter()
        .map(|package| executable_of(&messages, package))
        .collect()
}

/// Finds the executable of the binary target named `name` among cargo's artifact messages.
fn executable_of(messages: &[serde_json::Value], name: &str) -> Result<PathBuf, String> {
    messages
        .iter()
        .filter(|message| message["target"]["name"] == name)
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| format!("cargo build reported no executable for the {name} example"))
}

/// How to launch one server.
#[derive(Debug)]
pub(crate) struct Launch<'a> {
    /// Shown in messages.
    pub(crate) name: &'static str,
    pub(crate) program: &'a Path,
    pub(crate) args: &'a [&'a str],
    /// Variables set besides `FASTAUTH_BIND`, `DATABASE_URL` and `FASTAUTH_SECRET`.
    pub(crate) env: &'a [(&'a str, &'a str)],
    pub(crate) database_url: &'a str,
    /// The file that receives standard error, so a chatty server cannot fill a pipe and block.
    pub(crate) log_path: &'a Path,
    /// Runs the server under `taskset -c 0`.
    pub(crate) pin_to_cpu0: bool,
}

/// A running server. Dropping it kills the process, so an error or a panic anywhere in the
/// benchmark leaves no server behind.
#[derive(Debug)]
pub(crate) struct ServerProcess {
    pub(crate) name: &'static str,
    pub(crate) addr: SocketAddr,
    pub(crate) pid: u32,
    child: Child,
    /// Kept open so the server never writes to a closed pipe.
    _stdout: BufReader<ChildStdout>,
}

impl ServerProcess {
    /// Starts a server on an ephemeral loopback port and waits for its `listening on` line.
    pub(crate) async fn start(launch: &Launch<'_>) -> Result<Self, String> {
        let log = std::fs::File::create(launch.log_path)
            .map_err(|e| format!("creating {}: {e}", launch.log_path.display()))?;
        let mut command = if launch.pin_to_cpu0 {
            let mut command = Command::new("taskset");
            command.args(["-c", "0"]).arg(launch.program);
            command
        } else {
            Command::new(launch.program)
        };
        command
            .args(launch.args)
            .env("FASTAUTH_BIND", "127.0.0.1:0")
            .env("DATABASE_URL", launch.database_url)
            .env("FASTAUTH_SECRET", SECRET)
            .envs(launch.env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .map_err(|e| format!("starting the {} server failed: {e}", launch.name))?;
        let pid = child.id().ok_or("the server exited at once")?;
        let stdout = child
            .stdout
            .take()
            .ok_or("the server's stdout is not piped")?;
        let mut stdout = BufReader::new(stdout);

        let mut line = String::new();
        let read = tokio::time::timeout(START_TIMEOUT, stdout.read_line(&mut line)).await;
        let addr = match read {
            Ok(Ok(_)) => parse_listening_line(&line),
            Ok(Err(e)) => Err(format!("reading the server's stdout failed: {e}")),
            Err(_) => Err(format!("no `listening on` line within {START_TIMEOUT:?}")),
        };
        let addr = addr.map_err(|e| {
            let log = std::fs::read_to_string(launch.log_path).unwrap_or_default();
            format!(
                "the {} server did not start: {e}\n--- its log ---\n{log}",
                launch.name
            )
        })?;

        Ok(Self {
            name: launch.name,
            addr,
            pid,
            child,
            _stdout: stdout,
        })
    }

    /// Kills the server and waits for it to exit.
    pub(crate) async fn stop(mut self) {
        // NOTE: SIGKILL, because std and tokio offer no SIGTERM without unsafe code. The
        // benchmark has read all it needs by then, and SQLite survives a kill.
        if let Err(error) = self.child.kill().await {
            eprintln!(
                "stopping the {} server (pid {}) failed: {error}",
                self.name, self.pid
            );
        }
    }

    /// Reads the resident set size now, from `VmRSS` in `/proc/<pid>/status`, in KiB.
    pub(crate) fn rss_kib(&self) -> Result<u64, String> {
        proc_status_kib(self.pid, "VmRSS:")
    }

    /// Reads the peak resident set size since start or the last [`Self::reset_peak_rss`], from
    /// `VmHWM`, in KiB.
    pub(crate) fn peak_rss_kib(&self) -> Result<u64, String> {
        proc_status_kib(self.pid, "VmHWM:")
    }

    /// Resets `VmHWM` to the current RSS, so a later peak shows the load alone and not the
    /// Argon2 hash the example computes at start-up. Needs Linux 4.0 or later.
    pub(crate) fn reset_peak_rss(&self) -> Result<(), String> {
        let path = format!("/proc/{}/clear_refs", self.pid);
        std::fs::write(&path, "5").map_err(|e| format!("writing {path}: {e}"))
    }
}

/// Parses the address out of `... listening on http://127.0.0.1:PORT`.
fn parse_listening_line(line: &str) -> Result<SocketAddr, String> {
    let (_, rest) = line
        .split_once("listening on http://")
        .ok_or_else(|| format!("expected a `listening on http://` line, got {line:?}"))?;
    rest.trim()
        .trim_end_matches('/')
        .parse()
        .map_err(|e| format!("invalid address in {line:?}: {e}"))
}

/// Reads a `kB` field of `/proc/<pid>/status`, like `VmRSS:`.
pub(crate) fn proc_status_kib(pid: u32, field: &str) -> Result<u64, String> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).map_err(|e| format!("reading {path}: {e}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("{path} has no {field} line"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listening_line_parsed() {
        let addr = parse_listening_line("fastauth-example listening on http://127.0.0.1:4321\n");
        assert_eq!(addr, Ok("127.0.0.1:4321".parse().unwrap()));
    }

    #[test]
    fn executable_found_by_target_name() {
        let messages = [
            serde_json::json!({"target": {"name": "basic"}, "executable": "/t/basic"}),
            serde_json::json!({"target": {"name": "rbac"}, "executable": null}),
            serde_json::json!({"target": {"name": "rbac"}, "executable": "/t/rbac"}),
        ];
        assert_eq!(
            executable_of(&messages, "rbac"),
            Ok(PathBuf::from("/t/rbac"))
        );
        assert!(executable_of(&messages, "full").is_err());
    }

    #[test]
    fn other_line_rejected() {
        assert!(parse_listening_line("error: DATABASE_URL: invalid").is_err());
        assert!(parse_listening_line("listening on http://nowhere").is_err());
    }

    #[test]
    fn own_rss_readable() {
        let rss = proc_status_kib(std::process::id(), "VmRSS:").unwrap();
        assert!(rss > 0);
    }
}
