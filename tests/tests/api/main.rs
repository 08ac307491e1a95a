//! Every scenario of the HTTP surface this version serves (`/auth/register`, `/login`,
//! `/refresh`, `/logout`, `/me`, `/sessions`, `/token`, the e-mailed flows, `/account`,
//! `/magic-links`, cookie delivery with its CSRF check, asymmetric signing keys and
//! `/.well-known/jwks.json`, lifecycle hooks, the security events written by the SQL audit
//! sink, lockout and rate limits, an application route behind `CurrentUser` and one behind
//! `AccessClaims`), each run on SQLite, PostgreSQL and MariaDB. E-mails go to an in-memory
//! `Outbox`; `tests/mail.rs` covers the real transports.
//!
//! Each test gets a database of its own (see `fastauth_tests::db`). PostgreSQL and MariaDB
//! must be running: a test fails, never skips, when its server is unreachable.

mod account;
mod bodies;
mod cookies;
mod hooks;
mod jwks;
mod limits;
mod login;
mod logout;
mod magic_links;
mod mail_flows;
mod mail_hooks;
mod me;
mod oauth;
mod refresh;
mod register;
mod routing;
mod security;
mod sessions;
mod token;

use fastauth_tests::{TestApp, TestDb};

/// Instantiates every listed scenario once per database, as `sqlite::<name>`,
/// `postgres::<name>` and `mariadb::<name>`.
macro_rules! on_every_database {
    ($($module:ident :: $scenario:ident),* $(,)?) => {
        on_every_database!(@backend sqlite, Sqlite, $($module::$scenario),*);
        on_every_database!(@backend postgres, Postgres, $($module::$scenario),*);
        on_every_database!(@backend mariadb, MariaDb, $($module::$scenario),*);
    };
    (@backend $name:ident, $backend:ident, $($module:ident :: $scenario:ident),*) => {
        mod $name {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    fastauth_tests::run(fastauth_tests::Backend::$backend, |db| {
                        Box::pin(crate::$module::$scenario(db))
                    })
                    .await;
                }
            )*
        }
    };
}

on_every_database! {
    oauth::google_sign_in_creates_account,
    oauth::google_links_existing_account,
    oauth::google_unverified_email_rejected,
    oauth::google_state_rejections,
    oauth::oauth_redirect_allow_list,
    oauth::google_id_token_forgeries,
    oauth::github_sign_in_with_pkce,
    oauth::github_email_rules,
    oauth::github_link_flow,
    oauth::oauth_callback_delivery,
    oauth::oauth_hooks,
    oauth::oauth_inactive_and_deleted_accounts,
    oauth::oauth_state_record_rules,
    oauth::owner_proof_revokes_earlier_access,
    oauth::oauth_head_and_profile_limits,
    oauth::oauth_rate_limit_and_events,
    mail_hooks::mail_hooks_fire_in_each_flow,
    mail_hooks::magic_link_respects_allow_signin,
    mail_hooks::forgot_password_is_rate_limited,
    mail_hooks::password_reset_lifts_the_lockout,
    register::register_returns_token_pair,
    register::register_accents_are_distinct,
    register::register_rejects_nul_character,
    register::register_limits_own_field_length,
    register::register_duplicate_email_conflicts,
    register::register_checks_password_policy,
    register::register_policy_before_duplicate,
    register::register_limits_name_length,
    register::register_rejects_invalid_email,
    register::register_normalises_unicode_email,
    register::register_ignores_unknown_fields,
    register::register_stores_register_field,
    register::register_default_password_parameters,
    bodies::body_missing_fields,
    bodies::body_wrong_types,
    bodies::body_empty,
    bodies::body_malformed_json,
    bodies::body_not_an_object,
    bodies::body_size_limit,
    bodies::body_content_type,
    login::login_returns_token_pair,
    login::login_rejects_bad_credentials,
    login::login_ignores_email_case,
    login::login_remember_me,
    login::login_deactivated_account,
    login::login_rejects_overlong_password_unverified,
    login::login_validates_body,
    login::login_verifies_other_argon2_parameters,
    me::me_returns_user,
    me::me_requires_token,
    me::me_rejects_bad_tokens,
    me::me_bearer_scheme_any_case,
    me::me_reads_access_cookie,
    me::me_accepts_fastauth_token,
    me::claims_extractor_survives_logout,
    me::claims_extractor_reads_no_database,
    refresh::refresh_rotates_pair,
    refresh::refresh_requires_token,
    refresh::refresh_rejects_invalid_tokens,
    refresh::refresh_reuse_revokes_every_session,
    refresh::refresh_after_remember_me_uses_normal_lifetime,
    refresh::refresh_of_ended_session,
    refresh::refresh_deactivated_account,
    refresh::refresh_race_single_winner,
    logout::logout_ends_only_its_session,
    logout::logout_requires_token,
    logout::logout_without_sid_revokes_every_refresh_token,
    sessions::sessions_list_marks_current,
    sessions::sessions_revoke_one,
    sessions::sessions_foreign_or_expired_not_found,
    sessions::sessions_revoke_all_ends_caller,
    sessions::sessions_require_authentication,
    hooks::hooks_fire_in_each_flow,
    hooks::hooks_modify_jwt_adds_claims,
    hooks::hooks_modify_jwt_protected_claim,
    hooks::hooks_allow_signin_rejects,
    hooks::hooks_failure_answers_500,
    hooks::hooks_modify_session_changes_record,
    hooks::hooks_fire_in_cookie_mode,
    security::security_events_reach_audit_table,
    token::introspect_active_tokens,
    token::introspect_inactive_tokens,
    token::revoke_refresh_token,
    token::revoke_rejects_bad_tokens,
    cookies::cookie_sign_in_sets_cookies,
    cookies::cookie_requests_need_csrf,
    cookies::cookie_logout_clears_cookies,
    cookies::bearer_mode_sets_no_cookies,
    jwks::jwks_publishes_generated_key,
    jwks::jwks_absent_under_hmac,
    jwks::keys_round_trip_every_algorithm,
    jwks::keys_shared_between_instances,
    jwks::pem_key_kid_is_thumbprint,
    jwks::hmac_with_public_key_rejected,
    jwks::alg_none_rejected_with_keys,
    jwks::unknown_key_rejected,
    jwks::rotated_key_expires_after_grace,
    jwks::rotation_reaches_other_instance,
    jwks::scheduled_key_signs_later,
    routing::unknown_route_not_found,
    routing::wrong_method_not_allowed,
    mail_flows::register_sends_welcome,
    mail_flows::verify_email_by_link,
    mail_flows::verify_email_rejects_bad_tokens,
    mail_flows::verify_email_concurrent_single_winner,
    mail_flows::request_verify_email_anonymous,
    mail_flows::forgot_password_same_answer,
    mail_flows::reset_password_flow,
    mail_flows::reset_password_rejects_bad_tokens,
    mail_flows::verification_required_mode,
    magic_links::magic_link_signs_in,
    magic_links::magic_link_defers_sign_up,
    magic_links::magic_link_drops_unverified_password,
    magic_links::magic_link_keeps_verified_password,
    magic_links::magic_link_rejects_expired_and_inactive,
    magic_links::magic_link_concurrent_single_winner,
    account::profile_read_and_update,
    account::change_password_ends_sessions,
    account::change_email_with_confirmation,
    account::change_email_rechecked_at_confirmation,
    account::delete_account_removes_everything,
    account::delete_account_without_password,
    account::delete_account_clears_cookies,
    account::delete_account_needs_recent_sign_in,
}

/// Instantiates every listed lockout and rate-limit scenario once per place its counters
/// can live: the SQL state store on each database (`*_counters::<name>`), and Redis
/// (`redis_counters::<name>`, on an SQLite database).
macro_rules! on_every_state_store {
    ($($scenario:ident),* $(,)?) => {
        on_every_state_store!(@store sqlite_counters, Sqlite, Database, $($scenario),*);
        on_every_state_store!(@store postgres_counters, Postgres, Database, $($scenario),*);
        on_every_state_store!(@store mariadb_counters, MariaDb, Database, $($scenario),*);
        on_every_state_store!(@store redis_counters, Sqlite, Redis, $($scenario),*);
    };
    (@store $name:ident, $backend:ident, $counters:ident, $($scenario:ident),*) => {
        mod $name {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    fastauth_tests::run(fastauth_tests::Backend::$backend, |db| {
                        Box::pin(crate::limits::$scenario(
                            db,
                            crate::limits::Counters::$counters,
                        ))
                    })
                    .await;
                }
            )*
        }
    };
}

on_every_state_store! {
    lockout_after_max_failures,
    lockout_unknown_address_alike,
    lockout_cleared_by_success,
    lockout_configurable,
    lockout_expires,
    lockout_can_be_disabled,
    lockout_window_rolls,
    rate_limit_login_per_ip,
    rate_limit_register_per_ip,
    rate_limit_refresh,
    rate_limit_login_per_account,
    rate_limit_window_resets,
    rate_limit_ipv6_network,
    client_ip_ignores_forwarded_by_default,
    client_ip_from_trusted_proxy,
    session_ip_from_socket,
}

/// Returns the id of the access token's user, read through `GET /auth/me`.
async fn user_id(app: &TestApp, access: &str) -> String {
    let reply = app.me(access).await;
    assert_eq!(reply.status.as_u16(), 200, "/auth/me: {}", reply.text);
    reply.json["id"]
        .as_str()
        .expect("`id` is a string")
        .to_owned()
}

/// Counts the rows of `table` that belong to `user_id`.
async fn rows_of_user(db: &TestDb, table: &str, user_id: &str) -> i64 {
    db.count(&format!(
        "SELECT COUNT(*) FROM {table} WHERE user_id = '{user_id}'"
    ))
    .await
}
