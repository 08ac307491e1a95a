//! Command-line options of the benchmark.

use std::time::Duration;

pub(crate) const USAGE: &str = "\
usage: fastauth-bench [OPTIONS]
       fastauth-bench bare-server

Builds the basic and rbac examples in release mode, starts them on 127.0.0.1 and
measures them.

options:
  --warmup SECONDS           load before each measured window, not recorded (default 2)
  --duration SECONDS         length of each measured window (default 10)
  --quick                    the same as --warmup 1 --duration 3
  --connections N            keep-alive connections of the /auth/me runs (default 128)
  --login-connections N      keep-alive connections of the /auth/login run and of the
                             login storm (default 16)
  --refresh-connections N    keep-alive connections of the /auth/refresh run, each with
                             an account of its own (default 32)
  --rounds N                 /auth/me runs per server, alternating fastauth and the bare
                             handler, and runs per route on the rbac example; their counts
                             are added up (default 2)
  --client-threads N         tokio worker threads of the load generator (default 1)
  --no-guards                skip the rbac example's runs of /auth/me and its role-guarded
                             routes, and build only the basic example
  --no-sessions              skip the refresh run, the login storm and the cookie-mode
                             /auth/me run
  --argon2-samples N         Argon2id verifications timed for the median (default 20)
  --pin                      run the servers on CPU 0 and the load generator on CPU 1
                             with taskset (needs 2 or more CPUs)
  -h, --help                 print this text

bare-server runs the reference handler: it reads DATABASE_URL, FASTAUTH_SECRET and
FASTAUTH_BIND like the example and serves only GET /auth/me.";

/// The task given on the command line.
#[derive(Debug)]
pub(crate) enum Command {
    /// Run the whole benchmark.
    Bench(Options),
    /// Serve the reference `/auth/me` handler.
    BareServer,
    /// Print the usage text.
    Help,
}

/// The settings of one benchmark run.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) warmup: Duration,
    pub(crate) duration: Duration,
    pub(crate) connections: usize,
    pub(crate) login_connections: usize,
    pub(crate) refresh_connections: usize,
    pub(crate) rounds: usize,
    pub(crate) client_threads: usize,
    pub(crate) argon2_samples: usize,
    pub(crate) pin: bool,
    /// Runs the rbac example's guarded routes.
    pub(crate) guards: bool,
    /// Runs refresh, the login storm and `/auth/me` in cookie mode.
    pub(crate) sessions: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            warmup: Duration::from_secs(2),
            duration: Duration::from_secs(10),
            connections: 128,
            login_connections: 16,
            refresh_connections: 32,
            rounds: 2,
            client_threads: 1,
            argon2_samples: 20,
            pin: false,
            guards: true,
            sessions: true,
        }
    }
}

/// Parses the arguments after the program name.
pub(crate) fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut args = args.into_iter();
    let mut options = Options::default();
    let mut first = true;
    while let Some(arg) = args.next() {
        if first && arg == "bare-server" {
            return Ok(Command::BareServer);
        }
        first = false;

        let mut value = |name: &str| args.next().ok_or(format!("{name} expects a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--quick" => {
                options.warmup = Duration::from_secs(1);
                options.duration = Duration::from_secs(3);
            }
            "--pin" => options.pin = true,
            "--no-guards" => options.guards = false,
            "--no-sessions" => options.sessions = false,
            "--warmup" => options.warmup = seconds(&arg, &value(&arg)?, 0)?,
            "--duration" => options.duration = seconds(&arg, &value(&arg)?, 1)?,
            "--connections" => options.connections = count(&arg, &value(&arg)?, 10_000)?,
            "--login-connections" => {
                options.login_connections = count(&arg, &value(&arg)?, 1_000)?;
            }
            "--refresh-connections" => {
                options.refresh_connections = count(&arg, &value(&arg)?, 1_000)?;
            }
            "--rounds" => options.rounds = count(&arg, &value(&arg)?, 20)?,
            "--client-threads" => options.client_threads = count(&arg, &value(&arg)?, 64)?,
            "--argon2-samples" => options.argon2_samples = count(&arg, &value(&arg)?, 1_000)?,
            _ => return Err(format!("unknown argument `{arg}`: see --help")),
        }
    }
    Ok(Command::Bench(options))
}

/// Parses a whole number of seconds between `min` and one hour.
fn seconds(name: &str, text: &str, min: u64) -> Result<Duration, String> {
    match text.parse::<u64>() {
        Ok(n) if (min..=3_600).contains(&n) => Ok(Duration::from_secs(n)),
        _ => Err(format!(
            "invalid {name} {text:?}: expected whole seconds from {min} to 3600"
        )),
    }
}

/// Parses a count between 1 and `max`.
fn count(name: &str, text: &str, max: usize) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "invalid {name} {text:?}: expected a whole number from 1 to {max}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(words: &[&str]) -> Result<Command, String> {
        parse(words.iter().map(|w| (*w).to_owned()))
    }

    #[test]
    fn defaults_without_arguments() {
        let Ok(Command::Bench(options)) = parse_words(&[]) else {
            panic!("expected a benchmark command");
        };
        assert_eq!(options.connections, 128);
        assert_eq!(options.duration, Duration::from_secs(10));
        assert!(!options.pin);
        assert!(options.guards);
    }

    #[test]
    fn quick_keeps_guards() {
        let Ok(Command::Bench(options)) = parse_words(&["--quick"]) else {
            panic!("expected a benchmark command");
        };
        assert_eq!(options.duration, Duration::from_secs(3));
        assert_eq!(options.warmup, Duration::from_secs(1));
        assert!(options.guards);
    }

    #[test]
    fn no_guards_skips_rbac() {
        let Ok(Command::Bench(options)) = parse_words(&["--quick", "--no-guards"]) else {
            panic!("expected a benchmark command");
        };
        assert_eq!(options.duration, Duration::from_secs(3));
        assert!(!options.guards);
    }

    #[test]
    fn flags_set_values() {
        let Ok(Command::Bench(options)) = parse_words(&[
            "--duration",
            "4",
            "--warmup",
            "0",
            "--client-threads",
            "2",
            "--pin",
        ]) else {
            panic!("expected a benchmark command");
        };
        assert_eq!(options.duration, Duration::from_secs(4));
        assert_eq!(options.warmup, Duration::ZERO);
        assert_eq!(options.client_threads, 2);
        assert!(options.pin);
    }

    #[test]
    fn session_flags_set_values() {
        let Ok(Command::Bench(defaults)) = parse_words(&[]) else {
            panic!("expected a benchmark command");
        };
        assert!(defaults.sessions);
        assert_eq!(defaults.refresh_connections, 32);

        let Ok(Command::Bench(options)) =
            parse_words(&["--no-sessions", "--refresh-connections", "8"])
        else {
            panic!("expected a benchmark command");
        };
        assert!(!options.sessions);
        assert_eq!(options.refresh_connections, 8);
        assert!(parse_words(&["--refresh-connections", "0"]).is_err());
    }

    #[test]
    fn bare_server_subcommand() {
        assert!(matches!(
            parse_words(&["bare-server"]),
            Ok(Command::BareServer)
        ));
    }

    #[test]
    fn invalid_values_rejected() {
        assert!(parse_words(&["--duration", "0"]).is_err());
        assert!(parse_words(&["--connections", "many"]).is_err());
        assert!(parse_words(&["--connections"]).is_err());
        assert!(parse_words(&["--fast"]).is_err());
    }
}
