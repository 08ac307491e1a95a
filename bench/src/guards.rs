//! The guard runs: the rbac example, with roles in its access tokens, loaded on `/auth/me`
//! and on two admin-only routes, to show what a role guard adds to an authenticated request.

use std::path::Path;

use crate::load::{Outcome, Plan, RequestSpec};
use crate::options::Options;
use crate::run::{alternate_runs, check_ok, register};
use crate::server::{Launch, ServerProcess};

/// The account registered on the rbac example. The server is started with this address in
/// `FASTAUTH_ADMIN_EMAIL`, so registration gives it the `admin` role.
const ADMIN_EMAIL: &str = "bench-admin@example.com";
/// Behind `HasRole<User, role::Admin>`: the roles come from the read that loads the user.
pub(crate) const ROLE_ROUTE: &str = "/api/stats";
/// Behind `HasRoleClaim<User, role::Admin>`: the roles come from the token, with no read.
pub(crate) const CLAIMS_ROUTE: &str = "/api/stats/claims";

/// The rbac example's outcomes, all on one server with the admin's access token.
#[derive(Debug)]
pub(crate) struct GuardMeasurements {
    /// `GET /auth/me`: the token check and one read of the user, its session and its roles.
    pub(crate) me: Outcome,
    /// `GET /api/stats`: the same read, then a check of the roles it returned.
    pub(crate) role: Outcome,
    /// `GET /api/stats/claims`: the token check and a check of its `roles` claim.
    pub(crate) claims: Outcome,
}

/// Starts the rbac example on its own SQLite file in `scratch`, registers the admin, checks
/// that each route returns 200, then runs the three loads in alternating rounds.
pub(crate) async fn run(
    options: &Options,
    program: &Path,
    scratch: &Path,
) -> Result<GuardMeasurements, String> {
    let database_url = format!("sqlite://{}", scratch.join("rbac.db").display());
    let log_path = scratch.join("rbac.log");
    let server = ServerProcess::start(&Launch {
        name: "rbac example",
        program,
        args: &[],
        env: &[("FASTAUTH_ADMIN_EMAIL", ADMIN_EMAIL)],
        database_url: &database_url,
        log_path: &log_path,
        pin_to_cpu0: options.pin,
    })
    .await?;
    eprintln!(
        "rbac example listening on {} (pid {})",
        server.addr, server.pid
    );

    // A 200 from the claims route also proves that the token lists the `admin` role.
    let token = register(server.addr, ADMIN_EMAIL).await?;
    let me = RequestSpec::get_with_bearer("/auth/me", &token)?;
    let role = RequestSpec::get_with_bearer(ROLE_ROUTE, &token)?;
    let claims = RequestSpec::get_with_bearer(CLAIMS_ROUTE, &token)?;
    for spec in [&me, &role, &claims] {
        check_ok(server.addr, spec).await?;
    }

    let plan = Plan {
        connections: options.connections,
        warmup: options.warmup,
        duration: options.duration,
    };
    let pairs = [(&server, &me), (&server, &role), (&server, &claims)];
    let [me, role, claims] = alternate_runs(pairs, plan, options.rounds).await;
    server.stop().await;
    Ok(GuardMeasurements { me, role, claims })
}
